//! Fuzz target: loading arbitrary text as Sigma rule YAML, compiling it and matching an event never panics.
#![no_main]

use libfuzzer_sys::fuzz_target;
use sigma::{Event, FieldValue, RuleSet};

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        let mut set = RuleSet::new();
        set.add_text(text, "fuzz.yml");
        for e in set.rejected() {
            let _ = e.to_string();
        }
        let compiled = set.compile();
        let event = Event::new()
            .with_channel("Microsoft-Windows-Sysmon/Operational")
            .with_event_id(1)
            .with_timestamp(0)
            .with_str("Image", "C:\\Windows\\System32\\cmd.exe")
            .with_str("CommandLine", "cmd.exe /c whoami -all \u{2013}x")
            .with_str("DestinationIp", "10.1.2.3")
            .with_field("ProcessId", FieldValue::Int(42))
            .with_field("Empty", FieldValue::Null);
        let mut correlator = compiled.correlator::<()>();
        for rule in compiled.matches(&event) {
            let _ = correlator.observe(rule, &event, 0, ());
        }
        let _ = correlator.flush();
    }
});
