//! `ratcatcher check` end to end: exit codes, summary line, diagnostics in text and JSON lines.

use std::path::Path;
use std::process::{Command, Output};

fn ratcatcher(args: &[&str], dir: &Path) -> Output {
    Command::new(env!("CARGO_BIN_EXE_ratcatcher"))
        .args(args)
        .current_dir(dir)
        .output()
        .expect("run ratcatcher")
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

#[test]
fn valid_queries_exit_zero_with_summary() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("a.kql"),
        "DeviceProcessEvents | where FileName =~ 'anydesk.exe' | take 10",
    )
    .unwrap();
    std::fs::create_dir(dir.path().join("sub")).unwrap();
    std::fs::write(dir.path().join("sub/b.kql"), "print x = 1").unwrap();
    let o = ratcatcher(&["check", "."], dir.path());
    assert_eq!(o.status.code(), Some(0), "{}", stdout(&o));
    assert_eq!(stdout(&o).lines().last(), Some("2 parsed, 0 failed"));
}

#[test]
fn syntax_errors_show_line_column_caret_and_suggestion() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("bad.kql"),
        "DeviceProcessEvents\n| wher FileName == 'x'\n",
    )
    .unwrap();
    let o = ratcatcher(&["check", "bad.kql"], dir.path());
    assert_eq!(o.status.code(), Some(1));
    let out = stdout(&o);
    assert!(
        out.contains("unknown tabular operator `wher` (line 2, column 3)"),
        "{out}"
    );
    assert!(out.contains("| wher FileName == 'x'"), "source line shown: {out}");
    assert!(out.contains("did you mean `where`?"), "{out}");
    assert!(out.trim_end().ends_with("0 parsed, 1 failed"), "{out}");
}

#[test]
fn jsonl_reports_every_error_with_positions() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("bad.kql"), "T | extnd x = 1\n| project a,\n").unwrap();
    std::fs::write(dir.path().join("good.kql"), "T | count").unwrap();
    let o = ratcatcher(&["check", "--format", "jsonl", "bad.kql", "good.kql"], dir.path());
    assert_eq!(o.status.code(), Some(1));
    let records: Vec<serde_json::Value> = stdout(&o).lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    assert_eq!(records.len(), 2);
    assert_eq!(records[0]["path"], "bad.kql");
    assert_eq!(records[0]["ok"], false);
    let diags = records[0]["diagnostics"].as_array().unwrap();
    assert_eq!(diags.len(), 2, "both errors reported: {diags:?}");
    assert_eq!(
        (diags[0]["line"].as_u64(), diags[0]["column"].as_u64()),
        (Some(1), Some(5))
    );
    assert_eq!(diags[0]["help"], "did you mean `extend`?");
    assert_eq!(diags[1]["line"], 2);
    assert_eq!(records[1]["ok"], true);
    assert_eq!(String::from_utf8_lossy(&o.stderr).trim(), "1 parsed, 1 failed");
}

#[test]
fn sentinel_rule_yaml_errors_point_into_the_yaml_file() {
    let dir = tempfile::tempdir().unwrap();
    let rule = "id: 1\nname: Test rule\nseverity: Low\nquery: |\n  DeviceProcessEvents\n  | where FileName == 'x'\n  | summarize count() by\ntactics: []\n";
    std::fs::write(dir.path().join("rule.yaml"), rule).unwrap();
    let o = ratcatcher(&["check", "--format", "jsonl", "rule.yaml"], dir.path());
    assert_eq!(o.status.code(), Some(1));
    let rec: serde_json::Value = serde_json::from_str(stdout(&o).lines().next().unwrap()).unwrap();
    let d = &rec["diagnostics"][0];
    // `summarize count() by` is on line 7 of the YAML file; the missing expression is after `by`.
    assert_eq!(d["line"], 7, "{d}");
    assert_eq!(d["column"], 25, "{d}");
}

#[test]
fn unreadable_inputs_exit_two() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("norule.yaml"), "id: 1\nname: no query\n").unwrap();
    let o = ratcatcher(&["check", "missing.kql", "norule.yaml"], dir.path());
    assert_eq!(o.status.code(), Some(2));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("missing.kql: no such file or folder"), "{err}");
    assert!(err.contains("norule.yaml: no `query` field"), "{err}");
}

