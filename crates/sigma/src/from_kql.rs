//! KQL → Sigma: a query over one Defender table made of `where` filters (comparisons of
//! columns with constants, joined by `and`/`or`/`not`) becomes a Sigma rule; the table gives
//! the logsource and the logsource mapping gives the Sigma field names. Anything else (joins,
//! `let`, computed columns, `has`, aggregation, ...) is refused with the construct named.

use std::fmt::Write as _;

use kql::ast::{BinaryOp, Expr, ListOp, Literal, OperatorKind, Statement, StringOpKind};

use crate::logsource::{FieldSpec, LogsourceMap, SourceKind};

/// The Defender table whose rows several logsources share (see `logsources.yaml`).
const MIXED_TABLE: &str = "DeviceEvents";

/// Rule metadata for the Sigma header.
#[derive(Debug, Clone, Default)]
pub struct RuleHeader {
    /// `title`.
    pub title: String,
    /// `id` (a UUID, e.g. the Sentinel rule's).
    pub id: Option<String>,
    /// `description`.
    pub description: Option<String>,
    /// `level` (`informational`, `low`, `medium`, `high`, `critical`).
    pub level: Option<String>,
    /// `tags`, e.g. `attack.t1219`.
    pub tags: Vec<String>,
}

/// Converts a KQL query to a Sigma rule (YAML text); the error names what Sigma cannot express.
pub fn from_kql(query: &str, header: &RuleHeader, map: &LogsourceMap) -> Result<String, String> {
    let parsed = kql::parse(query);
    if let Some(d) = parsed.diagnostics.first() {
        return Err(format!("the query does not parse: {}", d.message));
    }
    let mut stmts = parsed.query.statements.iter();
    let (Some(Statement::Expr(expr)), None) = (stmts.next(), stmts.next()) else {
        return Err("statements other than one tabular expression (`let`, `set`, ...)".into());
    };
    let (table, ops) = match expr {
        Expr::Pipeline { source, ops, .. } => (&**source, ops.as_slice()),
        other => (other, &[][..]),
    };
    let Expr::Name(table) = table else {
        return Err("a source other than a single table (union, datatable, a function call)".into());
    };
    let table = table.name.as_str();
    // DeviceEvents rows are of unrelated kinds (DNS queries, pipes, service installs, ...), told
    // apart only by ActionType: a query over it is not one logsource's.
    if table == MIXED_TABLE {
        return Err(format!(
            "the table {table} (its rows are of several logsources, by ActionType)"
        ));
    }
    let (ls, source) = map
        .entries
        .iter()
        .find_map(|e| {
            e.sources
                .iter()
                .find(|s| s.kind == SourceKind::DefenderTable && s.channels.iter().any(|c| c == table))
                .map(|s| (e, s))
        })
        .ok_or_else(|| format!("the table {table} (no Sigma logsource maps to it)"))?;
    let mut conv = Conv {
        source,
        selections: Vec::new(),
    };
    let mut conds = Vec::new();
    let mut shaping = false;
    for op in ops {
        match &op.kind {
            OperatorKind::Where(e) if !shaping => conds.push(conv.cond(e)?),
            OperatorKind::Where(_) => return Err("a `where` after a projection".into()),
            OperatorKind::Project(items)
                if items
                    .iter()
                    .all(|n| n.names.is_empty() && matches!(n.expr, Expr::Name(_))) =>
            {
                shaping = true
            }
            OperatorKind::ProjectAway(_) | OperatorKind::ProjectKeep(_) | OperatorKind::Sort { .. } => shaping = true,
            other => return Err(format!("the operator {}", operator_name(other))),
        }
    }
    if conds.is_empty() {
        return Err("a query without a `where` filter".into());
    }
    let condition = if conds.len() == 1 {
        conds.pop().unwrap_or_default()
    } else {
        conds.iter().map(|c| format!("({c})")).collect::<Vec<_>>().join(" and ")
    };
    let mut out = String::new();
    let _ = writeln!(out, "title: {}", yaml_str(&header.title));
    if let Some(id) = &header.id {
        let _ = writeln!(out, "id: {}", yaml_str(id));
    }
    let _ = writeln!(out, "status: experimental");
    if let Some(d) = header.description.as_deref().filter(|d| !d.trim().is_empty()) {
        let _ = writeln!(out, "description: {}", yaml_str(d.trim()));
    }
    if !header.tags.is_empty() {
        let _ = writeln!(out, "tags:");
        for t in &header.tags {
            let _ = writeln!(out, "  - {}", yaml_str(t));
        }
    }
    let _ = writeln!(out, "logsource:");
    for (k, v) in [
        ("product", &ls.product),
        ("category", &ls.category),
        ("service", &ls.service),
    ] {
        if let Some(v) = v {
            let _ = writeln!(out, "  {k}: {v}");
        }
    }
    let _ = writeln!(out, "detection:");
    for (i, (field, mods, values)) in conv.selections.iter().enumerate() {
        let key = if mods.is_empty() {
            field.clone()
        } else {
            format!("{field}|{}", mods.join("|"))
        };
        let _ = writeln!(out, "  sel{}:", i + 1);
        if values.len() == 1 {
            let _ = writeln!(out, "    {}: {}", yaml_str(&key), values[0]);
        } else {
            let _ = writeln!(out, "    {}:", yaml_str(&key));
            for v in values {
                let _ = writeln!(out, "      - {v}");
            }
        }
    }
    let _ = writeln!(out, "  condition: {condition}");
    if let Some(l) = &header.level {
        let _ = writeln!(out, "level: {l}");
    }
    Ok(out)
}

