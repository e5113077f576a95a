//! `ratcatcher hunt`: runs the detection pack (or given rules) over evidence, applies tuning and
//! writes the alerts (terminal view, JSON lines, CSV, Timesketch).

use crate::alerts_out::{self, AlertFormat, RunSummary};
use crate::evidence;
use crate::query::{engine_options, parse_span};
use detect::hunt::{self, Window};
use detect::{Alert, Rule, Severity, Tool, Tuning};
use engine::Engine;
use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

pub struct HuntArgs {
    pub inputs: Vec<String>,
    pub rules: Vec<PathBuf>,
    pub config: Option<PathBuf>,
    pub now: Option<String>,
    pub lookback: Option<String>,
    pub all_time: bool,
    pub format: Option<AlertFormat>,
    pub output: Option<PathBuf>,
    pub show_suppressed: bool,
    pub min_severity: Option<String>,
    pub memory_limit: Option<String>,
    /// Sigma rules (`--sigma`), with `--min-level` and `--status`: see `sigma_hunt`.
    pub sigma: Vec<PathBuf>,
    pub min_level: Option<String>,
    pub status: Vec<String>,
}

/// The rules to run: `--rules` paths, else the built-in pack; errors are fatal (a broken pack
/// must not silently shrink).
pub fn load_rules(paths: &[PathBuf]) -> Result<Vec<Rule>, String> {
    let (rules, errors) = if paths.is_empty() {
        detect::rule::builtin_pack()
    } else {
        detect::rule::load_paths(paths)
    };
    if let Some(e) = errors.first() {
        let more = if errors.len() > 1 {
            format!(" (and {} more)", errors.len() - 1)
        } else {
            String::new()
        };
        return Err(format!("rule {e}{more}"));
    }
    let dups = detect::rule::duplicate_ids(&rules);
    if !dups.is_empty() {
        return Err(format!("rule ids used twice: {}", dups.join(", ")));
    }
    if rules.is_empty() {
        return Err("no rules found".into());
    }
    Ok(rules)
}

/// Reads a tuning file.
pub fn load_tuning(path: &Path, tools: &[Tool]) -> Result<Tuning, String> {
    let text = std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
    Tuning::parse(&text, tools).map_err(|e| format!("{}: {e}", path.display()))
}

/// Formats nanoseconds since the epoch as ISO 8601 UTC.
pub fn iso(nanos: i64) -> String {
    chrono::DateTime::from_timestamp_nanos(nanos).to_rfc3339_opts(chrono::SecondsFormat::AutoSi, true)
}

/// The result of running rules over loaded evidence.
pub struct Outcome {
    pub alerts: Vec<Alert>,
    pub suppressed: Vec<Alert>,
    pub runs: Vec<hunt::RuleRun>,
    pub anchor: i64,
    pub anchor_source: &'static str,
}

/// Runs rules over an engine holding evidence: anchor, catalog tables, rules, tuning.
pub async fn run_pack(
    engine: &mut Engine,
    rules: &[Rule],
    tuning: Option<&Tuning>,
    tools: &[Tool],
    now: Option<i64>,
    window: Window,
) -> Result<Outcome, String> {
    detect::catalog::register(engine, tools).map_err(|e| e.to_string())?;
    let (anchor, anchor_source) = match now {
        Some(n) => (n, "--now"),
        None => match hunt::newest_event(engine, &["RemoteAccessTools", "RemoteAccessToolIndicators"])
            .await
            .map_err(|e| format!("finding the newest event: {e}"))?
        {
            Some(n) => (n, "newest event in the evidence"),
            None => (engine.now(), "wall clock: the evidence has no timed events"),
        },
    };
    let disabled = tuning.map_or(&[][..], |t| t.disabled_rules());
    let active: Vec<Rule> = rules.iter().filter(|r| !disabled.contains(&r.id)).cloned().collect();
    let (alerts, runs) = hunt::run_rules(engine, &active, anchor, window).await;
    let (mut alerts, mut suppressed) = hunt::apply_tuning(alerts, tuning, tools);
    hunt::sort_alerts(&mut alerts);
    hunt::sort_alerts(&mut suppressed);
    Ok(Outcome {
        alerts,
        suppressed,
        runs,
        anchor,
        anchor_source,
    })
}

pub async fn run(args: HuntArgs) -> ExitCode {
    match run_inner(args).await {
        Ok(code) => code,
        Err(msg) => {
            eprintln!("error: {msg}");
            ExitCode::from(2)
        }
    }
}

