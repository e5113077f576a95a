//! Rules: Sentinel analytic-rule YAML (and plain `.kql` files) read into [`Rule`]s, the pack
//! compiled into the binary, and rule folders given with `--rules`.

use serde_norway::{Mapping, Value};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// Alert severity, in Sentinel's four levels (ordered).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Severity {
    /// Informational: context, not a finding alone.
    Informational,
    /// Low.
    Low,
    /// Medium.
    Medium,
    /// High.
    High,
}

impl Severity {
    /// Reads a severity name (case-insensitive; `info` is Informational).
    pub fn parse(text: &str) -> Option<Severity> {
        match text.trim().to_ascii_lowercase().as_str() {
            "informational" | "info" => Some(Severity::Informational),
            "low" => Some(Severity::Low),
            "medium" => Some(Severity::Medium),
            "high" => Some(Severity::High),
            _ => None,
        }
    }

    /// The severity's name as Sentinel writes it.
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
    /// The Sentinel entity type (`Host`, `Account`, ...).
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
    /// The rule's display name (the file stem when it has none).
    pub name: String,
    /// What the rule detects.
    pub description: String,
    /// The severity of its alerts (Medium when the rule gives none).
    pub severity: Severity,
    /// ATT&CK tactics.
    pub tactics: Vec<String>,
    /// ATT&CK techniques (`relevantTechniques`).
    pub techniques: Vec<String>,
    /// `queryPeriod` in nanoseconds: the implicit time range the rule runs over.
    pub query_period: Option<i64>,
    /// `queryPeriod` as written (`14d`).
    pub query_period_text: Option<String>,
    /// `queryFrequency` as written (`1h`).
    pub query_frequency_text: Option<String>,
    /// The KQL query.
    pub query: String,
    /// The entity mappings, in the rule's order.
    pub entity_mappings: Vec<EntityMapping>,
    /// `customDetails`: key -> column, in the rule's order.
    pub custom_details: Vec<(String, String)>,
    /// Where the rule came from (a path, or `<pack>/name.yaml` for the built-in pack).
    pub origin: PathBuf,
    /// The whole file text (for diagnostics).
    pub file_text: String,
    /// The investigation guide and response playbook (Markdown), when the rule has one.
    pub guide: Option<String>,
    /// `alertDetailsOverride.alertSeverityColumnName`: the column whose value (`Informational`,
    /// `Low`, `Medium`, `High`) overrides `severity` for the alert of each row.
    pub severity_column: Option<String>,
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

/// A Sentinel period (`1h`, `14d`, `PT1H`, `P14D`) in nanoseconds.
pub(crate) fn parse_period(text: &str) -> Option<i64> {
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
pub fn parse_rule(path: &Path, text: &str) -> Result<Rule, RuleParseError> {
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
            severity_column: None,
        });
    }
    let doc = read_document(text)?;
    from_document(path, id, text, &doc).map_err(RuleParseError::Invalid)
}

/// A Sentinel rule from its parsed YAML (`id` is the file stem, `text` the file's text).
fn from_document(path: &Path, id: String, text: &str, doc: &Mapping) -> Result<Rule, String> {
    let query = match field(doc, "query") {
        None => return Err("no `query` field (not a Sentinel analytic or hunting rule, or a stub)".into()),
        Some(v @ (Value::Sequence(_) | Value::Mapping(_) | Value::Tagged(_))) => {
            return Err(format!("`query`: expected the query text, found {}", kind_of(v)));
        }
        Some(v) => match text_value(v) {
            Some(q) if !q.trim().is_empty() => q,
            _ => return Err("the `query` field is empty (a stub)".into()),
        },
    };
    let severity = match opt_text(doc, "severity")? {
        None => Severity::Medium,
        Some(s) => Severity::parse(&s)
            .ok_or_else(|| format!("severity `{s}` is not one of Informational, Low, Medium, High"))?,
    };
    let query_period_text = opt_text(doc, "queryPeriod")?;
    let query_period = match &query_period_text {
        None => None,
        Some(p) => Some(parse_period(p).ok_or_else(|| format!("queryPeriod `{p}` is not a period (e.g. 14d)"))?),
    };
    let query_frequency_text = opt_text(doc, "queryFrequency")?;
    if let Some(f) = &query_frequency_text {
        parse_period(f).ok_or_else(|| format!("queryFrequency `{f}` is not a period (e.g. 1h)"))?;
    }
    let mut custom_details = Vec::new();
    match field(doc, "customDetails") {
        None | Some(Value::Null) => {}
        Some(Value::Mapping(map)) => {
            for (k, v) in map {
                match (text_value(k), text_value(v)) {
                    (Some(k), Some(v)) => custom_details.push((k, v)),
                    _ => return Err(format!("customDetails entry {k:?}: keys and values must be strings")),
                }
            }
        }
        Some(other) => return Err(format!("`customDetails`: expected a mapping, found {}", kind_of(other))),
    }
    let guid = field(doc, "id").and_then(text_value);
    Ok(Rule {
        name: opt_text(doc, "name")?.unwrap_or_else(|| id.clone()),
        id,
        guid,
        description: opt_text(doc, "description")?.unwrap_or_default().trim().to_string(),
        severity,
        tactics: text_list(doc, "tactics")?,
        techniques: text_list(doc, "relevantTechniques")?,
        query_period,
        query_period_text,
        query_frequency_text,
        query,
        entity_mappings: entity_mappings(doc)?,
        custom_details,
        origin: path.to_path_buf(),
        file_text: text.to_string(),
        guide: None,
        severity_column: severity_column(doc),
    })
}

