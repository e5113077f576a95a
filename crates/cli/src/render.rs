//! Diagnostic rendering shared by the commands: source excerpt, caret, expected, help.
//!
//! Queries come from untrusted rule files, so what is printed is bounded whatever the query:
//! at most [`MAX_SHOWN`] diagnostics, each with at most [`CONTEXT_CHARS`] characters of its
//! line and a message clipped to [`MAX_MESSAGE_CHARS`]; control characters are not printed.
//! Ariadne only ever sees the excerpt, so rendering time does not grow with the query.

use ariadne::{Color, Config, IndexType, Label, Report, ReportKind, Source};
use engine::QueryError;
use kql::Diagnostic;
use std::io::Write;
use std::ops::Range;

/// At most this many diagnostics are printed per query; then `... and N more errors`.
const MAX_SHOWN: usize = 10;
/// Characters of the error's line shown around it.
const CONTEXT_CHARS: usize = 200;
/// Of those, at most this many before the error.
const BEFORE_CHARS: usize = 80;
/// Longest message, label or help printed, in characters.
const MAX_MESSAGE_CHARS: usize = 300;
/// Marks text cut out of the source line or a message.
const CUT: char = '…';

/// Writes each diagnostic against `file_text`; `map` turns a query offset into a file offset.
pub fn write_diagnostics(
    out: &mut impl Write,
    name: &str,
    file_text: &str,
    diags: &[Diagnostic],
    map: &dyn Fn(usize) -> usize,
    color: bool,
) -> std::io::Result<()> {
    for d in diags.iter().take(MAX_SHOWN) {
        let start = floor_char(file_text, map(d.span.start as usize));
        let end = floor_char(file_text, map(d.span.end as usize)).max(start);
        let ex = Excerpt::new(file_text, start, end);
        let message = clip(&d.message);
        let label_text = match d.expected_phrase() {
            Some(e) => clip(&format!("expected {e}")),
            None => message.clone(),
        };
        let mut report = Report::build(ReportKind::Error, (name, ex.label.clone()))
            .with_config(Config::default().with_color(color).with_index_type(IndexType::Byte))
            .with_message(format!("{message} (line {}, column {})", ex.line, ex.column))
            .with_label(
                Label::new((name, ex.label.clone()))
                    .with_message(label_text)
                    .with_color(Color::Red),
            );
        if let Some(h) = &d.help {
            report = report.with_help(clip(h));
        }
        let mut buf = Vec::new();
        report
            .finish()
            .write((name, Source::from(ex.text.as_str())), &mut buf)?;
        out.write_all(ex.renumber(&String::from_utf8_lossy(&buf), name).as_bytes())?;
    }
    if diags.len() > MAX_SHOWN {
        let more = diags.len() - MAX_SHOWN;
        writeln!(out, "... and {more} more error{}", if more == 1 { "" } else { "s" })?;
    }
    Ok(())
}

/// The largest char boundary of `text` at or before `offset`.
fn floor_char(text: &str, offset: usize) -> usize {
    let mut i = offset.min(text.len());
    while !text.is_char_boundary(i) {
        i -= 1;
    }
    i
}

/// What may be printed of a source character: no control characters (a terminal would obey
/// them), no line or paragraph separators (they would break the excerpt's single line), no
/// bidirectional overrides (they reorder what is shown).
fn printable(c: char) -> char {
    match c {
        '\t' => c,
        '\u{2028}' | '\u{2029}' | '\u{200e}' | '\u{200f}' | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}' => {
            '\u{fffd}'
        }
        c if c.is_control() => '\u{fffd}',
        c => c,
    }
}

/// A message on one line, printable, at most [`MAX_MESSAGE_CHARS`] characters.
pub fn clip(text: &str) -> String {
    let mut out: String = text
        .chars()
        .take(MAX_MESSAGE_CHARS)
        .map(|c| if matches!(c, '\n' | '\r') { ' ' } else { printable(c) })
        .collect();
    if text.chars().nth(MAX_MESSAGE_CHARS).is_some() {
        out.push(CUT);
    }
    out
}

