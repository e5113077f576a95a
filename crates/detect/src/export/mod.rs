//! The pack as Sigma: the single-event logic of the T1219 pack, generated from the catalog as
//! Sigma rules (one per pack rule family and tool), a Sigma correlation where one expresses a
//! pack rule across events, and the list of what Sigma cannot say with the reason. The rules then
//! travel to other SIEMs through pySigma's backends (`pysigma`), with the catalog as a lookup
//! table in each platform's shape (`lookup`). See docs/export.md.

mod lookup;
mod pysigma;

pub use lookup::{LookupStyle, catalog_lookup};
pub use pysigma::{Backend, ConvertSummary, RuleFailure, convert, find_python};

use crate::catalog::{self, Tool};
use sha1::{Digest, Sha1};
use std::fmt::Write as _;

/// Values per list in one detection item: backends build one query per rule, and some cap a
/// query's length (QRadar AQL, SentinelOne PowerQuery) or its clause count. A longer list is
/// split into several rules (`-part2`, ...), each with its own stable id.
pub const MAX_LIST_VALUES: usize = 100;

/// Browsers, excluded from the domain rules as the pack excludes them (a person browsing a
/// vendor's site is not the tool running).
pub const BROWSERS: &[&str] = &[
    "chrome.exe",
    "msedge.exe",
    "firefox.exe",
    "iexplore.exe",
    "opera.exe",
    "brave.exe",
    "vivaldi.exe",
    "msedgewebview2.exe",
    "safari.exe",
    "waterfox.exe",
    "librewolf.exe",
    "yandex.exe",
    "whale.exe",
];

/// One family of exported rules: which pack rule it carries, and over which events.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Family {
    /// Short name, used in file names and ids (`process-image`).
    pub name: &'static str,
    /// The pack rule whose single-event logic it expresses.
    pub pack_rule: &'static str,
    /// The Sigma logsource: (category, product, service).
    pub logsource: (Option<&'static str>, &'static str, Option<&'static str>),
    /// Sigma level.
    pub level: &'static str,
    /// What a rule of the family detects (`{tool}` is replaced by the tool's name).
    pub title: &'static str,
}

/// The families exported, in output order.
pub const FAMILIES: &[Family] = &[
    Family {
        name: "process-image",
        pack_rule: "rat-process-by-name",
        logsource: (Some("process_creation"), "windows", None),
        level: "medium",
        title: "{tool} executed (by image name)",
    },
    Family {
        name: "process-name-variant",
        pack_rule: "rat-process-by-name",
        logsource: (Some("process_creation"), "windows", None),
        level: "medium",
        title: "{tool} executed under a variant of its name (by PE original file name)",
    },
    Family {
        name: "process-signed-name",
        pack_rule: "rat-process-by-name",
        logsource: (Some("process_creation"), "windows", None),
        level: "medium",
        title: "{tool} executed under a generic name (signed by its vendor)",
    },
    Family {
        name: "renamed-binary",
        pack_rule: "rat-renamed-binary",
        logsource: (Some("process_creation"), "windows", None),
        level: "high",
        title: "{tool} binary running under another name",
    },
    Family {
        name: "network-domain",
        pack_rule: "rat-network-to-tool-domain",
        logsource: (Some("network_connection"), "windows", None),
        level: "medium",
        title: "Connection to a domain of {tool} from a non-browser process",
    },
    Family {
        name: "dns-domain",
        pack_rule: "rat-dns-to-tool-domain",
        logsource: (Some("dns_query"), "windows", None),
        level: "low",
        title: "DNS lookup of a domain of {tool} from a non-browser process",
    },
    Family {
        name: "named-pipe",
        pack_rule: "rat-tool-named-pipe",
        logsource: (Some("pipe_created"), "windows", None),
        level: "medium",
        title: "{tool} named pipe",
    },
    Family {
        name: "service-install",
        pack_rule: "rat-service-install",
        logsource: (None, "windows", Some("system")),
        level: "medium",
        title: "{tool} installed as a service",
    },
    Family {
        name: "file-written",
        pack_rule: "rat-tool-file-written",
        logsource: (Some("file_event"), "windows", None),
        level: "medium",
        title: "{tool} binary written to disk",
    },
    Family {
        name: "registry-key",
        pack_rule: "rat-registry-persistence",
        logsource: (Some("registry_event"), "windows", None),
        level: "medium",
        title: "{tool} registry key written",
    },
    Family {
        name: "registry-autostart",
        pack_rule: "rat-registry-persistence",
        logsource: (Some("registry_set"), "windows", None),
        level: "medium",
        title: "{tool} set to start automatically (Run key or service ImagePath)",
    },
];

