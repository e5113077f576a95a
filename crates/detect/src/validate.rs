//! Template validation: the checks the Azure-Sentinel repository runs on analytic-rule templates
//! (`.script/tests/detectionTemplateSchemaValidation` and the KQL validation), written here from
//! their documented rules, plus ATT&CK technique → tactic consistency.
//!
//! A template is judged as Sentinel's schema test reads it: required fields by `kind` (Scheduled
//! or NRT), field types (`tactics` must be a list there, even though `hunt` also reads a string),
//! the id a GUID, text lengths, periods and their limits, the trigger, entity mappings and their
//! identifiers, custom details, `alertDetailsOverride`, `eventGroupingSettings`, the version
//! format, and a query that parses. Ids repeated across files are reported too.

use crate::rule::{Rule, RuleError, field, kind_of, read_document, read_text, rule_files, text_value};
use serde_norway::{Mapping, Value};
use std::collections::BTreeMap;
use std::path::PathBuf;

/// One thing wrong with a template.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Problem {
    /// The file is not YAML, or not a mapping of rule fields.
    #[error("{0}")]
    Unreadable(String),
    /// A `.kql` rule: it has no template fields to check.
    #[error("not Sentinel rule YAML (a .kql rule has no template fields)")]
    NotYaml,
    /// A required field is missing.
    #[error("`{0}` is required")]
    Missing(&'static str),
    /// A field holds the wrong kind of value.
    #[error("`{field}`: expected {expected}, found {found}")]
    WrongType {
        /// The field (with its place in a list, `entityMappings[2]`).
        field: String,
        /// What the field must hold.
        expected: &'static str,
        /// What it holds.
        found: &'static str,
    },
    /// `id` is not a GUID.
    #[error("`id` `{0}` is not a GUID")]
    Id(String),
    /// `kind` is not Scheduled or NRT.
    #[error("`kind` `{0}` is not Scheduled or NRT")]
    Kind(String),
    /// A text field is longer than Sentinel allows.
    #[error("`{field}` is {len} characters long; at most {max} are allowed")]
    TooLong {
        /// The field.
        field: String,
        /// Its length in characters.
        len: usize,
        /// The most Sentinel allows.
        max: usize,
    },
    /// A required field is empty.
    #[error("`{0}` is empty")]
    Empty(String),
    /// `severity` is not one of Sentinel's four.
    #[error("`severity` `{0}` is not Informational, Low, Medium or High")]
    Severity(String),
    /// `query` does not parse as KQL.
    #[error("`query` does not parse: {0}")]
    QuerySyntax(String),
    /// A `tactics` entry is not a Sentinel tactic.
    #[error("tactic `{0}` is not a Sentinel tactic ({list})", list = TACTICS.join(", "))]
    Tactic(String),
    /// A technique is not written as an ATT&CK id.
    #[error("technique `{0}` is not an ATT&CK id (T1234 or T1234.001)")]
    TechniqueFormat(String),
    /// A technique is not in the ATT&CK Enterprise table.
    #[error("technique `{0}` is not in the ATT&CK Enterprise table, so its tactics cannot be checked")]
    UnknownTechnique(String),
    /// A technique's tactics are missing from `tactics`.
    #[error("technique `{technique}` belongs to {}: add {} to `tactics`", .needs.join(", "), .missing.join(", "))]
    TacticMissing {
        /// The technique.
        technique: String,
        /// The tactics it belongs to.
        needs: Vec<&'static str>,
        /// Those `tactics` lacks.
        missing: Vec<&'static str>,
    },
    /// A period is not written the way Sentinel reads it.
    #[error("`{field}` `{value}` is not a period Sentinel reads (a number and m, h or d: 5m, 1h, 14d; or d.hh:mm:ss)")]
    PeriodFormat {
        /// `queryPeriod` or `queryFrequency`.
        field: &'static str,
        /// The value as written.
        value: String,
    },
    /// A period is outside 5 minutes to 14 days.
    #[error("`{field}` `{value}` is outside the allowed 5m to 14d")]
    PeriodRange {
        /// `queryPeriod` or `queryFrequency`.
        field: &'static str,
        /// The value as written.
        value: String,
    },
    /// `queryPeriod` is shorter than `queryFrequency`.
    #[error("`queryPeriod` {period} is shorter than `queryFrequency` {frequency}")]
    PeriodBelowFrequency {
        /// `queryPeriod` as written.
        period: String,
        /// `queryFrequency` as written.
        frequency: String,
    },
    /// A `queryPeriod` of 2 days or more with a `queryFrequency` under an hour.
    #[error("`queryPeriod` {period} is 2 days or more, so `queryFrequency` must be at least 1h (it is {frequency})")]
    FrequencyTooShort {
        /// `queryPeriod` as written.
        period: String,
        /// `queryFrequency` as written.
        frequency: String,
    },
    /// `triggerOperator` is not one Sentinel knows.
    #[error("`triggerOperator` `{0}` is not gt, lt, eq or ne (GreaterThan, LessThan, Equal, NotEqual)")]
    TriggerOperator(String),
    /// `triggerThreshold` is not a whole number from 0 to 10000.
    #[error("`triggerThreshold` `{0}` is not a whole number from 0 to 10000")]
    TriggerThreshold(String),
    /// A `requiredDataConnectors` entry is malformed.
    #[error("`requiredDataConnectors` entry {index}: {why}")]
    Connector {
        /// The entry's number (from 1).
        index: usize,
        /// What is wrong with it.
        why: String,
    },
    /// Too few or too many entity mappings.
    #[error("{0} entity mappings; 1 to {MAX_ENTITY_MAPPINGS} are allowed")]
    EntityMappingCount(usize),
    /// An entity mapping has too few or too many field mappings.
    #[error("entity mapping {index} ({entity}): {count} field mappings; 1 to {MAX_FIELD_MAPPINGS} are allowed")]
    FieldMappingCount {
        /// The entity mapping's number (from 1).
        index: usize,
        /// Its entity type.
        entity: String,
        /// How many field mappings it has.
        count: usize,
    },
    /// An entity mapping's type is not a Sentinel entity type.
    #[error("entity mapping {index}: `{entity}` is not a Sentinel entity type")]
    EntityType {
        /// The entity mapping's number (from 1).
        index: usize,
        /// The type as written.
        entity: String,
    },
    /// An identifier is not one of the entity type's.
    #[error("entity mapping {index} ({entity}): `{identifier}` is not an identifier of {entity} ({known})")]
    Identifier {
        /// The entity mapping's number (from 1).
        index: usize,
        /// Its entity type.
        entity: String,
        /// The identifier as written.
        identifier: String,
        /// The type's identifiers, listed.
        known: String,
    },
    /// An identifier is mapped twice in one entity mapping.
    #[error("entity mapping {index} ({entity}): identifier `{identifier}` is mapped twice")]
    DuplicateIdentifier {
        /// The entity mapping's number (from 1).
        index: usize,
        /// Its entity type.
        entity: String,
        /// The identifier.
        identifier: String,
    },
    /// A field mapping's column is not a valid column name.
    #[error(
        "entity mapping {index} ({entity}): `{column}` is not a column name (a letter or _, then letters, digits or _; at most 500)"
    )]
    ColumnName {
        /// The entity mapping's number (from 1).
        index: usize,
        /// Its entity type.
        entity: String,
        /// The column as written.
        column: String,
    },
    /// An entity mapping lacks the identifiers its type requires.
    #[error("entity mapping {index} ({entity}): needs the identifier(s) {required}")]
    RequiredIdentifier {
        /// The entity mapping's number (from 1).
        index: usize,
        /// Its entity type.
        entity: String,
        /// The identifiers required, listed.
        required: String,
    },
    /// More than 20 custom details.
    #[error("{0} custom details; at most 20 are allowed")]
    CustomDetailsCount(usize),
    /// A custom detail key is not a valid key.
    #[error(
        "custom detail key `{0}` must start with a letter, hold only letters, digits and _, and be at most 20 long"
    )]
    CustomDetailKey(String),
    /// A custom detail's value is not a valid column name.
    #[error(
        "custom detail `{key}`: `{value}` is not a column name (a letter or _, then letters, digits or _; at most 500)"
    )]
    CustomDetailValue {
        /// The key.
        key: String,
        /// The value as written.
        value: String,
    },
    /// The query uses an old entity column that no entity mapping maps.
    #[error("the query uses the old entity column `{0}` but no entity mapping maps it")]
    OldEntityColumn(&'static str),
    /// `version` is not X.Y.Z.
    #[error("`version` `{0}` is not X.Y.Z (numbers; at most 20 characters)")]
    Version(String),
    /// An `alertDetailsOverride` field is invalid.
    #[error("`alertDetailsOverride.{field}`: {why}")]
    AlertDetails {
        /// The field under `alertDetailsOverride`.
        field: &'static str,
        /// What is wrong with it.
        why: String,
    },
    /// `eventGroupingSettings.aggregationKind` is not one Sentinel knows.
    #[error("`eventGroupingSettings.aggregationKind` `{0}` is not SingleAlert or AlertPerResult")]
    EventGrouping(String),
    /// Another rule has the same `id`.
    #[error("`id` {id} is also the id of {other}")]
    DuplicateId {
        /// The id.
        id: String,
        /// The other rule's file.
        other: String,
    },
}

