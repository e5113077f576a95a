//! Readers recognise evidence as users have it: UTF-16 and BOM-prefixed text, CSV headers as
//! the Defender portal, Sentinel and PowerShell write them, JSON lines with a broken first line,
//! Parquet with any timestamp unit and nested columns. Every input is built at test time.

mod common;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use common::{assert_cols, data, row_where, table_rows};
use datafusion::arrow::array::{
    ArrayRef, Float64Array, Int64Array, ListArray, MapBuilder, StringArray, StringBuilder, StructArray,
    TimestampMicrosecondArray, TimestampMillisecondArray, TimestampNanosecondArray, TimestampSecondArray,
};
use datafusion::arrow::datatypes::{DataType, Field, Int64Type, Schema};
use datafusion::arrow::record_batch::RecordBatch;
use datafusion::parquet::arrow::ArrowWriter;
use telemetry::{Format, Location, ReadOptions, Report, read_to_memory};

type Tables = BTreeMap<String, Vec<RecordBatch>>;

fn read_path(p: &Path) -> (Tables, Report) {
    read_to_memory(&[p.to_string_lossy()], &ReadOptions::default()).expect("read")
}

/// Writes `bytes` as `name` in `dir` and reads it.
fn read_bytes(dir: &Path, name: &str, bytes: &[u8]) -> (Tables, Report) {
    let p = dir.join(name);
    std::fs::write(&p, bytes).expect("write");
    read_path(&p)
}

fn utf16(text: &str, big_endian: bool) -> Vec<u8> {
    let mut out = if big_endian { vec![0xFE, 0xFF] } else { vec![0xFF, 0xFE] };
    for unit in text.encode_utf16() {
        out.extend(if big_endian {
            unit.to_be_bytes()
        } else {
            unit.to_le_bytes()
        });
    }
    out
}

fn utf8_bom(text: &str) -> Vec<u8> {
    let mut out = b"\xEF\xBB\xBF".to_vec();
    out.extend(text.as_bytes());
    out
}

/// Rows per table, for comparing two reads of the same evidence.
fn shape(t: &Tables) -> BTreeMap<String, usize> {
    t.keys().map(|k| (k.clone(), table_rows(t, k).len())).collect()
}

fn fixture(name: &str) -> String {
    std::fs::read_to_string(data(name)).expect("fixture")
}

#[test]
fn utf16_and_bom_text_is_decoded() {
    let dir = tempfile::tempdir().expect("tempdir");
    for name in [
        "events.xml",
        "evtx-records.jsonl",
        "evtx-dump.json",
        "advanced-hunting-api.json",
        "la-query.json",
        "sentinel-rows.jsonl",
        "DeviceFileEvents-portal.csv",
    ] {
        let text = fixture(name);
        let text = text.trim_start_matches('\u{feff}');
        let (plain, plain_report) = read_path(&data(name));
        assert!(plain_report.records() > 0, "{name}");
        let variants = [
            ("le", utf16(text, false)),
            ("be", utf16(text, true)),
            ("bom", utf8_bom(text)),
        ];
        for (tag, bytes) in variants {
            let file = format!("{tag}-{name}");
            let (t, report) = read_bytes(dir.path(), &file, &bytes);
            assert!(report.unread.is_empty(), "{file}: {:?}", report.unread);
            assert_eq!(report.files[0].format, plain_report.files[0].format, "{file}");
            assert_eq!(report.records(), plain_report.records(), "{file}: {:?}", report.skipped);
            assert_eq!(
                report.skipped_total, plain_report.skipped_total,
                "{file}: {:?}",
                report.skipped
            );
            assert_eq!(shape(&t), shape(&plain), "{file}");
            for table in ["WindowsEvent", "DeviceProcessEvents", "DeviceFileEvents"] {
                assert_eq!(table_rows(&t, table), table_rows(&plain, table), "{file}: {table}");
            }
        }
    }
}

