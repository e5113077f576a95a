//! The remote-access-tool catalog (`catalog/tools.json`) as data and as the two query tables
//! `RemoteAccessTools` (one row per tool) and `RemoteAccessToolIndicators` (one row per indicator).

use datafusion::arrow::array::{
    ArrayRef, BooleanBuilder, Int64Builder, LargeStringBuilder, RecordBatch, StringBuilder,
};
use datafusion::arrow::datatypes::{DataType, Field, Schema, SchemaRef};
use serde::Deserialize;
use std::sync::Arc;

/// The catalog compiled into the binary.
pub const BUILTIN_CATALOG: &str = include_str!("../../../catalog/tools.json");

/// One tool of the catalog (the fields rules and tuning use; see docs/catalog.md).
#[derive(Debug, Clone, Deserialize)]
pub struct Tool {
    /// Stable id (lower case, e.g. `teamviewer`).
    pub id: String,
    /// Display name.
    pub name: String,
    /// Other names the tool is known by.
    #[serde(default)]
    pub aliases: Vec<String>,
    /// The tool's category (one of the nine of docs/catalog.md).
    pub category: String,
    /// True for tools that ship with Windows (`mstsc`, Quick Assist, Remote Assistance).
    #[serde(default)]
    pub builtin: bool,
    /// The vendor, when known.
    #[serde(default)]
    pub vendor: Option<String>,
    /// The vendor's website, when known.
    #[serde(default)]
    pub website: Option<String>,
    /// True when the operator chooses the server (the tool can be self-hosted).
    #[serde(default)]
    pub self_hosted: bool,
    /// Lower-case process image names that identify the tool on their own.
    #[serde(default)]
    pub executables: Vec<String>,
    /// Executable file name globs (`*` and `?`).
    #[serde(default)]
    pub executable_patterns: Vec<String>,
    /// Names that do not identify the tool alone (generic or bundled binaries).
    #[serde(default)]
    pub ambiguous_executables: Vec<String>,
    /// PE `OriginalFileName` values.
    #[serde(default)]
    pub original_file_names: Vec<String>,
    /// Code-signing subjects.
    #[serde(default)]
    pub signers: Vec<String>,
    /// Installation folders.
    #[serde(default)]
    pub install_paths: Vec<String>,
    /// Other files and folders the tool leaves (logs, configuration).
    #[serde(default)]
    pub artifact_paths: Vec<String>,
    /// Windows service names.
    #[serde(default)]
    pub services: Vec<String>,
    /// Registry keys the tool creates.
    #[serde(default)]
    pub registry_keys: Vec<String>,
    /// Domains the tool connects to.
    #[serde(default)]
    pub domains: Vec<String>,
    /// Domain globs (`*` and `?`).
    #[serde(default)]
    pub domain_patterns: Vec<String>,
    /// IP addresses the tool connects to.
    #[serde(default)]
    pub ip_addresses: Vec<String>,
    /// Network ports the tool uses.
    #[serde(default)]
    pub ports: Vec<i64>,
    /// Network port ranges (first, last; inclusive).
    #[serde(default)]
    pub port_ranges: Vec<(i64, i64)>,
    /// Named pipes the tool creates.
    #[serde(default)]
    pub named_pipes: Vec<String>,
    /// Substrings that make an ambiguous process this tool.
    #[serde(default)]
    pub command_line_indicators: Vec<String>,
    /// USB manufacturer and product strings (hardware KVMs), as in PnP events.
    #[serde(default)]
    pub device_strings: Vec<String>,
    /// What the tool can do (`remote-control`, `file-transfer`, ...).
    #[serde(default)]
    pub capabilities: Vec<String>,
    /// Where the entry comes from (LOLRMM files as `yaml/<file>.yaml`).
    #[serde(default)]
    pub references: Vec<String>,
}

impl Tool {
    /// True when `term` names this tool: its id, name or an alias (case-insensitive).
    pub fn is_named(&self, term: &str) -> bool {
        self.id.eq_ignore_ascii_case(term)
            || self.name.eq_ignore_ascii_case(term)
            || self.aliases.iter().any(|a| a.eq_ignore_ascii_case(term))
    }
}

