//! Corpus check: plans every query of the KQL corpus that reads only `Device*` and
//! `SecurityEvent` tables against the Defender table schemas, and reports the plan rate and the
//! most common reasons a query was rejected.
//!
//! `cargo run -p ratcatcher-cli --example plan_corpus -- ../shared/corpus/kql [--min-rate 95] [--list]`

use std::collections::BTreeMap;
use std::path::Path;

fn eligible(tables: &[String]) -> bool {
    !tables.is_empty() && tables.iter().all(|t| t.starts_with("Device") || t == "SecurityEvent")
}

/// A rejection message with the specific names kept (they say what is missing).
fn reason(e: &engine::QueryError) -> String {
    match e {
        engine::QueryError::Syntax(_) => "syntax error".into(),
        engine::QueryError::Plan(d) => {
            let m = &d.message;
            if m.starts_with("unknown column") {
                format!("unknown column ({})", m.trim_start_matches("unknown column or name "))
            } else {
                m.clone()
            }
        }
        engine::QueryError::Execution(m) => format!("execution: {m}"),
    }
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let Some(root) = args.iter().find(|a| !a.starts_with("--")) else {
        eprintln!("usage: plan_corpus CORPUS_KQL_DIR [--min-rate PCT] [--list]");
        std::process::exit(2);
    };
    let list = args.iter().any(|a| a == "--list");
    let min_rate: f64 = args
        .iter()
        .position(|a| a == "--min-rate")
        .and_then(|i| args.get(i + 1))
        .and_then(|v| v.parse().ok())
        .unwrap_or(0.0);
    let mut eng = engine::Engine::new(engine::EngineOptions {
        now: Some(1_710_504_000_000_000_000),
        ..Default::default()
    })
    .expect("engine");
    for t in telemetry::schema::tables() {
        eng.register_batches(t.name(), t.schema(), vec![]).expect("register");
    }
    let (mut total, mut planned) = (0usize, 0usize);
    let mut reasons: BTreeMap<String, usize> = BTreeMap::new();
    let mut sources: Vec<_> = std::fs::read_dir(root)
        .expect("corpus dir")
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| p.join("index.json").is_file())
        .collect();
    sources.sort();
    for src in sources {
        let index: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(src.join("index.json")).expect("index")).expect("index json");
        let Some(files) = index["files"].as_object() else {
            continue;
        };
        for (rel, meta) in files {
            let tables: Vec<String> = meta["tables"]
                .as_array()
                .map(|a| a.iter().filter_map(|t| t.as_str().map(str::to_string)).collect())
                .unwrap_or_default();
            if !eligible(&tables) {
                continue;
            }
            let path = src.join(rel);
            let Ok(text) = std::fs::read_to_string(&path) else {
                continue;
            };
            let parsed = kql::parse(&text);
            if !parsed.is_ok() {
                continue; // invalid KQL (see docs/kql-corpus.md), not a planning question
            }
            total += 1;
            match eng.plan_query(&parsed.query) {
                Ok(_) => planned += 1,
                Err(e) => {
                    let r = reason(&e);
                    if list {
                        println!("REJECT {}: {r}", Path::new(rel).display());
                    }
                    *reasons.entry(r).or_default() += 1;
                }
            }
        }
    }
    let rate = 100.0 * planned as f64 / total.max(1) as f64;
    let mut top: Vec<_> = reasons.into_iter().collect();
    top.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
    println!("top reasons for rejection:");
    for (r, n) in top.iter().take(40) {
        println!("{n:>5}  {r}");
    }
    println!("{planned} planned of {total} queries on Device*/SecurityEvent tables ({rate:.1}%)");
    if rate < min_rate {
        eprintln!("plan rate {rate:.1}% is below {min_rate}%");
        std::process::exit(1);
    }
}
