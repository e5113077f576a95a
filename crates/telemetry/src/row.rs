//! Rows of a table and the Arrow builders that turn them into record batches.

use std::collections::BTreeMap;
use std::sync::Arc;

use datafusion::arrow::array::{
    Array, ArrayRef, BooleanBuilder, Float64Builder, Int32Builder, Int64Builder, LargeStringBuilder, StringBuilder,
    TimestampNanosecondBuilder,
};
use datafusion::arrow::error::ArrowError;
use datafusion::arrow::record_batch::RecordBatch;
use serde_json::Value;

use crate::schema::{Kusto, TableDef};
use crate::time::{Nanos, format_datetime, parse_datetime};

/// One value of a row.
#[derive(Debug, Clone, PartialEq)]
pub enum Cell {
    /// No value.
    Null,
    /// Text (also `dynamic`, as JSON text).
    Str(String),
    /// 64-bit integer.
    Long(i64),
    /// 32-bit integer.
    Int(i32),
    /// Boolean.
    Bool(bool),
    /// UTC nanoseconds.
    Time(Nanos),
    /// Floating point.
    Real(f64),
}

fn parse_int_text(t: &str) -> Option<i64> {
    let t = t.trim();
    if let Some(h) = t.strip_prefix("0x").or_else(|| t.strip_prefix("0X")) {
        return u64::from_str_radix(h, 16).ok().map(|v| v as i64);
    }
    if let Ok(v) = t.parse::<i64>() {
        return Some(v);
    }
    // Exporters sometimes write integral numbers as `42.0`.
    t.parse::<f64>()
        .ok()
        .filter(|f| f.fract() == 0.0 && f.abs() < 9.0e18)
        .map(|f| f as i64)
}

impl Cell {
    /// Converts the value to the given column type; `None` when it cannot be represented.
    pub fn coerce(self, kind: Kusto) -> Option<Cell> {
        use Cell::*;
        Some(match (self, kind) {
            (Null, _) => Null,
            (Str(s), Kusto::String | Kusto::Dynamic) => Str(s),
            (Str(s), _) if s.trim().is_empty() => Null,
            (Str(s), Kusto::Long) => Long(parse_int_text(&s)?),
            (Str(s), Kusto::Int) => Int(i32::try_from(parse_int_text(&s)?).ok()?),
            (Str(s), Kusto::Real) => Real(s.trim().parse().ok()?),
            (Str(s), Kusto::DateTime) => Time(parse_datetime(&s)?),
            (Str(s), Kusto::Bool) => match s.trim().to_ascii_lowercase().as_str() {
                "true" | "1" => Bool(true),
                "false" | "0" => Bool(false),
                _ => return None,
            },
            (Long(v), Kusto::Long) => Long(v),
            (Long(v), Kusto::Int) => Int(i32::try_from(v).ok()?),
            (Long(v), Kusto::Real) => Real(v as f64),
            (Long(v), Kusto::Bool) => Bool(v != 0),
            (Long(v), Kusto::String | Kusto::Dynamic) => Str(v.to_string()),
            (Long(_), Kusto::DateTime) => return None,
            (Int(v), k) => return Long(i64::from(v)).coerce(k),
            (Bool(b), Kusto::Bool) => Bool(b),
            (Bool(b), Kusto::String | Kusto::Dynamic) => Str(b.to_string()),
            (Bool(b), Kusto::Long) => Long(i64::from(b)),
            (Bool(b), Kusto::Int) => Int(i32::from(b)),
            (Bool(_), _) => return None,
            (Time(t), Kusto::DateTime) => Time(t),
            (Time(t), Kusto::String) => Str(format_datetime(t)),
            (Time(_), _) => return None,
            (Real(f), Kusto::Real) => Real(f),
            (Real(f), Kusto::Long) if f.fract() == 0.0 && f.abs() < 9.0e18 => Long(f as i64),
            (Real(f), Kusto::Int) if f.fract() == 0.0 && f.abs() < 2.0e9 => Int(f as i32),
            (Real(f), Kusto::String | Kusto::Dynamic) => Str(f.to_string()),
            (Real(_), _) => return None,
        })
    }

