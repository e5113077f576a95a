//! Evidence into an engine: telemetry inputs (EVTX, exports, an ingested dataset) become the
//! engine's Defender tables, large evidence through a temporary Parquet dataset so memory stays
//! bounded (the spill policy), with the evidence accounting of every file read and skipped.

use crate::error::{Error, Result};
use engine::Engine;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use telemetry::source::ReadOptions;

/// Evidence bigger than this on disk is not decoded into memory: it is ingested into a temporary
/// Parquet dataset first (as `ratcatcher ingest` would), so memory stays bounded however much
/// evidence there is. `RATCATCHER_SPILL_BYTES` overrides it.
pub(crate) const SPILL_BYTES: u64 = 256 << 20;

/// Called once when evidence is about to be ingested into a temporary dataset: its size in bytes
/// and the folder (deleted when the [`Loaded`] evidence is dropped).
pub(crate) type SpillNotice = Arc<dyn Fn(u64, &Path) + Send + Sync>;

/// How evidence is loaded.
#[derive(Clone)]
pub struct LoadOptions {
    /// The readers' options (progress callback, threads).
    pub read: ReadOptions,
    /// Evidence larger than this (bytes on disk) goes through a temporary dataset.
    pub spill_bytes: u64,
    /// Told when evidence is spilled.
    pub on_spill: Option<SpillNotice>,
}

impl Default for LoadOptions {
    fn default() -> Self {
        LoadOptions {
            read: ReadOptions::default(),
            spill_bytes: spill_threshold(),
            on_spill: None,
        }
    }
}

/// The spill threshold: `RATCATCHER_SPILL_BYTES` or [`SPILL_BYTES`].
pub(crate) fn spill_threshold() -> u64 {
    std::env::var("RATCATCHER_SPILL_BYTES")
        .ok()
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or(SPILL_BYTES)
}

/// What loading read and what it had to leave out.
#[derive(Default)]
pub struct Loaded {
    /// The evidence accounting: every file read, every record skipped, every input not read.
    pub report: telemetry::Report,
    /// The temporary dataset large evidence was ingested into; the engine's tables read it, so
    /// it must live as long as the engine is queried (deleted when dropped).
    spilled: Option<tempfile::TempDir>,
}

impl Loaded {
    /// The temporary dataset folder, when the evidence was spilled.
    pub fn spilled(&self) -> Option<&Path> {
        self.spilled.as_ref().map(tempfile::TempDir::path)
    }
}

