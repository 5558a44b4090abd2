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

async fn push_started(server: &Server, days_ago: i64) {
    let started = now_ms() - days_ago * DAY_MS;
    let xml = format!(
        r#"<test_result><test_runs><test_run package="p" class="C" name="aging" duration="1" status="Passed" started="{started}"/></test_runs></test_result>"#
    );
    let client = reqwest::Client::new();
    let reply: serde_json::Value = client
        .post(format!(
            "{}/api/shared_spaces/1001/workspaces/1002/test-results",
            server.url
        ))
        .basic_auth("admin", Some(PASSWORD))
        .header("Content-Type", "application/xml")
        .body(xml)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let id = reply["id"].as_i64().unwrap();
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