struct Conv<'m> {
    source: &'m crate::logsource::Source,
    /// (Sigma field, modifiers, YAML values)
    selections: Vec<(String, Vec<&'static str>, Vec<String>)>,
}

impl Conv<'_> {
    /// The Sigma field of a column: the mapping's name when the column is mapped one to one.
    fn field(&self, e: &Expr) -> Result<String, String> {
        let Expr::Name(id) = strip(e) else {
            return Err(format!("a computed value ({}) compared", describe(e)));
        };
        let col = id.name.as_str();
        let mapped = self.source.fields.iter().find_map(|(sigma, spec)| match spec {
            FieldSpec::Field(f) if f == col => Some(sigma.clone()),
            _ => None,
        });
        Ok(mapped.unwrap_or_else(|| col.to_string()))
    }

    /// For a `...FileName` column whose `...FolderPath` column is a Sigma field (`FileName` →
    /// `Image`): that field, to be compared with `endswith` (Sysmon events have no file name).
    fn basename_field(&self, e: &Expr) -> Option<String> {
        let Expr::Name(id) = strip(e) else { return None };
        let folder = id.name.strip_suffix("FileName")?.to_string() + "FolderPath";
        self.source.fields.iter().find_map(|(sigma, spec)| match spec {
            FieldSpec::Field(f) if *f == folder => Some(sigma.clone()),
            _ => None,
        })
    }

    fn add(&mut self, field: String, mods: Vec<&'static str>, values: Vec<String>) -> String {
        self.selections.push((field, mods, values));
        format!("sel{}", self.selections.len())
    }

    /// A predicate as a Sigma condition over new selections.
    fn cond(&mut self, e: &Expr) -> Result<String, String> {
        match e {
            Expr::Paren(inner, _) => Ok(format!("({})", self.cond(inner)?)),
            Expr::Logical { op, operands, .. } => {
                let word = if *op == BinaryOp::And { " and " } else { " or " };
                let parts = operands
                    .iter()
                    .map(|o| self.cond(o).map(|c| paren_if_or(&c, word)))
                    .collect::<Result<Vec<_>, _>>()?;
                Ok(parts.join(word))
            }
            Expr::Call {
                receiver: None,
                name,
                args,
                ..
            } if name.is("not") && args.len() == 1 => Ok(format!("not ({})", self.cond(args[0].expr())?)),
            Expr::Call {
                receiver: None,
                name,
                args,
                ..
            } if (name.is("isempty") || name.is("isnotempty") || name.is("isnull") || name.is("isnotnull"))
                && args.len() == 1 =>
            {
                let f = self.field(args[0].expr())?;
                let empty = name.is("isempty") || name.is("isnull");
                let s = self.add(f, Vec::new(), vec!["null".into()]);
                Ok(if empty { s } else { format!("not {s}") })
            }
            Expr::Binary { op, left, right, .. } => self.binary(*op, left, right),
            Expr::List { op, expr, items, .. } => {
                if self.basename_field(expr).is_some() {
                    return Err("a list of file names (write `FolderPath endswith` instead)".into());
                }
                let f = self.field(expr)?;
                let values = items
                    .iter()
                    .map(|i| constant(i).ok_or_else(|| format!("a non-constant list item ({})", describe(i))))
                    .collect::<Result<Vec<_>, _>>()?;
                let (cased, negated) = match op {
                    ListOp::In => (true, false),
                    ListOp::NotIn => (true, true),
                    ListOp::InCi => (false, false),
                    ListOp::NotInCi => (false, true),
                    ListOp::HasAny | ListOp::HasAll => {
                        return Err(format!("`{}` (term matching)", op.keyword()));
                    }
                };
                let mods = if cased && values.iter().any(|v| v.is_string) {
                    vec!["cased"]
                } else {
                    Vec::new()
                };
                let s = self.add(f, mods, values.into_iter().map(|v| v.yaml).collect());
                Ok(if negated { format!("not {s}") } else { s })
            }
            other => Err(format!("the predicate {}", describe(other))),
        }
    }

    fn binary(&mut self, op: BinaryOp, left: &Expr, right: &Expr) -> Result<String, String> {
        let value = constant(right).ok_or_else(|| format!("a comparison with a non-constant ({})", describe(right)))?;
        if let (Some(f), Some(text)) = (self.basename_field(left), value.text.clone()) {
            // `FileName =~ "x"` is `Image|endswith: '\x'`; an `endswith` keeps its value.
            let (mods, negated, v): (Vec<&'static str>, bool, String) = match op {
                BinaryOp::Eq => (vec!["endswith", "cased"], false, format!("\\{text}")),
                BinaryOp::EqCi => (vec!["endswith"], false, format!("\\{text}")),
                BinaryOp::NotEq => (vec!["endswith", "cased"], true, format!("\\{text}")),
                BinaryOp::NotEqCi => (vec!["endswith"], true, format!("\\{text}")),
                BinaryOp::Str(s) if s.kind == StringOpKind::EndsWith => {
                    let mut m = vec!["endswith"];
                    if s.case_sensitive {
                        m.push("cased");
                    }
                    (m, s.negated, text)
                }
                _ => return Err(format!("`{}` on a file name (Sigma has the path only)", op.symbol())),
            };
            let s = self.add(f, mods, vec![yaml_str(&escape_wildcards(&v))]);
            return Ok(if negated { format!("not {s}") } else { s });
        }
        let f = self.field(left)?;
        let (mods, negated): (Vec<&'static str>, bool) = match op {
            BinaryOp::Eq if value.is_string => (vec!["cased"], false),
            BinaryOp::Eq | BinaryOp::EqCi => (Vec::new(), false),
            BinaryOp::NotEq if value.is_string => (vec!["cased"], true),
            BinaryOp::NotEq | BinaryOp::NotEqCi => (Vec::new(), true),
            BinaryOp::Lt => (vec!["lt"], false),
            BinaryOp::Le => (vec!["lte"], false),
            BinaryOp::Gt => (vec!["gt"], false),
            BinaryOp::Ge => (vec!["gte"], false),
            BinaryOp::Str(s) => {
                let base = match s.kind {
                    StringOpKind::Contains => "contains",
                    StringOpKind::StartsWith => "startswith",
                    StringOpKind::EndsWith => "endswith",
                    StringOpKind::MatchesRegex => {
                        let re = value.text.clone().ok_or("`matches regex` with a non-string pattern")?;
                        let s = self.add(f, vec!["re"], vec![yaml_str(&re)]);
                        return Ok(s);
                    }
                    _ => return Err(format!("`{}` (term matching has no Sigma equivalent)", s.keyword())),
                };
                let mut m = vec![base];
                if s.case_sensitive {
                    m.push("cased");
                }
                (m, s.negated)
            }
            other => return Err(format!("the operator `{}`", other.symbol())),
        };
        if matches!(op, BinaryOp::Lt | BinaryOp::Le | BinaryOp::Gt | BinaryOp::Ge) && value.is_string {
            return Err("an ordering comparison with a string".into());
        }
        let s = self.add(f, mods, vec![value.yaml]);
        Ok(if negated { format!("not {s}") } else { s })
    }
}

