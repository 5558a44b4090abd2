//! Rejected queries: every error names what was expected and where.

use super::*;

fn err(query: &str) -> QueryError {
    match parse_query(query) {
        Ok(expr) => panic!("{query:?} unexpectedly parsed as {expr}"),
        Err(err) => err,
    }
}

/// Asserts the position and that the message contains `needle`.
fn assert_err(query: &str, position: usize, needle: &str) {
    let e = err(query);
    assert_eq!(e.position, position, "{query:?}: {e}");
    assert!(
        e.message.contains(needle),
        "{query:?}: {e} lacks {needle:?}"
    );
}

#[test]
fn display_format() {
    let e = err("name");
    assert_eq!(
        e.to_string(),
        "query error at position 4: expected an operator (EQ, LT, GT, LE, GE, IN, BTW, =, <, >, <=, >=) \
         after field 'name' but found end of input"
    );
}

#[test]
fn missing_or_unknown_operator() {
    assert_err(
        "name ^a^",
        5,
        "expected an operator (EQ, LT, GT, LE, GE, IN, BTW, =, <, >, <=, >=) after field 'name' but found '^'",
    );
    assert_err("name EQUALS ^a^", 5, "but found 'EQUALS'");
    assert_err("name eq ^a^", 5, "(operators are upper-case)");
    assert_err("name != ^a^", 5, "but found '!'");
    assert_err("\"name\"", 5, "after field 'name' but found end of input");
}

#[test]
fn unterminated_strings() {
    assert_err(
        "name EQ ^abc",
        8,
        "unterminated string starting at position 8",
    );
    assert_err(
        "name EQ 'abc^",
        8,
        "unterminated string starting at position 8",
    );
    assert_err("name EQ ^abc\\^", 8, "unterminated string");
    assert_err("name EQ ^abc\\", 8, "unterminated string");
    // The closing double quote belongs to the wrapper, not to the string.
    assert_err(
        "\"name EQ ^abc\"",
        9,
        "unterminated string starting at position 9",
    );
    assert_err(
        "a EQ ^x^;b=^",
        11,
        "unterminated string starting at position 11",
    );
}

#[test]
fn unbalanced_brackets() {
    assert_err("a EQ 1)", 6, "unexpected ')'");
    assert_err("a EQ 1}", 6, "unexpected '}'");
    assert_err(
        "(a EQ 1",
        7,
        "expected ';', '||' or ')' but found end of input",
    );
    assert_err("(a EQ 1}", 7, "expected ';', '||' or ')' but found '}'");
    assert_err(
        "r EQ {a EQ 1",
        12,
        "expected ';', '||' or '}' but found end of input",
    );
    assert_err(
        "r EQ {a EQ 1)",
        12,
        "expected ';', '||' or '}' but found ')'",
    );
    assert_err(
        "()",
        1,
        "expected a condition (a field name, '!' or '(') but found ')'",
    );
    assert_err("r EQ {}", 6, "expected a condition");
}

#[test]
fn missing_conditions() {
    assert_err("", 0, "empty query");
    assert_err("   ", 3, "empty query");
    assert_err("\"\"", 1, "empty query");
    assert_err(
        "a EQ 1;",
        7,
        "expected a condition (a field name, '!' or '(') but found end of input",
    );
    assert_err("a EQ 1||", 8, "expected a condition");
    assert_err(";a EQ 1", 0, "but found ';'");
    assert_err("a EQ 1;;b EQ 2", 7, "but found ';'");
    assert_err("!", 1, "expected a condition");
    assert_err(
        "1 EQ 1",
        0,
        "expected a condition (a field name, '!' or '(') but found '1'",
    );
}

#[test]
fn bad_separators() {
    assert_err(
        "a EQ 1|b EQ 2",
        6,
        "expected ';', '||' or end of query but found '|'",
    );
    assert_err(
        "a EQ 1 b EQ 2",
        7,
        "expected ';', '||' or end of query but found 'b'",
    );
    assert_err("a EQ 1,2", 6, "but found ','");
    assert_err("a EQ 1&&b EQ 2", 6, "but found '&'");
    assert_err("a EQ ^x^ ^y^", 9, "but found '^'");
}

#[test]
fn bad_values() {
    assert_err(
        "a EQ",
        4,
        "expected a value (^text^, 'text', a number, true, false, null or {…}) but found end of input",
    );
    assert_err(
        "a EQ abc",
        5,
        "expected a value but found 'abc' (text must be quoted",
    );
    assert_err("a EQ \"abc\"", 5, "expected a value");
    assert_err("a EQ ;", 5, "expected a value");
    assert_err("a EQ -", 6, "expected a digit after '-'");
    assert_err("a EQ -x", 6, "expected a digit after '-'");
    assert_err(
        "a EQ 2026-01-01",
        5,
        "malformed number (dates and text must be quoted",
    );
    assert_err("a EQ 12:30", 5, "malformed number");
    assert_err("a EQ 10abc", 5, "malformed number");
    assert_err(
        "a EQ 9223372036854775808",
        5,
        "number 9223372036854775808 is out of range",
    );
    let huge = format!("a EQ {}.5", "9".repeat(400));
    assert_err(&huge, 5, "is out of range");
    assert_err("a IN 1,", 7, "expected a value");
    assert_err("a IN ,1", 5, "expected a value");
}

