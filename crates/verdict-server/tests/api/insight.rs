//! Insight through the real server (docs/insight.md): result sets and their
//! comparison, failing since, failure groups and triage that carries over,
//! mutes, flaky rankings, contexts, tenancy and the OpenAPI document.

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::harness::{SP, TestServer, WS};
use crate::on_both_backends;

on_both_backends!(
    pushes_compare_with_the_previous_push_of_their_series,
    failing_since_spans_skips_and_names_the_last_pass,
    failing_since_reads_a_streak_longer_than_one_read,
    signatures_group_failures_and_triage_carries_over,
    muted_tests_are_apart_and_never_new,
    a_test_that_changes_context_has_a_story_per_context,
    retries_and_flaky_marks_rank_flaky_tests,
    flaky_ranking_sees_past_many_broken_tests_and_late_results,
    ci_builds_are_result_sets_of_their_job,
    insight_is_tenant_scoped_and_parameters_are_checked,
    the_openapi_document_covers_the_api,
    results_stored_before_insight_are_filed_at_start,
    a_repeated_push_is_judged_by_the_set_holding_its_results,
    worse_wins_inside_a_task_leaves_other_sets_alone,
);

fn vapi(s: &TestServer, path: &str) -> String {
    format!(
        "{}/verdict/api/shared_spaces/{SP}/workspaces/{WS}/{path}",
        s.url
    )
}

fn run(name: &str, status: &str, started: i64) -> String {
    format!(
        r#"<test_run package="p" class="C" name="{name}" duration="5" status="{status}" started="{started}"/>"#
    )
}

fn failing(name: &str, started: i64, kind: &str, message: &str) -> String {
    format!(
        r#"<test_run package="p" class="C" name="{name}" duration="5" status="Failed" started="{started}"><error type="{kind}" message="{message}">{kind}: {message}
	at com.shop.Cart.total(Cart.java:{started})
	at org.junit.runners.ParentRunner.run(ParentRunner.java:1)</error></test_run>"#
    )
}

fn payload(runs: &[String]) -> String {
    format!(
        "<test_result><test_runs>{}</test_runs></test_result>",
        runs.concat()
    )
}

async fn push(s: &TestServer, runs: &[String]) -> i64 {
    let task = s.push_and_wait(&payload(runs), false).await;
    assert_eq!(task["status"], "success", "{task}");
    task["id"]
        .as_str()
        .map_or_else(|| task["id"].as_i64().unwrap(), |t| t.parse().unwrap())
}

/// The result set a task wrote into.
async fn set_of(s: &TestServer, task: i64) -> Value {
    let list = s
        .get_json(&vapi(s, &format!("result_sets?task={task}")))
        .await;
    assert_eq!(list["total_count"], 1, "{list}");
    list["data"][0].clone()
}

async fn detail(s: &TestServer, set: &Value) -> Value {
    s.get_json(&vapi(
        s,
        &format!("result_sets/{}", set["id"].as_str().unwrap()),
    ))
    .await
}

