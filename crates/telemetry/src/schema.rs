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
/// `DeviceInfo`: one row per device report (from event logs only the device's name and id).
pub const DEVICE_INFO: &str = "DeviceInfo";
/// `DeviceLogonEvents`: logons (Security 4624, 4625).
pub const DEVICE_LOGON_EVENTS: &str = "DeviceLogonEvents";
/// `DeviceNetworkInfo`: network adapter configuration per device (schema only).
pub const DEVICE_NETWORK_INFO: &str = "DeviceNetworkInfo";
/// `DeviceFileCertificateInfo`: signing certificates of files seen on devices (schema only).
pub const DEVICE_FILE_CERTIFICATE_INFO: &str = "DeviceFileCertificateInfo";
/// `DeviceTvmSoftwareVulnerabilities`: vulnerabilities of installed software (schema only).
pub const DEVICE_TVM_SOFTWARE_VULNERABILITIES: &str = "DeviceTvmSoftwareVulnerabilities";
/// `DeviceTvmSoftwareVulnerabilitiesKB`: the vulnerability knowledge base (schema only).
pub const DEVICE_TVM_SOFTWARE_VULNERABILITIES_KB: &str = "DeviceTvmSoftwareVulnerabilitiesKB";
/// `DeviceTvmSecureConfigurationAssessment`: configuration assessment per device (schema only).
pub const DEVICE_TVM_SECURE_CONFIGURATION_ASSESSMENT: &str = "DeviceTvmSecureConfigurationAssessment";
/// `DeviceTvmSecureConfigurationAssessmentKB`: the assessed configurations (schema only).
pub const DEVICE_TVM_SECURE_CONFIGURATION_ASSESSMENT_KB: &str = "DeviceTvmSecureConfigurationAssessmentKB";
/// `DeviceTvmSoftwareInventory`: installed software and its end-of-support state (schema only).
pub const DEVICE_TVM_SOFTWARE_INVENTORY: &str = "DeviceTvmSoftwareInventory";
/// `DeviceTvmSoftwareEvidenceBeta`: where installed software was detected (schema only).
pub const DEVICE_TVM_SOFTWARE_EVIDENCE_BETA: &str = "DeviceTvmSoftwareEvidenceBeta";
/// `DeviceTvmInfoGathering`: information-gathering assessment results (schema only).
pub const DEVICE_TVM_INFO_GATHERING: &str = "DeviceTvmInfoGathering";
/// `DeviceTvmInfoGatheringKB`: the fields `DeviceTvmInfoGathering` collects (schema only).
pub const DEVICE_TVM_INFO_GATHERING_KB: &str = "DeviceTvmInfoGatheringKB";
/// `DeviceTvmBrowserExtensions`: browser extensions installed on devices (schema only).
pub const DEVICE_TVM_BROWSER_EXTENSIONS: &str = "DeviceTvmBrowserExtensions";
/// `DeviceTvmBrowserExtensionsKB`: browser extension and permission details (schema only).
pub const DEVICE_TVM_BROWSER_EXTENSIONS_KB: &str = "DeviceTvmBrowserExtensionsKB";
/// `DeviceTvmCertificateInfo`: certificates found on devices (schema only).
pub const DEVICE_TVM_CERTIFICATE_INFO: &str = "DeviceTvmCertificateInfo";
/// `DeviceTvmHardwareFirmware`: hardware and firmware components of devices (schema only).
pub const DEVICE_TVM_HARDWARE_FIRMWARE: &str = "DeviceTvmHardwareFirmware";
/// `DeviceBaselineComplianceAssessment`: baseline compliance per device (schema only).
pub const DEVICE_BASELINE_COMPLIANCE_ASSESSMENT: &str = "DeviceBaselineComplianceAssessment";
/// `DeviceBaselineComplianceAssessmentKB`: the configurations baselines check (schema only).
pub const DEVICE_BASELINE_COMPLIANCE_ASSESSMENT_KB: &str = "DeviceBaselineComplianceAssessmentKB";
/// `DeviceBaselineComplianceProfiles`: the baseline profiles (schema only).
pub const DEVICE_BASELINE_COMPLIANCE_PROFILES: &str = "DeviceBaselineComplianceProfiles";
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

