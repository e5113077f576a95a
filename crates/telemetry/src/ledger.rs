//! Exact counts of EVTX records that could not be read. Event record ids run consecutively
//! through a log, so when a chunk is damaged (its records fail together, or the parser passes
//! over a chunk whose header is broken) the records lost are the ids the log should hold and
//! nobody saw: a lost chunk counts all its records, not 1.

use std::collections::BTreeMap;
use std::io::{Read, Seek, SeekFrom};

/// Size of the EVTX file header block and of one chunk.
const FILE_HEADER: u64 = 4096;
const CHUNK: u64 = 65536;
/// More records than this in one chunk means its header's id range is garbage (a record
/// takes at least 24 bytes of header plus its content).
const MAX_RECORDS_PER_CHUNK: u64 = CHUNK / 24;

/// What one EVTX file's read saw: the ids of records read or reported unreadable by id, and
/// the failures with the chunk they happened in.
#[derive(Debug, Default, Clone)]
pub struct EvtxLedger {
    /// Runs of consecutive ids seen, `(first, last)`, in arrival order (records arrive in order,
    /// so this stays short).
    runs: Vec<(u64, u64)>,
    /// Failures that name no record, each counted already as one skipped record: per chunk
    /// slot, and those with no chunk.
    failures: BTreeMap<Option<u64>, u64>,
}

/// Records a damaged EVTX file lost beyond the failures already counted one each.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Lost {
    /// Records to add to the skipped count.
    pub extra: u64,
    /// All the records of the file that were not read (failures counted one each included).
    pub total: u64,
    /// Where: the first damaged chunk's offset.
    pub offset: Option<u64>,
    /// Why, in words (ids and chunks).
    pub reason: String,
}

impl EvtxLedger {
    /// An empty ledger, for one file.
    pub fn new() -> EvtxLedger {
        EvtxLedger::default()
    }

    /// A record with this id was read, or failed with its id named (counted already).
    pub fn seen(&mut self, id: u64) {
        match self.runs.last_mut() {
            Some((_, last)) if last.checked_add(1) == Some(id) => *last = id,
            Some((first, last)) if (*first..=*last).contains(&id) => {}
            _ => self.runs.push((id, id)),
        }
    }

    /// A failure that names no record (counted already as one skipped record), in chunk slot
    /// `chunk` when known.
    pub fn failure(&mut self, chunk: Option<u64>) {
        *self.failures.entry(chunk).or_default() += 1;
    }

    /// An error of the evtx parser: the record it names counts as seen (it is reported already),
    /// any other failure is placed in its chunk when the error says which.
    pub fn error(&mut self, e: &evtx::err::EvtxError) {
        use evtx::err::EvtxError;
        match e {
            EvtxError::FailedToParseRecord { record_id, .. } => self.seen(*record_id),
            EvtxError::FailedToParseChunk { chunk_id, .. } => self.failure(Some(*chunk_id)),
            EvtxError::FailedToReadRecordAt { chunk, .. } => self.failure(*chunk),
            _ => self.failure(None),
        }
    }

    /// The ids seen, as sorted, merged runs.
    fn merged(&self) -> Vec<(u64, u64)> {
        let mut runs = self.runs.clone();
        runs.sort_unstable();
        merge(runs)
    }

    /// Compares what was seen with what the chunks that failed should have held. `None` when
    /// nothing was lost beyond the failures already counted one each.
    ///
    /// A failed chunk whose header is readable should hold the ids its header names. One whose
    /// header is destroyed held the ids between its readable neighbours (or, at the end of the
    /// log, up to the file header's next record id). Ids of those ranges nobody saw were lost.
    /// Only chunks where a failure was reported are examined, so a healthy log (whose ids may
    /// well jump between chunks) is never reported as incomplete.
    pub fn finish(&self, file: &mut (impl Read + Seek)) -> Option<Lost> {
        if self.failures.is_empty() {
            return None;
        }
        let scan = scan_chunks(file);
        let seen = self.merged();
        let mut ranges = Vec::new();
        let mut unknown = 0u64;
        let mut offsets = Vec::new();
        let mut counted = 0u64;
        for (&chunk, &n) in &self.failures {
            counted += n;
            let Some(k) = chunk else {
                unknown += n;
                continue;
            };
            offsets.push(FILE_HEADER + k * CHUNK);
            match scan.expected(k) {
                Some(r) => ranges.push((r, n)),
                None => unknown += n,
            }
        }
        // Ranges of neighbouring failed chunks can coincide: count each id once, and at least the
        // failures reported in it.
        let mut intervals: Vec<((u64, u64), u64)> = Vec::new();
        ranges.sort_unstable();
        for ((f, l), n) in ranges {
            match intervals.last_mut() {
                Some(((_, last), m)) if f <= last.saturating_add(1) => {
                    *last = (*last).max(l);
                    *m += n;
                }
                _ => intervals.push(((f, l), n)),
            }
        }
        let mut total = unknown;
        let mut missing = Vec::new();
        for ((f, l), n) in &intervals {
            let gaps = gaps_in(&seen, *f, *l);
            let lost: u64 = gaps.iter().map(|(a, b)| b - a + 1).sum();
            total += lost.max(*n);
            missing.extend(gaps);
        }
        let extra = total.saturating_sub(counted);
        if extra == 0 {
            return None;
        }
        let ids = if missing.is_empty() {
            String::new()
        } else {
            let shown: Vec<String> = missing
                .iter()
                .take(5)
                .map(|(a, b)| if a == b { format!("{a}") } else { format!("{a}-{b}") })
                .collect();
            format!(
                "; record ids {}{} were not read",
                shown.join(", "),
                if missing.len() > 5 { ", ..." } else { "" }
            )
        };
        offsets.sort_unstable();
        offsets.dedup();
        let chunks = match offsets.as_slice() {
            [] => String::new(),
            [one] => format!(" (chunk at offset {one})"),
            [first, ..] => format!(" ({} chunks, the first at offset {first})", offsets.len()),
        };
        Some(Lost {
            extra,
            total,
            offset: offsets.first().copied(),
            reason: format!("{total} records in unreadable chunks were not read{chunks}{ids}"),
        })
    }
}

