//! The T1219 detection pack runner: rules (Sentinel analytic-rule YAML), the remote-access-tool
//! catalog as query tables, tuning, alerts, and the pack's tests.

pub mod alert;
pub mod catalog;
pub mod hunt;
pub mod replay;
pub mod rule;
pub mod schema;
pub mod testcase;
pub mod timeline;
pub mod tuning;
pub mod validate;

pub use alert::Alert;
pub use catalog::Tool;
pub use rule::{Rule, Severity};
pub use tuning::Tuning;
