//! Modifiers about fields rather than values: `exists` (presence) and `fieldref` (equality with
//! another field of the same event).

use serde_norway::Value as Yaml;

use super::Value;
use crate::error::{ErrorKind, FieldError, FieldResult};
use crate::yaml::{scalar_text, type_name};

/// The `exists` value of one YAML scalar: a boolean, or the text `true`/`false` in any case.
pub(super) fn exists_value(item: &Yaml, path: &str) -> FieldResult<Value> {
    match item {
        Yaml::Bool(b) => Ok(Value::Exists(*b)),
        Yaml::String(s) if s.eq_ignore_ascii_case("true") || s.eq_ignore_ascii_case("false") => {
            Ok(Value::Exists(s.eq_ignore_ascii_case("true")))
        }
        v => Err(FieldError::new(
            path,
            ErrorKind::Type {
                expected: "boolean",
                found: type_name(v),
            },
        )),
    }
}

/// The `fieldref` value of one YAML scalar: the name of the other field.
pub(super) fn field_ref_value(item: &Yaml, path: &str) -> FieldResult<Value> {
    let name = scalar_text(item).unwrap_or_default();
    if name.is_empty() {
        return Err(FieldError::new(
            path,
            ErrorKind::Value("`fieldref` needs a field name".into()),
        ));
    }
    Ok(Value::FieldRef(name))
}
