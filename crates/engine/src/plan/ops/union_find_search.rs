//! `union`, `find` and `search`: rows of several tables matched by column name.

use super::{build, names_of, project, wildcard_match};
use crate::plan::{PResult, Planner, df_err, err};
use crate::types::KqlType;
use crate::value::null_of;
use datafusion::arrow::datatypes::DataType;
use datafusion::common::ScalarValue;
use datafusion::logical_expr::{Expr, LogicalPlan, LogicalPlanBuilder, cast, lit};
use datafusion::prelude::ident;
use kql::{OperatorKind as K, Span};

impl Planner<'_> {
    /// `union` (also as the first operator of a query): columns matched by name, missing ones null.
    pub fn union(
        &mut self,
        first: Option<(LogicalPlan, Option<String>)>,
        params: &[kql::OpParam],
        tables: &[kql::Expr],
        span: Span,
    ) -> PResult<LogicalPlan> {
        let mut source_col = None;
        let mut fuzzy = false;
        let mut inner = false;
        for p in params {
            match (p.name.name.as_str(), &p.value) {
                ("withsource", kql::Expr::Name(v)) => source_col = Some(v.name.clone()),
                ("isfuzzy", kql::Expr::Name(v)) => fuzzy = v.name == "true",
                ("isfuzzy", kql::Expr::Literal(kql::Literal::Bool(Some(b)), _)) => fuzzy = *b,
                ("kind", kql::Expr::Name(v)) => inner = v.name == "inner",
                (n, _) if n.starts_with("hint.") => {}
                (n, _) => return Err(err(p.name.span, format!("unknown union parameter `{n}`"))),
            }
        }
        let mut legs: Vec<(String, LogicalPlan)> = Vec::new();
        // A leg's name (withsource): its table name, or the name `as` gave it (as operator page).
        if let Some((p, label)) = first {
            legs.push((label.unwrap_or_else(|| "union_arg0".into()), p));
        }
        for (i, t) in tables.iter().enumerate() {
            match t {
                kql::Expr::Pattern(p, _) => {
                    let mut names: Vec<String> = self
                        .cx
                        .tables
                        .keys()
                        .filter(|n| wildcard_match(p, n))
                        .cloned()
                        .collect();
                    names.sort();
                    for n in names {
                        let plan = self.tabular(&kql::Expr::Name(kql::Ident::new(n.clone(), t.span())))?;
                        legs.push((n, plan));
                    }
                }
                other => match self.tabular(other) {
                    Ok(plan) => {
                        let label = match other {
                            kql::Expr::Name(n) => n.name.clone(),
                            _ => as_label(other).unwrap_or_else(|| format!("union_arg{}", i + 1)),
                        };
                        legs.push((label, plan));
                    }
                    Err(_) if fuzzy => {}
                    Err(e) => return Err(e),
                },
            }
        }
        // A leg's trailing `as` names only that leg.
        self.as_name = None;
        if legs.is_empty() {
            return Err(err(span, "union has no tables (none matched)"));
        }
        self.union_plans(legs, source_col.as_deref(), inner, span)
    }

    /// The rows of several plans, columns matched by name (missing ones null), with an optional
    /// first column naming each row's leg.
    pub(in crate::plan) fn union_plans(
        &mut self,
        legs: Vec<(String, LogicalPlan)>,
        source_col: Option<&str>,
        inner: bool,
        span: Span,
    ) -> PResult<LogicalPlan> {
        // The output columns: by name, in order of first appearance. A name with different KQL
        // types in different tables becomes one column per type, `Name_type`, as in Kusto.
        let mut columns: Vec<(String, String, DataType)> = Vec::new(); // (output, source, type)
        let mut conflicting: Vec<String> = Vec::new();
        for (_, p) in &legs {
            for f in p.schema().fields() {
                let t = KqlType::of_arrow(f.data_type());
                if let Some((_, _, dt)) = columns.iter().find(|(_, src, _)| src == f.name())
                    && KqlType::of_arrow(dt) != t
                    && !conflicting.contains(f.name())
                {
                    conflicting.push(f.name().clone());
                }
                if !columns
                    .iter()
                    .any(|(_, src, dt)| src == f.name() && KqlType::of_arrow(dt) == t)
                {
                    columns.push((f.name().clone(), f.name().clone(), f.data_type().clone()));
                }
            }
        }
        for c in columns.iter_mut() {
            if conflicting.contains(&c.1) {
                let tname = KqlType::of_arrow(&c.2).map_or("unknown", KqlType::name);
                c.0 = format!("{}_{tname}", c.1);
            }
        }
        // A suffixed name that another column already has gets a number: `x_long1` (union
        // operator page, "Source columns types mismatch").
        for i in 0..columns.len() {
            if columns[i].0 == columns[i].1 {
                continue;
            }
            let clashes = |name: &str, cols: &[(String, String, DataType)]| {
                cols.iter().enumerate().any(|(j, c)| j != i && c.0 == name)
            };
            if clashes(&columns[i].0, &columns) {
                let base = columns[i].0.clone();
                let mut k = 1;
                while clashes(&format!("{base}{k}"), &columns) {
                    k += 1;
                }
                columns[i].0 = format!("{base}{k}");
            }
        }
        if inner {
            columns.retain(|(_, src, _)| {
                legs.iter()
                    .all(|(_, p)| p.schema().field_with_unqualified_name(src).is_ok())
            });
        }
        let mut out: Option<LogicalPlanBuilder> = None;
        for (label, p) in legs {
            let mut exprs = Vec::new();
            if let Some(sc) = source_col {
                exprs.push(lit(label.clone()).alias(sc));
            }
            for (outname, src, t) in &columns {
                exprs.push(match p.schema().field_with_unqualified_name(src) {
                    Ok(f) if f.data_type() == t => ident(src).alias(outname),
                    Ok(f) if KqlType::of_arrow(f.data_type()) == KqlType::of_arrow(t) => {
                        cast(ident(src), t.clone()).alias(outname)
                    }
                    _ => {
                        let null = KqlType::of_arrow(t).and_then(null_of).unwrap_or(ScalarValue::Null);
                        cast(lit(null), t.clone()).alias(outname)
                    }
                });
            }
            let leg = project(p, exprs, span)?;
            out = Some(match out {
                None => LogicalPlanBuilder::from(leg),
                Some(b) => b.union(leg).map_err(|e| df_err(span, e))?,
            });
        }
        build(Ok(out.expect("at least one leg")), span)
    }

    /// The tables named by `in (...)` of union / search / find: names, wildcard patterns
    /// (matching catalog tables, sorted) or tabular expressions.
    pub(super) fn table_legs(&mut self, tables: &[kql::Expr]) -> PResult<Vec<(String, LogicalPlan)>> {
        let mut legs = Vec::new();
        for t in tables {
            match t {
                kql::Expr::Pattern(p, _) => {
                    let mut names: Vec<String> = self
                        .cx
                        .tables
                        .keys()
                        .filter(|n| wildcard_match(p, n))
                        .cloned()
                        .collect();
                    names.sort();
                    for n in names {
                        let plan = self.tabular(&kql::Expr::Name(kql::Ident::new(n.clone(), t.span())))?;
                        legs.push((n, plan));
                    }
                }
                kql::Expr::Name(n) => legs.push((n.name.clone(), self.tabular(t)?)),
                other => return Err(err(other.span(), "expected a table name or pattern")),
            }
        }
        Ok(legs)
    }

    /// `[T |] search [kind=...] [in (T1, ...)] predicate`.
    pub(super) fn search(
        &mut self,
        piped: Option<LogicalPlan>,
        params: &[kql::OpParam],
        tables: &[kql::Expr],
        predicate: &kql::Expr,
        span: Span,
    ) -> PResult<LogicalPlan> {
        let mut case_sensitive = false;
        for p in params {
            match (p.name.name.as_str(), &p.value) {
                ("kind", kql::Expr::Name(v)) if v.name == "case_sensitive" => case_sensitive = true,
                ("kind", kql::Expr::Name(v)) if v.name == "case_insensitive" || v.name == "default" => {}
                ("kind", v) => return Err(err(v.span(), "search kind is case_sensitive or case_insensitive")),
                (n, _) => return Err(err(p.name.span, format!("unknown search parameter `{n}`"))),
            }
        }
        let pred = search_predicate(predicate, case_sensitive)?;
        if let Some(plan) = piped {
            let schema = plan.schema().clone();
            let p = self.predicate(&pred, &schema)?;
            return build(LogicalPlanBuilder::from(plan).filter(p), span);
        }
        let legs = if tables.is_empty() {
            let mut names: Vec<String> = self.cx.tables.keys().cloned().collect();
            names.sort();
            let all: Vec<kql::Expr> = names
                .into_iter()
                .map(|n| kql::Expr::Name(kql::Ident::new(n, span)))
                .collect();
            self.table_legs(&all)?
        } else {
            self.table_legs(tables)?
        };
        if legs.is_empty() {
            return Err(err(span, "search has no tables to search"));
        }
        let mut filtered = Vec::new();
        for (name, plan) in legs {
            let schema = plan.schema().clone();
            let p = self.predicate(&pred, &schema)?;
            filtered.push((name, build(LogicalPlanBuilder::from(plan).filter(p), span)?));
        }
        self.union_plans(filtered, Some("$table"), false, span)
    }

    /// `find [withsource=C] in (T1, ...) where predicate project c1, c2, ...`.
    pub(super) fn find(
        &mut self,
        params: &[kql::OpParam],
        tables: &[kql::Expr],
        predicate: &kql::Expr,
        project: Option<&[kql::Expr]>,
        span: Span,
    ) -> PResult<LogicalPlan> {
        let mut source = "source_".to_string();
        for p in params {
            match (p.name.name.as_str(), &p.value) {
                ("withsource", kql::Expr::Name(v)) => source = v.name.clone(),
                (n, _) => return Err(err(p.name.span, format!("unknown find parameter `{n}`"))),
            }
        }
        if tables.is_empty() {
            return Err(err(span, "find without `in (...)` is not supported yet"));
        }
        let mut cols: Vec<String> = Vec::new();
        for c in project.unwrap_or_default() {
            match c {
                kql::Expr::Name(n) if !cols.contains(&n.name) => cols.push(n.name.clone()),
                kql::Expr::Name(n) => return Err(err(n.span, format!("column `{}` is projected twice", n.name))),
                other => {
                    return Err(err(
                        other.span(),
                        "find projects column names (typed columns and pack_all() are not supported yet)",
                    ));
                }
            }
        }
        let legs = self.table_legs(tables)?;
        if legs.is_empty() {
            return Err(err(span, "find has no tables (none matched)"));
        }
        // Every column of the tables, with the type of its first appearance.
        let mut all_columns: Vec<(String, DataType)> = Vec::new();
        for (_, plan) in &legs {
            for f in plan.schema().fields() {
                if !all_columns.iter().any(|(n, _)| n == f.name()) {
                    all_columns.push((f.name().clone(), f.data_type().clone()));
                }
            }
        }
        // The columns the predicate uses: a table with none of them is left out; in the others,
        // a column the table lacks is null (as in the union of the tables).
        let mut used: Vec<String> = Vec::new();
        collect_names(predicate, &mut used);
        used.retain(|n| all_columns.iter().any(|(c, _)| c == n));
        let mut filtered = Vec::new();
        for (name, plan) in legs {
            let own = names_of(&plan);
            if !used.is_empty() && !used.iter().any(|u| own.contains(u)) {
                continue;
            }
            let mut wide: Vec<Expr> = own.iter().map(ident).collect();
            for (c, t) in all_columns.iter().filter(|(c, _)| used.contains(c) && !own.contains(c)) {
                wide.push(lit(ScalarValue::try_from(t).map_err(|e| df_err(span, e))?).alias(c));
            }
            let widened = self::project(plan, wide, span)?;
            let p = self.predicate(predicate, &widened.schema().clone()).map_err(|d| {
                let message = format!("find in table `{name}`: {}", d.message);
                kql::Diagnostic { message, ..d }
            })?;
            let kept = build(LogicalPlanBuilder::from(widened).filter(p), span)?;
            filtered.push((name, self::project(kept, own.iter().map(ident).collect(), span)?));
        }
        if filtered.is_empty() {
            return Err(err(span, "find: no table has a column the predicate uses"));
        }
        if project.is_none() {
            return self.find_project_smart(filtered, &used, &source, span);
        }
        let all = self.union_plans(filtered, Some(&source), false, span)?;
        let names = names_of(&all);
        let mut out = vec![ident(&source)];
        for c in &cols {
            if !names.contains(c) {
                return Err(self.unknown_column(c, span, &names));
            }
            out.push(ident(c));
        }
        self::project(all, out, span)
    }

    /// `find` without `project` (project-smart): the columns common to all the tables, then the
    /// other columns the predicate uses, then `pack_`, a bag of each row's remaining columns.
    pub(super) fn find_project_smart(
        &mut self,
        legs: Vec<(String, LogicalPlan)>,
        used: &[String],
        source: &str,
        span: Span,
    ) -> PResult<LogicalPlan> {
        let leg_names: Vec<Vec<String>> = legs.iter().map(|(_, p)| names_of(p)).collect();
        let mut shown: Vec<String> = leg_names[0]
            .iter()
            .filter(|c| leg_names.iter().all(|l| l.contains(c)))
            .cloned()
            .collect();
        for l in &leg_names {
            for c in l {
                if used.contains(c) && !shown.contains(c) {
                    shown.push(c.clone());
                }
            }
        }
        let packs = leg_names.iter().any(|l| l.iter().any(|c| !shown.contains(c)));
        let mut projected = Vec::new();
        for ((name, plan), own) in legs.into_iter().zip(&leg_names) {
            let mut out: Vec<Expr> = shown.iter().filter(|c| own.contains(c)).map(ident).collect();
            if packs {
                let rest: Vec<Expr> = own
                    .iter()
                    .filter(|c| !shown.contains(c))
                    .flat_map(|c| [lit(c.as_str()), ident(c)])
                    .collect();
                out.push(
                    crate::plan::expr::json("bag_pack", crate::functions::dynamic::JsonOp::BagPack, rest)
                        .alias("pack_"),
                );
            }
            projected.push((name, self::project(plan, out, span)?));
        }
        self.union_plans(projected, Some(source), false, span)
    }
}

