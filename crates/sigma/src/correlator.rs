//! Streaming evaluation of correlation rules over rule matches: per correlation and group-by
//! key, a time-ordered window of matches is kept and its aggregate (count, distinct values,
//! distinct or ordered rules, sum, average) is tested against the condition.
//!
//! Window semantics: for each group, a window starts at its oldest pending match and spans
//! `timespan` (inclusive). Conditions that can only become true as matches accumulate (`gt`,
//! `gte`, and the default "all rules" of temporal types) fire as soon as they hold. Other
//! conditions are tested when the window closes — when a later match falls outside it, on
//! [`Correlator::expire`] or on [`Correlator::flush`]. A window that does not fire slides to
//! the next pending match. Matches that fired are consumed and not counted again.

use std::collections::{HashMap, VecDeque};

use crate::correlation::CorrelationType;
use crate::engine::{CompiledCorrelation, CompiledRuleSet, CorrelationInput, RuleId};
use crate::event::{Event, parse_number};

/// A correlation that fired.
#[derive(Debug, Clone, PartialEq)]
pub struct CorrelationHit<T> {
    /// Index into [`CompiledRuleSet::correlations`].
    pub correlation: usize,
    /// The `group-by` names and the group's values (`None`: field absent).
    pub group: Vec<(String, Option<String>)>,
    /// Timestamp of the first match in the window (Unix nanoseconds).
    pub first: i64,
    /// Timestamp of the last match in the window.
    pub last: i64,
    /// The aggregate that satisfied the condition.
    pub value: f64,
    /// Payloads of the matches (for chained correlations, of the underlying matches).
    pub events: Vec<T>,
}

#[derive(Debug)]
struct Item<T> {
    ts: i64,
    slot: usize,
    key: Option<String>,
    num: Option<f64>,
    payload: Vec<T>,
}

#[derive(Debug)]
struct Window<T> {
    items: VecDeque<Item<T>>,
    distinct: HashMap<String, usize>,
    slot_counts: Vec<usize>,
    sum: f64,
    nums: usize,
}

impl<T> Window<T> {
    fn new(slots: usize) -> Self {
        Window {
            items: VecDeque::new(),
            distinct: HashMap::new(),
            slot_counts: vec![0; slots],
            sum: 0.0,
            nums: 0,
        }
    }

    fn account(&mut self, it: &Item<T>, add: bool) {
        if let Some(k) = &it.key {
            let c = self.distinct.entry(k.clone()).or_insert(0);
            if add {
                *c += 1;
            } else {
                *c = c.saturating_sub(1);
                if *c == 0 {
                    self.distinct.remove(k);
                }
            }
        }
        if let Some(c) = self.slot_counts.get_mut(it.slot) {
            if add {
                *c += 1;
            } else {
                *c = c.saturating_sub(1);
            }
        }
        if let Some(n) = it.num {
            if add {
                self.sum += n;
                self.nums += 1;
            } else {
                self.sum -= n;
                self.nums = self.nums.saturating_sub(1);
            }
        }
    }

    fn insert(&mut self, it: Item<T>) {
        self.account(&it, true);
        let pos = self.items.iter().rposition(|x| x.ts <= it.ts).map_or(0, |p| p + 1);
        self.items.insert(pos, it);
    }

    fn pop_front(&mut self) -> Option<Item<T>> {
        let it = self.items.pop_front()?;
        self.account(&it, false);
        Some(it)
    }

    /// Number of items in the window anchored at the oldest item.
    fn window_len(&self, span: i64) -> usize {
        match self.items.front() {
            Some(f) => {
                let end = f.ts.saturating_add(span);
                self.items.iter().take_while(|x| x.ts <= end).count()
            }
            None => 0,
        }
    }

    /// The aggregate over the first `k` items.
    fn metric(&self, kind: CorrelationType, k: usize, rules: usize) -> Option<f64> {
        if k == 0 {
            return None;
        }
        let whole = k == self.items.len();
        let prefix = || self.items.iter().take(k);
        Some(match kind {
            CorrelationType::EventCount => k as f64,
            CorrelationType::ValueCount => {
                if whole {
                    self.distinct.len() as f64
                } else {
                    let mut keys: Vec<&str> = prefix().filter_map(|x| x.key.as_deref()).collect();
                    keys.sort_unstable();
                    keys.dedup();
                    keys.len() as f64
                }
            }
            CorrelationType::Temporal => {
                if whole {
                    self.slot_counts.iter().filter(|c| **c > 0).count() as f64
                } else {
                    let mut seen = vec![false; rules];
                    prefix().for_each(|x| {
                        if let Some(s) = seen.get_mut(x.slot) {
                            *s = true;
                        }
                    });
                    seen.iter().filter(|s| **s).count() as f64
                }
            }
            CorrelationType::TemporalOrdered => {
                let mut next = 0usize;
                for x in prefix() {
                    if x.slot == next {
                        next += 1;
                        if next == rules {
                            break;
                        }
                    }
                }
                next as f64
            }
            CorrelationType::ValueSum | CorrelationType::ValueAvg => {
                let (sum, n) = if whole {
                    (self.sum, self.nums)
                } else {
                    prefix()
                        .filter_map(|x| x.num)
                        .fold((0.0, 0), |(s, n), v| (s + v, n + 1))
                };
                if kind == CorrelationType::ValueSum {
                    sum
                } else if n == 0 {
                    return None;
                } else {
                    sum / n as f64
                }
            }
        })
    }
}

