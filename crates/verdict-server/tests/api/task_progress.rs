//! A running task's progress on Verdict's own API (`…/tasks/{id}`): the
//! payload's item count from validation, items applied while it runs, and
//! the Octane task JSON left exactly as the clients expect.

use reqwest::StatusCode;
use serde_json::Value;

use crate::harness::{SP, TestServer, WS};
use crate::on_both_backends;

on_both_backends!(a_running_task_reports_items_applied_of_total);

async fn a_running_task_reports_items_applied_of_total(s: TestServer) {
    s.sign_in().await;
    let runs = 5_000;
    let body: String = (0..runs)
        .map(|i| {
            format!(
                r#"<test_run name="t{i}" duration="1" status="Passed" started="{}"/>"#,
                1_000 + i
            )
        })
        .collect();
    let xml = format!("<test_result><test_runs>{body}</test_runs></test_result>");
    let (status, accepted) = s.push(&xml, false).await;
    assert_eq!(status, StatusCode::ACCEPTED, "{accepted}");
    let id = accepted["id"].as_i64().unwrap();
    let url = format!(
        "{}/verdict/api/shared_spaces/{SP}/workspaces/{WS}/tasks/{id}",
        s.url
    );
    let mut seen_running: Vec<Option<i64>> = Vec::new();
    let last: Value = loop {
        let t = s.get_json(&url).await;
        assert_eq!(t["items_total"], runs, "{t}");
        match t["status"].as_str() {
            Some("queued") => assert_eq!(t["items_applied"], Value::Null),
            Some("running") => seen_running.push(t["items_applied"].as_i64()),
            _ => break t,
        }
        tokio::time::sleep(std::time::Duration::from_millis(2)).await;
    };
    assert_eq!(last["status"], "success", "{last}");
    assert_eq!(last["items_applied"], Value::Null, "only while running");
    // this node runs its tasks, so a running task always has a figure, and
    // figures only grow, never past the total
    assert!(seen_running.iter().all(Option::is_some), "{seen_running:?}");
    let figures: Vec<i64> = seen_running.into_iter().flatten().collect();
    assert!(figures.windows(2).all(|w| w[0] <= w[1]), "{figures:?}");
    assert!(figures.iter().all(|n| (0..=i64::from(runs)).contains(n)));
    assert!(
        figures.iter().any(|n| *n > 0 && *n < i64::from(runs)),
        "seen part-way: {figures:?}"
    );
    // the Octane task JSON is Octane's: no new fields
    let octane = s.get_json(&s.ws(&format!("test-results/{id}"))).await;
    assert!(octane.get("items_total").is_none() && octane.get("items_applied").is_none());
    // another workspace's view of it: 404
    let r = s
        .client
        .get(format!(
            "{}/verdict/api/shared_spaces/{SP}/workspaces/{}/tasks/{id}",
            s.url,
            WS + 1
        ))
        .send()
        .await
        .unwrap();
    assert!(
        matches!(r.status(), StatusCode::NOT_FOUND | StatusCode::FORBIDDEN),
        "{}",
        r.status()
    );
    let r = s
        .client
        .get(format!(
            "{}/verdict/api/shared_spaces/{SP}/workspaces/{WS}/tasks/999999",
            s.url
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
}
