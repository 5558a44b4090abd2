//! Protocol §5.3–§5.4 and §9 cases 1–16: test identity, last runs, previous
//! runs, test fields, taxonomies, steps and gherkin runs.

use serde_json::Value;

use crate::harness::TestServer;
use crate::on_both_backends;

on_both_backends!(
    same_test_later_updates_the_last_run_and_keeps_history,
    external_run_id_and_environment_make_separate_last_runs,
    empty_test_runs_and_planned_succeed,
    clt_and_converter_styles_are_the_same_test,
    custom_fields_and_taxonomies_are_created_and_merged,
    errors_descriptions_and_steps_are_stored,
    older_and_repeated_results_follow_the_history_rules,
    gherkin_runs_with_background_and_without_scenarios,
    same_test_twice_in_one_payload_is_one_test_one_run,
    a_pass_never_hides_a_failure_with_the_same_start,
    an_older_report_pushed_again_adds_no_history,
    retries_and_flaky_marks_are_kept_and_read_back,
    large_error_texts_on_many_runs_are_all_updated,
    rerunning_more_tests_than_one_statement_takes_updates_each_once,
);

fn wrap(runs: &str) -> String {
    format!("<test_result><test_runs>{runs}</test_runs></test_result>")
}

async fn same_test_later_updates_the_last_run_and_keeps_history(s: TestServer) {
    s.sign_in().await;
    let first = wrap(
        r#"<test_run module="/m" package="p" class="C" name="t" duration="3" status="Passed" started="1430919295889"/>"#,
    );
    assert_eq!(s.push_and_wait(&first, false).await["status"], "success");
    let second = wrap(
        r#"<test_run module="/m" package="p" class="C" name="t" duration="9" status="Failed" started="1430919400000"/>"#,
    );
    assert_eq!(s.push_and_wait(&second, false).await["status"], "success");
    let runs = s.entities("runs").await;
    assert_eq!(runs["total_count"], 1, "{runs}");
    let run = &runs["data"][0];
    assert_eq!(run["status"]["name"], "Failed");
    assert_eq!(
        run["native_status"]["logical_name"],
        "list_node.run_native_status.failed"
    );
    assert_eq!(run["duration"], 9);
    assert_eq!(run["started"], "2015-05-06T13:36:40Z");
    assert!(run["id"].is_string());
    assert_eq!(run["test"]["type"], "test_automated");
    assert_eq!(run["test"]["name"], "t");
    let previous = s.entities("previous_runs").await;
    assert_eq!(previous["total_count"], 1);
    assert_eq!(previous["data"][0]["status"]["name"], "Passed");
    assert_eq!(previous["data"][0]["duration"], 3);
    assert_eq!(previous["data"][0]["run"]["id"], run["id"]);
}

async fn external_run_id_and_environment_make_separate_last_runs(s: TestServer) {
    s.sign_in().await;
    let xml = wrap(concat!(
        r#"<test_run name="t" duration="1" status="Passed"/>"#,
        r#"<test_run name="t" duration="1" status="Passed" external_run_id="nightly"/>"#,
        r#"<test_run name="t" duration="1" status="Passed"><environment><taxonomy type="Browser" value="Chrome"/></environment></test_run>"#,
        r#"<test_run name="t" duration="1" status="Passed"><environment><taxonomy type="browser" value="firefox"/></environment></test_run>"#,
    ));
    assert_eq!(s.push_and_wait(&xml, false).await["status"], "success");
    assert_eq!(s.entities("tests").await["total_count"], 1);
    let runs = s.entities("runs?order_by=id").await;
    assert_eq!(runs["total_count"], 4, "{runs}");
    assert_eq!(runs["data"][1]["external_run_id"], "nightly");
    let tax = &runs["data"][3]["taxonomies"];
    assert_eq!(tax["total_count"], 1);
    // Case-insensitive match onto the seeded Firefox under Browser.
    assert_eq!(tax["data"][0]["name"], "Firefox");
    assert_eq!(tax["data"][0]["category"]["name"], "Browser");
}

