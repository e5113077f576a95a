//! Dynamic (array and property bag) functions: `pack`, `bag_keys`, `array_length`, `array_slice`,
//! set operations, `range`, `extractjson`, ...

use super::{ScalarCall, one};
use crate::functions::arrays::SetOp;
use crate::functions::dynamic::JsonOp;
use crate::functions::library::LibOp;
use crate::plan::call::{json_path, lib};
use crate::plan::expr::json;
use crate::plan::{PResult, Planner, err};
use crate::types::KqlType;
use datafusion::arrow::datatypes::DataType;
use datafusion::logical_expr::{Expr, cast, lit};

/// `extractjson`.
pub(crate) fn lower_extractjson(p: &mut Planner<'_>, c: ScalarCall<'_>) -> PResult<Expr> {
    let ScalarCall {
        result_type, args: a, ..
    } = c;
    let path_text = Planner::const_text(&a[0], "the JSON path")?;
    let path = json_path(&path_text).ok_or_else(|| {
        err(
            a[0].span,
            format!("unsupported JSON path `{path_text}` (use $.a.b, $['a'], $.a[0])"),
        )
    })?;
    let mut it = a.into_iter().skip(1);
    let doc = it.next().expect("arity");
    let doc = match doc.t {
        KqlType::Dynamic => doc.e,
        _ => json("parse_json", JsonOp::Parse, vec![p.text(doc)]),
    };
    let value = json("get", JsonOp::Get(path), vec![doc]);
    Ok(match result_type.unwrap_or(KqlType::String) {
        KqlType::Dynamic => value,
        t => p.coerce(value, KqlType::Dynamic, t),
    })
}

/// `arraylength`.
pub(crate) fn lower_arraylength(_p: &mut Planner<'_>, c: ScalarCall<'_>) -> PResult<Expr> {
    let ScalarCall { name, args: a, .. } = c;
    let n = name.name.as_str();
    Ok(json(n, JsonOp::ArrayLength, vec![one(a)]))
}

/// `pack_dictionary`.
pub(crate) fn lower_pack_dictionary(_p: &mut Planner<'_>, c: ScalarCall<'_>) -> PResult<Expr> {
    let ScalarCall { name, args: a, .. } = c;
    let n = name.name.as_str();
    Ok(json(n, JsonOp::BagPack, a.into_iter().map(|x| x.e).collect()))
}

/// `array_length`.
pub(crate) fn lower_array_length(_p: &mut Planner<'_>, c: ScalarCall<'_>) -> PResult<Expr> {
    let ScalarCall { name, args: a, .. } = c;
    let n = name.name.as_str();
    Ok(json(n, JsonOp::ArrayLength, vec![one(a)]))
}

/// `pack_array`.
pub(crate) fn lower_pack_array(_p: &mut Planner<'_>, c: ScalarCall<'_>) -> PResult<Expr> {
    let ScalarCall { name, args: a, .. } = c;
    let n = name.name.as_str();
    Ok(json(n, JsonOp::PackArray, a.into_iter().map(|x| x.e).collect()))
}

/// `bag_pack`, `pack`.
pub(crate) fn lower_bag_pack(_p: &mut Planner<'_>, c: ScalarCall<'_>) -> PResult<Expr> {
    let ScalarCall { name, args: a, .. } = c;
    let n = name.name.as_str();
    Ok(json(n, JsonOp::BagPack, a.into_iter().map(|x| x.e).collect()))
}

/// `set_has_element`.
pub(crate) fn lower_set_has_element(_p: &mut Planner<'_>, c: ScalarCall<'_>) -> PResult<Expr> {
    let ScalarCall { name, args: a, .. } = c;
    let n = name.name.as_str();
    Ok(json(n, JsonOp::SetHasElement, a.into_iter().map(|x| x.e).collect()))
}

/// `array_concat`, `bag_merge`, `zip`, `set_union`, `set_intersect`, `set_difference`.
pub(crate) fn lower_array_set_op(_p: &mut Planner<'_>, c: ScalarCall<'_>) -> PResult<Expr> {
    let ScalarCall { name, args: a, .. } = c;
    let n = name.name.as_str();
    let (min, max) = match n {
        "array_concat" => (1, usize::MAX),
        "bag_merge" => (2, 64),
        "zip" => (2, 16),
        _ => (2, usize::MAX),
    };
    Planner::arity(name, &a, min, max)?;
    let op = match n {
        "array_concat" => LibOp::ArrayConcat,
        "bag_merge" => LibOp::BagMerge,
        "set_union" => LibOp::Set(SetOp::Union),
        "set_intersect" => LibOp::Set(SetOp::Intersect),
        "set_difference" => LibOp::Set(SetOp::Difference),
        _ => LibOp::Zip,
    };
    let args = a
        .into_iter()
        .map(|x| Planner::dynamic_arg(n, x))
        .collect::<PResult<_>>()?;
    Ok(lib(n, op, args))
}

