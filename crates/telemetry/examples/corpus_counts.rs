//! Corpus check: per-file record counts against the evtx crate's own count, and row totals.
//!
//! Usage: `cargo run --release -p ratcatcher-telemetry --example corpus_counts -- DIR`
//! (e.g. `/work/shared/corpus/evtx-bench`). For every EVTX file it compares the records this
//! crate read with the records `EvtxParser::records()` yields (what `evtx_dump` prints), then
//! prints row totals per table and checks that DeviceProcessEvents rows equal the Sysmon 1
//! plus Security 4688 events seen. Exits non-zero on any mismatch.

use std::collections::BTreeMap;
use std::process::ExitCode;
use std::time::Instant;

use datafusion::arrow::array::{Array, Int32Array, StringArray};
use datafusion::arrow::record_batch::RecordBatch;
use telemetry::{BatchSink, Error, Format, ReadOptions, discover, read_files};

/// Counts rows per table, and WindowsEvent rows per (provider, event id).
#[derive(Default)]
struct Counter {
    rows: BTreeMap<String, u64>,
    events: BTreeMap<(String, i32), u64>,
}

impl BatchSink for Counter {
    fn write_batch(&mut self, table: &str, batch: RecordBatch) -> Result<(), Error> {
        *self.rows.entry(table.to_string()).or_default() += batch.num_rows() as u64;
        if table == "WindowsEvent" {
            let provider = batch
                .column_by_name("Provider")
                .and_then(|c| c.as_any().downcast_ref::<StringArray>().cloned());
            let id = batch
                .column_by_name("EventID")
                .and_then(|c| c.as_any().downcast_ref::<Int32Array>().cloned());
            if let (Some(p), Some(id)) = (provider, id) {
                for i in 0..batch.num_rows() {
                    let key = (p.value(i).to_string(), if id.is_null(i) { -1 } else { id.value(i) });
                    *self.events.entry(key).or_default() += 1;
                }
            }
        }
        Ok(())
    }
}

fn evtx_crate_count(path: &std::path::Path) -> (u64, u64) {
    let Ok(mut parser) = evtx::EvtxParser::from_path(path) else {
        return (0, 1);
    };
    let (mut ok, mut err) = (0, 0);
    for r in parser.records() {
        if r.is_ok() {
            ok += 1;
        } else {
            err += 1;
        }
    }
    (ok, err)
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.is_empty() {
        eprintln!("usage: corpus_counts DIR_OR_FILES...");
        return ExitCode::from(2);
    }
    let (files, missing) = discover(&args);
    for m in &missing {
        eprintln!("{m}");
    }
    if files.is_empty() {
        return ExitCode::from(2);
    }
    let mut counter = Counter::default();
    let start = Instant::now();
    let report = match read_files(&files, &ReadOptions::default(), &mut counter) {
        Ok(r) => r,
        Err(e) => {
            eprintln!("{e}");
            return ExitCode::FAILURE;
        }
    };
    let elapsed = start.elapsed();
    let mut mismatches = 0;
    let mut evtx_files = 0;
    let mut reference_total = 0;
    for f in &report.files {
        if f.format != Format::Evtx {
            continue;
        }
        evtx_files += 1;
        let (reference, ref_errors) = evtx_crate_count(&f.path);
        reference_total += reference;
        let status = if reference == f.records { "ok" } else { "MISMATCH" };
        if reference != f.records {
            mismatches += 1;
        }
        println!(
            "{status}\t{}\trecords={}\tevtx_crate={reference}\tskipped={}\tevtx_crate_errors={ref_errors}",
            f.path.display(),
            f.records,
            f.skipped
        );
    }
    for u in &report.unread {
        println!("unknown\t{}\t{}", u.path.display(), u.reason);
    }
    for s in &report.skipped {
        println!("skipped\t{s}");
    }
    let sysmon1 = counter
        .events
        .get(&("Microsoft-Windows-Sysmon".to_string(), 1))
        .copied()
        .unwrap_or(0);
    let sec4688 = counter
        .events
        .get(&("Microsoft-Windows-Security-Auditing".to_string(), 4688))
        .copied()
        .unwrap_or(0);
    let dpe = counter.rows.get("DeviceProcessEvents").copied().unwrap_or(0);
    println!("---");
    println!(
        "evtx files: {evtx_files}, records read: {}, evtx crate records: {reference_total}",
        report.records()
    );
    println!(
        "skipped records: {}, unknown files: {}",
        report.skipped_total,
        report.unread.len()
    );
    for (t, n) in &counter.rows {
        println!("rows\t{t}\t{n}");
    }
    println!(
        "Sysmon 1: {sysmon1}, Security 4688: {sec4688}, sum: {}, DeviceProcessEvents rows: {dpe}",
        sysmon1 + sec4688
    );
    let secs = elapsed.as_secs_f64();
    println!(
        "time: {secs:.2}s ({:.0} records/s)",
        report.records() as f64 / secs.max(1e-9)
    );
    if mismatches > 0 || dpe != sysmon1 + sec4688 {
        eprintln!(
            "{mismatches} file(s) differ; DeviceProcessEvents check {}",
            dpe == sysmon1 + sec4688
        );
        return ExitCode::FAILURE;
    }
    ExitCode::SUCCESS
}