/// Hashes column names with FNV-1a: every mapped cell looks its column up by name, and the
/// default SipHash showed in ingest profiles. The names are our own schema's, so hash flooding is
/// not a concern.
type NameHash = std::hash::BuildHasherDefault<Fnv1a>;

/// FNV-1a, 64 bit.
#[derive(Debug)]
struct Fnv1a(u64);

impl Default for Fnv1a {
    fn default() -> Self {
        Fnv1a(0xcbf2_9ce4_8422_2325)
    }
}

impl std::hash::Hasher for Fnv1a {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        for b in bytes {
            self.0 = (self.0 ^ u64::from(*b)).wrapping_mul(0x0000_0100_0000_01b3);
        }
    }
}

/// One table: its name, columns and Arrow schema.
#[derive(Debug)]
pub struct TableDef {
    name: &'static str,
    columns: Vec<(&'static str, Kusto)>,
    index: HashMap<&'static str, usize, NameHash>,
    schema: SchemaRef,
    time_column: usize,
}

impl TableDef {
    fn new(name: &'static str, columns: Vec<(&'static str, Kusto)>) -> TableDef {
        let index: HashMap<&'static str, usize, NameHash> =
            columns.iter().enumerate().map(|(i, (c, _))| (*c, i)).collect();
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

    /// The column rows are sorted by: `Timestamp`, or `TimeGenerated` where there is none, or the
    /// first column for the few schema-only tables that have neither.
    pub fn time_column(&self) -> &'static str {
        self.columns[self.time_column].0
    }
}

macro_rules! cols {
    ($($name:ident : $ty:ident),* $(,)?) => {
        vec![$((stringify!($name), Kusto::$ty)),*]
    };
}

/// Columns the Device* tables carry when they come through Sentinel (see schema doc §2); the
/// vulnerability-management tables lack `MachineGroup`, the Defender-only tables have none.
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

fn device_info() -> Vec<(&'static str, Kusto)> {
    cols![
        Timestamp: DateTime, DeviceId: String, DeviceName: String, ClientVersion: String, PublicIP: String,
        OSArchitecture: String, OSPlatform: String, OSBuild: Long, IsAzureADJoined: Bool, JoinType: String,
        AadDeviceId: String, LoggedOnUsers: String, RegistryDeviceTag: String, OSVersion: String,
        MachineGroup: String, ReportId: Long, OnboardingStatus: String, AdditionalFields: Dynamic,
        DeviceCategory: String, DeviceType: String, DeviceSubtype: String, Model: String, Vendor: String,
        OSDistribution: String, OSVersionInfo: String, MergedDeviceIds: String, MergedToDeviceId: String,
        IsInternetFacing: Bool, SensorHealthState: String, IsExcluded: Bool, ExclusionReason: String,
        ExposureLevel: String, AssetValue: String, DeviceManualTags: String, DeviceDynamicTags: String,
        ConnectivityType: String, HostDeviceId: String, AzureResourceId: String, AwsResourceName: String,
        GcpFullResourceName: String,
    ]
}

// Tables below are schema only: no event log fills them, Defender exports can.

fn device_network_info() -> Vec<(&'static str, Kusto)> {
    cols![
        Timestamp: DateTime, DeviceId: String, DeviceName: String, NetworkAdapterName: String,
        MacAddress: String, NetworkAdapterType: String, NetworkAdapterStatus: String, TunnelType: String,
        ConnectedNetworks: String, DnsAddresses: String, IPv4Dhcp: String, IPv6Dhcp: String,
        DefaultGateways: String, IPAddresses: String, ReportId: Long, NetworkAdapterVendor: String,
    ]
}

fn device_file_certificate_info() -> Vec<(&'static str, Kusto)> {
    cols![
        Timestamp: DateTime, DeviceId: String, DeviceName: String, SHA1: String, IsSigned: Bool,
        SignatureType: String, Signer: String, SignerHash: String, Issuer: String, IssuerHash: String,
        CertificateSerialNumber: String, CrlDistributionPointUrls: String, CertificateCreationTime: DateTime,
        CertificateExpirationTime: DateTime, CertificateCountersignatureTime: DateTime, IsTrusted: Bool,
        IsRootSignerMicrosoft: Bool, ReportId: Long,
    ]
}

