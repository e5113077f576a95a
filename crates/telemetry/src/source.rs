//! Input discovery, format detection by content, and the read loop that feeds every reader's
//! output into table batches while counting what was read and what was skipped.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::fs::File;
use std::io::{BufRead, BufReader, Cursor, Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use datafusion::arrow::record_batch::RecordBatch;
use evtx::EvtxParser;
use flate2::read::MultiGzDecoder;
use globset::Glob;
use walkdir::WalkDir;

use crate::Error;
use crate::event::{WinEvent, XmlEvents};
use crate::map::Mapper;
use crate::row::{BatchSink, Batcher, MemorySink, Row};
use crate::schema::TableDef;
use crate::text::{TextEncoding, Utf16Decoder};

/// Bytes read ahead to recognise a file's format.
pub(crate) const SNIFF_LIMIT: usize = 64 * 1024;
use crate::readers::evtx::{EVTX_CHUNK, EVTX_HEADER};
/// Records between two progress reports for the same file.
const PROGRESS_EVERY: u64 = 4096;

/// What a file was recognised as.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Format {
    /// Windows EVTX (`ElfFile\0`).
    Evtx,
    /// Windows event XML (`<Event>` elements).
    EventXml,
    /// JSON: evtx records, Defender/Sentinel exports, JSON lines of either.
    Json,
    /// CSV with a header row of table column names.
    Csv,
    /// Parquet (datasets written by `ingest`).
    Parquet,
}

impl fmt::Display for Format {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Format::Evtx => "evtx",
            Format::EventXml => "event-xml",
            Format::Json => "json",
            Format::Csv => "csv",
            Format::Parquet => "parquet",
        })
    }
}

/// Where in a file a skipped record was.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Location {
    /// Byte offset (in the decompressed stream for gzip input).
    Offset(u64),
    /// 1-based line number.
    Line(u64),
    /// EVTX record number.
    Record(u64),
    /// 1-based row number in a table file (Parquet).
    Row(u64),
    /// Nowhere more precise than the file.
    File,
}

impl fmt::Display for Location {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Location::Offset(o) => write!(f, "offset {o}"),
            Location::Line(l) => write!(f, "line {l}"),
            Location::Record(r) => write!(f, "record {r}"),
            Location::Row(r) => write!(f, "row {r}"),
            Location::File => f.write_str("file"),
        }
    }
}

/// A record that was skipped, with where and why.
#[derive(Debug, Clone, PartialEq)]
pub struct Skipped {
    /// The file.
    pub file: PathBuf,
    /// Where in it.
    pub location: Location,
    /// Why.
    pub reason: String,
}

impl fmt::Display for Skipped {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}: {}", self.file.display(), self.location, self.reason)
    }
}

/// What was read from one file.
#[derive(Debug, Clone, PartialEq)]
pub struct FileReport {
    /// The file.
    pub path: PathBuf,
    /// Its detected format.
    pub format: Format,
    /// Whether it was gzip-compressed.
    pub gzip: bool,
    /// Records read (events, export rows, Parquet rows).
    pub records: u64,
    /// Records skipped as unreadable.
    pub skipped: u64,
    /// Size on disk.
    pub bytes: u64,
}

/// Why an input gave no records at all.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum UnreadKind {
    /// An input named on the command line that does not exist or matched no file.
    Missing,
    /// A file or folder that could not be opened or walked (permissions, a symlink loop, I/O).
    Unreadable,
    /// An empty file.
    Empty,
    /// A file whose content is no format the readers know.
    Unrecognised,
    /// A file that is known not to be evidence (the table listing of an ingested dataset): it
    /// does not make the evidence incomplete.
    NotEvidence,
}

impl UnreadKind {
    /// A short name (`missing`, `unreadable`, `empty`, `unrecognised`, `not evidence`).
    pub fn name(self) -> &'static str {
        match self {
            UnreadKind::Missing => "missing",
            UnreadKind::Unreadable => "unreadable",
            UnreadKind::Empty => "empty",
            UnreadKind::Unrecognised => "unrecognised",
            UnreadKind::NotEvidence => "not evidence",
        }
    }
}

/// An input that gave no records: where, what kind of failure, and the reason.
#[derive(Debug, Clone, PartialEq)]
pub struct Unread {
    /// The file, folder or pattern.
    pub path: PathBuf,
    /// What went wrong.
    pub kind: UnreadKind,
    /// Why, in words.
    pub reason: String,
}

impl fmt::Display for Unread {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}: {}", self.path.display(), self.kind.name(), self.reason)
    }
}

/// The outcome of reading a set of inputs: the evidence accounting every command reports.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Report {
    /// Every file that was read (in whole or in part), in order.
    pub files: Vec<FileReport>,
    /// Skipped records (details kept up to [`ReadOptions::max_skip_details`]).
    pub skipped: Vec<Skipped>,
    /// All skipped records, including those beyond the kept details.
    pub skipped_total: u64,
    /// Inputs that gave no records: missing, unreadable, empty or unrecognised files.
    pub unread: Vec<Unread>,
    /// Notes worth showing once (e.g. export columns that no table has).
    pub warnings: Vec<String>,
    /// Rows produced per table.
    pub rows: BTreeMap<String, u64>,
}

impl Report {
    /// Records read across all files.
    pub fn records(&self) -> u64 {
        self.files.iter().map(|f| f.records).sum()
    }