#[test]
fn other_yaml_in_a_rule_folder_is_skipped_but_named_yaml_is_an_error() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("rule.yaml"),
        "name: r\nquery: |\n  DeviceProcessEvents\n  | take 1\n",
    )
    .unwrap();
    std::fs::create_dir(dir.path().join("tests")).unwrap();
    std::fs::write(dir.path().join("tests/case.yaml"), "rule: r\nexpect: 1\n").unwrap();
    let o = ratcatcher(&["check", "."], dir.path());
    assert_eq!(o.status.code(), Some(0), "{}", stdout(&o));
    assert_eq!(
        stdout(&o).lines().last(),
        Some("1 parsed, 0 failed, 1 YAML files without a `query` skipped")
    );
    // Named on its own, the same file is not a rule: an error.
    let o = ratcatcher(&["check", "tests/case.yaml"], dir.path());
    assert_eq!(o.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&o.stderr).contains("no `query` field"),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
}

#[test]
fn schema_check_reports_unknown_columns_with_place_and_suggestion() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("col.kql"),
        "DeviceNetworkEvents\n| where InitiatingProcessAccountUpn2 == 'x'\n",
    )
    .unwrap();
    std::fs::write(
        dir.path().join("ok.kql"),
        "SigninLogs | where ResultType != '0' | take 1",
    )
    .unwrap();
    let o = ratcatcher(&["check", "--schema", "col.kql", "ok.kql"], dir.path());
    assert_eq!(o.status.code(), Some(1), "{}", stdout(&o));
    let out = stdout(&o);
    assert!(
        out.contains("unknown column or name `InitiatingProcessAccountUpn2` (line 2, column 9)"),
        "{out}"
    );
    assert!(out.contains("did you mean `InitiatingProcessAccountUpn`?"), "{out}");
    assert!(out.contains("ok.kql: ok"), "{out}");
    assert!(
        out.trim_end().lines().last().unwrap().starts_with("2 checked against"),
        "{out}"
    );
    assert!(out.contains("(1 ok, 1 with errors), 0 not checked"), "{out}");

    let o = ratcatcher(&["check", "--schema", "--format", "jsonl", "col.kql"], dir.path());
    assert_eq!(o.status.code(), Some(1));
    let r: serde_json::Value = serde_json::from_str(stdout(&o).lines().next().unwrap()).unwrap();
    assert_eq!(r["verdict"], "error");
    assert_eq!(r["diagnostics"][0]["line"], 2);
    assert_eq!(r["diagnostics"][0]["column"], 9);
    assert_eq!(
        r["diagnostics"][0]["help"],
        "did you mean `InitiatingProcessAccountUpn`?"
    );
}

#[test]
fn schema_check_sets_unknown_tables_apart_unless_strict() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("t.kql"), "SigninLog | take 1\n").unwrap();
    std::fs::write(dir.path().join("custom.kql"), "MyApp_CL | where Msg has 'x'\n").unwrap();
    let o = ratcatcher(&["check", "--schema", "t.kql", "custom.kql"], dir.path());
    assert_eq!(o.status.code(), Some(0), "{}", stdout(&o));
    let out = stdout(&o);
    assert!(
        out.contains("t.kql: not checked: unknown table `SigninLog` (did you mean `SigninLogs`?) (line 1, column 1)"),
        "{out}"
    );
    assert!(out.contains("2 not checked (unknown tables or functions)"), "{out}");
    let o = ratcatcher(&["check", "--schema", "--strict", "t.kql"], dir.path());
    assert_eq!(o.status.code(), Some(1));

    // A --schema-dir table is checked; a malformed file is named, the others are still used.
    let schemas = dir.path().join("schemas");
    std::fs::create_dir(&schemas).unwrap();
    std::fs::write(
        schemas.join("MyApp_CL.json"),
        r#"{"Name": "MyApp_CL", "Properties": [{"Name": "TimeGenerated", "Type": "Datetime"}, {"Name": "Msg", "Type": "String"}]}"#,
    )
    .unwrap();
    std::fs::write(schemas.join("Broken_CL.json"), "{\"Name\": ").unwrap();
    let o = ratcatcher(
        &["check", "--schema", "--schema-dir", "schemas", "custom.kql"],
        dir.path(),
    );
    assert_eq!(o.status.code(), Some(2), "unusable schema file: {}", stdout(&o));
    assert!(stdout(&o).contains("custom.kql: ok"), "{}", stdout(&o));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("Broken_CL.json") && err.contains("invalid JSON"), "{err}");

    let o = ratcatcher(&["check", "--print-schemas"], dir.path());
    assert_eq!(o.status.code(), Some(0));
    let all: serde_json::Value = serde_json::from_str(&stdout(&o)).unwrap();
    let names: Vec<&str> = all
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["Name"].as_str().unwrap())
        .collect();
    for t in [
        "DeviceProcessEvents",
        "SecurityEvent",
        "SigninLogs",
        "RemoteAccessTools",
    ] {
        assert!(names.contains(&t), "{t} in {names:?}");
    }
}
