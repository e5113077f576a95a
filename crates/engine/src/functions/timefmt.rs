//! Datetime and timespan functions: `format_datetime`, `format_timespan` (format strings parsed
//! at plan time), `make_datetime`, `make_timespan`, `datetime_part`, `dayofyear`, `week_of_year`.

use crate::value::{NANOS_PER_DAY, NANOS_PER_SECOND, NANOS_PER_TICK, civil_from_days, days_from_ymd};

/// One element of a format string.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum FmtItem {
    /// A delimiter, written as it is.
    Lit(char),
    /// Days of a timespan, zero-padded to this width.
    Days(usize),
    /// Day of the month (padded when true).
    Day(bool),
    Month(bool),
    /// `y` (1), `yy` (2), `yyyy` (4).
    Year(usize),
    /// 24-hour clock hour.
    Hour24(bool),
    /// 12-hour clock hour.
    Hour12(bool),
    Minute(bool),
    Second(bool),
    /// `f...`: that many digits of the second's fraction.
    Frac(usize),
    /// `F...`: like `f`, trailing zeros dropped (nothing when zero).
    FracTrim(usize),
    /// `tt`: AM / PM.
    AmPm,
}

const DELIMITERS: &[char] = &[' ', '/', '-', ':', ',', '.', '_', '[', ']'];

/// Parses a `format_datetime` (`timespan == false`) or `format_timespan` format.
pub fn parse_format(format: &str, timespan: bool) -> Result<Vec<FmtItem>, String> {
    let chars: Vec<char> = format.chars().collect();
    let mut items = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        let mut n = 1;
        while i + n < chars.len() && chars[i + n] == c {
            n += 1;
        }
        i += n;
        if DELIMITERS.contains(&c) {
            items.extend(std::iter::repeat_n(FmtItem::Lit(c), n));
            continue;
        }
        let item = match (c, n, timespan) {
            ('d', 1..=8, true) => FmtItem::Days(n),
            ('d', 1..=2, false) => FmtItem::Day(n == 2),
            ('M', 1..=2, false) => FmtItem::Month(n == 2),
            ('y', 1 | 2 | 4, false) => FmtItem::Year(n),
            ('H', 1..=2, _) => FmtItem::Hour24(n == 2),
            ('h', 1..=2, false) => FmtItem::Hour12(n == 2),
            // Kusto's own format_timespan example uses `h`/`hh` for the hours of a timespan.
            ('h', 1..=2, true) => FmtItem::Hour24(n == 2),
            ('m', 1..=2, _) => FmtItem::Minute(n == 2),
            ('s', 1..=2, _) => FmtItem::Second(n == 2),
            ('f', 1..=7, _) => FmtItem::Frac(n),
            ('F', 1..=7, _) => FmtItem::FracTrim(n),
            ('t', 2, false) => FmtItem::AmPm,
            _ => {
                let what = if timespan { "format_timespan" } else { "format_datetime" };
                return Err(format!(
                    "{what}(): `{}` is not a supported format element",
                    std::iter::repeat_n(c, n).collect::<String>()
                ));
            }
        };
        items.push(item);
    }
    Ok(items)
}

fn pad(out: &mut String, v: i64, padded: bool) {
    if padded {
        out.push_str(&format!("{v:02}"));
    } else {
        out.push_str(&v.to_string());
    }
}

fn frac(out: &mut String, ticks: i64, n: usize, trim: bool) {
    let digits = format!("{ticks:07}");
    let part = &digits[..n.min(7)];
    if trim {
        out.push_str(part.trim_end_matches('0'));
    } else {
        out.push_str(part);
    }
}

/// `format_datetime(nanos, format)`.
pub fn format_datetime(nanos: i64, items: &[FmtItem]) -> String {
    let days = nanos.div_euclid(NANOS_PER_DAY);
    let tod = nanos.rem_euclid(NANOS_PER_DAY);
    let (y, mo, d) = civil_from_days(days);
    let secs = tod / NANOS_PER_SECOND;
    let ticks = tod % NANOS_PER_SECOND / NANOS_PER_TICK;
    let (hh, mm, ss) = (secs / 3600, secs / 60 % 60, secs % 60);
    let mut out = String::new();
    for item in items {
        match item {
            FmtItem::Lit(c) => out.push(*c),
            FmtItem::Day(p) => pad(&mut out, i64::from(d), *p),
            FmtItem::Month(p) => pad(&mut out, i64::from(mo), *p),
            FmtItem::Year(1) => out.push_str(&(y % 100).to_string()),
            FmtItem::Year(2) => out.push_str(&format!("{:02}", y % 100)),
            FmtItem::Year(_) => out.push_str(&format!("{y:04}")),
            FmtItem::Hour24(p) => pad(&mut out, hh, *p),
            FmtItem::Hour12(p) => pad(&mut out, if hh % 12 == 0 { 12 } else { hh % 12 }, *p),
            FmtItem::Minute(p) => pad(&mut out, mm, *p),
            FmtItem::Second(p) => pad(&mut out, ss, *p),
            FmtItem::Frac(n) => frac(&mut out, ticks, *n, false),
            FmtItem::FracTrim(n) => frac(&mut out, ticks, *n, true),
            FmtItem::AmPm => out.push_str(if hh < 12 { "AM" } else { "PM" }),
            FmtItem::Days(_) => {}
        }
    }
    out
}

