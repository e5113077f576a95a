//! `ratcatcher hunt --sigma`: runs Sigma rules over evidence in one streaming pass (EVTX read
//! directly with the `evtx` crate, files in parallel; other inputs through the telemetry
//! readers), feeds the matches to the correlation rules and writes alerts like the pack does.

use crate::alerts_out::{self, RunSummary};
use crate::hunt::{self as pack, HuntArgs};
use detect::alert::{Entity, Row, RuleRef};
use detect::timeline::Tally;
use detect::{Alert, Severity, Tool};
use evtx::{EvtxParser, ParserSettings};
use serde_json::{Map, Value};
use sigma::{CompiledRuleSet, Document, Event, FieldValue, RuleId, RuleSet, Scanner, SigmaRule};
use std::borrow::Cow;
use std::collections::{HashMap, HashSet};
use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use telemetry::BatchSink;
use telemetry::source::ReadOptions;

/// Sigma levels in ascending order.
const LEVELS: &[&str] = &["informational", "low", "medium", "high", "critical"];
/// Statuses run when `--status` is not given.
const DEFAULT_STATUSES: &[&str] = &["stable", "test", "experimental"];
const ALL_STATUSES: &[&str] = &["stable", "test", "experimental", "deprecated", "unsupported"];

/// Which rules to keep: `--min-level` and `--status`.
#[derive(Debug, Clone)]
pub struct RuleFilter {
    min_level: Option<usize>,
    statuses: Vec<String>,
}

impl RuleFilter {
    /// Parses `--min-level` and `--status` (comma-separated or repeated; `all` for every status).
    pub fn parse(min_level: Option<&str>, status: &[String]) -> Result<RuleFilter, String> {
        let min_level = min_level
            .map(|l| {
                let l = l.trim().to_ascii_lowercase();
                let l = if l == "info" { "informational".to_string() } else { l };
                LEVELS
                    .iter()
                    .position(|x| *x == l)
                    .ok_or_else(|| format!("--min-level: `{l}` is not one of {}", LEVELS.join(", ")))
            })
            .transpose()?;
        let mut statuses: Vec<String> = Vec::new();
        for s in status.iter().flat_map(|s| s.split(',')) {
            let s = s.trim().to_ascii_lowercase();
            if s.is_empty() {
                continue;
            }
            if s == "all" {
                statuses.extend(ALL_STATUSES.iter().map(|x| x.to_string()));
            } else if ALL_STATUSES.contains(&s.as_str()) {
                statuses.push(s);
            } else {
                return Err(format!(
                    "--status: `{s}` is not one of {}, all",
                    ALL_STATUSES.join(", ")
                ));
            }
        }
        if statuses.is_empty() {
            statuses = DEFAULT_STATUSES.iter().map(|x| x.to_string()).collect();
        }
        Ok(RuleFilter { min_level, statuses })
    }

    /// Whether a rule with this level and status is run. A rule without `status` counts as
    /// `experimental`; a rule without `level` passes only when no `--min-level` is given.
    pub fn keeps(&self, level: Option<&str>, status: Option<&str>) -> bool {
        let status = status.unwrap_or("experimental").to_ascii_lowercase();
        if !self.statuses.contains(&status) {
            return false;
        }
        match self.min_level {
            None => true,
            Some(min) => level
                .and_then(|l| LEVELS.iter().position(|x| x.eq_ignore_ascii_case(l)))
                .is_some_and(|l| l >= min),
        }
    }
}

/// Loads Sigma rules from files and folders; rules the filter drops are left out unless a kept
/// correlation needs them. Rejected documents are reported on stderr.
pub fn load_rules(paths: &[PathBuf], filter: &RuleFilter) -> Result<RuleSet, String> {
    let mut all = RuleSet::new();
    for p in paths {
        if p.is_dir() {
            all.add_dir(p);
        } else if p.is_file() {
            all.add_file(p);
        } else {
            return Err(format!("--sigma: {}: no such file or folder", p.display()));
        }
    }
    for e in all.rejected() {
        eprintln!("warning: sigma: rejected {e}");
    }
    let kept_corr: Vec<_> = all
        .correlations()
        .iter()
        .filter(|c| filter.keeps(c.level.as_deref(), c.status.as_deref()))
        .collect();
    let needed: HashSet<&str> = kept_corr
        .iter()
        .flat_map(|c| c.rules.iter().map(String::as_str))
        .collect();
    let mut set = RuleSet::new();
    for r in all.rules() {
        let referenced = [r.id.as_deref(), r.name.as_deref()]
            .iter()
            .flatten()
            .any(|x| needed.contains(x));
        if referenced || filter.keeps(r.level.as_deref(), r.status.as_deref()) {
            // ids were unique when first added, so this cannot fail
            let _ = set.add_document(Document::Rule(r.clone()));
        }
    }
    for c in kept_corr {
        let _ = set.add_document(Document::Correlation(c.clone()));
    }
    for f in all.filters() {
        let _ = set.add_document(Document::Filter(f.clone()));
    }
    if set.rules().is_empty() {
        return Err(if all.rules().is_empty() {
            "--sigma: no Sigma rules found".into()
        } else {
            format!(
                "--sigma: none of the {} rules passes --min-level/--status",
                all.rules().len()
            )
        });
    }
    Ok(set)
}

