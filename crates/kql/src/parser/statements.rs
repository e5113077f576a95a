//! Statements: `let`, `set`, `declare query_parameters`, `alias database`, `restrict access`,
//! query statements, and function definitions with their parameter lists.

use super::{PResult, Parser};
use crate::ast::*;
use crate::lexer::Tok;

impl Parser {
    pub(super) fn query(&mut self) -> Query {
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
        if self.eat_kw_pair("declare", "query_parameters") {
            let params = self.param_list()?;
            return Ok(Statement::DeclareQueryParameters {
                params,
                span: start.to(self.prev_span()),
            });
        }
        if self.eat_kw_pair("alias", "database") {
            let name = self.ident("a database alias name")?;
            self.expect(&Tok::Assign)?;
            let value = self.expr()?;
            return Ok(Statement::Alias {
                name,
                value,
                span: start.to(self.prev_span()),
            });
        }
        if self.eat_kw_pair("restrict", "access") {
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
    pub(super) fn param_list(&mut self) -> PResult<Vec<Param>> {
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

    pub(super) fn param_type(&mut self) -> PResult<ParamType> {
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

    pub(super) fn type_name(&mut self) -> PResult<Ident> {
        // datetime / timespan / guid are lexed as identifiers here (no parenthesis follows).
        self.ident("a type name")
    }

    /// `name:type, ...` up to `)`; Kusto accepts a trailing comma here.
    pub(super) fn column_decls(&mut self) -> PResult<Vec<ColumnDecl>> {
        let mut cols = Vec::new();
        while !self.at(&Tok::RParen) {
            cols.push(self.column_decl()?);
            if !self.eat(&Tok::Comma) {
                break;
            }
        }
        Ok(cols)
    }

    pub(super) fn column_decl(&mut self) -> PResult<ColumnDecl> {
        let name = self.ident("a column name")?;
        self.expect(&Tok::Colon)?;
        let ty = self.type_name()?;
        Ok(ColumnDecl { name, ty })
    }
}