/// Sorted runs merged where they touch or overlap.
fn merge(runs: Vec<(u64, u64)>) -> Vec<(u64, u64)> {
    let mut out: Vec<(u64, u64)> = Vec::with_capacity(runs.len());
    for (f, l) in runs {
        match out.last_mut() {
            Some((_, last)) if f <= last.saturating_add(1) => *last = (*last).max(l),
            _ => out.push((f, l)),
        }
    }
    out
}

/// The parts of `[lo, hi]` no run of `seen` (sorted, merged) covers.
fn gaps_in(seen: &[(u64, u64)], lo: u64, hi: u64) -> Vec<(u64, u64)> {
    let mut out = Vec::new();
    let mut next = lo;
    for &(f, l) in seen {
        if l < next {
            continue;
        }
        if f > hi {
            break;
        }
        if f > next {
            out.push((next, f - 1));
        }
        next = l.saturating_add(1);
        if next > hi {
            return out;
        }
    }
    if next <= hi {
        out.push((next, hi));
    }
    out
}

/// What a chunk slot holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Slot {
    /// A chunk header naming this id range.
    Chunk(u64, u64),
    /// Zeros: never written.
    Empty,
    /// Anything else: a destroyed header.
    Damaged,
}

/// What the chunk headers of a file say.
#[derive(Debug, Default)]
struct ChunkScan {
    slots: Vec<Slot>,
    /// The file header's next record id.
    next_id: Option<u64>,
}

impl ChunkScan {
    /// The ids chunk slot `k` should hold: its header's range, else the ids between its
    /// readable neighbours, else (at the end of the log) up to the file header's next id.
    fn expected(&self, k: u64) -> Option<(u64, u64)> {
        let k = usize::try_from(k).ok()?;
        match self.slots.get(k)? {
            Slot::Chunk(f, l) => return Some((*f, *l)),
            Slot::Empty => return None,
            Slot::Damaged => {}
        }
        let before = self.slots[..k].iter().enumerate().rev().find_map(|(i, s)| match s {
            Slot::Chunk(_, l) => Some((i, *l)),
            _ => None,
        });
        let after = self.slots[k + 1..].iter().enumerate().find_map(|(i, s)| match s {
            Slot::Chunk(f, _) => Some((k + 1 + i, *f)),
            _ => None,
        });
        let (prev_slot, prev_last) = before?;
        let (span_slots, next_first) = match after {
            Some((next_slot, f)) => (next_slot - prev_slot - 1, f),
            None => (self.slots.len() - prev_slot - 1, self.next_id?),
        };
        let plausible = MAX_RECORDS_PER_CHUNK * span_slots as u64;
        (next_first > prev_last.saturating_add(1) && next_first - prev_last - 1 <= plausible)
            .then(|| (prev_last + 1, next_first - 1))
    }
}

fn u64_at(b: &[u8], at: usize) -> Option<u64> {
    b.get(at..at + 8)
        .and_then(|s| s.try_into().ok())
        .map(u64::from_le_bytes)
}