/// `alertDetailsOverride.alertSeverityColumnName`, when the rule sets it.
fn severity_column(doc: &Mapping) -> Option<String> {
    match field(doc, "alertDetailsOverride")? {
        Value::Mapping(m) => field(m, "alertSeverityColumnName")
            .and_then(text_value)
            .filter(|c| !c.trim().is_empty()),
        _ => None,
    }
}

/// Parses a rule file's YAML into its top-level mapping (invalid YAML and files that are not a
/// mapping of fields are errors with the place and the reason).
pub(crate) fn read_document(text: &str) -> Result<Mapping, RuleParseError> {
    match serde_norway::from_str(text)? {
        Value::Mapping(m) => Ok(m),
        Value::Null => Err(RuleParseError::Invalid("empty file (no rule fields)".into())),
        other => Err(RuleParseError::Invalid(format!(
            "expected a mapping of rule fields, found {}",
            kind_of(&other)
        ))),
    }
}

/// Why a rule file's text is not a rule.
#[derive(Debug, thiserror::Error)]
pub enum RuleParseError {
    /// The text is not YAML (the message starts with the line and column when known).
    #[error("{}invalid rule YAML: {source}", yaml_at(source))]
    Yaml {
        /// The YAML parser's error.
        #[from]
        source: serde_norway::Error,
    },
    /// The YAML is not a rule: a field is missing, empty, or of the wrong kind (the message
    /// names it).
    #[error("{0}")]
    Invalid(String),
}

/// `line L, column C: ` for a YAML error with a place, else nothing.
pub(crate) fn yaml_at(e: &serde_norway::Error) -> String {
    e.location()
        .map(|l| format!("line {}, column {}: ", l.line(), l.column()))
        .unwrap_or_default()
}

/// A top-level field: by its exact name, else ignoring ASCII case (`Tactics`, `ID`).
pub(crate) fn field<'a>(doc: &'a Mapping, name: &str) -> Option<&'a Value> {
    doc.get(name).or_else(|| {
        doc.iter()
            .find(|(k, _)| k.as_str().is_some_and(|k| k.eq_ignore_ascii_case(name)))
            .map(|(_, v)| v)
    })
}

/// What a YAML value is, for messages.
pub(crate) fn kind_of(v: &Value) -> &'static str {
    match v {
        Value::Null => "nothing (null)",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Sequence(_) => "a list",
        Value::Mapping(_) => "a mapping",
        Value::Tagged(_) => "a tagged value",
    }
}

