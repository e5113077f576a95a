//! Timestamp parsing: the date-time spellings found in event logs and exports, to UTC nanoseconds.
//!
//! Accepted: RFC 3339 / ISO 8601 with `T` or a space between date and time, 0–9 fractional
//! digits (kept to 100 ns, Kusto's resolution), `Z`, `±hh:mm`, `±hhmm` or no zone (read as UTC),
//! which covers evtx ≥ 0.15 (7 digits), evtx ≤ 0.14 (6 digits), Sysmon `UtcTime`
//! (`YYYY-MM-DD HH:MM:SS.fff`) and Defender/Sentinel exports.

use chrono::{DateTime, Datelike, NaiveDate, TimeDelta};

/// Nanoseconds since the Unix epoch, UTC.
pub type Nanos = i64;

/// The first day of the Unix epoch, 1970-01-01.
fn epoch() -> NaiveDate {
    DateTime::UNIX_EPOCH.date_naive()
}

fn digits(b: &[u8], start: usize, n: usize) -> Option<u32> {
    let s = b.get(start..start + n)?;
    let mut v = 0u32;
    for c in s {
        if !c.is_ascii_digit() {
            return None;
        }
        v = v * 10 + u32::from(c - b'0');
    }
    Some(v)
}

/// Parses a date-time text to UTC nanoseconds; `None` when it is not one of the accepted forms
/// or lies outside the range an i64 of nanoseconds can hold (years 1678–2261).
pub fn parse_datetime(text: &str) -> Option<Nanos> {
    let b = text.trim().as_bytes();
    let year = digits(b, 0, 4)?;
    if b.get(4) != Some(&b'-') || b.get(7) != Some(&b'-') {
        return None;
    }
    let month = digits(b, 5, 2)?;
    let day = digits(b, 8, 2)?;
    // Four digits: a year chrono always holds; month and day are checked by it.
    let date = NaiveDate::from_ymd_opt(i32::try_from(year).ok()?, month, day)?;
    let days = date.signed_duration_since(epoch()).num_days();
    let mut secs: i64 = days * 86_400;
    let mut frac_ns: i64 = 0;
    let mut pos = 10;
    if b.len() > 10 {
        if b[10] != b'T' && b[10] != b't' && b[10] != b' ' {
            return None;
        }
        let hh = digits(b, 11, 2)?;
        if b.get(13) != Some(&b':') {
            return None;
        }
        let mm = digits(b, 14, 2)?;
        pos = 16;
        let mut ss = 0;
        if b.get(16) == Some(&b':') {
            ss = digits(b, 17, 2)?;
            pos = 19;
        }
        if hh > 23 || mm > 59 || ss > 60 {
            return None;
        }
        secs += i64::from(hh) * 3600 + i64::from(mm) * 60 + i64::from(ss);
        if b.get(pos) == Some(&b'.') || b.get(pos) == Some(&b',') {
            pos += 1;
            let mut n = 0;
            let mut scale: i64 = 100_000_000;
            while let Some(c) = b.get(pos).filter(|c| c.is_ascii_digit()) {
                if n < 9 {
                    frac_ns += i64::from(c - b'0') * scale;
                    scale /= 10;
                }
                n += 1;
                pos += 1;
            }
            if n == 0 {
                return None;
            }
            // Kusto keeps 100 ns ticks.
            frac_ns -= frac_ns % 100;
        }
        match b.get(pos) {
            None => {}
            Some(b'Z') | Some(b'z') => pos += 1,
            Some(&sign @ (b'+' | b'-')) => {
                let oh = digits(b, pos + 1, 2)?;
                let (om, used) = if b.get(pos + 3) == Some(&b':') {
                    (digits(b, pos + 4, 2)?, 6)
                } else if b.len() >= pos + 5 {
                    (digits(b, pos + 3, 2)?, 5)
                } else {
                    (0, 3)
                };
                let off = i64::from(oh) * 3600 + i64::from(om) * 60;
                secs -= if sign == b'+' { off } else { -off };
                pos += used;
            }
            Some(_) => return None,
        }
    }
    if pos != b.len() {
        return None;
    }
    secs.checked_mul(1_000_000_000)?.checked_add(frac_ns)
}

