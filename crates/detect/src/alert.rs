//! Alerts: one rule hit on one result row, with the fields analysts pivot on (time, device,
//! account, tool, signal, sources, entities) and the row itself; serialised as documented in
//! docs/alerts.md. One process creation logged twice (Sysmon 1 and Security 4688) gives a rule two
//! rows; [`alerts_from_batches`] merges their alerts into one that names both sources.

use crate::rule::{Rule, Severity};
use datafusion::arrow::array::{Array, AsArray, RecordBatch};
use datafusion::arrow::datatypes::{DataType, TimeUnit, TimestampNanosecondType};
use serde::Serialize;
use serde::ser::{SerializeMap, Serializer};
use serde_json::Value;

/// A row: (column, value) in the query's column order.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Row(pub Vec<(String, Value)>);

impl Row {
    /// The value of a column, when the row has it.
    pub fn get(&self, column: &str) -> Option<&Value> {
        self.0.iter().find(|(c, _)| c == column).map(|(_, v)| v)
    }

    /// A column's value as text (strings as they are, other values as JSON); `None` when the
    /// column is missing, null or an empty string.
    pub fn text(&self, column: &str) -> Option<String> {
        match self.get(column)? {
            Value::Null => None,
            Value::String(s) if s.is_empty() => None,
            Value::String(s) => Some(s.clone()),
            v => Some(v.to_string()),
        }
    }
}

impl Serialize for Row {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut m = s.serialize_map(Some(self.0.len()))?;
        for (k, v) in &self.0 {
            m.serialize_entry(k, v)?;
        }
        m.end()
    }
}

/// The rule an alert comes from.
#[derive(Debug, Clone, Serialize)]
pub struct RuleRef {
    /// The rule's short id.
    pub id: String,
    /// The Sentinel rule id (a GUID), when the rule has one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub guid: Option<String>,
    /// The rule's display name.
    pub name: String,
    /// The alert's severity name (`Informational`, `Low`, `Medium`, `High`).
    pub severity: &'static str,
    /// The rule's ATT&CK tactics.
    pub tactics: Vec<String>,
    /// The rule's ATT&CK techniques.
    pub techniques: Vec<String>,
    /// Sigma rules: the rule's `level` (`critical` is reported with severity High).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub level: Option<String>,
    /// Sigma rules: the rule's `tags`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tags: Option<Vec<String>>,
}

/// An entity of the alert (Sentinel entity mapping with the row's values).
#[derive(Debug, Clone)]
pub struct Entity {
    /// The Sentinel entity type (`Host`, `Account`, `Process`, ...).
    pub entity_type: String,
    /// The entity's identifiers with the row's values.
    pub fields: Row,
}

impl Serialize for Entity {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut m = s.serialize_map(Some(self.fields.0.len() + 1))?;
        m.serialize_entry("type", &self.entity_type)?;
        for (k, v) in &self.fields.0 {
            m.serialize_entry(k, v)?;
        }
        m.end()
    }
}

/// One rule hit on one row.
#[derive(Debug, Clone, Serialize)]
pub struct Alert {
    /// The rule that raised the alert.
    pub rule: RuleRef,
    /// The event's own time (ISO 8601 UTC, full precision), when the row has one.
    pub time: Option<String>,
    /// The event's time in nanoseconds since the Unix epoch (not serialised).
    #[serde(skip)]
    pub time_nanos: Option<i64>,
    /// The alert's severity: the rule's, or the row's when the rule names a severity column.
    #[serde(skip)]
    pub severity: Severity,
    /// The device: the Host entity, else the row's device column.
    pub device: Option<String>,
    /// The account: the Account entity, else the row's account column.
    pub account: Option<String>,
    /// The catalog tool name (customDetails `Tool`).
    pub tool: Option<String>,
    /// The tool's catalog category (customDetails `Category`).
    pub category: Option<String>,
    /// The kind of signal: `process`, `network`, `dns`, ... (customDetails `Signal`).
    pub signal: Option<String>,
    /// The logs the alert's event was read from (`Sysmon/1`, `Security/4688`): the row's
    /// `EventSource`; two when one process creation was seen by both and the alerts were merged.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub sources: Vec<String>,
    /// The rule's entity mappings filled with the row's values.
    pub entities: Vec<Entity>,
    /// Correlation alerts: the events joined, each with its own time.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub events: Option<Value>,
    /// Why tuning suppressed the alert (only on suppressed alerts).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub suppressed: Option<String>,
    /// `hunt --replay`: the scheduled run that first raised the alert (nanoseconds; ISO 8601 in
    /// JSON), `None` outside a replay and for rules without a schedule.
    #[serde(skip_serializing_if = "Option::is_none", serialize_with = "serialize_replay_run")]
    pub replay_run: Option<i64>,
    /// The result row the alert comes from.
    pub row: Row,
    /// The row column the rule names for the one-line detail (customDetails key `Detail`).
    #[serde(skip)]
    pub detail_column: Option<String>,
}

