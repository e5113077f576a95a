//! Series functions that return several values: `series_fit_line`, `series_fit_2lines`,
//! `series_decompose` and `series_decompose_anomalies`. They are computed as one dynamic array
//! of their components per row; `extend (a, b, ...) = f(...)` takes the first components under
//! those names, `extend x = f(...)` the first, and `extend f(...)` all of them, named
//! `f_<argument>_<component>`; `project` always gives all of them, the names given naming the
//! first (series_fit_2lines page, "Syntax").

use super::expr::{constant_value, json, udf};
use super::ops::{implicit_name, names_of, project};
use super::{PResult, Planner, err};
use crate::functions::dynamic::{JsonOp, PathStep, parse_value};
use crate::types::KqlType;
use datafusion::arrow::array::{Array, AsArray, LargeStringBuilder};
use datafusion::arrow::datatypes::DataType;
use datafusion::common::ScalarValue;
use datafusion::error::{DataFusionError, Result};
use datafusion::logical_expr::{
    ColumnarValue, Expr, LogicalPlan, ScalarFunctionArgs, ScalarUDFImpl, Signature, Volatility, cast,
};
use datafusion::prelude::ident;
use kql::Span;
use serde_json::Value;

/// The functions, with their components and the components' types.
const FUNCTIONS: &[(&str, &[(&str, KqlType)])] = &[
    (
        "series_fit_line",
        &[
            ("rsquare", KqlType::Real),
            ("slope", KqlType::Real),
            ("variance", KqlType::Real),
            ("rvariance", KqlType::Real),
            ("interception", KqlType::Real),
            ("line_fit", KqlType::Dynamic),
        ],
    ),
    (
        "series_fit_2lines",
        &[
            ("rsquare", KqlType::Real),
            ("split_idx", KqlType::Long),
            ("variance", KqlType::Real),
            ("rvariance", KqlType::Real),
            ("line_fit", KqlType::Dynamic),
            ("right_rsquare", KqlType::Real),
            ("right_slope", KqlType::Real),
            ("right_interception", KqlType::Real),
            ("right_variance", KqlType::Real),
            ("right_rvariance", KqlType::Real),
            ("left_rsquare", KqlType::Real),
            ("left_slope", KqlType::Real),
            ("left_interception", KqlType::Real),
            ("left_variance", KqlType::Real),
            ("left_rvariance", KqlType::Real),
        ],
    ),
    (
        "series_decompose",
        &[
            ("baseline", KqlType::Dynamic),
            ("seasonal", KqlType::Dynamic),
            ("trend", KqlType::Dynamic),
            ("residual", KqlType::Dynamic),
        ],
    ),
    (
        "series_decompose_anomalies",
        &[
            ("ad_flag", KqlType::Dynamic),
            ("ad_score", KqlType::Dynamic),
            ("baseline", KqlType::Dynamic),
        ],
    ),
];

/// How a trend is extracted.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
enum Trend {
    Avg,
    LineFit,
    None,
}

