//! Sentinel rule YAML as the Azure-Sentinel repository holds it: `hunt --rules` over a folder of
//! repository shapes (string tactics, a hunting query, unknown keys, a malformed file, a stub),
//! and `check --sentinel` template validation.

use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn ratcatcher(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_ratcatcher"))
        .args(args)
        .output()
        .expect("run ratcatcher")
}

fn path(rel: &str) -> String {
    Path::new(env!("CARGO_MANIFEST_DIR")).join(rel).display().to_string()
}

fn shapes() -> String {
    path("../detect/tests/data/sentinel-shapes")
}

fn evidence() -> String {
    path("tests/data/hunt/evidence.jsonl")
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

#[test]
fn bad_rule_files_are_reported_and_the_others_run() {
    let o = ratcatcher(&["hunt", &evidence(), "--rules", &shapes(), "--format", "jsonl"]);
    let err = stderr(&o);
    assert_eq!(
        o.status.code(),
        Some(2),
        "a rule file failed to load: exit 2; stderr: {err}"
    );
    let lines: Vec<&str> = err.lines().filter(|l| l.starts_with("error: rule ")).collect();
    assert_eq!(lines.len(), 2, "{err}");
    assert!(
        lines[0].contains("malformed.yaml: line 3") && lines[0].contains("invalid rule YAML"),
        "{err}"
    );
    assert!(lines[1].contains("stub.yaml: no `query` field"), "{err}");
    let alerts: Vec<Value> = stdout(&o)
        .lines()
        .map(|l| serde_json::from_str(l).expect("JSON line"))
        .collect();
    let mut fired: Vec<String> = alerts
        .iter()
        .map(|a| {
            format!(
                "{} {}",
                a["rule"]["id"].as_str().unwrap(),
                a["device"].as_str().unwrap()
            )
        })
        .collect();
    fired.sort();
    assert_eq!(
        fired,
        [
            "hunting-no-period FIN-01",
            "string-tactics HD-01",
            "unknown-keys FIN-01"
        ],
        "{err}"
    );
    let st = alerts.iter().find(|a| a["rule"]["id"] == "string-tactics").unwrap();
    assert_eq!(st["rule"]["tactics"], serde_json::json!(["CommandAndControl"]));
}

#[test]
fn no_loadable_rule_is_fatal() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("bad.yaml"), "name: [unclosed\n").unwrap();
    let d = dir.path().display().to_string();
    let o = ratcatcher(&["hunt", &evidence(), "--rules", &d]);
    assert_eq!(o.status.code(), Some(2));
    let err = stderr(&o);
    assert!(err.contains("error: rule ") && err.contains("bad.yaml"), "{err}");
    assert!(err.contains("no rules loaded"), "{err}");
}

#[test]
fn check_sentinel_validates_templates() {
    // The built-in pack passes.
    let rules: PathBuf = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../rules");
    let o = ratcatcher(&["check", "--sentinel", "--quiet", &rules.display().to_string()]);
    assert_eq!(o.status.code(), Some(0), "{}{}", stdout(&o), stderr(&o));
    assert!(stdout(&o).ends_with(" valid, 0 with problems\n"), "{}", stdout(&o));
    // Repository shapes `hunt` reads are not all valid templates.
    let o = ratcatcher(&["check", "--sentinel", "--format", "jsonl", &shapes()]);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    let records: Vec<Value> = stdout(&o)
        .lines()
        .map(|l| serde_json::from_str(l).expect("JSON line"))
        .collect();
    assert_eq!(records.len(), 5);
    let problems = |name: &str| -> Vec<String> {
        let r = records
            .iter()
            .find(|r| r["path"].as_str().unwrap().ends_with(name))
            .unwrap();
        r["problems"]
            .as_array()
            .unwrap()
            .iter()
            .map(|p| p.as_str().unwrap().to_string())
            .collect()
    };
    let p = problems("string-tactics.yaml");
    assert!(p.iter().any(|m| m.starts_with("`tactics`: expected a list")), "{p:?}");
    let p = problems("hunting-no-period.yaml");
    assert!(p.contains(&"`kind` is required".to_string()), "{p:?}");
    let p = problems("malformed.yaml");
    assert!(p.len() == 1 && p[0].contains("invalid rule YAML"), "{p:?}");
    // `hunt` skips the bare `-` in relevantTechniques; Sentinel's schema test does not.
    let p = problems("unknown-keys.yaml");
    assert_eq!(
        p,
        ["`relevantTechniques`: expected a list of strings, found nothing (null)"],
        "{p:?}"
    );
    // A missing file is an input error.
    let o = ratcatcher(&["check", "--sentinel", "/no/such/rule.yaml"]);
    assert_eq!(o.status.code(), Some(2));
}