/// The columns tried, in order, for an alert's one-line detail when its rule names none.
pub(crate) const DETAIL_COLUMNS: &[&str] = &[
    "ProcessCommandLine",
    "RemoteUrl",
    "DnsQuery",
    "QueryName",
    "ServiceName",
    "RegistryKey",
    "FolderPath",
    "FileName",
    "RemoteIP",
    "Detail",
];

/// The columns an event time is read from, in order.
pub(crate) const TIME_COLUMNS: &[&str] = &["Timestamp", "TimeGenerated"];

/// The row column naming the log an event came from (`Sysmon/1`, `Security/4688`): rules project
/// `EventSource = tostring(AdditionalFields.EventSource)` (docs/telemetry.md).
pub(crate) const SOURCE_COLUMN: &str = "EventSource";

/// How far apart two logs' times of one process creation may be: Sysmon's `UtcTime`-stamped event
/// and the Security 4688 are written moments apart, never seconds.
pub(crate) const SAME_PROCESS_TOLERANCE_NANOS: i64 = 2_000_000_000;

/// Builds the alerts of one rule from its result batches: one per row, except that rows of the
/// same process creation (see [`merge_same_process`]) give one alert; in an order that depends on
/// the rows only, not on how the engine partitioned them.
pub(crate) fn alerts_from_batches(rule: &Rule, batches: &[RecordBatch]) -> Vec<Alert> {
    let mut out = Vec::new();
    for batch in batches {
        let schema = batch.schema();
        let time_col = TIME_COLUMNS
            .iter()
            .find_map(|name| schema.index_of(name).ok())
            .filter(|&i| {
                matches!(
                    schema.field(i).data_type(),
                    DataType::Timestamp(TimeUnit::Nanosecond, _)
                )
            });
        for i in 0..batch.num_rows() {
            let row = Row(schema
                .fields()
                .iter()
                .zip(batch.columns())
                .map(|(f, a)| (f.name().clone(), engine::format::cell_json(a, i)))
                .collect());
            let time_nanos = time_col.and_then(|c| {
                let a = batch.column(c).as_primitive::<TimestampNanosecondType>();
                a.is_valid(i).then(|| a.value(i))
            });
            out.push(alert_from_row(rule, row, time_nanos));
        }
    }
    merge_same_process(out)
}

/// The process an alert is about: (device, `ProcessId`, image), when the row has all three; the
/// image is `FolderPath` (else `ProcessFolderPath`, else `FileName`), compared without case.
fn process_identity(a: &Alert) -> Option<(String, i64, String)> {
    let device = a.device.as_deref()?.to_lowercase();
    let pid = match a.row.get("ProcessId")? {
        Value::Number(n) => n.as_i64()?,
        Value::String(s) => s.trim().parse().ok()?,
        _ => return None,
    };
    let image = first_text(&a.row, &["FolderPath", "ProcessFolderPath", "FileName"])?.to_lowercase();
    Some((device, pid, image))
}

/// How many of the row's cells hold a value (null and `""` do not count).
fn filled(row: &Row) -> usize {
    row.0
        .iter()
        .filter(|(_, v)| !matches!(v, Value::Null) && v.as_str() != Some(""))
        .count()
}