fn device_tvm_software_vulnerabilities() -> Vec<(&'static str, Kusto)> {
    cols![
        DeviceId: String, DeviceName: String, OSPlatform: String, OSVersion: String, OSArchitecture: String,
        SoftwareVendor: String, SoftwareName: String, SoftwareVersion: String, CveId: String,
        VulnerabilitySeverityLevel: String, RecommendedSecurityUpdate: String,
        RecommendedSecurityUpdateId: String, CveTags: Dynamic,
    ]
}

fn device_tvm_software_vulnerabilities_kb() -> Vec<(&'static str, Kusto)> {
    cols![
        CveId: String, CvssScore: String, IsExploitAvailable: Bool, VulnerabilitySeverityLevel: String,
        LastModifiedTime: DateTime, PublishedDate: DateTime, VulnerabilityDescription: String,
        AffectedSoftware: Dynamic,
    ]
}

fn device_tvm_secure_configuration_assessment() -> Vec<(&'static str, Kusto)> {
    cols![
        DeviceId: String, DeviceName: String, OSPlatform: String, Timestamp: DateTime, ConfigurationId: String,
        ConfigurationCategory: String, ConfigurationSubcategory: String, ConfigurationImpact: Real,
        IsCompliant: Bool, IsApplicable: Bool, Context: Dynamic, IsExpectedUserImpact: Bool,
    ]
}

fn device_tvm_secure_configuration_assessment_kb() -> Vec<(&'static str, Kusto)> {
    cols![
        ConfigurationId: String, ConfigurationImpact: Real, ConfigurationName: String,
        ConfigurationDescription: String, RiskDescription: String, ConfigurationCategory: String,
        ConfigurationSubcategory: String, ConfigurationBenchmarks: Dynamic, Tags: Dynamic,
        RemediationOptions: String,
    ]
}

fn device_tvm_software_inventory() -> Vec<(&'static str, Kusto)> {
    cols![
        DeviceId: String, DeviceName: String, OSPlatform: String, OSVersion: String, OSArchitecture: String,
        SoftwareVendor: String, SoftwareName: String, SoftwareVersion: String, EndOfSupportStatus: String,
        EndOfSupportDate: DateTime, ProductCodeCpe: String,
    ]
}

fn device_tvm_software_evidence_beta() -> Vec<(&'static str, Kusto)> {
    cols![
        DeviceId: String, SoftwareVendor: String, SoftwareName: String, SoftwareVersion: String,
        RegistryPaths: Dynamic, DiskPaths: Dynamic, LastSeenTime: String,
    ]
}

fn device_tvm_info_gathering() -> Vec<(&'static str, Kusto)> {
    cols![
        Timestamp: DateTime, LastSeenTime: DateTime, DeviceId: String, DeviceName: String, OSPlatform: String,
        AdditionalFields: Dynamic,
    ]
}

fn device_tvm_info_gathering_kb() -> Vec<(&'static str, Kusto)> {
    cols![IgId: String, FieldName: String, Description: String, Categories: Dynamic, DataStructure: String]
}

fn device_tvm_browser_extensions() -> Vec<(&'static str, Kusto)> {
    cols![
        DeviceId: String, BrowserName: String, ExtensionId: String, ExtensionName: String,
        ExtensionDescription: String, ExtensionVersion: String, ExtensionRisk: String, ExtensionVendor: String,
        IsActivated: String, InstallationTime: DateTime,
    ]
}

fn device_tvm_browser_extensions_kb() -> Vec<(&'static str, Kusto)> {
    cols![
        BrowserName: String, ExtensionId: String, ExtensionName: String, ExtensionDescription: String,
        ExtensionVersion: Dynamic, ExtensionRisk: String, PermissionId: String, PermissionName: String,
        PermissionDescription: String, PermissionRisk: String, IsPermissionRequired: String,
    ]
}

fn device_tvm_certificate_info() -> Vec<(&'static str, Kusto)> {
    cols![
        DeviceId: String, Thumbprint: String, Path: String, SerialNumber: String, IssuedTo: Dynamic,
        IssuedBy: Dynamic, FriendlyName: String, SignatureAlgorithm: String, KeySize: String,
        ExpirationDate: String, IssueDate: String, SubjectType: String, KeyUsage: String,
        ExtendedKeyUsage: String,
    ]
}

fn device_tvm_hardware_firmware() -> Vec<(&'static str, Kusto)> {
    cols![
        DeviceId: String, DeviceName: String, ComponentType: String, Manufacturer: String,
        ComponentName: String, ComponentFamily: String, ComponentVersion: String, AdditionalFields: Dynamic,
    ]
}

