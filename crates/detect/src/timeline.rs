//! The evidence's time profile: each host's time span, the bulk of the evidence, and the outliers
//! far outside it (dated in the future, before 1990, or a few events separated from the bulk by a
//! long gap). Outliers are reported and never move the anchor (docs/alerts.md, "Time").
//!
//! The rule, on UTC days:
//! 1. an event dated before 1990-01-01 is an outlier (zeroed or garbled clocks), and so is one
//!    dated after the end of the UTC day following the wall clock's (a clock up to a day fast is
//!    tolerated);
//! 2. the days holding the other events form clusters: a gap of more than [`GAP_DAYS`] days without
//!    events starts a new cluster;
//! 3. a cluster is *few* when it holds at most 1 % of those events or at most [`FEW_EVENTS`];
//! 4. the bulk runs from the first to the last cluster that is not few (every cluster in between
//!    belongs to it); the few clusters before or after it are outliers. When every cluster is few
//!    (scattered samples), all of them are the bulk.

use crate::alert::TIME_COLUMNS;
use datafusion::arrow::array::{Array, ArrayRef, AsArray, RecordBatch};
use datafusion::arrow::datatypes::{DataType, Int64Type, TimeUnit, TimestampNanosecondType};
use engine::{Engine, QueryError};
use std::collections::{BTreeMap, HashMap};

/// One day in nanoseconds.
pub const DAY: i64 = 86_400_000_000_000;
/// 1990-01-01T00:00:00Z as a day number since the Unix epoch: earlier events are outliers.
pub(crate) const EARLIEST_DAY: i64 = 7305;
/// More days than this without events separate two clusters.
pub(crate) const GAP_DAYS: i64 = 30;
/// A cluster of at most this many events is few, whatever the evidence's size.
pub(crate) const FEW_EVENTS: u64 = 3;
/// The columns a row's host is read from, in order.
pub(crate) const HOST_COLUMNS: &[&str] = &["DeviceName", "Computer", "HostName"];

/// Why an event is an outlier.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum OutlierKind {
    /// Dated after the end of the UTC day following the wall clock's.
    Future,
    /// Dated before 1990-01-01 (epoch zero and the like).
    Before1990,
    /// One of a few events separated from the bulk by more than [`GAP_DAYS`] days.
    Isolated,
}

impl OutlierKind {
    /// What the outliers are, for summaries.
    pub fn describe(self) -> &'static str {
        match self {
            OutlierKind::Future => "dated in the future",
            OutlierKind::Before1990 => "dated before 1990",
            OutlierKind::Isolated => "far from the bulk of the evidence",
        }
    }
}

#[derive(Debug, Clone, Copy)]
struct Bin {
    count: u64,
    first: i64,
    last: i64,
}

impl Bin {
    fn add(&mut self, other: Bin) {
        self.count += other.count;
        self.first = self.first.min(other.first);
        self.last = self.last.max(other.last);
    }
}

/// Event counts (with first and last time) per table, host and UTC day: what a profile is
/// computed from.
#[derive(Debug, Default, Clone)]
pub(crate) struct Tally {
    tables: HashMap<String, HashMap<String, HashMap<i64, Bin>>>,
}

impl Tally {
    /// Counts one event.
    pub fn add(&mut self, table: &str, host: &str, time: i64) {
        self.add_events(table, host, 1, time, time);
    }

    /// Counts `count` events of one UTC day (the day of `first`).
    pub fn add_events(&mut self, table: &str, host: &str, count: u64, first: i64, last: i64) {
        if count == 0 {
            return;
        }
        let hosts = match self.tables.get_mut(table) {
            Some(h) => h,
            None => self.tables.entry(table.to_string()).or_default(),
        };
        let days = match hosts.get_mut(host) {
            Some(d) => d,
            None => hosts.entry(host.to_string()).or_default(),
        };
        let bin = Bin { count, first, last };
        days.entry(first.div_euclid(DAY))
            .and_modify(|b| b.add(bin))
            .or_insert(bin);
    }

    /// Adds another tally's counts.
    pub fn merge(&mut self, other: Tally) {
        for (table, hosts) in other.tables {
            for (host, days) in hosts {
                for (_, b) in days {
                    self.add_events(&table, &host, b.count, b.first, b.last);
                }
            }
        }
    }

    /// The profile, with `wall_clock` (nanoseconds) deciding what is in the future.
    pub fn profile(&self, wall_clock: i64) -> TimeProfile {
        profile(self, wall_clock)
    }
}

