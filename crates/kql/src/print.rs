//! Printer: the syntax tree back to KQL text that parses to the same tree.

use crate::ast::*;
use crate::lexer::TICKS_PER_SECOND;
use std::fmt::{self, Display, Formatter, Write};

/// Words that cannot stand as a bare column or table name without changing the parse.
const RESERVED: &[&str] = &[
    "and",
    "or",
    "by",
    "on",
    "with",
    "in",
    "between",
    "has",
    "has_any",
    "has_all",
    "contains",
    "startswith",
    "endswith",
    "hasprefix",
    "hassuffix",
    "matches",
    "regex",
    "like",
    "notlike",
    "likecs",
    "notlikecs",
    "asc",
    "desc",
    "nulls",
    "true",
    "false",
    "True",
    "False",
    "TRUE",
    "FALSE",
    "let",
    "set",
    "declare",
    "alias",
    "restrict",
    "view",
    "typeof",
    "to",
    "from",
    "step",
    "of",
    "kind",
    "where",
    "print",
    "union",
    "range",
    "datatable",
    "externaldata",
    "external_data",
    "search",
    "find",
    "evaluate",
    "dynamic",
    "int",
    "long",
    "real",
    "double",
    "bool",
    "boolean",
    "decimal",
    "datetime",
    "date",
    "time",
    "timespan",
    "guid",
    "uniqueid",
    "null",
    "default",
    "limit",
    "others",
    "id",
    "output",
    "first",
    "last",
    "granny-asc",
    "granny-desc",
    "as",
];

fn is_plain_ident(s: &str) -> bool {
    let mut chars = s.chars();
    matches!(chars.next(), Some(c) if c.is_ascii_alphabetic() || c == '_' || c == '$')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

/// A column/table name: bare when that parses back to the same name, else `['...']`.
struct Name<'a>(&'a str);

impl Display for Name<'_> {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        let s = self.0;
        let has_string_op = crate::ast::StringOp::from_keyword(s).is_some();
        if is_plain_ident(s) && !RESERVED.contains(&s) && !has_string_op && !s.ends_with("_cs") {
            f.write_str(s)
        } else {
            f.write_char('[')?;
            write_quoted(f, '\'', s)?;
            f.write_char(']')
        }
    }
}

/// A keyword-position word (type names, chart names, option names): printed as is when possible.
struct Word<'a>(&'a str);

impl Display for Word<'_> {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        let plain = self
            .0
            .split('.')
            .all(|part| is_plain_ident(part) || lexes_as_one_ident(part));
        if plain {
            f.write_str(self.0)
        } else {
            Name(self.0).fmt(f)
        }
    }
}

/// Whether `s` reads back as exactly one identifier token (`2022Report` does, `1d` does not).
fn lexes_as_one_ident(s: &str) -> bool {
    let (tokens, errors) = crate::lexer::lex(s);
    errors.is_empty()
        && matches!(tokens.as_slice(), [t, end]
            if t.tok == crate::lexer::Tok::Ident(s.to_string()) && end.tok == crate::lexer::Tok::Eof)
}

fn write_escaped_char(f: &mut impl Write, c: char) -> fmt::Result {
    match c {
        '\n' => f.write_str("\\n"),
        '\t' => f.write_str("\\t"),
        '\r' => f.write_str("\\r"),
        c if c.is_control() => write!(f, "\\u{:04x}", c as u32),
        c => f.write_char(c),
    }
}

/// `value` between `quote`s, with the quote and backslash escaped.
fn write_quoted(f: &mut impl Write, quote: char, value: &str) -> fmt::Result {
    f.write_char(quote)?;
    for c in value.chars() {
        if c == quote || c == '\\' {
            f.write_char('\\')?;
            f.write_char(c)?;
        } else {
            write_escaped_char(f, c)?;
        }
    }
    f.write_char(quote)
}

fn write_string(f: &mut impl Write, value: &str) -> fmt::Result {
    write_quoted(f, '"', value)
}

