//! The Octane Java CI SDK 2.25 (the core of the Jenkins, Bamboo and
//! TeamCity plugins) with its default settings, replayed request by request
//! from its source (`OctaneRestClientImpl`, `ConfigurationServiceImpl`,
//! `BridgeServiceImpl`, `EventsServiceImpl`, `TestsServiceImpl`,
//! `LogsServiceImpl`, `SCMDataServiceImpl`, `CoverageServiceImpl`,
//! `VulnerabilitiesServiceImpl`): sign-in without gzip, every PUT/POST body
//! gzipped and chunked, `HPECLIENTTYPE` on every request, job ids in URLs
//! base64 (URL-safe alphabet, padded) with `ci-job-encoding=base64` last,
//! `=` raw in paths and `%3D` in the test-results query.

use std::time::Duration;

use base64::Engine;
use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::auth::gzip;
use crate::ci::{ci, wait_ci_task};
use crate::harness::{TestServer, WS};

const INSTANCE: &str = "3f1c0f0e-5f7b-4b7e-9d7a-2b1e4c7d9a10";
/// A Jenkins job in a folder whose base64 needs the URL-safe alphabet.
const JOB: &str = "acme/job/shop ~ ci";
/// Started by `JOB` (an upstream cause), base64 padded.
const DOWNSTREAM: &str = "acme/job/shop-ci~";

