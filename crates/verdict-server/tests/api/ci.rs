//! Protocol §4.5, §6 and §8: the Java CI SDK (Jenkins, GitLab) and GitHub
//! Actions request sequences end with runs linked to their CI builds.

use std::time::{Duration, Instant};

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::auth::gzip;
use crate::harness::{TestServer, WS};
use crate::on_both_backends;

on_both_backends!(
    java_ci_sdk_sequence_links_runs_to_builds,
    github_actions_sequence_links_runs_to_builds,
    ci_pushes_resolve_workspaces,
    build_reports_are_validated,
    pipelines_follow_their_rules,
);

pub(crate) fn ci(s: &TestServer, path: &str) -> String {
    format!(
        "{}/internal-api/shared_spaces/1001/analytics/ci/{path}",
        s.url
    )
}

async fn ci_key(s: &TestServer) -> reqwest::Client {
    let admin = s.store.user_by_name("admin").await.unwrap().unwrap();
    s.store
        .insert_api_key(
            admin.id,
            "jenkins",
            "jenkins_key",
            &verdict_server::hash_secret("jk").unwrap(),
        )
        .await
        .unwrap();
    let sdk = reqwest::Client::builder()
        .cookie_store(true)
        .build()
        .unwrap();
    let r = sdk
        .post(format!("{}/authentication/sign_in", s.url))
        .header("Content-Encoding", "gzip")
        .header("Content-Type", "application/json")
        .body(gzip(br#"{"client_id":"jenkins_key","client_secret":"jk"}"#))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    sdk
}

fn payload(build: &str, name: &str) -> String {
    format!(
        r#"<test_result>{build}<test_runs><test_run module="m" package="p" class="C" name="{name}" duration="5" status="Failed" started="1700000000000"/></test_runs></test_result>"#
    )
}

pub(crate) async fn wait_ci_task(client: &reqwest::Client, s: &TestServer, id: i64) -> Value {
    for _ in 0..500 {
        let task: Value = client
            .get(ci(s, &format!("test-results/{id}")))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        if task["status"] != "queued" && task["status"] != "running" {
            return task;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    panic!("CI task {id} did not finish");
}

async fn java_ci_sdk_sequence_links_runs_to_builds(s: TestServer) {
    let sdk = ci_key(&s).await;
    let status: Value = sdk
        .get(ci(&s, "servers/connectivity/status"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(status["octaneVersion"].as_str().unwrap() >= "15.1.60");
    assert!(status["supportedSdkVersion"].is_string());
    // GitLab lists workspaces first.
    let spaces: Value = sdk
        .get(format!(
            "{}/api/shared_spaces/1001/workspaces?fields=name",
            s.url
        ))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(spaces["data"][0]["id"], "1002");
    // The background long-poll is held, then 204 (the harness holds 300 ms).
    let started = Instant::now();
    let r = sdk.get(ci(&s, "servers/jenkins-1/tasks?self-type=jenkins&sdk-version=2.0&plugin-version=6.1&client-id=jenkins_key")).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::NO_CONTENT);
    assert!(started.elapsed() >= Duration::from_millis(250));
    // Build events (gzip), for a server no workspace knows yet: auto-registered in the only workspace.
    let events = json!({
        "server": {"type": "jenkins", "version": "2.440", "url": "http://jenkins", "instanceId": "jenkins-1", "instanceIdFrom": 1, "sendingTime": 1},
        "events": [
            {"eventType": "started", "buildCiId": "42", "project": "job-a", "projectDisplayName": "Job A", "number": "42", "startTime": 1_700_000_000_000_i64, "causes": [], "parameters": [{"name": "p", "value": "v"}]},
            {"eventType": "queued", "buildCiId": "43", "project": "job-a"},
            {"eventType": "finished", "buildCiId": "42", "project": "job-a", "number": "42", "duration": 60_000, "result": "SUCCESS", "someNewField": true}
        ]
    });
    let r = sdk
        .put(ci(&s, "events?ci_server_identity=jenkins-1"))
        .header("Content-Encoding", "gzip")
        .body(gzip(events.to_string().as_bytes()))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    s.sign_in().await;
    let builds = s.entities("ci_builds").await;
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
    assert_eq!(build["duration"], 60_000);
    assert_eq!(build["ci_job"]["name"], "Job A");
    let server = &s.entities("ci_servers").await["data"][0];
    assert_eq!(
        (
            server["instance_id"].as_str(),
            server["server_type"].as_str()
        ),
        (Some("jenkins-1"), Some("jenkins"))
    );
    assert_eq!(
        (server["plugin_version"].as_str(), server["url"].as_str()),
        (Some("6.1"), Some("http://jenkins")),
        "polled before registration: the poll's plugin version and the event's URL are kept"
    );
    // Preflight, URL-encoded and base64.
    let preflight = sdk
        .get(ci(
            &s,
            "servers/jenkins-1/jobs/job-a/tests-result-preflight",
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(preflight.text().await.unwrap(), "true");
    let encoded = sdk
        .get(ci(
            &s,
            "servers/jenkins-1/jobs/am9iLWE=/tests-result-preflight?isBase64=true&rootJobId=x",
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(encoded.text().await.unwrap(), "true");
    // The results, gzipped, build context in the query.
    let xml = payload(
        r#"<build server_id="jenkins-1" job_id="job-a" build_id="42" job_name="Job A" build_name="42"/>"#,
        "t1",
    );
    let r = sdk
        .post(ci(
            &s,
            "test-results?skip-errors=false&instance-id=jenkins-1&job-ci-id=job-a&build-ci-id=42",
        ))
        .header("Content-Type", "application/xml")
        .header("Content-Encoding", "gzip")
        .body(gzip(xml.as_bytes()))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::ACCEPTED);
    let id = r.json::<Value>().await.unwrap()["id"].as_i64().unwrap();
    assert_eq!(wait_ci_task(&sdk, &s, id).await["status"], "success");
    let run = &s.entities("runs").await["data"][0];
    assert_eq!(
        run["ci_build"]["id"], build["id"],
        "the run is linked to the reported build"
    );
    // Polling again records the plugin version.
    sdk.get(ci(
        &s,
        "servers/jenkins-1/tasks?self-type=jenkins&sdk-version=&plugin-version=6.2",
    ))
    .send()
    .await
    .unwrap();
    assert_eq!(
        s.entities("ci_servers").await["data"][0]["plugin_version"],
        "6.2"
    );
}

async fn github_actions_sequence_links_runs_to_builds(s: TestServer) {
    s.sign_in().await;
    let gha = &s.client;
    let get = |path: String| async move {
        let r = gha
            .get(path)
            .header("ALM-OCTANE-TECH-PREVIEW", "true")
            .header("ALM-OCTANE-PRIVATE", "true")
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::OK);
        r.json::<Value>().await.unwrap()
    };
    let post = |path: String, body: Value| async move {
        let r = gha
            .post(path)
            .header("ALM-OCTANE-TECH-PREVIEW", "true")
            .header("ALM-OCTANE-PRIVATE", "true")
            .json(&body)
            .send()
            .await
            .unwrap();
        let status = r.status();
        (status, r.json::<Value>().await.unwrap())
    };
    get(ci(&s, "servers/connectivity/status")).await;
    let q = "ci_servers?fields=instance_id,plugin_version,url&query=%22instance_id%20EQ%20%5Egha-acme%5E%22";
    assert_eq!(get(s.ws(q)).await["total_count"], 0);
    let (status, server) = post(s.ws("ci_servers?fields=instance_id"), json!({"data": [{"name": "GHA acme", "instance_id": "gha-acme", "server_type": "github_actions", "url": "https://github.com/acme"}]})).await;
    assert_eq!(status, StatusCode::CREATED, "{server}");
    let server_id = server["data"][0]["id"].as_str().unwrap().to_owned();
    assert_eq!(get(s.ws(q)).await["total_count"], 1);
    let started = Instant::now();
    let r = gha
        .get(ci(
            &s,
            "servers/gha-acme/tasks?self-type=github_actions&sdk-version=&plugin-version=1.0",
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::NO_CONTENT);
    assert!(
        started.elapsed() < Duration::from_millis(250),
        "GitHub Actions is answered at once"
    );
    let toggles = get(format!(
        "{}/internal-api/shared_spaces/1001/workspaces/{WS}/analytics/ci/github_feature_toggles",
        s.url
    ))
    .await;
    assert_eq!(toggles, json!({}));
    let pq = format!(
        "pipelines?fields=name,ci_server&query=%22name%20EQ%20%5Ebuild.yml%5E%3Bci_server%20EQ%20%7Bid%20EQ%20%5E{server_id}%5E%7D%22"
    );
    assert_eq!(get(s.ws(&pq)).await["total_count"], 0);
    let (status, pipeline) = post(s.ws("pipelines"), json!({"data": [{"name": "build.yml", "ci_server": {"type": "ci_server", "id": server_id}, "root_job_ci_id": "acme/build.yml", "jobs": [{"name": "build.yml", "jobCiId": "acme/build.yml", "parameters": []}, {"name": "test", "jobCiId": "acme/build.yml/test"}]}]})).await;
    assert_eq!(status, StatusCode::CREATED, "{pipeline}");
    assert_eq!(pipeline["data"][0]["root_job"]["name"], "build.yml");
    assert_eq!(get(s.ws(&pq)).await["total_count"], 1);
    let jq = format!(
        "ci_jobs?query=%22ci_id%20EQ%20%5Eacme%2Fbuild.yml%5E%3Bci_server%20EQ%20%7Bid%20EQ%20%5E{server_id}%5E%7D%22"
    );
    assert_eq!(get(s.ws(&jq)).await["total_count"], 1);
    assert_eq!(
        get(s.ws("pipeline_nodes?fields=ci_job")).await["total_count"],
        2
    );
    // Events, then the results (plain XML, skip-errors=true, build with all 7 attributes).
    let events = json!({"server": {"type": "github_actions", "instanceId": "gha-acme", "url": "https://github.com/acme"}, "events": [
        {"eventType": "started", "buildCiId": "900", "project": "acme/build.yml", "projectDisplayName": "build.yml", "number": "900", "startTime": 1_700_000_000_000_i64}]});
    assert_eq!(
        gha.put(ci(&s, "events"))
            .json(&events)
            .send()
            .await
            .unwrap()
            .status(),
        StatusCode::OK
    );
    let xml = payload(
        r#"<build server_id="gha-acme" job_id="acme/build.yml" build_id="900" job_name="build.yml" build_name="900" sub_type="" artifact_id=""/>"#,
        "gha-test",
    );
    let r = gha.post(ci(&s, "test-results?skip-errors=true&instance-id=gha-acme&job-ci-id=acme%2Fbuild.yml&build-ci-id=900")).body(xml).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::ACCEPTED);
    let id = r.json::<Value>().await.unwrap()["id"].as_i64().unwrap();
    assert_eq!(wait_ci_task(gha, &s, id).await["status"], "success");
    let run = &s.entities("runs").await["data"][0];
    assert_eq!(run["ci_build"]["name"], "900");
    let r = gha
        .put(s.ws("analytics/ci/pull-requests"))
        .json(&json!({"pullRequests": []}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.json::<Value>().await.unwrap(), json!({}));
}

async fn ci_pushes_resolve_workspaces(s: TestServer) {
    s.sign_in().await;
    s.store
        .ensure_workspace(1001, 2002, "second")
        .await
        .unwrap();
    let push = |query: &'static str, xml: String| {
        let client = s.client.clone();
        let url = ci(&s, query);
        async move { client.post(url).body(xml).send().await.unwrap() }
    };
    // Nobody knows the server, two workspaces: failed, preflight false.
    let r = push(
        "test-results?skip-errors=true&instance-id=ghost&job-ci-id=j&build-ci-id=1",
        payload("", "a"),
    )
    .await;
    let id = r.json::<Value>().await.unwrap()["id"].as_i64().unwrap();
    let task = wait_ci_task(&s.client, &s, id).await;
    assert_eq!(task["status"], "failed");
    assert_eq!(
        task["errorDetails"],
        "global: no workspace knows ci server 'ghost'"
    );
    let pre = s
        .client
        .get(ci(&s, "servers/ghost/jobs/j/tests-result-preflight"))
        .send()
        .await
        .unwrap();
    assert_eq!(pre.text().await.unwrap(), "false");
    // Known in both workspaces, the job only in 2002: results go there only.
    s.store
        .create_ci_server(WS, "srv", "srv", "jenkins", None)
        .await
        .unwrap();
    let other = s
        .store
        .create_ci_server(2002, "srv", "srv", "jenkins", None)
        .await
        .unwrap();
    s.store
        .upsert_ci_job(2002, other, "only-here", None)
        .await
        .unwrap();
    let r = push(
        "test-results?skip-errors=false&instance-id=srv&job-ci-id=only-here&build-ci-id=7",
        payload("", "b"),
    )
    .await;
    let id = r.json::<Value>().await.unwrap()["id"].as_i64().unwrap();
    assert_eq!(wait_ci_task(&s.client, &s, id).await["status"], "success");
    assert_eq!(s.entities("runs").await["total_count"], 0);
    let second: Value = s
        .client
        .get(format!(
            "{}/api/shared_spaces/1001/workspaces/2002/runs",
            s.url
        ))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(second["total_count"], 1);
    // No job known anywhere: fan out to both workspaces in one task.
    let r = push(
        "test-results?skip-errors=false&instance-id=srv&job-ci-id=new-job&build-ci-id=8",
        payload("", "c"),
    )
    .await;
    let id = r.json::<Value>().await.unwrap()["id"].as_i64().unwrap();
    assert_eq!(wait_ci_task(&s.client, &s, id).await["status"], "success");
    assert_eq!(s.entities("runs").await["total_count"], 1);
    // Build context from the body when the query has none; neither → 400.
    let with_build = payload(
        r#"<build server_id="srv" job_id="only-here" build_id="9"/>"#,
        "d",
    );
    let r = push("test-results?skip-errors=false", with_build).await;
    assert_eq!(r.status(), StatusCode::ACCEPTED);
    let r = push(
        "test-results?skip-errors=false&instance-id=srv",
        payload("", "e"),
    )
    .await;
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
}

async fn build_reports_are_validated(s: TestServer) {
    s.sign_in().await;
    s.store
        .create_ci_server(WS, "My_CICD_Server", "my-ci", "ci_server", None)
        .await
        .unwrap();
    let url = s.ws("analytics/ci/builds");
    let good = json!({"serverCiId": "my-ci", "jobCiId": "deploy", "buildCiId": "b-1", "startTime": 1_456_679_398_786_i64, "duration": 120_490, "result": "success", "parameters": [], "causes": []});
    let r = s.client.put(&url).json(&good).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let build: Value = r.json().await.unwrap();
    assert_eq!(
        (
            build["type"].as_str(),
            build["name"].as_str(),
            build["status"].as_str()
        ),
        (Some("ci_build"), Some("b-1"), Some("finished"))
    );
    for (field, value) in [
        ("result", json!("green")),
        ("startTime", Value::Null),
        ("serverCiId", json!("unknown-server")),
    ] {
        let mut bad = good.clone();
        bad[field] = value;
        let r = s.client.put(&url).json(&bad).send().await.unwrap();
        assert_eq!(r.status(), StatusCode::BAD_REQUEST, "{field}");
        assert!(r.json::<Value>().await.unwrap()["description"].is_string());
    }
}

async fn pipelines_follow_their_rules(s: TestServer) {
    s.sign_in().await;
    let (status, _) = post(&s, "ci_servers", json!({"data": [{"name": "My_CICD_Server", "url": "http://ci", "server_type": "ci_server"}]})).await;
    assert_eq!(status, StatusCode::CREATED);
    let (status, dup) = post(&s, "ci_servers", json!({"data": [{"name": "My_CICD_Server", "url": "http://ci", "server_type": "ci_server"}]})).await;
    assert_eq!(
        status,
        StatusCode::CONFLICT,
        "instance_id (= name) is unique: {dup}"
    );
    let documented = json!({"data": [{"name": "P1", "server_ci_id": "My_CICD_Server", "root_job_ci_id": "root", "jobs": [{}, {}]}]});
    let (status, created) = post(&s, "pipelines", documented.clone()).await;
    assert_eq!(status, StatusCode::CREATED, "{created}");
    assert_eq!(created["data"][0]["root_job"]["name"], "root");
    let (status, err) = post(&s, "pipelines", documented).await;
    assert_eq!(status, StatusCode::CONFLICT);
    assert_eq!(err["business_error"], true);
    let (status, _) = post(&s, "pipelines", json!({"data": [{"name": "P2", "server_ci_id": "My_CICD_Server", "root_job_ci_id": "root"}]})).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "jobs are required");
    let (status, _) = post(&s, "pipelines", json!({"data": [{"name": "P3", "server_ci_id": "nope", "root_job_ci_id": "root", "jobs": []}]})).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "unknown server");
    // Azure DevOps' bulk update carries an extra total_count.
    let id = created["data"][0]["id"].as_str().unwrap();
    let r = s
        .client
        .put(s.ws("pipelines"))
        .json(&json!({"data": [{"id": id, "name": "P1 renamed"}], "total_count": 1}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(
        r.json::<Value>().await.unwrap()["data"][0]["name"],
        "P1 renamed"
    );
}

async fn post(s: &TestServer, path: &str, body: Value) -> (StatusCode, Value) {
    let r = s.client.post(s.ws(path)).json(&body).send().await.unwrap();
    let status = r.status();
    (status, r.json().await.unwrap())
}
