//! Lexer: KQL source text to tokens (identifiers, literals, punctuation), comments dropped.

use crate::span::Span;

/// What a token is. Literal values are decoded; identifiers keep their text.
#[derive(Clone, Debug, PartialEq)]
pub enum Tok {
    /// A name or keyword (keywords are contextual in KQL). `$left` / `$right` included.
    Ident(String),
    /// A bracketed name: `['Column Name']` or `["x"]`.
    BracketName(String),
    /// A string literal, decoded; `obfuscated` for `h"..."`.
    Str {
        /// The decoded text.
        value: String,
        /// Written `h"..."`: the text is hidden from logs.
        obfuscated: bool,
    },
    /// An integer literal (decimal or `0x` hex).
    Long(i64),
    /// A real literal.
    Real(f64),
    /// A timespan literal such as `1d`, `30m`, `1.5h`, in ticks (100 ns).
    Timespan(i64),
    /// The raw text between the parentheses of `datetime(...)`, `time(...)`, `guid(...)`, ... .
    RawLiteral {
        /// Which literal form it is.
        kind: RawKind,
        /// The text between the parentheses (or inside their quotes), trimmed.
        text: String,
    },
    /// `|`
    Pipe,
    /// `(`
    LParen,
    /// `)`
    RParen,
    /// `[`
    LBracket,
    /// `]`
    RBracket,
    /// `{`
    LBrace,
    /// `}`
    RBrace,
    /// `,`
    Comma,
    /// `;`
    Semi,
    /// `:`
    Colon,
    /// `.`
    Dot,
    /// `..`
    DotDot,
    /// `=`
    Assign,
    /// `==`
    EqEq,
    /// `!=` (or `<>`)
    NotEq,
    /// `<`
    Lt,
    /// `<=`
    Le,
    /// `>`
    Gt,
    /// `>=`
    Ge,
    /// `=~`
    EqTilde,
    /// `!~`
    BangTilde,
    /// `!`
    Bang,
    /// `~`
    Tilde,
    /// `+`
    Plus,
    /// `-`
    Minus,
    /// `*`
    Star,
    /// `/`
    Slash,
    /// `%`
    Percent,
    /// `=>`
    FatArrow,
    /// `?`
    Question,
    /// `@`
    At,
    /// `#`
    Hash,
    /// The end of the text: always the last token.
    Eof,
}

/// The literal forms whose parenthesised content is not ordinary tokens.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RawKind {
    /// `datetime(...)` or `date(...)`.
    Datetime,
    /// `timespan(...)` or `time(...)`.
    Timespan,
    /// `guid(...)` or `uniqueid(...)`.
    Guid,
}

/// A token and where it stands in the text.
#[derive(Clone, Debug)]
pub struct Token {
    /// What the token is.
    pub tok: Tok,
    /// Its bytes in the text.
    pub span: Span,
}

/// A lexical error: where, and what.
#[derive(Clone, Debug)]
pub struct LexError {
    /// The bytes in error.
    pub span: Span,
    /// What is wrong with them.
    pub message: String,
}

/// Timespans count ticks of 100 ns.
pub const TICKS_PER_SECOND: i64 = 10_000_000;

/// Timespan unit suffixes and their length in ticks.
pub fn timespan_unit(suffix: &str) -> Option<i64> {
    let s = TICKS_PER_SECOND;
    Some(match suffix.to_ascii_lowercase().as_str() {
        "d" | "day" | "days" => 86_400 * s,
        "h" | "hr" | "hrs" | "hour" | "hours" => 3_600 * s,
        "m" | "min" | "mins" | "minute" | "minutes" => 60 * s,
        "s" | "sec" | "secs" | "second" | "seconds" => s,
        "ms" | "milli" | "millis" | "millisec" | "millisecond" | "milliseconds" => 10_000,
        "microsec" | "microsecond" | "microseconds" | "micro" | "micros" => 10,
        "tick" | "ticks" => 1,
        _ => return None,
    })
}