/// Autostart keys below `\Software\Microsoft\Windows\CurrentVersion` (rat-registry-persistence).
const RUN_KEYS: &[&str] = &[
    "\\CurrentVersion\\Run\\",
    "\\CurrentVersion\\RunOnce\\",
    "\\CurrentVersion\\RunOnceEx\\",
    "\\CurrentVersion\\RunServices\\",
    "\\CurrentVersion\\RunServicesOnce\\",
    "\\CurrentVersion\\Policies\\Explorer\\Run\\",
];

/// Pack rules, or parts of them, that Sigma does not express, with the reason.
pub const NOT_EXPORTED: &[(&str, &str)] = &[
    (
        "rat-first-seen-on-host",
        "a first-seen baseline: it compares each host's sightings with the host's own history over the look-back window; Sigma rules and correlations have no state beyond one timespan",
    ),
    (
        "rat-multiple-tools-on-host",
        "exported as a Sigma correlation (value_count of distinct tool images per host in 1h) over the process-image rules; the pack also counts tools seen by domain, which a value_count over one field cannot join",
    ),
    (
        "rat-tool-installer",
        "derives tool names from installer file names and msiexec/winget/choco command lines by word matching against every tool's name; Sigma has no per-event string derivation",
    ),
    (
        "rat-file-artifacts",
        "joins file paths against the catalog's artifact paths with generic-folder and generic-name filters, then keeps one alert per tool and folder; the per-folder aggregation is not Sigma",
    ),
    (
        "rat-portable-user-path",
        "excludes each tool's own per-user install folder (catalog install_paths, reduced at query time); the process-image rules carry its events without that refinement",
    ),
    (
        "rat-suspicious-parent",
        "combines the parent (Office, script hosts, LOLBins) with silent-MSI command lines and the tool identity by join; left to the process-image rules plus the SIEM's parent field",
    ),
    (
        "rat-listening-port",
        "an unexpected process on a tool port: needs the list of processes that are not the port's tool, a join across the catalog",
    ),
    (
        "rat-tool-listening",
        "inbound sessions of a tool's binary: Sysmon's Initiated flag and Defender's ActionType differ in meaning for listening sockets; not exported until a mapping is exact",
    ),
    (
        "rat-tool-network-connection",
        "the by-port half needs each tool's ports joined with its binaries; the by-binary half is the network-domain rules' process",
    ),
    (
        "rat-hardware-kvm",
        "USB PnP device strings (Defender PnpDeviceConnected, Kernel-PnP) have no Sigma taxonomy logsource",
    ),
    (
        "rat-ide-tunnel",
        "joins the tunnel process with its relay traffic across tables; the relay domains are in the network-domain and dns-domain rules of the ide-tunnel tools",
    ),
];

/// One exported Sigma rule.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExportedRule {
    /// The family (`process-image`, ...), or `correlation`.
    pub family: &'static str,
    /// The pack rule it carries.
    pub pack_rule: &'static str,
    /// The tool's id (none for a correlation).
    pub tool: Option<String>,
    /// Stable id (a UUID derived from the family, the tool and the part).
    pub id: String,
    /// Path of the file below the output folder (`process-image/anydesk.yml`).
    pub file: String,
    /// The rule as YAML.
    pub yaml: String,
}

/// What `export_sigma` produced.
#[derive(Debug, Clone, Default)]
pub struct Export {
    /// Detection rules, then correlation rules, in a stable order.
    pub rules: Vec<ExportedRule>,
    /// Pack rules (or parts) not exported, with the reason.
    pub not_exported: Vec<(&'static str, &'static str)>,
}

impl Export {
    /// The manifest (`manifest.json`): each rule's file, id, family, pack rule and tool, and
    /// what was not exported. Scripts use it to attribute a converted query's results.
    pub fn manifest_json(&self) -> String {
        let rules: Vec<serde_json::Value> = self
            .rules
            .iter()
            .map(|r| {
                serde_json::json!({
                    "file": r.file, "id": r.id, "family": r.family,
                    "pack_rule": r.pack_rule, "tool": r.tool,
                })
            })
            .collect();
        let not: Vec<serde_json::Value> = self
            .not_exported
            .iter()
            .map(|(r, why)| serde_json::json!({"pack_rule": r, "reason": why}))
            .collect();
        let v = serde_json::json!({"rules": rules, "not_exported": not});
        let mut s = serde_json::to_string_pretty(&v).unwrap_or_default();
        s.push('\n');
        s
    }
}

