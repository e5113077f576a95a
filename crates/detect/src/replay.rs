//! `hunt --replay`: a backtest. Each scheduled rule runs as Sentinel would have run it across the
//! bulk of the evidence, and each alert is reported once, with the run that first raised it.
//!
//! - **Schedule.** A rule with both `queryFrequency` (f) and `queryPeriod` (p) runs at every
//!   multiple of f since 1970-01-01T00:00:00Z, from the first at or after the bulk's first event to
//!   the first at or after its last; the run at t sees the rows of `(t − p, t]` and `now() = t`.
//!   Other rules (hunting queries, NRT rules) run once over all the evidence with `now()` = the
//!   anchor. Without a bulk (no timed events), a scheduled rule runs once, at the anchor.
//! - **Identity.** Two alerts are the same when rule id, device, time, tool, signal and entities
//!   are ([`identity`]); the first run's alert is kept, with `replay_run` = that run's time.
//! - **Skipping, exactly.** Only the events of the tables a rule reads count ([`tables_read`]). A
//!   run whose window holds none of them is skipped (unless the rule gives rows on an empty window,
//!   which is tried once first). A run whose window gained and lost none of them since the run
//!   before gives that run's rows again, so it is skipped too, unless the query calls `ago()` or
//!   `now()`. Neither can change the result; [`every_run`] runs the whole schedule without
//!   skipping, as the reference the tests compare with.

use crate::alert::{Alert, alerts_from_batches};
use crate::hunt::{RuleFailure, RuleRun};
use crate::rule::{Rule, parse_period};
use crate::timeline::time_and_host_columns;
use datafusion::arrow::array::{Array, AsArray, RecordBatch};
use datafusion::arrow::datatypes::TimestampNanosecondType;
use engine::{Engine, QueryError};
use futures::{StreamExt, TryStreamExt};
use std::collections::{BTreeMap, HashSet};
use std::time::Instant;

/// A scheduled rule's `queryFrequency` and `queryPeriod`, in nanoseconds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Schedule {
    /// How often the rule runs (`queryFrequency`).
    pub frequency: i64,
    /// How far back each run looks (`queryPeriod`).
    pub period: i64,
}

impl Schedule {
    /// The rule's schedule; `None` without a positive `queryFrequency` and `queryPeriod`.
    pub fn of(rule: &Rule) -> Option<Schedule> {
        let frequency = rule.query_frequency_text.as_deref().and_then(parse_period)?;
        let period = rule.query_period?;
        (frequency > 0 && period > 0).then_some(Schedule { frequency, period })
    }

    /// The run times covering `first..=last`: multiples of the frequency since the epoch, from
    /// the first at or after `first` to the first at or after `last`.
    pub fn run_times(&self, first: i64, last: i64) -> impl Iterator<Item = i64> + use<> {
        let f = self.frequency;
        let start = ceil_multiple(first, f);
        let end = ceil_multiple(last, f);
        let mut next = Some(start);
        std::iter::from_fn(move || {
            let t = next.filter(|t| *t <= end)?;
            next = t.checked_add(f);
            Some(t)
        })
    }
}

/// The smallest multiple of `f` at or after `t`.
fn ceil_multiple(t: i64, f: i64) -> i64 {
    let q = t.div_euclid(f);
    let m = q.saturating_mul(f);
    if m == t { m } else { m.saturating_add(f) }
}

fn gcd(a: i64, b: i64) -> i64 {
    if b == 0 { a } else { gcd(b, a % b) }
}

/// The smallest bin [`EventBins`] uses (finer schedules are checked conservatively).
const MIN_BIN: i64 = 60_000_000_000;

/// Which right-closed time bins `(j·w, (j+1)·w]` hold at least one event: enough to tell whether
/// a window aligned to the bins holds events.
#[derive(Debug, Clone)]
pub(crate) struct EventBins {
    width: i64,
    /// Sorted bin numbers j.
    bins: Vec<i64>,
}