/// The part of a diagnostic's line that is shown, and where the diagnostic is.
struct Excerpt {
    /// At most [`CONTEXT_CHARS`] of the line (printable), with [`CUT`] where it was cut.
    text: String,
    /// The diagnostic's span within `text` (clipped to it).
    label: Range<usize>,
    /// 1-based line and column (in characters) of the diagnostic in the whole text.
    line: usize,
    column: usize,
}

impl Excerpt {
    /// The excerpt for the span `start..end` (char boundaries of `text`). Linear in the text
    /// before `start` (for the line number) and constant otherwise.
    fn new(text: &str, start: usize, end: usize) -> Excerpt {
        let line_start = text[..start].rfind('\n').map_or(0, |i| i + 1);
        let mut line_end = text[start..].find('\n').map_or(text.len(), |i| start + i);
        if line_end > start && text[..line_end].ends_with('\r') {
            line_end -= 1;
        }
        let line = text.as_bytes()[..line_start].iter().filter(|&&b| b == b'\n').count() + 1;
        let column = text[line_start..start].chars().count() + 1;
        // Up to BEFORE_CHARS before the error, the rest of CONTEXT_CHARS from there on.
        let (before, from) = text[line_start..start]
            .char_indices()
            .rev()
            .take(BEFORE_CHARS)
            .fold((0, start), |(n, _), (i, _)| (n + 1, line_start + i));
        let to = text[start..line_end]
            .char_indices()
            .nth(CONTEXT_CHARS - before)
            .map_or(line_end, |(i, _)| start + i);
        let mut excerpt = String::new();
        if from > line_start {
            excerpt.push(CUT);
        }
        let base = excerpt.len();
        let (mut label_start, mut label_end) = (None, None);
        for (i, c) in text[from..to].char_indices() {
            if from + i == start {
                label_start = Some(excerpt.len());
            }
            if from + i == end {
                label_end = Some(excerpt.len());
            }
            excerpt.push(printable(c));
        }
        let label_start = label_start.unwrap_or(excerpt.len()).max(base);
        let label_end = label_end.unwrap_or(excerpt.len()).max(label_start);
        if to < line_end {
            excerpt.push(CUT);
        }
        Excerpt {
            text: excerpt,
            label: label_start..label_end,
            line,
            column,
        }
    }

    /// Ariadne's rendering of the excerpt, with the line and column of the whole text: ariadne
    /// numbers the excerpt's line 1 (in the `[ name:line:column ]` header and the margin).
    fn renumber(&self, rendered: &str, name: &str) -> String {
        let excerpt_column = self.text[..self.label.start].chars().count() + 1;
        let line_no = self.line.to_string();
        let extra = line_no.len() - 1;
        let mut out = String::with_capacity(rendered.len() + 16);
        for (i, l) in rendered.split_inclusive('\n').enumerate() {
            if i == 0 {
                out.push_str(l);
                continue;
            }
            let mut l = l.to_string();
            if i == 1 {
                l = l.replacen(
                    &format!("{name}:1:{excerpt_column}"),
                    &format!("{name}:{}:{}", self.line, self.column),
                    1,
                );
            }
            // The source line carries the number; the other lines' margins widen with it: after
            // any colour codes, their first character is the margin's (a space or the bottom rule).
            if strip_ansi(&l).starts_with(" 1 │") {
                l = l.replacen("1 │", &format!("{line_no} │"), 1);
            } else if extra > 0 {
                let at = visible_start(&l);
                if let Some(c) = l[at..].chars().next().filter(|c| matches!(c, ' ' | '─')) {
                    l.insert_str(at, &c.to_string().repeat(extra));
                }
            }
            out.push_str(&l);
        }
        out
    }
}

