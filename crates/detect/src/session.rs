//! A whole hunt as one call: [`Hunt`] takes the evidence, the pack (or other Sentinel rules),
//! Sigma rules, tuning and the time semantics; [`Hunt::run`] reads the evidence, runs every rule
//! and returns an [`Outcome`]: alerts and suppressed alerts (one alert builder for all three
//! kinds), the evidence accounting, each host's time span, the rules' failures and timings.
//!
//! ```no_run
//! # async fn example() -> Result<(), detect::Error> {
//! let outcome = detect::Hunt::new(["triage/HOST-07"]).pack()?.run().await?;
//! for alert in outcome.alerts() {
//!     println!("{} {}", alert.rule.id, alert.device.as_deref().unwrap_or("-"));
//! }
//! assert!(outcome.evidence.is_complete());
//! # Ok(()) }
//! ```

use crate::alert::Alert;
use crate::catalog::{self, Tool};
use crate::error::{Error, Result};
use crate::evidence::{self, LoadOptions};
use crate::hunt::{self, AnchorSource, HuntRun, RuleRun, TimeMode, Window};
use crate::replay::RuleReplay;
use crate::rule::{self, Rule, RuleError, Severity};
use crate::sigma_scan::{self, RuleFilter, SigmaWindow};
use crate::timeline::{self, TimeProfile};
use crate::tuning::{Tuning, TuningError};
use engine::{Engine, EngineOptions};
use sigma::{CompiledRuleSet, RuleSet};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// The catalog tables the rules query: not evidence (no time profile, no replay bins).
pub const CATALOG_TABLES: &[&str] = &["RemoteAccessTools", "RemoteAccessToolIndicators"];

/// The rules to run: `paths`, else the built-in pack. Any file that fails is an error (a broken
/// pack must not silently shrink), as are ids used twice and no rule at all.
pub fn load_rules(paths: &[PathBuf]) -> Result<Vec<Rule>> {
    let (rules, errors) = if paths.is_empty() {
        rule::builtin_pack()
    } else {
        rule::load_paths(paths)
    };
    if let Some(e) = errors.first() {
        let more = if errors.len() > 1 {
            format!(" (and {} more)", errors.len() - 1)
        } else {
            String::new()
        };
        return Err(Error::Rules(format!("rule {e}{more}")));
    }
    let dups = rule::duplicate_ids(&rules);
    if !dups.is_empty() {
        return Err(Error::Rules(format!("rule ids used twice: {}", dups.join(", "))));
    }
    if rules.is_empty() {
        return Err(Error::Rules("no rules found".into()));
    }
    Ok(rules)
}

/// The rules a hunt runs and the rule files that failed to load. The built-in pack (no `paths`)
/// must load whole; given rule files fail one by one (a file that fails, or repeats an id, is
/// returned and the others run). No rule at all is an error.
pub fn load_hunt_rules(paths: &[PathBuf]) -> Result<(Vec<Rule>, Vec<RuleError>)> {
    if paths.is_empty() {
        return load_rules(paths).map(|rules| (rules, Vec::new()));
    }
    let (mut rules, mut errors) = rule::load_paths(paths);
    errors.extend(rule::drop_duplicate_ids(&mut rules));
    if rules.is_empty() {
        return Err(Error::NoRules { failed: errors });
    }
    Ok((rules, errors))
}

/// Reads a tuning file.
pub fn load_tuning(path: &Path, tools: &[Tool]) -> Result<Tuning> {
    let tuning_error = |source: TuningError| Error::Tuning {
        path: path.to_path_buf(),
        source,
    };
    let text = std::fs::read_to_string(path).map_err(|e| tuning_error(TuningError::Read(e)))?;
    Tuning::parse(&text, tools).map_err(tuning_error)
}