impl EventBins {
    /// Bins of the given width over the event times.
    #[cfg(test)]
    pub(crate) fn from_times(width: i64, times: impl IntoIterator<Item = i64>) -> EventBins {
        let width = width.max(1);
        let mut set = HashSet::new();
        for t in times {
            set.insert(bin_of(t, width));
        }
        EventBins::from_bins(width, set)
    }

    fn from_bins(width: i64, set: HashSet<i64>) -> EventBins {
        let mut bins: Vec<i64> = set.into_iter().collect();
        bins.sort_unstable();
        EventBins { width, bins }
    }

    /// A width every schedule's frequency and period are multiples of (so each window is whole
    /// bins), at least a minute.
    pub fn width_for(schedules: &[Schedule]) -> i64 {
        let g = schedules.iter().fold(0, |g, s| gcd(gcd(g, s.frequency), s.period));
        if g < MIN_BIN { MIN_BIN } else { g }
    }

    /// Whether an event may lie in `(from, to]`: exact when both ends are multiples of the width,
    /// else also true when an event lies in a bin the range only partly covers.
    pub fn any_in(&self, from: i64, to: i64) -> bool {
        if to <= from {
            return false;
        }
        let lo = from.div_euclid(self.width);
        let hi = (to - 1).div_euclid(self.width);
        let i = self.bins.partition_point(|&j| j < lo);
        self.bins.get(i).is_some_and(|&j| j <= hi)
    }

    /// A time no event is at or before (the start of the first bin).
    pub fn before_all(&self) -> Option<i64> {
        self.bins.first().map(|j| j.saturating_mul(self.width))
    }
}

/// [`EventBins`] per table with a time column.
#[derive(Debug, Clone)]
pub(crate) struct TableBins {
    width: i64,
    tables: BTreeMap<String, HashSet<i64>>,
}

impl TableBins {
    /// Collects the bins of the engine's tables (those in `skip` left out), streaming each
    /// table's time column over all its rows.
    pub async fn collect(engine: &mut Engine, skip: &[&str], width: i64) -> Result<TableBins, QueryError> {
        let saved = engine.lookback();
        engine.set_lookback(None);
        let width = width.max(1);
        let result = collect_bins(engine, skip, width).await;
        engine.set_lookback(saved);
        Ok(TableBins { width, tables: result? })
    }

    /// The tables' names.
    pub fn names(&self) -> Vec<String> {
        self.tables.keys().cloned().collect()
    }

    /// The bins of these tables together (`None`: all of them).
    pub fn of(&self, tables: Option<&[String]>) -> EventBins {
        let mut set = HashSet::new();
        for (name, bins) in &self.tables {
            if tables.is_none_or(|t| t.contains(name)) {
                set.extend(bins.iter().copied());
            }
        }
        EventBins::from_bins(self.width, set)
    }
}

/// The bin `(j·w, (j+1)·w]` holding `t`.
fn bin_of(t: i64, width: i64) -> i64 {
    (t - 1).div_euclid(width)
}

async fn collect_bins(
    engine: &Engine,
    skip: &[&str],
    width: i64,
) -> Result<BTreeMap<String, HashSet<i64>>, QueryError> {
    let mut tables = BTreeMap::new();
    for name in engine.table_names() {
        if skip.contains(&name.as_str()) {
            continue;
        }
        let Some((time, _)) = time_and_host_columns(engine, &name) else {
            continue;
        };
        let q = format!("['{name}'] | where isnotnull({time}) | project T = {time}");
        let plan = engine.plan(&q)?;
        let mut stream = engine.execute(plan).await?;
        let mut bins = HashSet::new();
        while let Some(b) = stream.next().await {
            let b = b.map_err(|e| QueryError::Execution(e.strip_backtrace()))?;
            let a = b.column(0).as_primitive::<TimestampNanosecondType>();
            for i in 0..a.len() {
                if a.is_valid(i) {
                    bins.insert(bin_of(a.value(i), width));
                }
            }
        }
        tables.insert(name, bins);
    }
    Ok(tables)
}

