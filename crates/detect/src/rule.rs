//! Rules: Sentinel analytic-rule YAML (and plain `.kql` files) read into [`Rule`]s, the pack
//! compiled into the binary, and rule folders given with `--rules`.

use serde::Deserialize;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// Alert severity, in Sentinel's four levels (ordered).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Severity {
    Informational,
    Low,
    Medium,
    High,
}

impl Severity {
    pub fn parse(text: &str) -> Option<Severity> {
        match text.trim().to_ascii_lowercase().as_str() {
            "informational" | "info" => Some(Severity::Informational),
            "low" => Some(Severity::Low),
            "medium" => Some(Severity::Medium),
            "high" => Some(Severity::High),
            _ => None,
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Severity::Informational => "Informational",
            Severity::Low => "Low",
            Severity::Medium => "Medium",
            Severity::High => "High",
        }
    }
}

/// One entity mapping of a Sentinel rule: an entity type and its identifiers' columns.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EntityMapping {
    pub entity_type: String,
    /// (identifier, column name), in the rule's order.
    pub fields: Vec<(String, String)>,
}

/// A detection rule.
#[derive(Debug, Clone)]
pub struct Rule {
    /// Short id: the file stem (`rat-process-by-name`).
    pub id: String,
    /// The Sentinel rule id (a GUID) when the YAML has one.
    pub guid: Option<String>,
    pub name: String,
    pub description: String,
    pub severity: Severity,
    pub tactics: Vec<String>,
    pub techniques: Vec<String>,
    /// `queryPeriod` in nanoseconds: the implicit time range the rule runs over.
    pub query_period: Option<i64>,
    pub query_period_text: Option<String>,
    pub query_frequency_text: Option<String>,
    pub query: String,
    pub entity_mappings: Vec<EntityMapping>,
    /// `customDetails`: key -> column, in the rule's order.
    pub custom_details: Vec<(String, String)>,
    /// Where the rule came from (a path, or `<pack>/name.yaml` for the built-in pack).
    pub origin: PathBuf,
    /// The whole file text (for diagnostics).
    pub file_text: String,
    /// The investigation guide and response playbook (Markdown), when the rule has one.
    pub guide: Option<String>,
}

