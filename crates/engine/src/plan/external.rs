//! `externaldata`: reads a local file (plain path or `file://`) with the declared schema, when
//! the engine's [`FileAccess`] allows it; a network address plans, but refuses to run:
//! ratcatcher never fetches data over the network.

use super::{PResult, df_err, err};
use crate::FileAccess;
use crate::types::KqlType;
use crate::value::{NANOS_PER_TICK, parse_datetime};
use async_trait::async_trait;
use datafusion::arrow::array::{
    ArrayRef, BooleanArray, DurationNanosecondArray, Float64Array, Int32Array, Int64Array, LargeStringArray,
    RecordBatch, StringArray, TimestampNanosecondArray,
};
use datafusion::arrow::datatypes::{Field, Schema, SchemaRef};
use datafusion::catalog::{Session, TableProvider};
use datafusion::datasource::{MemTable, TableType};
use datafusion::error::{DataFusionError, Result};
use datafusion::logical_expr::Expr;
use datafusion::physical_plan::ExecutionPlan;
use kql::Span;
use std::io::Read;
use std::path::Path;
use std::sync::Arc;

/// A table whose source is a network address: its schema is known, reading it is refused.
#[derive(Debug)]
pub struct RefusedSource {
    schema: SchemaRef,
    uri: String,
}

#[async_trait]
impl TableProvider for RefusedSource {
    fn schema(&self) -> SchemaRef {
        self.schema.clone()
    }

    fn table_type(&self) -> TableType {
        TableType::Temporary
    }

    async fn scan(
        &self,
        _: &dyn Session,
        _: Option<&Vec<usize>>,
        _: &[Expr],
        _: Option<usize>,
    ) -> Result<Arc<dyn ExecutionPlan>> {
        Err(DataFusionError::Execution(format!(
            "externaldata: {} is a network address; ratcatcher reads local files only (download it and give its path)",
            self.uri
        )))
    }
}

/// One field of a text record as a value of the column's type (`None` for empty or invalid).
enum Col {
    Bool(Vec<Option<bool>>),
    Int(Vec<Option<i32>>),
    Long(Vec<Option<i64>>),
    Real(Vec<Option<f64>>),
    Text(Vec<String>),
    Time(Vec<Option<i64>>),
    Span(Vec<Option<i64>>),
    Json(Vec<Option<String>>),
}

impl Col {
    fn new(t: KqlType) -> Col {
        match t {
            KqlType::Bool => Col::Bool(vec![]),
            KqlType::Int => Col::Int(vec![]),
            KqlType::Long => Col::Long(vec![]),
            KqlType::Real | KqlType::Decimal => Col::Real(vec![]),
            KqlType::Datetime => Col::Time(vec![]),
            KqlType::Timespan => Col::Span(vec![]),
            KqlType::Dynamic => Col::Json(vec![]),
            KqlType::String | KqlType::Guid => Col::Text(vec![]),
        }
    }

    fn push(&mut self, raw: Option<&str>) {
        let v = raw.map(str::trim).filter(|s| !s.is_empty());
        match self {
            Col::Bool(c) => c.push(v.and_then(|s| match s.to_ascii_lowercase().as_str() {
                "true" | "1" => Some(true),
                "false" | "0" => Some(false),
                _ => None,
            })),
            Col::Int(c) => c.push(v.and_then(|s| s.parse().ok())),
            Col::Long(c) => c.push(v.and_then(|s| s.parse().ok())),
            Col::Real(c) => c.push(v.and_then(|s| s.parse().ok())),
            Col::Text(c) => c.push(raw.unwrap_or("").to_string()),
            Col::Time(c) => c.push(v.and_then(|s| parse_datetime(s).ok())),
            Col::Span(c) => c.push(v.and_then(kql::parser::parse_timespan_text).map(|t| t * NANOS_PER_TICK)),
            Col::Json(c) => c.push(v.map(|s| crate::functions::dynamic::parse_value(s).to_string())),
        }
    }

    fn finish(self) -> ArrayRef {
        match self {
            Col::Bool(c) => Arc::new(c.into_iter().collect::<BooleanArray>()),
            Col::Int(c) => Arc::new(c.into_iter().collect::<Int32Array>()),
            Col::Long(c) => Arc::new(c.into_iter().collect::<Int64Array>()),
            Col::Real(c) => Arc::new(c.into_iter().collect::<Float64Array>()),
            Col::Text(c) => Arc::new(c.into_iter().map(Some).collect::<StringArray>()),
            Col::Time(c) => Arc::new(c.into_iter().collect::<TimestampNanosecondArray>().with_timezone("UTC")),
            Col::Span(c) => Arc::new(c.into_iter().collect::<DurationNanosecondArray>()),
            Col::Json(c) => Arc::new(c.into_iter().collect::<LargeStringArray>()),
        }
    }
}

