//! `dynamic` values (JSON text in `LargeUtf8` columns): parsing, property and index access,
//! conversions, array and bag construction, and the element lists `mv-expand` unnests.

use super::array_util::StrArray;
use crate::value::{format_datetime, format_timespan};
use datafusion::arrow::array::{
    Array, ArrayRef, AsArray, BooleanArray, Float64Array, Int64Array, LargeStringArray, LargeStringBuilder,
    ListBuilder, StringArray,
};
use datafusion::arrow::datatypes::{DataType, Field, TimeUnit};
use datafusion::common::{Result, exec_err};
use datafusion::logical_expr::{ColumnarValue, ScalarFunctionArgs, ScalarUDFImpl, Signature, Volatility};
use serde_json::Value;
use std::sync::Arc;

/// One step of a dynamic access path: `.name` / `["name"]` or `[index]`.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum PathStep {
    Key(String),
    Index(i64),
}

/// What a [`JsonFn`] computes.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum JsonOp {
    /// `parse_json` / `todynamic`: text to dynamic (invalid JSON becomes a JSON string).
    Parse,
    /// `d.a[0]["b"]` with a literal path.
    Get(Vec<PathStep>),
    /// `d[expr]` with a computed index or key (second argument).
    GetDyn,
    /// `tostring(d)`: a JSON string's text, other values as JSON, null as "".
    ToString,
    ToLong,
    ToReal,
    ToBool,
    /// `array_length(d)`: null when `d` is not an array.
    ArrayLength,
    /// `pack_array(v, ...)`
    PackArray,
    /// `bag_pack(k, v, ...)` / `pack(...)`
    BagPack,
    /// `split(s, delimiter)`: a dynamic array of strings.
    Split,
    /// The elements `mv-expand` produces: an array's items, a bag's `{key: value}` pairs.
    Elements,
    /// As `Elements`, but a bag's entries as `[key, value]` arrays (`bagexpansion=array`).
    ElementPairs,
    /// As `Elements` for `mv-expand`: a null value gives one null element (mv-expand page: "If
    /// the dynamic value is null, a single record is produced for that value").
    ExpandElements,
    /// `set_has_element(array, value)`
    SetHasElement,
    /// `strcat_array(array, delimiter)`: the elements' text joined.
    StrcatArray,
    /// `dynamic_to_json(d)`: canonical JSON text, bag properties sorted by name.
    ToCanonicalJson,
}

#[derive(Debug, PartialEq, Eq, Hash)]
pub struct JsonFn {
    name: String,
    op: JsonOp,
    signature: Signature,
}

impl JsonFn {
    pub fn new(name: &str, op: JsonOp) -> JsonFn {
        JsonFn {
            name: name.to_string(),
            op,
            signature: Signature::variadic_any(Volatility::Immutable),
        }
    }
}

/// Parses dynamic JSON text; text that is not JSON is taken as a JSON string.
pub fn parse_value(text: &str) -> Value {
    serde_json::from_str(text).unwrap_or_else(|_| Value::String(text.to_string()))
}

/// Writes `v` as JSON with every bag's properties sorted by name (ordinal).
pub fn canonical_json(v: &Value, out: &mut String) {
    match v {
        Value::Array(items) => {
            out.push('[');
            for (k, item) in items.iter().enumerate() {
                if k > 0 {
                    out.push(',');
                }
                canonical_json(item, out);
            }
            out.push(']');
        }
        Value::Object(m) => {
            let mut keys: Vec<&String> = m.keys().collect();
            keys.sort();
            out.push('{');
            for (k, key) in keys.into_iter().enumerate() {
                if k > 0 {
                    out.push(',');
                }
                out.push_str(&Value::String(key.clone()).to_string());
                out.push(':');
                canonical_json(&m[key], out);
            }
            out.push('}');
        }
        other => out.push_str(&other.to_string()),
    }
}

/// Follows a path into a JSON value. Negative indexes count from the end.
pub fn get_path<'a>(mut v: &'a Value, path: &[PathStep]) -> Option<&'a Value> {
    for step in path {
        v = match (step, v) {
            (PathStep::Key(k), Value::Object(m)) => m.get(k)?,
            (PathStep::Index(i), Value::Array(a)) => {
                let idx = if *i < 0 {
                    a.len().checked_sub(i.unsigned_abs() as usize)?
                } else {
                    *i as usize
                };
                a.get(idx)?
            }
            (PathStep::Index(i), Value::Object(m)) => m.get(&i.to_string())?,
            _ => return None,
        };
    }
    Some(v)
}

