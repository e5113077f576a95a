//! Naming of result columns: the names Kusto gives unnamed expressions and clashing columns.

use crate::plan::call::AGGREGATE_NAMES;
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
pub(super) const NAMED_BY_FIRST_ARGUMENT: &[&str] = &[
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
pub(super) const NAMED_BY_ONLY_ARGUMENT: &[&str] = &["make_datetime", "make_timespan"];
/// `strlen(x)` gives `strlen_x`.
pub(super) const NAMED_BY_FUNCTION_AND_FIRST_ARGUMENT: &[&str] = &["strlen", "string_size"];