/// Reads the file at `checked`, a canonical path [`FileAccess::check`] allowed: a regular file
/// only (not a device or pipe), and only if the file opened is still the one checked (no
/// symlink swapped in since the check).
fn read_checked(checked: &Path) -> std::io::Result<String> {
    let not_regular = || std::io::Error::other("not a regular file");
    if !std::fs::metadata(checked)?.is_file() {
        return Err(not_regular());
    }
    let mut file = std::fs::File::open(checked)?;
    let opened = file.metadata()?;
    if !opened.is_file() {
        return Err(not_regular());
    }
    let now = std::fs::symlink_metadata(checked)?;
    let same = {
        #[cfg(unix)]
        {
            use std::os::unix::fs::MetadataExt;
            (opened.dev(), opened.ino()) == (now.dev(), now.ino())
        }
        #[cfg(not(unix))]
        {
            now.is_file()
        }
    };
    if !same || std::fs::canonicalize(checked)? != checked {
        return Err(std::io::Error::other("the file changed while it was being opened"));
    }
    let mut text = String::new();
    file.read_to_string(&mut text)?;
    Ok(text)
}

/// The table for `externaldata(schema) [uri] with (format=..., ignoreFirstRecord=...)`; a local
/// file is read only when `access` allows it.
pub fn external_table(
    columns: &[(String, KqlType)],
    uri: &str,
    format: &str,
    skip_first: bool,
    access: &FileAccess,
    span: Span,
) -> PResult<Arc<dyn TableProvider>> {
    let fields: Vec<Field> = columns
        .iter()
        .map(|(n, t)| {
            Field::new(
                n,
                t.arrow().unwrap_or(datafusion::arrow::datatypes::DataType::Float64),
                true,
            )
        })
        .collect();
    let schema = Arc::new(Schema::new(fields));
    let lower = uri.to_ascii_lowercase();
    let path = if let Some(p) = lower.strip_prefix("file://").map(|_| &uri[7..]) {
        p.to_string()
    } else if lower.contains("://") {
        return Ok(Arc::new(RefusedSource {
            schema,
            uri: uri.to_string(),
        }));
    } else {
        uri.to_string()
    };
    // Checked before anything is opened; the canonical path checked is the one read.
    let checked = access.check(Path::new(&path)).map_err(|m| err(span, m))?;
    let text = read_checked(&checked).map_err(|e| err(span, format!("externaldata: {path}: {e}")))?;
    let mut cols: Vec<Col> = columns.iter().map(|(_, t)| Col::new(*t)).collect();
    match format.to_ascii_lowercase().as_str() {
        "csv" | "tsv" | "psv" | "scsv" | "txt" | "raw" => {
            let delim = match format {
                "tsv" => b'\t',
                "psv" => b'|',
                "scsv" => b';',
                _ => b',',
            };
            if matches!(format, "txt" | "raw") {
                for line in text.lines().skip(usize::from(skip_first)) {
                    for (i, c) in cols.iter_mut().enumerate() {
                        c.push(if i == 0 { Some(line) } else { None });
                    }
                }
            } else {
                let mut rdr = csv::ReaderBuilder::new()
                    .has_headers(false)
                    .flexible(true)
                    .delimiter(delim)
                    .from_reader(text.as_bytes());
                for (n, rec) in rdr.records().enumerate().skip(usize::from(skip_first)) {
                    let rec = rec.map_err(|e| err(span, format!("externaldata: {path}: record {}: {e}", n + 1)))?;
                    for (i, c) in cols.iter_mut().enumerate() {
                        c.push(rec.get(i));
                    }
                }
            }
        }
        "json" | "multijson" => {
            for (n, line) in text.lines().enumerate().filter(|(_, l)| !l.trim().is_empty()) {
                let v: serde_json::Value = serde_json::from_str(line)
                    .map_err(|e| err(span, format!("externaldata: {path}: line {}: {e}", n + 1)))?;
                for ((name, _), c) in columns.iter().zip(cols.iter_mut()) {
                    let cell = v.get(name).filter(|x| !x.is_null()).map(|x| match x {
                        serde_json::Value::String(s) => s.clone(),
                        other => other.to_string(),
                    });
                    c.push(cell.as_deref());
                }
            }
        }
        other => {
            return Err(err(
                span,
                format!("externaldata format `{other}` is not supported (csv, tsv, psv, txt, json, multijson)"),
            ));
        }
    }
    let arrays: Vec<ArrayRef> = cols.into_iter().map(Col::finish).collect();
    let batch = RecordBatch::try_new(schema.clone(), arrays).map_err(|e| df_err(span, e.into()))?;
    Ok(Arc::new(
        MemTable::try_new(schema, vec![vec![batch]]).map_err(|e| df_err(span, e))?,
    ))
}
