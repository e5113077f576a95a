//! Series functions returning several values (`series_fit_line`, `series_decompose`, ...): they
//! are computed by `extend` / `project` (plan::seriesfn); as plain values they are an error.

use super::ScalarCall;
use crate::plan::{PResult, Planner, err};
use datafusion::logical_expr::Expr;

/// A multi-value series function used as a single value.
pub(crate) fn lower_multi_value(p: &mut Planner<'_>, c: ScalarCall<'_>) -> PResult<Expr> {
    let name = c.name;
    let n = name.name.as_str();
    // A `let` value of that name hides the function (and is not callable).
    if p.lookup(n).is_some() {
        return Err(p.unknown_function(name, false));
    }
    Err(err(
        name.span,
        format!(
            "`{n}` returns several values: use it in extend, as `extend (a, b, ...) = {n}(...)` or `extend x = {n}(...)`"
        ),
    ))
}
