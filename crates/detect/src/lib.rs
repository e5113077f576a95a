//! The T1219 detection pack runner: rules (Sentinel analytic-rule YAML), the remote-access-tool
//! catalog as query tables, tuning, alerts, and the pack's tests.

pub mod alert;
pub mod catalog;
mod error;
pub mod evidence;
pub mod hunt;
pub mod replay;
pub mod rule;
pub mod schema;
mod session;
pub mod sigma_scan;
pub mod testcase;
pub mod timeline;
pub mod tuning;
pub mod validate;

pub use alert::Alert;
pub use catalog::Tool;
pub use error::{Error, Result};
pub use rule::{Rule, Severity};
pub use session::{
    CATALOG_TABLES, Failure, Hunt, Outcome, SigmaRules, Timings, load_hunt_rules, load_rules, load_tuning, run_pack,
};
pub use sigma_scan::RuleFilter;
pub use tuning::Tuning;
