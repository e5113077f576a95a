//! Damaged text inputs (the fuzz targets' entry point, driven deterministically): truncated and
//! byte-flipped copies of the XML, JSON and CSV fixtures never panic, and every event read
//! yields exactly one WindowsEvent row.

mod common;

use std::path::Path;

use common::data;
use telemetry::{MemorySink, ReadOptions, read_buffer};

fn windows_rows(sink: &MemorySink) -> u64 {
    sink.tables
        .get("WindowsEvent")
        .map_or(0, |b| b.iter().map(|b| b.num_rows() as u64).sum())
}

fn damaged_copies(bytes: &[u8]) -> Vec<Vec<u8>> {
    let mut out = Vec::new();
    let step = (bytes.len() / 23).max(1);
    for cut in (0..bytes.len()).step_by(step) {
        out.push(bytes[..cut].to_vec());
    }
    let mut seed: u64 = 0x2545_f491_4f6c_dd1d;
    for _ in 0..20 {
        let mut d = bytes.to_vec();
        for _ in 0..8 {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            if d.is_empty() {
                break;
            }
            let at = (seed as usize) % d.len();
            d[at] = (seed >> 40) as u8;
        }
        out.push(d);
    }
    out
}

#[test]
fn damaged_text_inputs_never_panic() {
    let fixtures = [
        "events.xml",
        "evtx-records.jsonl",
        "evtx-dump.json",
        "advanced-hunting-api.json",
        "eventhub-message.json",
        "la-query.json",
        "PT1H.json",
        "DeviceFileEvents-portal.csv",
    ];
    for name in fixtures {
        let bytes = std::fs::read(data(name)).expect("fixture");
        for (i, d) in damaged_copies(&bytes).into_iter().enumerate() {
            let mut sink = MemorySink::default();
            let label = Path::new(name);
            let report = read_buffer(label, d, &ReadOptions::default(), &mut sink)
                .unwrap_or_else(|e| panic!("{name} copy {i}: {e}"));
            if name.ends_with(".xml") || name.starts_with("evtx-") {
                assert_eq!(report.records(), windows_rows(&sink), "{name} copy {i}");
            }
        }
    }
}

#[test]
fn undamaged_buffers_read_like_files() {
    let bytes = std::fs::read(data("events.xml")).expect("fixture");
    let mut sink = MemorySink::default();
    let report = read_buffer(Path::new("events.xml"), bytes, &ReadOptions::default(), &mut sink).expect("read");
    assert_eq!(report.records(), 22);
    assert_eq!(windows_rows(&sink), 22);
}
