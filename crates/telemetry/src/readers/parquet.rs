//! Parquet input: the table comes from the `ratcatcher.table` schema metadata, the file or folder
//! name or the columns; each column is converted by name to the table's type. Datetime columns
//! accept Arrow timestamps of any unit and zone, dates, date-time text (the rules of
//! [`crate::time::parse_datetime`]) and epoch numbers (unit by magnitude); `dynamic` and string
//! columns take struct, list and map columns as JSON text. A value that does not convert is null
//! and counted, with the row of the first, in one warning per column.

use std::fs::File;
use std::sync::Arc;

use datafusion::arrow::array::{
    Array, ArrayRef, AsArray, LargeStringArray, StringArray, TimestampNanosecondArray, new_null_array,
};
use datafusion::arrow::compute::{CastOptions, cast, cast_with_options};
use datafusion::arrow::datatypes::{DataType, Field, Float64Type, Int64Type};
use datafusion::arrow::error::ArrowError;
use datafusion::arrow::json::writer::{EncoderOptions, make_encoder};
use datafusion::arrow::record_batch::RecordBatch;
use datafusion::parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;

use super::Ingestor;
use super::export::infer_table;
use crate::Error;
use crate::report::Location;
use crate::schema::{self, TABLE_NAME_KEY, TableDef};
use crate::time::parse_datetime;

/// One converted column: the array, and how many values did not convert (with the index of the
/// first).
struct Converted {
    array: ArrayRef,
    bad: u64,
    first_bad: Option<usize>,
}

impl Converted {
    fn ok(array: ArrayRef) -> Converted {
        Converted {
            array,
            bad: 0,
            first_bad: None,
        }
    }

    /// Counts the values that are set in `source` and null in `array`.
    fn compared(source: &dyn Array, array: ArrayRef) -> Converted {
        let mut bad = 0;
        let mut first_bad = None;
        if array.null_count() > source.null_count() {
            for i in 0..source.len().min(array.len()) {
                if source.is_valid(i) && array.is_null(i) {
                    bad += 1;
                    first_bad.get_or_insert(i);
                }
            }
        }
        Converted { array, bad, first_bad }
    }

    /// Nothing converted: a null column, every set value counted.
    fn failed(source: &dyn Array, target: &DataType) -> Converted {
        Converted::compared(source, new_null_array(target, source.len()))
    }
}

/// Epoch time in an unknown unit to nanoseconds, the unit told by the magnitude: below 10^11
/// seconds (up to the year 5138), below 10^14 milliseconds, below 10^17 microseconds, else
/// nanoseconds.
fn epoch_nanos(v: i64) -> Option<i64> {
    let a = v.unsigned_abs();
    let scale: i64 = if a < 100_000_000_000 {
        1_000_000_000
    } else if a < 100_000_000_000_000 {
        1_000_000
    } else if a < 100_000_000_000_000_000 {
        1_000
    } else {
        1
    };
    v.checked_mul(scale)
}

fn epoch_nanos_f64(v: f64) -> Option<i64> {
    if !v.is_finite() {
        return None;
    }
    let a = v.abs();
    let scale = if a < 1e11 {
        1e9
    } else if a < 1e14 {
        1e6
    } else if a < 1e17 {
        1e3
    } else {
        1.0
    };
    let ns = (v * scale).round();
    (ns.abs() < 9.2e18).then_some(ns as i64)
}

/// Any column to `Timestamp(ns, UTC)`.
fn to_datetime(a: &ArrayRef, target: &DataType) -> Converted {
    let nanos = |values: Vec<Option<i64>>| -> ArrayRef {
        let n = values.len();
        let naive: ArrayRef = Arc::new(TimestampNanosecondArray::from(values));
        cast(&naive, target).unwrap_or_else(|_| new_null_array(target, n))
    };
    match a.data_type() {
        DataType::Timestamp(_, _) | DataType::Date32 | DataType::Date64 => match cast(a, target) {
            Ok(c) => Converted::compared(a.as_ref(), c),
            Err(_) => Converted::failed(a.as_ref(), target),
        },
        DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View | DataType::Dictionary(_, _) => {
            let Ok(text) = cast(a, &DataType::Utf8) else {
                return Converted::failed(a.as_ref(), target);
            };
            let Some(text) = text.as_string_opt::<i32>() else {
                return Converted::failed(a.as_ref(), target);
            };
            let (mut bad, mut first_bad) = (0u64, None);
            let values = text
                .iter()
                .enumerate()
                .map(|(i, v)| match v {
                    // Empty text is no value, not a bad one.
                    Some(s) if !s.trim().is_empty() => {
                        let t = parse_datetime(s);
                        if t.is_none() {
                            bad += 1;
                            first_bad.get_or_insert(i);
                        }
                        t
                    }
                    _ => None,
                })
                .collect();
            Converted {
                array: nanos(values),
                bad,
                first_bad,
            }
        }
        t if t.is_integer() => match cast(a, &DataType::Int64) {
            Ok(ints) => {
                let values = ints
                    .as_primitive::<Int64Type>()
                    .iter()
                    .map(|v| v.and_then(epoch_nanos))
                    .collect();
                Converted::compared(a.as_ref(), nanos(values))
            }
            Err(_) => Converted::failed(a.as_ref(), target),
        },
        t if t.is_floating() => match cast(a, &DataType::Float64) {
            Ok(f) => {
                let values = f
                    .as_primitive::<Float64Type>()
                    .iter()
                    .map(|v| v.and_then(epoch_nanos_f64))
                    .collect();
                Converted::compared(a.as_ref(), nanos(values))
            }
            Err(_) => Converted::failed(a.as_ref(), target),
        },
        _ => Converted::failed(a.as_ref(), target),
    }
}

