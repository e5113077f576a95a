//! Export rows (Defender and Sentinel exports as JSON or CSV, Parquet tables) into table rows:
//! which table a row belongs to (by its `Type` column, the file name, its columns or its
//! `ActionType`), column names as the portal and APIs spell them, and the row itself.

use std::borrow::Cow;
use std::collections::BTreeSet;
use std::path::Path;

use serde_json::{Map, Value};

use crate::Error;
use crate::event::WinEvent;
use crate::readers::Ingestor;
use crate::report::Location;
use crate::row::{Cell, Row};
use crate::schema::{self, TableDef};

/// Columns Sentinel adds to every table; never reported as unknown.
const SYSTEM_COLUMNS: [&str; 8] = [
    "TenantId",
    "SourceSystem",
    "Type",
    "MachineGroup",
    "_BilledSize",
    "_IsBillable",
    "_ResourceId",
    "_SubscriptionId",
];

/// Normalises a header/key spelling: trims, drops a BOM and a portal ` [UTC]` suffix.
pub(crate) fn column_name(raw: &str) -> Cow<'_, str> {
    let t = raw.trim().trim_start_matches('\u{feff}').trim();
    let t = t.strip_suffix("[UTC]").map(str::trim_end).unwrap_or(t);
    Cow::Borrowed(t)
}

/// The table an `ActionType` value belongs to, for the values that name one table only.
fn table_of_action(action: &str) -> Option<&'static str> {
    Some(match action {
        "ProcessCreated" => schema::DEVICE_PROCESS_EVENTS,
        "ConnectionSuccess"
        | "ConnectionFailed"
        | "ConnectionRequest"
        | "ConnectionFound"
        | "InboundConnectionAccepted"
        | "ListeningConnectionCreated"
        | "ConnectionAttempt"
        | "ConnectionAcknowledged" => schema::DEVICE_NETWORK_EVENTS,
        "FileCreated" | "FileModified" | "FileDeleted" | "FileRenamed" => schema::DEVICE_FILE_EVENTS,
        "RegistryKeyCreated"
        | "RegistryKeyDeleted"
        | "RegistryValueSet"
        | "RegistryValueDeleted"
        | "RegistryKeyRenamed" => schema::DEVICE_REGISTRY_EVENTS,
        "ImageLoaded" => schema::DEVICE_IMAGE_LOAD_EVENTS,
        "LogonSuccess" | "LogonFailed" | "LogonAttempted" => schema::DEVICE_LOGON_EVENTS,
        _ => return None,
    })
}

/// Picks the table for export rows: by the file or folder name, then by an `ActionType` that
/// belongs to one table, else by the best column overlap (a tie names no table).
pub(crate) fn infer_table(keys: &[&str], path: &Path, action: Option<&str>) -> Option<&'static TableDef> {
    let stem = path
        .file_name()
        .map(|s| s.to_string_lossy().to_ascii_lowercase())
        .unwrap_or_default();
    let parent = path
        .parent()
        .and_then(Path::file_name)
        .map(|s| s.to_string_lossy().to_ascii_lowercase())
        .unwrap_or_default();
    let by_name = schema::tables()
        .iter()
        .filter(|t| {
            let n = t.name().to_ascii_lowercase();
            stem.contains(&n) || parent == n
        })
        .max_by_key(|t| t.name().len());
    if by_name.is_some() {
        return by_name;
    }
    if let Some(t) = action.and_then(table_of_action).and_then(schema::table) {
        return Some(t);
    }
    let keys: Vec<&str> = keys.iter().copied().filter(|k| !SYSTEM_COLUMNS.contains(k)).collect();
    let mut best: Option<(&'static TableDef, usize)> = None;
    let mut tie = false;
    for t in schema::tables() {
        let matched = keys.iter().filter(|k| t.column_index(k).is_some()).count();
        match best {
            Some((_, m)) if matched > m => {
                tie = false;
                best = Some((t, matched));
            }
            Some((_, m)) if matched == m => tie = true,
            Some(_) => {}
            None => best = Some((t, matched)),
        }
    }
    let (t, m) = best?;
    (!tie && m >= 2 && m * 2 > keys.len()).then_some(t)
}

