//! Operators whose output columns depend on the data: `evaluate bag_unpack` and `evaluate
//! pivot` without an output schema. They are planned in two passes: the planner asks for the
//! operator's input to be read (a [`DataRequest`], a probe plan), the engine runs the probe
//! ([`probe`]) and plans again with the columns found ([`DataColumns`]), once per such operator.
//! Plan-only checking (no data) gives them an open schema instead: the schema carries a marker,
//! and a name that is not a column of it is a `dynamic` null column rather than an error.

use super::ops::{build, names_of, project, unclashed};
use super::{PResult, Planner, err};
use crate::types::KqlType;
use datafusion::arrow::array::{Array, AsArray};
use datafusion::arrow::datatypes::DataType;
use datafusion::common::{DFSchema, ScalarValue};
use datafusion::functions_aggregate::first_last::first_value_udaf;
use datafusion::logical_expr::{
    Expr, ExprFunctionExt, ExprSchemable, LogicalPlan, LogicalPlanBuilder, Projection, SortExpr, cast, lit,
};
use datafusion::prelude::{SessionContext, ident};
use futures::TryStreamExt;
use kql::Span;
use std::collections::BTreeMap;
use std::sync::Arc;

/// Most columns one data-dependent operator may make (the data is untrusted: a million
/// distinct keys must not become a million columns).
pub const MAX_DATA_COLUMNS: usize = 10_000;

/// Most data-dependent operators one query may have (each is one more pass over its input).
pub const MAX_DATA_OPERATORS: usize = 64;

/// The schema metadata key that marks an open schema (plan-only checking).
const OPEN_SCHEMA: &str = "ratcatcher.open_schema";

/// What a probe reads from the operator's input.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Probe {
    /// The top-level keys of the bags in the probe's only column, with their value types.
    BagKeys,
    /// The distinct values of the probe's first column (text), in the order of its second.
    PivotValues,
}

/// A data-dependent operator's request: run `plan` and read its columns.
pub struct DataRequest {
    /// Which data-dependent operator of the query this is (0 for the first met).
    pub index: usize,
    pub plugin: &'static str,
    pub span: Span,
    pub probe: Probe,
    pub plan: LogicalPlan,
}

/// The columns a data-dependent operator found in the data.
#[derive(Clone, Debug)]
pub struct DataColumns {
    /// The operator's place in the query (checked on the next pass).
    pub span: Span,
    pub columns: Vec<(String, KqlType)>,
}

/// Whether a schema is open: made by a data-dependent operator planned without its data.
pub fn is_open(schema: &DFSchema) -> bool {
    schema.metadata().contains_key(OPEN_SCHEMA)
}

/// `plan` with its schema marked open.
fn mark_open(plan: LogicalPlan, span: Span) -> PResult<LogicalPlan> {
    let LogicalPlan::Projection(p) = plan else {
        return Err(err(span, "internal: an open schema must be a projection"));
    };
    let mut meta = p.schema.metadata().clone();
    meta.insert(OPEN_SCHEMA.to_string(), "true".to_string());
    let fields = p.schema.iter().map(|(q, f)| (q.cloned(), f.clone())).collect();
    let schema = DFSchema::new_with_metadata(fields, meta).map_err(|e| super::df_err(span, e))?;
    Projection::try_new_with_schema(p.expr, p.input, Arc::new(schema))
        .map(LogicalPlan::Projection)
        .map_err(|e| super::df_err(span, e))
}

