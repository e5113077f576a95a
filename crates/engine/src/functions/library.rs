//! One DataFusion UDF ([`LibFn`]) for the scalar functions whose logic lives in net.rs, text.rs,
//! timefmt.rs and arrays.rs: argument access for any Arrow input type, null handling, result
//! arrays. The planner (plan/call.rs) checks arities and converts arguments first.

use super::array_util::StrArray;
use super::arrays::{self, SetOp};
use super::dynamic::json_at;
use super::formats::{self, BitOp};
use super::timefmt::{self, DtPart, FmtItem};
use super::{net, text};
use crate::value::{NANOS_PER_TICK, format_datetime, format_timespan};

/// .NET ticks (100 ns since 0001-01-01) at the Unix epoch.
const TICKS_AT_EPOCH: i64 = 621_355_968_000_000_000;
use datafusion::arrow::array::{
    Array, ArrayRef, AsArray, BooleanArray, DurationNanosecondArray, Int32Array, Int64Array, LargeStringArray,
    StringArray, TimestampNanosecondArray,
};
use datafusion::arrow::datatypes::{
    DataType, DurationNanosecondType, Float64Type, Int32Type, Int64Type, TimeUnit, TimestampNanosecondType,
};
use datafusion::common::{Result, ScalarValue, exec_err};
use datafusion::logical_expr::{ColumnarValue, ScalarFunctionArgs, ScalarUDFImpl, Signature, Volatility};
use serde_json::Value;
use std::sync::Arc;

/// What a [`LibFn`] computes (argument lists as the planner passes them).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum LibOp {
    /// (text) → long
    ParseIpv4,
    /// (text) → bool
    Ipv4IsPrivate,
    /// (ip, range) → bool
    Ipv4IsInRange,
    /// (ip1, ip2[, prefix]) → bool
    Ipv4IsMatch,
    /// (url) → dynamic
    ParseUrl,
    /// (query) → dynamic
    ParseUrlQuery,
    UrlEncode,
    UrlDecode,
    Base64Encode,
    Base64Decode,
    /// (source, search) → long, overlapping matches counted
    CountOf,
    /// (source, search, start, length, occurrence) → long
    IndexOf,
    /// (value, multiplier, delimiter)
    StrRep,
    Reverse,
    /// UTF-8 bytes → long
    StringSize,
    /// (search, replace, source)
    Translate,
    FormatDatetime(Vec<FmtItem>),
    FormatTimespan(Vec<FmtItem>),
    /// (year, month, day, hour, minute, second)
    MakeDatetime,
    /// (day, hour, minute, second)
    MakeTimespan,
    /// (datetime) → int
    DatetimePart(DtPart),
    /// (real) → datetime; the factor from the unit to nanoseconds' ticks.
    UnixTime(UnixUnit),
    ArrayConcat,
    /// (array, start, end)
    ArraySlice,
    /// (array, value, start, length, occurrence)
    ArrayIndexOf,
    BagKeys,
    BagMerge,
    BagRemoveKeys,
    /// (array, nulls_last)
    ArraySort(bool),
    Set(SetOp),
    Zip,
    RangeLong,
    RangeReal,
    RangeDatetime,
    RangeTimespan,
    /// (dynamic) → string
    GetType,
    /// (command line) → dynamic array of arguments, Windows (CommandLineToArgvW) rules.
    ParseCommandLine,
    /// (text) → dynamic
    ParseXml,
    ParseCsv,
    ParsePath,
    Base64DecodeToArray,
    /// (dynamic array of bytes) → string
    Base64EncodeFromArray,
    /// (long[, long]) → long
    Bits(BitOp),
    /// (string or datetime[, mod]) → long: XXH64 of the UTF-8 text or of the datetime's .NET ticks.
    Hash,
    /// (text) → bool: `has_any_ipv4_prefix` with its valid prefixes.
    HasIpv4Prefix(Vec<String>),
    /// (code points or arrays of them, ...) → string; null when one is not a Unicode scalar value.
    CodepointsToString,
    /// (text) → dynamic array of code points.
    CodepointsFromString,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum UnixUnit {
    Seconds,
    Milliseconds,
}

