//! The detection `condition` grammar: `and`/`or`/`not`, parentheses, `1 of`/`any of`/`all of`
//! over `them` or wildcard identifier patterns.
//!
//! Precedence, least to most binding: `or`, `and`, `not`, `x of`, parentheses. Keywords are
//! case-insensitive. Sigma 1.x aggregations (`| count()`) and `near` are rejected by name.

use std::fmt;

use crate::error::{ErrorKind, Unsupported};

/// How many of the selected search identifiers must match.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Quantifier {
    /// `1 of`, `any of` (or `N of`): at least this many.
    AtLeast(u32),
    /// `all of`.
    All,
}

/// The identifiers an `x of` applies to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OfTarget {
    /// `them`: every search identifier not starting with `_`.
    Them,
    /// An identifier pattern with `*` wildcards, e.g. `selection_*`.
    Pattern(String),
}

/// A parsed condition expression.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Condition {
    /// A search identifier.
    Ident(String),
    /// `not x`.
    Not(Box<Condition>),
    /// `a and b and ...`.
    And(Vec<Condition>),
    /// `a or b or ...`.
    Or(Vec<Condition>),
    /// `1 of selection_*`, `all of them`, ...
    Of(Quantifier, OfTarget),
}

impl Condition {
    /// Parses a condition string.
    pub fn parse(text: &str) -> Result<Condition, ErrorKind> {
        let tokens = tokenize(text)?;
        let mut p = Parser {
            tokens,
            pos: 0,
            depth: 0,
        };
        let c = p.or()?;
        match p.tokens.get(p.pos) {
            None => Ok(c),
            Some(t) => Err(ErrorKind::Condition(format!("unexpected `{t}`"))),
        }
    }

    /// Calls `f` on every plain identifier and every `of` target.
    pub fn visit(&self, f: &mut impl FnMut(&Condition)) {
        f(self);
        match self {
            Condition::Not(c) => c.visit(f),
            Condition::And(cs) | Condition::Or(cs) => cs.iter().for_each(|c| c.visit(f)),
            Condition::Ident(_) | Condition::Of(..) => {}
        }
    }
}

/// True when the identifier `name` matches the `x of` pattern (only `*` is a wildcard).
pub fn pattern_matches(pattern: &str, name: &str) -> bool {
    let parts: Vec<&str> = pattern.split('*').collect();
    if parts.len() == 1 {
        return pattern == name;
    }
    let (first, last) = (parts[0], parts[parts.len() - 1]);
    if !name.starts_with(first) || name.len() < first.len() + last.len() || !name.ends_with(last) {
        return false;
    }
    let mut rest = &name[first.len()..name.len() - last.len()];
    for mid in &parts[1..parts.len() - 1] {
        match rest.find(mid) {
            Some(i) => rest = &rest[i + mid.len()..],
            None => return false,
        }
    }
    true
}

/// Resolves an `x of` target against the search identifiers, in definition order.
pub fn resolve_target<'a>(target: &OfTarget, names: impl IntoIterator<Item = &'a str>) -> Vec<&'a str> {
    names
        .into_iter()
        .filter(|n| match target {
            OfTarget::Them => !n.starts_with('_'),
            OfTarget::Pattern(p) => pattern_matches(p, n),
        })
        .collect()
}

impl fmt::Display for Condition {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let join = |f: &mut fmt::Formatter<'_>, cs: &[Condition], op: &str| -> fmt::Result {
            f.write_str("(")?;
            for (i, c) in cs.iter().enumerate() {
                if i > 0 {
                    write!(f, " {op} ")?;
                }
                write!(f, "{c}")?;
            }
            f.write_str(")")
        };
        match self {
            Condition::Ident(n) => f.write_str(n),
            Condition::Not(c) => write!(f, "not {c}"),
            Condition::And(cs) => join(f, cs, "and"),
            Condition::Or(cs) => join(f, cs, "or"),
            Condition::Of(q, t) => {
                match q {
                    Quantifier::AtLeast(n) => write!(f, "{n} of ")?,
                    Quantifier::All => f.write_str("all of ")?,
                }
                match t {
                    OfTarget::Them => f.write_str("them"),
                    OfTarget::Pattern(p) => f.write_str(p),
                }
            }
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Tok {
    LParen,
    RParen,
    Word(String),
}

impl fmt::Display for Tok {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Tok::LParen => f.write_str("("),
            Tok::RParen => f.write_str(")"),
            Tok::Word(w) => f.write_str(w),
        }
    }
}

