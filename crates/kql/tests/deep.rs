//! Long and deeply nested queries on a test thread's ordinary stack: the lexer, parser, printer
//! and diagnostics never recurse once per pipeline operator or per `and`/`or` term, and nesting
//! past [`kql::parser::MAX_DEPTH`] is one clear error, not a stack overflow.

use kql::parser::MAX_DEPTH;
use kql::{Expr, Query, Statement};

const N: usize = 100_000;

fn nesting_error(text: &str) {
    let parsed = kql::parse(text);
    assert!(!parsed.diagnostics.is_empty(), "accepted");
    assert_eq!(
        parsed.diagnostics[0].message,
        format!("query nests too deeply (more than {MAX_DEPTH} levels)")
    );
    assert!(parsed.diagnostics.len() <= kql::parser::MAX_DIAGNOSTICS + 1);
    // The first diagnostic renders with its source line.
    let shown = parsed.diagnostics[0].render_plain("q.kql", text);
    assert!(shown.contains("error: query nests too deeply"), "{}", &shown[..200]);
}

fn the_expr(q: &Query) -> &Expr {
    match q.statements.as_slice() {
        [Statement::Expr(e)] => e,
        other => panic!("one expression statement expected, got {other:?}"),
    }
}

/// Parses `text`, prints the tree, and parses the printed text back to a tree that prints the
/// same. (Compared through the printer: the derived `PartialEq`, `Clone` and `Debug` of the
/// syntax tree recurse once per level, see `the_deepest_accepted_tree_prints`.)
fn round_trip(text: &str) -> Query {
    let parsed = kql::parse(text);
    assert!(parsed.is_ok(), "{:?}", &parsed.diagnostics[..1]);
    let printed = parsed.query.to_string();
    let again = kql::parse(&printed);
    assert!(again.is_ok(), "{:?}", &again.diagnostics[..1]);
    assert!(
        again.query.to_string() == printed,
        "the printed text parses to another tree"
    );
    parsed.query
}

#[test]
fn a_hundred_thousand_chained_operators_parse_and_print() {
    let text = format!("T {}", "| where x > 0 | extend x = x + 1 ".repeat(N / 2));
    let q = round_trip(&text);
    match the_expr(&q) {
        Expr::Pipeline { ops, .. } => assert_eq!(ops.len(), N),
        other => panic!("a pipeline expected, got {other:?}"),
    }
}

#[test]
fn a_hundred_thousand_term_logic_parses_and_prints() {
    for op in ["and", "or"] {
        let terms: Vec<String> = (0..N).map(|i| format!("x == {i}")).collect();
        let text = format!("T | where {}", terms.join(&format!(" {op} ")));
        round_trip(&text);
    }
    // Alternating `and` and `or`: flat `or` of flat `and`s.
    let terms: Vec<String> = (0..N).map(|i| format!("x != {i}")).collect();
    let mut text = String::from("T | where x == 0");
    for (i, t) in terms.iter().enumerate() {
        text.push_str(if i % 2 == 0 { " and " } else { " or " });
        text.push_str(t);
    }
    round_trip(&text);
}

#[test]
fn a_hundred_thousand_nested_prefixes_are_one_clear_error() {
    nesting_error(&format!("print {}x{}", "not(".repeat(N), ")".repeat(N)));
    nesting_error(&format!("print {}1", "-".repeat(N)));
    nesting_error(&format!("print {}1", "- ".repeat(N)));
    nesting_error(&format!("print {}1{}", "(".repeat(N), ")".repeat(N)));
    nesting_error(&format!("print dynamic({}1{})", "[".repeat(N), "]".repeat(N)));
    nesting_error(&format!("print {}x{}", "strcat(".repeat(N), ")".repeat(N)));
    nesting_error(&format!("T {}", "| join (T ".repeat(N)));
    nesting_error(&format!("print x{}", "[0]".repeat(N)));
    nesting_error(&format!("print x{}", ".a".repeat(N)));
}

#[test]
fn long_binary_chains_are_one_clear_error() {
    // `+`, `*` and comparisons build left-deep trees, so their length is bounded like nesting.
    nesting_error(&format!("print 1{}", " + 1".repeat(N)));
    nesting_error(&format!("print 1{}", " * 1".repeat(N)));
    nesting_error(&format!("print 1{}", " == 1".repeat(N)));
}

/// The deepest tree the parser builds: a hundred levels of parentheses, each closing with the
/// longest postfix, `*`, `+` and `==` chains the depth limit leaves it (each chain deepens the
/// tree's left spine), about 20,000 levels in all.
fn deepest(levels: usize, slack: usize) -> String {
    let mut text = String::from("x");
    for level in (0..levels).rev() {
        let n = MAX_DEPTH.saturating_sub(level + slack);
        text = format!(
            "({text}){}{}{}{}",
            ".a".repeat(n),
            " * 1".repeat(n),
            " + 1".repeat(n),
            " == 1".repeat(n)
        );
    }
    format!("print {text}")
}

#[test]
fn the_deepest_accepted_tree_prints() {
    // The most levels that parse, then the least slack in the chains that parses; past either
    // the parser refuses with the nesting error.
    let levels = (1..=MAX_DEPTH)
        .take_while(|&l| kql::parse(&deepest(l, MAX_DEPTH)).is_ok())
        .last()
        .unwrap();
    nesting_error(&deepest(levels + 1, MAX_DEPTH));
    let slack = (0..MAX_DEPTH)
        .find(|&k| kql::parse(&deepest(levels, k)).is_ok())
        .unwrap();
    nesting_error(&deepest(levels, slack - 1));
    let text = deepest(levels, slack);
    assert!(text.len() > 50_000, "{}", text.len());
    // Parsing, printing and dropping it need no more than a test thread's stack.
    round_trip(&text);
    // The derived `PartialEq` (like `Clone` and `Debug`) recurses once per level of the tree,
    // about 19,000 here, more than 8 MiB holds in a debug build: compared on a large stack.
    let again = kql::parse(&kql::parse(&text).query.to_string());
    std::thread::Builder::new()
        .stack_size(256 << 20)
        .spawn(move || {
            assert!(again.query == kql::parse(&text).query);
        })
        .expect("spawn")
        .join()
        .expect("equal trees");
}

#[test]
fn diagnostics_of_a_long_query_render() {
    let text = format!("T {} | wher x", "| where x > 0 ".repeat(N));
    let parsed = kql::parse(&text);
    assert_eq!(parsed.diagnostics.len(), 1, "{:?}", parsed.diagnostics);
    let shown = parsed.diagnostics[0].render_plain("q.kql", &text);
    assert!(
        shown.contains("did you mean `where`?"),
        "{}",
        &shown[..200.min(shown.len())]
    );
    // On its own line near the end of a long text.
    let text = format!("T\n{}| wher x", "| where x > 0\n".repeat(N));
    let parsed = kql::parse(&text);
    let shown = parsed.diagnostics[0].render_plain("q.kql", &text);
    assert!(shown.starts_with(&format!("q.kql:{}:3: error:", N + 2)), "{shown}");
}
