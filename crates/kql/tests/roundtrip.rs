//! Property test: any syntax tree printed to text parses back to the same tree.

use kql::*;
use proptest::prelude::*;

const S: Span = Span { start: 0, end: 0 };

const BINARY_OPS: &[BinaryOp] = &[
    BinaryOp::Eq,
    BinaryOp::NotEq,
    BinaryOp::Lt,
    BinaryOp::Ge,
    BinaryOp::EqCi,
    BinaryOp::NotEqCi,
    BinaryOp::Add,
    BinaryOp::Sub,
    BinaryOp::Mul,
    BinaryOp::Div,
    BinaryOp::Mod,
    BinaryOp::Str(StringOp {
        kind: StringOpKind::Has,
        negated: false,
        case_sensitive: false,
    }),
    BinaryOp::Str(StringOp {
        kind: StringOpKind::Contains,
        negated: true,
        case_sensitive: true,
    }),
    BinaryOp::Str(StringOp {
        kind: StringOpKind::StartsWith,
        negated: false,
        case_sensitive: true,
    }),
    BinaryOp::Str(StringOp {
        kind: StringOpKind::HasSuffix,
        negated: true,
        case_sensitive: false,
    }),
    BinaryOp::Str(StringOp {
        kind: StringOpKind::MatchesRegex,
        negated: false,
        case_sensitive: true,
    }),
];

const LIST_OPS: &[ListOp] = &[
    ListOp::In,
    ListOp::NotIn,
    ListOp::InCi,
    ListOp::NotInCi,
    ListOp::HasAny,
    ListOp::HasAll,
];

/// Names that are literals or keywords when followed by `(`; not usable as generated call names.
const NOT_CALLABLE: &[&str] = &[
    "int", "long", "real", "double", "bool", "boolean", "decimal", "dynamic", "datetime", "date", "time", "timespan",
    "guid", "uniqueid", "true", "false", "True", "False", "TRUE", "FALSE",
];

fn expr_prec(e: &Expr) -> u8 {
    match e {
        Expr::Logical { op, .. } | Expr::Binary { op, .. } => op.precedence(),
        Expr::List { .. } | Expr::Between { .. } => 3,
        Expr::Unary { .. } => 6,
        Expr::Pipeline { .. } | Expr::Source(_) | Expr::Assign { .. } => 0,
        _ => 7,
    }
}

/// Wraps `e` in parentheses when it binds looser than `min`, as a parsed tree would hold it.
fn at(e: Expr, min: u8) -> Box<Expr> {
    Box::new(if expr_prec(&e) < min {
        Expr::Paren(Box::new(e), S)
    } else {
        e
    })
}

fn name() -> impl Strategy<Value = String> {
    prop_oneof![
        4 => "[A-Za-z_][A-Za-z0-9_]{0,8}",
        1 => "\\PC{1,6}",
    ]
}

fn literal() -> impl Strategy<Value = Literal> {
    prop_oneof![
        any::<bool>().prop_map(|b| Literal::Bool(Some(b))),
        (0i64..i64::MAX).prop_map(|n| Literal::Long(Some(n))),
        any::<i32>().prop_map(|n| Literal::Int(Some(n))),
        (0.0f64..1e300).prop_map(|r| Literal::Real(Some(r))),
        "\\PC{0,12}".prop_map(|s| Literal::String {
            value: s,
            obfuscated: false
        }),
        ".{0,6}".prop_map(|s| Literal::String {
            value: s,
            obfuscated: true
        }),
        (0i64..1_000_000_000_000).prop_map(|t| Literal::Timespan(Some(t))),
        Just(Literal::Timespan(None)),
        Just(Literal::Datetime(Some("2024-01-02 03:04:05.678".into()))),
        Just(Literal::Real(Some(f64::NAN))),
        Just(Literal::Dynamic(Dynamic::Array(vec![
            Dynamic::Null,
            Dynamic::Scalar(Box::new(Literal::Long(Some(1))))
        ]))),
    ]
}

fn leaf() -> impl Strategy<Value = Expr> {
    prop_oneof![
        2 => literal().prop_map(|l| Expr::Literal(l, S)),
        2 => name().prop_map(|n| Expr::Name(Ident::new(n, S))),
    ]
}

