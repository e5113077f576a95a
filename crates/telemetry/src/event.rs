//! The normalised Windows event: one model built from EVTX records, event XML and evtx JSON.
//!
//! Every source is reduced to the same [`WinEvent`]: the `System` fields, the `EventData`
//! name/value pairs in document order (all values as text, the way the XML form carries them)
//! and, for events that have one, the `UserData` element as JSON. Unnamed `Data` elements get
//! the names `param1`, `param2`, … in order.

use std::borrow::Cow;
use std::io::BufRead;

use jsontree::Json;
use jsontree::evtx::Record;
use quick_xml::Reader;
use quick_xml::events::{BytesStart, Event};
use serde_json::{Map, Value};

use crate::time::{Nanos, parse_datetime};

/// One Windows event record.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct WinEvent {
    /// `System/Provider/@Name`.
    pub provider: String,
    /// `System/Provider/@Guid`, when present.
    pub provider_guid: Option<String>,
    /// `System/EventID` (the `Qualifiers` attribute is kept apart).
    pub event_id: u32,
    /// `System/EventID/@Qualifiers`.
    pub qualifiers: Option<u32>,
    /// `System/Version`.
    pub version: Option<i64>,
    /// `System/Level`.
    pub level: Option<i64>,
    /// `System/Task`.
    pub task: Option<i64>,
    /// `System/Opcode`.
    pub opcode: Option<i64>,
    /// `System/Keywords` as written (`0x8000000000000000`).
    pub keywords: Option<String>,
    /// `System/TimeCreated/@SystemTime`, UTC nanoseconds.
    pub time: Option<Nanos>,
    /// `System/EventRecordID`.
    pub record_id: Option<i64>,
    /// `System/Correlation/@ActivityID`.
    pub activity_id: Option<String>,
    /// `System/Execution/@ProcessID` (the logging service, not the subject process).
    pub process_id: Option<i64>,
    /// `System/Execution/@ThreadID`.
    pub thread_id: Option<i64>,
    /// `System/Channel`.
    pub channel: String,
    /// `System/Computer`.
    pub computer: String,
    /// `System/Security/@UserID`.
    pub user_id: Option<String>,
    /// `EventData/Data` pairs in document order.
    pub data: Vec<(String, String)>,
    /// The `UserData` element rendered as JSON.
    pub user_data: Option<Value>,
}

impl WinEvent {
    /// The raw text of an `EventData` field (first occurrence), exactly as logged.
    pub fn raw(&self, name: &str) -> Option<&str> {
        self.data.iter().find(|(n, _)| n == name).map(|(_, v)| v.as_str())
    }