    /// Bytes on disk of the files read.
    pub fn bytes(&self) -> u64 {
        self.files.iter().map(|f| f.bytes).sum()
    }

    /// Inputs that should have given evidence and gave none (everything but
    /// [`UnreadKind::NotEvidence`]).
    pub fn unread_evidence(&self) -> impl Iterator<Item = &Unread> {
        self.unread.iter().filter(|u| u.kind != UnreadKind::NotEvidence)
    }

    /// Files read only in part (some records skipped).
    pub fn partial_files(&self) -> impl Iterator<Item = &FileReport> {
        self.files.iter().filter(|f| f.skipped > 0)
    }

    /// Whether every input was read in full: no record skipped, no input unread.
    pub fn is_complete(&self) -> bool {
        self.skipped_total == 0 && self.unread_evidence().next().is_none()
    }

    /// Adds another report's accounting to this one (files in order after these).
    pub fn merge(&mut self, other: Report, max_skip_details: usize) {
        self.files.extend(other.files);
        let room = max_skip_details.saturating_sub(self.skipped.len());
        self.skipped.extend(other.skipped.into_iter().take(room));
        self.skipped_total += other.skipped_total;
        self.unread.extend(other.unread);
        self.warnings.extend(other.warnings);
        for (t, n) in other.rows {
            *self.rows.entry(t).or_default() += n;
        }
    }
}

/// A progress notification.
#[derive(Debug, Clone, PartialEq)]
pub enum Progress<'a> {
    /// A file is about to be read.
    FileStarted {
        /// The file.
        path: &'a Path,
        /// Its size on disk.
        bytes: u64,
    },
    /// More records of the current file were read (sent every few thousand records).
    Records {
        /// The file.
        path: &'a Path,
        /// Records read from it so far.
        records: u64,
    },
    /// A file is done.
    FileFinished {
        /// The file.
        path: &'a Path,
        /// Records read from it.
        records: u64,
        /// Its size on disk.
        bytes: u64,
    },
}

/// A progress callback.
pub type ProgressFn = Arc<dyn Fn(&Progress<'_>) + Send + Sync>;

/// How to read inputs.
#[derive(Clone)]
pub struct ReadOptions {
    /// Rows per emitted record batch.
    pub batch_rows: usize,
    /// Worker threads for EVTX parsing: chunks of big files, whole small files ahead of the
    /// consumer (0: one per core; 1: everything on the calling thread).
    pub threads: usize,
    /// Skipped-record details kept in the report (the total is always counted).
    pub max_skip_details: usize,
    /// Progress callback.
    pub progress: Option<ProgressFn>,
}

impl Default for ReadOptions {
    fn default() -> Self {
        ReadOptions {
            batch_rows: 8192,
            threads: 0,
            max_skip_details: crate::readers::evtx::MAX_SKIP_DETAILS,
            progress: None,
        }
    }
}

impl fmt::Debug for ReadOptions {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ReadOptions")
            .field("batch_rows", &self.batch_rows)
            .field("threads", &self.threads)
            .field("max_skip_details", &self.max_skip_details)
            .field("progress", &self.progress.is_some())
            .finish()
    }
}

fn has_glob_chars(s: &str) -> bool {
    s.contains(['*', '?', '[', '{'])
}

/// Expands inputs into a sorted, de-duplicated file list: files as given, folders walked
/// recursively (following symlinks, loops reported), anything else read as a glob pattern.
/// Inputs that match nothing and folders or files that cannot be walked are returned as
/// [`Unread`] entries; they never stop the others from being found.
pub fn discover<S: AsRef<str>>(inputs: &[S]) -> (Vec<PathBuf>, Vec<Unread>) {
    let mut out = BTreeSet::new();
    let mut problems = Vec::new();
    for input in inputs {
        let input = input.as_ref();
        let path = Path::new(input);
        let before = out.len();
        let missing = |reason: String| Unread {
            path: path.to_path_buf(),
            kind: UnreadKind::Missing,
            reason,
        };
        if path.is_file() {
            out.insert(path.to_path_buf());
        } else if path.is_dir() {
            walk(path, &mut out, None, &mut problems);
        } else if has_glob_chars(input) {
            let matcher = match Glob::new(input) {
                Ok(g) => g.compile_matcher(),
                Err(e) => {
                    problems.push(missing(format!("bad glob pattern: {e}")));
                    continue;
                }
            };
            // Walk from the longest leading part of the pattern without wildcards.
            let mut base = PathBuf::new();
            for comp in Path::new(input).components() {
                let s = comp.as_os_str().to_string_lossy();
                if has_glob_chars(&s) {
                    break;
                }
                base.push(comp);
            }
            if base.as_os_str().is_empty() {
                base = PathBuf::from(".");
            }
            if base.is_dir() {
                walk(
                    &base,
                    &mut out,
                    Some(&|p: &Path| matcher.is_match(p) || matcher.is_match(p.strip_prefix("./").unwrap_or(p))),
                    &mut problems,
                );
            }
            if out.len() == before {
                problems.push(missing("the pattern matched no files".into()));
            }
        } else {
            let reason = match std::fs::symlink_metadata(path) {
                Ok(m) if m.file_type().is_symlink() => "a symbolic link whose target does not exist".to_string(),
                Ok(_) => "not a file or folder".to_string(),
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => "no such file or folder".to_string(),
                Err(e) => e.to_string(),
            };
            problems.push(missing(reason));
        }
    }
    (out.into_iter().collect(), problems)
}

