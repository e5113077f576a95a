//! Aggregations (`count`, `sum`, `make_set`, `percentile`, ...): each lowers to DataFusion aggregates
//! and Kusto's default result column name.

use crate::functions::aggregate::{Collect, CollectUdaf};
use crate::functions::percentile::PercentileUdaf;
use crate::plan::call::A;
use crate::plan::expr::constant_value;
use crate::plan::{PResult, Planner, df_err, err};
use crate::types::KqlType;
use datafusion::arrow::datatypes::DataType;
use datafusion::common::{DFSchemaRef, ScalarValue};
use datafusion::functions::expr_fn as f;
use datafusion::functions_aggregate::expr_fn as agg;
use datafusion::logical_expr::{AggregateUDF, Expr, cast, lit, when};
use datafusion::prelude::ident;
use kql::{Arg, Ident, Span};
use std::sync::Arc;

/// An aggregation call in `summarize` with what its lowering needs besides its arguments.
pub(crate) struct AggregateCall<'c> {
    /// The name as called.
    pub(crate) name: &'c Ident,
    /// The unlowered arguments.
    pub(crate) args: &'c [Arg],
    /// The place of the whole call.
    pub(crate) span: Span,
    /// The input schema.
    pub(crate) schema: &'c DFSchemaRef,
    /// The group-by columns.
    pub(crate) group_names: &'c [String],
    /// The first argument's implicit column name (`make_list(tostring(x))` is `list_x`).
    pub(crate) first_name: Option<String>,
    /// Over serialized rows, each row's position: the collecting aggregations take it too.
    pub(crate) ord_arg: Option<Expr>,
}

impl AggregateCall<'_> {
    /// Kusto's default column name: `prefix_` and the first argument's name.
    fn default(&self, prefix: &str) -> String {
        match &self.first_name {
            Some(c) => format!("{prefix}_{c}"),
            None => format!("{prefix}_"),
        }
    }

    /// A collecting aggregation of `x` (with the row position over serialized rows).
    fn udaf(&self, u: CollectUdaf, x: Expr) -> Expr {
        let mut call_args = vec![x];
        call_args.extend(self.ord_arg.clone());
        Arc::new(AggregateUDF::new_from_impl(u)).call(call_args)
    }

    /// The size limit given as argument `i` (default 1,048,576).
    fn max_of(&self, a: &[A], i: usize) -> PResult<usize> {
        match a.get(i).map(|x| constant_value(&x.e)) {
            None => Ok(1_048_576),
            Some(Some(ScalarValue::Int64(Some(m)))) if m > 0 => Ok(m as usize),
            _ => Err(err(self.span, "the size limit must be a positive constant")),
        }
    }
}

/// A condition argument (countif, sumif, ...): it must be bool.
fn cond(a: &A) -> PResult<Expr> {
    if a.t != KqlType::Bool {
        return Err(err(a.span, "the condition must be bool"));
    }
    Ok(a.e.clone())
}

/// `x` where `c` holds, else null.
fn only_if(c: Expr, x: Expr) -> datafusion::error::Result<Expr> {
    when(c, x).end()
}

/// Kusto's default value over no (non-null) input: 0 for sums, variances and standard
/// deviations (summarize operator page, "Default values of aggregations").
fn zero_default(e: Expr, t: KqlType) -> Expr {
    let zero = match t {
        KqlType::Timespan => crate::value::timespan_scalar(Some(0)),
        KqlType::Real | KqlType::Decimal => ScalarValue::Float64(Some(0.0)),
        _ => ScalarValue::Int64(Some(0)),
    };
    f::coalesce(vec![e, lit(zero)])
}

/// avg over no (non-null) values divides 0 by 0: NaN (summarize operator page, default
/// values example; its table says null, the example wins).
fn nan_default(e: Expr) -> Expr {
    f::coalesce(vec![e, lit(f64::NAN)])
}

/// `count()` / `count(x)` (every row), or `count(predicate)` (the rows where it holds).
pub(crate) fn lower_count(p: &mut Planner<'_>, cx: &AggregateCall<'_>, a: Vec<A>) -> PResult<Vec<(Expr, String)>> {
    if a.len() == 1 && a[0].t == KqlType::Bool {
        lower_count_predicate(p, cx, a)
    } else {
        lower_count_rows(p, cx, a)
    }
}

