//! Parser behaviour: every construct of the language parses to the expected tree and prints back.

use kql::*;

fn ok(text: &str) -> Query {
    let p = parse(text);
    assert!(p.is_ok(), "{text:?} failed: {:#?}", p.diagnostics);
    let printed = p.query.to_string();
    let again = parse(&printed);
    assert!(
        again.is_ok(),
        "printed form of {text:?} does not parse:\n{printed}\n{:#?}",
        again.diagnostics
    );
    assert_eq!(
        again.query, p.query,
        "round trip changed the tree of {text:?}; printed:\n{printed}"
    );
    p.query
}

fn errors(text: &str) -> Vec<Diagnostic> {
    let p = parse(text);
    assert!(!p.is_ok(), "{text:?} should not parse");
    p.diagnostics
}

/// The single statement's expression.
fn expr_of(text: &str) -> Expr {
    match ok(text).statements.pop() {
        Some(Statement::Expr(e)) => e,
        other => panic!("not an expression statement: {other:?}"),
    }
}

/// The operators of a pipeline `T | ...`.
fn ops_of(text: &str) -> Vec<OperatorKind> {
    match expr_of(text) {
        Expr::Pipeline { ops, .. } => ops.into_iter().map(|o| o.kind).collect(),
        other => panic!("not a pipeline: {other:?}"),
    }
}

fn where_pred(text: &str) -> Expr {
    match ops_of(&format!("T | where {text}")).remove(0) {
        OperatorKind::Where(e) => e,
        other => panic!("{other:?}"),
    }
}

#[test]
fn every_tabular_operator_parses_and_round_trips() {
    let cases = [
        "T | where a > 1 and b != 'x'",
        "T | filter a == 1",
        "T | extend x = 1, (a, b) = f(y), z",
        "T | project a, b = c * 2, ['Column Name']",
        "T | project-away a*, b",
        "T | project-keep *Id",
        "T | project-rename new1 = old1, new2 = old2",
        "T | project-reorder b desc, a*",
        "T | summarize count(), dcount(x) by bin(Timestamp, 1h), DeviceName",
        "T | summarize by DeviceName",
        "T | summarize hint.strategy=shuffle arg_max(Timestamp, *) by DeviceId",
        "T | sort by a desc nulls last, b asc",
        "T | order by a",
        "T | top 10 by Timestamp desc",
        "T | top-nested 3 of DeviceName by c = count(), top-nested 2 of FileName with others = 'Other' by sum(x) desc",
        "T | take 5",
        "T | limit 5",
        "T | distinct a, b",
        "T | distinct *",
        "T | count",
        "T | join kind=leftouter hint.strategy=broadcast (U | where x == 1) on $left.a == $right.b, c",
        "T | join U on Key",
        "T | lookup kind=inner (U) on a",
        "union withsource=SourceTable kind=outer isfuzzy=true Device*Events, (T | take 1), table('x')",
        "T | union U, V",
        "T | mv-expand bagexpansion=array with_itemindex=i x = d.items to typeof(string), y limit 10",
        "T | mvexpand d",
        "T | mv-apply v = Values to typeof(long) on (top 1 by v desc | project v)",
        "T | parse Message with * 'user=' User:string ', ip=' Ip",
        "T | parse kind=regex flags=Ui Message with 'id=' Id:long",
        "T | parse-where Url with 'https://' Host '/' *",
        "T | parse-kv Text as (a:string, b:long) with (pair_delimiter=',', kv_delimiter='=')",
        "T | make-series n = count() default = 0 on Timestamp from ago(7d) to now() step 1h by DeviceName",
        "T | make-series avg(x) on Timestamp in range(ago(1d), now(), 1h)",
        "T | evaluate bag_unpack(Fields)",
        "T | evaluate hint.distribution=per_node autocluster()",
        "T | render timechart with (title = 'Logons', ysplit = panels)",
        "T | invoke MyFunction(1, 'x')",
        "T | as hint.materialized=true Saved",
        "T | serialize rn = row_number()",
        "T | serialize",
        "search 'mimikatz'",
        "search kind=case_sensitive in (SecurityEvent, DeviceProcessEvents) 'x' and EventID == 4688",
        "find in (DeviceProcessEvents, DeviceFileEvents) where FileName has 'x' project FileName",
        "print x = 1, y = 'a'",
        "datatable(Name:string, Count:long) ['a', 1, 'b', 2]",
        "externaldata(Ip:string) [@'https://example.invalid/ips.csv'] with (format='csv', ignoreFirstRecord=true)",
        "range i from 1 to 10 step 1",
        "T | getschema",
        "T | sample 100",
        "T | sample-distinct 5 of DeviceName",
        "T | scan order by Timestamp partition by DeviceId declare (s:string = '') with (step a: EventID == 1 => s = FileName; step b output=last: EventID == 3;)",
        "T | partition by DeviceId (top 1 by Timestamp)",
        "T | partition hint.strategy=native by DeviceId { T2 | take 1 }",
        "T | facet by a, b with (take 1)",
        "T | fork (where x > 1) named = (take 5)",
        "T | consume decodeblocks=true",
        "T | reduce by Message with threshold=0.5",
        "T | top-hitters 5 of DeviceName by count",
        "T | assert-schema (a:string, *)",
        "T | where * has 'x'",
    ];
    for q in cases {
        ok(q);
    }
}

