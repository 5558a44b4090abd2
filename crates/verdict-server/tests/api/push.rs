//! Protocol §3–§4 over HTTP: the XSD, pushes (plain, gzip, charset), 400s
//! with line and column, 413, dedupe, task status.

use reqwest::StatusCode;
use serde_json::Value;

use crate::auth::gzip;
use crate::harness::TestServer;
use crate::on_both_backends;

pub const MINIMAL: &str = r#"<test_result><test_runs><test_run name="testOne" duration="3" status="Passed"/></test_runs></test_result>"#;

on_both_backends!(
    xsd_is_served_as_xml,
    push_is_202_queued_then_success,
    gzip_bodies_in_every_labelling,
    iso_8859_1_label_on_utf8_body_keeps_accents,
    invalid_payloads_are_400_with_line_and_column,
    hostile_bodies_are_rejected,
    oversize_bodies_are_413,
    identical_pushes_are_deduplicated_per_skip_errors,
    task_status_is_scoped_to_its_workspace,
);

async fn xsd_is_served_as_xml(s: TestServer) {
    s.sign_in().await;
    let r = s.client.get(s.ws("test-results/xsd")).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    assert!(
        r.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("application/xml")
    );
    let text = r.text().await.unwrap();
    assert!(text.contains("<xs:schema") && text.contains("test_result"));
    // Trailing slash tolerated.
    let r = s
        .client
        .get(format!("{}/", s.ws("test-results/xsd")))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
}

async fn push_is_202_queued_then_success(s: TestServer) {
    s.sign_in().await;
    let (status, body) = s.push(MINIMAL, false).await;
    assert_eq!(status, StatusCode::ACCEPTED);
    assert_eq!(body["status"], "queued");
    assert!(body["id"].is_i64(), "id must be a JSON number: {body}");
    let task = s.wait_task(body["id"].as_i64().unwrap()).await;
    assert_eq!(task["status"], "success", "{task}");
    assert!(task.get("errorDetails").is_none());
    // §9.1: a test with empty component/package/class, and a run named after it.
    let tests = s.entities("tests").await;
    assert_eq!(tests["total_count"], 1);
    let t = &tests["data"][0];
    assert_eq!(
        (
            t["name"].as_str(),
            t["component"].as_str(),
            t["package"].as_str(),
            t["class_name"].as_str()
        ),
        (Some("testOne"), Some(""), Some(""), Some(""))
    );
    assert_eq!(t["subtype"], "test_automated");
    let runs = s.entities("runs").await;
    assert_eq!(runs["data"][0]["name"], "testOne");
    assert_eq!(
        runs["data"][0]["status"]["logical_name"],
        "list_node.run_status.passed"
    );
}

async fn gzip_bodies_in_every_labelling(s: TestServer) {
    s.sign_in().await;
    for (i, label) in ["gzip", "x-gzip", "application/gzip", "GZIP", ""]
        .iter()
        .enumerate()
    {
        let xml = MINIMAL.replace("testOne", &format!("gz{i}"));
        let mut req = s
            .client
            .post(s.ws("test-results"))
            .header("Content-Type", "application/xml")
            .body(gzip(xml.as_bytes()));
        if !label.is_empty() {
            req = req.header("Content-Encoding", *label);
        }
        let r = req.send().await.unwrap();
        assert_eq!(r.status(), StatusCode::ACCEPTED, "label {label:?}");
        let id = r.json::<Value>().await.unwrap()["id"].as_i64().unwrap();
        assert_eq!(s.wait_task(id).await["status"], "success");
    }
    assert_eq!(s.entities("tests").await["total_count"], 5);
}

async fn iso_8859_1_label_on_utf8_body_keeps_accents(s: TestServer) {
    s.sign_in().await;
    let xml = MINIMAL.replace("testOne", "café_é");
    assert_eq!(s.push_and_wait(&xml, false).await["status"], "success");
    let tests = s
        .entities("tests?query=%22name%20EQ%20%5Ecaf%C3%A9_%C3%A9%5E%22")
        .await;
    assert_eq!(tests["total_count"], 1, "{tests}");
    assert_eq!(tests["data"][0]["name"], "café_é");
}

async fn invalid_payloads_are_400_with_line_and_column(s: TestServer) {
    s.sign_in().await;
    let xml = "<test_result>\n<test_runs>\n  <test_run name=\"a\" duration=\"1\" status=\"passed\"/>\n</test_runs></test_result>";
    let (status, body) = s.push(xml, false).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    let description = body["description"].as_str().unwrap();
    assert!(
        description.starts_with("payload is not valid: line 3, column"),
        "{description}"
    );
    assert!(
        description.contains("'passed'") && description.contains("Passed"),
        "{description}"
    );
    assert_eq!(body["properties"]["line"], 3);
    assert!(body["properties"]["column"].as_u64().unwrap() > 1);
    assert_eq!(body["error_code"], "platform.invalid_test_results_payload");
    // Other §9 invalid shapes, each a 400 with JSON.
    for bad in [
        "<test_result><test_runs><test_run name=\"a\" duration=\"1\" status=\"Passed\"/><gherkin_test_run name=\"\" duration=\"1\" status=\"Passed\"><feature name=\"f\" path=\"p\" tag=\"\" started=\"1\"><file/></feature></gherkin_test_run></test_runs></test_result>",
        "<test_result><release_ref id=\"1\"/><release name=\"x\"/><test_runs/></test_result>",
        "<test_result/>",
        "<other><test_runs/></other>",
        "<test_result><release_ref id=\"123456789012345678901234567890123456\"/><test_runs/></test_result>",
        "<test_result><test_runs><test_run name=\"\" duration=\"1\" status=\"Passed\"/></test_runs></test_result>",
        "<test_result><test_runs><test_run name=\"a\" duration=\"3s\" status=\"Passed\"/></test_runs></test_result>",
        "<test_result><test_runs>",
    ] {
        let (status, body) = s.push(bad, false).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{bad}: {body}");
        assert!(
            body["description"]
                .as_str()
                .unwrap()
                .starts_with("payload is not valid: line"),
            "{body}"
        );
    }
    // No task was created by any of them.
    assert_eq!(s.entities("tests").await["total_count"], 0);
}

