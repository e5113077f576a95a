//! Table schemas for checking queries without data (`ratcatcher check --schema`): the shipped
//! schemas (`schemas/*.json`, compiled in), tables handed over by the caller (the Defender tables
//! of `telemetry`, the catalog tables), and user files in the Azure-Sentinel custom-table shape
//! (`{"Name": "T", "Properties": [{"Name": "c", "Type": "string"}, ...]}`).
//!
//! A query is checked by planning it against empty tables with these schemas: the engine rejects
//! unknown tables, columns and functions and wrong argument types at plan time. Queries that read
//! tables or saved functions the schemas do not have are not checked, and plan failures of
//! features the engine lacks are told apart from errors of the query.

use datafusion::arrow::datatypes::{DataType, Field, Schema, SchemaRef};
use engine::{Engine, EngineOptions, KqlType, QueryError};
use kql::Diagnostic;
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// One `(name, JSON)` entry per shipped table file `schemas/<name>.json`.
macro_rules! tables {
    ($($name:literal,)*) => {
        &[$(($name, include_str!(concat!("../../../schemas/", $name, ".json")))),*]
    };
}

/// The shipped schemas: Microsoft's Azure Monitor table reference and Defender tables, one file
/// per table (sources in `schemas/README.md`).
const BUILTIN: &[(&str, &str)] = tables![
    "AADManagedIdentitySignInLogs",
    "AADNonInteractiveUserSignInLogs",
    "AADProvisioningLogs",
    "AADRiskyUsers",
    "AADServicePrincipalSignInLogs",
    "AADSignInEventsBeta",
    "AADUserRiskEvents",
    "ASimAuditEventLogs",
    "ASimAuthenticationEventLogs",
    "ASimDnsActivityLogs",
    "ASimFileEventLogs",
    "ASimNetworkSessionLogs",
    "ASimProcessEventLogs",
    "ASimRegistryEventLogs",
    "ASimWebSessionLogs",
    "AWSCloudTrail",
    "AWSGuardDuty",
    "AWSVPCFlow",
    "AlertEvidence",
    "AlertInfo",
    "Anomalies",
    "AuditLogs",
    "AzureActivity",
    "AzureDevOpsAuditing",
    "AzureMetrics",
    "BehaviorAnalytics",
    "CloudAppEvents",
    "CommonSecurityLog",
    "DnsEvents",
    "EmailAttachmentInfo",
    "EmailEvents",
    "EmailPostDeliveryEvents",
    "EmailUrlInfo",
    "Event",
    "GCPAuditLogs",
    "Heartbeat",
    "IdentityDirectoryEvents",
    "IdentityInfo",
    "IdentityLogonEvents",
    "IdentityQueryEvents",
    "IntuneDevices",
    "LAQueryLogs",
    "MicrosoftGraphActivityLogs",
    "OfficeActivity",
    "Perf",
    "SecurityAlert",
    "SecurityIncident",
    "SecurityRecommendation",
    "SentinelAudit",
    "SentinelHealth",
    "SigninLogs",
    "StorageBlobLogs",
    "StorageFileLogs",
    "Syslog",
    "ThreatIntelligenceIndicator",
    "Update",
    "UrlClickEvents",
    "Usage",
    "VMConnection",
    "W3CIISLog",
    "Watchlist",
    "WireData",
];

/// Kusto's built-in function, aggregation and plugin names (`schemas/kusto-functions.txt`).
const KUSTO_FUNCTIONS: &str = include_str!("../../../schemas/kusto-functions.txt");

/// Columns every Log Analytics table has (Azure Monitor's standard columns), added to every
/// table with a `TimeGenerated` column that does not list them.
pub(crate) const STANDARD_COLUMNS: &[(&str, KqlType)] = &[
    ("TenantId", KqlType::String),
    ("Type", KqlType::String),
    ("_ResourceId", KqlType::String),
    ("_SubscriptionId", KqlType::String),
    ("_IsBillable", KqlType::String),
    ("_BilledSize", KqlType::Real),
    ("_TimeReceived", KqlType::Datetime),
    ("_ItemId", KqlType::String),
];

/// The `now` of the engine that checks queries (any fixed time: nothing runs).
const CHECK_NOW: i64 = 1_700_000_000_000_000_000;

/// Where a table's schema came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Origin {
    /// Shipped in `schemas/`.
    Builtin,
    /// Handed over by the caller (`telemetry`'s Defender tables, the catalog tables).
    Given(&'static str),
    /// A `--schema-dir` file.
    File(PathBuf),
}

/// One table: its name and typed columns.
#[derive(Debug, Clone, PartialEq)]
pub struct TableSchema {
    /// The table's name.
    pub name: String,
    /// The columns, with their KQL types, in order.
    pub columns: Vec<(String, KqlType)>,
    /// Where the schema comes from.
    pub origin: Origin,
}

impl TableSchema {
    /// A table from an Arrow schema (types as the engine reads them; unknown ones as `dynamic`).
    pub fn from_arrow(name: &str, schema: &Schema, origin: Origin) -> TableSchema {
        let columns = schema
            .fields()
            .iter()
            .map(|f| {
                let ty = KqlType::of_arrow(f.data_type()).unwrap_or(KqlType::Dynamic);
                (f.name().clone(), ty)
            })
            .collect();
        TableSchema {
            name: name.to_string(),
            columns,
            origin,
        }
    }

    /// The Arrow schema of the table's empty stand-in (`decimal` is held as `real`).
    pub fn arrow_schema(&self) -> SchemaRef {
        let fields: Vec<Field> = self
            .columns
            .iter()
            .map(|(n, t)| Field::new(n, t.arrow().unwrap_or(DataType::Float64), true))
            .collect();
        Arc::new(Schema::new(fields))
    }
}

