//! Readers for JSON (evtx records and Defender/Sentinel exports), CSV exports and Parquet.
//!
//! JSON shapes handled: evtx records (`{"Event": …}`), JSON lines of any shape below,
//! concatenated pretty objects (optionally preceded by `evtx_dump`'s `Record N` lines),
//! Advanced Hunting API / Graph responses (`Schema`/`Results`, `schema`/`results`),
//! Event Hub messages (`records[]` with `category: AdvancedHunting-<Table>`) and their
//! storage-account form (one record per line), Log Analytics query responses
//! (`tables[].columns/rows`) and plain rows of table columns. Large arrays inside a document are
//! streamed element by element. CSV: a header row of column names as the Defender portal,
//! Sentinel and PowerShell `Export-Csv` write it (a `#TYPE` line, quotes, `[UTC]` suffixes,
//! `,` `;` or tab between fields).

use std::borrow::Cow;
use std::collections::BTreeSet;
use std::fmt;
use std::io::{BufRead, Read};
use std::path::Path;
use std::rc::Rc;
use std::sync::Arc;

use serde::de::{self, DeserializeSeed, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde_json::{Map, Value};

use crate::Error;
use crate::event::WinEvent;
use crate::row::{Cell, Row};
use crate::schema::{self, TableDef};
use crate::source::{Ingestor, Location};

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
fn column_name(raw: &str) -> Cow<'_, str> {
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
    fn flat_row(
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
    fn hub_record(&mut self, mut rec: Map<String, Value>, loc: Location) -> Result<(), Error> {
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
    fn la_row(&mut self, columns: &[String], row: Vec<Value>, loc: Location) -> Result<(), Error> {
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

fn column_names(columns: &Value) -> Vec<String> {
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

fn is_record_line(line: &[u8]) -> bool {
    let t = line.trim_ascii();
    t.strip_prefix(b"Record ")
        .is_some_and(|n| !n.is_empty() && n.iter().all(u8::is_ascii_digit))
}

/// Lines of the sniffed head looked at to tell JSON lines from pretty-printed documents.
const JSON_SNIFF_LINES: usize = 32;

/// Whether `text` (the first bytes of a file; `whole`: all of it) reads as JSON lines: among its
/// first complete lines (blank and `Record N` lines aside) at least one is a whole JSON object
/// or array, and those are not fewer than the lines that are not. Pretty-printed documents
/// have more structure lines (`[`, `"key": value,`, `},`) than lines holding a whole object, so
/// a broken first line (a file cut at the front, a torn write) no longer decides the format.
pub(crate) fn looks_like_json_lines(text: &[u8], whole: bool) -> bool {
    let mut lines: Vec<&[u8]> = text.split(|&b| b == b'\n').collect();
    if !whole {
        // The last line may be cut by the sniff limit.
        lines.pop();
    }
    let (mut ok, mut bad) = (0usize, 0usize);
    for line in lines
        .into_iter()
        .map(<[u8]>::trim_ascii)
        .filter(|l| !l.is_empty() && !is_record_line(l))
        .take(JSON_SNIFF_LINES)
    {
        let line = line.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(line);
        if matches!(line.first(), Some(b'{' | b'[')) && serde_json::from_slice::<IgnoredAny>(line).is_ok() {
            ok += 1;
        } else {
            bad += 1;
        }
    }
    ok >= 1 && ok >= bad
}

/// Reads JSON input: JSON lines when the first line is a complete value or most of the first
/// lines are ([`looks_like_json_lines`]), else a stream of (possibly pretty-printed, possibly
/// concatenated) documents. `whole`: `head` holds the whole input.
pub(crate) fn read_json(
    ing: &mut Ingestor<'_>,
    reader: Box<dyn BufRead + Send>,
    head: &[u8],
    whole: bool,
) -> Result<(), Error> {
    let body = head.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(head);
    let first_line = body
        .split(|&b| b == b'\n')
        .map(<[u8]>::trim_ascii)
        .find(|l| !l.is_empty() && !is_record_line(l));
    let whole_line_in_head = |l: &[u8]| {
        let end = l.as_ptr() as usize - body.as_ptr() as usize + l.len();
        end < body.len() || whole
    };
    let lines_mode = first_line
        .is_some_and(|l| whole_line_in_head(l) && serde_json::from_slice::<IgnoredAny>(l).is_ok())
        || looks_like_json_lines(body, whole);
    if lines_mode {
        read_json_lines(ing, reader)
    } else {
        read_json_documents(ing, reader)
    }
}

fn read_json_lines(ing: &mut Ingestor<'_>, mut reader: Box<dyn BufRead + Send>) -> Result<(), Error> {
    let mut buf = Vec::new();
    let mut line_no = 0u64;
    loop {
        buf.clear();
        let n = match reader.read_until(b'\n', &mut buf) {
            Ok(n) => n,
            Err(e) => {
                ing.skip(Location::Line(line_no + 1), format!("read error: {e}"));
                break;
            }
        };
        if n == 0 {
            break;
        }
        line_no += 1;
        let line = buf.trim_ascii();
        let line = line.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(line);
        if line.is_empty() || is_record_line(line) {
            continue;
        }
        match serde_json::from_slice::<Value>(line) {
            Ok(v) => ing.json_value(v, Location::Line(line_no))?,
            Err(e) => ing.skip(Location::Line(line_no), format!("invalid JSON: {e}")),
        }
    }
    Ok(())
}

/// Drops `evtx_dump`'s `Record N` separator lines from a stream.
struct RecordLineFilter<R: BufRead> {
    inner: R,
    line: Vec<u8>,
    pos: usize,
}

impl<R: BufRead> Read for RecordLineFilter<R> {
    fn read(&mut self, out: &mut [u8]) -> std::io::Result<usize> {
        while self.pos >= self.line.len() {
            self.line.clear();
            self.pos = 0;
            if self.inner.read_until(b'\n', &mut self.line)? == 0 {
                return Ok(0);
            }
            if is_record_line(&self.line) {
                // Keep the line count right for error positions.
                self.line.clear();
                self.line.push(b'\n');
            }
        }
        let n = out.len().min(self.line.len() - self.pos);
        out[..n].copy_from_slice(&self.line[self.pos..self.pos + n]);
        self.pos += n;
        Ok(n)
    }
}

/// What the streaming document reader found.
enum Item {
    /// An element of a `records` / `Results` array, or a whole top-level object.
    Value(Value),
    /// A positional row of a Log Analytics table.
    TableRow(Arc<Vec<String>>, Vec<Value>),
}

/// Counts the line feeds read through it (the JSON parser reads byte by byte, so the count is
/// the line the parser is on).
struct LineCount<R: Read> {
    inner: R,
    newlines: Rc<std::cell::Cell<u64>>,
}

impl<R: Read> Read for LineCount<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        let feeds = buf[..n].iter().filter(|&&b| b == b'\n').count() as u64;
        self.newlines.set(self.newlines.get() + feeds);
        Ok(n)
    }
}

struct DocCtx<'i, 's> {
    ing: &'i mut Ingestor<'s>,
    failure: Option<Error>,
    /// Line feeds the parser has read.
    newlines: Rc<std::cell::Cell<u64>>,
}

impl DocCtx<'_, '_> {
    /// The line the parser is on: where the record just read ends.
    fn line(&self) -> u64 {
        self.newlines.get() + 1
    }

    fn item<E: de::Error>(&mut self, item: Item) -> Result<(), E> {
        let loc = Location::Line(self.line());
        let r = match item {
            Item::Value(v) => self.ing.json_value(v, loc),
            Item::TableRow(cols, row) => self.ing.la_row(&cols, row, loc),
        };
        r.map_err(|e| {
            self.failure = Some(e);
            E::custom("output failed")
        })
    }
}

/// Top-level value of a document.
struct TopSeed<'c, 'i, 's>(&'c mut DocCtx<'i, 's>);

impl<'de> DeserializeSeed<'de> for TopSeed<'_, '_, '_> {
    type Value = ();
    fn deserialize<D: de::Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for TopSeed<'_, '_, '_> {
    type Value = ();
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON object or array")
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        while let Some(v) = seq.next_element::<Value>()? {
            self.0.item(Item::Value(v))?;
        }
        Ok(())
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        let ctx = self.0;
        let mut rest = Map::new();
        let mut streamed = false;
        while let Some(key) = map.next_key::<String>()? {
            match key.as_str() {
                "records" | "Results" | "results" => {
                    map.next_value_seed(ArraySeed(&mut *ctx))?;
                    streamed = true;
                }
                "tables" => {
                    map.next_value_seed(TablesSeed(&mut *ctx))?;
                    streamed = true;
                }
                _ => {
                    let v = map.next_value::<Value>()?;
                    rest.insert(key, v);
                }
            }
        }
        if !streamed {
            ctx.item(Item::Value(Value::Object(rest)))?;
        }
        Ok(())
    }
}

