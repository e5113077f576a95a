//! Ingested datasets: one Parquet dataset per table (time-sorted file parts written within a
//! memory budget) and its `tables.json` listing; listing, finding and registering such datasets
//! (or in-memory batches) as tables of a DataFusion session.

use std::collections::BTreeMap;
use std::fs::File;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use datafusion::arrow::array::{Array, TimestampNanosecondArray};
use datafusion::arrow::compute::{SortOptions, concat, interleave_record_batch, max, min, sort_to_indices};
use datafusion::arrow::datatypes::SchemaRef;
use datafusion::arrow::record_batch::RecordBatch;
use datafusion::catalog::MemTable;
use datafusion::common::TableReference;
use datafusion::execution::options::ParquetReadOptions;
use datafusion::parquet::arrow::ArrowWriter;
use datafusion::parquet::basic::{Compression, ZstdLevel};
use datafusion::parquet::file::properties::{EnabledStatistics, WriterProperties};
use datafusion::prelude::SessionContext;
use serde::{Deserialize, Serialize};

use crate::Error;
use crate::readers::ReadOptions;
use crate::row::BatchSink;
use crate::schema::{self, TableDef};
use crate::time::{format_datetime, parse_datetime};

/// Name of the listing file an ingest writes next to the table folders.
pub const TABLES_FILE: &str = "tables.json";

/// How to ingest.
///
/// Memory: each table's batches are buffered until the table holds `table_buffer_bytes` of
/// Arrow data or `rows_per_file` rows, or until all tables together hold `total_buffer_bytes`
/// (then the largest buffer goes first). A flushed buffer is sorted by the table's time column
/// and written as one Parquet file part, row group by row group, so writing needs only one row
/// group of extra memory.
#[derive(Debug, Clone)]
pub struct IngestOptions {
    /// How to read the inputs.
    pub read: ReadOptions,
    /// Most rows per Parquet file (each file is sorted by time on its own).
    pub rows_per_file: usize,
    /// Arrow bytes one table buffers before it is written as a file.
    pub table_buffer_bytes: usize,
    /// Arrow bytes all tables together buffer before the largest is written.
    pub total_buffer_bytes: usize,
    /// Rows per Parquet row group.
    pub row_group_rows: usize,
    /// Replace a dataset already in the output folder.
    pub overwrite: bool,
}

impl Default for IngestOptions {
    fn default() -> Self {
        IngestOptions {
            read: ReadOptions::default(),
            rows_per_file: 1_000_000,
            table_buffer_bytes: 32 << 20,
            total_buffer_bytes: 64 << 20,
            row_group_rows: 65_536,
            overwrite: false,
        }
    }
}

/// One table of a dataset, as listed in `tables.json`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TableInfo {
    /// Table name.
    pub name: String,
    /// Rows in the table.
    pub rows: u64,
    /// Earliest `Timestamp` (or `TimeGenerated`), RFC 3339.
    pub min_time: Option<String>,
    /// Latest `Timestamp` (or `TimeGenerated`), RFC 3339.
    pub max_time: Option<String>,
    /// Parquet files, relative to the dataset folder.
    pub files: Vec<String>,
}

#[derive(Debug, Serialize, Deserialize)]
struct Listing {
    tables: Vec<TableInfo>,
}

/// The buffered batches of one table.
struct Pending {
    def: &'static TableDef,
    batches: Vec<RecordBatch>,
    rows: usize,
    bytes: usize,
    info: TableInfo,
    min: Option<i64>,
    max: Option<i64>,
}

/// A sink writing time-sorted Parquet file parts per table, within a memory budget.
pub(crate) struct ParquetSink {
    dir: PathBuf,
    options: IngestOptions,
    tables: BTreeMap<String, Pending>,
    /// Arrow bytes buffered across all tables.
    buffered: usize,
}

fn io(path: &Path, source: std::io::Error) -> Error {
    Error::Io {
        path: path.to_path_buf(),
        source,
    }
}

