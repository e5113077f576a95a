//! `ratcatcher ingest` (evidence to a Parquet dataset per table) and `ratcatcher tables`
//! (row counts and time ranges of what evidence holds).

use crate::evidence;
use crate::exit::Status;
use datafusion::arrow::array::{AsArray, RecordBatch};
use datafusion::arrow::compute::{max, min};
use datafusion::arrow::datatypes::{DataType, TimestampNanosecondType};
use std::collections::BTreeMap;
use std::path::Path;
use std::process::ExitCode;

fn print_table_line(t: &telemetry::TableInfo) {
    let time = |v: &Option<String>| v.clone().unwrap_or_else(|| "-".into());
    println!(
        "{:<24} {:>10} rows  {} .. {}",
        t.name,
        t.rows,
        time(&t.min_time),
        time(&t.max_time)
    );
}

/// Exit codes ([`crate::exit`]): 0 everything read, 2 error, 3 some inputs or records could not
/// be read (the rest was written) unless `allow_partial`.
pub fn ingest(inputs: &[String], out: &Path, overwrite: bool, allow_partial: bool) -> ExitCode {
    let (read, bar) = evidence::progress_options();
    let options = telemetry::IngestOptions {
        read,
        overwrite,
        ..Default::default()
    };
    let result = telemetry::ingest(inputs, out, &options);
    if let Some(b) = bar {
        b.finish_and_clear();
    }
    match result {
        Ok(summary) => {
            evidence::print_report(&summary.report);
            if let Some(msg) = evidence::nothing_read(&summary.report) {
                eprintln!("error: {msg}");
                return ExitCode::from(2);
            }
            for t in summary.tables.iter().filter(|t| t.rows > 0) {
                print_table_line(t);
            }
            println!("wrote {}", out.display());
            Status {
                incomplete: !summary.report.is_complete(),
                allow_partial,
                ..Status::default()
            }
            .exit_code()
        }
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::from(2)
        }
    }
}

/// Rows and time range of one table.
#[derive(Default)]
struct Stat {
    rows: usize,
    min: Option<i64>,
    max: Option<i64>,
}

/// Counts rows and time ranges per table as batches arrive and drops the batches, so listing
/// any amount of evidence takes the memory of one batch.
#[derive(Default)]
struct TableStats {
    tables: BTreeMap<String, Stat>,
}

impl telemetry::BatchSink for TableStats {
    fn write_batch(&mut self, table: &str, batch: RecordBatch) -> Result<(), telemetry::Error> {
        let stat = self.tables.entry(table.to_string()).or_default();
        stat.rows += batch.num_rows();
        let col = batch
            .column_by_name("Timestamp")
            .or_else(|| batch.column_by_name("TimeGenerated"))
            .filter(|c| matches!(c.data_type(), DataType::Timestamp(..)));
        if let Some(c) = col {
            let ts = c.as_primitive::<TimestampNanosecondType>();
            stat.min = stat.min.into_iter().chain(min(ts)).min();
            stat.max = stat.max.into_iter().chain(max(ts)).max();
        }
        Ok(())
    }
}

/// Lists tables with rows and time ranges, from a dataset folder or by reading evidence.
pub fn tables(inputs: &[String], allow_partial: bool) -> ExitCode {
    if let [one] = inputs
        && telemetry::is_dataset(Path::new(one))
    {
        return match telemetry::list_tables(Path::new(one)) {
            Ok(infos) => {
                for t in infos.iter().filter(|t| t.rows > 0) {
                    print_table_line(t);
                }
                ExitCode::SUCCESS
            }
            Err(e) => {
                eprintln!("error: {one}: {e}");
                ExitCode::from(2)
            }
        };
    }
    let (opts, bar) = evidence::progress_options();
    let mut stats = TableStats::default();
    let result = telemetry::read_inputs(inputs, &opts, &mut stats);
    if let Some(b) = bar {
        b.finish_and_clear();
    }
    let report = match result {
        Ok(r) => r,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::from(2);
        }
    };
    evidence::print_report(&report);
    if let Some(msg) = evidence::nothing_read(&report) {
        eprintln!("error: {msg}");
        return ExitCode::from(2);
    }
    let fmt = |t: Option<i64>| t.map_or_else(|| "-".to_string(), engine::value::format_datetime);
    for (name, t) in stats.tables.iter().filter(|(_, t)| t.rows > 0) {
        println!("{name:<24} {:>10} rows  {} .. {}", t.rows, fmt(t.min), fmt(t.max));
    }
    Status {
        incomplete: !report.is_complete(),
        allow_partial,
        ..Status::default()
    }
    .exit_code()
}