#[test]
fn powershell_utf16_xml_with_declaration_and_non_ascii_text() {
    // `Get-WinEvent ... | % { $_.ToXml() } > events.xml` in Windows PowerShell 5: UTF-16 LE.
    let xml = fixture("events.xml")
        .replace("<?xml version=\"1.0\" encoding=\"utf-8\"?>", "")
        .replace("srv01.corp.example", "srv-müller-Ω.corp.example");
    let xml = format!(
        "<?xml version=\"1.0\" encoding=\"UTF-16\"?>\r\n{}",
        xml.replace('\n', "\r\n")
    );
    let dir = tempfile::tempdir().expect("tempdir");
    let (t, report) = read_bytes(dir.path(), "ps5.xml", &utf16(&xml, false));
    assert_eq!(report.files[0].format, Format::EventXml);
    assert_eq!(report.skipped_total, 0, "{:?}", report.skipped);
    let names: Vec<String> = table_rows(&t, "WindowsEvent")
        .into_iter()
        .filter_map(|r| r.get("Computer").cloned())
        .collect();
    assert!(names.iter().any(|n| n == "srv-müller-Ω.corp.example"), "{names:?}");
}

#[test]
fn csv_headers_of_portal_sentinel_and_powershell_exports() {
    let dir = tempfile::tempdir().expect("tempdir");
    // Sentinel / Log Analytics "Export to CSV": unquoted, `TimeGenerated [UTC]`, a file name that
    // names no table.
    let sentinel = "TimeGenerated [UTC],Computer,EventID,Account,NewProcessName,CommandLine\n\
                    \"5/2/2024, 9:17:00.123 AM\",srv01,4688,CORP\\svc,C:\\x.exe,x.exe -a\n\
                    2024-05-02T09:18:00Z,srv01,4688,CORP\\svc,C:\\y.exe,y.exe -b\n";
    let (t, report) = read_bytes(dir.path(), "query_data.csv", sentinel.as_bytes());
    assert_eq!(
        report.files.first().map(|f| f.format),
        Some(Format::Csv),
        "{:?}",
        report.unread
    );
    let r = row_where(&t, "SecurityEvent", "NewProcessName", "C:\\y.exe");
    assert_cols(
        &r,
        &[("TimeGenerated", "2024-05-02T09:18:00.0000000Z"), ("EventID", "4688")],
    );
    // Defender portal export of a summarising query: `Timestamp [UTC]` is one of the only two
    // table columns.
    let portal = "\u{feff}\"Timestamp [UTC]\",\"RemoteUrl\",\"Connections\"\n\
                  \"2024-05-02T09:15:24.990Z\",\"relay.anydesk.com\",\"12\"\n";
    let (t, report) = read_bytes(dir.path(), "DeviceNetworkEvents-x.csv", portal.as_bytes());
    assert_eq!(
        report.files.first().map(|f| f.format),
        Some(Format::Csv),
        "{:?}",
        report.unread
    );
    let r = row_where(&t, "DeviceNetworkEvents", "RemoteUrl", "relay.anydesk.com");
    assert_cols(&r, &[("Timestamp", "2024-05-02T09:15:24.9900000Z")]);
    // Windows PowerShell `Export-Csv` (Advanced Hunting API results): a `#TYPE` line, quoted
    // headers; a bad row is reported at its line in the file.
    let ps = "#TYPE System.Management.Automation.PSCustomObject\r\n\
              \"Timestamp\",\"DeviceName\",\"ActionType\",\"FileName\",\"ProcessId\"\r\n\
              \"2024-05-02T09:15:24Z\",\"ws01\",\"ProcessCreated\",\"AnyDesk.exe\",\"7344\"\r\n\
              \"2024-05-02T09:15:25Z\",\"ws01\"\r\n\
              \"2024-05-02T09:15:26Z\",\"ws01\",\"ProcessCreated\",\"rustdesk.exe\",\"not a number\"\r\n";
    let (t, report) = read_bytes(dir.path(), "api-results.csv", ps.as_bytes());
    assert_eq!(
        report.files.first().map(|f| f.format),
        Some(Format::Csv),
        "{:?}",
        report.unread
    );
    assert_eq!(report.records(), 2);
    assert_eq!(report.skipped_total, 1);
    assert_eq!(report.skipped[0].location, Location::Line(4));
    assert!(
        report.skipped[0].to_string().contains("api-results.csv: line 4"),
        "{}",
        report.skipped[0]
    );
    let r = row_where(&t, "DeviceProcessEvents", "FileName", "AnyDesk.exe");
    assert_cols(
        &r,
        &[("ProcessId", "7344"), ("Timestamp", "2024-05-02T09:15:24.0000000Z")],
    );
    // The unconvertible value: one warning that names the file, the column and the line.
    let w = report
        .warnings
        .iter()
        .find(|w| w.contains("DeviceProcessEvents.ProcessId"))
        .unwrap_or_else(|| panic!("{:?}", report.warnings));
    assert!(w.contains("api-results.csv") && w.contains("line 5"), "{w}");
    // `Export-Csv -UseCulture` with a semicolon list separator, and the same in UTF-16.
    let semi = "#TYPE Selected.System.Management.Automation.PSCustomObject\r\n\
                \"Timestamp\";\"DeviceName\";\"ActionType\";\"FileName\"\r\n\
                \"2024-05-02T09:15:24Z\";\"ws01\";\"ProcessCreated\";\"a;b.exe\"\r\n";
    for (name, bytes) in [
        ("semi.csv", semi.as_bytes().to_vec()),
        ("semi16.csv", utf16(semi, false)),
    ] {
        let (t, report) = read_bytes(dir.path(), name, &bytes);
        assert_eq!(report.files.first().map(|f| f.format), Some(Format::Csv), "{name}");
        assert_eq!(report.records(), 1, "{name}: {:?}", report.skipped);
        row_where(&t, "DeviceProcessEvents", "FileName", "a;b.exe");
    }
}

