//! Event → table-row mapping (Sysmon, Security, System events to Defender/Sentinel tables).
//!
//! Rules follow `telemetry-schema.md` §4; the decisions on its unverified points are listed in
//! `docs/telemetry.md`. Every event also yields a `WindowsEvent` row, and every Security-channel
//! event a `SecurityEvent` row, so nothing read is dropped.

use std::collections::HashMap;

use serde_json::{Map, Value};

use crate::event::WinEvent;
use crate::row::{Cell, Row};
use crate::schema::{self, TableDef};
use crate::time::{Nanos, parse_datetime};

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

/// Registry path from Sysmon's spelling to Defender's (`HKLM\` → `HKEY_LOCAL_MACHINE\`, …).
pub fn normalize_registry_path(p: &str) -> String {
    const PREFIXES: [(&str, &str); 8] = [
        ("\\REGISTRY\\MACHINE", "HKEY_LOCAL_MACHINE"),
        ("\\REGISTRY\\USER", "HKEY_CURRENT_USER"),
        ("HKLM", "HKEY_LOCAL_MACHINE"),
        ("HKU", "HKEY_CURRENT_USER"),
        ("HKCU", "HKEY_CURRENT_USER"),
        ("HKCR", "HKEY_LOCAL_MACHINE\\SOFTWARE\\Classes"),
        ("HKEY_USERS", "HKEY_CURRENT_USER"),
        ("HKEY_CLASSES_ROOT", "HKEY_LOCAL_MACHINE\\SOFTWARE\\Classes"),
    ];
    let mut out = p.to_string();
    for (from, to) in PREFIXES {
        let n = from.len();
        let matches = p.len() >= n
            && p.is_char_boundary(n)
            && p[..n].eq_ignore_ascii_case(from)
            && (p.len() == n || p.as_bytes()[n] == b'\\');
        if matches {
            out = format!("{to}{}", &p[n..]);
            break;
        }
    }
    const CCS: &str = "HKEY_LOCAL_MACHINE\\SYSTEM\\CurrentControlSet";
    let n = CCS.len();
    if out.len() >= n
        && out.is_char_boundary(n)
        && out[..n].eq_ignore_ascii_case(CCS)
        && (out.len() == n || out.as_bytes()[n] == b'\\')
    {
        out = format!("HKEY_LOCAL_MACHINE\\SYSTEM\\ControlSet001{}", &out[n..]);
    }
    out
}

/// Sysmon 13 `Details` → (`RegistryValueType`, `RegistryValueData`).
pub fn registry_value(details: &str) -> (&'static str, Option<String>) {
    let d = details.trim();
    let inner = |prefix: &str| {
        d.get(prefix.len()..)
            .map(str::trim)
            .and_then(|r| r.strip_prefix('('))
            .and_then(|r| r.strip_suffix(')'))
            .map(str::to_string)
    };
    let starts = |p: &str| d.len() >= p.len() && d.is_char_boundary(p.len()) && d[..p.len()].eq_ignore_ascii_case(p);
    if starts("DWORD") {
        let v = inner("DWORD").and_then(|h| hex_i64(&h)).map(|v| v.to_string());
        return ("Dword", v.or_else(|| Some(d.to_string())));
    }
    if starts("QWORD") {
        let v = inner("QWORD").and_then(|h| {
            let (hi, lo) = h.split_once('-')?;
            let hi = u64::try_from(hex_i64(hi)?).ok()?;
            let lo = u64::try_from(hex_i64(lo)?).ok()?;
            Some(((hi << 32) | (lo & 0xffff_ffff)).to_string())
        });
        return ("QWord", v.or_else(|| Some(d.to_string())));
    }
    if d.eq_ignore_ascii_case("Binary Data") {
        return ("Binary", None);
    }
    ("String", Some(details.to_string()))
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

/// A 7045 `ImagePath` / 4697 `ServiceFileName` as a plain file path (quotes and arguments
/// removed, `\SystemRoot\` and `%SystemRoot%` expanded to `C:\Windows`).
pub fn service_binary_path(image_path: &str) -> String {
    let t = image_path.trim();
    let mut path = if let Some(rest) = t.strip_prefix('"') {
        rest.split('"').next().unwrap_or(rest).to_string()
    } else {
        let lower = t.to_ascii_lowercase();
        let cut = [".exe", ".sys", ".dll"]
            .iter()
            .filter_map(|ext| {
                lower
                    .match_indices(ext)
                    .map(|(i, _)| i + ext.len())
                    .find(|&end| end == lower.len() || lower.as_bytes()[end] == b' ')
            })
            .min();
        match cut {
            Some(end) => t[..end].to_string(),
            None => t.to_string(),
        }
    };
    for prefix in ["\\SystemRoot\\", "%SystemRoot%\\", "%windir%\\"] {
        let n = prefix.len();
        if path.len() >= n && path.is_char_boundary(n) && path[..n].eq_ignore_ascii_case(prefix) {
            path = format!("C:\\Windows\\{}", &path[n..]);
        }
    }
    if let Some(rest) = path.strip_prefix("\\??\\") {
        path = rest.to_string();
    }
    let lower = path.to_ascii_lowercase();
    if lower.starts_with("system32\\") || lower.starts_with("syswow64\\") {
        path = format!("C:\\Windows\\{path}");
    }
    path
}

/// Lowercase hex SHA-1 of a device name: the synthetic `DeviceId`.
pub fn device_id(computer: &str) -> String {
    let digest = sha1(computer.to_lowercase().as_bytes());
    digest.iter().map(|b| format!("{b:02x}")).collect()
}

fn sha1(data: &[u8]) -> [u8; 20] {
    let mut h: [u32; 5] = [0x6745_2301, 0xEFCD_AB89, 0x98BA_DCFE, 0x1032_5476, 0xC3D2_E1F0];
    let mut msg = data.to_vec();
    let bit_len = (data.len() as u64).wrapping_mul(8);
    msg.push(0x80);
    while msg.len() % 64 != 56 {
        msg.push(0);
    }
    msg.extend_from_slice(&bit_len.to_be_bytes());
    for block in msg.chunks_exact(64) {
        let mut w = [0u32; 80];
        for (i, word) in block.chunks_exact(4).enumerate() {
            w[i] = u32::from_be_bytes([word[0], word[1], word[2], word[3]]);
        }
        for i in 16..80 {
            w[i] = (w[i - 3] ^ w[i - 8] ^ w[i - 14] ^ w[i - 16]).rotate_left(1);
        }
        let [mut a, mut b, mut c, mut d, mut e] = h;
        for (i, wi) in w.iter().enumerate() {
            let (f, k) = match i {
                0..=19 => ((b & c) | (!b & d), 0x5A82_7999),
                20..=39 => (b ^ c ^ d, 0x6ED9_EBA1),
                40..=59 => ((b & c) | (b & d) | (c & d), 0x8F1B_BCDC),
                _ => (b ^ c ^ d, 0xCA62_C1D6),
            };
            let t = a
                .rotate_left(5)
                .wrapping_add(f)
                .wrapping_add(e)
                .wrapping_add(k)
                .wrapping_add(*wi);
            e = d;
            d = c;
            c = b.rotate_left(30);
            b = a;
            a = t;
        }
        for (x, y) in h.iter_mut().zip([a, b, c, d, e]) {
            *x = x.wrapping_add(y);
        }
    }
    let mut out = [0u8; 20];
    for (i, v) in h.iter().enumerate() {
        out[i * 4..i * 4 + 4].copy_from_slice(&v.to_be_bytes());
    }
    out
}

fn token_elevation(code: &str) -> Option<&'static str> {
    match code.trim() {
        "%%1936" => Some("TokenElevationTypeDefault"),
        "%%1937" => Some("TokenElevationTypeFull"),
        "%%1938" => Some("TokenElevationTypeLimited"),
        _ => None,
    }
}

