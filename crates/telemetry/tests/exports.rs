//! Defender / Sentinel export readers and the evtx JSON forms: one fixture per shape.

mod common;

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

use common::{assert_cols, assert_null, data, row_where, table_rows};
use datafusion::arrow::record_batch::RecordBatch;
use serde_json::{Value, json};
use telemetry::{Format, Location, Progress, ReadOptions, Report, read_to_memory};

fn read(name: &str) -> (BTreeMap<String, Vec<RecordBatch>>, Report) {
    let p = data(name);
    read_to_memory(&[p.to_string_lossy()], &ReadOptions::default()).expect("read")
}

#[test]
fn advanced_hunting_api_response() {
    let (t, report) = read("advanced-hunting-api.json");
    assert_eq!(report.files[0].format, Format::Json);
    assert_eq!(report.records(), 2);
    let r = row_where(&t, "DeviceProcessEvents", "ReportId", "30779");
    assert_cols(
        &r,
        &[
            ("Timestamp", "2020-08-30T06:38:35.7664356Z"),
            ("TimeGenerated", "2020-08-30T06:38:35.7664356Z"),
            ("DeviceId", "0123456789abcdef0123456789abcdef01234567"),
            ("FileName", "conhost.exe"),
            ("ProcessId", "4960"),
            ("LogonId", "999"),
            ("InitiatingProcessCreationTime", "2020-08-30T06:38:35.7500000Z"),
            ("Type", "DeviceProcessEvents"),
        ],
    );
    assert_null(&r, &["AdditionalFields"]);
    let r2 = row_where(&t, "DeviceProcessEvents", "ReportId", "30790");
    assert_cols(
        &r2,
        &[
            ("ProcessId", "5012"),
            ("AdditionalFields", "{\"ProcessStartKey\":1234}"),
        ],
    );
    // "not-a-number" cannot be a long: null, and one warning names the column.
    assert_null(&r2, &["LogonId"]);
    assert!(
        report
            .warnings
            .iter()
            .any(|w| w.contains("DeviceProcessEvents.LogonId")),
        "{:?}",
        report.warnings
    );
}

#[test]
fn graph_hunting_response_drops_unknown_columns_with_one_warning() {
    let (t, report) = read("graph-hunting.json");
    let rows = table_rows(&t, "DeviceNetworkEvents");
    assert_eq!(rows.len(), 2);
    let r = row_where(&t, "DeviceNetworkEvents", "RemoteIP", "37.252.230.145");
    assert_cols(
        &r,
        &[
            ("ActionType", "ConnectionSuccess"),
            ("RemotePort", "5938"),
            ("RemoteUrl", "router1.teamviewer.com"),
            ("Timestamp", "2024-03-26T09:39:50.7688641Z"),
        ],
    );
    let warnings: Vec<_> = report.warnings.iter().filter(|w| w.contains("ExtraThing")).collect();
    assert_eq!(warnings.len(), 1, "{:?}", report.warnings);
}

#[test]
fn event_hub_message() {
    let (t, report) = read("eventhub-message.json");
    assert_eq!(report.records(), 2);
    assert_eq!(report.skipped_total, 1, "the EmailEvents record names an unknown table");
    assert!(report.skipped[0].reason.contains("AdvancedHunting-EmailEvents"));
    let p = row_where(&t, "DeviceProcessEvents", "ReportId", "30779");
    assert_cols(
        &p,
        &[
            ("FileName", "whoami.exe"),
            ("FolderPath", "C:\\Windows\\System32\\whoami.exe"),
            ("LogonId", "999"),
            ("TenantId", "00000000-0000-0000-0000-000000000000"),
            ("InitiatingProcessUniqueId", "12345"),
            ("Timestamp", "2021-04-14T18:49:17.7849324Z"),
        ],
    );
    let d = row_where(&t, "DeviceEvents", "ActionType", "DnsQueryResponse");
    let af: Value = serde_json::from_str(&d["AdditionalFields"]).expect("json");
    assert_eq!(af["DnsQueryString"], json!("relay.anydesk.com"));
    assert_cols(&d, &[("Timestamp", "2021-04-14T18:49:18.9520000Z")]);
}

