//! `ratcatcher query`, `ingest` and `tables` end to end: tables from files and evidence, output
//! formats, errors, and the same rows from EVTX and from the ingested Parquet dataset.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn ratcatcher(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_ratcatcher"))
        .args(args)
        .output()
        .expect("run ratcatcher")
}

fn data(rel: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join(rel)
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn seed_table() -> String {
    format!(
        "DeviceProcessEvents={}",
        data("tests/data/seed/DeviceProcessEvents.jsonl").display()
    )
}

#[test]
fn query_a_jsonl_table_as_jsonl() {
    let q = "DeviceProcessEvents | where Timestamp > ago(24h) | where FileName has_any ('anydesk.exe', 'rustdesk.exe') | project FileName, DeviceName | sort by FileName asc";
    let o = ratcatcher(&[
        "query",
        q,
        "--table",
        &seed_table(),
        "--now",
        "2024-03-15T12:00:00Z",
        "--format",
        "jsonl",
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", String::from_utf8_lossy(&o.stderr));
    // The AnyDesk run two days before `now` is outside the window.
    assert_eq!(
        stdout(&o),
        "{\"FileName\":\"AnyDesk.exe\",\"DeviceName\":\"ws-01\"}\n{\"FileName\":\"rustdesk.exe\",\"DeviceName\":\"ws-03\"}\n"
    );
}

#[test]
fn csv_json_and_table_formats() {
    let q = "DeviceProcessEvents | summarize n = count() by AccountName | where n > 1 | project AccountName, n";
    let args = |f: &'static str| {
        vec![
            "query".to_string(),
            q.to_string(),
            "--table".into(),
            seed_table(),
            "--format".into(),
            f.to_string(),
        ]
    };
    let run = |f| {
        let a = args(f);
        ratcatcher(&a.iter().map(String::as_str).collect::<Vec<_>>())
    };
    assert_eq!(stdout(&run("csv")), "AccountName,n\nalice,3\n");
    assert_eq!(stdout(&run("json")), "[{\"AccountName\":\"alice\",\"n\":3}]\n");
    let table = stdout(&run("table"));
    assert!(table.starts_with("AccountName  n\n"), "{table}");
    assert!(table.trim_end().ends_with("(1 rows)"), "{table}");
}

#[test]
fn plan_errors_exit_two_with_the_place() {
    let o = ratcatcher(&[
        "query",
        "DeviceProcessEvents | where FileNme == 'x'",
        "--table",
        &seed_table(),
    ]);
    assert_eq!(o.status.code(), Some(2));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("unknown column or name `FileNme`"), "{err}");
    assert!(err.contains("did you mean `FileName`?"), "{err}");
    let o = ratcatcher(&["query", "T | take 1", "--table", "T=missing.parquet"]);
    assert_eq!(o.status.code(), Some(2));
}

#[test]
fn evtx_and_its_ingested_dataset_give_the_same_rows() {
    let evtx = data("../telemetry/tests/data/system-7045.evtx.gz");
    let evtx = evtx.to_str().unwrap();
    let q = "DeviceEvents | where ActionType == 'ServiceInstalled' | extend Service = tostring(AdditionalFields.ServiceName) | project Timestamp, DeviceName, Service, FolderPath | sort by Timestamp asc, Service asc";
    let direct = ratcatcher(&["query", "-i", evtx, q, "--format", "jsonl"]);
    assert_eq!(
        direct.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&direct.stderr)
    );
    assert!(
        stdout(&direct).contains("TeamViewer"),
        "the sample holds a TeamViewer service install"
    );

    let dir = tempfile::tempdir().unwrap();
    let ds = dir.path().join("ds");
    let ingest = ratcatcher(&["ingest", evtx, "--out", ds.to_str().unwrap()]);
    assert_eq!(
        ingest.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&ingest.stderr)
    );
    let from_parquet = ratcatcher(&["query", "-i", ds.to_str().unwrap(), q, "--format", "jsonl"]);
    assert_eq!(stdout(&from_parquet), stdout(&direct));

    let tables = ratcatcher(&["tables", ds.to_str().unwrap()]);
    let listing = stdout(&tables);
    assert!(listing.lines().any(|l| l.starts_with("DeviceEvents")), "{listing}");
    // Listing the evidence itself (streamed, nothing kept) gives the same rows and time ranges.
    let direct_listing = ratcatcher(&["tables", evtx]);
    assert_eq!(stdout(&direct_listing), listing);
}