/// One rule match.
pub struct Hit {
    pub rule: RuleId,
    /// Input order: file index, then position in the file.
    pub order: (usize, u64),
    /// The matched event's time (Unix nanoseconds).
    pub time: Option<i64>,
    pub payload: Payload,
}

/// What a hit keeps of its event.
pub enum Payload {
    /// The event, while a correlation may still need it (shared by the hits of all the rules it
    /// matched).
    Event(Arc<Event<'static>>),
    /// The finished alert, built on the scanning thread so the event is dropped at once: matches
    /// are held as alerts only, not also as events.
    Alert(Box<Alert>),
    /// Taken.
    Taken,
}

/// Turns one event's matches into hits: alerts when no correlation is loaded, else the shared
/// event. Shared by the scanning threads (the EVTX parser's workers need it `'static`).
pub struct HitMaker {
    set: &'static CompiledRuleSet,
    filter: RuleFilter,
    tools: ToolIndex,
    correlating: bool,
}

impl HitMaker {
    /// A maker for the rule set, with the `--min-level`/`--status` filter and the tool catalog.
    pub fn new(set: &'static CompiledRuleSet, filter: &RuleFilter, tools: &[Tool]) -> Self {
        HitMaker {
            set,
            filter: filter.clone(),
            tools: ToolIndex::new(tools),
            correlating: !set.correlations().is_empty(),
        }
    }

    /// Whether a match of `rule` alerts on its own (rules kept only for a correlation do not).
    fn alerts(&self, rule: &SigmaRule, id: RuleId) -> bool {
        self.set.is_standalone(id) && self.filter.keeps(rule.level.as_deref(), rule.status.as_deref())
    }