/// A host's events in the bulk of the evidence.
#[derive(Debug, Clone, PartialEq)]
pub struct HostSpan {
    /// As the evidence names it (`""` for rows without a host).
    pub host: String,
    /// Events in the bulk.
    pub events: u64,
    /// First and last event in the bulk (`None` when the host has only outliers).
    pub span: Option<(i64, i64)>,
    /// The host's outlier events.
    pub outliers: u64,
}

/// Outlier events of one kind, table and host.
#[derive(Debug, Clone, PartialEq)]
pub struct OutlierGroup {
    /// Why the events are outliers.
    pub kind: OutlierKind,
    /// The table they are in.
    pub table: String,
    /// The host they were logged on.
    pub host: String,
    /// How many events.
    pub count: u64,
    /// The first event's time (nanoseconds).
    pub first: i64,
    /// The last event's time (nanoseconds).
    pub last: i64,
}

/// When the evidence's events lie.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct TimeProfile {
    /// Events with a time, outliers included.
    pub events: u64,
    /// First and last event of the bulk (`None`: no timed event outside the outliers).
    pub bulk: Option<(i64, i64)>,
    /// Per host, sorted by name ignoring case (names differing only in case are one host).
    pub hosts: Vec<HostSpan>,
    /// Sorted by kind, table and host.
    pub outliers: Vec<OutlierGroup>,
}

impl TimeProfile {
    /// The newest event of the bulk: the anchor when `--now` is not given.
    pub fn newest(&self) -> Option<i64> {
        self.bulk.map(|(_, last)| last)
    }

    /// How many events are outliers.
    pub fn outlier_events(&self) -> u64 {
        self.outliers.iter().map(|o| o.count).sum()
    }
}

fn profile(tally: &Tally, wall_clock: i64) -> TimeProfile {
    let last_day = wall_clock.div_euclid(DAY) + 1;
    let hard = |day: i64| {
        if day < EARLIEST_DAY {
            Some(OutlierKind::Before1990)
        } else if day > last_day {
            Some(OutlierKind::Future)
        } else {
            None
        }
    };
    // Events per plausible day, over every table and host.
    let mut days: BTreeMap<i64, u64> = BTreeMap::new();
    let mut events = 0u64;
    for hosts in tally.tables.values() {
        for bins in hosts.values() {
            for (day, b) in bins {
                events += b.count;
                if hard(*day).is_none() {
                    *days.entry(*day).or_default() += b.count;
                }
            }
        }
    }
    let plausible: u64 = days.values().sum();
    // Clusters: (first day, last day, events).
    let mut clusters: Vec<(i64, i64, u64)> = Vec::new();
    for (&day, &n) in &days {
        match clusters.last_mut() {
            Some(c) if day - c.1 <= GAP_DAYS => {
                c.1 = day;
                c.2 += n;
            }
            _ => clusters.push((day, day, n)),
        }
    }
    let few = |n: u64| n <= FEW_EVENTS || n.saturating_mul(100) <= plausible;
    let solid: Vec<&(i64, i64, u64)> = clusters.iter().filter(|c| !few(c.2)).collect();
    let bulk_days = match (solid.first(), solid.last()) {
        (Some(a), Some(b)) => Some((a.0, b.1)),
        _ => clusters.first().zip(clusters.last()).map(|(a, b)| (a.0, b.1)),
    };
    let kind_of = |day: i64| {
        let isolated = bulk_days.is_some_and(|(a, b)| day < a || day > b);
        hard(day).or(isolated.then_some(OutlierKind::Isolated))
    };
    // Hosts merged ignoring case; the first name in sort order is shown.
    let mut hosts: BTreeMap<String, HostSpan> = BTreeMap::new();
    let mut groups: BTreeMap<(OutlierKind, String, String), OutlierGroup> = BTreeMap::new();
    let mut bulk: Option<(i64, i64)> = None;
    let mut names: Vec<(&String, &String, &HashMap<i64, Bin>)> = tally
        .tables
        .iter()
        .flat_map(|(t, hs)| hs.iter().map(move |(h, bins)| (t, h, bins)))
        .collect();
    names.sort_by(|a, b| a.1.cmp(b.1).then(a.0.cmp(b.0)));
    for (table, host, bins) in names {
        let entry = hosts.entry(host.to_lowercase()).or_insert_with(|| HostSpan {
            host: host.clone(),
            events: 0,
            span: None,
            outliers: 0,
        });
        for (day, b) in bins {
            match kind_of(*day) {
                None => {
                    entry.events += b.count;
                    entry.span = Some(
                        entry
                            .span
                            .map_or((b.first, b.last), |(f, l)| (f.min(b.first), l.max(b.last))),
                    );
                    bulk = Some(bulk.map_or((b.first, b.last), |(f, l)| (f.min(b.first), l.max(b.last))));
                }
                Some(kind) => {
                    entry.outliers += b.count;
                    groups
                        .entry((kind, table.clone(), host.to_lowercase()))
                        .and_modify(|g| {
                            g.count += b.count;
                            g.first = g.first.min(b.first);
                            g.last = g.last.max(b.last);
                        })
                        .or_insert_with(|| OutlierGroup {
                            kind,
                            table: table.clone(),
                            host: host.clone(),
                            count: b.count,
                            first: b.first,
                            last: b.last,
                        });
                }
            }
        }
    }
    let mut hosts: Vec<HostSpan> = hosts.into_values().collect();
    hosts.sort_by(|a, b| {
        a.host
            .to_lowercase()
            .cmp(&b.host.to_lowercase())
            .then(a.host.cmp(&b.host))
    });
    TimeProfile {
        events,
        bulk,
        hosts,
        outliers: groups.into_values().collect(),
    }
}

