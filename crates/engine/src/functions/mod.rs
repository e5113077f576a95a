//! KQL's function library as DataFusion UDFs (string predicates, dynamic values, conversions,
//! regular expressions, aggregations), where DataFusion's own functions do not match Kusto.

pub mod aggregate;
pub mod array_util;
pub mod arrays;
pub mod dynamic;
pub mod dynregex;
pub mod formats;
pub mod library;
pub mod net;
pub mod percentile;
pub mod regex;
pub mod scalar;
pub mod strings;
pub mod text;
pub mod timefmt;
pub mod xxhash;
