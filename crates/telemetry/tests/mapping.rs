//! Mapping rules, one hand-written event per event ID (tests/data/events.xml) and its row.

mod common;

use std::collections::BTreeMap;

use common::{assert_cols, assert_null, data, row_where, table_rows};
use datafusion::arrow::record_batch::RecordBatch;
use serde_json::{Value, json};
use telemetry::map::device_id;
use telemetry::{ReadOptions, read_to_memory};

fn read_events() -> BTreeMap<String, Vec<RecordBatch>> {
    let path = data("events.xml");
    let (tables, report) = read_to_memory(&[path.to_string_lossy()], &ReadOptions::default()).expect("read");
    assert_eq!(report.skipped_total, 0, "{:#?}", report.skipped);
    assert_eq!(report.records(), 22);
    tables
}

fn additional(row: &common::TextRow) -> Value {
    serde_json::from_str(row.get("AdditionalFields").expect("AdditionalFields")).expect("json")
}

#[test]
fn every_event_lands_in_windows_event() {
    let t = read_events();
    let rows = table_rows(&t, "WindowsEvent");
    assert_eq!(rows.len(), 22);
    let r = row_where(&t, "WindowsEvent", "EventRecordId", "900");
    assert_cols(
        &r,
        &[
            ("Provider", "Service Control Manager"),
            ("EventID", "7045"),
            ("Channel", "System"),
            ("Computer", "srv01.corp.example"),
            ("EventLevel", "4"),
            ("EventLevelName", "Information"),
            ("SystemUserId", "S-1-5-21-1111111111-2222222222-3333333333-500"),
            ("TimeGenerated", "2024-05-02T09:16:55.0000000Z"),
            ("Type", "WindowsEvent"),
        ],
    );
    let ed: Value = serde_json::from_str(&r["EventData"]).expect("json");
    assert_eq!(ed["ServiceName"], json!("TeamViewer"));
    // Sysmon 5 has no Device table; it is kept here.
    let r = row_where(&t, "WindowsEvent", "EventRecordId", "104");
    assert_cols(&r, &[("EventID", "5")]);
}

#[test]
fn sysmon_1_process_create_with_parent_enrichment() {
    let t = read_events();
    let r = row_where(&t, "DeviceProcessEvents", "ReportId", "101");
    assert_cols(
        &r,
        &[
            ("Timestamp", "2024-05-02T09:15:21.4431230Z"),
            ("TimeGenerated", "2024-05-02T09:15:21.4431230Z"),
            ("DeviceName", "ws01.corp.example"),
            ("DeviceId", &device_id("ws01.corp.example")),
            ("ActionType", "ProcessCreated"),
            ("FileName", "AnyDesk.exe"),
            ("FolderPath", "C:\\Program Files (x86)\\AnyDesk\\AnyDesk.exe"),
            ("SHA1", "0123456789abcdef0123456789abcdef01234567"),
            ("MD5", "0123456789abcdef0123456789abcdef"),
            (
                "SHA256",
                "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
            ),
            ("ProcessVersionInfoCompanyName", "AnyDesk Software GmbH"),
            ("ProcessVersionInfoProductName", "AnyDesk"),
            ("ProcessVersionInfoProductVersion", "8.0.9"),
            ("ProcessVersionInfoOriginalFileName", "AnyDesk.exe"),
            ("ProcessVersionInfoFileDescription", "AnyDesk"),
            ("ProcessId", "7344"),
            (
                "ProcessCommandLine",
                "\"C:\\Program Files (x86)\\AnyDesk\\AnyDesk.exe\" --control",
            ),
            ("ProcessIntegrityLevel", "High"),
            ("ProcessCreationTime", "2024-05-02T09:15:21.4400000Z"),
            ("AccountDomain", "CORP"),
            ("AccountName", "alice"),
            ("LogonId", "12628641"),
            ("CreatedProcessSessionId", "1"),
            ("InitiatingProcessId", "6120"),
            ("InitiatingProcessFileName", "explorer.exe"),
            ("InitiatingProcessFolderPath", "C:\\Windows\\explorer.exe"),
            ("InitiatingProcessCommandLine", "C:\\Windows\\Explorer.EXE"),
            ("InitiatingProcessAccountDomain", "CORP"),
            ("InitiatingProcessAccountName", "alice"),
            ("ReportId", "101"),
            ("Type", "DeviceProcessEvents"),
            // From the parent's own process-create event (record 100):
            ("InitiatingProcessSHA1", "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"),
            ("InitiatingProcessMD5", "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb"),
            ("InitiatingProcessIntegrityLevel", "Medium"),
            ("InitiatingProcessLogonId", "12628641"),
            ("InitiatingProcessSessionId", "1"),
            ("InitiatingProcessCreationTime", "2024-05-02T09:15:20.0900000Z"),
            ("InitiatingProcessVersionInfoCompanyName", "Microsoft Corporation"),
            ("InitiatingProcessVersionInfoOriginalFileName", "EXPLORER.EXE"),
            ("InitiatingProcessParentId", "5980"),
            ("InitiatingProcessParentFileName", "userinit.exe"),
        ],
    );
    assert_null(
        &r,
        &[
            "FileSize",
            "AccountSid",
            "ProcessTokenElevation",
            "InitiatingProcessParentCreationTime",
            "AppGuardContainerId",
        ],
    );
    let af = additional(&r);
    assert_eq!(af["ProcessGuid"], json!("{1a2b3c4d-1111-6633-0a02-000000001f00}"));
    assert_eq!(af["Imphash"], json!("fedcba9876543210fedcba9876543210"));
    assert!(af.get("RuleName").is_none(), "'-' reads as empty");
    // Which log the row comes from: the same process creation can also be a Security 4688.
    assert_eq!(af["EventSource"], json!("Sysmon/1"));
    // The parent itself has no parent event in the evidence: only its own fields.
    let p = row_where(&t, "DeviceProcessEvents", "ReportId", "100");
    assert_cols(&p, &[("InitiatingProcessFileName", "userinit.exe")]);
    assert_null(&p, &["InitiatingProcessSHA1", "InitiatingProcessCreationTime"]);
}

