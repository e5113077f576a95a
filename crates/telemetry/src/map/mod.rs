//! Event → table-row mapping (Sysmon, Security, System events to Defender/Sentinel tables).
//!
//! Rules follow `telemetry-schema.md` §4; the decisions on its unverified points are listed in
//! `docs/telemetry.md`. Every event also yields a `WindowsEvent` row, and every Security-channel
//! event a `SecurityEvent` row, so nothing read is dropped.

use std::collections::HashMap;

use serde_json::{Map, Value};
use sha1::{Digest, Sha1};

use crate::event::WinEvent;
use crate::row::{Cell, Row};
use crate::schema::{self, TableDef};
use crate::time::{Nanos, parse_datetime};

mod security;
mod sysmon;
mod system;

use security::security_event;
pub use sysmon::{normalize_registry_path, registry_value};
pub use system::service_binary_path;
use system::service_installed;

const SYSMON: &str = "Microsoft-Windows-Sysmon";
const SECURITY_AUDITING: &str = "Microsoft-Windows-Security-Auditing";
const SCM: &str = "Service Control Manager";

/// Entries kept in each process cache before it is reset (bounds memory on huge inputs).
const CACHE_LIMIT: usize = 1_000_000;

fn def(name: &str) -> &'static TableDef {
    match schema::table(name) {
        Some(d) => d,
        // The names passed here are the crate's own constants, all registered in `schema`.
        None => unreachable!("table {name} is not defined"),
    }
}

/// What the process-create event of a process told us, for enriching later events.
#[derive(Debug, Clone, Default)]
struct ProcInfo {
    image: Option<String>,
    command_line: Option<String>,
    pid: Option<i64>,
    created: Option<Nanos>,
    user: Option<String>,
    sha1: Option<String>,
    sha256: Option<String>,
    md5: Option<String>,
    integrity: Option<String>,
    session: Option<i64>,
    logon_id: Option<i64>,
    company: Option<String>,
    product: Option<String>,
    version: Option<String>,
    original_name: Option<String>,
    description: Option<String>,
    parent_guid: Option<String>,
    parent_pid: Option<i64>,
    parent_image: Option<String>,
    token_elevation: Option<String>,
    account_sid: Option<String>,
}

/// Turns [`WinEvent`]s into table rows, remembering process-create events so that later events
/// of the same process (and its children) get their `InitiatingProcess*` columns filled.
#[derive(Debug, Default)]
pub struct Mapper {
    /// (lowercase computer, lowercase ProcessGuid) → process, from Sysmon 1.
    by_guid: HashMap<(String, String), ProcInfo>,
    /// (lowercase computer, pid) → latest process with that pid, from Security 4688.
    by_pid: HashMap<(String, i64), ProcInfo>,
}

/// `basename(p)`: text after the last `\` or `/`.
pub fn basename(p: &str) -> &str {
    p.rsplit(['\\', '/']).next().unwrap_or(p)
}

/// `DOMAIN\user` → (domain, user); no backslash → (None, user).
pub fn split_user(u: &str) -> (Option<&str>, &str) {
    match u.split_once('\\') {
        Some((d, n)) => (Some(d), n),
        None => (None, u),
    }
}

/// `0x3e7` or `999` → 999.
pub fn hex_i64(s: &str) -> Option<i64> {
    let t = s.trim();
    match t.strip_prefix("0x").or_else(|| t.strip_prefix("0X")) {
        Some(h) => u64::from_str_radix(h, 16).ok().map(|v| v as i64),
        None => t.parse().ok(),
    }
}

