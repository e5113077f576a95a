//! Queries as long as an untrusted rule file can make them: they run or fail with a clear
//! error; the process never overflows its stack.

use engine::{Engine, EngineOptions};

fn run(text: String) -> Result<usize, String> {
    // The CLI plans on a thread with a large stack; DataFusion's optimiser recurses over the plan.
    std::thread::Builder::new()
        .stack_size(512 << 20)
        .spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .expect("runtime");
            rt.block_on(async {
                let e = Engine::new(EngineOptions::default()).expect("engine");
                e.query(&text)
                    .await
                    .map(|(_, b)| b.iter().map(|b| b.num_rows()).sum())
                    .map_err(|e| e.to_string())
            })
        })
        .expect("spawn")
        .join()
        .expect("no panic")
}

#[test]
fn a_hundred_thousand_term_or_runs() {
    let terms: Vec<String> = (0..100_000).map(|i| format!("x == {i}")).collect();
    let q = format!("range x from 1 to 10 step 1 | where {}", terms.join(" or "));
    assert_eq!(run(q), Ok(10));
}

#[test]
fn five_thousand_filters_run() {
    let q = format!("range x from 1 to 10 step 1 {}", "| where x > 2 ".repeat(5000));
    assert_eq!(run(q), Ok(8));
}

#[test]
fn longer_pipelines_are_refused_by_name() {
    let q = format!(
        "print x = 1 {}",
        "| where x > 0 ".repeat(engine::plan::MAX_PIPELINE_OPERATORS + 1)
    );
    let e = run(q).expect_err("refused");
    assert!(e.contains("pipeline of 10001 operators is longer than 10000"), "{e}");
}

/// Runs `text` on the test thread itself: no large stack.
fn run_here(text: &str) -> Result<usize, String> {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    rt.block_on(async {
        let e = Engine::new(EngineOptions::default()).expect("engine");
        e.query(text)
            .await
            .map(|(_, b)| b.iter().map(|b| b.num_rows()).sum())
            .map_err(|e| e.to_string())
    })
}

#[test]
fn a_hundred_thousand_operators_are_refused_on_an_ordinary_stack() {
    // Parsed and refused by name before anything recurses over the pipeline.
    let q = format!("print x = 1 {}", "| where x > 0 ".repeat(100_000));
    let e = run_here(&q).expect_err("refused");
    assert!(e.contains("pipeline of 100000 operators is longer than 10000"), "{e}");
}

#[test]
fn let_chains_count_against_the_operator_budget() {
    // Each `let` adds a filter to the one before: one long pipeline once expanded.
    let mut q = String::from("let t0 = print x = 1;\n");
    for i in 1..=12_000 {
        q.push_str(&format!("let t{i} = t{} | where x > 0;\n", i - 1));
    }
    q.push_str("t12000");
    let e = run_here(&q).expect_err("refused");
    assert!(e.contains("plans more than 10000 operators"), "{e}");
}

#[test]
fn lets_that_double_the_plan_are_refused_quickly() {
    // Forty lines whose expansion would plan 2^40 unions.
    let mut q = String::from("let t0 = print x = 1;\n");
    for i in 1..=40 {
        q.push_str(&format!("let t{i} = t{} | union t{};\n", i - 1, i - 1));
    }
    q.push_str("t40 | count");
    let e = run_here(&q).expect_err("refused");
    assert!(
        e.contains("more than 40000 operators once its `let`s are expanded"),
        "{e}"
    );
    // A query that uses a let a few times still plans.
    assert_eq!(run_here("let t = print x = 1; union t, t, t | where x == 1"), Ok(3));
}
