//! Built-in functions: one registry of every function name ([`registry`]) and their lowering
//! to DataFusion expressions, one module per family of functions.

mod aggregate;
mod conditional;
mod conversion;
mod datetime;
mod dynamic;
mod encoding;
mod hash;
mod ip;
mod math;
pub(super) mod registry;
mod series;
mod special;
mod string;

pub(super) use aggregate::AggregateCall;

use super::call::A;
use crate::types::KqlType;
use datafusion::common::ScalarValue;
use datafusion::logical_expr::{Expr, lit};
use kql::{Ident, Span};

/// A scalar function call with its arguments lowered.
pub(crate) struct ScalarCall<'c> {
    /// The name as called (error messages and UDF names use it).
    pub(crate) name: &'c Ident,
    /// The lowered arguments (a trailing `typeof(T)` removed).
    pub(crate) args: Vec<A>,
    /// The place of the whole call.
    pub(crate) span: Span,
    /// The query's `now()`, in nanoseconds since the Unix epoch.
    pub(crate) now: i64,
    /// The type named by a trailing `typeof(T)` argument (extract, extractjson).
    pub(crate) result_type: Option<KqlType>,
}

/// The first argument, or null without one.
pub(crate) fn one(a: Vec<A>) -> Expr {
    a.into_iter()
        .next()
        .map(|x| x.e)
        .unwrap_or_else(|| lit(ScalarValue::Null))
}