/// The problems of one rule file.
#[derive(Debug, Clone)]
pub struct Report {
    /// The rule's file (for the built-in pack: `<pack>/name.yaml`).
    pub path: PathBuf,
    /// What is wrong (nothing: the file passes).
    pub problems: Vec<Problem>,
}

impl Report {
    /// True when there is no problem.
    pub fn is_ok(&self) -> bool {
        self.problems.is_empty()
    }
}

/// Sentinel's tactics (`tactics` entries), in ATT&CK order.
pub(crate) const TACTICS: &[&str] = &[
    RECON, RESOURCE, INITIAL, EXECUTION, PERSIST, PRIV, EVASION, CRED, DISCOVERY, LATERAL, COLLECT, EXFIL, C2, IMPACT,
    IMPAIR, INHIBIT,
];

const RECON: &str = "Reconnaissance";
const RESOURCE: &str = "ResourceDevelopment";
const INITIAL: &str = "InitialAccess";
const EXECUTION: &str = "Execution";
const PERSIST: &str = "Persistence";
const PRIV: &str = "PrivilegeEscalation";
const EVASION: &str = "DefenseEvasion";
const CRED: &str = "CredentialAccess";
const DISCOVERY: &str = "Discovery";
const LATERAL: &str = "LateralMovement";
const COLLECT: &str = "Collection";
const EXFIL: &str = "Exfiltration";
const C2: &str = "CommandAndControl";
const IMPACT: &str = "Impact";
const IMPAIR: &str = "ImpairProcessControl";
const INHIBIT: &str = "InhibitResponseFunction";

/// ATT&CK Enterprise techniques and the tactics each belongs to (sub-techniques share their
/// technique's tactics). Sorted by id.
const TECHNIQUES: &[(&str, &[&str])] = &[
    ("T1001", &[C2]),
    ("T1003", &[CRED]),
    ("T1005", &[COLLECT]),
    ("T1006", &[EVASION]),
    ("T1007", &[DISCOVERY]),
    ("T1008", &[C2]),
    ("T1010", &[DISCOVERY]),
    ("T1011", &[EXFIL]),
    ("T1012", &[DISCOVERY]),
    ("T1014", &[EVASION]),
    ("T1016", &[DISCOVERY]),
    ("T1018", &[DISCOVERY]),
    ("T1020", &[EXFIL]),
    ("T1021", &[LATERAL]),
    ("T1025", &[COLLECT]),
    ("T1027", &[EVASION]),
    ("T1029", &[EXFIL]),
    ("T1030", &[EXFIL]),
    ("T1033", &[DISCOVERY]),
    ("T1036", &[EVASION]),
    ("T1037", &[PERSIST, PRIV]),
    ("T1039", &[COLLECT]),
    ("T1040", &[CRED, DISCOVERY]),
    ("T1041", &[EXFIL]),
    ("T1046", &[DISCOVERY]),
    ("T1047", &[EXECUTION]),
    ("T1048", &[EXFIL]),
    ("T1049", &[DISCOVERY]),
    ("T1052", &[EXFIL]),
    ("T1053", &[EXECUTION, PERSIST, PRIV]),
    ("T1055", &[PRIV, EVASION]),
    ("T1056", &[CRED, COLLECT]),
    ("T1057", &[DISCOVERY]),
    ("T1059", &[EXECUTION]),
    ("T1068", &[PRIV]),
    ("T1069", &[DISCOVERY]),
    ("T1070", &[EVASION]),
    ("T1071", &[C2]),
    ("T1072", &[EXECUTION, LATERAL]),
    ("T1074", &[COLLECT]),
    ("T1078", &[INITIAL, PERSIST, PRIV, EVASION]),
    ("T1080", &[LATERAL]),
    ("T1082", &[DISCOVERY]),
    ("T1083", &[DISCOVERY]),
    ("T1087", &[DISCOVERY]),
    ("T1090", &[C2]),
    ("T1091", &[INITIAL, LATERAL]),
    ("T1092", &[C2]),
    ("T1095", &[C2]),
    ("T1098", &[PERSIST, PRIV]),
    ("T1102", &[C2]),
    ("T1104", &[C2]),
    ("T1105", &[C2]),
    ("T1106", &[EXECUTION]),
    ("T1110", &[CRED]),
    ("T1111", &[CRED]),
    ("T1112", &[EVASION]),
    ("T1113", &[COLLECT]),
    ("T1114", &[COLLECT]),
    ("T1115", &[COLLECT]),
    ("T1119", &[COLLECT]),
    ("T1120", &[DISCOVERY]),
    ("T1123", &[COLLECT]),
    ("T1124", &[DISCOVERY]),
    ("T1125", &[COLLECT]),
    ("T1127", &[EVASION]),
    ("T1129", &[EXECUTION]),
    ("T1132", &[C2]),
    ("T1133", &[INITIAL, PERSIST]),
    ("T1134", &[PRIV, EVASION]),
    ("T1135", &[DISCOVERY]),
    ("T1136", &[PERSIST]),
    ("T1137", &[PERSIST]),
    ("T1140", &[EVASION]),
    ("T1176", &[PERSIST]),
    ("T1185", &[COLLECT]),
    ("T1187", &[CRED]),
    ("T1189", &[INITIAL]),
    ("T1190", &[INITIAL]),
    ("T1195", &[INITIAL]),
    ("T1197", &[PERSIST, EVASION]),
    ("T1199", &[INITIAL]),
    ("T1200", &[INITIAL]),
    ("T1201", &[DISCOVERY]),
    ("T1202", &[EVASION]),
    ("T1203", &[EXECUTION]),
    ("T1204", &[EXECUTION]),
    ("T1205", &[PERSIST, EVASION, C2]),
    ("T1207", &[EVASION]),
    ("T1210", &[LATERAL]),
    ("T1211", &[EVASION]),
    ("T1212", &[CRED]),
    ("T1213", &[COLLECT]),
    ("T1216", &[EVASION]),
    ("T1217", &[DISCOVERY]),
    ("T1218", &[EVASION]),
    ("T1219", &[C2]),
    ("T1220", &[EVASION]),
    ("T1221", &[EVASION]),
    ("T1222", &[EVASION]),
    ("T1480", &[EVASION]),
    ("T1482", &[DISCOVERY]),
    ("T1484", &[PRIV, EVASION]),
    ("T1485", &[IMPACT]),
    ("T1486", &[IMPACT]),
    ("T1489", &[IMPACT]),
    ("T1490", &[IMPACT]),
    ("T1491", &[IMPACT]),
    ("T1495", &[IMPACT]),
    ("T1496", &[IMPACT]),
    ("T1497", &[EVASION, DISCOVERY]),
    ("T1498", &[IMPACT]),
    ("T1499", &[IMPACT]),
    ("T1505", &[PERSIST]),
    ("T1518", &[DISCOVERY]),
    ("T1525", &[PERSIST]),
    ("T1526", &[DISCOVERY]),
    ("T1528", &[CRED]),
    ("T1529", &[IMPACT]),
    ("T1530", &[COLLECT]),
    ("T1531", &[IMPACT]),
    ("T1534", &[LATERAL]),
    ("T1535", &[EVASION]),
    ("T1537", &[EXFIL]),
    ("T1538", &[DISCOVERY]),
    ("T1539", &[CRED]),
    ("T1542", &[PERSIST, EVASION]),
    ("T1543", &[PERSIST, PRIV]),
    ("T1546", &[PERSIST, PRIV]),
    ("T1547", &[PERSIST, PRIV]),
    ("T1548", &[PRIV, EVASION]),
    ("T1550", &[EVASION, LATERAL]),
    ("T1552", &[CRED]),
    ("T1553", &[EVASION]),
    ("T1554", &[PERSIST]),
    ("T1555", &[CRED]),
    ("T1556", &[PERSIST, EVASION, CRED]),
    ("T1557", &[CRED, COLLECT]),
    ("T1558", &[CRED]),
    ("T1559", &[EXECUTION]),
    ("T1560", &[COLLECT]),
    ("T1561", &[IMPACT]),
    ("T1562", &[EVASION]),
    ("T1563", &[LATERAL]),
    ("T1564", &[EVASION]),
    ("T1565", &[IMPACT]),
    ("T1566", &[INITIAL]),
    ("T1567", &[EXFIL]),
    ("T1568", &[C2]),
    ("T1569", &[EXECUTION]),
    ("T1570", &[LATERAL]),
    ("T1571", &[C2]),
    ("T1572", &[C2]),
    ("T1573", &[C2]),
    ("T1574", &[PERSIST, PRIV, EVASION]),
    ("T1578", &[EVASION]),
    ("T1580", &[DISCOVERY]),
    ("T1583", &[RESOURCE]),
    ("T1584", &[RESOURCE]),
    ("T1585", &[RESOURCE]),
    ("T1586", &[RESOURCE]),
    ("T1587", &[RESOURCE]),
    ("T1588", &[RESOURCE]),
    ("T1589", &[RECON]),
    ("T1590", &[RECON]),
    ("T1591", &[RECON]),
    ("T1592", &[RECON]),
    ("T1593", &[RECON]),
    ("T1594", &[RECON]),
    ("T1595", &[RECON]),
    ("T1596", &[RECON]),
    ("T1597", &[RECON]),
    ("T1598", &[RECON]),
    ("T1599", &[EVASION]),
    ("T1600", &[EVASION]),
    ("T1601", &[EVASION]),
    ("T1602", &[COLLECT]),
    ("T1606", &[CRED]),
    ("T1608", &[RESOURCE]),
    ("T1609", &[EXECUTION]),
    ("T1610", &[EXECUTION, EVASION]),
    ("T1611", &[PRIV]),
    ("T1612", &[EVASION]),
    ("T1613", &[DISCOVERY]),
    ("T1614", &[DISCOVERY]),
    ("T1615", &[DISCOVERY]),
    ("T1619", &[DISCOVERY]),
    ("T1620", &[EVASION]),
    ("T1621", &[CRED]),
    ("T1622", &[EVASION, DISCOVERY]),
    ("T1647", &[EVASION]),
    ("T1648", &[EXECUTION]),
    ("T1649", &[CRED]),
    ("T1650", &[RESOURCE]),
    ("T1651", &[EXECUTION]),
    ("T1652", &[DISCOVERY]),
    ("T1653", &[PERSIST]),
    ("T1654", &[DISCOVERY]),
    ("T1656", &[EVASION]),
    ("T1657", &[IMPACT]),
    ("T1659", &[INITIAL, C2]),
    ("T1665", &[C2]),
];

