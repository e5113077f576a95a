//! Sigma → KQL: a detection rule becomes a query over the Defender Advanced Hunting tables, or
//! over Sentinel's `SecurityEvent` / `WindowsEvent` tables, using the logsource mapping's field
//! names. What KQL cannot say exactly (keyword searches, time-part modifiers, IPv6 ranges) is
//! refused by name rather than approximated.

use std::cell::RefCell;
use std::fmt::Write as _;

use crate::condition::{Condition, Quantifier, resolve_target};
use crate::eval::{FieldTable, Val, compile_field, values_on_absent, values_on_present};
use crate::logsource::{FieldSpec, LogsourceMap, Source, SourceKind, TemplatePart};
use crate::modifier::{Cidr, CmpOp, FieldMatch, Value};
use crate::pattern::{DASHES, Pattern, Token, fold_case};
use crate::rule::{Search, SigmaRule};

/// Which tables the query reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TableSet {
    /// Defender Advanced Hunting `Device*` tables (the mapping's `table` sources).
    Defender,
    /// Sentinel: `SecurityEvent` when the logsource maps to the Security channel (e.g.
    /// process_creation → 4688), else `WindowsEvent` with the fields read from `EventData`.
    SecurityEvent,
}

/// Why a rule could not be converted.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ConvertError {
    /// The logsource has no source of the requested table set.
    #[error("logsource {0} has no {1} table")]
    NoTable(String, &'static str),
    /// A construct KQL cannot express exactly.
    #[error("{0} is not expressible in KQL")]
    Unsupported(String),
    /// A field has no column in the target table.
    #[error("field `{field}` has no column in {table}")]
    NoColumn {
        /// Sigma field name.
        field: String,
        /// Target table.
        table: String,
    },
}

/// Tells whether `table` has `column`: `None` when it does not, `Some(true)` for a string
/// column, `Some(false)` for other types (compared through `tostring`).
pub type ColumnLookup<'a> = &'a dyn Fn(&str, &str) -> Option<bool>;

/// Converts one detection rule. Fields without a column are refused; use
/// `&|_, _| Some(true)` to skip the check.
pub fn to_kql(
    rule: &SigmaRule,
    map: &LogsourceMap,
    set: TableSet,
    has_column: ColumnLookup<'_>,
) -> Result<String, ConvertError> {
    let mut sources: Vec<&Source> = map
        .sources_for(&rule.logsource)
        .into_iter()
        .filter(|s| match set {
            TableSet::Defender => s.kind == SourceKind::DefenderTable,
            TableSet::SecurityEvent => s.kind == SourceKind::EventLog && !s.channels.is_empty(),
        })
        .collect();
    // Sentinel: the Security-channel form when there is one (process_creation → 4688).
    if set == TableSet::SecurityEvent && sources.iter().any(|s| is_security(s)) {
        sources.retain(|s| is_security(s));
    }
    if sources.is_empty() {
        let name = match set {
            TableSet::Defender => "Defender",
            TableSet::SecurityEvent => "SecurityEvent/WindowsEvent",
        };
        return Err(ConvertError::NoTable(rule.logsource.to_string(), name));
    }
    let mut parts = Vec::new();
    for s in sources {
        parts.push(source_query(rule, s, set, has_column)?);
    }
    let mut out = String::new();
    let _ = writeln!(out, "// {} ({})", rule.title.replace('\n', " "), rule.reference());
    let _ = writeln!(
        out,
        "// converted from Sigma by ratcatcher; logsource {}",
        rule.logsource
    );
    if parts.len() == 1 {
        out.push_str(&parts[0]);
    } else {
        out.push_str("union\n");
        let n = parts.len();
        for (i, p) in parts.into_iter().enumerate() {
            let _ = writeln!(
                out,
                "  ({}){}",
                p.replace('\n', "\n   "),
                if i + 1 < n { "," } else { "" }
            );
        }
    }
    if !out.ends_with('\n') {
        out.push('\n');
    }
    Ok(out)
}

fn is_security(s: &Source) -> bool {
    !s.channels.is_empty() && s.channels.iter().all(|c| c.eq_ignore_ascii_case("Security"))
}

/// One source's query: `Table | where <source conditions> | where <detection>`.
fn source_query(
    rule: &SigmaRule,
    s: &Source,
    set: TableSet,
    has_column: ColumnLookup<'_>,
) -> Result<String, ConvertError> {
    let mut pre = Vec::new();
    let ctx = match (set, s.kind) {
        (TableSet::Defender, _) => {
            let table = s.channels.first().cloned().unwrap_or_default();
            Ctx {
                table,
                source: s,
                raw: false,
                has_column,
                members: RefCell::default(),
            }
        }
        (TableSet::SecurityEvent, _) => {
            if is_security(s) {
                Ctx {
                    table: "SecurityEvent".into(),
                    source: s,
                    raw: false,
                    has_column,
                    members: RefCell::default(),
                }
            } else {
                pre.push(in_list("Channel", &s.channels, true));
                Ctx {
                    table: "WindowsEvent".into(),
                    source: s,
                    raw: true,
                    has_column,
                    members: RefCell::default(),
                }
            }
        }
    };
    if !s.event_ids.is_empty() {
        let ids: Vec<String> = s.event_ids.iter().map(u32::to_string).collect();
        pre.push(format!("EventID in ({})", ids.join(", ")));
    }
    for (field, values) in &s.conditions {
        let e = ctx.column(field)?;
        pre.push(in_list(&e, values, true));
    }
    let det = detection(rule, &ctx)?;
    let mut q = ctx.table.clone();
    if !pre.is_empty() {
        let _ = write!(q, "\n| where {}", pre.join(" and "));
    }
    // JSON members: parsed once per row that passed the source's conditions, and dropped
    // again so that the rows keep the table's columns.
    let members = ctx.members.into_inner();
    if !members.is_empty() {
        let lets: Vec<String> = members.iter().map(|(a, e)| format!("{} = {e}", ident(a))).collect();
        let _ = write!(q, "\n| extend {}", lets.join(", "));
    }
    let _ = write!(q, "\n| where {det}");
    if !members.is_empty() {
        let names: Vec<String> = members.iter().map(|(a, _)| ident(a)).collect();
        let _ = write!(q, "\n| project-away {}", names.join(", "));
    }
    Ok(q)
}

