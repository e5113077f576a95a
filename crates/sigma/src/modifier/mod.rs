//! Value modifiers (`field|contains|all`): parsing, validation and application to rule values.
//!
//! Transformation modifiers (`contains`, `startswith`, `endswith`, `base64`, `base64offset`,
//! `utf16*`/`wide`, `windash`, `expand`) are applied in the order written and turn each YAML
//! value into one or more [`Value`]s. Type modifiers (`re`, `cidr`, `exists`, `fieldref`,
//! `gt`/`gte`/`lt`/`lte`, time parts) decide how a value is compared. `all`, `cased` and `neq`
//! change how the values of one field are combined and compared.
//!
//! This module holds the modifier list, the parsing of `field|a|b` keys, the validation of
//! modifier combinations and the dispatch of each value to its family: `string` (position
//! modifiers, `expand`, `re`), `encoding` (`base64*`, `utf16*`/`wide`, `windash`), `numeric`
//! (`gt`/`gte`/`lt`/`lte`, time parts), `network` (`cidr`) and `field` (`exists`, `fieldref`).

mod encoding;
mod field;
mod network;
mod numeric;
mod string;

use std::collections::HashMap;
use std::fmt;

use serde_norway::Value as Yaml;

pub use network::Cidr;
pub use numeric::{CmpOp, TimePart};
pub use string::RegexValue;

use crate::error::{ErrorKind, FieldError, FieldResult};
use crate::pattern::Pattern;
use crate::yaml::{scalar_text, type_name};

/// A value modifier as written after `|` in a detection key.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[allow(missing_docs)] // each variant is the modifier of the same name
pub enum Modifier {
    Contains,
    StartsWith,
    EndsWith,
    All,
    Base64,
    Base64Offset,
    Utf16Le,
    Utf16Be,
    Utf16,
    Wide,
    Windash,
    Re,
    /// `re` sub-modifier `i`: case-insensitive.
    ReCaseInsensitive,
    /// `re` sub-modifier `m`: `^`/`$` match at line boundaries.
    ReMultiLine,
    /// `re` sub-modifier `s`: `.` matches newlines.
    ReDotAll,
    Cidr,
    Exists,
    Expand,
    FieldRef,
    Gt,
    Gte,
    Lt,
    Lte,
    Neq,
    Cased,
    Minute,
    Hour,
    Day,
    Week,
    Month,
    Year,
}

const ALL_MODIFIERS: [Modifier; 31] = [
    Modifier::Contains,
    Modifier::StartsWith,
    Modifier::EndsWith,
    Modifier::All,
    Modifier::Base64,
    Modifier::Base64Offset,
    Modifier::Utf16Le,
    Modifier::Utf16Be,
    Modifier::Utf16,
    Modifier::Wide,
    Modifier::Windash,
    Modifier::Re,
    Modifier::ReCaseInsensitive,
    Modifier::ReMultiLine,
    Modifier::ReDotAll,
    Modifier::Cidr,
    Modifier::Exists,
    Modifier::Expand,
    Modifier::FieldRef,
    Modifier::Gt,
    Modifier::Gte,
    Modifier::Lt,
    Modifier::Lte,
    Modifier::Neq,
    Modifier::Cased,
    Modifier::Minute,
    Modifier::Hour,
    Modifier::Day,
    Modifier::Week,
    Modifier::Month,
    Modifier::Year,
];