#[derive(Debug, PartialEq, Eq, Hash)]
pub struct LibFn {
    name: String,
    op: LibOp,
    signature: Signature,
}

impl LibFn {
    pub fn new(name: &str, op: LibOp) -> LibFn {
        LibFn {
            name: name.to_string(),
            op,
            signature: Signature::variadic_any(Volatility::Immutable),
        }
    }
}

/// Row `i` of a numeric-like column as a long.
fn long_at(a: &ArrayRef, i: usize) -> Option<i64> {
    if a.is_null(i) {
        return None;
    }
    match a.data_type() {
        DataType::Int64 => Some(a.as_primitive::<Int64Type>().value(i)),
        DataType::Int32 => Some(i64::from(a.as_primitive::<Int32Type>().value(i))),
        DataType::Float64 => {
            let f = a.as_primitive::<Float64Type>().value(i);
            f.is_finite().then_some(f as i64)
        }
        DataType::Boolean => Some(i64::from(a.as_boolean().value(i))),
        DataType::Timestamp(TimeUnit::Nanosecond, _) => Some(a.as_primitive::<TimestampNanosecondType>().value(i)),
        DataType::Duration(TimeUnit::Nanosecond) => Some(a.as_primitive::<DurationNanosecondType>().value(i)),
        _ => json_at(a, i).as_i64(),
    }
}

fn real_at(a: &ArrayRef, i: usize) -> Option<f64> {
    if a.is_null(i) {
        return None;
    }
    match a.data_type() {
        DataType::Float64 => Some(a.as_primitive::<Float64Type>().value(i)),
        DataType::LargeUtf8 => json_at(a, i).as_f64(),
        _ => long_at(a, i).map(|l| l as f64),
    }
}

fn bool_at(a: &ArrayRef, i: usize) -> Option<bool> {
    match a.data_type() {
        DataType::Boolean if !a.is_null(i) => Some(a.as_boolean().value(i)),
        _ => json_at(a, i).as_bool(),
    }
}

fn str_at<'a>(s: &StrArray<'a>, i: usize) -> &'a str {
    s.value(i).unwrap_or("")
}

fn strings(rows: usize, mut f: impl FnMut(usize) -> Option<String>) -> ArrayRef {
    Arc::new(
        (0..rows)
            .map(|i| Some(f(i).unwrap_or_default()))
            .collect::<StringArray>(),
    )
}

fn longs(rows: usize, f: impl FnMut(usize) -> Option<i64>) -> ArrayRef {
    Arc::new((0..rows).map(f).collect::<Int64Array>())
}

fn bools(rows: usize, f: impl FnMut(usize) -> Option<bool>) -> ArrayRef {
    Arc::new((0..rows).map(f).collect::<BooleanArray>())
}

fn jsons(rows: usize, mut f: impl FnMut(usize) -> Option<Value>) -> ArrayRef {
    Arc::new(
        (0..rows)
            .map(|i| f(i).map(|v| v.to_string()))
            .collect::<LargeStringArray>(),
    )
}

fn datetimes(rows: usize, f: impl FnMut(usize) -> Option<i64>) -> ArrayRef {
    Arc::new(
        (0..rows)
            .map(f)
            .collect::<TimestampNanosecondArray>()
            .with_timezone("UTC"),
    )
}

