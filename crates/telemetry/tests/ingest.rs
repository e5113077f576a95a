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
    assert_eq!(back_report.unknown_files.len(), 1, "only tables.json is not data");
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