macro_rules! on_both_backends_with {
    ($case:ident, $pipelines:expr) => {
        on_both_backends_with!($case, $pipelines, 256 << 20);
    };
    ($case:ident, $pipelines:expr, $max_body:expr) => {
        mod $case {
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn sqlite() {
                if let Some(s) =
                    crate::harness::TestServer::spawn_with(crate::harness::Backend::Sqlite, |c| {
                        c.ci_pipelines = $pipelines;
                        c.max_body_bytes = $max_body;
                    })
                    .await
                {
                    super::$case(s).await;
                }
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn postgres() {
                if let Some(s) =
                    crate::harness::TestServer::spawn_with(crate::harness::Backend::Postgres, |c| {
                        c.ci_pipelines = $pipelines;
                        c.max_body_bytes = $max_body;
                    })
                    .await
                {
                    super::$case(s).await;
                }
            }
        }
    };
}

on_both_backends_with!(
    defined_pipeline_gets_one_job_one_build_its_runs_and_log,
    verdict_server::CiPipelines::Defined
);
on_both_backends_with!(
    auto_pipelines_take_every_job,
    verdict_server::CiPipelines::Auto
);
on_both_backends_with!(
    an_oversize_log_is_413_and_leaves_nothing,
    verdict_server::CiPipelines::Auto,
    512 << 10
);
on_both_backends_with!(
    ci_data_stays_in_the_callers_workspaces,
    verdict_server::CiPipelines::Defined
);
on_both_backends_with!(
    a_log_shared_by_two_workspaces_survives_one_replacement,
    verdict_server::CiPipelines::Auto
);
on_both_backends_with!(
    bad_job_ids_and_refused_files_leave_nothing,
    verdict_server::CiPipelines::Auto
);

fn b64(job: &str) -> String {
    base64::engine::general_purpose::URL_SAFE.encode(job.as_bytes())
}

/// `OctaneRestClientImpl`: an API key, signed in with a plain JSON body;
/// only `LWSSO_COOKIE_KEY` is kept (the cookie store keeps it).
async fn sdk(s: &TestServer) -> reqwest::Client {
    let admin = s.store.user_by_name("admin").await.unwrap().unwrap();
    sdk_as(s, admin.id, "jenkins_sdk").await
}

/// [`sdk`] with an API key `client_id` (secret `js`) of another user.
async fn sdk_as(s: &TestServer, user_id: i64, client_id: &str) -> reqwest::Client {
    s.store
        .insert_api_key(
            user_id,
            "jenkins",
            client_id,
            &verdict_server::hash_secret("js").unwrap(),
        )
        .await
        .unwrap();
    let client = reqwest::Client::builder()
        .cookie_store(true)
        .timeout(Duration::from_secs(60))
        .build()
        .unwrap();
    let r = client
        .post(format!("{}/authentication/sign_in", s.url))
        .header("HPECLIENTTYPE", "HPE_CI_CLIENT")
        .header("Content-Type", "application/json; charset=UTF-8")
        .body(format!(
            r#"{{"client_id":"{client_id}","client_secret":"js"}}"#
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let cookie = r
        .headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|v| v.starts_with("LWSSO_COOKIE_KEY="))
        .unwrap_or_default()
        .to_owned();
    assert!(!cookie.is_empty(), "the SDK keeps only LWSSO_COOKIE_KEY");
    assert!(
        !cookie.contains("Secure"),
        "not Secure on plain http: {cookie}"
    );
    client
}

/// A GET as the SDK sends it.
async fn get(c: &reqwest::Client, url: String) -> reqwest::Response {
    c.get(url)
        .header("HPECLIENTTYPE", "HPE_CI_CLIENT")
        .send()
        .await
        .unwrap()
}

/// A PUT or POST as the SDK sends it: gzip (`GzipCompressingEntity`, chunked).
async fn send(
    c: &reqwest::Client,
    method: reqwest::Method,
    url: String,
    content_type: &str,
    body: &[u8],
) -> reqwest::Response {
    let gz = gzip(body);
    let chunks: Vec<Result<Vec<u8>, std::io::Error>> =
        gz.chunks(1000).map(|c| Ok(c.to_vec())).collect();
    c.request(method, url)
        .header("HPECLIENTTYPE", "HPE_CI_CLIENT")
        .header("X-Correlation-ID", "0123456789abcdef012345678")
        .header("content-encoding", "gzip")
        .header("content-type", content_type)
        .body(reqwest::Body::wrap_stream(futures_util::stream::iter(
            chunks,
        )))
        .send()
        .await
        .unwrap()
}

fn server_info() -> Value {
    json!({"type": "jenkins", "version": "2.504.3", "url": "http://jenkins.local:8080", "instanceId": INSTANCE, "instanceIdFrom": null, "sendingTime": 1_733_900_000_123_i64})
}

/// `CIEventImpl` as the Jenkins plugin fills it (nulls left out).
fn event(kind: &str, job: &str, build: &str, causes: Value) -> Value {
    let mut e = json!({
        "eventType": kind, "buildCiId": build, "project": job, "number": build,
        "causes": causes, "parameters": [{"type": "string", "name": "ENV", "description": "", "defaultValue": "dev", "value": "qa"}],
        "startTime": 1_733_899_999_000_i64, "estimatedDuration": 15_234,
        "projectDisplayName": job.replace("/job/", "/"), "phaseType": "post"
    });
    if kind == "finished" {
        e["result"] = json!("success");
        e["duration"] = json!(16_012);
        e["testResultExpected"] = json!(true);
        e["environmentOutputtedParameters"] = json!({});
    }
    e
}

/// The CI server as the plugin reported itself (type, URL, plugin version).
fn assert_reported(server: &Value) {
    assert_eq!(
        (
            server["server_type"].as_str(),
            server["url"].as_str(),
            server["plugin_version"].as_str()
        ),
        (
            Some("jenkins"),
            Some("http://jenkins.local:8080"),
            Some("25.1.0")
        ),
        "{server}"
    );
}

/// `POST …/pipelines` as an administrator (the Octane UI would), rooted at `root`.
async fn define_pipeline(s: &TestServer, name: &str, root: &str) {
    let r = s
        .client
        .post(s.ws("pipelines"))
        .json(&json!({"data": [{"name": name, "server_ci_id": INSTANCE, "root_job_ci_id": root, "jobs": [{}]}]}))
        .send()
        .await
        .unwrap();
    assert_eq!(
        r.status(),
        StatusCode::CREATED,
        "{}",
        r.text().await.unwrap()
    );
}

fn user_cause() -> Value {
    json!([{"type": "user", "user": "admin", "causes": []}])
}

async fn put_events(c: &reqwest::Client, s: &TestServer, events: Vec<Value>) {
    let body = json!({"server": server_info(), "events": events});
    let r = send(
        c,
        reqwest::Method::PUT,
        ci(s, &format!("events?ci_server_identity={INSTANCE}")),
        "application/json",
        body.to_string().as_bytes(),
    )
    .await;
    assert_eq!(r.status(), StatusCode::OK, "the SDK drops anything but 200");
}

/// `BridgeServiceImpl.getAbridgedTasks`: held, then 204.
async fn poll(c: &reqwest::Client, s: &TestServer) {
    let r = c
        .get(ci(s, &format!("servers/{INSTANCE}/tasks?self-type=jenkins&self-url=http%3A%2F%2Fjenkins.local%3A8080%2F&api-version=1&sdk-version=2.25.4&plugin-version=25.1.0&client-id=jenkins_sdk&ci-server-user=")))
        .header("accept", "application/json")
        .header("HPECLIENTTYPE", "HPE_CI_CLIENT")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::NO_CONTENT);
}

fn results_xml(job: &str, build: &str) -> String {
    format!(
        r#"<?xml version="1.0" ?><test_result><build server_id="to-be-filled-in-SDK" job_id="{job}" build_id="{build}"/><test_runs><test_run module="" package="com.acme" class="CartTest" name="adds" duration="12" status="Passed" started="1733899999500"/><test_run module="" package="com.acme" class="CartTest" name="removes" duration="7" status="Failed" started="1733899999600"><error type="java.lang.AssertionError" message="expected 1 but was 2">at com.acme.CartTest.removes(CartTest.java:12)</error></test_run></test_runs></test_result>"#
    )
}

/// Preflight then push, as `TestsServiceImpl` does; the task id.
async fn push_results(c: &reqwest::Client, s: &TestServer, job: &str, build: &str) -> i64 {
    let job64 = b64(job);
    let r = get(
        c,
        ci(
            s,
            &format!("servers/{INSTANCE}/jobs/{job64}/tests-result-preflight?rootJobId={job64}&ci-job-encoding=base64"),
        ),
    )
    .await;
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(r.text().await.unwrap(), "true", "exactly `true`, untrimmed");
    let query = format!(
        "test-results?skip-errors=false&instance-id={INSTANCE}&job-ci-id={}&build-ci-id={build}&ci-job-encoding=base64",
        job64.replace('=', "%3D")
    );
    let r = send(
        c,
        reqwest::Method::POST,
        ci(s, &query),
        "application/xml",
        results_xml(job, build).as_bytes(),
    )
    .await;
    assert_eq!(
        r.status(),
        StatusCode::ACCEPTED,
        "the SDK wants 202, nothing else"
    );
    r.json::<Value>().await.unwrap()["id"].as_i64().unwrap()
}

/// `LogsServiceImpl`: which workspaces want the log, then one upload each.
async fn push_log(c: &reqwest::Client, s: &TestServer, job: &str, build: &str, log: &str) -> Value {
    let job64 = b64(job);
    let r = get(
        c,
        ci(
            s,
            &format!("servers/{INSTANCE}/jobs/{job64}/workspaceId?rootJobId={job64}&ci-job-encoding=base64"),
        ),
    )
    .await;
    assert_eq!(r.status(), StatusCode::OK);
    let workspaces: Vec<String> = r.json().await.unwrap();
    assert_eq!(workspaces, vec![WS.to_string()]);
    let r = send(
        c,
        reqwest::Method::POST,
        format!(
            "{}/internal-api/shared_spaces/1001/workspaces/{}/analytics/ci/{INSTANCE}/{job64}/{build}/logs?ci-job-encoding=base64",
            s.url, workspaces[0]
        ),
        "application/json; charset=UTF-8",
        log.as_bytes(),
    )
    .await;
    assert_eq!(r.status(), StatusCode::OK);
    r.json().await.unwrap()
}

async fn attachment_bytes(s: &TestServer, id: &str) -> String {
    s.client
        .get(s.ws(&format!("attachments/{id}")))
        .header("Accept", "application/octet-stream")
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap()
}

async fn defined_pipeline_gets_one_job_one_build_its_runs_and_log(s: TestServer) {
    s.sign_in().await;
    // The administrator registers the server and defines a pipeline for the job
    // (the Octane UI would; here the entity API).
    let r = s
        .client
        .post(s.ws("ci_servers"))
        .json(&json!({"data": [{"name": "Jenkins", "instance_id": INSTANCE, "server_type": "ci_server"}]}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::CREATED);
    define_pipeline(&s, "Shop CI", JOB).await;

    let c = sdk(&s).await;
    // ConfigurationServiceImpl at start: the version, then the roots.
    let status: Value = get(&c, ci(&s, "servers/connectivity/status"))
        .await
        .json()
        .await
        .unwrap();
    let version: Vec<u32> = status["octaneVersion"]
        .as_str()
        .unwrap()
        .split('.')
        .map(|p| p.parse().unwrap())
        .collect();
    assert!(
        version >= vec![15, 1, 60],
        "numeric, dotted, new-style results"
    );
    let roots = get(&c, ci(&s, &format!("servers/{INSTANCE}/pipeline-roots"))).await;
    assert_eq!(roots.status(), StatusCode::OK);
    let roots: Vec<String> = roots.json().await.unwrap();
    assert_eq!(roots, vec![JOB.to_owned()], "plain ids of root jobs");
    poll(&c, &s).await;

    put_events(&c, &s, vec![event("started", JOB, "42", user_cause())]).await;
    let task = push_results(&c, &s, JOB, "42").await;
    assert_eq!(wait_ci_task(&c, &s, task).await["status"], "success");
    put_events(&c, &s, vec![event("finished", JOB, "42", user_cause())]).await;
    let log = "Started by user admin\nBuilding in workspace /var/jenkins\nFinished: SUCCESS\n";
    let kept = push_log(&c, &s, JOB, "42", log).await;
    // SCMDataServiceImpl, 5 s after the changes: the public API, base64 `=` raw.
    let scm = json!([{"repository": {"type": "git", "url": "https://git.acme/shop.git", "branch": "main"}, "builtRevId": "9f8e7d6c", "commits": [{"time": 1_733_899_000_000_i64, "user": "ann", "userEmail": "ann@acme", "revId": "9f8e7d6c", "parentRevId": "1a2b3c4d", "comment": "fix cart", "changes": [{"type": "edit", "file": "src/Cart.java"}]}], "fileBlameList": null}]);
    let r = send(
        &c,
        reqwest::Method::PUT,
        format!(
            "{}/api/shared_spaces/1001/scm-commits?instance-id={INSTANCE}&job-ci-id={}&build-ci-id=42&ci-job-encoding=base64",
            s.url,
            b64(JOB)
        ),
        "application/json",
        scm.to_string().as_bytes(),
    )
    .await;
    assert_eq!(r.status(), StatusCode::OK);
    // The next poll: nothing new, the server's type and URL kept.
    poll(&c, &s).await;

    let jobs = s.entities("ci_jobs").await;
    assert_eq!(
        jobs["total_count"], 1,
        "one job, not a second named in base64: {jobs}"
    );
    assert_eq!(jobs["data"][0]["ci_id"], JOB);
    let builds = s
        .entities("ci_builds?fields=build_ci_id,status,result,duration,scm_data,ci_job")
        .await;
    assert_eq!(builds["total_count"], 1, "{builds}");
    let build = &builds["data"][0];
    assert_eq!(
        (
            build["build_ci_id"].as_str(),
            build["status"].as_str(),
            build["result"].as_str()
        ),
        (Some("42"), Some("finished"), Some("success"))
    );
    assert_eq!(build["duration"], 16_012);
    let scm_kept: Value = serde_json::from_str(build["scm_data"].as_str().unwrap()).unwrap();
    assert_eq!(scm_kept[0]["builtRevId"], "9f8e7d6c");
    let runs = s.entities("runs?fields=name,status,ci_build").await;
    assert_eq!(runs["total_count"], 2, "{runs}");
    for run in runs["data"].as_array().unwrap() {
        assert_eq!(run["ci_build"]["id"], build["id"], "{run}");
    }
    let server = &s
        .entities("ci_servers?fields=instance_id,server_type,url,plugin_version")
        .await["data"][0];
    assert_reported(server);
    // The log is the build's attachment, byte for byte.
    let attachment_id = kept["id"].as_str().unwrap();
    let query = format!(
        "attachments?fields=name,size,owner_ci_build&query=%22owner_ci_build%20EQ%20%7Bid%20EQ%20{}%7D%22",
        build["id"].as_str().unwrap()
    );
    let logs = s.entities(&query).await;
    assert_eq!(logs["total_count"], 1, "{logs}");
    assert_eq!(logs["data"][0]["id"], attachment_id);
    assert_eq!(logs["data"][0]["name"], "console.log");
    assert_eq!(attachment_bytes(&s, attachment_id).await, log);
    // Sent again (the SDK retries once after an I/O error): still one log.
    let again = push_log(&c, &s, JOB, "42", "second copy\n").await;
    let logs = s.entities(&query).await;
    assert_eq!(logs["total_count"], 1, "{logs}");
    assert_eq!(
        attachment_bytes(&s, again["id"].as_str().unwrap()).await,
        "second copy\n"
    );

    // Another job outside every pipeline: listed nowhere, so the SDK sends
    // nothing for it; a second pipeline makes it a root too.
    define_pipeline(&s, "Shop nightly", DOWNSTREAM).await;
    let roots: Vec<String> = get(&c, ci(&s, &format!("servers/{INSTANCE}/pipeline-roots")))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(roots, vec![JOB.to_owned(), DOWNSTREAM.to_owned()]);
    // Defined mode creates no pipeline on its own.
    put_events(
        &c,
        &s,
        vec![event("started", "acme/job/other", "1", user_cause())],
    )
    .await;
    assert_eq!(s.entities("pipelines").await["total_count"], 2);
}

async fn auto_pipelines_take_every_job(s: TestServer) {
    let c = sdk(&s).await;
    // No filter: JSON `null`, which `ConfigurationServiceImpl` reads into its
    // roots cache as null ("everything is relevant"), clearing an earlier filter.
    let roots = get(&c, ci(&s, &format!("servers/{INSTANCE}/pipeline-roots"))).await;
    assert_eq!(roots.status(), StatusCode::OK);
    assert_eq!(roots.text().await.unwrap(), "null");
    // Polled before the server is registered anywhere.
    poll(&c, &s).await;
    // The first event registers the server (single workspace) and makes the
    // job a pipeline; the downstream job it triggers is a step, not a pipeline.
    let upstream =
        json!([{"type": "upstream", "project": JOB, "buildCiId": "7", "causes": user_cause()}]);
    put_events(
        &c,
        &s,
        vec![
            event("started", JOB, "7", user_cause()),
            event("started", DOWNSTREAM, "3", upstream.clone()),
            event("finished", DOWNSTREAM, "3", upstream),
            event("finished", JOB, "7", user_cause()),
        ],
    )
    .await;
    let task = push_results(&c, &s, DOWNSTREAM, "3").await;
    assert_eq!(wait_ci_task(&c, &s, task).await["status"], "success");
    push_log(&c, &s, DOWNSTREAM, "3", "downstream log\n").await;

    s.sign_in().await;
    let server = &s
        .entities("ci_servers?fields=instance_id,server_type,url,plugin_version")
        .await["data"][0];
    // What the poll and the events said, kept from before the registration.
    assert_eq!(server["instance_id"], INSTANCE);
    assert_reported(server);
    let pipelines = s.entities("pipelines?fields=name,root_job").await;
    assert_eq!(pipelines["total_count"], 1, "{pipelines}");
    assert_eq!(pipelines["data"][0]["name"], "acme/shop ~ ci");
    let jobs = s.entities("ci_jobs?fields=ci_id,pipeline").await;
    assert_eq!(jobs["total_count"], 2, "{jobs}");
    let job = |ci_id: &str| {
        jobs["data"]
            .as_array()
            .unwrap()
            .iter()
            .find(|j| j["ci_id"] == ci_id)
            .cloned()
            .unwrap()
    };
    assert_eq!(pipelines["data"][0]["root_job"]["id"], job(JOB)["id"]);
    assert!(job(DOWNSTREAM)["pipeline"].is_null(), "{jobs}");
    let builds = s
        .entities("ci_builds?fields=build_ci_id,result,ci_job")
        .await;
    assert_eq!(builds["total_count"], 2, "{builds}");
    let runs = s.entities("runs?fields=ci_build").await;
    assert_eq!(runs["total_count"], 2);
    // A second build of the same job keeps the one pipeline; a job whose name
    // is taken by another pipeline gets its server's name added.
    put_events(&c, &s, vec![event("started", JOB, "8", user_cause())]).await;
    define_pipeline(&s, "acme/web", "acme/job/elsewhere").await;
    put_events(
        &c,
        &s,
        vec![event("started", "acme/job/web", "1", user_cause())],
    )
    .await;
    let names: Vec<String> = s.entities("pipelines?fields=name&order_by=id").await["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["name"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(
        names,
        vec![
            "acme/shop ~ ci".to_owned(),
            "acme/web".to_owned(),
            format!("acme/web ({INSTANCE})")
        ]
    );
    // Security scans: not wanted (empty 200), no open issues.
    let r = get(&c, format!("{}/api/shared_spaces/1001/vulnerabilities/preflight?instance-id={INSTANCE}&job-ci-id={}&build-ci-id=7&ci-job-encoding=base64", s.url, b64(JOB))).await;
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(r.text().await.unwrap(), "");
    let r = get(&c, format!("{}/api/shared_spaces/1001/vulnerabilities/remote-issue-ids?instance-id={INSTANCE}&job-ci-id={}&build-ci-id=7&state=open&remote-tag=x&ci-job-encoding=base64", s.url, b64(JOB))).await;
    assert_eq!(r.json::<Value>().await.unwrap(), json!([]));
    // Coverage (a job with the coverage publisher): kept on the build.
    let r = send(
        &c,
        reqwest::Method::PUT,
        ci(&s, &format!("coverage?ci-server-identity={INSTANCE}&ci-job-id={}&ci-build-id=3&file-type=LCOV&ci-job-encoding=base64", b64(DOWNSTREAM).replace('=', "%3D"))),
        "application/json; charset=UTF-8",
        b"TN:\nSF:src/cart.js\nDA:1,1\nend_of_record\n",
    )
    .await;
    assert_eq!(r.status(), StatusCode::OK);
    let kept: Value = r.json().await.unwrap();
    assert_eq!(kept["total_count"], 1);
    assert_eq!(
        attachment_bytes(&s, kept["data"][0]["id"].as_str().unwrap()).await,
        "TN:\nSF:src/cart.js\nDA:1,1\nend_of_record\n"
    );
    // SCM data with the padded id's `=` raw in the query (string concatenation).
    assert!(b64(DOWNSTREAM).ends_with('='));
    let r = send(
        &c,
        reqwest::Method::PUT,
        format!("{}/api/shared_spaces/1001/scm-commits?instance-id={INSTANCE}&job-ci-id={}&build-ci-id=3&ci-job-encoding=base64", s.url, b64(DOWNSTREAM)),
        "application/json",
        br#"[{"repository":{"type":"git","url":"https://git.acme/shop.git","branch":"main"},"builtRevId":"abc123","commits":[]}]"#,
    )
    .await;
    assert_eq!(r.status(), StatusCode::OK);
    let builds = s
        .entities("ci_builds?fields=build_ci_id,scm_data,ci_job")
        .await;
    assert_eq!(
        builds["total_count"], 4,
        "no build under a second, encoded job: {builds}"
    );
    let downstream = builds["data"]
        .as_array()
        .unwrap()
        .iter()
        .find(|b| b["ci_job"]["id"] == job(DOWNSTREAM)["id"])
        .cloned()
        .unwrap();
    assert!(
        downstream["scm_data"].as_str().unwrap().contains("abc123"),
        "{downstream}"
    );
    // The task result the SDK sends back is acknowledged.
    let r = send(
        &c,
        reqwest::Method::PUT,
        ci(&s, &format!("servers/{INSTANCE}/tasks/a1b2/result")),
        "application/json",
        br#"{"id":"a1b2","serviceId":"3f1c","status":200,"headers":{"Content-Type":"application/json"},"body":"{}"}"#,
    )
    .await;
    assert!(r.status().is_success());
}

async fn bad_job_ids_and_refused_files_leave_nothing(s: TestServer) {
    let c = sdk(&s).await;
    put_events(&c, &s, vec![event("started", JOB, "1", user_cause())]).await;
    let paths = [
        format!(
            "servers/{INSTANCE}/jobs/not%20base64!/tests-result-preflight?ci-job-encoding=base64"
        ),
        format!(
            "servers/{INSTANCE}/jobs/{}/tests-result-preflight?ci-job-encoding=rot13",
            b64(JOB)
        ),
        format!("servers/{INSTANCE}/jobs/__8%3D/workspaceId?ci-job-encoding=base64"),
    ];
    for path in paths {
        let r = get(&c, ci(&s, &path)).await;
        assert_eq!(r.status(), StatusCode::BAD_REQUEST, "{path}");
        let body: Value = r.json().await.unwrap();
        assert!(
            body["description"].as_str().unwrap().contains("job"),
            "{body}"
        );
    }
    let r = send(
        &c,
        reqwest::Method::POST,
        ci(&s, &format!("test-results?skip-errors=false&instance-id={INSTANCE}&job-ci-id=%%%&build-ci-id=1&ci-job-encoding=base64")),
        "application/xml",
        results_xml(JOB, "1").as_bytes(),
    )
    .await;
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    let before = s.blob_files().await;
    // A log for a server no workspace knows, in a shared space of two
    // workspaces (so nothing registers it): 404 before a byte is kept.
    s.store
        .ensure_workspace(1001, 1003, "second")
        .await
        .unwrap();
    let r = send(
        &c,
        reqwest::Method::POST,
        format!("{}/internal-api/shared_spaces/1001/workspaces/{WS}/analytics/ci/other-server/{}/1/logs?ci-job-encoding=base64", s.url, b64(JOB)),
        "application/json; charset=UTF-8",
        b"log",
    )
    .await;
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
    // A log that is not gzip although it says so: 400, nothing kept.
    let r = c
        .post(format!("{}/internal-api/shared_spaces/1001/workspaces/{WS}/analytics/ci/{INSTANCE}/{}/1/logs?ci-job-encoding=base64", s.url, b64(JOB)))
        .header("content-encoding", "gzip")
        .body("plain text")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    // A coverage report of an unknown type: 400.
    let r = send(
        &c,
        reqwest::Method::PUT,
        ci(&s, &format!("coverage?ci-server-identity={INSTANCE}&ci-job-id={}&ci-build-id=1&file-type=COBERTURA&ci-job-encoding=base64", b64(JOB))),
        "application/json",
        b"<coverage/>",
    )
    .await;
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    // SCM data that is not an array of objects: 400.
    let r = send(
        &c,
        reqwest::Method::PUT,
        format!("{}/api/shared_spaces/1001/scm-commits?instance-id={INSTANCE}&job-ci-id={}&build-ci-id=1&ci-job-encoding=base64", s.url, b64(JOB)),
        "application/json",
        b"[1,2]",
    )
    .await;
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    assert_eq!(s.blob_files().await, before, "refused files leave no bytes");
    s.sign_in().await;
    assert_eq!(s.entities("attachments").await["total_count"], 0);
    assert_eq!(s.entities("ci_jobs").await["total_count"], 1);
    assert_eq!(s.entities("ci_builds").await["total_count"], 1);
}

/// A log larger than the body limit: 413, no build, no bytes.
/// So is a gzip bomb within it (80 MiB of zeros in under 512 KiB: past
/// 64 MiB inflated, the 200:1 ratio guard stops it).
async fn an_oversize_log_is_413_and_leaves_nothing(s: TestServer) {
    let c = sdk(&s).await;
    let big: Vec<u8> = (0..300_000_u32).flat_map(|i| i.to_le_bytes()).collect();
    let r = c
        .post(format!("{}/internal-api/shared_spaces/1001/workspaces/{WS}/analytics/ci/{INSTANCE}/{}/9/logs?ci-job-encoding=base64", s.url, b64(JOB)))
        .header("HPECLIENTTYPE", "HPE_CI_CLIENT")
        .body(big)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::PAYLOAD_TOO_LARGE);
    let bomb = gzip(&vec![0_u8; 80 << 20]);
    // Under the body limit as sent; the guard, not the limit, refuses it.
    assert!(bomb.len() < 512 << 10, "{}", bomb.len());
    let r = c
        .post(format!("{}/internal-api/shared_spaces/1001/workspaces/{WS}/analytics/ci/{INSTANCE}/{}/9/logs?ci-job-encoding=base64", s.url, b64(JOB)))
        .header("HPECLIENTTYPE", "HPE_CI_CLIENT")
        .header("content-encoding", "gzip")
        .body(bomb)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::PAYLOAD_TOO_LARGE);
    s.sign_in().await;
    assert_eq!(s.entities("attachments").await["total_count"], 0);
    assert_eq!(s.entities("ci_builds").await["total_count"], 0);
    assert_eq!(
        s.entities("ci_servers").await["total_count"],
        0,
        "not registered by a refused log"
    );
    let tmp = s.data_dir().join("blobs").join("tmp").display().to_string();
    let files = s.blob_files().await;
    assert!(
        files.iter().all(|p| !p.starts_with(&tmp)),
        "no staged file left: {files:?}"
    );
}

