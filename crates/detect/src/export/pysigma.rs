//! pySigma backends: the exported Sigma rules converted for one SIEM by the backend installed
//! with sigma-cli, one query file per rule, each failure named with the backend's reason.

use crate::error::Error;
use std::path::{Path, PathBuf};
use std::process::Command;

/// The driver run with sigma-cli's Python (converts rule by rule; prints a JSON summary).
const DRIVER: &str = include_str!("pysigma.py");

/// A SIEM target of `export`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Backend {
    /// Splunk SPL (`splunk` backend, `splunk_windows` pipeline).
    Splunk,
    /// Elasticsearch ES|QL (`esql` backend, `ecs_windows` pipeline).
    ElasticEsql,
    /// Elasticsearch Lucene query strings (`lucene` backend, `ecs_windows` pipeline).
    ElasticLucene,
    /// IBM QRadar AQL (`q_radar_aql` backend, `qradar-aql-fields` pipeline).
    Qradar,
    /// Google SecOps UDM search (`secops` backend, `secops_udm` pipeline).
    Secops,
    /// CrowdStrike LogScale (`log_scale` backend, `crowdstrike_falcon` pipeline).
    Crowdstrike,
    /// SentinelOne PowerQuery (`sentinel_one_pq` backend).
    Sentinelone,
    /// Microsoft Defender XDR KQL (`kusto` backend, `microsoft_xdr` pipeline).
    Kql,
    /// SQLite SQL (`sqlite` backend), for running the rules over exported evidence.
    Sqlite,
}

impl Backend {
    /// Every backend, in output order.
    pub const ALL: [Backend; 9] = [
        Backend::Splunk,
        Backend::ElasticEsql,
        Backend::ElasticLucene,
        Backend::Qradar,
        Backend::Secops,
        Backend::Crowdstrike,
        Backend::Sentinelone,
        Backend::Kql,
        Backend::Sqlite,
    ];

    /// The name `export --to` takes (and the output folder's name).
    pub fn name(self) -> &'static str {
        match self {
            Backend::Splunk => "splunk",
            Backend::ElasticEsql => "elastic-esql",
            Backend::ElasticLucene => "elastic-lucene",
            Backend::Qradar => "qradar",
            Backend::Secops => "secops",
            Backend::Crowdstrike => "crowdstrike",
            Backend::Sentinelone => "sentinelone",
            Backend::Kql => "kql",
            Backend::Sqlite => "sqlite",
        }
    }

    /// The pySigma backend identifier (`sigma list targets`).
    pub fn target(self) -> &'static str {
        match self {
            Backend::Splunk => "splunk",
            Backend::ElasticEsql => "esql",
            Backend::ElasticLucene => "lucene",
            Backend::Qradar => "q_radar_aql",
            Backend::Secops => "secops",
            Backend::Crowdstrike => "log_scale",
            Backend::Sentinelone => "sentinel_one_pq",
            Backend::Kql => "kusto",
            Backend::Sqlite => "sqlite",
        }
    }

    /// The processing pipelines applied (`sigma list pipelines`).
    pub fn pipelines(self) -> &'static [&'static str] {
        match self {
            Backend::Splunk => &["splunk_windows"],
            // pySigma has no ES|QL-specific Windows pipeline; ECS field names are the same
            Backend::ElasticEsql | Backend::ElasticLucene => &["ecs_windows"],
            Backend::Qradar => &["qradar-aql-fields"],
            Backend::Secops => &["secops_udm"],
            Backend::Crowdstrike => &["crowdstrike_falcon"],
            Backend::Sentinelone | Backend::Sqlite => &[],
            Backend::Kql => &["microsoft_xdr"],
        }
    }

    /// The query files' extension.
    pub fn extension(self) -> &'static str {
        match self {
            Backend::Splunk => "spl",
            Backend::ElasticEsql => "esql",
            Backend::ElasticLucene => "lucene",
            Backend::Qradar => "aql",
            Backend::Secops => "udm",
            Backend::Crowdstrike => "logscale",
            Backend::Sentinelone => "pq",
            Backend::Kql => "kql",
            Backend::Sqlite => "sql",
        }
    }

    /// The Python packages that provide the backend (for the install hint).
    pub fn packages(self) -> &'static str {
        match self {
            Backend::Splunk => "pySigma-backend-splunk",
            Backend::ElasticEsql | Backend::ElasticLucene => "pySigma-backend-elasticsearch",
            Backend::Qradar => "pySigma-backend-qradar-aql (it needs pySigma < 0.12: give it its own environment)",
            Backend::Secops => "pySigma-backend-secops",
            Backend::Crowdstrike => "pySigma-backend-crowdstrike",
            Backend::Sentinelone => "pySigma-backend-sentinelone-pq",
            Backend::Kql => "pySigma-backend-kusto",
            Backend::Sqlite => "pySigma-backend-sqlite",
        }
    }

    /// The backend named `name` (`export --to` spelling).
    pub fn from_name(name: &str) -> Option<Backend> {
        Backend::ALL.into_iter().find(|b| b.name() == name)
    }
}

