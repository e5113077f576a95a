//! Scalar functions with Kusto semantics that DataFusion lacks: `tostring`, conversions from
//! text, `bin`, and datetime parts (`startofday`, `dayofweek`, `datetime_diff`, ...).

use super::array_util::StrArray;
use super::dynamic::json_at;
use crate::value::{NANOS_PER_DAY, civil_from_days, days_from_ymd, format_datetime, format_timespan, parse_datetime};
use datafusion::arrow::array::{
    Array, ArrayRef, AsArray, DurationNanosecondArray, Float64Array, Int32Array, Int64Array, StringArray,
    TimestampNanosecondArray,
};
use datafusion::arrow::datatypes::{
    DataType, DurationNanosecondType, Float64Type, Int64Type, TimeUnit, TimestampNanosecondType,
};
use datafusion::common::{Result, ScalarValue, exec_err};
use datafusion::logical_expr::{ColumnarValue, ScalarFunctionArgs, ScalarUDFImpl, Signature, Volatility};
use std::sync::Arc;

/// Calendar parts for `datetime_diff`, `datetime_add`, `startof*`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Part {
    Year,
    Quarter,
    Month,
    Week,
    Day,
    Hour,
    Minute,
    Second,
    Millisecond,
    Microsecond,
    Nanosecond,
}

impl Part {
    pub fn parse(name: &str) -> Option<Part> {
        Some(match name.to_ascii_lowercase().as_str() {
            "year" => Part::Year,
            "quarter" => Part::Quarter,
            "month" => Part::Month,
            "week" => Part::Week,
            "day" => Part::Day,
            "hour" => Part::Hour,
            "minute" => Part::Minute,
            "second" => Part::Second,
            "millisecond" => Part::Millisecond,
            "microsecond" => Part::Microsecond,
            "nanosecond" => Part::Nanosecond,
            _ => return None,
        })
    }

    fn fixed_nanos(self) -> Option<i64> {
        Some(match self {
            Part::Week => 7 * NANOS_PER_DAY,
            Part::Day => NANOS_PER_DAY,
            Part::Hour => 3_600_000_000_000,
            Part::Minute => 60_000_000_000,
            Part::Second => 1_000_000_000,
            Part::Millisecond => 1_000_000,
            Part::Microsecond => 1_000,
            Part::Nanosecond => 1,
            _ => return None,
        })
    }
}

/// What a [`KqlFn`] computes.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum ScalarOp {
    /// `tostring(x)` for non-dynamic `x`.
    ToString,
    /// `tolong`/`toint` of a string.
    ParseLong,
    ParseInt,
    ParseReal,
    ParseBool,
    ParseDatetime,
    ParseTimespan,
    /// `toguid(text)`: 32 hex digits (hyphens and braces ignored) in the canonical
    /// `8-4-4-4-12` lowercase form; null for anything else.
    ParseGuid,
    /// `bin(x, size)` / `floor(x, size)`: rounds down to a multiple of `size` (from 1970-01-01 for datetimes).
    Bin,
    /// `startofday/week/month/year(d [, offset])`: the offset counts whole units (days, weeks,
    /// months, years) and is 0 when absent.
    StartOf(Part),
    /// `endofday/week/month/year(d [, offset])`
    EndOf(Part),
    /// `a % b` on two longs or two reals: Kusto's modulo is never negative,
    /// `0 <= a % b < abs(b)` (numerical-operators page).
    Modulo,
    /// `dayofweek(d)`: timespan since the previous Sunday.
    DayOfWeek,
    /// `hourofday`, `getyear`, `getmonth`, `dayofmonth`, ... as integers.
    DatePart(Part),
    /// `datetime_diff(part, a, b)`: calendar boundaries crossed from `b` to `a`.
    DatetimeDiff(Part),
    /// `datetime_add(part, n, d)`
    DatetimeAdd(Part),
    /// `tohex(value[, min_length])`: lowercase hex of the 64-bit value (two's complement).
    ToHex,
    /// A function whose data is not available here (the GeoIP database of
    /// `geo_info_from_ip_address`): it plans with its result type and fails when it runs.
    Unavailable(String),
}

#[derive(Debug, PartialEq, Eq, Hash)]
pub struct KqlFn {
    name: String,
    op: ScalarOp,
    signature: Signature,
}

