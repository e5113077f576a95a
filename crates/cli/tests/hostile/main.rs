//! Hostile evidence, rules and tuning, built at test time (nothing large in git). Each case runs
//! `ratcatcher` as a user would, next to good evidence, and asserts the exit code, the message
//! naming the culprit, and that the good evidence was still hunted in full.

use serde_json::Value;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::OnceLock;

fn ratcatcher(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_ratcatcher"))
        .args(args)
        .output()
        .expect("run ratcatcher")
}

fn repo(rel: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..").join(rel)
}

/// The bundled example evidence: the good input every case hunts next to the hostile one.
fn good() -> String {
    repo("examples/evidence").display().to_string()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// The `{"summary": ...}` object, the last line on stderr of the machine formats.
fn summary(o: &Output) -> Value {
    let err = stderr(o);
    let line = err
        .lines()
        .rev()
        .find(|l| l.starts_with("{\"summary\""))
        .unwrap_or_else(|| panic!("no summary line on stderr:\n{err}"));
    serde_json::from_str::<Value>(line).expect("summary JSON")["summary"].clone()
}

/// Alerts of a JSON-lines run, as (rule, device, time) for comparison.
fn alert_keys(o: &Output) -> Vec<(String, String, String)> {
    String::from_utf8_lossy(&o.stdout)
        .lines()
        .map(|l| {
            let v: Value = serde_json::from_str(l).expect("alert JSON");
            (
                v["rule"]["id"].as_str().unwrap_or_default().to_string(),
                v["device"].as_str().unwrap_or_default().to_string(),
                v["time"].as_str().unwrap_or_default().to_string(),
            )
        })
        .collect()
}

/// The example evidence hunted alone: what every case must still find.
fn baseline() -> &'static Vec<(String, String, String)> {
    static BASE: OnceLock<Vec<(String, String, String)>> = OnceLock::new();
    BASE.get_or_init(|| {
        let o = ratcatcher(&["hunt", &good(), "--format", "jsonl"]);
        assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
        let keys = alert_keys(&o);
        assert!(keys.len() > 20, "the examples raise alerts");
        keys
    })
}

/// Hunts `bad` next to the good evidence; asserts the good evidence gave all its alerts.
fn hunt_with(bad: &[&str], extra: &[&str]) -> Output {
    let g = good();
    let mut args = vec!["hunt", "--format", "jsonl"];
    args.extend_from_slice(bad);
    args.push(g.as_str());
    args.extend_from_slice(extra);
    let o = ratcatcher(&args);
    let base = baseline();
    let got = alert_keys(&o);
    for k in base {
        assert!(
            got.contains(k),
            "alert {k:?} of the good evidence is missing; stderr:\n{}",
            stderr(&o)
        );
    }
    o
}

fn unread_kinds(s: &Value) -> Vec<(String, String)> {
    s["evidence"]["unread"]
        .as_array()
        .expect("unread")
        .iter()
        .map(|u| {
            (
                u["path"].as_str().unwrap_or_default().to_string(),
                u["kind"].as_str().unwrap_or_default().to_string(),
            )
        })
        .collect()
}

fn assert_incomplete(o: &Output, culprit: &Path, kind: &str) {
    assert_eq!(
        o.status.code(),
        Some(3),
        "incomplete evidence exits 3; stderr:\n{}",
        stderr(o)
    );
    let s = summary(o);
    assert_eq!(s["status"], "incomplete");
    assert_eq!(s["evidence"]["complete"], false);
    let culprit = culprit.display().to_string();
    assert!(
        unread_kinds(&s).contains(&(culprit.clone(), kind.to_string())),
        "{culprit} as {kind} in {:?}",
        unread_kinds(&s)
    );
    assert!(stderr(o).contains(&culprit), "stderr names {culprit}");
}

