//! Ingest to Parquet datasets, read them back, and register tables with DataFusion.

mod common;

use common::{data, table_rows, text_rows};
use datafusion::common::TableReference;
use datafusion::prelude::SessionContext;
use telemetry::schema;
use telemetry::{
    IngestOptions, ReadOptions, ingest, is_dataset, list_tables, read_to_memory, register_dataset, register_tables,
};

fn inputs() -> Vec<String> {
    ["events.xml", "system-7045.evtx.gz", "advanced-hunting-api.json"]
        .iter()
        .map(|n| data(n).to_string_lossy().into_owned())
        .collect()
}

#[test]
fn ingest_writes_sorted_datasets_and_a_listing() {
    let dir = tempfile::tempdir().expect("tempdir");
    let out = dir.path().join("ds");
    let options = IngestOptions {
        rows_per_file: 500,
        ..IngestOptions::default()
    };
    let summary = ingest(&inputs(), &out, &options).expect("ingest");
    assert!(is_dataset(&out));
    let (mem, report) = read_to_memory(&inputs(), &ReadOptions::default()).expect("read");
    assert_eq!(summary.report.records(), report.records());
    let listing = list_tables(&out).expect("listing");
    assert_eq!(listing, summary.tables);
    for info in &listing {
        assert_eq!(info.rows, table_rows(&mem, &info.name).len() as u64, "{}", info.name);
        assert!(!info.files.is_empty());
    }
    let we = listing.iter().find(|i| i.name == "WindowsEvent").expect("WindowsEvent");
    assert_eq!(we.rows, 22 + 1160);
    assert_eq!(we.files.len(), 3, "1182 rows at 500 per file");
    let dpe = listing
        .iter()
        .find(|i| i.name == "DeviceProcessEvents")
        .expect("DeviceProcessEvents");
    assert_eq!(dpe.min_time.as_deref(), Some("2020-08-30T06:38:35.7664356Z"));
    assert_eq!(dpe.max_time.as_deref(), Some("2024-05-02T09:17:05.0000000Z"));

    // Reading the dataset back gives the same rows; every file is sorted by its time column.
    let (back, back_report) = read_to_memory(&[out.to_string_lossy()], &ReadOptions::default()).expect("read back");
    assert_eq!(back_report.unread.len(), 1, "only tables.json is not data");
    assert_eq!(back_report.unread[0].kind, telemetry::UnreadKind::NotEvidence);
    assert!(back_report.is_complete(), "{:?}", back_report.unread);
    for info in &listing {
        let mut a = table_rows(&mem, &info.name);
        let mut b = table_rows(&back, &info.name);
        a.sort();
        b.sort();
        assert_eq!(a, b, "{}", info.name);
    }
    for info in &listing {
        let def = schema::table(&info.name).expect("table");
        for f in &info.files {
            let (t, _) = read_to_memory(&[out.join(f).to_string_lossy()], &ReadOptions::default()).expect("file");
            let times: Vec<String> = text_rows(&t[&info.name])
                .into_iter()
                .filter_map(|r| r.get(def.time_column()).cloned())
                .collect();
            let mut sorted = times.clone();
            sorted.sort();
            assert_eq!(times, sorted, "{f} is sorted");
        }
    }

    // A second ingest into the same folder needs `overwrite`.
    assert!(ingest(&inputs(), &out, &options).is_err());
    let again = IngestOptions {
        overwrite: true,
        ..options
    };
    assert!(ingest(&inputs(), &out, &again).is_ok());
}

#[tokio::test]
async fn registered_tables_are_queryable() {
    let dir = tempfile::tempdir().expect("tempdir");
    let out = dir.path().join("ds");
    ingest(&inputs(), &out, &IngestOptions::default()).expect("ingest");

    let ctx = SessionContext::new();
    register_dataset(&ctx, &out).await.expect("register dataset");
    let n = ctx
        .table(TableReference::bare("DeviceProcessEvents"))
        .await
        .expect("table")
        .count()
        .await
        .expect("count");
    assert_eq!(n, 2 + 2 + 2, "Sysmon 1 x2, 4688 x2, API rows x2");
    let empty = ctx
        .table(TableReference::bare("DeviceLogonEvents"))
        .await
        .expect("table");
    assert_eq!(
        empty.schema().fields().len(),
        schema::table("DeviceLogonEvents").expect("t").columns().len()
    );

    let (mem, _) = read_to_memory(&inputs(), &ReadOptions::default()).expect("read");
    let ctx2 = SessionContext::new();
    register_tables(&ctx2, mem, 2).expect("register");
    let n = ctx2
        .table(TableReference::bare("WindowsEvent"))
        .await
        .expect("table")
        .count()
        .await
        .expect("count");
    assert_eq!(n, 1182);
    let imgs = ctx2
        .table(TableReference::bare("DeviceImageLoadEvents"))
        .await
        .expect("table")
        .count()
        .await
        .expect("count");
    assert_eq!(imgs, 1);
}

