//! SQLite's write lock held by another process for longer than the
//! server's busy timeout (10 s; a long `verdict admin` transaction): a
//! write then answers 503 with `Retry-After` — which clients retry, and
//! `verdict push` does (`push_retries.rs`) — not 500, and the same request
//! succeeds once the lock is released.
//!
//! SQLite only: PostgreSQL has no file lock another process can hold; its
//! cut connections are `crash.rs`'s `postgres_connections_cut_…`.

// Test code: a failed unwrap is a failed test, with its message.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use sqlx::Connection;
use support::{Backend, PASSWORD, Server};

async fn push(server: &Server) -> reqwest::Response {
    reqwest::Client::new()
        .post(format!(
            "{}/api/shared_spaces/1001/workspaces/1002/test-results",
            server.url
        ))
        .basic_auth("admin", Some(PASSWORD))
        .header("Content-Type", "application/xml")
        .body(r#"<test_result><test_runs><test_run package="p" class="C" name="raw" duration="1" status="Passed" started="1700000000000"/></test_runs></test_result>"#)
        .send()
        .await
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_write_lock_held_past_the_busy_timeout_answers_503_with_retry_after() {
    // No workers: nothing of the server's own competes for the lock.
    let server = Server::spawn_with(Backend::Sqlite, "busy", &["--workers", "0"]).await;
    let db = server.dir.path().join("data").join("verdict.db");
    sqlx::any::install_default_drivers();
    let mut holder = sqlx::AnyConnection::connect(&format!("sqlite://{}", db.display()))
        .await
        .unwrap();
    sqlx::query("BEGIN IMMEDIATE")
        .execute(&mut holder)
        .await
        .unwrap();

    let reply = push(&server).await;
    assert_eq!(reply.status(), 503, "a busy database is worth a retry");
    assert_eq!(
        reply
            .headers()
            .get("retry-after")
            .and_then(|v| v.to_str().ok()),
        Some("1")
    );
    let body: serde_json::Value = reply.json().await.unwrap();
    assert_eq!(body["error_code"], "platform.service_unavailable", "{body}");
    assert_eq!(
        body["description"], "the database is busy or unreachable; try again",
        "{body}"
    );

    sqlx::query("ROLLBACK").execute(&mut holder).await.unwrap();
    holder.close().await.unwrap();
    let reply = push(&server).await;
    assert_eq!(reply.status(), 202, "the same push, once the lock is gone");
}
