//! Protocol §2: sign-in with both body shapes, session cookies, sign-out,
//! Basic and Bearer, 401/403/404.

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::harness::{ADMIN_PASSWORD, TestServer};
use crate::on_both_backends;

on_both_backends!(
    first_call_is_401_then_sign_in_sets_session_cookies,
    bad_credentials_and_unparsable_bodies_are_401,
    api_key_signs_in_with_client_id_body_and_basic_and_bearer,
    sign_out_always_200_and_ends_the_session,
    invalid_authorization_header_beats_a_valid_cookie,
    unknown_tenants_are_404_and_missing_roles_403,
);

async fn first_call_is_401_then_sign_in_sets_session_cookies(s: TestServer) {
    // JSSDK: no cookie → 401 with Octane's error JSON → sign in → retry.
    let r = s.client.get(s.ws("tests")).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["error_code"], "platform.authentication_required");
    assert!(body["description"].as_str().unwrap().contains("sign"));

    let r = s
        .client
        .post(format!("{}/authentication/sign_in", s.url))
        .header("HPECLIENTTYPE", "HPE_CI_CLIENT")
        .header("ALM-OCTANE-TECH-PREVIEW", "true")
        .header("X-Correlation-ID", "abc")
        .json(&json!({"user": "admin", "password": ADMIN_PASSWORD, "enable_csrf": true}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let cookies: Vec<String> = r
        .headers()
        .get_all("set-cookie")
        .iter()
        .map(|v| v.to_str().unwrap().to_owned())
        .collect();
    let session = cookies
        .iter()
        .find(|c| c.starts_with("LWSSO_COOKIE_KEY="))
        .expect("session cookie");
    assert!(
        session.contains("Path=/") && session.contains("HttpOnly"),
        "{session}"
    );
    assert!(
        !session.contains("Domain") && !session.contains("Secure"),
        "{session}"
    );
    assert!(
        cookies.iter().any(|c| c.starts_with("OCTANE_USER=admin;")),
        "{cookies:?}"
    );
    assert_eq!(r.json::<Value>().await.unwrap(), json!({}));

    let page = s.entities("tests").await;
    assert_eq!(page["total_count"], 0);

    // Signing in again while signed in issues a new session.
    s.sign_in().await;
    s.entities("tests").await;

    // The CLT sends back only LWSSO_COOKIE_KEY.
    let token = session.split(';').next().unwrap().to_owned();
    let bare = reqwest::Client::new();
    let r = bare
        .get(s.ws("tests"))
        .header("Cookie", token)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
}

async fn bad_credentials_and_unparsable_bodies_are_401(s: TestServer) {
    let sign_in = format!("{}/authentication/sign_in", s.url);
    for body in [
        r#"{"user":"admin","password":"wrong"}"#,
        r#"{"user":"nobody","password":"x"}"#,
        r#"{"user":"admin","password":"admin-pass"word"}"#,
        "",
        "not json",
    ] {
        let r = s
            .client
            .post(&sign_in)
            .header("Content-Type", "application/json")
            .body(body)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::UNAUTHORIZED, "{body}");
        let err: Value = r.json().await.unwrap();
        assert!(err["description"].is_string());
    }
}

