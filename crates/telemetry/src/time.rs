//! Timestamp parsing: the date-time spellings found in event logs and exports, to UTC nanoseconds.
//!
//! Accepted: RFC 3339 / ISO 8601 with `T` or a space between date and time, 0–9 fractional
//! digits (kept to 100 ns, Kusto's resolution), `Z`, `±hh:mm`, `±hhmm` or no zone (read as UTC),
//! which covers evtx ≥ 0.15 (7 digits), evtx ≤ 0.14 (6 digits), Sysmon `UtcTime`
//! (`YYYY-MM-DD HH:MM:SS.fff`) and Defender/Sentinel exports.

/// Nanoseconds since the Unix epoch, UTC.
pub type Nanos = i64;

/// Days from 1970-01-01 to the given proleptic Gregorian date.
fn days_from_civil(y: i64, m: u32, d: u32) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = if y >= 0 { y } else { y - 399 } / 400;
    let yoe = y - era * 400;
    let mp = (i64::from(m) + 9) % 12;
    let doy = (153 * mp + 2) / 5 + i64::from(d) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = if z >= 0 { z } else { z - 146_096 } / 146_097;
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (if m <= 2 { y + 1 } else { y }, m, d)
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

fn days_in_month(y: i64, m: u32) -> u32 {
    match m {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        _ if (y % 4 == 0 && y % 100 != 0) || y % 400 == 0 => 29,
        _ => 28,
    }
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
    if !(1..=12).contains(&month) || day == 0 || day > days_in_month(i64::from(year), month) {
        return None;
    }
    let days = days_from_civil(i64::from(year), month, day);
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
    let (y, m, d) = civil_from_days(days);
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
}