/// Runs a probe and reads the columns it finds.
pub async fn probe(ctx: &SessionContext, req: DataRequest) -> Result<DataColumns, String> {
    let df = ctx
        .execute_logical_plan(req.plan)
        .await
        .map_err(|e| e.strip_backtrace())?;
    let mut stream = df.execute_stream().await.map_err(|e| e.strip_backtrace())?;
    let too_many = || {
        format!(
            "`evaluate {}` would make more than {MAX_DATA_COLUMNS} columns from the data",
            req.plugin
        )
    };
    let mut columns: Vec<(String, KqlType)> = Vec::new();
    // Key → the type of its values so far (`None`: only nulls seen).
    let mut keys: BTreeMap<String, Option<KqlType>> = BTreeMap::new();
    let mut seen = std::collections::HashSet::new();
    while let Some(batch) = stream.try_next().await.map_err(|e| e.strip_backtrace())? {
        let Some(col) = batch.columns().first() else {
            continue;
        };
        let text = datafusion::arrow::compute::cast(col, &DataType::Utf8).map_err(|e| e.to_string())?;
        let text = text.as_string::<i32>();
        for i in 0..text.len() {
            match req.probe {
                Probe::BagKeys => {
                    if text.is_null(i) {
                        continue;
                    }
                    let serde_json::Value::Object(m) = crate::functions::dynamic::parse_value(text.value(i)) else {
                        continue;
                    };
                    for (k, v) in m {
                        let t = json_type(&v);
                        match keys.get_mut(&k) {
                            Some(slot) => *slot = merge_types(*slot, t),
                            None => {
                                if keys.len() >= MAX_DATA_COLUMNS {
                                    return Err(too_many());
                                }
                                keys.insert(k, t);
                            }
                        }
                    }
                }
                Probe::PivotValues => {
                    let v = if text.is_null(i) { "" } else { text.value(i) };
                    if seen.insert(v.to_string()) {
                        if columns.len() >= MAX_DATA_COLUMNS {
                            return Err(too_many());
                        }
                        columns.push((v.to_string(), KqlType::Dynamic));
                    }
                }
            }
        }
    }
    if req.probe == Probe::BagKeys {
        columns = keys
            .into_iter()
            .map(|(k, t)| (k, t.unwrap_or(KqlType::Dynamic)))
            .collect();
    }
    Ok(DataColumns {
        span: req.span,
        columns,
    })
}

/// The KQL type of a JSON value in a bag (`None` for null, which does not decide the type).
fn json_type(v: &serde_json::Value) -> Option<KqlType> {
    use serde_json::Value;
    Some(match v {
        Value::Null => return None,
        Value::Bool(_) => KqlType::Bool,
        Value::Number(n) if n.is_i64() || n.is_u64() => KqlType::Long,
        Value::Number(_) => KqlType::Real,
        Value::String(_) => KqlType::String,
        Value::Array(_) | Value::Object(_) => KqlType::Dynamic,
    })
}

/// A slot's type: the values' type when they all have one, else `dynamic` (bag_unpack page).
fn merge_types(a: Option<KqlType>, b: Option<KqlType>) -> Option<KqlType> {
    match (a, b) {
        (None, x) | (x, None) => x,
        (Some(x), Some(y)) if x == y => Some(x),
        _ => Some(KqlType::Dynamic),
    }
}

/// A string constant argument.
fn const_string(p: &mut Planner<'_>, e: &kql::Expr, what: &str) -> PResult<String> {
    let x = p.constant(e)?;
    match super::expr::constant_value(&x) {
        Some(ScalarValue::Utf8(Some(s)) | ScalarValue::LargeUtf8(Some(s)) | ScalarValue::Utf8View(Some(s))) => Ok(s),
        _ => Err(err(e.span(), format!("{what} must be a constant string"))),
    }
}

/// How `bag_unpack` resolves an unpacked column named like a column of its input.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Conflict {
    Error,
    ReplaceSource,
    KeepSource,
}

/// The names an expression refers to.
fn names_in(e: &kql::Expr, out: &mut Vec<String>) {
    match e {
        kql::Expr::Name(n) if !out.contains(&n.name) => out.push(n.name.clone()),
        kql::Expr::Paren(i, _) => names_in(i, out),
        kql::Expr::Unary { expr, .. } => names_in(expr, out),
        kql::Expr::Binary { left, right, .. } => {
            names_in(left, out);
            names_in(right, out);
        }
        kql::Expr::Logical { operands, .. } => operands.iter().for_each(|o| names_in(o, out)),
        kql::Expr::Call { args, .. } => args.iter().for_each(|a| names_in(a.expr(), out)),
        kql::Expr::Member { expr, .. } => names_in(expr, out),
        kql::Expr::Index { expr, index, .. } => {
            names_in(expr, out);
            names_in(index, out);
        }
        _ => {}
    }
}

