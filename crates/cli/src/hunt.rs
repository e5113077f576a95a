//! `ratcatcher hunt`: runs the detection pack (or given rules) over evidence, applies tuning and
//! writes the alerts (terminal view, JSON lines, CSV, Timesketch).

use crate::alerts_out::{self, AlertFormat, RunSummary};
use crate::evidence;
use crate::query::{engine_options, parse_span};
use detect::hunt::{self, Window};
use detect::{Alert, Rule, Severity, Tool, Tuning};
use engine::Engine;

use std::path::{Path, PathBuf};
use std::process::ExitCode;

/// `ratcatcher hunt` arguments.
#[derive(clap::Args)]
pub struct HuntArgs {
    /// Evidence files, folders or globs, or one folder written by `ingest`.
    #[arg(required = true)]
    pub inputs: Vec<String>,
    /// Rules to run instead of the built-in pack: Sentinel rule YAML or .kql files, or folders.
    #[arg(long)]
    pub rules: Vec<PathBuf>,
    /// Tuning file (approved tools, hosts, accounts, signers, business hours): see docs/tuning.md.
    #[arg(long, short)]
    pub config: Option<PathBuf>,
    /// Anchor for rule windows and ago() (RFC 3339); default: the newest event in the evidence.
    #[arg(long)]
    pub now: Option<String>,
    /// Run every rule over this window before the anchor instead of its own queryPeriod (e.g. 30d).
    #[arg(long)]
    pub lookback: Option<String>,
    /// Run every rule over all the evidence (no time window).
    #[arg(long)]
    pub all_time: bool,
    /// Output format (default: table on a terminal, jsonl otherwise).
    #[arg(long, value_enum)]
    pub format: Option<AlertFormat>,
    /// Write alerts to this file instead of stdout.
    #[arg(long, short)]
    pub output: Option<PathBuf>,
    /// Also list the alerts tuning suppressed (with their reason).
    #[arg(long)]
    pub show_suppressed: bool,
    /// Only alerts of at least this severity (informational, low, medium, high).
    #[arg(long)]
    pub min_severity: Option<String>,
    /// Memory limit for running the rules (e.g. 2G).
    #[arg(long)]
    pub memory_limit: Option<String>,
    /// Sigma rules (files or folders) to run; without --rules only Sigma runs (see docs/sigma.md).
    #[arg(long, num_args = 1.., value_name = "PATH")]
    pub sigma: Vec<PathBuf>,
    /// Sigma: only rules of at least this level (informational, low, medium, high, critical).
    #[arg(long)]
    pub min_level: Option<String>,
    /// Sigma: rule statuses to run, comma-separated or repeated (stable, test, experimental,
    /// deprecated, unsupported, all); default stable,test,experimental.
    #[arg(long)]
    pub status: Vec<String>,
}

impl HuntArgs {
    /// `--min-severity`, parsed.
    pub fn min_severity(&self) -> Result<Option<Severity>, String> {
        self.min_severity
            .as_deref()
            .map(|s| {
                Severity::parse(s)
                    .ok_or_else(|| format!("--min-severity: `{s}` is not informational, low, medium or high"))
            })
            .transpose()
    }

    /// The rules' time window from `--lookback` / `--all-time` (each rule's own period by default).
    pub fn window(&self) -> Result<Window, String> {
        Ok(match (&self.lookback, self.all_time) {
            (Some(_), true) => return Err("give --lookback or --all-time, not both".into()),
            (Some(l), false) => Window::Fixed(parse_span(l).map_err(|e| format!("--lookback: {e}"))?),
            (None, true) => Window::All,
            (None, false) => Window::RulePeriod,
        })
    }
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
    let min_severity = args.min_severity()?;
    let window = args.window()?;
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
    let dest = alerts_out::Destination {
        format: args.format,
        output: args.output.as_ref(),
        show_suppressed: args.show_suppressed,
    };
    let anchor = iso(outcome.anchor);
    eprintln!(
        "hunt: anchor {anchor} ({}); {} rules, {} alerts, {} suppressed",
        outcome.anchor_source,
        outcome.runs.len(),
        alerts.len(),
        suppressed.len()
    );
    alerts_out::emit(
        &dest,
        &alerts,
        &suppressed,
        &RunSummary {
            anchor,
            anchor_source: outcome.anchor_source,
            rules_run: outcome.runs.len(),
            rules_failed: failed.len(),
            records: loaded.records,
        },
    )
}