/// What one call computes, with its constant parameters.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
enum Op {
    FitLine,
    Fit2Lines,
    Decompose(Decomposition),
    Anomalies {
        d: Decomposition,
        /// The anomaly threshold (bits of an f64).
        threshold: u64,
        /// Tukey's percentile range: (10, 90) for ctukey, (25, 75) for tukey.
        range: (u8, u8),
    },
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
struct Decomposition {
    /// -1 detect, 0 none, else the period in bins.
    seasonality: i64,
    trend: Trend,
    test_points: usize,
    /// The seasonality score threshold (bits of an f64).
    seasonality_threshold: u64,
}

#[derive(Debug, PartialEq, Eq, Hash)]
struct SeriesFn {
    op: Op,
    signature: Signature,
}

impl ScalarUDFImpl for SeriesFn {
    fn name(&self) -> &str {
        match self.op {
            Op::FitLine => "series_fit_line",
            Op::Fit2Lines => "series_fit_2lines",
            Op::Decompose(_) => "series_decompose",
            Op::Anomalies { .. } => "series_decompose_anomalies",
        }
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
        let Some(series) = arrays.first() else {
            return Err(DataFusionError::Execution(format!("{}() takes a series", self.name())));
        };
        let text = datafusion::arrow::compute::cast(series, &DataType::LargeUtf8)?;
        let text = text.as_string::<i64>();
        let mut out = LargeStringBuilder::new();
        for i in 0..n.min(text.len()) {
            let values = if text.is_null(i) {
                None
            } else {
                match parse_value(text.value(i)) {
                    Value::Array(a) => Some(a.iter().map(|v| v.as_f64().unwrap_or(0.0)).collect::<Vec<f64>>()),
                    _ => None,
                }
            };
            match values {
                Some(y) => out.append_value(self.compute(&y).to_string()),
                None => out.append_null(),
            }
        }
        for _ in text.len()..n {
            out.append_null();
        }
        Ok(ColumnarValue::Array(std::sync::Arc::new(out.finish())))
    }
}

/// A JSON number (null where it is not finite: JSON has no NaN or infinity).
fn num(x: f64) -> Value {
    serde_json::Number::from_f64(x).map_or(Value::Null, Value::Number)
}

fn nums(xs: &[f64]) -> Value {
    Value::Array(xs.iter().map(|x| num(*x)).collect())
}

/// A least-squares line through `y` at x = `x0`, `x0 + 1`, ...: (slope, interception, residual
/// sum of squares, total sum of squares).
fn fit(y: &[f64], x0: f64) -> (f64, f64, f64, f64) {
    let n = y.len() as f64;
    if y.is_empty() {
        return (0.0, 0.0, 0.0, 0.0);
    }
    let mx = x0 + (n - 1.0) / 2.0;
    let my = y.iter().sum::<f64>() / n;
    let (mut sxy, mut sxx) = (0.0, 0.0);
    for (i, v) in y.iter().enumerate() {
        let dx = x0 + i as f64 - mx;
        sxy += dx * (v - my);
        sxx += dx * dx;
    }
    let slope = if sxx > 0.0 { sxy / sxx } else { 0.0 };
    let b = my - slope * mx;
    let (mut ssr, mut sst) = (0.0, 0.0);
    for (i, v) in y.iter().enumerate() {
        let f = slope * (x0 + i as f64) + b;
        ssr += (v - f) * (v - f);
        sst += (v - my) * (v - my);
    }
    (slope, b, ssr, sst)
}

/// 1 - residual / total (1 for a series without variance).
fn rsquare(ssr: f64, sst: f64) -> f64 {
    if sst > 0.0 { 1.0 - ssr / sst } else { 1.0 }
}

/// A sum of squares over `n` points as a sample variance.
fn variance(ss: f64, n: usize) -> f64 {
    if n > 1 { ss / (n as f64 - 1.0) } else { 0.0 }
}

/// The `p`th percentile (0-100) of sorted values, interpolated linearly between ranks.
fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let rank = p / 100.0 * (sorted.len() - 1) as f64;
    let (lo, hi) = (rank.floor() as usize, rank.ceil() as usize);
    let w = rank - lo as f64;
    sorted[lo] * (1.0 - w) + sorted[hi.min(sorted.len() - 1)] * w
}

fn median(mut xs: Vec<f64>) -> f64 {
    xs.sort_by(f64::total_cmp);
    percentile(&xs, 50.0)
}

/// The longest period autodetection considers.
const MAX_DETECTED_PERIOD: usize = 1_000;

/// The period with the strongest autocorrelation, when its score reaches `threshold`.
/// Kusto's `series_periods_detect` scores are not specified in its documentation; this scores
/// a period by the autocorrelation of the series at that lag (1 for a perfect repetition).
fn detect_period(y: &[f64], threshold: f64) -> Option<usize> {
    let n = y.len();
    let mean = y.iter().sum::<f64>() / n.max(1) as f64;
    let d: Vec<f64> = y.iter().map(|v| v - mean).collect();
    let energy: f64 = d.iter().map(|v| v * v).sum();
    if energy <= 0.0 {
        return None;
    }
    let mut best: Option<(usize, f64)> = None;
    // Periods up to 1,000 bins: the scoring is quadratic in the candidates.
    for p in 2..=(n / 2).min(MAX_DETECTED_PERIOD) {
        let c: f64 = (0..n - p).map(|i| d[i] * d[i + p]).sum::<f64>() / energy * n as f64 / (n - p) as f64;
        if best.is_none_or(|(_, b)| c > b + 1e-12) {
            best = Some((p, c));
        }
    }
    best.filter(|(_, c)| *c >= threshold).map(|(p, _)| p)
}

