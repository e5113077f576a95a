//! The HTML case report of `hunt --report case.html`: one self-contained page (inline CSS and
//! JS, no network) rendered on the Rust side from the run summary, the alerts, the time profile,
//! the rules' guides and the tool catalog. It reads with JS disabled and prints; the script only
//! sorts and filters the alert table. Every evidence string is escaped, and the page is the same
//! bytes for the same run (no clock, sorted maps).

use detect::timeline::TimeProfile;
use detect::{Alert, Rule, Severity, Tool};
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write;
use std::path::Path;

const CSS: &str = include_str!("report_html/report.css");
const JS: &str = include_str!("report_html/report.js");

/// Everything the report shows.
pub struct ReportInput<'a> {
    /// The summary object [`crate::alerts_out::RunSummary::json`] builds (`{"summary": {...}}`).
    pub summary: &'a Value,
    pub alerts: &'a [Alert],
    pub suppressed: &'a [Alert],
    /// The evidence's time profile (each host's first and last event).
    pub profile: &'a TimeProfile,
    /// The rules run, for their names and guides (Sigma runs: none).
    pub rules: &'a [Rule],
    /// The tool catalog, for the facts on each host × tool card.
    pub tools: &'a [Tool],
}

/// What the report needs beyond what `emit` is given, kept by `alerts_out::Destination` from the
/// end of the run until the report is written.
#[derive(Default)]
pub struct Context {
    pub profile: TimeProfile,
    pub rules: Vec<Rule>,
}

/// Whether a `--report` path asks for the HTML report (`.html` or `.htm`, any case).
pub fn is_html_path(path: &Path) -> bool {
    path.extension()
        .and_then(|e| e.to_str())
        .is_some_and(|e| e.eq_ignore_ascii_case("html") || e.eq_ignore_ascii_case("htm"))
}

macro_rules! w {
    ($dst:expr, $($arg:tt)*) => {{
        let _ = write!($dst, $($arg)*);
    }};
}

/// Text escaped for HTML content and attribute values.
pub fn esc(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            _ => out.push(c),
        }
    }
    out
}

/// An instant to the second, UTC.
fn second(nanos: i64) -> String {
    chrono::DateTime::from_timestamp_nanos(nanos)
        .format("%Y-%m-%d %H:%M:%SZ")
        .to_string()
}

/// An alert's time as shown in tables: to the second, `T` as a space.
fn shown_time(a: &Alert) -> String {
    a.time
        .as_deref()
        .map_or("-", |t| t.get(..19).unwrap_or(t))
        .replacen('T', " ", 1)
}

fn sev_class(s: Severity) -> &'static str {
    match s {
        Severity::High => "sev-high",
        Severity::Medium => "sev-medium",
        Severity::Low => "sev-low",
        Severity::Informational => "sev-info",
    }
}

const SEVERITIES: [Severity; 4] = [Severity::High, Severity::Medium, Severity::Low, Severity::Informational];

/// The grouping key of a host: names differing only in case are one host.
fn host_key(name: &str) -> String {
    name.to_lowercase()
}

fn device(a: &Alert) -> &str {
    a.device.as_deref().unwrap_or("(no device)")
}

/// The card an alert belongs to on its host: its tool, or correlations together.
fn tool_group(a: &Alert) -> String {
    if a.events.is_some() {
        "(several tools: correlation)".to_string()
    } else {
        a.tool.clone().unwrap_or_else(|| "(unknown tool)".to_string())
    }
}

fn num(v: &Value, key: &str) -> String {
    match v.get(key) {
        Some(Value::Number(n)) => n.to_string(),
        Some(Value::Bool(b)) => b.to_string(),
        Some(Value::String(s)) => s.clone(),
        Some(Value::Array(a)) => a.len().to_string(),
        _ => "0".to_string(),
    }
}

fn text<'v>(v: &'v Value, key: &str) -> &'v str {
    v.get(key).and_then(Value::as_str).unwrap_or("")
}

fn list<'v>(v: &'v Value, key: &str) -> &'v [Value] {
    v.get(key).and_then(Value::as_array).map_or(&[], Vec::as_slice)
}

/// The hosts of the report (profile and alerts), sorted ignoring case: key → display name.
fn hosts(input: &ReportInput<'_>) -> BTreeMap<(String, String), String> {
    let mut names: BTreeMap<String, String> = BTreeMap::new();
    for h in &input.profile.hosts {
        let name = if h.host.is_empty() {
            "(no host)"
        } else {
            h.host.as_str()
        };
        names.entry(host_key(name)).or_insert_with(|| name.to_string());
    }
    for a in input.alerts.iter().chain(input.suppressed) {
        names
            .entry(host_key(device(a)))
            .or_insert_with(|| device(a).to_string());
    }
    names.into_iter().map(|(k, n)| ((k, n.clone()), n)).collect()
}