impl Modifier {
    /// The modifier's name as written in rules.
    pub fn name(self) -> &'static str {
        match self {
            Modifier::Contains => "contains",
            Modifier::StartsWith => "startswith",
            Modifier::EndsWith => "endswith",
            Modifier::All => "all",
            Modifier::Base64 => "base64",
            Modifier::Base64Offset => "base64offset",
            Modifier::Utf16Le => "utf16le",
            Modifier::Utf16Be => "utf16be",
            Modifier::Utf16 => "utf16",
            Modifier::Wide => "wide",
            Modifier::Windash => "windash",
            Modifier::Re => "re",
            Modifier::ReCaseInsensitive => "i",
            Modifier::ReMultiLine => "m",
            Modifier::ReDotAll => "s",
            Modifier::Cidr => "cidr",
            Modifier::Exists => "exists",
            Modifier::Expand => "expand",
            Modifier::FieldRef => "fieldref",
            Modifier::Gt => "gt",
            Modifier::Gte => "gte",
            Modifier::Lt => "lt",
            Modifier::Lte => "lte",
            Modifier::Neq => "neq",
            Modifier::Cased => "cased",
            Modifier::Minute => "minute",
            Modifier::Hour => "hour",
            Modifier::Day => "day",
            Modifier::Week => "week",
            Modifier::Month => "month",
            Modifier::Year => "year",
        }
    }

    /// Parses a modifier name (exact, lower case as in the specification).
    pub fn parse(name: &str) -> Option<Modifier> {
        ALL_MODIFIERS.into_iter().find(|m| m.name() == name)
    }

    fn compare_op(self) -> Option<CmpOp> {
        match self {
            Modifier::Gt => Some(CmpOp::Gt),
            Modifier::Gte => Some(CmpOp::Gte),
            Modifier::Lt => Some(CmpOp::Lt),
            Modifier::Lte => Some(CmpOp::Lte),
            _ => None,
        }
    }

    fn time_part(self) -> Option<TimePart> {
        match self {
            Modifier::Minute => Some(TimePart::Minute),
            Modifier::Hour => Some(TimePart::Hour),
            Modifier::Day => Some(TimePart::Day),
            Modifier::Week => Some(TimePart::Week),
            Modifier::Month => Some(TimePart::Month),
            Modifier::Year => Some(TimePart::Year),
            _ => None,
        }
    }

    fn is_re_flag(self) -> bool {
        matches!(
            self,
            Modifier::ReCaseInsensitive | Modifier::ReMultiLine | Modifier::ReDotAll
        )
    }

    /// Modifiers that only affect how values are combined or compared.
    fn is_flag(self) -> bool {
        matches!(self, Modifier::All | Modifier::Cased | Modifier::Neq)
    }

    /// Modifiers of the string transformation pipeline.
    fn is_string_transform(self) -> bool {
        matches!(
            self,
            Modifier::Contains
                | Modifier::StartsWith
                | Modifier::EndsWith
                | Modifier::Base64
                | Modifier::Base64Offset
                | Modifier::Utf16Le
                | Modifier::Utf16Be
                | Modifier::Utf16
                | Modifier::Wide
                | Modifier::Windash
                | Modifier::Expand
        )
    }
}

impl fmt::Display for Modifier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// One value of a field match, after all transformation modifiers.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    /// String comparison with wildcards (numbers and booleans become their text).
    Pattern(Pattern),
    /// Regular expression search (`re`).
    Regex(RegexValue),
    /// Network membership (`cidr`).
    Cidr(Cidr),
    /// Numeric comparison (`gt`/`gte`/`lt`/`lte`, or equality of a time part).
    Compare(CmpOp, f64),
    /// `null`: the field is absent, null or empty.
    Null,
    /// `exists`: whether the field is present.
    Exists(bool),
    /// `fieldref`: equal to the value of another field of the same event.
    FieldRef(String),
}

/// One `field|modifiers: values` item of a search identifier, or a keyword search (`field: None`).
#[derive(Debug, Clone, PartialEq)]
pub struct FieldMatch {
    /// Field name; `None` for keyword searches over the whole event.
    pub field: Option<String>,
    /// Modifiers as written.
    pub modifiers: Vec<Modifier>,
    /// Values after transformation; linked by OR, or by AND when [`FieldMatch::all`].
    pub values: Vec<Value>,
    /// `all`: every value must match.
    pub all: bool,
    /// `cased`: string comparison is case-sensitive.
    pub cased: bool,
    /// `neq`: the match is negated (the field differs from the values).
    pub neq: bool,
    /// Time modifier: the values compare against this calendar part of a date field.
    pub time_part: Option<TimePart>,
}