impl KqlFn {
    pub fn new(name: &str, op: ScalarOp) -> KqlFn {
        KqlFn {
            name: name.to_string(),
            op,
            signature: Signature::variadic_any(Volatility::Immutable),
        }
    }
}

/// Kusto's text for a real number: integral values without a fraction, others in shortest form.
pub fn format_real(f: f64) -> String {
    if f.is_nan() {
        "NaN".into()
    } else if f.is_infinite() {
        if f > 0.0 { "Infinity".into() } else { "-Infinity".into() }
    } else if f == f.trunc() && f.abs() < 1e15 {
        format!("{}", f as i64)
    } else {
        format!("{f}")
    }
}

fn text_at(a: &ArrayRef, i: usize) -> Option<String> {
    if a.is_null(i) {
        return None;
    }
    Some(match a.data_type() {
        DataType::Utf8 | DataType::Utf8View | DataType::LargeUtf8 => StrArray::try_new(a).ok()?.value(i)?.to_string(),
        DataType::Float64 => format_real(a.as_primitive::<Float64Type>().value(i)),
        DataType::Timestamp(TimeUnit::Nanosecond, _) => {
            format_datetime(a.as_primitive::<TimestampNanosecondType>().value(i))
        }
        DataType::Duration(TimeUnit::Nanosecond) => {
            format_timespan(a.as_primitive::<DurationNanosecondType>().value(i))
        }
        _ => match json_at(a, i) {
            serde_json::Value::String(s) => s,
            v => v.to_string(),
        },
    })
}

fn nanos_at(a: &ArrayRef, i: usize) -> Option<i64> {
    if a.is_null(i) {
        return None;
    }
    match a.data_type() {
        DataType::Timestamp(TimeUnit::Nanosecond, _) => Some(a.as_primitive::<TimestampNanosecondType>().value(i)),
        DataType::Duration(TimeUnit::Nanosecond) => Some(a.as_primitive::<DurationNanosecondType>().value(i)),
        DataType::Int64 => Some(a.as_primitive::<Int64Type>().value(i)),
        _ => None,
    }
}

fn start_of(part: Part, t: i64) -> i64 {
    let days = t.div_euclid(NANOS_PER_DAY);
    let (y, m, _) = civil_from_days(days);
    let day = match part {
        Part::Year => days_from_ymd(y, 1, 1).expect("a datetime's year is in chrono's range"),
        Part::Month => days_from_ymd(y, m, 1).expect("a datetime's year is in chrono's range"),
        // Weeks start on Sunday; 1970-01-01 was a Thursday.
        Part::Week => days - (days + 4).rem_euclid(7),
        _ => days,
    };
    day * NANOS_PER_DAY
}

/// `t` moved by whole calendar months (the day clamped to the month's length); `None` past the
/// datetime range.
fn add_months(t: i64, months: i64) -> Option<i64> {
    let days = t.div_euclid(NANOS_PER_DAY);
    let tod = t.rem_euclid(NANOS_PER_DAY);
    let (y, m, d) = civil_from_days(days);
    let total = (y * 12 + (m as i64 - 1)).checked_add(months)?;
    // Beyond ±300,000 years the day count would overflow long before the nanoseconds do.
    if !(-3_600_000..=3_600_000).contains(&total) {
        return None;
    }
    let (ny, nm) = (total.div_euclid(12), (total.rem_euclid(12) + 1) as u32);
    let last = days_from_ymd(if nm == 12 { ny + 1 } else { ny }, if nm == 12 { 1 } else { nm + 1 }, 1)?
        - days_from_ymd(ny, nm, 1)?;
    days_from_ymd(ny, nm, d.min(last as u32))?
        .checked_mul(NANOS_PER_DAY)?
        .checked_add(tod)
}

/// A guid's canonical text from 32 hex digits, ignoring hyphens and one pair of braces.
fn parse_guid(text: &str) -> Option<String> {
    let t = text.trim();
    let t = t.strip_prefix('{').and_then(|r| r.strip_suffix('}')).unwrap_or(t);
    let hex: String = t.chars().filter(|c| *c != '-').collect();
    if hex.len() != 32 || !hex.bytes().all(|b| b.is_ascii_hexdigit()) {
        return None;
    }
    let h = hex.to_ascii_lowercase();
    Some(format!(
        "{}-{}-{}-{}-{}",
        &h[..8],
        &h[8..12],
        &h[12..16],
        &h[16..20],
        &h[20..]
    ))
}