/// A plugin whose API key's user holds a role only in workspace 1003 of a
/// shared space where both 1002 and 1003 know its server.
async fn ci_data_stays_in_the_callers_workspaces(s: TestServer) {
    let bob = s.tenant_user("bob", "bob-pw", 1003).await;
    for ws in [WS, 1003] {
        s.store
            .create_ci_server(ws, "Jenkins", INSTANCE, "unknown", None)
            .await
            .unwrap();
    }
    s.sign_in().await;
    define_pipeline(&s, "Admin's", JOB).await;
    let c = sdk_as(&s, bob, "bob_sdk").await;
    // Roots of workspace 1002's pipelines are not bob's to see.
    let roots: Value = get(&c, ci(&s, &format!("servers/{INSTANCE}/pipeline-roots")))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(roots, json!([]));
    let admin_roots: Value = get(
        &sdk(&s).await,
        ci(&s, &format!("servers/{INSTANCE}/pipeline-roots")),
    )
    .await
    .json()
    .await
    .unwrap();
    assert_eq!(admin_roots, json!([JOB]));
    poll(&c, &s).await;
    put_events(&c, &s, vec![event("started", JOB, "5", user_cause())]).await;
    let wanted: Vec<String> = get(
        &c,
        ci(
            &s,
            &format!(
                "servers/{INSTANCE}/jobs/{}/workspaceId?ci-job-encoding=base64",
                b64(JOB)
            ),
        ),
    )
    .await
    .json()
    .await
    .unwrap();
    assert_eq!(wanted, vec!["1003".to_owned()]);
    let r = send(
        &c,
        reqwest::Method::POST,
        format!("{}/internal-api/shared_spaces/1001/workspaces/{WS}/analytics/ci/{INSTANCE}/{}/5/logs?ci-job-encoding=base64", s.url, b64(JOB)),
        "application/json; charset=UTF-8",
        b"not for bob",
    )
    .await;
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    // Workspace 1002 is untouched: its server keeps what the admin set, no build.
    let server = &s.entities("ci_servers?fields=server_type,url").await["data"][0];
    assert_eq!(
        (server["server_type"].as_str(), server["url"].as_str()),
        (Some("unknown"), None),
        "{server}"
    );
    assert_eq!(s.entities("ci_builds").await["total_count"], 0);
    assert_eq!(s.entities("attachments").await["total_count"], 0);
    // Workspace 1003 got bob's.
    let other = |path: &str| format!("{}/api/shared_spaces/1001/workspaces/1003/{path}", s.url);
    let server = &s
        .get_json(&other("ci_servers?fields=server_type,url,plugin_version"))
        .await["data"][0];
    assert_reported(server);
    assert_eq!(s.get_json(&other("ci_builds")).await["total_count"], 1);
}

