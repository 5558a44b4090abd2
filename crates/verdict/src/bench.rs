//! `verdict bench`: throughput figures for docs/perf.md, measured on a real
//! server in this process (loopback HTTP, a temporary SQLite database unless
//! `--database-url` is given). Benchmarks report; they never assert.

mod during;
mod insight;

use std::io::Write;
use std::time::{Duration, Instant};

use verdict_server::{Server, ServerConfig};

use crate::cli::{BenchArgs, BenchCommand};

type BoxError = Box<dyn std::error::Error>;

/// Runs a benchmark and prints its figures.
pub async fn run(args: BenchArgs) -> Result<(), BoxError> {
    match args.command {
        BenchCommand::Ingest {
            runs,
            database_url,
            rerun,
        } => ingest(runs, database_url, rerun).await,
        BenchCommand::Http {
            during_task: Some(runs),
            database_url,
            ..
        } => during::run(runs, database_url).await,
        BenchCommand::Http {
            pushes,
            clients,
            runs_per_push,
            ..
        } => http(pushes, clients, runs_per_push).await,
        BenchCommand::Events { events, batch } => tc_events(events, batch).await,
        BenchCommand::Convert { cases } => convert(cases),
        BenchCommand::Insight {
            tests,
            result_sets,
            samples,
            database_url,
        } => insight::run(database_url, tests, result_sets, samples).await,
    }
}

/// Writes a payload of `runs` distinct tests; `tag` keeps payloads apart.
/// Round 0 is a first push; round k pushes the same tests again a minute
/// later per round, every tenth test failing, shifted by one per round (so
/// statuses change and every run archives its predecessor).
fn write_payload(out: &mut impl Write, runs: u64, tag: &str, round: u64) -> std::io::Result<()> {
    out.write_all(b"<test_result><test_runs>\n")?;
    let started = 1_700_000_000_000_u64 + round * 60_000;
    for i in 0..runs {
        let status = if (i + round).is_multiple_of(10) {
            "Failed"
        } else {
            "Passed"
        };
        writeln!(
            out,
            r#"<test_run module="bench" package="com.acme.pkg{}" class="Class{}" name="test{i}{tag}" duration="{}" status="{status}" started="{started}"/>"#,
            i % 100,
            i % 1000,
            i % 500
        )?;
    }
    out.write_all(b"</test_runs></test_result>\n")
}

/// A small payload in memory (HTTP bench).
pub(crate) fn payload(runs: u64, tag: &str) -> Vec<u8> {
    let mut out = Vec::with_capacity(usize::try_from(runs).unwrap_or(0) * 150 + 64);
    let _ = write_payload(&mut out, runs, tag, 0);
    out
}

/// Peak resident set size of this process (Linux `VmHWM`), in MiB.
fn peak_rss_mib() -> Option<f64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kib: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib / 1024.0)
}

async fn start(
    database_url: Option<String>,
) -> Result<(verdict_server::RunningServer, tempfile::TempDir), BoxError> {
    start_with_workers(database_url, 1).await
}

/// A server on a free port with a temporary data directory.
pub(crate) async fn start_with_workers(
    database_url: Option<String>,
    workers: usize,
) -> Result<(verdict_server::RunningServer, tempfile::TempDir), BoxError> {
    let dir = tempfile::tempdir()?;
    let mut config = ServerConfig::with_data_dir(dir.path().to_owned());
    config.listen = "127.0.0.1:0".parse()?;
    config.database_url = database_url;
    config.admin_password = Some("bench".to_owned());
    config.workers = workers;
    Ok((Server::start(config).await?, dir))
}

pub(crate) async fn signed_in_client(url: &str) -> Result<reqwest::Client, BoxError> {
    let client = reqwest::Client::builder()
        .cookie_store(true)
        .timeout(Duration::from_secs(3600))
        .build()?;
    let r = client
        .post(format!("{url}/authentication/sign_in"))
        .json(&serde_json::json!({"user": "admin", "password": "bench"}))
        .send()
        .await?;
    if !r.status().is_success() {
        return Err(format!("sign-in failed: {}", r.status()).into());
    }
    Ok(client)
}

