//! Regular-expression functions (`matches regex`, `extract`, `extract_all`, `replace_regex`,
//! `trim`, `countof(..., "regex")`): RE2 syntax, compiled once at plan time.

use super::array_util::StrArray;
use datafusion::arrow::array::{ArrayRef, BooleanArray, LargeStringArray, StringArray};
use datafusion::arrow::datatypes::DataType;
use datafusion::common::{Result, ScalarValue, exec_err};
use datafusion::logical_expr::{ColumnarValue, ScalarFunctionArgs, ScalarUDFImpl, Signature, Volatility};
use regex::Regex;
use std::hash::{Hash, Hasher};
use std::sync::Arc;

#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum RegexOp {
    IsMatch,
    /// The capture group's text, "" when there is no match.
    Extract(usize),
    /// `extract_all(regex, [groups,] text)`: a dynamic array of every match, null when there is
    /// none. The groups are indexes or names (empty: every group of the regex, or the whole
    /// match when it has none); one group gives an array of strings, several an array of arrays.
    ExtractAll(Vec<String>),
    /// Replaces every match; `\1`-style group references in the rewrite.
    Replace(String),
    /// Removes leading (first flag) and trailing (second flag) matches.
    Trim(bool, bool),
    /// `countof(text, regex, "regex")`: the number of (non-overlapping) matches.
    Count,
}

#[derive(Debug)]
pub struct RegexFn {
    name: String,
    op: RegexOp,
    pattern: String,
    regex: Regex,
    /// For `Trim`: the pattern anchored at the start and at the end.
    anchored: Option<(Regex, Regex)>,
    /// For `Replace`: the rewrite in the regex crate's `${n}` syntax.
    rewrite: String,
    signature: Signature,
}

impl PartialEq for RegexFn {
    fn eq(&self, o: &Self) -> bool {
        self.name == o.name && self.op == o.op && self.pattern == o.pattern
    }
}
impl Eq for RegexFn {}
impl Hash for RegexFn {
    fn hash<H: Hasher>(&self, h: &mut H) {
        self.name.hash(h);
        self.op.hash(h);
        self.pattern.hash(h);
    }
}

/// `\1` → `${1}`, `$` kept literal where it is not a group reference.
fn convert_rewrite(rw: &str) -> String {
    let mut out = String::new();
    let mut chars = rw.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\\' if chars.peek().is_some_and(char::is_ascii_digit) => {
                let mut n = String::new();
                while let Some(d) = chars.peek().filter(|d| d.is_ascii_digit()) {
                    n.push(*d);
                    chars.next();
                }
                out.push_str(&format!("${{{n}}}"));
            }
            '$' => out.push_str("$$"),
            _ => out.push(c),
        }
    }
    out
}

/// Whether `rest` (after a `{`) is a repetition RE2 accepts: `n}`, `n,}` or `n,m}`.
fn is_repetition(rest: &str) -> bool {
    let Some(end) = rest.find('}') else {
        return false;
    };
    let body = &rest[..end];
    let digits = |t: &str| !t.is_empty() && t.bytes().all(|c| c.is_ascii_digit());
    match body.split_once(',') {
        None => digits(body),
        Some((a, b)) => digits(a) && (b.is_empty() || digits(b)),
    }
}

/// RE2 syntax the regex crate reads differently: octal escapes (`\0`, `\012`) become
/// `\x{..}`, and a `{` that does not start a repetition (`{1-3}`), a literal in RE2, is escaped.
pub(crate) fn octal_escapes(pattern: &str) -> String {
    let b = pattern.as_bytes();
    let mut out = String::with_capacity(pattern.len());
    let mut i = 0;
    // Inside a character class `{` is a literal for both engines.
    let mut in_class = false;
    while i < b.len() {
        if !in_class && b[i] == b'[' {
            in_class = true;
            out.push('[');
            i += 1;
            // A `]` right after `[` or `[^` is a literal member.
            if b.get(i) == Some(&b'^') {
                out.push('^');
                i += 1;
            }
            if b.get(i) == Some(&b']') {
                out.push(']');
                i += 1;
            }
            continue;
        }
        if in_class && b[i] == b']' {
            in_class = false;
        }
        if !in_class && b[i] == b'{' && !is_repetition(&pattern[i + 1..]) {
            out.push_str("\\{");
            i += 1;
            continue;
        }
        if b[i] == b'\\' && i + 1 < b.len() {
            if b[i + 1] == b'0' {
                let digits = b[i + 1..]
                    .iter()
                    .take(3)
                    .take_while(|c| (b'0'..=b'7').contains(c))
                    .count();
                let code = pattern[i + 1..i + 1 + digits]
                    .bytes()
                    .fold(0u32, |v, d| v * 8 + u32::from(d - b'0'));
                out.push_str(&format!("\\x{{{code:x}}}"));
                i += 1 + digits;
                continue;
            }
            out.push_str(&pattern[i..i + 2]);
            i += 2;
            continue;
        }
        let ch = pattern[i..].chars().next().unwrap_or('\u{fffd}');
        out.push(ch);
        i += ch.len_utf8().max(1);
    }
    out
}

