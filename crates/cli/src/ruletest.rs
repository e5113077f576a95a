//! `ratcatcher test`: runs the pack's test cases (evidence + the exact alerts expected) and ends
//! with `N passed, M failed`.

use crate::exit::error_message;
use detect::testcase::{self, TestCase, run_case};
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
    let rules = detect::load_rules(&args.rules).map_err(error_message)?;
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
    // Without case files: --tests, else a `tests` folder beside --rules, else the pack's own
    // tests (compiled in, so `test` runs from any folder).
    let mut _builtin = None;
    if case_paths.is_empty() {
        let beside_rules = args.rules.iter().map(|r| r.join("tests")).find(|d| d.is_dir());
        let dir = match (&args.tests, beside_rules) {
            (Some(d), _) => d.clone(),
            (None, Some(d)) => d,
            (None, None) if args.rules.is_empty() => {
                let tests = testcase::BuiltinTests::write().map_err(error_message)?;
                let path = tests.path();
                _builtin = Some(tests);
                path
            }
            (None, None) => {
                return Err("no test folder beside --rules: give case files or --tests DIR".into());
            }
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
    // PASS green, FAIL red on a terminal (NO_COLOR, --color).
    let on = crate::term::color(crate::term::Stream::Stdout);
    let (pass, fail) = (
        crate::term::paint("PASS", "32", on),
        crate::term::paint("FAIL", "31", on),
    );
    let (mut passed, mut failed) = (0usize, 0usize);
    let mut rules_tested = std::collections::BTreeSet::new();
    for file in files {
        let case = match TestCase::load(&file) {
            Ok(c) => c,
            Err(e) => {
                failed += 1;
                println!("{fail} {}: {e}", file.display());
                continue;
            }
        };
        if !rule_filter.is_empty() && !case.rules().iter().any(|r| rule_filter.iter().any(|f| f == r)) {
            continue;
        }
        match run_case(&case, &rules, &tools).await.map_err(error_message) {
            Ok(problems) if problems.is_empty() => {
                passed += 1;
                rules_tested.extend(case.rules().into_iter().map(str::to_string));
                println!("{pass} {} ({})", case.name, file.display());
            }
            Ok(problems) => {
                failed += 1;
                println!("{fail} {} ({})", case.name, file.display());
                for p in problems {
                    println!("    {p}");
                }
            }
            Err(e) => {
                failed += 1;
                println!("{fail} {} ({}): {e}", case.name, file.display());
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
