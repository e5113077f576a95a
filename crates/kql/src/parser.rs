//! Recursive-descent parser: tokens to the syntax tree, with error recovery at statement and pipe boundaries.

use crate::ast::*;
use crate::diag::{Diagnostic, closest};
use crate::lexer::{RawKind, TICKS_PER_SECOND, Tok, Token, lex, timespan_unit};
use crate::span::Span;

/// How deeply expressions and sub-queries may nest before the parser refuses (protects the stack).
pub const MAX_DEPTH: usize = 100;

/// How many errors the parser reports before it stops reading (an untrusted query full of
/// errors, such as a megabyte of `)`, must not cost a diagnostic per byte). One more diagnostic
/// then says that the parser stopped.
pub const MAX_DIAGNOSTICS: usize = 100;

type PResult<T> = Result<T, Diagnostic>;

/// Every tabular operator name the parser knows, for "did you mean" and error messages.
pub const OPERATOR_NAMES: &[&str] = &[
    "as",
    "assert-schema",
    "consume",
    "count",
    "distinct",
    "evaluate",
    "extend",
    "externaldata",
    "facet",
    "filter",
    "find",
    "fork",
    "getschema",
    "invoke",
    "join",
    "limit",
    "lookup",
    "make-series",
    "mv-apply",
    "mv-expand",
    "mvapply",
    "mvexpand",
    "order",
    "parse",
    "parse-kv",
    "parse-where",
    "partition",
    "print",
    "project",
    "project-away",
    "project-keep",
    "project-rename",
    "project-reorder",
    "project-smart",
    "range",
    "reduce",
    "render",
    "sample",
    "sample-distinct",
    "scan",
    "search",
    "serialize",
    "sort",
    "summarize",
    "take",
    "top",
    "top-hitters",
    "top-nested",
    "union",
    "where",
];

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
    // ----- token access -------------------------------------------------------------------

    fn peek(&self) -> &Tok {
        &self.toks[self.pos].tok
    }

    fn peek_at(&self, n: usize) -> &Tok {
        let i = (self.pos + n).min(self.toks.len() - 1);
        &self.toks[i].tok
    }

    fn span(&self) -> Span {
        self.toks[self.pos].span
    }

    fn prev_span(&self) -> Span {
        self.toks[self.pos.saturating_sub(1)].span
    }

    fn bump(&mut self) -> Token {
        let t = self.toks[self.pos].clone();
        if self.pos < self.toks.len() - 1 {
            self.pos += 1;
        }
        t
    }

    /// Whether token `pos + n` starts right where the one before it ends (no space between).
    fn adjacent(&self, n: usize) -> bool {
        let i = self.pos + n;
        i > 0 && i < self.toks.len() && self.toks[i - 1].span.end == self.toks[i].span.start
    }

    fn at(&self, tok: &Tok) -> bool {
        self.peek() == tok
    }

    fn eat(&mut self, tok: &Tok) -> bool {
        if self.at(tok) {
            self.bump();
            true
        } else {
            false
        }
    }

    fn at_kw(&self, kw: &str) -> bool {
        matches!(self.peek(), Tok::Ident(s) if s == kw)
    }

    fn at_kw_n(&self, n: usize, kw: &str) -> bool {
        matches!(self.peek_at(n), Tok::Ident(s) if s == kw)
    }

    fn eat_kw(&mut self, kw: &str) -> bool {
        if self.at_kw(kw) {
            self.bump();
            true
        } else {
            false
        }
    }

    fn unexpected(&self, expected: &[&str]) -> Diagnostic {
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

    fn expect(&mut self, tok: &Tok) -> PResult<Span> {
        if self.at(tok) {
            Ok(self.bump().span)
        } else {
            Err(self.unexpected(&[&format!("`{}`", punct_text(tok))]))
        }
    }

    fn expect_kw(&mut self, kw: &str) -> PResult<Span> {
        if self.at_kw(kw) {
            Ok(self.bump().span)
        } else {
            Err(self.unexpected(&[&format!("`{kw}`")]))
        }
    }

    /// An identifier or bracketed name.
    fn ident(&mut self, what: &str) -> PResult<Ident> {
        match self.peek().clone() {
            Tok::Ident(name) | Tok::BracketName(name) => {
                let span = self.bump().span;
                Ok(Ident::new(name, span))
            }
            _ => Err(self.unexpected(&[what])),
        }
    }

    /// A dotted name such as `hint.strategy` or `query_datascope`.
    fn dotted_ident(&mut self, what: &str) -> PResult<Ident> {
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
    fn report(&mut self, d: Diagnostic) {
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

    fn nested<T>(&mut self, f: impl FnOnce(&mut Self) -> PResult<T>) -> PResult<T> {
        if self.depth >= MAX_DEPTH {
            return Err(Diagnostic::new(
                format!("query nests too deeply (more than {MAX_DEPTH} levels)"),
                self.span(),
            )
            .help("split the expression with `let` statements"));
        }
        self.depth += 1;
        // Grow the stack when it runs low, so the depth limit, not the thread's stack size
        // (2 MiB for test and worker threads), decides how deep a query may nest.
        let r = stacker::maybe_grow(256 * 1024, 2 * 1024 * 1024, || f(self));
        self.depth -= 1;
        r
    }

    /// Skips to the next `;` (or `|` when `stop_at_pipe`) at bracket depth 0, or to a closing
    /// bracket that belongs to an enclosing construct.
    fn recover(&mut self, stop_at_pipe: bool) {
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

    // ----- statements ---------------------------------------------------------------------

    fn query(&mut self) -> Query {
        let mut statements = Vec::new();
        loop {
            while self.eat(&Tok::Semi) {}
            if self.at(&Tok::Eof) {
                break;
            }
            let before = self.pos;
            match self.statement() {
                Ok(s) => statements.push(s),
                Err(d) => {
                    self.report(d);
                    self.recover(false);
                }
            }
            match self.peek() {
                Tok::Semi | Tok::Eof => {}
                _ => {
                    let d = self.unexpected(&["`;`", "`|`", "end of query"]);
                    self.report(d);
                    self.recover(false);
                    if self.pos == before || matches!(self.peek(), Tok::RParen | Tok::RBracket | Tok::RBrace) {
                        self.bump();
                    }
                }
            }
        }
        Query { statements }
    }

    fn statement(&mut self) -> PResult<Statement> {
        let start = self.span();
        if self.at_kw("let") && matches!(self.peek_at(1), Tok::Ident(_) | Tok::BracketName(_)) {
            self.bump();
            let name = self.ident("a name")?;
            self.expect(&Tok::Assign)?;
            let value = self.let_value()?;
            return Ok(Statement::Let {
                name,
                value,
                span: start.to(self.prev_span()),
            });
        }
        if self.at_kw("set") && matches!(self.peek_at(1), Tok::Ident(_)) {
            self.bump();
            let name = self.dotted_ident("an option name")?;
            let value = if self.eat(&Tok::Assign) {
                Some(self.expr()?)
            } else {
                None
            };
            return Ok(Statement::Set {
                name,
                value,
                span: start.to(self.prev_span()),
            });
        }
        if self.at_kw("declare") && self.at_kw_n(1, "query_parameters") {
            self.bump();
            self.bump();
            let params = self.param_list()?;
            return Ok(Statement::DeclareQueryParameters {
                params,
                span: start.to(self.prev_span()),
            });
        }
        if self.at_kw("alias") && self.at_kw_n(1, "database") {
            self.bump();
            self.bump();
            let name = self.ident("a database alias name")?;
            self.expect(&Tok::Assign)?;
            let value = self.expr()?;
            return Ok(Statement::Alias {
                name,
                value,
                span: start.to(self.prev_span()),
            });
        }
        if self.at_kw("restrict") && self.at_kw_n(1, "access") {
            self.bump();
            self.bump();
            self.expect_kw("to")?;
            self.expect(&Tok::LParen)?;
            let names = self.comma_list(&Tok::RParen, |p| p.pipe_expr())?;
            self.expect(&Tok::RParen)?;
            return Ok(Statement::RestrictAccess {
                names,
                span: start.to(self.prev_span()),
            });
        }
        Ok(Statement::Expr(self.pipe_expr()?))
    }

    fn let_value(&mut self) -> PResult<LetValue> {
        let start = self.span();
        let view = self.at_kw("view") && self.at(&Tok::Ident("view".into())) && matches!(self.peek_at(1), Tok::LParen);
        let paren_at = usize::from(view);
        if matches!(self.peek_at(paren_at), Tok::LParen) && self.is_function_def(self.pos + paren_at) {
            if view {
                self.bump();
            }
            let params = self.param_list()?;
            let body = self.braced_body()?;
            return Ok(LetValue::Function(FunctionDef {
                view,
                params,
                body,
                span: start.to(self.prev_span()),
            }));
        }
        Ok(LetValue::Expr(self.pipe_expr()?))
    }

    /// Whether the parenthesis at token index `i` opens a parameter list followed by `{`.
    fn is_function_def(&self, i: usize) -> bool {
        let mut depth = 0usize;
        let mut j = i;
        while j < self.toks.len() {
            match self.toks[j].tok {
                Tok::LParen => depth += 1,
                Tok::RParen => {
                    depth -= 1;
                    if depth == 0 {
                        return matches!(self.toks.get(j + 1).map(|t| &t.tok), Some(Tok::LBrace));
                    }
                }
                Tok::Eof | Tok::Semi | Tok::Pipe => return false,
                _ => {}
            }
            j += 1;
        }
        false
    }

    /// `{ statement; ...; expr }`
    fn braced_body(&mut self) -> PResult<Vec<Statement>> {
        self.expect(&Tok::LBrace)?;
        self.nested(|p| {
            let mut body = Vec::new();
            loop {
                while p.eat(&Tok::Semi) {}
                if p.at(&Tok::RBrace) {
                    break;
                }
                body.push(p.statement()?);
                if !p.at(&Tok::Semi) && !p.at(&Tok::RBrace) {
                    return Err(p.unexpected(&["`;`", "`}`"]));
                }
            }
            p.expect(&Tok::RBrace)?;
            Ok(body)
        })
    }

    /// `(name:type [= default], T:(*), ...)`
    fn param_list(&mut self) -> PResult<Vec<Param>> {
        self.expect(&Tok::LParen)?;
        let params = self.comma_list(&Tok::RParen, |p| {
            let name = p.ident("a parameter name")?;
            p.expect(&Tok::Colon)?;
            let ty = p.param_type()?;
            let default = if p.eat(&Tok::Assign) { Some(p.expr()?) } else { None };
            Ok(Param { name, ty, default })
        })?;
        self.expect(&Tok::RParen)?;
        Ok(params)
    }

    fn param_type(&mut self) -> PResult<ParamType> {
        if self.eat(&Tok::LParen) {
            let mut columns = Vec::new();
            let mut open = false;
            loop {
                if self.eat(&Tok::Star) {
                    open = true;
                } else if !self.at(&Tok::RParen) {
                    columns.push(self.column_decl()?);
                }
                if !self.eat(&Tok::Comma) {
                    break;
                }
            }
            self.expect(&Tok::RParen)?;
            return Ok(ParamType::Tabular { columns, open });
        }
        Ok(ParamType::Scalar(self.type_name()?))
    }

    fn type_name(&mut self) -> PResult<Ident> {
        // datetime / timespan / guid are lexed as identifiers here (no parenthesis follows).
        self.ident("a type name")
    }

    /// `name:type, ...` up to `)`; Kusto accepts a trailing comma here.
    fn column_decls(&mut self) -> PResult<Vec<ColumnDecl>> {
        let mut cols = Vec::new();
        while !self.at(&Tok::RParen) {
            cols.push(self.column_decl()?);
            if !self.eat(&Tok::Comma) {
                break;
            }
        }
        Ok(cols)
    }

    fn column_decl(&mut self) -> PResult<ColumnDecl> {
        let name = self.ident("a column name")?;
        self.expect(&Tok::Colon)?;
        let ty = self.type_name()?;
        Ok(ColumnDecl { name, ty })
    }

    /// Items separated by commas, up to (not including) `close`; with `Tok::Eof` as `close` the
    /// list has no closing token and needs at least one item. A trailing comma is an error.
    fn comma_list<T>(&mut self, close: &Tok, mut item: impl FnMut(&mut Self) -> PResult<T>) -> PResult<Vec<T>> {
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

    // ----- pipelines ----------------------------------------------------------------------

    /// An expression optionally followed by `| operator ...`.
    fn pipe_expr(&mut self) -> PResult<Expr> {
        self.nested(|p| {
            let start = p.span();
            let source = match p.source_operator()? {
                Some(op) => Expr::Source(Box::new(op)),
                None => p.expr()?,
            };
            if !p.at(&Tok::Pipe) {
                return Ok(source);
            }
            let ops = p.pipe_ops()?;
            Ok(Expr::Pipeline {
                source: Box::new(source),
                ops,
                span: start.to(p.prev_span()),
            })
        })
    }

    /// `| op | op ...` — recovers from a bad operator at the next `|`.
    fn pipe_ops(&mut self) -> PResult<Vec<Operator>> {
        let mut ops = Vec::new();
        while self.eat(&Tok::Pipe) {
            match self.operator() {
                Ok(op) => {
                    ops.push(op);
                    if !matches!(
                        self.peek(),
                        Tok::Pipe | Tok::Semi | Tok::Eof | Tok::RParen | Tok::RBrace | Tok::RBracket
                    ) {
                        let d = self.unexpected(&["`|`", "`;`", "end of query"]);
                        self.report(d);
                        self.recover(true);
                    }
                }
                Err(d) => {
                    self.report(d);
                    self.recover(true);
                }
            }
        }
        Ok(ops)
    }

    /// Operators that can start a pipeline: `print`, `range`, `union`, `datatable`, ...
    fn source_operator(&mut self) -> PResult<Option<Operator>> {
        let Tok::Ident(word) = self.peek() else {
            return Ok(None);
        };
        let is_source = match word.as_str() {
            "print" | "union" => true,
            "datatable" | "externaldata" | "external_data" => {
                matches!(self.peek_at(1), Tok::LParen | Tok::Ident(_))
            }
            "range" => matches!(self.peek_at(1), Tok::Ident(_) | Tok::BracketName(_)) && self.at_kw_n(2, "from"),
            "search" | "find" => !matches!(
                self.peek_at(1),
                Tok::EqEq
                    | Tok::NotEq
                    | Tok::Dot
                    | Tok::LBracket
                    | Tok::Assign
                    | Tok::Pipe
                    | Tok::Comma
                    | Tok::RParen
                    | Tok::Semi
            ),
            "evaluate" => matches!(self.peek_at(1), Tok::Ident(_)),
            _ => false,
        };
        if !is_source {
            return Ok(None);
        }
        Ok(Some(self.operator()?))
    }

    /// The operator name at the cursor, joining hyphenated names (`project-away`).
    fn operator_name(&mut self) -> PResult<(String, Span)> {
        let Tok::Ident(first) = self.peek().clone() else {
            return Err(self.unexpected(&["a tabular operator"]));
        };
        let mut span = self.bump().span;
        let mut name = first;
        while self.at(&Tok::Minus) && self.adjacent(0) && self.adjacent(1) && matches!(self.peek_at(1), Tok::Ident(_)) {
            let joined = match self.peek_at(1) {
                Tok::Ident(next) => format!("{name}-{next}"),
                _ => unreachable!(),
            };
            self.bump();
            span = span.to(self.bump().span);
            name = joined;
        }
        Ok((name, span))
    }

    fn operator(&mut self) -> PResult<Operator> {
        let (name, start) = self.operator_name()?;
        let kind = self.operator_body(&name, start)?;
        Ok(Operator {
            kind,
            span: start.to(self.prev_span()),
        })
    }

    fn operator_body(&mut self, name: &str, name_span: Span) -> PResult<OperatorKind> {
        use OperatorKind as K;
        Ok(match name {
            "where" | "filter" => {
                if matches!(self.peek(), Tok::Ident(_) | Tok::BracketName(_)) && matches!(self.peek_at(1), Tok::Assign)
                {
                    let name = self.ident("a column name")?;
                    self.bump();
                    let value = self.expr()?;
                    let span = name.span.to(value.span());
                    K::Where(Expr::Assign {
                        name,
                        value: Box::new(value),
                        span,
                    })
                } else {
                    K::Where(self.expr()?)
                }
            }
            "extend" => K::Extend(self.named_exprs()?),
            "project" => K::Project(self.named_exprs()?),
            "project-away" => K::ProjectAway(self.column_patterns()?),
            "project-keep" => K::ProjectKeep(self.column_patterns()?),
            "project-rename" => K::ProjectRename(self.comma_list(&Tok::Eof, |p| {
                let new = p.ident("a new column name")?;
                p.expect(&Tok::Assign)?;
                let old = p.expr()?;
                Ok((new, old))
            })?),
            "project-reorder" => K::ProjectReorder(self.comma_list(&Tok::Eof, |p| {
                let col = p.column_pattern()?;
                let dir = p.sort_dir_word();
                Ok((col, dir))
            })?),
            "project-smart" => K::ProjectSmart,
            "summarize" => {
                let params = self.op_params()?;
                let aggregates = if self.at_kw("by") && !matches!(self.peek_at(1), Tok::Assign) {
                    Vec::new()
                } else {
                    self.named_exprs()?
                };
                let by = if self.eat_kw("by") {
                    self.named_exprs()?
                } else {
                    Vec::new()
                };
                K::Summarize { params, aggregates, by }
            }
            "sort" | "order" => {
                let params = self.op_params()?;
                self.expect_kw("by")?;
                K::Sort {
                    params,
                    keys: self.comma_list(&Tok::Eof, |p| p.sort_key())?,
                }
            }
            "top" => {
                let count = self.expr()?;
                self.expect_kw("by")?;
                K::Top {
                    count,
                    key: self.sort_key()?,
                }
            }
            "top-nested" => {
                // Each level after the first repeats the keyword: `top-nested 3 of a by x, top-nested ...`.
                let mut levels = vec![self.top_nested_level()?];
                while self.eat(&Tok::Comma) {
                    let (kw, span) = self.operator_name()?;
                    if kw != "top-nested" {
                        return Err(Diagnostic::new(format!("unexpected `{kw}`"), span).expected(["`top-nested`"]));
                    }
                    levels.push(self.top_nested_level()?);
                }
                K::TopNested(levels)
            }
            "top-hitters" => {
                let count = self.expr()?;
                self.expect_kw("of")?;
                let of = self.expr()?;
                let by = if self.eat_kw("by") { Some(self.expr()?) } else { None };
                K::TopHitters { count, of, by }
            }
            "take" | "limit" => K::Take(self.expr()?),
            "distinct" => {
                let params = self.op_params()?;
                K::Distinct {
                    params,
                    columns: self.comma_list(&Tok::Eof, |p| p.expr())?,
                }
            }
            "count" => K::Count {
                as_name: if self.eat_kw("as") {
                    Some(self.ident("a column name")?)
                } else {
                    None
                },
            },
            "join" | "lookup" => {
                let params = self.op_params()?;
                let right = self.join_right()?;
                let on = if self.eat_kw("on") {
                    self.comma_list(&Tok::Eof, |p| p.expr())?
                } else if name == "join" && self.eat_kw("where") {
                    vec![self.expr()?]
                } else {
                    return Err(self.unexpected(&["`on`"]));
                };
                if name == "join" {
                    K::Join { params, right, on }
                } else {
                    K::Lookup { params, right, on }
                }
            }
            "union" => {
                let params = self.op_params()?;
                let tables = self.comma_list(&Tok::Eof, |p| p.union_item())?;
                if tables.is_empty() {
                    return Err(self.unexpected(&["a table"]));
                }
                K::Union { params, tables }
            }
            "mv-expand" | "mvexpand" => {
                let params = self.op_params()?;
                let items = self.comma_list(&Tok::Eof, |p| p.expand_item())?;
                let limit = if self.eat_kw("limit") { Some(self.expr()?) } else { None };
                K::MvExpand { params, items, limit }
            }
            "mv-apply" | "mvapply" => {
                let params = self.op_params()?;
                let items = self.comma_list(&Tok::Eof, |p| p.expand_item())?;
                let limit = if self.eat_kw("limit") { Some(self.expr()?) } else { None };
                let id = if self.at_kw("id") && matches!(self.peek_at(1), Tok::Assign) {
                    self.bump();
                    self.bump();
                    Some(self.ident("a name")?)
                } else {
                    None
                };
                self.expect_kw("on")?;
                let on = self.paren_sub_pipeline()?;
                K::MvApply {
                    params,
                    items,
                    limit,
                    id,
                    on,
                }
            }
            "parse" | "parse-where" => {
                let params = self.op_params()?;
                let expr = self.expr()?;
                self.expect_kw("with")?;
                let pattern = self.parse_pattern()?;
                let kind = if name == "parse" {
                    ParseKind::Parse
                } else {
                    ParseKind::ParseWhere
                };
                K::Parse {
                    kind,
                    params,
                    expr,
                    pattern,
                }
            }
            "parse-kv" => {
                let expr = self.expr()?;
                self.expect_kw("as")?;
                self.expect(&Tok::LParen)?;
                let columns = self.comma_list(&Tok::RParen, |p| p.column_decl())?;
                self.expect(&Tok::RParen)?;
                let with = if self.eat_kw("with") {
                    self.paren_params()?
                } else {
                    Vec::new()
                };
                K::ParseKv { expr, columns, with }
            }
            "make-series" => self.make_series()?,
            "evaluate" => {
                let params = self.op_params()?;
                let call = self.postfix()?;
                let schema = if self.eat(&Tok::Colon) {
                    Some(self.param_type()?)
                } else {
                    None
                };
                K::Evaluate { params, call, schema }
            }
            "render" => {
                let chart = self.ident("a chart type")?;
                let mut with = Vec::new();
                if self.eat_kw("with") {
                    with = self.paren_params()?;
                } else {
                    // The older form: `render timechart title="x" ...`.
                    while matches!(self.peek(), Tok::Ident(_)) && matches!(self.peek_at(1), Tok::Assign) {
                        with.push(self.op_param()?);
                    }
                }
                K::Render { chart, with }
            }
            "invoke" => K::Invoke(self.postfix()?),
            "as" => {
                let params = self.op_params()?;
                K::As {
                    params,
                    name: self.ident("a name")?,
                }
            }
            "serialize" => {
                let cols = if self.at_operator_end() {
                    Vec::new()
                } else {
                    self.named_exprs()?
                };
                K::Serialize(cols)
            }
            "search" => {
                let params = self.op_params()?;
                let tables = self.in_tables()?;
                self.in_search = true;
                let predicate = self.expr();
                self.in_search = false;
                K::Search {
                    params,
                    tables,
                    predicate: predicate?,
                }
            }
            "find" => {
                let params = self.op_params()?;
                let tables = self.in_tables()?;
                self.expect_kw("where")?;
                let predicate = self.expr()?;
                let project = if self.at_kw("project-smart") || (self.at_kw("project") && self.at(&Tok::Minus)) {
                    None
                } else if self.at_kw("project") && self.peek_at(1) == &Tok::Minus && self.at_kw_n(2, "smart") {
                    self.bump();
                    self.bump();
                    self.bump();
                    None
                } else if self.eat_kw("project") {
                    Some(self.comma_list(&Tok::Eof, |p| p.expr())?)
                } else {
                    None
                };
                K::Find {
                    params,
                    tables,
                    predicate,
                    project,
                }
            }
            "print" => K::Print(if self.at_operator_end() {
                Vec::new()
            } else {
                self.named_exprs()?
            }),
            "datatable" => {
                let _params = self.op_params()?;
                self.expect(&Tok::LParen)?;
                let schema = self.column_decls()?;
                self.expect(&Tok::RParen)?;
                let values = self.bracket_values()?;
                K::Datatable { schema, values }
            }
            "externaldata" | "external_data" => {
                let _params = self.op_params()?;
                self.expect(&Tok::LParen)?;
                let schema = self.column_decls()?;
                self.expect(&Tok::RParen)?;
                let uris = self.bracket_values()?;
                let with = if self.eat_kw("with") {
                    self.paren_params()?
                } else {
                    Vec::new()
                };
                K::ExternalData { schema, uris, with }
            }
            "range" => {
                let column = self.ident("a column name")?;
                self.expect_kw("from")?;
                let from = self.expr()?;
                self.expect_kw("to")?;
                let to = self.expr()?;
                self.expect_kw("step")?;
                K::Range {
                    column,
                    from,
                    to,
                    step: self.expr()?,
                }
            }
            "getschema" => K::Getschema,
            "sample" => K::Sample(self.expr()?),
            "sample-distinct" => {
                let count = self.expr()?;
                self.expect_kw("of")?;
                K::SampleDistinct {
                    count,
                    of: self.expr()?,
                }
            }
            "scan" => self.scan()?,
            "partition" => {
                let params = self.op_params()?;
                self.expect_kw("by")?;
                let by = Expr::Name(self.ident("a column name")?);
                let _more = self.op_params()?;
                let body = if self.at(&Tok::LBrace) {
                    self.bump();
                    let inner = self.nested(|p| p.pipe_expr())?;
                    self.expect(&Tok::RBrace)?;
                    SubQuery::Braced(Box::new(inner))
                } else {
                    SubQuery::Ops(self.paren_sub_pipeline()?)
                };
                K::Partition { params, by, body }
            }
            "facet" => {
                self.expect_kw("by")?;
                let by = self.comma_list(&Tok::Eof, |p| p.column_pattern())?;
                let with = if self.eat_kw("with") {
                    self.paren_sub_pipeline()?
                } else {
                    Vec::new()
                };
                K::Facet { by, with }
            }
            "fork" => {
                let mut branches = Vec::new();
                loop {
                    let name = if matches!(self.peek(), Tok::Ident(_)) && matches!(self.peek_at(1), Tok::Assign) {
                        let n = self.ident("a name")?;
                        self.bump();
                        Some(n)
                    } else {
                        None
                    };
                    if !self.at(&Tok::LParen) {
                        if name.is_some() || branches.is_empty() {
                            return Err(self.unexpected(&["`(`"]));
                        }
                        break;
                    }
                    branches.push((name, self.paren_sub_pipeline()?));
                }
                K::Fork(branches)
            }
            "consume" => K::Consume(self.op_params()?),
            "reduce" => {
                let params = self.op_params()?;
                self.expect_kw("by")?;
                let by = self.expr()?;
                let with = if self.eat_kw("with") {
                    self.comma_list(&Tok::Eof, |p| p.op_param())?
                } else {
                    Vec::new()
                };
                K::Reduce { params, by, with }
            }
            "assert-schema" => K::AssertSchema(self.param_type()?),
            "make-graph"
            | "graph-match"
            | "graph-merge"
            | "graph-to-table"
            | "graph-shortest-paths"
            | "graph-mark-components" => {
                return Err(Diagnostic::new(
                    format!("the graph operator `{name}` is not supported"),
                    name_span,
                ));
            }
            _ => {
                let mut d = Diagnostic::new(format!("unknown tabular operator `{name}`"), name_span)
                    .expected(["a tabular operator"]);
                if let Some(s) = closest(name, OPERATOR_NAMES.iter().copied()) {
                    d = d.help(format!("did you mean `{s}`?"));
                }
                return Err(d);
            }
        })
    }

    fn at_operator_end(&self) -> bool {
        matches!(
            self.peek(),
            Tok::Pipe | Tok::Semi | Tok::Eof | Tok::RParen | Tok::RBrace | Tok::RBracket
        )
    }

    /// `name=value` parameters before an operator's main arguments (`kind=inner`, `hint.x=y`).
    fn op_params(&mut self) -> PResult<Vec<OpParam>> {
        let mut params = Vec::new();
        while let Tok::Ident(word) = self.peek() {
            let known = matches!(
                word.as_str(),
                "kind"
                    | "withsource"
                    | "isfuzzy"
                    | "bagexpansion"
                    | "with_itemindex"
                    | "with_match_id"
                    | "flags"
                    | "hint"
                    | "decodeblocks"
                    | "ignoreFirstRecord"
                    | "with_source"
                    | "datascope"
                    | "source_column_name"
            ) || word.starts_with("hint");
            let is_param = known
                && (matches!(self.peek_at(1), Tok::Assign)
                    || (matches!(self.peek_at(1), Tok::Dot) && matches!(self.peek_at(3), Tok::Assign)));
            if !is_param {
                break;
            }
            params.push(self.op_param()?);
        }
        Ok(params)
    }

    fn op_param(&mut self) -> PResult<OpParam> {
        let name = self.dotted_ident("a parameter name")?;
        self.expect(&Tok::Assign)?;
        // Values are names or literals, never calls: `kind=inner (T)` is a name and a sub-query.
        let value = match self.peek().clone() {
            Tok::Ident(v) | Tok::BracketName(v) if !matches!(v.as_str(), "true" | "false") => {
                let span = self.bump().span;
                Expr::Name(Ident::new(v, span))
            }
            Tok::Minus => self.unary()?,
            _ => self.primary()?,
        };
        Ok(OpParam { name, value })
    }

    /// `(name = value, ...)`
    fn paren_params(&mut self) -> PResult<Vec<OpParam>> {
        self.expect(&Tok::LParen)?;
        let params = self.comma_list(&Tok::RParen, |p| p.op_param())?;
        self.expect(&Tok::RParen)?;
        Ok(params)
    }

    /// `[ v, v, ... ]` (datatable rows, externaldata URIs).
    fn bracket_values(&mut self) -> PResult<Vec<Expr>> {
        if let Tok::BracketName(s) = self.peek().clone() {
            let span = self.bump().span;
            return Ok(vec![Expr::Literal(
                Literal::String {
                    value: s,
                    obfuscated: false,
                },
                span,
            )]);
        }
        self.expect(&Tok::LBracket)?;
        let mut values = Vec::new();
        while !self.at(&Tok::RBracket) {
            values.push(self.expr()?);
            if !self.eat(&Tok::Comma) {
                break;
            }
        }
        self.expect(&Tok::RBracket)?;
        Ok(values)
    }

    /// `( op | op ... )` — a pipeline without a source (mv-apply, partition, facet, fork).
    fn paren_sub_pipeline(&mut self) -> PResult<Vec<Operator>> {
        self.expect(&Tok::LParen)?;
        let ops = self.nested(|p| {
            let mut ops = vec![p.operator()?];
            while p.eat(&Tok::Pipe) {
                ops.push(p.operator()?);
            }
            Ok(ops)
        })?;
        self.expect(&Tok::RParen)?;
        Ok(ops)
    }

    /// `in (T1, T2)` of search / find.
    fn in_tables(&mut self) -> PResult<Vec<Expr>> {
        if !(self.at_kw("in") && matches!(self.peek_at(1), Tok::LParen)) {
            return Ok(Vec::new());
        }
        self.bump();
        self.expect(&Tok::LParen)?;
        let tables = self.comma_list(&Tok::RParen, |p| p.union_item())?;
        self.expect(&Tok::RParen)?;
        Ok(tables)
    }

    /// The right side of join / lookup: a table name, call, or parenthesised query.
    fn join_right(&mut self) -> PResult<Expr> {
        self.postfix()
    }

    /// A union operand: a name (wildcards allowed), a call, or a parenthesised query.
    fn union_item(&mut self) -> PResult<Expr> {
        if self.at(&Tok::Star) || (matches!(self.peek(), Tok::Ident(_)) && self.at_pattern_star()) {
            return self.name_pattern();
        }
        self.postfix()
    }

    fn at_pattern_star(&self) -> bool {
        matches!(self.peek_at(1), Tok::Star) && self.adjacent(1)
    }

    /// A column or table name pattern such as `Device*`, `*Id`, `a*b`.
    fn name_pattern(&mut self) -> PResult<Expr> {
        let start = self.span();
        let mut text = String::new();
        let mut first = true;
        loop {
            if !first && !self.adjacent(0) {
                break;
            }
            match self.peek().clone() {
                Tok::Star => text.push('*'),
                Tok::Ident(s) => text.push_str(&s),
                Tok::Long(n) if !first => text.push_str(&n.to_string()),
                _ => break,
            }
            self.bump();
            first = false;
        }
        if text.is_empty() {
            return Err(self.unexpected(&["a name"]));
        }
        let span = start.to(self.prev_span());
        Ok(if text.contains('*') {
            Expr::Pattern(text, span)
        } else {
            Expr::Name(Ident::new(text, span))
        })
    }

    /// A column in project-away / project-keep / project-reorder: name, pattern, or expression.
    fn column_pattern(&mut self) -> PResult<Expr> {
        if self.at(&Tok::Star) || (matches!(self.peek(), Tok::Ident(_)) && self.at_pattern_star()) {
            return self.name_pattern();
        }
        self.expr()
    }

    fn column_patterns(&mut self) -> PResult<Vec<Expr>> {
        self.comma_list(&Tok::Eof, |p| p.column_pattern())
    }

    fn sort_dir_word(&mut self) -> Option<SortDir> {
        if self.eat_kw("asc") || self.eat_kw("granny-asc") {
            Some(SortDir::Asc)
        } else if self.eat_kw("desc") || self.eat_kw("granny-desc") {
            Some(SortDir::Desc)
        } else {
            None
        }
    }

    fn sort_key(&mut self) -> PResult<SortKey> {
        let expr = self.expr()?;
        let dir = self.sort_dir_word();
        let nulls = if self.at_kw("nulls") {
            self.bump();
            if self.eat_kw("first") {
                Some(NullsOrder::First)
            } else if self.eat_kw("last") {
                Some(NullsOrder::Last)
            } else {
                return Err(self.unexpected(&["`first`", "`last`"]));
            }
        } else {
            None
        };
        Ok(SortKey { expr, dir, nulls })
    }

    fn top_nested_level(&mut self) -> PResult<TopNestedLevel> {
        let count = if self.at_kw("of") { None } else { Some(self.expr()?) };
        self.expect_kw("of")?;
        let of = self.named_expr()?;
        let others = if self.at_kw("with") && self.at_kw_n(1, "others") {
            self.bump();
            self.bump();
            self.expect(&Tok::Assign)?;
            Some(self.expr()?)
        } else {
            None
        };
        self.expect_kw("by")?;
        let by = self.named_expr()?;
        let dir = self.sort_dir_word();
        Ok(TopNestedLevel {
            count,
            of,
            others,
            by,
            dir,
        })
    }

    /// `[name =] expr [to typeof(type)]`
    fn expand_item(&mut self) -> PResult<ExpandItem> {
        let name =
            if matches!(self.peek(), Tok::Ident(_) | Tok::BracketName(_)) && matches!(self.peek_at(1), Tok::Assign) {
                let n = self.ident("a column name")?;
                self.bump();
                Some(n)
            } else {
                None
            };
        let expr = self.expr()?;
        let to_type = if self.at_kw("to") && self.at_kw_n(1, "typeof") {
            self.bump();
            self.bump();
            self.expect(&Tok::LParen)?;
            let t = self.type_name()?;
            self.expect(&Tok::RParen)?;
            Some(t)
        } else {
            None
        };
        Ok(ExpandItem { name, expr, to_type })
    }

    fn parse_pattern(&mut self) -> PResult<Vec<ParsePart>> {
        let mut parts = Vec::new();
        loop {
            match self.peek().clone() {
                Tok::Str { value, .. } => {
                    let span = self.bump().span;
                    parts.push(ParsePart::Literal(value, span));
                }
                Tok::Star => parts.push(ParsePart::Star(self.bump().span)),
                Tok::Ident(_) | Tok::BracketName(_) => {
                    let name = self.ident("a column name")?;
                    let ty = if self.eat(&Tok::Colon) {
                        Some(self.type_name()?)
                    } else {
                        None
                    };
                    parts.push(ParsePart::Column { name, ty });
                }
                _ => break,
            }
        }
        if parts.is_empty() {
            return Err(self.unexpected(&["a parse pattern"]));
        }
        Ok(parts)
    }

    fn make_series(&mut self) -> PResult<OperatorKind> {
        let params = self.op_params()?;
        let aggregates = self.comma_list(&Tok::Eof, |p| {
            let name = if matches!(p.peek(), Tok::Ident(_) | Tok::BracketName(_)) && matches!(p.peek_at(1), Tok::Assign)
            {
                let n = p.ident("a column name")?;
                p.bump();
                Some(n)
            } else {
                None
            };
            let expr = p.expr()?;
            let default = if p.at_kw("default") && matches!(p.peek_at(1), Tok::Assign) {
                p.bump();
                p.bump();
                Some(p.expr()?)
            } else {
                None
            };
            Ok(SeriesAgg { name, expr, default })
        })?;
        self.expect_kw("on")?;
        // Not a full expression: `on T in range(...)` must not read `in` as the list operator.
        let on = self.additive()?;
        let range = if self.at_kw("in") && self.at_kw_n(1, "range") {
            self.bump();
            self.bump();
            self.expect(&Tok::LParen)?;
            let start = self.expr()?;
            self.expect(&Tok::Comma)?;
            let stop = self.expr()?;
            self.expect(&Tok::Comma)?;
            let step = self.expr()?;
            self.expect(&Tok::RParen)?;
            SeriesRange::In { start, stop, step }
        } else {
            let from = if self.eat_kw("from") { Some(self.expr()?) } else { None };
            let to = if self.eat_kw("to") { Some(self.expr()?) } else { None };
            self.expect_kw("step")?;
            SeriesRange::FromTo {
                from,
                to,
                step: self.expr()?,
            }
        };
        let by = if self.eat_kw("by") {
            self.named_exprs()?
        } else {
            Vec::new()
        };
        Ok(OperatorKind::MakeSeries {
            params,
            aggregates,
            on,
            range,
            by,
        })
    }

    fn scan(&mut self) -> PResult<OperatorKind> {
        let params = self.op_params()?;
        let mut order_by = Vec::new();
        let mut partition_by = Vec::new();
        loop {
            if self.at_kw("order") && self.at_kw_n(1, "by") {
                self.bump();
                self.bump();
                order_by = self.comma_list(&Tok::Eof, |p| p.sort_key())?;
            } else if self.at_kw("partition") && self.at_kw_n(1, "by") {
                self.bump();
                self.bump();
                partition_by = self.comma_list(&Tok::Eof, |p| p.expr())?;
            } else {
                break;
            }
        }
        let declare = if self.eat_kw("declare") {
            self.param_list()?
        } else {
            Vec::new()
        };
        self.expect_kw("with")?;
        self.expect(&Tok::LParen)?;
        let mut steps = Vec::new();
        while self.eat_kw("step") {
            let name = self.ident("a step name")?;
            let output = if self.at_kw("output") && matches!(self.peek_at(1), Tok::Assign) {
                self.bump();
                self.bump();
                Some(self.ident("`all`, `last` or `none`")?)
            } else {
                None
            };
            self.expect(&Tok::Colon)?;
            let condition = self.expr()?;
            let assignments = if self.eat(&Tok::FatArrow) {
                self.named_exprs()?
            } else {
                Vec::new()
            };
            self.expect(&Tok::Semi)?;
            steps.push(ScanStep {
                name,
                output,
                condition,
                assignments,
            });
        }
        if steps.is_empty() {
            return Err(self.unexpected(&["`step`"]));
        }
        self.expect(&Tok::RParen)?;
        Ok(OperatorKind::Scan {
            params,
            order_by,
            partition_by,
            declare,
            steps,
        })
    }

    fn named_exprs(&mut self) -> PResult<Vec<NamedExpr>> {
        self.comma_list(&Tok::Eof, |p| p.named_expr())
    }

    /// `name = expr`, `(a, b) = expr`, or `expr`.
    fn named_expr(&mut self) -> PResult<NamedExpr> {
        if matches!(self.peek(), Tok::Ident(_) | Tok::BracketName(_)) && matches!(self.peek_at(1), Tok::Assign) {
            let name = self.ident("a column name")?;
            self.bump();
            let expr = self.expr()?;
            return Ok(NamedExpr {
                names: vec![name],
                expr,
            });
        }
        if self.at(&Tok::LParen) && self.is_tuple_target() {
            self.bump();
            let names = self.comma_list(&Tok::RParen, |p| p.ident("a column name"))?;
            self.expect(&Tok::RParen)?;
            self.expect(&Tok::Assign)?;
            let expr = self.expr()?;
            return Ok(NamedExpr { names, expr });
        }
        Ok(NamedExpr {
            names: Vec::new(),
            expr: self.expr()?,
        })
    }

    /// Whether `(` starts `(a, b, ...) =`.
    fn is_tuple_target(&self) -> bool {
        let mut i = 1;
        loop {
            if !matches!(self.peek_at(i), Tok::Ident(_) | Tok::BracketName(_)) {
                return false;
            }
            i += 1;
            match self.peek_at(i) {
                Tok::Comma => i += 1,
                Tok::RParen => return matches!(self.peek_at(i + 1), Tok::Assign),
                _ => return false,
            }
        }
    }

    // ----- expressions --------------------------------------------------------------------

    fn expr(&mut self) -> PResult<Expr> {
        self.logical("or", BinaryOp::Or, |p| {
            p.logical("and", BinaryOp::And, |p| p.comparison())
        })
    }

    fn logical(&mut self, kw: &str, op: BinaryOp, next: impl Fn(&mut Self) -> PResult<Expr>) -> PResult<Expr> {
        let first = next(self)?;
        if !self.at_kw(kw) {
            return Ok(first);
        }
        let mut operands = vec![first];
        while self.eat_kw(kw) {
            operands.push(next(self)?);
        }
        let span = operands[0].span().to(self.prev_span());
        Ok(Expr::Logical { op, operands, span })
    }

    /// Reads a comparison or string operator at the cursor, without consuming it.
    fn comparison_op(&self) -> Option<(CompOp, usize)> {
        let simple = |op| Some((CompOp::Binary(op), 1));
        match self.peek() {
            Tok::EqEq => simple(BinaryOp::Eq),
            Tok::NotEq => simple(BinaryOp::NotEq),
            Tok::Lt => simple(BinaryOp::Lt),
            Tok::Le => simple(BinaryOp::Le),
            Tok::Gt => simple(BinaryOp::Gt),
            Tok::Ge => simple(BinaryOp::Ge),
            Tok::EqTilde => simple(BinaryOp::EqCi),
            // In `search`, `Column:"term"` is `Column has "term"`.
            Tok::Colon if self.in_search => simple(BinaryOp::Str(StringOp {
                kind: StringOpKind::Has,
                negated: false,
                case_sensitive: false,
            })),
            Tok::BangTilde => simple(BinaryOp::NotEqCi),
            Tok::Ident(word) => self.word_op(word, false, 0),
            Tok::Bang if self.adjacent(1) => match self.peek_at(1) {
                Tok::Ident(word) => self.word_op(word, true, 1).map(|(op, n)| (op, n + 1)),
                _ => None,
            },
            _ => None,
        }
    }

    /// A word operator (`has`, `in~`, `between`, ...) at offset `at`, negated by a preceding `!`.
    fn word_op(&self, word: &str, negated: bool, at: usize) -> Option<(CompOp, usize)> {
        match word {
            "in" => {
                let ci = matches!(self.peek_at(at + 1), Tok::Tilde) && self.adjacent(at + 1);
                let op = match (negated, ci) {
                    (false, false) => ListOp::In,
                    (true, false) => ListOp::NotIn,
                    (false, true) => ListOp::InCi,
                    (true, true) => ListOp::NotInCi,
                };
                Some((CompOp::List(op), 1 + usize::from(ci)))
            }
            "has_any" if !negated => Some((CompOp::List(ListOp::HasAny), 1)),
            "has_all" if !negated => Some((CompOp::List(ListOp::HasAll), 1)),
            "between" => Some((CompOp::Between(negated), 1)),
            "matches" if !negated && matches!(self.peek_at(at + 1), Tok::Ident(r) if r == "regex") => Some((
                CompOp::Binary(BinaryOp::Str(StringOp {
                    kind: StringOpKind::MatchesRegex,
                    negated: false,
                    case_sensitive: true,
                })),
                2,
            )),
            _ => {
                let text = if negated { format!("!{word}") } else { word.to_string() };
                // Keywords are case-sensitive in KQL; only the exact lowercase spelling is an operator.
                if text.chars().any(|c| c.is_ascii_uppercase()) {
                    return None;
                }
                if negated && word.starts_with("not") {
                    return None;
                }
                StringOp::from_keyword(&text).map(|op| (CompOp::Binary(BinaryOp::Str(op)), 1))
            }
        }
    }

    fn comparison(&mut self) -> PResult<Expr> {
        let mut left = self.additive()?;
        let mut chain = 0usize;
        while let Some((op, len)) = self.comparison_op() {
            chain += 1;
            if self.depth + chain >= MAX_DEPTH {
                return Err(Diagnostic::new(
                    format!("query nests too deeply (more than {MAX_DEPTH} levels)"),
                    self.span(),
                ));
            }
            for _ in 0..len {
                self.bump();
            }
            left = match op {
                CompOp::Binary(op) => {
                    let right = self.additive()?;
                    let span = left.span().to(right.span());
                    Expr::Binary {
                        op,
                        left: Box::new(left),
                        right: Box::new(right),
                        span,
                    }
                }
                CompOp::List(op) => {
                    let items = self.list_operand()?;
                    let span = left.span().to(self.prev_span());
                    Expr::List {
                        op,
                        expr: Box::new(left),
                        items,
                        span,
                    }
                }
                CompOp::Between(negated) => {
                    self.expect(&Tok::LParen)?;
                    let low = self.additive()?;
                    self.expect(&Tok::DotDot)?;
                    let high = self.additive()?;
                    self.expect(&Tok::RParen)?;
                    let span = left.span().to(self.prev_span());
                    Expr::Between {
                        expr: Box::new(left),
                        negated,
                        low: Box::new(low),
                        high: Box::new(high),
                        span,
                    }
                }
            };
        }
        Ok(left)
    }

    /// `( item, ... )` after `in` / `has_any`; an item may be a sub-query or a dynamic array.
    fn list_operand(&mut self) -> PResult<Vec<Expr>> {
        if !self.at(&Tok::LParen) {
            // `x in dynamic_array_name` is not KQL; the list must be parenthesised.
            return Err(self.unexpected(&["`(`"]));
        }
        self.bump();
        let items = self.nested(|p| p.comma_list(&Tok::RParen, |p| p.pipe_expr()))?;
        self.expect(&Tok::RParen)?;
        Ok(items)
    }

    fn binary_level(&mut self, ops: &[(Tok, BinaryOp)], next: impl Fn(&mut Self) -> PResult<Expr>) -> PResult<Expr> {
        let mut left = next(self)?;
        let mut chain = 0usize;
        while let Some(op) = ops.iter().find(|(t, _)| self.at(t)).map(|(_, op)| *op) {
            chain += 1;
            if self.depth + chain >= MAX_DEPTH {
                return Err(Diagnostic::new(
                    format!("query nests too deeply (more than {MAX_DEPTH} levels)"),
                    self.span(),
                ));
            }
            self.bump();
            let right = next(self)?;
            let span = left.span().to(right.span());
            left = Expr::Binary {
                op,
                left: Box::new(left),
                right: Box::new(right),
                span,
            };
        }
        Ok(left)
    }

    fn additive(&mut self) -> PResult<Expr> {
        self.binary_level(&[(Tok::Plus, BinaryOp::Add), (Tok::Minus, BinaryOp::Sub)], |p| {
            p.multiplicative()
        })
    }

    fn multiplicative(&mut self) -> PResult<Expr> {
        self.binary_level(
            &[
                (Tok::Star, BinaryOp::Mul),
                (Tok::Slash, BinaryOp::Div),
                (Tok::Percent, BinaryOp::Mod),
            ],
            |p| p.unary(),
        )
    }

    fn unary(&mut self) -> PResult<Expr> {
        let op = match self.peek() {
            Tok::Minus => UnaryOp::Neg,
            Tok::Plus => UnaryOp::Plus,
            _ => return self.postfix(),
        };
        let start = self.bump().span;
        self.nested(|p| {
            let expr = p.unary()?;
            let span = start.to(expr.span());
            Ok(Expr::Unary {
                op,
                expr: Box::new(expr),
                span,
            })
        })
    }

    fn postfix(&mut self) -> PResult<Expr> {
        let mut e = self.primary()?;
        let mut chain = 0usize;
        loop {
            chain += 1;
            if self.depth + chain >= MAX_DEPTH {
                return Err(Diagnostic::new(
                    format!("query nests too deeply (more than {MAX_DEPTH} levels)"),
                    self.span(),
                ));
            }
            match self.peek().clone() {
                Tok::Dot if matches!(self.peek_at(1), Tok::LBracket) => {
                    // `d.[0]` indexes like `d[0]`.
                    self.bump();
                }
                Tok::Dot => {
                    self.bump();
                    let name = match self.peek().clone() {
                        Tok::Ident(n) | Tok::BracketName(n) => Ident::new(n, self.bump().span),
                        Tok::Long(n) => Ident::new(n.to_string(), self.bump().span),
                        Tok::RawLiteral { .. } => {
                            return Err(Diagnostic::new("a literal cannot follow `.`", self.span())
                                .expected(["a property name"]));
                        }
                        _ => return Err(self.unexpected(&["a property name"])),
                    };
                    if self.at(&Tok::LParen) {
                        let args = self.call_args()?;
                        let span = e.span().to(self.prev_span());
                        e = Expr::Call {
                            receiver: Some(Box::new(e)),
                            name,
                            args,
                            span,
                        };
                    } else {
                        let span = e.span().to(name.span);
                        e = Expr::Member {
                            expr: Box::new(e),
                            name,
                            span,
                        };
                    }
                }
                Tok::LBracket => {
                    self.bump();
                    let index = self.nested(|p| p.expr())?;
                    self.expect(&Tok::RBracket)?;
                    let span = e.span().to(self.prev_span());
                    e = Expr::Index {
                        expr: Box::new(e),
                        index: Box::new(index),
                        span,
                    };
                }
                Tok::BracketName(key) => {
                    let kspan = self.bump().span;
                    let index = Expr::Literal(
                        Literal::String {
                            value: key,
                            obfuscated: false,
                        },
                        kspan,
                    );
                    let span = e.span().to(kspan);
                    e = Expr::Index {
                        expr: Box::new(e),
                        index: Box::new(index),
                        span,
                    };
                }
                _ => return Ok(e),
            }
        }
    }

    fn call_args(&mut self) -> PResult<Vec<Arg>> {
        self.expect(&Tok::LParen)?;
        let args = self.nested(|p| {
            p.comma_list(&Tok::RParen, |p| {
                if matches!(p.peek(), Tok::Ident(_) | Tok::BracketName(_)) && matches!(p.peek_at(1), Tok::Assign) {
                    let name = p.ident("a parameter name")?;
                    p.bump();
                    return Ok(Arg::Named(name, p.pipe_expr()?));
                }
                Ok(Arg::Positional(p.pipe_expr()?))
            })
        })?;
        self.expect(&Tok::RParen)?;
        Ok(args)
    }

    fn primary(&mut self) -> PResult<Expr> {
        let start = self.span();
        match self.peek().clone() {
            Tok::Str { .. } => {
                let mut value = String::new();
                let mut obf = false;
                while let Tok::Str { value: v, obfuscated } = self.peek().clone() {
                    value.push_str(&v);
                    obf |= obfuscated;
                    self.bump();
                }
                Ok(Expr::Literal(
                    Literal::String { value, obfuscated: obf },
                    start.to(self.prev_span()),
                ))
            }
            Tok::Long(n) => {
                self.bump();
                Ok(Expr::Literal(Literal::Long(Some(n)), start))
            }
            Tok::Real(r) => {
                self.bump();
                Ok(Expr::Literal(Literal::Real(Some(r)), start))
            }
            Tok::Timespan(t) => {
                self.bump();
                Ok(Expr::Literal(Literal::Timespan(Some(t)), start))
            }
            Tok::RawLiteral { kind, text } => {
                self.bump();
                Ok(Expr::Literal(raw_literal(kind, &text, start)?, start))
            }
            Tok::Star => {
                self.bump();
                Ok(Expr::Star(start))
            }
            Tok::LParen => {
                self.bump();
                let inner = self.pipe_expr()?;
                self.expect(&Tok::RParen)?;
                Ok(Expr::Paren(Box::new(inner), start.to(self.prev_span())))
            }
            Tok::BracketName(name) => {
                self.bump();
                self.name_or_call(Ident::new(name, start))
            }
            Tok::Ident(word) => {
                if let Some(lit) = self.typed_literal(&word)? {
                    return Ok(Expr::Literal(lit, start.to(self.prev_span())));
                }
                self.bump();
                self.name_or_call(Ident::new(word, start))
            }
            _ => Err(self.unexpected(&["an expression"])),
        }
    }

    /// A name just read: a call when `(` follows, else a plain name.
    fn name_or_call(&mut self, name: Ident) -> PResult<Expr> {
        if !self.at(&Tok::LParen) {
            return Ok(Expr::Name(name));
        }
        let start = name.span;
        let args = self.call_args()?;
        Ok(Expr::Call {
            receiver: None,
            name,
            args,
            span: start.to(self.prev_span()),
        })
    }

    /// `true`, `int(5)`, `real(nan)`, `dynamic([...])`, ... at the cursor.
    fn typed_literal(&mut self, word: &str) -> PResult<Option<Literal>> {
        match word {
            "true" | "True" | "TRUE" => {
                self.bump();
                return Ok(Some(Literal::Bool(Some(true))));
            }
            "false" | "False" | "FALSE" => {
                self.bump();
                return Ok(Some(Literal::Bool(Some(false))));
            }
            _ => {}
        }
        if !matches!(self.peek_at(1), Tok::LParen) {
            return Ok(None);
        }
        let kind = match word {
            "bool" | "boolean" | "int" | "long" | "real" | "double" | "decimal" | "dynamic" => word,
            _ => return Ok(None),
        };
        self.bump();
        self.bump();
        let lit = if kind == "dynamic" {
            Literal::Dynamic(self.dynamic_value()?)
        } else {
            let null = self.at_kw("null");
            if null {
                self.bump();
            }
            let neg = !null && self.at(&Tok::Minus);
            if neg || (!null && self.at(&Tok::Plus)) {
                self.bump();
            }
            let tok = if null { Tok::Eof } else { self.bump().tok };
            let bad = |p: &Self| Diagnostic::new(format!("invalid {kind} literal"), p.prev_span());
            match kind {
                "bool" | "boolean" => Literal::Bool(match tok {
                    Tok::Eof => None,
                    Tok::Ident(w) if w.eq_ignore_ascii_case("true") => Some(true),
                    Tok::Ident(w) if w.eq_ignore_ascii_case("false") => Some(false),
                    Tok::Long(1) => Some(true),
                    Tok::Long(0) => Some(false),
                    _ => return Err(bad(self)),
                }),
                "int" => Literal::Int(match tok {
                    Tok::Eof => None,
                    Tok::Long(n) => {
                        // Values up to 0xFFFFFFFF are accepted as 32-bit patterns (`int(0xf090013d)`).
                        let v = if neg { -n } else { n };
                        match i32::try_from(v) {
                            Ok(i) => Some(i),
                            Err(_) if (0..=u32::MAX as i64).contains(&v) => Some(v as u32 as i32),
                            Err(_) => return Err(bad(self)),
                        }
                    }
                    _ => return Err(bad(self)),
                }),
                "long" => Literal::Long(match tok {
                    Tok::Eof => None,
                    Tok::Long(n) => Some(if neg { -n } else { n }),
                    _ => return Err(bad(self)),
                }),
                "decimal" => Literal::Decimal(match tok {
                    Tok::Eof => None,
                    Tok::Long(n) => Some(format!("{}{n}", if neg { "-" } else { "" })),
                    Tok::Real(r) => Some(format!("{}{r:?}", if neg { "-" } else { "" })),
                    _ => return Err(bad(self)),
                }),
                _ => Literal::Real(match tok {
                    Tok::Eof => None,
                    Tok::Long(n) => Some(if neg { -(n as f64) } else { n as f64 }),
                    Tok::Real(r) => Some(if neg { -r } else { r }),
                    Tok::Ident(w) if w.eq_ignore_ascii_case("nan") => Some(f64::NAN),
                    Tok::Ident(w) if w.eq_ignore_ascii_case("inf") => {
                        Some(if neg { f64::NEG_INFINITY } else { f64::INFINITY })
                    }
                    _ => return Err(bad(self)),
                }),
            }
        };
        self.expect(&Tok::RParen)?;
        Ok(Some(lit))
    }

    /// The inside of `dynamic(...)`: JSON-like arrays, property bags and scalar literals.
    fn dynamic_value(&mut self) -> PResult<Dynamic> {
        self.nested(|p| {
            let start = p.span();
            Ok(match p.peek().clone() {
                Tok::Ident(w) if w == "null" => {
                    p.bump();
                    Dynamic::Null
                }
                Tok::LBracket => {
                    p.bump();
                    let items = p.comma_list(&Tok::RBracket, |p| p.dynamic_value())?;
                    p.expect(&Tok::RBracket)?;
                    Dynamic::Array(items)
                }
                Tok::BracketName(s) => {
                    p.bump();
                    Dynamic::Array(vec![Dynamic::Scalar(Box::new(Literal::String {
                        value: s,
                        obfuscated: false,
                    }))])
                }
                Tok::LBrace => {
                    p.bump();
                    let items = p.comma_list(&Tok::RBrace, |p| {
                        let key = match p.peek().clone() {
                            Tok::Str { value, .. } => value,
                            Tok::Ident(w) => w,
                            _ => return Err(p.unexpected(&["a property name"])),
                        };
                        p.bump();
                        p.expect(&Tok::Colon)?;
                        Ok((key, p.dynamic_value()?))
                    })?;
                    p.expect(&Tok::RBrace)?;
                    Dynamic::Object(items)
                }
                Tok::Minus => {
                    p.bump();
                    match p.bump().tok {
                        Tok::Long(n) => Dynamic::Scalar(Box::new(Literal::Long(Some(-n)))),
                        Tok::Real(r) => Dynamic::Scalar(Box::new(Literal::Real(Some(-r)))),
                        Tok::Timespan(t) => Dynamic::Scalar(Box::new(Literal::Timespan(Some(-t)))),
                        _ => return Err(Diagnostic::new("expected a number after `-`", start)),
                    }
                }
                _ => match p.expr()? {
                    Expr::Literal(l, _) => Dynamic::Scalar(Box::new(l)),
                    other => {
                        return Err(
                            Diagnostic::new("a dynamic literal holds only literal values", other.span())
                                .help("build the value with pack_array() or bag_pack() instead"),
                        );
                    }
                },
            })
        })
    }
}

enum CompOp {
    Binary(BinaryOp),
    List(ListOp),
    Between(bool),
}

/// The value of `datetime(...)`, `timespan(...)` or `guid(...)` from its raw text.
fn raw_literal(kind: RawKind, text: &str, span: Span) -> PResult<Literal> {
    let unquoted = text.trim();
    let null = unquoted.is_empty() || unquoted == "null";
    Ok(match kind {
        RawKind::Datetime => Literal::Datetime((!null).then(|| unquoted.to_string())),
        RawKind::Guid => Literal::Guid((!null).then(|| unquoted.to_string())),
        RawKind::Timespan => {
            if null {
                Literal::Timespan(None)
            } else {
                Literal::Timespan(Some(
                    parse_timespan_text(unquoted)
                        .ok_or_else(|| Diagnostic::new(format!("invalid timespan literal `{text}`"), span))?,
                ))
            }
        }
    })
}

/// Timespan text inside `time(...)`: `1d`, `1.5h`, `2`, `[-][d.]hh:mm[:ss[.fffffff]]`.
pub fn parse_timespan_text(text: &str) -> Option<i64> {
    let (neg, body) = match text.strip_prefix('-') {
        Some(b) => (true, b.trim()),
        None => (false, text),
    };
    let ticks = if body.contains(':') {
        let (days, clock) = match body.split_once(':') {
            Some((first, _)) if first.contains('.') => {
                let (d, rest) = body.split_once('.')?;
                (d.parse::<i64>().ok()?, rest)
            }
            _ => (0, body),
        };
        let parts: Vec<&str> = clock.split(':').collect();
        if parts.len() < 2 || parts.len() > 3 {
            return None;
        }
        let h: i64 = parts[0].parse().ok()?;
        let m: i64 = parts[1].parse().ok()?;
        let (s, frac) = match parts.get(2) {
            Some(sec) => match sec.split_once('.') {
                Some((s, f)) => (s.parse::<i64>().ok()?, f),
                None => (sec.parse::<i64>().ok()?, ""),
            },
            None => (0, ""),
        };
        if !frac.bytes().all(|b| b.is_ascii_digit()) || frac.len() > 7 {
            return None;
        }
        let frac_ticks = if frac.is_empty() {
            0
        } else {
            format!("{frac:0<7}").parse::<i64>().ok()?
        };
        ((days * 24 + h) * 60 + m)
            .checked_mul(60)?
            .checked_add(s)?
            .checked_mul(TICKS_PER_SECOND)?
            .checked_add(frac_ticks)?
    } else {
        let split = body.find(|c: char| c.is_ascii_alphabetic()).unwrap_or(body.len());
        let (num, unit) = body.split_at(split);
        let unit = if unit.is_empty() {
            86_400 * TICKS_PER_SECOND
        } else {
            timespan_unit(unit)?
        };
        let n: f64 = num.trim().parse().ok()?;
        let t = n * unit as f64;
        if !t.is_finite() || t.abs() >= i64::MAX as f64 {
            return None;
        }
        t.round() as i64
    };
    Some(if neg { -ticks } else { ticks })
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