impl ScalarUDFImpl for LibFn {
    fn name(&self) -> &str {
        &self.name
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn return_type(&self, _: &[DataType]) -> Result<DataType> {
        use LibOp::*;
        Ok(match self.op {
            ParseIpv4 | CountOf | StringSize | IndexOf => DataType::Int64,
            Ipv4IsPrivate | Ipv4IsInRange | Ipv4IsMatch | HasIpv4Prefix(_) => DataType::Boolean,
            UrlEncode
            | UrlDecode
            | Base64Encode
            | Base64Decode
            | StrRep
            | Reverse
            | Translate
            | FormatDatetime(_)
            | FormatTimespan(_)
            | GetType
            | Base64EncodeFromArray
            | CodepointsToString => DataType::Utf8,
            Bits(_) | Hash => DataType::Int64,
            MakeDatetime | UnixTime(_) => crate::types::datetime_type(),
            MakeTimespan => DataType::Duration(TimeUnit::Nanosecond),
            DatetimePart(_) => DataType::Int32,
            ArrayIndexOf => DataType::Int64,
            ParseUrl | ParseUrlQuery | ArrayConcat | ArraySlice | BagKeys | BagMerge | BagRemoveKeys | ArraySort(_)
            | Set(_) | Zip | RangeLong | RangeReal | RangeDatetime | RangeTimespan | ParseCommandLine | ParseXml
            | ParseCsv | ParsePath | Base64DecodeToArray | CodepointsFromString => DataType::LargeUtf8,
        })
    }

    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        let all_scalar = args.args.iter().all(|a| matches!(a, ColumnarValue::Scalar(_)));
        let rows = if all_scalar { 1 } else { args.number_rows };
        let arrays = ColumnarValue::values_to_arrays(&args.args)?;
        let out = self.compute(&arrays, rows)?;
        Ok(if all_scalar {
            ColumnarValue::Scalar(ScalarValue::try_from_array(&out, 0)?)
        } else {
            ColumnarValue::Array(out)
        })
    }
}

impl LibFn {
    fn arg(&self, arrays: &[ArrayRef], k: usize) -> Result<ArrayRef> {
        match arrays.get(k) {
            Some(a) => Ok(a.clone()),
            None => exec_err!("{}: argument {} is missing", self.name, k + 1),
        }
    }

