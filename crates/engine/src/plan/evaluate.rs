//! `evaluate` plugins: `ipv4_lookup` here; `bag_unpack` and `pivot`, whose columns depend on
//! the data, in `datadep`.

use super::ops::{build, names_of, project};
use super::{PResult, Planner, err};
use crate::functions::library::LibOp;
use datafusion::common::{Column, TableReference};
use datafusion::logical_expr::{Expr, JoinType, LogicalPlan, LogicalPlanBuilder};
use kql::Span;

impl Planner<'_> {
    pub(super) fn evaluate(
        &mut self,
        plan: LogicalPlan,
        params: &[kql::OpParam],
        call: &kql::Expr,
        schema: Option<&kql::ParamType>,
        span: Span,
    ) -> PResult<LogicalPlan> {
        if let Some(p) = params.iter().find(|p| !p.name.name.starts_with("hint.")) {
            return Err(err(
                p.name.span,
                format!("unknown evaluate parameter `{}`", p.name.name),
            ));
        }
        let kql::Expr::Call { name, args, .. } = call else {
            return Err(err(call.span(), "evaluate takes a plugin call"));
        };
        match name.name.as_str() {
            "bag_unpack" => self.bag_unpack(plan, args, schema, span),
            "pivot" => self.pivot(plan, args, schema, span),
            _ if schema.is_some() => Err(err(
                name.span,
                format!("the `{}` plugin takes no output schema", name.name),
            )),
            "ipv4_lookup" => self.ipv4_lookup(plan, args, span),
            other => Err(err(
                name.span,
                format!("the `{other}` plugin of `evaluate` is not supported yet"),
            )),
        }
    }

    /// `ipv4_lookup(LookupTable, SourceIPv4Key, LookupKey [, return_unmatched])`: the rows of the
    /// input joined with the lookup rows whose (masked) address contains the source address.
    fn ipv4_lookup(&mut self, plan: LogicalPlan, args: &[kql::Arg], span: Span) -> PResult<LogicalPlan> {
        let mut positional = Vec::new();
        let mut unmatched: Option<&kql::Expr> = None;
        for a in args {
            match a {
                kql::Arg::Named(n, e) if n.name == "return_unmatched" => unmatched = Some(e),
                kql::Arg::Named(n, _) => {
                    return Err(err(n.span, format!("unknown ipv4_lookup argument `{}`", n.name)));
                }
                kql::Arg::Positional(e) => positional.push(e),
            }
        }
        if positional.len() == 4 && unmatched.is_none() {
            unmatched = positional.pop();
        }
        let [table, source_key, lookup_key] = positional.as_slice() else {
            return Err(err(
                span,
                "ipv4_lookup takes a lookup table, the source column, the lookup column and optionally return_unmatched",
            ));
        };
        let keep_unmatched = match unmatched {
            None => false,
            Some(kql::Expr::Literal(kql::Literal::Bool(Some(b)), _)) => *b,
            Some(e) => return Err(err(e.span(), "return_unmatched takes true or false")),
        };
        let (kql::Expr::Name(src), kql::Expr::Name(key)) = (source_key, lookup_key) else {
            return Err(err(
                span,
                "ipv4_lookup takes column names for the source and lookup keys",
            ));
        };
        let lookup = self.tabular(table)?;
        let (lnames, rnames) = (names_of(&plan), names_of(&lookup));
        if !lnames.contains(&src.name) {
            return Err(self.unknown_column(&src.name, src.span, &lnames));
        }
        if !rnames.contains(&key.name) {
            return Err(self
                .unknown_column(&key.name, key.span, &rnames)
                .help("(a column of the lookup table)".to_string()));
        }
        let (lq, rq) = (TableReference::bare("__source"), TableReference::bare("__lookup"));
        let l = build(LogicalPlanBuilder::from(plan).alias(lq.clone()), span)?;
        let r = build(LogicalPlanBuilder::from(lookup).alias(rq.clone()), span)?;
        let lcol = |n: &str| Expr::Column(Column::new(Some(lq.clone()), n));
        let rcol = |n: &str| Expr::Column(Column::new(Some(rq.clone()), n));
        let text = |e: Expr| datafusion::logical_expr::cast(e, datafusion::arrow::datatypes::DataType::Utf8);
        let matches = super::call::lib(
            "ipv4_is_in_range",
            LibOp::Ipv4IsInRange,
            vec![text(lcol(&src.name)), text(rcol(&key.name))],
        );
        let jt = if keep_unmatched {
            JoinType::Left
        } else {
            JoinType::Inner
        };
        let joined = build(
            LogicalPlanBuilder::from(l).join_on(r, jt, vec![matches.is_true()]),
            span,
        )?;
        // The input's columns, then the lookup table's (a clashing name gets a number, as in join).
        let mut out: Vec<Expr> = lnames.iter().map(|n| lcol(n).alias(n)).collect();
        let mut taken = lnames.clone();
        for n in &rnames {
            let name = super::ops::unclashed(n, &taken);
            out.push(rcol(n).alias(&name));
            taken.push(name);
        }
        project(joined, out, span)
    }
}
