//! Correlation rules end to end: rules are matched by the engine, matches feed the correlator.

use sigma::{CorrelationHit, Event, NANOS_PER_SEC, RuleSet};

const BASE_RULES: &str = "title: Failed login
id: 53ba33fd-3a50-4468-a5ef-c583635cfa92
name: failed_login
logsource: {product: windows, service: security}
detection:
  selection: {EventID: [529, 4625]}
  condition: selection
---
title: Successful login
id: 4d0a2c83-c62c-4ed4-b475-c7e23a9269b8
name: successful_login
logsource: {product: windows, service: security}
detection:
  selection: {EventID: [528, 4624]}
  condition: selection
";

fn login(id: u32, user: &'static str, host: &'static str, secs: i64) -> Event<'static> {
    Event::new()
        .with_channel("Security")
        .with_event_id(id)
        .with_timestamp(secs * NANOS_PER_SEC)
        .with_str("TargetUserName", user)
        .with_str("WorkstationName", host)
}

/// Runs `events` (in order) through rules + correlations; returns (correlation title, group values, event indices).
fn run(correlations: &str, events: &[Event<'static>]) -> Vec<(String, Vec<Option<String>>, Vec<usize>)> {
    let mut set = RuleSet::new();
    set.add_text(BASE_RULES, "base.yml");
    set.add_text(correlations, "corr.yml");
    assert!(set.rejected().is_empty(), "{:?}", set.rejected());
    let c = set.compile();
    assert!(c.skipped().is_empty(), "{:?}", c.skipped());
    let mut corr = c.correlator::<usize>();
    let mut hits: Vec<CorrelationHit<usize>> = Vec::new();
    for (i, e) in events.iter().enumerate() {
        for r in c.matches(e) {
            hits.extend(corr.observe(r, e, e.timestamp.unwrap_or_default(), i));
        }
    }
    hits.extend(corr.flush());
    hits.into_iter()
        .map(|h| {
            let title = c.correlations()[h.correlation].rule.title.clone();
            (title, h.group.into_iter().map(|(_, v)| v).collect(), h.events)
        })
        .collect()
}

const MANY_FAILED: &str = "title: Many failed
name: many_failed
correlation:
  type: event_count
  rules: [failed_login]
  group-by: [TargetUserName]
  timespan: 10m
  condition: {gte: 3}
";

#[test]
fn event_count_fires_per_group_within_timespan() {
    let events = [
        login(4625, "bob", "a", 0),
        login(4625, "alice", "a", 10),
        login(4625, "bob", "a", 20),
        login(4625, "bob", "a", 30),    // third bob failure within 10m: fires
        login(4625, "alice", "a", 700), // alice's second failure is outside her window
        login(4625, "alice", "a", 710),
    ];
    let hits = run(MANY_FAILED, &events);
    assert_eq!(
        hits,
        vec![("Many failed".to_owned(), vec![Some("bob".to_owned())], vec![0, 2, 3])]
    );
}

#[test]
fn sliding_window_finds_bursts_across_boundaries() {
    // The window anchored at 0 ([0, 600]) holds 2 matches; the one anchored at 500 holds 3.
    let events = [
        login(4625, "bob", "a", 0),
        login(4625, "bob", "a", 500),
        login(4625, "bob", "a", 700),
        login(4625, "bob", "a", 1090),
    ];
    let hits = run(MANY_FAILED, &events);
    assert_eq!(hits.len(), 1);
    assert_eq!(hits[0].2, vec![1, 2, 3]);
}

#[test]
fn upper_bounds_are_tested_when_windows_close() {
    let corr = "title: Rare
correlation:
  type: event_count
  rules: [failed_login]
  group-by: [TargetUserName]
  timespan: 1m
  condition: {lt: 2}
";
    let events = [
        login(4625, "bob", "a", 0),
        login(4625, "bob", "a", 10),
        login(4625, "carol", "a", 20),
        login(4625, "bob", "a", 200),
    ];
    let hits = run(corr, &events);
    // bob's first window has 2 (no hit) and slides to the 10s match, which is alone in its window
    // but is followed by the 200s match, alone too; carol has one.
    let groups: Vec<_> = hits
        .iter()
        .map(|h| (h.1[0].clone().unwrap_or_default(), h.2.clone()))
        .collect();
    assert_eq!(
        groups,
        vec![
            ("bob".into(), vec![1]),
            ("bob".into(), vec![3]),
            ("carol".into(), vec![2])
        ]
    );
}

#[test]
fn value_count_counts_distinct_values() {
    let corr = "title: Spray
correlation:
  type: value_count
  rules: [failed_login]
  group-by: [WorkstationName]
  timespan: 1h
  condition: {field: TargetUserName, gte: 3}
";
    let events = [
        login(4625, "a", "ws1", 0),
        login(4625, "a", "ws1", 1),
        login(4625, "b", "ws1", 2),
        login(4625, "c", "ws2", 3),
        login(4625, "c", "ws1", 4),
    ];
    let hits = run(corr, &events);
    assert_eq!(hits.len(), 1);
    assert_eq!(hits[0].1, vec![Some("ws1".to_owned())]);
    assert_eq!(hits[0].2, vec![0, 1, 2, 4]);
}

#[test]
fn temporal_needs_all_rules_in_any_order() {
    let corr = "title: Both
correlation:
  type: temporal
  rules: [successful_login, failed_login]
  group-by: [TargetUserName]
  timespan: 5m
";
    let events = [
        login(4624, "bob", "a", 0),
        login(4625, "alice", "a", 10),
        login(4625, "bob", "a", 20),
    ];
    let hits = run(corr, &events);
    assert_eq!(hits.len(), 1);
    assert_eq!(hits[0].2, vec![0, 2]);
    // too far apart
    let events = [login(4624, "bob", "a", 0), login(4625, "bob", "a", 400)];
    assert!(run(corr, &events).is_empty());
}

#[test]
fn temporal_ordered_requires_the_listed_order() {
    let corr = "title: Ordered
correlation:
  type: temporal_ordered
  rules: [failed_login, successful_login]
  group-by: [TargetUserName]
  timespan: 5m
";
    let wrong = [login(4624, "bob", "a", 0), login(4625, "bob", "a", 10)];
    assert!(run(corr, &wrong).is_empty());
    let right = [
        login(4624, "bob", "a", 0),
        login(4625, "bob", "a", 10),
        login(4624, "bob", "a", 20),
    ];
    let hits = run(corr, &right);
    assert_eq!(hits.len(), 1);
    assert_eq!(hits[0].2, vec![0, 1, 2]);
}

#[test]
fn chained_correlation_failed_logins_then_success() {
    let corr = "title: Brute force then success
correlation:
  type: temporal_ordered
  rules: [many_failed, successful_login]
  group-by: [TargetUserName]
  timespan: 10m
---
title: Many failed
name: many_failed
correlation:
  type: event_count
  rules: [failed_login]
  group-by: [TargetUserName]
  timespan: 10m
  condition: {gte: 3}
";
    let events = [
        login(4625, "bob", "a", 0),
        login(4625, "bob", "a", 1),
        login(4625, "bob", "a", 2),
        login(4624, "bob", "a", 3),
        login(4624, "eve", "a", 4),
    ];
    let hits = run(corr, &events);
    let titles: Vec<_> = hits.iter().map(|h| h.0.as_str()).collect();
    assert_eq!(titles, ["Many failed", "Brute force then success"]);
    assert_eq!(hits[1].2, vec![0, 1, 2, 3]);
    assert_eq!(hits[1].1, vec![Some("bob".to_owned())]);
}

#[test]
fn aliases_group_different_fields() {
    let corr = "title: Same host
correlation:
  type: temporal
  rules: [failed_login, successful_login]
  group-by: [account]
  timespan: 1m
  aliases:
    account:
      failed_login: TargetUserName
      successful_login: WorkstationName
";
    // failed login by user `x`, successful login on workstation `x`
    let events = [login(4625, "x", "h1", 0), login(4624, "y", "x", 5)];
    let hits = run(corr, &events);
    assert_eq!(hits.len(), 1);
    assert_eq!(hits[0].1, vec![Some("x".to_owned())]);
}

#[test]
fn value_sum_and_avg() {
    let rules = "title: Upload
name: upload
logsource: {product: windows, service: security}
detection:
  selection: {EventID: 5156}
  condition: selection
";
    let sum = "title: Sum
correlation:
  type: value_sum
  rules: [upload]
  group-by: [Host]
  timespan: 1h
  condition: {field: Bytes, gt: 100}
";
    let avg = "title: Avg
correlation:
  type: value_avg
  rules: [upload]
  group-by: [Host]
  timespan: 1h
  condition: {field: Bytes, gte: 50}
";
    for (corr, expect) in [(sum, vec![vec![0usize, 1, 2]]), (avg, vec![vec![0, 1, 2, 3]])] {
        let mut set = RuleSet::new();
        set.add_text(rules, "r.yml");
        set.add_text(corr, "c.yml");
        let c = set.compile();
        let mut corr = c.correlator::<usize>();
        let mut hits = Vec::new();
        for (i, (bytes, t)) in [("40", 0), ("50", 1), ("20", 2), ("90", 3)].into_iter().enumerate() {
            let e = Event::new()
                .with_channel("Security")
                .with_event_id(5156)
                .with_timestamp(t)
                .with_str("Host", "h")
                .with_str("Bytes", bytes);
            for r in c.matches(&e) {
                hits.extend(corr.observe(r, &e, t, i));
            }
        }
        hits.extend(corr.flush());
        assert_eq!(hits.iter().map(|h| h.events.clone()).collect::<Vec<_>>(), expect);
    }
}

#[test]
fn referenced_rules_are_not_standalone_unless_generate() {
    for (generate, standalone) in [("", false), ("  generate: true\n", true)] {
        let mut set = RuleSet::new();
        set.add_text(BASE_RULES, "base.yml");
        set.add_text(&format!("{MANY_FAILED}{generate}"), "c.yml");
        let c = set.compile();
        let failed = c.find("failed_login").unwrap_or(sigma::RuleId(u32::MAX));
        let ok = c.find("successful_login").unwrap_or(sigma::RuleId(u32::MAX));
        assert_eq!(c.is_standalone(failed), standalone);
        assert!(c.is_standalone(ok));
    }
}

#[test]
fn unknown_references_and_cycles_are_skipped() {
    let mut set = RuleSet::new();
    set.add_text(BASE_RULES, "base.yml");
    set.add_text(
        "title: a\nname: a\ncorrelation: {type: temporal, rules: [b, failed_login], group-by: [x], timespan: 1m}\n---\ntitle: b\nname: b\ncorrelation: {type: temporal, rules: [a, failed_login], group-by: [x], timespan: 1m}\n---\ntitle: c\ncorrelation: {type: event_count, rules: [nope], group-by: [x], timespan: 1m, condition: {gte: 1}}\n",
        "c.yml",
    );
    let c = set.compile();
    assert!(c.correlations().is_empty());
    let reasons: Vec<_> = c.skipped().iter().map(|e| e.kind.reason()).collect();
    assert!(reasons.contains(&"unknown rule reference".to_owned()), "{reasons:?}");
    assert!(reasons.contains(&"correlation cycle".to_owned()), "{reasons:?}");
}

#[test]
fn expire_closes_old_windows() {
    let corr = "title: Rare
correlation:
  type: event_count
  rules: [failed_login]
  group-by: [TargetUserName]
  timespan: 1m
  condition: {eq: 1}
";
    let mut set = RuleSet::new();
    set.add_text(BASE_RULES, "base.yml");
    set.add_text(corr, "c.yml");
    let c = set.compile();
    let mut corr = c.correlator::<u8>();
    let e = login(4625, "bob", "a", 0);
    for r in c.matches(&e) {
        assert!(corr.observe(r, &e, 0, 1).is_empty());
    }
    assert!(corr.expire(30 * NANOS_PER_SEC).is_empty());
    let hits = corr.expire(61 * NANOS_PER_SEC);
    assert_eq!(hits.len(), 1);
    assert_eq!((hits[0].value, hits[0].events.clone()), (1.0, vec![1]));
    assert!(corr.flush().is_empty());
}