fn names(list: &Value) -> Vec<String> {
    let mut out: Vec<String> = list["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["test"]["name"].as_str().unwrap().to_owned())
        .collect();
    out.sort();
    out
}

async fn test_id(s: &TestServer, name: &str) -> String {
    let tests = s
        .entities(&format!("tests?query=%22name%20EQ%20%5E{name}%5E%22"))
        .await;
    tests["data"][0]["id"].as_str().unwrap().to_owned()
}

async fn pushes_compare_with_the_previous_push_of_their_series(s: TestServer) {
    s.sign_in().await;
    let a = push(
        &s,
        &[
            run("t1", "Passed", 1_000),
            run("t2", "Failed", 1_000),
            run("t3", "Passed", 1_000),
            run("t4", "Failed", 1_000),
        ],
    )
    .await;
    let b = push(
        &s,
        &[
            run("t1", "Failed", 2_000),
            run("t2", "Failed", 2_000),
            run("t3", "Skipped", 2_000),
            run("t5", "Passed", 2_000),
        ],
    )
    .await;
    let c = push(
        &s,
        &[
            run("t1", "Passed", 3_000),
            run("t2", "Failed", 3_000),
            run("t3", "Passed", 3_000),
            run("t5", "Passed", 3_000),
        ],
    )
    .await;
    let list = s.get_json(&vapi(&s, "result_sets")).await;
    assert_eq!(list["total_count"], 3, "{list}");
    let ids: Vec<&str> = list["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["id"].as_str().unwrap())
        .collect();
    let (sa, sb, sc) = (
        set_of(&s, a).await,
        set_of(&s, b).await,
        set_of(&s, c).await,
    );
    assert_eq!(
        ids,
        [
            sc["id"].as_str().unwrap(),
            sb["id"].as_str().unwrap(),
            sa["id"].as_str().unwrap()
        ],
        "newest first"
    );
    assert_eq!(sa["kind"], "push");
    assert_eq!(
        sa["series"]["id"], sb["series"]["id"],
        "same pusher and context: one series"
    );
    assert_eq!(
        sb["counts"],
        json!({"total": 4, "passed": 1, "failed": 2, "skipped": 1, "flaky": 0, "muted": 0})
    );
    assert_eq!(sb["started"], "1970-01-01T00:00:02Z");
    let d = detail(&s, &sb).await;
    assert_eq!(d["previous"]["id"], sa["id"]);
    assert_eq!(names(&d["new_failures"]), ["t1"]);
    assert_eq!(names(&d["still_failing"]), ["t2"]);
    assert_eq!(names(&d["removed"]), ["t4"]);
    assert_eq!(names(&d["new_tests"]), ["t5"]);
    assert_eq!(names(&d["fixed"]), Vec::<String>::new());
    // t2 has failed since set A; t1 since B, having passed in A
    let t2 = &d["still_failing"]["data"][0];
    assert_eq!(t2["failing_since"]["result_set_id"], sa["id"]);
    assert!(t2["last_passed"].is_null());
    let t1 = &d["new_failures"]["data"][0];
    assert_eq!(t1["failing_since"]["result_set_id"], sb["id"]);
    assert_eq!(t1["last_passed"]["result_set_id"], sa["id"]);
    let d = detail(&s, &sc).await;
    assert_eq!(names(&d["fixed"]), ["t1"]);
    assert_eq!(
        names(&d["new_failures"]),
        Vec::<String>::new(),
        "skipped before is not failed; t3 passes"
    );
    assert_eq!(names(&d["new_tests"]), Vec::<String>::new());
    // the cached counts of the list agree with the live comparison
    assert_eq!(sb["comparison"]["new_failures"], 1);
    assert_eq!(sb["comparison"]["still_failing"], 1);
    assert_eq!(sb["comparison"]["removed"], 1);
    assert_eq!(sb["comparison"]["new_tests"], 1);
    assert_eq!(sb["comparison"]["previous_id"], sa["id"]);
    // a result set's results, filtered by outcome
    let failed = s
        .get_json(&vapi(
            &s,
            &format!(
                "result_sets/{}/results?outcome=failed",
                sb["id"].as_str().unwrap()
            ),
        ))
        .await;
    assert_eq!(failed["total_count"], 2);
    assert_eq!(failed["data"][0]["outcome"], "failed");
}

async fn failing_since_spans_skips_and_names_the_last_pass(s: TestServer) {
    s.sign_in().await;
    for (i, status) in ["Passed", "Failed", "Passed", "Failed", "Skipped", "Failed"]
        .iter()
        .enumerate()
    {
        push(&s, &[run("story", status, 1_000 * (i as i64 + 1))]).await;
    }
    let id = test_id(&s, "story").await;
    let story = s.get_json(&vapi(&s, &format!("tests/{id}/story"))).await;
    assert_eq!(story["test"]["name"], "story");
    assert_eq!(story["contexts"].as_array().unwrap().len(), 1, "{story}");
    let c = &story["contexts"][0];
    assert_eq!(c["current"], "failed");
    assert_eq!(c["total_results"], 6);
    assert_eq!(
        c["failing_since"]["started"], "1970-01-01T00:00:04Z",
        "the skip neither breaks nor starts the streak"
    );
    assert_eq!(c["last_passed"]["started"], "1970-01-01T00:00:03Z");
    assert_eq!(c["streak_failures"], 2);
    let f = &c["figures"];
    assert_eq!(f["runs"], 5);
    assert_eq!(f["passed"], 2);
    assert_eq!(f["flips"], 3);
    assert_eq!(f["times_broken"], 2);
    assert!((f["success_rate"].as_f64().unwrap() - 0.4).abs() < 1e-9);
    assert!((f["flakiness"].as_f64().unwrap() - 0.6).abs() < 1e-9);
    assert_eq!(f["duration_median_ms"], 5);
    // a window of 2 counts only the newest two counted results
    let small = s
        .get_json(&vapi(&s, &format!("tests/{id}/story?window=2")))
        .await;
    assert_eq!(small["contexts"][0]["figures"]["runs"], 2);
    assert_eq!(small["contexts"][0]["figures"]["times_broken"], 1);
}

/// The comparison page reads each failing test newest-first, 64 results at
/// a time; a longer streak (69 failures, a skip as the oldest of the first read)
/// is read on until its last pass.
async fn failing_since_reads_a_streak_longer_than_one_read(s: TestServer) {
    s.sign_in().await;
    let mut statuses = vec!["Passed", "Passed"];
    statuses.extend(std::iter::repeat_n("Failed", 6));
    statuses.push("Skipped");
    statuses.extend(std::iter::repeat_n("Failed", 63));
    for (i, status) in statuses.iter().enumerate() {
        push(&s, &[run("long", status, 1_000 * (i as i64 + 1))]).await;
    }
    let sets = s.get_json(&vapi(&s, "result_sets?limit=1")).await;
    let d = detail(&s, &sets["data"][0]).await;
    let still = &d["still_failing"]["data"][0];
    assert_eq!(still["test"]["name"], "long", "{d}");
    assert_eq!(
        still["failing_since"]["started"], "1970-01-01T00:00:03Z",
        "{still}"
    );
    assert_eq!(
        still["last_passed"]["started"], "1970-01-01T00:00:02Z",
        "{still}"
    );
}

async fn signatures_group_failures_and_triage_carries_over(s: TestServer) {
    s.sign_in().await;
    push(
        &s,
        &[
            failing(
                "a",
                1_000,
                "java.lang.AssertionError",
                "expected 3 but was 4",
            ),
            failing(
                "b",
                1_000,
                "java.lang.AssertionError",
                "expected 5 but was 9",
            ),
            failing(
                "c",
                1_000,
                "java.lang.IllegalStateException",
                "expected 3 but was 4",
            ),
        ],
    )
    .await;
    let groups = s.get_json(&vapi(&s, "failure_groups")).await;
    assert_eq!(
        groups["total_count"], 2,
        "numbers masked, types kept: {groups}"
    );
    let assertion = groups["data"]
        .as_array()
        .unwrap()
        .iter()
        .find(|g| g["error_type"] == "java.lang.AssertionError")
        .unwrap()
        .clone();
    assert_eq!(assertion["message"], "expected <n> but was <n>");
    assert_eq!(
        assertion["frames"],
        json!(["com.shop.Cart.total(Cart.java)"]),
        "JUnit frames left out, line numbers masked"
    );
    assert_eq!(assertion["failed_runs"], 2);
    assert_eq!(assertion["tests_affected"], 2);
    assert_eq!(assertion["new"], true);
    let sig = assertion["signature"].as_str().unwrap();
    assert_eq!(sig.len(), 16);
    // triage: a note and a defect link
    let r = s
        .client
        .post(vapi(&s, &format!("failure_groups/{sig}/triage")))
        .json(&json!({"note": "rounding in Cart.total", "link": "https://tracker/SHOP-12"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::CREATED);
    // a later failure with the same signature carries it
    let later = push(
        &s,
        &[failing(
            "d",
            2_000,
            "java.lang.AssertionError",
            "expected 7 but was 8",
        )],
    )
    .await;
    let d = detail(&s, &set_of(&s, later).await).await;
    let entry = &d["new_failures"]["data"][0];
    assert_eq!(entry["test"]["name"], "d");
    assert_eq!(entry["signature"], sig);
    assert_eq!(entry["triage"]["note"], "rounding in Cart.total");
    assert_eq!(entry["triage"]["link"], "https://tracker/SHOP-12");
    assert_eq!(entry["triage"]["by"], "admin");
    let group = s
        .get_json(&vapi(&s, &format!("failure_groups/{sig}")))
        .await;
    assert_eq!(group["group"]["failed_runs"], 3);
    assert_eq!(group["group"]["tests_affected"], 3);
    assert_eq!(group["group"]["new"], false, "failures in two result sets");
    assert_eq!(group["runs"]["data"].as_array().unwrap().len(), 3);
    assert_eq!(group["runs"]["data"][0]["test_name"], "d", "newest first");
    assert_eq!(group["triage_history"].as_array().unwrap().len(), 1);
    // a second note is kept beside the first; the newest shows
    let r = s
        .client
        .post(vapi(&s, &format!("failure_groups/{sig}/triage")))
        .json(&json!({"note": "fixed in 2.1"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::CREATED);
    let group = s
        .get_json(&vapi(&s, &format!("failure_groups/{sig}")))
        .await;
    assert_eq!(group["group"]["triage"]["note"], "fixed in 2.1");
    assert_eq!(group["triage_history"].as_array().unwrap().len(), 2);
    // bad triage requests
    let r = s
        .client
        .post(vapi(&s, &format!("failure_groups/{sig}/triage")))
        .json(&json!({}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    let r = s
        .client
        .post(vapi(&s, "failure_groups/00000000000000ff/triage"))
        .json(&json!({"note": "x"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
    let r = s
        .client
        .post(vapi(&s, &format!("failure_groups/{sig}/triage")))
        .json(&json!({"note": "x".repeat(70_000)}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
}

async fn muted_tests_are_apart_and_never_new(s: TestServer) {
    s.sign_in().await;
    push(
        &s,
        &[
            run("quarantined", "Passed", 1_000),
            run("other", "Passed", 1_000),
        ],
    )
    .await;
    let id = test_id(&s, "quarantined").await;
    let r = s
        .client
        .put(vapi(&s, &format!("tests/{id}/mute")))
        .json(&json!({"reason": "flaky on CI, SHOP-9"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let m: Value = r.json().await.unwrap();
    assert_eq!(m["muted_by"], "admin");
    assert_eq!(m["reason"], "flaky on CI, SHOP-9");
    let task = push(
        &s,
        &[
            run("quarantined", "Failed", 2_000),
            run("other", "Failed", 2_000),
        ],
    )
    .await;
    let set = set_of(&s, task).await;
    assert_eq!(set["counts"]["muted"], 1);
    let d = detail(&s, &set).await;
    assert_eq!(names(&d["new_failures"]), ["other"]);
    assert_eq!(names(&d["muted"]), ["quarantined"]);
    assert_eq!(d["muted"]["data"][0]["muted"], true);
    let story = s.get_json(&vapi(&s, &format!("tests/{id}/story"))).await;
    assert_eq!(story["mute"]["reason"], "flaky on CI, SHOP-9");
    assert_eq!(
        story["contexts"][0]["results"][1]["muted"], true,
        "the run is stored, marked muted"
    );
    // unmute: kept in the trail
    let r = s
        .client
        .delete(vapi(&s, &format!("tests/{id}/mute")))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let r = s
        .client
        .delete(vapi(&s, &format!("tests/{id}/mute")))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::NOT_FOUND, "not muted any more");
    let active = s.get_json(&vapi(&s, "mutes")).await;
    assert_eq!(active["total_count"], 0);
    let all = s.get_json(&vapi(&s, "mutes?all=true")).await;
    assert_eq!(all["total_count"], 1);
    assert_eq!(all["data"][0]["unmuted_by"], "admin");
    let task = push(
        &s,
        &[
            run("quarantined", "Failed", 3_000),
            run("other", "Failed", 3_000),
        ],
    )
    .await;
    let d = detail(&s, &set_of(&s, task).await).await;
    assert_eq!(
        names(&d["still_failing"]),
        ["other", "quarantined"],
        "unmuted: counted again"
    );
}

async fn a_test_that_changes_context_has_a_story_per_context(s: TestServer) {
    s.sign_in().await;
    let env = |browser: &str, status: &str, started: i64| {
        format!(
            r#"<test_run name="ctx" duration="5" status="{status}" started="{started}"><environment><taxonomy type="Browser" value="{browser}"/></environment></test_run>"#
        )
    };
    push(&s, &[env("Chrome", "Failed", 1_000)]).await;
    push(&s, &[env("Firefox", "Passed", 2_000)]).await;
    push(&s, &[env("Chrome", "Failed", 3_000)]).await;
    let id = test_id(&s, "ctx").await;
    let story = s.get_json(&vapi(&s, &format!("tests/{id}/story"))).await;
    let contexts = story["contexts"].as_array().unwrap();
    assert_eq!(contexts.len(), 2, "{story}");
    let chrome = contexts
        .iter()
        .find(|c| c["context"]["environment"] == json!(["Browser: Chrome"]))
        .unwrap();
    assert_eq!(
        chrome["failing_since"]["started"], "1970-01-01T00:00:01Z",
        "Firefox's pass does not break Chrome's streak"
    );
    assert_eq!(chrome["total_results"], 2);
    let firefox = contexts
        .iter()
        .find(|c| c["context"]["environment"] == json!(["Browser: Firefox"]))
        .unwrap();
    assert_eq!(firefox["current"], "passed");
    // a push-wide environment names the result set and its series, and filters the list
    let global = r#"<test_result><environment><taxonomy type="Browser" value="Edge"/></environment><test_runs><test_run name="ctx" duration="5" status="Passed" started="4000"/></test_runs></test_result>"#;
    assert_eq!(s.push_and_wait(global, false).await["status"], "success");
    let edge = s.get_json(&vapi(&s, "result_sets?environment=edge")).await;
    assert_eq!(edge["total_count"], 1, "{edge}");
    assert_eq!(edge["data"][0]["environment"], "Browser: Edge");
    assert_eq!(
        edge["data"][0]["series"]["name"],
        "pushes by admin, Browser: Edge"
    );
    assert_eq!(s.get_json(&vapi(&s, "result_sets")).await["total_count"], 4);
}

async fn retries_and_flaky_marks_rank_flaky_tests(s: TestServer) {
    s.sign_in().await;
    let now = verdict_store::now_ms();
    let flip = ["Passed", "Failed", "Passed", "Failed"];
    for (i, status) in flip.iter().enumerate() {
        let started = now - 10_000 + i as i64 * 1_000;
        let flaky_pass = format!(
            r#"<test_run name="marked" duration="5" status="Passed" started="{started}" retries="1" flaky="true"/>"#
        );
        push(
            &s,
            &[
                run("flipper", status, started),
                run("steady", "Passed", started),
                flaky_pass,
            ],
        )
        .await;
    }
    let flaky = s.get_json(&vapi(&s, "flaky_tests")).await;
    let ranked: Vec<&str> = flaky["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["test"]["name"].as_str().unwrap())
        .collect();
    assert_eq!(ranked, ["marked", "flipper"], "{flaky}");
    assert_eq!(flaky["data"][0]["flaky_marked"], 4);
    assert_eq!(flaky["data"][1]["flips"], 3);
    assert_eq!(flaky["data"][1]["last_flips"].as_array().unwrap().len(), 3);
    // the flaky pass is listed as flaky in its result set, never as a failure
    let sets = s.get_json(&vapi(&s, "result_sets?limit=1")).await;
    assert_eq!(sets["data"][0]["counts"]["flaky"], 1);
    let d = detail(&s, &sets["data"][0]).await;
    assert_eq!(names(&d["flaky"]), ["marked"]);
    let story = s
        .get_json(&vapi(
            &s,
            &format!("tests/{}/story", test_id(&s, "marked").await),
        ))
        .await;
    assert_eq!(story["contexts"][0]["results"][0]["retries"], 1);
    assert_eq!(story["contexts"][0]["results"][0]["flaky"], true);
    // a window in the future leaves nothing to rank
    let later = s
        .get_json(&vapi(&s, &format!("flaky_tests?since={}", now + 60_000)))
        .await;
    assert_eq!(later["total_count"], 0);
}

/// The ranking is exact: 250 always-failing tests (flakiness 0) do not
/// crowd out a test that flipped once, a result that arrives late (older
/// than the newest) is put in its place, and the figures are the story's.
async fn flaky_ranking_sees_past_many_broken_tests_and_late_results(s: TestServer) {
    s.sign_in().await;
    let now = verdict_store::now_ms();
    let at = |i: i64| now - 100_000 + i * 1_000;
    for (i, rare) in ["Passed", "Passed", "Failed", "Passed"].iter().enumerate() {
        let i = i as i64 * 2;
        let mut runs: Vec<String> = (0..250)
            .map(|b| failing(&format!("broken_{b:03}"), at(i), "E", "always"))
            .collect();
        runs.push(run("rare", rare, at(i)));
        runs.push(run("late", "Passed", at(i)));
        push(&s, &runs).await;
    }
    let ranked = |v: &Value| -> Vec<String> {
        v["data"]
            .as_array()
            .unwrap()
            .iter()
            .map(|f| f["test"]["name"].as_str().unwrap().to_owned())
            .collect()
    };
    let flaky = s.get_json(&vapi(&s, "flaky_tests")).await;
    assert_eq!(ranked(&flaky), ["rare"], "{flaky}");
    assert_eq!(flaky["data"][0]["flips"], 2);
    assert_eq!(flaky["data"][0]["runs"], 4);
    let flips: Vec<&str> = flaky["data"][0]["last_flips"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["started"].as_str().unwrap())
        .collect();
    let story = s
        .get_json(&vapi(
            &s,
            &format!("tests/{}/story", test_id(&s, "rare").await),
        ))
        .await;
    let story_flips: Vec<&str> = story["contexts"][0]["flips"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["started"].as_str().unwrap())
        .collect();
    assert_eq!(flips, story_flips);
    assert_eq!(
        flaky["data"][0]["flakiness"],
        story["contexts"][0]["figures"]["flakiness"]
    );
    // "late" gets a failure between its passes, pushed after them: two flips
    push(&s, &[run("late", "Failed", at(3))]).await;
    let flaky = s.get_json(&vapi(&s, "flaky_tests?window=64")).await;
    assert_eq!(ranked(&flaky), ["rare", "late"], "{flaky}");
    assert_eq!(flaky["data"][1]["flips"], 2);
    assert_eq!(flaky["data"][1]["runs"], 5);
    let story = s
        .get_json(&vapi(
            &s,
            &format!("tests/{}/story", test_id(&s, "late").await),
        ))
        .await;
    assert_eq!(story["contexts"][0]["figures"]["flips"], 2);
    // the ranking's window is at most the 64 results kept per context
    let r = s
        .client
        .get(vapi(&s, "flaky_tests?window=65"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
}

async fn ci_builds_are_result_sets_of_their_job(s: TestServer) {
    s.sign_in().await;
    s.store
        .create_ci_server(WS, "Jenkins", "jenkins-1", "jenkins", Some("http://ci"))
        .await
        .unwrap();
    let with_build = |build: &str, runs: &[String]| {
        format!(
            r#"<test_result><build server_id="jenkins-1" job_id="shop" build_id="{build}" job_name="shop" build_name="{build}"/><test_runs>{}</test_runs></test_result>"#,
            runs.concat()
        )
    };
    let first = s
        .push_and_wait(&with_build("41", &[run("b1", "Passed", 1_000)]), false)
        .await;
    assert_eq!(first["status"], "success");
    // two pushes into one build are one result set
    s.push_and_wait(&with_build("42", &[run("b1", "Failed", 2_000)]), false)
        .await;
    s.push_and_wait(&with_build("42", &[run("b2", "Passed", 2_000)]), false)
        .await;
    let sets = s.get_json(&vapi(&s, "result_sets?kind=build")).await;
    assert_eq!(sets["total_count"], 2, "{sets}");
    let newest = &sets["data"][0];
    assert_eq!(newest["name"], "shop #42");
    assert_eq!(newest["counts"]["total"], 2);
    assert_eq!(newest["series"]["name"], "shop");
    let d = detail(&s, newest).await;
    assert_eq!(names(&d["new_failures"]), ["b1"]);
    assert_eq!(names(&d["new_tests"]), ["b2"]);
    // filter by job: its CI id, or an unknown one
    let by_job = s.get_json(&vapi(&s, "result_sets?job=shop")).await;
    assert_eq!(by_job["total_count"], 2);
    let none = s.get_json(&vapi(&s, "result_sets?job=other")).await;
    assert_eq!(none["total_count"], 0);
    let pushes = s.get_json(&vapi(&s, "result_sets?kind=push")).await;
    assert_eq!(
        pushes["total_count"], 0,
        "a build's pushes are not plain pushes"
    );
}

async fn insight_is_tenant_scoped_and_parameters_are_checked(s: TestServer) {
    s.sign_in().await;
    push(&s, &[failing("secret", 1_000, "E", "boom")]).await;
    let id = test_id(&s, "secret").await;
    let groups = s.get_json(&vapi(&s, "failure_groups")).await;
    let sig = groups["data"][0]["signature"].as_str().unwrap().to_owned();
    s.tenant_user("mallory", "mallory-pass", 5005).await;
    let other = reqwest::Client::builder()
        .cookie_store(true)
        .build()
        .unwrap();
    let r = other
        .post(format!("{}/authentication/sign_in", s.url))
        .json(&json!({"user": "mallory", "password": "mallory-pass"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    for path in [
        "result_sets",
        &format!("tests/{id}/story"),
        "failure_groups",
        &format!("failure_groups/{sig}"),
        "flaky_tests",
        "mutes",
    ] {
        let r = other.get(vapi(&s, path)).send().await.unwrap();
        assert_eq!(r.status(), StatusCode::FORBIDDEN, "{path}");
    }
    let r = other
        .put(vapi(&s, &format!("tests/{id}/mute")))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    // in mallory's own workspace, the test and group of another tenant do not exist
    let own = |path: &str| {
        format!(
            "{}/verdict/api/shared_spaces/{SP}/workspaces/5005/{path}",
            s.url
        )
    };
    for path in [
        format!("tests/{id}/story"),
        format!("failure_groups/{sig}"),
        format!("tests/{id}/mute"),
    ] {
        let r = if path.ends_with("mute") {
            other.put(own(&path)).send().await.unwrap()
        } else {
            other.get(own(&path)).send().await.unwrap()
        };
        assert_eq!(r.status(), StatusCode::NOT_FOUND, "{path}");
    }
    let empty: Value = other
        .get(own("failure_groups"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(empty["total_count"], 0);
    // parameters are checked and named
    for (query, word) in [
        ("result_sets?limit=0", "limit"),
        ("result_sets?limit=abc", "limit"),
        ("result_sets?since=yesterday", "since"),
        ("result_sets?kind=nightly", "kind"),
        ("result_sets?relase=1", "relase"),
        (&format!("tests/{id}/story?window=0"), "window"),
        ("mutes?all=maybe", "all"),
    ] {
        let r = s.client.get(vapi(&s, query)).send().await.unwrap();
        assert_eq!(r.status(), StatusCode::BAD_REQUEST, "{query}");
        let body: Value = r.json().await.unwrap();
        assert!(
            body["description"]
                .as_str()
                .unwrap()
                .contains(&format!("'{word}'")),
            "{query}: {body}"
        );
    }
    let r = s
        .client
        .get(vapi(&s, "result_sets/999999"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
}

async fn the_openapi_document_covers_the_api(s: TestServer) {
    let doc: Value = reqwest::get(format!("{}/verdict/api/openapi.json", s.url))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(doc["openapi"].as_str().unwrap().starts_with("3."), "{doc}");
    let paths = doc["paths"].as_object().unwrap();
    for p in [
        "/verdict/api/shared_spaces/{sp}/workspaces/{ws}/result_sets",
        "/verdict/api/shared_spaces/{sp}/workspaces/{ws}/result_sets/{id}",
        "/verdict/api/shared_spaces/{sp}/workspaces/{ws}/tests/{id}/story",
        "/verdict/api/shared_spaces/{sp}/workspaces/{ws}/failure_groups/{signature}/triage",
        "/verdict/api/shared_spaces/{sp}/workspaces/{ws}/tests/{id}/mute",
        "/verdict/api/shared_spaces/{sp}/workspaces/{ws}/flaky_tests",
        "/verdict/api/shared_spaces/{sp}/workspaces/{ws}/batches",
        "/verdict/api/shared_spaces/{sp}/workspaces/{ws}/tests/{id}/history",
        "/verdict/api/tokens",
        "/verdict/api/tokens/{id}",
    ] {
        assert!(paths.contains_key(p), "{p} missing");
    }
    assert!(doc["components"]["schemas"]["ResultSetDetail"].is_object());
    assert!(doc["components"]["securitySchemes"]["basic"].is_object());
}

/// Results stored before schema v6 are filed at the next start: wipe the
/// insight tables, mark the backfill pending, open the store again.
async fn results_stored_before_insight_are_filed_at_start(s: TestServer) {
    s.sign_in().await;
    push(
        &s,
        &[
            run("old1", "Passed", 1_000),
            failing("old2", 1_000, "E", "broke 1"),
        ],
    )
    .await;
    push(
        &s,
        &[
            run("old1", "Failed", 2_000),
            failing("old2", 2_000, "E", "broke 2"),
        ],
    )
    .await;
    let before = s.get_json(&vapi(&s, "result_sets")).await;
    let before_detail = detail(&s, &before["data"][0]).await;
    let pool = sqlx::AnyPool::connect(&s.database_url).await.unwrap();
    let recent_before = recent_rows(&pool).await;
    assert_eq!(
        recent_before.len(),
        2,
        "old1 flipped, old2 failed: {recent_before:?}"
    );
    for table in [
        "recent_outcomes",
        "results",
        "result_sets",
        "result_set_tasks",
        "series",
        "contexts",
        "failure_groups",
        "failure_group_tests",
    ] {
        sqlx::query(sqlx::AssertSqlSafe(format!("DELETE FROM {table}")))
            .execute(&pool)
            .await
            .unwrap();
    }
    sqlx::query("UPDATE insight_backfill SET pending = 1")
        .execute(&pool)
        .await
        .unwrap();
    pool.close().await;
    assert_eq!(s.get_json(&vapi(&s, "result_sets")).await["total_count"], 0);
    verdict_store::Store::open(&s.database_url).await.unwrap();
    let after = s.get_json(&vapi(&s, "result_sets")).await;
    assert_eq!(after["total_count"], 2, "{after}");
    assert_eq!(after["data"][0]["counts"], before["data"][0]["counts"]);
    assert_eq!(
        after["data"][0]["series"]["name"],
        before["data"][0]["series"]["name"]
    );
    let after_detail = detail(&s, &after["data"][0]).await;
    assert_eq!(
        names(&after_detail["new_failures"]),
        names(&before_detail["new_failures"])
    );
    assert_eq!(names(&after_detail["still_failing"]), ["old2"]);
    let groups = s.get_json(&vapi(&s, "failure_groups")).await;
    assert_eq!(
        groups["total_count"], 2,
        "old1's bare failure and old2's: {groups}"
    );
    let broke = groups["data"]
        .as_array()
        .unwrap()
        .iter()
        .find(|g| g["error_type"] == "E")
        .unwrap();
    assert_eq!(broke["failed_runs"], 2, "one signature: numbers masked");
    // filed once: opening again adds nothing
    verdict_store::Store::open(&s.database_url).await.unwrap();
    assert_eq!(s.get_json(&vapi(&s, "result_sets")).await["total_count"], 2);
    // the flaky ranking's rows rebuilt from the results equal those kept at ingest
    let pool = sqlx::AnyPool::connect(&s.database_url).await.unwrap();
    assert_eq!(recent_rows(&pool).await, recent_before);
    // and so does the upgrade to schema v7 alone (results kept, rows rebuilt)
    sqlx::query("DELETE FROM recent_outcomes")
        .execute(&pool)
        .await
        .unwrap();
    sqlx::query("UPDATE insight_backfill SET recent_pending = 1")
        .execute(&pool)
        .await
        .unwrap();
    verdict_store::Store::open(&s.database_url).await.unwrap();
    assert_eq!(recent_rows(&pool).await, recent_before);
    pool.close().await;
}

/// Every `recent_outcomes` row, in key order.
async fn recent_rows(pool: &sqlx::AnyPool) -> Vec<(i64, i64, i64, i64, i64, i64)> {
    sqlx::query_as(
        "SELECT context_key, test_id, failed_bits, flaky_bits, len, at_last FROM recent_outcomes \
         ORDER BY context_key, test_id",
    )
    .fetch_all(pool)
    .await
    .unwrap()
}

/// The same results pushed again (new bytes, so a new task) store nothing
/// twice; the task is linked to the set that holds them.
async fn a_repeated_push_is_judged_by_the_set_holding_its_results(s: TestServer) {
    s.sign_in().await;
    let runs = [run("again", "Failed", 1_000), run("other", "Passed", 1_000)];
    let first = push(&s, &runs).await;
    let xml = payload(&runs).replace("<test_runs>", "<!-- re-run --><test_runs>");
    let task = s.push_and_wait(&xml, false).await;
    assert_eq!(task["status"], "success");
    let second = task["id"].as_i64().unwrap();
    assert_ne!(first, second);
    let list = s.get_json(&vapi(&s, "result_sets")).await;
    assert_eq!(list["total_count"], 1, "nothing stored twice: {list}");
    assert_eq!(
        set_of(&s, second).await["id"],
        set_of(&s, first).await["id"]
    );
    assert_eq!(set_of(&s, second).await["counts"]["total"], 2);
}

/// Two reports of one result inside one task: the worse wins in that task's
/// set only; the earlier push's equal result keeps its own outcome and counts.
async fn worse_wins_inside_a_task_leaves_other_sets_alone(s: TestServer) {
    s.sign_in().await;
    let first = push(&s, &[run("twice", "Passed", 100)]).await;
    let second = push(
        &s,
        &[run("twice", "Skipped", 100), run("twice", "Failed", 100)],
    )
    .await;
    let (a, b) = (set_of(&s, first).await, set_of(&s, second).await);
    assert_eq!(
        a["counts"],
        json!({"total": 1, "passed": 1, "failed": 0, "skipped": 0, "flaky": 0, "muted": 0})
    );
    assert_eq!(
        b["counts"],
        json!({"total": 1, "passed": 0, "failed": 1, "skipped": 0, "flaky": 0, "muted": 0})
    );
    let results = s
        .get_json(&vapi(
            &s,
            &format!("result_sets/{}/results", a["id"].as_str().unwrap()),
        ))
        .await;
    assert_eq!(results["data"][0]["outcome"], "passed", "{results}");
    let d = detail(&s, &b).await;
    assert_eq!(names(&d["new_failures"]), ["twice"]);
    let groups = s.get_json(&vapi(&s, "failure_groups")).await;
    assert_eq!(groups["data"][0]["failed_runs"], 1);
}
