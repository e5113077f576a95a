//! The pack's coverage matrix: for every catalog tool and every artifact kind it lists, one minimal
//! event in the matching Defender table, made from the catalog's own data; the pack runs over all of
//! them and each event is found (an alert on its device, of the expected signal, naming a tool that
//! lists the indicator) or missed. `docs/coverage.md` is generated from the result
//! (`RATCATCHER_BLESS=1 cargo test -p ratcatcher-cli --test coverage` rewrites it), and every kind the
//! pack claims is asserted at 100 %.

use serde_json::{Value, json};
use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::Command;

fn repo(rel: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..").join(rel)
}

/// An artifact kind of the catalog, the Defender table its event goes to, and the alert signals that
/// count as finding it.
struct Kind {
    name: &'static str,
    field: &'static str,
    signals: &'static [&'static str],
    /// `None`: the pack claims this kind (asserted at 100 %); `Some(reason)`: not claimed, and why.
    unclaimed: Option<&'static str>,
}

const KINDS: &[Kind] = &[
    Kind {
        name: "executable (process)",
        field: "executables",
        signals: &["process"],
        unclaimed: None,
    },
    Kind {
        name: "executable (file written)",
        field: "executables",
        signals: &["file"],
        unclaimed: None,
    },
    Kind {
        name: "executable pattern (process)",
        field: "executable_patterns",
        signals: &["process"],
        unclaimed: None,
    },
    Kind {
        name: "original file name (renamed process)",
        field: "original_file_names",
        signals: &["rename", "process"],
        unclaimed: None,
    },
    Kind {
        name: "install path (process)",
        field: "install_paths",
        signals: &["process"],
        unclaimed: Some(
            "an unknown binary in a tool's install folder is not raised on the folder alone: many catalog folders are a \
             vendor's generic folder or a bare file glob. Install folders judge context instead (portable vs installed \
             in rat-portable-user-path, service binaries in rat-service-install); the tool's binaries themselves are \
             found by name, pattern, original file name and hash.",
        ),
    },
    Kind {
        name: "artifact path (file written)",
        field: "artifact_paths",
        signals: &["file"],
        unclaimed: Some(
            "rat-file-artifacts keeps an artifact path only when its folder and file name say something about the tool \
             (a generic folder needs a distinctive exact name, a bare `*` needs two distinctive folder levels), so that \
             config.json or logs\\*.txt under a folder that merely shares a word with a tool do not alert. The paths \
             it drops are listed below; executables among them are found by rat-tool-file-written.",
        ),
    },
    Kind {
        name: "service (installed)",
        field: "services",
        signals: &["service"],
        unclaimed: None,
    },
    Kind {
        name: "registry key (written)",
        field: "registry_keys",
        signals: &["registry"],
        unclaimed: None,
    },
    Kind {
        name: "domain (network)",
        field: "domains",
        signals: &["network"],
        unclaimed: None,
    },
    Kind {
        name: "domain (dns)",
        field: "domains",
        signals: &["dns"],
        unclaimed: None,
    },
    Kind {
        name: "domain pattern (network)",
        field: "domain_patterns",
        signals: &["network"],
        unclaimed: None,
    },
    Kind {
        name: "domain pattern (dns)",
        field: "domain_patterns",
        signals: &["dns"],
        unclaimed: None,
    },
    Kind {
        name: "port (tool listening)",
        field: "ports",
        signals: &["listen"],
        unclaimed: None,
    },
    Kind {
        name: "named pipe (created)",
        field: "named_pipes",
        signals: &["pipe"],
        unclaimed: None,
    },
];