/// Timespan ticks in the largest exact unit (`1d`, `90m`, `15tick`).
fn format_timespan(ticks: i64) -> String {
    const UNITS: &[(i64, &str)] = &[
        (86_400 * TICKS_PER_SECOND, "d"),
        (3_600 * TICKS_PER_SECOND, "h"),
        (60 * TICKS_PER_SECOND, "m"),
        (TICKS_PER_SECOND, "s"),
        (10_000, "ms"),
        (10, "microsecond"),
        (1, "tick"),
    ];
    let abs = ticks.unsigned_abs();
    let (unit, suffix) = UNITS
        .iter()
        .find(|(u, _)| abs.is_multiple_of(*u as u64))
        .copied()
        .unwrap_or((1, "tick"));
    format!("{}{suffix}", abs / unit as u64)
}

/// `datetime(text)`, quoting the text when it holds characters bare text cannot.
fn raw_form(f: &mut Formatter<'_>, kw: &str, text: &str) -> fmt::Result {
    let bare = !text.is_empty()
        && text != "null"
        && text
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || " :.-+/,_".contains(c))
        && text.trim() == text;
    if bare {
        write!(f, "{kw}({text})")
    } else if !text.contains('"') {
        write!(f, "{kw}(\"{text}\")")
    } else {
        write!(f, "{kw}('{text}')")
    }
}

impl Display for Literal {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        match self {
            Literal::Bool(Some(b)) => write!(f, "{b}"),
            Literal::Bool(None) => f.write_str("bool(null)"),
            Literal::Int(Some(n)) => write!(f, "int({n})"),
            Literal::Int(None) => f.write_str("int(null)"),
            Literal::Long(Some(n)) if *n >= 0 => write!(f, "{n}"),
            Literal::Long(Some(n)) => write!(f, "long({n})"),
            Literal::Long(None) => f.write_str("long(null)"),
            Literal::Real(Some(r)) if r.is_nan() => f.write_str("real(nan)"),
            Literal::Real(Some(r)) if r.is_infinite() => {
                f.write_str(if *r > 0.0 { "real(+inf)" } else { "real(-inf)" })
            }
            Literal::Real(Some(r)) if r.is_sign_negative() => write!(f, "real({r:?})"),
            Literal::Real(Some(r)) => write!(f, "{r:?}"),
            Literal::Real(None) => f.write_str("real(null)"),
            Literal::Decimal(Some(d)) => write!(f, "decimal({d})"),
            Literal::Decimal(None) => f.write_str("decimal(null)"),
            Literal::String { value, obfuscated } => {
                if *obfuscated {
                    f.write_char('h')?;
                }
                write_string(f, value)
            }
            Literal::Datetime(Some(d)) => raw_form(f, "datetime", d),
            Literal::Datetime(None) => f.write_str("datetime(null)"),
            Literal::Timespan(Some(t)) if *t >= 0 => f.write_str(&format_timespan(*t)),
            Literal::Timespan(Some(t)) => write!(f, "time(-{})", format_timespan(*t)),
            Literal::Timespan(None) => f.write_str("time(null)"),
            Literal::Guid(Some(g)) => raw_form(f, "guid", g),
            Literal::Guid(None) => f.write_str("guid(null)"),
            Literal::Dynamic(d) => write!(f, "dynamic({d})"),
        }
    }
}

impl Display for Dynamic {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        match self {
            Dynamic::Null => f.write_str("null"),
            Dynamic::Scalar(l) => l.fmt(f),
            Dynamic::Array(items) => {
                f.write_char('[')?;
                sep(f, items, ", ", |f, d| d.fmt(f))?;
                f.write_char(']')
            }
            Dynamic::Object(items) => {
                f.write_char('{')?;
                sep(f, items, ", ", |f, (k, v)| {
                    write_string(f, k)?;
                    write!(f, ": {v}")
                })?;
                f.write_char('}')
            }
        }
    }
}