/// The tactics an ATT&CK technique or sub-technique belongs to (`None`: not in the table).
pub(crate) fn technique_tactics(technique: &str) -> Option<&'static [&'static str]> {
    let base = technique.split('.').next().unwrap_or(technique);
    TECHNIQUES
        .binary_search_by(|(id, _)| (*id).cmp(base))
        .ok()
        .map(|i| TECHNIQUES[i].1)
}

/// Names of entity identifiers.
type Identifiers = &'static [&'static str];

/// Entity types, their identifiers, and the identifier sets of which one must be mapped.
const ENTITIES: &[(&str, Identifiers, &[Identifiers])] = &[
    (
        "Account",
        &[
            "Name",
            "FullName",
            "NTDomain",
            "DnsDomain",
            "UPNSuffix",
            "Sid",
            "AadTenantId",
            "AadUserId",
            "PUID",
            "IsDomainJoined",
            "DisplayName",
            "ObjectGuid",
            "CloudAppAccountId",
        ],
        &[
            &["FullName"],
            &["Sid"],
            &["Name"],
            &["AadUserId"],
            &["PUID"],
            &["ObjectGuid"],
        ],
    ),
    ("AzureResource", &["ResourceId"], &[&["ResourceId"]]),
    (
        "CloudApplication",
        &["AppId", "Name", "InstanceName"],
        &[&["AppId"], &["Name"]],
    ),
    ("DNS", &["DomainName"], &[&["DomainName"]]),
    ("File", &["Directory", "Name"], &[&["Name"]]),
    ("FileHash", &["Algorithm", "Value"], &[&["Algorithm", "Value"]]),
    (
        "Host",
        &[
            "DnsDomain",
            "NTDomain",
            "HostName",
            "FullName",
            "NetBiosName",
            "AzureID",
            "OMSAgentID",
            "OSFamily",
            "OSVersion",
            "IsDomainJoined",
        ],
        &[
            &["FullName"],
            &["HostName"],
            &["NetBiosName"],
            &["AzureID"],
            &["OMSAgentID"],
        ],
    ),
    (
        "IoTDevice",
        &[
            "DeviceId",
            "DeviceName",
            "Manufacturer",
            "Model",
            "FirmwareVersion",
            "OperatingSystem",
            "MacAddress",
            "Protocols",
            "SerialNumber",
            "Source",
            "IoTSecurityAgentId",
            "DeviceType",
        ],
        &[&["DeviceId"]],
    ),
    ("IP", &["Address"], &[&["Address"]]),
    (
        "Mailbox",
        &[
            "MailboxPrimaryAddress",
            "DisplayName",
            "Upn",
            "ExternalDirectoryObjectId",
            "RiskLevel",
        ],
        &[&["MailboxPrimaryAddress"]],
    ),
    (
        "MailCluster",
        &[
            "NetworkMessageIds",
            "CountByDeliveryStatus",
            "CountByThreatType",
            "CountByProtectionStatus",
            "Threats",
            "Query",
            "QueryTime",
            "MailCount",
            "IsVolumeAnomaly",
            "Source",
            "ClusterSourceIdentifier",
            "ClusterSourceType",
            "ClusterQueryStartTime",
            "ClusterQueryEndTime",
            "ClusterGroup",
        ],
        &[&["Query"], &["Source"]],
    ),
    (
        "MailMessage",
        &[
            "Recipient",
            "Urls",
            "Threats",
            "Sender",
            "P1Sender",
            "P1SenderDisplayName",
            "P1SenderDomain",
            "SenderIP",
            "P2Sender",
            "P2SenderDisplayName",
            "P2SenderDomain",
            "ReceivedDate",
            "NetworkMessageId",
            "InternetMessageId",
            "Subject",
            "BodyFingerprintBin1",
            "BodyFingerprintBin2",
            "BodyFingerprintBin3",
            "BodyFingerprintBin4",
            "BodyFingerprintBin5",
            "AntispamDirection",
            "DeliveryAction",
            "DeliveryLocation",
            "Language",
            "ThreatDetectionMethods",
        ],
        &[&["NetworkMessageId"], &["Recipient"]],
    ),
    ("Malware", &["Name", "Category"], &[&["Name"]]),
    (
        "Process",
        &["ProcessId", "CommandLine", "ElevationToken", "CreationTimeUtc"],
        &[&["CommandLine"], &["ProcessId"]],
    ),
    ("RegistryKey", &["Hive", "Key"], &[&["Key"], &["Hive"]]),
    ("RegistryValue", &["Name", "Value", "ValueType"], &[&["Name"]]),
    (
        "SecurityGroup",
        &["DistinguishedName", "SID", "ObjectGuid"],
        &[&["DistinguishedName"], &["SID"], &["ObjectGuid"]],
    ),
    (
        "SubmissionMail",
        &[
            "NetworkMessageId",
            "Timestamp",
            "Recipient",
            "Sender",
            "SenderIp",
            "Subject",
            "ReportType",
            "SubmissionId",
            "SubmissionDate",
            "Submitter",
        ],
        &[&["SubmissionId"], &["NetworkMessageId"], &["Recipient"], &["Submitter"]],
    ),
    ("URL", &["Url"], &[&["Url"]]),
];

