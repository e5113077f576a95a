//! Logsource mapping: Sigma `category`/`product`/`service` to event log channels and event ids
//! (Sysmon, Security 4688, ...) and to Defender Advanced Hunting tables, with per-source field
//! renames. The built-in mapping is the data file `logsources.yaml`, documented in docs/sigma.md.

use std::collections::BTreeMap;
use std::sync::OnceLock;

use serde::Deserialize;

use crate::rule::LogSource;

/// Where the events of a source come from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SourceKind {
    /// Windows event log channels.
    EventLog,
    /// A Defender Advanced Hunting table (events carry the table name as their channel).
    DefenderTable,
}

/// One piece of a field template.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TemplatePart {
    /// Literal text.
    Text(String),
    /// The value of an event field (empty when absent).
    Field(String),
}

/// How a Sigma field is found in a source's events.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FieldSpec {
    /// An event field of another name.
    Field(String),
    /// A value assembled from several event fields.
    Template(Vec<TemplatePart>),
    /// Values translated from another field: every entry whose list holds the event field's value
    /// (case-insensitive) gives a Sigma value, and with `keep` the event value itself is one too.
    /// A test on the Sigma field holds when it holds for any of these values, as for a repeated
    /// field; none means the field is absent. Sysmon's `Initiated` is `true` for Defender's
    /// outbound `ActionType`s; Sysmon's `IntegrityLevel` is `High` or `S-1-16-12288` for a 4688
    /// `MandatoryLabel` of `S-1-16-12288`.
    Lookup {
        /// The event field read.
        field: String,
        /// (Sigma value, event values that give it).
        values: Vec<(String, Vec<String>)>,
        /// Whether the event value is also a value of the Sigma field.
        keep: bool,
    },
    /// A member of a JSON column, e.g. Sysmon's `QueryName` is `DnsQueryString` in Defender's
    /// `AdditionalFields`. The column's text is parsed as JSON and the member (a path of
    /// property names) read: a string as it is, a number or boolean as its text, an object or
    /// array as its JSON text; a missing or null member, a null column or one that is not JSON
    /// makes the field absent. An event without the column at all (an export row whose JSON
    /// column was flattened into fields by leaf name) gives the member's last name as a field.
    /// With `strip_prefix`, a value starting with it (ASCII case-insensitive) loses it: Defender
    /// names pipes `\Device\NamedPipe\x` where Sysmon writes `\x`.
    Member {
        /// The JSON column.
        column: String,
        /// Property names from the column's root to the member.
        path: Vec<String>,
        /// A prefix removed from the value when present.
        strip_prefix: Option<String>,
    },
}

/// One event source for a logsource.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Source {
    /// Event log or Defender table.
    pub kind: SourceKind,
    /// Channel names (or the table name); empty means any channel.
    pub channels: Vec<String>,
    /// Event ids; empty means any id.
    pub event_ids: Vec<u32>,
    /// Sigma field name → event field. Unlisted fields keep their Sigma name.
    pub fields: BTreeMap<String, FieldSpec>,
    /// Extra conditions on event fields (field → accepted values, case-insensitive).
    pub conditions: BTreeMap<String, Vec<String>>,
}

impl Source {
    /// How the Sigma field `name` is read in this source.
    pub fn field(&self, name: &str) -> FieldSpec {
        self.fields
            .get(name)
            .cloned()
            .unwrap_or_else(|| FieldSpec::Field(name.to_owned()))
    }
}

/// One mapping entry: a logsource pattern and its sources.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogsourceEntry {
    /// `category` (must equal the rule's).
    pub category: Option<String>,
    /// `product` (must equal the rule's when both are set).
    pub product: Option<String>,
    /// `service` (must equal the rule's).
    pub service: Option<String>,
    /// The event sources.
    pub sources: Vec<Source>,
}

impl LogsourceEntry {
    fn matches(&self, ls: &LogSource) -> bool {
        self.category == ls.category
            && self.service == ls.service
            && (self.product.is_none() || ls.product.is_none() || self.product == ls.product)
    }
}

