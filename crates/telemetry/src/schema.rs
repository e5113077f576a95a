//! Table definitions: Defender Advanced Hunting and Sentinel table schemas as Arrow schemas.
//!
//! Column names, order and Kusto types follow Microsoft's table references (see
//! `docs/telemetry.md` for the few extension columns this tool adds). Kusto types map to Arrow
//! as: `string` → Utf8, `long` → Int64, `int` → Int32, `bool` → Boolean,
//! `datetime` → Timestamp(ns, "UTC"), `real` → Float64, `dynamic` → LargeUtf8 holding JSON text
//! (the engine tells dynamic from string by this type).

use std::collections::HashMap;
use std::sync::{Arc, OnceLock};

use datafusion::arrow::datatypes::{DataType, Field, Schema, SchemaRef, TimeUnit};

/// `DeviceProcessEvents`: process creation (Sysmon 1, Security 4688).
pub const DEVICE_PROCESS_EVENTS: &str = "DeviceProcessEvents";
/// `DeviceNetworkEvents`: connections (Sysmon 3, Security 5156).
pub const DEVICE_NETWORK_EVENTS: &str = "DeviceNetworkEvents";
/// `DeviceFileEvents`: file creation and deletion (Sysmon 11, 23, 26).
pub const DEVICE_FILE_EVENTS: &str = "DeviceFileEvents";
/// `DeviceRegistryEvents`: registry changes (Sysmon 12, 13, 14).
pub const DEVICE_REGISTRY_EVENTS: &str = "DeviceRegistryEvents";
/// `DeviceEvents`: miscellaneous (DNS queries, service installs, process tampering, …).
pub const DEVICE_EVENTS: &str = "DeviceEvents";
/// `DeviceImageLoadEvents`: module loads (Sysmon 7).
pub const DEVICE_IMAGE_LOAD_EVENTS: &str = "DeviceImageLoadEvents";
/// `DeviceLogonEvents`: logons (Security 4624, 4625).
pub const DEVICE_LOGON_EVENTS: &str = "DeviceLogonEvents";
/// `SecurityEvent`: the Sentinel copy of every Security-channel event.
pub const SECURITY_EVENT: &str = "SecurityEvent";
/// `WindowsEvent`: the Sentinel raw table; every Windows event read from logs lands here.
pub const WINDOWS_EVENT: &str = "WindowsEvent";

/// A Kusto column type.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Kusto {
    /// `string`
    String,
    /// `long`
    Long,
    /// `int`
    Int,
    /// `bool`
    Bool,
    /// `datetime`
    DateTime,
    /// `dynamic`, stored as JSON text.
    Dynamic,
    /// `real`
    Real,
}

impl Kusto {
    /// The Arrow type used for this Kusto type.
    pub fn arrow_type(self) -> DataType {
        match self {
            Kusto::String => DataType::Utf8,
            Kusto::Dynamic => DataType::LargeUtf8,
            Kusto::Long => DataType::Int64,
            Kusto::Int => DataType::Int32,
            Kusto::Bool => DataType::Boolean,
            Kusto::DateTime => DataType::Timestamp(TimeUnit::Nanosecond, Some("UTC".into())),
            Kusto::Real => DataType::Float64,
        }
    }

    /// The Kusto type name (`string`, `long`, …).
    pub fn name(self) -> &'static str {
        match self {
            Kusto::String => "string",
            Kusto::Long => "long",
            Kusto::Int => "int",
            Kusto::Bool => "bool",
            Kusto::DateTime => "datetime",
            Kusto::Dynamic => "dynamic",
            Kusto::Real => "real",
        }
    }
}

/// Arrow field metadata key that carries the Kusto type name of a column.
pub const KUSTO_TYPE_KEY: &str = "kusto.type";
/// Arrow schema metadata key that carries the table name.
pub const TABLE_NAME_KEY: &str = "ratcatcher.table";