/// Merges a rule's alerts on the same process creation: same device, `ProcessId` and image, times at
/// most [`SAME_PROCESS_TOLERANCE_NANOS`] after the first of them. That is one process seen by two
/// logs (Sysmon 1 and Security 4688 both become `DeviceProcessEvents` rows), so it is one finding.
/// The merged alert keeps the fullest row (Sysmon's, with hashes and version info; ties: the
/// earlier, then the smaller row) and lists every source, the kept row's first. Alerts without a
/// process identity or time are kept as they are. The result is sorted by time, then row, so it
/// does not depend on the order the rows arrived in.
pub(crate) fn merge_same_process(alerts: Vec<Alert>) -> Vec<Alert> {
    let mut keyed: Vec<(String, Alert)> = alerts
        .into_iter()
        .map(|a| (serde_json::to_string(&a.row).unwrap_or_default(), a))
        .collect();
    keyed.sort_by(|(ra, a), (rb, b)| a.time_nanos.cmp(&b.time_nanos).then_with(|| ra.cmp(rb)));
    let mut out: Vec<(String, Alert)> = Vec::with_capacity(keyed.len());
    // Per process identity, the index in `out` of its latest merged alert and that group's first time.
    let mut open: std::collections::HashMap<(String, i64, String), (usize, i64)> = Default::default();
    for (text, a) in keyed {
        let (Some(id), Some(t)) = (process_identity(&a), a.time_nanos) else {
            out.push((text, a));
            continue;
        };
        match open.get(&id) {
            Some(&(i, first)) if t - first <= SAME_PROCESS_TOLERANCE_NANOS => {
                let (kept_text, kept) = &mut out[i];
                let mut sources: Vec<String> = kept.sources.drain(..).chain(a.sources.iter().cloned()).collect();
                if filled(&a.row) > filled(&kept.row) {
                    sources = a.sources.iter().cloned().chain(sources).collect();
                    *kept = a;
                    *kept_text = text;
                }
                kept.sources = ordered_sources(sources);
            }
            _ => {
                open.insert(id, (out.len(), t));
                out.push((text, a));
            }
        }
    }
    out.sort_by(|(ra, a), (rb, b)| a.time_nanos.cmp(&b.time_nanos).then_with(|| ra.cmp(rb)));
    out.into_iter().map(|(_, a)| a).collect()
}

/// The first source (the kept row's), then the others sorted, each once.
fn ordered_sources(sources: Vec<String>) -> Vec<String> {
    let mut it = sources.into_iter();
    let Some(first) = it.next() else { return Vec::new() };
    let mut rest: Vec<String> = it.filter(|s| *s != first).collect();
    rest.sort();
    rest.dedup();
    std::iter::once(first).chain(rest).collect()
}

/// The log a row's event came from: its `EventSource` column, else `EventSource` inside a projected
/// `AdditionalFields`.
fn row_source(row: &Row) -> Option<String> {
    row.text(SOURCE_COLUMN).or_else(|| {
        let fields = match row.get("AdditionalFields")? {
            Value::String(s) => serde_json::from_str::<Value>(s).ok()?,
            v => v.clone(),
        };
        fields
            .get(SOURCE_COLUMN)
            .and_then(Value::as_str)
            .filter(|s| !s.is_empty())
            .map(str::to_string)
    })
}

fn first_text(row: &Row, columns: &[&str]) -> Option<String> {
    columns.iter().find_map(|c| row.text(c))
}

/// The columns an alert's device is read from, in order, when no entity mapping names it: the
/// Defender tables' `DeviceName`, Windows events' `Computer`, and the names other sources use.
/// One table for pack, Sigma and correlation alerts.
pub(crate) const DEVICE_COLUMNS: &[&str] = &["DeviceName", "Computer", "HostName", "Hostname", "ComputerName"];

/// The columns an alert's account is read from, in order, each with the column holding its
/// domain: the first present gives `DOMAIN\name` (a name that already holds a `\` is kept as
/// it is; `-`, Windows' "no value", counts as absent). One table for pack, Sigma and correlation
/// alerts.
pub(crate) const ACCOUNT_COLUMNS: &[(&str, Option<&str>)] = &[
    ("User", None),
    ("AccountName", Some("AccountDomain")),
    ("TargetUserName", Some("TargetDomainName")),
    ("SubjectUserName", Some("SubjectDomainName")),
    ("InitiatingProcessAccountName", Some("InitiatingProcessAccountDomain")),
    ("Account", None),
];

/// A row's value as text, with Windows' `-` placeholder counting as absent.
fn present(row: &Row, column: &str) -> Option<String> {
    row.text(column).filter(|v| v != "-")
}