fn walk(dir: &Path, out: &mut BTreeSet<PathBuf>, keep: Option<&dyn Fn(&Path) -> bool>, problems: &mut Vec<Unread>) {
    for entry in WalkDir::new(dir).follow_links(true).sort_by_file_name() {
        match entry {
            Ok(entry) => {
                if entry.file_type().is_file() && keep.is_none_or(|k| k(entry.path())) {
                    out.insert(entry.into_path());
                }
            }
            Err(e) => {
                let path = e.path().unwrap_or(dir).to_path_buf();
                let reason = if let Some(ancestor) = e.loop_ancestor() {
                    format!("symbolic link loop back to {} (not followed)", ancestor.display())
                } else if let Some(io) = e.io_error() {
                    io.to_string()
                } else {
                    e.to_string()
                };
                problems.push(Unread {
                    path,
                    kind: UnreadKind::Unreadable,
                    reason,
                });
            }
        }
    }
}

/// Recognises a format from the first bytes of a (decompressed) file.
pub fn sniff(head: &[u8]) -> Option<Format> {
    if head.starts_with(b"ElfFile\0") {
        return Some(Format::Evtx);
    }
    if head.starts_with(b"PAR1") {
        return Some(Format::Parquet);
    }
    let text = head.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(head);
    let start = text.iter().position(|b| !b.is_ascii_whitespace())?;
    let text = &text[start..];
    match text[0] {
        b'<' => return Some(Format::EventXml),
        b'{' | b'[' => return Some(Format::Json),
        _ => {}
    }
    if text.starts_with(b"Record ") && text.get(7).is_some_and(u8::is_ascii_digit) {
        return Some(Format::Json);
    }
    // JSON lines whose first line is broken (a file cut at the front, a torn write).
    let whole = head.len() < SNIFF_LIMIT;
    if crate::export::looks_like_json_lines(text, whole) {
        return Some(Format::Json);
    }
    // CSV: a header line naming at least two columns of a known table.
    crate::export::csv_layout(text).map(|_| Format::Csv)
}

/// Why a file with content was not recognised, in words a user can act on: what the name
/// promised, what the first line looks like.
fn unrecognised_reason(path: &Path, head: &[u8], text: Option<TextEncoding>) -> String {
    let ext = path
        .extension()
        .map(|e| e.to_string_lossy().to_ascii_lowercase())
        .unwrap_or_default();
    let first_line = head.split(|b| *b == b'\n').next().unwrap_or_default();
    let shown: String = String::from_utf8_lossy(&first_line[..first_line.len().min(120)])
        .chars()
        .map(|c| if c.is_control() { '.' } else { c })
        .collect();
    let printable = head
        .iter()
        .take(512)
        .all(|b| b.is_ascii_graphic() || b.is_ascii_whitespace() || *b >= 0x80);
    let encoding = text.map_or(String::new(), |t| format!(" (decoded from {t:?})"));
    match ext.as_str() {
        "evtx" => "not an EVTX file: it does not start with the `ElfFile` signature".to_string(),
        "csv" | "tsv" if printable => format!(
            "a CSV header naming no column of a known table{encoding}: `{shown}` (docs/evidence.md lists the headers read)"
        ),
        _ if printable => format!("format not recognised{encoding}; first line: `{shown}`"),
        _ => format!(
            "format not recognised: binary content starting {}",
            head.iter()
                .take(8)
                .map(|b| format!("{b:02x}"))
                .collect::<Vec<_>>()
                .join(" ")
        ),
    }
}

fn io_err(path: &Path, source: std::io::Error) -> Error {
    Error::Io {
        path: path.to_path_buf(),
        source,
    }
}

/// An opened input: a buffered (decompressed, decoded) stream and its first bytes.
struct Opened {
    reader: Box<dyn BufRead + Send>,
    head: Vec<u8>,
    /// `head` holds the whole (decoded) input.
    whole: bool,
    gzip: bool,
    /// The text encoding decoded to UTF-8, if it was not plain UTF-8.
    text: Option<TextEncoding>,
}

/// Wraps a stream whose first bytes (`head`, at most [`SNIFF_LIMIT`]) were read already: text
/// in UTF-16 is decoded to UTF-8 and a UTF-8 byte order mark is dropped, so every reader sees
/// UTF-8 without a BOM. Offsets reported for such files count bytes of the decoded text.
fn decoded(head: Vec<u8>, stream: Box<dyn Read + Send>, gzip: bool, capacity: usize) -> std::io::Result<Opened> {
    let whole = head.len() < SNIFF_LIMIT;
    match TextEncoding::detect(&head) {
        None => Ok(Opened {
            reader: Box::new(BufReader::with_capacity(
                capacity,
                Cursor::new(head.clone()).chain(stream),
            )),
            head,
            whole,
            gzip,
            text: None,
        }),
        Some((enc @ TextEncoding::Utf8Bom, bom)) => {
            let body = head.get(bom..).unwrap_or_default().to_vec();
            Ok(Opened {
                reader: Box::new(BufReader::with_capacity(
                    capacity,
                    Cursor::new(body.clone()).chain(stream),
                )),
                head: body,
                whole,
                gzip,
                text: Some(enc),
            })
        }
        Some((enc, bom)) => {
            let body = head.get(bom..).unwrap_or_default().to_vec();
            let mut decoder = Utf16Decoder::new(Cursor::new(body).chain(stream), enc == TextEncoding::Utf16Be);
            let head = read_head(&mut decoder, SNIFF_LIMIT)?;
            Ok(Opened {
                reader: Box::new(BufReader::with_capacity(
                    capacity,
                    Cursor::new(head.clone()).chain(decoder),
                )),
                whole: head.len() < SNIFF_LIMIT,
                head,
                gzip,
                text: Some(enc),
            })
        }
    }
}

