//! `verdict bench http --during-task RUNS`: what other writers wait while a
//! big task is processed (issue "Beyond one machine", item 2). One task of
//! RUNS runs is pushed; until it ends, a loop times a one-run push (until
//! its 202), a sign-in, and Test Center's suite and event calls, one after
//! the other; then each kind's p50, p99 and maximum, and the big task's rate.

use std::io::Write;
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use super::BoxError;

/// Pause between two rounds of probes.
const BETWEEN: Duration = Duration::from_millis(20);

#[derive(Default)]
struct Timings {
    push: Vec<f64>,
    sign_in: Vec<f64>,
    tc_suite: Vec<f64>,
    tc_events: Vec<f64>,
}

/// Runs the case and prints its figures.
///
/// # Errors
/// The server cannot start or a probe fails outright.
pub async fn run(runs: u64, database_url: Option<String>) -> Result<(), BoxError> {
    let backend = if database_url.is_some() {
        "PostgreSQL"
    } else {
        "SQLite"
    };
    let (server, _dir) = super::start_with_workers(database_url, 1).await?;
    let url = server.url();
    let ws = format!("{url}/api/shared_spaces/1001/workspaces/1002");
    let client = super::signed_in_client(&url).await?;
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    gz.write_all(&super::payload(runs, "_big"))?;
    let body = gz.finish()?;
    let reply: Value = client
        .post(format!("{ws}/test-results"))
        .header("Content-Encoding", "gzip")
        .body(body)
        .send()
        .await?
        .json()
        .await?;
    let id = reply["id"]
        .as_i64()
        .ok_or_else(|| format!("big push rejected: {reply}"))?;
    let started = Instant::now();
    let task_url = format!("{ws}/test-results/{id}");
    let mut t = Timings::default();
    let mut round = 0_u64;
    let status = loop {
        let task: Value = client.get(&task_url).send().await?.json().await?;
        let status = task["status"].as_str().unwrap_or_default().to_owned();
        if status != "queued" && status != "running" {
            break status;
        }
        if status == "running" {
            probe(&client, &url, &ws, round, &mut t).await?;
            round += 1;
        }
        tokio::time::sleep(BETWEEN).await;
    };
    let seconds = started.elapsed().as_secs_f64();
    println!(
        "{backend}: a {runs}-run task ended {status} in {seconds:.1} s ({:.0} runs/s); while it ran:",
        runs as f64 / seconds
    );
    for (label, ms) in [
        ("push accepted (202)", t.push),
        ("sign-in", t.sign_in),
        ("Test Center POST /upload/suites", t.tc_suite),
        ("Test Center POST /upload/events", t.tc_events),
    ] {
        println!("  {label}: {}", summary(ms));
    }
    server.shutdown().await;
    Ok(())
}

/// One round: a one-run push, a sign-in, a suite and an event.
async fn probe(
    client: &reqwest::Client,
    url: &str,
    ws: &str,
    round: u64,
    t: &mut Timings,
) -> Result<(), BoxError> {
    let at = Instant::now();
    let r = client
        .post(format!("{ws}/test-results"))
        .body(super::payload(1, &format!("_probe{round}")))
        .send()
        .await?;
    if r.status() != 202 {
        return Err(format!("probe push answered {}", r.status()).into());
    }
    t.push.push(ms(at));
    let at = Instant::now();
    let r = reqwest::Client::new()
        .post(format!("{url}/authentication/sign_in"))
        .json(&json!({"user": "admin", "password": "bench"}))
        .send()
        .await?;
    if !r.status().is_success() {
        return Err(format!("probe sign-in answered {}", r.status()).into());
    }
    t.sign_in.push(ms(at));
    let at = Instant::now();
    let suite: Value = client
        .post(format!("{url}/upload/suites"))
        .basic_auth("admin", Some("bench"))
        .json(&json!({"project": "Probe", "batch": format!("b{round}"), "test": {"name": "suite"}}))
        .send()
        .await?
        .json()
        .await?;
    t.tc_suite.push(ms(at));
    let run = suite["runId"]
        .as_i64()
        .ok_or_else(|| format!("probe suite refused: {suite}"))?;
    let at = Instant::now();
    let r = client
        .post(format!("{url}/upload/events"))
        .basic_auth("admin", Some("bench"))
        .json(&json!([{"runId": run, "type": "PASS", "message": "ok"}]))
        .send()
        .await?;
    if !r.status().is_success() {
        return Err(format!("probe event answered {}", r.status()).into());
    }
    t.tc_events.push(ms(at));
    Ok(())
}

fn ms(since: Instant) -> f64 {
    since.elapsed().as_secs_f64() * 1000.0
}

/// `n requests, p50 …, p99 …, max … ms`.
fn summary(mut ms: Vec<f64>) -> String {
    if ms.is_empty() {
        return "no sample (the task ended first)".to_owned();
    }
    ms.sort_by(f64::total_cmp);
    let at = |p: f64| super::insight::nearest_rank(&ms, p);
    format!(
        "{} requests, p50 {:.1} ms, p99 {:.1} ms, max {:.1} ms",
        ms.len(),
        at(0.50),
        at(0.99),
        at(1.0)
    )
}
