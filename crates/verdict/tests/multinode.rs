//! Several nodes: two real `verdict serve` processes, each with its own data
//! directory, on one PostgreSQL database and one S3 bucket (the README's
//! "Running several nodes"). Concurrent pushes creating the same new tests
//! through both nodes give every test and run once; identical bytes through
//! both at once give one task; an attachment written through one node is
//! read through the other; a session signed in on one is used on the other;
//! a node killed with SIGKILL mid-task has its task finished by the other.
//!
//! Needs VERDICT_TEST_POSTGRES_URL and VERDICT_TEST_S3_ENDPOINT
//! (`.ci/start-postgres.sh`, `.ci/start-s3.sh`); skipped without them
//! outside CI, failing with CI=true.

// Test code: a failed unwrap is a failed test, with its message.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use std::fmt::Write as _;
use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use serde_json::{Value, json};

const PASSWORD: &str = "multi-pw";
const WS: &str = "/api/shared_spaces/1001/workspaces/1002";
/// Runs of the task killed mid-way: long enough to be caught running.
const BIG_RUNS: usize = 40_000;

struct Node {
    child: Child,
    url: String,
    _dir: tempfile::TempDir,
}

impl Drop for Node {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn start(database_url: &str, blob_url: &str, endpoint: &str) -> Node {
    let dir = tempfile::tempdir().unwrap();
    let mut child = Command::new(env!("CARGO_BIN_EXE_verdict"))
        .args(["serve", "--listen", "127.0.0.1:0", "--task-lease-secs", "2"])
        .args(["--workers", "1", "--database-url", database_url])
        .args(["--blob-url", blob_url, "--data-dir"])
        .arg(dir.path())
        .env("VERDICT_ADMIN_PASSWORD", PASSWORD)
        .env("VERDICT_LOG", "warn")
        .env("AWS_ENDPOINT_URL", endpoint)
        .env("AWS_ACCESS_KEY_ID", "verdict-test")
        .env("AWS_SECRET_ACCESS_KEY", "verdict-test")
        .env("AWS_REGION", "us-east-1")
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let url = loop {
        let line = lines.next().expect("the node printed its address").unwrap();
        if let Some(url) = line.strip_prefix("verdict listening on ") {
            break url.to_owned();
        }
    };
    std::thread::spawn(move || for _ in lines {});
    Node {
        child,
        url,
        _dir: dir,
    }
}

/// (database URL, admin URL and name to drop) or `None` when not configured.
async fn database() -> Option<(String, String, String)> {
    let (Ok(_), Ok(_)) = (
        std::env::var("VERDICT_TEST_POSTGRES_URL"),
        std::env::var("VERDICT_TEST_S3_ENDPOINT"),
    ) else {
        assert!(
            std::env::var("CI").as_deref() != Ok("true"),
            "CI=true but VERDICT_TEST_POSTGRES_URL or VERDICT_TEST_S3_ENDPOINT is not set: the multi-node test must run in CI"
        );
        eprintln!(
            "skipping the multi-node test: set VERDICT_TEST_POSTGRES_URL and VERDICT_TEST_S3_ENDPOINT (.ci/start-postgres.sh, .ci/start-s3.sh)"
        );
        return None;
    };
    Some(support::fresh_postgres("multinode").await)
}

async fn bucket(endpoint: &str) -> String {
    let name = format!("verdict-multinode-{}", std::process::id());
    let r = reqwest::Client::new()
        .put(format!("{endpoint}/{name}"))
        .send()
        .await
        .unwrap();
    assert!(r.status().is_success(), "create bucket: {}", r.status());
    name
}

/// A signed-in client (cookie kept) and the session cookie itself.
async fn sign_in(url: &str) -> (reqwest::Client, String) {
    let client = reqwest::Client::builder()
        .cookie_store(true)
        .build()
        .unwrap();
    let r = client
        .post(format!("{url}/authentication/sign_in"))
        .json(&json!({"user": "admin", "password": PASSWORD}))
        .send()
        .await
        .unwrap();
    assert!(r.status().is_success(), "sign-in: {}", r.status());
    let cookie = r
        .headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|v| v.starts_with("LWSSO_COOKIE_KEY="))
        .and_then(|v| v.split(';').next())
        .expect("a session cookie")
        .to_owned();
    (client, cookie)
}

