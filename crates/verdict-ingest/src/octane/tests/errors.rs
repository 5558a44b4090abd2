//! Errors: kind, message and position (1-based line, column in characters).

use super::{doc, error, read};
use crate::octane::{PayloadErrorKind, validate};

fn kind(xml: &[u8]) -> PayloadErrorKind {
    read(xml).unwrap_err().kind
}

const RUN: &str = r#"<test_run name="a" duration="1" status="Passed""#;

#[test]
fn the_protocol_example_message() {
    let xml = "<?xml version=\"1.0\"?>\n<test_result><test_runs>\n<test_run package=\"hello\" name=\"testOne\" duration=\"300\" status=\"passed\"/>\n</test_runs></test_result>";
    assert_eq!(
        error(xml),
        "line 3, column 57: attribute 'status' of <test_run> has value 'passed'; allowed: Passed, Skipped, Failed, Planned"
    );
}

#[test]
fn columns_count_characters() {
    let xml = doc("<test_run name=\"ééé😀\" duration=\"1\" status=\"x\"/>");
    // <test_result><test_runs> is 24 characters; status starts 35 characters later.
    assert!(
        error(&xml).starts_with("line 1, column 60: attribute 'status'"),
        "{}",
        error(&xml)
    );
    let latin = b"<?xml version=\"1.0\" encoding=\"latin1\"?>\n<test_result><test_runs><test_run name=\"\xe9\xe9\" duration=\"1\" status=\"x\"/></test_runs></test_result>";
    let err = read(latin).unwrap_err();
    assert_eq!((err.line, err.column), (2, 58));
}

#[test]
fn attribute_errors() {
    let cases = [
        (
            doc("<test_run name=\"a\" duration=\"1\"/>"),
            "line 1, column 25: <test_run> is missing required attribute 'status'",
        ),
        (
            doc(&format!("{RUN} colour=\"red\"/>")),
            "line 1, column 73: attribute 'colour' is not allowed on <test_run>",
        ),
        (
            doc(&format!(
                "<test_run name=\"{}\" duration=\"1\" status=\"Passed\"/>",
                "x".repeat(256)
            )),
            "line 1, column 35: attribute 'name' of <test_run> is 256 characters long; at most 255 are allowed",
        ),
        (
            doc("<test_run name=\"\" duration=\"1\" status=\"Passed\"/>"),
            "line 1, column 35: attribute 'name' of <test_run> is empty; at least 1 character is required",
        ),
        (
            doc("<test_run name=\"a\" duration=\"3s\" status=\"Passed\"/>"),
            "line 1, column 44: attribute 'duration' of <test_run> has value '3s'; expected a whole number",
        ),
        (
            doc(&format!("{RUN} manual=\"yes\"/>")),
            "line 1, column 73: attribute 'manual' of <test_run> has value 'yes'; allowed: true, false, 1, 0",
        ),
        (
            doc(&format!("{RUN} external_report_url=\"ftp://x\"/>")),
            "line 1, column 73: attribute 'external_report_url' of <test_run> has value 'ftp://x'; expected a URL starting with http:/, https:/, td:/, tds:/ or testdirector",
        ),
        (
            doc(&format!(
                "{RUN}><release_ref id=\"123456789012345678901234567890123456\"/></test_run>"
            )),
            "line 1, column 86: attribute 'id' of <release_ref> has value '123456789012345678901234567890123456'; the number is outside the 64-bit integer range",
        ),
        (
            doc(&format!(
                "{RUN}><test_fields><test_field type=\"test_level\" value=\"x\"/></test_fields></test_run>"
            )),
            "line 1, column 98: attribute 'type' of <test_field> has value 'test_level'; allowed: Test_Level, Test_Type, Testing_Tool_Type, Framework",
        ),
    ];
    for (xml, expected) in cases {
        assert_eq!(error(&xml), expected);
    }
}

#[test]
fn structure_errors() {
    let cases = [
        (
            "<test_result></test_result>".to_owned(),
            "line 1, column 14: <test_result> is missing <test_runs>",
        ),
        (
            "<test_result><test_runs/><test_runs/></test_result>".to_owned(),
            "line 1, column 26: <test_runs> may occur only once in <test_result>",
        ),
        (
            "<test_result><suite_ref id=\"1\"/><build server_id=\"s\" job_id=\"j\" build_id=\"b\"/><test_runs/></test_result>".to_owned(),
            "line 1, column 33: <build> must come before <suite_ref> in <test_result>",
        ),
        (
            "<test_result><release_ref id=\"1\"/><release name=\"r\"/><test_runs/></test_result>".to_owned(),
            "line 1, column 35: <release_ref> and <release> cannot both be given in <test_result>",
        ),
        (
            doc(&format!("{RUN}/><gherkin_test_run/>")),
            "line 1, column 74: <gherkin_test_run> cannot be mixed with <test_run> in <test_runs>",
        ),
        (
            doc(&format!("{RUN}><description/><error/></test_run>")),
            "line 1, column 87: <error> must come before <description> in <test_run>",
        ),
        (
            doc(&format!("{RUN}><build server_id=\"s\" job_id=\"j\" build_id=\"b\"/></test_run>")),
            "line 1, column 73: unexpected element <build> in <test_run>; expected <suite_ref>, <program_ref>, <release_ref>, <release>, <milestone_ref>, <backlog_items>, <product_areas>, <test_fields>, <environment>, <error>, <description>, <steps> or </test_run>",
        ),
        (
            doc(&format!("{RUN}><error>x<b/></error></test_run>")),
            "line 1, column 81: unexpected element <b> in <error>, which holds text only",
        ),
        (
            doc(&format!("{RUN}><steps><step name=\"s\" duration=\"1\" status=\"passed\"><input_parameters/></step></steps></test_run>")),
            "line 1, column 124: <input_parameters> is missing <parameter>",
        ),
        (
            doc("x"),
            "line 1, column 25: text is not allowed in <test_runs>, which holds elements only",
        ),
        (
            "<results/>".to_owned(),
            "line 1, column 1: the root element is <results>; expected <test_result>",
        ),
        (
            "<v:test_result xmlns:v=\"urn:v\"><test_runs/></v:test_result>".to_owned(),
            "line 1, column 1: the root element <v:test_result> is in namespace 'urn:v'; expected <test_result> in no namespace",
        ),
    ];
    for (xml, expected) in cases {
        assert_eq!(error(&xml), expected, "{xml}");
    }
}

