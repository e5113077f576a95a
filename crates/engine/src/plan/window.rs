//! Kusto's window functions (`row_number`, `prev`, `next`) on serialized row sets.
//!
//! A row set is serialized when it comes from `sort`/`top` (ordered by their keys) or from
//! `serialize` (in the order it has), through operators that keep the order (extend, project,
//! where, take, parse, mv-expand, ...). The order is read off the plan itself: the nearest
//! `Sort` below order-keeping nodes, its keys mapped through the projections in between.

use super::expr::constant_value;
use super::{PResult, Planner, df_err, err};
use crate::types::KqlType;
use datafusion::common::tree_node::{Transformed, TreeNode};
use datafusion::common::{Column, ScalarValue};
use datafusion::functions_window::expr_fn::{lag, lead, row_number};
use datafusion::logical_expr::expr::WindowFunction;
use datafusion::logical_expr::{
    Expr, ExprFunctionExt, LogicalPlan, LogicalPlanBuilder, SortExpr, WindowFrame, WindowFrameBound, WindowFrameUnits,
    WindowFunctionDefinition, cast, lit, when,
};
use datafusion::prelude::ident;
use kql::Span;
use std::collections::HashMap;

/// Whether a plan's rows are in a known order.
pub enum Order {
    /// Not serialized.
    None,
    /// Serialized, in the order of these keys (empty: in the order the rows have).
    Keys(Vec<SortExpr>),
    /// Serialized by a sort whose key columns are no longer columns here.
    Lost(String),
}

/// The `serialize` operator: a `Limit` without a row count marks the plan as serialized.
pub fn serialize_marker(plan: LogicalPlan, span: Span) -> PResult<LogicalPlan> {
    LogicalPlanBuilder::from(plan)
        .limit(0, None)
        .and_then(|b| b.build())
        .map_err(|e| df_err(span, e))
}

/// The order of a plan's rows, as far as Kusto's serialization rules give one.
pub fn serial_order(plan: &LogicalPlan) -> Order {
    match plan {
        LogicalPlan::Sort(s) => Order::Keys(s.expr.clone()),
        LogicalPlan::Limit(l) => match serial_order(&l.input) {
            Order::None if l.fetch.is_none() => Order::Keys(Vec::new()),
            o => o,
        },
        LogicalPlan::Filter(f) => serial_order(&f.input),
        LogicalPlan::Window(w) => serial_order(&w.input),
        LogicalPlan::Unnest(u) => serial_order(&u.input),
        LogicalPlan::Projection(p) => match serial_order(&p.input) {
            Order::Keys(keys) => map_keys(keys, &p.expr),
            o => o,
        },
        _ => Order::None,
    }
}

/// Sort keys over a projection's input, rewritten to the projection's output columns.
fn map_keys(keys: Vec<SortExpr>, exprs: &[Expr]) -> Order {
    let mut renames: HashMap<String, String> = HashMap::new();
    for e in exprs {
        match e {
            Expr::Column(c) => {
                renames.entry(c.name.clone()).or_insert_with(|| c.name.clone());
            }
            Expr::Alias(a) => {
                if let Expr::Column(c) = a.expr.as_ref() {
                    renames.entry(c.name.clone()).or_insert_with(|| a.name.clone());
                }
            }
            _ => {}
        }
    }
    let mut out = Vec::new();
    for k in keys {
        let mut lost = None;
        let e = k
            .expr
            .clone()
            .transform(|x| match x {
                Expr::Column(c) => match renames.get(&c.name) {
                    Some(n) => Ok(Transformed::yes(Expr::Column(Column::from_name(n)))),
                    None => {
                        lost = Some(c.name.clone());
                        Ok(Transformed::no(Expr::Column(c)))
                    }
                },
                other => Ok(Transformed::no(other)),
            })
            .map(|t| t.data);
        match (e, lost) {
            (Ok(e), None) => out.push(SortExpr::new(e, k.asc, k.nulls_first)),
            (_, Some(c)) => return Order::Lost(c),
            (Err(e), None) => return Order::Lost(e.to_string()),
        }
    }
    Order::Keys(out)
}

