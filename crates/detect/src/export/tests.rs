//! Tests of the Sigma export: every rule parses and compiles in ratcatcher's Sigma engine,
//! ids are stable and unique, and the rules match the events they are for and not others.

use super::*;
use sigma::{Event, FieldValue, RuleSet};

fn exported() -> Export {
    export_builtin()
}

fn ruleset(e: &Export) -> RuleSet {
    let mut set = RuleSet::new();
    for r in &e.rules {
        set.add_text(&r.yaml, &r.file);
    }
    set
}

#[test]
fn every_rule_parses_and_ids_are_unique_and_stable() {
    let e = exported();
    assert!(e.rules.len() > 300, "{} rules", e.rules.len());
    let set = ruleset(&e);
    assert!(set.rejected().is_empty(), "{:?}", set.rejected().first());
    assert_eq!(set.rules().len() + set.correlations().len(), e.rules.len());
    let mut ids: Vec<&str> = e.rules.iter().map(|r| r.id.as_str()).collect();
    ids.sort_unstable();
    ids.dedup();
    assert_eq!(ids.len(), e.rules.len());
    let again = exported();
    assert_eq!(
        e.rules.iter().map(|r| &r.yaml).collect::<Vec<_>>(),
        again.rules.iter().map(|r| &r.yaml).collect::<Vec<_>>()
    );
    assert_eq!(stable_id("x"), stable_id("x"));
    assert_ne!(stable_id("x"), stable_id("y"));
    assert_eq!(stable_id("x").len(), 36);
    assert_eq!(&stable_id("x")[14..15], "5");
}

#[test]
fn every_family_is_exported_and_the_rest_is_named() {
    let e = exported();
    for f in FAMILIES {
        assert!(e.rules.iter().any(|r| r.family == f.name), "{}", f.name);
    }
    assert!(e.rules.iter().any(|r| r.family == "correlation"));
    let (pack, _) = crate::rule::builtin_pack();
    // every pack rule is either exported or named with a reason
    for r in &pack {
        let exported = e.rules.iter().any(|x| x.pack_rule == r.id);
        let named = e.not_exported.iter().any(|(id, _)| *id == r.id);
        assert!(exported || named, "{} neither exported nor named", r.id);
    }
    let m: serde_json::Value = serde_json::from_str(&e.manifest_json()).unwrap();
    assert_eq!(m["rules"].as_array().unwrap().len(), e.rules.len());
}

fn sysmon(id: u32) -> Event<'static> {
    Event::new()
        .with_channel("Microsoft-Windows-Sysmon/Operational")
        .with_event_id(id)
}

fn matching(e: &Export, event: &Event<'_>) -> Vec<String> {
    let set = ruleset(e);
    let compiled = set.compile();
    let mut out: Vec<String> = compiled
        .matches(event)
        .filter_map(|id| compiled.rule(id))
        .map(|r| r.path.display().to_string())
        .collect();
    out.sort();
    out
}

