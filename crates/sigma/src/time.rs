//! Timestamp parsing (ISO 8601 / RFC 3339 / Sysmon `UtcTime`) to Unix nanoseconds, and civil-date parts.

use chrono::{DateTime, Datelike, NaiveDate, Timelike};

/// Nanoseconds per second.
pub const NANOS_PER_SEC: i64 = 1_000_000_000;

/// Days since 1970-01-01 of the proleptic Gregorian date `y-m-d`; `None` when there is no such date.
fn days_from_civil(y: i64, m: u32, d: u32) -> Option<i64> {
    let date = NaiveDate::from_ymd_opt(i32::try_from(y).ok()?, m, d)?;
    Some(i64::from(date.to_epoch_days()))
}

/// Calendar parts of a UTC timestamp, as used by the Sigma time modifiers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CivilTime {
    /// Year, e.g. 2025.
    pub year: i64,
    /// Month 1..=12.
    pub month: u32,
    /// Day of month 1..=31.
    pub day: u32,
    /// Hour 0..=23.
    pub hour: u32,
    /// Minute 0..=59.
    pub minute: u32,
    /// Second 0..=59.
    pub second: u32,
}

impl CivilTime {
    /// Splits Unix nanoseconds (UTC) into calendar parts.
    pub fn from_unix_nanos(nanos: i64) -> CivilTime {
        let t = DateTime::from_timestamp_nanos(nanos);
        CivilTime {
            year: i64::from(t.year()),
            month: t.month(),
            day: t.day(),
            hour: t.hour(),
            minute: t.minute(),
            second: t.second(),
        }
    }

    /// ISO 8601 week number (1..=53); 0 when the fields do not form a calendar date.
    pub fn iso_week(&self) -> u32 {
        i32::try_from(self.year)
            .ok()
            .and_then(|y| NaiveDate::from_ymd_opt(y, self.month, self.day))
            .map_or(0, |date| date.iso_week().week())
    }
}

struct Cursor<'a> {
    b: &'a [u8],
    i: usize,
}

impl Cursor<'_> {
    fn digits(&mut self, n: usize) -> Option<u32> {
        let s = self.b.get(self.i..self.i + n)?;
        let mut v = 0u32;
        for &c in s {
            if !c.is_ascii_digit() {
                return None;
            }
            v = v * 10 + u32::from(c - b'0');
        }
        self.i += n;
        Some(v)
    }
    fn eat(&mut self, c: u8) -> bool {
        if self.b.get(self.i) == Some(&c) {
            self.i += 1;
            true
        } else {
            false
        }
    }
    fn peek(&self) -> Option<u8> {
        self.b.get(self.i).copied()
    }
}

