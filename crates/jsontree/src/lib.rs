//! A borrowed, order-preserving JSON tree for decoding records fast.
//!
//! `serde_json::Value` (with the `preserve_order` feature our dependency set turns on) copies every
//! key and string and hashes every key into an `IndexMap`. Reading millions of evtx records, that is
//! the largest cost after rendering. [`Json`] instead keeps objects as vectors of pairs in document
//! order and borrows every string that needs no unescaping from the input buffer. Both the
//! telemetry readers and the Sigma matcher decode evtx JSON with it; neither depends on the other.

#![warn(missing_docs)]

use std::borrow::Cow;
use std::fmt;

pub mod evtx;

use serde::de::{self, Deserialize, DeserializeSeed, Deserializer, MapAccess, SeqAccess, Visitor};
use serde_json::{Map, Number, Value};

/// A JSON value borrowing its text from the parsed buffer where it can.
#[derive(Debug, Clone, PartialEq)]
pub enum Json<'a> {
    /// `null`.
    Null,
    /// `true` / `false`.
    Bool(bool),
    /// An integer that fits `i64`.
    Int(i64),
    /// A positive integer above `i64::MAX`.
    UInt(u64),
    /// Any other number.
    Float(f64),
    /// A string; borrowed unless it contained escapes.
    Str(Cow<'a, str>),
    /// An array.
    Array(Vec<Json<'a>>),
    /// An object: its members in document order (a repeated key is kept twice).
    Object(Vec<(Cow<'a, str>, Json<'a>)>),
}

impl<'a> Json<'a> {
    /// Parses one JSON document. Nesting is bounded by `serde_json`'s recursion limit.
    pub fn parse(bytes: &'a [u8]) -> Result<Json<'a>, serde_json::Error> {
        let mut de = serde_json::Deserializer::from_slice(bytes);
        let v = Json::deserialize(&mut de)?;
        de.end()?;
        Ok(v)
    }

    /// Borrows a `serde_json::Value` as a tree (strings are borrowed, not copied).
    pub fn from_value(v: &'a Value) -> Json<'a> {
        match v {
            Value::Null => Json::Null,
            Value::Bool(b) => Json::Bool(*b),
            Value::Number(n) => number(n),
            Value::String(s) => Json::Str(Cow::Borrowed(s)),
            Value::Array(a) => Json::Array(a.iter().map(Json::from_value).collect()),
            Value::Object(o) => Json::Object(
                o.iter()
                    .map(|(k, v)| (Cow::Borrowed(k.as_str()), Json::from_value(v)))
                    .collect(),
            ),
        }
    }

    /// The member named `key` of an object (the last one when the key repeats, as in a
    /// `serde_json::Value` parsed from the same text); `None` for other values.
    pub fn get(&self, key: &str) -> Option<&Json<'a>> {
        match self {
            Json::Object(members) => members.iter().rev().find(|(k, _)| k == key).map(|(_, v)| v),
            _ => None,
        }
    }

    /// The members of an object.
    pub fn as_object(&self) -> Option<&[(Cow<'a, str>, Json<'a>)]> {
        match self {
            Json::Object(members) => Some(members),
            _ => None,
        }
    }

    /// The text of a string.
    pub fn as_str(&self) -> Option<&str> {
        match self {
            Json::Str(s) => Some(s),
            _ => None,
        }
    }

    /// Whether the value is `null`.
    pub fn is_null(&self) -> bool {
        matches!(self, Json::Null)
    }

    /// The text of a scalar: strings as they are, numbers and booleans as JSON spells them.
    pub fn scalar_text(&self) -> Option<Cow<'_, str>> {
        match self {
            Json::Str(s) => Some(Cow::Borrowed(s)),
            Json::Int(i) => Some(Cow::Owned(i.to_string())),
            Json::UInt(u) => Some(Cow::Owned(u.to_string())),
            Json::Float(f) => Some(Cow::Owned(Value::from(*f).to_string())),
            Json::Bool(b) => Some(Cow::Borrowed(if *b { "true" } else { "false" })),
            Json::Null | Json::Array(_) | Json::Object(_) => None,
        }
    }

    /// An owned `serde_json::Value` with the same content and member order.
    pub fn to_value(&self) -> Value {
        match self {
            Json::Null => Value::Null,
            Json::Bool(b) => Value::Bool(*b),
            Json::Int(i) => Value::from(*i),
            Json::UInt(u) => Value::from(*u),
            Json::Float(f) => Value::from(*f),
            Json::Str(s) => Value::String(s.to_string()),
            Json::Array(a) => Value::Array(a.iter().map(Json::to_value).collect()),
            Json::Object(o) => {
                let mut map = Map::with_capacity(o.len());
                for (k, v) in o {
                    // A repeated key keeps its first position and its last value, as `get` does.
                    map.insert(k.to_string(), v.to_value());
                }
                Value::Object(map)
            }
        }
    }
}

impl fmt::Display for Json<'_> {
    /// Compact JSON text.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&self.to_value(), f)
    }
}

fn number(n: &Number) -> Json<'static> {
    if let Some(i) = n.as_i64() {
        Json::Int(i)
    } else if let Some(u) = n.as_u64() {
        Json::UInt(u)
    } else {
        Json::Float(n.as_f64().unwrap_or(f64::NAN))
    }
}

struct TreeVisitor;

