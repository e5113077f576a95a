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
    /// The evidence accounting: every file read, every record skipped, every input not read.
    pub report: telemetry::Report,
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

/// `read 1160 records from 3 files (2 MiB); skipped 107 records in 1 file; 2 inputs not read`.
pub fn totals_line(report: &telemetry::Report) -> String {
    let plural = |n: usize, one: &str| format!("{n} {one}{}", if n == 1 { "" } else { "s" });
    let mut line = format!(
        "read {} records from {} ({})",
        report.records(),
        plural(report.files.len(), "file"),
        human_bytes(report.bytes())
    );
    if report.skipped_total > 0 {
        line.push_str(&format!(
            "; skipped {} unreadable records in {}",
            report.skipped_total,
            plural(report.partial_files().count().max(1), "file")
        ));
    }
    let unread = report.unread_evidence().count();
    if unread > 0 {
        line.push_str(&format!("; {} not read", plural(unread, "input")));
    }
    line
}

fn human_bytes(n: u64) -> String {
    match n {
        n if n >= 10 << 30 => format!("{} GiB", n >> 30),
        n if n >= 10 << 20 => format!("{} MiB", n >> 20),
        n if n >= 10 << 10 => format!("{} KiB", n >> 10),
        n => format!("{n} bytes"),
    }
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

/// No evidence was read at all, though some was named: an error naming what failed, not an
/// empty (clean-looking) run.
pub fn nothing_read(report: &telemetry::Report) -> Option<String> {
    if !report.files.is_empty() || report.unread_evidence().next().is_none() {
        return None;
    }
    let names: Vec<String> = report
        .unread_evidence()
        .take(5)
        .map(|u| format!("{} ({}: {})", u.path.display(), u.kind.name(), u.reason))
        .collect();
    let more = report.unread_evidence().count().saturating_sub(5);
    Some(format!(
        "no evidence could be read: {}{}",
        names.join("; "),
        if more > 0 {
            format!("; and {more} more")
        } else {
            String::new()
        }
    ))
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
        let mut report = telemetry::Report::default();
        for i in &infos {
            report.rows.insert(i.name.clone(), i.rows);
        }
        report.files.push(telemetry::FileReport {
            path: Path::new(ds.as_str()).to_path_buf(),
            format: telemetry::Format::Parquet,
            gzip: false,
            records: infos.iter().map(|i| i.rows).sum(),
            skipped: 0,
            bytes: dataset_bytes(Path::new(ds.as_str())),
        });
        return Ok(LoadReport { report, spilled: None });
    }
    let (opts, bar) = if verbose {
        progress_options()
    } else {
        (ReadOptions::default(), None)
    };
    let inputs: Vec<String> = files.into_iter().cloned().collect();
    let (found, _) = telemetry::discover(&inputs);
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
    if let Some(msg) = nothing_read(&rep) {
        return Err(msg);
    }
    engine.import_session_tables(&names).await.map_err(|e| e.to_string())?;
    Ok(LoadReport { report: rep, spilled })
}

/// Bytes of the Parquet files of a dataset folder.
fn dataset_bytes(dir: &Path) -> u64 {
    walkdir::WalkDir::new(dir)
        .into_iter()
        .filter_map(Result::ok)
        .filter_map(|e| e.metadata().ok())
        .filter(std::fs::Metadata::is_file)
        .map(|m| m.len())
        .sum()
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