/// Whether `e` calls a window function (the name not taken by a `let` function).
fn is_window_call(p: &Planner<'_>, e: &kql::Expr) -> Option<String> {
    match e {
        kql::Expr::Call {
            receiver: None, name, ..
        } if super::functions::registry::is_window(&name.name) && p.lookup(&name.name).is_none() => {
            Some(name.name.clone())
        }
        _ => None,
    }
}

/// Applies `f` to each direct sub-expression of `e` (not into tabular expressions).
pub fn map_children(e: &kql::Expr, f: &mut dyn FnMut(&kql::Expr) -> PResult<kql::Expr>) -> PResult<kql::Expr> {
    use kql::Expr as E;
    Ok(match e {
        E::Paren(inner, s) => E::Paren(Box::new(f(inner)?), *s),
        E::Unary { op, expr, span } => E::Unary {
            op: *op,
            expr: Box::new(f(expr)?),
            span: *span,
        },
        E::Binary { op, left, right, span } => E::Binary {
            op: *op,
            left: Box::new(f(left)?),
            right: Box::new(f(right)?),
            span: *span,
        },
        E::Logical { op, operands, span } => E::Logical {
            op: *op,
            operands: operands.iter().map(&mut *f).collect::<PResult<_>>()?,
            span: *span,
        },
        E::List { op, expr, items, span } => E::List {
            op: *op,
            expr: Box::new(f(expr)?),
            items: items.iter().map(&mut *f).collect::<PResult<_>>()?,
            span: *span,
        },
        E::Between {
            expr,
            negated,
            low,
            high,
            span,
        } => E::Between {
            expr: Box::new(f(expr)?),
            negated: *negated,
            low: Box::new(f(low)?),
            high: Box::new(f(high)?),
            span: *span,
        },
        E::Call {
            receiver,
            name,
            args,
            span,
        } => E::Call {
            receiver: receiver.clone(),
            name: name.clone(),
            args: args
                .iter()
                .map(|a| {
                    Ok(match a {
                        kql::Arg::Positional(x) => kql::Arg::Positional(f(x)?),
                        kql::Arg::Named(n, x) => kql::Arg::Named(n.clone(), f(x)?),
                    })
                })
                .collect::<PResult<_>>()?,
            span: *span,
        },
        E::Member { expr, name, span } => E::Member {
            expr: Box::new(f(expr)?),
            name: name.clone(),
            span: *span,
        },
        E::Index { expr, index, span } => E::Index {
            expr: Box::new(f(expr)?),
            index: Box::new(f(index)?),
            span: *span,
        },
        other => other.clone(),
    })
}

fn contains_window_call(p: &Planner<'_>, e: &kql::Expr) -> bool {
    if is_window_call(p, e).is_some() {
        return true;
    }
    let mut found = false;
    let _ = map_children(e, &mut |c| {
        found |= contains_window_call(p, c);
        Ok(c.clone())
    });
    found
}

/// A name not yet a column of `plan`.
fn fresh(plan: &LogicalPlan, base: &str) -> String {
    let schema = plan.schema();
    (0..)
        .map(|i| format!("{base}{i}"))
        .find(|n| schema.field_with_unqualified_name(n).is_err())
        .unwrap_or_else(|| base.to_string())
}

fn add_window(plan: LogicalPlan, e: Expr, name: &str, span: Span) -> PResult<LogicalPlan> {
    LogicalPlanBuilder::from(plan)
        .window(vec![e.alias(name)])
        .and_then(|b| b.build())
        .map_err(|x| df_err(span, x))
}

fn ordered(
    e: Expr,
    keys: &[SortExpr],
    partition: Vec<Expr>,
    frame: Option<WindowFrame>,
) -> datafusion::error::Result<Expr> {
    let mut b = e.partition_by(partition);
    if !keys.is_empty() {
        b = b.order_by(keys.to_vec());
    }
    if let Some(f) = frame {
        b = b.window_frame(f);
    }
    b.build()
}

