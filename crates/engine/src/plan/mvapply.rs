//! `mv-apply`: each input row's arrays are expanded into a sub-table, the subquery runs on
//! each sub-table, and its rows are joined back with the row's other columns.
//!
//! Lowered on the whole table at once: every input row gets an id, the arrays are unnested
//! (zipped, shorter ones padded with null, as Kusto does), and each sub-operator is applied per
//! row id: `summarize` groups by the id too (without `by` keys it gives one row per input row,
//! as it does on an empty sub-table), `top`/`take` rank within the id, `sort` sets the order
//! within it. The result is ordered by input row, then by the sub-table's order.

use super::expr::json;
use super::ops::{build, implicit_name, names_of, project};
use super::{PResult, Planner, df_err, err};
use crate::functions::dynamic::JsonOp;
use crate::types::KqlType;
use datafusion::arrow::datatypes::DataType;
use datafusion::common::{Column, JoinType, TableReference, UnnestOptions};
use datafusion::functions_window::expr_fn::row_number;
use datafusion::logical_expr::{Expr, ExprFunctionExt, LogicalPlan, LogicalPlanBuilder, SortExpr, cast, lit, when};
use datafusion::prelude::ident;
use kql::{Operator, OperatorKind as K, Span};

const RID: &str = "__mva_rid";
const POS: &str = "__mva_pos";

/// The state of the subquery: `[RID, outer..., sub..., hidden...]`.
struct Sub {
    plan: LogicalPlan,
    outer: Vec<String>,
    sub: Vec<String>,
    /// Hidden columns that order the rows within a sub-table: (name, ascending, nulls first).
    order: Vec<(String, bool, bool)>,
}

impl Sub {
    fn hidden(&self) -> Vec<String> {
        let mut h: Vec<String> = self.order.iter().map(|(n, _, _)| n.clone()).collect();
        if !h.iter().any(|n| n == POS) && self.plan.schema().field_with_unqualified_name(POS).is_ok() {
            h.push(POS.to_string());
        }
        h
    }

    fn reserved(&self, name: &str) -> bool {
        name == RID || self.outer.iter().any(|o| o == name) || name.starts_with("__mva_")
    }

    /// Re-projects to the layout, with `sub` as the visible sub-table columns.
    fn relayout(&mut self, span: Span) -> PResult<()> {
        let hidden = self.hidden();
        let cols: Vec<Expr> = std::iter::once(RID.to_string())
            .chain(self.outer.iter().cloned())
            .chain(self.sub.iter().cloned())
            .chain(hidden)
            .map(ident)
            .collect();
        self.plan = project(self.plan.clone(), cols, span)?;
        Ok(())
    }

    fn fresh(&self, base: &str) -> String {
        let schema = self.plan.schema();
        (0..)
            .map(|i| format!("{base}{i}"))
            .find(|n| schema.field_with_unqualified_name(n).is_err())
            .unwrap_or_else(|| base.to_string())
    }

    fn order_keys(&self) -> Vec<SortExpr> {
        self.order
            .iter()
            .map(|(n, asc, nf)| SortExpr::new(ident(n), *asc, *nf))
            .collect()
    }

    /// Keeps the first `n` rows of each sub-table in `keys` order.
    fn keep_first(&mut self, n: usize, keys: Vec<SortExpr>, span: Span) -> PResult<()> {
        let rank = self.fresh("__mva_rank");
        let mut w = row_number().partition_by(vec![ident(RID)]);
        if !keys.is_empty() {
            w = w.order_by(keys);
        }
        let w = w.build().map_err(|e| df_err(span, e))?;
        let ranked = build(
            LogicalPlanBuilder::from(self.plan.clone()).window(vec![w.alias(&rank)]),
            span,
        )?;
        self.plan = build(
            LogicalPlanBuilder::from(ranked).filter(ident(&rank).lt_eq(lit(n as u64))),
            span,
        )?;
        self.relayout(span)
    }
}

