//! Tuning (`--config tuning.toml`): approved tools per device group, accounts, signers and business
//! hours, and disabled rules. Approvals suppress alerts with a reason; nothing is dropped silently.

use crate::alert::Alert;
use crate::catalog::{Tool, glob_to_regex};
use chrono::{Datelike, NaiveTime, TimeZone, Timelike, Weekday};
use regex::Regex;
use serde::Deserialize;
use std::collections::BTreeMap;

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct ConfigFile {
    #[serde(default)]
    groups: BTreeMap<String, Vec<String>>,
    #[serde(default)]
    business_hours: Option<HoursFile>,
    #[serde(default)]
    approve: Vec<ApprovalFile>,
    #[serde(default)]
    rules: RulesFile,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct HoursFile {
    #[serde(default)]
    timezone: Option<String>,
    #[serde(default)]
    days: Option<Vec<String>>,
    start: String,
    end: String,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct ApprovalFile {
    #[serde(default)]
    reason: Option<String>,
    #[serde(default)]
    tools: Vec<String>,
    #[serde(default)]
    groups: Vec<String>,
    #[serde(default)]
    devices: Vec<String>,
    #[serde(default)]
    accounts: Vec<String>,
    #[serde(default)]
    signers: Vec<String>,
    #[serde(default)]
    rules: Vec<String>,
    #[serde(default)]
    business_hours: bool,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RulesFile {
    #[serde(default)]
    disabled: Vec<String>,
}

/// A time zone: an IANA zone or a fixed offset.
#[derive(Debug, Clone, Copy)]
enum Zone {
    Iana(chrono_tz::Tz),
    Fixed(chrono::FixedOffset),
}

/// Business hours in a time zone.
#[derive(Debug, Clone)]
pub struct BusinessHours {
    zone: Zone,
    days: Vec<Weekday>,
    start: NaiveTime,
    end: NaiveTime,
}

impl BusinessHours {
    /// True when the instant (nanoseconds since the epoch, UTC) is inside business hours.
    pub fn contains(&self, nanos: i64) -> bool {
        let utc = chrono::DateTime::from_timestamp_nanos(nanos);
        let (weekday, time) = match self.zone {
            Zone::Iana(tz) => {
                let l = tz.from_utc_datetime(&utc.naive_utc());
                (l.weekday(), l.time())
            }
            Zone::Fixed(off) => {
                let l = off.from_utc_datetime(&utc.naive_utc());
                (l.weekday(), l.time())
            }
        };
        let t = NaiveTime::from_hms_opt(time.hour(), time.minute(), time.second()).unwrap_or(time);
        self.days.contains(&weekday) && t >= self.start && t < self.end
    }
}

struct Approval {
    reason: String,
    tools: Vec<String>,
    devices: Vec<Regex>,
    accounts: Vec<Regex>,
    signers: Vec<Regex>,
    rules: Vec<String>,
    business_hours: bool,
}

/// Parsed tuning.
#[derive(Default)]
pub struct Tuning {
    approvals: Vec<Approval>,
    hours: Option<BusinessHours>,
    disabled: Vec<String>,
}

fn glob(pattern: &str) -> Result<Regex, String> {
    Regex::new(&glob_to_regex(pattern)).map_err(|e| format!("pattern `{pattern}`: {e}"))
}

fn parse_weekday(d: &str) -> Option<Weekday> {
    match d.trim().to_ascii_lowercase().get(..3)? {
        "mon" => Some(Weekday::Mon),
        "tue" => Some(Weekday::Tue),
        "wed" => Some(Weekday::Wed),
        "thu" => Some(Weekday::Thu),
        "fri" => Some(Weekday::Fri),
        "sat" => Some(Weekday::Sat),
        "sun" => Some(Weekday::Sun),
        _ => None,
    }
}

fn parse_zone(text: &str) -> Result<Zone, String> {
    let t = text.trim();
    if t.eq_ignore_ascii_case("utc") || t == "Z" {
        return Ok(Zone::Fixed(chrono::FixedOffset::east_opt(0).expect("zero offset")));
    }
    if let Some(rest) = t.strip_prefix(['+', '-']) {
        let sign = if t.starts_with('-') { -1 } else { 1 };
        let (h, m) = rest.split_once(':').unwrap_or((rest, "0"));
        let (h, m): (i32, i32) = (
            h.parse().map_err(|_| format!("time zone `{t}`"))?,
            m.parse().map_err(|_| format!("time zone `{t}`"))?,
        );
        return chrono::FixedOffset::east_opt(sign * (h * 3600 + m * 60))
            .map(Zone::Fixed)
            .ok_or_else(|| format!("time zone `{t}` is out of range"));
    }
    t.parse::<chrono_tz::Tz>()
        .map(Zone::Iana)
        .map_err(|_| format!("unknown time zone `{t}` (an IANA name like Europe/Berlin, or +02:00)"))
}

fn parse_time(text: &str) -> Result<NaiveTime, String> {
    NaiveTime::parse_from_str(text.trim(), "%H:%M")
        .or_else(|_| NaiveTime::parse_from_str(text.trim(), "%H:%M:%S"))
        .or_else(|e| {
            if text.trim() == "24:00" {
                Ok(NaiveTime::MIN)
            } else {
                Err(e)
            }
        })
        .map_err(|_| format!("`{text}` is not a time of day (HH:MM)"))
}

impl Tuning {
    /// Parses a tuning file; `tools` resolves tool names, errors name the key at fault.
    pub fn parse(text: &str, tools: &[Tool]) -> Result<Tuning, String> {
        let file: ConfigFile = toml::from_str(text).map_err(|e| {
            let at = e
                .span()
                .map(|s| {
                    let line = text[..s.start.min(text.len())].matches('\n').count() + 1;
                    format!("line {line}: ")
                })
                .unwrap_or_default();
            format!("{at}{}", e.message())
        })?;
        let hours = match file.business_hours {
            None => None,
            Some(h) => {
                let days = match &h.days {
                    None => vec![Weekday::Mon, Weekday::Tue, Weekday::Wed, Weekday::Thu, Weekday::Fri],
                    Some(ds) => ds
                        .iter()
                        .map(|d| parse_weekday(d).ok_or_else(|| format!("business_hours.days: `{d}` is not a weekday")))
                        .collect::<Result<_, _>>()?,
                };
                let mut end = parse_time(&h.end).map_err(|e| format!("business_hours.end: {e}"))?;
                if h.end.trim() == "24:00" {
                    end = NaiveTime::from_hms_nano_opt(23, 59, 59, 999_999_999).expect("valid time");
                }
                Some(BusinessHours {
                    zone: parse_zone(h.timezone.as_deref().unwrap_or("UTC"))
                        .map_err(|e| format!("business_hours.timezone: {e}"))?,
                    days,
                    start: parse_time(&h.start).map_err(|e| format!("business_hours.start: {e}"))?,
                    end,
                })
            }
        };
        let mut approvals = Vec::new();
        for (n, a) in file.approve.into_iter().enumerate() {
            let at = |e: String| format!("approve #{}: {e}", n + 1);
            let mut ids = Vec::new();
            for t in &a.tools {
                let tool = tools.iter().find(|tool| tool.is_named(t)).ok_or_else(|| {
                    at(format!(
                        "tool `{t}` is not in the catalog (see `ratcatcher catalog {t}`)"
                    ))
                })?;
                ids.push(tool.id.clone());
            }
            let mut devices = Vec::new();
            for g in &a.groups {
                let members = file
                    .groups
                    .get(g)
                    .ok_or_else(|| at(format!("group `{g}` is not defined under [groups]")))?;
                for m in members {
                    devices.push(glob(m).map_err(at)?);
                }
            }
            for d in &a.devices {
                devices.push(glob(d).map_err(at)?);
            }
            if a.business_hours && hours.is_none() {
                return Err(at("business_hours = true but there is no [business_hours] table".into()));
            }
            let reason = a.reason.clone().unwrap_or_else(|| {
                let mut parts = Vec::new();
                if !a.tools.is_empty() {
                    parts.push(format!("approved {}", a.tools.join(", ")));
                } else {
                    parts.push("approved".to_string());
                }
                if !a.groups.is_empty() {
                    parts.push(format!("for {}", a.groups.join(", ")));
                }
                if !a.devices.is_empty() {
                    parts.push(format!("on {}", a.devices.join(", ")));
                }
                if !a.accounts.is_empty() {
                    parts.push(format!("by {}", a.accounts.join(", ")));
                }
                if !a.signers.is_empty() {
                    parts.push(format!("signed by {}", a.signers.join(", ")));
                }
                if a.business_hours {
                    parts.push("in business hours".into());
                }
                parts.join(" ")
            });
            approvals.push(Approval {
                reason,
                tools: ids,
                devices,
                accounts: a
                    .accounts
                    .iter()
                    .map(|p| glob(p))
                    .collect::<Result<_, _>>()
                    .map_err(at)?,
                signers: a
                    .signers
                    .iter()
                    .map(|p| glob(p))
                    .collect::<Result<_, _>>()
                    .map_err(at)?,
                rules: a.rules,
                business_hours: a.business_hours,
            });
        }
        Ok(Tuning {
            approvals,
            hours,
            disabled: file.rules.disabled,
        })
    }

    /// Rules the configuration turns off.
    pub fn disabled_rules(&self) -> &[String] {
        &self.disabled
    }

    /// The reason an approval suppresses this alert, if one does.
    pub fn suppression(&self, alert: &Alert, tools: &[Tool]) -> Option<String> {
        self.approvals
            .iter()
            .find(|a| self.covers(a, alert, tools))
            .map(|a| a.reason.clone())
    }

    fn covers(&self, a: &Approval, alert: &Alert, tools: &[Tool]) -> bool {
        if !a.rules.is_empty() && !a.rules.iter().any(|r| r == &alert.rule.id) {
            return false;
        }
        if !a.tools.is_empty() {
            let alert_tools = alert.tools();
            if alert_tools.is_empty() {
                return false;
            }
            let approved = |name: &String| {
                tools
                    .iter()
                    .filter(|t| a.tools.contains(&t.id))
                    .any(|t| t.is_named(name))
            };
            if !alert_tools.iter().all(approved) {
                return false;
            }
        }
        if !a.devices.is_empty() {
            match &alert.device {
                Some(d) if a.devices.iter().any(|re| re.is_match(d)) => {}
                _ => return false,
            }
        }
        if !a.accounts.is_empty() {
            let Some(acc) = &alert.account else { return false };
            let bare = acc.rsplit('\\').next().unwrap_or(acc);
            if !a.accounts.iter().any(|re| re.is_match(acc) || re.is_match(bare)) {
                return false;
            }
        }
        if !a.signers.is_empty() {
            let signers: Vec<String> = [
                "Signer",
                "ProcessVersionInfoCompanyName",
                "InitiatingProcessVersionInfoCompanyName",
            ]
            .iter()
            .filter_map(|c| alert.row.text(c))
            .collect();
            if !signers.iter().any(|s| a.signers.iter().any(|re| re.is_match(s))) {
                return false;
            }
        }
        if a.business_hours {
            match (&self.hours, alert.time_nanos) {
                (Some(h), Some(t)) if h.contains(t) => {}
                _ => return false,
            }
        }
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::alert::{Row, alert_from_row};
    use crate::catalog::builtin;
    use crate::rule::parse_rule;
    use serde_json::Value;
    use std::path::Path;

    fn alert(tool: &str, device: &str, account: &str, time: &str) -> Alert {
        let rule = parse_rule(Path::new("rat-process-by-name.yaml"), "query: T\n").unwrap();
        let nanos = chrono::DateTime::parse_from_rfc3339(time)
            .unwrap()
            .timestamp_nanos_opt();
        let row = Row(vec![
            ("DeviceName".into(), Value::String(device.into())),
            ("AccountName".into(), Value::String(account.into())),
            ("ToolName".into(), Value::String(tool.into())),
            (
                "ProcessVersionInfoCompanyName".into(),
                Value::String("TeamViewer Germany GmbH".into()),
            ),
        ]);
        alert_from_row(&rule, row, nanos)
    }

    const HELPDESK: &str = r#"
[groups]
helpdesk = ["HD-*"]
[business_hours]
timezone = "Europe/Berlin"
start = "08:00"
end = "18:00"
[[approve]]
reason = "helpdesk remote support"
tools = ["TeamViewer", "screenconnect"]
groups = ["helpdesk"]
business_hours = true
"#;

    #[test]
    fn helpdesk_in_business_hours_is_suppressed_elsewhere_not() {
        let tools = builtin();
        let t = Tuning::parse(HELPDESK, &tools).unwrap();
        // Tuesday 2026-03-03 09:30 Berlin = 08:30 UTC.
        let a = alert("TeamViewer", "HD-07", "x", "2026-03-03T08:30:00Z");
        assert_eq!(t.suppression(&a, &tools).as_deref(), Some("helpdesk remote support"));
        // Same time, not a helpdesk device.
        assert_eq!(
            t.suppression(&alert("TeamViewer", "FIN-01", "x", "2026-03-03T08:30:00Z"), &tools),
            None
        );
        // 19:30 Berlin.
        assert_eq!(
            t.suppression(&alert("TeamViewer", "HD-07", "x", "2026-03-03T18:30:00Z"), &tools),
            None
        );
        // Saturday.
        assert_eq!(
            t.suppression(&alert("TeamViewer", "HD-07", "x", "2026-03-07T08:30:00Z"), &tools),
            None
        );
        // Another tool.
        assert_eq!(
            t.suppression(&alert("AnyDesk", "HD-07", "x", "2026-03-03T08:30:00Z"), &tools),
            None
        );
    }

    #[test]
    fn accounts_and_signers() {
        let tools = builtin();
        let t = Tuning::parse(
            "[[approve]]\ntools = [\"dameware\"]\naccounts = [\"CONTOSO\\\\srv-admin*\"]\n[[approve]]\nsigners = [\"TeamViewer *\"]\ndevices = [\"LAB-*\"]\n",
            &tools,
        )
        .unwrap();
        assert!(
            t.suppression(
                &alert("DameWare", "SRV1", "CONTOSO\\srv-admin2", "2026-03-03T08:30:00Z"),
                &tools
            )
            .is_some()
        );
        assert!(
            t.suppression(
                &alert("DameWare", "SRV1", "CONTOSO\\mallory", "2026-03-03T08:30:00Z"),
                &tools
            )
            .is_none()
        );
        assert!(
            t.suppression(&alert("Whatever", "lab-3", "u", "2026-03-03T08:30:00Z"), &tools)
                .is_some()
        );
    }

    #[test]
    fn errors_name_the_key() {
        let tools = builtin();
        let e = Tuning::parse("[[approve]]\ntools = [\"NoSuchTool\"]\n", &tools)
            .err()
            .unwrap();
        assert!(e.contains("approve #1") && e.contains("NoSuchTool"), "{e}");
        let e = Tuning::parse("[[approve]]\ngroups = [\"x\"]\n", &tools).err().unwrap();
        assert!(e.contains("group `x`"), "{e}");
        let e = Tuning::parse(
            "[business_hours]\ntimezone = \"Mars/Olympus\"\nstart = \"8\"\nend = \"9\"\n",
            &tools,
        )
        .err()
        .unwrap();
        assert!(e.contains("business_hours"), "{e}");
        let e = Tuning::parse("\n[approv]\n", &tools).err().unwrap();
        assert!(e.contains("line 2"), "{e}");
    }

    #[test]
    fn fixed_offset_zone() {
        let tools = builtin();
        let t = Tuning::parse(
            "[business_hours]\ntimezone = \"-05:00\"\ndays = [\"Saturday\"]\nstart = \"10:00\"\nend = \"12:00\"\n[[approve]]\nbusiness_hours = true\n",
            &tools,
        )
        .unwrap();
        // Saturday 2026-03-07 11:00 at -05:00 = 16:00 UTC.
        assert!(
            t.suppression(&alert("X", "d", "u", "2026-03-07T16:00:00Z"), &tools)
                .is_some()
        );
        assert!(
            t.suppression(&alert("X", "d", "u", "2026-03-07T11:00:00Z"), &tools)
                .is_none()
        );
    }
}