/// A scalar as text (strings as they are, numbers and booleans as written); `None` otherwise.
pub(crate) fn text_value(v: &Value) -> Option<String> {
    match v {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

/// An optional text field (missing or null: `None`).
fn opt_text(doc: &Mapping, name: &str) -> Result<Option<String>, String> {
    match field(doc, name) {
        None | Some(Value::Null) => Ok(None),
        Some(v) => text_value(v)
            .map(Some)
            .ok_or_else(|| format!("`{name}`: expected text, found {}", kind_of(v))),
    }
}

/// A list of names as the Azure-Sentinel repository writes them: a list, one string (also
/// comma-separated), or nothing (missing, null, a bare `-`).
fn text_list(doc: &Mapping, name: &str) -> Result<Vec<String>, String> {
    let split = |s: &str| -> Vec<String> {
        s.split(',')
            .map(str::trim)
            .filter(|t| !t.is_empty())
            .map(str::to_string)
            .collect()
    };
    match field(doc, name) {
        None | Some(Value::Null) => Ok(Vec::new()),
        Some(Value::Sequence(items)) => {
            let mut out = Vec::new();
            for item in items {
                match item {
                    Value::Null => {}
                    v => match text_value(v) {
                        Some(s) => out.extend(split(&s)),
                        None => return Err(format!("`{name}`: expected names, found {} in the list", kind_of(v))),
                    },
                }
            }
            Ok(out)
        }
        Some(v) => text_value(v)
            .map(|s| split(&s))
            .ok_or_else(|| format!("`{name}`: expected a name or a list of names, found {}", kind_of(v))),
    }
}

fn entity_mappings(doc: &Mapping) -> Result<Vec<EntityMapping>, String> {
    let items = match field(doc, "entityMappings") {
        None | Some(Value::Null) => return Ok(Vec::new()),
        Some(Value::Sequence(items)) => items,
        Some(v) => return Err(format!("`entityMappings`: expected a list, found {}", kind_of(v))),
    };
    let mut out = Vec::new();
    for (i, item) in items.iter().enumerate() {
        let at = format!("`entityMappings` entry {}", i + 1);
        let Value::Mapping(m) = item else {
            return Err(format!("{at}: expected a mapping, found {}", kind_of(item)));
        };
        // An entry without a type, or a field mapping without an identifier or a column (the
        // repository has `identifies:` typos), gives the alert nothing: it is left out, and
        // `check --sentinel` reports it.
        let Some(entity_type) = m.get("entityType").and_then(text_value) else {
            continue;
        };
        let fields = match m.get("fieldMappings") {
            None | Some(Value::Null) => Vec::new(),
            Some(Value::Sequence(fms)) => fms
                .iter()
                .filter_map(|fm| {
                    let f = fm.as_mapping()?;
                    f.get("identifier")
                        .and_then(text_value)
                        .zip(f.get("columnName").and_then(text_value))
                })
                .collect(),
            Some(v) => {
                return Err(format!(
                    "{at} ({entity_type}): `fieldMappings`: expected a list, found {}",
                    kind_of(v)
                ));
            }
        };
        out.push(EntityMapping { entity_type, fields });
    }
    Ok(out)
}

/// A rule file that could not be read.
#[derive(Debug, Clone)]
pub struct RuleError {
    /// The file.
    pub path: PathBuf,
    /// What is wrong with it.
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

/// The pack's tests compiled into the binary: (path from the repository's root, bytes).
pub(crate) fn pack_test_files() -> &'static [(&'static str, &'static [u8])] {
    pack::TEST_FILES
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
            Err(e) => errors.push(RuleError {
                path: origin,
                message: e.to_string(),
            }),
        }
    }
    (rules, errors)
}

const RULE_EXTENSIONS: &[&str] = &["yaml", "yml", "kql", "csl", "kusto"];

/// The rule files under the given paths: files as named, folders walked for rule files (sorted,
/// not descending into `tests/`). `extensions` are lower case, without the dot.
pub(crate) fn rule_files(paths: &[PathBuf], extensions: &[&str]) -> (Vec<PathBuf>, Vec<RuleError>) {
    let mut files = Vec::new();
    let mut errors = Vec::new();
    for path in paths {
        if !path.is_dir() {
            files.push(path.clone());
            continue;
        }
        let mut found = Vec::new();
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
                    if extensions.contains(&ext.as_str()) {
                        found.push(p);
                    }
                }
                Ok(_) => {}
                Err(e) => errors.push(RuleError {
                    path: e.path().map_or_else(|| path.clone(), Path::to_path_buf),
                    message: e.to_string(),
                }),
            }
        }
        found.sort();
        files.extend(found);
    }
    (files, errors)
}