/// The evidence tables a query may read: those of `tables` it names. `None` (all of them) when it
/// could name tables another way: `find`, `search`, `table()`, `database()`, `cluster()`,
/// `workspace()`, `app()`, or a `*` right after a name (`union *`, `Device*`).
pub(crate) fn tables_read(query: &str, tables: &[String]) -> Option<Vec<String>> {
    use kql::lexer::Tok;
    let tokens = kql::lexer::lex(query).0;
    let mut read = Vec::new();
    for (i, t) in tokens.iter().enumerate() {
        let name = match &t.tok {
            Tok::Ident(n) | Tok::BracketName(n) => n,
            Tok::Star if i > 0 && matches!(tokens[i - 1].tok, Tok::Ident(_)) => return None,
            _ => continue,
        };
        if ["find", "search", "table", "database", "cluster", "workspace", "app"]
            .iter()
            .any(|k| name.eq_ignore_ascii_case(k))
        {
            return None;
        }
        if tables.contains(name) && !read.contains(name) {
            read.push(name.clone());
        }
    }
    Some(read)
}

/// What alert de-duplication compares: rule id, device, time, tool, signal and entities.
pub fn identity(a: &Alert) -> String {
    serde_json::json!([a.rule.id, a.device, a.time, a.tool, a.signal, a.entities]).to_string()
}

/// Whether a query calls `ago()` or `now()` (by name; a column so named counts too, which only
/// makes replay skip less).
pub fn uses_now(query: &str) -> bool {
    kql::lexer::lex(query)
        .0
        .iter()
        .any(|t| matches!(&t.tok, kql::lexer::Tok::Ident(n) if n.eq_ignore_ascii_case("ago") || n.eq_ignore_ascii_case("now")))
}

/// What the replay of one rule did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RuleReplay {
    /// The rule's id.
    pub rule_id: String,
    /// Its schedule (`None`: run once over all the evidence).
    pub schedule: Option<Schedule>,
    /// Runs on the schedule across the evidence.
    pub scheduled: usize,
    /// Scheduled runs executed.
    pub executed: usize,
    /// Runs skipped because their window held no event.
    pub skipped_empty: usize,
    /// Runs skipped because their window held the same events as the run before.
    pub skipped_unchanged: usize,
}

/// The alerts of a replay (each once, with `replay_run` set for scheduled rules) and what ran.
#[derive(Debug, Clone, Default)]
pub struct Replay {
    /// The alerts, each once.
    pub alerts: Vec<Alert>,
    /// Each rule's runs, summed over the schedule.
    pub runs: Vec<RuleRun>,
    /// What the replay of each rule did.
    pub rules: Vec<RuleReplay>,
}

/// Runs a parsed query with `now = t` over `(t − period, t]` (all rows without a period).
async fn run_at(
    engine: &mut Engine,
    query: &kql::Query,
    t: i64,
    period: Option<i64>,
) -> Result<Vec<RecordBatch>, QueryError> {
    engine.set_now(t);
    engine.set_lookback(period.map(crate::hunt::half_open));
    let plan = engine.plan_query_with_data(query).await?;
    let stream = engine.execute(plan).await?;
    stream
        .try_collect()
        .await
        .map_err(|e| QueryError::Execution(e.strip_backtrace()))
}

fn parse(rule: &Rule) -> Result<kql::Query, QueryError> {
    let parsed = kql::parse(&rule.query);
    if parsed.is_ok() {
        Ok(parsed.query)
    } else {
        Err(QueryError::Syntax(parsed.diagnostics))
    }
}

/// Keeps the alerts not seen before, stamped with the run time.
fn keep_new(found: Vec<Alert>, run: Option<i64>, seen: &mut HashSet<String>, out: &mut Vec<Alert>) -> usize {
    let mut n = 0;
    for mut a in found {
        if seen.insert(identity(&a)) {
            a.replay_run = run;
            out.push(a);
            n += 1;
        }
    }
    n
}