#[test]
fn json_lines_with_a_broken_first_line() {
    let good = |i: u32| {
        format!(
            "{{\"Timestamp\": \"2024-05-02T09:15:2{i}Z\", \"DeviceName\": \"ws01\", \"ActionType\": \"ProcessCreated\", \
             \"FileName\": \"tool{i}.exe\", \"ProcessId\": {i}}}\n"
        )
    };
    let dir = tempfile::tempdir().expect("tempdir");
    // A file cut at the front (the tail of a longer export): the first line is half a row.
    let cut = format!(
        "ice\": \"ProcessCreated\", \"FileName\": \"x.exe\"}}\n{}{}{}",
        good(1),
        good(2),
        good(3)
    );
    // A first line that is a complete-looking object but broken JSON.
    let broken = format!(
        "{{\"Timestamp\": \"2024-05-02T09:15:20Z\", \"DeviceName\": ws01}}\n{}{}",
        good(1),
        good(2)
    );
    for (name, text, records) in [("cut.jsonl", cut, 3), ("broken.json", broken, 2)] {
        let (t, report) = read_bytes(dir.path(), name, text.as_bytes());
        assert_eq!(
            report.files.first().map(|f| f.format),
            Some(Format::Json),
            "{name}: {:?}",
            report.unread
        );
        assert_eq!(report.records(), records, "{name}: {:?}", report.skipped);
        assert_eq!(report.skipped_total, 1, "{name}");
        assert_eq!(report.skipped[0].location, Location::Line(1), "{name}");
        let msg = report.skipped[0].to_string();
        assert!(msg.contains(name) && msg.contains("line 1"), "{msg}");
        row_where(&t, "DeviceProcessEvents", "FileName", "tool2.exe");
    }
    // Pretty-printed documents are still documents, even when a line holds a whole object.
    let pretty = "[\n{\"Timestamp\": \"2024-05-02T09:15:21Z\", \"DeviceName\": \"ws01\", \"ActionType\": \"ProcessCreated\", \"FileName\": \"a.exe\"},\n\
                  {\"Timestamp\": \"2024-05-02T09:15:22Z\", \"DeviceName\": \"ws01\", \"ActionType\": \"ProcessCreated\", \"FileName\": \"b.exe\"}\n]\n";
    let (_, report) = read_bytes(dir.path(), "pretty.json", pretty.as_bytes());
    assert_eq!(report.records(), 2, "{:?}", report.skipped);
    assert_eq!(report.skipped_total, 0);
}