async fn api_key_signs_in_with_client_id_body_and_basic_and_bearer(s: TestServer) {
    let admin = s.store.user_by_name("admin").await.unwrap().unwrap();
    let hash = verdict_server::hash_secret("k-secret").unwrap();
    s.store
        .insert_api_key(admin.id, "ci", "ci_key", &hash)
        .await
        .unwrap();

    // Java CI SDK body shape, gzipped like everything the SDK sends.
    let body = gzip(br#"{"client_id":"ci_key","client_secret":"k-secret"}"#);
    let client = reqwest::Client::builder()
        .cookie_store(true)
        .build()
        .unwrap();
    let r = client
        .post(format!("{}/authentication/sign_in", s.url))
        .header("Content-Type", "application/json")
        .header("Content-Encoding", "gzip")
        .body(body)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(
        client.get(s.ws("runs")).send().await.unwrap().status(),
        StatusCode::OK
    );

    // The CLT and JSSDK put API keys in the user/password shape.
    let r = reqwest::Client::new()
        .post(format!("{}/authentication/sign_in", s.url))
        .json(&json!({"user": "ci_key", "password": "k-secret"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);

    let plain = reqwest::Client::new();
    let basic = plain
        .get(s.ws("runs"))
        .basic_auth("ci_key", Some("k-secret"))
        .send()
        .await
        .unwrap();
    assert_eq!(basic.status(), StatusCode::OK);
    let user_basic = plain
        .get(s.ws("runs"))
        .basic_auth("admin", Some(ADMIN_PASSWORD))
        .send()
        .await
        .unwrap();
    assert_eq!(user_basic.status(), StatusCode::OK);
    let bearer = plain
        .get(s.ws("runs"))
        .bearer_auth("ci_key:k-secret")
        .send()
        .await
        .unwrap();
    assert_eq!(bearer.status(), StatusCode::OK);
    let wrong = plain
        .get(s.ws("runs"))
        .bearer_auth("ci_key:nope")
        .send()
        .await
        .unwrap();
    assert_eq!(wrong.status(), StatusCode::UNAUTHORIZED);
}

async fn sign_out_always_200_and_ends_the_session(s: TestServer) {
    let sign_out = format!("{}/authentication/sign_out", s.url);
    // Without any session (the CLT signs out twice).
    assert_eq!(
        s.client.post(&sign_out).send().await.unwrap().status(),
        StatusCode::OK
    );
    s.sign_in().await;
    let r = s.client.post(&sign_out).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let cookies: Vec<String> = r
        .headers()
        .get_all("set-cookie")
        .iter()
        .map(|v| v.to_str().unwrap().to_owned())
        .collect();
    assert!(
        cookies
            .iter()
            .any(|c| c.starts_with("LWSSO_COOKIE_KEY=;") && c.contains("Max-Age=0")),
        "{cookies:?}"
    );
    assert!(
        cookies
            .iter()
            .any(|c| c.starts_with("OCTANE_USER=;") && c.contains("Max-Age=0")),
        "{cookies:?}"
    );
    assert_eq!(
        s.client.post(&sign_out).send().await.unwrap().status(),
        StatusCode::OK
    );
    assert_eq!(
        s.client.get(s.ws("tests")).send().await.unwrap().status(),
        StatusCode::UNAUTHORIZED
    );
}

async fn invalid_authorization_header_beats_a_valid_cookie(s: TestServer) {
    s.sign_in().await;
    let r = s
        .client
        .get(s.ws("tests"))
        .basic_auth("admin", Some("wrong"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    let r = s
        .client
        .get(s.ws("tests"))
        .header("Authorization", "Negotiate abc")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
}

async fn unknown_tenants_are_404_and_missing_roles_403(s: TestServer) {
    s.sign_in().await;
    for path in [
        "/api/shared_spaces/9999/workspaces/1002/tests",
        "/api/shared_spaces/1001/workspaces/4242/tests",
        "/api/shared_spaces/abc/workspaces/1002/tests",
    ] {
        let r = s
            .client
            .get(format!("{}{path}", s.url))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::NOT_FOUND, "{path}");
        let body: Value = r.json().await.unwrap();
        assert_eq!(body["error_code"], "platform.entity_not_found");
    }
    // A user without a role in workspace 1002, and one with a role in another workspace only.
    s.store.ensure_workspace(1001, 2002, "other").await.unwrap();
    let hash = verdict_server::hash_secret("pw").unwrap();
    let bob = s.store.upsert_user("bob", &hash, false).await.unwrap();
    s.store.grant_role(bob, 2002, "member").await.unwrap();
    let bob_client = reqwest::Client::new();
    let r = bob_client
        .get(s.ws("tests"))
        .basic_auth("bob", Some("pw"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    let own = format!("{}/api/shared_spaces/1001/workspaces/2002/tests", s.url);
    assert_eq!(
        bob_client
            .get(&own)
            .basic_auth("bob", Some("pw"))
            .send()
            .await
            .unwrap()
            .status(),
        StatusCode::OK
    );
    let list: Value = bob_client
        .get(format!("{}/api/shared_spaces/1001/workspaces", s.url))
        .basic_auth("bob", Some("pw"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(list["total_count"], 1, "{list}");
    assert_eq!(list["data"][0]["id"], "2002");
}

pub fn gzip(bytes: &[u8]) -> Vec<u8> {
    use std::io::Write;
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    e.write_all(bytes).unwrap();
    e.finish().unwrap()
}
