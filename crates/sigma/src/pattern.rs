//! Sigma string values: parsing of `*`/`?` wildcards and `\` escapes, and glob matching.
//!
//! Escaping follows the specification: `\` escapes `*`, `?` and `\`; a backslash before any other
//! character is a plain backslash. So `C:\Windows` and `C:\\Windows` are the same value, `\*` is a
//! literal star, `\\*` is a backslash followed by a wildcard and `\\\*` a backslash and a star.

use std::borrow::Cow;
use std::fmt;

/// The characters the `windash` modifier makes interchangeable.
pub const DASHES: [char; 5] = ['-', '/', '\u{2013}', '\u{2014}', '\u{2015}'];

/// One element of a [`Pattern`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Token {
    /// Plain text (escapes already resolved).
    Literal(String),
    /// `*`: any run of characters, including none.
    AnyString,
    /// `?`: exactly one character.
    AnyChar,
    /// One of the `windash` characters `-` `/` `–` `—` `―` (from the `windash` modifier).
    Dash,
}

/// A Sigma string value with wildcards, as a token sequence.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Pattern {
    tokens: Vec<Token>,
}

impl Pattern {
    /// Parses a rule value, honouring `*`, `?` and `\` escapes.
    pub fn parse(raw: &str) -> Pattern {
        let mut p = Pattern::default();
        let mut chars = raw.chars().peekable();
        while let Some(c) = chars.next() {
            match c {
                '*' => p.push(Token::AnyString),
                '?' => p.push(Token::AnyChar),
                '\\' => match chars.peek() {
                    Some(&n @ ('*' | '?' | '\\')) => {
                        chars.next();
                        p.push_char(n);
                    }
                    _ => p.push_char('\\'),
                },
                c => p.push_char(c),
            }
        }
        p
    }

    /// A pattern matching exactly `text` (no wildcard interpretation).
    pub fn literal(text: &str) -> Pattern {
        let mut p = Pattern::default();
        if !text.is_empty() {
            p.tokens.push(Token::Literal(text.to_owned()));
        }
        p
    }

    /// The tokens, literals merged.
    pub fn tokens(&self) -> &[Token] {
        &self.tokens
    }

    fn push_char(&mut self, c: char) {
        if let Some(Token::Literal(s)) = self.tokens.last_mut() {
            s.push(c);
        } else {
            self.tokens.push(Token::Literal(c.to_string()));
        }
    }

    fn push(&mut self, t: Token) {
        match t {
            Token::Literal(s) => {
                if let Some(Token::Literal(last)) = self.tokens.last_mut() {
                    last.push_str(&s);
                } else if !s.is_empty() {
                    self.tokens.push(Token::Literal(s));
                }
            }
            Token::AnyString if self.tokens.last() == Some(&Token::AnyString) => {}
            t => self.tokens.push(t),
        }
    }

    /// True when the pattern has `*`, `?` or dash-class tokens.
    pub fn has_wildcards(&self) -> bool {
        self.tokens.iter().any(|t| !matches!(t, Token::Literal(_)))
    }

    /// The text, if the pattern is a plain literal (possibly empty).
    pub fn as_literal(&self) -> Option<String> {
        let mut out = String::new();
        for t in &self.tokens {
            match t {
                Token::Literal(s) => out.push_str(s),
                _ => return None,
            }
        }
        Some(out)
    }

    /// Adds a leading `*` unless one is already there (`endswith`).
    pub fn prepend_any(&mut self) {
        if self.tokens.first() != Some(&Token::AnyString) {
            self.tokens.insert(0, Token::AnyString);
        }
    }

    /// Adds a trailing `*` unless one is already there (`startswith`).
    pub fn append_any(&mut self) {
        if self.tokens.last() != Some(&Token::AnyString) {
            self.tokens.push(Token::AnyString);
        }
    }

    /// Replaces every dash-like character in literals by a [`Token::Dash`] (`windash`).
    pub fn windash(&self) -> Pattern {
        let mut p = Pattern::default();
        for t in &self.tokens {
            match t {
                Token::Literal(s) => {
                    for c in s.chars() {
                        if DASHES.contains(&c) {
                            p.push(Token::Dash);
                        } else {
                            p.push_char(c);
                        }
                    }
                }
                t => p.push(t.clone()),
            }
        }
        p
    }