    fn compute(&self, arrays: &[ArrayRef], rows: usize) -> Result<ArrayRef> {
        use LibOp::*;
        let a0 = self.arg(arrays, 0);
        Ok(match &self.op {
            ParseIpv4 | Ipv4IsPrivate | ParseUrl | ParseUrlQuery | UrlEncode | UrlDecode | Base64Encode
            | Base64Decode | Reverse | StringSize | ParseXml | ParseCsv | ParsePath | Base64DecodeToArray => {
                let a = a0?;
                let s = StrArray::try_new(&a)?;
                let t = |i| str_at(&s, i);
                match &self.op {
                    ParseIpv4 => longs(rows, |i| net::parse_ipv4(t(i))),
                    Ipv4IsPrivate => bools(rows, |i| net::ipv4_is_private(t(i))),
                    ParseUrl => jsons(rows, |i| Some(net::parse_url(t(i)))),
                    ParseUrlQuery => jsons(rows, |i| Some(net::parse_urlquery(t(i)))),
                    UrlEncode => strings(rows, |i| Some(net::url_encode(t(i)))),
                    UrlDecode => strings(rows, |i| net::url_decode(t(i))),
                    Base64Encode => strings(rows, |i| Some(text::base64_encode(t(i)))),
                    Base64Decode => strings(rows, |i| text::base64_decode(t(i))),
                    Reverse => strings(rows, |i| Some(text::reverse(t(i)))),
                    ParseXml => jsons(rows, |i| s.value(i).and_then(formats::parse_xml)),
                    ParseCsv => jsons(rows, |i| Some(formats::parse_csv(t(i)))),
                    ParsePath => jsons(rows, |i| Some(formats::parse_path(t(i)))),
                    Base64DecodeToArray => jsons(rows, |i| formats::base64_to_array(t(i))),
                    _ => longs(rows, |i| Some(t(i).len() as i64)),
                }
            }
            Ipv4IsInRange | Ipv4IsMatch | CountOf => {
                let (a, b) = (a0?, self.arg(arrays, 1)?);
                let (x, y) = (StrArray::try_new(&a)?, StrArray::try_new(&b)?);
                match &self.op {
                    Ipv4IsInRange => bools(rows, |i| net::ipv4_is_in_range(str_at(&x, i), str_at(&y, i))),
                    Ipv4IsMatch => {
                        let p = arrays.get(2);
                        bools(rows, |i| {
                            let prefix = match p {
                                Some(p) => Some(long_at(p, i)?),
                                None => None,
                            };
                            net::ipv4_is_match(str_at(&x, i), str_at(&y, i), prefix)
                        })
                    }
                    _ => longs(rows, |i| Some(text::count_plain(str_at(&x, i), str_at(&y, i)))),
                }
            }
            IndexOf => {
                let (a, b) = (a0?, self.arg(arrays, 1)?);
                let (x, y) = (StrArray::try_new(&a)?, StrArray::try_new(&b)?);
                let rest: Vec<ArrayRef> = (2..5).map(|k| self.arg(arrays, k)).collect::<Result<_>>()?;
                longs(rows, |i| {
                    text::index_of(
                        str_at(&x, i),
                        str_at(&y, i),
                        long_at(&rest[0], i)?,
                        long_at(&rest[1], i)?,
                        long_at(&rest[2], i)?,
                    )
                })
            }
            StrRep => {
                let (a, n) = (a0?, self.arg(arrays, 1)?);
                let s = StrArray::try_new(&a)?;
                let d = arrays.get(2).map(StrArray::try_new).transpose()?;
                strings(rows, |i| {
                    let delim = d.as_ref().map_or("", |d| str_at(d, i));
                    text::strrep(str_at(&s, i), long_at(&n, i)?, delim)
                })
            }
            Translate => {
                let (a, b, c) = (a0?, self.arg(arrays, 1)?, self.arg(arrays, 2)?);
                let (x, y, z) = (StrArray::try_new(&a)?, StrArray::try_new(&b)?, StrArray::try_new(&c)?);
                strings(rows, |i| {
                    Some(text::translate(str_at(&x, i), str_at(&y, i), str_at(&z, i)))
                })
            }
            FormatDatetime(items) => {
                let a = a0?;
                strings(rows, |i| long_at(&a, i).map(|t| timefmt::format_datetime(t, items)))
            }
            FormatTimespan(items) => {
                let a = a0?;
                strings(rows, |i| long_at(&a, i).map(|t| timefmt::format_timespan(t, items)))
            }
            MakeDatetime => {
                let parts: Vec<ArrayRef> = (0..6).map(|k| self.arg(arrays, k)).collect::<Result<_>>()?;
                datetimes(rows, |i| {
                    timefmt::make_datetime(
                        long_at(&parts[0], i)?,
                        long_at(&parts[1], i)?,
                        long_at(&parts[2], i)?,
                        long_at(&parts[3], i)?,
                        long_at(&parts[4], i)?,
                        real_at(&parts[5], i)?,
                    )
                })
            }
            MakeTimespan => {
                let parts: Vec<ArrayRef> = (0..4).map(|k| self.arg(arrays, k)).collect::<Result<_>>()?;
                Arc::new(
                    (0..rows)
                        .map(|i| {
                            timefmt::make_timespan(
                                long_at(&parts[0], i)?,
                                long_at(&parts[1], i)?,
                                long_at(&parts[2], i)?,
                                real_at(&parts[3], i)?,
                            )
                        })
                        .collect::<DurationNanosecondArray>(),
                )
            }
            DatetimePart(p) => {
                let a = a0?;
                Arc::new(
                    (0..rows)
                        .map(|i| long_at(&a, i).and_then(|t| i32::try_from(timefmt::datetime_part(*p, t)).ok()))
                        .collect::<Int32Array>(),
                )
            }
            UnixTime(unit) => {
                let a = a0?;
                let ticks_per_unit = match unit {
                    UnixUnit::Seconds => 1e7,
                    UnixUnit::Milliseconds => 1e4,
                };
                datetimes(rows, |i| {
                    let ticks = (real_at(&a, i)? * ticks_per_unit).round();
                    // Beyond about ±292 years from 1970, nanoseconds no longer fit in an i64.
                    (ticks.is_finite() && ticks.abs() < 9.2e16).then(|| ticks as i64 * NANOS_PER_TICK)
                })
            }
            ArrayConcat | BagMerge | Set(_) | Zip => jsons(rows, |i| {
                let vals: Vec<Value> = arrays.iter().map(|a| json_at(a, i)).collect();
                match &self.op {
                    ArrayConcat => arrays::array_concat(&vals),
                    BagMerge => Some(arrays::bag_merge(&vals)),
                    Set(op) => arrays::set_op(*op, &vals),
                    _ => arrays::zip(&vals),
                }
            }),
            ArraySlice => {
                let (a, s, e) = (a0?, self.arg(arrays, 1)?, self.arg(arrays, 2)?);
                jsons(rows, |i| {
                    arrays::array_slice(&json_at(&a, i), long_at(&s, i)?, long_at(&e, i)?)
                })
            }
            ArrayIndexOf => {
                let parts: Vec<ArrayRef> = (0..5).map(|k| self.arg(arrays, k)).collect::<Result<_>>()?;
                longs(rows, |i| {
                    arrays::array_index_of(
                        &json_at(&parts[0], i),
                        &json_at(&parts[1], i),
                        long_at(&parts[2], i)?,
                        long_at(&parts[3], i)?,
                        long_at(&parts[4], i)?,
                    )
                })
            }
            BagKeys => {
                let a = a0?;
                jsons(rows, |i| arrays::bag_keys(&json_at(&a, i)))
            }
            BagRemoveKeys => {
                let (a, k) = (a0?, self.arg(arrays, 1)?);
                jsons(rows, |i| arrays::bag_remove_keys(&json_at(&a, i), &json_at(&k, i)))
            }
            ArraySort(asc) => {
                let (a, nl) = (a0?, self.arg(arrays, 1)?);
                jsons(rows, |i| arrays::array_sort(&json_at(&a, i), *asc, bool_at(&nl, i)?))
            }
            RangeLong | RangeReal | RangeDatetime | RangeTimespan => {
                let (a, b, c) = (a0?, self.arg(arrays, 1)?, self.arg(arrays, 2)?);
                jsons(rows, |i| {
                    Some(Value::Array(match &self.op {
                        RangeReal => arrays::range_real(real_at(&a, i)?, real_at(&b, i)?, real_at(&c, i)?)?
                            .into_iter()
                            .map(|f| serde_json::Number::from_f64(f).map_or(Value::Null, Value::Number))
                            .collect(),
                        op => {
                            let vals = arrays::range_long(long_at(&a, i)?, long_at(&b, i)?, long_at(&c, i)?)?;
                            vals.into_iter()
                                .map(|v| match op {
                                    RangeDatetime => Value::String(format_datetime(v)),
                                    RangeTimespan => Value::String(format_timespan(v)),
                                    _ => Value::from(v),
                                })
                                .collect()
                        }
                    }))
                })
            }
            Base64EncodeFromArray => {
                let a = a0?;
                strings(rows, |i| formats::base64_from_array(&json_at(&a, i)))
            }
            Bits(op) => {
                let a = a0?;
                let b = arrays.get(1);
                longs(rows, |i| {
                    let y = match b {
                        Some(b) => long_at(b, i)?,
                        None => 0,
                    };
                    formats::bits(*op, long_at(&a, i)?, y)
                })
            }
            CodepointsToString => strings(rows, |i| {
                let mut text = String::new();
                for a in arrays {
                    let points: Vec<i64> = match a.data_type() {
                        DataType::LargeUtf8 => match json_at(a, i) {
                            Value::Array(items) => items.iter().map(|v| v.as_i64()).collect::<Option<_>>()?,
                            Value::Null => return None,
                            v => vec![v.as_i64()?],
                        },
                        _ => vec![long_at(a, i)?],
                    };
                    for p in points {
                        text.push(char::from_u32(u32::try_from(p).ok()?)?);
                    }
                }
                Some(text)
            }),
            CodepointsFromString => {
                let a = a0?;
                let s = StrArray::try_new(&a)?;
                jsons(rows, |i| {
                    Some(Value::Array(
                        str_at(&s, i).chars().map(|c| Value::from(u32::from(c))).collect(),
                    ))
                })
            }
            HasIpv4Prefix(prefixes) => {
                let a = a0?;
                let s = StrArray::try_new(&a)?;
                bools(rows, |i| Some(net::has_any_ipv4_prefix(str_at(&s, i), prefixes)))
            }
            Hash => {
                let a = a0?;
                let m = arrays.get(1);
                let text = match a.data_type() {
                    DataType::Timestamp(..) => None,
                    _ => Some(StrArray::try_new(&a)?),
                };
                let hash_at = |i: usize| -> Option<u64> {
                    match &text {
                        Some(s) => Some(super::xxhash::xxh64(str_at(s, i).as_bytes())),
                        None => {
                            let ticks = long_at(&a, i)?.div_euclid(NANOS_PER_TICK) + TICKS_AT_EPOCH;
                            Some(super::xxhash::xxh64(&ticks.to_le_bytes()))
                        }
                    }
                };
                longs(rows, |i| {
                    let h = hash_at(i)?;
                    match m {
                        // A modulo of 0 or below has no result (Kusto's `%` by zero is null too).
                        Some(m) => {
                            let m = long_at(m, i)?;
                            (m > 0).then(|| (h % m as u64) as i64)
                        }
                        None => Some(h as i64),
                    }
                })
            }
            GetType => {
                let a = a0?;
                strings(rows, |i| Some(arrays::type_name(&json_at(&a, i)).to_string()))
            }
            ParseCommandLine => {
                let a = a0?;
                let out: datafusion::arrow::array::LargeStringArray = (0..rows)
                    .map(|i| match json_at(&a, i) {
                        Value::String(s) => {
                            Some(Value::Array(windows_argv(&s).into_iter().map(Value::String).collect()).to_string())
                        }
                        _ => None,
                    })
                    .collect();
                Arc::new(out)
            }
        })
    }
}