/// The device a row names ([`DEVICE_COLUMNS`]).
pub(crate) fn device_of(row: &Row) -> Option<String> {
    DEVICE_COLUMNS.iter().find_map(|c| present(row, c))
}

/// The account a row names, as `DOMAIN\name` where the row has the domain ([`ACCOUNT_COLUMNS`]).
pub(crate) fn account_of(row: &Row) -> Option<String> {
    ACCOUNT_COLUMNS.iter().find_map(|(user, domain)| {
        let name = present(row, user)?;
        Some(match domain.and_then(|d| present(row, d)) {
            Some(d) if !name.contains('\\') => format!("{d}\\{name}"),
            _ => name,
        })
    })
}

/// The domain of an account name: the domain column paired with the [`ACCOUNT_COLUMNS`] column
/// that holds `name`.
fn domain_beside(row: &Row, name: &str) -> Option<String> {
    ACCOUNT_COLUMNS.iter().find_map(|(user, domain)| {
        if present(row, user).as_deref() != Some(name) {
            return None;
        }
        domain.and_then(|d| present(row, d))
    })
}

/// The Host and Account entities of an alert without an entity mapping (Sigma rules).
pub(crate) fn default_entities(device: Option<&str>, account: Option<&str>) -> Vec<Entity> {
    let mut out = Vec::new();
    if let Some(d) = device {
        out.push(Entity {
            entity_type: "Host".into(),
            fields: Row(vec![("HostName".into(), Value::String(d.to_string()))]),
        });
    }
    if let Some(a) = account {
        out.push(Entity {
            entity_type: "Account".into(),
            fields: Row(vec![("Name".into(), Value::String(a.to_string()))]),
        });
    }
    out
}

/// What one alert is built from: the rule, the row, and what the kind of rule knows beyond the
/// row. [`build`] turns it into the alert, the same way for pack, Sigma and correlation alerts.
#[derive(Debug, Clone)]
pub(crate) struct AlertSource {
    /// The rule.
    pub rule: RuleRef,
    /// The alert's severity.
    pub severity: Severity,
    /// The row: the query's result row, the Sigma event's fields, the correlation's group.
    pub row: Row,
    /// The event's time (Unix nanoseconds), when known.
    pub time_nanos: Option<i64>,
    /// Sentinel entity mappings with the row's values (pack rules); `None`: Host and Account
    /// entities from the device and account found.
    pub entities: Option<Vec<Entity>>,
    /// The device when the row names none ([`DEVICE_COLUMNS`]): a Sigma event's `Computer`, a
    /// correlation's only host.
    pub device: Option<String>,
    /// The catalog tool.
    pub tool: Option<String>,
    /// The tool's catalog category.
    pub category: Option<String>,
    /// The kind of indicator (`process`, `network`, `correlation`, ...).
    pub signal: Option<String>,
    /// Correlation alerts: the events joined.
    pub events: Option<Value>,
    /// The row column the rule names for the one-line detail.
    pub detail_column: Option<String>,
}

impl AlertSource {
    /// A source with only the rule, severity, row and time; the rest is found in the row.
    pub(crate) fn new(rule: RuleRef, severity: Severity, row: Row, time_nanos: Option<i64>) -> Self {
        AlertSource {
            rule,
            severity,
            row,
            time_nanos,
            entities: None,
            device: None,
            tool: None,
            category: None,
            signal: None,
            events: None,
            detail_column: None,
        }
    }
}