impl Ingestor<'_> {
    /// One export row given as key → JSON value pairs.
    pub(crate) fn flat_row(
        &mut self,
        obj: Vec<(String, Value)>,
        loc: Location,
        table: Option<&'static TableDef>,
    ) -> Result<(), Error> {
        let type_col = obj
            .iter()
            .find(|(k, _)| k == "Type")
            .and_then(|(_, v)| v.as_str())
            .and_then(schema::table_ignore_case);
        let table = match table.or(type_col).or(self.file.table) {
            Some(t) => t,
            None => {
                let keys: Vec<Cow<'_, str>> = obj.iter().map(|(k, _)| column_name(k)).collect();
                let keys: Vec<&str> = keys.iter().map(|k| k.as_ref()).collect();
                let action = obj
                    .iter()
                    .find(|(k, _)| k == "ActionType")
                    .and_then(|(_, v)| v.as_str());
                match infer_table(&keys, &self.file.path, action) {
                    Some(t) => {
                        self.file.table = Some(t);
                        t
                    }
                    None => {
                        self.skip(
                            loc,
                            "row of an unknown table: no Type column, and neither the file name nor the columns name one",
                        );
                        return Ok(());
                    }
                }
            }
        };
        let mut row = Row::new(table);
        for (k, v) in &obj {
            let name = column_name(k);
            match table.column_index(&name) {
                Some(i) => {
                    let kind = table.columns()[i].1;
                    match Cell::from_json(v, kind) {
                        Some(c) => {
                            row.set(&name, c);
                        }
                        None => {
                            self.file
                                .bad_values
                                .entry((table.name(), name.into_owned()))
                                .or_insert((0, loc))
                                .0 += 1;
                        }
                    }
                }
                None if SYSTEM_COLUMNS.contains(&name.as_ref()) => {}
                None => {
                    self.file
                        .unknown_columns
                        .entry(table.name())
                        .or_insert_with(|| (BTreeSet::new(), loc))
                        .0
                        .insert(name.into_owned());
                }
            }
        }
        if let Some(ts) = row.get("Timestamp").cloned() {
            row.fill("TimeGenerated", ts);
        }
        if let Some(tg) = row.get("TimeGenerated").cloned() {
            row.fill("Timestamp", tg);
        }
        row.fill("Type", Cell::Str(table.name().to_string()));
        self.row(&row)
    }

    /// An Event Hub / storage record: `{"category": "AdvancedHunting-X", "properties": {…}}`.
    pub(crate) fn hub_record(&mut self, mut rec: Map<String, Value>, loc: Location) -> Result<(), Error> {
        let category = rec
            .get("category")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_string();
        let name = category.strip_prefix("AdvancedHunting-").unwrap_or(&category);
        let Some(table) = schema::table_ignore_case(name) else {
            self.skip(loc, format!("record of a table this tool does not know: {category}"));
            return Ok(());
        };
        let Some(Value::Object(props)) = rec.remove("properties") else {
            self.skip(loc, "record without a properties object");
            return Ok(());
        };
        let mut pairs: Vec<(String, Value)> = props.into_iter().collect();
        if let Some(t) = rec.get("tenantId").filter(|v| v.is_string())
            && !pairs.iter().any(|(k, _)| k == "TenantId")
        {
            pairs.push(("TenantId".into(), t.clone()));
        }
        self.flat_row(pairs, loc, Some(table))
    }

    /// One positional Log Analytics row.
    pub(crate) fn la_row(&mut self, columns: &[String], row: Vec<Value>, loc: Location) -> Result<(), Error> {
        if row.len() != columns.len() {
            self.skip(
                loc,
                format!("row has {} values for {} columns", row.len(), columns.len()),
            );
            return Ok(());
        }
        let pairs = columns.iter().cloned().zip(row).collect();
        self.flat_row(pairs, loc, None)
    }

    /// Any parsed JSON value: dispatched by shape.
    pub(crate) fn json_value(&mut self, v: Value, loc: Location) -> Result<(), Error> {
        match v {
            Value::Array(items) => {
                for it in items {
                    self.json_value(it, loc)?;
                }
                Ok(())
            }
            Value::Object(mut m) => {
                if m.get("Event").is_some_and(Value::is_object) || m.get("System").is_some_and(Value::is_object) {
                    match WinEvent::from_json(&Value::Object(m)) {
                        Ok(ev) => self.event(&ev),
                        Err(r) => {
                            self.skip(loc, r);
                            Ok(())
                        }
                    }
                } else if m.get("records").is_some_and(Value::is_array) {
                    if let Some(Value::Array(items)) = m.remove("records") {
                        for it in items {
                            self.json_value(it, loc)?;
                        }
                    }
                    Ok(())
                } else if let Some(key) = ["Results", "results"]
                    .into_iter()
                    .find(|k| m.get(*k).is_some_and(Value::is_array))
                {
                    if let Some(Value::Array(items)) = m.remove(key) {
                        for it in items {
                            match it {
                                Value::Object(o) => self.flat_row(o.into_iter().collect(), loc, None)?,
                                _ => self.skip(loc, "result that is not an object"),
                            }
                        }
                    }
                    Ok(())
                } else if m.get("tables").is_some_and(Value::is_array) {
                    if let Some(Value::Array(tables)) = m.remove("tables") {
                        for t in tables {
                            let columns = t.get("columns").map(column_names).unwrap_or_default();
                            if let Some(Value::Array(rows)) = t.get("rows") {
                                for r in rows {
                                    match r {
                                        Value::Array(vals) => self.la_row(&columns, vals.clone(), loc)?,
                                        _ => self.skip(loc, "table row that is not an array"),
                                    }
                                }
                            }
                        }
                    }
                    Ok(())
                } else if m.get("properties").is_some_and(Value::is_object)
                    && m.get("category").is_some_and(Value::is_string)
                {
                    self.hub_record(m, loc)
                } else if !m.contains_key("Type")
                    && let Some(ev) = WinEvent::from_flat_json(&m)
                {
                    self.event(&ev)
                } else {
                    self.flat_row(m.into_iter().collect(), loc, None)
                }
            }
            _ => {
                self.skip(loc, "JSON value that is not an object");
                Ok(())
            }
        }
    }
}