/// Splits `text` into tokens. Lexing never stops early: bad characters become errors and are skipped.
pub fn lex(text: &str) -> (Vec<Token>, Vec<LexError>) {
    let mut lx = Lexer {
        src: text,
        bytes: text.as_bytes(),
        pos: 0,
        tokens: Vec::new(),
        errors: Vec::new(),
    };
    lx.run();
    (lx.tokens, lx.errors)
}

struct Lexer<'a> {
    src: &'a str,
    bytes: &'a [u8],
    pos: usize,
    tokens: Vec<Token>,
    errors: Vec<LexError>,
}

fn is_ident_start(c: u8) -> bool {
    c.is_ascii_alphabetic() || c == b'_' || c == b'$'
}

fn is_ident_char(c: u8) -> bool {
    c.is_ascii_alphanumeric() || c == b'_'
}

impl<'a> Lexer<'a> {
    fn peek(&self, ahead: usize) -> u8 {
        self.bytes.get(self.pos + ahead).copied().unwrap_or(0)
    }

    fn push(&mut self, tok: Tok, start: usize) {
        self.tokens.push(Token {
            tok,
            span: Span::new(start, self.pos),
        });
    }

    /// Pushes the string literal read from `start`, if one was read.
    fn push_string(&mut self, value: Option<String>, obfuscated: bool, start: usize) {
        if let Some(value) = value {
            self.push(Tok::Str { value, obfuscated }, start);
        }
    }

    fn error(&mut self, start: usize, end: usize, message: impl Into<String>) {
        self.errors.push(LexError {
            span: Span::new(start, end),
            message: message.into(),
        });
    }

    fn run(&mut self) {
        while self.pos < self.bytes.len() {
            let c = self.bytes[self.pos];
            let start = self.pos;
            match c {
                b' ' | b'\t' | b'\r' | b'\n' | 0x0c => self.pos += 1,
                0x80.. if self.unicode_space() => {}
                b'/' if self.peek(1) == b'/' => {
                    while self.pos < self.bytes.len() && self.bytes[self.pos] != b'\n' {
                        self.pos += 1;
                    }
                }
                b'\'' | b'"' => {
                    let value = self.string(c);
                    self.push_string(value, false, start);
                }
                b'`' if self.src[self.pos..].starts_with("```") => {
                    let value = self.multiline();
                    self.push_string(value, false, start);
                }
                b'@' if matches!(self.peek(1), b'\'' | b'"') => {
                    self.pos += 1;
                    let value = self.verbatim(self.bytes[self.pos]);
                    self.push_string(value, false, start);
                }
                b'h' | b'H' if matches!(self.peek(1), b'\'' | b'"') => {
                    self.pos += 1;
                    let value = self.string(self.bytes[self.pos]);
                    self.push_string(value, true, start);
                }
                b'h' | b'H' if self.peek(1) == b'@' && matches!(self.peek(2), b'\'' | b'"') => {
                    self.pos += 2;
                    let value = self.verbatim(self.bytes[self.pos]);
                    self.push_string(value, true, start);
                }
                b'h' | b'H' if self.src[self.pos + 1..].starts_with("```") => {
                    self.pos += 1;
                    let value = self.multiline();
                    self.push_string(value, true, start);
                }
                b'[' if self.bracket_name_ahead() => self.bracket_name(),
                b'0'..=b'9' => self.number(),
                _ if is_ident_start(c) => self.ident(),
                _ => self.punct(c),
            }
        }
        let end = self.bytes.len();
        self.tokens.push(Token {
            tok: Tok::Eof,
            span: Span::new(end, end),
        });
    }

