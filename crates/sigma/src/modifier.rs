//! Value modifiers (`field|contains|all`): parsing, validation and application to rule values.
//!
//! Transformation modifiers (`contains`, `startswith`, `endswith`, `base64`, `base64offset`,
//! `utf16*`/`wide`, `windash`, `expand`) are applied in the order written and turn each YAML
//! value into one or more [`Value`]s. Type modifiers (`re`, `cidr`, `exists`, `fieldref`,
//! `gt`/`gte`/`lt`/`lte`, time parts) decide how a value is compared. `all`, `cased` and `neq`
//! change how the values of one field are combined and compared.

use std::collections::HashMap;
use std::fmt;
use std::net::IpAddr;

use serde_norway::Value as Yaml;

use crate::error::{ErrorKind, FieldError, FieldResult, Unsupported};
use crate::pattern::Pattern;
#[cfg(test)]
use crate::pattern::Token;
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

/// Numeric comparison operator (`gt`, `gte`, `lt`, `lte`; `Eq` for bare time-part values).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[allow(missing_docs)]
pub enum CmpOp {
    Eq,
    Gt,
    Gte,
    Lt,
    Lte,
}

impl CmpOp {
    /// Applies the comparison `lhs op rhs`.
    pub fn holds(self, lhs: f64, rhs: f64) -> bool {
        match self {
            CmpOp::Eq => lhs == rhs,
            CmpOp::Gt => lhs > rhs,
            CmpOp::Gte => lhs >= rhs,
            CmpOp::Lt => lhs < rhs,
            CmpOp::Lte => lhs <= rhs,
        }
    }
}

/// Calendar part extracted from a date field by a time modifier.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[allow(missing_docs)]
pub enum TimePart {
    Minute,
    Hour,
    Day,
    Week,
    Month,
    Year,
}

/// An IPv4 or IPv6 network from the `cidr` modifier.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Cidr {
    /// Network address (host bits cleared).
    pub network: IpAddr,
    /// Prefix length in bits.
    pub prefix: u8,
}

impl Cidr {
    /// Parses `a.b.c.d/n` or `x::y/n`; a bare address is a single-host network.
    pub fn parse(s: &str) -> Option<Cidr> {
        let s = s.trim();
        let (addr, prefix) = match s.split_once('/') {
            Some((a, p)) => (a, Some(p.parse::<u8>().ok()?)),
            None => (s, None),
        };
        let ip: IpAddr = addr.parse().ok()?;
        let max = if ip.is_ipv4() { 32 } else { 128 };
        let prefix = prefix.unwrap_or(max);
        if prefix > max {
            return None;
        }
        Some(Cidr {
            network: mask(ip, prefix),
            prefix,
        })
    }

    /// True when `ip` lies in the network (IPv4 and IPv6 never mix).
    pub fn contains(&self, ip: IpAddr) -> bool {
        ip.is_ipv4() == self.network.is_ipv4() && mask(ip, self.prefix) == self.network
    }
}

fn mask(ip: IpAddr, prefix: u8) -> IpAddr {
    match ip {
        IpAddr::V4(v4) => {
            let bits = u32::from(v4);
            let m = if prefix == 0 {
                0
            } else {
                u32::MAX << (32 - u32::from(prefix))
            };
            IpAddr::V4((bits & m).into())
        }
        IpAddr::V6(v6) => {
            let bits = u128::from(v6);
            let m = if prefix == 0 {
                0
            } else {
                u128::MAX << (128 - u32::from(prefix))
            };
            IpAddr::V6((bits & m).into())
        }
    }
}

/// A regular expression value from the `re` modifier, with its flags.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RegexValue {
    /// The expression as written.
    pub pattern: String,
    /// `i`: case-insensitive.
    pub case_insensitive: bool,
    /// `m`: multi-line anchors.
    pub multi_line: bool,
    /// `s`: dot matches newline.
    pub dot_all: bool,
}

/// Size limit for compiled rule regexes (keeps hostile rules from exhausting memory).
const REGEX_SIZE_LIMIT: usize = 1 << 22;

