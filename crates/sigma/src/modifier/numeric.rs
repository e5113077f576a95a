//! Numeric comparison modifiers (`gt`, `gte`, `lt`, `lte`) and the time modifiers (`minute`,
//! `hour`, `day`, `week`, `month`, `year`) that compare a calendar part of a date numerically.

use serde_norway::Value as Yaml;

use super::Value;
use crate::error::{ErrorKind, FieldError, FieldResult};
use crate::yaml::{number, type_name};

/// Numeric comparison operator (`gt`, `gte`, `lt`, `lte`; `Eq` for bare time-part values).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[allow(missing_docs)]
pub enum CmpOp {
    Eq,
    Gt,
    Gte,
    Lt,
    Lte,
}

impl CmpOp {
    /// Applies the comparison `lhs op rhs`.
    pub fn holds(self, lhs: f64, rhs: f64) -> bool {
        match self {
            CmpOp::Eq => lhs == rhs,
            CmpOp::Gt => lhs > rhs,
            CmpOp::Gte => lhs >= rhs,
            CmpOp::Lt => lhs < rhs,
            CmpOp::Lte => lhs <= rhs,
        }
    }
}

/// Calendar part extracted from a date field by a time modifier.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[allow(missing_docs)]
pub enum TimePart {
    Minute,
    Hour,
    Day,
    Week,
    Month,
    Year,
}

/// The comparison value of one YAML scalar; `op` is `None` for a bare time part (equality).
pub(super) fn compare_value(item: &Yaml, op: Option<CmpOp>, path: &str) -> FieldResult<Value> {
    let n = number(item).ok_or_else(|| {
        FieldError::new(
            path,
            ErrorKind::Value(format!("expected a number, found {}", type_name(item))),
        )
    })?;
    Ok(Value::Compare(op.unwrap_or(CmpOp::Eq), n))
}
