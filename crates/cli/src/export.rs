//! `ratcatcher export`: the pack as Sigma rules (`--to sigma`), and through pySigma's backends
//! as Splunk, Elastic, QRadar, SecOps, CrowdStrike, SentinelOne and KQL queries, with the
//! catalog as each platform's lookup CSV. The rules and conversions come from `detect::export`;
//! this module writes the files and prints the summary.

use detect::export::{self, Backend, LookupStyle};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

/// `export --to` values.
pub const TARGETS: &[&str] = &[
    "sigma",
    "splunk",
    "elastic-esql",
    "elastic-lucene",
    "qradar",
    "secops",
    "crowdstrike",
    "sentinelone",
    "kql",
    "sqlite",
];

pub struct ExportArgs {
    pub to: Vec<String>,
    pub out: Option<PathBuf>,
    pub python: Option<PathBuf>,
}

pub fn run(args: ExportArgs) -> ExitCode {
    match run_inner(args) {
        Ok(code) => code,
        Err(msg) => {
            eprintln!("error: {msg}");
            ExitCode::from(2)
        }
    }
}

fn write(path: &Path, text: &str) -> Result<(), String> {
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    }
    std::fs::write(path, text).map_err(|e| format!("{}: {e}", path.display()))
}

fn run_inner(args: ExportArgs) -> Result<ExitCode, String> {
    let mut backends = Vec::new();
    for t in &args.to {
        if t == "sigma" {
            continue;
        }
        match Backend::from_name(t) {
            Some(b) => backends.push(b),
            None => {
                return Err(format!("--to {t}: unknown target (one of {})", TARGETS.join(", ")));
            }
        }
    }
    backends.sort();
    backends.dedup();
    let exported = export::export_builtin();
    let detections = exported.rules.iter().filter(|r| r.tool.is_some()).count();
    let Some(out) = args.out else {
        if !backends.is_empty() {
            return Err("--out DIR is needed for SIEM targets (one file per rule)".into());
        }
        // Sigma on stdout: one YAML stream, documents separated by `---`
        let mut stdout = std::io::stdout().lock();
        let mut text = String::new();
        for (i, r) in exported.rules.iter().enumerate() {
            if i > 0 {
                text.push_str("---\n");
            }
            text.push_str(&r.yaml);
        }
        stdout
            .write_all(text.as_bytes())
            .and_then(|_| stdout.flush())
            .map_err(|e| e.to_string())?;
        print_not_exported(&exported);
        eprintln!(
            "export: {} Sigma rules ({detections} detection, {} correlation)",
            exported.rules.len(),
            exported.rules.len() - detections
        );
        return Ok(ExitCode::SUCCESS);
    };
    // with SIEM targets the Sigma rules go to OUT/sigma, else to OUT itself
    let sigma_dir = if backends.is_empty() {
        out.clone()
    } else {
        out.join("sigma")
    };
    for r in &exported.rules {
        write(&sigma_dir.join(&r.file), &r.yaml)?;
    }
    write(&sigma_dir.join("manifest.json"), &exported.manifest_json())?;
    print_not_exported(&exported);
    eprintln!(
        "export: {} Sigma rules ({detections} detection, {} correlation) in {}",
        exported.rules.len(),
        exported.rules.len() - detections,
        sigma_dir.display()
    );
    let tools = detect::catalog::builtin();
    let mut any_failed = false;
    for b in backends {
        let python = export::find_python(args.python.as_deref(), b).map_err(|e| e.to_string())?;
        let dir = out.join(b.name());
        let summary = export::convert(&python, b, &sigma_dir, &dir).map_err(|e| e.to_string())?;
        let (name, style) = match b {
            Backend::Kql => ("ratcatcher-watchlist.csv", LookupStyle::Watchlist),
            _ => ("ratcatcher_rat_indicators.csv", LookupStyle::Lookup),
        };
        write(&dir.join(name), &export::catalog_lookup(&tools, style))?;
        let mut failures = String::new();
        for f in &summary.failed {
            failures.push_str(&format!("{}\t{}\n", f.file, f.reason));
        }
        write(&dir.join("failures.tsv"), &failures)?;
        write(
            &dir.join("summary.json"),
            &format!(
                "{}\n",
                serde_json::to_string_pretty(&summary).map_err(|e| e.to_string())?
            ),
        )?;
        eprintln!(
            "{}: {} of {} rules converted ({} {}), {} failed{}",
            b.name(),
            summary.converted,
            exported.rules.len(),
            b.target(),
            if b.pipelines().is_empty() {
                "without a pipeline".to_string()
            } else {
                format!("with {}", b.pipelines().join(", "))
            },
            summary.failed.len(),
            if summary.failed.is_empty() {
                String::new()
            } else {
                format!(" (reasons in {})", dir.join("failures.tsv").display())
            }
        );
        // the reasons, each once, with how many rules it stopped
        let mut reasons: std::collections::BTreeMap<&str, usize> = Default::default();
        for f in &summary.failed {
            *reasons.entry(f.reason.as_str()).or_default() += 1;
        }
        for (why, n) in reasons {
            eprintln!("  {n} × {why}");
        }
        any_failed |= !summary.failed.is_empty();
    }
    Ok(if any_failed {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}

fn print_not_exported(e: &export::Export) {
    for (rule, why) in &e.not_exported {
        eprintln!("not exported: {rule}: {why}");
    }
}
