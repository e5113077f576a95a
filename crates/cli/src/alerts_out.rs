//! Alert output for `hunt`: the terminal view (summary, then alerts grouped per host and tool),
//! JSON lines, CSV, and Timesketch JSONL.

use crate::output::OutFile;
use detect::Alert;
use detect::hunt::{TimeMode, Window};
use detect::replay::RuleReplay;
use detect::timeline::TimeProfile;
use std::collections::BTreeMap;
use std::io::{self, IsTerminal, Write};
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Clone, Copy, clap::ValueEnum, PartialEq, Eq, Debug)]
pub enum AlertFormat {
    Table,
    Jsonl,
    Csv,
    Timesketch,
}

/// What the run looked at, for the summary.
pub struct RunSummary<'a> {
    pub anchor: String,
    pub anchor_source: &'a str,
    pub rules_run: usize,
    /// Rules (or rule files) that failed to load, plan, run or stay within their limits: id and
    /// why.
    pub failures: Vec<(String, String)>,
    /// The evidence accounting.
    pub evidence: &'a telemetry::Report,
    /// `--allow-partial`.
    pub allow_partial: bool,
    pub time: TimeSummary,
}

impl RunSummary<'_> {
    /// The run's status, for its exit code.
    pub fn status(&self, alerts: &[Alert]) -> crate::exit::Status {
        crate::exit::Status {
            found: !alerts.is_empty(),
            failed: !self.failures.is_empty(),
            incomplete: !self.evidence.is_complete(),
            allow_partial: self.allow_partial,
        }
    }

    /// The summary object: `{"summary": {...}}` (the last line on stderr of the machine formats,
    /// and the `--report` file).
    pub fn json(&self, alerts: &[Alert], suppressed: &[Alert]) -> serde_json::Value {
        let status = self.status(alerts);
        let failures: Vec<serde_json::Value> = self
            .failures
            .iter()
            .map(|(id, why)| serde_json::json!({"rule": id, "error": why}))
            .collect();
        let dominant: Vec<serde_json::Value> = detect::hunt::dominant_suppressions(alerts.len(), suppressed)
            .into_iter()
            .map(|(reason, n)| serde_json::json!({"reason": reason, "suppressed": n}))
            .collect();
        serde_json::json!({"summary": {
            "status": status.word(),
            "exit_code": status.code(),
            "anchor": self.anchor,
            "anchor_source": self.anchor_source,
            "time": self.time.mode,
            "rules_run": self.rules_run,
            "rules_failed": failures,
            "alerts": alerts.len(),
            "suppressed": suppressed.len(),
            "suppressed_by": suppression_reasons(suppressed),
            "suppressions_over_90_percent": dominant,
            "evidence": crate::evidence::report_json(self.evidence),
        }})
    }
}

/// The time part of the summary: what the rules ran over, the evidence's span per host, and the
/// outliers (docs/alerts.md, "Time"). The table view prints it in its summary; the machine
/// formats on stderr (`hunt: ...` lines, outliers as `warning: ...`).
pub struct TimeSummary {
    /// What the rules ran over (`all evidence`, ...).
    pub mode: String,
    /// `evidence: ...`, then one line per host (sorted ignoring case).
    pub spans: Vec<String>,
    /// The outliers: a heading, then one line per kind, table and host (empty without outliers).
    pub outliers: Vec<String>,
}

/// An instant to the second, for the summary.
fn second(nanos: i64) -> String {
    chrono::DateTime::from_timestamp_nanos(nanos)
        .format("%Y-%m-%dT%H:%M:%SZ")
        .to_string()
}

fn span_text(first: i64, last: i64) -> String {
    if second(first) == second(last) {
        second(first)
    } else {
        format!("{} .. {}", second(first), second(last))
    }
}

fn events(n: u64) -> String {
    format!("{n} event{}", if n == 1 { "" } else { "s" })
}