/// Splits a command line like Windows' CommandLineToArgvW: the program name ends at the first
/// space outside quotes (no escapes); then `2n` backslashes before `"` give `n` backslashes and
/// toggle quoting, `2n+1` give `n` and a literal `"`; other backslashes are literal.
pub fn windows_argv(line: &str) -> Vec<String> {
    let chars: Vec<char> = line.chars().collect();
    let mut args = Vec::new();
    let mut i = 0;
    // The program name.
    let mut prog = String::new();
    let mut quoted = false;
    while i < chars.len() {
        let c = chars[i];
        if c == '"' {
            quoted = !quoted;
        } else if (c == ' ' || c == '\t') && !quoted {
            break;
        } else {
            prog.push(c);
        }
        i += 1;
    }
    if line.is_empty() {
        return args;
    }
    args.push(prog);
    loop {
        while i < chars.len() && (chars[i] == ' ' || chars[i] == '\t') {
            i += 1;
        }
        if i >= chars.len() {
            return args;
        }
        let mut arg = String::new();
        let mut quoted = false;
        while i < chars.len() {
            let c = chars[i];
            if c == '\\' {
                let start = i;
                while i < chars.len() && chars[i] == '\\' {
                    i += 1;
                }
                let n = i - start;
                if i < chars.len() && chars[i] == '"' {
                    arg.extend(std::iter::repeat_n('\\', n / 2));
                    if n % 2 == 1 {
                        arg.push('"');
                        i += 1;
                    }
                } else {
                    arg.extend(std::iter::repeat_n('\\', n));
                }
                continue;
            }
            if c == '"' {
                // `""` inside quotes is a literal quote.
                if quoted && chars.get(i + 1) == Some(&'"') {
                    arg.push('"');
                    i += 2;
                    continue;
                }
                quoted = !quoted;
                i += 1;
                continue;
            }
            if (c == ' ' || c == '\t') && !quoted {
                break;
            }
            arg.push(c);
            i += 1;
        }
        args.push(arg);
    }
}

#[cfg(test)]
mod argv_tests {
    use super::windows_argv;

    #[test]
    fn command_lines_split_like_windows() {
        assert_eq!(
            windows_argv(r#""C:\Program Files\a.exe" -x "two words" c:\dir\"#),
            vec![r"C:\Program Files\a.exe", "-x", "two words", r"c:\dir\"]
        );
        assert_eq!(
            windows_argv(r#"a.exe "a\"b" \\"c d\\""#),
            vec!["a.exe", r#"a"b"#, r"\c d\"]
        );
        assert!(windows_argv("").is_empty());
    }
}
