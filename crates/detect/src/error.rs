//! The errors of a hunt: what stops it before any alert can be trusted. A rule that fails alone
//! is not one of them: it is reported in [`crate::Outcome::failures`] and the others run.

use std::path::PathBuf;

/// Why a hunt (or a rule test) could not run.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The built-in pack or the given rules could not be loaded as a whole.
    #[error("{0}")]
    Rules(String),
    /// None of the given rule files loaded; each failure is listed.
    #[error("no rules loaded ({} rule files failed)", failed.len())]
    NoRules {
        /// Each file that failed, with why.
        failed: Vec<crate::rule::RuleError>,
    },
    /// A Sigma rule set could not be used (no rules, none passes the filter, a missing path).
    #[error("--sigma: {0}")]
    Sigma(String),
    /// A tuning file could not be read or is invalid.
    #[error("{path}: {source}")]
    Tuning {
        /// The tuning file.
        path: PathBuf,
        /// What is wrong with it.
        #[source]
        source: crate::tuning::TuningError,
    },
    /// The evidence was given in a way that cannot be read (a dataset mixed with files, say).
    #[error("{0}")]
    Usage(String),
    /// No input could be read at all: never reported as a clean result. The accounting says
    /// what was tried and why each input failed.
    #[error("{message}")]
    NothingRead {
        /// The inputs not read (the first few) and why.
        message: String,
        /// The evidence accounting.
        report: Box<telemetry::Report>,
    },
    /// A reader failed as a whole (not one file: those are in the evidence accounting).
    #[error("reading evidence: {0}")]
    Telemetry(#[from] telemetry::Error),
    /// The query engine could not be set up or could not take the evidence's tables.
    #[error("{0}")]
    Engine(#[from] engine::QueryError),
    /// DataFusion refused a table or session setting.
    #[error("{0}")]
    DataFusion(#[from] datafusion::error::DataFusionError),
    /// A file or folder the hunt needs (temporary dataset, a test's evidence) is unusable.
    #[error("{context}: {source}")]
    Io {
        /// What was being done.
        context: String,
        /// The operating system's error.
        #[source]
        source: std::io::Error,
    },
    /// Reading the evidence's event times (for the anchor and the windows) failed.
    #[error("reading the evidence's times: {0}")]
    Times(String),
    /// Exporting the pack to another SIEM failed (pySigma missing, a backend not installed).
    #[error("export: {0}")]
    Export(String),
}

impl Error {
    /// An I/O error with what was being done.
    pub fn io(context: impl Into<String>, source: std::io::Error) -> Self {
        Error::Io {
            context: context.into(),
            source,
        }
    }
}

/// A hunt's result or why it could not run.
pub type Result<T, E = Error> = std::result::Result<T, E>;