/// One rule the backend could not convert.
#[derive(Debug, Clone, PartialEq, Eq, serde::Deserialize, serde::Serialize)]
pub struct RuleFailure {
    /// The rule's file below the Sigma folder.
    pub file: String,
    /// The rule's id.
    pub id: String,
    /// The backend's reason (its exception's first line).
    pub reason: String,
}

/// What a conversion did.
#[derive(Debug, Clone, PartialEq, Eq, serde::Deserialize, serde::Serialize)]
pub struct ConvertSummary {
    /// The pySigma backend identifier.
    pub target: String,
    /// The pipelines applied.
    pub pipelines: Vec<String>,
    /// Rules converted (one query file each).
    pub converted: usize,
    /// Rules not converted, with the backend's reason.
    pub failed: Vec<RuleFailure>,
    /// pySigma, sigma-cli and backend package versions.
    pub versions: std::collections::BTreeMap<String, String>,
}

/// The Python interpreter of sigma-cli's environment: `explicit` when given, else the
/// interpreter named by the `sigma` script on PATH (its `#!` line). The error says how to
/// install sigma-cli and the backend.
pub fn find_python(explicit: Option<&Path>, backend: Backend) -> Result<PathBuf, Error> {
    let hint = format!(
        "install sigma-cli and the backend (python3 -m pip install sigma-cli {}), or name an environment's interpreter with --python",
        backend.packages()
    );
    if let Some(p) = explicit {
        return if p.is_file() {
            Ok(p.to_path_buf())
        } else {
            Err(Error::Export(format!("--python {}: no such file", p.display())))
        };
    }
    let path = std::env::var_os("PATH").unwrap_or_default();
    for dir in std::env::split_paths(&path) {
        let sigma = dir.join("sigma");
        let Ok(text) = std::fs::read(&sigma) else {
            continue;
        };
        let first = text.split(|&b| b == b'\n').next().unwrap_or(&[]);
        let first = String::from_utf8_lossy(first);
        if let Some(interp) = first.strip_prefix("#!") {
            let interp = interp.trim();
            // `#!/usr/bin/env python3` names the interpreter through PATH
            let candidate = match interp.strip_prefix("/usr/bin/env ") {
                Some(name) => std::env::split_paths(&path)
                    .map(|d| d.join(name.trim()))
                    .find(|p| p.is_file()),
                None => Some(PathBuf::from(interp)),
            };
            if let Some(c) = candidate.filter(|c| c.is_file()) {
                return Ok(c);
            }
        }
        return Err(Error::Export(format!(
            "{} is not a Python script sigma-cli installed; {hint}",
            sigma.display()
        )));
    }
    Err(Error::Export(format!("sigma-cli (`sigma`) is not on PATH; {hint}")))
}

/// Converts every rule of the exported Sigma folder `sigma_dir` (with its `manifest.json`) with
/// `backend`, writing `out_dir/<family>/<tool>.<ext>`.
pub fn convert(python: &Path, backend: Backend, sigma_dir: &Path, out_dir: &Path) -> Result<ConvertSummary, Error> {
    std::fs::create_dir_all(out_dir).map_err(|e| Error::io(format!("creating {}", out_dir.display()), e))?;
    let output = Command::new(python)
        .arg("-c")
        .arg(DRIVER)
        .arg(backend.target())
        .arg(backend.pipelines().join(","))
        .arg(backend.extension())
        .arg(sigma_dir)
        .arg(out_dir)
        .env("PYTHONDONTWRITEBYTECODE", "1")
        .output()
        .map_err(|e| Error::io(format!("running {}", python.display()), e))?;
    let stdout = String::from_utf8_lossy(&output.stdout);
    let last = stdout.lines().last().unwrap_or("");
    if let Ok(v) = serde_json::from_str::<serde_json::Value>(last)
        && let Some(e) = v.get("error").and_then(|e| e.as_str())
    {
        return Err(Error::Export(format!(
            "{e}; install it: python3 -m pip install {}",
            backend.packages()
        )));
    }
    match serde_json::from_str::<ConvertSummary>(last) {
        Ok(s) if output.status.success() => Ok(s),
        _ => {
            let stderr = String::from_utf8_lossy(&output.stderr);
            let why = stderr
                .lines()
                .rev()
                .find(|l| !l.trim().is_empty())
                .unwrap_or("no output");
            let hint = if stderr.contains("No module named 'sigma") {
                format!(
                    "; this Python has no pySigma: python3 -m pip install sigma-cli {}",
                    backend.packages()
                )
            } else {
                String::new()
            };
            Err(Error::Export(format!(
                "pySigma ({}) failed: {why}{hint}",
                python.display()
            )))
        }
    }
}
