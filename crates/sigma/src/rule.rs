//! Sigma detection rules: the parsed rule model (logsource, search identifiers, conditions) and
//! its construction from a YAML document.

use std::fmt;
use std::path::{Path, PathBuf};

use serde_norway::{Mapping, Value as Yaml};

use crate::condition::{Condition, OfTarget, resolve_target};
use crate::error::{ErrorKind, FieldError, FieldResult, Unsupported};
use crate::modifier::{FieldMatch, ParseOptions, field_match, parse_key};
use crate::yaml::{join, key_text, opt_text, opt_text_list, req_map, req_text, type_error};

/// The `logsource` section.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash)]
pub struct LogSource {
    /// e.g. `process_creation`.
    pub category: Option<String>,
    /// e.g. `windows`.
    pub product: Option<String>,
    /// e.g. `security`.
    pub service: Option<String>,
}

impl LogSource {
    pub(crate) fn parse(m: &Mapping, path: &str) -> FieldResult<LogSource> {
        let lower = |o: Option<String>| o.map(|s| s.to_ascii_lowercase());
        Ok(LogSource {
            category: lower(opt_text(m, "category", path)?),
            product: lower(opt_text(m, "product", path)?),
            service: lower(opt_text(m, "service", path)?),
        })
    }

    /// True when every attribute set in `self` has the same value in `other`
    /// (used for filters: a filter's logsource must cover the rule's).
    pub fn covers(&self, other: &LogSource) -> bool {
        let ok = |a: &Option<String>, b: &Option<String>| a.is_none() || a == b;
        ok(&self.category, &other.category) && ok(&self.product, &other.product) && ok(&self.service, &other.service)
    }
}

impl fmt::Display for LogSource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut parts = Vec::new();
        for (k, v) in [
            ("product", &self.product),
            ("category", &self.category),
            ("service", &self.service),
        ] {
            if let Some(v) = v {
                parts.push(format!("{k}:{v}"));
            }
        }
        if parts.is_empty() {
            f.write_str("(empty)")
        } else {
            f.write_str(&parts.join(","))
        }
    }
}

/// The value of a search identifier.
#[derive(Debug, Clone, PartialEq)]
pub enum Search {
    /// A map: every item must match (AND). Keyword items have `field: None`.
    Map(Vec<FieldMatch>),
    /// A list of maps (or keyword groups): any element must match (OR).
    List(Vec<Search>),
}

/// A named search identifier.
#[derive(Debug, Clone, PartialEq)]
pub struct SearchDef {
    /// The identifier, e.g. `selection_img`.
    pub name: String,
    /// Its definition.
    pub search: Search,
}

/// The `detection` section: search identifiers and the condition(s).
#[derive(Debug, Clone, PartialEq)]
pub struct Detection {
    /// Search identifiers in definition order.
    pub searches: Vec<SearchDef>,
    /// Conditions; a list of conditions is linked with OR.
    pub conditions: Vec<Condition>,
}

impl Detection {
    /// Index of a search identifier.
    pub fn search_index(&self, name: &str) -> Option<usize> {
        self.searches.iter().position(|s| s.name == name)
    }

    /// Parses a detection-like mapping; `skip` lists keys that are not search identifiers.
    pub(crate) fn parse(m: &Mapping, path: &str, skip: &[&str], opts: &ParseOptions) -> FieldResult<Detection> {
        let mut searches = Vec::new();
        let mut conditions = Vec::new();
        for (k, v) in m {
            let key = key_text(k, path)?;
            let p = join(path, &key);
            match key.as_str() {
                "condition" => conditions = parse_conditions(v, &p)?,
                "timeframe" => return Err(FieldError::new(p, ErrorKind::Unsupported(Unsupported::Timeframe))),
                k if skip.contains(&k) => {}
                _ => {
                    let search = parse_search(v, &p, opts, 0)?;
                    searches.push(SearchDef { name: key, search });
                }
            }
        }
        if conditions.is_empty() {
            return Err(FieldError::new(join(path, "condition"), ErrorKind::Missing));
        }
        if searches.is_empty() {
            return Err(FieldError::new(path, ErrorKind::Value("no search identifiers".into())));
        }
        let det = Detection { searches, conditions };
        det.check_references(&join(path, "condition"))?;
        Ok(det)
    }

