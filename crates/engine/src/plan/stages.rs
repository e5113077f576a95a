//! Keeps each `extend` / `project` step its own stage. DataFusion 55's projection optimizer
//! drops a projection whose expressions equal those of the projection below it, a shortcut that
//! is only right when the upper one does not read the lower one's outputs: `extend x = x + 1 |
//! extend x = x + 1` would add 1 once. Such a pair is merged here before the optimizer sees it,
//! by substituting the lower projection's expressions into the upper one, as a correct merge
//! would.

use datafusion::common::tree_node::{Transformed, TreeNode};
use datafusion::error::Result;
use datafusion::logical_expr::{Expr, LogicalPlan, Projection};

/// Merges every projection that repeats the expressions of the projection under it.
pub fn merge_repeated_projections(plan: LogicalPlan) -> Result<LogicalPlan> {
    plan.transform_up_with_subqueries(|node| {
        let LogicalPlan::Projection(upper) = &node else {
            return Ok(Transformed::no(node));
        };
        let LogicalPlan::Projection(lower) = upper.input.as_ref() else {
            return Ok(Transformed::no(node));
        };
        if upper.expr != lower.expr {
            return Ok(Transformed::no(node));
        }
        let exprs = upper
            .expr
            .iter()
            .cloned()
            .map(|e| substitute(e, lower))
            .collect::<Result<Vec<_>>>()?;
        let merged = Projection::try_new_with_schema(exprs, lower.input.clone(), upper.schema.clone())?;
        Ok(Transformed::yes(LogicalPlan::Projection(merged)))
    })
    .map(|t| t.data)
}

/// `e` with each column of `lower`'s output replaced by the expression that computes it.
fn substitute(e: Expr, lower: &Projection) -> Result<Expr> {
    e.transform_up(|x| match &x {
        Expr::Column(c) => match lower.schema.index_of_column(c) {
            Ok(i) => Ok(Transformed::yes(lower.expr[i].clone().unalias())),
            Err(_) => Ok(Transformed::no(x)),
        },
        _ => Ok(Transformed::no(x)),
    })
    .map(|t| t.data)
}
