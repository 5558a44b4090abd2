//! Golden tests of the JSON report readers (`verdict_ingest::reports::json`).
//!
//! Fixtures in `tests/reports_json/` are written for these tests: a
//! cucumber-jvm report (repeated background, outline rows, failed and
//! undefined steps, an Octane `@TID` tag), a cucumber-js report (hidden hook
//! steps), a CTRF report (suites as string and path, flaky tests, skips), a
//! `go test -json` stream (subtests, failing and skipped tests, parallel
//! tests, a build failure, four packages) and malformed files whose error
//! line and column are pinned. Generated 200,000-test documents check that
//! reading streams.

#![allow(
    clippy::unwrap_used,
    reason = "test helpers fail loudly on unreadable fixtures"
)]

use std::fs::File;
use std::io::{self, BufRead, BufReader, Read};
use std::path::PathBuf;

use verdict_domain::payload::GherkinRun;
use verdict_domain::status::RunStatus;
use verdict_ingest::reports::json::{
    JsonFormat, JsonReportError, detect_json_format, read_cucumber, read_json_report,
};
use verdict_ingest::reports::{CaseOutcome, Failure, ReportEvent};

const DEFAULT_START: i64 = 1_700_000_000_000;

fn path(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/reports_json")
        .join(name)
}

fn open(name: &str, capacity: usize) -> BufReader<File> {
    BufReader::with_capacity(capacity, File::open(path(name)).unwrap())
}

/// Events of a fixture read as `format` through a buffer of `capacity`
/// bytes; the events delivered before an error are returned with it.
fn read_with(
    name: &str,
    format: JsonFormat,
    capacity: usize,
) -> (Vec<ReportEvent>, Result<(), JsonReportError>) {
    let mut events = Vec::new();
    let result = read_json_report(open(name, capacity), format, |event| {
        events.push(event);
        Ok(())
    });
    (events, result)
}

fn events(name: &str, format: JsonFormat) -> Vec<ReportEvent> {
    let (events, result) = read_with(name, format, 8 * 1024);
    result.unwrap_or_else(|e| panic!("{name}: {e}"));
    events
}

fn runs(name: &str, capacity: usize) -> Vec<GherkinRun> {
    let mut runs = Vec::new();
    read_cucumber(open(name, capacity), DEFAULT_START, |run| {
        runs.push(run);
        Ok(())
    })
    .unwrap_or_else(|e| panic!("{name}: {e}"));
    runs
}

/// One line per event: `+suite @timestamp {properties}`, `-`, and
/// `name [classname] 12ms outcome reruns out=.. err=..`.
fn summary(events: &[ReportEvent]) -> Vec<String> {
    events.iter().map(describe).collect()
}

fn describe(event: &ReportEvent) -> String {
    let case = match event {
        ReportEvent::SuiteStart {
            name,
            timestamp,
            properties,
        } => {
            let properties: Vec<_> = properties.iter().map(|(k, v)| format!("{k}={v}")).collect();
            let timestamp = timestamp.as_deref().unwrap_or("-");
            return format!("+{name} @{timestamp} {{{}}}", properties.join(", "));
        }
        ReportEvent::SuiteEnd => return "-".to_owned(),
        ReportEvent::Case(case) => case,
    };
    let outcome = match &case.outcome {
        CaseOutcome::Passed => "passed".to_owned(),
        CaseOutcome::Failed(f) => brief("failed", f),
        CaseOutcome::Errored(f) => brief("errored", f),
        CaseOutcome::Skipped { message } => {
            format!("skipped({})", message.as_deref().unwrap_or("-"))
        }
    };
    let classname = case.classname.as_deref().unwrap_or("-");
    let mut line = format!(
        "{} [{classname}] {}ms {outcome}",
        case.name, case.duration_ms
    );
    for rerun in &case.reruns {
        assert!(rerun.failed);
        line = format!("{line} {}", brief("rerun", &rerun.failure));
    }
    if let Some(out) = &case.system_out {
        line = format!("{line} out={out:?}");
    }
    if let Some(err) = &case.system_err {
        line = format!("{line} err={err:?}");
    }
    line
}

fn brief(label: &str, failure: &Failure) -> String {
    assert_eq!(failure.kind, None);
    format!("{label}({})", failure.message.as_deref().unwrap_or("-"))
}

