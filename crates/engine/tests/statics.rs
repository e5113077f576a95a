//! Static results (`engine::plan::statics`): `let` tables and `toscalar()`s over static tables
//! run once per engine; every query must give what it gives on an engine without static tables,
//! on its first run and on later ones, and registering a table again must forget what was stored.

use std::sync::Arc;

use datafusion::arrow::array::{ArrayRef, Int64Array, RecordBatch, StringArray};
use datafusion::arrow::datatypes::{DataType, Field, Schema, SchemaRef};
use engine::{Engine, EngineOptions, format};
use serde_json::Value;

fn batch(columns: &[(&str, Vec<&str>)], longs: &[(&str, Vec<i64>)]) -> (SchemaRef, RecordBatch) {
    let mut fields = Vec::new();
    let mut arrays: Vec<ArrayRef> = Vec::new();
    for (name, values) in columns {
        fields.push(Field::new(*name, DataType::Utf8, true));
        arrays.push(Arc::new(StringArray::from(values.clone())));
    }
    for (name, values) in longs {
        fields.push(Field::new(*name, DataType::Int64, true));
        arrays.push(Arc::new(Int64Array::from(values.clone())));
    }
    let schema = Arc::new(Schema::new(fields));
    let b = RecordBatch::try_new(Arc::clone(&schema), arrays).unwrap();
    (schema, b)
}

fn catalog(names: Vec<&str>) -> (SchemaRef, RecordBatch) {
    let n = names.len();
    let kinds: Vec<&str> = (0..n).map(|i| if i % 3 == 2 { "domain" } else { "exe" }).collect();
    let tools: Vec<&str> = (0..n).map(|i| ["anydesk", "teamviewer", "rustdesk"][i % 3]).collect();
    batch(&[("Indicator", names), ("Kind", kinds), ("ToolId", tools)], &[])
}

fn evidence() -> (SchemaRef, RecordBatch) {
    batch(
        &[
            (
                "FileName",
                vec![
                    "AnyDesk.exe",
                    "cmd.exe",
                    "teamviewer.exe",
                    "rustdesk.exe",
                    "svchost.exe",
                    "anydesk.exe",
                ],
            ),
            ("DeviceName", vec!["a", "a", "b", "b", "c", "c"]),
        ],
        &[("ReportId", vec![1, 2, 3, 4, 5, 6])],
    )
}

fn engine(static_catalog: bool, names: Vec<&str>) -> Engine {
    let mut e = Engine::new(EngineOptions {
        target_partitions: Some(2),
        ..EngineOptions::default()
    })
    .unwrap();
    let (s, b) = catalog(names);
    if static_catalog {
        e.register_static_batches("Cat", s, vec![b]).unwrap();
    } else {
        e.register_batches("Cat", s, vec![b]).unwrap();
    }
    let (s, b) = evidence();
    e.register_batches("Ev", s, vec![b]).unwrap();
    e
}

fn rows(engine: &Engine, rt: &tokio::runtime::Runtime, query: &str) -> Vec<Vec<Value>> {
    let (_, batches) = rt
        .block_on(engine.query(query))
        .unwrap_or_else(|e| panic!("{query}: {e}"));
    let mut out = Vec::new();
    for b in &batches {
        for i in 0..b.num_rows() {
            out.push(b.columns().iter().map(|a| format::cell_json(a, i)).collect());
        }
    }
    out.sort_by_key(|r| serde_json::to_string(r).unwrap());
    out
}

const NAMES: [&str; 6] = [
    "anydesk.exe",
    "teamviewer.exe",
    "anydesk.com",
    "rustdesk.exe",
    "tv.exe",
    "rustdesk.com",
];

/// Queries over the catalog the way the pack's rules are written: `let` chains, a `let` over a
/// stored `let`, `toscalar()` lists and regexes, a join of evidence with a catalog-derived table.
const QUERIES: &[&str] = &[
    r#"let Exes = Cat | where Kind == "exe" | project Indicator, ToolId;
       let Named = Exes | extend Lower = tolower(Indicator) | distinct Lower, ToolId;
       Ev | extend Lower = tolower(FileName) | join kind=inner Named on Lower | project ReportId, ToolId"#,
    r#"let Names = toscalar(Cat | where Kind == "exe" | summarize make_set(Indicator));
       Ev | where tolower(FileName) in (Names) | project ReportId"#,
    r#"let Words = toscalar(Cat | where Kind == "exe" | extend W = tostring(split(Indicator, ".")[0]) | summarize make_list(W));
       Ev | where FileName has_any (Words) | project ReportId, FileName"#,
    r#"let Rx = toscalar(Cat | where Kind == "exe" | summarize strcat("(?i)^(", strcat_array(make_list(Indicator), "|"), ")$"));
       Ev | where FileName matches regex Rx | project ReportId"#,
    r#"let PerTool = Cat | summarize N = count(), Kinds = make_set(Kind) by ToolId;
       PerTool | project ToolId, N, K = array_length(Kinds)"#,
    r#"let Exes = Cat | where Kind == "exe";
       let Domains = Cat | where Kind == "domain";
       Exes | join kind=leftouter (Domains | project ToolId, Domain = Indicator) on ToolId | project Indicator, Domain"#,
];

#[test]
fn stored_results_give_the_same_rows_as_planning_each_time() {
    let rt = tokio::runtime::Runtime::new().unwrap();
    let reference = engine(false, NAMES.to_vec());
    let stored = engine(true, NAMES.to_vec());
    for q in QUERIES {
        let want = rows(&reference, &rt, q);
        assert!(!want.is_empty(), "the query must return rows to compare: {q}");
        // The first run stores, the later ones read what was stored.
        for run in 0..3 {
            assert_eq!(rows(&stored, &rt, q), want, "run {run} of {q}");
        }
    }
    assert_eq!(reference.static_results(), 0, "no static tables, nothing stored");
    assert!(
        stored.static_results() >= QUERIES.len(),
        "{} stored",
        stored.static_results()
    );
}

#[test]
fn registering_a_table_again_forgets_stored_results() {
    let rt = tokio::runtime::Runtime::new().unwrap();
    let mut e = engine(true, NAMES.to_vec());
    let q = QUERIES[1];
    assert_eq!(rows(&e, &rt, q).len(), 4);
    assert!(e.static_results() > 0);
    // The catalog changes: only one name left.
    let (s, b) = catalog(vec!["cmd.exe"]);
    e.register_static_batches("Cat", s, vec![b]).unwrap();
    assert_eq!(e.static_results(), 0);
    assert_eq!(rows(&e, &rt, q), vec![vec![Value::from(2)]]);
    // A table registered as evidence under a static name is no longer static.
    let (s, b) = catalog(NAMES.to_vec());
    e.register_batches("Cat", s, vec![b]).unwrap();
    assert_eq!(rows(&e, &rt, q).len(), 4);
    assert_eq!(e.static_results(), 0, "Cat is evidence now: nothing over it is stored");
}

#[test]
fn expressions_over_evidence_are_not_stored() {
    let rt = tokio::runtime::Runtime::new().unwrap();
    let e = engine(true, NAMES.to_vec());
    let q = r#"let Hosts = Ev | distinct DeviceName;
               let N = toscalar(Ev | count);
               Hosts | extend N = N"#;
    assert_eq!(rows(&e, &rt, q).len(), 3);
    assert_eq!(e.static_results(), 0);
}