fn payload(push: &str, shared: usize, own: usize) -> Vec<u8> {
    let mut xml = String::from("<test_result><test_runs>");
    for i in 0..shared {
        write!(
            xml,
            r#"<test_run package="multi" class="Shared" name="t{i}" duration="1" status="Passed" external_run_id="{push}"/>"#
        )
        .unwrap();
    }
    for i in 0..own {
        write!(
            xml,
            r#"<test_run package="multi" class="{push}" name="t{i}" duration="1" status="Failed" external_run_id="{push}"/>"#
        )
        .unwrap();
    }
    xml.push_str("</test_runs></test_result>");
    xml.into_bytes()
}

async fn push(client: &reqwest::Client, url: &str, body: Vec<u8>) -> i64 {
    let r = client
        .post(format!("{url}{WS}/test-results"))
        .header("Content-Type", "application/xml")
        .body(body)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 202);
    r.json::<Value>().await.unwrap()["id"].as_i64().unwrap()
}

async fn task(client: &reqwest::Client, url: &str, id: i64) -> Value {
    client
        .get(format!("{url}/verdict{WS}/tasks/{id}"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap()
}

/// Waits (bounded, not a speed check) until the task has ended; its status.
async fn finished(client: &reqwest::Client, url: &str, id: i64, secs: u64) -> String {
    for _ in 0..secs * 10 {
        let status = task(client, url, id).await["status"]
            .as_str()
            .unwrap()
            .to_owned();
        if status != "queued" && status != "running" {
            return status;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("task {id} did not end within {secs} s");
}

async fn count(client: &reqwest::Client, url: &str, collection: &str) -> i64 {
    let page: Value = client
        .get(format!("{url}{WS}/{collection}?limit=1"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    page["total_count"].as_i64().unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_nodes_share_one_database_and_one_bucket() {
    let Some((database_url, admin_url, db_name)) = database().await else {
        return;
    };
    let endpoint = std::env::var("VERDICT_TEST_S3_ENDPOINT").unwrap();
    let endpoint = endpoint.trim_end_matches('/');
    let blob_url = format!("s3://{}/nodes", bucket(endpoint).await);
    let a = start(&database_url, &blob_url, endpoint);
    let b = start(&database_url, &blob_url, endpoint);

    // A session signed in on one node is used on the other.
    let (ca, cookie) = sign_in(&a.url).await;
    let plain = reqwest::Client::new();
    let through_b = plain
        .get(format!("{}{WS}/tests?limit=1", b.url))
        .header("Cookie", &cookie)
        .send()
        .await
        .unwrap();
    assert_eq!(through_b.status(), 200, "node B knows node A's session");
    let anonymous = plain
        .get(format!("{}{WS}/tests?limit=1", b.url))
        .send()
        .await
        .unwrap();
    assert_eq!(anonymous.status(), 401);
    let (cb, _) = sign_in(&b.url).await;

    // Concurrent pushes creating the same new tests through both nodes.
    const PUSHES: usize = 16;
    const SHARED: usize = 30;
    const OWN: usize = 5;
    let mut pending = Vec::new();
    for p in 0..PUSHES {
        let (client, url) = if p % 2 == 0 {
            (ca.clone(), a.url.clone())
        } else {
            (cb.clone(), b.url.clone())
        };
        pending.push(tokio::spawn(async move {
            let id = push(&client, &url, payload(&format!("push{p}"), SHARED, OWN)).await;
            (id, finished(&client, &url, id, 300).await)
        }));
    }
    for job in pending {
        let (id, status) = job.await.unwrap();
        assert_eq!(status, "success", "task {id}");
    }
    assert_eq!(
        count(&ca, &a.url, "tests").await,
        i64::try_from(SHARED + PUSHES * OWN).unwrap(),
        "every test once"
    );
    assert_eq!(
        count(&cb, &b.url, "runs").await,
        i64::try_from(PUSHES * (SHARED + OWN)).unwrap(),
        "every run once"
    );

    // Identical bytes through both nodes at once: one task.
    let same = payload("same", 3, 1);
    let (ida, idb) = tokio::join!(
        push(&ca, &a.url, same.clone()),
        push(&cb, &b.url, same.clone())
    );
    assert_eq!(ida, idb, "identical bytes through two nodes are one task");
    assert_eq!(finished(&ca, &a.url, ida, 120).await, "success");

    // An attachment written through one node is read through the other.
    let runs: Value = ca
        .get(format!("{}{WS}/runs?limit=1", a.url))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let run = runs["data"][0]["id"].as_str().unwrap().to_owned();
    let bytes: Vec<u8> = (0..200_000_u32).map(|i| (i % 251) as u8).collect();
    let created: Value = ca
        .post(format!(
            "{}{WS}/attachments?name=trace.bin&owner_run={run}",
            a.url
        ))
        .header("Content-Type", "application/octet-stream")
        .body(bytes.clone())
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let attachment = created["data"][0]["id"].as_str().unwrap().to_owned();
    let read = cb
        .get(format!("{}{WS}/attachments/{attachment}", b.url))
        .header("Accept", "application/octet-stream")
        .send()
        .await
        .unwrap();
    assert_eq!(read.status(), 200);
    assert_eq!(
        read.bytes().await.unwrap().to_vec(),
        bytes,
        "node B serves node A's bytes"
    );

    // A node killed mid-task: the other finishes the task once its lease
    // (2 s) lapses.
    let mut big = String::from("<test_result><test_runs>");
    for i in 0..BIG_RUNS {
        write!(
            big,
            r#"<test_run package="big" class="C{}" name="t{i}" duration="1" status="Passed"/>"#,
            i % 50
        )
        .unwrap();
    }
    big.push_str("</test_runs></test_result>");
    let tests_before = count(&ca, &a.url, "tests").await;
    let runs_before = count(&ca, &a.url, "runs").await;
    let id = push(&ca, &a.url, big.into_bytes()).await;
    // Which node runs it: the one reporting its progress.
    let mut nodes = [Some(a), Some(b)];
    let clients = [ca, cb];
    let victim = 'found: {
        for _ in 0..3000 {
            for (i, node) in nodes.iter().enumerate() {
                let node = node.as_ref().unwrap();
                let t = task(&clients[i], &node.url, id).await;
                if t["status"] == "running" && !t["items_applied"].is_null() {
                    break 'found i;
                }
                assert_ne!(
                    t["status"], "success",
                    "the task ended before it could be caught"
                );
            }
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        panic!("the task was never seen running");
    };
    let mut killed = nodes[victim].take().unwrap();
    let caught = task(&clients[victim], &killed.url, id).await;
    eprintln!("killing node {victim} while its task is {caught}");
    killed.child.kill().unwrap();
    killed.child.wait().unwrap();
    let survivor = 1 - victim;
    let url = nodes[survivor].as_ref().unwrap().url.clone();
    assert_eq!(
        finished(&clients[survivor], &url, id, 600).await,
        "success",
        "the surviving node finished the killed node's task"
    );
    assert_eq!(
        count(&clients[survivor], &url, "tests").await,
        tests_before + i64::try_from(BIG_RUNS).unwrap()
    );
    assert_eq!(
        count(&clients[survivor], &url, "runs").await,
        runs_before + i64::try_from(BIG_RUNS).unwrap(),
        "every run of the taken-over task exactly once"
    );
    drop(nodes);
    drop(killed);
    support::drop_postgres(&admin_url, &db_name).await;
}
