//! Rule tests: a case names evidence files and the exact alerts the whole pack must raise on them
//! (and those tuning must suppress); checking compares counts per rule and the `where` values.

use crate::alert::Alert;
use serde::Deserialize;
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// One expected group of alerts.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Expect {
    /// The rule whose alerts are counted.
    pub rule: String,
    /// How many alerts it must raise.
    pub count: usize,
    /// Column values the counted alerts must have (`where` in the file).
    #[serde(default, rename = "where")]
    pub where_: BTreeMap<String, Value>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct CaseFile {
    name: String,
    #[serde(default)]
    description: Option<String>,
    evidence: Vec<String>,
    #[serde(default)]
    now: Option<String>,
    #[serde(default)]
    config: Option<String>,
    expect: Vec<Expect>,
    #[serde(default)]
    suppressed: Vec<Expect>,
}

/// A test case, paths resolved against its file.
#[derive(Debug, Clone)]
pub struct TestCase {
    /// The case file.
    pub path: PathBuf,
    /// The case's name.
    pub name: String,
    /// What the case tests.
    pub description: Option<String>,
    /// The evidence files and folders.
    pub evidence: Vec<PathBuf>,
    /// `now()` of the rules (ISO 8601), when the case fixes it.
    pub now: Option<String>,
    /// The tuning file the case applies.
    pub config: Option<PathBuf>,
    /// The alerts the rules must raise.
    pub expect: Vec<Expect>,
    /// The alerts the tuning must suppress.
    pub suppressed: Vec<Expect>,
}

/// Why a case file could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum CaseError {
    /// The file could not be read.
    #[error("{0}")]
    Read(#[from] std::io::Error),
    /// The file is not YAML of a case's shape (the message starts with the line and column when
    /// known).
    #[error("{}{source}", crate::rule::yaml_at(source))]
    Yaml {
        /// The YAML parser's error.
        #[from]
        source: serde_norway::Error,
    },
}

impl TestCase {
    /// Reads a case file.
    pub fn load(path: &Path) -> Result<TestCase, CaseError> {
        let text = std::fs::read_to_string(path)?;
        let f: CaseFile = serde_norway::from_str(&text)?;
        let dir = path.parent().unwrap_or(Path::new("."));
        Ok(TestCase {
            path: path.to_path_buf(),
            name: f.name,
            description: f.description,
            evidence: f.evidence.iter().map(|e| dir.join(e)).collect(),
            now: f.now,
            config: f.config.map(|c| dir.join(c)),
            expect: f.expect,
            suppressed: f.suppressed,
        })
    }

    /// Every rule the case names.
    pub fn rules(&self) -> BTreeSet<&str> {
        self.expect
            .iter()
            .chain(&self.suppressed)
            .map(|e| e.rule.as_str())
            .collect()
    }

    /// Compares the alerts raised (and suppressed) with the expectations; one line per mismatch.
    pub fn check(&self, alerts: &[Alert], suppressed: &[Alert]) -> Vec<String> {
        let mut problems = check_set("alerts", &self.expect, alerts);
        problems.extend(check_set("suppressed alerts", &self.suppressed, suppressed));
        problems
    }
}

fn value_matches(actual: Option<&Value>, expected: &Value) -> bool {
    match (actual, expected) {
        (None, Value::Null) => true,
        (None, _) => false,
        (Some(a), e) if a == e => true,
        (Some(Value::String(a)), Value::String(e)) => a == e,
        (Some(a), Value::String(e)) => {
            let text = a.to_string();
            text == *e
        }
        (Some(Value::String(a)), e) => {
            let text = e.to_string();
            *a == text
        }
        (Some(Value::Number(a)), Value::Number(e)) => a.as_f64() == e.as_f64(),
        _ => false,
    }
}

fn meets(alert: &Alert, cond: &BTreeMap<String, Value>) -> bool {
    cond.iter().all(|(k, v)| {
        let actual = match k.as_str() {
            "device" => alert.device.clone().map(Value::String),
            "account" => alert.account.clone().map(Value::String),
            "tool" => alert.tool.clone().map(Value::String),
            "category" => alert.category.clone().map(Value::String),
            "signal" => alert.signal.clone().map(Value::String),
            "time" => alert.time.clone().map(Value::String),
            "sources" => Some(Value::Array(alert.sources.iter().cloned().map(Value::String).collect())),
            _ => alert.row.get(k).cloned(),
        };
        value_matches(actual.as_ref(), v)
    })
}