#[test]
fn sysmon_3_network_outbound_and_inbound() {
    let t = read_events();
    let out = row_where(&t, "DeviceNetworkEvents", "ReportId", "102");
    assert_cols(
        &out,
        &[
            ("ActionType", "ConnectionSuccess"),
            ("LocalIP", "10.1.2.3"),
            ("LocalPort", "50123"),
            ("RemoteIP", "195.181.174.176"),
            ("RemotePort", "443"),
            ("RemoteUrl", "relay-1.net.anydesk.com"),
            ("Protocol", "Tcp"),
            ("LocalIPType", "Private"),
            ("RemoteIPType", "Public"),
            ("InitiatingProcessId", "7344"),
            ("InitiatingProcessFileName", "AnyDesk.exe"),
            ("InitiatingProcessAccountName", "alice"),
            // From the process's own create event (record 101):
            (
                "InitiatingProcessCommandLine",
                "\"C:\\Program Files (x86)\\AnyDesk\\AnyDesk.exe\" --control",
            ),
            ("InitiatingProcessSHA1", "0123456789abcdef0123456789abcdef01234567"),
            ("InitiatingProcessIntegrityLevel", "High"),
            ("InitiatingProcessCreationTime", "2024-05-02T09:15:21.4400000Z"),
            ("InitiatingProcessParentId", "6120"),
            ("InitiatingProcessParentFileName", "explorer.exe"),
            ("InitiatingProcessParentCreationTime", "2024-05-02T09:15:20.0900000Z"),
        ],
    );
    assert_eq!(additional(&out)["DestinationPortName"], json!("https"));
    let inb = row_where(&t, "DeviceNetworkEvents", "ReportId", "103");
    assert_cols(
        &inb,
        &[
            ("ActionType", "InboundConnectionAccepted"),
            ("LocalIP", "10.1.2.3"),
            ("LocalPort", "50001"),
            ("RemoteIP", "203.0.113.9"),
            ("RemotePort", "7070"),
            ("Protocol", "Udp"),
        ],
    );
    assert_null(&inb, &["RemoteUrl"]);
}

