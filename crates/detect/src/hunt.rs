//! Running rules over an engine's tables: the evidence's time profile and the anchor (its bulk's
//! newest event unless `--now` is given), each rule over its window (all the evidence, its query
//! period, a fixed lookback) or replayed on its schedule, alerts from the result rows, and tuning
//! applied with a reason per suppressed alert.

use crate::alert::{Alert, alerts_from_batches};
use crate::catalog::Tool;
use crate::replay::{self, RuleReplay};
use crate::rule::Rule;
use crate::timeline::{self, TimeProfile};
use crate::tuning::Tuning;
use engine::{Engine, QueryError};
use std::time::{Duration, Instant};

/// Which time range each rule runs over, before the anchor. A range of D is `(anchor − D, anchor]`
/// on each table's `Timestamp` / `TimeGenerated`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Window {
    /// The rule's own `queryPeriod` (Sentinel's behaviour); no range for rules without one.
    RulePeriod,
    /// The same range for every rule (nanoseconds).
    Fixed(i64),
    /// All the evidence (the default).
    All,
}

/// How a hunt treats time (docs/alerts.md, "Time").
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TimeMode {
    /// One run of each rule over a window before the anchor.
    Window(Window),
    /// Each scheduled rule on its own schedule across the evidence (`--replay`, [`replay`]).
    Replay,
}

/// The engine's implicit range for a window of `d` nanoseconds: the engine keeps
/// `[now − lookback, now]`, so `d − 1` gives `(now − d, now]`.
pub fn half_open(d: i64) -> i64 {
    d.saturating_sub(1).max(0)
}

/// Where the anchor (`now()` of the rules, the end of their windows) comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AnchorSource {
    /// Given (`--now`, a test case's `now`).
    Given,
    /// The newest event of the bulk of the evidence.
    Evidence,
    /// The wall clock: no timed event outside the outliers.
    WallClock,
}

impl AnchorSource {
    /// How the anchor's source is named in summaries.
    pub fn describe(self) -> &'static str {
        match self {
            AnchorSource::Given => "--now",
            AnchorSource::Evidence => "newest event in the evidence",
            AnchorSource::WallClock => "wall clock: the evidence has no timed events",
        }
    }
}

/// The anchor: `now` when given, else the bulk's newest event, else the wall clock.
pub fn anchor(now: Option<i64>, profile: &TimeProfile, wall_clock: i64) -> (i64, AnchorSource) {
    match (now, profile.newest()) {
        (Some(n), _) => (n, AnchorSource::Given),
        (None, Some(t)) => (t, AnchorSource::Evidence),
        (None, None) => (wall_clock, AnchorSource::WallClock),
    }
}

/// What a hunt did: alerts (before tuning), each rule's run, the anchor and the time profile.
#[derive(Debug, Clone)]
pub struct HuntRun {
    /// The rules' alerts, before tuning.
    pub alerts: Vec<Alert>,
    /// Each rule's run.
    pub runs: Vec<RuleRun>,
    /// The anchor: `now()` of the rules and the end of their windows (nanoseconds).
    pub anchor: i64,
    /// Where the anchor comes from.
    pub anchor_source: AnchorSource,
    /// When the evidence's events lie.
    pub profile: TimeProfile,
    /// `--replay`: what each rule's schedule ran and skipped.
    pub replay: Option<Vec<RuleReplay>>,
}

/// A query's clock, as a hunt's (`ratcatcher query`): without a given `now`, when the query reads
/// the clock (`ago()`, `now()`) or a lookback is set, `now()` is the newest event of the bulk of
/// the evidence (outliers never move it; the wall clock without timed rows). Sets the engine's
/// `now` and its lookback window; returns the anchor, where it came from and the time profile
/// (for its outliers) when the evidence set it.
pub async fn anchor_query(
    engine: &mut Engine,
    query: &str,
    now_given: bool,
    lookback: Option<i64>,
) -> Result<Option<(i64, AnchorSource, TimeProfile)>, QueryError> {
    let mut anchored = None;
    if !now_given && (lookback.is_some() || replay::uses_now(query)) {
        let wall = timeline::wall_clock();
        let profile = timeline::profile_tables(engine, crate::CATALOG_TABLES, wall).await?;
        let (at, source) = anchor(None, &profile, wall);
        engine.set_now(at);
        anchored = Some((at, source, profile));
    }
    engine.set_lookback(lookback.map(half_open));
    Ok(anchored)
}

/// Profiles the evidence (tables in `skip`, the catalog, are not evidence), sets the anchor and
/// runs the rules as `mode` says.
pub async fn hunt(
    engine: &mut Engine,
    rules: &[Rule],
    now: Option<i64>,
    mode: TimeMode,
    skip: &[&str],
) -> Result<HuntRun, QueryError> {
    let profile = timeline::profile_tables(engine, skip, timeline::wall_clock()).await?;
    let (anchor, anchor_source) = anchor(now, &profile, timeline::wall_clock());
    let (alerts, runs, replayed) = match mode {
        TimeMode::Window(w) => {
            let (alerts, runs) = run_rules(engine, rules, anchor, w).await;
            (alerts, runs, None)
        }
        TimeMode::Replay => {
            let r = replay::replay(engine, rules, profile.bulk, anchor, skip).await?;
            (r.alerts, r.runs, Some(r.rules))
        }
    };
    Ok(HuntRun {
        alerts,
        runs,
        anchor,
        anchor_source,
        profile,
        replay: replayed,
    })
}

