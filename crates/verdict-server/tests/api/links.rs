//! Protocol §5.1, §5.5–§5.7 and §9 cases 14, 18–24: links to existing
//! entities, skip-errors, conflicts, suites and build context. Entities are
//! seeded through the store (their REST creation is a later issue).

use serde_json::Value;
use verdict_store::{NamedTable, NewRelease};

use crate::harness::{TestServer, WS};
use crate::on_both_backends;

on_both_backends!(
    missing_global_release_fails_without_and_warns_with_skip_errors,
    missing_per_test_backlog_item_skips_only_that_item,
    framework_conflict_skips_or_takes_the_test_value,
    release_conflict_with_skip_errors_drops_the_release,
    two_global_test_levels_stop_everything,
    milestone_of_another_release_is_dropped_with_a_warning,
    links_resolve_by_id_and_name,
    suite_with_default_release_creates_a_suite_run,
    a_suite_run_takes_at_most_1000_runs_per_payload,
    build_context_links_runs_to_a_ci_build,
);

fn wrap(head: &str, runs: &str) -> String {
    format!("<test_result>{head}<test_runs>{runs}</test_runs></test_result>")
}

const RUN: &str = r#"<test_run name="t" duration="1" status="Passed"/>"#;

async fn missing_global_release_fails_without_and_warns_with_skip_errors(s: TestServer) {
    s.sign_in().await;
    let xml = wrap(r#"<release_ref id="2147483647"/>"#, RUN);
    let task = s.push_and_wait(&xml, false).await;
    assert_eq!(task["status"], "failed");
    assert_eq!(
        task["errorDetails"],
        "global: release_ref id 2147483647 not found"
    );
    assert_eq!(s.entities("runs").await["total_count"], 0);
    let task = s.push_and_wait(&xml, true).await;
    assert_eq!(task["status"], "warning");
    assert_eq!(
        task["errorDetails"],
        "global: release_ref id 2147483647 not found (ignored)"
    );
    let runs = s.entities("runs").await;
    assert_eq!(runs["total_count"], 1);
    assert_eq!(runs["data"][0]["release"], Value::Null);
}

async fn missing_per_test_backlog_item_skips_only_that_item(s: TestServer) {
    s.sign_in().await;
    let xml = wrap(
        "",
        concat!(
            r#"<test_run name="a" duration="1" status="Passed"/>"#,
            r#"<test_run name="b" duration="1" status="Passed"><backlog_items><backlog_item_ref id="999999"/></backlog_items></test_run>"#,
            r#"<test_run name="c" duration="1" status="Passed"/>"#,
        ),
    );
    let task = s.push_and_wait(&xml, false).await;
    assert_eq!(task["status"], "failed");
    assert_eq!(
        task["errorDetails"],
        "item 1: backlog_item_ref id 999999 not found"
    );
    let tests = s.entities("tests?order_by=name").await;
    let names: Vec<&str> = tests["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["a", "c"]);
}

async fn framework_conflict_skips_or_takes_the_test_value(s: TestServer) {
    s.sign_in().await;
    let xml = wrap(
        r#"<test_fields><test_field type="Framework" value="JUnit"/></test_fields>"#,
        r#"<test_run name="t" duration="1" status="Passed"><test_fields><test_field type="Framework" value="TestNG"/></test_fields></test_run>"#,
    );
    let task = s.push_and_wait(&xml, false).await;
    assert_eq!(task["status"], "failed");
    assert_eq!(
        task["errorDetails"],
        "item 0: conflicting Framework: global 'JUnit', test 'TestNG'"
    );
    assert_eq!(s.entities("runs").await["total_count"], 0);
    let task = s.push_and_wait(&xml, true).await;
    assert_eq!(task["status"], "warning");
    assert_eq!(
        s.entities("runs").await["data"][0]["framework"]["name"],
        "TestNG"
    );
}

async fn release_conflict_with_skip_errors_drops_the_release(s: TestServer) {
    s.sign_in().await;
    let r1 = s
        .store
        .create_release(
            WS,
            &NewRelease {
                name: "R1".into(),
                ..NewRelease::default()
            },
        )
        .await
        .unwrap();
    let r2 = s
        .store
        .create_release(
            WS,
            &NewRelease {
                name: "R2".into(),
                ..NewRelease::default()
            },
        )
        .await
        .unwrap();
    let xml = wrap(
        r#"<release name="R1"/>"#,
        &format!(
            r#"<test_run name="t" duration="1" status="Passed"><release_ref id="{r2}"/></test_run>"#
        ),
    );
    let task = s.push_and_wait(&xml, true).await;
    assert_eq!(task["status"], "warning");
    assert_eq!(
        task["errorDetails"],
        format!("item 0: conflicting release: global {r1}, test {r2} (ignored)")
    );
    assert_eq!(s.entities("runs").await["data"][0]["release"], Value::Null);
}

async fn two_global_test_levels_stop_everything(s: TestServer) {
    s.sign_in().await;
    let xml = wrap(
        r#"<test_fields><test_field type="Test_Level" value="Unit Test"/><test_field type="Test_Level" value="System Test"/></test_fields>"#,
        RUN,
    );
    let task = s.push_and_wait(&xml, false).await;
    assert_eq!(task["status"], "failed");
    assert_eq!(
        task["errorDetails"],
        "global: multiple values for single-valued field Test_Level"
    );
    assert_eq!(s.entities("tests").await["total_count"], 0);
    let task = s.push_and_wait(&xml, true).await;
    assert_eq!(task["status"], "warning");
    assert_eq!(
        s.entities("tests").await["data"][0]["test_level"],
        Value::Null
    );
}

async fn milestone_of_another_release_is_dropped_with_a_warning(s: TestServer) {
    s.sign_in().await;
    let r1 = s
        .store
        .create_release(
            WS,
            &NewRelease {
                name: "R1".into(),
                ..NewRelease::default()
            },
        )
        .await
        .unwrap();
    let r2 = s
        .store
        .create_release(
            WS,
            &NewRelease {
                name: "R2".into(),
                ..NewRelease::default()
            },
        )
        .await
        .unwrap();
    let m2 = s.store.create_milestone(WS, "M2", Some(r2)).await.unwrap();
    let xml = wrap(
        &format!(r#"<release_ref id="{r1}"/><milestone_ref id="{m2}"/>"#),
        RUN,
    );
    let task = s.push_and_wait(&xml, true).await;
    assert_eq!(task["status"], "warning");
    assert_eq!(
        task["errorDetails"],
        format!("item 0: milestone {m2} does not belong to release {r1} (ignored)")
    );
    let run = &s.entities("runs").await["data"][0];
    assert_eq!(run["milestone"], Value::Null);
    assert_eq!(run["release"]["name"], "R1");
    // A milestone alone brings its release along.
    let alone = wrap(
        &format!(r#"<milestone_ref id="{m2}"/>"#),
        r#"<test_run name="u" duration="1" status="Passed"/>"#,
    );
    assert_eq!(s.push_and_wait(&alone, false).await["status"], "success");
    let run = &s.entities("runs?query=%22name%20EQ%20%5Eu%5E%22").await["data"][0];
    assert_eq!(run["release"]["id"], r2.to_string());
    assert_eq!(run["milestone"]["name"], "M2");
}

async fn links_resolve_by_id_and_name(s: TestServer) {
    s.sign_in().await;
    let program = s
        .store
        .create_named(WS, NamedTable::Program, "P")
        .await
        .unwrap();
    let other_program = s
        .store
        .create_named(WS, NamedTable::Program, "Q")
        .await
        .unwrap();
    let release = s
        .store
        .create_release(
            WS,
            &NewRelease {
                name: "myRelease".into(),
                programs: vec![program],
                ..NewRelease::default()
            },
        )
        .await
        .unwrap();
    let story = s
        .store
        .create_named(WS, NamedTable::WorkItem("story"), "S")
        .await
        .unwrap();
    let defect = s
        .store
        .create_named(WS, NamedTable::WorkItem("defect"), "D")
        .await
        .unwrap();
    let module = s
        .store
        .create_named(WS, NamedTable::ApplicationModule, "AM")
        .await
        .unwrap();
    let xml = wrap(
        &format!(
            r#"<program_ref id="{program}"/><release name="myRelease"/><backlog_items><backlog_item_ref id="{story}"/></backlog_items><product_areas><product_area_ref id="{module}"/></product_areas>"#
        ),
        &format!(
            r#"<test_run name="t" duration="1" status="Passed"><backlog_items><backlog_item_ref id="{defect}"/><backlog_item_ref id="{story}"/></backlog_items></test_run>"#
        ),
    );
    assert_eq!(s.push_and_wait(&xml, false).await["status"], "success");
    let run = &s.entities("runs").await["data"][0];
    assert_eq!(
        run["release"],
        serde_json::json!({"type": "release", "id": release.to_string(), "name": "myRelease"})
    );
    assert_eq!(run["program"]["id"], program.to_string());
    let test = &s.entities("tests").await["data"][0];
    assert_eq!(test["covered_content"]["total_count"], 2);
    assert_eq!(test["product_areas"]["data"][0]["name"], "AM");
    // A program not assigned to the release.
    let bad = wrap(
        &format!(r#"<program_ref id="{other_program}"/><release_ref id="{release}"/>"#),
        r#"<test_run name="v" duration="1" status="Passed"/>"#,
    );
    let task = s.push_and_wait(&bad, false).await;
    assert_eq!(
        task["errorDetails"],
        format!("item 0: program {other_program} is not assigned to release {release}")
    );
    // Runs are queryable through their links.
    let q = "runs?query=%22release%20EQ%20%7Bname%20EQ%20%5EmyRelease%5E%7D%22".to_string();
    assert_eq!(s.entities(&q).await["total_count"], 1);
}

async fn suite_with_default_release_creates_a_suite_run(s: TestServer) {
    s.sign_in().await;
    let suite = s
        .store
        .create_test_suite(WS, "Regression", "comp")
        .await
        .unwrap();
    let no_default = wrap(
        &format!(
            r#"<suite_ref id="{suite}" external_run_id="regression Q01"/><release name="_default_"/>"#
        ),
        RUN,
    );
    let task = s.push_and_wait(&no_default, false).await;
    assert_eq!(task["status"], "failed");
    assert_eq!(task["errorDetails"], "global: default release not found");
    s.store
        .create_release(
            WS,
            &NewRelease {
                name: "Current".into(),
                is_default: true,
                ..NewRelease::default()
            },
        )
        .await
        .unwrap();
    let xml = wrap(
        &format!(
            r#"<suite_ref id="{suite}" external_run_id="regression Q01"/><release name="_default_"/>"#
        ),
        r#"<test_run module="/helloWorld" package="hello" class="HelloWorldTest" name="myTest1" duration="82" status="Passed" started="1580375724752"/><test_run module="/helloWorld" package="hello" class="HelloWorldTest" name="myTest2" duration="70" status="Passed" started="1580375724752"/>"#,
    );
    assert_eq!(s.push_and_wait(&xml, false).await["status"], "success");
    let suite_runs = s.entities("suite_run").await;
    assert_eq!(suite_runs["total_count"], 1, "{suite_runs}");
    let suite_run = &suite_runs["data"][0];
    assert_eq!(suite_run["name"], "regression Q01");
    assert_eq!(suite_run["release"]["name"], "Current");
    let runs = s.entities("automated_runs?order_by=name").await;
    assert_eq!(runs["total_count"], 2);
    assert_eq!(runs["data"][0]["parent_suite"]["id"], suite_run["id"]);
    assert_eq!(runs["data"][0]["name"], "regression Q01");
    // A suite run needs a release when it has to be created.
    let other = s.store.create_test_suite(WS, "Other", "").await.unwrap();
    let task = s
        .push_and_wait(&wrap(&format!(r#"<suite_ref id="{other}"/>"#), RUN), false)
        .await;
    assert_eq!(
        task["errorDetails"],
        "item 0: creating a suite run requires a release"
    );
}

async fn a_suite_run_takes_at_most_1000_runs_per_payload(s: TestServer) {
    s.sign_in().await;
    let suite = s.store.create_test_suite(WS, "Big", "").await.unwrap();
    s.store
        .create_release(
            WS,
            &NewRelease {
                name: "R".into(),
                ..NewRelease::default()
            },
        )
        .await
        .unwrap();
    let runs: String = (0..1001)
        .map(|i| format!(r#"<test_run name="t{i}" duration="1" status="Passed"/>"#))
        .collect();
    let xml = wrap(
        &format!(r#"<suite_ref id="{suite}"/><release name="R"/>"#),
        &runs,
    );
    let task = s.push_and_wait(&xml, false).await;
    assert_eq!(task["status"], "warning", "{task}");
    assert_eq!(
        task["errorDetails"],
        format!("global: suite {suite}: more than 1000 runs, 1 ignored")
    );
    assert_eq!(
        s.entities("automated_runs?limit=1").await["total_count"],
        1000
    );
}

async fn build_context_links_runs_to_a_ci_build(s: TestServer) {
    s.sign_in().await;
    let build = r##"<build server_id="jenkins-1" job_id="job" build_id="42" job_name="Job" build_name="#42" sub_type="" artifact_id=""/>"##;
    let task = s.push_and_wait(&wrap(build, RUN), false).await;
    assert_eq!(
        task["errorDetails"],
        "global: ci server 'jenkins-1' not found (register it with `verdict admin ci-server create --instance-id jenkins-1` or POST …/ci_servers)"
    );
    s.store
        .create_ci_server(WS, "Jenkins", "jenkins-1", "jenkins", Some("http://ci"))
        .await
        .unwrap();
    // Different bytes, or the push would be answered from the dedupe window.
    let again = wrap(build, RUN).replace("<test_runs>", "<!-- retry --><test_runs>");
    assert_eq!(s.push_and_wait(&again, false).await["status"], "success");
    let run = &s.entities("runs").await["data"][0];
    assert_eq!(run["ci_build"]["type"], "ci_build");
    assert_eq!(run["ci_build"]["name"], "#42");
    let builds = s.entities("ci_builds").await;
    assert_eq!(builds["data"][0]["build_ci_id"], "42");
    assert_eq!(builds["data"][0]["ci_job"]["name"], "Job");
}
