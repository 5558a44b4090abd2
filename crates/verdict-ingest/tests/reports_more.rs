//! Golden tests of the NUnit 2, NUnit 3, TestNG and TRX report readers
//! (`verdict_ingest::reports`).
//!
//! Fixtures in `tests/reports/` are written for these tests: an NUnit 2.6
//! report with namespaces, a parameterized test and every result kind; an
//! NUnit 3 report with a parameterized method and error-, invalid- and
//! cancel-labelled failures, a warning and an inconclusive case; a TestNG
//! report with configuration methods, data-provider invocations and skips; a
//! TRX report with failure, error, not-executed, timeout and output; and one
//! malformed file per format whose error line and column are pinned.

#![allow(
    clippy::unwrap_used,
    reason = "test helpers fail loudly on unreadable fixtures"
)]

#[path = "reports_more/support.rs"]
mod support;

use verdict_ingest::reports::{ReportEvent, ReportFormat, detect_format, read_report};

use support::{describe, events, events_of, path, read_with, stream, summary, trace};

/// The well-formed fixtures and their formats.
const WELL_FORMED: [(&str, ReportFormat); 4] = [
    ("nunit2.xml", ReportFormat::NUnit2),
    ("nunit3.xml", ReportFormat::NUnit3),
    ("testng.xml", ReportFormat::TestNG),
    ("trx.xml", ReportFormat::Trx),
];

const TRX_NS: &str = "http://microsoft.com/schemas/VisualStudio/TeamTest/2010";

#[test]
fn nunit2_report_with_namespaces_and_every_result() {
    let events = events("nunit2.xml");
    assert_eq!(
        summary(&events),
        [
            "+Calc.Tests.dll @2024-06-11T14:02:33 {nunit-version=2.6.4.14350, clr-version=4.0.30319.42000, os-version=Microsoft Windows NT 10.0.19045.0, platform=Win32NT}",
            "+Calc @- {}",
            "+Tests @- {}",
            "+AdderTests @- {Owner=billing-team}",
            "Calc.Tests.AdderTests.AddsTwoNumbers [Calc.Tests.AdderTests] 12ms passed",
            "Calc.Tests.AdderTests.AddsNegatives [Calc.Tests.AdderTests] 34ms failed(-:   Expected: -3\n  But was:  3)",
            // The ParameterizedTest grouping is no suite of its own.
            "Calc.Tests.AdderTests.AddsMany(1,2,3) [Calc.Tests.AdderTests] 2ms passed",
            "Calc.Tests.AdderTests.AddsMany(\"1.5\",2,3.5) [Calc.Tests.AdderTests] 1ms errored(-: System.FormatException : Input string was not in a correct format.)",
            "-",
            "+DividerTests @- {}",
            "Calc.Tests.DividerTests.DividesByZero [Calc.Tests.DividerTests] 0ms skipped(Waiting for the spec)",
            "Calc.Tests.DividerTests.Rounds [Calc.Tests.DividerTests] 0ms errored(-: Method Rounds has 1 parameter(s), but no arguments were provided)",
            "Calc.Tests.DividerTests.Estimates [Calc.Tests.DividerTests] 3ms skipped(No reference data)",
            // NUnit 2.4 style: no `result`, `success` decides.
            "Calc.Tests.DividerTests.Legacy [Calc.Tests.DividerTests] 340ms passed",
            "-",
            "-",
            "-",
            "-",
        ]
    );
    assert_eq!(
        trace(&events, "Calc.Tests.AdderTests.AddsNegatives"),
        "at Calc.Tests.AdderTests.AddsNegatives() in c:\\build\\AdderTests.cs:line 21"
    );
    assert_eq!(trace(&events, "Calc.Tests.DividerTests.Rounds"), "");
}