impl Decomposition {
    /// (baseline, seasonal, trend, residual).
    fn run(&self, y: &[f64]) -> [Vec<f64>; 4] {
        let n = y.len();
        let learn = n.saturating_sub(self.test_points);
        let train = &y[..learn];
        let period = match self.seasonality {
            0 => None,
            p if p > 0 => Some(p as usize),
            _ => detect_period(train, f64::from_bits(self.seasonality_threshold)),
        };
        // The seasonal component: the median of the training points at the same phase.
        let seasonal: Vec<f64> = match period {
            Some(p) if p > 0 && p < n.max(1) => {
                let phases: Vec<f64> = (0..p)
                    .map(|ph| median(train.iter().skip(ph).step_by(p).copied().collect()))
                    .collect();
                (0..n).map(|i| phases[i % p]).collect()
            }
            _ => vec![0.0; n],
        };
        let deseasoned: Vec<f64> = train.iter().zip(&seasonal).map(|(v, s)| v - s).collect();
        let trend: Vec<f64> = match self.trend {
            Trend::None => vec![0.0; n],
            Trend::Avg => {
                let avg = if deseasoned.is_empty() {
                    0.0
                } else {
                    deseasoned.iter().sum::<f64>() / deseasoned.len() as f64
                };
                vec![avg; n]
            }
            Trend::LineFit => {
                let (a, b, _, _) = fit(&deseasoned, 0.0);
                (0..n).map(|i| a * i as f64 + b).collect()
            }
        };
        let baseline: Vec<f64> = seasonal.iter().zip(&trend).map(|(s, t)| s + t).collect();
        let residual: Vec<f64> = y.iter().zip(&baseline).map(|(v, b)| v - b).collect();
        [baseline, seasonal, trend, residual]
    }
}

