//! Evidence loading for `query`, `tables` and `ingest`: telemetry inputs (EVTX, exports, ingested
//! datasets) and plain `--table NAME=PATH` files become engine tables; what was skipped is reported.

use engine::Engine;
use indicatif::{ProgressBar, ProgressStyle};
use std::io::IsTerminal;
use std::path::Path;
use std::sync::Arc;
use telemetry::source::{Progress, ReadOptions};

/// What loading read and what it had to leave out.
#[derive(Default)]
pub struct LoadReport {
    pub records: u64,
    pub skipped: u64,
    pub unknown_files: usize,
    /// The temporary dataset large evidence was ingested into; the engine's tables read it, so
    /// it must live as long as the engine is queried (deleted when dropped).
    #[allow(dead_code, reason = "held for its Drop, which deletes the folder")]
    pub spilled: Option<tempfile::TempDir>,
}

/// Evidence bigger than this on disk is not decoded into memory: it is ingested into a temporary
/// Parquet dataset first (as `ratcatcher ingest` would), so memory stays bounded however much
/// evidence there is. `RATCATCHER_SPILL_BYTES` overrides it.
const SPILL_BYTES: u64 = 256 << 20;

fn spill_threshold() -> u64 {
    std::env::var("RATCATCHER_SPILL_BYTES")
        .ok()
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or(SPILL_BYTES)
}

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

/// Prints the reader's summary of skipped records and unknown files to stderr.
pub fn print_report(report: &telemetry::source::Report) {
    for (path, why) in &report.unknown_files {
        eprintln!("warning: {}: skipped: {why}", path.display());
    }
    for s in &report.skipped {
        eprintln!("warning: {s}");
    }
    if report.skipped_total > report.skipped.len() as u64 {
        eprintln!(
            "warning: ... and {} more skipped records",
            report.skipped_total - report.skipped.len() as u64
        );
    }
    for w in &report.warnings {
        eprintln!("warning: {w}");
    }
    eprintln!(
        "read {} records from {} files{}{}",
        report.records(),
        report.files.len(),
        if report.skipped_total > 0 {
            format!(", skipped {} unreadable records", report.skipped_total)
        } else {
            String::new()
        },
        if report.unknown_files.is_empty() {
            String::new()
        } else {
            format!(", {} files not recognised", report.unknown_files.len())
        },
    );
}

/// Loads evidence (files, folders, globs, ingested datasets) into the engine's tables.
pub async fn load_evidence(engine: &mut Engine, inputs: &[String]) -> Result<LoadReport, String> {
    load(engine, inputs, true).await
}

/// Like [`load_evidence`] without progress or the summary on stderr (the caller reports).
pub async fn load_evidence_quietly(engine: &mut Engine, inputs: &[String]) -> Result<LoadReport, String> {
    load(engine, inputs, false).await
}

async fn load(engine: &mut Engine, inputs: &[String], verbose: bool) -> Result<LoadReport, String> {
    let names: Vec<&str> = telemetry::schema::tables().iter().map(|t| t.name()).collect();
    let (datasets, files): (Vec<&String>, Vec<&String>) =
        inputs.iter().partition(|i| telemetry::is_dataset(Path::new(i)));
    if datasets.len() > 1 || (!datasets.is_empty() && !files.is_empty()) {
        return Err("give either one ingested dataset folder or evidence files, not both".into());
    }
    if let Some(ds) = datasets.first() {
        let infos = telemetry::register_dataset(engine.session(), Path::new(ds.as_str()))
            .await
            .map_err(|e| format!("{ds}: {e}"))?;
        engine.import_session_tables(&names).await.map_err(|e| e.to_string())?;
        return Ok(LoadReport {
            records: infos.iter().map(|i| i.rows).sum(),
            ..LoadReport::default()
        });
    }
    let (opts, bar) = if verbose {
        progress_options()
    } else {
        (ReadOptions::default(), None)
    };
    let inputs: Vec<String> = files.into_iter().cloned().collect();
    let found = telemetry::discover(&inputs).map_err(|e| e.to_string())?;
    let bytes: u64 = found
        .iter()
        .filter_map(|f| std::fs::metadata(f).ok())
        .map(|m| m.len())
        .sum();
    // Large evidence is ingested into a temporary dataset and registered from there; the rest is
    // decoded into memory.
    let spilled = if bytes > spill_threshold() {
        Some(spill_folder(bytes, verbose)?)
    } else {
        None
    };
    let rep = match &spilled {
        Some(dir) => {
            let out = dir.path().to_path_buf();
            let options = telemetry::IngestOptions {
                read: opts,
                ..Default::default()
            };
            let summary = blocking(move || telemetry::ingest(&inputs, &out, &options)).await?;
            telemetry::register_dataset(engine.session(), dir.path())
                .await
                .map_err(|e| format!("{}: {e}", dir.path().display()))?;
            summary.report
        }
        None => {
            let (tables, rep) = blocking(move || telemetry::read_to_memory(&inputs, &opts)).await?;
            let partitions = std::thread::available_parallelism().map_or(2, |n| n.get());
            telemetry::register_tables(engine.session(), tables, partitions).map_err(|e| e.to_string())?;
            rep
        }
    };
    if let Some(b) = bar {
        b.finish_and_clear();
    }
    if verbose {
        print_report(&rep);
    }
    engine.import_session_tables(&names).await.map_err(|e| e.to_string())?;
    Ok(LoadReport {
        records: rep.records(),
        skipped: rep.skipped_total,
        unknown_files: rep.unknown_files.len(),
        spilled,
    })
}

/// Runs a blocking read on tokio's blocking pool.
async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> Result<T, telemetry::Error> + Send + 'static,
) -> Result<T, String> {
    tokio::task::spawn_blocking(f)
        .await
        .map_err(|e| format!("reading evidence: {e}"))?
        .map_err(|e| e.to_string())
}

/// The temporary folder large evidence is ingested into (deleted when dropped).
fn spill_folder(bytes: u64, verbose: bool) -> Result<tempfile::TempDir, String> {
    let dir = tempfile::Builder::new()
        .prefix("ratcatcher-evidence-")
        .tempdir()
        .map_err(|e| format!("creating a temporary dataset folder: {e}"))?;
    if verbose {
        eprintln!(
            "note: {} MiB of evidence: ingesting it into a temporary Parquet dataset in {} (deleted at exit) \
             to keep memory bounded; `ratcatcher ingest` keeps one for later runs",
            bytes >> 20,
            dir.path().display()
        );
    }
    Ok(dir)
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
