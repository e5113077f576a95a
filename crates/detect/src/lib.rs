//! The T1219 detection pack runner: rules (Sentinel analytic-rule YAML), the remote-access-tool
//! catalog as query tables, tuning, alerts, and the pack's tests.
//!
//! A hunt is a [`Hunt`]: evidence (files, folders, globs or an ingested dataset), the rules (the
//! built-in pack, given rule files, Sigma rules), optional tuning; [`Hunt::run`] gives an
//! [`Outcome`] or an [`Error`] when nothing trustworthy could be produced.
//!
//! ```no_run
//! use detect::{Hunt, Severity};
//! use std::path::Path;
//!
//! # async fn example() -> Result<(), detect::Error> {
//! let hunt = Hunt::new(["triage/HOST-07", "triage/HOST-08.evtx"]).pack()?;
//! let tuning = detect::load_tuning(Path::new("tuning.toml"), hunt.tools())?;
//! let outcome = hunt.tuning(Some(tuning)).min_severity(Some(Severity::Medium)).run().await?;
//! for alert in outcome.alerts() {
//!     println!("{} {} {}", alert.rule.id, alert.device.as_deref().unwrap_or("-"), alert.severity.name());
//! }
//! for failure in &outcome.failures {
//!     eprintln!("rule {} did not run: {}", failure.rule, failure.why);
//! }
//! # Ok(()) }
//! ```
//!
//! Rules, tuning files, catalogs and test cases are also read on their own, each with its own
//! error type:
//!
//! ```
//! use std::path::Path;
//!
//! let rule = detect::rule::parse_rule(Path::new("rat-listeners.kql"), "DeviceNetworkEvents | take 1").unwrap();
//! assert_eq!(rule.id, "rat-listeners");
//! let err = detect::rule::parse_rule(Path::new("stub.yaml"), "name: stub\n").unwrap_err();
//! assert!(matches!(err, detect::rule::RuleParseError::Invalid(_)));
//! assert_eq!(err.to_string(), "no `query` field (not a Sentinel analytic or hunting rule, or a stub)");
//! ```

#![warn(missing_docs)]

pub mod alert;
pub mod catalog;
mod error;
pub mod evidence;
pub mod export;
pub mod hunt;
pub mod replay;
pub mod rule;
pub mod schema;
mod session;
pub(crate) mod sigma_scan;
pub mod testcase;
pub mod timeline;
pub(crate) mod tuning;
pub mod validate;

pub use alert::Alert;
pub use catalog::Tool;
pub use error::{Error, Result};
pub use rule::{Rule, Severity};
pub use session::{
    CATALOG_TABLES, Failure, Hunt, Outcome, SigmaRules, Timings, load_hunt_rules, load_rules, load_tuning, run_pack,
};
pub use sigma_scan::RuleFilter;
pub use tuning::{Tuning, TuningError};