fn integrity_from_label(sid: &str) -> Option<&'static str> {
    match sid.trim().to_ascii_uppercase().as_str() {
        "S-1-16-0" => Some("Untrusted"),
        "S-1-16-4096" => Some("Low"),
        "S-1-16-8192" | "S-1-16-8448" => Some("Medium"),
        "S-1-16-12288" => Some("High"),
        "S-1-16-16384" | "S-1-16-20480" => Some("System"),
        _ => None,
    }
}

fn logon_type_name(t: &str) -> Option<&'static str> {
    Some(match t.trim() {
        "0" => "System",
        "2" => "Interactive",
        "3" => "Network",
        "4" => "Batch",
        "5" => "Service",
        "7" => "Unlock",
        "8" => "NetworkCleartext",
        "9" => "NewCredentials",
        "10" => "RemoteInteractive",
        "11" => "CachedInteractive",
        "12" => "CachedRemoteInteractive",
        "13" => "CachedUnlock",
        _ => return None,
    })
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

    /// Columns shared by Sysmon events that name their process by `ProcessGuid`/`Image`/`User`.
    fn sysmon_actor(&self, row: &mut Row, ev: &WinEvent) {
        row.long("InitiatingProcessId", ev.get("ProcessId").and_then(hex_i64));
        if let Some(img) = ev.get("Image") {
            row.text("InitiatingProcessFolderPath", Some(img));
            row.text("InitiatingProcessFileName", Some(basename(img)));
        }
        if let Some(u) = ev.get("User") {
            let (d, n) = split_user(u);
            row.text("InitiatingProcessAccountDomain", d);
            row.text("InitiatingProcessAccountName", Some(n));
        }
        if let Some(p) = self.proc_by_guid(&ev.computer, ev.get("ProcessGuid")) {
            self.enrich(row, &ev.computer, p, true);
        }
    }

    fn sysmon(&mut self, ev: &WinEvent) -> Vec<Row> {
        match ev.event_id {
            1 => vec![self.sysmon_process_create(ev)],
            3 => vec![self.sysmon_network(ev)],
            7 => vec![self.sysmon_image_load(ev)],
            11 | 23 | 26 => vec![self.sysmon_file(ev)],
            12..=14 => self.sysmon_registry(ev).into_iter().collect(),
            22 => vec![self.sysmon_dns(ev)],
            25 => vec![self.sysmon_tampering(ev)],
            _ => Vec::new(),
        }
    }

    fn sysmon_process_create(&mut self, ev: &WinEvent) -> Row {
        let mut r = self.base(schema::DEVICE_PROCESS_EVENTS, ev, "ProcessCreated");
        let hashes = ev.get("Hashes").unwrap_or("");
        let info = ProcInfo {
            image: ev.get("Image").map(str::to_string),
            command_line: ev.get("CommandLine").map(str::to_string),
            pid: ev.get("ProcessId").and_then(hex_i64),
            created: ev.get("UtcTime").and_then(parse_datetime),
            user: ev.get("User").map(str::to_string),
            sha1: hash_of(hashes, "SHA1"),
            sha256: hash_of(hashes, "SHA256"),
            md5: hash_of(hashes, "MD5"),
            integrity: ev.get("IntegrityLevel").map(str::to_string),
            session: ev.get("TerminalSessionId").and_then(hex_i64),
            logon_id: ev.get("LogonId").and_then(hex_i64),
            company: ev.get("Company").map(str::to_string),
            product: ev.get("Product").map(str::to_string),
            version: ev.get("FileVersion").map(str::to_string),
            original_name: ev.get("OriginalFileName").map(str::to_string),
            description: ev.get("Description").map(str::to_string),
            parent_guid: ev.get("ParentProcessGuid").map(str::to_string),
            parent_pid: ev.get("ParentProcessId").and_then(hex_i64),
            parent_image: ev.get("ParentImage").map(str::to_string),
            token_elevation: None,
            account_sid: None,
        };
        if let Some(img) = &info.image {
            r.text("FolderPath", Some(img));
            r.text("FileName", Some(basename(img)));
        }
        r.text("SHA1", info.sha1.as_deref());
        r.text("SHA256", info.sha256.as_deref());
        r.text("MD5", info.md5.as_deref());
        r.text("ProcessVersionInfoCompanyName", info.company.as_deref());
        r.text("ProcessVersionInfoProductName", info.product.as_deref());
        r.text("ProcessVersionInfoProductVersion", info.version.as_deref());
        r.text("ProcessVersionInfoOriginalFileName", info.original_name.as_deref());
        r.text("ProcessVersionInfoFileDescription", info.description.as_deref());
        r.long("ProcessId", info.pid);
        r.text("ProcessCommandLine", info.command_line.as_deref());
        r.text("ProcessIntegrityLevel", info.integrity.as_deref());
        r.time("ProcessCreationTime", info.created);
        if let Some(u) = &info.user {
            let (d, n) = split_user(u);
            r.text("AccountDomain", d);
            r.text("AccountName", Some(n));
        }
        r.long("LogonId", info.logon_id);
        r.long("CreatedProcessSessionId", info.session);
        r.long("InitiatingProcessId", info.parent_pid);
        if let Some(pi) = &info.parent_image {
            r.text("InitiatingProcessFolderPath", Some(pi));
            r.text("InitiatingProcessFileName", Some(basename(pi)));
        }
        r.text("InitiatingProcessCommandLine", ev.get("ParentCommandLine"));
        if let Some(u) = ev.get("ParentUser") {
            let (d, n) = split_user(u);
            r.text("InitiatingProcessAccountDomain", d);
            r.text("InitiatingProcessAccountName", Some(n));
        }
        if let Some(parent) = self.proc_by_guid(&ev.computer, info.parent_guid.as_deref()) {
            self.enrich(&mut r, &ev.computer, parent, false);
        }
        let mut m = extra(
            ev,
            &[
                "ProcessGuid",
                "ParentProcessGuid",
                "CurrentDirectory",
                "LogonGuid",
                "RuleName",
            ],
        );
        if let Some(imp) = hash_of(hashes, "IMPHASH") {
            m.insert("Imphash".into(), Value::String(imp));
        }
        set_extra(&mut r, ev, m);
        if let Some(guid) = ev.get("ProcessGuid") {
            let k = key(&ev.computer, guid);
            self.remember(k, info);
        }
        r
    }

    fn sysmon_network(&self, ev: &WinEvent) -> Row {
        let outbound = ev
            .get("Initiated")
            .map(|v| !v.eq_ignore_ascii_case("false"))
            .unwrap_or(true);
        let action = if outbound {
            "ConnectionSuccess"
        } else {
            "InboundConnectionAccepted"
        };
        let mut r = self.base(schema::DEVICE_NETWORK_EVENTS, ev, action);
        let (local, remote) = if outbound {
            ("Source", "Destination")
        } else {
            ("Destination", "Source")
        };
        let lip = ev.get(&format!("{local}Ip"));
        let rip = ev.get(&format!("{remote}Ip"));
        r.text("LocalIP", lip);
        r.text("RemoteIP", rip);
        r.long("LocalPort", ev.get(&format!("{local}Port")).and_then(hex_i64));
        r.long("RemotePort", ev.get(&format!("{remote}Port")).and_then(hex_i64));
        r.text("RemoteUrl", ev.get(&format!("{remote}Hostname")));
        r.text("LocalIPType", lip.and_then(ip_type));
        r.text("RemoteIPType", rip.and_then(ip_type));
        r.text("Protocol", ev.get("Protocol").map(protocol_name).as_deref());
        self.sysmon_actor(&mut r, ev);
        set_extra(
            &mut r,
            ev,
            extra(
                ev,
                &[
                    "ProcessGuid",
                    "SourceHostname",
                    "SourcePortName",
                    "DestinationPortName",
                    "SourceIsIpv6",
                    "DestinationIsIpv6",
                    "RuleName",
                ],
            ),
        );
        r
    }

    fn sysmon_image_load(&self, ev: &WinEvent) -> Row {
        let mut r = self.base(schema::DEVICE_IMAGE_LOAD_EVENTS, ev, "ImageLoaded");
        if let Some(p) = ev.get("ImageLoaded") {
            r.text("FolderPath", Some(p));
            r.text("FileName", Some(basename(p)));
        }
        let hashes = ev.get("Hashes").unwrap_or("");
        r.text("SHA1", hash_of(hashes, "SHA1").as_deref());
        r.text("SHA256", hash_of(hashes, "SHA256").as_deref());
        r.text("MD5", hash_of(hashes, "MD5").as_deref());
        self.sysmon_actor(&mut r, ev);
        set_extra(
            &mut r,
            ev,
            extra(
                ev,
                &[
                    "ProcessGuid",
                    "FileVersion",
                    "Description",
                    "Product",
                    "Company",
                    "OriginalFileName",
                    "Signed",
                    "Signature",
                    "SignatureStatus",
                    "RuleName",
                ],
            ),
        );
        r
    }

    fn sysmon_file(&self, ev: &WinEvent) -> Row {
        let action = if ev.event_id == 11 {
            "FileCreated"
        } else {
            "FileDeleted"
        };
        let mut r = self.base(schema::DEVICE_FILE_EVENTS, ev, action);
        if let Some(p) = ev.get("TargetFilename") {
            r.text("FolderPath", Some(p));
            r.text("FileName", Some(basename(p)));
        }
        let hashes = ev.get("Hashes").unwrap_or("");
        r.text("SHA1", hash_of(hashes, "SHA1").as_deref());
        r.text("SHA256", hash_of(hashes, "SHA256").as_deref());
        r.text("MD5", hash_of(hashes, "MD5").as_deref());
        self.sysmon_actor(&mut r, ev);
        set_extra(
            &mut r,
            ev,
            extra(
                ev,
                &["ProcessGuid", "CreationUtcTime", "IsExecutable", "Archived", "RuleName"],
            ),
        );
        r
    }

    fn sysmon_registry(&self, ev: &WinEvent) -> Option<Row> {
        let event_type = ev.get("EventType").unwrap_or(match ev.event_id {
            13 => "SetValue",
            14 => "RenameKey",
            _ => "CreateKey",
        });
        let action = match event_type {
            t if t.eq_ignore_ascii_case("CreateKey") => "RegistryKeyCreated",
            t if t.eq_ignore_ascii_case("DeleteKey") => "RegistryKeyDeleted",
            t if t.eq_ignore_ascii_case("DeleteValue") => "RegistryValueDeleted",
            t if t.eq_ignore_ascii_case("SetValue") => "RegistryValueSet",
            t if t.eq_ignore_ascii_case("RenameKey") => "RegistryKeyRenamed",
            _ => return None,
        };
        let mut r = self.base(schema::DEVICE_REGISTRY_EVENTS, ev, action);
        let target = ev.get("TargetObject").map(normalize_registry_path);
        match action {
            "RegistryValueSet" | "RegistryValueDeleted" => {
                if let Some(t) = &target {
                    let (k, v) = t.rsplit_once('\\').unwrap_or((t.as_str(), ""));
                    let v = if v == "(Default)" { "" } else { v };
                    r.text("RegistryKey", Some(k));
                    r.text("RegistryValueName", Some(v));
                    if action == "RegistryValueDeleted" {
                        r.text("PreviousRegistryKey", Some(k));
                        r.text("PreviousRegistryValueName", Some(v));
                    }
                }
                if let Some(d) = ev.raw("Details") {
                    let (ty, data) = registry_value(d);
                    r.text("RegistryValueType", Some(ty));
                    r.text("RegistryValueData", data.as_deref());
                }
            }
            "RegistryKeyRenamed" => {
                r.text("RegistryKey", ev.get("NewName").map(normalize_registry_path).as_deref());
                r.text("PreviousRegistryKey", target.as_deref());
            }
            "RegistryKeyDeleted" => {
                r.text("RegistryKey", target.as_deref());
                r.text("PreviousRegistryKey", target.as_deref());
            }
            _ => r.text("RegistryKey", target.as_deref()),
        }
        self.sysmon_actor(&mut r, ev);
        set_extra(&mut r, ev, extra(ev, &["ProcessGuid", "EventType", "RuleName"]));
        Some(r)
    }

    fn sysmon_dns(&self, ev: &WinEvent) -> Row {
        let mut r = self.base(schema::DEVICE_EVENTS, ev, "DnsQueryResponse");
        self.sysmon_actor(&mut r, ev);
        let mut m = Map::new();
        if let Some(q) = ev.get("QueryName") {
            m.insert("DnsQueryString".into(), Value::String(q.to_string()));
        }
        if let Some(res) = ev.get("QueryResults") {
            m.insert("DnsQueryResult".into(), Value::Array(dns_results(res)));
        }
        for f in ["QueryStatus", "ProcessGuid", "RuleName"] {
            if let Some(v) = ev.get(f) {
                m.insert(f.into(), Value::String(v.to_string()));
            }
        }
        set_extra(&mut r, ev, m);
        r
    }

    fn sysmon_tampering(&self, ev: &WinEvent) -> Row {
        let mut r = self.base(schema::DEVICE_EVENTS, ev, "ProcessTampering");
        if let Some(img) = ev.get("Image") {
            r.text("FolderPath", Some(img));
            r.text("FileName", Some(basename(img)));
        }
        r.long("ProcessId", ev.get("ProcessId").and_then(hex_i64));
        self.sysmon_actor(&mut r, ev);
        set_extra(&mut r, ev, extra(ev, &["Type", "ProcessGuid", "RuleName"]));
        r
    }

    fn security(&mut self, ev: &WinEvent) -> Vec<Row> {
        match ev.event_id {
            4688 => vec![self.security_process_create(ev)],
            4624 | 4625 => vec![self.security_logon(ev)],
            5156 | 5154 => vec![self.security_wfp(ev)],
            5157 => vec![self.security_wfp_blocked(ev)],
            4697 => vec![service_installed(ev)],
            _ => Vec::new(),
        }
    }

    fn security_process_create(&mut self, ev: &WinEvent) -> Row {
        let mut r = self.base(schema::DEVICE_PROCESS_EVENTS, ev, "ProcessCreated");
        let image = ev.get("NewProcessName");
        if let Some(img) = image {
            r.text("FolderPath", Some(img));
            r.text("FileName", Some(basename(img)));
        }
        let pid = ev.get("NewProcessId").and_then(hex_i64);
        r.long("ProcessId", pid);
        r.text("ProcessCommandLine", ev.get("CommandLine"));
        let elevation = ev.get("TokenElevationType").and_then(token_elevation);
        r.text("ProcessTokenElevation", elevation);
        let integrity = ev.get("MandatoryLabel").and_then(integrity_from_label);
        r.text("ProcessIntegrityLevel", integrity);
        r.time("ProcessCreationTime", ev.time);
        let target_sid = ev.get("TargetUserSid").filter(|s| *s != "S-1-0-0");
        let who = if target_sid.is_some() { "Target" } else { "Subject" };
        let sid = ev.get(&format!("{who}UserSid"));
        let name = ev.get(&format!("{who}UserName"));
        let domain = ev.get(&format!("{who}DomainName"));
        let logon = ev.get(&format!("{who}LogonId")).and_then(hex_i64);
        r.text("AccountSid", sid);
        r.text("AccountName", name);
        r.text("AccountDomain", domain);
        r.long("LogonId", logon);
        let creator_pid = ev.get("ProcessId").and_then(hex_i64);
        r.long("InitiatingProcessId", creator_pid);
        if let Some(p) = ev.get("ParentProcessName") {
            r.text("InitiatingProcessFolderPath", Some(p));
            r.text("InitiatingProcessFileName", Some(basename(p)));
        }
        r.text("InitiatingProcessAccountSid", ev.get("SubjectUserSid"));
        r.text("InitiatingProcessAccountName", ev.get("SubjectUserName"));
        r.text("InitiatingProcessAccountDomain", ev.get("SubjectDomainName"));
        r.long("InitiatingProcessLogonId", ev.get("SubjectLogonId").and_then(hex_i64));
        let computer = ev.computer.to_lowercase();
        if let Some(cp) = creator_pid
            && let Some(parent) = self.by_pid.get(&(computer.clone(), cp))
        {
            // Only trust the pid match if the remembered process is the same image.
            let same_image = match (ev.get("ParentProcessName"), parent.image.as_deref()) {
                (Some(a), Some(b)) => a.eq_ignore_ascii_case(b),
                _ => true,
            };
            if same_image {
                self.fill_from_pid_parent(&mut r, &computer, parent);
            }
        }
        set_extra(
            &mut r,
            ev,
            extra(ev, &["TargetLogonId", "TargetUserSid", "TokenElevationType"]),
        );
        if let Some(p) = pid {
            if self.by_pid.len() >= CACHE_LIMIT {
                self.by_pid.clear();
            }
            let info = ProcInfo {
                image: image.map(str::to_string),
                command_line: ev.get("CommandLine").map(str::to_string),
                pid,
                created: ev.time,
                integrity: integrity.map(str::to_string),
                token_elevation: elevation.map(str::to_string),
                parent_pid: creator_pid,
                parent_image: ev.get("ParentProcessName").map(str::to_string),
                account_sid: sid.map(str::to_string),
                ..ProcInfo::default()
            };
            self.by_pid.insert((computer, p), info);
        }
        r
    }

    /// `InitiatingProcess*` columns of a 4688 row from the creator's own earlier 4688.
    fn fill_from_pid_parent(&self, r: &mut Row, computer: &str, p: &ProcInfo) {
        if let Some(img) = &p.image {
            r.fill("InitiatingProcessFolderPath", Cell::Str(img.clone()));
            r.fill("InitiatingProcessFileName", Cell::Str(basename(img).to_string()));
        }
        r.fill("InitiatingProcessCommandLine", opt_str(&p.command_line));
        r.fill("InitiatingProcessCreationTime", opt_time(p.created));
        r.fill("InitiatingProcessIntegrityLevel", opt_str(&p.integrity));
        r.fill("InitiatingProcessTokenElevation", opt_str(&p.token_elevation));
        r.fill("InitiatingProcessParentId", opt_long(p.parent_pid));
        if let Some(pi) = &p.parent_image {
            let name = basename(pi).to_string();
            r.fill("InitiatingProcessParentFileName", Cell::Str(name));
        }
        let grandparent = p.parent_pid.and_then(|g| self.by_pid.get(&(computer.to_string(), g)));
        if let Some(gp) = grandparent {
            r.fill("InitiatingProcessParentCreationTime", opt_time(gp.created));
        }
    }

    fn security_logon(&self, ev: &WinEvent) -> Row {
        let action = if ev.event_id == 4624 {
            "LogonSuccess"
        } else {
            "LogonFailed"
        };
        let mut r = self.base(schema::DEVICE_LOGON_EVENTS, ev, action);
        let lt = ev.get("LogonType");
        r.text("LogonType", lt.and_then(logon_type_name).or(lt));
        r.text("AccountSid", ev.get("TargetUserSid"));
        r.text("AccountName", ev.get("TargetUserName"));
        r.text("AccountDomain", ev.get("TargetDomainName"));
        r.long("LogonId", ev.get("TargetLogonId").and_then(hex_i64));
        r.text("Protocol", ev.get("AuthenticationPackageName"));
        let ip = ev.get("IpAddress");
        r.text("RemoteIP", ip);
        r.text("RemoteIPType", ip.and_then(ip_type));
        r.long("RemotePort", ev.get("IpPort").and_then(hex_i64).filter(|p| *p != 0));
        r.text("RemoteDeviceName", ev.get("WorkstationName"));
        if ev.event_id == 4625 {
            let sub = ev.get("SubStatus").filter(|s| hex_i64(s) != Some(0));
            r.text("FailureReason", sub.or_else(|| ev.get("Status")));
        }
        r.long(
            "InitiatingProcessId",
            ev.get("ProcessId").and_then(hex_i64).filter(|p| *p != 0),
        );
        if let Some(p) = ev.get("ProcessName") {
            r.text("InitiatingProcessFolderPath", Some(p));
            r.text("InitiatingProcessFileName", Some(basename(p)));
        }
        r.text("InitiatingProcessAccountSid", ev.get("SubjectUserSid"));
        r.text("InitiatingProcessAccountName", ev.get("SubjectUserName"));
        r.text("InitiatingProcessAccountDomain", ev.get("SubjectDomainName"));
        set_extra(
            &mut r,
            ev,
            extra(
                ev,
                &[
                    "LogonProcessName",
                    "AuthenticationPackageName",
                    "LmPackageName",
                    "LogonGuid",
                    "ElevatedToken",
                    "ImpersonationLevel",
                    "RestrictedAdminMode",
                    "VirtualAccount",
                    "TargetLinkedLogonId",
                    "Status",
                    "SubStatus",
                    "FailureReason",
                    "KeyLength",
                ],
            ),
        );
        r
    }

    fn wfp_common(&self, r: &mut Row, ev: &WinEvent) {
        let lip = ev.get("SourceAddress");
        let rip = ev.get("DestAddress");
        r.text("LocalIP", lip);
        r.text("RemoteIP", rip);
        r.text("LocalIPType", lip.and_then(ip_type));
        r.text("RemoteIPType", rip.and_then(ip_type));
        r.long("LocalPort", ev.get("SourcePort").and_then(hex_i64));
        r.long("RemotePort", ev.get("DestPort").and_then(hex_i64));
        r.text("Protocol", ev.get("Protocol").map(protocol_name).as_deref());
        let pid = ev.get("ProcessID").or_else(|| ev.get("ProcessId")).and_then(hex_i64);
        r.long("InitiatingProcessId", pid);
        if let Some(app) = ev.get("Application") {
            r.text("InitiatingProcessFolderPath", Some(app));
            r.text("InitiatingProcessFileName", Some(basename(app)));
        }
        set_extra(
            r,
            ev,
            extra(
                ev,
                &[
                    "Direction",
                    "FilterRTID",
                    "LayerName",
                    "LayerRTID",
                    "RemoteUserID",
                    "RemoteMachineID",
                ],
            ),
        );
    }

    fn security_wfp(&self, ev: &WinEvent) -> Row {
        let action = if ev.event_id == 5154 {
            "ListeningConnectionCreated"
        } else if ev.get("Direction") == Some("%%14592") {
            "InboundConnectionAccepted"
        } else {
            "ConnectionSuccess"
        };
        let mut r = self.base(schema::DEVICE_NETWORK_EVENTS, ev, action);
        self.wfp_common(&mut r, ev);
        r
    }

    fn security_wfp_blocked(&self, ev: &WinEvent) -> Row {
        let action = if ev.get("Direction") == Some("%%14592") {
            "FirewallInboundConnectionBlocked"
        } else {
            "FirewallOutboundConnectionBlocked"
        };
        let mut r = self.base(schema::DEVICE_EVENTS, ev, action);
        self.wfp_common(&mut r, ev);
        r
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

/// Sysmon 22 `QueryResults` → `[{"DnsQueryType": …, "Result": …}]`.
fn dns_results(results: &str) -> Vec<Value> {
    let mut out = Vec::new();
    for item in results.split(';').map(str::trim).filter(|s| !s.is_empty()) {
        let (qtype, value) = if let Some(rest) = item.strip_prefix("type:") {
            let rest = rest.trim_start();
            let (num, val) = rest.split_once(' ').unwrap_or((rest, ""));
            let name = match num {
                "5" => "CNAME".to_string(),
                "1" => "A".to_string(),
                "28" => "AAAA".to_string(),
                "12" => "PTR".to_string(),
                "15" => "MX".to_string(),
                "16" => "TXT".to_string(),
                "33" => "SRV".to_string(),
                other => format!("TYPE{other}"),
            };
            (name, val.trim().to_string())
        } else if let Some(v4) = item.strip_prefix("::ffff:") {
            ("A".to_string(), v4.to_string())
        } else if item.contains(':') {
            ("AAAA".to_string(), item.to_string())
        } else {
            ("A".to_string(), item.to_string())
        };
        let mut m = Map::new();
        m.insert("DnsQueryType".into(), Value::String(qtype));
        m.insert("Result".into(), Value::String(value));
        out.push(Value::Object(m));
    }
    out
}

/// System 7045 / Security 4697 → DeviceEvents `ServiceInstalled`.
fn service_installed(ev: &WinEvent) -> Row {
    let mut r = Row::new(def(schema::DEVICE_EVENTS));
    r.time("Timestamp", ev.time);
    r.time("TimeGenerated", ev.time);
    if !ev.computer.is_empty() {
        r.text("DeviceName", Some(&ev.computer));
        r.set("DeviceId", Cell::Str(device_id(&ev.computer)));
    }
    r.text("ActionType", Some("ServiceInstalled"));
    r.long("ReportId", ev.record_id);
    r.text("Type", Some(schema::DEVICE_EVENTS));
    let is_7045 = ev.event_id == 7045;
    let image = if is_7045 {
        ev.get("ImagePath")
    } else {
        ev.get("ServiceFileName")
    };
    if let Some(img) = image {
        let path = service_binary_path(img);
        r.text("FileName", Some(basename(&path)));
        r.text("FolderPath", Some(&path));
    }
    let mut m = Map::new();
    let mut put = |k: &str, v: Option<&str>| {
        if let Some(v) = v {
            m.insert(k.to_string(), Value::String(v.to_string()));
        }
    };
    put("ServiceName", ev.get("ServiceName"));
    put(
        "ServiceAccount",
        if is_7045 {
            ev.get("AccountName")
        } else {
            ev.get("ServiceAccount")
        },
    );
    put(
        "ServiceStartType",
        if is_7045 {
            ev.get("StartType")
        } else {
            ev.get("ServiceStartType")
        },
    );
    put("ServiceType", ev.get("ServiceType"));
    put("ImagePath", image);
    set_extra(&mut r, ev, m);
    if is_7045 {
        r.text("InitiatingProcessAccountSid", ev.user_id.as_deref());
    } else {
        r.text("InitiatingProcessAccountSid", ev.get("SubjectUserSid"));
        r.text("InitiatingProcessAccountName", ev.get("SubjectUserName"));
        r.text("InitiatingProcessAccountDomain", ev.get("SubjectDomainName"));
        r.long("InitiatingProcessLogonId", ev.get("SubjectLogonId").and_then(hex_i64));
    }
    r
}

/// Appends `s` with the XML special characters escaped.
fn push_xml_escaped(out: &mut String, s: &str) {
    let mut rest = s;
    while let Some(i) = rest.find(['<', '>', '&', '"']) {
        out.push_str(&rest[..i]);
        out.push_str(match rest.as_bytes()[i] {
            b'<' => "&lt;",
            b'>' => "&gt;",
            b'&' => "&amp;",
            _ => "&quot;",
        });
        rest = &rest[i + 1..];
    }
    out.push_str(rest);
}

fn activity(id: u32) -> Option<&'static str> {
    Some(match id {
        1102 => "The audit log was cleared.",
        4624 => "An account was successfully logged on.",
        4625 => "An account failed to log on.",
        4634 => "An account was logged off.",
        4648 => "A logon was attempted using explicit credentials.",
        4672 => "Special privileges assigned to new logon.",
        4688 => "A new process has been created.",
        4689 => "A process has exited.",
        4697 => "A service was installed in the system.",
        4698 => "A scheduled task was created.",
        4720 => "A user account was created.",
        4732 => "A member was added to a security-enabled local group.",
        5140 => "A network share object was accessed.",
        5145 => "A network share object was checked to see whether client can be granted desired access.",
        5154 => {
            "The Windows Filtering Platform has permitted an application or service to listen on a port for incoming connections."
        }
        5156 => "The Windows Filtering Platform has permitted a connection.",
        5157 => "The Windows Filtering Platform has blocked a connection.",
        _ => return None,
    })
}