    /// An `EventData` field with the empty markers removed: `""` and `"-"` read as absent.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.raw(name).map(str::trim).filter(|v| !v.is_empty() && *v != "-")
    }

    /// `EventData` as a JSON object of text values (a repeated name becomes an array at the
    /// place of its first occurrence), as compact JSON text.
    pub fn event_data_text(&self) -> Option<String> {
        if self.data.is_empty() {
            return None;
        }
        let size: usize = self.data.iter().map(|(n, v)| n.len() + v.len() + 6).sum();
        let mut out = String::with_capacity(size + 2);
        out.push('{');
        for (i, (name, value)) in self.data.iter().enumerate() {
            if self.data[..i].iter().any(|(n, _)| n == name) {
                continue; // written with its first occurrence
            }
            if out.len() > 1 {
                out.push(',');
            }
            push_json_string(&mut out, name);
            out.push(':');
            let mut more = self.data[i + 1..].iter().filter(|(n, _)| n == name).peekable();
            if more.peek().is_none() {
                push_json_string(&mut out, value);
            } else {
                out.push('[');
                push_json_string(&mut out, value);
                for (_, v) in more {
                    out.push(',');
                    push_json_string(&mut out, v);
                }
                out.push(']');
            }
        }
        out.push('}');
        Some(out)
    }

    /// Builds an event from evtx-style JSON: `{"Event": {"System": …, "EventData": …}}` or the
    /// inner object. Attributes may be nested (`#attributes`) or separate (`X_attributes`).
    pub fn from_json(value: &Value) -> Result<WinEvent, String> {
        WinEvent::from_tree(&Json::from_value(value))
    }

    /// Builds an event from the JSON text of one evtx record (what `evtx` renders), without
    /// building a `serde_json::Value` first.
    pub fn from_json_bytes(bytes: &[u8]) -> Result<WinEvent, String> {
        let tree = Json::parse(bytes).map_err(|e| format!("invalid record JSON: {e}"))?;
        WinEvent::from_tree(&tree)
    }

    /// [`WinEvent::from_json`] over a borrowed tree.
    pub fn from_tree(value: &Json<'_>) -> Result<WinEvent, String> {
        let record = Record::from_tree(value).map_err(|_| "no Event.System object".to_string())?;
        let attr = |element: &str, name: &str| {
            record
                .attribute(element, name)
                .and_then(Json::scalar_text)
                .map(Cow::into_owned)
        };
        let element_text = |name: &str| record.element(name).and_then(|e| e.text).and_then(Json::scalar_text);
        let mut ev = WinEvent {
            provider: attr("Provider", "Name")
                .or_else(|| attr("Provider", "EventSourceName"))
                .unwrap_or_default(),
            provider_guid: attr("Provider", "Guid"),
            ..WinEvent::default()
        };
        let id = record.element("EventID").ok_or("no Event.System.EventID")?;
        let id_text = id.text.and_then(Json::scalar_text).ok_or("EventID has no value")?;
        ev.event_id = parse_u32(&id_text).ok_or_else(|| format!("bad EventID {id_text:?}"))?;
        ev.qualifiers = attr("EventID", "Qualifiers").and_then(|q| parse_u32(&q));
        let number = |name: &str| element_text(name).and_then(|t| parse_i64(&t));
        ev.version = number("Version");
        ev.level = number("Level");
        ev.task = number("Task");
        ev.opcode = number("Opcode");
        ev.record_id = number("EventRecordID");
        ev.keywords = element_text("Keywords").map(Cow::into_owned);
        ev.time = attr("TimeCreated", "SystemTime").and_then(|t| parse_datetime(&t));
        ev.activity_id = attr("Correlation", "ActivityID");
        ev.process_id = attr("Execution", "ProcessID").and_then(|t| parse_i64(&t));
        ev.thread_id = attr("Execution", "ThreadID").and_then(|t| parse_i64(&t));
        let text = |name: &str| element_text(name).map(Cow::into_owned).unwrap_or_default();
        ev.channel = text("Channel");
        ev.computer = text("Computer");
        ev.user_id = attr("Security", "UserID");
        if let Some(data) = record.event_data.and_then(Json::as_object) {
            json_event_data(data, &mut ev.data);
        }
        if let Some(ud) = record.user_data {
            ev.user_data = Some(ud.to_value());
        }
        Ok(ev)
    }

    /// Builds an event from a flat shipper record: NXLog-style (`EventID`, `SourceName`,
    /// `Hostname`, `Channel` and the event data as top-level keys) or Winlogbeat
    /// (`winlog.event_data`, `winlog.event_id`, …). `None` when the object is neither.
    pub fn from_flat_json(obj: &Map<String, Value>) -> Option<WinEvent> {
        if let Some(w) = obj.get("winlog").and_then(Value::as_object) {
            return from_winlogbeat(obj, w);
        }
        let text = |k: &str| obj.get(k).and_then(scalar_text).map(Cow::into_owned);
        let provider = text("SourceName").or_else(|| text("ProviderName"))?;
        let computer = text("Hostname").or_else(|| text("Computer"))?;
        let channel = text("Channel")?;
        let event_id = text("EventID").and_then(|t| parse_u32(&t))?;
        let time = ["TimeCreated", "@timestamp", "EventTime"]
            .iter()
            .find_map(|k| text(k).and_then(|t| parse_datetime(&t)));
        let mut ev = WinEvent {
            provider,
            provider_guid: text("ProviderGuid"),
            event_id,
            version: text("Version").and_then(|t| parse_i64(&t)),
            level: text("Level").and_then(|t| parse_i64(&t)),
            task: text("Task").and_then(|t| parse_i64(&t)),
            opcode: text("OpcodeValue").and_then(|t| parse_i64(&t)),
            keywords: text("Keywords"),
            time,
            record_id: text("RecordNumber")
                .or_else(|| text("EventRecordID"))
                .and_then(|t| parse_i64(&t)),
            process_id: text("ExecutionProcessID").and_then(|t| parse_i64(&t)),
            thread_id: text("ThreadID").and_then(|t| parse_i64(&t)),
            channel,
            computer,
            user_id: text("UserID"),
            ..WinEvent::default()
        };
        for (k, v) in obj {
            if FLAT_METADATA.contains(&k.as_str()) {
                continue;
            }
            let name = if k == "EventTypeOrignal" || k == "EventTypeOriginal" {
                "EventType".to_string()
            } else {
                k.clone()
            };
            ev.data.push((name, value_text(&Json::from_value(v))));
        }
        // The shipper's own EventType (INFO, AUDIT_SUCCESS, …) is not event data; Sysmon's
        // registry EventType arrives as EventTypeOrignal and was kept above.
        if let Some(et) = text("EventType")
            && !SHIPPER_EVENT_TYPES.contains(&et.as_str())
            && !ev.data.iter().any(|(n, _)| n == "EventType")
        {
            ev.data.push(("EventType".to_string(), et));
        }
        Some(ev)
    }

    /// Builds an event from the XML text of one `<Event>` element.
    pub fn from_xml(text: &str) -> Result<WinEvent, String> {
        let mut reader = XmlEvents::new(text.as_bytes());
        match reader.next() {
            Some(Ok(ev)) => Ok(ev),
            Some(Err(e)) => Err(e.reason),
            None => Err("no <Event> element".to_string()),
        }
    }
}

