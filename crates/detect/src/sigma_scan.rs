//! Sigma rules over evidence in one streaming pass: EVTX records through telemetry's EVTX driver
//! (files in parallel, records on the parser's threads), other inputs through the telemetry
//! readers as table rows; matches feed the correlation rules, and alerts come from the same
//! builder as the pack's ([`crate::alert`]).

use crate::Alert;
use crate::alert::{AlertSource, Row, RuleRef, build, iso};
use crate::catalog::Tool;
use crate::error::Error;
use crate::rule::Severity;
use crate::timeline::Tally;
use serde_json::{Map, Value};
use sigma::{CompiledRuleSet, Document, Event, FieldValue, RuleId, RuleSet, Scanner, SigmaRule};
use std::borrow::Cow;
use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};
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
    pub fn parse(min_level: Option<&str>, status: &[String]) -> Result<RuleFilter, Error> {
        let min_level = min_level
            .map(|l| {
                let l = l.trim().to_ascii_lowercase();
                let l = if l == "info" { "informational".to_string() } else { l };
                LEVELS
                    .iter()
                    .position(|x| *x == l)
                    .ok_or_else(|| Error::Usage(format!("--min-level: `{l}` is not one of {}", LEVELS.join(", "))))
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
                return Err(Error::Usage(format!(
                    "--status: `{s}` is not one of {}, all",
                    ALL_STATUSES.join(", ")
                )));
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

/// Sigma rules loaded for a hunt, and the documents that were rejected (file and why).
pub(crate) struct LoadedRules {
    /// The rules, correlations and filters to run.
    pub set: RuleSet,
    /// Documents that could not be used, each with its file and reason.
    pub rejected: Vec<String>,
}

/// Loads Sigma rules from files and folders; rules the filter drops are left out unless a kept
/// correlation needs them. Rejected documents are listed in the result; no rule at all is an
/// error.
pub fn load_rules(paths: &[PathBuf], filter: &RuleFilter) -> Result<LoadedRules, Error> {
    let mut all = RuleSet::new();
    for p in paths {
        if p.is_dir() {
            all.add_dir(p);
        } else if p.is_file() {
            all.add_file(p);
        } else {
            return Err(Error::Sigma(format!("{}: no such file or folder", p.display())));
        }
    }
    let rejected: Vec<String> = all.rejected().iter().map(ToString::to_string).collect();
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
        return Err(Error::Sigma(if all.rules().is_empty() {
            "no Sigma rules found".into()
        } else {
            format!("none of the {} rules passes --min-level/--status", all.rules().len())
        }));
    }
    Ok(LoadedRules { set, rejected })
}

/// One rule match.
pub(crate) struct Hit {
    pub rule: RuleId,
    /// Input order: file index, then position in the file.
    pub order: (usize, u64),
    /// The matched event's time (Unix nanoseconds).
    pub time: Option<i64>,
    pub payload: Payload,
}

/// What a hit keeps of its event.
pub(crate) enum Payload {
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
pub(crate) struct HitMaker {
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
pub(crate) struct ScanReport {
    /// The evidence accounting (the same as every other command's).
    pub evidence: telemetry::Report,
    /// Every scanned event's time per channel (or table) and host: the time profile.
    pub tally: Tally,
}

/// Skipped-record details kept per run (the totals are always exact).
const MAX_SKIP_DETAILS: usize = telemetry::MAX_SKIP_DETAILS;

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
pub(crate) fn scan_inputs(maker: &Arc<HitMaker>, inputs: &[String]) -> (Vec<Hit>, ScanReport) {
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
        if telemetry::is_evtx(&f) {
            evtx.push((i, f));
        } else {
            other.push((i, vec![f]));
        }
    }
    let base = evtx.len() + other.len();
    for (k, d) in datasets.iter().enumerate() {
        match telemetry::dataset_files(d) {
            Ok(files) => other.push((base + k, files)),
            Err(e) => report.evidence.unread.push(telemetry::Unread {
                path: d.clone(),
                kind: telemetry::UnreadKind::Unreadable,
                reason: e.to_string(),
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
    (hits, report)
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

/// Scans one EVTX file through telemetry's EVTX driver, which counts what could not be read
/// exactly (lost chunks by their records); events are built and scanned on the parser's threads.
fn scan_evtx(maker: &Arc<HitMaker>, pool: &Pool, idx: usize, path: &Path, threads: usize) -> FileScan {
    let mut scan = Pooled {
        pool: pool.clone(),
        set: maker.set,
        scanner: None,
        hits: Vec::new(),
    };
    let on_thread = Arc::clone(maker);
    let (mut hits, mut tally) = (Vec::new(), Tally::default());
    let report = telemetry::scan_evtx(
        path,
        threads,
        move |id, json: &[u8]| {
            let event = Event::from_evtx_bytes(json).map_err(|e| e.to_string())?;
            let when = event.timestamp.map(|t| {
                let channel = event.channel.as_deref().unwrap_or("EVTX").to_string();
                (t, channel, event.computer.as_deref().unwrap_or("").to_string())
            });
            let rules = scan.scan(&event);
            let mut found = Vec::new();
            if !rules.is_empty() {
                on_thread.hits(rules, event, (idx, id), &mut found);
            }
            Ok((found, when))
        },
        |_, (found, when): (Vec<Hit>, Option<(i64, String, String)>)| {
            hits.extend(found);
            if let Some((t, channel, computer)) = when {
                tally.add(&channel, &computer, t);
            }
        },
    );
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
        cols.push(("Timestamp".into(), Value::String(iso(t))));
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

/// The alert of one detection-rule match.
fn detection_alert(rule: &SigmaRule, event: &Event<'_>, tools: &ToolIndex) -> Alert {
    let (rule_ref, severity) = rule_ref(&Meta {
        id: rule.reference(),
        title: &rule.title,
        level: rule.level.as_deref(),
        tags: &rule.tags,
    });
    let row = event_row(event);
    let tool = tools.find(&row);
    build(AlertSource {
        device: event.computer.as_deref().map(str::to_string),
        tool: tool.map(|t| t.name.clone()),
        category: tool.map(|t| t.category.clone()),
        signal: signal_for(rule).map(str::to_string),
        ..AlertSource::new(rule_ref, severity, row, event.timestamp)
    })
}

/// `--lookback` for Sigma rules: only events in `(anchor − span, anchor]`, the anchor being `now`,
/// else the newest event of the bulk of the scanned evidence (docs/alerts.md, "Time").
#[derive(Debug, Clone, Copy)]
pub(crate) struct SigmaWindow {
    pub now: Option<i64>,
    pub span: i64,
}

/// Runs the rules over the inputs and builds the alerts: standalone detection matches and fired
/// correlations (matches fed in time order), all of the evidence or only `window`'s events.
/// Returns the alerts and what was read.
pub(crate) fn hunt_alerts(
    set: &'static CompiledRuleSet,
    inputs: &[String],
    tools: &[Tool],
    filter: &RuleFilter,
    window: Option<SigmaWindow>,
) -> (Vec<Alert>, ScanReport) {
    let maker = Arc::new(HitMaker::new(set, filter, tools));
    let (mut hits, report) = scan_inputs(&maker, inputs);
    if let Some(w) = window {
        let wall = crate::timeline::wall_clock();
        let (anchor, _) = crate::hunt::anchor(w.now, &report.tally.profile(wall), wall);
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
                event.timestamp.map_or(Value::Null, |t| Value::String(iso(t))),
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
            ("Timestamp".into(), Value::String(iso(f.first))),
            ("LastTimestamp".into(), Value::String(iso(f.last))),
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
        alerts.push(build(AlertSource {
            device: (devices.len() == 1).then(|| devices[0].clone()),
            signal: Some("correlation".into()),
            events: Some(Value::Array(events)),
            ..AlertSource::new(rule_ref, severity, row, Some(f.first))
        }));
    }
    (alerts, report)
}
