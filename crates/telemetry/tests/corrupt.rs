//! Damaged inputs: copies of a real EVTX file truncated or with flipped bytes, broken JSON lines
//! and CSV rows. Every undamaged record must still arrive, and nothing may panic.

mod common;

use std::collections::BTreeMap;
use std::io::{Read, Write};
use std::path::Path;

use common::{data, table_rows};
use telemetry::{Location, ReadOptions, Report, read_to_memory};

const HEADER: usize = 4096;
const CHUNK: usize = 65536;

fn system_evtx() -> Vec<u8> {
    let mut gz = flate2::read::GzDecoder::new(std::fs::File::open(data("system-7045.evtx.gz")).expect("fixture"));
    let mut out = Vec::new();
    gz.read_to_end(&mut out).expect("gunzip");
    out
}

/// (first, last) record id of each chunk, read from the chunk headers.
fn chunk_ranges(bytes: &[u8]) -> Vec<(usize, u64, u64)> {
    let mut out = Vec::new();
    let mut k = 0;
    while HEADER + (k + 1) * CHUNK <= bytes.len() {
        let o = HEADER + k * CHUNK;
        if &bytes[o..o + 8] == b"ElfChnk\0" {
            let rd = |at: usize| u64::from_le_bytes(bytes[at..at + 8].try_into().expect("8 bytes"));
            out.push((k, rd(o + 24), rd(o + 32)));
        }
        k += 1;
    }
    out
}

/// WindowsEvent rows by record id, as text.
fn read_bytes(dir: &Path, name: &str, bytes: &[u8]) -> (BTreeMap<u64, common::TextRow>, Report) {
    let path = dir.join(name);
    std::fs::write(&path, bytes).expect("write");
    let (tables, report) = read_to_memory(&[path.to_string_lossy()], &ReadOptions::default()).expect("read");
    let mut by_id = BTreeMap::new();
    for r in table_rows(&tables, "WindowsEvent") {
        let id: u64 = r["EventRecordId"].parse().expect("id");
        by_id.insert(id, r);
    }
    (by_id, report)
}

#[test]
fn gzip_evtx_reads_every_record() {
    let path = data("system-7045.evtx.gz");
    let (tables, report) = read_to_memory(&[path.to_string_lossy()], &ReadOptions::default()).expect("read");
    assert_eq!(report.records(), 1160);
    assert_eq!(report.skipped_total, 0, "{:#?}", report.skipped);
    assert!(report.files[0].gzip);
    let services: Vec<_> = table_rows(&tables, "DeviceEvents")
        .into_iter()
        .filter(|r| r.get("AdditionalFields").is_some_and(|a| a.contains("TeamViewer")))
        .collect();
    assert_eq!(services.len(), 2, "the two TeamViewer 7045 installs");
    assert!(
        services
            .iter()
            .any(|r| r.get("FileName").map(String::as_str) == Some("TeamViewer_Service.exe"))
    );
}

#[test]
fn truncated_evtx_keeps_complete_chunks() {
    let dir = tempfile::tempdir().expect("tempdir");
    let bytes = system_evtx();
    let (original, _) = read_bytes(dir.path(), "orig.evtx", &bytes);
    assert_eq!(original.len(), 1160);
    let ranges = chunk_ranges(&bytes);
    // Cut in the middle of chunk 5: chunks 0-4 are whole.
    let cut = HEADER + 5 * CHUNK + CHUNK / 2;
    let (damaged, report) = read_bytes(dir.path(), "cut.evtx", &bytes[..cut]);
    let expected: Vec<u64> = ranges
        .iter()
        .filter(|(k, _, _)| *k < 5)
        .flat_map(|(_, a, b)| *a..=*b)
        .collect();
    assert_eq!(damaged.len(), expected.len());
    for id in expected {
        assert_eq!(damaged.get(&id), original.get(&id), "record {id}");
    }
    // The partial chunk is reported, with its offset.
    assert!(
        report
            .skipped
            .iter()
            .any(|s| s.location == Location::Offset((HEADER + 5 * CHUNK) as u64)),
        "{:#?}",
        report.skipped
    );
    // The partial chunk counts every record its header names, not 1.
    let (_, first, last) = ranges.iter().find(|(k, _, _)| *k == 5).expect("chunk 5");
    assert_eq!(report.skipped_total, last - first + 1, "{:#?}", report.skipped);
}

#[test]
fn flipped_bytes_in_one_chunk_leave_the_others_intact() {
    let dir = tempfile::tempdir().expect("tempdir");
    let bytes = system_evtx();
    let (original, _) = read_bytes(dir.path(), "orig.evtx", &bytes);
    let ranges = chunk_ranges(&bytes);
    for (victim, how) in [(3usize, "header"), (7, "records")] {
        let mut damaged_bytes = bytes.clone();
        let base = HEADER + victim * CHUNK;
        let span = if how == "header" {
            base..base + 8
        } else {
            base + 600..base + 9000
        };
        for (i, b) in damaged_bytes[span].iter_mut().enumerate() {
            *b ^= 0x5a ^ (i as u8);
        }
        let (damaged, report) = read_bytes(dir.path(), &format!("flip{victim}.evtx"), &damaged_bytes);
        for (k, first, last) in &ranges {
            if *k == victim {
                continue;
            }
            for id in *first..=*last {
                assert_eq!(damaged.get(&id), original.get(&id), "chunk {k} record {id} ({how})");
            }
        }
        // A lost chunk counts its records, not 1: read + skipped is the whole log.
        let (_, first, last) = ranges.iter().find(|(k, _, _)| *k == victim).expect("victim chunk");
        assert_eq!(
            report.records() + report.skipped_total,
            1160,
            "chunk {victim} ({how}): {:#?}",
            report.skipped
        );
        if how == "header" {
            assert_eq!(report.skipped_total, last - first + 1, "{:#?}", report.skipped);
        }
    }
}