fn is_nested(t: &DataType) -> bool {
    match t {
        DataType::Struct(_)
        | DataType::List(_)
        | DataType::LargeList(_)
        | DataType::FixedSizeList(_, _)
        | DataType::ListView(_)
        | DataType::LargeListView(_)
        | DataType::Map(_, _)
        | DataType::Union(_, _) => true,
        DataType::Dictionary(_, v) => is_nested(v),
        _ => false,
    }
}

/// A nested column as JSON text, one value per row (null rows stay null).
fn to_json_text(a: &ArrayRef, large: bool) -> Result<ArrayRef, ArrowError> {
    let field = Arc::new(Field::new("value", a.data_type().clone(), true));
    let options = EncoderOptions::default();
    let mut encoder = make_encoder(&field, a.as_ref(), &options)?;
    let mut buf = Vec::new();
    let values: Vec<Option<String>> = (0..a.len())
        .map(|i| {
            if a.is_null(i) || encoder.is_null(i) {
                return None;
            }
            buf.clear();
            encoder.encode(i, &mut buf);
            Some(String::from_utf8_lossy(&buf).into_owned())
        })
        .collect();
    Ok(if large {
        Arc::new(LargeStringArray::from(values))
    } else {
        Arc::new(StringArray::from(values))
    })
}

/// One column to the type of the table's column.
fn convert(a: &ArrayRef, target: &DataType) -> Converted {
    if a.data_type() == target {
        return Converted::ok(Arc::clone(a));
    }
    if matches!(target, DataType::Timestamp(_, _)) {
        return to_datetime(a, target);
    }
    if matches!(target, DataType::Utf8 | DataType::LargeUtf8) && is_nested(a.data_type()) {
        return match to_json_text(a, *target == DataType::LargeUtf8) {
            Ok(c) => Converted::compared(a.as_ref(), c),
            Err(_) => Converted::failed(a.as_ref(), target),
        };
    }
    let options = CastOptions {
        safe: true,
        ..CastOptions::default()
    };
    match cast_with_options(a, target, &options) {
        Ok(c) => Converted::compared(a.as_ref(), c),
        Err(_) => Converted::failed(a.as_ref(), target),
    }
}

/// Fills the nulls of one `Timestamp(ns)` column from another (`Timestamp` ↔ `TimeGenerated`).
fn fill_time(this: &ArrayRef, other: &ArrayRef) -> ArrayRef {
    if this.null_count() == 0 || other.null_count() == other.len() {
        return Arc::clone(this);
    }
    let (Some(a), Some(b)) = (
        this.as_any().downcast_ref::<TimestampNanosecondArray>(),
        other.as_any().downcast_ref::<TimestampNanosecondArray>(),
    ) else {
        return Arc::clone(this);
    };
    let filled: TimestampNanosecondArray = a.iter().zip(b.iter()).map(|(x, y)| x.or(y)).collect();
    Arc::new(filled.with_timezone_opt(a.timezone().map(str::to_string)))
}

/// Fills the nulls of a string column with `value`.
fn fill_text(this: &ArrayRef, value: &str) -> ArrayRef {
    if this.null_count() == 0 {
        return Arc::clone(this);
    }
    match this.as_string_opt::<i32>() {
        Some(s) => Arc::new(s.iter().map(|v| Some(v.unwrap_or(value))).collect::<StringArray>()),
        None => Arc::clone(this),
    }
}

/// A column that had values which did not convert: its name, how many, the index of the first.
type BadColumn = (String, u64, usize);

