//! Fuzz target: the KQL parser never panics, never hangs, and what it prints re-parses to the same tree.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        let parsed = kql::parse(text);
        if parsed.diagnostics.is_empty() {
            let printed = parsed.query.to_string();
            let again = kql::parse(&printed);
            assert!(again.diagnostics.is_empty(), "printed query does not re-parse: {printed:?}");
            assert!(parsed.query == again.query, "round trip changed the tree: {printed:?}");
        }
    }
});