/// `format_timespan(nanos, format)`: the parts of the absolute duration.
pub fn format_timespan(nanos: i64, items: &[FmtItem]) -> String {
    let total_ticks = (nanos / NANOS_PER_TICK).unsigned_abs();
    let per_sec = (NANOS_PER_SECOND / NANOS_PER_TICK) as u64;
    let ticks = (total_ticks % per_sec) as i64;
    let secs = total_ticks / per_sec;
    let (days, hh, mm, ss) = (
        secs / 86_400,
        (secs / 3600 % 24) as i64,
        (secs / 60 % 60) as i64,
        (secs % 60) as i64,
    );
    let mut out = String::new();
    for item in items {
        match item {
            FmtItem::Lit(c) => out.push(*c),
            FmtItem::Days(n) => out.push_str(&format!("{days:0n$}", n = *n)),
            FmtItem::Hour24(p) => pad(&mut out, hh, *p),
            FmtItem::Minute(p) => pad(&mut out, mm, *p),
            FmtItem::Second(p) => pad(&mut out, ss, *p),
            FmtItem::Frac(n) => frac(&mut out, ticks, *n, false),
            FmtItem::FracTrim(n) => frac(&mut out, ticks, *n, true),
            _ => {}
        }
    }
    out
}

/// Nanoseconds of `seconds` (a real), rounded to whole ticks.
fn seconds_nanos(seconds: f64) -> Option<i64> {
    let ticks = (seconds * 1e7).round();
    (ticks.is_finite() && ticks.abs() < 9.2e11 * 1e7).then(|| ticks as i64 * NANOS_PER_TICK)
}

/// `make_datetime(year, month, day[, hour, minute[, second]])`; `None` for out-of-range parts or
/// dates Arrow's nanosecond timestamps cannot hold.
pub fn make_datetime(y: i64, mo: i64, d: i64, h: i64, mi: i64, s: f64) -> Option<i64> {
    if !(0..=9999).contains(&y) || !(1..=12).contains(&mo) || !(0..=23).contains(&h) || !(0..=59).contains(&mi) {
        return None;
    }
    if !(0.0..60.0).contains(&s) {
        return None;
    }
    let (mo, d32) = (mo as u32, u32::try_from(d).ok()?);
    let next = if mo == 12 {
        days_from_ymd(y + 1, 1, 1)?
    } else {
        days_from_ymd(y, mo + 1, 1)?
    };
    let month_days = next - days_from_ymd(y, mo, 1)?;
    if d32 < 1 || i64::from(d32) > month_days {
        return None;
    }
    let days = days_from_ymd(y, mo, d32)?;
    let base =
        i128::from(days) * i128::from(NANOS_PER_DAY) + i128::from(h * 3600 + mi * 60) * i128::from(NANOS_PER_SECOND);
    let total = base + i128::from(seconds_nanos(s)?);
    i64::try_from(total).ok()
}

/// `make_timespan(...)` from days, hours, minutes and (real) seconds; `None` when a part is out
/// of its range.
pub fn make_timespan(d: i64, h: i64, mi: i64, s: f64) -> Option<i64> {
    if !(0..=23).contains(&h) || !(0..=59).contains(&mi) || !(0.0..60.0).contains(&s) {
        return None;
    }
    let whole = d
        .checked_mul(86_400)?
        .checked_add(h * 3600 + mi * 60)?
        .checked_mul(NANOS_PER_SECOND)?;
    whole.checked_add(seconds_nanos(s)?)
}

/// Day of the year, 1-based.
pub fn day_of_year(nanos: i64) -> i64 {
    let days = nanos.div_euclid(NANOS_PER_DAY);
    let (y, _, _) = civil_from_days(days);
    days - days_from_ymd(y, 1, 1).expect("a datetime's year is in chrono's range") + 1
}