impl RegexFn {
    pub fn new(name: &str, op: RegexOp, pattern: &str) -> Result<RegexFn, String> {
        let converted = octal_escapes(pattern);
        let pattern = converted.as_str();
        let regex = Regex::new(pattern).map_err(|e| format!("invalid regular expression {pattern:?}: {e}"))?;
        let anchored = match op {
            RegexOp::Trim(..) => Some((
                Regex::new(&format!("^(?:{pattern})+")).map_err(|e| e.to_string())?,
                Regex::new(&format!("(?:{pattern})+$")).map_err(|e| e.to_string())?,
            )),
            _ => None,
        };
        let rewrite = match &op {
            RegexOp::Replace(rw) => convert_rewrite(rw),
            _ => String::new(),
        };
        let signature = Signature::variadic_any(Volatility::Immutable);
        Ok(RegexFn {
            name: name.to_string(),
            op,
            pattern: pattern.to_string(),
            regex,
            anchored,
            rewrite,
            signature,
        })
    }

    fn apply(&self, text: &str) -> Value {
        match &self.op {
            RegexOp::IsMatch => Value::Bool(self.regex.is_match(text)),
            RegexOp::Extract(g) => Value::Text(
                self.regex
                    .captures(text)
                    .and_then(|c| c.get(*g))
                    .map(|m| m.as_str().to_string())
                    .unwrap_or_default(),
            ),
            RegexOp::ExtractAll(refs) => {
                let groups: Vec<usize> = if refs.is_empty() {
                    match self.regex.captures_len() {
                        0 | 1 => vec![0],
                        n => (1..n).collect(),
                    }
                } else {
                    let names: Vec<Option<&str>> = self.regex.capture_names().collect();
                    refs.iter()
                        .filter_map(|r| match r.parse::<usize>() {
                            Ok(k) => Some(k),
                            Err(_) => names.iter().position(|n| *n == Some(r.as_str())),
                        })
                        .collect()
                };
                let text_of = |c: &regex::Captures, g: usize| {
                    serde_json::Value::String(c.get(g).map_or("", |m| m.as_str()).to_string())
                };
                let items: Vec<serde_json::Value> = self
                    .regex
                    .captures_iter(text)
                    .map(|c| match groups.as_slice() {
                        [g] => text_of(&c, *g),
                        gs => serde_json::Value::Array(gs.iter().map(|g| text_of(&c, *g)).collect()),
                    })
                    .collect();
                if items.is_empty() {
                    Value::Missing
                } else {
                    Value::Json(serde_json::Value::Array(items).to_string())
                }
            }
            RegexOp::Count => Value::Count(self.regex.find_iter(text).count() as i64),
            RegexOp::Replace(_) => Value::Text(self.regex.replace_all(text, self.rewrite.as_str()).into_owned()),
            RegexOp::Trim(start, end) => {
                let (s, e) = self.anchored.as_ref().expect("trim has anchored patterns");
                let mut t = text;
                if *start && let Some(m) = s.find(t) {
                    t = &t[m.end()..];
                }
                if *end && let Some(m) = e.find(t) {
                    t = &t[..m.start()];
                }
                Value::Text(t.to_string())
            }
        }
    }
}

enum Value {
    Bool(bool),
    Count(i64),
    Text(String),
    Json(String),
    /// A null result.
    Missing,
}

