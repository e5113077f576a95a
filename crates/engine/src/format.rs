//! Result rendering: Kusto's text forms of values, and JSON lines, JSON, CSV and table output.

use crate::functions::dynamic::parse_value;
use crate::functions::scalar::format_real;
use crate::value::{format_datetime, format_timespan};
use datafusion::arrow::array::{Array, ArrayRef, AsArray, RecordBatch};
use datafusion::arrow::datatypes::{
    DataType, DurationNanosecondType, Float32Type, Float64Type, Int8Type, Int16Type, Int32Type, Int64Type, TimeUnit,
    TimestampMicrosecondType, TimestampMillisecondType, TimestampNanosecondType, TimestampSecondType, UInt8Type,
    UInt16Type, UInt32Type, UInt64Type,
};
use serde_json::Value;
use std::io::{self, Write};

/// A cell as a JSON value: datetimes ISO 8601 UTC, timespans `[d.]hh:mm:ss[.fffffff]`, dynamic as JSON.
pub fn cell_json(a: &ArrayRef, i: usize) -> Value {
    if a.is_null(i) {
        return Value::Null;
    }
    macro_rules! num {
        ($t:ty) => {
            Value::from(a.as_primitive::<$t>().value(i))
        };
    }
    match a.data_type() {
        DataType::Boolean => Value::Bool(a.as_boolean().value(i)),
        DataType::Int8 => num!(Int8Type),
        DataType::Int16 => num!(Int16Type),
        DataType::Int32 => num!(Int32Type),
        DataType::Int64 => num!(Int64Type),
        DataType::UInt8 => num!(UInt8Type),
        DataType::UInt16 => num!(UInt16Type),
        DataType::UInt32 => num!(UInt32Type),
        DataType::UInt64 => num!(UInt64Type),
        DataType::Float32 => f64_json(f64::from(a.as_primitive::<Float32Type>().value(i))),
        DataType::Float64 => f64_json(a.as_primitive::<Float64Type>().value(i)),
        DataType::Utf8 => Value::String(a.as_string::<i32>().value(i).to_string()),
        DataType::Utf8View => Value::String(a.as_string_view().value(i).to_string()),
        DataType::LargeUtf8 => parse_value(a.as_string::<i64>().value(i)),
        DataType::Timestamp(unit, _) => {
            let nanos = match unit {
                TimeUnit::Nanosecond => a.as_primitive::<TimestampNanosecondType>().value(i),
                TimeUnit::Microsecond => a
                    .as_primitive::<TimestampMicrosecondType>()
                    .value(i)
                    .saturating_mul(1_000),
                TimeUnit::Millisecond => a
                    .as_primitive::<TimestampMillisecondType>()
                    .value(i)
                    .saturating_mul(1_000_000),
                TimeUnit::Second => a
                    .as_primitive::<TimestampSecondType>()
                    .value(i)
                    .saturating_mul(1_000_000_000),
            };
            Value::String(format_datetime(nanos))
        }
        DataType::Duration(TimeUnit::Nanosecond) => {
            Value::String(format_timespan(a.as_primitive::<DurationNanosecondType>().value(i)))
        }
        _ => match datafusion::arrow::util::display::array_value_to_string(a, i) {
            Ok(s) => Value::String(s),
            Err(_) => Value::Null,
        },
    }
}

fn f64_json(f: f64) -> Value {
    serde_json::Number::from_f64(f).map_or_else(|| Value::String(format_real(f)), Value::Number)
}

/// A cell as text (CSV and table output): strings as they are, other values as Kusto prints them.
pub fn cell_text(a: &ArrayRef, i: usize) -> String {
    match cell_json(a, i) {
        Value::Null => String::new(),
        Value::String(s) => s,
        Value::Number(n) if matches!(a.data_type(), DataType::Float64 | DataType::Float32) => {
            format_real(n.as_f64().unwrap_or(f64::NAN))
        }
        other => other.to_string(),
    }
}

/// One JSON object per row, keys in column order.
pub fn write_jsonl(out: &mut impl Write, batch: &RecordBatch) -> io::Result<()> {
    let names: Vec<&String> = batch.schema_ref().fields().iter().map(|f| f.name()).collect();
    for row in 0..batch.num_rows() {
        let mut obj = serde_json::Map::new();
        for (c, name) in names.iter().enumerate() {
            obj.insert((*name).clone(), cell_json(batch.column(c), row));
        }
        serde_json::to_writer(&mut *out, &Value::Object(obj))?;
        out.write_all(b"\n")?;
    }
    Ok(())
}

fn csv_field(s: &str) -> String {
    if s.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s.to_string()
    }
}

pub fn write_csv_header(out: &mut impl Write, schema: &datafusion::arrow::datatypes::Schema) -> io::Result<()> {
    let h: Vec<String> = schema.fields().iter().map(|f| csv_field(f.name())).collect();
    writeln!(out, "{}", h.join(","))
}

pub fn write_csv_rows(out: &mut impl Write, batch: &RecordBatch) -> io::Result<()> {
    for row in 0..batch.num_rows() {
        let cells: Vec<String> = batch.columns().iter().map(|c| csv_field(&cell_text(c, row))).collect();
        writeln!(out, "{}", cells.join(","))?;
    }
    Ok(())
}

/// A text table for a terminal (long cells are cut at `max_width` characters).
pub fn write_table(
    out: &mut impl Write,
    schema: &datafusion::arrow::datatypes::Schema,
    batches: &[RecordBatch],
    max_width: usize,
) -> io::Result<()> {
    let headers: Vec<String> = schema.fields().iter().map(|f| f.name().clone()).collect();
    let mut rows: Vec<Vec<String>> = Vec::new();
    for b in batches {
        for r in 0..b.num_rows() {
            rows.push(
                b.columns()
                    .iter()
                    .map(|c| {
                        let t = cell_text(c, r).replace(['\n', '\r', '\t'], " ");
                        if t.chars().count() > max_width {
                            format!("{}…", t.chars().take(max_width - 1).collect::<String>())
                        } else {
                            t
                        }
                    })
                    .collect(),
            );
        }
    }
    let mut widths: Vec<usize> = headers.iter().map(|h| h.chars().count()).collect();
    for r in &rows {
        for (i, c) in r.iter().enumerate() {
            widths[i] = widths[i].max(c.chars().count());
        }
    }
    let line = |cells: &[String]| -> String {
        cells
            .iter()
            .enumerate()
            .map(|(i, c)| format!("{c:<w$}", w = widths[i]))
            .collect::<Vec<_>>()
            .join("  ")
            .trim_end()
            .to_string()
    };
    writeln!(out, "{}", line(&headers))?;
    writeln!(
        out,
        "{}",
        widths.iter().map(|w| "-".repeat(*w)).collect::<Vec<_>>().join("  ")
    )?;
    for r in &rows {
        writeln!(out, "{}", line(r))?;
    }
    Ok(())
}