/// One algorithm's value out of Sysmon `Hashes` (`SHA1=..,MD5=..`), lowercased.
pub fn hash_of(hashes: &str, alg: &str) -> Option<String> {
    hashes
        .split(',')
        .filter_map(|p| p.split_once('='))
        .find(|(a, _)| a.trim().eq_ignore_ascii_case(alg))
        .map(|(_, v)| v.trim().to_ascii_lowercase())
        .filter(|v| !v.is_empty())
}
/// Defender's `IPType` value for an address (`Private`, `Public`, `Loopback`, …).
pub fn ip_type(ip: &str) -> Option<&'static str> {
    use std::net::IpAddr;
    let addr: IpAddr = ip.trim().trim_start_matches('[').trim_end_matches(']').parse().ok()?;
    Some(match addr {
        IpAddr::V4(v4) => {
            let o = v4.octets();
            if o[0] == 127 {
                "Loopback"
            } else if v4.is_broadcast() {
                "Broadcast"
            } else if v4.is_private() {
                "Private"
            } else if o[0] == 0 || v4.is_link_local() || o[0] >= 224 {
                "Reserved"
            } else {
                "Public"
            }
        }
        IpAddr::V6(v6) => {
            let s = v6.segments();
            if v6.is_loopback() {
                "Loopback"
            } else if v6.to_ipv4_mapped().is_some() {
                "FourToSixMapping"
            } else if s[0] == 0x2001 && s[1] == 0 {
                "Teredo"
            } else if (s[0] & 0xfe00) == 0xfc00 {
                "Private"
            } else if (s[0] & 0xffc0) == 0xfe80 || (s[0] & 0xff00) == 0xff00 || v6.is_unspecified() {
                "Reserved"
            } else {
                "Public"
            }
        }
    })
}

/// Lowercase hex SHA-1 of a device name: the synthetic `DeviceId`.
pub fn device_id(computer: &str) -> String {
    let digest = sha1(computer.to_lowercase().as_bytes());
    digest.iter().map(|b| format!("{b:02x}")).collect()
}

fn sha1(data: &[u8]) -> [u8; 20] {
    Sha1::digest(data).into()
}

fn protocol_name(n: &str) -> String {
    match n.trim() {
        "1" => "Icmp".into(),
        "6" => "Tcp".into(),
        "17" => "Udp".into(),
        "58" => "Icmpv6".into(),
        "tcp" | "TCP" => "Tcp".into(),
        "udp" | "UDP" => "Udp".into(),
        other => other.to_string(),
    }
}

fn level_name(level: Option<i64>) -> Option<&'static str> {
    Some(match level? {
        0 | 4 => "Information",
        1 => "Critical",
        2 => "Error",
        3 => "Warning",
        5 => "Verbose",
        _ => return None,
    })
}

/// Builds an `AdditionalFields` JSON object from the present, non-empty event fields.
fn extra(ev: &WinEvent, fields: &[&str]) -> Map<String, Value> {
    let mut m = Map::new();
    for f in fields {
        if let Some(v) = ev.get(f) {
            m.insert((*f).to_string(), Value::String(v.to_string()));
        }
    }
    m
}

/// Writes a Device row's `AdditionalFields`: the event's own fields, then `EventSource`, the log
/// and event id the row was mapped from (`Sysmon/1`, `Security/4688`, `System/7045`), so that one
/// process creation seen by two logs can be recognised as one.
fn set_extra(row: &mut Row, ev: &WinEvent, mut m: Map<String, Value>) {
    m.insert("EventSource".into(), Value::String(event_source(ev)));
    row.set("AdditionalFields", Cell::Str(Value::Object(m).to_string()));
}

/// `Log/EventID` for the providers the mapping knows: `Sysmon/1`, `Security/4688`, `System/7045`
/// (other providers: their name).
fn event_source(ev: &WinEvent) -> String {
    let p = ev.provider.as_str();
    let log = if p.eq_ignore_ascii_case(SYSMON) {
        "Sysmon"
    } else if p.eq_ignore_ascii_case(SECURITY_AUDITING) {
        "Security"
    } else if p.eq_ignore_ascii_case(SCM) {
        "System"
    } else {
        p
    };
    format!("{log}/{}", ev.event_id)
}

fn key(computer: &str, id: &str) -> (String, String) {
    (computer.to_lowercase(), id.trim().to_lowercase())
}

impl Mapper {
    /// A mapper with empty process caches.
    pub fn new() -> Mapper {
        Mapper::default()
    }