async fn ingest(runs: u64, database_url: Option<String>, rerun: u64) -> Result<(), BoxError> {
    // The payload lives on disk, plain and gzipped, so this process's peak RSS
    // is the server's (and the streaming client's), not the payload's.
    let dir = tempfile::tempdir()?;
    let plain = dir.path().join("payload.xml");
    let packed = dir.path().join("payload.xml.gz");
    write_payload(
        &mut std::io::BufWriter::new(std::fs::File::create(&plain)?),
        runs,
        "",
        0,
    )?;
    let mut gz = flate2::write::GzEncoder::new(
        std::io::BufWriter::new(std::fs::File::create(&packed)?),
        flate2::Compression::fast(),
    );
    std::io::copy(
        &mut std::io::BufReader::new(std::fs::File::open(&plain)?),
        &mut gz,
    )?;
    gz.finish()?.flush()?;
    let size = std::fs::metadata(&plain)?.len();
    println!(
        "payload: {runs} runs, {:.1} MiB ({:.1} MiB gzipped)",
        size as f64 / 1_048_576.0,
        std::fs::metadata(&packed)?.len() as f64 / 1_048_576.0
    );

    let started = Instant::now();
    let mut reader = verdict_ingest::PayloadReader::new(std::io::BufReader::with_capacity(
        1 << 16,
        std::fs::File::open(&plain)?,
    ))?;
    let mut items = 0_u64;
    while reader.next_item()?.is_some() {
        items += 1;
    }
    let parse = started.elapsed();
    println!(
        "validate+parse: {items} runs in {:.3} s = {:.0} runs/s ({:.0} MiB/s)",
        parse.as_secs_f64(),
        items as f64 / parse.as_secs_f64(),
        size as f64 / 1_048_576.0 / parse.as_secs_f64()
    );
    if let Some(mib) = peak_rss_mib() {
        println!("peak RSS after validate+parse: {mib:.0} MiB");
    }

    let mut rounds = vec![packed];
    for round in 1..=rerun {
        let path = dir.path().join(format!("rerun-{round}.xml.gz"));
        let mut gz = flate2::write::GzEncoder::new(
            std::io::BufWriter::new(std::fs::File::create(&path)?),
            flate2::Compression::fast(),
        );
        write_payload(&mut gz, runs, "", round)?;
        gz.finish()?.flush()?;
        rounds.push(path);
    }
    // A PostgreSQL run is always set beside SQLite's on the same payloads,
    // so the two figures come from one machine state.
    let sqlite = end_to_end(&rounds, runs, None).await?;
    if let Some(url) = database_url {
        let postgres = end_to_end(&rounds, runs, Some(url)).await?;
        println!(
            "PostgreSQL / SQLite, first push: {:.0} / {:.0} runs/s = {:.0} %",
            postgres.first,
            sqlite.first,
            100.0 * postgres.first / sqlite.first
        );
        if let (Some(pg), Some(lite)) = (postgres.rerun, sqlite.rerun) {
            println!(
                "PostgreSQL / SQLite, re-runs: {pg:.0} / {lite:.0} runs/s = {:.0} %",
                100.0 * pg / lite
            );
        }
    }
    if let Some(mib) = peak_rss_mib() {
        println!("peak RSS of the process (server + client): {mib:.0} MiB");
    }
    Ok(())
}

/// Runs per second of a first push and, when there were any, of all re-runs
/// together (their runs over their summed end-to-end times).
struct Rates {
    first: f64,
    rerun: Option<f64>,
}

