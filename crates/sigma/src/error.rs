//! Error types: every rule error names the rule file, the YAML field path and what is wrong.

use std::fmt;
use std::path::PathBuf;

/// A Sigma construct that this crate recognises but deliberately does not implement.
///
/// Rules using one of these are rejected by name rather than silently mis-evaluated.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Unsupported {
    /// Sigma 1.x aggregation in the condition (`selection | count() by X > 5`).
    LegacyAggregation,
    /// Sigma 1.x `near` temporal operator in the condition.
    NearOperator,
    /// Sigma 1.x `timeframe` detection attribute (only meaningful with aggregations).
    Timeframe,
    /// Sigma 1.x multi-document collections (`action: global` / `reset` / `repeat`).
    CollectionAction(String),
    /// A rule `taxonomy` other than the default `sigma`.
    Taxonomy(String),
    /// A `%placeholder%` used with `expand` for which no values were configured.
    Placeholder(String),
    /// A correlation type this engine does not evaluate (`value_percentile`).
    CorrelationType(String),
    /// `windash` followed by an encoding modifier (the dash variants cannot be encoded).
    WindashEncoding,
    /// An encoding modifier applied to a value containing wildcards.
    EncodingWildcards,
}

impl Unsupported {
    /// Short stable name used when grouping rejections.
    pub fn name(&self) -> &'static str {
        match self {
            Unsupported::LegacyAggregation => "legacy aggregation",
            Unsupported::NearOperator => "near operator",
            Unsupported::Timeframe => "timeframe",
            Unsupported::CollectionAction(_) => "collection action",
            Unsupported::Taxonomy(_) => "taxonomy",
            Unsupported::Placeholder(_) => "placeholder",
            Unsupported::CorrelationType(_) => "correlation type",
            Unsupported::WindashEncoding => "windash with encoding",
            Unsupported::EncodingWildcards => "encoding of wildcards",
        }
    }
}

impl fmt::Display for Unsupported {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Unsupported::LegacyAggregation => {
                f.write_str("Sigma 1.x aggregation (`| count() ...`) in the condition; use a correlation rule")
            }
            Unsupported::NearOperator => f.write_str("Sigma 1.x `near` operator; use a temporal correlation rule"),
            Unsupported::Timeframe => f.write_str("Sigma 1.x `timeframe`; use a correlation rule with `timespan`"),
            Unsupported::CollectionAction(a) => write!(f, "Sigma 1.x rule collection `action: {a}`"),
            Unsupported::Taxonomy(t) => write!(f, "taxonomy `{t}` (only `sigma` is supported)"),
            Unsupported::Placeholder(p) => write!(f, "placeholder `%{p}%` has no configured values"),
            Unsupported::CorrelationType(t) => write!(f, "correlation type `{t}`"),
            Unsupported::WindashEncoding => f.write_str("`windash` followed by an encoding modifier"),
            Unsupported::EncodingWildcards => f.write_str("encoding modifier applied to a value with wildcards"),
        }
    }
}

/// What went wrong, independent of where.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ErrorKind {
    /// The file could not be read.
    #[error("cannot read file: {0}")]
    Io(String),
    /// The YAML text is malformed.
    #[error("invalid YAML: {0}")]
    Yaml(String),
    /// The document is none of rule, correlation or filter.
    #[error("not a Sigma rule: no `detection`, `correlation` or `filter` section")]
    NotARule,
    /// A mandatory attribute is missing.
    #[error("missing mandatory attribute")]
    Missing,
    /// The attribute has the wrong YAML type.
    #[error("expected {expected}, found {found}")]
    Type {
        /// What the specification requires.
        expected: &'static str,
        /// What the document contains.
        found: &'static str,
    },
    /// A value modifier name that the specification does not define.
    #[error("unknown modifier `{0}`")]
    UnknownModifier(String),
    /// Modifiers that cannot be used together or with this value.
    #[error("invalid modifier use: {0}")]
    ModifierUse(String),
    /// A value that is not valid for its modifier or attribute.
    #[error("invalid value: {0}")]
    Value(String),
    /// A regular expression that does not compile.
    #[error("invalid regular expression: {0}")]
    Regex(String),
    /// The condition does not parse.
    #[error("invalid condition: {0}")]
    Condition(String),
    /// The condition references a search identifier that does not exist.
    #[error("condition references undefined search identifier `{0}`")]
    UndefinedIdentifier(String),
    /// A recognised but unimplemented construct.
    #[error("unsupported: {0}")]
    Unsupported(Unsupported),
    /// Two documents share an `id` (or `name`).
    #[error("duplicate rule id or name `{0}`")]
    Duplicate(String),
    /// A correlation or filter references a rule that is not loaded.
    #[error("references unknown rule `{0}`")]
    UnknownRule(String),
    /// Correlation rules reference each other in a cycle.
    #[error("correlation rules reference each other in a cycle through `{0}`")]
    CorrelationCycle(String),
    /// The rule's logsource has no entry in the logsource mapping.
    #[error("logsource {0} is not mapped to any event source")]
    UnmappedLogsource(String),
}