impl SeriesFn {
    fn compute(&self, y: &[f64]) -> Value {
        let n = y.len();
        match &self.op {
            Op::FitLine => {
                let (a, b, ssr, sst) = fit(y, 1.0);
                let line: Vec<f64> = (0..n).map(|i| a * (i + 1) as f64 + b).collect();
                Value::Array(vec![
                    num(rsquare(ssr, sst)),
                    num(a),
                    num(variance(sst, n)),
                    num(variance(ssr, n)),
                    num(b),
                    nums(&line),
                ])
            }
            Op::Fit2Lines => {
                let (_, _, _, sst) = fit(y, 1.0);
                // Each part has at least two points; a shorter series is one line (split 0).
                // Residual sums of squares of each part from prefix sums: O(n) in all.
                let mut pre = vec![[0.0f64; 5]; n + 1];
                for (i, v) in y.iter().enumerate() {
                    let x = (i + 1) as f64;
                    let p = pre[i];
                    pre[i + 1] = [p[0] + x, p[1] + v, p[2] + x * v, p[3] + x * x, p[4] + v * v];
                }
                let ssr = |a: usize, b: usize| -> f64 {
                    let m = (b - a) as f64;
                    let d: Vec<f64> = (0..5).map(|j| pre[b][j] - pre[a][j]).collect();
                    let sxx = d[3] - d[0] * d[0] / m;
                    let sxy = d[2] - d[0] * d[1] / m;
                    let syy = d[4] - d[1] * d[1] / m;
                    if sxx > 0.0 {
                        (syy - sxy * sxy / sxx).max(0.0)
                    } else {
                        syy.max(0.0)
                    }
                };
                let mut best: Option<(usize, f64)> = None;
                for k in 2..n.saturating_sub(1) {
                    let rs = rsquare(ssr(0, k) + ssr(k, n), sst);
                    if best.is_none_or(|(_, b)| rs > b) {
                        best = Some((k, rs));
                    }
                }
                let k = best.map_or(0, |(k, _)| k);
                let (la, lb, lssr, lsst) = fit(&y[..k], 1.0);
                let (ra, rb, rssr, rsst) = fit(&y[k..], (k + 1) as f64);
                let line: Vec<f64> = (0..n)
                    .map(|i| {
                        if i < k {
                            la * (i + 1) as f64 + lb
                        } else {
                            ra * (i + 1) as f64 + rb
                        }
                    })
                    .collect();
                Value::Array(vec![
                    num(rsquare(lssr + rssr, sst)),
                    Value::from(k as i64),
                    num(variance(sst, n)),
                    num(variance(lssr + rssr, n)),
                    nums(&line),
                    num(rsquare(rssr, rsst)),
                    num(ra),
                    num(rb),
                    num(variance(rsst, n - k)),
                    num(variance(rssr, n - k)),
                    num(rsquare(lssr, lsst)),
                    num(la),
                    num(lb),
                    num(variance(lsst, k)),
                    num(variance(lssr, k)),
                ])
            }
            Op::Decompose(d) => Value::Array(d.run(y).iter().map(|c| nums(c)).collect()),
            Op::Anomalies { d, threshold, range } => {
                let [baseline, _, _, residual] = d.run(y);
                // series_outliers on the residuals: Tukey's fences at the percentile range.
                let mut sorted = residual.clone();
                sorted.sort_by(f64::total_cmp);
                let (lo, hi) = (
                    percentile(&sorted, f64::from(range.0)),
                    percentile(&sorted, f64::from(range.1)),
                );
                let width = if hi > lo { hi - lo } else { 1.0 };
                let scores: Vec<f64> = residual
                    .iter()
                    .map(|r| {
                        if *r > hi {
                            (r - hi) / width
                        } else if *r < lo {
                            (r - lo) / width
                        } else {
                            0.0
                        }
                    })
                    .collect();
                let k = f64::from_bits(*threshold);
                let flags: Vec<Value> = scores
                    .iter()
                    .map(|s| {
                        Value::from(if *s > k {
                            1
                        } else if *s < -k {
                            -1
                        } else {
                            0
                        })
                    })
                    .collect();
                Value::Array(vec![Value::Array(flags), nums(&scores), nums(&baseline)])
            }
        }
    }
}

/// A multi-value call: the function, its components, its arguments and its place.
pub(super) type MultiValueCall<'e> = (&'static str, &'static [(&'static str, KqlType)], &'e [kql::Arg], Span);

/// The function a multi-value call names (unless a `let` shadows it), with its components.
pub(super) fn multi_value_call<'e>(p: &Planner<'_>, e: &'e kql::Expr) -> Option<MultiValueCall<'e>> {
    let kql::Expr::Call {
        receiver: None,
        name,
        args,
        span,
    } = e
    else {
        return None;
    };
    if p.lookup(&name.name).is_some() {
        return None;
    }
    FUNCTIONS
        .iter()
        .find(|(n, _)| *n == name.name)
        .map(|(n, c)| (*n, *c, args.as_slice(), *span))
}