impl Planner<'_> {
    /// The columns a data-dependent operator found, read on an earlier pass; `None` when its
    /// schema is open (plan-only checking). Otherwise asks for its input to be read (the error
    /// returned ends this pass).
    fn data_columns(
        &mut self,
        plugin: &'static str,
        span: Span,
        probe: Probe,
        probe_plan: impl FnOnce(&mut Self) -> PResult<LogicalPlan>,
    ) -> PResult<Option<Vec<(String, KqlType)>>> {
        let index = self.data_ops;
        self.data_ops += 1;
        if let Some(found) = self.cx.data_columns.get(index) {
            if found.span != span {
                return Err(err(
                    span,
                    "internal: the query's data-dependent operators changed between passes",
                ));
            }
            let names: Vec<&str> = found.columns.iter().map(|(n, _)| n.as_str()).collect();
            self.data_found.push(format!(
                "`{plugin}` made its columns from the data: {}",
                if names.is_empty() {
                    "none (no values)".to_string()
                } else {
                    names.join(", ")
                }
            ));
            return Ok(Some(found.columns.clone()));
        }
        if self.cx.open_schemas {
            return Ok(None);
        }
        if index >= MAX_DATA_OPERATORS {
            return Err(err(
                span,
                format!("a query may have at most {MAX_DATA_OPERATORS} operators whose columns depend on the data"),
            ));
        }
        let plan = probe_plan(self)?;
        self.data_request = Some(DataRequest {
            index,
            plugin,
            span,
            probe,
            plan,
        });
        Err(err(
            span,
            format!("`evaluate {plugin}` makes its columns from the data: the query must be planned with its data"),
        )
        .help("run the query (Engine::query / plan_with_data), or give the plugin an output schema"))
    }

    /// The help for a name that is not a column, after data-dependent operators.
    pub(super) fn data_columns_help(&self) -> Option<String> {
        (!self.data_found.is_empty()).then(|| self.data_found.join("; "))
    }

    /// `bag_unpack(Column [, OutputColumnPrefix] [, columnsConflict] [, ignoredProperties])
    /// [: (OutputSchema)]`: the input's columns without `Column`, then one column per top-level
    /// key of its bags (sorted by name), typed by the key's values.
    pub(super) fn bag_unpack(
        &mut self,
        plan: LogicalPlan,
        args: &[kql::Arg],
        out_schema: Option<&kql::ParamType>,
        span: Span,
    ) -> PResult<LogicalPlan> {
        let mut positional = Vec::new();
        let (mut prefix, mut conflict, mut ignored) = (None, None, None);
        for a in args {
            match a {
                kql::Arg::Named(n, e) => match n.name.as_str() {
                    "OutputColumnPrefix" => prefix = Some(e),
                    "columnsConflict" => conflict = Some(e),
                    "ignoredProperties" => ignored = Some(e),
                    other => return Err(err(n.span, format!("unknown bag_unpack argument `{other}`"))),
                },
                kql::Arg::Positional(e) => positional.push(e),
            }
        }
        let mut pos = positional.into_iter();
        let Some(column) = pos.next() else {
            return Err(err(span, "bag_unpack takes the column to unpack"));
        };
        for slot in [&mut prefix, &mut conflict, &mut ignored] {
            if let Some(e) = pos.next() {
                *slot = Some(e);
            }
        }
        if let Some(extra) = pos.next() {
            return Err(err(extra.span(), "bag_unpack takes at most four arguments"));
        }
        let kql::Expr::Name(col) = column else {
            return Err(err(column.span(), "bag_unpack takes a column name"));
        };
        let names = names_of(&plan);
        if !names.contains(&col.name) {
            return Err(self.unknown_column(&col.name, col.span, &names));
        }
        let schema = plan.schema().clone();
        let bag = ident(&col.name);
        let t = self.type_of(&bag, &schema, col.span)?;
        if t != KqlType::Dynamic {
            return Err(err(
                col.span,
                format!("bag_unpack unpacks a dynamic column, this is {t}"),
            ));
        }
        let prefix = match prefix {
            Some(e) => const_string(self, e, "the column prefix")?,
            None => String::new(),
        };
        let conflict = match conflict {
            None => Conflict::Error,
            Some(e) => match const_string(self, e, "columnsConflict")?.as_str() {
                "error" => Conflict::Error,
                "replace_source" => Conflict::ReplaceSource,
                "keep_source" => Conflict::KeepSource,
                other => {
                    return Err(err(
                        e.span(),
                        format!("columnsConflict is error, replace_source or keep_source, not `{other}`"),
                    ));
                }
            },
        };
        let ignored: Vec<String> = match ignored {
            None => Vec::new(),
            Some(e) => {
                let x = self.constant(e)?;
                let text = match super::expr::constant_value(&x) {
                    Some(ScalarValue::LargeUtf8(Some(s)) | ScalarValue::Utf8(Some(s))) => s,
                    _ => return Err(err(e.span(), "ignoredProperties must be a constant dynamic array")),
                };
                match crate::functions::dynamic::parse_value(&text) {
                    serde_json::Value::Array(a) => a
                        .iter()
                        .map(|v| match v {
                            serde_json::Value::String(s) => s.clone(),
                            other => other.to_string(),
                        })
                        .collect(),
                    _ => return Err(err(e.span(), "ignoredProperties must be a dynamic array of names")),
                }
            }
        };
        let get = |key: &str| {
            super::expr::json(
                "get",
                crate::functions::dynamic::JsonOp::Get(vec![crate::functions::dynamic::PathStep::Key(key.to_string())]),
                vec![bag.clone()],
            )
        };
        let typed = |p: &Planner<'_>, e: Expr, t: KqlType| -> Expr {
            let e = p.coerce(e, KqlType::Dynamic, t);
            match t.arrow() {
                Some(dt) if t != KqlType::Dynamic => cast(e, dt),
                _ => e,
            }
        };
        let rest: Vec<String> = names.iter().filter(|n| **n != col.name).cloned().collect();
        // The output schema form: the declared columns (after the input's with `*`).
        if let Some(decl) = out_schema {
            let kql::ParamType::Tabular { columns, open } = decl else {
                return Err(err(
                    span,
                    "bag_unpack's output schema is a list of columns: (name:type, ...)",
                ));
            };
            let mut out: Vec<Expr> = if *open {
                rest.iter().map(ident).collect()
            } else {
                Vec::new()
            };
            let mut taken: Vec<String> = if *open { rest.clone() } else { Vec::new() };
            for c in columns {
                let t = KqlType::from_name(&c.ty.name)
                    .ok_or_else(|| err(c.ty.span, format!("unknown type `{}`", c.ty.name)))?;
                if taken.contains(&c.name.name) {
                    continue;
                }
                let e = match c.name.name.strip_prefix(prefix.as_str()) {
                    Some(key) if !ignored.iter().any(|i| i == key) => typed(self, get(key), t),
                    _ if rest.contains(&c.name.name) => typed(self, ident(&c.name.name), t),
                    _ => typed(self, lit(ScalarValue::LargeUtf8(None)), t),
                };
                out.push(e.alias(&c.name.name));
                taken.push(c.name.name.clone());
            }
            return project(plan, out, span);
        }
        let probe_bag = bag.clone();
        let found = self.data_columns("bag_unpack", span, Probe::BagKeys, |_| {
            build(
                LogicalPlanBuilder::from(plan.clone())
                    .project(vec![cast(probe_bag, DataType::LargeUtf8).alias("__bag")])
                    .and_then(|b| b.distinct()),
                span,
            )
        })?;
        let Some(found) = found else {
            let out: Vec<Expr> = rest.iter().map(ident).collect();
            return mark_open(project(plan, out, span)?, span);
        };
        let mut keep: Vec<String> = rest.clone();
        let mut unpacked: Vec<(String, Expr)> = Vec::new();
        for (key, t) in &found {
            if ignored.contains(key) {
                continue;
            }
            let name = format!("{prefix}{key}");
            if rest.contains(&name) {
                match conflict {
                    Conflict::Error => {
                        return Err(err(
                            span,
                            format!("bag_unpack: the key `{key}` makes a column `{name}` the input already has"),
                        )
                        .help("pass columnsConflict='replace_source' or 'keep_source', or a prefix"));
                    }
                    Conflict::KeepSource => continue,
                    Conflict::ReplaceSource => keep.retain(|n| *n != name),
                }
            }
            unpacked.push((name, typed(self, get(key), *t)));
        }
        let mut out: Vec<Expr> = keep.iter().map(ident).collect();
        out.extend(unpacked.into_iter().map(|(n, e)| e.alias(n)));
        project(plan, out, span)
    }

    /// `pivot(pivotColumn [, aggregationFunction] [, column1, ...]) [: (OutputSchema)]`: one
    /// row per value of the columns (by default all but the pivot column and the aggregated
    /// ones), one column per value of the pivot column holding the aggregation (`count()` by
    /// default) of its rows.
    pub(super) fn pivot(
        &mut self,
        plan: LogicalPlan,
        args: &[kql::Arg],
        out_schema: Option<&kql::ParamType>,
        span: Span,
    ) -> PResult<LogicalPlan> {
        let mut positional = Vec::new();
        for a in args {
            match a {
                kql::Arg::Named(n, _) => return Err(err(n.span, format!("unknown pivot argument `{}`", n.name))),
                kql::Arg::Positional(e) => positional.push(e),
            }
        }
        let mut pos = positional.into_iter().peekable();
        let Some(pivot) = pos.next() else {
            return Err(err(span, "pivot takes the column to pivot"));
        };
        let names = names_of(&plan);
        let kql::Expr::Name(pcol) = pivot else {
            return Err(err(pivot.span(), "pivot takes a column name"));
        };
        if !names.contains(&pcol.name) {
            return Err(self.unknown_column(&pcol.name, pcol.span, &names));
        }
        let agg: Option<&kql::Expr> = match pos.peek() {
            Some(kql::Expr::Call { name, .. }) if super::functions::registry::is_aggregate(&name.name) => pos.next(),
            _ => None,
        };
        let count = kql::Expr::Call {
            receiver: None,
            name: kql::Ident::new("count", span),
            args: Vec::new(),
            span,
        };
        let agg = agg.cloned().unwrap_or(count);
        let agg_name = match &agg {
            kql::Expr::Call { name, .. } => name.name.clone(),
            _ => String::new(),
        };
        let mut by: Vec<String> = Vec::new();
        for e in pos {
            let kql::Expr::Name(n) = e else {
                return Err(err(e.span(), "pivot takes column names after the aggregation"));
            };
            if !names.contains(&n.name) {
                return Err(self.unknown_column(&n.name, n.span, &names));
            }
            by.push(n.name.clone());
        }
        if by.is_empty() {
            let mut used = vec![pcol.name.clone()];
            names_in(&agg, &mut used);
            by = names.iter().filter(|n| !used.contains(n)).cloned().collect();
        }
        let values: Option<Vec<(String, Option<KqlType>)>> = match out_schema {
            Some(kql::ParamType::Tabular { columns, .. }) => {
                let mut v = Vec::new();
                for c in columns {
                    if by.contains(&c.name.name) {
                        continue;
                    }
                    let t = KqlType::from_name(&c.ty.name)
                        .ok_or_else(|| err(c.ty.span, format!("unknown type `{}`", c.ty.name)))?;
                    v.push((c.name.name.clone(), Some(t)));
                }
                Some(v)
            }
            Some(_) => {
                return Err(err(
                    span,
                    "pivot's output schema is a list of columns: (name:type, ...)",
                ));
            }
            None => {
                let text = self.pivot_key(pcol, span);
                let key_expr = self.scalar(&text, &plan.schema().clone())?;
                let found = self.data_columns("pivot", span, Probe::PivotValues, |_| {
                    let sorted = build(
                        LogicalPlanBuilder::from(plan.clone())
                            .project(vec![key_expr.alias("__v"), ident(&pcol.name).alias("__k")])
                            .and_then(|b| b.distinct())
                            .and_then(|b| b.sort(vec![SortExpr::new(ident("__k"), true, true)])),
                        span,
                    )?;
                    project(sorted, vec![ident("__v")], span)
                })?;
                found.map(|f| f.into_iter().map(|(n, _)| (n, None)).collect())
            }
        };
        // The aggregation per pivot value and group, then one column per value.
        let key = kql::NamedExpr {
            names: vec![kql::Ident::new("__pivot_key", span)],
            expr: self.pivot_key(pcol, span),
        };
        let mut group: Vec<kql::NamedExpr> = vec![key];
        group.extend(by.iter().map(|n| kql::NamedExpr {
            names: Vec::new(),
            expr: kql::Expr::Name(kql::Ident::new(n.clone(), span)),
        }));
        let cell = kql::NamedExpr {
            names: vec![kql::Ident::new("__pivot_cell", span)],
            expr: agg,
        };
        let cells = self.summarize(plan, &[cell], &group, span)?;
        let Some(values) = values else {
            let out: Vec<Expr> = by.iter().map(ident).collect();
            return mark_open(project(cells, out, span)?, span);
        };
        let cell_type = ident("__pivot_cell")
            .get_type(cells.schema().as_ref())
            .map_err(|e| super::df_err(span, e))?;
        let aggs: Vec<Expr> = values
            .iter()
            .enumerate()
            .map(|(i, (v, _))| {
                first_value_udaf()
                    .call(vec![ident("__pivot_cell")])
                    .filter(ident("__pivot_key").eq(lit(v.clone())))
                    .build()
                    .map(|e| e.alias(format!("__pivot_{i}")))
                    .map_err(|e| super::df_err(span, e))
            })
            .collect::<PResult<_>>()?;
        let grouped = build(
            LogicalPlanBuilder::from(cells).aggregate(by.iter().map(ident).collect::<Vec<_>>(), aggs),
            span,
        )?;
        let default = pivot_default(&agg_name, &cell_type);
        let mut out: Vec<Expr> = by.iter().map(ident).collect();
        let mut taken = by.clone();
        for (i, (v, t)) in values.iter().enumerate() {
            let mut e = ident(format!("__pivot_{i}"));
            if let Some(d) = &default {
                e = datafusion::functions::expr_fn::coalesce(vec![e, d.clone()]);
            }
            if let Some(t) = t
                && let Some(dt) = t.arrow()
            {
                e = cast(e, dt);
            }
            let name = if v.is_empty() {
                self.next_column_name(&|n| taken.iter().any(|t| t == n))
            } else {
                unclashed(v, &taken)
            };
            out.push(e.alias(&name));
            taken.push(name);
        }
        project(grouped, out, span)
    }

    /// `tostring(pivotColumn)`: the pivot column's values as column names.
    fn pivot_key(&self, pcol: &kql::Ident, span: Span) -> kql::Expr {
        kql::Expr::Call {
            receiver: None,
            name: kql::Ident::new("tostring", span),
            args: vec![kql::Arg::Positional(kql::Expr::Name(pcol.clone()))],
            span,
        }
    }
}