fn tokenize(text: &str) -> Result<Vec<Tok>, ErrorKind> {
    let mut out = Vec::new();
    let mut word = String::new();
    let flush = |word: &mut String, out: &mut Vec<Tok>| {
        if !word.is_empty() {
            out.push(Tok::Word(std::mem::take(word)));
        }
    };
    for c in text.chars() {
        match c {
            '(' | ')' => {
                flush(&mut word, &mut out);
                out.push(if c == '(' { Tok::LParen } else { Tok::RParen });
            }
            '|' => return Err(ErrorKind::Unsupported(Unsupported::LegacyAggregation)),
            c if c.is_whitespace() => flush(&mut word, &mut out),
            c => word.push(c),
        }
    }
    flush(&mut word, &mut out);
    if out
        .iter()
        .any(|t| matches!(t, Tok::Word(w) if w.eq_ignore_ascii_case("near")))
    {
        return Err(ErrorKind::Unsupported(Unsupported::NearOperator));
    }
    if out.is_empty() {
        return Err(ErrorKind::Condition("empty condition".into()));
    }
    Ok(out)
}

/// Nesting limit for parentheses and `not` chains.
const MAX_DEPTH: usize = 128;

struct Parser {
    tokens: Vec<Tok>,
    pos: usize,
    depth: usize,
}

impl Parser {
    fn peek_word(&self, offset: usize) -> Option<&str> {
        match self.tokens.get(self.pos + offset) {
            Some(Tok::Word(w)) => Some(w),
            _ => None,
        }
    }

    fn is_keyword(&self, kw: &str) -> bool {
        self.peek_word(0).is_some_and(|w| w.eq_ignore_ascii_case(kw))
    }

    fn enter(&mut self) -> Result<(), ErrorKind> {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            return Err(ErrorKind::Condition("nested too deeply".into()));
        }
        Ok(())
    }

    fn or(&mut self) -> Result<Condition, ErrorKind> {
        let mut items = vec![self.and()?];
        while self.is_keyword("or") {
            self.pos += 1;
            items.push(self.and()?);
        }
        Ok(if items.len() == 1 {
            items.remove(0)
        } else {
            Condition::Or(items)
        })
    }

    fn and(&mut self) -> Result<Condition, ErrorKind> {
        let mut items = vec![self.not()?];
        while self.is_keyword("and") {
            self.pos += 1;
            items.push(self.not()?);
        }
        Ok(if items.len() == 1 {
            items.remove(0)
        } else {
            Condition::And(items)
        })
    }

    fn not(&mut self) -> Result<Condition, ErrorKind> {
        if self.is_keyword("not") {
            self.pos += 1;
            self.enter()?;
            let inner = self.not()?;
            self.depth -= 1;
            return Ok(Condition::Not(Box::new(inner)));
        }
        self.primary()
    }

    fn primary(&mut self) -> Result<Condition, ErrorKind> {
        match self.tokens.get(self.pos).cloned() {
            None => Err(ErrorKind::Condition("unexpected end of condition".into())),
            Some(Tok::RParen) => Err(ErrorKind::Condition("unexpected `)`".into())),
            Some(Tok::LParen) => {
                self.pos += 1;
                self.enter()?;
                let inner = self.or()?;
                self.depth -= 1;
                if self.tokens.get(self.pos) != Some(&Tok::RParen) {
                    return Err(ErrorKind::Condition("missing `)`".into()));
                }
                self.pos += 1;
                Ok(inner)
            }
            Some(Tok::Word(w)) => {
                let lower = w.to_ascii_lowercase();
                let next_is_of = self.peek_word(1).is_some_and(|n| n.eq_ignore_ascii_case("of"));
                if next_is_of {
                    let q = match lower.as_str() {
                        "all" => Quantifier::All,
                        "any" => Quantifier::AtLeast(1),
                        n => match n.parse::<u32>() {
                            Ok(0) | Err(_) => {
                                return Err(ErrorKind::Condition(format!("`{w} of`: expected `1`, `any` or `all`")));
                            }
                            Ok(n) => Quantifier::AtLeast(n),
                        },
                    };
                    self.pos += 2;
                    let target = match self.tokens.get(self.pos) {
                        Some(Tok::Word(t)) if t.eq_ignore_ascii_case("them") => OfTarget::Them,
                        Some(Tok::Word(t)) if !is_reserved(t) => OfTarget::Pattern(t.clone()),
                        _ => {
                            return Err(ErrorKind::Condition(format!(
                                "`{w} of` needs `them` or an identifier pattern"
                            )));
                        }
                    };
                    self.pos += 1;
                    return Ok(Condition::Of(q, target));
                }
                match lower.as_str() {
                    "and" | "or" | "not" | "of" | "them" => Err(ErrorKind::Condition(format!("unexpected `{w}`"))),
                    _ if w.contains('*') => Err(ErrorKind::Condition(format!(
                        "wildcard identifier `{w}` is only allowed after `1 of` / `all of`"
                    ))),
                    _ => {
                        self.pos += 1;
                        Ok(Condition::Ident(w))
                    }
                }
            }
        }
    }
}