/// Event XML with `n` events out of time order: Sysmon 1 (process) and Sysmon 3 (network)
/// alternating, each with a distinct process id.
fn scrambled_events(n: usize) -> String {
    let mut xml = String::from("<Events>\n");
    for i in 0..n {
        // A permutation of 0..n seconds (7919 is prime and does not divide n in the tests).
        let secs = (i * 7919) % n;
        let time = format!(
            "2024-05-02T{:02}:{:02}:{:02}.{:07}Z",
            secs / 3600,
            secs / 60 % 60,
            secs % 60,
            i
        );
        let (id, data) = if i % 2 == 0 {
            (
                1,
                format!(
                    "<Data Name=\"ProcessGuid\">{{1a2b3c4d-0000-0000-0000-{i:012}}}</Data><Data Name=\"ProcessId\">{i}</Data><Data Name=\"Image\">C:\\Tools\\tool{i}.exe</Data><Data Name=\"CommandLine\">tool{i}.exe --run {i}</Data>"
                ),
            )
        } else {
            (
                3,
                format!(
                    "<Data Name=\"ProcessId\">{i}</Data><Data Name=\"Image\">C:\\Tools\\net{i}.exe</Data><Data Name=\"Protocol\">tcp</Data><Data Name=\"SourceIp\">10.0.0.5</Data><Data Name=\"SourcePort\">{}</Data><Data Name=\"DestinationIp\">192.0.2.7</Data><Data Name=\"DestinationPort\">443</Data>",
                    1024 + i % 60000
                ),
            )
        };
        xml.push_str(&format!(
            "<Event xmlns=\"http://schemas.microsoft.com/win/2004/08/events/event\"><System><Provider Name=\"Microsoft-Windows-Sysmon\"/><EventID>{id}</EventID><TimeCreated SystemTime=\"{time}\"/><EventRecordID>{i}</EventRecordID><Channel>Microsoft-Windows-Sysmon/Operational</Channel><Computer>ws01.corp.example</Computer></System><EventData>{data}</EventData></Event>\n"
        ));
    }
    xml.push_str("</Events>\n");
    xml
}

/// Ingests `input` with `options`; checks that the tables were split into several file parts,
/// that each part is sorted by time (and some part was reordered: `id_col` counts up in input
/// order), and that the parts hold exactly the rows read directly.
fn check_parts(input: &std::path::Path, options: &IngestOptions, expect: &[(&str, &str, usize)]) {
    let dir = tempfile::tempdir().expect("tempdir");
    let out = dir.path().join("ds");
    let inputs = [input.to_string_lossy().into_owned()];
    let summary = ingest(&inputs, &out, options).expect("ingest");
    assert_eq!(summary.report.skipped_total, 0);
    let (mem, _) = read_to_memory(&inputs, &ReadOptions::default()).expect("read");
    for (table, id_col, rows) in expect {
        let info = summary.tables.iter().find(|t| t.name == *table).expect("table written");
        assert_eq!(info.rows, *rows as u64, "{table}");
        assert!(info.files.len() > 1, "{table}: {} part(s)", info.files.len());
        let mut back = Vec::new();
        let mut reordered = false;
        for f in &info.files {
            let (t, _) = read_to_memory(&[out.join(f).to_string_lossy()], &ReadOptions::default()).expect("part");
            let rows = table_rows(&t, table);
            let times: Vec<String> = rows.iter().map(|r| r["Timestamp"].clone()).collect();
            let mut sorted = times.clone();
            sorted.sort();
            assert_eq!(times, sorted, "{f} is sorted by Timestamp");
            let ids: Vec<&String> = rows.iter().map(|r| &r[*id_col]).collect();
            reordered |= ids
                .windows(2)
                .any(|w| w[0].parse::<i64>().ok() > w[1].parse::<i64>().ok());
            back.extend(rows);
        }
        assert!(
            reordered,
            "{table}: the input was out of time order, so some part was reordered"
        );
        let mut direct = table_rows(&mem, table);
        assert_eq!(direct.len(), *rows);
        direct.sort();
        back.sort();
        assert_eq!(back, direct, "{table}: the parts hold the rows read directly");
    }
}

#[test]
fn ingest_flushes_by_bytes_into_sorted_parts() {
    let dir = tempfile::tempdir().expect("tempdir");
    let input = dir.path().join("scrambled.xml");
    std::fs::write(&input, scrambled_events(6000)).expect("write input");
    let read = ReadOptions {
        batch_rows: 256,
        ..ReadOptions::default()
    };
    let expect = [
        ("DeviceProcessEvents", "ProcessId", 3000),
        ("DeviceNetworkEvents", "InitiatingProcessId", 3000),
    ];
    // Per-table budget: a table is written whenever it holds about 1 MiB.
    let per_table = IngestOptions {
        read: read.clone(),
        table_buffer_bytes: 1 << 20,
        ..IngestOptions::default()
    };
    check_parts(&input, &per_table, &expect);
    // Budget across tables: no table reaches its own budget, but together they pass 1 MiB.
    let total = IngestOptions {
        read,
        table_buffer_bytes: usize::MAX,
        total_buffer_bytes: 1 << 20,
        ..IngestOptions::default()
    };
    check_parts(&input, &total, &expect);
}