struct Ctx<'a> {
    table: String,
    source: &'a Source,
    /// `WindowsEvent`: fields are read from the `EventData` bag.
    raw: bool,
    has_column: ColumnLookup<'a>,
    /// JSON members read by the detection: (column name given by `extend`, its expression).
    members: RefCell<Vec<(String, String)>>,
}

impl Ctx<'_> {
    /// The KQL expression of an event field (after the logsource's renaming).
    fn column(&self, name: &str) -> Result<String, ConvertError> {
        if self.raw {
            return Ok(match name {
                "EventID" | "Channel" | "Computer" | "Provider" => name.to_string(),
                "Provider_Name" => "Provider".into(),
                _ => format!("tostring(EventData[{}])", quote(name)),
            });
        }
        match (self.has_column)(&self.table, name) {
            Some(true) => Ok(ident(name)),
            Some(false) => Ok(format!("tostring({})", ident(name))),
            None => Err(ConvertError::NoColumn {
                field: name.to_string(),
                table: self.table.clone(),
            }),
        }
    }

    /// The KQL expression of a Sigma field.
    fn field(&self, name: &str) -> Result<String, ConvertError> {
        match self.source.field(name) {
            FieldSpec::Field(f) => self.column(&f).map_err(|e| match e {
                ConvertError::NoColumn { table, .. } => ConvertError::NoColumn {
                    field: name.to_string(),
                    table,
                },
                other => other,
            }),
            FieldSpec::Template(parts) => {
                let mut args = Vec::new();
                for p in parts {
                    args.push(match p {
                        TemplatePart::Text(t) => quote(&t),
                        TemplatePart::Field(f) => self.column(&f)?,
                    });
                }
                Ok(format!("strcat({})", args.join(", ")))
            }
            // As one value (a `fieldref` to a lookup field): the first translation, else the
            // kept event value or nothing.
            FieldSpec::Lookup { field, values, keep } => {
                let e = self.column(&field)?;
                let mut args = Vec::new();
                for (to, from) in &values {
                    args.push(in_list(&e, from, true));
                    args.push(quote(to));
                }
                args.push(if keep { e } else { quote("") });
                Ok(format!("case({})", args.join(", ")))
            }
            FieldSpec::Member {
                column,
                path,
                strip_prefix,
            } => {
                let dynamic = self.member(name, &column, &path)?;
                let mut text = format!("tostring({dynamic})");
                if let Some(p) = strip_prefix {
                    let re = format!("(?i)^{}", regex::escape(&p));
                    text = format!("replace_regex({text}, {}, \"\")", quote(&re));
                }
                // Extended once under the Sigma field's name, unless that is a column already.
                if self.raw || (self.has_column)(&self.table, name).is_some() {
                    return Ok(text);
                }
                let mut members = self.members.borrow_mut();
                if !members.iter().any(|(a, _)| a == name) {
                    members.push((name.to_string(), text));
                }
                Ok(ident(name))
            }
        }
    }

    /// The dynamic value of the JSON member `path` of `column` for the Sigma field `name`:
    /// `parse_json(AdditionalFields).DnsQueryString` (null when missing, as in the matcher).
    fn member(&self, name: &str, column: &str, path: &[String]) -> Result<String, ConvertError> {
        let col = self.column(column).map_err(|e| match e {
            ConvertError::NoColumn { table, .. } => ConvertError::NoColumn {
                field: name.to_string(),
                table,
            },
            other => other,
        })?;
        // `tostring(x)` of a string column is the column itself.
        let col = col
            .strip_prefix("tostring(")
            .and_then(|c| c.strip_suffix(')'))
            .unwrap_or(&col);
        let mut e = format!("parse_json({col})");
        for p in path {
            if ident(p) == *p {
                let _ = write!(e, ".{p}");
            } else {
                let _ = write!(e, "[{}]", quote(p));
            }
        }
        Ok(e)
    }
}

/// A KQL identifier, bracketed when it is not a plain name.
fn ident(name: &str) -> String {
    let plain = name.chars().next().is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
    if plain {
        name.to_string()
    } else {
        format!("[{}]", quote(name))
    }
}

