//! Tabular operators: each KQL operator becomes DataFusion plan nodes with Kusto's column
//! naming and ordering; operators without an exact translation are rejected by name.

use super::call::{AGGREGATE_NAMES, scalar_fn};
use super::expr::{constant_value, udf};
use super::range::RangeKind;
use super::{Binding, PResult, Planner, df_err, err};
use crate::functions::dynamic::JsonOp;
use crate::functions::regex::{RegexFn, RegexOp};
use crate::functions::scalar::ScalarOp;
use crate::types::KqlType;
use crate::value::{literal_scalar, null_of};
use datafusion::arrow::array::{ArrayRef, RecordBatch};
use datafusion::arrow::datatypes::{DataType, Field, Schema};
use datafusion::common::{Column, DFSchemaRef, JoinType, ScalarValue, TableReference};
use datafusion::datasource::{MemTable, provider_as_source};
use datafusion::logical_expr::{Expr, LogicalPlan, LogicalPlanBuilder, SortExpr, cast, lit};
use datafusion::prelude::ident;
use kql::{Operator, OperatorKind as K, Span};
use std::sync::Arc;

pub(super) fn names_of(plan: &LogicalPlan) -> Vec<String> {
    plan.schema().fields().iter().map(|f| f.name().clone()).collect()
}

/// Whether `name` matches a column pattern with `*` wildcards.
pub fn wildcard_match(pattern: &str, name: &str) -> bool {
    fn go(p: &[u8], n: &[u8]) -> bool {
        match p.split_first() {
            None => n.is_empty(),
            Some((b'*', rest)) => (0..=n.len()).any(|i| go(rest, &n[i..])),
            Some((c, rest)) => n.first() == Some(c) && go(rest, &n[1..]),
        }
    }
    go(pattern.as_bytes(), name.as_bytes())
}

pub(super) fn build(b: datafusion::error::Result<LogicalPlanBuilder>, span: Span) -> PResult<LogicalPlan> {
    b.and_then(|b| b.build()).map_err(|e| df_err(span, e))
}

pub(super) fn project(plan: LogicalPlan, exprs: Vec<Expr>, span: Span) -> PResult<LogicalPlan> {
    build(LogicalPlanBuilder::from(plan).project(exprs), span)
}

/// The column name Kusto gives an unnamed expression in extend / project / summarize by.
pub(super) fn implicit_name(e: &kql::Expr) -> Option<String> {
    match e {
        kql::Expr::Name(n) => Some(n.name.clone()),
        kql::Expr::Member { expr, name, .. } => implicit_name(expr).map(|b| format!("{b}_{}", name.name)),
        kql::Expr::Index { expr, index, .. } => match &**index {
            kql::Expr::Literal(kql::Literal::String { value, .. }, _) => {
                implicit_name(expr).map(|b| format!("{b}_{value}"))
            }
            _ => None,
        },
        kql::Expr::Paren(inner, _) => implicit_name(inner),
        kql::Expr::Call {
            receiver: None,
            name,
            args,
            ..
        } => {
            let first = || args.first().and_then(|a| implicit_name(a.expr()));
            let n = name.name.as_str();
            if NAMED_BY_FIRST_ARGUMENT.contains(&n) || (NAMED_BY_ONLY_ARGUMENT.contains(&n) && args.len() == 1) {
                first()
            } else if NAMED_BY_FUNCTION_AND_FIRST_ARGUMENT.contains(&n) {
                first().map(|a| format!("{n}_{a}"))
            } else {
                None
            }
        }
        _ => None,
    }
}

/// Functions whose result column, when not named, takes the name of the first argument
/// (`project tostring(x)` gives `x`, `summarize by bin(Timestamp, 1h)` gives `Timestamp`). The
/// lists follow the result-name kinds of Microsoft's KQL analyzer (Kusto.Language); any other
/// function gives `Column1`, `Column2`, ...
const NAMED_BY_FIRST_ARGUMENT: &[&str] = &[
    "abs",
    "acos",
    "asin",
    "atan",
    "atan2",
    "bin",
    "bin_at",
    "binary_and",
    "binary_not",
    "binary_or",
    "binary_shift_left",
    "binary_shift_right",
    "binary_xor",
    "bitset_count_ones",
    "ceiling",
    "cos",
    "exp",
    "exp10",
    "exp2",
    "floor",
    "format_bytes",
    "format_datetime",
    "format_timespan",
    "gamma",
    "log",
    "log10",
    "log2",
    "loggamma",
    "parse_csv",
    "parse_json",
    "parse_xml",
    "parsejson",
    "pow",
    "round",
    "series_fill_backward",
    "series_fill_const",
    "series_fill_forward",
    "series_fill_linear",
    "series_fir",
    "series_iir",
    "series_outliers",
    "sin",
    "split",
    "sqrt",
    "startofday",
    "tan",
    "tobool",
    "toboolean",
    "todatetime",
    "todecimal",
    "todouble",
    "todynamic",
    "toguid",
    "tohex",
    "toint",
    "tolong",
    "toobject",
    "toreal",
    "tostring",
    "totime",
    "totimespan",
];
/// The names (`Name` expressions) an expression refers to.
/// `name`, or the first of `name1`, `name2`, … not in `taken` (how join numbers a clashing
/// column of its right side).
pub(super) fn unclashed(name: &str, taken: &[String]) -> String {
    let mut out = name.to_string();
    let mut i = 1;
    while taken.contains(&out) {
        out = format!("{name}{i}");
        i += 1;
    }
    out
}

fn collect_names(e: &kql::Expr, out: &mut Vec<String>) {
    if let kql::Expr::Name(n) = e {
        if !out.contains(&n.name) {
            out.push(n.name.clone());
        }
        return;
    }
    let _ = super::window::map_children(e, &mut |c| {
        collect_names(c, out);
        Ok(c.clone())
    });
}

/// The aggregation inside a name-preserving call (`tostring(make_set(x))`, `round(avg(x), 2)`).
fn wrapped_aggregate(e: &kql::Expr) -> Option<&kql::Expr> {
    match e {
        kql::Expr::Call {
            receiver: None,
            name,
            args,
            ..
        } if NAMED_BY_FIRST_ARGUMENT.contains(&name.name.as_str()) => match args.first()? {
            kql::Arg::Positional(inner @ kql::Expr::Call { name, .. })
                if AGGREGATE_NAMES.contains(&name.name.as_str()) =>
            {
                Some(inner)
            }
            kql::Arg::Positional(inner) => wrapped_aggregate(inner),
            _ => None,
        },
        kql::Expr::Paren(inner, _) => wrapped_aggregate(inner),
        _ => None,
    }
}

/// As [`NAMED_BY_FIRST_ARGUMENT`] when the call has exactly one argument.
const NAMED_BY_ONLY_ARGUMENT: &[&str] = &["make_datetime", "make_timespan"];
/// `strlen(x)` gives `strlen_x`.
const NAMED_BY_FUNCTION_AND_FIRST_ARGUMENT: &[&str] = &["strlen", "string_size"];