impl Rule {
    /// The column a customDetails key maps to.
    pub fn detail_column(&self, key: &str) -> Option<&str> {
        self.custom_details
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(key))
            .map(|(_, c)| c.as_str())
    }
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RuleYaml {
    id: Option<serde_norway::Value>,
    name: Option<String>,
    #[serde(default)]
    description: Option<String>,
    #[serde(default)]
    severity: Option<String>,
    #[serde(default)]
    tactics: Vec<String>,
    #[serde(default)]
    relevant_techniques: Vec<String>,
    #[serde(default)]
    query_frequency: Option<String>,
    #[serde(default)]
    query_period: Option<String>,
    query: Option<String>,
    #[serde(default)]
    entity_mappings: Vec<EntityMappingYaml>,
    #[serde(default)]
    custom_details: Option<serde_norway::Mapping>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct EntityMappingYaml {
    entity_type: String,
    #[serde(default)]
    field_mappings: Vec<FieldMappingYaml>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct FieldMappingYaml {
    identifier: String,
    column_name: String,
}

/// A Sentinel period (`1h`, `14d`, `PT1H`, `P14D`) in nanoseconds.
pub fn parse_period(text: &str) -> Option<i64> {
    let t = text.trim();
    if let Some(iso) = t.strip_prefix('P').or_else(|| t.strip_prefix('p')) {
        return parse_iso_duration(iso);
    }
    kql::parser::parse_timespan_text(t).map(|ticks| ticks.saturating_mul(100))
}

fn parse_iso_duration(iso: &str) -> Option<i64> {
    let mut total: i64 = 0;
    let mut in_time = false;
    let mut num = String::new();
    for c in iso.chars() {
        match c.to_ascii_uppercase() {
            'T' => in_time = true,
            d if d.is_ascii_digit() => num.push(d),
            unit => {
                let n: i64 = num.parse().ok()?;
                num.clear();
                let secs = match (unit, in_time) {
                    ('D', false) => 86_400,
                    ('W', false) => 7 * 86_400,
                    ('H', true) => 3_600,
                    ('M', true) => 60,
                    ('S', true) => 1,
                    _ => return None,
                };
                total = total.checked_add(n.checked_mul(secs)?.checked_mul(1_000_000_000)?)?;
            }
        }
    }
    num.is_empty().then_some(total)
}

fn stem(path: &Path) -> String {
    path.file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_default()
}

/// Reads a rule from its text: Sentinel YAML when `path` ends in .yaml/.yml, else a KQL query.
pub fn parse_rule(path: &Path, text: &str) -> Result<Rule, String> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let ext = path
        .extension()
        .and_then(|e| e.to_str())
        .unwrap_or("")
        .to_ascii_lowercase();
    let id = stem(path);
    if ext != "yaml" && ext != "yml" {
        return Ok(Rule {
            name: id.clone(),
            id,
            guid: None,
            description: String::new(),
            severity: Severity::Medium,
            tactics: Vec::new(),
            techniques: Vec::new(),
            query_period: None,
            query_period_text: None,
            query_frequency_text: None,
            query: text.to_string(),
            entity_mappings: Vec::new(),
            custom_details: Vec::new(),
            origin: path.to_path_buf(),
            file_text: text.to_string(),
            guide: None,
        });
    }
    let y: RuleYaml = serde_norway::from_str(text).map_err(|e| {
        let at = e
            .location()
            .map(|l| format!("line {}, column {}: ", l.line(), l.column()))
            .unwrap_or_default();
        format!("{at}invalid rule YAML: {e}")
    })?;
    let query = y
        .query
        .ok_or("no `query` field (not a Sentinel analytic or hunting rule)")?;
    let severity = match &y.severity {
        None => Severity::Medium,
        Some(s) => Severity::parse(s)
            .ok_or_else(|| format!("severity `{s}` is not one of Informational, Low, Medium, High"))?,
    };
    let query_period = match &y.query_period {
        None => None,
        Some(p) => Some(parse_period(p).ok_or_else(|| format!("queryPeriod `{p}` is not a period (e.g. 14d)"))?),
    };
    if let Some(f) = &y.query_frequency {
        parse_period(f).ok_or_else(|| format!("queryFrequency `{f}` is not a period (e.g. 1h)"))?;
    }
    let mut custom_details = Vec::new();
    if let Some(map) = y.custom_details {
        for (k, v) in map {
            match (k, v) {
                (serde_norway::Value::String(k), serde_norway::Value::String(v)) => custom_details.push((k, v)),
                (k, _) => return Err(format!("customDetails entry {k:?}: keys and values must be strings")),
            }
        }
    }
    let guid = y.id.and_then(|v| match v {
        serde_norway::Value::String(s) => Some(s),
        serde_norway::Value::Number(n) => Some(n.to_string()),
        _ => None,
    });
    Ok(Rule {
        name: y.name.unwrap_or_else(|| id.clone()),
        id,
        guid,
        description: y.description.unwrap_or_default().trim().to_string(),
        severity,
        tactics: y.tactics,
        techniques: y.relevant_techniques,
        query_period,
        query_period_text: y.query_period,
        query_frequency_text: y.query_frequency,
        query,
        entity_mappings: y
            .entity_mappings
            .into_iter()
            .map(|m| EntityMapping {
                entity_type: m.entity_type,
                fields: m
                    .field_mappings
                    .into_iter()
                    .map(|f| (f.identifier, f.column_name))
                    .collect(),
            })
            .collect(),
        custom_details,
        origin: path.to_path_buf(),
        file_text: text.to_string(),
        guide: None,
    })
}

/// A rule file that could not be read.
#[derive(Debug, Clone)]
pub struct RuleError {
    pub path: PathBuf,
    pub message: String,
}

impl std::fmt::Display for RuleError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.path.display(), self.message)
    }
}

mod pack {
    include!(concat!(env!("OUT_DIR"), "/pack.rs"));
}

/// The pack compiled into the binary (`rules/*.yaml` with their `rules/*.md` guides).
pub fn builtin_pack() -> (Vec<Rule>, Vec<RuleError>) {
    let files: BTreeMap<&str, &str> = pack::FILES.iter().copied().collect();
    let mut rules = Vec::new();
    let mut errors = Vec::new();
    for (name, text) in &files {
        let path = Path::new(name);
        if !matches!(path.extension().and_then(|e| e.to_str()), Some("yaml" | "yml")) {
            continue;
        }
        let origin = Path::new("<pack>").join(name);
        match parse_rule(&origin, text) {
            Ok(mut r) => {
                r.guide = files.get(format!("{}.md", r.id).as_str()).map(|s| s.to_string());
                rules.push(r);
            }
            Err(message) => errors.push(RuleError { path: origin, message }),
        }
    }
    (rules, errors)
}

const RULE_EXTENSIONS: &[&str] = &["yaml", "yml", "kql", "csl", "kusto"];

