//! Scalar expressions: names, literals, operators (with Kusto's string, list and dynamic
//! semantics) and dynamic property access, lowered to DataFusion expressions.

use super::{Binding, PResult, Planner, df_err, err};
use crate::functions::dynamic::{JsonFn, JsonOp, PathStep, parse_value};
use crate::functions::strings::{ListPredicate, ListTest, MatchMode, Matcher, StringPredicate, StringPredicateDyn};
use crate::types::KqlType;
use datafusion::common::{DFSchemaRef, ExprSchema, ScalarValue};
use datafusion::logical_expr::expr::InList;
use datafusion::logical_expr::{Expr, ExprSchemable, Operator, ScalarUDF, binary_expr, lit};
use datafusion::prelude::ident;
use kql::{BinaryOp, ListOp, Span, StringOpKind};
use std::ops::Not;
use std::sync::Arc;

pub fn udf(f: impl datafusion::logical_expr::ScalarUDFImpl + 'static) -> Arc<ScalarUDF> {
    Arc::new(ScalarUDF::new_from_impl(f))
}

pub fn json(name: &str, op: JsonOp, args: Vec<Expr>) -> Expr {
    udf(JsonFn::new(name, op)).call(args)
}

impl Planner<'_> {
    /// The KQL type of a lowered expression.
    pub fn type_of(&self, e: &Expr, schema: &DFSchemaRef, span: Span) -> PResult<KqlType> {
        let dt = e
            .get_type(schema.as_ref() as &dyn ExprSchema)
            .map_err(|x| df_err(span, x))?;
        KqlType::of_arrow(&dt).ok_or_else(|| err(span, format!("values of Arrow type {dt} have no KQL type")))
    }

    /// Converts `e` to `target` where Kusto does so implicitly (dynamic values compared with
    /// strings, numbers, bools, datetimes).
    pub fn coerce(&self, e: Expr, from: KqlType, target: KqlType) -> Expr {
        if from != KqlType::Dynamic || target == KqlType::Dynamic {
            return e;
        }
        match target {
            KqlType::String | KqlType::Guid => json("tostring", JsonOp::ToString, vec![e]),
            KqlType::Long | KqlType::Int => json("tolong", JsonOp::ToLong, vec![e]),
            KqlType::Real | KqlType::Decimal => json("todouble", JsonOp::ToReal, vec![e]),
            KqlType::Bool => json("tobool", JsonOp::ToBool, vec![e]),
            KqlType::Datetime => crate::plan::call::scalar_fn(
                "todatetime",
                crate::functions::scalar::ScalarOp::ParseDatetime,
                vec![json("tostring", JsonOp::ToString, vec![e])],
            ),
            KqlType::Timespan => crate::plan::call::scalar_fn(
                "totimespan",
                crate::functions::scalar::ScalarOp::ParseTimespan,
                vec![json("tostring", JsonOp::ToString, vec![e])],
            ),
            KqlType::Dynamic => e,
        }
    }

    /// Lowers a scalar expression evaluated on rows of `schema`.
    pub fn scalar(&mut self, e: &kql::Expr, schema: &DFSchemaRef) -> PResult<Expr> {
        match e {
            kql::Expr::Literal(l, span) => self.literal(l, *span),
            kql::Expr::Name(n) => self.name(n, schema),
            kql::Expr::Paren(inner, _) => self.scalar(inner, schema),
            kql::Expr::Star(span) => Err(err(*span, "`*` is not a value here")),
            kql::Expr::Pattern(p, span) => Err(err(*span, format!("the name pattern `{p}` is not a value"))),
            kql::Expr::Unary { op, expr, span } => {
                let x = self.scalar(expr, schema)?;
                let t = self.type_of(&x, schema, *span)?;
                if !(t.is_numeric() || t == KqlType::Timespan) {
                    return Err(err(*span, format!("unary minus needs a number or timespan, not {t}")));
                }
                Ok(match op {
                    // Arrow cannot negate durations: a timespan is negated as 0 - x.
                    kql::UnaryOp::Neg if t == KqlType::Timespan => match constant_value(&x) {
                        Some(ScalarValue::DurationNanosecond(d)) => lit(ScalarValue::DurationNanosecond(d.map(|v| -v))),
                        _ => binary_expr(lit(ScalarValue::DurationNanosecond(Some(0))), Operator::Minus, x),
                    },
                    kql::UnaryOp::Neg => Expr::Negative(Box::new(x)),
                    kql::UnaryOp::Plus => x,
                })
            }
            kql::Expr::Logical { op, operands, span } => {
                let mut level = operands
                    .iter()
                    .map(|o| self.predicate(o, schema))
                    .collect::<PResult<Vec<Expr>>>()?;
                // A balanced tree: `and`/`or` are associative (with nulls too), and a chain of
                // 100,000 terms must not nest 100,000 deep for the optimiser's recursion.
                while level.len() > 1 {
                    let mut next = Vec::with_capacity(level.len().div_ceil(2));
                    let mut terms = level.into_iter();
                    while let Some(a) = terms.next() {
                        next.push(match terms.next() {
                            Some(b) if *op == BinaryOp::And => a.and(b),
                            Some(b) => a.or(b),
                            None => a,
                        });
                    }
                    level = next;
                }
                level.pop().ok_or_else(|| err(*span, "empty logical expression"))
            }
            kql::Expr::Binary { op, left, right, span } => self.binary(*op, left, right, *span, schema),
            kql::Expr::List { op, expr, items, span } => self.list_op(*op, expr, items, *span, schema),
            kql::Expr::Between {
                expr,
                negated,
                low,
                high,
                span,
            } => {
                let x = self.scalar(expr, schema)?;
                let (lo, hi) = (self.scalar(low, schema)?, self.scalar(high, schema)?);
                let tx = self.type_of(&x, schema, *span)?;
                let (tl, th) = (
                    self.type_of(&lo, schema, low.span())?,
                    self.type_of(&hi, schema, high.span())?,
                );
                let x = self.coerce(x, tx, tl);
                let lo = self.coerce(lo, tl, tx);
                // `t between (start .. 1d)`: a timespan upper bound counts from the lower one.
                let hi = if tx == KqlType::Datetime && tl == KqlType::Datetime && th == KqlType::Timespan {
                    binary_expr(lo.clone(), Operator::Plus, hi)
                } else {
                    self.coerce(hi, th, tx)
                };
                let inside = x.clone().gt_eq(lo).and(x.lt_eq(hi));
                Ok(if *negated { inside.not() } else { inside })
            }
            kql::Expr::Call {
                receiver,
                name,
                args,
                span,
            } => {
                if receiver.is_some() {
                    return Err(err(
                        *span,
                        "cross-cluster and cross-database references are not supported",
                    ));
                }
                self.call(name, args, *span, schema)
            }
            kql::Expr::Member { .. } | kql::Expr::Index { .. } => self.access(e, schema),
            kql::Expr::Pipeline { span, .. } => {
                Err(err(*span, "a tabular expression cannot be used as a value").help("wrap it in toscalar(...)"))
            }
            kql::Expr::Source(op) => {
                Err(err(op.span, "a tabular expression cannot be used as a value").help("wrap it in toscalar(...)"))
            }
            kql::Expr::Assign { span, name, .. } => Err(err(
                *span,
                format!("`{} = ...` assigns, it does not compare", name.name),
            )
            .help("use `==` to compare")),
        }
    }

    /// A predicate: must be bool (a dynamic value is converted as Kusto does).
    pub fn predicate(&mut self, e: &kql::Expr, schema: &DFSchemaRef) -> PResult<Expr> {
        let x = self.scalar(e, schema)?;
        match self.type_of(&x, schema, e.span())? {
            KqlType::Bool => Ok(x),
            KqlType::Dynamic => Ok(self.coerce(x, KqlType::Dynamic, KqlType::Bool)),
            t => Err(err(e.span(), format!("a predicate must be bool, this is {t}"))),
        }
    }

    fn name(&mut self, n: &kql::Ident, schema: &DFSchemaRef) -> PResult<Expr> {
        if schema.field_with_unqualified_name(&n.name).is_ok() {
            return Ok(ident(&n.name));
        }
        match self.lookup(&n.name) {
            Some(Binding::Scalar(e)) => Ok(e.clone()),
            Some(Binding::Tabular(_)) => Err(err(n.span, format!("`{}` is a table, not a value", n.name))),
            Some(Binding::Function(_)) => Err(err(n.span, format!("`{}` is a function: call it with `()`", n.name))),
            // After a data-dependent operator planned without its data (plan-only checking),
            // any name may be one of its columns: a dynamic null.
            None if super::datadep::is_open(schema) => Ok(lit(ScalarValue::LargeUtf8(None))),
            None => {
                let mut d = err(n.span, format!("unknown column or name `{}`", n.name));
                let cols: Vec<String> = schema.fields().iter().map(|f| f.name().clone()).collect();
                if let Some(h) = self.data_columns_help() {
                    d = d.help(h);
                } else if let Some(s) = kql::diag::closest(&n.name, cols.iter().map(String::as_str)) {
                    d = d.help(format!("did you mean `{s}`?"));
                } else if !cols.is_empty() && cols.len() <= 40 {
                    d = d.help(format!("columns here: {}", cols.join(", ")));
                }
                Err(d)
            }
        }
    }

    fn binary(
        &mut self,
        op: BinaryOp,
        left: &kql::Expr,
        right: &kql::Expr,
        span: Span,
        schema: &DFSchemaRef,
    ) -> PResult<Expr> {
        if let BinaryOp::Str(sop) = op {
            return self.string_op(sop, left, right, span, schema);
        }
        let l = self.scalar(left, schema)?;
        let r = self.scalar(right, schema)?;
        let (tl, tr) = (
            self.type_of(&l, schema, left.span())?,
            self.type_of(&r, schema, right.span())?,
        );
        let (l, r) = (self.coerce(l, tl, tr), self.coerce(r, tr, tl));
        let (tl, tr) = (
            if tl == KqlType::Dynamic { tr } else { tl },
            if tr == KqlType::Dynamic { tl } else { tr },
        );
        let comparable = |a: KqlType, b: KqlType| {
            a == b
                || (a.is_numeric() && b.is_numeric())
                || (a.is_string_like() && b.is_string_like())
                || a == KqlType::Dynamic
                || b == KqlType::Dynamic
        };
        let df_op = match op {
            BinaryOp::Eq => Operator::Eq,
            BinaryOp::NotEq => Operator::NotEq,
            BinaryOp::Lt => Operator::Lt,
            BinaryOp::Le => Operator::LtEq,
            BinaryOp::Gt => Operator::Gt,
            BinaryOp::Ge => Operator::GtEq,
            BinaryOp::EqCi | BinaryOp::NotEqCi => {
                if !(tl.is_string_like() && tr.is_string_like()) {
                    return Err(err(
                        span,
                        format!("`{}` compares strings, not {tl} and {tr}", op.symbol()),
                    ));
                }
                let lower = |x| datafusion::functions::expr_fn::lower(x);
                let o = if op == BinaryOp::EqCi {
                    Operator::Eq
                } else {
                    Operator::NotEq
                };
                return Ok(compare(lower(l), o, lower(r), true));
            }
            BinaryOp::Add => Operator::Plus,
            BinaryOp::Sub => Operator::Minus,
            BinaryOp::Mul => Operator::Multiply,
            BinaryOp::Div => Operator::Divide,
            BinaryOp::Mod => Operator::Modulo,
            BinaryOp::And | BinaryOp::Or | BinaryOp::Str(_) => unreachable!("handled above"),
        };
        match op {
            BinaryOp::Eq | BinaryOp::NotEq | BinaryOp::Lt | BinaryOp::Le | BinaryOp::Gt | BinaryOp::Ge => {
                if comparable(tl, tr) {
                    let strings = tl == KqlType::String && tr == KqlType::String;
                    return Ok(compare(l, df_op, r, strings));
                }
                // Kusto converts the other side where a comparison mixes types it can convert:
                // a string to the number, bool or datetime it is compared with; a bool to a number.
                let convert = |e: Expr, from: KqlType, to: KqlType| -> Option<Expr> {
                    use crate::functions::scalar::ScalarOp as S;
                    let f = |name: &str, op: S| Some(crate::plan::call::scalar_fn(name, op, vec![e.clone()]));
                    match (from, to) {
                        (KqlType::String, KqlType::Long) => f("tolong", S::ParseLong),
                        (KqlType::String, KqlType::Int) => f("toint", S::ParseInt),
                        (KqlType::String, KqlType::Real) => f("toreal", S::ParseReal),
                        (KqlType::String, KqlType::Bool) => f("tobool", S::ParseBool),
                        (KqlType::String, KqlType::Datetime) => f("todatetime", S::ParseDatetime),
                        (KqlType::String, KqlType::Timespan) => f("totimespan", S::ParseTimespan),
                        (KqlType::Bool, t) if t.is_numeric() => Some(datafusion::logical_expr::cast(
                            e.clone(),
                            datafusion::arrow::datatypes::DataType::Int64,
                        )),
                        _ => None,
                    }
                };
                if let Some(r2) = convert(r.clone(), tr, tl) {
                    return Ok(compare(l, df_op, r2, false));
                }
                if let Some(l2) = convert(l.clone(), tl, tr) {
                    return Ok(compare(l2, df_op, r, false));
                }
                Err(err(span, format!("cannot compare {tl} with {tr}")))
            }
            _ => self.arithmetic(op, df_op, l, r, tl, tr, span),
        }
    }

    #[allow(clippy::too_many_arguments)]
    fn arithmetic(
        &self,
        op: BinaryOp,
        df_op: Operator,
        l: Expr,
        r: Expr,
        tl: KqlType,
        tr: KqlType,
        span: Span,
    ) -> PResult<Expr> {
        use KqlType::*;
        let ok = match (tl, tr) {
            (a, b) if a.is_numeric() && b.is_numeric() => true,
            (Datetime, Timespan) | (Timespan, Timespan) => matches!(op, BinaryOp::Add | BinaryOp::Sub),
            (Timespan, Datetime) => op == BinaryOp::Add,
            (Datetime, Datetime) => op == BinaryOp::Sub,
            _ => false,
        };
        if (tl, tr) == (Timespan, Timespan) && op == BinaryOp::Div {
            // timespan / timespan is a real ratio.
            let f = |x| {
                datafusion::logical_expr::cast(
                    datafusion::logical_expr::cast(x, datafusion::arrow::datatypes::DataType::Int64),
                    datafusion::arrow::datatypes::DataType::Float64,
                )
            };
            return Ok(binary_expr(f(l), Operator::Divide, f(r)));
        }
        if (tl == Timespan && tr.is_numeric() && matches!(op, BinaryOp::Mul | BinaryOp::Div))
            || (tl.is_numeric() && tr == Timespan && op == BinaryOp::Mul)
        {
            // timespan * n, timespan / n: scale the nanoseconds.
            let (ts, n) = if tl == Timespan { (l, r) } else { (r, l) };
            let nanos = datafusion::logical_expr::cast(ts, datafusion::arrow::datatypes::DataType::Int64);
            let n = datafusion::logical_expr::cast(n, datafusion::arrow::datatypes::DataType::Float64);
            let scaled = binary_expr(
                datafusion::logical_expr::cast(nanos, datafusion::arrow::datatypes::DataType::Float64),
                df_op,
                n,
            );
            return Ok(datafusion::logical_expr::cast(
                datafusion::logical_expr::cast(scaled, datafusion::arrow::datatypes::DataType::Int64),
                datafusion::arrow::datatypes::DataType::Duration(datafusion::arrow::datatypes::TimeUnit::Nanosecond),
            ));
        }
        if !ok {
            return Err(err(span, format!("`{}` is not defined for {tl} and {tr}", op.symbol())));
        }
        if (tl, tr) == (Timespan, Datetime) {
            return Ok(binary_expr(r, df_op, l));
        }
        // Two integer operands (int or long) give a long (numerical-operators page).
        let (l, r) = if matches!(tl, Int | Long) && matches!(tr, Int | Long) && (tl == Int || tr == Int) {
            let long = |e: Expr, t: KqlType| {
                if t == Int {
                    datafusion::logical_expr::cast(e, datafusion::arrow::datatypes::DataType::Int64)
                } else {
                    e
                }
            };
            (long(l, tl), long(r, tr))
        } else {
            (l, r)
        };
        if op == BinaryOp::Mod {
            // Kusto's modulo is never negative: 0 <= a % b < abs(b).
            return Ok(crate::plan::call::scalar_fn(
                "%",
                crate::functions::scalar::ScalarOp::Modulo,
                vec![l, r],
            ));
        }
        Ok(binary_expr(l, df_op, r))
    }

    /// The constant string values of an expression: a string literal, a `let` constant, or a
    /// dynamic array of strings. `None` when the value is only known at run time.
    pub fn constant_strings(&mut self, e: &kql::Expr, schema: &DFSchemaRef) -> PResult<Option<Vec<String>>> {
        let x = self.scalar(e, schema)?;
        Ok(match constant_value(&x) {
            Some(ScalarValue::Utf8(Some(s))) | Some(ScalarValue::Utf8View(Some(s))) => Some(vec![s]),
            Some(ScalarValue::LargeUtf8(Some(j))) => match parse_value(&j) {
                serde_json::Value::Array(items) => {
                    Some(items.iter().map(crate::functions::dynamic::value_to_string).collect())
                }
                v => Some(vec![crate::functions::dynamic::value_to_string(&v)]),
            },
            Some(ScalarValue::Int64(Some(n))) => Some(vec![n.to_string()]),
            Some(ScalarValue::Int32(Some(n))) => Some(vec![n.to_string()]),
            _ => None,
        })
    }

    fn string_op(
        &mut self,
        sop: kql::StringOp,
        left: &kql::Expr,
        right: &kql::Expr,
        span: Span,
        schema: &DFSchemaRef,
    ) -> PResult<Expr> {
        if let kql::Expr::Star(star) = left {
            return self.any_column_string_op(sop, *star, right, span, schema);
        }
        let l = self.scalar(left, schema)?;
        let tl = self.type_of(&l, schema, left.span())?;
        let l = match tl {
            KqlType::String | KqlType::Guid | KqlType::Dynamic => l,
            _ => crate::plan::call::scalar_fn("tostring", crate::functions::scalar::ScalarOp::ToString, vec![l]),
        };
        let mode = match sop.kind {
            StringOpKind::Has => MatchMode::Term,
            StringOpKind::HasPrefix => MatchMode::TermPrefix,
            StringOpKind::HasSuffix => MatchMode::TermSuffix,
            StringOpKind::Contains => MatchMode::Substring,
            StringOpKind::StartsWith => MatchMode::Prefix,
            StringOpKind::EndsWith => MatchMode::Suffix,
            StringOpKind::MatchesRegex => {
                let r = self.scalar(right, schema)?;
                return crate::plan::call::regex_match(l, r, right.span());
            }
            StringOpKind::Like => {
                return Err(err(
                    span,
                    format!("the obsolete `{}` operator is not supported", sop.keyword()),
                )
                .help("use `contains`, `startswith` or `matches regex`"));
            }
        };
        let name = sop.keyword();
        let pred = match self.constant_strings(right, schema)? {
            Some(mut needles) if needles.len() == 1 => {
                let needle = needles.remove(0);
                let m = Matcher::new(mode, sop.case_sensitive, vec![needle], false).map_err(|e| df_err(span, e))?;
                udf(StringPredicate::new(&name, m)).call(vec![l])
            }
            _ => {
                let r = self.scalar(right, schema)?;
                let tr = self.type_of(&r, schema, right.span())?;
                let r = match tr {
                    KqlType::String | KqlType::Guid => r,
                    KqlType::Dynamic => self.coerce(r, tr, KqlType::String),
                    _ => {
                        crate::plan::call::scalar_fn("tostring", crate::functions::scalar::ScalarOp::ToString, vec![r])
                    }
                };
                udf(StringPredicateDyn::new(&name, mode, sop.case_sensitive)).call(vec![l, r])
            }
        };
        // A missing value is the empty string here, which no term or substring is found in.
        let pred = datafusion::functions::expr_fn::coalesce(vec![pred, lit(false)]);
        Ok(if sop.negated { pred.not() } else { pred })
    }

    /// `* has "x"`: true when any string or dynamic column satisfies the operator.
    fn any_column_string_op(
        &mut self,
        sop: kql::StringOp,
        star: Span,
        right: &kql::Expr,
        span: Span,
        schema: &DFSchemaRef,
    ) -> PResult<Expr> {
        if sop.negated {
            return Err(err(
                span,
                format!(
                    "`* {}` (a negated operator over every column) is not supported",
                    sop.keyword()
                ),
            ));
        }
        let columns: Vec<String> = schema
            .fields()
            .iter()
            .filter(|f| {
                matches!(
                    f.data_type(),
                    datafusion::arrow::datatypes::DataType::Utf8 | datafusion::arrow::datatypes::DataType::Utf8View
                ) || KqlType::of_arrow(f.data_type()) == Some(KqlType::Dynamic)
            })
            .map(|f| f.name().clone())
            .collect();
        let mut out: Option<Expr> = None;
        for c in columns {
            let one = self.string_op(sop, &kql::Expr::Name(kql::Ident::new(c, star)), right, span, schema)?;
            out = Some(match out {
                None => one,
                Some(acc) => acc.or(one),
            });
        }
        Ok(out.unwrap_or(lit(false)))
    }

    fn list_op(
        &mut self,
        op: ListOp,
        expr: &kql::Expr,
        items: &[kql::Expr],
        span: Span,
        schema: &DFSchemaRef,
    ) -> PResult<Expr> {
        let x = self.scalar(expr, schema)?;
        let tx = self.type_of(&x, schema, expr.span())?;
        if matches!(op, ListOp::HasAny | ListOp::HasAll) {
            let mut needles = Vec::new();
            for it in items {
                let constant = if self.is_tabular(it) {
                    None
                } else {
                    self.constant_strings(it, schema)?
                };
                match constant {
                    Some(v) => needles.extend(v),
                    None if items.len() == 1 => {
                        // A list known only at run time: a sub-query or a computed dynamic array.
                        let list = self.runtime_list(it, schema)?;
                        let x = self.coerce(x, tx, KqlType::String);
                        let test = if op == ListOp::HasAll {
                            ListTest::HasAll
                        } else {
                            ListTest::HasAny
                        };
                        let pred = udf(ListPredicate::new(op.keyword(), test)).call(vec![x, list]);
                        return Ok(datafusion::functions::expr_fn::coalesce(vec![pred, lit(false)]));
                    }
                    None => {
                        return Err(err(
                            it.span(),
                            format!(
                                "`{}` takes constant values, or a single list computed at run time",
                                op.keyword()
                            ),
                        ));
                    }
                }
            }
            let x = match tx {
                KqlType::String | KqlType::Guid | KqlType::Dynamic => x,
                _ => crate::plan::call::scalar_fn("tostring", crate::functions::scalar::ScalarOp::ToString, vec![x]),
            };
            if needles.is_empty() {
                // has_any of nothing is false; has_all of nothing is true.
                return Ok(lit(op == ListOp::HasAll));
            }
            let m = Matcher::new(MatchMode::Term, false, needles, op == ListOp::HasAll).map_err(|e| df_err(span, e))?;
            // A missing value is the empty string: it has no terms.
            let pred = udf(StringPredicate::new(op.keyword(), m)).call(vec![x]);
            return Ok(datafusion::functions::expr_fn::coalesce(vec![pred, lit(false)]));
        }
        let ci = matches!(op, ListOp::InCi | ListOp::NotInCi);
        let negated = matches!(op, ListOp::NotIn | ListOp::NotInCi);
        // A single tabular item: `x in (T | project c)`.
        if let [one] = items
            && self.is_tabular(one)
        {
            let sub = self.tabular(one)?;
            let first = sub.schema().field(0).name().clone();
            let sub = datafusion::logical_expr::LogicalPlanBuilder::from(sub)
                .project(vec![if ci {
                    datafusion::functions::expr_fn::lower(ident(&first))
                } else {
                    ident(&first)
                }])
                .and_then(|b| b.build())
                .map_err(|e| df_err(span, e))?;
            let x = if ci {
                datafusion::functions::expr_fn::lower(x)
            } else {
                x
            };
            let q = datafusion::logical_expr::Subquery {
                subquery: Arc::new(sub),
                outer_ref_columns: vec![],
                spans: Default::default(),
            };
            return Ok(Expr::InSubquery(datafusion::logical_expr::expr::InSubquery::new(
                Box::new(x),
                q,
                negated,
            )));
        }
        let mut list = Vec::new();
        for it in items {
            let v = self.scalar(it, schema)?;
            let tv = self.type_of(&v, schema, it.span())?;
            if tv == KqlType::Dynamic {
                // A dynamic array contributes its elements.
                match constant_value(&v) {
                    Some(ScalarValue::LargeUtf8(Some(j))) => match parse_value(&j) {
                        serde_json::Value::Array(elems) => {
                            for el in elems {
                                list.push(json_scalar(&el, tx));
                            }
                        }
                        other => list.push(json_scalar(&other, tx)),
                    },
                    _ if items.len() == 1 => {
                        let test = if ci { ListTest::InCi } else { ListTest::In };
                        let pred = udf(ListPredicate::new(op.keyword(), test)).call(vec![x, v]);
                        return Ok(if negated { pred.not() } else { pred });
                    }
                    _ => {
                        return Err(err(
                            it.span(),
                            "a list computed at run time must be the only item of `in`",
                        ));
                    }
                }
            } else {
                list.push(self.coerce(v, tv, tx));
            }
        }
        let x = self.coerce(x, tx, KqlType::String);
        let (x, list) = if ci {
            let lower = datafusion::functions::expr_fn::lower;
            (lower(x), list.into_iter().map(lower).collect())
        } else {
            (x, list)
        };
        // `in` is an `or` of `==` and `!in` an `and` of `!=` (the "Null values" page), and
        // `==` with exactly one null side is false: a null never makes the result null unless
        // both sides of some comparison are null.
        let strings = tx == KqlType::String;
        let is_null_item = |e: &Expr| constant_value(e).is_some_and(|v| v.is_null());
        let is_empty_item = |e: &Expr| matches!(constant_value(e), Some(ScalarValue::Utf8(Some(t)) | ScalarValue::Utf8View(Some(t))) if t.is_empty());
        if list.iter().all(|e| constant_value(e).is_some()) && !list.iter().any(is_null_item) {
            // Constant items, none null: a null value (for strings, a missing "") matches an
            // item only when the item is "". Plain `in` with null tests, which Parquet pruning
            // understands.
            let missing_matches = strings && list.iter().any(is_empty_item);
            let inside = Expr::InList(InList::new(Box::new(x.clone()), list, negated));
            return Ok(match (negated, missing_matches) {
                (false, false) => inside.and(x.is_not_null()),
                (false, true) => inside.or(x.is_null()),
                (true, false) => inside.or(x.is_null()),
                (true, true) => inside.and(x.is_not_null()),
            });
        }
        let (x, list) = if strings {
            let empty = |e: Expr| datafusion::functions::expr_fn::coalesce(vec![e, lit("")]);
            (empty(x), list.into_iter().map(empty).collect())
        } else {
            (x, list)
        };
        // `null in (..., null)`: the `==` of two nulls is null. Constant items are known now
        // (a long list stays one test); computed items are tested per row.
        let any_null_item = if list.iter().any(is_null_item) {
            lit(true)
        } else {
            list.iter()
                .filter(|e| constant_value(e).is_none())
                .map(|e| e.clone().is_null())
                .reduce(Expr::or)
                .unwrap_or(lit(false))
        };
        let found = datafusion::functions::expr_fn::coalesce(vec![
            Expr::InList(InList::new(Box::new(x.clone()), list, negated)),
            lit(negated),
        ]);
        if strings {
            return Ok(found);
        }
        datafusion::logical_expr::when(x.is_null().and(any_null_item), lit(ScalarValue::Boolean(None)))
            .otherwise(found)
            .map_err(|e| df_err(span, e))
    }

    /// A list operand computed at run time: a dynamic expression, or a sub-query's first column
    /// collected with make_set.
    fn runtime_list(&mut self, it: &kql::Expr, schema: &DFSchemaRef) -> PResult<Expr> {
        if self.is_tabular(it) {
            let plan = self.tabular(it)?;
            let first = plan.schema().field(0).name().clone();
            let set = Arc::new(datafusion::logical_expr::AggregateUDF::new_from_impl(
                crate::functions::aggregate::CollectUdaf::new(
                    "make_set",
                    crate::functions::aggregate::Collect::Set,
                    1_048_576,
                ),
            ))
            .call(vec![ident(&first)]);
            let sub = datafusion::logical_expr::LogicalPlanBuilder::from(plan)
                .aggregate(Vec::<Expr>::new(), vec![set.alias("list")])
                .and_then(|b| b.build())
                .map_err(|e| df_err(it.span(), e))?;
            if let Some(stored) = self.static_scalar(&sub) {
                return Ok(stored);
            }
            return Ok(Expr::ScalarSubquery(datafusion::logical_expr::Subquery {
                subquery: Arc::new(sub),
                outer_ref_columns: vec![],
                spans: Default::default(),
            }));
        }
        let v = self.scalar(it, schema)?;
        match self.type_of(&v, schema, it.span())? {
            KqlType::Dynamic => Ok(v),
            t => Err(err(
                it.span(),
                format!("expected a list (a dynamic array), this is {t}"),
            )),
        }
    }

    /// `d.a[0]["b"]`: one JSON lookup with the whole literal path.
    fn access(&mut self, e: &kql::Expr, schema: &DFSchemaRef) -> PResult<Expr> {
        let mut path = Vec::new();
        let mut cur = e;
        loop {
            match cur {
                kql::Expr::Member { expr, name, .. } => {
                    path.push(PathStep::Key(name.name.clone()));
                    cur = expr;
                }
                kql::Expr::Index { expr, index, .. } => match &**index {
                    kql::Expr::Literal(kql::Literal::String { value, .. }, _) => {
                        path.push(PathStep::Key(value.clone()));
                        cur = expr;
                    }
                    kql::Expr::Literal(kql::Literal::Long(Some(i)), _) => {
                        path.push(PathStep::Index(*i));
                        cur = expr;
                    }
                    kql::Expr::Unary {
                        op: kql::UnaryOp::Neg,
                        expr: inner,
                        ..
                    } if matches!(**inner, kql::Expr::Literal(kql::Literal::Long(Some(_)), _)) => {
                        if let kql::Expr::Literal(kql::Literal::Long(Some(i)), _) = **inner {
                            path.push(PathStep::Index(-i));
                        }
                        cur = expr;
                    }
                    _ => {
                        // A computed index: look up the rest of the path first.
                        path.reverse();
                        let base = self.access_root(expr, schema)?;
                        let base = if path.is_empty() {
                            base
                        } else {
                            json("get", JsonOp::Get(path.clone()), vec![base])
                        };
                        let k = self.scalar(index, schema)?;
                        let _ = path;
                        return Ok(json("get", JsonOp::GetDyn, vec![base, k]));
                    }
                },
                _ => break,
            }
        }
        if let kql::Expr::Name(n) = cur
            && (n.name == "$left" || n.name == "$right")
        {
            return Err(err(
                n.span,
                format!("`{}` can only be used in a join's `on` clause", n.name),
            ));
        }
        path.reverse();
        let base = self.access_root(cur, schema)?;
        Ok(json("get", JsonOp::Get(path), vec![base]))
    }

    fn access_root(&mut self, root: &kql::Expr, schema: &DFSchemaRef) -> PResult<Expr> {
        let base = self.scalar(root, schema)?;
        match self.type_of(&base, schema, root.span())? {
            KqlType::Dynamic => Ok(base),
            t => Err(err(
                root.span(),
                format!("property access needs a dynamic value, this is {t}"),
            )
            .help("convert it first: parse_json(...)")),
        }
    }
}