fn read_head(r: &mut dyn Read, n: usize) -> std::io::Result<Vec<u8>> {
    let mut head = Vec::with_capacity(n);
    r.take(n as u64).read_to_end(&mut head)?;
    Ok(head)
}

fn open(path: &Path) -> Result<Opened, Error> {
    let mut file = File::open(path).map_err(|e| io_err(path, e))?;
    let mut magic = read_head(&mut file, 2).map_err(|e| io_err(path, e))?;
    let gzip = magic == [0x1f, 0x8b];
    let rest: Box<dyn Read + Send> = Box::new(Cursor::new(std::mem::take(&mut magic)).chain(file));
    let mut stream: Box<dyn Read + Send> = if gzip {
        Box::new(MultiGzDecoder::new(BufReader::new(rest)))
    } else {
        rest
    };
    let head = read_head(&mut stream, SNIFF_LIMIT).map_err(|e| io_err(path, e))?;
    decoded(head, stream, gzip, 256 * 1024).map_err(|e| io_err(path, e))
}

/// Per-file reading state shared by the readers.
pub(crate) struct FileState {
    pub(crate) path: PathBuf,
    pub(crate) records: u64,
    pub(crate) skipped: u64,
    /// Export columns no table column matched, per table, and where the first was seen.
    pub(crate) unknown_columns: BTreeMap<&'static str, (BTreeSet<String>, Location)>,
    /// Values that did not convert to their column's type, per table and column: how many,
    /// and where the first was.
    pub(crate) bad_values: BTreeMap<(&'static str, String), (u64, Location)>,
    /// The table export rows of this file belong to, once known.
    pub(crate) table: Option<&'static TableDef>,
}

/// The read loop: mapper, batcher, report.
pub(crate) struct Ingestor<'s> {
    pub(crate) mapper: Mapper,
    pub(crate) batcher: Batcher<'s>,
    pub(crate) report: Report,
    pub(crate) options: ReadOptions,
    pub(crate) file: FileState,
    direct_rows: BTreeMap<String, u64>,
}

impl<'s> Ingestor<'s> {
    fn new(sink: &'s mut dyn BatchSink, options: ReadOptions) -> Self {
        Ingestor {
            mapper: Mapper::new(),
            batcher: Batcher::new(sink, options.batch_rows),
            report: Report::default(),
            options,
            file: FileState {
                path: PathBuf::new(),
                records: 0,
                skipped: 0,
                unknown_columns: BTreeMap::new(),
                bad_values: BTreeMap::new(),
                table: None,
            },
            direct_rows: BTreeMap::new(),
        }
    }

    fn into_report(mut self) -> Result<Report, Error> {
        self.batcher.flush()?;
        let mut report = std::mem::take(&mut self.report);
        for (t, n) in self.batcher.rows_per_table() {
            *report.rows.entry((*t).to_string()).or_default() += n;
        }
        for (t, n) in &self.direct_rows {
            *report.rows.entry(t.clone()).or_default() += n;
        }
        Ok(report)
    }

    fn counted(&mut self) {
        self.file.records += 1;
        if self.file.records.is_multiple_of(PROGRESS_EVERY)
            && let Some(p) = &self.options.progress
        {
            p(&Progress::Records {
                path: &self.file.path,
                records: self.file.records,
            });
        }
    }

    /// One event read from a log.
    pub(crate) fn event(&mut self, ev: &WinEvent) -> Result<(), Error> {
        self.counted();
        let mut rows = Vec::with_capacity(3);
        self.mapper.map(ev, &mut |r| rows.push(r));
        for r in &rows {
            self.batcher.push(r)?;
        }
        Ok(())
    }

    /// One export row, already in table form.
    pub(crate) fn row(&mut self, row: &Row) -> Result<(), Error> {
        self.counted();
        self.batcher.push(row)
    }

    /// A whole batch already in a table's schema (Parquet input).
    pub(crate) fn batch(&mut self, table: &'static TableDef, batch: RecordBatch) -> Result<(), Error> {
        let n = batch.num_rows() as u64;
        for _ in 0..n {
            self.counted();
        }
        *self.direct_rows.entry(table.name().to_string()).or_default() += n;
        self.batcher.write_batch(table, batch)
    }

    /// A record that could not be read.
    pub(crate) fn skip(&mut self, location: Location, reason: impl Into<String>) {
        self.skip_records(location, reason, 1);
    }

    /// `count` records that could not be read, for one reason (one detail entry).
    pub(crate) fn skip_records(&mut self, location: Location, reason: impl Into<String>, count: u64) {
        self.file.skipped += count;
        self.report.skipped_total += count;
        if self.report.skipped.len() < self.options.max_skip_details {
            self.report.skipped.push(Skipped {
                file: self.file.path.clone(),
                location,
                reason: reason.into(),
            });
        }
    }