/// The order that sorts `batches` by column `col` (nulls first, ties in input order), as
/// (batch, row) pairs; `None` when they are already in that order.
fn sort_order(batches: &[RecordBatch], col: usize) -> Result<Option<Vec<(usize, usize)>>, Error> {
    let times: Option<Vec<&TimestampNanosecondArray>> = batches
        .iter()
        .map(|b| b.column(col).as_any().downcast_ref::<TimestampNanosecondArray>())
        .collect();
    if let Some(times) = times {
        // (valid, value) orders nulls first; the position breaks ties, so the sort is stable.
        let key = |a: &TimestampNanosecondArray, r: usize| (a.is_valid(r), if a.is_valid(r) { a.value(r) } else { 0 });
        let mut sorted = true;
        let mut prev = (false, i64::MIN);
        'check: for a in &times {
            for r in 0..a.len() {
                let k = key(a, r);
                if k < prev {
                    sorted = false;
                    break 'check;
                }
                prev = k;
            }
        }
        if sorted {
            return Ok(None);
        }
        let mut keys: Vec<((bool, i64), usize, usize)> = Vec::with_capacity(batches.iter().map(|b| b.num_rows()).sum());
        for (b, a) in times.iter().enumerate() {
            keys.extend((0..a.len()).map(|r| (key(a, r), b, r)));
        }
        keys.sort_unstable();
        return Ok(Some(keys.into_iter().map(|(_, b, r)| (b, r)).collect()));
    }
    // Other column types (tables without a time column): sort one concatenated column.
    let arrays: Vec<&dyn Array> = batches.iter().map(|b| b.column(col).as_ref()).collect();
    let all = concat(&arrays)?;
    let idx = sort_to_indices(
        &all,
        Some(SortOptions {
            descending: false,
            nulls_first: true,
        }),
        None,
    )?;
    let mut starts = Vec::with_capacity(batches.len());
    let mut n = 0;
    for b in batches {
        starts.push(n);
        n += b.num_rows();
    }
    let order: Vec<(usize, usize)> = idx
        .values()
        .iter()
        .map(|&i| {
            let i = i as usize;
            let b = starts.partition_point(|&s| s <= i) - 1;
            (b, i - starts[b])
        })
        .collect();
    if order.iter().enumerate().all(|(k, &(b, r))| starts[b] + r == k) {
        return Ok(None);
    }
    Ok(Some(order))
}

/// Writes sorted rows into consecutive file parts of at most `per_file` rows.
struct PartWriter<'a> {
    folder: PathBuf,
    table: &'a str,
    schema: SchemaRef,
    props: WriterProperties,
    per_file: usize,
    /// The table's file list, relative to the dataset folder; new parts are added to it.
    files: &'a mut Vec<String>,
    /// The part being written and its rows so far.
    open: Option<(ArrowWriter<File>, usize)>,
}

impl PartWriter<'_> {
    fn write(&mut self, batch: &RecordBatch) -> Result<(), Error> {
        let mut offset = 0;
        while offset < batch.num_rows() {
            let (writer, rows) = match &mut self.open {
                Some(open) => open,
                None => {
                    let file_name = format!("part-{:05}.parquet", self.files.len());
                    let path = self.folder.join(&file_name);
                    let file = File::create(&path).map_err(|e| io(&path, e))?;
                    let writer = ArrowWriter::try_new(file, Arc::clone(&self.schema), Some(self.props.clone()))?;
                    self.files.push(format!("{}/{file_name}", self.table));
                    self.open.insert((writer, 0))
                }
            };
            let n = (self.per_file - *rows).min(batch.num_rows() - offset);
            writer.write(&batch.slice(offset, n))?;
            *rows += n;
            offset += n;
            if *rows >= self.per_file {
                self.close()?;
            }
        }
        Ok(())
    }

    fn close(&mut self) -> Result<(), Error> {
        if let Some((writer, _)) = self.open.take() {
            writer.close()?;
        }
        Ok(())
    }
}

impl ParquetSink {
    /// A sink writing under `dir` (which must exist).
    pub(crate) fn new(dir: &Path, options: &IngestOptions) -> ParquetSink {
        ParquetSink {
            dir: dir.to_path_buf(),
            options: options.clone(),
            tables: BTreeMap::new(),
            buffered: 0,
        }
    }