    /// Literal runs of the pattern (between wildcards).
    pub fn literals(&self) -> impl Iterator<Item = &str> {
        self.tokens.iter().filter_map(|t| match t {
            Token::Literal(s) => Some(s.as_str()),
            _ => None,
        })
    }
}

impl fmt::Display for Pattern {
    /// Writes the pattern back in Sigma syntax (wildcards and escapes), dash tokens as `-`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for t in &self.tokens {
            match t {
                Token::Literal(s) => {
                    let mut chars = s.chars().peekable();
                    while let Some(c) = chars.next() {
                        match c {
                            '*' | '?' => write!(f, "\\{c}")?,
                            // A backslash needs escaping only where it would otherwise escape.
                            '\\' if matches!(chars.peek(), None | Some('*' | '?' | '\\')) => f.write_str("\\\\")?,
                            c => write!(f, "{c}")?,
                        }
                    }
                }
                Token::AnyString => f.write_str("*")?,
                Token::AnyChar => f.write_str("?")?,
                Token::Dash => f.write_str("-")?,
            }
        }
        Ok(())
    }
}

/// Context-free lowercasing used on both rule values and event values, so that they agree.
pub(crate) fn fold_case(s: &str) -> Cow<'_, str> {
    if !s.chars().any(|c| c.is_uppercase()) {
        return Cow::Borrowed(s);
    }
    let mut out = String::with_capacity(s.len());
    fold_case_into(s, &mut out);
    Cow::Owned(out)
}

/// Appends the case-folded form of `s` to `out`.
pub(crate) fn fold_case_into(s: &str, out: &mut String) {
    for c in s.chars() {
        if c.is_ascii() {
            out.push(c.to_ascii_lowercase());
        } else {
            out.extend(c.to_lowercase());
        }
    }
}

#[derive(Debug, Clone)]
enum Atom {
    Lit(String),
    One,
    Dash,
}

/// A compiled string matcher; literals are pre-folded when case-insensitive.
#[derive(Debug, Clone)]
pub(crate) enum StrMatcher {
    Exact(String),
    Prefix(String),
    Suffix(String),
    Contains(String),
    /// `*`: any value.
    Any,
    Glob(Glob),
}

#[derive(Debug, Clone)]
pub(crate) struct Glob {
    anchored_start: bool,
    anchored_end: bool,
    segments: Vec<Vec<Atom>>,
}

impl StrMatcher {
    /// Compiles `pattern`; with `fold` the literals are case-folded (the value must be folded too).
    pub(crate) fn new(pattern: &Pattern, fold: bool) -> StrMatcher {
        let lit = |s: &str| if fold { fold_case(s).into_owned() } else { s.to_owned() };
        let t = pattern.tokens();
        match t {
            [] => return StrMatcher::Exact(String::new()),
            [Token::Literal(s)] => return StrMatcher::Exact(lit(s)),
            [Token::AnyString] => return StrMatcher::Any,
            [Token::Literal(s), Token::AnyString] => return StrMatcher::Prefix(lit(s)),
            [Token::AnyString, Token::Literal(s)] => return StrMatcher::Suffix(lit(s)),
            [Token::AnyString, Token::Literal(s), Token::AnyString] => return StrMatcher::Contains(lit(s)),
            _ => {}
        }
        let mut segments = vec![Vec::new()];
        for tok in t {
            let seg = match tok {
                Token::AnyString => {
                    segments.push(Vec::new());
                    continue;
                }
                _ => segments.last_mut(),
            };
            if let Some(seg) = seg {
                seg.push(match tok {
                    Token::Literal(s) => Atom::Lit(lit(s)),
                    Token::AnyChar => Atom::One,
                    _ => Atom::Dash,
                });
            }
        }
        let anchored_start = t.first() != Some(&Token::AnyString);
        let anchored_end = t.last() != Some(&Token::AnyString);
        if !anchored_start {
            segments.remove(0);
        }
        if !anchored_end {
            segments.pop();
        }
        StrMatcher::Glob(Glob {
            anchored_start,
            anchored_end,
            segments,
        })
    }

