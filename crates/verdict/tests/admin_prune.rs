//! `verdict admin prune` and `verdict admin workspace retain` as a user runs
//! them, next to a running server, on both backends: what went is printed,
//! what is newer stays, and mistakes get a clear message.

// Test code: a failed unwrap is a failed test, with its message.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use std::time::Duration;

use support::{PASSWORD, Server};

const DAY_MS: i64 = 86_400_000;

fn now_ms() -> i64 {
    i64::try_from(
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_millis(),
    )
    .unwrap()
}

/// Pushes `xml` as admin; the task's id.
async fn push(server: &Server, xml: String) -> i64 {
    let reply = reqwest::Client::new()
        .post(format!(
            "{}/api/shared_spaces/1001/workspaces/1002/test-results",
            server.url
        ))
        .basic_auth("admin", Some(PASSWORD))
        .header("Content-Type", "application/xml")
        .body(xml)
        .send()
        .await
        .unwrap();
    assert_eq!(reply.status(), 202);
    let reply: serde_json::Value = reply.json().await.unwrap();
    reply["id"].as_i64().unwrap()
}

async fn push_started(server: &Server, days_ago: i64) {
    let started = now_ms() - days_ago * DAY_MS;
    let xml = format!(
        r#"<test_result><test_runs><test_run package="p" class="C" name="aging" duration="1" status="Passed" started="{started}"/></test_runs></test_result>"#
    );
    let id = push(server, xml).await;
    for _ in 0..600 {
        let task = server
            .get(&format!(
                "/api/shared_spaces/1001/workspaces/1002/test-results/{id}"
            ))
            .await;
        if task["status"] == "success" {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("task {id} did not finish");
}

fn stdout_of(out: &std::process::Output) -> String {
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn prune_deletes_old_previous_runs_next_to_a_running_server() {
    for backend in support::backends() {
        let server = Server::spawn(backend, "prune").await;
        for days_ago in [300, 200, 1] {
            push_started(&server, days_ago).await;
        }
        let previous = "/api/shared_spaces/1001/workspaces/1002/previous_runs?limit=1";
        assert_eq!(server.get(previous).await["total_count"], 2);

        let out =
            stdout_of(&server.admin(&["prune", "--older-than", "250d", "--workspace", "1002"]));
        assert!(
            out.contains("pruned history older than 250 days in 1 workspace(s): 1 previous runs"),
            "{backend:?}: {out}"
        );
        assert_eq!(server.get(previous).await["total_count"], 1);
        let out = stdout_of(&server.admin(&["prune", "--older-than", "150"]));
        assert!(out.contains(": 1 previous runs"), "{backend:?}: {out}");
        assert_eq!(server.get(previous).await["total_count"], 0);
        assert_eq!(
            server
                .get("/api/shared_spaces/1001/workspaces/1002/runs?limit=1")
                .await["total_count"],
            1,
            "the last run stays"
        );

        // Mistakes are named.
        for (args, expected) in [
            (vec!["prune", "--older-than", "0"], "is not an age in days"),
            (
                vec!["prune", "--older-than", "ninety"],
                "is not an age in days",
            ),
            (
                vec!["prune", "--older-than", "90d", "--workspace", "4242"],
                "no workspace 4242",
            ),
            (
                vec!["workspace", "retain", "--workspace", "1002"],
                "say how long: --days N, --forever or --server-default",
            ),
            (
                vec!["workspace", "retain", "--workspace", "4242", "--days", "9"],
                "no workspace 4242",
            ),
        ] {
            let out = server.admin(&args);
            assert!(!out.status.success(), "{args:?}");
            let err = String::from_utf8_lossy(&out.stderr);
            assert!(err.contains(expected), "{args:?}: {err}");
        }
        let out = stdout_of(&server.admin(&[
            "workspace",
            "retain",
            "--workspace",
            "1002",
            "--days",
            "30",
        ]));
        assert_eq!(out.trim(), "workspace 1002 keeps 30 days of history");
        let out =
            stdout_of(&server.admin(&["workspace", "retain", "--workspace", "1002", "--forever"]));
        assert_eq!(out.trim(), "workspace 1002 keeps its history for ever");
    }
}

/// `verdict admin` writing in a loop while pushes stream in: every push's
/// task ends `success` and every admin command succeeds. On SQLite a
/// deferred write transaction of the server failed at once when the admin
/// process had committed since its first read (15 of 300 tasks ended
/// `error` before write transactions began `IMMEDIATE`).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn admin_writes_beside_a_running_server_never_fail_its_tasks() {
    use std::sync::Arc;
    use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

    for backend in support::backends() {
        let server = Arc::new(Server::spawn(backend, "admin_beside").await);
        let stop = Arc::new(AtomicBool::new(false));
        let admin_writes = Arc::new(AtomicUsize::new(0));
        let writer = {
            let (server, stop, admin_writes) = (
                Arc::clone(&server),
                Arc::clone(&stop),
                Arc::clone(&admin_writes),
            );
            std::thread::spawn(move || {
                let mut days = 400;
                while !stop.load(Ordering::Relaxed) {
                    days += 1;
                    let out = server.admin(&[
                        "workspace",
                        "retain",
                        "--workspace",
                        "1002",
                        "--days",
                        &days.to_string(),
                    ]);
                    stdout_of(&out);
                    admin_writes.fetch_add(1, Ordering::Relaxed);
                }
            })
        };
        let mut tasks = Vec::new();
        let started = now_ms();
        let mut i = 0;
        // At least 150 pushes, and on until the admin loop wrote 20 times
        // among them.
        while i < 150 || admin_writes.load(Ordering::Relaxed) < 20 {
            assert!(i < 5_000, "{backend:?}: the admin loop hardly ran");
            let xml = format!(
                r#"<test_result><test_runs><test_run package="p" class="C" name="beside{i}" duration="1" status="Passed" started="{}"/></test_runs></test_result>"#,
                started + i
            );
            tasks.push(push(&server, xml).await);
            i += 1;
        }
        stop.store(true, Ordering::Relaxed);
        writer.join().expect("every admin command succeeded");
        for id in &tasks {
            let path = format!("/api/shared_spaces/1001/workspaces/1002/test-results/{id}");
            let mut task = server.get(&path).await;
            for _ in 0..600 {
                if task["status"] != "queued" && task["status"] != "running" {
                    break;
                }
                tokio::time::sleep(Duration::from_millis(50)).await;
                task = server.get(&path).await;
            }
            assert_eq!(task["status"], "success", "{backend:?}: task {id}: {task}");
        }
        assert_eq!(
            server
                .get("/api/shared_spaces/1001/workspaces/1002/runs?limit=1")
                .await["total_count"],
            i64::try_from(tasks.len()).unwrap(),
            "{backend:?}"
        );
    }
}
