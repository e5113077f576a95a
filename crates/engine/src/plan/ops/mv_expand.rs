//! `mv-expand`: one row per element of dynamic arrays or bags.

use super::{build, implicit_name, names_of, project};
use crate::functions::dynamic::JsonOp;
use crate::plan::{PResult, Planner, df_err, err};
use crate::types::KqlType;
use datafusion::arrow::datatypes::DataType;
use datafusion::common::Column;
use datafusion::logical_expr::{Expr, LogicalPlan, LogicalPlanBuilder, cast, lit};
use datafusion::prelude::ident;
use kql::Span;

impl Planner<'_> {
    pub(super) fn mv_expand(
        &mut self,
        plan: LogicalPlan,
        params: &[kql::OpParam],
        items: &[kql::ExpandItem],
        limit: Option<&kql::Expr>,
        span: Span,
    ) -> PResult<LogicalPlan> {
        // bagexpansion=array (or kind=array): a property bag expands into [key, value] arrays.
        let mut bag_as_array = false;
        let mut index_name: Option<String> = None;
        for p in params {
            match (p.name.name.as_str(), &p.value) {
                ("bagexpansion" | "kind", kql::Expr::Name(v)) if v.name == "bag" || v.name == "array" => {
                    bag_as_array = v.name == "array";
                }
                ("with_itemindex", kql::Expr::Name(v)) => index_name = Some(v.name.clone()),
                (n, _) => {
                    return Err(err(
                        p.name.span,
                        format!("mv-expand parameter `{n}` is not supported yet"),
                    ));
                }
            }
        }
        // `limit n`: at most n rows from each input row.
        let row_limit = match limit {
            Some(l) => Some(self.const_count(l)?),
            None => None,
        };
        if items.is_empty() {
            return Err(err(span, "mv-expand needs a column"));
        }
        // Several columns expand in parallel: the n-th element of each array goes to the n-th
        // output row, the shorter arrays padded with null (DataFusion's unnest of several lists).
        let schema = plan.schema().clone();
        let names = names_of(&plan);
        let mut expanded: Vec<(String, String, Option<&kql::Ident>)> = Vec::new(); // (name, list column, to type)
        let mut lists: Vec<Expr> = Vec::new();
        for (i, item) in items.iter().enumerate() {
            let e = self.scalar(&item.expr, &schema)?;
            let t = self.type_of(&e, &schema, item.expr.span())?;
            if t != KqlType::Dynamic {
                return Err(err(
                    item.expr.span(),
                    format!("mv-expand takes a dynamic array or bag, this is {t}"),
                ));
            }
            let name = match &item.name {
                Some(n) => n.name.clone(),
                None => implicit_name(&item.expr)
                    .or_else(|| first_column(&item.expr))
                    .ok_or_else(|| err(item.expr.span(), "name the expanded value: `Name = expression`"))?,
            };
            if expanded.iter().any(|(n, _, _)| *n == name) {
                return Err(err(item.expr.span(), format!("column `{name}` is expanded twice")));
            }
            let list_col = format!("__mv_expand_list{i}");
            let op = if bag_as_array {
                JsonOp::ElementPairs
            } else {
                JsonOp::ExpandElements
            };
            lists.push(crate::plan::expr::json("elements", op, vec![e]).alias(&list_col));
            expanded.push((name, list_col, item.to_type.as_ref()));
        }
        let mut exprs: Vec<Expr> = names
            .iter()
            .filter(|n| !expanded.iter().any(|(e, _, _)| e == *n))
            .map(ident)
            .collect();
        // The item index (with_itemindex, limit): a list 0..n, n the longest expanded list.
        const INDEX_LIST: &str = "__mv_expand_index";
        let need_index = index_name.is_some() || row_limit.is_some();
        if need_index {
            use datafusion::functions_nested::expr_fn::{cardinality, range};
            let lens: Vec<Expr> = lists
                .iter()
                .map(|l| {
                    let inner = match l {
                        Expr::Alias(a) => a.expr.as_ref().clone(),
                        other => other.clone(),
                    };
                    cast(cardinality(inner), DataType::Int64)
                })
                .collect();
            let longest = if lens.len() == 1 {
                lens.into_iter().next().unwrap_or_else(|| lit(0i64))
            } else {
                datafusion::functions::expr_fn::greatest(lens)
            };
            exprs.extend(lists);
            exprs.push(range(lit(0i64), longest, lit(1i64)).alias(INDEX_LIST));
        } else {
            exprs.extend(lists);
        }
        let with_list = project(plan, exprs, span)?;
        let mut cols: Vec<Column> = expanded.iter().map(|(_, l, _)| Column::from_name(l)).collect();
        if need_index {
            cols.push(Column::from_name(INDEX_LIST));
        }
        let mut unnested = build(
            LogicalPlanBuilder::from(with_list)
                .unnest_columns_with_options(cols, datafusion::common::UnnestOptions::default()),
            span,
        )?;
        if let Some(n) = row_limit {
            unnested = build(
                LogicalPlanBuilder::from(unnested).filter(ident(INDEX_LIST).lt(lit(n as i64))),
                span,
            )?;
        }
        let mut values: Vec<(String, Expr)> = Vec::new();
        for (name, list_col, to_type) in &expanded {
            let value = ident(list_col);
            let value = match to_type {
                None => value,
                Some(ty) => {
                    let target = KqlType::from_name(&ty.name)
                        .ok_or_else(|| err(ty.span, format!("unknown type `{}`", ty.name)))?;
                    let v = self.coerce(value.clone(), KqlType::Dynamic, target);
                    // `to typeof(int)` gives an int column (mv-expand page, "to typeof" example).
                    let v = if target == KqlType::Int {
                        datafusion::logical_expr::try_cast(v, DataType::Int32)
                    } else {
                        v
                    };
                    // "The operation of applying type is cast-only and doesn't include parsing or
                    // type-conversion. Array elements that don't conform ... become null."
                    let conforming: &[&str] = match target {
                        KqlType::Int | KqlType::Long => &["int", "long"],
                        KqlType::Real | KqlType::Decimal => &["int", "long", "real"],
                        KqlType::Bool => &["bool"],
                        KqlType::String => &["string"],
                        _ => &[],
                    };
                    if conforming.is_empty() {
                        v
                    } else {
                        let ty =
                            crate::plan::call::lib("gettype", crate::functions::library::LibOp::GetType, vec![value]);
                        let list = conforming.iter().map(|t| lit(*t)).collect();
                        datafusion::logical_expr::when(ty.in_list(list, false), v)
                            .end()
                            .map_err(|e| df_err(span, e))?
                    }
                }
            };
            values.push((name.clone(), value));
        }
        let mut out: Vec<Expr> = names
            .iter()
            .map(|n| match values.iter().find(|(v, _)| v == n) {
                Some((_, value)) => value.clone().alias(n),
                None => ident(n),
            })
            .collect();
        for (name, value) in &values {
            if !names.contains(name) {
                out.push(value.clone().alias(name));
            }
        }
        if let Some(ix) = &index_name {
            out.push(ident(INDEX_LIST).alias(ix));
        }
        project(unnested, out, span)
    }
}

/// The first column a call refers to (`mv-expand parse_json(Col)` expands into `Col`).
pub(super) fn first_column(e: &kql::Expr) -> Option<String> {
    match e {
        kql::Expr::Name(n) => Some(n.name.clone()),
        kql::Expr::Call { args, .. } => args.iter().find_map(|a| first_column(a.expr())),
        kql::Expr::Paren(inner, _) => first_column(inner),
        _ => None,
    }
}