/// The name a tabular expression's last operator gives it with `as`.
pub(super) fn as_label(e: &kql::Expr) -> Option<String> {
    match e {
        kql::Expr::Paren(inner, _) => as_label(inner),
        kql::Expr::Pipeline { ops, .. } => match ops.last().map(|o| &o.kind) {
            Some(K::As { name, .. }) => Some(name.name.clone()),
            _ => None,
        },
        _ => None,
    }
}

/// The names (`Name` expressions) an expression refers to.
pub(super) fn collect_names(e: &kql::Expr, out: &mut Vec<String>) {
    if let kql::Expr::Name(n) = e {
        if !out.contains(&n.name) {
            out.push(n.name.clone());
        }
        return;
    }
    let _ = crate::plan::window::map_children(e, &mut |c| {
        collect_names(c, out);
        Ok(c.clone())
    });
}

/// A search predicate as a plain predicate: a bare string term searches every column (`has`,
/// or `hasprefix` / `hassuffix` / `contains` with a `*` at its end / start / both), `Col:"term"`
/// one column, `*` matches every row; kind=case_sensitive makes the string operators `_cs`.
pub(super) fn search_predicate(e: &kql::Expr, cs: bool) -> PResult<kql::Expr> {
    use kql::{BinaryOp, Expr as E, StringOp, StringOpKind};
    let term_op = |value: &str, span: Span| -> PResult<(StringOpKind, String)> {
        let (starts, ends) = (value.starts_with('*'), value.ends_with('*') && value.len() > 1);
        let inner = value.trim_start_matches('*').trim_end_matches('*');
        if inner.is_empty() || inner.contains('*') {
            return Err(err(
                span,
                format!("the search term \"{value}\" (a `*` inside a term: matches regex) is not supported"),
            ));
        }
        let kind = match (starts, ends) {
            (false, false) => StringOpKind::Has,
            (false, true) => StringOpKind::HasPrefix,
            (true, false) => StringOpKind::HasSuffix,
            (true, true) => StringOpKind::Contains,
        };
        Ok((kind, inner.to_string()))
    };
    let string_lit = |value: String, span: Span| {
        E::Literal(
            kql::Literal::String {
                value,
                obfuscated: false,
            },
            span,
        )
    };
    Ok(match e {
        E::Star(span) => E::Literal(kql::Literal::Bool(Some(true)), *span),
        E::Literal(kql::Literal::String { value, .. }, span) => {
            let (kind, term) = term_op(value, *span)?;
            E::Binary {
                op: BinaryOp::Str(StringOp {
                    kind,
                    negated: false,
                    case_sensitive: cs,
                }),
                left: Box::new(E::Star(*span)),
                right: Box::new(string_lit(term, *span)),
                span: *span,
            }
        }
        E::Binary {
            op: BinaryOp::Str(sop),
            left,
            right,
            span,
        } => {
            let (sop, right) = match (&**right, sop.kind) {
                (E::Literal(kql::Literal::String { value, .. }, rs), StringOpKind::Has) if !sop.negated => {
                    let (kind, term) = term_op(value, *rs)?;
                    (StringOp { kind, ..*sop }, string_lit(term, *rs))
                }
                (r, _) => (*sop, r.clone()),
            };
            let sop = if cs && sop.kind != StringOpKind::Like {
                StringOp {
                    case_sensitive: true,
                    ..sop
                }
            } else {
                sop
            };
            E::Binary {
                op: BinaryOp::Str(sop),
                left: left.clone(),
                right: Box::new(right),
                span: *span,
            }
        }
        E::Binary {
            op: BinaryOp::EqCi | BinaryOp::NotEqCi,
            span,
            ..
        } if cs => return Err(err(*span, "`=~` / `!~` in a case-sensitive search is not supported")),
        E::Logical { op, operands, span } => E::Logical {
            op: *op,
            operands: operands
                .iter()
                .map(|o| search_predicate(o, cs))
                .collect::<PResult<_>>()?,
            span: *span,
        },
        E::Paren(inner, span) => E::Paren(Box::new(search_predicate(inner, cs)?), *span),
        E::Call {
            receiver: None,
            name,
            args,
            span,
        } if name.name == "not" && args.len() == 1 => E::Call {
            receiver: None,
            name: name.clone(),
            args: vec![kql::Arg::Positional(search_predicate(args[0].expr(), cs)?)],
            span: *span,
        },
        other => other.clone(),
    })
}
