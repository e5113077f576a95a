//! The token cursor: looking at and consuming tokens, error reporting with "did you mean",
//! the nesting limit, and recovery to the next statement or pipe.

use super::{MAX_DEPTH, MAX_DIAGNOSTICS, PResult, Parser};
use crate::ast::Ident;
use crate::diag::{Diagnostic, closest};
use crate::lexer::{Tok, Token};
use crate::span::Span;

const STRING_OPERATORS: &[&str] = &[
    "has",
    "!has",
    "has_cs",
    "!has_cs",
    "hasprefix",
    "!hasprefix",
    "hasprefix_cs",
    "!hasprefix_cs",
    "hassuffix",
    "!hassuffix",
    "hassuffix_cs",
    "!hassuffix_cs",
    "contains",
    "!contains",
    "contains_cs",
    "!contains_cs",
    "startswith",
    "!startswith",
    "startswith_cs",
    "!startswith_cs",
    "endswith",
    "!endswith",
    "endswith_cs",
    "!endswith_cs",
    "has_any",
    "has_all",
    "in",
    "!in",
    "in~",
    "!in~",
    "between",
    "!between",
    "matches",
    "and",
    "or",
];

fn describe(tok: &Tok) -> String {
    match tok {
        Tok::Ident(s) => format!("`{s}`"),
        Tok::BracketName(s) => format!("`['{s}']`"),
        Tok::Str { .. } => "a string literal".into(),
        Tok::Long(_) | Tok::Real(_) => "a number".into(),
        Tok::Timespan(_) => "a timespan literal".into(),
        Tok::RawLiteral { .. } => "a literal".into(),
        Tok::Eof => "end of query".into(),
        other => format!("`{}`", punct_text(other)),
    }
}

fn punct_text(tok: &Tok) -> &'static str {
    match tok {
        Tok::Pipe => "|",
        Tok::LParen => "(",
        Tok::RParen => ")",
        Tok::LBracket => "[",
        Tok::RBracket => "]",
        Tok::LBrace => "{",
        Tok::RBrace => "}",
        Tok::Comma => ",",
        Tok::Semi => ";",
        Tok::Colon => ":",
        Tok::Dot => ".",
        Tok::DotDot => "..",
        Tok::Assign => "=",
        Tok::EqEq => "==",
        Tok::NotEq => "!=",
        Tok::Lt => "<",
        Tok::Le => "<=",
        Tok::Gt => ">",
        Tok::Ge => ">=",
        Tok::EqTilde => "=~",
        Tok::BangTilde => "!~",
        Tok::Bang => "!",
        Tok::Tilde => "~",
        Tok::Plus => "+",
        Tok::Minus => "-",
        Tok::Star => "*",
        Tok::Slash => "/",
        Tok::Percent => "%",
        Tok::FatArrow => "=>",
        Tok::Question => "?",
        Tok::At => "@",
        Tok::Hash => "#",
        _ => "?",
    }
}

impl Parser {
    pub(super) fn peek(&self) -> &Tok {
        &self.toks[self.pos].tok
    }

    pub(super) fn peek_at(&self, n: usize) -> &Tok {
        let i = (self.pos + n).min(self.toks.len() - 1);
        &self.toks[i].tok
    }

    pub(super) fn span(&self) -> Span {
        self.toks[self.pos].span
    }

    pub(super) fn prev_span(&self) -> Span {
        self.toks[self.pos.saturating_sub(1)].span
    }

    pub(super) fn bump(&mut self) -> Token {
        let t = self.toks[self.pos].clone();
        if self.pos < self.toks.len() - 1 {
            self.pos += 1;
        }
        t
    }

    /// Whether token `pos + n` starts right where the one before it ends (no space between).
    pub(super) fn adjacent(&self, n: usize) -> bool {
        let i = self.pos + n;
        i > 0 && i < self.toks.len() && self.toks[i - 1].span.end == self.toks[i].span.start
    }

    pub(super) fn at(&self, tok: &Tok) -> bool {
        self.peek() == tok
    }

    pub(super) fn eat(&mut self, tok: &Tok) -> bool {
        if self.at(tok) {
            self.bump();
            true
        } else {
            false
        }
    }

    pub(super) fn at_kw(&self, kw: &str) -> bool {
        matches!(self.peek(), Tok::Ident(s) if s == kw)
    }

    pub(super) fn at_kw_n(&self, n: usize, kw: &str) -> bool {
        matches!(self.peek_at(n), Tok::Ident(s) if s == kw)
    }

    /// Reads the two keywords `first second` (`order by`, `to typeof`) when both are next.
    pub(super) fn eat_kw_pair(&mut self, first: &str, second: &str) -> bool {
        if self.at_kw(first) && self.at_kw_n(1, second) {
            self.bump();
            self.bump();
            true
        } else {
            false
        }
    }

    pub(super) fn eat_kw(&mut self, kw: &str) -> bool {
        if self.at_kw(kw) {
            self.bump();
            true
        } else {
            false
        }
    }

    pub(super) fn unexpected(&self, expected: &[&str]) -> Diagnostic {
        let found = describe(self.peek());
        // At the end, point just past the last token rather than at trailing blank lines.
        let span = if self.at(&Tok::Eof) && self.pos > 0 {
            let end = self.prev_span().end as usize;
            Span::new(end, end)
        } else {
            self.span()
        };
        let mut d = Diagnostic::new(format!("unexpected {found}"), span).expected(expected.iter().copied());
        if let Tok::Ident(word) = self.peek()
            && let Some(sugg) = closest(
                word,
                STRING_OPERATORS
                    .iter()
                    .copied()
                    .chain(expected.iter().map(|e| e.trim_matches('`'))),
            )
            && sugg != word
        {
            d = d.help(format!("did you mean `{sugg}`?"));
        }
        d
    }