/// The text `tostring()` gives for a dynamic value.
pub fn value_to_string(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Null => String::new(),
        other => other.to_string(),
    }
}

fn value_to_long(v: &Value) -> Option<i64> {
    match v {
        Value::Number(n) => n.as_i64().or_else(|| n.as_f64().map(|f| f as i64)),
        Value::Bool(b) => Some(i64::from(*b)),
        Value::String(s) => s
            .trim()
            .parse::<i64>()
            .ok()
            .or_else(|| s.trim().parse::<f64>().ok().map(|f| f as i64)),
        _ => None,
    }
}

fn value_to_real(v: &Value) -> Option<f64> {
    match v {
        Value::Number(n) => n.as_f64(),
        Value::Bool(b) => Some(f64::from(u8::from(*b))),
        Value::String(s) => s.trim().parse::<f64>().ok(),
        _ => None,
    }
}

fn value_to_bool(v: &Value) -> Option<bool> {
    match v {
        Value::Bool(b) => Some(*b),
        Value::Number(n) => n.as_f64().map(|f| f != 0.0),
        Value::String(s) if s.eq_ignore_ascii_case("true") => Some(true),
        Value::String(s) if s.eq_ignore_ascii_case("false") => Some(false),
        _ => None,
    }
}

/// Row `i` of any column as a JSON value (the form it takes inside a dynamic array or bag).
pub fn json_at(array: &ArrayRef, i: usize) -> Value {
    if array.is_null(i) {
        return Value::Null;
    }
    match array.data_type() {
        DataType::LargeUtf8 => parse_value(array.as_string::<i64>().value(i)),
        DataType::Utf8 => Value::String(array.as_string::<i32>().value(i).to_string()),
        DataType::Utf8View => Value::String(array.as_string_view().value(i).to_string()),
        DataType::Boolean => Value::Bool(array.as_boolean().value(i)),
        DataType::Int64 => Value::from(array.as_primitive::<datafusion::arrow::datatypes::Int64Type>().value(i)),
        DataType::Int32 => Value::from(array.as_primitive::<datafusion::arrow::datatypes::Int32Type>().value(i)),
        DataType::Float64 => {
            let f = array
                .as_primitive::<datafusion::arrow::datatypes::Float64Type>()
                .value(i);
            serde_json::Number::from_f64(f).map_or(Value::Null, Value::Number)
        }
        DataType::Timestamp(TimeUnit::Nanosecond, _) => Value::String(format_datetime(
            array
                .as_primitive::<datafusion::arrow::datatypes::TimestampNanosecondType>()
                .value(i),
        )),
        DataType::Duration(TimeUnit::Nanosecond) => Value::String(format_timespan(
            array
                .as_primitive::<datafusion::arrow::datatypes::DurationNanosecondType>()
                .value(i),
        )),
        DataType::Null => Value::Null,
        other => Value::String(format!("<{other}>")),
    }
}

fn dyn_at(array: &ArrayRef, i: usize) -> Option<Value> {
    if array.is_null(i) {
        return None;
    }
    Some(match array.data_type() {
        DataType::LargeUtf8 => parse_value(array.as_string::<i64>().value(i)),
        _ => json_at(array, i),
    })
}

impl ScalarUDFImpl for JsonFn {
    fn name(&self) -> &str {
        &self.name
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn return_type(&self, _: &[DataType]) -> Result<DataType> {
        Ok(match self.op {
            JsonOp::ToString | JsonOp::StrcatArray | JsonOp::ToCanonicalJson => DataType::Utf8,
            JsonOp::ToLong | JsonOp::ArrayLength => DataType::Int64,
            JsonOp::ToReal => DataType::Float64,
            JsonOp::ToBool | JsonOp::SetHasElement => DataType::Boolean,
            JsonOp::Elements | JsonOp::ElementPairs | JsonOp::ExpandElements => {
                DataType::List(Arc::new(Field::new_list_field(DataType::LargeUtf8, true)))
            }
            _ => DataType::LargeUtf8,
        })
    }

    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        let n = args.number_rows;
        let all_scalar = args.args.iter().all(|a| matches!(a, ColumnarValue::Scalar(_)));
        let arrays = ColumnarValue::values_to_arrays(&args.args)?;
        let rows = if all_scalar { 1 } else { n };
        let out = self.compute(&arrays, rows)?;
        if all_scalar {
            Ok(ColumnarValue::Scalar(datafusion::common::ScalarValue::try_from_array(
                &out, 0,
            )?))
        } else {
            Ok(ColumnarValue::Array(out))
        }
    }
}

