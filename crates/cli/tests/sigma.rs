//! `ratcatcher hunt --sigma` and `ratcatcher convert` end to end: Sigma alerts in the pack's
//! formats with id, title, level and tags; level and status filters; correlations; Sigma run
//! directly against Sigma converted to KQL and run by the engine; KQL pack rules to Sigma.

use serde_json::Value;
use std::collections::BTreeMap;
use std::path::Path;
use std::process::{Command, Output};

fn ratcatcher(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_ratcatcher"))
        .args(args)
        .output()
        .expect("run ratcatcher")
}

fn data(rel: &str) -> String {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data/sigma")
        .join(rel)
        .display()
        .to_string()
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
    let (ev, rules) = (data("evidence/ws1-sysmon.xml"), data("rules"));
    let mut args = vec!["hunt", ev.as_str(), "--sigma", rules.as_str()];
    if !extra.contains(&"--format") {
        args.extend_from_slice(&["--format", "jsonl"]);
    }
    args.extend_from_slice(extra);
    ratcatcher(&args)
}

/// Alerts per rule title.
fn by_title(alerts: &[Value]) -> BTreeMap<String, usize> {
    let mut m = BTreeMap::new();
    for a in alerts {
        *m.entry(a["rule"]["name"].as_str().unwrap_or("?").to_string())
            .or_default() += 1;
    }
    m
}

#[test]
fn sigma_alerts_carry_id_title_level_tags_and_the_event() {
    let o = hunt(&[]);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    // The broken rule is reported by file and field; the others run.
    assert!(
        stderr(&o).contains("broken.yml: detection.selection.Image|nosuchmodifier"),
        "{}",
        stderr(&o)
    );
    let alerts = jsonl(&o);
    let titles = by_title(&alerts);
    assert_eq!(titles.get("AnyDesk Run From a Temp Folder"), Some(&2), "{titles:?}");
    assert_eq!(titles.get("AnyDesk Silent Switch"), Some(&1), "{titles:?}");
    assert_eq!(titles.get("Connection to an AnyDesk Relay"), Some(&1), "{titles:?}");
    // Only the inbound connection (Sysmon `Initiated` false), not the outbound one to the relay.
    assert_eq!(titles.get("Incoming AnyDesk Connection"), Some(&1), "{titles:?}");
    assert_eq!(
        titles.get("AnyDesk Run From Temp Twice on One Host"),
        Some(&1),
        "{titles:?}"
    );
    // deprecated rules do not run by default
    assert!(
        !titles.contains_key("Notepad Started (deprecated test rule)"),
        "{titles:?}"
    );
    let a = alerts
        .iter()
        .find(|a| a["rule"]["name"] == "AnyDesk Run From a Temp Folder")
        .expect("temp alert");
    assert_eq!(a["rule"]["id"], "6f0c1a8e-3b7d-4c2e-9a51-0d3e7b2f4a10");
    assert_eq!(a["rule"]["level"], "high");
    assert_eq!(a["rule"]["severity"], "High");
    assert_eq!(
        a["rule"]["tags"],
        serde_json::json!(["attack.command-and-control", "attack.t1219"])
    );
    assert_eq!(a["rule"]["techniques"], serde_json::json!(["T1219"]));
    assert_eq!(a["rule"]["tactics"], serde_json::json!(["CommandAndControl"]));
    assert_eq!(a["time"], "2026-03-02T09:00:00Z");
    assert_eq!(a["device"], "WS1.corp.example");
    assert_eq!(a["account"], "CORP\\bob");
    assert_eq!(a["tool"], "AnyDesk");
    assert_eq!(a["signal"], "process");
    assert_eq!(a["row"]["EventID"], 1);
    assert_eq!(a["row"]["Image"], r"C:\Users\bob\AppData\Local\Temp\AnyDesk.exe");
    // The correlation: critical is reported as High, with both matched events.
    let c = alerts
        .iter()
        .find(|a| a["rule"]["name"] == "AnyDesk Run From Temp Twice on One Host")
        .expect("correlation alert");
    assert_eq!(c["rule"]["level"], "critical");
    assert_eq!(c["rule"]["severity"], "High");
    assert_eq!(c["signal"], "correlation");
    assert_eq!(c["device"], "WS1.corp.example");
    assert_eq!(c["row"]["Value"], 2.0);
    let events = c["events"].as_array().expect("events");
    assert_eq!(events.len(), 2);
    assert_eq!(events[1]["Timestamp"], "2026-03-02T09:05:00Z");
    assert_eq!(events[0]["Tool"], "AnyDesk");
}

