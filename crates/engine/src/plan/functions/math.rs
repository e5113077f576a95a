//! Numeric functions: rounding and `bin`, `abs`, `sqrt`, `log`, `pow`, `min_of`/`max_of`, bitwise
//! operations, `isnan`, `pi`, ...

use super::ScalarCall;
use crate::functions::formats::BitOp;
use crate::functions::library::LibOp;
use crate::functions::scalar::ScalarOp;
use crate::plan::call::{lib, scalar_fn};
use crate::plan::{PResult, Planner, df_err, err};
use crate::types::KqlType;
use datafusion::arrow::datatypes::DataType;
use datafusion::common::ScalarValue;
use datafusion::functions::expr_fn as f;
use datafusion::logical_expr::{Expr, cast, lit, when};
use std::ops::Not;

/// `bin(value, size)`; with another argument count `bin` is not a known call.
pub(crate) fn lower_bin(p: &mut Planner<'_>, c: ScalarCall<'_>) -> PResult<Expr> {
    if c.args.len() == 2 {
        lower_bin_by_size(p, c)
    } else {
        Err(p.unknown_function(c.name, false))
    }
}

/// `floor(x)`, or `floor(value, size)` (the same as `bin`).
pub(crate) fn lower_floor(p: &mut Planner<'_>, c: ScalarCall<'_>) -> PResult<Expr> {
    if c.args.len() == 2 {
        lower_bin_by_size(p, c)
    } else {
        lower_math(p, c)
    }
}

/// `bin(value, size)` / `floor(value, size)`.
fn lower_bin_by_size(_p: &mut Planner<'_>, c: ScalarCall<'_>) -> PResult<Expr> {
    let ScalarCall {
        name, span, args: a, ..
    } = c;
    let n = name.name.as_str();
    let mut it = a.into_iter();
    let (v, size) = (it.next().expect("2"), it.next().expect("2"));
    let ok = match v.t {
        KqlType::Datetime | KqlType::Timespan => size.t == KqlType::Timespan,
        t if t.is_numeric() => size.t.is_numeric(),
        _ => false,
    };
    if !ok {
        return Err(err(
            span,
            format!(
                "{n}() rounds a number, datetime or timespan by a size of the same kind, not {} by {}",
                v.t, size.t
            ),
        ));
    }
    let v = if v.t == KqlType::Int {
        cast(v.e, DataType::Int64)
    } else {
        v.e
    };
    Ok(scalar_fn(n, ScalarOp::Bin, vec![v, size.e]))
}

/// `abs`, `ceiling`, `exp`, `log`, `log10`, `pow`, `round`, `sqrt`.
pub(crate) fn lower_math(p: &mut Planner<'_>, c: ScalarCall<'_>) -> PResult<Expr> {
    let ScalarCall {
        name, span, args: a, ..
    } = c;
    let n = name.name.as_str();
    p.math(n, a, span)
}

/// `max_of`, `min_of`.
pub(crate) fn lower_min_max_of(_p: &mut Planner<'_>, c: ScalarCall<'_>) -> PResult<Expr> {
    let ScalarCall {
        name, span, args: a, ..
    } = c;
    let n = name.name.as_str();
    if a.len() < 2 {
        return Err(err(span, format!("{n}() takes two or more values")));
    }
    let xs = a.into_iter().map(|x| x.e).collect();
    Ok(if n == "min_of" { f::least(xs) } else { f::greatest(xs) })
}

/// `binary_and`, `binary_or`, `binary_xor`, `binary_not`, `binary_shift_left`, `binary_shift_right`, `bitset_count_ones`.
pub(crate) fn lower_bitwise(_p: &mut Planner<'_>, c: ScalarCall<'_>) -> PResult<Expr> {
    let ScalarCall { name, args: a, .. } = c;
    let n = name.name.as_str();
    let (op, k) = match n {
        "binary_and" => (BitOp::And, 2),
        "binary_or" => (BitOp::Or, 2),
        "binary_xor" => (BitOp::Xor, 2),
        "binary_shift_left" => (BitOp::ShiftLeft, 2),
        "binary_shift_right" => (BitOp::ShiftRight, 2),
        "binary_not" => (BitOp::Not, 1),
        _ => (BitOp::CountOnes, 1),
    };
    Planner::arity(name, &a, k, k)?;
    let args = a
        .into_iter()
        .map(|x| Planner::long_arg(n, x))
        .collect::<PResult<Vec<_>>>()?;
    Ok(lib(n, LibOp::Bits(op), args))
}

/// `exp2`, `exp10`, `log2`, `sign`, `isfinite`, `isnan`, `isinf`.
pub(crate) fn lower_float_math(_p: &mut Planner<'_>, c: ScalarCall<'_>) -> PResult<Expr> {
    let ScalarCall {
        name, span, args: a, ..
    } = c;
    let n = name.name.as_str();
    let x = a.into_iter().next().expect("arity");
    if !x.t.is_numeric() {
        return Err(err(x.span, format!("{n}() takes a number, not {}", x.t)));
    }
    let real = cast(x.e, DataType::Float64);
    let inf = |r: Expr| r.clone().eq(lit(f64::INFINITY)).or(r.eq(lit(f64::NEG_INFINITY)));
    Ok(match n {
        "isnan" => f::isnan(real),
        "isinf" => inf(real),
        "isfinite" => f::isnan(real.clone()).not().and(inf(real).not()),
        "sign" => f::signum(real),
        "log2" => when(real.clone().lt(lit(0.0f64)), lit(ScalarValue::Float64(None)))
            .otherwise(f::log2(real))
            .map_err(|e| df_err(span, e))?,
        "exp2" => f::power(lit(2.0f64), real),
        _ => f::power(lit(10.0f64), real),
    })
}

/// `pi`.
pub(crate) fn lower_pi(_p: &mut Planner<'_>, _c: ScalarCall<'_>) -> PResult<Expr> {
    Ok(lit(std::f64::consts::PI))
}