/// `array_slice`.
pub(crate) fn lower_array_slice(_p: &mut Planner<'_>, c: ScalarCall<'_>) -> PResult<Expr> {
    let ScalarCall { name, args: a, .. } = c;
    let n = name.name.as_str();
    let mut it = a.into_iter();
    let arr = Planner::dynamic_arg(n, it.next().expect("arity"))?;
    let s = Planner::long_arg(n, it.next().expect("arity"))?;
    let e = Planner::long_arg(n, it.next().expect("arity"))?;
    Ok(lib(n, LibOp::ArraySlice, vec![arr, s, e]))
}

/// `array_index_of`.
pub(crate) fn lower_array_index_of(_p: &mut Planner<'_>, c: ScalarCall<'_>) -> PResult<Expr> {
    let ScalarCall { name, args: a, .. } = c;
    let n = name.name.as_str();
    let mut it = a.into_iter();
    let arr = Planner::dynamic_arg(n, it.next().expect("arity"))?;
    let value = it.next().expect("arity").e;
    let mut args = vec![arr, value];
    for x in it {
        args.push(Planner::long_arg(n, x)?);
    }
    for default in [0i64, -1, 1].into_iter().skip(args.len() - 2) {
        args.push(lit(default));
    }
    Ok(lib(n, LibOp::ArrayIndexOf, args))
}

/// `bag_keys`.
pub(crate) fn lower_bag_keys(_p: &mut Planner<'_>, c: ScalarCall<'_>) -> PResult<Expr> {
    let ScalarCall { name, args: a, .. } = c;
    let n = name.name.as_str();
    let x = Planner::dynamic_arg(n, a.into_iter().next().expect("arity"))?;
    Ok(lib(n, LibOp::BagKeys, vec![x]))
}

/// `bag_remove_keys`.
pub(crate) fn lower_bag_remove_keys(_p: &mut Planner<'_>, c: ScalarCall<'_>) -> PResult<Expr> {
    let ScalarCall { name, args: a, .. } = c;
    let n = name.name.as_str();
    let args = a
        .into_iter()
        .map(|x| Planner::dynamic_arg(n, x))
        .collect::<PResult<_>>()?;
    Ok(lib(n, LibOp::BagRemoveKeys, args))
}

/// `array_sort_asc`, `array_sort_desc`.
pub(crate) fn lower_array_sort(_p: &mut Planner<'_>, c: ScalarCall<'_>) -> PResult<Expr> {
    let ScalarCall { name, args: a, .. } = c;
    let n = name.name.as_str();
    if a.is_empty() {
        return Err(err(name.span, format!("{n}() takes an array to sort")));
    }
    if a.len() > 2 || a.get(1).is_some_and(|x| x.t != KqlType::Bool) {
        return Err(err(
            name.span,
            format!(
                "{n}() with several arrays (one result column per array) is not supported yet; sort one array, with an optional nulls_last flag"
            ),
        ));
    }
    let mut it = a.into_iter();
    let arr = Planner::dynamic_arg(n, it.next().expect("checked"))?;
    let nulls_last = it.next().map_or_else(|| lit(true), |x| x.e);
    Ok(lib(n, LibOp::ArraySort(n == "array_sort_asc"), vec![arr, nulls_last]))
}

/// `range`.
pub(crate) fn lower_range(_p: &mut Planner<'_>, c: ScalarCall<'_>) -> PResult<Expr> {
    let ScalarCall { name, args: a, .. } = c;
    let n = name.name.as_str();
    let t0 = a[0].t;
    let (op, default_step) = match t0 {
        KqlType::Datetime => (LibOp::RangeDatetime, Planner::timespan_lit(36_000_000_000)),
        KqlType::Timespan => (LibOp::RangeTimespan, Planner::timespan_lit(36_000_000_000)),
        t if t.is_numeric() => {
            if a.iter().any(|x| x.t == KqlType::Real) {
                (LibOp::RangeReal, lit(1.0f64))
            } else {
                (LibOp::RangeLong, lit(1i64))
            }
        }
        other => {
            return Err(err(
                a[0].span,
                format!("range() takes numbers, datetimes or timespans, not {other}"),
            ));
        }
    };
    let step_ok = |t: KqlType| match op {
        LibOp::RangeDatetime | LibOp::RangeTimespan => t == KqlType::Timespan,
        _ => t.is_numeric(),
    };
    if a[1].t != t0 && !(t0.is_numeric() && a[1].t.is_numeric()) {
        return Err(err(a[1].span, format!("range()'s stop must be a {t0} like its start")));
    }
    if let Some(s) = a.get(2).filter(|s| !step_ok(s.t)) {
        return Err(err(s.span, format!("range()'s step cannot be a {}", s.t)));
    }
    let mut args: Vec<Expr> = a.into_iter().map(|x| x.e).collect();
    if args.len() == 2 {
        args.push(default_step);
    }
    if op == LibOp::RangeReal {
        args = args.into_iter().map(|e| cast(e, DataType::Float64)).collect();
    } else if op == LibOp::RangeLong {
        args = args.into_iter().map(|e| cast(e, DataType::Int64)).collect();
    }
    Ok(lib(n, op, args))
}