/// An array whose elements are handed out one at a time.
struct ArraySeed<'c, 'i, 's>(&'c mut DocCtx<'i, 's>);

impl<'de> DeserializeSeed<'de> for ArraySeed<'_, '_, '_> {
    type Value = ();
    fn deserialize<D: de::Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for ArraySeed<'_, '_, '_> {
    type Value = ();
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an array of records")
    }
    fn visit_unit<E: de::Error>(self) -> Result<(), E> {
        Ok(())
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        while let Some(v) = seq.next_element::<Value>()? {
            self.0.item(Item::Value(v))?;
        }
        Ok(())
    }
}

/// `tables: [{name, columns, rows}]` of a Log Analytics response.
struct TablesSeed<'c, 'i, 's>(&'c mut DocCtx<'i, 's>);

impl<'de> DeserializeSeed<'de> for TablesSeed<'_, '_, '_> {
    type Value = ();
    fn deserialize<D: de::Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_seq(self)
    }
}

impl<'de> Visitor<'de> for TablesSeed<'_, '_, '_> {
    type Value = ();
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an array of tables")
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        while seq.next_element_seed(OneTableSeed(&mut *self.0))?.is_some() {}
        Ok(())
    }
}

struct OneTableSeed<'c, 'i, 's>(&'c mut DocCtx<'i, 's>);