    /// The hits of `event`, which matched `rules`.
    fn hits(&self, rules: &[RuleId], event: Event<'_>, order: (usize, u64), out: &mut Vec<Hit>) {
        let time = event.timestamp;
        if self.correlating {
            let event = Arc::new(event.into_owned());
            out.extend(rules.iter().map(|&rule| Hit {
                rule,
                order,
                time,
                payload: Payload::Event(Arc::clone(&event)),
            }));
            return;
        }
        for &rule in rules {
            if let Some(r) = self.set.rule(rule)
                && self.alerts(r, rule)
            {
                out.push(Hit {
                    rule,
                    order,
                    time,
                    payload: Payload::Alert(Box::new(detection_alert(r, &event, &self.tools))),
                });
            }
        }
    }
}

/// What the scan read.
#[derive(Default)]
pub struct ScanReport {
    /// The evidence accounting (the same as every other command's).
    pub evidence: telemetry::Report,
    /// Every scanned event's time per channel (or table) and host: the time profile.
    pub tally: Tally,
}

/// Skipped-record details kept per run (the totals are always exact).
const MAX_SKIP_DETAILS: usize = 1000;

/// Scanners shared by the EVTX worker threads.
type Pool = Arc<Mutex<Vec<Scanner<'static>>>>;

/// A scanner borrowed from the pool for one chunk of records; returned when dropped.
struct Pooled {
    pool: Pool,
    set: &'static CompiledRuleSet,
    scanner: Option<Scanner<'static>>,
    hits: Vec<RuleId>,
}

impl Clone for Pooled {
    fn clone(&self) -> Self {
        Pooled {
            pool: self.pool.clone(),
            set: self.set,
            scanner: None,
            hits: Vec::new(),
        }
    }
}

impl Drop for Pooled {
    fn drop(&mut self) {
        if let Some(s) = self.scanner.take()
            && let Ok(mut p) = self.pool.lock()
        {
            p.push(s);
        }
    }
}

impl Pooled {
    /// Scans one event; returns the matching rules (owned event) or nothing.
    fn scan(&mut self, event: &Event<'_>) -> &[RuleId] {
        let set = self.set;
        let scanner = self.scanner.get_or_insert_with(|| {
            self.pool
                .lock()
                .ok()
                .and_then(|mut p| p.pop())
                .unwrap_or_else(|| set.scanner())
        });
        scanner.scan(event, &mut self.hits);
        &self.hits
    }
}

/// Runs the compiled rules over the inputs; returns the matches in input order.
pub fn scan_inputs(maker: &Arc<HitMaker>, inputs: &[String]) -> Result<(Vec<Hit>, ScanReport), String> {
    let set = maker.set;
    let mut report = ScanReport::default();
    let mut datasets = Vec::new();
    let mut plain = Vec::new();
    for i in inputs {
        if telemetry::is_dataset(Path::new(i)) {
            datasets.push(PathBuf::from(i));
        } else {
            plain.push(i.clone());
        }
    }
    let files = if plain.is_empty() {
        Vec::new()
    } else {
        let (files, unread) = telemetry::discover(&plain);
        report.evidence.unread.extend(unread);
        files
    };
    let (mut evtx, mut other) = (Vec::new(), Vec::new());
    for (i, f) in files.into_iter().enumerate() {
        if is_evtx(&f) {
            evtx.push((i, f));
        } else {
            other.push((i, vec![f]));
        }
    }
    let base = evtx.len() + other.len();
    for (k, d) in datasets.iter().enumerate() {
        match dataset_files(d) {
            Ok(files) => other.push((base + k, files)),
            Err(e) => report.evidence.unread.push(telemetry::Unread {
                path: d.clone(),
                kind: telemetry::UnreadKind::Unreadable,
                reason: e,
            }),
        }
    }
    let pool: Pool = Arc::new(Mutex::new(Vec::new()));
    let mut hits = scan_evtx_files(maker, &pool, &evtx, &mut report);
    let mut scanner = set.scanner();
    for (idx, group) in &other {
        let mut sink = RowSink {
            scanner: &mut scanner,
            maker,
            file: *idx,
            seq: 0,
            raw_seen: false,
            hits: Vec::new(),
            records: 0,
            table_rows: 0,
            raw_tally: Tally::default(),
            table_tally: Tally::default(),
        };
        let options = ReadOptions::default();
        match telemetry::read_files(group, &options, &mut sink) {
            Ok(r) => report.evidence.merge(r, MAX_SKIP_DETAILS),
            Err(e) => report.evidence.unread.push(telemetry::Unread {
                path: group.first().cloned().unwrap_or_default(),
                kind: telemetry::UnreadKind::Unreadable,
                reason: e.to_string(),
            }),
        }
        report.tally.merge(if sink.raw_seen {
            sink.raw_tally
        } else {
            sink.table_tally
        });
        // Raw event logs also fill the Device tables: keep only the raw events' matches then.
        let raw = sink.raw_seen;
        hits.extend(sink.hits.into_iter().filter(|(t, _)| !raw || *t).map(|(_, h)| h));
    }
    hits.sort_by_key(|h| h.order);
    Ok((hits, report))
}

fn is_evtx(path: &Path) -> bool {
    let mut head = [0u8; 8];
    std::fs::File::open(path)
        .and_then(|mut f| f.read_exact(&mut head))
        .is_ok()
        && &head == b"ElfFile\0"
}

/// The Parquet files of an ingested dataset: only `WindowsEvent` when it has rows (the Device
/// tables were derived from the same events), else every table.
fn dataset_files(dir: &Path) -> Result<Vec<PathBuf>, String> {
    let tables = telemetry::list_tables(dir).map_err(|e| e.to_string())?;
    let raw = tables
        .iter()
        .any(|t| t.name == telemetry::schema::WINDOWS_EVENT && t.rows > 0);
    let mut out = Vec::new();
    for t in tables {
        if raw && t.name != telemetry::schema::WINDOWS_EVENT {
            continue;
        }
        for f in &t.files {
            out.push(dir.join(f));
        }
    }
    Ok(out)
}

/// EVTX files: `min(files, cores)` workers pull files; a file gets the remaining cores for its
/// chunks. Records are rendered, turned into events and scanned on the parser's threads.
fn scan_evtx_files(
    maker: &Arc<HitMaker>,
    pool: &Pool,
    files: &[(usize, PathBuf)],
    report: &mut ScanReport,
) -> Vec<Hit> {
    if files.is_empty() {
        return Vec::new();
    }
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    let workers = cores.min(files.len()).max(1);
    let per_file = (cores / workers).max(1);
    let next = AtomicUsize::new(0);
    let results: Mutex<Vec<FileScan>> = Mutex::new(Vec::new());
    std::thread::scope(|s| {
        for _ in 0..workers {
            s.spawn(|| {
                loop {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    let Some((idx, path)) = files.get(i) else { break };
                    let r = scan_evtx(maker, pool, *idx, path, per_file);
                    if let Ok(mut all) = results.lock() {
                        all.push(r);
                    }
                }
            });
        }
    });
    let mut hits = Vec::new();
    let mut scans = results.into_inner().unwrap_or_default();
    // Workers finish in any order; the report lists files in input order.
    scans.sort_by_key(|s| s.idx);
    for scan in scans {
        hits.extend(scan.hits);
        report.evidence.merge(scan.report, MAX_SKIP_DETAILS);
        report.tally.merge(scan.tally);
    }
    hits
}

/// What scanning one EVTX file gave: hits, its accounting, event times.
struct FileScan {
    idx: usize,
    hits: Vec<Hit>,
    report: telemetry::Report,
    tally: Tally,
}

/// Scans one EVTX file; what could not be read is counted exactly (lost chunks by their
/// records, through the same ledger as the readers).
fn scan_evtx(maker: &Arc<HitMaker>, pool: &Pool, idx: usize, path: &Path, threads: usize) -> FileScan {
    let mut report = telemetry::Report::default();
    let bytes = std::fs::metadata(path).map(|m| m.len()).unwrap_or(0);
    let settings = ParserSettings::new()
        .num_threads(threads)
        .separate_json_attributes(false)
        .indent(false);
    let opened = std::fs::File::open(path)
        .map_err(|e| e.to_string())
        .and_then(|f| Ok((f.try_clone().map_err(|e| e.to_string())?, f)))
        .and_then(|(again, f)| match EvtxParser::from_read_seek(f) {
            Ok(p) => Ok((again, p.with_configuration(settings))),
            Err(e) => Err(format!("unreadable EVTX file header: {e}")),
        });
    let (mut again, mut parser) = match opened {
        Ok(opened) => opened,
        Err(reason) => {
            report.unread.push(telemetry::Unread {
                path: path.to_path_buf(),
                kind: telemetry::UnreadKind::Unreadable,
                reason,
            });
            return FileScan {
                idx,
                hits: Vec::new(),
                report,
                tally: Tally::default(),
            };
        }
    };
    let mut scan = Pooled {
        pool: pool.clone(),
        set: maker.set,
        scanner: None,
        hits: Vec::new(),
    };
    let maker = Arc::clone(maker);
    let records = parser.serialized_records(move |record| {
        let record = record?;
        let id = record.event_record_id;
        let json = record.into_json_bytes()?;
        let event = match Event::from_evtx_bytes(&json.data) {
            Ok(event) => event,
            Err(e) => return Ok(Err((id, e.to_string()))),
        };
        let when = event.timestamp.map(|t| {
            let channel = event.channel.as_deref().unwrap_or("EVTX").to_string();
            (t, channel, event.computer.as_deref().unwrap_or("").to_string())
        });
        let rules = scan.scan(&event);
        let mut hits = Vec::new();
        if !rules.is_empty() {
            maker.hits(rules, event, (idx, id), &mut hits);
        }
        Ok(Ok((id, hits, when)))
    });
    let (mut hits, mut n) = (Vec::new(), 0u64);
    let mut tally = Tally::default();
    let mut ledger = telemetry::ledger::EvtxLedger::new();
    let mut skipped: Vec<telemetry::Skipped> = Vec::new();
    let mut skipped_total = 0u64;
    let mut skip = |location: telemetry::Location, reason: String, count: u64| {
        skipped_total += count;
        if skipped.len() < MAX_SKIP_DETAILS {
            skipped.push(telemetry::Skipped {
                file: path.to_path_buf(),
                location,
                reason,
            });
        }
    };
    for item in records {
        match item {
            Ok(Ok((id, found, when))) => {
                n += 1;
                ledger.seen(id);
                hits.extend(found);
                if let Some((t, channel, computer)) = when {
                    tally.add(&channel, &computer, t);
                }
            }
            Ok(Err((id, why))) => {
                ledger.seen(id);
                skip(telemetry::Location::Record(id), why, 1);
            }
            Err(e) => {
                ledger.error(&e);
                let (at, why) = telemetry::source::evtx_error(&e);
                skip(at, why, 1);
            }
        }
    }
    if let Some(lost) = ledger.finish(&mut again) {
        let at = lost
            .offset
            .map_or(telemetry::Location::File, telemetry::Location::Offset);
        skip(at, lost.reason, lost.extra);
    }
    report.files.push(telemetry::FileReport {
        path: path.to_path_buf(),
        format: telemetry::Format::Evtx,
        gzip: false,
        records: n,
        skipped: skipped_total,
        bytes,
    });
    report.skipped = skipped;
    report.skipped_total = skipped_total;
    FileScan {
        idx,
        hits,
        report,
        tally,
    }
}

/// Telemetry sink: table rows become Sigma events (raw `WindowsEvent` rows as their channel and
/// event data, `SecurityEvent` rows as Security events, other tables under their table name).
struct RowSink<'s, 'r> {
    scanner: &'s mut Scanner<'r>,
    maker: &'s HitMaker,
    file: usize,
    seq: u64,
    raw_seen: bool,
    /// (from a raw event, hit)
    hits: Vec<(bool, Hit)>,
    /// Raw events read.
    records: u64,
    /// Rows of other tables.
    table_rows: u64,
    /// Event times of the raw events and of the other tables' rows.
    raw_tally: Tally,
    table_tally: Tally,
}

impl BatchSink for RowSink<'_, '_> {
    fn write_batch(
        &mut self,
        table: &str,
        batch: datafusion::arrow::array::RecordBatch,
    ) -> Result<(), telemetry::Error> {
        let raw = table == telemetry::schema::WINDOWS_EVENT;
        if raw {
            self.raw_seen = true;
        } else if self.raw_seen {
            return Ok(());
        }
        let schema = batch.schema();
        let mut out = Vec::new();
        for i in 0..batch.num_rows() {
            let mut row = Map::new();
            for (f, a) in schema.fields().iter().zip(batch.columns()) {
                let v = engine::format::cell_json(a, i);
                if !v.is_null() {
                    row.insert(f.name().clone(), v);
                }
            }
            self.seq += 1;
            if raw {
                self.records += 1;
            }
            let data: Vec<Value> = if raw {
                ["EventData", "UserData"]
                    .iter()
                    .filter_map(|k| row.get(*k))
                    .map(|v| match v {
                        Value::String(s) => serde_json::from_str(s).unwrap_or(Value::Null),
                        other => other.clone(),
                    })
                    .collect()
            } else {
                Vec::new()
            };
            let row = Value::Object(row);
            let event = row_event(table, &row, &data);
            if let Some(t) = event.timestamp {
                let tally = if raw {
                    &mut self.raw_tally
                } else {
                    &mut self.table_tally
                };
                let host = event.computer.as_deref().unwrap_or("");
                tally.add(event.channel.as_deref().unwrap_or(table), host, t);
            }
            self.scanner.scan(&event, &mut out);
            if out.is_empty() {
                continue;
            }
            let mut found = Vec::new();
            self.maker.hits(&out, event, (self.file, self.seq), &mut found);
            self.hits.extend(found.into_iter().map(|h| (raw, h)));
        }
        if !raw {
            self.table_rows += batch.num_rows() as u64;
        }
        Ok(())
    }
}

fn text_of<'a>(row: &'a Value, key: &str) -> Option<Cow<'a, str>> {
    match row.get(key)? {
        Value::String(s) => Some(Cow::Borrowed(s.as_str())),
        Value::Null => None,
        v => Some(Cow::Owned(v.to_string())),
    }
}

