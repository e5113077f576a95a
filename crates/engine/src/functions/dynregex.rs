//! `text matches regex pattern` where the pattern is not a constant: RE2 syntax, compiled once per
//! distinct pattern met (the last one is kept); an invalid pattern is an execution error.

use super::array_util::StrArray;
use super::regex::octal_escapes;
use datafusion::arrow::array::{ArrayRef, BooleanArray};
use datafusion::arrow::compute::cast;
use datafusion::arrow::datatypes::DataType;
use datafusion::common::{Result, ScalarValue, exec_err};
use datafusion::logical_expr::{ColumnarValue, ScalarFunctionArgs, ScalarUDFImpl, Signature, Volatility};
use regex::Regex;
use std::hash::{Hash, Hasher};
use std::sync::{Arc, Mutex};

#[derive(Debug)]
pub struct DynRegexMatch {
    signature: Signature,
    /// The last pattern compiled, with its regex.
    last: Mutex<Option<(String, Regex)>>,
}

impl DynRegexMatch {
    pub fn new() -> DynRegexMatch {
        DynRegexMatch {
            signature: Signature::variadic_any(Volatility::Immutable),
            last: Mutex::new(None),
        }
    }
}

impl Default for DynRegexMatch {
    fn default() -> Self {
        Self::new()
    }
}

impl PartialEq for DynRegexMatch {
    fn eq(&self, _: &Self) -> bool {
        true
    }
}
impl Eq for DynRegexMatch {}
impl Hash for DynRegexMatch {
    fn hash<H: Hasher>(&self, h: &mut H) {
        "matches regex".hash(h);
    }
}

fn as_text(a: &ArrayRef) -> Result<ArrayRef> {
    Ok(match a.data_type() {
        DataType::Utf8 | DataType::Utf8View | DataType::LargeUtf8 => a.clone(),
        _ => cast(a, &DataType::Utf8)?,
    })
}

impl ScalarUDFImpl for DynRegexMatch {
    fn name(&self) -> &str {
        "matches regex"
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn return_type(&self, _: &[DataType]) -> Result<DataType> {
        Ok(DataType::Boolean)
    }

    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        let all_scalar = args.args.iter().all(|a| matches!(a, ColumnarValue::Scalar(_)));
        let rows = if all_scalar { 1 } else { args.number_rows };
        let arrays = ColumnarValue::values_to_arrays(&args.args)?;
        let [text, pattern] = arrays.as_slice() else {
            return exec_err!("matches regex takes a text and a pattern");
        };
        let (text, pattern) = (as_text(text)?, as_text(pattern)?);
        let (texts, patterns) = (StrArray::try_new(&text)?, StrArray::try_new(&pattern)?);
        let mut last = match self.last.lock() {
            Ok(g) => g,
            Err(poisoned) => poisoned.into_inner(),
        };
        let mut out = Vec::with_capacity(rows);
        for i in 0..rows {
            let p = patterns.value(i).unwrap_or("");
            if last.as_ref().is_none_or(|(q, _)| q != p) {
                let re = Regex::new(&octal_escapes(p)).map_err(|e| {
                    datafusion::error::DataFusionError::Execution(format!(
                        "matches regex: invalid regular expression {p:?}: {e}"
                    ))
                })?;
                *last = Some((p.to_string(), re));
            }
            let re = &last.as_ref().expect("compiled above").1;
            out.push(Some(re.is_match(texts.value(i).unwrap_or(""))));
        }
        let out: ArrayRef = Arc::new(out.into_iter().collect::<BooleanArray>());
        Ok(if all_scalar {
            ColumnarValue::Scalar(ScalarValue::try_from_array(&out, 0)?)
        } else {
            ColumnarValue::Array(out)
        })
    }
}