#[test]
fn storage_account_lines_with_crlf() {
    let (t, report) = read("PT1H.json");
    assert_eq!(report.records(), 2);
    assert_eq!(report.skipped_total, 0, "{:?}", report.skipped);
    let r = row_where(&t, "DeviceRegistryEvents", "RegistryValueName", "ServiceDll");
    assert_cols(
        &r,
        &[
            ("RegistryValueData", "%ProgramFiles%\\RDP Wrapper\\rdpwrap.dll"),
            ("PreviousRegistryValueData", "%SystemRoot%\\System32\\termsrv.dll"),
            ("Timestamp", "2024-06-01T10:00:01.1752833Z"),
        ],
    );
    assert_eq!(table_rows(&t, "DeviceImageLoadEvents").len(), 1);
}

#[test]
fn log_analytics_query_response() {
    let (t, report) = read("la-query.json");
    assert_eq!(report.records(), 3);
    assert_eq!(report.skipped_total, 1, "the short row");
    assert!(report.skipped[0].reason.contains("3 values for 8 columns"));
    let rows = table_rows(&t, "SecurityEvent");
    assert_eq!(rows.len(), 2);
    let r = row_where(&t, "SecurityEvent", "EventID", "4688");
    assert_cols(
        &r,
        &[
            ("TimeGenerated", "2024-03-26T09:39:50.7688641Z"),
            ("NewProcessName", "C:\\Program Files\\TeamViewer\\TeamViewer.exe"),
            ("Account", "CORP\\admin"),
        ],
    );
    let l = row_where(&t, "SecurityEvent", "EventID", "4624");
    assert_cols(&l, &[("LogonType", "10")]);
    // A dynamic cell given as an object is kept as its JSON text.
    let d = row_where(&t, "DeviceEvents", "ActionType", "ServiceInstalled");
    let af: Value = serde_json::from_str(&d["AdditionalFields"]).expect("json");
    assert_eq!(af, json!({"ServiceName": "AnyDesk", "ServiceStartType": 2}));
    assert_cols(
        &d,
        &[
            ("Timestamp", "2024-03-26T10:00:00.0000000Z"),
            ("TimeGenerated", "2024-03-26T10:00:01.0000000Z"),
        ],
    );
}

#[test]
fn portal_csv_export() {
    let (t, report) = read("DeviceFileEvents-portal.csv");
    assert_eq!(report.files[0].format, Format::Csv);
    assert_eq!(report.records(), 2);
    let r = row_where(&t, "DeviceFileEvents", "FileName", "service.conf.new");
    assert_cols(
        &r,
        &[
            ("Timestamp", "2024-05-02T09:15:24.9900000Z"),
            ("InitiatingProcessId", "7344"),
            ("IsAzureInfoProtectionApplied", "false"),
        ],
    );
    let r2 = row_where(&t, "DeviceFileEvents", "FileName", "user.conf");
    assert_cols(
        &r2,
        &[
            ("Timestamp", "2024-05-02T09:15:25.5000000Z"),
            ("ActionType", "FileModified"),
        ],
    );
    assert_null(&r2, &["IsAzureInfoProtectionApplied"]);
}

#[test]
fn sentinel_rows_with_time_generated_only() {
    let (t, _) = read("sentinel-rows.jsonl");
    let r = row_where(&t, "DeviceProcessEvents", "FileName", "rustdesk.exe");
    assert_cols(
        &r,
        &[
            ("TimeGenerated", "2024-06-02T08:00:00.5000000Z"),
            ("Timestamp", "2024-06-02T08:00:00.5000000Z"),
            ("TenantId", "11111111-2222-3333-4444-555555555555"),
        ],
    );
}

