//! Helpers for UDF bodies: reading any Arrow string array, building results.

use datafusion::arrow::array::{Array, ArrayRef, BooleanArray, LargeStringArray, StringArray, StringViewArray};
use datafusion::arrow::datatypes::DataType;
use datafusion::common::{Result, ScalarValue, exec_err};
use std::sync::Arc;

/// A borrowed view of a `Utf8`, `Utf8View` or `LargeUtf8` array.
pub enum StrArray<'a> {
    Utf8(&'a StringArray),
    View(&'a StringViewArray),
    Large(&'a LargeStringArray),
}

impl<'a> StrArray<'a> {
    pub fn try_new(array: &'a ArrayRef) -> Result<StrArray<'a>> {
        let any = array.as_any();
        Ok(match array.data_type() {
            DataType::Utf8 => StrArray::Utf8(any.downcast_ref().expect("Utf8 is a StringArray")),
            DataType::Utf8View => StrArray::View(any.downcast_ref().expect("Utf8View is a StringViewArray")),
            DataType::LargeUtf8 => StrArray::Large(any.downcast_ref().expect("LargeUtf8 is a LargeStringArray")),
            other => return exec_err!("expected a string column, found {other}"),
        })
    }

    pub fn len(&self) -> usize {
        match self {
            StrArray::Utf8(a) => a.len(),
            StrArray::View(a) => a.len(),
            StrArray::Large(a) => a.len(),
        }
    }

    /// Row `i`, `None` for null.
    pub fn value(&self, i: usize) -> Option<&'a str> {
        match self {
            StrArray::Utf8(a) => (!a.is_null(i)).then(|| a.value(i)),
            StrArray::View(a) => (!a.is_null(i)).then(|| a.value(i)),
            StrArray::Large(a) => (!a.is_null(i)).then(|| a.value(i)),
        }
    }
}

/// The text of a string scalar of any string type.
pub fn scalar_str(s: &ScalarValue) -> Option<&str> {
    match s {
        ScalarValue::Utf8(v) | ScalarValue::Utf8View(v) | ScalarValue::LargeUtf8(v) => v.as_deref(),
        _ => None,
    }
}

pub fn bool_result(n: usize, f: impl FnMut(usize) -> Option<bool>) -> ArrayRef {
    Arc::new((0..n).map(f).collect::<BooleanArray>())
}