struct CorrState<T> {
    groups: HashMap<Vec<Option<String>>, Window<T>>,
    /// Fire as soon as the condition holds (aggregate only grows).
    eager: bool,
}

/// Feeds rule matches into the correlation rules of a [`CompiledRuleSet`].
pub struct Correlator<'r, T> {
    set: &'r CompiledRuleSet,
    by_rule: HashMap<RuleId, Vec<(usize, usize)>>,
    by_corr: Vec<Vec<(usize, usize)>>,
    order: Vec<usize>,
    states: Vec<CorrState<T>>,
}

impl CompiledRuleSet {
    /// A correlator for this set's correlation rules; `T` is a caller-chosen event handle.
    pub fn correlator<T: Clone>(&self) -> Correlator<'_, T> {
        Correlator::new(self)
    }
}

impl<'r, T: Clone> Correlator<'r, T> {
    /// Creates the correlator.
    pub fn new(set: &'r CompiledRuleSet) -> Self {
        let corrs = set.correlations();
        let mut by_rule: HashMap<RuleId, Vec<(usize, usize)>> = HashMap::new();
        let mut by_corr = vec![Vec::new(); corrs.len()];
        for (ci, c) in corrs.iter().enumerate() {
            for (slot, inp) in c.inputs.iter().enumerate() {
                match inp {
                    CorrelationInput::Rule(r) => by_rule.entry(*r).or_default().push((ci, slot)),
                    CorrelationInput::Correlation(j) => {
                        if let Some(v) = by_corr.get_mut(*j) {
                            v.push((ci, slot));
                        }
                    }
                }
            }
        }
        let states = corrs
            .iter()
            .map(|c| CorrState {
                groups: HashMap::new(),
                eager: c.rule.kind != CorrelationType::ValueAvg && c.rule.condition.bounds.iter().all(|b| b.is_lower()),
            })
            .collect();
        Correlator {
            set,
            by_rule,
            by_corr,
            order: topo_order(corrs),
            states,
        }
    }

    /// Records that rule `rule` matched `event` at `timestamp` (Unix nanoseconds); returns the
    /// correlations that fired, inner ones of chains included. Feed matches in time order.
    pub fn observe(&mut self, rule: RuleId, event: &Event<'_>, timestamp: i64, payload: T) -> Vec<CorrelationHit<T>> {
        let mut out = Vec::new();
        let targets = self.by_rule.get(&rule).cloned().unwrap_or_default();
        let corrs = self.set.correlations();
        for (ci, slot) in targets {
            let Some(c) = corrs.get(ci) else { continue };
            let text = |name: &str| event.field(name).and_then(|v| v.as_text().map(|t| t.into_owned()));
            let key: Vec<Option<String>> = c.group_fields[slot].iter().map(|f| text(f)).collect();
            let Some((vkey, num)) = value_of(c, slot, &text) else {
                continue;
            };
            let item = Item {
                ts: timestamp,
                slot,
                key: vkey,
                num,
                payload: vec![payload.clone()],
            };
            self.push(ci, key, item, &mut out);
        }
        self.propagate(&mut out, 0);
        out
    }

    /// Closes every window that ended before `now` and returns what fired.
    pub fn expire(&mut self, now: i64) -> Vec<CorrelationHit<T>> {
        let mut out = Vec::new();
        for ci in self.order.clone() {
            let start = out.len();
            self.close(ci, Some(now), &mut out);
            self.propagate(&mut out, start);
        }
        out
    }

    /// Closes all windows (end of input) and returns what fired.
    pub fn flush(&mut self) -> Vec<CorrelationHit<T>> {
        let mut out = Vec::new();
        for ci in self.order.clone() {
            let start = out.len();
            self.close(ci, None, &mut out);
            self.propagate(&mut out, start);
        }
        out
    }