impl ScalarUDFImpl for RegexFn {
    fn name(&self) -> &str {
        &self.name
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn return_type(&self, _: &[DataType]) -> Result<DataType> {
        Ok(match self.op {
            RegexOp::IsMatch => DataType::Boolean,
            RegexOp::ExtractAll(_) => DataType::LargeUtf8,
            RegexOp::Count => DataType::Int64,
            _ => DataType::Utf8,
        })
    }

    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        let scalar = matches!(args.args.first(), Some(ColumnarValue::Scalar(_)));
        let arrays = ColumnarValue::values_to_arrays(&args.args)?;
        let Some(a) = arrays.first() else {
            return exec_err!("{} needs a text argument", self.name);
        };
        let texts = StrArray::try_new(a)?;
        let rows = if scalar { 1 } else { texts.len() };
        let out: ArrayRef = match self.op {
            RegexOp::IsMatch => Arc::new(
                (0..rows)
                    .map(|i| match self.apply(texts.value(i).unwrap_or("")) {
                        Value::Bool(b) => Some(b),
                        _ => None,
                    })
                    .collect::<BooleanArray>(),
            ),
            RegexOp::Count => Arc::new(
                (0..rows)
                    .map(|i| match self.apply(texts.value(i).unwrap_or("")) {
                        Value::Count(n) => Some(n),
                        _ => None,
                    })
                    .collect::<datafusion::arrow::array::Int64Array>(),
            ),
            RegexOp::ExtractAll(_) => Arc::new(
                (0..rows)
                    .map(|i| match self.apply(texts.value(i).unwrap_or("")) {
                        Value::Json(j) => Some(j),
                        _ => None,
                    })
                    .collect::<LargeStringArray>(),
            ),
            _ => Arc::new(
                (0..rows)
                    .map(|i| match self.apply(texts.value(i).unwrap_or("")) {
                        Value::Text(t) => Some(t),
                        _ => None,
                    })
                    .collect::<StringArray>(),
            ),
        };
        Ok(if scalar {
            ColumnarValue::Scalar(ScalarValue::try_from_array(&out, 0)?)
        } else {
            ColumnarValue::Array(out)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text(op: RegexOp, pat: &str, t: &str) -> String {
        match RegexFn::new("t", op, pat).unwrap().apply(t) {
            Value::Text(s) | Value::Json(s) => s,
            Value::Bool(b) => b.to_string(),
            Value::Count(n) => n.to_string(),
            Value::Missing => "null".to_string(),
        }
    }

    #[test]
    fn regex_functions() {
        assert_eq!(text(RegexOp::Extract(1), r"user=(\w+)", "id=1 user=bob x"), "bob");
        assert_eq!(text(RegexOp::Extract(1), r"user=(\w+)", "nothing"), "");
        assert_eq!(text(RegexOp::Replace(r"<\1>".into()), r"(\d+)", "a1b22"), "a<1>b<22>");
        assert_eq!(text(RegexOp::Trim(true, true), r"\s", "  x y  "), "x y");
        assert_eq!(text(RegexOp::Trim(false, true), r"\.", "a.b.."), "a.b");
        assert_eq!(text(RegexOp::ExtractAll(vec![]), r"(\d)", "a1b2"), r#"["1","2"]"#);
        assert_eq!(text(RegexOp::IsMatch, r"^any", "anydesk"), "true");
        assert_eq!(text(RegexOp::Count, "aba", "ababa"), "1");
        assert_eq!(text(RegexOp::Count, "a.c", "abcabc"), "2");
        assert!(RegexFn::new("t", RegexOp::IsMatch, "(").is_err());
        assert_eq!(text(RegexOp::Replace(String::new()), r"\0", "a\0b"), "ab");
        assert_eq!(octal_escapes(r"\\0\012"), r"\\0\x{a}");
        assert_eq!(
            octal_escapes(r"_[0-9]{1-3}+a{2}b{2,}c{1,3}[{]"),
            r"_[0-9]\{1-3}+a{2}b{2,}c{1,3}[{]"
        );
        assert_eq!(octal_escapes(r"[]{]x{"), r"[]{]x\{");
    }
}
