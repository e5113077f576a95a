//! Naming of result columns: the names Kusto gives unnamed expressions and clashing columns.

use crate::plan::functions::registry::{self, Naming};
use crate::plan::{PResult, Planner, err};
use datafusion::common::DFSchemaRef;

impl Planner<'_> {
    pub(super) fn name_for(&mut self, ne: &kql::NamedExpr, taken: &[String], schema: &DFSchemaRef) -> PResult<String> {
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
}

/// The column name Kusto gives an unnamed expression in extend / project / summarize by.
pub(in crate::plan) fn implicit_name(e: &kql::Expr) -> Option<String> {
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
            match registry::naming(n) {
                Naming::FirstArgument => first(),
                Naming::OnlyArgument if args.len() == 1 => first(),
                Naming::FunctionAndFirstArgument => first().map(|a| format!("{n}_{a}")),
                _ => None,
            }
        }
        _ => None,
    }
}

/// `name`, or the first of `name1`, `name2`, … not in `taken` (how join numbers a clashing
/// column of its right side).
pub(in crate::plan) fn unclashed(name: &str, taken: &[String]) -> String {
    let mut out = name.to_string();
    let mut i = 1;
    while taken.contains(&out) {
        out = format!("{name}{i}");
        i += 1;
    }
    out
}

/// The aggregation inside a name-preserving call (`tostring(make_set(x))`, `round(avg(x), 2)`).
pub(super) fn wrapped_aggregate(e: &kql::Expr) -> Option<&kql::Expr> {
    match e {
        kql::Expr::Call {
            receiver: None,
            name,
            args,
            ..
        } if registry::naming(&name.name) == Naming::FirstArgument => match args.first()? {
            kql::Arg::Positional(inner @ kql::Expr::Call { name, .. }) if registry::is_aggregate(&name.name) => {
                Some(inner)
            }
            kql::Arg::Positional(inner) => wrapped_aggregate(inner),
            _ => None,
        },
        kql::Expr::Paren(inner, _) => wrapped_aggregate(inner),
        _ => None,
    }
}