/// A batch in a table's schema, and the columns that had unconvertible values.
fn conform(batch: &RecordBatch, table: &TableDef) -> Result<(RecordBatch, Vec<BadColumn>), Error> {
    let schema = table.schema();
    let mut arrays: Vec<ArrayRef> = Vec::with_capacity(schema.fields().len());
    let mut bad = Vec::new();
    for field in schema.fields() {
        let arr = match batch.column_by_name(field.name()) {
            Some(a) => {
                let c = convert(a, field.data_type());
                if let Some(first) = c.first_bad {
                    bad.push((field.name().clone(), c.bad, first));
                }
                c.array
            }
            None => new_null_array(field.data_type(), batch.num_rows()),
        };
        arrays.push(arr);
    }
    // As for export rows: `Timestamp` and `TimeGenerated` fill each other, `Type` is the table.
    let ts = schema.index_of("Timestamp").ok();
    let tg = schema.index_of("TimeGenerated").ok();
    if let (Some(ts), Some(tg)) = (ts, tg) {
        let filled_ts = fill_time(&arrays[ts], &arrays[tg]);
        let filled_tg = fill_time(&arrays[tg], &arrays[ts]);
        arrays[ts] = filled_ts;
        arrays[tg] = filled_tg;
    }
    if let Ok(ty) = schema.index_of("Type") {
        arrays[ty] = fill_text(&arrays[ty], table.name());
    }
    Ok((RecordBatch::try_new(schema, arrays)?, bad))
}

/// Converts a batch to a table's schema by column name: missing columns become null, values
/// that do not convert become null (see the module documentation for the conversions).
pub fn align_batch(batch: &RecordBatch, table: &TableDef) -> Result<RecordBatch, Error> {
    conform(batch, table).map(|(b, _)| b)
}

/// Reads a Parquet file; its table comes from the schema metadata, the file or folder name, or
/// the columns.
pub(crate) fn read_parquet(ing: &mut Ingestor<'_>, file: File) -> Result<(), Error> {
    let builder = match ParquetRecordBatchReaderBuilder::try_new(file) {
        Ok(b) => b,
        Err(e) => {
            ing.skip(Location::File, format!("unreadable Parquet file: {e}"));
            return Ok(());
        }
    };
    let arrow_schema = Arc::clone(builder.schema());
    let by_meta = arrow_schema
        .metadata()
        .get(TABLE_NAME_KEY)
        .and_then(|n| schema::table(n));
    let names: Vec<&str> = arrow_schema.fields().iter().map(|f| f.name().as_str()).collect();
    let Some(table) = by_meta.or_else(|| infer_table(&names, &ing.file.path, None)) else {
        ing.skip(
            Location::File,
            format!(
                "Parquet file of an unknown table: no {TABLE_NAME_KEY} metadata, and neither the file name nor the columns name one"
            ),
        );
        return Ok(());
    };
    let reader = match builder.with_batch_size(ing.options.batch_rows).build() {
        Ok(r) => r,
        Err(e) => {
            ing.skip(Location::File, format!("unreadable Parquet file: {e}"));
            return Ok(());
        }
    };
    let mut rows = 0u64;
    for batch in reader {
        match batch {
            Ok(b) => {
                let n = b.num_rows() as u64;
                let (aligned, bad) = match conform(&b, table) {
                    Ok(c) => c,
                    Err(e) => {
                        ing.skip(
                            Location::Row(rows + 1),
                            format!("{n} rows from this one on do not fit {}: {e}", table.name()),
                        );
                        rows += n;
                        continue;
                    }
                };
                for (col, count, first) in bad {
                    let at = Location::Row(rows + first as u64 + 1);
                    ing.file.bad_values.entry((table.name(), col)).or_insert((0, at)).0 += count;
                }
                ing.batch(table, aligned)?;
                rows += n;
            }
            Err(e) => {
                ing.skip(
                    Location::Row(rows + 1),
                    format!("unreadable Parquet data from this row on: {e}"),
                );
                break;
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn epoch_units_by_magnitude() {
        const S: i64 = 1_714_641_324;
        let ns = S * 1_000_000_000;
        assert_eq!(epoch_nanos(S), Some(ns));
        assert_eq!(epoch_nanos(S * 1000), Some(ns));
        assert_eq!(epoch_nanos(S * 1_000_000), Some(ns));
        assert_eq!(epoch_nanos(ns), Some(ns));
        assert_eq!(epoch_nanos(-S), Some(-ns));
        assert_eq!(epoch_nanos(0), Some(0));
        assert_eq!(epoch_nanos_f64(1_714_641_324.5), Some(ns + 500_000_000));
        assert_eq!(epoch_nanos_f64(f64::NAN), None);
        assert_eq!(epoch_nanos_f64(1e30), None);
    }
}