/// A UUID (version-5 layout) derived from `name` with SHA-1: the same name gives the same id
/// on every run and machine.
pub fn stable_id(name: &str) -> String {
    let digest = Sha1::digest(format!("ratcatcher.t1219/{name}").as_bytes());
    let mut b = [0u8; 16];
    b.copy_from_slice(&digest[..16]);
    b[6] = (b[6] & 0x0f) | 0x50;
    b[8] = (b[8] & 0x3f) | 0x80;
    let h: String = b.iter().map(|x| format!("{x:02x}")).collect();
    format!(
        "{}-{}-{}-{}-{}",
        &h[0..8],
        &h[8..12],
        &h[12..16],
        &h[16..20],
        &h[20..32]
    )
}

/// The pack's single-event logic as Sigma rules, generated from `tools`, with a correlation for
/// several tools on one host and the list of what was not exported.
pub fn export_sigma(tools: &[Tool], falsepositives: &dyn Fn(&str) -> Vec<String>) -> Export {
    let mut sorted: Vec<&Tool> = tools.iter().collect();
    sorted.sort_by(|a, b| a.id.cmp(&b.id));
    let mut out = Export::default();
    for family in FAMILIES {
        let fps = falsepositives(family.pack_rule);
        for tool in &sorted {
            let Some(items) = detection(family, tool) else {
                continue;
            };
            let parts = split(items);
            let count = parts.len();
            for (part, chunk) in parts.into_iter().enumerate() {
                out.rules.push(render(family, tool, part, &chunk, &fps, count));
            }
        }
    }
    if let Some(c) = correlation(&out.rules) {
        out.rules.push(c);
    }
    out.not_exported = NOT_EXPORTED.to_vec();
    out
}

/// One selection or filter of a detection: name, field with modifiers, values.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Item {
    name: &'static str,
    field: &'static str,
    values: Vec<String>,
    filter: bool,
    /// Every match needs it (ANDed with the rest): repeated in every part of a split rule.
    required: bool,
}

fn sel(name: &'static str, field: &'static str, values: Vec<String>) -> Item {
    Item {
        name,
        field,
        values,
        filter: false,
        required: false,
    }
}

/// A selection every match needs.
fn req(name: &'static str, field: &'static str, values: Vec<String>) -> Item {
    Item {
        required: true,
        ..sel(name, field, values)
    }
}

fn filt(name: &'static str, field: &'static str, values: Vec<String>) -> Item {
    Item {
        filter: true,
        ..sel(name, field, values)
    }
}

fn sorted_unique(mut v: Vec<String>) -> Vec<String> {
    v.sort();
    v.dedup();
    v
}

/// Whether a tool takes part in a family's pack rule: the domain rules read every catalog
/// entry; the others leave out built-in Windows tools, except Quick Assist in the process rule
/// (as rat-process-by-name).
fn in_pack(family: &Family, tool: &Tool) -> bool {
    !tool.builtin
        || matches!(family.name, "network-domain" | "dns-domain")
        || (family.name == "process-image" && tool.id == "microsoft-quick-assist")
}

/// A catalog value usable in a Sigma value: `?` globs have no Sigma form; values with line
/// breaks or empty ones are dropped.
fn usable(v: &str) -> bool {
    !v.is_empty() && !v.contains('?') && !v.contains(['\n', '\r'])
}

/// Escapes a literal for a Sigma value (backslash before `*`, `?` and a backslash that precedes
/// a wildcard or ends the value are what Sigma's escaping covers; `*` kept when it is a glob).
fn sigma_literal(v: &str, keep_star: bool) -> String {
    let mut s = String::with_capacity(v.len());
    let chars: Vec<char> = v.chars().collect();
    for (i, &c) in chars.iter().enumerate() {
        match c {
            '*' if keep_star => s.push('*'),
            '*' | '?' => {
                s.push('\\');
                s.push(c);
            }
            '\\' => {
                let next = chars.get(i + 1).copied();
                if next.is_none() || matches!(next, Some('*') | Some('?') | Some('\\')) {
                    s.push_str("\\\\");
                } else {
                    s.push('\\');
                }
            }
            c => s.push(c),
        }
    }
    s
}

