//! `make-series agg [default=v] on Axis from a to b step s [by keys]`: rows with `a <= Axis < b`
//! are aggregated per group and per bin `bin_at(Axis, s, a)`; each group gives one row with
//! one dynamic array per aggregate (the default where a bin has no rows) and the axis array.

use super::expr::{constant_value, udf};
use super::ops::{build, implicit_name, names_of, project};
use super::{PResult, Planner, df_err, err};
use crate::functions::dynamic::json_at;
use crate::types::KqlType;
use datafusion::arrow::array::{Array, ArrayRef, AsArray, LargeStringBuilder};
use datafusion::arrow::datatypes::{DataType, Int64Type};
use datafusion::common::ScalarValue;
use datafusion::error::{DataFusionError, Result};
use datafusion::logical_expr::{
    ColumnarValue, Expr, ExprFunctionExt, LogicalPlan, LogicalPlanBuilder, ScalarFunctionArgs, ScalarUDFImpl,
    Signature, SortExpr, Volatility, binary_expr, cast, lit,
};
use datafusion::prelude::ident;
use kql::Span;
use serde_json::Value;

/// The most bins a series may have (Kusto's limit).
const MAX_BINS: i64 = 1 << 20;

/// Builds the dense series array from the (bin, value) lists of one group.
#[derive(Debug, PartialEq, Eq, Hash)]
struct SeriesFill {
    bins: usize,
    default: String,
    signature: Signature,
}

impl ScalarUDFImpl for SeriesFill {
    fn name(&self) -> &str {
        "make_series_fill"
    }
    fn signature(&self) -> &Signature {
        &self.signature
    }
    fn return_type(&self, _: &[DataType]) -> Result<DataType> {
        Ok(DataType::LargeUtf8)
    }
    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        let n = args.number_rows;
        let arrays = ColumnarValue::values_to_arrays(&args.args)?;
        let [idx, vals] = arrays.as_slice() else {
            return Err(DataFusionError::Execution("make_series_fill takes two lists".into()));
        };
        let default: Value = serde_json::from_str(&self.default).unwrap_or(Value::Null);
        let idx = idx.as_list::<i32>();
        let vals = vals.as_list::<i32>();
        let mut out = LargeStringBuilder::new();
        for row in 0..n {
            let mut series = vec![default.clone(); self.bins];
            if !idx.is_null(row) && !vals.is_null(row) {
                let is = idx.value(row);
                let is = is.as_primitive::<Int64Type>();
                let vs: ArrayRef = vals.value(row);
                for k in 0..is.len().min(vs.len()) {
                    if is.is_null(k) {
                        continue;
                    }
                    let b = is.value(k);
                    if b >= 0 && (b as usize) < self.bins {
                        series[b as usize] = json_at(&vs, k);
                    }
                }
            }
            out.append_value(Value::Array(series).to_string());
        }
        Ok(ColumnarValue::Array(std::sync::Arc::new(out.finish())))
    }
}

/// The value of an expression of constants only (`startofday(ago(7d))`), folded as DataFusion's
/// optimizer would.
fn folded(e: &Expr) -> Option<ScalarValue> {
    use datafusion::optimizer::simplify_expressions::ExprSimplifier;
    let simplifier = ExprSimplifier::new(datafusion::logical_expr::simplify::SimplifyContext::default());
    simplifier.simplify(e.clone()).ok().as_ref().and_then(constant_value)
}