#[test]
fn random_damage_never_panics() {
    let dir = tempfile::tempdir().expect("tempdir");
    let bytes = system_evtx();
    let mut seed: u64 = 0x9e37_79b9_7f4a_7c15;
    for round in 0..6 {
        let mut d = bytes[..HEADER + 2 * CHUNK].to_vec();
        for _ in 0..200 {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            let at = (seed as usize) % d.len();
            d[at] = (seed >> 32) as u8;
        }
        let (rows, report) = read_bytes(dir.path(), &format!("rnd{round}.evtx"), &d);
        assert_eq!(report.records(), rows.len() as u64);
    }
}

#[test]
fn bad_json_lines_and_csv_rows_are_skipped_and_counted() {
    let dir = tempfile::tempdir().expect("tempdir");
    let jsonl = dir.path().join("rows.jsonl");
    let mut f = std::fs::File::create(&jsonl).expect("create");
    writeln!(f, r#"{{"Timestamp":"2024-05-02T09:00:00Z","DeviceName":"a","ActionType":"ProcessCreated","FileName":"x.exe","Type":"DeviceProcessEvents"}}"#).expect("w");
    writeln!(f, r#"{{"Timestamp":"2024-05-02T09:00:01Z","DeviceName":"a", BROKEN"#).expect("w");
    writeln!(f, r#"{{"Timestamp":"2024-05-02T09:00:02Z","DeviceName":"a","ActionType":"ProcessCreated","FileName":"y.exe","Type":"DeviceProcessEvents"}}"#).expect("w");
    drop(f);
    let csv = dir.path().join("DeviceNetworkEvents.csv");
    std::fs::write(
        &csv,
        "Timestamp,DeviceName,RemoteIP,RemotePort\n2024-05-02T09:00:00Z,a,1.2.3.4,443\n2024-05-02T09:00:01Z,a,1.2.3.5\n2024-05-02T09:00:02Z,a,1.2.3.6,80\n",
    )
    .expect("write");
    let unknown = dir.path().join("notes.txt");
    std::fs::write(&unknown, "just some text\n").expect("write");
    let (tables, report) = read_to_memory(&[dir.path().to_string_lossy()], &ReadOptions::default()).expect("read");
    assert_eq!(table_rows(&tables, "DeviceProcessEvents").len(), 2);
    assert_eq!(table_rows(&tables, "DeviceNetworkEvents").len(), 2);
    assert_eq!(report.skipped_total, 2);
    let where_: Vec<(String, Location)> = report
        .skipped
        .iter()
        .map(|s| {
            (
                s.file
                    .file_name()
                    .map(|n| n.to_string_lossy().into_owned())
                    .unwrap_or_default(),
                s.location,
            )
        })
        .collect();
    assert!(
        where_.contains(&("rows.jsonl".to_string(), Location::Line(2))),
        "{where_:?}"
    );
    assert!(
        where_.contains(&("DeviceNetworkEvents.csv".to_string(), Location::Line(3))),
        "{where_:?}"
    );
    assert_eq!(report.unread.len(), 1);
    assert!(report.unread[0].path.ends_with("notes.txt"));
    assert_eq!(report.unread[0].kind, telemetry::UnreadKind::Unrecognised);
    assert!(!report.is_complete());
}

#[test]
fn parallel_prefetch_matches_sequential_reading() {
    let dir = tempfile::tempdir().expect("tempdir");
    let bytes = system_evtx();
    std::fs::write(dir.path().join("a.evtx"), &bytes).expect("write");
    std::fs::write(dir.path().join("b.evtx"), &bytes[..HEADER + 3 * CHUNK + 100]).expect("write");
    let mut flipped = bytes.clone();
    for b in &mut flipped[HEADER + 2 * CHUNK + 700..HEADER + 2 * CHUNK + 4000] {
        *b ^= 0xa5;
    }
    std::fs::write(dir.path().join("c.evtx"), &flipped).expect("write");
    std::fs::write(
        dir.path().join("d.xml"),
        std::fs::read(data("events.xml")).expect("xml"),
    )
    .expect("write");
    let input = [dir.path().to_string_lossy().into_owned()];
    let one = ReadOptions {
        threads: 1,
        ..ReadOptions::default()
    };
    let two = ReadOptions {
        threads: 2,
        ..ReadOptions::default()
    };
    let (seq, seq_report) = read_to_memory(&input, &one).expect("sequential");
    let (par, par_report) = read_to_memory(&input, &two).expect("parallel");
    assert_eq!(seq_report, par_report);
    for table in seq.keys() {
        assert_eq!(table_rows(&seq, table), table_rows(&par, table), "{table}");
    }
    assert_eq!(seq_report.files.len(), 4);
}