/// Executable names of a tool (catalog `executables`, lower case) and its name patterns.
fn image_names(tool: &Tool) -> Vec<String> {
    let mut v: Vec<String> = tool
        .executables
        .iter()
        .map(|e| e.trim().to_lowercase())
        .filter(|e| usable(e) && !e.contains('*'))
        .map(|e| format!("\\{}", sigma_literal(&e, false)))
        .collect();
    v.extend(
        tool.executable_patterns
            .iter()
            .map(|e| e.trim().to_lowercase())
            .filter(|e| usable(e) && !e.contains(['\\', '/']))
            .map(|e| format!("\\{}", sigma_literal(&e, true))),
    );
    sorted_unique(v)
}

/// The PE original file names that identify a tool (as rat-renamed-binary reads them).
fn original_names(tool: &Tool) -> Vec<String> {
    let mut v: Vec<String> = tool
        .original_file_names
        .iter()
        .chain(tool.executables.iter().filter(|e| e.to_lowercase().ends_with(".exe")))
        .map(|e| e.trim().to_lowercase())
        .filter(|e| usable(e) && !e.contains('*'))
        .map(|e| sigma_literal(&e, false))
        .collect();
    v = sorted_unique(v);
    v
}

/// The stems of original file names (`anydesk.exe` → `anydesk`): a binary whose name holds one
/// is a variant of the tool's own name, not a disguise.
fn stems(ofn: &[String]) -> Vec<String> {
    sorted_unique(
        ofn.iter()
            .map(|o| match o.rsplit_once('.') {
                Some((stem, _)) if !stem.is_empty() => stem.to_string(),
                _ => o.clone(),
            })
            .collect(),
    )
}

/// Exact domains, and the parent domains of `*.suffix` patterns, and other domain globs.
fn domain_items(tool: &Tool, field: &'static str) -> Vec<Item> {
    let mut exact = Vec::new();
    let mut suffix = Vec::new();
    let mut globs = Vec::new();
    for d in &tool.domains {
        let d = d.trim().trim_end_matches('.').to_lowercase();
        if usable(&d) && !d.contains('*') {
            exact.push(sigma_literal(&d, false));
        }
    }
    for p in &tool.domain_patterns {
        let p = p.trim().trim_end_matches('.').to_lowercase();
        if !usable(&p) {
            continue;
        }
        match p.strip_prefix("*.") {
            // below the suffix by at least one label, as the pack's suffix join
            Some(s) if !s.contains('*') => suffix.push(format!(".{}", sigma_literal(s, false))),
            _ => globs.push(sigma_literal(&p, true)),
        }
    }
    let mut items = Vec::new();
    let (exact, suffix, globs) = (sorted_unique(exact), sorted_unique(suffix), sorted_unique(globs));
    if !exact.is_empty() {
        items.push(sel("selection_domain", field, exact));
    }
    if !suffix.is_empty() {
        items.push(sel("selection_subdomain", endswith(field), suffix));
    }
    if !globs.is_empty() {
        items.push(sel("selection_pattern", field, globs));
    }
    items
}

