//! Fuzz target: text decoding (UTF-16 LE/BE, UTF-8 BOM) and format recognition of what it
//! yields never panic. The first byte picks the encoding marker put in front of the data.
#![no_main]

use libfuzzer_sys::fuzz_target;
use std::path::Path;
use telemetry::{MemorySink, ReadOptions, read_buffer};

fuzz_target!(|data: &[u8]| {
    let Some((&pick, rest)) = data.split_first() else {
        return;
    };
    let bom: &[u8] = match pick % 4 {
        0 => b"\xFF\xFE",
        1 => b"\xFE\xFF",
        2 => b"\xEF\xBB\xBF",
        _ => b"",
    };
    let mut bytes = bom.to_vec();
    bytes.extend_from_slice(rest);
    let mut sink = MemorySink::default();
    let _ = read_buffer(Path::new("fuzz.txt"), bytes, &ReadOptions::default(), &mut sink);
});