/// Runs rules over an engine holding evidence: the catalog tables, the time profile and anchor,
/// the rules not disabled by `tuning` (as `mode` says); the alerts are untuned and unsorted.
/// Tuning itself is applied by the caller
/// ([`hunt::apply_tuning`]), once over all alerts.
pub async fn run_pack(
    engine: &mut Engine,
    rules: &[Rule],
    tuning: Option<&Tuning>,
    tools: &[Tool],
    now: Option<i64>,
    mode: TimeMode,
) -> Result<HuntRun> {
    catalog::register(engine, tools)?;
    let disabled = tuning.map_or(&[][..], |t| t.disabled_rules());
    let active: Vec<Rule> = rules.iter().filter(|r| !disabled.contains(&r.id)).cloned().collect();
    hunt::hunt(engine, &active, now, mode, CATALOG_TABLES)
        .await
        .map_err(|e| Error::Times(e.to_string()))
}

/// Sigma rules for a hunt, compiled once.
pub struct SigmaRules {
    set: &'static CompiledRuleSet,
    filter: RuleFilter,
    /// Documents rejected when loading (file and why).
    pub rejected: Vec<String>,
    /// Rules that cannot be evaluated (and are left out), each with why.
    pub not_evaluated: Vec<String>,
}

impl SigmaRules {
    /// Loads and compiles Sigma rules from files and folders, keeping those `filter` passes
    /// (and the rules a kept correlation needs).
    pub fn load(paths: &[PathBuf], filter: RuleFilter) -> Result<SigmaRules> {
        let loaded = sigma_scan::load_rules(paths, &filter)?;
        Ok(SigmaRules::compile(loaded.set, filter, loaded.rejected))
    }

    fn compile(set: RuleSet, filter: RuleFilter, rejected: Vec<String>) -> SigmaRules {
        let compiled = set.compile();
        let not_evaluated = compiled.skipped().iter().map(ToString::to_string).collect();
        // The EVTX parser's worker threads need the rules for the whole process; a hunt compiles
        // them once.
        let set: &'static CompiledRuleSet = Box::leak(Box::new(compiled));
        SigmaRules {
            set,
            filter,
            rejected,
            not_evaluated,
        }
    }

    /// Detection rules.
    pub fn rules(&self) -> usize {
        self.set.rules().len()
    }

    /// Correlation rules.
    pub fn correlations(&self) -> usize {
        self.set.correlations().len()
    }
}

/// A rule, or a rule file, that failed: the others ran.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Failure {
    /// The rule's id, or the rule file when it did not load.
    pub rule: String,
    /// The file the rule came from, for a rule that loaded and then failed.
    pub origin: Option<PathBuf>,
    /// Whether the rule file failed to load (else the rule failed to plan or run).
    pub load: bool,
    /// Why, with the place in the query when known.
    pub why: String,
}

/// How long each part of a hunt took.
#[derive(Debug, Clone, Copy, Default)]
pub struct Timings {
    /// Reading the evidence into tables (pack rules).
    pub evidence: Duration,
    /// Running the pack's rules.
    pub rules: Duration,
    /// The Sigma pass (reading and matching in one).
    pub sigma: Duration,
}

/// A hunt to run: evidence, rules, tuning, time semantics. Built step by step, run once.
pub struct Hunt {
    inputs: Vec<String>,
    rules: Option<Vec<Rule>>,
    rule_failures: Vec<Failure>,
    sigma: Option<SigmaRules>,
    tuning: Option<Tuning>,
    tools: Vec<Tool>,
    mode: TimeMode,
    engine: EngineOptions,
    load: LoadOptions,
    min_severity: Option<Severity>,
}

impl Hunt {
    /// A hunt over evidence files, folders, globs or one ingested dataset, with the built-in
    /// catalog, no rules yet, over all the evidence.
    pub fn new<S: AsRef<str>>(inputs: impl IntoIterator<Item = S>) -> Hunt {
        Hunt {
            inputs: inputs.into_iter().map(|s| s.as_ref().to_string()).collect(),
            rules: None,
            rule_failures: Vec::new(),
            sigma: None,
            tuning: None,
            tools: catalog::builtin(),
            mode: TimeMode::Window(Window::All),
            engine: EngineOptions::default(),
            load: LoadOptions::default(),
            min_severity: None,
        }
    }