#[test]
fn bad_between() {
    assert_err(
        "a BTW 1",
        7,
        "expected '...' between the two BTW values of field 'a' but found end of input",
    );
    assert_err("a BTW 1..2", 7, "expected '...'");
    assert_err("a BTW 1,2", 7, "expected '...'");
    assert_err("a BTW 1...", 10, "expected a value");
}

#[test]
fn wrapper_quotes() {
    assert_err(
        "\"a EQ 1",
        7,
        "missing closing '\"' for the quote at position 0",
    );
    assert_err(
        "  \"",
        3,
        "missing closing '\"' for the quote at position 2",
    );
    assert_err("a EQ 1\"", 6, "but found '\"'");
    assert_err("\"\"a EQ 1\"\"", 1, "but found '\"'");
}

#[test]
fn positions_count_characters_not_bytes() {
    assert_err("n EQ ^é^;日本 EQ 1", 9, "expected a condition");
    assert_err("n EQ ^日本語^ x", 11, "but found 'x'");
}

#[test]
fn depth_is_limited() {
    let ok = format!("{}a EQ 1{}", "(".repeat(MAX_DEPTH), ")".repeat(MAX_DEPTH));
    assert!(parse_query(&ok).is_ok());
    let deep = format!(
        "{}a EQ 1{}",
        "(".repeat(MAX_DEPTH + 1),
        ")".repeat(MAX_DEPTH + 1)
    );
    assert_err(&deep, MAX_DEPTH, "nesting deeper than 64 levels");
    let nots = format!("{}a EQ 1", "!".repeat(60_000));
    assert_err(&nots, MAX_DEPTH, "nesting deeper");
    let mixed = "!(a EQ {".repeat(7_000);
    assert!(err(&mixed).message.contains("nested deeper"));
    let huge = format!("{}a EQ 1", "!".repeat(MAX_QUERY_CHARS));
    assert_err(&huge, MAX_QUERY_CHARS, "longer than 65536 characters");
}

#[test]
fn cross_references_are_limited_to_what_backends_run() {
    let nest = |n: usize| format!("{}x EQ 1{}", "a EQ {".repeat(n), "}".repeat(n));
    assert!(parse_query(&nest(MAX_REFERENCE_DEPTH)).is_ok());
    assert_err(
        &nest(MAX_REFERENCE_DEPTH + 1),
        MAX_REFERENCE_DEPTH * 6 + 5,
        "cross references nested deeper than 8 levels",
    );
    // 60 deep passed the parser once and failed in SQLite with a 500.
    assert!(err(&nest(60)).message.contains("cross references"));
}

#[test]
fn lists_and_condition_counts_are_capped() {
    let values = |n: usize| (0..n).map(|i| i.to_string()).collect::<Vec<_>>().join(",");
    assert!(parse_query(&format!("id IN {}", values(MAX_IN_VALUES))).is_ok());
    let e = err(&format!("id IN {}", values(MAX_IN_VALUES + 1)));
    assert!(
        e.message
            .contains("more than 1000 values in the IN list of field 'id'"),
        "{e}"
    );
    let ors = |n: usize| vec!["a EQ 1"; n].join("||");
    assert!(parse_query(&ors(MAX_CONDITIONS)).is_ok());
    assert!(
        err(&ors(MAX_CONDITIONS + 1))
            .message
            .contains("more than 256 conditions")
    );
}

#[test]
fn symbol_operators_and_placeholders() {
    let Ok(Expr::Cond(c)) = parse_query("started<'2026-01-01T00:00:00Z'") else {
        panic!("started<")
    };
    assert_eq!(c.op, Op::Lt);
    for (q, op) in [
        ("a>=1", Op::Ge),
        ("a <= 1", Op::Le),
        ("a > 1", Op::Gt),
        ("a=1", Op::Eq),
    ] {
        let Ok(Expr::Cond(c)) = parse_query(q) else {
            panic!("{q}")
        };
        assert_eq!(c.op, op, "{q}");
    }
    let Ok(Expr::Cond(c)) = parse_query("release IN [current_release],{id EQ 5}") else {
        panic!("placeholder in IN")
    };
    assert_eq!(c.values[0], Value::CurrentRelease);
    let Ok(Expr::Cond(c)) = parse_query("owner EQ [current_user]") else {
        panic!("user")
    };
    assert_eq!(c.values, vec![Value::CurrentUser]);
    assert_err("owner EQ [someone]", 9, "unknown placeholder '[someone]'");
}

#[test]
fn long_flat_queries_are_fine() {
    let wide = vec!["a EQ 1"; MAX_CONDITIONS].join(";");
    let Ok(Expr::And(members)) = parse_query(&wide) else {
        panic!("wide and")
    };
    assert_eq!(members.len(), MAX_CONDITIONS);
    let many = (0..MAX_IN_VALUES)
        .map(|i| i.to_string())
        .collect::<Vec<_>>()
        .join(",");
    let Ok(Expr::Cond(c)) = parse_query(&format!("id IN {many}")) else {
        panic!("wide in")
    };
    assert_eq!(c.values.len(), MAX_IN_VALUES);
}