/// Replays the rules across the bulk `span` (first and last event), skipping runs that cannot
/// raise a new alert. `anchor` is `now()` for unscheduled rules; tables in `skip` (the catalog)
/// are not evidence.
pub async fn replay(
    engine: &mut Engine,
    rules: &[Rule],
    span: Option<(i64, i64)>,
    anchor: i64,
    skip: &[&str],
) -> Result<Replay, QueryError> {
    let schedules: Vec<Schedule> = rules.iter().filter_map(Schedule::of).collect();
    let table_bins = TableBins::collect(engine, skip, EventBins::width_for(&schedules)).await?;
    let names = table_bins.names();
    let mut out = Replay::default();
    for rule in rules {
        let bins = table_bins.of(tables_read(&rule.query, &names).as_deref());
        let started = Instant::now();
        let mut stats = RuleReplay {
            rule_id: rule.id.clone(),
            schedule: Schedule::of(rule),
            ..RuleReplay::default()
        };
        let mut seen = HashSet::new();
        let mut alerts = Vec::new();
        let result = replay_rule(engine, rule, span, anchor, &bins, &mut stats, &mut seen, &mut alerts).await;
        out.runs.push(RuleRun {
            rule_id: rule.id.clone(),
            alerts: alerts.len(),
            elapsed: started.elapsed(),
            error: result.err().map(|e| RuleFailure::from_query_error(&e)),
        });
        out.alerts.extend(alerts);
        out.rules.push(stats);
    }
    engine.set_lookback(None);
    engine.set_now(anchor);
    Ok(out)
}

#[allow(clippy::too_many_arguments, reason = "one rule's replay state, kept by the caller")]
async fn replay_rule(
    engine: &mut Engine,
    rule: &Rule,
    span: Option<(i64, i64)>,
    anchor: i64,
    bins: &EventBins,
    stats: &mut RuleReplay,
    seen: &mut HashSet<String>,
    alerts: &mut Vec<Alert>,
) -> Result<(), QueryError> {
    let query = parse(rule)?;
    let Some(s) = stats.schedule else {
        stats.scheduled = 1;
        stats.executed = 1;
        let batches = run_at(engine, &query, anchor, None).await?;
        keep_new(alerts_from_batches(rule, &batches), None, seen, alerts);
        return Ok(());
    };
    let Some((first, last)) = span else {
        stats.scheduled = 1;
        stats.executed = 1;
        let batches = run_at(engine, &query, anchor, Some(s.period)).await?;
        keep_new(alerts_from_batches(rule, &batches), Some(anchor), seen, alerts);
        return Ok(());
    };
    // Empty windows are skipped only when an empty window gives no row.
    let probe = bins
        .before_all()
        .filter(|t| t.checked_sub(s.period).is_some_and(|from| !bins.any_in(from, *t)));
    let skip_empty = match probe {
        Some(t) => run_at(engine, &query, t, Some(s.period))
            .await?
            .iter()
            .all(|b| b.num_rows() == 0),
        None => false,
    };
    let same_rows_when_same_events = !uses_now(&rule.query);
    for (k, t) in s.run_times(first, last).enumerate() {
        stats.scheduled += 1;
        if skip_empty && !bins.any_in(t - s.period, t) {
            stats.skipped_empty += 1;
            continue;
        }
        // The run before (at t − f) saw (t − f − p, t − f]: nothing gained in (t − f, t] and
        // nothing lost in (t − f − p, t − p] means the same events.
        if k > 0
            && same_rows_when_same_events
            && !bins.any_in(t - s.frequency, t)
            && !bins.any_in(t - s.frequency - s.period, t - s.period)
        {
            stats.skipped_unchanged += 1;
            continue;
        }
        stats.executed += 1;
        let batches = run_at(engine, &query, t, Some(s.period)).await?;
        keep_new(alerts_from_batches(rule, &batches), Some(t), seen, alerts);
    }
    Ok(())
}

