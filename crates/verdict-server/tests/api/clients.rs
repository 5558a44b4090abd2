//! Protocol §8: the real clients' request sequences, byte for byte where it
//! matters (headers, cookies, content types, the 401-then-sign-in dance).

use std::time::Duration;

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::harness::{ADMIN_PASSWORD, Backend, TestServer};
use crate::on_both_backends;

on_both_backends!(collection_tool_sequence, js_sdk_sequence);

/// The Java Test Result Collection Tool: sign in with `HPECLIENTTYPE`, push
/// with `application/xml; charset=ISO-8859-1` sending back only
/// `LWSSO_COOKIE_KEY`, poll every 100 ms, sign out (twice); on 401 it signs
/// in once and retries once.
async fn collection_tool_sequence(s: TestServer) {
    let clt = reqwest::Client::new();
    let sign_in = || async {
        let r = clt
            .post(format!("{}/authentication/sign_in", s.url))
            .header("HPECLIENTTYPE", "HPE_CI_CLIENT")
            .header("Content-Type", "application/json")
            .body(format!(
                r#"{{"user":"admin","password":"{}"}}"#,
                ADMIN_PASSWORD.replace('"', "\\\"")
            ))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::OK);
        let cookie = r
            .headers()
            .get_all("set-cookie")
            .iter()
            .map(|v| v.to_str().unwrap().to_owned())
            .find(|c| c.starts_with("LWSSO_COOKIE_KEY="))
            .unwrap();
        cookie.split(';').next().unwrap().to_owned()
    };
    let mut session = sign_in().await;
    sign_in().await; // its tests sign in twice
    let stamp = 1_764_000_000_123_u64;
    let xml = format!(
        "<?xml version='1.0' encoding='UTF-8'?>\n<test_result><test_runs><test_run module=\"/helloWorld\" package=\"hello\" class=\"HelloWorldTest\" name=\"testOne{stamp}\" duration=\"3\" status=\"Passed\" started=\"1430919295889\"/></test_runs></test_result>"
    );
    let push = |cookie: String, body: String| {
        clt.post(s.ws("test-results?skip-errors=false"))
            .header("Content-Type", "application/xml; charset=ISO-8859-1")
            .header("HPECLIENTTYPE", "HPE_CI_CLIENT")
            .header("Cookie", cookie)
            .body(body)
            .send()
    };
    let r = push(session.clone(), xml.clone()).await.unwrap();
    assert_eq!(r.status(), StatusCode::ACCEPTED);
    let id = r.json::<Value>().await.unwrap()["id"].as_i64().unwrap();
    let status = loop {
        let r = clt
            .get(s.ws(&format!("test-results/{id}")))
            .header("Cookie", session.clone())
            .send()
            .await
            .unwrap();
        let task: Value = r.json().await.unwrap();
        if task["status"] != "queued" && task["status"] != "running" {
            break task;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    assert_eq!(status["status"], "success");
    // Its integration test then looks the run up.
    let q = format!("runs?offset=0&limit=50&query=%22name%3D%27*testOne{stamp}*%27%22");
    let r = clt
        .get(s.ws(&q))
        .header("Cookie", session.clone())
        .send()
        .await
        .unwrap();
    let runs: Value = r.json().await.unwrap();
    assert_eq!(runs["total_count"], 1, "{runs}");
    assert_eq!(runs["data"][0]["release"], Value::Null);
    // Sign out twice: both 200.
    for _ in 0..2 {
        let r = clt
            .post(format!("{}/authentication/sign_out", s.url))
            .header("Cookie", session.clone())
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::OK);
    }
    // The old session is gone: 401 (JSON), then one sign-in and one retry succeed.
    let again = xml.replace("testOne", "testAgain");
    let r = push(session.clone(), again.clone()).await.unwrap();
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    assert!(r.json::<Value>().await.unwrap()["description"].is_string());
    session = sign_in().await;
    assert_eq!(
        push(session, again).await.unwrap().status(),
        StatusCode::ACCEPTED
    );
    // A bad user gets a non-200.
    let r = clt
        .post(format!("{}/authentication/sign_in", s.url))
        .json(&json!({"user": "nobody", "password": "x"}))
        .send()
        .await
        .unwrap();
    assert_ne!(r.status(), StatusCode::OK);
}

/// The JS SDK: no sign-in up front; the first call's 401 triggers a sign-in
/// carrying its custom headers; cookies are kept by `Path=/`; the SDK's
/// query builder dialect; the correlation id comes back in errors.
async fn js_sdk_sequence(s: TestServer) {
    let sdk = reqwest::Client::builder()
        .cookie_store(true)
        .build()
        .unwrap();
    let tests_url = s.ws(
        "tests?fields=name,package&limit=10&offset=0&order_by=-id&query=%22name%20EQ%20%5Ex%5E%22",
    );
    let r = sdk
        .get(&tests_url)
        .header("ALM_OCTANE_TECH_PREVIEW", "true")
        .header("X-Correlation-ID", "jssdk-42")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(
        r.json::<Value>().await.unwrap()["correlation_id"],
        "jssdk-42"
    );
    let r = sdk
        .post(format!("{}/authentication/sign_in", s.url))
        .header("ALM_OCTANE_TECH_PREVIEW", "true")
        .header("HPECLIENTTYPE", "HPE_CI_CLIENT")
        .json(&json!({"user": "admin", "password": ADMIN_PASSWORD}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let r = sdk
        .get(&tests_url)
        .header("ALM_OCTANE_TECH_PREVIEW", "true")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let page: Value = r.json().await.unwrap();
    assert_eq!(
        page,
        json!({"total_count": 0, "data": [], "exceeds_total_count": false})
    );
    // Wrong method: a JSON error, not an empty 405.
    let r = sdk.delete(s.ws("test-results/xsd")).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::METHOD_NOT_ALLOWED);
    assert!(r.json::<Value>().await.unwrap()["description"].is_string());
}

/// Sessions expire after the idle timeout; clients then sign in again.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn idle_sessions_expire() {
    let s = TestServer::spawn_with(Backend::Sqlite, |c| {
        c.session_idle = Duration::from_millis(300)
    })
    .await
    .unwrap();
    s.sign_in().await;
    assert_eq!(
        s.client.get(s.ws("tests")).send().await.unwrap().status(),
        StatusCode::OK
    );
    tokio::time::sleep(Duration::from_millis(700)).await;
    assert_eq!(
        s.client.get(s.ws("tests")).send().await.unwrap().status(),
        StatusCode::UNAUTHORIZED
    );
    s.sign_in().await;
    assert_eq!(
        s.client.get(s.ws("tests")).send().await.unwrap().status(),
        StatusCode::OK
    );
}
