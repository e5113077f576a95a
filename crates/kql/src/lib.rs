//! KQL front end: lexer, parser, syntax tree, printer and diagnostics. Knows nothing of execution.

pub mod ast;
pub mod diag;
pub mod lexer;
pub mod parser;
pub mod print;
pub mod span;

pub use ast::*;
pub use diag::Diagnostic;
pub use span::{LineCol, LineIndex, Span};

/// The result of parsing a query text: the tree (as much as could be read) and every error found.
#[derive(Clone, Debug)]
pub struct Parsed {
    pub query: Query,
    pub diagnostics: Vec<Diagnostic>,
}

impl Parsed {
    pub fn is_ok(&self) -> bool {
        self.diagnostics.is_empty()
    }
}

/// Parses a KQL query text (one or more `;`-separated statements).
pub fn parse(text: &str) -> Parsed {
    let (query, diagnostics) = parser::parse_query(text);
    Parsed { query, diagnostics }
}