impl ErrorKind {
    /// Short stable category, for grouping counts of rejected rules.
    pub fn reason(&self) -> String {
        match self {
            ErrorKind::Io(_) => "io error".into(),
            ErrorKind::Yaml(_) => "invalid yaml".into(),
            ErrorKind::NotARule => "not a sigma rule".into(),
            ErrorKind::Missing => "missing attribute".into(),
            ErrorKind::Type { .. } => "wrong attribute type".into(),
            ErrorKind::UnknownModifier(m) => format!("unknown modifier `{m}`"),
            ErrorKind::ModifierUse(_) => "invalid modifier use".into(),
            ErrorKind::Value(_) => "invalid value".into(),
            ErrorKind::Regex(_) => "invalid regex".into(),
            ErrorKind::Condition(_) => "invalid condition".into(),
            ErrorKind::UndefinedIdentifier(_) => "undefined search identifier".into(),
            ErrorKind::Unsupported(u) => format!("unsupported: {}", u.name()),
            ErrorKind::Duplicate(_) => "duplicate id".into(),
            ErrorKind::UnknownRule(_) => "unknown rule reference".into(),
            ErrorKind::CorrelationCycle(_) => "correlation cycle".into(),
            ErrorKind::UnmappedLogsource(l) => format!("unmapped logsource {l}"),
        }
    }
}

/// An error in one Sigma document: file, YAML field path (`detection.selection.Image|foo`) and kind.
#[derive(Debug, Clone, PartialEq)]
pub struct SigmaError {
    /// The rule file (or a caller-chosen label for in-memory text).
    pub file: PathBuf,
    /// Index of the YAML document within the file (0 for single-document files).
    pub document: usize,
    /// Dotted path of the offending YAML attribute; empty when the whole document is at fault.
    pub field: String,
    /// What is wrong.
    pub kind: ErrorKind,
}

impl SigmaError {
    pub(crate) fn new(file: impl Into<PathBuf>, field: impl Into<String>, kind: ErrorKind) -> Self {
        SigmaError {
            file: file.into(),
            document: 0,
            field: field.into(),
            kind,
        }
    }
}

impl fmt::Display for SigmaError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.file.display())?;
        if self.document > 0 {
            write!(f, " (document {})", self.document + 1)?;
        }
        if !self.field.is_empty() {
            write!(f, ": {}", self.field)?;
        }
        write!(f, ": {}", self.kind)
    }
}

impl std::error::Error for SigmaError {}

/// Error local to a YAML sub-tree; converted into [`SigmaError`] once the file is known.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct FieldError {
    pub field: String,
    pub kind: ErrorKind,
}

impl FieldError {
    pub(crate) fn new(field: impl Into<String>, kind: ErrorKind) -> Self {
        FieldError {
            field: field.into(),
            kind,
        }
    }
}

pub(crate) type FieldResult<T> = Result<T, FieldError>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn display_names_file_field_and_reason() {
        let e = SigmaError::new(
            "rules/x.yml",
            "detection.selection.CommandLine|foo",
            ErrorKind::UnknownModifier("foo".into()),
        );
        assert_eq!(
            e.to_string(),
            "rules/x.yml: detection.selection.CommandLine|foo: unknown modifier `foo`"
        );
        assert_eq!(e.kind.reason(), "unknown modifier `foo`");
    }

    #[test]
    fn unsupported_reason_is_named() {
        let k = ErrorKind::Unsupported(Unsupported::NearOperator);
        assert_eq!(k.reason(), "unsupported: near operator");
        assert!(k.to_string().contains("near"));
    }
}