    /// Converts a JSON value to a cell of the given column type. `dynamic` keeps any JSON as
    /// text; a JSON string in a `dynamic` column that itself holds JSON is kept as that JSON.
    pub fn from_json(value: &Value, kind: Kusto) -> Option<Cell> {
        let cell = match (value, kind) {
            (Value::Null, _) => Cell::Null,
            (Value::String(s), Kusto::Dynamic) => {
                let t = s.trim_start();
                if (t.starts_with('{') || t.starts_with('[')) && serde_json::from_str::<Value>(s).is_ok() {
                    Cell::Str(s.clone())
                } else {
                    Cell::Str(Value::String(s.clone()).to_string())
                }
            }
            (other, Kusto::Dynamic) => Cell::Str(other.to_string()),
            (Value::String(s), _) => Cell::Str(s.clone()),
            (Value::Bool(b), _) => Cell::Bool(*b),
            (Value::Number(n), _) => match n.as_i64() {
                Some(i) => Cell::Long(i),
                None => Cell::Real(n.as_f64()?),
            },
            (other, Kusto::String) => Cell::Str(other.to_string()),
            _ => return None,
        };
        cell.coerce(kind)
    }
}

/// One row of a table under construction. Setting a column the table lacks does nothing,
/// so mapping code can fill shared column groups without checking every table.
#[derive(Debug, Clone)]
pub struct Row {
    def: &'static TableDef,
    cells: Vec<Cell>,
}

impl Row {
    /// An all-null row of `def`.
    pub fn new(def: &'static TableDef) -> Row {
        Row {
            def,
            cells: vec![Cell::Null; def.columns().len()],
        }
    }

    /// The table this row belongs to.
    pub fn table(&self) -> &'static TableDef {
        self.def
    }

    /// The value of a column (`None` when the table has no such column).
    pub fn get(&self, col: &str) -> Option<&Cell> {
        self.def.column_index(col).map(|i| &self.cells[i])
    }

    /// Sets a column, converting the value to the column's type (unconvertible values become
    /// null). Returns `false` if the table has no such column or the value did not convert.
    pub fn set(&mut self, col: &str, cell: Cell) -> bool {
        let Some(i) = self.def.column_index(col) else {
            return false;
        };
        let kind = self.def.columns()[i].1;
        match cell.coerce(kind) {
            Some(c) => {
                self.cells[i] = c;
                true
            }
            None => {
                self.cells[i] = Cell::Null;
                false
            }
        }
    }

    /// Sets a column only when it is still null.
    pub fn fill(&mut self, col: &str, cell: Cell) {
        if matches!(self.get(col), Some(Cell::Null)) && !matches!(cell, Cell::Null) {
            self.set(col, cell);
        }
    }

    /// Sets a text column when `v` is present.
    pub fn text(&mut self, col: &str, v: Option<&str>) {
        if let Some(v) = v {
            self.set(col, Cell::Str(v.to_string()));
        }
    }

    /// Sets an integer column when `v` is present.
    pub fn long(&mut self, col: &str, v: Option<i64>) {
        if let Some(v) = v {
            self.set(col, Cell::Long(v));
        }
    }

    /// Sets a date-time column when `v` is present.
    pub fn time(&mut self, col: &str, v: Option<Nanos>) {
        if let Some(v) = v {
            self.set(col, Cell::Time(v));
        }
    }

    /// The row's cells in column order.
    pub fn cells(&self) -> &[Cell] {
        &self.cells
    }
}

enum ColumnBuilder {
    Str(StringBuilder),
    /// `dynamic`: JSON text in a `LargeUtf8` column, the engine's dynamic type.
    Json(LargeStringBuilder),
    Long(Int64Builder),
    Int(Int32Builder),
    Bool(BooleanBuilder),
    Time(TimestampNanosecondBuilder),
    Real(Float64Builder),
}

impl ColumnBuilder {
    fn new(kind: Kusto, capacity: usize) -> ColumnBuilder {
        match kind {
            Kusto::String => ColumnBuilder::Str(StringBuilder::with_capacity(capacity, capacity * 8)),
            Kusto::Dynamic => ColumnBuilder::Json(LargeStringBuilder::with_capacity(capacity, capacity * 8)),
            Kusto::Long => ColumnBuilder::Long(Int64Builder::with_capacity(capacity)),
            Kusto::Int => ColumnBuilder::Int(Int32Builder::with_capacity(capacity)),
            Kusto::Bool => ColumnBuilder::Bool(BooleanBuilder::with_capacity(capacity)),
            Kusto::DateTime => {
                ColumnBuilder::Time(TimestampNanosecondBuilder::with_capacity(capacity).with_timezone("UTC"))
            }
            Kusto::Real => ColumnBuilder::Real(Float64Builder::with_capacity(capacity)),
        }
    }

