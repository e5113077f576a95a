//! Running rules over an engine's tables: the anchor (newest event), each rule over its query
//! period, alerts from the result rows, and tuning applied with a reason per suppressed alert.

use crate::alert::{Alert, TIME_COLUMNS, alerts_from_batches};
use crate::catalog::Tool;
use crate::rule::Rule;
use crate::tuning::Tuning;
use datafusion::arrow::array::{Array, AsArray};
use datafusion::arrow::datatypes::{DataType, TimeUnit, TimestampNanosecondType};
use engine::{Engine, QueryError};
use std::time::{Duration, Instant};

/// Which time range each rule runs over, before the anchor.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Window {
    /// The rule's own `queryPeriod` (Sentinel's behaviour); no range for rules without one.
    RulePeriod,
    /// The same range for every rule (nanoseconds).
    Fixed(i64),
    /// All the evidence.
    All,
}

/// What happened when a rule ran.
#[derive(Debug, Clone)]
pub struct RuleRun {
    pub rule_id: String,
    pub alerts: usize,
    pub elapsed: Duration,
    /// Why the rule did not run (it is then skipped; the others still run).
    pub error: Option<RuleFailure>,
}

/// A rule that failed to plan or run.
#[derive(Debug, Clone)]
pub struct RuleFailure {
    pub message: String,
    /// Byte offset into the rule's query, when known.
    pub offset: Option<usize>,
}

impl RuleFailure {
    fn from_query_error(e: &QueryError) -> RuleFailure {
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

/// The newest event time over the engine's tables (their `Timestamp` / `TimeGenerated`), in
/// nanoseconds; `None` when the evidence has no timed rows. Tables in `skip` are ignored.
pub async fn newest_event(engine: &mut Engine, skip: &[&str]) -> Result<Option<i64>, QueryError> {
    let saved = engine.lookback();
    engine.set_lookback(None);
    let mut newest: Option<i64> = None;
    for name in engine.table_names() {
        if skip.contains(&name.as_str()) {
            continue;
        }
        let Some(table) = engine.table(&name) else { continue };
        let schema = table.schema();
        let Some(col) = TIME_COLUMNS.iter().find(|c| {
            schema
                .field_with_name(c)
                .is_ok_and(|f| matches!(f.data_type(), DataType::Timestamp(TimeUnit::Nanosecond, _)))
        }) else {
            continue;
        };
        let q = format!("['{name}'] | summarize Newest = max({col})");
        let result = engine.query(&q).await;
        let (_, batches) = match result {
            Ok(r) => r,
            Err(e) => {
                engine.set_lookback(saved);
                return Err(e);
            }
        };
        for b in batches {
            let a = b.column(0).as_primitive::<TimestampNanosecondType>();
            for i in 0..a.len() {
                if a.is_valid(i) {
                    newest = Some(newest.map_or(a.value(i), |n: i64| n.max(a.value(i))));
                }
            }
        }
    }
    engine.set_lookback(saved);
    Ok(newest)
}

/// Runs each rule with `now = anchor` over its window; returns every alert and each rule's run.
pub async fn run_rules(engine: &mut Engine, rules: &[Rule], anchor: i64, window: Window) -> (Vec<Alert>, Vec<RuleRun>) {
    let mut alerts = Vec::new();
    let mut runs = Vec::new();
    engine.set_now(anchor);
    for rule in rules {
        let started = Instant::now();
        engine.set_lookback(match window {
            Window::RulePeriod => rule.query_period,
            Window::Fixed(n) => Some(n),
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
pub fn apply_tuning(alerts: Vec<Alert>, tuning: Option<&Tuning>, tools: &[Tool]) -> (Vec<Alert>, Vec<Alert>) {
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

/// Orders alerts for output: by device, then time, then rule.
pub fn sort_alerts(alerts: &mut [Alert]) {
    alerts.sort_by(|a, b| {
        a.device
            .cmp(&b.device)
            .then(a.time_nanos.cmp(&b.time_nanos))
            .then(a.rule.id.cmp(&b.rule.id))
    });
}
