//! Corpus check: plans every query of the KQL corpus that reads only `Device*` and
//! `SecurityEvent` tables against the Defender table schemas, and reports the plan rate and the
//! most common reasons a query was rejected.
//!
//! `--exclude FILE` leaves out the queries listed in FILE (one path a line): those Microsoft's
//! analyzer rejects with the same schemas (`tools/kql-oracle/schema-oracle.mjs --invalid-out`),
//! which no engine should plan.
//!
//! `cargo run -p ratcatcher-cli --example plan_corpus -- ../shared/corpus/kql [--min-rate 95] [--list] [--exclude FILE]`

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// A path compared by its canonical form when it has one.
fn canonical(p: &Path) -> PathBuf {
    std::fs::canonicalize(p).unwrap_or_else(|_| p.to_path_buf())
}

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
    let value_of = |flag: &str| args.iter().position(|a| a == flag).and_then(|i| args.get(i + 1));
    let flag_values: Vec<&String> = ["--min-rate", "--exclude"].iter().filter_map(|f| value_of(f)).collect();
    let Some(root) = args
        .iter()
        .find(|a| !a.starts_with("--") && !flag_values.iter().any(|v| std::ptr::eq(*v, *a)))
    else {
        eprintln!("usage: plan_corpus CORPUS_KQL_DIR [--min-rate PCT] [--list] [--exclude FILE]");
        std::process::exit(2);
    };
    let list = args.iter().any(|a| a == "--list");
    let min_rate: f64 = args
        .iter()
        .position(|a| a == "--min-rate")
        .and_then(|i| args.get(i + 1))
        .and_then(|v| v.parse().ok())
        .unwrap_or(0.0);
    let excluded: BTreeSet<PathBuf> = match value_of("--exclude") {
        Some(f) => match std::fs::read_to_string(f) {
            Ok(text) => text
                .lines()
                .map(str::trim)
                .filter(|l| !l.is_empty())
                .map(|l| canonical(Path::new(l)))
                .collect(),
            Err(e) => {
                eprintln!("plan_corpus: {f}: {e}");
                std::process::exit(2);
            }
        },
        None => BTreeSet::new(),
    };
    let mut left_out = 0usize;
    let mut eng = engine::Engine::new(engine::EngineOptions {
        now: Some(1_710_504_000_000_000_000),
        // No data: bag_unpack / pivot get an open schema, as in Kusto's analyzer.
        open_schemas: true,
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
            if !excluded.is_empty() && excluded.contains(&canonical(&path)) {
                left_out += 1;
                continue;
            }
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
    if !excluded.is_empty() {
        println!("{left_out} Device*/SecurityEvent queries left out: Microsoft's analyzer rejects them (--exclude)");
    }
    println!("{planned} planned of {total} queries on Device*/SecurityEvent tables ({rate:.1}%)");
    if rate < min_rate {
        eprintln!("plan rate {rate:.1}% is below {min_rate}%");
        std::process::exit(1);
    }
}