    fn check_references(&self, path: &str) -> FieldResult<()> {
        let names: Vec<&str> = self.searches.iter().map(|s| s.name.as_str()).collect();
        let mut err = None;
        for c in &self.conditions {
            c.visit(&mut |node| {
                if err.is_some() {
                    return;
                }
                match node {
                    Condition::Ident(n) if !names.contains(&n.as_str()) => {
                        err = Some(ErrorKind::UndefinedIdentifier(n.clone()));
                    }
                    Condition::Of(_, t) if resolve_target(t, names.iter().copied()).is_empty() => {
                        let what = match t {
                            OfTarget::Them => "them".to_owned(),
                            OfTarget::Pattern(p) => p.clone(),
                        };
                        err = Some(ErrorKind::UndefinedIdentifier(what));
                    }
                    _ => {}
                }
            });
        }
        match err {
            Some(kind) => Err(FieldError::new(path, kind)),
            None => Ok(()),
        }
    }
}

fn parse_conditions(v: &Yaml, path: &str) -> FieldResult<Vec<Condition>> {
    let texts: Vec<(String, &Yaml)> = match v {
        Yaml::Sequence(items) => items
            .iter()
            .enumerate()
            .map(|(i, c)| (format!("{path}[{i}]"), c))
            .collect(),
        c => vec![(path.to_owned(), c)],
    };
    if texts.is_empty() {
        return Err(FieldError::new(
            path,
            ErrorKind::Condition("empty list of conditions".into()),
        ));
    }
    texts
        .into_iter()
        .map(|(p, c)| match c {
            Yaml::String(s) => Condition::parse(s).map_err(|k| FieldError::new(p, k)),
            other => Err(type_error(&p, "string", other)),
        })
        .collect()
}

/// Nesting limit for lists inside lists in search identifiers.
const MAX_SEARCH_DEPTH: usize = 8;

fn parse_search(v: &Yaml, path: &str, opts: &ParseOptions, depth: usize) -> FieldResult<Search> {
    match v {
        Yaml::Mapping(m) => parse_map(m, path, opts).map(Search::Map),
        Yaml::Sequence(items) if items.is_empty() => {
            Err(FieldError::new(path, ErrorKind::Value("empty search".into())))
        }
        Yaml::Sequence(items) => {
            if items.iter().all(|i| !matches!(i, Yaml::Mapping(_) | Yaml::Sequence(_))) {
                // A plain list: keyword search, values linked by OR.
                let f = field_match(None, Vec::new(), v, path, opts)?;
                return Ok(Search::Map(vec![f]));
            }
            if depth >= MAX_SEARCH_DEPTH {
                return Err(FieldError::new(
                    path,
                    ErrorKind::Value("search lists nested too deeply".into()),
                ));
            }
            let mut alts = Vec::with_capacity(items.len());
            for (i, item) in items.iter().enumerate() {
                let p = format!("{path}[{i}]");
                alts.push(match item {
                    Yaml::Mapping(_) | Yaml::Sequence(_) => parse_search(item, &p, opts, depth + 1)?,
                    scalar => Search::Map(vec![field_match(None, Vec::new(), scalar, &p, opts)?]),
                });
            }
            Ok(Search::List(alts))
        }
        Yaml::String(_) | Yaml::Number(_) | Yaml::Bool(_) => {
            Ok(Search::Map(vec![field_match(None, Vec::new(), v, path, opts)?]))
        }
        other => Err(type_error(path, "map or list", other)),
    }
}

fn parse_map(m: &Mapping, path: &str, opts: &ParseOptions) -> FieldResult<Vec<FieldMatch>> {
    if m.is_empty() {
        return Err(FieldError::new(path, ErrorKind::Value("empty search map".into())));
    }
    let mut out = Vec::with_capacity(m.len());
    for (k, v) in m {
        let key = key_text(k, path)?;
        let p = join(path, &key);
        let (field, mods) = parse_key(&key, &p)?;
        if let Yaml::Mapping(_) = v {
            return Err(type_error(&p, "value or list of values", v));
        }
        out.push(field_match(field, mods, v, &p, opts)?);
    }
    Ok(out)
}

