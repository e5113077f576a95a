//! IP address functions: IPv4 ranges, prefixes and matches; geolocation (unavailable offline).

use super::{ScalarCall, one};
use crate::functions::library::LibOp;
use crate::functions::scalar::ScalarOp;
use crate::plan::call::{lib, scalar_fn};
use crate::plan::expr::constant_value;
use crate::plan::{PResult, Planner, err};
use crate::types::KqlType;
use datafusion::common::ScalarValue;
use datafusion::logical_expr::Expr;

/// `geo_info_from_ip_address`.
pub(crate) fn lower_geo_info_from_ip_address(_p: &mut Planner<'_>, c: ScalarCall<'_>) -> PResult<Expr> {
    let ScalarCall { name, args: a, .. } = c;
    let n = name.name.as_str();
    Ok(scalar_fn(
        n,
        ScalarOp::Unavailable("needs Microsoft's IP geolocation data, which is not available offline".into()),
        vec![one(a)],
    ))
}

/// `has_any_ipv4_prefix`, `has_ipv4_prefix`.
pub(crate) fn lower_ipv4_prefix(p: &mut Planner<'_>, c: ScalarCall<'_>) -> PResult<Expr> {
    let ScalarCall { name, args: a, .. } = c;
    let n = name.name.as_str();
    Planner::arity(name, &a, 2, if n == "has_ipv4_prefix" { 2 } else { usize::MAX })?;
    let mut it = a.into_iter();
    let x = p.text(it.next().expect("arity checked"));
    let mut prefixes = Vec::new();
    for p in it {
        match constant_value(&p.e) {
            Some(ScalarValue::Utf8(Some(t))) => prefixes.push(t),
            Some(ScalarValue::LargeUtf8(Some(t))) if p.t == KqlType::Dynamic => {
                let Ok(serde_json::Value::Array(items)) = serde_json::from_str::<serde_json::Value>(&t) else {
                    return Err(err(p.span, format!("{n}() takes an array of strings here")));
                };
                prefixes.extend(items.iter().filter_map(|v| v.as_str().map(str::to_string)));
            }
            _ => return Err(err(p.span, format!("{n}() takes constant prefixes"))),
        }
    }
    // Invalid prefixes never match.
    prefixes.retain(|p| crate::functions::net::valid_ipv4_prefix(p));
    Ok(lib(n, LibOp::HasIpv4Prefix(prefixes), vec![x]))
}

/// `ipv4_is_in_range`, `ipv4_is_match`.
pub(crate) fn lower_ipv4_range_match(p: &mut Planner<'_>, c: ScalarCall<'_>) -> PResult<Expr> {
    let ScalarCall { name, args: a, .. } = c;
    let n = name.name.as_str();
    if n == "ipv4_is_in_range" {
        Planner::arity(name, &a, 2, 2)?;
    } else {
        Planner::arity(name, &a, 2, 3)?;
    }
    let mut it = a.into_iter();
    let mut args = vec![p.text(it.next().expect("arity")), p.text(it.next().expect("arity"))];
    if let Some(p) = it.next() {
        args.push(Planner::long_arg(n, p)?);
    }
    let op = if n == "ipv4_is_in_range" {
        LibOp::Ipv4IsInRange
    } else {
        LibOp::Ipv4IsMatch
    };
    Ok(lib(n, op, args))
}