/// Formats UTC nanoseconds as RFC 3339 with 7 fractional digits (`2024-05-02T09:15:21.4431230Z`).
pub fn format_datetime(ns: Nanos) -> String {
    let secs = ns.div_euclid(1_000_000_000);
    let frac = ns.rem_euclid(1_000_000_000);
    let days = secs.div_euclid(86_400);
    let sod = secs.rem_euclid(86_400);
    // Any i64 of nanoseconds is within years 1677-2262, well inside chrono's range.
    let date = epoch() + TimeDelta::days(days);
    let (y, m, d) = (date.year(), date.month(), date.day());
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}.{:07}Z",
        sod / 3600,
        (sod / 60) % 60,
        sod % 60,
        frac / 100
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn evtx_forms() {
        let seven = parse_datetime("2024-05-02T09:15:21.4431230Z");
        let six = parse_datetime("2024-05-02T09:15:21.443123Z");
        assert_eq!(seven, six);
        assert_eq!(seven, Some(1_714_641_321_443_123_000));
        assert_eq!(
            format_datetime(1_714_641_321_443_123_000),
            "2024-05-02T09:15:21.4431230Z"
        );
    }

    #[test]
    fn sysmon_and_offsets() {
        assert_eq!(
            parse_datetime("2024-05-02 09:15:21.440"),
            Some(1_714_641_321_440_000_000)
        );
        assert_eq!(
            parse_datetime("2024-05-02T11:15:21.44+02:00"),
            Some(1_714_641_321_440_000_000)
        );
        assert_eq!(
            parse_datetime("2024-05-02T04:15:21.44-0500"),
            Some(1_714_641_321_440_000_000)
        );
        assert_eq!(parse_datetime("2024-05-02"), Some(1_714_608_000_000_000_000));
        assert_eq!(parse_datetime("2021-04-14T18:49:17Z"), Some(1_618_426_157_000_000_000));
    }

    #[test]
    fn rejects_garbage() {
        for bad in [
            "",
            "x",
            "2024-13-01",
            "2024-02-30T00:00:00Z",
            "2024-05-02T25:00:00Z",
            "2024-05-02T09:15:21.Z",
            "2024-05-02T09:15:21Zjunk",
            "9999999-01-01",
        ] {
            assert_eq!(parse_datetime(bad), None, "{bad}");
        }
        assert_eq!(parse_datetime("1066-10-14T00:00:00Z"), None);
    }

    #[test]
    fn round_trip_dates() {
        for ns in [0i64, -1_000_000_000, 951_782_400_123_456_700, 4_102_444_799_999_999_900] {
            assert_eq!(parse_datetime(&format_datetime(ns)), Some(ns));
        }
    }

    #[test]
    fn calendar_edges() {
        let day = |t: &str| parse_datetime(t).map(|ns| ns / 86_400_000_000_000);
        assert_eq!(day("2000-02-29"), Some(11_016));
        assert_eq!(day("2024-02-29T00:00:00Z"), Some(19_782));
        assert_eq!(day("1900-02-29"), None);
        assert_eq!(day("2100-02-29"), None);
        assert_eq!(day("2023-04-31"), None);
        assert_eq!(day("2023-00-10"), None);
        assert_eq!(day("2023-13-10"), None);
        assert_eq!(day("2023-01-00"), None);
        assert_eq!(parse_datetime("1969-12-31T23:59:59Z"), Some(-1_000_000_000));
        assert_eq!(format_datetime(i64::MAX), "2262-04-11T23:47:16.8547758Z");
        assert_eq!(format_datetime(i64::MIN), "1677-09-21T00:12:43.1452241Z");
        assert_eq!(format_datetime(-1), "1969-12-31T23:59:59.9999999Z");
    }
}
