//! Evidence accounting: what was read from each file, records skipped with their place,
//! inputs not read and why, and progress notifications.

use std::collections::BTreeMap;
use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::Arc;

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
    /// Skipped records (details kept up to [`crate::ReadOptions::max_skip_details`]).
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