/// Keys of flat shipper records that describe the record, not the event data.
const FLAT_METADATA: &[&str] = &[
    "Message",
    "EventID",
    "SourceName",
    "ProviderName",
    "Hostname",
    "Computer",
    "Channel",
    "Task",
    "Level",
    "Keywords",
    "ProviderGuid",
    "@timestamp",
    "@version",
    "TimeCreated",
    "EventTime",
    "EventReceivedTime",
    "SourceModuleType",
    "SourceModuleName",
    "port",
    "host",
    "tags",
    "RecordNumber",
    "EventRecordID",
    "SeverityValue",
    "Severity",
    "ExecutionProcessID",
    "ThreadID",
    "OpcodeValue",
    "Opcode",
    "Version",
    "Category",
    "AccountType",
    "AccountName",
    "Domain",
    "UserID",
    "EventType",
];

const SHIPPER_EVENT_TYPES: &[&str] = &[
    "INFO",
    "AUDIT_SUCCESS",
    "AUDIT_FAILURE",
    "WARNING",
    "ERROR",
    "CRITICAL",
    "VERBOSE",
];

fn from_winlogbeat(top: &Map<String, Value>, w: &Map<String, Value>) -> Option<WinEvent> {
    let text = |k: &str| w.get(k).and_then(scalar_text).map(Cow::into_owned);
    let mut ev = WinEvent {
        provider: text("provider_name")?,
        provider_guid: text("provider_guid"),
        event_id: text("event_id").and_then(|t| parse_u32(&t))?,
        channel: text("channel")?,
        computer: text("computer_name")?,
        record_id: text("record_id").and_then(|t| parse_i64(&t)),
        task: None,
        opcode: None,
        time: top
            .get("@timestamp")
            .and_then(scalar_text)
            .and_then(|t| parse_datetime(&t)),
        process_id: w
            .get("process")
            .and_then(|p| p.get("pid"))
            .and_then(scalar_text)
            .and_then(|t| parse_i64(&t)),
        user_id: w
            .get("user")
            .and_then(|u| u.get("identifier"))
            .and_then(scalar_text)
            .map(Cow::into_owned),
        ..WinEvent::default()
    };
    if let Some(data) = w.get("event_data").and_then(Value::as_object) {
        for (k, v) in data {
            ev.data.push((k.clone(), value_text(&Json::from_value(v))));
        }
    }
    if let Some(ud) = w.get("user_data").filter(|v| !v.is_null()) {
        ev.user_data = Some(ud.clone());
    }
    Some(ev)
}

fn parse_i64(t: &str) -> Option<i64> {
    let t = t.trim();
    if let Some(h) = t.strip_prefix("0x").or_else(|| t.strip_prefix("0X")) {
        return u64::from_str_radix(h, 16).ok().map(|v| v as i64);
    }
    t.parse::<i64>().ok()
}

fn parse_u32(t: &str) -> Option<u32> {
    parse_i64(t).and_then(|v| u32::try_from(v).ok())
}

/// Appends `s` as a JSON string, escaped as `serde_json` escapes it.
fn push_json_string(out: &mut String, s: &str) {
    out.push('"');
    let mut rest = s;
    while let Some(i) = rest.find(|c: char| c == '"' || c == '\\' || c < ' ') {
        out.push_str(&rest[..i]);
        let b = rest.as_bytes()[i];
        match b {
            b'"' => out.push_str("\\\""),
            b'\\' => out.push_str("\\\\"),
            b'\n' => out.push_str("\\n"),
            b'\r' => out.push_str("\\r"),
            b'\t' => out.push_str("\\t"),
            0x08 => out.push_str("\\b"),
            0x0c => out.push_str("\\f"),
            other => {
                const HEX: &[u8; 16] = b"0123456789abcdef";
                out.push_str("\\u00");
                out.push(char::from(HEX[usize::from(other >> 4)]));
                out.push(char::from(HEX[usize::from(other & 0xf)]));
            }
        }
        rest = &rest[i + 1..];
    }
    out.push_str(rest);
    out.push('"');
}

