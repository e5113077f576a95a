//! `hunt --replay` against a brute-force simulation of Sentinel's schedule: on 30 days of generated
//! Defender evidence (tool starts on three hosts among ordinary processes), the replay, which skips
//! runs whose window is empty or unchanged, raises exactly the alerts of running every scheduled
//! run and de-duplicating afterwards, each with the same first run; the binary agrees.

use detect::replay::{self, Replay};
use detect::rule::Rule;
use engine::{Engine, EngineOptions};
use serde_json::{Value, json};
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::Command;

const HOUR: i64 = 3_600_000_000_000;
const DAY: i64 = 24 * HOUR;
/// 2026-02-01T00:00:00Z.
const START: i64 = 20_485 * DAY;

fn iso(nanos: i64) -> String {
    detect::alert::iso(nanos)
}

/// One Defender process event as a JSON line.
fn process(out: &mut String, t: i64, device: &str, file: &str) {
    let folder = format!(r"C:\Users\user\Downloads\{file}");
    let line = json!({
        "Type": "DeviceProcessEvents",
        "Timestamp": iso(t),
        "DeviceId": device.to_lowercase(),
        "DeviceName": device,
        "ActionType": "ProcessCreated",
        "FileName": file,
        "FolderPath": folder,
        "ProcessCommandLine": format!("\"{file}\""),
        "AccountDomain": "contoso",
        "AccountName": "user",
        "InitiatingProcessFileName": "explorer.exe",
    });
    writeln!(out, "{line}").unwrap();
}

/// 30 days on three hosts: ordinary processes every few hours (SRV-01 only from day 10), tool
/// starts on some days, some exactly on the hour (window boundaries), and a helpdesk ticket tool
/// that hides AnyDesk from the custom rule while it is in the window.
fn evidence() -> String {
    let mut out = String::new();
    for day in 0..30 {
        for (host, from_day) in [("WS-01", 0), ("WS-02", 0), ("SRV-01", 10)] {
            if day < from_day {
                continue;
            }
            for hour in [8, 12, 17] {
                let t = START + day * DAY + hour * HOUR + 7 * 60_000_000_000;
                process(
                    &mut out,
                    t,
                    host,
                    if hour == 12 { "notepad.exe" } else { "explorer.exe" },
                );
            }
        }
    }
    let at = |day: i64, h: i64, m: i64| START + day * DAY + h * HOUR + m * 60_000_000_000;
    process(&mut out, at(3, 9, 0), "WS-01", "ticket.exe");
    process(&mut out, at(3, 10, 17), "WS-01", "AnyDesk.exe");
    process(&mut out, at(3, 10, 40), "WS-01", "AnyDesk.exe");
    process(&mut out, at(12, 14, 5), "WS-01", "AnyDesk.exe");
    process(&mut out, at(25, 9, 30), "WS-01", "AnyDesk.exe");
    process(&mut out, at(8, 11, 0), "WS-02", "TeamViewer.exe");
    process(&mut out, at(20, 16, 45), "WS-02", "TeamViewer.exe");
    process(&mut out, at(20, 17, 10), "WS-02", "AnyDesk.exe");
    process(&mut out, at(15, 2, 0), "SRV-01", "rustdesk.exe");
    process(&mut out, at(29, 23, 0), "SRV-01", "rustdesk.exe");
    out
}

/// Rules written at test time: two pack rules (the first-seen rule daily with `ago()`; the
/// by-name rule every 12 hours instead of hourly, as the pack's rules cost a debug build a quarter
/// of a second per run) and custom rules for the edges: an hourly rule over 3 hours (empty and
/// unchanged windows), a window losing an event raises an alert, `ago()` on an hourly schedule,
/// rows from an empty window, and a hunting query without a schedule.
fn write_rules(dir: &Path) {
    let pack = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../rules");
    for (id, frequency) in [("rat-process-by-name", "12h"), ("rat-first-seen-on-host", "1d")] {
        let text = std::fs::read_to_string(pack.join(format!("{id}.yaml"))).unwrap();
        let (before, after) = text.split_once("queryFrequency: ").unwrap();
        let rest = after.split_once('\n').unwrap().1;
        std::fs::write(
            dir.join(format!("{id}.yaml")),
            format!("{before}queryFrequency: {frequency}\n{rest}"),
        )
        .unwrap();
    }
    let rule = |name: &str, schedule: &str, query: &str| {
        let text = format!(
            "id: {name}\nname: {name}\nseverity: Medium\n{schedule}query: |\n  {}\ncustomDetails:\n  Tool: FileName\n",
            query.replace('\n', "\n  ")
        );
        std::fs::write(dir.join(format!("{name}.yaml")), text).unwrap();
    };
    rule(
        "t-tools",
        "queryFrequency: 1h\nqueryPeriod: 3h\n",
        "DeviceProcessEvents\n| where FileName in~ (\"anydesk.exe\", \"teamviewer.exe\", \"rustdesk.exe\")\n\
         | project Timestamp, DeviceName, FileName",
    );
    rule(
        "t-without-ticket",
        "queryFrequency: 3h\nqueryPeriod: 12h\n",
        "DeviceProcessEvents\n| where FileName in~ (\"anydesk.exe\", \"teamviewer.exe\")\n\
         | join kind=leftanti (DeviceProcessEvents | where FileName =~ \"ticket.exe\" | distinct DeviceName) on DeviceName\n\
         | project Timestamp, DeviceName, FileName",
    );
    rule(
        "t-recent-ago",
        "queryFrequency: 1h\nqueryPeriod: 1d\n",
        "DeviceProcessEvents\n| where Timestamp > ago(2h) and FileName in~ (\"anydesk.exe\", \"teamviewer.exe\", \"rustdesk.exe\")\n\
         | project Timestamp, DeviceName, FileName",
    );
    rule(
        "t-constant-row",
        "queryFrequency: 6h\nqueryPeriod: 6h\n",
        "print Timestamp = datetime(2026-01-01T00:00:00Z), DeviceName = \"none\", FileName = \"none\"",
    );
    rule(
        "t-hunting",
        "",
        "DeviceProcessEvents | where FileName =~ \"rustdesk.exe\" | project Timestamp, DeviceName, FileName",
    );
}

