//! Helpers shared by the integration tests: read fixtures and look rows up by column values.
#![allow(dead_code)]

use std::collections::BTreeMap;
use std::path::PathBuf;

use datafusion::arrow::array::{
    Array, BooleanArray, Float64Array, Int32Array, Int64Array, LargeStringArray, StringArray, TimestampNanosecondArray,
};
use datafusion::arrow::datatypes::DataType;
use datafusion::arrow::record_batch::RecordBatch;
use telemetry::time::format_datetime;

/// Path of a file under `tests/data`.
pub fn data(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests")
        .join("data")
        .join(name)
}

/// One row as column → text (nulls left out; datetimes as RFC 3339 with 7 digits).
pub type TextRow = BTreeMap<String, String>;

fn cell(col: &dyn Array, i: usize) -> Option<String> {
    if col.is_null(i) {
        return None;
    }
    let any = col.as_any();
    Some(match col.data_type() {
        DataType::Utf8 => any.downcast_ref::<StringArray>()?.value(i).to_string(),
        DataType::LargeUtf8 => any.downcast_ref::<LargeStringArray>()?.value(i).to_string(),
        DataType::Int64 => any.downcast_ref::<Int64Array>()?.value(i).to_string(),
        DataType::Int32 => any.downcast_ref::<Int32Array>()?.value(i).to_string(),
        DataType::Boolean => any.downcast_ref::<BooleanArray>()?.value(i).to_string(),
        DataType::Float64 => any.downcast_ref::<Float64Array>()?.value(i).to_string(),
        DataType::Timestamp(_, _) => format_datetime(any.downcast_ref::<TimestampNanosecondArray>()?.value(i)),
        other => panic!("unexpected type {other}"),
    })
}

/// Every row of the batches as text rows.
pub fn text_rows(batches: &[RecordBatch]) -> Vec<TextRow> {
    let mut out = Vec::new();
    for b in batches {
        let schema = b.schema();
        for i in 0..b.num_rows() {
            let mut row = TextRow::new();
            for (f, col) in schema.fields().iter().zip(b.columns()) {
                if let Some(v) = cell(col.as_ref(), i) {
                    row.insert(f.name().clone(), v);
                }
            }
            out.push(row);
        }
    }
    out
}

/// The rows of `table`.
pub fn table_rows(tables: &BTreeMap<String, Vec<RecordBatch>>, table: &str) -> Vec<TextRow> {
    tables.get(table).map(|b| text_rows(b)).unwrap_or_default()
}

/// The single row of `table` whose `col` equals `value`.
pub fn row_where(tables: &BTreeMap<String, Vec<RecordBatch>>, table: &str, col: &str, value: &str) -> TextRow {
    let rows: Vec<TextRow> = table_rows(tables, table)
        .into_iter()
        .filter(|r| r.get(col).map(String::as_str) == Some(value))
        .collect();
    assert_eq!(rows.len(), 1, "{table} rows with {col} = {value}: {rows:#?}");
    rows.into_iter().next().expect("one row")
}

/// Asserts that every expected column has the expected text value.
pub fn assert_cols(row: &TextRow, expected: &[(&str, &str)]) {
    for (c, v) in expected {
        assert_eq!(row.get(*c).map(String::as_str), Some(*v), "column {c} in {row:#?}");
    }
}

/// Asserts that columns are null.
pub fn assert_null(row: &TextRow, cols: &[&str]) {
    for c in cols {
        assert!(!row.contains_key(*c), "column {c} should be null in {row:#?}");
    }
}
