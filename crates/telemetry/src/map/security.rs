//! Security-channel events: process creation (4688), logons (4624/4625), filtering platform
//! connections (5154/5156/5157) as Device rows, and every Security event as a `SecurityEvent` row.

use super::*;

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

impl Mapper {
    pub(super) fn security(&mut self, ev: &WinEvent) -> Vec<Row> {
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
pub(super) fn security_event(ev: &WinEvent) -> Row {
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