/// A Sigma detection rule.
#[derive(Debug, Clone, PartialEq)]
pub struct SigmaRule {
    /// `title` (mandatory).
    pub title: String,
    /// `id`, usually a UUID.
    pub id: Option<String>,
    /// `name`, a unique human-readable reference for correlations.
    pub name: Option<String>,
    /// `status`.
    pub status: Option<String>,
    /// `level`.
    pub level: Option<String>,
    /// `description`.
    pub description: Option<String>,
    /// `author`.
    pub author: Option<String>,
    /// `tags`.
    pub tags: Vec<String>,
    /// `references`.
    pub references: Vec<String>,
    /// `falsepositives`.
    pub falsepositives: Vec<String>,
    /// `fields`: fields of interest for analysts.
    pub fields: Vec<String>,
    /// `date`.
    pub date: Option<String>,
    /// `modified`.
    pub modified: Option<String>,
    /// `logsource`.
    pub logsource: LogSource,
    /// `detection`.
    pub detection: Detection,
    /// The file the rule was read from.
    pub path: PathBuf,
}

impl SigmaRule {
    /// The id if present, otherwise the name, otherwise the title: how the rule is referred to.
    pub fn reference(&self) -> &str {
        self.id.as_deref().or(self.name.as_deref()).unwrap_or(&self.title)
    }
}

/// Attributes common to rules, correlations and filters.
pub(crate) struct Header {
    pub title: String,
    pub id: Option<String>,
    pub name: Option<String>,
    pub status: Option<String>,
    pub level: Option<String>,
    pub description: Option<String>,
    pub author: Option<String>,
    pub tags: Vec<String>,
    pub references: Vec<String>,
    pub falsepositives: Vec<String>,
    pub date: Option<String>,
    pub modified: Option<String>,
}

impl Header {
    pub(crate) fn parse(m: &Mapping) -> FieldResult<Header> {
        if let Some(t) = opt_text(m, "taxonomy", "")?
            && !t.eq_ignore_ascii_case("sigma")
        {
            return Err(FieldError::new(
                "taxonomy",
                ErrorKind::Unsupported(Unsupported::Taxonomy(t)),
            ));
        }
        Ok(Header {
            title: req_text(m, "title", "")?,
            id: opt_text(m, "id", "")?,
            name: opt_text(m, "name", "")?,
            status: opt_text(m, "status", "")?,
            level: opt_text(m, "level", "")?,
            description: opt_text(m, "description", "")?,
            author: opt_text(m, "author", "")?,
            tags: opt_text_list(m, "tags", "")?,
            references: opt_text_list(m, "references", "")?,
            falsepositives: opt_text_list(m, "falsepositives", "")?,
            date: opt_text(m, "date", "")?,
            modified: opt_text(m, "modified", "")?,
        })
    }
}

pub(crate) fn parse_logsource(m: &Mapping) -> FieldResult<LogSource> {
    LogSource::parse(req_map(m, "logsource", "")?, "logsource")
}