/// One table: its name, columns and Arrow schema.
#[derive(Debug)]
pub struct TableDef {
    name: &'static str,
    columns: Vec<(&'static str, Kusto)>,
    index: HashMap<&'static str, usize>,
    schema: SchemaRef,
    time_column: usize,
}

impl TableDef {
    fn new(name: &'static str, columns: Vec<(&'static str, Kusto)>) -> TableDef {
        let index: HashMap<&'static str, usize> = columns.iter().enumerate().map(|(i, (c, _))| (*c, i)).collect();
        let fields: Vec<Field> = columns
            .iter()
            .map(|(c, k)| {
                Field::new(*c, k.arrow_type(), true)
                    .with_metadata(HashMap::from([(KUSTO_TYPE_KEY.to_string(), k.name().to_string())]))
            })
            .collect();
        let schema = Arc::new(Schema::new_with_metadata(
            fields,
            HashMap::from([(TABLE_NAME_KEY.to_string(), name.to_string())]),
        ));
        let time_column = index
            .get("Timestamp")
            .or_else(|| index.get("TimeGenerated"))
            .copied()
            .unwrap_or(0);
        TableDef {
            name,
            columns,
            index,
            schema,
            time_column,
        }
    }

    /// Table name.
    pub fn name(&self) -> &'static str {
        self.name
    }

    /// Columns in order, with their Kusto types.
    pub fn columns(&self) -> &[(&'static str, Kusto)] {
        &self.columns
    }

    /// Position of a column, by exact (case-sensitive) name.
    pub fn column_index(&self, name: &str) -> Option<usize> {
        self.index.get(name).copied()
    }

    /// The Arrow schema (every column nullable; schema metadata names the table).
    pub fn schema(&self) -> SchemaRef {
        Arc::clone(&self.schema)
    }

    /// The column rows are sorted by: `Timestamp`, or `TimeGenerated` where there is none.
    pub fn time_column(&self) -> &'static str {
        self.columns[self.time_column].0
    }
}

macro_rules! cols {
    ($($name:ident : $ty:ident),* $(,)?) => {
        vec![$((stringify!($name), Kusto::$ty)),*]
    };
}

/// Columns every Device* table carries when it comes through Sentinel (see schema doc §2).
fn sentinel_tail() -> Vec<(&'static str, Kusto)> {
    cols![TimeGenerated: DateTime, TenantId: String, SourceSystem: String, MachineGroup: String, Type: String]
}

fn device_process_events() -> Vec<(&'static str, Kusto)> {
    cols![
        Timestamp: DateTime, DeviceId: String, DeviceName: String, ActionType: String,
        FileName: String, FolderPath: String, SHA1: String, SHA256: String, MD5: String,
        FileSize: Long,
        ProcessVersionInfoCompanyName: String, ProcessVersionInfoProductName: String,
        ProcessVersionInfoProductVersion: String, ProcessVersionInfoInternalFileName: String,
        ProcessVersionInfoOriginalFileName: String, ProcessVersionInfoFileDescription: String,
        ProcessId: Long, ProcessCommandLine: String, ProcessIntegrityLevel: String,
        ProcessTokenElevation: String, ProcessCreationTime: DateTime,
        AccountDomain: String, AccountName: String, AccountSid: String, AccountUpn: String,
        AccountObjectId: String, LogonId: Long,
        InitiatingProcessAccountDomain: String, InitiatingProcessAccountName: String,
        InitiatingProcessAccountSid: String, InitiatingProcessAccountUpn: String,
        InitiatingProcessAccountObjectId: String, InitiatingProcessLogonId: Long,
        InitiatingProcessIntegrityLevel: String, InitiatingProcessTokenElevation: String,
        InitiatingProcessSHA1: String, InitiatingProcessSHA256: String, InitiatingProcessMD5: String,
        InitiatingProcessFileName: String, InitiatingProcessFileSize: Long,
        InitiatingProcessVersionInfoCompanyName: String, InitiatingProcessVersionInfoProductName: String,
        InitiatingProcessVersionInfoProductVersion: String,
        InitiatingProcessVersionInfoInternalFileName: String,
        InitiatingProcessVersionInfoOriginalFileName: String,
        InitiatingProcessVersionInfoFileDescription: String,
        InitiatingProcessId: Long, InitiatingProcessCommandLine: String,
        InitiatingProcessCreationTime: DateTime, InitiatingProcessFolderPath: String,
        InitiatingProcessParentId: Long, InitiatingProcessParentFileName: String,
        InitiatingProcessParentCreationTime: DateTime, InitiatingProcessSignerType: String,
        InitiatingProcessSignatureStatus: String,
        ReportId: Long, AppGuardContainerId: String, AdditionalFields: Dynamic,
        InitiatingProcessSessionId: Long, IsInitiatingProcessRemoteSession: Bool,
        InitiatingProcessRemoteSessionDeviceName: String, InitiatingProcessRemoteSessionIP: String,
        CreatedProcessSessionId: Long, IsProcessRemoteSession: Bool,
        ProcessRemoteSessionDeviceName: String, ProcessRemoteSessionIP: String,
        ProcessUniqueId: String, InitiatingProcessUniqueId: String,
    ]
}

