//! `verdict bench insight`: seeds a workspace with TESTS tests × SETS CI
//! builds (default 10,000 × 100 = 1,000,000 results; ~3 % failing, ~1 %
//! flaky, 50 failure signatures, 3 environments — one CI job each) through
//! the store's own ingest bookkeeping, then times every insight endpoint
//! over HTTP on loopback and prints p50/p95 per endpoint.

use std::time::Instant;

use verdict_domain::insight::Outcome;
use verdict_store::{
    CiBuildSpec, ContextSpec, FailureInfo, NewResult, NewRun, NewTask, NewTest, PushOutcome,
    ResultSetSpec, RunUpdate, Store, TaskState,
};

type BoxError = Box<dyn std::error::Error>;

const WS: i64 = 1002;
const ENVIRONMENTS: [&str; 3] = ["chrome", "firefox", "safari"];
const SIGNATURES: u64 = 50;
const ERROR_TYPES: [&str; 5] = [
    "java.lang.AssertionError",
    "java.lang.IllegalStateException",
    "java.lang.NullPointerException",
    "org.openqa.selenium.TimeoutException",
    "java.io.IOException",
];

/// What the seeder decides for one test in one set.
struct Planned {
    outcome: Outcome,
    flaky: bool,
    signature: Option<u64>,
}

/// A cheap, deterministic mix (same data on every run and backend).
fn mix(a: u64, b: u64) -> u64 {
    let mut x = a.wrapping_mul(0x9e37_79b9_7f4a_7c15) ^ b.wrapping_mul(0xc2b2_ae3d_27d4_eb4f);
    x ^= x >> 31;
    x = x.wrapping_mul(0xbf58_476d_1ce4_e5b9);
    x ^ (x >> 29)
}

/// ~4 % of tests break in streaks of 10 builds (a third of the time), 1 %
/// flip (pass, pass after a retry, or fail), 1 % fail at random, 1 % skip.
fn plan(set: u64, test: u64) -> Planned {
    let bucket = test % 100;
    let roll = mix(set, test);
    let failed = |s| Planned {
        outcome: Outcome::Failed,
        flaky: false,
        signature: Some(s),
    };
    let passed = Planned {
        outcome: Outcome::Passed,
        flaky: false,
        signature: None,
    };
    match bucket {
        0..=3 if (set / 10 + test).is_multiple_of(3) => failed(test % SIGNATURES),
        4 => match roll % 4 {
            0 => failed(test % SIGNATURES),
            1 => Planned {
                outcome: Outcome::Passed,
                flaky: true,
                signature: None,
            },
            _ => passed,
        },
        99 => Planned {
            outcome: Outcome::Skipped,
            flaky: false,
            signature: None,
        },
        _ if roll.is_multiple_of(100) => failed(roll % SIGNATURES),
        _ => passed,
    }
}

fn failure(signature: u64, set: u64, test: u64) -> FailureInfo {
    let kind = ERROR_TYPES[(signature % 5) as usize];
    let message = format!("check {signature} failed: expected {set} but was {test}");
    let stack = format!(
        "{kind}: {message}\n\tat com.bench.Module{signature}.verify(Module{signature}.java:{})\n\tat com.bench.Suite{}.test(Suite.java:{test})\n\tat org.junit.runners.ParentRunner.run(ParentRunner.java:1)",
        test % 97,
        signature % 7
    );
    FailureInfo::of(Some(kind), Some(&message), Some(&stack))
}