    /// The longest literal the value must contain (folded like the matcher), if any.
    pub(crate) fn longest_literal(&self) -> Option<&str> {
        match self {
            StrMatcher::Exact(s) | StrMatcher::Prefix(s) | StrMatcher::Suffix(s) | StrMatcher::Contains(s) => Some(s),
            StrMatcher::Any => None,
            StrMatcher::Glob(g) => g
                .segments
                .iter()
                .flatten()
                .filter_map(|a| match a {
                    Atom::Lit(s) => Some(s.as_str()),
                    _ => None,
                })
                .max_by_key(|s| s.len()),
        }
    }

    /// Tests `value` (already folded when the matcher was compiled with folding).
    pub(crate) fn is_match(&self, value: &str) -> bool {
        match self {
            StrMatcher::Exact(s) => value == s,
            StrMatcher::Prefix(s) => value.starts_with(s.as_str()),
            StrMatcher::Suffix(s) => value.ends_with(s.as_str()),
            StrMatcher::Contains(s) => value.contains(s.as_str()),
            StrMatcher::Any => true,
            StrMatcher::Glob(g) => g.is_match(value),
        }
    }
}

/// Matches `seg` at byte offset `at`; returns the end offset.
fn match_segment(value: &str, at: usize, seg: &[Atom]) -> Option<usize> {
    let mut i = at;
    for a in seg {
        let rest = value.get(i..)?;
        match a {
            Atom::Lit(s) => {
                if !rest.starts_with(s.as_str()) {
                    return None;
                }
                i += s.len();
            }
            Atom::One => i += rest.chars().next()?.len_utf8(),
            Atom::Dash => {
                let c = rest.chars().next()?;
                if !DASHES.contains(&c) {
                    return None;
                }
                i += c.len_utf8();
            }
        }
    }
    Some(i)
}

/// Length of a segment in characters (every atom has a fixed character length).
fn segment_chars(seg: &[Atom]) -> usize {
    seg.iter()
        .map(|a| match a {
            Atom::Lit(s) => s.chars().count(),
            Atom::One | Atom::Dash => 1,
        })
        .sum()
}