/// Renders the whole page.
pub fn render(input: &ReportInput<'_>) -> String {
    let s = input.summary.get("summary").unwrap_or(input.summary);
    let mut out = String::with_capacity(64 * 1024 + input.alerts.len() * 1024);
    out.push_str("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n");
    out.push_str(
        "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src 'unsafe-inline'; script-src 'unsafe-inline'; img-src data:\">\n",
    );
    out.push_str("<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n");
    out.push_str("<link rel=\"icon\" href=\"data:,\">\n");
    w!(
        out,
        "<title>ratcatcher case report: {} alerts ({})</title>\n",
        input.alerts.len(),
        esc(text(s, "status"))
    );
    w!(out, "<style>\n{CSS}</style>\n</head>\n<body>\n");
    out.push_str("<header><h1>ratcatcher case report</h1><p class=\"sub\">T1219 remote access tools</p>");
    out.push_str("<nav><a href=\"#overview\">Overview</a> <a href=\"#timeline\">Timeline</a> <a href=\"#cards\">Hosts and tools</a> <a href=\"#alerts\">Alerts</a> <a href=\"#suppressed\">Suppressed</a></nav></header>\n<main>\n");
    overview(&mut out, s, input);
    timeline(&mut out, input);
    cards(&mut out, input);
    alert_table(&mut out, input);
    suppressed(&mut out, input);
    out.push_str("</main>\n");
    w!(out, "<script>\n{JS}</script>\n</body>\n</html>\n");
    out
}

fn overview(out: &mut String, s: &Value, input: &ReportInput<'_>) {
    let ev = s.get("evidence").unwrap_or(&Value::Null);
    let status = text(s, "status");
    out.push_str("<section id=\"overview\"><h2>Overview</h2>\n");
    w!(
        out,
        "<p class=\"status\">Status <span class=\"badge status-{}\" data-key=\"status\">{}</span> exit code <span data-key=\"exit_code\">{}</span></p>\n",
        esc(status),
        esc(status),
        esc(&num(s, "exit_code"))
    );
    w!(
        out,
        "<p>Anchor {} ({}); time: {}.</p>\n",
        esc(text(s, "anchor")),
        esc(text(s, "anchor_source")),
        esc(text(s, "time"))
    );
    out.push_str("<dl class=\"counts\">\n");
    let facts: [(&str, &str, String); 9] = [
        ("files_read", "evidence files read", num(ev, "files_read")),
        ("records", "records read", num(ev, "records")),
        ("skipped_records", "records skipped", num(ev, "skipped_records")),
        ("inputs_not_read", "inputs not read", num(ev, "inputs_not_read")),
        ("rules_run", "rules run", num(s, "rules_run")),
        ("rules_failed", "rules failed", num(s, "rules_failed")),
        ("alerts", "alerts", num(s, "alerts")),
        ("suppressed", "suppressed by tuning", num(s, "suppressed")),
        ("complete", "evidence complete", num(ev, "complete")),
    ];
    for (key, label, value) in &facts {
        w!(
            out,
            "<div><dt>{}</dt><dd data-key=\"{key}\">{}</dd></div>\n",
            esc(label),
            esc(value)
        );
    }
    out.push_str("</dl>\n");

    // Alerts by severity.
    out.push_str("<h3>Alerts by severity</h3>\n<table class=\"sevbars\"><tbody>\n");
    let total = input.alerts.len().max(1);
    for sev in SEVERITIES {
        let n = input.alerts.iter().filter(|a| a.severity == sev).count();
        w!(
            out,
            "<tr data-severity=\"{}\"><th>{}</th><td class=\"n\">{n}</td><td class=\"bar\"><span class=\"{}\" style=\"width:{}%\"></span></td></tr>\n",
            sev.name(),
            sev.name(),
            sev_class(sev),
            n * 100 / total
        );
    }
    out.push_str("</tbody></table>\n");

    // Evidence files.
    let files = list(ev, "files");
    w!(out, "<h3>Evidence files read ({})</h3>\n", files.len());
    if files.is_empty() {
        out.push_str("<p>None.</p>\n");
    } else {
        out.push_str("<table class=\"plain\" id=\"files\"><thead><tr><th>File</th><th>Format</th><th class=\"n\">Bytes</th><th class=\"n\">Records</th><th class=\"n\">Skipped</th></tr></thead><tbody>\n");
        for f in files {
            let gz = if f.get("gzip").and_then(Value::as_bool) == Some(true) {
                " (gzip)"
            } else {
                ""
            };
            w!(
                out,
                "<tr><td class=\"path\">{}</td><td>{}{gz}</td><td class=\"n\">{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td></tr>\n",
                esc(text(f, "path")),
                esc(text(f, "format")),
                esc(&num(f, "bytes")),
                esc(&num(f, "records")),
                esc(&num(f, "skipped"))
            );
        }
        out.push_str("</tbody></table>\n");
    }
    if let Some(rows) = ev.get("rows").and_then(Value::as_object)
        && !rows.is_empty()
    {
        let mut sorted: Vec<(&String, &Value)> = rows.iter().collect();
        sorted.sort_by(|a, b| a.0.cmp(b.0));
        let parts: Vec<String> = sorted
            .iter()
            .map(|(t, n)| format!("{} {}", esc(t), esc(&n.to_string())))
            .collect();
        w!(out, "<p class=\"rows\">Rows per table: {}.</p>\n", parts.join(", "));
    }

    // Inputs not read.
    let unread = list(ev, "unread");
    w!(out, "<h3>Inputs not read ({})</h3>\n", unread.len());
    if unread.is_empty() {
        out.push_str("<p>None: every input named was read.</p>\n");
    } else {
        out.push_str("<table class=\"plain\" id=\"unread\"><thead><tr><th>Input</th><th>Kind</th><th>Why</th></tr></thead><tbody>\n");
        for u in unread {
            w!(
                out,
                "<tr><td class=\"path\">{}</td><td>{}</td><td>{}</td></tr>\n",
                esc(text(u, "path")),
                esc(text(u, "kind")),
                esc(text(u, "reason"))
            );
        }
        out.push_str("</tbody></table>\n");
    }
    let skipped = list(ev, "skipped");
    if !skipped.is_empty() {
        const SHOWN: usize = 200;
        w!(out, "<h3>Records skipped ({})</h3>\n", esc(&num(ev, "skipped_records")));
        out.push_str("<table class=\"plain\" id=\"skipped\"><thead><tr><th>File</th><th>Where</th><th>Why</th></tr></thead><tbody>\n");
        for k in skipped.iter().take(SHOWN) {
            w!(
                out,
                "<tr><td class=\"path\">{}</td><td>{}</td><td>{}</td></tr>\n",
                esc(text(k, "path")),
                esc(text(k, "location")),
                esc(text(k, "reason"))
            );
        }
        out.push_str("</tbody></table>\n");
        if skipped.len() > SHOWN {
            w!(
                out,
                "<p>… and {} more listed in the JSON summary.</p>\n",
                skipped.len() - SHOWN
            );
        }
    }
    let warnings = list(ev, "warnings");
    if !warnings.is_empty() {
        out.push_str("<h3>Evidence warnings</h3>\n<ul class=\"warnings\">\n");
        for wn in warnings {
            let t = wn.as_str().map_or_else(|| wn.to_string(), str::to_string);
            w!(out, "<li>{}</li>\n", esc(&t));
        }
        out.push_str("</ul>\n");
    }

    // Time span per host.
    let p = input.profile;
    w!(out, "<h3>Time span per host</h3>\n<p>{} events with a time", p.events);
    if let Some((f, l)) = p.bulk {
        w!(out, "; bulk of the evidence {} .. {}", second(f), second(l));
    }
    out.push_str(".</p>\n");
    if !p.hosts.is_empty() {
        out.push_str("<table class=\"plain\" id=\"spans\"><thead><tr><th>Host</th><th>First event</th><th>Last event</th><th class=\"n\">Events</th><th class=\"n\">Outliers</th></tr></thead><tbody>\n");
        for h in &p.hosts {
            let name = if h.host.is_empty() {
                "(no host)"
            } else {
                h.host.as_str()
            };
            let (f, l) = h.span.map_or_else(
                || ("only outliers".to_string(), String::new()),
                |(f, l)| (second(f), second(l)),
            );
            w!(
                out,
                "<tr><td>{}</td><td>{f}</td><td>{l}</td><td class=\"n\">{}</td><td class=\"n\">{}</td></tr>\n",
                esc(name),
                h.events,
                h.outliers
            );
        }
        out.push_str("</tbody></table>\n");
    }
    if !p.outliers.is_empty() {
        out.push_str("<p class=\"warn\">Events far outside the bulk of the evidence (outliers; they do not set the anchor):</p>\n<ul class=\"warnings\">\n");
        for o in &p.outliers {
            let host = if o.host.is_empty() {
                "(no host)"
            } else {
                o.host.as_str()
            };
            w!(
                out,
                "<li>{} events {} on {}, {}: {} .. {}</li>\n",
                o.count,
                esc(o.kind.describe()),
                esc(host),
                esc(&o.table),
                second(o.first),
                second(o.last)
            );
        }
        out.push_str("</ul>\n");
    }

    // Rules.
    let failed = list(s, "rules_failed");
    w!(
        out,
        "<h3>Rules</h3>\n<p>{} rules run, {} failed.</p>\n",
        esc(&num(s, "rules_run")),
        failed.len()
    );
    if !failed.is_empty() {
        out.push_str(
            "<table class=\"plain\" id=\"failed\"><thead><tr><th>Rule</th><th>Error</th></tr></thead><tbody>\n",
        );
        for f in failed {
            w!(
                out,
                "<tr><td>{}</td><td><pre class=\"err\">{}</pre></td></tr>\n",
                esc(text(f, "rule")),
                esc(text(f, "error"))
            );
        }
        out.push_str("</tbody></table>\n");
    }
    let dominant = list(s, "suppressions_over_90_percent");
    for d in dominant {
        w!(
            out,
            "<p class=\"warn\">Tuning <q>{}</q> suppressed {} alerts, over 90 %: check it is not wider than meant.</p>\n",
            esc(text(d, "reason")),
            esc(&num(d, "suppressed"))
        );
    }
    out.push_str("</section>\n");
}