impl Planner<'_> {
    fn name_for(&mut self, ne: &kql::NamedExpr, taken: &[String], schema: &DFSchemaRef) -> PResult<String> {
        // column_ifexists(name, default) is named after the column when the column exists.
        if let (
            [],
            kql::Expr::Call {
                receiver: None,
                name,
                args,
                ..
            },
        ) = (ne.names.as_slice(), &ne.expr)
            && matches!(name.name.as_str(), "column_ifexists" | "columnifexists")
            && let Some(first) = args.first()
        {
            let column = self.column_ifexists_name(first.expr())?;
            if schema.field_with_unqualified_name(&column).is_ok() {
                return Ok(column);
            }
        }
        match ne.names.as_slice() {
            [one] => Ok(one.name.clone()),
            [] => Ok(match implicit_name(&ne.expr) {
                Some(n) => n,
                None => self.next_column_name(&|n| taken.iter().any(|t| t == n)),
            }),
            _ => Err(err(
                ne.expr.span(),
                "assigning several columns at once (`(a, b) = ...`) is not supported",
            )),
        }
    }

    pub fn operator(&mut self, plan: LogicalPlan, op: &Operator) -> PResult<LogicalPlan> {
        self.column_counter = 0;
        let piped_as = self.as_name.take();
        let span = op.span;
        let schema = plan.schema().clone();
        match &op.kind {
            K::Where(e) if self.has_window_calls(&[e]) => {
                let names = names_of(&plan);
                let (wide, rewritten) = self.lower_window_calls(plan, &[e])?;
                let p = self.predicate(&rewritten[0], wide.schema())?;
                let filtered = build(LogicalPlanBuilder::from(wide).filter(p), span)?;
                project(filtered, names.iter().map(ident).collect(), span)
            }
            K::Where(e) => {
                let p = self.predicate(e, &schema)?;
                build(LogicalPlanBuilder::from(plan).filter(p), span)
            }
            K::Extend(items) => {
                let mut plan = plan;
                for ne in items {
                    if super::seriesfn::multi_value_call(self, &ne.expr).is_some() {
                        plan = self.multi_value_extend(plan, ne, span)?;
                        continue;
                    }
                    let names = names_of(&plan);
                    let name = self.name_for(ne, &names, &plan.schema().clone())?;
                    let (wide, expr) = if self.has_window_calls(&[&ne.expr]) {
                        let (wide, mut rewritten) = self.lower_window_calls(plan, &[&ne.expr])?;
                        (wide, rewritten.remove(0))
                    } else {
                        (plan, ne.expr.clone())
                    };
                    let plan_in = wide;
                    let s = plan_in.schema().clone();
                    let e = self.scalar(&expr, &s)?.alias(&name);
                    let mut cols: Vec<Expr> = names
                        .iter()
                        .map(|n| if *n == name { e.clone() } else { ident(n) })
                        .collect();
                    if !names.contains(&name) {
                        cols.push(e);
                    }
                    plan = project(plan_in, cols, span)?;
                }
                Ok(plan)
            }
            K::Project(items) => {
                let visible = names_of(&plan);
                let (plan, items) = if self.has_window_calls(&items.iter().map(|i| &i.expr).collect::<Vec<_>>()) {
                    let (wide, rewritten) =
                        self.lower_window_calls(plan, &items.iter().map(|i| &i.expr).collect::<Vec<_>>())?;
                    let items: Vec<kql::NamedExpr> = items
                        .iter()
                        .zip(rewritten)
                        .map(|(i, e)| kql::NamedExpr {
                            names: i.names.clone(),
                            expr: e,
                        })
                        .collect();
                    (wide, std::borrow::Cow::Owned(items))
                } else {
                    (plan, std::borrow::Cow::Borrowed(items))
                };
                // Functions returning several values: their columns first, then by name.
                let (plan, items) = if items
                    .iter()
                    .any(|i| super::seriesfn::multi_value_call(self, &i.expr).is_some())
                {
                    let (wide, named) = self.multi_value_project(plan, &items, span)?;
                    (wide, std::borrow::Cow::Owned(named))
                } else {
                    (plan, items)
                };
                let schema = plan.schema().clone();
                let mut out: Vec<Expr> = Vec::new();
                let mut taken: Vec<String> = Vec::new();
                for ne in items.iter() {
                    if let kql::Expr::Pattern(p, _) | kql::Expr::Name(kql::Ident { name: p, .. }) = &ne.expr
                        && ne.names.is_empty()
                        && p.contains('*')
                    {
                        for n in visible.iter().filter(|n| wildcard_match(p, n)).cloned() {
                            out.push(ident(&n));
                            taken.push(n);
                        }
                        continue;
                    }
                    let name = self.name_for(ne, &taken, &schema)?;
                    if taken.contains(&name) {
                        return Err(err(ne.expr.span(), format!("column `{name}` is projected twice")));
                    }
                    out.push(self.scalar(&ne.expr, &schema)?.alias(&name));
                    taken.push(name);
                }
                project(plan, out, span)
            }
            K::ProjectAway(cols) | K::ProjectKeep(cols) => {
                let names = names_of(&plan);
                let mut hit = vec![false; names.len()];
                for c in cols {
                    let pattern = match c {
                        kql::Expr::Name(n) => n.name.clone(),
                        kql::Expr::Pattern(p, _) => p.clone(),
                        other => return Err(err(other.span(), "expected a column name or pattern")),
                    };
                    let mut any = false;
                    for (i, n) in names.iter().enumerate() {
                        if wildcard_match(&pattern, n) {
                            hit[i] = true;
                            any = true;
                        }
                    }
                    if !any && !pattern.contains('*') {
                        return Err(self.unknown_column(&pattern, c.span(), &names));
                    }
                    let _ = any;
                }
                let keep = matches!(op.kind, K::ProjectKeep(_));
                let out = names
                    .iter()
                    .zip(hit)
                    .filter(|(_, h)| *h == keep)
                    .map(|(n, _)| ident(n))
                    .collect();
                project(plan, out, span)
            }
            K::ProjectRename(pairs) => {
                let names = names_of(&plan);
                let mut renames = Vec::new();
                for (new, old) in pairs {
                    let kql::Expr::Name(o) = old else {
                        return Err(err(old.span(), "project-rename renames a column: `new = old`"));
                    };
                    if !names.contains(&o.name) {
                        return Err(self.unknown_column(&o.name, o.span, &names));
                    }
                    renames.push((o.name.clone(), new.name.clone()));
                }
                let out = names
                    .iter()
                    .map(|n| match renames.iter().find(|(o, _)| o == n) {
                        Some((_, new)) => ident(n).alias(new),
                        None => ident(n),
                    })
                    .collect();
                project(plan, out, span)
            }
            K::ProjectReorder(items) => {
                let names = names_of(&plan);
                let mut first: Vec<String> = Vec::new();
                for (c, dir) in items {
                    let pattern = match c {
                        kql::Expr::Name(n) => n.name.clone(),
                        kql::Expr::Pattern(p, _) => p.clone(),
                        other => return Err(err(other.span(), "expected a column name or pattern")),
                    };
                    let mut matched: Vec<String> = names
                        .iter()
                        .filter(|n| wildcard_match(&pattern, n) && !first.contains(n))
                        .cloned()
                        .collect();
                    if matched.is_empty() && !pattern.contains('*') {
                        return Err(self.unknown_column(&pattern, c.span(), &names));
                    }
                    match dir {
                        Some(kql::SortDir::Asc) => matched.sort(),
                        Some(kql::SortDir::Desc) => matched.sort_by(|a, b| b.cmp(a)),
                        None => {}
                    }
                    first.extend(matched);
                }
                let rest = names.iter().filter(|n| !first.contains(n)).cloned();
                let out = first.iter().cloned().chain(rest).map(|n| ident(&n)).collect();
                project(plan, out, span)
            }
            K::Summarize { aggregates, by, .. } => self.summarize(plan, aggregates, by, span),
            K::Sort { keys, .. } => {
                let sorts = keys
                    .iter()
                    .map(|k| self.sort_key(k, &schema))
                    .collect::<PResult<Vec<_>>>()?;
                build(LogicalPlanBuilder::from(plan).sort(sorts), span)
            }
            K::TopNested(levels) => self.top_nested(plan, levels, span),
            K::Evaluate { params, call, schema } => self.evaluate(plan, params, call, schema.as_ref(), span),
            K::Partition { params, by, body } => self.partition(plan, params, by, body, span),
            K::Top { count, key } => {
                let n = self.const_count(count)?;
                let s = self.sort_key(key, &schema)?;
                build(LogicalPlanBuilder::from(plan).sort_with_limit(vec![s], Some(n)), span)
            }
            K::Take(count) => {
                let n = self.const_count(count)?;
                build(LogicalPlanBuilder::from(plan).limit(0, Some(n)), span)
            }
            K::Distinct { columns, .. } => {
                if matches!(columns.as_slice(), [kql::Expr::Star(_)]) {
                    return build(LogicalPlanBuilder::from(plan).distinct(), span);
                }
                let mut out = Vec::new();
                let mut taken = Vec::new();
                for c in columns {
                    let name = implicit_name(c)
                        .unwrap_or_else(|| self.next_column_name(&|n| taken.iter().any(|t: &String| t == n)));
                    out.push(self.scalar(c, &schema)?.alias(&name));
                    taken.push(name);
                }
                build(
                    LogicalPlanBuilder::from(plan).project(out).and_then(|b| b.distinct()),
                    span,
                )
            }
            K::Count { as_name } => {
                let name = as_name.as_ref().map_or("Count".to_string(), |n| n.name.clone());
                build(
                    LogicalPlanBuilder::from(plan).aggregate(
                        Vec::<Expr>::new(),
                        vec![datafusion::functions_aggregate::expr_fn::count(lit(1i64)).alias(name)],
                    ),
                    span,
                )
            }
            K::Join { params, right, on } => self.join(plan, params, right, on, span, false),
            K::Lookup { params, right, on } => self.join(plan, params, right, on, span, true),
            K::Union { params, tables } => self.union(Some((plan, piped_as)), params, tables, span),
            K::Search {
                params,
                tables,
                predicate,
            } => {
                if let Some(t) = tables.first() {
                    return Err(err(t.span(), "`search in (...)` cannot follow a pipe"));
                }
                self.search(Some(plan), params, tables, predicate, span)
            }
            K::MvExpand { params, items, limit } => self.mv_expand(plan, params, items, limit.as_ref(), span),
            K::MakeSeries {
                params,
                aggregates,
                on,
                range,
                by,
            } => self.make_series(plan, params, aggregates, on, range, by, span),
            K::MvApply {
                params,
                items,
                limit,
                id,
                on,
            } => self.mv_apply(plan, params, items, limit.as_ref(), id.as_ref(), on, span),
            K::Parse {
                kind,
                params,
                expr,
                pattern,
            } => self.parse_op(plan, *kind, params, expr, pattern, span),
            K::As { name, .. } => {
                self.bind(&name.name, Binding::Tabular(plan.clone()));
                self.as_name = Some(name.name.clone());
                Ok(plan)
            }
            K::Invoke(call) => {
                let kql::Expr::Call {
                    receiver: None,
                    name,
                    args,
                    span: cspan,
                } = call
                else {
                    return Err(err(call.span(), "invoke takes a function call"));
                };
                let Some(Binding::Function(f)) = self.lookup(&name.name).cloned() else {
                    return Err(self.unknown_function(name, true));
                };
                let Some(first) = f.params.first() else {
                    return Err(err(*cspan, "the invoked function takes no table"));
                };
                let rest = kql::FunctionDef {
                    params: f.params[1..].to_vec(),
                    ..(*f).clone()
                };
                let first_name = first.name.name.clone();
                self.scopes
                    .push(std::collections::HashMap::from([(first_name, Binding::Tabular(plan))]));
                let r = self.with_function_scope(
                    &rest,
                    args,
                    *cspan,
                    &Arc::new(datafusion::common::DFSchema::empty()),
                    |p| match rest.body.last() {
                        Some(kql::Statement::Expr(e)) => p.tabular(e),
                        _ => Err(err(rest.span, "the function body has no result expression")),
                    },
                );
                self.scopes.pop();
                r
            }
            K::Serialize(items) => {
                let plan = super::window::serialize_marker(plan, span)?;
                if items.is_empty() {
                    Ok(plan)
                } else {
                    self.operator(
                        plan,
                        &Operator {
                            kind: K::Extend(items.clone()),
                            span,
                        },
                    )
                }
            }
            K::Render { .. } => Ok(plan),
            K::Getschema => {
                let rows: Vec<Vec<Expr>> = plan
                    .schema()
                    .fields()
                    .iter()
                    .enumerate()
                    .map(|(i, f)| {
                        let t = KqlType::of_arrow(f.data_type()).map_or("unknown", KqlType::name);
                        vec![
                            lit(f.name().clone()),
                            lit(i as i64),
                            lit(format!("System.{}", dotnet_type(t))),
                            lit(t),
                        ]
                    })
                    .collect();
                let b = LogicalPlanBuilder::values(rows).map_err(|e| df_err(span, e))?;
                let names = ["ColumnName", "ColumnOrdinal", "DataType", "ColumnType"];
                let exprs = names
                    .iter()
                    .enumerate()
                    .map(|(i, n)| ident(format!("column{}", i + 1)).alias(*n))
                    .collect::<Vec<_>>();
                build(b.project(exprs), span)
            }
            other => Err(self.unsupported(op, other)),
        }
    }

    fn unsupported(&self, op: &Operator, _: &K) -> kql::Diagnostic {
        err(op.span, format!("the `{}` operator is not supported yet", op.keyword()))
    }

    pub(super) fn unknown_column(&self, name: &str, span: Span, names: &[String]) -> kql::Diagnostic {
        let mut d = err(span, format!("unknown column `{name}`"));
        if let Some(s) = kql::diag::closest(name, names.iter().map(String::as_str)) {
            d = d.help(format!("did you mean `{s}`?"));
        }
        d
    }

    pub(super) fn const_count(&mut self, e: &kql::Expr) -> PResult<usize> {
        let x = self.constant(e)?;
        match constant_value(&x) {
            Some(ScalarValue::Int64(Some(n))) if n >= 0 => Ok(n as usize),
            Some(ScalarValue::Int32(Some(n))) if n >= 0 => Ok(n as usize),
            _ => Err(err(e.span(), "the row count must be a constant non-negative number")),
        }
    }

    pub(super) fn sort_key(&mut self, k: &kql::SortKey, schema: &DFSchemaRef) -> PResult<SortExpr> {
        let e = self.scalar(&k.expr, schema)?;
        // Kusto sorts descending by default; nulls first when ascending, last when descending.
        let asc = k.dir == Some(kql::SortDir::Asc);
        let nulls_first = match k.nulls {
            Some(kql::NullsOrder::First) => true,
            Some(kql::NullsOrder::Last) => false,
            None => asc,
        };
        Ok(SortExpr::new(e, asc, nulls_first))
    }

    /// `summarize aggs by keys`: aggregation calls may sit inside scalar expressions
    /// (`round(100.0 * countif(x) / count(), 2)`); they are computed first, the rest after.
    pub(super) fn summarize(
        &mut self,
        plan: LogicalPlan,
        aggregates: &[kql::NamedExpr],
        by: &[kql::NamedExpr],
        span: Span,
    ) -> PResult<LogicalPlan> {
        let schema = plan.schema().clone();
        // Serialized input (sort, top, serialize, ...): Kusto aggregates the rows in their order,
        // so each row's position becomes a hidden column that make_list, take_any, arg_max ties
        // ... are ordered by (the aggregation itself runs partitioned, which loses the order).
        let (plan, ord) = match super::window::serial_order(&plan) {
            super::window::Order::None => (plan, None),
            super::window::Order::Lost(_) => {
                // The sort's keys are gone: number the rows right above the sort, and carry the
                // number up through the order-keeping nodes in between.
                let name = unclashed("__serial_ord", &names_of(&plan));
                match ord_above_sort(&plan, &name) {
                    Some(Ok(p)) => (p, Some(name)),
                    Some(Err(e)) => return Err(df_err(span, e)),
                    None => {
                        let rn = datafusion::functions_window::expr_fn::row_number();
                        let widened = build(LogicalPlanBuilder::from(plan).window(vec![rn.alias(&name)]), span)?;
                        (widened, Some(name))
                    }
                }
            }
            super::window::Order::Keys(keys) => {
                let name = unclashed("__serial_ord", &names_of(&plan));
                let rn = datafusion::functions_window::expr_fn::row_number();
                let w = if keys.is_empty() {
                    rn
                } else {
                    datafusion::logical_expr::ExprFunctionExt::order_by(rn, keys)
                        .build()
                        .map_err(|e| df_err(span, e))?
                };
                let widened = build(LogicalPlanBuilder::from(plan).window(vec![w.alias(&name)]), span)?;
                (widened, Some(name))
            }
        };
        let outer_ord = std::mem::replace(&mut self.serial_ord, ord);
        let result = self.summarize_rows(plan, &schema, aggregates, by, span);
        self.serial_ord = outer_ord;
        result
    }

    fn summarize_rows(
        &mut self,
        plan: LogicalPlan,
        schema: &DFSchemaRef,
        aggregates: &[kql::NamedExpr],
        by: &[kql::NamedExpr],
        span: Span,
    ) -> PResult<LogicalPlan> {
        let schema = schema.clone();
        let mut group_exprs = Vec::new();
        let mut group_names: Vec<String> = Vec::new();
        for ne in by {
            let name = match (ne.names.as_slice(), &ne.expr) {
                ([one], _) => one.name.clone(),
                _ => self.name_for(ne, &group_names, &schema)?,
            };
            group_exprs.push(self.scalar(&ne.expr, &schema)?.alias(&name));
            group_names.push(name);
        }
        let mut agg_exprs: Vec<Expr> = Vec::new();
        let mut outputs: Vec<(Option<kql::Expr>, String)> = Vec::new();
        let mut hidden = 0usize;
        for ne in aggregates {
            let direct =
                matches!(&ne.expr, kql::Expr::Call { name, .. } if AGGREGATE_NAMES.contains(&name.name.as_str()));
            if direct {
                let aggs = self.aggregate(&ne.expr, &schema, &group_names)?;
                let multi = aggs.len() > 1;
                for (i, (e, default)) in aggs.into_iter().enumerate() {
                    let _ = multi;
                    let name = match ne.names.get(i) {
                        Some(n) => n.name.clone(),
                        // Default names that repeat get a number, as Kusto does: any_x, any_x1, ...
                        None => {
                            let taken =
                                |n: &str| group_names.iter().any(|g| g == n) || outputs.iter().any(|(_, o)| o == n);
                            let mut candidate = default.clone();
                            let mut k = 1;
                            while taken(&candidate) {
                                candidate = format!("{default}{k}");
                                k += 1;
                            }
                            candidate
                        }
                    };
                    agg_exprs.push(e.alias(&name));
                    outputs.push((None, name));
                }
            } else {
                let mut calls = Vec::new();
                let rewritten = extract_aggregates(&ne.expr, &mut calls, &mut hidden);
                if calls.is_empty() {
                    return Err(err(
                        ne.expr.span(),
                        "summarize takes aggregations; this expression has none",
                    ));
                }
                for (call, hname) in calls {
                    let (e, _) = self
                        .aggregate(&call, &schema, &group_names)?
                        .into_iter()
                        .next()
                        .ok_or_else(|| err(call.span(), "empty aggregation"))?;
                    agg_exprs.push(e.alias(&hname));
                }
                // `tostring(make_set(x))` keeps the aggregation's default name (`set_x`).
                let inner_default = match (&ne.names[..], wrapped_aggregate(&ne.expr)) {
                    ([], Some(inner)) => self
                        .aggregate(inner, &schema, &group_names)?
                        .into_iter()
                        .next()
                        .map(|a| a.1),
                    _ => None,
                };
                let name = match inner_default {
                    Some(default) => {
                        let taken = |n: &str| group_names.iter().any(|g| g == n) || outputs.iter().any(|(_, o)| o == n);
                        let mut candidate = default.clone();
                        let mut k = 1;
                        while taken(&candidate) {
                            candidate = format!("{default}{k}");
                            k += 1;
                        }
                        candidate
                    }
                    None => self.name_for(
                        &kql::NamedExpr {
                            names: ne.names.clone(),
                            expr: rewritten.clone(),
                        },
                        &group_names,
                        &schema,
                    )?,
                };
                outputs.push((Some(rewritten), name));
            }
        }
        let aggregated = build(LogicalPlanBuilder::from(plan).aggregate(group_exprs, agg_exprs), span)?;
        let aschema = aggregated.schema().clone();
        let mut out: Vec<Expr> = group_names.iter().map(ident).collect();
        for (expr, name) in outputs {
            out.push(match expr {
                // Kusto strings have no null: a string aggregation with no value (max, take_any,
                // arg_max over no rows) is empty.
                None if matches!(
                    aschema
                        .field_with_unqualified_name(&name)
                        .map(|f| f.data_type().clone()),
                    Ok(DataType::Utf8)
                ) =>
                {
                    datafusion::functions::expr_fn::coalesce(vec![ident(&name), lit("")]).alias(&name)
                }
                None => ident(&name),
                Some(e) => self.scalar(&e, &aschema)?.alias(&name),
            });
        }
        project(aggregated, out, span)
    }

    fn join(
        &mut self,
        left: LogicalPlan,
        params: &[kql::OpParam],
        right: &kql::Expr,
        on: &[kql::Expr],
        span: Span,
        lookup: bool,
    ) -> PResult<LogicalPlan> {
        let mut kind = if lookup {
            "leftouter".to_string()
        } else {
            "innerunique".to_string()
        };
        for p in params {
            match (p.name.name.as_str(), &p.value) {
                ("kind", kql::Expr::Name(v)) => kind = v.name.clone(),
                (n, _) if n.starts_with("hint.") => {}
                (n, _) => return Err(err(p.name.span, format!("unknown join parameter `{n}`"))),
            }
        }
        let jt = match (kind.as_str(), lookup) {
            ("innerunique" | "inner", _) => JoinType::Inner,
            ("leftouter", _) => JoinType::Left,
            ("rightouter", false) => JoinType::Right,
            ("fullouter", false) => JoinType::Full,
            ("leftanti" | "anti" | "leftantisemi", false) => JoinType::LeftAnti,
            ("rightanti" | "rightantisemi", false) => JoinType::RightAnti,
            ("leftsemi", false) => JoinType::LeftSemi,
            ("rightsemi", false) => JoinType::RightSemi,
            (k, _) => {
                return Err(err(
                    span,
                    format!("unknown {} kind `{k}`", if lookup { "lookup" } else { "join" }),
                ));
            }
        };
        let right_plan = self.tabular(right)?;
        let (lnames, rnames) = (names_of(&left), names_of(&right_plan));
        let mut keys: Vec<(String, String)> = Vec::new();
        let mut flat = Vec::new();
        for c in on {
            flatten_and(c, &mut flat);
        }
        for c in flat {
            let pair = match c {
                kql::Expr::Name(n) => (n.name.clone(), n.name.clone()),
                kql::Expr::Binary {
                    op: kql::BinaryOp::Eq,
                    left: a,
                    right: b,
                    ..
                } => match (side_column(a), side_column(b)) {
                    (Some(("$left", x)), Some(("$right", y))) | (Some(("$right", y)), Some(("$left", x))) => (x, y),
                    _ => return Err(err(c.span(), "join conditions compare `$left.Column == $right.Column`")),
                },
                other => {
                    return Err(err(
                        other.span(),
                        "join conditions are column names or `$left.a == $right.b`",
                    ));
                }
            };
            if !lnames.contains(&pair.0) {
                return Err(self
                    .unknown_column(&pair.0, c.span(), &lnames)
                    .help("(on the left side of the join)".to_string()));
            }
            if !rnames.contains(&pair.1) {
                return Err(self.unknown_column(&pair.1, c.span(), &rnames));
            }
            keys.push(pair);
        }
        if keys.is_empty() {
            return Err(err(span, "a join needs at least one key"));
        }
        // innerunique keeps one left row per key (Kusto's default join).
        let left = if kind == "innerunique" {
            let on_exprs = keys.iter().map(|(l, _)| ident(l)).collect();
            build(
                LogicalPlanBuilder::from(left).distinct_on(on_exprs, lnames.iter().map(ident).collect(), None),
                span,
            )?
        } else {
            left
        };
        let (lq, rq) = (TableReference::bare("__left"), TableReference::bare("__right"));
        let l = build(LogicalPlanBuilder::from(left).alias(lq.clone()), span)?;
        let r = build(LogicalPlanBuilder::from(right_plan).alias(rq.clone()), span)?;
        let lcol = |n: &str| Expr::Column(Column::new(Some(lq.clone()), n));
        let rcol = |n: &str| Expr::Column(Column::new(Some(rq.clone()), n));
        let on_exprs: Vec<Expr> = keys.iter().map(|(a, b)| lcol(a).eq(rcol(b))).collect();
        let joined = build(LogicalPlanBuilder::from(l).join_on(r, jt, on_exprs), span)?;
        // An outer join's unmatched side is null, but Kusto strings have no null: its string
        // columns are empty (join operator page, leftouter/rightouter/fullouter examples).
        let jschema = joined.schema().clone();
        let outer_side = |c: Expr, side_is_outer: bool| -> Expr {
            if !side_is_outer {
                return c;
            }
            match datafusion::logical_expr::ExprSchemable::get_type(&c, jschema.as_ref()) {
                Ok(DataType::Utf8) => datafusion::functions::expr_fn::coalesce(vec![c, lit("")]),
                Ok(DataType::Utf8View) => {
                    datafusion::functions::expr_fn::coalesce(vec![c, lit(ScalarValue::Utf8View(Some(String::new())))])
                }
                _ => c,
            }
        };
        let left_outer = matches!(jt, JoinType::Right | JoinType::Full);
        let right_outer = matches!(jt, JoinType::Left | JoinType::Full);
        let out: Vec<Expr> = match jt {
            JoinType::LeftSemi | JoinType::LeftAnti => lnames.iter().map(|n| lcol(n).alias(n)).collect(),
            JoinType::RightSemi | JoinType::RightAnti => rnames.iter().map(|n| rcol(n).alias(n)).collect(),
            _ => {
                let mut out: Vec<Expr> = lnames
                    .iter()
                    .map(|n| outer_side(lcol(n), left_outer).alias(n))
                    .collect();
                let mut taken = lnames.clone();
                for n in &rnames {
                    if lookup && keys.iter().any(|(_, r)| r == n) {
                        continue;
                    }
                    let name = unclashed(n, &taken);
                    out.push(outer_side(rcol(n), right_outer).alias(&name));
                    taken.push(name);
                }
                out
            }
        };
        project(joined, out, span)
    }

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
    pub(super) fn union_plans(
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
    fn table_legs(&mut self, tables: &[kql::Expr]) -> PResult<Vec<(String, LogicalPlan)>> {
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
    fn search(
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
    fn find(
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
    fn find_project_smart(
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
                    super::expr::json("bag_pack", crate::functions::dynamic::JsonOp::BagPack, rest).alias("pack_"),
                );
            }
            projected.push((name, self::project(plan, out, span)?));
        }
        self.union_plans(projected, Some(source), false, span)
    }

    fn mv_expand(
        &mut self,
        plan: LogicalPlan,
        params: &[kql::OpParam],
        items: &[kql::ExpandItem],
        limit: Option<&kql::Expr>,
        span: Span,
    ) -> PResult<LogicalPlan> {
        // bagexpansion=array (or kind=array): a property bag expands into [key, value] arrays.
        let mut bag_as_array = false;
        let mut index_name: Option<String> = None;
        for p in params {
            match (p.name.name.as_str(), &p.value) {
                ("bagexpansion" | "kind", kql::Expr::Name(v)) if v.name == "bag" || v.name == "array" => {
                    bag_as_array = v.name == "array";
                }
                ("with_itemindex", kql::Expr::Name(v)) => index_name = Some(v.name.clone()),
                (n, _) => {
                    return Err(err(
                        p.name.span,
                        format!("mv-expand parameter `{n}` is not supported yet"),
                    ));
                }
            }
        }
        // `limit n`: at most n rows from each input row.
        let row_limit = match limit {
            Some(l) => Some(self.const_count(l)?),
            None => None,
        };
        if items.is_empty() {
            return Err(err(span, "mv-expand needs a column"));
        }
        // Several columns expand in parallel: the n-th element of each array goes to the n-th
        // output row, the shorter arrays padded with null (DataFusion's unnest of several lists).
        let schema = plan.schema().clone();
        let names = names_of(&plan);
        let mut expanded: Vec<(String, String, Option<&kql::Ident>)> = Vec::new(); // (name, list column, to type)
        let mut lists: Vec<Expr> = Vec::new();
        for (i, item) in items.iter().enumerate() {
            let e = self.scalar(&item.expr, &schema)?;
            let t = self.type_of(&e, &schema, item.expr.span())?;
            if t != KqlType::Dynamic {
                return Err(err(
                    item.expr.span(),
                    format!("mv-expand takes a dynamic array or bag, this is {t}"),
                ));
            }
            let name = match &item.name {
                Some(n) => n.name.clone(),
                None => implicit_name(&item.expr)
                    .or_else(|| first_column(&item.expr))
                    .ok_or_else(|| err(item.expr.span(), "name the expanded value: `Name = expression`"))?,
            };
            if expanded.iter().any(|(n, _, _)| *n == name) {
                return Err(err(item.expr.span(), format!("column `{name}` is expanded twice")));
            }
            let list_col = format!("__mv_expand_list{i}");
            let op = if bag_as_array {
                JsonOp::ElementPairs
            } else {
                JsonOp::ExpandElements
            };
            lists.push(super::expr::json("elements", op, vec![e]).alias(&list_col));
            expanded.push((name, list_col, item.to_type.as_ref()));
        }
        let mut exprs: Vec<Expr> = names
            .iter()
            .filter(|n| !expanded.iter().any(|(e, _, _)| e == *n))
            .map(ident)
            .collect();
        // The item index (with_itemindex, limit): a list 0..n, n the longest expanded list.
        const INDEX_LIST: &str = "__mv_expand_index";
        let need_index = index_name.is_some() || row_limit.is_some();
        if need_index {
            use datafusion::functions_nested::expr_fn::{cardinality, range};
            let lens: Vec<Expr> = lists
                .iter()
                .map(|l| {
                    let inner = match l {
                        Expr::Alias(a) => a.expr.as_ref().clone(),
                        other => other.clone(),
                    };
                    cast(cardinality(inner), DataType::Int64)
                })
                .collect();
            let longest = if lens.len() == 1 {
                lens.into_iter().next().unwrap_or_else(|| lit(0i64))
            } else {
                datafusion::functions::expr_fn::greatest(lens)
            };
            exprs.extend(lists);
            exprs.push(range(lit(0i64), longest, lit(1i64)).alias(INDEX_LIST));
        } else {
            exprs.extend(lists);
        }
        let with_list = project(plan, exprs, span)?;
        let mut cols: Vec<Column> = expanded.iter().map(|(_, l, _)| Column::from_name(l)).collect();
        if need_index {
            cols.push(Column::from_name(INDEX_LIST));
        }
        let mut unnested = build(
            LogicalPlanBuilder::from(with_list)
                .unnest_columns_with_options(cols, datafusion::common::UnnestOptions::default()),
            span,
        )?;
        if let Some(n) = row_limit {
            unnested = build(
                LogicalPlanBuilder::from(unnested).filter(ident(INDEX_LIST).lt(lit(n as i64))),
                span,
            )?;
        }
        let mut values: Vec<(String, Expr)> = Vec::new();
        for (name, list_col, to_type) in &expanded {
            let value = ident(list_col);
            let value = match to_type {
                None => value,
                Some(ty) => {
                    let target = KqlType::from_name(&ty.name)
                        .ok_or_else(|| err(ty.span, format!("unknown type `{}`", ty.name)))?;
                    let v = self.coerce(value.clone(), KqlType::Dynamic, target);
                    // `to typeof(int)` gives an int column (mv-expand page, "to typeof" example).
                    let v = if target == KqlType::Int {
                        datafusion::logical_expr::try_cast(v, DataType::Int32)
                    } else {
                        v
                    };
                    // "The operation of applying type is cast-only and doesn't include parsing or
                    // type-conversion. Array elements that don't conform ... become null."
                    let conforming: &[&str] = match target {
                        KqlType::Int | KqlType::Long => &["int", "long"],
                        KqlType::Real | KqlType::Decimal => &["int", "long", "real"],
                        KqlType::Bool => &["bool"],
                        KqlType::String => &["string"],
                        _ => &[],
                    };
                    if conforming.is_empty() {
                        v
                    } else {
                        let ty = super::call::lib("gettype", crate::functions::library::LibOp::GetType, vec![value]);
                        let list = conforming.iter().map(|t| lit(*t)).collect();
                        datafusion::logical_expr::when(ty.in_list(list, false), v)
                            .end()
                            .map_err(|e| df_err(span, e))?
                    }
                }
            };
            values.push((name.clone(), value));
        }
        let mut out: Vec<Expr> = names
            .iter()
            .map(|n| match values.iter().find(|(v, _)| v == n) {
                Some((_, value)) => value.clone().alias(n),
                None => ident(n),
            })
            .collect();
        for (name, value) in &values {
            if !names.contains(name) {
                out.push(value.clone().alias(name));
            }
        }
        if let Some(ix) = &index_name {
            out.push(ident(INDEX_LIST).alias(ix));
        }
        project(unnested, out, span)
    }

    fn parse_op(
        &mut self,
        plan: LogicalPlan,
        kind: kql::ParseKind,
        params: &[kql::OpParam],
        expr: &kql::Expr,
        pattern: &[kql::ParsePart],
        span: Span,
    ) -> PResult<LogicalPlan> {
        let mut regex_mode = false;
        // kind=relaxed: typed columns take any text between the delimiters and are null when it
        // doesn't convert (parse operator page, "Relaxed mode").
        let mut relaxed = false;
        let mut flags = String::new();
        for p in params {
            match (p.name.name.as_str(), &p.value) {
                ("kind", kql::Expr::Name(v)) if v.name == "simple" => {}
                ("kind", kql::Expr::Name(v)) if v.name == "regex" => regex_mode = true,
                ("kind", kql::Expr::Name(v)) if v.name == "relaxed" => relaxed = true,
                ("kind", kql::Expr::Name(v)) => {
                    return Err(err(v.span, format!("parse kind={} is not supported yet", v.name)));
                }
                ("flags", kql::Expr::Name(v)) => flags = v.name.clone(),
                (n, _) => return Err(err(p.name.span, format!("unknown parse parameter `{n}`"))),
            }
        }
        let schema = plan.schema().clone();
        let source = self.scalar(expr, &schema)?;
        let st = self.type_of(&source, &schema, expr.span())?;
        let source = match st {
            KqlType::String => source,
            KqlType::Dynamic => self.coerce(source, st, KqlType::String),
            _ => scalar_fn("tostring", ScalarOp::ToString, vec![source]),
        };
        let mut re = String::from("^");
        // (name, type, capture group number): a regex-mode delimiter may hold groups of its own.
        let mut cols: Vec<(String, KqlType, usize)> = Vec::new();
        let mut groups = 0usize;
        for (i, part) in pattern.iter().enumerate() {
            let last = i + 1 == pattern.len();
            match part {
                kql::ParsePart::Literal(s, _) => re.push_str(&if regex_mode {
                    groups += regex::Regex::new(s).map_or(0, |r| r.captures_len().saturating_sub(1));
                    format!("(?:{s})")
                } else {
                    regex::escape(s)
                }),
                kql::ParsePart::Star(_) => re.push_str(if last { ".*" } else { ".*?" }),
                kql::ParsePart::Column { name, ty } => {
                    let t = match ty {
                        Some(t) => KqlType::from_name(&t.name)
                            .ok_or_else(|| err(t.span, format!("unknown type `{}`", t.name)))?,
                        None => KqlType::String,
                    };
                    // In regex mode a string (or other non-numeric) column is greedy: the page's
                    // "Regex mode with regex flags" example captures up to the last delimiter
                    // unless `flags=U`, though its text says `string` becomes `.*?`.
                    let group = match (t, regex_mode) {
                        (KqlType::String, true) => ".*",
                        (KqlType::Long | KqlType::Int, true) => r"\-?\d+",
                        (KqlType::Real, true) => r"\-?\d+(?:\.\d+)?(?:[eE][\-+]?\d+)?",
                        (_, true) => ".*",
                        // Relaxed: the typed text when it is there, else whatever text (null).
                        (KqlType::Long | KqlType::Int, _) if relaxed => r"\-?\d+|.*?",
                        (KqlType::Real, _) if relaxed => r"\-?\d+(?:\.\d+)?(?:[eE][\-+]?\d+)?|.*?",
                        _ if relaxed && last => ".*",
                        _ if relaxed => ".*?",
                        (KqlType::Long | KqlType::Int, _) => r"\-?\d+",
                        (KqlType::Real, _) => r"\-?\d+(?:\.\d+)?(?:[eE][\-+]?\d+)?",
                        _ if last => ".*",
                        _ => ".*?",
                    };
                    re.push_str(&format!("({group})"));
                    groups += 1;
                    cols.push((name.name.clone(), t, groups));
                }
            }
        }
        if matches!(pattern.last(), Some(kql::ParsePart::Column { .. })) && !regex_mode {
            re.push('$');
        }
        let full = if flags.is_empty() {
            re.clone()
        } else {
            format!("(?{})({re})", flags.to_ascii_lowercase().replace('u', "U"))
        };
        let offset = usize::from(!flags.is_empty());
        let mut plan = plan;
        if kind == kql::ParseKind::ParseWhere {
            let f = RegexFn::new("parse-where", RegexOp::IsMatch, &full).map_err(|m| err(span, m))?;
            plan = build(
                LogicalPlanBuilder::from(plan).filter(udf(f).call(vec![source.clone()])),
                span,
            )?;
        }
        let names = names_of(&plan);
        let mut out: Vec<Expr> = names
            .iter()
            .filter(|n| !cols.iter().any(|(c, _, _)| c == *n))
            .map(ident)
            .collect();
        for (name, t, group) in cols.iter() {
            let f = RegexFn::new("parse", RegexOp::Extract(group + offset), &full).map_err(|m| err(span, m))?;
            let text = udf(f).call(vec![source.clone()]);
            let typed = match t {
                KqlType::String => text,
                KqlType::Long => scalar_fn("tolong", ScalarOp::ParseLong, vec![text]),
                KqlType::Int => scalar_fn("toint", ScalarOp::ParseInt, vec![text]),
                KqlType::Real => scalar_fn("toreal", ScalarOp::ParseReal, vec![text]),
                KqlType::Bool => scalar_fn("tobool", ScalarOp::ParseBool, vec![text]),
                KqlType::Datetime => scalar_fn("todatetime", ScalarOp::ParseDatetime, vec![text]),
                KqlType::Timespan => scalar_fn("totimespan", ScalarOp::ParseTimespan, vec![text]),
                KqlType::Dynamic => super::expr::json("parse_json", JsonOp::Parse, vec![text]),
                other => return Err(err(span, format!("parse into {other} is not supported"))),
            };
            out.push(typed.alias(name));
        }
        project(plan, out, span)
    }

    /// Operators that start a query by themselves.
    pub fn source_operator(&mut self, op: &Operator) -> PResult<LogicalPlan> {
        let span = op.span;
        match &op.kind {
            K::Print(items) => {
                let one = build(Ok(LogicalPlanBuilder::empty(true)), span)?;
                let schema = one.schema().clone();
                let mut out = Vec::new();
                for (i, ne) in items.iter().enumerate() {
                    let name = match ne.names.as_slice() {
                        [n] => n.name.clone(),
                        [] => format!("print_{i}"),
                        _ => return Err(err(ne.expr.span(), "print assigns one column per expression")),
                    };
                    out.push(self.scalar(&ne.expr, &schema)?.alias(name));
                }
                project(one, out, span)
            }
            K::Datatable { schema, values } => {
                let cols = declared_columns(schema)?;
                if cols.is_empty() {
                    return Err(err(span, "datatable needs at least one column"));
                }
                if values.len() % cols.len() != 0 {
                    return Err(err(
                        span,
                        format!(
                            "datatable has {} columns but {} values (not a whole number of rows)",
                            cols.len(),
                            values.len()
                        ),
                    ));
                }
                let mut arrays: Vec<Vec<ScalarValue>> = vec![Vec::new(); cols.len()];
                for (i, v) in values.iter().enumerate() {
                    let (cname, t) = &cols[i % cols.len()];
                    let sv = self
                        .datatable_value(v, *t)
                        .map_err(|m| err(v.span(), format!("column `{cname}`: {m}")))?;
                    arrays[i % cols.len()].push(sv);
                }
                let fields: Vec<Field> = cols
                    .iter()
                    .map(|(n, t)| Field::new(n, t.arrow().unwrap_or(DataType::Null), true))
                    .collect();
                let schema = Arc::new(Schema::new(fields));
                let arrays: Vec<ArrayRef> = arrays
                    .into_iter()
                    .zip(schema.fields())
                    .map(|(vals, f)| {
                        if vals.is_empty() {
                            Ok(datafusion::arrow::array::new_empty_array(f.data_type()))
                        } else {
                            ScalarValue::iter_to_array(vals)
                        }
                    })
                    .collect::<Result<_, _>>()
                    .map_err(|e| df_err(span, e))?;
                self.memory_table(schema, arrays, span)
            }
            K::Range { column, from, to, step } => {
                let (f, t, s) = (self.constant(from)?, self.constant(to)?, self.constant(step)?);
                let (f, t, s) = (constant_value(&f), constant_value(&t), constant_value(&s));
                // Kusto: `range` stops at the last value not past `to`; no value when the step
                // points away from it.
                let count = |a: i64, b: i64, st: i64| -> u64 {
                    if (st > 0 && b >= a) || (st < 0 && b <= a) {
                        ((i128::from(b) - i128::from(a)) / i128::from(st)) as u64 + 1
                    } else {
                        0
                    }
                };
                let (a, st, n, kind, data_type) = match (f, t, s) {
                    (
                        Some(ScalarValue::Int64(Some(a))),
                        Some(ScalarValue::Int64(Some(b))),
                        Some(ScalarValue::Int64(Some(st))),
                    ) if st != 0 => (a, st, count(a, b, st), RangeKind::Long, DataType::Int64),
                    (
                        Some(ScalarValue::TimestampNanosecond(Some(a), _)),
                        Some(ScalarValue::TimestampNanosecond(Some(b), _)),
                        Some(ScalarValue::DurationNanosecond(Some(st))),
                    ) if st > 0 => (
                        a,
                        st,
                        count(a, b, st),
                        RangeKind::Datetime,
                        crate::types::datetime_type(),
                    ),
                    (
                        Some(ScalarValue::DurationNanosecond(Some(a))),
                        Some(ScalarValue::DurationNanosecond(Some(b))),
                        Some(ScalarValue::DurationNanosecond(Some(st))),
                    ) if st > 0 => (
                        a,
                        st,
                        count(a, b, st),
                        RangeKind::Timespan,
                        DataType::Duration(datafusion::arrow::datatypes::TimeUnit::Nanosecond),
                    ),
                    _ => {
                        return Err(err(
                            span,
                            "range takes constant numbers, datetimes or timespans, with a non-zero step of the matching kind",
                        ));
                    }
                };
                // Rows are generated as they are read (memory stays bounded by the pool); the
                // cap keeps a runaway rule's time bounded too.
                if n > 100_000_000 {
                    return Err(err(span, "range produces more than 100,000,000 rows"));
                }
                let schema = Arc::new(Schema::new(vec![Field::new(&column.name, data_type, true)]));
                let table = super::range::RangeTable::new(schema, a, st, n, kind);
                let scan = build(
                    LogicalPlanBuilder::scan("range", provider_as_source(Arc::new(table)), None),
                    span,
                )?;
                // range's output is serialized (serialize operator page), in generation order.
                super::window::serialize_marker(scan, span)
            }
            K::Union { params, tables } => self.union(None, params, tables, span),
            K::Search {
                params,
                tables,
                predicate,
            } => self.search(None, params, tables, predicate, span),
            K::Find {
                params,
                tables,
                predicate,
                project,
            } => self.find(params, tables, predicate, project.as_deref(), span),
            K::ExternalData { schema, uris, with } => {
                let cols = declared_columns(schema)?;
                let [uri] = uris.as_slice() else {
                    return Err(err(span, "externaldata takes one file"));
                };
                let uri = match constant_value(&self.constant(uri)?) {
                    Some(ScalarValue::Utf8(Some(u))) => u,
                    _ => return Err(err(uri.span(), "the externaldata source must be a constant string")),
                };
                let mut format = "csv".to_string();
                let mut skip_first = false;
                for p in with {
                    let v = match &p.value {
                        kql::Expr::Name(n) => n.name.clone(),
                        kql::Expr::Literal(kql::Literal::String { value, .. }, _) => value.clone(),
                        kql::Expr::Literal(kql::Literal::Bool(Some(b)), _) => b.to_string(),
                        other => return Err(err(other.span(), "expected a constant")),
                    };
                    match p.name.name.as_str() {
                        "format" => format = v,
                        "ignoreFirstRecord" => skip_first = v.eq_ignore_ascii_case("true"),
                        _ => {}
                    }
                }
                let table =
                    super::external::external_table(&cols, &uri, &format, skip_first, self.cx.file_access, span)?;
                build(
                    LogicalPlanBuilder::scan("externaldata", provider_as_source(table), None),
                    span,
                )
            }
            _ => Err(self.unsupported(op, &op.kind)),
        }
    }

    fn datatable_value(&mut self, v: &kql::Expr, t: KqlType) -> Result<ScalarValue, String> {
        let (lit_v, neg) = match v {
            kql::Expr::Literal(l, _) => (l, false),
            kql::Expr::Unary {
                op: kql::UnaryOp::Neg,
                expr,
                ..
            } => match &**expr {
                kql::Expr::Literal(l, _) => (l, true),
                _ => return Err("datatable values must be literals".into()),
            },
            _ => return Err("datatable values must be literals".into()),
        };
        let sv = literal_scalar(lit_v)?;
        let sv = if neg {
            sv.arithmetic_negate().map_err(|e| e.to_string())?
        } else {
            sv
        };
        let target = t.arrow().ok_or_else(|| format!("the {t} type is not supported"))?;
        if sv.data_type() == target {
            return Ok(sv);
        }
        match (&sv, t) {
            (ScalarValue::Utf8(Some(s)), KqlType::Dynamic) => Ok(ScalarValue::LargeUtf8(Some(
                serde_json::Value::String(s.clone()).to_string(),
            ))),
            (_, KqlType::Dynamic) => Ok(ScalarValue::LargeUtf8(Some(
                crate::functions::dynamic::json_at(&sv.to_array().map_err(|e| e.to_string())?, 0).to_string(),
            ))),
            (ScalarValue::Int64(_) | ScalarValue::Int32(_) | ScalarValue::Float64(_) | ScalarValue::Boolean(_), _)
                if t.is_numeric() || t == KqlType::Bool =>
            {
                sv.cast_to(&target).map_err(|e| e.to_string())
            }
            _ => Err(format!(
                "a {} value in a {t} column",
                KqlType::of_arrow(&sv.data_type()).map_or("null", KqlType::name)
            )),
        }
    }

    fn memory_table(&self, schema: Arc<Schema>, arrays: Vec<ArrayRef>, span: Span) -> PResult<LogicalPlan> {
        let batch = RecordBatch::try_new(schema.clone(), arrays).map_err(|e| df_err(span, e.into()))?;
        let table = MemTable::try_new(schema, vec![vec![batch]]).map_err(|e| df_err(span, e))?;
        build(
            LogicalPlanBuilder::scan("datatable", provider_as_source(Arc::new(table)), None),
            span,
        )
    }
}

