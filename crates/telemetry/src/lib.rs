//! Evidence readers producing Arrow record batches in Defender Advanced Hunting schemas.
//!
//! Inputs (EVTX, event XML, evtx JSON/JSONL, Defender and Sentinel exports, Parquet datasets
//! written by [`ingest()`]) are detected by content, read as streams, normalised into the tables
//! of [`schema`] and handed out as Arrow record batches.
//!
//! Modules depend one way: the format readers (`readers`) and `discovery` build on the mapping
//! ([`map`]), [`schema`], [`event`] and [`time`]; [`source`] (reading inputs) and `ingest`
//! (writing datasets, `dataset`) orchestrate them.
#![warn(missing_docs)]

mod dataset;
mod discovery;
pub mod event;
mod ingest;
pub mod ledger;
pub mod map;
mod readers;
mod report;
mod row;
pub mod schema;
pub mod source;
mod text;
pub mod time;

pub use dataset::{
    IngestOptions, TABLES_FILE, TableInfo, dataset_files, is_dataset, list_tables, register_dataset, register_tables,
    time_range,
};
pub use discovery::{discover, is_evtx, sniff};
pub use ingest::{IngestSummary, ingest};
pub use readers::ReadOptions;
pub use readers::evtx::{MAX_SKIP_DETAILS, evtx_error, scan_evtx};
pub use readers::parquet::align_batch;
pub use report::{FileReport, Format, Location, Progress, ProgressFn, Report, Skipped, Unread, UnreadKind};
pub use row::{BatchSink, MemorySink};
pub use source::{read_buffer, read_files, read_inputs, read_to_memory};
/// Errors of this crate. Each names the file it concerns where there is one.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// Reading or writing a file failed.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: std::path::PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
    /// An input path or pattern matched nothing / could not be walked.
    #[error("{0}")]
    Input(String),
    /// Building Arrow data failed.
    #[error("arrow: {0}")]
    Arrow(#[from] datafusion::arrow::error::ArrowError),
    /// Writing or reading Parquet failed.
    #[error("parquet: {0}")]
    Parquet(#[from] datafusion::parquet::errors::ParquetError),
    /// DataFusion failed.
    #[error("datafusion: {0}")]
    DataFusion(#[from] datafusion::error::DataFusionError),
}
