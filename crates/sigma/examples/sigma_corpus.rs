//! Corpus check: loads every Sigma rule of the reference folders (counts loaded / rejected by
//! reason) and runs the SigmaHQ regression cases (expected match counts per rule).
//!
//! Usage: `cargo run -p ratcatcher-sigma --example sigma_corpus -- [CORPUS] [--rules DIR]...`
//! where CORPUS (default `$SIGMA_CORPUS` or `/work/shared/corpus/sigma`) holds `rules-windows`,
//! `rules-t1219` and `regression_data`; `--rules` adds folders searched for regression rules.
//! Exits non-zero when a regression case fails.

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Instant;

use sigma::{Document, Event, RuleSet, SigmaRule};

fn main() -> ExitCode {
    let mut root = std::env::var("SIGMA_CORPUS")
        .map(PathBuf::from)
        .unwrap_or_else(|_| PathBuf::from("/work/shared/corpus/sigma"));
    let mut extra = Vec::new();
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        if a == "--rules" {
            match args.next() {
                Some(d) => extra.push(PathBuf::from(d)),
                None => {
                    eprintln!("--rules needs a folder");
                    return ExitCode::from(2);
                }
            }
        } else {
            root = PathBuf::from(a);
        }
    }
    let mut folders = vec![root.join("rules-windows"), root.join("rules-t1219")];
    folders.extend(extra);

    // (a) rule loading, per folder
    let mut by_id: HashMap<String, SigmaRule> = HashMap::new();
    for folder in &folders {
        if !folder.is_dir() {
            println!("== {}: not found, skipped", folder.display());
            continue;
        }
        let started = Instant::now();
        let mut set = RuleSet::new();
        set.add_dir(folder);
        let compiled = set.compile();
        println!(
            "== {} ({} files, {:.2?})",
            folder.display(),
            set.files(),
            started.elapsed()
        );
        println!(
            "   loaded: {} rules, {} correlations, {} filters; rejected: {}",
            set.rules().len(),
            set.correlations().len(),
            set.filters().len(),
            set.rejected().len()
        );
        print_grouped(
            "rejected",
            set.rejected().iter().map(|e| (e.kind.reason(), e.to_string())),
        );
        println!(
            "   compiled for matching: {} rules; not evaluated: {}",
            compiled.rules().len(),
            compiled.skipped().len()
        );
        print_grouped(
            "not evaluated",
            compiled.skipped().iter().map(|e| (e.kind.reason(), e.to_string())),
        );
        for r in set.rules() {
            if let Some(id) = &r.id {
                by_id.entry(id.clone()).or_insert_with(|| r.clone());
            }
        }
    }

    // (b) regression cases
    let reg_root = root.join("regression_data");
    if !reg_root.is_dir() {
        println!("== regression data not found at {}", reg_root.display());
        return ExitCode::SUCCESS;
    }
    let mut all = RuleSet::new();
    let mut ids: Vec<&String> = by_id.keys().collect();
    ids.sort();
    for id in ids {
        if let Some(r) = by_id.get(id) {
            // ids are unique here, so this cannot fail
            let _ = all.add_document(Document::Rule(r.clone()));
        }
    }
    let full = all.compile();
    let mut scanner = full.scanner();
    let mut infos: Vec<PathBuf> = walkdir::WalkDir::new(&reg_root)
        .into_iter()
        .filter_map(Result::ok)
        .filter(|e| e.file_name() == "info.yml")
        .map(|e| e.into_path())
        .collect();
    infos.sort();
    println!(
        "== regression: {} cases, full set of {} rules",
        infos.len(),
        full.rules().len()
    );
    let (mut passed, mut failed, mut exact, mut at_least) = (0usize, 0usize, 0usize, 0usize);
    let mut hits = Vec::new();
    let mut scan_time = std::time::Duration::ZERO;
    for info in &infos {
        let case = info.parent().unwrap_or(Path::new("."));
        let name = case
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let (rule_id, tests) = match read_info(info) {
            Ok(x) => x,
            Err(e) => {
                failed += 1;
                println!("FAIL {name}: {e}");
                continue;
            }
        };
        let Some(rule) = by_id.get(&rule_id) else {
            failed += tests.len().max(1);
            println!("FAIL {name}: rule {rule_id} not found in the rule folders");
            continue;
        };
        let single = single_rule_set(rule);
        let single = single.compile();
        for (evtx, expected) in tests {
            let json = json_for(case, &evtx);
            let events = match json.as_deref().map(std::fs::read_to_string) {
                Some(Ok(t)) => t,
                _ => {
                    failed += 1;
                    println!("FAIL {name}: no JSON rendering next to {evtx}");
                    continue;
                }
            };
            let (mut count, mut count_single, mut bad_json) = (0u64, 0u64, 0usize);
            for v in serde_json::Deserializer::from_str(&events).into_iter::<serde_json::Value>() {
                let Ok(v) = v else {
                    bad_json += 1;
                    break;
                };
                let Ok(ev) = Event::from_evtx_json(&v) else {
                    bad_json += 1;
                    continue;
                };
                let t0 = Instant::now();
                scanner.scan(&ev, &mut hits);
                scan_time += t0.elapsed();
                if hits
                    .iter()
                    .any(|h| full.rule(*h).and_then(|r| r.id.as_deref()) == Some(rule_id.as_str()))
                {
                    count += 1;
                }
                if single.matches(&ev).next().is_some() {
                    count_single += 1;
                }
            }
            let ok = match expected {
                Some(n) => count == n,
                None => count >= 1,
            } && count == count_single
                && bad_json == 0;
            match expected {
                Some(_) => exact += 1,
                None => at_least += 1,
            }
            if ok {
                passed += 1;
            } else {
                failed += 1;
                let want = expected.map_or_else(|| ">= 1".to_owned(), |n| n.to_string());
                println!(
                    "FAIL {name}: rule {rule_id} ({}) matched {count} (single-rule set: {count_single}), expected {want}{}",
                    rule.title,
                    if bad_json > 0 { ", unreadable JSON events" } else { "" }
                );
            }
        }
    }
    let st = scanner.stats();
    println!(
        "   full-set scan of {} events took {:.2?}: {} rule/source candidates, {} evaluated after prefilter, {} matches",
        st.events, scan_time, st.candidates, st.evaluated, st.matched
    );
    println!("   cases with match_count: {exact}, without (expect >= 1): {at_least}");
    println!("{passed} passed, {failed} failed");
    if failed == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}