/// A schema file that could not be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SchemaError {
    /// The file could not be read or is not a schema file.
    #[error("{path}: {message}")]
    File {
        /// The file.
        path: PathBuf,
        /// What is wrong with it.
        message: String,
    },
}

fn member<'a>(v: &'a serde_json::Value, key: &str) -> Option<&'a serde_json::Value> {
    v.as_object()?
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case(key))
        .map(|(_, v)| v)
}

fn table_from_json(v: &serde_json::Value, origin: &Origin) -> Result<TableSchema, String> {
    let name = member(v, "Name")
        .and_then(|n| n.as_str())
        .filter(|n| !n.trim().is_empty())
        .ok_or("a table needs a `Name` string")?;
    let props = member(v, "Properties")
        .and_then(|p| p.as_array())
        .ok_or_else(|| format!("table `{name}` needs a `Properties` array of columns"))?;
    let mut columns: Vec<(String, KqlType)> = Vec::with_capacity(props.len());
    for (i, p) in props.iter().enumerate() {
        let col = member(p, "Name")
            .and_then(|n| n.as_str())
            .filter(|n| !n.trim().is_empty())
            .ok_or_else(|| format!("table `{name}`: column {} has no `Name`", i + 1))?;
        let ty_name = member(p, "Type")
            .and_then(|t| t.as_str())
            .ok_or_else(|| format!("table `{name}`: column `{col}` has no `Type`"))?;
        let ty = KqlType::from_name(&ty_name.trim().to_ascii_lowercase())
            .or_else(|| ty_name.trim().strip_prefix("System.").and_then(system_type))
            .ok_or_else(|| format!("table `{name}`: column `{col}` has an unknown type `{ty_name}`"))?;
        if columns.iter().any(|(c, _)| c == col) {
            return Err(format!("table `{name}`: column `{col}` is listed twice"));
        }
        columns.push((col.to_string(), ty));
    }
    Ok(TableSchema {
        name: name.to_string(),
        columns,
        origin: origin.clone(),
    })
}

/// .NET type names (`System.String`, ...) as some schema exports write them.
fn system_type(name: &str) -> Option<KqlType> {
    Some(match name {
        "String" => KqlType::String,
        "Int32" => KqlType::Int,
        "Int64" => KqlType::Long,
        "Double" | "Single" => KqlType::Real,
        "Boolean" | "SByte" => KqlType::Bool,
        "DateTime" => KqlType::Datetime,
        "TimeSpan" => KqlType::Timespan,
        "Guid" => KqlType::Guid,
        "Object" => KqlType::Dynamic,
        "Decimal" | "Data.SqlTypes.SqlDecimal" => KqlType::Decimal,
        _ => return None,
    })
}

/// Parses a schema file: one table object, or an array of them.
pub fn parse(text: &str, origin: &Origin) -> Result<Vec<TableSchema>, SchemaParseError> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let v: serde_json::Value = serde_json::from_str(text)?;
    let tables = match &v {
        serde_json::Value::Array(items) => items.iter().map(|t| table_from_json(t, origin)).collect(),
        _ => table_from_json(&v, origin).map(|t| vec![t]),
    };
    tables.map_err(SchemaParseError::Invalid)
}

/// Why a schema file's text is not a schema.
#[derive(Debug, thiserror::Error)]
pub enum SchemaParseError {
    /// The text is not JSON.
    #[error("invalid JSON: {source}")]
    Json {
        /// The JSON parser's error.
        #[from]
        source: serde_json::Error,
    },
    /// The JSON is not a table or an array of tables (the message names what is wrong).
    #[error("{0}")]
    Invalid(String),
}

/// The shipped schemas.
pub fn builtin() -> Vec<TableSchema> {
    BUILTIN
        .iter()
        .filter_map(|(_, text)| parse(text, &Origin::Builtin).ok())
        .flatten()
        .collect()
}

/// Largest schema file read from a `--schema-dir`.
const MAX_FILE_BYTES: u64 = 16 << 20;

/// Every `*.json` file under `dir` (recursively, sorted): the tables read, and each file that
/// could not be used, by name (the others are still used).
pub fn load_dir(dir: &Path) -> (Vec<TableSchema>, Vec<SchemaError>) {
    let mut tables = Vec::new();
    let mut errors = Vec::new();
    if !dir.is_dir() {
        errors.push(SchemaError::File {
            path: dir.to_path_buf(),
            message: "not a folder".into(),
        });
        return (tables, errors);
    }
    let mut files: Vec<PathBuf> = Vec::new();
    for entry in walkdir::WalkDir::new(dir).follow_links(true) {
        match entry {
            Ok(e) if e.file_type().is_file() => {
                let p = e.into_path();
                if p.extension()
                    .and_then(|x| x.to_str())
                    .is_some_and(|x| x.eq_ignore_ascii_case("json"))
                {
                    files.push(p);
                }
            }
            Ok(_) => {}
            Err(e) => errors.push(SchemaError::File {
                path: e.path().map_or_else(|| dir.to_path_buf(), Path::to_path_buf),
                message: e.to_string(),
            }),
        }
    }
    files.sort();
    for path in files {
        let fail = |message: String| SchemaError::File {
            path: path.clone(),
            message,
        };
        match std::fs::metadata(&path) {
            Ok(m) if m.len() > MAX_FILE_BYTES => {
                errors.push(fail(format!("larger than {} MiB", MAX_FILE_BYTES >> 20)));
                continue;
            }
            Err(e) => {
                errors.push(fail(e.to_string()));
                continue;
            }
            Ok(_) => {}
        }
        let text = match std::fs::read(&path).map(String::from_utf8) {
            Ok(Ok(t)) => t,
            Ok(Err(_)) => {
                errors.push(fail("not UTF-8 text".into()));
                continue;
            }
            Err(e) => {
                errors.push(fail(e.to_string()));
                continue;
            }
        };
        match parse(&text, &Origin::File(path.clone())) {
            Ok(t) => tables.extend(t),
            Err(e) => errors.push(fail(e.to_string())),
        }
    }
    (tables, errors)
}