impl<'de> DeserializeSeed<'de> for OneTableSeed<'_, '_, '_> {
    type Value = ();
    fn deserialize<D: de::Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_map(self)
    }
}

impl<'de> Visitor<'de> for OneTableSeed<'_, '_, '_> {
    type Value = ();
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a table object")
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        let ctx = self.0;
        let mut columns: Option<Arc<Vec<String>>> = None;
        let mut pending: Vec<Vec<Value>> = Vec::new();
        while let Some(key) = map.next_key::<String>()? {
            match (key.as_str(), &columns) {
                ("columns", _) => {
                    let v = map.next_value::<Value>()?;
                    columns = Some(Arc::new(column_names(&v)));
                }
                ("rows", Some(cols)) => {
                    let cols = Arc::clone(cols);
                    map.next_value_seed(RowsSeed(&mut *ctx, cols))?;
                }
                ("rows", None) => pending = map.next_value::<Vec<Vec<Value>>>()?,
                _ => {
                    map.next_value::<IgnoredAny>()?;
                }
            }
        }
        let cols = columns.unwrap_or_default();
        for row in pending {
            ctx.item(Item::TableRow(Arc::clone(&cols), row))?;
        }
        Ok(())
    }
}

struct RowsSeed<'c, 'i, 's>(&'c mut DocCtx<'i, 's>, Arc<Vec<String>>);

impl<'de> DeserializeSeed<'de> for RowsSeed<'_, '_, '_> {
    type Value = ();
    fn deserialize<D: de::Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_seq(self)
    }
}

impl<'de> Visitor<'de> for RowsSeed<'_, '_, '_> {
    type Value = ();
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an array of rows")
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        while let Some(row) = seq.next_element::<Vec<Value>>()? {
            self.0.item(Item::TableRow(Arc::clone(&self.1), row))?;
        }
        Ok(())
    }
}

fn read_json_documents(ing: &mut Ingestor<'_>, reader: Box<dyn BufRead + Send>) -> Result<(), Error> {
    let filtered = RecordLineFilter {
        inner: reader,
        line: Vec::new(),
        pos: 0,
    };
    let newlines = Rc::new(std::cell::Cell::new(0));
    let counted = LineCount {
        inner: std::io::BufReader::new(filtered),
        newlines: Rc::clone(&newlines),
    };
    let mut de = serde_json::Deserializer::from_reader(counted);
    let mut ctx = DocCtx {
        ing,
        failure: None,
        newlines,
    };
    loop {
        match de.end() {
            Ok(()) => break,
            Err(e) if e.is_io() => {
                let line = ctx.line();
                ctx.ing.skip(Location::Line(line), format!("read error: {e}"));
                break;
            }
            Err(_) => {}
        }
        let r = TopSeed(&mut ctx).deserialize(&mut de);
        if let Some(fail) = ctx.failure.take() {
            return Err(fail);
        }
        if let Err(e) = r {
            // A malformed document cannot be resynchronised: report it and stop this file.
            ctx.ing.skip(
                Location::Line(e.line() as u64),
                format!("invalid JSON ({e}); the rest of the file was not read"),
            );
            break;
        }
    }
    Ok(())
}

/// Where a CSV file's header is and how its fields are separated.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct CsvLayout {
    /// `,`, `;` (PowerShell `Export-Csv -UseCulture` in many locales) or tab.
    pub(crate) delimiter: u8,
    /// Lines before the header: blank lines and a PowerShell `#TYPE` line.
    pub(crate) skip_lines: u64,
}

