//! Fuzz target: the event XML reader never panics; every event it reads yields a WindowsEvent row.
#![no_main]

use libfuzzer_sys::fuzz_target;
use std::path::Path;
use telemetry::{MemorySink, ReadOptions, read_buffer};

fuzz_target!(|data: &[u8]| {
    let mut bytes = Vec::with_capacity(data.len() + 1);
    if !data.first().is_some_and(|b| *b == b'<') {
        bytes.push(b'<');
    }
    bytes.extend_from_slice(data);
    let mut sink = MemorySink::default();
    if let Ok(report) = read_buffer(Path::new("fuzz.xml"), bytes, &ReadOptions::default(), &mut sink) {
        let rows: usize = sink
            .tables
            .get("WindowsEvent")
            .map_or(0, |b| b.iter().map(|b| b.num_rows()).sum());
        assert_eq!(report.records(), rows as u64);
    }
    if let Ok(text) = std::str::from_utf8(data) {
        let _ = telemetry::event::WinEvent::from_xml(text);
        let _ = telemetry::time::parse_datetime(text);
    }
});