/// The text of a JSON scalar (numbers and booleans as their JSON spelling).
pub(crate) fn scalar_text(v: &Value) -> Option<Cow<'_, str>> {
    match v {
        Value::String(s) => Some(Cow::Borrowed(s.as_str())),
        Value::Number(n) => Some(Cow::Owned(n.to_string())),
        Value::Bool(b) => Some(Cow::Borrowed(if *b { "true" } else { "false" })),
        _ => None,
    }
}

fn json_event_data(data: &[(Cow<'_, str>, Json<'_>)], out: &mut Vec<(String, String)>) {
    for (name, value) in data {
        if name == "#attributes" || name.ends_with("_attributes") {
            continue;
        }
        if name == "Data" {
            // Unnamed classic data: {"#text": "x"} or {"#text": ["a", "b"]}.
            let text = value.get("#text").unwrap_or(value);
            let items: Vec<&Json<'_>> = match text {
                Json::Array(a) => a.iter().collect(),
                Json::Null => Vec::new(),
                other => vec![other],
            };
            let mut n = out.iter().filter(|(n, _)| n.starts_with("param")).count();
            for item in items {
                n += 1;
                out.push((format!("param{n}"), value_text(item)));
            }
            continue;
        }
        match value {
            Json::Array(items) => {
                for item in items {
                    out.push((name.to_string(), value_text(item)));
                }
            }
            other => out.push((name.to_string(), value_text(other))),
        }
    }
}

fn value_text(v: &Json<'_>) -> String {
    match v {
        Json::Null => String::new(),
        Json::Object(_) => match v.get("#text").and_then(Json::scalar_text) {
            Some(t) => t.into_owned(),
            None => v.to_string(),
        },
        other => other
            .scalar_text()
            .map(Cow::into_owned)
            .unwrap_or_else(|| other.to_string()),
    }
}

/// Why an XML event could not be read, and where.
#[derive(Debug, Clone, PartialEq)]
pub struct XmlError {
    /// Byte offset in the (decompressed) input.
    pub offset: u64,
    /// What was wrong.
    pub reason: String,
}

/// Streams `<Event>` elements out of XML text: a single event, a `<Events>` wrapper, or events
/// one after another. Malformed XML ends the stream with one error.
pub struct XmlEvents<R: BufRead> {
    reader: Reader<R>,
    buf: Vec<u8>,
    done: bool,
}

impl<R: BufRead> XmlEvents<R> {
    /// Reads events from `input`.
    pub fn new(input: R) -> Self {
        let mut reader = Reader::from_reader(input);
        reader.config_mut().trim_text(false);
        XmlEvents {
            reader,
            buf: Vec::new(),
            done: false,
        }
    }

    fn fail(&mut self, reason: String) -> Option<Result<WinEvent, XmlError>> {
        self.done = true;
        Some(Err(XmlError {
            offset: self.reader.buffer_position(),
            reason,
        }))
    }
}

/// A `UserData` element under construction: name, attributes, children, text.
type UserElement = (String, Map<String, Value>, Map<String, Value>, String);

/// Text content accumulated while inside an element, plus the element path.
struct Builder {
    ev: WinEvent,
    path: Vec<String>,
    text: String,
    data_name: Option<String>,
    /// Open UserData elements (as JSON objects under construction): (name, attrs, children, text).
    user_stack: Vec<UserElement>,
    /// Open UserData elements nested deeper than [`MAX_USER_DEPTH`] (their text goes to the
    /// deepest kept element).
    user_overflow: usize,
    event_id_seen: bool,
}

/// Deepest `UserData` nesting kept as JSON structure.
const MAX_USER_DEPTH: usize = 64;

fn local_name(e: &BytesStart<'_>) -> String {
    String::from_utf8_lossy(e.local_name().as_ref()).into_owned()
}

fn attributes(e: &BytesStart<'_>) -> Result<Vec<(String, String)>, String> {
    let mut out = Vec::new();
    for a in e.attributes() {
        let a = a.map_err(|err| format!("bad attribute: {err}"))?;
        let key = String::from_utf8_lossy(a.key.local_name().as_ref()).into_owned();
        let val = a
            .unescape_value()
            .map_err(|err| format!("bad attribute value: {err}"))?
            .into_owned();
        out.push((key, val));
    }
    Ok(out)
}