fn describe(a: &Alert) -> String {
    format!(
        "{} at {} on {} ({})",
        a.rule.id,
        a.time.as_deref().unwrap_or("?"),
        a.device.as_deref().unwrap_or("?"),
        a.tool.as_deref().or(a.signal.as_deref()).unwrap_or("?")
    )
}

fn check_set(what: &str, expect: &[Expect], alerts: &[Alert]) -> Vec<String> {
    let mut problems = Vec::new();
    let mut by_rule: BTreeMap<&str, Vec<&Alert>> = BTreeMap::new();
    for a in alerts {
        by_rule.entry(a.rule.id.as_str()).or_default().push(a);
    }
    let mut expected_total: BTreeMap<&str, usize> = BTreeMap::new();
    for e in expect {
        *expected_total.entry(e.rule.as_str()).or_default() += e.count;
    }
    let rules: BTreeSet<&str> = by_rule.keys().copied().chain(expected_total.keys().copied()).collect();
    for rule in rules {
        let got = by_rule.get(rule).map_or(&[][..], |v| v.as_slice());
        let want = expected_total.get(rule).copied().unwrap_or(0);
        if got.len() != want {
            let mut line = format!("{rule}: {} {what}, expected {want}", got.len());
            for a in got.iter().take(5) {
                line.push_str(&format!("\n      got: {}", describe(a)));
            }
            problems.push(line);
        }
    }
    for e in expect.iter().filter(|e| !e.where_.is_empty()) {
        let n = by_rule
            .get(e.rule.as_str())
            .map_or(0, |v| v.iter().filter(|a| meets(a, &e.where_)).count());
        if n != e.count {
            problems.push(format!(
                "{}: {n} {what} with {}, expected {}",
                e.rule,
                serde_json::to_string(&e.where_).unwrap_or_default(),
                e.count
            ));
        }
    }
    problems
}

/// Finds test case files: files as given, folders recursively (`*.yaml` / `*.yml` directly under a
/// `tests` folder or given explicitly), sorted.
pub fn discover(paths: &[PathBuf]) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for p in paths {
        if p.is_dir() {
            let mut found: Vec<PathBuf> = walkdir::WalkDir::new(p)
                .into_iter()
                .filter_map(Result::ok)
                .filter(|e| e.file_type().is_file())
                .map(|e| e.into_path())
                .filter(|f| {
                    matches!(f.extension().and_then(|e| e.to_str()), Some("yaml" | "yml"))
                        && f.parent().and_then(|d| d.file_name()).is_some_and(|n| n == "tests")
                })
                .collect();
            found.sort();
            out.extend(found);
        } else {
            out.push(p.clone());
        }
    }
    out
}

/// Runs one case: loads its evidence (every input must be read whole), runs `rules` as `hunt`
/// does, applies the case's tuning and compares the alerts with the expectations. Returns what
/// did not match (nothing: the case passed), including rules that failed to run.
pub async fn run_case(case: &TestCase, rules: &[crate::Rule], tools: &[crate::Tool]) -> crate::Result<Vec<String>> {
    use crate::error::Error;
    use crate::hunt::{TimeMode, Window};
    let now = case
        .now
        .as_deref()
        .map(|n| engine::value::parse_datetime(n).map_err(|e| Error::Usage(format!("now: {e}"))))
        .transpose()?;
    let tuning = case
        .config
        .as_deref()
        .map(|p| crate::load_tuning(p, tools))
        .transpose()?;
    for e in &case.evidence {
        if !e.exists() {
            return Err(Error::Usage(format!(
                "evidence {}: no such file or folder",
                e.display()
            )));
        }
    }
    let inputs: Vec<String> = case.evidence.iter().map(|p| p.display().to_string()).collect();
    let mut engine = engine::Engine::new(engine::EngineOptions {
        now,
        // Rules may read the case's evidence (externaldata), nothing else.
        file_access: crate::evidence::file_access(&inputs, &[])?,
        ..engine::EngineOptions::default()
    })?;
    let loaded = crate::evidence::load_evidence(&mut engine, &inputs, &Default::default()).await?;
    if !loaded.report.is_complete() {
        return Err(Error::Usage(format!(
            "evidence incomplete: {} (run `ratcatcher tables` on it)",
            crate::evidence::totals_line(&loaded.report)
        )));
    }
    // A case with `now` runs like Sentinel (each rule over its queryPeriod before it); without, like
    // `hunt`'s default (all the evidence, ago() at the newest event of its bulk).
    let mode = TimeMode::Window(if now.is_some() { Window::RulePeriod } else { Window::All });
    let run = crate::run_pack(&mut engine, rules, tuning.as_ref(), tools, now, mode).await?;
    let mut problems: Vec<String> = run
        .runs
        .iter()
        .filter_map(|r| {
            let err = r.error.as_ref()?;
            let q = rules
                .iter()
                .find(|x| x.id == r.rule_id)
                .map_or("", |x| x.query.as_str());
            Some(format!("rule {} failed: {}", r.rule_id, err.describe(q)))
        })
        .collect();
    let (mut alerts, mut suppressed) = crate::hunt::apply_tuning(run.alerts, tuning.as_ref(), tools);
    crate::hunt::sort_alerts(&mut alerts);
    crate::hunt::sort_alerts(&mut suppressed);
    problems.extend(case.check(&alerts, &suppressed));
    Ok(problems)
}