/// Column names of the old entity style: a query that still produces one needs a mapping of it.
const OLD_ENTITY_COLUMNS: &[&str] = &[
    "AccountCustomEntity",
    "HostCustomEntity",
    "IPCustomEntity",
    "URLCustomEntity",
    "ProcessCustomEntity",
    "FileHashCustomEntity",
];

const MAX_ENTITY_MAPPINGS: usize = 10;
const MAX_FIELD_MAPPINGS: usize = 3;
const MAX_QUERY: usize = 10_000;
const MAX_NAME: usize = 256;
const MAX_DESCRIPTION: usize = 5_000;
const MAX_CUSTOM_DETAILS: usize = 20;
const MAX_CUSTOM_KEY: usize = 20;
const MAX_COLUMN: usize = 500;
const MAX_PLACEHOLDERS: usize = 3;
const MIN_PERIOD_SECS: i64 = 5 * 60;
const MAX_PERIOD_SECS: i64 = 14 * 86_400;

#[derive(Clone, Copy, PartialEq, Eq)]
enum Kind {
    Scheduled,
    Nrt,
}

/// Validates one analytic-rule template (its YAML text).
pub(crate) fn validate_template(text: &str) -> Vec<Problem> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let doc = match read_document(text) {
        Ok(d) => d,
        Err(e) => return vec![Problem::Unreadable(e.to_string())],
    };
    let mut v = Checker {
        doc: &doc,
        problems: Vec::new(),
    };
    v.check();
    v.problems
}

/// Validates rules (their YAML text) and reports ids used by more than one of them.
pub fn validate_rules(rules: &[Rule]) -> Vec<Report> {
    let mut reports = Vec::new();
    let mut ids = Vec::new();
    for r in rules {
        let yaml = r
            .origin
            .extension()
            .and_then(|e| e.to_str())
            .is_some_and(|e| e.eq_ignore_ascii_case("yaml") || e.eq_ignore_ascii_case("yml"));
        let problems = if yaml {
            validate_template(&r.file_text)
        } else {
            vec![Problem::NotYaml]
        };
        reports.push(Report {
            path: r.origin.clone(),
            problems,
        });
        ids.push(r.guid.clone());
    }
    mark_duplicate_ids(&mut reports, &ids);
    reports
}

/// Validates the YAML rule files under the given paths (folders: walked, not into `tests/`).
/// Files that cannot be read are errors; everything else gets a report.
pub fn validate_paths(paths: &[PathBuf]) -> (Vec<Report>, Vec<RuleError>) {
    let (files, mut errors) = rule_files(paths, &["yaml", "yml"]);
    let mut reports = Vec::new();
    let mut ids = Vec::new();
    for file in files {
        match read_text(&file) {
            Ok(text) => {
                ids.push(
                    read_document(&text)
                        .ok()
                        .and_then(|d| field(&d, "id").and_then(text_value)),
                );
                reports.push(Report {
                    problems: validate_template(&text),
                    path: file,
                });
            }
            Err(message) => errors.push(RuleError { path: file, message }),
        }
    }
    mark_duplicate_ids(&mut reports, &ids);
    (reports, errors)
}

fn mark_duplicate_ids(reports: &mut [Report], ids: &[Option<String>]) {
    let mut first: BTreeMap<String, PathBuf> = BTreeMap::new();
    for (report, id) in reports.iter_mut().zip(ids) {
        let Some(id) = id else { continue };
        let key = id.trim().to_ascii_lowercase();
        match first.get(&key) {
            Some(other) => report.problems.push(Problem::DuplicateId {
                id: id.clone(),
                other: other.display().to_string(),
            }),
            None => {
                first.insert(key, report.path.clone());
            }
        }
    }
}

/// Length as .NET counts it (UTF-16 code units): Sentinel's limits are in those.
fn net_len(s: &str) -> usize {
    s.encode_utf16().count()
}

/// `^[A-Za-z_]\w*$` (ASCII), the form of a Log Analytics column name.
fn is_column_name(s: &str) -> bool {
    let mut chars = s.chars();
    chars.next().is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

/// `8-4-4-4-12` hexadecimal digits, optionally in braces.
fn is_guid(s: &str) -> bool {
    let s = s.trim();
    let s = s.strip_prefix('{').and_then(|x| x.strip_suffix('}')).unwrap_or(s);
    let groups: Vec<&str> = s.split('-').collect();
    groups.len() == 5
        && groups
            .iter()
            .zip([8, 4, 4, 4, 12])
            .all(|(g, n)| g.len() == n && g.chars().all(|c| c.is_ascii_hexdigit()))
}

/// A period as Sentinel's template reader takes it, in seconds: `<n>m`, `<n>h`, `<n>d`, or a
/// .NET time span (`d`, `hh:mm`, `hh:mm:ss`, `d.hh:mm:ss`, seconds with a fraction).
pub(crate) fn template_period_secs(text: &str) -> Option<i64> {
    let t = text.trim();
    if let Some(secs) = timespan_secs(t) {
        return Some(secs);
    }
    let unit = t.chars().last()?;
    let n: i64 = t[..t.len() - unit.len_utf8()].parse().ok()?;
    let mult = match unit {
        'm' => 60,
        'h' => 3_600,
        'd' => 86_400,
        _ => return None,
    };
    n.checked_mul(mult)
}

fn timespan_secs(t: &str) -> Option<i64> {
    let digits = |s: &str| !s.is_empty() && s.chars().all(|c| c.is_ascii_digit());
    if digits(t) {
        return t.parse::<i64>().ok()?.checked_mul(86_400);
    }
    let (days, clock) = match t.split_once(':') {
        None => return None,
        Some((head, _)) => match head.split_once('.') {
            Some((d, _)) if digits(d) => (d.parse::<i64>().ok()?, &t[d.len() + 1..]),
            _ => (0, t),
        },
    };
    let parts: Vec<&str> = clock.split(':').collect();
    if parts.len() < 2 || parts.len() > 3 {
        return None;
    }
    let h: i64 = digits(parts[0]).then(|| parts[0].parse().ok())??;
    let m: i64 = digits(parts[1]).then(|| parts[1].parse().ok())??;
    let s: i64 = match parts.get(2) {
        None => 0,
        Some(sec) => {
            let whole = sec
                .split_once('.')
                .map_or(*sec, |(w, f)| if digits(f) { w } else { "" });
            digits(whole).then(|| whole.parse().ok())??
        }
    };
    (h < 24 && m < 60 && s < 60).then_some(days * 86_400 + h * 3_600 + m * 60 + s)
}

struct Checker<'a> {
    doc: &'a Mapping,
    problems: Vec<Problem>,
}

impl<'a> Checker<'a> {
    fn push(&mut self, p: Problem) {
        self.problems.push(p);
    }

