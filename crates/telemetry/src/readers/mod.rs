//! Readers, one module per input format: each reads its format and counts what it skips. This
//! module holds what they share: opening and decoding input streams, and the per-file read
//! state ([`Ingestor`]) that maps events to rows, batches them and keeps the accounting.

pub(crate) mod csv;
pub(crate) mod evtx;
pub(crate) mod export;
pub(crate) mod json;
pub(crate) mod parquet;
pub(crate) mod xml;

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::fs::File;
use std::io::{BufRead, BufReader, Cursor, Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use datafusion::arrow::record_batch::RecordBatch;
use flate2::read::MultiGzDecoder;

use crate::Error;
use crate::event::WinEvent;
use crate::map::Mapper;
use crate::report::{FileReport, Format, Location, Progress, ProgressFn, Report, Skipped, Unread, UnreadKind};
use crate::row::{BatchSink, Batcher, Row};
use crate::schema::TableDef;
use crate::text::{TextEncoding, Utf16Decoder};

/// Bytes read ahead to recognise a file's format.
pub(crate) const SNIFF_LIMIT: usize = 64 * 1024;
/// Records between two progress reports for the same file.
const PROGRESS_EVERY: u64 = 4096;

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
            max_skip_details: evtx::MAX_SKIP_DETAILS,
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

pub(crate) fn io_err(path: &Path, source: std::io::Error) -> Error {
    Error::Io {
        path: path.to_path_buf(),
        source,
    }
}

/// An opened input: a buffered (decompressed, decoded) stream and its first bytes.
pub(crate) struct Opened {
    pub(crate) reader: Box<dyn BufRead + Send>,
    pub(crate) head: Vec<u8>,
    /// `head` holds the whole (decoded) input.
    pub(crate) whole: bool,
    pub(crate) gzip: bool,
    /// The text encoding decoded to UTF-8, if it was not plain UTF-8.
    pub(crate) text: Option<TextEncoding>,
}

/// Wraps a stream whose first bytes (`head`, at most [`SNIFF_LIMIT`]) were read already: text
/// in UTF-16 is decoded to UTF-8 and a UTF-8 byte order mark is dropped, so every reader sees
/// UTF-8 without a BOM. Offsets reported for such files count bytes of the decoded text.
pub(crate) fn decoded(
    head: Vec<u8>,
    stream: Box<dyn Read + Send>,
    gzip: bool,
    capacity: usize,
) -> std::io::Result<Opened> {
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

pub(crate) fn read_head(r: &mut dyn Read, n: usize) -> std::io::Result<Vec<u8>> {
    let mut head = Vec::with_capacity(n);
    r.take(n as u64).read_to_end(&mut head)?;
    Ok(head)
}

pub(crate) fn open(path: &Path) -> Result<Opened, Error> {
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
    pub(crate) direct_rows: BTreeMap<String, u64>,
}

impl<'s> Ingestor<'s> {
    pub(crate) fn new(sink: &'s mut dyn BatchSink, options: ReadOptions) -> Self {
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

    pub(crate) fn into_report(mut self) -> Result<Report, Error> {
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

    pub(crate) fn counted(&mut self) {
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

    /// An input that gave no records.
    pub(crate) fn unread(&mut self, path: &Path, kind: UnreadKind, reason: impl Into<String>) {
        let reason = reason.into();
        tracing::warn!("{}: {}: {reason}", path.display(), kind.name());
        self.report.unread.push(Unread {
            path: path.to_path_buf(),
            kind,
            reason,
        });
    }

    /// Starts the bookkeeping of one file.
    pub(crate) fn begin_file(&mut self, path: &Path, bytes: u64) {
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

    pub(crate) fn finish_file(&mut self, format: Format, gzip: bool, bytes: u64) {
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
pub(crate) struct SharedBytes(pub(crate) Arc<Vec<u8>>);

impl AsRef<[u8]> for SharedBytes {
    fn as_ref(&self) -> &[u8] {
        &self.0
    }
}

/// A seekable input: a file on disk or bytes in memory.
pub(crate) enum Seekable {
    File(File),
    Memory(Cursor<SharedBytes>),
}

impl Seekable {
    /// A second handle on the same bytes (a file is opened again: its own position).
    pub(crate) fn duplicate(&self) -> std::io::Result<Seekable> {
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
pub(crate) fn spool(path: &Path, mut reader: Box<dyn BufRead + Send>) -> Result<File, Error> {
    let mut tmp = tempfile::tempfile().map_err(|e| io_err(path, e))?;
    std::io::copy(&mut reader, &mut tmp).map_err(|e| io_err(path, e))?;
    tmp.seek(SeekFrom::Start(0)).map_err(|e| io_err(path, e))?;
    Ok(tmp)
}

/// An error and its sources, `: `-separated.
pub(crate) fn error_chain(e: &dyn std::error::Error) -> String {
    let mut s = e.to_string();
    let mut cur = e.source();
    while let Some(c) = cur {
        s.push_str(": ");
        s.push_str(&c.to_string());
        cur = c.source();
    }
    s
}