fn sep<T>(
    f: &mut Formatter<'_>,
    items: &[T],
    separator: &str,
    mut each: impl FnMut(&mut Formatter<'_>, &T) -> fmt::Result,
) -> fmt::Result {
    for (i, item) in items.iter().enumerate() {
        if i > 0 {
            f.write_str(separator)?;
        }
        each(f, item)?;
    }
    Ok(())
}

const PREC_PIPE: u8 = 0;
const PREC_COMPARE: u8 = 3;
const PREC_ADD: u8 = 4;
const PREC_UNARY: u8 = 6;
const PREC_POSTFIX: u8 = 7;

fn precedence(e: &Expr) -> u8 {
    match e {
        Expr::Pipeline { .. } | Expr::Source(_) | Expr::Assign { .. } => PREC_PIPE,
        Expr::Logical { op, .. } | Expr::Binary { op, .. } => op.precedence(),
        Expr::List { .. } | Expr::Between { .. } => PREC_COMPARE,
        Expr::Unary { .. } => PREC_UNARY,
        _ => PREC_POSTFIX,
    }
}

/// Prints `e`, in parentheses when it binds looser than `min`.
struct At<'a>(&'a Expr, u8);

impl Display for At<'_> {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        if precedence(self.0) < self.1 {
            write!(f, "({})", self.0)
        } else {
            self.0.fmt(f)
        }
    }
}

impl Display for Expr {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        // A left-deep chain (`a + b + ...`, `x.a.b...`) inside each of a hundred nesting levels
        // makes trees thousands of levels deep, and trees built by other code have no bound:
        // grow the stack as it runs low rather than overflow it.
        stacker::maybe_grow(64 * 1024, 1024 * 1024, || self.fmt_expr(f))
    }
}

impl Expr {
    fn fmt_expr(&self, f: &mut Formatter<'_>) -> fmt::Result {
        match self {
            Expr::Literal(l, _) => l.fmt(f),
            Expr::Name(n) => Name(&n.name).fmt(f),
            Expr::Star(_) => f.write_char('*'),
            Expr::Pattern(p, _) => f.write_str(p),
            Expr::Paren(e, _) => write!(f, "({e})"),
            Expr::Unary { op, expr, .. } => {
                f.write_char(if *op == UnaryOp::Neg { '-' } else { '+' })?;
                At(expr, PREC_UNARY).fmt(f)
            }
            Expr::Binary { op, left, right, .. } => {
                let p = op.precedence();
                write!(f, "{} {} {}", At(left, p), op.symbol(), At(right, p + 1))
            }
            Expr::Logical { op, operands, .. } => {
                let p = op.precedence() + 1;
                let word = format!(" {} ", op.symbol());
                sep(f, operands, &word, |f, e| At(e, p).fmt(f))
            }
            Expr::List { op, expr, items, .. } => {
                write!(f, "{} {} (", At(expr, PREC_COMPARE), op.keyword())?;
                sep(f, items, ", ", |f, e| e.fmt(f))?;
                f.write_char(')')
            }
            Expr::Between {
                expr,
                negated,
                low,
                high,
                ..
            } => write!(
                f,
                "{} {}between ({} .. {})",
                At(expr, PREC_COMPARE),
                if *negated { "!" } else { "" },
                At(low, PREC_ADD),
                At(high, PREC_ADD)
            ),
            Expr::Call {
                receiver, name, args, ..
            } => {
                if let Some(r) = receiver {
                    let space = if matches!(**r, Expr::Literal(Literal::Long(_) | Literal::Real(_), _)) {
                        " "
                    } else {
                        ""
                    };
                    write!(f, "{}{space}.", At(r, PREC_POSTFIX))?;
                }
                write!(f, "{}(", Word(&name.name))?;
                sep(f, args, ", ", |f, a| match a {
                    Arg::Positional(e) => e.fmt(f),
                    Arg::Named(n, e) => write!(f, "{} = {e}", Name(&n.name)),
                })?;
                f.write_char(')')
            }
            Expr::Member { expr, name, .. } => {
                write!(f, "{}", At(expr, PREC_POSTFIX))?;
                if matches!(**expr, Expr::Literal(Literal::Long(_) | Literal::Real(_), _)) {
                    // `1 .x`, not `1.x`: a dot right after digits would continue the number.
                    f.write_char(' ')?;
                }
                if is_plain_ident(&name.name) {
                    write!(f, ".{}", name.name)
                } else {
                    write!(f, ".{}", Name(&name.name))
                }
            }
            Expr::Index { expr, index, .. } => write!(f, "{}[{index}]", At(expr, PREC_POSTFIX)),
            Expr::Pipeline { source, ops, .. } => {
                // A source operator (`datatable ...`, `union ...`) starts the pipeline bare.
                match &**source {
                    Expr::Source(op) => op.fmt(f)?,
                    other => At(other, PREC_PIPE + 1).fmt(f)?,
                }
                for op in ops {
                    write!(f, "\n| {op}")?;
                }
                Ok(())
            }
            Expr::Source(op) => op.fmt(f),
            Expr::Assign { name, value, .. } => write!(f, "{} = {value}", Name(&name.name)),
        }
    }
}

