//! Golden tests of the test report readers (`verdict_ingest::reports`).
//!
//! Fixtures in `tests/reports/` are written for these tests: a Surefire
//! report with flaky and rerun tests, an Ant/Jenkins aggregate with nested
//! suites and output, a Jenkins-style report with properties, an xUnit.net v2
//! report, and malformed files whose error line and column are pinned. A
//! generated 200,000-case document checks that reading streams.

#![allow(
    clippy::unwrap_used,
    reason = "test helpers fail loudly on unreadable fixtures"
)]

use std::fs::File;
use std::io::{self, BufRead, BufReader, Read};
use std::path::PathBuf;

use verdict_ingest::reports::{
    CaseOutcome, Failure, ReportCase, ReportError, ReportEvent, ReportFormat, detect_format,
    read_report,
};

/// The well-formed fixtures: three JUnit flavours, then xUnit.net v2.
const WELL_FORMED: [&str; 4] = [
    "surefire-flaky.xml",
    "ant-nested.xml",
    "jenkins-properties.xml",
    "xunit-v2.xml",
];

fn path(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/reports")
        .join(name)
}

/// Reads a fixture through a buffer of `capacity` bytes; the events delivered
/// before an error are returned with it.
fn read_with(name: &str, capacity: usize) -> (Vec<ReportEvent>, Result<(), ReportError>) {
    let head = std::fs::read(path(name)).unwrap();
    // A DOCTYPE hides the format from detection; such files are read as JUnit.
    let format = detect_format(&head[..head.len().min(1024)]).unwrap_or(ReportFormat::JUnit);
    let reader = BufReader::with_capacity(capacity, File::open(path(name)).unwrap());
    let mut events = Vec::new();
    let result = read_report(reader, format, |event| {
        events.push(event);
        Ok(())
    });
    (events, result)
}

/// All events of a well-formed fixture.
fn events(name: &str) -> Vec<ReportEvent> {
    let (events, result) = read_with(name, 8 * 1024);
    result.unwrap_or_else(|e| panic!("{name}: {e}"));
    events
}

/// One line per event with every field but the failure texts:
/// `+suite @timestamp {properties}`, `name [classname] 12ms outcome …`, `-`.
fn summary(events: &[ReportEvent]) -> Vec<String> {
    events.iter().map(describe).collect()
}

fn describe(event: &ReportEvent) -> String {
    match event {
        ReportEvent::SuiteStart {
            name,
            timestamp,
            properties,
        } => {
            let properties: Vec<_> = properties.iter().map(|(k, v)| format!("{k}={v}")).collect();
            let timestamp = timestamp.as_deref().unwrap_or("-");
            format!("+{name} @{timestamp} {{{}}}", properties.join(", "))
        }
        ReportEvent::SuiteEnd => "-".to_owned(),
        ReportEvent::Case(case) => {
            let classname = case.classname.as_deref().unwrap_or("-");
            let outcome = match &case.outcome {
                CaseOutcome::Passed => "passed".to_owned(),
                CaseOutcome::Failed(f) => brief("failed", f),
                CaseOutcome::Errored(f) => brief("errored", f),
                CaseOutcome::Skipped { message } => {
                    format!("skipped({})", message.as_deref().unwrap_or("-"))
                }
            };
            let mut line = format!(
                "{} [{classname}] {}ms {outcome}",
                case.name, case.duration_ms
            );
            for rerun in &case.reruns {
                let label = if rerun.failed {
                    "rerun-failure"
                } else {
                    "rerun-error"
                };
                line = format!("{line} {}", brief(label, &rerun.failure));
            }
            if let Some(out) = &case.system_out {
                line = format!("{line} out={out:?}");
            }
            if let Some(err) = &case.system_err {
                line = format!("{line} err={err:?}");
            }
            line
        }
    }
}

fn brief(label: &str, failure: &Failure) -> String {
    let kind = failure.kind.as_deref().unwrap_or("-");
    let message = failure.message.as_deref().unwrap_or("-");
    format!("{label}({kind}: {message})")
}

