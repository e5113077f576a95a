//! `summarize` (aggregations, possibly inside scalar expressions, grouped by keys) and its
//! shorthands `distinct` and `count`.

use super::naming::wrapped_aggregate;
use super::{build, implicit_name, names_of, project, unclashed};
use crate::plan::functions::registry::is_aggregate;
use crate::plan::{PResult, Planner, df_err, err};
use datafusion::arrow::datatypes::DataType;
use datafusion::common::DFSchemaRef;
use datafusion::logical_expr::{Expr, LogicalPlan, LogicalPlanBuilder, lit};
use datafusion::prelude::ident;
use kql::Span;
use std::sync::Arc;

impl Planner<'_> {
    /// `summarize aggs by keys`: aggregation calls may sit inside scalar expressions
    /// (`round(100.0 * countif(x) / count(), 2)`); they are computed first, the rest after.
    pub(in crate::plan) fn summarize(
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
        let (plan, ord) = match crate::plan::window::serial_order(&plan) {
            crate::plan::window::Order::None => (plan, None),
            crate::plan::window::Order::Lost(_) => {
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
            crate::plan::window::Order::Keys(keys) => {
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

    pub(super) fn summarize_rows(
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
            let direct = matches!(&ne.expr, kql::Expr::Call { name, .. } if is_aggregate(&name.name));
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
}

/// `plan` with a column `name` numbering its rows in the order of the nearest `Sort` below
/// (through projections, filters and limits); `None` when another node is in between.
pub(super) fn ord_above_sort(plan: &LogicalPlan, name: &str) -> Option<datafusion::error::Result<LogicalPlan>> {
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

/// Replaces each aggregation call in `e` with a reference to a hidden column, collecting the calls.
pub(super) fn extract_aggregates(
    e: &kql::Expr,
    calls: &mut Vec<(kql::Expr, String)>,
    counter: &mut usize,
) -> kql::Expr {
    use kql::Expr as E;
    let mut rec = |x: &kql::Expr| Box::new(extract_aggregates(x, calls, counter));
    match e {
        E::Call {
            receiver: None,
            name,
            span,
            ..
        } if is_aggregate(&name.name) => {
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

impl Planner<'_> {
    /// `distinct`: the distinct rows of the listed expressions (or of all columns for `*`).
    pub(super) fn distinct(&mut self, plan: LogicalPlan, columns: &[kql::Expr], span: Span) -> PResult<LogicalPlan> {
        let schema = plan.schema().clone();
        if matches!(columns, [kql::Expr::Star(_)]) {
            return build(LogicalPlanBuilder::from(plan).distinct(), span);
        }
        let mut out = Vec::new();
        let mut taken = Vec::new();
        for c in columns {
            let name =
                implicit_name(c).unwrap_or_else(|| self.next_column_name(&|n| taken.iter().any(|t: &String| t == n)));
            out.push(self.scalar(c, &schema)?.alias(&name));
            taken.push(name);
        }
        build(
            LogicalPlanBuilder::from(plan).project(out).and_then(|b| b.distinct()),
            span,
        )
    }

    /// `count`: one row with the number of rows.
    pub(super) fn count_op(
        &mut self,
        plan: LogicalPlan,
        as_name: Option<&kql::Ident>,
        span: Span,
    ) -> PResult<LogicalPlan> {
        let name = as_name.map_or("Count".to_string(), |n| n.name.clone());
        build(
            LogicalPlanBuilder::from(plan).aggregate(
                Vec::<Expr>::new(),
                vec![datafusion::functions_aggregate::expr_fn::count(lit(1i64)).alias(name)],
            ),
            span,
        )
    }
}
