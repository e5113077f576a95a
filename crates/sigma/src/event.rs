//! The event type rules are matched against: a flat list of named values (borrowed where
//! possible) plus metadata (channel, provider, event id, timestamp, computer), with a
//! constructor from evtx_dump-style JSON (`Event.System.*`, `Event.EventData.*`).

use std::borrow::Cow;

use jsontree::Json as Tree;
use jsontree::evtx::{OwnedRecord, RecordError};
use serde_json::Value as Json;

use crate::time::parse_timestamp;

/// A field value.
#[derive(Debug, Clone, PartialEq)]
pub enum FieldValue<'a> {
    /// Text.
    Str(Cow<'a, str>),
    /// Integer.
    Int(i64),
    /// Floating-point number.
    Float(f64),
    /// Boolean.
    Bool(bool),
    /// Explicit null (present but without value).
    Null,
}

impl<'a> FieldValue<'a> {
    /// Borrowed text value.
    pub fn str(s: &'a str) -> FieldValue<'a> {
        FieldValue::Str(Cow::Borrowed(s))
    }

    /// The value as text: numbers in decimal, booleans as `true`/`false`, `None` for null.
    pub fn as_text(&self) -> Option<Cow<'_, str>> {
        match self {
            FieldValue::Str(s) => Some(Cow::Borrowed(s)),
            FieldValue::Int(i) => Some(Cow::Owned(i.to_string())),
            FieldValue::Float(f) => Some(Cow::Owned(float_text(*f))),
            FieldValue::Bool(b) => Some(Cow::Borrowed(if *b { "true" } else { "false" })),
            FieldValue::Null => None,
        }
    }

    /// The value as a number, parsing decimal or `0x` hexadecimal text.
    pub fn as_number(&self) -> Option<f64> {
        match self {
            FieldValue::Int(i) => Some(*i as f64),
            FieldValue::Float(f) => Some(*f),
            FieldValue::Str(s) => parse_number(s),
            FieldValue::Bool(_) | FieldValue::Null => None,
        }
    }

    /// Converts borrowed text into owned text.
    pub fn into_owned(self) -> FieldValue<'static> {
        match self {
            FieldValue::Str(s) => FieldValue::Str(Cow::Owned(s.into_owned())),
            FieldValue::Int(i) => FieldValue::Int(i),
            FieldValue::Float(f) => FieldValue::Float(f),
            FieldValue::Bool(b) => FieldValue::Bool(b),
            FieldValue::Null => FieldValue::Null,
        }
    }
}

/// Decimal text of a float; integral values print without a fraction (`3.0` → `3`).
pub(crate) fn float_text(f: f64) -> String {
    if f.fract() == 0.0 && f.abs() < 1e15 {
        format!("{}", f as i64)
    } else {
        format!("{f}")
    }
}

/// Parses decimal (`12`, `-3.5`) or hexadecimal (`0x1F`) text.
pub(crate) fn parse_number(s: &str) -> Option<f64> {
    let t = s.trim();
    if let Some(hex) = t.strip_prefix("0x").or_else(|| t.strip_prefix("0X")) {
        return u64::from_str_radix(hex, 16).ok().map(|v| v as f64);
    }
    t.parse::<f64>().ok().filter(|f| f.is_finite())
}

/// Error building an [`Event`] from JSON.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EventError {
    /// The JSON is not an object.
    #[error("event JSON must be an object")]
    NotAnObject,
    /// `Event.System` is missing or not an object.
    #[error("evtx JSON has no `Event.System` object")]
    NoSystem,
    /// The record's JSON text does not parse.
    #[error("invalid record JSON: {0}")]
    Json(String),
}

/// An event: named fields in order (names may repeat, e.g. unnamed `Data` items) and metadata.
///
/// Field lookup is exact first, then ASCII case-insensitive. The metadata is also visible as the
/// fields `EventID`, `Channel`, `Provider_Name` and `Computer` when no real field has that name.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Event<'a> {
    /// Event log channel (`Security`, `Microsoft-Windows-Sysmon/Operational`) or, for Defender
    /// exports, the table name (`DeviceProcessEvents`).
    pub channel: Option<Cow<'a, str>>,
    /// Provider name.
    pub provider: Option<Cow<'a, str>>,
    /// Windows event id.
    pub event_id: Option<u32>,
    /// Time of the event, Unix nanoseconds UTC.
    pub timestamp: Option<i64>,
    /// Computer name.
    pub computer: Option<Cow<'a, str>>,
    fields: Vec<(Cow<'a, str>, FieldValue<'a>)>,
}

