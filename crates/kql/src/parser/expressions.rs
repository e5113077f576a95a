//! Scalar expressions by precedence climbing: `or`, `and`, comparisons and string operators,
//! `+ -`, `* / %`, unary signs, postfix member access, indexing and calls, and primaries.

use super::literals::raw_literal;
use super::{PResult, Parser};
use crate::ast::*;
use crate::diag::Diagnostic;
use crate::lexer::Tok;

impl Parser {
    pub(super) fn expr(&mut self) -> PResult<Expr> {
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
            self.check_chain(chain)?;
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
            self.check_chain(chain)?;
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

    pub(super) fn additive(&mut self) -> PResult<Expr> {
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

    pub(super) fn unary(&mut self) -> PResult<Expr> {
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

    pub(super) fn postfix(&mut self) -> PResult<Expr> {
        let mut e = self.primary()?;
        let mut chain = 0usize;
        loop {
            chain += 1;
            self.check_chain(chain)?;
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
                if let Some(name) = p.assigned_name("a parameter name")? {
                    return Ok(Arg::Named(name, p.pipe_expr()?));
                }
                Ok(Arg::Positional(p.pipe_expr()?))
            })
        })?;
        self.expect(&Tok::RParen)?;
        Ok(args)
    }

    pub(super) fn primary(&mut self) -> PResult<Expr> {
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
}

enum CompOp {
    Binary(BinaryOp),
    List(ListOp),
    Between(bool),
}