/// The failure text of a failed or errored case.
fn text<'a>(events: &'a [ReportEvent], name: &str) -> &'a str {
    let case = events.iter().find_map(|event| match event {
        ReportEvent::Case(case) if case.name == name => Some(case),
        _ => None,
    });
    match &case.unwrap_or_else(|| panic!("no case {name}")).outcome {
        CaseOutcome::Failed(f) | CaseOutcome::Errored(f) => &f.text,
        other => panic!("{name} is {other:?}"),
    }
}

/// A run as lines: the run, its background steps (`bg`), its scenarios
/// (`#outline_index`) and their steps (indented).
fn outline(run: &GherkinRun) -> Vec<String> {
    let f = &run.feature;
    assert_eq!(
        (run.name.as_str(), run.external_run_id.as_ref()),
        (f.name.as_str(), None)
    );
    assert_eq!(f.identifier, None);
    let mut lines = vec![format!(
        "{} {} {}ms path={} tag={} started={}",
        run.name, run.status, run.duration, f.path, f.tag, f.started
    )];
    for step in f.background.iter().flatten() {
        let status = step.status.as_deref().unwrap_or("-");
        let error = step.error_message.as_deref().map(first_line).unwrap_or("-");
        lines.push(format!(
            "bg {} {}ms {status} {error}",
            step.name,
            step.duration.unwrap_or(-1)
        ));
    }
    for scenario in &f.scenarios {
        let index = scenario
            .outline_index
            .map_or("-".to_owned(), |i| i.to_string());
        lines.push(format!("{} #{index} {}", scenario.name, scenario.status));
        for step in &scenario.steps {
            assert_eq!(step.external_step_id, None);
            assert!(step.input_parameters.is_empty() && step.output_parameters.is_empty());
            let error = step.error_message.as_deref().map(first_line).unwrap_or("-");
            lines.push(format!(
                "  {} {}ms {} {error}",
                step.name, step.duration, step.status
            ));
        }
    }
    lines
}

fn first_line(text: &str) -> &str {
    text.lines().next().unwrap_or("")
}

#[test]
fn cucumber_jvm_features_become_gherkin_runs() {
    let runs = runs("cucumber-jvm.json", 8 * 1024);
    assert_eq!(runs.len(), 2);
    assert_eq!(
        outline(&runs[0]),
        [
            "Checkout Failed 167ms path=classpath:features/checkout.feature tag=@TID4001REV2 started=1714641300250",
            "bg Given a logged-in customer 1ms passed -",
            // The second of four background runs failed: the worst status wins.
            "bg And an empty cart 0ms failed java.lang.IllegalStateException: cart service down",
            "Pay by card #- Passed",
            "  When I pay with 151ms passed -",
            "  Then the order is confirmed 3ms passed -",
            // Its background failed, so its skipped steps make it fail.
            "Pay by voucher #- Failed",
            "  When I pay with voucher \"SPRING\" 0ms skipped -",
            "  Then the order is confirmed 0ms skipped -",
            "Shipping costs #2 Passed",
            "  Given the destination is \"DE\" 1ms passed -",
            "  Then shipping costs 5 EUR 2ms passed -",
            "Shipping costs #3 Skipped",
            "  Given the destination is \"MARS\" 0ms undefined -",
            "  Then shipping costs 99 EUR 0ms skipped -",
        ]
    );
    assert_eq!(
        outline(&runs[1]),
        [
            "Search Failed 83ms path=classpath:features/search.feature tag= started=1714641360000",
            "Find by name #- Failed",
            "  When I search for \"lamp\" 80ms passed -",
            "  Then I see 3 results 2ms failed org.opentest4j.AssertionFailedError: expected: <3> but was: <2>",
            "Empty query #- Skipped",
            "  When I search for nothing 0ms pending -",
            "  Then I see a hint 0ms skipped -",
        ]
    );
    assert_eq!(runs[1].feature.background, None);
    let expected = "org.opentest4j.AssertionFailedError: expected: <3> but was: <2>\n\tat com.example.steps.SearchSteps.results(SearchSteps.java:40)";
    let step = &runs[1].feature.scenarios[0].steps[1];
    assert_eq!(step.error_message.as_deref(), Some(expected));
    let file = "@TID4001REV2 @shop\nFeature: Checkout\n  Customers pay for what is in their cart.\n\n  \
        Background:\n    Given a logged-in customer\n    And an empty cart\n\n  \
        @TID4001REV2 @shop @card\n  Scenario: Pay by card\n    When I pay with\n      | card | amount |\n      | visa | 10 |\n    \
        Then the order is confirmed\n      \"\"\"\n      Thank you!\n      Order #1\n      \"\"\"\n\n  \
        @TID4001REV2 @shop\n  Scenario: Pay by voucher\n    When I pay with voucher \"SPRING\"\n    Then the order is confirmed\n\n  \
        @TID4001REV2 @shop\n  Scenario Outline: Shipping costs\n    Given the destination is \"DE\"\n    Then shipping costs 5 EUR\n\n  \
        @TID4001REV2 @shop\n  Scenario Outline: Shipping costs\n    Given the destination is \"MARS\"\n    Then shipping costs 99 EUR\n";
    assert_eq!(runs[0].feature.file, file);
}

