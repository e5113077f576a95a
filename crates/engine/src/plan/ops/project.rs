//! The `project` family and `extend`: columns computed, selected, dropped, renamed and reordered.

use super::{names_of, project, wildcard_match};
use crate::plan::{PResult, Planner, err};
use datafusion::logical_expr::{Expr, LogicalPlan};
use datafusion::prelude::ident;
use kql::Span;

impl Planner<'_> {
    /// `extend`: each item added (or replacing the column of its name) in turn.
    pub(super) fn extend(&mut self, plan: LogicalPlan, items: &[kql::NamedExpr], span: Span) -> PResult<LogicalPlan> {
        let mut plan = plan;
        for ne in items {
            if crate::plan::seriesfn::multi_value_call(self, &ne.expr).is_some() {
                plan = self.multi_value_extend(plan, ne, span)?;
                continue;
            }
            let names = names_of(&plan);
            let name = self.name_for(ne, &names, &plan.schema().clone())?;
            let (wide, expr) = if self.has_window_calls(&[&ne.expr]) {
                let (wide, mut rewritten) = self.lower_window_calls(plan, &[&ne.expr])?;
                (wide, rewritten.remove(0))
            } else {
                (plan, ne.expr.clone())
            };
            let plan_in = wide;
            let s = plan_in.schema().clone();
            let e = self.scalar(&expr, &s)?.alias(&name);
            let mut cols: Vec<Expr> = names
                .iter()
                .map(|n| if *n == name { e.clone() } else { ident(n) })
                .collect();
            if !names.contains(&name) {
                cols.push(e);
            }
            plan = project(plan_in, cols, span)?;
        }
        Ok(plan)
    }

    /// `project`: the listed expressions and column patterns, in order.
    pub(super) fn project_op(
        &mut self,
        plan: LogicalPlan,
        items: &[kql::NamedExpr],
        span: Span,
    ) -> PResult<LogicalPlan> {
        let visible = names_of(&plan);
        let (plan, items) = if self.has_window_calls(&items.iter().map(|i| &i.expr).collect::<Vec<_>>()) {
            let (wide, rewritten) =
                self.lower_window_calls(plan, &items.iter().map(|i| &i.expr).collect::<Vec<_>>())?;
            let items: Vec<kql::NamedExpr> = items
                .iter()
                .zip(rewritten)
                .map(|(i, e)| kql::NamedExpr {
                    names: i.names.clone(),
                    expr: e,
                })
                .collect();
            (wide, std::borrow::Cow::Owned(items))
        } else {
            (plan, std::borrow::Cow::Borrowed(items))
        };
        // Functions returning several values: their columns first, then by name.
        let (plan, items) = if items
            .iter()
            .any(|i| crate::plan::seriesfn::multi_value_call(self, &i.expr).is_some())
        {
            let (wide, named) = self.multi_value_project(plan, &items, span)?;
            (wide, std::borrow::Cow::Owned(named))
        } else {
            (plan, items)
        };
        let schema = plan.schema().clone();
        let mut out: Vec<Expr> = Vec::new();
        let mut taken: Vec<String> = Vec::new();
        for ne in items.iter() {
            if let kql::Expr::Pattern(p, _) | kql::Expr::Name(kql::Ident { name: p, .. }) = &ne.expr
                && ne.names.is_empty()
                && p.contains('*')
            {
                for n in visible.iter().filter(|n| wildcard_match(p, n)).cloned() {
                    out.push(ident(&n));
                    taken.push(n);
                }
                continue;
            }
            let name = self.name_for(ne, &taken, &schema)?;
            if taken.contains(&name) {
                return Err(err(ne.expr.span(), format!("column `{name}` is projected twice")));
            }
            out.push(self.scalar(&ne.expr, &schema)?.alias(&name));
            taken.push(name);
        }
        project(plan, out, span)
    }

    /// `project-away` / `project-keep` (`keep`): the columns matching the patterns dropped or kept.
    pub(super) fn project_away_keep(
        &mut self,
        plan: LogicalPlan,
        cols: &[kql::Expr],
        keep: bool,
        span: Span,
    ) -> PResult<LogicalPlan> {
        let names = names_of(&plan);
        let mut hit = vec![false; names.len()];
        for c in cols {
            let pattern = match c {
                kql::Expr::Name(n) => n.name.clone(),
                kql::Expr::Pattern(p, _) => p.clone(),
                other => return Err(err(other.span(), "expected a column name or pattern")),
            };
            let mut any = false;
            for (i, n) in names.iter().enumerate() {
                if wildcard_match(&pattern, n) {
                    hit[i] = true;
                    any = true;
                }
            }
            if !any && !pattern.contains('*') {
                return Err(self.unknown_column(&pattern, c.span(), &names));
            }
            let _ = any;
        }
        let out = names
            .iter()
            .zip(hit)
            .filter(|(_, h)| *h == keep)
            .map(|(n, _)| ident(n))
            .collect();
        project(plan, out, span)
    }

    /// `project-rename`: `new = old` pairs renamed in place.
    pub(super) fn project_rename(
        &mut self,
        plan: LogicalPlan,
        pairs: &[(kql::Ident, kql::Expr)],
        span: Span,
    ) -> PResult<LogicalPlan> {
        let names = names_of(&plan);
        let mut renames = Vec::new();
        for (new, old) in pairs {
            let kql::Expr::Name(o) = old else {
                return Err(err(old.span(), "project-rename renames a column: `new = old`"));
            };
            if !names.contains(&o.name) {
                return Err(self.unknown_column(&o.name, o.span, &names));
            }
            renames.push((o.name.clone(), new.name.clone()));
        }
        let out = names
            .iter()
            .map(|n| match renames.iter().find(|(o, _)| o == n) {
                Some((_, new)) => ident(n).alias(new),
                None => ident(n),
            })
            .collect();
        project(plan, out, span)
    }

    /// `project-reorder`: the matching columns first (optionally sorted by name), the rest after.
    pub(super) fn project_reorder(
        &mut self,
        plan: LogicalPlan,
        items: &[(kql::Expr, Option<kql::SortDir>)],
        span: Span,
    ) -> PResult<LogicalPlan> {
        let names = names_of(&plan);
        let mut first: Vec<String> = Vec::new();
        for (c, dir) in items {
            let pattern = match c {
                kql::Expr::Name(n) => n.name.clone(),
                kql::Expr::Pattern(p, _) => p.clone(),
                other => return Err(err(other.span(), "expected a column name or pattern")),
            };
            let mut matched: Vec<String> = names
                .iter()
                .filter(|n| wildcard_match(&pattern, n) && !first.contains(n))
                .cloned()
                .collect();
            if matched.is_empty() && !pattern.contains('*') {
                return Err(self.unknown_column(&pattern, c.span(), &names));
            }
            match dir {
                Some(kql::SortDir::Asc) => matched.sort(),
                Some(kql::SortDir::Desc) => matched.sort_by(|a, b| b.cmp(a)),
                None => {}
            }
            first.extend(matched);
        }
        let rest = names.iter().filter(|n| !first.contains(n)).cloned();
        let out = first.iter().cloned().chain(rest).map(|n| ident(&n)).collect();
        project(plan, out, span)
    }
}
