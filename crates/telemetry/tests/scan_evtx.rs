//! The public EVTX driver: `scan_evtx` counts exactly what the table readers count, hands
//! records over in file order, counts rejected records with their place, and reports a file
//! that is no EVTX log as unread.

mod common;

use std::io::Read;
use std::path::Path;

use common::data;
use telemetry::event::WinEvent;
use telemetry::{Format, Location, ReadOptions, UnreadKind, is_evtx, read_to_memory, scan_evtx};

const HEADER: usize = 4096;
const CHUNK: usize = 65536;

fn system_evtx() -> Vec<u8> {
    let mut gz = flate2::read::GzDecoder::new(std::fs::File::open(data("system-7045.evtx.gz")).expect("fixture"));
    let mut out = Vec::new();
    gz.read_to_end(&mut out).expect("gunzip");
    out
}

/// Scans `path` keeping each record's id and event id.
fn scan(path: &Path, threads: usize) -> (Vec<(u64, u32)>, telemetry::Report) {
    let mut seen = Vec::new();
    let report = scan_evtx(
        path,
        threads,
        |_, json| WinEvent::from_json_bytes(json).map(|e| e.event_id),
        |id, event_id| seen.push((id, event_id)),
    );
    (seen, report)
}

#[test]
fn scan_counts_like_the_readers() {
    let dir = tempfile::tempdir().expect("tempdir");
    let bytes = system_evtx();
    let mut flipped = bytes.clone();
    for b in &mut flipped[HEADER + 3 * CHUNK..HEADER + 3 * CHUNK + 8] {
        *b ^= 0x5a;
    }
    // A copy cut short inside its fifth chunk: the partial chunk's records are lost, and counted.
    let cut = bytes[..HEADER + 4 * CHUNK + 1000].to_vec();
    for (name, content) in [("whole.evtx", &bytes), ("flipped.evtx", &flipped), ("cut.evtx", &cut)] {
        let path = dir.path().join(name);
        std::fs::write(&path, content).expect("write");
        let (_, read) = read_to_memory(&[path.to_string_lossy()], &ReadOptions::default()).expect("read");
        for threads in [1, 4] {
            let (seen, report) = scan(&path, threads);
            assert_eq!(report.files.len(), 1);
            let file = &report.files[0];
            assert_eq!(file.format, Format::Evtx);
            assert!(!file.gzip);
            assert_eq!(file.bytes, content.len() as u64);
            assert_eq!(file.records, seen.len() as u64);
            assert_eq!(report.files, read.files, "{name}, {threads} threads");
            assert_eq!(report.skipped, read.skipped, "{name}, {threads} threads");
            assert_eq!(report.skipped_total, read.skipped_total);
            assert!(report.unread.is_empty());
            // File order: record ids ascend.
            assert!(seen.windows(2).all(|w| w[0].0 < w[1].0), "{name}");
        }
    }
    let (seen, report) = scan(&dir.path().join("whole.evtx"), 2);
    assert_eq!(report.skipped_total, 0);
    assert_eq!(seen.len(), 1160);
    let (seen, report) = scan(&dir.path().join("cut.evtx"), 2);
    assert!(report.skipped_total > 0, "a cut-off log is incomplete");
    assert!(seen.len() < 1160 && !seen.is_empty(), "{}", seen.len());
    assert!(
        report
            .skipped
            .iter()
            .any(|s| s.reason.contains("file ends inside a chunk")),
        "{:?}",
        report.skipped
    );
}

#[test]
fn rejected_records_are_counted_with_their_id() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("log.evtx");
    std::fs::write(&path, system_evtx()).expect("write");
    let mut kept = 0u64;
    let report = scan_evtx(
        &path,
        2,
        |id, _| if id % 2 == 0 { Err(format!("even {id}")) } else { Ok(id) },
        |id, t| {
            assert_eq!(id, t);
            kept += 1;
        },
    );
    assert_eq!(kept + report.skipped_total, 1160);
    assert_eq!(report.files[0].records, kept);
    assert_eq!(report.files[0].skipped, report.skipped_total);
    assert_eq!(
        report.skipped.len(),
        telemetry::MAX_SKIP_DETAILS.min(report.skipped_total as usize)
    );
    let first = &report.skipped[0];
    let Location::Record(id) = first.location else {
        panic!("{first:?}")
    };
    assert_eq!(first.reason, format!("even {id}"));
}

#[test]
fn a_file_that_is_no_evtx_log_is_unread() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("not.evtx");
    std::fs::write(&path, b"hello, not a log").expect("write");
    assert!(!is_evtx(&path));
    let (seen, report) = scan(&path, 1);
    assert!(seen.is_empty());
    assert!(report.files.is_empty());
    assert_eq!(report.unread.len(), 1);
    assert_eq!(report.unread[0].kind, UnreadKind::Unreadable);
    assert!(
        report.unread[0].reason.starts_with("unreadable EVTX file header: "),
        "{:?}",
        report.unread
    );
    let missing = scan(&dir.path().join("missing.evtx"), 1).1;
    assert_eq!(missing.unread[0].kind, UnreadKind::Unreadable);
    let log = dir.path().join("log.evtx");
    std::fs::write(&log, system_evtx()).expect("write");
    assert!(is_evtx(&log));
}