/// A KQL string literal (verbatim form, so backslashes stay as they are).
fn quote(s: &str) -> String {
    if s.contains(['\n', '\r']) {
        let mut out = String::from("\"");
        for c in s.chars() {
            match c {
                '\\' => out.push_str("\\\\"),
                '"' => out.push_str("\\\""),
                '\n' => out.push_str("\\n"),
                '\r' => out.push_str("\\r"),
                '\t' => out.push_str("\\t"),
                c => out.push(c),
            }
        }
        out.push('"');
        out
    } else {
        format!("@\"{}\"", s.replace('"', "\"\""))
    }
}

fn in_list(expr: &str, values: &[String], insensitive: bool) -> String {
    let v: Vec<String> = values.iter().map(|x| quote(x)).collect();
    if v.len() == 1 {
        format!("{expr} {} {}", if insensitive { "=~" } else { "==" }, v[0])
    } else {
        format!("{expr} {} ({})", if insensitive { "in~" } else { "in" }, v.join(", "))
    }
}

fn detection(rule: &SigmaRule, ctx: &Ctx<'_>) -> Result<String, ConvertError> {
    let d = &rule.detection;
    let mut conds = Vec::new();
    for c in &d.conditions {
        conds.push(condition(c, rule, ctx)?);
    }
    Ok(join_op(conds, "or"))
}

fn join_op(mut parts: Vec<String>, op: &str) -> String {
    match parts.len() {
        0 => if op == "and" { "true" } else { "false" }.to_string(),
        1 => parts.pop().unwrap_or_default(),
        _ => format!("({})", parts.join(&format!(" {op} "))),
    }
}

fn condition(c: &Condition, rule: &SigmaRule, ctx: &Ctx<'_>) -> Result<String, ConvertError> {
    let d = &rule.detection;
    Ok(match c {
        Condition::Ident(name) => {
            let s = d
                .searches
                .iter()
                .find(|s| &s.name == name)
                .ok_or_else(|| ConvertError::Unsupported(format!("undefined search `{name}`")))?;
            search(&s.search, ctx)?
        }
        Condition::Not(inner) => format!("not({})", condition(inner, rule, ctx)?),
        Condition::And(items) => join_op(
            items
                .iter()
                .map(|i| condition(i, rule, ctx))
                .collect::<Result<_, _>>()?,
            "and",
        ),
        Condition::Or(items) => join_op(
            items
                .iter()
                .map(|i| condition(i, rule, ctx))
                .collect::<Result<_, _>>()?,
            "or",
        ),
        Condition::Of(q, target) => {
            let names = resolve_target(target, d.searches.iter().map(|s| s.name.as_str()));
            let mut parts = Vec::new();
            for n in names {
                parts.push(condition(&Condition::Ident(n.to_string()), rule, ctx)?);
            }
            match q {
                Quantifier::All => join_op(parts, "and"),
                Quantifier::AtLeast(n) if *n <= 1 => join_op(parts, "or"),
                Quantifier::AtLeast(n) => {
                    let sum: Vec<String> = parts.iter().map(|p| format!("iff({p}, 1, 0)")).collect();
                    format!("({} >= {n})", sum.join(" + "))
                }
            }
        }
    })
}

fn search(s: &Search, ctx: &Ctx<'_>) -> Result<String, ConvertError> {
    match s {
        Search::Map(items) => {
            let parts = items.iter().map(|m| field_match(m, ctx)).collect::<Result<_, _>>()?;
            Ok(join_op(parts, "and"))
        }
        Search::List(items) => {
            let parts = items.iter().map(|m| search(m, ctx)).collect::<Result<_, _>>()?;
            Ok(join_op(parts, "or"))
        }
    }
}

fn field_match(m: &FieldMatch, ctx: &Ctx<'_>) -> Result<String, ConvertError> {
    let Some(field) = &m.field else {
        return Err(ConvertError::Unsupported("a keyword search (no field)".into()));
    };
    if m.time_part.is_some() {
        return Err(ConvertError::Unsupported(format!("the time modifier on `{field}`")));
    }
    if let FieldSpec::Lookup {
        field: from,
        values,
        keep,
    } = ctx.source.field(field)
    {
        return lookup_match(m, field, &from, &values, keep, ctx);
    }
    let e = ctx.field(field)?;
    let dynamic = match ctx.source.field(field) {
        FieldSpec::Member { column, path, .. } => Some(ctx.member(field, &column, &path)?),
        _ => None,
    };
    let mut parts = Vec::new();
    for v in &m.values {
        parts.push(match (v, &dynamic) {
            // `tostring` of a missing member is "", never null: test the member itself.
            (Value::Exists(true), Some(d)) => format!("isnotnull({d})"),
            (Value::Exists(false), Some(d)) => format!("isnull({d})"),
            _ => value(&e, v, m.cased, ctx)?,
        });
    }
    let joined = join_op(parts, if m.all { "and" } else { "or" });
    Ok(if m.neq { format!("not({joined})") } else { joined })
}

