//! Text formats parsed into dynamic values: `parse_xml`, `parse_csv`, `parse_path`,
//! `base64_decode_toarray` / `base64_encode_fromarray`, and the long bit functions
//! (`binary_and`, ..., `bitset_count_ones`). Per-value logic; the UDF is in library.rs.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use quick_xml::Reader;
use quick_xml::events::{BytesStart, Event};
use serde_json::{Map, Value};
use std::collections::HashMap;

/// Kusto's documented input limit for `parse_xml`: longer text gives null.
pub const PARSE_XML_MAX_BYTES: usize = 1_048_576;

/// One element being built: attributes, text nodes and child elements in document order.
struct Node {
    name: String,
    /// `(key, value)` in order; keys are `@attr`, `#text` or child element names.
    items: Vec<(String, Value)>,
    has_attrs: bool,
    has_children: bool,
}

impl Node {
    fn new(start: &BytesStart<'_>) -> Option<Node> {
        let name = std::str::from_utf8(start.name().as_ref()).ok()?.to_string();
        let mut items = Vec::new();
        for attr in start.attributes() {
            let attr = attr.ok()?;
            let key = std::str::from_utf8(attr.key.as_ref()).ok()?;
            let value = attr.unescape_value().ok()?;
            items.push((format!("@{key}"), Value::String(value.into_owned())));
        }
        let has_attrs = !items.is_empty();
        Some(Node {
            name,
            items,
            has_attrs,
            has_children: false,
        })
    }

    /// The element's JSON value: null when empty, the text alone when it has only text, else a
    /// property bag where repeated keys become arrays.
    fn finish(self) -> Value {
        if !self.has_attrs && !self.has_children {
            let texts: Vec<Value> = self.items.into_iter().map(|(_, v)| v).collect();
            return match texts.len() {
                0 => Value::Null,
                1 => texts.into_iter().next().unwrap_or(Value::Null),
                _ => Value::Array(texts),
            };
        }
        let mut groups: Vec<(String, Vec<Value>)> = Vec::new();
        let mut index: HashMap<String, usize> = HashMap::new();
        for (k, v) in self.items {
            match index.get(&k) {
                Some(&g) => groups[g].1.push(v),
                None => {
                    index.insert(k.clone(), groups.len());
                    groups.push((k, vec![v]));
                }
            }
        }
        let mut bag = Map::new();
        for (k, mut vs) in groups {
            let v = if vs.len() == 1 {
                vs.pop().unwrap_or(Value::Null)
            } else {
                Value::Array(vs)
            };
            bag.insert(k, v);
        }
        Value::Object(bag)
    }
}

/// Pending text of the current element, flushed (trimmed; dropped when blank) at the next
/// element boundary.
fn flush_text(stack: &mut [Node], text: &mut String) {
    let t = text.trim();
    if !t.is_empty()
        && let Some(top) = stack.last_mut()
    {
        top.items.push(("#text".to_string(), Value::String(t.to_string())));
    }
    text.clear();
}

fn entity(name: &str) -> Option<char> {
    Some(match name {
        "lt" => '<',
        "gt" => '>',
        "amp" => '&',
        "apos" => '\'',
        "quot" => '"',
        _ => return None,
    })
}

/// `parse_xml(xml)`: element nodes, attributes (`@name`) and text (`#text`) as JSON; repeated
/// child elements as arrays; anything else (declarations, comments, processing instructions)
/// skipped. `None` (null) for invalid XML or text over the 1 MB limit.
pub fn parse_xml(xml: &str) -> Option<Value> {
    if xml.len() > PARSE_XML_MAX_BYTES {
        return None;
    }
    let mut reader = Reader::from_str(xml);
    let config = reader.config_mut();
    config.check_end_names = true;
    config.allow_unmatched_ends = false;
    config.check_comments = true;
    let mut stack: Vec<Node> = Vec::new();
    let mut text = String::new();
    let mut root: Option<(String, Value)> = None;
    loop {
        let event = reader.read_event().ok()?;
        match event {
            Event::Start(_) | Event::Empty(_) if root.is_some() && stack.is_empty() => {
                return None; // a second root element
            }
            Event::Start(s) => {
                flush_text(&mut stack, &mut text);
                stack.push(Node::new(&s)?);
            }
            Event::Empty(s) => {
                flush_text(&mut stack, &mut text);
                let node = Node::new(&s)?;
                close(&mut stack, &mut root, node);
            }
            Event::End(_) => {
                flush_text(&mut stack, &mut text);
                let node = stack.pop()?;
                close(&mut stack, &mut root, node);
            }
            Event::Text(t) => {
                let s = t.decode().ok()?;
                if stack.is_empty() {
                    if !s.trim().is_empty() {
                        return None; // text outside the root element
                    }
                } else {
                    text.push_str(&s);
                }
            }
            Event::CData(c) => {
                if stack.is_empty() {
                    return None;
                }
                text.push_str(&c.decode().ok()?);
            }
            Event::GeneralRef(r) => {
                if stack.is_empty() {
                    return None;
                }
                let ch = match r.resolve_char_ref().ok()? {
                    Some(c) => c,
                    None => entity(&r.decode().ok()?)?,
                };
                text.push(ch);
            }
            Event::Comment(_) | Event::Decl(_) | Event::PI(_) | Event::DocType(_) => {}
            Event::Eof => break,
        }
    }
    if !stack.is_empty() {
        return None;
    }
    let (name, value) = root?;
    let mut bag = Map::new();
    bag.insert(name, value);
    Some(Value::Object(bag))
}

