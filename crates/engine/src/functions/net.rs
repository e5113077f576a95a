//! IPv4 and URL functions: `parse_ipv4`, `ipv4_is_private`, `ipv4_is_in_range`, `ipv4_is_match`,
//! `parse_url`, `parse_urlquery`, `url_encode`, `url_decode` (per-value logic; the UDF is in library.rs).

use serde_json::{Map, Value};

/// An IPv4 address in IP-prefix notation: the address and its prefix length (32 when absent).
/// Only the dotted-decimal form `a.b.c.d[/n]` is accepted; anything else is `None`.
pub fn parse_ipv4_prefix(text: &str) -> Option<(u32, u32)> {
    let (addr, prefix) = match text.split_once('/') {
        Some((a, p)) => {
            if p.is_empty() || p.len() > 2 || !p.bytes().all(|b| b.is_ascii_digit()) {
                return None;
            }
            let p: u32 = p.parse().ok()?;
            if p > 32 {
                return None;
            }
            (a, p)
        }
        None => (text, 32),
    };
    let mut value: u32 = 0;
    let mut parts = 0;
    for part in addr.split('.') {
        if part.is_empty() || part.len() > 3 || !part.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        let octet: u32 = part.parse().ok()?;
        if octet > 255 {
            return None;
        }
        value = (value << 8) | octet;
        parts += 1;
    }
    (parts == 4).then_some((value, prefix))
}

/// The netmask with `prefix` leading one bits.
pub fn mask(prefix: u32) -> u32 {
    if prefix == 0 {
        0
    } else {
        u32::MAX << (32 - prefix.min(32))
    }
}

/// `parse_ipv4`: the address with its prefix applied, as a long.
pub fn parse_ipv4(text: &str) -> Option<i64> {
    let (addr, prefix) = parse_ipv4_prefix(text)?;
    Some(i64::from(addr & mask(prefix)))
}

/// `ipv4_is_private`: whether the (masked) address is in 10/8, 172.16/12 or 192.168/16.
pub fn ipv4_is_private(text: &str) -> Option<bool> {
    let (addr, prefix) = parse_ipv4_prefix(text)?;
    let a = addr & mask(prefix);
    const RANGES: [(u32, u32); 3] = [(0x0A00_0000, 8), (0xAC10_0000, 12), (0xC0A8_0000, 16)];
    Some(RANGES.iter().any(|&(base, p)| a & mask(p) == base))
}

/// `ipv4_is_in_range(ip, range)`: the address compared with the range under the range's prefix.
pub fn ipv4_is_in_range(ip: &str, range: &str) -> Option<bool> {
    let (a, pa) = parse_ipv4_prefix(ip)?;
    let (r, pr) = parse_ipv4_prefix(range)?;
    let a = a & mask(pa);
    Some(a & mask(pr) == r & mask(pr))
}

/// `ipv4_is_match(ip1, ip2[, prefix])`: equal under the smallest of the prefixes involved.
pub fn ipv4_is_match(ip1: &str, ip2: &str, prefix: Option<i64>) -> Option<bool> {
    let (a, pa) = parse_ipv4_prefix(ip1)?;
    let (b, pb) = parse_ipv4_prefix(ip2)?;
    let p = match prefix {
        Some(p) if (0..=32).contains(&p) => pa.min(pb).min(p as u32),
        Some(_) => return None,
        None => pa.min(pb),
    };
    Some(a & mask(p) == b & mask(p))
}

/// The query string `k1=v1&k2=v2` as a property bag (values kept as written).
pub fn query_bag(query: &str) -> Map<String, Value> {
    let mut m = Map::new();
    for pair in query.split('&').filter(|p| !p.is_empty()) {
        let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
        m.insert(k.to_string(), Value::String(v.to_string()));
    }
    m
}

fn is_scheme(s: &str) -> bool {
    let mut chars = s.chars();
    chars.next().is_some_and(|c| c.is_ascii_alphabetic())
        && chars.all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.'))
}

/// `parse_url`: the parts of an absolute URL as a property bag (`Scheme`, `Host`, `Port`, `Path`,
/// `Username`, `Password`, `Query Parameters`, `Fragment`); every part is empty when `url` has no
/// scheme.
pub fn parse_url(url: &str) -> Value {
    let mut scheme = "";
    let mut host = "";
    let mut port = "";
    let mut path = "";
    let mut user = "";
    let mut password = "";
    let mut query = Map::new();
    let mut fragment = "";
    if let Some((s, rest)) = url.split_once("://")
        && is_scheme(s)
    {
        scheme = s;
        let (rest, frag) = rest.split_once('#').unwrap_or((rest, ""));
        fragment = frag;
        let (rest, q) = rest.split_once('?').unwrap_or((rest, ""));
        query = query_bag(q);
        let (authority, p) = match rest.find('/') {
            Some(i) => (&rest[..i], &rest[i..]),
            None => (rest, ""),
        };
        path = p;
        let (userinfo, hostport) = match authority.rfind('@') {
            Some(i) => (&authority[..i], &authority[i + 1..]),
            None => ("", authority),
        };
        if !userinfo.is_empty() {
            let (u, pw) = userinfo.split_once(':').unwrap_or((userinfo, ""));
            user = u;
            password = pw;
        }
        // `[v6::addr]:port` keeps its brackets in the host.
        let port_at = match hostport.rfind(']') {
            Some(end) => hostport[end..].find(':').map(|i| end + i),
            None => hostport.rfind(':'),
        };
        match port_at {
            Some(i) => {
                host = &hostport[..i];
                port = &hostport[i + 1..];
            }
            None => host = hostport,
        }
    }
    let mut m = Map::new();
    m.insert("Scheme".into(), Value::String(scheme.into()));
    m.insert("Host".into(), Value::String(host.into()));
    m.insert("Port".into(), Value::String(port.into()));
    m.insert("Path".into(), Value::String(path.into()));
    m.insert("Username".into(), Value::String(user.into()));
    m.insert("Password".into(), Value::String(password.into()));
    m.insert("Query Parameters".into(), Value::Object(query));
    m.insert("Fragment".into(), Value::String(fragment.into()));
    Value::Object(m)
}