impl Display for NamedExpr {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        match self.names.as_slice() {
            [] => {}
            [one] => write!(f, "{} = ", Name(&one.name))?,
            many => {
                f.write_char('(')?;
                sep(f, many, ", ", |f, n| Name(&n.name).fmt(f))?;
                f.write_str(") = ")?;
            }
        }
        self.expr.fmt(f)
    }
}

impl Display for OpParam {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        write!(f, "{}=", Word(&self.name.name))?;
        match &self.value {
            Expr::Name(n) if is_plain_ident(&n.name) || lexes_as_one_ident(&n.name) => f.write_str(&n.name),
            Expr::Name(n) => Name(&n.name).fmt(f),
            other => At(other, PREC_UNARY).fmt(f),
        }
    }
}

fn params(f: &mut Formatter<'_>, ps: &[OpParam]) -> fmt::Result {
    for p in ps {
        write!(f, " {p}")?;
    }
    Ok(())
}

fn list<T: Display>(f: &mut Formatter<'_>, items: &[T]) -> fmt::Result {
    sep(f, items, ", ", |f, i| i.fmt(f))
}

impl Display for SortKey {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        self.expr.fmt(f)?;
        sort_dir(f, self.dir)?;
        match self.nulls {
            Some(NullsOrder::First) => f.write_str(" nulls first"),
            Some(NullsOrder::Last) => f.write_str(" nulls last"),
            None => Ok(()),
        }
    }
}

impl Display for ColumnDecl {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", Name(&self.name.name), Word(&self.ty.name))
    }
}

impl Display for ParamType {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        match self {
            ParamType::Scalar(t) => Word(&t.name).fmt(f),
            ParamType::Tabular { columns, open } => {
                f.write_char('(')?;
                list(f, columns)?;
                if *open {
                    f.write_str(if columns.is_empty() { "*" } else { ", *" })?;
                }
                f.write_char(')')
            }
        }
    }
}

impl Display for Param {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", Name(&self.name.name), self.ty)?;
        if let Some(d) = &self.default {
            write!(f, " = {d}")?;
        }
        Ok(())
    }
}

impl Display for ExpandItem {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        if let Some(n) = &self.name {
            write!(f, "{} = ", Name(&n.name))?;
        }
        self.expr.fmt(f)?;
        if let Some(t) = &self.to_type {
            write!(f, " to typeof({})", Word(&t.name))?;
        }
        Ok(())
    }
}

/// `prefix` and the items separated by commas, or nothing when there are none.
fn clause<T: Display>(f: &mut Formatter<'_>, prefix: &str, items: &[T]) -> fmt::Result {
    if items.is_empty() {
        return Ok(());
    }
    f.write_str(prefix)?;
    list(f, items)
}