fn device_baseline_compliance_assessment() -> Vec<(&'static str, Kusto)> {
    cols![
        DeviceId: String, DeviceName: String, OSPlatform: String, OSVersion: String, ConfigurationId: String,
        ProfileId: String, IsCompliant: Bool, IsApplicable: Bool, Source: Dynamic, RecommendedValue: Dynamic,
        CurrentValue: Dynamic, IsExempt: Bool,
    ]
}

fn device_baseline_compliance_assessment_kb() -> Vec<(&'static str, Kusto)> {
    cols![
        ConfigurationId: String, ConfigurationName: String, ConfigurationDescription: String,
        ConfigurationRationale: String, ConfigurationCategory: String, BenchmarkProfileLevels: Dynamic,
        CCEReference: String, RemediationOptions: String, ConfigurationBenchmark: String, Source: Dynamic,
        RecommendedValue: Dynamic,
    ]
}

fn device_baseline_compliance_profiles() -> Vec<(&'static str, Kusto)> {
    cols![
        ProfileId: String, ProfileName: String, ProfileDescription: String, OSPlatform: Dynamic,
        OSVersion: String, BaseBenchmark: String, BenchmarkVersion: String, BenchmarkProfileLevel: String,
        Status: Bool, CreatedBy: String, CreatedOn: DateTime, LastUpdatedBy: String, LastUpdatedOn: DateTime,
    ]
}

