//! `hunt --report case.html` end to end: the HTML case report instead of the JSON summary, with
//! hostile evidence text escaped, the same bytes on every run, and `.json` reports unchanged.

use std::path::{Path, PathBuf};
use std::process::Command;

fn repo(rel: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..").join(rel)
}

/// Runs `hunt EVIDENCE --report REPORT -o /dev/null` and returns the exit code.
fn hunt(evidence: &Path, extra: &[&str], report: &Path) -> i32 {
    let out = Command::new(env!("CARGO_BIN_EXE_ratcatcher"))
        .arg("hunt")
        .arg(evidence)
        .args(extra)
        .arg("--report")
        .arg(report)
        .args(["-o", "/dev/null"])
        .output()
        .expect("run ratcatcher");
    out.status.code().unwrap_or(-1)
}

/// One Sysmon process creation of the example (AnyDesk run from Temp), with a hostile command
/// line and host name.
fn hostile_evidence(dir: &Path) -> PathBuf {
    let text = std::fs::read_to_string(repo("examples/evidence/wef/sysmon-operational.xml")).expect("example");
    let event = text
        .lines()
        .find(|l| l.contains("<EventID>1</EventID>") && l.contains("anydesk_test.exe\"</Data>"))
        .expect("AnyDesk process event");
    let event = event
        .replace(
            "<Data Name=\"CommandLine\">\"C:\\Users\\ehartmann\\AppData\\Local\\Temp\\anydesk_test.exe\"</Data>",
            "<Data Name=\"CommandLine\">\"C:\\Users\\ehartmann\\AppData\\Local\\Temp\\anydesk_test.exe\" &lt;script&gt;alert(1)&lt;/script&gt; --x=\"&amp;&quot;&apos;\"</Data>",
        )
        .replace(
            "<Computer>FIN-WS-07.contoso.local</Computer>",
            "<Computer>FIN-&lt;img src=x onerror=alert(2)&gt;</Computer>",
        );
    assert!(event.contains("&lt;script&gt;"), "command line replaced");
    let path = dir.join("sysmon.xml");
    std::fs::write(
        &path,
        format!("<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<Events>\n{event}\n</Events>\n"),
    )
    .expect("write evidence");
    path
}

#[test]
fn html_report_escapes_hostile_evidence() {
    let dir = tempfile::tempdir().expect("tempdir");
    let evidence = hostile_evidence(dir.path());
    let report = dir.path().join("case.HTM");
    assert_eq!(hunt(&evidence, &[], &report), 1, "alerts found");
    let html = std::fs::read_to_string(&report).expect("report");
    assert!(html.starts_with("<!DOCTYPE html>"));
    assert!(
        html.contains("&lt;script&gt;alert(1)&lt;/script&gt;"),
        "command line shown as text"
    );
    assert!(
        html.contains("FIN-&lt;img src=x onerror=alert(2)&gt;"),
        "host shown as text"
    );
    assert_eq!(html.matches("<script").count(), 1, "only the report's own script");
    assert!(!html.contains("<img"));
    assert_eq!(
        html.matches("<g class=\"lane\"").count(),
        1,
        "one lane for the one host"
    );
    for id in ["overview", "timeline", "cards", "alerts", "suppressed"] {
        assert!(html.contains(&format!("<section id=\"{id}\">")), "section {id}");
    }
    assert!(html.contains("<dd data-key=\"files_read\">1</dd>"));
}

#[test]
fn html_report_of_the_example_is_deterministic_and_json_stays_json() {
    let dir = tempfile::tempdir().expect("tempdir");
    let evidence = repo("examples/evidence");
    let tuning = repo("examples/tuning.toml");
    let tuning = ["--config", tuning.to_str().expect("path")];
    let (a, b, json) = (
        dir.path().join("a.html"),
        dir.path().join("b.html"),
        dir.path().join("r.json"),
    );
    assert_eq!(hunt(&evidence, &tuning, &a), 1);
    assert_eq!(hunt(&evidence, &tuning, &b), 1);
    assert_eq!(hunt(&evidence, &tuning, &json), 1);
    let (a, b) = (std::fs::read(&a).expect("a"), std::fs::read(&b).expect("b"));
    assert!(a == b, "two runs wrote different reports");
    let summary: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&json).expect("json")).expect("JSON summary");
    let html = String::from_utf8(a).expect("utf-8");
    let alerts = summary["summary"]["alerts"].as_u64().expect("alerts");
    let suppressed = summary["summary"]["suppressed"].as_u64().expect("suppressed");
    assert!(alerts > 0 && suppressed > 0);
    assert_eq!(
        html.matches("<tr data-severity=").count() as u64,
        alerts + 4,
        "table rows + severity bars"
    );
    assert!(html.contains(&format!("<dd data-key=\"alerts\">{alerts}</dd>")));
    assert!(html.contains(&format!(
        "<section id=\"suppressed\"><h2>Suppressed by tuning ({suppressed})</h2>"
    )));
    // The pack's guides are rendered from Markdown.
    assert!(html.contains("<details class=\"guide\">"));
    assert!(html.contains("<pre><code>DeviceProcessEvents"));
}