/// Seeds the data set; returns (result sets, results).
async fn seed(store: &Store, tests: u64, sets: u64) -> Result<(u64, u64), BoxError> {
    store
        .create_ci_server(WS, "Bench CI", "bench-ci", "jenkins", None)
        .await?;
    let now = verdict_store::now_ms();
    let mut test_ids: Vec<i64> = Vec::new();
    let mut run_ids: Vec<Vec<i64>> = vec![Vec::new(); ENVIRONMENTS.len()];
    let mut written = 0_u64;
    for set in 0..sets {
        let env = (set % ENVIRONMENTS.len() as u64) as usize;
        let started = now - i64::try_from(sets - set).unwrap_or(0) * 3_600_000;
        let task = NewTask {
            workspace_id: WS,
            skip_errors: false,
            payload_encoding: "identity",
            payload_size: 0,
            dedupe_key: format!("bench-insight-{set}-{now}"),
            dedupe_window_ms: 0,
            accepted_at: started,
            ci: None,
            pushed_by: Some("bench".to_owned()),
            items_total: i64::try_from(tests).ok(),
        };
        let PushOutcome::Accepted { task_id } = store.enqueue(&task, &mut &b""[..]).await? else {
            return Err("bench task deduplicated".into());
        };
        let claimed = store
            .claim_task("bench", 3_600_000)
            .await?
            .ok_or("bench task not claimed")?;
        let mut tx = store.begin_ingest(WS, claimed.id).await?;
        if test_ids.is_empty() {
            test_ids = tx.allocate_ids(tests as usize).await?;
            let new: Vec<NewTest> = test_ids
                .iter()
                .enumerate()
                .map(|(i, id)| NewTest {
                    id: *id,
                    subtype: "test_automated",
                    name: format!("test_{i:05}"),
                    package: "com.bench".to_owned(),
                    class_name: format!("Suite{}", i % 100),
                    identity_key: format!("bench\u{1f}{i}"),
                    ..NewTest::default()
                })
                .collect();
            tx.insert_tests(&new, now).await?;
        }
        let server = tx
            .ci_server_by_instance("bench-ci")
            .await?
            .ok_or("bench CI server missing")?;
        let job_name = format!("shop-{}", ENVIRONMENTS[env]);
        let job = tx.ci_job(server, &job_name, &job_name).await?;
        let build_name = (set / ENVIRONMENTS.len() as u64 + 1).to_string();
        let build = tx
            .ci_build(
                job,
                &CiBuildSpec {
                    build_ci_id: &build_name,
                    name: &build_name,
                    sub_type: None,
                    artifact_id: None,
                },
                started,
            )
            .await?;
        let context = ContextSpec {
            key: verdict_domain::insight::context_key(None, ENVIRONMENTS[env]),
            release_id: None,
            environment: ENVIRONMENTS[env].to_owned(),
        };
        let mut results = Vec::with_capacity(tests as usize);
        let mut runs = Vec::new();
        if run_ids[env].is_empty() {
            run_ids[env] = tx.allocate_ids(tests as usize).await?;
        }
        for (t, test_id) in test_ids.iter().enumerate() {
            let t = t as u64;
            let p = plan(set, t);
            let run_id = run_ids[env][t as usize];
            let begin = started + i64::try_from(t).unwrap_or(0);
            let duration = 100 + i64::try_from(mix(t, 7) % 900).unwrap_or(0);
            if set < ENVIRONMENTS.len() as u64 {
                runs.push(NewRun {
                    id: run_id,
                    subtype: "run_automated",
                    test_id: *test_id,
                    run_key: format!("bench\u{1f}{t}\u{1f}{env}"),
                    name: format!("test_{t:05}"),
                    values: RunUpdate {
                        status: p.outcome.key().to_owned(),
                        started: begin,
                        duration,
                        ci_build_id: Some(build),
                        ..RunUpdate::default()
                    },
                    ..NewRun::default()
                });
            }
            results.push(NewResult {
                id: None,
                test_id: *test_id,
                context_key: context.key,
                run_id,
                started: begin,
                duration,
                outcome: p.outcome,
                flaky: p.flaky,
                retries: i64::from(p.flaky),
                muted: false,
                failure: p.signature.map(|s| failure(s, set, t)),
            });
        }
        tx.insert_runs(&runs, now).await?;
        let spec = ResultSetSpec {
            task_id: Some(task_id),
            pushed_by: Some("bench".to_owned()),
            environment: Some(format!("Browser: {}", ENVIRONMENTS[env])),
            ..ResultSetSpec::build(build, job, &job_name, &build_name)
        };
        let set_ref = tx.result_set(&spec, started).await?;
        written += results.len() as u64;
        tx.record_results(set_ref, results, Vec::new(), &[context])
            .await?;
        tx.close_result_sets(&[set_ref]).await?;
        tx.finish("bench", TaskState::Success, None).await?;
        if set % 10 == 9 {
            eprintln!(
                "seeded {} of {sets} result sets ({written} results)",
                set + 1
            );
        }
    }
    while store.refresh_stale_summaries(100).await? > 0 {}
    for t in (0..tests).step_by(500) {
        store
            .mute_test(WS, test_ids[t as usize], Some("bench quarantine"), "bench")
            .await?;
    }
    Ok((sets, written))
}

