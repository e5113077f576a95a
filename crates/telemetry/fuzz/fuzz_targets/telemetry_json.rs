//! Fuzz target: the JSON reader (evtx JSON, Defender/Sentinel exports, JSON lines) never panics.
#![no_main]

use libfuzzer_sys::fuzz_target;
use std::path::Path;
use telemetry::{MemorySink, ReadOptions, read_buffer};

fuzz_target!(|data: &[u8]| {
    let mut bytes = Vec::with_capacity(data.len() + 1);
    if !data.first().is_some_and(|b| *b == b'{' || *b == b'[') {
        bytes.push(b'{');
    }
    bytes.extend_from_slice(data);
    let mut sink = MemorySink::default();
    let _ = read_buffer(Path::new("fuzz.json"), bytes, &ReadOptions::default(), &mut sink);
    if let Ok(value) = serde_json::from_slice::<serde_json::Value>(data) {
        let _ = telemetry::event::WinEvent::from_json(&value);
    }
});