impl RegexValue {
    /// Compiles the expression with its flags.
    pub fn compile(&self) -> Result<regex::Regex, String> {
        regex::RegexBuilder::new(&self.pattern)
            .case_insensitive(self.case_insensitive)
            .multi_line(self.multi_line)
            .dot_matches_new_line(self.dot_all)
            .size_limit(REGEX_SIZE_LIMIT)
            .build()
            .map_err(|e| e.to_string().split_whitespace().collect::<Vec<_>>().join(" "))
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
            Kind::Exists => match item {
                Yaml::Bool(b) => values.push(Value::Exists(*b)),
                Yaml::String(s) if s.eq_ignore_ascii_case("true") || s.eq_ignore_ascii_case("false") => {
                    values.push(Value::Exists(s.eq_ignore_ascii_case("true")))
                }
                v => {
                    return Err(FieldError::new(
                        &p,
                        ErrorKind::Type {
                            expected: "boolean",
                            found: type_name(v),
                        },
                    ));
                }
            },
            Kind::Regex => {
                let pattern = scalar_text(item).unwrap_or_default();
                let rv = RegexValue {
                    pattern,
                    case_insensitive: has(Modifier::ReCaseInsensitive),
                    multi_line: has(Modifier::ReMultiLine),
                    dot_all: has(Modifier::ReDotAll),
                };
                rv.compile().map_err(|e| FieldError::new(&p, ErrorKind::Regex(e)))?;
                values.push(Value::Regex(rv));
            }
            Kind::Cidr => {
                let text = scalar_text(item).unwrap_or_default();
                let c = Cidr::parse(&text)
                    .ok_or_else(|| FieldError::new(&p, ErrorKind::Value(format!("`{text}` is not a CIDR network"))))?;
                values.push(Value::Cidr(c));
            }
            Kind::FieldRef => {
                let name = scalar_text(item).unwrap_or_default();
                if name.is_empty() {
                    return Err(FieldError::new(
                        &p,
                        ErrorKind::Value("`fieldref` needs a field name".into()),
                    ));
                }
                values.push(Value::FieldRef(name));
            }
            Kind::Compare(op, _) => {
                let n = match item {
                    Yaml::Number(n) => n.as_f64(),
                    Yaml::String(s) => s.trim().parse::<f64>().ok(),
                    _ => None,
                }
                .filter(|n| n.is_finite())
                .ok_or_else(|| {
                    FieldError::new(
                        &p,
                        ErrorKind::Value(format!("expected a number, found {}", type_name(item))),
                    )
                })?;
                values.push(Value::Compare(op.unwrap_or(CmpOp::Eq), n));
            }
            Kind::Strings => {
                let text = scalar_text(item).unwrap_or_default();
                for pat in string_values(&text, matches!(item, Yaml::String(_)), &modifiers, &p, opts)? {
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

/// Maximum number of values one YAML value may expand into (placeholders).
const MAX_EXPANSION: usize = 4096;

enum Stage {
    Str(Pattern),
    Bytes(Vec<u8>),
}

/// Applies the string transformation modifiers, in order, to one YAML scalar.
fn string_values(
    text: &str,
    is_string: bool,
    mods: &[Modifier],
    path: &str,
    opts: &ParseOptions,
) -> FieldResult<Vec<Pattern>> {
    let texts = if mods.contains(&Modifier::Expand) {
        expand_placeholders(text, path, opts)?
    } else {
        vec![text.to_owned()]
    };
    let mut stages: Vec<Stage> = texts
        .iter()
        .map(|t| {
            Stage::Str(if is_string {
                Pattern::parse(t)
            } else {
                Pattern::literal(t)
            })
        })
        .collect();
    let mut windashed = false;
    for &m in mods.iter().filter(|m| m.is_string_transform()) {
        let mut next = Vec::with_capacity(stages.len());
        for st in stages {
            match m {
                Modifier::Contains | Modifier::StartsWith | Modifier::EndsWith => {
                    let mut p = stage_to_pattern(st, path)?;
                    if m != Modifier::StartsWith {
                        p.prepend_any();
                    }
                    if m != Modifier::EndsWith {
                        p.append_any();
                    }
                    next.push(Stage::Str(p));
                }
                Modifier::Windash => {
                    let p = stage_to_pattern(st, path)?;
                    windashed = true;
                    next.push(Stage::Str(p.windash()));
                }
                Modifier::Base64 | Modifier::Base64Offset => {
                    if windashed {
                        return Err(FieldError::new(
                            path,
                            ErrorKind::Unsupported(Unsupported::WindashEncoding),
                        ));
                    }
                    let bytes = stage_bytes(st, path)?;
                    if m == Modifier::Base64 {
                        next.push(Stage::Str(Pattern::literal(&base64_encode(&bytes))));
                    } else {
                        next.extend(
                            base64_offsets(&bytes)
                                .into_iter()
                                .map(|s| Stage::Str(Pattern::literal(&s))),
                        );
                    }
                }
                Modifier::Utf16Le | Modifier::Wide | Modifier::Utf16Be | Modifier::Utf16 => {
                    if windashed {
                        return Err(FieldError::new(
                            path,
                            ErrorKind::Unsupported(Unsupported::WindashEncoding),
                        ));
                    }
                    let text = match st {
                        Stage::Str(p) => p.as_literal().ok_or_else(|| {
                            FieldError::new(path, ErrorKind::Unsupported(Unsupported::EncodingWildcards))
                        })?,
                        Stage::Bytes(_) => {
                            return Err(use_error(path, format!("`{m}` applied to an already encoded value")));
                        }
                    };
                    let mut out = Vec::new();
                    if m == Modifier::Utf16 {
                        out.extend_from_slice(&[0xFF, 0xFE]);
                    }
                    for u in text.encode_utf16() {
                        let b = if m == Modifier::Utf16Be {
                            u.to_be_bytes()
                        } else {
                            u.to_le_bytes()
                        };
                        out.extend_from_slice(&b);
                    }
                    next.push(Stage::Bytes(out));
                }
                _ => next.push(st), // `expand` was applied up front
            }
        }
        stages = next;
    }
    stages.into_iter().map(|st| stage_to_pattern(st, path)).collect()
}

fn stage_to_pattern(st: Stage, path: &str) -> FieldResult<Pattern> {
    match st {
        Stage::Str(p) => Ok(p),
        Stage::Bytes(b) => String::from_utf8(b).map(|s| Pattern::literal(&s)).map_err(|_| {
            FieldError::new(
                path,
                ErrorKind::Value("encoded value is not representable as text".into()),
            )
        }),
    }
}

fn stage_bytes(st: Stage, path: &str) -> FieldResult<Vec<u8>> {
    match st {
        Stage::Bytes(b) => Ok(b),
        Stage::Str(p) => p
            .as_literal()
            .map(String::into_bytes)
            .ok_or_else(|| FieldError::new(path, ErrorKind::Unsupported(Unsupported::EncodingWildcards))),
    }
}

/// Replaces `%name%` placeholders (not `\%`) by each of their configured values.
fn expand_placeholders(text: &str, path: &str, opts: &ParseOptions) -> FieldResult<Vec<String>> {
    let mut results = vec![String::new()];
    let mut rest = text;
    while !rest.is_empty() {
        if let Some(after) = rest.strip_prefix("\\%") {
            results.iter_mut().for_each(|r| r.push('%'));
            rest = after;
            continue;
        }
        if let Some(after) = rest.strip_prefix('%')
            && let Some(end) = after.find('%')
        {
            let name = &after[..end];
            let vals = opts.placeholders.get(name).ok_or_else(|| {
                FieldError::new(path, ErrorKind::Unsupported(Unsupported::Placeholder(name.to_owned())))
            })?;
            if vals.is_empty() || results.len() * vals.len() > MAX_EXPANSION {
                return Err(FieldError::new(
                    path,
                    ErrorKind::Value(format!("placeholder `%{name}%` expands to no or too many values")),
                ));
            }
            results = results
                .iter()
                .flat_map(|r| vals.iter().map(move |v| format!("{r}{v}")))
                .collect();
            rest = &after[end + 1..];
            continue;
        }
        let c = rest.chars().next().unwrap_or('%');
        results.iter_mut().for_each(|r| r.push(c));
        rest = &rest[c.len_utf8()..];
    }
    Ok(results)
}

const B64: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/// Standard Base64 with `=` padding.
pub(crate) fn base64_encode(data: &[u8]) -> String {
    let mut out = String::with_capacity(data.len().div_ceil(3) * 4);
    for chunk in data.chunks(3) {
        let b = [
            chunk[0],
            chunk.get(1).copied().unwrap_or(0),
            chunk.get(2).copied().unwrap_or(0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(char::from(B64[((n >> (18 - 6 * i)) & 63) as usize]));
            } else {
                out.push('=');
            }
        }
    }
    out
}

/// The three `base64offset` variants: the Base64 characters that depend only on `data` when it
/// is preceded by 0, 1 or 2 unknown bytes and followed by unknown bytes.
pub(crate) fn base64_offsets(data: &[u8]) -> Vec<String> {
    let mut out = Vec::with_capacity(3);
    for shift in 0..3usize {
        let mut buf = vec![0u8; shift];
        buf.extend_from_slice(data);
        let enc = base64_encode(&buf);
        // Each Base64 character covers 6 bits. Skip characters touching the `shift` filler bytes
        // and keep only characters whose 6 bits lie entirely within `data`.
        let start = (8 * shift).div_ceil(6);
        let end = (8 * (shift + data.len())) / 6;
        if start < end {
            out.push(enc[start..end].to_owned());
        }
    }
    out
}

/// Wildcard-free literal tokens of a pattern, for tests.
#[cfg(test)]
fn literal_of(v: &Value) -> Option<String> {
    match v {
        Value::Pattern(p) if p.tokens().iter().all(|t| matches!(t, Token::Literal(_))) => p.as_literal(),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fm(key: &str, yaml: &str) -> FieldResult<FieldMatch> {
        let raw: Yaml = serde_norway::from_str(yaml).unwrap_or(Yaml::Null);
        let (field, mods) = parse_key(key, key)?;
        field_match(field, mods, &raw, key, &ParseOptions::default())
    }

    fn pats(f: &FieldMatch) -> Vec<String> {
        f.values
            .iter()
            .map(|v| match v {
                Value::Pattern(p) => p.to_string(),
                other => format!("{other:?}"),
            })
            .collect()
    }

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
    fn position_modifiers_add_wildcards() {
        assert_eq!(
            pats(&fm("a|contains", "'x'").unwrap_or_else(|e| panic!("{e:?}"))),
            ["*x*"]
        );
        assert_eq!(
            pats(&fm("a|startswith", "'x'").unwrap_or_else(|e| panic!("{e:?}"))),
            ["x*"]
        );
        assert_eq!(
            pats(&fm("a|endswith", "'\\x.exe'").unwrap_or_else(|e| panic!("{e:?}"))),
            ["*\\x.exe"]
        );
        // an existing wildcard is not doubled
        assert_eq!(
            pats(&fm("a|contains", "'*x'").unwrap_or_else(|e| panic!("{e:?}"))),
            ["*x*"]
        );
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
    fn base64_encodes_the_plain_value() {
        let f = fm("a|base64", "'cmd'").unwrap_or_else(|e| panic!("{e:?}"));
        assert_eq!(literal_of(&f.values[0]).as_deref(), Some("Y21k"));
        assert_eq!(base64_encode(b""), "");
        assert_eq!(base64_encode(b"f"), "Zg==");
        assert_eq!(base64_encode(b"fo"), "Zm8=");
        assert_eq!(base64_encode(b"foobar"), "Zm9vYmFy");
        // wildcards cannot be encoded
        assert_eq!(
            fm("a|base64", "'c*d'").map_err(|e| e.kind),
            Err(ErrorKind::Unsupported(Unsupported::EncodingWildcards))
        );
    }

    #[test]
    fn base64offset_yields_three_shifted_variants() {
        // Values as they appear inside base64 of "xxx/bin/bash" style strings.
        let v = base64_offsets(b"/bin/bash");
        assert_eq!(v, ["L2Jpbi9iYXNo", "9iaW4vYmFza", "vYmluL2Jhc2"]);
        // Every variant really occurs in an encoding of text containing the value at that offset.
        for (i, prefix) in ["", "a", "ab"].iter().enumerate() {
            let enc = base64_encode(format!("{prefix}/bin/bash and more").as_bytes());
            assert!(enc.contains(&v[i]), "{enc} / {}", v[i]);
        }
        let f = fm("a|base64offset|contains", "'/bin/bash'").unwrap_or_else(|e| panic!("{e:?}"));
        assert_eq!(pats(&f), ["*L2Jpbi9iYXNo*", "*9iaW4vYmFza*", "*vYmluL2Jhc2*"]);
    }

    #[test]
    fn utf16_variants() {
        let f = fm("a|utf16le|base64", "'cmd'").unwrap_or_else(|e| panic!("{e:?}"));
        assert_eq!(literal_of(&f.values[0]), Some(base64_encode(b"c\0m\0d\0")));
        let f = fm("a|wide|base64", "'cmd'").unwrap_or_else(|e| panic!("{e:?}"));
        assert_eq!(literal_of(&f.values[0]), Some(base64_encode(b"c\0m\0d\0")));
        let f = fm("a|utf16be|base64", "'cmd'").unwrap_or_else(|e| panic!("{e:?}"));
        assert_eq!(literal_of(&f.values[0]), Some(base64_encode(b"\0c\0m\0d")));
        let f = fm("a|utf16|base64", "'cmd'").unwrap_or_else(|e| panic!("{e:?}"));
        assert_eq!(literal_of(&f.values[0]), Some(base64_encode(b"\xFF\xFEc\0m\0d\0")));
        // utf16le without base64 is matched as text with NULs
        let f = fm("a|wide", "'ab'").unwrap_or_else(|e| panic!("{e:?}"));
        assert_eq!(literal_of(&f.values[0]).as_deref(), Some("a\0b\0"));
    }

    #[test]
    fn windash_marks_dashes() {
        let f = fm("a|windash|contains", "' -enc '").unwrap_or_else(|e| panic!("{e:?}"));
        let Value::Pattern(p) = &f.values[0] else {
            panic!("pattern expected")
        };
        assert_eq!(
            p.tokens(),
            &[
                Token::AnyString,
                Token::Literal(" ".into()),
                Token::Dash,
                Token::Literal("enc ".into()),
                Token::AnyString
            ]
        );
        assert_eq!(
            fm("a|windash|base64", "'-a'").map_err(|e| e.kind),
            Err(ErrorKind::Unsupported(Unsupported::WindashEncoding))
        );
    }

    #[test]
    fn regex_and_flags() {
        let f = fm("a|re|i|m|s", "'^ab.c$'").unwrap_or_else(|e| panic!("{e:?}"));
        assert_eq!(
            f.values[0],
            Value::Regex(RegexValue {
                pattern: "^ab.c$".into(),
                case_insensitive: true,
                multi_line: true,
                dot_all: true
            })
        );
        assert!(matches!(
            fm("a|re", "'(unclosed'").map_err(|e| e.kind),
            Err(ErrorKind::Regex(_))
        ));
        assert!(matches!(
            fm("a|i", "'x'").map_err(|e| e.kind),
            Err(ErrorKind::ModifierUse(_))
        ));
        assert!(matches!(
            fm("a|re|contains", "'x'").map_err(|e| e.kind),
            Err(ErrorKind::ModifierUse(_))
        ));
    }

    #[test]
    fn cidr_parsing_and_membership() {
        let f = fm("ip|cidr", "['10.0.0.0/8', '::1/128']").unwrap_or_else(|e| panic!("{e:?}"));
        let Value::Cidr(c) = &f.values[0] else {
            panic!("cidr expected")
        };
        assert!(c.contains("10.1.2.3".parse().unwrap_or(IpAddr::from([0, 0, 0, 0]))));
        assert!(!c.contains("11.1.2.3".parse().unwrap_or(IpAddr::from([0, 0, 0, 0]))));
        let Some(c6) = Cidr::parse("fe80::/10") else {
            panic!("parse")
        };
        assert!(c6.contains("fe80::1".parse().unwrap_or(IpAddr::from([0, 0, 0, 0]))));
        assert!(!c6.contains("10.0.0.1".parse().unwrap_or(IpAddr::from([0, 0, 0, 0]))));
        assert_eq!(Cidr::parse("10.0.0.0/33"), None);
        assert_eq!(Cidr::parse("0.0.0.0/0").map(|c| c.prefix), Some(0));
        assert!(matches!(
            fm("ip|cidr", "'nope'").map_err(|e| e.kind),
            Err(ErrorKind::Value(_))
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
    fn expand_placeholders_with_options() {
        let raw: Yaml = serde_norway::from_str("'%Admins%\\%x'").unwrap_or(Yaml::Null);
        let (field, mods) = parse_key("User|expand", "p").unwrap_or_else(|e| panic!("{e:?}"));
        let e = field_match(field.clone(), mods.clone(), &raw, "p", &ParseOptions::default()).err();
        assert_eq!(
            e.map(|e| e.kind),
            Some(ErrorKind::Unsupported(Unsupported::Placeholder("Admins".into())))
        );
        let mut opts = ParseOptions::default();
        opts.placeholders
            .insert("Admins".into(), vec!["adm_a".into(), "root".into()]);
        let f = field_match(field, mods, &raw, "p", &opts).unwrap_or_else(|e| panic!("{e:?}"));
        assert_eq!(pats(&f), ["adm_a%x", "root%x"]);
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