fn registry() -> &'static Vec<TableDef> {
    static TABLES: OnceLock<Vec<TableDef>> = OnceLock::new();
    TABLES.get_or_init(|| {
        let with_tail = |mut v: Vec<(&'static str, Kusto)>| {
            v.extend(sentinel_tail());
            v
        };
        // The Sentinel copies of the vulnerability-management tables have no MachineGroup.
        let with_tvm_tail = |mut v: Vec<(&'static str, Kusto)>| {
            v.extend(sentinel_tail().into_iter().filter(|(n, _)| *n != "MachineGroup"));
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
            TableDef::new(DEVICE_INFO, {
                // DeviceInfo has its own MachineGroup; the Sentinel tail adds only the rest.
                let mut v = device_info();
                v.extend(sentinel_tail().into_iter().filter(|(n, _)| *n != "MachineGroup"));
                v
            }),
            TableDef::new(DEVICE_NETWORK_INFO, with_tail(device_network_info())),
            TableDef::new(DEVICE_FILE_CERTIFICATE_INFO, with_tail(device_file_certificate_info())),
            // Only these five vulnerability-management tables have a Sentinel copy; the other
            // Tvm and baseline tables exist in Defender alone, so they get no Sentinel columns.
            TableDef::new(
                DEVICE_TVM_SOFTWARE_VULNERABILITIES,
                with_tvm_tail(device_tvm_software_vulnerabilities()),
            ),
            TableDef::new(
                DEVICE_TVM_SOFTWARE_VULNERABILITIES_KB,
                with_tvm_tail(device_tvm_software_vulnerabilities_kb()),
            ),
            TableDef::new(
                DEVICE_TVM_SECURE_CONFIGURATION_ASSESSMENT,
                with_tvm_tail(device_tvm_secure_configuration_assessment()),
            ),
            TableDef::new(
                DEVICE_TVM_SECURE_CONFIGURATION_ASSESSMENT_KB,
                with_tvm_tail(device_tvm_secure_configuration_assessment_kb()),
            ),
            TableDef::new(
                DEVICE_TVM_SOFTWARE_INVENTORY,
                with_tvm_tail(device_tvm_software_inventory()),
            ),
            TableDef::new(DEVICE_TVM_SOFTWARE_EVIDENCE_BETA, device_tvm_software_evidence_beta()),
            TableDef::new(DEVICE_TVM_INFO_GATHERING, device_tvm_info_gathering()),
            TableDef::new(DEVICE_TVM_INFO_GATHERING_KB, device_tvm_info_gathering_kb()),
            TableDef::new(DEVICE_TVM_BROWSER_EXTENSIONS, device_tvm_browser_extensions()),
            TableDef::new(DEVICE_TVM_BROWSER_EXTENSIONS_KB, device_tvm_browser_extensions_kb()),
            TableDef::new(DEVICE_TVM_CERTIFICATE_INFO, device_tvm_certificate_info()),
            TableDef::new(DEVICE_TVM_HARDWARE_FIRMWARE, device_tvm_hardware_firmware()),
            TableDef::new(
                DEVICE_BASELINE_COMPLIANCE_ASSESSMENT,
                device_baseline_compliance_assessment(),
            ),
            TableDef::new(
                DEVICE_BASELINE_COMPLIANCE_ASSESSMENT_KB,
                device_baseline_compliance_assessment_kb(),
            ),
            TableDef::new(
                DEVICE_BASELINE_COMPLIANCE_PROFILES,
                device_baseline_compliance_profiles(),
            ),
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
            let has_time = t.column_index("Timestamp").is_some() || t.column_index("TimeGenerated").is_some();
            if has_time {
                assert!(tc == "Timestamp" || tc == "TimeGenerated", "{}", t.name());
            } else {
                assert_eq!(tc, t.columns()[0].0, "{}", t.name());
            }
        }
    }

    #[test]
    fn device_tables_have_timestamp_and_timegenerated() {
        // The Device tables event logs fill (the schema-only ones are checked below).
        let filled = |n: &str| n.starts_with("Device") && (n.ends_with("Events") || n == DEVICE_INFO);
        for t in tables().iter().filter(|t| filled(t.name())) {
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
    fn schema_only_tables() {
        // (table, columns of the Advanced Hunting reference, Sentinel columns appended)
        let expected = [
            (DEVICE_NETWORK_INFO, 16, 5),
            (DEVICE_FILE_CERTIFICATE_INFO, 18, 5),
            (DEVICE_TVM_SOFTWARE_VULNERABILITIES, 13, 4),
            (DEVICE_TVM_SOFTWARE_VULNERABILITIES_KB, 8, 4),
            (DEVICE_TVM_SECURE_CONFIGURATION_ASSESSMENT, 12, 4),
            (DEVICE_TVM_SECURE_CONFIGURATION_ASSESSMENT_KB, 10, 4),
            (DEVICE_TVM_SOFTWARE_INVENTORY, 11, 4),
            (DEVICE_TVM_SOFTWARE_EVIDENCE_BETA, 7, 0),
            (DEVICE_TVM_INFO_GATHERING, 6, 0),
            (DEVICE_TVM_INFO_GATHERING_KB, 5, 0),
            (DEVICE_TVM_BROWSER_EXTENSIONS, 10, 0),
            (DEVICE_TVM_BROWSER_EXTENSIONS_KB, 11, 0),
            (DEVICE_TVM_CERTIFICATE_INFO, 14, 0),
            (DEVICE_TVM_HARDWARE_FIRMWARE, 8, 0),
            (DEVICE_BASELINE_COMPLIANCE_ASSESSMENT, 12, 0),
            (DEVICE_BASELINE_COMPLIANCE_ASSESSMENT_KB, 11, 0),
            (DEVICE_BASELINE_COMPLIANCE_PROFILES, 13, 0),
        ];
        for (name, doc, tail) in expected {
            let t = table(name).expect(name);
            assert_eq!(t.columns().len(), doc + tail, "{name}");
            assert_eq!(t.column_index("TimeGenerated").is_some(), tail > 0, "{name}");
            assert_eq!(t.column_index("MachineGroup").is_some(), tail == 5, "{name}");
        }
        let t = table(DEVICE_TVM_SECURE_CONFIGURATION_ASSESSMENT).expect("table");
        assert_eq!(t.time_column(), "Timestamp");
        let t = table(DEVICE_TVM_SOFTWARE_INVENTORY).expect("table");
        assert_eq!(t.time_column(), "TimeGenerated");
        let t = table(DEVICE_TVM_CERTIFICATE_INFO).expect("table");
        assert_eq!(t.time_column(), "DeviceId");
        let s = arrow_schema(DEVICE_TVM_SOFTWARE_VULNERABILITIES).expect("table");
        assert_eq!(
            s.field_with_name("CveTags").expect("field").data_type(),
            &DataType::LargeUtf8
        );
        assert_eq!(
            table_ignore_case("devicetvmsoftwareinventory").map(TableDef::name),
            Some(DEVICE_TVM_SOFTWARE_INVENTORY)
        );
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
