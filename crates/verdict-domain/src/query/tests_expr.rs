//! Accepted queries: the real client examples, precedence, escapes, values.

use super::*;

/// Parses and renders canonically, so structure can be asserted as text.
fn canon(query: &str) -> String {
    match parse_query(query) {
        Ok(expr) => expr.to_string(),
        Err(err) => panic!("{query:?} failed: {err}"),
    }
}

fn cond(query: &str) -> Condition {
    match parse_query(query) {
        Ok(Expr::Cond(cond)) => cond,
        other => panic!("{query:?} is not a single condition: {other:?}"),
    }
}

fn text(s: &str) -> Value {
    Value::Text(s.to_owned())
}

#[test]
fn clt_wildcard_name_in_double_quotes() {
    let c = cond("\"name='*testOne123*'\"");
    assert_eq!(c.field, "name");
    assert_eq!(c.op, Op::Eq);
    assert_eq!(c.values, vec![text("*testOne123*")]);
    assert_eq!(c.position, 1);
    assert!(c.values[0].is_wildcard());
}

#[test]
fn gha_instance_id() {
    let c = cond("\"instance_id EQ ^my-server^\"");
    assert_eq!((c.field.as_str(), c.op), ("instance_id", Op::Eq));
    assert_eq!(c.values, vec![text("my-server")]);
    assert!(!c.values[0].is_wildcard());
}

#[test]
fn gha_pipeline_with_reference() {
    let expr = parse_query("\"name EQ ^pipe^;ci_server EQ {id EQ ^1001^}\"").unwrap();
    let Expr::And(members) = &expr else {
        panic!("not an and: {expr:?}")
    };
    assert_eq!(members.len(), 2);
    let Expr::Cond(server) = &members[1] else {
        panic!("not a condition")
    };
    assert_eq!(server.field, "ci_server");
    assert_eq!(server.position, 16);
    let inner = server.values[0].as_reference().unwrap();
    let Expr::Cond(id) = inner else {
        panic!("not a condition")
    };
    assert_eq!((id.field.as_str(), id.position), ("id", 30));
    assert_eq!(id.values, vec![text("1001")]);
    assert_eq!(expr.conditions().len(), 2);
}

#[test]
fn numbers_and_in_lists() {
    assert_eq!(cond("\"id EQ 1001\"").values, vec![Value::Number(1001)]);
    let c = cond("id IN 1,2,3");
    assert_eq!(c.op, Op::In);
    assert_eq!(
        c.values,
        vec![Value::Number(1), Value::Number(2), Value::Number(3)]
    );
    assert_eq!(c.single_value(), None);
    assert_eq!(cond("id IN ^1^,^2^").values, vec![text("1"), text("2")]);
    assert_eq!(cond("id IN 7").single_value(), Some(&Value::Number(7)));
    assert_eq!(canon("id IN 1 , 2 ,3"), "id IN 1,2,3");
}

#[test]
fn references_and_nulls() {
    assert_eq!(
        canon("\"test EQ {package EQ ^x^}\""),
        "test EQ {package EQ ^x^}"
    );
    assert_eq!(canon("ref={id=5}"), "ref EQ {id EQ 5}");
    assert_eq!(cond("ref={null}").values, vec![Value::Null]);
    assert_eq!(cond("ref={ NULL }").values, vec![Value::Null]);
    assert_eq!(cond("ref EQ null").values, vec![Value::Null]);
    assert_eq!(cond("ref EQ NULL").values, vec![Value::Null]);
    assert_eq!(cond("ref EQ {null}").values, vec![Value::Null]);
    // A field that happens to be called `null` inside a reference still works.
    assert_eq!(canon("ref EQ {null EQ 1}"), "ref EQ {null EQ 1}");
    assert_eq!(
        canon("a EQ {b EQ {c EQ {d EQ 1}}}"),
        "a EQ {b EQ {c EQ {d EQ 1}}}"
    );
    assert_eq!(
        canon("a EQ {b EQ 1||c EQ 2;d EQ 3}"),
        "a EQ {b EQ 1||c EQ 2;d EQ 3}"
    );
}

#[test]
fn jssdk_not_equal_null_reference() {
    let expr = parse_query("!executor EQ null").unwrap();
    let Expr::Not(inner) = expr else {
        panic!("not a not")
    };
    let Expr::Cond(c) = *inner else {
        panic!("not a condition")
    };
    assert_eq!((c.field.as_str(), c.position), ("executor", 1));
    assert_eq!(c.values, vec![Value::Null]);
}