impl TimeSummary {
    /// The summary of a profile, with what the rules ran over.
    pub fn new(profile: &TimeProfile, mode: String) -> TimeSummary {
        let mut spans = Vec::new();
        if profile.events == 0 {
            spans.push("evidence: no timed events".to_string());
        } else {
            spans.push(format!(
                "evidence: {} with a time{}; per host:",
                events(profile.events),
                profile
                    .bulk
                    .map_or_else(String::new, |(f, l)| format!(", bulk {}", span_text(f, l)))
            ));
            let width = profile
                .hosts
                .iter()
                .map(|h| h.host.chars().count().max(9))
                .max()
                .unwrap_or(9)
                .min(40);
            for h in &profile.hosts {
                let name = if h.host.is_empty() {
                    "(no host)"
                } else {
                    h.host.as_str()
                };
                let span = h
                    .span
                    .map_or_else(|| "only outliers".to_string(), |(f, l)| span_text(f, l));
                let outliers = if h.outliers > 0 {
                    format!(", {} outliers", h.outliers)
                } else {
                    String::new()
                };
                spans.push(format!("  {name:<width$}  {span}  ({}{outliers})", events(h.events)));
            }
        }
        let mut outliers = Vec::new();
        if !profile.outliers.is_empty() {
            outliers.push(format!(
                "{} far outside the bulk of the evidence (outliers: they do not set the anchor):",
                events(profile.outlier_events())
            ));
            for o in &profile.outliers {
                let host = if o.host.is_empty() {
                    "(no host)"
                } else {
                    o.host.as_str()
                };
                outliers.push(format!(
                    "  {} {} on {host}, {}: {}",
                    events(o.count),
                    o.kind.describe(),
                    o.table,
                    span_text(o.first, o.last)
                ));
            }
        }
        TimeSummary { mode, spans, outliers }
    }
}

/// What the rules ran over, for the summary.
pub fn describe_mode(mode: TimeMode, lookback: Option<&str>, replay: Option<&[RuleReplay]>) -> String {
    match mode {
        TimeMode::Window(Window::All) => "all evidence".into(),
        TimeMode::Window(Window::RulePeriod) => "each rule over its queryPeriod before the anchor".into(),
        TimeMode::Window(Window::Fixed(_)) => {
            format!(
                "every rule over {} before the anchor",
                lookback.unwrap_or("the lookback")
            )
        }
        TimeMode::Replay => {
            let r = replay.unwrap_or_default();
            let scheduled: Vec<&RuleReplay> = r.iter().filter(|x| x.schedule.is_some()).collect();
            let sum = |f: fn(&RuleReplay) -> usize| scheduled.iter().map(|x| f(x)).sum::<usize>();
            format!(
                "replay of {} scheduled rules: {} of {} runs executed ({} with empty and {} with unchanged windows skipped), {} unscheduled rules once over all evidence",
                scheduled.len(),
                sum(|x| x.executed),
                sum(|x| x.scheduled),
                sum(|x| x.skipped_empty),
                sum(|x| x.skipped_unchanged),
                r.len() - scheduled.len()
            )
        }
    }
}

/// Where and how `hunt` writes its alerts; the files are opened before the evidence is read.
pub struct Destination {
    pub format: Option<AlertFormat>,
    pub output: Option<OutFile>,
    /// `--report FILE`: the summary object.
    pub report: Option<OutFile>,
    pub show_suppressed: bool,
    /// `--report` ends in `.html`/`.htm`: the HTML case report instead, with what it needs
    /// beyond the summary ([`Destination::report_context`]).
    pub html: Option<crate::report_html::Context>,
}

impl Destination {
    /// Opens `-o` and `--report` (temporary files beside them, renamed at the end).
    pub fn open(
        format: Option<AlertFormat>,
        output: Option<&PathBuf>,
        report: Option<&PathBuf>,
        show_suppressed: bool,
    ) -> Result<Destination, String> {
        Ok(Destination {
            format,
            output: output.map(|p| OutFile::create(p, "-o")).transpose()?,
            report: report.map(|p| OutFile::create(p, "--report")).transpose()?,
            show_suppressed,
            html: report
                .filter(|p| crate::report_html::is_html_path(p))
                .map(|_| crate::report_html::Context::default()),
        })
    }

    /// Keeps the time profile and the rules for the HTML report (nothing without one).
    pub fn report_context(&mut self, profile: &TimeProfile, rules: &[detect::Rule]) {
        if let Some(html) = self.html.as_mut() {
            html.profile = profile.clone();
            html.rules = rules.to_vec();
        }
    }

    /// The format asked for, else table on a terminal and JSON lines otherwise (and with `-o`).
    pub fn format(&self) -> AlertFormat {
        self.format
            .unwrap_or(if self.output.is_none() && io::stdout().is_terminal() {
                AlertFormat::Table
            } else {
                AlertFormat::Jsonl
            })
    }
}