impl Planner<'_> {
    #[allow(clippy::too_many_arguments)]
    pub(super) fn mv_apply(
        &mut self,
        plan: LogicalPlan,
        params: &[kql::OpParam],
        items: &[kql::ExpandItem],
        limit: Option<&kql::Expr>,
        id: Option<&kql::Ident>,
        on: &[Operator],
        span: Span,
    ) -> PResult<LogicalPlan> {
        let mut index_name = None;
        for p in params {
            match (p.name.name.as_str(), &p.value) {
                ("with_itemindex", kql::Expr::Name(n)) => index_name = Some(n.name.clone()),
                (n, _) => {
                    return Err(err(
                        p.name.span,
                        format!("mv-apply parameter `{n}` is not supported yet"),
                    ));
                }
            }
        }
        if let Some(i) = id {
            return Err(err(i.span, "mv-apply `id =` is not supported yet"));
        }
        let row_limit = match limit {
            Some(l) => Some(self.const_count(l)?),
            None => None,
        };
        if items.is_empty() {
            return Err(err(span, "mv-apply needs at least one array to expand"));
        }
        let input_names = names_of(&plan);
        // Every input row gets an id.
        let w = row_number();
        let numbered = build(LogicalPlanBuilder::from(plan).window(vec![w.alias("__mva_rn")]), span)?;
        let mut cols: Vec<Expr> = input_names.iter().map(ident).collect();
        cols.push(cast(ident("__mva_rn"), DataType::Int64).alias(RID));
        let numbered = project(numbered, cols, span)?;
        let schema = numbered.schema().clone();
        // The expanded values: names, element lists, target types.
        let mut expanded: Vec<(String, Expr, Option<KqlType>)> = Vec::new();
        for item in items {
            let e = self.scalar(&item.expr, &schema)?;
            let t = self.type_of(&e, &schema, item.expr.span())?;
            if t != KqlType::Dynamic {
                return Err(err(
                    item.expr.span(),
                    format!("mv-apply expands a dynamic array, this is {t}"),
                ));
            }
            let name = match &item.name {
                Some(n) => n.name.clone(),
                None => implicit_name(&item.expr)
                    .ok_or_else(|| err(item.expr.span(), "name the expanded value: `Name = expression`"))?,
            };
            if expanded.iter().any(|(n, _, _)| *n == name) {
                return Err(err(item.expr.span(), format!("mv-apply expands `{name}` twice")));
            }
            let target = match &item.to_type {
                None => None,
                Some(ty) => Some(
                    KqlType::from_name(&ty.name).ok_or_else(|| err(ty.span, format!("unknown type `{}`", ty.name)))?,
                ),
            };
            expanded.push((name, json("elements", JsonOp::Elements, vec![e]), target));
        }
        let outer: Vec<String> = input_names
            .iter()
            .filter(|n| !expanded.iter().any(|(e, _, _)| e == *n) && index_name.as_deref() != Some(n.as_str()))
            .cloned()
            .collect();
        let ids = project(
            numbered.clone(),
            std::iter::once(ident(RID)).chain(outer.iter().map(ident)).collect(),
            span,
        )?;
        // Lists, plus the positions 0..longest, unnested together (zipped, padded with null).
        let lens: Vec<Expr> = expanded
            .iter()
            .map(|(_, l, _)| {
                cast(
                    datafusion::functions_nested::expr_fn::cardinality(l.clone()),
                    DataType::Int64,
                )
            })
            .collect();
        let longest = if lens.len() == 1 {
            lens[0].clone()
        } else {
            datafusion::functions::expr_fn::greatest(lens)
        };
        let longest = datafusion::functions::expr_fn::coalesce(vec![longest, lit(0i64)]);
        let mut cols: Vec<Expr> = std::iter::once(ident(RID)).chain(outer.iter().map(ident)).collect();
        let mut list_cols = Vec::new();
        for (i, (_, l, _)) in expanded.iter().enumerate() {
            let c = format!("__mva_list{i}");
            cols.push(l.clone().alias(&c));
            list_cols.push(Column::from_name(c));
        }
        cols.push(datafusion::functions_nested::expr_fn::range(lit(0i64), longest, lit(1i64)).alias(POS));
        list_cols.push(Column::from_name(POS));
        let with_lists = project(numbered, cols, span)?;
        let unnested = build(
            LogicalPlanBuilder::from(with_lists).unnest_columns_with_options(list_cols, UnnestOptions::default()),
            span,
        )?;
        let unnested = match row_limit {
            Some(n) => build(
                LogicalPlanBuilder::from(unnested).filter(ident(POS).lt(lit(n as i64))),
                span,
            )?,
            None => unnested,
        };
        let mut cols: Vec<Expr> = std::iter::once(ident(RID)).chain(outer.iter().map(ident)).collect();
        let mut sub_names = Vec::new();
        for (i, (name, _, target)) in expanded.iter().enumerate() {
            let v = ident(format!("__mva_list{i}"));
            let v = match target {
                None => v,
                Some(t) => self.coerce(v, KqlType::Dynamic, *t),
            };
            cols.push(v.alias(name));
            sub_names.push(name.clone());
        }
        if let Some(ix) = &index_name {
            cols.push(ident(POS).alias(ix));
            sub_names.push(ix.clone());
        }
        cols.push(ident(POS));
        let start = project(unnested, cols, span)?;
        let mut st = Sub {
            plan: start,
            outer,
            sub: sub_names,
            order: vec![(POS.to_string(), true, false)],
        };
        for op in on {
            self.mv_apply_op(&mut st, op, &ids)?;
        }
        // Rows in input order, then in the sub-table's order.
        let mut keys = vec![SortExpr::new(ident(RID), true, false)];
        keys.extend(st.order_keys());
        let sorted = build(LogicalPlanBuilder::from(st.plan).sort(keys), span)?;
        let out: Vec<Expr> = st.outer.iter().chain(st.sub.iter()).map(ident).collect();
        project(sorted, out, span)
    }

    fn mv_apply_op(&mut self, st: &mut Sub, op: &Operator, ids: &LogicalPlan) -> PResult<()> {
        let span = op.span;
        let no_windows = |p: &Planner<'_>, exprs: &[&kql::Expr]| {
            if p.has_window_calls(exprs) {
                Err(err(span, "window functions inside mv-apply are not supported yet"))
            } else {
                Ok(())
            }
        };
        match &op.kind {
            K::Where(e) => {
                no_windows(self, &[e])?;
                st.plan = self.operator(st.plan.clone(), op)?;
                Ok(())
            }
            K::Extend(items) => {
                no_windows(self, &items.iter().map(|i| &i.expr).collect::<Vec<_>>())?;
                let before = names_of(&st.plan);
                let plan = self.operator(st.plan.clone(), op)?;
                for (i, n) in names_of(&plan).into_iter().enumerate() {
                    let replaced = items.iter().any(|it| it.names.iter().any(|x| x.name == n));
                    if (replaced || i >= before.len()) && st.reserved(&n) {
                        return Err(err(
                            span,
                            format!("mv-apply: the subquery cannot set `{n}`, a column of the input row"),
                        ));
                    }
                    if i >= before.len() {
                        st.sub.push(n);
                    }
                }
                st.plan = plan;
                st.relayout(span)
            }
            K::Project(_) | K::ProjectAway(_) | K::ProjectKeep(_) | K::ProjectRename(_) | K::ProjectReorder(_) => {
                if let K::Project(items) = &op.kind {
                    no_windows(self, &items.iter().map(|i| &i.expr).collect::<Vec<_>>())?;
                }
                let projected = self.operator(st.plan.clone(), op)?;
                let LogicalPlan::Projection(p) = &projected else {
                    return Err(err(span, "mv-apply: unexpected projection plan"));
                };
                let mut exprs = Vec::new();
                let mut sub = Vec::new();
                let mut taken_over = Vec::new();
                for (e, f) in p.expr.iter().zip(p.schema.fields()) {
                    let n = f.name();
                    if st.reserved(n) {
                        let computed = !matches!(e.clone().unalias(), Expr::Column(c) if c.name == *n);
                        if matches!(op.kind, K::Project(_)) && !n.starts_with("__mva_") && n != RID && computed {
                            // The sub-table's result gets the input row's columns it lacks
                            // (mv-apply page, processing steps): one it computes is its own.
                            taken_over.push(n.clone());
                            exprs.push(e.clone());
                            sub.push(n.clone());
                        }
                        continue;
                    }
                    exprs.push(e.clone());
                    sub.push(n.clone());
                }
                st.outer.retain(|o| !taken_over.contains(o));
                let hidden = st.hidden();
                let cols: Vec<Expr> = std::iter::once(ident(RID))
                    .chain(st.outer.iter().map(ident))
                    .chain(exprs)
                    .chain(hidden.iter().map(ident))
                    .collect();
                st.plan = project(st.plan.clone(), cols, span)?;
                st.sub = sub;
                Ok(())
            }
            K::Summarize { params, aggregates, by } => {
                if let Some(p) = params.iter().find(|p| !p.name.name.starts_with("hint.")) {
                    return Err(err(
                        p.name.span,
                        format!("summarize parameter `{}` is not supported", p.name.name),
                    ));
                }
                let mut keyed = vec![kql::NamedExpr {
                    names: vec![],
                    expr: kql::Expr::Name(kql::Ident::new(RID, span)),
                }];
                keyed.extend(by.iter().cloned());
                // Each sub-table is in order (the array's, or its sort's): sorting by row id, then
                // that order, lets order-sensitive aggregations (make_list, ...) follow it.
                let mut keys = vec![SortExpr::new(ident(RID), true, false)];
                keys.extend(st.order_keys());
                let ordered = build(LogicalPlanBuilder::from(st.plan.clone()).sort(keys), span)?;
                let agg = self.summarize(ordered, aggregates, &keyed, span)?;
                let sub: Vec<String> = names_of(&agg).into_iter().filter(|n| n != RID).collect();
                if let Some(n) = sub.iter().find(|n| st.reserved(n)) {
                    return Err(err(
                        span,
                        format!("mv-apply: the subquery cannot make `{n}`, a column of the input row"),
                    ));
                }
                let (lq, rq) = (TableReference::bare("__mva_l"), TableReference::bare("__mva_r"));
                let lcol = |n: &str| Expr::Column(Column::new(Some(lq.clone()), n));
                let rcol = |n: &str| Expr::Column(Column::new(Some(rq.clone()), n));
                let l = build(LogicalPlanBuilder::from(ids.clone()).alias(lq.clone()), span)?;
                if by.is_empty() {
                    // One row per input row, also where its sub-table is empty: there, the
                    // aggregates' values on no rows.
                    let mut cols: Vec<Expr> = names_of(&agg).iter().map(ident).collect();
                    cols.push(lit(true).alias("__mva_present"));
                    let agg = project(agg, cols, span)?;
                    let r = build(LogicalPlanBuilder::from(agg).alias(rq.clone()), span)?;
                    let empty_in = build(LogicalPlanBuilder::from(st.plan.clone()).filter(lit(false)), span)?;
                    let empty = self.summarize(empty_in, aggregates, &[], span)?;
                    let eq = TableReference::bare("__mva_e");
                    let ecol = |n: &str| Expr::Column(Column::new(Some(eq.clone()), n));
                    let e = build(LogicalPlanBuilder::from(empty).alias(eq.clone()), span)?;
                    let joined = build(
                        LogicalPlanBuilder::from(l)
                            .join_on(r, JoinType::Left, vec![lcol(RID).eq(rcol(RID))])
                            .and_then(|b| b.cross_join(e)),
                        span,
                    )?;
                    let mut cols: Vec<Expr> = vec![lcol(RID).alias(RID)];
                    cols.extend(st.outer.iter().map(|n| lcol(n).alias(n)));
                    for n in &sub {
                        let v = when(rcol("__mva_present").is_null(), ecol(n))
                            .otherwise(rcol(n))
                            .map_err(|x| df_err(span, x))?;
                        cols.push(v.alias(n));
                    }
                    st.plan = project(joined, cols, span)?;
                } else {
                    let r = build(LogicalPlanBuilder::from(agg).alias(rq.clone()), span)?;
                    let joined = build(
                        LogicalPlanBuilder::from(l).join_on(r, JoinType::Inner, vec![lcol(RID).eq(rcol(RID))]),
                        span,
                    )?;
                    let mut cols: Vec<Expr> = vec![lcol(RID).alias(RID)];
                    cols.extend(st.outer.iter().map(|n| lcol(n).alias(n)));
                    cols.extend(sub.iter().map(|n| rcol(n).alias(n)));
                    st.plan = project(joined, cols, span)?;
                }
                st.sub = sub;
                st.order = Vec::new();
                Ok(())
            }
            K::Sort { params, keys } => {
                if let Some(p) = params.first() {
                    return Err(err(
                        p.name.span,
                        format!("sort parameter `{}` is not supported here", p.name.name),
                    ));
                }
                let schema = st.plan.schema().clone();
                let mut order = Vec::new();
                let mut cols: Vec<Expr> = names_of(&st.plan).iter().map(ident).collect();
                for k in keys {
                    let s = self.sort_key(k, &schema)?;
                    let name = format!("{}{}", st.fresh("__mva_ord"), order.len());
                    cols.push(s.expr.alias(&name));
                    order.push((name, s.asc, s.nulls_first));
                }
                st.plan = project(st.plan.clone(), cols, span)?;
                st.order = order;
                st.relayout(span)
            }
            K::Top { count, key } => {
                let n = self.const_count(count)?;
                let schema = st.plan.schema().clone();
                let s = self.sort_key(key, &schema)?;
                let name = st.fresh("__mva_ord");
                let mut cols: Vec<Expr> = names_of(&st.plan).iter().map(ident).collect();
                cols.push(s.expr.alias(&name));
                st.plan = project(st.plan.clone(), cols, span)?;
                st.order = vec![(name.clone(), s.asc, s.nulls_first)];
                st.keep_first(n, vec![SortExpr::new(ident(&name), s.asc, s.nulls_first)], span)
            }
            K::Take(count) => {
                let n = self.const_count(count)?;
                let keys = st.order_keys();
                st.keep_first(n, keys, span)
            }
            K::MvExpand { .. } => {
                // Expands a sub-table column; the row id, input columns and order columns repeat.
                let before = names_of(&st.plan);
                let plan = self.operator(st.plan.clone(), op)?;
                let after = names_of(&plan);
                if before.iter().any(|n| st.reserved(n) && !after.contains(n)) {
                    return Err(err(
                        span,
                        "mv-apply: the inner mv-expand cannot expand a column of the input row",
                    ));
                }
                for n in after.iter().filter(|n| !before.contains(n)) {
                    if st.reserved(n) {
                        return Err(err(
                            span,
                            format!("mv-apply: the subquery cannot set `{n}`, a column of the input row"),
                        ));
                    }
                    st.sub.push(n.clone());
                }
                st.plan = plan;
                st.relayout(span)
            }
            _ => Err(err(
                span,
                format!("the `{}` operator inside mv-apply is not supported yet", op.keyword()),
            )),
        }
    }
}