/// Parses a catalog file's text.
pub fn parse(text: &str) -> Result<Vec<Tool>, CatalogError> {
    Ok(serde_json::from_str(text)?)
}

/// Why a catalog file's text is not a catalog.
#[derive(Debug, thiserror::Error)]
#[error("catalog: line {}, column {}: {source}", source.line(), source.column())]
pub struct CatalogError {
    /// The JSON parser's error (with the line and column).
    #[from]
    pub source: serde_json::Error,
}

/// The catalog compiled into the binary.
pub fn builtin() -> Vec<Tool> {
    // The embedded file is validated by a unit test; an unreadable one cannot be built.
    parse(BUILTIN_CATALOG).unwrap_or_default()
}

/// An anchored, case-insensitive regex for a glob with `*` and `?` (everything else literal).
pub(crate) fn glob_to_regex(glob: &str) -> String {
    let mut re = String::from("(?i)^");
    for c in glob.chars() {
        match c {
            '*' => re.push_str(".*"),
            '?' => re.push('.'),
            c => re.push_str(&regex::escape(&c.to_string())),
        }
    }
    re.push('$');
    re
}

fn is_glob(s: &str) -> bool {
    s.contains(['*', '?'])
}

fn json_array<T: serde::Serialize>(v: &[T]) -> String {
    serde_json::to_string(v).unwrap_or_else(|_| "[]".into())
}

/// Schema of `RemoteAccessTools`.
pub(crate) fn tools_schema() -> SchemaRef {
    let mut fields = vec![
        Field::new("ToolId", DataType::Utf8, false),
        Field::new("ToolName", DataType::Utf8, false),
        Field::new("ToolCategory", DataType::Utf8, false),
        Field::new("Builtin", DataType::Boolean, true),
        Field::new("SelfHosted", DataType::Boolean, true),
        Field::new("Vendor", DataType::Utf8, false),
    ];
    for name in LIST_COLUMNS {
        fields.push(Field::new(*name, DataType::LargeUtf8, true));
    }
    Arc::new(Schema::new(fields))
}

const LIST_COLUMNS: &[&str] = &[
    "Executables",
    "ExecutablePatterns",
    "AmbiguousExecutables",
    "OriginalFileNames",
    "Signers",
    "InstallPaths",
    "ArtifactPaths",
    "Services",
    "RegistryKeys",
    "Domains",
    "DomainPatterns",
    "Ports",
    "NamedPipes",
    "CommandLineIndicators",
    "DeviceStrings",
];

/// `RemoteAccessTools`: one row per tool, list fields as `dynamic` arrays.
pub(crate) fn tools_batch(tools: &[Tool]) -> RecordBatch {
    let mut id = StringBuilder::new();
    let mut name = StringBuilder::new();
    let mut cat = StringBuilder::new();
    let mut builtin = BooleanBuilder::new();
    let mut hosted = BooleanBuilder::new();
    let mut vendor = StringBuilder::new();
    let mut lists: Vec<LargeStringBuilder> = LIST_COLUMNS.iter().map(|_| LargeStringBuilder::new()).collect();
    for t in tools {
        id.append_value(&t.id);
        name.append_value(&t.name);
        cat.append_value(&t.category);
        builtin.append_value(t.builtin);
        hosted.append_value(t.self_hosted);
        vendor.append_value(t.vendor.as_deref().unwrap_or(""));
        let values = [
            json_array(&t.executables),
            json_array(&t.executable_patterns),
            json_array(&t.ambiguous_executables),
            json_array(&t.original_file_names),
            json_array(&t.signers),
            json_array(&t.install_paths),
            json_array(&t.artifact_paths),
            json_array(&t.services),
            json_array(&t.registry_keys),
            json_array(&t.domains),
            json_array(&t.domain_patterns),
            json_array(&all_ports(t)),
            json_array(&t.named_pipes),
            json_array(&t.command_line_indicators),
            json_array(&t.device_strings),
        ];
        for (b, v) in lists.iter_mut().zip(values) {
            b.append_value(v);
        }
    }
    let mut columns: Vec<ArrayRef> = vec![
        Arc::new(id.finish()),
        Arc::new(name.finish()),
        Arc::new(cat.finish()),
        Arc::new(builtin.finish()),
        Arc::new(hosted.finish()),
        Arc::new(vendor.finish()),
    ];
    columns.extend(lists.into_iter().map(|mut b| Arc::new(b.finish()) as ArrayRef));
    RecordBatch::try_new(tools_schema(), columns).expect("columns match the schema")
}