/// A table row as a Sigma event.
fn row_event<'a>(table: &str, row: &'a Value, data: &'a [Value]) -> Event<'a> {
    let time = text_of(row, "Timestamp")
        .or_else(|| text_of(row, "TimeGenerated"))
        .and_then(|t| sigma::parse_timestamp(&t));
    let id = || text_of(row, "EventID").and_then(|t| t.parse::<u32>().ok());
    if table == telemetry::schema::WINDOWS_EVENT {
        let mut ev = Event::new();
        ev.timestamp = time;
        ev.channel = text_of(row, "Channel");
        ev.event_id = id();
        ev.provider = text_of(row, "Provider");
        ev.computer = text_of(row, "Computer");
        for d in data {
            if let Ok(flat) = Event::from_flat_json(d) {
                for (n, v) in flat.fields() {
                    ev.push(n.clone(), v.clone());
                }
            }
        }
        return ev;
    }
    let mut ev = Event::from_flat_json(row).unwrap_or_default();
    ev.timestamp = time;
    if table == "SecurityEvent" {
        ev.channel = Some(Cow::Borrowed("Security"));
        ev.event_id = id();
        ev.computer = text_of(row, "Computer");
    } else {
        ev.channel = Some(Cow::Owned(table.to_string()));
        ev.computer = text_of(row, "DeviceName").or_else(|| text_of(row, "Computer"));
    }
    ev
}

