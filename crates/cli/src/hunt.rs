//! `ratcatcher hunt`: runs the detection pack (or given rules) over evidence, applies tuning and
//! writes the alerts (terminal view, JSON lines, CSV, Timesketch).

use crate::alerts_out::{self, AlertFormat, RunSummary};
use crate::evidence;
use crate::query::{engine_options, positive_span};
use detect::hunt::{self, TimeMode, Window};
use detect::replay::RuleReplay;
use detect::timeline::TimeProfile;
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
    /// Sentinel's window semantics at this instant (RFC 3339): each rule over its own queryPeriod
    /// before it (rules without one: all evidence); also ago()/now(). Default: every rule over all
    /// the evidence, ago() at the newest event of the bulk of the evidence.
    #[arg(long)]
    pub now: Option<String>,
    /// Run every rule over this window before the anchor (--now, else the newest event of the
    /// bulk of the evidence), e.g. 30d.
    #[arg(long)]
    pub lookback: Option<String>,
    /// Run every rule over all the evidence: the default (with --now: ago() at --now, no windows).
    #[arg(long)]
    pub all_time: bool,
    /// Backtest: run each rule on its own queryFrequency/queryPeriod schedule across the evidence,
    /// as Sentinel would have; each alert once, with the run that first raised it (docs/alerts.md).
    #[arg(long)]
    pub replay: bool,
    /// Output format (default: table on a terminal, jsonl otherwise).
    #[arg(long, value_enum)]
    pub format: Option<AlertFormat>,
    /// Write alerts to this file instead of stdout (opened before the evidence is read; written
    /// to a temporary file beside it and renamed at the end).
    #[arg(long, short)]
    pub output: Option<PathBuf>,
    /// Also write the run's summary (evidence accounting, rules, alerts) as JSON to this file.
    #[arg(long, value_name = "FILE")]
    pub report: Option<PathBuf>,
    /// Exit as if the evidence were complete when some input or record could not be read
    /// (it is still reported); without it such a run ends with exit status 3.
    #[arg(long)]
    pub allow_partial: bool,
    /// Folders rules may read files from (`externaldata`), besides the evidence (repeatable).
    #[arg(long, value_name = "DIR")]
    pub allow_read: Vec<PathBuf>,
    /// Time limit for each rule (e.g. 10m); a rule that exceeds it is reported as failed and
    /// the others finish.
    #[arg(long, default_value = "10m")]
    pub rule_timeout: String,
    /// Also list the alerts tuning suppressed (with their reason).
    #[arg(long)]
    pub show_suppressed: bool,
    /// Only alerts of at least this severity: informational, low, medium, high or critical
    /// (Sentinel's scale ends at high, so critical keeps high-severity alerts, as high does).
    #[arg(long, value_name = "SEVERITY")]
    pub min_severity: Option<String>,
    /// Memory limit for running each rule (e.g. 2G; default: half the machine's memory):
    /// operators spill to disk where they can, a rule that still exceeds it fails alone.
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
    /// Opens `-o` and `--report` (before any evidence is read).
    pub fn destination(&self) -> Result<alerts_out::Destination, String> {
        alerts_out::Destination::open(
            self.format,
            self.output.as_ref(),
            self.report.as_ref(),
            self.show_suppressed,
        )
    }

    /// `--min-severity`, parsed.
    pub fn min_severity(&self) -> Result<Option<Severity>, String> {
        self.min_severity
            .as_deref()
            .map(alerts_out::parse_min_severity)
            .transpose()
    }

    /// How the rules treat time, from `--now`, `--lookback`, `--all-time` and `--replay`: all the
    /// evidence by default; `--now` alone gives each rule its queryPeriod before it.
    pub fn time_mode(&self) -> Result<TimeMode, String> {
        let lookback = self
            .lookback
            .as_deref()
            .map(|l| positive_span("--lookback", l))
            .transpose()?;
        if self.replay {
            for (given, flag) in [
                (self.now.is_some(), "--now"),
                (lookback.is_some(), "--lookback"),
                (self.all_time, "--all-time"),
            ] {
                if given {
                    return Err(format!(
                        "--replay runs each rule on its own schedule across the evidence: give it without {flag}"
                    ));
                }
            }
            return Ok(TimeMode::Replay);
        }
        Ok(TimeMode::Window(match (lookback, self.all_time) {
            (Some(_), true) => {
                return Err("give --lookback or --all-time, not both (all the evidence is the default)".into());
            }
            (Some(d), false) => Window::Fixed(d),
            (None, false) if self.now.is_some() => Window::RulePeriod,
            (None, _) => Window::All,
        }))
    }
}

/// The catalog tables the rules query: not evidence (no time profile, no replay bins).
pub const CATALOG_TABLES: &[&str] = &["RemoteAccessTools", "RemoteAccessToolIndicators"];

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

/// Rules or rule files that failed (id or file, why), for the summary.
pub type Failures = Vec<(String, String)>;

