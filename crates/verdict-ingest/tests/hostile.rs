//! Hostile report and payload inputs cost bounded memory and linear time:
//! a comment, text node or tag far larger than any limit is refused while
//! being read (the input here is generated on the fly, never held), deep
//! nesting is refused, and a tag with 200,000 attributes is checked for
//! duplicates in linear time.

// Test code: a failed unwrap is a failed test, with its message.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::io::{BufReader, Read};

use verdict_ingest::reports::{AnyFormat, ReportFormat, read_any};
use verdict_ingest::validate;

/// `head`, then `fill` repeated to `len` bytes, then `tail`, produced as read.
struct Generated {
    head: Vec<u8>,
    fill: u8,
    len: u64,
    tail: Vec<u8>,
    at: u64,
}

impl Generated {
    fn new(head: &str, fill: u8, len: u64, tail: &str) -> BufReader<Self> {
        BufReader::with_capacity(
            1 << 16,
            Self {
                head: head.as_bytes().to_vec(),
                fill,
                len,
                tail: tail.as_bytes().to_vec(),
                at: 0,
            },
        )
    }
}

impl Read for Generated {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let head = self.head.len() as u64;
        let total = head + self.len + self.tail.len() as u64;
        let mut n = 0;
        while n < buf.len() && self.at < total {
            let i = self.at;
            buf[n] = if i < head {
                self.head[usize::try_from(i).unwrap()]
            } else if i < head + self.len {
                self.fill
            } else {
                self.tail[usize::try_from(i - head - self.len).unwrap()]
            };
            n += 1;
            self.at += 1;
        }
        Ok(n)
    }
}

fn junit_error(reader: impl std::io::BufRead) -> String {
    read_any(reader, AnyFormat::Xml(ReportFormat::JUnit), |_| Ok(()))
        .unwrap_err()
        .to_string()
}

#[test]
fn a_huge_comment_text_or_tag_in_a_report_is_refused_while_reading() {
    let gib = 1 << 30;
    for (head, fill, tail) in [
        ("<testsuite name=\"s\"><!--", b'a', "--></testsuite>"),
        (
            "<testsuite name=\"s\"><system-out>",
            b'x',
            "</system-out></testsuite>",
        ),
        ("<testsuite name=\"", b'n', "\"/>"),
    ] {
        let e = junit_error(Generated::new(head, fill, gib, tail));
        assert!(e.contains("longer than 16777216 bytes"), "{head}: {e}");
    }
}

#[test]
fn a_huge_comment_or_text_in_a_payload_is_refused_while_reading() {
    for (head, fill, tail) in [
        ("<?xml version=\"1.0\"?><!--", b'a', "--><test_result/>"),
        (
            "<test_result><test_runs>",
            b'x',
            "</test_runs></test_result>",
        ),
    ] {
        let e = validate(Generated::new(head, fill, 1 << 30, tail))
            .unwrap_err()
            .to_string();
        assert!(e.contains("longer than"), "{head}: {e}");
    }
}

#[test]
fn deep_nesting_in_a_report_is_refused() {
    let depth = 300;
    let doc = format!(
        "<testsuites>{}{}</testsuites>",
        "<testsuite name=\"n\">".repeat(depth),
        "</testsuite>".repeat(depth)
    );
    let e = junit_error(doc.as_bytes());
    assert!(e.contains("nested more than 256 deep"), "{e}");
}

#[test]
fn many_attributes_are_checked_for_duplicates_in_linear_time() {
    let attrs: String = (0..200_000).map(|i| format!(" a{i}=\"1\"")).collect();
    let doc =
        format!("<testsuite name=\"s\"{attrs} a17=\"dup\"><testcase name=\"t\"/></testsuite>");
    let e = junit_error(doc.as_bytes());
    assert!(e.contains("duplicate attribute"), "{e}");
}

/// The `go test -json` format, as detected from a real first line.
fn go_format() -> AnyFormat {
    AnyFormat::detect(
        br#"{"Time":"2026-12-01T10:00:00Z","Action":"start","Package":"example.com/a"}"#,
    )
    .unwrap()
}

fn go_cases(input: &str) -> Result<usize, String> {
    let mut cases = 0;
    read_any(input.as_bytes(), go_format(), |e| {
        if matches!(e, verdict_ingest::reports::ReportEvent::Case(_)) {
            cases += 1;
        }
        Ok(())
    })
    .map_err(|e| e.to_string())?;
    Ok(cases)
}

#[test]
fn repeated_and_countless_go_build_failures_stay_bounded() {
    let first = r#"{"Time":"2026-12-01T10:00:00Z","Action":"start","Package":"example.com/a"}"#;
    let last =
        r#"{"Time":"2026-12-01T10:00:01Z","Action":"pass","Package":"example.com/a","Elapsed":1}"#;
    let repeated = format!(
        "{first}\n{}{last}\n",
        "FAIL\texample.com/broken [build failed]\n".repeat(100_000)
    );
    assert_eq!(
        go_cases(&repeated).unwrap(),
        1,
        "one build failure, printed 100,000 times"
    );
    let distinct: String = (0..10_001)
        .map(|i| format!("FAIL\texample.com/p{i} [build failed]\n"))
        .collect();
    let e = go_cases(&format!("{first}\n{distinct}{last}\n")).unwrap_err();
    assert!(
        e.contains("more than 10000 packages are open at once"),
        "{e}"
    );
}