/// Reads rules from files and folders (folders: their rule files, not recursing into `tests/`).
/// A file that cannot be read or parsed is an error naming the file and the reason; the others
/// still load.
pub fn load_paths(paths: &[PathBuf]) -> (Vec<Rule>, Vec<RuleError>) {
    let (files, mut errors) = rule_files(paths, RULE_EXTENSIONS);
    let mut rules = Vec::new();
    for file in files {
        match read_text(&file).and_then(|text| parse_rule(&file, &text).map_err(|e| e.to_string())) {
            Ok(mut r) => {
                r.guide = std::fs::read_to_string(file.with_extension("md")).ok();
                rules.push(r);
            }
            Err(message) => errors.push(RuleError { path: file, message }),
        }
    }
    (rules, errors)
}

/// A rule file's text (UTF-8; a file that is not is an error with the byte where it stops).
/// Largest rule file read: rule files come from others, and a real one is a few KiB.
pub(crate) const MAX_RULE_FILE_BYTES: u64 = 4 << 20;

pub(crate) fn read_text(path: &Path) -> Result<String, String> {
    use std::io::Read;
    let file = std::fs::File::open(path).map_err(|e| e.to_string())?;
    if !file.metadata().map_err(|e| e.to_string())?.is_file() {
        return Err("not a regular file".into());
    }
    let mut bytes = Vec::new();
    file.take(MAX_RULE_FILE_BYTES + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| e.to_string())?;
    if bytes.len() as u64 > MAX_RULE_FILE_BYTES {
        return Err(format!(
            "larger than {} MiB: not read (rule files hold a query and its metadata)",
            MAX_RULE_FILE_BYTES >> 20
        ));
    }
    String::from_utf8(bytes).map_err(|e| format!("not UTF-8 text (byte {})", e.utf8_error().valid_up_to()))
}

/// Keeps the first rule of each id and returns an error for every later file with the same id
/// (ids are file stems: two folders may both hold `Rule.yaml`).
pub(crate) fn drop_duplicate_ids(rules: &mut Vec<Rule>) -> Vec<RuleError> {
    let mut first: BTreeMap<String, PathBuf> = BTreeMap::new();
    let mut errors = Vec::new();
    rules.retain(|r| match first.get(&r.id) {
        Some(other) => {
            errors.push(RuleError {
                path: r.origin.clone(),
                message: format!(
                    "rule id `{}` is already the id of {} (ids are file stems and must be unique)",
                    r.id,
                    other.display()
                ),
            });
            false
        }
        None => {
            first.insert(r.id.clone(), r.origin.clone());
            true
        }
    });
    errors
}