    /// Skips a non-ASCII white-space character (no-break space, zero-width space, BOM, ...).
    fn unicode_space(&mut self) -> bool {
        match self.src[self.pos..].chars().next() {
            Some(ch) if ch.is_whitespace() || matches!(ch, '\u{200b}' | '\u{feff}' | '\u{200c}' | '\u{200d}') => {
                self.pos += ch.len_utf8();
                true
            }
            _ => false,
        }
    }

    fn punct(&mut self, c: u8) {
        let start = self.pos;
        let two = [c, self.peek(1)];
        let (tok, len) = match &two {
            b"==" => (Tok::EqEq, 2),
            b"!=" => (Tok::NotEq, 2),
            b"<>" => (Tok::NotEq, 2),
            b"<=" => (Tok::Le, 2),
            b">=" => (Tok::Ge, 2),
            b"=~" => (Tok::EqTilde, 2),
            b"!~" => (Tok::BangTilde, 2),
            b"=>" => (Tok::FatArrow, 2),
            b".." => (Tok::DotDot, 2),
            _ => match c {
                b'|' => (Tok::Pipe, 1),
                b'(' => (Tok::LParen, 1),
                b')' => (Tok::RParen, 1),
                b'[' => (Tok::LBracket, 1),
                b']' => (Tok::RBracket, 1),
                b'{' => (Tok::LBrace, 1),
                b'}' => (Tok::RBrace, 1),
                b',' => (Tok::Comma, 1),
                b';' => (Tok::Semi, 1),
                b':' => (Tok::Colon, 1),
                b'.' => (Tok::Dot, 1),
                b'=' => (Tok::Assign, 1),
                b'<' => (Tok::Lt, 1),
                b'>' => (Tok::Gt, 1),
                b'!' => (Tok::Bang, 1),
                b'~' => (Tok::Tilde, 1),
                b'+' => (Tok::Plus, 1),
                b'-' => (Tok::Minus, 1),
                b'*' => (Tok::Star, 1),
                b'/' => (Tok::Slash, 1),
                b'%' => (Tok::Percent, 1),
                b'?' => (Tok::Question, 1),
                b'@' => (Tok::At, 1),
                b'#' => (Tok::Hash, 1),
                _ => {
                    let ch = self.src[self.pos..].chars().next().unwrap_or('\u{fffd}');
                    self.pos += ch.len_utf8().max(1);
                    let shown = if ch.is_control() || ch.is_whitespace() {
                        format!("U+{:04X}", ch as u32)
                    } else {
                        format!("'{ch}'")
                    };
                    self.error(start, self.pos, format!("unexpected character {shown}"));
                    return;
                }
            },
        };
        self.pos += len;
        self.push(tok, start);
    }

    fn ident(&mut self) {
        let start = self.pos;
        self.pos += 1;
        while self.pos < self.bytes.len() && is_ident_char(self.bytes[self.pos]) {
            self.pos += 1;
        }
        let name = &self.src[start..self.pos];
        let raw = match name.to_ascii_lowercase().as_str() {
            "datetime" | "date" => Some(RawKind::Datetime),
            "timespan" | "time" => Some(RawKind::Timespan),
            "guid" | "uniqueid" => Some(RawKind::Guid),
            _ => None,
        };
        if let Some(kind) = raw
            && self.raw_literal(kind, start)
        {
            return;
        }
        self.push(Tok::Ident(name.to_string()), start);
    }

