//! Evidence for `hunt`, `query`, `tables` and `ingest`, as the terminal shows it: the progress
//! bar, the evidence accounting on stderr and as JSON. Loading itself (and the spill policy) is
//! `detect::evidence`.

use detect::evidence::{LoadOptions, Loaded};
use engine::Engine;
use indicatif::{ProgressBar, ProgressStyle};
use std::io::IsTerminal;
use std::path::Path;
use std::sync::Arc;
use telemetry::source::{Progress, ReadOptions};

pub use detect::evidence::{nothing_read, totals_line};

/// A progress bar on stderr when it is a terminal (files, records, bytes, rate).
pub fn progress_options() -> (ReadOptions, Option<ProgressBar>) {
    let mut opts = ReadOptions::default();
    if !std::io::stderr().is_terminal() {
        return (opts, None);
    }
    let bar = ProgressBar::new(0);
    bar.set_style(
        ProgressStyle::with_template("{spinner} {msg} [{elapsed_precise}] {bytes}/{total_bytes} ({bytes_per_sec})")
            .unwrap_or_else(|_| ProgressStyle::default_spinner()),
    );
    let b = bar.clone();
    let records = Arc::new(std::sync::atomic::AtomicU64::new(0));
    opts.progress = Some(Arc::new(move |p: &Progress<'_>| match p {
        Progress::FileStarted { bytes, .. } => b.inc_length(*bytes),
        Progress::Records { .. } => {}
        Progress::FileFinished {
            path,
            records: n,
            bytes,
        } => {
            b.inc(*bytes);
            let total = records.fetch_add(*n, std::sync::atomic::Ordering::Relaxed) + n;
            b.set_message(format!(
                "{total} records, last {}",
                path.file_name().map(|f| f.to_string_lossy()).unwrap_or_default()
            ));
        }
    }));
    (opts, Some(bar))
}

/// Skipped-record details printed on stderr (all are in `--report`).
const SHOWN_SKIP_DETAILS: usize = 20;

/// Prints the evidence accounting to stderr: each input not read, the first skipped records,
/// the readers' notes, then one line of totals (and what makes the evidence incomplete).
pub fn print_report(report: &telemetry::Report) {
    for u in report.unread_evidence() {
        eprintln!(
            "warning: {}: not read ({}): {}",
            u.path.display(),
            u.kind.name(),
            u.reason
        );
    }
    for s in report.skipped.iter().take(SHOWN_SKIP_DETAILS) {
        eprintln!("warning: {s}");
    }
    let shown = report.skipped.len().min(SHOWN_SKIP_DETAILS) as u64;
    if report.skipped_total > shown {
        eprintln!(
            "warning: ... and {} more skipped records (all files are listed with --report)",
            report.skipped_total - shown
        );
    }
    for w in &report.warnings {
        eprintln!("warning: {w}");
    }
    let incomplete = if report.is_complete() {
        ""
    } else {
        " — evidence incomplete"
    };
    eprintln!("{}{incomplete}", totals_line(report));
}

/// The evidence accounting as JSON (the `evidence` part of a run's summary): totals, each file
/// read, each input not read, and the skipped records kept in detail.
pub fn report_json(report: &telemetry::Report) -> serde_json::Value {
    let path = |p: &Path| serde_json::Value::String(p.to_string_lossy().into_owned());
    let files: Vec<serde_json::Value> = report
        .files
        .iter()
        .map(|f| {
            serde_json::json!({
                "path": path(&f.path),
                "format": f.format.to_string(),
                "gzip": f.gzip,
                "bytes": f.bytes,
                "records": f.records,
                "skipped": f.skipped,
            })
        })
        .collect();
    let unread: Vec<serde_json::Value> = report
        .unread
        .iter()
        .map(|u| {
            serde_json::json!({
                "path": path(&u.path),
                "kind": u.kind.name(),
                "reason": u.reason,
                "counts": u.kind != telemetry::UnreadKind::NotEvidence,
            })
        })
        .collect();
    let skipped: Vec<serde_json::Value> = report
        .skipped
        .iter()
        .map(|s| {
            serde_json::json!({
                "path": path(&s.file),
                "location": s.location.to_string(),
                "reason": s.reason,
            })
        })
        .collect();
    serde_json::json!({
        "complete": report.is_complete(),
        "files_read": report.files.len(),
        "bytes": report.bytes(),
        "records": report.records(),
        "skipped_records": report.skipped_total,
        "inputs_not_read": report.unread_evidence().count(),
        "rows": report.rows,
        "files": files,
        "unread": unread,
        "skipped": skipped,
        "warnings": report.warnings,
    })
}

/// Loads evidence into the engine's tables with a progress bar on a terminal, then prints the
/// evidence accounting on stderr.
pub async fn load_evidence(engine: &mut Engine, inputs: &[String]) -> Result<Loaded, String> {
    let (read, bar) = progress_options();
    let options = load_options(read);
    let loaded = detect::evidence::load_evidence(engine, inputs, &options).await;
    if let Some(b) = bar {
        b.finish_and_clear();
    }
    let loaded = loaded.map_err(crate::exit::error_message)?;
    print_report(&loaded.report);
    Ok(loaded)
}

/// Loading options for the terminal: the readers' options, and a note on stderr when large
/// evidence goes through a temporary dataset.
pub fn load_options(read: ReadOptions) -> LoadOptions {
    LoadOptions {
        read,
        on_spill: Some(Arc::new(|bytes: u64, dir: &Path| {
            eprintln!(
                "note: {} MiB of evidence: ingesting it into a temporary Parquet dataset in {} (deleted at exit) \
                 to keep memory bounded; `ratcatcher ingest` keeps one for later runs",
                bytes >> 20,
                dir.display()
            );
        })),
        ..LoadOptions::default()
    }
}

/// Registers `NAME=PATH` tables (Parquet, CSV, JSON lines).
pub async fn load_named_tables(engine: &mut Engine, specs: &[String]) -> Result<(), String> {
    for spec in specs {
        let (name, path) = spec
            .split_once('=')
            .ok_or_else(|| format!("--table {spec}: expected NAME=PATH"))?;
        let loaded = engine::load::load_file(engine.session(), Path::new(path)).await?;
        for (line, why) in &loaded.skipped {
            eprintln!("warning: {path}: line {line}: skipped: {why}");
        }
        engine.register_table(name, loaded.table);
    }
    Ok(())
}
