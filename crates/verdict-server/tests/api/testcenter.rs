//! Test Center result reporting (seed `testcenter-result-reporting-api.txt`
//! and `testcenter-notes.md`): the hierarchy, report selection, events with
//! files, result roll-up, and the documented statuses and error bodies.

use reqwest::StatusCode;
use reqwest::multipart::{Form, Part};
use serde_json::{Value, json};

use crate::harness::{ADMIN_PASSWORD, TestServer};
use crate::on_both_backends;

on_both_backends!(
    a_scripted_client_reports_a_full_hierarchy,
    reports_are_selected_by_batch_labels_and_id,
    hierarchy_violations_are_400,
    events_report_per_event_in_207,
    credentials_and_bodies_are_checked,
    history_figures_per_test,
    import_takes_junit_and_xunit_files,
    reports_are_result_sets_compared_per_label_set,
);

struct Tc<'a> {
    s: &'a TestServer,
    auth: String,
}

impl Tc<'_> {
    async fn post(&self, path: &str, body: Value) -> (StatusCode, Value) {
        let r = self
            .s
            .client
            .post(format!("{}/upload/{path}", self.s.url))
            .header("Authorization", &self.auth)
            .json(&body)
            .send()
            .await
            .unwrap();
        let status = r.status();
        let text = r.text().await.unwrap();
        (
            status,
            if text.is_empty() {
                Value::Null
            } else {
                serde_json::from_str(&text).unwrap()
            },
        )
    }

    async fn child(&self, level: &str, parent: i64, name: &str) -> i64 {
        let (status, body) = self
            .post(level, json!({"runId": parent, "test": {"name": name}}))
            .await;
        assert_eq!(status, StatusCode::CREATED, "{level} {name}: {body}");
        body["runId"].as_i64().unwrap()
    }
}

fn basic(user: &str, password: &str) -> String {
    use base64::Engine;
    format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD.encode(format!("{user}:{password}"))
    )
}

fn admin(s: &TestServer) -> Tc<'_> {
    Tc {
        s,
        auth: basic("admin", ADMIN_PASSWORD),
    }
}

