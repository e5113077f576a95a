//! Readers for JSON (evtx records and Defender/Sentinel exports), CSV exports and Parquet.
//!
//! JSON shapes handled: evtx records (`{"Event": …}`), JSON lines of any shape below,
//! concatenated pretty objects (optionally preceded by `evtx_dump`'s `Record N` lines),
//! Advanced Hunting API / Graph responses (`Schema`/`Results`, `schema`/`results`),
//! Event Hub messages (`records[]` with `category: AdvancedHunting-<Table>`) and their
//! storage-account form (one record per line), Log Analytics query responses
//! (`tables[].columns/rows`) and plain rows of table columns. Large arrays inside a document are
//! streamed element by element.

use std::borrow::Cow;
use std::fmt;
use std::fs::File;
use std::io::{BufRead, Read};
use std::path::Path;
use std::sync::Arc;

use datafusion::arrow::array::{ArrayRef, new_null_array};
use datafusion::arrow::compute::cast;
use datafusion::arrow::record_batch::RecordBatch;
use datafusion::parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
use serde::de::{self, DeserializeSeed, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde_json::{Map, Value};

use crate::Error;
use crate::event::WinEvent;
use crate::row::{Cell, Row};
use crate::schema::{self, TABLE_NAME_KEY, TableDef};
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
fn infer_table(keys: &[&str], path: &Path, action: Option<&str>) -> Option<&'static TableDef> {
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
                            *self
                                .file
                                .bad_values
                                .entry((table.name(), name.into_owned()))
                                .or_default() += 1;
                        }
                    }
                }
                None if SYSTEM_COLUMNS.contains(&name.as_ref()) => {}
                None => {
                    self.file
                        .unknown_columns
                        .entry(table.name())
                        .or_default()
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

/// Reads JSON input: JSON lines when the first line is a complete value, else a stream of
/// (possibly pretty-printed, possibly concatenated) documents.
pub(crate) fn read_json(ing: &mut Ingestor<'_>, reader: Box<dyn BufRead + Send>, head: &[u8]) -> Result<(), Error> {
    let body = head.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(head);
    let first_line = body
        .split(|&b| b == b'\n')
        .map(<[u8]>::trim_ascii)
        .find(|l| !l.is_empty() && !is_record_line(l));
    let whole_line_in_head = |l: &[u8]| {
        let end = l.as_ptr() as usize - body.as_ptr() as usize + l.len();
        end < body.len() || head.len() < crate::source::SNIFF_LIMIT
    };
    let lines_mode =
        first_line.is_some_and(|l| whole_line_in_head(l) && serde_json::from_slice::<IgnoredAny>(l).is_ok());
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

struct DocCtx<'i, 's> {
    ing: &'i mut Ingestor<'s>,
    failure: Option<Error>,
    line: u64,
}

impl DocCtx<'_, '_> {
    fn item<E: de::Error>(&mut self, item: Item) -> Result<(), E> {
        let loc = Location::Line(self.line);
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
    let mut de = serde_json::Deserializer::from_reader(std::io::BufReader::new(filtered));
    let mut ctx = DocCtx {
        ing,
        failure: None,
        line: 1,
    };
    loop {
        match de.end() {
            Ok(()) => break,
            Err(e) if e.is_io() => {
                ctx.ing.skip(Location::Line(ctx.line), format!("read error: {e}"));
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

/// Reads a CSV export with a header row of column names.
pub(crate) fn read_csv(ing: &mut Ingestor<'_>, reader: Box<dyn BufRead + Send>) -> Result<(), Error> {
    let mut rdr = csv::ReaderBuilder::new()
        .has_headers(true)
        .flexible(false)
        .from_reader(reader);
    let headers: Vec<String> = match rdr.headers() {
        Ok(h) => h.iter().map(|c| column_name(c).into_owned()).collect(),
        Err(e) => {
            ing.skip(Location::Line(1), format!("unreadable CSV header: {e}"));
            return Ok(());
        }
    };
    let mut record = csv::StringRecord::new();
    loop {
        match rdr.read_record(&mut record) {
            Ok(false) => break,
            Ok(true) => {
                let line = record.position().map(|p| p.line()).unwrap_or(0);
                let pairs = headers
                    .iter()
                    .cloned()
                    .zip(record.iter().map(|f| Value::String(f.to_string())))
                    .collect();
                ing.flat_row(pairs, Location::Line(line), None)?;
            }
            Err(e) => {
                let line = e.position().map(|p| p.line()).unwrap_or(0);
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

/// Casts a batch to a table's schema by column name (missing columns become null).
pub fn align_batch(batch: &RecordBatch, table: &TableDef) -> Result<RecordBatch, Error> {
    let schema = table.schema();
    let mut arrays: Vec<ArrayRef> = Vec::with_capacity(schema.fields().len());
    for field in schema.fields() {
        let arr = match batch.column_by_name(field.name()) {
            Some(a) if a.data_type() == field.data_type() => Arc::clone(a),
            Some(a) => cast(a, field.data_type())?,
            None => new_null_array(field.data_type(), batch.num_rows()),
        };
        arrays.push(arr);
    }
    Ok(RecordBatch::try_new(schema, arrays)?)
}

/// Reads a Parquet file; its table comes from the schema metadata, the folder or the columns.
pub(crate) fn read_parquet(ing: &mut Ingestor<'_>, file: File) -> Result<(), Error> {
    let builder = match ParquetRecordBatchReaderBuilder::try_new(file) {
        Ok(b) => b,
        Err(e) => {
            ing.skip(Location::File, format!("unreadable Parquet file: {e}"));
            return Ok(());
        }
    };
    let arrow_schema = Arc::clone(builder.schema());
    let by_meta = arrow_schema
        .metadata()
        .get(TABLE_NAME_KEY)
        .and_then(|n| schema::table(n));
    let names: Vec<&str> = arrow_schema.fields().iter().map(|f| f.name().as_str()).collect();
    let Some(table) = by_meta.or_else(|| infer_table(&names, &ing.file.path, None)) else {
        ing.skip(Location::File, "Parquet file of an unknown table");
        return Ok(());
    };
    let reader = match builder.with_batch_size(ing.options.batch_rows).build() {
        Ok(r) => r,
        Err(e) => {
            ing.skip(Location::File, format!("unreadable Parquet file: {e}"));
            return Ok(());
        }
    };
    for batch in reader {
        match batch {
            Ok(b) => {
                let aligned = align_batch(&b, table)?;
                ing.batch(table, aligned)?;
            }
            Err(e) => {
                ing.skip(Location::File, format!("unreadable Parquet data: {e}"));
                break;
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