#[test]
fn nunit3_report_with_parameterized_and_labelled_cases() {
    let events = events("nunit3.xml");
    assert_eq!(
        summary(&events),
        [
            "+Shop.Tests.dll @2024-06-11T14:02:33.5Z {framework-version=3.14.0.0, clr-version=8.0.6, os-version=Microsoft Windows 10.0.22631, platform=Win32NT, os-architecture=x64, _PID=4242, _APPDOMAIN=test-domain-}",
            "+Shop @2024-06-11T14:02:33.6Z {}",
            "+CartTests @2024-06-11T14:02:33.7Z {Category=Fast, Description=Cart & checkout}",
            "AddsItem [Shop.CartTests] 12ms passed out=\"added 1 item\\n\"",
            "AppliesDiscount(10,90) [Shop.CartTests] 2ms passed",
            // 21.5 ms rounds half up.
            "AppliesDiscount(110,0) [Shop.CartTests] 22ms failed(-:   Expected: 0\n  But was:  -10)",
            "ChecksOut [Shop.CartTests] 100ms errored(-: System.InvalidOperationException : payment gateway unavailable)",
            "Rounds [Shop.CartTests] 0ms errored(-: No arguments were provided)",
            "TakesForever [Shop.CartTests] 1000ms errored(-: -)",
            "Refunds [Shop.CartTests] 0ms skipped(Refunds are not implemented)",
            "Estimates [Shop.CartTests] 3ms skipped(No reference data)",
            "WarnsOnLargeCart [Shop.CartTests] 4ms passed out=\"filling cart\\nWarning: Cart exceeds 100 items\"",
            "-",
            "-",
            "-",
        ]
    );
    let expected = "   at Shop.Cart.CheckOut() in C:\\build\\Cart.cs:line 88\n   at Shop.CartTests.ChecksOut() in C:\\build\\CartTests.cs:line 41";
    assert_eq!(trace(&events, "ChecksOut"), expected);
    assert_eq!(trace(&events, "TakesForever"), "");
}

#[test]
fn testng_report_without_config_methods() {
    let events = events("testng.xml");
    assert_eq!(
        summary(&events),
        [
            "+Shop regression @2024-06-11T12:02:33Z {}",
            "+Cart @2024-06-11T12:02:33Z {}",
            // setUp and the failing tearDown are configuration methods.
            "addsItem [shop.CartTest] 12ms passed out=\"cart has 1 item\\ntotal is 9.99\\n\"",
            "appliesDiscount(10, 90) [shop.CartTest] 3ms passed",
            "appliesDiscount(110, null) [shop.CartTest] 8ms failed(java.lang.AssertionError: discounted total expected:<0> but was:<-10>)",
            "-",
            "+Checkout @2024-06-11T12:02:35Z {}",
            "paysByCard [shop.checkout.CheckoutTest] 0ms skipped(gateway sandbox is down)",
            "paysByInvoice [shop.checkout.CheckoutTest] 0ms skipped(-)",
            "refunds [shop.checkout.CheckoutTest] 1500ms failed(java.lang.NullPointerException: -)",
            "-",
            "-",
        ]
    );
    let expected = "java.lang.AssertionError: discounted total expected:<0> but was:<-10>\n\tat org.testng.Assert.fail(Assert.java:110)\n\tat shop.CartTest.appliesDiscount(CartTest.java:30)";
    assert_eq!(trace(&events, "appliesDiscount(110, null)"), expected);
    // Only a short stack trace was written.
    let expected =
        "java.lang.NullPointerException\n\tat shop.checkout.Refunds.apply(Refunds.java:12)";
    assert_eq!(trace(&events, "refunds"), expected);
}

#[test]
fn trx_report_with_results_before_definitions() {
    let events = events("trx.xml");
    assert_eq!(
        summary(&events),
        [
            "+ci@BUILD01 2024-06-11 14:02:33 @2024-06-11T14:02:31.9876543+00:00 {}",
            "AddsItem [Shop.Tests.CartTests] 12ms passed out=\"cart has 1 item\"",
            "AppliesDiscount (110,0) [Shop.Tests.CartTests] 22ms failed(-: Assert.AreEqual failed. Expected:<0>. Actual:<-10>.)",
            "ChecksOut [Shop.Tests.CartTests] 1500ms errored(-: Test method Shop.Tests.CartTests.ChecksOut threw exception: \nSystem.InvalidOperationException: payment gateway unavailable) out=\"calling gateway\\nretrying\" err=\"gateway: 503\"",
            "Refunds [Shop.Tests.RefundTests] 0ms skipped(Refunds are not implemented)",
            // 2.0004999 s rounds down; Timeout is a failure.
            "TimesOut [Shop.Tests.RefundTests] 2000ms failed(-: -)",
            // An assembly-qualified class name loses its assembly part.
            "Estimates [Shop.Tests.ReportTests] 62500ms skipped(-)",
            "-",
        ]
    );
    let expected = "    at Shop.Cart.CheckOut() in C:\\build\\Cart.cs:line 88\n   at Shop.Tests.CartTests.ChecksOut() in C:\\build\\CartTests.cs:line 41";
    assert_eq!(trace(&events, "ChecksOut"), expected);
}