async fn run_inner(args: HuntArgs) -> Result<ExitCode, String> {
    if !args.sigma.is_empty() {
        return crate::sigma_hunt::run(args).await;
    }
    if args.inputs.is_empty() {
        return Err("no evidence given: name files, folders, globs or an ingested dataset".into());
    }
    let rules = load_rules(&args.rules)?;
    let tools = detect::catalog::builtin();
    let tuning = args.config.as_deref().map(|p| load_tuning(p, &tools)).transpose()?;
    let min_severity = args
        .min_severity
        .as_deref()
        .map(|s| {
            Severity::parse(s).ok_or_else(|| format!("--min-severity: `{s}` is not informational, low, medium or high"))
        })
        .transpose()?;
    let window = match (&args.lookback, args.all_time) {
        (Some(_), true) => return Err("give --lookback or --all-time, not both".into()),
        (Some(l), false) => Window::Fixed(parse_span(l).map_err(|e| format!("--lookback: {e}"))?),
        (None, true) => Window::All,
        (None, false) => Window::RulePeriod,
    };
    let options = engine_options(args.now.as_deref(), None, args.memory_limit.as_deref())?;
    let now = options.now;
    let mut engine = Engine::new(options).map_err(|e| e.to_string())?;
    let loaded = evidence::load_evidence(&mut engine, &args.inputs).await?;
    let outcome = run_pack(&mut engine, &rules, tuning.as_ref(), &tools, now, window).await?;
    let failed: Vec<&hunt::RuleRun> = outcome.runs.iter().filter(|r| r.error.is_some()).collect();
    for r in &failed {
        let rule = rules.iter().find(|x| x.id == r.rule_id);
        let err = r.error.as_ref().expect("filtered on errors");
        eprintln!(
            "error: rule {} ({}): {}",
            r.rule_id,
            rule.map_or_else(String::new, |x| x.origin.display().to_string()),
            rule.map_or_else(|| err.message.clone(), |x| err.describe(&x.query))
        );
    }
    let (mut alerts, mut suppressed) = (outcome.alerts, outcome.suppressed);
    if let Some(min) = min_severity {
        alerts.retain(|a| a.severity >= min);
        suppressed.retain(|a| a.severity >= min);
    }
    let format = args
        .format
        .unwrap_or(if args.output.is_none() && std::io::stdout().is_terminal() {
            AlertFormat::Table
        } else {
            AlertFormat::Jsonl
        });
    let anchor = iso(outcome.anchor);
    eprintln!(
        "hunt: anchor {anchor} ({}); {} rules, {} alerts, {} suppressed",
        outcome.anchor_source,
        outcome.runs.len(),
        alerts.len(),
        suppressed.len()
    );
    let mut sink: Box<dyn Write> = match &args.output {
        Some(p) => Box::new(std::fs::File::create(p).map_err(|e| format!("{}: {e}", p.display()))?),
        None => Box::new(std::io::stdout().lock()),
    };
    let mut out = std::io::BufWriter::new(&mut sink);
    let io = |e: std::io::Error| format!("writing alerts: {e}");
    let listed: Vec<Alert>;
    let to_write: &[Alert] = if args.show_suppressed && format != AlertFormat::Table {
        listed = alerts.iter().chain(&suppressed).cloned().collect();
        &listed
    } else {
        &alerts
    };
    match format {
        AlertFormat::Table => alerts_out::write_table(
            &mut out,
            &alerts,
            &suppressed,
            args.show_suppressed,
            &RunSummary {
                anchor,
                anchor_source: outcome.anchor_source,
                rules_run: outcome.runs.len(),
                rules_failed: failed.len(),
                records: loaded.records,
            },
        ),
        AlertFormat::Jsonl => alerts_out::write_jsonl(&mut out, to_write),
        AlertFormat::Csv => alerts_out::write_csv(&mut out, to_write),
        AlertFormat::Timesketch => alerts_out::write_timesketch(&mut out, to_write),
    }
    .map_err(io)?;
    out.flush().map_err(io)?;
    if format != AlertFormat::Table && !suppressed.is_empty() {
        let mut reasons: std::collections::BTreeMap<&str, usize> = std::collections::BTreeMap::new();
        for s in &suppressed {
            *reasons.entry(s.suppressed.as_deref().unwrap_or("?")).or_default() += 1;
        }
        for (r, n) in reasons {
            eprintln!("hunt: suppressed {n}: {r}");
        }
    }
    Ok(if !failed.is_empty() {
        ExitCode::from(2)
    } else if alerts.is_empty() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}