/// A test on a lookup field. Its translations are a finite set of constants, so the test is
/// decided here for each of them (by the matcher the engine uses) and becomes a test of which
/// values the event field has; a kept event value is tested as it is. Same semantics as the
/// engine: the test holds when it holds for any value, an event value without translation (and
/// not kept) makes the field absent.
fn lookup_match(
    m: &FieldMatch,
    name: &str,
    from: &str,
    values: &[(String, Vec<String>)],
    keep: bool,
    ctx: &Ctx<'_>,
) -> Result<String, ConvertError> {
    if m.values.iter().any(|v| matches!(v, Value::FieldRef(_))) {
        return Err(ConvertError::Unsupported(format!(
            "`fieldref` on the translated field `{name}`"
        )));
    }
    let e = ctx.column(from).map_err(|err| match err {
        ConvertError::NoColumn { table, .. } => ConvertError::NoColumn {
            field: name.to_string(),
            table,
        },
        other => other,
    })?;
    let plain = Source {
        kind: SourceKind::EventLog,
        channels: Vec::new(),
        event_ids: Vec::new(),
        fields: Default::default(),
        conditions: Default::default(),
    };
    let test = compile_field(m, &plain, &mut FieldTable::default())
        .map_err(|err| ConvertError::Unsupported(format!("`{name}`: {err}")))?;
    let mut hits: Vec<String> = Vec::new();
    for (to, event_values) in values {
        let lower = fold_case(to);
        if values_on_present(
            &test,
            Some(Val {
                orig: to,
                lower: &lower,
            }),
            &[],
        ) {
            for v in event_values {
                if !hits.iter().any(|h| h.eq_ignore_ascii_case(v)) {
                    hits.push(v.clone());
                }
            }
        }
    }
    let mut parts = Vec::new();
    if !hits.is_empty() {
        parts.push(in_list(&e, &hits, true));
    }
    if keep {
        let mut own = Vec::new();
        for v in &m.values {
            own.push(value(&e, v, m.cased, ctx)?);
        }
        parts.push(join_op(own, if m.all { "and" } else { "or" }));
    } else if values_on_absent(&test) {
        let every: Vec<String> = values.iter().flat_map(|(_, v)| v.iter().cloned()).collect();
        parts.push(format!("not({})", in_list(&e, &every, true)));
    }
    let joined = join_op(parts, "or");
    Ok(if m.neq { format!("not({joined})") } else { joined })
}

fn value(e: &str, v: &Value, cased: bool, ctx: &Ctx<'_>) -> Result<String, ConvertError> {
    Ok(match v {
        Value::Pattern(p) => pattern(e, p, cased),
        Value::Regex(r) => {
            let mut flags = String::new();
            for (on, f) in [(r.case_insensitive, 'i'), (r.multi_line, 'm'), (r.dot_all, 's')] {
                if on {
                    flags.push(f);
                }
            }
            let re = if flags.is_empty() {
                r.pattern.clone()
            } else {
                format!("(?{flags}){}", r.pattern)
            };
            format!("{e} matches regex {}", quote(&re))
        }
        Value::Cidr(c) => cidr(e, c)?,
        Value::Compare(op, n) => {
            let op = match op {
                CmpOp::Eq => "==",
                CmpOp::Gt => ">",
                CmpOp::Gte => ">=",
                CmpOp::Lt => "<",
                CmpOp::Lte => "<=",
            };
            format!("todouble({e}) {op} {n}")
        }
        Value::Null => format!("isempty({e})"),
        Value::Exists(true) => format!("isnotnull({e})"),
        Value::Exists(false) => format!("isnull({e})"),
        Value::FieldRef(other) => {
            let o = ctx.field(other)?;
            format!("{e} {} {o}", if cased { "==" } else { "=~" })
        }
    })
}

fn cidr(e: &str, c: &Cidr) -> Result<String, ConvertError> {
    if c.network.is_ipv6() {
        return Err(ConvertError::Unsupported(format!(
            "the IPv6 range {}/{}",
            c.network, c.prefix
        )));
    }
    Ok(format!(
        "ipv4_is_in_range({e}, {})",
        quote(&format!("{}/{}", c.network, c.prefix))
    ))
}

fn is_integer(s: &str) -> bool {
    let d = s.strip_prefix('-').unwrap_or(s);
    !d.is_empty() && d.bytes().all(|b| b.is_ascii_digit())
}