fn dotnet_type(t: &str) -> &'static str {
    match t {
        "bool" => "Boolean",
        "int" => "Int32",
        "long" => "Int64",
        "real" => "Double",
        "datetime" => "DateTime",
        "timespan" => "TimeSpan",
        "guid" => "Guid",
        "dynamic" => "Object",
        _ => "String",
    }
}

/// The name a tabular expression's last operator gives it with `as`.
fn as_label(e: &kql::Expr) -> Option<String> {
    match e {
        kql::Expr::Paren(inner, _) => as_label(inner),
        kql::Expr::Pipeline { ops, .. } => match ops.last().map(|o| &o.kind) {
            Some(K::As { name, .. }) => Some(name.name.clone()),
            _ => None,
        },
        _ => None,
    }
}

/// `plan` with a column `name` numbering its rows in the order of the nearest `Sort` below
/// (through projections, filters and limits); `None` when another node is in between.
fn ord_above_sort(plan: &LogicalPlan, name: &str) -> Option<datafusion::error::Result<LogicalPlan>> {
    use datafusion::logical_expr::{ExprFunctionExt, Filter, Limit, Projection};
    let rebuilt = match plan {
        LogicalPlan::Sort(s) => {
            let w = datafusion::functions_window::expr_fn::row_number()
                .order_by(s.expr.clone())
                .build();
            return Some(w.and_then(|w| {
                LogicalPlanBuilder::from(plan.clone())
                    .window(vec![w.alias(name)])?
                    .build()
            }));
        }
        LogicalPlan::Projection(p) => ord_above_sort(&p.input, name)?.and_then(|input| {
            let mut exprs = p.expr.clone();
            exprs.push(ident(name));
            Projection::try_new(exprs, Arc::new(input)).map(LogicalPlan::Projection)
        }),
        LogicalPlan::Filter(f) => ord_above_sort(&f.input, name)?
            .and_then(|input| Filter::try_new(f.predicate.clone(), Arc::new(input)).map(LogicalPlan::Filter)),
        LogicalPlan::Limit(l) => ord_above_sort(&l.input, name)?.map(|input| {
            LogicalPlan::Limit(Limit {
                skip: l.skip.clone(),
                fetch: l.fetch.clone(),
                input: Arc::new(input),
            })
        }),
        _ => return None,
    };
    Some(rebuilt)
}