fn case<'a>(events: &'a [ReportEvent], name: &str) -> &'a ReportCase {
    events
        .iter()
        .find_map(|event| match event {
            ReportEvent::Case(case) if case.name == name => Some(case),
            _ => None,
        })
        .unwrap_or_else(|| panic!("no case {name}"))
}

/// The failure text (stack trace) of a failed or errored case.
fn trace<'a>(events: &'a [ReportEvent], name: &str) -> &'a str {
    match &case(events, name).outcome {
        CaseOutcome::Failed(f) | CaseOutcome::Errored(f) => &f.text,
        other => panic!("{name} is {other:?}"),
    }
}

fn rerun_traces<'a>(events: &'a [ReportEvent], name: &str) -> Vec<&'a str> {
    let reruns = &case(events, name).reruns;
    reruns.iter().map(|r| r.failure.text.as_str()).collect()
}

#[test]
fn surefire_report_with_flaky_and_rerun_tests() {
    let events = events("surefire-flaky.xml");
    assert_eq!(
        summary(&events),
        [
            "+org.example.cart.CartServiceTest @- {java.version=21.0.2, surefire.rerunFailingTestsCount=2}",
            "addsItem [org.example.cart.CartServiceTest] 12ms passed",
            "appliesDiscount [org.example.cart.CartServiceTest] 348ms passed rerun-failure(org.opentest4j.AssertionFailedError: expected: <90> but was: <100>)",
            "checksOut [org.example.cart.CartServiceTest] 2500ms failed(java.util.concurrent.TimeoutException: timeout after 2s) rerun-failure(java.util.concurrent.TimeoutException: timeout after 2s (rerun 1)) rerun-error(java.net.SocketException: connection reset) out=\"attempt 1\\nattempt 2\\nattempt 3\\n\"",
            "refunds [org.example.cart.CartServiceTest] 1234500ms errored(java.lang.IllegalStateException: boom) err=\"WARN refund service unavailable\\n\"",
            "exportsCsv [org.example.cart.CartServiceTest] 0ms skipped(@Disabled: flaky on CI)",
            "cleansUp [org.example.cart.CartServiceTest] 4ms passed rerun-error(java.lang.NullPointerException: NPE) rerun-error(java.lang.NullPointerException: NPE again)",
            "-",
        ]
    );
    let expected = "java.util.concurrent.TimeoutException: timeout after 2s\n\tat org.example.cart.CartServiceTest.checksOut(CartServiceTest.java:57)";
    assert_eq!(trace(&events, "checksOut"), expected);
    let expected = "java.lang.IllegalStateException: boom\n\tat org.example.cart.CartServiceTest.refunds(CartServiceTest.java:70)";
    assert_eq!(trace(&events, "refunds"), expected);
    let flaky = "org.opentest4j.AssertionFailedError: expected: <90> but was: <100>\n\tat org.example.cart.CartServiceTest.appliesDiscount(CartServiceTest.java:41)";
    assert_eq!(rerun_traces(&events, "appliesDiscount"), [flaky]);
    assert_eq!(
        rerun_traces(&events, "checksOut")[1],
        "java.net.SocketException: connection reset"
    );
}

#[test]
fn ant_report_with_nested_suites_and_output() {
    let events = events("ant-nested.xml");
    assert_eq!(
        summary(&events),
        [
            "+all @2024-05-02T09:15:00 {}",
            "+com.acme.parser.LexerTest @2024-05-02T09:15:01 {ant.version=Apache Ant(TM) version 1.10.14}",
            "readsNumbers [com.acme.parser.LexerTest] 100ms passed out=\"tokens: 3\\n\"",
            "readsStrings [com.acme.parser.LexerTest] 0ms failed(junit.framework.AssertionFailedError: expected:<\"a\"> but was:<\"b\">)",
            "skipsComments [com.acme.parser.LexerTest] 0ms skipped(-)",
            "-",
            "+com.acme.parser.ParserTest @- {}",
            "+com.acme.parser.ParserTest$Expressions @- {}",
            "precedence [com.acme.parser.ParserTest$Expressions] 250ms passed out=\"a * b + c\\n => ((a * b) + c)\\n\"",
            "-",
            "rejectsGarbage [com.acme.parser.ParserTest] 13ms errored(java.lang.NullPointerException: -)",
            "-",
            "-",
        ]
    );
    let expected = "junit.framework.AssertionFailedError: expected:<\"a\"> but was:<\"b\">\n\tat com.acme.parser.LexerTest.readsStrings(LexerTest.java:22)";
    assert_eq!(trace(&events, "readsStrings"), expected);
    assert_eq!(trace(&events, "rejectsGarbage"), "");
}