    fn read_file(&mut self, path: &Path, prefetched: Option<Vec<EvtxItem>>) -> Result<(), Error> {
        let bytes = std::fs::metadata(path).map(|m| m.len()).unwrap_or(0);
        if let Some(items) = prefetched {
            return self.read_prefetched(path, items, bytes);
        }
        let is_listing = path.file_name().is_some_and(|n| n == crate::ingest::TABLES_FILE)
            && path.parent().is_some_and(crate::ingest::is_dataset);
        if is_listing {
            self.unread(
                path,
                UnreadKind::NotEvidence,
                "dataset listing written by ingest (not event data)",
            );
            return Ok(());
        }
        match open(path) {
            Ok(opened) => self.read_opened(path, opened, None, bytes),
            Err(e) => {
                let reason = match &e {
                    Error::Io { source, .. } => source.to_string(),
                    other => other.to_string(),
                };
                self.unread(path, UnreadKind::Unreadable, reason);
                Ok(())
            }
        }
    }

    /// An input that gave no records.
    fn unread(&mut self, path: &Path, kind: UnreadKind, reason: impl Into<String>) {
        let reason = reason.into();
        tracing::warn!("{}: {}: {reason}", path.display(), kind.name());
        self.report.unread.push(Unread {
            path: path.to_path_buf(),
            kind,
            reason,
        });
    }

    fn read_buffer(&mut self, label: &Path, data: Vec<u8>) -> Result<(), Error> {
        let bytes = data.len() as u64;
        let gzip = data.starts_with(&[0x1f, 0x8b]);
        let shared = Arc::new(data);
        let cursor = Cursor::new(SharedBytes(Arc::clone(&shared)));
        let mut stream: Box<dyn Read + Send> = if gzip {
            Box::new(MultiGzDecoder::new(BufReader::new(cursor)))
        } else {
            Box::new(cursor)
        };
        let head = read_head(&mut stream, SNIFF_LIMIT).map_err(|e| io_err(label, e))?;
        let opened = decoded(head, stream, gzip, 8 * 1024).map_err(|e| io_err(label, e))?;
        self.read_opened(label, opened, Some(shared), bytes)
    }

    fn read_opened(
        &mut self,
        path: &Path,
        opened: Opened,
        buffer: Option<Arc<Vec<u8>>>,
        bytes: u64,
    ) -> Result<(), Error> {
        let Some(format) = sniff(&opened.head) else {
            if opened.head.is_empty() {
                self.unread(path, UnreadKind::Empty, "empty file: no records");
            } else {
                let reason = unrecognised_reason(path, &opened.head, opened.text);
                self.unread(path, UnreadKind::Unrecognised, reason);
            }
            return Ok(());
        };
        self.begin_file(path, bytes);
        let gzip = opened.gzip;
        let read = self.read_format(path, format, opened, buffer);
        match read {
            Ok(()) => {}
            // A failing sink (the output) ends the run; a failing input ends only its file.
            Err(e) if self.batcher.sink_failed() => return Err(e),
            Err(e) => {
                let reason = format!(
                    "reading stopped after {} records: {}; the rest of the file was not read",
                    self.file.records,
                    error_chain(&e)
                );
                self.skip(Location::File, reason);
            }
        }
        self.finish_file(format, gzip, bytes);
        Ok(())
    }

    /// Reads an opened input of a recognised format.
    fn read_format(
        &mut self,
        path: &Path,
        format: Format,
        opened: Opened,
        buffer: Option<Arc<Vec<u8>>>,
    ) -> Result<(), Error> {
        let gzip = opened.gzip;
        match format {
            Format::EventXml => self.read_xml(opened.reader)?,
            Format::Json => crate::export::read_json(self, opened.reader, &opened.head, opened.whole)?,
            Format::Csv => crate::export::read_csv(self, opened.reader, &opened.head)?,
            Format::Evtx | Format::Parquet => {
                // Both need to seek: read plain files in place, spool decompressed or decoded
                // streams.
                let transformed = gzip || opened.text.is_some();
                let seekable = match (buffer, transformed) {
                    (Some(b), false) => Seekable::Memory(Cursor::new(SharedBytes(b))),
                    (None, false) => {
                        drop(opened);
                        Seekable::File(File::open(path).map_err(|e| io_err(path, e))?)
                    }
                    (_, true) => Seekable::File(spool(path, opened.reader)?),
                };
                if format == Format::Evtx {
                    self.read_evtx(seekable)?;
                } else {
                    let file = match seekable {
                        Seekable::File(f) => f,
                        Seekable::Memory(m) => spool(path, Box::new(BufReader::new(m)))?,
                    };
                    crate::parquet::read_parquet(self, file)?;
                }
            }
        }
        Ok(())
    }

    fn finish_file(&mut self, format: Format, gzip: bool, bytes: u64) {
        let path = self.file.path.clone();
        for (table, (cols, first)) in std::mem::take(&mut self.file.unknown_columns) {
            let list: Vec<&str> = cols.iter().map(String::as_str).collect();
            let msg = format!(
                "{}: columns not in {table} were dropped (first at {first}): {}",
                path.display(),
                list.join(", ")
            );
            tracing::warn!("{msg}");
            self.report.warnings.push(msg);
        }
        for ((table, col), (n, first)) in std::mem::take(&mut self.file.bad_values) {
            let msg = format!(
                "{}: {n} value(s) of {table}.{col} did not convert to the column type and were set to null (first at {first})",
                path.display()
            );
            tracing::warn!("{msg}");
            self.report.warnings.push(msg);
        }
        if let Some(p) = &self.options.progress {
            p(&Progress::FileFinished {
                path: &path,
                records: self.file.records,
                bytes,
            });
        }
        self.report.files.push(FileReport {
            path,
            format,
            gzip,
            records: self.file.records,
            skipped: self.file.skipped,
            bytes,
        });
    }

