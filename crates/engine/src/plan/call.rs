//! Function calls: `call` and `aggregate` dispatch a built-in function through the registry
//! (plan::functions) to its lowering, expand user `let` functions in place and reject anything
//! else by name; the argument helpers the lowerings share.

use super::expr::{constant_value, json, udf};
use super::functions::registry::{self, Lowering};
use super::functions::{AggregateCall, ScalarCall};
use super::{Binding, PResult, Planner, df_err, err};
use crate::functions::dynamic::{JsonOp, PathStep};
use crate::functions::dynregex::DynRegexMatch;
use crate::functions::library::{LibFn, LibOp};
use crate::functions::regex::{RegexFn, RegexOp};
use crate::functions::scalar::{KqlFn, ScalarOp};
use crate::types::KqlType;
use datafusion::arrow::datatypes::DataType;
use datafusion::common::{DFSchemaRef, ScalarValue};
use datafusion::functions::expr_fn as f;
use datafusion::functions_aggregate::expr_fn as agg;
use datafusion::logical_expr::{Expr, LogicalPlanBuilder, SortExpr, cast, lit, when};
use datafusion::prelude::ident;
use kql::{Arg, Ident, Span};
use std::sync::Arc;

pub fn scalar_fn(name: &str, op: ScalarOp, args: Vec<Expr>) -> Expr {
    udf(KqlFn::new(name, op)).call(args)
}

pub(super) fn lib(name: &str, op: LibOp, args: Vec<Expr>) -> Expr {
    udf(LibFn::new(name, op)).call(args)
}

pub(super) fn regex_fn(name: &str, op: RegexOp, pattern: &str, args: Vec<Expr>, span: Span) -> PResult<Expr> {
    let f = RegexFn::new(name, op, pattern).map_err(|m| err(span, m))?;
    Ok(udf(f).call(args))
}

/// `text matches regex pattern`: a constant pattern is compiled at plan time, any other at run
/// time (per distinct pattern).
pub fn regex_match(text: Expr, pattern: Expr, span: Span) -> PResult<Expr> {
    match constant_value(&pattern) {
        Some(ScalarValue::Utf8(Some(p))) => regex_fn("matches regex", RegexOp::IsMatch, &p, vec![text], span),
        _ => Ok(udf(DynRegexMatch::new()).call(vec![text, pattern])),
    }
}

/// One lowered argument with its type and place.
pub(super) struct A {
    pub(super) e: Expr,
    pub(super) t: KqlType,
    pub(super) span: Span,
}