impl Planner<'_> {
    #[allow(clippy::too_many_arguments)]
    pub(super) fn make_series(
        &mut self,
        plan: LogicalPlan,
        params: &[kql::OpParam],
        aggregates: &[kql::SeriesAgg],
        on: &kql::Expr,
        range: &kql::SeriesRange,
        by: &[kql::NamedExpr],
        span: Span,
    ) -> PResult<LogicalPlan> {
        // kind=nonempty: an empty input gives one series of default values (make-series page).
        let mut nonempty = false;
        for p in params.iter().filter(|p| !p.name.name.starts_with("hint.")) {
            match (p.name.name.as_str(), &p.value) {
                ("kind", kql::Expr::Name(v)) if v.name == "nonempty" => nonempty = true,
                _ => {
                    return Err(err(
                        p.name.span,
                        format!("make-series parameter `{}` is not supported yet", p.name.name),
                    ));
                }
            }
        }
        // `in range(start, stop, step)`: bins from bin(start) up to and including bin(stop).
        let (from, to, step, aligned) = match range {
            kql::SeriesRange::FromTo {
                from: Some(f),
                to: Some(t),
                step,
            } => (f, t, step, false),
            kql::SeriesRange::In { start, stop, step } => (start, stop, step, true),
            kql::SeriesRange::FromTo { .. } => {
                return Err(err(
                    span,
                    "make-series without both `from` and `to` is not supported yet",
                ));
            }
        };
        let schema = plan.schema().clone();
        let axis = self.scalar(on, &schema)?;
        let axis_t = self.type_of(&axis, &schema, on.span())?;
        let axis_name = implicit_name(on).ok_or_else(|| err(on.span(), "make-series takes a column as its axis"))?;
        let (f, t, s) = (self.constant(from)?, self.constant(to)?, self.constant(step)?);
        let value = |e: &Expr, x: &kql::Expr| {
            constant_value(e)
                .or_else(|| folded(e))
                .ok_or_else(|| err(x.span(), "expected a constant"))
        };
        let (mut fv, mut tv, sv) = (value(&f, from)?, value(&t, to)?, value(&s, step)?);
        let (mut f, mut t) = (f, t);
        if aligned {
            let floor = |x: i64, st: i64| x.div_euclid(st).saturating_mul(st);
            match (&mut fv, &mut tv, &sv) {
                (
                    ScalarValue::TimestampNanosecond(Some(a), _),
                    ScalarValue::TimestampNanosecond(Some(b), _),
                    ScalarValue::DurationNanosecond(Some(st)),
                )
                | (
                    ScalarValue::DurationNanosecond(Some(a)),
                    ScalarValue::DurationNanosecond(Some(b)),
                    ScalarValue::DurationNanosecond(Some(st)),
                )
                | (ScalarValue::Int64(Some(a)), ScalarValue::Int64(Some(b)), ScalarValue::Int64(Some(st)))
                    if *st > 0 =>
                {
                    *a = floor(*a, *st);
                    *b = floor(*b, *st).saturating_add(*st);
                }
                _ => {
                    return Err(err(
                        span,
                        "make-series `in range(start, stop, step)` takes constant bounds and a positive step",
                    ));
                }
            }
            f = lit(fv.clone());
            t = lit(tv.clone());
        }
        // The bin of each row and the axis values, by the axis type.
        let (bin, bins, axis_values): (Expr, i64, Vec<ScalarValue>) = match (axis_t, &fv, &tv, &sv) {
            (
                KqlType::Datetime,
                ScalarValue::TimestampNanosecond(Some(a), _),
                ScalarValue::TimestampNanosecond(Some(b), _),
                ScalarValue::DurationNanosecond(Some(st)),
            ) if *st > 0 => {
                let n = if b > a { (b - a + st - 1) / st } else { 0 };
                if n > MAX_BINS {
                    return Err(err(span, "make-series would make more than 1,048,576 bins"));
                }
                let diff = cast(
                    binary_expr(axis.clone(), datafusion::logical_expr::Operator::Minus, f.clone()),
                    DataType::Int64,
                );
                let bin = binary_expr(diff, datafusion::logical_expr::Operator::Divide, lit(*st));
                let vals = (0..n)
                    .map(|i| crate::value::datetime_scalar(Some(a + i * st)))
                    .collect();
                (bin, n, vals)
            }
            (
                KqlType::Timespan,
                ScalarValue::DurationNanosecond(Some(a)),
                ScalarValue::DurationNanosecond(Some(b)),
                ScalarValue::DurationNanosecond(Some(st)),
            ) if *st > 0 => {
                let n = if b > a { (b - a + st - 1) / st } else { 0 };
                if n > MAX_BINS {
                    return Err(err(span, "make-series would make more than 1,048,576 bins"));
                }
                let diff = cast(
                    binary_expr(axis.clone(), datafusion::logical_expr::Operator::Minus, f.clone()),
                    DataType::Int64,
                );
                let bin = binary_expr(diff, datafusion::logical_expr::Operator::Divide, lit(*st));
                let vals = (0..n)
                    .map(|i| ScalarValue::DurationNanosecond(Some(a + i * st)))
                    .collect();
                (bin, n, vals)
            }
            (
                KqlType::Long | KqlType::Int,
                ScalarValue::Int64(Some(a)),
                ScalarValue::Int64(Some(b)),
                ScalarValue::Int64(Some(st)),
            ) if *st > 0 => {
                let n = if b > a { (b - a + st - 1) / st } else { 0 };
                if n > MAX_BINS {
                    return Err(err(span, "make-series would make more than 1,048,576 bins"));
                }
                let diff = binary_expr(
                    cast(axis.clone(), DataType::Int64),
                    datafusion::logical_expr::Operator::Minus,
                    lit(*a),
                );
                let bin = binary_expr(diff, datafusion::logical_expr::Operator::Divide, lit(*st));
                let vals = (0..n).map(|i| ScalarValue::Int64(Some(a + i * st))).collect();
                (bin, n, vals)
            }
            _ => {
                return Err(err(
                    span,
                    format!(
                        "make-series on a {axis_t} axis takes constant `from`, `to` and a positive `step` of the matching types (datetime/timespan, or long)"
                    ),
                ));
            }
        };
        // Rows in [from, to), with their bin.
        let lower = if axis_t.is_numeric() {
            cast(axis.clone(), DataType::Int64)
        } else {
            axis.clone()
        };
        let (lo, hi) = if axis_t.is_numeric() {
            (lit(fv.clone()), lit(tv.clone()))
        } else {
            (f.clone(), t.clone())
        };
        let filtered = build(
            LogicalPlanBuilder::from(plan).filter(lower.clone().gt_eq(lo).and(lower.lt(hi))),
            span,
        )?;
        let mut cols: Vec<Expr> = names_of(&filtered).iter().map(ident).collect();
        cols.push(bin.alias("__ms_bin"));
        let binned = project(filtered, cols, span)?;
        // Aggregate per group and bin.
        let named: Vec<kql::NamedExpr> = aggregates
            .iter()
            .map(|a| kql::NamedExpr {
                names: a.name.iter().cloned().collect(),
                expr: a.expr.clone(),
            })
            .collect();
        let mut keyed: Vec<kql::NamedExpr> = by.to_vec();
        keyed.push(kql::NamedExpr {
            names: vec![],
            expr: kql::Expr::Name(kql::Ident::new("__ms_bin", span)),
        });
        let per_bin = self.summarize(binned, &named, &keyed, span)?;
        let names = names_of(&per_bin);
        let nkeys = by.len();
        let key_names: Vec<String> = names[..nkeys].to_vec();
        let agg_names: Vec<String> = names[nkeys + 1..].to_vec();
        if agg_names.len() != aggregates.len() {
            return Err(err(span, "make-series takes one aggregation per column"));
        }
        if let Some(k) = agg_names.iter().chain(key_names.iter()).find(|n| **n == axis_name) {
            return Err(err(
                span,
                format!("make-series: column `{k}` has the axis column's name"),
            ));
        }
        // Collect each group's (bin, value) lists, ordered by bin.
        let order = vec![SortExpr::new(ident("__ms_bin"), true, false)];
        let mut lists = Vec::new();
        let agg = |e: Expr| {
            datafusion::functions_aggregate::expr_fn::array_agg(e)
                .order_by(order.clone())
                .build()
        };
        lists.push(agg(ident("__ms_bin")).map_err(|e| df_err(span, e))?.alias("__ms_bins"));
        for (i, n) in agg_names.iter().enumerate() {
            lists.push(agg(ident(n)).map_err(|e| df_err(span, e))?.alias(format!("__ms_v{i}")));
        }
        let grouped = build(
            LogicalPlanBuilder::from(per_bin).aggregate(key_names.iter().map(ident).collect::<Vec<_>>(), lists),
            span,
        )?;
        // Without `by` keys the aggregation gives a row on no input too: empty input gives no series
        // (unless kind=nonempty, when that row becomes a series of defaults).
        let grouped = if nonempty && key_names.is_empty() {
            grouped
        } else {
            build(
                LogicalPlanBuilder::from(grouped).filter(ident("__ms_bins").is_not_null()),
                span,
            )?
        };
        let gschema = grouped.schema().clone();
        let mut out: Vec<Expr> = key_names.iter().map(ident).collect();
        for (i, (n, a)) in agg_names.iter().zip(aggregates).enumerate() {
            let vt = gschema
                .field_with_unqualified_name(&format!("__ms_v{i}"))
                .map_err(|e| df_err(span, e))?
                .data_type()
                .clone();
            let DataType::List(item) = vt else {
                return Err(err(span, "make-series: unexpected aggregate type"));
            };
            let default = match &a.default {
                None => ScalarValue::Int64(Some(0)),
                Some(d) => {
                    let c = self.constant(d)?;
                    constant_value(&c).ok_or_else(|| err(d.span(), "the default must be a constant"))?
                }
            };
            let default = if default.is_null() {
                Value::Null
            } else {
                let target = item.data_type();
                let converted = match (&default, target) {
                    (_, DataType::LargeUtf8) => default.clone(),
                    _ => default.cast_to(target).map_err(|e| df_err(span, e))?,
                };
                let arr = converted.to_array().map_err(|e| df_err(span, e))?;
                json_at(&arr, 0)
            };
            let fill = SeriesFill {
                bins: bins as usize,
                default: default.to_string(),
                signature: Signature::any(2, Volatility::Immutable),
            };
            out.push(
                udf(fill)
                    .call(vec![ident("__ms_bins"), ident(format!("__ms_v{i}"))])
                    .alias(n),
            );
        }
        let axis_json = if axis_values.is_empty() {
            Value::Array(vec![])
        } else {
            let arr = ScalarValue::iter_to_array(axis_values).map_err(|e| df_err(span, e))?;
            Value::Array((0..arr.len()).map(|i| json_at(&arr, i)).collect())
        };
        out.push(lit(ScalarValue::LargeUtf8(Some(axis_json.to_string()))).alias(&axis_name));
        project(grouped, out, span)
    }
}
