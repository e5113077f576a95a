//! `range`: a table whose rows are generated batch by batch as the query reads them, so a
//! range of any length holds one batch in memory, not all its rows, and everything downstream
//! (sorts, joins, aggregations) stays under the memory pool.

use async_trait::async_trait;
use datafusion::arrow::array::{ArrayRef, DurationNanosecondArray, Int64Array, RecordBatch, TimestampNanosecondArray};
use datafusion::arrow::datatypes::SchemaRef;
use datafusion::catalog::{Session, TableProvider};
use datafusion::datasource::TableType;
use datafusion::error::Result;
use datafusion::logical_expr::Expr;
use datafusion::physical_plan::ExecutionPlan;
use datafusion::physical_plan::memory::{LazyBatchGenerator, LazyMemoryExec};
use parking_lot::RwLock;
use std::any::Any;
use std::sync::Arc;

/// Rows per generated batch.
const BATCH_ROWS: u64 = 8192;

/// What a range's values are.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RangeKind {
    Long,
    Datetime,
    Timespan,
}

/// `range column from start step step`, `rows` values long.
#[derive(Debug)]
pub struct RangeTable {
    schema: SchemaRef,
    start: i64,
    step: i64,
    rows: u64,
    kind: RangeKind,
}

impl RangeTable {
    pub fn new(schema: SchemaRef, start: i64, step: i64, rows: u64, kind: RangeKind) -> RangeTable {
        RangeTable {
            schema,
            start,
            step,
            rows,
            kind,
        }
    }
}

#[async_trait]
impl TableProvider for RangeTable {
    fn schema(&self) -> SchemaRef {
        self.schema.clone()
    }

    fn table_type(&self) -> TableType {
        TableType::Temporary
    }

    async fn scan(
        &self,
        _: &dyn Session,
        projection: Option<&Vec<usize>>,
        _: &[Expr],
        limit: Option<usize>,
    ) -> Result<Arc<dyn ExecutionPlan>> {
        let rows = limit.map_or(self.rows, |l| self.rows.min(l as u64));
        let generator = RangeBatches {
            schema: self.schema.clone(),
            start: self.start,
            step: self.step,
            rows,
            next: 0,
            kind: self.kind,
        };
        let exec = LazyMemoryExec::try_new(self.schema.clone(), vec![Arc::new(RwLock::new(generator))])?
            .with_projection(projection.cloned());
        Ok(Arc::new(exec))
    }
}

/// Generates a range's batches in order.
#[derive(Debug, Clone)]
struct RangeBatches {
    schema: SchemaRef,
    start: i64,
    step: i64,
    rows: u64,
    next: u64,
    kind: RangeKind,
}

impl std::fmt::Display for RangeBatches {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "range: {} rows from {} step {}", self.rows, self.start, self.step)
    }
}

impl LazyBatchGenerator for RangeBatches {
    fn as_any(&self) -> &dyn Any {
        self
    }

    fn generate_next_batch(&mut self) -> Result<Option<RecordBatch>> {
        if self.next >= self.rows {
            return Ok(None);
        }
        let end = (self.next + BATCH_ROWS).min(self.rows);
        // Values fit i64: the planner bounds the range's rows and checks its last value.
        let values = (self.next..end).map(|i| Some(self.start.wrapping_add((i as i64).wrapping_mul(self.step))));
        let array: ArrayRef = match self.kind {
            RangeKind::Long => Arc::new(values.collect::<Int64Array>()),
            RangeKind::Datetime => Arc::new(values.collect::<TimestampNanosecondArray>().with_timezone("UTC")),
            RangeKind::Timespan => Arc::new(values.collect::<DurationNanosecondArray>()),
        };
        self.next = end;
        Ok(Some(RecordBatch::try_new(self.schema.clone(), vec![array])?))
    }

    fn reset_state(&self) -> Arc<RwLock<dyn LazyBatchGenerator>> {
        Arc::new(RwLock::new(RangeBatches {
            next: 0,
            ..self.clone()
        }))
    }
}
