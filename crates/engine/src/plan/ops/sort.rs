//! `sort`, `top` and `take`: row order and row limits.

use super::build;
use crate::plan::{PResult, Planner};
use datafusion::logical_expr::{LogicalPlan, LogicalPlanBuilder};
use kql::Span;

impl Planner<'_> {
    /// `sort by`: Kusto's default direction and null placement per key.
    pub(super) fn sort(&mut self, plan: LogicalPlan, keys: &[kql::SortKey], span: Span) -> PResult<LogicalPlan> {
        let schema = plan.schema().clone();
        let sorts = keys
            .iter()
            .map(|k| self.sort_key(k, &schema))
            .collect::<PResult<Vec<_>>>()?;
        build(LogicalPlanBuilder::from(plan).sort(sorts), span)
    }

    /// `top n by key`.
    pub(super) fn top(
        &mut self,
        plan: LogicalPlan,
        count: &kql::Expr,
        key: &kql::SortKey,
        span: Span,
    ) -> PResult<LogicalPlan> {
        let schema = plan.schema().clone();
        let n = self.const_count(count)?;
        let s = self.sort_key(key, &schema)?;
        build(LogicalPlanBuilder::from(plan).sort_with_limit(vec![s], Some(n)), span)
    }

    /// `take n` / `limit n`.
    pub(super) fn take(&mut self, plan: LogicalPlan, count: &kql::Expr, span: Span) -> PResult<LogicalPlan> {
        let n = self.const_count(count)?;
        build(LogicalPlanBuilder::from(plan).limit(0, Some(n)), span)
    }
}
