//! Pieces that tabular operators share: `name=value` parameters, named expressions, sort keys,
//! column and table name patterns, `mv-expand` items, parse patterns and sub-pipelines.

use super::{PResult, Parser};
use crate::ast::*;
use crate::lexer::Tok;

impl Parser {
    /// `name=value` parameters before an operator's main arguments (`kind=inner`, `hint.x=y`).
    pub(super) fn op_params(&mut self) -> PResult<Vec<OpParam>> {
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

    pub(super) fn op_param(&mut self) -> PResult<OpParam> {
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
    pub(super) fn paren_params(&mut self) -> PResult<Vec<OpParam>> {
        self.expect(&Tok::LParen)?;
        let params = self.comma_list(&Tok::RParen, |p| p.op_param())?;
        self.expect(&Tok::RParen)?;
        Ok(params)
    }

    /// `[ v, v, ... ]` (datatable rows, externaldata URIs).
    pub(super) fn bracket_values(&mut self) -> PResult<Vec<Expr>> {
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
    pub(super) fn paren_sub_pipeline(&mut self) -> PResult<Vec<Operator>> {
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
    pub(super) fn in_tables(&mut self) -> PResult<Vec<Expr>> {
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
    pub(super) fn join_right(&mut self) -> PResult<Expr> {
        self.postfix()
    }

    /// A union operand: a name (wildcards allowed), a call, or a parenthesised query.
    pub(super) fn union_item(&mut self) -> PResult<Expr> {
        if self.at_name_pattern() {
            return self.name_pattern();
        }
        self.postfix()
    }

    /// Whether a name pattern starts here: `*`, or a name with a `*` right after it.
    fn at_name_pattern(&self) -> bool {
        self.at(&Tok::Star)
            || (matches!(self.peek(), Tok::Ident(_)) && matches!(self.peek_at(1), Tok::Star) && self.adjacent(1))
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
    pub(super) fn column_pattern(&mut self) -> PResult<Expr> {
        if self.at_name_pattern() {
            return self.name_pattern();
        }
        self.expr()
    }

    pub(super) fn column_patterns(&mut self) -> PResult<Vec<Expr>> {
        self.comma_list(&Tok::Eof, |p| p.column_pattern())
    }

    pub(super) fn sort_dir_word(&mut self) -> Option<SortDir> {
        if self.eat_kw("asc") || self.eat_kw("granny-asc") {
            Some(SortDir::Asc)
        } else if self.eat_kw("desc") || self.eat_kw("granny-desc") {
            Some(SortDir::Desc)
        } else {
            None
        }
    }

    pub(super) fn sort_key(&mut self) -> PResult<SortKey> {
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

    pub(super) fn top_nested_level(&mut self) -> PResult<TopNestedLevel> {
        let count = if self.at_kw("of") { None } else { Some(self.expr()?) };
        self.expect_kw("of")?;
        let of = self.named_expr()?;
        let others = if self.eat_kw_pair("with", "others") {
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
    pub(super) fn expand_item(&mut self) -> PResult<ExpandItem> {
        let name = self.assigned_name("a column name")?;
        let expr = self.expr()?;
        let to_type = if self.eat_kw_pair("to", "typeof") {
            self.expect(&Tok::LParen)?;
            let t = self.type_name()?;
            self.expect(&Tok::RParen)?;
            Some(t)
        } else {
            None
        };
        Ok(ExpandItem { name, expr, to_type })
    }

    pub(super) fn parse_pattern(&mut self) -> PResult<Vec<ParsePart>> {
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

    pub(super) fn named_exprs(&mut self) -> PResult<Vec<NamedExpr>> {
        self.comma_list(&Tok::Eof, |p| p.named_expr())
    }

    /// `name = expr`, `(a, b) = expr`, or `expr`.
    fn named_expr(&mut self) -> PResult<NamedExpr> {
        if let Some(name) = self.assigned_name("a column name")? {
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
}