/// `attack.` tags that are neither techniques nor tactics: groups `g0001`, software `s0001`.
fn is_attack_id(tag: &str) -> bool {
    let mut b = tag.bytes();
    match b.next() {
        Some(c) if c.is_ascii_digit() => true,
        Some(b'g' | b's') => tag.len() > 1 && b.all(|c| c.is_ascii_digit()),
        _ => false,
    }
}

/// Rule metadata shared by detection and correlation rules, for alerts.
struct Meta<'a> {
    id: &'a str,
    title: &'a str,
    level: Option<&'a str>,
    tags: &'a [String],
}

fn rule_ref(m: &Meta<'_>) -> (RuleRef, Severity) {
    let level = m.level.map(str::to_ascii_lowercase);
    let severity = match level.as_deref() {
        Some("critical") | Some("high") => Severity::High,
        Some("medium") => Severity::Medium,
        Some("low") => Severity::Low,
        Some("informational") => Severity::Informational,
        _ => Severity::Medium,
    };
    let mut tactics = Vec::new();
    let mut techniques = Vec::new();
    for t in m.tags {
        let Some(rest) = t.strip_prefix("attack.") else {
            continue;
        };
        if rest.len() > 1 && rest.as_bytes()[0].eq_ignore_ascii_case(&b't') && rest.as_bytes()[1].is_ascii_digit() {
            techniques.push(rest.to_ascii_uppercase());
        } else if !is_attack_id(rest) {
            tactics.push(
                rest.split(['-', '_'])
                    .map(|w| {
                        let mut c = w.chars();
                        c.next()
                            .map(|f| f.to_ascii_uppercase().to_string() + c.as_str())
                            .unwrap_or_default()
                    })
                    .collect::<String>(),
            );
        }
    }
    (
        RuleRef {
            id: m.id.to_string(),
            guid: None,
            name: m.title.to_string(),
            severity: severity.name(),
            tactics,
            techniques,
            level,
            tags: Some(m.tags.to_vec()),
        },
        severity,
    )
}