fn expr() -> impl Strategy<Value = Expr> {
    leaf().prop_recursive(5, 48, 4, |inner| {
        prop_oneof![
            (0..BINARY_OPS.len(), inner.clone(), inner.clone()).prop_map(|(i, l, r)| {
                let op = BINARY_OPS[i];
                let p = op.precedence();
                Expr::Binary {
                    op,
                    left: at(l, p),
                    right: at(r, p + 1),
                    span: S,
                }
            }),
            (any::<bool>(), prop::collection::vec(inner.clone(), 2..4)).prop_map(|(or, items)| {
                let op = if or { BinaryOp::Or } else { BinaryOp::And };
                let operands = items.into_iter().map(|e| *at(e, op.precedence() + 1)).collect();
                Expr::Logical { op, operands, span: S }
            }),
            (
                0..LIST_OPS.len(),
                inner.clone(),
                prop::collection::vec(inner.clone(), 1..4)
            )
                .prop_map(|(i, e, items)| {
                    Expr::List {
                        op: LIST_OPS[i],
                        expr: at(e, 3),
                        items,
                        span: S,
                    }
                }),
            (any::<bool>(), inner.clone(), inner.clone(), inner.clone()).prop_map(|(negated, e, lo, hi)| {
                Expr::Between {
                    expr: at(e, 3),
                    negated,
                    low: at(lo, 4),
                    high: at(hi, 4),
                    span: S,
                }
            }),
            inner.clone().prop_map(|e| Expr::Unary {
                op: UnaryOp::Neg,
                expr: at(e, 6),
                span: S
            }),
            ("[a-z_][a-z0-9_]{0,6}", prop::collection::vec(inner.clone(), 0..3))
                .prop_filter("not a literal keyword", |(n, _)| !NOT_CALLABLE.contains(&n.as_str()))
                .prop_map(|(n, args)| Expr::Call {
                    receiver: None,
                    name: Ident::new(n, S),
                    args: args.into_iter().map(Arg::Positional).collect(),
                    span: S,
                }),
            (inner.clone(), name()).prop_map(|(e, n)| Expr::Member {
                expr: at(e, 7),
                name: Ident::new(n, S),
                span: S
            }),
            (inner.clone(), inner.clone()).prop_map(|(e, i)| Expr::Index {
                expr: at(e, 7),
                index: Box::new(i),
                span: S
            }),
            inner.prop_map(|e| Expr::Paren(Box::new(e), S)),
        ]
    })
}

fn query(e: Expr, names: Vec<String>) -> Query {
    let ops = vec![
        Operator {
            kind: OperatorKind::Where(e.clone()),
            span: S,
        },
        Operator {
            kind: OperatorKind::Extend(vec![NamedExpr {
                names: names.iter().map(|n| Ident::new(n.clone(), S)).collect(),
                expr: e,
            }]),
            span: S,
        },
        Operator {
            kind: OperatorKind::Summarize {
                params: vec![],
                aggregates: vec![NamedExpr {
                    names: vec![],
                    expr: Expr::Call {
                        receiver: None,
                        name: Ident::new("count", S),
                        args: vec![],
                        span: S,
                    },
                }],
                by: names
                    .iter()
                    .map(|n| NamedExpr {
                        names: vec![],
                        expr: Expr::Name(Ident::new(n.clone(), S)),
                    })
                    .collect(),
            },
            span: S,
        },
    ];
    Query {
        statements: vec![Statement::Expr(Expr::Pipeline {
            source: Box::new(Expr::Name(Ident::new("T", S))),
            ops,
            span: S,
        })],
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 2000, ..ProptestConfig::default() })]

    #[test]
    fn printed_trees_parse_back_identically(e in expr(), names in prop::collection::vec(name(), 1..3)) {
        let q = query(e, names);
        let text = q.to_string();
        let parsed = parse(&text);
        prop_assert!(parsed.is_ok(), "printed text does not parse:\n{}\n{:?}", text, parsed.diagnostics);
        prop_assert_eq!(parsed.query, q, "text:\n{}", text);
    }
}
