//! The one EVTX driver: parses a log record by record on the parser's threads, keeps the
//! ledger of what could not be read (lost chunks counted by their records), and hands on
//! records and skips in file order. Both the table readers and [`scan_evtx`] go through it.

use std::fs::File;
use std::io::{Read, Seek, SeekFrom};
use std::path::Path;

use evtx::err::EvtxError;
use evtx::{EvtxParser, ParserSettings};

use crate::Error;
use crate::event::WinEvent;
use crate::ledger::EvtxLedger;
use crate::report::{FileReport, Format, Location, Report, Skipped, Unread, UnreadKind};

use super::{Ingestor, Seekable, error_chain, io_err};

/// Size of an EVTX file header block and of one chunk.
pub(crate) const EVTX_HEADER: u64 = 4096;
pub(crate) const EVTX_CHUNK: u64 = 65536;

/// Skipped-record details kept per file (totals are always exact).
pub const MAX_SKIP_DETAILS: usize = 1000;

/// What the driver hands on, in file order.
pub(crate) enum EvtxItem<T> {
    /// A record `on_record` accepted: its event record id and its result.
    Record(u64, T),
    /// Something unreadable (one record), and where.
    Skip(Location, String),
    /// Records lost beyond the failures reported one each (see [`crate::ledger`]).
    Lost(Location, String, u64),
}

/// Parser settings of every EVTX read: `threads` chunk workers, JSON without indentation and
/// with attributes kept in place.
pub(crate) fn settings(threads: usize) -> ParserSettings {
    ParserSettings::new()
        .num_threads(threads)
        .separate_json_attributes(false)
        .indent(false)
}

/// Why a file could not be opened as EVTX.
pub(crate) fn header_error(e: &EvtxError) -> String {
    format!("unreadable EVTX file header: {e}")
}

/// Runs `parser` over its records: each is rendered to JSON and given to `on_record` on the
/// parser's threads; accepted records, rejected or unreadable ones and (at the end) the records
/// of lost chunks go to `out` in file order. `again` is a second handle on the same bytes for
/// the ledger's look at damaged chunks; `ledger` may hold failures found before parsing. An
/// error of `out` stops the read and is returned.
pub(crate) fn drive<R, A, T, F, E>(
    mut parser: EvtxParser<R>,
    again: &mut A,
    mut ledger: EvtxLedger,
    mut on_record: F,
    out: &mut dyn FnMut(EvtxItem<T>) -> Result<(), E>,
) -> Result<(), E>
where
    R: Read + Seek,
    A: Read + Seek,
    T: Send + 'static,
    F: FnMut(u64, &[u8]) -> Result<T, String> + Clone + Send + Sync + 'static,
{
    let records = parser.serialized_records(move |record| {
        let record = record?;
        let id = record.event_record_id;
        let json = record.into_json_bytes()?;
        Ok((id, on_record(id, &json.data)))
    });
    for item in records {
        let item = match item {
            Ok((id, Ok(t))) => {
                ledger.seen(id);
                EvtxItem::Record(id, t)
            }
            Ok((id, Err(reason))) => {
                ledger.seen(id);
                EvtxItem::Skip(Location::Record(id), reason)
            }
            Err(e) => {
                let (at, reason) = evtx_error(&e);
                ledger.error(&e);
                EvtxItem::Skip(at, reason)
            }
        };
        out(item)?;
    }
    drop(parser);
    if let Some(lost) = ledger.finish(again) {
        let at = lost.offset.map_or(Location::File, Location::Offset);
        out(EvtxItem::Lost(at, lost.reason, lost.extra))?;
    }
    Ok(())
}

/// Reads one EVTX file record by record on `threads` parser threads. `on_record` runs on the
/// parser's threads with each record's event record id and its JSON rendering (no indent,
/// attributes not separated); `Err(reason)` skips that record (counted, with its place).
/// `consume` runs on the calling thread, in file order, with each accepted record's result.
/// Returns the file's accounting: one FileReport (format Evtx; records = accepted records;
/// skipped = rejected + unreadable records + records of lost chunks), skip details (at most
/// MAX_SKIP_DETAILS), or an Unread entry when the file cannot be opened as EVTX.
pub fn scan_evtx<T, F, C>(path: &Path, threads: usize, on_record: F, mut consume: C) -> Report
where
    T: Send + 'static,
    F: FnMut(u64, &[u8]) -> Result<T, String> + Clone + Send + Sync + 'static,
    C: FnMut(u64, T),
{
    let mut report = Report::default();
    let bytes = std::fs::metadata(path).map(|m| m.len()).unwrap_or(0);
    let opened = std::fs::File::open(path)
        .map_err(|e| e.to_string())
        .and_then(|f| Ok((f.try_clone().map_err(|e| e.to_string())?, f)))
        .and_then(|(again, f)| match EvtxParser::from_read_seek(f) {
            Ok(p) => Ok((again, p.with_configuration(settings(threads)))),
            Err(e) => Err(header_error(&e)),
        });
    let (mut again, parser) = match opened {
        Ok(opened) => opened,
        Err(reason) => {
            report.unread.push(Unread {
                path: path.to_path_buf(),
                kind: UnreadKind::Unreadable,
                reason,
            });
            return report;
        }
    };
    let mut records = 0u64;
    let mut skipped: Vec<Skipped> = Vec::new();
    let mut skipped_total = 0u64;
    let mut skip = |location: Location, reason: String, count: u64| {
        skipped_total += count;
        if skipped.len() < MAX_SKIP_DETAILS {
            skipped.push(Skipped {
                file: path.to_path_buf(),
                location,
                reason,
            });
        }
    };
    // A log cut short inside a chunk is counted as the table readers count it.
    let mut ledger = EvtxLedger::new();
    if let Some((at, reason)) = cut_off(bytes, &mut ledger) {
        skip(at, reason, 1);
    }
    let done: Result<(), std::convert::Infallible> = drive(parser, &mut again, ledger, on_record, &mut |item| {
        match item {
            EvtxItem::Record(id, t) => {
                records += 1;
                consume(id, t);
            }
            EvtxItem::Skip(at, reason) => skip(at, reason, 1),
            EvtxItem::Lost(at, reason, count) => skip(at, reason, count),
        }
        Ok(())
    });
    let Ok(()) = done;
    report.files.push(FileReport {
        path: path.to_path_buf(),
        format: Format::Evtx,
        gzip: false,
        records,
        skipped: skipped_total,
        bytes,
    });
    report.skipped = skipped;
    report.skipped_total = skipped_total;
    report
}