/// The start of the unit containing `t`, moved by `k` whole units; `None` past the datetime range.
fn shifted_start(part: Part, t: i64, k: i64) -> Option<i64> {
    const LIMIT: i64 = 1_000_000;
    if !(-LIMIT..=LIMIT).contains(&k) {
        return None;
    }
    let start = start_of(part, t);
    let out = match part {
        Part::Year => add_months(start, k * 12)?,
        Part::Month => add_months(start, k)?,
        Part::Week => start.checked_add(k.checked_mul(7 * NANOS_PER_DAY)?)?,
        _ => start.checked_add(k.checked_mul(NANOS_PER_DAY)?)?,
    };
    Some(out)
}

/// The last tick (100 ns) of the unit containing `t`.
fn end_of(part: Part, t: i64) -> Option<i64> {
    let start = start_of(part, t);
    let next = match part {
        Part::Year => add_months(start, 12)?,
        Part::Month => add_months(start, 1)?,
        Part::Week => start.checked_add(7 * NANOS_PER_DAY)?,
        _ => start.checked_add(NANOS_PER_DAY)?,
    };
    Some(next - 100)
}

fn date_part(part: Part, t: i64) -> i64 {
    let days = t.div_euclid(NANOS_PER_DAY);
    let tod = t.rem_euclid(NANOS_PER_DAY);
    let (y, m, d) = civil_from_days(days);
    match part {
        Part::Year => y,
        Part::Quarter => (m as i64 - 1) / 3 + 1,
        Part::Month => m as i64,
        Part::Day => d as i64,
        Part::Hour => tod / 3_600_000_000_000,
        Part::Minute => tod / 60_000_000_000 % 60,
        Part::Second => tod / 1_000_000_000 % 60,
        Part::Millisecond => tod / 1_000_000 % 1000,
        Part::Microsecond => tod / 1_000 % 1_000_000,
        Part::Nanosecond => tod % 1_000_000_000,
        Part::Week => (days - days_from_ymd(y, 1, 1).expect("a datetime's year is in chrono's range")) / 7 + 1,
    }
}

fn datetime_diff(part: Part, a: i64, b: i64) -> i64 {
    match part {
        Part::Year => date_part(Part::Year, a) - date_part(Part::Year, b),
        Part::Quarter => {
            (date_part(Part::Year, a) * 4 + date_part(Part::Quarter, a))
                - (date_part(Part::Year, b) * 4 + date_part(Part::Quarter, b))
        }
        Part::Month => {
            (date_part(Part::Year, a) * 12 + date_part(Part::Month, a))
                - (date_part(Part::Year, b) * 12 + date_part(Part::Month, b))
        }
        Part::Week => (start_of(Part::Week, a) - start_of(Part::Week, b)) / (7 * NANOS_PER_DAY),
        p => {
            let unit = p.fixed_nanos().unwrap_or(1);
            a.div_euclid(unit) - b.div_euclid(unit)
        }
    }
}

