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

/// An `[[approve]]` entry as written. The lists are `None` when the key is absent, so that a given
/// but empty list (`tools = []`) can be told apart and rejected.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct ApprovalFile {
    #[serde(default)]
    reason: Option<String>,
    #[serde(default)]
    tools: Option<Vec<String>>,
    #[serde(default)]
    groups: Option<Vec<String>>,
    #[serde(default)]
    devices: Option<Vec<String>>,
    #[serde(default)]
    accounts: Option<Vec<String>>,
    #[serde(default)]
    signers: Option<Vec<String>>,
    #[serde(default)]
    rules: Option<Vec<String>>,
    #[serde(default)]
    business_hours: bool,
    /// Explicitly approve every alert (an approval without conditions is otherwise an error).
    #[serde(default)]
    everything: bool,
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

/// Seconds in a day: the end of business hours written `24:00`.
const DAY: u32 = 24 * 3600;

/// Business hours in a time zone: `[start, end)` local time on each listed day, or, when `end` is
/// before `start`, a shift over midnight: `[start, 24:00)` on a listed day and `[00:00, end)` on
/// the day after (the listed day is the day the shift starts).
#[derive(Debug, Clone)]
pub(crate) struct BusinessHours {
    zone: Zone,
    days: Vec<Weekday>,
    /// Seconds after local midnight, inclusive (below [`DAY`]).
    start: u32,
    /// Seconds after local midnight, exclusive (up to [`DAY`]); never equal to `start`.
    end: u32,
}

