//! Issue "Beyond one machine", item 6: retention. Old previous runs, Test
//! Center reports and finished tasks go, with the bytes only they used (from
//! the data directory and from S3); what is newer, and bytes something else
//! still references, stay; kept counts follow. Once by `verdict admin
//! prune` (`prune_now`), and by a node's `--retain-days` policy with a
//! workspace's own policy over it.

use serde_json::{Value, json};
use verdict_store::Retention;

use crate::harness::{TestServer, WS};
use crate::on_every_store;

on_every_store!(
    a_prune_deletes_old_history_and_only_the_bytes_nothing_uses,
    retention_policies_prune_at_start_and_a_workspace_may_keep_everything,
);

const DAY_MS: i64 = 86_400_000;

/// One test pushed with `started`; the last push's run is the last run and
/// each earlier one becomes a previous run.
fn one_run(started: i64, status: &str) -> String {
    format!(
        r#"<test_result><test_runs><test_run module="m" package="p" class="Keep" name="kept" duration="5" status="{status}" started="{started}"/></test_runs></test_result>"#
    )
}

async fn sql(s: &TestServer, statement: &str) {
    let pool = sqlx::AnyPool::connect(&s.database_url).await.unwrap();
    sqlx::query(sqlx::AssertSqlSafe(statement.to_owned()))
        .execute(&pool)
        .await
        .unwrap();
    pool.close().await;
}

/// History of three ages: returns (old task id, old report, new report).
async fn history(s: &TestServer, shared: &[u8]) -> (i64, i64, i64) {
    s.sign_in().await;
    let now = verdict_store::now_ms();
    let old = s
        .push_and_wait(&one_run(now - 200 * DAY_MS, "Failed"), false)
        .await;
    let old_task: i64 = old["id"].as_i64().unwrap();
    s.push_and_wait(&one_run(now - 100 * DAY_MS, "Passed"), false)
        .await;
    s.push_and_wait(&one_run(now - DAY_MS, "Passed"), false)
        .await;
    assert_eq!(s.entities("previous_runs").await["total_count"], 2);
    // Three Test Center reports: one made 200 days ago with a file of its
    // own, a new one, and one made 200 days ago that took a suite just now
    // (reports are reused) sharing its screenshot with the new one.
    let old_report = s
        .tc_report(
            "old",
            json!([]),
            &[("cases", "t")],
            b"\x89PNG old report only",
        )
        .await;
    s.tc_report("new", json!([]), &[("cases", "t")], shared)
        .await;
    let second = s
        .tc_report("old-too", json!([]), &[("cases", "t")], shared)
        .await;
    let then = now - 200 * DAY_MS;
    for statement in [
        format!(
            "UPDATE tc_reports SET creation_time = {then} WHERE id IN ({old_report}, {second})"
        ),
        format!("UPDATE runs SET creation_time = {then} WHERE report_id = {old_report}"),
        format!(
            "UPDATE tc_events SET created = {then} WHERE run_id IN (SELECT id FROM runs WHERE report_id = {old_report})"
        ),
    ] {
        sql(s, &statement).await;
    }
    sql(
        s,
        &format!("UPDATE tasks SET finished_at = {then} WHERE id = {old_task}"),
    )
    .await;
    (old_task, old_report, second)
}

async fn report_exists(s: &TestServer, id: i64) -> bool {
    let pool = sqlx::AnyPool::connect(&s.database_url).await.unwrap();
    let n: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM tc_reports WHERE id = $1")
        .bind(id)
        .fetch_one(&pool)
        .await
        .unwrap();
    pool.close().await;
    n > 0
}

