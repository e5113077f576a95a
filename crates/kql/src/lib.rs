//! KQL front end: lexer, parser, syntax tree, printer and diagnostics. Knows nothing of execution.
//!
//! ```
//! let parsed = kql::parse("SecurityEvent | where EventID == 4688 | take 10");
//! assert!(parsed.is_ok());
//! let kql::Statement::Expr(kql::Expr::Pipeline { ops, .. }) = &parsed.query.statements[0] else {
//!     panic!("a pipeline");
//! };
//! assert_eq!(ops[0].keyword(), "where");
//! // The tree prints back to KQL that parses to the same tree.
//! assert_eq!(kql::parse(&parsed.query.to_string()).query, parsed.query);
//!
//! let bad = kql::parse("T | wher x > 1");
//! assert_eq!(bad.diagnostics[0].help.as_deref(), Some("did you mean `where`?"));
//! ```
//!
//! The syntax tree types are re-exported here; [`parser`] has the limits the parser enforces
//! and [`parser::parse_timespan_text`], [`lexer`] the tokens, [`diag`] the "did you mean" helpers.

#![warn(missing_docs)]

pub mod ast;
pub mod diag;
pub mod lexer;
pub mod parser;
mod print;
mod span;

pub use ast::{
    Arg, BinaryOp, ColumnDecl, Dynamic, ExpandItem, Expr, FunctionDef, Ident, LetValue, ListOp, Literal, NamedExpr,
    NullsOrder, OpParam, Operator, OperatorKind, Param, ParamType, ParseKind, ParsePart, Query, ScanStep, SeriesAgg,
    SeriesRange, SortDir, SortKey, Statement, StringOp, StringOpKind, SubQuery, TopNestedLevel, UnaryOp,
};
pub use diag::Diagnostic;
pub use span::{LineCol, LineIndex, Span};

/// The result of parsing a query text: the tree (as much as could be read) and every error found.
#[derive(Clone, Debug)]
pub struct Parsed {
    /// Everything that could be read; parts with errors are left out.
    pub query: Query,
    /// Every error found, sorted by position, and a last one saying so when the parser stopped
    /// after [`parser::MAX_DIAGNOSTICS`]; empty for valid KQL.
    pub diagnostics: Vec<Diagnostic>,
}

impl Parsed {
    /// Whether the text parsed without errors.
    pub fn is_ok(&self) -> bool {
        self.diagnostics.is_empty()
    }
}

/// Parses a KQL query text (one or more `;`-separated statements).
pub fn parse(text: &str) -> Parsed {
    let (query, diagnostics) = parser::parse_query(text);
    Parsed { query, diagnostics }
}