    /// Appends a cell already coerced to this column's type (anything else appends null).
    fn append(&mut self, cell: &Cell) {
        match (self, cell) {
            (ColumnBuilder::Str(b), Cell::Str(s)) => b.append_value(s),
            (ColumnBuilder::Str(b), _) => b.append_null(),
            (ColumnBuilder::Json(b), Cell::Str(s)) => b.append_value(s),
            (ColumnBuilder::Json(b), _) => b.append_null(),
            (ColumnBuilder::Long(b), Cell::Long(v)) => b.append_value(*v),
            (ColumnBuilder::Long(b), _) => b.append_null(),
            (ColumnBuilder::Int(b), Cell::Int(v)) => b.append_value(*v),
            (ColumnBuilder::Int(b), _) => b.append_null(),
            (ColumnBuilder::Bool(b), Cell::Bool(v)) => b.append_value(*v),
            (ColumnBuilder::Bool(b), _) => b.append_null(),
            (ColumnBuilder::Time(b), Cell::Time(v)) => b.append_value(*v),
            (ColumnBuilder::Time(b), _) => b.append_null(),
            (ColumnBuilder::Real(b), Cell::Real(v)) => b.append_value(*v),
            (ColumnBuilder::Real(b), _) => b.append_null(),
        }
    }

    /// The appended values as an array, its buffers shrunk to their contents (builders grow by
    /// doubling; batches are held in buffers, so the slack would count against memory).
    fn finish(&mut self) -> ArrayRef {
        fn done<A: Array + 'static>(mut a: A) -> ArrayRef {
            a.shrink_to_fit();
            Arc::new(a)
        }
        match self {
            ColumnBuilder::Str(b) => done(b.finish()),
            ColumnBuilder::Json(b) => done(b.finish()),
            ColumnBuilder::Long(b) => done(b.finish()),
            ColumnBuilder::Int(b) => done(b.finish()),
            ColumnBuilder::Bool(b) => done(b.finish()),
            ColumnBuilder::Time(b) => done(b.finish()),
            ColumnBuilder::Real(b) => done(b.finish()),
        }
    }
}

/// Accumulates rows of one table into Arrow arrays.
pub struct TableBuilder {
    def: &'static TableDef,
    columns: Vec<ColumnBuilder>,
    rows: usize,
}

impl TableBuilder {
    /// A builder for `def`, sized for `capacity` rows.
    pub fn new(def: &'static TableDef, capacity: usize) -> TableBuilder {
        TableBuilder {
            def,
            columns: def
                .columns()
                .iter()
                .map(|(_, k)| ColumnBuilder::new(*k, capacity))
                .collect(),
            rows: 0,
        }
    }

    /// Appends a row of this builder's table.
    pub fn append(&mut self, row: &Row) {
        for (b, c) in self.columns.iter_mut().zip(row.cells()) {
            b.append(c);
        }
        self.rows += 1;
    }

    /// Rows appended since the last [`TableBuilder::finish`].
    pub fn len(&self) -> usize {
        self.rows
    }

    /// Whether no rows are pending.
    pub fn is_empty(&self) -> bool {
        self.rows == 0
    }

    /// Builds a record batch of the pending rows and resets the builder.
    pub fn finish(&mut self) -> Result<RecordBatch, ArrowError> {
        let arrays: Vec<ArrayRef> = self.columns.iter_mut().map(ColumnBuilder::finish).collect();
        self.rows = 0;
        RecordBatch::try_new(self.def.schema(), arrays)
    }
}

/// Receives finished record batches, table by table.
pub trait BatchSink {
    /// Takes one batch of `table`.
    fn write_batch(&mut self, table: &str, batch: RecordBatch) -> Result<(), crate::Error>;
}

/// A sink that keeps every batch in memory.
#[derive(Debug, Default)]
pub struct MemorySink {
    /// Batches per table name.
    pub tables: BTreeMap<String, Vec<RecordBatch>>,
}

impl BatchSink for MemorySink {
    fn write_batch(&mut self, table: &str, batch: RecordBatch) -> Result<(), crate::Error> {
        self.tables.entry(table.to_string()).or_default().push(batch);
        Ok(())
    }
}

/// Routes rows to per-table builders and hands full batches to a sink.
pub struct Batcher<'s> {
    builders: BTreeMap<&'static str, TableBuilder>,
    batch_rows: usize,
    sink: &'s mut dyn BatchSink,
    rows_out: BTreeMap<&'static str, u64>,
    /// The sink refused a batch: the output failed, not an input.
    sink_failed: bool,
}