/// Options that influence rule parsing.
#[derive(Debug, Clone, Default)]
pub struct ParseOptions {
    /// Values of `%placeholder%`s for the `expand` modifier (name without `%`).
    /// Rules using a placeholder that is not listed here are rejected.
    pub placeholders: HashMap<String, Vec<String>>,
}

/// Parses `key` (`Field|mod|mod`) into the field name and modifiers.
pub(crate) fn parse_key(key: &str, path: &str) -> FieldResult<(Option<String>, Vec<Modifier>)> {
    let mut parts = key.split('|');
    let field = parts.next().unwrap_or_default();
    let mut mods = Vec::new();
    for name in parts {
        let m =
            Modifier::parse(name).ok_or_else(|| FieldError::new(path, ErrorKind::UnknownModifier(name.to_owned())))?;
        if mods.contains(&m) {
            return Err(FieldError::new(
                path,
                ErrorKind::ModifierUse(format!("`{m}` given twice")),
            ));
        }
        mods.push(m);
    }
    let field = if field.is_empty() { None } else { Some(field.to_owned()) };
    Ok((field, mods))
}

fn use_error(path: &str, msg: String) -> FieldError {
    FieldError::new(path, ErrorKind::ModifierUse(msg))
}

/// The kind of comparison a modifier list selects.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Kind {
    Strings,
    Regex,
    Cidr,
    Exists,
    FieldRef,
    Compare(Option<CmpOp>, Option<TimePart>),
}

fn classify(mods: &[Modifier], path: &str) -> FieldResult<Kind> {
    let mut kind: Option<(Kind, Modifier)> = None;
    let mut cmp = None;
    let mut part = None;
    for (i, &m) in mods.iter().enumerate() {
        if m.is_re_flag() && !mods[..i].contains(&Modifier::Re) {
            return Err(use_error(
                path,
                format!("`{m}` is a sub-modifier of `re` and must follow it"),
            ));
        }
        if let Some(op) = m.compare_op()
            && cmp.replace(op).is_some()
        {
            return Err(use_error(path, "more than one of `gt`, `gte`, `lt`, `lte`".into()));
        }
        if let Some(p) = m.time_part()
            && part.replace(p).is_some()
        {
            return Err(use_error(path, "more than one time modifier".into()));
        }
        let k = match m {
            Modifier::Re => Kind::Regex,
            Modifier::Cidr => Kind::Cidr,
            Modifier::Exists => Kind::Exists,
            Modifier::FieldRef => Kind::FieldRef,
            m if m.compare_op().is_some() || m.time_part().is_some() => Kind::Compare(None, None),
            _ => continue,
        };
        match kind {
            Some((prev, pm)) if prev != k => {
                return Err(use_error(path, format!("`{m}` cannot be combined with `{pm}`")));
            }
            _ => kind = Some((k, m)),
        }
    }
    let Some((kind, km)) = kind else {
        return Ok(Kind::Strings);
    };
    let kind = match kind {
        Kind::Compare(..) => Kind::Compare(cmp, part),
        k => k,
    };
    // Which other modifiers each comparison kind accepts.
    for &m in mods {
        let ok = match kind {
            Kind::Strings => true,
            Kind::Exists => m == Modifier::Exists,
            Kind::Regex => m == Modifier::Re || m.is_re_flag() || m.is_flag(),
            Kind::Cidr => matches!(m, Modifier::Cidr | Modifier::All | Modifier::Neq),
            Kind::FieldRef => m == Modifier::FieldRef || m.is_flag(),
            Kind::Compare(..) => m.compare_op().is_some() || m.time_part().is_some() || m == Modifier::All,
        };
        if !ok {
            return Err(use_error(path, format!("`{m}` cannot be combined with `{km}`")));
        }
    }
    Ok(kind)
}