/// The wall clock in nanoseconds since the Unix epoch.
pub fn wall_clock() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_nanos()).unwrap_or(i64::MAX))
}

/// A table's time column (`Timestamp`, else `TimeGenerated`, as a datetime) and host column.
pub(crate) fn time_and_host_columns(engine: &Engine, table: &str) -> Option<(&'static str, Option<&'static str>)> {
    let schema = engine.table(table)?.schema();
    let time = TIME_COLUMNS.iter().copied().find(|c| {
        schema
            .field_with_name(c)
            .is_ok_and(|f| matches!(f.data_type(), DataType::Timestamp(TimeUnit::Nanosecond, _)))
    })?;
    let host = HOST_COLUMNS.iter().copied().find(|c| {
        schema
            .field_with_name(c)
            .is_ok_and(|f| matches!(f.data_type(), DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View))
    });
    Some((time, host))
}

/// Counts the events of the engine's tables per table, host and day (tables in `skip` are left
/// out). Runs one aggregation per table over all its rows, whatever time range the engine has.
pub(crate) async fn tally_tables(engine: &mut Engine, skip: &[&str]) -> Result<Tally, QueryError> {
    let saved = engine.lookback();
    engine.set_lookback(None);
    let result = tally_inner(engine, skip).await;
    engine.set_lookback(saved);
    result
}

async fn tally_inner(engine: &Engine, skip: &[&str]) -> Result<Tally, QueryError> {
    let mut tally = Tally::default();
    for name in engine.table_names() {
        if skip.contains(&name.as_str()) {
            continue;
        }
        let Some((time, host)) = time_and_host_columns(engine, &name) else {
            continue;
        };
        let by_host = host.map_or(String::new(), |h| format!(", Host = tostring({h})"));
        let q = format!(
            "['{name}'] | where isnotnull({time}) \
             | summarize N = count(), First = min({time}), Last = max({time}) by Day = bin({time}, 1d){by_host}"
        );
        let (_, batches) = engine.query(&q).await?;
        for b in &batches {
            add_batch(&mut tally, &name, b);
        }
    }
    Ok(tally)
}

fn add_batch(tally: &mut Tally, table: &str, b: &RecordBatch) {
    let column = |n: &str| b.schema().index_of(n).ok().map(|i| b.column(i).clone());
    let (Some(n), Some(first), Some(last)) = (column("N"), column("First"), column("Last")) else {
        return;
    };
    let host = column("Host");
    let n = n.as_primitive::<Int64Type>();
    let first = first.as_primitive::<TimestampNanosecondType>();
    let last = last.as_primitive::<TimestampNanosecondType>();
    for i in 0..b.num_rows() {
        if !first.is_valid(i) || !last.is_valid(i) {
            continue;
        }
        let h = host.as_ref().and_then(|h| text_at(h, i)).unwrap_or("");
        tally.add_events(table, h, n.value(i).max(0) as u64, first.value(i), last.value(i));
    }
}