/// `arg_max` / `arg_min` (`argmax` / `argmin` are the obsolete spellings).
pub(crate) fn lower_arg_max(p: &mut Planner<'_>, cx: &AggregateCall<'_>) -> PResult<Vec<(Expr, String)>> {
    let max = matches!(cx.name.name.as_str(), "arg_max" | "argmax");
    p.arg_max(max, cx.args, cx.schema, cx.group_names, cx.span)
}

/// `take_any(*)`: one value of every column but the group keys; else `take_any(x, ...)`.
pub(crate) fn lower_any(p: &mut Planner<'_>, cx: &AggregateCall<'_>) -> PResult<Vec<(Expr, String)>> {
    if cx.args.iter().any(|a| matches!(a.expr(), kql::Expr::Star(_))) {
        let cols: Vec<String> = cx
            .schema
            .fields()
            .iter()
            .map(|f| f.name().clone())
            .filter(|c| !cx.group_names.contains(c))
            .collect();
        let order = p.serial_order_by();
        return Ok(cols
            .into_iter()
            .filter(|c| p.serial_ord.as_ref() != Some(c))
            .map(|c| (agg::first_value(ident(&c), order.clone()), c))
            .collect());
    }
    let a = p.lower_args(cx.args, cx.schema)?;
    lower_any_values(p, cx, a)
}

/// `count(predicate)`.
fn lower_count_predicate(_p: &mut Planner<'_>, cx: &AggregateCall<'_>, a: Vec<A>) -> PResult<Vec<(Expr, String)>> {
    let span = &cx.span;
    // count(predicate) counts the rows where it holds, like countif.
    let c = cond(&a[0])?;
    Ok(vec![(
        agg::count(only_if(c, lit(1i64)).map_err(|x| df_err(*span, x))?),
        "count_".to_string(),
    )])
}

/// `count()` / `count(x)`.
fn lower_count_rows(_p: &mut Planner<'_>, cx: &AggregateCall<'_>, a: Vec<A>) -> PResult<Vec<(Expr, String)>> {
    let span = &cx.span;
    // count(x) counts every row, nulls included (summarize operator page: "The
    // standard count function includes null values in its count").
    if a.len() > 1 {
        return Err(err(
            *span,
            "count() takes no arguments or one (use countif(predicate) or dcount(column))",
        ));
    }
    let name = if a.is_empty() {
        "count_".to_string()
    } else {
        cx.default("count")
    };
    Ok(vec![(agg::count(lit(1i64)), name)])
}

/// `countif`.
pub(crate) fn lower_countif(_p: &mut Planner<'_>, cx: &AggregateCall<'_>, a: Vec<A>) -> PResult<Vec<(Expr, String)>> {
    let span = &cx.span;
    let c = cond(&a[0])?;
    Ok(vec![(
        agg::count(only_if(c, lit(1i64)).map_err(|x| df_err(*span, x))?),
        "countif_".to_string(),
    )])
}

/// `dcount`.
pub(crate) fn lower_dcount(_p: &mut Planner<'_>, cx: &AggregateCall<'_>, a: Vec<A>) -> PResult<Vec<(Expr, String)>> {
    Ok(vec![(agg::count_distinct(a[0].e.clone()), cx.default("dcount"))])
}

/// `dcountif`.
pub(crate) fn lower_dcountif(_p: &mut Planner<'_>, cx: &AggregateCall<'_>, a: Vec<A>) -> PResult<Vec<(Expr, String)>> {
    let span = &cx.span;
    let c = cond(&a[1])?;
    Ok(vec![(
        agg::count_distinct(only_if(c, a[0].e.clone()).map_err(|x| df_err(*span, x))?),
        cx.default("dcountif"),
    )])
}

/// `avg`, `max`, `min`, `stdev`, `sum`, `variance`.
pub(crate) fn lower_simple_aggregate(
    _p: &mut Planner<'_>,
    cx: &AggregateCall<'_>,
    a: Vec<A>,
) -> PResult<Vec<(Expr, String)>> {
    let name = cx.name;
    let n = name.name.as_str();
    let x = a[0].e.clone();
    if matches!(n, "sum" | "avg" | "stdev" | "variance")
        && !(a[0].t.is_numeric() || (n == "sum" && a[0].t == KqlType::Timespan))
    {
        return Err(err(a[0].span, format!("{n}() takes numbers, not {}", a[0].t)));
    }
    let e = match n {
        "sum" => zero_default(agg::sum(x), a[0].t),
        "avg" => nan_default(agg::avg(x)),
        "min" => agg::min(x),
        "max" => agg::max(x),
        "stdev" => zero_default(agg::stddev(x), KqlType::Real),
        _ => zero_default(agg::var_sample(x), KqlType::Real),
    };
    Ok(vec![(e, cx.default(n))])
}

