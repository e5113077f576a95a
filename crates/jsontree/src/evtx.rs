//! The shape of one evtx record rendered as JSON, decoded once for every reader of it.
//!
//! The `evtx` crate renders a record as `{"Event": {"System": {…}, "EventData": {…},
//! "UserData": {…}}}` (or the inner object alone). A `System` element is a scalar
//! (`"Channel": "Security"`) or an object with `#text` and `#attributes`
//! (`"EventID": {"#text": 4624, "#attributes": {"Qualifiers": 0}}`); some renderers put the
//! attributes beside the element instead (`"EventID_attributes": {…}`).
//!
//! [`Record`] borrows the parts from a tree; [`OwnedRecord`] moves them out of a tree it is
//! given, so text can go on borrowing the input buffer without a copy. Both find the parts the
//! same way: the last member of a repeated name counts, as in a `serde_json::Value`.

use std::borrow::Cow;

use crate::Json;

/// One member of a JSON object.
pub type Member<'a> = (Cow<'a, str>, Json<'a>);

/// Why a tree is not an evtx record.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RecordError {
    /// The tree is not an object.
    NotAnObject,
    /// `Event.System` (or `System`) is missing or not an object.
    NoSystem,
}

/// The parts of a record, borrowed from its tree.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Record<'t, 'a> {
    /// The members of `System`, in document order.
    pub system: &'t [Member<'a>],
    /// `EventData`, unless absent or `null`.
    pub event_data: Option<&'t Json<'a>>,
    /// `UserData`, unless absent or `null`.
    pub user_data: Option<&'t Json<'a>>,
}

/// The parts of a record, moved out of its tree.
#[derive(Debug, Clone, PartialEq)]
pub struct OwnedRecord<'a> {
    /// The members of `System`, in document order.
    pub system: Vec<Member<'a>>,
    /// `EventData`, unless absent or `null`.
    pub event_data: Option<Json<'a>>,
    /// `UserData`, unless absent or `null`.
    pub user_data: Option<Json<'a>>,
}

/// One `System` element, borrowed: its text and its (nested) attributes.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Element<'t, 'a> {
    /// The element name (`EventID`, `Provider`, …).
    pub name: &'t str,
    /// The value itself for a non-object, else its `#text` member when it has one.
    pub text: Option<&'t Json<'a>>,
    /// The members of its `#attributes` object (empty when it has none).
    pub attributes: &'t [Member<'a>],
}

/// One `System` element, moved out of its record.
#[derive(Debug, Clone, PartialEq)]
pub struct OwnedElement<'a> {
    /// The element name (`EventID`, `Provider`, …).
    pub name: Cow<'a, str>,
    /// The value itself for a non-object, else its `#text` member when it has one.
    pub text: Option<Json<'a>>,
    /// The members of its `#attributes` object (empty when it has none).
    pub attributes: Vec<Member<'a>>,
}

/// Where a record's parts stand among the members of its `Event` object.
struct Parts {
    system: usize,
    event_data: Option<usize>,
    user_data: Option<usize>,
}

/// Where an element's `#text` and `#attributes` (an object) stand among its members.
struct ElementParts {
    text: Option<usize>,
    attributes: Option<usize>,
}