/// Metadata exposed as virtual fields.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Meta {
    EventId,
    Channel,
    Provider,
    Computer,
}

impl Meta {
    pub(crate) const ALL: [(Meta, &'static str); 4] = [
        (Meta::EventId, "eventid"),
        (Meta::Channel, "channel"),
        (Meta::Provider, "provider_name"),
        (Meta::Computer, "computer"),
    ];
}

impl<'a> Event<'a> {
    /// An empty event.
    pub fn new() -> Event<'a> {
        Event::default()
    }

    /// Sets the channel.
    pub fn with_channel(mut self, channel: impl Into<Cow<'a, str>>) -> Self {
        self.channel = Some(channel.into());
        self
    }

    /// Sets the event id.
    pub fn with_event_id(mut self, id: u32) -> Self {
        self.event_id = Some(id);
        self
    }

    /// Sets the timestamp (Unix nanoseconds).
    pub fn with_timestamp(mut self, nanos: i64) -> Self {
        self.timestamp = Some(nanos);
        self
    }

    /// Adds a field.
    pub fn with_field(mut self, name: impl Into<Cow<'a, str>>, value: FieldValue<'a>) -> Self {
        self.push(name, value);
        self
    }

    /// Adds a text field.
    pub fn with_str(self, name: &'a str, value: &'a str) -> Self {
        self.with_field(name, FieldValue::str(value))
    }

    /// Appends a field.
    pub fn push(&mut self, name: impl Into<Cow<'a, str>>, value: FieldValue<'a>) {
        self.fields.push((name.into(), value));
    }

    /// All fields in order.
    pub fn fields(&self) -> &[(Cow<'a, str>, FieldValue<'a>)] {
        &self.fields
    }