/// Parses `YYYY-MM-DD[(T| )HH:MM[:SS[.fraction]]][Z|±HH[:]MM]` into Unix nanoseconds (UTC).
///
/// Times without a zone are taken as UTC (Sysmon's `UtcTime` and evtx `SystemTime` are UTC).
/// Returns `None` for anything else.
pub fn parse_timestamp(s: &str) -> Option<i64> {
    let mut c = Cursor {
        b: s.trim().as_bytes(),
        i: 0,
    };
    let year = c.digits(4)?;
    if !c.eat(b'-') {
        return None;
    }
    let month = c.digits(2)?;
    if !c.eat(b'-') {
        return None;
    }
    let day = c.digits(2)?;
    let days = days_from_civil(i64::from(year), month, day)?;
    let (mut hour, mut minute, mut second, mut nanos) = (0u32, 0u32, 0u32, 0i64);
    let mut offset_secs = 0i64;
    if c.eat(b'T') || c.eat(b't') || c.eat(b' ') {
        hour = c.digits(2)?;
        if !c.eat(b':') {
            return None;
        }
        minute = c.digits(2)?;
        if c.eat(b':') {
            second = c.digits(2)?;
            if c.eat(b'.') || c.eat(b',') {
                let mut scale = 100_000_000i64;
                let mut any = false;
                while let Some(d) = c.peek().filter(u8::is_ascii_digit) {
                    nanos += i64::from(d - b'0') * scale;
                    scale /= 10;
                    c.i += 1;
                    any = true;
                }
                if !any {
                    return None;
                }
            }
        }
        if hour > 23 || minute > 59 || second > 60 {
            return None;
        }
        match c.peek() {
            Some(b'Z') | Some(b'z') => c.i += 1,
            Some(sign @ (b'+' | b'-')) => {
                c.i += 1;
                let oh = c.digits(2)?;
                c.eat(b':');
                let om = c.digits(2)?;
                let off = i64::from(oh) * 3600 + i64::from(om) * 60;
                offset_secs = if sign == b'+' { off } else { -off };
            }
            _ => {}
        }
    }
    if c.i != c.b.len() {
        return None;
    }
    let secs = days * 86_400 + i64::from(hour) * 3600 + i64::from(minute) * 60 + i64::from(second) - offset_secs;
    secs.checked_mul(NANOS_PER_SEC)?.checked_add(nanos)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn civil_roundtrip() {
        for days in [-106_000i64, -1, 0, 1, 11_016, 20_433, 106_000] {
            let t = CivilTime::from_unix_nanos(days * 86_400 * NANOS_PER_SEC);
            assert_eq!(
                days_from_civil(t.year, t.month, t.day),
                Some(days),
                "{}-{}-{}",
                t.year,
                t.month,
                t.day
            );
        }
        assert_eq!(days_from_civil(1970, 1, 1), Some(0));
        assert_eq!(days_from_civil(2000, 3, 1), Some(11_017));
        assert_eq!(days_from_civil(9999, 12, 31), Some(2_932_896));
        assert_eq!(days_from_civil(-220, 1, 1), Some(-799_881));
        assert_eq!(days_from_civil(2025, 2, 29), None);
        assert_eq!(days_from_civil(2024, 13, 1), None);
    }

    #[test]
    fn parses_evtx_and_sysmon_formats() {
        assert_eq!(parse_timestamp("1970-01-01T00:00:01Z"), Some(NANOS_PER_SEC));
        assert_eq!(
            parse_timestamp("2025-12-11T06:17:19.772545Z"),
            Some(1_765_433_839 * NANOS_PER_SEC + 772_545_000)
        );
        assert_eq!(
            parse_timestamp("2025-12-11 06:17:19.636"),
            Some(1_765_433_839 * NANOS_PER_SEC + 636_000_000)
        );
        assert_eq!(parse_timestamp("1970-01-01T01:00:00+01:00"), Some(0));
        assert_eq!(parse_timestamp("1970-01-02"), Some(86_400 * NANOS_PER_SEC));
        assert_eq!(parse_timestamp("2025-02-30T00:00:00Z"), None);
        assert_eq!(parse_timestamp("yesterday"), None);
        assert_eq!(parse_timestamp("2025-01-01T00:00:00Zjunk"), None);
    }

    #[test]
    fn civil_parts_and_iso_week() {
        let t = CivilTime::from_unix_nanos(parse_timestamp("2024-12-30T23:59:58Z").unwrap_or_default());
        assert_eq!(
            (t.year, t.month, t.day, t.hour, t.minute, t.second),
            (2024, 12, 30, 23, 59, 58)
        );
        assert_eq!(t.iso_week(), 1); // Monday 2024-12-30 belongs to ISO week 2025-W01
        let t = CivilTime::from_unix_nanos(parse_timestamp("2021-01-03T00:00:00Z").unwrap_or_default());
        assert_eq!(t.iso_week(), 53); // Sunday of 2020-W53
        let t = CivilTime::from_unix_nanos(parse_timestamp("2025-06-15T12:00:00Z").unwrap_or_default());
        assert_eq!(t.iso_week(), 24);
    }
}