    /// Maps one event; `out` receives every row it yields (at least its `WindowsEvent` row).
    pub fn map(&mut self, ev: &WinEvent, out: &mut dyn FnMut(Row)) {
        out(self.windows_event(ev));
        if ev.channel.eq_ignore_ascii_case("Security") {
            out(security_event(ev));
        }
        let provider = ev.provider.as_str();
        let rows: Vec<Row> = if provider.eq_ignore_ascii_case(SYSMON) {
            self.sysmon(ev)
        } else if provider.eq_ignore_ascii_case(SECURITY_AUDITING) {
            self.security(ev)
        } else if provider.eq_ignore_ascii_case(SCM) && ev.event_id == 7045 {
            vec![service_installed(ev)]
        } else {
            Vec::new()
        };
        for r in rows {
            out(r);
        }
    }

    fn base(&self, table: &str, ev: &WinEvent, action: &str) -> Row {
        let mut r = Row::new(def(table));
        r.time("Timestamp", ev.time);
        r.time("TimeGenerated", ev.time);
        if !ev.computer.is_empty() {
            r.text("DeviceName", Some(&ev.computer));
            r.set("DeviceId", Cell::Str(device_id(&ev.computer)));
        }
        r.text("ActionType", Some(action));
        r.long("ReportId", ev.record_id);
        r.text("Type", Some(table));
        r
    }

    fn windows_event(&self, ev: &WinEvent) -> Row {
        let mut r = Row::new(def(schema::WINDOWS_EVENT));
        r.time("TimeGenerated", ev.time);
        r.text("Computer", Some(&ev.computer));
        r.text("Channel", Some(&ev.channel));
        r.text("Provider", Some(&ev.provider));
        r.long("EventID", Some(i64::from(ev.event_id)));
        r.long("EventLevel", ev.level);
        r.text("EventLevelName", level_name(ev.level));
        r.text("EventRecordId", ev.record_id.map(|v| v.to_string()).as_deref());
        r.text("Keywords", ev.keywords.as_deref());
        r.text("Opcode", ev.opcode.map(|v| v.to_string()).as_deref());
        r.long("Task", ev.task);
        r.long("Version", ev.version);
        r.long("SystemProcessId", ev.process_id);
        r.long("SystemThreadId", ev.thread_id);
        r.text("SystemUserId", ev.user_id.as_deref());
        r.text("Correlation", ev.activity_id.as_deref());
        if let Some(d) = ev.event_data_text() {
            r.set("EventData", Cell::Str(d));
        }
        if let Some(u) = &ev.user_data {
            r.set("UserData", Cell::Str(u.to_string()));
        }
        r.text("Type", Some(schema::WINDOWS_EVENT));
        r
    }

    fn remember(&mut self, k: (String, String), p: ProcInfo) {
        if self.by_guid.len() >= CACHE_LIMIT {
            self.by_guid.clear();
        }
        self.by_guid.insert(k, p);
    }

    fn proc_by_guid(&self, computer: &str, guid: Option<&str>) -> Option<&ProcInfo> {
        self.by_guid.get(&key(computer, guid?))
    }

    /// Fills `InitiatingProcess*` columns from a known process (and its parent).
    fn enrich(&self, row: &mut Row, computer: &str, p: &ProcInfo, with_identity: bool) {
        if with_identity {
            row.fill("InitiatingProcessId", opt_long(p.pid));
            if let Some(img) = &p.image {
                row.fill("InitiatingProcessFolderPath", Cell::Str(img.clone()));
                row.fill("InitiatingProcessFileName", Cell::Str(basename(img).to_string()));
            }
        }
        if let Some(u) = &p.user {
            let (d, n) = split_user(u);
            if let Some(d) = d {
                row.fill("InitiatingProcessAccountDomain", Cell::Str(d.to_string()));
            }
            row.fill("InitiatingProcessAccountName", Cell::Str(n.to_string()));
        }
        row.fill("InitiatingProcessAccountSid", opt_str(&p.account_sid));
        row.fill("InitiatingProcessCommandLine", opt_str(&p.command_line));
        row.fill("InitiatingProcessCreationTime", opt_time(p.created));
        row.fill("InitiatingProcessSHA1", opt_str(&p.sha1));
        row.fill("InitiatingProcessSHA256", opt_str(&p.sha256));
        row.fill("InitiatingProcessMD5", opt_str(&p.md5));
        row.fill("InitiatingProcessIntegrityLevel", opt_str(&p.integrity));
        row.fill("InitiatingProcessTokenElevation", opt_str(&p.token_elevation));
        row.fill("InitiatingProcessSessionId", opt_long(p.session));
        row.fill("InitiatingProcessLogonId", opt_long(p.logon_id));
        row.fill("InitiatingProcessVersionInfoCompanyName", opt_str(&p.company));
        row.fill("InitiatingProcessVersionInfoProductName", opt_str(&p.product));
        row.fill("InitiatingProcessVersionInfoProductVersion", opt_str(&p.version));
        row.fill(
            "InitiatingProcessVersionInfoOriginalFileName",
            opt_str(&p.original_name),
        );
        row.fill("InitiatingProcessVersionInfoFileDescription", opt_str(&p.description));
        row.fill("InitiatingProcessParentId", opt_long(p.parent_pid));
        if let Some(pi) = &p.parent_image {
            row.fill("InitiatingProcessParentFileName", Cell::Str(basename(pi).to_string()));
        }
        if let Some(gp) = self.proc_by_guid(computer, p.parent_guid.as_deref()) {
            row.fill("InitiatingProcessParentCreationTime", opt_time(gp.created));
        }
    }
}