/// The pack's own tests, compiled in and written out to a temporary folder (deleted when dropped),
/// laid out as in the repository (`rules/tests`, `examples`), so `ratcatcher test` runs anywhere.
pub struct BuiltinTests {
    dir: tempfile::TempDir,
}

impl BuiltinTests {
    /// Writes the case files, their evidence and tuning out.
    pub fn write() -> crate::Result<BuiltinTests> {
        let dir = tempfile::Builder::new()
            .prefix("ratcatcher-tests-")
            .tempdir()
            .map_err(|e| crate::Error::io("creating a folder for the built-in tests", e))?;
        for (rel, bytes) in crate::rule::pack_test_files() {
            let path = dir.path().join(rel);
            if let Some(parent) = path.parent() {
                std::fs::create_dir_all(parent)
                    .map_err(|e| crate::Error::io(format!("writing {}", parent.display()), e))?;
            }
            std::fs::write(&path, bytes).map_err(|e| crate::Error::io(format!("writing {}", path.display()), e))?;
        }
        Ok(BuiltinTests { dir })
    }

    /// The `tests` folder holding the cases (what [`discover`] takes).
    pub fn path(&self) -> PathBuf {
        self.dir.path().join("rules/tests")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::alert::{Row, alert_from_row};
    use crate::rule::parse_rule;

    fn alert(rule: &str, file: &str) -> Alert {
        let r = parse_rule(Path::new(&format!("{rule}.yaml")), "query: T\n").unwrap();
        alert_from_row(
            &r,
            Row(vec![
                ("FileName".into(), Value::String(file.into())),
                ("Port".into(), serde_json::json!(5900)),
            ]),
            None,
        )
    }

    fn case(yaml: &str) -> TestCase {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("c.yaml");
        std::fs::write(&p, yaml).unwrap();
        TestCase::load(&p).unwrap()
    }

    #[test]
    fn exact_counts_per_rule() {
        let c = case(
            "name: x\nevidence: [e.json]\nexpect:\n  - rule: a\n    count: 2\n    where: {FileName: anydesk.exe}\n",
        );
        assert!(c.evidence[0].ends_with("e.json"));
        let ok = [alert("a", "anydesk.exe"), alert("a", "anydesk.exe")];
        assert!(c.check(&ok, &[]).is_empty());
        // One too few.
        assert_eq!(c.check(&ok[..1], &[]).len(), 2);
        // Right count, wrong row.
        let wrong = [alert("a", "anydesk.exe"), alert("a", "x.exe")];
        let p = c.check(&wrong, &[]);
        assert_eq!(p.len(), 1, "{p:?}");
        // An alert of a rule the case does not expect.
        let extra = [alert("a", "anydesk.exe"), alert("a", "anydesk.exe"), alert("b", "y")];
        let p = c.check(&extra, &[]);
        assert!(p[0].starts_with("b: 1 alerts, expected 0"), "{p:?}");
    }

    #[test]
    fn near_miss_and_suppressed() {
        let c = case(
            "name: x\nevidence: [e]\nexpect: []\nsuppressed:\n  - rule: a\n    count: 1\n    where: {Port: 5900}\n",
        );
        assert!(c.check(&[], &[alert("a", "f")]).is_empty());
        assert_eq!(c.check(&[alert("a", "f")], &[alert("a", "f")]).len(), 1);
        assert_eq!(c.check(&[], &[]).len(), 2);
    }

    #[test]
    fn unknown_keys_are_errors() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("c.yaml");
        std::fs::write(&p, "name: x\nevidence: []\nexpect: []\nexpected: []\n").unwrap();
        assert!(TestCase::load(&p).unwrap_err().to_string().contains("expected"));
    }
}