fn insert_child(map: &mut Map<String, Value>, name: String, value: Value) {
    match map.get_mut(&name) {
        None => {
            map.insert(name, value);
        }
        Some(Value::Array(items)) => items.push(value),
        Some(existing) => {
            let first = existing.take();
            *existing = Value::Array(vec![first, value]);
        }
    }
}

impl Builder {
    fn new() -> Self {
        Builder {
            ev: WinEvent::default(),
            path: Vec::new(),
            text: String::new(),
            data_name: None,
            user_stack: Vec::new(),
            user_overflow: 0,
            event_id_seen: false,
        }
    }

    fn start(&mut self, name: String, attrs: Vec<(String, String)>) {
        self.text.clear();
        let in_system = self.path.len() == 2 && self.path[1] == "System";
        if self.user_stack.len() >= MAX_USER_DEPTH || self.user_overflow > 0 {
            self.user_overflow += 1;
        } else if !self.user_stack.is_empty() || (self.path.len() == 1 && name == "UserData") {
            let mut amap = Map::new();
            for (k, v) in attrs {
                amap.insert(k, Value::String(v));
            }
            self.user_stack.push((name.clone(), amap, Map::new(), String::new()));
        } else if in_system {
            let get = |k: &str| attrs.iter().find(|(n, _)| n == k).map(|(_, v)| v.clone());
            match name.as_str() {
                "Provider" => {
                    self.ev.provider = get("Name").or_else(|| get("EventSourceName")).unwrap_or_default();
                    self.ev.provider_guid = get("Guid");
                }
                "EventID" => self.ev.qualifiers = get("Qualifiers").and_then(|q| parse_u32(&q)),
                "TimeCreated" => self.ev.time = get("SystemTime").and_then(|t| parse_datetime(&t)),
                "Correlation" => self.ev.activity_id = get("ActivityID"),
                "Execution" => {
                    self.ev.process_id = get("ProcessID").and_then(|t| parse_i64(&t));
                    self.ev.thread_id = get("ThreadID").and_then(|t| parse_i64(&t));
                }
                "Security" => self.ev.user_id = get("UserID"),
                _ => {}
            }
        } else if self.path.len() == 2 && self.path[1] == "EventData" && name == "Data" {
            self.data_name = attrs.into_iter().find(|(k, _)| k == "Name").map(|(_, v)| v);
        }
        self.path.push(name);
    }

    fn end(&mut self) -> Result<(), String> {
        let name = self.path.pop().unwrap_or_default();
        let text = std::mem::take(&mut self.text);
        if self.user_overflow > 0 {
            self.user_overflow -= 1;
            return Ok(());
        }
        if let Some((uname, attrs, children, utext)) = self.user_stack.pop() {
            let value = if children.is_empty() && attrs.is_empty() {
                Value::String(utext)
            } else {
                let mut obj = children;
                if !attrs.is_empty() {
                    obj.insert("#attributes".into(), Value::Object(attrs));
                }
                if !utext.trim().is_empty() {
                    obj.insert("#text".into(), Value::String(utext));
                }
                Value::Object(obj)
            };
            match self.user_stack.last_mut() {
                Some(parent) => insert_child(&mut parent.2, uname, value),
                None => self.ev.user_data = Some(value),
            }
            return Ok(());
        }
        let parent_is = |p: &str| self.path.len() == 2 && self.path[1] == p;
        if parent_is("System") {
            match name.as_str() {
                "EventID" => {
                    self.ev.event_id = parse_u32(&text).ok_or_else(|| format!("bad EventID {text:?}"))?;
                    self.event_id_seen = true;
                }
                "Version" => self.ev.version = parse_i64(&text),
                "Level" => self.ev.level = parse_i64(&text),
                "Task" => self.ev.task = parse_i64(&text),
                "Opcode" => self.ev.opcode = parse_i64(&text),
                "Keywords" => self.ev.keywords = Some(text),
                "EventRecordID" => self.ev.record_id = parse_i64(&text),
                "Channel" => self.ev.channel = text,
                "Computer" => self.ev.computer = text,
                _ => {}
            }
        } else if parent_is("EventData") && name == "Data" {
            let n = match self.data_name.take() {
                Some(n) => n,
                None => {
                    let k = self.ev.data.iter().filter(|(n, _)| n.starts_with("param")).count();
                    format!("param{}", k + 1)
                }
            };
            self.ev.data.push((n, text));
        }
        Ok(())
    }

    fn text(&mut self, t: &str) {
        if let Some(top) = self.user_stack.last_mut() {
            top.3.push_str(t);
        } else {
            self.text.push_str(t);
        }
    }
}