/// Builds a [`FieldMatch`] from a detection key and its YAML value.
///
/// `keyword` marks list-style keyword searches, which get an implicit `contains` unless a
/// position modifier is given.
pub(crate) fn field_match(
    field: Option<String>,
    modifiers: Vec<Modifier>,
    raw: &Yaml,
    path: &str,
    opts: &ParseOptions,
) -> FieldResult<FieldMatch> {
    let kind = classify(&modifiers, path)?;
    let has = |m: Modifier| modifiers.contains(&m);
    let items: Vec<(String, &Yaml)> = match raw {
        Yaml::Sequence(seq) => {
            if seq.is_empty() {
                return Err(FieldError::new(path, ErrorKind::Value("empty list of values".into())));
            }
            seq.iter()
                .enumerate()
                .map(|(i, v)| (format!("{path}[{i}]"), v))
                .collect()
        }
        v => vec![(path.to_owned(), v)],
    };
    if has(Modifier::All) && items.len() < 2 {
        return Err(use_error(path, "`all` needs a list of at least two values".into()));
    }
    if has(Modifier::Exists) && items.len() != 1 {
        return Err(use_error(path, "`exists` takes a single boolean".into()));
    }
    if items.iter().any(|(_, v)| matches!(v, Yaml::Null)) && items.len() > 1 {
        return Err(FieldError::new(
            path,
            ErrorKind::Value("`null` cannot be part of a list of values".into()),
        ));
    }
    let keyword_implicit_contains = field.is_none()
        && kind == Kind::Strings
        && !modifiers
            .iter()
            .any(|m| matches!(m, Modifier::Contains | Modifier::StartsWith | Modifier::EndsWith));

    let mut values = Vec::new();
    for (p, item) in items {
        match item {
            Yaml::Sequence(_) | Yaml::Mapping(_) | Yaml::Tagged(_) => {
                return Err(FieldError::new(
                    &p,
                    ErrorKind::Type {
                        expected: "string, number, boolean or null",
                        found: type_name(item),
                    },
                ));
            }
            Yaml::Null => {
                if let Some(m) = modifiers.iter().find(|m| **m != Modifier::Neq) {
                    return Err(use_error(&p, format!("`null` cannot be used with `{m}`")));
                }
                if field.is_none() {
                    return Err(FieldError::new(
                        &p,
                        ErrorKind::Value("keyword searches cannot be `null`".into()),
                    ));
                }
                values.push(Value::Null);
                continue;
            }
            _ => {}
        }
        match kind {
            Kind::Exists => values.push(field::exists_value(item, &p)?),
            Kind::Regex => values.push(string::regex_value(item, &modifiers, &p)?),
            Kind::Cidr => values.push(network::cidr_value(item, &p)?),
            Kind::FieldRef => values.push(field::field_ref_value(item, &p)?),
            Kind::Compare(op, _) => values.push(numeric::compare_value(item, op, &p)?),
            Kind::Strings => {
                let text = scalar_text(item).unwrap_or_default();
                for pat in string::string_values(&text, matches!(item, Yaml::String(_)), &modifiers, &p, opts)? {
                    let mut pat = pat;
                    if keyword_implicit_contains {
                        pat.prepend_any();
                        pat.append_any();
                    }
                    values.push(Value::Pattern(pat));
                }
            }
        }
    }
    let time_part = match kind {
        Kind::Compare(_, part) => part,
        _ => None,
    };
    Ok(FieldMatch {
        field,
        all: has(Modifier::All),
        cased: has(Modifier::Cased),
        neq: has(Modifier::Neq),
        time_part,
        modifiers,
        values,
    })
}

/// Helpers for the unit tests of the modifier modules.
#[cfg(test)]
mod test_util {
    use serde_norway::Value as Yaml;

    use super::{FieldMatch, ParseOptions, Value, field_match, parse_key};
    use crate::error::FieldResult;
    use crate::pattern::Token;

    /// Parses `key` and its YAML value as one field match with default options.
    pub(super) fn fm(key: &str, yaml: &str) -> FieldResult<FieldMatch> {
        let raw: Yaml = serde_norway::from_str(yaml).unwrap_or(Yaml::Null);
        let (field, mods) = parse_key(key, key)?;
        field_match(field, mods, &raw, key, &ParseOptions::default())
    }

    /// The values as text: patterns in their written form, others debug-printed.
    pub(super) fn pats(f: &FieldMatch) -> Vec<String> {
        f.values
            .iter()
            .map(|v| match v {
                Value::Pattern(p) => p.to_string(),
                other => format!("{other:?}"),
            })
            .collect()
    }

