//! Terminal behaviour end to end: colour (`NO_COLOR`, `--color`), tables fitted to `COLUMNS`,
//! hosts listed ignoring case, the same flag names across commands, exit codes at the end of
//! every `--help`, and Timesketch times.

use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// `ratcatcher` with `env` set, and `COLUMNS`/`NO_COLOR` only as the test says.
fn run_env(args: &[&str], env: &[(&str, &str)]) -> Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_ratcatcher"));
    cmd.args(args).env_remove("COLUMNS").env_remove("NO_COLOR");
    for (k, v) in env {
        cmd.env(k, v);
    }
    cmd.output().expect("run ratcatcher")
}

fn run(args: &[&str]) -> Output {
    run_env(args, &[])
}

fn data(rel: &str) -> String {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data/hunt")
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

/// One process event of TeamViewer (a catalog tool) on `host` at `time` with `cmdline`.
fn event(host: &str, time: &str, cmdline: &str) -> String {
    serde_json::json!({
        "Type": "DeviceProcessEvents", "Timestamp": time, "DeviceId": host, "DeviceName": host,
        "ActionType": "ProcessCreated", "FileName": "TeamViewer.exe",
        "FolderPath": "C:\\Program Files\\TeamViewer\\TeamViewer.exe", "ProcessCommandLine": cmdline,
        "AccountDomain": "contoso", "AccountName": "helpdesk1", "InitiatingProcessFileName": "explorer.exe",
        "ReportId": 1
    })
    .to_string()
}

/// Writes `lines` as evidence in `dir`.
fn evidence(dir: &Path, lines: &[String]) -> PathBuf {
    let p = dir.join("evidence.jsonl");
    std::fs::write(&p, lines.join("\n") + "\n").unwrap();
    p
}

/// The test rule (`tests/data/hunt/rules`) with `edit` applied to its text, in `dir/rules`.
fn rule_with(dir: &Path, edit: impl Fn(String) -> String) -> PathBuf {
    let rules = dir.join("rules");
    std::fs::create_dir_all(&rules).unwrap();
    let text = std::fs::read_to_string(data("rules/t-by-name.yaml")).unwrap();
    std::fs::write(rules.join("t-by-name.yaml"), edit(text)).unwrap();
    rules
}

fn hunt_table(ev: &str, rules: &str, extra: &[&str], env: &[(&str, &str)]) -> Output {
    let mut args = vec!["hunt", ev, "--rules", rules, "--format", "table"];
    args.extend_from_slice(extra);
    run_env(&args, env)
}

#[test]
fn colour_follows_no_color_and_the_flag() {
    let (ev, rules) = (data("evidence.jsonl"), data("rules"));
    // Not a terminal: plain, whatever NO_COLOR says.
    let plain = hunt_table(&ev, &rules, &[], &[]);
    assert_eq!(plain.status.code(), Some(1), "{}", stderr(&plain));
    assert!(!stdout(&plain).contains('\x1b'), "{}", stdout(&plain));
    // Forced: severities in colour, the padding outside the codes; the flag beats NO_COLOR.
    for env in [&[][..], &[("NO_COLOR", "1")][..]] {
        let o = hunt_table(&ev, &rules, &["--color", "always"], env);
        let text = stdout(&o);
        assert!(text.contains("highest \x1b[33mMedium\x1b[0m"), "{text}");
        assert!(text.contains("\x1b[1m== HD-01\x1b[0m"), "{text}");
    }
    // The global flag goes before the subcommand too, and `never` is plain.
    let o = run(&["--color", "never", "hunt", &ev, "--rules", &rules, "--format", "table"]);
    assert_eq!(stdout(&o), stdout(&plain));
    // Without colour the text is the same, codes aside.
    let coloured = stdout(&hunt_table(&ev, &rules, &["--color", "always"], &[]));
    let stripped = coloured
        .split('\x1b')
        .enumerate()
        .map(|(i, part)| {
            if i == 0 {
                part
            } else {
                &part[part.find('m').unwrap() + 1..]
            }
        })
        .collect::<String>();
    assert_eq!(stripped, stdout(&plain));
}

#[test]
fn check_diagnostics_colour_only_when_asked() {
    let dir = tempfile::tempdir().unwrap();
    let bad = dir.path().join("bad.kql");
    std::fs::write(&bad, "T\n| wher x > 1\n").unwrap();
    let bad = bad.to_str().unwrap();
    let o = run(&["check", bad]);
    assert_eq!(o.status.code(), Some(1));
    assert!(stdout(&o).contains("did you mean `where`?") && !stdout(&o).contains('\x1b'));
    let o = run_env(&["check", "--color", "always", bad], &[("NO_COLOR", "1")]);
    assert_eq!(o.status.code(), Some(1));
    assert!(stdout(&o).contains('\x1b'), "{}", stdout(&o));
}

/// On a real terminal (a pseudo-terminal from `script`, where available): colour by default,
/// none with NO_COLOR set, colour again with NO_COLOR empty.
#[test]
fn a_terminal_is_coloured_unless_no_color() {
    if Command::new("script").arg("--version").output().is_err() {
        eprintln!("skipped: no `script` for a pseudo-terminal");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let bad = dir.path().join("bad.kql");
    std::fs::write(&bad, "T\n| wher x > 1\n").unwrap();
    let in_pty = |no_color: Option<&str>| {
        let line = format!("'{}' check '{}'", env!("CARGO_BIN_EXE_ratcatcher"), bad.display());
        let mut cmd = Command::new("script");
        cmd.args(["-qec", &line, "/dev/null"]).env_remove("NO_COLOR");
        if let Some(v) = no_color {
            cmd.env("NO_COLOR", v);
        }
        let o = cmd.output().expect("run script");
        String::from_utf8_lossy(&o.stdout).into_owned()
    };
    let text = in_pty(None);
    if !text.contains("did you mean") {
        eprintln!("skipped: `script` gave no output: {text}");
        return;
    }
    assert!(text.contains('\x1b'), "{text}");
    assert!(!in_pty(Some("1")).contains('\x1b'));
    assert!(in_pty(Some("")).contains('\x1b'));
}

#[test]
fn tables_fit_columns_and_pipes_keep_their_form() {
    let dir = tempfile::tempdir().unwrap();
    let long = format!("\"TeamViewer.exe\" --id {} --password secret", "x".repeat(150));
    let ev = evidence(dir.path(), &[event("HD-01", "2026-03-03T09:00:00Z", &long)]);
    let (ev, rules) = (ev.to_str().unwrap(), data("rules"));
    // A pipe without COLUMNS: the full rows, as before (the detail clipped at 90 characters).
    let full = stdout(&hunt_table(ev, &rules, &[], &[]));
    let row = full.lines().find(|l| l.contains("--id")).unwrap();
    assert!(row.chars().count() > 150, "{row}");
    for columns in ["80", "120"] {
        let o = hunt_table(ev, &rules, &[], &[("COLUMNS", columns)]);
        let text = stdout(&o);
        let width: usize = columns.parse().unwrap();
        let rows: Vec<&str> = text
            .lines()
            .filter(|l| l.starts_with("     ") || l.contains("--id"))
            .collect();
        assert!(!rows.is_empty(), "{text}");
        for l in &rows {
            assert!(l.chars().count() <= width, "{columns} columns: {l:?}");
        }
        let detail = rows.iter().find(|l| l.contains("--id")).unwrap();
        assert!(detail.ends_with('…'), "{detail}");
        assert!(text.contains("2026-03-03T09:00:00"), "{text}");
    }
    // Query's table view narrows its widest column.
    let o = run_env(
        &[
            "query",
            "DeviceProcessEvents | project DeviceName, ProcessCommandLine",
            ev,
            "--format",
            "table",
        ],
        &[("COLUMNS", "50")],
    );
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let text = stdout(&o);
    assert!(text.lines().all(|l| l.chars().count() <= 50), "{text}");
    assert!(text.contains('…'), "{text}");
}

#[test]
fn hosts_are_listed_ignoring_case() {
    let dir = tempfile::tempdir().unwrap();
    let hosts = ["beta-01", "Gamma-01", "alpha-01", "Alpha-01"];
    let lines: Vec<String> = hosts
        .iter()
        .enumerate()
        .map(|(i, h)| event(h, &format!("2026-03-03T0{i}:00:00Z"), "\"TeamViewer.exe\""))
        .collect();
    let ev = evidence(dir.path(), &lines);
    let o = hunt_table(ev.to_str().unwrap(), &data("rules"), &[], &[]);
    let text = stdout(&o);
    let listed: Vec<&str> = text
        .lines()
        .filter_map(|l| l.strip_prefix("== "))
        .map(|l| l.split_whitespace().next().unwrap())
        .collect();
    assert_eq!(listed, ["Alpha-01", "alpha-01", "beta-01", "Gamma-01"], "{text}");
    // The time summary's hosts in the same order (it counts names differing in case as one host).
    let spans: Vec<&str> = text
        .lines()
        .filter(|l| l.starts_with("  ") && l.contains(" event") && l.contains("Z  ("))
        .map(|l| l.split_whitespace().next().unwrap())
        .collect();
    assert_eq!(spans, ["Alpha-01", "beta-01", "Gamma-01"], "{text}");
}

#[test]
fn flag_names_agree_across_commands() {
    let dir = tempfile::tempdir().unwrap();
    let ev = data("evidence.jsonl");
    let q = "DeviceProcessEvents | summarize n = count()";
    // query: positional inputs, `-i` still accepted, `-f` with positional inputs.
    let qf = dir.path().join("q.kql");
    std::fs::write(&qf, q).unwrap();
    let qf = qf.to_str().unwrap();
    for args in [
        vec!["query", q, ev.as_str()],
        vec!["query", "-i", ev.as_str(), q],
        vec!["query", "--input", ev.as_str(), q],
        vec!["query", "-f", qf, ev.as_str()],
    ] {
        let mut args = args.clone();
        args.extend(["--format", "jsonl"]);
        let o = run(&args);
        assert_eq!(o.status.code(), Some(0), "{args:?}: {}", stderr(&o));
        assert_eq!(jsonl(&o)[0]["n"], 3, "{args:?}");
    }
    // ingest and convert: -o/--output, --out an alias.
    for (i, flag) in ["-o", "--output", "--out"].iter().enumerate() {
        let out = dir.path().join(format!("ds{i}"));
        let o = run(&["ingest", ev.as_str(), flag, out.to_str().unwrap()]);
        assert_eq!(o.status.code(), Some(0), "{flag}: {}", stderr(&o));
        assert!(out.is_dir(), "{flag}");
        let kql = dir.path().join(format!("rule{i}.kql"));
        let rule = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/sigma/rules/anydesk_temp.yml");
        let o = run(&[
            "convert",
            "--to",
            "kql",
            rule.to_str().unwrap(),
            flag,
            kql.to_str().unwrap(),
        ]);
        assert_eq!(o.status.code(), Some(0), "{flag}: {}", stderr(&o));
        assert!(std::fs::read_to_string(&kql).unwrap().contains("| where"), "{flag}");
    }
    // --min-severity takes critical: high and above (Sentinel's scale ends at high).
    let high = rule_with(dir.path(), |t| t.replace("severity: Medium", "severity: High"));
    let high = high.to_str().unwrap();
    for (min, rules, alerts) in [
        ("critical", high, 2),
        ("high", high, 2),
        ("critical", &data("rules")[..], 0),
        ("medium", &data("rules")[..], 2),
    ] {
        let o = run(&[
            "hunt",
            ev.as_str(),
            "--rules",
            rules,
            "--min-severity",
            min,
            "--format",
            "jsonl",
        ]);
        assert_eq!(jsonl(&o).len(), alerts, "{min}: {}", stderr(&o));
        assert_eq!(o.status.code(), Some(if alerts > 0 { 1 } else { 0 }));
    }
    let o = run(&["hunt", ev.as_str(), "--min-severity", "severe"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("critical"), "{}", stderr(&o));
}

#[test]
fn every_help_ends_with_its_exit_codes() {
    let commands = [
        vec![],
        vec!["check"],
        vec!["query"],
        vec!["ingest"],
        vec!["tables"],
        vec!["hunt"],
        vec!["test"],
        vec!["explain"],
        vec!["convert"],
        vec!["catalog"],
    ];
    for cmd in commands {
        for help in ["--help", "-h"] {
            let mut args = cmd.clone();
            args.push(help);
            let o = run(&args);
            assert_eq!(o.status.code(), Some(0), "{args:?}");
            let text = stdout(&o);
            let at = text
                .rfind("\nExit codes:\n")
                .unwrap_or_else(|| panic!("{args:?}:\n{text}"));
            assert!(text.find("Options:").is_some_and(|o| o < at), "{args:?}:\n{text}");
            let codes = &text[at..];
            assert!(codes.contains("\n  0  "), "{args:?}:\n{codes}");
            if ["hunt", "query", "ingest", "tables"].contains(&cmd.first().copied().unwrap_or("")) {
                assert!(codes.contains("\n  3  evidence incomplete"), "{args:?}:\n{codes}");
                assert!(codes.contains("--allow-partial"), "{args:?}:\n{codes}");
            }
        }
    }
}

/// `datetime` like `2026-03-03T09:00:00.123456Z`; `timestamp` its microseconds.
fn assert_timesketch_time(line: &Value) -> i64 {
    let dt = line["datetime"].as_str().unwrap_or_else(|| panic!("{line}"));
    let ok = dt.len() == 27
        && dt.ends_with('Z')
        && dt.as_bytes()[19] == b'.'
        && dt[20..26].bytes().all(|b| b.is_ascii_digit());
    assert!(ok, "datetime {dt:?}");
    let parsed = chrono::DateTime::parse_from_rfc3339(dt).unwrap();
    assert_eq!(line["timestamp"].as_i64(), Some(parsed.timestamp_micros()), "{line}");
    parsed.timestamp_micros()
}

#[test]
fn timesketch_times_have_one_form_and_are_never_empty() {
    let (ev, rules) = (data("evidence.jsonl"), data("rules"));
    let o = run(&["hunt", &ev, "--rules", &rules, "--format", "timesketch"]);
    let lines = jsonl(&o);
    assert_eq!(lines.len(), 2, "{}", stderr(&o));
    let tv = lines.iter().find(|l| l["device"] == "HD-01").unwrap();
    assert_eq!(tv["datetime"], "2026-03-03T09:00:00.123456Z");
    assert_eq!(tv["timestamp_desc"], "Event Time");
    let fin = lines.iter().find(|l| l["device"] == "FIN-01").unwrap();
    assert_eq!(fin["datetime"], "2026-03-03T10:00:00.000000Z");
    for l in &lines {
        assert_timesketch_time(l);
    }
    // A custom rule without a time column: the run's anchor (the newest event).
    let dir = tempfile::tempdir().unwrap();
    let untimed = rule_with(dir.path(), |t| t.replace("project Timestamp, ", "project "));
    let o = run(&[
        "hunt",
        &ev,
        "--rules",
        untimed.to_str().unwrap(),
        "--format",
        "timesketch",
    ]);
    let lines = jsonl(&o);
    assert_eq!(lines.len(), 2, "{}", stderr(&o));
    for l in &lines {
        assert_eq!(l["datetime"], "2026-03-03T10:05:00.000000Z", "{l}");
        assert_eq!(l["timestamp_desc"], "Hunt Anchor Time", "{l}");
        assert_timesketch_time(l);
    }
}