#[test]
fn cucumber_js_hooks_are_not_steps_but_count() {
    let runs = runs("cucumber-js.json", 8 * 1024);
    let started = format!("started={DEFAULT_START}");
    assert_eq!(
        outline(&runs[0]),
        [
            &format!("Login Failed 830ms path=features/login.feature tag= {started}"),
            "Successful login #- Passed",
            "  Given the login page is open 20ms passed -",
            "  When I log in as \"alice\" 310ms passed -",
            "  Then I see the dashboard 45ms passed -",
            "Wrong password #- Failed",
            "  Given the login page is open 18ms passed -",
            "  When I log in as \"alice\" with \"nope\" 290ms passed -",
            "  Then I see \"Invalid credentials\" 5ms failed AssertionError [ERR_ASSERTION]: expected 'Welcome' to equal 'Invalid credentials'",
            // Only its After hook failed.
            "Locked account #- Failed",
            "  Given the login page is open 17ms passed -",
            "  When I log in as \"mallory\" 120ms passed -",
        ]
    );
    let file = "Feature: Login\n  As a user\n  I want to log in\n\n  @smoke\n  Scenario: Successful login\n    \
        Given the login page is open\n    When I log in as \"alice\"\n    Then I see the dashboard\n\n  \
        Scenario: Wrong password\n    Given the login page is open\n    When I log in as \"alice\" with \"nope\"\n    \
        Then I see \"Invalid credentials\"\n\n  Scenario: Locked account\n    Given the login page is open\n    \
        When I log in as \"mallory\"\n";
    assert_eq!(runs[0].feature.file, file);
}

#[test]
fn cucumber_as_neutral_events() {
    let events = events("cucumber-jvm.json", JsonFormat::Cucumber);
    assert_eq!(
        summary(&events),
        [
            "+Checkout @2024-05-02T09:15:00Z {uri=classpath:features/checkout.feature}",
            "Pay by card [Checkout] 154ms passed",
            "Pay by voucher [Checkout] 0ms failed(a hook or the background failed)",
            "Shipping costs [2] [Checkout] 3ms passed",
            "Shipping costs [3] [Checkout] 0ms skipped(-)",
            "-",
            "+Search @2024-05-02T09:16:00Z {uri=classpath:features/search.feature}",
            "Find by name [Search] 82ms failed(org.opentest4j.AssertionFailedError: expected: <3> but was: <2>)",
            "Empty query [Search] 0ms skipped(-)",
            "-",
        ]
    );
    assert!(text(&events, "Find by name").ends_with("(SearchSteps.java:40)"));
}