    /// Wildcard-free literal tokens of a pattern.
    pub(super) fn literal_of(v: &Value) -> Option<String> {
        match v {
            Value::Pattern(p) if p.tokens().iter().all(|t| matches!(t, Token::Literal(_))) => p.as_literal(),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::test_util::{fm, pats};
    use super::*;

    #[test]
    fn parses_every_modifier_name() {
        for m in ALL_MODIFIERS {
            assert_eq!(Modifier::parse(m.name()), Some(m));
        }
        assert_eq!(Modifier::parse("foo"), None);
        assert_eq!(Modifier::parse("Contains"), None);
    }

    #[test]
    fn unknown_modifier_is_named() {
        let e = fm("CommandLine|foo", "'x'").err();
        assert_eq!(e.map(|e| e.kind), Some(ErrorKind::UnknownModifier("foo".into())));
    }

    #[test]
    fn all_requires_a_list() {
        let f = fm("a|contains|all", "['x', 'y']").unwrap_or_else(|e| panic!("{e:?}"));
        assert!(f.all);
        assert!(matches!(
            fm("a|contains|all", "'x'").map_err(|e| e.kind),
            Err(ErrorKind::ModifierUse(_))
        ));
    }

    #[test]
    fn exists_null_fieldref_compare() {
        assert_eq!(fm("a|exists", "true").map(|f| f.values), Ok(vec![Value::Exists(true)]));
        assert!(matches!(
            fm("a|exists", "'x'").map_err(|e| e.kind),
            Err(ErrorKind::Type { .. })
        ));
        assert!(matches!(
            fm("a|exists|contains", "true").map_err(|e| e.kind),
            Err(ErrorKind::ModifierUse(_))
        ));
        assert_eq!(fm("a", "null").map(|f| f.values), Ok(vec![Value::Null]));
        assert!(matches!(
            fm("a", "[null, 'x']").map_err(|e| e.kind),
            Err(ErrorKind::Value(_))
        ));
        assert_eq!(
            fm("a|fieldref", "'B'").map(|f| f.values),
            Ok(vec![Value::FieldRef("B".into())])
        );
        assert_eq!(
            fm("a|gte", "5").map(|f| f.values),
            Ok(vec![Value::Compare(CmpOp::Gte, 5.0)])
        );
        assert!(matches!(
            fm("a|gt", "'abc'").map_err(|e| e.kind),
            Err(ErrorKind::Value(_))
        ));
        assert!(matches!(
            fm("a|gt|lt", "1").map_err(|e| e.kind),
            Err(ErrorKind::ModifierUse(_))
        ));
        let f = fm("t|hour|gte", "22").unwrap_or_else(|e| panic!("{e:?}"));
        assert_eq!(
            (f.time_part, f.values),
            (Some(TimePart::Hour), vec![Value::Compare(CmpOp::Gte, 22.0)])
        );
        let f = fm("t|month", "12").unwrap_or_else(|e| panic!("{e:?}"));
        assert_eq!(f.values, vec![Value::Compare(CmpOp::Eq, 12.0)]);
    }

    #[test]
    fn numbers_are_literal_text() {
        let f = fm("EventID", "[4688, 1]").unwrap_or_else(|e| panic!("{e:?}"));
        assert_eq!(pats(&f), ["4688", "1"]);
        // a number is not parsed for wildcards
        let f = fm("a", "true").unwrap_or_else(|e| panic!("{e:?}"));
        assert_eq!(pats(&f), ["true"]);
    }

    #[test]
    fn neq_and_cased_flags() {
        let f = fm("a|neq", "'x'").unwrap_or_else(|e| panic!("{e:?}"));
        assert!(f.neq);
        let f = fm("a|cased|contains", "'X'").unwrap_or_else(|e| panic!("{e:?}"));
        assert!(f.cased);
    }

    #[test]
    fn duplicate_modifier_rejected() {
        assert!(matches!(
            fm("a|contains|contains", "'x'").map_err(|e| e.kind),
            Err(ErrorKind::ModifierUse(_))
        ));
    }
}
