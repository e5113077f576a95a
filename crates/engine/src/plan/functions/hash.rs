//! Hash functions: `hash`, `hash_xxhash64`.

use super::ScalarCall;
use crate::functions::library::LibOp;
use crate::plan::call::lib;
use crate::plan::{PResult, Planner, err};
use crate::types::KqlType;
use datafusion::logical_expr::Expr;

/// `hash`, `hash_xxhash64`.
pub(crate) fn lower_hash(_p: &mut Planner<'_>, c: ScalarCall<'_>) -> PResult<Expr> {
    let ScalarCall { name, args: a, .. } = c;
    let n = name.name.as_str();
    // The documented byte layouts: UTF-8 text, and a datetime's .NET ticks.
    if !matches!(a[0].t, KqlType::String | KqlType::Datetime) {
        return Err(err(
            a[0].span,
            format!("{n}() of a {} is not supported yet (strings and datetimes are)", a[0].t),
        ));
    }
    let mut it = a.into_iter();
    let x = it.next().expect("arity checked");
    let mut args = vec![x.e];
    if let Some(m) = it.next() {
        args.push(Planner::long_arg(n, m)?);
    }
    Ok(lib(n, LibOp::Hash, args))
}