#[test]
fn unreadable_evidence_is_never_clean() {
    let dir = tempfile::tempdir().expect("tempdir");
    let empty = dir.path().join("empty.evtx");
    std::fs::write(&empty, b"").expect("write");
    let random = dir.path().join("random.evtx");
    let mut seed = 0x2545_f491_4f6c_dd1d_u64;
    let bytes: Vec<u8> = (0..50_000)
        .map(|_| {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            (seed >> 24) as u8
        })
        .collect();
    std::fs::write(&random, bytes).expect("write");
    let unknown_csv = dir.path().join("export.csv");
    let mut csv = String::from("Foo,Bar,Baz\n");
    for i in 0..100_000 {
        csv.push_str(&format!("{i},b,c\n"));
    }
    std::fs::write(&unknown_csv, csv).expect("write");
    for (bad, kind) in [
        (&empty, "empty"),
        (&random, "unrecognised"),
        (&unknown_csv, "unrecognised"),
    ] {
        let o = hunt_with(&[&bad.display().to_string()], &[]);
        assert_incomplete(&o, bad, kind);
        // --allow-partial: the alerts' exit status, the accounting still reported.
        let o = hunt_with(&[&bad.display().to_string()], &["--allow-partial"]);
        assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
        assert_eq!(summary(&o)["evidence"]["complete"], false);
    }
    // Nothing readable at all is an error, not a clean run.
    let o = ratcatcher(&["hunt", &empty.display().to_string(), "--format", "jsonl"]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(stderr(&o).contains("no evidence could be read"), "{}", stderr(&o));
}

#[test]
fn utf16_xml_and_json_lines_with_a_broken_first_line_are_read() {
    let dir = tempfile::tempdir().expect("tempdir");
    // Windows PowerShell 5 writes UTF-16 LE with a byte order mark.
    let xml = std::fs::read_to_string(repo("examples/evidence/wef/system.xml")).expect("example");
    let utf16 = dir.path().join("system-utf16.xml");
    let mut b = vec![0xFF, 0xFE];
    for u in xml.encode_utf16() {
        b.extend_from_slice(&u.to_le_bytes());
    }
    std::fs::write(&utf16, b).expect("write");
    let o = ratcatcher(&["hunt", &utf16.display().to_string(), "--format", "jsonl"]);
    let plain = ratcatcher(&[
        "hunt",
        &repo("examples/evidence/wef/system.xml").display().to_string(),
        "--format",
        "jsonl",
    ]);
    assert_eq!(o.status.code(), plain.status.code(), "{}", stderr(&o));
    assert_eq!(alert_keys(&o), alert_keys(&plain), "UTF-16 gives the same alerts");
    assert_eq!(summary(&o)["evidence"]["complete"], true);

    // JSON lines whose first line is torn: the rest is read, the torn line is counted.
    let jsonl = dir.path().join("events.jsonl");
    let mut text = String::from("{\"Timestamp\":\"2026-11-20T10:00:00Z\",\"DeviceName\":\"x\", BROKEN\n");
    for i in 0..3 {
        text.push_str(&format!(
            "{{\"Timestamp\":\"2026-11-20T10:00:0{i}Z\",\"DeviceName\":\"ws-{i}\",\"ActionType\":\"ProcessCreated\",\"FileName\":\"AnyDesk.exe\",\"FolderPath\":\"C:\\\\Users\\\\u\\\\Downloads\\\\AnyDesk.exe\",\"ProcessCommandLine\":\"AnyDesk.exe\",\"Type\":\"DeviceProcessEvents\"}}\n"
        ));
    }
    std::fs::write(&jsonl, text).expect("write");
    let o = hunt_with(&[&jsonl.display().to_string()], &[]);
    assert_eq!(
        o.status.code(),
        Some(3),
        "one record skipped: incomplete; {}",
        stderr(&o)
    );
    let s = summary(&o);
    let file = s["evidence"]["files"]
        .as_array()
        .expect("files")
        .iter()
        .find(|f| f["path"] == jsonl.display().to_string())
        .cloned()
        .expect("the JSON-lines file was read");
    assert_eq!((file["records"].as_u64(), file["skipped"].as_u64()), (Some(3), Some(1)));
    let err = stderr(&o);
    assert!(err.contains(&format!("{}: line 1", jsonl.display())), "{err}");
    let anydesk = alert_keys(&o).iter().filter(|k| k.1.starts_with("ws-")).count();
    assert!(anydesk >= 3, "the three AnyDesk starts are hunted");
}

#[test]
fn missing_paths_loops_and_bad_parquet_do_not_stop_the_others() {
    let dir = tempfile::tempdir().expect("tempdir");
    let missing = dir.path().join("no-such-folder");
    let o = hunt_with(&[&missing.display().to_string()], &[]);
    assert_incomplete(&o, &missing, "missing");

    // A folder with a symlink loop and a good file.
    let looped = dir.path().join("looped");
    std::fs::create_dir_all(looped.join("sub")).expect("mkdir");
    std::os::unix::fs::symlink(&looped, looped.join("sub/back")).expect("symlink");
    std::fs::copy(repo("examples/evidence/wef/system.xml"), looped.join("system.xml")).expect("copy");
    let o = ratcatcher(&["hunt", "--format", "jsonl", &looped.display().to_string(), &good()]);
    assert_eq!(o.status.code(), Some(3), "{}", stderr(&o));
    let s = summary(&o);
    assert!(
        unread_kinds(&s)
            .iter()
            .any(|(p, k)| p.contains("back") && k == "unreadable"),
        "{:?}",
        unread_kinds(&s)
    );
    assert!(stderr(&o).contains("symbolic link loop"), "{}", stderr(&o));

    // Parquet with a column that does not cast to its table's type, and epoch seconds.
    let pq = dir.path().join("DeviceProcessEvents.parquet");
    write_parquet(&pq);
    let o = hunt_with(
        &[&pq.display().to_string()],
        &["--report", &dir.path().join("r.json").display().to_string()],
    );
    let err = stderr(&o);
    assert!(!err.contains("arrow: Cast error"), "{err}");
    let report: Value =
        serde_json::from_str(&std::fs::read_to_string(dir.path().join("r.json")).expect("report")).expect("json");
    let file = report["summary"]["evidence"]["files"]
        .as_array()
        .expect("files")
        .iter()
        .find(|f| f["path"] == pq.display().to_string())
        .cloned()
        .expect("the Parquet file was read");
    assert_eq!(file["records"], 2);
    // The epoch seconds landed in 2026, not 1970: the AnyDesk start is hunted at its time.
    let keys = alert_keys(&o);
    assert!(
        keys.iter()
            .any(|k| k.1 == "pq-host" && k.2.starts_with("2026-11-20T10:00:00")),
        "{keys:?}"
    );
}

/// Two DeviceProcessEvents rows: `Timestamp` in epoch seconds, `ProcessId` as text one row of
/// which is no number.
fn write_parquet(path: &Path) {
    use datafusion::arrow::array::{ArrayRef, Int64Array, StringArray};
    use datafusion::arrow::record_batch::RecordBatch;
    use datafusion::parquet::arrow::ArrowWriter;
    use std::sync::Arc;
    let t = 1_795_168_800_i64; // 2026-11-20T10:00:00Z
    let cols: Vec<(&str, ArrayRef)> = vec![
        ("Timestamp", Arc::new(Int64Array::from(vec![t, t + 1]))),
        ("DeviceName", Arc::new(StringArray::from(vec!["pq-host", "pq-host"]))),
        (
            "ActionType",
            Arc::new(StringArray::from(vec!["ProcessCreated", "ProcessCreated"])),
        ),
        (
            "FileName",
            Arc::new(StringArray::from(vec!["AnyDesk.exe", "notepad.exe"])),
        ),
        (
            "FolderPath",
            Arc::new(StringArray::from(vec![
                "C:\\Users\\u\\Downloads\\AnyDesk.exe",
                "C:\\Windows\\notepad.exe",
            ])),
        ),
        (
            "ProcessCommandLine",
            Arc::new(StringArray::from(vec!["AnyDesk.exe", "notepad.exe"])),
        ),
        ("ProcessId", Arc::new(StringArray::from(vec!["not a number", "42"]))),
    ];
    let batch = RecordBatch::try_from_iter(cols).expect("batch");
    let mut w =
        ArrowWriter::try_new(std::fs::File::create(path).expect("create"), batch.schema(), None).expect("writer");
    w.write(&batch).expect("write");
    w.close().expect("close");
}

#[test]
fn a_lost_evtx_chunk_counts_its_records() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut gz = flate2::read::GzDecoder::new(
        std::fs::File::open(repo("crates/telemetry/tests/data/system-7045.evtx.gz")).expect("fixture"),
    );
    let mut bytes = Vec::new();
    gz.read_to_end(&mut bytes).expect("gunzip");
    // Chunk 3 holds records 340-457: destroy its header.
    let at = 4096 + 3 * 65536;
    let (first, last) = (
        u64::from_le_bytes(bytes[at + 24..at + 32].try_into().expect("8")),
        u64::from_le_bytes(bytes[at + 32..at + 40].try_into().expect("8")),
    );
    for b in &mut bytes[at..at + 8] {
        *b ^= 0xA5;
    }
    let evtx = dir.path().join("System.evtx");
    std::fs::write(&evtx, &bytes).expect("write");
    for sigma in [false, true] {
        let e = evtx.display().to_string();
        let rules = repo("crates/cli/tests/data/sigma/rules").display().to_string();
        let mut args = vec!["hunt", "--format", "jsonl", e.as_str()];
        if sigma {
            args.extend(["--sigma", rules.as_str()]);
        }
        let o = ratcatcher(&args);
        assert_eq!(o.status.code(), Some(3), "{}", stderr(&o));
        let s = summary(&o);
        assert_eq!(
            s["evidence"]["skipped_records"].as_u64(),
            Some(last - first + 1),
            "sigma={sigma}: the chunk's {} records, not 1; {}",
            last - first + 1,
            stderr(&o)
        );
        assert_eq!(s["evidence"]["records"].as_u64(), Some(1160 - (last - first + 1)));
    }
}