/// The logsource mapping.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogsourceMap {
    /// Entries in file order.
    pub entries: Vec<LogsourceEntry>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct FileDef {
    logsources: Vec<EntryDef>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct EntryDef {
    category: Option<String>,
    product: Option<String>,
    service: Option<String>,
    sources: Vec<SourceDef>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct SourceDef {
    #[serde(default)]
    channels: Vec<String>,
    table: Option<String>,
    #[serde(default)]
    event_ids: Vec<u32>,
    #[serde(default)]
    fields: BTreeMap<String, FieldDef>,
    #[serde(default)]
    conditions: BTreeMap<String, Vec<String>>,
}

/// A field's mapping as written: a name or template, a lookup `{from, values, keep}`, or a
/// JSON member `{json, member, strip_prefix}` (`member` dot-separated for nested properties).
#[derive(Deserialize)]
#[serde(untagged)]
enum FieldDef {
    Spec(String),
    Lookup(LookupDef),
    Member(MemberDef),
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct LookupDef {
    from: String,
    values: BTreeMap<String, Vec<String>>,
    #[serde(default)]
    keep: bool,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct MemberDef {
    json: String,
    member: String,
    strip_prefix: Option<String>,
}

/// Parses `{A}\{B}` into template parts; plain names give `None`.
fn parse_template(spec: &str) -> Result<Option<Vec<TemplatePart>>, String> {
    if !spec.contains('{') {
        return Ok(None);
    }
    let mut parts = Vec::new();
    let mut rest = spec;
    while let Some(open) = rest.find('{') {
        if open > 0 {
            parts.push(TemplatePart::Text(rest[..open].to_owned()));
        }
        let close = rest[open..]
            .find('}')
            .ok_or_else(|| format!("unclosed `{{` in template `{spec}`"))?
            + open;
        let name = &rest[open + 1..close];
        if name.is_empty() {
            return Err(format!("empty field name in template `{spec}`"));
        }
        parts.push(TemplatePart::Field(name.to_owned()));
        rest = &rest[close + 1..];
    }
    if !rest.is_empty() {
        parts.push(TemplatePart::Text(rest.to_owned()));
    }
    Ok(Some(parts))
}

impl LogsourceMap {
    /// The built-in mapping (`src/logsources.yaml`).
    pub fn builtin() -> &'static LogsourceMap {
        static MAP: OnceLock<LogsourceMap> = OnceLock::new();
        MAP.get_or_init(|| {
            // The embedded file is validated by a unit test; an invalid edit yields an empty map.
            LogsourceMap::from_yaml(include_str!("logsources.yaml")).unwrap_or(LogsourceMap { entries: Vec::new() })
        })
    }

    /// Parses a mapping file in the format of `logsources.yaml`.
    pub fn from_yaml(text: &str) -> Result<LogsourceMap, String> {
        let def: FileDef = serde_norway::from_str(text).map_err(|e| e.to_string())?;
        let lower = |o: Option<String>| o.map(|s| s.to_ascii_lowercase());
        let mut entries = Vec::with_capacity(def.logsources.len());
        for e in def.logsources {
            let mut sources = Vec::with_capacity(e.sources.len());
            for s in e.sources {
                let (kind, channels) = match s.table {
                    Some(t) if s.channels.is_empty() => (SourceKind::DefenderTable, vec![t]),
                    Some(_) => return Err("a source has both `table` and `channels`".into()),
                    None => (SourceKind::EventLog, s.channels),
                };
                let mut fields = BTreeMap::new();
                for (sigma, def) in s.fields {
                    let f = match def {
                        FieldDef::Spec(spec) => match parse_template(&spec)? {
                            Some(parts) => FieldSpec::Template(parts),
                            None => FieldSpec::Field(spec),
                        },
                        FieldDef::Lookup(LookupDef { from, values, keep }) => FieldSpec::Lookup {
                            field: from,
                            values: values.into_iter().collect(),
                            keep,
                        },
                        FieldDef::Member(MemberDef {
                            json,
                            member,
                            strip_prefix,
                        }) => {
                            let path: Vec<String> = member.split('.').map(str::to_owned).collect();
                            if json.is_empty() || path.iter().any(String::is_empty) {
                                return Err(format!("field `{sigma}`: empty JSON column or member name"));
                            }
                            if !strip_prefix.as_deref().is_none_or(|p| p.is_ascii() && !p.is_empty()) {
                                return Err(format!("field `{sigma}`: `strip_prefix` must be non-empty ASCII"));
                            }
                            FieldSpec::Member {
                                column: json,
                                path,
                                strip_prefix,
                            }
                        }
                    };
                    fields.insert(sigma, f);
                }
                sources.push(Source {
                    kind,
                    channels,
                    event_ids: s.event_ids,
                    fields,
                    conditions: s.conditions,
                });
            }
            entries.push(LogsourceEntry {
                category: lower(e.category),
                product: lower(e.product),
                service: lower(e.service),
                sources,
            });
        }
        Ok(LogsourceMap { entries })
    }

    /// Every source the logsource maps to (empty when unmapped).
    pub fn sources_for(&self, ls: &LogSource) -> Vec<&Source> {
        self.entries
            .iter()
            .filter(|e| e.matches(ls))
            .flat_map(|e| e.sources.iter())
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ls(category: Option<&str>, product: Option<&str>, service: Option<&str>) -> LogSource {
        LogSource {
            category: category.map(str::to_owned),
            product: product.map(str::to_owned),
            service: service.map(str::to_owned),
        }
    }

    #[test]
    fn builtin_mapping_parses() {
        let parsed = LogsourceMap::from_yaml(include_str!("logsources.yaml"));
        assert!(parsed.is_ok(), "{parsed:?}");
        assert!(LogsourceMap::builtin().entries.len() > 80);
    }

    #[test]
    fn process_creation_is_sysmon_1_security_4688_and_defender() {
        let m = LogsourceMap::builtin();
        let s = m.sources_for(&ls(Some("process_creation"), Some("windows"), None));
        assert_eq!(s.len(), 3);
        assert_eq!(
            (s[0].channels[0].as_str(), s[0].event_ids.as_slice()),
            ("Microsoft-Windows-Sysmon/Operational", &[1][..])
        );
        assert_eq!(
            (s[1].channels[0].as_str(), s[1].event_ids.as_slice()),
            ("Security", &[4688][..])
        );
        assert_eq!(s[1].field("Image"), FieldSpec::Field("NewProcessName".into()));
        assert_eq!(s[1].field("ParentImage"), FieldSpec::Field("ParentProcessName".into()));
        assert_eq!(s[1].field("CommandLine"), FieldSpec::Field("CommandLine".into()));
        assert_eq!(
            s[1].field("User"),
            FieldSpec::Template(vec![
                TemplatePart::Field("SubjectDomainName".into()),
                TemplatePart::Text("\\".into()),
                TemplatePart::Field("SubjectUserName".into()),
            ])
        );
        assert_eq!(s[2].kind, SourceKind::DefenderTable);
        assert_eq!(s[2].channels, ["DeviceProcessEvents"]);
        assert_eq!(s[2].field("Image"), FieldSpec::Field("FolderPath".into()));
        // without product, still mapped
        assert_eq!(m.sources_for(&ls(Some("process_creation"), None, None)).len(), 4);
    }

    #[test]
    fn categories_and_services() {
        let m = LogsourceMap::builtin();
        let ids = |c: &str| -> Vec<u32> {
            m.sources_for(&ls(Some(c), Some("windows"), None))
                .iter()
                .flat_map(|s| s.event_ids.clone())
                .collect()
        };
        assert_eq!(ids("network_connection"), [3]);
        assert_eq!(ids("dns_query"), [22]);
        assert_eq!(ids("file_event"), [11]);
        assert_eq!(ids("registry_event"), [12, 13, 14]);
        assert_eq!(ids("registry_set"), [13]);
        assert_eq!(ids("image_load"), [7]);
        assert_eq!(ids("process_access"), [10]);
        assert_eq!(ids("driver_load"), [6]);
        assert_eq!(ids("pipe_created"), [17, 18]);
        assert_eq!(ids("wmi_event"), [19, 20, 21]);
        assert_eq!(ids("ps_script"), [4104]);
        let svc = |s: &str| m.sources_for(&ls(None, Some("windows"), Some(s)))[0].channels.clone();
        assert_eq!(svc("security"), ["Security"]);
        assert_eq!(svc("system"), ["System"]);
        assert_eq!(svc("sysmon"), ["Microsoft-Windows-Sysmon/Operational"]);
        assert_eq!(
            svc("powershell"),
            ["Microsoft-Windows-PowerShell/Operational", "PowerShellCore/Operational"]
        );
        // product only: any channel
        let any = m.sources_for(&ls(None, Some("windows"), None));
        assert_eq!(any.len(), 1);
        assert!(any[0].channels.is_empty() && any[0].event_ids.is_empty());
        // unmapped
        assert!(m.sources_for(&ls(Some("webserver"), None, None)).is_empty());
        assert!(
            m.sources_for(&ls(Some("process_creation"), Some("macos"), None))
                .is_empty()
        );
    }

    #[test]
    fn template_errors() {
        assert!(parse_template("{A").is_err());
        assert!(parse_template("{}").is_err());
        assert_eq!(parse_template("plain"), Ok(None));
        assert_eq!(
            parse_template("x{A}y"),
            Ok(Some(vec![
                TemplatePart::Text("x".into()),
                TemplatePart::Field("A".into()),
                TemplatePart::Text("y".into())
            ]))
        );
        assert!(LogsourceMap::from_yaml("logsources: [{sources: [{table: T, channels: [C]}]}]").is_err());
    }

    #[test]
    fn json_members() {
        let m = LogsourceMap::builtin();
        let dns = m.sources_for(&ls(Some("dns_query"), Some("windows"), None));
        assert_eq!(dns.len(), 2);
        assert_eq!(
            (dns[1].kind, dns[1].channels.as_slice()),
            (SourceKind::DefenderTable, &["DeviceEvents".to_string()][..])
        );
        assert_eq!(
            dns[1].field("QueryName"),
            FieldSpec::Member {
                column: "AdditionalFields".into(),
                path: vec!["DnsQueryString".into()],
                strip_prefix: None
            }
        );
        let parsed = LogsourceMap::from_yaml(
            "logsources: [{category: c, sources: [{table: T, fields: {A: {json: J, member: x.y, strip_prefix: p}}}]}]",
        )
        .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(
            parsed.entries[0].sources[0].field("A"),
            FieldSpec::Member {
                column: "J".into(),
                path: vec!["x".into(), "y".into()],
                strip_prefix: Some("p".into())
            }
        );
        for bad in [
            "{json: J, member: 'x..y'}",
            "{json: '', member: x}",
            "{json: J, member: x, other: 1}",
        ] {
            let y = format!("logsources: [{{category: c, sources: [{{table: T, fields: {{A: {bad}}}}}]}}]");
            assert!(LogsourceMap::from_yaml(&y).is_err(), "{bad}");
        }
    }
}