impl ScalarUDFImpl for KqlFn {
    fn name(&self) -> &str {
        &self.name
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn return_type(&self, args: &[DataType]) -> Result<DataType> {
        Ok(match &self.op {
            ScalarOp::ToString | ScalarOp::ParseGuid => DataType::Utf8,
            ScalarOp::ParseLong | ScalarOp::DatetimeDiff(_) => DataType::Int64,
            ScalarOp::DatePart(_) => DataType::Int32,
            ScalarOp::ParseInt => DataType::Int32,
            ScalarOp::ParseReal => DataType::Float64,
            ScalarOp::ParseBool => DataType::Boolean,
            ScalarOp::ParseDatetime | ScalarOp::StartOf(_) | ScalarOp::EndOf(_) | ScalarOp::DatetimeAdd(_) => {
                crate::types::datetime_type()
            }
            ScalarOp::ParseTimespan | ScalarOp::DayOfWeek => DataType::Duration(TimeUnit::Nanosecond),
            ScalarOp::Bin => args.first().cloned().unwrap_or(DataType::Null),
            ScalarOp::Modulo => {
                if args.iter().any(|t| matches!(t, DataType::Float64 | DataType::Float32)) {
                    DataType::Float64
                } else {
                    DataType::Int64
                }
            }
            ScalarOp::Unavailable(_) => DataType::LargeUtf8,
            ScalarOp::ToHex => DataType::Utf8,
        })
    }

    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        if let ScalarOp::Unavailable(why) = &self.op {
            return exec_err!("{}: {why}", self.name);
        }
        let all_scalar = args.args.iter().all(|a| matches!(a, ColumnarValue::Scalar(_)));
        let rows = if all_scalar { 1 } else { args.number_rows };
        let arrays = ColumnarValue::values_to_arrays(&args.args)?;
        let Some(a) = arrays.first() else {
            return exec_err!("{} needs an argument", self.name);
        };
        let out: ArrayRef = match &self.op {
            ScalarOp::ToString => Arc::new(
                (0..rows)
                    .map(|i| Some(text_at(a, i).unwrap_or_default()))
                    .collect::<StringArray>(),
            ),
            ScalarOp::ParseLong => Arc::new(
                (0..rows)
                    .map(|i| {
                        text_at(a, i).and_then(|t| {
                            t.trim()
                                .parse::<i64>()
                                .ok()
                                .or_else(|| t.trim().parse::<f64>().ok().map(|f| f as i64))
                        })
                    })
                    .collect::<Int64Array>(),
            ),
            ScalarOp::ParseInt => Arc::new(
                (0..rows)
                    .map(|i| {
                        text_at(a, i)
                            .and_then(|t| t.trim().parse::<f64>().ok())
                            .and_then(|f| i32::try_from(f as i64).ok())
                    })
                    .collect::<Int32Array>(),
            ),
            ScalarOp::ParseReal => Arc::new(
                (0..rows)
                    .map(|i| text_at(a, i).and_then(|t| t.trim().parse::<f64>().ok()))
                    .collect::<Float64Array>(),
            ),
            ScalarOp::ParseBool => Arc::new(
                (0..rows)
                    .map(|i| {
                        text_at(a, i).and_then(|t| match t.trim().to_ascii_lowercase().as_str() {
                            "true" | "1" => Some(true),
                            "false" | "0" => Some(false),
                            _ => None,
                        })
                    })
                    .collect::<datafusion::arrow::array::BooleanArray>(),
            ),
            ScalarOp::ParseDatetime => Arc::new(
                (0..rows)
                    .map(|i| match a.data_type() {
                        DataType::Timestamp(..) => nanos_at(a, i),
                        _ => text_at(a, i).and_then(|t| parse_datetime(&t).ok()),
                    })
                    .collect::<TimestampNanosecondArray>()
                    .with_timezone("UTC"),
            ),
            ScalarOp::ParseTimespan => Arc::new(
                (0..rows)
                    .map(|i| match a.data_type() {
                        DataType::Duration(..) => nanos_at(a, i),
                        _ => text_at(a, i)
                            .and_then(|t| kql::parser::parse_timespan_text(t.trim()))
                            .map(|ticks| ticks * 100),
                    })
                    .collect::<DurationNanosecondArray>(),
            ),
            ScalarOp::ParseGuid => Arc::new(
                (0..rows)
                    .map(|i| text_at(a, i).and_then(|t| parse_guid(&t)))
                    .collect::<StringArray>(),
            ),
            ScalarOp::Bin => return self.bin(&arrays, rows, all_scalar),
            ScalarOp::Unavailable(why) => return exec_err!("{}: {why}", self.name),
            ScalarOp::ToHex => {
                let int32 = a.data_type() == &DataType::Int32;
                let v = datafusion::arrow::compute::cast(a, &DataType::Int64)?;
                let v = v.as_primitive::<Int64Type>();
                let width = match arrays.get(1) {
                    Some(w) => datafusion::arrow::compute::cast(w, &DataType::Int64)?,
                    None => Arc::new(Int64Array::from(vec![0i64; rows])),
                };
                let width = width.as_primitive::<Int64Type>();
                Arc::new(
                    (0..rows)
                        .map(|i| {
                            if v.is_null(i) {
                                return None;
                            }
                            let w = if width.is_null(i) {
                                0
                            } else {
                                width.value(i).clamp(0, 64) as usize
                            };
                            // An int is shown in 32-bit two's complement (documented:
                            // tohex(toint(-256), 8) is "ffffff00").
                            Some(if int32 {
                                format!("{:0w$x}", v.value(i) as i32 as u32)
                            } else {
                                format!("{:0w$x}", v.value(i) as u64)
                            })
                        })
                        .collect::<StringArray>(),
                )
            }
            ScalarOp::StartOf(p) | ScalarOp::EndOf(p) => {
                let end = matches!(self.op, ScalarOp::EndOf(_));
                let offset = match arrays.get(1) {
                    Some(o) => Some(datafusion::arrow::compute::cast(o, &DataType::Int64)?),
                    None => None,
                };
                datetimes(rows, |i| {
                    let t = nanos_at(a, i)?;
                    let k = match &offset {
                        Some(o) => nanos_at(o, i)?,
                        None => 0,
                    };
                    let start = shifted_start(*p, t, k)?;
                    if end { end_of(*p, start) } else { Some(start) }
                })
            }
            ScalarOp::Modulo => return self.modulo(&arrays, rows, all_scalar),
            ScalarOp::DayOfWeek => Arc::new(
                (0..rows)
                    .map(|i| nanos_at(a, i).map(|t| (t.div_euclid(NANOS_PER_DAY) + 4).rem_euclid(7) * NANOS_PER_DAY))
                    .collect::<DurationNanosecondArray>(),
            ),
            ScalarOp::DatePart(p) => Arc::new(
                (0..rows)
                    .map(|i| nanos_at(a, i).map(|t| date_part(*p, t) as i32))
                    .collect::<Int32Array>(),
            ),
            ScalarOp::DatetimeDiff(p) => {
                let b = arrays.get(1).ok_or_else(|| {
                    datafusion::error::DataFusionError::Execution("datetime_diff needs two datetimes".into())
                })?;
                Arc::new(
                    (0..rows)
                        .map(|i| Some(datetime_diff(*p, nanos_at(a, i)?, nanos_at(b, i)?)))
                        .collect::<Int64Array>(),
                )
            }
            ScalarOp::DatetimeAdd(p) => {
                let d = arrays.get(1).ok_or_else(|| {
                    datafusion::error::DataFusionError::Execution("datetime_add needs an amount and a datetime".into())
                })?;
                datetimes(rows, |i| {
                    let n = json_at(a, i).as_i64()?;
                    let t = nanos_at(d, i)?;
                    match p {
                        Part::Year => add_months(t, n.checked_mul(12)?),
                        Part::Quarter => add_months(t, n.checked_mul(3)?),
                        Part::Month => add_months(t, n),
                        other => t.checked_add(n.checked_mul(other.fixed_nanos().unwrap_or(1))?),
                    }
                })
            }
        };
        if all_scalar {
            Ok(ColumnarValue::Scalar(ScalarValue::try_from_array(&out, 0)?))
        } else {
            Ok(ColumnarValue::Array(out))
        }
    }
}