/// The rules `hunt` runs, and the rule files that failed to load (file, why). The built-in pack
/// must load whole; with `--rules`, each file that fails (or repeats an id) is reported on
/// stderr as `error: rule FILE: reason` and the others run. No rule at all is fatal.
pub fn load_hunt_rules(paths: &[PathBuf]) -> Result<(Vec<Rule>, Failures), String> {
    if paths.is_empty() {
        return load_rules(paths).map(|rules| (rules, Vec::new()));
    }
    let (mut rules, mut errors) = detect::rule::load_paths(paths);
    errors.extend(detect::rule::drop_duplicate_ids(&mut rules));
    for e in &errors {
        eprintln!("error: rule {e}");
    }
    if rules.is_empty() {
        return Err(format!("no rules loaded ({} rule files failed)", errors.len()));
    }
    let failed = errors
        .iter()
        .map(|e| (e.path.display().to_string(), e.message.clone()))
        .collect();
    Ok((rules, failed))
}

/// Engine options of a hunt: `--now`, the memory and time limits, and the folders rules may
/// read (the evidence's and `--allow-read`).
pub fn hunt_engine_options(args: &HuntArgs) -> Result<engine::EngineOptions, String> {
    let mut options = engine_options(args.now.as_deref(), None, args.memory_limit.as_deref())?;
    options.query_timeout = Some(std::time::Duration::from_nanos(
        positive_span("--rule-timeout", &args.rule_timeout)?.unsigned_abs(),
    ));
    options.file_access = crate::query::file_access(&args.inputs, &args.allow_read)?;
    Ok(options)
}

/// Reads a tuning file.
pub fn load_tuning(path: &Path, tools: &[Tool]) -> Result<Tuning, String> {
    let text = std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
    Tuning::parse(&text, tools).map_err(|e| format!("{}: {e}", path.display()))
}

/// The result of running rules over loaded evidence.
pub struct Outcome {
    pub alerts: Vec<Alert>,
    pub suppressed: Vec<Alert>,
    pub runs: Vec<hunt::RuleRun>,
    pub anchor: i64,
    pub anchor_source: &'static str,
    /// When the evidence's events lie: per host, the bulk, the outliers.
    pub profile: TimeProfile,
    /// `--replay`: each rule's runs.
    pub replay: Option<Vec<RuleReplay>>,
}

/// Runs rules over an engine holding evidence: catalog tables, time profile and anchor, rules
/// (as `mode` says), tuning.
pub async fn run_pack(
    engine: &mut Engine,
    rules: &[Rule],
    tuning: Option<&Tuning>,
    tools: &[Tool],
    now: Option<i64>,
    mode: TimeMode,
) -> Result<Outcome, String> {
    detect::catalog::register(engine, tools).map_err(|e| e.to_string())?;
    let disabled = tuning.map_or(&[][..], |t| t.disabled_rules());
    let active: Vec<Rule> = rules.iter().filter(|r| !disabled.contains(&r.id)).cloned().collect();
    let run = hunt::hunt(engine, &active, now, mode, CATALOG_TABLES)
        .await
        .map_err(|e| format!("reading the evidence's times: {e}"))?;
    let (mut alerts, mut suppressed) = hunt::apply_tuning(run.alerts, tuning, tools);
    hunt::sort_alerts(&mut alerts);
    hunt::sort_alerts(&mut suppressed);
    Ok(Outcome {
        alerts,
        suppressed,
        runs: run.runs,
        anchor: run.anchor,
        anchor_source: run.anchor_source.describe(),
        profile: run.profile,
        replay: run.replay,
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
    let (rules, mut failures) = load_hunt_rules(&args.rules)?;
    let tools = detect::catalog::builtin();
    let tuning = args.config.as_deref().map(|p| load_tuning(p, &tools)).transpose()?;
    let min_severity = args.min_severity()?;
    let mode = args.time_mode()?;
    let options = hunt_engine_options(&args)?;
    let now = options.now;
    // Output files first: a path that cannot be written fails now, not after the hunt.
    let dest = args.destination()?;
    let mut engine = Engine::new(options).map_err(|e| e.to_string())?;
    let loaded = evidence::load_evidence(&mut engine, &args.inputs).await?;
    let outcome = run_pack(&mut engine, &rules, tuning.as_ref(), &tools, now, mode).await?;
    for r in outcome.runs.iter() {
        let Some(err) = &r.error else { continue };
        let rule = rules.iter().find(|x| x.id == r.rule_id);
        let why = rule.map_or_else(|| err.message.clone(), |x| err.describe(&x.query));
        eprintln!(
            "error: rule {} ({}): {why}",
            r.rule_id,
            rule.map_or_else(String::new, |x| x.origin.display().to_string()),
        );
        failures.push((r.rule_id.clone(), why));
    }
    let (mut alerts, mut suppressed) = (outcome.alerts, outcome.suppressed);
    if let Some(min) = min_severity {
        alerts.retain(|a| a.severity >= min);
        suppressed.retain(|a| a.severity >= min);
    }
    let anchor = detect::alert::iso(outcome.anchor);
    let time = alerts_out::TimeSummary::new(
        &outcome.profile,
        alerts_out::describe_mode(mode, args.lookback.as_deref(), outcome.replay.as_deref()),
    );
    eprintln!(
        "hunt: anchor {anchor} ({}); {}; {} rules, {} alerts, {} suppressed",
        outcome.anchor_source,
        time.mode,
        outcome.runs.len(),
        alerts.len(),
        suppressed.len()
    );
    alerts_out::emit(
        dest,
        &alerts,
        &suppressed,
        &RunSummary {
            anchor,
            anchor_source: outcome.anchor_source,
            rules_run: outcome.runs.len(),
            failures,
            evidence: &loaded.report,
            allow_partial: args.allow_partial,
            time,
        },
    )
}