/// p50 and p95 of `samples` timings (ms).
pub(super) fn percentiles(mut ms: Vec<f64>) -> (f64, f64) {
    ms.sort_by(f64::total_cmp);
    (nearest_rank(&ms, 0.50), nearest_rank(&ms, 0.95))
}

/// The `p` quantile of sorted, non-empty `ms` by nearest rank.
pub(super) fn nearest_rank(ms: &[f64], p: f64) -> f64 {
    ms[((p * ms.len() as f64).ceil() as usize).clamp(1, ms.len()) - 1]
}

/// Times GETs of `paths` (cycled) and prints one line.
async fn time(
    client: &reqwest::Client,
    base: &str,
    label: &str,
    paths: &[String],
    samples: usize,
) -> Result<(f64, f64), BoxError> {
    // one warm-up request per path: the first read of a page pulls it into the cache
    for p in paths.iter().take(3) {
        client
            .get(format!("{base}/{p}"))
            .send()
            .await?
            .bytes()
            .await?;
    }
    let mut ms = Vec::with_capacity(samples);
    for i in 0..samples {
        let url = format!("{base}/{}", paths[i % paths.len()]);
        let t = Instant::now();
        let r = client.get(&url).send().await?;
        let status = r.status();
        r.bytes().await?;
        ms.push(t.elapsed().as_secs_f64() * 1_000.0);
        if !status.is_success() {
            return Err(format!("GET {url}: {status}").into());
        }
    }
    let (p50, p95) = percentiles(ms);
    println!("{label:<44} p50 {p50:>7.1} ms   p95 {p95:>7.1} ms");
    Ok((p50, p95))
}