async fn a_scripted_client_reports_a_full_hierarchy(s: TestServer) {
    let tc = admin(&s);
    let (status, suite) = tc
        .post(
            "suites",
            json!({"project": "Shop", "batch": "nightly-1", "labels": [{"key": "os", "value": "linux"}, {"key": ".reference.url", "value": "[CI #1](https://ci/1)"}],
                   "test": {"name": "suite_shop", "summary": "Shop suite", "description": "All shop tests"}}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{suite}");
    assert_eq!(
        (suite["project"].as_str(), suite["batch"].as_str()),
        (Some("Shop"), Some("nightly-1"))
    );
    let (report, suite_run) = (
        suite["reportId"].as_i64().unwrap(),
        suite["runId"].as_i64().unwrap(),
    );
    assert!(report > 0);
    let case = tc.child("cases", suite_run, "tst_checkout").await;
    let feature = tc.child("features", case, "Checkout").await;
    let scenario = tc.child("scenarios", feature, "Pay by card").await;
    let step = tc.child("steps", scenario, "Given a cart").await;
    let section = tc.child("sections", step, "setup").await;
    // A single event: 204, no body.
    let (status, body) = tc.post("events", json!({"runId": section, "type": "PASS", "message": "ok", "detail": "d", "location": {"uri": "x.py", "line": 3}})).await;
    assert_eq!((status, body), (StatusCode::NO_CONTENT, Value::Null));
    // Multipart: a FAIL with a screenshot and a log with an attachment.
    let png = vec![0x89, b'P', b'N', b'G', 0, 1, 2, 3];
    let form = Form::new()
        .text("eventData", json!([{"runId": step, "type": "FAIL", "message": "total wrong", "screenshot": "My Image.png", "trace": [{"uri": "a.py", "line": 1}]},
                                  {"runId": step, "type": "LOG", "attachment": "log.txt"}]).to_string())
        .part("attachments[]", Part::bytes(png).file_name("My Image.png").mime_str("image/png").unwrap())
        .part("attachments[]", Part::bytes(b"log line".to_vec()).file_name("log.txt").mime_str("text/plain").unwrap());
    let r = s
        .client
        .post(format!("{}/upload/events", s.url))
        .header("Authorization", &tc.auth)
        .multipart(form)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::MULTI_STATUS);
    assert_eq!(
        r.json::<Value>().await.unwrap(),
        json!([{"code": 201, "body": ""}, {"code": 201, "body": ""}])
    );
    // The results are in the same store: the project is a workspace, runs roll up FAIL to the top.
    s.sign_in().await;
    let ws = s.workspace_named("Shop").await;
    let runs: Value = s
        .client
        .get(format!("{}/api/shared_spaces/1001/workspaces/{ws}/runs?fields=name,status,parent_run&order_by=id", s.url))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let statuses: Vec<(&str, &str)> = runs["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            (
                r["name"].as_str().unwrap(),
                r["status"]["name"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        statuses,
        [
            ("suite_shop", "Failed"),
            ("tst_checkout", "Failed"),
            ("Checkout", "Failed"),
            ("Pay by card", "Failed"),
            ("Given a cart", "Failed"),
            ("setup", "Passed")
        ]
    );
    assert_eq!(runs["data"][1]["parent_run"]["id"], suite_run.to_string());
    let tests: Value = s.client.get(format!("{}/api/shared_spaces/1001/workspaces/{ws}/tests?fields=name,summary,parent_test&order_by=id", s.url)).send().await.unwrap().json().await.unwrap();
    assert_eq!(tests["data"][0]["summary"], "Shop suite");
    assert_eq!(tests["data"][1]["parent_test"]["name"], "suite_shop");
    // The batch carries the `.reference.url` link; hidden labels are listed apart.
    let batches: Value = s
        .client
        .get(format!(
            "{}/verdict/api/shared_spaces/1001/workspaces/{ws}/batches",
            s.url
        ))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let batch = &batches["data"][0];
    assert_eq!(
        batch["reference"],
        json!({"url": "https://ci/1", "title": "CI #1"})
    );
    assert_eq!(
        batch["reports"][0]["labels"],
        json!([{"key": "os", "value": "linux"}])
    );
    assert_eq!(
        batch["reports"][0]["hidden_labels"][0]["key"],
        ".reference.url"
    );
    // Reporting the same test again reuses it and creates a new run.
    let (_, again) = tc
        .post(
            "suites",
            json!({"project": "Shop", "test": {"name": "suite_shop"}}),
        )
        .await;
    assert_ne!(again["reportId"].as_i64(), Some(report));
    let tests: Value = s.client.get(format!("{}/api/shared_spaces/1001/workspaces/{ws}/tests?query=%22name%20EQ%20%5Esuite_shop%5E%22", s.url)).send().await.unwrap().json().await.unwrap();
    assert_eq!(tests["total_count"], 1);
}

async fn reports_are_selected_by_batch_labels_and_id(s: TestServer) {
    let tc = admin(&s);
    let suite = |body: Value| tc.post("suites", body);
    let labels_a = json!([{"key": "os", "value": "linux"}, {"key": "browser", "value": "firefox"}]);
    let labels_a_reordered =
        json!([{"key": "browser", "value": "firefox"}, {"key": "os", "value": "linux"}]);
    let (_, first) =
        suite(json!({"project": "P", "batch": "b1", "labels": labels_a, "test": {"name": "s1"}}))
            .await;
    let (_, same) = suite(json!({"project": "P", "batch": "b1", "labels": labels_a_reordered, "test": {"name": "s2"}})).await;
    assert_eq!(
        first["reportId"], same["reportId"],
        "exact label set, any order"
    );
    let (_, other) = suite(json!({"project": "P", "batch": "b1", "labels": [{"key": "os", "value": "linux"}], "test": {"name": "s3"}})).await;
    assert_ne!(first["reportId"], other["reportId"]);
    let (_, batch_only) =
        suite(json!({"project": "P", "batch": "b1", "test": {"name": "s4"}})).await;
    assert_eq!(
        batch_only["reportId"], first["reportId"],
        "batch only: the batch's first report"
    );
    let (_, by_id) = suite(json!({"reportId": other["reportId"], "test": {"name": "s5"}})).await;
    assert_eq!(
        (by_id["reportId"].clone(), by_id["project"].as_str()),
        (other["reportId"].clone(), Some("P"))
    );
    let (_, fresh) = suite(json!({"project": "P", "test": {"name": "s6"}})).await;
    assert_ne!(fresh["batch"], "b1");
    let (status, err) = suite(json!({"reportId": 987_654_321, "test": {"name": "x"}})).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(err["code"], 404);
}

async fn hierarchy_violations_are_400(s: TestServer) {
    let tc = admin(&s);
    let (_, suite) = tc
        .post("suites", json!({"project": "H", "test": {"name": "s"}}))
        .await;
    let suite = suite["runId"].as_i64().unwrap();
    let case1 = tc.child("cases", suite, "c1").await;
    for (level, parent, needle) in [
        ("cases", case1, "parent must be a suite"),
        ("scenarios", suite, "parent must be a feature"),
        ("steps", case1, "parent must be a scenario"),
    ] {
        let (status, err) = tc
            .post(level, json!({"runId": parent, "test": {"name": "x"}}))
            .await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{level}");
        assert_eq!(err["code"], 400);
        assert!(err["message"].as_str().unwrap().contains(needle), "{err}");
    }
    // A second case closes the first: no children and no events for it any more.
    let case2 = tc.child("cases", suite, "c2").await;
    let (status, err) = tc
        .post("features", json!({"runId": case1, "test": {"name": "f"}}))
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    let message = err["message"].as_str().unwrap();
    assert!(
        message.contains("closed") && message.contains(&case2.to_string()),
        "{message}"
    );
    let (status, _) = tc
        .post("events", json!({"runId": case1, "type": "PASS"}))
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    // A new suite closes everything below the old one.
    tc.post("suites", json!({"project": "H", "test": {"name": "s2"}}))
        .await;
    let (_, other_report) = tc
        .post(
            "suites",
            json!({"project": "H", "batch": "x", "test": {"name": "s3"}}),
        )
        .await;
    assert!(other_report["runId"].as_i64().is_some());
    let (status, _) = tc
        .post("events", json!({"runId": case2, "type": "PASS"}))
        .await;
    assert_eq!(
        status,
        StatusCode::NO_CONTENT,
        "another report's suite does not close this report's case"
    );
    let (status, _) = tc
        .post(
            "cases",
            json!({"runId": 999_999_999, "test": {"name": "x"}}),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    let (status, _) = tc
        .post("cases", json!({"runId": suite, "test": {"name": ""}}))
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
}

async fn events_report_per_event_in_207(s: TestServer) {
    let tc = admin(&s);
    let (_, suite) = tc
        .post("suites", json!({"project": "E", "test": {"name": "s"}}))
        .await;
    let run = suite["runId"].as_i64().unwrap();
    let (status, body) = tc
        .post(
            "events",
            json!([{"runId": run, "type": "PASS"}, {"runId": run, "type": "MAYBE"}, {"runId": run, "type": "XFAIL"},
                   {"runId": run, "type": "LOG", "attachment": "missing.txt"}, {"runId": run, "type": "FAIL", "vp": {"uri": "vp1"}, "attachment": "a"}]),
        )
        .await;
    assert_eq!(status, StatusCode::MULTI_STATUS);
    let codes: Vec<i64> = body
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["code"].as_i64().unwrap())
        .collect();
    assert_eq!(codes, [201, 400, 201, 400, 400]);
    assert!(
        body[1]["body"]
            .as_str()
            .unwrap()
            .contains("unknown event type 'MAYBE'")
    );
    assert!(
        body[4]["body"]
            .as_str()
            .unwrap()
            .contains("mutually exclusive")
    );
    let (status, err) = tc
        .post("events", json!({"runId": run, "type": "WRONG"}))
        .await;
    assert_eq!(
        (status, err["code"].as_i64()),
        (StatusCode::BAD_REQUEST, Some(400))
    );
    // A screenshot must be an image.
    let form = Form::new()
        .text(
            "eventData",
            json!([{"runId": run, "type": "FAIL", "screenshot": "notes.txt"}]).to_string(),
        )
        .part(
            "attachments[]",
            Part::bytes(b"x".to_vec())
                .file_name("notes.txt")
                .mime_str("text/plain")
                .unwrap(),
        );
    let r = s
        .client
        .post(format!("{}/upload/events", s.url))
        .header("Authorization", &tc.auth)
        .multipart(form)
        .send()
        .await
        .unwrap();
    let body: Value = r.json().await.unwrap();
    assert_eq!(body[0]["code"], 400);
    assert!(body[0]["body"].as_str().unwrap().contains("image"));
    // XFAIL counts as passing; the FAIL above was refused, so the suite passed.
    s.sign_in().await;
    let ws = s.workspace_named("E").await;
    let run_json: Value = s
        .client
        .get(format!(
            "{}/api/shared_spaces/1001/workspaces/{ws}/runs/{run}",
            s.url
        ))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(run_json["status"]["name"], "Passed");
}

async fn credentials_and_bodies_are_checked(s: TestServer) {
    let url = format!("{}/upload/suites", s.url);
    let body = json!({"project": "A", "test": {"name": "s"}});
    for auth in [
        None,
        Some(basic("admin", "wrong")),
        Some("Token vt_nope".to_owned()),
        Some("Digest x".to_owned()),
    ] {
        let mut req = s.client.post(&url).json(&body);
        if let Some(a) = &auth {
            req = req.header("Authorization", a);
        }
        let r = req.send().await.unwrap();
        assert_eq!(r.status(), StatusCode::UNAUTHORIZED, "{auth:?}");
        let err: Value = r.json().await.unwrap();
        assert_eq!(err["code"], 401);
        assert!(err["message"].is_string());
    }
    // A token made by a signed-in user works as `Token …` here and as `Bearer …` on Octane paths.
    s.sign_in().await;
    let r = s
        .client
        .post(format!("{}/verdict/api/tokens", s.url))
        .json(&json!({"name": "ci"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::CREATED);
    let token = r.json::<Value>().await.unwrap()["token"]
        .as_str()
        .unwrap()
        .to_owned();
    let plain = reqwest::Client::new();
    let r = plain
        .post(&url)
        .header("Authorization", format!("Token {token}"))
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::CREATED);
    let r = plain
        .get(s.ws("runs"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    // Malformed JSON and missing fields: 400 {code, message}.
    for bad in [
        "{not json",
        r#"{"project":"A"}"#,
        r#"{"test":{"name":"x"}}"#,
    ] {
        let r = plain
            .post(&url)
            .header("Authorization", format!("Token {token}"))
            .header("Content-Type", "application/json")
            .body(bad)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::BAD_REQUEST, "{bad}");
        assert_eq!(r.json::<Value>().await.unwrap()["code"], 400);
    }
    // A user without rights may neither create a project nor upload into one.
    let hash = verdict_server::hash_secret("pw").unwrap();
    s.store.upsert_user("dave", &hash, false).await.unwrap();
    let r = plain
        .post(&url)
        .header("Authorization", basic("dave", "pw"))
        .json(&json!({"project": "New", "test": {"name": "s"}}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    let r = plain
        .post(&url)
        .header("Authorization", basic("dave", "pw"))
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
}

async fn history_figures_per_test(s: TestServer) {
    let tc = admin(&s);
    // The same suite in four nightly batches: PASS, FAIL, FAIL (plus a skipped one), PASS.
    for (batch, verdict) in [
        ("n1", "PASS"),
        ("n2", "FAIL"),
        ("n3", "FAIL"),
        ("n3b", "SKIPPED"),
        ("n4", "PASS"),
    ] {
        let (_, suite) = tc
            .post(
                "suites",
                json!({"project": "Hist", "batch": batch, "test": {"name": "flaky_suite"}}),
            )
            .await;
        let run = suite["runId"].as_i64().unwrap();
        let (status, _) = tc
            .post("events", json!({"runId": run, "type": verdict}))
            .await;
        assert_eq!(status, StatusCode::NO_CONTENT);
    }
    s.sign_in().await;
    let ws = s.workspace_named("Hist").await;
    let tests: Value = s
        .client
        .get(format!(
            "{}/api/shared_spaces/1001/workspaces/{ws}/tests",
            s.url
        ))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let test = tests["data"][0]["id"].as_str().unwrap();
    let url = format!(
        "{}/verdict/api/shared_spaces/1001/workspaces/{ws}/tests/{test}/history",
        s.url
    );
    let h: Value = s
        .client
        .get(&url)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(
        (
            h["runs"].as_i64(),
            h["passed"].as_i64(),
            h["failed"].as_i64()
        ),
        (Some(4), Some(2), Some(2)),
        "{h}"
    );
    assert_eq!(h["success_rate"], 0.5);
    assert_eq!(h["flakiness"], 0.5, "P F F P: two changes over four runs");
    assert_eq!(h["times_broken"], 1);
    let batches: Vec<&str> = h["timeline"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["batch"].as_str().unwrap())
        .collect();
    assert_eq!(batches, ["n1", "n2", "n3", "n3b", "n4"]);
    // Octane injection history counts too: last run plus previous runs.
    for (started, status) in [(1000, "Passed"), (2000, "Failed"), (3000, "Passed")] {
        let xml = format!(
            r#"<test_result><test_runs><test_run name="oct" duration="1" status="{status}" started="{started}"/></test_runs></test_result>"#
        );
        s.push_and_wait(&xml, false).await;
    }
    let oct = s.entities("tests?query=%22name%20EQ%20%5Eoct%5E%22").await;
    let id = oct["data"][0]["id"].as_str().unwrap();
    let h: Value = s
        .client
        .get(format!(
            "{}/verdict/api/shared_spaces/1001/workspaces/1002/tests/{id}/history",
            s.url
        ))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(
        (h["runs"].as_i64(), h["times_broken"].as_i64()),
        (Some(3), Some(1)),
        "{h}"
    );
    let r = s
        .client
        .get(format!(
            "{}/verdict/api/shared_spaces/1001/workspaces/1002/tests/99999999/history",
            s.url
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
}

const JUNIT: &str = r#"<?xml version="1.0" encoding="UTF-8"?>
<testsuites>
  <testsuite name="shop" tests="3" time="1.5">
    <testsuite name="cart">
      <testcase classname="shop.Cart" name="adds" time="0.5"/>
      <testcase classname="shop.Cart" name="removes" time="0.25"><failure message="expected 0" type="AssertionError">at Cart.java:12</failure></testcase>
    </testsuite>
    <testcase classname="shop.Pay" name="pays" time="0.75"><skipped message="no sandbox"/><system-out>hello</system-out></testcase>
  </testsuite>
</testsuites>"#;

const XUNIT: &str = r#"<?xml version="1.0" encoding="utf-8"?>
<assemblies><assembly name="C:\\src\\Shop.Tests.dll" run-date="2026-11-26" run-time="10:00:00" total="2">
  <collection name="Payments" total="2">
    <test name="Shop.Tests.Pay.Works" type="Shop.Tests.Pay" method="Works" time="0.01" result="Pass"/>
    <test name="Shop.Tests.Pay.Fails" type="Shop.Tests.Pay" method="Fails" time="0.02" result="Fail"><failure exception-type="Xunit.Sdk.EqualException"><message>Assert.Equal() Failure</message><stack-trace>at Pay.Fails()</stack-trace></failure></test>
  </collection>
</assembly></assemblies>"#;

async fn import_takes_junit_and_xunit_files(s: TestServer) {
    let form = || {
        Form::new()
            .text("project", "Imported")
            .text("batch", "ci-77")
            .text("label[]", "os=linux")
            .text("label[]", "branch=main")
            .part(
                "result[]",
                Part::bytes(JUNIT.as_bytes().to_vec())
                    .file_name("TEST-shop.xml")
                    .mime_str("application/xml")
                    .unwrap(),
            )
            .part(
                "result[]",
                Part::bytes(XUNIT.as_bytes().to_vec())
                    .file_name("xunit.xml")
                    .mime_str("text/xml")
                    .unwrap(),
            )
    };
    let auth = basic("admin", ADMIN_PASSWORD);
    let r = s
        .client
        .post(format!("{}/import", s.url))
        .header("Authorization", &auth)
        .multipart(form())
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::CREATED);
    let body: Value = r.json().await.unwrap();
    assert_eq!(
        (
            body["suites"].as_i64(),
            body["cases"].as_i64(),
            body["batch"].as_str()
        ),
        (Some(4), Some(5), Some("ci-77")),
        "{body}"
    );
    // The same batch and labels import into the same report again.
    let again: Value = s
        .client
        .post(format!("{}/import", s.url))
        .header("Authorization", &auth)
        .multipart(form())
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(again["reportId"], body["reportId"]);
    s.sign_in().await;
    let ws = s.workspace_named("Imported").await;
    let get = |q: String| {
        let client = s.client.clone();
        let url = format!("{}/api/shared_spaces/1001/workspaces/{ws}/{q}", s.url);
        async move {
            client
                .get(url)
                .send()
                .await
                .unwrap()
                .json::<Value>()
                .await
                .unwrap()
        }
    };
    let status_of = |runs: &Value, name: &str| {
        runs["data"]
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r["name"] == name)
            .map(|r| r["status"]["name"].as_str().unwrap().to_owned())
    };
    let runs = get("runs?limit=100&fields=name,status".to_owned()).await;
    assert_eq!(
        status_of(&runs, "shop.Cart.removes").as_deref(),
        Some("Failed")
    );
    assert_eq!(
        status_of(&runs, "shop.Pay.pays").as_deref(),
        Some("Skipped")
    );
    assert_eq!(status_of(&runs, "shop / cart").as_deref(), Some("Failed"));
    assert_eq!(
        status_of(&runs, "Shop.Tests.Pay.Works").as_deref(),
        Some("Passed")
    );
    assert_eq!(
        status_of(&runs, "Shop.Tests.dll / Payments").as_deref(),
        Some("Failed")
    );
    // Bad inputs: no files, not a report, malformed XML (with where).
    let none = Form::new().text("project", "Imported");
    let r = s
        .client
        .post(format!("{}/import", s.url))
        .header("Authorization", &auth)
        .multipart(none)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    for (file, needle) in [
        ("<html/>", "not a JUnit"),
        ("<testsuite name=\"x\"><testcase name=\"a\">", "line"),
    ] {
        let form = Form::new().text("project", "Imported").part(
            "result[]",
            Part::bytes(file.as_bytes().to_vec()).file_name("bad.xml"),
        );
        let r = s
            .client
            .post(format!("{}/import", s.url))
            .header("Authorization", &auth)
            .multipart(form)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::BAD_REQUEST, "{file}");
        let err: Value = r.json().await.unwrap();
        assert!(err["message"].as_str().unwrap().contains(needle), "{err}");
    }
}

/// Insight over Test Center: each report is a result set in the series of its
/// visible labels; cases are results, raised by their steps' events.
async fn reports_are_result_sets_compared_per_label_set(s: TestServer) {
    let tc = admin(&s);
    let labels = json!([{"key": "os", "value": "linux"}, {"key": ".hidden", "value": "x"}]);
    for (batch, login_verdict) in [("n1", "PASS"), ("n2", "FAIL")] {
        let (_, suite) = tc
            .post("suites", json!({"project": "Ins", "batch": batch, "labels": labels, "test": {"name": "suite"}}))
            .await;
        let suite = suite["runId"].as_i64().unwrap();
        let login = tc.child("cases", suite, "login").await;
        let step = tc.child("sections", login, "submit").await;
        let message = format!(
            "Timeout after {}ms waiting for #ok",
            if batch == "n1" { 3000 } else { 4000 }
        );
        let (status, _) = tc
            .post(
                "events",
                json!({"runId": step, "type": login_verdict, "message": message}),
            )
            .await;
        assert_eq!(status, StatusCode::NO_CONTENT);
        let cart = tc.child("cases", suite, "cart").await;
        let (status, _) = tc
            .post("events", json!({"runId": cart, "type": "PASS"}))
            .await;
        assert_eq!(status, StatusCode::NO_CONTENT);
    }
    s.sign_in().await;
    let ws = s.workspace_named("Ins").await;
    let api = |path: &str| {
        format!(
            "{}/verdict/api/shared_spaces/1001/workspaces/{ws}/{path}",
            s.url
        )
    };
    let sets = s.get_json(&api("result_sets?kind=report")).await;
    assert_eq!(sets["total_count"], 2, "{sets}");
    let newest = &sets["data"][0];
    assert_eq!(newest["name"], "n2 (os=linux)", "hidden labels left out");
    assert_eq!(newest["batch"], "n2");
    assert_eq!(
        newest["counts"]["total"], 2,
        "cases count, suites and steps do not"
    );
    assert_eq!(newest["counts"]["failed"], 1);
    assert_eq!(sets["data"][1]["series"]["id"], newest["series"]["id"]);
    let d = s
        .get_json(&api(&format!(
            "result_sets/{}",
            newest["id"].as_str().unwrap()
        )))
        .await;
    assert_eq!(d["new_failures"]["total_count"], 1, "{d}");
    assert_eq!(d["new_failures"]["data"][0]["test"]["name"], "login");
    assert_eq!(
        d["new_failures"]["data"][0]["context"]["environment"],
        json!(["os=linux"])
    );
    assert_eq!(
        d["new_failures"]["data"][0]["last_passed"]["result_set_id"],
        sets["data"][1]["id"]
    );
    let groups = s.get_json(&api("failure_groups")).await;
    assert_eq!(groups["total_count"], 1);
    assert_eq!(
        groups["data"][0]["message"],
        "Timeout after <n> waiting for #ok"
    );
    // a skip then a pass: the case passed (a pass outranks a skip)
    let (_, suite) = tc
        .post(
            "suites",
            json!({"project": "Ins", "batch": "n3", "labels": labels, "test": {"name": "suite"}}),
        )
        .await;
    let case = tc
        .child("cases", suite["runId"].as_i64().unwrap(), "cart")
        .await;
    for verdict in ["SKIPPED", "PASS"] {
        let (status, _) = tc
            .post("events", json!({"runId": case, "type": verdict}))
            .await;
        assert_eq!(status, StatusCode::NO_CONTENT);
    }
    let n3 = s.get_json(&api("result_sets?batch=n3")).await;
    assert_eq!(n3["data"][0]["counts"]["passed"], 1, "{n3}");
    assert_eq!(n3["data"][0]["counts"]["skipped"], 0);
    let by_batch = s.get_json(&api("result_sets?batch=n1")).await;
    assert_eq!(by_batch["total_count"], 1);
    assert_eq!(by_batch["data"][0]["counts"]["passed"], 2);
}