/// Pushes each gzipped payload in turn to a fresh server on `database_url`
/// (None: a temporary SQLite file), each after the previous one's task
/// finished, and prints every push's end-to-end figure.
async fn end_to_end(
    rounds: &[std::path::PathBuf],
    runs: u64,
    database_url: Option<String>,
) -> Result<Rates, BoxError> {
    let backend = match &database_url {
        Some(url) if url.starts_with("postgres") => "PostgreSQL",
        Some(_) => "the given database",
        None => "SQLite",
    };
    let (server, _data) = start(database_url).await?;
    let client = signed_in_client(&server.url()).await?;
    let ws = format!("{}/api/shared_spaces/1001/workspaces/1002", server.url());
    let mut first = 0.0;
    let mut rerun_seconds = 0.0;
    for (round, packed) in rounds.iter().enumerate() {
        let body = reqwest::Body::wrap_stream(verdict_server::file_stream(
            tokio::fs::File::open(packed).await?,
        ));
        let started = Instant::now();
        let reply: serde_json::Value = client
            .post(format!("{ws}/test-results"))
            .header("Content-Encoding", "gzip")
            .body(body)
            .send()
            .await?
            .json()
            .await?;
        let accepted = started.elapsed();
        let id = reply["id"]
            .as_i64()
            .ok_or_else(|| format!("push rejected: {reply}"))?;
        let status = loop {
            let task: serde_json::Value = client
                .get(format!("{ws}/test-results/{id}"))
                .send()
                .await?
                .json()
                .await?;
            match task["status"].as_str() {
                // Polled often: a 20 ms poll added up to 20 ms to a 0.3 s push.
                Some("queued" | "running") => tokio::time::sleep(Duration::from_millis(5)).await,
                _ => break task,
            }
        };
        let total = started.elapsed().as_secs_f64();
        if status["status"] != "success" {
            // A rate of a task that failed or skipped items measures nothing.
            return Err(format!("push {round}: the task did not succeed: {status}").into());
        }
        let rate = runs as f64 / total;
        let what = if round == 0 {
            "first push".to_owned()
        } else {
            format!("re-run {round}")
        };
        println!(
            "end to end on {backend}, {what} (push → task {}): {runs} runs in {total:.3} s = {rate:.0} runs/s (202 after {:.3} s)",
            status["status"],
            accepted.as_secs_f64()
        );
        if round == 0 {
            first = rate;
        } else {
            rerun_seconds += total;
        }
    }
    if rounds.len() > 1 {
        // The entity API's page of previous runs, as a client pages them.
        let url = format!("{ws}/previous_runs?limit=100&fields=status,started");
        let mut times = Vec::new();
        let mut total = serde_json::Value::Null;
        for _ in 0..50 {
            let t = Instant::now();
            let page: serde_json::Value = client.get(&url).send().await?.json().await?;
            times.push(t.elapsed().as_secs_f64() * 1000.0);
            total = page["total_count"].clone();
        }
        let (p50, p95) = insight::percentiles(times);
        println!(
            "previous_runs page with total_count {total} on {backend}: p50 {p50:.1} ms, p95 {p95:.1} ms (50 requests)"
        );
    }
    let reruns = rounds.len().saturating_sub(1) as f64;
    let rerun = (reruns > 0.0).then(|| reruns * runs as f64 / rerun_seconds);
    if let Some(rate) = rerun {
        println!("re-runs on {backend}: {rate:.0} runs/s over {reruns} pushes");
    }
    server.shutdown().await;
    Ok(Rates { first, rerun })
}

async fn http(pushes: u64, clients: usize, runs_per_push: u64) -> Result<(), BoxError> {
    let (server, _dir) = start(None).await?;
    let client = signed_in_client(&server.url()).await?;
    let ws = format!("{}/api/shared_spaces/1001/workspaces/1002", server.url());
    let per_client = pushes / clients.max(1) as u64;
    let started = Instant::now();
    let mut tasks = Vec::new();
    for c in 0..clients {
        let (client, ws) = (client.clone(), ws.clone());
        tasks.push(tokio::spawn(async move {
            let mut latencies = Vec::with_capacity(usize::try_from(per_client).unwrap_or(0));
            for p in 0..per_client {
                let body = payload(runs_per_push, &format!("_{c}_{p}"));
                let t = Instant::now();
                let r = client
                    .post(format!("{ws}/test-results"))
                    .body(body)
                    .send()
                    .await;
                match r {
                    Ok(r) if r.status().as_u16() == 202 => latencies.push(t.elapsed()),
                    Ok(r) => eprintln!("push answered {}", r.status()),
                    Err(e) => eprintln!("push failed: {e}"),
                }
            }
            latencies
        }));
    }
    let mut all = Vec::new();
    for t in tasks {
        all.extend(t.await?);
    }
    let elapsed = started.elapsed();
    all.sort_unstable();
    let pct = |p: f64| {
        all.get(((all.len() as f64 - 1.0) * p) as usize)
            .copied()
            .unwrap_or_default()
    };
    println!(
        "{} accepted pushes ({runs_per_push} runs each, {clients} clients) in {:.2} s = {:.0} pushes/s; latency p50 {:.1} ms, p99 {:.1} ms, max {:.1} ms",
        all.len(),
        elapsed.as_secs_f64(),
        all.len() as f64 / elapsed.as_secs_f64(),
        pct(0.5).as_secs_f64() * 1000.0,
        pct(0.99).as_secs_f64() * 1000.0,
        pct(1.0).as_secs_f64() * 1000.0
    );
    server.shutdown().await;
    Ok(())
}