#[test]
fn min_level_and_status_filters() {
    let o = hunt(&["--min-level", "high"]);
    let titles = by_title(&jsonl(&o));
    assert_eq!(
        titles.keys().cloned().collect::<Vec<_>>(),
        vec![
            "AnyDesk Run From Temp Twice on One Host",
            "AnyDesk Run From a Temp Folder"
        ],
        "{titles:?}"
    );
    let o = hunt(&["--status", "all"]);
    let titles = by_title(&jsonl(&o));
    assert_eq!(
        titles.get("Notepad Started (deprecated test rule)"),
        Some(&1),
        "{titles:?}"
    );
    let o = hunt(&["--status", "stable"]);
    let titles = by_title(&jsonl(&o));
    assert_eq!(
        titles.keys().cloned().collect::<Vec<_>>(),
        vec!["Connection to an AnyDesk Relay"]
    );
    let o = hunt(&["--min-level", "severe"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("--min-level"), "{}", stderr(&o));
    let o = hunt(&["--status", "shiny"]);
    assert_eq!(o.status.code(), Some(2));
}

#[test]
fn csv_timesketch_and_table_formats() {
    let o = hunt(&["--format", "csv"]);
    let text = stdout(&o);
    assert!(text.starts_with("time,severity,rule_id,rule_name,"), "{text}");
    assert!(
        text.contains("6f0c1a8e-3b7d-4c2e-9a51-0d3e7b2f4a10,AnyDesk Run From a Temp Folder"),
        "{text}"
    );
    let o = hunt(&["--format", "timesketch"]);
    let lines = jsonl(&o);
    assert!(
        lines
            .iter()
            .all(|l| l["datetime"].is_string() && l["message"].is_string())
    );
    assert!(lines.iter().any(|l| {
        l["message"]
            .as_str()
            .is_some_and(|m| m.starts_with("[High] AnyDesk Run From a Temp Folder on WS1.corp.example"))
    }));
    let o = hunt(&["--format", "table"]);
    assert!(stdout(&o).contains("== WS1.corp.example"), "{}", stdout(&o));
}

#[test]
fn bad_input_is_an_error_not_a_panic() {
    let ev = data("evidence/ws1-sysmon.xml");
    let o = ratcatcher(&["hunt", &ev, "--sigma", "/nonexistent/rules"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("no such file"), "{}", stderr(&o));
    let broken = data("rules/broken.yml");
    let o = ratcatcher(&["hunt", &ev, "--sigma", &broken]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("no Sigma rules"), "{}", stderr(&o));
    // Garbage evidence, and nothing else: an error naming it, never a clean run.
    let dir = tempfile::tempdir().expect("tempdir");
    let junk = dir.path().join("junk.evtx");
    std::fs::write(&junk, b"ElfFile\0 this is not really an evtx file").expect("write");
    let rules = data("rules");
    let o = ratcatcher(&[
        "hunt",
        &junk.display().to_string(),
        "--sigma",
        &rules,
        "--format",
        "jsonl",
    ]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(stderr(&o).contains("no evidence could be read"), "{}", stderr(&o));
    assert!(stderr(&o).contains("junk.evtx"), "{}", stderr(&o));
}

/// The alerts' times, sorted.
fn alert_times(o: &Output) -> Vec<String> {
    let mut t: Vec<String> = jsonl(o)
        .iter()
        .map(|a| a["time"].as_str().unwrap_or("?").to_string())
        .collect();
    t.sort();
    t
}

/// Runs a KQL file over the evidence and returns the rows' Timestamps.
fn kql_times(query_file: &Path) -> Vec<String> {
    let ev = data("evidence/ws1-sysmon.xml");
    let o = ratcatcher(&[
        "query",
        "-f",
        &query_file.display().to_string(),
        "-i",
        &ev,
        "--format",
        "jsonl",
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let mut t: Vec<String> = jsonl(&o)
        .iter()
        .map(|r| r["Timestamp"].as_str().unwrap_or("?").to_string())
        .collect();
    t.sort();
    t
}

#[test]
fn sigma_direct_equals_sigma_converted_to_kql() {
    let dir = tempfile::tempdir().expect("tempdir");
    let ev = data("evidence/ws1-sysmon.xml");
    for rule in [
        "anydesk_temp.yml",
        "anydesk_silent.yml",
        "anydesk_relay.yml",
        "anydesk_incoming.yml",
    ] {
        let path = data(&format!("rules/{rule}"));
        let o = ratcatcher(&["convert", "--to", "kql", "--plan", &path]);
        assert_eq!(o.status.code(), Some(0), "{rule}: {}", stderr(&o));
        let q = dir.path().join(format!("{rule}.kql"));
        std::fs::write(&q, stdout(&o)).expect("write query");
        let via_kql = kql_times(&q);
        let o = ratcatcher(&["hunt", &ev, "--sigma", &path, "--format", "jsonl", "--status", "all"]);
        let direct = alert_times(&o);
        assert!(!direct.is_empty(), "{rule}: no alerts");
        // The engine prints full precision; compare the instants.
        let norm = |v: &[String]| -> Vec<String> {
            v.iter()
                .map(|t| {
                    t.trim_end_matches('Z')
                        .trim_end_matches('0')
                        .trim_end_matches('.')
                        .to_string()
                })
                .collect()
        };
        assert_eq!(
            norm(&direct),
            norm(&via_kql),
            "{rule}: Sigma direct vs KQL\n{}",
            stdout(&o)
        );
    }
}

#[test]
fn securityevent_variant_and_refusals() {
    let path = data("rules/anydesk_temp.yml");
    let o = ratcatcher(&[
        "convert",
        "--to",
        "kql",
        "--table-set",
        "securityevent",
        "--plan",
        &path,
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let q = stdout(&o);
    assert!(q.contains("SecurityEvent\n| where EventID in (4688)"), "{q}");
    assert!(q.contains(r#"NewProcessName endswith @"\AnyDesk.exe""#), "{q}");
    // OriginalFileName has no SecurityEvent column: refused by name, exit 1.
    let o = ratcatcher(&[
        "convert",
        "--to",
        "kql",
        "--table-set",
        "securityevent",
        &data("rules/anydesk_silent.yml"),
    ]);
    assert_eq!(o.status.code(), Some(1));
    assert!(
        stderr(&o).contains("field `OriginalFileName` has no column in SecurityEvent"),
        "{}",
        stderr(&o)
    );
}

#[test]
fn pack_rule_to_sigma_round_trips() {
    let dir = tempfile::tempdir().expect("tempdir");
    let pack = data("pack/anydesk-temp.yaml");
    let o = ratcatcher(&["convert", "--to", "sigma", &pack]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let y = stdout(&o);
    assert!(y.contains("id: '7a1c9e52-0f3b-4d2a-b6e4-2c8d9f1a0b3e'"), "{y}");
    assert!(y.contains("category: process_creation"), "{y}");
    assert!(y.contains("- 'attack.t1219'"), "{y}");
    assert!(y.contains("level: high"), "{y}");
    let sigma_file = dir.path().join("anydesk-temp.yml");
    std::fs::write(&sigma_file, &y).expect("write");
    // The pack rule and its Sigma form raise alerts on the same events.
    let ev = data("evidence/ws1-sysmon.xml");
    let o = ratcatcher(&["hunt", &ev, "--rules", &pack, "--all-time", "--format", "jsonl"]);
    let pack_times = alert_times(&o);
    let o = ratcatcher(&[
        "hunt",
        &ev,
        "--sigma",
        &sigma_file.display().to_string(),
        "--format",
        "jsonl",
    ]);
    let sigma_times = alert_times(&o);
    assert_eq!(pack_times.len(), 2, "{pack_times:?}");
    let norm = |v: &[String]| -> Vec<String> { v.iter().map(|t| t.get(..19).unwrap_or(t).to_string()).collect() };
    assert_eq!(norm(&pack_times), norm(&sigma_times));
    // And back to KQL: it plans.
    let o = ratcatcher(&["convert", "--to", "kql", "--plan", &sigma_file.display().to_string()]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    // The built-in pack reads catalog tables: not expressible, named with the reason.
    let o = ratcatcher(&["convert", "--to", "sigma", "rat-process-by-name"]);
    assert_eq!(o.status.code(), Some(1));
    assert!(
        stderr(&o).contains("not expressible in Sigma: rat-process-by-name: "),
        "{}",
        stderr(&o)
    );
}

#[test]
fn evtx_read_directly_when_the_corpus_is_present() {
    let dir = Path::new("/work/shared/corpus/evtx-rat");
    let rules = Path::new("/work/shared/corpus/sigma/rules-t1219");
    if !dir.is_dir() || !rules.is_dir() {
        eprintln!("corpus not present: skipped");
        return;
    }
    let evtx: Vec<_> = walk(dir)
        .into_iter()
        .filter(|p| p.extension().is_some_and(|e| e == "evtx"))
        .collect();
    assert!(!evtx.is_empty());
    // Inputs first: `--sigma` takes every value that follows it.
    let args: Vec<String> = ["hunt"]
        .iter()
        .map(|s| s.to_string())
        .chain(evtx.iter().map(|p| p.display().to_string()))
        .chain(["--format", "jsonl", "--sigma"].iter().map(|s| s.to_string()))
        .chain([rules.display().to_string()])
        .collect();
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let o = ratcatcher(&args);
    let alerts = jsonl(&o);
    assert!(
        alerts.iter().any(|a| a["rule"]["name"]
            .as_str()
            .is_some_and(|n| n.contains("Remote Access Tool Services"))
            && a["row"]["ServiceName"]
                .as_str()
                .is_some_and(|s| s.contains("TeamViewer"))),
        "{}",
        stderr(&o)
    );
}

fn walk(dir: &Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    if let Ok(rd) = std::fs::read_dir(dir) {
        for e in rd.flatten() {
            let p = e.path();
            if p.is_dir() {
                out.extend(walk(&p));
            } else {
                out.push(p);
            }
        }
    }
    out
}