#[test]
fn or_group_and_status_reference() {
    let q = "(name EQ ^a^||name EQ ^b^);status EQ {id EQ ^list_node.run_status.passed^}";
    let expr = parse_query(q).unwrap();
    let Expr::And(members) = &expr else {
        panic!("not an and")
    };
    assert!(matches!(&members[0], Expr::Or(alts) if alts.len() == 2));
    assert_eq!(expr.to_string(), q);
}

#[test]
fn between_and_comparisons() {
    let c = cond("creation_time BTW ^2026-01-01T00:00:00Z^...^2026-12-31T00:00:00Z^");
    assert_eq!(c.op, Op::Btw);
    assert_eq!(
        c.values,
        vec![text("2026-01-01T00:00:00Z"), text("2026-12-31T00:00:00Z")]
    );
    assert_eq!(c.single_value(), None);
    assert_eq!(
        cond("n BTW 1...5").values,
        vec![Value::Number(1), Value::Number(5)]
    );
    assert_eq!(
        cond("n BTW 1.5 ... -2").values,
        vec![Value::Decimal(1.5), Value::Number(-2)]
    );
    let c = cond("started GT ^2026-01-01T00:00:00Z^");
    assert_eq!(
        (c.op, c.single_value()),
        (Op::Gt, Some(&text("2026-01-01T00:00:00Z")))
    );
    assert_eq!(cond("duration GE 10").op, Op::Ge);
    assert_eq!(cond("duration LE 10").op, Op::Le);
    assert_eq!(cond("duration LT 10").op, Op::Lt);
}

#[test]
fn scalar_values() {
    assert_eq!(cond("manual EQ true").values, vec![Value::Bool(true)]);
    assert_eq!(cond("manual EQ FALSE").values, vec![Value::Bool(false)]);
    assert_eq!(cond("manual EQ TRUE").values, vec![Value::Bool(true)]);
    assert_eq!(cond("d EQ -5").values, vec![Value::Number(-5)]);
    assert_eq!(cond("d EQ +5").values, vec![Value::Number(5)]);
    assert_eq!(
        cond("d EQ -9223372036854775808").values,
        vec![Value::Number(i64::MIN)]
    );
    assert_eq!(cond("d EQ 0.25").values, vec![Value::Decimal(0.25)]);
    assert_eq!(cond("d EQ -3.0").values, vec![Value::Decimal(-3.0)]);
    assert_eq!(canon("d EQ -3.0"), "d EQ -3.0");
}

