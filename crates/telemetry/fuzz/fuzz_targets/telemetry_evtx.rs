//! Fuzz target: the EVTX reader never panics on damaged files and counts what it reads.
#![no_main]

use libfuzzer_sys::fuzz_target;
use std::path::Path;
use telemetry::{MemorySink, ReadOptions, read_buffer};

fuzz_target!(|data: &[u8]| {
    let mut bytes = Vec::with_capacity(data.len() + 8);
    if !data.starts_with(b"ElfFile\0") {
        bytes.extend_from_slice(b"ElfFile\0");
    }
    bytes.extend_from_slice(data);
    let options = ReadOptions {
        threads: 1,
        ..ReadOptions::default()
    };
    let mut sink = MemorySink::default();
    if let Ok(report) = read_buffer(Path::new("fuzz.evtx"), bytes, &options, &mut sink) {
        let rows: usize = sink
            .tables
            .get("WindowsEvent")
            .map_or(0, |b| b.iter().map(|b| b.num_rows()).sum());
        assert_eq!(
            report.records(),
            rows as u64,
            "every record read yields one WindowsEvent row"
        );
    }
});
