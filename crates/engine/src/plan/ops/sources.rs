//! Operators that start a query by themselves: `print`, `datatable`, `range`, `externaldata`.

use super::{build, project};
use crate::plan::expr::constant_value;
use crate::plan::range::RangeKind;
use crate::plan::{PResult, Planner, df_err, err};
use crate::types::KqlType;
use crate::value::literal_scalar;
use datafusion::arrow::array::{ArrayRef, RecordBatch};
use datafusion::arrow::datatypes::{DataType, Field, Schema};
use datafusion::common::ScalarValue;
use datafusion::datasource::{MemTable, provider_as_source};
use datafusion::logical_expr::{LogicalPlan, LogicalPlanBuilder};
use kql::{Operator, OperatorKind as K, Span};
use std::sync::Arc;

impl Planner<'_> {
    /// Operators that start a query by themselves.
    pub fn source_operator(&mut self, op: &Operator) -> PResult<LogicalPlan> {
        let span = op.span;
        match &op.kind {
            K::Print(items) => {
                let one = build(Ok(LogicalPlanBuilder::empty(true)), span)?;
                let schema = one.schema().clone();
                let mut out = Vec::new();
                for (i, ne) in items.iter().enumerate() {
                    let name = match ne.names.as_slice() {
                        [n] => n.name.clone(),
                        [] => format!("print_{i}"),
                        _ => return Err(err(ne.expr.span(), "print assigns one column per expression")),
                    };
                    out.push(self.scalar(&ne.expr, &schema)?.alias(name));
                }
                project(one, out, span)
            }
            K::Datatable { schema, values } => {
                let cols = declared_columns(schema)?;
                if cols.is_empty() {
                    return Err(err(span, "datatable needs at least one column"));
                }
                if values.len() % cols.len() != 0 {
                    return Err(err(
                        span,
                        format!(
                            "datatable has {} columns but {} values (not a whole number of rows)",
                            cols.len(),
                            values.len()
                        ),
                    ));
                }
                let mut arrays: Vec<Vec<ScalarValue>> = vec![Vec::new(); cols.len()];
                for (i, v) in values.iter().enumerate() {
                    let (cname, t) = &cols[i % cols.len()];
                    let sv = self
                        .datatable_value(v, *t)
                        .map_err(|m| err(v.span(), format!("column `{cname}`: {m}")))?;
                    arrays[i % cols.len()].push(sv);
                }
                let fields: Vec<Field> = cols
                    .iter()
                    .map(|(n, t)| Field::new(n, t.arrow().unwrap_or(DataType::Null), true))
                    .collect();
                let schema = Arc::new(Schema::new(fields));
                let arrays: Vec<ArrayRef> = arrays
                    .into_iter()
                    .zip(schema.fields())
                    .map(|(vals, f)| {
                        if vals.is_empty() {
                            Ok(datafusion::arrow::array::new_empty_array(f.data_type()))
                        } else {
                            ScalarValue::iter_to_array(vals)
                        }
                    })
                    .collect::<Result<_, _>>()
                    .map_err(|e| df_err(span, e))?;
                self.memory_table(schema, arrays, span)
            }
            K::Range { column, from, to, step } => {
                let (f, t, s) = (self.constant(from)?, self.constant(to)?, self.constant(step)?);
                let (f, t, s) = (constant_value(&f), constant_value(&t), constant_value(&s));
                // Kusto: `range` stops at the last value not past `to`; no value when the step
                // points away from it.
                let count = |a: i64, b: i64, st: i64| -> u64 {
                    if (st > 0 && b >= a) || (st < 0 && b <= a) {
                        ((i128::from(b) - i128::from(a)) / i128::from(st)) as u64 + 1
                    } else {
                        0
                    }
                };
                let (a, st, n, kind, data_type) = match (f, t, s) {
                    (
                        Some(ScalarValue::Int64(Some(a))),
                        Some(ScalarValue::Int64(Some(b))),
                        Some(ScalarValue::Int64(Some(st))),
                    ) if st != 0 => (a, st, count(a, b, st), RangeKind::Long, DataType::Int64),
                    (
                        Some(ScalarValue::TimestampNanosecond(Some(a), _)),
                        Some(ScalarValue::TimestampNanosecond(Some(b), _)),
                        Some(ScalarValue::DurationNanosecond(Some(st))),
                    ) if st > 0 => (
                        a,
                        st,
                        count(a, b, st),
                        RangeKind::Datetime,
                        crate::types::datetime_type(),
                    ),
                    (
                        Some(ScalarValue::DurationNanosecond(Some(a))),
                        Some(ScalarValue::DurationNanosecond(Some(b))),
                        Some(ScalarValue::DurationNanosecond(Some(st))),
                    ) if st > 0 => (
                        a,
                        st,
                        count(a, b, st),
                        RangeKind::Timespan,
                        DataType::Duration(datafusion::arrow::datatypes::TimeUnit::Nanosecond),
                    ),
                    _ => {
                        return Err(err(
                            span,
                            "range takes constant numbers, datetimes or timespans, with a non-zero step of the matching kind",
                        ));
                    }
                };
                // Rows are generated as they are read (memory stays bounded by the pool); the
                // cap keeps a runaway rule's time bounded too.
                if n > 100_000_000 {
                    return Err(err(span, "range produces more than 100,000,000 rows"));
                }
                let schema = Arc::new(Schema::new(vec![Field::new(&column.name, data_type, true)]));
                let table = crate::plan::range::RangeTable::new(schema, a, st, n, kind);
                let scan = build(
                    LogicalPlanBuilder::scan("range", provider_as_source(Arc::new(table)), None),
                    span,
                )?;
                // range's output is serialized (serialize operator page), in generation order.
                crate::plan::window::serialize_marker(scan, span)
            }
            K::Union { params, tables } => self.union(None, params, tables, span),
            K::Search {
                params,
                tables,
                predicate,
            } => self.search(None, params, tables, predicate, span),
            K::Find {
                params,
                tables,
                predicate,
                project,
            } => self.find(params, tables, predicate, project.as_deref(), span),
            K::ExternalData { schema, uris, with } => {
                let cols = declared_columns(schema)?;
                let [uri] = uris.as_slice() else {
                    return Err(err(span, "externaldata takes one file"));
                };
                let uri = match constant_value(&self.constant(uri)?) {
                    Some(ScalarValue::Utf8(Some(u))) => u,
                    _ => return Err(err(uri.span(), "the externaldata source must be a constant string")),
                };
                let mut format = "csv".to_string();
                let mut skip_first = false;
                for p in with {
                    let v = match &p.value {
                        kql::Expr::Name(n) => n.name.clone(),
                        kql::Expr::Literal(kql::Literal::String { value, .. }, _) => value.clone(),
                        kql::Expr::Literal(kql::Literal::Bool(Some(b)), _) => b.to_string(),
                        other => return Err(err(other.span(), "expected a constant")),
                    };
                    match p.name.name.as_str() {
                        "format" => format = v,
                        "ignoreFirstRecord" => skip_first = v.eq_ignore_ascii_case("true"),
                        _ => {}
                    }
                }
                let table =
                    crate::plan::external::external_table(&cols, &uri, &format, skip_first, self.cx.file_access, span)?;
                build(
                    LogicalPlanBuilder::scan("externaldata", provider_as_source(table), None),
                    span,
                )
            }
            _ => Err(self.unsupported(op, &op.kind)),
        }
    }

    pub(super) fn datatable_value(&mut self, v: &kql::Expr, t: KqlType) -> Result<ScalarValue, String> {
        let (lit_v, neg) = match v {
            kql::Expr::Literal(l, _) => (l, false),
            kql::Expr::Unary {
                op: kql::UnaryOp::Neg,
                expr,
                ..
            } => match &**expr {
                kql::Expr::Literal(l, _) => (l, true),
                _ => return Err("datatable values must be literals".into()),
            },
            _ => return Err("datatable values must be literals".into()),
        };
        let sv = literal_scalar(lit_v)?;
        let sv = if neg {
            sv.arithmetic_negate().map_err(|e| e.to_string())?
        } else {
            sv
        };
        let target = t.arrow().ok_or_else(|| format!("the {t} type is not supported"))?;
        if sv.data_type() == target {
            return Ok(sv);
        }
        match (&sv, t) {
            (ScalarValue::Utf8(Some(s)), KqlType::Dynamic) => Ok(ScalarValue::LargeUtf8(Some(
                serde_json::Value::String(s.clone()).to_string(),
            ))),
            (_, KqlType::Dynamic) => Ok(ScalarValue::LargeUtf8(Some(
                crate::functions::dynamic::json_at(&sv.to_array().map_err(|e| e.to_string())?, 0).to_string(),
            ))),
            (ScalarValue::Int64(_) | ScalarValue::Int32(_) | ScalarValue::Float64(_) | ScalarValue::Boolean(_), _)
                if t.is_numeric() || t == KqlType::Bool =>
            {
                sv.cast_to(&target).map_err(|e| e.to_string())
            }
            _ => Err(format!(
                "a {} value in a {t} column",
                KqlType::of_arrow(&sv.data_type()).map_or("null", KqlType::name)
            )),
        }
    }

    pub(super) fn memory_table(&self, schema: Arc<Schema>, arrays: Vec<ArrayRef>, span: Span) -> PResult<LogicalPlan> {
        let batch = RecordBatch::try_new(schema.clone(), arrays).map_err(|e| df_err(span, e.into()))?;
        let table = MemTable::try_new(schema, vec![vec![batch]]).map_err(|e| df_err(span, e))?;
        build(
            LogicalPlanBuilder::scan("datatable", provider_as_source(Arc::new(table)), None),
            span,
        )
    }
}

/// The `name:type` columns of datatable / externaldata with their KQL types.
pub(super) fn declared_columns(schema: &[kql::ColumnDecl]) -> PResult<Vec<(String, KqlType)>> {
    schema
        .iter()
        .map(|c| {
            let t = KqlType::from_name(&c.ty.name)
                .ok_or_else(|| err(c.ty.span, format!("unknown type `{}`", c.ty.name)))?;
            Ok((c.name.name.clone(), t))
        })
        .collect()
}