    fn read_xml(&mut self, reader: Box<dyn BufRead + Send>) -> Result<(), Error> {
        for item in XmlEvents::new(reader) {
            match item {
                Ok(ev) => self.event(&ev)?,
                Err(e) => self.skip(Location::Offset(e.offset), e.reason),
            }
        }
        Ok(())
    }

    fn read_evtx(&mut self, file: Seekable) -> Result<(), Error> {
        let path = self.file.path.clone();
        let threads = self.options.threads;
        let run = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            parse_evtx(file, &path, threads, &mut |item| self.evtx_item(item))
        }));
        match run {
            Ok(result) => result,
            Err(panic) => {
                let what = panic_text(&panic);
                self.skip(
                    Location::File,
                    format!("EVTX parser failed ({what}); the rest of the file was not read"),
                );
                Ok(())
            }
        }
    }

    fn evtx_item(&mut self, item: EvtxItem) -> Result<(), Error> {
        match item {
            EvtxItem::Record(_, ev) => self.event(&ev),
            EvtxItem::Skip(loc, reason) => {
                self.skip(loc, reason);
                Ok(())
            }
            EvtxItem::Lost(loc, reason, count) => {
                self.skip_records(loc, reason, count);
                Ok(())
            }
        }
    }

    /// Starts the bookkeeping of one file.
    fn begin_file(&mut self, path: &Path, bytes: u64) {
        self.file = FileState {
            path: path.to_path_buf(),
            records: 0,
            skipped: 0,
            unknown_columns: BTreeMap::new(),
            bad_values: BTreeMap::new(),
            table: None,
        };
        if let Some(p) = &self.options.progress {
            p(&Progress::FileStarted { path, bytes });
        }
    }

    /// A small EVTX file already parsed on a prefetch worker.
    fn read_prefetched(&mut self, path: &Path, items: Vec<EvtxItem>, bytes: u64) -> Result<(), Error> {
        self.begin_file(path, bytes);
        for item in items {
            self.evtx_item(item)?;
        }
        self.finish_file(Format::Evtx, false, bytes);
        Ok(())
    }
}

/// What reading an EVTX file yields, record by record: normalised events.
pub(crate) type EvtxItem = crate::readers::evtx::EvtxItem<Box<WinEvent>>;

/// Parses an EVTX stream, handing each record (or each failure) to `f` in record order.
/// Chunks are parsed and records normalised on `threads` worker threads (0: one per core).
fn parse_evtx(
    mut file: Seekable,
    path: &Path,
    threads: usize,
    f: &mut dyn FnMut(EvtxItem) -> Result<(), Error>,
) -> Result<(), Error> {
    let len = file.seek(SeekFrom::End(0)).map_err(|e| io_err(path, e))?;
    file.seek(SeekFrom::Start(0)).map_err(|e| io_err(path, e))?;
    let mut ledger = crate::ledger::EvtxLedger::new();
    if len > EVTX_HEADER && !(len - EVTX_HEADER).is_multiple_of(EVTX_CHUNK) {
        let whole = (len - EVTX_HEADER) / EVTX_CHUNK;
        let partial = (len - EVTX_HEADER) % EVTX_CHUNK;
        f(EvtxItem::Skip(
            Location::Offset(EVTX_HEADER + whole * EVTX_CHUNK),
            format!("file ends inside a chunk: the last {partial} bytes (a partial chunk) were not read"),
        ))?;
        ledger.failure(Some(whole));
    }
    let mut again = file.duplicate().map_err(|e| io_err(path, e))?;
    let parser = match EvtxParser::from_read_seek(file) {
        Ok(p) => p.with_configuration(crate::readers::evtx::settings(threads)),
        Err(e) => {
            return f(EvtxItem::Skip(
                Location::Offset(0),
                crate::readers::evtx::header_error(&e),
            ));
        }
    };
    // Records are rendered to JSON and normalised on the parser's worker threads. The JSON text
    // is read into a borrowed tree, not a `serde_json::Value` (see `jsontree`).
    crate::readers::evtx::drive(
        parser,
        &mut again,
        ledger,
        |_, json| WinEvent::from_json_bytes(json).map(Box::new),
        f,
    )
}

impl Batcher<'_> {
    /// Writes a finished batch of `table` after any rows of it still pending.
    pub(crate) fn write_batch(&mut self, table: &'static TableDef, batch: RecordBatch) -> Result<(), Error> {
        self.flush_table(table.name())?;
        self.write_to_sink(table.name(), batch)
    }
}

/// Bytes shared between the sniffing stream and a seekable reader.
#[derive(Clone)]
struct SharedBytes(Arc<Vec<u8>>);

impl AsRef<[u8]> for SharedBytes {
    fn as_ref(&self) -> &[u8] {
        &self.0
    }
}

/// A seekable input: a file on disk or bytes in memory.
enum Seekable {
    File(File),
    Memory(Cursor<SharedBytes>),
}