/// A string pattern: the plain KQL operators where the wildcards allow, else an anchored regex.
fn pattern(e: &str, p: &Pattern, cased: bool) -> String {
    let t = p.tokens();
    let cs = if cased { "_cs" } else { "" };
    match t {
        [] => format!("{e} == \"\""),
        // A number in the rule compares as text (Sigma semantics), whatever the column's type.
        [Token::Literal(l)] if is_integer(l) && e.starts_with("tostring(") => format!("{e} == {}", quote(l)),
        [Token::Literal(l)] if is_integer(l) => format!("tostring({e}) == {}", quote(l)),
        [Token::Literal(l)] => format!("{e} {} {}", if cased { "==" } else { "=~" }, quote(l)),
        [Token::AnyString] => format!("isnotnull({e})"),
        [Token::AnyString, Token::Literal(l), Token::AnyString] => format!("{e} contains{cs} {}", quote(l)),
        [Token::Literal(l), Token::AnyString] => format!("{e} startswith{cs} {}", quote(l)),
        [Token::AnyString, Token::Literal(l)] => format!("{e} endswith{cs} {}", quote(l)),
        _ => {
            let mut re = String::from(if cased { "^" } else { "(?i)^" });
            for tok in t {
                match tok {
                    Token::Literal(l) => re.push_str(&regex::escape(l)),
                    Token::AnyString => re.push_str("(?s:.*)"),
                    Token::AnyChar => re.push_str("(?s:.)"),
                    Token::Dash => {
                        re.push('[');
                        for d in DASHES {
                            re.push_str(&regex::escape(&d.to_string()));
                        }
                        re.push(']');
                    }
                }
            }
            re.push('$');
            format!("{e} matches regex {}", quote(&re))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::collection::RuleSet;

    fn convert(text: &str, set: TableSet) -> Result<String, ConvertError> {
        let mut rs = RuleSet::new();
        rs.add_text(text, "t.yml");
        assert!(rs.rejected().is_empty(), "{:?}", rs.rejected());
        let rule = rs.rules().first().cloned().unwrap_or_else(|| panic!("no rule"));
        to_kql(&rule, LogsourceMap::builtin(), set, &|_, c| {
            (c != "NoSuchColumn").then_some(c != "ProcessId")
        })
    }

    const PROC: &str = "title: T\nid: x-1\nlogsource: {category: process_creation, product: windows}\n";

    #[test]
    fn initiated_becomes_a_lookup_of_action_type() {
        let net = "title: t\nlogsource:\n  category: network_connection\n  product: windows\n";
        let q = convert(
            &format!("{net}detection:\n  sel:\n    Initiated: 'true'\n    DestinationHostname|endswith: '.devtunnels.ms'\n  condition: sel\n"),
            TableSet::Defender,
        )
        .unwrap_or_else(|e| panic!("{e}"));
        assert!(q.contains("\nDeviceNetworkEvents\n| where "), "{q}");
        assert!(
            q.contains(
                r#"ActionType in~ (@"ConnectionSuccess", @"ConnectionFailed", @"ConnectionAttempt", @"ConnectionRequest", @"ConnectionFound")"#
            ),
            "{q}"
        );
        assert!(!q.contains("InboundConnectionAccepted"), "{q}");
        assert!(q.contains(r#"RemoteUrl endswith @".devtunnels.ms""#), "{q}");
        // `null`: no translation, i.e. none of the listed ActionTypes.
        let q = convert(
            &format!("{net}detection:\n  sel:\n    Initiated: null\n  condition: sel\n"),
            TableSet::Defender,
        )
        .unwrap_or_else(|e| panic!("{e}"));
        assert!(
            q.contains(r#"not(ActionType in~ (@"InboundConnectionAccepted", @"ConnectionSuccess""#),
            "{q}"
        );
        // Run directly, the same lookup reads ActionType of Defender rows.
        let incoming = format!(
            "{net}detection:\n  sel:\n    Image|endswith: '\\AnyDesk.exe'\n    Initiated: 'false'\n  condition: sel\n"
        );
        let mut rs = RuleSet::new();
        rs.add_text(&incoming, "t.yml");
        let compiled = rs.compile();
        let row = |action: &'static str| {
            crate::Event::new()
                .with_channel("DeviceNetworkEvents")
                .with_str("ActionType", action)
                .with_str("InitiatingProcessFolderPath", r"C:\Program Files\AnyDesk\AnyDesk.exe")
        };
        assert_eq!(compiled.matches(&row("InboundConnectionAccepted")).count(), 1);
        assert_eq!(compiled.matches(&row("inboundconnectionaccepted")).count(), 1);
        assert_eq!(compiled.matches(&row("ConnectionSuccess")).count(), 0);
        assert_eq!(compiled.matches(&row("ListeningConnectionCreated")).count(), 0);
    }

    /// The columns of the telemetry schema as far as these tests need: `AdditionalFields` is
    /// dynamic, the Sigma names of JSON members are no columns.
    fn defender_columns(_: &str, c: &str) -> Option<bool> {
        match c {
            "QueryName" | "PipeName" | "NoSuchColumn" => None,
            "AdditionalFields" | "InitiatingProcessId" | "ProcessId" => Some(false),
            _ => Some(true),
        }
    }

    fn rule(text: &str) -> SigmaRule {
        let mut rs = RuleSet::new();
        rs.add_text(text, "t.yml");
        assert!(rs.rejected().is_empty(), "{:?}", rs.rejected());
        rs.rules().first().cloned().unwrap_or_else(|| panic!("no rule"))
    }

    const DNS: &str = "title: D\nlogsource: {category: dns_query, product: windows}\ndetection:\n  sel:\n    \
                       QueryName|endswith: ['.anydesk.com', '.teamviewer.com']\n  filter:\n    \
                       Image|endswith: '\\AnyDesk.exe'\n  condition: sel and not filter\n";

    #[test]
    fn dns_query_reads_the_query_name_from_additional_fields() {
        let q = to_kql(
            &rule(DNS),
            LogsourceMap::builtin(),
            TableSet::Defender,
            &defender_columns,
        )
        .unwrap_or_else(|e| panic!("{e}"));
        assert!(
            q.contains(
                "\nDeviceEvents\n| where ActionType in~ (@\"DnsQueryResponse\", @\"DnsQueryRequest\")\n\
                 | extend QueryName = tostring(parse_json(AdditionalFields).DnsQueryString)\n| where "
            ),
            "{q}"
        );
        assert!(
            q.contains(r#"(QueryName endswith @".anydesk.com" or QueryName endswith @".teamviewer.com")"#),
            "{q}"
        );
        assert!(
            q.contains(r#"not(InitiatingProcessFolderPath endswith @"\AnyDesk.exe")"#),
            "{q}"
        );
        assert!(q.ends_with("\n| project-away QueryName\n"), "{q}");
        // Where the Sigma name is a column already, the member is read inline.
        let q = convert(DNS, TableSet::Defender).unwrap_or_else(|e| panic!("{e}"));
        assert!(!q.contains("extend"), "{q}");
        assert!(
            q.contains(r#"tostring(parse_json(AdditionalFields).DnsQueryString) endswith @".anydesk.com""#),
            "{q}"
        );
        // `exists` tests the member, not its text ("" when missing).
        let q = to_kql(
            &rule("title: D\nlogsource: {category: dns_query, product: windows}\ndetection:\n  s:\n    QueryName|exists: true\n  condition: s\n"),
            LogsourceMap::builtin(),
            TableSet::Defender,
            &defender_columns,
        )
        .unwrap_or_else(|e| panic!("{e}"));
        assert!(
            q.contains("| where isnotnull(parse_json(AdditionalFields).DnsQueryString)"),
            "{q}"
        );
        // Sysmon's QueryResults has no exact Defender form: refused, not approximated.
        let r = to_kql(
            &rule(
                "title: D\nlogsource: {category: dns_query, product: windows}\ndetection:\n  s:\n    QueryResults|contains: '1.2.3.4'\n  condition: s\n",
            ),
            LogsourceMap::builtin(),
            TableSet::Defender,
            &|t, c| (c != "QueryResults").then(|| defender_columns(t, c)).flatten(),
        );
        assert!(matches!(r, Err(ConvertError::NoColumn { .. })), "{r:?}");
    }

    const SERVICE: &str = "title: S\nlogsource: {product: windows, service: system}\ndetection:\n  sel:\n    \
                           Provider_Name: 'Service Control Manager'\n    EventID: 7045\n    ServiceName|startswith: 'AnyDesk'\n  \
                           condition: sel\n";

    #[test]
    fn service_installs_are_defender_service_installed_rows() {
        let q = to_kql(
            &rule(SERVICE),
            LogsourceMap::builtin(),
            TableSet::Defender,
            &defender_columns,
        )
        .unwrap_or_else(|e| panic!("{e}"));
        assert!(
            q.contains("\nDeviceEvents\n| where ActionType =~ @\"ServiceInstalled\"\n"),
            "{q}"
        );
        assert!(q.contains("tostring(parse_json(AdditionalFields).ServiceName)"), "{q}");
        // natively: the row is event 7045 of the Service Control Manager, and no other event
        let mut rs = RuleSet::new();
        rs.add_text(SERVICE, "t.yml");
        let other = SERVICE.replace("7045", "7036");
        rs.add_text(&other, "u.yml");
        let compiled = rs.compile();
        let row = |action: &'static str, fields: &'static str| {
            crate::Event::new()
                .with_channel("DeviceEvents")
                .with_str("ActionType", action)
                .with_str("AdditionalFields", fields)
        };
        let anydesk = r#"{"ServiceName":"AnyDesk Service","ImagePath":"C:\\AnyDesk.exe"}"#;
        let hits: Vec<_> = compiled.matches(&row("ServiceInstalled", anydesk)).collect();
        assert_eq!(hits.len(), 1);
        assert_eq!(compiled.rule(hits[0]).map(|r| r.title.as_str()), Some("S"));
        assert_eq!(compiled.matches(&row("ProcessCreated", anydesk)).count(), 0);
        assert_eq!(
            compiled
                .matches(&row("ServiceInstalled", r#"{"ServiceName":"Spooler"}"#))
                .count(),
            0
        );
    }

    #[test]
    fn dns_query_matches_defender_rows_natively() {
        let mut rs = RuleSet::new();
        rs.add_text(DNS, "t.yml");
        let compiled = rs.compile();
        let row = |action: &'static str, fields: &'static str, image: &'static str| {
            crate::Event::new()
                .with_channel("DeviceEvents")
                .with_str("ActionType", action)
                .with_str("AdditionalFields", fields)
                .with_str("InitiatingProcessFolderPath", image)
        };
        let chrome = r"C:\Program Files\Google\Chrome\Application\chrome.exe";
        let relay = r#"{"DnsQueryString":"relay-1.net.anydesk.com","EventSource":"Sysmon/22"}"#;
        assert_eq!(compiled.matches(&row("DnsQueryResponse", relay, chrome)).count(), 1);
        assert_eq!(compiled.matches(&row("DnsQueryRequest", relay, chrome)).count(), 1);
        // the filter, another ActionType, another name, no member, not JSON
        assert_eq!(
            compiled
                .matches(&row("DnsQueryResponse", relay, r"C:\x\AnyDesk.exe"))
                .count(),
            0
        );
        assert_eq!(compiled.matches(&row("ConnectionSuccess", relay, chrome)).count(), 0);
        let other = r#"{"DnsQueryString":"example.org"}"#;
        assert_eq!(compiled.matches(&row("DnsQueryResponse", other, chrome)).count(), 0);
        assert_eq!(
            compiled
                .matches(&row("DnsQueryResponse", r#"{"Q":"a.anydesk.com"}"#, chrome))
                .count(),
            0
        );
        assert_eq!(
            compiled
                .matches(&row("DnsQueryResponse", "x.anydesk.com", chrome))
                .count(),
            0
        );
        // A hunt row whose AdditionalFields object was flattened into fields by leaf name.
        let flat = crate::Event::new()
            .with_channel("DeviceEvents")
            .with_str("ActionType", "DnsQueryResponse")
            .with_str("DnsQueryString", "relay-1.net.anydesk.com")
            .with_str("InitiatingProcessFolderPath", chrome);
        assert_eq!(compiled.matches(&flat).count(), 1);
        // `exists` agrees with the query's `isnotnull` of the member.
        let mut rs = RuleSet::new();
        rs.add_text(
            "title: D\nlogsource: {category: dns_query, product: windows}\ndetection:\n  s:\n    QueryName|exists: true\n  condition: s\n",
            "t.yml",
        );
        let exists = rs.compile();
        assert_eq!(exists.matches(&row("DnsQueryResponse", relay, chrome)).count(), 1);
        assert_eq!(
            exists
                .matches(&row("DnsQueryResponse", r#"{"DnsQueryString":null}"#, chrome))
                .count(),
            0
        );
        assert_eq!(exists.matches(&row("DnsQueryResponse", "{}", chrome)).count(), 0);
    }

    #[test]
    fn pipe_created_reads_the_pipe_name_without_the_device_prefix() {
        let text = "title: P\nlogsource: {category: pipe_created, product: windows}\ndetection:\n  sel:\n    \
                    PipeName|startswith: '\\PSEXESVC'\n  condition: sel\n";
        let q = to_kql(
            &rule(text),
            LogsourceMap::builtin(),
            TableSet::Defender,
            &defender_columns,
        )
        .unwrap_or_else(|e| panic!("{e}"));
        assert!(
            q.contains(
                "DeviceEvents\n| where ActionType =~ @\"NamedPipeEvent\"\n| extend PipeName = \
                 replace_regex(tostring(parse_json(AdditionalFields).PipeName), @\"(?i)^\\\\Device\\\\NamedPipe\", \"\")\n\
                 | where PipeName startswith @\"\\PSEXESVC\"\n| project-away PipeName"
            ),
            "{q}"
        );
        let mut rs = RuleSet::new();
        rs.add_text(text, "t.yml");
        let compiled = rs.compile();
        let row = |action: &'static str, fields: &'static str| {
            crate::Event::new()
                .with_channel("DeviceEvents")
                .with_str("ActionType", action)
                .with_str("AdditionalFields", fields)
        };
        let psexec = r#"{"PipeName":"\\Device\\NamedPipe\\PSEXESVC-HOST-1234-stdin","NamedPipeEnd":"Server"}"#;
        assert_eq!(compiled.matches(&row("NamedPipeEvent", psexec)).count(), 1);
        let lower = r#"{"PipeName":"\\device\\namedpipe\\PSEXESVC"}"#;
        assert_eq!(compiled.matches(&row("NamedPipeEvent", lower)).count(), 1);
        // already in Sysmon's form: kept as it is
        assert_eq!(
            compiled
                .matches(&row("NamedPipeEvent", r#"{"PipeName":"\\PSEXESVC"}"#))
                .count(),
            1
        );
        assert_eq!(
            compiled
                .matches(&row("NamedPipeEvent", r#"{"PipeName":"\\Device\\NamedPipe\\lsass"}"#))
                .count(),
            0
        );
        assert_eq!(compiled.matches(&row("DnsQueryResponse", psexec)).count(), 0);
    }

    #[test]
    fn remote_thread_and_process_access_read_source_and_target() {
        for cat in ["create_remote_thread", "process_access"] {
            let q = to_kql(
                &rule(&format!(
                    "title: R\nlogsource: {{category: {cat}, product: windows}}\ndetection:\n  sel:\n    \
                     SourceImage|endswith: '\\x.exe'\n    TargetImage|endswith: '\\lsass.exe'\n  condition: sel\n"
                )),
                LogsourceMap::builtin(),
                TableSet::Defender,
                &defender_columns,
            )
            .unwrap_or_else(|e| panic!("{e}"));
            let action = if cat == "process_access" {
                "OpenProcessApiCall"
            } else {
                "CreateRemoteThreadApiCall"
            };
            assert!(
                q.contains(&format!("DeviceEvents\n| where ActionType =~ @\"{action}\"")),
                "{q}"
            );
            assert!(
                q.contains(r#"(InitiatingProcessFolderPath endswith @"\x.exe" and FolderPath endswith @"\lsass.exe")"#),
                "{q}"
            );
        }
        // GrantedAccess (hex, granted) is not Defender's DesiredAccess (decimal, requested).
        let r = to_kql(
            &rule(
                "title: R\nlogsource: {category: process_access, product: windows}\ndetection:\n  s:\n    GrantedAccess: '0x1410'\n  condition: s\n",
            ),
            LogsourceMap::builtin(),
            TableSet::Defender,
            &|t, c| (c != "GrantedAccess").then(|| defender_columns(t, c)).flatten(),
        );
        assert!(matches!(r, Err(ConvertError::NoColumn { .. })), "{r:?}");
    }

    #[test]
    fn integrity_level_reads_the_4688_mandatory_label() {
        let rule = format!(
            "{PROC}detection:\n  sel:\n    Image|endswith: '\\x.exe'\n    IntegrityLevel: ['High', 'S-1-16-16384']\n  \
             low:\n    IntegrityLevel|neq: 'Low'\n  condition: sel and low\n"
        );
        let q = convert(&rule, TableSet::SecurityEvent).unwrap_or_else(|e| panic!("{e}"));
        // `High` holds for the High label; the SID is compared with the label as it is.
        assert!(
            q.contains(
                r#"(MandatoryLabel =~ @"S-1-16-12288" or (MandatoryLabel =~ @"High" or MandatoryLabel =~ @"S-1-16-16384"))"#
            ),
            "{q}"
        );
        assert!(
            q.contains(r#"not((MandatoryLabel =~ @"S-1-16-4096" or MandatoryLabel =~ @"Low"))"#),
            "{q}"
        );
        // Defender rows have the level's name.
        let q = convert(&rule, TableSet::Defender).unwrap_or_else(|e| panic!("{e}"));
        assert!(
            q.contains(r#"(ProcessIntegrityLevel =~ @"High" or ProcessIntegrityLevel =~ @"S-1-16-16384")"#),
            "{q}"
        );
    }

    #[test]
    fn process_creation_to_defender() {
        let q = convert(
            &format!(
                "{PROC}detection:\n  sel:\n    Image|endswith: '\\anydesk.exe'\n    CommandLine|contains|all: ['--a', 'b\"c']\n  \
                 filter:\n    ParentImage|startswith: 'C:\\Program Files\\'\n  condition: sel and not filter\n"
            ),
            TableSet::Defender,
        )
        .unwrap_or_else(|e| panic!("{e}"));
        assert!(q.contains("DeviceProcessEvents\n| where "), "{q}");
        assert!(q.contains(r#"FolderPath endswith @"\anydesk.exe""#), "{q}");
        assert!(
            q.contains(r#"(ProcessCommandLine contains @"--a" and ProcessCommandLine contains @"b""c")"#),
            "{q}"
        );
        assert!(
            q.contains(r#"not(InitiatingProcessFolderPath startswith @"C:\Program Files\")"#),
            "{q}"
        );
    }

    #[test]
    fn security_event_variant_uses_4688_names() {
        let q = convert(
            &format!("{PROC}detection:\n  sel:\n    Image|endswith: '\\x.exe'\n    User: 'D\\u'\n  condition: sel\n"),
            TableSet::SecurityEvent,
        )
        .unwrap_or_else(|e| panic!("{e}"));
        assert!(q.contains("SecurityEvent\n| where EventID in (4688)"), "{q}");
        assert!(q.contains(r#"NewProcessName endswith @"\x.exe""#), "{q}");
        assert!(
            q.contains(r#"strcat(SubjectDomainName, @"\", SubjectUserName) =~ @"D\u""#),
            "{q}"
        );
    }

    #[test]
    fn sysmon_only_source_reads_windows_event_data() {
        let q = convert(
            "title: P\nlogsource: {category: pipe_created, product: windows}\n\
             detection:\n  sel:\n    PipeName|re: '^\\\\x[0-9]+'\n  condition: sel\n",
            TableSet::SecurityEvent,
        )
        .unwrap_or_else(|e| panic!("{e}"));
        assert!(
            q.contains("WindowsEvent\n| where Channel =~ @\"Microsoft-Windows-Sysmon/Operational\""),
            "{q}"
        );
        assert!(
            q.contains(r#"tostring(EventData[@"PipeName"]) matches regex @"^\\x[0-9]+""#),
            "{q}"
        );
        assert!(matches!(
            convert(
                "title: W\nlogsource: {category: wmi_event, product: windows}\ndetection:\n  s:\n    Destination: x\n  condition: s\n",
                TableSet::Defender,
            ),
            Err(ConvertError::NoTable(..))
        ));
    }

    #[test]
    fn wildcards_quantifiers_and_refusals() {
        let q = convert(
            &format!(
                "{PROC}detection:\n  a:\n    CommandLine: '*x*y?'\n  b:\n    CommandLine|windash: '-k'\n  \
                 c:\n    IntegrityLevel: null\n  condition: 2 of them\n"
            ),
            TableSet::Defender,
        )
        .unwrap_or_else(|e| panic!("{e}"));
        assert!(
            q.contains(r#"ProcessCommandLine matches regex @"(?i)^(?s:.*)x(?s:.*)y(?s:.)$""#),
            "{q}"
        );
        assert!(q.contains("iff(isempty(ProcessIntegrityLevel), 1, 0) >= 2)"), "{q}");
        let kw = convert(
            &format!("{PROC}detection:\n  k: [evil]\n  condition: k\n"),
            TableSet::Defender,
        );
        assert!(matches!(kw, Err(ConvertError::Unsupported(_))), "{kw:?}");
        let col = convert(
            &format!("{PROC}detection:\n  s:\n    NoSuchColumn: 1\n  condition: s\n"),
            TableSet::Defender,
        );
        assert_eq!(
            col,
            Err(ConvertError::NoColumn {
                field: "NoSuchColumn".into(),
                table: "DeviceProcessEvents".into()
            })
        );
    }
}