#[test]
fn jenkins_style_report_with_properties() {
    let events = events("jenkins-properties.xml");
    assert_eq!(
        summary(&events),
        [
            "+api.users @2024-06-11T14:02:33.511 {build=1432, branch=release/2.4, note=A & B \u{263A}}",
            "test_create[admin] [api.users.test_create] 500ms passed",
            // The first of <failure> and <error> wins.
            "test_create[guest] [api.users.test_create] 750ms failed(AssertionError: AssertionError: 403 != 201) out=\"creating guest\\n\"",
            "-",
            // Properties after the cases are not reported.
            "+api.orders @2024-06-11T14:02:34.761 {}",
            // A failure beats an earlier skip; 2000.0004 s rounds down.
            "test_list [api.orders] 2000000ms failed(AssertionError: -)",
            "test_empty_skip [-] 0ms skipped(needs database)",
            "-",
        ]
    );
    let expected = "def test_create(role):\n>       assert resp.status == 201\nE       AssertionError: 403 != 201";
    assert_eq!(trace(&events, "test_create[guest]"), expected);
}

#[test]
fn xunit_v2_report_with_pass_fail_skip() {
    let events = events("xunit-v2.xml");
    assert_eq!(
        summary(&events),
        [
            "+Billing.Tests.dll @2024-06-11T14:02:33 {test-framework=xUnit.net 2.8.1.27802, environment=64-bit .NET 8.0.6 [collection-per-class, parallel (4 threads)]}",
            "+Test collection for Billing.Tests.InvoiceTests @- {}",
            "Billing.Tests.InvoiceTests.TotalsLines [Billing.Tests.InvoiceTests] 6ms passed",
            "Billing.Tests.InvoiceTests.AppliesTax(rate: 0.2) [Billing.Tests.InvoiceTests] 123ms failed(Xunit.Sdk.EqualException: Assert.Equal() Failure: Values differ\nExpected: 120\nActual:   100) out=\"computing tax for 3 lines\\n\"",
            "Billing.Tests.InvoiceTests.Rounds [Billing.Tests.InvoiceTests] 0ms skipped(Waiting for rounding rules)",
            "-",
            "+Test collection for Billing.Tests.RefundTests @- {}",
            "Billing.Tests.RefundTests.Partial [Billing.Tests.RefundTests] 162ms passed",
            "Billing.Tests.RefundTests.Explicit [Billing.Tests.RefundTests] 0ms skipped(-)",
            "-",
            "-",
        ]
    );
    let expected = "   at Billing.Tests.InvoiceTests.AppliesTax(Decimal rate) in C:\\build\\InvoiceTests.cs:line 42\n   at System.RuntimeMethodHandle.InvokeMethod(Object target, Void** arguments, Signature sig, Boolean isConstructor)";
    assert_eq!(
        trace(&events, "Billing.Tests.InvoiceTests.AppliesTax(rate: 0.2)"),
        expected
    );
}

#[test]
fn tiny_buffers_give_the_same_events() {
    for name in WELL_FORMED {
        let (tiny, result) = read_with(name, 1);
        result.unwrap();
        assert_eq!(tiny, events(name), "{name}");
    }
}