async fn hostile_bodies_are_rejected(s: TestServer) {
    s.sign_in().await;
    let bomb = r#"<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;">]><test_result><test_runs><test_run name="&lol2;" duration="1" status="Passed"/></test_runs></test_result>"#;
    let xxe = r#"<?xml version="1.0"?><!DOCTYPE r [<!ENTITY x SYSTEM "file:///etc/passwd">]><test_result><test_runs><test_run name="&x;" duration="1" status="Passed"/></test_runs></test_result>"#;
    for body in [bomb, xxe, "", "   "] {
        let (status, reply) = s.push(body, false).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{body}: {reply}");
    }
    let mut truncated = gzip(MINIMAL.as_bytes());
    truncated.truncate(truncated.len() / 2);
    let r = s
        .client
        .post(s.ws("test-results"))
        .header("Content-Encoding", "gzip")
        .body(truncated)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    assert!(r.json::<Value>().await.unwrap()["description"].is_string());
    let r = s
        .client
        .post(s.ws("test-results?skip-errors=maybe"))
        .body(MINIMAL)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
}

async fn oversize_bodies_are_413(s: TestServer) {
    drop(s);
    let Some(s) = TestServer::spawn_with(crate::harness::Backend::Sqlite, |c| {
        c.max_body_bytes = 32 << 10;
        c.max_inflated_bytes = 64 << 10;
    })
    .await
    else {
        return;
    };
    s.sign_in().await;
    let big = format!(
        "<test_result><test_runs>{}</test_runs></test_result>",
        "<test_run name=\"a\" duration=\"1\" status=\"Passed\"/>".repeat(1000)
    );
    let (status, body) = s.push(&big, false).await;
    assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE, "{body}");
    // A small gzip that inflates past the limit (a gzip bomb in miniature).
    let inflating = format!(
        "<test_result><test_runs>{}</test_runs></test_result>",
        " ".repeat(1 << 20)
    );
    let r = s
        .client
        .post(s.ws("test-results"))
        .header("Content-Encoding", "gzip")
        .body(gzip(inflating.as_bytes()))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::PAYLOAD_TOO_LARGE);
    let description = r.json::<Value>().await.unwrap()["description"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(description.contains("inflated"), "{description}");
}

async fn identical_pushes_are_deduplicated_per_skip_errors(s: TestServer) {
    s.sign_in().await;
    let (_, first) = s.push(MINIMAL, false).await;
    let id = first["id"].as_i64().unwrap();
    s.wait_task(id).await;
    let (status, again) = s.push(MINIMAL, false).await;
    assert_eq!(status, StatusCode::ACCEPTED);
    assert_eq!(again["id"].as_i64(), Some(id));
    assert_eq!(again["fromOlderPush"], "true");
    assert_eq!(again["status"], "success");
    let until = again["until"].as_str().unwrap();
    assert!(until.ends_with("+0000") && until.len() == 24, "{until}");
    // Gzip of the same bytes is the same payload.
    let r = s
        .client
        .post(s.ws("test-results"))
        .header("Content-Encoding", "gzip")
        .body(gzip(MINIMAL.as_bytes()))
        .send()
        .await
        .unwrap();
    assert_eq!(r.json::<Value>().await.unwrap()["id"].as_i64(), Some(id));
    // skip-errors is part of the key.
    let (_, other) = s.push(MINIMAL, true).await;
    assert_ne!(other["id"].as_i64(), Some(id));
    assert_eq!(other["status"], "queued");
}

async fn task_status_is_scoped_to_its_workspace(s: TestServer) {
    s.sign_in().await;
    let (_, body) = s.push(MINIMAL, false).await;
    let id = body["id"].as_i64().unwrap();
    s.wait_task(id).await;
    s.store.ensure_workspace(1001, 3003, "third").await.unwrap();
    let other = format!(
        "{}/api/shared_spaces/1001/workspaces/3003/test-results/{id}",
        s.url
    );
    assert_eq!(
        s.client.get(other).send().await.unwrap().status(),
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        s.client
            .get(s.ws("test-results/987654"))
            .send()
            .await
            .unwrap()
            .status(),
        StatusCode::NOT_FOUND
    );
}