/// Writes the alerts (machine formats add the suppressed ones with `--show-suppressed` and count
/// suppressions per reason on stderr), then the summary, and returns `hunt`'s exit code
/// ([`crate::exit`]). A closed stdout (`| head`) ends quietly with 0.
pub fn emit(
    mut dest: Destination,
    alerts: &[Alert],
    suppressed: &[Alert],
    summary: &RunSummary<'_>,
) -> Result<ExitCode, String> {
    let format = dest.format();
    let show = dest.show_suppressed;
    let written = match dest.output.as_mut() {
        Some(f) => write_alerts(f.file(), format, show, alerts, suppressed, summary),
        None => write_alerts(&mut io::stdout().lock(), format, show, alerts, suppressed, summary),
    };
    match written {
        Ok(()) => {}
        Err(e) if dest.output.is_none() && crate::exit::is_closed_pipe(&e) => return Ok(ExitCode::SUCCESS),
        Err(e) => return Err(format!("writing alerts: {e}")),
    }
    if let Some(f) = dest.output.take() {
        f.commit()?;
    }
    let status = summary.status(alerts);
    let json = summary.json(alerts, suppressed);
    if let Some(mut f) = dest.report.take() {
        if let Some(html) = dest.html.take() {
            let tools = detect::catalog::builtin();
            let page = crate::report_html::render(&crate::report_html::ReportInput {
                summary: &json,
                alerts,
                suppressed,
                profile: &html.profile,
                rules: &html.rules,
                tools: &tools,
            });
            f.file()
                .write_all(page.as_bytes())
                .map_err(|e| format!("--report: {e}"))?;
        } else {
            serde_json::to_writer_pretty(&mut *f.file(), &json).map_err(|e| format!("--report: {e}"))?;
            f.file().write_all(b"\n").map_err(|e| format!("--report: {e}"))?;
        }
        f.commit()?;
    }
    if format != AlertFormat::Table {
        for (reason, n) in suppression_reasons(suppressed) {
            eprintln!("hunt: suppressed {n}: {reason}");
        }
        for line in &summary.time.spans {
            eprintln!("hunt: {line}");
        }
        for line in &summary.time.outliers {
            eprintln!("warning: {line}");
        }
    }
    for line in summary_warnings(alerts, suppressed, summary) {
        eprintln!("warning: {line}");
    }
    if format != AlertFormat::Table {
        eprintln!("{json}");
    }
    Ok(status.exit_code())
}

/// What the end of a run must say loudly: evidence not read, rules that failed, approvals that
/// hide nearly everything.
fn summary_warnings(alerts: &[Alert], suppressed: &[Alert], summary: &RunSummary<'_>) -> Vec<String> {
    let mut out = Vec::new();
    let ev = summary.evidence;
    if !ev.is_complete() {
        out.push(format!(
            "evidence incomplete: {} ({})",
            crate::evidence::totals_line(ev),
            if summary.allow_partial {
                "--allow-partial: exit status as if complete"
            } else {
                "exit status 3; --allow-partial accepts it"
            }
        ));
    }
    for (reason, n) in detect::hunt::dominant_suppressions(alerts.len(), suppressed) {
        out.push(format!(
            "tuning `{reason}` suppressed {n} of {} alerts: check it is not wider than meant",
            alerts.len() + suppressed.len()
        ));
    }
    out
}

/// The alerts in `format` (the terminal view includes the summary).
fn write_alerts(
    sink: &mut dyn Write,
    format: AlertFormat,
    show_suppressed: bool,
    alerts: &[Alert],
    suppressed: &[Alert],
    summary: &RunSummary<'_>,
) -> io::Result<()> {
    let mut out = io::BufWriter::new(sink);
    let listed: Vec<Alert>;
    let to_write: &[Alert] = if show_suppressed && format != AlertFormat::Table {
        listed = alerts.iter().chain(suppressed).cloned().collect();
        &listed
    } else {
        alerts
    };
    match format {
        AlertFormat::Table => write_table(&mut out, alerts, suppressed, show_suppressed, summary),
        AlertFormat::Jsonl => write_jsonl(&mut out, to_write),
        AlertFormat::Csv => write_csv(&mut out, to_write),
        AlertFormat::Timesketch => write_timesketch(&mut out, to_write),
    }?;
    out.flush()
}

/// Suppressed alerts counted per reason.
fn suppression_reasons(suppressed: &[Alert]) -> BTreeMap<&str, usize> {
    let mut reasons: BTreeMap<&str, usize> = BTreeMap::new();
    for s in suppressed {
        *reasons.entry(s.suppressed.as_deref().unwrap_or("?")).or_default() += 1;
    }
    reasons
}

fn clip(s: &str, n: usize) -> String {
    let s = s.replace(['\n', '\r', '\t'], " ");
    if s.chars().count() > n {
        format!("{}…", s.chars().take(n - 1).collect::<String>())
    } else {
        s
    }
}