impl SigmaRule {
    pub(crate) fn from_mapping(m: &Mapping, path: &Path, opts: &ParseOptions) -> FieldResult<SigmaRule> {
        let h = Header::parse(m)?;
        let logsource = parse_logsource(m)?;
        let detection = Detection::parse(req_map(m, "detection", "")?, "detection", &[], opts)?;
        Ok(SigmaRule {
            title: h.title,
            id: h.id,
            name: h.name,
            status: h.status,
            level: h.level,
            description: h.description,
            author: h.author,
            tags: h.tags,
            references: h.references,
            falsepositives: h.falsepositives,
            fields: opt_text_list(m, "fields", "")?,
            date: h.date,
            modified: h.modified,
            logsource,
            detection,
            path: path.to_owned(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::modifier::Value;

    fn rule(yaml: &str) -> FieldResult<SigmaRule> {
        let v: Yaml = serde_norway::from_str(yaml).unwrap_or(Yaml::Null);
        let Yaml::Mapping(m) = v else { panic!("not a map") };
        SigmaRule::from_mapping(&m, Path::new("t.yml"), &ParseOptions::default())
    }

    const BASE: &str = "title: t\nlogsource: {category: process_creation, product: windows}\n";

    #[test]
    fn parses_maps_lists_and_keywords() {
        let r = rule(&format!(
            "{BASE}detection:\n  sel:\n    Image|endswith: '\\x.exe'\n    CommandLine: ['a', 'b']\n  alt:\n    - Image: x\n    - Description: y\n  keywords:\n    - evil\n    - bad\n  condition: sel or alt or keywords\n"
        ))
        .unwrap_or_else(|e| panic!("{e:?}"));
        assert_eq!(r.detection.searches.len(), 3);
        let Search::Map(items) = &r.detection.searches[0].search else {
            panic!("map")
        };
        assert_eq!(items.len(), 2);
        assert_eq!(items[1].values.len(), 2);
        assert!(matches!(&r.detection.searches[1].search, Search::List(l) if l.len() == 2));
        let Search::Map(kw) = &r.detection.searches[2].search else {
            panic!("keywords")
        };
        assert_eq!(kw[0].field, None);
        // keywords get an implicit contains
        assert!(matches!(&kw[0].values[0], Value::Pattern(p) if p.to_string() == "*evil*"));
        assert_eq!(r.logsource.category.as_deref(), Some("process_creation"));
    }

    #[test]
    fn keyword_all_modifier() {
        let r = rule(&format!(
            "{BASE}detection:\n  keywords_cmdlet:\n    '|all':\n      - 'OabVirtualDirectory'\n      - ' -ExternalUrl '\n  condition: keywords_cmdlet\n"
        ))
        .unwrap_or_else(|e| panic!("{e:?}"));
        let Search::Map(kw) = &r.detection.searches[0].search else {
            panic!("map")
        };
        assert!(kw[0].all && kw[0].field.is_none());
    }

    #[test]
    fn errors_name_the_field() {
        let e = rule(&format!(
            "{BASE}detection:\n  selection:\n    CommandLine|foo: x\n  condition: selection\n"
        ))
        .err()
        .unwrap_or_else(|| panic!("error expected"));
        assert_eq!(e.field, "detection.selection.CommandLine|foo");
        assert_eq!(e.kind, ErrorKind::UnknownModifier("foo".into()));

        let e = rule(&format!(
            "{BASE}detection:\n  selection:\n    a: x\n  condition: selection and filter\n"
        ))
        .err();
        assert_eq!(
            e.map(|e| (e.field, e.kind)),
            Some((
                "detection.condition".into(),
                ErrorKind::UndefinedIdentifier("filter".into())
            ))
        );

        let e = rule(&format!(
            "{BASE}detection:\n  selection:\n    a: x\n  condition: 1 of filter_*\n"
        ))
        .err();
        assert!(matches!(e.map(|e| e.kind), Some(ErrorKind::UndefinedIdentifier(_))));

        let e = rule("logsource: {product: windows}\ndetection: {s: {a: x}, condition: s}\n").err();
        assert_eq!(e.map(|e| (e.field, e.kind)), Some(("title".into(), ErrorKind::Missing)));

        let e = rule(&format!("{BASE}detection:\n  selection:\n    a: x\n")).err();
        assert_eq!(
            e.map(|e| (e.field, e.kind)),
            Some(("detection.condition".into(), ErrorKind::Missing))
        );

        let e = rule(&format!(
            "{BASE}detection:\n  selection:\n    a: {{b: c}}\n  condition: selection\n"
        ))
        .err();
        assert!(matches!(e.map(|e| e.kind), Some(ErrorKind::Type { .. })));
    }

    #[test]
    fn rejects_legacy_and_taxonomy() {
        let e = rule(&format!(
            "{BASE}detection:\n  s: {{a: x}}\n  timeframe: 5m\n  condition: s | count() > 5\n"
        ))
        .err();
        assert_eq!(e.map(|e| e.kind), Some(ErrorKind::Unsupported(Unsupported::Timeframe)));
        let e = rule(&format!(
            "{BASE}taxonomy: ocsf\ndetection:\n  s: {{a: x}}\n  condition: s\n"
        ))
        .err();
        assert!(matches!(
            e.map(|e| e.kind),
            Some(ErrorKind::Unsupported(Unsupported::Taxonomy(_)))
        ));
    }

    #[test]
    fn condition_list_is_or() {
        let r = rule(&format!(
            "{BASE}detection:\n  a: {{x: 1}}\n  b: {{y: 2}}\n  condition: [a, b]\n"
        ))
        .unwrap_or_else(|e| panic!("{e:?}"));
        assert_eq!(r.detection.conditions.len(), 2);
    }

    #[test]
    fn logsource_covers() {
        let f = LogSource {
            category: Some("process_creation".into()),
            product: Some("windows".into()),
            service: None,
        };
        let r = f.clone();
        assert!(f.covers(&r));
        let other = LogSource {
            category: Some("file_event".into()),
            ..f.clone()
        };
        assert!(!f.covers(&other));
        assert!(LogSource::default().covers(&other));
    }
}
