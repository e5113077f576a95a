//! Service installations: System 7045 (Service Control Manager) and Security 4697 as
//! DeviceEvents `ServiceInstalled` rows.

use super::*;

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

/// System 7045 / Security 4697 → DeviceEvents `ServiceInstalled`.
pub(super) fn service_installed(ev: &WinEvent) -> Row {
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

#[cfg(test)]
mod tests {
    use super::*;

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
}