/// `parse_urlquery`: `{"Query Parameters": {...}}`.
pub fn parse_urlquery(query: &str) -> Value {
    let mut m = Map::new();
    m.insert("Query Parameters".into(), Value::Object(query_bag(query)));
    Value::Object(m)
}

/// `url_encode`: application/x-www-form-urlencoded (space as `+`, other bytes outside
/// `A-Z a-z 0-9 - _ . ! * ( )` as lowercase `%xx` of their UTF-8 bytes).
pub fn url_encode(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for b in text.bytes() {
        match b {
            b' ' => out.push('+'),
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'!' | b'*' | b'(' | b')' => {
                out.push(b as char)
            }
            _ => out.push_str(&format!("%{b:02x}")),
        }
    }
    out
}

fn hex(b: u8) -> Option<u8> {
    match b {
        b'0'..=b'9' => Some(b - b'0'),
        b'a'..=b'f' => Some(b - b'a' + 10),
        b'A'..=b'F' => Some(b - b'A' + 10),
        _ => None,
    }
}

/// `url_decode`: `%xx` sequences and `+` (space) decoded; `None` when the bytes are not UTF-8.
/// A `%` not followed by two hex digits is kept as it is.
pub fn url_decode(text: &str) -> Option<String> {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'%' if i + 2 < bytes.len() => match (hex(bytes[i + 1]), hex(bytes[i + 2])) {
                (Some(h), Some(l)) => {
                    out.push(h * 16 + l);
                    i += 3;
                    continue;
                }
                _ => out.push(b'%'),
            },
            b'+' => out.push(b' '),
            b => out.push(b),
        }
        i += 1;
    }
    String::from_utf8(out).ok()
}

/// Whether `text` is 1 to 4 dot-separated decimal octets (0-255).
fn octets(text: &str, count: std::ops::RangeInclusive<usize>) -> bool {
    let parts: Vec<&str> = text.split('.').collect();
    count.contains(&parts.len())
        && parts.iter().all(|p| {
            !p.is_empty()
                && p.len() <= 3
                && p.bytes().all(|b| b.is_ascii_digit())
                && p.parse::<u32>().is_ok_and(|o| o <= 255)
        })
}

/// A valid `has_ipv4_prefix` prefix: a whole IPv4 address, or 1 to 3 octets ending with a dot.
pub fn valid_ipv4_prefix(prefix: &str) -> bool {
    match prefix.strip_suffix('.') {
        Some(head) => octets(head, 1..=3),
        None => octets(prefix, 4..=4),
    }
}

/// The IPv4 addresses in `text` delimited by non-alphanumeric characters (a run of digits and
/// dots touching a letter or digit on either side is not an address).
pub fn ipv4_addresses(text: &str) -> impl Iterator<Item = &str> {
    text.split(|c: char| !(c.is_ascii_digit() || c == '.'))
        .filter_map(move |run| {
            if run.is_empty() {
                return None;
            }
            // The run's neighbours are delimiters unless they are alphanumeric (non-ASCII digits
            // and letters included).
            let start = run.as_ptr() as usize - text.as_ptr() as usize;
            let end = start + run.len();
            let before = text[..start].chars().next_back();
            let after = text[end..].chars().next();
            if before.is_some_and(char::is_alphanumeric) || after.is_some_and(char::is_alphanumeric) {
                return None;
            }
            let ip = run.trim_matches('.');
            octets(ip, 4..=4).then_some(ip)
        })
}

/// `has_any_ipv4_prefix(text, prefixes)`: an address in `text` starts with one of the valid
/// prefixes (a whole-address prefix matches that address only).
pub fn has_any_ipv4_prefix(text: &str, prefixes: &[String]) -> bool {
    ipv4_addresses(text).any(|ip| {
        prefixes.iter().any(|p| {
            if p.ends_with('.') {
                ip.starts_with(p.as_str())
            } else {
                ip == p
            }
        })
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ipv4_parsing() {
        assert_eq!(parse_ipv4("127.0.0.1"), Some(2_130_706_433));
        assert_eq!(parse_ipv4("192.168.1.2/24"), Some(3_232_235_776));
        assert_eq!(parse_ipv4("1.2.3"), None);
        assert_eq!(parse_ipv4("1.2.3.256"), None);
        assert_eq!(parse_ipv4("1.2.3.4/33"), None);
        assert_eq!(parse_ipv4(""), None);
        assert_eq!(ipv4_is_private("172.31.255.255"), Some(true));
        assert_eq!(ipv4_is_private("172.32.0.0"), Some(false));
        assert_eq!(ipv4_is_match("192.168.1.1", "192.168.1.255", Some(24)), Some(true));
        assert_eq!(ipv4_is_in_range("10.1.2.3", "10.0.0.0/0"), Some(true));
    }

    #[test]
    fn urls() {
        let v = parse_url("https://u@[::1]:8080/a?x=1#f");
        assert_eq!(v["Host"], "[::1]");
        assert_eq!(v["Port"], "8080");
        assert_eq!(v["Username"], "u");
        assert_eq!(v["Path"], "/a");
        assert_eq!(parse_url("bing.com")["Host"], "");
        assert_eq!(url_decode("a%20b+c%zz%"), Some("a b c%zz%".into()));
        assert_eq!(url_decode("%ff"), None);
        assert_eq!(url_encode("é /"), "%c3%a9+%2f");
    }
}