fn paren_if_or(c: &str, joiner: &str) -> String {
    if joiner == " and " && c.contains(" or ") && !(c.starts_with('(') && c.ends_with(')')) {
        format!("({c})")
    } else {
        c.to_string()
    }
}

fn strip(e: &Expr) -> &Expr {
    match e {
        Expr::Paren(inner, _) => strip(inner),
        other => other,
    }
}

/// A constant as a Sigma YAML value.
struct Constant {
    yaml: String,
    text: Option<String>,
    is_string: bool,
}

fn constant(e: &Expr) -> Option<Constant> {
    let Expr::Literal(lit, _) = strip(e) else { return None };
    Some(match lit {
        Literal::String { value, .. } => Constant {
            yaml: yaml_str(&escape_wildcards(value)),
            text: Some(value.clone()),
            is_string: true,
        },
        Literal::Int(Some(i)) => number(i.to_string()),
        Literal::Long(Some(i)) => number(i.to_string()),
        Literal::Real(Some(f)) => number(f.to_string()),
        Literal::Bool(Some(b)) => Constant {
            yaml: b.to_string(),
            text: None,
            is_string: false,
        },
        _ => return None,
    })
}

fn number(n: String) -> Constant {
    Constant {
        yaml: n,
        text: None,
        is_string: false,
    }
}

