//! Text encodings of evidence files: a UTF-8 byte order mark is dropped, and UTF-16 (little or
//! big endian, with a byte order mark, or without one when the text starts with ASCII) is
//! decoded to UTF-8 as a stream, before the format is recognised. Windows PowerShell 5 writes
//! UTF-16 LE with a BOM for `>`, `Out-File` and `Export-Csv -Encoding Unicode`.

use std::io::{self, Read};

/// How a text file was encoded on disk (when it was not plain UTF-8).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TextEncoding {
    /// UTF-8 with a byte order mark.
    Utf8Bom,
    /// UTF-16 little endian.
    Utf16Le,
    /// UTF-16 big endian.
    Utf16Be,
}

impl TextEncoding {
    /// Recognises the encoding from a file's first bytes; returns it and the length of its byte
    /// order mark. `None`: plain UTF-8 (or binary), read as it is.
    pub fn detect(head: &[u8]) -> Option<(TextEncoding, usize)> {
        if head.starts_with(b"\xEF\xBB\xBF") {
            return Some((TextEncoding::Utf8Bom, 3));
        }
        // FF FE 00 00 would be UTF-32 LE, which nothing writes for evidence: not decoded.
        if head.starts_with(b"\xFF\xFE") && !head.starts_with(b"\xFF\xFE\x00\x00") {
            return Some((TextEncoding::Utf16Le, 2));
        }
        if head.starts_with(b"\xFE\xFF") {
            return Some((TextEncoding::Utf16Be, 2));
        }
        // Without a BOM: the first characters are ASCII text in 16-bit units.
        let pairs: Vec<(u8, u8)> = head.chunks_exact(2).take(16).map(|p| (p[0], p[1])).collect();
        let text = |b: u8| b == b'\t' || b == b'\n' || b == b'\r' || (0x20..0x7f).contains(&b);
        if pairs.len() >= 4 {
            if pairs.iter().all(|&(lo, hi)| hi == 0 && text(lo)) {
                return Some((TextEncoding::Utf16Le, 0));
            }
            if pairs.iter().all(|&(hi, lo)| hi == 0 && text(lo)) {
                return Some((TextEncoding::Utf16Be, 0));
            }
        }
        None
    }
}

/// Decodes a UTF-16 byte stream to UTF-8. Unpaired surrogates and a final odd byte become
/// U+FFFD, so any input decodes.
pub struct Utf16Decoder<R: Read> {
    inner: R,
    big_endian: bool,
    /// Undecoded input bytes.
    raw: Vec<u8>,
    raw_pos: usize,
    /// A high surrogate waiting for its pair.
    high: Option<u16>,
    /// Decoded UTF-8 not yet handed out.
    out: Vec<u8>,
    out_pos: usize,
    eof: bool,
}

impl<R: Read> Utf16Decoder<R> {
    /// Decodes `inner` (positioned after any byte order mark).
    pub fn new(inner: R, big_endian: bool) -> Self {
        Utf16Decoder {
            inner,
            big_endian,
            raw: Vec::with_capacity(64 * 1024),
            raw_pos: 0,
            high: None,
            out: Vec::with_capacity(96 * 1024),
            out_pos: 0,
            eof: false,
        }
    }

    fn push_char(&mut self, c: char) {
        let mut buf = [0u8; 4];
        self.out.extend_from_slice(c.encode_utf8(&mut buf).as_bytes());
    }