#[test]
fn sysmon_7_image_load() {
    let t = read_events();
    let r = row_where(&t, "DeviceImageLoadEvents", "ReportId", "105");
    assert_cols(
        &r,
        &[
            ("ActionType", "ImageLoaded"),
            ("FileName", "winhttp.dll"),
            ("FolderPath", "C:\\Windows\\System32\\winhttp.dll"),
            ("SHA1", "1111111111111111111111111111111111111111"),
            (
                "SHA256",
                "3333333333333333333333333333333333333333333333333333333333333333",
            ),
            ("InitiatingProcessFileName", "AnyDesk.exe"),
            ("InitiatingProcessId", "7344"),
            // Version info of the loading process comes from its create event, not the module.
            ("InitiatingProcessVersionInfoCompanyName", "AnyDesk Software GmbH"),
        ],
    );
    let af = additional(&r);
    assert_eq!(af["Signature"], json!("Microsoft Windows"));
    assert_eq!(af["Company"], json!("Microsoft Corporation"));
}

#[test]
fn sysmon_11_23_26_file_events() {
    let t = read_events();
    let created = row_where(&t, "DeviceFileEvents", "ReportId", "106");
    assert_cols(
        &created,
        &[
            ("ActionType", "FileCreated"),
            ("FileName", "service.conf.new"),
            (
                "FolderPath",
                "C:\\Users\\alice\\AppData\\Roaming\\AnyDesk\\service.conf.new",
            ),
            ("InitiatingProcessFileName", "AnyDesk.exe"),
            ("InitiatingProcessAccountName", "alice"),
        ],
    );
    assert_null(&created, &["SHA1", "RequestAccountName"]);
    let archived = row_where(&t, "DeviceFileEvents", "ReportId", "112");
    assert_cols(
        &archived,
        &[
            ("ActionType", "FileDeleted"),
            ("FileName", "ad.trace"),
            ("SHA1", "5555555555555555555555555555555555555555"),
            ("MD5", "66666666666666666666666666666666"),
        ],
    );
    assert_eq!(additional(&archived)["Archived"], json!("true"));
    let logged = row_where(&t, "DeviceFileEvents", "ReportId", "114");
    assert_cols(
        &logged,
        &[("ActionType", "FileDeleted"), ("FileName", "connection_trace.txt")],
    );
}

#[test]
fn sysmon_12_13_14_registry_events() {
    let t = read_events();
    let created = row_where(&t, "DeviceRegistryEvents", "ReportId", "107");
    assert_cols(
        &created,
        &[
            ("ActionType", "RegistryKeyCreated"),
            (
                "RegistryKey",
                "HKEY_LOCAL_MACHINE\\SYSTEM\\ControlSet001\\Services\\AnyDesk",
            ),
        ],
    );
    let deleted = row_where(&t, "DeviceRegistryEvents", "ReportId", "108");
    let key = "HKEY_CURRENT_USER\\S-1-5-21-1111111111-2222222222-3333333333-1001\\Software\\Microsoft\\Windows\\CurrentVersion\\Run";
    assert_cols(
        &deleted,
        &[
            ("ActionType", "RegistryValueDeleted"),
            ("RegistryKey", key),
            ("RegistryValueName", "OldAgent"),
            ("PreviousRegistryKey", key),
            ("PreviousRegistryValueName", "OldAgent"),
        ],
    );
    let set = row_where(&t, "DeviceRegistryEvents", "ReportId", "109");
    assert_cols(
        &set,
        &[
            ("ActionType", "RegistryValueSet"),
            (
                "RegistryKey",
                "HKEY_LOCAL_MACHINE\\SYSTEM\\ControlSet001\\Services\\AnyDesk",
            ),
            ("RegistryValueName", "Start"),
            ("RegistryValueType", "Dword"),
            ("RegistryValueData", "2"),
            ("InitiatingProcessFileName", "AnyDesk.exe"),
        ],
    );
    let renamed = row_where(&t, "DeviceRegistryEvents", "ReportId", "110");
    assert_cols(
        &renamed,
        &[
            ("ActionType", "RegistryKeyRenamed"),
            ("RegistryKey", "HKEY_LOCAL_MACHINE\\SOFTWARE\\Clients\\AnyDesk"),
            (
                "PreviousRegistryKey",
                "HKEY_LOCAL_MACHINE\\SOFTWARE\\Clients\\AnyDeskOld",
            ),
        ],
    );
}