/// `avgif`, `maxif`, `minif`, `sumif`.
pub(crate) fn lower_conditional_aggregate(
    _p: &mut Planner<'_>,
    cx: &AggregateCall<'_>,
    a: Vec<A>,
) -> PResult<Vec<(Expr, String)>> {
    let name = cx.name;
    let n = name.name.as_str();
    let span = &cx.span;
    let c = cond(&a[1])?;
    let x = only_if(c, a[0].e.clone()).map_err(|x| df_err(*span, x))?;
    let e = match n {
        "sumif" => zero_default(agg::sum(x), a[0].t),
        "avgif" => nan_default(agg::avg(x)),
        "minif" => agg::min(x),
        _ => agg::max(x),
    };
    Ok(vec![(e, cx.default(n))])
}

/// `make_list`, `make_set`, `makelist`, `makeset`.
pub(crate) fn lower_make_collection(
    _p: &mut Planner<'_>,
    cx: &AggregateCall<'_>,
    a: Vec<A>,
) -> PResult<Vec<(Expr, String)>> {
    let name = cx.name;
    let n = name.name.as_str();
    let set = n.contains("set");
    let m = cx.max_of(&a, 1)?;
    let u = CollectUdaf::new(n, if set { Collect::Set } else { Collect::List }, m);
    Ok(vec![(
        cx.udaf(u, a[0].e.clone()),
        cx.default(if set { "set" } else { "list" }),
    )])
}

/// `make_list_if`, `make_set_if`.
pub(crate) fn lower_make_collection_if(
    _p: &mut Planner<'_>,
    cx: &AggregateCall<'_>,
    a: Vec<A>,
) -> PResult<Vec<(Expr, String)>> {
    let name = cx.name;
    let n = name.name.as_str();
    let span = &cx.span;
    let set = n.contains("set");
    let c = cond(&a[1])?;
    let m = cx.max_of(&a, 2)?;
    let u = CollectUdaf::new(n, if set { Collect::Set } else { Collect::List }, m);
    Ok(vec![(
        cx.udaf(u, only_if(c, a[0].e.clone()).map_err(|x| df_err(*span, x))?),
        cx.default(if set { "set" } else { "list" }),
    )])
}

/// `make_bag`.
pub(crate) fn lower_make_bag(_p: &mut Planner<'_>, cx: &AggregateCall<'_>, a: Vec<A>) -> PResult<Vec<(Expr, String)>> {
    let name = cx.name;
    let n = name.name.as_str();
    if a[0].t != KqlType::Dynamic {
        return Err(err(a[0].span, "make_bag() takes dynamic property bags"));
    }
    Ok(vec![(
        cx.udaf(CollectUdaf::new(n, Collect::Bag, cx.max_of(&a, 1)?), a[0].e.clone()),
        cx.default("bag"),
    )])
}

/// `take_any(x, ...)` / `any(x, ...)` over named values.
fn lower_any_values(p: &mut Planner<'_>, cx: &AggregateCall<'_>, a: Vec<A>) -> PResult<Vec<(Expr, String)>> {
    let name = cx.name;
    let n = name.name.as_str();
    let span = &cx.span;
    let args = cx.args;
    Planner::arity(name, &a, 1, usize::MAX)?;
    let order = p.serial_order_by();
    // take_any(x) is named x, the deprecated any(x) any_x (take_any page).
    let name_of = |x: &kql::Expr| match (n, crate::plan::ops::implicit_name(x)) {
        ("take_any", Some(c)) => c,
        (_, Some(c)) => format!("any_{c}"),
        (_, None) => "any_".to_string(),
    };
    Ok(vec![if a.len() == 1 {
        // One column: a non-null, non-empty value when the group has one (take_any
        // page, remarks).
        let x = a[0].e.clone();
        let present = if a[0].t == KqlType::String {
            x.clone().is_not_null().and(x.clone().not_eq(lit("")))
        } else {
            x.clone().is_not_null()
        };
        // (The builder sets ORDER BY and FILTER together: built alone, FILTER drops
        // the ordering.)
        let mut b = datafusion::logical_expr::ExprFunctionExt::filter(agg::first_value(x, vec![]), present);
        if !order.is_empty() {
            b = datafusion::logical_expr::ExprFunctionExt::order_by(b, order);
        }
        let e = b.build().map_err(|e| df_err(*span, e))?;
        (e, name_of(args[0].expr()))
    } else {
        // Several expressions: all from one record.
        return Ok(a
            .iter()
            .zip(args)
            .map(|(x, arg)| (agg::first_value(x.e.clone(), order.clone()), name_of(arg.expr())))
            .collect());
    }])
}

