//! Conformance suite: KQL queries with the rows Kusto returns for them (cases in
//! `tests/conformance/*.test`, written from the Kusto documentation).
//!
//! Case format: `# name` line, optional `# unordered` line, the query, a `----` line, then the
//! expected rows as JSON lines (or one `error: <text>` line), and `====` between cases.

use engine::{Engine, EngineOptions, QueryError, format};
use std::path::Path;

/// A fixed `now` for every case: 2024-03-15T12:00:00Z.
const NOW: i64 = 1_710_504_000_000_000_000;

struct Case {
    file: String,
    name: String,
    unordered: bool,
    query: String,
    expected: Vec<String>,
    error: Option<String>,
}

fn load_cases() -> Vec<Case> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/conformance");
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .expect("conformance folder")
        .map(|e| e.expect("entry").path())
        .collect();
    files.sort();
    let mut cases = Vec::new();
    for f in files.iter().filter(|f| f.extension().is_some_and(|e| e == "test")) {
        let text = std::fs::read_to_string(f).expect("read case file");
        for block in text.split("\n====\n").map(str::trim).filter(|b| !b.is_empty()) {
            let (head, rows) = block
                .split_once("\n----")
                .unwrap_or_else(|| panic!("{}: case without ----:\n{block}", f.display()));
            let mut name = String::new();
            let mut unordered = false;
            let mut query = Vec::new();
            for line in head.lines() {
                if let Some(n) = line.strip_prefix("# ") {
                    if n.trim() == "unordered" {
                        unordered = true;
                    } else if name.is_empty() {
                        name = n.trim().to_string();
                    }
                } else {
                    query.push(line);
                }
            }
            let rows: Vec<String> = rows
                .lines()
                .map(str::trim)
                .filter(|l| !l.is_empty())
                .map(str::to_string)
                .collect();
            let error = rows.first().and_then(|r| r.strip_prefix("error: ")).map(str::to_string);
            cases.push(Case {
                file: f.file_name().unwrap().to_string_lossy().into_owned(),
                name,
                unordered,
                query: query.join("\n"),
                expected: if error.is_some() { vec![] } else { rows },
                error,
            });
        }
    }
    cases
}

/// The keys of a JSON object in the order they are written (serde_json's map sorts them).
fn key_order(line: &str) -> Vec<String> {
    struct Keys(Vec<String>);
    impl<'de> serde::Deserialize<'de> for Keys {
        fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
            struct V;
            impl<'de> serde::de::Visitor<'de> for V {
                type Value = Keys;
                fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                    f.write_str("an object")
                }
                fn visit_map<M: serde::de::MapAccess<'de>>(self, mut m: M) -> Result<Keys, M::Error> {
                    let mut keys = Vec::new();
                    while let Some((k, _)) = m.next_entry::<String, serde::de::IgnoredAny>()? {
                        keys.push(k);
                    }
                    Ok(Keys(keys))
                }
            }
            d.deserialize_map(V)
        }
    }
    serde_json::from_str::<Keys>(line).map(|k| k.0).unwrap_or_default()
}

fn normalise(rows: &[String]) -> Vec<serde_json::Value> {
    rows.iter()
        .map(|r| serde_json::from_str(r).unwrap_or_else(|e| panic!("bad expected row {r}: {e}")))
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn conformance_suite() {
    let cases = load_cases();
    assert!(cases.len() >= 50, "the suite has {} cases", cases.len());
    let mut failures = Vec::new();
    for c in &cases {
        let engine = Engine::new(EngineOptions {
            now: Some(NOW),
            target_partitions: Some(2),
            ..Default::default()
        })
        .unwrap();
        let result = engine.query(&c.query).await;
        let outcome: Result<(), String> = match (&c.error, result) {
            (Some(want), Err(e)) => {
                let msg = match &e {
                    QueryError::Syntax(d) => d.iter().map(|d| d.message.clone()).collect::<Vec<_>>().join("; "),
                    QueryError::Plan(d) => format!("{} {}", d.message, d.help.clone().unwrap_or_default()),
                    QueryError::Execution(m) => m.clone(),
                };
                if msg.contains(want.as_str()) {
                    Ok(())
                } else {
                    Err(format!("error {msg:?} does not contain {want:?}"))
                }
            }
            (Some(want), Ok(_)) => Err(format!("expected an error containing {want:?}, the query ran")),
            (None, Err(e)) => Err(format!("query failed: {e:?}")),
            (None, Ok((_, batches))) => {
                let mut out = Vec::new();
                for b in &batches {
                    format::write_jsonl(&mut out, b).unwrap();
                }
                let got_lines: Vec<String> = String::from_utf8(out).unwrap().lines().map(str::to_string).collect();
                let mut got = normalise(&got_lines);
                let mut want = normalise(&c.expected);
                if c.unordered {
                    got.sort_by_key(|v| v.to_string());
                    want.sort_by_key(|v| v.to_string());
                }
                // Column order matters: the first expected row's keys are the result's columns.
                let columns: Vec<String> = match batches.first() {
                    Some(b) => b.schema().fields().iter().map(|f| f.name().clone()).collect(),
                    None => Vec::new(),
                };
                let want_columns = c.expected.first().map(|l| key_order(l)).unwrap_or_default();
                if got == want && (want_columns.is_empty() || columns == want_columns) {
                    Ok(())
                } else {
                    Err(format!(
                        "got:\n{}\nwant:\n{}",
                        got_lines.join("\n"),
                        c.expected.join("\n")
                    ))
                }
            }
        };
        if let Err(why) = outcome {
            failures.push(format!("{} / {}:\n{}\n{why}", c.file, c.name, c.query));
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} cases failed:\n\n{}",
        failures.len(),
        cases.len(),
        failures.join("\n\n")
    );
}