/// Axis ticks: a step from a fixed ladder giving at most 8 ticks over the range.
fn ticks(lo: i64, hi: i64) -> Vec<i64> {
    const MIN: i64 = 60_000_000_000;
    const STEPS: [i64; 14] = [
        MIN,
        5 * MIN,
        15 * MIN,
        30 * MIN,
        60 * MIN,
        3 * 60 * MIN,
        6 * 60 * MIN,
        12 * 60 * MIN,
        24 * 60 * MIN,
        2 * 24 * 60 * MIN,
        7 * 24 * 60 * MIN,
        30 * 24 * 60 * MIN,
        365 * 24 * 60 * MIN,
        10 * 365 * 24 * 60 * MIN,
    ];
    let span = hi - lo;
    let step = STEPS
        .iter()
        .copied()
        .find(|s| span / s <= 8)
        .unwrap_or(STEPS[STEPS.len() - 1]);
    let mut t = lo.div_euclid(step) * step;
    if t < lo {
        t += step;
    }
    let mut out = Vec::new();
    while t <= hi && out.len() < 20 {
        out.push(t);
        t += step;
    }
    out
}

fn timeline(out: &mut String, input: &ReportInput<'_>) {
    out.push_str("<section id=\"timeline\"><h2>Timeline</h2>\n");
    let hosts = hosts(input);
    let spans: BTreeMap<String, (i64, i64)> = input
        .profile
        .hosts
        .iter()
        .filter_map(|h| {
            let name = if h.host.is_empty() {
                "(no host)"
            } else {
                h.host.as_str()
            };
            h.span.map(|s| (host_key(name), s))
        })
        .collect();
    // Lanes: hosts with an alert (suppressed included).
    let lanes: Vec<(&String, &String)> = hosts
        .iter()
        .filter(|((key, _), _)| {
            input
                .alerts
                .iter()
                .chain(input.suppressed)
                .any(|a| &host_key(device(a)) == key)
        })
        .map(|((key, _), name)| (key, name))
        .collect();
    let times: Vec<i64> = input
        .alerts
        .iter()
        .chain(input.suppressed)
        .filter_map(|a| a.time_nanos)
        .chain(
            lanes
                .iter()
                .filter_map(|(k, _)| spans.get(*k))
                .flat_map(|&(f, l)| [f, l]),
        )
        .collect();
    let (Some(&lo), Some(&hi)) = (times.iter().min(), times.iter().max()) else {
        out.push_str("<p>No alert with a time.</p>\n</section>\n");
        return;
    };
    let (lo, hi) = if hi - lo < 60_000_000_000 {
        (lo - 1_800_000_000_000, hi + 1_800_000_000_000)
    } else {
        (lo, hi)
    };
    const LABEL: f64 = 230.0;
    const WIDTH: f64 = 1000.0;
    const LANE: f64 = 34.0;
    const TOP: f64 = 8.0;
    let plot = WIDTH - LABEL - 20.0;
    let x = |t: i64| LABEL + (t - lo) as f64 / (hi - lo) as f64 * plot;
    let height = TOP + LANE * lanes.len() as f64 + 30.0;
    w!(
        out,
        "<p>One lane per host, from {} to {} (UTC). The grey bar is the host's evidence; markers are alerts by severity, hollow ones suppressed by tuning.</p>\n",
        second(lo),
        second(hi)
    );
    out.push_str("<div class=\"legend\">");
    for sev in SEVERITIES {
        w!(
            out,
            "<span><i class=\"dot {}\"></i>{}</span> ",
            sev_class(sev),
            sev.name()
        );
    }
    out.push_str("<span><i class=\"dot hollow\"></i>suppressed</span></div>\n");
    w!(
        out,
        "<svg class=\"timeline\" viewBox=\"0 0 {WIDTH} {height:.0}\" width=\"100%\" role=\"img\" aria-label=\"Alerts per host over time\" xmlns=\"http://www.w3.org/2000/svg\">\n"
    );
    for t in ticks(lo, hi) {
        let tx = x(t);
        let label = second(t);
        let short = label.get(5..16).unwrap_or(&label);
        w!(
            out,
            "<line class=\"tick\" x1=\"{tx:.1}\" x2=\"{tx:.1}\" y1=\"{TOP}\" y2=\"{:.1}\"/><text class=\"axis\" x=\"{tx:.1}\" y=\"{:.1}\" text-anchor=\"middle\">{}</text>\n",
            height - 24.0,
            height - 8.0,
            esc(short)
        );
    }
    for (i, (key, name)) in lanes.iter().enumerate() {
        let y = TOP + LANE * i as f64 + LANE / 2.0;
        let clipped: String = if name.chars().count() > 30 {
            format!("{}…", name.chars().take(29).collect::<String>())
        } else {
            name.to_string()
        };
        let n = input.alerts.iter().filter(|a| &host_key(device(a)) == *key).count();
        w!(
            out,
            "<g class=\"lane\" data-host=\"{}\"><title>{} ({n} alerts)</title>\n<text class=\"host\" x=\"4\" y=\"{:.1}\">{}</text>\n",
            esc(name),
            esc(name),
            y + 4.0,
            esc(&clipped)
        );
        if let Some(&(f, l)) = spans.get(*key) {
            w!(
                out,
                "<rect class=\"span\" x=\"{:.1}\" y=\"{:.1}\" width=\"{:.1}\" height=\"8\" rx=\"3\"><title>evidence {} .. {}</title></rect>\n",
                x(f),
                y - 4.0,
                (x(l) - x(f)).max(2.0),
                second(f),
                second(l)
            );
        }
        let mut marks: Vec<(&Alert, bool)> = input
            .alerts
            .iter()
            .map(|a| (a, false))
            .chain(input.suppressed.iter().map(|a| (a, true)))
            .filter(|(a, _)| &host_key(device(a)) == *key && a.time_nanos.is_some())
            .collect();
        // Suppressed first, then by severity: the highest drawn last, on top.
        marks.sort_by_key(|(a, sup)| (!sup, a.severity, a.time_nanos));
        for (a, sup) in marks {
            let t = a.time_nanos.unwrap_or(lo);
            let class = if sup { "hollow" } else { sev_class(a.severity) };
            w!(
                out,
                "<circle class=\"mark {class}\" cx=\"{:.1}\" cy=\"{y:.1}\" r=\"6\"><title>{} {} {}: {}{}</title></circle>\n",
                x(t),
                second(t),
                a.severity.name(),
                esc(&tool_group(a)),
                esc(&a.rule.name),
                if sup { " (suppressed)" } else { "" }
            );
        }
        out.push_str("</g>\n");
    }
    out.push_str("</svg>\n");
    let untimed = input.alerts.iter().filter(|a| a.time_nanos.is_none()).count();
    if untimed > 0 {
        w!(
            out,
            "<p>{untimed} alerts have no time and are not on the timeline.</p>\n"
        );
    }
    out.push_str("</section>\n");
}

