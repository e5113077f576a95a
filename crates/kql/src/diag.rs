//! Diagnostics: what went wrong, where, what was expected, and a suggestion.

use crate::span::{LineIndex, Span};
use std::fmt::Write as _;

/// One error found while reading a query.
#[derive(Clone, Debug, PartialEq)]
pub struct Diagnostic {
    /// What went wrong, as a short phrase such as "unexpected end of query".
    pub message: String,
    /// Where in the query text.
    pub span: Span,
    /// What the parser would have accepted here (`` `|` ``, `an expression`, ...).
    pub expected: Vec<String>,
    /// A suggestion, such as "did you mean `where`?".
    pub help: Option<String>,
}

impl Diagnostic {
    /// An error with its message and place, nothing expected and no help.
    pub fn new(message: impl Into<String>, span: Span) -> Self {
        Diagnostic {
            message: message.into(),
            span,
            expected: Vec::new(),
            help: None,
        }
    }

    /// Adds what would have been accepted at the place.
    pub fn expected(mut self, what: impl IntoIterator<Item = impl Into<String>>) -> Self {
        self.expected.extend(what.into_iter().map(Into::into));
        self
    }

    /// Sets the suggestion.
    pub fn help(mut self, help: impl Into<String>) -> Self {
        self.help = Some(help.into());
        self
    }

    /// The expected items as one phrase: "`|`, `;` or end of query".
    pub fn expected_phrase(&self) -> Option<String> {
        let (last, rest) = self.expected.split_last()?;
        Some(if rest.is_empty() {
            last.clone()
        } else {
            format!("{} or {}", rest.join(", "), last)
        })
    }

    /// Plain-text rendering: `name:line:col: error: message`, the source line, a caret line,
    /// what was expected, and the help line.
    pub fn render_plain(&self, name: &str, source: &str) -> String {
        let index = LineIndex::new(source);
        let pos = index.line_col(self.span.start as usize);
        let mut out = format!("{name}:{}:{}: error: {}\n", pos.line, pos.column, self.message);
        let line = index.line_text(pos.line);
        let gutter = pos.line.to_string().len();
        let end = index.line_col(self.span.end as usize);
        let width = if end.line == pos.line {
            end.column.saturating_sub(pos.column).max(1)
        } else {
            1
        };
        // A window of the line around the span, so a megabyte-long line is not printed whole
        // for every diagnostic.
        let chars: Vec<char> = line.chars().collect();
        let start = (pos.column - 1).min(chars.len());
        let from = start.saturating_sub(CONTEXT_CHARS);
        let width = width.min(CONTEXT_CHARS);
        let to = (start + width + CONTEXT_CHARS).min(chars.len());
        let mut shown: String = chars[from..to]
            .iter()
            .map(|&c| if c == '\t' { ' ' } else { c })
            .collect();
        let mut caret_at = start - from;
        if from > 0 {
            shown.insert(0, '…');
            caret_at += 1;
        }
        if to < chars.len() {
            shown.push('…');
        }
        let _ = writeln!(out, "{:gutter$} |", "");
        let _ = writeln!(out, "{} | {}", pos.line, shown);
        let _ = writeln!(out, "{:gutter$} | {}{}", "", " ".repeat(caret_at), "^".repeat(width));
        if let Some(exp) = self.expected_phrase() {
            let _ = writeln!(out, "{:gutter$} = expected {exp}", "");
        }
        if let Some(help) = &self.help {
            let _ = writeln!(out, "{:gutter$} = help: {help}", "");
        }
        out
    }
}

/// Characters of the source line shown on each side of a diagnostic's span.
const CONTEXT_CHARS: usize = 80;

/// Edit distance between two short words (for "did you mean").
pub fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut cur = vec![i + 1; b.len() + 1];
        for (j, &cb) in b.iter().enumerate() {
            let cost = usize::from(ca != cb);
            cur[j + 1] = (prev[j] + cost).min(prev[j + 1] + 1).min(cur[j] + 1);
        }
        prev = cur;
    }
    prev[b.len()]
}

/// The closest candidate to `word`, if close enough to be a likely typo.
pub fn closest<'a>(word: &str, candidates: impl IntoIterator<Item = &'a str>) -> Option<&'a str> {
    let lower = word.to_ascii_lowercase();
    let limit = match word.chars().count() {
        0..=3 => 1,
        4..=6 => 2,
        _ => 3,
    };
    candidates
        .into_iter()
        .map(|c| {
            (
                if c.eq_ignore_ascii_case(word) {
                    0
                } else {
                    edit_distance(&lower, &c.to_ascii_lowercase())
                },
                c,
            )
        })
        .filter(|(d, _)| *d <= limit)
        .min_by_key(|(d, _)| *d)
        .map(|(_, c)| c)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_caret_under_the_span() {
        let src = "T\n| wher x > 1";
        let d = Diagnostic::new("unknown tabular operator `wher`", Span::new(4, 8))
            .expected(["a tabular operator"])
            .help("did you mean `where`?");
        let text = d.render_plain("q.kql", src);
        assert!(
            text.starts_with("q.kql:2:3: error: unknown tabular operator `wher`\n"),
            "{text}"
        );
        assert!(text.contains("2 | | wher x > 1\n  |   ^^^^\n"), "{text}");
        assert!(text.contains("= help: did you mean `where`?"), "{text}");
    }

    #[test]
    fn a_long_line_is_shown_as_a_window_around_the_span() {
        let src = format!("{}wher{}", "x".repeat(10_000), "y".repeat(10_000));
        let d = Diagnostic::new("unknown", Span::new(10_000, 10_004));
        let text = d.render_plain("q.kql", &src);
        assert!(text.len() < 500, "{} bytes", text.len());
        let line = format!("1 | …{}wher{}…\n", "x".repeat(80), "y".repeat(80));
        assert!(text.contains(&line), "{text}");
        assert!(text.contains(&format!("  | {}^^^^\n", " ".repeat(81))), "{text}");
    }

    #[test]
    fn suggestions_need_closeness() {
        assert_eq!(closest("wher", ["where", "extend"]), Some("where"));
        assert_eq!(closest("Where", ["where", "extend"]), Some("where"));
        assert_eq!(closest("zzzzzz", ["where", "extend"]), None);
        assert_eq!(edit_distance("kitten", "sitting"), 3);
    }
}