/// The one alert builder. Device: the Host entity, else the row ([`DEVICE_COLUMNS`]), else the
/// source's. Account: the Account entity's `FullName`, else its `Name` with its `NTDomain` or
/// the domain column beside the name's, else the row ([`ACCOUNT_COLUMNS`]). Time: the row's
/// [`TIME_COLUMNS`], else the event's. Sources: the row's [`SOURCE_COLUMN`]. Events: the
/// source's, else the row's `Events` array.
pub(crate) fn build(source: AlertSource) -> Alert {
    let AlertSource {
        mut rule,
        severity,
        row,
        time_nanos,
        entities,
        device,
        tool,
        category,
        signal,
        events,
        detail_column,
    } = source;
    let mapped = entities.as_deref().unwrap_or_default();
    let entity_value = |ty: &str, ids: &[&str]| {
        mapped
            .iter()
            .filter(|e| e.entity_type.eq_ignore_ascii_case(ty))
            .find_map(|e| ids.iter().find_map(|id| e.fields.text(id)))
    };
    let device = entity_value("Host", &["HostName", "FullName"])
        .or_else(|| device_of(&row))
        .or(device);
    // The Account entity's FullName; else its Name with its NTDomain, or with the domain column
    // beside the column the name came from (docs/alerts.md: `DOMAIN\name` where the row has both).
    let account = entity_value("Account", &["FullName"])
        .or_else(|| {
            let name = entity_value("Account", &["Name"])?;
            if name.contains(['\\', '@']) {
                return Some(name);
            }
            let domain = entity_value("Account", &["NTDomain"]).or_else(|| domain_beside(&row, &name));
            Some(domain.map_or_else(|| name.clone(), |d| format!("{d}\\{name}")))
        })
        .or_else(|| account_of(&row));
    let entities = entities.unwrap_or_else(|| default_entities(device.as_deref(), account.as_deref()));
    let time = TIME_COLUMNS
        .iter()
        .find_map(|c| row.text(c))
        .or_else(|| time_nanos.map(iso));
    let events = events.or_else(|| row.get("Events").filter(|v| v.is_array()).cloned());
    let sources = row_source(&row).into_iter().collect();
    rule.severity = severity.name();
    Alert {
        rule,
        time,
        time_nanos,
        severity,
        device,
        account,
        tool,
        category,
        signal,
        sources,
        entities,
        events,
        suppressed: None,
        replay_run: None,
        row,
        detail_column,
    }
}

/// Builds one alert of a Sentinel rule from a result row: its entity mappings, its custom
/// details (`Tool`, `Category`, `Signal`, `Detail`) and its severity column.
pub(crate) fn alert_from_row(rule: &Rule, row: Row, time_nanos: Option<i64>) -> Alert {
    let entities: Vec<Entity> = rule
        .entity_mappings
        .iter()
        .map(|m| Entity {
            entity_type: m.entity_type.clone(),
            fields: Row(m
                .fields
                .iter()
                .map(|(id, col)| (id.clone(), row.get(col).cloned().unwrap_or(Value::Null)))
                .collect()),
        })
        .collect();
    let detail = |key: &str, fallback: &[&str]| match rule.detail_column(key) {
        Some(col) => row.text(col),
        None => first_text(&row, fallback),
    };
    let tool = detail("Tool", &["ToolName", "Tool"]);
    let category = detail("Category", &["ToolCategory", "RATCategory", "Category"]);
    let signal = detail("Signal", &["Signal"]);
    // Sentinel's alertDetailsOverride.alertSeverityColumnName: a valid value in that column wins.
    let severity = rule
        .severity_column
        .as_deref()
        .and_then(|c| row.text(c))
        .and_then(|v| Severity::parse(&v))
        .unwrap_or(rule.severity);
    let rule_ref = RuleRef {
        id: rule.id.clone(),
        guid: rule.guid.clone(),
        name: rule.name.clone(),
        severity: severity.name(),
        tactics: rule.tactics.clone(),
        techniques: rule.techniques.clone(),
        level: None,
        tags: None,
    };
    build(AlertSource {
        entities: Some(entities),
        tool,
        category,
        signal,
        detail_column: rule.detail_column("Detail").map(str::to_string),
        ..AlertSource::new(rule_ref, severity, row, time_nanos)
    })
}

/// An instant in nanoseconds as ISO 8601 UTC with only the digits needed (`2026-03-02T13:00:00Z`).
pub fn iso(nanos: i64) -> String {
    chrono::DateTime::from_timestamp_nanos(nanos).to_rfc3339_opts(chrono::SecondsFormat::AutoSi, true)
}

fn serialize_replay_run<S: Serializer>(run: &Option<i64>, s: S) -> Result<S::Ok, S::Error> {
    match run {
        Some(n) => s.serialize_str(&iso(*n)),
        None => s.serialize_none(),
    }
}

