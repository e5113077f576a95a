//! Finding inputs (files, folders walked recursively, glob patterns) and recognising a file's
//! format by its first bytes.

use std::collections::BTreeSet;
use std::io::Read;
use std::path::{Path, PathBuf};

use globset::Glob;
use walkdir::WalkDir;

use crate::readers::SNIFF_LIMIT;
use crate::report::{Format, Unread, UnreadKind};
use crate::text::TextEncoding;

fn has_glob_chars(s: &str) -> bool {
    s.contains(['*', '?', '[', '{'])
}

/// Expands inputs into a sorted, de-duplicated file list: files as given, folders walked
/// recursively (following symlinks, loops reported), anything else read as a glob pattern.
/// Inputs that match nothing and folders or files that cannot be walked are returned as
/// [`Unread`] entries; they never stop the others from being found.
pub fn discover<S: AsRef<str>>(inputs: &[S]) -> (Vec<PathBuf>, Vec<Unread>) {
    let mut out = BTreeSet::new();
    let mut problems = Vec::new();
    for input in inputs {
        let input = input.as_ref();
        let path = Path::new(input);
        let before = out.len();
        let missing = |reason: String| Unread {
            path: path.to_path_buf(),
            kind: UnreadKind::Missing,
            reason,
        };
        if path.is_file() {
            out.insert(path.to_path_buf());
        } else if path.is_dir() {
            walk(path, &mut out, None, &mut problems);
        } else if has_glob_chars(input) {
            let matcher = match Glob::new(input) {
                Ok(g) => g.compile_matcher(),
                Err(e) => {
                    problems.push(missing(format!("bad glob pattern: {e}")));
                    continue;
                }
            };
            // Walk from the longest leading part of the pattern without wildcards.
            let mut base = PathBuf::new();
            for comp in Path::new(input).components() {
                let s = comp.as_os_str().to_string_lossy();
                if has_glob_chars(&s) {
                    break;
                }
                base.push(comp);
            }
            if base.as_os_str().is_empty() {
                base = PathBuf::from(".");
            }
            if base.is_dir() {
                walk(
                    &base,
                    &mut out,
                    Some(&|p: &Path| matcher.is_match(p) || matcher.is_match(p.strip_prefix("./").unwrap_or(p))),
                    &mut problems,
                );
            }
            if out.len() == before {
                problems.push(missing("the pattern matched no files".into()));
            }
        } else {
            let reason = match std::fs::symlink_metadata(path) {
                Ok(m) if m.file_type().is_symlink() => "a symbolic link whose target does not exist".to_string(),
                Ok(_) => "not a file or folder".to_string(),
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => "no such file or folder".to_string(),
                Err(e) => e.to_string(),
            };
            problems.push(missing(reason));
        }
    }
    (out.into_iter().collect(), problems)
}

fn walk(dir: &Path, out: &mut BTreeSet<PathBuf>, keep: Option<&dyn Fn(&Path) -> bool>, problems: &mut Vec<Unread>) {
    for entry in WalkDir::new(dir).follow_links(true).sort_by_file_name() {
        match entry {
            Ok(entry) => {
                if entry.file_type().is_file() && keep.is_none_or(|k| k(entry.path())) {
                    out.insert(entry.into_path());
                }
            }
            Err(e) => {
                let path = e.path().unwrap_or(dir).to_path_buf();
                let reason = if let Some(ancestor) = e.loop_ancestor() {
                    format!("symbolic link loop back to {} (not followed)", ancestor.display())
                } else if let Some(io) = e.io_error() {
                    io.to_string()
                } else {
                    e.to_string()
                };
                problems.push(Unread {
                    path,
                    kind: UnreadKind::Unreadable,
                    reason,
                });
            }
        }
    }
}

/// Recognises a format from the first bytes of a (decompressed) file.
pub fn sniff(head: &[u8]) -> Option<Format> {
    if head.starts_with(b"ElfFile\0") {
        return Some(Format::Evtx);
    }
    if head.starts_with(b"PAR1") {
        return Some(Format::Parquet);
    }
    let text = head.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(head);
    let start = text.iter().position(|b| !b.is_ascii_whitespace())?;
    let text = &text[start..];
    match text[0] {
        b'<' => return Some(Format::EventXml),
        b'{' | b'[' => return Some(Format::Json),
        _ => {}
    }
    if text.starts_with(b"Record ") && text.get(7).is_some_and(u8::is_ascii_digit) {
        return Some(Format::Json);
    }
    // JSON lines whose first line is broken (a file cut at the front, a torn write).
    let whole = head.len() < SNIFF_LIMIT;
    if crate::readers::json::looks_like_json_lines(text, whole) {
        return Some(Format::Json);
    }
    // CSV: a header line naming at least two columns of a known table.
    crate::readers::csv::csv_layout(text).map(|_| Format::Csv)
}