    /// Decodes the next input block into `out`; false at the end of the input.
    fn fill(&mut self) -> io::Result<bool> {
        if self.eof {
            return Ok(false);
        }
        // Keep a leftover odd byte, read more.
        self.raw.drain(..self.raw_pos);
        self.raw_pos = 0;
        let keep = self.raw.len();
        self.raw.resize(keep + 64 * 1024, 0);
        let n = loop {
            match self.inner.read(&mut self.raw[keep..]) {
                Ok(n) => break n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => {
                    self.raw.truncate(keep);
                    return Err(e);
                }
            }
        };
        self.raw.truncate(keep + n);
        self.out.clear();
        self.out_pos = 0;
        if n == 0 {
            self.eof = true;
            if self.high.take().is_some() {
                self.push_char(char::REPLACEMENT_CHARACTER);
            }
            if !self.raw.is_empty() {
                self.raw.clear();
                self.push_char(char::REPLACEMENT_CHARACTER);
            }
            return Ok(!self.out.is_empty());
        }
        while self.raw_pos + 2 <= self.raw.len() {
            let pair = [self.raw[self.raw_pos], self.raw[self.raw_pos + 1]];
            self.raw_pos += 2;
            let unit = if self.big_endian {
                u16::from_be_bytes(pair)
            } else {
                u16::from_le_bytes(pair)
            };
            match unit {
                0xD800..=0xDBFF => {
                    if self.high.replace(unit).is_some() {
                        self.push_char(char::REPLACEMENT_CHARACTER);
                    }
                }
                0xDC00..=0xDFFF => match self.high.take() {
                    Some(hi) => {
                        let c = 0x10000 + ((u32::from(hi) - 0xD800) << 10) + (u32::from(unit) - 0xDC00);
                        self.push_char(char::from_u32(c).unwrap_or(char::REPLACEMENT_CHARACTER));
                    }
                    None => self.push_char(char::REPLACEMENT_CHARACTER),
                },
                _ => {
                    if self.high.take().is_some() {
                        self.push_char(char::REPLACEMENT_CHARACTER);
                    }
                    self.push_char(char::from_u32(u32::from(unit)).unwrap_or(char::REPLACEMENT_CHARACTER));
                }
            }
        }
        Ok(true)
    }
}

impl<R: Read> Read for Utf16Decoder<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        while self.out_pos >= self.out.len() {
            if !self.fill()? {
                return Ok(0);
            }
        }
        let n = buf.len().min(self.out.len() - self.out_pos);
        buf[..n].copy_from_slice(&self.out[self.out_pos..self.out_pos + n]);
        self.out_pos += n;
        Ok(n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn decode(bytes: &[u8], big_endian: bool) -> String {
        let mut s = String::new();
        // A one-byte reader exercises units and surrogate pairs split across reads.
        struct OneByte<'a>(&'a [u8]);
        impl Read for OneByte<'_> {
            fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
                match (self.0.split_first(), buf.is_empty()) {
                    (Some((b, rest)), false) => {
                        buf[0] = *b;
                        self.0 = rest;
                        Ok(1)
                    }
                    _ => Ok(0),
                }
            }
        }
        Utf16Decoder::new(OneByte(bytes), big_endian)
            .read_to_string(&mut s)
            .unwrap_or_else(|e| panic!("{e}"));
        s
    }

    #[test]
    fn decodes_both_byte_orders_and_surrogate_pairs() {
        let text = "<Event>Müller 😀 Ω</Event>\r\n";
        let le: Vec<u8> = text.encode_utf16().flat_map(u16::to_le_bytes).collect();
        let be: Vec<u8> = text.encode_utf16().flat_map(u16::to_be_bytes).collect();
        assert_eq!(decode(&le, false), text);
        assert_eq!(decode(&be, true), text);
    }

    #[test]
    fn broken_input_becomes_replacement_characters() {
        // Lone high surrogate, lone low surrogate, odd final byte.
        let bytes = [0x41, 0x00, 0x3D, 0xD8, 0x42, 0x00, 0x00, 0xDC, 0x43];
        assert_eq!(decode(&bytes, false), "A\u{FFFD}B\u{FFFD}\u{FFFD}");
        assert_eq!(decode(&[0x3D, 0xD8], false), "\u{FFFD}");
        assert_eq!(decode(&[], false), "");
    }

    #[test]
    fn detection() {
        assert_eq!(
            TextEncoding::detect(b"\xEF\xBB\xBF<E"),
            Some((TextEncoding::Utf8Bom, 3))
        );
        assert_eq!(TextEncoding::detect(b"\xFF\xFE<\x00"), Some((TextEncoding::Utf16Le, 2)));
        assert_eq!(TextEncoding::detect(b"\xFE\xFF\x00<"), Some((TextEncoding::Utf16Be, 2)));
        assert_eq!(
            TextEncoding::detect(b"{\x00\"\x00a\x00\"\x00"),
            Some((TextEncoding::Utf16Le, 0))
        );
        assert_eq!(
            TextEncoding::detect(b"\x00{\x00\"\x00a\x00\""),
            Some((TextEncoding::Utf16Be, 0))
        );
        assert_eq!(TextEncoding::detect(b"\xFF\xFE\x00\x00"), None);
        assert_eq!(TextEncoding::detect(b"ElfFile\x00"), None);
        assert_eq!(TextEncoding::detect(b"PAR1"), None);
        assert_eq!(TextEncoding::detect(b"{\"a\": 1}"), None);
        assert_eq!(TextEncoding::detect(b""), None);
    }
}