fn flatten_and<'e>(e: &'e kql::Expr, out: &mut Vec<&'e kql::Expr>) {
    match e {
        kql::Expr::Logical {
            op: kql::BinaryOp::And,
            operands,
            ..
        } => operands.iter().for_each(|o| flatten_and(o, out)),
        kql::Expr::Paren(inner, _) => flatten_and(inner, out),
        other => out.push(other),
    }
}

/// `$left.Column` → ("$left", "Column").
fn side_column(e: &kql::Expr) -> Option<(&str, String)> {
    match e {
        kql::Expr::Member { expr, name, .. } => match &**expr {
            kql::Expr::Name(side) if side.name == "$left" || side.name == "$right" => {
                Some((side.name.as_str(), name.name.clone()))
            }
            _ => None,
        },
        _ => None,
    }
}

/// Replaces each aggregation call in `e` with a reference to a hidden column, collecting the calls.
fn extract_aggregates(e: &kql::Expr, calls: &mut Vec<(kql::Expr, String)>, counter: &mut usize) -> kql::Expr {
    use kql::Expr as E;
    let mut rec = |x: &kql::Expr| Box::new(extract_aggregates(x, calls, counter));
    match e {
        E::Call {
            receiver: None,
            name,
            span,
            ..
        } if AGGREGATE_NAMES.contains(&name.name.as_str()) => {
            *counter += 1;
            let hidden = format!("__agg{counter}");
            calls.push((e.clone(), hidden.clone()));
            E::Name(kql::Ident::new(hidden, *span))
        }
        E::Call {
            receiver,
            name,
            args,
            span,
        } => E::Call {
            receiver: receiver.clone(),
            name: name.clone(),
            args: args
                .iter()
                .map(|a| match a {
                    kql::Arg::Positional(x) => kql::Arg::Positional(extract_aggregates(x, calls, counter)),
                    kql::Arg::Named(n, x) => kql::Arg::Named(n.clone(), extract_aggregates(x, calls, counter)),
                })
                .collect(),
            span: *span,
        },
        E::Binary { op, left, right, span } => {
            let l = rec(left);
            let r = Box::new(extract_aggregates(right, calls, counter));
            E::Binary {
                op: *op,
                left: l,
                right: r,
                span: *span,
            }
        }
        E::Unary { op, expr, span } => E::Unary {
            op: *op,
            expr: rec(expr),
            span: *span,
        },
        E::Paren(inner, span) => E::Paren(rec(inner), *span),
        E::Logical { op, operands, span } => E::Logical {
            op: *op,
            operands: operands.iter().map(|o| extract_aggregates(o, calls, counter)).collect(),
            span: *span,
        },
        other => other.clone(),
    }
}