/// Where the text of `line` starts after any ANSI colour codes.
fn visible_start(line: &str) -> usize {
    let b = line.as_bytes();
    let mut i = 0;
    while b.get(i) == Some(&0x1b) && b.get(i + 1) == Some(&b'[') {
        match line[i..].find('m') {
            Some(m) => i += m + 1,
            None => break,
        }
    }
    i
}

/// `line` without ANSI colour codes.
fn strip_ansi(line: &str) -> String {
    let mut out = String::with_capacity(line.len());
    let mut rest = line;
    while let Some(p) = rest.find("\x1b[") {
        out.push_str(&rest[..p]);
        rest = rest[p..].find('m').map_or("", |m| &rest[p + m + 1..]);
    }
    out.push_str(rest);
    out
}

/// Prints why a query did not run to stderr.
pub fn query_error(name: &str, text: &str, e: &QueryError) {
    let color = crate::term::color(crate::term::Stream::Stderr);
    let stderr = std::io::stderr();
    let mut err = stderr.lock();
    let _ = match e {
        QueryError::Syntax(d) => write_diagnostics(&mut err, name, text, d, &|o| o, color),
        QueryError::Plan(d) => write_diagnostics(&mut err, name, text, std::slice::from_ref(d), &|o| o, color),
        QueryError::Execution(m) => writeln!(err, "error: {m}"),
    };
}

#[cfg(test)]
mod tests {
    use super::*;