#[test]
fn sysmon_22_dns_and_25_tampering() {
    let t = read_events();
    let dns = row_where(&t, "DeviceEvents", "ReportId", "111");
    assert_cols(
        &dns,
        &[
            ("ActionType", "DnsQueryResponse"),
            ("InitiatingProcessFileName", "AnyDesk.exe"),
            ("InitiatingProcessId", "7344"),
        ],
    );
    let af = additional(&dns);
    assert_eq!(af["DnsQueryString"], json!("relay-1.net.anydesk.com"));
    assert_eq!(
        af["DnsQueryResult"],
        json!([{"DnsQueryType": "CNAME", "Result": "relay.anydesk.com"},
               {"DnsQueryType": "A", "Result": "195.181.174.176"}])
    );
    assert_eq!(af["QueryStatus"], json!("0"));
    let tamper = row_where(&t, "DeviceEvents", "ReportId", "113");
    assert_cols(
        &tamper,
        &[
            ("ActionType", "ProcessTampering"),
            ("FileName", "svchost.exe"),
            ("ProcessId", "9001"),
        ],
    );
    assert_eq!(additional(&tamper)["Type"], json!("Image is replaced"));
}

#[test]
fn security_4688_v2_and_v1_with_pid_enrichment() {
    let t = read_events();
    let v2 = row_where(&t, "DeviceProcessEvents", "ReportId", "5000");
    assert_cols(
        &v2,
        &[
            ("ActionType", "ProcessCreated"),
            ("DeviceName", "srv01.corp.example"),
            ("FileName", "TeamViewer_Service.exe"),
            ("FolderPath", "C:\\Program Files\\TeamViewer\\TeamViewer_Service.exe"),
            ("ProcessId", "6700"),
            (
                "ProcessCommandLine",
                "\"C:\\Program Files\\TeamViewer\\TeamViewer_Service.exe\"",
            ),
            ("ProcessTokenElevation", "TokenElevationTypeDefault"),
            ("ProcessIntegrityLevel", "System"),
            ("ProcessCreationTime", "2024-05-02T09:17:00.1234567Z"),
            ("AccountSid", "S-1-5-18"),
            ("AccountName", "SRV01$"),
            ("AccountDomain", "CORP"),
            ("LogonId", "999"),
            ("InitiatingProcessId", "720"),
            ("InitiatingProcessFileName", "services.exe"),
            ("InitiatingProcessFolderPath", "C:\\Windows\\System32\\services.exe"),
            ("InitiatingProcessAccountSid", "S-1-5-18"),
            ("InitiatingProcessLogonId", "999"),
        ],
    );
    let v1 = row_where(&t, "DeviceProcessEvents", "ReportId", "5001");
    assert_cols(
        &v1,
        &[
            ("FileName", "cmd.exe"),
            ("ProcessId", "6912"),
            ("ProcessTokenElevation", "TokenElevationTypeFull"),
            ("AccountName", "admin"),
            ("LogonId", "390081"),
            ("InitiatingProcessId", "6700"),
            // v1 has no ParentProcessName: taken from the earlier 4688 of pid 0x1a2c.
            ("InitiatingProcessFileName", "TeamViewer_Service.exe"),
            (
                "InitiatingProcessCommandLine",
                "\"C:\\Program Files\\TeamViewer\\TeamViewer_Service.exe\"",
            ),
            ("InitiatingProcessCreationTime", "2024-05-02T09:17:00.1234567Z"),
            ("InitiatingProcessIntegrityLevel", "System"),
            ("InitiatingProcessParentId", "720"),
            ("InitiatingProcessParentFileName", "services.exe"),
        ],
    );
    assert_null(&v1, &["ProcessIntegrityLevel"]);
    assert_eq!(additional(&v2)["EventSource"], json!("Security/4688"));
    assert_eq!(additional(&v1)["EventSource"], json!("Security/4688"));
}