/// A set of table schemas by name; a table added later replaces one of the same name.
#[derive(Debug, Clone, Default)]
pub struct Schemas {
    tables: BTreeMap<String, TableSchema>,
}

impl Schemas {
    /// No tables.
    pub fn new() -> Schemas {
        Schemas::default()
    }

    /// The shipped schemas plus the catalog tables (`RemoteAccessTools`, `RemoteAccessToolIndicators`).
    pub fn builtin() -> Schemas {
        let mut s = Schemas::new();
        for t in builtin() {
            s.insert(t);
        }
        s.insert(TableSchema::from_arrow(
            "RemoteAccessTools",
            &crate::catalog::tools_schema(),
            Origin::Given("catalog"),
        ));
        s.insert(TableSchema::from_arrow(
            "RemoteAccessToolIndicators",
            &crate::catalog::indicators_schema(),
            Origin::Given("catalog"),
        ));
        s
    }

    /// Adds (or replaces) a table; Log Analytics tables (with `TimeGenerated`) get the standard
    /// columns they do not list.
    pub fn insert(&mut self, mut t: TableSchema) {
        if t.columns.iter().any(|(c, _)| c == "TimeGenerated") {
            for (c, ty) in STANDARD_COLUMNS {
                if !t.columns.iter().any(|(n, _)| n == c) {
                    t.columns.push(((*c).to_string(), *ty));
                }
            }
        }
        self.tables.insert(t.name.clone(), t);
    }

    /// A table by name.
    pub fn get(&self, name: &str) -> Option<&TableSchema> {
        self.tables.get(name)
    }

    /// How many tables there are.
    pub fn len(&self) -> usize {
        self.tables.len()
    }

    /// True when there is no table.
    pub fn is_empty(&self) -> bool {
        self.tables.is_empty()
    }

    /// The tables, by name.
    pub fn tables(&self) -> impl Iterator<Item = &TableSchema> {
        self.tables.values()
    }

    /// The tables as JSON, in the shape the files have (an array of tables), with the types the
    /// engine checks against (`guid` as `string`, `decimal` as `real`): what Microsoft's analyzer
    /// is given in the oracle comparison.
    pub fn to_json(&self) -> serde_json::Value {
        let tables: Vec<serde_json::Value> = self
            .tables
            .values()
            .map(|t| {
                let props: Vec<serde_json::Value> = t
                    .arrow_schema()
                    .fields()
                    .iter()
                    .map(|f| {
                        let ty = KqlType::of_arrow(f.data_type()).unwrap_or(KqlType::Dynamic);
                        serde_json::json!({"Name": f.name(), "Type": ty.name()})
                    })
                    .collect();
                serde_json::json!({"Name": t.name, "Properties": props})
            })
            .collect();
        serde_json::Value::Array(tables)
    }

    /// An engine with an empty table for each schema.
    pub fn engine(&self) -> Result<Engine, QueryError> {
        let mut eng = Engine::new(EngineOptions {
            now: Some(CHECK_NOW),
            target_partitions: Some(1),
            // Plan-only: bag_unpack / pivot columns come from data there is none of.
            open_schemas: true,
            ..Default::default()
        })?;
        for t in self.tables.values() {
            eng.register_batches(&t.name, t.arrow_schema(), vec![])?;
        }
        Ok(eng)
    }
}

/// What checking one query against the schemas found.
#[derive(Debug, Clone, PartialEq)]
pub enum Verdict {
    /// It plans against the schemas.
    Ok,
    /// It reads tables or calls saved functions the schemas do not have: not checked.
    NotChecked(Unknown),
    /// The query is wrong against the schemas (unknown column, type error, ...).
    Error(Diagnostic),
    /// The engine cannot plan a feature the query uses (not an error of the query).
    NotPlanned(Diagnostic),
    /// Not valid KQL.
    Syntax(Vec<Diagnostic>),
}

/// The names a query reads that the schemas do not have.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Unknown {
    /// Tables (each with a suggestion when one of the schemas' tables is close).
    pub tables: Vec<(String, Option<String>)>,
    /// Tabular functions not defined in the query (saved functions, ASIM parsers, ...).
    pub functions: Vec<String>,
    /// Table patterns that match too many tables to plan quickly (`union *`, `search`).
    pub wide: Vec<String>,
    /// Where the first unknown name is, in the query.
    pub span: kql::Span,
}

impl Unknown {
    fn is_empty(&self) -> bool {
        self.tables.is_empty() && self.functions.is_empty() && self.wide.is_empty()
    }
}

/// Most tables one name pattern may match and still be checked: a union of every table (well
/// over a hundred, thousands of columns) takes DataFusion minutes to plan.
pub const MAX_PATTERN_TABLES: usize = 40;

/// Whether a table name matches a Kusto name pattern (`*` any run of characters).
fn matches_pattern(pattern: &str, name: &str) -> bool {
    let parts: Vec<&str> = pattern.split('*').collect();
    let (first, rest) = parts.split_first().unwrap_or((&"", &[]));
    let Some(mut tail) = name.strip_prefix(first) else {
        return false;
    };
    let Some((last, middle)) = rest.split_last() else {
        return tail.is_empty();
    };
    for m in middle {
        match tail.find(m) {
            Some(i) => tail = &tail[i + m.len()..],
            None => return false,
        }
    }
    tail.len() >= last.len() && tail.ends_with(last)
}