/// Ports and expanded port ranges, sorted and deduplicated (ranges wider than 1,000 ports are
/// kept only as their ends: they describe dynamic ranges, not a tool's listening ports).
pub fn all_ports(t: &Tool) -> Vec<i64> {
    let mut ports = t.ports.clone();
    for &(lo, hi) in &t.port_ranges {
        if hi >= lo && hi - lo <= 1000 {
            ports.extend(lo..=hi);
        } else {
            ports.extend([lo, hi]);
        }
    }
    ports.sort_unstable();
    ports.dedup();
    ports
}

/// Schema of `RemoteAccessToolIndicators`.
pub(crate) fn indicators_schema() -> SchemaRef {
    Arc::new(Schema::new(vec![
        Field::new("ToolId", DataType::Utf8, false),
        Field::new("ToolName", DataType::Utf8, false),
        Field::new("ToolCategory", DataType::Utf8, false),
        Field::new("Builtin", DataType::Boolean, true),
        Field::new("SelfHosted", DataType::Boolean, true),
        Field::new("Kind", DataType::Utf8, false),
        Field::new("Indicator", DataType::Utf8, false),
        Field::new("IsGlob", DataType::Boolean, true),
        Field::new("Regex", DataType::Utf8, false),
        Field::new("Port", DataType::Int64, true),
    ]))
}

/// One indicator row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Indicator {
    /// The kind of indicator (the `Kind` column: `executable`, `domain`, `port`, ...).
    pub kind: &'static str,
    /// The indicator's value.
    pub value: String,
    /// The port, for port indicators.
    pub port: Option<i64>,
}

/// Every indicator of a tool, as `RemoteAccessToolIndicators` lists them.
pub fn indicators(t: &Tool) -> Vec<Indicator> {
    let mut out = Vec::new();
    let mut push = |kind: &'static str, value: &str, lower: bool| {
        let v = value.trim();
        if v.is_empty() {
            return;
        }
        let value = if lower { v.to_lowercase() } else { v.to_string() };
        if !out.iter().any(|i: &Indicator| i.kind == kind && i.value == value) {
            out.push(Indicator {
                kind,
                value,
                port: None,
            });
        }
    };
    for v in &t.executables {
        push("executable", v, true);
    }
    for v in &t.executable_patterns {
        push("executable_pattern", v, true);
    }
    for v in &t.ambiguous_executables {
        push("ambiguous_executable", v, true);
    }
    for v in &t.original_file_names {
        push("original_file_name", v, true);
    }
    for v in &t.signers {
        push("signer", v, true);
    }
    for v in &t.install_paths {
        push("install_path", v, true);
    }
    for v in &t.artifact_paths {
        push("artifact_path", v, true);
    }
    for v in &t.services {
        push("service", v, true);
    }
    for v in &t.registry_keys {
        push("registry_key", v, true);
    }
    for v in &t.domains {
        push("domain", v, true);
    }
    for v in &t.domain_patterns {
        match v.strip_prefix("*.") {
            Some(suffix) if !is_glob(suffix) => push("domain_suffix", suffix, true),
            _ => push("domain_pattern", v, true),
        }
    }
    for v in &t.ip_addresses {
        push("ip", v, true);
    }
    for v in &t.named_pipes {
        push("pipe", v, true);
    }
    for v in &t.command_line_indicators {
        push("command_line", v, true);
    }
    for v in &t.device_strings {
        push("device_string", v, true);
    }
    for p in all_ports(t) {
        out.push(Indicator {
            kind: "port",
            value: p.to_string(),
            port: Some(p),
        });
    }
    out
}