fn device_network_events() -> Vec<(&'static str, Kusto)> {
    cols![
        Timestamp: DateTime, DeviceId: String, DeviceName: String, ActionType: String,
        RemoteIP: String, RemotePort: Int, RemoteUrl: String, LocalIP: String, LocalPort: Int,
        Protocol: String, LocalIPType: String, RemoteIPType: String,
        InitiatingProcessSHA1: String, InitiatingProcessSHA256: String, InitiatingProcessMD5: String,
        InitiatingProcessFileName: String, InitiatingProcessFileSize: Long,
        InitiatingProcessVersionInfoCompanyName: String, InitiatingProcessVersionInfoProductName: String,
        InitiatingProcessVersionInfoProductVersion: String,
        InitiatingProcessVersionInfoInternalFileName: String,
        InitiatingProcessVersionInfoOriginalFileName: String,
        InitiatingProcessVersionInfoFileDescription: String,
        InitiatingProcessId: Long, InitiatingProcessCommandLine: String,
        InitiatingProcessCreationTime: DateTime, InitiatingProcessFolderPath: String,
        InitiatingProcessParentFileName: String, InitiatingProcessParentId: Long,
        InitiatingProcessParentCreationTime: DateTime,
        InitiatingProcessAccountDomain: String, InitiatingProcessAccountName: String,
        InitiatingProcessAccountSid: String, InitiatingProcessAccountUpn: String,
        InitiatingProcessAccountObjectId: String, InitiatingProcessIntegrityLevel: String,
        InitiatingProcessTokenElevation: String,
        ReportId: Long, AppGuardContainerId: String, AdditionalFields: Dynamic,
        InitiatingProcessSessionId: Long, IsInitiatingProcessRemoteSession: Bool,
        InitiatingProcessRemoteSessionDeviceName: String, InitiatingProcessRemoteSessionIP: String,
        InitiatingProcessUniqueId: String,
    ]
}