    /// Runs the built-in T1219 pack.
    pub fn pack(self) -> Result<Hunt> {
        let rules = load_rules(&[])?;
        Ok(self.rules(rules))
    }

    /// Runs these Sentinel rules (instead of the pack).
    pub fn rules(mut self, rules: Vec<Rule>) -> Hunt {
        self.rules = Some(rules);
        self
    }

    /// Rule files that failed to load ([`load_hunt_rules`]): reported with the rules' failures.
    pub fn rule_failures(mut self, failures: &[RuleError]) -> Hunt {
        self.rule_failures = failures
            .iter()
            .map(|e| Failure {
                rule: e.path.display().to_string(),
                origin: None,
                load: true,
                why: e.message.clone(),
            })
            .collect();
        self
    }

    /// Also runs these Sigma rules over the evidence.
    pub fn sigma(mut self, rules: SigmaRules) -> Hunt {
        self.sigma = Some(rules);
        self
    }

    /// Applies this tuning (approved tools, hosts, accounts, disabled rules, business hours).
    pub fn tuning(mut self, tuning: Option<Tuning>) -> Hunt {
        self.tuning = tuning;
        self
    }

    /// The remote-access-tool catalog (default: the built-in one).
    pub fn catalog(mut self, tools: Vec<Tool>) -> Hunt {
        self.tools = tools;
        self
    }

    /// How the rules treat time. `EngineOptions::now` (see [`Hunt::engine_options`]) is the
    /// anchor when given.
    pub fn time(mut self, mode: TimeMode) -> Hunt {
        self.mode = mode;
        self
    }

    /// The engine's options: `now`, memory and time limits, the folders rules may read.
    pub fn engine_options(mut self, options: EngineOptions) -> Hunt {
        self.engine = options;
        self
    }

    /// How evidence is read (progress, spill threshold).
    pub fn load_options(mut self, options: LoadOptions) -> Hunt {
        self.load = options;
        self
    }

    /// Keeps only alerts (and suppressed alerts) of at least this severity.
    pub fn min_severity(mut self, min: Option<Severity>) -> Hunt {
        self.min_severity = min;
        self
    }

    /// The catalog the hunt uses.
    pub fn tools(&self) -> &[Tool] {
        &self.tools
    }

