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
    // By default every rule runs over all the evidence.
    let o = hunt(&["--format", "jsonl"]);
    assert_eq!(jsonl(&o).len(), 2, "{}", stderr(&o));
    assert!(stderr(&o).contains("; all evidence;"), "{}", stderr(&o));
    // --now gives Sentinel's window semantics: a week later, the rules' 1-day queryPeriod no
    // longer reaches the events.
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
    // --lookback alone counts back from the newest event: 10:05 - 1h keeps only the AnyDesk run.
    let o = hunt(&["--format", "jsonl", "--lookback", "1h"]);
    let alerts = jsonl(&o);
    assert_eq!(alerts.len(), 1, "{}", stdout(&o));
    assert_eq!(alerts[0]["device"], "FIN-01");
    // A window's start is exclusive: (anchor - D, anchor]. The AnyDesk run at 10:00 is exactly
    // 5 minutes before the newest event.
    let o = hunt(&["--format", "jsonl", "--lookback", "5m"]);
    assert_eq!(jsonl(&o).len(), 0, "{}", stdout(&o));
    // The evidence's span per host is in the summary.
    let o = hunt(&["--format", "table"]);
    let text = stdout(&o);
    assert!(text.contains("time: all evidence"), "{text}");
    let fin = text.find("  FIN-01  ").expect(&text);
    let hd = text.find("  HD-01  ").expect(&text);
    assert!(fin < hd, "{text}");
    assert!(
        text.contains("2026-03-03T10:00:00Z .. 2026-03-03T10:05:00Z  (2 events)"),
        "{text}"
    );
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
        Some(
            "time,severity,rule_id,rule_name,device,account,tool,category,signal,techniques,detail,suppressed,row,replay_run"
        )
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