    /// `datetime(...)` and friends: the content up to the closing parenthesis is one raw token.
    fn raw_literal(&mut self, kind: RawKind, start: usize) -> bool {
        let mut p = self.pos;
        while p < self.bytes.len() && matches!(self.bytes[p], b' ' | b'\t' | b'\r' | b'\n') {
            p += 1;
        }
        if self.bytes.get(p) != Some(&b'(') {
            return false;
        }
        let open = p;
        let mut q = open + 1;
        while matches!(self.bytes.get(q), Some(b' ' | b'\t')) {
            q += 1;
        }
        // Either one quoted string, or bare text without quotes, brackets or line breaks.
        if let Some(&qc) = self.bytes.get(q).filter(|b| matches!(b, b'\'' | b'"')) {
            let Some(len) = self.src[q + 1..].find([qc as char, '\n']) else {
                return false;
            };
            let close = q + 1 + len;
            if self.bytes[close] != qc {
                return false;
            }
            let text = self.src[q + 1..close].trim().to_string();
            let mut r = close + 1;
            while matches!(self.bytes.get(r), Some(b' ' | b'\t')) {
                r += 1;
            }
            if self.bytes.get(r) != Some(&b')') {
                return false;
            }
            self.pos = r + 1;
            self.push(Tok::RawLiteral { kind, text }, start);
            return true;
        }
        while q < self.bytes.len() {
            match self.bytes[q] {
                b')' => break,
                b'(' | b'\n' | b';' | b'|' | b'\'' | b'"' => return false,
                _ => q += 1,
            }
        }
        if q >= self.bytes.len() {
            return false;
        }
        let text = self.src[open + 1..q].trim().to_string();
        self.pos = q + 1;
        self.push(Tok::RawLiteral { kind, text }, start);
        true
    }

    fn bracket_name_ahead(&self) -> bool {
        let mut p = self.pos + 1;
        while matches!(self.bytes.get(p), Some(b' ' | b'\t')) {
            p += 1;
        }
        matches!(self.bytes.get(p), Some(b'\'' | b'"'))
            || (self.bytes.get(p) == Some(&b'@') && matches!(self.bytes.get(p + 1), Some(b'\'' | b'"')))
    }

    /// `['name']`: a name given as a string. Falls back to a plain `[` when it is an index instead.
    fn bracket_name(&mut self) {
        let start = self.pos;
        let save = (self.pos, self.errors.len());
        self.pos += 1;
        while matches!(self.peek(0), b' ' | b'\t') {
            self.pos += 1;
        }
        let value = match self.peek(0) {
            b'@' => {
                self.pos += 1;
                self.verbatim(self.bytes[self.pos])
            }
            q => self.string(q),
        };
        while matches!(self.peek(0), b' ' | b'\t') {
            self.pos += 1;
        }
        // An indexer such as d['key'] is lexed the same way; the parser tells them apart.
        match value {
            Some(v) if self.peek(0) == b']' => {
                self.pos += 1;
                self.push(Tok::BracketName(v), start);
            }
            _ => {
                self.pos = save.0;
                self.errors.truncate(save.1);
                self.pos += 1;
                self.push(Tok::LBracket, start);
            }
        }
    }