    /// Reads the evidence, runs the rules, applies tuning. Errors are what makes the whole hunt
    /// meaningless (no evidence readable, rules that cannot load); one failing rule is in
    /// [`Outcome::failures`] and the others run.
    pub async fn run(self) -> Result<Outcome> {
        if self.inputs.is_empty() {
            return Err(Error::Usage(
                "no evidence given: name files, folders, globs or an ingested dataset".into(),
            ));
        }
        let now = self.engine.now;
        let mut timings = Timings::default();
        let mut failures = self.rule_failures;
        let mut alerts = Vec::new();
        let mut evidence_report = None;
        let mut profile = None;
        let mut anchor = None;
        let mut sigma_counts = None;
        let mut rules_run = 0;
        if let Some(sigma) = &self.sigma {
            // Sigma rules have no queryPeriod: like hunting queries they see all the evidence,
            // unless a fixed lookback gives every rule the same window.
            let window = match self.mode {
                TimeMode::Window(Window::Fixed(span)) => Some(SigmaWindow { now, span }),
                _ => None,
            };
            let started = Instant::now();
            let (found, scan) = sigma_scan::hunt_alerts(sigma.set, &self.inputs, &self.tools, &sigma.filter, window);
            timings.sigma = started.elapsed();
            if let Some(message) = evidence::nothing_read(&scan.evidence) {
                return Err(Error::NothingRead {
                    message,
                    report: Box::new(scan.evidence),
                });
            }
            let wall = timeline::wall_clock();
            let p = scan.tally.profile(wall);
            anchor = Some(hunt::anchor(now, &p, wall));
            profile = Some(p);
            evidence_report = Some(scan.evidence);
            alerts.extend(found);
            rules_run += sigma.rules() + sigma.correlations();
            sigma_counts = Some((sigma.rules(), sigma.correlations()));
        }
        let mut runs = Vec::new();
        let mut replay = None;
        if let Some(rules) = &self.rules {
            let started = Instant::now();
            let mut engine = Engine::new(self.engine.clone())?;
            let loaded = match evidence::load_evidence(&mut engine, &self.inputs, &self.load).await {
                Err(Error::NothingRead { message, report }) if evidence_report.is_none() => {
                    return Err(Error::NothingRead { message, report });
                }
                other => other?,
            };
            timings.evidence = started.elapsed();
            let started = Instant::now();
            let run = run_pack(&mut engine, rules, self.tuning.as_ref(), &self.tools, now, self.mode).await?;
            timings.rules = started.elapsed();
            for r in &run.runs {
                let Some(err) = &r.error else { continue };
                let rule = rules.iter().find(|x| x.id == r.rule_id);
                failures.push(Failure {
                    rule: r.rule_id.clone(),
                    origin: rule.map(|x| x.origin.clone()),
                    load: false,
                    why: rule.map_or_else(|| err.message.clone(), |x| err.describe(&x.query)),
                });
            }
            rules_run += run.runs.len();
            alerts.extend(run.alerts);
            anchor = Some((run.anchor, run.anchor_source));
            profile = Some(run.profile);
            evidence_report.get_or_insert(loaded.report);
            runs = run.runs;
            replay = run.replay;
        }
        let (mut alerts, mut suppressed) = hunt::apply_tuning(alerts, self.tuning.as_ref(), &self.tools);
        if let Some(min) = self.min_severity {
            alerts.retain(|a| a.severity >= min);
            suppressed.retain(|a| a.severity >= min);
        }
        hunt::sort_alerts(&mut alerts);
        hunt::sort_alerts(&mut suppressed);
        let wall = timeline::wall_clock();
        let profile = profile.unwrap_or_default();
        let (anchor, anchor_source) = anchor.unwrap_or_else(|| hunt::anchor(now, &profile, wall));
        Ok(Outcome {
            alerts,
            suppressed,
            evidence: evidence_report.unwrap_or_default(),
            profile,
            anchor,
            anchor_source,
            rules_run,
            failures,
            rules: self.rules.unwrap_or_default(),
            runs,
            replay,
            sigma: sigma_counts,
            timings,
        })
    }
}

/// What a hunt found and read.
pub struct Outcome {
    /// Alerts after tuning, sorted (host, time, rule).
    pub alerts: Vec<Alert>,
    /// Alerts tuning suppressed, each with its reason, sorted.
    pub suppressed: Vec<Alert>,
    /// The evidence accounting: files read, records skipped with their place, inputs not read.
    pub evidence: telemetry::Report,
    /// When the evidence's events lie: per host, the bulk, the outliers.
    pub profile: TimeProfile,
    /// The anchor: `now()` of the rules and the end of their windows.
    pub anchor: i64,
    /// Where the anchor comes from.
    pub anchor_source: AnchorSource,
    /// Rules run: pack rules, Sigma detection and correlation rules.
    pub rules_run: usize,
    /// Rules (or rule files) that failed to load, plan, run or stay within their limits: id or
    /// file, and why. The other rules ran.
    pub failures: Vec<Failure>,
    /// The pack's (or the given) Sentinel rules, as run: names, guides.
    pub rules: Vec<Rule>,
    /// Each pack rule's run.
    pub runs: Vec<RuleRun>,
    /// Replay: each pack rule's scheduled runs.
    pub replay: Option<Vec<RuleReplay>>,
    /// Sigma: detection rules and correlations run.
    pub sigma: Option<(usize, usize)>,
    /// How long the parts took.
    pub timings: Timings,
}

impl Outcome {
    /// The alerts, in order.
    pub fn alerts(&self) -> impl Iterator<Item = &Alert> {
        self.alerts.iter()
    }

    /// Whether every input and every record was read.
    pub fn complete(&self) -> bool {
        self.evidence.is_complete()
    }
}