/// `ratcatcher test` finds the pack's own tests from any folder (they are compiled in; the whole
/// set runs in `cargo test -p ratcatcher-detect`): here the cases of one rule, from a folder
/// outside the repository.
#[test]
fn test_runs_the_built_in_tests_from_any_folder() {
    let away = tempfile::tempdir().unwrap();
    let o = Command::new(env!("CARGO_BIN_EXE_ratcatcher"))
        .args(["test", "rat-service-install"])
        .current_dir(away.path())
        .output()
        .unwrap();
    let text = stdout(&o);
    assert_eq!(o.status.code(), Some(0), "{text}\n{}", stderr(&o));
    let last = text.lines().last().unwrap_or("");
    assert!(last.ends_with(" passed, 0 failed"), "{last}");
    let passed: usize = last.split(' ').next().unwrap().parse().unwrap();
    assert!(passed >= 1, "{text}");
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

/// The same evidence and options give the same bytes on every run, in JSON lines and in the table
/// (issue #11 item 7): rules keep their lists in a defined order (the multiple-tools `Events`) and
/// alerts are ordered by their rows, whatever order the engine's partitions deliver them in.
#[test]
fn hunt_output_is_byte_identical_across_runs() {
    let ev = repo("examples/evidence");
    let config = repo("examples/tuning.toml");
    for format in ["jsonl", "table"] {
        let run = || {
            let o = ratcatcher(&[
                "hunt",
                ev.to_str().unwrap(),
                "--config",
                config.to_str().unwrap(),
                "--format",
                format,
                "--show-suppressed",
            ]);
            // 1: alerts; a rule that fails (2) is another test's business, its output is compared too
            assert!(matches!(o.status.code(), Some(1 | 2)), "{}", stderr(&o));
            o.stdout
        };
        let first = run();
        assert!(first.len() > 1000, "{format}: {}", String::from_utf8_lossy(&first));
        for i in 2..=3 {
            let again = run();
            if again != first {
                let (a, b) = (String::from_utf8_lossy(&first), String::from_utf8_lossy(&again));
                let diff = a.lines().zip(b.lines()).find(|(x, y)| x != y);
                panic!("{format}: run {i} differs from run 1 at {diff:?}");
            }
        }
    }
}

/// One process creation logged by Sysmon 1 and Security 4688 is one alert naming both logs; the
/// table shows the tunnel's command line and the sources.
#[test]
fn one_process_logged_twice_is_one_alert_with_both_sources() {
    let ev = repo("rules/tests/evidence/rat-ide-tunnel/code-tunnel-sysmon-and-security.xml");
    let ev = ev.to_str().unwrap();
    let rule = repo("rules/rat-ide-tunnel.yaml");
    let rule = rule.to_str().unwrap();
    let o = ratcatcher(&["hunt", ev, "--rules", rule, "--format", "jsonl"]);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    let alerts = jsonl(&o);
    let tunnels: Vec<&Value> = alerts.iter().filter(|a| a["rule"]["id"] == "rat-ide-tunnel").collect();
    assert_eq!(tunnels.len(), 2, "{}", stdout(&o));
    let both = tunnels
        .iter()
        .find(|a| a["row"]["ProcessId"] == 7340)
        .expect("pid 7340");
    assert_eq!(both["sources"], serde_json::json!(["Sysmon/1", "Security/4688"]));
    // Sysmon's row is kept (it was logged first; its time is the alert's).
    assert_eq!(both["time"], "2026-03-02T10:15:02.3110000Z");
    assert_eq!(both["row"]["EventSource"], "Sysmon/1");
    let only = tunnels
        .iter()
        .find(|a| a["row"]["ProcessId"] == 8720)
        .expect("pid 8720");
    assert_eq!(only["sources"], serde_json::json!(["Security/4688"]));
    let o = ratcatcher(&["hunt", ev, "--rules", rule, "--format", "table"]);
    let text = stdout(&o);
    let line = text
        .lines()
        .find(|l| l.contains("rat-ide-tunnel") && l.contains("--accept-server-license-terms"))
        .unwrap_or_else(|| panic!("{text}"));
    assert!(line.contains(r#""C:\Tools\vscode-cli\code.exe" tunnel"#), "{line}");
    assert!(line.ends_with("[Sysmon/1 + Security/4688]"), "{line}");
}

/// Copies a folder tree (the example evidence) into `to`.
fn copy_tree(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let dest = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_tree(&entry.path(), &dest);
        } else {
            std::fs::copy(entry.path(), dest).unwrap();
        }
    }
}

/// One Defender process event as a JSON line.
fn process_line(time: &str, device: &str, file: &str) -> String {
    serde_json::json!({
        "Type": "DeviceProcessEvents",
        "Timestamp": time,
        "DeviceId": "forged",
        "DeviceName": device,
        "ActionType": "ProcessCreated",
        "FileName": file,
        "FolderPath": format!(r"C:\Users\bob\Downloads\{file}"),
        "ProcessCommandLine": file,
        "AccountDomain": "contoso",
        "AccountName": "bob",
        "InitiatingProcessFileName": "explorer.exe",
    })
    .to_string()
        + "\n"
}

/// Alerts as comparable keys: rule, time, device, tool, suppression.
fn alert_keys(o: &Output) -> Vec<String> {
    let mut keys: Vec<String> = jsonl(o)
        .iter()
        .map(|a| {
            format!(
                "{} {} {} {} {}",
                a["rule"]["id"], a["time"], a["device"], a["tool"], a["suppressed"]
            )
        })
        .collect();
    keys.sort();
    keys
}

fn anchor_line(o: &Output) -> String {
    stderr(o)
        .lines()
        .find(|l| l.starts_with("hunt: anchor "))
        .map(|l| l.split(';').next().unwrap_or(l).to_string())
        .unwrap_or_default()
}

/// One event dated 2035 in the example evidence: the same alerts, the same anchor, and a warning
/// naming the outlier. A forged tool start is still seen by the rules (all evidence).
#[test]
fn a_future_dated_event_changes_no_alert_and_is_reported() {
    let dir = tempfile::tempdir().unwrap();
    let ev = dir.path().join("evidence");
    copy_tree(&repo("examples/evidence"), &ev);
    let config = repo("examples/tuning.toml");
    let run = || {
        ratcatcher(&[
            "hunt",
            ev.to_str().unwrap(),
            "--config",
            config.to_str().unwrap(),
            "--format",
            "jsonl",
            "--show-suppressed",
        ])
    };
    let before = run();
    assert_eq!(before.status.code(), Some(1), "{}", stderr(&before));
    assert!(!stderr(&before).contains("outlier"), "{}", stderr(&before));
    let clean = alert_keys(&before);
    assert!(clean.len() > 50, "{}", clean.len());

    std::fs::write(
        ev.join("forged.jsonl"),
        process_line("2035-01-01T00:00:00Z", "fin-ws-07.contoso.local", "notepad.exe"),
    )
    .unwrap();
    let after = run();
    assert_eq!(after.status.code(), Some(1), "{}", stderr(&after));
    assert_eq!(alert_keys(&after), clean);
    assert_eq!(anchor_line(&after), anchor_line(&before));
    let err = stderr(&after);
    let warning = err
        .lines()
        .find(|l| l.starts_with("warning: ") && l.contains("2035-01-01T00:00:00Z"))
        .unwrap_or_else(|| panic!("{err}"));
    assert!(
        warning.contains("1 event dated in the future on fin-ws-07.contoso.local, DeviceProcessEvents"),
        "{warning}"
    );
    assert!(
        err.contains("warning: 1 event far outside the bulk of the evidence (outliers"),
        "{err}"
    );

    // A forged tool start dated 2035 is itself alerted on; the other alerts stay.
    std::fs::write(
        ev.join("forged.jsonl"),
        process_line("2035-01-01T00:00:00Z", "fin-ws-07.contoso.local", "AnyDesk.exe"),
    )
    .unwrap();
    let forged = run();
    let keys = alert_keys(&forged);
    assert!(clean.iter().all(|k| keys.contains(k)), "{keys:#?}");
    let extra: Vec<&String> = keys.iter().filter(|k| !clean.contains(k)).collect();
    assert!(
        !extra.is_empty() && extra.iter().all(|k| k.contains("\"2035-01-01")),
        "{extra:#?}"
    );
    assert_eq!(anchor_line(&forged), anchor_line(&before));
}

/// Evidence spanning more than a year: by default the old events' alerts are reported too; with
/// --now only the rules' queryPeriod before it counts.
#[test]
fn old_events_are_hunted_by_default() {
    let dir = tempfile::tempdir().unwrap();
    let ev = dir.path().join("evidence.jsonl");
    let mut text = String::new();
    for (day, file) in [
        (10, "AnyDesk.exe"),
        (11, "notepad.exe"),
        (12, "notepad.exe"),
        (13, "notepad.exe"),
    ] {
        text += &process_line(&format!("2025-01-{day}T09:00:00Z"), "WS-OLD", file);
    }
    for (day, file) in [
        (1, "notepad.exe"),
        (2, "notepad.exe"),
        (3, "TeamViewer.exe"),
        (3, "notepad.exe"),
    ] {
        text += &process_line(&format!("2026-03-0{day}T09:00:00Z"), "ws-new", file);
    }
    std::fs::write(&ev, text).unwrap();
    let rules = data("rules");
    let o = ratcatcher(&["hunt", ev.to_str().unwrap(), "--rules", &rules, "--format", "jsonl"]);
    let alerts = jsonl(&o);
    let times: Vec<&str> = alerts.iter().map(|a| a["time"].as_str().unwrap()).collect();
    assert_eq!(times.len(), 2, "{}", stderr(&o));
    assert!(times.iter().any(|t| t.starts_with("2025-01-10")), "{times:?}");
    assert!(times.iter().any(|t| t.starts_with("2026-03-03")), "{times:?}");
    let err = stderr(&o);
    assert!(err.contains("anchor 2026-03-03T09:00:00Z (newest event"), "{err}");
    assert!(!err.contains("outlier"), "{err}");
    // Hosts sorted ignoring case, each with its span.
    let hosts: Vec<&str> = err.lines().filter(|l| l.starts_with("hunt:   ")).collect();
    assert_eq!(hosts.len(), 2, "{err}");
    assert!(hosts[0].contains("ws-new") && hosts[1].contains("WS-OLD"), "{hosts:?}");
    assert!(
        hosts[1].contains("2025-01-10T09:00:00Z .. 2025-01-13T09:00:00Z"),
        "{hosts:?}"
    );
    // Sentinel's window at --now: only the recent start is within the 1-day queryPeriod.
    let o = ratcatcher(&[
        "hunt",
        ev.to_str().unwrap(),
        "--rules",
        &rules,
        "--format",
        "jsonl",
        "--now",
        "2026-03-03T12:00:00Z",
    ]);
    let alerts = jsonl(&o);
    assert_eq!(alerts.len(), 1, "{}", stderr(&o));
    assert_eq!(alerts[0]["tool"], "TeamViewer");
}