fn json_of(v: &FieldValue<'_>) -> Value {
    match v {
        FieldValue::Str(s) => Value::String(s.to_string()),
        FieldValue::Int(i) => Value::from(*i),
        FieldValue::Float(f) => serde_json::Number::from_f64(*f).map_or(Value::Null, Value::Number),
        FieldValue::Bool(b) => Value::Bool(*b),
        FieldValue::Null => Value::Null,
    }
}

/// The alert row: time, host, channel and event id first, then the event's fields (a repeated
/// name becomes an array).
fn event_row(ev: &Event<'_>) -> Row {
    let mut cols: Vec<(String, Value)> = Vec::new();
    if let Some(t) = ev.timestamp {
        cols.push(("Timestamp".into(), Value::String(detect::alert::iso(t))));
    }
    for (k, v) in [("Computer", &ev.computer), ("Channel", &ev.channel)] {
        if let Some(v) = v {
            cols.push((k.into(), Value::String(v.to_string())));
        }
    }
    if let Some(id) = ev.event_id {
        cols.push(("EventID".into(), Value::from(id)));
    }
    let reserved = cols.len();
    let mut index: HashMap<String, usize> = cols.iter().enumerate().map(|(i, (k, _))| (k.clone(), i)).collect();
    for (name, v) in ev.fields() {
        let v = json_of(v);
        match index.get(name.as_ref()) {
            Some(&i) if i >= reserved => {
                let slot = &mut cols[i].1;
                match slot {
                    Value::Array(items) => items.push(v),
                    other => {
                        let first = other.take();
                        *other = Value::Array(vec![first, v]);
                    }
                }
            }
            Some(_) => {}
            None => {
                index.insert(name.to_string(), cols.len());
                cols.push((name.to_string(), v));
            }
        }
    }
    Row(cols)
}

/// Looks a tool up by executable name in the catalog.
struct ToolIndex {
    tools: Vec<Tool>,
    by_exe: HashMap<String, usize>,
}

impl ToolIndex {
    fn new(tools: &[Tool]) -> Self {
        let mut by_exe = HashMap::new();
        for (i, t) in tools.iter().enumerate() {
            for e in t.executables.iter().chain(&t.original_file_names) {
                by_exe.entry(e.to_lowercase()).or_insert(i);
            }
        }
        ToolIndex {
            tools: tools.to_vec(),
            by_exe,
        }
    }

    fn find(&self, row: &Row) -> Option<&Tool> {
        [
            "Image",
            "NewProcessName",
            "FolderPath",
            "OriginalFileName",
            "FileName",
            "ProcessName",
        ]
        .iter()
        .filter_map(|c| row.text(c))
        .find_map(|p| {
            let base = p.rsplit(['\\', '/']).next().unwrap_or(&p).to_lowercase();
            self.by_exe.get(&base).and_then(|&i| self.tools.get(i))
        })
    }
}

/// The alert `signal` for a Sigma logsource category.
fn signal_for(rule: &SigmaRule) -> Option<&'static str> {
    let cat = rule.logsource.category.as_deref()?;
    Some(match cat {
        "process_creation" => "process",
        "network_connection" | "firewall" => "network",
        "dns_query" | "dns" => "dns",
        c if c.starts_with("registry_") => "registry",
        c if c.starts_with("file_") => "file",
        _ => return None,
    })
}

fn account_of(row: &Row) -> Option<String> {
    if let Some(u) = row.text("User") {
        return Some(u);
    }
    for (user, domain) in [
        ("TargetUserName", "TargetDomainName"),
        ("SubjectUserName", "SubjectDomainName"),
        ("AccountName", "AccountDomain"),
        ("InitiatingProcessAccountName", "InitiatingProcessAccountDomain"),
    ] {
        if let Some(u) = row.text(user).filter(|u| u != "-") {
            return Some(match row.text(domain).filter(|d| d != "-") {
                Some(d) if !u.contains('\\') => format!("{d}\\{u}"),
                _ => u,
            });
        }
    }
    None
}

fn entities(device: &Option<String>, account: &Option<String>) -> Vec<Entity> {
    let mut out = Vec::new();
    if let Some(d) = device {
        out.push(Entity {
            entity_type: "Host".into(),
            fields: Row(vec![("HostName".into(), Value::String(d.clone()))]),
        });
    }
    if let Some(a) = account {
        out.push(Entity {
            entity_type: "Account".into(),
            fields: Row(vec![("Name".into(), Value::String(a.clone()))]),
        });
    }
    out
}

/// The alert of one detection-rule match.
fn detection_alert(rule: &SigmaRule, event: &Event<'_>, tools: &ToolIndex) -> Alert {
    let (rule_ref, severity) = rule_ref(&Meta {
        id: rule.reference(),
        title: &rule.title,
        level: rule.level.as_deref(),
        tags: &rule.tags,
    });
    let row = event_row(event);
    let device = event
        .computer
        .as_deref()
        .map(str::to_string)
        .or_else(|| row.text("DeviceName"));
    let account = account_of(&row);
    let tool = tools.find(&row);
    Alert {
        rule: rule_ref,
        time: event.timestamp.map(detect::alert::iso),
        time_nanos: event.timestamp,
        severity,
        entities: entities(&device, &account),
        device,
        account,
        tool: tool.map(|t| t.name.clone()),
        category: tool.map(|t| t.category.clone()),
        signal: signal_for(rule).map(str::to_string),
        sources: Vec::new(),
        events: None,
        suppressed: None,
        replay_run: None,
        row,
        detail_column: None,
    }
}

