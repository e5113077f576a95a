//! Conditional and null-testing functions: `iff`, `case`, `coalesce`, `isempty`, `isnull`, `not`.

use super::{ScalarCall, one};
use crate::plan::{PResult, Planner, df_err, err};
use crate::types::KqlType;
use datafusion::common::ScalarValue;
use datafusion::functions::expr_fn as f;
use datafusion::logical_expr::{Expr, lit, when};
use std::ops::Not;

/// notempty() and notnull() are Kusto's deprecated aliases of isnotempty() and isnotnull().
pub(crate) fn lower_emptiness(p: &mut Planner<'_>, c: ScalarCall<'_>) -> PResult<Expr> {
    let ScalarCall { name, args: a, .. } = c;
    let n = name.name.as_str();
    let x = a.into_iter().next().expect("arity checked");
    let empty = match x.t {
        KqlType::String | KqlType::Guid => x.e.clone().is_null().or(x.e.eq(lit(""))),
        KqlType::Dynamic => {
            let s = p.coerce(x.e.clone(), KqlType::Dynamic, KqlType::String);
            x.e.is_null().or(s.eq(lit("")))
        }
        _ => x.e.is_null(),
    };
    Ok(if n == "isempty" { empty } else { empty.not() })
}

/// `isnull`.
pub(crate) fn lower_is_null(_p: &mut Planner<'_>, c: ScalarCall<'_>) -> PResult<Expr> {
    let ScalarCall { args: a, .. } = c;
    Ok(one(a).is_null())
}

/// `isnotnull`, `notnull`.
pub(crate) fn lower_is_not_null(_p: &mut Planner<'_>, c: ScalarCall<'_>) -> PResult<Expr> {
    let ScalarCall { args: a, .. } = c;
    Ok(one(a).is_not_null())
}

/// `not`.
pub(crate) fn lower_not(_p: &mut Planner<'_>, c: ScalarCall<'_>) -> PResult<Expr> {
    let ScalarCall { args: a, .. } = c;
    Ok(one(a).not())
}

/// `iff`, `iif`.
pub(crate) fn lower_iff(p: &mut Planner<'_>, c: ScalarCall<'_>) -> PResult<Expr> {
    let ScalarCall { span, args: a, .. } = c;
    let mut it = a.into_iter();
    let (c, t, e) = (it.next().expect("3"), it.next().expect("3"), it.next().expect("3"));
    let (t2, e2) = (p.coerce(t.e, t.t, e.t), p.coerce(e.e, e.t, t.t));
    when(c.e, t2).otherwise(e2).map_err(|x| df_err(span, x))
}

/// `case`.
pub(crate) fn lower_case(_p: &mut Planner<'_>, c: ScalarCall<'_>) -> PResult<Expr> {
    let ScalarCall { span, args: a, .. } = c;
    if a.len() < 3 || a.len() % 2 == 0 {
        return Err(err(span, "case() takes condition/value pairs and a final else value"));
    }
    let mut it = a.into_iter();
    let mut pairs = Vec::new();
    let mut else_v = None;
    while let Some(c) = it.next() {
        match it.next() {
            Some(v) => pairs.push((c.e, v.e)),
            None => else_v = Some(c.e),
        }
    }
    let mut b = when(pairs[0].0.clone(), pairs[0].1.clone());
    for (c, v) in pairs.into_iter().skip(1) {
        b = b.when(c, v);
    }
    b.otherwise(else_v.unwrap_or_else(|| lit(ScalarValue::Null)))
        .map_err(|x| df_err(span, x))
}

/// The first non-null value, or for strings the first non-empty one.
pub(crate) fn lower_coalesce(_p: &mut Planner<'_>, c: ScalarCall<'_>) -> PResult<Expr> {
    let ScalarCall { span, args: a, .. } = c;
    if a.is_empty() {
        return Err(err(span, "coalesce() takes at least one value"));
    }
    let last = a.len() - 1;
    let xs = a
        .into_iter()
        .enumerate()
        .map(|(i, x)| match x.t {
            KqlType::String if i < last => f::nullif(x.e, lit("")),
            _ => x.e,
        })
        .collect();
    Ok(f::coalesce(xs))
}
