//! Profiling aid: times the stages of matching evtx_dump JSON lines against a rule set (JSON
//! parse, event building, scanning) on one thread.
//!
//! Usage: `cargo run --release -p ratcatcher-sigma --example sigma_scan -- RULES_DIR EVENTS.jsonl`

use std::process::ExitCode;
use std::time::{Duration, Instant};

use sigma::{Event, RuleSet};

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [rules, events] = args.as_slice() else {
        eprintln!("usage: sigma_scan RULES_DIR EVENTS.jsonl");
        return ExitCode::from(2);
    };
    let t = Instant::now();
    let mut set = RuleSet::new();
    set.add_dir(rules);
    let compiled = set.compile();
    println!("{} rules compiled in {:.2?}", compiled.rules().len(), t.elapsed());
    let text = match std::fs::read_to_string(events) {
        Ok(t) => t,
        Err(e) => {
            eprintln!("{events}: {e}");
            return ExitCode::from(2);
        }
    };
    let mut scanner = compiled.scanner();
    let (mut parse, mut build, mut scan) = (Duration::ZERO, Duration::ZERO, Duration::ZERO);
    let (mut n, mut matched) = (0u64, 0u64);
    let mut hits = Vec::new();
    for line in text.lines() {
        let t0 = Instant::now();
        let Ok(v) = serde_json::from_str::<serde_json::Value>(line) else {
            continue;
        };
        let t1 = Instant::now();
        let Ok(ev) = Event::from_evtx_json(&v) else { continue };
        let t2 = Instant::now();
        scanner.scan(&ev, &mut hits);
        let t3 = Instant::now();
        parse += t1 - t0;
        build += t2 - t1;
        scan += t3 - t2;
        n += 1;
        matched += hits.len() as u64;
    }
    let per = |d: Duration| d.as_secs_f64() * 1e6 / n.max(1) as f64;
    println!(
        "{n} events, {matched} matches: parse {:.1} µs, build {:.1} µs, scan {:.1} µs per event",
        per(parse),
        per(build),
        per(scan)
    );
    println!("{:?}", scanner.stats());
    ExitCode::SUCCESS
}