/// `stdevp`, `variancep`.
pub(crate) fn lower_population_spread(
    _p: &mut Planner<'_>,
    cx: &AggregateCall<'_>,
    a: Vec<A>,
) -> PResult<Vec<(Expr, String)>> {
    let name = cx.name;
    let n = name.name.as_str();
    if !a[0].t.is_numeric() {
        return Err(err(a[0].span, format!("{n}() takes numbers, not {}", a[0].t)));
    }
    let x = a[0].e.clone();
    let e = zero_default(
        if n == "stdevp" {
            agg::stddev_pop(x)
        } else {
            agg::var_pop(x)
        },
        KqlType::Real,
    );
    Ok(vec![(e, cx.default(n))])
}

/// `count_distinct`.
pub(crate) fn lower_count_distinct(
    _p: &mut Planner<'_>,
    cx: &AggregateCall<'_>,
    a: Vec<A>,
) -> PResult<Vec<(Expr, String)>> {
    let name = cx.name;
    let n = name.name.as_str();
    Ok(vec![(agg::count_distinct(a[0].e.clone()), cx.default(n))])
}

/// `make_list_with_nulls`, `make_set_with_nulls`.
pub(crate) fn lower_make_collection_with_nulls(
    _p: &mut Planner<'_>,
    cx: &AggregateCall<'_>,
    a: Vec<A>,
) -> PResult<Vec<(Expr, String)>> {
    let name = cx.name;
    let n = name.name.as_str();
    let set = n.contains("set");
    let m = cx.max_of(&a, 1)?;
    let kind = if set {
        Collect::SetWithNulls
    } else {
        Collect::ListWithNulls
    };
    Ok(vec![(
        cx.udaf(CollectUdaf::new(n, kind, m), a[0].e.clone()),
        cx.default(if set { "set" } else { "list" }),
    )])
}

/// `percentile`, `percentiles`.
pub(crate) fn lower_percentile(
    _p: &mut Planner<'_>,
    cx: &AggregateCall<'_>,
    a: Vec<A>,
) -> PResult<Vec<(Expr, String)>> {
    let name = cx.name;
    let n = name.name.as_str();
    if n == "percentile" {
        Planner::arity(name, &a, 2, 2)?;
    } else {
        Planner::arity(name, &a, 2, usize::MAX)?;
    }
    let x = &a[0];
    let real = match x.t {
        KqlType::Real => true,
        KqlType::Int | KqlType::Long | KqlType::Datetime | KqlType::Timespan => false,
        t => {
            return Err(err(
                x.span,
                format!("{n}() takes numbers, datetimes or timespans, not {t}"),
            ));
        }
    };
    let arrow = x.t.arrow().expect("the types above have an Arrow type");
    let input = cast(x.e.clone(), if real { DataType::Float64 } else { DataType::Int64 });
    let mut out = Vec::new();
    for p in &a[1..] {
        let pv = match constant_value(&p.e) {
            Some(ScalarValue::Int64(Some(v))) => v as f64,
            Some(ScalarValue::Int32(Some(v))) => f64::from(v),
            Some(ScalarValue::Float64(Some(v))) => v,
            _ => return Err(err(p.span, format!("{n}()'s percentile must be a constant number"))),
        };
        if !(0.0..=100.0).contains(&pv) {
            return Err(err(p.span, "a percentile must be between 0 and 100"));
        }
        let label = crate::functions::scalar::format_real(pv).replace(['.', '-'], "_");
        // One UDAF name per percentile, so `percentiles(x, 5, 50)` has distinct aggregates.
        let udaf_name = format!("percentile_{label}");
        let u = Arc::new(AggregateUDF::new_from_impl(PercentileUdaf::new(&udaf_name, pv, real)));
        out.push((
            cast(u.call(vec![input.clone()]), arrow.clone()),
            format!("{}_{label}", cx.default("percentile")),
        ));
    }
    Ok(out)
}
