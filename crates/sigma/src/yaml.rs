//! Small helpers over `serde_norway::Value`: typed attribute access with field-path errors.

use serde_norway::{Mapping, Value};

use crate::error::{ErrorKind, FieldError, FieldResult};

/// Human name of a YAML node type, for error messages.
pub(crate) fn type_name(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "boolean",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Sequence(_) => "list",
        Value::Mapping(_) => "map",
        Value::Tagged(_) => "tagged value",
    }
}

pub(crate) fn type_error(path: &str, expected: &'static str, found: &Value) -> FieldError {
    FieldError::new(
        path,
        ErrorKind::Type {
            expected,
            found: type_name(found),
        },
    )
}

/// Joins a parent path and a key: `detection` + `selection` = `detection.selection`.
pub(crate) fn join(parent: &str, key: &str) -> String {
    if parent.is_empty() {
        key.to_owned()
    } else {
        format!("{parent}.{key}")
    }
}

/// Text of a scalar (strings, numbers and booleans), `None` for other nodes.
pub(crate) fn scalar_text(v: &Value) -> Option<String> {
    match v {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

/// Looks up a string key in a mapping.
pub(crate) fn get<'a>(m: &'a Mapping, key: &str) -> Option<&'a Value> {
    m.get(key)
}

/// Optional scalar attribute rendered as text.
pub(crate) fn opt_text(m: &Mapping, key: &str, path: &str) -> FieldResult<Option<String>> {
    match get(m, key) {
        None | Some(Value::Null) => Ok(None),
        Some(v) => scalar_text(v)
            .map(Some)
            .ok_or_else(|| type_error(&join(path, key), "string", v)),
    }
}

/// Mandatory scalar attribute rendered as text.
pub(crate) fn req_text(m: &Mapping, key: &str, path: &str) -> FieldResult<String> {
    opt_text(m, key, path)?.ok_or_else(|| FieldError::new(join(path, key), ErrorKind::Missing))
}

/// Optional list of scalars; a single scalar counts as a one-element list.
pub(crate) fn opt_text_list(m: &Mapping, key: &str, path: &str) -> FieldResult<Vec<String>> {
    let p = join(path, key);
    match get(m, key) {
        None | Some(Value::Null) => Ok(Vec::new()),
        Some(Value::Sequence(items)) => items
            .iter()
            .enumerate()
            .map(|(i, v)| scalar_text(v).ok_or_else(|| type_error(&format!("{p}[{i}]"), "string", v)))
            .collect(),
        Some(v) => scalar_text(v)
            .map(|s| vec![s])
            .ok_or_else(|| type_error(&p, "list of strings", v)),
    }
}

/// Mandatory map attribute.
pub(crate) fn req_map<'a>(m: &'a Mapping, key: &str, path: &str) -> FieldResult<&'a Mapping> {
    match get(m, key) {
        Some(Value::Mapping(v)) => Ok(v),
        Some(other) => Err(type_error(&join(path, key), "map", other)),
        None => Err(FieldError::new(join(path, key), ErrorKind::Missing)),
    }
}

/// Optional map attribute; absent and `null` are `None`.
pub(crate) fn opt_map<'a>(m: &'a Mapping, key: &str, path: &str) -> FieldResult<Option<&'a Mapping>> {
    match get(m, key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Mapping(v)) => Ok(Some(v)),
        Some(other) => Err(type_error(&join(path, key), "map", other)),
    }
}

/// A finite number written as a YAML number or as text.
pub(crate) fn number(v: &Value) -> Option<f64> {
    match v {
        Value::Number(n) => n.as_f64(),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
    .filter(|n: &f64| n.is_finite())
}

/// Key of a mapping entry as text.
pub(crate) fn key_text(k: &Value, path: &str) -> FieldResult<String> {
    scalar_text(k).ok_or_else(|| type_error(path, "string key", k))
}
