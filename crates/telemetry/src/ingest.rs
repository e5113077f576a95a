//! `ingest`: reads inputs and writes them as an ingested dataset (see [`crate::dataset`]).

use std::path::Path;

use crate::Error;
use crate::dataset::{IngestOptions, ParquetSink, TABLES_FILE, TableInfo};
use crate::readers::io_err;
use crate::report::Report;
use crate::schema;
use crate::source::read_inputs;

/// What an ingest read and wrote.
#[derive(Debug, Clone)]
pub struct IngestSummary {
    /// What was read.
    pub report: Report,
    /// What was written, per table.
    pub tables: Vec<TableInfo>,
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
                std::fs::remove_dir_all(&d).map_err(|e| io_err(&d, e))?;
            }
        }
        std::fs::remove_file(&listing).map_err(|e| io_err(&listing, e))?;
    }
    std::fs::create_dir_all(out_dir).map_err(|e| io_err(out_dir, e))?;
    let mut sink = ParquetSink::new(out_dir, options);
    let report = read_inputs(inputs, &options.read, &mut sink)?;
    let tables = sink.finish()?;
    Ok(IngestSummary { report, tables })
}