#[test]
fn gherkin_errors() {
    let feature = "<feature name=\"\" path=\"p\" started=\"1\"><file/></feature>";
    let xml = doc(&format!(
        "<gherkin_test_run name=\"\" duration=\"1\" status=\"Passed\">{feature}</gherkin_test_run>"
    ));
    assert_eq!(
        error(&xml),
        "line 1, column 80: <feature> is missing required attribute 'tag'"
    );
    let xml = doc(
        "<gherkin_test_run name=\"\" duration=\"1\" status=\"Passed\"><feature name=\"\" path=\"p\" tag=\"\" started=\"1\"><file/><scenarios><scenario name=\"s\" status=\"Passed\"/></scenarios></feature></gherkin_test_run>",
    );
    assert_eq!(
        error(&xml),
        "line 1, column 143: <scenario> is missing <steps>"
    );
}

#[test]
fn not_well_formed() {
    let cases: [(&[u8], &str); 7] = [
        (
            b"<test_result><test_runs>",
            "line 1, column 25: the document ends inside <test_runs> (truncated?)",
        ),
        (
            b"<test_result><test_runs></test_result>",
            "line 1, column 25: end tag </test_result> does not match start tag <test_runs>",
        ),
        (
            b"<test_result><test_runs/></test_result>x",
            "line 1, column 40: text is not allowed after the root element",
        ),
        (
            b"<test_result><test_runs><test_run name=\"a\" name=\"b\"/></test_runs></test_result>",
            "line 1, column 44: attribute 'name' appears twice on <test_run>",
        ),
        (
            b"<test_result><test_runs>&nbsp;</test_runs></test_result>",
            "line 1, column 25: entity '&nbsp;' is not defined (only &lt; &gt; &amp; &apos; &quot; and character references are)",
        ),
        (
            b"<test_result>\n<test_runs>\x01</test_runs></test_result>",
            "line 2, column 12: character U+0001 is not allowed in XML",
        ),
        (
            b"<test_result><test_runs name=\"<\"/></test_result>",
            "line 1, column 31: '<' is not allowed in attribute values",
        ),
    ];
    for (xml, expected) in cases {
        let err = read(xml).unwrap_err();
        assert_eq!(err.kind, PayloadErrorKind::NotWellFormed);
        assert_eq!(err.to_string(), expected);
    }
}

#[test]
fn kinds() {
    assert_eq!(kind(b""), PayloadErrorKind::Empty);
    assert_eq!(kind(b" \n\t"), PayloadErrorKind::Empty);
    assert_eq!(kind(b"<!-- only -->"), PayloadErrorKind::NotWellFormed);
    assert_eq!(
        kind(b"<!DOCTYPE test_result><test_result><test_runs/></test_result>"),
        PayloadErrorKind::Doctype
    );
    assert_eq!(
        kind(b"<!DOCTYPE test_result [<!ENTITY a \"b\">]><test_result><test_runs/></test_result>"),
        PayloadErrorKind::Doctype
    );
    assert_eq!(
        kind(b"<!DOCTYPE test_result [ <!ENTITY"),
        PayloadErrorKind::Doctype
    );
    assert_eq!(
        kind(b"<test_result><test_runs>\xff</test_runs></test_result>"),
        PayloadErrorKind::Encoding
    );
    assert_eq!(
        kind(b"<?xml version=\"1.0\" encoding=\"UTF-16\"?><test_result/>"),
        PayloadErrorKind::Encoding
    );
    assert_eq!(kind(b"\xff\xfe<\x00"), PayloadErrorKind::Encoding);
    assert_eq!(
        kind(b"<?xml version=\"1.0\" encoding=\"ascii\"?><test_result name=\"\xe9\"/>"),
        PayloadErrorKind::Encoding
    );
    assert_eq!(
        kind(b"<?xml version=\"1.0\" encoding=\"windows-1252\"?><test_result/>"),
        PayloadErrorKind::Encoding
    );
}

#[test]
fn io_errors_are_reported() {
    struct Failing;
    impl std::io::Read for Failing {
        fn read(&mut self, _: &mut [u8]) -> std::io::Result<usize> {
            Err(std::io::Error::other("disk on fire"))
        }
    }
    let err = validate(std::io::BufReader::new(Failing)).unwrap_err();
    assert_eq!(err.kind, PayloadErrorKind::Io);
    assert!(err.message.contains("disk on fire"));
}

#[test]
fn the_first_error_in_document_order_wins() {
    let xml = doc(&format!(
        "<test_run name=\"\" duration=\"x\" status=\"passed\"/>{RUN} foo=\"1\"/>"
    ));
    assert!(error(&xml).contains("attribute 'name' of <test_run> is empty"));
    let xml = doc(&format!("{RUN}/><test_run/>"));
    let mut reader = crate::octane::PayloadReader::new(xml.as_bytes()).unwrap();
    assert!(reader.next_item().unwrap().is_some());
    let first = reader.next_item().unwrap_err();
    assert_eq!(reader.next_item().unwrap_err(), first, "errors are sticky");
}