fn opt_str(v: &Option<String>) -> Cell {
    v.clone().map(Cell::Str).unwrap_or(Cell::Null)
}

fn opt_long(v: Option<i64>) -> Cell {
    v.map(Cell::Long).unwrap_or(Cell::Null)
}

fn opt_time(v: Option<Nanos>) -> Cell {
    v.map(Cell::Time).unwrap_or(Cell::Null)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sha1_known_vectors() {
        let hex = |d: [u8; 20]| d.iter().map(|b| format!("{b:02x}")).collect::<String>();
        assert_eq!(hex(sha1(b"")), "da39a3ee5e6b4b0d3255bfef95601890afd80709");
        assert_eq!(hex(sha1(b"abc")), "a9993e364706816aba3e25717850c26c9cd0d89d");
        let long = b"abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq";
        assert_eq!(hex(sha1(long)), "84983e441c3bd26ebaae4aa1f95129e5e54670f1");
        assert_eq!(device_id("WS01"), device_id("ws01"));
    }

    #[test]
    fn helpers() {
        assert_eq!(basename("C:\\Windows\\System32\\cmd.exe"), "cmd.exe");
        assert_eq!(basename("System"), "System");
        assert_eq!(split_user("CORP\\alice"), (Some("CORP"), "alice"));
        assert_eq!(split_user("alice"), (None, "alice"));
        assert_eq!(hex_i64("0x3e7"), Some(999));
        assert_eq!(hex_i64("0xc0b2a1"), Some(12_628_641));
        let h = "SHA1=AB,MD5=CD,SHA256=EF,IMPHASH=01";
        assert_eq!(hash_of(h, "sha256").as_deref(), Some("ef"));
        assert_eq!(hash_of(h, "SHA1").as_deref(), Some("ab"));
        assert_eq!(hash_of("MD5=", "MD5"), None);
    }

    #[test]
    fn ip_types() {
        assert_eq!(ip_type("10.0.0.5"), Some("Private"));
        assert_eq!(ip_type("8.8.8.8"), Some("Public"));
        assert_eq!(ip_type("127.0.0.1"), Some("Loopback"));
        assert_eq!(ip_type("255.255.255.255"), Some("Broadcast"));
        assert_eq!(ip_type("224.0.0.252"), Some("Reserved"));
        assert_eq!(ip_type("169.254.1.1"), Some("Reserved"));
        assert_eq!(ip_type("::1"), Some("Loopback"));
        assert_eq!(ip_type("fe80::1"), Some("Reserved"));
        assert_eq!(ip_type("fd00::1"), Some("Private"));
        assert_eq!(ip_type("::ffff:1.2.3.4"), Some("FourToSixMapping"));
        assert_eq!(ip_type("2001:0:1::1"), Some("Teredo"));
        assert_eq!(ip_type("2a00:1450::1"), Some("Public"));
        assert_eq!(ip_type("-"), None);
    }
}
