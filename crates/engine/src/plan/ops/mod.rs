//! Tabular operators: each KQL operator becomes DataFusion plan nodes with Kusto's column
//! naming and ordering; operators without an exact translation are rejected by name.

mod join;
mod mv_expand;
mod naming;
mod parse;
mod project;
mod sort;
mod sources;
mod summarize;
mod union_find_search;

pub(super) use naming::{implicit_name, unclashed};

use super::expr::constant_value;
use super::{Binding, PResult, Planner, df_err, err};
use crate::types::KqlType;
use datafusion::common::{DFSchemaRef, ScalarValue};
use datafusion::logical_expr::{Expr, Filter, LogicalPlan, LogicalPlanBuilder, Projection, SortExpr, lit};
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
    // `LogicalPlanBuilder::project` qualifies every unqualified column by walking the whole input
    // plan (looking for USING joins), once per column: over the deep plans `let`s expand to, that
    // was most of the planning time. When every column names exactly one field of the input,
    // they are qualified from its schema and the projection is built directly; otherwise (and
    // over aggregates and windows, whose expressions the builder turns into columns) the
    // builder does it.
    if !matches!(plan, LogicalPlan::Aggregate(_) | LogicalPlan::Window(_))
        && let Some(qualified) = qualify_columns(&exprs, plan.schema())
        && let Ok(p) = Projection::try_new(qualified, Arc::new(plan.clone()))
    {
        return Ok(LogicalPlan::Projection(p));
    }
    build(LogicalPlanBuilder::from(plan).project(exprs), span)
}

/// A filter, its columns qualified from the input's schema as [`project`] does.
pub(super) fn filter(plan: LogicalPlan, predicate: Expr, span: Span) -> PResult<LogicalPlan> {
    if let Some(mut qualified) = qualify_columns(std::slice::from_ref(&predicate), plan.schema())
        && let Some(p) = qualified.pop()
        && let Ok(f) = Filter::try_new(p, Arc::new(plan.clone()))
    {
        return Ok(LogicalPlan::Filter(f));
    }
    build(LogicalPlanBuilder::from(plan).filter(predicate), span)
}

/// `exprs` with every unqualified column qualified as the one field of `schema` it names; `None`
/// when a column names no field or several.
fn qualify_columns(exprs: &[Expr], schema: &DFSchemaRef) -> Option<Vec<Expr>> {
    use datafusion::common::tree_node::{Transformed, TreeNode};
    exprs
        .iter()
        .map(|e| {
            e.clone()
                .transform(|e| match &e {
                    Expr::Column(c) if c.relation.is_none() => {
                        let (q, _) = schema.qualified_field_with_unqualified_name(&c.name)?;
                        Ok(Transformed::yes(Expr::Column(datafusion::common::Column::new(
                            q.cloned(),
                            &c.name,
                        ))))
                    }
                    _ => Ok(Transformed::no(e)),
                })
                .map(|t| t.data)
                .ok()
        })
        .collect()
}

impl Planner<'_> {
    /// Applies one tabular operator to `plan`.
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
                let filtered = filter(wide, p, span)?;
                project(filtered, names.iter().map(ident).collect(), span)
            }
            K::Where(e) => {
                let p = self.predicate(e, &schema)?;
                filter(plan, p, span)
            }
            K::Extend(items) => self.extend(plan, items, span),
            K::Project(items) => self.project_op(plan, items, span),
            K::ProjectAway(cols) | K::ProjectKeep(cols) => {
                self.project_away_keep(plan, cols, matches!(op.kind, K::ProjectKeep(_)), span)
            }
            K::ProjectRename(pairs) => self.project_rename(plan, pairs, span),
            K::ProjectReorder(items) => self.project_reorder(plan, items, span),
            K::Summarize { aggregates, by, .. } => self.summarize(plan, aggregates, by, span),
            K::Sort { keys, .. } => self.sort(plan, keys, span),
            K::TopNested(levels) => self.top_nested(plan, levels, span),
            K::Evaluate { params, call, schema } => self.evaluate(plan, params, call, schema.as_ref(), span),
            K::Partition { params, by, body } => self.partition(plan, params, by, body, span),
            K::Top { count, key } => self.top(plan, count, key, span),
            K::Take(count) => self.take(plan, count, span),
            K::Distinct { columns, .. } => self.distinct(plan, columns, span),
            K::Count { as_name } => self.count_op(plan, as_name.as_ref(), span),
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