/// Why a file with content was not recognised, in words a user can act on: what the name
/// promised, what the first line looks like.
pub(crate) fn unrecognised_reason(path: &Path, head: &[u8], text: Option<TextEncoding>) -> String {
    let ext = path
        .extension()
        .map(|e| e.to_string_lossy().to_ascii_lowercase())
        .unwrap_or_default();
    let first_line = head.split(|b| *b == b'\n').next().unwrap_or_default();
    let shown: String = String::from_utf8_lossy(&first_line[..first_line.len().min(120)])
        .chars()
        .map(|c| if c.is_control() { '.' } else { c })
        .collect();
    let printable = head
        .iter()
        .take(512)
        .all(|b| b.is_ascii_graphic() || b.is_ascii_whitespace() || *b >= 0x80);
    let encoding = text.map_or(String::new(), |t| format!(" (decoded from {t:?})"));
    match ext.as_str() {
        "evtx" => "not an EVTX file: it does not start with the `ElfFile` signature".to_string(),
        "csv" | "tsv" if printable => format!(
            "a CSV header naming no column of a known table{encoding}: `{shown}` (docs/evidence.md lists the headers read)"
        ),
        _ if printable => format!("format not recognised{encoding}; first line: `{shown}`"),
        _ => format!(
            "format not recognised: binary content starting {}",
            head.iter()
                .take(8)
                .map(|b| format!("{b:02x}"))
                .collect::<Vec<_>>()
                .join(" ")
        ),
    }
}

/// Whether the file starts with the EVTX signature (`ElfFile\0`).
pub fn is_evtx(path: &Path) -> bool {
    let mut head = [0u8; 8];
    std::fs::File::open(path)
        .and_then(|mut f| f.read_exact(&mut head))
        .is_ok()
        && &head == b"ElfFile\0"
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sniffing() {
        assert_eq!(sniff(b"ElfFile\0rest"), Some(Format::Evtx));
        assert_eq!(sniff(b"PAR1...."), Some(Format::Parquet));
        assert_eq!(sniff(b"\xEF\xBB\xBF  <Events>"), Some(Format::EventXml));
        assert_eq!(sniff(b"\n{\"a\":1}"), Some(Format::Json));
        assert_eq!(sniff(b"Record 12\n{"), Some(Format::Json));
        assert_eq!(sniff(b"Timestamp,DeviceName,FileName\r\n"), Some(Format::Csv));
        assert_eq!(sniff(b"\"TimeGenerated [UTC]\",Computer,EventID\n"), Some(Format::Csv));
        assert_eq!(sniff(b"hello,world\n"), None);
        assert_eq!(sniff(b""), None);
        assert_eq!(sniff(b"   "), None);
        // Portal suffix on one of the two known columns; PowerShell `#TYPE` line; `;` and tab.
        assert_eq!(sniff(b"Timestamp [UTC],RemoteUrl,Count\n"), Some(Format::Csv));
        assert_eq!(
            sniff(b"#TYPE System.Management.Automation.PSCustomObject\r\n\"Timestamp\",\"DeviceName\"\r\n"),
            Some(Format::Csv)
        );
        assert_eq!(sniff(b"\"Timestamp\";\"DeviceName\";\"x\"\n"), Some(Format::Csv));
        assert_eq!(sniff(b"Timestamp\tDeviceName\n"), Some(Format::Csv));
        assert_eq!(sniff(b"#TYPE x\n#TYPE y\nTimestamp,DeviceName\n"), None);
        // JSON lines whose first line is cut.
        assert_eq!(sniff(b"ame\": \"x\"}\n{\"a\": 1}\n{\"b\": 2}\n"), Some(Format::Json));
        assert_eq!(sniff(b"ame\": \"x\"}\nnot json\n{\"b\": 2}\nnor this\n"), None);
    }
}
