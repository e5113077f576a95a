//! Evidence readers producing Arrow record batches in Defender Advanced Hunting schemas.
//!
//! Inputs (EVTX, event XML, evtx JSON/JSONL, Defender and Sentinel exports, Parquet datasets
//! written by [`ingest`]) are detected by content, read as streams, normalised into the tables
//! of [`schema`] and handed out as Arrow record batches.

pub mod event;
mod export;
pub mod ingest;
pub mod ledger;
pub mod map;
mod parquet;
mod readers;
pub mod row;
pub mod schema;
pub mod source;
pub mod text;
pub mod time;

pub use ingest::{
    IngestOptions, IngestSummary, TableInfo, dataset_files, ingest, is_dataset, list_tables, register_dataset,
    register_tables,
};
pub use parquet::align_batch;
pub use readers::evtx::{MAX_SKIP_DETAILS, is_evtx, scan_evtx};
pub use row::{BatchSink, MemorySink};
pub use source::{
    FileReport, Format, Location, Progress, ProgressFn, ReadOptions, Report, Skipped, Unread, UnreadKind, discover,
    read_buffer, read_files, read_inputs, read_to_memory,
};

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