    /// A quoted string with backslash escapes; `self.pos` is at the opening quote.
    fn string(&mut self, quote: u8) -> Option<String> {
        let start = self.pos;
        self.pos += 1;
        let mut out = String::new();
        loop {
            let Some(&b) = self.bytes.get(self.pos) else {
                self.error(start, self.pos, "unterminated string literal");
                return Some(out);
            };
            if b == quote {
                self.pos += 1;
                return Some(out);
            }
            if b == b'\n' {
                self.error(
                    start,
                    self.pos,
                    "unterminated string literal (a line break inside quotes; use ``` for multi-line strings)",
                );
                return Some(out);
            }
            if b == b'\\' {
                let esc_start = self.pos;
                let Some(&e) = self.bytes.get(self.pos + 1) else {
                    self.pos += 1;
                    continue;
                };
                self.pos += 2;
                match e {
                    b'n' => out.push('\n'),
                    b't' => out.push('\t'),
                    b'r' => out.push('\r'),
                    b'\\' => out.push('\\'),
                    b'\'' => out.push('\''),
                    b'"' => out.push('"'),
                    b'a' => out.push('\u{7}'),
                    b'b' => out.push('\u{8}'),
                    b'f' => out.push('\u{c}'),
                    b'v' => out.push('\u{b}'),
                    b'u' | b'U' | b'x' => {
                        let width = match e {
                            b'u' => 4,
                            b'U' => 8,
                            _ => 2,
                        };
                        let hex = self.src.get(self.pos..self.pos + width).unwrap_or("");
                        let valid = hex.len() == width && hex.bytes().all(|b| b.is_ascii_hexdigit());
                        match u32::from_str_radix(hex, 16).ok().filter(|_| valid) {
                            Some(code) => {
                                out.push(char::from_u32(code).unwrap_or('\u{fffd}'));
                                self.pos += width;
                            }
                            None => self.error(esc_start, self.pos, "invalid escape sequence in string literal"),
                        }
                    }
                    b'0'..=b'7' => {
                        // Octal: one to three digits, three only when the first is 0-3.
                        let digits = self.bytes[esc_start + 1..]
                            .iter()
                            .take(3)
                            .take_while(|b| (b'0'..=b'7').contains(b))
                            .count();
                        let digits = if digits == 3 && e > b'3' { 2 } else { digits };
                        let code = self.src[esc_start + 1..esc_start + 1 + digits]
                            .bytes()
                            .fold(0u32, |v, d| v * 8 + u32::from(d - b'0'));
                        out.push(char::from_u32(code).unwrap_or('\u{fffd}'));
                        self.pos = esc_start + 1 + digits;
                    }
                    _ => {
                        let ch = self.src[esc_start + 1..].chars().next().unwrap_or('?');
                        self.pos = esc_start + 1 + ch.len_utf8();
                        self.error(
                            esc_start,
                            self.pos,
                            format!(
                                "invalid escape sequence '\\{ch}' in string literal (use @\"...\" for verbatim strings)"
                            ),
                        );
                    }
                }
                continue;
            }
            let ch = self.src[self.pos..].chars().next().unwrap_or('\u{fffd}');
            out.push(ch);
            self.pos += ch.len_utf8();
        }
    }

    /// `@'...'`: no escapes, the quote doubled stands for itself; `self.pos` is at the quote.
    fn verbatim(&mut self, quote: u8) -> Option<String> {
        let start = self.pos;
        self.pos += 1;
        let mut out = String::new();
        loop {
            let Some(&b) = self.bytes.get(self.pos) else {
                self.error(start, self.pos, "unterminated verbatim string literal");
                return Some(out);
            };
            if b == quote {
                if self.peek(1) == quote {
                    out.push(quote as char);
                    self.pos += 2;
                    continue;
                }
                self.pos += 1;
                return Some(out);
            }
            if b == b'\n' {
                self.error(start, self.pos, "unterminated verbatim string literal");
                return Some(out);
            }
            let ch = self.src[self.pos..].chars().next().unwrap_or('\u{fffd}');
            out.push(ch);
            self.pos += ch.len_utf8();
        }
    }

    /// ```` ```...``` ````: a multi-line string, taken as written.
    fn multiline(&mut self) -> Option<String> {
        let start = self.pos;
        let body = self.pos + 3;
        match self.src[body..].find("```") {
            Some(len) => {
                self.pos = body + len + 3;
                Some(self.src[body..body + len].to_string())
            }
            None => {
                self.pos = self.bytes.len();
                self.error(start, self.pos, "unterminated multi-line string literal (```)");
                None
            }
        }
    }