/// Why an indicator gets no event (it is then listed, not counted).
fn not_testable(kind: &Kind, value: &str, tool: &Value) -> Option<&'static str> {
    let path_kind = matches!(kind.field, "install_paths" | "artifact_paths");
    if path_kind && (value.starts_with('/') || value.starts_with('~')) {
        return Some("macOS/Linux path (the Windows tables hold Windows paths)");
    }
    if path_kind && expand(value).is_none() {
        return Some("placeholder the catalog does not resolve (<...>, an unknown %VARIABLE%)");
    }
    if kind.field == "registry_keys" {
        let head = value
            .split('*')
            .next()
            .unwrap_or_default()
            .trim_end_matches('\\')
            .to_ascii_lowercase();
        if head.ends_with('{') || head.ends_with('(') || head.ends_with(r"\user") {
            return Some("up to its wildcard, a key every program writes (Uninstall\\{GUID}, Winlogon user lists)");
        }
    }
    if kind.field == "ports" {
        let exe = first_executable(tool);
        if exe.is_none() {
            return Some("the tool has no executable to listen with");
        }
    }
    None
}

fn strings(tool: &Value, field: &str) -> Vec<String> {
    match tool.get(field) {
        Some(Value::Array(a)) => a
            .iter()
            .map(|v| match v {
                Value::String(s) => s.clone(),
                other => other.to_string(),
            })
            .collect(),
        _ => Vec::new(),
    }
}

fn first_executable(tool: &Value) -> Option<String> {
    strings(tool, "executables").into_iter().next()
}

/// A glob made concrete: `*` becomes `a1`, `?` becomes `a`.
fn fill(glob: &str) -> String {
    glob.replace('*', "a1").replace('?', "a")
}