fn write_parquet(path: &Path, columns: Vec<(&str, ArrayRef)>) {
    let fields: Vec<Field> = columns
        .iter()
        .map(|(n, a)| Field::new(*n, a.data_type().clone(), true))
        .collect();
    let schema = Arc::new(Schema::new(fields));
    let batch =
        RecordBatch::try_new(Arc::clone(&schema), columns.into_iter().map(|(_, a)| a).collect()).expect("batch");
    let file = std::fs::File::create(path).expect("create");
    let mut w = ArrowWriter::try_new(file, schema, None).expect("writer");
    w.write(&batch).expect("write");
    w.close().expect("close");
}

fn names(n: usize) -> ArrayRef {
    Arc::new(StringArray::from(
        (0..n).map(|i| format!("p{i}.exe")).collect::<Vec<_>>(),
    ))
}

#[test]
fn parquet_timestamps_in_every_unit_and_as_text() {
    // 2024-05-02T09:15:24.5Z
    const S: i64 = 1_714_641_324;
    let dir = tempfile::tempdir().expect("tempdir");
    let cases: Vec<(&str, ArrayRef)> = vec![
        ("s", Arc::new(TimestampSecondArray::from(vec![S, S + 1]))),
        (
            "ms-utc",
            Arc::new(TimestampMillisecondArray::from(vec![S * 1000 + 500, S * 1000 + 1500]).with_timezone("UTC")),
        ),
        (
            "us-offset",
            Arc::new(
                TimestampMicrosecondArray::from(vec![S * 1_000_000 + 500_000, S * 1_000_000 + 1_500_000])
                    .with_timezone("+02:00"),
            ),
        ),
        (
            "ns",
            Arc::new(TimestampNanosecondArray::from(vec![
                S * 1_000_000_000 + 500_000_000,
                S * 1_000_000_000 + 1_500_000_000,
            ])),
        ),
        (
            "text",
            Arc::new(StringArray::from(vec![
                "2024-05-02T09:15:24.5Z",
                "2024-05-02 11:15:25.5+02:00",
            ])),
        ),
        // Epoch numbers without a logical type (pandas, Spark): the unit by magnitude.
        ("s-int", Arc::new(Int64Array::from(vec![S, S + 1]))),
        (
            "ms-int",
            Arc::new(Int64Array::from(vec![S * 1000 + 500, S * 1000 + 1500])),
        ),
        (
            "s-float",
            Arc::new(Float64Array::from(vec![S as f64 + 0.5, S as f64 + 1.5])),
        ),
    ];
    let mut paths: Vec<PathBuf> = Vec::new();
    for (tag, ts) in cases {
        let p = dir.path().join(format!("DeviceProcessEvents-{tag}.parquet"));
        write_parquet(&p, vec![("Timestamp", ts), ("FileName", names(2))]);
        paths.push(p);
    }
    for p in &paths {
        let (t, report) = read_path(p);
        assert_eq!(report.files[0].format, Format::Parquet);
        assert_eq!(report.records(), 2, "{}: {:?}", p.display(), report.skipped);
        let whole = ["-s.parquet", "-s-int.parquet"]
            .iter()
            .any(|end| p.to_string_lossy().ends_with(end));
        let first = if whole {
            "2024-05-02T09:15:24.0000000Z"
        } else {
            "2024-05-02T09:15:24.5000000Z"
        };
        let r = row_where(&t, "DeviceProcessEvents", "FileName", "p0.exe");
        assert_cols(&r, &[("Timestamp", first), ("TimeGenerated", first)]);
    }
    // Text that is no date-time: null, and a warning naming the file, the column and the row.
    let p = dir.path().join("DeviceProcessEvents-bad.parquet");
    let ts: ArrayRef = Arc::new(StringArray::from(vec!["2024-05-02T09:15:24Z", "yesterday"]));
    write_parquet(&p, vec![("Timestamp", ts), ("FileName", names(2))]);
    let (t, report) = read_path(&p);
    assert_eq!(report.records(), 2);
    assert!(!row_where(&t, "DeviceProcessEvents", "FileName", "p1.exe").contains_key("Timestamp"));
    let w = report
        .warnings
        .iter()
        .find(|w| w.contains("DeviceProcessEvents.Timestamp"))
        .unwrap_or_else(|| panic!("{:?}", report.warnings));
    assert!(
        w.contains("DeviceProcessEvents-bad.parquet") && w.contains("row 2"),
        "{w}"
    );
}

