//! CSV exports: a header row of column names as the Defender portal, Sentinel and PowerShell
//! `Export-Csv` write it (a `#TYPE` line, quotes, `[UTC]` suffixes, `,` `;` or tab between
//! fields), each following row an export row.

use std::io::BufRead;

use serde_json::Value;

use crate::Error;
use crate::readers::Ingestor;
use crate::report::Location;
use crate::schema;

use super::export::column_name;

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
