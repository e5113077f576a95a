//! `ratcatcher hunt`: runs the detection pack (or given rules) over evidence, applies tuning and
//! writes the alerts (terminal view, JSON lines, CSV, Timesketch).

use crate::alerts_out::{self, AlertFormat, RunSummary};
use crate::evidence;
use crate::exit::error_message;
use crate::query::{engine_options, positive_span};
use detect::hunt::{TimeMode, Window};
use detect::{Hunt, RuleFilter, Severity, SigmaRules};
use std::path::PathBuf;
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
    /// Also write the run's summary (evidence accounting, rules, alerts) as JSON to this file;
    /// a name ending in .html or .htm gets the HTML case report instead.
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

/// Engine options of a hunt: `--now`, the memory and time limits, and the folders rules may
/// read (the evidence's and `--allow-read`).
pub fn hunt_engine_options(args: &HuntArgs) -> Result<engine::EngineOptions, String> {
    let mut options = engine_options(args.now.as_deref(), None, args.memory_limit.as_deref())?;
    options.query_timeout = Some(std::time::Duration::from_nanos(
        positive_span("--rule-timeout", &args.rule_timeout)?.unsigned_abs(),
    ));
    options.file_access = detect::evidence::file_access(&args.inputs, &args.allow_read).map_err(|e| e.to_string())?;
    Ok(options)
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

/// Builds the hunt from the arguments, runs it (the libraries do all of it) and renders the
/// outcome.
async fn run_inner(args: HuntArgs) -> Result<ExitCode, String> {
    if args.inputs.is_empty() {
        return Err("no evidence given: name files, folders, globs or an ingested dataset".into());
    }
    let mut hunt = Hunt::new(&args.inputs);
    let sigma = !args.sigma.is_empty();
    if sigma {
        let filter = RuleFilter::parse(args.min_level.as_deref(), &args.status).map_err(error_message)?;
        let rules = SigmaRules::load(&args.sigma, filter).map_err(error_message)?;
        for e in &rules.rejected {
            eprintln!("warning: sigma: rejected {e}");
        }
        for e in &rules.not_evaluated {
            eprintln!("warning: sigma: not evaluated: {e}");
        }
        hunt = hunt.sigma(rules);
    }
    // Without --sigma the pack (or --rules) runs; with --sigma, the pack runs too only when
    // --rules names rules.
    if !sigma || !args.rules.is_empty() {
        let (rules, failed) = detect::load_hunt_rules(&args.rules).map_err(error_message)?;
        for e in &failed {
            eprintln!("error: rule {e}");
        }
        hunt = hunt.rules(rules).rule_failures(&failed);
    }
    let tuning = args
        .config
        .as_deref()
        .map(|p| detect::load_tuning(p, hunt.tools()))
        .transpose()
        .map_err(error_message)?;
    let mode = args.time_mode()?;
    let options = hunt_engine_options(&args)?;
    // Output files first: a path that cannot be written fails now, not after the hunt.
    let mut dest = args.destination()?;
    let (read, bar) = evidence::progress_options();
    let hunt = hunt
        .tuning(tuning)
        .time(mode)
        .min_severity(args.min_severity()?)
        .engine_options(options)
        .load_options(evidence::load_options(read));
    let outcome = hunt.run().await;
    if let Some(b) = bar {
        b.finish_and_clear();
    }
    let outcome = outcome.map_err(error_message)?;
    evidence::print_report(&outcome.evidence);
    for f in outcome.failures.iter().filter(|f| !f.load) {
        let origin = f.origin.as_ref().map_or_else(String::new, |o| o.display().to_string());
        eprintln!("error: rule {} ({origin}): {}", f.rule, f.why);
    }
    let mode_text = describe_time(&args, mode, &outcome);
    let anchor = detect::alert::iso(outcome.anchor);
    let anchor_source = outcome.anchor_source.describe();
    match outcome.sigma {
        Some((rules, correlations)) => eprintln!(
            "hunt: anchor {anchor} ({anchor_source}); {mode_text}; {rules} Sigma rules, {correlations} correlations; {} files, {} records ({} skipped); {} alerts, {} suppressed",
            outcome.evidence.files.len(),
            outcome.evidence.records(),
            outcome.evidence.skipped_total,
            outcome.alerts.len(),
            outcome.suppressed.len()
        ),
        None => eprintln!(
            "hunt: anchor {anchor} ({anchor_source}); {mode_text}; {} rules, {} alerts, {} suppressed",
            outcome.runs.len(),
            outcome.alerts.len(),
            outcome.suppressed.len()
        ),
    }
    let time = alerts_out::TimeSummary::new(&outcome.profile, mode_text);
    dest.report_context(&outcome.profile, &outcome.rules);
    alerts_out::emit(
        dest,
        &outcome.alerts,
        &outcome.suppressed,
        &RunSummary {
            anchor,
            anchor_source,
            rules_run: outcome.rules_run,
            failures: outcome
                .failures
                .iter()
                .map(|f| (f.rule.clone(), f.why.clone()))
                .collect(),
            evidence: &outcome.evidence,
            allow_partial: args.allow_partial,
            time,
        },
    )
}

/// What the rules ran over, in words, for the summary.
fn describe_time(args: &HuntArgs, mode: TimeMode, outcome: &detect::Outcome) -> String {
    let pack = alerts_out::describe_mode(mode, args.lookback.as_deref(), outcome.replay.as_deref());
    if outcome.sigma.is_none() {
        return pack;
    }
    let sigma = match mode {
        TimeMode::Window(Window::Fixed(_)) => format!(
            "Sigma rules over {} before the anchor",
            args.lookback.as_deref().unwrap_or("the lookback")
        ),
        _ => "Sigma rules over all evidence".to_string(),
    };
    if args.rules.is_empty() {
        sigma
    } else {
        format!("{pack}; {sigma}")
    }
}