fn close(stack: &mut [Node], root: &mut Option<(String, Value)>, node: Node) {
    let name = node.name.clone();
    let value = node.finish();
    match stack.last_mut() {
        Some(parent) => {
            parent.has_children = true;
            parent.items.push((name, value));
        }
        None => *root = Some((name, value)),
    }
}

/// `parse_csv(text)`: the fields of the first record. Double quotes enclose fields with commas,
/// line feeds and quotes (`""` inside quotes is one quote); an unquoted line feed ends the record.
pub fn parse_csv(text: &str) -> Value {
    let mut fields = Vec::new();
    let mut field = String::new();
    let mut chars = text.chars().peekable();
    let mut in_quotes = false;
    while let Some(c) = chars.next() {
        if in_quotes {
            if c == '"' {
                if chars.peek() == Some(&'"') {
                    chars.next();
                    field.push('"');
                } else {
                    in_quotes = false;
                }
            } else {
                field.push(c);
            }
            continue;
        }
        match c {
            '"' if field.is_empty() => in_quotes = true,
            ',' => fields.push(Value::String(std::mem::take(&mut field))),
            '\n' => break,
            '\r' if chars.peek() == Some(&'\n') => break,
            _ => field.push(c),
        }
    }
    fields.push(Value::String(field));
    Value::Array(fields)
}

/// `base64_decode_toarray(text)`: the decoded bytes as longs; `None` for text that is not base64.
pub fn base64_to_array(text: &str) -> Option<Value> {
    let bytes = STANDARD.decode(text.as_bytes()).ok()?;
    Some(Value::Array(bytes.into_iter().map(Value::from).collect()))
}

/// `base64_encode_fromarray(bytes)`: `None` unless every element is an integer from 0 to 255.
pub fn base64_from_array(v: &Value) -> Option<String> {
    let items = v.as_array()?;
    let bytes = items
        .iter()
        .map(|x| x.as_u64().and_then(|n| u8::try_from(n).ok()))
        .collect::<Option<Vec<u8>>>()?;
    Some(STANDARD.encode(bytes))
}

/// `parse_path(path)`: Scheme, RootPath, DirectoryPath, DirectoryName, Filename, Extension and
/// AlternateDataStreamName, with `/` and `\` both separators.
pub fn parse_path(path: &str) -> Value {
    let (scheme, rest) = match path.find("://") {
        Some(i)
            if i > 1
                && path[..i]
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.')) =>
        {
            (&path[..i], &path[i + 3..])
        }
        _ => ("", path),
    };
    // Long paths: `\\?\C:\...`.
    let unprefixed = rest.strip_prefix(r"\\?\").unwrap_or(rest);
    let b = unprefixed.as_bytes();
    let root = if b.len() >= 2 && b[0].is_ascii_alphabetic() && b[1] == b':' {
        &unprefixed[..2]
    } else {
        ""
    };
    let (dir, file) = match rest.rfind(['/', '\\']) {
        Some(i) => (&rest[..i], &rest[i + 1..]),
        // `C:file.txt`: the drive is not part of the file name.
        None => ("", rest.strip_prefix(root).unwrap_or(rest)),
    };
    let dir_name = match dir.rfind(['/', '\\']) {
        Some(i) => &dir[i + 1..],
        None if dir == root => "",
        None => dir,
    };
    let (file, stream) = match file.find(':') {
        Some(i) => (&file[..i], &file[i + 1..]),
        None => (file, ""),
    };
    let ext = file.rfind('.').map_or("", |i| &file[i + 1..]);
    let mut bag = Map::new();
    for (k, v) in [
        ("Scheme", scheme),
        ("RootPath", root),
        ("DirectoryPath", dir),
        ("DirectoryName", dir_name),
        ("Filename", file),
        ("Extension", ext),
        ("AlternateDataStreamName", stream),
    ] {
        bag.insert(k.to_string(), Value::String(v.to_string()));
    }
    Value::Object(bag)
}

/// The long bit functions.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum BitOp {
    And,
    Or,
    Xor,
    Not,
    ShiftLeft,
    ShiftRight,
    CountOnes,
}