#[test]
fn trx_with_definitions_first_streams_results() {
    // mstest.exe order, with a prefixed root: each case is sent as soon as
    // its result closes.
    let doc = format!(
        "<t:TestRun name='r' xmlns:t='{TRX_NS}'>\n\
         <t:TestDefinitions><t:UnitTest id='1'><t:TestMethod className='N.C' name='a'/></t:UnitTest></t:TestDefinitions>\n\
         <t:Results>\n\
         <t:UnitTestResult testId='1' testName='a' outcome='Passed' duration='00:00:00.5'/>\n\
         <t:UnitTestResult testId='2' testName='b' outcome='Failed'/>\n\
         </t:Results></t:TestRun>"
    );
    let mut seen = Vec::new();
    let err = read_report(doc.as_bytes(), ReportFormat::Trx, |event| {
        seen.push(describe(&event));
        match event {
            ReportEvent::Case(case) if case.name == "b" => Err("stop".to_owned()),
            _ => Ok(()),
        }
    })
    .unwrap_err();
    assert_eq!(err.to_string(), "line 5, column 1: stop");
    assert_eq!(
        seen,
        ["+r @- {}", "a [N.C] 500ms passed", "b [-] 0ms failed(-: -)"]
    );
    // Without definitions the cases come at the end, without classes.
    let doc = format!(
        "<TestRun xmlns='{TRX_NS}'><Results><UnitTestResult testName='x' outcome='Pending'/></Results></TestRun>"
    );
    let events = events_of(&doc, ReportFormat::Trx).unwrap();
    assert_eq!(summary(&events), ["+ @- {}", "x [-] 0ms skipped(-)", "-"]);
}

#[test]
fn tiny_buffers_give_the_same_events() {
    for (name, _) in WELL_FORMED {
        let (tiny, result) = read_with(name, 1);
        result.unwrap();
        assert_eq!(tiny, events(name), "{name}");
    }
}