#[test]
fn cucumber_statuses_and_outline_rows() {
    let feature = |elements: &str| {
        let doc = format!(r#"[{{"name":"F","uri":"f.feature","elements":[{elements}]}}]"#);
        let mut runs = Vec::new();
        read_cucumber(doc.as_bytes(), 0, |run| {
            runs.push(run);
            Ok(())
        })
        .unwrap();
        runs.pop().unwrap()
    };
    let scenario = |id: &str, statuses: &[&str]| {
        let steps: Vec<String> = statuses
            .iter()
            .map(|s| format!(r#"{{"keyword":"Given ","name":"x","result":{{"status":"{s}"}}}}"#))
            .collect();
        format!(
            r#"{{"type":"scenario","id":"{id}","name":"s","steps":[{}]}}"#,
            steps.join(",")
        )
    };
    let statuses = |run: &GherkinRun| -> Vec<_> {
        let scenarios = run.feature.scenarios.iter();
        scenarios.map(|s| (s.status, s.outline_index)).collect()
    };
    let run = feature(
        &[
            scenario("f;a", &["passed", "ambiguous"]),
            scenario("f;b;;12", &["skipped", "PENDING"]),
            scenario("f;c;examples;3", &["passed", "skipped"]),
            scenario("f;d", &[]),
        ]
        .join(","),
    );
    use RunStatus::{Failed, Passed, Skipped};
    let expected = [
        (Failed, None),
        (Skipped, Some(12)),
        // A skipped step that no failure explains: the scenario was skipped.
        (Skipped, Some(3)),
        (Passed, None),
    ];
    assert_eq!(statuses(&run), expected);
    assert_eq!(run.feature.scenarios[1].steps[1].status, "pending");
    assert_eq!(run.status, Failed);
    let run = feature(&scenario("f;a", &["skipped"]));
    assert_eq!((run.status, run.feature.tag.as_str()), (Skipped, ""));
    assert_eq!(feature("").status, Skipped);
    let run = feature(&[scenario("f;a", &["skipped"]), scenario("f;b", &["passed"])].join(","));
    assert_eq!(run.status, Passed);
    // A failed background fails only the scenario that follows it.
    let background = scenario("f;bg", &["failed"]).replace("\"scenario\"", "\"background\"");
    let elements = [
        background,
        scenario("f;a", &["failed"]),
        scenario("f;b", &["passed"]),
    ];
    let run = feature(&elements.join(","));
    assert_eq!(statuses(&run), [(Failed, None), (Passed, None)]);
    let background = run
        .feature
        .background
        .as_ref()
        .map(|b| b[0].status.as_deref());
    assert_eq!(background, Some(Some("failed")));
}

#[test]
fn ctrf_report_with_suites_flaky_and_skipped_tests() {
    let events = events("ctrf.json", JsonFormat::Ctrf);
    assert_eq!(
        summary(&events),
        [
            "+jest @2024-06-03T16:00:00Z {tool.version=29.7.0}",
            "+math > add @- {}",
            "adds numbers [math > add] 12ms passed",
            "adds negatives [math > add] 8ms failed(expect(received).toBe(expected)\n\nExpected: -3\nReceived: 3)",
            "-",
            "+math > divide @- {}",
            "divides [math > divide] 3ms passed rerun(timeout after 5000 ms) rerun(timeout after 5000 ms)",
            "rounds [math > divide] 0ms skipped(not implemented yet)",
            "-",
            "logs in [-] 2400ms passed rerun(Timed out 3000ms) out=\"opening browser\\ndone\" err=\"warn: slow network\"",
            "exports pdf [-] 0ms skipped(-)",
            "prints receipt [-] 1ms skipped(-)",
            "-",
        ]
    );
    let expected =
        "Error: expect(received).toBe(expected)\n    at Object.<anonymous> (src/math.test.ts:12:5)";
    assert_eq!(text(&events, "adds negatives"), expected);
}

#[test]
fn ctrf_without_tool_and_with_a_bad_shape() {
    let read = |doc: &str| {
        let mut events = Vec::new();
        let result = read_json_report(doc.as_bytes(), JsonFormat::Ctrf, |e| {
            events.push(e);
            Ok(())
        });
        result.map(|()| summary(&events)).map_err(|e| e.to_string())
    };
    let doc = r#"{"results":{"tests":[{"name":"t","status":"passed","duration":1,"suite":[]}],"tool":{"name":"late"}}}"#;
    assert_eq!(read(doc).unwrap(), ["+ctrf @- {}", "t [-] 1ms passed", "-"]);
    #[rustfmt::skip]
    let cases = [
        (r#"{"results":{"tool":{"name":"x"}}}"#, "line 1, column 32: missing field `tests`"),
        ("{\n\"tests\": []}", "line 2, column 12: missing field `results`"),
        (r#"[{"results":{}}]"#, "line 1, column 1: invalid type: sequence, expected a CTRF report"),
        (r#"{"results":{"tests":[{"status":"passed"}]}}"#, "line 1, column 40: missing field `name`"),
    ];
    for (doc, expected) in cases {
        let err = read(doc).unwrap_err();
        assert!(err.starts_with(expected), "{err}");
    }
}

#[test]
fn go_test_json_with_subtests_failures_and_packages() {
    let events = events("gotest.jsonl", JsonFormat::GoTest);
    let by_zero =
        "    calc_test.go:31: Div(1, 0) = 0, want error\n    calc_test.go:32: remainder mismatch\n";
    assert_eq!(
        summary(&events),
        [
            "+example.com/calc @2024-05-02T09:15:00.101000+02:00 {}",
            "TestAdd [example.com/calc] 0ms passed",
            "TestDiv/by_one [example.com/calc] 0ms passed",
            &format!(
                "TestDiv/by_zero [example.com/calc] 12ms failed(calc_test.go:31: Div(1, 0) = 0, want error) out={by_zero:?}"
            ),
            "TestDiv [example.com/calc] 13ms failed(-)",
            "TestSqrt [example.com/calc] 0ms skipped(calc_test.go:40: needs math/big support) out=\"    calc_test.go:40: needs math/big support\\n\"",
            "-",
            "+example.com/calc/parse @2024-05-02T09:15:01.001000Z {}",
            "TestLex [example.com/calc/parse] 1ms passed out=\"    lex_test.go:9: tokens: [1 + 2]\\n\"",
            "TestParse [example.com/calc/parse] 250ms passed",
            "-",
            "+example.com/calc/broken @2024-05-02T09:15:02.001000Z {}",
            "[build failed] [example.com/calc/broken] 0ms errored(broken/b.go:3:9: undefined: x)",
            "-",
            "+example.com/calc/internal @2024-05-02T09:15:02.004000Z {}",
            "-",
        ]
    );
    assert_eq!(text(&events, "TestDiv/by_zero"), by_zero);
    let build = "# example.com/calc/broken [example.com/calc/broken.test]\nbroken/b.go:3:9: undefined: x\nFAIL\texample.com/calc/broken [build failed]\n";
    assert_eq!(text(&events, "[build failed]"), build);
}

/// Events of an inline `go test -json` document.
fn go(doc: &str) -> Vec<String> {
    let mut events = Vec::new();
    read_json_report(doc.as_bytes(), JsonFormat::GoTest, |e| {
        events.push(e);
        Ok(())
    })
    .unwrap();
    summary(&events)
}

fn go_line(action: &str, package: &str, test: &str, output: &str) -> String {
    let test = if test.is_empty() {
        String::new()
    } else {
        format!(r#","Test":"{test}""#)
    };
    format!(r#"{{"Action":"{action}","Package":"{package}"{test},"Output":{output:?}}}"#)
}

#[test]
fn go_test_unfinished_tests_and_package_failures() {
    // A timeout: the package fails while TestSlow runs; TestBench only
    // reports through its package.
    let doc = [
        go_line("run", "p", "TestSlow", ""),
        go_line("output", "p", "TestSlow", "working\n"),
        String::new(),
        go_line("output", "p", "", "panic: test timed out after 1s\r"),
        go_line("fail", "p", "", ""),
        go_line("run", "q", "TestMainFails", ""),
        go_line("pass", "q", "TestMainFails", ""),
        go_line("output", "q", "", "TestMain: setup failed\n"),
        go_line("fail", "q", "", ""),
        go_line("run", "r", "BenchmarkX", ""),
        go_line("pass", "r", "", ""),
        go_line("run", "s", "TestCut", ""),
    ]
    .join("\r\n");
    assert_eq!(
        go(&doc),
        [
            "+p @- {}",
            "TestSlow [p] 0ms errored(the test did not finish) out=\"working\\n\"",
            "-",
            "+q @- {}",
            "TestMainFails [q] 0ms passed",
            "[package failed] [q] 0ms errored(TestMain: setup failed)",
            "-",
            "+r @- {}",
            "BenchmarkX [r] 0ms passed",
            "-",
            // The file ends while TestCut runs.
            "+s @- {}",
            "TestCut [s] 0ms errored(the test did not finish)",
            "-",
        ]
    );
}

#[test]
fn go_test_output_is_capped_and_packages_may_interleave() {
    let long = "x".repeat(40 * 1024) + "\n";
    let doc = [
        go_line("run", "a", "TestA", ""),
        go_line("output", "a", "TestA", &long),
        go_line("output", "a", "TestA", &long),
        go_line("output", "a", "TestA", "never kept\n"),
        go_line("run", "b", "TestB", ""),
        go_line("pass", "b", "TestB", ""),
        go_line("fail", "a", "TestA", ""),
        go_line("pass", "b", "TestC", ""),
    ]
    .join("\n");
    let mut cases = Vec::new();
    read_json_report(doc.as_bytes(), JsonFormat::GoTest, |e| {
        cases.push(describe(&e).chars().take(20).collect::<String>());
        if let ReportEvent::Case(case) = e
            && let Some(out) = case.system_out
        {
            assert_eq!(
                out.len(),
                64 * 1024 + "\n[output truncated at 64 KiB]\n".len()
            );
            assert!(out.ends_with("xx\n[output truncated at 64 KiB]\n"));
        }
        Ok(())
    })
    .unwrap();
    let expected = [
        "+b @- {}",
        "TestB [b] 0ms passed",
        "-",
        "+a @- {}",
        "TestA [a] 0ms failed",
        "-",
        "+b @- {}",
        "TestC [b] 0ms passed",
        "-",
    ];
    assert_eq!(cases, expected);
}

#[test]
fn detects_formats_from_content() {
    #[rustfmt::skip]
    let files = [
        ("cucumber-jvm.json", Some(JsonFormat::Cucumber)),
        ("cucumber-js.json", Some(JsonFormat::Cucumber)),
        ("ctrf.json", Some(JsonFormat::Ctrf)),
        ("gotest.jsonl", Some(JsonFormat::GoTest)),
        ("malformed-ctrf-status.json", Some(JsonFormat::Ctrf)),
        ("malformed-gotest-action.jsonl", Some(JsonFormat::GoTest)),
    ];
    for (name, expected) in files {
        let head = std::fs::read(path(name)).unwrap();
        let detected = detect_json_format(&head[..head.len().min(512)]);
        assert_eq!(detected, expected, "{name}");
    }
    #[rustfmt::skip]
    let cases: [(&[u8], _); 9] = [
        (b"\xEF\xBB\xBF [ {\"keyword\": \"Feature\"", Some(JsonFormat::Cucumber)),
        (b"[{\"line\":1,\"elements\":[{\"uri\":1}]}]", Some(JsonFormat::Cucumber)),
        (b"{\"reportFormat\":\"CTRF\",\"results\":{\"summary\":{\"tests\":1},\"tool\"", Some(JsonFormat::Ctrf)),
        (b"{\"Time\":\"2024-05-02T09:15:00Z\",\"Action\":\"start\",\"Package\":\"x\"}\n", Some(JsonFormat::GoTest)),
        (b"{\"ImportPath\":\"x\",\"Action\":\"build-output\"}", Some(JsonFormat::GoTest)),
        (b"{\"Action\":\"run\"}\n{\"Package\":\"x\"}", None),
        (b"[{\"name\":\"not cucumber\"}]", None),
        (b"<testsuite/>", None),
        (b"{\"results\":{\"tests\\\"\":[]}}", None),
    ];
    for (head, expected) in cases {
        let shown = String::from_utf8_lossy(head);
        assert_eq!(detect_json_format(head), expected, "{shown}");
    }
}

#[test]
fn malformed_files_report_line_and_column() {
    use JsonFormat::{Ctrf, Cucumber, GoTest};
    // (file, format, events delivered before the error, line, column, message)
    #[rustfmt::skip]
    let cases = [
        ("malformed-cucumber.json", Cucumber, 2, 10, 5, "expected `,` or `}`"),
        ("malformed-ctrf-status.json", Ctrf, 2, 6, 44, "unknown variant `broken`, expected one of `passed`, `failed`, `skipped`, `pending`, `other`"),
        ("malformed-ctrf-truncated.json", Ctrf, 2, 6, 74, "EOF while parsing a string"),
        ("malformed-gotest.jsonl", GoTest, 2, 4, 41, "not a `go test -json` event: expected value"),
        ("malformed-gotest-action.jsonl", GoTest, 0, 2, 74, "not a `go test -json` event: missing field `Action`"),
    ];
    for (name, format, delivered, line, column, message) in cases {
        for capacity in [1, 8 * 1024] {
            let (events, result) = read_with(name, format, capacity);
            let err = result.expect_err(name);
            assert_eq!(
                (err.line, err.column, err.message.as_str()),
                (line, column, message),
                "{name}"
            );
            assert_eq!(events.len(), delivered, "{name}: events before the error");
        }
    }
}

#[test]
fn go_test_lines_are_limited_to_1_mib() {
    let doc = format!(
        "\n{}\n",
        go_line("output", "p", "TestA", &"x".repeat(1024 * 1024))
    );
    let err = read_json_report(doc.as_bytes(), JsonFormat::GoTest, |_| Ok(())).unwrap_err();
    assert_eq!(
        err.to_string(),
        "line 2, column 1048576: the line is longer than 1 MiB"
    );
}

#[test]
fn callback_errors_stop_reading_where_they_happen() {
    let quota = |event: ReportEvent| match event {
        ReportEvent::Case(case) if case.name == "two" || case.name == "TestA" => {
            Err("quota exceeded".to_owned())
        }
        _ => Ok(()),
    };
    let ctrf = "{\"results\":{\"tests\":[\n{\"name\":\"one\",\"status\":\"passed\",\"duration\":1},\n{\"name\":\"two\",\"status\":\"passed\",\"duration\":1},\n{\"name\":\"three\"}]}}";
    let err = read_json_report(ctrf.as_bytes(), JsonFormat::Ctrf, quota).unwrap_err();
    assert_eq!(err.to_string(), "line 4, column 1: quota exceeded");
    let go = format!(
        "\n{}\n{}",
        go_line("run", "p", "TestA", ""),
        go_line("pass", "p", "TestA", "")
    );
    let err = read_json_report(go.as_bytes(), JsonFormat::GoTest, quota).unwrap_err();
    assert_eq!(err.to_string(), "line 3, column 1: quota exceeded");
    let cucumber = "[{\"name\":\"F\"},\n {\"name\":\"G\"}]";
    let err = read_cucumber(cucumber.as_bytes(), 0, |run| {
        if run.name == "G" {
            Err("no G".to_owned())
        } else {
            Ok(())
        }
    });
    assert_eq!(err.unwrap_err().to_string(), "line 2, column 14: no G");
    let err = read_cucumber(&b"{\"name\":\"F\"}"[..], 0, |_| Ok(())).unwrap_err();
    assert!(
        err.to_string()
            .starts_with("line 1, column 1: invalid type: map, expected a Cucumber JSON report")
    );
}

#[test]
fn byte_order_marks_and_tiny_buffers() {
    let doc = b"\xEF\xBB\xBF[{\"name\":\"F\",\"uri\":\"f.feature\"}]";
    let mut names = Vec::new();
    read_cucumber(&doc[..], 0, |run| {
        names.push(run.feature.path);
        Ok(())
    })
    .unwrap();
    assert_eq!(names, ["f.feature"]);
    for (name, format) in [
        ("ctrf.json", JsonFormat::Ctrf),
        ("gotest.jsonl", JsonFormat::GoTest),
        ("cucumber-js.json", JsonFormat::Cucumber),
    ] {
        let (tiny, result) = read_with(name, format, 1);
        result.unwrap();
        assert_eq!(tiny, events(name, format), "{name}");
    }
    assert_eq!(
        runs("cucumber-jvm.json", 1),
        runs("cucumber-jvm.json", 8 * 1024)
    );
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

fn chunks(chunks: impl Iterator<Item = Vec<u8>>) -> Chunks<impl Iterator<Item = Vec<u8>>> {
    Chunks {
        chunks,
        current: Vec::new(),
        at: 0,
    }
}

#[test]
fn streams_200k_tests() {
    const TESTS: usize = 200_000;
    let test = |i: usize| {
        let comma = if i == 0 { "" } else { "," };
        let suite = i / 10_000;
        format!(r#"{comma}{{"name":"t{i}","status":"passed","duration":1,"suite":["s{suite}"]}}"#)
            .into_bytes()
    };
    let ctrf = std::iter::once(br#"{"results":{"tool":{"name":"gen"},"tests":["#.to_vec())
        .chain((0..TESTS).map(test))
        .chain(std::iter::once(b"]}}".to_vec()));
    let (mut cases, mut suites) = (0, 0);
    read_json_report(chunks(ctrf), JsonFormat::Ctrf, |event| {
        match event {
            ReportEvent::Case(_) => cases += 1,
            ReportEvent::SuiteStart { .. } => suites += 1,
            ReportEvent::SuiteEnd => {}
        }
        Ok(())
    })
    .unwrap();
    assert_eq!((cases, suites), (TESTS, 21));
    let line = |i: usize| {
        format!(
            "{}\n",
            go_line("pass", &format!("p{}", i / 50_000), &format!("T{i}"), "")
        )
        .into_bytes()
    };
    let mut cases = 0;
    read_json_report(chunks((0..TESTS).map(line)), JsonFormat::GoTest, |event| {
        cases += usize::from(matches!(event, ReportEvent::Case(_)));
        Ok(())
    })
    .unwrap();
    assert_eq!(cases, TESTS);
}
