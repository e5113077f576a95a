//! Sysmon events (process creation, network connections, image loads, files, registry, DNS,
//! tampering) as Device table rows.

use serde_json::{Map, Value};

use super::*;

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

impl Mapper {
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

    pub(super) fn sysmon(&mut self, ev: &WinEvent) -> Vec<Row> {
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

#[cfg(test)]
mod tests {
    use super::*;

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
    fn dns_result_list() {
        let v = dns_results("type:  5 wd-prod-ss.trafficmanager.net;::ffff:40.78.63.86;2a01:111::1;");
        assert_eq!(
            Value::Array(v).to_string(),
            r#"[{"DnsQueryType":"CNAME","Result":"wd-prod-ss.trafficmanager.net"},{"DnsQueryType":"A","Result":"40.78.63.86"},{"DnsQueryType":"AAAA","Result":"2a01:111::1"}]"#
        );
    }
}