/// The reference replay: every scheduled run of every rule, none skipped, alerts de-duplicated
/// afterwards (the earliest run's kept). Slow; for tests.
pub async fn every_run(engine: &mut Engine, rules: &[Rule], span: Option<(i64, i64)>, anchor: i64) -> Replay {
    let mut out = Replay::default();
    for rule in rules {
        let started = Instant::now();
        let mut raised: Vec<(Option<i64>, Alert)> = Vec::new();
        let mut scheduled = 0;
        let result = async {
            let query = parse(rule)?;
            let times: Vec<(i64, Option<i64>)> = match (Schedule::of(rule), span) {
                (None, _) => vec![(anchor, None)],
                (Some(s), None) => vec![(anchor, Some(s.period))],
                (Some(s), Some((first, last))) => s.run_times(first, last).map(|t| (t, Some(s.period))).collect(),
            };
            for (t, period) in times {
                scheduled += 1;
                let batches = run_at(engine, &query, t, period).await?;
                let run = period.map(|_| t);
                raised.extend(alerts_from_batches(rule, &batches).into_iter().map(|a| (run, a)));
            }
            Ok::<(), QueryError>(())
        }
        .await;
        raised.sort_by_key(|(run, _)| *run);
        let mut seen = HashSet::new();
        let mut alerts = Vec::new();
        for (run, a) in raised {
            keep_new(vec![a], run, &mut seen, &mut alerts);
        }
        out.runs.push(RuleRun {
            rule_id: rule.id.clone(),
            alerts: alerts.len(),
            elapsed: started.elapsed(),
            error: result.err().map(|e| RuleFailure::from_query_error(&e)),
        });
        out.rules.push(RuleReplay {
            rule_id: rule.id.clone(),
            schedule: Schedule::of(rule),
            scheduled,
            executed: scheduled,
            ..RuleReplay::default()
        });
        out.alerts.extend(alerts);
    }
    engine.set_lookback(None);
    engine.set_now(anchor);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const H: i64 = 3_600_000_000_000;

    #[test]
    fn run_times_are_multiples_of_the_frequency_covering_the_span() {
        let s = Schedule {
            frequency: H,
            period: 24 * H,
        };
        let times: Vec<i64> = s.run_times(10 * H + 1, 12 * H).collect();
        assert_eq!(times, vec![11 * H, 12 * H]);
        let times: Vec<i64> = s.run_times(10 * H, 10 * H + 5).collect();
        assert_eq!(times, vec![10 * H, 11 * H]);
        // Before the epoch too.
        let times: Vec<i64> = s.run_times(-H - 5, -H + 5).collect();
        assert_eq!(times, vec![-H, 0]);
    }

    #[test]
    fn bins_are_right_closed_and_exact_on_aligned_windows() {
        let bins = EventBins::from_times(H, [10 * H, 12 * H + 1]);
        // 10h belongs to (9h, 10h].
        assert!(bins.any_in(9 * H, 10 * H));
        assert!(!bins.any_in(10 * H, 11 * H));
        assert!(bins.any_in(12 * H, 13 * H));
        assert!(!bins.any_in(13 * H, 20 * H));
        assert!(!bins.any_in(5 * H, 5 * H));
        assert_eq!(bins.before_all(), Some(9 * H));
        // Not aligned: conservative.
        assert!(bins.any_in(12 * H + 2, 12 * H + 3));
        let w = EventBins::width_for(&[
            Schedule {
                frequency: H,
                period: 14 * 24 * H,
            },
            Schedule {
                frequency: 24 * H,
                period: 14 * 24 * H,
            },
        ]);
        assert_eq!(w, H);
    }

    #[test]
    fn tables_read_are_the_tables_named() {
        let tables: Vec<String> = ["DeviceEvents", "DeviceProcessEvents", "WindowsEvent"]
            .iter()
            .map(|t| t.to_string())
            .collect();
        let read = |q: &str| tables_read(q, &tables);
        assert_eq!(
            read("union DeviceProcessEvents, (['DeviceEvents'] | where X > 1) | summarize arg_min(T, *) by D"),
            Some(vec!["DeviceProcessEvents".to_string(), "DeviceEvents".to_string()])
        );
        assert_eq!(read("print x = 1"), Some(vec![]));
        assert_eq!(read("union Device* | count"), None);
        assert_eq!(read("search \"anydesk\""), None);
        assert_eq!(read("table('WindowsEvent')"), None);
    }

    #[test]
    fn now_is_found_by_name() {
        assert!(uses_now("T | where Timestamp > ago(1d)"));
        assert!(uses_now("print now()"));
        assert!(!uses_now("T | where Name == 'ago' | project Agora"));
    }
}