fn device_file_events() -> Vec<(&'static str, Kusto)> {
    cols![
        Timestamp: DateTime, DeviceId: String, DeviceName: String, ActionType: String,
        FileName: String, FolderPath: String, SHA1: String, SHA256: String, MD5: String,
        FileOriginUrl: String, FileOriginReferrerUrl: String, FileOriginIP: String,
        PreviousFolderPath: String, PreviousFileName: String, FileSize: Long,
        InitiatingProcessAccountDomain: String, InitiatingProcessAccountName: String,
        InitiatingProcessAccountSid: String, InitiatingProcessAccountUpn: String,
        InitiatingProcessAccountObjectId: String,
        InitiatingProcessMD5: String, InitiatingProcessSHA1: String, InitiatingProcessSHA256: String,
        InitiatingProcessFolderPath: String, InitiatingProcessFileName: String,
        InitiatingProcessFileSize: Long,
        InitiatingProcessVersionInfoCompanyName: String, InitiatingProcessVersionInfoProductName: String,
        InitiatingProcessVersionInfoProductVersion: String,
        InitiatingProcessVersionInfoInternalFileName: String,
        InitiatingProcessVersionInfoOriginalFileName: String,
        InitiatingProcessVersionInfoFileDescription: String,
        InitiatingProcessId: Long, InitiatingProcessCommandLine: String,
        InitiatingProcessCreationTime: DateTime, InitiatingProcessIntegrityLevel: String,
        InitiatingProcessTokenElevation: String, InitiatingProcessParentId: Long,
        InitiatingProcessParentFileName: String, InitiatingProcessParentCreationTime: DateTime,
        RequestProtocol: String, RequestSourceIP: String, RequestSourcePort: Int,
        RequestAccountName: String, RequestAccountDomain: String, RequestAccountSid: String,
        ShareName: String, SensitivityLabel: String, SensitivitySubLabel: String,
        IsAzureInfoProtectionApplied: Bool,
        ReportId: Long, AppGuardContainerId: String, AdditionalFields: Dynamic,
        InitiatingProcessSessionId: Long, IsInitiatingProcessRemoteSession: Bool,
        InitiatingProcessRemoteSessionDeviceName: String, InitiatingProcessRemoteSessionIP: String,
        InitiatingProcessUniqueId: String,
    ]
}

fn device_registry_events() -> Vec<(&'static str, Kusto)> {
    cols![
        Timestamp: DateTime, DeviceId: String, DeviceName: String, ActionType: String,
        RegistryKey: String, RegistryValueType: String, RegistryValueName: String,
        RegistryValueData: String, PreviousRegistryKey: String, PreviousRegistryValueName: String,
        PreviousRegistryValueData: String,
        InitiatingProcessAccountDomain: String, InitiatingProcessAccountName: String,
        InitiatingProcessAccountSid: String, InitiatingProcessAccountUpn: String,
        InitiatingProcessAccountObjectId: String,
        InitiatingProcessSHA1: String, InitiatingProcessSHA256: String, InitiatingProcessMD5: String,
        InitiatingProcessFileName: String, InitiatingProcessFileSize: Long,
        InitiatingProcessVersionInfoCompanyName: String, InitiatingProcessVersionInfoProductName: String,
        InitiatingProcessVersionInfoProductVersion: String,
        InitiatingProcessVersionInfoInternalFileName: String,
        InitiatingProcessVersionInfoOriginalFileName: String,
        InitiatingProcessVersionInfoFileDescription: String,
        InitiatingProcessId: Long, InitiatingProcessCommandLine: String,
        InitiatingProcessCreationTime: DateTime, InitiatingProcessFolderPath: String,
        InitiatingProcessParentId: Long, InitiatingProcessParentFileName: String,
        InitiatingProcessParentCreationTime: DateTime, InitiatingProcessIntegrityLevel: String,
        InitiatingProcessTokenElevation: String,
        ReportId: Long, AppGuardContainerId: String,
        InitiatingProcessSessionId: Long, IsInitiatingProcessRemoteSession: Bool,
        InitiatingProcessRemoteSessionDeviceName: String, InitiatingProcessRemoteSessionIP: String,
        InitiatingProcessUniqueId: String,
        // Extension (not in Advanced Hunting): keeps ProcessGuid and similar source details.
        AdditionalFields: Dynamic,
    ]
}