    /// Looks a field up (exact, then ASCII case-insensitive, then metadata).
    pub fn field(&self, name: &str) -> Option<FieldValue<'_>> {
        let found = self
            .fields
            .iter()
            .find(|(n, _)| n == name)
            .or_else(|| self.fields.iter().find(|(n, _)| n.eq_ignore_ascii_case(name)));
        if let Some((_, v)) = found {
            return Some(match v {
                FieldValue::Str(s) => FieldValue::Str(Cow::Borrowed(s)),
                other => other.clone(),
            });
        }
        let lower = name.to_ascii_lowercase();
        let meta = Meta::ALL.iter().find(|(_, n)| *n == lower).map(|(m, _)| *m)?;
        self.meta(meta)
    }

    pub(crate) fn meta(&self, m: Meta) -> Option<FieldValue<'_>> {
        fn s<'x>(c: &'x Option<Cow<'_, str>>) -> Option<FieldValue<'x>> {
            c.as_deref().map(|s| FieldValue::Str(Cow::Borrowed(s)))
        }
        match m {
            Meta::EventId => self.event_id.map(|i| FieldValue::Int(i64::from(i))),
            Meta::Channel => s(&self.channel),
            Meta::Provider => s(&self.provider),
            Meta::Computer => s(&self.computer),
        }
    }

    /// Copies all borrowed text so the event no longer borrows its source.
    pub fn into_owned(self) -> Event<'static> {
        let own = |c: Option<Cow<'a, str>>| c.map(|c| Cow::Owned(c.into_owned()));
        Event {
            channel: own(self.channel),
            provider: own(self.provider),
            event_id: self.event_id,
            timestamp: self.timestamp,
            computer: own(self.computer),
            fields: self
                .fields
                .into_iter()
                .map(|(n, v)| (Cow::Owned(n.into_owned()), v.into_owned()))
                .collect(),
        }
    }

    /// Builds an event from evtx_dump JSON: `{"Event": {"System": {...}, "EventData": {...}}}`
    /// (or the inner object). System attributes become `Tag_Attribute` fields (`Provider_Name`,
    /// `Execution_ProcessID`, `Security_UserID`, ...); `EventID` may be `{"#text": n}`.
    /// `EventData` and `UserData` are flattened by leaf name; arrays give repeated fields.
    pub fn from_evtx_json(value: &'a Json) -> Result<Event<'a>, EventError> {
        Event::from_evtx_tree(Tree::from_value(value))
    }

    /// [`Event::from_evtx_json`] from the JSON text of a record (what the `evtx` crate renders):
    /// the text is read into a borrowed tree and the event borrows from `bytes`.
    pub fn from_evtx_bytes(bytes: &'a [u8]) -> Result<Event<'a>, EventError> {
        let tree = Tree::parse(bytes).map_err(|e| EventError::Json(e.to_string()))?;
        Event::from_evtx_tree(tree)
    }

    /// [`Event::from_evtx_json`] over a borrowed tree, which the event takes its text from.
    pub fn from_evtx_tree(value: Tree<'a>) -> Result<Event<'a>, EventError> {
        let record = OwnedRecord::from_tree(value).map_err(|e| match e {
            RecordError::NotAnObject => EventError::NotAnObject,
            RecordError::NoSystem => EventError::NoSystem,
        })?;
        let mut ev = Event::new();
        for element in OwnedRecord::into_elements(record.system) {
            for (a, av) in element.attributes {
                if let Some(fv) = scalar(av) {
                    ev.push(Cow::Owned(format!("{}_{a}", element.name)), fv);
                }
            }
            if let Some(t) = element.text.and_then(scalar) {
                ev.push(element.name, t);
            }
        }
        for (name, v) in &ev.fields {
            match name.as_ref() {
                "EventID" => {
                    ev.event_id = v
                        .as_number()
                        .filter(|n| *n >= 0.0 && *n <= f64::from(u32::MAX))
                        .map(|n| n as u32)
                }
                "Channel" => ev.channel = str_of(v),
                "Computer" => ev.computer = str_of(v),
                "Provider_Name" => ev.provider = str_of(v),
                "TimeCreated_SystemTime" => {
                    ev.timestamp = v.as_text().as_deref().and_then(parse_timestamp);
                }
                _ => {}
            }
        }
        for (section, data) in [("EventData", record.event_data), ("UserData", record.user_data)] {
            match data {
                Some(Tree::Object(o)) => {
                    for (k, v) in o {
                        ev.flatten(k, v, 0);
                    }
                }
                Some(other) => ev.flatten(Cow::Borrowed(section), other, 0),
                None => {}
            }
        }
        Ok(ev)
    }

    /// Builds an event from a flat JSON object (e.g. a Defender export row); nested objects are
    /// flattened by leaf name. Metadata is left unset for the caller to fill in.
    pub fn from_flat_json(value: &'a Json) -> Result<Event<'a>, EventError> {
        let Tree::Object(o) = Tree::from_value(value) else {
            return Err(EventError::NotAnObject);
        };
        let mut ev = Event::new();
        for (k, v) in o {
            ev.flatten(k, v, 0);
        }
        Ok(ev)
    }

    fn flatten(&mut self, key: Cow<'a, str>, v: Tree<'a>, depth: usize) {
        if depth > 32 {
            return;
        }
        match v {
            Tree::Object(mut o) => {
                // `<Data Name="X">v</Data>` rendered as {"#attributes": {"Name": "X"}, "#text": "v"}
                let named = o
                    .iter()
                    .rev()
                    .find(|(k, _)| k == "#attributes")
                    .is_some_and(|(_, a)| matches!(a.get("Name"), Some(Tree::Str(_))));
                if named {
                    let text = take(&mut o, "#text");
                    let Some(Tree::Object(mut attrs)) = take(&mut o, "#attributes") else {
                        return;
                    };
                    let Some(Tree::Str(name)) = take(&mut attrs, "Name") else {
                        return;
                    };
                    match text {
                        Some(t) => self.flatten(name, t, depth + 1),
                        None => self.push(name, FieldValue::Null),
                    }
                    return;
                }
                if let Some(t) = take(&mut o, "#text") {
                    self.flatten(key, t, depth + 1);
                }
                for (k, child) in o {
                    if k == "#attributes" {
                        if let Tree::Object(attrs) = child {
                            for (a, av) in attrs.into_iter().filter(|(a, _)| !a.starts_with("xmlns")) {
                                self.flatten(a, av, depth + 1);
                            }
                        }
                    } else {
                        self.flatten(k, child, depth + 1);
                    }
                }
            }
            Tree::Array(items) => {
                for item in items {
                    self.flatten(key.clone(), item, depth + 1);
                }
            }
            other => {
                if let Some(fv) = scalar(other) {
                    self.push(key, fv);
                }
            }
        }
    }
}

/// Removes an object member (the last one of that name, as `serde_json` would keep it).
fn take<'a>(members: &mut Vec<(Cow<'a, str>, Tree<'a>)>, key: &str) -> Option<Tree<'a>> {
    let i = members.iter().rposition(|(k, _)| k == key)?;
    Some(members.remove(i).1)
}

fn str_of<'a>(v: &FieldValue<'a>) -> Option<Cow<'a, str>> {
    match v {
        FieldValue::Str(s) => Some(s.clone()),
        other => other.as_text().map(|t| Cow::Owned(t.into_owned())),
    }
}

fn scalar(v: Tree<'_>) -> Option<FieldValue<'_>> {
    Some(match v {
        Tree::Null => FieldValue::Null,
        Tree::Bool(b) => FieldValue::Bool(b),
        Tree::Str(s) => FieldValue::Str(s),
        Tree::Int(i) => FieldValue::Int(i),
        Tree::UInt(u) => FieldValue::Str(Cow::Owned(u.to_string())),
        Tree::Float(f) => FieldValue::Float(f),
        Tree::Array(_) | Tree::Object(_) => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const SYSMON: &str = r##"{"Event": {"#attributes": {"xmlns": "x"}, "System": {
        "Provider": {"#attributes": {"Name": "Microsoft-Windows-Sysmon", "Guid": "5770385F"}},
        "EventID": 1, "Level": 4, "TimeCreated": {"#attributes": {"SystemTime": "2025-12-11T06:17:19.772545Z"}},
        "EventRecordID": 21475, "Correlation": null,
        "Execution": {"#attributes": {"ProcessID": 3208, "ThreadID": 1724}},
        "Channel": "Microsoft-Windows-Sysmon/Operational", "Computer": "host1",
        "Security": {"#attributes": {"UserID": "S-1-5-18"}}},
      "EventData": {"Image": "C:\\Windows\\System32\\curl.exe", "ProcessId": 6400, "Hashes": null}}}"##;

    #[test]
    fn record_bytes_give_the_same_event_as_the_value() {
        let j: Json = serde_json::from_str(SYSMON).unwrap_or(Json::Null);
        let from_value = Event::from_evtx_json(&j).unwrap_or_else(|e| panic!("{e}"));
        let from_bytes = Event::from_evtx_bytes(SYSMON.as_bytes()).unwrap_or_else(|e| panic!("{e}"));
        // The bytes keep document order; a `Value` sorts its keys unless serde_json's
        // `preserve_order` is on, so the fields are compared as sets.
        let sorted = |e: &Event<'_>| {
            let mut f: Vec<String> = e.fields().iter().map(|(n, v)| format!("{n}={v:?}")).collect();
            f.sort();
            f
        };
        assert_eq!(sorted(&from_bytes), sorted(&from_value));
        assert_eq!(
            (from_bytes.event_id, from_bytes.timestamp, &from_bytes.computer),
            (from_value.event_id, from_value.timestamp, &from_value.computer)
        );
        assert_eq!(from_bytes.fields()[0].0, "Provider_Name", "document order");
        assert!(from_bytes.fields().len() > 10);
        let named = r##"{"System": {"EventID": 4}, "EventData": {"Data": [
            {"#attributes": {"Name": "A"}, "#text": "x"}, {"#attributes": {"Name": "B"}}]}}"##;
        let j: Json = serde_json::from_str(named).unwrap_or(Json::Null);
        let from_bytes = Event::from_evtx_bytes(named.as_bytes()).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(from_bytes, Event::from_evtx_json(&j).unwrap_or_else(|e| panic!("{e}")));
        assert_eq!(from_bytes.field("A"), Some(FieldValue::str("x")));
        assert_eq!(from_bytes.field("B"), Some(FieldValue::Null));
        assert!(matches!(
            Event::from_evtx_bytes(b"{\"System\""),
            Err(EventError::Json(_))
        ));
        assert_eq!(Event::from_evtx_bytes(b"[1]"), Err(EventError::NotAnObject));
    }

    #[test]
    fn evtx_json_system_and_eventdata() {
        let j: Json = serde_json::from_str(SYSMON).unwrap_or(Json::Null);
        let ev = Event::from_evtx_json(&j).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(ev.event_id, Some(1));
        assert_eq!(ev.channel.as_deref(), Some("Microsoft-Windows-Sysmon/Operational"));
        assert_eq!(ev.provider.as_deref(), Some("Microsoft-Windows-Sysmon"));
        assert_eq!(ev.computer.as_deref(), Some("host1"));
        assert_eq!(ev.timestamp, Some(1_765_433_839_772_545_000));
        assert_eq!(ev.field("Execution_ProcessID"), Some(FieldValue::Int(3208)));
        assert_eq!(ev.field("Security_UserID"), Some(FieldValue::str("S-1-5-18")));
        assert_eq!(
            ev.field("image"),
            Some(FieldValue::str(r"C:\Windows\System32\curl.exe"))
        );
        assert_eq!(ev.field("Hashes"), Some(FieldValue::Null));
        assert_eq!(ev.field("Nope"), None);
        // no xmlns attribute field
        assert!(ev.fields().iter().all(|(n, _)| !n.starts_with("xmlns")));
        let owned = ev.clone().into_owned();
        assert_eq!(owned, ev);
    }

    #[test]
    fn event_id_with_qualifiers_and_unnamed_data() {
        let j: Json = serde_json::from_str(
            r##"{"System": {"EventID": {"#attributes": {"Qualifiers": 16384}, "#text": 7045}, "Channel": "System"},
                "EventData": {"Data": {"#text": ["first", "second"]}, "Binary": null},
                "UserData": {"EventXML": {"#attributes": {"xmlns": "y"}, "Param1": "p"}}}"##,
        )
        .unwrap_or(Json::Null);
        let ev = Event::from_evtx_json(&j).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(ev.event_id, Some(7045));
        assert_eq!(ev.field("EventID_Qualifiers"), Some(FieldValue::Int(16384)));
        let data: Vec<_> = ev
            .fields()
            .iter()
            .filter(|(n, _)| n == "Data")
            .map(|(_, v)| v.clone())
            .collect();
        assert_eq!(data, vec![FieldValue::str("first"), FieldValue::str("second")]);
        assert_eq!(ev.field("Param1"), Some(FieldValue::str("p")));
    }

    #[test]
    fn named_data_elements() {
        let j: Json = serde_json::from_str(
            r##"{"System": {"EventID": 4688, "Channel": "Security"},
                "EventData": {"Data": [{"#attributes": {"Name": "NewProcessName"}, "#text": "C:\\x.exe"},
                                       {"#attributes": {"Name": "CommandLine"}}]}}"##,
        )
        .unwrap_or(Json::Null);
        let ev = Event::from_evtx_json(&j).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(ev.field("NewProcessName"), Some(FieldValue::str("C:\\x.exe")));
        assert_eq!(ev.field("CommandLine"), Some(FieldValue::Null));
        assert_eq!(ev.field("Name"), None);
    }

    #[test]
    fn metadata_is_visible_as_fields() {
        let ev = Event::new().with_channel("Security").with_event_id(4688);
        assert_eq!(ev.field("EventID"), Some(FieldValue::Int(4688)));
        assert_eq!(ev.field("Channel"), Some(FieldValue::str("Security")));
        assert_eq!(ev.field("Computer"), None);
    }

    #[test]
    fn errors_and_flat_json() {
        assert_eq!(Event::from_evtx_json(&Json::Null), Err(EventError::NotAnObject));
        let j: Json = serde_json::from_str(r#"{"Event": {"EventData": {}}}"#).unwrap_or(Json::Null);
        assert_eq!(Event::from_evtx_json(&j), Err(EventError::NoSystem));
        let j: Json =
            serde_json::from_str(r#"{"FolderPath": "C:\\x.exe", "ProcessId": 5, "Big": 18446744073709551615}"#)
                .unwrap_or(Json::Null);
        let ev = Event::from_flat_json(&j).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(ev.field("ProcessId"), Some(FieldValue::Int(5)));
        assert_eq!(
            ev.field("Big").and_then(|v| v.as_text().map(|t| t.into_owned())),
            Some("18446744073709551615".into())
        );
    }

    #[test]
    fn value_text_and_numbers() {
        assert_eq!(FieldValue::Float(3.0).as_text().as_deref(), Some("3"));
        assert_eq!(FieldValue::Float(2.5).as_text().as_deref(), Some("2.5"));
        assert_eq!(FieldValue::Bool(true).as_text().as_deref(), Some("true"));
        assert_eq!(FieldValue::Null.as_text(), None);
        assert_eq!(FieldValue::str("0x1F").as_number(), Some(31.0));
        assert_eq!(FieldValue::str(" 12 ").as_number(), Some(12.0));
        assert_eq!(FieldValue::str("abc").as_number(), None);
    }
}