#[test]
fn output_paths_fail_before_the_scan_and_pipes_close_quietly() {
    let dir = tempfile::tempdir().expect("tempdir");
    let bad = dir.path().join("no/such/folder/alerts.jsonl");
    let o = ratcatcher(&["hunt", &good(), "-o", &bad.display().to_string()]);
    assert_eq!(o.status.code(), Some(2));
    let err = stderr(&o);
    assert!(err.contains(&bad.display().to_string()), "{err}");
    assert!(
        !err.contains("records from"),
        "failed before reading the evidence: {err}"
    );
    let o = ratcatcher(&["hunt", &good(), "-o", &dir.path().display().to_string()]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("is a folder"));

    // A good -o is written whole, and only at the end.
    let out = dir.path().join("alerts.jsonl");
    let o = ratcatcher(&["hunt", &good(), "-o", &out.display().to_string()]);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    let lines = std::fs::read_to_string(&out).expect("written").lines().count();
    assert_eq!(lines, baseline().len());
    assert_eq!(
        std::fs::read_dir(dir.path()).expect("ls").count(),
        1,
        "no temporary file left"
    );

    // The reader of stdout goes away at once: no "Broken pipe", exit 0.
    for args in [
        vec!["hunt", "--format", "jsonl"],
        vec!["query", "range x from 1 to 2000000 step 1", "--format", "jsonl"],
    ] {
        let mut args: Vec<String> = args.into_iter().map(String::from).collect();
        if args[0] == "hunt" {
            args.push(good());
        }
        let mut child = Command::new(env!("CARGO_BIN_EXE_ratcatcher"))
            .args(&args)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawn");
        drop(child.stdout.take());
        let mut err = String::new();
        child
            .stderr
            .take()
            .expect("stderr")
            .read_to_string(&mut err)
            .expect("read");
        let status = child.wait().expect("wait");
        assert_eq!(status.code(), Some(0), "{args:?}: {err}");
        assert!(!err.to_lowercase().contains("broken pipe"), "{args:?}: {err}");
    }
}