/// `--lookback` for Sigma rules: only events in `(anchor − span, anchor]`, the anchor being `now`,
/// else the newest event of the bulk of the scanned evidence (docs/alerts.md, "Time").
#[derive(Debug, Clone, Copy)]
pub struct SigmaWindow {
    pub now: Option<i64>,
    pub span: i64,
}

/// Runs the rules over the inputs and builds the alerts: standalone detection matches and fired
/// correlations (matches fed in time order), all of the evidence or only `window`'s events.
/// Returns the alerts and what was read.
pub fn hunt_alerts(
    set: &'static CompiledRuleSet,
    inputs: &[String],
    tools: &[Tool],
    filter: &RuleFilter,
    window: Option<SigmaWindow>,
) -> Result<(Vec<Alert>, ScanReport), String> {
    let maker = Arc::new(HitMaker::new(set, filter, tools));
    let (mut hits, report) = scan_inputs(&maker, inputs)?;
    if let Some(w) = window {
        let wall = detect::timeline::wall_clock();
        let (anchor, _) = detect::hunt::anchor(w.now, &report.tally.profile(wall), wall);
        let from = anchor.saturating_sub(w.span);
        hits.retain(|h| h.time.is_some_and(|t| t > from && t <= anchor));
    }
    let index = &maker.tools;
    let mut alerts = Vec::new();
    hits.sort_by_key(|h| (h.time.unwrap_or(i64::MIN), h.order));
    let mut correlator = set.correlator::<usize>();
    let mut fired = Vec::new();
    for (i, h) in hits.iter_mut().enumerate() {
        match std::mem::replace(&mut h.payload, Payload::Taken) {
            Payload::Alert(a) => alerts.push(*a),
            Payload::Event(event) => {
                let Some(rule) = set.rule(h.rule) else { continue };
                if maker.alerts(rule, h.rule) {
                    alerts.push(detection_alert(rule, &event, index));
                }
                fired.extend(correlator.observe(h.rule, &event, event.timestamp.unwrap_or(0), i));
                h.payload = Payload::Event(event);
            }
            Payload::Taken => {}
        }
    }
    fired.extend(correlator.flush());
    for f in fired {
        let Some(c) = set.correlations().get(f.correlation) else {
            continue;
        };
        if c.chained && !c.rule.generate {
            continue;
        }
        let (rule_ref, severity) = rule_ref(&Meta {
            id: c.rule.reference(),
            title: &c.rule.title,
            level: c.rule.level.as_deref(),
            tags: &c.rule.tags,
        });
        let mut events = Vec::new();
        let mut devices: Vec<String> = Vec::new();
        for &i in &f.events {
            let Some(Hit {
                rule,
                payload: Payload::Event(event),
                ..
            }) = hits.get(i)
            else {
                continue;
            };
            let row = event_row(event);
            let mut o = Map::new();
            o.insert(
                "Timestamp".into(),
                event
                    .timestamp
                    .map_or(Value::Null, |t| Value::String(detect::alert::iso(t))),
            );
            if let Some(r) = set.rule(*rule) {
                o.insert("Rule".into(), Value::String(r.reference().to_string()));
                o.insert("Title".into(), Value::String(r.title.clone()));
            }
            if let Some(t) = index.find(&row) {
                o.insert("Tool".into(), Value::String(t.name.clone()));
            }
            if let Some(d) = &event.computer {
                o.insert("Computer".into(), Value::String(d.to_string()));
                if !devices.iter().any(|x| x == d.as_ref()) {
                    devices.push(d.to_string());
                }
            }
            o.insert("Event".into(), serde_json::to_value(&row).unwrap_or(Value::Null));
            events.push(Value::Object(o));
        }
        let mut cols: Vec<(String, Value)> = vec![
            ("Timestamp".into(), Value::String(detect::alert::iso(f.first))),
            ("LastTimestamp".into(), Value::String(detect::alert::iso(f.last))),
            ("Correlation".into(), Value::String(format!("{:?}", c.rule.kind))),
            (
                "Value".into(),
                serde_json::Number::from_f64(f.value).map_or(Value::Null, Value::Number),
            ),
        ];
        for (k, v) in &f.group {
            cols.push((k.clone(), v.clone().map_or(Value::Null, Value::String)));
        }
        let row = Row(cols);
        let device = ["Computer", "Hostname", "DeviceName", "ComputerName"]
            .iter()
            .find_map(|k| row.text(k))
            .or_else(|| (devices.len() == 1).then(|| devices[0].clone()));
        let account = account_of(&row);
        alerts.push(Alert {
            rule: rule_ref,
            time: Some(detect::alert::iso(f.first)),
            time_nanos: Some(f.first),
            severity,
            entities: entities(&device, &account),
            device,
            account,
            tool: None,
            category: None,
            signal: Some("correlation".into()),
            sources: Vec::new(),
            events: Some(Value::Array(events)),
            suppressed: None,
            replay_run: None,
            row,
            detail_column: None,
        });
    }
    Ok((alerts, report))
}