impl Glob {
    fn is_match(&self, value: &str) -> bool {
        let mut segs: &[Vec<Atom>] = &self.segments;
        let mut pos = 0usize;
        if self.anchored_start {
            let Some((first, rest)) = segs.split_first() else {
                return value.is_empty();
            };
            match match_segment(value, 0, first) {
                Some(end) => pos = end,
                None => return false,
            }
            segs = rest;
            if segs.is_empty() && self.anchored_end {
                return pos == value.len();
            }
        }
        let last = if self.anchored_end {
            match segs.split_last() {
                Some((last, rest)) => {
                    segs = rest;
                    Some(last)
                }
                None => None,
            }
        } else {
            None
        };
        // Leftmost placement of each floating segment is optimal because segments have fixed length.
        for seg in segs {
            let mut found = None;
            let mut start = pos;
            loop {
                if let Some(end) = match_segment(value, start, seg) {
                    found = Some(end);
                    break;
                }
                match value.get(start..).and_then(|r| r.chars().next()) {
                    Some(c) => start += c.len_utf8(),
                    None => break,
                }
            }
            match found {
                Some(end) => pos = end,
                None => return false,
            }
        }
        if let Some(last) = last {
            let n = segment_chars(last);
            let tail_start = if n == 0 {
                value.len()
            } else {
                match value.char_indices().rev().nth(n - 1) {
                    Some((i, _)) => i,
                    None => return false, // fewer than n characters
                }
            };
            if tail_start < pos {
                return false;
            }
            return match_segment(value, tail_start, last) == Some(value.len());
        }
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn m(pat: &str, value: &str) -> bool {
        StrMatcher::new(&Pattern::parse(pat), true).is_match(&fold_case(value))
    }

    #[test]
    fn escapes_follow_the_specification() {
        // plain backslash: single or double
        assert_eq!(
            Pattern::parse(r"C:\Windows").as_literal().as_deref(),
            Some(r"C:\Windows")
        );
        assert_eq!(
            Pattern::parse(r"C:\\Windows").as_literal().as_deref(),
            Some(r"C:\Windows")
        );
        // escaped wildcards are literal
        assert_eq!(Pattern::parse(r"a\*b\?").as_literal().as_deref(), Some("a*b?"));
        // escaped backslash followed by a wildcard
        assert_eq!(
            Pattern::parse(r"a\\*").tokens(),
            &[Token::Literal(r"a\".into()), Token::AnyString]
        );
        // three backslashes: backslash and literal star
        assert_eq!(Pattern::parse(r"a\\\*").as_literal().as_deref(), Some(r"a\*"));
        // three or four backslashes are a double backslash
        assert_eq!(Pattern::parse(r"\\\\srv").as_literal().as_deref(), Some(r"\\srv"));
        assert_eq!(Pattern::parse(r"\\\srv").as_literal().as_deref(), Some(r"\\srv"));
        // trailing backslash stays
        assert_eq!(Pattern::parse(r"dir\").as_literal().as_deref(), Some(r"dir\"));
    }

    #[test]
    fn display_roundtrips() {
        for raw in [r"a\*b", r"C:\Windows\*", r"x?y*", r"\\\\srv\share", r"end\\", "plain"] {
            let p = Pattern::parse(raw);
            assert_eq!(Pattern::parse(&p.to_string()), p, "{raw}");
        }
    }

    #[test]
    fn whole_value_match_is_case_insensitive() {
        assert!(m(r"C:\Windows\System32\whoami.exe", r"c:\windows\system32\WHOAMI.EXE"));
        assert!(!m("whoami.exe", r"C:\Windows\System32\whoami.exe"));
        assert!(m("", ""));
        assert!(!m("", "x"));
    }

    #[test]
    fn wildcards() {
        assert!(m("prog?.exe", "progA.exe"));
        assert!(!m("prog?.exe", "prog.exe"));
        assert!(!m("prog?.exe", "progAB.exe"));
        assert!(m("antivirus_V*.exe", "antivirus_V21.2.1.exe"));
        assert!(m("*", ""));
        assert!(m("*", "anything"));
        assert!(m("a*b*c", "abc"));
        assert!(m("a*b*c", "aXXbYYc"));
        assert!(!m("a*b*c", "aXXbYY"));
        assert!(m("*b?d*", "abcde"));
        assert!(m("a*?", "ab"));
        assert!(!m("a*?", "a"));
        assert!(m("?*", "x"));
        assert!(!m("?*", ""));
        assert!(m("*ab", "abab"));
        assert!(m("ab*ab", "abab"));
        assert!(!m("ab*ab", "aba"));
        assert!(m("*.exe", "x.EXE"));
        assert!(m("a*", "a"));
        assert!(m("??", "éx"));
        assert!(!m("??", "é"));
        assert!(m(r"a\*b", "a*b"));
        assert!(!m(r"a\*b", "axb"));
    }

    #[test]
    fn windash_token_matches_all_dashes() {
        let p = Pattern::parse("* -enc *").windash();
        let mt = StrMatcher::new(&p, true);
        for d in DASHES {
            assert!(mt.is_match(&format!("powershell {d}enc abc")), "{d}");
        }
        assert!(!mt.is_match("powershell +enc abc"));
        // a pattern that is only a dash
        let p = Pattern::parse("-").windash();
        assert!(StrMatcher::new(&p, true).is_match("/"));
    }

    #[test]
    fn case_sensitive_matcher() {
        let mt = StrMatcher::new(&Pattern::parse("*Invoke*"), false);
        assert!(mt.is_match("x Invoke y"));
        assert!(!mt.is_match("x invoke y"));
    }

    #[test]
    fn fold_case_is_context_free() {
        assert_eq!(fold_case("ΑΣ"), "ασ");
        assert_eq!(fold_case("abc"), Cow::Borrowed("abc"));
    }
}
