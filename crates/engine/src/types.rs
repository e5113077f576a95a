//! KQL scalar types and their Arrow representation (one Arrow type per KQL type, so the type
//! survives every DataFusion operator).

use datafusion::arrow::datatypes::{DataType, TimeUnit};
use std::fmt;

/// A Kusto scalar type.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum KqlType {
    /// `bool`
    Bool,
    /// `int` (32-bit)
    Int,
    /// `long` (64-bit)
    Long,
    /// `real` (64-bit floating point)
    Real,
    /// `decimal` (recognised, but it has no Arrow type here and is not supported)
    Decimal,
    /// `string`
    String,
    /// `datetime` (nanoseconds since the epoch, UTC)
    Datetime,
    /// `timespan` (nanoseconds)
    Timespan,
    /// `guid`
    Guid,
    /// JSON values: kept as JSON text in a `LargeUtf8` column (plain strings are `Utf8`).
    Dynamic,
}

/// The Arrow type of `datetime`: nanoseconds since the epoch, UTC.
pub fn datetime_type() -> DataType {
    DataType::Timestamp(TimeUnit::Nanosecond, Some("UTC".into()))
}

impl KqlType {
    /// Parses a type name as written in KQL (`long`, `datetime`, `dynamic`, aliases included).
    pub fn from_name(name: &str) -> Option<KqlType> {
        Some(match name {
            "bool" | "boolean" => KqlType::Bool,
            "int" | "int32" => KqlType::Int,
            "long" | "int64" => KqlType::Long,
            "real" | "double" => KqlType::Real,
            "decimal" => KqlType::Decimal,
            "string" => KqlType::String,
            "datetime" | "date" => KqlType::Datetime,
            "timespan" | "time" => KqlType::Timespan,
            "guid" | "uniqueid" => KqlType::Guid,
            "dynamic" => KqlType::Dynamic,
            _ => return None,
        })
    }

    /// The KQL name (`long`, `datetime`, ...).
    pub fn name(self) -> &'static str {
        match self {
            KqlType::Bool => "bool",
            KqlType::Int => "int",
            KqlType::Long => "long",
            KqlType::Real => "real",
            KqlType::Decimal => "decimal",
            KqlType::String => "string",
            KqlType::Datetime => "datetime",
            KqlType::Timespan => "timespan",
            KqlType::Guid => "guid",
            KqlType::Dynamic => "dynamic",
        }
    }

    /// The Arrow type that holds values of this type. `decimal` has none yet.
    pub fn arrow(self) -> Option<DataType> {
        Some(match self {
            KqlType::Bool => DataType::Boolean,
            KqlType::Int => DataType::Int32,
            KqlType::Long => DataType::Int64,
            KqlType::Real => DataType::Float64,
            KqlType::Decimal => return None,
            KqlType::String | KqlType::Guid => DataType::Utf8,
            KqlType::Datetime => datetime_type(),
            KqlType::Timespan => DataType::Duration(TimeUnit::Nanosecond),
            KqlType::Dynamic => DataType::LargeUtf8,
        })
    }

    /// The KQL type of an Arrow column, if it has one.
    pub fn of_arrow(dt: &DataType) -> Option<KqlType> {
        Some(match dt {
            DataType::Boolean => KqlType::Bool,
            DataType::Int8 | DataType::Int16 | DataType::Int32 | DataType::UInt8 | DataType::UInt16 => KqlType::Int,
            DataType::Int64 | DataType::UInt32 | DataType::UInt64 => KqlType::Long,
            DataType::Float16 | DataType::Float32 | DataType::Float64 => KqlType::Real,
            DataType::Utf8 | DataType::Utf8View => KqlType::String,
            DataType::LargeUtf8 | DataType::Null => KqlType::Dynamic,
            DataType::Timestamp(_, _) | DataType::Date32 | DataType::Date64 => KqlType::Datetime,
            DataType::Duration(_) => KqlType::Timespan,
            DataType::Decimal128(_, _) | DataType::Decimal256(_, _) => KqlType::Decimal,
            DataType::Dictionary(_, v) => return KqlType::of_arrow(v),
            _ => return None,
        })
    }

    /// `int`, `long`, `real` or `decimal`.
    pub fn is_numeric(self) -> bool {
        matches!(self, KqlType::Int | KqlType::Long | KqlType::Real | KqlType::Decimal)
    }

    /// `string` or `guid`.
    pub fn is_string_like(self) -> bool {
        matches!(self, KqlType::String | KqlType::Guid)
    }
}

impl fmt::Display for KqlType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}