#[test]
fn operator_trees_hold_their_parts() {
    let ops = ops_of("T | join kind=inner (U) on $left.a == $right.b");
    let OperatorKind::Join { params, right, on } = &ops[0] else {
        panic!("{ops:?}")
    };
    assert_eq!(params[0].name.name, "kind");
    assert!(matches!(&params[0].value, Expr::Name(i) if i.name == "inner"));
    assert!(matches!(right, Expr::Paren(inner, _) if matches!(**inner, Expr::Name(ref i) if i.name == "U")));
    let Expr::Binary {
        op: BinaryOp::Eq, left, ..
    } = &on[0]
    else {
        panic!("{on:?}")
    };
    assert!(
        matches!(&**left, Expr::Member { expr, name, .. } if matches!(&**expr, Expr::Name(i) if i.name == "$left") && name.name == "a")
    );

    let ops = ops_of("T | summarize c = count() by bin(Timestamp, 1h)");
    let OperatorKind::Summarize { aggregates, by, .. } = &ops[0] else {
        panic!()
    };
    assert_eq!(aggregates[0].names[0].name, "c");
    assert!(matches!(&by[0].expr, Expr::Call { name, args, .. } if name.name == "bin" && args.len() == 2));

    let ops = ops_of("T | sort by a");
    assert!(matches!(&ops[0], OperatorKind::Sort { keys, .. } if keys[0].dir.is_none() && keys[0].nulls.is_none()));
}