/// Rules whose ids repeat (each id must name one rule).
pub(crate) fn duplicate_ids(rules: &[Rule]) -> Vec<String> {
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
                .to_string()
                .contains("severity `Critical`")
        );
        let bad = YAML.replace("queryPeriod: 14d", "queryPeriod: soon");
        assert!(
            parse_rule(Path::new("r.yaml"), &bad)
                .unwrap_err()
                .to_string()
                .contains("queryPeriod")
        );
        let bad = YAML.replace("query: |", "notquery: |");
        assert!(
            parse_rule(Path::new("r.yaml"), &bad)
                .unwrap_err()
                .to_string()
                .contains("no `query`")
        );
        let err = parse_rule(Path::new("r.yaml"), "name: [unclosed")
            .unwrap_err()
            .to_string();
        assert!(err.contains("line 1"), "{err}");
    }

    #[test]
    fn reads_yaml_as_the_sentinel_repository_holds_it() {
        // One string instead of a list, also comma-separated.
        let r = parse_rule(
            Path::new("r.yaml"),
            &YAML
                .replace("tactics: [CommandAndControl]", "tactics: CommandAndControl")
                .replace("relevantTechniques: [T1219]", "relevantTechniques: T1219, T1105"),
        )
        .unwrap();
        assert_eq!(r.tactics, vec!["CommandAndControl"]);
        assert_eq!(r.techniques, vec!["T1219", "T1105"]);
        // Null tactics and a bare `-` in relevantTechniques.
        let r = parse_rule(
            Path::new("r.yaml"),
            &YAML
                .replace("tactics: [CommandAndControl]", "tactics:")
                .replace("relevantTechniques: [T1219]", "relevantTechniques:\n  -"),
        )
        .unwrap();
        assert!(r.tactics.is_empty() && r.techniques.is_empty());
        // A hunting query: no period, so it runs over all the evidence.
        let r = parse_rule(
            Path::new("r.yaml"),
            &YAML
                .replace("queryFrequency: 1h\n", "")
                .replace("queryPeriod: 14d\n", ""),
        )
        .unwrap();
        assert_eq!(r.query_period, None);
        // Keys hunt does not use are accepted.
        let extra = "kind: Scheduled\nversion: 1.0.0\nmetadata:\n  source: {kind: Community}\ntags: [a]\n\
            alertDetailsOverride: {alertDisplayNameFormat: x}\neventGroupingSettings: {aggregationKind: SingleAlert}\n\
            incidentConfiguration: {createIncident: true}\nsuppressionDuration: 5h\nsuppressionEnabled: false\n";
        assert!(parse_rule(Path::new("r.yaml"), &format!("{YAML}{extra}")).is_ok());
        // A field mapping with a typo (`identifies:`) is left out; the rule still loads.
        let r = parse_rule(
            Path::new("r.yaml"),
            &YAML.replace(
                "      - identifier: HostName",
                "      - identifies: FullName\n        columnName: DeviceName\n      - identifier: HostName",
            ),
        )
        .unwrap();
        assert_eq!(
            r.entity_mappings[0].fields,
            vec![("HostName".into(), "DeviceName".into())]
        );
        // Wrong shapes are named.
        let err = parse_rule(Path::new("r.yaml"), &YAML.replace("[CommandAndControl]", "{a: b}"))
            .unwrap_err()
            .to_string();
        assert!(err.contains("`tactics`"), "{err}");
        let err = parse_rule(Path::new("r.yaml"), "- a\n- b\n").unwrap_err().to_string();
        assert!(err.contains("expected a mapping"), "{err}");
        let err = parse_rule(Path::new("r.yaml"), "").unwrap_err().to_string();
        assert!(err.contains("empty file"), "{err}");
        let err = parse_rule(Path::new("r.yaml"), "id: x\nname: moved\nquery: ''\n")
            .unwrap_err()
            .to_string();
        assert!(err.contains("empty"), "{err}");
    }

    #[test]
    fn a_folder_of_repository_shapes_loads_and_reports_the_bad_files() {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/sentinel-shapes");
        let (rules, errors) = load_paths(&[dir]);
        let ids: Vec<&str> = rules.iter().map(|r| r.id.as_str()).collect();
        assert_eq!(ids, ["hunting-no-period", "string-tactics", "unknown-keys"]);
        let by_id = |id: &str| rules.iter().find(|r| r.id == id).unwrap();
        assert_eq!(by_id("string-tactics").tactics, vec!["CommandAndControl"]);
        assert_eq!(by_id("string-tactics").techniques, vec!["T1219"]);
        assert_eq!(by_id("string-tactics").query_period, Some(14 * 86_400_000_000_000));
        assert_eq!(by_id("hunting-no-period").query_period, None);
        assert_eq!(by_id("unknown-keys").severity, Severity::Low);
        assert_eq!(by_id("unknown-keys").detail_column("Tool"), Some("Tool"));
        let reported: Vec<(String, &str)> = errors
            .iter()
            .map(|e| {
                (
                    e.path.file_name().unwrap().to_string_lossy().into_owned(),
                    e.message.as_str(),
                )
            })
            .collect();
        assert_eq!(reported.len(), 2, "{reported:?}");
        assert_eq!(reported[0].0, "malformed.yaml");
        assert!(
            reported[0].1.contains("line 3") && reported[0].1.contains("invalid rule YAML"),
            "{reported:?}"
        );
        assert_eq!(reported[1].0, "stub.yaml");
        assert!(reported[1].1.contains("no `query`"), "{reported:?}");
    }

    #[test]
    fn later_files_with_a_used_id_are_reported() {
        let a = parse_rule(Path::new("x/rule.yaml"), YAML).unwrap();
        let b = parse_rule(Path::new("y/rule.yaml"), YAML).unwrap();
        let c = parse_rule(Path::new("y/other.kql"), "T").unwrap();
        let mut rules = vec![a, b, c];
        let errors = drop_duplicate_ids(&mut rules);
        assert_eq!(rules.len(), 2);
        assert_eq!(errors.len(), 1);
        assert_eq!(errors[0].path, Path::new("y/rule.yaml"));
        assert!(errors[0].message.contains("x/rule.yaml"), "{}", errors[0]);
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
