//! Recursive-descent parser: tokens to the syntax tree, with error recovery at statement and pipe boundaries.
//!
//! One `Parser` walks the token list through its cursor (`cursor.rs`); statements, tabular
//! operators, the clauses operators share, scalar expressions and literals each have a file.

mod clauses;
mod cursor;
mod expressions;
mod literals;
mod operators;
mod statements;

use crate::ast::Query;
use crate::diag::Diagnostic;
use crate::lexer::{Token, lex};
use crate::span::Span;

pub use literals::parse_timespan_text;
pub use operators::OPERATOR_NAMES;

/// How deeply expressions and sub-queries may nest before the parser refuses (protects the stack).
pub const MAX_DEPTH: usize = 100;

/// How many errors the parser reports before it stops reading (an untrusted query full of
/// errors, such as a megabyte of `)`, must not cost a diagnostic per byte). One more diagnostic
/// then says that the parser stopped.
pub const MAX_DIAGNOSTICS: usize = 100;

type PResult<T> = Result<T, Diagnostic>;

/// Parses a whole query text. Never fails: errors are collected as diagnostics and the tree
/// holds what could be read.
pub fn parse_query(text: &str) -> (Query, Vec<Diagnostic>) {
    let (tokens, lex_errors) = lex(text);
    let mut p = Parser {
        toks: tokens,
        pos: 0,
        diags: Vec::new(),
        depth: 0,
        in_search: false,
        stopped_at: None,
    };
    for e in lex_errors {
        p.report(Diagnostic::new(e.message, e.span));
    }
    let query = p.query();
    let mut diags = p.diags;
    diags.sort_by_key(|d| d.span.start);
    if let Some(span) = p.stopped_at {
        diags.push(
            Diagnostic::new(
                format!("too many errors: the parser stopped after the first {MAX_DIAGNOSTICS}"),
                span,
            )
            .help("fix the errors above and check the query again"),
        );
    }
    (query, diags)
}

/// The parser's state: the tokens, the cursor into them, the errors so far and the nesting depth.
struct Parser {
    toks: Vec<Token>,
    pos: usize,
    diags: Vec<Diagnostic>,
    depth: usize,
    /// Inside a `search` predicate, where `Column:"term"` is allowed.
    in_search: bool,
    /// Where the parser stopped reading after [`MAX_DIAGNOSTICS`] errors.
    stopped_at: Option<Span>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn errors_stop_after_the_limit() {
        // A megabyte of `)` would otherwise be two diagnostics per byte.
        let text = format!("T {}", ")".repeat(1_000_000));
        let (_, diags) = parse_query(&text);
        assert_eq!(diags.len(), MAX_DIAGNOSTICS + 1, "{:?}", &diags[..3]);
        let last = diags.last().unwrap();
        assert!(last.message.starts_with("too many errors"), "{last:?}");
        // The marker points at the last error reported, near the start of the text.
        assert!((last.span.start as usize) < 1_000, "{last:?}");
        // Statements with one error each: the same limit.
        let (_, diags) = parse_query(&"T | wher x;".repeat(10_000));
        assert_eq!(diags.len(), MAX_DIAGNOSTICS + 1);
        // Lexical errors count too.
        let (_, diags) = parse_query(&"\"\n".repeat(10_000));
        assert_eq!(diags.len(), MAX_DIAGNOSTICS + 1);
        // Below the limit nothing changes.
        let (_, diags) = parse_query(&"T | wher x;".repeat(3));
        assert_eq!(diags.len(), 3);
        assert!(diags.iter().all(|d| !d.message.starts_with("too many")));
    }

    #[test]
    fn forty_thousand_parentheses_are_one_diagnostic() {
        let text = format!("T | where {}x", "(".repeat(40_000));
        let (_, diags) = parse_query(&text);
        assert_eq!(diags.len(), 1, "{diags:?}");
        assert_eq!(
            diags[0].message,
            format!("query nests too deeply (more than {MAX_DEPTH} levels)")
        );
        // Balanced: the depth error, then the closing brackets left over at the top level
        // (bounded by the error limit).
        let text = format!("T | where {}x{}", "(".repeat(40_000), ")".repeat(40_000));
        let (_, diags) = parse_query(&text);
        assert!(diags[0].message.contains("nests too deeply"), "{:?}", diags[0]);
        assert!(diags.len() <= MAX_DIAGNOSTICS + 1);
    }
}