async fn tc_events(total: u64, batch: u64) -> Result<(), BoxError> {
    let (server, _dir) = start(None).await?;
    let url = server.url();
    let client = reqwest::Client::new();
    let suite: serde_json::Value = client
        .post(format!("{url}/upload/suites"))
        .basic_auth("admin", Some("bench"))
        .json(&serde_json::json!({"project": "bench", "test": {"name": "suite"}}))
        .send()
        .await?
        .json()
        .await?;
    let run = suite["runId"].as_i64().ok_or("suite not created")?;
    let requests = total / batch.max(1);
    let started = Instant::now();
    let mut sent = 0_u64;
    for r in 0..requests {
        let events: Vec<serde_json::Value> = (0..batch)
            .map(|i| {
                let kind = if i % 10 == 0 { "LOG" } else { "PASS" };
                serde_json::json!({"runId": run, "type": kind, "message": format!("check {r}-{i}"), "location": {"uri": "test.py", "line": i}})
            })
            .collect();
        let reply = client
            .post(format!("{url}/upload/events"))
            .basic_auth("admin", Some("bench"))
            .json(&events)
            .send()
            .await?;
        if reply.status().as_u16() != 207 {
            return Err(format!("events answered {}", reply.status()).into());
        }
        sent += batch;
    }
    let elapsed = started.elapsed();
    println!(
        "{sent} events in {requests} requests of {batch}: {:.2} s = {:.0} events/s",
        elapsed.as_secs_f64(),
        sent as f64 / elapsed.as_secs_f64()
    );
    server.shutdown().await;
    Ok(())
}

fn convert(cases: u64) -> Result<(), BoxError> {
    use verdict_ingest::convert::{PayloadOptions, PayloadWriter};
    use verdict_ingest::reports::{ReportEvent, ReportFormat, read_report};
    let dir = tempfile::tempdir()?;
    let path = dir.path().join("junit.xml");
    {
        let mut out = std::io::BufWriter::new(std::fs::File::create(&path)?);
        out.write_all(b"<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<testsuites>\n")?;
        for i in 0..cases {
            if i % 1000 == 0 {
                if i > 0 {
                    out.write_all(b"</testsuite>\n")?;
                }
                writeln!(
                    out,
                    r#"<testsuite name="com.acme.Suite{}" timestamp="2026-11-26T10:00:00">"#,
                    i / 1000
                )?;
            }
            if i % 50 == 7 {
                writeln!(
                    out,
                    r#"  <testcase classname="com.acme.pkg{}.Class{}" name="test{i}" time="0.{:03}"><failure message="expected &lt;1&gt;" type="java.lang.AssertionError">java.lang.AssertionError: expected 1
	at com.acme.Class.test(Class.java:{i})</failure></testcase>"#,
                    i % 17,
                    i % 1000,
                    i % 1000
                )?;
            } else {
                writeln!(
                    out,
                    r#"  <testcase classname="com.acme.pkg{}.Class{}" name="test{i}" time="0.{:03}"/>"#,
                    i % 17,
                    i % 1000,
                    i % 1000
                )?;
            }
        }
        out.write_all(b"</testsuite>\n</testsuites>\n")?;
    }
    let size = std::fs::metadata(&path)?.len();
    let started = Instant::now();
    let options = PayloadOptions {
        started_ms: 1_700_000_000_000,
        ..PayloadOptions::default()
    };
    let mut writer = PayloadWriter::new(std::io::BufWriter::new(std::io::sink()), &options)?;
    let reader = std::io::BufReader::with_capacity(1 << 16, std::fs::File::open(&path)?);
    read_report(reader, ReportFormat::JUnit, |event| {
        if let ReportEvent::Case(case) = event {
            writer.case(None, None, &case).map_err(|e| e.to_string())?;
        }
        Ok(())
    })?;
    let (_, stats) = writer.finish()?;
    let elapsed = started.elapsed().as_secs_f64();
    println!(
        "JUnit → payload: {} cases, {:.1} MiB in {elapsed:.2} s = {:.0} cases/s, {:.0} MiB/s (single thread)",
        stats.runs,
        size as f64 / 1_048_576.0,
        stats.runs as f64 / elapsed,
        size as f64 / 1_048_576.0 / elapsed
    );
    if let Some(mib) = peak_rss_mib() {
        println!("peak RSS: {mib:.0} MiB");
    }
    Ok(())
}