/// Distinct values, sorted, joined.
fn joined<'a>(values: impl Iterator<Item = &'a str>) -> String {
    let set: BTreeSet<&str> = values.filter(|v| !v.is_empty()).collect();
    if set.is_empty() {
        "-".to_string()
    } else {
        set.into_iter().collect::<Vec<_>>().join(", ")
    }
}

fn cards(out: &mut String, input: &ReportInput<'_>) {
    out.push_str("<section id=\"cards\"><h2>Hosts and tools</h2>\n");
    if input.alerts.is_empty() {
        out.push_str("<p>No alerts.</p>\n</section>\n");
        return;
    }
    let mut groups: BTreeMap<(String, String), BTreeMap<String, Vec<&Alert>>> = BTreeMap::new();
    for a in input.alerts {
        groups
            .entry((host_key(device(a)), device(a).to_string()))
            .or_default()
            .entry(tool_group(a))
            .or_default()
            .push(a);
    }
    // Names differing only in case are one host: merge them under the first spelling.
    let mut merged: BTreeMap<String, (String, BTreeMap<String, Vec<&Alert>>)> = BTreeMap::new();
    for ((key, name), tools) in groups {
        let entry = merged.entry(key).or_insert_with(|| (name, BTreeMap::new()));
        for (tool, list) in tools {
            entry.1.entry(tool).or_default().extend(list);
        }
    }
    let rules: BTreeMap<&str, &Rule> = input.rules.iter().map(|r| (r.id.as_str(), r)).collect();
    for (name, tools) in merged.values() {
        let n: usize = tools.values().map(Vec::len).sum();
        w!(
            out,
            "<div class=\"host\" data-host=\"{}\"><h3>{} <small>{n} alerts, {} tools</small></h3>\n<div class=\"cardgrid\">\n",
            esc(name),
            esc(name),
            tools.len()
        );
        for (tool, list) in tools {
            card(out, name, tool, list, &rules, input.tools);
        }
        out.push_str("</div></div>\n");
    }
    out.push_str("</section>\n");
}

