//! `partition by Column ( subquery )`: the subquery runs on each partition (rows with one value
//! of the column) and the results are unioned. Row-wise operators give the same rows whether
//! they run per partition or once, so they run once; `top` and `take` keep their rows per
//! partition (a row number over the partition column). Other operators are rejected by name.

use super::ops::{build, names_of, project};
use super::{PResult, Planner, df_err, err};
use datafusion::functions_window::expr_fn::row_number;
use datafusion::logical_expr::{ExprFunctionExt, LogicalPlan, LogicalPlanBuilder, lit};
use datafusion::prelude::{Expr, ident};
use kql::{Operator, OperatorKind as K, Span};

impl Planner<'_> {
    pub(super) fn partition(
        &mut self,
        mut plan: LogicalPlan,
        params: &[kql::OpParam],
        by: &kql::Expr,
        body: &kql::SubQuery,
        span: Span,
    ) -> PResult<LogicalPlan> {
        for p in params {
            if !p.name.name.starts_with("hint.") {
                return Err(err(
                    p.name.span,
                    format!("unknown partition parameter `{}`", p.name.name),
                ));
            }
        }
        let kql::Expr::Name(column) = by else {
            return Err(err(by.span(), "partition by takes a column name"));
        };
        let kql::SubQuery::Ops(ops) = body else {
            return Err(err(
                span,
                "partition with a braced subquery `{ ... }` is not supported yet",
            ));
        };
        for op in ops {
            plan = self.partition_step(plan, op, &column.name)?;
        }
        Ok(plan)
    }

    fn partition_step(&mut self, plan: LogicalPlan, op: &Operator, column: &str) -> PResult<LogicalPlan> {
        let span = op.span;
        let per_partition = |p: &LogicalPlan| {
            if names_of(p).iter().any(|n| n == column) {
                Ok(())
            } else {
                Err(err(
                    span,
                    format!(
                        "`{}` inside partition needs the partition column `{column}`",
                        op.keyword()
                    ),
                ))
            }
        };
        match &op.kind {
            K::Where(e) if !self.has_window_calls(&[e]) => self.operator(plan, op),
            K::Extend(items) | K::Project(items)
                if !self.has_window_calls(&items.iter().map(|i| &i.expr).collect::<Vec<_>>()) =>
            {
                self.operator(plan, op)
            }
            K::ProjectAway(_) | K::ProjectKeep(_) | K::ProjectRename(_) | K::ProjectReorder(_) => {
                self.operator(plan, op)
            }
            K::Top { count, key } => {
                per_partition(&plan)?;
                let n = self.const_count(count)?;
                let order = self.sort_key(key, plan.schema())?;
                self.keep_per_partition(plan, column, vec![order], n, span)
            }
            K::Take(count) => {
                per_partition(&plan)?;
                let n = self.const_count(count)?;
                self.keep_per_partition(plan, column, vec![], n, span)
            }
            _ => Err(err(
                span,
                format!("the `{}` operator inside partition is not supported yet", op.keyword()),
            )),
        }
    }

    /// The first `n` rows of each partition in `order`.
    fn keep_per_partition(
        &mut self,
        plan: LogicalPlan,
        column: &str,
        order: Vec<datafusion::logical_expr::SortExpr>,
        n: usize,
        span: Span,
    ) -> PResult<LogicalPlan> {
        let names: Vec<Expr> = names_of(&plan).iter().map(ident).collect();
        let mut w = row_number().partition_by(vec![ident(column)]);
        if !order.is_empty() {
            w = w.order_by(order);
        }
        let rank = w.build().map_err(|e| df_err(span, e))?.alias("__partition_rank");
        let ranked = build(LogicalPlanBuilder::from(plan).window(vec![rank]), span)?;
        let kept = build(
            LogicalPlanBuilder::from(ranked).filter(ident("__partition_rank").lt_eq(lit(n as u64))),
            span,
        )?;
        project(kept, names, span)
    }
}