/// Checks queries against a set of schemas.
pub struct Checker {
    schemas: Schemas,
    engine: Engine,
    kusto_functions: BTreeSet<&'static str>,
}

impl Checker {
    /// A checker over `schemas` (an engine with an empty stand-in for each table).
    pub fn new(schemas: Schemas) -> Result<Checker, QueryError> {
        let engine = schemas.engine()?;
        let kusto_functions = KUSTO_FUNCTIONS
            .lines()
            .map(str::trim)
            .filter(|l| !l.is_empty() && !l.starts_with('#'))
            .collect();
        Ok(Checker {
            schemas,
            engine,
            kusto_functions,
        })
    }

    /// The tables the checker knows.
    pub fn schemas(&self) -> &Schemas {
        &self.schemas
    }

    /// Whether `name` is one of Kusto's built-in functions, aggregations or plugins.
    pub fn is_kusto_function(&self, name: &str) -> bool {
        self.kusto_functions.contains(name)
    }

    /// Checks one query text.
    pub fn check(&self, text: &str) -> Verdict {
        let parsed = kql::parse(text);
        if !parsed.is_ok() {
            return Verdict::Syntax(parsed.diagnostics);
        }
        let refs = references(&parsed.query);
        let mut unknown = Unknown::default();
        for (name, span) in &refs.tables {
            if self.schemas.get(name).is_none() && !unknown.tables.iter().any(|(t, _)| t == name) {
                if unknown.is_empty() {
                    unknown.span = *span;
                }
                let names = self.schemas.tables.keys().map(String::as_str);
                let hint = kql::diag::closest(name, names).map(str::to_string);
                unknown.tables.push((name.clone(), hint));
            }
        }
        for (name, span) in &refs.functions {
            if !self.kusto_functions.contains(name.as_str()) && !unknown.functions.contains(name) {
                if unknown.is_empty() {
                    unknown.span = *span;
                }
                unknown.functions.push(name.clone());
            }
        }
        for (pattern, span) in &refs.wildcards {
            let n = self
                .schemas
                .tables
                .keys()
                .filter(|t| matches_pattern(pattern, t))
                .count();
            if n > MAX_PATTERN_TABLES && !unknown.wide.contains(pattern) {
                if unknown.is_empty() {
                    unknown.span = *span;
                }
                unknown.wide.push(pattern.clone());
            }
        }
        if !unknown.is_empty() {
            return Verdict::NotChecked(unknown);
        }
        match self.engine.plan_query(&parsed.query) {
            Ok(_) => Verdict::Ok,
            Err(QueryError::Plan(d)) => self.classify(d, &parsed.query),
            Err(QueryError::Syntax(d)) => Verdict::Syntax(d),
            Err(QueryError::Execution(m)) => Verdict::NotPlanned(Diagnostic::new(m, kql::Span::default())),
        }
    }

    /// An error of the query, or a feature the engine lacks.
    fn classify(&self, d: Diagnostic, query: &kql::Query) -> Verdict {
        let m = d.message.as_str();
        if let Some(name) = quoted_after(m, "unknown table ") {
            let names = self.schemas.tables.keys().map(String::as_str);
            let hint = kql::diag::closest(name, names).map(str::to_string);
            return Verdict::NotChecked(Unknown {
                tables: vec![(name.to_string(), hint)],
                span: d.span,
                ..Unknown::default()
            });
        }
        let unknown_fn = quoted_after(m, "unknown function ").or_else(|| quoted_after(m, "unknown tabular function "));
        if let Some(name) = unknown_fn
            && self.kusto_functions.contains(name)
        {
            let mut d = d.clone();
            d.message = format!("the function `{name}` is not supported yet");
            d.help = None;
            return Verdict::NotPlanned(d);
        }
        if let Some(why) = engine_limit(m) {
            let mut d = d;
            d.help = Some(format!("the engine's limit: {why}"));
            return Verdict::NotPlanned(d);
        }
        let evaluates = evaluate_spans(query);
        if evaluates.iter().any(|s| s.start <= d.span.start && d.span.end <= s.end) {
            let mut d = d;
            d.help = Some("inside an `evaluate` plugin's arguments, which are not judged".into());
            return Verdict::NotPlanned(d);
        }
        // Plugins such as bag_unpack and pivot make columns from the data: names used after
        // them cannot be judged without it.
        if m.starts_with("unknown column") && evaluates.iter().any(|s| s.end <= d.span.start) {
            let mut d = d;
            d.help = Some("after an `evaluate` plugin, whose columns depend on the data".into());
            return Verdict::NotPlanned(d);
        }
        Verdict::Error(d)
    }
}

/// The name in backquotes right after `prefix` at the start of `message`.
fn quoted_after<'a>(message: &'a str, prefix: &str) -> Option<&'a str> {
    let rest = message.strip_prefix(prefix)?.strip_prefix('`')?;
    rest.split('`').next()
}

