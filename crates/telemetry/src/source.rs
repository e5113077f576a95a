//! Reading inputs: expands them ([`crate::discovery`]), recognises each file's format, hands it
//! to its reader ([`crate::readers`]) and collects the batches and the accounting. Small EVTX
//! files are parsed ahead on worker threads; results never depend on timing.

use std::collections::BTreeMap;
use std::fs::File;
use std::io::{BufReader, Cursor, Read};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use datafusion::arrow::record_batch::RecordBatch;
use flate2::read::MultiGzDecoder;

use crate::Error;
use crate::discovery::unrecognised_reason;
use crate::readers::evtx::{EventItem, prefetch_evtx};
use crate::readers::{
    Ingestor, Opened, SNIFF_LIMIT, Seekable, SharedBytes, decoded, error_chain, io_err, open, read_head, spool,
};
use crate::row::{BatchSink, MemorySink};

pub use crate::discovery::{discover, sniff};
pub use crate::readers::ReadOptions;
pub use crate::readers::evtx::evtx_error;
pub use crate::report::{FileReport, Format, Location, Progress, ProgressFn, Report, Skipped, Unread, UnreadKind};

/// Reading one input: a file on disk or bytes in memory, recognised by content and handed to
/// the reader of its format.
impl Ingestor<'_> {
    /// Reads one file (or takes over its records parsed ahead).
    fn read_file(&mut self, path: &Path, prefetched: Option<Vec<EventItem>>) -> Result<(), Error> {
        let bytes = std::fs::metadata(path).map(|m| m.len()).unwrap_or(0);
        if let Some(items) = prefetched {
            return self.read_prefetched(path, items, bytes);
        }
        let is_listing = path.file_name().is_some_and(|n| n == crate::dataset::TABLES_FILE)
            && path.parent().is_some_and(crate::dataset::is_dataset);
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

    /// Reads one input held in memory.
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

    /// Recognises an opened input and reads it, or lists it as unread.
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
            Format::Json => crate::readers::json::read_json(self, opened.reader, &opened.head, opened.whole)?,
            Format::Csv => crate::readers::csv::read_csv(self, opened.reader, &opened.head)?,
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
                    crate::readers::parquet::read_parquet(self, file)?;
                }
            }
        }
        Ok(())
    }
}

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
    done: BTreeMap<usize, Option<Vec<EventItem>>>,
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

    fn take(&self, i: usize) -> Option<Vec<EventItem>> {
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
}