#[test]
fn literals_of_every_form() {
    let lit = |text: &str| match where_pred(&format!("x == {text}")) {
        Expr::Binary { right, .. } => match *right {
            Expr::Literal(l, _) => l,
            other => panic!("{other:?}"),
        },
        other => panic!("{other:?}"),
    };
    assert_eq!(
        lit("datetime(2024-03-01 10:00:00)"),
        Literal::Datetime(Some("2024-03-01 10:00:00".into()))
    );
    assert_eq!(lit("datetime(null)"), Literal::Datetime(None));
    assert_eq!(lit("1d"), Literal::Timespan(Some(864_000_000_000)));
    assert_eq!(
        lit("time(1.02:03:04.5)"),
        Literal::Timespan(Some(((26 * 60 + 3) * 60 + 4) * 10_000_000 + 5_000_000))
    );
    assert_eq!(lit("timespan(2h)"), Literal::Timespan(Some(72_000_000_000)));
    assert_eq!(lit("int(null)"), Literal::Int(None));
    assert_eq!(lit("long(-5)"), Literal::Long(Some(-5)));
    assert_eq!(lit("real(+inf)"), Literal::Real(Some(f64::INFINITY)));
    assert_eq!(lit("real(nan)"), Literal::Real(Some(f64::NAN)));
    assert_eq!(lit("true"), Literal::Bool(Some(true)));
    assert_eq!(
        lit("guid(74be27de-1e4e-49d9-b579-fe0b331d3642)"),
        Literal::Guid(Some("74be27de-1e4e-49d9-b579-fe0b331d3642".into()))
    );
    assert_eq!(
        lit("h'secret'"),
        Literal::String {
            value: "secret".into(),
            obfuscated: true
        }
    );
    assert_eq!(
        lit(r"@'C:\Windows'"),
        Literal::String {
            value: r"C:\Windows".into(),
            obfuscated: false
        }
    );
    assert_eq!(
        lit("'a' 'b'"),
        Literal::String {
            value: "ab".into(),
            obfuscated: false
        }
    );
    assert_eq!(
        lit("```multi\nline```"),
        Literal::String {
            value: "multi\nline".into(),
            obfuscated: false
        }
    );
    assert_eq!(
        lit(r#"dynamic({"a": [1, -2.5, "x", null], "b": {"c": true}})"#),
        Literal::Dynamic(Dynamic::Object(vec![
            (
                "a".into(),
                Dynamic::Array(vec![
                    Dynamic::Scalar(Box::new(Literal::Long(Some(1)))),
                    Dynamic::Scalar(Box::new(Literal::Real(Some(-2.5)))),
                    Dynamic::Scalar(Box::new(Literal::String {
                        value: "x".into(),
                        obfuscated: false
                    })),
                    Dynamic::Null,
                ])
            ),
            (
                "b".into(),
                Dynamic::Object(vec![("c".into(), Dynamic::Scalar(Box::new(Literal::Bool(Some(true)))))])
            ),
        ]))
    );
}

#[test]
fn string_and_list_operators() {
    for (text, kind, negated, cs) in [
        ("a has 'x'", StringOpKind::Has, false, false),
        ("a !has_cs 'x'", StringOpKind::Has, true, true),
        ("a hasprefix 'x'", StringOpKind::HasPrefix, false, false),
        ("a !hassuffix_cs 'x'", StringOpKind::HasSuffix, true, true),
        ("a contains 'x'", StringOpKind::Contains, false, false),
        ("a notcontains 'x'", StringOpKind::Contains, true, false),
        ("a containscs 'x'", StringOpKind::Contains, false, true),
        ("a !startswith 'x'", StringOpKind::StartsWith, true, false),
        ("a endswith_cs 'x'", StringOpKind::EndsWith, false, true),
        ("a matches regex '[0-9]+'", StringOpKind::MatchesRegex, false, true),
    ] {
        match where_pred(text) {
            Expr::Binary {
                op: BinaryOp::Str(op), ..
            } => {
                assert_eq!((op.kind, op.negated, op.case_sensitive), (kind, negated, cs), "{text}");
            }
            other => panic!("{text}: {other:?}"),
        }
    }
    for (text, list_op) in [
        ("a in ('x', 'y')", ListOp::In),
        ("a !in ('x')", ListOp::NotIn),
        ("a in~ ('x')", ListOp::InCi),
        ("a !in~ ('x')", ListOp::NotInCi),
        ("a has_any (Names)", ListOp::HasAny),
        ("a has_all ('x', 'y')", ListOp::HasAll),
        ("a in (T | project b)", ListOp::In),
    ] {
        assert!(
            matches!(where_pred(text), Expr::List { op, .. } if op == list_op),
            "{text}"
        );
    }
    assert!(matches!(
        where_pred("t !between (1 .. 5)"),
        Expr::Between { negated: true, .. }
    ));
    assert!(matches!(
        where_pred("t between (ago(1d) .. now())"),
        Expr::Between { negated: false, .. }
    ));
}

#[test]
fn precedence_and_flat_logic() {
    // and binds tighter than or; comparisons tighter than and; * tighter than +.
    let Expr::Logical {
        op: BinaryOp::Or,
        operands,
        ..
    } = where_pred("a == 1 or b == 2 and c == 3 or d")
    else {
        panic!()
    };
    assert_eq!(operands.len(), 3);
    assert!(matches!(&operands[1], Expr::Logical { op: BinaryOp::And, operands, .. } if operands.len() == 2));
    let Expr::Binary {
        op: BinaryOp::Eq, left, ..
    } = where_pred("a + b * c == 1")
    else {
        panic!()
    };
    assert!(
        matches!(*left, Expr::Binary { op: BinaryOp::Add, ref right, .. } if matches!(**right, Expr::Binary { op: BinaryOp::Mul, .. }))
    );
    // A thousand-term `or` stays one flat node.
    let long = (0..1000).map(|i| format!("x == {i}")).collect::<Vec<_>>().join(" or ");
    assert!(matches!(where_pred(&long), Expr::Logical { operands, .. } if operands.len() == 1000));
}

#[test]
fn dynamic_access_and_calls() {
    let e = where_pred("d.a['b'][0].c == 1 and cluster('c').database('db').T == 2 and x.[0] == 3");
    ok("T | extend v = parse_json(Data).Items[-1].Name, w = tostring(d['key with space'])");
    ok("T | summarize arg_max(Timestamp, *) by DeviceId");
    ok("T | extend b = bag_unpack(x, columnsConflict = 'replace_source')");
    assert!(matches!(e, Expr::Logical { .. }));
}

#[test]
fn statements_and_functions() {
    let q = ok("set query_now = datetime(2024-01-01);\n\
        declare query_parameters (Lookback:timespan = 1d);\n\
        let Names = dynamic(['a.exe', 'b.exe']);\n\
        let Recent = (T:(Timestamp:datetime, *), since:timespan = 1h) { T | where Timestamp > ago(since) };\n\
        let V = view () { DeviceProcessEvents };\n\
        let M = materialize(DeviceProcessEvents | take 10);\n\
        Recent(M) | where FileName in~ (Names)");
    assert_eq!(q.statements.len(), 7);
    assert!(matches!(&q.statements[0], Statement::Set { name, .. } if name.name == "query_now"));
    assert!(matches!(&q.statements[1], Statement::DeclareQueryParameters { params, .. } if params.len() == 1));
    let Statement::Let {
        value: LetValue::Function(f),
        ..
    } = &q.statements[3]
    else {
        panic!()
    };
    assert_eq!(f.params.len(), 2);
    assert!(matches!(&f.params[0].ty, ParamType::Tabular { columns, open: true } if columns.len() == 1));
    assert!(f.params[1].default.is_some());
    assert!(matches!(
        &q.statements[4],
        Statement::Let {
            value: LetValue::Function(FunctionDef { view: true, .. }),
            ..
        }
    ));
    ok("let x = 5; print x");
    ok("let T = datatable(a:long) [1, 2]; T | where a > 1;");
}

#[test]
fn keywords_are_case_sensitive_and_names_may_be_keywords_in_brackets() {
    let d = errors("T | Where x == 1");
    assert!(d[0].message.contains("unknown tabular operator `Where`"), "{d:?}");
    assert_eq!(d[0].help.as_deref(), Some("did you mean `where`?"));
    ok("T | project ['where'], ['by'] = 1, ['has']");
    ok("T | extend ['Column With Space'] = 1 | where ['Column With Space'] == 1");
}

#[test]
fn errors_name_the_place_and_what_was_expected() {
    let text = "T\n| summarize count() by\n";
    let d = errors(text);
    assert_eq!(d.len(), 1);
    let pos = LineIndex::new(text).line_col(d[0].span.start as usize);
    assert_eq!((pos.line, pos.column), (2, 23), "{d:?}");
    assert_eq!(d[0].expected, vec!["an expression".to_string()]);

    let d = errors("T | where x hass 'a'");
    assert_eq!(d[0].help.as_deref(), Some("did you mean `has`?"), "{d:?}");

    let d = errors("T | extnd y = 1");
    assert_eq!(d[0].help.as_deref(), Some("did you mean `extend`?"));

    let d = errors("T | where x == 'open");
    assert!(d[0].message.contains("unterminated string"), "{d:?}");
}

#[test]
fn all_errors_of_a_query_are_reported() {
    // One bad operator per pipe segment and a bad statement: recovery reports each.
    let d = errors("let a = ;\nT | wher x | extend = 1 | project a,\n| take 1");
    assert!(d.len() >= 4, "{d:#?}");
    let lines: Vec<usize> = d
        .iter()
        .map(|d| LineIndex::new("").line_col(0).line.max(d.span.start as usize))
        .collect();
    assert!(
        lines.windows(2).all(|w| w[0] <= w[1]),
        "diagnostics are in source order"
    );
}

#[test]
fn deep_nesting_is_an_error_not_a_crash() {
    let deep = format!("print {}1{}", "(".repeat(50_000), ")".repeat(50_000));
    let d = errors(&deep);
    assert!(
        d.iter().any(|d| d.message.contains("nests too deeply")),
        "{:?}",
        &d[..1]
    );
    let deep_unary = format!("print {}1", "-".repeat(50_000));
    assert!(
        errors(&deep_unary)
            .iter()
            .any(|d| d.message.contains("nests too deeply"))
    );
    let deep_member = format!("print x{}", ".a".repeat(50_000));
    assert!(
        errors(&deep_member)
            .iter()
            .any(|d| d.message.contains("nests too deeply"))
    );
    // Within the limit is fine.
    ok(&format!("print {}1{}", "(".repeat(40), ")".repeat(40)));
}

#[test]
fn garbage_never_panics() {
    for text in [
        "",
        ";;;",
        "|",
        "| | |",
        "(((",
        ")))",
        "let",
        "let x",
        "T | join",
        "datatable(",
        "dynamic([",
        "x in",
        "\u{0}",
        "é",
        "```",
        "@",
        "h'",
        "T | parse x with",
        "1..2",
    ] {
        let _ = parse(text);
    }
}

#[test]
fn unicode_spaces_are_white_space() {
    ok("T\u{00a0}| where\u{202f}x == 1\u{200b}");
}

#[test]
fn seed_style_detection_query() {
    let q = ok(r#"let RATProcessNames = dynamic(["teamviewer.exe", "anydesk.exe"]);
DeviceProcessEvents
| where Timestamp > ago(24h)
| where FileName has_any (RATProcessNames)
| extend IsService = InitiatingProcessFileName in~ ("services.exe", "svchost.exe")
| extend RATCategory = case(FileName has_any ("teamviewer", "anydesk"), "Commercial RMM", "Unknown")
| project Timestamp, DeviceName, FileName, RATCategory, IsService
| sort by Timestamp desc"#);
    assert_eq!(q.statements.len(), 2);
    let Statement::Expr(Expr::Pipeline { ops, .. }) = &q.statements[1] else {
        panic!()
    };
    let names: Vec<&str> = ops.iter().map(Operator::keyword).collect();
    assert_eq!(names, ["where", "where", "extend", "extend", "project", "sort"]);
}

#[test]
fn spans_point_at_source() {
    let text = "T | where FileName == 'x'";
    let ops = ops_of(text);
    let OperatorKind::Where(Expr::Binary { left, .. }) = &ops[0] else {
        panic!()
    };
    assert_eq!(&text[left.span().range()], "FileName");
    let p = parse(text);
    let Statement::Expr(Expr::Pipeline { ops, .. }) = &p.query.statements[0] else {
        panic!()
    };
    assert_eq!(&text[ops[0].span.range()], "where FileName == 'x'");
}

#[test]
fn control_characters_in_strings_round_trip() {
    // A NUL followed by a digit must not print as an octal escape.
    let q = ok("print \"a\\u0000\\u00006b\\u0001\"");
    let Statement::Expr(Expr::Source(op)) = &q.statements[0] else {
        panic!()
    };
    let OperatorKind::Print(items) = &op.kind else { panic!() };
    assert_eq!(
        items[0].expr,
        Expr::Literal(
            Literal::String {
                value: "a\0\x006b\x01".into(),
                obfuscated: false
            },
            Span::default()
        )
    );
}

#[test]
fn names_that_start_with_digits_round_trip() {
    // Found by the fuzzer: a call named like `24g(...)` must print as a call again.
    ok("T | where TimeGenerated > ago(24g(x))");
    ok("let 2022Report = 1; print 2022Report");
    ok("T | extend v = ['odd name'](1)");
}

#[test]
fn operator_parameter_values_are_names_not_calls() {
    // Found by the fuzzer: a parameter value followed by a parenthesised sub-query.
    ok("T | join kind=['2leftouter'] (U) on k");
    ok("T | join kind=2leftouter (U) on k");
}

#[test]
fn datetime_literal_text_forms() {
    // Found by the fuzzer: quoted datetime text must stay one literal.
    ok(r#"let StartTime = datetime("8:00:00 AM"); print StartTime"#);
    ok("print datetime('2024-01-01 10:00')");
    let d = errors("print datetime(\"a\nb\")");
    assert!(!d.is_empty());
}