pub(crate) fn column_names(columns: &Value) -> Vec<String> {
    columns
        .as_array()
        .map(|cols| {
            cols.iter()
                .map(|c| {
                    c.get("name")
                        .or_else(|| c.get("ColumnName"))
                        .or_else(|| c.get("Name"))
                        .and_then(Value::as_str)
                        .unwrap_or_default()
                        .to_string()
                })
                .collect()
        })
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table_inference() {
        let p = Path::new("/x/export.json");
        assert_eq!(
            infer_table(
                &["Timestamp", "RegistryKey", "RegistryValueData", "RegistryValueType"],
                p,
                None
            )
            .map(TableDef::name),
            Some(schema::DEVICE_REGISTRY_EVENTS)
        );
        assert_eq!(
            infer_table(
                &["Timestamp", "RemoteIP", "RemotePort", "RemoteUrl", "LocalIPType"],
                p,
                None
            )
            .map(TableDef::name),
            Some(schema::DEVICE_NETWORK_EVENTS)
        );
        let named = Path::new("/x/DeviceFileEvents-2024.csv");
        assert_eq!(
            infer_table(&["a", "b"], named, None).map(TableDef::name),
            Some(schema::DEVICE_FILE_EVENTS)
        );
        assert_eq!(infer_table(&["foo", "bar"], p, None).map(TableDef::name), None);
        // Columns shared by DeviceProcessEvents and DeviceEvents: ambiguous unless the
        // ActionType names the table.
        let shared = ["Timestamp", "DeviceName", "FileName", "ProcessCommandLine"];
        assert_eq!(infer_table(&shared, p, None).map(TableDef::name), None);
        assert_eq!(
            infer_table(&shared, p, Some("ProcessCreated")).map(TableDef::name),
            Some(schema::DEVICE_PROCESS_EVENTS)
        );
    }

    #[test]
    fn column_name_normalisation() {
        assert_eq!(column_name("\u{feff}Timestamp [UTC]"), "Timestamp");
        assert_eq!(column_name(" FileName "), "FileName");
    }
}