impl Planner<'_> {
    pub(super) fn lower_args(&mut self, args: &[Arg], schema: &DFSchemaRef) -> PResult<Vec<A>> {
        args.iter()
            .map(|a| {
                let (x, span) = match a {
                    Arg::Positional(x) => (x, x.span()),
                    Arg::Named(n, _) => {
                        return Err(err(
                            n.span,
                            format!("named argument `{}` is not supported here", n.name),
                        ));
                    }
                };
                let e = self.scalar(x, schema)?;
                let t = self.type_of(&e, schema, span)?;
                Ok(A { e, t, span })
            })
            .collect()
    }

    /// A string argument (other types via `tostring`).
    pub(super) fn text(&self, a: A) -> Expr {
        match a.t {
            KqlType::String | KqlType::Guid => a.e,
            KqlType::Dynamic => self.coerce(a.e, KqlType::Dynamic, KqlType::String),
            _ => scalar_fn("tostring", ScalarOp::ToString, vec![a.e]),
        }
    }

    /// A constant string argument (a part name, a pattern).
    pub(super) fn const_text(a: &A, what: &str) -> PResult<String> {
        match constant_value(&a.e) {
            Some(ScalarValue::Utf8(Some(s))) => Ok(s),
            _ => Err(err(a.span, format!("{what} must be a constant string"))),
        }
    }

    pub(super) fn arity(name: &Ident, args: &[A], min: usize, max: usize) -> PResult<()> {
        if args.len() < min || args.len() > max {
            let want = if min == max {
                format!("{min}")
            } else {
                format!("{min} to {max}")
            };
            return Err(err(
                name.span,
                format!("{}() takes {want} arguments, {} given", name.name, args.len()),
            ));
        }
        Ok(())
    }

    /// A `long` argument (numbers are converted; dynamic values via `tolong`).
    pub(super) fn long_arg(n: &str, a: A) -> PResult<Expr> {
        match a.t {
            t if t.is_numeric() => Ok(cast(a.e, DataType::Int64)),
            KqlType::Dynamic => Ok(json("tolong", JsonOp::ToLong, vec![a.e])),
            t => Err(err(a.span, format!("{n}() takes a whole number here, not {t}"))),
        }
    }

    /// A `real` argument.
    pub(super) fn real_arg(n: &str, a: A) -> PResult<Expr> {
        match a.t {
            t if t.is_numeric() => Ok(cast(a.e, DataType::Float64)),
            KqlType::Dynamic => Ok(json("todouble", JsonOp::ToReal, vec![a.e])),
            t => Err(err(a.span, format!("{n}() takes a number here, not {t}"))),
        }
    }

    /// A `dynamic` argument (array or property bag).
    pub(super) fn dynamic_arg(n: &str, a: A) -> PResult<Expr> {
        match a.t {
            KqlType::Dynamic => Ok(a.e),
            t => Err(err(a.span, format!("{n}() takes a dynamic value, not {t}"))),
        }
    }

    /// The column name `column_ifexists()` looks for: a constant string (a literal, a `let`
    /// value or a function parameter).
    pub(super) fn column_ifexists_name(&mut self, column: &kql::Expr) -> PResult<String> {
        let e = self.constant(column)?;
        match constant_value(&e) {
            Some(ScalarValue::Utf8(Some(v))) => Ok(v),
            _ => Err(err(
                column.span(),
                "column_ifexists() takes a constant string as the column name",
            )),
        }
    }

    /// A scalar function call.
    pub fn call(&mut self, name: &Ident, args: &[Arg], span: Span, schema: &DFSchemaRef) -> PResult<Expr> {
        if let Some(Binding::Function(func)) = self.lookup(&name.name).cloned() {
            return self.with_function_scope(&func, args, span, schema, |p| match func.body.last() {
                Some(kql::Statement::Expr(body)) => p.scalar(body, schema),
                _ => Err(err(func.span, "the function body has no result expression")),
            });
        }
        let n = name.name.as_str();
        if registry::is_aggregate(n) {
            return Err(err(span, format!("`{n}()` is an aggregation: use it in summarize")));
        }
        let spec = registry::spec(n);
        // Functions whose arguments are not ordinary values.
        if let Some(Lowering::Raw(lower)) = spec.map(|s| s.lowering) {
            return lower(self, name, args, span, schema);
        }
        if matches!(n, "materialize" | "table" | "view") {
            return Err(err(span, format!("{n}() gives a table, not a value")));
        }
        // A trailing `typeof(T)` argument (extract, extractjson) names the result type.
        let (args, result_type) = match args.split_last() {
            Some((
                Arg::Positional(kql::Expr::Call {
                    name: t,
                    args: targs,
                    span: tspan,
                    ..
                }),
                rest,
            )) if t.name == "typeof" => {
                let ty = match targs.as_slice() {
                    [Arg::Positional(kql::Expr::Name(tn))] => KqlType::from_name(&tn.name),
                    _ => None,
                };
                let ty =
                    ty.ok_or_else(|| err(*tspan, "typeof() takes a type name (typeof(long), typeof(string), ...)"))?;
                (rest, Some(ty))
            }
            _ => (args, None),
        };
        if result_type.is_some() && !matches!(n, "extract" | "extractjson" | "extract_json") {
            return Err(err(span, format!("{n}() does not take a result type")));
        }
        let a = self.lower_args(args, schema)?;
        match spec.map(|s| (s.lowering, s.arity)) {
            Some((Lowering::Scalar(lower), arity)) => {
                if let Some((min, max)) = arity {
                    Self::arity(name, &a, min, max)?;
                }
                let now = self.now();
                let call = ScalarCall {
                    name,
                    args: a,
                    span,
                    now,
                    result_type,
                };
                lower(self, call)
            }
            // Lowered by the operators that allow them (extend, project, where, serialize).
            Some((Lowering::Window, _)) => Err(err(
                name.span,
                format!("the window function `{n}` can be used in extend, project, where and serialize only"),
            )),
            Some((Lowering::Unsupported, _)) => Err(err(name.span, format!("the function `{n}` is not supported yet"))),
            _ => Err(self.unknown_function(name, false)),
        }
    }

    /// Converts extracted text to `t` (`extract(..., typeof(long))`).
    pub(super) fn convert_text(&self, text: Expr, t: KqlType, span: Span) -> PResult<Expr> {
        let name = match t {
            KqlType::Long => "tolong",
            KqlType::Int => "toint",
            KqlType::Real => "toreal",
            KqlType::Bool => "tobool",
            KqlType::Datetime => "todatetime",
            KqlType::Timespan => "totimespan",
            KqlType::Guid => "toguid",
            KqlType::Dynamic => return Ok(json("parse_json", JsonOp::Parse, vec![text])),
            KqlType::String => return Ok(text),
            KqlType::Decimal => return Err(err(span, "the decimal type is not supported")),
        };
        self.convert(
            name,
            A {
                e: text,
                t: KqlType::String,
                span,
            },
        )
    }

    pub(super) fn convert(&self, n: &str, x: A) -> PResult<Expr> {
        let target = match n {
            "tolong" => KqlType::Long,
            "toint" => KqlType::Int,
            "todouble" | "toreal" => KqlType::Real,
            "tobool" | "toboolean" => KqlType::Bool,
            "todatetime" => KqlType::Datetime,
            "totimespan" => KqlType::Timespan,
            _ => KqlType::Guid,
        };
        if x.t == target {
            return Ok(x.e);
        }
        Ok(match (x.t, target) {
            (KqlType::Dynamic, _) => self.coerce(x.e, KqlType::Dynamic, target),
            (KqlType::String | KqlType::Guid, KqlType::Long) => scalar_fn(n, ScalarOp::ParseLong, vec![x.e]),
            (KqlType::String | KqlType::Guid, KqlType::Int) => scalar_fn(n, ScalarOp::ParseInt, vec![x.e]),
            (KqlType::String | KqlType::Guid, KqlType::Real) => scalar_fn(n, ScalarOp::ParseReal, vec![x.e]),
            (KqlType::String | KqlType::Guid, KqlType::Bool) => scalar_fn(n, ScalarOp::ParseBool, vec![x.e]),
            (KqlType::String | KqlType::Guid, KqlType::Datetime) => scalar_fn(n, ScalarOp::ParseDatetime, vec![x.e]),
            (KqlType::String | KqlType::Guid, KqlType::Timespan) => scalar_fn(n, ScalarOp::ParseTimespan, vec![x.e]),
            (KqlType::String, KqlType::Guid) => scalar_fn(n, ScalarOp::ParseGuid, vec![x.e]),
            (a, b) if a.is_numeric() && b.is_numeric() => {
                cast(x.e, b.arrow().expect("numeric types have an Arrow type"))
            }
            (KqlType::Bool, b) if b.is_numeric() => cast(x.e, b.arrow().expect("numeric types have an Arrow type")),
            (a, KqlType::Bool) if a.is_numeric() => x.e.not_eq(lit(0i64)),
            (KqlType::Timespan, KqlType::Long) => binary(
                cast(x.e, DataType::Int64),
                datafusion::logical_expr::Operator::Divide,
                lit(100i64),
            ),
            (KqlType::Datetime, KqlType::Long) => binary(
                cast(x.e, DataType::Int64),
                datafusion::logical_expr::Operator::Divide,
                lit(100i64),
            ),
            (a, b) => return Err(err(x.span, format!("{n}() cannot convert {a} to {b}"))),
        })
    }

    pub(super) fn math(&self, n: &str, a: Vec<A>, span: Span) -> PResult<Expr> {
        let mut it = a.into_iter();
        let Some(x) = it.next() else {
            return Err(err(span, format!("{n}() needs a number")));
        };
        let abs_of_timespan = n == "abs" && x.t == KqlType::Timespan;
        if !(x.t.is_numeric() || abs_of_timespan) {
            return Err(err(x.span, format!("{n}() takes a number, not {}", x.t)));
        }
        let real = cast(x.e.clone(), DataType::Float64);
        Ok(match n {
            "abs" if x.t == KqlType::Timespan => when(
                x.e.clone().lt(lit(crate::value::timespan_scalar(Some(0)))),
                binary(
                    lit(crate::value::timespan_scalar(Some(0))),
                    datafusion::logical_expr::Operator::Minus,
                    x.e.clone(),
                ),
            )
            .otherwise(x.e)
            .map_err(|e| df_err(span, e))?,
            "abs" => f::abs(x.e),
            "floor" => f::floor(real),
            "ceiling" => f::ceil(real),
            // sqrt, log and log10 of a negative number are null (their documentation pages).
            "sqrt" | "log" | "log10" => {
                let v = match n {
                    "sqrt" => f::sqrt(real.clone()),
                    "log" => f::ln(real.clone()),
                    _ => f::log10(real.clone()),
                };
                when(real.lt(lit(0.0f64)), lit(ScalarValue::Float64(None)))
                    .otherwise(v)
                    .map_err(|e| df_err(span, e))?
            }
            "exp" => f::exp(real),
            "pow" => f::power(
                real,
                cast(
                    it.next().ok_or_else(|| err(span, "pow() takes two numbers"))?.e,
                    DataType::Float64,
                ),
            ),
            _ => match it.next() {
                Some(p) => f::round(vec![real, cast(p.e, DataType::Int64)]),
                None => f::round(vec![real]),
            },
        })
    }

    pub(super) fn toscalar(&mut self, args: &[Arg], span: Span) -> PResult<Expr> {
        let [Arg::Positional(q)] = args else {
            return Err(err(span, "toscalar() takes one tabular expression"));
        };
        let plan = self.tabular(q)?;
        let first = plan.schema().field(0).name().clone();
        let sub = LogicalPlanBuilder::from(plan)
            .limit(0, Some(1))
            .and_then(|b| b.project(vec![ident(first)]))
            .and_then(|b| b.build())
            .map_err(|e| df_err(span, e))?;
        if let Some(stored) = self.static_scalar(&sub) {
            return Ok(stored);
        }
        Ok(Expr::ScalarSubquery(datafusion::logical_expr::Subquery {
            subquery: Arc::new(sub),
            outer_ref_columns: vec![],
            spans: Default::default(),
        }))
    }

    /// An aggregation in `summarize`: the expression and Kusto's default column name.
    pub fn aggregate(
        &mut self,
        e: &kql::Expr,
        schema: &DFSchemaRef,
        group_names: &[String],
    ) -> PResult<Vec<(Expr, String)>> {
        let kql::Expr::Call {
            receiver: None,
            name,
            args,
            span,
        } = e
        else {
            // A scalar expression over aggregates, e.g. `summarize x = count() * 2`, is not supported.
            return Err(err(
                e.span(),
                "summarize takes aggregation functions (count(), sum(x), make_set(x), ...)",
            ));
        };
        let n = name.name.as_str();
        // `make_list(tostring(x))` is `list_x`: the argument's implicit column name.
        let first_name = args.first().and_then(|a| super::ops::implicit_name(a.expr()));
        // Over serialized rows, the collecting aggregations get each row's position too.
        let ord_arg = self.serial_ord.as_ref().map(|o| cast(ident(o), DataType::Int64));
        let cx = AggregateCall {
            name,
            args,
            span: *span,
            schema,
            group_names,
            first_name,
            ord_arg,
        };
        let spec = registry::spec(n);
        match spec.map(|s| (s.lowering, s.arity)) {
            Some((Lowering::RawAggregate(lower), _)) => return lower(self, &cx),
            Some((Lowering::Aggregate(lower), arity)) => {
                let a = self.lower_args(args, schema)?;
                if let Some((min, max)) = arity {
                    Self::arity(name, &a, min, max)?;
                }
                return lower(self, &cx, a);
            }
            _ => {}
        }
        // Errors in the arguments come first.
        self.lower_args(args, schema)?;
        if matches!(spec.map(|s| s.lowering), Some(Lowering::UnsupportedAggregate)) {
            return Err(err(name.span, format!("the aggregation `{n}` is not supported yet")));
        }
        if registry::function_names().any(|f| f == n) || self.lookup(n).is_some() {
            return Err(err(name.span, format!("`{n}` is not an aggregation function")));
        }
        Err(self.unknown_function(name, false))
    }

    /// The ordering that follows the input's serialized order (none when it has no order).
    pub(super) fn serial_order_by(&self) -> Vec<SortExpr> {
        self.serial_ord
            .iter()
            .map(|o| SortExpr::new(ident(o), true, false))
            .collect()
    }

    /// `arg_max(by, col, ...)` / `arg_max(by, *)`: the row where `by` is largest, per group.
    pub(super) fn arg_max(
        &mut self,
        max: bool,
        args: &[Arg],
        schema: &DFSchemaRef,
        group_names: &[String],
        span: Span,
    ) -> PResult<Vec<(Expr, String)>> {
        let Some(Arg::Positional(by)) = args.first() else {
            return Err(err(span, "arg_max/arg_min take an expression to maximize and columns"));
        };
        let by_e = self.scalar(by, schema)?;
        let by_name = match by {
            kql::Expr::Name(i) => i.name.clone(),
            _ => format!("{}_", if max { "max" } else { "min" }),
        };
        // Ties go to the first row in serialized order, when the rows have one.
        let mut order = vec![SortExpr::new(by_e.clone(), !max, false)];
        order.extend(self.serial_order_by());
        let mut out = vec![(
            if max {
                agg::max(by_e.clone())
            } else {
                agg::min(by_e.clone())
            },
            by_name.clone(),
        )];
        for a in &args[1..] {
            match a.expr() {
                kql::Expr::Star(_) => {
                    for fld in schema.fields() {
                        let c = fld.name();
                        if c == &by_name
                            || group_names.contains(c)
                            || out.iter().any(|(_, n)| n == c)
                            || self.serial_ord.as_ref() == Some(c)
                        {
                            continue;
                        }
                        out.push((agg::first_value(ident(c), order.clone()), c.clone()));
                    }
                }
                kql::Expr::Name(i) => out.push((
                    agg::first_value(self.scalar(a.expr(), schema)?, order.clone()),
                    i.name.clone(),
                )),
                other => {
                    let e = self.scalar(other, schema)?;
                    let nm = self.next_column_name(&|_| false);
                    out.push((agg::first_value(e, order.clone()), nm));
                }
            }
        }
        Ok(out)
    }
}

