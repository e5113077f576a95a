//! `ratcatcher convert`: Sigma rules to KQL (Defender tables, or Sentinel's SecurityEvent /
//! WindowsEvent), optionally planned in the engine; pack rules (Sentinel YAML, .kql) to Sigma
//! where their query is expressible, with the reason named where it is not.

use engine::Engine;
use sigma::{LogsourceMap, RuleHeader, RuleSet, TableSet};
use std::collections::BTreeMap;
use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Clone, Copy, clap::ValueEnum, PartialEq, Eq, Debug)]
pub enum Target {
    /// Sigma rules (.yml) to KQL.
    Kql,
    /// Pack rules (Sentinel YAML, .kql, or built-in rule ids) to Sigma.
    Sigma,
}

#[derive(Clone, Copy, clap::ValueEnum, PartialEq, Eq, Debug)]
pub enum TableSetArg {
    /// Defender Advanced Hunting Device* tables.
    Defender,
    /// Sentinel SecurityEvent (Security channel), WindowsEvent for other channels.
    Securityevent,
}

pub struct ConvertArgs {
    pub to: Target,
    pub items: Vec<String>,
    pub table_set: TableSetArg,
    pub plan: bool,
    pub output: Option<PathBuf>,
}

pub async fn run(args: ConvertArgs) -> ExitCode {
    match run_inner(args).await {
        Ok(code) => code,
        Err(msg) => {
            eprintln!("error: {msg}");
            ExitCode::from(2)
        }
    }
}

async fn run_inner(args: ConvertArgs) -> Result<ExitCode, String> {
    if args.items.is_empty() {
        return Err("name the rules to convert (files, folders, or built-in rule ids)".into());
    }
    let mut sink: Box<dyn Write> = match &args.output {
        Some(p) => Box::new(std::fs::File::create(p).map_err(|e| format!("{}: {e}", p.display()))?),
        None => Box::new(std::io::stdout().lock()),
    };
    let code = match args.to {
        Target::Kql => to_kql(&args, &mut sink).await?,
        Target::Sigma => to_sigma(&args.items, &mut sink)?,
    };
    sink.flush().map_err(|e| e.to_string())?;
    Ok(code)
}

/// Whether a table has a column (and whether it is a string), by the telemetry schemas.
pub fn has_column(table: &str, column: &str) -> Option<bool> {
    let t = telemetry::schema::table(table)?;
    let i = t.column_index(column)?;
    Some(matches!(
        t.columns().get(i).map(|c| c.1),
        Some(telemetry::schema::Kusto::String)
    ))
}

/// An engine with every known table registered empty, for planning queries.
pub async fn planning_engine() -> Result<Engine, String> {
    let options = crate::query::engine_options(None, None, None)?;
    let mut engine = Engine::new(options).map_err(|e| e.to_string())?;
    telemetry::register_tables(engine.session(), BTreeMap::new(), 1).map_err(|e| e.to_string())?;
    let names: Vec<&str> = telemetry::schema::tables().iter().map(|t| t.name()).collect();
    engine.import_session_tables(&names).await.map_err(|e| e.to_string())?;
    Ok(engine)
}