    /// Sorts the buffered batches of table `name` and writes them as one new file part.
    fn write_file(&mut self, name: &str) -> Result<(), Error> {
        let Some(p) = self.tables.get_mut(name) else {
            return Ok(());
        };
        let batches = std::mem::take(&mut p.batches);
        self.buffered -= p.bytes;
        p.rows = 0;
        p.bytes = 0;
        let rows: usize = batches.iter().map(RecordBatch::num_rows).sum();
        if rows == 0 {
            return Ok(());
        }
        let schema = p.def.schema();
        let time_col = schema
            .index_of(p.def.time_column())
            .map_err(|e| Error::Input(format!("{name}: {e}")))?;
        for b in &batches {
            if let Some(ts) = b.column(time_col).as_any().downcast_ref::<TimestampNanosecondArray>() {
                p.min = p.min.into_iter().chain(min(ts)).min();
                p.max = p.max.into_iter().chain(max(ts)).max();
            }
        }
        let order = sort_order(&batches, time_col)?;

        let folder = self.dir.join(name);
        std::fs::create_dir_all(&folder).map_err(|e| io(&folder, e))?;
        let group = self.options.row_group_rows.max(1);
        let mut parts = PartWriter {
            folder,
            table: name,
            schema,
            props: WriterProperties::builder()
                .set_compression(Compression::ZSTD(ZstdLevel::default()))
                .set_statistics_enabled(EnabledStatistics::Page)
                .set_max_row_group_row_count(Some(group))
                .build(),
            per_file: self.options.rows_per_file.max(1),
            files: &mut p.info.files,
            open: None,
        };
        match order {
            // Already in time order: the batches go out as they are.
            None => {
                for b in &batches {
                    parts.write(b)?;
                }
            }
            // Gathered a slice at a time, so only one slice is copied at once.
            Some(order) => {
                let refs: Vec<&RecordBatch> = batches.iter().collect();
                for slice in order.chunks(group.min(8192)) {
                    parts.write(&interleave_record_batch(&refs, slice)?)?;
                }
            }
        }
        parts.close()?;
        p.info.rows += rows as u64;
        Ok(())
    }

    pub(crate) fn finish(mut self) -> Result<Vec<TableInfo>, Error> {
        let names: Vec<String> = self.tables.keys().cloned().collect();
        for n in &names {
            self.write_file(n)?;
        }
        let mut out = Vec::new();
        for (_, p) in self.tables {
            let mut info = p.info;
            info.min_time = p.min.map(format_datetime);
            info.max_time = p.max.map(format_datetime);
            out.push(info);
        }
        let listing = Listing { tables: out.clone() };
        let path = self.dir.join(TABLES_FILE);
        let text = serde_json::to_string_pretty(&listing).map_err(|e| io(&path, std::io::Error::other(e)))?;
        std::fs::write(&path, text).map_err(|e| io(&path, e))?;
        Ok(out)
    }
}

impl BatchSink for ParquetSink {
    fn write_batch(&mut self, table: &str, batch: RecordBatch) -> Result<(), Error> {
        let Some(def) = schema::table(table) else {
            return Err(Error::Input(format!("batch for unknown table {table}")));
        };
        if batch.num_rows() == 0 {
            return Ok(());
        }
        let p = self.tables.entry(table.to_string()).or_insert_with(|| Pending {
            def,
            batches: Vec::new(),
            rows: 0,
            bytes: 0,
            info: TableInfo {
                name: table.to_string(),
                rows: 0,
                min_time: None,
                max_time: None,
                files: Vec::new(),
            },
            min: None,
            max: None,
        });
        let size = batch.get_array_memory_size();
        p.rows += batch.num_rows();
        p.bytes += size;
        p.batches.push(batch);
        self.buffered += size;
        if p.rows >= self.options.rows_per_file.max(1) || p.bytes >= self.options.table_buffer_bytes {
            self.write_file(table)?;
        }
        while self.buffered > self.options.total_buffer_bytes {
            let Some(largest) = self
                .tables
                .iter()
                .filter(|(_, p)| p.rows > 0)
                .max_by_key(|(_, p)| p.bytes)
                .map(|(n, _)| n.clone())
            else {
                break;
            };
            self.write_file(&largest)?;
        }
        Ok(())
    }
}