fn device_events() -> Vec<(&'static str, Kusto)> {
    cols![
        Timestamp: DateTime, DeviceId: String, DeviceName: String, ActionType: String,
        FileName: String, FolderPath: String, SHA1: String, SHA256: String, MD5: String,
        FileSize: Long, AccountDomain: String, AccountName: String, AccountSid: String,
        RemoteUrl: String, RemoteDeviceName: String, ProcessId: Long, ProcessCommandLine: String,
        ProcessCreationTime: DateTime, ProcessTokenElevation: String, LogonId: Long,
        RegistryKey: String, RegistryValueName: String, RegistryValueData: String,
        RemoteIP: String, RemotePort: Int, LocalIP: String, LocalPort: Int,
        FileOriginUrl: String, FileOriginIP: String,
        InitiatingProcessSHA1: String, InitiatingProcessSHA256: String, InitiatingProcessMD5: String,
        InitiatingProcessFileName: String, InitiatingProcessFileSize: Long,
        InitiatingProcessFolderPath: String, InitiatingProcessId: Long,
        InitiatingProcessCommandLine: String, InitiatingProcessCreationTime: DateTime,
        InitiatingProcessAccountDomain: String, InitiatingProcessAccountName: String,
        InitiatingProcessAccountSid: String, InitiatingProcessAccountUpn: String,
        InitiatingProcessAccountObjectId: String,
        InitiatingProcessVersionInfoCompanyName: String, InitiatingProcessVersionInfoProductName: String,
        InitiatingProcessVersionInfoProductVersion: String,
        InitiatingProcessVersionInfoInternalFileName: String,
        InitiatingProcessVersionInfoOriginalFileName: String,
        InitiatingProcessVersionInfoFileDescription: String,
        InitiatingProcessParentId: Long, InitiatingProcessParentFileName: String,
        InitiatingProcessParentCreationTime: DateTime, InitiatingProcessLogonId: Long,
        ReportId: Long, AppGuardContainerId: String, AdditionalFields: Dynamic,
        InitiatingProcessSessionId: Long, IsInitiatingProcessRemoteSession: Bool,
        InitiatingProcessRemoteSessionDeviceName: String, InitiatingProcessRemoteSessionIP: String,
        CreatedProcessSessionId: Long, IsProcessRemoteSession: Bool,
        ProcessRemoteSessionDeviceName: String, ProcessRemoteSessionIP: String,
        InitiatingProcessUniqueId: String,
    ]
}

fn device_image_load_events() -> Vec<(&'static str, Kusto)> {
    cols![
        Timestamp: DateTime, DeviceId: String, DeviceName: String, ActionType: String,
        FileName: String, FolderPath: String, SHA1: String, SHA256: String, MD5: String,
        FileSize: Long,
        InitiatingProcessAccountDomain: String, InitiatingProcessAccountName: String,
        InitiatingProcessAccountSid: String, InitiatingProcessAccountUpn: String,
        InitiatingProcessAccountObjectId: String, InitiatingProcessIntegrityLevel: String,
        InitiatingProcessTokenElevation: String,
        InitiatingProcessSHA1: String, InitiatingProcessSHA256: String, InitiatingProcessMD5: String,
        InitiatingProcessFileName: String, InitiatingProcessFileSize: Long,
        InitiatingProcessVersionInfoCompanyName: String, InitiatingProcessVersionInfoProductName: String,
        InitiatingProcessVersionInfoProductVersion: String,
        InitiatingProcessVersionInfoInternalFileName: String,
        InitiatingProcessVersionInfoOriginalFileName: String,
        InitiatingProcessVersionInfoFileDescription: String,
        InitiatingProcessId: Long, InitiatingProcessCommandLine: String,
        InitiatingProcessCreationTime: DateTime, InitiatingProcessFolderPath: String,
        InitiatingProcessParentId: Long, InitiatingProcessParentFileName: String,
        InitiatingProcessParentCreationTime: DateTime,
        ReportId: Long, AppGuardContainerId: String,
        InitiatingProcessSessionId: Long, IsInitiatingProcessRemoteSession: Bool,
        InitiatingProcessRemoteSessionDeviceName: String, InitiatingProcessRemoteSessionIP: String,
        InitiatingProcessUniqueId: String,
        // Extension (not in Advanced Hunting): the loaded module's version and signature info.
        AdditionalFields: Dynamic,
    ]
}