/// `RemoteAccessToolIndicators`: one row per indicator of every tool.
pub(crate) fn indicators_batch(tools: &[Tool]) -> RecordBatch {
    let mut id = StringBuilder::new();
    let mut name = StringBuilder::new();
    let mut cat = StringBuilder::new();
    let mut builtin = BooleanBuilder::new();
    let mut hosted = BooleanBuilder::new();
    let mut kind = StringBuilder::new();
    let mut ind = StringBuilder::new();
    let mut glob = BooleanBuilder::new();
    let mut re = StringBuilder::new();
    let mut port = Int64Builder::new();
    for t in tools {
        for i in indicators(t) {
            id.append_value(&t.id);
            name.append_value(&t.name);
            cat.append_value(&t.category);
            builtin.append_value(t.builtin);
            hosted.append_value(t.self_hosted);
            kind.append_value(i.kind);
            let g = i.kind != "port" && is_glob(&i.value);
            glob.append_value(g);
            re.append_value(if g { glob_to_regex(&i.value) } else { String::new() });
            ind.append_value(&i.value);
            port.append_option(i.port);
        }
    }
    let columns: Vec<ArrayRef> = vec![
        Arc::new(id.finish()),
        Arc::new(name.finish()),
        Arc::new(cat.finish()),
        Arc::new(builtin.finish()),
        Arc::new(hosted.finish()),
        Arc::new(kind.finish()),
        Arc::new(ind.finish()),
        Arc::new(glob.finish()),
        Arc::new(re.finish()),
        Arc::new(port.finish()),
    ];
    RecordBatch::try_new(indicators_schema(), columns).expect("columns match the schema")
}

/// Registers both catalog tables on an engine, as static tables: what rules derive from the
/// catalog alone (name lists, patterns, regexes) is computed once per engine and reused.
pub fn register(engine: &mut engine::Engine, tools: &[Tool]) -> Result<(), engine::QueryError> {
    engine.register_static_batches("RemoteAccessTools", tools_schema(), vec![tools_batch(tools)])?;
    engine.register_static_batches(
        "RemoteAccessToolIndicators",
        indicators_schema(),
        vec![indicators_batch(tools)],
    )
}