    fn render(text: &str, color: bool) -> String {
        let parsed = kql::parse(text);
        assert!(!parsed.is_ok(), "{text:?} parses");
        let mut out = Vec::new();
        write_diagnostics(&mut out, "q.kql", text, &parsed.diagnostics, &|o| o, color).unwrap();
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn a_short_query_renders_as_before() {
        assert_eq!(
            render("T\n| wher x > 1", false),
            "Error: unknown tabular operator `wher` (line 2, column 3)
   ╭─[ q.kql:2:3 ]
   │
 2 │ | wher x > 1
   │   ──┬─  
   │     ╰─── expected a tabular operator
   │ 
   │ Help: did you mean `where`?
───╯
"
        );
        // Line numbers wider than the excerpt's own line 1.
        let text = format!("T\n{}| extend y = (1 + \n| take 5", "| where a\n".repeat(10));
        assert_eq!(
            render(&text, false),
            "Error: unexpected `|` (line 13, column 1)
    ╭─[ q.kql:13:1 ]
    │
 13 │ | take 5
    │ ┬  
    │ ╰── expected an expression
────╯
"
        );
        // Columns count characters.
        let out = render("T | where x == \"été\" and | take", false);
        assert!(
            out.starts_with("Error: unexpected `|` (line 1, column 26)\n   ╭─[ q.kql:1:26 ]\n"),
            "{out}"
        );
        assert!(
            out.contains(" 1 │ T | where x == \"été\" and | take\n   │                          ┬  \n"),
            "{out}"
        );
    }

    #[test]
    fn colour_keeps_the_numbers() {
        let text = format!("{}T | wher x", "\n".repeat(120));
        let out = render(&text, true);
        assert!(out.contains("q.kql:121:5"), "{out}");
        assert!(strip_ansi(&out).contains("\n 121 │ T | wher x\n"), "{out}");
        assert!(strip_ansi(&out).ends_with("\n─────╯\n"), "{out}");
    }

    /// The character of the first source line shown where the underline below it starts.
    fn caret_target(out: &str) -> char {
        let lines: Vec<&str> = out.lines().collect();
        let src = lines.iter().position(|l| l.trim_start().starts_with(char::is_numeric));
        let src = src.expect("a source line");
        let under: Vec<char> = lines[src + 1].chars().collect();
        let margin = under.iter().position(|&c| c == '│').expect("a margin");
        let caret = (margin + 1..under.len())
            .find(|&i| under[i] != ' ')
            .expect("an underline");
        lines[src].chars().nth(caret).expect("caret within the line")
    }

    #[test]
    fn a_long_line_is_cut_around_the_error() {
        let text = format!(
            "T | where {}true | wher x | where {}true",
            "a == 1 and ".repeat(500),
            "b == 2 and ".repeat(500)
        );
        let out = render(&text, false);
        assert!(out.len() < 1_500, "{} bytes:\n{out}", out.len());
        let column = text.find("wher x").unwrap() + 1;
        assert!(out.contains(&format!("(line 1, column {column})")), "{out}");
        assert!(out.contains(&format!("q.kql:1:{column}")), "{out}");
        let source = out.lines().find(|l| l.starts_with(" 1 │ ")).unwrap();
        assert!(source.starts_with(" 1 │ …") && source.ends_with('…'), "{source}");
        assert!(source.chars().count() <= CONTEXT_CHARS + 8, "{source}");
        assert_eq!(caret_target(&out), 'w', "{out}");
    }

    #[test]
    fn a_megabyte_line_prints_little() {
        // A 1 MB single-line query with a typo at its end.
        let mut text = String::from("T | where ");
        while text.len() < 1_000_000 {
            text.push_str("x == 1 or ");
        }
        text.push_str("y == 2 | wher z");
        let start = std::time::Instant::now();
        let out = render(&text, false);
        assert!(out.len() < 1_500, "{} bytes:\n{out}", out.len());
        assert!(out.contains("unknown tabular operator `wher`"), "{out}");
        assert!(out.contains(&format!("column {}", text.len() - 5)), "{out}");
        assert_eq!(caret_target(&out), 'w', "{out}");
        assert!(start.elapsed().as_secs() < 20, "{:?}", start.elapsed());
    }

    #[test]
    fn forty_thousand_parentheses_print_little() {
        let open = format!("T | where {}x", "(".repeat(40_000));
        let out = render(&open, false);
        assert!(out.contains("query nests too deeply"), "{out}");
        assert!(out.len() < 1_500, "{} bytes:\n{out}", out.len());
        // Balanced: many errors, ten shown.
        let balanced = format!("{open}{}", ")".repeat(40_000));
        let parsed = kql::parse(&balanced);
        let out = render(&balanced, false);
        assert_eq!(out.matches("Error: ").count(), MAX_SHOWN, "{out}");
        assert!(
            out.ends_with(&format!(
                "... and {} more errors\n",
                parsed.diagnostics.len() - MAX_SHOWN
            )),
            "{out}"
        );
        assert!(out.len() < 10 * 1_500, "{} bytes", out.len());
    }

    #[test]
    fn messages_are_clipped_and_printable() {
        let word = "w".repeat(5_000);
        let d = Diagnostic::new(format!("unknown name `{word}`\x1b[2J"), kql::Span::new(4, 5))
            .help(format!("did you mean\n`{word}`?"));
        let mut out = Vec::new();
        write_diagnostics(&mut out, "q.kql", "T | \x1b[31mx\u{202e}", &[d], &|o| o, false).unwrap();
        let out = String::from_utf8(out).unwrap();
        assert!(out.len() < 2_000, "{} bytes:\n{out}", out.len());
        assert!(!out.contains('\x1b') && !out.contains('\u{202e}'), "{out}");
        assert!(out.contains('…'), "{out}");
    }

    #[test]
    fn excerpt_maps_spans() {
        // A span reaching past its line stops at the line's end; CRLF is not shown.
        let ex = Excerpt::new("ab\r\ncd", 1, 5);
        assert_eq!(
            (ex.text.as_str(), ex.label.clone(), ex.line, ex.column),
            ("ab", 1..2, 1, 2)
        );
        let ex = Excerpt::new("ab\r\ncd", 4, 5);
        assert_eq!(
            (ex.text.as_str(), ex.label.clone(), ex.line, ex.column),
            ("cd", 0..1, 2, 1)
        );
        // At the very end.
        let ex = Excerpt::new("ab", 2, 2);
        assert_eq!((ex.text.as_str(), ex.label.clone()), ("ab", 2..2));
        assert_eq!(floor_char("é", 1), 0);
    }
}