fn endswith(field: &'static str) -> &'static str {
    match field {
        "DestinationHostname" => "DestinationHostname|endswith",
        "QueryName" => "QueryName|endswith",
        _ => field,
    }
}

fn browsers() -> Vec<String> {
    BROWSERS.iter().map(|b| format!("\\{b}")).collect()
}

/// The detection items of one family for one tool, or none when the tool has no indicator of
/// the family's kind.
fn detection(family: &Family, tool: &Tool) -> Option<Vec<Item>> {
    if !in_pack(family, tool) {
        return None;
    }
    let items = match family.name {
        "process-image" => {
            let names = image_names(tool);
            (!names.is_empty()).then(|| vec![sel("selection", "Image|endswith", names)])?
        }
        // a variant of the tool's own name (anydesk (1).exe) carrying its PE original name
        "process-name-variant" => {
            let ofn = original_names(tool);
            if ofn.is_empty() {
                return None;
            }
            let stems = stems(&ofn);
            vec![
                sel("selection", "OriginalFileName", ofn),
                sel("selection", "Image|contains", stems),
            ]
        }
        // generic names (connect.exe, agent.exe) signed by the tool's vendor
        "process-signed-name" => {
            let ambiguous: Vec<String> = sorted_unique(
                tool.ambiguous_executables
                    .iter()
                    .map(|e| e.trim().to_lowercase())
                    .filter(|e| usable(e) && !e.contains('*'))
                    .map(|e| format!("\\{}", sigma_literal(&e, false)))
                    .collect(),
            );
            let signers: Vec<String> = sorted_unique(
                tool.signers
                    .iter()
                    .map(|s| s.trim().to_string())
                    .filter(|s| usable(s))
                    .map(|s| sigma_literal(&s, false))
                    .collect(),
            );
            if ambiguous.is_empty() || signers.is_empty() {
                return None;
            }
            vec![
                sel("selection", "Image|endswith", ambiguous),
                sel("selection", "Company", signers),
            ]
        }
        "renamed-binary" => {
            let ofn = original_names(tool);
            if ofn.is_empty() {
                return None;
            }
            // a tool's own binary names, and variants that keep the original name's stem
            // (anydesk (1).exe), are not renames
            let mut known: Vec<String> = tool
                .executables
                .iter()
                .chain(&tool.ambiguous_executables)
                .chain(&tool.original_file_names)
                .map(|e| e.trim().to_lowercase())
                .filter(|e| usable(e) && !e.contains('*'))
                .map(|e| format!("\\{}", sigma_literal(&e, false)))
                .collect();
            known = sorted_unique(known);
            let stems = stems(&ofn);
            vec![
                sel("selection", "OriginalFileName", ofn),
                filt("filter_known_name", "Image|endswith", known),
                filt("filter_name_variant", "Image|contains", stems),
            ]
        }
        "network-domain" | "dns-domain" => {
            let field = if family.name == "network-domain" {
                "DestinationHostname"
            } else {
                "QueryName"
            };
            let mut items = domain_items(tool, field);
            if items.is_empty() {
                return None;
            }
            items.push(filt("filter_browser", "Image|endswith", browsers()));
            items
        }
        "named-pipe" => {
            let pipes: Vec<String> = sorted_unique(
                tool.named_pipes
                    .iter()
                    .map(|p| {
                        p.trim()
                            .trim_start_matches("\\\\.\\pipe\\")
                            .trim_start_matches('\\')
                            .to_lowercase()
                    })
                    .filter(|p| usable(p))
                    .map(|p| format!("\\{}", sigma_literal(&p, true)))
                    .collect(),
            );
            (!pipes.is_empty()).then(|| vec![sel("selection", "PipeName|endswith", pipes)])?
        }
        "service-install" => {
            let services: Vec<String> = sorted_unique(
                tool.services
                    .iter()
                    .map(|s| s.trim().to_string())
                    .filter(|s| usable(s))
                    .map(|s| sigma_literal(&s, true))
                    .collect(),
            );
            let images = image_names(tool);
            let folders = install_folders(tool);
            if services.is_empty() && images.is_empty() && folders.is_empty() {
                return None;
            }
            let mut items = vec![
                sel(
                    "selection_event",
                    "Provider_Name",
                    vec!["Service Control Manager".into()],
                ),
                sel("selection_event", "EventID", vec!["7045".into()]),
            ];
            if !services.is_empty() {
                // a catalog name followed by a version or qualifier ("TeamViewer 13"), as the pack
                let versioned: Vec<String> = services
                    .iter()
                    .filter(|s| !s.contains('*'))
                    .flat_map(|s| [format!("{s} "), format!("{s}_")])
                    .collect();
                items.push(sel("selection_service", "ServiceName", services));
                if !versioned.is_empty() {
                    items.push(sel("selection_service_version", "ServiceName|startswith", versioned));
                }
            }
            if !images.is_empty() {
                items.push(sel("selection_image", "ImagePath|contains", images));
            }
            if !folders.is_empty() {
                items.push(sel("selection_folder", "ImagePath|contains", folders));
            }
            items
        }
        "file-written" => {
            let names: Vec<String> = image_names(tool)
                .into_iter()
                .filter(|n| n.ends_with(".exe") || n.ends_with(".msi"))
                .collect();
            (!names.is_empty()).then(|| vec![sel("selection", "TargetFilename|endswith", names)])?
        }
        "registry-key" => {
            let keys: Vec<String> = sorted_unique(
                tool.registry_keys
                    .iter()
                    .filter_map(|k| registry_fragment(k))
                    .map(|k| sigma_literal(&k, true))
                    .collect(),
            );
            (!keys.is_empty()).then(|| vec![sel("selection", "TargetObject|contains", keys)])?
        }
        "registry-autostart" => {
            let names: Vec<String> = image_names(tool).into_iter().filter(|n| n.ends_with(".exe")).collect();
            if names.is_empty() {
                return None;
            }
            vec![
                req(
                    "selection_key_run",
                    "TargetObject|contains",
                    RUN_KEYS.iter().map(|k| k.to_string()).collect(),
                ),
                req(
                    "selection_key_service",
                    "TargetObject|contains",
                    vec!["\\Services\\".into()],
                ),
                req(
                    "selection_key_service",
                    "TargetObject|endswith",
                    vec!["\\ImagePath".into()],
                ),
                sel("selection_binary", "Details|contains", names),
            ]
        }
        _ => return None,
    };
    Some(items)
}

/// Words of install paths that name no tool (rat-service-install's `InstallFolders`).
const FOLDER_WORDS: &[&str] = &[
    "c:\\",
    "program files (x86)",
    "program files",
    "programdata",
    "users",
    "appdata",
    "local",
    "roaming",
    "locallow",
    "windows",
    "system32",
    "syswow64",
    "temp",
    "public",
    "desktop",
    "downloads",
    "documents",
];

/// The folders a tool installs to, as rat-service-install reduces its catalog install paths: the
/// longest literal piece of each glob, kept when it names something more specific than Program
/// Files, Users or AppData (four letters or digits beyond those words) and has no placeholder.
fn install_folders(tool: &Tool) -> Vec<String> {
    let mut out = Vec::new();
    for p in &tool.install_paths {
        let p = p.trim().to_lowercase();
        if !p.contains('\\') {
            continue;
        }
        // the first of the longest pieces, as the pack's arg_max
        let mut piece = "";
        for part in p.split('*') {
            if part.len() > piece.len() {
                piece = part;
            }
        }
        if piece.contains(['<', '>', '%', '?']) {
            continue;
        }
        let mut residue = piece.to_string();
        for w in FOLDER_WORDS {
            residue = residue.replace(w, "");
        }
        if residue.chars().filter(|c| c.is_ascii_alphanumeric()).count() >= 4 {
            out.push(sigma_literal(piece, false));
        }
    }
    sorted_unique(out)
}

/// A catalog registry key below its hive (and user SID), with the control set folded away, as
/// rat-registry-persistence compares keys; none when too short to name the tool.
fn registry_fragment(key: &str) -> Option<String> {
    let k = key.trim().to_lowercase().replace('/', "\\");
    let mut rest = k.as_str();
    for hive in [
        "hkey_local_machine\\",
        "hkey_current_user\\",
        "hkey_users\\",
        "hkey_classes_root\\",
        "hklm\\",
        "hkcu\\",
        "hku\\",
        "hkcr\\",
    ] {
        if let Some(r) = rest.strip_prefix(hive) {
            rest = r;
            break;
        }
    }
    let rest = rest
        .strip_prefix("*\\")
        .or_else(|| rest.strip_prefix(".default\\"))
        .unwrap_or(rest);
    // the part after the control set, which Sysmon and Defender write differently
    let rest = match rest.find("controlset") {
        Some(i) => match rest[i..].find('\\') {
            Some(j) => &rest[i + j..],
            None => return None,
        },
        None => rest,
    };
    let rest = rest.replace("\\wow6432node", "");
    let literal = rest.split('*').next().unwrap_or("").trim_end_matches('\\');
    let fragment = format!("\\{}", literal.trim_start_matches('\\'));
    (fragment.len() >= 12 && !fragment.ends_with('{') && !fragment.ends_with('(')).then_some(fragment)
}

/// Splits every list longer than `MAX_LIST_VALUES` across several rules. A selection with a
/// long list goes to every part with its chunk of that list (its other fields repeated); the
/// other selections go to the first part only (else they would fire once per part), while the
/// required selections and the filters, which every match needs, go to every part.
fn split(items: Vec<Item>) -> Vec<Vec<Item>> {
    let longest = items
        .iter()
        .filter(|i| !i.filter)
        .map(|i| i.values.len())
        .max()
        .unwrap_or(0);
    let parts = longest.div_ceil(MAX_LIST_VALUES).max(1);
    if parts == 1 {
        return vec![items];
    }
    let chunked: Vec<&str> = items
        .iter()
        .filter(|i| !i.filter && i.values.len() > MAX_LIST_VALUES)
        .map(|i| i.name)
        .collect();
    (0..parts)
        .map(|p| {
            let mut part: Vec<Item> = Vec::new();
            let mut empty: Vec<&str> = Vec::new();
            for i in &items {
                if i.filter || i.required {
                    part.push(i.clone());
                } else if chunked.contains(&i.name) {
                    if i.values.len() > MAX_LIST_VALUES {
                        let chunk: Vec<String> = i
                            .values
                            .iter()
                            .skip(p * MAX_LIST_VALUES)
                            .take(MAX_LIST_VALUES)
                            .cloned()
                            .collect();
                        if chunk.is_empty() {
                            empty.push(i.name);
                        }
                        part.push(Item {
                            values: chunk,
                            ..i.clone()
                        });
                    } else {
                        part.push(i.clone());
                    }
                } else if p == 0 {
                    part.push(i.clone());
                }
            }
            // a selection whose long list has run out is not in this part at all
            part.retain(|i| !empty.contains(&i.name));
            part
        })
        .collect()
}

/// ATT&CK sub-technique of T1219 for a tool's category.
fn subtechnique(tool: &Tool) -> &'static str {
    match tool.category.as_str() {
        "ide-tunnel" => "attack.t1219.001",
        "hardware-kvm" => "attack.t1219.003",
        _ => "attack.t1219.002",
    }
}