fn datetimes(rows: usize, f: impl FnMut(usize) -> Option<i64>) -> ArrayRef {
    Arc::new(
        (0..rows)
            .map(f)
            .collect::<TimestampNanosecondArray>()
            .with_timezone("UTC"),
    )
}

impl KqlFn {
    /// Kusto's modulo: the Euclidean remainder, `0 <= a % b < abs(b)`. An integer division by
    /// zero fails as `/` does; a real one is NaN.
    fn modulo(&self, arrays: &[ArrayRef], rows: usize, all_scalar: bool) -> Result<ColumnarValue> {
        let [x, y] = arrays else {
            return exec_err!("% takes two numbers");
        };
        let real = |t: &DataType| matches!(t, DataType::Float64 | DataType::Float32);
        let out: ArrayRef = if real(x.data_type()) || real(y.data_type()) {
            let x = datafusion::arrow::compute::cast(x, &DataType::Float64)?;
            let y = datafusion::arrow::compute::cast(y, &DataType::Float64)?;
            let (x, y) = (x.as_primitive::<Float64Type>(), y.as_primitive::<Float64Type>());
            Arc::new(
                (0..rows)
                    .map(|i| (!x.is_null(i) && !y.is_null(i)).then(|| x.value(i).rem_euclid(y.value(i))))
                    .collect::<Float64Array>(),
            )
        } else {
            let x = datafusion::arrow::compute::cast(x, &DataType::Int64)?;
            let y = datafusion::arrow::compute::cast(y, &DataType::Int64)?;
            let (x, y) = (x.as_primitive::<Int64Type>(), y.as_primitive::<Int64Type>());
            let mut out = Int64Array::builder(rows);
            for i in 0..rows {
                if x.is_null(i) || y.is_null(i) {
                    out.append_null();
                    continue;
                }
                let (a, b) = (x.value(i), y.value(i));
                if b == 0 {
                    return exec_err!("Divide by zero error");
                }
                // i64::MIN % -1 overflows in two's complement; the remainder is 0.
                out.append_value(a.checked_rem_euclid(b).unwrap_or(0));
            }
            Arc::new(out.finish())
        };
        Ok(if all_scalar {
            ColumnarValue::Scalar(ScalarValue::try_from_array(&out, 0)?)
        } else {
            ColumnarValue::Array(out)
        })
    }