    /// Feeds hits from `out[start..]` into the correlations that use them (growing `out`).
    fn propagate(&mut self, out: &mut Vec<CorrelationHit<T>>, start: usize) {
        let corrs = self.set.correlations();
        let mut i = start;
        while i < out.len() {
            let consumers = self.by_corr.get(out[i].correlation).cloned().unwrap_or_default();
            for (ci, slot) in consumers {
                let Some(c) = corrs.get(ci) else { continue };
                let hit = &out[i];
                let text = |name: &str| hit.group.iter().find(|(g, _)| g == name).and_then(|(_, v)| v.clone());
                let key: Vec<Option<String>> = c.group_fields[slot].iter().map(|f| text(f)).collect();
                let Some((vkey, num)) = value_of(c, slot, &text) else {
                    continue;
                };
                let item = Item {
                    ts: hit.last,
                    slot,
                    key: vkey,
                    num,
                    payload: hit.events.clone(),
                };
                self.push(ci, key, item, out);
            }
            i += 1;
        }
    }

    fn push(&mut self, ci: usize, key: Vec<Option<String>>, item: Item<T>, out: &mut Vec<CorrelationHit<T>>) {
        let Some(c) = self.set.correlations().get(ci) else {
            return;
        };
        let Some(state) = self.states.get_mut(ci) else { return };
        let span = c.rule.timespan_nanos;
        let w = state
            .groups
            .entry(key.clone())
            .or_insert_with(|| Window::new(c.inputs.len()));
        // Close windows that end before the new match.
        while let Some(front) = w.items.front() {
            if item.ts <= front.ts.saturating_add(span) {
                break;
            }
            if !fire(c, w, &key, span, ci, out) {
                w.pop_front();
            }
        }
        w.insert(item);
        if state.eager {
            fire(c, w, &key, span, ci, out);
        }
    }

    fn close(&mut self, ci: usize, now: Option<i64>, out: &mut Vec<CorrelationHit<T>>) {
        let Some(c) = self.set.correlations().get(ci) else {
            return;
        };
        let Some(state) = self.states.get_mut(ci) else { return };
        let span = c.rule.timespan_nanos;
        let mut keys: Vec<_> = state.groups.keys().cloned().collect();
        keys.sort();
        for key in keys {
            let Some(w) = state.groups.get_mut(&key) else { continue };
            while let Some(front) = w.items.front() {
                if now.is_some_and(|n| n <= front.ts.saturating_add(span)) {
                    break;
                }
                if !fire(c, w, &key, span, ci, out) {
                    w.pop_front();
                }
            }
            if w.items.is_empty() {
                state.groups.remove(&key);
            }
        }
    }
}

/// Tests the window anchored at the oldest item; on success consumes it and records a hit.
fn fire<T: Clone>(
    c: &CompiledCorrelation,
    w: &mut Window<T>,
    key: &[Option<String>],
    span: i64,
    ci: usize,
    out: &mut Vec<CorrelationHit<T>>,
) -> bool {
    let k = w.window_len(span);
    let Some(v) = w.metric(c.rule.kind, k, c.inputs.len()) else {
        return false;
    };
    if !c.rule.condition.holds(v) {
        return false;
    }
    let mut events = Vec::new();
    let (mut first, mut last) = (i64::MAX, i64::MIN);
    for _ in 0..k {
        if let Some(it) = w.pop_front() {
            first = first.min(it.ts);
            last = last.max(it.ts);
            events.extend(it.payload);
        }
    }
    out.push(CorrelationHit {
        correlation: ci,
        group: c.rule.group_by.iter().cloned().zip(key.iter().cloned()).collect(),
        first,
        last,
        value: v,
        events,
    });
    true
}

/// The value-count key and numeric value of a match; `None` when the match carries no value
/// for a correlation that aggregates values.
fn value_of(
    c: &CompiledCorrelation,
    slot: usize,
    text: &dyn Fn(&str) -> Option<String>,
) -> Option<(Option<String>, Option<f64>)> {
    let fields = c.value_fields.get(slot)?;
    match c.rule.kind {
        CorrelationType::ValueCount => {
            let parts: Option<Vec<String>> = fields.iter().map(|f| text(f)).collect();
            parts.map(|p| (Some(p.join("\u{1f}")), None))
        }
        CorrelationType::ValueSum | CorrelationType::ValueAvg => {
            let n = fields.first().and_then(|f| text(f)).and_then(|t| parse_number(&t))?;
            Some((None, Some(n)))
        }
        _ => Some((None, None)),
    }
}

/// Correlations ordered so that inputs come before the correlations that use them.
fn topo_order(corrs: &[CompiledCorrelation]) -> Vec<usize> {
    fn visit(i: usize, corrs: &[CompiledCorrelation], state: &mut [u8], out: &mut Vec<usize>) {
        if state[i] != 0 {
            return;
        }
        state[i] = 1;
        for inp in &corrs[i].inputs {
            if let CorrelationInput::Correlation(j) = inp
                && *j < corrs.len()
            {
                visit(*j, corrs, state, out);
            }
        }
        state[i] = 2;
        out.push(i);
    }
    let mut state = vec![0u8; corrs.len()];
    let mut out = Vec::with_capacity(corrs.len());
    for i in 0..corrs.len() {
        visit(i, corrs, &mut state, &mut out);
    }
    out
}