impl Planner<'_> {
    /// Whether any of `exprs` calls `row_number`, `prev` or `next`.
    pub fn has_window_calls(&self, exprs: &[&kql::Expr]) -> bool {
        exprs.iter().any(|e| contains_window_call(self, e))
    }

    /// Computes the window function calls in `exprs` as hidden columns appended to `plan`;
    /// returns the widened plan and the expressions with each call replaced by its column.
    pub fn lower_window_calls(
        &mut self,
        plan: LogicalPlan,
        exprs: &[&kql::Expr],
    ) -> PResult<(LogicalPlan, Vec<kql::Expr>)> {
        let mut plan = plan;
        let mut out = Vec::new();
        for e in exprs {
            out.push(self.rewrite_windows(e, &mut plan)?);
        }
        Ok((plan, out))
    }

    fn rewrite_windows(&mut self, e: &kql::Expr, plan: &mut LogicalPlan) -> PResult<kql::Expr> {
        let Some(fname) = is_window_call(self, e) else {
            return map_children(e, &mut |c| self.rewrite_windows(c, plan));
        };
        let kql::Expr::Call { args, span, name, .. } = e else {
            return Ok(e.clone());
        };
        let span = *span;
        let keys = match serial_order(plan) {
            Order::Keys(k) => k,
            Order::None => {
                return Err(err(
                    name.span,
                    format!("the function `{fname}` needs serialized input: sort or serialize first"),
                ));
            }
            Order::Lost(c) => {
                return Err(err(
                    name.span,
                    format!(
                        "the function `{fname}` needs the rows' sort order, but the sort column `{c}` was removed or replaced since the sort"
                    ),
                )
                .help("keep the sort columns unchanged until the window function, or sort again"));
            }
        };
        // Window calls inside the arguments are computed first.
        let args: Vec<kql::Expr> = args
            .iter()
            .map(|a| match a {
                kql::Arg::Positional(x) => self.rewrite_windows(x, plan),
                kql::Arg::Named(n, _) => Err(err(n.span, format!("{fname}() takes no named arguments"))),
            })
            .collect::<PResult<_>>()?;
        let schema = plan.schema().clone();
        let hidden = fresh(plan, "__win");
        match fname.as_str() {
            "prev" | "next" => {
                let (col, rest) = args.split_first().ok_or_else(|| {
                    err(
                        span,
                        format!("{fname}() takes a column, an optional offset and default"),
                    )
                })?;
                if rest.len() > 2 {
                    return Err(err(
                        span,
                        format!("{fname}() takes 1 to 3 arguments, {} given", args.len()),
                    ));
                }
                let value = self.scalar(col, &schema)?;
                let t = self.type_of(&value, &schema, col.span())?;
                let offset = match rest.first() {
                    None => 1,
                    Some(o) => match constant_value(&self.constant(o)?) {
                        Some(ScalarValue::Int64(Some(n))) if n >= 0 => n,
                        Some(ScalarValue::Int32(Some(n))) if n >= 0 => i64::from(n),
                        _ => {
                            return Err(err(
                                o.span(),
                                format!("the offset of {fname}() must be a constant whole number"),
                            ));
                        }
                    },
                };
                let dt = t
                    .arrow()
                    .ok_or_else(|| err(col.span(), format!("{fname}() of a {t} value is not supported")))?;
                let default = match rest.get(1) {
                    // Strings are never null in Kusto: no row gives the empty string.
                    None if t == KqlType::String => ScalarValue::Utf8(Some(String::new())),
                    None => ScalarValue::try_from(&dt).map_err(|x| df_err(span, x))?,
                    Some(d) => {
                        let dv = self.constant(d)?;
                        let dtype = self.type_of(&dv, &schema, d.span())?;
                        let sv = constant_value(&dv)
                            .ok_or_else(|| err(d.span(), format!("the default of {fname}() must be a constant")))?;
                        let same = dtype == t || (dtype.is_numeric() && t.is_numeric()) || sv.is_null();
                        if !same {
                            return Err(err(
                                d.span(),
                                format!("the default of {fname}() is {dtype}, the column is {t}"),
                            ));
                        }
                        sv.cast_to(&dt).map_err(|x| df_err(d.span(), x))?
                    }
                };
                let f = if fname == "prev" {
                    lag(value, Some(offset), Some(default))
                } else {
                    lead(value, Some(offset), Some(default))
                };
                let w = ordered(f, &keys, Vec::new(), None).map_err(|x| df_err(span, x))?;
                *plan = add_window(plan.clone(), w, &hidden, span)?;
            }
            "row_window_session" => {
                let (w, _) = self.row_window_session(&args, &schema, span)?;
                let w = ordered(w, &keys, Vec::new(), None).map_err(|x| df_err(span, x))?;
                *plan = add_window(plan.clone(), w, &hidden, span)?;
            }
            _ => {
                if args.len() > 2 {
                    return Err(err(
                        span,
                        format!("row_number() takes 0 to 2 arguments, {} given", args.len()),
                    ));
                }
                let start = match args.first() {
                    None => 1,
                    Some(s) => match constant_value(&self.scalar(s, &schema)?) {
                        Some(ScalarValue::Int64(Some(n))) => n,
                        Some(ScalarValue::Int32(Some(n))) => i64::from(n),
                        _ => {
                            return Err(err(
                                s.span(),
                                "the starting index of row_number() must be a constant whole number",
                            ));
                        }
                    },
                };
                let partition = match args.get(1) {
                    None => Vec::new(),
                    Some(restart) => {
                        // Rows are numbered again from `start` where `restart` holds: number
                        // within groups counted by a running sum of restarts.
                        let p = self.predicate(restart, &schema)?;
                        let flag = when(p, lit(1i64)).otherwise(lit(0i64)).map_err(|x| df_err(span, x))?;
                        let sum = Expr::from(WindowFunction::new(
                            WindowFunctionDefinition::AggregateUDF(datafusion::functions_aggregate::sum::sum_udaf()),
                            vec![flag],
                        ));
                        let frame = WindowFrame::new_bounds(
                            WindowFrameUnits::Rows,
                            WindowFrameBound::Preceding(ScalarValue::UInt64(None)),
                            WindowFrameBound::CurrentRow,
                        );
                        let w = ordered(sum, &keys, Vec::new(), Some(frame)).map_err(|x| df_err(span, x))?;
                        let group = fresh(plan, "__wgrp");
                        *plan = add_window(plan.clone(), w, &group, span)?;
                        vec![ident(&group)]
                    }
                };
                let raw = fresh(plan, "__wrn");
                let w = ordered(row_number(), &keys, partition, None).map_err(|x| df_err(span, x))?;
                *plan = add_window(plan.clone(), w, &raw, span)?;
                let mut cols: Vec<Expr> = plan
                    .schema()
                    .fields()
                    .iter()
                    .filter(|f| *f.name() != raw)
                    .map(|f| ident(f.name()))
                    .collect();
                cols.push(
                    (cast(ident(&raw), datafusion::arrow::datatypes::DataType::Int64) + lit(start - 1)).alias(&hidden),
                );
                *plan = LogicalPlanBuilder::from(plan.clone())
                    .project(cols)
                    .and_then(|b| b.build())
                    .map_err(|x| df_err(span, x))?;
            }
        }
        Ok(kql::Expr::Name(kql::Ident::new(hidden, span)))
    }
}