/// Recognises a CSV header in the first bytes of a file: the first line, after blank lines and
/// the `#TYPE ...` line Windows PowerShell's `Export-Csv` writes, names at least two columns of
/// one table (quotes, a BOM and the portal's ` [UTC]` suffix aside), with the separator that
/// names the most.
pub(crate) fn csv_layout(text: &[u8]) -> Option<CsvLayout> {
    let mut rest = text.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(text);
    let mut skip_lines = 0u64;
    let mut type_line_seen = false;
    let header = loop {
        let end = rest.iter().position(|&b| b == b'\n');
        let line = &rest[..end.unwrap_or(rest.len())];
        let t = line.trim_ascii();
        let skip = t.is_empty() || (!type_line_seen && t.starts_with(b"#TYPE"));
        if !skip {
            break line;
        }
        type_line_seen |= !t.is_empty();
        rest = &rest[end? + 1..];
        skip_lines += 1;
    };
    let mut best: Option<(usize, u8)> = None;
    for delimiter in [b',', b';', b'\t'] {
        let mut rdr = csv::ReaderBuilder::new()
            .delimiter(delimiter)
            .has_headers(false)
            .flexible(true)
            .from_reader(header);
        let mut record = csv::ByteRecord::new();
        if !matches!(rdr.read_byte_record(&mut record), Ok(true)) || record.len() < 2 {
            continue;
        }
        let names: Vec<String> = record
            .iter()
            .map(|f| column_name(&String::from_utf8_lossy(f)).into_owned())
            .collect();
        let known = schema::tables()
            .iter()
            .map(|t| names.iter().filter(|n| t.column_index(n).is_some()).count())
            .max()
            .unwrap_or(0);
        if known >= 2 && best.is_none_or(|(k, _)| known > k) {
            best = Some((known, delimiter));
        }
    }
    best.map(|(_, delimiter)| CsvLayout { delimiter, skip_lines })
}

/// Reads a CSV export with a header row of column names ([`csv_layout`] of `head`, the first
/// bytes of the stream). Line numbers are those of the file.
pub(crate) fn read_csv(ing: &mut Ingestor<'_>, mut reader: Box<dyn BufRead + Send>, head: &[u8]) -> Result<(), Error> {
    let layout = csv_layout(head).unwrap_or(CsvLayout {
        delimiter: b',',
        skip_lines: 0,
    });
    let mut skipped = Vec::new();
    for n in 0..layout.skip_lines {
        skipped.clear();
        if let Err(e) = reader.read_until(b'\n', &mut skipped) {
            ing.skip(Location::Line(n + 1), format!("read error: {e}"));
            return Ok(());
        }
    }
    let offset = layout.skip_lines;
    // Records end at `\n` only: with CRLF as a terminator the csv crate counts a record's line
    // before the `\n` that ends the previous one, one too few; the `\r` is dropped below.
    let mut rdr = csv::ReaderBuilder::new()
        .delimiter(layout.delimiter)
        .terminator(csv::Terminator::Any(b'\n'))
        .has_headers(true)
        .flexible(true)
        .from_reader(reader);
    let headers: Vec<String> = match rdr.headers() {
        Ok(h) => h
            .iter()
            .map(|c| column_name(c.strip_suffix('\r').unwrap_or(c)).into_owned())
            .collect(),
        Err(e) => {
            ing.skip(Location::Line(offset + 1), format!("unreadable CSV header: {e}"));
            return Ok(());
        }
    };
    let mut record = csv::StringRecord::new();
    loop {
        match rdr.read_record(&mut record) {
            Ok(false) => break,
            Ok(true) => {
                let line = record.position().map(|p| p.line()).unwrap_or(0) + offset;
                let last = record.len().saturating_sub(1);
                let field = |(i, f): (usize, &str)| {
                    let f = if i == last {
                        f.strip_suffix('\r').unwrap_or(f)
                    } else {
                        f
                    };
                    Value::String(f.to_string())
                };
                if record.len() == 1 && record.get(0).is_some_and(|f| f.trim().is_empty()) {
                    // A blank line (`\r\n`).
                    continue;
                }
                if record.len() != headers.len() {
                    ing.skip(
                        Location::Line(line),
                        format!("bad CSV row: {} fields, the header has {}", record.len(), headers.len()),
                    );
                    continue;
                }
                let pairs = headers
                    .iter()
                    .cloned()
                    .zip(record.iter().enumerate().map(field))
                    .collect();
                ing.flat_row(pairs, Location::Line(line), None)?;
            }
            Err(e) => {
                let line = e.position().map(|p| p.line()).unwrap_or(0) + offset;
                let io = matches!(e.kind(), csv::ErrorKind::Io(_));
                ing.skip(Location::Line(line), format!("bad CSV row: {e}"));
                if io {
                    break;
                }
            }
        }
    }
    Ok(())
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