async fn a_prune_deletes_old_history_and_only_the_bytes_nothing_uses(s: TestServer) {
    let shared = b"\x89PNG shared by an old and a new report".to_vec();
    let (old_task, old_report, reused_report) = history(&s, &shared).await;
    assert!(s.has_blob(b"\x89PNG old report only").await);
    let store_before = s.blob_files().await.len();

    let report = verdict_server::prune_now(&s.admin_config(), &s.store, None, 150)
        .await
        .unwrap();
    assert_eq!(report.previous_runs, 1, "{report:?}");
    assert_eq!(report.tc_reports, 1, "{report:?}");
    assert!(report.tc_runs >= 2 && report.tc_events == 1, "{report:?}");
    assert_eq!(report.tasks, 1, "{report:?}");
    assert_eq!(report.blobs_removed, 1, "{report:?}");

    // Previous runs: the 200-day-old one went, the 100-day-old one stays,
    // and total_count (a kept count) says so.
    let previous: Value = s.entities("previous_runs").await;
    assert_eq!(previous["total_count"], 1, "{previous}");
    assert_eq!(previous["data"].as_array().unwrap().len(), 1);
    assert_eq!(
        s.entities("runs").await["total_count"],
        1,
        "the last run stays"
    );
    assert_eq!(s.entities("tests").await["total_count"], 1, "tests stay");
    // Reports: the old one went; the old one with a suite added just now
    // stays, as does the new one, with their shared screenshot.
    assert!(!report_exists(&s, old_report).await);
    assert!(
        report_exists(&s, reused_report).await,
        "a report still in use stays"
    );
    assert!(
        !s.has_blob(b"\x89PNG old report only").await,
        "bytes only the old report used are gone"
    );
    assert!(s.has_blob(&shared).await, "bytes the new report uses stay");
    assert_eq!(s.blob_files().await.len(), store_before - 1);
    // Tasks: the old one is gone.
    let r = s
        .client
        .get(format!(
            "{}/verdict{}",
            s.url,
            s.ws(&format!("/tasks/{old_task}"))
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 404);
    // Pruning again finds nothing.
    let again = verdict_server::prune_now(&s.admin_config(), &s.store, Some(WS), 150)
        .await
        .unwrap();
    assert_eq!(
        (
            again.previous_runs,
            again.tc_reports,
            again.tasks,
            again.blobs_removed
        ),
        (0, 0, 0, 0)
    );
}

async fn retention_policies_prune_at_start_and_a_workspace_may_keep_everything(s: TestServer) {
    let shared = b"\x89PNG policy".to_vec();
    let (_, old_report, _) = history(&s, &shared).await;
    // Test Center's project has a workspace of its own.
    let pool = sqlx::AnyPool::connect(&s.database_url).await.unwrap();
    let tc_ws: i64 = sqlx::query_scalar("SELECT workspace_id FROM tc_reports WHERE id = $1")
        .bind(old_report)
        .fetch_one(&pool)
        .await
        .unwrap();
    pool.close().await;
    assert_ne!(tc_ws, WS);
    // Workspace 1002 keeps everything; Test Center's follows the server. A
    // node with --retain-days 150 prunes the old reports (so its prune ran)
    // and none of 1002's previous runs.
    assert!(s.store.set_retention(WS, Retention::Forever).await.unwrap());
    let (node, _dir) = s.spawn_node_with(|c| c.retain_days = Some(150)).await;
    // The bytes go just after the prune's commit: wait for both.
    for _ in 0..200 {
        if !report_exists(&s, old_report).await && !s.has_blob(b"\x89PNG old report only").await {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    assert!(
        !report_exists(&s, old_report).await,
        "the server's policy applies"
    );
    assert!(!s.has_blob(b"\x89PNG old report only").await);
    assert!(s.has_blob(&shared).await);
    assert_eq!(
        s.entities("previous_runs").await["total_count"],
        2,
        "a workspace kept for ever is not pruned"
    );
    drop(node);
    // Its own 150 days: a node without a server policy prunes it at start.
    assert!(
        s.store
            .set_retention(WS, Retention::Days(150))
            .await
            .unwrap()
    );
    let (_node, _dir2) = s.spawn_node().await;
    for _ in 0..200 {
        if s.entities("previous_runs").await["total_count"] == 1 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    assert_eq!(s.entities("previous_runs").await["total_count"], 1);
}