#[test]
fn text_escapes_and_spaces() {
    assert_eq!(cond("name EQ 'It\\'s'").values, vec![text("It's")]);
    assert_eq!(cond("name EQ ^a\\^b^").values, vec![text("a^b")]);
    assert_eq!(
        cond(r#"name EQ ^\\ \' \" \( \)^"#).values,
        vec![text(r#"\ ' " ( )"#)]
    );
    assert_eq!(cond("name EQ ^it's^").values, vec![text("it's")]);
    assert_eq!(cond("name EQ 'a^b'").values, vec![text("a^b")]);
    assert_eq!(
        cond("name EQ ^  with  spaces ^").values,
        vec![text("  with  spaces ")]
    );
    assert_eq!(cond("name EQ ^^").values, vec![text("")]);
    assert_eq!(cond("name EQ ''").values, vec![text("")]);
    assert_eq!(cond("name EQ ^é ü 日本^").values, vec![text("é ü 日本")]);
    assert_eq!(cond("name EQ ^a;b||c)(^").values, vec![text("a;b||c)(")]);
    assert_eq!(canon("name EQ 'a\\^b\\\\c'"), "name EQ ^a\\^b\\\\c^");
}

#[test]
fn precedence_not_and_or() {
    assert_eq!(canon("a EQ 1;b EQ 2||c EQ 3"), "a EQ 1;b EQ 2||c EQ 3");
    let expr = parse_query("a EQ 1;b EQ 2||c EQ 3;d EQ 4").unwrap();
    let Expr::Or(alts) = &expr else {
        panic!("|| must bind loosest: {expr:?}")
    };
    assert!(
        alts.iter()
            .all(|alt| matches!(alt, Expr::And(m) if m.len() == 2))
    );
    let expr = parse_query("!a EQ 1;b EQ 2").unwrap();
    let Expr::And(members) = &expr else {
        panic!("! must bind tightest: {expr:?}")
    };
    assert!(matches!(members[0], Expr::Not(_)));
    assert_eq!(canon("!(a EQ 1;b EQ 2)"), "!(a EQ 1;b EQ 2)");
    assert_eq!(canon("a EQ 1;(b EQ 2||c EQ 3)"), "a EQ 1;(b EQ 2||c EQ 3)");
    assert_eq!(canon("((a EQ 1))"), "a EQ 1");
    assert_eq!(canon("!!a EQ 1"), "!!a EQ 1");
    assert_eq!(
        canon("(a EQ 1||b EQ 2)||c EQ 3"),
        "(a EQ 1||b EQ 2)||c EQ 3"
    );
    let Expr::And(three) = parse_query("a=1;b=2;c=3").unwrap() else {
        panic!()
    };
    assert_eq!(three.len(), 3);
}

#[test]
fn whitespace_is_optional_and_tolerated() {
    let expected = "a EQ ^x^;(b EQ 1||!c EQ null)";
    assert_eq!(canon("a EQ^x^;(b EQ 1||!c EQ null)"), expected);
    assert_eq!(canon("  a EQ ^x^ ; ( b EQ 1 || ! c EQ null )  "), expected);
    assert_eq!(canon("\t\"a\tEQ\n^x^;(b=1||!c=null)\" "), expected);
    assert_eq!(canon("\" a=^x^;(b=1||!c=null) \""), expected);
    assert_eq!(canon("a.b_c1 EQ 1"), "a.b_c1 EQ 1");
    assert_eq!(canon("_x EQ 1"), "_x EQ 1");
}

#[test]
fn jssdk_builder_output() {
    for q in [
        "field EQ ^v^",
        "field EQ {sub EQ ^v^}",
        "field EQ null",
        "!field EQ ^v^",
        "(field EQ ^v^)",
        "a EQ ^v^;b EQ ^w^",
        "a EQ ^v^||b EQ ^w^",
        "field IN ^a^,^b^",
        "field BTW ^a^...^b^",
        "field LT ^v^",
        "field GT ^v^",
        "field LE ^v^",
        "field GE ^v^",
        "field EQ {null}",
        "field EQ 5",
        "field EQ false",
    ] {
        assert!(parse_query(q).is_ok(), "{q}");
    }
}

#[test]
fn display_round_trips() {
    for q in [
        "\"name='*testOne123*'\"",
        "name EQ ^pipe^;ci_server EQ {id EQ ^1001^}",
        "(name EQ ^a^||name EQ ^b^);status EQ {id EQ ^x^}",
        "!(a=1||b=2);!c IN 1,^2^,null;d BTW 1.5...2",
        "ref={null};x EQ 'a\\\\b\\^c'",
    ] {
        let once = canon(q);
        assert_eq!(canon(&once), once, "{q}");
    }
}

#[test]
fn optional_query() {
    assert_eq!(parse_optional_query("").unwrap(), None);
    assert_eq!(parse_optional_query("  \"\"  ").unwrap(), None);
    assert_eq!(parse_optional_query("\" \"").unwrap(), None);
    assert!(parse_optional_query("id EQ 1").unwrap().is_some());
    assert_eq!(parse_optional_query("id EQ").unwrap_err().position, 5);
}

#[test]
fn like_patterns() {
    assert_eq!(like_pattern("*testOne123*"), "%testOne123%");
    assert_eq!(like_pattern("50%_off\\*"), "50\\%\\_off\\\\%");
    assert_eq!(like_pattern("plain"), "plain");
    assert_eq!(like_pattern(""), "");
    assert!(text("a*").is_wildcard());
    assert!(!Value::Number(1).is_wildcard());
    assert_eq!(text("x").as_text(), Some("x"));
    assert_eq!(Value::Null.as_text(), None);
    assert_eq!(Value::Null.as_reference(), None);
}

#[test]
fn op_keywords() {
    for op in [Op::Eq, Op::Lt, Op::Gt, Op::Le, Op::Ge, Op::In, Op::Btw] {
        assert_eq!(Op::from_keyword(op.keyword()), Some(op));
    }
    assert_eq!(Op::from_keyword("eq"), None);
}
