//! Fuzz target: an evtx record's JSON text becomes a Sigma event without panicking, and the
//! borrowed-tree path (`Event::from_evtx_bytes`) reads the same fields as the `Value` path.
#![no_main]

use libfuzzer_sys::fuzz_target;
use sigma::Event;

fuzz_target!(|data: &[u8]| {
    let from_bytes = Event::from_evtx_bytes(data);
    let Ok(value) = serde_json::from_slice::<serde_json::Value>(data) else {
        return;
    };
    let from_value = Event::from_evtx_json(&value);
    match (from_bytes, from_value) {
        (Ok(a), Ok(b)) => {
            // Keys repeat in the text but not in a `Value`, and a `Value`'s order may differ:
            // compare the events of duplicate-free objects as sorted field lists.
            let sorted = |e: &Event<'_>| {
                let mut f: Vec<String> = e.fields().iter().map(|(n, v)| format!("{n}={v:?}")).collect();
                f.sort();
                f
            };
            if !has_duplicate_keys(data) {
                assert_eq!(sorted(&a), sorted(&b));
                assert_eq!((a.event_id, a.timestamp), (b.event_id, b.timestamp));
            }
        }
        (Err(_), Err(_)) => {}
        (a, b) => {
            // Both read the same JSON, so both must accept or both refuse it.
            assert_eq!(a.is_ok(), b.is_ok(), "bytes {a:?} vs value {b:?}");
        }
    }
});

/// Whether any object in the JSON text repeats a key (where `Value` keeps only the last).
fn has_duplicate_keys(data: &[u8]) -> bool {
    fn walk(v: &jsontree::Json<'_>) -> bool {
        match v {
            jsontree::Json::Object(m) => {
                let mut keys: Vec<&str> = m.iter().map(|(k, _)| k.as_ref()).collect();
                keys.sort_unstable();
                keys.windows(2).any(|w| w[0] == w[1]) || m.iter().any(|(_, v)| walk(v))
            }
            jsontree::Json::Array(a) => a.iter().any(walk),
            _ => false,
        }
    }
    jsontree::Json::parse(data).map(|t| walk(&t)).unwrap_or(true)
}