/// Where an EVTX parser error happened (chunk offset, record) and its whole message.
pub fn evtx_error(e: &EvtxError) -> (Location, String) {
    let loc = match e {
        EvtxError::FailedToParseChunk { chunk_id, .. } => Location::Offset(EVTX_HEADER + chunk_id * EVTX_CHUNK),
        EvtxError::FailedToReadRecordAt {
            chunk: Some(c), offset, ..
        } => Location::Offset(EVTX_HEADER + c * EVTX_CHUNK + offset),
        EvtxError::FailedToParseRecord { record_id, .. } => Location::Record(*record_id),
        _ => Location::File,
    };
    (loc, error_chain(e))
}

/// A log that ends inside a chunk (a copy cut short): where the partial chunk starts and why it
/// was not read, noted in the ledger so the records it held are counted as lost.
fn cut_off(len: u64, ledger: &mut EvtxLedger) -> Option<(Location, String)> {
    if len <= EVTX_HEADER || (len - EVTX_HEADER).is_multiple_of(EVTX_CHUNK) {
        return None;
    }
    let whole = (len - EVTX_HEADER) / EVTX_CHUNK;
    let partial = (len - EVTX_HEADER) % EVTX_CHUNK;
    ledger.failure(Some(whole));
    Some((
        Location::Offset(EVTX_HEADER + whole * EVTX_CHUNK),
        format!("file ends inside a chunk: the last {partial} bytes (a partial chunk) were not read"),
    ))
}

/// What reading an EVTX file yields, record by record: normalised events.
pub(crate) type EventItem = EvtxItem<Box<WinEvent>>;

/// Parses an EVTX stream, handing each record (or each failure) to `f` in record order.
/// Chunks are parsed and records normalised on `threads` worker threads (0: one per core).
fn parse_evtx(
    mut file: Seekable,
    path: &Path,
    threads: usize,
    f: &mut dyn FnMut(EventItem) -> Result<(), Error>,
) -> Result<(), Error> {
    let len = file.seek(SeekFrom::End(0)).map_err(|e| io_err(path, e))?;
    file.seek(SeekFrom::Start(0)).map_err(|e| io_err(path, e))?;
    let mut ledger = EvtxLedger::new();
    if let Some((at, reason)) = cut_off(len, &mut ledger) {
        f(EventItem::Skip(at, reason))?;
    }
    let mut again = file.duplicate().map_err(|e| io_err(path, e))?;
    let parser = match EvtxParser::from_read_seek(file) {
        Ok(p) => p.with_configuration(settings(threads)),
        Err(e) => {
            return f(EventItem::Skip(Location::Offset(0), header_error(&e)));
        }
    };
    // Records are rendered to JSON and normalised on the parser's worker threads. The JSON text
    // is read into a borrowed tree, not a `serde_json::Value` (see `jsontree`).
    drive(
        parser,
        &mut again,
        ledger,
        |_, json| WinEvent::from_json_bytes(json).map(Box::new),
        f,
    )
}

impl Ingestor<'_> {
    /// Reads an EVTX input into rows; a parser panic ends only this file (counted as skipped).
    pub(crate) fn read_evtx(&mut self, file: Seekable) -> Result<(), Error> {
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

    /// One record or failure of an EVTX file: a row or a counted skip.
    pub(crate) fn evtx_item(&mut self, item: EventItem) -> Result<(), Error> {
        match item {
            EventItem::Record(_, ev) => self.event(&ev),
            EventItem::Skip(loc, reason) => {
                self.skip(loc, reason);
                Ok(())
            }
            EventItem::Lost(loc, reason, count) => {
                self.skip_records(loc, reason, count);
                Ok(())
            }
        }
    }

    /// A small EVTX file already parsed on a prefetch worker.
    pub(crate) fn read_prefetched(&mut self, path: &Path, items: Vec<EventItem>, bytes: u64) -> Result<(), Error> {
        self.begin_file(path, bytes);
        for item in items {
            self.evtx_item(item)?;
        }
        self.finish_file(Format::Evtx, false, bytes);
        Ok(())
    }
}

/// The message a panic carried.
fn panic_text(panic: &Box<dyn std::any::Any + Send>) -> String {
    if let Some(s) = panic.downcast_ref::<&str>() {
        (*s).to_string()
    } else if let Some(s) = panic.downcast_ref::<String>() {
        s.clone()
    } else {
        "panic".to_string()
    }
}

/// Largest EVTX file parsed ahead on a prefetch worker (bigger ones stream chunk-parallel).
const PREFETCH_MAX_BYTES: u64 = 2 * 1024 * 1024;

/// Parses a small plain EVTX file completely; `None` for anything else.
pub(crate) fn prefetch_evtx(path: &Path) -> Option<Vec<EventItem>> {
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
