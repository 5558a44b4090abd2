//! Issue "Hostile input": shared blobs, atomic imports, nothing written for
//! refused requests, and Test Center ids that do not tell tenants apart.
//! Each case sends the input the attack report describes.

use reqwest::StatusCode;
use reqwest::multipart::{Form, Part};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use crate::harness::{ADMIN_PASSWORD, TestServer};
use crate::on_every_store;

on_every_store!(
    a_tenant_deleting_the_same_bytes_keeps_the_other_tenants_screenshot,
    concurrent_uploads_and_deletes_of_the_same_bytes_lose_nothing,
    a_rejected_import_stores_nothing,
    refused_uploads_leave_no_files,
    test_center_ids_of_other_tenants_look_unknown,
    the_sweep_removes_what_nothing_uses_and_keeps_live_uploads,
);

fn basic(user: &str, password: &str) -> String {
    use base64::Engine;
    format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD.encode(format!("{user}:{password}"))
    )
}

fn admin_auth() -> String {
    basic("admin", ADMIN_PASSWORD)
}

fn sha256_hex(bytes: &[u8]) -> String {
    Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

async fn tc_post(s: &TestServer, auth: &str, path: &str, body: Value) -> (StatusCode, Value) {
    let r = s
        .client
        .post(format!("{}/upload/{path}", s.url))
        .header("Authorization", auth)
        .json(&body)
        .send()
        .await
        .unwrap();
    let status = r.status();
    let text = r.text().await.unwrap();
    (status, serde_json::from_str(&text).unwrap_or(Value::Null))
}

/// A suite run in project `project`, reported by the admin.
async fn suite_in(s: &TestServer, project: &str) -> (i64, i64) {
    let (status, suite) = tc_post(
        s,
        &admin_auth(),
        "suites",
        json!({"project": project, "test": {"name": "suite"}}),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{suite}");
    (
        suite["runId"].as_i64().unwrap(),
        suite["reportId"].as_i64().unwrap(),
    )
}

async fn screenshot_event(s: &TestServer, auth: &str, run: i64, png: &[u8]) -> (StatusCode, Value) {
    let form = Form::new()
        .text(
            "eventData",
            json!([{"runId": run, "type": "FAIL", "message": "broke", "screenshot": "shot.png"}])
                .to_string(),
        )
        .part(
            "attachments[]",
            Part::bytes(png.to_vec())
                .file_name("shot.png")
                .mime_str("image/png")
                .unwrap(),
        );
    let r = s
        .client
        .post(format!("{}/upload/events", s.url))
        .header("Authorization", auth)
        .multipart(form)
        .send()
        .await
        .unwrap();
    let status = r.status();
    (status, r.json().await.unwrap_or(Value::Null))
}

/// Creates a defect in `workspace` as `user`; returns its id.
async fn defect(s: &TestServer, user: &str, password: &str, workspace: i64) -> String {
    let r = reqwest::Client::new()
        .post(format!(
            "{}/api/shared_spaces/1001/workspaces/{workspace}/defects",
            s.url
        ))
        .basic_auth(user, Some(password))
        .json(&json!({"data": [{"name": "mine"}]}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::CREATED);
    let body: Value = r.json().await.unwrap();
    body["data"][0]["id"].as_str().unwrap().to_owned()
}

async fn upload_attachment(
    client: &reqwest::Client,
    s: &TestServer,
    (user, password): (&str, &str),
    workspace: i64,
    owner: &str,
    bytes: &[u8],
) -> (StatusCode, Value) {
    let r = client
        .post(format!(
            "{}/api/shared_spaces/1001/workspaces/{workspace}/attachments?name=shot.png&owner_work_item={owner}",
            s.url
        ))
        .basic_auth(user, Some(password))
        .header("Content-Type", "application/octet-stream")
        .body(bytes.to_vec())
        .send()
        .await
        .unwrap();
    let status = r.status();
    (status, r.json().await.unwrap_or(Value::Null))
}

async fn delete_attachment(
    client: &reqwest::Client,
    s: &TestServer,
    (user, password): (&str, &str),
    workspace: i64,
    id: &str,
) -> StatusCode {
    client
        .delete(format!(
            "{}/api/shared_spaces/1001/workspaces/{workspace}/attachments/{id}",
            s.url
        ))
        .basic_auth(user, Some(password))
        .send()
        .await
        .unwrap()
        .status()
}

async fn a_tenant_deleting_the_same_bytes_keeps_the_other_tenants_screenshot(s: TestServer) {
    let png = b"\x89PNG\r\n\x1a\n shop's screenshot".to_vec();
    let (run, _) = suite_in(&s, "Shop").await;
    let (status, reply) = screenshot_event(&s, &admin_auth(), run, &png).await;
    assert_eq!(status, StatusCode::MULTI_STATUS);
    assert_eq!(reply[0]["code"], 201, "{reply}");
    assert!(s.has_blob(&png).await);
    // Eve, a member of another tenant, uploads the same bytes and deletes them.
    s.tenant_user("eve", "eve-pw", 3003).await;
    let owner = defect(&s, "eve", "eve-pw", 3003).await;
    let client = reqwest::Client::new();
    let (status, created) =
        upload_attachment(&client, &s, ("eve", "eve-pw"), 3003, &owner, &png).await;
    assert_eq!(status, StatusCode::CREATED, "{created}");
    let id = created["data"][0]["id"].as_str().unwrap().to_owned();
    assert_eq!(s.store.blob_refs(&sha256_hex(&png)).await.unwrap(), 2);
    assert_eq!(
        delete_attachment(&client, &s, ("eve", "eve-pw"), 3003, &id).await,
        StatusCode::OK
    );
    assert!(
        s.has_blob(&png).await,
        "Shop's screenshot must survive another tenant's delete"
    );
    assert_eq!(s.store.blob_refs(&sha256_hex(&png)).await.unwrap(), 1);
    // The last reference going takes the file with it.
    let (status, created) =
        upload_attachment(&client, &s, ("eve", "eve-pw"), 3003, &owner, b"only eve's").await;
    assert_eq!(status, StatusCode::CREATED);
    let id = created["data"][0]["id"].as_str().unwrap().to_owned();
    assert!(s.has_blob(b"only eve's").await);
    delete_attachment(&client, &s, ("eve", "eve-pw"), 3003, &id).await;
    assert!(!s.has_blob(b"only eve's").await);
    assert_eq!(
        s.store.blob_refs(&sha256_hex(b"only eve's")).await.unwrap(),
        0
    );
}

async fn concurrent_uploads_and_deletes_of_the_same_bytes_lose_nothing(s: TestServer) {
    let bytes = b"the same bytes, uploaded and deleted at once".to_vec();
    s.tenant_user("ann", "ann-pw", 3101).await;
    s.tenant_user("bob", "bob-pw", 3102).await;
    let ann_owner = defect(&s, "ann", "ann-pw", 3101).await;
    let bob_owner = defect(&s, "bob", "bob-pw", 3102).await;
    // Ann keeps one copy for the whole test.
    let client = reqwest::Client::new();
    let (status, _) =
        upload_attachment(&client, &s, ("ann", "ann-pw"), 3101, &ann_owner, &bytes).await;
    assert_eq!(status, StatusCode::CREATED);
    // Two loops race: each uploads the same bytes, reads its copy back, deletes it.
    let racer = |user: &'static str, password: &'static str, ws: i64, owner: String| {
        let s_url = s.url.clone();
        let bytes = bytes.clone();
        async move {
            let client = reqwest::Client::new();
            for round in 0..25 {
                let r = client
                    .post(format!("{s_url}/api/shared_spaces/1001/workspaces/{ws}/attachments?name=x&owner_work_item={owner}"))
                    .basic_auth(user, Some(password))
                    .body(bytes.clone())
                    .send()
                    .await
                    .unwrap();
                assert_eq!(r.status(), StatusCode::CREATED, "{user} round {round}");
                let body: Value = r.json().await.unwrap();
                let id = body["data"][0]["id"].as_str().unwrap().to_owned();
                let url =
                    format!("{s_url}/api/shared_spaces/1001/workspaces/{ws}/attachments/{id}");
                let back = client
                    .get(&url)
                    .basic_auth(user, Some(password))
                    .header("Accept", "application/octet-stream")
                    .send()
                    .await
                    .unwrap();
                assert_eq!(
                    back.status(),
                    StatusCode::OK,
                    "{user} round {round}: content lost"
                );
                assert_eq!(back.bytes().await.unwrap().as_ref(), bytes.as_slice());
                let gone = client
                    .delete(&url)
                    .basic_auth(user, Some(password))
                    .send()
                    .await
                    .unwrap();
                assert_eq!(gone.status(), StatusCode::OK);
            }
        }
    };
    // A third loop uploads and deletes with no pause, so deletes of the last
    // reference and new uploads of the same key really interleave.
    tokio::join!(
        racer("bob", "bob-pw", 3102, bob_owner.clone()),
        racer("bob", "bob-pw", 3102, bob_owner),
    );
    assert!(s.has_blob(&bytes).await, "Ann's copy must survive");
    assert_eq!(s.store.blob_refs(&sha256_hex(&bytes)).await.unwrap(), 1);
    // Ann's copy still downloads whole.
    let list: Value = client
        .get(format!(
            "{}/api/shared_spaces/1001/workspaces/3101/attachments",
            s.url
        ))
        .basic_auth("ann", Some("ann-pw"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(list["total_count"], 1, "{list}");
}

const GOOD_JUNIT: &str = r#"<?xml version="1.0"?>
<testsuite name="shop" tests="2" failures="1">
  <testcase classname="shop.Cart" name="adds" time="0.1"/>
  <testcase classname="shop.Cart" name="removes" time="0.1"><failure message="boom">trace</failure></testcase>
</testsuite>"#;

async fn import(s: &TestServer, project: &str, files: &[(&str, Vec<u8>)]) -> (StatusCode, Value) {
    let mut form = Form::new()
        .text("project", project.to_owned())
        .text("batch", "b1");
    for (name, bytes) in files {
        form = form.part(
            "result[]",
            Part::bytes(bytes.clone()).file_name((*name).to_owned()),
        );
    }
    let r = s
        .client
        .post(format!("{}/import", s.url))
        .header("Authorization", admin_auth())
        .multipart(form)
        .send()
        .await
        .unwrap();
    let status = r.status();
    (status, r.json().await.unwrap_or(Value::Null))
}

async fn a_rejected_import_stores_nothing(s: TestServer) {
    let truncated = &GOOD_JUNIT.as_bytes()[..GOOD_JUNIT.len() - 40];
    let nested = format!(
        "<testsuites>{}<testcase name=\"deep\"/>{}</testsuites>",
        "<testsuite name=\"level-with-a-name\">".repeat(2_000),
        "</testsuite>".repeat(2_000)
    );
    let second_files: [(&str, Vec<u8>); 5] = [
        ("truncated.xml", truncated.to_vec()),
        ("notes.txt", b"just some notes, no report".to_vec()),
        (
            "doctype.xml",
            b"<?xml version=\"1.0\"?><!DOCTYPE x [<!ENTITY a \"b\">]><testsuite name=\"x\"><testcase name=\"a\"/></testsuite>".to_vec(),
        ),
        ("random.bin", (0..4096_u32).map(|i| (i * 7919 % 251) as u8).collect()),
        ("nested.xml", nested.into_bytes()),
    ];
    for (name, bad) in second_files {
        let (status, reply) = import(
            &s,
            "Atomic",
            &[("good.xml", GOOD_JUNIT.as_bytes().to_vec()), (name, bad)],
        )
        .await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{name}: {reply}");
        assert!(
            reply["message"].as_str().unwrap().contains(name),
            "{name}: the error names the file: {reply}"
        );
        // Nothing stayed: not the project, not a batch, not a run.
        s.sign_in().await;
        let spaces: Value = s
            .get_json(&format!(
                "{}/api/shared_spaces/1001/workspaces?query=%22name%20EQ%20%5EAtomic%5E%22",
                s.url
            ))
            .await;
        assert_eq!(spaces["total_count"], 0, "{name}: project left behind");
    }
    // The good file alone then imports in full, as new (its hash was not kept).
    let (status, reply) = import(
        &s,
        "Atomic",
        &[("good.xml", GOOD_JUNIT.as_bytes().to_vec())],
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{reply}");
    assert_eq!(
        (reply["cases"].as_i64(), reply["failed"].as_i64()),
        (Some(2), Some(1))
    );
    assert_eq!(reply["alreadyImported"], json!([]));
    // A failure in a project that exists leaves its runs untouched too.
    let ws = s.workspace_named("Atomic").await;
    let runs_url = format!("{}/api/shared_spaces/1001/workspaces/{ws}/runs", s.url);
    let before = s.get_json(&runs_url).await["total_count"].clone();
    let (status, _) = import(
        &s,
        "Atomic",
        &[
            (
                "other.xml",
                GOOD_JUNIT.replace("shop", "other").into_bytes(),
            ),
            ("truncated.xml", truncated.to_vec()),
        ],
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(s.get_json(&runs_url).await["total_count"], before);
}

/// Staged uploads must be gone once the refusal is sent.
async fn assert_no_blob_files(s: &TestServer, case: &str) {
    let files = s.blob_files().await;
    assert!(files.is_empty(), "{case}: files left behind: {files:?}");
}

async fn refused_uploads_leave_no_files(s: TestServer) {
    let (run, _) = suite_in(&s, "Files").await;
    let events_url = format!("{}/upload/events", s.url);
    // 300 files and no eventData.
    let mut form = Form::new();
    for i in 0..300 {
        form = form.part(
            "attachments[]",
            Part::bytes(format!("file {i}").into_bytes()).file_name(format!("f{i}.txt")),
        );
    }
    let r = s
        .client
        .post(&events_url)
        .header("Authorization", admin_auth())
        .multipart(form)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    assert_no_blob_files(&s, "no eventData").await;
    // A screenshot that is not an image.
    let form = Form::new()
        .text(
            "eventData",
            json!([{"runId": run, "type": "FAIL", "screenshot": "page.html"}]).to_string(),
        )
        .part(
            "attachments[]",
            Part::bytes(b"<html>not an image</html>".to_vec())
                .file_name("page.html")
                .mime_str("text/html")
                .unwrap(),
        );
    let r = s
        .client
        .post(&events_url)
        .header("Authorization", admin_auth())
        .multipart(form)
        .send()
        .await
        .unwrap();
    let body: Value = r.json().await.unwrap();
    assert_eq!(body[0]["code"], 400, "{body}");
    assert_no_blob_files(&s, "text/html screenshot").await;
    // A user with no upload rights on the run's project.
    s.tenant_user("mallory", "m-pw", 3201).await;
    let (status, reply) = screenshot_event(&s, &basic("mallory", "m-pw"), run, b"\x89PNG x").await;
    assert_eq!(status, StatusCode::MULTI_STATUS);
    assert_eq!(reply[0]["code"], 403, "{reply}");
    assert_no_blob_files(&s, "no upload rights").await;
    // Octane attachments whose owner does not exist, or lies in another tenant.
    let theirs = defect(&s, "mallory", "m-pw", 3201).await;
    s.sign_in().await;
    for owner in ["987654321".to_owned(), theirs] {
        let r = s
            .client
            .post(s.ws(&format!("attachments?name=a.txt&owner_work_item={owner}")))
            .body(vec![b'x'; 1_000])
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::BAD_REQUEST, "owner {owner}");
        assert_no_blob_files(&s, "unknown owner").await;
    }
}

/// Posts `body(id)` for a foreign id and for one that does not exist; returns
/// both statuses and both messages with the id replaced by `N`.
async fn foreign_and_unknown(
    s: &TestServer,
    auth: &str,
    path: &str,
    foreign_id: i64,
    body: impl Fn(i64) -> Value,
) -> ((StatusCode, String), (StatusCode, String)) {
    let mut answers = Vec::new();
    for id in [foreign_id, 99_999_999] {
        let (status, reply) = tc_post(s, auth, path, body(id)).await;
        let message = reply["message"].as_str().unwrap_or_default();
        answers.push((status, message.replace(&id.to_string(), "N")));
    }
    let unknown = answers.pop().unwrap();
    (answers.pop().unwrap(), unknown)
}

async fn test_center_ids_of_other_tenants_look_unknown(s: TestServer) {
    let (run, report) = suite_in(&s, "Private").await;
    s.tenant_user("eve", "eve-pw", 3301).await;
    let eve = basic("eve", "eve-pw");
    // An event, a case and a report id of another tenant: answered exactly
    // like ids that do not exist.
    let (foreign, unknown) = foreign_and_unknown(
        &s,
        &eve,
        "events",
        run,
        |id| json!({"runId": id, "type": "PASS"}),
    )
    .await;
    assert_eq!(foreign.0, StatusCode::FORBIDDEN, "{}", foreign.1);
    assert_eq!(foreign.0, unknown.0);
    assert_eq!(foreign.1, unknown.1);
    let (foreign, unknown) = foreign_and_unknown(
        &s,
        &eve,
        "cases",
        run,
        |id| json!({"runId": id, "test": {"name": "c"}}),
    )
    .await;
    assert_eq!(
        (foreign.0, unknown.0),
        (StatusCode::FORBIDDEN, StatusCode::FORBIDDEN)
    );
    let (foreign, unknown) = foreign_and_unknown(
        &s,
        &eve,
        "suites",
        report,
        |id| json!({"reportId": id, "test": {"name": "s"}}),
    )
    .await;
    assert_eq!(
        (foreign.0, unknown.0),
        (StatusCode::NOT_FOUND, StatusCode::NOT_FOUND)
    );
    assert_eq!(foreign.1, unknown.1);
    // Inside an array the refusal is a 403 entry, not a 400.
    let (status, reply) =
        tc_post(&s, &eve, "events", json!([{"runId": run, "type": "PASS"}])).await;
    assert_eq!(status, StatusCode::MULTI_STATUS);
    assert_eq!(reply[0]["code"], 403);
}

/// What a crash leaves behind is swept when a node starts (and every ten
/// minutes): bytes written by an upload whose node died before its
/// transaction (a pin older than an hour), and bytes whose last reference
/// was dropped by a commit the removal never followed. Bytes still
/// referenced, and bytes of an upload in progress (a fresh pin), stay.
async fn the_sweep_removes_what_nothing_uses_and_keeps_live_uploads(s: TestServer) {
    s.tenant_user("sam", "sam-pw", 3201).await;
    let owner = defect(&s, "sam", "sam-pw", 3201).await;
    let client = reqwest::Client::new();
    let cases: [&[u8]; 4] = [
        b"dead upload",
        b"removal never ran",
        b"upload in progress",
        b"kept",
    ];
    let mut ids = Vec::new();
    for bytes in cases {
        let (status, created) =
            upload_attachment(&client, &s, ("sam", "sam-pw"), 3201, &owner, bytes).await;
        assert_eq!(status, StatusCode::CREATED, "{created}");
        ids.push(created["data"][0]["id"].as_str().unwrap().to_owned());
        assert!(s.has_blob(bytes).await);
    }
    // The states a crash leaves, written as the server would have left them.
    let pool = sqlx::AnyPool::connect(&s.database_url).await.unwrap();
    let now = verdict_store::now_ms();
    for (i, pinned_at) in [(0, Some(now - 2 * 3_600_000)), (1, None), (2, Some(now))] {
        sqlx::query(sqlx::AssertSqlSafe(format!(
            "DELETE FROM attachments WHERE id = {}",
            ids[i]
        )))
        .execute(&pool)
        .await
        .unwrap();
        let (pins, at) = pinned_at.map_or((0, 0), |at| (1, at));
        sqlx::query("UPDATE blobs SET refs = 0, pins = $1, pinned_at = $2 WHERE blob_key = $3")
            .bind(pins)
            .bind(at)
            .bind(sha256_hex(cases[i]))
            .execute(&pool)
            .await
            .unwrap();
    }
    pool.close().await;
    // A node starting sweeps.
    let (_node, _dir) = s.spawn_node().await;
    for _ in 0..200 {
        if !s.has_blob(cases[0]).await && !s.has_blob(cases[1]).await {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    assert!(
        !s.has_blob(cases[0]).await,
        "a dead upload's bytes are swept"
    );
    assert!(!s.has_blob(cases[1]).await, "unreferenced bytes are swept");
    assert!(
        s.has_blob(cases[2]).await,
        "an upload in progress keeps its bytes"
    );
    assert!(s.has_blob(cases[3]).await, "referenced bytes stay");
    assert_eq!(s.store.blob_refs(&sha256_hex(cases[3])).await.unwrap(), 1);
    // The kept attachment still downloads.
    let r = client
        .get(format!(
            "{}/api/shared_spaces/1001/workspaces/3201/attachments/{}",
            s.url, ids[3]
        ))
        .basic_auth("sam", Some("sam-pw"))
        .header("Accept", "application/octet-stream")
        .send()
        .await
        .unwrap();
    assert_eq!(r.bytes().await.unwrap().as_ref(), cases[3]);
}