/// Escapes Sigma's wildcards and the backslashes that would otherwise start an escape.
fn escape_wildcards(s: &str) -> String {
    let chars: Vec<char> = s.chars().collect();
    let mut out = String::with_capacity(s.len());
    for (i, c) in chars.iter().enumerate() {
        match c {
            '*' | '?' => {
                out.push('\\');
                out.push(*c);
            }
            '\\' if matches!(chars.get(i + 1), Some('*' | '?' | '\\')) => out.push_str("\\\\"),
            c => out.push(*c),
        }
    }
    out
}

/// A single-quoted YAML scalar.
fn yaml_str(s: &str) -> String {
    format!("'{}'", s.replace('\'', "''").replace('\n', " "))
}

fn describe(e: &Expr) -> String {
    match e {
        Expr::Call { name, .. } => format!("{}()", name.name),
        Expr::Name(n) => n.name.clone(),
        Expr::Member { .. } | Expr::Index { .. } => "a dynamic property".into(),
        Expr::Pipeline { .. } | Expr::Source(_) => "a subquery".into(),
        Expr::Binary { op, .. } => format!("`{}`", op.symbol()),
        Expr::Between { .. } => "`between`".into(),
        _ => "an expression".into(),
    }
}

fn operator_name(k: &OperatorKind) -> String {
    let dbg = format!("{k:?}");
    let name: String = dbg.chars().take_while(|c| c.is_ascii_alphanumeric()).collect();
    let mut out = String::new();
    for (i, c) in name.chars().enumerate() {
        if c.is_ascii_uppercase() && i > 0 {
            out.push('-');
        }
        out.push(c.to_ascii_lowercase());
    }
    format!("`{out}`")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::collection::RuleSet;
    use crate::event::Event;

    fn header() -> RuleHeader {
        RuleHeader {
            title: "AnyDesk from Temp".into(),
            id: Some("11111111-2222-3333-4444-555555555555".into()),
            level: Some("medium".into()),
            tags: vec!["attack.t1219".into()],
            ..RuleHeader::default()
        }
    }

    #[test]
    fn simple_query_becomes_a_loadable_rule() {
        let y = from_kql(
            r#"DeviceProcessEvents
| where FileName =~ "anydesk.exe" and (FolderPath contains @"\Temp\" or ProcessCommandLine has_cs "x" or AccountName in~ ("cmd.exe", "a*b.exe"))
| project Timestamp, DeviceName"#,
            &header(),
            LogsourceMap::builtin(),
        );
        // `has_cs` is term matching: refused by name.
        assert!(y.as_ref().is_err_and(|e| e.contains("has_cs")), "{y:?}");
        let y = from_kql(
            r#"DeviceProcessEvents
| where FileName =~ "anydesk.exe" and (FolderPath contains @"\Temp\" or AccountName in~ ("cmd.exe", "a*b.exe"))
| where not(ProcessCommandLine startswith_cs "--svc")
| project Timestamp, DeviceName"#,
            &header(),
            LogsourceMap::builtin(),
        )
        .unwrap_or_else(|e| panic!("{e}"));
        assert!(y.contains("category: process_creation"), "{y}");
        assert!(y.contains("'Image|contains': '\\Temp\\'"), "{y}");
        assert!(y.contains("- 'a\\*b.exe'"), "{y}");
        // FileName is the end of the Sigma Image path.
        assert!(y.contains("'Image|endswith': '\\anydesk.exe'"), "{y}");
        let mut set = RuleSet::new();
        set.add_text(&y, "x.yml");
        assert!(set.rejected().is_empty(), "{:?}\n{y}", set.rejected());
        let c = set.compile();
        let ev = |folder: &'static str, parent: &'static str, cmd: &'static str| {
            Event::new()
                .with_channel("DeviceProcessEvents")
                .with_str("FileName", "AnyDesk.exe")
                .with_str("FolderPath", folder)
                .with_str("AccountName", parent)
                .with_str("ProcessCommandLine", cmd)
        };
        assert_eq!(
            c.matches(&ev(r"C:\Users\a\AppData\Local\Temp\AnyDesk.exe", "explorer.exe", ""))
                .count(),
            1
        );
        assert_eq!(
            c.matches(&ev(r"C:\Program Files\AnyDesk.exe", "a*b.exe", "")).count(),
            1
        );
        assert_eq!(
            c.matches(&ev(r"C:\Program Files\AnyDesk.exe", "aXb.exe", "")).count(),
            0
        );
        assert_eq!(c.matches(&ev(r"C:\Temp\AnyDesk.exe", "x", "--svc")).count(), 0);
        assert_eq!(c.matches(&ev(r"C:\Temp\AnyDesk.exe", "x", "--SVC")).count(), 1);
        assert_eq!(c.matches(&ev(r"C:\Temp\NotAnyDesk.exe.bak", "x", "")).count(), 0);
        let r = from_kql(
            "DeviceProcessEvents | where FileName contains 'desk'",
            &header(),
            LogsourceMap::builtin(),
        );
        assert!(r.as_ref().is_err_and(|e| e.contains("file name")), "{r:?}");
    }

    #[test]
    fn refusals_name_the_construct() {
        let m = LogsourceMap::builtin();
        let h = header();
        for (q, what) in [
            ("let x = 1; DeviceProcessEvents | where FileName == 'a'", "statements"),
            ("DeviceProcessEvents | summarize count() by DeviceName", "summarize"),
            ("DeviceProcessEvents | where tolower(FileName) == 'a'", "tolower()"),
            (
                "DeviceProcessEvents | join (RemoteAccessTools) on $left.FileName == $right.ToolId",
                "join",
            ),
            ("RemoteAccessTools | where ToolId == 'x'", "RemoteAccessTools"),
            (
                "DeviceProcessEvents | where ProcessCommandLine has_any ('a')",
                "has_any",
            ),
        ] {
            let r = from_kql(q, &h, m);
            assert!(r.as_ref().is_err_and(|e| e.contains(what)), "{q}: {r:?}");
        }
    }

    #[test]
    fn escaping_round_trips() {
        for s in [r"a\*", r"a\b", r"a\\", "x*y?z", r"C:\Windows\"] {
            let y = format!(
                "title: t\nlogsource: {{category: process_creation, product: windows}}\ndetection:\n  s:\n    CommandLine|cased: {}\n  condition: s\n",
                yaml_str(&escape_wildcards(s))
            );
            let mut set = RuleSet::new();
            set.add_text(&y, "e.yml");
            let c = set.compile();
            let e = Event::new()
                .with_channel("Microsoft-Windows-Sysmon/Operational")
                .with_event_id(1)
                .with_str("CommandLine", s);
            assert_eq!(c.matches(&e).count(), 1, "{s}: {y}");
        }
    }
}