/// A Security-channel event as a Sentinel `SecurityEvent` row: named data fields land in the
/// columns of the same name; `EventData` keeps the whole data block as XML text.
fn security_event(ev: &WinEvent) -> Row {
    let mut r = Row::new(def(schema::SECURITY_EVENT));
    r.time("TimeGenerated", ev.time);
    r.text("Computer", Some(&ev.computer));
    r.text("Channel", Some(&ev.channel));
    r.text("EventSourceName", Some(&ev.provider));
    r.long("EventID", Some(i64::from(ev.event_id)));
    let act = match activity(ev.event_id) {
        Some(t) => format!("{} - {t}", ev.event_id),
        None => ev.event_id.to_string(),
    };
    r.text("Activity", Some(&act));
    r.text("Level", ev.level.map(|l| l.to_string()).as_deref());
    r.long("Task", ev.task);
    let mut xml = String::from("<EventData xmlns=\"http://schemas.microsoft.com/win/2004/08/events/event\">");
    for (n, v) in &ev.data {
        xml.push_str("<Data Name=\"");
        push_xml_escaped(&mut xml, n);
        xml.push_str("\">");
        push_xml_escaped(&mut xml, v);
        xml.push_str("</Data>");
    }
    xml.push_str("</EventData>");
    r.text("EventData", Some(&xml));
    let def = r.table();
    for (n, v) in &ev.data {
        if def.column_index(n).is_some() && !matches!(n.as_str(), "EventData" | "Type" | "Computer" | "Channel") {
            r.set(n, Cell::Str(v.clone()));
        }
    }
    let account = |d: Option<&str>, u: Option<&str>| match (d, u) {
        (Some(d), Some(u)) => Some(format!("{d}\\{u}")),
        (None, Some(u)) => Some(u.to_string()),
        _ => None,
    };
    let subject = account(ev.get("SubjectDomainName"), ev.get("SubjectUserName"));
    let target = account(ev.get("TargetDomainName"), ev.get("TargetUserName"));
    r.text("SubjectAccount", subject.as_deref());
    r.text("TargetAccount", target.as_deref());
    let acct = target.or(subject);
    if let Some(a) = &acct {
        r.text("Account", Some(a));
        r.text("AccountType", Some(if a.ends_with('$') { "Machine" } else { "User" }));
    }
    if let Some(lt) = ev.get("LogonType")
        && let Some(name) = logon_type_name(lt)
    {
        r.text("LogonTypeName", Some(&format!("{lt} - {name}")));
    }
    r.text("Type", Some(schema::SECURITY_EVENT));
    r
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
    fn registry_paths() {
        assert_eq!(
            normalize_registry_path("HKLM\\System\\CurrentControlSet\\Services\\x\\Start"),
            "HKEY_LOCAL_MACHINE\\SYSTEM\\ControlSet001\\Services\\x\\Start"
        );
        assert_eq!(
            normalize_registry_path("HKU\\S-1-5-21-1-2-3-500\\Software\\Run"),
            "HKEY_CURRENT_USER\\S-1-5-21-1-2-3-500\\Software\\Run"
        );
        assert_eq!(
            normalize_registry_path("\\REGISTRY\\MACHINE\\SOFTWARE\\x"),
            "HKEY_LOCAL_MACHINE\\SOFTWARE\\x"
        );
        assert_eq!(
            normalize_registry_path("HKCR\\exefile\\shell"),
            "HKEY_LOCAL_MACHINE\\SOFTWARE\\Classes\\exefile\\shell"
        );
        assert_eq!(normalize_registry_path("HKLMX\\a"), "HKLMX\\a");
        assert_eq!(registry_value("DWORD (0x0000000a)"), ("Dword", Some("10".into())));
        assert_eq!(
            registry_value("QWORD (0x00000001-0x00000002)"),
            ("QWord", Some(((1u64 << 32) | 2).to_string()))
        );
        assert_eq!(registry_value("Binary Data"), ("Binary", None));
        assert_eq!(
            registry_value("%ProgramFiles%\\x.dll"),
            ("String", Some("%ProgramFiles%\\x.dll".into()))
        );
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

    #[test]
    fn service_paths() {
        assert_eq!(
            service_binary_path("\"C:\\Program Files (x86)\\TeamViewer\\TeamViewer_Service.exe\""),
            "C:\\Program Files (x86)\\TeamViewer\\TeamViewer_Service.exe"
        );
        assert_eq!(
            service_binary_path("\\SystemRoot\\System32\\drivers\\netkvm.sys"),
            "C:\\Windows\\System32\\drivers\\netkvm.sys"
        );
        assert_eq!(
            service_binary_path("%SystemRoot%\\system32\\svchost.exe -k netsvcs"),
            "C:\\Windows\\system32\\svchost.exe"
        );
        assert_eq!(
            service_binary_path("System32\\drivers\\x.sys"),
            "C:\\Windows\\System32\\drivers\\x.sys"
        );
        assert_eq!(service_binary_path("\"unterminated"), "unterminated");
    }

    #[test]
    fn dns_result_list() {
        let v = dns_results("type:  5 wd-prod-ss.trafficmanager.net;::ffff:40.78.63.86;2a01:111::1;");
        assert_eq!(
            Value::Array(v).to_string(),
            r#"[{"DnsQueryType":"CNAME","Result":"wd-prod-ss.trafficmanager.net"},{"DnsQueryType":"A","Result":"40.78.63.86"},{"DnsQueryType":"AAAA","Result":"2a01:111::1"}]"#
        );
    }
}