impl Planner<'_> {
    /// `row_window_session(Expr, MaxDistanceFromFirst, MaxDistanceBetweenNeighbors [, Restart])`:
    /// the window call computing each row's session start.
    fn row_window_session(
        &mut self,
        args: &[kql::Expr],
        schema: &datafusion::common::DFSchemaRef,
        span: Span,
    ) -> PResult<(Expr, ())> {
        if !(3..=4).contains(&args.len()) {
            return Err(err(
                span,
                format!("row_window_session() takes 3 or 4 arguments, {} given", args.len()),
            ));
        }
        let value = self.scalar(&args[0], schema)?;
        if self.type_of(&value, schema, args[0].span())? != KqlType::Datetime {
            return Err(err(args[0].span(), "row_window_session() takes a datetime expression"));
        }
        let mut limits = [0i64; 2];
        for (slot, a) in limits.iter_mut().zip(&args[1..3]) {
            *slot = match constant_value(&self.constant(a)?) {
                Some(ScalarValue::DurationNanosecond(Some(d))) => d,
                _ => {
                    return Err(err(
                        a.span(),
                        "row_window_session() takes constant timespans as its distances",
                    ));
                }
            };
        }
        let restart = match args.get(3) {
            Some(r) => self.predicate(r, schema)?,
            None => lit(false),
        };
        let udwf = datafusion::logical_expr::WindowUDF::new_from_impl(SessionStart {
            from_first: limits[0],
            between_neighbors: limits[1],
            signature: datafusion::logical_expr::Signature::any(2, datafusion::logical_expr::Volatility::Immutable),
        });
        let call = Expr::from(WindowFunction::new(
            WindowFunctionDefinition::WindowUDF(std::sync::Arc::new(udwf)),
            vec![value, restart],
        ));
        Ok((call, ()))
    }
}

