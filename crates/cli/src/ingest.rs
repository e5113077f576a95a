//! `ratcatcher ingest` (evidence to a Parquet dataset per table) and `ratcatcher tables`
//! (row counts and time ranges of what evidence holds).

use crate::evidence;
use datafusion::arrow::array::{Array, AsArray};
use datafusion::arrow::datatypes::TimestampNanosecondType;
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

/// Exit codes: 0 everything read, 1 some records or files were skipped (the rest was written), 2 error.
pub fn ingest(inputs: &[String], out: &Path, overwrite: bool) -> ExitCode {
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
            for t in summary.tables.iter().filter(|t| t.rows > 0) {
                print_table_line(t);
            }
            println!("wrote {}", out.display());
            let lost = summary.report.skipped_total > 0 || !summary.report.unknown_files.is_empty();
            if lost { ExitCode::from(1) } else { ExitCode::SUCCESS }
        }
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::from(2)
        }
    }
}

/// Lists tables with rows and time ranges, from a dataset folder or by reading evidence.
pub fn tables(inputs: &[String]) -> ExitCode {
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
    let result = telemetry::read_to_memory(inputs, &opts);
    if let Some(b) = bar {
        b.finish_and_clear();
    }
    let (tables, report) = match result {
        Ok(r) => r,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::from(2);
        }
    };
    evidence::print_report(&report);
    for (name, batches) in &tables {
        let rows: usize = batches.iter().map(|b| b.num_rows()).sum();
        if rows == 0 {
            continue;
        }
        let (mut lo, mut hi) = (i64::MAX, i64::MIN);
        for b in batches {
            let col = b
                .column_by_name("Timestamp")
                .or_else(|| b.column_by_name("TimeGenerated"));
            if let Some(c) =
                col.filter(|c| matches!(c.data_type(), datafusion::arrow::datatypes::DataType::Timestamp(..)))
            {
                let ts = c.as_primitive::<TimestampNanosecondType>();
                for i in 0..ts.len() {
                    if !ts.is_null(i) {
                        lo = lo.min(ts.value(i));
                        hi = hi.max(ts.value(i));
                    }
                }
            }
        }
        let fmt = |t: i64| {
            if t == i64::MAX || t == i64::MIN {
                "-".to_string()
            } else {
                engine::value::format_datetime(t)
            }
        };
        println!("{name:<24} {rows:>10} rows  {} .. {}", fmt(lo), fmt(hi));
    }
    if report.skipped_total > 0 || !report.unknown_files.is_empty() {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    }
}
