//! Type conversions: `tostring`, `tolong`, `todatetime`, `parse_json`, `tohex`, `gettype`, ...

use super::ScalarCall;
use crate::functions::dynamic::{JsonOp, PathStep};
use crate::functions::library::LibOp;
use crate::functions::scalar::ScalarOp;
use crate::plan::call::{Pipe, lib, scalar_fn};
use crate::plan::expr::json;
use crate::plan::{PResult, Planner, err};
use crate::types::KqlType;
use datafusion::logical_expr::{Expr, lit};

/// `tostring`.
pub(crate) fn lower_tostring(p: &mut Planner<'_>, c: ScalarCall<'_>) -> PResult<Expr> {
    let ScalarCall { args: a, .. } = c;
    let x = a.into_iter().next().expect("arity checked");
    Ok(p.text(x))
}

/// `toboolean`, `tobool`, `todatetime`, `todouble`, `toint`, `tolong`, `toreal`, `totimespan`, `toguid`.
pub(crate) fn lower_convert(p: &mut Planner<'_>, c: ScalarCall<'_>) -> PResult<Expr> {
    let ScalarCall { name, args: a, .. } = c;
    let n = name.name.as_str();
    let x = a.into_iter().next().expect("arity checked");
    p.convert(n, x)
}

/// `parse_json`, `toarray`.
pub(crate) fn lower_to_dynamic(_p: &mut Planner<'_>, c: ScalarCall<'_>) -> PResult<Expr> {
    let ScalarCall { args: a, .. } = c;
    let x = a.into_iter().next().expect("arity checked");
    Ok(match x.t {
        KqlType::Dynamic => x.e,
        KqlType::String => json("parse_json", JsonOp::Parse, vec![x.e]),
        _ => json("pack_array", JsonOp::PackArray, vec![x.e])
            .pipe(|e| json("get", JsonOp::Get(vec![PathStep::Index(0)]), vec![e])),
    })
}

/// `dynamic_to_json`.
pub(crate) fn lower_dynamic_to_json(p: &mut Planner<'_>, c: ScalarCall<'_>) -> PResult<Expr> {
    let ScalarCall { name, args: a, .. } = c;
    let n = name.name.as_str();
    let x = a.into_iter().next().expect("arity checked");
    Ok(match x.t {
        KqlType::Dynamic => json(n, JsonOp::ToCanonicalJson, vec![x.e]),
        _ => p.text(x),
    })
}

/// `tohex`.
pub(crate) fn lower_tohex(_p: &mut Planner<'_>, c: ScalarCall<'_>) -> PResult<Expr> {
    let ScalarCall { name, args: a, .. } = c;
    let n = name.name.as_str();
    if !matches!(a[0].t, KqlType::Long | KqlType::Int) {
        return Err(err(a[0].span, format!("tohex() takes an integer, not {}", a[0].t)));
    }
    Ok(scalar_fn(n, ScalarOp::ToHex, a.into_iter().map(|x| x.e).collect()))
}

/// `gettype`.
pub(crate) fn lower_gettype(_p: &mut Planner<'_>, c: ScalarCall<'_>) -> PResult<Expr> {
    let ScalarCall { name, args: a, .. } = c;
    let n = name.name.as_str();
    let x = a.into_iter().next().expect("arity");
    Ok(match x.t {
        KqlType::Dynamic => lib(n, LibOp::GetType, vec![x.e]),
        t => lit(t.name()),
    })
}