async fn empty_test_runs_and_planned_succeed(s: TestServer) {
    s.sign_in().await;
    assert_eq!(
        s.push_and_wait("<test_result><test_runs/></test_result>", false)
            .await["status"],
        "success"
    );
    assert_eq!(s.entities("tests").await["total_count"], 0);
    let planned = wrap(r#"<test_run name="p" duration="0" status="Planned"/>"#);
    assert_eq!(s.push_and_wait(&planned, false).await["status"], "success");
    assert_eq!(
        s.entities("runs").await["data"][0]["status"]["name"],
        "Planned"
    );
}

async fn clt_and_converter_styles_are_the_same_test(s: TestServer) {
    s.sign_in().await;
    let clt = wrap(
        r#"<test_run package="" class="C" name="t" duration="1" status="Passed" started="1"/>"#,
    );
    let converter = wrap(
        r#"<test_run module="" package="" class="C" name="t" duration="2" status="Failed" started="2"/>"#,
    );
    s.push_and_wait(&clt, false).await;
    s.push_and_wait(&converter, false).await;
    assert_eq!(s.entities("tests").await["total_count"], 1);
    assert_eq!(s.entities("runs").await["total_count"], 1);
}

async fn custom_fields_and_taxonomies_are_created_and_merged(s: TestServer) {
    s.sign_in().await;
    let xml = r#"<test_result>
      <test_fields><test_field type="Test_Type" value="A custom type"/><test_field type="Framework" value="junit"/></test_fields>
      <environment><taxonomy type="MyType" value="MyValue"/></environment>
      <test_runs>
        <test_run name="t" duration="1" status="Passed">
          <test_fields><test_field type="Test_Type" value="Regression"/><test_field type="Test_Level" value="Unit Test"/></test_fields>
        </test_run>
      </test_runs></test_result>"#;
    assert_eq!(s.push_and_wait(xml, false).await["status"], "success");
    let test = &s.entities("tests").await["data"][0];
    let mut types: Vec<&str> = test["test_type"]["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["name"].as_str().unwrap())
        .collect();
    types.sort_unstable();
    assert_eq!(types, ["A custom type", "Regression"]);
    assert_eq!(
        test["framework"]["name"], "JUnit",
        "seeded value matched case-insensitively"
    );
    assert_eq!(test["test_level"]["name"], "Unit Test");
    let custom = s
        .entities("list_nodes?query=%22name%20EQ%20%5EA%20custom%20type%5E%22")
        .await;
    assert_eq!(custom["total_count"], 1);
    assert_eq!(custom["data"][0]["list_root"], "Test_Type");
    let run = &s.entities("runs").await["data"][0];
    assert_eq!(run["taxonomies"]["data"][0]["name"], "MyValue");
    assert_eq!(run["taxonomies"]["data"][0]["category"]["name"], "MyType");
    let categories = s
        .entities("taxonomy_category_nodes?query=%22name%20EQ%20%5EMyType%5E%22")
        .await;
    assert_eq!(categories["total_count"], 1);
}

async fn errors_descriptions_and_steps_are_stored(s: TestServer) {
    s.sign_in().await;
    let xml = wrap(
        r#"<test_run name="t" duration="-5" status="Failed" external_report_url="https://ci/x" run_name="custom name">
        <error type="java.lang.AssertionError" message="expected:'1' but was:'2'">stack line 1
at x</error>
        <description>My run description</description>
        <steps iteration="1"><step name="open" duration="2" status="passed"/><step name="check" duration="3" status="failed" external_step_id="s2"><error_message>boom</error_message><input_parameters><parameter name="a" value="1"/></input_parameters></step></steps>
      </test_run>"#,
    );
    assert_eq!(s.push_and_wait(&xml, false).await["status"], "success");
    let run = &s.entities("runs").await["data"][0];
    assert_eq!(run["name"], "custom name");
    assert_eq!(run["duration"], 0, "negative durations become 0");
    assert_eq!(run["error_type"], "java.lang.AssertionError");
    assert_eq!(run["error_message"], "expected:'1' but was:'2'");
    assert!(run["error_stack"].as_str().unwrap().contains("at x"));
    assert_eq!(run["description"], "My run description");
    assert_eq!(run["external_report_url"], "https://ci/x");
    let steps = s.entities("run_steps?order_by=position").await;
    assert_eq!(steps["total_count"], 2);
    assert_eq!(steps["data"][1]["status"], "failed");
    assert_eq!(steps["data"][1]["error_message"], "boom");
    assert_eq!(steps["data"][1]["iteration"], "1");
    assert!(
        steps["data"][1]["parameters"]
            .as_str()
            .unwrap()
            .contains("\"a\"")
    );
    // A later push without error clears the error fields.
    let clean =
        wrap(r#"<test_run name="t" duration="1" status="Passed" started="4102444800000"/>"#);
    s.push_and_wait(&clean, false).await;
    let run = &s.entities("runs").await["data"][0];
    assert_eq!(run["name"], "custom name", "the run keeps its name");
    assert_eq!(run["error_type"], Value::Null);
    assert_eq!(run["error_stack"], Value::Null);
    assert_eq!(run["status"]["name"], "Passed");
}

async fn older_and_repeated_results_follow_the_history_rules(s: TestServer) {
    s.sign_in().await;
    let at = |started: u64, status: &str, pad: &str| {
        wrap(&format!(
            r#"<test_run name="t" duration="1" status="{status}" started="{started}"/>{pad}"#
        ))
    };
    s.push_and_wait(&at(2000, "Passed", ""), false).await;
    // Older result: stored only as a previous run.
    s.push_and_wait(&at(1000, "Failed", ""), false).await;
    let run = &s.entities("runs").await["data"][0];
    assert_eq!(run["status"]["name"], "Passed");
    assert_eq!(s.entities("previous_runs").await["total_count"], 1);
    // Same (started, status, duration) re-pushed with different bytes: no change.
    s.push_and_wait(&at(2000, "Passed", "<!-- again -->"), false)
        .await;
    assert_eq!(s.entities("previous_runs").await["total_count"], 1);
}

async fn gherkin_runs_with_background_and_without_scenarios(s: TestServer) {
    s.sign_in().await;
    let xml = wrap(
        r#"<gherkin_test_run name="" duration="20" status="Failed">
        <feature name="Login" path="features/login.feature" tag="" started="1482231569810">
          <file><![CDATA[Feature: Login
  Scenario: ok]]></file>
          <scenarios>
            <background><steps><step name="Given a user"/></steps></background>
            <scenario name="ok" status="Failed"><steps><step name="When x" duration="10" status="passed"/><step name="Then y" duration="10" status="failed"><error_message>nope</error_message></step></steps></scenario>
          </scenarios>
        </feature></gherkin_test_run>
        <gherkin_test_run name="Bare" duration="1" status="Passed"><feature name="Bare" path="features/bare.feature" tag="" started="1482231569811"><file/></feature></gherkin_test_run>"#,
    );
    assert_eq!(s.push_and_wait(&xml, false).await["status"], "success");
    let tests = s.entities("gherkin_tests?order_by=id").await;
    assert_eq!(tests["total_count"], 2, "{tests}");
    assert_eq!(
        tests["data"][0]["name"], "Login",
        "unnamed run takes the feature's name"
    );
    assert!(
        tests["data"][0]["script"]
            .as_str()
            .unwrap()
            .starts_with("Feature: Login")
    );
    let runs = s.entities("gherkin_runs?order_by=id").await;
    assert_eq!(runs["data"][0]["subtype"], "gherkin_run");
    assert_eq!(runs["data"][0]["started"], "2016-12-20T10:59:29Z");
    let steps = s.entities("run_steps?order_by=position").await;
    let kinds: Vec<&str> = steps["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| x["kind"].as_str().unwrap())
        .collect();
    assert_eq!(
        kinds,
        ["background", "scenario", "scenario_step", "scenario_step"]
    );
    // Downloaded-from-Verdict feature: the tag's test id wins over the path.
    let id = tests["data"][0]["id"].as_str().unwrap();
    let moved = wrap(&format!(
        r#"<gherkin_test_run name="Login" duration="1" status="Passed"><feature name="Login" path="moved/elsewhere.feature" tag="@TID{id}REV0.1" started="1482231569999"><file>Feature: Login v2</file></feature></gherkin_test_run>"#
    ));
    s.push_and_wait(&moved, false).await;
    let tests = s.entities("gherkin_tests").await;
    assert_eq!(tests["total_count"], 2);
    let login: Vec<&Value> = tests["data"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|t| t["id"] == id)
        .collect();
    assert_eq!(login[0]["script"], "Feature: Login v2");
}

async fn same_test_twice_in_one_payload_is_one_test_one_run(s: TestServer) {
    s.sign_in().await;
    let xml = wrap(concat!(
        r#"<test_run name="t" duration="1" status="Passed" started="1000" external_test_id="first"/>"#,
        r#"<test_run name="t" duration="2" status="Failed" started="2000" external_test_id="second"/>"#,
    ));
    assert_eq!(s.push_and_wait(&xml, false).await["status"], "success");
    let tests = s.entities("tests").await;
    assert_eq!(tests["total_count"], 1);
    assert_eq!(
        tests["data"][0]["external_test_id"], "first",
        "external_test_id only on creation"
    );
    let runs = s.entities("runs").await;
    assert_eq!(runs["total_count"], 1);
    assert_eq!(runs["data"][0]["status"]["name"], "Failed");
    assert_eq!(s.entities("previous_runs").await["total_count"], 1);
}

/// Two results of one test with one `started` in one payload (a
/// parameterised test written without its parameters): the failure wins,
/// whichever comes first, and nothing is archived.
///
/// The same report pushed again (other bytes, past the dedupe window) adds
/// nothing either: before, its failure matched the stored one and was kept,
/// so its pass then replaced it as a result of another task, and every
/// further push flipped the run between Failed and Passed and added a
/// previous run.
async fn a_pass_never_hides_a_failure_with_the_same_start(s: TestServer) {
    s.sign_in().await;
    for pad in ["", "<!-- again -->", "<!-- and again -->"] {
        for (name, first, second) in [("a", "Passed", "Failed"), ("b", "Failed", "Passed")] {
            let xml = wrap(&format!(
                r#"<test_run name="{name}" duration="1" status="{first}" started="5000"/><test_run name="{name}" duration="1" status="{second}" started="5000"/>{pad}"#
            ));
            assert_eq!(s.push_and_wait(&xml, false).await["status"], "success");
            let runs = s
                .entities(&format!(
                    "runs?query=%22name%20EQ%20%5E{name}%5E%22&fields=status"
                ))
                .await;
            assert_eq!(runs["total_count"], 1, "{runs}");
            assert_eq!(
                runs["data"][0]["status"]["name"], "Failed",
                "{name}, pushed with {pad:?}: {runs}"
            );
        }
        assert_eq!(
            s.entities("previous_runs").await["total_count"],
            0,
            "pushed with {pad:?}"
        );
    }
}

/// An older report pushed again after newer ones (past the dedupe window,
/// so with other bytes) adds nothing: an identical result is kept once.
async fn an_older_report_pushed_again_adds_no_history(s: TestServer) {
    s.sign_in().await;
    let at = |started: u64, status: &str, pad: &str| {
        wrap(&format!(
            r#"<test_run name="t" duration="1" status="{status}" started="{started}"/>{pad}"#
        ))
    };
    s.push_and_wait(&at(1000, "Failed", ""), false).await;
    s.push_and_wait(&at(2000, "Passed", ""), false).await;
    assert_eq!(s.entities("previous_runs").await["total_count"], 1);
    for pad in ["<!-- 1 -->", "<!-- 2 -->", "<!-- 3 -->"] {
        s.push_and_wait(&at(1000, "Failed", pad), false).await;
        s.push_and_wait(&at(2000, "Passed", pad), false).await;
    }
    assert_eq!(
        s.entities("previous_runs").await["total_count"],
        1,
        "identical results are stored once"
    );
    // A different older result is still history.
    s.push_and_wait(&at(1500, "Skipped", ""), false).await;
    assert_eq!(s.entities("previous_runs").await["total_count"], 2);
}

/// Verdict's `retries`/`flaky` payload attributes land on runs and previous runs.
async fn retries_and_flaky_marks_are_kept_and_read_back(s: TestServer) {
    s.sign_in().await;
    let xml = wrap(concat!(
        r#"<test_run name="late" duration="1" status="Passed" started="1000" retries="2" flaky="true"/>"#,
        r#"<test_run name="never" duration="1" status="Failed" started="1000" retries="2"/>"#,
        r#"<test_run name="odd" duration="1" status="Failed" started="1000" flaky="true"/>"#,
    ));
    assert_eq!(s.push_and_wait(&xml, false).await["status"], "success");
    let runs = s
        .entities("runs?fields=name,retries,flaky&order_by=name")
        .await;
    let got: Vec<(String, i64, bool)> = runs["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            (
                r["name"].as_str().unwrap().to_owned(),
                r["retries"].as_i64().unwrap(),
                r["flaky"].as_bool().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        got,
        [
            ("late".to_owned(), 2, true),
            ("never".to_owned(), 2, false),
            ("odd".to_owned(), 0, false)
        ],
        "a failed run is never flaky"
    );
    let flaky = s.entities("runs?query=%22flaky%20EQ%20true%22").await;
    assert_eq!(flaky["total_count"], 1);
    // Archived with the run they describe.
    let later = wrap(r#"<test_run name="late" duration="1" status="Passed" started="2000"/>"#);
    s.push_and_wait(&later, false).await;
    let previous = s.entities("previous_runs?fields=retries,flaky").await;
    assert_eq!(
        (
            previous["data"][0]["retries"].as_i64(),
            previous["data"][0]["flaky"].as_bool()
        ),
        (Some(2), Some(true)),
        "{previous}"
    );
    // Out of range: refused with the attribute named.
    let (status, body) = s
        .push(
            &wrap(r#"<test_run name="x" duration="1" status="Passed" retries="-1"/>"#),
            false,
        )
        .await;
    assert_eq!(status, reqwest::StatusCode::BAD_REQUEST);
    assert!(body.to_string().contains("retries"), "{body}");
}

/// Last runs are updated from a JSON parameter sent in parts of at most
/// 16 MiB: 24 error stacks of ~900 KiB take two statements, and every run
/// gets its own text back, quotes and non-ASCII intact.
async fn large_error_texts_on_many_runs_are_all_updated(s: TestServer) {
    s.sign_in().await;
    let runs = |status: &str, started: u64, stack: &dyn Fn(usize) -> String| {
        let mut xml = String::new();
        for i in 0..24 {
            let error = if status == "Failed" {
                format!(r#"<error type="E" message="m{i}">{}</error>"#, stack(i))
            } else {
                String::new()
            };
            xml.push_str(&format!(
                r#"<test_run name="t{i}" duration="1" status="{status}" started="{started}">{error}</test_run>"#
            ));
        }
        wrap(&xml)
    };
    let none = |_: usize| String::new();
    let first = runs("Passed", 1_430_919_295_889, &none);
    assert_eq!(s.push_and_wait(&first, false).await["status"], "success");
    let big = |i: usize| format!("{i}:{}", "é&quot;'x".repeat(150_000));
    let second = runs("Failed", 1_430_919_400_000, &big);
    assert_eq!(s.push_and_wait(&second, false).await["status"], "success");
    let stored = s
        .entities("runs?fields=name,status,error_stack,error_message&limit=100")
        .await;
    assert_eq!(stored["total_count"], 24);
    for run in stored["data"].as_array().unwrap() {
        let i: usize = run["name"].as_str().unwrap()[1..].parse().unwrap();
        assert_eq!(run["status"]["name"], "Failed");
        assert_eq!(run["error_message"], format!("m{i}"));
        let want = format!("{i}:{}", "é\"'x".repeat(150_000));
        assert!(
            run["error_stack"] == want.as_str(),
            "run t{i}: stack differs"
        );
    }
    let previous = s.entities("previous_runs?fields=status,error_stack").await;
    assert_eq!(previous["total_count"], 24);
    assert_eq!(previous["data"][0]["status"]["name"], "Passed");
    assert_eq!(previous["data"][0]["error_stack"], Value::Null);
}

/// Re-runs of 1,234 tests: more rows than one statement sends (500 on
/// SQLite) for the last-run update, the archive and the flaky ranking's
/// bookkeeping, across batches; every run, previous run and ranking entry
/// is the one its test got.
async fn rerunning_more_tests_than_one_statement_takes_updates_each_once(s: TestServer) {
    s.sign_in().await;
    const TESTS: usize = 1_234;
    let now = verdict_store::now_ms();
    let push = |failing: &dyn Fn(usize) -> bool, started: i64| {
        let mut xml = String::new();
        for i in 0..TESTS {
            let (status, error) = if failing(i) {
                ("Failed", format!(r#"<error type="E" message="m{i}"/>"#))
            } else {
                ("Passed", String::new())
            };
            xml.push_str(&format!(
                r#"<test_run class="C{}" name="t{i:04}" duration="{i}" status="{status}" started="{started}">{error}</test_run>"#,
                i % 7
            ));
        }
        wrap(&xml)
    };
    let never = |_: usize| false;
    let thirds = |i: usize| i.is_multiple_of(3);
    for (round, failing) in [&never as &dyn Fn(usize) -> bool, &thirds, &never]
        .into_iter()
        .enumerate()
    {
        let xml = push(
            failing,
            now - 300_000 + i64::try_from(round).unwrap() * 60_000,
        );
        assert_eq!(s.push_and_wait(&xml, false).await["status"], "success");
    }
    // the second push's failures are the previous runs of the third's passes
    let mut failed_before = 0;
    for offset in (0..2 * TESTS).step_by(1000) {
        let page = s
            .entities(&format!(
                "previous_runs?fields=status,error_message&limit=1000&offset={offset}"
            ))
            .await;
        assert_eq!(page["total_count"], 2 * TESTS);
        for p in page["data"].as_array().unwrap() {
            if p["status"]["name"] == "Failed" {
                failed_before += 1;
                assert!(p["error_message"].as_str().unwrap().starts_with('m'), "{p}");
            }
        }
    }
    assert_eq!(failed_before, TESTS.div_ceil(3));
    let mut names = std::collections::HashSet::new();
    for offset in (0..TESTS).step_by(1000) {
        let page = s
            .entities(&format!(
                "runs?fields=name,status,duration,error_message&limit=1000&offset={offset}"
            ))
            .await;
        assert_eq!(page["total_count"], TESTS);
        for run in page["data"].as_array().unwrap() {
            let name = run["name"].as_str().unwrap().to_owned();
            let i: usize = name[1..].parse().unwrap();
            assert_eq!(run["status"]["name"], "Passed", "{run}");
            assert_eq!(run["duration"], i, "{run}");
            assert_eq!(run["error_message"], Value::Null, "{run}");
            assert!(names.insert(name));
        }
    }
    assert_eq!(names.len(), TESTS);
    // every third test passed, failed, passed: two flips each
    let flaky = s
        .get_json(&format!(
            "{}/verdict/api/shared_spaces/{}/workspaces/{}/flaky_tests?limit=500",
            s.url,
            crate::harness::SP,
            crate::harness::WS
        ))
        .await;
    let ranked = flaky["data"].as_array().unwrap();
    assert_eq!(ranked.len(), TESTS.div_ceil(3), "{flaky:.300}");
    for f in ranked {
        let i: usize = f["test"]["name"].as_str().unwrap()[1..].parse().unwrap();
        assert!(i.is_multiple_of(3), "{f}");
        assert_eq!(f["flips"], 2, "{f}");
        assert_eq!(f["runs"], 3, "{f}");
    }
}