/// YAML single-quoted scalar.
fn q(s: &str) -> String {
    format!("'{}'", s.replace('\'', "''"))
}

fn render(family: &Family, tool: &Tool, part: usize, items: &[Item], fps: &[String], parts: usize) -> ExportedRule {
    let suffix = if parts > 1 {
        format!("-part{}", part + 1)
    } else {
        String::new()
    };
    let id = stable_id(&format!("{}/{}{}", family.name, tool.id, suffix));
    let mut y = String::new();
    let mut title = family.title.replace("{tool}", &tool.name);
    if parts > 1 {
        let _ = write!(title, " (part {} of {parts})", part + 1);
    }
    let _ = writeln!(y, "title: {}", q(&title));
    let _ = writeln!(y, "id: {id}");
    let _ = writeln!(y, "status: experimental");
    let _ = writeln!(
        y,
        "description: {}",
        q(&format!(
            "Generated by ratcatcher from its remote-access-tool catalog (tool `{}`): the single-event logic of pack rule {} for {}.",
            tool.id, family.pack_rule, tool.name
        ))
    );
    let _ = writeln!(y, "references:");
    if let Some(w) = tool.website.as_deref().filter(|w| w.starts_with("http")) {
        let _ = writeln!(y, "  - {}", q(w));
    }
    for r in &tool.references {
        if let Some(file) = r.strip_prefix("yaml/") {
            let _ = writeln!(
                y,
                "  - {}",
                q(&format!(
                    "https://github.com/magicsword-io/LOLRMM/blob/main/yaml/{file}"
                ))
            );
        }
    }
    let _ = writeln!(
        y,
        "  - {}",
        q(&format!(
            "https://attack.mitre.org/techniques/T1219/{}/",
            &subtechnique(tool)[13..]
        ))
    );
    let _ = writeln!(y, "author: ratcatcher");
    let _ = writeln!(y, "tags:");
    let _ = writeln!(y, "  - attack.command-and-control");
    let _ = writeln!(y, "  - attack.t1219");
    let _ = writeln!(y, "  - {}", subtechnique(tool));
    let _ = writeln!(y, "logsource:");
    let (cat, product, service) = family.logsource;
    if let Some(c) = cat {
        let _ = writeln!(y, "  category: {c}");
    }
    let _ = writeln!(y, "  product: {product}");
    if let Some(s) = service {
        let _ = writeln!(y, "  service: {s}");
    }
    let _ = writeln!(y, "detection:");
    let mut names: Vec<&str> = Vec::new();
    for it in items {
        if !names.contains(&it.name) {
            names.push(it.name);
            let _ = writeln!(y, "  {}:", it.name);
        }
        // event ids are numbers (a string would not equal them in SQL backends)
        let value = |v: &str| {
            if it.field == "EventID" && v.bytes().all(|b| b.is_ascii_digit()) {
                v.to_string()
            } else {
                q(v)
            }
        };
        if it.values.len() == 1 {
            let _ = writeln!(y, "    {}: {}", it.field, value(&it.values[0]));
        } else {
            let _ = writeln!(y, "    {}:", it.field);
            for v in &it.values {
                let _ = writeln!(y, "      - {}", value(v));
            }
        }
    }
    let condition = if family.name == "registry-autostart" {
        "(selection_key_run or selection_key_service) and selection_binary".to_string()
    } else {
        condition(&names)
    };
    let _ = writeln!(y, "  condition: {condition}");
    if !fps.is_empty() {
        let _ = writeln!(y, "falsepositives:");
        for f in fps {
            let _ = writeln!(y, "  - {}", q(f));
        }
    }
    let _ = writeln!(y, "level: {}", family.level);
    ExportedRule {
        family: family.name,
        pack_rule: family.pack_rule,
        tool: Some(tool.id.clone()),
        id,
        file: format!("{}/{}{}.yml", family.name, tool.id, suffix),
        yaml: y,
    }
}