/// The `tables.json` listing of a dataset folder.
pub fn list_tables(dataset: &Path) -> Result<Vec<TableInfo>, Error> {
    let path = dataset.join(TABLES_FILE);
    let text = std::fs::read_to_string(&path).map_err(|e| io(&path, e))?;
    let listing: Listing =
        serde_json::from_str(&text).map_err(|e| io(&path, std::io::Error::new(std::io::ErrorKind::InvalidData, e)))?;
    Ok(listing.tables)
}

/// The Parquet files of an ingested dataset: only `WindowsEvent` when it has rows (the Device
/// tables were derived from the same events), else every table.
pub fn dataset_files(dir: &Path) -> Result<Vec<PathBuf>, Error> {
    let tables = list_tables(dir)?;
    let raw = tables.iter().any(|t| t.name == schema::WINDOWS_EVENT && t.rows > 0);
    let mut out = Vec::new();
    for t in tables {
        if raw && t.name != schema::WINDOWS_EVENT {
            continue;
        }
        for f in &t.files {
            out.push(dir.join(f));
        }
    }
    Ok(out)
}

/// Whether `dir` holds a dataset written by [`ingest`].
pub fn is_dataset(dir: &Path) -> bool {
    dir.join(TABLES_FILE).is_file()
}

/// Registers in-memory batches as tables (every known table is registered; those without
/// rows are empty). Batches are spread over `partitions` partitions for parallel scans.
pub fn register_tables(
    ctx: &SessionContext,
    tables: BTreeMap<String, Vec<RecordBatch>>,
    partitions: usize,
) -> Result<(), Error> {
    let mut tables = tables;
    for def in schema::tables() {
        let batches = tables.remove(def.name()).unwrap_or_default();
        let n = partitions.max(1);
        let schema = query_schema(def);
        let mut parts: Vec<Vec<RecordBatch>> = vec![Vec::new(); n];
        for (i, b) in batches.into_iter().enumerate() {
            parts[i % n].push(RecordBatch::try_new(schema.clone(), b.columns().to_vec())?);
        }
        let mem = MemTable::try_new(schema, parts)?;
        ctx.register_table(TableReference::bare(def.name()), Arc::new(mem))?;
    }
    Ok(())
}

/// A table's schema as queries see it: without the table-name schema metadata (which only labels
/// Parquet files), so unions of different tables have equal logical and physical schemas.
fn query_schema(def: &schema::TableDef) -> SchemaRef {
    Arc::new(def.schema().as_ref().clone().with_metadata(Default::default()))
}

/// Registers the tables of a dataset folder written by [`ingest`] as Parquet listing tables
/// with the canonical schemas; known tables absent from the dataset are registered empty.
pub async fn register_dataset(ctx: &SessionContext, dataset: &Path) -> Result<Vec<TableInfo>, Error> {
    let infos = list_tables(dataset)?;
    for def in schema::tables() {
        let present = infos.iter().any(|i| i.name == def.name() && i.rows > 0);
        if present {
            let dir = dataset.join(def.name());
            let schema = query_schema(def);
            let opts = ParquetReadOptions {
                schema: Some(schema.as_ref()),
                ..ParquetReadOptions::default()
            };
            let url = format!("{}/", dir.display());
            ctx.register_parquet(TableReference::bare(def.name()), url, opts)
                .await?;
        } else {
            let mem = MemTable::try_new(query_schema(def), vec![Vec::new()])?;
            ctx.register_table(TableReference::bare(def.name()), Arc::new(mem))?;
        }
    }
    Ok(infos)
}

/// The time range of a listing entry as UTC nanoseconds.
pub fn time_range(info: &TableInfo) -> (Option<i64>, Option<i64>) {
    (
        info.min_time.as_deref().and_then(parse_datetime),
        info.max_time.as_deref().and_then(parse_datetime),
    )
}
