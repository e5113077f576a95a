//! `join` and `lookup`: the join kinds with Kusto's key matching and column naming.

use super::{build, names_of, project, unclashed};
use crate::plan::{PResult, Planner, err};
use datafusion::arrow::datatypes::DataType;
use datafusion::common::{Column, JoinType, ScalarValue, TableReference};
use datafusion::logical_expr::{Expr, LogicalPlan, LogicalPlanBuilder, lit};
use datafusion::prelude::ident;
use kql::Span;

impl Planner<'_> {
    pub(super) fn join(
        &mut self,
        left: LogicalPlan,
        params: &[kql::OpParam],
        right: &kql::Expr,
        on: &[kql::Expr],
        span: Span,
        lookup: bool,
    ) -> PResult<LogicalPlan> {
        let mut kind = if lookup {
            "leftouter".to_string()
        } else {
            "innerunique".to_string()
        };
        for p in params {
            match (p.name.name.as_str(), &p.value) {
                ("kind", kql::Expr::Name(v)) => kind = v.name.clone(),
                (n, _) if n.starts_with("hint.") => {}
                (n, _) => return Err(err(p.name.span, format!("unknown join parameter `{n}`"))),
            }
        }
        let jt = match (kind.as_str(), lookup) {
            ("innerunique" | "inner", _) => JoinType::Inner,
            ("leftouter", _) => JoinType::Left,
            ("rightouter", false) => JoinType::Right,
            ("fullouter", false) => JoinType::Full,
            ("leftanti" | "anti" | "leftantisemi", false) => JoinType::LeftAnti,
            ("rightanti" | "rightantisemi", false) => JoinType::RightAnti,
            ("leftsemi", false) => JoinType::LeftSemi,
            ("rightsemi", false) => JoinType::RightSemi,
            (k, _) => {
                return Err(err(
                    span,
                    format!("unknown {} kind `{k}`", if lookup { "lookup" } else { "join" }),
                ));
            }
        };
        let right_plan = self.tabular(right)?;
        let (lnames, rnames) = (names_of(&left), names_of(&right_plan));
        let mut keys: Vec<(String, String)> = Vec::new();
        let mut flat = Vec::new();
        for c in on {
            flatten_and(c, &mut flat);
        }
        for c in flat {
            let pair = match c {
                kql::Expr::Name(n) => (n.name.clone(), n.name.clone()),
                kql::Expr::Binary {
                    op: kql::BinaryOp::Eq,
                    left: a,
                    right: b,
                    ..
                } => match (side_column(a), side_column(b)) {
                    (Some(("$left", x)), Some(("$right", y))) | (Some(("$right", y)), Some(("$left", x))) => (x, y),
                    _ => return Err(err(c.span(), "join conditions compare `$left.Column == $right.Column`")),
                },
                other => {
                    return Err(err(
                        other.span(),
                        "join conditions are column names or `$left.a == $right.b`",
                    ));
                }
            };
            if !lnames.contains(&pair.0) {
                return Err(self
                    .unknown_column(&pair.0, c.span(), &lnames)
                    .help("(on the left side of the join)".to_string()));
            }
            if !rnames.contains(&pair.1) {
                return Err(self.unknown_column(&pair.1, c.span(), &rnames));
            }
            keys.push(pair);
        }
        if keys.is_empty() {
            return Err(err(span, "a join needs at least one key"));
        }
        // innerunique keeps one left row per key (Kusto's default join).
        let left = if kind == "innerunique" {
            let on_exprs = keys.iter().map(|(l, _)| ident(l)).collect();
            build(
                LogicalPlanBuilder::from(left).distinct_on(on_exprs, lnames.iter().map(ident).collect(), None),
                span,
            )?
        } else {
            left
        };
        let (lq, rq) = (TableReference::bare("__left"), TableReference::bare("__right"));
        let l = build(LogicalPlanBuilder::from(left).alias(lq.clone()), span)?;
        let r = build(LogicalPlanBuilder::from(right_plan).alias(rq.clone()), span)?;
        let lcol = |n: &str| Expr::Column(Column::new(Some(lq.clone()), n));
        let rcol = |n: &str| Expr::Column(Column::new(Some(rq.clone()), n));
        let on_exprs: Vec<Expr> = keys.iter().map(|(a, b)| lcol(a).eq(rcol(b))).collect();
        let joined = build(LogicalPlanBuilder::from(l).join_on(r, jt, on_exprs), span)?;
        // An outer join's unmatched side is null, but Kusto strings have no null: its string
        // columns are empty (join operator page, leftouter/rightouter/fullouter examples).
        let jschema = joined.schema().clone();
        let outer_side = |c: Expr, side_is_outer: bool| -> Expr {
            if !side_is_outer {
                return c;
            }
            match datafusion::logical_expr::ExprSchemable::get_type(&c, jschema.as_ref()) {
                Ok(DataType::Utf8) => datafusion::functions::expr_fn::coalesce(vec![c, lit("")]),
                Ok(DataType::Utf8View) => {
                    datafusion::functions::expr_fn::coalesce(vec![c, lit(ScalarValue::Utf8View(Some(String::new())))])
                }
                _ => c,
            }
        };
        let left_outer = matches!(jt, JoinType::Right | JoinType::Full);
        let right_outer = matches!(jt, JoinType::Left | JoinType::Full);
        let out: Vec<Expr> = match jt {
            JoinType::LeftSemi | JoinType::LeftAnti => lnames.iter().map(|n| lcol(n).alias(n)).collect(),
            JoinType::RightSemi | JoinType::RightAnti => rnames.iter().map(|n| rcol(n).alias(n)).collect(),
            _ => {
                let mut out: Vec<Expr> = lnames
                    .iter()
                    .map(|n| outer_side(lcol(n), left_outer).alias(n))
                    .collect();
                let mut taken = lnames.clone();
                for n in &rnames {
                    if lookup && keys.iter().any(|(_, r)| r == n) {
                        continue;
                    }
                    let name = unclashed(n, &taken);
                    out.push(outer_side(rcol(n), right_outer).alias(&name));
                    taken.push(name);
                }
                out
            }
        };
        project(joined, out, span)
    }
}

pub(super) fn flatten_and<'e>(e: &'e kql::Expr, out: &mut Vec<&'e kql::Expr>) {
    match e {
        kql::Expr::Logical {
            op: kql::BinaryOp::And,
            operands,
            ..
        } => operands.iter().for_each(|o| flatten_and(o, out)),
        kql::Expr::Paren(inner, _) => flatten_and(inner, out),
        other => out.push(other),
    }
}

/// `$left.Column` → ("$left", "Column").
pub(super) fn side_column(e: &kql::Expr) -> Option<(&str, String)> {
    match e {
        kql::Expr::Member { expr, name, .. } => match &**expr {
            kql::Expr::Name(side) if side.name == "$left" || side.name == "$right" => {
                Some((side.name.as_str(), name.name.clone()))
            }
            _ => None,
        },
        _ => None,
    }
}
