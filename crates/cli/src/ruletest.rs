//! `ratcatcher test`: runs the pack's test cases (evidence + the exact alerts expected) and ends
//! with `N passed, M failed`.

use crate::evidence;
use crate::hunt::{load_rules, load_tuning, run_pack};
use detect::hunt::{TimeMode, Window};
use detect::testcase::{self, TestCase};
use engine::{Engine, EngineOptions};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

pub struct TestArgs {
    /// Rule ids (run the cases that expect them) or case files / folders.
    pub items: Vec<String>,
    pub rules: Vec<PathBuf>,
    pub tests: Option<PathBuf>,
    pub verbose: bool,
}

pub async fn run(args: TestArgs) -> ExitCode {
    match run_inner(args).await {
        Ok(code) => code,
        Err(msg) => {
            eprintln!("error: {msg}");
            ExitCode::from(2)
        }
    }
}

async fn run_inner(args: TestArgs) -> Result<ExitCode, String> {
    let rules = load_rules(&args.rules)?;
    let tools = detect::catalog::builtin();
    let mut case_paths = Vec::new();
    let mut rule_filter = Vec::new();
    for item in &args.items {
        let p = Path::new(item);
        if p.exists() {
            case_paths.push(p.to_path_buf());
        } else if rules.iter().any(|r| &r.id == item) {
            rule_filter.push(item.clone());
        } else {
            return Err(format!("`{item}` is neither a test file or folder nor a rule id"));
        }
    }
    if case_paths.is_empty() {
        let dir = match &args.tests {
            Some(d) => d.clone(),
            None => args
                .rules
                .iter()
                .map(|r| r.join("tests"))
                .find(|d| d.is_dir())
                .unwrap_or_else(|| PathBuf::from("rules/tests")),
        };
        if !dir.is_dir() {
            return Err(format!(
                "{}: no test folder (give case files or --tests DIR)",
                dir.display()
            ));
        }
        case_paths.push(dir);
    }
    let files = testcase::discover(&case_paths);
    let (mut passed, mut failed) = (0usize, 0usize);
    let mut rules_tested = std::collections::BTreeSet::new();
    for file in files {
        let case = match TestCase::load(&file) {
            Ok(c) => c,
            Err(e) => {
                failed += 1;
                println!("FAIL {}: {e}", file.display());
                continue;
            }
        };
        if !rule_filter.is_empty() && !case.rules().iter().any(|r| rule_filter.iter().any(|f| f == r)) {
            continue;
        }
        match run_case(&case, &rules, &tools).await {
            Ok(problems) if problems.is_empty() => {
                passed += 1;
                rules_tested.extend(case.rules().into_iter().map(str::to_string));
                println!("PASS {} ({})", case.name, file.display());
            }
            Ok(problems) => {
                failed += 1;
                println!("FAIL {} ({})", case.name, file.display());
                for p in problems {
                    println!("    {p}");
                }
            }
            Err(e) => {
                failed += 1;
                println!("FAIL {} ({}): {e}", case.name, file.display());
            }
        }
    }
    let untested: Vec<&str> = rules
        .iter()
        .filter(|r| rule_filter.is_empty() || rule_filter.contains(&r.id))
        .map(|r| r.id.as_str())
        .filter(|id| !rules_tested.contains(*id))
        .collect();
    if !untested.is_empty() && args.verbose {
        println!("rules with no passing positive test: {}", untested.join(", "));
    }
    println!("{passed} passed, {failed} failed");
    Ok(if failed == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}

async fn run_case(case: &TestCase, rules: &[detect::Rule], tools: &[detect::Tool]) -> Result<Vec<String>, String> {
    let now = case
        .now
        .as_deref()
        .map(|n| engine::value::parse_datetime(n).map_err(|e| format!("now: {e}")))
        .transpose()?;
    let tuning = case.config.as_deref().map(|p| load_tuning(p, tools)).transpose()?;
    let inputs: Vec<String> = case.evidence.iter().map(|p| p.display().to_string()).collect();
    let mut engine = Engine::new(EngineOptions {
        now,
        // Rules may read the case's evidence (externaldata), nothing else.
        file_access: crate::query::file_access(&inputs, &[])?,
        ..EngineOptions::default()
    })
    .map_err(|e| e.to_string())?;
    for e in &case.evidence {
        if !e.exists() {
            return Err(format!("evidence {}: no such file or folder", e.display()));
        }
    }
    let loaded = evidence::load_evidence_quietly(&mut engine, &inputs).await?;
    if !loaded.report.is_complete() {
        return Err(format!(
            "evidence incomplete: {} (run `ratcatcher tables` on it)",
            evidence::totals_line(&loaded.report)
        ));
    }
    // A case with `now` runs like Sentinel (each rule over its queryPeriod before it); without, like
    // `hunt`'s default (all the evidence, ago() at the newest event of its bulk).
    let mode = TimeMode::Window(if now.is_some() { Window::RulePeriod } else { Window::All });
    let outcome = run_pack(&mut engine, rules, tuning.as_ref(), tools, now, mode).await?;
    let mut problems: Vec<String> = outcome
        .runs
        .iter()
        .filter_map(|r| {
            let err = r.error.as_ref()?;
            let q = rules
                .iter()
                .find(|x| x.id == r.rule_id)
                .map_or("", |x| x.query.as_str());
            Some(format!("rule {} failed: {}", r.rule_id, err.describe(q)))
        })
        .collect();
    problems.extend(case.check(&outcome.alerts, &outcome.suppressed));
    Ok(problems)
}
