//! KQL's function library as DataFusion UDFs (string predicates, dynamic values, conversions,
//! regular expressions, aggregations), where DataFusion's own functions do not match Kusto.

pub mod aggregate;
pub mod array_util;
pub mod dynamic;
pub mod regex;
pub mod scalar;
pub mod strings;