fn device_logon_events() -> Vec<(&'static str, Kusto)> {
    cols![
        Timestamp: DateTime, DeviceId: String, DeviceName: String, ActionType: String,
        LogonType: String, AccountDomain: String, AccountName: String, AccountSid: String,
        Protocol: String, FailureReason: String, IsLocalAdmin: Bool, LogonId: Long,
        RemoteDeviceName: String, RemoteIP: String, RemoteIPType: String, RemotePort: Int,
        InitiatingProcessAccountDomain: String, InitiatingProcessAccountName: String,
        InitiatingProcessAccountSid: String, InitiatingProcessAccountUpn: String,
        InitiatingProcessAccountObjectId: String, InitiatingProcessIntegrityLevel: String,
        InitiatingProcessTokenElevation: String,
        InitiatingProcessSHA1: String, InitiatingProcessSHA256: String, InitiatingProcessMD5: String,
        InitiatingProcessFileName: String, InitiatingProcessFileSize: Long,
        InitiatingProcessVersionInfoCompanyName: String, InitiatingProcessVersionInfoProductName: String,
        InitiatingProcessVersionInfoProductVersion: String,
        InitiatingProcessVersionInfoInternalFileName: String,
        InitiatingProcessVersionInfoOriginalFileName: String,
        InitiatingProcessVersionInfoFileDescription: String,
        InitiatingProcessId: Long, InitiatingProcessCommandLine: String,
        InitiatingProcessCreationTime: DateTime, InitiatingProcessFolderPath: String,
        InitiatingProcessParentId: Long, InitiatingProcessParentFileName: String,
        InitiatingProcessParentCreationTime: DateTime,
        ReportId: Long, AppGuardContainerId: String, AdditionalFields: Dynamic,
        InitiatingProcessSessionId: Long, IsInitiatingProcessRemoteSession: Bool,
        InitiatingProcessRemoteSessionDeviceName: String, InitiatingProcessRemoteSessionIP: String,
        InitiatingProcessUniqueId: String,
    ]
}