/// `row_window_session` as a DataFusion window function over the rows in order: a row starts
/// a session when there is no session yet (or its start is null), when it is at or past the
/// start plus `from_first`, at or past the previous value plus `between_neighbors`, or when
/// `Restart` holds (row_window_session page). A null value gives null and ends the session.
#[derive(Debug, PartialEq, Eq, Hash)]
struct SessionStart {
    from_first: i64,
    between_neighbors: i64,
    signature: datafusion::logical_expr::Signature,
}

impl datafusion::logical_expr::WindowUDFImpl for SessionStart {
    fn name(&self) -> &str {
        "row_window_session"
    }
    fn signature(&self) -> &datafusion::logical_expr::Signature {
        &self.signature
    }
    fn partition_evaluator(
        &self,
        _: datafusion::logical_expr::function::PartitionEvaluatorArgs,
    ) -> datafusion::error::Result<Box<dyn datafusion::logical_expr::PartitionEvaluator>> {
        Ok(Box::new(SessionEvaluator {
            from_first: self.from_first,
            between_neighbors: self.between_neighbors,
        }))
    }
    fn field(
        &self,
        field_args: datafusion::logical_expr::function::WindowUDFFieldArgs,
    ) -> datafusion::error::Result<datafusion::arrow::datatypes::FieldRef> {
        Ok(std::sync::Arc::new(datafusion::arrow::datatypes::Field::new(
            field_args.name(),
            crate::types::datetime_type(),
            true,
        )))
    }
}

#[derive(Debug)]
struct SessionEvaluator {
    from_first: i64,
    between_neighbors: i64,
}

impl datafusion::logical_expr::PartitionEvaluator for SessionEvaluator {
    fn evaluate_all(
        &mut self,
        values: &[datafusion::arrow::array::ArrayRef],
        num_rows: usize,
    ) -> datafusion::error::Result<datafusion::arrow::array::ArrayRef> {
        use datafusion::arrow::array::{Array, AsArray, TimestampNanosecondArray};
        use datafusion::arrow::datatypes::{DataType, TimeUnit, TimestampNanosecondType};
        let [v, restart] = values else {
            return Err(datafusion::error::DataFusionError::Execution(
                "row_window_session takes a value and a restart condition".into(),
            ));
        };
        let v = datafusion::arrow::compute::cast(v, &DataType::Timestamp(TimeUnit::Nanosecond, None))?;
        let v = v.as_primitive::<TimestampNanosecondType>();
        let restart = datafusion::arrow::compute::cast(restart, &DataType::Boolean)?;
        let restart = restart.as_boolean();
        let mut out: Vec<Option<i64>> = Vec::with_capacity(num_rows);
        let (mut start, mut previous): (Option<i64>, Option<i64>) = (None, None);
        for i in 0..num_rows.min(v.len()) {
            if v.is_null(i) {
                out.push(None);
                start = None;
                previous = None;
                continue;
            }
            let x = v.value(i);
            let past = |base: Option<i64>, d: i64| base.is_none_or(|b| x >= b.saturating_add(d));
            let restarts = restart.is_valid(i) && restart.value(i);
            if restarts || past(start, self.from_first) || past(previous, self.between_neighbors) {
                start = Some(x);
            }
            previous = Some(x);
            out.push(start);
        }
        out.resize(num_rows, None);
        Ok(std::sync::Arc::new(
            TimestampNanosecondArray::from(out).with_timezone("UTC"),
        ))
    }
}
