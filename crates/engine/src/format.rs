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
    let mut buf = Vec::with_capacity(batch.num_rows() * 64);
    encode_jsonl(&mut buf, batch);
    out.write_all(&buf)
}

/// Appends the JSON lines of `batch` to `buf`: the bytes [`cell_json`] values serialized in a
/// JSON object per row would give, written straight from the Arrow arrays (one encoder per
/// column, chosen once per batch).
pub fn encode_jsonl(buf: &mut Vec<u8>, batch: &RecordBatch) {
    // As a JSON object, a repeated name keeps its first place and its last value.
    let schema = batch.schema_ref();
    let mut columns: Vec<(Vec<u8>, Encoder<'_>)> = Vec::new();
    let mut seen: Vec<&str> = Vec::new();
    for (c, field) in schema.fields().iter().enumerate() {
        let name = field.name().as_str();
        let last = schema.fields().iter().rposition(|f| f.name() == name).unwrap_or(c);
        if seen.contains(&name) {
            continue;
        }
        seen.push(name);
        let mut key = Vec::with_capacity(name.len() + 4);
        key.extend_from_slice(if columns.is_empty() { b"{" } else { b"," });
        escape_json_string(&mut key, name);
        key.push(b':');
        columns.push((key, Encoder::new(batch.column(last))));
    }
    for row in 0..batch.num_rows() {
        if columns.is_empty() {
            buf.push(b'{');
        }
        for (key, enc) in &columns {
            buf.extend_from_slice(key);
            enc.write(buf, row);
        }
        buf.extend_from_slice(b"}\n");
    }
}

/// How one column's cells are written as JSON.
enum Encoder<'a> {
    Bool(&'a datafusion::arrow::array::BooleanArray),
    Int32(&'a datafusion::arrow::array::Int32Array),
    Int64(&'a datafusion::arrow::array::Int64Array),
    Float64(&'a datafusion::arrow::array::Float64Array),
    Utf8(&'a datafusion::arrow::array::StringArray),
    Utf8View(&'a datafusion::arrow::array::StringViewArray),
    /// `dynamic`: JSON text, re-serialized as `cell_json` does.
    Dynamic(&'a datafusion::arrow::array::LargeStringArray),
    Datetime(&'a datafusion::arrow::array::TimestampNanosecondArray),
    Timespan(&'a datafusion::arrow::array::DurationNanosecondArray),
    /// Any other type, through `cell_json`.
    Other(&'a ArrayRef),
}

impl<'a> Encoder<'a> {
    fn new(a: &'a ArrayRef) -> Encoder<'a> {
        match a.data_type() {
            DataType::Boolean => Encoder::Bool(a.as_boolean()),
            DataType::Int32 => Encoder::Int32(a.as_primitive::<Int32Type>()),
            DataType::Int64 => Encoder::Int64(a.as_primitive::<Int64Type>()),
            DataType::Float64 => Encoder::Float64(a.as_primitive::<Float64Type>()),
            DataType::Utf8 => Encoder::Utf8(a.as_string::<i32>()),
            DataType::Utf8View => Encoder::Utf8View(a.as_string_view()),
            DataType::LargeUtf8 => Encoder::Dynamic(a.as_string::<i64>()),
            DataType::Timestamp(TimeUnit::Nanosecond, _) => {
                Encoder::Datetime(a.as_primitive::<TimestampNanosecondType>())
            }
            DataType::Duration(TimeUnit::Nanosecond) => Encoder::Timespan(a.as_primitive::<DurationNanosecondType>()),
            _ => Encoder::Other(a),
        }
    }

    fn write(&self, buf: &mut Vec<u8>, i: usize) {
        let null = match self {
            Encoder::Bool(a) => a.is_null(i),
            Encoder::Int32(a) => a.is_null(i),
            Encoder::Int64(a) => a.is_null(i),
            Encoder::Float64(a) => a.is_null(i),
            Encoder::Utf8(a) => a.is_null(i),
            Encoder::Utf8View(a) => a.is_null(i),
            Encoder::Dynamic(a) => a.is_null(i),
            Encoder::Datetime(a) => a.is_null(i),
            Encoder::Timespan(a) => a.is_null(i),
            Encoder::Other(a) => a.is_null(i),
        };
        if null {
            buf.extend_from_slice(b"null");
            return;
        }
        match self {
            Encoder::Bool(a) => buf.extend_from_slice(if a.value(i) { b"true" } else { b"false" }),
            Encoder::Int32(a) => write_serde(buf, &a.value(i)),
            Encoder::Int64(a) => write_serde(buf, &a.value(i)),
            Encoder::Float64(a) => {
                let f = a.value(i);
                if f.is_finite() {
                    write_serde(buf, &f);
                } else {
                    escape_json_string(buf, &format_real(f));
                }
            }
            Encoder::Utf8(a) => escape_json_string(buf, a.value(i)),
            Encoder::Utf8View(a) => escape_json_string(buf, a.value(i)),
            Encoder::Dynamic(a) => write_serde(buf, &parse_value(a.value(i))),
            Encoder::Datetime(a) => push_datetime(buf, a.value(i)),
            Encoder::Timespan(a) => escape_json_string(buf, &format_timespan(a.value(i))),
            Encoder::Other(a) => write_serde(buf, &cell_json(a, i)),
        }
    }
}

fn write_serde<T: serde::Serialize + ?Sized>(buf: &mut Vec<u8>, v: &T) {
    // Writing into a Vec cannot fail, and these values always serialize.
    let _ = serde_json::to_writer(&mut *buf, v);
}

/// `s` as a JSON string, escaped as serde_json escapes it.
pub fn escape_json_string(buf: &mut Vec<u8>, s: &str) {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    buf.push(b'"');
    let bytes = s.as_bytes();
    let mut start = 0;
    for (i, &b) in bytes.iter().enumerate() {
        let esc: &[u8] = match b {
            b'"' => b"\\\"",
            b'\\' => b"\\\\",
            b'\n' => b"\\n",
            b'\r' => b"\\r",
            b'\t' => b"\\t",
            0x08 => b"\\b",
            0x0c => b"\\f",
            0x00..=0x1f => b"",
            _ => continue,
        };
        buf.extend_from_slice(&bytes[start..i]);
        if esc.is_empty() {
            buf.extend_from_slice(b"\\u00");
            buf.push(HEX[usize::from(b >> 4)]);
            buf.push(HEX[usize::from(b & 0xf)]);
        } else {
            buf.extend_from_slice(esc);
        }
        start = i + 1;
    }
    buf.extend_from_slice(&bytes[start..]);
    buf.push(b'"');
}

/// A datetime as a JSON string, the text of [`format_datetime`] written without allocating.
fn push_datetime(buf: &mut Vec<u8>, nanos: i64) {
    use crate::value::{NANOS_PER_DAY, NANOS_PER_SECOND, NANOS_PER_TICK, civil_from_days};
    let days = nanos.div_euclid(NANOS_PER_DAY);
    let rem = nanos.rem_euclid(NANOS_PER_DAY);
    let (y, m, d) = civil_from_days(days);
    if !(0..=9999).contains(&y) {
        escape_json_string(buf, &format_datetime(nanos));
        return;
    }
    let digits = |buf: &mut Vec<u8>, v: i64, n: u32| {
        for k in (0..n).rev() {
            buf.push(b'0' + ((v / 10i64.pow(k)) % 10) as u8);
        }
    };
    let secs = rem / NANOS_PER_SECOND;
    let frac = rem % NANOS_PER_SECOND;
    buf.push(b'"');
    digits(buf, y, 4);
    buf.push(b'-');
    digits(buf, i64::from(m), 2);
    buf.push(b'-');
    digits(buf, i64::from(d), 2);
    buf.push(b'T');
    digits(buf, secs / 3600, 2);
    buf.push(b':');
    digits(buf, secs / 60 % 60, 2);
    buf.push(b':');
    digits(buf, secs % 60, 2);
    if frac != 0 {
        buf.push(b'.');
        digits(buf, frac / NANOS_PER_TICK, 7);
    }
    buf.extend_from_slice(b"Z\"");
}

fn csv_field(s: &str) -> String {
    if s.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s.to_string()
    }
}

/// Writes the CSV header line: the column names, quoted where CSV needs it.
pub fn write_csv_header(out: &mut impl Write, schema: &datafusion::arrow::datatypes::Schema) -> io::Result<()> {
    let h: Vec<String> = schema.fields().iter().map(|f| csv_field(f.name())).collect();
    writeln!(out, "{}", h.join(","))
}

/// Writes each row of `batch` as a CSV line, cells as Kusto renders them.
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

#[cfg(test)]
mod tests {
    use super::*;
    use datafusion::arrow::array::{
        BooleanArray, DurationNanosecondArray, Float64Array, Int32Array, Int64Array, LargeStringArray, StringArray,
        StringViewArray, TimestampMicrosecondArray, TimestampNanosecondArray, UInt8Array,
    };
    use datafusion::arrow::datatypes::{Field, Schema};
    use std::sync::Arc;

    /// The JSON lines writer before the Arrow encoders: a serde_json map of `cell_json` values per row.
    fn reference_jsonl(batch: &RecordBatch) -> Vec<u8> {
        let mut out = Vec::new();
        let names: Vec<&String> = batch.schema_ref().fields().iter().map(|f| f.name()).collect();
        // Keys in column order (a serde_json Map would sort them).
        for row in 0..batch.num_rows() {
            // A repeated name keeps its first position and its last value, as a JSON object does.
            let mut pairs: Vec<(&String, Value)> = Vec::new();
            for (c, name) in names.iter().enumerate() {
                let v = cell_json(batch.column(c), row);
                match pairs.iter_mut().find(|(n, _)| n == name) {
                    Some(p) => p.1 = v,
                    None => pairs.push((name, v)),
                }
            }
            let fields: Vec<String> = pairs
                .iter()
                .map(|(name, v)| {
                    let key = serde_json::to_string(name).unwrap();
                    format!("{key}:{}", serde_json::to_string(v).unwrap())
                })
                .collect();
            out.extend_from_slice(format!("{{{}}}\n", fields.join(",")).as_bytes());
        }
        out
    }

    #[test]
    fn fast_writer_matches_cell_json_on_every_type() {
        const DAY: i64 = 86_400_000_000_000;
        let datetimes = vec![
            Some(0),
            None,
            Some(1_710_504_000_000_000_000),
            Some(1_710_504_000_123_456_700),
            Some(1_710_504_000_000_000_050), // below a tick
            Some(-1),
            Some(-DAY * 36_500),    // 1870
            Some(DAY * 100_000),    // 2243
            Some(DAY * 10_957 + 1), // 2000-01-01, one nanosecond past midnight
            Some(i64::MIN),
            Some(i64::MAX),
        ];
        let n = datetimes.len();
        let pick = |k: usize| k % n;
        let texts = [
            "plain",
            "",
            "quote \" back \\ slash",
            "ctl \n\r\t\u{8}\u{c}\u{1}\u{1f}\u{7f}",
            "é ü 中 🦀",
            "/slash",
            "a",
            "b",
            "c",
            "d",
            "e",
        ];
        let dyns = [
            Some("{\"b\": 1, \"a\": [1, 2.50, \"x\"]}"),
            None,
            Some("not json"),
            Some("12"),
            Some("1.0e3"),
            Some("\"s\\u00e9\""),
            Some("null"),
            Some("[]"),
            Some("{}"),
            Some("true"),
            Some("-0"),
        ];
        let reals = [
            Some(0.0),
            Some(-0.0),
            Some(1.5),
            Some(1e300),
            Some(f64::NAN),
            Some(f64::INFINITY),
            Some(f64::NEG_INFINITY),
            None,
            Some(0.1 + 0.2),
            Some(123_456_789.0),
            Some(f64::MIN_POSITIVE),
        ];
        let schema = Arc::new(Schema::new(vec![
            Field::new("b", DataType::Boolean, true),
            Field::new("i", DataType::Int32, true),
            Field::new("l", DataType::Int64, true),
            Field::new("r", DataType::Float64, true),
            Field::new("s", DataType::Utf8, true),
            Field::new("v", DataType::Utf8View, true),
            Field::new("d", DataType::LargeUtf8, true),
            Field::new("t", crate::types::datetime_type(), true),
            Field::new("ts", DataType::Duration(TimeUnit::Nanosecond), true),
            Field::new("us", DataType::Timestamp(TimeUnit::Microsecond, None), true),
            Field::new("u8", DataType::UInt8, true),
            Field::new("ke\"y\n", DataType::Int64, true),
        ]));
        let columns: Vec<ArrayRef> = vec![
            Arc::new(BooleanArray::from(
                (0..n).map(|k| (k % 3 != 1).then_some(k % 2 == 0)).collect::<Vec<_>>(),
            )),
            Arc::new(Int32Array::from(
                (0..n)
                    .map(|k| (k != 1).then_some(k as i32 * -7_000_001))
                    .collect::<Vec<_>>(),
            )),
            Arc::new(Int64Array::from(
                (0..n)
                    .map(|k| [Some(i64::MIN), None, Some(i64::MAX), Some(0)][k % 4])
                    .collect::<Vec<_>>(),
            )),
            Arc::new(Float64Array::from(reals.to_vec())),
            Arc::new(StringArray::from(
                (0..n).map(|k| (k != 3).then_some(texts[k])).collect::<Vec<_>>(),
            )),
            Arc::new(StringViewArray::from(
                (0..n).map(|k| Some(texts[pick(k + 3)])).collect::<Vec<_>>(),
            )),
            Arc::new(LargeStringArray::from(dyns.to_vec())),
            Arc::new(TimestampNanosecondArray::from(datetimes.clone()).with_timezone("UTC")),
            Arc::new(DurationNanosecondArray::from(datetimes.clone())),
            Arc::new(TimestampMicrosecondArray::from(
                (0..n)
                    .map(|k| (k != 2).then_some(k as i64 * 1_234_567))
                    .collect::<Vec<_>>(),
            )),
            Arc::new(UInt8Array::from((0..n).map(|k| Some(k as u8 * 20)).collect::<Vec<_>>())),
            Arc::new(Int64Array::from((0..n).map(|k| Some(k as i64)).collect::<Vec<_>>())),
        ];
        let batch = RecordBatch::try_new(schema, columns).unwrap();
        let mut fast = Vec::new();
        write_jsonl(&mut fast, &batch).unwrap();
        let want = reference_jsonl(&batch);
        assert_eq!(String::from_utf8(fast).unwrap(), String::from_utf8(want).unwrap());
    }

    #[test]
    fn fast_writer_keeps_json_object_rules_for_repeated_and_no_columns() {
        let schema = Arc::new(Schema::new(vec![
            Field::new("x", DataType::Int64, true),
            Field::new("y", DataType::Int64, true),
            Field::new("x", DataType::Utf8, true),
        ]));
        let columns: Vec<ArrayRef> = vec![
            Arc::new(Int64Array::from(vec![1, 2])),
            Arc::new(Int64Array::from(vec![3, 4])),
            Arc::new(StringArray::from(vec!["a", "b"])),
        ];
        let batch = RecordBatch::try_new(schema, columns).unwrap();
        let mut fast = Vec::new();
        write_jsonl(&mut fast, &batch).unwrap();
        assert_eq!(fast, reference_jsonl(&batch));
        assert_eq!(
            String::from_utf8(fast).unwrap(),
            "{\"x\":\"a\",\"y\":3}\n{\"x\":\"b\",\"y\":4}\n"
        );
        let empty = RecordBatch::try_new_with_options(
            Arc::new(Schema::empty()),
            vec![],
            &datafusion::arrow::array::RecordBatchOptions::new().with_row_count(Some(2)),
        )
        .unwrap();
        let mut fast = Vec::new();
        write_jsonl(&mut fast, &empty).unwrap();
        assert_eq!(fast, b"{}\n{}\n");
    }
}
