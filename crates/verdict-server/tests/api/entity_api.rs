//! Protocol §7.3–§7.6: creating, changing and deleting entities, with the
//! error shapes the SDKs read.

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::harness::TestServer;
use crate::on_both_backends;

on_both_backends!(
    create_read_update_delete_defects_in_bulk,
    clt_creates_releases_and_taxonomy_nodes,
    duplicates_and_bad_values_get_octane_errors,
    created_entities_are_linkable_from_payloads,
);

async fn send(
    s: &TestServer,
    method: reqwest::Method,
    path: &str,
    body: Option<Value>,
) -> (StatusCode, Value) {
    let mut req = s.client.request(method, s.ws(path));
    if let Some(body) = body {
        req = req.json(&body);
    }
    let r = req.send().await.unwrap();
    let status = r.status();
    (status, r.json().await.unwrap_or(Value::Null))
}

async fn create_read_update_delete_defects_in_bulk(s: TestServer) {
    s.sign_in().await;
    let (status, created) = send(
        &s,
        reqwest::Method::POST,
        "defects?fields=name,description",
        Some(json!({"data": [{"name": "d1", "description": "first"}, {"name": "d2"}]})),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{created}");
    assert_eq!(created["total_count"], 2);
    assert_eq!(created["data"][0]["name"], "d1");
    assert_eq!(
        created["data"][0]["type"], "defect",
        "Octane types are concrete"
    );
    assert_eq!(created["data"][0]["subtype"], "defect");
    assert_eq!(created["data"][1]["name"], "d2");
    let id1 = created["data"][0]["id"].as_str().unwrap().to_owned();
    let id2 = created["data"][1]["id"].as_str().unwrap().to_owned();
    // A bare object creates one.
    let (status, one) = send(
        &s,
        reqwest::Method::POST,
        "stories",
        Some(json!({"name": "s1"})),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED);
    assert_eq!(one["data"][0]["subtype"], "story");
    assert_eq!(s.entities("work_items").await["total_count"], 3);
    assert_eq!(s.entities("defects").await["total_count"], 2);
    // PUT single.
    let (status, updated) = send(
        &s,
        reqwest::Method::PUT,
        &format!("defects/{id1}"),
        Some(json!({"name": "d1 renamed"})),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{updated}");
    assert_eq!(updated["name"], "d1 renamed");
    assert_eq!(updated["description"], "first");
    // PUT bulk.
    let (status, bulk) = send(
        &s,
        reqwest::Method::PUT,
        "defects",
        Some(json!({"data": [{"id": id1, "description": "x"}, {"id": id2, "description": "y"}]})),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{bulk}");
    assert_eq!(bulk["total_count"], 2);
    assert_eq!(bulk["data"][1]["description"], "y");
    // PUT by query.
    let (status, by_query) = send(
        &s,
        reqwest::Method::PUT,
        "defects?query=%22name%20EQ%20%5Ed2%5E%22",
        Some(json!({"description": "z"})),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(by_query["data"][0]["description"], "z");
    // DELETE single, then by query; unknown id is 404.
    let (status, deleted) =
        send(&s, reqwest::Method::DELETE, &format!("defects/{id1}"), None).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        deleted,
        Value::Null,
        "a single delete answers an empty body"
    );
    let (status, _) = send(&s, reqwest::Method::DELETE, &format!("defects/{id1}"), None).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, deleted) = send(
        &s,
        reqwest::Method::DELETE,
        &format!("defects?query=%22id%20IN%20{id2}%22"),
        None,
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(deleted["total_count"], 1);
    assert_eq!(s.entities("defects").await["total_count"], 0);
    // Metadata describes the same model.
    let entities = s
        .entities("metadata/entities?query=%22name%20EQ%20%5Edefect%5E%22")
        .await;
    assert_eq!(entities["data"][0]["features"][0]["url"], "defects");
    let fields = s
        .entities("metadata/fields?query=%22entity_name%20EQ%20%5Edefect%5E%22")
        .await;
    let release = fields["data"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["name"] == "release")
        .unwrap();
    assert_eq!(release["field_type_data"]["targets"][0]["type"], "release");
    // Injection-owned collections cannot be written.
    let (status, _) = send(
        &s,
        reqwest::Method::POST,
        "runs",
        Some(json!({"name": "r"})),
    )
    .await;
    assert_eq!(status, StatusCode::METHOD_NOT_ALLOWED);
}

async fn clt_creates_releases_and_taxonomy_nodes(s: TestServer) {
    s.sign_in().await;
    // The collection tool's own integration test (protocol §7.5).
    let (status, release) = send(&s, reqwest::Method::POST, "releases?fields=name", Some(json!({"data": [{"name": "R-clt", "start_date": "2026-01-01T00:00:00Z", "end_date": "2026-12-31T00:00:00Z"}]}))).await;
    assert_eq!(status, StatusCode::CREATED, "{release}");
    assert_eq!(release["data"][0]["name"], "R-clt");
    let keys: Vec<&str> = release["data"][0]
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    assert!(
        keys.contains(&"id") && keys.contains(&"type") && !keys.contains(&"start_date"),
        "{keys:?}"
    );
    let (_, category) = send(
        &s,
        reqwest::Method::POST,
        "taxonomy_nodes?fields=name,category",
        Some(json!({"data": [{"name": "Cloud"}]})),
    )
    .await;
    let category_id = category["data"][0]["id"].as_str().unwrap();
    assert_eq!(category["data"][0]["category"], Value::Null);
    let (status, item) = send(&s, reqwest::Method::POST, "taxonomy_nodes?fields=name,category", Some(json!({"data": [{"name": "AWS", "category": {"type": "taxonomy_node", "id": category_id}}]}))).await;
    assert_eq!(status, StatusCode::CREATED);
    assert_eq!(item["data"][0]["category"]["id"], category_id);
    assert_eq!(item["data"][0]["category"]["name"], "Cloud");
    assert_eq!(item["data"][0]["subtype"], "taxonomy_item_node");
    // A payload's taxonomy now matches the created item.
    let xml = r#"<test_result><environment><taxonomy type="cloud" value="aws"/></environment><test_runs><test_run name="t" duration="1" status="Passed"/></test_runs></test_result>"#;
    assert_eq!(s.push_and_wait(xml, false).await["status"], "success");
    let run = &s.entities("runs").await["data"][0];
    assert_eq!(run["taxonomies"]["data"][0]["id"], item["data"][0]["id"]);
}

async fn duplicates_and_bad_values_get_octane_errors(s: TestServer) {
    s.sign_in().await;
    send(
        &s,
        reqwest::Method::POST,
        "releases",
        Some(json!({"name": "R1"})),
    )
    .await;
    // Single: 409 business error.
    let (status, err) = send(
        &s,
        reqwest::Method::POST,
        "releases",
        Some(json!({"name": "R1"})),
    )
    .await;
    assert_eq!(status, StatusCode::CONFLICT);
    assert_eq!(err["error_code"], "platform.duplicate_entity_error");
    assert_eq!(err["business_error"], true);
    // Bulk: 409 with errors by index, nothing created.
    let (status, err) = send(
        &s,
        reqwest::Method::POST,
        "releases",
        Some(json!({"data": [{"name": "R2"}, {"name": "R1"}, {"name": "R2"}]})),
    )
    .await;
    assert_eq!(status, StatusCode::CONFLICT, "{err}");
    assert_eq!(err["exceeds_total_count"], false);
    let indexes: Vec<i64> = err["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["index"].as_i64().unwrap())
        .collect();
    assert_eq!(indexes, [1, 2]);
    assert_eq!(s.entities("releases").await["total_count"], 1);
    // Missing required field, unknown field, dangling reference, read-only field, bad JSON.
    for (body, needle) in [
        (json!({"description": "no name"}), "'name' is required"),
        (
            json!({"name": "x", "colour": "red"}),
            "unknown field 'colour'",
        ),
        (
            json!({"name": "m", "release": {"type": "release", "id": "999999"}}),
            "release 999999 not found",
        ),
        (
            json!({"name": "x", "creation_time": "2026-01-01T00:00:00Z"}),
            "read-only",
        ),
    ] {
        let path = if body.get("release").is_some() {
            "milestones"
        } else {
            "releases"
        };
        let (status, err) = send(&s, reqwest::Method::POST, path, Some(body)).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{err}");
        assert_eq!(err["error_code"], "platform.illegal_field_value");
        assert!(
            err["description"].as_str().unwrap().contains(needle),
            "{err}"
        );
    }
    let r = s
        .client
        .post(s.ws("releases"))
        .header("Content-Type", "application/json")
        .body("{nope")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    // Renaming onto an existing name is a duplicate too.
    let (_, r2) = send(
        &s,
        reqwest::Method::POST,
        "releases",
        Some(json!({"name": "R2"})),
    )
    .await;
    let id = r2["data"][0]["id"].as_str().unwrap();
    let (status, _) = send(
        &s,
        reqwest::Method::PUT,
        &format!("releases/{id}"),
        Some(json!({"name": "R1"})),
    )
    .await;
    assert_eq!(status, StatusCode::CONFLICT);
}

async fn created_entities_are_linkable_from_payloads(s: TestServer) {
    s.sign_in().await;
    let (_, p) = send(
        &s,
        reqwest::Method::POST,
        "programs",
        Some(json!({"name": "P"})),
    )
    .await;
    let program = p["data"][0]["id"].as_str().unwrap().to_owned();
    let (status, r) = send(
        &s,
        reqwest::Method::POST,
        "releases?fields=name,programs",
        Some(json!({"name": "R", "programs": {"data": [{"type": "program", "id": program}]}})),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{r}");
    assert_eq!(r["data"][0]["programs"]["data"][0]["id"], program);
    let release = r["data"][0]["id"].as_str().unwrap().to_owned();
    let (_, m) = send(
        &s,
        reqwest::Method::POST,
        "milestones",
        Some(json!({"name": "M", "release": {"type": "release", "id": release}})),
    )
    .await;
    let milestone = m["data"][0]["id"].as_str().unwrap().to_owned();
    let (_, a) = send(
        &s,
        reqwest::Method::POST,
        "application_modules",
        Some(json!({"name": "Billing"})),
    )
    .await;
    let module = a["data"][0]["id"].as_str().unwrap().to_owned();
    let (_, f) = send(
        &s,
        reqwest::Method::POST,
        "features",
        Some(json!({"name": "Login"})),
    )
    .await;
    let feature = f["data"][0]["id"].as_str().unwrap().to_owned();
    let (_, suite) = send(
        &s,
        reqwest::Method::POST,
        "test_suites",
        Some(json!({"name": "Nightly"})),
    )
    .await;
    let suite = suite["data"][0]["id"].as_str().unwrap().to_owned();
    let xml = format!(
        r#"<test_result><suite_ref id="{suite}"/><program_ref id="{program}"/><release_ref id="{release}"/><milestone_ref id="{milestone}"/><backlog_items><backlog_item_ref id="{feature}"/></backlog_items><product_areas><product_area_ref id="{module}"/></product_areas><test_runs><test_run name="t" duration="1" status="Passed"/></test_runs></test_result>"#
    );
    let task = s.push_and_wait(&xml, false).await;
    assert_eq!(task["status"], "success", "{task}");
    let run = &s.entities("automated_runs").await["data"][0];
    assert_eq!(run["release"]["name"], "R");
    assert_eq!(run["milestone"]["name"], "M");
    assert_eq!(run["program"]["name"], "P");
    assert_eq!(run["parent_suite"]["name"], "Nightly");
    let test = &s.entities("automated_tests").await["data"][0];
    assert_eq!(test["covered_content"]["data"][0]["name"], "Login");
    assert_eq!(test["product_areas"]["data"][0]["name"], "Billing");
}