    pub(super) fn expect(&mut self, tok: &Tok) -> PResult<Span> {
        if self.at(tok) {
            Ok(self.bump().span)
        } else {
            Err(self.unexpected(&[&format!("`{}`", punct_text(tok))]))
        }
    }

    pub(super) fn expect_kw(&mut self, kw: &str) -> PResult<Span> {
        if self.at_kw(kw) {
            Ok(self.bump().span)
        } else {
            Err(self.unexpected(&[&format!("`{kw}`")]))
        }
    }

    /// An identifier or bracketed name.
    pub(super) fn ident(&mut self, what: &str) -> PResult<Ident> {
        match self.peek().clone() {
            Tok::Ident(name) | Tok::BracketName(name) => {
                let span = self.bump().span;
                Ok(Ident::new(name, span))
            }
            _ => Err(self.unexpected(&[what])),
        }
    }

    /// `name =` at the cursor: reads both and returns the name, or reads nothing and returns
    /// `None` when no assignment starts here.
    pub(super) fn assigned_name(&mut self, what: &str) -> PResult<Option<Ident>> {
        if !(matches!(self.peek(), Tok::Ident(_) | Tok::BracketName(_)) && matches!(self.peek_at(1), Tok::Assign)) {
            return Ok(None);
        }
        let name = self.ident(what)?;
        self.bump();
        Ok(Some(name))
    }

    /// A dotted name such as `hint.strategy` or `query_datascope`.
    pub(super) fn dotted_ident(&mut self, what: &str) -> PResult<Ident> {
        let mut id = self.ident(what)?;
        while self.at(&Tok::Dot) && self.adjacent(0) && self.adjacent(1) && matches!(self.peek_at(1), Tok::Ident(_)) {
            self.bump();
            let next = self.ident(what)?;
            id.name = format!("{}.{}", id.name, next.name);
            id.span = id.span.to(next.span);
        }
        Ok(id)
    }

    /// Records an error; after [`MAX_DIAGNOSTICS`] of them, skips to the end of the query so
    /// that parsing stops (later errors are dropped).
    pub(super) fn report(&mut self, d: Diagnostic) {
        if self.stopped_at.is_some() {
            return;
        }
        let span = d.span;
        self.diags.push(d);
        if self.diags.len() >= MAX_DIAGNOSTICS {
            self.stopped_at = Some(span);
            self.pos = self.toks.len() - 1;
        }
    }

    pub(super) fn nested<T>(&mut self, f: impl FnOnce(&mut Self) -> PResult<T>) -> PResult<T> {
        if self.depth >= MAX_DEPTH {
            return Err(self.too_deep().help("split the expression with `let` statements"));
        }
        self.depth += 1;
        // Grow the stack when it runs low, so the depth limit, not the thread's stack size
        // (2 MiB for test and worker threads), decides how deep a query may nest.
        let r = stacker::maybe_grow(256 * 1024, 2 * 1024 * 1024, || f(self));
        self.depth -= 1;
        r
    }

    /// The error for nesting deeper than [`MAX_DEPTH`], at the cursor.
    fn too_deep(&self) -> Diagnostic {
        Diagnostic::new(
            format!("query nests too deeply (more than {MAX_DEPTH} levels)"),
            self.span(),
        )
    }

    /// Fails when a left-deep chain of `chain` operators (`a + b + ...`, `x.a.b...`) at the
    /// current depth would nest deeper than [`MAX_DEPTH`].
    pub(super) fn check_chain(&self, chain: usize) -> PResult<()> {
        if self.depth + chain >= MAX_DEPTH {
            return Err(self.too_deep());
        }
        Ok(())
    }

    /// Skips to the next `;` (or `|` when `stop_at_pipe`) at bracket depth 0, or to a closing
    /// bracket that belongs to an enclosing construct.
    pub(super) fn recover(&mut self, stop_at_pipe: bool) {
        let mut depth = 0usize;
        loop {
            match self.peek() {
                Tok::Eof => return,
                Tok::Semi if depth == 0 => return,
                Tok::Pipe if depth == 0 && stop_at_pipe => return,
                Tok::LParen | Tok::LBracket | Tok::LBrace => depth += 1,
                Tok::RParen | Tok::RBracket | Tok::RBrace => {
                    if depth == 0 {
                        return;
                    }
                    depth -= 1;
                }
                _ => {}
            }
            self.bump();
        }
    }

    /// Items separated by commas, up to (not including) `close`; with `Tok::Eof` as `close` the
    /// list has no closing token and needs at least one item. A trailing comma is an error.
    pub(super) fn comma_list<T>(
        &mut self,
        close: &Tok,
        mut item: impl FnMut(&mut Self) -> PResult<T>,
    ) -> PResult<Vec<T>> {
        let mut items = Vec::new();
        if *close != Tok::Eof && self.at(close) {
            return Ok(items);
        }
        loop {
            items.push(item(self)?);
            if !self.eat(&Tok::Comma) {
                break;
            }
        }
        Ok(items)
    }
}