/// ISO 8601 week number (weeks start on Monday; week 1 holds the year's first Thursday).
pub fn iso_week(nanos: i64) -> i64 {
    let days = nanos.div_euclid(NANOS_PER_DAY);
    // 1970-01-01 was a Thursday: ISO weekday 4 (Monday = 1).
    let weekday = (days + 3).rem_euclid(7) + 1;
    let thursday = days - weekday + 4;
    let (y, _, _) = civil_from_days(thursday);
    (thursday - days_from_ymd(y, 1, 1).expect("a datetime's year is in chrono's range")) / 7 + 1
}

/// `datetime_part` part names (case-insensitive).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum DtPart {
    Year,
    Quarter,
    Month,
    WeekOfYear,
    Day,
    DayOfYear,
    Hour,
    Minute,
    Second,
    Millisecond,
    Microsecond,
    Nanosecond,
}

impl DtPart {
    pub fn parse(name: &str) -> Option<DtPart> {
        Some(match name.to_ascii_lowercase().as_str() {
            "year" => DtPart::Year,
            "quarter" => DtPart::Quarter,
            "month" => DtPart::Month,
            "week_of_year" => DtPart::WeekOfYear,
            "day" => DtPart::Day,
            "dayofyear" => DtPart::DayOfYear,
            "hour" => DtPart::Hour,
            "minute" => DtPart::Minute,
            "second" => DtPart::Second,
            "millisecond" => DtPart::Millisecond,
            "microsecond" => DtPart::Microsecond,
            "nanosecond" => DtPart::Nanosecond,
            _ => return None,
        })
    }
}

pub fn datetime_part(part: DtPart, nanos: i64) -> i64 {
    let days = nanos.div_euclid(NANOS_PER_DAY);
    let tod = nanos.rem_euclid(NANOS_PER_DAY);
    let (y, m, d) = civil_from_days(days);
    match part {
        DtPart::Year => y,
        DtPart::Quarter => (i64::from(m) - 1) / 3 + 1,
        DtPart::Month => i64::from(m),
        DtPart::WeekOfYear => iso_week(nanos),
        DtPart::Day => i64::from(d),
        DtPart::DayOfYear => day_of_year(nanos),
        DtPart::Hour => tod / 3_600_000_000_000,
        DtPart::Minute => tod / 60_000_000_000 % 60,
        DtPart::Second => tod / NANOS_PER_SECOND % 60,
        DtPart::Millisecond => tod / 1_000_000 % 1000,
        DtPart::Microsecond => tod / 1_000 % 1_000_000,
        DtPart::Nanosecond => tod % NANOS_PER_SECOND,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::value::parse_datetime;

    #[test]
    fn formats() {
        let dt = parse_datetime("2017-01-29 09:00:05").unwrap();
        let f = |s: &str| format_datetime(dt, &parse_format(s, false).unwrap());
        assert_eq!(f("yy-MM-dd [HH:mm:ss]"), "17-01-29 [09:00:05]");
        assert_eq!(f("yyyy-M-dd [H:mm:ss]"), "2017-1-29 [9:00:05]");
        assert_eq!(f("yy-MM-dd [hh:mm:ss tt]"), "17-01-29 [09:00:05 AM]");
        assert!(parse_format("yyy", false).is_err());
        assert!(parse_format("dd%", false).is_err());
        let t = 29 * NANOS_PER_DAY + (9 * 3600 + 5) * NANOS_PER_SECOND + 123_450_000;
        let g = |s: &str| format_timespan(t, &parse_format(s, true).unwrap());
        assert_eq!(g("dd.hh:mm:ss:FF"), "29.09:00:05:12");
        assert_eq!(g("ddd.h:mm:ss [fffffff]"), "029.9:00:05 [1234500]");
    }

    #[test]
    fn calendar() {
        let w = |s: &str| iso_week(parse_datetime(s).unwrap());
        assert_eq!(w("2020-12-31"), 53);
        assert_eq!(w("2020-06-15"), 25);
        assert_eq!(w("1970-01-01"), 1);
        assert_eq!(w("2000-01-01"), 52);
        assert_eq!(day_of_year(parse_datetime("2017-10-30").unwrap()), 303);
        assert_eq!(make_datetime(2017, 2, 29, 0, 0, 0.0), None);
        assert_eq!(
            make_timespan(1, 12, 30, 55.123),
            Some(((86_400 + 12 * 3600 + 30 * 60 + 55) * 1_000_000_000) + 123_000_000)
        );
    }
}
