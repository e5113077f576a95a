//! Literal values: KQL literals to Arrow scalars, and Kusto's text forms of datetimes and timespans.

use crate::types::KqlType;
use chrono::{Datelike, NaiveDate};
use datafusion::arrow::compute::kernels::cast_utils::string_to_timestamp_nanos;
use datafusion::common::ScalarValue;
use kql::{Dynamic, Literal};

/// Nanoseconds in a .NET tick (Kusto's datetime and timespan resolution).
pub const NANOS_PER_TICK: i64 = 100;
/// Nanoseconds in a second.
pub const NANOS_PER_SECOND: i64 = 1_000_000_000;
/// Nanoseconds in a day.
pub const NANOS_PER_DAY: i64 = 86_400 * NANOS_PER_SECOND;

/// A `datetime` scalar from nanoseconds since the epoch.
pub fn datetime_scalar(nanos: Option<i64>) -> ScalarValue {
    ScalarValue::TimestampNanosecond(nanos, Some("UTC".into()))
}

/// A `timespan` scalar from nanoseconds.
pub fn timespan_scalar(nanos: Option<i64>) -> ScalarValue {
    ScalarValue::DurationNanosecond(nanos)
}

/// The typed null of a KQL type (`string`'s "null" is the empty string).
pub fn null_of(ty: KqlType) -> Option<ScalarValue> {
    Some(match ty {
        KqlType::Bool => ScalarValue::Boolean(None),
        KqlType::Int => ScalarValue::Int32(None),
        KqlType::Long => ScalarValue::Int64(None),
        KqlType::Real => ScalarValue::Float64(None),
        KqlType::String | KqlType::Guid => ScalarValue::Utf8(Some(String::new())),
        KqlType::Datetime => datetime_scalar(None),
        KqlType::Timespan => timespan_scalar(None),
        KqlType::Dynamic => ScalarValue::LargeUtf8(None),
        KqlType::Decimal => return None,
    })
}

/// Converts a literal to an Arrow scalar; the error says why the literal is not valid.
pub fn literal_scalar(lit: &Literal) -> Result<ScalarValue, String> {
    Ok(match lit {
        Literal::Bool(b) => ScalarValue::Boolean(*b),
        Literal::Int(i) => ScalarValue::Int32(*i),
        Literal::Long(l) => ScalarValue::Int64(*l),
        Literal::Real(r) => ScalarValue::Float64(*r),
        Literal::Decimal(_) => return Err("the decimal type is not supported".into()),
        Literal::String { value, .. } => ScalarValue::Utf8(Some(value.clone())),
        Literal::Datetime(None) => datetime_scalar(None),
        Literal::Datetime(Some(text)) => datetime_scalar(Some(parse_datetime(text)?)),
        Literal::Timespan(t) => timespan_scalar(match t {
            Some(ticks) => Some(
                ticks
                    .checked_mul(NANOS_PER_TICK)
                    .ok_or("timespan literal out of range")?,
            ),
            None => None,
        }),
        // `guid(null)` and `dynamic(null)` are null values (isnull() is true of them).
        Literal::Guid(g) => ScalarValue::Utf8(g.as_deref().map(str::to_ascii_lowercase)),
        Literal::Dynamic(Dynamic::Null) => ScalarValue::LargeUtf8(None),
        Literal::Dynamic(d) => ScalarValue::LargeUtf8(Some(dynamic_json(d)?.to_string())),
    })
}

/// A dynamic literal as a JSON value (datetimes and timespans become their text forms).
pub fn dynamic_json(d: &Dynamic) -> Result<serde_json::Value, String> {
    use serde_json::Value;
    Ok(match d {
        Dynamic::Null => Value::Null,
        Dynamic::Array(items) => Value::Array(items.iter().map(dynamic_json).collect::<Result<_, _>>()?),
        Dynamic::Object(items) => Value::Object(
            items
                .iter()
                .map(|(k, v)| Ok((k.clone(), dynamic_json(v)?)))
                .collect::<Result<_, String>>()?,
        ),
        Dynamic::Scalar(lit) => match &**lit {
            Literal::Bool(Some(b)) => Value::Bool(*b),
            Literal::Int(Some(i)) => Value::from(*i),
            Literal::Long(Some(l)) => Value::from(*l),
            Literal::Real(Some(r)) => serde_json::Number::from_f64(*r).map_or(Value::Null, Value::Number),
            Literal::String { value, .. } => Value::String(value.clone()),
            Literal::Datetime(Some(t)) => Value::String(format_datetime(parse_datetime(t)?)),
            Literal::Timespan(Some(t)) => Value::String(format_timespan(t * NANOS_PER_TICK)),
            Literal::Guid(Some(g)) => Value::String(g.to_ascii_lowercase()),
            Literal::Dynamic(inner) => dynamic_json(inner)?,
            _ => Value::Null,
        },
    })
}