/// One bit operation; `b` is unused by the one-argument ones. A negative shift gives null; the
/// shift count is taken modulo 64; right shifts keep the sign.
pub fn bits(op: BitOp, a: i64, b: i64) -> Option<i64> {
    Some(match op {
        BitOp::And => a & b,
        BitOp::Or => a | b,
        BitOp::Xor => a ^ b,
        BitOp::Not => !a,
        BitOp::ShiftLeft | BitOp::ShiftRight if b < 0 => return None,
        BitOp::ShiftLeft => a.wrapping_shl((b % 64) as u32),
        BitOp::ShiftRight => a.wrapping_shr((b % 64) as u32),
        BitOp::CountOnes => i64::from(a.count_ones()),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn xml_rules() {
        assert_eq!(parse_xml("<e/>"), Some(json!({"e": null})));
        assert_eq!(parse_xml("<e>text</e>"), Some(json!({"e": "text"})));
        assert_eq!(
            parse_xml(r#"<e name="value" />"#),
            Some(json!({"e": {"@name": "value"}}))
        );
        assert_eq!(
            parse_xml(r#"<e name="value">text</e>"#),
            Some(json!({"e": {"@name": "value", "#text": "text"}}))
        );
        assert_eq!(
            parse_xml("<e> <a>text</a> <a>text</a> </e>"),
            Some(json!({"e": {"a": ["text", "text"]}}))
        );
        assert_eq!(
            parse_xml("<e> text <a>text</a> </e>"),
            Some(json!({"e": {"#text": "text", "a": "text"}}))
        );
        assert_eq!(parse_xml("<e>a &amp; &#x41;</e>"), Some(json!({"e": "a & A"})));
        assert_eq!(
            parse_xml("<e><a>1</a><a>2</a><a>3</a></e>"),
            Some(json!({"e": {"a": ["1", "2", "3"]}}))
        );
        assert_eq!(parse_xml("<e>"), None);
        assert_eq!(parse_xml("<e></f>"), None);
        assert_eq!(parse_xml("<a/><b/>"), None);
        assert_eq!(parse_xml(""), None);
        assert_eq!(parse_xml("not xml"), None);
        assert_eq!(parse_xml("<e>&bogus;</e>"), None);
    }

    #[test]
    fn csv_rules() {
        assert_eq!(
            parse_csv("aa,\"b,b,b\",cc,\"Escaping quotes: \"\"Title\"\"\",\"line1\nline2\""),
            json!(["aa", "b,b,b", "cc", "Escaping quotes: \"Title\"", "line1\nline2"])
        );
        assert_eq!(
            parse_csv("record1,a,b,c\nrecord2,x,y,z"),
            json!(["record1", "a", "b", "c"])
        );
        assert_eq!(parse_csv(""), json!([""]));
    }

    #[test]
    fn paths() {
        let p = parse_path("C:file.txt");
        assert_eq!(p["RootPath"], "C:");
        assert_eq!(p["Filename"], "file.txt");
        let p = parse_path("https://host/dir/a.tar.gz");
        assert_eq!(p["Scheme"], "https");
        assert_eq!(p["DirectoryPath"], "host/dir");
        assert_eq!(p["Extension"], "gz");
        let p = parse_path(r"\\?\D:\x\y.exe");
        assert_eq!(p["RootPath"], "D:");
        assert_eq!(p["DirectoryName"], "x");
        let p = parse_path("noext");
        assert_eq!(p["Filename"], "noext");
        assert_eq!(p["Extension"], "");
        assert_eq!(p["DirectoryPath"], "");
    }

    #[test]
    fn shifts() {
        assert_eq!(bits(BitOp::ShiftLeft, 1, 2), Some(4));
        assert_eq!(bits(BitOp::ShiftRight, 1, 2), Some(0));
        assert_eq!(bits(BitOp::ShiftLeft, 1, 65), Some(2));
        assert_eq!(bits(BitOp::ShiftLeft, 1, -1), None);
        assert_eq!(bits(BitOp::ShiftRight, -8, 1), Some(-4));
        assert_eq!(bits(BitOp::CountOnes, 42, 0), Some(3));
    }
}
