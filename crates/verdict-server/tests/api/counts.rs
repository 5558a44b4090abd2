//! `total_count` of `previous_runs` comes from a count kept at ingest
//! (schema v11) when no filter is given: it must equal the rows there are,
//! per workspace, on both backends.

use crate::harness::TestServer;
use crate::on_both_backends;

on_both_backends!(kept_previous_runs_count_equals_the_rows);

async fn kept_previous_runs_count_equals_the_rows(s: TestServer) {
    s.sign_in().await;
    for (round, status) in ["Passed", "Failed", "Passed", "Skipped"].iter().enumerate() {
        let xml = format!(
            r#"<test_result><test_runs><test_run name="a" duration="1" status="{status}" started="{}"/><test_run name="b" duration="1" status="Passed" started="{}"/></test_runs></test_result>"#,
            1_000 + round,
            2_000 + round
        );
        assert_eq!(s.push_and_wait(&xml, false).await["status"], "success");
    }
    // 3 archived results of each test.
    let kept = s.entities("previous_runs?limit=1").await;
    let counted = s.entities("previous_runs?limit=1&query=%22id%3E0%22").await;
    assert_eq!(kept["total_count"], 6, "{kept}");
    assert_eq!(kept["total_count"], counted["total_count"]);
    // An older result is archived too, and counted.
    let older = r#"<test_result><test_runs><test_run name="a" duration="1" status="Failed" started="10"/></test_runs></test_result>"#;
    assert_eq!(s.push_and_wait(older, false).await["status"], "success");
    let kept = s.entities("previous_runs?limit=1").await;
    let counted = s.entities("previous_runs?limit=1&query=%22id%3E0%22").await;
    assert_eq!(
        kept["total_count"], counted["total_count"],
        "{kept} {counted}"
    );
    assert_eq!(kept["total_count"], 7);
    // Another workspace has none.
    s.tenant_user("carl", "carl-pw", 1003).await;
    let other = s
        .get_json(&format!(
            "{}/api/shared_spaces/1001/workspaces/1003/previous_runs?limit=1",
            s.url
        ))
        .await;
    assert_eq!(other["total_count"], 0, "{other}");
}