impl BusinessHours {
    /// True when the instant (nanoseconds since the epoch, UTC) is inside business hours.
    pub fn contains(&self, nanos: i64) -> bool {
        let utc = chrono::DateTime::from_timestamp_nanos(nanos).naive_utc();
        let (weekday, time) = match self.zone {
            Zone::Iana(tz) => {
                let l = tz.from_utc_datetime(&utc);
                (l.weekday(), l.time())
            }
            Zone::Fixed(off) => {
                let l = off.from_utc_datetime(&utc);
                (l.weekday(), l.time())
            }
        };
        let t = time.num_seconds_from_midnight();
        if self.start < self.end {
            self.days.contains(&weekday) && t >= self.start && t < self.end
        } else {
            (self.days.contains(&weekday) && t >= self.start) || (self.days.contains(&weekday.pred()) && t < self.end)
        }
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

/// A time of day as seconds after midnight; `24:00` is [`DAY`] (only meaningful as an end).
fn parse_time(text: &str) -> Result<u32, String> {
    let t = text.trim();
    if t == "24:00" || t == "24:00:00" {
        return Ok(DAY);
    }
    NaiveTime::parse_from_str(t, "%H:%M")
        .or_else(|_| NaiveTime::parse_from_str(t, "%H:%M:%S"))
        .map(|t| t.num_seconds_from_midnight())
        .map_err(|_| format!("`{text}` is not a time of day (HH:MM)"))
}

/// `HH:MM` (or `HH:MM:SS`) for seconds after midnight.
fn show_time(secs: u32) -> String {
    let (h, m, s) = (secs / 3600, secs / 60 % 60, secs % 60);
    if s == 0 {
        format!("{h:02}:{m:02}")
    } else {
        format!("{h:02}:{m:02}:{s:02}")
    }
}

fn parse_hours(h: &HoursFile) -> Result<BusinessHours, String> {
    let days = match &h.days {
        None => vec![Weekday::Mon, Weekday::Tue, Weekday::Wed, Weekday::Thu, Weekday::Fri],
        Some(ds) if ds.is_empty() => {
            return Err(
                "business_hours.days = [] is empty: business hours would never hold; list the days \
                 (the day an overnight shift starts) or drop the key for mon-fri"
                    .into(),
            );
        }
        Some(ds) => ds
            .iter()
            .map(|d| parse_weekday(d).ok_or_else(|| format!("business_hours.days: `{d}` is not a weekday")))
            .collect::<Result<_, _>>()?,
    };
    let start = parse_time(&h.start).map_err(|e| format!("business_hours.start: {e}"))?;
    if start == DAY {
        return Err("business_hours.start: `24:00` is the end of a day; start at 00:00".into());
    }
    let end = parse_time(&h.end).map_err(|e| format!("business_hours.end: {e}"))?;
    if start == end {
        return Err(format!(
            "business_hours: start and end are both {}, a span of no time; for the whole day use \
             start = \"00:00\" and end = \"24:00\"",
            show_time(start)
        ));
    }
    Ok(BusinessHours {
        zone: parse_zone(h.timezone.as_deref().unwrap_or("UTC"))
            .map_err(|e| format!("business_hours.timezone: {e}"))?,
        days,
        start,
        end,
    })
}

/// Why a tuning file could not be used.
#[derive(Debug, thiserror::Error)]
pub enum TuningError {
    /// The file could not be read.
    #[error("{0}")]
    Read(#[source] std::io::Error),
    /// The file is not TOML, or has a key or value the tuning file does not know.
    #[error("{}{}", line.map(|l| format!("line {l}: ")).unwrap_or_default(), source.message())]
    Toml {
        /// The line of the fault (1-based), when known.
        line: Option<usize>,
        /// The TOML parser's error.
        #[source]
        source: Box<toml::de::Error>,
    },
    /// A setting is invalid: the message names the key (and the approval) at fault.
    #[error("{0}")]
    Invalid(String),
}

impl Tuning {
    /// Parses a tuning file; `tools` resolves tool names, errors name the key (and the approval,
    /// `approve #N ("reason")`) at fault. Rejects what would suppress too much or nothing: an
    /// approval without conditions (unless `everything = true`), empty lists, unknown keys,
    /// zero-length business hours (docs/tuning.md, "Errors").
    pub fn parse(text: &str, tools: &[Tool]) -> Result<Tuning, TuningError> {
        let file: ConfigFile = toml::from_str(text).map_err(|source| TuningError::Toml {
            line: source
                .span()
                .map(|s| text[..s.start.min(text.len())].matches('\n').count() + 1),
            source: Box::new(source),
        })?;
        Self::from_file(file, tools).map_err(TuningError::Invalid)
    }

    /// Checks a parsed file and compiles its approvals; errors name the key at fault.
    fn from_file(file: ConfigFile, tools: &[Tool]) -> Result<Tuning, String> {
        let hours = file.business_hours.as_ref().map(parse_hours).transpose()?;
        let mut approvals = Vec::new();
        for (n, a) in file.approve.into_iter().enumerate() {
            let name = match &a.reason {
                Some(r) => format!("approve #{} (\"{r}\")", n + 1),
                None => format!("approve #{}", n + 1),
            };
            let at = |e: String| format!("{name}: {e}");
            if a.reason.as_deref().is_some_and(|r| r.trim().is_empty()) {
                return Err(at(
                    "reason is empty; it is what the summary shows: give one, or drop the key for a \
                     generated one"
                        .into(),
                ));
            }
            let lists = [
                ("tools", &a.tools, "every tool"),
                ("groups", &a.groups, "every device"),
                ("devices", &a.devices, "every device"),
                ("accounts", &a.accounts, "every account"),
                ("signers", &a.signers, "every signer"),
                ("rules", &a.rules, "every rule's alerts"),
            ];
            if let Some((key, _, all)) = lists.iter().find(|(_, l, _)| l.as_ref().is_some_and(Vec::is_empty)) {
                return Err(at(format!(
                    "`{key} = []` is empty: it would not restrict the approval, which would then cover {all} \
                     (not none); list at least one, or drop the key"
                )));
            }
            let mut conditions: Vec<&str> = lists
                .iter()
                .filter(|(_, l, _)| l.is_some())
                .map(|(k, _, _)| *k)
                .collect();
            if a.business_hours {
                conditions.push("business_hours");
            }
            if a.everything && !conditions.is_empty() {
                return Err(at(format!(
                    "`everything = true` together with conditions ({}) is ambiguous: drop `everything` to approve \
                     only what the conditions cover, or drop the conditions to approve every alert",
                    conditions.join(", ")
                )));
            }
            if !a.everything && conditions.is_empty() {
                return Err(at(
                    "no condition (tools, groups, devices, accounts, signers, rules or business_hours): \
                     it would suppress every alert; give a condition, or `everything = true` if that is meant"
                        .into(),
                ));
            }
            let list = |l: &Option<Vec<String>>| l.as_deref().unwrap_or_default().to_vec();
            let (tool_names, groups, device_globs) = (list(&a.tools), list(&a.groups), list(&a.devices));
            let (account_globs, signer_globs, rules) = (list(&a.accounts), list(&a.signers), list(&a.rules));
            let mut ids = Vec::new();
            for t in &tool_names {
                let tool = tools.iter().find(|tool| tool.is_named(t)).ok_or_else(|| {
                    at(format!(
                        "tool `{t}` is not in the catalog (see `ratcatcher catalog {t}`)"
                    ))
                })?;
                ids.push(tool.id.clone());
            }
            let mut devices = Vec::new();
            for g in &groups {
                let members = file
                    .groups
                    .get(g)
                    .ok_or_else(|| at(format!("group `{g}` is not defined under [groups]")))?;
                if members.is_empty() {
                    return Err(at(format!(
                        "group `{g}` is empty under [groups]: list at least one device glob"
                    )));
                }
                for m in members {
                    devices.push(glob(m).map_err(at)?);
                }
            }
            for d in &device_globs {
                devices.push(glob(d).map_err(at)?);
            }
            if a.business_hours && hours.is_none() {
                return Err(at("business_hours = true but there is no [business_hours] table".into()));
            }
            let reason = a.reason.clone().unwrap_or_else(|| {
                if a.everything {
                    return "approved everything".to_string();
                }
                let mut parts = Vec::new();
                if !tool_names.is_empty() {
                    parts.push(format!("approved {}", tool_names.join(", ")));
                } else {
                    parts.push("approved".to_string());
                }
                if !groups.is_empty() {
                    parts.push(format!("for {}", groups.join(", ")));
                }
                if !device_globs.is_empty() {
                    parts.push(format!("on {}", device_globs.join(", ")));
                }
                if !account_globs.is_empty() {
                    parts.push(format!("by {}", account_globs.join(", ")));
                }
                if !signer_globs.is_empty() {
                    parts.push(format!("signed by {}", signer_globs.join(", ")));
                }
                if !rules.is_empty() {
                    parts.push(format!("in {}", rules.join(", ")));
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
                accounts: account_globs
                    .iter()
                    .map(|p| glob(p))
                    .collect::<Result<_, _>>()
                    .map_err(at)?,
                signers: signer_globs
                    .iter()
                    .map(|p| glob(p))
                    .collect::<Result<_, _>>()
                    .map_err(at)?,
                rules,
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
            .unwrap()
            .to_string();
        assert!(e.contains("approve #1") && e.contains("NoSuchTool"), "{e}");
        let e = Tuning::parse("[[approve]]\ngroups = [\"x\"]\n", &tools)
            .err()
            .unwrap()
            .to_string();
        assert!(e.contains("group `x`"), "{e}");
        let e = Tuning::parse(
            "[business_hours]\ntimezone = \"Mars/Olympus\"\nstart = \"8\"\nend = \"9\"\n",
            &tools,
        )
        .err()
        .unwrap()
        .to_string();
        assert!(e.contains("business_hours"), "{e}");
        let e = Tuning::parse("\n[approv]\n", &tools).err().unwrap().to_string();
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

    fn err(text: &str) -> String {
        match Tuning::parse(text, &builtin()) {
            Ok(_) => panic!("parsed but should not:\n{text}"),
            Err(e) => e.to_string(),
        }
    }

    fn suppressed(t: &Tuning, time: &str) -> bool {
        t.suppression(&alert("X", "d", "u", time), &builtin()).is_some()
    }

    #[test]
    fn approval_without_condition_is_an_error_naming_it() {
        let e = err("[[approve]]\ntools = [\"teamviewer\"]\n[[approve]]\nreason = \"temporary\"\n");
        assert!(
            e.contains("approve #2") && e.contains("\"temporary\"") && e.contains("no condition"),
            "{e}"
        );
        assert!(e.contains("every alert") && e.contains("everything = true"), "{e}");
        // Without a reason the index names it; `business_hours = false` is no condition.
        let e = err("[business_hours]\nstart = \"08:00\"\nend = \"18:00\"\n[[approve]]\nbusiness_hours = false\n");
        assert!(e.starts_with("approve #1: no condition"), "{e}");
        let e = err("[[approve]]\neverything = false\n");
        assert!(e.contains("approve #1") && e.contains("no condition"), "{e}");
    }

    #[test]
    fn everything_true_suppresses_everything() {
        let tools = builtin();
        let t = Tuning::parse("[[approve]]\nreason = \"lab replay\"\neverything = true\n", &tools).unwrap();
        for a in [
            alert("AnyDesk", "FIN-01", "mallory", "2026-03-07T03:00:00Z"),
            alert("TeamViewer", "HD-07", "x", "2026-03-03T08:30:00Z"),
            alert("", "", "", "2026-03-03T08:30:00Z"),
        ] {
            assert_eq!(t.suppression(&a, &tools).as_deref(), Some("lab replay"));
        }
        let t = Tuning::parse("[[approve]]\neverything = true\n", &tools).unwrap();
        assert_eq!(
            t.suppression(&alert("AnyDesk", "FIN-01", "m", "2026-03-07T03:00:00Z"), &tools)
                .as_deref(),
            Some("approved everything")
        );
    }

    #[test]
    fn everything_with_conditions_is_ambiguous() {
        let e = err("[[approve]]\nreason = \"r\"\neverything = true\ntools = [\"teamviewer\"]\ndevices = [\"HD-*\"]\n");
        assert!(
            e.contains("approve #1 (\"r\")") && e.contains("ambiguous") && e.contains("(tools, devices)"),
            "{e}"
        );
        let e = err(
            "[business_hours]\nstart = \"08:00\"\nend = \"18:00\"\n[[approve]]\neverything = true\nbusiness_hours = true\n",
        );
        assert!(e.contains("approve #1") && e.contains("(business_hours)"), "{e}");
    }

    #[test]
    fn empty_lists_are_errors_saying_they_would_cover_everything() {
        for (key, all) in [
            ("tools", "every tool"),
            ("groups", "every device"),
            ("devices", "every device"),
            ("accounts", "every account"),
            ("signers", "every signer"),
            ("rules", "every rule"),
        ] {
            let other = if key == "accounts" { "devices" } else { "accounts" };
            let e = err(&format!(
                "[[approve]]\nreason = \"msp\"\n{other} = [\"x\"]\n{key} = []\n"
            ));
            assert!(
                e.contains("approve #1 (\"msp\")") && e.contains(&format!("`{key} = []` is empty")) && e.contains(all),
                "{key}: {e}"
            );
        }
        // A group without members would drop the device condition as well.
        let e = err("[groups]\nlab = []\n[[approve]]\ntools = [\"tightvnc\"]\ngroups = [\"lab\"]\n");
        assert!(e.contains("approve #1") && e.contains("group `lab` is empty"), "{e}");
        // A defined but unused empty group is harmless.
        assert!(Tuning::parse("[groups]\nlab = []\n[[approve]]\ntools = [\"tightvnc\"]\n", &builtin()).is_ok());
        // `days = []` would make business hours never hold.
        let e = err("[business_hours]\ndays = []\nstart = \"08:00\"\nend = \"18:00\"\n");
        assert!(e.contains("business_hours.days") && e.contains("never"), "{e}");
        let e = err("[[approve]]\nreason = \" \"\ntools = [\"teamviewer\"]\n");
        assert!(e.contains("approve #1") && e.contains("reason is empty"), "{e}");
    }

    #[test]
    fn unknown_keys_are_errors() {
        for (text, key, line) in [
            (
                "[[approve]]\ntools = [\"teamviewer\"]\n\n[[approve]]\ntool = [\"anydesk\"]\n",
                "tool",
                5,
            ),
            ("[[approve]]\nreason = \"r\"\neverythin = true\n", "everythin", 3),
            (
                "[business_hours]\nstart = \"08:00\"\nend = \"18:00\"\nzone = \"UTC\"\n",
                "zone",
                4,
            ),
            ("[rules]\ndisable = [\"x\"]\n", "disable", 2),
            ("approve = []\nhours = 1\n", "hours", 2),
        ] {
            let e = err(text);
            assert!(
                e.contains(&format!("unknown field `{key}`")) && e.contains(&format!("line {line}")),
                "{key}: {e}"
            );
        }
    }

    const OVERNIGHT: &str =
        "[business_hours]\ndays = [\"mon\"]\nstart = \"18:00\"\nend = \"08:00\"\n[[approve]]\nbusiness_hours = true\n";

    #[test]
    fn overnight_hours_wrap_midnight_from_the_listed_day() {
        let t = Tuning::parse(OVERNIGHT, &builtin()).unwrap();
        // Monday 2026-03-02 (UTC).
        assert!(suppressed(&t, "2026-03-02T23:00:00Z"), "23:00 Monday");
        assert!(suppressed(&t, "2026-03-03T03:00:00Z"), "03:00 Tuesday");
        assert!(
            suppressed(&t, "2026-03-02T18:00:00Z"),
            "18:00 Monday: start is inclusive"
        );
        assert!(suppressed(&t, "2026-03-03T00:00:00Z"), "midnight");
        assert!(suppressed(&t, "2026-03-03T07:59:59.9Z"), "just before the end");
        assert!(!suppressed(&t, "2026-03-02T03:00:00Z"), "03:00 Monday: Sunday's shift");
        assert!(!suppressed(&t, "2026-03-03T12:00:00Z"), "12:00 Tuesday");
        assert!(
            !suppressed(&t, "2026-03-03T08:00:00Z"),
            "08:00 Tuesday: end is exclusive"
        );
        assert!(!suppressed(&t, "2026-03-02T17:59:59Z"), "before the start");
        assert!(!suppressed(&t, "2026-03-03T23:00:00Z"), "23:00 Tuesday is not listed");
        // Sunday's shift ends on Monday: the day after the last listed day.
        let t = Tuning::parse(&OVERNIGHT.replace("[\"mon\"]", "[\"sun\"]"), &builtin()).unwrap();
        assert!(
            suppressed(&t, "2026-03-02T03:00:00Z"),
            "03:00 Monday after Sunday's shift"
        );
        assert!(!suppressed(&t, "2026-03-03T03:00:00Z"));
    }

    #[test]
    fn overnight_hours_across_a_dst_change() {
        // Berlin moves from +01:00 to +02:00 at 02:00 on Sunday 2026-03-29.
        let t = Tuning::parse(
            &OVERNIGHT
                .replace("[\"mon\"]", "[\"sat\"]\ntimezone = \"Europe/Berlin\"")
                .replace("18:00", "22:00")
                .replace("08:00", "06:00"),
            &builtin(),
        )
        .unwrap();
        assert!(!suppressed(&t, "2026-03-28T20:30:00Z"), "21:30 CET Saturday");
        assert!(suppressed(&t, "2026-03-28T21:30:00Z"), "22:30 CET Saturday");
        assert!(suppressed(&t, "2026-03-29T00:30:00Z"), "01:30 CET Sunday");
        assert!(suppressed(&t, "2026-03-29T03:30:00Z"), "05:30 CEST Sunday");
        assert!(!suppressed(&t, "2026-03-29T04:30:00Z"), "06:30 CEST Sunday");
    }

    #[test]
    fn hours_ending_at_midnight_and_whole_days() {
        let hours = |start: &str, end: &str| {
            Tuning::parse(&OVERNIGHT.replace("18:00", start).replace("08:00", end), &builtin())
        };
        for end in ["24:00", "00:00"] {
            let t = hours("20:00", end).unwrap();
            assert!(suppressed(&t, "2026-03-02T23:59:59.999Z"), "{end}");
            assert!(!suppressed(&t, "2026-03-03T00:00:00Z"), "{end}");
            assert!(!suppressed(&t, "2026-03-02T19:59:59Z"), "{end}");
        }
        let t = hours("00:00", "24:00").unwrap();
        assert!(suppressed(&t, "2026-03-02T00:00:00Z") && suppressed(&t, "2026-03-02T23:59:59Z"));
        assert!(!suppressed(&t, "2026-03-03T00:00:00Z"));
        let e = hours("08:00", "08:00").err().unwrap().to_string();
        assert!(
            e.contains("both 08:00") && e.contains("no time") && e.contains("24:00"),
            "{e}"
        );
        let e = hours("00:00", "00:00:00").err().unwrap().to_string();
        assert!(e.contains("both 00:00"), "{e}");
        let e = hours("24:00", "08:00").err().unwrap().to_string();
        assert!(e.contains("business_hours.start"), "{e}");
    }

    /// The tuning files the repository ships, and each `toml` block of docs/tuning.md, parse.
    #[test]
    fn shipped_tuning_files_parse() {
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
        let mut files = vec![
            root.join("examples/tuning.toml"),
            root.join("crates/cli/tests/data/hunt/tuning.toml"),
        ];
        for entry in std::fs::read_dir(root.join("rules/tests/tuning")).unwrap() {
            files.push(entry.unwrap().path());
        }
        for f in &files {
            let text = std::fs::read_to_string(f).unwrap();
            if let Err(e) = Tuning::parse(&text, &builtin()) {
                panic!("{}: {e}", f.display());
            }
        }
        let docs = std::fs::read_to_string(root.join("docs/tuning.md")).unwrap();
        let blocks: Vec<&str> = docs
            .split("```toml\n")
            .skip(1)
            .map(|b| b.split("```").next().unwrap())
            .collect();
        assert!(!blocks.is_empty());
        for b in blocks {
            if let Err(e) = Tuning::parse(b, &builtin()) {
                panic!("docs/tuning.md block: {e}\n{b}");
            }
        }
    }

    #[test]
    fn dominant_suppressions_name_an_approval_hiding_almost_everything() {
        use crate::hunt::dominant_suppressions;
        let with = |n: usize, reason: &str| {
            (0..n)
                .map(|_| {
                    let mut a = alert("X", "d", "u", "2026-03-03T08:30:00Z");
                    a.suppressed = Some(reason.into());
                    a
                })
                .collect::<Vec<_>>()
        };
        assert!(dominant_suppressions(0, &[]).is_empty());
        assert!(dominant_suppressions(5, &[]).is_empty());
        // 10 of 10, then 91 of 100: more than 90%.
        assert_eq!(
            dominant_suppressions(0, &with(10, "all")),
            vec![("all".to_string(), 10)]
        );
        let mut s = with(91, "broad");
        assert_eq!(dominant_suppressions(9, &s), vec![("broad".to_string(), 91)]);
        // Exactly 90% is not more than 90%.
        assert!(dominant_suppressions(10, &with(90, "broad")).is_empty());
        // 91 of 101 is 90.1%, but 91 of 102 (another reason's alert) is not.
        s.extend(with(1, "narrow"));
        assert_eq!(dominant_suppressions(9, &s), vec![("broad".to_string(), 91)]);
        s.extend(with(1, "narrow"));
        assert!(dominant_suppressions(9, &s).is_empty());
        // Several reasons each under 90% together hiding everything: none is dominant.
        let mut s = with(5, "a");
        s.extend(with(5, "b"));
        assert!(dominant_suppressions(0, &s).is_empty());
    }
}
