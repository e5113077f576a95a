//! `ratcatcher hunt`, `test`, `explain` and `catalog` end to end: alert formats, anchors and
//! windows, tuning and suppression, exit codes, failing rules, and the pack's own tests.

use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn ratcatcher(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_ratcatcher"))
        .args(args)
        .output()
        .expect("run ratcatcher")
}

fn data(rel: &str) -> String {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data/hunt")
        .join(rel)
        .display()
        .to_string()
}

fn repo(rel: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..").join(rel)
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

fn jsonl(o: &Output) -> Vec<Value> {
    stdout(o)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("bad JSON line {l}: {e}")))
        .collect()
}

fn hunt(extra: &[&str]) -> Output {
    let (ev, rules) = (data("evidence.jsonl"), data("rules"));
    let mut args = vec!["hunt", ev.as_str(), "--rules", rules.as_str()];
    args.extend_from_slice(extra);
    ratcatcher(&args)
}

#[test]
fn jsonl_alerts_carry_rule_time_device_tool_and_row() {
    let o = hunt(&["--format", "jsonl"]);
    assert_eq!(
        o.status.code(),
        Some(1),
        "alerts found means exit 1; stderr: {}",
        stderr(&o)
    );
    let alerts = jsonl(&o);
    assert_eq!(alerts.len(), 2);
    let tv = alerts
        .iter()
        .find(|a| a["device"] == "HD-01")
        .expect("TeamViewer alert");
    assert_eq!(tv["rule"]["id"], "t-by-name");
    assert_eq!(tv["rule"]["severity"], "Medium");
    assert_eq!(tv["rule"]["techniques"], serde_json::json!(["T1219"]));
    // The event's own time at full precision.
    assert_eq!(tv["time"], "2026-03-03T09:00:00.1234567Z");
    assert_eq!(tv["account"], "contoso\\helpdesk1");
    assert_eq!(tv["tool"], "TeamViewer");
    assert_eq!(tv["category"], "commercial-remote-support");
    assert_eq!(tv["signal"], "process");
    assert_eq!(tv["entities"][0]["type"], "Host");
    assert_eq!(tv["entities"][0]["HostName"], "HD-01");
    // The row keeps the query's column order.
    let line = stdout(&o).lines().find(|l| l.contains("HD-01")).unwrap().to_string();
    let row_at = line.find("\"row\":").unwrap();
    let order: Vec<usize> = ["\"Timestamp\"", "\"DeviceName\"", "\"FileName\"", "\"Signal\""]
        .iter()
        .map(|k| line[row_at..].find(k).unwrap())
        .collect();
    assert!(order.windows(2).all(|w| w[0] < w[1]), "{line}");
    assert!(
        stderr(&o).contains("anchor 2026-03-03T10:05:00Z (newest event"),
        "{}",
        stderr(&o)
    );
}