#[test]
fn security_4624_4625_logons() {
    let t = read_events();
    let ok = row_where(&t, "DeviceLogonEvents", "ReportId", "5002");
    assert_cols(
        &ok,
        &[
            ("ActionType", "LogonSuccess"),
            ("LogonType", "RemoteInteractive"),
            ("AccountName", "alice"),
            ("AccountDomain", "CORP"),
            ("AccountSid", "S-1-5-21-1111111111-2222222222-3333333333-1001"),
            ("LogonId", "9252624"),
            ("Protocol", "Negotiate"),
            ("RemoteIP", "198.51.100.7"),
            ("RemoteIPType", "Public"),
            ("RemoteDeviceName", "SRV01"),
            ("InitiatingProcessId", "712"),
            ("InitiatingProcessFileName", "svchost.exe"),
            ("InitiatingProcessAccountName", "SRV01$"),
        ],
    );
    assert_null(&ok, &["RemotePort", "FailureReason"]);
    let bad = row_where(&t, "DeviceLogonEvents", "ReportId", "5003");
    assert_cols(
        &bad,
        &[
            ("ActionType", "LogonFailed"),
            ("LogonType", "Network"),
            ("AccountName", "administrator"),
            ("FailureReason", "0xc000006a"),
            ("RemotePort", "51515"),
            ("RemoteDeviceName", "KALI"),
            ("Protocol", "NTLM"),
        ],
    );
    assert_null(
        &bad,
        &[
            "InitiatingProcessId",
            "InitiatingProcessFileName",
            "InitiatingProcessAccountName",
        ],
    );
}

#[test]
fn security_5156_connection() {
    let t = read_events();
    let r = row_where(&t, "DeviceNetworkEvents", "ReportId", "5004");
    assert_cols(
        &r,
        &[
            ("ActionType", "ConnectionSuccess"),
            ("LocalIP", "10.1.2.4"),
            ("LocalPort", "50555"),
            ("RemoteIP", "37.252.230.145"),
            ("RemotePort", "5938"),
            ("Protocol", "Tcp"),
            ("InitiatingProcessId", "6700"),
            ("InitiatingProcessFileName", "teamviewer_service.exe"),
        ],
    );
    assert_eq!(additional(&r)["LayerName"], json!("%%14611"));
}

#[test]
fn system_7045_service_installed() {
    let t = read_events();
    let r = row_where(&t, "DeviceEvents", "ReportId", "900");
    assert_cols(
        &r,
        &[
            ("ActionType", "ServiceInstalled"),
            ("FileName", "TeamViewer_Service.exe"),
            ("FolderPath", "C:\\Program Files\\TeamViewer\\TeamViewer_Service.exe"),
            (
                "InitiatingProcessAccountSid",
                "S-1-5-21-1111111111-2222222222-3333333333-500",
            ),
        ],
    );
    let af = additional(&r);
    assert_eq!(af["ServiceName"], json!("TeamViewer"));
    assert_eq!(af["ServiceAccount"], json!("LocalSystem"));
    assert_eq!(af["ServiceStartType"], json!("auto start"));
    assert_eq!(af["ServiceType"], json!("user mode service"));
    assert_eq!(af["EventSource"], json!("System/7045"));
}

#[test]
fn security_channel_events_land_in_security_event() {
    let t = read_events();
    let rows = table_rows(&t, "SecurityEvent");
    assert_eq!(rows.len(), 6, "4688 x2, 4624, 4625, 5156, 4672");
    let r = rows
        .iter()
        .find(|r| r.get("EventID").map(String::as_str) == Some("4672"))
        .expect("4672");
    assert_cols(
        r,
        &[
            ("Activity", "4672 - Special privileges assigned to new logon."),
            ("Account", "CORP\\alice"),
            ("AccountType", "User"),
            ("SubjectLogonId", "0x8d2f10"),
            ("Computer", "srv01.corp.example"),
            ("EventSourceName", "Microsoft-Windows-Security-Auditing"),
            ("Type", "SecurityEvent"),
        ],
    );
    assert!(r["EventData"].starts_with("<EventData"));
    let logon = rows
        .iter()
        .find(|r| r.get("EventID").map(String::as_str) == Some("4624"))
        .expect("4624");
    assert_cols(
        logon,
        &[
            ("LogonType", "10"),
            ("LogonTypeName", "10 - RemoteInteractive"),
            ("TargetUserName", "alice"),
            ("IpAddress", "198.51.100.7"),
            ("Account", "CORP\\alice"),
        ],
    );
}
