//! Alert output for `hunt`: the terminal view (summary, then alerts grouped per host and tool),
//! JSON lines, CSV, and Timesketch JSONL.

use crate::output::OutFile;
use crate::term;
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

/// `--min-severity`: a severity name, or `critical`, which Sentinel's scale (informational to
/// high) does not have: it means high and above, as Sigma's `critical` is reported as high.
pub fn parse_min_severity(text: &str) -> Result<detect::Severity, String> {
    if text.trim().eq_ignore_ascii_case("critical") {
        return Ok(detect::Severity::High);
    }
    detect::Severity::parse(text)
        .ok_or_else(|| format!("--min-severity: `{text}` is not informational, low, medium, high or critical"))
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
    // Files keep the plain, full-width view; stdout's follows the terminal.
    let written = match dest.output.as_mut() {
        Some(f) => write_alerts(f.file(), format, View::default(), show, alerts, suppressed, summary),
        None => {
            let view = View::stdout();
            write_alerts(
                &mut io::stdout().lock(),
                format,
                view,
                show,
                alerts,
                suppressed,
                summary,
            )
        }
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
    view: View,
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
        AlertFormat::Table => write_table(&mut out, view, alerts, suppressed, show_suppressed, summary),
        AlertFormat::Jsonl => write_jsonl(&mut out, to_write),
        AlertFormat::Csv => write_csv(&mut out, to_write),
        AlertFormat::Timesketch => {
            let anchor = chrono::DateTime::parse_from_rfc3339(&summary.anchor)
                .ok()
                .and_then(|t| t.timestamp_nanos_opt());
            write_timesketch(&mut out, to_write, anchor)
        }
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

/// How the terminal view is drawn: in colour or not, and the width its alert rows are fitted to
/// (`None`: full rows, the exact form files and pipes get).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct View {
    pub color: bool,
    pub width: Option<usize>,
}

impl View {
    /// The view for stdout: colour and width as [`term`] decides.
    pub fn stdout() -> View {
        View {
            color: term::color(term::Stream::Stdout),
            width: term::stdout_width(),
        }
    }
}

/// A host's place in the listing: ignoring case, then as written (a stable order for hosts that
/// differ only in case).
fn host_key(host: &str) -> (String, &str) {
    (host.to_lowercase(), host)
}

/// Below this many columns left for an alert's detail, the detail goes on a line of its own.
const MIN_DETAIL: usize = 24;
/// The indentation of an alert's detail on a line of its own.
const DETAIL_INDENT: &str = "       ";

/// An alert's detail and sources fitted to `room` characters: the detail is cut (`…`) before the
/// sources are.
fn fit_detail(detail: &str, sources: &str, room: usize) -> String {
    let (d, n) = (detail.chars().count(), sources.chars().count());
    if d + n <= room {
        format!("{detail}{sources}")
    } else if room >= n + 12 {
        format!("{}{sources}", term::elide(detail, room - n))
    } else {
        term::elide(&format!("{detail}{sources}"), room)
    }
}

/// The terminal view: summary, then alerts per host (ignoring case) and tool, then suppressions.
pub fn write_table(
    out: &mut impl Write,
    view: View,
    alerts: &[Alert],
    suppressed: &[Alert],
    show_suppressed: bool,
    summary: &RunSummary<'_>,
) -> io::Result<()> {
    let paint_sev = |text: &str| term::severity(text, view.color);
    let mut hosts: BTreeMap<(String, &str), BTreeMap<&str, Vec<&Alert>>> = BTreeMap::new();
    for a in alerts {
        let tool = if a.events.is_some() {
            "(several tools: correlation)"
        } else {
            a.tool.as_deref().unwrap_or("(unknown tool)")
        };
        hosts
            .entry(host_key(a.device.as_deref().unwrap_or("(no device)")))
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
    writeln!(
        out,
        "{}",
        term::bold("ratcatcher hunt — T1219 remote access tools", view.color)
    )?;
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
            .map(|(s, n)| format!("{n} {}", paint_sev(s.name())))
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
    // Fitted rows: the columns as wide as their widest cell (full rows: fixed widths).
    let (sev_w, rule_w, signal_w) = match view.width {
        None => (13, 30, 11),
        Some(_) => {
            let widest = |f: &dyn Fn(&Alert) -> usize| alerts.iter().map(f).max().unwrap_or(1);
            (
                widest(&|a| a.rule.severity.chars().count()),
                widest(&|a| a.rule.id.chars().count()).min(30),
                widest(&|a| a.signal.as_deref().map_or(1, |s| s.chars().count())),
            )
        }
    };
    for ((_, host), by_tool) in &hosts {
        let n: usize = by_tool.values().map(Vec::len).sum();
        let max = by_tool.values().flatten().map(|a| a.severity).max();
        writeln!(out)?;
        writeln!(
            out,
            "{}  ({n} alerts, highest {})",
            term::bold(&format!("== {host}"), view.color),
            paint_sev(max.map_or("-", detect::Severity::name))
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
                let prefix = format!(
                    "     {:<19}  {}",
                    a.time.as_deref().map_or("-", |t| t.get(..19).unwrap_or(t)),
                    replay_note(a)
                );
                let rest = format!(
                    "  {:<rule_w$}  {:<signal_w$}  ",
                    clip(&a.rule.id, 30),
                    a.signal.as_deref().unwrap_or("-")
                );
                let severity = format!("{:<sev_w$}", a.rule.severity);
                let (detail, sources) = (clip(&a.detail(), 90), sources_note(a));
                let used = prefix.chars().count() + severity.chars().count() + rest.chars().count();
                let line = match view.width {
                    None => format!("{detail}{sources}"),
                    Some(w) if w >= used + MIN_DETAIL => fit_detail(&detail, &sources, w - used),
                    Some(w) => {
                        // Too narrow for the detail beside the columns: it goes below them.
                        let room = w.saturating_sub(DETAIL_INDENT.len()).max(1);
                        let head = format!("{prefix}{}{}", paint_sev(&severity), rest.trim_end());
                        writeln!(out, "{head}")?;
                        writeln!(out, "{DETAIL_INDENT}{}", fit_detail(&detail, &sources, room))?;
                        continue;
                    }
                };
                writeln!(out, "{prefix}{}{rest}{line}", paint_sev(&severity))?;
            }
        }
    }
    if show_suppressed && !suppressed.is_empty() {
        writeln!(out)?;
        writeln!(out, "== suppressed")?;
        for a in suppressed {
            let line = format!(
                "     {:<19}  {:<14}  {:<30}  {:<14}  {}",
                a.time.as_deref().map_or("-", |t| t.get(..19).unwrap_or(t)),
                clip(a.device.as_deref().unwrap_or("-"), 14),
                clip(&a.rule.id, 30),
                clip(a.tool.as_deref().unwrap_or("-"), 14),
                a.suppressed.as_deref().unwrap_or("")
            );
            match view.width {
                Some(w) => writeln!(out, "{}", term::elide(&line, w))?,
                None => writeln!(out, "{line}")?,
            }
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

/// An instant as Timesketch's `datetime`: RFC 3339 UTC with exactly six fractional digits
/// (microseconds, the precision of its `timestamp`) and `Z`.
fn timesketch_datetime(micros: i64) -> String {
    chrono::DateTime::from_timestamp_micros(micros)
        .unwrap_or_default()
        .format("%Y-%m-%dT%H:%M:%S%.6fZ")
        .to_string()
}

/// Timesketch JSONL: `message`, `datetime`, `timestamp` (microseconds), `timestamp_desc` plus the
/// alert fields flat. `datetime` is never empty: an alert without a time of its own has its first
/// event's, its replay run's, or the run's `anchor` (then `timestamp_desc` says which).
pub fn write_timesketch(out: &mut impl Write, alerts: &[Alert], anchor: Option<i64>) -> io::Result<()> {
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
        // The epoch only when neither the alert nor the run has a time (an anchor that is not
        // RFC 3339: never with the commands' anchors).
        let (nanos, desc) = a.instant(anchor).unwrap_or((0, "Hunt Anchor Time"));
        let micros = nanos.div_euclid(1000);
        m.insert("datetime".into(), timesketch_datetime(micros).into());
        m.insert("timestamp".into(), micros.into());
        m.insert("timestamp_desc".into(), desc.into());
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