#[test]
fn detects_formats_from_content() {
    for (name, format) in WELL_FORMED {
        let head = std::fs::read(path(name)).unwrap();
        assert_eq!(detect_format(&head[..512]), Some(format), "{name}");
    }
    let nunit2 = Some(ReportFormat::NUnit2);
    let nunit3 = Some(ReportFormat::NUnit3);
    let testng = Some(ReportFormat::TestNG);
    let trx = Some(ReportFormat::Trx);
    let trx_root = format!("<?xml version='1.0'?>\n<TestRun id='x' xmlns=\"{TRX_NS}\">");
    let trx_prefixed = format!("<v:TestRun xmlns:v='{TRX_NS}'>");
    let trx_2006 = "<TestRun xmlns='http://microsoft.com/schemas/VisualStudio/TeamTest/2006'>";
    #[rustfmt::skip]
    let cases: [(&[u8], _); 10] = [
        (b"<test-results name='x'>", nunit2),
        (b"\xEF\xBB\xBF<!-- NUnit --><test-run id='2'/>", nunit3),
        (b"<testng-results\n  total='1'>", testng),
        (trx_root.as_bytes(), trx),
        (trx_prefixed.as_bytes(), trx),
        // TRX is recognised by its namespace, not by the name alone.
        (b"<TestRun id='x'>", None),
        (trx_2006.as_bytes(), None),
        (b"<test-run", None),
        (b"<testng-result>", None),
        (b"<test-resultsX/>", None),
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
        ("malformed-nunit2-result.xml", 2, 5, 7, "test result 'Passed' is not one of Success,"),
        ("malformed-nunit3-mismatched.xml", 3, 8, 5, "</test-suite> does not match start tag <test-case>"),
        ("malformed-testng-entity.xml", 2, 7, 30, "undefined entity '&nbsp;'"),
        // TRX results wait for their definitions, so none was delivered.
        ("malformed-trx-truncated.xml", 0, 8, 1, "before element <StdOut> is closed"),
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
fn refuses_documents_that_are_not_the_format_or_lack_results() {
    use ReportFormat::{NUnit2, NUnit3, TestNG, Trx};
    let trx_wrong_ns = "<TestRun xmlns='urn:other'/>".to_owned();
    let trx_bad_outcome =
        format!("<TestRun xmlns='{TRX_NS}'><Results>\n  <UnitTestResult outcome='Exploded'/>");
    #[rustfmt::skip]
    let cases: [(String, _, &str); 9] = [
        ("<test-run/>".into(), NUnit2, "1, column 1: expected an NUnit 2 report (<test-results>), found <test-run>"),
        ("\n<test-results/>".into(), NUnit3, "2, column 1: expected an NUnit 3 report (<test-run>), found <test-results>"),
        ("<testsuites/>".into(), TestNG, "1, column 1: expected a TestNG report (<testng-results>)"),
        ("<test-run/>".into(), Trx, "1, column 1: expected a TRX report (<TestRun> in namespace"),
        (trx_wrong_ns, Trx, "1, column 1: expected a TRX report"),
        (trx_bad_outcome, Trx, "2, column 3: test outcome 'Exploded' is not one of"),
        ("<test-run><test-suite name='s'>\n<test-case name='c'/>".into(), NUnit3, "2, column 1: <test-case> has no 'result' attribute"),
        ("<test-run><test-suite>\n <test-case result='Broken'/>".into(), NUnit3, "2, column 2: test result 'Broken' is not one of Passed,"),
        ("<testng-results><suite><test><class>\n<test-method name='m'/>".into(), TestNG, "2, column 1: <test-method> has no 'status' attribute"),
    ];
    for (doc, format, expected) in cases {
        let err = read_report(doc.as_bytes(), format, |_| Ok(())).unwrap_err();
        let shown = err.to_string();
        assert!(shown.starts_with(&format!("line {expected}")), "{shown}");
    }
}

#[test]
fn nunit3_projects_and_environment_reach_the_outermost_suites() {
    let doc = "<test-run start-time='2024-01-02 03:04:05Z'>\
        <test-suite type='Project' name='all.nunit'>\
        <test-suite type='Assembly' name='/src/A.Tests.dll'>\
        <test-case name='t' classname='A.T' result='Failed' label='Custom' duration='5e-3'/>\
        </test-suite></test-suite></test-run>";
    let events = events_of(doc, ReportFormat::NUnit3).unwrap();
    let expected = [
        "+A.Tests.dll @2024-01-02 03:04:05Z {}",
        // An unknown label leaves a plain failure.
        "t [A.T] 5ms failed(-: -)",
        "-",
    ];
    assert_eq!(summary(&events), expected);
}

#[test]
fn streams_large_nunit3_and_testng_documents() {
    const CASES: usize = 100_000;
    let nunit = |i: usize| {
        let result = if i.is_multiple_of(1000) {
            "Failed"
        } else {
            "Passed"
        };
        format!("<test-case name='t{i}' classname='G.C' result='{result}' duration='0.001'/>\n")
    };
    let open = "<test-run><test-suite type='Assembly' name='g.dll'>\n";
    let counts = stream(
        ReportFormat::NUnit3,
        open,
        nunit,
        "</test-suite></test-run>",
        CASES,
    );
    assert_eq!(counts, (CASES, 100));
    let testng = |i: usize| {
        let status = if i.is_multiple_of(1000) {
            "FAIL"
        } else {
            "PASS"
        };
        format!("<test-method name='m{i}' status='{status}' duration-ms='1'/>\n")
    };
    let open = "<testng-results><suite name='s'><test name='t'><class name='g.C'>\n";
    let close = "</class></test></suite></testng-results>";
    let counts = stream(ReportFormat::TestNG, open, testng, close, CASES);
    assert_eq!(counts, (CASES, 100));
}