#[test]
fn detects_formats_from_content() {
    let junit = Some(ReportFormat::JUnit);
    let xunit = Some(ReportFormat::XUnitV2);
    let expected = [junit, junit, junit, xunit, xunit, None];
    let files = WELL_FORMED
        .into_iter()
        .chain(["malformed-xunit-result.xml", "malformed-doctype.xml"]);
    for (name, expected) in files.zip(expected) {
        let head = std::fs::read(path(name)).unwrap();
        let detected = detect_format(&head[..head.len().min(512)]);
        assert_eq!(detected, expected, "{name}");
    }
    #[rustfmt::skip]
    let cases: [(&[u8], _); 9] = [
        (b"<testsuite name='x'/>", junit),
        (b"\xEF\xBB\xBF  <!-- c --><?pi x?>\n<testsuites>", junit),
        (b"<assembly name='a.dll'>", xunit),
        (b"<?xml version='1.0'?><assemblies\n>", xunit),
        (b"<j:testsuites xmlns:j='urn:x'>", junit),
        (b"<TestRun id='2'>", None),
        (b"<testsuitesX>", None),
        (b"not xml at all", None),
        (b"<?xml version='1.0'?><!-- unfinished comm", None),
    ];
    for (head, expected) in cases {
        let shown = String::from_utf8_lossy(head);
        assert_eq!(detect_format(head), expected, "{shown}");
    }
}

#[test]
fn malformed_files_report_line_and_column() {
    // (file, events delivered before the error, line, column, message part)
    #[rustfmt::skip]
    let cases = [
        ("malformed-mismatched.xml", 2, 7, 3, "</testsuite> does not match start tag <testcase>"),
        ("malformed-truncated.xml", 2, 4, 5, "the document ends early"),
        ("malformed-doctype.xml", 0, 2, 1, "DOCTYPE declarations are not allowed"),
        ("malformed-entity.xml", 1, 3, 23, "undefined entity '&nbsp;'"),
        ("malformed-unclosed.xml", 1, 4, 1, "before element <system-out> is closed"),
        ("malformed-xunit-result.xml", 3, 5, 7, "result 'Inconclusive' is not one of"),
    ];
    for (name, delivered, line, column, message) in cases {
        for capacity in [1, 8 * 1024] {
            let (events, result) = read_with(name, capacity);
            let err = result.expect_err(name);
            assert_eq!((err.line, err.column), (line, column), "{name}: {err}");
            assert!(err.message.contains(message), "{name}: {err}");
            assert_eq!(events.len(), delivered, "{name}: events before the error");
        }
    }
}

#[test]
fn refuses_documents_that_are_not_the_format() {
    use ReportFormat::{JUnit, XUnitV2};
    #[rustfmt::skip]
    let cases: [(&[u8], _, &str); 6] = [
        (b"<assemblies/>", JUnit, "1, column 1: expected a JUnit report (<testsuites> or"),
        (b"\n <testsuite/>", XUnitV2, "2, column 2: expected an xUnit.net v2 report"),
        (b"<testsuite/><testsuite/>", JUnit, "1, column 13: a document has only one root"),
        (b"  ", JUnit, "1, column 3: the document has no root element"),
        (b"\xFF\xFE<\0", JUnit, "1, column 1: UTF-16 reports are not supported"),
        (b"<testsuite>\n<testcase a='1' a='2'/>", JUnit, "2, column 17: duplicate attribute"),
    ];
    for (doc, format, expected) in cases {
        let err = read_report(doc, format, |_| Ok(())).unwrap_err();
        let shown = err.to_string();
        assert!(shown.starts_with(&format!("line {expected}")), "{shown}");
    }
}

#[test]
fn decodes_latin1_and_normalises_line_ends() {
    let doc = b"<?xml version='1.0' encoding='ISO-8859-1'?>\r\n<testsuite name='caf\xE9'>\r\n<testcase name='t' time='1'><system-out>a\r\nb\rc</system-out></testcase></testsuite>";
    let mut events = Vec::new();
    read_report(&doc[..], ReportFormat::JUnit, |e| {
        events.push(e);
        Ok(())
    })
    .unwrap();
    let expected = [
        "+caf\u{e9} @- {}",
        "t [-] 1000ms passed out=\"a\\nb\\nc\"",
        "-",
    ];
    assert_eq!(summary(&events), expected);
    assert_eq!(case(&events, "t").system_out.as_deref(), Some("a\nb\nc"));
    let invalid = b"<testsuite>\n  <testcase name='caf\xE9'/></testsuite>";
    let err = read_report(&invalid[..], ReportFormat::JUnit, |_| Ok(())).unwrap_err();
    assert_eq!((err.line, err.column), (2, 22), "{err}");
}