/// A search predicate as a plain predicate: a bare string term searches every column (`has`,
/// or `hasprefix` / `hassuffix` / `contains` with a `*` at its end / start / both), `Col:"term"`
/// one column, `*` matches every row; kind=case_sensitive makes the string operators `_cs`.
fn search_predicate(e: &kql::Expr, cs: bool) -> PResult<kql::Expr> {
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

/// The `name:type` columns of datatable / externaldata with their KQL types.
fn declared_columns(schema: &[kql::ColumnDecl]) -> PResult<Vec<(String, KqlType)>> {
    schema
        .iter()
        .map(|c| {
            let t = KqlType::from_name(&c.ty.name)
                .ok_or_else(|| err(c.ty.span, format!("unknown type `{}`", c.ty.name)))?;
            Ok((c.name.name.clone(), t))
        })
        .collect()
}

/// The first column a call refers to (`mv-expand parse_json(Col)` expands into `Col`).
fn first_column(e: &kql::Expr) -> Option<String> {
    match e {
        kql::Expr::Name(n) => Some(n.name.clone()),
        kql::Expr::Call { args, .. } => args.iter().find_map(|a| first_column(a.expr())),
        kql::Expr::Paren(inner, _) => first_column(inner),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::wildcard_match;

    #[test]
    fn wildcards() {
        assert!(wildcard_match("Device*", "DeviceName"));
        assert!(wildcard_match("*Id", "DeviceId"));
        assert!(wildcard_match("a*b*c", "axxbyyc"));
        assert!(!wildcard_match("Device*", "InitiatingDevice"));
    }
}