fn security_event() -> Vec<(&'static str, Kusto)> {
    cols![
        TimeGenerated: DateTime, Computer: String, Channel: String, EventSourceName: String,
        EventID: Int, Activity: String, Level: String, Task: Int, EventData: String,
        Account: String, AccountType: String, AccessMask: String, AccountDomain: String,
        AccountExpires: String, AccountName: String, AccountSessionIdentifier: String,
        AdditionalInfo: String, AdditionalInfo2: String, AllowedToDelegateTo: String,
        Attributes: String, AuditPolicyChanges: String, AuditsDiscarded: Int,
        AuthenticationLevel: Int, AuthenticationPackageName: String,
        AuthenticationProvider: String, AuthenticationServer: String, AuthenticationService: Int,
        AuthenticationType: String, AzureDeploymentID: String, CACertificateHash: String,
        CalledStationID: String, CallerProcessId: String, CallerProcessName: String,
        CallingStationID: String, CAPublicKeyHash: String, CategoryId: String,
        CertificateDatabaseHash: String, ClassId: String, ClassName: String,
        ClientAddress: String, ClientIPAddress: String, ClientName: String, CommandLine: String,
        CompatibleIds: String, DCDNSName: String, DeviceDescription: String, DeviceId: String,
        DisplayName: String, Disposition: String, DomainBehaviorVersion: String,
        DomainName: String, DomainPolicyChanged: String, DomainSid: String, EAPType: String,
        ElevatedToken: String, ErrorCode: Int, ExtendedQuarantineState: String,
        FailureReason: String, FileHash: String, FilePath: String, FilePathNoUser: String,
        Filter: String, ForceLogoff: String, Fqbn: String,
        FullyQualifiedSubjectMachineName: String, FullyQualifiedSubjectUserName: String,
        GroupMembership: String, HandleId: String, HardwareIds: String, HomeDirectory: String,
        HomePath: String, InterfaceUuid: String, IpAddress: String, IpPort: String,
        KeyLength: Int, LmPackageName: String, LocationInformation: String,
        LockoutDuration: String, LockoutObservationWindow: String, LockoutThreshold: String,
        LoggingResult: String, LogonGuid: String, LogonHours: String, LogonID: String,
        LogonProcessName: String, LogonType: Int, LogonTypeName: String,
        MachineAccountQuota: String, MachineInventory: String, MachineLogon: String,
        ManagementGroupName: String, MandatoryLabel: String, MaxPasswordAge: String,
        MemberName: String, MemberSid: String, MinPasswordAge: String,
        MinPasswordLength: String, MixedDomainMode: String, NASIdentifier: String,
        NASIPv4Address: String, NASIPv6Address: String, NASPort: String, NASPortType: String,
        NetworkPolicyName: String, NewDate: String, NewMaxUsers: String, NewProcessId: String,
        NewProcessName: String, NewRemark: String, NewShareFlags: String, NewTime: String,
        NewUacValue: String, NewValue: String, NewValueType: String, ObjectName: String,
        ObjectServer: String, ObjectType: String, ObjectValueName: String,
        OemInformation: String, OldMaxUsers: String, OldRemark: String, OldShareFlags: String,
        OldUacValue: String, OldValue: String, OldValueType: String, OperationType: String,
        PackageName: String, ParentProcessName: String, PasswordHistoryLength: String,
        PasswordLastSet: String, PasswordProperties: String, PreviousDate: String,
        PreviousTime: String, PrimaryGroupId: String, PrivateKeyUsageCount: String,
        PrivilegeList: String, Process: String, ProcessId: String, ProcessName: String,
        ProfilePath: String, Properties: String, ProtocolSequence: String,
        ProxyPolicyName: String, QuarantineHelpURL: String, QuarantineSessionID: String,
        QuarantineSessionIdentifier: String, QuarantineState: String,
        QuarantineSystemHealthResult: String, RelativeTargetName: String,
        RemoteIpAddress: String, RemotePort: String, Requester: String, RequestId: String,
        RestrictedAdminMode: String, RowsDeleted: String, SamAccountName: String,
        ScriptPath: String, SecurityDescriptor: String, ServiceAccount: String,
        ServiceFileName: String, ServiceName: String, ServiceStartType: Int,
        ServiceType: String, SessionName: String, ShareLocalPath: String, ShareName: String,
        SidHistory: String, SourceComputerId: String, SourceSystem: String, Status: String,
        StorageAccount: String, SubcategoryGuid: String, SubcategoryId: String,
        Subject: String, SubjectAccount: String, SubjectDomainName: String,
        SubjectKeyIdentifier: String, SubjectLogonId: String, SubjectMachineName: String,
        SubjectMachineSID: String, SubjectUserName: String, SubjectUserSid: String,
        SubStatus: String, TableId: String, TargetAccount: String, TargetDomainName: String,
        TargetInfo: String, TargetLinkedLogonId: String, TargetLogonGuid: String,
        TargetLogonId: String, TargetOutboundDomainName: String,
        TargetOutboundUserName: String, TargetServerName: String, TargetSid: String,
        TargetUser: String, TargetUserName: String, TargetUserSid: String,
        TemplateContent: String, TemplateDSObjectFQDN: String, TemplateInternalName: String,
        TemplateOID: String, TemplateSchemaVersion: String, TemplateVersion: String,
        TokenElevationType: String, TransmittedServices: String, UserAccountControl: String,
        UserParameters: String, UserPrincipalName: String, UserWorkstations: String,
        VendorIds: String, VirtualAccount: String, Workstation: String,
        WorkstationName: String, TenantId: String, Type: String,
    ]
}

fn windows_event() -> Vec<(&'static str, Kusto)> {
    cols![
        TimeGenerated: DateTime, Computer: String, Channel: String, Provider: String,
        EventID: Int, EventLevel: Int, EventLevelName: String, EventRecordId: String,
        Keywords: String, Opcode: String, Task: Int, Version: Int, SystemProcessId: Int,
        SystemThreadId: Int, SystemUserId: String, Correlation: String, EventData: Dynamic,
        RawEventData: String, EventOriginId: String, ManagementGroupName: String,
        TenantId: String, Type: String,
        // Extension: the event's UserData element (events that carry no EventData).
        UserData: Dynamic,
    ]
}