#[test]
fn evtx_json_lines_and_evtx_dump_output_agree() {
    let (lines, lines_report) = read("evtx-records.jsonl");
    assert_eq!(lines_report.records(), 2);
    assert_eq!(lines_report.skipped_total, 1);
    assert_eq!(lines_report.skipped[0].location, Location::Line(2));
    let (dump, dump_report) = read("evtx-dump.json");
    assert_eq!(dump_report.records(), 2);
    assert_eq!(dump_report.skipped_total, 0, "{:?}", dump_report.skipped);
    for table in ["WindowsEvent", "DeviceProcessEvents", "DeviceEvents"] {
        assert_eq!(table_rows(&lines, table), table_rows(&dump, table), "{table}");
    }
    let p = row_where(&dump, "DeviceProcessEvents", "ReportId", "7781");
    assert_cols(
        &p,
        &[
            ("FileName", "WMIC.exe"),
            ("ProcessId", "6400"),
            ("LogonId", "109057"),
            (
                "SHA256",
                "1f4e3a2b3c4d5e6f1f4e3a2b3c4d5e6f1f4e3a2b3c4d5e6f1f4e3a2b3c4d5e6f",
            ),
            ("InitiatingProcessFileName", "cmd.exe"),
            ("Timestamp", "2025-12-15T14:02:11.3377100Z"),
        ],
    );
    let s = row_where(&dump, "DeviceEvents", "ReportId", "2213");
    assert_cols(
        &s,
        &[
            ("ActionType", "ServiceInstalled"),
            ("FileName", "TeamViewer_Service.exe"),
        ],
    );
    let w = row_where(&dump, "WindowsEvent", "EventRecordId", "2213");
    assert_cols(&w, &[("EventID", "7045"), ("Provider", "Service Control Manager")]);
}

#[test]
fn gzip_and_progress_hooks() {
    let dir = tempfile::tempdir().expect("tempdir");
    let gz = dir.path().join("events.xml.gz");
    let xml = std::fs::read(data("events.xml")).expect("fixture");
    let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    std::io::Write::write_all(&mut enc, &xml).expect("gzip");
    std::fs::write(&gz, enc.finish().expect("gzip")).expect("write");
    let seen: Arc<Mutex<Vec<String>>> = Arc::new(Mutex::new(Vec::new()));
    let log = Arc::clone(&seen);
    let options = ReadOptions {
        progress: Some(Arc::new(move |p: &Progress<'_>| {
            let s = match p {
                Progress::FileStarted { bytes, .. } => format!("start {bytes}"),
                Progress::Records { records, .. } => format!("records {records}"),
                Progress::FileFinished { records, .. } => format!("done {records}"),
            };
            if let Ok(mut v) = log.lock() {
                v.push(s);
            }
        })),
        ..ReadOptions::default()
    };
    let pattern = format!("{}/*.gz", dir.path().display());
    let (t, report) = read_to_memory(&[pattern], &options).expect("read");
    assert!(report.files[0].gzip);
    assert_eq!(report.files[0].format, Format::EventXml);
    assert_eq!(table_rows(&t, "WindowsEvent").len(), 22);
    let seen = seen.lock().expect("lock").clone();
    assert_eq!(
        seen.first().map(String::as_str),
        Some(format!("start {}", report.files[0].bytes).as_str())
    );
    assert_eq!(seen.last().map(String::as_str), Some("done 22"));
}

#[test]
fn inputs_that_match_nothing_are_reported_and_the_others_read() {
    let missing = data("no-such-file.evtx");
    let pattern = format!("{}/*.nothing", data("").display());
    let good = data("system-7045.evtx.gz");
    let inputs = [
        missing.to_string_lossy().into_owned(),
        pattern.clone(),
        good.to_string_lossy().into_owned(),
    ];
    let (_, report) = read_to_memory(&inputs, &ReadOptions::default()).expect("read");
    assert_eq!(report.records(), 1160, "the good input is read in full");
    let unread: Vec<(String, telemetry::UnreadKind)> = report
        .unread
        .iter()
        .map(|u| (u.path.to_string_lossy().into_owned(), u.kind))
        .collect();
    assert_eq!(
        unread,
        vec![
            (missing.to_string_lossy().into_owned(), telemetry::UnreadKind::Missing),
            (pattern, telemetry::UnreadKind::Missing),
        ]
    );
    assert!(!report.is_complete());
}