impl<R: BufRead> Iterator for XmlEvents<R> {
    type Item = Result<WinEvent, XmlError>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.done {
            return None;
        }
        let mut builder: Option<Builder> = None;
        loop {
            self.buf.clear();
            let event = match self.reader.read_event_into(&mut self.buf) {
                Ok(e) => e,
                Err(e) => {
                    let reason = format!("malformed XML: {e}");
                    return self.fail(reason);
                }
            };
            match event {
                Event::Eof => {
                    self.done = true;
                    if builder.is_some() {
                        return self.fail("input ends inside an <Event>".to_string());
                    }
                    return None;
                }
                Event::Start(e) => {
                    let name = local_name(&e);
                    let attrs = match attributes(&e) {
                        Ok(a) => a,
                        Err(r) => return self.fail(r),
                    };
                    match builder.as_mut() {
                        Some(b) => b.start(name, attrs),
                        None if name == "Event" => {
                            let mut b = Builder::new();
                            b.path.push(name);
                            builder = Some(b);
                        }
                        None => {}
                    }
                }
                Event::Empty(e) => {
                    let name = local_name(&e);
                    let attrs = match attributes(&e) {
                        Ok(a) => a,
                        Err(r) => return self.fail(r),
                    };
                    if let Some(b) = builder.as_mut() {
                        b.start(name, attrs);
                        if let Err(r) = b.end() {
                            return self.fail(r);
                        }
                    }
                }
                Event::End(_) => {
                    if let Some(b) = builder.as_mut() {
                        if b.path.len() == 1 {
                            let b = builder.take()?;
                            if !b.event_id_seen {
                                return Some(Err(XmlError {
                                    offset: self.reader.buffer_position(),
                                    reason: "event without System/EventID".to_string(),
                                }));
                            }
                            return Some(Ok(b.ev));
                        }
                        if let Err(r) = b.end() {
                            return self.fail(r);
                        }
                    }
                }
                Event::Text(t) => {
                    if let Some(b) = builder.as_mut() {
                        match t.xml_content() {
                            Ok(s) => b.text(&s),
                            Err(e) => return self.fail(format!("bad text: {e}")),
                        }
                    }
                }
                Event::CData(t) => {
                    if let Some(b) = builder.as_mut() {
                        b.text(&String::from_utf8_lossy(&t.into_inner()));
                    }
                }
                Event::GeneralRef(r) => {
                    if let Some(b) = builder.as_mut() {
                        match r.resolve_char_ref() {
                            Ok(Some(c)) => b.text(c.encode_utf8(&mut [0u8; 4])),
                            Ok(None) => {
                                let name = String::from_utf8_lossy(&r.into_inner()).into_owned();
                                match quick_xml::escape::resolve_predefined_entity(&name) {
                                    Some(s) => b.text(s),
                                    None => {
                                        return self.fail(format!("unknown entity &{name};"));
                                    }
                                }
                            }
                            Err(e) => return self.fail(format!("bad character reference: {e}")),
                        }
                    }
                }
                _ => {}
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const XML: &str = r#"<Event xmlns="http://schemas.microsoft.com/win/2004/08/events/event"><System><Provider Name="Service Control Manager" Guid="{555908d1-a6d7-4695-8e1e-26931d2012f4}" EventSourceName="Service Control Manager"/><EventID Qualifiers="16384">7045</EventID><Version>0</Version><Level>4</Level><Task>0</Task><Opcode>0</Opcode><Keywords>0x8080000000000000</Keywords><TimeCreated SystemTime="2018-07-30T10:15:02.123456Z"/><EventRecordID>2213</EventRecordID><Correlation/><Execution ProcessID="624" ThreadID="1300"/><Channel>System</Channel><Computer>WIN-HOST</Computer><Security UserID="S-1-5-18"/></System><EventData><Data Name="ServiceName">TeamViewer 13</Data><Data Name="ImagePath">"C:\Program Files (x86)\TeamViewer\TeamViewer_Service.exe"</Data><Data Name="ServiceType">user mode service</Data><Data Name="StartType">auto start</Data><Data Name="AccountName">LocalSystem</Data></EventData></Event>"#;

    #[test]
    fn xml_and_json_forms_agree() {
        let from_xml = WinEvent::from_xml(XML).expect("xml");
        let json = json!({"Event": {
            "#attributes": {"xmlns": "http://schemas.microsoft.com/win/2004/08/events/event"},
            "System": {
                "Provider": {"#attributes": {"Name": "Service Control Manager",
                    "Guid": "{555908d1-a6d7-4695-8e1e-26931d2012f4}",
                    "EventSourceName": "Service Control Manager"}},
                "EventID": {"#attributes": {"Qualifiers": 16384}, "#text": 7045},
                "Version": 0, "Level": 4, "Task": 0, "Opcode": 0,
                "Keywords": "0x8080000000000000",
                "TimeCreated": {"#attributes": {"SystemTime": "2018-07-30T10:15:02.1234560Z"}},
                "EventRecordID": 2213, "Correlation": null,
                "Execution": {"#attributes": {"ProcessID": 624, "ThreadID": 1300}},
                "Channel": "System", "Computer": "WIN-HOST",
                "Security": {"#attributes": {"UserID": "S-1-5-18"}}
            },
            "EventData": {"ServiceName": "TeamViewer 13",
                "ImagePath": "\"C:\\Program Files (x86)\\TeamViewer\\TeamViewer_Service.exe\"",
                "ServiceType": "user mode service", "StartType": "auto start",
                "AccountName": "LocalSystem"}
        }});
        let from_json = WinEvent::from_json(&json).expect("json");
        assert_eq!(from_xml, from_json);
        assert_eq!(from_xml.event_id, 7045);
        assert_eq!(from_xml.qualifiers, Some(16384));
        assert_eq!(from_xml.record_id, Some(2213));
        assert_eq!(from_xml.get("ServiceName"), Some("TeamViewer 13"));
    }

    #[test]
    fn event_data_text_is_the_json_of_the_pairs() {
        let ev = WinEvent {
            data: vec![
                ("Path".into(), r#"C:\a "b"	<c>"#.into()),
                ("param1".into(), "x\u{1}\u{1f}\u{7f}é\r\n\u{8}\u{c}".into()),
                ("Path".into(), "second".into()),
                ("Empty".into(), String::new()),
            ],
            ..WinEvent::default()
        };
        let expected = json!({
            "Path": [r#"C:\a "b"	<c>"#, "second"],
            "param1": "x\u{1}\u{1f}\u{7f}é\r\n\u{8}\u{c}",
            "Empty": "",
        });
        assert_eq!(ev.event_data_text().as_deref(), Some(expected.to_string().as_str()));
        assert_eq!(WinEvent::default().event_data_text(), None);
    }

    #[test]
    fn json_bytes_and_value_agree() {
        let text = r##"{"Event": {"#attributes": {"xmlns": "x"}, "System": {
            "Provider": {"#attributes": {"Name": "Service Control Manager", "Guid": "{555908d1}"}},
            "EventID": {"#attributes": {"Qualifiers": 16384}, "#text": 7045}, "Level": 4,
            "TimeCreated": {"#attributes": {"SystemTime": "2024-01-02T03:04:05.678901Z"}},
            "EventRecordID": 9, "Channel": "System", "Computer": "pc\u00e9"},
            "EventData": {"ServiceName": "TeamViewer", "ImagePath": "\"C:\\Program Files\\tv.exe\"",
                          "Data": {"#text": ["a", "b"]}}}}"##;
        let value: Value = serde_json::from_str(text).expect("json");
        let from_value = WinEvent::from_json(&value).expect("value");
        let from_bytes = WinEvent::from_json_bytes(text.as_bytes()).expect("bytes");
        assert_eq!(from_value, from_bytes);
        assert_eq!(from_bytes.event_id, 7045);
        assert_eq!(from_bytes.qualifiers, Some(16384));
        assert_eq!(from_bytes.computer, "pcé");
        assert_eq!(from_bytes.raw("ImagePath"), Some(r#""C:\Program Files\tv.exe""#));
        assert_eq!(from_bytes.raw("param2"), Some("b"));
        assert!(WinEvent::from_json_bytes(b"{\"Event\": ").is_err());
    }

    #[test]
    fn separate_attribute_layout() {
        let json = json!({"Event": {"System": {
            "Provider_attributes": {"Name": "Microsoft-Windows-Sysmon"},
            "EventID": 1, "EventID_attributes": {"Qualifiers": 5},
            "TimeCreated_attributes": {"SystemTime": "2019-03-17T19:39:38.123456Z"},
            "Channel": "Microsoft-Windows-Sysmon/Operational", "Computer": "pc"},
            "EventData": {"ProcessId": 42, "Initiated": true, "Missing": null}}});
        let ev = WinEvent::from_json(&json).expect("json");
        assert_eq!(ev.provider, "Microsoft-Windows-Sysmon");
        assert_eq!(ev.qualifiers, Some(5));
        assert_eq!(ev.raw("ProcessId"), Some("42"));
        assert_eq!(ev.raw("Initiated"), Some("true"));
        assert_eq!(ev.raw("Missing"), Some(""));
        assert_eq!(ev.get("Missing"), None);
    }

    #[test]
    fn unnamed_data_and_user_data() {
        let xml = r#"<Events><Event><System><Provider Name="EventLog"/><EventID>6009</EventID><Channel>System</Channel><Computer>h</Computer></System><EventData><Data>10.00.</Data><Data>19041</Data></EventData></Event>
<Event><System><Provider Name="Microsoft-Windows-Eventlog"/><EventID>1102</EventID><Channel>Security</Channel><Computer>h</Computer></System><UserData><LogFileCleared xmlns="http://manifests.microsoft.com/win/2004/08/windows/eventlog"><SubjectUserName>alice</SubjectUserName><SubjectDomainName>CORP &amp; CO</SubjectDomainName></LogFileCleared></UserData></Event></Events>"#;
        let events: Vec<_> = XmlEvents::new(xml.as_bytes()).collect();
        assert_eq!(events.len(), 2);
        let first = events[0].as_ref().expect("first");
        assert_eq!(
            first.data,
            vec![
                ("param1".to_string(), "10.00.".to_string()),
                ("param2".to_string(), "19041".to_string())
            ]
        );
        let second = events[1].as_ref().expect("second");
        assert_eq!(
            second.user_data,
            Some(json!({"LogFileCleared": {
                "#attributes": {"xmlns": "http://manifests.microsoft.com/win/2004/08/windows/eventlog"},
                "SubjectUserName": "alice", "SubjectDomainName": "CORP & CO"}}))
        );
        let json = json!({"Event": {"System": {"Provider": {"#attributes": {"Name": "EventLog"}},
            "EventID": 6009, "Channel": "System", "Computer": "h"},
            "EventData": {"Data": {"#text": ["10.00.", "19041"]}}}});
        assert_eq!(WinEvent::from_json(&json).expect("json").data, first.data);
    }

    #[test]
    fn flat_shipper_records() {
        let nx = json!({"EventID": 13, "SourceName": "Microsoft-Windows-Sysmon", "Hostname": "WORKSTATION5",
            "Channel": "Microsoft-Windows-Sysmon/Operational", "EventTime": "2020-10-22 02:57:58",
            "@timestamp": "2020-10-22T02:57:58.116Z", "RecordNumber": 77, "EventType": "INFO",
            "EventTypeOrignal": "SetValue", "TargetObject": "HKLM\\x\\y", "Details": "DWORD (0x00000001)",
            "ProcessId": "3428", "Message": "Registry value set"});
        let ev = WinEvent::from_flat_json(nx.as_object().expect("object")).expect("event");
        assert_eq!(ev.event_id, 13);
        assert_eq!(ev.record_id, Some(77));
        assert_eq!(ev.time, parse_datetime("2020-10-22T02:57:58.116Z"));
        assert_eq!(ev.get("EventType"), Some("SetValue"));
        assert_eq!(ev.get("ProcessId"), Some("3428"));
        assert_eq!(ev.get("Message"), None);
        let wlb = json!({"@timestamp": "2024-01-01T00:00:00Z", "winlog": {"provider_name": "Service Control Manager",
            "event_id": "7045", "channel": "System", "computer_name": "h", "record_id": 5,
            "event_data": {"ServiceName": "x", "ImagePath": "y.exe"}}});
        let ev = WinEvent::from_flat_json(wlb.as_object().expect("object")).expect("event");
        assert_eq!((ev.event_id, ev.get("ServiceName")), (7045, Some("x")));
        assert!(WinEvent::from_flat_json(json!({"Timestamp": 1}).as_object().expect("o")).is_none());
    }

    #[test]
    fn deep_user_data_is_bounded() {
        let depth = 5000;
        let mut xml = String::from("<Event><System><EventID>1</EventID></System><UserData>");
        xml.push_str(&"<a>".repeat(depth));
        xml.push('x');
        xml.push_str(&"</a>".repeat(depth));
        xml.push_str("</UserData></Event>");
        let ev = WinEvent::from_xml(&xml).expect("event");
        assert!(ev.user_data.is_some());
    }

    #[test]
    fn malformed_xml_is_an_error_not_a_panic() {
        for bad in [
            "<Event><System><EventID>x</EventID></System></Event>",
            "<Event><System><EventID>1</EventID>",
            "<Event><System></System></Event>",
            "<Event><System><EventID>1</EventID></System><EventData><Data Name=\"a\">&bogus;</Data></EventData></Event>",
            "<Event><<<",
        ] {
            let r: Vec<_> = XmlEvents::new(bad.as_bytes()).collect();
            assert!(r.iter().any(Result::is_err), "{bad}");
        }
    }
}