/// The position of the last member named `key`.
fn last(members: &[Member<'_>], key: &str) -> Option<usize> {
    members.iter().rposition(|(k, _)| k == key)
}

/// The position of the record's `Event` object among the root members, if it has one.
fn event_position(root: &[Member<'_>]) -> Option<usize> {
    last(root, "Event").filter(|&i| matches!(root[i].1, Json::Object(_)))
}

fn parts(event: &[Member<'_>]) -> Result<Parts, RecordError> {
    let system = last(event, "System")
        .filter(|&i| matches!(event[i].1, Json::Object(_)))
        .ok_or(RecordError::NoSystem)?;
    let present = |key: &str| last(event, key).filter(|&i| !event[i].1.is_null());
    Ok(Parts {
        system,
        event_data: present("EventData"),
        user_data: present("UserData"),
    })
}

fn element_parts(members: &[Member<'_>]) -> ElementParts {
    ElementParts {
        text: last(members, "#text"),
        attributes: last(members, "#attributes").filter(|&i| matches!(members[i].1, Json::Object(_))),
    }
}

impl<'t, 'a> Record<'t, 'a> {
    /// Finds the parts of the record `tree` holds.
    pub fn from_tree(tree: &'t Json<'a>) -> Result<Record<'t, 'a>, RecordError> {
        let root = tree.as_object().ok_or(RecordError::NotAnObject)?;
        let event = match event_position(root).map(|i| &root[i].1) {
            Some(Json::Object(inner)) => inner.as_slice(),
            _ => root,
        };
        let p = parts(event)?;
        let Json::Object(system) = &event[p.system].1 else {
            return Err(RecordError::NoSystem);
        };
        Ok(Record {
            system,
            event_data: p.event_data.map(|i| &event[i].1),
            user_data: p.user_data.map(|i| &event[i].1),
        })
    }

    /// The `System` elements in document order.
    pub fn elements(&self) -> impl Iterator<Item = Element<'t, 'a>> + 't {
        self.system.iter().map(|(k, v)| Element::of(k, v))
    }

    /// The `System` element named `name` (the last one, if it repeats).
    pub fn element(&self, name: &str) -> Option<Element<'t, 'a>> {
        let system: &'t [Member<'a>] = self.system;
        last(system, name).map(|i| Element::of(&system[i].0, &system[i].1))
    }

    /// Attribute `name` of the `System` element `element`: from its nested `#attributes`, or
    /// else from a separate `{element}_attributes` member.
    pub fn attribute(&self, element: &str, name: &str) -> Option<&'t Json<'a>> {
        let system: &'t [Member<'a>] = self.system;
        let nested = self
            .element(element)
            .and_then(|e| last(e.attributes, name).map(|i| &e.attributes[i].1));
        nested.or_else(|| {
            let i = system
                .iter()
                .rposition(|(k, _)| k.strip_suffix("_attributes") == Some(element))?;
            system[i].1.get(name)
        })
    }
}

impl<'a> OwnedRecord<'a> {
    /// Moves the parts of a record out of `tree`.
    pub fn from_tree(tree: Json<'a>) -> Result<OwnedRecord<'a>, RecordError> {
        let Json::Object(mut event) = tree else {
            return Err(RecordError::NotAnObject);
        };
        if let Some(i) = event_position(&event)
            && let Json::Object(inner) = event.swap_remove(i).1
        {
            event = inner;
        }
        let p = parts(&event)?;
        let mut record = OwnedRecord {
            system: Vec::new(),
            event_data: None,
            user_data: None,
        };
        for (i, (_, v)) in event.into_iter().enumerate() {
            if i == p.system {
                if let Json::Object(system) = v {
                    record.system = system;
                }
            } else if Some(i) == p.event_data {
                record.event_data = Some(v);
            } else if Some(i) == p.user_data {
                record.user_data = Some(v);
            }
        }
        Ok(record)
    }

    /// Moves the `System` elements out, in document order.
    pub fn into_elements(system: Vec<Member<'a>>) -> impl Iterator<Item = OwnedElement<'a>> {
        system.into_iter().map(|(k, v)| OwnedElement::of(k, v))
    }
}

impl<'t, 'a> Element<'t, 'a> {
    fn of(name: &'t str, value: &'t Json<'a>) -> Element<'t, 'a> {
        let Json::Object(members) = value else {
            return Element {
                name,
                text: Some(value),
                attributes: &[],
            };
        };
        let p = element_parts(members);
        Element {
            name,
            text: p.text.map(|i| &members[i].1),
            attributes: match p.attributes.map(|i| &members[i].1) {
                Some(Json::Object(attrs)) => attrs,
                _ => &[],
            },
        }
    }
}

impl<'a> OwnedElement<'a> {
    fn of(name: Cow<'a, str>, value: Json<'a>) -> OwnedElement<'a> {
        let Json::Object(members) = value else {
            return OwnedElement {
                name,
                text: Some(value),
                attributes: Vec::new(),
            };
        };
        let p = element_parts(&members);
        let mut element = OwnedElement {
            name,
            text: None,
            attributes: Vec::new(),
        };
        for (i, (_, v)) in members.into_iter().enumerate() {
            if Some(i) == p.text {
                element.text = Some(v);
            } else if Some(i) == p.attributes
                && let Json::Object(attrs) = v
            {
                element.attributes = attrs;
            }
        }
        element
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Json<'_> {
        Json::parse(text.as_bytes()).unwrap_or_else(|e| panic!("{e}: {text}"))
    }

    fn owned_elements(tree: Json<'_>) -> Vec<(String, Option<Json<'_>>, Vec<Member<'_>>)> {
        let record = OwnedRecord::from_tree(tree).unwrap_or_else(|e| panic!("{e:?}"));
        OwnedRecord::into_elements(record.system)
            .map(|e| (e.name.into_owned(), e.text, e.attributes))
            .collect()
    }

    const NESTED: &str = r##"{"Event": {"#attributes": {"xmlns": "x"}, "System": {
        "Provider": {"#attributes": {"Name": "Microsoft-Windows-Security-Auditing", "Guid": "{5484}"}},
        "EventID": 4624, "TimeCreated": {"#attributes": {"SystemTime": "2024-01-02T03:04:05Z"}},
        "Correlation": null, "Execution": {"#attributes": {"ProcessID": 640, "ThreadID": 7}},
        "Channel": "Security", "Computer": "dc1"},
      "EventData": {"TargetUserName": "alice"}, "UserData": null}}"##;

    #[test]
    fn nested_attributes_and_number_event_id() {
        let tree = parse(NESTED);
        let r = Record::from_tree(&tree).unwrap_or_else(|e| panic!("{e:?}"));
        assert_eq!(r.system.len(), 7);
        let names: Vec<&str> = r.elements().map(|e| e.name).collect();
        assert_eq!(
            names,
            [
                "Provider",
                "EventID",
                "TimeCreated",
                "Correlation",
                "Execution",
                "Channel",
                "Computer"
            ]
        );
        let id = r.element("EventID").unwrap_or_else(|| panic!("EventID"));
        assert_eq!((id.text, id.attributes.len()), (Some(&Json::Int(4624)), 0));
        let provider = r.element("Provider").unwrap_or_else(|| panic!("Provider"));
        assert_eq!(provider.text, None);
        assert_eq!(provider.attributes.len(), 2);
        assert_eq!(r.element("Correlation").and_then(|e| e.text), Some(&Json::Null));
        assert_eq!(r.attribute("Execution", "ProcessID"), Some(&Json::Int(640)));
        assert_eq!(r.attribute("Provider", "Guid").and_then(Json::as_str), Some("{5484}"));
        assert_eq!(r.attribute("Execution", "Nope"), None);
        assert_eq!(r.element("Nope"), None);
        assert_eq!(
            r.event_data
                .and_then(|d| d.get("TargetUserName"))
                .and_then(Json::as_str),
            Some("alice")
        );
        assert_eq!(r.user_data, None, "null UserData reads as absent");

        let owned = owned_elements(parse(NESTED));
        assert_eq!(owned.len(), 7);
        for (b, (name, text, attrs)) in r.elements().zip(&owned) {
            assert_eq!(b.name, name);
            assert_eq!(b.text, text.as_ref());
            assert_eq!(b.attributes, attrs.as_slice());
        }
    }

    #[test]
    fn event_id_as_text_object_with_qualifiers() {
        let text = r##"{"System": {"EventID": {"#attributes": {"Qualifiers": 16384}, "#text": 7045}}}"##;
        let tree = parse(text);
        let r = Record::from_tree(&tree).unwrap_or_else(|e| panic!("{e:?}"));
        let id = r.element("EventID").unwrap_or_else(|| panic!("EventID"));
        assert_eq!(id.text, Some(&Json::Int(7045)));
        assert_eq!(r.attribute("EventID", "Qualifiers"), Some(&Json::Int(16384)));
        let owned = owned_elements(parse(text));
        assert_eq!(owned.len(), 1);
        assert_eq!(owned[0].1, Some(Json::Int(7045)));
        assert_eq!(owned[0].2, vec![(Cow::Borrowed("Qualifiers"), Json::Int(16384))]);
    }

    #[test]
    fn separate_attribute_layout() {
        let text = r##"{"Event": {"System": {"Provider_attributes": {"Name": "Sysmon"},
            "EventID": 1, "EventID_attributes": {"Qualifiers": 5},
            "Execution": {"#attributes": {"ThreadID": 2}}, "Execution_attributes": {"ProcessID": 9}}}}"##;
        let tree = parse(text);
        let r = Record::from_tree(&tree).unwrap_or_else(|e| panic!("{e:?}"));
        assert_eq!(r.attribute("Provider", "Name").and_then(Json::as_str), Some("Sysmon"));
        assert_eq!(r.attribute("EventID", "Qualifiers"), Some(&Json::Int(5)));
        assert_eq!(
            r.attribute("Execution", "ThreadID"),
            Some(&Json::Int(2)),
            "nested first"
        );
        assert_eq!(
            r.attribute("Execution", "ProcessID"),
            Some(&Json::Int(9)),
            "then beside"
        );
        // The walk shows the members as they stand: the separate objects carry no #text.
        let attrs_member = r.element("Provider_attributes").unwrap_or_else(|| panic!("member"));
        assert_eq!((attrs_member.text, attrs_member.attributes.len()), (None, 0));
    }

    #[test]
    fn missing_or_bad_system_and_null_event_data() {
        for (text, err) in [
            (r#"[1]"#, RecordError::NotAnObject),
            (r#"{"Event": {"EventData": {}}}"#, RecordError::NoSystem),
            (r#"{"Event": {"System": 3}}"#, RecordError::NoSystem),
            (r#"{"System": {}, "System": null}"#, RecordError::NoSystem),
        ] {
            let tree = parse(text);
            assert_eq!(Record::from_tree(&tree), Err(err), "{text}");
            assert_eq!(OwnedRecord::from_tree(parse(text)), Err(err), "{text}");
        }
        let text = r#"{"Event": 5, "System": {"Channel": "x"}, "EventData": null, "UserData": {"A": 1}}"#;
        let tree = parse(text);
        let r = Record::from_tree(&tree).unwrap_or_else(|e| panic!("{e:?}"));
        assert_eq!(r.event_data, None, "null EventData reads as absent");
        assert_eq!(r.user_data.and_then(|u| u.get("A")), Some(&Json::Int(1)));
        let o = OwnedRecord::from_tree(parse(text)).unwrap_or_else(|e| panic!("{e:?}"));
        assert_eq!(o.event_data, None);
        assert_eq!(o.user_data.as_ref(), r.user_data);
        assert_eq!(o.system.as_slice(), r.system);
    }

    #[test]
    fn repeated_names_take_the_last() {
        let text = r##"{"Event": {"System": {"Channel": "a", "Channel": "b",
            "EventID": {"#text": 1, "#text": 2}}, "EventData": {"X": 1}, "EventData": {"Y": 2}}}"##;
        let tree = parse(text);
        let r = Record::from_tree(&tree).unwrap_or_else(|e| panic!("{e:?}"));
        assert_eq!(
            r.element("Channel").and_then(|e| e.text).and_then(Json::as_str),
            Some("b")
        );
        assert_eq!(r.element("EventID").and_then(|e| e.text), Some(&Json::Int(2)));
        assert_eq!(r.event_data.and_then(|d| d.get("Y")), Some(&Json::Int(2)));
        let o = OwnedRecord::from_tree(parse(text)).unwrap_or_else(|e| panic!("{e:?}"));
        assert_eq!(o.event_data.as_ref(), r.event_data);
        let owned = owned_elements(parse(text));
        assert_eq!(owned[2].1, Some(Json::Int(2)));
    }
}