/// Tools whose id, name, alias, executable or domain contains `term` (case-insensitive).
pub fn search<'a>(tools: &'a [Tool], term: &str) -> Vec<&'a Tool> {
    let t = term.to_lowercase();
    tools
        .iter()
        .filter(|tool| {
            tool.id.contains(&t)
                || tool.name.to_lowercase().contains(&t)
                || tool.aliases.iter().any(|a| a.to_lowercase().contains(&t))
                || tool.category.contains(&t)
                || tool.executables.iter().any(|e| e.contains(&t))
                || tool.domains.iter().any(|d| d.contains(&t))
                || tool.domain_patterns.iter().any(|d| d.contains(&t))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builtin_catalog_parses_and_has_the_seed_tools() {
        let tools = parse(BUILTIN_CATALOG).expect("embedded catalog parses");
        assert!(tools.len() > 250, "{} tools", tools.len());
        for id in [
            "teamviewer",
            "anydesk",
            "screenconnect",
            "rustdesk",
            "tightvnc",
            "mstsc",
        ] {
            assert!(tools.iter().any(|t| t.id == id), "missing {id}");
        }
    }

    #[test]
    fn indicators_are_lowercase_and_domain_patterns_split() {
        let tools = builtin();
        let anydesk = tools.iter().find(|t| t.id == "anydesk").unwrap();
        let ind = indicators(anydesk);
        assert!(ind.contains(&Indicator {
            kind: "executable",
            value: "anydesk.exe".into(),
            port: None
        }));
        assert!(
            ind.iter()
                .any(|i| i.kind == "domain_suffix" && i.value == "anydesk.com")
        );
        assert!(
            ind.iter()
                .any(|i| i.kind == "signer" && i.value == "anydesk software gmbh")
        );
        let rustdesk = tools.iter().find(|t| t.id == "rustdesk").unwrap();
        let ports: Vec<i64> = indicators(rustdesk).iter().filter_map(|i| i.port).collect();
        assert_eq!(ports, vec![443, 21115, 21116, 21117, 21118, 21119]);
    }

    #[test]
    fn glob_regex_is_anchored_and_literal() {
        let re = regex::Regex::new(&glob_to_regex("screenconnect*.exe")).unwrap();
        assert!(re.is_match("ScreenConnect.ClientService.exe"));
        assert!(!re.is_match("xscreenconnect.exe"));
        assert!(!re.is_match("screenconnect.exe.txt"));
        let re = regex::Regex::new(&glob_to_regex("aa_v?.exe")).unwrap();
        assert!(re.is_match("AA_V3.EXE"));
        assert!(!re.is_match("aa_v3aexe"));
    }

    #[test]
    fn merged_lolrmm_names_find_their_tool() {
        let tools = builtin();
        let named = |term: &str| -> Vec<&str> {
            tools
                .iter()
                .filter(|t| t.is_named(term))
                .map(|t| t.id.as_str())
                .collect()
        };
        // Names of LOLRMM files merged into another entry, and their short forms.
        assert_eq!(named("Pandora RC"), ["ehorus"]);
        assert_eq!(named("pandora rc (ehorus)"), ["ehorus"]);
        assert_eq!(named("LabTech"), ["connectwise-automate"]);
        assert_eq!(
            named("LabTech RMM (Now ConnectWise Automate)"),
            ["connectwise-automate"]
        );
        assert_eq!(named("NinjaRMM"), ["ninjaone"]);
        assert_eq!(named("ConnectWise Control"), ["screenconnect"]);
        // A short form that is another tool's name stays that tool's.
        assert_eq!(named("PSEXEC"), ["psexec"]);
        // `ratcatcher catalog TERM` searches aliases too.
        let found: Vec<&str> = search(&tools, "Pandora RC").iter().map(|t| t.id.as_str()).collect();
        assert_eq!(found, ["ehorus"]);
    }

    #[test]
    fn bundled_and_generic_binaries_do_not_name_the_bundling_tool() {
        let tools = builtin();
        let tool = |id: &str| tools.iter().find(|t| t.id == id).unwrap();
        let owners = |exe: &str| -> Vec<&str> {
            tools
                .iter()
                .filter(|t| t.executables.iter().any(|e| e == exe))
                .map(|t| t.id.as_str())
                .collect()
        };
        // Freshservice's discovery probe ships PuTTY's plink.exe: the name is PuTTY's.
        assert_eq!(owners("plink.exe"), ["putty"]);
        assert!(
            tool("freshservice")
                .ambiguous_executables
                .iter()
                .any(|e| e == "plink.exe")
        );
        assert!(
            !tool("freshservice")
                .original_file_names
                .iter()
                .any(|e| e == "plink.exe")
        );
        assert_eq!(owners("paexec.exe"), ["psexec-clone"]);
        assert_eq!(owners("tvnserver.exe"), ["tightvnc"]);
        for generic in [
            "vhost.exe",
            "rdp.exe",
            "supporttool.exe",
            "remote access.exe",
            "setup.exe",
        ] {
            assert!(
                owners(generic).is_empty(),
                "{generic} is an executable of {:?}",
                owners(generic)
            );
        }
        // PsExec's service binary, spelt as the binary is.
        assert_eq!(owners("psexesvc.exe"), ["psexec"]);
        assert!(owners("psexecsvc.exe").is_empty());
        assert!(tool("psexec").services.iter().any(|s| s == "PSEXESVC"));
    }

    #[test]
    fn batches_have_one_row_per_tool_and_indicator() {
        let tools = builtin();
        assert_eq!(tools_batch(&tools).num_rows(), tools.len());
        let n: usize = tools.iter().map(|t| indicators(t).len()).sum();
        assert_eq!(indicators_batch(&tools).num_rows(), n);
    }
}