/// Plan errors that are the engine's limits, not errors of the query, by a part of their message,
/// with the reason shown. Each was found rejecting corpus queries that Microsoft's analyzer
/// accepts with the same schemas (docs/kql-corpus.md, "Schema check over the corpus").
pub(crate) const ENGINE_LIMITS: &[(&str, &str)] = &[
    ("not supported", "a feature the engine lacks"),
    ("not implemented", "a feature the engine lacks"),
    ("no clusters here", "a feature the engine lacks"),
    ("takes a table name as a string literal", "table() with a computed name"),
    (
        "the query has no tabular expression to run",
        "only `let` statements: nothing to plan",
    ),
    (
        "only the last statement of a query can be a query expression",
        "several query expressions (several results) in one query",
    ),
    (
        "invalid regular expression",
        "a regular expression the engine's regex dialect rejects",
    ),
    (
        "property access needs a dynamic value",
        "property access on a string value",
    ),
    ("assigns, it does not compare", "`=` used as `==` in a predicate"),
    ("Schema error:", "an internal planning failure"),
    ("Error during planning:", "an internal planning failure"),
    (
        "summarize takes aggregations",
        "an expression over aggregations in summarize",
    ),
    ("the default of next()", "next() with a default of another type"),
    ("invalid datetime", "a datetime literal format the engine does not read"),
    ("union has no tables", "union isfuzzy over legs the engine cannot plan"),
    ("takes constant bounds", "make-series with computed bounds"),
    ("takes constant `from`", "make-series with computed bounds"),
];

/// Why a plan error is the engine's limit rather than the query's error, if it is.
pub(crate) fn engine_limit(message: &str) -> Option<&'static str> {
    ENGINE_LIMITS
        .iter()
        .find(|(part, _)| message.contains(part))
        .map(|(_, why)| *why)
}

/// Spans of the query's `evaluate` operators: Microsoft's analyzer does not judge plugin
/// arguments, so neither does the check.
fn evaluate_spans(q: &kql::Query) -> Vec<kql::Span> {
    let mut w = Walker {
        evaluate: Some(Vec::new()),
        ..Walker::default()
    };
    for st in &q.statements {
        w.statement(st);
    }
    w.evaluate.unwrap_or_default()
}

/// The tables and tabular functions a query reads, each with where it is first named.
#[derive(Debug, Default)]
pub(crate) struct References {
    pub tables: Vec<(String, kql::Span)>,
    pub functions: Vec<(String, kql::Span)>,
    /// Table name patterns (`*`, `Device*`; `search` and `find` without `in` read `*`).
    pub wildcards: Vec<(String, kql::Span)>,
}

/// The tables (names in tabular position: pipeline sources, `join`/`lookup`/`union` operands,
/// `let` values, `table("T")`) and the tabular functions a query reads, leaving out names the
/// query binds itself (`let`, function parameters, `as`).
pub(crate) fn references(q: &kql::Query) -> References {
    let mut w = Walker::default();
    for st in &q.statements {
        w.statement(st);
    }
    let bound = std::mem::take(&mut w.bound);
    let keep = |v: Vec<(String, kql::Span)>| {
        let mut out: Vec<(String, kql::Span)> = Vec::new();
        for (n, s) in v {
            if !bound.contains(&n) && !out.iter().any(|(o, _)| *o == n) {
                out.push((n, s));
            }
        }
        out
    };
    References {
        tables: keep(w.tables),
        functions: keep(w.functions),
        wildcards: w.wildcards,
    }
}

/// Tabular calls the planner itself understands (not saved functions).
const TABULAR_CALLS: &[&str] = &["materialize", "table", "view", "toscalar", "range", "print"];

/// Calls that name tables in other clusters, databases or workspaces.
const OTHER_PLACES: &[&str] = &[
    "cluster",
    "database",
    "workspace",
    "app",
    "adx",
    "external_table",
    "materialized_view",
];

#[derive(Default)]
struct Walker {
    tables: Vec<(String, kql::Span)>,
    functions: Vec<(String, kql::Span)>,
    wildcards: Vec<(String, kql::Span)>,
    bound: BTreeSet<String>,
    /// When set, collects the spans of `evaluate` operators.
    evaluate: Option<Vec<kql::Span>>,
}

impl Walker {
    fn statement(&mut self, st: &kql::Statement) {
        match st {
            kql::Statement::Let { name, value, .. } => {
                self.bound.insert(name.name.clone());
                match value {
                    kql::LetValue::Expr(e) => self.tabular(e),
                    kql::LetValue::Function(f) => self.function(f),
                }
            }
            kql::Statement::Set { value: Some(v), .. } => self.expr(v),
            kql::Statement::DeclareQueryParameters { params, .. } => self.params(params),
            kql::Statement::Expr(e) => self.tabular(e),
            _ => {}
        }
    }

    fn function(&mut self, f: &kql::FunctionDef) {
        self.params(&f.params);
        for st in &f.body {
            self.statement(st);
        }
    }

    fn params(&mut self, params: &[kql::Param]) {
        for p in params {
            self.bound.insert(p.name.name.clone());
            if let Some(d) = &p.default {
                self.expr(d);
            }
        }
    }

    /// An expression in tabular position: a bare name there is a table.
    fn tabular(&mut self, e: &kql::Expr) {
        match e {
            kql::Expr::Name(n) => self.tables.push((n.name.clone(), n.span)),
            kql::Expr::Star(span) => self.wildcards.push(("*".into(), *span)),
            kql::Expr::Pattern(p, span) => self.wildcards.push((p.clone(), *span)),
            kql::Expr::Paren(inner, _) => self.tabular(inner),
            kql::Expr::Pipeline { source, ops, .. } => {
                self.tabular(source);
                for op in ops {
                    self.operator(op);
                }
            }
            // `cluster(..).database(..).T`, `workspace(..).T`: tables elsewhere, never checked.
            kql::Expr::Member { expr, .. } => self.tabular(expr),
            kql::Expr::Call {
                receiver: Some(_),
                name,
                span,
                ..
            } => self.functions.push((format!("{}()", name.name), *span)),
            kql::Expr::Call {
                receiver: None,
                name,
                args,
                ..
            } => {
                let lower = name.name.to_ascii_lowercase();
                if OTHER_PLACES.contains(&lower.as_str()) {
                    self.functions.push((format!("{lower}()"), name.span));
                } else if lower == "table"
                    && let Some(kql::Expr::Literal(kql::Literal::String { value, .. }, span)) =
                        args.first().map(kql::Arg::expr)
                {
                    self.tables.push((value.clone(), *span));
                } else if !TABULAR_CALLS.contains(&lower.as_str()) {
                    self.functions.push((name.name.clone(), name.span));
                }
                for a in args {
                    self.tabular_or_scalar(a.expr());
                }
            }
            other => self.expr(other),
        }
    }