/// Reads the file header and every chunk slot's header (a partial last slot too, when its
/// header is there).
fn scan_chunks(file: &mut (impl Read + Seek)) -> ChunkScan {
    let mut scan = ChunkScan::default();
    let Ok(len) = file.seek(SeekFrom::End(0)) else {
        return scan;
    };
    let mut header = [0u8; 128];
    if file.seek(SeekFrom::Start(0)).is_ok() && file.read_exact(&mut header).is_ok() && header.starts_with(b"ElfFile\0")
    {
        scan.next_id = u64_at(&header, 24).filter(|n| *n > 0);
    }
    let slots = len.saturating_sub(FILE_HEADER).div_ceil(CHUNK);
    for i in 0..slots {
        let offset = FILE_HEADER + i * CHUNK;
        if file.seek(SeekFrom::Start(offset)).is_err() || file.read_exact(&mut header).is_err() {
            scan.slots.push(Slot::Damaged);
            continue;
        }
        let slot = if header.starts_with(b"ElfChnk\0") {
            match (u64_at(&header, 24), u64_at(&header, 32)) {
                (Some(f), Some(l)) if f > 0 && l >= f && l - f < MAX_RECORDS_PER_CHUNK => Slot::Chunk(f, l),
                _ => Slot::Damaged,
            }
        } else if header.iter().all(|b| *b == 0) {
            Slot::Empty
        } else {
            Slot::Damaged
        };
        scan.slots.push(slot);
    }
    scan
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Cursor;

    /// A file of `slots` chunk slots; each `(slot, first, last)` gets a chunk header, each of
    /// `garbage` a destroyed one.
    fn file(next_id: u64, slots: usize, chunks: &[(usize, u64, u64)], garbage: &[usize]) -> Cursor<Vec<u8>> {
        let mut b = vec![0u8; FILE_HEADER as usize + slots * CHUNK as usize];
        b[..8].copy_from_slice(b"ElfFile\0");
        b[24..32].copy_from_slice(&next_id.to_le_bytes());
        for (slot, f, l) in chunks {
            let at = FILE_HEADER as usize + slot * CHUNK as usize;
            b[at..at + 8].copy_from_slice(b"ElfChnk\0");
            b[at + 24..at + 32].copy_from_slice(&f.to_le_bytes());
            b[at + 32..at + 40].copy_from_slice(&l.to_le_bytes());
        }
        for slot in garbage {
            let at = FILE_HEADER as usize + slot * CHUNK as usize;
            b[at..at + 8].copy_from_slice(b"garbage!");
        }
        Cursor::new(b)
    }

    fn seen(ids: impl IntoIterator<Item = u64>) -> EvtxLedger {
        let mut l = EvtxLedger::new();
        for id in ids {
            l.seen(id);
        }
        l
    }

    #[test]
    fn a_log_without_failures_loses_nothing_even_with_id_jumps() {
        let l = seen((1..=100).chain(400..=410));
        assert_eq!(l.finish(&mut file(150, 3, &[(0, 1, 100), (2, 400, 410)], &[])), None);
    }

    #[test]
    fn a_failed_chunk_counts_the_records_its_header_names() {
        let mut l = seen((1..=100).chain(208..=300));
        l.failure(Some(1));
        let lost = l
            .finish(&mut file(301, 3, &[(0, 1, 100), (1, 101, 207), (2, 208, 300)], &[]))
            .expect("lost");
        assert_eq!((lost.total, lost.extra), (107, 106));
        assert!(lost.reason.contains("record ids 101-207"), "{}", lost.reason);
    }

    #[test]
    fn a_chunk_with_a_destroyed_header_lost_the_ids_between_its_neighbours() {
        let mut l = seen((1..=100).chain(208..=300));
        l.failure(Some(1));
        let lost = l
            .finish(&mut file(301, 3, &[(0, 1, 100), (2, 208, 300)], &[1]))
            .expect("lost");
        assert_eq!((lost.total, lost.offset), (107, Some(FILE_HEADER + CHUNK)));
        // The newest chunk: up to the file header's next record id.
        let mut l = seen(1..=100);
        l.failure(Some(1));
        let lost = l.finish(&mut file(151, 2, &[(0, 1, 100)], &[1])).expect("lost");
        assert_eq!(lost.total, 50);
        // A stale file header says nothing: the failure still counts one.
        let mut l = seen(1..=100);
        l.failure(Some(1));
        assert_eq!(l.finish(&mut file(7, 2, &[(0, 1, 100)], &[1])), None);
    }

    #[test]
    fn records_failing_inside_a_chunk_count_what_the_chunk_did_not_give() {
        // Two failures in chunk 0; the walk resynced and lost 5 records in all.
        let mut l = seen((1..=40).chain(46..=60));
        l.failure(Some(0));
        l.failure(Some(0));
        let lost = l.finish(&mut file(61, 1, &[(0, 1, 60)], &[])).expect("lost");
        assert_eq!((lost.total, lost.extra), (5, 3));
        // A failure with nothing missing is the one record it reported.
        let mut l = seen(1..=10);
        l.failure(Some(0));
        assert_eq!(l.finish(&mut file(11, 1, &[(0, 1, 10)], &[])), None);
    }
}