    /// A field that must be there and not null.
    fn required(&mut self, name: &'static str) -> Option<&'a Value> {
        let doc = self.doc;
        match field(doc, name) {
            None | Some(Value::Null) => {
                self.push(Problem::Missing(name));
                None
            }
            Some(v) => Some(v),
        }
    }

    /// A text field's value; a wrong type is reported.
    fn text(&mut self, name: &str, v: &Value) -> Option<String> {
        let t = match v {
            Value::String(s) => Some(s.clone()),
            Value::Number(_) | Value::Bool(_) => text_value(v),
            _ => None,
        };
        if t.is_none() {
            self.push(Problem::WrongType {
                field: name.to_string(),
                expected: "text",
                found: kind_of(v),
            });
        }
        t
    }

    fn max_len(&mut self, name: &str, s: &str, max: usize) {
        let len = net_len(s);
        if len > max {
            self.push(Problem::TooLong {
                field: name.to_string(),
                len,
                max,
            });
        }
    }

    /// A list of strings (null: none); anything else is reported.
    fn string_list(&mut self, name: &str, v: Option<&Value>) -> Vec<String> {
        match v {
            None | Some(Value::Null) => Vec::new(),
            Some(Value::Sequence(items)) => {
                let mut out = Vec::new();
                for item in items {
                    match item {
                        Value::String(s) => out.push(s.clone()),
                        other => self.push(Problem::WrongType {
                            field: name.to_string(),
                            expected: "a list of strings",
                            found: kind_of(other),
                        }),
                    }
                }
                out
            }
            Some(other) => {
                self.push(Problem::WrongType {
                    field: name.to_string(),
                    expected: "a list",
                    found: kind_of(other),
                });
                Vec::new()
            }
        }
    }

    fn check(&mut self) {
        if let Some(v) = self.required("id")
            && let Some(id) = self.text("id", v)
            && !is_guid(&id)
        {
            self.push(Problem::Id(id));
        }
        let kind = self.required("kind").and_then(|v| match text_value(v) {
            Some(k) if k.eq_ignore_ascii_case("scheduled") => Some(Kind::Scheduled),
            Some(k) if k.eq_ignore_ascii_case("nrt") => Some(Kind::Nrt),
            Some(k) => {
                self.problems.push(Problem::Kind(k));
                None
            }
            None => {
                self.problems.push(Problem::WrongType {
                    field: "kind".into(),
                    expected: "text",
                    found: kind_of(v),
                });
                None
            }
        });
        if let Some(v) = self.required("name")
            && let Some(name) = self.text("name", v)
        {
            self.max_len("name", &name, MAX_NAME);
        }
        if let Some(v) = self.required("description")
            && let Some(d) = self.text("description", v)
        {
            self.max_len("description", &d, MAX_DESCRIPTION);
        }
        if let Some(v) = self.required("severity")
            && let Some(s) = self.text("severity", v)
            && !["Informational", "Low", "Medium", "High"]
                .iter()
                .any(|x| x.eq_ignore_ascii_case(s.trim()))
        {
            self.push(Problem::Severity(s));
        }
        let query = self.required("query").and_then(|v| self.text("query", v));
        if let Some(q) = &query {
            self.check_query(q);
        }
        self.check_tactics();
        if kind == Some(Kind::Scheduled) {
            self.check_schedule();
            self.check_connectors();
            if let Some(v) = field(self.doc, "eventGroupingSettings")
                && !v.is_null()
            {
                self.check_event_grouping(v);
            }
        }
        let columns = self.check_entity_mappings();
        if let Some(q) = &query
            && kind == Some(Kind::Scheduled)
        {
            for old in OLD_ENTITY_COLUMNS {
                if q.contains(old) && !columns.iter().any(|c| c == old) {
                    self.push(Problem::OldEntityColumn(old));
                }
            }
        }
        self.check_custom_details();
        self.check_alert_details();
        self.check_version();
    }

    fn check_query(&mut self, q: &str) {
        if q.trim().is_empty() {
            self.push(Problem::Empty("query".into()));
            return;
        }
        self.max_len("query", q, MAX_QUERY);
        let parsed = kql::parse(q);
        if let Some(d) = parsed.diagnostics.first() {
            let at = kql::LineIndex::new(q).line_col(d.span.start as usize);
            self.push(Problem::QuerySyntax(format!(
                "line {}, column {}: {}",
                at.line, at.column, d.message
            )));
        }
    }

    fn check_tactics(&mut self) {
        let doc = self.doc;
        let tactics = self.string_list("tactics", field(doc, "tactics"));
        let mut known: Vec<&'static str> = Vec::new();
        for t in &tactics {
            match TACTICS.iter().find(|x| x.eq_ignore_ascii_case(t.trim())) {
                Some(x) => known.push(x),
                None => self.push(Problem::Tactic(t.clone())),
            }
        }
        let techniques = self.string_list("relevantTechniques", field(doc, "relevantTechniques"));
        for tech in techniques {
            let t = tech.trim();
            let well_formed = t.len() >= 5
                && t.starts_with('T')
                && t[1..5].chars().all(|c| c.is_ascii_digit())
                && (t.len() == 5
                    || (t.len() == 9 && t.as_bytes()[5] == b'.' && t[6..].chars().all(|c| c.is_ascii_digit())));
            if !well_formed {
                self.push(Problem::TechniqueFormat(tech));
                continue;
            }
            let Some(needs) = technique_tactics(t) else {
                self.push(Problem::UnknownTechnique(tech));
                continue;
            };
            let missing: Vec<&'static str> = needs.iter().copied().filter(|n| !known.contains(n)).collect();
            if !missing.is_empty() {
                self.push(Problem::TacticMissing {
                    technique: tech,
                    needs: needs.to_vec(),
                    missing,
                });
            }
        }
    }

    fn period(&mut self, name: &'static str) -> Option<(i64, String)> {
        let v = self.required(name)?;
        let text = self.text(name, v)?;
        match template_period_secs(&text) {
            None => {
                self.push(Problem::PeriodFormat {
                    field: name,
                    value: text,
                });
                None
            }
            Some(s) if !(MIN_PERIOD_SECS..=MAX_PERIOD_SECS).contains(&s) => {
                self.push(Problem::PeriodRange {
                    field: name,
                    value: text,
                });
                None
            }
            Some(s) => Some((s, text)),
        }
    }

    fn check_schedule(&mut self) {
        let frequency = self.period("queryFrequency");
        let period = self.period("queryPeriod");
        if let (Some((f, ft)), Some((p, pt))) = (frequency, period) {
            if p < f {
                self.push(Problem::PeriodBelowFrequency {
                    period: pt.clone(),
                    frequency: ft.clone(),
                });
            }
            if p >= 2 * 86_400 && f < 3_600 {
                self.push(Problem::FrequencyTooShort {
                    period: pt,
                    frequency: ft,
                });
            }
        }
        if let Some(v) = self.required("triggerOperator") {
            let op = text_value(v).unwrap_or_default();
            let ok = ["gt", "lt", "eq", "ne", "GreaterThan", "LessThan", "Equal", "NotEqual"].contains(&op.as_str());
            if !ok {
                self.push(Problem::TriggerOperator(if op.is_empty() {
                    kind_of(v).to_string()
                } else {
                    op
                }));
            }
        }
        if let Some(v) = self.required("triggerThreshold") {
            let n = match v {
                Value::Number(n) => n.as_i64(),
                Value::String(s) => s.trim().parse::<i64>().ok(),
                _ => None,
            };
            if !n.is_some_and(|n| (0..=10_000).contains(&n)) {
                self.push(Problem::TriggerThreshold(
                    text_value(v).unwrap_or_else(|| kind_of(v).to_string()),
                ));
            }
        }
    }

    fn check_connectors(&mut self) {
        let Some(v) = self.required("requiredDataConnectors") else {
            return;
        };
        let Value::Sequence(items) = v else {
            self.push(Problem::WrongType {
                field: "requiredDataConnectors".into(),
                expected: "a list",
                found: kind_of(v),
            });
            return;
        };
        let mut found = Vec::new();
        for (i, item) in items.iter().enumerate() {
            let index = i + 1;
            let Value::Mapping(m) = item else {
                found.push(Problem::Connector {
                    index,
                    why: format!("expected a mapping, found {}", kind_of(item)),
                });
                continue;
            };
            match m.get("connectorId") {
                None | Some(Value::Null) => {}
                Some(Value::String(_)) => {}
                Some(other) => found.push(Problem::Connector {
                    index,
                    why: format!("`connectorId`: expected text, found {}", kind_of(other)),
                }),
            }
            match m.get("dataTypes") {
                Some(Value::Sequence(types)) if types.iter().all(|t| matches!(t, Value::String(_))) => {}
                None | Some(Value::Null) => found.push(Problem::Connector {
                    index,
                    why: "`dataTypes` is required".into(),
                }),
                Some(_) => found.push(Problem::Connector {
                    index,
                    why: "`dataTypes`: expected a list of table names".into(),
                }),
            }
        }
        self.problems.extend(found);
    }

    fn check_event_grouping(&mut self, v: &Value) {
        let kind = match v {
            Value::Mapping(m) => m.get("aggregationKind").and_then(text_value),
            _ => None,
        };
        match kind {
            // Read as an enum name, so in any case (`singleAlert`).
            Some(k) if k.eq_ignore_ascii_case("SingleAlert") || k.eq_ignore_ascii_case("AlertPerResult") => {}
            Some(k) => self.push(Problem::EventGrouping(k)),
            None => self.push(Problem::Missing("eventGroupingSettings.aggregationKind")),
        }
    }

    /// Returns the mapped column names.
    fn check_entity_mappings(&mut self) -> Vec<String> {
        let mut columns = Vec::new();
        let doc = self.doc;
        let items = match field(doc, "entityMappings") {
            None | Some(Value::Null) => return columns,
            Some(Value::Sequence(items)) => items,
            Some(other) => {
                self.push(Problem::WrongType {
                    field: "entityMappings".into(),
                    expected: "a list",
                    found: kind_of(other),
                });
                return columns;
            }
        };
        if items.is_empty() || items.len() > MAX_ENTITY_MAPPINGS {
            self.push(Problem::EntityMappingCount(items.len()));
        }
        for (i, item) in items.iter().enumerate() {
            let index = i + 1;
            let Value::Mapping(m) = item else {
                self.push(Problem::WrongType {
                    field: format!("entityMappings[{index}]"),
                    expected: "a mapping",
                    found: kind_of(item),
                });
                continue;
            };
            let Some(entity) = m.get("entityType").and_then(text_value) else {
                self.push(Problem::Missing("entityMappings[].entityType"));
                continue;
            };
            let fields: Vec<(String, String)> = match m.get("fieldMappings") {
                Some(Value::Sequence(fms)) => fms
                    .iter()
                    .filter_map(|f| {
                        let f = f.as_mapping()?;
                        Some((
                            f.get("identifier").and_then(text_value)?,
                            f.get("columnName").and_then(text_value)?,
                        ))
                    })
                    .collect(),
                _ => {
                    self.push(Problem::Missing("entityMappings[].fieldMappings"));
                    continue;
                }
            };
            let count = m.get("fieldMappings").and_then(Value::as_sequence).map_or(0, Vec::len);
            if fields.len() != count {
                self.push(Problem::Missing(
                    "entityMappings[].fieldMappings[].identifier/columnName",
                ));
            }
            if count == 0 || count > MAX_FIELD_MAPPINGS {
                self.push(Problem::FieldMappingCount {
                    index,
                    entity: entity.clone(),
                    count,
                });
            }
            columns.extend(fields.iter().map(|(_, c)| c.clone()));
            let Some((name, identifiers, required)) = ENTITIES.iter().find(|(n, _, _)| n.eq_ignore_ascii_case(&entity))
            else {
                self.push(Problem::EntityType { index, entity });
                continue;
            };
            let entity = name.to_string();
            let mut used: Vec<&str> = Vec::new();
            for (identifier, column) in &fields {
                if !identifiers.contains(&identifier.as_str()) {
                    self.push(Problem::Identifier {
                        index,
                        entity: entity.clone(),
                        identifier: identifier.clone(),
                        known: identifiers.join(", "),
                    });
                    continue;
                }
                if used.contains(&identifier.as_str()) {
                    self.push(Problem::DuplicateIdentifier {
                        index,
                        entity: entity.clone(),
                        identifier: identifier.clone(),
                    });
                }
                if !is_column_name(column) || column.len() > MAX_COLUMN {
                    self.push(Problem::ColumnName {
                        index,
                        entity: entity.clone(),
                        column: column.clone(),
                    });
                }
                used.push(identifier.as_str());
            }
            if !required.iter().any(|set| set.iter().all(|r| used.contains(r))) {
                let alternatives: Vec<String> = required.iter().map(|set| set.join(" + ")).collect();
                self.push(Problem::RequiredIdentifier {
                    index,
                    entity,
                    required: alternatives.join(" or "),
                });
            }
        }
        columns
    }

    fn check_custom_details(&mut self) {
        let doc = self.doc;
        let map = match field(doc, "customDetails") {
            None | Some(Value::Null) => return,
            Some(Value::Mapping(m)) => m,
            Some(other) => {
                self.push(Problem::WrongType {
                    field: "customDetails".into(),
                    expected: "a mapping",
                    found: kind_of(other),
                });
                return;
            }
        };
        if map.len() > MAX_CUSTOM_DETAILS {
            self.push(Problem::CustomDetailsCount(map.len()));
        }
        for (k, v) in map {
            let (Some(key), Some(value)) = (k.as_str(), v.as_str()) else {
                self.push(Problem::WrongType {
                    field: "customDetails".into(),
                    expected: "text keys and values",
                    found: if k.as_str().is_none() { kind_of(k) } else { kind_of(v) },
                });
                continue;
            };
            let key_ok = key.chars().next().is_some_and(|c| c.is_ascii_alphabetic())
                && is_column_name(key)
                && net_len(key) <= MAX_CUSTOM_KEY;
            if !key_ok {
                self.push(Problem::CustomDetailKey(key.to_string()));
            }
            if !is_column_name(value) || net_len(value) > MAX_COLUMN {
                self.push(Problem::CustomDetailValue {
                    key: key.to_string(),
                    value: value.to_string(),
                });
            }
        }
    }

    fn check_alert_details(&mut self) {
        let doc = self.doc;
        let m = match field(doc, "alertDetailsOverride") {
            None | Some(Value::Null) => return,
            Some(Value::Mapping(m)) => m,
            Some(other) => {
                self.push(Problem::WrongType {
                    field: "alertDetailsOverride".into(),
                    expected: "a mapping",
                    found: kind_of(other),
                });
                return;
            }
        };
        for (name, max) in [
            ("alertDisplayNameFormat", MAX_NAME),
            ("alertDescriptionFormat", MAX_DESCRIPTION),
        ] {
            let Some(v) = m.get(name).filter(|v| !v.is_null()) else {
                continue;
            };
            let Some(text) = text_value(v) else {
                self.push(Problem::AlertDetails {
                    field: name,
                    why: format!("expected text, found {}", kind_of(v)),
                });
                continue;
            };
            if text.trim().is_empty() {
                self.push(Problem::AlertDetails {
                    field: name,
                    why: "must not be empty".into(),
                });
            }
            if net_len(&text) > max {
                self.push(Problem::AlertDetails {
                    field: name,
                    why: format!("{} characters; at most {max} are allowed", net_len(&text)),
                });
            }
            let n = placeholders(&text);
            if n > MAX_PLACEHOLDERS {
                self.push(Problem::AlertDetails {
                    field: name,
                    why: format!("{n} {{{{column}}}} placeholders; at most {MAX_PLACEHOLDERS} are allowed"),
                });
            }
        }
    }

    fn check_version(&mut self) {
        let doc = self.doc;
        let v = match field(doc, "version") {
            None | Some(Value::Null) => return,
            Some(v) => v,
        };
        let text = text_value(v).unwrap_or_else(|| kind_of(v).to_string());
        let parts: Vec<&str> = text.split('.').collect();
        let ok = matches!(v, Value::String(_))
            && text.len() <= 20
            && parts.len() == 3
            && parts
                .iter()
                .all(|p| !p.is_empty() && p.chars().all(|c| c.is_ascii_digit()));
        if !ok {
            self.push(Problem::Version(text));
        }
    }
}

/// `{{...}}` placeholders (without braces inside) in an alert format string.
fn placeholders(text: &str) -> usize {
    let mut n = 0;
    let mut rest = text;
    while let Some(start) = rest.find("{{") {
        let after = &rest[start + 2..];
        match after.find(['{', '}']) {
            Some(end) if after[end..].starts_with("}}") => {
                n += 1;
                rest = &after[end + 2..];
            }
            // Not a placeholder from here: look again one brace further on.
            _ => rest = &rest[start + 1..],
        }
    }
    n
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rule::{builtin_pack, parse_rule};
    use std::path::Path;

    const BASE: &str = r#"id: 0b3c1c3e-6d2a-4d0e-9a51-6c0f1f6e2a10
name: Remote access tool started
description: |
  Finds remote access tools.
severity: Medium
requiredDataConnectors:
  - connectorId: MicrosoftThreatProtection
    dataTypes:
      - DeviceProcessEvents
queryFrequency: 1h
queryPeriod: 14d
triggerOperator: gt
triggerThreshold: 0
tactics:
  - CommandAndControl
relevantTechniques:
  - T1219
query: |
  DeviceProcessEvents
  | where FileName =~ "anydesk.exe"
  | extend ToolName = "AnyDesk"
entityMappings:
  - entityType: Host
    fieldMappings:
      - identifier: HostName
        columnName: DeviceName
  - entityType: Account
    fieldMappings:
      - identifier: Name
        columnName: AccountName
      - identifier: NTDomain
        columnName: AccountDomain
customDetails:
  Tool: ToolName
alertDetailsOverride:
  alertDisplayNameFormat: '{{ToolName}} on {{DeviceName}}'
eventGroupingSettings:
  aggregationKind: AlertPerResult
version: 1.0.0
kind: Scheduled
"#;

    /// The problems of the base template with `from` replaced by `to` (`from` must be in it, so a
    /// change to the base cannot make a test pass by accident).
    fn with(from: &str, to: &str) -> Vec<Problem> {
        assert!(BASE.contains(from), "the base template has no {from:?}");
        validate_template(&BASE.replacen(from, to, 1))
    }

    fn has(problems: &[Problem], pred: impl Fn(&Problem) -> bool) -> bool {
        problems.iter().any(pred)
    }

    #[test]
    fn the_base_template_is_valid() {
        assert_eq!(validate_template(BASE), Vec::<Problem>::new());
    }

    #[test]
    fn every_pack_rule_passes() {
        let (rules, errors) = builtin_pack();
        assert!(errors.is_empty(), "{errors:?}");
        assert!(!rules.is_empty());
        let bad: Vec<String> = validate_rules(&rules)
            .into_iter()
            .filter(|r| !r.is_ok())
            .map(|r| {
                let problems: Vec<String> = r.problems.iter().map(ToString::to_string).collect();
                format!("{}: {}", r.path.display(), problems.join("; "))
            })
            .collect();
        assert!(bad.is_empty(), "{}", bad.join("\n"));
    }

    #[test]
    fn required_fields_and_types() {
        let p = with("severity: Medium\n", "");
        assert!(p.contains(&Problem::Missing("severity")), "{p:?}");
        let p = with("requiredDataConnectors:\n", "otherConnectors:\n");
        assert!(p.contains(&Problem::Missing("requiredDataConnectors")), "{p:?}");
        let p = with("queryFrequency: 1h\n", "");
        assert!(p.contains(&Problem::Missing("queryFrequency")), "{p:?}");
        let p = with("kind: Scheduled\n", "");
        assert!(p.contains(&Problem::Missing("kind")), "{p:?}");
        let p = with("name: Remote access tool started\n", "name:\n");
        assert!(p.contains(&Problem::Missing("name")), "{p:?}");
        let p = with("tactics:\n  - CommandAndControl\n", "tactics: CommandAndControl\n");
        assert!(
            has(
                &p,
                |x| matches!(x, Problem::WrongType { field, .. } if field == "tactics")
            ),
            "{p:?}"
        );
        let p = validate_template("id: [unclosed\n");
        assert!(
            matches!(p.as_slice(), [Problem::Unreadable(m)] if m.contains("line 1")),
            "{p:?}"
        );
    }

    #[test]
    fn id_kind_severity_and_lengths() {
        let p = with("id: 0b3c1c3e-6d2a-4d0e-9a51-6c0f1f6e2a10", "id: rat-1");
        assert!(p.contains(&Problem::Id("rat-1".into())), "{p:?}");
        let p = with("kind: Scheduled", "kind: Fusion");
        assert!(p.contains(&Problem::Kind("Fusion".into())), "{p:?}");
        let p = with("severity: Medium", "severity: Critical");
        assert!(p.contains(&Problem::Severity("Critical".into())), "{p:?}");
        let long = format!("name: {}", "n".repeat(257));
        let p = with("name: Remote access tool started", &long);
        assert!(
            p.contains(&Problem::TooLong {
                field: "name".into(),
                len: 257,
                max: 256
            }),
            "{p:?}"
        );
        let long = format!("  | extend Padding = \"{}\"\n", "x".repeat(10_000));
        let p = with(
            "  | extend ToolName = \"AnyDesk\"\n",
            &format!("  | extend ToolName = \"AnyDesk\"\n{long}"),
        );
        assert!(
            has(
                &p,
                |x| matches!(x, Problem::TooLong { field, max: 10_000, .. } if field == "query")
            ),
            "{p:?}"
        );
        let p = with("version: 1.0.0", "version: 1.0");
        assert!(p.contains(&Problem::Version("1.0".into())), "{p:?}");
        let p = with("version: 1.0.0", "version: '1.0.0-beta'");
        assert!(p.contains(&Problem::Version("1.0.0-beta".into())), "{p:?}");
    }

    #[test]
    fn the_query_must_parse() {
        let p = with("  | where FileName", "  | wher FileName");
        assert!(
            has(&p, |x| matches!(x, Problem::QuerySyntax(m) if m.starts_with("line 2"))),
            "{p:?}"
        );
    }

    #[test]
    fn tactics_and_techniques() {
        let p = with("  - CommandAndControl\n", "  - CommandControl\n");
        assert!(p.contains(&Problem::Tactic("CommandControl".into())), "{p:?}");
        let p = with("  - T1219\n", "  - T1219\n  - T12189\n");
        assert!(p.contains(&Problem::TechniqueFormat("T12189".into())), "{p:?}");
        let p = with("  - T1219\n", "  - T1219\n  - 1218\n");
        assert!(
            has(
                &p,
                |x| matches!(x, Problem::WrongType { field, .. } if field == "relevantTechniques")
            ),
            "{p:?}"
        );
        let p = with("  - T1219\n", "  - T1219\n  - T1999\n");
        assert!(p.contains(&Problem::UnknownTechnique("T1999".into())), "{p:?}");
        // The pack's old mistake: T1218 (System Binary Proxy Execution) without DefenseEvasion.
        let p = with("  - T1219\n", "  - T1219\n  - T1218\n");
        assert!(
            p.contains(&Problem::TacticMissing {
                technique: "T1218".into(),
                needs: vec![EVASION],
                missing: vec![EVASION]
            }),
            "{p:?}"
        );
        // A sub-technique needs every tactic of its technique.
        let p = with(
            "  - CommandAndControl\nrelevantTechniques:\n  - T1219\n",
            "  - CommandAndControl\n  - Persistence\nrelevantTechniques:\n  - T1219\n  - T1543.003\n",
        );
        assert!(
            has(&p, |x| matches!(x, Problem::TacticMissing { technique, missing, .. }
                if technique == "T1543.003" && *missing == vec![PRIV])),
            "{p:?}"
        );
        let ok = with(
            "  - CommandAndControl\nrelevantTechniques:\n  - T1219\n",
            "  - CommandAndControl\n  - Persistence\n  - PrivilegeEscalation\nrelevantTechniques:\n  - T1219\n  - T1543.003\n",
        );
        assert!(ok.is_empty(), "{ok:?}");
    }

    #[test]
    fn pack_techniques_map_to_their_tactics() {
        let cases: &[(&str, &[&str])] = &[
            ("T1219", &[C2]),
            ("T1219.001", &[C2]),
            ("T1219.003", &[C2]),
            ("T1218", &[EVASION]),
            ("T1571", &[C2]),
            ("T1543", &[PERSIST, PRIV]),
            ("T1543.003", &[PERSIST, PRIV]),
            ("T1112", &[EVASION]),
            ("T1547.001", &[PERSIST, PRIV]),
            ("T1105", &[C2]),
            ("T1572", &[C2]),
            ("T1036", &[EVASION]),
            ("T1036.005", &[EVASION]),
            ("T1133", &[INITIAL, PERSIST]),
            ("T1200", &[INITIAL]),
            ("T1021", &[LATERAL]),
            ("T1204", &[EXECUTION]),
        ];
        for (t, want) in cases {
            assert_eq!(technique_tactics(t), Some(*want), "{t}");
        }
        assert_eq!(technique_tactics("T9999"), None);
        assert!(
            TECHNIQUES.windows(2).all(|w| w[0].0 < w[1].0),
            "the table must stay sorted"
        );
        assert!(
            TECHNIQUES
                .iter()
                .all(|(_, tactics)| tactics.iter().all(|t| TACTICS.contains(t)))
        );
        // Every technique the pack names is in the table.
        for r in builtin_pack().0 {
            for t in &r.techniques {
                assert!(technique_tactics(t).is_some(), "{}: {t}", r.id);
            }
        }
    }

    #[test]
    fn periods_and_their_limits() {
        assert_eq!(template_period_secs("5m"), Some(300));
        assert_eq!(template_period_secs("14d"), Some(14 * 86_400));
        assert_eq!(template_period_secs("01:00:00"), Some(3_600));
        assert_eq!(template_period_secs("1.00:00:00"), Some(86_400));
        assert_eq!(template_period_secs("PT1H"), None);
        assert_eq!(template_period_secs("1w"), None);
        let p = with("queryPeriod: 14d", "queryPeriod: P14D");
        assert!(
            p.contains(&Problem::PeriodFormat {
                field: "queryPeriod",
                value: "P14D".into()
            }),
            "{p:?}"
        );
        let p = with("queryPeriod: 14d", "queryPeriod: 15d");
        assert!(
            has(&p, |x| matches!(
                x,
                Problem::PeriodRange {
                    field: "queryPeriod",
                    ..
                }
            )),
            "{p:?}"
        );
        let p = with("queryFrequency: 1h", "queryFrequency: 1m");
        assert!(
            has(&p, |x| matches!(
                x,
                Problem::PeriodRange {
                    field: "queryFrequency",
                    ..
                }
            )),
            "{p:?}"
        );
        let p = with("queryPeriod: 14d", "queryPeriod: 30m");
        assert!(has(&p, |x| matches!(x, Problem::PeriodBelowFrequency { .. })), "{p:?}");
        let p = with("queryFrequency: 1h", "queryFrequency: 30m");
        assert!(has(&p, |x| matches!(x, Problem::FrequencyTooShort { .. })), "{p:?}");
        // NRT rules have no schedule.
        let nrt = BASE
            .replace("kind: Scheduled", "kind: NRT")
            .replace("queryFrequency: 1h\n", "")
            .replace("queryPeriod: 14d\n", "");
        assert_eq!(validate_template(&nrt), Vec::<Problem>::new());
    }

    #[test]
    fn trigger_and_connectors() {
        let p = with("triggerOperator: gt", "triggerOperator: gte");
        assert!(p.contains(&Problem::TriggerOperator("gte".into())), "{p:?}");
        let p = with("triggerThreshold: 0", "triggerThreshold: 10001");
        assert!(p.contains(&Problem::TriggerThreshold("10001".into())), "{p:?}");
        let p = with("triggerThreshold: 0", "triggerThreshold: -1");
        assert!(p.contains(&Problem::TriggerThreshold("-1".into())), "{p:?}");
        let p = with("    dataTypes:\n      - DeviceProcessEvents\n", "");
        assert!(has(&p, |x| matches!(x, Problem::Connector { index: 1, .. })), "{p:?}");
    }

    #[test]
    fn entity_mappings() {
        let host =
            "  - entityType: Host\n    fieldMappings:\n      - identifier: HostName\n        columnName: DeviceName\n";
        let p = with(host, &host.repeat(10));
        assert!(p.contains(&Problem::EntityMappingCount(11)), "{p:?}");
        let four = "      - identifier: NTDomain\n        columnName: AccountDomain\n      - identifier: Sid\n        columnName: AccountSid\n      - identifier: UPNSuffix\n        columnName: Upn\n";
        let p = with(
            "      - identifier: NTDomain\n        columnName: AccountDomain\n",
            four,
        );
        assert!(
            p.contains(&Problem::FieldMappingCount {
                index: 2,
                entity: "Account".into(),
                count: 4
            }),
            "{p:?}"
        );
        let p = with("entityType: Host", "entityType: Computer");
        assert!(
            p.contains(&Problem::EntityType {
                index: 1,
                entity: "Computer".into()
            }),
            "{p:?}"
        );
        let p = with("identifier: HostName", "identifier: Hostname");
        assert!(
            has(
                &p,
                |x| matches!(x, Problem::Identifier { identifier, .. } if identifier == "Hostname")
            ),
            "{p:?}"
        );
        let p = with("identifier: NTDomain", "identifier: Name");
        assert!(
            has(&p, |x| matches!(x, Problem::DuplicateIdentifier { index: 2, .. })),
            "{p:?}"
        );
        let p = with("identifier: HostName", "identifies: HostName");
        assert!(
            p.contains(&Problem::Missing(
                "entityMappings[].fieldMappings[].identifier/columnName"
            )),
            "{p:?}"
        );
        let p = with("columnName: DeviceName", "columnName: Device-Name");
        assert!(has(&p, |x| matches!(x, Problem::ColumnName { index: 1, .. })), "{p:?}");
        let p = with("identifier: HostName", "identifier: DnsDomain");
        assert!(
            has(
                &p,
                |x| matches!(x, Problem::RequiredIdentifier { index: 1, entity, .. } if entity == "Host")
            ),
            "{p:?}"
        );
        let p = with(
            "  | extend ToolName = \"AnyDesk\"\n",
            "  | extend HostCustomEntity = DeviceName\n",
        );
        assert!(p.contains(&Problem::OldEntityColumn("HostCustomEntity")), "{p:?}");
    }

    #[test]
    fn custom_details_alert_details_and_grouping() {
        let many: String = (0..21).map(|i| format!("  Detail{i}: ToolName\n")).collect();
        let p = with("  Tool: ToolName\n", &many);
        assert!(p.contains(&Problem::CustomDetailsCount(21)), "{p:?}");
        let p = with("  Tool: ToolName\n", "  1Tool: ToolName\n");
        assert!(p.contains(&Problem::CustomDetailKey("1Tool".into())), "{p:?}");
        let p = with("  Tool: ToolName\n", "  ToolNameOfTheSessionX: ToolName\n");
        assert!(has(&p, |x| matches!(x, Problem::CustomDetailKey(_))), "{p:?}");
        let p = with("  Tool: ToolName\n", "  Tool: Tool Name\n");
        assert!(has(&p, |x| matches!(x, Problem::CustomDetailValue { .. })), "{p:?}");
        let p = with("'{{ToolName}} on {{DeviceName}}'", "'{{A}} {{B}} {{C}} {{D}}'");
        assert!(
            has(&p, |x| matches!(
                x,
                Problem::AlertDetails {
                    field: "alertDisplayNameFormat",
                    ..
                }
            )),
            "{p:?}"
        );
        let p = with("'{{ToolName}} on {{DeviceName}}'", "'  '");
        assert!(has(&p, |x| matches!(x, Problem::AlertDetails { .. })), "{p:?}");
        assert!(with("aggregationKind: AlertPerResult", "aggregationKind: alertPerResult").is_empty());
        let p = with("aggregationKind: AlertPerResult", "aggregationKind: PerHost");
        assert!(p.contains(&Problem::EventGrouping("PerHost".into())), "{p:?}");
        assert_eq!(placeholders("{{a}} {b} {{c}} {{d{e}}}"), 2);
        assert_eq!(placeholders("{{{a}}"), 1);
    }

    #[test]
    fn ids_used_twice_are_reported() {
        let a = parse_rule(Path::new("a.yaml"), BASE).unwrap();
        let b = parse_rule(Path::new("b.yaml"), BASE).unwrap();
        let reports = validate_rules(&[a, b]);
        assert!(reports[0].is_ok(), "{:?}", reports[0]);
        assert!(
            has(
                &reports[1].problems,
                |x| matches!(x, Problem::DuplicateId { other, .. } if other == "a.yaml")
            ),
            "{:?}",
            reports[1]
        );
        let kql = parse_rule(Path::new("q.kql"), "T | take 1").unwrap();
        assert_eq!(validate_rules(&[kql])[0].problems, vec![Problem::NotYaml]);
    }

    #[test]
    fn files_and_folders() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("good.yaml"), BASE).unwrap();
        std::fs::write(
            dir.path().join("bad.yml"),
            BASE.replace("kind: Scheduled", "kind: Other"),
        )
        .unwrap();
        std::fs::write(dir.path().join("notes.md"), "not a rule").unwrap();
        std::fs::create_dir(dir.path().join("tests")).unwrap();
        std::fs::write(dir.path().join("tests/case.yaml"), "evidence: []\n").unwrap();
        let (reports, errors) = validate_paths(&[dir.path().to_path_buf()]);
        assert!(errors.is_empty(), "{errors:?}");
        let names: Vec<String> = reports
            .iter()
            .map(|r| r.path.file_name().unwrap().to_string_lossy().into_owned())
            .collect();
        assert_eq!(names, ["bad.yml", "good.yaml"]);
        assert!(reports[0].problems.contains(&Problem::Kind("Other".into())));
        assert!(
            has(&reports[1].problems, |x| matches!(x, Problem::DuplicateId { .. })),
            "{:?}",
            reports[1]
        );
    }
}