#[test]
fn rules_match_their_events_and_not_others() {
    let e = exported();
    let anydesk = sysmon(1).with_field("Image", FieldValue::str(r"C:\Users\bob\Downloads\AnyDesk.exe"));
    assert!(matching(&e, &anydesk).contains(&"process-image/anydesk.yml".to_string()));
    let notepad = sysmon(1).with_field("Image", FieldValue::str(r"C:\Windows\notepad.exe"));
    assert!(matching(&e, &notepad).is_empty());
    // a variant of the tool's name carrying its original name is the tool, not a rename
    let variant = sysmon(1)
        .with_field("Image", FieldValue::str(r"C:\Users\bob\Downloads\AnyDesk (1).exe"))
        .with_field("OriginalFileName", FieldValue::str("AnyDesk.exe"));
    assert_eq!(
        matching(&e, &variant),
        vec!["process-name-variant/anydesk.yml".to_string()]
    );
    // a generic name counts only with the tool's vendor as the company
    let tool = catalog::builtin()
        .into_iter()
        .find(|t| {
            !t.builtin
                && !t.ambiguous_executables.is_empty()
                && !t.signers.is_empty()
                && t.executables.is_empty()
                && t.original_file_names.is_empty()
        })
        .expect("a tool known by a generic name and a signer");
    let generic = format!(r"C:\Program Files\X\{}", tool.ambiguous_executables[0]);
    let signed = sysmon(1)
        .with_field("Image", FieldValue::Str(generic.clone().into()))
        .with_field("Company", FieldValue::Str(tool.signers[0].clone().into()));
    assert!(
        matching(&e, &signed).contains(&format!("process-signed-name/{}.yml", tool.id)),
        "{}",
        tool.id
    );
    let unsigned = sysmon(1)
        .with_field("Image", FieldValue::Str(generic.into()))
        .with_field("Company", FieldValue::str("Someone Else Ltd"));
    assert!(!matching(&e, &unsigned).contains(&format!("process-signed-name/{}.yml", tool.id)));
    // a renamed AnyDesk, and the real one which is not a rename
    let renamed = sysmon(1)
        .with_field("Image", FieldValue::str(r"C:\Users\Public\svchost.exe"))
        .with_field("OriginalFileName", FieldValue::str("AnyDesk.exe"));
    assert!(matching(&e, &renamed).contains(&"renamed-binary/anydesk.yml".to_string()));
    let genuine = sysmon(1)
        .with_field("Image", FieldValue::str(r"C:\Program Files\AnyDesk\AnyDesk.exe"))
        .with_field("OriginalFileName", FieldValue::str("AnyDesk.exe"));
    assert!(!matching(&e, &genuine).iter().any(|f| f.starts_with("renamed-binary/")));
    // DNS: a sub-domain from a non-browser process, not from a browser
    let dns = |image: &'static str| {
        sysmon(22)
            .with_field("QueryName", FieldValue::str("relay-1.net.anydesk.com"))
            .with_field("Image", FieldValue::str(image))
    };
    assert!(matching(&e, &dns(r"C:\Temp\x.exe")).contains(&"dns-domain/anydesk.yml".to_string()));
    assert!(matching(&e, &dns(r"C:\Program Files\Google\Chrome\chrome.exe")).is_empty());
    // the bare suffix is not below it ("*.anydesk.com" does not hold "xanydesk.com")
    let other = sysmon(22)
        .with_field("QueryName", FieldValue::str("notanydesk.com"))
        .with_field("Image", FieldValue::str(r"C:\Temp\x.exe"));
    assert!(!matching(&e, &other).contains(&"dns-domain/anydesk.yml".to_string()));
    // an autostart value starting the tool, and one starting something else
    let run = |data: &'static str| {
        sysmon(13)
            .with_field(
                "TargetObject",
                FieldValue::str(r"HKU\S-1-5-21-1\Software\Microsoft\Windows\CurrentVersion\Run\Helper"),
            )
            .with_field("Details", FieldValue::str(data))
    };
    assert!(
        matching(&e, &run(r#""C:\Users\bob\AppData\Roaming\AnyDesk.exe" --tray"#))
            .contains(&"registry-autostart/anydesk.yml".to_string())
    );
    assert!(matching(&e, &run(r"C:\Windows\notepad.exe")).is_empty());
    // a service install (System 7045)
    let svc = Event::new()
        .with_channel("System")
        .with_event_id(7045)
        .with_field("Provider_Name", FieldValue::str("Service Control Manager"))
        .with_field("ServiceName", FieldValue::str("AnyDesk Service"))
        .with_field(
            "ImagePath",
            FieldValue::str(r#""C:\Program Files (x86)\AnyDesk\AnyDesk.exe" --service"#),
        );
    assert!(matching(&e, &svc).contains(&"service-install/anydesk.yml".to_string()));
}

#[test]
fn long_lists_are_split_with_stable_part_ids() {
    let mut t: Tool = catalog::builtin().into_iter().find(|t| t.id == "anydesk").unwrap();
    t.executables = (0..250).map(|i| format!("tool{i:03}.exe")).collect();
    t.executable_patterns.clear();
    let e = export_sigma(std::slice::from_ref(&t), &|_| Vec::new());
    let parts: Vec<&ExportedRule> = e.rules.iter().filter(|r| r.family == "process-image").collect();
    assert_eq!(parts.len(), 3);
    assert_eq!(parts[0].file, "process-image/anydesk-part1.yml");
    assert!(parts[2].yaml.contains("tool249.exe") && !parts[0].yaml.contains("tool249.exe"));
    let set = ruleset(&e);
    assert!(set.rejected().is_empty());
    // each image name is in exactly one part
    let total: usize = parts.iter().map(|p| p.yaml.matches("      - '\\tool").count()).sum();
    assert_eq!(total, 250);
    // the variant rule (original names, here long too, AND name stems) keeps both fields in
    // every part
    let variants: Vec<&ExportedRule> = e.rules.iter().filter(|r| r.family == "process-name-variant").collect();
    assert_eq!(variants.len(), 3);
    for p in &variants {
        assert!(p.yaml.contains("OriginalFileName") && p.yaml.contains("Image|contains"));
    }
    // a long list inside a selection of several fields keeps the other fields in every part
    let mut t2 = t.clone();
    t2.executables.clear();
    t2.ambiguous_executables = (0..150).map(|i| format!("gen{i:03}.exe")).collect();
    t2.signers = vec!["AnyDesk Software GmbH".into()];
    let e = export_sigma(std::slice::from_ref(&t2), &|_| Vec::new());
    let parts: Vec<&ExportedRule> = e.rules.iter().filter(|r| r.family == "process-signed-name").collect();
    assert_eq!(parts.len(), 2);
    for p in &parts {
        assert!(p.yaml.contains("Company: 'AnyDesk Software GmbH'"), "{}", p.yaml);
    }
    assert!(ruleset(&e).rejected().is_empty());
}

#[test]
fn registry_fragments_drop_the_hive_and_control_set() {
    assert_eq!(
        registry_fragment(r"HKLM\SYSTEM\CurrentControlSet\Services\AnyDesk").as_deref(),
        Some(r"\services\anydesk")
    );
    assert_eq!(
        registry_fragment(r"HKLM\SOFTWARE\WOW6432Node\TeamViewer\*").as_deref(),
        Some(r"\software\teamviewer")
    );
    assert_eq!(registry_fragment(r"HKCU\Software\x"), None);
}

#[test]
fn falsepositives_come_from_the_guide() {
    let guide =
        "# x\n## Known false positives\n- Sanctioned `RMM` agents run\n  as services.\n- Two\n## Next\n- not this\n";
    assert_eq!(
        guide_falsepositives(guide),
        vec!["Sanctioned RMM agents run as services.".to_string(), "Two".to_string()]
    );
}

#[test]
fn lookup_csv_quotes_and_sorts() {
    let tools = catalog::builtin();
    let csv = catalog_lookup(&tools, LookupStyle::Watchlist);
    assert!(csv.starts_with("SearchKey,Kind,ToolId,ToolName,ToolCategory\n"));
    assert!(csv.contains("anydesk.exe,executable,anydesk,AnyDesk,"));
    let lookup = catalog_lookup(&tools, LookupStyle::Lookup);
    assert!(lookup.starts_with("indicator,kind,tool_id"));
    assert_eq!(csv.lines().count(), lookup.lines().count());
}