impl JsonFn {
    fn compute(&self, arrays: &[ArrayRef], rows: usize) -> Result<ArrayRef> {
        let first = || {
            arrays.first().ok_or_else(|| {
                datafusion::error::DataFusionError::Execution(format!("{} needs an argument", self.name))
            })
        };
        Ok(match &self.op {
            JsonOp::Parse => {
                let a = first()?;
                if a.data_type() == &DataType::LargeUtf8 {
                    return Ok(a.clone());
                }
                let s = StrArray::try_new(a)?;
                let out: LargeStringArray = (0..rows)
                    .map(|i| {
                        s.value(i).filter(|t| !t.is_empty()).map(|t| {
                            if serde_json::from_str::<serde::de::IgnoredAny>(t).is_ok() {
                                t.to_string()
                            } else {
                                Value::String(t.to_string()).to_string()
                            }
                        })
                    })
                    .collect();
                Arc::new(out)
            }
            JsonOp::Get(path) => {
                let a = first()?;
                let out: LargeStringArray = (0..rows)
                    .map(|i| dyn_at(a, i).and_then(|v| get_path(&v, path).map(Value::to_string)))
                    .collect();
                Arc::new(out)
            }
            JsonOp::GetDyn => {
                let (a, k) = (
                    first()?,
                    arrays
                        .get(1)
                        .ok_or_else(|| datafusion::error::DataFusionError::Execution("index needed".into()))?,
                );
                let out: LargeStringArray = (0..rows)
                    .map(|i| {
                        let v = dyn_at(a, i)?;
                        let step = match json_at(k, i) {
                            Value::Number(n) => PathStep::Index(n.as_i64()?),
                            Value::String(s) => PathStep::Key(s),
                            _ => return None,
                        };
                        get_path(&v, &[step]).map(Value::to_string)
                    })
                    .collect();
                Arc::new(out)
            }
            JsonOp::ToCanonicalJson => {
                let a = first()?;
                let out: StringArray = (0..rows)
                    .map(|i| {
                        Some(dyn_at(a, i).map_or_else(String::new, |v| match v {
                            Value::Array(_) | Value::Object(_) => {
                                let mut text = String::new();
                                canonical_json(&v, &mut text);
                                text
                            }
                            other => value_to_string(&other),
                        }))
                    })
                    .collect();
                Arc::new(out)
            }
            JsonOp::ToString => {
                let a = first()?;
                let out: StringArray = (0..rows)
                    .map(|i| Some(dyn_at(a, i).map(|v| value_to_string(&v)).unwrap_or_default()))
                    .collect();
                Arc::new(out)
            }
            JsonOp::ToLong => {
                let a = first()?;
                Arc::new(
                    (0..rows)
                        .map(|i| dyn_at(a, i).and_then(|v| value_to_long(&v)))
                        .collect::<Int64Array>(),
                )
            }
            JsonOp::ToReal => {
                let a = first()?;
                Arc::new(
                    (0..rows)
                        .map(|i| dyn_at(a, i).and_then(|v| value_to_real(&v)))
                        .collect::<Float64Array>(),
                )
            }
            JsonOp::ToBool => {
                let a = first()?;
                Arc::new(
                    (0..rows)
                        .map(|i| dyn_at(a, i).and_then(|v| value_to_bool(&v)))
                        .collect::<BooleanArray>(),
                )
            }
            JsonOp::ArrayLength => {
                let a = first()?;
                Arc::new(
                    (0..rows)
                        .map(|i| match dyn_at(a, i) {
                            Some(Value::Array(items)) => Some(items.len() as i64),
                            _ => None,
                        })
                        .collect::<Int64Array>(),
                )
            }
            JsonOp::PackArray => {
                let out: LargeStringArray = (0..rows)
                    .map(|i| Some(Value::Array(arrays.iter().map(|a| json_at(a, i)).collect()).to_string()))
                    .collect();
                Arc::new(out)
            }
            JsonOp::BagPack => {
                if !arrays.len().is_multiple_of(2) {
                    return exec_err!("{} takes key/value pairs", self.name);
                }
                let out: LargeStringArray = (0..rows)
                    .map(|i| {
                        let mut m = serde_json::Map::new();
                        for pair in arrays.chunks(2) {
                            m.insert(value_to_string(&json_at(&pair[0], i)), json_at(&pair[1], i));
                        }
                        Some(Value::Object(m).to_string())
                    })
                    .collect();
                Arc::new(out)
            }
            JsonOp::Split => {
                let (s, d) = (
                    StrArray::try_new(first()?)?,
                    arrays.get(1).map(StrArray::try_new).transpose()?,
                );
                let out: LargeStringArray = (0..rows)
                    .map(|i| {
                        let text = s.value(i).unwrap_or("");
                        let delim = d.as_ref().and_then(|d| d.value(i)).unwrap_or("");
                        let parts: Vec<Value> = if delim.is_empty() {
                            vec![Value::String(text.to_string())]
                        } else {
                            text.split(delim).map(|p| Value::String(p.to_string())).collect()
                        };
                        // split(s, d, k): an array of the k-th part alone, empty when there is none.
                        let parts = match arrays.get(2) {
                            None => parts,
                            Some(k) => {
                                let k = json_at(k, i).as_i64()?;
                                usize::try_from(k)
                                    .ok()
                                    .and_then(|k| parts.into_iter().nth(k))
                                    .into_iter()
                                    .collect()
                            }
                        };
                        Some(Value::Array(parts).to_string())
                    })
                    .collect();
                Arc::new(out)
            }
            JsonOp::Elements | JsonOp::ElementPairs | JsonOp::ExpandElements => {
                let pairs = self.op == JsonOp::ElementPairs;
                let keep_null = self.op != JsonOp::Elements;
                let a = first()?;
                let mut b = ListBuilder::new(LargeStringBuilder::new());
                for i in 0..rows {
                    match dyn_at(a, i) {
                        Some(Value::Array(items)) => {
                            for it in items {
                                b.values().append_value(it.to_string());
                            }
                            b.append(true);
                        }
                        Some(Value::Object(m)) => {
                            for (k, v) in m {
                                let item = if pairs {
                                    Value::Array(vec![Value::String(k), v])
                                } else {
                                    let mut one = serde_json::Map::new();
                                    one.insert(k, v);
                                    Value::Object(one)
                                };
                                b.values().append_value(item.to_string());
                            }
                            b.append(true);
                        }
                        Some(Value::Null) | None => {
                            if keep_null {
                                b.values().append_null();
                            }
                            b.append(true)
                        }
                        Some(scalar) => {
                            b.values().append_value(scalar.to_string());
                            b.append(true);
                        }
                    }
                }
                Arc::new(b.finish())
            }
            JsonOp::StrcatArray => {
                let a = first()?;
                let d = arrays.get(1).map(StrArray::try_new).transpose()?;
                let out: StringArray = (0..rows)
                    .map(|i| match dyn_at(a, i) {
                        Some(Value::Array(items)) => {
                            let delim = d.as_ref().and_then(|d| d.value(i)).unwrap_or("");
                            Some(items.iter().map(value_to_string).collect::<Vec<_>>().join(delim))
                        }
                        _ => Some(String::new()),
                    })
                    .collect();
                Arc::new(out)
            }
            JsonOp::SetHasElement => {
                let (a, v) = (
                    first()?,
                    arrays
                        .get(1)
                        .ok_or_else(|| datafusion::error::DataFusionError::Execution("value needed".into()))?,
                );
                Arc::new(
                    (0..rows)
                        .map(|i| match dyn_at(a, i) {
                            Some(Value::Array(items)) => Some(items.contains(&json_at(v, i))),
                            _ => None,
                        })
                        .collect::<BooleanArray>(),
                )
            }
        })
    }
}