impl Alert {
    /// When the alert happened (Unix nanoseconds) and what that time is, in Timesketch's
    /// `timestamp_desc` words: its event's time (`Event Time`); for a correlation, its first
    /// event's (`First Event Time`); in a replay, the run that raised it (`Replay Run Time`);
    /// else `anchor`, the hunt's (`Hunt Anchor Time`).
    pub fn instant(&self, anchor: Option<i64>) -> Option<(i64, &'static str)> {
        let parse = |text: &str| {
            chrono::DateTime::parse_from_rfc3339(text.trim())
                .ok()?
                .timestamp_nanos_opt()
        };
        let first_event = || {
            let events = self.events.as_ref()?.as_array()?;
            events
                .iter()
                .filter_map(|e| TIME_COLUMNS.iter().find_map(|c| e.get(*c)?.as_str().and_then(parse)))
                .min()
        };
        let own = self.time_nanos.or_else(|| self.time.as_deref().and_then(parse));
        own.map(|t| (t, "Event Time"))
            .or_else(|| first_event().map(|t| (t, "First Event Time")))
            .or_else(|| self.replay_run.map(|t| (t, "Replay Run Time")))
            .or_else(|| anchor.map(|t| (t, "Hunt Anchor Time")))
    }

    /// A short description of what the alert's row shows (table, CSV and Timesketch views): a
    /// correlation's first events; else the column the rule names with customDetails `Detail`;
    /// else the first of [`DETAIL_COLUMNS`] the row has, then its port and parent process.
    pub fn detail(&self) -> String {
        if let Some(Value::Array(events)) = &self.events {
            let parts: Vec<String> = events
                .iter()
                .take(6)
                .map(|e| {
                    let tool = ["ToolName", "Tool"]
                        .iter()
                        .find_map(|k| e.get(k).and_then(Value::as_str))
                        .unwrap_or("?");
                    let t = e.get("Timestamp").and_then(Value::as_str).unwrap_or("?");
                    format!("{tool} @ {}", t.get(..19).unwrap_or(t))
                })
                .collect();
            return format!("{} events: {}", events.len(), parts.join(", "));
        }
        if let Some(text) = self.detail_column.as_deref().and_then(|c| self.row.text(c)) {
            return text;
        }
        let mut parts = Vec::new();
        if let Some(v) = first_text(&self.row, DETAIL_COLUMNS) {
            parts.push(v);
        }
        if let Some(port) = self.row.text("LocalPort").or_else(|| self.row.text("RemotePort")) {
            parts.push(format!("port {port}"));
        }
        if let Some(parent) = self.row.text("InitiatingProcessFileName") {
            parts.push(format!("parent {parent}"));
        }
        parts.join("  ")
    }

