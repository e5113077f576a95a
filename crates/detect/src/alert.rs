//! Alerts: one rule hit on one result row, with the fields analysts pivot on (time, device,
//! account, tool, signal, entities) and the row itself; serialised as documented in docs/alerts.md.

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
    pub id: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub guid: Option<String>,
    pub name: String,
    pub severity: &'static str,
    pub tactics: Vec<String>,
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
    pub entity_type: String,
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
    pub rule: RuleRef,
    /// The event's own time (ISO 8601 UTC, full precision), when the row has one.
    pub time: Option<String>,
    #[serde(skip)]
    pub time_nanos: Option<i64>,
    #[serde(skip)]
    pub severity: Severity,
    pub device: Option<String>,
    pub account: Option<String>,
    pub tool: Option<String>,
    pub category: Option<String>,
    pub signal: Option<String>,
    pub entities: Vec<Entity>,
    /// Correlation alerts: the events joined, each with its own time.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub events: Option<Value>,
    /// Why tuning suppressed the alert (only on suppressed alerts).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub suppressed: Option<String>,
    pub row: Row,
}

/// The columns an event time is read from, in order.
pub const TIME_COLUMNS: &[&str] = &["Timestamp", "TimeGenerated"];

/// Builds the alerts of one rule from its result batches.
pub fn alerts_from_batches(rule: &Rule, batches: &[RecordBatch]) -> Vec<Alert> {
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
    out
}

fn first_text(row: &Row, columns: &[&str]) -> Option<String> {
    columns.iter().find_map(|c| row.text(c))
}

/// Builds one alert from a result row.
pub fn alert_from_row(rule: &Rule, row: Row, time_nanos: Option<i64>) -> Alert {
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
    let entity_value = |ty: &str, ids: &[&str]| {
        entities
            .iter()
            .filter(|e| e.entity_type.eq_ignore_ascii_case(ty))
            .find_map(|e| ids.iter().find_map(|id| e.fields.text(id)))
    };
    let device = entity_value("Host", &["HostName", "FullName"])
        .or_else(|| first_text(&row, &["DeviceName", "Computer", "HostName"]));
    let account = entity_value("Account", &["FullName", "Name"]).or_else(|| {
        let name = first_text(&row, &["AccountName", "InitiatingProcessAccountName", "Account"])?;
        match first_text(&row, &["AccountDomain", "InitiatingProcessAccountDomain"]) {
            Some(d) if !name.contains('\\') => Some(format!("{d}\\{name}")),
            _ => Some(name),
        }
    });
    let detail = |key: &str, fallback: &[&str]| match rule.detail_column(key) {
        Some(col) => row.text(col),
        None => first_text(&row, fallback),
    };
    let tool = detail("Tool", &["ToolName", "Tool"]);
    let category = detail("Category", &["ToolCategory", "RATCategory", "Category"]);
    let signal = detail("Signal", &["Signal"]);
    let time = TIME_COLUMNS.iter().find_map(|c| row.text(c));
    let events = row.get("Events").filter(|v| v.is_array()).cloned();
    Alert {
        rule: RuleRef {
            id: rule.id.clone(),
            guid: rule.guid.clone(),
            name: rule.name.clone(),
            severity: rule.severity.name(),
            tactics: rule.tactics.clone(),
            techniques: rule.techniques.clone(),
            level: None,
            tags: None,
        },
        time,
        time_nanos,
        severity: rule.severity,
        device,
        account,
        tool,
        category,
        signal,
        entities,
        events,
        suppressed: None,
        row,
    }
}

impl Alert {
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
    fn correlation_tools_come_from_events() {
        let r = parse_rule(Path::new("r.yaml"), "query: T\n").unwrap();
        let events = serde_json::json!([{"Timestamp": "t1", "ToolName": "RustDesk"}, {"Timestamp": "t2", "ToolName": "AnyDesk"}]);
        let a = alert_from_row(&r, Row(vec![("Events".into(), events)]), None);
        assert_eq!(a.tools(), vec!["AnyDesk", "RustDesk"]);
    }
}