/// ` with (name=value, ...)`, or nothing when there are no parameters.
fn with_params(f: &mut Formatter<'_>, with: &[OpParam]) -> fmt::Result {
    if with.is_empty() {
        return Ok(());
    }
    f.write_str(" with (")?;
    list(f, with)?;
    f.write_char(')')
}

/// `(name:type, ...) [value, ...]` of datatable and externaldata.
fn schema_and_values(f: &mut Formatter<'_>, schema: &[ColumnDecl], values: &[Expr]) -> fmt::Result {
    f.write_char('(')?;
    list(f, schema)?;
    f.write_str(") [")?;
    list(f, values)?;
    f.write_char(']')
}

/// The parameters, items and limit that mv-expand and mv-apply share.
fn expand_items(f: &mut Formatter<'_>, ps: &[OpParam], items: &[ExpandItem], limit: Option<&Expr>) -> fmt::Result {
    params(f, ps)?;
    f.write_char(' ')?;
    list(f, items)?;
    if let Some(l) = limit {
        write!(f, " limit {l}")?;
    }
    Ok(())
}

fn sub_pipeline(f: &mut Formatter<'_>, ops: &[Operator]) -> fmt::Result {
    f.write_char('(')?;
    sep(f, ops, " | ", |f, op| op.fmt(f))?;
    f.write_char(')')
}

fn sort_dir(f: &mut Formatter<'_>, dir: Option<SortDir>) -> fmt::Result {
    match dir {
        Some(SortDir::Asc) => f.write_str(" asc"),
        Some(SortDir::Desc) => f.write_str(" desc"),
        None => Ok(()),
    }
}

