//! Keeps each `extend` / `project` step its own stage. DataFusion 55's projection optimizer
//! drops a projection whose expressions equal those of the projection below it, a shortcut that
//! is only right when the upper one does not read the lower one's outputs: `extend x = x + 1 |
//! extend x = x + 1` would add 1 once. Consecutive projections are merged here before that
//! optimizer runs, by substituting the lower projection's expressions into the upper one, as a
//! correct merge would: after planning, and again each time the optimizer's projection pass runs
//! ([`StagedProjections`]), since other rules (dropping `where true`, an identity `project`, a
//! column no one reads) can make two repeated steps adjacent.

use datafusion::common::tree_node::{Transformed, TreeNode};
use datafusion::error::Result;
use datafusion::logical_expr::{Expr, LogicalPlan, Projection};
use datafusion::optimizer::optimize_projections::OptimizeProjections;
use datafusion::optimizer::{ApplyOrder, OptimizerConfig, OptimizerRule};

/// Merges every projection into the projection under it where [`mergeable`].
///
/// One pass merges pairs bottom-up, and merged pairs can repeat each other in turn (four
/// identical `extend`s become two identical merged ones), so passes repeat until none merges.
pub fn merge_repeated_projections(plan: LogicalPlan) -> Result<LogicalPlan> {
    merge_to_fixpoint(plan).map(|t| t.data)
}

fn merge_to_fixpoint(mut plan: LogicalPlan) -> Result<Transformed<LogicalPlan>> {
    let mut any = false;
    loop {
        let pass = merge_pass(plan)?;
        plan = pass.data;
        if !pass.transformed {
            return Ok(Transformed::new_transformed(plan, any));
        }
        any = true;
    }
}

/// Whether `upper` may take `lower`'s expressions in: it repeats them, or it reads each value
/// `lower` computes at most once (a value read twice stays computed once, as DataFusion's own
/// merge keeps it: a volatile function read twice is one value, and costly expressions are not repeated).
fn mergeable(upper: &Projection, lower: &Projection) -> bool {
    if upper.expr == lower.expr {
        return true;
    }
    let mut reads = vec![0usize; lower.expr.len()];
    for e in &upper.expr {
        for (c, n) in e.column_refs_counts() {
            if let Ok(i) = lower.schema.index_of_column(c) {
                reads[i] += n;
            }
        }
    }
    reads
        .iter()
        .zip(&lower.expr)
        .all(|(&n, e)| n <= 1 || matches!(e.clone().unalias(), Expr::Column(_) | Expr::Literal(..)))
}

fn merge_pass(plan: LogicalPlan) -> Result<Transformed<LogicalPlan>> {
    plan.transform_up_with_subqueries(|node| {
        let LogicalPlan::Projection(upper) = &node else {
            return Ok(Transformed::no(node));
        };
        let LogicalPlan::Projection(lower) = upper.input.as_ref() else {
            return Ok(Transformed::no(node));
        };
        if !mergeable(upper, lower) {
            return Ok(Transformed::no(node));
        }
        let exprs = upper
            .expr
            .iter()
            .enumerate()
            .map(|(i, e)| {
                let merged = substitute(e.clone(), lower)?;
                // Keep the upper step's output name (a bare column takes the lower expression's).
                let (qualifier, field) = upper.schema.qualified_field(i);
                let same_column =
                    matches!(&merged, Expr::Column(c) if c.name == *field.name() && c.relation.as_ref() == qualifier);
                Ok(if matches!(merged, Expr::Alias(_)) || same_column {
                    merged
                } else {
                    merged.alias_qualified(qualifier.cloned(), field.name())
                })
            })
            .collect::<Result<Vec<_>>>()?;
        let merged = Projection::try_new_with_schema(exprs, lower.input.clone(), upper.schema.clone())?;
        Ok(Transformed::yes(LogicalPlan::Projection(merged)))
    })
}

/// DataFusion's projection optimiser (`optimize_projections`), run on plans whose repeated
/// projections are merged first: other rules (removing `where true`, a filter pushed down) can
/// make two repeated steps adjacent after planning, where the optimiser's shortcut would drop one.
#[derive(Debug, Default)]
pub struct StagedProjections(OptimizeProjections);

impl OptimizerRule for StagedProjections {
    fn name(&self) -> &str {
        "kql_staged_projections"
    }

    fn apply_order(&self) -> Option<ApplyOrder> {
        None
    }

    fn supports_rewrite(&self) -> bool {
        true
    }

    fn rewrite(&self, plan: LogicalPlan, config: &dyn OptimizerConfig) -> Result<Transformed<LogicalPlan>> {
        let merged = merge_to_fixpoint(plan)?;
        let optimised = self.0.rewrite(merged.data, config)?;
        let changed = merged.transformed || optimised.transformed;
        Ok(Transformed::new_transformed(optimised.data, changed))
    }
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