fn is_reserved(w: &str) -> bool {
    ["and", "or", "not", "of"].iter().any(|k| w.eq_ignore_ascii_case(k))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(s: &str) -> String {
        Condition::parse(s)
            .map(|c| c.to_string())
            .unwrap_or_else(|e| format!("ERR {e}"))
    }

    #[test]
    fn precedence_or_and_not() {
        assert_eq!(p("a or b and c"), "(a or (b and c))");
        assert_eq!(p("a and b or c"), "((a and b) or c)");
        assert_eq!(p("not a and b"), "(not a and b)");
        assert_eq!(p("not (a and b)"), "not (a and b)");
        assert_eq!(p("a and not b or not c"), "((a and not b) or not c)");
        assert_eq!(p("not not a"), "not not a");
    }

    #[test]
    fn parentheses() {
        assert_eq!(
            p("selection1 and (keywords1 or keywords2)"),
            "(selection1 and (keywords1 or keywords2))"
        );
        assert_eq!(p("((a))"), "a");
        assert!(p("(a").starts_with("ERR"));
        assert!(p("a)").starts_with("ERR"));
        assert!(p("()").starts_with("ERR"));
    }

    #[test]
    fn quantifiers() {
        assert_eq!(
            Condition::parse("1 of selection*"),
            Ok(Condition::Of(
                Quantifier::AtLeast(1),
                OfTarget::Pattern("selection*".into())
            ))
        );
        assert_eq!(
            Condition::parse("any of them"),
            Ok(Condition::Of(Quantifier::AtLeast(1), OfTarget::Them))
        );
        assert_eq!(
            Condition::parse("ALL OF them"),
            Ok(Condition::Of(Quantifier::All, OfTarget::Them))
        );
        assert_eq!(
            p("1 of selection* and not 1 of filter*"),
            "(1 of selection* and not 1 of filter*)"
        );
        assert_eq!(
            p("all of selection_* and not all of filter_*"),
            "(all of selection_* and not all of filter_*)"
        );
        assert!(p("0 of them").starts_with("ERR"));
        assert!(p("1 of").starts_with("ERR"));
        assert!(p("1 of and").starts_with("ERR"));
    }

    #[test]
    fn case_insensitive_keywords() {
        assert_eq!(p("a AND NOT b OR c"), "((a and not b) or c)");
    }

    #[test]
    fn rejects_legacy_constructs_by_name() {
        assert_eq!(
            Condition::parse("selection | count() by host > 5"),
            Err(ErrorKind::Unsupported(Unsupported::LegacyAggregation))
        );
        assert_eq!(
            Condition::parse("a near b"),
            Err(ErrorKind::Unsupported(Unsupported::NearOperator))
        );
        assert!(p("sel*").starts_with("ERR"));
        assert!(p("").starts_with("ERR"));
        assert!(p("a b").starts_with("ERR"));
    }

    #[test]
    fn depth_is_limited() {
        let deep = format!("{}a{}", "(".repeat(1000), ")".repeat(1000));
        assert!(p(&deep).starts_with("ERR"));
        let nots = format!("{}a", "not ".repeat(1000));
        assert!(p(&nots).starts_with("ERR"));
    }

    #[test]
    fn identifier_patterns() {
        assert!(pattern_matches("selection_*", "selection_img"));
        assert!(!pattern_matches("selection_*", "selection"));
        assert!(pattern_matches("selection*", "selection"));
        assert!(pattern_matches("*", "anything"));
        assert!(pattern_matches("sel*_*img", "sel_a_img"));
        assert!(!pattern_matches("a*a", "a"));
        assert!(pattern_matches("exact", "exact"));
        let names = ["selection_a", "_hidden", "filter_x"];
        assert_eq!(resolve_target(&OfTarget::Them, names), ["selection_a", "filter_x"]);
        assert_eq!(resolve_target(&OfTarget::Pattern("_*".into()), names), ["_hidden"]);
    }
}