impl Seekable {
    /// A second handle on the same bytes (a file is opened again: its own position).
    fn duplicate(&self) -> std::io::Result<Seekable> {
        Ok(match self {
            Seekable::File(f) => Seekable::File(f.try_clone()?),
            Seekable::Memory(m) => Seekable::Memory(Cursor::new(m.get_ref().clone())),
        })
    }
}

impl Read for Seekable {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        match self {
            Seekable::File(f) => f.read(buf),
            Seekable::Memory(m) => m.read(buf),
        }
    }
}

impl Seek for Seekable {
    fn seek(&mut self, pos: SeekFrom) -> std::io::Result<u64> {
        match self {
            Seekable::File(f) => f.seek(pos),
            Seekable::Memory(m) => m.seek(pos),
        }
    }
}

/// Copies a decompressed stream into an anonymous temporary file (for readers that must seek).
fn spool(path: &Path, mut reader: Box<dyn BufRead + Send>) -> Result<File, Error> {
    let mut tmp = tempfile::tempfile().map_err(|e| io_err(path, e))?;
    std::io::copy(&mut reader, &mut tmp).map_err(|e| io_err(path, e))?;
    tmp.seek(SeekFrom::Start(0)).map_err(|e| io_err(path, e))?;
    Ok(tmp)
}

fn panic_text(panic: &Box<dyn std::any::Any + Send>) -> String {
    if let Some(s) = panic.downcast_ref::<&str>() {
        (*s).to_string()
    } else if let Some(s) = panic.downcast_ref::<String>() {
        s.clone()
    } else {
        "panic".to_string()
    }
}

use crate::readers::evtx::error_chain;
pub use crate::readers::evtx::evtx_error;

/// Reads every input into `sink`, table by table; returns what was read and skipped.
///
/// `inputs` are files, folders (walked recursively) or glob patterns. Unrecognised files are
/// listed in [`Report::unread`], as are inputs that match nothing; unreadable records in
/// [`Report::skipped`]. Only a failing sink is an error.
pub fn read_inputs<S: AsRef<str>>(
    inputs: &[S],
    options: &ReadOptions,
    sink: &mut dyn BatchSink,
) -> Result<Report, Error> {
    let (files, unread) = discover(inputs);
    let mut report = read_files(&files, options, sink)?;
    report.unread.splice(0..0, unread);
    Ok(report)
}

/// Like [`read_inputs`] for an already expanded file list.
pub fn read_files(files: &[PathBuf], options: &ReadOptions, sink: &mut dyn BatchSink) -> Result<Report, Error> {
    let mut ing = Ingestor::new(sink, options.clone());
    let workers = match options.threads {
        0 => std::thread::available_parallelism().map_or(1, usize::from),
        n => n,
    };
    if workers <= 1 || files.len() <= 1 {
        for f in files {
            ing.read_file(f, None)?;
        }
        return ing.into_report();
    }
    let prefetch = Prefetch::new();
    std::thread::scope(|scope| {
        for _ in 0..workers {
            scope.spawn(|| prefetch.work(files, workers * 2));
        }
        let result: Result<(), Error> = (|| {
            for (i, f) in files.iter().enumerate() {
                let pre = prefetch.take(i);
                ing.read_file(f, pre)?;
            }
            Ok(())
        })();
        prefetch.stop();
        result
    })?;
    ing.into_report()
}

/// Largest EVTX file parsed ahead on a prefetch worker (bigger ones stream chunk-parallel).
const PREFETCH_MAX_BYTES: u64 = 2 * 1024 * 1024;

/// File-level parallelism for small EVTX files: workers parse files ahead of the consumer
/// (at most a window of files ahead, so memory stays bounded) and hand over their records;
/// the consumer still maps files strictly in order, so results do not depend on timing.
struct Prefetch {
    next: std::sync::atomic::AtomicUsize,
    state: std::sync::Mutex<PrefetchState>,
    changed: std::sync::Condvar,
}

struct PrefetchState {
    /// Index of the file the consumer is on.
    consumer: usize,
    /// Finished prefetches by file index (`None`: not prefetched, read normally).
    done: BTreeMap<usize, Option<Vec<EvtxItem>>>,
    stopped: bool,
}