#[test]
fn parquet_nested_columns_are_dynamic_json() {
    let dir = tempfile::tempdir().expect("tempdir");
    let key: ArrayRef = Arc::new(Int64Array::from(vec![Some(1234), None]));
    let tags: ArrayRef = Arc::new(ListArray::from_iter_primitive::<Int64Type, _, _>(vec![
        Some(vec![Some(1), Some(2)]),
        Some(vec![]),
    ]));
    let strukt: ArrayRef = Arc::new(StructArray::from(vec![
        (Arc::new(Field::new("ProcessStartKey", DataType::Int64, true)), key),
        (Arc::new(Field::new("Tags", tags.data_type().clone(), true)), tags),
    ]));
    let mut map = MapBuilder::new(None, StringBuilder::new(), StringBuilder::new());
    map.keys().append_value("ServiceName");
    map.values().append_value("AnyDesk");
    map.append(true).expect("map");
    map.append(false).expect("map");
    let map: ArrayRef = Arc::new(map.finish());
    let list: ArrayRef = Arc::new(ListArray::from_iter_primitive::<Int64Type, _, _>(vec![
        Some(vec![Some(7)]),
        None,
    ]));
    for (tag, col, first) in [
        ("struct", strukt, r#"{"ProcessStartKey":1234,"Tags":[1,2]}"#),
        ("map", map, r#"{"ServiceName":"AnyDesk"}"#),
        ("list", list, "[7]"),
    ] {
        let p = dir.path().join(format!("DeviceProcessEvents-{tag}.parquet"));
        let ts: ArrayRef = Arc::new(TimestampSecondArray::from(vec![1_714_641_324, 1_714_641_325]));
        write_parquet(
            &p,
            vec![("Timestamp", ts), ("FileName", names(2)), ("AdditionalFields", col)],
        );
        let (t, report) = read_path(&p);
        assert_eq!(report.records(), 2, "{tag}: {:?}", report.skipped);
        assert!(report.warnings.is_empty(), "{tag}: {:?}", report.warnings);
        let r = row_where(&t, "DeviceProcessEvents", "FileName", "p0.exe");
        assert_cols(&r, &[("AdditionalFields", first)]);
        let parsed: serde_json::Value =
            serde_json::from_str(r.get("AdditionalFields").map(String::as_str).unwrap_or_default()).expect("JSON");
        assert!(parsed.is_object() || parsed.is_array(), "{tag}");
    }
}

#[test]
fn records_of_pretty_documents_are_reported_at_their_line() {
    let text = "{\"records\": [\n\
                {\"category\": \"AdvancedHunting-DeviceProcessEvents\", \"properties\": {\"Timestamp\": \"2024-05-02T09:15:24Z\",\n\
                 \"DeviceName\": \"ws01\", \"FileName\": \"a.exe\"}},\n\
                {\"category\": \"AdvancedHunting-EmailEvents\",\n\
                 \"properties\": {\"Subject\": \"hi\"}},\n\
                \"not an object\"\n\
                ]}\n";
    let dir = tempfile::tempdir().expect("tempdir");
    let (t, report) = read_bytes(dir.path(), "hub.json", text.as_bytes());
    assert_eq!(report.records(), 1, "{:?}", report.skipped);
    row_where(&t, "DeviceProcessEvents", "FileName", "a.exe");
    let at: Vec<(Location, bool)> = report
        .skipped
        .iter()
        .map(|s| {
            (
                s.location,
                s.to_string()
                    .starts_with(&dir.path().join("hub.json").display().to_string()),
            )
        })
        .collect();
    assert_eq!(
        at,
        [(Location::Line(5), true), (Location::Line(6), true)],
        "{:?}",
        report.skipped
    );
}