impl Planner<'_> {
    /// A constant argument, or its default.
    fn series_const(&mut self, args: &[kql::Arg], i: usize) -> PResult<Option<ScalarValue>> {
        match args.get(i) {
            None => Ok(None),
            Some(kql::Arg::Named(n, _)) => Err(err(n.span, "series functions take no named arguments")),
            Some(kql::Arg::Positional(e)) => {
                let x = self.constant(e)?;
                match constant_value(&x) {
                    Some(v) if v.is_null() => Ok(None),
                    Some(v) => Ok(Some(v)),
                    None => Err(err(e.span(), "this argument must be a constant")),
                }
            }
        }
    }

    fn series_number(&mut self, args: &[kql::Arg], i: usize, default: f64) -> PResult<f64> {
        Ok(match self.series_const(args, i)? {
            None => default,
            Some(v) => match v.cast_to(&DataType::Float64) {
                Ok(ScalarValue::Float64(Some(x))) if x.is_finite() => x,
                _ => return Err(err(args[i].expr().span(), "this argument must be a number")),
            },
        })
    }

    fn series_text(&mut self, args: &[kql::Arg], i: usize, default: &str) -> PResult<String> {
        Ok(match self.series_const(args, i)? {
            None => default.to_string(),
            Some(ScalarValue::Utf8(Some(s)) | ScalarValue::LargeUtf8(Some(s))) => s,
            Some(_) => return Err(err(args[i].expr().span(), "this argument must be a string")),
        })
    }

    fn decomposition(&mut self, args: &[kql::Arg], at: usize, threshold_at: usize) -> PResult<Decomposition> {
        let seasonality = self.series_number(args, at, -1.0)?;
        if seasonality < -1.0 || seasonality.fract() != 0.0 {
            return Err(err(
                args[at].expr().span(),
                "Seasonality is -1 (detect), 0 (none) or a period in bins",
            ));
        }
        let trend = match self.series_text(args, at + 1, "avg")?.as_str() {
            "avg" => Trend::Avg,
            "linefit" => Trend::LineFit,
            "none" => Trend::None,
            other => {
                return Err(err(
                    args[at + 1].expr().span(),
                    format!("Trend is avg, linefit or none, not `{other}`"),
                ));
            }
        };
        let test_points = self.series_number(args, at + 2, 0.0)?;
        if test_points < 0.0 || test_points.fract() != 0.0 {
            return Err(err(
                args[at + 2].expr().span(),
                "Test_points is a whole number of points",
            ));
        }
        let seasonality_threshold = self.series_number(args, threshold_at, 0.6)?;
        Ok(Decomposition {
            seasonality: seasonality as i64,
            trend,
            test_points: test_points.min(1e9) as usize,
            seasonality_threshold: seasonality_threshold.to_bits(),
        })
    }

    /// `project` items with calls returning several values: each such call's components are
    /// added as columns (all of them: the names given for the first, `f_<argument>_<component>`
    /// for the rest, series_fit_2lines page) and the item becomes those names.
    pub(super) fn multi_value_project(
        &mut self,
        plan: LogicalPlan,
        items: &[kql::NamedExpr],
        span: Span,
    ) -> PResult<(LogicalPlan, Vec<kql::NamedExpr>)> {
        let mut plan = plan;
        let mut out = Vec::new();
        for ne in items {
            if multi_value_call(self, &ne.expr).is_none() {
                out.push(ne.clone());
                continue;
            }
            let (wide, names) = self.multi_value_columns(plan, ne, true, span)?;
            plan = wide;
            out.extend(names.into_iter().map(|n| kql::NamedExpr {
                names: Vec::new(),
                expr: kql::Expr::Name(kql::Ident::new(n, ne.expr.span())),
            }));
        }
        Ok((plan, out))
    }

    /// `extend` of a call returning several values: its components as columns.
    pub(super) fn multi_value_extend(
        &mut self,
        plan: LogicalPlan,
        ne: &kql::NamedExpr,
        span: Span,
    ) -> PResult<LogicalPlan> {
        self.multi_value_columns(plan, ne, false, span).map(|(p, _)| p)
    }

    /// The plan with a multi-value call's components added (the named ones, or all with `all`),
    /// and their names.
    fn multi_value_columns(
        &mut self,
        plan: LogicalPlan,
        ne: &kql::NamedExpr,
        all: bool,
        span: Span,
    ) -> PResult<(LogicalPlan, Vec<String>)> {
        let Some((fname, components, args, call_span)) = multi_value_call(self, &ne.expr) else {
            return Err(err(ne.expr.span(), "internal: not a multi-value call"));
        };
        let schema = plan.schema().clone();
        let max_args = match fname {
            "series_fit_line" | "series_fit_2lines" => 1,
            "series_decompose" => 5,
            _ => 7,
        };
        if args.is_empty() || args.len() > max_args {
            return Err(err(
                call_span,
                format!("{fname}() takes a series and at most {} parameters", max_args - 1),
            ));
        }
        let series = self.scalar(args[0].expr(), &schema)?;
        let t = self.type_of(&series, &schema, args[0].expr().span())?;
        if t != KqlType::Dynamic {
            return Err(err(
                args[0].expr().span(),
                format!("{fname}() takes a dynamic array, not {t}"),
            ));
        }
        let op = match fname {
            "series_fit_line" => Op::FitLine,
            "series_fit_2lines" => Op::Fit2Lines,
            "series_decompose" => Op::Decompose(self.decomposition(args, 1, 4)?),
            _ => {
                let threshold = self.series_number(args, 1, 1.5)?;
                let d = self.decomposition(args, 2, 6)?;
                let range = match self.series_text(args, 5, "ctukey")?.as_str() {
                    "ctukey" => (10, 90),
                    "tukey" => (25, 75),
                    other => {
                        return Err(err(
                            args[5].expr().span(),
                            format!("AD_method is ctukey or tukey, not `{other}`"),
                        ));
                    }
                };
                Op::Anomalies {
                    d,
                    threshold: threshold.to_bits(),
                    range,
                }
            }
        };
        let tuple = udf(SeriesFn {
            op,
            signature: Signature::any(1, Volatility::Immutable),
        })
        .call(vec![series]);
        let arg = implicit_name(args[0].expr()).unwrap_or_else(|| "x".to_string());
        let default_name = |i: usize| format!("{fname}_{arg}_{}", components[i].0);
        let names: Vec<(String, usize)> = match ne.names.as_slice() {
            [] => (0..components.len()).map(|i| (default_name(i), i)).collect(),
            given if given.len() > components.len() => {
                return Err(err(
                    span,
                    format!(
                        "{fname}() returns {} values, {} names given",
                        components.len(),
                        given.len()
                    ),
                ));
            }
            given => {
                let mut v: Vec<(String, usize)> = given.iter().enumerate().map(|(i, n)| (n.name.clone(), i)).collect();
                if all {
                    v.extend((given.len()..components.len()).map(|i| (default_name(i), i)));
                }
                v
            }
        };
        // The tuple once, then its components.
        const TUPLE: &str = "__series_tuple";
        let before = names_of(&plan);
        let mut cols: Vec<Expr> = before.iter().map(ident).collect();
        cols.push(tuple.alias(TUPLE));
        let with_tuple = project(plan, cols, span)?;
        let mut out: Vec<Expr> = Vec::new();
        let component = |i: usize| {
            let e = json("get", JsonOp::Get(vec![PathStep::Index(i as i64)]), vec![ident(TUPLE)]);
            match components[i].1 {
                KqlType::Real => cast(json("todouble", JsonOp::ToReal, vec![e]), DataType::Float64),
                KqlType::Long => cast(json("tolong", JsonOp::ToLong, vec![e]), DataType::Int64),
                _ => e,
            }
        };
        for n in &before {
            match names.iter().find(|(m, _)| m == n) {
                Some((m, i)) => out.push(component(*i).alias(m)),
                None => out.push(ident(n)),
            }
        }
        for (m, i) in &names {
            if !before.contains(m) {
                out.push(component(*i).alias(m));
            }
        }
        let plan = project(with_tuple, out, span)?;
        Ok((plan, names.into_iter().map(|(n, _)| n).collect()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fit_line_matches_the_documented_example() {
        let f = SeriesFn {
            op: Op::FitLine,
            signature: Signature::any(1, Volatility::Immutable),
        };
        let y = [2.0, 5.0, 6.0, 8.0, 11.0, 15.0, 17.0, 18.0, 25.0, 26.0, 30.0, 30.0];
        let v = f.compute(&y);
        let r = |i: usize| v[i].as_f64().unwrap_or(f64::NAN);
        // rsquare 0.982, slope 2.730, variance 98.628, rvariance 1.686, interception -1.666
        assert!((r(0) - 0.982).abs() < 1e-3);
        assert!((r(1) - 2.730).abs() < 1e-3);
        assert!((r(2) - 98.628).abs() < 1e-3);
        assert!((r(3) - 1.686).abs() < 1e-3);
        assert!((r(4) + 1.666).abs() < 1e-3);
        assert!((v[5][0].as_f64().unwrap_or(f64::NAN) - 1.064).abs() < 1e-3);
    }
}
