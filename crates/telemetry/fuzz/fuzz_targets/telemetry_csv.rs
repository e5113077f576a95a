//! Fuzz target: the CSV export reader never panics on malformed rows.
#![no_main]

use libfuzzer_sys::fuzz_target;
use std::path::Path;
use telemetry::{MemorySink, ReadOptions, read_buffer};

fuzz_target!(|data: &[u8]| {
    // A header naming DeviceProcessEvents columns makes the input CSV; the rows are fuzzed.
    let mut bytes = b"Timestamp,DeviceName,ActionType,FileName,ProcessId,Type\n".to_vec();
    bytes.extend_from_slice(data);
    let mut sink = MemorySink::default();
    let _ = read_buffer(Path::new("fuzz.csv"), bytes, &ReadOptions::default(), &mut sink);
});
