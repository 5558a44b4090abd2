//! `fields` and `order_by` parsing.

use super::*;

fn field(name: &str, sub_fields: Vec<FieldSelection>) -> FieldSelection {
    FieldSelection {
        name: name.to_owned(),
        sub_fields,
    }
}

fn leaf(name: &str) -> FieldSelection {
    field(name, Vec::new())
}

fn key(field: &str, descending: bool) -> OrderKey {
    OrderKey {
        field: field.to_owned(),
        descending,
    }
}

#[test]
fn fields_with_sub_selections() {
    assert_eq!(
        parse_fields("name,release{name,id},test{id}").unwrap(),
        vec![
            leaf("name"),
            field("release", vec![leaf("name"), leaf("id")]),
            field("test", vec![leaf("id")]),
        ]
    );
    assert_eq!(
        parse_fields("instance_id,plugin_version,url").unwrap(),
        vec![leaf("instance_id"), leaf("plugin_version"), leaf("url")]
    );
    assert_eq!(
        parse_fields("ci_job{ci_id}").unwrap(),
        vec![field("ci_job", vec![leaf("ci_id")])]
    );
    assert_eq!(
        parse_fields(" a { b { c } , d } , e ").unwrap(),
        vec![
            field("a", vec![field("b", vec![leaf("c")]), leaf("d")]),
            leaf("e")
        ]
    );
}

#[test]
fn blank_fields_mean_default() {
    assert_eq!(parse_fields("").unwrap(), Vec::new());
    assert_eq!(parse_fields("  ").unwrap(), Vec::new());
    assert_eq!(parse_order_by("").unwrap(), Vec::new());
    assert_eq!(parse_order_by(" \t").unwrap(), Vec::new());
}

#[test]
fn fields_errors() {
    let cases: &[(&str, usize, &str)] = &[
        ("name,", 5, "expected a field name but found end of input"),
        (",name", 0, "expected a field name but found ','"),
        ("a{}", 2, "expected a field name but found '}'"),
        ("a{b", 3, "expected ',' or '}' but found end of input"),
        ("a{b c}", 4, "expected ',' or '}' but found 'c'"),
        ("a}", 1, "expected ',' or end of fields but found '}'"),
        ("a b", 2, "expected ',' or end of fields but found 'b'"),
        ("1a", 0, "expected a field name but found '1'"),
        ("a,,b", 2, "expected a field name but found ','"),
    ];
    for &(input, position, message) in cases {
        let e = parse_fields(input).unwrap_err();
        assert_eq!(
            (e.position, e.message.as_str()),
            (position, message),
            "{input:?}"
        );
    }
    let deep = format!(
        "{}x{}",
        "a{".repeat(MAX_DEPTH + 1),
        "}".repeat(MAX_DEPTH + 1)
    );
    let e = parse_fields(&deep).unwrap_err();
    assert!(e.message.contains("nesting deeper"), "{e}");
    let ok = format!("{}x{}", "a{".repeat(MAX_DEPTH), "}".repeat(MAX_DEPTH));
    assert!(parse_fields(&ok).is_ok());
}

#[test]
fn order_by_keys() {
    assert_eq!(
        parse_order_by("-started,id").unwrap(),
        vec![key("started", true), key("id", false)]
    );
    assert_eq!(parse_order_by("id").unwrap(), vec![key("id", false)]);
    assert_eq!(
        parse_order_by(" - name , +creation_time ,release.name").unwrap(),
        vec![
            key("name", true),
            key("creation_time", false),
            key("release.name", false)
        ]
    );
}

#[test]
fn order_by_errors() {
    let cases: &[(&str, usize, &str)] = &[
        ("id,", 3, "expected a field name but found end of input"),
        ("-", 1, "expected a field name but found end of input"),
        ("--id", 1, "expected a field name but found '-'"),
        (
            "id desc",
            3,
            "expected ',' or end of order_by but found 'd'",
        ),
        ("a{b}", 1, "expected ',' or end of order_by but found '{'"),
    ];
    for &(input, position, message) in cases {
        let e = parse_order_by(input).unwrap_err();
        assert_eq!(
            (e.position, e.message.as_str()),
            (position, message),
            "{input:?}"
        );
    }
}