/// Seeds, then measures every endpoint.
pub async fn run(
    database_url: Option<String>,
    tests: u64,
    sets: u64,
    samples: usize,
) -> Result<(), BoxError> {
    let (server, _data) = super::start_with_workers(database_url, 1).await?;
    let started = Instant::now();
    let (set_count, results) = seed(&server.store, tests, sets).await?;
    let took = started.elapsed().as_secs_f64();
    println!(
        "backend {:?}: seeded {results} results in {set_count} result sets in {took:.1} s ({:.0} results/s, bookkeeping included)",
        server.store.backend(),
        results as f64 / took
    );
    let client = super::signed_in_client(&server.url()).await?;
    let base = format!(
        "{}/verdict/api/shared_spaces/1001/workspaces/{WS}",
        server.url()
    );
    let first: serde_json::Value = client
        .get(format!("{base}/result_sets?limit=100"))
        .send()
        .await?
        .json()
        .await?;
    let set_ids: Vec<String> = first["data"]
        .as_array()
        .ok_or("no result sets")?
        .iter()
        .filter_map(|s| s["id"].as_str().map(str::to_owned))
        .collect();
    let groups: serde_json::Value = client
        .get(format!("{base}/failure_groups?limit=50"))
        .send()
        .await?
        .json()
        .await?;
    let signatures: Vec<String> = groups["data"]
        .as_array()
        .ok_or("no failure groups")?
        .iter()
        .filter_map(|g| g["signature"].as_str().map(str::to_owned))
        .collect();
    let tests_page: serde_json::Value = client
        .get(format!(
            "{}/api/shared_spaces/1001/workspaces/{WS}/tests?fields=id&limit=1000",
            server.url()
        ))
        .send()
        .await?
        .json()
        .await?;
    let test_ids: Vec<String> = tests_page["data"]
        .as_array()
        .ok_or("no tests")?
        .iter()
        .filter_map(|t| t["id"].as_str().map(str::to_owned))
        .collect();
    let page = |offset: usize| format!("result_sets?limit=50&offset={offset}");
    let cases: Vec<(&str, Vec<String>)> = vec![
        ("result sets, newest page", vec![page(0)]),
        ("result sets, pages 1-2 by offset", vec![page(50), page(50)]),
        (
            "result sets, by job",
            vec!["result_sets?job=shop-firefox".to_owned()],
        ),
        (
            "result sets, by environment text",
            vec!["result_sets?environment=safari".to_owned()],
        ),
        (
            "result set comparison (detail)",
            set_ids.iter().map(|s| format!("result_sets/{s}")).collect(),
        ),
        (
            "result set results, failed",
            set_ids
                .iter()
                .map(|s| format!("result_sets/{s}/results?outcome=failed"))
                .collect(),
        ),
        (
            "result set results, page 100",
            set_ids
                .iter()
                .map(|s| format!("result_sets/{s}/results?offset=5000&limit=50"))
                .collect(),
        ),
        (
            "result set results, text + label",
            set_ids
                .iter()
                .map(|s| format!("result_sets/{s}/results?q=suite7&label=firefox"))
                .collect(),
        ),
        (
            "result set results, text in errors",
            set_ids
                .iter()
                .map(|s| format!("result_sets/{s}/results?q=timeout"))
                .collect(),
        ),
        (
            "test story (100 results, 3 contexts)",
            test_ids
                .iter()
                .map(|t| format!("tests/{t}/story"))
                .collect(),
        ),
        ("failure groups", vec!["failure_groups".to_owned()]),
        (
            "failure group with its runs",
            signatures
                .iter()
                .map(|s| format!("failure_groups/{s}"))
                .collect(),
        ),
        ("flaky tests, 30 days", vec!["flaky_tests".to_owned()]),
        ("mutes", vec!["mutes".to_owned()]),
    ];
    for (label, paths) in &cases {
        if paths.is_empty() {
            return Err(format!("{label}: nothing to ask for").into());
        }
        time(&client, &base, label, paths, samples).await?;
    }
    // The web UI's pages over the same data (server-rendered HTML; the
    // budget of docs/ui.md is p95 < 50 ms and < 150 KB per page).
    let ui = format!("{}/ui/1001/{WS}", server.url());
    let pages: Vec<(&str, Vec<String>)> = vec![
        ("page: overview", vec!["?offset=0".to_owned()]),
        (
            "page: result set",
            set_ids.iter().map(|s| format!("results/{s}")).collect(),
        ),
        (
            "page: test",
            test_ids.iter().map(|t| format!("tests/{t}")).collect(),
        ),
        (
            "page: result set, filtered runs",
            set_ids
                .iter()
                .map(|s| format!("results/{s}?q=suite7&outcome=failed"))
                .collect(),
        ),
        ("page: failure groups", vec!["failures".to_owned()]),
        (
            "page: failure group",
            signatures.iter().map(|s| format!("failures/{s}")).collect(),
        ),
        ("page: flaky tests", vec!["flaky".to_owned()]),
        ("page: tasks", vec!["tasks".to_owned()]),
    ];
    for (label, paths) in &pages {
        if paths.is_empty() {
            return Err(format!("{label}: nothing to ask for").into());
        }
        time(&client, &ui, label, paths, samples).await?;
        let mut largest = 0;
        for p in paths.iter().take(20) {
            largest = largest.max(
                client
                    .get(format!("{ui}/{p}"))
                    .send()
                    .await?
                    .bytes()
                    .await?
                    .len(),
            );
        }
        println!("{label:<44} largest HTML of 20: {} KB", largest / 1024);
    }
    server.shutdown().await;
    Ok(())
}