impl<'de> Visitor<'de> for TreeVisitor {
    type Value = Json<'de>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("any JSON value")
    }

    fn visit_bool<E: de::Error>(self, v: bool) -> Result<Json<'de>, E> {
        Ok(Json::Bool(v))
    }

    fn visit_i64<E: de::Error>(self, v: i64) -> Result<Json<'de>, E> {
        Ok(Json::Int(v))
    }

    fn visit_u64<E: de::Error>(self, v: u64) -> Result<Json<'de>, E> {
        Ok(i64::try_from(v).map_or(Json::UInt(v), Json::Int))
    }

    fn visit_f64<E: de::Error>(self, v: f64) -> Result<Json<'de>, E> {
        Ok(Json::Float(v))
    }

    fn visit_borrowed_str<E: de::Error>(self, v: &'de str) -> Result<Json<'de>, E> {
        Ok(Json::Str(Cow::Borrowed(v)))
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<Json<'de>, E> {
        Ok(Json::Str(Cow::Owned(v.to_owned())))
    }

    fn visit_string<E: de::Error>(self, v: String) -> Result<Json<'de>, E> {
        Ok(Json::Str(Cow::Owned(v)))
    }

    fn visit_unit<E: de::Error>(self) -> Result<Json<'de>, E> {
        Ok(Json::Null)
    }

    fn visit_none<E: de::Error>(self) -> Result<Json<'de>, E> {
        Ok(Json::Null)
    }

    fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Json<'de>, D::Error> {
        Json::deserialize(d)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Json<'de>, A::Error> {
        let mut items = Vec::with_capacity(seq.size_hint().unwrap_or(0).min(64));
        while let Some(item) = seq.next_element()? {
            items.push(item);
        }
        Ok(Json::Array(items))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Json<'de>, A::Error> {
        let mut members = Vec::with_capacity(map.size_hint().unwrap_or(0).min(64));
        while let Some(key) = map.next_key_seed(KeySeed)? {
            members.push((key, map.next_value()?));
        }
        Ok(Json::Object(members))
    }
}

impl<'de> Deserialize<'de> for Json<'de> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Json<'de>, D::Error> {
        d.deserialize_any(TreeVisitor)
    }
}

/// Object keys, borrowed when they need no unescaping.
struct KeySeed;

impl<'de> DeserializeSeed<'de> for KeySeed {
    type Value = Cow<'de, str>;

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Cow<'de, str>, D::Error> {
        d.deserialize_str(KeyVisitor)
    }
}

struct KeyVisitor;

impl<'de> Visitor<'de> for KeyVisitor {
    type Value = Cow<'de, str>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an object key")
    }

    fn visit_borrowed_str<E: de::Error>(self, v: &'de str) -> Result<Cow<'de, str>, E> {
        Ok(Cow::Borrowed(v))
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<Cow<'de, str>, E> {
        Ok(Cow::Owned(v.to_owned()))
    }

    fn visit_string<E: de::Error>(self, v: String) -> Result<Cow<'de, str>, E> {
        Ok(Cow::Owned(v))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_order_and_repeated_keys_and_borrows_plain_text() {
        let text = br#"{"b": 1, "a": "plain", "b": [true, null, 2.5], "esc": "C:\\Windows"}"#;
        let j = Json::parse(text).unwrap();
        let members = j.as_object().unwrap();
        let keys: Vec<&str> = members.iter().map(|(k, _)| k.as_ref()).collect();
        assert_eq!(keys, ["b", "a", "b", "esc"]);
        assert_eq!(members[0].1, Json::Int(1));
        assert_eq!(j.get("b"), members.get(2).map(|(_, v)| v), "the last of a repeated key");
        assert!(matches!(j.get("a"), Some(Json::Str(Cow::Borrowed("plain")))));
        assert!(matches!(j.get("esc"), Some(Json::Str(Cow::Owned(s))) if s == r"C:\Windows"));
        assert_eq!(
            members[2].1,
            Json::Array(vec![Json::Bool(true), Json::Null, Json::Float(2.5)])
        );
    }

    #[test]
    fn numbers_keep_their_kind() {
        let j = Json::parse(b"[-3, 18446744073709551615, 1e3, 0.1]").unwrap();
        let Json::Array(items) = j else { panic!("not an array") };
        assert_eq!(items[0], Json::Int(-3));
        assert_eq!(items[1], Json::UInt(u64::MAX));
        assert_eq!(items[2], Json::Float(1000.0));
        assert_eq!(items[1].scalar_text().as_deref(), Some("18446744073709551615"));
        assert_eq!(items[3].scalar_text().as_deref(), Some("0.1"));
    }

    #[test]
    fn repeated_keys_resolve_like_serde_json() {
        let text = r#"{"k": 1, "j": 0, "k": 2}"#;
        let value: Value = serde_json::from_str(text).unwrap();
        let tree = Json::parse(text.as_bytes()).unwrap();
        assert_eq!(tree.to_value(), value);
        assert_eq!(tree.get("k").map(Json::to_value), value.get("k").cloned());
    }

    #[test]
    fn agrees_with_serde_json_value() {
        let text = r##"{"Event": {"System": {"EventID": {"#attributes": {"Qualifiers": 0}, "#text": 7045}},
            "EventData": {"ServiceName": "TeamViewer", "x": [1, {"y": "z\u00e9"}]}}}"##;
        let tree = Json::parse(text.as_bytes()).unwrap();
        let value: Value = serde_json::from_str(text).unwrap();
        assert_eq!(tree.to_value(), value);
        assert_eq!(Json::from_value(&value), tree);
        assert_eq!(tree.to_string(), value.to_string());
    }

    #[test]
    fn bad_input_is_an_error() {
        assert!(Json::parse(b"{\"a\": }").is_err());
        assert!(Json::parse(b"{} trailing").is_err());
        assert!(
            Json::parse(&[b'['; 10_000]).is_err(),
            "deep nesting is refused, not a stack overflow"
        );
    }
}