fn card(out: &mut String, host: &str, tool: &str, list: &[&Alert], rules: &BTreeMap<&str, &Rule>, catalog: &[Tool]) {
    let max = list.iter().map(|a| a.severity).max().unwrap_or(Severity::Informational);
    let first = list.iter().filter_map(|a| a.time_nanos).min();
    let last = list.iter().filter_map(|a| a.time_nanos).max();
    w!(
        out,
        "<article class=\"card {}\" data-host=\"{}\" data-tool=\"{}\">\n<h4>{} <span class=\"badge {}\">{}</span></h4>\n<dl class=\"facts\">\n",
        sev_class(max),
        esc(host),
        esc(tool),
        esc(tool),
        sev_class(max),
        max.name()
    );
    let fact = |out: &mut String, k: &str, v: &str| {
        w!(out, "<dt>{}</dt><dd>{}</dd>\n", esc(k), esc(v));
    };
    fact(out, "alerts", &list.len().to_string());
    fact(out, "first seen", &first.map_or_else(|| "-".to_string(), second));
    fact(out, "last seen", &last.map_or_else(|| "-".to_string(), second));
    fact(out, "signals", &joined(list.iter().filter_map(|a| a.signal.as_deref())));
    fact(
        out,
        "accounts",
        &joined(list.iter().filter_map(|a| a.account.as_deref())),
    );
    fact(
        out,
        "sources",
        &joined(list.iter().flat_map(|a| a.sources.iter().map(String::as_str))),
    );
    out.push_str("</dl>\n");
    // Catalog facts of the tool (or of each tool a correlation joins).
    let mut names: BTreeSet<String> = BTreeSet::new();
    for a in list {
        names.extend(a.tools());
    }
    let mut shown: BTreeSet<&str> = BTreeSet::new();
    for name in &names {
        let Some(t) = catalog
            .iter()
            .find(|t| t.name.eq_ignore_ascii_case(name) || t.id.eq_ignore_ascii_case(name))
        else {
            continue;
        };
        if !shown.insert(t.id.as_str()) {
            continue;
        }
        catalog_facts(out, t);
    }
    // The rules that fired, each with its guide.
    let mut fired: BTreeMap<&str, (&str, usize)> = BTreeMap::new();
    for a in list {
        fired.entry(a.rule.id.as_str()).or_insert((a.rule.name.as_str(), 0)).1 += 1;
    }
    out.push_str("<h5>Rules</h5>\n<ul class=\"rules\">\n");
    for (id, (name, n)) in &fired {
        w!(out, "<li><code>{}</code> {} ({n})", esc(id), esc(name));
        if let Some(guide) = rules.get(id).and_then(|r| r.guide.as_deref()) {
            w!(
                out,
                "\n<details class=\"guide\"><summary>Investigation guide</summary>\n<div class=\"md\">\n{}</div></details>",
                markdown(guide)
            );
        }
        out.push_str("</li>\n");
    }
    out.push_str("</ul>\n</article>\n");
}