/// Parses Kusto datetime text (ISO 8601 forms; `/` date separators; no zone means UTC).
pub fn parse_datetime(text: &str) -> Result<i64, String> {
    let t = text.trim();
    if let Some(n) = parse_us_datetime(t) {
        return Ok(n);
    }
    let mut s = pad_date(&t.replace('/', "-"));
    // `2024-01-02 10:30` (no seconds) is accepted by Kusto; Arrow needs the seconds.
    let bytes = s.as_bytes();
    if bytes.len() == 16 && bytes[10] == b' ' || bytes.len() == 16 && bytes[10] == b'T' {
        s.push_str(":00");
    }
    string_to_timestamp_nanos(&s)
        .map_err(|_| format!("invalid datetime `{t}` (expected ISO 8601, such as 2024-01-31 or 2024-01-31T10:00:00Z)"))
}

/// `1970-5-12`: single-digit months and days padded to two digits (Kusto reads them).
fn pad_date(t: &str) -> String {
    let split = t.find([' ', 'T']).unwrap_or(t.len());
    let (date, rest) = t.split_at(split);
    let parts: Vec<&str> = date.split('-').collect();
    match parts.as_slice() {
        [y, m, d]
            if y.len() == 4
                && [m, d].iter().all(|p| (1..=2).contains(&p.len()))
                && parts.iter().all(|p| p.bytes().all(|b| b.is_ascii_digit())) =>
        {
            format!("{y}-{m:0>2}-{d:0>2}{rest}")
        }
        _ => t.to_string(),
    }
}

/// `M/d/yyyy[ h:mm[:ss][ AM|PM]]`, the US form Kusto also reads.
fn parse_us_datetime(t: &str) -> Option<i64> {
    let (date, time) = t.split_once(' ').map_or((t, ""), |(d, r)| (d, r.trim()));
    let mut parts = date.split('/');
    let (m, d, y) = (
        parts.next()?.parse::<u32>().ok()?,
        parts.next()?.parse::<u32>().ok()?,
        parts.next()?.parse::<i64>().ok()?,
    );
    if parts.next().is_some() || !(1..=12).contains(&m) || !(1..=31).contains(&d) || !(1000..=9999).contains(&y) {
        return None;
    }
    let (clock, meridiem) = match time.rsplit_once(' ') {
        Some((c, ampm)) if ampm.eq_ignore_ascii_case("AM") || ampm.eq_ignore_ascii_case("PM") => {
            (c, Some(ampm.to_ascii_uppercase()))
        }
        _ => (time, None),
    };
    let mut secs = 0i64;
    if !clock.is_empty() {
        let f: Vec<&str> = clock.split(':').collect();
        if f.len() < 2 || f.len() > 3 {
            return None;
        }
        let mut h: i64 = f[0].parse().ok()?;
        let mi: i64 = f[1].parse().ok()?;
        let s: i64 = f.get(2).map_or(Some(0), |x| x.parse().ok())?;
        match meridiem.as_deref() {
            Some("PM") if h < 12 => h += 12,
            Some("AM") if h == 12 => h = 0,
            _ => {}
        }
        if h > 23 || mi > 59 || s > 59 {
            return None;
        }
        secs = h * 3600 + mi * 60 + s;
    }
    Some(days_from_ymd(y, m, d)? * NANOS_PER_DAY + secs * NANOS_PER_SECOND)
}

/// Days since 1970-01-01 to (year, month, day), proleptic Gregorian.
pub fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let y = yoe + era * 400 + i64::from(m <= 2);
    (y, m, d)
}