/// A Windows path with its environment variables expanded and globs filled; `None` when it holds a
/// placeholder we cannot resolve.
fn expand(path: &str) -> Option<String> {
    const VARS: &[(&str, &str)] = &[
        ("%appdata%", r"C:\Users\alice\AppData\Roaming"),
        ("%localappdata%", r"C:\Users\alice\AppData\Local"),
        ("%programdata%", r"C:\ProgramData"),
        ("%allusersprofile%", r"C:\ProgramData"),
        ("%programfiles(x86)%", r"C:\Program Files (x86)"),
        ("%programfiles%", r"C:\Program Files"),
        ("%userprofile%", r"C:\Users\alice"),
        ("%temp%", r"C:\Users\alice\AppData\Local\Temp"),
        ("%tmp%", r"C:\Users\alice\AppData\Local\Temp"),
        ("%windir%", r"C:\Windows"),
        ("%systemroot%", r"C:\Windows"),
        ("%systemdrive%", "C:"),
        ("%public%", r"C:\Users\Public"),
    ];
    let mut out = path.replace('/', r"\");
    for (var, value) in VARS {
        while let Some(i) = out.to_ascii_lowercase().find(var) {
            out.replace_range(i..i + var.len(), value);
        }
    }
    if out.contains(['%', '<', '>', '{', '$']) {
        return None;
    }
    Some(fill(&out))
}

/// `*` (any run) glob match, case as given.
fn glob_match(glob: &str, text: &str) -> bool {
    let parts: Vec<&str> = glob.split('*').collect();
    if parts.len() == 1 {
        return glob == text;
    }
    let (first, last) = (parts[0], parts[parts.len() - 1]);
    if !text.starts_with(first) || !text[first.len()..].ends_with(last) || text.len() < first.len() + last.len() {
        return false;
    }
    let mut rest = &text[first.len()..text.len() - last.len()];
    for mid in &parts[1..parts.len() - 1] {
        match rest.find(mid) {
            Some(i) => rest = &rest[i + mid.len()..],
            None => return false,
        }
    }
    true
}

/// A `ProcessCreated` row's own columns: the image, its path and command line, alice's account.
fn process_created(exe: &str, path: &str, command_line: &str, n: usize) -> Value {
    json!({"ActionType": "ProcessCreated", "FileName": exe, "FolderPath": path, "ProcessCommandLine": command_line,
        "ProcessId": 4000 + n, "AccountDomain": "contoso", "AccountName": "alice"})
}

/// The file name of a Windows path.
fn file_name(path: &str) -> String {
    path.rsplit('\\').next().unwrap_or(path).to_string()
}

struct Case {
    tool: String,
    kind: usize,
    indicator: String,
    device: String,
    /// Names of every tool that lists the same indicator in the same field.
    owners: BTreeSet<String>,
}

/// The Defender rows for one case: (table, row).
fn event(kind: &Kind, value: &str, tool: &Value, device: &str, n: usize) -> (String, Value) {
    let ts = format!(
        "2026-05-04T{:02}:{:02}:{:02}.0000000Z",
        (n / 3600) % 24,
        (n / 60) % 60,
        n % 60
    );
    let base = json!({"Timestamp": ts, "DeviceId": format!("{:040x}", n), "DeviceName": device, "ReportId": n});
    let mut row = base.as_object().cloned().unwrap_or_default();
    let set = |row: &mut serde_json::Map<String, Value>, pairs: Value| {
        if let Value::Object(m) = pairs {
            row.extend(m);
        }
    };
    let initiating = json!({
        "InitiatingProcessFileName": "explorer.exe",
        "InitiatingProcessFolderPath": r"C:\Windows\explorer.exe",
        "InitiatingProcessCommandLine": "explorer.exe",
        "InitiatingProcessAccountDomain": "contoso",
        "InitiatingProcessAccountName": "alice",
    });
    let table = match (kind.field, kind.signals[0]) {
        ("executables" | "executable_patterns", "process") => {
            // a version where the pattern has its wildcard, as vendors name their builds (rustdesk-1.2.exe)
            let exe = value.replace('*', "1.2").replace('?', "1");
            let path = format!(r"C:\ProgramData\Vendor\{exe}");
            set(&mut row, process_created(&exe, &path, &format!("\"{path}\""), n));
            set(&mut row, initiating);
            "DeviceProcessEvents"
        }
        ("executables", "file") => {
            let exe = fill(value);
            set(
                &mut row,
                json!({"ActionType": "FileCreated", "FileName": exe,
                "FolderPath": format!(r"C:\Users\alice\Downloads\{exe}")}),
            );
            set(
                &mut row,
                json!({"InitiatingProcessFileName": "msedge.exe", "InitiatingProcessFolderPath": r"C:\Program Files (x86)\Microsoft\Edge\Application\msedge.exe",
                "InitiatingProcessAccountDomain": "contoso", "InitiatingProcessAccountName": "alice"}),
            );
            "DeviceFileEvents"
        }
        ("original_file_names", _) => {
            let path = r"C:\ProgramData\Vendor\winhelper.exe";
            set(&mut row, process_created("winhelper.exe", path, "winhelper.exe", n));
            set(&mut row, json!({"ProcessVersionInfoOriginalFileName": value}));
            set(&mut row, initiating);
            "DeviceProcessEvents"
        }
        ("install_paths", _) => {
            let mut path = expand(value).unwrap_or_default();
            if !path.to_ascii_lowercase().ends_with(".exe") {
                path = format!("{}\\helper.exe", path.trim_end_matches('\\'));
            }
            let exe = file_name(&path);
            set(&mut row, process_created(&exe, &path, &format!("\"{path}\""), n));
            set(&mut row, initiating);
            "DeviceProcessEvents"
        }
        ("artifact_paths", _) => {
            let path = expand(value).unwrap_or_default();
            let path = path.trim_end_matches('\\').to_string();
            set(
                &mut row,
                json!({"ActionType": "FileCreated", "FileName": file_name(&path), "FolderPath": path}),
            );
            set(&mut row, initiating);
            "DeviceFileEvents"
        }
        ("services", _) => {
            set(
                &mut row,
                json!({"ActionType": "ServiceInstalled", "FileName": "svchelper.exe",
                "FolderPath": r"C:\ProgramData\Vendor\svchelper.exe",
                "AdditionalFields": json!({"ServiceName": value, "ServiceStartType": "AutoStart", "ServiceType": "Win32OwnProcess",
                    "ServiceAccount": "LocalSystem", "ImagePath": r"C:\ProgramData\Vendor\svchelper.exe"}).to_string(),
                "InitiatingProcessFileName": "services.exe", "InitiatingProcessAccountName": "system"}),
            );
            "DeviceEvents"
        }
        ("registry_keys", _) => {
            set(
                &mut row,
                json!({"ActionType": "RegistryKeyCreated", "RegistryKey": fill(value)}),
            );
            set(
                &mut row,
                json!({"InitiatingProcessFileName": "setup.exe", "InitiatingProcessAccountName": "alice", "InitiatingProcessAccountDomain": "contoso"}),
            );
            "DeviceRegistryEvents"
        }
        ("domains" | "domain_patterns", "network") => {
            set(
                &mut row,
                json!({"ActionType": "ConnectionSuccess", "RemoteUrl": fill(value), "RemoteIP": "198.51.100.7",
                "RemotePort": 443, "LocalIP": "10.0.0.5", "LocalPort": 50000, "Protocol": "Tcp", "RemoteIPType": "Public",
                "InitiatingProcessFileName": "updater.exe", "InitiatingProcessFolderPath": r"C:\ProgramData\Vendor\updater.exe",
                "InitiatingProcessAccountDomain": "contoso", "InitiatingProcessAccountName": "alice"}),
            );
            "DeviceNetworkEvents"
        }
        ("domains" | "domain_patterns", _) => {
            set(
                &mut row,
                json!({"ActionType": "DnsQueryResponse",
                "AdditionalFields": json!({"DnsQueryString": fill(value), "DnsQueryResult": [{"DnsQueryType": "A", "IpAddress": "198.51.100.7"}]}).to_string(),
                "InitiatingProcessFileName": "updater.exe", "InitiatingProcessAccountName": "alice", "InitiatingProcessAccountDomain": "contoso"}),
            );
            "DeviceEvents"
        }
        ("ports", _) => {
            let exe = first_executable(tool).unwrap_or_default();
            set(
                &mut row,
                json!({"ActionType": "ListeningConnectionCreated", "LocalIP": "0.0.0.0", "LocalPort": value.parse::<i64>().unwrap_or(0),
                "RemoteIP": "0.0.0.0", "RemotePort": 0, "Protocol": "Tcp",
                "InitiatingProcessFileName": exe, "InitiatingProcessFolderPath": format!(r"C:\ProgramData\Vendor\{exe}"),
                "InitiatingProcessId": 4000 + n, "InitiatingProcessAccountName": "system"}),
            );
            "DeviceNetworkEvents"
        }
        ("named_pipes", _) => {
            set(
                &mut row,
                json!({"ActionType": "NamedPipeEvent",
                "AdditionalFields": json!({"PipeName": format!(r"\Device\NamedPipe\{}", fill(value)), "FileOperation": "File created", "NamedPipeEnd": "Server"}).to_string()}),
            );
            set(&mut row, initiating);
            "DeviceEvents"
        }
        _ => unreachable!("every kind has an event"),
    };
    (table.to_string(), Value::Object(row))
}

struct Matrix {
    /// per kind: (found, missed cases, untestable (tool, indicator, reason))
    found: Vec<usize>,
    missed: Vec<Vec<String>>,
    untestable: Vec<Vec<String>>,
    tools: usize,
}

fn render(m: &Matrix) -> String {
    let mut s = String::new();
    s.push_str("# Coverage matrix\n\n");
    s.push_str("Generated by `crates/cli/tests/coverage.rs` (`RATCATCHER_BLESS=1 cargo test -p ratcatcher-cli --test coverage`);\n");
    s.push_str("do not edit by hand. For every catalog tool and every artifact kind it lists, the test writes one\n");
    s.push_str("minimal event in the matching Defender table from the catalog's own data, runs the built-in pack\n");
    s.push_str("over all of them, and counts the event as found when an alert on its device has the expected\n");
    s.push_str("signal and names a tool that lists the indicator. Globs are filled with `a1`, environment\n");
    s.push_str("variables with a user `alice`'s folders.\n\n");
    let _ = writeln!(s, "{} tools.\n", m.tools);
    s.push_str("| kind | signal | claimed | events | found | missed | rate | not testable |\n|---|---|---|---:|---:|---:|---:|---:|\n");
    for (i, k) in KINDS.iter().enumerate() {
        let total = m.found[i] + m.missed[i].len();
        let rate = if total == 0 {
            "-".to_string()
        } else {
            format!("{:.1} %", 100.0 * m.found[i] as f64 / total as f64)
        };
        let _ = writeln!(
            s,
            "| {} | {} | {} | {} | {} | {} | {} | {} |",
            k.name,
            k.signals.join(" or "),
            if k.unclaimed.is_none() { "yes" } else { "no" },
            total,
            m.found[i],
            m.missed[i].len(),
            rate,
            m.untestable[i].len()
        );
    }
    for (i, k) in KINDS.iter().enumerate() {
        if let Some(reason) = k.unclaimed {
            let _ = writeln!(s, "\n**{}** is not claimed: {reason}", k.name);
        }
        if !m.missed[i].is_empty() {
            let _ = writeln!(s, "\n## Missed: {}\n", k.name);
            for line in &m.missed[i] {
                let _ = writeln!(s, "- {line}");
            }
        }
    }
    s.push_str("\n## Not testable\n\nIndicators that get no event, with the reason.\n\n| kind | tool | indicator | reason |\n|---|---|---|---|\n");
    for (i, k) in KINDS.iter().enumerate() {
        for line in &m.untestable[i] {
            let _ = writeln!(s, "| {} | {line} |", k.name);
        }
    }
    s
}

#[test]
fn every_claimed_kind_of_every_catalog_tool_is_found() {
    let catalog: Vec<Value> =
        serde_json::from_str(&std::fs::read_to_string(repo("catalog/tools.json")).expect("catalog"))
            .expect("catalog JSON");
    let dir = tempfile::tempdir().expect("temp dir");
    let mut tables: BTreeMap<String, Vec<Value>> = BTreeMap::new();
    let mut cases = Vec::new();
    let mut untestable: Vec<Vec<String>> = vec![Vec::new(); KINDS.len()];
    // owners of each (field, indicator)
    let mut owners: BTreeMap<(&str, String), BTreeSet<String>> = BTreeMap::new();
    for tool in catalog.iter().filter(|t| t["builtin"] != Value::Bool(true)) {
        let name = tool["name"].as_str().unwrap_or_default().to_string();
        for k in KINDS {
            for v in strings(tool, k.field) {
                owners
                    .entry((k.field, v.to_ascii_lowercase()))
                    .or_default()
                    .insert(name.clone());
            }
        }
    }
    // A host or key can belong to several tools in ways the exact strings do not show: a domain under
    // another tool's `*.domain` (Tactical RMM lists login.tailscale.com), a key under another tool's key
    // (Atera bundles Splashtop and lists its keys). An alert naming any of them names an owner.
    let related = |field: &str, value: &str| -> BTreeSet<String> {
        let v = fill(value).to_ascii_lowercase();
        let mut out = BTreeSet::new();
        for tool in catalog.iter().filter(|t| t["builtin"] != Value::Bool(true)) {
            let name = tool["name"].as_str().unwrap_or_default().to_string();
            let hit = match field {
                "domains" | "domain_patterns" => ["domains", "domain_patterns"]
                    .iter()
                    .flat_map(|f| strings(tool, f))
                    .any(|d| glob_match(&d.to_ascii_lowercase(), &v)),
                "registry_keys" => strings(tool, "registry_keys").iter().any(|k| {
                    let head = k
                        .split('*')
                        .next()
                        .unwrap_or_default()
                        .trim_end_matches('\\')
                        .to_ascii_lowercase();
                    !head.is_empty() && (v.starts_with(&head) || head.starts_with(v.trim_end_matches('\\')))
                }),
                _ => false,
            };
            if hit {
                out.insert(name);
            }
        }
        out
    };
    let mut tools = 0;
    for tool in catalog.iter().filter(|t| t["builtin"] != Value::Bool(true)) {
        tools += 1;
        let name = tool["name"].as_str().unwrap_or_default().to_string();
        for (ki, k) in KINDS.iter().enumerate() {
            for v in strings(tool, k.field) {
                if let Some(reason) = not_testable(k, &v, tool) {
                    untestable[ki].push(format!("{name} | `{v}` | {reason}"));
                    continue;
                }
                let n = cases.len() + 1;
                let device = format!("cov-{n:05}.contoso.local");
                let (table, row) = event(k, &v, tool, &device, n);
                tables.entry(table).or_default().push(row);
                cases.push(Case {
                    tool: name.clone(),
                    kind: ki,
                    indicator: v.clone(),
                    device,
                    owners: owners
                        .get(&(k.field, v.to_ascii_lowercase()))
                        .cloned()
                        .unwrap_or_default()
                        .union(&related(k.field, &v))
                        .cloned()
                        .collect(),
                });
            }
        }
    }
    for (table, rows) in &tables {
        let text: String = rows.iter().map(|r| format!("{r}\n")).collect();
        std::fs::write(dir.path().join(format!("{table}.jsonl")), text).expect("write evidence");
    }
    let out = Command::new(env!("CARGO_BIN_EXE_ratcatcher"))
        .args([
            "hunt",
            &dir.path().display().to_string(),
            "--format",
            "jsonl",
            "--all-time",
        ])
        .output()
        .expect("run ratcatcher");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(matches!(out.status.code(), Some(0 | 1)), "hunt failed: {stderr}");
    let mut by_device: BTreeMap<String, Vec<(String, String)>> = BTreeMap::new();
    for line in String::from_utf8_lossy(&out.stdout).lines() {
        let a: Value = serde_json::from_str(line).expect("alert JSON");
        let device = a["device"].as_str().unwrap_or_default().to_string();
        let signal = a["signal"].as_str().unwrap_or_default().to_string();
        let tool = a["tool"].as_str().unwrap_or_default().to_string();
        by_device.entry(device).or_default().push((signal, tool));
    }
    let mut m = Matrix {
        found: vec![0; KINDS.len()],
        missed: vec![Vec::new(); KINDS.len()],
        untestable,
        tools,
    };
    for c in &cases {
        let k = &KINDS[c.kind];
        let hits = by_device.get(&c.device).map(Vec::as_slice).unwrap_or_default();
        let found = hits
            .iter()
            .any(|(signal, tool)| k.signals.contains(&signal.as_str()) && c.owners.contains(tool));
        if found {
            m.found[c.kind] += 1;
        } else {
            let seen: Vec<String> = hits.iter().map(|(s, t)| format!("{s}: {t}")).collect();
            let seen = if seen.is_empty() {
                "no alert".to_string()
            } else {
                format!("alerts: {}", seen.join(", "))
            };
            m.missed[c.kind].push(format!("{}: `{}` ({seen})", c.tool, c.indicator));
        }
    }
    let doc = render(&m);
    let path = repo("docs/coverage.md");
    if std::env::var_os("RATCATCHER_BLESS").is_some() {
        std::fs::write(&path, &doc).expect("write docs/coverage.md");
    }
    let claimed_misses: Vec<String> = KINDS
        .iter()
        .enumerate()
        .filter(|(_, k)| k.unclaimed.is_none())
        .flat_map(|(i, k)| m.missed[i].iter().map(move |l| format!("{}: {l}", k.name)))
        .collect();
    assert!(
        claimed_misses.is_empty(),
        "{} claimed indicators missed:\n{}",
        claimed_misses.len(),
        claimed_misses.join("\n")
    );
    let committed = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        committed == doc,
        "docs/coverage.md is out of date: rerun with RATCATCHER_BLESS=1"
    );
}