fn registry() -> &'static Vec<TableDef> {
    static TABLES: OnceLock<Vec<TableDef>> = OnceLock::new();
    TABLES.get_or_init(|| {
        let with_tail = |mut v: Vec<(&'static str, Kusto)>| {
            v.extend(sentinel_tail());
            v
        };
        vec![
            TableDef::new(DEVICE_PROCESS_EVENTS, with_tail(device_process_events())),
            TableDef::new(DEVICE_NETWORK_EVENTS, with_tail(device_network_events())),
            TableDef::new(DEVICE_FILE_EVENTS, with_tail(device_file_events())),
            TableDef::new(DEVICE_REGISTRY_EVENTS, with_tail(device_registry_events())),
            TableDef::new(DEVICE_EVENTS, with_tail(device_events())),
            TableDef::new(DEVICE_IMAGE_LOAD_EVENTS, with_tail(device_image_load_events())),
            TableDef::new(DEVICE_LOGON_EVENTS, with_tail(device_logon_events())),
            TableDef::new(SECURITY_EVENT, security_event()),
            TableDef::new(WINDOWS_EVENT, windows_event()),
        ]
    })
}

/// All known tables, in a fixed order.
pub fn tables() -> &'static [TableDef] {
    registry()
}

/// A table by exact name.
pub fn table(name: &str) -> Option<&'static TableDef> {
    registry().iter().find(|t| t.name == name)
}

/// A table by name, ignoring ASCII case.
pub fn table_ignore_case(name: &str) -> Option<&'static TableDef> {
    registry().iter().find(|t| t.name.eq_ignore_ascii_case(name))
}

/// The Arrow schema of a table.
pub fn arrow_schema(name: &str) -> Option<SchemaRef> {
    table(name).map(TableDef::schema)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    #[test]
    fn column_names_are_unique_and_time_columns_exist() {
        for t in tables() {
            let mut seen = HashSet::new();
            for (c, _) in t.columns() {
                assert!(seen.insert(*c), "{}: duplicate column {c}", t.name());
            }
            let tc = t.time_column();
            assert!(tc == "Timestamp" || tc == "TimeGenerated", "{}", t.name());
        }
    }

    #[test]
    fn device_tables_have_timestamp_and_timegenerated() {
        for t in tables().iter().filter(|t| t.name().starts_with("Device")) {
            assert_eq!(t.columns()[0], ("Timestamp", Kusto::DateTime));
            assert!(t.column_index("TimeGenerated").is_some());
            assert!(t.column_index("AdditionalFields").is_some());
        }
    }

    #[test]
    fn documented_column_counts() {
        // Advanced Hunting column counts from the schema doc, plus this tool's additions.
        let dpe = table(DEVICE_PROCESS_EVENTS).map(|t| t.columns().len());
        assert_eq!(dpe, Some(66 + 2 + 5));
        let dne = table(DEVICE_NETWORK_EVENTS).map(|t| t.columns().len());
        assert_eq!(dne, Some(44 + 1 + 5));
        let dfe = table(DEVICE_FILE_EVENTS).map(|t| t.columns().len());
        assert_eq!(dfe, Some(57 + 1 + 5));
        let dre = table(DEVICE_REGISTRY_EVENTS).map(|t| t.columns().len());
        assert_eq!(dre, Some(42 + 1 + 1 + 5));
        let de = table(DEVICE_EVENTS).map(|t| t.columns().len());
        assert_eq!(de, Some(64 + 1 + 5));
    }

    #[test]
    fn arrow_types() {
        let s = arrow_schema(DEVICE_NETWORK_EVENTS).expect("table");
        let f = s.field_with_name("RemotePort").expect("field");
        assert_eq!(f.data_type(), &DataType::Int32);
        let f = s.field_with_name("Timestamp").expect("field");
        assert_eq!(
            f.data_type(),
            &DataType::Timestamp(TimeUnit::Nanosecond, Some("UTC".into()))
        );
        assert_eq!(
            s.metadata().get(TABLE_NAME_KEY).map(String::as_str),
            Some(DEVICE_NETWORK_EVENTS)
        );
    }
}
