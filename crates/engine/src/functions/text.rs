//! String functions: `base64_encode_tostring`, `base64_decode_tostring`, `countof` (plain),
//! `strrep`, `reverse`, `translate` (per-value logic; the UDF is in library.rs).

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