#[test]
fn anchor_and_windows() {
    // A week later, the rules' 1-day queryPeriod no longer reaches the events.
    let o = hunt(&["--format", "jsonl", "--now", "2026-03-10T00:00:00Z"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(stdout(&o).is_empty());
    // --lookback widens every rule's window.
    let o = hunt(&["--format", "jsonl", "--now", "2026-03-10T00:00:00Z", "--lookback", "8d"]);
    assert_eq!(jsonl(&o).len(), 2);
    // The anchor is exclusive of the future: events after --now are outside the window.
    let o = hunt(&["--format", "jsonl", "--now", "2026-03-03T09:30:00Z"]);
    let alerts = jsonl(&o);
    assert_eq!(alerts.len(), 1, "{}", stdout(&o));
    assert_eq!(alerts[0]["device"], "HD-01");
    let o = hunt(&["--format", "jsonl", "--now", "2026-03-10T00:00:00Z", "--all-time"]);
    assert_eq!(jsonl(&o).len(), 2);
}

#[test]
fn tuning_suppresses_with_a_reason() {
    let cfg = data("tuning.toml");
    let o = hunt(&["--format", "jsonl", "--config", &cfg]);
    assert_eq!(o.status.code(), Some(1));
    let alerts = jsonl(&o);
    assert_eq!(alerts.len(), 1);
    assert_eq!(alerts[0]["tool"], "AnyDesk");
    assert!(
        stderr(&o).contains("suppressed 1: helpdesk remote support"),
        "{}",
        stderr(&o)
    );
    let o = hunt(&["--format", "jsonl", "--config", &cfg, "--show-suppressed"]);
    let alerts = jsonl(&o);
    assert_eq!(alerts.len(), 2);
    let s = alerts.iter().find(|a| a["device"] == "HD-01").unwrap();
    assert_eq!(s["suppressed"], "helpdesk remote support");
    // The table view counts suppressions per reason in the summary.
    let o = hunt(&["--format", "table", "--config", &cfg, "--show-suppressed"]);
    let text = stdout(&o);
    assert!(text.contains("1 alerts on 1 hosts, 1 tools"), "{text}");
    assert!(text.contains("suppressed by tuning: 1"), "{text}");
    assert!(text.contains("== FIN-01"), "{text}");
    assert!(text.contains("== suppressed"), "{text}");
    // Only helpdesk hosts in business hours: the same TeamViewer event at night is not approved.
    let dir = tempfile::tempdir().unwrap();
    let night = dir.path().join("night.jsonl");
    let text = std::fs::read_to_string(data("evidence.jsonl")).unwrap();
    std::fs::write(
        &night,
        text.replace("2026-03-03T09:00:00.1234567Z", "2026-03-03T21:00:00Z"),
    )
    .unwrap();
    let rules = data("rules");
    let o = ratcatcher(&[
        "hunt",
        night.to_str().unwrap(),
        "--rules",
        &rules,
        "--config",
        &cfg,
        "--format",
        "jsonl",
    ]);
    assert_eq!(jsonl(&o).len(), 2, "{}", stderr(&o));
}

#[test]
fn bad_tuning_is_an_error_naming_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = dir.path().join("t.toml");
    std::fs::write(&cfg, "[[approve]]\ntools = [\"NotARealTool\"]\n").unwrap();
    let o = hunt(&["--config", cfg.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        stderr(&o).contains("t.toml") && stderr(&o).contains("NotARealTool"),
        "{}",
        stderr(&o)
    );
}

#[test]
fn csv_and_timesketch_formats() {
    let o = hunt(&["--format", "csv"]);
    let text = stdout(&o);
    let mut lines = text.lines();
    assert_eq!(
        lines.next(),
        Some("time,severity,rule_id,rule_name,device,account,tool,category,signal,techniques,detail,suppressed,row")
    );
    assert_eq!(lines.count(), 2);
    let o = hunt(&["--format", "timesketch"]);
    for a in jsonl(&o) {
        for key in ["message", "datetime", "timestamp_desc", "timestamp", "rule_id", "tag"] {
            assert!(a.get(key).is_some(), "missing {key}: {a}");
        }
        assert!(
            a["message"]
                .as_str()
                .unwrap()
                .contains("Test - remote access tool by file name")
        );
    }
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("alerts.jsonl");
    let o = hunt(&["-o", out.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(1));
    assert!(stdout(&o).is_empty());
    // Writing to a file defaults to JSON lines.
    assert_eq!(std::fs::read_to_string(&out).unwrap().lines().count(), 2);
}

#[test]
fn a_failing_rule_is_named_and_exits_2() {
    let (ev, rules, broken) = (data("evidence.jsonl"), data("rules"), data("broken"));
    let o = ratcatcher(&["hunt", &ev, "--rules", &rules, "--rules", &broken, "--format", "jsonl"]);
    assert_eq!(o.status.code(), Some(2));
    // The other rules still ran.
    assert_eq!(jsonl(&o).len(), 2);
    let err = stderr(&o);
    assert!(
        err.contains("t-broken") && err.contains("NoSuchColumn") && err.contains("line 2"),
        "{err}"
    );
    let o = ratcatcher(&["hunt", "/no/such/evidence", "--rules", &rules]);
    assert_eq!(o.status.code(), Some(2));
}

#[test]
fn test_command_reports_pass_and_fail() {
    let rules = data("rules");
    let o = ratcatcher(&["test", "--rules", &rules, &data("tests/pass.yaml")]);
    assert_eq!(o.status.code(), Some(0), "{}", stdout(&o));
    assert!(stdout(&o).ends_with("1 passed, 0 failed\n"), "{}", stdout(&o));
    let o = ratcatcher(&["test", "--rules", &rules, &data("tests")]);
    assert_eq!(o.status.code(), Some(1));
    let text = stdout(&o);
    assert!(text.contains("FAIL wrong expectation"), "{text}");
    assert!(text.contains("t-by-name: 2 alerts, expected 0"), "{text}");
    assert!(text.ends_with("1 passed, 1 failed\n"), "{text}");
}

#[test]
fn explain_and_catalog() {
    let o = ratcatcher(&["explain", "t-by-name", "--rules", &data("rules")]);
    assert_eq!(o.status.code(), Some(0));
    let text = stdout(&o);
    assert!(text.contains("Test - remote access tool by file name"), "{text}");
    assert!(text.contains("Check the process tree"), "{text}");
    assert!(text.contains("```kql"), "{text}");
    let o = ratcatcher(&["explain", "t-by-nam", "--rules", &data("rules")]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("closest: t-by-name"), "{}", stderr(&o));
    let o = ratcatcher(&["catalog", "anydesk"]);
    assert_eq!(o.status.code(), Some(0));
    assert!(stdout(&o).contains("anydesk.exe"), "{}", stdout(&o));
    let o = ratcatcher(&["catalog", "no-such-tool-xyz"]);
    assert_eq!(o.status.code(), Some(1));
    let o = ratcatcher(&["catalog", "rustdesk", "--indicators", "--format", "csv"]);
    assert!(
        stdout(&o).contains("rustdesk,RustDesk,open-source-remote-desktop,port,21117"),
        "{}",
        stdout(&o)
    );
}

#[test]
fn query_sees_the_catalog_tables() {
    let o = ratcatcher(&[
        "query",
        "RemoteAccessToolIndicators | where Kind == 'executable' and Indicator == 'anydesk.exe' | project ToolId",
        "--format",
        "jsonl",
    ]);
    assert_eq!(stdout(&o).trim(), r#"{"ToolId":"anydesk"}"#, "{}", stderr(&o));
}

/// The pack's own tests (rules/tests) all pass through `ratcatcher test`.
#[test]
fn the_pack_passes_its_tests() {
    let tests = repo("rules/tests");
    let o = ratcatcher(&["test", tests.to_str().unwrap()]);
    let text = stdout(&o);
    assert_eq!(o.status.code(), Some(0), "{text}\n{}", stderr(&o));
    let last = text.lines().last().unwrap_or("");
    assert!(last.ends_with(" 0 failed"), "{last}");
    let passed: usize = last.split(' ').next().unwrap().parse().unwrap();
    assert!(passed >= 20, "only {passed} pack tests");
}

/// Evidence tables of different kinds union (their schemas differ in metadata as well as columns).
#[test]
fn evidence_tables_union() {
    let ev = repo("examples/evidence");
    let o = ratcatcher(&[
        "query",
        "-i",
        ev.to_str().unwrap(),
        "union DeviceProcessEvents, DeviceLogonEvents | summarize n = count()",
        "--format",
        "jsonl",
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let rows = jsonl(&o);
    assert!(rows[0]["n"].as_i64().unwrap() > 0, "{rows:?}");
}

/// Evidence over the spill threshold is ingested into a temporary Parquet dataset instead of being
/// decoded into memory; the alerts are the same either way.
#[test]
fn large_evidence_is_hunted_from_a_temporary_dataset_with_the_same_alerts() {
    let ev = repo("examples/evidence");
    let config = repo("examples/tuning.toml");
    let args = [
        "hunt",
        ev.to_str().unwrap(),
        "--config",
        config.to_str().unwrap(),
        "--format",
        "jsonl",
        "--show-suppressed",
    ];
    let in_memory = ratcatcher(&args);
    let spilled = Command::new(env!("CARGO_BIN_EXE_ratcatcher"))
        .args(args)
        .env("RATCATCHER_SPILL_BYTES", "1")
        .output()
        .expect("run ratcatcher");
    assert_eq!(in_memory.status.code(), Some(1), "{}", stderr(&in_memory));
    assert_eq!(spilled.status.code(), Some(1), "{}", stderr(&spilled));
    assert!(!stderr(&in_memory).contains("temporary Parquet dataset"));
    let note = stderr(&spilled);
    assert!(note.contains("temporary Parquet dataset"), "{note}");
    // The same alerts: rule, time, host, account, tools (as a set: `make_set` and `make_list`
    // follow the scan order, which Kusto leaves unspecified) and suppression.
    let identity = |o: &Output| {
        let mut keys: Vec<String> = jsonl(o)
            .iter()
            .map(|a| {
                let mut tools: Vec<&str> = a["tool"].as_str().unwrap_or("").split(", ").collect();
                tools.sort_unstable();
                format!(
                    "{} {} {} {} {:?} {}",
                    a["rule"]["id"], a["time"], a["device"], a["account"], tools, a["suppressed"]
                )
            })
            .collect();
        keys.sort();
        keys
    };
    let alerts = identity(&in_memory);
    assert!(alerts.len() > 50, "{}", alerts.len());
    assert_eq!(identity(&spilled), alerts);
    // The temporary dataset is gone once the run ends.
    let dir = note
        .split(" dataset in ")
        .nth(1)
        .and_then(|rest| rest.split(" (deleted").next())
        .expect("the note names the folder");
    assert!(!Path::new(dir).exists(), "{dir} was left behind");
}