    fn number(&mut self) {
        let start = self.pos;
        if self.peek(0) == b'0' && matches!(self.peek(1), b'x' | b'X') && self.peek(2).is_ascii_hexdigit() {
            self.pos += 2;
            while self.peek(0).is_ascii_hexdigit() {
                self.pos += 1;
            }
            let digits = &self.src[start + 2..self.pos];
            match u64::from_str_radix(digits, 16) {
                Ok(v) => self.push(Tok::Long(v as i64), start),
                Err(_) => self.error(start, self.pos, "hex literal out of range"),
            }
            return;
        }
        while self.peek(0).is_ascii_digit() {
            self.pos += 1;
        }
        let mut is_real = false;
        if self.peek(0) == b'.' && self.peek(1).is_ascii_digit() {
            is_real = true;
            self.pos += 1;
            while self.peek(0).is_ascii_digit() {
                self.pos += 1;
            }
        } else if self.peek(0) == b'.'
            && ((!is_ident_start(self.peek(1)) && self.peek(1) != b'.')
                || (matches!(self.peek(1), b'e' | b'E')
                    && (self.peek(2).is_ascii_digit()
                        || (matches!(self.peek(2), b'+' | b'-') && self.peek(3).is_ascii_digit()))))
        {
            // `1.` and `1.e3` are real literals.
            is_real = true;
            self.pos += 1;
        }
        if matches!(self.peek(0), b'e' | b'E')
            && (self.peek(1).is_ascii_digit() || (matches!(self.peek(1), b'+' | b'-') && self.peek(2).is_ascii_digit()))
        {
            is_real = true;
            self.pos += 2;
            while self.peek(0).is_ascii_digit() {
                self.pos += 1;
            }
        }
        let num_end = self.pos;
        let num = &self.src[start..num_end];
        if is_ident_start(self.peek(0)) {
            let suffix_start = self.pos;
            while is_ident_char(self.peek(0)) {
                self.pos += 1;
            }
            let suffix = &self.src[suffix_start..self.pos];
            match timespan_unit(suffix) {
                Some(unit) => match ticks(num, unit) {
                    Some(t) => self.push(Tok::Timespan(t), start),
                    None => self.error(start, self.pos, "timespan literal out of range"),
                },
                // Digits then letters that are not a unit make a name (`2022Report`), as in Kusto.
                None if !is_real => self.push(Tok::Ident(self.src[start..self.pos].to_string()), start),
                None => self.error(
                    start,
                    self.pos,
                    format!(
                        "invalid literal '{}': '{suffix}' is not a timespan unit (d, h, m, s, ms, microsecond, tick)",
                        &self.src[start..self.pos]
                    ),
                ),
            }
            return;
        }
        if is_real {
            match num.parse::<f64>() {
                Ok(v) => self.push(Tok::Real(v), start),
                Err(_) => self.error(start, self.pos, "invalid real literal"),
            }
        } else {
            match num.parse::<i64>() {
                Ok(v) => self.push(Tok::Long(v), start),
                Err(_) => match num.parse::<f64>() {
                    Ok(v) => self.push(Tok::Real(v), start),
                    Err(_) => self.error(start, self.pos, "invalid number literal"),
                },
            }
        }
    }
}

