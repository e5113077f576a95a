//! Loading Sigma files: multi-document YAML into rules, correlations and filters, collected in a
//! [`RuleSet`] that records every rejected document with its reason.

use std::path::{Path, PathBuf};

use serde::Deserialize;
use serde_norway::Value as Yaml;

use crate::correlation::CorrelationRule;
use crate::error::{ErrorKind, SigmaError, Unsupported};
use crate::filter::FilterRule;
use crate::modifier::ParseOptions;
use crate::rule::SigmaRule;

/// One YAML document of a Sigma file.
#[derive(Debug, Clone, PartialEq)]
pub enum Document {
    /// A detection rule.
    Rule(SigmaRule),
    /// A correlation rule.
    Correlation(CorrelationRule),
    /// A filter rule.
    Filter(FilterRule),
}

/// Parses every document of `text`; `path` names the file in errors.
///
/// A YAML syntax error ends the stream (later documents cannot be located reliably).
pub fn parse_documents(text: &str, path: &Path, opts: &ParseOptions) -> Vec<Result<Document, SigmaError>> {
    let mut out = Vec::new();
    for (index, de) in serde_norway::Deserializer::from_str(text).enumerate() {
        let doc = match Yaml::deserialize(de) {
            Ok(v) => v,
            Err(e) => {
                out.push(Err(SigmaError {
                    file: path.to_owned(),
                    document: index,
                    field: String::new(),
                    kind: ErrorKind::Yaml(e.to_string()),
                }));
                break;
            }
        };
        if matches!(doc, Yaml::Null) {
            continue; // empty document, e.g. a trailing `---`
        }
        out.push(parse_document(&doc, path, opts).map_err(|mut e| {
            e.document = index;
            e
        }));
    }
    out
}

fn parse_document(doc: &Yaml, path: &Path, opts: &ParseOptions) -> Result<Document, SigmaError> {
    let err = |field: &str, kind| SigmaError::new(path, field, kind);
    let Yaml::Mapping(m) = doc else {
        return Err(err(
            "",
            ErrorKind::Type {
                expected: "map",
                found: crate::yaml::type_name(doc),
            },
        ));
    };
    if let Some(a) = m.get("action") {
        let a = crate::yaml::scalar_text(a).unwrap_or_default();
        return Err(err("action", ErrorKind::Unsupported(Unsupported::CollectionAction(a))));
    }
    let wrap = |r: Result<Document, crate::error::FieldError>| r.map_err(|e| err(&e.field, e.kind));
    if m.contains_key("correlation") {
        wrap(CorrelationRule::from_mapping(m, path).map(Document::Correlation))
    } else if m.contains_key("filter") && !m.contains_key("detection") {
        wrap(FilterRule::from_mapping(m, path, opts).map(Document::Filter))
    } else if m.contains_key("detection") {
        wrap(SigmaRule::from_mapping(m, path, opts).map(Document::Rule))
    } else {
        Err(err("", ErrorKind::NotARule))
    }
}

/// A collection of loaded rules, correlations and filters, plus the rejected documents.
#[derive(Debug, Clone, Default)]
pub struct RuleSet {
    options: ParseOptions,
    rules: Vec<SigmaRule>,
    correlations: Vec<CorrelationRule>,
    filters: Vec<FilterRule>,
    rejected: Vec<SigmaError>,
    files: usize,
}

impl RuleSet {
    /// An empty set with default options.
    pub fn new() -> RuleSet {
        RuleSet::default()
    }

    /// An empty set with the given parse options (placeholders).
    pub fn with_options(options: ParseOptions) -> RuleSet {
        RuleSet {
            options,
            ..RuleSet::default()
        }
    }

    /// Adds every document of `text` (read from `path`); returns how many were accepted.
    pub fn add_text(&mut self, text: &str, path: impl AsRef<Path>) -> usize {
        self.files += 1;
        let mut accepted = 0;
        for doc in parse_documents(text, path.as_ref(), &self.options) {
            match doc.and_then(|d| self.add_document(d)) {
                Ok(()) => accepted += 1,
                Err(e) => self.rejected.push(e),
            }
        }
        accepted
    }

    /// Reads and adds one file (at most [`MAX_RULE_FILE_BYTES`]: rule files come from
    /// others); returns how many documents were accepted.
    pub fn add_file(&mut self, path: impl AsRef<Path>) -> usize {
        let path = path.as_ref();
        match read_bounded(path) {
            Ok(text) => self.add_text(&text, path),
            Err(e) => {
                self.files += 1;
                self.rejected
                    .push(SigmaError::new(path, "", ErrorKind::Io(e.to_string())));
                0
            }
        }
    }

    /// Adds every `*.yml` / `*.yaml` file below `dir` (sorted); returns how many documents were accepted.
    pub fn add_dir(&mut self, dir: impl AsRef<Path>) -> usize {
        let mut files: Vec<PathBuf> = Vec::new();
        for entry in walkdir::WalkDir::new(dir.as_ref()).follow_links(true) {
            match entry {
                Ok(e) if e.file_type().is_file() => {
                    let p = e.into_path();
                    if p.extension().is_some_and(|x| x == "yml" || x == "yaml") {
                        files.push(p);
                    }
                }
                Ok(_) => {}
                Err(e) => {
                    let p = e.path().map(Path::to_owned).unwrap_or_else(|| dir.as_ref().to_owned());
                    self.rejected.push(SigmaError::new(p, "", ErrorKind::Io(e.to_string())));
                }
            }
        }
        files.sort();
        files.iter().map(|f| self.add_file(f)).sum()
    }