/// (year, month, day) to days since 1970-01-01, proleptic Gregorian (a day past the end of its
/// month counts on into the next); `None` outside chrono's date range.
pub fn days_from_ymd(y: i64, m: u32, d: u32) -> Option<i64> {
    let first = NaiveDate::from_ymd_opt(i32::try_from(y).ok()?, m, 1)?;
    Some(i64::from(first.num_days_from_ce()) - UNIX_EPOCH_DAYS_FROM_CE + i64::from(d) - 1)
}

/// 1970-01-01 counted in days from 0001-01-01 as day 1 (chrono's `num_days_from_ce`).
const UNIX_EPOCH_DAYS_FROM_CE: i64 = 719_163;

/// Kusto's datetime text: `2024-01-31T10:00:00Z`, with 7 fractional digits when there is a fraction.
pub fn format_datetime(nanos: i64) -> String {
    let days = nanos.div_euclid(NANOS_PER_DAY);
    let rem = nanos.rem_euclid(NANOS_PER_DAY);
    let (y, m, d) = civil_from_days(days);
    let secs = rem / NANOS_PER_SECOND;
    let frac = rem % NANOS_PER_SECOND;
    let (hh, mm, ss) = (secs / 3600, secs / 60 % 60, secs % 60);
    if frac == 0 {
        format!("{y:04}-{m:02}-{d:02}T{hh:02}:{mm:02}:{ss:02}Z")
    } else {
        format!(
            "{y:04}-{m:02}-{d:02}T{hh:02}:{mm:02}:{ss:02}.{:07}Z",
            frac / NANOS_PER_TICK
        )
    }
}

/// Kusto's timespan text: `[-][d.]hh:mm:ss[.fffffff]`.
pub fn format_timespan(nanos: i64) -> String {
    let neg = nanos < 0;
    let ticks = (nanos / NANOS_PER_TICK).unsigned_abs();
    let per_sec = (NANOS_PER_SECOND / NANOS_PER_TICK) as u64;
    let frac = ticks % per_sec;
    let secs = ticks / per_sec;
    let (days, hh, mm, ss) = (secs / 86_400, secs / 3600 % 24, secs / 60 % 60, secs % 60);
    let mut out = String::new();
    if neg {
        out.push('-');
    }
    if days > 0 {
        out.push_str(&format!("{days}."));
    }
    out.push_str(&format!("{hh:02}:{mm:02}:{ss:02}"));
    if frac > 0 {
        out.push_str(&format!(".{frac:07}"));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn datetimes_parse_and_format() {
        let t = parse_datetime("2024-02-29 13:45").unwrap();
        assert_eq!(format_datetime(t), "2024-02-29T13:45:00Z");
        let t = parse_datetime("2021-07-27T10:49:52.6170000Z").unwrap();
        assert_eq!(format_datetime(t), "2021-07-27T10:49:52.6170000Z");
        assert_eq!(
            format_datetime(parse_datetime("2024/01/05").unwrap()),
            "2024-01-05T00:00:00Z"
        );
        assert_eq!(format_datetime(-1), "1969-12-31T23:59:59.9999999Z");
        assert!(parse_datetime("yesterday").is_err());
        assert_eq!(
            format_datetime(parse_datetime("01/16/2022 00:00:00").unwrap()),
            "2022-01-16T00:00:00Z"
        );
        assert_eq!(
            format_datetime(parse_datetime("3/5/2024 1:30 PM").unwrap()),
            "2024-03-05T13:30:00Z"
        );
        for days in [-800_000, -1, 0, 1, 19_000, 2_932_896] {
            let (y, m, d) = civil_from_days(days);
            assert_eq!(days_from_ymd(y, m, d), Some(days));
        }
        assert_eq!(days_from_ymd(1970, 1, 1), Some(0));
        assert_eq!(days_from_ymd(2024, 2, 30), days_from_ymd(2024, 3, 1));
    }

    #[test]
    fn timespans_format_like_kusto() {
        assert_eq!(format_timespan(0), "00:00:00");
        assert_eq!(format_timespan(90 * 60 * NANOS_PER_SECOND), "01:30:00");
        assert_eq!(format_timespan(NANOS_PER_DAY + 1_500_000_000), "1.00:00:01.5000000");
        assert_eq!(format_timespan(-NANOS_PER_SECOND), "-00:00:01");
    }
}