fn catalog_facts(out: &mut String, t: &Tool) {
    w!(
        out,
        "<div class=\"catalog\"><h5>Catalog: {}</h5>\n<dl class=\"facts\">\n",
        esc(&t.name)
    );
    let short = |v: &[String]| -> String {
        const MAX: usize = 8;
        let mut s = v.iter().take(MAX).cloned().collect::<Vec<_>>().join(", ");
        if v.len() > MAX {
            let _ = write!(s, " … (+{})", v.len() - MAX);
        }
        s
    };
    let ports: Vec<String> = detect::catalog::all_ports(t).iter().map(i64::to_string).collect();
    let rows: [(&str, String); 9] = [
        ("category", t.category.clone()),
        ("vendor", t.vendor.clone().unwrap_or_default()),
        ("website", t.website.clone().unwrap_or_default()),
        ("self-hosted", if t.self_hosted { "yes".into() } else { String::new() }),
        ("executables", short(&t.executables)),
        ("signers", short(&t.signers)),
        ("domains", short(&t.domains)),
        ("ports", short(&ports)),
        ("capabilities", short(&t.capabilities)),
    ];
    for (k, v) in rows {
        if !v.is_empty() {
            w!(out, "<dt>{k}</dt><dd>{}</dd>\n", esc(&v));
        }
    }
    out.push_str("</dl></div>\n");
}

fn alert_table(out: &mut String, input: &ReportInput<'_>) {
    w!(out, "<section id=\"alerts\"><h2>Alerts ({})</h2>\n", input.alerts.len());
    out.push_str("<div class=\"controls\" hidden><label>Filter <input type=\"search\" id=\"filter\" placeholder=\"host, tool, rule, text…\"></label> <label>Severity <select id=\"sevfilter\"><option value=\"\">any</option>");
    for sev in SEVERITIES {
        w!(out, "<option value=\"{}\">{}</option>", sev.name(), sev.name());
    }
    out.push_str("</select></label> <span id=\"shown\"></span></div>\n");
    out.push_str("<table class=\"alerts sortable\" id=\"alert-table\"><thead><tr>");
    for (key, label) in [
        ("time", "Time"),
        ("severity", "Severity"),
        ("host", "Host"),
        ("tool", "Tool"),
        ("signal", "Signal"),
        ("rule", "Rule"),
        ("account", "Account"),
        ("detail", "Detail"),
    ] {
        w!(out, "<th data-col=\"{key}\" scope=\"col\">{label}</th>");
    }
    out.push_str("</tr></thead><tbody>\n");
    for a in input.alerts {
        let rank = a.severity as u8;
        w!(
            out,
            "<tr data-severity=\"{}\"><td class=\"time\" data-sort=\"{}\">{}</td><td data-sort=\"{rank}\"><span class=\"badge {}\">{}</span></td><td>{}</td><td>{}</td><td>{}</td><td title=\"{}\">{}</td><td>{}</td><td class=\"detail\">{}</td></tr>\n",
            a.severity.name(),
            a.time_nanos.map_or_else(String::new, |n| format!("{n:020}")),
            esc(&shown_time(a)),
            sev_class(a.severity),
            a.severity.name(),
            esc(device(a)),
            esc(&tool_group(a)),
            esc(a.signal.as_deref().unwrap_or("-")),
            esc(&a.rule.name),
            esc(&a.rule.id),
            esc(a.account.as_deref().unwrap_or("-")),
            esc(&a.detail())
        );
    }
    out.push_str("</tbody></table>\n</section>\n");
}

fn suppressed(out: &mut String, input: &ReportInput<'_>) {
    w!(
        out,
        "<section id=\"suppressed\"><h2>Suppressed by tuning ({})</h2>\n",
        input.suppressed.len()
    );
    if input.suppressed.is_empty() {
        out.push_str("<p>None.</p>\n</section>\n");
        return;
    }
    let mut reasons: BTreeMap<&str, usize> = BTreeMap::new();
    for a in input.suppressed {
        *reasons.entry(a.suppressed.as_deref().unwrap_or("?")).or_default() += 1;
    }
    out.push_str("<ul class=\"reasons\">\n");
    for (r, n) in &reasons {
        w!(out, "<li>{n} × {}</li>\n", esc(r));
    }
    out.push_str("</ul>\n<table class=\"plain\" id=\"suppressed-table\"><thead><tr><th>Time</th><th>Severity</th><th>Host</th><th>Tool</th><th>Rule</th><th>Reason</th><th>Detail</th></tr></thead><tbody>\n");
    for a in input.suppressed {
        w!(
            out,
            "<tr><td class=\"time\">{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td class=\"reason\">{}</td><td class=\"detail\">{}</td></tr>\n",
            esc(&shown_time(a)),
            a.severity.name(),
            esc(device(a)),
            esc(&tool_group(a)),
            esc(&a.rule.id),
            esc(a.suppressed.as_deref().unwrap_or("?")),
            esc(&a.detail())
        );
    }
    out.push_str("</tbody></table>\n</section>\n");
}

/// Inline Markdown on one line: `code` and **bold**; everything else is escaped text.
fn inline(line: &str) -> String {
    let mut out = String::new();
    let parts: Vec<&str> = line.split('`').collect();
    for (i, part) in parts.iter().enumerate() {
        if i % 2 == 1 {
            if parts.len() % 2 == 1 || i + 1 < parts.len() {
                w!(out, "<code>{}</code>", esc(part));
            } else {
                // An unmatched backtick: the rest is text.
                w!(out, "`{}", esc(part));
            }
            continue;
        }
        let bold: Vec<&str> = part.split("**").collect();
        if bold.len() % 2 == 1 {
            for (j, b) in bold.iter().enumerate() {
                if j % 2 == 1 {
                    w!(out, "<strong>{}</strong>", esc(b));
                } else {
                    out.push_str(&esc(b));
                }
            }
        } else {
            out.push_str(&esc(part));
        }
    }
    out
}