impl<'s> Batcher<'s> {
    /// Emits batches of at most `batch_rows` rows into `sink`.
    pub fn new(sink: &'s mut dyn BatchSink, batch_rows: usize) -> Batcher<'s> {
        Batcher {
            builders: BTreeMap::new(),
            batch_rows: batch_rows.max(1),
            sink,
            rows_out: BTreeMap::new(),
            sink_failed: false,
        }
    }

    /// Adds one row.
    pub fn push(&mut self, row: &Row) -> Result<(), crate::Error> {
        let def = row.table();
        let cap = self.batch_rows;
        let b = self
            .builders
            .entry(def.name())
            .or_insert_with(|| TableBuilder::new(def, cap));
        b.append(row);
        *self.rows_out.entry(def.name()).or_default() += 1;
        if b.len() >= self.batch_rows {
            let batch = b.finish()?;
            let written = self.sink.write_batch(def.name(), batch);
            self.sink_failed |= written.is_err();
            written?;
        }
        Ok(())
    }

    /// Emits every pending row.
    pub fn flush(&mut self) -> Result<(), crate::Error> {
        for (name, b) in self.builders.iter_mut() {
            if !b.is_empty() {
                let batch = b.finish()?;
                let written = self.sink.write_batch(name, batch);
                self.sink_failed |= written.is_err();
                written?;
            }
        }
        Ok(())
    }

    /// Emits the pending rows of one table.
    pub fn flush_table(&mut self, table: &str) -> Result<(), crate::Error> {
        if let Some(b) = self.builders.get_mut(table)
            && !b.is_empty()
        {
            let batch = b.finish()?;
            let written = self.sink.write_batch(table, batch);
            self.sink_failed |= written.is_err();
            written?;
        }
        Ok(())
    }

    /// Whether the sink refused a batch (the output failed, not the input being read).
    pub fn sink_failed(&self) -> bool {
        self.sink_failed
    }

    /// Hands a finished batch to the sink, noting whether it refused it.
    pub(crate) fn write_to_sink(&mut self, table: &str, batch: RecordBatch) -> Result<(), crate::Error> {
        let written = self.sink.write_batch(table, batch);
        self.sink_failed |= written.is_err();
        written
    }

    /// Rows pushed so far, per table.
    pub fn rows_per_table(&self) -> &BTreeMap<&'static str, u64> {
        &self.rows_out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::schema::{DEVICE_NETWORK_EVENTS, table};
    use datafusion::arrow::array::{Array, Int32Array};
    use serde_json::json;

    #[test]
    fn coercions() {
        assert_eq!(Cell::Str("0x3e7".into()).coerce(Kusto::Long), Some(Cell::Long(999)));
        assert_eq!(Cell::Str("443".into()).coerce(Kusto::Int), Some(Cell::Int(443)));
        assert_eq!(Cell::Str("nope".into()).coerce(Kusto::Int), None);
        assert_eq!(Cell::Str("".into()).coerce(Kusto::Long), Some(Cell::Null));
        assert_eq!(Cell::Str("TRUE".into()).coerce(Kusto::Bool), Some(Cell::Bool(true)));
        assert_eq!(Cell::Long(1 << 40).coerce(Kusto::Int), None);
        assert_eq!(
            Cell::from_json(&json!("{\"a\":1}"), Kusto::Dynamic),
            Some(Cell::Str("{\"a\":1}".into()))
        );
        assert_eq!(
            Cell::from_json(&json!("plain"), Kusto::Dynamic),
            Some(Cell::Str("\"plain\"".into()))
        );
        assert_eq!(
            Cell::from_json(&json!({"IsLocalLogon": true}), Kusto::Dynamic),
            Some(Cell::Str("{\"IsLocalLogon\":true}".into()))
        );
        assert_eq!(Cell::from_json(&json!(12.0), Kusto::Long), Some(Cell::Long(12)));
    }

    #[test]
    fn batches_have_table_schema() {
        let def = table(DEVICE_NETWORK_EVENTS).expect("table");
        let mut sink = MemorySink::default();
        {
            let mut b = Batcher::new(&mut sink, 2);
            for port in [1, 2, 3] {
                let mut r = Row::new(def);
                assert!(r.set("RemotePort", Cell::Long(port)));
                assert!(!r.set("NoSuchColumn", Cell::Long(port)));
                b.push(&r).expect("push");
            }
            b.flush().expect("flush");
        }
        let batches = &sink.tables[DEVICE_NETWORK_EVENTS];
        assert_eq!(batches.iter().map(|b| b.num_rows()).collect::<Vec<_>>(), vec![2, 1]);
        let col = batches[1]
            .column_by_name("RemotePort")
            .and_then(|c| c.as_any().downcast_ref::<Int32Array>().cloned())
            .expect("int column");
        assert_eq!(col.value(0), 3);
        assert_eq!(batches[0].schema(), def.schema());
        assert!(batches[0].column_by_name("RemoteIP").expect("col").is_null(0));
    }
}