/// Reads rules from files and folders (folders: their rule files, not recursing into `tests/`).
pub fn load_paths(paths: &[PathBuf]) -> (Vec<Rule>, Vec<RuleError>) {
    let mut rules = Vec::new();
    let mut errors = Vec::new();
    for path in paths {
        let mut files = Vec::new();
        if path.is_dir() {
            for entry in walkdir::WalkDir::new(path)
                .follow_links(true)
                .into_iter()
                .filter_entry(|e| e.depth() == 0 || e.file_name() != "tests")
            {
                match entry {
                    Ok(e) if e.file_type().is_file() => {
                        let p = e.into_path();
                        let ext = p
                            .extension()
                            .and_then(|e| e.to_str())
                            .unwrap_or("")
                            .to_ascii_lowercase();
                        if RULE_EXTENSIONS.contains(&ext.as_str()) {
                            files.push(p);
                        }
                    }
                    Ok(_) => {}
                    Err(e) => errors.push(RuleError {
                        path: e.path().map_or_else(|| path.clone(), Path::to_path_buf),
                        message: e.to_string(),
                    }),
                }
            }
            files.sort();
        } else {
            files.push(path.clone());
        }
        for file in files {
            match std::fs::read_to_string(&file) {
                Ok(text) => match parse_rule(&file, &text) {
                    Ok(mut r) => {
                        r.guide = std::fs::read_to_string(file.with_extension("md")).ok();
                        rules.push(r);
                    }
                    Err(message) => errors.push(RuleError { path: file, message }),
                },
                Err(e) => errors.push(RuleError {
                    path: file,
                    message: e.to_string(),
                }),
            }
        }
    }
    (rules, errors)
}

/// Rules whose ids repeat (each id must name one rule).
pub fn duplicate_ids(rules: &[Rule]) -> Vec<String> {
    let mut seen = BTreeMap::new();
    for r in rules {
        *seen.entry(r.id.as_str()).or_insert(0) += 1;
    }
    seen.into_iter()
        .filter(|(_, n)| *n > 1)
        .map(|(id, _)| id.to_string())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    const YAML: &str = r#"id: 0b3c1c3e-6d2a-4d0e-9a51-6c0f1f6e2a10
name: Test rule
description: |
  Finds things.
severity: High
queryFrequency: 1h
queryPeriod: 14d
tactics: [CommandAndControl]
relevantTechniques: [T1219]
query: |
  DeviceProcessEvents
  | where FileName =~ "anydesk.exe"
entityMappings:
  - entityType: Host
    fieldMappings:
      - identifier: HostName
        columnName: DeviceName
customDetails:
  Tool: ToolName
  Signal: Signal
"#;

    #[test]
    fn reads_sentinel_yaml() {
        let r = parse_rule(Path::new("rules/rat-x.yaml"), YAML).unwrap();
        assert_eq!(r.id, "rat-x");
        assert_eq!(r.guid.as_deref(), Some("0b3c1c3e-6d2a-4d0e-9a51-6c0f1f6e2a10"));
        assert_eq!(r.severity, Severity::High);
        assert_eq!(r.query_period, Some(14 * 86_400 * 1_000_000_000));
        assert_eq!(r.techniques, vec!["T1219"]);
        assert_eq!(
            r.entity_mappings[0].fields,
            vec![("HostName".into(), "DeviceName".into())]
        );
        assert_eq!(r.detail_column("tool"), Some("ToolName"));
        assert!(r.query.starts_with("DeviceProcessEvents\n"));
    }

    #[test]
    fn rejects_bad_fields_by_name() {
        let bad = YAML.replace("severity: High", "severity: Critical");
        assert!(
            parse_rule(Path::new("r.yaml"), &bad)
                .unwrap_err()
                .contains("severity `Critical`")
        );
        let bad = YAML.replace("queryPeriod: 14d", "queryPeriod: soon");
        assert!(
            parse_rule(Path::new("r.yaml"), &bad)
                .unwrap_err()
                .contains("queryPeriod")
        );
        let bad = YAML.replace("query: |", "notquery: |");
        assert!(
            parse_rule(Path::new("r.yaml"), &bad)
                .unwrap_err()
                .contains("no `query`")
        );
        let err = parse_rule(Path::new("r.yaml"), "name: [unclosed").unwrap_err();
        assert!(err.contains("line 1"), "{err}");
    }

    #[test]
    fn periods_in_both_notations() {
        assert_eq!(parse_period("1h"), Some(3_600_000_000_000));
        assert_eq!(parse_period("PT1H"), Some(3_600_000_000_000));
        assert_eq!(parse_period("P14D"), Some(14 * 86_400_000_000_000));
        assert_eq!(parse_period("PT5M"), Some(300_000_000_000));
        assert_eq!(parse_period("P1H"), None);
        assert_eq!(parse_period("later"), None);
    }

    #[test]
    fn kql_files_are_rules_too() {
        let r = parse_rule(Path::new("q/hunt.kql"), "DeviceProcessEvents | take 1").unwrap();
        assert_eq!(r.id, "hunt");
        assert_eq!(r.severity, Severity::Medium);
        assert_eq!(r.query_period, None);
    }

    #[test]
    fn builtin_pack_reads_without_errors() {
        let (rules, errors) = builtin_pack();
        assert!(errors.is_empty(), "{errors:?}");
        assert!(duplicate_ids(&rules).is_empty());
        for r in &rules {
            assert!(r.guid.is_some(), "{} has no Sentinel id", r.id);
            assert!(r.guide.is_some(), "{} has no guide (rules/{}.md)", r.id, r.id);
        }
    }
}