impl Display for Operator {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        use OperatorKind as K;
        f.write_str(self.keyword())?;
        match &self.kind {
            K::Where(e) | K::Take(e) | K::Sample(e) | K::Invoke(e) => write!(f, " {e}"),
            K::Extend(items) | K::Project(items) | K::Print(items) | K::Serialize(items) => clause(f, " ", items),
            K::ProjectAway(cols) | K::ProjectKeep(cols) => {
                f.write_char(' ')?;
                list(f, cols)
            }
            K::ProjectRename(pairs) => {
                f.write_char(' ')?;
                sep(f, pairs, ", ", |f, (new, old)| write!(f, "{} = {old}", Name(&new.name)))
            }
            K::ProjectReorder(items) => {
                f.write_char(' ')?;
                sep(f, items, ", ", |f, (col, dir)| {
                    col.fmt(f)?;
                    sort_dir(f, *dir)
                })
            }
            K::ProjectSmart | K::Getschema => Ok(()),
            K::Summarize {
                params: ps,
                aggregates,
                by,
            } => {
                params(f, ps)?;
                clause(f, " ", aggregates)?;
                clause(f, " by ", by)
            }
            K::Sort { params: ps, keys } => {
                params(f, ps)?;
                f.write_str(" by ")?;
                list(f, keys)
            }
            K::Top { count, key } => write!(f, " {count} by {key}"),
            K::TopNested(levels) => {
                f.write_char(' ')?;
                sep(f, levels, ", top-nested ", |f, l| {
                    if let Some(c) = &l.count {
                        write!(f, "{c} ")?;
                    }
                    write!(f, "of {}", l.of)?;
                    if let Some(o) = &l.others {
                        write!(f, " with others = {o}")?;
                    }
                    write!(f, " by {}", l.by)?;
                    sort_dir(f, l.dir)
                })
            }
            K::TopHitters { count, of, by } => {
                write!(f, " {count} of {of}")?;
                if let Some(b) = by {
                    write!(f, " by {b}")?;
                }
                Ok(())
            }
            K::Distinct { params: ps, columns } => {
                params(f, ps)?;
                f.write_char(' ')?;
                list(f, columns)
            }
            K::Count { as_name } => match as_name {
                Some(n) => write!(f, " as {}", Name(&n.name)),
                None => Ok(()),
            },
            K::Join { params: ps, right, on } | K::Lookup { params: ps, right, on } => {
                params(f, ps)?;
                write!(f, " {} on ", At(right, PREC_POSTFIX))?;
                list(f, on)
            }
            K::Union { params: ps, tables } => {
                params(f, ps)?;
                f.write_char(' ')?;
                sep(f, tables, ", ", |f, t| At(t, PREC_POSTFIX).fmt(f))
            }
            K::MvExpand {
                params: ps,
                items,
                limit,
            } => expand_items(f, ps, items, limit.as_ref()),
            K::MvApply {
                params: ps,
                items,
                limit,
                id,
                on,
            } => {
                expand_items(f, ps, items, limit.as_ref())?;
                if let Some(i) = id {
                    write!(f, " id={}", Name(&i.name))?;
                }
                f.write_str(" on ")?;
                sub_pipeline(f, on)
            }
            K::Parse {
                params: ps,
                expr,
                pattern,
                ..
            } => {
                params(f, ps)?;
                write!(f, " {expr} with")?;
                for part in pattern {
                    f.write_char(' ')?;
                    match part {
                        ParsePart::Literal(s, _) => write_string(f, s)?,
                        ParsePart::Star(_) => f.write_char('*')?,
                        ParsePart::Column { name, ty } => {
                            Name(&name.name).fmt(f)?;
                            if let Some(t) = ty {
                                write!(f, ":{}", Word(&t.name))?;
                            }
                        }
                    }
                }
                Ok(())
            }
            K::ParseKv { expr, columns, with } => {
                write!(f, " {expr} as (")?;
                list(f, columns)?;
                f.write_char(')')?;
                with_params(f, with)
            }
            K::MakeSeries {
                params: ps,
                aggregates,
                on,
                range,
                by,
            } => {
                params(f, ps)?;
                f.write_char(' ')?;
                sep(f, aggregates, ", ", |f, a| {
                    if let Some(n) = &a.name {
                        write!(f, "{} = ", Name(&n.name))?;
                    }
                    a.expr.fmt(f)?;
                    if let Some(d) = &a.default {
                        write!(f, " default = {d}")?;
                    }
                    Ok(())
                })?;
                write!(f, " on {on}")?;
                match range {
                    SeriesRange::In { start, stop, step } => write!(f, " in range({start}, {stop}, {step})")?,
                    SeriesRange::FromTo { from, to, step } => {
                        if let Some(x) = from {
                            write!(f, " from {x}")?;
                        }
                        if let Some(x) = to {
                            write!(f, " to {x}")?;
                        }
                        write!(f, " step {step}")?;
                    }
                }
                clause(f, " by ", by)
            }
            K::Evaluate {
                params: ps,
                call,
                schema,
            } => {
                params(f, ps)?;
                write!(f, " {}", At(call, PREC_POSTFIX))?;
                if let Some(s) = schema {
                    write!(f, " : {s}")?;
                }
                Ok(())
            }
            K::Render { chart, with } => {
                write!(f, " {}", Word(&chart.name))?;
                with_params(f, with)
            }
            K::As { params: ps, name } => {
                params(f, ps)?;
                write!(f, " {}", Name(&name.name))
            }
            K::Search {
                params: ps,
                tables,
                predicate,
            } => {
                params(f, ps)?;
                in_tables(f, tables)?;
                write!(f, " {predicate}")
            }
            K::Find {
                params: ps,
                tables,
                predicate,
                project,
            } => {
                params(f, ps)?;
                in_tables(f, tables)?;
                write!(f, " where {predicate}")?;
                if let Some(cols) = project {
                    f.write_str(" project ")?;
                    list(f, cols)?;
                }
                Ok(())
            }
            K::Datatable { schema, values } => schema_and_values(f, schema, values),
            K::ExternalData { schema, uris, with } => {
                schema_and_values(f, schema, uris)?;
                with_params(f, with)
            }
            K::Range { column, from, to, step } => write!(f, " {} from {from} to {to} step {step}", Name(&column.name)),
            K::SampleDistinct { count, of } => write!(f, " {count} of {of}"),
            K::Scan {
                params: ps,
                order_by,
                partition_by,
                declare,
                steps,
            } => {
                params(f, ps)?;
                clause(f, " order by ", order_by)?;
                clause(f, " partition by ", partition_by)?;
                if !declare.is_empty() {
                    f.write_str(" declare (")?;
                    list(f, declare)?;
                    f.write_char(')')?;
                }
                f.write_str(" with (")?;
                for s in steps {
                    write!(f, " step {}", Name(&s.name.name))?;
                    if let Some(o) = &s.output {
                        write!(f, " output={}", Word(&o.name))?;
                    }
                    write!(f, ": {}", s.condition)?;
                    clause(f, " => ", &s.assignments)?;
                    f.write_char(';')?;
                }
                f.write_str(" )")
            }
            K::Partition { params: ps, by, body } => {
                params(f, ps)?;
                write!(f, " by {by} ")?;
                match body {
                    SubQuery::Ops(ops) => sub_pipeline(f, ops),
                    SubQuery::Braced(q) => write!(f, "{{ {q} }}"),
                }
            }
            K::Facet { by, with } => {
                f.write_str(" by ")?;
                list(f, by)?;
                if !with.is_empty() {
                    f.write_str(" with ")?;
                    sub_pipeline(f, with)?;
                }
                Ok(())
            }
            K::Fork(branches) => {
                for (name, ops) in branches {
                    f.write_char(' ')?;
                    if let Some(n) = name {
                        write!(f, "{} = ", Name(&n.name))?;
                    }
                    sub_pipeline(f, ops)?;
                }
                Ok(())
            }
            K::Consume(ps) => params(f, ps),
            K::Reduce { params: ps, by, with } => {
                params(f, ps)?;
                write!(f, " by {by}")?;
                clause(f, " with ", with)
            }
            K::AssertSchema(t) => write!(f, " {t}"),
        }
    }
}