/// A comparison with Kusto's null rules (the "Null values" page): `<`, `<=`, `>`, `>=` are null
/// when either side is null; `==` is false and `!=` true when exactly one side is null, and both
/// are null when both sides are. Strings have no null in Kusto: a missing string is `""`.
fn compare(l: Expr, op: Operator, r: Expr, strings: bool) -> Expr {
    let known = |e: &Expr| constant_value(e).filter(|v| !v.is_null());
    // A column compared with a non-null constant: written with plain `=` / `!=` and null tests,
    // which Parquet pruning understands (`is not distinct from` and `coalesce` it does not).
    let with_constant = match (known(&l), known(&r)) {
        (_, Some(c)) => Some((l.clone(), c, r.clone())),
        (Some(c), None) => Some((r.clone(), c, l.clone())),
        (None, None) => None,
    };
    if let Some((e, c, c_expr)) = with_constant
        && matches!(op, Operator::Eq | Operator::NotEq)
    {
        let empty = strings
            && matches!(&c, ScalarValue::Utf8(Some(t)) | ScalarValue::Utf8View(Some(t)) | ScalarValue::LargeUtf8(Some(t)) if t.is_empty());
        let cmp = binary_expr(e.clone(), op, c_expr);
        return match (op == Operator::Eq, empty) {
            // A missing string is "": `s == ""` holds for it, `s != ""` does not.
            (true, true) => cmp.or(e.is_null()),
            (false, true) => cmp.and(e.is_not_null()),
            // Otherwise a null side makes `==` false and `!=` true.
            (true, false) => cmp.and(e.is_not_null()),
            (false, false) => cmp.or(e.is_null()),
        };
    }
    let (l, r) = if strings {
        let empty = |e: Expr| match constant_value(&e) {
            Some(v) if !v.is_null() => e,
            _ => datafusion::functions::expr_fn::coalesce(vec![e, lit("")]),
        };
        (empty(l), empty(r))
    } else {
        (l, r)
    };
    let distinct = match op {
        Operator::Eq => Operator::IsNotDistinctFrom,
        Operator::NotEq => Operator::IsDistinctFrom,
        _ => return binary_expr(l, op, r),
    };
    if strings {
        // Neither side is null after `coalesce`.
        return binary_expr(l, distinct, r);
    }
    let both_null = l.clone().is_null().and(r.clone().is_null());
    let plain = binary_expr(l.clone(), op, r.clone());
    datafusion::logical_expr::when(both_null, lit(ScalarValue::Boolean(None)))
        .otherwise(binary_expr(l, distinct, r))
        .unwrap_or(plain)
}

/// The value of a constant expression (a literal, possibly behind an alias or cast of a literal).
pub fn constant_value(e: &Expr) -> Option<ScalarValue> {
    match e {
        Expr::Literal(v, _) => Some(v.clone()),
        Expr::Alias(a) => constant_value(&a.expr),
        Expr::Negative(inner) => match constant_value(inner)? {
            ScalarValue::DurationNanosecond(d) => Some(ScalarValue::DurationNanosecond(d.map(|x| -x))),
            v => v.arithmetic_negate().ok(),
        },
        _ => None,
    }
}

/// A JSON element as a literal of the list's element type.
fn json_scalar(v: &serde_json::Value, target: KqlType) -> Expr {
    use serde_json::Value;
    match (v, target) {
        (Value::String(s), _) => lit(s.clone()),
        (Value::Number(n), KqlType::Real) => lit(n.as_f64().unwrap_or(f64::NAN)),
        (Value::Number(n), _) if n.is_i64() => lit(n.as_i64().unwrap_or_default()),
        (Value::Number(n), _) => lit(n.as_f64().unwrap_or(f64::NAN)),
        (Value::Bool(b), _) => lit(*b),
        (other, _) => lit(other.to_string()),
    }
}
