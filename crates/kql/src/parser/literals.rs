//! Literals: `true`/`false`, typed literals such as `int(5)` and `real(nan)`, `dynamic(...)`
//! values, and the raw `datetime(...)`, `timespan(...)` and `guid(...)` forms.

use super::{PResult, Parser};
use crate::ast::*;
use crate::diag::Diagnostic;
use crate::lexer::{RawKind, TICKS_PER_SECOND, Tok, timespan_unit};
use crate::span::Span;

impl Parser {
    /// `true`, `int(5)`, `real(nan)`, `dynamic([...])`, ... at the cursor.
    pub(super) fn typed_literal(&mut self, word: &str) -> PResult<Option<Literal>> {
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

/// The value of `datetime(...)`, `timespan(...)` or `guid(...)` from its raw text.
pub(super) fn raw_literal(kind: RawKind, text: &str, span: Span) -> PResult<Literal> {
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