pub(super) fn binary(l: Expr, op: datafusion::logical_expr::Operator, r: Expr) -> Expr {
    datafusion::logical_expr::binary_expr(l, op, r)
}

pub(super) trait Pipe: Sized {
    fn pipe<T>(self, f: impl FnOnce(Self) -> T) -> T {
        f(self)
    }
}
impl Pipe for Expr {}

/// A JSONPath of the simple forms Kusto's extractjson documents: `$.a.b`, `$['a']`, `$.a[0]`.
pub(super) fn json_path(text: &str) -> Option<Vec<PathStep>> {
    let mut rest = text.trim().strip_prefix('$')?;
    let mut path = Vec::new();
    while !rest.is_empty() {
        if let Some(r) = rest.strip_prefix('.') {
            let end = r.find(['.', '[']).unwrap_or(r.len());
            if end == 0 {
                return None;
            }
            path.push(PathStep::Key(r[..end].to_string()));
            rest = &r[end..];
        } else if let Some(r) = rest.strip_prefix('[') {
            let close = r.find(']')?;
            let inner = r[..close].trim();
            if let Some(q) = inner
                .strip_prefix('\'')
                .and_then(|i| i.strip_suffix('\''))
                .or_else(|| inner.strip_prefix('"').and_then(|i| i.strip_suffix('"')))
            {
                path.push(PathStep::Key(q.to_string()));
            } else {
                path.push(PathStep::Index(inner.parse().ok()?));
            }
            rest = &r[close + 1..];
        } else {
            return None;
        }
    }
    Some(path)
}