    fn bin(&self, arrays: &[ArrayRef], rows: usize, all_scalar: bool) -> Result<ColumnarValue> {
        let (v, size) = match arrays {
            [v, size] => (v, size),
            _ => return exec_err!("bin takes a value and a bin size"),
        };
        let out: ArrayRef = match v.data_type() {
            DataType::Timestamp(..) | DataType::Duration(..) => {
                let floor = |i: usize| {
                    let (x, s) = (nanos_at(v, i)?, nanos_at(size, i)?);
                    (s > 0).then(|| x.div_euclid(s) * s)
                };
                if matches!(v.data_type(), DataType::Timestamp(..)) {
                    datetimes(rows, floor)
                } else {
                    Arc::new((0..rows).map(floor).collect::<DurationNanosecondArray>())
                }
            }
            DataType::Int64 | DataType::Int32 => {
                let v = datafusion::arrow::compute::cast(v, &DataType::Int64)?;
                let s = datafusion::arrow::compute::cast(size, &DataType::Float64)?;
                let (v, s) = (v.as_primitive::<Int64Type>(), s.as_primitive::<Float64Type>());
                Arc::new(
                    (0..rows)
                        .map(|i| {
                            if v.is_null(i) || s.is_null(i) || s.value(i) <= 0.0 {
                                return None;
                            }
                            Some(((v.value(i) as f64 / s.value(i)).floor() * s.value(i)) as i64)
                        })
                        .collect::<Int64Array>(),
                )
            }
            DataType::Float64 => {
                let s = datafusion::arrow::compute::cast(size, &DataType::Float64)?;
                let (v, s) = (v.as_primitive::<Float64Type>(), s.as_primitive::<Float64Type>());
                Arc::new(
                    (0..rows)
                        .map(|i| {
                            (!v.is_null(i) && !s.is_null(i) && s.value(i) > 0.0)
                                .then(|| (v.value(i) / s.value(i)).floor() * s.value(i))
                        })
                        .collect::<Float64Array>(),
                )
            }
            other => return exec_err!("bin() does not take {other}"),
        };
        Ok(if all_scalar {
            ColumnarValue::Scalar(ScalarValue::try_from_array(&out, 0)?)
        } else {
            ColumnarValue::Array(out)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::value::parse_datetime;

    #[test]
    fn calendar_functions() {
        let t = parse_datetime("2024-03-15 13:45:10").unwrap();
        assert_eq!(format_datetime(start_of(Part::Day, t)), "2024-03-15T00:00:00Z");
        assert_eq!(
            format_datetime(start_of(Part::Week, t)),
            "2024-03-10T00:00:00Z",
            "weeks start on Sunday"
        );
        assert_eq!(format_datetime(start_of(Part::Month, t)), "2024-03-01T00:00:00Z");
        assert_eq!(
            end_of(Part::Month, t).map(format_datetime).as_deref(),
            Some("2024-03-31T23:59:59.9999999Z")
        );
        assert_eq!(
            format_datetime(add_months(parse_datetime("2024-01-31").unwrap(), 1).unwrap()),
            "2024-02-29T00:00:00Z"
        );
        assert_eq!(date_part(Part::Hour, t), 13);
        let a = parse_datetime("2024-01-01").unwrap();
        let b = parse_datetime("2023-12-31 23:59:59").unwrap();
        assert_eq!(datetime_diff(Part::Year, a, b), 1);
        assert_eq!(datetime_diff(Part::Day, a, b), 1);
        assert_eq!(datetime_diff(Part::Second, a, b), 1);
    }

    #[test]
    fn reals_print_like_kusto() {
        assert_eq!(format_real(3.0), "3");
        assert_eq!(format_real(0.25), "0.25");
    }
}