#[test]
fn callback_errors_stop_reading_at_the_element() {
    let doc = "<testsuite name='s'>\n  <testcase name='a'/>\n  <testcase name='b'/>\n</testsuite>";
    let mut seen = 0;
    let err = read_report(doc.as_bytes(), ReportFormat::JUnit, |event| {
        seen += 1;
        match event {
            ReportEvent::Case(case) if case.name == "b" => Err("quota exceeded".to_owned()),
            _ => Ok(()),
        }
    })
    .unwrap_err();
    assert_eq!(err.to_string(), "line 3, column 3: quota exceeded");
    assert_eq!(seen, 3);
}

/// A reader over generated chunks, so a large document never exists whole.
struct Chunks<I> {
    chunks: I,
    current: Vec<u8>,
    at: usize,
}

impl<I: Iterator<Item = Vec<u8>>> Read for Chunks<I> {
    fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
        let available = self.fill_buf()?;
        let n = available.len().min(out.len());
        out[..n].copy_from_slice(&available[..n]);
        self.consume(n);
        Ok(n)
    }
}

impl<I: Iterator<Item = Vec<u8>>> BufRead for Chunks<I> {
    fn fill_buf(&mut self) -> io::Result<&[u8]> {
        while self.at == self.current.len() {
            match self.chunks.next() {
                Some(chunk) => (self.current, self.at) = (chunk, 0),
                None => return Ok(&[]),
            }
        }
        Ok(&self.current[self.at..])
    }

    fn consume(&mut self, amt: usize) {
        self.at += amt;
    }
}

#[test]
fn streams_a_200k_case_document() {
    const SUITES: usize = 20;
    const PER_SUITE: usize = 10_000;
    let case = |i: usize| {
        let xml = if i.is_multiple_of(1000) {
            format!(
                "  <testcase name=\"t{i}\" classname=\"gen.C\" time=\"0.002\"><failure message=\"m{i}\">at gen.C</failure></testcase>\n"
            )
        } else {
            format!("  <testcase name=\"t{i}\" classname=\"gen.C\" time=\"0.001\"/>\n")
        };
        xml.into_bytes()
    };
    let suite = move |s: usize| {
        let open = format!("<testsuite name=\"gen.S{s}\" tests=\"{PER_SUITE}\">\n").into_bytes();
        std::iter::once(open)
            .chain((s * PER_SUITE..(s + 1) * PER_SUITE).map(case))
            .chain(std::iter::once(b"</testsuite>\n".to_vec()))
    };
    let chunks = std::iter::once(b"<?xml version=\"1.0\"?>\n<testsuites>\n".to_vec())
        .chain((0..SUITES).flat_map(suite))
        .chain(std::iter::once(b"</testsuites>\n".to_vec()));
    let reader = Chunks {
        chunks,
        current: Vec::new(),
        at: 0,
    };

    let (mut cases, mut failed, mut total_ms, mut suites, mut ends) = (0, 0, 0, 0, 0);
    read_report(reader, ReportFormat::JUnit, |event| {
        match event {
            ReportEvent::SuiteStart { .. } => suites += 1,
            ReportEvent::SuiteEnd => ends += 1,
            ReportEvent::Case(case) => {
                cases += 1;
                total_ms += case.duration_ms;
                failed += usize::from(matches!(case.outcome, CaseOutcome::Failed(_)));
            }
        }
        Ok(())
    })
    .unwrap();
    assert_eq!(cases, SUITES * PER_SUITE);
    assert_eq!((suites, ends), (SUITES, SUITES));
    assert_eq!(failed, 200);
    assert_eq!(total_ms, 199_800 + 200 * 2);
}
