//! The T1219 detection pack runner: rules (Sentinel analytic-rule YAML), the remote-access-tool
//! catalog as query tables, tuning, alerts, and the pack's tests.

pub mod alert;
pub mod catalog;
pub mod hunt;
pub mod rule;
pub mod testcase;
pub mod tuning;

pub use alert::Alert;
pub use catalog::Tool;
pub use rule::{Rule, Severity};
pub use tuning::Tuning;
