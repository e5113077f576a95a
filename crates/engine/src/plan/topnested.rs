//! `top-nested`: hierarchical aggregation. Level 1 groups the input by its expression and keeps
//! the top N groups by its aggregation; each further level groups by all expressions so far and
//! keeps the top N within each group the previous level kept.

use super::ops::{build, implicit_name, project};
use super::{PResult, Planner, df_err, err};
use datafusion::common::{Column, NullEquality, TableReference};
use datafusion::functions_window::expr_fn::row_number;
use datafusion::logical_expr::{ExprFunctionExt, JoinType, LogicalPlan, LogicalPlanBuilder, SortExpr, lit};
use datafusion::prelude::{Expr, ident};
use kql::Span;

impl Planner<'_> {
    pub(super) fn top_nested(
        &mut self,
        plan: LogicalPlan,
        levels: &[kql::TopNestedLevel],
        span: Span,
    ) -> PResult<LogicalPlan> {
        let schema = plan.schema().clone();
        // The input with one hidden column per level's expression.
        let mut wide: Vec<Expr> = schema.columns().into_iter().map(Expr::Column).collect();
        let mut key_names: Vec<String> = Vec::new();
        let mut agg_names: Vec<String> = Vec::new();
        for (i, level) in levels.iter().enumerate() {
            if let (Some(o), true) = (&level.others, levels.len() > 1) {
                return Err(err(
                    o.span(),
                    "top-nested `with others` is supported with a single level only",
                ));
            }
            let key = match level.of.names.as_slice() {
                [one] => one.name.clone(),
                [] => match implicit_name(&level.of.expr) {
                    Some(n) => n,
                    None => self.next_column_name(&|n| key_names.iter().chain(&agg_names).any(|x| x == n)),
                },
                _ => return Err(err(level.of.expr.span(), "top-nested takes one expression per level")),
            };
            let agg = match level.by.names.as_slice() {
                [one] => one.name.clone(),
                [] => format!("aggregated_{key}"),
                _ => return Err(err(level.by.expr.span(), "top-nested takes one aggregation per level")),
            };
            for n in [&key, &agg] {
                if key_names.iter().chain(&agg_names).any(|x| x == n) || key == agg {
                    return Err(err(
                        level.of.expr.span(),
                        format!("top-nested names the column `{n}` twice"),
                    ));
                }
            }
            wide.push(self.scalar(&level.of.expr, &schema)?.alias(hidden(i)));
            key_names.push(key);
            agg_names.push(agg);
        }
        let base = project(plan, wide, span)?;
        let bschema = base.schema().clone();
        let mut kept: Option<LogicalPlan> = None;
        for (i, level) in levels.iter().enumerate() {
            let direct = matches!(&level.by.expr, kql::Expr::Call { name, .. }
                if super::functions::registry::is_aggregate(&name.name));
            if !direct {
                return Err(err(
                    level.by.expr.span(),
                    "top-nested takes an aggregation call here (combinations of aggregations are not supported yet)",
                ));
            }
            let (agg, _) = self
                .aggregate(&level.by.expr, &bschema, &[])?
                .into_iter()
                .next()
                .ok_or_else(|| err(level.by.expr.span(), "empty aggregation"))?;
            let groups: Vec<Expr> = (0..=i).map(|k| ident(hidden(k))).collect();
            let grouped = build(
                LogicalPlanBuilder::from(base.clone()).aggregate(groups, vec![agg.alias(hidden_agg(i))]),
                span,
            )?;
            // Keep only the groups under the ones the previous level kept.
            let level_plan = match kept.take() {
                None => grouped,
                Some(prev) => {
                    let (lq, rq) = (TableReference::bare("__prev"), TableReference::bare("__level"));
                    let l = build(LogicalPlanBuilder::from(prev).alias(lq.clone()), span)?;
                    let r = build(LogicalPlanBuilder::from(grouped).alias(rq.clone()), span)?;
                    let lcol = |n: &str| Expr::Column(Column::new(Some(lq.clone()), n));
                    let rcol = |n: &str| Expr::Column(Column::new(Some(rq.clone()), n));
                    let lkeys: Vec<Column> = (0..i).map(|k| Column::new(Some(lq.clone()), hidden(k))).collect();
                    let rkeys: Vec<Column> = (0..i).map(|k| Column::new(Some(rq.clone()), hidden(k))).collect();
                    let joined = build(
                        LogicalPlanBuilder::from(l).join_detailed(
                            r,
                            JoinType::Inner,
                            (lkeys, rkeys),
                            None,
                            NullEquality::NullEqualsNull,
                        ),
                        span,
                    )?;
                    let mut out: Vec<Expr> = Vec::new();
                    for k in 0..i {
                        out.push(lcol(&hidden(k)).alias(hidden(k)));
                        out.push(lcol(&hidden_agg(k)).alias(hidden_agg(k)));
                    }
                    out.push(rcol(&hidden(i)).alias(hidden(i)));
                    out.push(rcol(&hidden_agg(i)).alias(hidden_agg(i)));
                    project(joined, out, span)?
                }
            };
            let asc = level.dir == Some(kql::SortDir::Asc);
            // Kusto's sort: nulls first ascending, last descending.
            let order = vec![SortExpr::new(ident(hidden_agg(i)), asc, asc)];
            let limited = match &level.count {
                None => level_plan,
                Some(count) => {
                    let n = self.const_count(count)?;
                    let partition: Vec<Expr> = (0..i).map(|k| ident(hidden(k))).collect();
                    let rank = row_number()
                        .partition_by(partition)
                        .order_by(order)
                        .build()
                        .map_err(|e| df_err(span, e))?
                        .alias("__tn_rank");
                    let names: Vec<Expr> = level_plan.schema().columns().into_iter().map(Expr::Column).collect();
                    let ranked = build(LogicalPlanBuilder::from(level_plan).window(vec![rank]), span)?;
                    let filtered = build(
                        LogicalPlanBuilder::from(ranked).filter(ident("__tn_rank").lt_eq(lit(n as u64))),
                        span,
                    )?;
                    project(filtered, names, span)?
                }
            };
            // `with others = C` (one level): a row keyed C aggregating every row outside the top.
            let limited = match (&level.others, &level.count) {
                (Some(o), Some(_)) => {
                    let c = self.constant(o)?;
                    let key_type =
                        datafusion::logical_expr::ExprSchemable::get_type(&ident(hidden(i)), bschema.as_ref())
                            .map_err(|e| df_err(span, e))?;
                    let (lq, rq) = (TableReference::bare("__rows"), TableReference::bare("__top"));
                    let l = build(LogicalPlanBuilder::from(base.clone()).alias(lq.clone()), span)?;
                    let r = build(LogicalPlanBuilder::from(limited.clone()).alias(rq.clone()), span)?;
                    let rest = build(
                        LogicalPlanBuilder::from(l).join_detailed(
                            r,
                            JoinType::LeftAnti,
                            (
                                vec![Column::new(Some(lq.clone()), hidden(i))],
                                vec![Column::new(Some(rq.clone()), hidden(i))],
                            ),
                            None,
                            NullEquality::NullEqualsNull,
                        ),
                        span,
                    )?;
                    let rest = project(
                        rest,
                        bschema.columns().into_iter().map(|c| ident(c.name)).collect(),
                        span,
                    )?;
                    let (agg, _) = self
                        .aggregate(&level.by.expr, &bschema, &[])?
                        .into_iter()
                        .next()
                        .ok_or_else(|| err(level.by.expr.span(), "empty aggregation"))?;
                    // Grouped by the constant: no row when nothing is left out.
                    let others = build(
                        LogicalPlanBuilder::from(rest).aggregate(
                            vec![datafusion::logical_expr::cast(c, key_type).alias(hidden(i))],
                            vec![agg.alias(hidden_agg(i))],
                        ),
                        span,
                    )?;
                    let names: Vec<Expr> = limited.schema().columns().into_iter().map(|c| ident(c.name)).collect();
                    let others = project(others, names.clone(), span)?;
                    let top = project(limited, names, span)?;
                    build(LogicalPlanBuilder::from(top).union(others), span)?
                }
                _ => limited,
            };
            kept = Some(limited);
        }
        let result = kept.ok_or_else(|| err(span, "top-nested needs at least one level"))?;
        // Rows ordered level by level (each level's aggregation in its direction), then named.
        let mut order = Vec::new();
        for (i, level) in levels.iter().enumerate() {
            let asc = level.dir == Some(kql::SortDir::Asc);
            order.push(SortExpr::new(ident(hidden_agg(i)), asc, asc));
            order.push(SortExpr::new(ident(hidden(i)), true, true));
        }
        let sorted = build(LogicalPlanBuilder::from(result).sort(order), span)?;
        let mut out = Vec::new();
        for i in 0..levels.len() {
            out.push(ident(hidden(i)).alias(&key_names[i]));
            out.push(ident(hidden_agg(i)).alias(&agg_names[i]));
        }
        project(sorted, out, span)
    }
}

fn hidden(i: usize) -> String {
    format!("__tn_key{i}")
}

fn hidden_agg(i: usize) -> String {
    format!("__tn_agg{i}")
}