    /// The tools a correlation alert joins (from its events), else the alert's own tool.
    pub fn tools(&self) -> Vec<String> {
        if let Some(Value::Array(events)) = &self.events {
            let mut tools: Vec<String> = events
                .iter()
                .filter_map(|e| {
                    ["ToolName", "Tool", "ToolId"]
                        .iter()
                        .find_map(|k| e.get(k).and_then(Value::as_str).map(str::to_string))
                })
                .collect();
            tools.sort();
            tools.dedup();
            if !tools.is_empty() {
                return tools;
            }
        }
        self.tool.iter().cloned().collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rule::parse_rule;
    use std::path::Path;

    fn rule() -> Rule {
        parse_rule(
            Path::new("rat-x.yaml"),
            "id: g\nname: X\nseverity: Low\nquery: T\nentityMappings:\n  - entityType: Account\n    fieldMappings:\n      - identifier: Name\n        columnName: User\ncustomDetails:\n  Tool: T\n",
        )
        .unwrap()
    }

    #[test]
    fn fields_come_from_entities_details_and_conventions() {
        let row = Row(vec![
            ("Timestamp".into(), Value::String("2026-01-02T03:04:05.1234567Z".into())),
            ("DeviceName".into(), Value::String("ws1".into())),
            ("User".into(), Value::String("alice".into())),
            ("T".into(), Value::String("AnyDesk".into())),
            ("ToolName".into(), Value::String("not this".into())),
            ("ToolCategory".into(), Value::String("commercial-remote-support".into())),
            ("Signal".into(), Value::String("process".into())),
        ]);
        let a = alert_from_row(&rule(), row, Some(1));
        assert_eq!(a.time.as_deref(), Some("2026-01-02T03:04:05.1234567Z"));
        assert_eq!(a.device.as_deref(), Some("ws1"));
        assert_eq!(a.account.as_deref(), Some("alice"));
        assert_eq!(a.tool.as_deref(), Some("AnyDesk"));
        assert_eq!(a.category.as_deref(), Some("commercial-remote-support"));
        assert_eq!(a.signal.as_deref(), Some("process"));
        let json = serde_json::to_string(&a).unwrap();
        assert!(
            json.starts_with(r#"{"rule":{"id":"rat-x","guid":"g","name":"X","severity":"Low""#),
            "{json}"
        );
        assert!(
            json.contains(r#""entities":[{"type":"Account","Name":"alice"}]"#),
            "{json}"
        );
        // The row keeps the query's column order.
        assert!(json.contains(r#""row":{"Timestamp":"2026-01-02T03:04:05.1234567Z","DeviceName":"ws1","User""#));
    }

    #[test]
    fn severity_column_overrides_the_rule_severity_when_valid() {
        let rule = parse_rule(
            Path::new("rat-x.yaml"),
            "name: X\nseverity: Medium\nquery: T\nalertDetailsOverride:\n  alertSeverityColumnName: Sev\n",
        )
        .unwrap();
        let with = |v: &str| Row(vec![("Sev".into(), Value::String(v.into()))]);
        let high = alert_from_row(&rule, with("High"), None);
        assert_eq!(high.severity, Severity::High);
        assert_eq!(high.rule.severity, "High");
        assert_eq!(alert_from_row(&rule, with("low"), None).severity, Severity::Low);
        // a value that is no severity, or no column: the rule's own
        assert_eq!(alert_from_row(&rule, with("urgent"), None).severity, Severity::Medium);
        assert_eq!(alert_from_row(&rule, Row::default(), None).severity, Severity::Medium);
    }

    #[test]
    fn account_gets_its_domain_and_empty_values_are_absent() {
        let r = parse_rule(Path::new("r.yaml"), "query: T\n").unwrap();
        let row = Row(vec![
            ("AccountName".into(), Value::String("bob".into())),
            ("AccountDomain".into(), Value::String("CONTOSO".into())),
            ("DeviceName".into(), Value::String(String::new())),
        ]);
        let a = alert_from_row(&r, row, None);
        assert_eq!(a.account.as_deref(), Some("CONTOSO\\bob"));
        assert_eq!(a.device, None);
        assert_eq!(a.time, None);
    }

    #[test]
    fn an_account_entity_name_gets_the_domain_beside_it() {
        let text = "query: T\nentityMappings:\n  - entityType: Account\n    fieldMappings:\n      - identifier: Name\n        columnName: TargetUserName\n";
        let r = parse_rule(Path::new("r.yaml"), text).unwrap();
        let row = Row(vec![
            ("SubjectUserName".into(), Value::String("SYSTEM".into())),
            ("SubjectDomainName".into(), Value::String("NT AUTHORITY".into())),
            ("TargetUserName".into(), Value::String("bob".into())),
            ("TargetDomainName".into(), Value::String("CONTOSO".into())),
        ]);
        assert_eq!(alert_from_row(&r, row, None).account.as_deref(), Some("CONTOSO\\bob"));
    }

    #[test]
    fn one_column_table_for_every_alert_kind() {
        // Security events name the account in TargetUserName (Sigma rows and pack rows alike);
        // Windows' "-" is no value.
        let row = Row(vec![
            ("Computer".into(), Value::String("WS1".into())),
            ("TargetUserName".into(), Value::String("-".into())),
            ("SubjectUserName".into(), Value::String("alice".into())),
            ("SubjectDomainName".into(), Value::String("CONTOSO".into())),
        ]);
        assert_eq!(account_of(&row).as_deref(), Some("CONTOSO\\alice"));
        assert_eq!(device_of(&row).as_deref(), Some("WS1"));
        let r = parse_rule(Path::new("r.yaml"), "query: T\n").unwrap();
        let a = alert_from_row(&r, row, None);
        assert_eq!(
            (a.account.as_deref(), a.device.as_deref()),
            (Some("CONTOSO\\alice"), Some("WS1"))
        );
    }

    fn process_alert(source: &str, pid: i64, image: &str, nanos: i64, sha256: Option<&str>) -> Alert {
        let r = parse_rule(Path::new("r.yaml"), "query: T\n").unwrap();
        let row = Row(vec![
            ("Timestamp".into(), Value::String(format!("t{nanos}"))),
            ("DeviceName".into(), Value::String("WS1".into())),
            ("FolderPath".into(), Value::String(image.into())),
            ("ProcessId".into(), serde_json::json!(pid)),
            ("SHA256".into(), sha256.map_or(Value::Null, |h| Value::String(h.into()))),
            ("EventSource".into(), Value::String(source.into())),
        ]);
        alert_from_row(&r, row, Some(nanos))
    }

    #[test]
    fn one_process_seen_by_sysmon_and_security_is_one_alert_naming_both() {
        let sec = process_alert("Security/4688", 42, r"C:\Temp\AnyDesk.exe", 1_000_000_000, None);
        let sysmon = process_alert("Sysmon/1", 42, r"c:\temp\anydesk.exe", 1_400_000_000, Some("ab"));
        assert_eq!(sec.sources, vec!["Security/4688"]);
        let merged = merge_same_process(vec![sec.clone(), sysmon.clone()]);
        assert_eq!(merged.len(), 1);
        // Sysmon's row is the fuller one (hashes): it is kept, and its source comes first.
        assert_eq!(merged[0].sources, vec!["Sysmon/1", "Security/4688"]);
        assert_eq!(merged[0].row.text("SHA256").as_deref(), Some("ab"));
        assert_eq!(merged[0].time_nanos, Some(1_400_000_000));
        let json = serde_json::to_string(&merged[0]).unwrap();
        assert!(
            json.contains(r#""signal":null,"sources":["Sysmon/1","Security/4688"],"entities""#),
            "{json}"
        );
        // The order the rows arrive in does not matter.
        let again = merge_same_process(vec![sysmon, sec]);
        assert_eq!(
            serde_json::to_string(&again).unwrap(),
            serde_json::to_string(&merged).unwrap()
        );
    }

    #[test]
    fn other_processes_times_and_rows_without_a_process_stay_apart() {
        let a = process_alert("Sysmon/1", 42, r"C:\a.exe", 0, None);
        let other_pid = process_alert("Security/4688", 43, r"C:\a.exe", 0, None);
        let other_image = process_alert("Security/4688", 42, r"C:\b.exe", 0, None);
        let later = process_alert("Security/4688", 42, r"C:\a.exe", SAME_PROCESS_TOLERANCE_NANOS + 1, None);
        let r = parse_rule(Path::new("r.yaml"), "query: T\n").unwrap();
        let no_pid = alert_from_row(
            &r,
            Row(vec![("FolderPath".into(), Value::String(r"C:\a.exe".into()))]),
            Some(0),
        );
        let merged = merge_same_process(vec![later, other_image, no_pid, other_pid, a]);
        assert_eq!(merged.len(), 5);
        assert!(merged.iter().all(|m| m.sources.len() <= 1));
        // Sorted by time, then row.
        assert_eq!(
            merged.last().unwrap().time_nanos,
            Some(SAME_PROCESS_TOLERANCE_NANOS + 1)
        );
        // Without a known source an alert has no `sources` key.
        assert!(!serde_json::to_string(&merged[0]).unwrap().contains("\"sources\""));
    }

    #[test]
    fn source_from_projected_additional_fields() {
        let r = parse_rule(Path::new("r.yaml"), "query: T\n").unwrap();
        let row = Row(vec![(
            "AdditionalFields".into(),
            Value::String(r#"{"ProcessGuid":"{x}","EventSource":"Sysmon/1"}"#.into()),
        )]);
        assert_eq!(alert_from_row(&r, row, None).sources, vec!["Sysmon/1"]);
    }

    #[test]
    fn correlation_tools_come_from_events() {
        let r = parse_rule(Path::new("r.yaml"), "query: T\n").unwrap();
        let events = serde_json::json!([{"Timestamp": "t1", "ToolName": "RustDesk"}, {"Timestamp": "t2", "ToolName": "AnyDesk"}]);
        let a = alert_from_row(&r, Row(vec![("Events".into(), events)]), None);
        assert_eq!(a.tools(), vec!["AnyDesk", "RustDesk"]);
    }
}