/// The logs an alert's event was read from, after its detail: `  [Sysmon/1 + Security/4688]`.
fn sources_note(a: &Alert) -> String {
    if a.sources.is_empty() {
        String::new()
    } else {
        format!("  [{}]", a.sources.join(" + "))
    }
}

/// `--replay`: the run that raised the alert, as a column after its time (`run 2026-03-02T13:00`).
fn replay_note(a: &Alert) -> String {
    a.replay_run.map_or_else(String::new, |r| {
        let t = second(r);
        format!("run {}  ", t.get(..16).unwrap_or(&t))
    })
}

/// The terminal view: summary, then alerts per host and tool, then suppressions.
pub fn write_table(
    out: &mut impl Write,
    alerts: &[Alert],
    suppressed: &[Alert],
    show_suppressed: bool,
    summary: &RunSummary<'_>,
) -> io::Result<()> {
    let mut hosts: BTreeMap<&str, BTreeMap<&str, Vec<&Alert>>> = BTreeMap::new();
    for a in alerts {
        let tool = if a.events.is_some() {
            "(several tools: correlation)"
        } else {
            a.tool.as_deref().unwrap_or("(unknown tool)")
        };
        hosts
            .entry(a.device.as_deref().unwrap_or("(no device)"))
            .or_default()
            .entry(tool)
            .or_default()
            .push(a);
    }
    let mut tools: BTreeMap<String, usize> = BTreeMap::new();
    let mut severities: BTreeMap<detect::Severity, usize> = BTreeMap::new();
    for a in alerts {
        if a.events.is_none()
            && let Some(t) = &a.tool
        {
            *tools.entry(t.clone()).or_default() += 1;
        }
        *severities.entry(a.severity).or_default() += 1;
    }
    let reasons = suppression_reasons(suppressed);
    writeln!(out, "ratcatcher hunt — T1219 remote access tools")?;
    writeln!(
        out,
        "anchor {} ({}), {} rules{}",
        summary.anchor,
        summary.anchor_source,
        summary.rules_run,
        if summary.failures.is_empty() {
            String::new()
        } else {
            format!(" ({} FAILED, see stderr)", summary.failures.len())
        },
    )?;
    writeln!(out, "{}", crate::evidence::totals_line(summary.evidence))?;
    for u in summary.evidence.unread_evidence().take(10) {
        writeln!(
            out,
            "warning: {}: not read ({}): {}",
            u.path.display(),
            u.kind.name(),
            u.reason
        )?;
    }
    for f in summary.evidence.partial_files().take(10) {
        writeln!(
            out,
            "warning: {} of {}: {} records skipped",
            f.format,
            f.path.display(),
            f.skipped
        )?;
    }
    writeln!(out, "time: {}", summary.time.mode)?;
    for line in &summary.time.spans {
        writeln!(out, "{line}")?;
    }
    for line in &summary.time.outliers {
        writeln!(out, "warning: {line}")?;
    }
    writeln!(out)?;
    writeln!(
        out,
        "{} alerts on {} hosts, {} tools",
        alerts.len(),
        hosts.len(),
        tools.len()
    )?;
    if !severities.is_empty() {
        let sev: Vec<String> = severities
            .iter()
            .rev()
            .map(|(s, n)| format!("{n} {}", s.name()))
            .collect();
        writeln!(out, "  severity: {}", sev.join(", "))?;
    }
    if !tools.is_empty() {
        let t: Vec<String> = tools.iter().map(|(t, n)| format!("{t} ({n})")).collect();
        writeln!(out, "  tools:    {}", t.join(", "))?;
    }
    if !suppressed.is_empty() {
        writeln!(out, "  suppressed by tuning: {}", suppressed.len())?;
        for (r, n) in &reasons {
            writeln!(out, "    {n:>4}  {r}")?;
        }
    }
    for (host, by_tool) in &hosts {
        let n: usize = by_tool.values().map(Vec::len).sum();
        let max = by_tool.values().flatten().map(|a| a.severity).max();
        writeln!(out)?;
        writeln!(
            out,
            "== {host}  ({n} alerts, highest {})",
            max.map_or("-", detect::Severity::name)
        )?;
        for (tool, list) in by_tool {
            let cat = list.iter().find_map(|a| a.category.as_deref()).unwrap_or("");
            writeln!(
                out,
                "  -- {tool}{}",
                if cat.is_empty() {
                    String::new()
                } else {
                    format!("  [{cat}]")
                }
            )?;
            for a in list {
                writeln!(
                    out,
                    "     {:<19}  {}{:<13}  {:<30}  {:<11}  {}{}",
                    a.time.as_deref().map_or("-", |t| t.get(..19).unwrap_or(t)),
                    replay_note(a),
                    a.rule.severity,
                    clip(&a.rule.id, 30),
                    a.signal.as_deref().unwrap_or("-"),
                    clip(&a.detail(), 90),
                    sources_note(a)
                )?;
            }
        }
    }
    if show_suppressed && !suppressed.is_empty() {
        writeln!(out)?;
        writeln!(out, "== suppressed")?;
        for a in suppressed {
            writeln!(
                out,
                "     {:<19}  {:<14}  {:<30}  {:<14}  {}",
                a.time.as_deref().map_or("-", |t| t.get(..19).unwrap_or(t)),
                clip(a.device.as_deref().unwrap_or("-"), 14),
                clip(&a.rule.id, 30),
                clip(a.tool.as_deref().unwrap_or("-"), 14),
                a.suppressed.as_deref().unwrap_or("")
            )?;
        }
    }
    if !alerts.is_empty() {
        writeln!(out)?;
        writeln!(
            out,
            "next: `ratcatcher explain RULE` for a rule's investigation guide and playbook"
        )?;
    }
    Ok(())
}

