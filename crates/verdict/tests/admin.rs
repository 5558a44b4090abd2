//! `verdict admin` manages tenancy in the database `serve` uses: a shared
//! space, a workspace, a user with a role there, and an API key; the server
//! then enforces exactly those grants (403 elsewhere).

// Test code: a failed unwrap is a failed test, with its message.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};

fn verdict(data: &std::path::Path, args: &[&str]) -> String {
    let out = Command::new(env!("CARGO_BIN_EXE_verdict"))
        .arg("admin")
        .arg("--data-dir")
        .arg(data)
        .args(args)
        .env("VERDICT_LOG", "warn")
        .env("VERDICT_NEW_PASSWORD", "carol-pw")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn admin_commands_set_up_tenants_the_server_enforces() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path();
    verdict(
        data,
        &["shared-space", "create", "--id", "3001", "--name", "acme"],
    );
    verdict(
        data,
        &[
            "workspace",
            "create",
            "--shared-space",
            "3001",
            "--id",
            "3002",
            "--name",
            "web",
        ],
    );
    assert!(verdict(data, &["user", "add", "carol"]).contains("user: carol"));
    verdict(
        data,
        &[
            "workspace",
            "grant",
            "--user",
            "carol",
            "--workspace",
            "3002",
        ],
    );
    let key = verdict(
        data,
        &["api-key", "create", "--name", "ci", "--user", "carol"],
    );
    let client_id = key
        .lines()
        .find_map(|l| l.strip_prefix("client_id: "))
        .unwrap()
        .to_owned();
    let secret = key
        .lines()
        .find_map(|l| l.strip_prefix("client_secret: "))
        .unwrap()
        .to_owned();

    let mut server = Command::new(env!("CARGO_BIN_EXE_verdict"))
        .args(["serve", "--listen", "127.0.0.1:0", "--data-dir"])
        .arg(data)
        .env("VERDICT_LOG", "warn")
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(server.stdout.take().unwrap()).lines();
    let url = loop {
        let line = lines.next().unwrap().unwrap();
        if let Some(url) = line.strip_prefix("verdict listening on ") {
            break url.to_owned();
        }
    };
    let client = reqwest::Client::new();
    let get = |path: &str, user: &str, pw: &str| {
        client
            .get(format!("{url}{path}"))
            .basic_auth(user, Some(pw))
            .send()
    };
    assert_eq!(
        get(
            "/api/shared_spaces/3001/workspaces/3002/tests",
            "carol",
            "carol-pw"
        )
        .await
        .unwrap()
        .status(),
        200
    );
    assert_eq!(
        get(
            "/api/shared_spaces/3001/workspaces/3002/tests",
            &client_id,
            &secret
        )
        .await
        .unwrap()
        .status(),
        200
    );
    assert_eq!(
        get(
            "/api/shared_spaces/1001/workspaces/1002/tests",
            "carol",
            "carol-pw"
        )
        .await
        .unwrap()
        .status(),
        403
    );
    let spaces: serde_json::Value = get("/api/shared_spaces", "carol", "carol-pw")
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(
        spaces["total_count"], 1,
        "carol sees only her shared space: {spaces}"
    );
    assert_eq!(spaces["data"][0]["id"], "3001");
    server.kill().unwrap();
    server.wait().unwrap();
}
