//! String functions: `base64_encode_tostring`, `base64_decode_tostring`, `countof` (plain),
//! `indexof`, `strrep`, `reverse`, `translate` (per-value logic; the UDF is in library.rs).

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;

pub fn base64_encode(text: &str) -> String {
    STANDARD.encode(text.as_bytes())
}

/// `None` when the text is not base64 or the decoded bytes are not UTF-8.
pub fn base64_decode(text: &str) -> Option<String> {
    let bytes = STANDARD.decode(text.as_bytes()).ok()?;
    String::from_utf8(bytes).ok()
}

/// `countof(source, search)`: occurrences of `search`, overlapping ones included.
pub fn count_plain(source: &str, search: &str) -> i64 {
    if search.is_empty() {
        return 0;
    }
    let mut n = 0;
    let mut from = 0;
    while let Some(pos) = source[from..].find(search) {
        n += 1;
        let at = from + pos;
        // Continue one character after the start of this match.
        from = at + source[at..].chars().next().map_or(1, char::len_utf8);
    }
    n
}

/// `indexof(source, search, start, length, occurrence)` in characters: the index of the
/// `occurrence`-th match that lies wholly within `length` characters from the search position
/// (`-1` is unlimited); each further occurrence is searched from one character after the last
/// one, with the same length (the documented examples: `indexof("abcdefgabcdefg", "cde", 1, 10,
/// 2)` is 9). A negative start counts from the end (documented `indexof("abcdefg", "cde", -5)`
/// is 2). `None` (null) for a length below -1 or a negative occurrence; -1 when not found.
pub fn index_of(source: &str, search: &str, start: i64, length: i64, occurrence: i64) -> Option<i64> {
    if length < -1 || occurrence < 0 {
        return None;
    }
    let hay: Vec<char> = source.chars().collect();
    let needle: Vec<char> = search.chars().collect();
    let n = hay.len() as i64;
    let mut pos = if start < 0 { (n + start).max(0) } else { start };
    let mut found = -1;
    for _ in 0..occurrence.max(1) {
        if pos > n {
            return Some(-1);
        }
        let end = if length == -1 {
            n
        } else {
            pos.saturating_add(length).min(n)
        };
        let window = &hay[pos as usize..end as usize];
        let at = if needle.is_empty() {
            Some(0)
        } else {
            window.windows(needle.len()).position(|w| w == needle.as_slice())
        };
        match at {
            Some(k) => {
                found = pos + k as i64;
                pos = found + 1;
            }
            None => return Some(-1),
        }
    }
    Some(found)
}

/// Kusto repeats at most this many times.
pub const STRREP_MAX: i64 = 1024;

/// `strrep(value, n, delimiter)`; `None` when `n` is below 1.
pub fn strrep(value: &str, n: i64, delim: &str) -> Option<String> {
    if n < 1 {
        return None;
    }
    let n = n.min(STRREP_MAX) as usize;
    let mut out = String::with_capacity((value.len() + delim.len()) * n);
    for i in 0..n {
        if i > 0 {
            out.push_str(delim);
        }
        out.push_str(value);
    }
    Some(out)
}

pub fn reverse(text: &str) -> String {
    text.chars().rev().collect()
}

/// `translate(search, replace, source)`: each character of `search` becomes the character at the
/// same place in `replace` (the last one when `replace` is shorter), or is removed when `replace`
/// is empty.
pub fn translate(search: &str, replace: &str, source: &str) -> String {
    let from: Vec<char> = search.chars().collect();
    let to: Vec<char> = replace.chars().collect();
    source
        .chars()
        .filter_map(|c| match from.iter().position(|&f| f == c) {
            None => Some(c),
            Some(i) => to.get(i).or(to.last()).copied(),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn index_of_arguments() {
        // The documented examples of indexof().
        assert_eq!(index_of("abcdefg", "cde", 0, -1, 1), Some(2));
        assert_eq!(index_of("abcdefg", "cde", 1, 2, 1), Some(-1));
        assert_eq!(index_of("abcdefg", "cde", -5, -1, 1), Some(2));
        assert_eq!(index_of("abcdefgabcdefg", "cde", 1, 10, 2), Some(9));
        assert_eq!(index_of("abcdefgabcdefg", "cde", 1, -1, 3), Some(-1));
        assert_eq!(index_of("abc", "b", 0, -2, 1), None);
        assert_eq!(index_of("abc", "b", 0, -1, -1), None);
        assert_eq!(index_of("abc", "c", 99, -1, 1), Some(-1));
        assert_eq!(index_of("ab", "b", i64::MIN, i64::MAX, 1), Some(1));
    }

    #[test]
    fn text_functions() {
        assert_eq!(count_plain("aaaa", "aa"), 3);
        assert_eq!(count_plain("ababa", "aba"), 2);
        assert_eq!(count_plain("ééé", "éé"), 2);
        assert_eq!(base64_decode("S3VzdG8="), Some("Kusto".into()));
        assert_eq!(base64_decode("U3RyaW5n0KHR0tGA0L7Rh9C60LA="), None);
        assert_eq!(base64_encode("Kusto"), "S3VzdG8=");
        assert_eq!(translate("krasp", "otsku", "spark"), "kusto");
        assert_eq!(translate("abc", "", "ab"), "");
        assert_eq!(translate("abc", "x", "abc"), "xxx");
        assert_eq!(strrep("ab", 3, "."), Some("ab.ab.ab".into()));
        assert_eq!(reverse("aé"), "éa");
    }
}