    /// An argument that may be a table or a value: only pipelines are taken as tables.
    fn tabular_or_scalar(&mut self, e: &kql::Expr) {
        match e {
            kql::Expr::Pipeline { .. } => self.tabular(e),
            other => self.expr(other),
        }
    }

    fn exprs<'e>(&mut self, es: impl IntoIterator<Item = &'e kql::Expr>) {
        for e in es {
            self.expr(e);
        }
    }

    fn named(&mut self, items: &[kql::NamedExpr]) {
        for n in items {
            self.expr(&n.expr);
        }
    }

    fn op_params(&mut self, params: &[kql::OpParam]) {
        for p in params {
            if p.name.is("withsource") || p.name.is("with_source") {
                continue;
            }
            self.expr(&p.value);
        }
    }

    /// A scalar expression: tables appear only inside pipelines it holds.
    fn expr(&mut self, e: &kql::Expr) {
        use kql::Expr as E;
        match e {
            E::Literal(..) | E::Name(_) | E::Star(_) | E::Pattern(..) => {}
            E::Paren(i, _) => self.expr(i),
            E::Unary { expr, .. } => self.expr(expr),
            E::Binary { left, right, .. } => {
                self.expr(left);
                self.expr(right);
            }
            E::Logical { operands, .. } => self.exprs(operands),
            E::List { expr, items, .. } => {
                self.expr(expr);
                for i in items {
                    self.tabular_or_scalar(i);
                }
            }
            E::Between { expr, low, high, .. } => self.exprs([&**expr, low, high]),
            E::Call { receiver, args, .. } => {
                if let Some(r) = receiver {
                    self.expr(r);
                }
                for a in args {
                    self.tabular_or_scalar(a.expr());
                }
            }
            E::Member { expr, .. } => self.expr(expr),
            E::Index { expr, index, .. } => self.exprs([&**expr, index]),
            E::Pipeline { .. } => self.tabular(e),
            E::Source(op) => self.operator(op),
            E::Assign { value, .. } => self.expr(value),
        }
    }

    fn sub_ops(&mut self, ops: &[kql::Operator]) {
        for op in ops {
            self.operator(op);
        }
    }

    fn operator(&mut self, op: &kql::Operator) {
        use kql::OperatorKind as K;
        match &op.kind {
            K::Where(e) | K::Take(e) | K::Sample(e) | K::Invoke(e) => self.expr(e),
            K::Extend(n) | K::Project(n) | K::Print(n) | K::Serialize(n) => self.named(n),
            K::ProjectAway(es) | K::ProjectKeep(es) => self.exprs(es),
            K::ProjectRename(pairs) => self.exprs(pairs.iter().map(|(_, e)| e)),
            K::ProjectReorder(items) => self.exprs(items.iter().map(|(e, _)| e)),
            K::Summarize { params, aggregates, by } => {
                self.op_params(params);
                self.named(aggregates);
                self.named(by);
            }
            K::Sort { params, keys } => {
                self.op_params(params);
                self.exprs(keys.iter().map(|k| &k.expr));
            }
            K::Top { count, key } => self.exprs([count, &key.expr]),
            K::TopNested(levels) => {
                for l in levels {
                    if let Some(c) = &l.count {
                        self.expr(c);
                    }
                    self.expr(&l.of.expr);
                    if let Some(o) = &l.others {
                        self.expr(o);
                    }
                    self.expr(&l.by.expr);
                }
            }
            K::TopHitters { count, of, by } => {
                self.exprs([count, of]);
                if let Some(b) = by {
                    self.expr(b);
                }
            }
            K::Distinct { params, columns } => {
                self.op_params(params);
                self.exprs(columns);
            }
            K::Count { .. } | K::Getschema | K::ProjectSmart | K::AssertSchema(_) => {}
            K::Join { params, right, on } | K::Lookup { params, right, on } => {
                self.op_params(params);
                self.tabular(right);
                self.exprs(on);
            }
            K::Union { params, tables } => {
                self.op_params(params);
                for t in tables {
                    self.tabular(t);
                }
            }
            K::MvExpand { params, items, limit } => {
                self.op_params(params);
                self.exprs(items.iter().map(|i| &i.expr));
                if let Some(l) = limit {
                    self.expr(l);
                }
            }
            K::MvApply {
                params,
                items,
                limit,
                on,
                ..
            } => {
                self.op_params(params);
                self.exprs(items.iter().map(|i| &i.expr));
                for i in items {
                    if let Some(n) = &i.name {
                        self.bound.insert(n.name.clone());
                    }
                }
                if let Some(l) = limit {
                    self.expr(l);
                }
                self.sub_ops(on);
            }
            K::Parse { params, expr, .. } => {
                self.op_params(params);
                self.expr(expr);
            }
            K::ParseKv { expr, with, .. } => {
                self.expr(expr);
                self.op_params(with);
            }
            K::MakeSeries {
                params,
                aggregates,
                on,
                range,
                by,
            } => {
                self.op_params(params);
                for a in aggregates {
                    self.expr(&a.expr);
                    if let Some(d) = &a.default {
                        self.expr(d);
                    }
                }
                self.expr(on);
                match range {
                    kql::SeriesRange::In { start, stop, step } => self.exprs([start, stop, step]),
                    kql::SeriesRange::FromTo { from, to, step } => {
                        self.exprs(from.iter().chain(to.iter()).chain(std::iter::once(step)));
                    }
                }
                self.named(by);
            }
            K::Evaluate { params, call, .. } => {
                if let Some(spans) = &mut self.evaluate {
                    spans.push(op.span);
                }
                self.op_params(params);
                // A plugin call: its name is no table, its arguments are values.
                if let kql::Expr::Call { args, .. } = call {
                    for a in args {
                        self.tabular_or_scalar(a.expr());
                    }
                }
            }
            K::Render { with, .. } => self.op_params(with),
            K::As { params, name } => {
                self.op_params(params);
                self.bound.insert(name.name.clone());
            }
            K::Search {
                params,
                tables,
                predicate,
            } => {
                self.op_params(params);
                if tables.is_empty() {
                    self.wildcards.push(("*".into(), op.span));
                }
                for t in tables {
                    self.tabular(t);
                }
                self.expr(predicate);
            }
            K::Find {
                params,
                tables,
                predicate,
                project,
            } => {
                self.op_params(params);
                if tables.is_empty() {
                    self.wildcards.push(("*".into(), op.span));
                }
                for t in tables {
                    self.tabular(t);
                }
                self.expr(predicate);
                if let Some(p) = project {
                    self.exprs(p);
                }
            }
            K::Datatable { values, .. } => self.exprs(values),
            K::ExternalData { uris, with, .. } => {
                self.exprs(uris);
                self.op_params(with);
            }
            K::Range { from, to, step, .. } => self.exprs([from, to, step]),
            K::SampleDistinct { count, of } => self.exprs([count, of]),
            K::Scan {
                params,
                order_by,
                partition_by,
                declare,
                steps,
            } => {
                self.op_params(params);
                self.exprs(order_by.iter().map(|k| &k.expr));
                self.exprs(partition_by);
                self.params(declare);
                for s in steps {
                    self.bound.insert(s.name.name.clone());
                    self.expr(&s.condition);
                    self.named(&s.assignments);
                }
            }
            K::Partition { params, by, body } => {
                self.op_params(params);
                self.expr(by);
                match body {
                    kql::SubQuery::Ops(ops) => self.sub_ops(ops),
                    kql::SubQuery::Braced(e) => self.tabular(e),
                }
            }
            K::Facet { by, with } => {
                self.exprs(by);
                self.sub_ops(with);
            }
            K::Fork(branches) => {
                for (_, ops) in branches {
                    self.sub_ops(ops);
                }
            }
            K::Consume(params) => self.op_params(params),
            K::Reduce { params, by, with } => {
                self.op_params(params);
                self.expr(by);
                self.op_params(with);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn checker() -> Checker {
        let mut s = Schemas::builtin();
        s.insert(TableSchema {
            name: "DeviceNetworkEvents".into(),
            columns: vec![
                ("Timestamp".into(), KqlType::Datetime),
                ("DeviceName".into(), KqlType::String),
                ("RemotePort".into(), KqlType::Int),
                ("InitiatingProcessAccountUpn".into(), KqlType::String),
            ],
            origin: Origin::Given("test"),
        });
        Checker::new(s).expect("checker")
    }

    #[test]
    fn shipped_schemas_all_load_with_standard_columns() {
        let tables = builtin();
        assert_eq!(tables.len(), BUILTIN.len(), "every shipped file parses");
        for (file, text) in BUILTIN {
            let t = parse(text, &Origin::Builtin).expect("parses");
            assert_eq!(t[0].name, *file, "file name is the table name");
        }
        let s = Schemas::builtin();
        let signin = s.get("SigninLogs").expect("SigninLogs");
        for c in [
            "UserPrincipalName",
            "TimeGenerated",
            "TenantId",
            "_ResourceId",
            "_BilledSize",
        ] {
            assert!(signin.columns.iter().any(|(n, _)| n == c), "SigninLogs.{c}");
        }
        assert!(s.get("RemoteAccessToolIndicators").is_some());
        // The catalog tables have no TimeGenerated: no Log Analytics columns added.
        let tools = s.get("RemoteAccessTools").expect("catalog table");
        assert!(!tools.columns.iter().any(|(n, _)| n == "_ResourceId"));
    }

    #[test]
    fn parses_the_sentinel_custom_table_shape_in_any_case() {
        let text = r#"{"Name": "MyApp_CL", "Properties": [{"name": "TimeGenerated", "type": "Datetime"},
            {"Name": "Msg", "Type": "String"}, {"Name": "Id", "Type": "guid"}, {"Name": "N", "Type": "System.Int64"}]}"#;
        let t = parse(text, &Origin::Builtin).expect("parses");
        assert_eq!(t[0].name, "MyApp_CL");
        assert_eq!(
            t[0].columns,
            vec![
                ("TimeGenerated".to_string(), KqlType::Datetime),
                ("Msg".to_string(), KqlType::String),
                ("Id".to_string(), KqlType::Guid),
                ("N".to_string(), KqlType::Long),
            ]
        );
        let many = parse(
            r#"[{"Name": "A", "Properties": []}, {"Name": "B", "Properties": []}]"#,
            &Origin::Builtin,
        );
        assert_eq!(many.expect("array").len(), 2);
    }

    #[test]
    fn a_malformed_file_is_named_and_the_others_are_used() {
        let dir = tempfile::tempdir().expect("tempdir");
        std::fs::write(
            dir.path().join("Good_CL.json"),
            r#"{"Name": "Good_CL", "Properties": [{"Name": "A", "Type": "string"}]}"#,
        )
        .expect("write");
        std::fs::write(
            dir.path().join("Bad_CL.json"),
            r#"{"Name": "Bad_CL", "Properties": [{"Name": "A"}]}"#,
        )
        .expect("write");
        std::fs::write(dir.path().join("Broken_CL.json"), "{not json").expect("write");
        std::fs::write(dir.path().join("notes.txt"), "not a schema").expect("write");
        let (tables, errors) = load_dir(dir.path());
        assert_eq!(tables.iter().map(|t| t.name.as_str()).collect::<Vec<_>>(), ["Good_CL"]);
        assert_eq!(errors.len(), 2);
        let text: Vec<String> = errors.iter().map(ToString::to_string).collect();
        assert!(
            text[0].contains("Bad_CL.json") && text[0].contains("column `A` has no `Type`"),
            "{text:?}"
        );
        assert!(
            text[1].contains("Broken_CL.json") && text[1].contains("invalid JSON"),
            "{text:?}"
        );
        let (_, errors) = load_dir(&dir.path().join("missing"));
        assert!(errors[0].to_string().contains("not a folder"));
        assert!(
            parse(
                r#"{"Name": "X", "Properties": [{"Name": "a", "Type": "colour"}]}"#,
                &Origin::Builtin
            )
            .unwrap_err()
            .to_string()
            .contains("unknown type `colour`")
        );
    }

    #[test]
    fn references_are_tables_in_tabular_position_not_bound_names() {
        let q = kql::parse(
            "let x = SigninLogs | where A == 1; let f = (T:(*)) { T | take 1 }; \
             union x, (AuditLogs | join kind=inner (Foo_CL) on A), f(Bar) \
             | where B in ((OfficeActivity | project B)) | lookup (_GetWatchlist('w')) on B",
        );
        assert!(q.is_ok(), "{:?}", q.diagnostics);
        let r = references(&q.query);
        let tables: Vec<&str> = r.tables.iter().map(|(n, _)| n.as_str()).collect();
        assert_eq!(tables, ["SigninLogs", "AuditLogs", "Foo_CL", "OfficeActivity"]);
        let functions: Vec<&str> = r.functions.iter().map(|(n, _)| n.as_str()).collect();
        assert_eq!(functions, ["_GetWatchlist"]);
    }

    #[test]
    fn verdicts() {
        let c = checker();
        assert_eq!(
            c.check("SigninLogs | where UserPrincipalName has 'a' | take 1"),
            Verdict::Ok
        );
        match c.check("DeviceNetworkEvents\n| where AccountUpn == 'x'") {
            Verdict::Error(d) => {
                assert!(d.message.contains("AccountUpn"), "{d:?}");
                assert_eq!(d.span.start, 28);
            }
            other => panic!("{other:?}"),
        }
        match c.check("SigninLogs | where UserPrincipalNam == 'x'") {
            Verdict::Error(d) => assert_eq!(d.help.as_deref(), Some("did you mean `UserPrincipalName`?")),
            other => panic!("{other:?}"),
        }
        match c.check("SigninLog | take 1") {
            Verdict::NotChecked(u) => assert_eq!(u.tables, [("SigninLog".to_string(), Some("SigninLogs".to_string()))]),
            other => panic!("{other:?}"),
        }
        match c.check("imAuthentication | take 1") {
            Verdict::NotChecked(u) => assert_eq!(u.tables[0].0, "imAuthentication"),
            other => panic!("{other:?}"),
        }
        match c.check("_GetWatchlist('x') | take 1") {
            Verdict::NotChecked(u) => assert_eq!(u.functions, ["_GetWatchlist"]),
            other => panic!("{other:?}"),
        }
        match c.check("union withsource=T * | take 1") {
            Verdict::NotChecked(u) => assert_eq!(u.wide, ["*"]),
            other => panic!("{other:?}"),
        }
        match c.check("search 'x' | take 1") {
            Verdict::NotChecked(u) => assert_eq!(u.wide, ["*"]),
            other => panic!("{other:?}"),
        }
        assert!(matches_pattern("Device*Events", "DeviceFileEvents"));
        assert!(matches_pattern("*", "X") && !matches_pattern("Device*", "SigninLogs"));
        match c.check("workspace('w').SigninLogs | take 1") {
            Verdict::NotChecked(u) => assert_eq!(u.functions, ["workspace()"]),
            other => panic!("{other:?}"),
        }
        assert!(matches!(c.check("SigninLogs | where"), Verdict::Syntax(_)));
        // A Kusto function the engine lacks is a gap, not an error; an unknown one is an error.
        assert!(matches!(
            c.check("SigninLogs | extend x = not_a_kusto_function(1)"),
            Verdict::Error(_)
        ));
    }

    #[test]
    fn json_export_has_the_engine_types() {
        let mut s = Schemas::new();
        s.insert(TableSchema {
            name: "T".into(),
            columns: vec![("Id".into(), KqlType::Guid), ("D".into(), KqlType::Dynamic)],
            origin: Origin::Builtin,
        });
        assert_eq!(
            s.to_json(),
            serde_json::json!([{"Name": "T", "Properties": [{"Name": "Id", "Type": "string"}, {"Name": "D", "Type": "dynamic"}]}])
        );
    }
}