fn print_grouped(what: &str, items: impl Iterator<Item = (String, String)>) {
    let mut groups: BTreeMap<String, (usize, String)> = BTreeMap::new();
    for (reason, example) in items {
        let g = groups.entry(reason).or_insert((0, example));
        g.0 += 1;
    }
    let mut v: Vec<_> = groups.into_iter().collect();
    v.sort_by(|a, b| b.1.0.cmp(&a.1.0).then(a.0.cmp(&b.0)));
    for (reason, (n, example)) in v {
        println!("     {what} {n:>4} x {reason}\n            e.g. {example}");
    }
}

fn single_rule_set(rule: &SigmaRule) -> RuleSet {
    let mut set = RuleSet::new();
    // A set holding only this rule (re-read so the file's other documents are not needed).
    let _ = set.add_document(Document::Rule(rule.clone()));
    set
}

/// One regression test: the evtx path and the expected match count (if given).
type Test = (String, Option<u64>);

/// Rule id and tests of an `info.yml`.
fn read_info(path: &Path) -> Result<(String, Vec<Test>), String> {
    let text = std::fs::read_to_string(path).map_err(|e| e.to_string())?;
    let v: serde_norway::Value = serde_norway::from_str(&text).map_err(|e| e.to_string())?;
    let rule_id = v
        .get("rule_metadata")
        .and_then(|m| m.get(0))
        .and_then(|m| m.get("id"))
        .and_then(|i| i.as_str())
        .ok_or("info.yml has no rule_metadata[0].id")?
        .to_owned();
    let tests = v
        .get("regression_tests_info")
        .and_then(|t| t.as_sequence())
        .ok_or("info.yml has no regression_tests_info")?
        .iter()
        .map(|t| {
            let p = t.get("path").and_then(|p| p.as_str()).unwrap_or_default().to_owned();
            (p, t.get("match_count").and_then(|c| c.as_u64()))
        })
        .collect();
    Ok((rule_id, tests))
}

/// The `.json` rendering next to the test's evtx (same stem), or the only `.json` in the folder.
fn json_for(case: &Path, evtx: &str) -> Option<PathBuf> {
    let stem = Path::new(evtx).file_stem()?;
    let direct = case.join(stem).with_extension("json");
    if direct.is_file() {
        return Some(direct);
    }
    let mut found = std::fs::read_dir(case)
        .ok()?
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|x| x == "json"));
    let first = found.next()?;
    found.next().is_none().then_some(first)
}