fn in_tables(f: &mut Formatter<'_>, tables: &[Expr]) -> fmt::Result {
    if tables.is_empty() {
        return Ok(());
    }
    f.write_str(" in (")?;
    sep(f, tables, ", ", |f, t| At(t, PREC_POSTFIX).fmt(f))?;
    f.write_char(')')
}

impl Display for FunctionDef {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        if self.view {
            f.write_str("view ")?;
        }
        f.write_char('(')?;
        list(f, &self.params)?;
        f.write_str(") { ")?;
        sep(f, &self.body, "; ", |f, s| s.fmt(f))?;
        f.write_str(" }")
    }
}

impl Display for Statement {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        match self {
            Statement::Let { name, value, .. } => {
                write!(f, "let {} = ", Name(&name.name))?;
                match value {
                    LetValue::Expr(e) => e.fmt(f),
                    LetValue::Function(func) => func.fmt(f),
                }
            }
            Statement::Set { name, value, .. } => {
                write!(f, "set {}", Word(&name.name))?;
                if let Some(v) = value {
                    write!(f, " = {v}")?;
                }
                Ok(())
            }
            Statement::DeclareQueryParameters { params, .. } => {
                f.write_str("declare query_parameters (")?;
                list(f, params)?;
                f.write_char(')')
            }
            Statement::Alias { name, value, .. } => {
                write!(f, "alias database {} = {value}", Name(&name.name))
            }
            Statement::RestrictAccess { names, .. } => {
                f.write_str("restrict access to (")?;
                list(f, names)?;
                f.write_char(')')
            }
            Statement::Expr(e) => e.fmt(f),
        }
    }
}

impl Display for Query {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        sep(f, &self.statements, ";\n", |f, s| s.fmt(f))
    }
}