/// A rule guide's Markdown as HTML: headings, flat lists, fenced code and paragraphs; all text
/// escaped, no raw HTML or links passed through.
pub fn markdown(md: &str) -> String {
    let mut out = String::new();
    let mut para: Vec<String> = Vec::new();
    let mut list: Option<&str> = None;
    let mut li_open = false;
    let mut code: Option<usize> = None;
    fn flush(out: &mut String, para: &mut Vec<String>) {
        if !para.is_empty() {
            w!(out, "<p>{}</p>\n", para.join(" "));
            para.clear();
        }
    }
    fn close_list(out: &mut String, list: &mut Option<&str>, li_open: &mut bool) {
        if *li_open {
            out.push_str("</li>\n");
            *li_open = false;
        }
        if let Some(tag) = list.take() {
            w!(out, "</{tag}>\n");
        }
    }
    for line in md.lines() {
        let trimmed = line.trim_start();
        let indent = line.len() - trimmed.len();
        if let Some(fence) = code {
            if trimmed.starts_with("```") {
                out.push_str("</code></pre>\n");
                code = None;
            } else {
                let cut = line.char_indices().take_while(|(i, c)| *i < fence && *c == ' ').count();
                w!(out, "{}\n", esc(&line[cut..]));
            }
            continue;
        }
        if trimmed.starts_with("```") {
            flush(&mut out, &mut para);
            if indent == 0 || !li_open {
                close_list(&mut out, &mut list, &mut li_open);
            }
            out.push_str("<pre><code>");
            code = Some(indent);
            continue;
        }
        if trimmed.is_empty() {
            flush(&mut out, &mut para);
            continue;
        }
        let hashes = trimmed.chars().take_while(|&c| c == '#').count();
        if indent == 0 && (1..=6).contains(&hashes) && trimmed[hashes..].starts_with(' ') {
            flush(&mut out, &mut para);
            close_list(&mut out, &mut list, &mut li_open);
            let level = (hashes + 3).min(6);
            w!(out, "<h{level}>{}</h{level}>\n", inline(trimmed[hashes..].trim()));
            continue;
        }
        let digits = trimmed.chars().take_while(char::is_ascii_digit).count();
        let item = if let Some(rest) = trimmed.strip_prefix("- ").or_else(|| trimmed.strip_prefix("* ")) {
            Some(("ul", rest))
        } else if digits > 0 && trimmed[digits..].starts_with(". ") {
            Some(("ol", &trimmed[digits + 2..]))
        } else {
            None
        };
        if let Some((tag, rest)) = item {
            flush(&mut out, &mut para);
            if list != Some(tag) {
                close_list(&mut out, &mut list, &mut li_open);
                w!(out, "<{tag}>\n");
                list = Some(tag);
            }
            if li_open {
                out.push_str("</li>\n");
            }
            w!(out, "<li>{}", inline(rest.trim()));
            li_open = true;
            continue;
        }
        if li_open && indent > 0 {
            w!(out, " {}", inline(trimmed));
            continue;
        }
        close_list(&mut out, &mut list, &mut li_open);
        para.push(inline(trimmed));
    }
    if code.is_some() {
        out.push_str("</code></pre>\n");
    }
    flush(&mut out, &mut para);
    close_list(&mut out, &mut list, &mut li_open);
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use detect::alert::{Row, RuleRef};
    use detect::timeline::HostSpan;

    const T0: i64 = 1_795_000_000_000_000_000;

    fn alert(host: &str, tool: &str, sev: Severity, t: i64, detail: &str) -> Alert {
        Alert {
            rule: RuleRef {
                id: "rat-process-by-name".into(),
                guid: None,
                name: "Remote access tool executed".into(),
                severity: sev.name(),
                tactics: vec!["CommandAndControl".into()],
                techniques: vec!["T1219".into()],
                level: None,
                tags: None,
            },
            time: Some(detect::alert::iso(t)),
            time_nanos: Some(t),
            severity: sev,
            device: Some(host.into()),
            account: Some("alice".into()),
            tool: Some(tool.into()),
            category: None,
            signal: Some("process".into()),
            sources: vec!["Sysmon/1".into()],
            entities: Vec::new(),
            events: None,
            suppressed: None,
            replay_run: None,
            row: Row(vec![("ProcessCommandLine".into(), Value::String(detail.into()))]),
            detail_column: None,
        }
    }

    fn summary() -> Value {
        serde_json::json!({"summary": {
            "status": "alerts", "exit_code": 1, "anchor": "2026-11-26T19:41:30Z",
            "anchor_source": "newest event in the evidence", "time": "all evidence",
            "rules_run": 19, "rules_failed": [{"rule": "rat-broken", "error": "boom <b>"}],
            "alerts": 3, "suppressed": 1, "suppressed_by": {}, "suppressions_over_90_percent": [],
            "evidence": {"complete": false, "files_read": 2, "bytes": 10, "records": 271,
                "skipped_records": 4, "inputs_not_read": 1, "rows": {"DeviceProcessEvents": 3},
                "files": [{"path": "a.json", "format": "json", "gzip": false, "bytes": 5, "records": 200, "skipped": 4},
                          {"path": "b<x>.xml", "format": "event-xml", "gzip": true, "bytes": 5, "records": 71, "skipped": 0}],
                "unread": [{"path": "c.evtx", "kind": "unreadable", "reason": "permission denied", "counts": true}],
                "skipped": [], "warnings": []}
        }})
    }

    fn fixture() -> (Value, Vec<Alert>, Vec<Alert>, TimeProfile, Vec<Rule>) {
        let hostile = "\"C:\\x.exe\" <script>alert(1)</script> & 'q'";
        let alerts = vec![
            alert("zeta-01", "AnyDesk", Severity::High, T0, hostile),
            alert(
                "Alpha-02",
                "TeamViewer",
                Severity::Medium,
                T0 + 3_600_000_000_000,
                "tv.exe",
            ),
            alert("alpha-02", "AnyDesk", Severity::Low, T0 + 7_200_000_000_000, "ad.exe"),
        ];
        let mut s = alert("zeta-01", "TeamViewer", Severity::Medium, T0 + 60_000_000_000, "tv.exe");
        s.suppressed = Some("helpdesk <approved>".into());
        let profile = TimeProfile {
            events: 10,
            bulk: Some((T0 - 1_000_000_000_000, T0 + 8_000_000_000_000)),
            hosts: vec![
                HostSpan {
                    host: "Alpha-02".into(),
                    events: 5,
                    span: Some((T0, T0 + 8_000_000_000_000)),
                    outliers: 0,
                },
                HostSpan {
                    host: "zeta-01".into(),
                    events: 5,
                    span: Some((T0 - 1_000_000_000_000, T0 + 100_000_000_000)),
                    outliers: 0,
                },
            ],
            outliers: Vec::new(),
        };
        let (rules, _) = detect::rule::builtin_pack();
        (summary(), alerts, vec![s], profile, rules)
    }

    fn page() -> String {
        let (summary, alerts, suppressed, profile, rules) = fixture();
        let tools = detect::catalog::builtin();
        render(&ReportInput {
            summary: &summary,
            alerts: &alerts,
            suppressed: &suppressed,
            profile: &profile,
            rules: &rules,
            tools: &tools,
        })
    }

    #[test]
    fn sections_and_counts() {
        let html = page();
        for id in ["overview", "timeline", "cards", "alerts", "suppressed"] {
            assert!(html.contains(&format!("<section id=\"{id}\">")), "section {id}");
        }
        assert!(html.contains("<dd data-key=\"files_read\">2</dd>"));
        assert!(html.contains("<dd data-key=\"records\">271</dd>"));
        assert!(html.contains("<dd data-key=\"inputs_not_read\">1</dd>"));
        assert!(html.contains("<dd data-key=\"rules_failed\">1</dd>"));
        assert!(html.contains("permission denied"));
        // One lane per host; names differing in case are one host; sorted ignoring case.
        assert_eq!(html.matches("<g class=\"lane\"").count(), 2);
        let a = html
            .find("<g class=\"lane\" data-host=\"Alpha-02\"")
            .expect("alpha lane");
        let z = html.find("<g class=\"lane\" data-host=\"zeta-01\"").expect("zeta lane");
        assert!(a < z);
        assert_eq!(html.matches("<article class=\"card").count(), 3);
        assert_eq!(html.matches("<tr data-severity=").count(), 3 + 4);
        assert!(
            html.contains("<h6>What it detects</h6>") || html.contains("<h4>"),
            "guide rendered"
        );
        assert!(html.contains("Catalog: AnyDesk"));
        assert!(html.contains("helpdesk &lt;approved&gt;"));
        assert!(html.contains("@media print"));
    }

    #[test]
    fn hostile_text_stays_text() {
        let html = page();
        assert!(!html.contains("<script>alert(1)"));
        assert!(html.contains("&lt;script&gt;alert(1)&lt;/script&gt; &amp; &#39;q&#39;"));
        assert!(html.contains("b&lt;x&gt;.xml"));
        assert!(html.contains("boom &lt;b&gt;"));
        // Only our own script element.
        assert_eq!(html.matches("<script").count(), 1);
        assert!(
            !html.contains("http://")
                || html.matches("http://").count() == html.matches("xmlns=\"http://www.w3.org/2000/svg\"").count()
        );
    }

    #[test]
    fn deterministic() {
        assert_eq!(page(), page());
    }

    #[test]
    fn html_paths() {
        assert!(is_html_path(Path::new("case.html")));
        assert!(is_html_path(Path::new("/x/CASE.HTM")));
        assert!(!is_html_path(Path::new("case.json")));
        assert!(!is_html_path(Path::new("html")));
    }

    #[test]
    fn markdown_is_safe_and_structured() {
        let md = "# Title <x>\n\nSome `a<b>` and **bold**.\n\n1. one\n   ```kusto\n   T | take 1\n   ```\n2. two\n\n- x\n- y <img src=x onerror=alert(1)>\n\nend";
        let html = markdown(md);
        assert!(html.contains("<h4>Title &lt;x&gt;</h4>"));
        assert!(html.contains("<code>a&lt;b&gt;</code>"));
        assert!(html.contains("<strong>bold</strong>"));
        assert!(html.contains("<ol>\n<li>one<pre><code>T | take 1\n</code></pre>\n</li>\n<li>two"));
        assert!(html.contains("<ul>\n<li>x</li>\n<li>y &lt;img"));
        assert!(html.contains("<p>end</p>"));
        assert!(!html.contains("<img"));
    }
}
