//! Functions whose arguments are not ordinary values: `toscalar` (a tabular expression) and
//! `column_ifexists` (a column that may not exist).

use crate::plan::{PResult, Planner, err};
use datafusion::common::DFSchemaRef;
use datafusion::logical_expr::Expr;
use datafusion::prelude::ident;
use kql::{Arg, Ident, Span};

/// `toscalar(T)`: the first column of the first row of a tabular expression.
pub(crate) fn lower_toscalar(
    p: &mut Planner<'_>,
    _name: &Ident,
    args: &[Arg],
    span: Span,
    _schema: &DFSchemaRef,
) -> PResult<Expr> {
    p.toscalar(args, span)
}

/// `column_ifexists(name, default)`: the column when the input has it, else the default.
pub(crate) fn lower_column_ifexists(
    p: &mut Planner<'_>,
    name: &Ident,
    args: &[Arg],
    span: Span,
    schema: &DFSchemaRef,
) -> PResult<Expr> {
    let n = name.name.as_str();
    let [Arg::Positional(column), Arg::Positional(default)] = args else {
        return Err(err(span, format!("{n}() takes a column name and a default value")));
    };
    let value = p.column_ifexists_name(column)?;
    if schema.field_with_unqualified_name(&value).is_ok() {
        return Ok(ident(value));
    }
    p.scalar(default, schema)
}