#[test]
fn tuning_that_would_do_too_much_or_nothing_is_refused() {
    let dir = tempfile::tempdir().expect("tempdir");
    let write = |name: &str, text: &str| {
        let p = dir.path().join(name);
        std::fs::write(&p, text).expect("write");
        p.display().to_string()
    };
    let everything = write("all.toml", "[[approve]]\nreason = \"oops\"\n");
    let o = ratcatcher(&["hunt", &good(), "--config", &everything]);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        stderr(&o).contains("oops") && stderr(&o).contains("everything = true"),
        "{}",
        stderr(&o)
    );
    let explicit = write(
        "all-explicit.toml",
        "[[approve]]\nreason = \"lab\"\neverything = true\n",
    );
    let o = ratcatcher(&["hunt", &good(), "--config", &explicit, "--format", "jsonl"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let s = summary(&o);
    assert_eq!(s["suppressions_over_90_percent"][0]["reason"], "lab");
    assert!(stderr(&o).contains("tuning `lab` suppressed"), "{}", stderr(&o));

    // Overnight business hours cover the night, not nothing.
    let night = write(
        "night.toml",
        "[business_hours]\ndays = [\"mon\",\"tue\",\"wed\",\"thu\",\"fri\",\"sat\",\"sun\"]\nstart = \"18:00\"\nend = \"08:00\"\n\n[[approve]]\nreason = \"night shift\"\nbusiness_hours = true\n",
    );
    let o = ratcatcher(&["hunt", &good(), "--config", &night, "--format", "jsonl"]);
    assert!(matches!(o.status.code(), Some(0 | 1)), "{}", stderr(&o));
    let s = summary(&o);
    let night_alerts = baseline()
        .iter()
        .filter(|k| {
            let hour: u32 = k.2.get(11..13).and_then(|h| h.parse().ok()).unwrap_or(12);
            !(8..18).contains(&hour)
        })
        .count();
    assert!(night_alerts > 0, "the examples have night-time alerts");
    assert_eq!(s["suppressed"].as_u64(), Some(night_alerts as u64), "{}", stderr(&o));

    for bad in [
        "--lookback=-5d",
        "--lookback=0s",
        "--rule-timeout=0s",
        "--rule-timeout=-1m",
    ] {
        let o = ratcatcher(&["hunt", &good(), bad]);
        assert_eq!(o.status.code(), Some(2), "{bad}");
        assert!(
            stderr(&o).contains(bad.split('=').next().unwrap_or(bad)),
            "{bad}: {}",
            stderr(&o)
        );
    }
}

/// A rule file holding `query`.
fn rule(dir: &Path, id: &str, query: &str) -> String {
    let p = dir.join(format!("{id}.yaml"));
    let mut f = std::fs::File::create(&p).expect("create");
    let n = id
        .bytes()
        .fold(7u64, |h, b| h.wrapping_mul(31).wrapping_add(u64::from(b)))
        % 1_000_000_000_000;
    writeln!(f, "id: 1c0a7b52-0000-4000-8000-{n:012}").expect("w");
    writeln!(f, "name: {id}\nseverity: Medium\nqueryFrequency: 1h\nqueryPeriod: 1h").expect("w");
    writeln!(f, "query: |").expect("w");
    for line in query.lines() {
        writeln!(f, "  {line}").expect("w");
    }
    p.display().to_string()
}

#[test]
fn untrusted_rules_are_bounded() {
    let dir = tempfile::tempdir().expect("tempdir");
    let rules = dir.path().join("rules");
    std::fs::create_dir(&rules).expect("mkdir");
    let secret = dir.path().join("secret.txt");
    std::fs::write(&secret, "root:x:0:0\n").expect("write");
    rule(
        &rules,
        "reads-a-secret",
        &format!(
            "externaldata(line:string) [@\"{}\"] with(format=\"txt\")\n| project Timestamp = now(), DeviceName = line",
            secret.display()
        ),
    );
    rule(
        &rules,
        "never-ends",
        "let a = range x from 1 to 100000 step 1 | extend k = 1;\na | join kind=inner (a) on k\n| summarize n = count()\n| project Timestamp = now(), DeviceName = tostring(n)",
    );
    rule(
        &rules,
        "anydesk",
        "DeviceProcessEvents\n| where FileName =~ \"AnyDesk.exe\"\n| project Timestamp, DeviceName",
    );
    let o = ratcatcher(&[
        "hunt",
        &good(),
        "--rules",
        &rules.display().to_string(),
        "--rule-timeout",
        "3s",
        "--format",
        "jsonl",
    ]);
    let err = stderr(&o);
    assert_eq!(o.status.code(), Some(2), "a rule failed: {err}");
    let s = summary(&o);
    let failed: Vec<String> = s["rules_failed"]
        .as_array()
        .expect("failed")
        .iter()
        .map(|f| {
            format!(
                "{}: {}",
                f["rule"].as_str().unwrap_or(""),
                f["error"].as_str().unwrap_or("")
            )
        })
        .collect();
    assert_eq!(failed.len(), 2, "{failed:?}");
    assert!(
        failed[0].starts_with("never-ends: ") && failed[0].contains("time limit"),
        "{failed:?}"
    );
    assert!(
        failed[1].starts_with("reads-a-secret: ") && failed[1].contains("outside"),
        "{failed:?}"
    );
    assert!(
        !String::from_utf8_lossy(&o.stdout).contains("root:x"),
        "the secret was not read"
    );
    assert!(s["alerts"].as_u64() > Some(0), "the good rule still ran: {err}");

    // --allow-read lets the rule read a folder the user names.
    let o = ratcatcher(&[
        "hunt",
        &good(),
        "--rules",
        &dir.path().join("rules/reads-a-secret.yaml").display().to_string(),
        "--allow-read",
        &dir.path().display().to_string(),
        "--format",
        "jsonl",
    ]);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    assert!(String::from_utf8_lossy(&o.stdout).contains("root:x"));

    // A cross join past the memory limit fails alone.
    let joins = dir.path().join("joins");
    std::fs::create_dir(&joins).expect("mkdir");
    rule(
        &joins,
        "cross-join",
        "let a = range x from 1 to 200000 step 1 | extend k = 1;\nlet b = range y from 1 to 200000 step 1 | extend k = 1;\na | join kind=inner b on k\n| project Timestamp = now(), DeviceName = tostring(x + y)",
    );
    rule(
        &joins,
        "anydesk",
        "DeviceProcessEvents\n| where FileName =~ \"AnyDesk.exe\"\n| project Timestamp, DeviceName",
    );
    let o = ratcatcher(&[
        "hunt",
        &good(),
        "--rules",
        &joins.display().to_string(),
        "--memory-limit",
        "64M",
        "--format",
        "jsonl",
    ]);
    let err = stderr(&o);
    assert_eq!(o.status.code(), Some(2), "{err}");
    let s = summary(&o);
    assert_eq!(s["rules_failed"][0]["rule"], "cross-join", "{err}");
    assert!(s["alerts"].as_u64() > Some(0), "{err}");
}

#[test]
fn diagnostics_stay_short_and_fast() {
    let dir = tempfile::tempdir().expect("tempdir");
    let big = dir.path().join("big.kql");
    let mut q = String::from("DeviceProcessEvents | where ");
    while q.len() < 1_000_000 {
        q.push_str("FileName == \"a\" or ");
    }
    q.push_str("FileName == \"b\" | wher x");
    std::fs::write(&big, &q).expect("write");
    let deep = dir.path().join("deep.kql");
    std::fs::write(
        &deep,
        format!("T | where {}x{}", "(".repeat(40_000), ")".repeat(40_000)),
    )
    .expect("write");
    for f in [&big, &deep] {
        let o = ratcatcher(&["check", &f.display().to_string()]);
        assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
        let out = o.stdout.len() + o.stderr.len();
        assert!(out < 20_000, "{}: {out} bytes of diagnostics", f.display());
    }
}

#[test]
fn very_long_rules_run_or_fail_cleanly() {
    let dir = tempfile::tempdir().expect("tempdir");
    let rules = dir.path().join("rules");
    std::fs::create_dir(&rules).expect("mkdir");
    // 5,000 chained filters (about 150 KB), and a 100,000-term `or`.
    let mut long = String::from("DeviceProcessEvents\n");
    for _ in 0..5000 {
        long.push_str("| where isnotempty(FileName)\n");
    }
    long.push_str("| where FileName =~ \"AnyDesk.exe\"\n| project Timestamp, DeviceName");
    rule(&rules, "many-wheres", &long);
    let terms: Vec<String> = (0..100_000).map(|i| format!("ProcessId == {i}")).collect();
    rule(
        &rules,
        "wide-or",
        &format!(
            "DeviceProcessEvents\n| where FileName =~ \"AnyDesk.exe\" and ({})\n| project Timestamp, DeviceName",
            terms.join(" or ")
        ),
    );
    rule(
        &rules,
        "anydesk",
        "DeviceProcessEvents\n| where FileName =~ \"AnyDesk.exe\"\n| project Timestamp, DeviceName",
    );
    let o = ratcatcher(&[
        "hunt",
        &good(),
        "--rules",
        &rules.display().to_string(),
        "--format",
        "jsonl",
    ]);
    let err = stderr(&o);
    assert_eq!(o.status.code(), Some(1), "all three rules ran: {err}");
    let s = summary(&o);
    assert_eq!(s["rules_run"], 3);
    let by_rule = |id: &str| alert_keys(&o).iter().filter(|k| k.0 == id).count();
    assert!(by_rule("anydesk") > 0, "{err}");
    assert_eq!(
        by_rule("many-wheres"),
        by_rule("anydesk"),
        "the long pipeline gives the same answer"
    );
}