async fn to_kql(args: &ConvertArgs, out: &mut dyn Write) -> Result<ExitCode, String> {
    let mut set = RuleSet::new();
    for i in &args.items {
        let p = PathBuf::from(i);
        if p.is_dir() {
            set.add_dir(&p);
        } else if p.is_file() {
            set.add_file(&p);
        } else {
            return Err(format!("{i}: no such file or folder"));
        }
    }
    for e in set.rejected() {
        eprintln!("warning: sigma: rejected {e}");
    }
    let table_set = match args.table_set {
        TableSetArg::Defender => TableSet::Defender,
        TableSetArg::Securityevent => TableSet::SecurityEvent,
    };
    let engine = if args.plan {
        Some(planning_engine().await?)
    } else {
        None
    };
    let map = LogsourceMap::builtin();
    let (mut converted, mut planned, mut plan_failed, mut no_table, mut refused) = (0, 0, 0, 0, 0);
    let io = |e: std::io::Error| e.to_string();
    for rule in set.rules() {
        let name = format!("{} ({})", rule.reference(), rule.path.display());
        match sigma::to_kql(rule, map, table_set, &has_column) {
            Ok(q) => {
                converted += 1;
                if let Some(engine) = &engine {
                    match engine.plan(&q) {
                        Ok(_) => planned += 1,
                        Err(e) => {
                            plan_failed += 1;
                            eprintln!("plan failed: {name}: {e}");
                        }
                    }
                }
                if converted > 1 {
                    writeln!(out).map_err(io)?;
                }
                out.write_all(q.as_bytes()).map_err(io)?;
            }
            Err(e @ sigma::ConvertError::NoTable(..)) => {
                no_table += 1;
                eprintln!("not converted: {name}: {e}");
            }
            Err(e) => {
                refused += 1;
                eprintln!("not converted: {name}: {e}");
            }
        }
    }
    eprintln!(
        "convert: {} rules: {converted} converted{}; not converted: {no_table} without a table of this set, {refused} not expressible",
        set.rules().len(),
        if args.plan {
            format!(", {planned} planned, {plan_failed} failed to plan")
        } else {
            String::new()
        }
    );
    Ok(if plan_failed > 0 || set.rules().is_empty() {
        ExitCode::from(2)
    } else if no_table + refused > 0 || !set.rejected().is_empty() {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}

/// Sentinel severity → Sigma level.
fn level(s: detect::Severity) -> &'static str {
    match s {
        detect::Severity::Informational => "informational",
        detect::Severity::Low => "low",
        detect::Severity::Medium => "medium",
        detect::Severity::High => "high",
    }
}

/// Sentinel tactic (`CommandAndControl`) → ATT&CK tag (`attack.command-and-control`).
fn tactic_tag(t: &str) -> String {
    let mut out = String::from("attack.");
    for (i, c) in t.chars().enumerate() {
        if c.is_ascii_uppercase() && i > 0 {
            out.push('-');
        }
        out.push(c.to_ascii_lowercase());
    }
    out
}

fn to_sigma(items: &[String], out: &mut dyn Write) -> Result<ExitCode, String> {
    let (pack, _) = detect::rule::builtin_pack();
    let mut rules = Vec::new();
    for i in items {
        let p = PathBuf::from(i);
        if p.exists() {
            let (loaded, errors) = detect::rule::load_paths(std::slice::from_ref(&p));
            if let Some(e) = errors.first() {
                return Err(format!("rule {e}"));
            }
            rules.extend(loaded);
        } else if let Some(r) = pack
            .iter()
            .find(|r| r.id == *i || r.guid.as_deref() == Some(i.as_str()))
        {
            rules.push(r.clone());
        } else {
            return Err(format!("{i}: no such file, folder or built-in rule"));
        }
    }
    let map = LogsourceMap::builtin();
    let (mut ok, mut not) = (0, 0);
    for r in &rules {
        let mut tags: Vec<String> = r.tactics.iter().map(|t| tactic_tag(t)).collect();
        tags.extend(
            r.techniques
                .iter()
                .map(|t| format!("attack.{}", t.to_ascii_lowercase())),
        );
        let header = RuleHeader {
            title: r.name.clone(),
            id: r.guid.clone(),
            description: Some(r.description.clone()),
            level: Some(level(r.severity).to_string()),
            tags,
        };
        match sigma::from_kql(&r.query, &header, map) {
            Ok(y) => {
                if ok > 0 {
                    writeln!(out, "---").map_err(|e| e.to_string())?;
                }
                ok += 1;
                out.write_all(y.as_bytes()).map_err(|e| e.to_string())?;
            }
            Err(why) => {
                not += 1;
                eprintln!("not expressible in Sigma: {}: {why}", r.id);
            }
        }
    }
    eprintln!(
        "convert: {} rules: {ok} converted, {not} not expressible in Sigma",
        rules.len()
    );
    Ok(if not > 0 { ExitCode::from(1) } else { ExitCode::SUCCESS })
}
