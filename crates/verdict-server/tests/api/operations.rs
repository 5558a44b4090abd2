//! `GET /metrics`: Prometheus/OpenMetrics text with requests by route
//! template and status, latency histograms, tasks by outcome, runs
//! ingested, task time, the queue and the database pools.

use reqwest::StatusCode;

use crate::harness::TestServer;
use crate::on_both_backends;

on_both_backends!(metrics_count_requests_tasks_and_runs);

/// The value of the sample `name{labels}` (labels as printed), if present.
fn sample(text: &str, series: &str) -> Option<f64> {
    text.lines().find_map(|l| {
        l.strip_prefix(series)?
            .strip_prefix(' ')?
            .split(' ')
            .next()?
            .parse()
            .ok()
    })
}

async fn metrics_count_requests_tasks_and_runs(s: TestServer) {
    s.sign_in().await;
    let xml = r#"<test_result><test_runs><test_run name="a" duration="1" status="Passed" started="1"/><test_run name="b" duration="1" status="Failed" started="2"/><test_run name="c" duration="1" status="Skipped" started="3"/></test_runs></test_result>"#;
    let (status, accepted) = s.push(xml, false).await;
    assert_eq!(status, StatusCode::ACCEPTED, "{accepted}");
    let task = s.wait_task(accepted["id"].as_i64().unwrap()).await;
    assert_eq!(task["status"], "success");
    let r = s
        .client
        .get(format!("{}/no/such/page", s.url))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
    // The worker counts a task just after its commit, which the status read
    // above may beat: wait (bounded) for that count before reading the rest.
    for _ in 0..200 {
        let text = reqwest::get(format!("{}/metrics", s.url))
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        if sample(&text, r#"verdict_tasks_finished_total{outcome="success"}"#).is_some() {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    // No credentials needed, as for most scrape targets.
    let r = reqwest::get(format!("{}/metrics", s.url)).await.unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    assert!(
        r.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("application/openmetrics-text"),
    );
    let text = r.text().await.unwrap();
    assert!(text.trim_end().ends_with("# EOF"), "{text}");
    let push = r#"verdict_http_requests_total{method="POST",route="/api/shared_spaces/{sp}/workspaces/{ws}/test-results",status="202"}"#;
    assert_eq!(sample(&text, push), Some(1.0), "{text}");
    let missing = r#"verdict_http_requests_total{method="GET",route="unmatched",status="404"}"#;
    assert_eq!(sample(&text, missing), Some(1.0), "{text}");
    let latency = r#"verdict_http_request_duration_seconds_count{method="POST",route="/api/shared_spaces/{sp}/workspaces/{ws}/test-results"}"#;
    assert_eq!(sample(&text, latency), Some(1.0), "{text}");
    assert!(
        text.contains(r#"verdict_http_request_duration_seconds_bucket{le="0.001""#)
            || text.contains(r#",le="0.001"}"#),
        "{text}"
    );
    assert_eq!(
        sample(&text, r#"verdict_tasks_finished_total{outcome="success"}"#),
        Some(1.0),
        "{text}"
    );
    assert_eq!(
        sample(&text, "verdict_runs_ingested_total"),
        Some(3.0),
        "{text}"
    );
    assert_eq!(
        sample(&text, "verdict_task_processing_seconds_count"),
        Some(1.0),
        "{text}"
    );
    assert_eq!(
        sample(&text, r#"verdict_tasks{state="queued"}"#),
        Some(0.0),
        "{text}"
    );
    assert_eq!(
        sample(&text, r#"verdict_tasks{state="running"}"#),
        Some(0.0),
        "{text}"
    );
    assert_eq!(
        sample(&text, "verdict_task_queue_age_seconds"),
        Some(0.0),
        "{text}"
    );
    let max = text
        .lines()
        .filter(|l| l.starts_with("verdict_db_pool_max_connections{"))
        .count();
    assert!(max >= 1, "{text}");
    assert!(
        text.contains(r#"verdict_db_pool_connections{pool="#),
        "{text}"
    );
    // A made-up method is one label, not one per name.
    for m in ["FOO1", "FOO2"] {
        let method = reqwest::Method::from_bytes(m.as_bytes()).unwrap();
        let r = s
            .client
            .request(method, format!("{}/healthz", s.url))
            .send()
            .await
            .unwrap();
        assert!(r.status().is_client_error(), "{}", r.status());
    }
    let text = reqwest::get(format!("{}/metrics", s.url))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(!text.contains("FOO"), "{text}");
    assert!(text.contains(r#"method="other""#), "{text}");
}