/// A string cell, whatever the string array's layout.
fn text_at(a: &ArrayRef, i: usize) -> Option<&str> {
    if a.is_null(i) {
        None
    } else if let Some(s) = a.as_string_opt::<i32>() {
        Some(s.value(i))
    } else if let Some(s) = a.as_string_opt::<i64>() {
        Some(s.value(i))
    } else {
        a.as_string_view_opt().map(|s| s.value(i))
    }
}

/// The time profile of the engine's tables (see [`tally_tables`]).
pub async fn profile_tables(engine: &mut Engine, skip: &[&str], wall_clock: i64) -> Result<TimeProfile, QueryError> {
    Ok(tally_tables(engine, skip).await?.profile(wall_clock))
}

#[cfg(test)]
mod tests {
    use super::*;

    const H: i64 = 3_600_000_000_000;
    /// 2026-03-01T00:00:00Z.
    const T0: i64 = 20_513 * DAY;

    fn tally(events: &[(&str, &str, i64)]) -> Tally {
        let mut t = Tally::default();
        for (table, host, time) in events {
            t.add(table, host, *time);
        }
        t
    }

    #[test]
    fn a_future_event_is_an_outlier_and_does_not_move_the_anchor() {
        let mut ev: Vec<(&str, &str, i64)> = (0..50).map(|i| ("DeviceProcessEvents", "ws1", T0 + i * H)).collect();
        let forged = T0 + 9 * 365 * DAY;
        ev.push(("DeviceProcessEvents", "WS1", forged));
        let p = tally(&ev).profile(T0 + 10 * DAY);
        assert_eq!(p.events, 51);
        assert_eq!(p.newest(), Some(T0 + 49 * H));
        assert_eq!(p.outliers.len(), 1);
        let o = &p.outliers[0];
        assert_eq!((o.kind, o.count, o.first), (OutlierKind::Future, 1, forged));
        // One host, whatever the case of its name.
        assert_eq!(p.hosts.len(), 1);
        assert_eq!(p.hosts[0].host, "WS1");
        assert_eq!((p.hosts[0].events, p.hosts[0].outliers), (50, 1));
    }

    #[test]
    fn epoch_zero_and_isolated_events_are_outliers_a_large_old_cluster_is_not() {
        let mut ev: Vec<(&str, &str, i64)> = (0..400).map(|i| ("T", "b", T0 + i * H)).collect();
        ev.push(("T", "a", 0));
        // Two events 60 days before the bulk: few, far away.
        ev.push(("T", "c", T0 - 60 * DAY));
        ev.push(("T", "c", T0 - 60 * DAY + H));
        let p = tally(&ev).profile(T0 + 100 * DAY);
        let kinds: Vec<(OutlierKind, &str, u64)> =
            p.outliers.iter().map(|o| (o.kind, o.host.as_str(), o.count)).collect();
        assert_eq!(
            kinds,
            vec![(OutlierKind::Before1990, "a", 1), (OutlierKind::Isolated, "c", 2)]
        );
        assert_eq!(p.bulk, Some((T0, T0 + 399 * H)));
        // Hosts sorted ignoring case; "a" and "c" have only outliers.
        let names: Vec<&str> = p.hosts.iter().map(|h| h.host.as_str()).collect();
        assert_eq!(names, ["a", "b", "c"]);
        assert_eq!(p.hosts[0].span, None);
        // A year-old cluster that is not few belongs to the bulk.
        let mut ev: Vec<(&str, &str, i64)> = (0..400).map(|i| ("T", "b", T0 + i * H)).collect();
        ev.extend((0..100).map(|i| ("T", "old", T0 - 400 * DAY + i * H)));
        let p = tally(&ev).profile(T0 + 100 * DAY);
        assert!(p.outliers.is_empty(), "{:?}", p.outliers);
        assert_eq!(p.bulk, Some((T0 - 400 * DAY, T0 + 399 * H)));
    }

    #[test]
    fn scattered_samples_are_all_bulk_and_no_events_no_bulk() {
        let ev: Vec<(&str, &str, i64)> = (0..10).map(|i| ("T", "h", T0 + i * 100 * DAY)).collect();
        let p = tally(&ev).profile(T0 + 2000 * DAY);
        assert!(p.outliers.is_empty());
        assert_eq!(p.newest(), Some(T0 + 900 * DAY));
        let p = Tally::default().profile(T0);
        assert_eq!((p.events, p.bulk), (0, None));
        // Only outliers: no bulk, so no anchor from the evidence.
        let p = tally(&[("T", "h", 5)]).profile(T0);
        assert_eq!(p.bulk, None);
        assert_eq!(p.outlier_events(), 1);
    }
}
