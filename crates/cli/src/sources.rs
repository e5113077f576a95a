//! Query sources: finds .kql files and Sentinel rule YAML under the given paths and reads the
//! query text, with a map from query offsets back to the file for diagnostics.

use std::path::{Path, PathBuf};

/// One query to check, with where it came from.
pub struct QuerySource {
    pub path: PathBuf,
    /// The whole file text (diagnostics are shown against it).
    pub file_text: String,
    /// The query text given to the parser.
    pub query: String,
    /// For a query embedded in YAML: the file byte offset of each query line's start.
    pub line_offsets: Option<Vec<usize>>,
}

impl QuerySource {
    /// The file byte offset of a query byte offset.
    pub fn file_offset(&self, offset: usize) -> usize {
        let Some(lines) = &self.line_offsets else {
            return offset;
        };
        let line = self.query[..offset.min(self.query.len())].matches('\n').count();
        let line_start = self.query[..offset.min(self.query.len())]
            .rfind('\n')
            .map_or(0, |i| i + 1);
        lines
            .get(line)
            .map_or(offset, |&file_line| file_line + (offset - line_start))
    }
}

/// Why a path yielded no query.
pub struct SourceError {
    pub path: PathBuf,
    pub message: String,
    /// The file is YAML without a `query` field: some other YAML (a rule test, a config), not a
    /// broken rule. Skipped quietly when a folder walk found it.
    pub not_a_rule: bool,
}

/// A file to read, and whether it was named itself or found in a folder.
pub struct Found {
    pub path: PathBuf,
    pub in_folder: bool,
}

const QUERY_EXTENSIONS: &[&str] = &["kql", "csl", "kusto"];
const YAML_EXTENSIONS: &[&str] = &["yaml", "yml"];

fn has_ext(path: &Path, exts: &[&str]) -> bool {
    path.extension()
        .and_then(|e| e.to_str())
        .is_some_and(|e| exts.iter().any(|x| x.eq_ignore_ascii_case(e)))
}

/// Expands the paths: files as given, folders recursively (query and YAML files, sorted).
pub fn discover(paths: &[PathBuf]) -> (Vec<Found>, Vec<SourceError>) {
    let mut files = Vec::new();
    let mut errors = Vec::new();
    for path in paths {
        if path.is_dir() {
            let mut found: Vec<PathBuf> = Vec::new();
            for entry in walkdir::WalkDir::new(path).follow_links(true) {
                match entry {
                    Ok(e) if e.file_type().is_file() => {
                        let p = e.into_path();
                        if has_ext(&p, QUERY_EXTENSIONS) || has_ext(&p, YAML_EXTENSIONS) {
                            found.push(p);
                        }
                    }
                    Ok(_) => {}
                    Err(e) => errors.push(SourceError {
                        path: e.path().map_or_else(|| path.clone(), Path::to_path_buf),
                        message: e.to_string(),
                        not_a_rule: false,
                    }),
                }
            }
            found.sort();
            files.extend(found.into_iter().map(|path| Found { path, in_folder: true }));
        } else if path.exists() {
            files.push(Found {
                path: path.clone(),
                in_folder: false,
            });
        } else {
            errors.push(SourceError {
                path: path.clone(),
                message: "no such file or folder".into(),
                not_a_rule: false,
            });
        }
    }
    (files, errors)
}

/// Reads one file into a query source: YAML rules give their `query:` field, anything else is KQL.
pub fn read(path: &Path) -> Result<QuerySource, SourceError> {
    let err = |message: String| SourceError {
        path: path.to_path_buf(),
        message,
        not_a_rule: false,
    };
    let bytes = std::fs::read(path).map_err(|e| err(e.to_string()))?;
    let text =
        String::from_utf8(bytes).map_err(|e| err(format!("not UTF-8 text (byte {})", e.utf8_error().valid_up_to())))?;
    let text = text.strip_prefix('\u{feff}').map(str::to_string).unwrap_or(text);
    if !has_ext(path, YAML_EXTENSIONS) {
        return Ok(QuerySource {
            path: path.to_path_buf(),
            query: text.clone(),
            file_text: text,
            line_offsets: None,
        });
    }
    let value: serde_norway::Value = serde_norway::from_str(&text).map_err(|e| {
        let at = e
            .location()
            .map(|l| format!(" at line {}, column {}", l.line(), l.column()))
            .unwrap_or_default();
        err(format!("invalid YAML{at}: {e}"))
    })?;
    let query = match value.get("query") {
        Some(serde_norway::Value::String(q)) => q.clone(),
        Some(_) => return Err(err("the `query` field is not a string".into())),
        None => {
            return Err(SourceError {
                not_a_rule: true,
                ..err("no `query` field (not a Sentinel analytic or hunting rule)".into())
            });
        }
    };
    let line_offsets = locate_block(&text, &query);
    Ok(QuerySource {
        path: path.to_path_buf(),
        file_text: text,
        query,
        line_offsets,
    })
}

/// Finds where the lines of a block-scalar `query:` value sit in the YAML text.
fn locate_block(text: &str, query: &str) -> Option<Vec<usize>> {
    let mut line_starts = vec![0];
    line_starts.extend(text.match_indices('\n').map(|(i, _)| i + 1));
    let line_of = |i: usize| &text[line_starts[i]..line_starts.get(i + 1).map_or(text.len(), |e| e - 1)];
    let key_line = (0..line_starts.len()).find(|&i| {
        let l = line_of(i);
        l.starts_with("query:") && l[6..].trim_start().starts_with(['|', '>'])
    })?;
    let mut offsets = Vec::new();
    for (i, qline) in query.trim_end_matches('\n').split('\n').enumerate() {
        let n = key_line + 1 + i;
        if n >= line_starts.len() {
            return None;
        }
        let fl = line_of(n).trim_end_matches('\r');
        let qline = qline.trim_end_matches('\r');
        let indent = fl.len().checked_sub(qline.len())?;
        // Blank query lines may be blank in the file too; others must be the file line, indented.
        if !fl.ends_with(qline) || !fl[..indent].chars().all(|c| c == ' ' || c == '\t') {
            return None;
        }
        offsets.push(line_starts[n] + indent);
    }
    Some(offsets)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn yaml_query_offsets_point_into_the_file() {
        let text = "id: x\nname: y\nquery: |\n  T\n  | where a == 1\n\n  | take 5\nseverity: Low\n";
        let query = "T\n| where a == 1\n\n| take 5\n";
        let offsets = locate_block(text, query).expect("block found");
        let src = QuerySource {
            path: "r.yaml".into(),
            file_text: text.into(),
            query: query.into(),
            line_offsets: Some(offsets),
        };
        let at = query.find("where").unwrap();
        assert_eq!(&text[src.file_offset(at)..src.file_offset(at) + 5], "where");
        let at = query.find("take").unwrap();
        assert_eq!(&text[src.file_offset(at)..src.file_offset(at) + 4], "take");
    }

    #[test]
    fn reads_sentinel_rule_yaml() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("rule.yaml");
        std::fs::write(&p, "id: 1\nquery: |\n  SecurityEvent\n  | where EventID == 4688\n").unwrap();
        let src = read(&p).unwrap_or_else(|e| panic!("{}", e.message));
        assert_eq!(src.query, "SecurityEvent\n| where EventID == 4688\n");
        std::fs::write(&p, "id: 1\nname: no query here\n").unwrap();
        assert!(read(&p).err().unwrap().message.contains("no `query` field"));
    }
}