/// The value of a pivot cell with no rows: the aggregation's value over no rows (summarize
/// operator page, "Default values of aggregations": 0 for counts, sums, variances and standard
/// deviations, an empty array for make_list / make_set, an empty bag for make_bag, else null).
fn pivot_default(agg: &str, cell: &DataType) -> Option<Expr> {
    match agg {
        "count" | "countif" | "dcount" | "dcountif" | "sum" | "sumif" | "stdev" | "variance" => {
            Some(cast(lit(0i64), cell.clone()))
        }
        "make_list" | "make_set" | "makelist" | "makeset" => Some(lit(ScalarValue::LargeUtf8(Some("[]".into())))),
        "make_bag" => Some(lit(ScalarValue::LargeUtf8(Some("{}".into())))),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use crate::{Engine, EngineOptions, QueryError};
    use datafusion::arrow::datatypes::{DataType, Field, Schema};
    use std::sync::Arc;

    fn engine(open_schemas: bool) -> Engine {
        let mut e = Engine::new(EngineOptions {
            open_schemas,
            ..Default::default()
        })
        .unwrap();
        let schema = Arc::new(Schema::new(vec![
            Field::new("Id", DataType::Int64, true),
            Field::new("Bag", DataType::LargeUtf8, true),
        ]));
        e.register_batches("T", schema, vec![]).unwrap();
        e
    }

    const QUERY: &str = "T | evaluate bag_unpack(Bag) | where Name == 'x' | summarize count() by Name, Id";

    #[test]
    fn plan_only_needs_the_option() {
        let Err(QueryError::Plan(d)) = engine(false).plan(QUERY) else {
            panic!("planned without data");
        };
        assert!(d.message.contains("makes its columns from the data"), "{}", d.message);
        let plan = engine(true).plan(QUERY).unwrap();
        let names: Vec<String> = plan.schema().fields().iter().map(|f| f.name().clone()).collect();
        assert_eq!(names, ["Name", "Id", "count_"]);
        // The names the input has keep their types; a pivot plans too.
        engine(true)
            .plan("T | evaluate pivot(Id) | extend y = Anything")
            .unwrap();
    }

    #[tokio::test]
    async fn no_rows_no_columns() {
        let Err(QueryError::Plan(d)) = engine(false).plan_with_data(QUERY).await else {
            panic!("planned a column no row has");
        };
        assert!(d.help.unwrap_or_default().contains("none (no values)"));
        // Without references to the unpacked columns, it runs.
        let (schema, _) = engine(false).query("T | evaluate bag_unpack(Bag)").await.unwrap();
        assert_eq!(schema.fields().len(), 1);
    }
}