/// Two workspaces hold the same log bytes (one blob, two references):
/// replacing one workspace's log keeps the other's, replacing both frees it.
async fn a_log_shared_by_two_workspaces_survives_one_replacement(s: TestServer) {
    s.store
        .ensure_workspace(1001, 1003, "second")
        .await
        .unwrap();
    for ws in [WS, 1003] {
        s.store
            .create_ci_server(ws, "Jenkins", INSTANCE, "jenkins", None)
            .await
            .unwrap();
    }
    let c = sdk(&s).await;
    put_events(&c, &s, vec![event("started", JOB, "1", user_cause())]).await;
    let log_url = |ws: i64| {
        format!(
            "{}/internal-api/shared_spaces/1001/workspaces/{ws}/analytics/ci/{INSTANCE}/{}/1/logs?ci-job-encoding=base64",
            s.url,
            b64(JOB)
        )
    };
    let mut ids = Vec::new();
    for ws in [WS, 1003] {
        let r = send(
            &c,
            reqwest::Method::POST,
            log_url(ws),
            "application/json",
            b"the same bytes\n",
        )
        .await;
        assert_eq!(r.status(), StatusCode::OK);
        ids.push(
            r.json::<Value>().await.unwrap()["id"]
                .as_str()
                .unwrap()
                .to_owned(),
        );
    }
    let files = s.blob_files().await.len();
    let r = send(
        &c,
        reqwest::Method::POST,
        log_url(WS),
        "application/json",
        b"a newer log\n",
    )
    .await;
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(
        s.blob_files().await.len(),
        files + 1,
        "the shared bytes stay"
    );
    s.sign_in().await;
    let other = format!(
        "{}/api/shared_spaces/1001/workspaces/1003/attachments/{}",
        s.url, ids[1]
    );
    let text = s
        .client
        .get(&other)
        .header("Accept", "application/octet-stream")
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert_eq!(text, "the same bytes\n");
    let r = send(
        &c,
        reqwest::Method::POST,
        log_url(1003),
        "application/json",
        b"a newer log\n",
    )
    .await;
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(
        s.blob_files().await.len(),
        files,
        "the last reference gone, the old bytes are deleted"
    );
}