/// Loads evidence (files, folders, globs, or one ingested dataset) into the engine's tables.
/// Inputs that cannot be read are in the report; when none could be read at all this is an
/// error ([`nothing_read`]), never an empty, clean result.
pub async fn load_evidence(engine: &mut Engine, inputs: &[String], options: &LoadOptions) -> Result<Loaded> {
    let names: Vec<&str> = telemetry::schema::tables().iter().map(|t| t.name()).collect();
    let (datasets, files): (Vec<&String>, Vec<&String>) =
        inputs.iter().partition(|i| telemetry::is_dataset(Path::new(i)));
    if datasets.len() > 1 || (!datasets.is_empty() && !files.is_empty()) {
        return Err(Error::Usage(
            "give either one ingested dataset folder or evidence files, not both".into(),
        ));
    }
    if let Some(ds) = datasets.first() {
        let dir = Path::new(ds.as_str());
        let infos = telemetry::register_dataset(engine.session(), dir)
            .await
            .map_err(|e| Error::Usage(format!("{ds}: {e}")))?;
        engine.import_session_tables(&names).await?;
        let mut report = telemetry::Report::default();
        for i in &infos {
            report.rows.insert(i.name.clone(), i.rows);
        }
        report.files.push(telemetry::FileReport {
            path: dir.to_path_buf(),
            format: telemetry::Format::Parquet,
            gzip: false,
            records: infos.iter().map(|i| i.rows).sum(),
            skipped: 0,
            bytes: dataset_bytes(dir),
        });
        return Ok(Loaded { report, spilled: None });
    }
    let inputs: Vec<String> = files.into_iter().cloned().collect();
    let (found, _) = telemetry::discover(&inputs);
    let bytes: u64 = found
        .iter()
        .filter_map(|f| std::fs::metadata(f).ok())
        .map(|m| m.len())
        .sum();
    // Large evidence is ingested into a temporary dataset and registered from there; the rest is
    // decoded into memory.
    let spilled = if bytes > options.spill_bytes {
        let dir = tempfile::Builder::new()
            .prefix("ratcatcher-evidence-")
            .tempdir()
            .map_err(|e| Error::io("creating a temporary dataset folder", e))?;
        if let Some(notice) = &options.on_spill {
            notice(bytes, dir.path());
        }
        Some(dir)
    } else {
        None
    };
    let read = options.read.clone();
    let report = match &spilled {
        Some(dir) => {
            let out = dir.path().to_path_buf();
            let options = telemetry::IngestOptions {
                read,
                ..Default::default()
            };
            let summary = blocking(move || telemetry::ingest(&inputs, &out, &options)).await?;
            telemetry::register_dataset(engine.session(), dir.path())
                .await
                .map_err(|e| Error::Usage(format!("{}: {e}", dir.path().display())))?;
            summary.report
        }
        None => {
            let (tables, report) = blocking(move || telemetry::read_to_memory(&inputs, &read)).await?;
            let partitions = std::thread::available_parallelism().map_or(2, |n| n.get());
            telemetry::register_tables(engine.session(), tables, partitions)?;
            report
        }
    };
    if let Some(message) = nothing_read(&report) {
        return Err(Error::NothingRead {
            message,
            report: Box::new(report),
        });
    }
    engine.import_session_tables(&names).await?;
    Ok(Loaded { report, spilled })
}

/// When no input could be read at all, why: the inputs not read (the first five) and how many
/// more. `None` when something was read, or when nothing was given to read.
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

/// The folders rules may read files from (`externaldata`): each `allow_read` folder and the
/// evidence (inputs as given; a glob by the files it names). Nothing else.
pub fn file_access(inputs: &[String], allow_read: &[PathBuf]) -> Result<engine::FileAccess> {
    let mut roots: Vec<PathBuf> = Vec::new();
    for dir in allow_read {
        if !dir.is_dir() {
            return Err(Error::Usage(format!("--allow-read {}: not a folder", dir.display())));
        }
        roots.push(dir.clone());
    }
    for input in inputs {
        let path = Path::new(input);
        if path.exists() {
            roots.push(path.to_path_buf());
        } else {
            roots.extend(telemetry::discover(std::slice::from_ref(input)).0);
        }
    }
    Ok(engine::FileAccess::Under(roots))
}

/// One line of totals: `read 1160 records from 3 files (2 MiB); skipped 107 unreadable records
/// in 1 file; 2 inputs not read`.
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

/// A size for people: bytes, KiB, MiB or GiB (whole units from ten of them).
pub(crate) fn human_bytes(n: u64) -> String {
    match n {
        n if n >= 10 << 30 => format!("{} GiB", n >> 30),
        n if n >= 10 << 20 => format!("{} MiB", n >> 20),
        n if n >= 10 << 10 => format!("{} KiB", n >> 10),
        n => format!("{n} bytes"),
    }
}

/// Bytes of the Parquet files of a dataset folder.
fn dataset_bytes(dir: &Path) -> u64 {
    walkdir::WalkDir::new(dir)
        .into_iter()
        .filter_map(std::result::Result::ok)
        .filter_map(|e| e.metadata().ok())
        .filter(std::fs::Metadata::is_file)
        .map(|m| m.len())
        .sum()
}

/// Runs a blocking read on tokio's blocking pool.
async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> std::result::Result<T, telemetry::Error> + Send + 'static,
) -> Result<T> {
    tokio::task::spawn_blocking(f)
        .await
        .map_err(|e| Error::Usage(format!("reading evidence: {e}")))?
        .map_err(Error::from)
}