/// One JSON object per alert.
pub fn write_jsonl(out: &mut impl Write, alerts: &[Alert]) -> io::Result<()> {
    for a in alerts {
        serde_json::to_writer(&mut *out, a)?;
        out.write_all(b"\n")?;
    }
    Ok(())
}

const CSV_HEADER: &[&str] = &[
    "time",
    "severity",
    "rule_id",
    "rule_name",
    "device",
    "account",
    "tool",
    "category",
    "signal",
    "techniques",
    "detail",
    "suppressed",
    "row",
    "replay_run",
];

/// CSV with a header: the alert fields, a detail, and the row as JSON.
pub fn write_csv(out: &mut impl Write, alerts: &[Alert]) -> io::Result<()> {
    let mut w = csv::Writer::from_writer(out);
    w.write_record(CSV_HEADER).map_err(io::Error::other)?;
    for a in alerts {
        let row = serde_json::to_string(&a.row)?;
        w.write_record([
            a.time.as_deref().unwrap_or(""),
            a.rule.severity,
            &a.rule.id,
            &a.rule.name,
            a.device.as_deref().unwrap_or(""),
            a.account.as_deref().unwrap_or(""),
            a.tool.as_deref().unwrap_or(""),
            a.category.as_deref().unwrap_or(""),
            a.signal.as_deref().unwrap_or(""),
            &a.rule.techniques.join(";"),
            &a.detail(),
            a.suppressed.as_deref().unwrap_or(""),
            &row,
            &a.replay_run.map(detect::alert::iso).unwrap_or_default(),
        ])
        .map_err(io::Error::other)?;
    }
    w.flush()
}

/// Timesketch JSONL: `message`, `datetime`, `timestamp_desc` plus the alert fields flat.
pub fn write_timesketch(out: &mut impl Write, alerts: &[Alert]) -> io::Result<()> {
    for a in alerts {
        let mut m = serde_json::Map::new();
        let message = format!(
            "[{}] {} on {}: {}",
            a.rule.severity,
            a.rule.name,
            a.device.as_deref().unwrap_or("?"),
            a.detail()
        );
        m.insert("message".into(), message.into());
        m.insert("datetime".into(), a.time.clone().unwrap_or_default().into());
        m.insert("timestamp_desc".into(), "Event Time".into());
        if let Some(n) = a.time_nanos {
            m.insert("timestamp".into(), (n / 1000).into());
        }
        m.insert("rule_id".into(), a.rule.id.clone().into());
        m.insert("rule_name".into(), a.rule.name.clone().into());
        m.insert("severity".into(), a.rule.severity.into());
        m.insert("techniques".into(), a.rule.techniques.join(",").into());
        if let Some(r) = a.replay_run {
            m.insert("replay_run".into(), detect::alert::iso(r).into());
        }
        for (k, v) in [
            ("device", &a.device),
            ("account", &a.account),
            ("tool", &a.tool),
            ("category", &a.category),
            ("signal", &a.signal),
        ] {
            if let Some(v) = v {
                m.insert(k.into(), v.clone().into());
            }
        }
        let mut tags = vec!["ratcatcher".to_string(), "T1219".to_string()];
        tags.extend(a.signal.iter().cloned());
        m.insert("tag".into(), tags.into());
        m.insert("row".into(), serde_json::to_value(&a.row)?);
        serde_json::to_writer(&mut *out, &serde_json::Value::Object(m))?;
        out.write_all(b"\n")?;
    }
    Ok(())
}
