//! Loading plain data files as tables for `query --table NAME=PATH`: Parquet and CSV through
//! DataFusion's readers, JSON lines with KQL type inference (objects and arrays become dynamic).

use crate::types::KqlType;
use crate::value::parse_datetime;
use datafusion::arrow::array::{
    ArrayRef, BooleanArray, Float64Array, Int64Array, LargeStringArray, RecordBatch, StringArray,
    TimestampNanosecondArray,
};
use datafusion::arrow::datatypes::{Field, Schema};
use datafusion::catalog::TableProvider;
use datafusion::datasource::MemTable;
use datafusion::prelude::{CsvReadOptions, ParquetReadOptions, SessionContext};
use serde_json::Value;
use std::io::BufRead;
use std::path::Path;
use std::sync::Arc;

/// A table read from a file, with what was skipped on the way.
pub struct Loaded {
    /// The rows read.
    pub table: Arc<dyn TableProvider>,
    /// Records that could not be read: (line number, reason).
    pub skipped: Vec<(usize, String)>,
}

/// Reads a file by its extension: `.parquet`, `.csv`, `.json`/`.jsonl`/`.ndjson`.
pub async fn load_file(ctx: &SessionContext, path: &Path) -> Result<Loaded, String> {
    let ext = path
        .extension()
        .and_then(|e| e.to_str())
        .unwrap_or("")
        .to_ascii_lowercase();
    let p = path
        .to_str()
        .ok_or_else(|| format!("{}: the path is not valid UTF-8", path.display()))?;
    let table: Arc<dyn TableProvider> = match ext.as_str() {
        "parquet" => ctx
            .read_parquet(p, ParquetReadOptions::default())
            .await
            .map_err(|e| format!("{p}: {}", e.strip_backtrace()))?
            .into_view(),
        "csv" => ctx
            .read_csv(p, CsvReadOptions::new())
            .await
            .map_err(|e| format!("{p}: {}", e.strip_backtrace()))?
            .into_view(),
        "json" | "jsonl" | "ndjson" => return load_json_lines(path),
        other => {
            return Err(format!(
                "{p}: unknown file type `.{other}` (expected .parquet, .csv, .jsonl)"
            ));
        }
    };
    Ok(Loaded {
        table,
        skipped: Vec::new(),
    })
}

/// The type a JSON value suggests for its column.
fn json_kind(v: &Value) -> Option<KqlType> {
    Some(match v {
        Value::Null => return None,
        Value::Bool(_) => KqlType::Bool,
        Value::Number(n) if n.is_i64() => KqlType::Long,
        Value::Number(_) => KqlType::Real,
        Value::String(s) if looks_like_datetime(s) => KqlType::Datetime,
        Value::String(_) => KqlType::String,
        Value::Array(_) | Value::Object(_) => KqlType::Dynamic,
    })
}

fn looks_like_datetime(s: &str) -> bool {
    let b = s.as_bytes();
    b.len() >= 10 && b[4] == b'-' && b[7] == b'-' && b[..4].iter().all(u8::is_ascii_digit) && parse_datetime(s).is_ok()
}

fn merge(a: Option<KqlType>, b: Option<KqlType>) -> Option<KqlType> {
    match (a, b) {
        (None, x) | (x, None) => x,
        (Some(x), Some(y)) if x == y => Some(x),
        (Some(KqlType::Long), Some(KqlType::Real)) | (Some(KqlType::Real), Some(KqlType::Long)) => Some(KqlType::Real),
        (Some(KqlType::Datetime), Some(KqlType::String)) | (Some(KqlType::String), Some(KqlType::Datetime)) => {
            Some(KqlType::String)
        }
        _ => Some(KqlType::Dynamic),
    }
}

/// JSON lines (one object per line) into an in-memory table; bad lines are skipped and reported.
pub fn load_json_lines(path: &Path) -> Result<Loaded, String> {
    let file = std::fs::File::open(path).map_err(|e| format!("{}: {e}", path.display()))?;
    let mut rows: Vec<serde_json::Map<String, Value>> = Vec::new();
    let mut skipped = Vec::new();
    let mut columns: Vec<(String, Option<KqlType>)> = Vec::new();
    for (n, line) in std::io::BufReader::new(file).lines().enumerate() {
        let line = line.map_err(|e| format!("{}: line {}: {e}", path.display(), n + 1))?;
        if line.trim().is_empty() {
            continue;
        }
        match serde_json::from_str::<Value>(&line) {
            Ok(Value::Object(m)) => {
                for (k, v) in &m {
                    match columns.iter_mut().find(|(c, _)| c == k) {
                        Some((_, t)) => *t = merge(*t, json_kind(v)),
                        None => columns.push((k.clone(), json_kind(v))),
                    }
                }
                rows.push(m);
            }
            Ok(_) => skipped.push((n + 1, "not a JSON object".to_string())),
            Err(e) => skipped.push((n + 1, format!("invalid JSON: {e}"))),
        }
    }
    let mut fields = Vec::new();
    let mut arrays: Vec<ArrayRef> = Vec::new();
    for (name, t) in &columns {
        let t = t.unwrap_or(KqlType::String);
        fn value<'r>(r: &'r serde_json::Map<String, Value>, name: &str) -> Option<&'r Value> {
            r.get(name).filter(|v| !v.is_null())
        }
        let get = |r| value(r, name);
        let array: ArrayRef = match t {
            KqlType::Bool => Arc::new(
                rows.iter()
                    .map(|r| get(r).and_then(Value::as_bool))
                    .collect::<BooleanArray>(),
            ),
            KqlType::Long => Arc::new(
                rows.iter()
                    .map(|r| get(r).and_then(Value::as_i64))
                    .collect::<Int64Array>(),
            ),
            KqlType::Real => Arc::new(
                rows.iter()
                    .map(|r| get(r).and_then(Value::as_f64))
                    .collect::<Float64Array>(),
            ),
            KqlType::Datetime => Arc::new(
                rows.iter()
                    .map(|r| get(r).and_then(Value::as_str).and_then(|s| parse_datetime(s).ok()))
                    .collect::<TimestampNanosecondArray>()
                    .with_timezone("UTC"),
            ),
            KqlType::String => Arc::new(
                rows.iter()
                    .map(|r| Some(get(r).and_then(Value::as_str).unwrap_or("")))
                    .collect::<StringArray>(),
            ),
            _ => Arc::new(
                rows.iter()
                    .map(|r| get(r).map(Value::to_string))
                    .collect::<LargeStringArray>(),
            ),
        };
        fields.push(Field::new(
            name,
            t.arrow().unwrap_or(datafusion::arrow::datatypes::DataType::LargeUtf8),
            true,
        ));
        arrays.push(array);
    }
    let schema = Arc::new(Schema::new(fields));
    let batch = if arrays.is_empty() {
        RecordBatch::new_empty(schema.clone())
    } else {
        RecordBatch::try_new(schema.clone(), arrays).map_err(|e| format!("{}: {e}", path.display()))?
    };
    let table = MemTable::try_new(schema, vec![vec![batch]]).map_err(|e| format!("{}: {e}", path.display()))?;
    Ok(Loaded {
        table: Arc::new(table),
        skipped,
    })
}
