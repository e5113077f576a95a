//! The pack's own tests (`rules/tests`, compiled into the crate) all pass: every case's evidence
//! read whole, each rule's alerts exactly as the case expects, tuning's suppressions too.

use detect::testcase::{self, TestCase};

#[tokio::test(flavor = "multi_thread")]
async fn the_pack_passes_its_tests() {
    let rules = detect::load_rules(&[]).expect("the built-in pack loads");
    let tools = detect::catalog::builtin();
    let tests = testcase::BuiltinTests::write().expect("the built-in tests are written out");
    let files = testcase::discover(&[tests.path()]);
    assert!(files.len() >= 60, "only {} test cases compiled in", files.len());
    let mut failures = Vec::new();
    for file in &files {
        let case = match TestCase::load(file) {
            Ok(c) => c,
            Err(e) => {
                failures.push(format!("{}: {e}", file.display()));
                continue;
            }
        };
        match testcase::run_case(&case, &rules, &tools).await {
            Ok(problems) if problems.is_empty() => {}
            Ok(problems) => failures.push(format!("{}:\n    {}", case.name, problems.join("\n    "))),
            Err(e) => failures.push(format!("{}: {e}", case.name)),
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} cases failed:\n{}",
        failures.len(),
        files.len(),
        failures.join("\n")
    );
}

/// Every rule of the pack has at least one case that expects it to fire.
#[test]
fn every_rule_has_a_positive_case() {
    let rules = detect::load_rules(&[]).expect("the built-in pack loads");
    let tests = testcase::BuiltinTests::write().expect("the built-in tests are written out");
    let mut expected = std::collections::BTreeSet::new();
    for file in testcase::discover(&[tests.path()]) {
        let case = TestCase::load(&file).expect("case loads");
        expected.extend(case.expect.iter().filter(|e| e.count > 0).map(|e| e.rule.clone()));
    }
    let untested: Vec<&str> = rules
        .iter()
        .map(|r| r.id.as_str())
        .filter(|id| !expected.contains(*id))
        .collect();
    assert!(untested.is_empty(), "rules no case expects to fire: {untested:?}");
}