impl Prefetch {
    fn new() -> Prefetch {
        Prefetch {
            next: std::sync::atomic::AtomicUsize::new(0),
            state: std::sync::Mutex::new(PrefetchState {
                consumer: 0,
                done: BTreeMap::new(),
                stopped: false,
            }),
            changed: std::sync::Condvar::new(),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, PrefetchState> {
        self.state.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    fn work(&self, files: &[PathBuf], window: usize) {
        loop {
            let i = self.next.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            if i >= files.len() {
                return;
            }
            {
                let mut g = self.lock();
                while i >= g.consumer + window && !g.stopped {
                    g = self.changed.wait(g).unwrap_or_else(std::sync::PoisonError::into_inner);
                }
                if g.stopped {
                    return;
                }
            }
            // A parser panic leaves the file to the consumer, which reports it.
            let result = std::panic::catch_unwind(|| prefetch_evtx(&files[i])).unwrap_or(None);
            let mut g = self.lock();
            g.done.insert(i, result);
            self.changed.notify_all();
        }
    }

    fn take(&self, i: usize) -> Option<Vec<EvtxItem>> {
        let mut g = self.lock();
        g.consumer = i;
        self.changed.notify_all();
        loop {
            if let Some(r) = g.done.remove(&i) {
                return r;
            }
            g = self.changed.wait(g).unwrap_or_else(std::sync::PoisonError::into_inner);
        }
    }

    fn stop(&self) {
        let mut g = self.lock();
        g.stopped = true;
        g.consumer = usize::MAX / 2;
        self.changed.notify_all();
    }
}

/// Parses a small plain EVTX file completely; `None` for anything else.
fn prefetch_evtx(path: &Path) -> Option<Vec<EvtxItem>> {
    let meta = std::fs::metadata(path).ok()?;
    if !meta.is_file() || meta.len() > PREFETCH_MAX_BYTES {
        return None;
    }
    let mut file = File::open(path).ok()?;
    let mut magic = [0u8; 8];
    file.read_exact(&mut magic).ok()?;
    if &magic != b"ElfFile\0" {
        return None;
    }
    file.seek(SeekFrom::Start(0)).ok()?;
    let mut items = Vec::new();
    let mut collect = |item| {
        items.push(item);
        Ok(())
    };
    parse_evtx(Seekable::File(file), path, 1, &mut collect).ok()?;
    Some(items)
}

/// Reads one input held in memory (any supported format, plain or gzip); `label` names it in
/// the report. Used by fuzzing and by callers that already hold the bytes.
pub fn read_buffer(
    label: &Path,
    data: Vec<u8>,
    options: &ReadOptions,
    sink: &mut dyn BatchSink,
) -> Result<Report, Error> {
    let mut ing = Ingestor::new(sink, options.clone());
    ing.read_buffer(label, data)?;
    ing.into_report()
}

/// Reads every input into memory: record batches per table name, and the report.
pub fn read_to_memory<S: AsRef<str>>(
    inputs: &[S],
    options: &ReadOptions,
) -> Result<(BTreeMap<String, Vec<RecordBatch>>, Report), Error> {
    let mut sink = MemorySink::default();
    let report = read_inputs(inputs, options, &mut sink)?;
    Ok((sink.tables, report))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prefetch_stays_within_its_window() {
        let dir = tempfile::tempdir().expect("tempdir");
        let files: Vec<PathBuf> = (0..12)
            .map(|i| {
                let p = dir.path().join(format!("f{i:02}.txt"));
                std::fs::write(&p, b"not evtx").expect("write");
                p
            })
            .collect();
        let prefetch = Prefetch::new();
        // The finished prefetches once `n` are there (and a moment for any beyond).
        let settled = |n: usize| {
            let start = std::time::Instant::now();
            while prefetch.lock().done.len() < n && start.elapsed().as_secs() < 20 {
                std::thread::sleep(std::time::Duration::from_millis(10));
            }
            std::thread::sleep(std::time::Duration::from_millis(100));
            prefetch.lock().done.keys().copied().collect::<Vec<usize>>()
        };
        std::thread::scope(|scope| {
            for _ in 0..2 {
                scope.spawn(|| prefetch.work(&files, 3));
            }
            // The consumer has not taken anything: workers stop at the window.
            assert_eq!(settled(3), vec![0, 1, 2]);
            // Taking file i lets the workers go on to i + window - 1, no further.
            assert!(prefetch.take(0).is_none(), "not an EVTX file: read by the consumer");
            assert!(prefetch.take(1).is_none());
            assert_eq!(settled(2), vec![2, 3]);
            for i in 2..files.len() {
                assert!(prefetch.take(i).is_none());
            }
            prefetch.stop();
        });
    }

    #[test]
    fn sniffing() {
        assert_eq!(sniff(b"ElfFile\0rest"), Some(Format::Evtx));
        assert_eq!(sniff(b"PAR1...."), Some(Format::Parquet));
        assert_eq!(sniff(b"\xEF\xBB\xBF  <Events>"), Some(Format::EventXml));
        assert_eq!(sniff(b"\n{\"a\":1}"), Some(Format::Json));
        assert_eq!(sniff(b"Record 12\n{"), Some(Format::Json));
        assert_eq!(sniff(b"Timestamp,DeviceName,FileName\r\n"), Some(Format::Csv));
        assert_eq!(sniff(b"\"TimeGenerated [UTC]\",Computer,EventID\n"), Some(Format::Csv));
        assert_eq!(sniff(b"hello,world\n"), None);
        assert_eq!(sniff(b""), None);
        assert_eq!(sniff(b"   "), None);
        // Portal suffix on one of the two known columns; PowerShell `#TYPE` line; `;` and tab.
        assert_eq!(sniff(b"Timestamp [UTC],RemoteUrl,Count\n"), Some(Format::Csv));
        assert_eq!(
            sniff(b"#TYPE System.Management.Automation.PSCustomObject\r\n\"Timestamp\",\"DeviceName\"\r\n"),
            Some(Format::Csv)
        );
        assert_eq!(sniff(b"\"Timestamp\";\"DeviceName\";\"x\"\n"), Some(Format::Csv));
        assert_eq!(sniff(b"Timestamp\tDeviceName\n"), Some(Format::Csv));
        assert_eq!(sniff(b"#TYPE x\n#TYPE y\nTimestamp,DeviceName\n"), None);
        // JSON lines whose first line is cut.
        assert_eq!(sniff(b"ame\": \"x\"}\n{\"a\": 1}\n{\"b\": 2}\n"), Some(Format::Json));
        assert_eq!(sniff(b"ame\": \"x\"}\nnot json\n{\"b\": 2}\nnor this\n"), None);
    }
}
