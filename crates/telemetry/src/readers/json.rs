//! JSON input: evtx records and Defender/Sentinel exports.
//!
//! JSON shapes handled: evtx records (`{"Event": …}`), JSON lines of any shape below,
//! concatenated pretty objects (optionally preceded by `evtx_dump`'s `Record N` lines),
//! Advanced Hunting API / Graph responses (`Schema`/`Results`, `schema`/`results`),
//! Event Hub messages (`records[]` with `category: AdvancedHunting-<Table>`) and their
//! storage-account form (one record per line), Log Analytics query responses
//! (`tables[].columns/rows`) and plain rows of table columns. Large arrays inside a document are
//! streamed element by element.

use std::fmt;
use std::io::{BufRead, Read};
use std::rc::Rc;
use std::sync::Arc;

use serde::de::{self, DeserializeSeed, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde_json::{Map, Value};

use crate::Error;
use crate::readers::Ingestor;
use crate::report::Location;

use super::export::column_names;

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