async fn engine_over(evidence: &Path) -> Engine {
    let mut engine = Engine::new(EngineOptions::default()).unwrap();
    let inputs = [evidence.display().to_string()];
    let (tables, report) = telemetry::read_to_memory(&inputs, &Default::default()).unwrap();
    assert_eq!(report.skipped_total, 0);
    telemetry::register_tables(engine.session(), tables, 2).unwrap();
    let names: Vec<&str> = telemetry::schema::tables().iter().map(|t| t.name()).collect();
    engine.import_session_tables(&names).await.unwrap();
    detect::catalog::register(&mut engine, &detect::catalog::builtin()).unwrap();
    engine
}

/// Every alert as JSON (replay run included), sorted.
fn lines(r: &Replay) -> Vec<String> {
    for run in &r.runs {
        assert!(run.error.is_none(), "{}: {:?}", run.rule_id, run.error);
    }
    let mut v: Vec<String> = r.alerts.iter().map(|a| serde_json::to_string(a).unwrap()).collect();
    v.sort();
    v
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn replay_equals_running_every_scheduled_run() {
    let dir = tempfile::tempdir().unwrap();
    let ev = dir.path().join("evidence.jsonl");
    std::fs::write(&ev, evidence()).unwrap();
    let rules_dir = dir.path().join("rules");
    std::fs::create_dir(&rules_dir).unwrap();
    write_rules(&rules_dir);
    let (rules, errors) = detect::rule::load_paths(std::slice::from_ref(&rules_dir));
    assert!(errors.is_empty(), "{errors:?}");
    let rules: Vec<Rule> = rules;
    assert_eq!(rules.len(), 7);
    let first_seen = rules.iter().find(|r| r.id == "rat-first-seen-on-host").unwrap();
    assert_eq!(first_seen.query_frequency_text.as_deref(), Some("1d"));

    let skip = ["RemoteAccessTools", "RemoteAccessToolIndicators"];
    let mut engine = engine_over(&ev).await;
    let profile = detect::timeline::profile_tables(&mut engine, &skip, detect::timeline::wall_clock())
        .await
        .unwrap();
    assert!(profile.outliers.is_empty(), "{:?}", profile.outliers);
    let span = profile.bulk;
    let anchor = profile.newest().unwrap();
    let fast = replay::replay(&mut engine, &rules, span, anchor, &skip).await.unwrap();
    let slow = replay::every_run(&mut engine, &rules, span, anchor).await;
    let (fast_lines, slow_lines) = (lines(&fast), lines(&slow));
    assert_eq!(
        fast_lines.len(),
        slow_lines.len(),
        "{fast_lines:#?}\n---\n{slow_lines:#?}"
    );
    for (f, s) in fast_lines.iter().zip(&slow_lines) {
        assert_eq!(f, s);
    }

    // Skipping did its job: most hourly runs never ran.
    for r in &fast.rules {
        let reference = slow.rules.iter().find(|x| x.rule_id == r.rule_id).unwrap();
        assert_eq!(r.scheduled, reference.scheduled, "{}", r.rule_id);
    }
    let tools = fast.rules.iter().find(|r| r.rule_id == "t-tools").unwrap();
    // Hourly from 2026-02-01T09:00Z (after the first event, 08:07) to 2026-03-02T23:00Z (the last).
    assert_eq!(tools.scheduled, 29 * 24 + 15, "{tools:?}");
    assert!(tools.executed * 5 < tools.scheduled, "{tools:?}");
    assert!(tools.skipped_unchanged > 0 && tools.skipped_empty > 0, "{tools:?}");
    assert_eq!(
        tools.executed + tools.skipped_empty + tools.skipped_unchanged,
        tools.scheduled
    );
    // ago(): never skipped as unchanged; rows on an empty window: never skipped as empty.
    let ago = fast.rules.iter().find(|r| r.rule_id == "t-recent-ago").unwrap();
    assert_eq!(ago.skipped_unchanged, 0, "{ago:?}");
    let constant = fast.rules.iter().find(|r| r.rule_id == "t-constant-row").unwrap();
    assert_eq!(constant.skipped_empty, 0, "{constant:?}");

    // (event time to the second, run) of a rule's alerts on a tool.
    let alert = |rule: &str, file: &str| -> Vec<(String, Option<String>)> {
        fast.alerts
            .iter()
            .filter(|a| a.rule.id == rule && a.tool.as_deref() == Some(file))
            .map(|a| {
                let t = a.time.clone().unwrap_or_default();
                (t.get(..19).unwrap_or(&t).to_string(), a.replay_run.map(iso))
            })
            .collect()
    };
    let pair = |t: &str, run: &str| (t.to_string(), Some(run.to_string()));
    // The first run after an event raises it: every 12 hours for the by-name rule, hourly here.
    let anydesk = alert("rat-process-by-name", "AnyDesk");
    assert!(
        anydesk.contains(&pair("2026-02-04T10:17:00", "2026-02-04T12:00:00Z")),
        "{anydesk:?}"
    );
    let anydesk = alert("t-tools", "AnyDesk.exe");
    assert!(
        anydesk.contains(&pair("2026-02-04T10:17:00", "2026-02-04T11:00:00Z")),
        "{anydesk:?}"
    );
    // An event exactly on the hour belongs to the run at that hour: (t − p, t].
    let tv = alert("t-tools", "TeamViewer.exe");
    assert!(
        tv.contains(&pair("2026-02-09T11:00:00", "2026-02-09T11:00:00Z")),
        "{tv:?}"
    );
    // The ticket at 09:00 leaves the 12-hour window at the 21:00 run (exclusive start): AnyDesk's
    // 10:17 and 10:40 starts alert then, not before.
    let unticketed = alert("t-without-ticket", "AnyDesk.exe");
    let on_day_3: Vec<&(String, Option<String>)> =
        unticketed.iter().filter(|(t, _)| t.starts_with("2026-02-04")).collect();
    assert_eq!(on_day_3.len(), 2, "{unticketed:?}");
    assert!(
        on_day_3
            .iter()
            .all(|(_, run)| run.as_deref() == Some("2026-02-04T21:00:00Z")),
        "{unticketed:?}"
    );
    // The hunting query ran once, with no replay run.
    let hunting: Vec<&detect::Alert> = fast.alerts.iter().filter(|a| a.rule.id == "t-hunting").collect();
    assert_eq!(hunting.len(), 2);
    assert!(hunting.iter().all(|a| a.replay_run.is_none()));

    // The binary's `--replay` gives the same alerts.
    let o = Command::new(env!("CARGO_BIN_EXE_ratcatcher"))
        .args([
            "hunt",
            ev.to_str().unwrap(),
            "--rules",
            rules_dir.to_str().unwrap(),
            "--replay",
            "--format",
            "jsonl",
        ])
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(1), "{err}");
    assert!(err.contains("replay of 6 scheduled rules"), "{err}");
    assert!(err.contains("1 unscheduled rules once over all evidence"), "{err}");
    let mut cli: Vec<Value> = String::from_utf8_lossy(&o.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let key = |a: &Value| format!("{} {} {} {}", a["rule"]["id"], a["time"], a["tool"], a["replay_run"]);
    let mut lib: Vec<Value> = fast.alerts.iter().map(|a| serde_json::to_value(a).unwrap()).collect();
    cli.sort_by_key(key);
    lib.sort_by_key(key);
    let cli: Vec<String> = cli.iter().map(key).collect();
    let lib: Vec<String> = lib.iter().map(key).collect();
    assert_eq!(cli, lib);
}

#[test]
fn replay_flags_conflict_and_durations_must_be_positive() {
    let ev: PathBuf = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/hunt/evidence.jsonl");
    let ev = ev.to_str().unwrap();
    for extra in [
        &["--replay", "--now", "2026-03-03T00:00:00Z"][..],
        &["--replay", "--lookback", "1d"],
        &["--replay", "--all-time"],
        &["--lookback", "1d", "--all-time"],
        &["--lookback", "0d"],
        &["--lookback", "-1d"],
    ] {
        let mut args = vec!["hunt", ev];
        args.extend_from_slice(extra);
        let o = Command::new(env!("CARGO_BIN_EXE_ratcatcher"))
            .args(&args)
            .output()
            .unwrap();
        assert_eq!(o.status.code(), Some(2), "{extra:?}");
        let err = String::from_utf8_lossy(&o.stderr);
        assert!(err.starts_with("error: "), "{extra:?}: {err}");
    }
}