/// What happened when a rule ran.
#[derive(Debug, Clone)]
pub struct RuleRun {
    /// The rule's id.
    pub rule_id: String,
    /// How many alerts it raised.
    pub alerts: usize,
    /// How long it ran.
    pub elapsed: Duration,
    /// Why the rule did not run (it is then skipped; the others still run).
    pub error: Option<RuleFailure>,
}

/// A rule that failed to plan or run.
#[derive(Debug, Clone)]
pub struct RuleFailure {
    /// Why the rule failed.
    pub message: String,
    /// Byte offset into the rule's query, when known.
    pub offset: Option<usize>,
}

impl RuleFailure {
    pub(crate) fn from_query_error(e: &QueryError) -> RuleFailure {
        match e {
            QueryError::Syntax(ds) => RuleFailure {
                message: format!("syntax error: {}", ds.first().map_or("", |d| d.message.as_str())),
                offset: ds.first().map(|d| d.span.start as usize),
            },
            QueryError::Plan(d) => RuleFailure {
                message: d.message.clone(),
                offset: Some(d.span.start as usize),
            },
            QueryError::Execution(m) => RuleFailure {
                message: m.clone(),
                offset: None,
            },
        }
    }

    /// `line L, column C: message` against the query text.
    pub fn describe(&self, query: &str) -> String {
        match self.offset {
            Some(o) if o <= query.len() => {
                let before = &query[..o];
                let line = before.matches('\n').count() + 1;
                let col = before
                    .rfind('\n')
                    .map_or(before.chars().count(), |i| before[i + 1..].chars().count())
                    + 1;
                format!("query line {line}, column {col}: {}", self.message)
            }
            _ => self.message.clone(),
        }
    }
}

/// Runs each rule with `now = anchor` over its window; returns every alert and each rule's run.
pub(crate) async fn run_rules(
    engine: &mut Engine,
    rules: &[Rule],
    anchor: i64,
    window: Window,
) -> (Vec<Alert>, Vec<RuleRun>) {
    let mut alerts = Vec::new();
    let mut runs = Vec::new();
    engine.set_now(anchor);
    for rule in rules {
        let started = Instant::now();
        engine.set_lookback(match window {
            Window::RulePeriod => rule.query_period.map(half_open),
            Window::Fixed(n) => Some(half_open(n)),
            Window::All => None,
        });
        let result = engine.query(&rule.query).await;
        let run = match result {
            Ok((_, batches)) => {
                let found = alerts_from_batches(rule, &batches);
                let n = found.len();
                alerts.extend(found);
                RuleRun {
                    rule_id: rule.id.clone(),
                    alerts: n,
                    elapsed: started.elapsed(),
                    error: None,
                }
            }
            Err(e) => RuleRun {
                rule_id: rule.id.clone(),
                alerts: 0,
                elapsed: started.elapsed(),
                error: Some(RuleFailure::from_query_error(&e)),
            },
        };
        runs.push(run);
    }
    engine.set_lookback(None);
    (alerts, runs)
}

/// Splits alerts into kept and suppressed (each suppressed alert carries its reason).
pub(crate) fn apply_tuning(alerts: Vec<Alert>, tuning: Option<&Tuning>, tools: &[Tool]) -> (Vec<Alert>, Vec<Alert>) {
    let Some(tuning) = tuning else {
        return (alerts, Vec::new());
    };
    let mut kept = Vec::new();
    let mut suppressed = Vec::new();
    for mut a in alerts {
        match tuning.suppression(&a, tools) {
            Some(reason) => {
                a.suppressed = Some(reason);
                suppressed.push(a);
            }
            None => kept.push(a),
        }
    }
    (kept, suppressed)
}

/// The suppression reasons (each suppressed alert's `suppressed`) that each hid more than 90% of
/// all alerts (`kept` plus `suppressed`), with their count, by count (descending) then reason;
/// empty when there are no alerts. The cli names these in the summary as a warning that one
/// approval hides almost everything (too broad an approval, or `everything = true` left in).
pub fn dominant_suppressions(kept: usize, suppressed: &[Alert]) -> Vec<(String, usize)> {
    let total = kept + suppressed.len();
    let mut counts: std::collections::BTreeMap<&str, usize> = std::collections::BTreeMap::new();
    for reason in suppressed.iter().filter_map(|a| a.suppressed.as_deref()) {
        *counts.entry(reason).or_default() += 1;
    }
    let mut dominant: Vec<(String, usize)> = counts
        .into_iter()
        .filter(|&(_, n)| n * 10 > total * 9)
        .map(|(r, n)| (r.to_string(), n))
        .collect();
    dominant.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
    dominant
}

/// Orders alerts for output: by device, then time, then rule.
pub(crate) fn sort_alerts(alerts: &mut [Alert]) {
    alerts.sort_by(|a, b| {
        a.device
            .cmp(&b.device)
            .then(a.time_nanos.cmp(&b.time_nanos))
            .then(a.rule.id.cmp(&b.rule.id))
    });
}