/// `num` (decimal text, possibly fractional) times `unit` ticks, exactly where possible.
fn ticks(num: &str, unit: i64) -> Option<i64> {
    if let Ok(n) = num.parse::<i64>() {
        return n.checked_mul(unit);
    }
    let (int_part, frac_part) = num.split_once('.').unwrap_or((num, ""));
    if frac_part.is_empty() || frac_part.bytes().all(|b| b.is_ascii_digit()) {
        let whole: i64 = if int_part.is_empty() { 0 } else { int_part.parse().ok()? };
        let mut total = whole.checked_mul(unit)?;
        let mut scale = unit as i128;
        let mut frac_ticks: i128 = 0;
        let mut denom: i128 = 1;
        for d in frac_part.bytes().take(18) {
            denom *= 10;
            frac_ticks = frac_ticks * 10 + (d - b'0') as i128;
        }
        scale *= frac_ticks;
        total = total.checked_add((scale / denom) as i64)?;
        return Some(total);
    }
    let v: f64 = num.parse().ok()?;
    let t = v * unit as f64;
    (t.is_finite() && t.abs() < i64::MAX as f64).then_some(t.round() as i64)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn toks(s: &str) -> Vec<Tok> {
        let (t, e) = lex(s);
        assert!(e.is_empty(), "{e:?}");
        t.into_iter().map(|t| t.tok).filter(|t| *t != Tok::Eof).collect()
    }

    #[test]
    fn strings_of_every_form() {
        assert_eq!(
            toks(r#""a\"b""#),
            vec![Tok::Str {
                value: "a\"b".into(),
                obfuscated: false
            }]
        );
        assert_eq!(
            toks(r"'c:\\x'"),
            vec![Tok::Str {
                value: "c:\\x".into(),
                obfuscated: false
            }]
        );
        assert_eq!(
            toks(r"@'c:\x'"),
            vec![Tok::Str {
                value: "c:\\x".into(),
                obfuscated: false
            }]
        );
        assert_eq!(
            toks(r#"@"say ""hi""""#),
            vec![Tok::Str {
                value: "say \"hi\"".into(),
                obfuscated: false
            }]
        );
        assert_eq!(
            toks("h'secret'"),
            vec![Tok::Str {
                value: "secret".into(),
                obfuscated: true
            }]
        );
        assert_eq!(
            toks("```a\nb```"),
            vec![Tok::Str {
                value: "a\nb".into(),
                obfuscated: false
            }]
        );
        // Octal (1-3 digits, 3 only from 0-3), hex and unicode escapes decode like Kusto's.
        assert_eq!(
            toks(r#""\3|\101|\477|\x41|\u0041|\U0001F600""#),
            vec![Tok::Str {
                value: "\u{3}|A|\u{27}7|A|A|\u{1F600}".into(),
                obfuscated: false
            }]
        );
    }

    #[test]
    fn timespans_are_ticks() {
        assert_eq!(toks("1d"), vec![Tok::Timespan(864_000_000_000)]);
        assert_eq!(toks("1.5h"), vec![Tok::Timespan(54_000_000_000)]);
        assert_eq!(
            toks("100ms 1tick 2min"),
            vec![Tok::Timespan(1_000_000), Tok::Timespan(1), Tok::Timespan(1_200_000_000)]
        );
    }

    #[test]
    fn raw_literals_and_names() {
        assert_eq!(
            toks("datetime(2024-01-01 10:00)"),
            vec![Tok::RawLiteral {
                kind: RawKind::Datetime,
                text: "2024-01-01 10:00".into()
            }]
        );
        assert_eq!(toks("['a b']"), vec![Tok::BracketName("a b".into())]);
        assert_eq!(
            toks("x[0]"),
            vec![Tok::Ident("x".into()), Tok::LBracket, Tok::Long(0), Tok::RBracket]
        );
        assert_eq!(toks("datetime"), vec![Tok::Ident("datetime".into())]);
    }

    #[test]
    fn numbers_and_comments() {
        assert_eq!(
            toks("1 2.5 1e3 0x1F 1. 1.e3 // c\n"),
            vec![
                Tok::Long(1),
                Tok::Real(2.5),
                Tok::Real(1000.0),
                Tok::Long(31),
                Tok::Real(1.0),
                Tok::Real(1000.0)
            ]
        );
        // `.5` is not a number in KQL.
        assert_eq!(toks(".5"), vec![Tok::Dot, Tok::Long(5)]);
        assert_eq!(
            toks("a.b"),
            vec![Tok::Ident("a".into()), Tok::Dot, Tok::Ident("b".into())]
        );
    }

    #[test]
    fn errors_are_located() {
        let (_, e) = lex("x == 'abc");
        assert_eq!(e.len(), 1);
        assert_eq!(e[0].span.range(), 5..9);
        let (_, e) = lex("5.5xyz");
        assert!(e[0].message.contains("not a timespan unit"), "{}", e[0].message);
        assert_eq!(
            toks("2022Report 1d5"),
            vec![Tok::Ident("2022Report".into()), Tok::Ident("1d5".into())]
        );
        let (_, e) = lex(r#""a\qb""#);
        assert!(e[0].message.contains("invalid escape"), "{}", e[0].message);
    }
}
