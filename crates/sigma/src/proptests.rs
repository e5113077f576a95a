//! Property tests: the literal prefilter never changes results (prefiltered scanning equals
//! exhaustive evaluation), and arbitrary or mangled rule text never panics.

use proptest::prelude::*;

use crate::collection::RuleSet;
use crate::event::{Event, FieldValue};

const FIELDS: [&str; 3] = ["A", "B", "C"];
const MODS: [&str; 12] = [
    "",
    "|contains",
    "|startswith",
    "|endswith",
    "|contains|all",
    "|re",
    "|re|i",
    "|windash|contains",
    "|cased|contains",
    "|neq",
    "|contains|neq",
    "|endswith|cased",
];
const WORDS: [&str; 10] = ["ab", "AB", "b*c", "x?y", "-q", "/q", "bc", "q", "a\\*", "abc"];
const CONDS: [&str; 8] = [
    "s0",
    "s0 and not s1",
    "1 of s*",
    "all of s*",
    "s0 or s1",
    "not s0",
    "(s0 or s1) and not s2",
    "2 of them",
];

fn value_text() -> impl Strategy<Value = String> {
    prop::collection::vec(
        prop::sample::select(&["a", "b", "c", "A", "B", "x", "y", "q", "-", "/", "\u{2013}", " ", "*"][..]),
        0..7,
    )
    .prop_map(|v| v.concat())
}

#[derive(Debug, Clone)]
struct RuleSpec {
    selections: Vec<Vec<(usize, usize, Vec<usize>)>>,
    cond: usize,
}

fn rule_spec() -> impl Strategy<Value = RuleSpec> {
    let item = (
        0..FIELDS.len(),
        0..MODS.len(),
        prop::collection::vec(0..WORDS.len(), 1..3),
    );
    let selection = prop::collection::vec(item, 1..3);
    (prop::collection::vec(selection, 3..=3), 0..CONDS.len())
        .prop_map(|(selections, cond)| RuleSpec { selections, cond })
}

fn rule_yaml(i: usize, spec: &RuleSpec) -> String {
    let mut y =
        format!("title: r{i}\nid: r{i}\nlogsource: {{category: process_creation, product: windows}}\ndetection:\n");
    for (si, sel) in spec.selections.iter().enumerate() {
        y.push_str(&format!("  s{si}:\n"));
        for (n, (f, m, words)) in sel.iter().enumerate() {
            // distinct keys within a map: suffix unused modifiers are not allowed, so vary the field
            let field = if n == 0 {
                FIELDS[*f].to_owned()
            } else {
                format!("{}{}", FIELDS[*f], n)
            };
            let mut mods = MODS[*m];
            if words.len() < 2 && mods.contains("|all") {
                mods = "|contains";
            }
            let vals: Vec<String> = words
                .iter()
                .map(|w| format!("'{}'", WORDS[*w].replace('\'', "''")))
                .collect();
            y.push_str(&format!("    {field}{mods}: [{}]\n", vals.join(", ")));
        }
    }
    y.push_str(&format!("  condition: {}\n", CONDS[spec.cond]));
    y
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(200))]

    #[test]
    fn prefilter_agrees_with_exhaustive_evaluation(
        specs in prop::collection::vec(rule_spec(), 1..6),
        events in prop::collection::vec(prop::collection::vec((0..6usize, value_text()), 0..5), 1..6),
    ) {
        let mut set = RuleSet::new();
        for (i, s) in specs.iter().enumerate() {
            set.add_text(&rule_yaml(i, s), format!("r{i}.yml"));
        }
        prop_assert!(set.rejected().iter().all(|e| matches!(e.kind, crate::error::ErrorKind::Regex(_))), "{:?}", set.rejected());
        let compiled = set.compile();
        let mut fast = compiled.scanner();
        let mut slow = compiled.scanner().without_prefilter();
        let names = ["A", "B", "C", "A1", "B1", "C1"];
        for fields in &events {
            let mut ev = Event::new().with_channel("Microsoft-Windows-Sysmon/Operational").with_event_id(1);
            for (f, v) in fields {
                ev.push(names[*f], FieldValue::str(v));
            }
            let (mut a, mut b) = (Vec::new(), Vec::new());
            fast.scan(&ev, &mut a);
            slow.scan(&ev, &mut b);
            prop_assert_eq!(a, b);
        }
    }

    #[test]
    fn arbitrary_text_never_panics(text in "\\PC{0,300}") {
        let mut set = RuleSet::new();
        set.add_text(&text, "x.yml");
        let c = set.compile();
        let ev = Event::new().with_channel("Security").with_event_id(4688).with_str("A", "b");
        let _ = c.matches(&ev).count();
    }

    #[test]
    fn mangled_rules_never_panic(
        key in "[A-Za-z|_*]{0,12}",
        mods in prop::collection::vec(prop::sample::select(&[
            "contains", "startswith", "endswith", "all", "base64", "base64offset", "utf16le", "utf16be",
            "utf16", "wide", "windash", "re", "i", "m", "s", "cidr", "exists", "expand", "fieldref",
            "gt", "gte", "lt", "lte", "neq", "cased", "hour", "week", "bogus",
        ][..]), 0..4),
        values in prop::collection::vec("[a-z0-9*?\\\\%/.:-]{0,10}|null|true|[0-9]{1,4}", 1..4),
        cond in "[a-z0-9_* ()]{0,30}|selection|1 of sel*|all of them",
    ) {
        let vals = values.iter().map(|v| if v == "null" || v == "true" || v.chars().all(|c| c.is_ascii_digit()) && !v.is_empty() { v.clone() } else { format!("'{}'", v.replace('\'', "''")) }).collect::<Vec<_>>();
        let k = if mods.is_empty() { key.clone() } else { format!("{key}|{}", mods.join("|")) };
        let text = format!(
            "title: t\nlogsource: {{category: process_creation, product: windows}}\ndetection:\n  selection:\n    '{}': [{}]\n  condition: {}\n",
            k.replace('\'', "''"), vals.join(", "), cond
        );
        let mut set = RuleSet::new();
        set.add_text(&text, "x.yml");
        let c = set.compile();
        let ev = Event::new()
            .with_channel("Microsoft-Windows-Sysmon/Operational")
            .with_event_id(1)
            .with_str("A", "10.0.0.1")
            .with_str("UtcTime", "2024-01-01 10:00:00")
            .with_field("N", FieldValue::Int(5));
        let _ = c.matches(&ev).count();
    }
}