    /// Adds a parsed document, rejecting duplicate ids and names.
    pub fn add_document(&mut self, doc: Document) -> Result<(), SigmaError> {
        let (id, name, path) = match &doc {
            Document::Rule(r) => (r.id.clone(), r.name.clone(), r.path.clone()),
            Document::Correlation(c) => (c.id.clone(), c.name.clone(), c.path.clone()),
            Document::Filter(f) => (f.id.clone(), None, f.path.clone()),
        };
        let taken = |s: &str| {
            self.rules
                .iter()
                .any(|r| r.id.as_deref() == Some(s) || r.name.as_deref() == Some(s))
                || self
                    .correlations
                    .iter()
                    .any(|c| c.id.as_deref() == Some(s) || c.name.as_deref() == Some(s))
                || self.filters.iter().any(|f| f.id.as_deref() == Some(s))
        };
        for (field, key) in [("id", &id), ("name", &name)] {
            if let Some(k) = key
                && taken(k)
            {
                return Err(SigmaError::new(path, field, ErrorKind::Duplicate(k.clone())));
            }
        }
        match doc {
            Document::Rule(r) => self.rules.push(r),
            Document::Correlation(c) => self.correlations.push(c),
            Document::Filter(f) => self.filters.push(f),
        }
        Ok(())
    }

    /// Detection rules, in load order.
    pub fn rules(&self) -> &[SigmaRule] {
        &self.rules
    }

    /// Correlation rules.
    pub fn correlations(&self) -> &[CorrelationRule] {
        &self.correlations
    }

    /// Filter rules.
    pub fn filters(&self) -> &[FilterRule] {
        &self.filters
    }

    /// Documents that could not be loaded, with file, field and reason.
    pub fn rejected(&self) -> &[SigmaError] {
        &self.rejected
    }

    /// Number of files (or texts) added.
    pub fn files(&self) -> usize {
        self.files
    }
}

/// Largest Sigma file read: a rule is a few KiB, a collection file a few MiB.
pub const MAX_RULE_FILE_BYTES: u64 = 16 << 20;

/// Reads a rule file as text, refusing files larger than [`MAX_RULE_FILE_BYTES`].
fn read_bounded(path: &Path) -> std::io::Result<String> {
    use std::io::Read;
    let file = std::fs::File::open(path)?;
    let mut bytes = Vec::new();
    file.take(MAX_RULE_FILE_BYTES + 1).read_to_end(&mut bytes)?;
    if bytes.len() as u64 > MAX_RULE_FILE_BYTES {
        return Err(std::io::Error::other(format!(
            "larger than {} MiB: not read",
            MAX_RULE_FILE_BYTES >> 20
        )));
    }
    String::from_utf8(bytes).map_err(|e| std::io::Error::new(std::io::ErrorKind::InvalidData, e))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn multi_document_correlation_file() {
        let text = "title: Many failed\nname: many_failed\ncorrelation:\n  type: event_count\n  rules: [failed_login]\n  group-by: [User]\n  timespan: 10m\n  condition: {gte: 10}\n---\ntitle: Failed login\nname: failed_login\nlogsource: {product: windows, service: security}\ndetection:\n  selection: {EventID: [529, 4625]}\n  condition: selection\n---\n";
        let mut set = RuleSet::new();
        assert_eq!(set.add_text(text, "mr.yml"), 2);
        assert_eq!(set.rules().len(), 1);
        assert_eq!(set.correlations().len(), 1);
        assert!(set.rejected().is_empty());
    }

    #[test]
    fn rejections_carry_document_index_and_reason() {
        let text = "title: ok\nlogsource: {product: windows}\ndetection: {s: {a: b}, condition: s}\n---\ntitle: bad\nlogsource: {product: windows}\ndetection: {s: {a|nope: b}, condition: s}\n";
        let mut set = RuleSet::new();
        assert_eq!(set.add_text(text, "x.yml"), 1);
        let e = &set.rejected()[0];
        assert_eq!(e.document, 1);
        assert_eq!(e.field, "detection.s.a|nope");
        assert_eq!(
            e.to_string(),
            "x.yml (document 2): detection.s.a|nope: unknown modifier `nope`"
        );
    }

    #[test]
    fn yaml_errors_and_non_rules() {
        let mut set = RuleSet::new();
        assert_eq!(set.add_text("title: [unclosed", "a.yml"), 0);
        assert!(matches!(set.rejected()[0].kind, ErrorKind::Yaml(_)));
        assert_eq!(set.add_text("just: a map", "b.yml"), 0);
        assert_eq!(set.rejected()[1].kind, ErrorKind::NotARule);
        assert_eq!(set.add_text("- a list", "c.yml"), 0);
        assert_eq!(set.add_text("action: global\ntitle: x\n", "d.yml"), 0);
        assert_eq!(set.rejected()[3].kind.reason(), "unsupported: collection action");
        assert_eq!(set.add_text("", "e.yml"), 0);
        assert_eq!(set.rejected().len(), 4);
    }

    #[test]
    fn duplicate_ids_rejected() {
        let r = "title: a\nid: 11111111-1111-1111-1111-111111111111\nlogsource: {product: windows}\ndetection: {s: {a: b}, condition: s}\n";
        let mut set = RuleSet::new();
        assert_eq!(set.add_text(r, "a.yml"), 1);
        assert_eq!(set.add_text(r, "b.yml"), 0);
        assert!(matches!(set.rejected()[0].kind, ErrorKind::Duplicate(_)));
    }

    #[test]
    fn missing_file_is_reported() {
        let mut set = RuleSet::new();
        assert_eq!(set.add_file("/nonexistent/rule.yml"), 0);
        assert!(matches!(set.rejected()[0].kind, ErrorKind::Io(_)));
    }
}
