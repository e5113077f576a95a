//! Ingest: write inputs as one Parquet dataset per table, list such datasets, and register
//! tables (in-memory batches or Parquet datasets) with a DataFusion session.

use std::collections::BTreeMap;
use std::fs::File;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use datafusion::arrow::array::{Array, TimestampNanosecondArray};
use datafusion::arrow::compute::{SortOptions, concat_batches, sort_to_indices, take_record_batch};
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
use crate::row::BatchSink;
use crate::schema::{self, TableDef};
use crate::source::{ReadOptions, Report, read_inputs};
use crate::time::{format_datetime, parse_datetime};

/// Name of the listing file an ingest writes next to the table folders.
pub const TABLES_FILE: &str = "tables.json";

/// How to ingest.
#[derive(Debug, Clone)]
pub struct IngestOptions {
    /// How to read the inputs.
    pub read: ReadOptions,
    /// Rows per Parquet file (each file is sorted by time on its own; bounds memory use).
    pub rows_per_file: usize,
    /// Rows per Parquet row group.
    pub row_group_rows: usize,
    /// Replace a dataset already in the output folder.
    pub overwrite: bool,
}

impl Default for IngestOptions {
    fn default() -> Self {
        IngestOptions {
            read: ReadOptions::default(),
            rows_per_file: 250_000,
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

/// What an ingest read and wrote.
#[derive(Debug, Clone)]
pub struct IngestSummary {
    /// What was read.
    pub report: Report,
    /// What was written, per table.
    pub tables: Vec<TableInfo>,
}

struct Pending {
    def: &'static TableDef,
    batches: Vec<RecordBatch>,
    rows: usize,
    info: TableInfo,
    min: Option<i64>,
    max: Option<i64>,
}

/// A sink writing sorted Parquet files per table.
struct ParquetSink {
    dir: PathBuf,
    options: IngestOptions,
    tables: BTreeMap<String, Pending>,
}

fn io(path: &Path, source: std::io::Error) -> Error {
    Error::Io {
        path: path.to_path_buf(),
        source,
    }
}

impl ParquetSink {
    fn write_file(&mut self, name: &str) -> Result<(), Error> {
        let Some(p) = self.tables.get_mut(name) else {
            return Ok(());
        };
        if p.rows == 0 {
            return Ok(());
        }
        let schema = p.def.schema();
        let all = concat_batches(&schema, &p.batches)?;
        p.batches.clear();
        p.rows = 0;
        let time_col = p.def.time_column();
        let sorted = match all.column_by_name(time_col) {
            Some(col) => {
                let idx = sort_to_indices(
                    col,
                    Some(SortOptions {
                        descending: false,
                        nulls_first: true,
                    }),
                    None,
                )?;
                take_record_batch(&all, &idx)?
            }
            None => all,
        };
        if let Some(ts) = sorted
            .column_by_name(time_col)
            .and_then(|c| c.as_any().downcast_ref::<TimestampNanosecondArray>())
        {
            let valid = (0..ts.len()).filter(|&i| ts.is_valid(i)).map(|i| ts.value(i));
            for v in valid {
                p.min = Some(p.min.map_or(v, |m| m.min(v)));
                p.max = Some(p.max.map_or(v, |m| m.max(v)));
            }
        }
        let folder = self.dir.join(name);
        std::fs::create_dir_all(&folder).map_err(|e| io(&folder, e))?;
        let per_file = self.options.rows_per_file.max(1);
        let mut offset = 0;
        while offset < sorted.num_rows() {
            let len = per_file.min(sorted.num_rows() - offset);
            let part = sorted.slice(offset, len);
            offset += len;
            let file_name = format!("part-{:05}.parquet", p.info.files.len());
            let path = folder.join(&file_name);
            let file = File::create(&path).map_err(|e| io(&path, e))?;
            let props = WriterProperties::builder()
                .set_compression(Compression::ZSTD(ZstdLevel::default()))
                .set_statistics_enabled(EnabledStatistics::Page)
                .set_max_row_group_row_count(Some(self.options.row_group_rows.max(1)))
                .build();
            let mut writer = ArrowWriter::try_new(file, Arc::clone(&schema), Some(props))?;
            writer.write(&part)?;
            writer.close()?;
            p.info.rows += part.num_rows() as u64;
            p.info.files.push(format!("{name}/{file_name}"));
        }
        Ok(())
    }

    fn finish(mut self) -> Result<Vec<TableInfo>, Error> {
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
        let p = self.tables.entry(table.to_string()).or_insert_with(|| Pending {
            def,
            batches: Vec::new(),
            rows: 0,
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
        p.rows += batch.num_rows();
        p.batches.push(batch);
        if p.rows >= self.options.rows_per_file {
            self.write_file(table)?;
        }
        Ok(())
    }
}

/// Reads `inputs` and writes one Parquet dataset per table under `out_dir`
/// (`<out_dir>/<Table>/part-NNNNN.parquet`, each file sorted by time, ZSTD, page statistics),
/// plus `tables.json` listing row counts and time ranges.
pub fn ingest<S: AsRef<str>>(inputs: &[S], out_dir: &Path, options: &IngestOptions) -> Result<IngestSummary, Error> {
    let listing = out_dir.join(TABLES_FILE);
    if listing.exists() {
        if !options.overwrite {
            return Err(Error::Input(format!(
                "{}: already holds a dataset (use overwrite to replace it)",
                out_dir.display()
            )));
        }
        for t in schema::tables() {
            let d = out_dir.join(t.name());
            if d.is_dir() {
                std::fs::remove_dir_all(&d).map_err(|e| io(&d, e))?;
            }
        }
        std::fs::remove_file(&listing).map_err(|e| io(&listing, e))?;
    }
    std::fs::create_dir_all(out_dir).map_err(|e| io(out_dir, e))?;
    let mut sink = ParquetSink {
        dir: out_dir.to_path_buf(),
        options: options.clone(),
        tables: BTreeMap::new(),
    };
    let report = read_inputs(inputs, &options.read, &mut sink)?;
    let tables = sink.finish()?;
    Ok(IngestSummary { report, tables })
}

/// The `tables.json` listing of a dataset folder.
pub fn list_tables(dataset: &Path) -> Result<Vec<TableInfo>, Error> {
    let path = dataset.join(TABLES_FILE);
    let text = std::fs::read_to_string(&path).map_err(|e| io(&path, e))?;
    let listing: Listing =
        serde_json::from_str(&text).map_err(|e| io(&path, std::io::Error::new(std::io::ErrorKind::InvalidData, e)))?;
    Ok(listing.tables)
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
        let mut parts: Vec<Vec<RecordBatch>> = vec![Vec::new(); n];
        for (i, b) in batches.into_iter().enumerate() {
            parts[i % n].push(b);
        }
        let mem = MemTable::try_new(def.schema(), parts)?;
        ctx.register_table(TableReference::bare(def.name()), Arc::new(mem))?;
    }
    Ok(())
}

/// Registers the tables of a dataset folder written by [`ingest`] as Parquet listing tables
/// with the canonical schemas; known tables absent from the dataset are registered empty.
pub async fn register_dataset(ctx: &SessionContext, dataset: &Path) -> Result<Vec<TableInfo>, Error> {
    let infos = list_tables(dataset)?;
    for def in schema::tables() {
        let present = infos.iter().any(|i| i.name == def.name() && i.rows > 0);
        if present {
            let dir = dataset.join(def.name());
            let schema = def.schema();
            let opts = ParquetReadOptions {
                schema: Some(schema.as_ref()),
                ..ParquetReadOptions::default()
            };
            let url = format!("{}/", dir.display());
            ctx.register_parquet(TableReference::bare(def.name()), url, opts)
                .await?;
        } else {
            let mem = MemTable::try_new(def.schema(), vec![Vec::new()])?;
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
