//! Encoding modifiers: `base64`, `base64offset`, `utf16le`/`wide`, `utf16be`, `utf16` and `windash`.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;

use super::string::{Stage, stage_to_pattern};
use super::{Modifier, use_error};
use crate::error::{ErrorKind, FieldError, FieldResult, Unsupported};
use crate::pattern::Pattern;

/// Applies one encoding modifier to a value of the transformation pipeline, pushing the results
/// to `out`; other modifiers pass the value through. `windashed` records that `windash` was
/// applied, after which values can no longer be encoded.
pub(super) fn encode(
    m: Modifier,
    st: Stage,
    windashed: &mut bool,
    path: &str,
    out: &mut Vec<Stage>,
) -> FieldResult<()> {
    match m {
        Modifier::Windash => {
            let p = stage_to_pattern(st, path)?;
            *windashed = true;
            out.push(Stage::Str(p.windash()));
        }
        Modifier::Base64 | Modifier::Base64Offset => {
            if *windashed {
                return Err(FieldError::new(
                    path,
                    ErrorKind::Unsupported(Unsupported::WindashEncoding),
                ));
            }
            let bytes = stage_bytes(st, path)?;
            if m == Modifier::Base64 {
                out.push(Stage::Str(Pattern::literal(&base64_encode(&bytes))));
            } else {
                out.extend(
                    base64_offsets(&bytes)
                        .into_iter()
                        .map(|s| Stage::Str(Pattern::literal(&s))),
                );
            }
        }
        Modifier::Utf16Le | Modifier::Wide | Modifier::Utf16Be | Modifier::Utf16 => {
            if *windashed {
                return Err(FieldError::new(
                    path,
                    ErrorKind::Unsupported(Unsupported::WindashEncoding),
                ));
            }
            let text = match st {
                Stage::Str(p) => p
                    .as_literal()
                    .ok_or_else(|| FieldError::new(path, ErrorKind::Unsupported(Unsupported::EncodingWildcards)))?,
                Stage::Bytes(_) => {
                    return Err(use_error(path, format!("`{m}` applied to an already encoded value")));
                }
            };
            let mut bytes = Vec::new();
            if m == Modifier::Utf16 {
                bytes.extend_from_slice(&[0xFF, 0xFE]);
            }
            for u in text.encode_utf16() {
                let b = if m == Modifier::Utf16Be {
                    u.to_be_bytes()
                } else {
                    u.to_le_bytes()
                };
                bytes.extend_from_slice(&b);
            }
            out.push(Stage::Bytes(bytes));
        }
        _ => out.push(st),
    }
    Ok(())
}

fn stage_bytes(st: Stage, path: &str) -> FieldResult<Vec<u8>> {
    match st {
        Stage::Bytes(b) => Ok(b),
        Stage::Str(p) => p
            .as_literal()
            .map(String::into_bytes)
            .ok_or_else(|| FieldError::new(path, ErrorKind::Unsupported(Unsupported::EncodingWildcards))),
    }
}

/// Standard Base64 with `=` padding.
fn base64_encode(data: &[u8]) -> String {
    STANDARD.encode(data)
}

/// The three `base64offset` variants: the Base64 characters that depend only on `data` when it
/// is preceded by 0, 1 or 2 unknown bytes and followed by unknown bytes.
fn base64_offsets(data: &[u8]) -> Vec<String> {
    let mut out = Vec::with_capacity(3);
    for shift in 0..3usize {
        let mut buf = vec![0u8; shift];
        buf.extend_from_slice(data);
        let enc = base64_encode(&buf);
        // Each Base64 character covers 6 bits. Skip characters touching the `shift` filler bytes
        // and keep only characters whose 6 bits lie entirely within `data`.
        let start = (8 * shift).div_ceil(6);
        let end = (8 * (shift + data.len())) / 6;
        if start < end {
            out.push(enc[start..end].to_owned());
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::modifier::Value;
    use crate::modifier::test_util::{fm, literal_of, pats};
    use crate::pattern::Token;

    #[test]
    fn base64_encodes_the_plain_value() {
        let f = fm("a|base64", "'cmd'").unwrap_or_else(|e| panic!("{e:?}"));
        assert_eq!(literal_of(&f.values[0]).as_deref(), Some("Y21k"));
        assert_eq!(base64_encode(b""), "");
        assert_eq!(base64_encode(b"f"), "Zg==");
        assert_eq!(base64_encode(b"fo"), "Zm8=");
        assert_eq!(base64_encode(b"foobar"), "Zm9vYmFy");
        // wildcards cannot be encoded
        assert_eq!(
            fm("a|base64", "'c*d'").map_err(|e| e.kind),
            Err(ErrorKind::Unsupported(Unsupported::EncodingWildcards))
        );
    }

    #[test]
    fn base64offset_yields_three_shifted_variants() {
        // Values as they appear inside base64 of "xxx/bin/bash" style strings.
        let v = base64_offsets(b"/bin/bash");
        assert_eq!(v, ["L2Jpbi9iYXNo", "9iaW4vYmFza", "vYmluL2Jhc2"]);
        // Every variant really occurs in an encoding of text containing the value at that offset.
        for (i, prefix) in ["", "a", "ab"].iter().enumerate() {
            let enc = base64_encode(format!("{prefix}/bin/bash and more").as_bytes());
            assert!(enc.contains(&v[i]), "{enc} / {}", v[i]);
        }
        let f = fm("a|base64offset|contains", "'/bin/bash'").unwrap_or_else(|e| panic!("{e:?}"));
        assert_eq!(pats(&f), ["*L2Jpbi9iYXNo*", "*9iaW4vYmFza*", "*vYmluL2Jhc2*"]);
    }

    #[test]
    fn utf16_variants() {
        let f = fm("a|utf16le|base64", "'cmd'").unwrap_or_else(|e| panic!("{e:?}"));
        assert_eq!(literal_of(&f.values[0]), Some(base64_encode(b"c\0m\0d\0")));
        let f = fm("a|wide|base64", "'cmd'").unwrap_or_else(|e| panic!("{e:?}"));
        assert_eq!(literal_of(&f.values[0]), Some(base64_encode(b"c\0m\0d\0")));
        let f = fm("a|utf16be|base64", "'cmd'").unwrap_or_else(|e| panic!("{e:?}"));
        assert_eq!(literal_of(&f.values[0]), Some(base64_encode(b"\0c\0m\0d")));
        let f = fm("a|utf16|base64", "'cmd'").unwrap_or_else(|e| panic!("{e:?}"));
        assert_eq!(literal_of(&f.values[0]), Some(base64_encode(b"\xFF\xFEc\0m\0d\0")));
        // utf16le without base64 is matched as text with NULs
        let f = fm("a|wide", "'ab'").unwrap_or_else(|e| panic!("{e:?}"));
        assert_eq!(literal_of(&f.values[0]).as_deref(), Some("a\0b\0"));
    }

    #[test]
    fn windash_marks_dashes() {
        let f = fm("a|windash|contains", "' -enc '").unwrap_or_else(|e| panic!("{e:?}"));
        let Value::Pattern(p) = &f.values[0] else {
            panic!("pattern expected")
        };
        assert_eq!(
            p.tokens(),
            &[
                Token::AnyString,
                Token::Literal(" ".into()),
                Token::Dash,
                Token::Literal("enc ".into()),
                Token::AnyString
            ]
        );
        assert_eq!(
            fm("a|windash|base64", "'-a'").map_err(|e| e.kind),
            Err(ErrorKind::Unsupported(Unsupported::WindashEncoding))
        );
    }
}