/// The condition over a detection's items: `selection_event` (when present) and any other
/// selection, and none of the filters.
fn condition(names: &[&str]) -> String {
    let others: Vec<&str> = names
        .iter()
        .copied()
        .filter(|n| n.starts_with("selection") && *n != "selection_event")
        .collect();
    let event = names.contains(&"selection_event");
    let mut c = match (event, others.len()) {
        (false, 1) => others[0].to_string(),
        (false, _) => "1 of selection_*".to_string(),
        (true, 0) => "selection_event".to_string(),
        (true, 1) => format!("selection_event and {}", others[0]),
        (true, _) => format!("selection_event and ({})", others.join(" or ")),
    };
    if names.iter().any(|n| n.starts_with("filter")) {
        c.push_str(" and not 1 of filter_*");
    }
    c
}

/// rat-multiple-tools-on-host as a Sigma correlation: two or more distinct tool images on one
/// host within an hour, over the process-image rules.
fn correlation(rules: &[ExportedRule]) -> Option<ExportedRule> {
    let members: Vec<&ExportedRule> = rules.iter().filter(|r| r.family == "process-image").collect();
    if members.len() < 2 {
        return None;
    }
    let id = stable_id("correlation/multiple-tools-on-host");
    let mut y = String::new();
    let _ = writeln!(y, "title: 'Several remote access tools on one host within an hour'");
    let _ = writeln!(y, "id: {id}");
    let _ = writeln!(y, "status: experimental");
    let _ = writeln!(
        y,
        "description: 'Generated by ratcatcher: two or more different remote access tool images started on one host within an hour (pack rule rat-multiple-tools-on-host, process half).'"
    );
    let _ = writeln!(y, "author: ratcatcher");
    let _ = writeln!(y, "correlation:");
    let _ = writeln!(y, "  type: value_count");
    let _ = writeln!(y, "  rules:");
    for m in &members {
        let _ = writeln!(y, "    - {}", m.id);
    }
    let _ = writeln!(y, "  group-by:");
    let _ = writeln!(y, "    - Computer");
    let _ = writeln!(y, "  timespan: 1h");
    // the process-image rules keep reporting on their own
    let _ = writeln!(y, "  generate: true");
    let _ = writeln!(y, "  condition:");
    let _ = writeln!(y, "    field: Image");
    let _ = writeln!(y, "    gte: 2");
    let _ = writeln!(y, "tags:");
    let _ = writeln!(y, "  - attack.command-and-control");
    let _ = writeln!(y, "  - attack.t1219");
    let _ = writeln!(y, "level: high");
    Some(ExportedRule {
        family: "correlation",
        pack_rule: "rat-multiple-tools-on-host",
        tool: None,
        id,
        file: "correlation/multiple-tools-on-host.yml".into(),
        yaml: y,
    })
}

/// The "Known false positives" bullets of a pack rule's guide (its `.md`), one line each.
pub fn guide_falsepositives(guide: &str) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    let mut inside = false;
    for line in guide.lines() {
        if line.starts_with("## ") {
            inside = line.to_lowercase().contains("false positive");
            continue;
        }
        if !inside {
            continue;
        }
        if let Some(item) = line.strip_prefix("- ") {
            out.push(item.trim().to_string());
        } else if line.starts_with("  ")
            && !line.trim().is_empty()
            && let Some(last) = out.last_mut()
        {
            last.push(' ');
            last.push_str(line.trim());
        }
    }
    out.into_iter()
        .map(|s| s.replace('`', ""))
        .filter(|s| !s.is_empty())
        .collect()
}

/// Exports the built-in pack over the built-in catalog, with the guides' false positives.
pub fn export_builtin() -> Export {
    let (pack, _) = crate::rule::builtin_pack();
    let fps = move |rule: &str| {
        pack.iter()
            .find(|r| r.id == rule)
            .and_then(|r| r.guide.as_deref())
            .map(guide_falsepositives)
            .unwrap_or_default()
    };
    export_sigma(&catalog::builtin(), &fps)
}

#[cfg(test)]
mod tests;