/// `hunt --sigma`: Sigma rules (and the pack too when `--rules` is given).
pub async fn run(args: HuntArgs) -> Result<ExitCode, String> {
    if args.inputs.is_empty() {
        return Err("no evidence given: name files, folders, globs or an ingested dataset".into());
    }
    let filter = RuleFilter::parse(args.min_level.as_deref(), &args.status)?;
    let rules = load_rules(&args.sigma, &filter)?;
    let compiled = rules.compile();
    for e in compiled.skipped() {
        eprintln!("warning: sigma: not evaluated: {e}");
    }
    let set: &'static CompiledRuleSet = Box::leak(Box::new(compiled));
    let tools = detect::catalog::builtin();
    let tuning = args
        .config
        .as_deref()
        .map(|p| pack::load_tuning(p, &tools))
        .transpose()?;
    let min_severity = args.min_severity()?;
    // Sigma rules have no queryPeriod: like hunting queries they see all the evidence, unless
    // --lookback gives every rule the same window (docs/alerts.md, "Time").
    let mode = args.time_mode()?;
    let options = crate::query::engine_options(args.now.as_deref(), None, args.memory_limit.as_deref())?;
    let now = options.now;
    let window = match mode {
        detect::hunt::TimeMode::Window(detect::hunt::Window::Fixed(span)) => Some(SigmaWindow { now, span }),
        _ => None,
    };
    let mut dest = args.destination()?;
    let (mut alerts, report) = hunt_alerts(set, &args.inputs, &tools, &filter, window)?;
    crate::evidence::print_report(&report.evidence);
    if let Some(msg) = crate::evidence::nothing_read(&report.evidence) {
        return Err(msg);
    }
    let sigma_mode = match window {
        Some(_) => format!(
            "Sigma rules over {} before the anchor",
            args.lookback.as_deref().unwrap_or("the lookback")
        ),
        None => "Sigma rules over all evidence".to_string(),
    };
    let wall = detect::timeline::wall_clock();
    let mut profile = report.tally.profile(wall);
    let (anchor, source) = detect::hunt::anchor(now, &profile, wall);
    let (mut anchor, mut anchor_source) = (anchor, source.describe());
    let mut mode_text = sigma_mode.clone();
    let mut rules_run = set.rules().len() + set.correlations().len();
    let mut failures = Vec::new();
    if !args.rules.is_empty() {
        let (pack_rules, not_loaded) = pack::load_hunt_rules(&args.rules)?;
        failures.extend(not_loaded);
        let mut engine = engine::Engine::new(pack::hunt_engine_options(&args)?).map_err(|e| e.to_string())?;
        let _loaded = crate::evidence::load_evidence_quietly(&mut engine, &args.inputs).await?;
        let outcome = pack::run_pack(&mut engine, &pack_rules, None, &tools, now, mode).await?;
        for r in &outcome.runs {
            if let Some(err) = &r.error {
                eprintln!("error: rule {}: {}", r.rule_id, err.message);
                failures.push((r.rule_id.clone(), err.message.clone()));
            }
        }
        rules_run += outcome.runs.len();
        anchor = outcome.anchor;
        anchor_source = outcome.anchor_source;
        mode_text = format!(
            "{}; {sigma_mode}",
            alerts_out::describe_mode(mode, args.lookback.as_deref(), outcome.replay.as_deref())
        );
        profile = outcome.profile;
        alerts.extend(outcome.alerts);
    }
    let (mut alerts, mut suppressed) = detect::hunt::apply_tuning(alerts, tuning.as_ref(), &tools);
    if let Some(min) = min_severity {
        alerts.retain(|a| a.severity >= min);
        suppressed.retain(|a| a.severity >= min);
    }
    detect::hunt::sort_alerts(&mut alerts);
    detect::hunt::sort_alerts(&mut suppressed);
    let anchor = detect::alert::iso(anchor);
    eprintln!(
        "hunt: anchor {anchor} ({anchor_source}); {mode_text}; {} Sigma rules, {} correlations; {} files, {} records ({} skipped); {} alerts, {} suppressed",
        set.rules().len(),
        set.correlations().len(),
        report.evidence.files.len(),
        report.evidence.records(),
        report.evidence.skipped_total,
        alerts.len(),
        suppressed.len()
    );
    dest.report_context(&profile, &[]);
    alerts_out::emit(
        dest,
        &alerts,
        &suppressed,
        &RunSummary {
            anchor,
            anchor_source,
            rules_run,
            failures,
            evidence: &report.evidence,
            allow_partial: args.allow_partial,
            time: alerts_out::TimeSummary::new(&profile, mode_text),
        },
    )
}
