//! One access-log line per request at `info` (issue "Beyond one machine",
//! observability): the real binary, JSON log lines on stderr, a request
//! signed in with Basic and carrying `X-Correlation-ID`.

// Test code: a failed unwrap is a failed test, with its message.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_request_is_logged_once_with_route_status_user_and_correlation_id() {
    let dir = tempfile::tempdir().unwrap();
    let mut child = Command::new(env!("CARGO_BIN_EXE_verdict"))
        .args([
            "serve",
            "--listen",
            "127.0.0.1:0",
            "--log-json",
            "--data-dir",
        ])
        .arg(dir.path().join("data"))
        .env("VERDICT_ADMIN_PASSWORD", "pw-of-admin")
        .env("VERDICT_LOG", "info,sqlx=warn")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let stdout = BufReader::new(child.stdout.take().unwrap());
    let url = stdout
        .lines()
        .map_while(Result::ok)
        .find_map(|l| l.strip_prefix("verdict listening on ").map(str::to_owned))
        .unwrap();
    let (tx, rx) = mpsc::channel::<String>();
    let stderr = child.stderr.take().unwrap();
    std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            if tx.send(line).is_err() {
                return;
            }
        }
    });
    let client = reqwest::Client::new();
    let r = client
        .get(format!(
            "{url}/api/shared_spaces/1001/workspaces/1002/releases"
        ))
        .basic_auth("admin", Some("pw-of-admin"))
        .header("X-Correlation-ID", "corr-4711")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let r = client
        .get(format!("{url}/no/such/thing"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 404);
    let mut seen = Vec::new();
    while let Ok(line) = rx.recv_timeout(Duration::from_secs(10)) {
        let Ok(entry) = serde_json::from_str::<serde_json::Value>(&line) else {
            continue;
        };
        if entry["target"] == "verdict_server::access" {
            seen.push(entry["fields"].clone());
            if seen.len() == 2 {
                break;
            }
        }
    }
    let _ = child.kill();
    let _ = child.wait();
    assert_eq!(seen.len(), 2, "{seen:?}");
    let first = &seen[0];
    assert_eq!(first["message"], "request");
    assert_eq!(first["method"], "GET");
    assert_eq!(
        first["route"],
        "/api/shared_spaces/{sp}/workspaces/{ws}/{collection}"
    );
    assert_eq!(first["status"], 200);
    assert_eq!(first["correlation_id"], "corr-4711");
    assert_eq!(first["user"], "admin");
    assert!(first["latency_ms"].as_f64().unwrap() >= 0.0, "{first}");
    let second = &seen[1];
    assert_eq!(
        (
            second["route"].as_str(),
            second["status"].as_u64(),
            second["user"].as_str()
        ),
        (Some("unmatched"), Some(404), Some("-"))
    );
}
