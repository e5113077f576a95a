//! The `cidr` modifier: IPv4 and IPv6 network membership.

use std::net::IpAddr;

use serde_norway::Value as Yaml;

use super::Value;
use crate::error::{ErrorKind, FieldError, FieldResult};
use crate::yaml::scalar_text;

/// An IPv4 or IPv6 network from the `cidr` modifier.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Cidr {
    /// Network address (host bits cleared).
    pub network: IpAddr,
    /// Prefix length in bits.
    pub prefix: u8,
}

impl Cidr {
    /// Parses `a.b.c.d/n` or `x::y/n`; a bare address is a single-host network.
    pub fn parse(s: &str) -> Option<Cidr> {
        let s = s.trim();
        let (addr, prefix) = match s.split_once('/') {
            Some((a, p)) => (a, Some(p.parse::<u8>().ok()?)),
            None => (s, None),
        };
        let ip: IpAddr = addr.parse().ok()?;
        let max = if ip.is_ipv4() { 32 } else { 128 };
        let prefix = prefix.unwrap_or(max);
        if prefix > max {
            return None;
        }
        Some(Cidr {
            network: mask(ip, prefix),
            prefix,
        })
    }

    /// True when `ip` lies in the network (IPv4 and IPv6 never mix).
    pub fn contains(&self, ip: IpAddr) -> bool {
        ip.is_ipv4() == self.network.is_ipv4() && mask(ip, self.prefix) == self.network
    }
}

fn mask(ip: IpAddr, prefix: u8) -> IpAddr {
    match ip {
        IpAddr::V4(v4) => {
            let bits = u32::from(v4);
            let m = if prefix == 0 {
                0
            } else {
                u32::MAX << (32 - u32::from(prefix))
            };
            IpAddr::V4((bits & m).into())
        }
        IpAddr::V6(v6) => {
            let bits = u128::from(v6);
            let m = if prefix == 0 {
                0
            } else {
                u128::MAX << (128 - u32::from(prefix))
            };
            IpAddr::V6((bits & m).into())
        }
    }
}

/// The `cidr` value of one YAML scalar.
pub(super) fn cidr_value(item: &Yaml, path: &str) -> FieldResult<Value> {
    let text = scalar_text(item).unwrap_or_default();
    let c = Cidr::parse(&text)
        .ok_or_else(|| FieldError::new(path, ErrorKind::Value(format!("`{text}` is not a CIDR network"))))?;
    Ok(Value::Cidr(c))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::modifier::test_util::fm;

    #[test]
    fn cidr_parsing_and_membership() {
        let f = fm("ip|cidr", "['10.0.0.0/8', '::1/128']").unwrap_or_else(|e| panic!("{e:?}"));
        let Value::Cidr(c) = &f.values[0] else {
            panic!("cidr expected")
        };
        assert!(c.contains("10.1.2.3".parse().unwrap_or(IpAddr::from([0, 0, 0, 0]))));
        assert!(!c.contains("11.1.2.3".parse().unwrap_or(IpAddr::from([0, 0, 0, 0]))));
        let Some(c6) = Cidr::parse("fe80::/10") else {
            panic!("parse")
        };
        assert!(c6.contains("fe80::1".parse().unwrap_or(IpAddr::from([0, 0, 0, 0]))));
        assert!(!c6.contains("10.0.0.1".parse().unwrap_or(IpAddr::from([0, 0, 0, 0]))));
        assert_eq!(Cidr::parse("10.0.0.0/33"), None);
        assert_eq!(Cidr::parse("0.0.0.0/0").map(|c| c.prefix), Some(0));
        assert!(matches!(
            fm("ip|cidr", "'nope'").map_err(|e| e.kind),
            Err(ErrorKind::Value(_))
        ));
    }
}
