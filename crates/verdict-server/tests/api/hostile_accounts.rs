//! Issue "Hostile input": accounts (guessing, resets, revocation, disabled
//! users, cookies), slow and idle clients, and the entity API's limits and
//! the vendor clients' query syntax. Each case sends the attack's input.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::harness::{Backend, TestServer};
use crate::on_both_backends;

on_both_backends!(
    wrong_passwords_are_throttled_per_user_and_address,
    a_reset_ends_sessions_and_old_passwords_at_once,
    revoked_tokens_and_keys_are_refused_on_every_node,
    disabled_users_sign_in_nowhere,
    sign_in_cookies_are_same_site,
    entity_texts_and_bodies_are_limited_with_octane_errors,
    queries_the_backends_cannot_run_are_400,
    vendor_query_syntax_and_work_item_fields,
    test_center_texts_and_event_counts_are_limited,
    list_node_names_resolve_in_the_callers_workspace,
);

async fn list_node_names_resolve_in_the_callers_workspace(s: TestServer) {
    // Workspace 4001 is seeded after 1002: its nodes share logical names, not ids.
    bob(&s).await;
    s.sign_in().await;
    let q = "%22id%20IN%201,%5Elist_node.run_status.passed%5E;logical_name%20EQ%20%5Elist_node.run_status.passed%5E%22";
    for ws in [1002, 4001] {
        let page = s
            .get_json(&format!(
                "{}/api/shared_spaces/1001/workspaces/{ws}/list_nodes?query={q}",
                s.url
            ))
            .await;
        assert_eq!(page["total_count"], 1, "workspace {ws}: {page}");
    }
}

async fn bob(s: &TestServer) -> i64 {
    s.tenant_user("bob", "bob-pw", 4001).await
}

/// A client holding a session of `user` (signed in as the Octane clients do).
async fn session_of(s: &TestServer, user: &str, password: &str) -> reqwest::Client {
    let client = reqwest::Client::builder()
        .cookie_store(true)
        .build()
        .unwrap();
    let r = client
        .post(format!("{}/authentication/sign_in", s.url))
        .json(&json!({"user": user, "password": password}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK, "{user} signs in");
    client
}

fn bob_tests(s: &TestServer) -> String {
    format!("{}/api/shared_spaces/1001/workspaces/4001/tests", s.url)
}

async fn wrong_passwords_are_throttled_per_user_and_address(s: TestServer) {
    bob(&s).await;
    let client = reqwest::Client::new();
    let sign_in = |user: &'static str, password: &'static str| {
        let client = client.clone();
        let url = format!("{}/authentication/sign_in", s.url);
        async move {
            client
                .post(url)
                .json(&json!({"user": user, "password": password}))
                .send()
                .await
                .unwrap()
        }
    };
    for i in 0..10 {
        let r = sign_in("bob", "guess").await;
        assert_eq!(r.status(), StatusCode::UNAUTHORIZED, "guess {i}");
    }
    let r = sign_in("bob", "guess").await;
    assert_eq!(r.status(), StatusCode::TOO_MANY_REQUESTS);
    let retry: u64 = r.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((1..=300).contains(&retry), "Retry-After {retry}");
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["error_code"], "platform.too_many_requests");
    // Locked means locked: the right password waits too, over every path.
    assert_eq!(
        sign_in("bob", "bob-pw").await.status(),
        StatusCode::TOO_MANY_REQUESTS
    );
    let basic = client
        .get(bob_tests(&s))
        .basic_auth("bob", Some("bob-pw"))
        .send()
        .await
        .unwrap();
    assert_eq!(basic.status(), StatusCode::TOO_MANY_REQUESTS);
    let tc = client
        .post(format!("{}/upload/suites", s.url))
        .basic_auth("bob", Some("bob-pw"))
        .json(&json!({"project": "x", "test": {"name": "s"}}))
        .send()
        .await
        .unwrap();
    assert_eq!(tc.status(), StatusCode::TOO_MANY_REQUESTS);
    assert!(tc.headers().contains_key("retry-after"));
    // One client trying many names: its address is locked after five times
    // the per-user limit (10 so far, 40 more over four other names).
    for i in 0..40 {
        let name: &'static str = ["ann", "cid", "dan", "eva"][i / 10];
        assert_eq!(
            sign_in(name, "guess").await.status(),
            StatusCode::UNAUTHORIZED
        );
    }
    assert_eq!(
        sign_in("nobody-at-all", "x").await.status(),
        StatusCode::TOO_MANY_REQUESTS
    );
}

async fn a_reset_ends_sessions_and_old_passwords_at_once(s: TestServer) {
    let bob = bob(&s).await;
    let cookies = session_of(&s, "bob", "bob-pw").await;
    let plain = reqwest::Client::new();
    // Basic once, so the pair is in the verified-credentials cache.
    let ok = plain
        .get(bob_tests(&s))
        .basic_auth("bob", Some("bob-pw"))
        .send()
        .await
        .unwrap();
    assert_eq!(ok.status(), StatusCode::OK);
    // The reset `verdict admin user set-password` performs.
    let hash = verdict_server::hash_secret("new-pw").unwrap();
    s.store.upsert_user("bob", &hash, false).await.unwrap();
    assert_eq!(s.store.end_sessions(bob).await.unwrap(), 1);
    let old = plain
        .get(bob_tests(&s))
        .basic_auth("bob", Some("bob-pw"))
        .send()
        .await
        .unwrap();
    assert_eq!(
        old.status(),
        StatusCode::UNAUTHORIZED,
        "old password at once"
    );
    let session = cookies.get(bob_tests(&s)).send().await.unwrap();
    assert_eq!(session.status(), StatusCode::UNAUTHORIZED, "session ended");
    let new = plain
        .get(bob_tests(&s))
        .basic_auth("bob", Some("new-pw"))
        .send()
        .await
        .unwrap();
    assert_eq!(new.status(), StatusCode::OK);
}

async fn revoked_tokens_and_keys_are_refused_on_every_node(s: TestServer) {
    let bob = bob(&s).await;
    let (node, _node_dir) = s.spawn_node().await;
    let signed_in = session_of(&s, "bob", "bob-pw").await;
    let created: Value = signed_in
        .post(format!("{}/verdict/api/tokens", s.url))
        .json(&json!({"name": "ci"}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let token = created["token"].as_str().unwrap().to_owned();
    let listed: Value = signed_in
        .get(format!("{}/verdict/api/tokens", s.url))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(listed["total_count"], 1, "{listed}");
    assert_eq!(listed["data"][0]["name"], "ci");
    assert!(
        !listed.to_string().contains(&token),
        "the token is never listed"
    );
    let id = listed["data"][0]["id"].as_str().unwrap().to_owned();
    // Both nodes accept the token (and cache nothing that outlives a revoke).
    let plain = reqwest::Client::new();
    let with_token = |base: String| {
        let plain = plain.clone();
        let token = token.clone();
        async move {
            plain
                .get(format!(
                    "{base}/api/shared_spaces/1001/workspaces/4001/tests"
                ))
                .bearer_auth(token)
                .send()
                .await
                .unwrap()
                .status()
        }
    };
    assert_eq!(with_token(s.url.clone()).await, StatusCode::OK);
    assert_eq!(with_token(node.url()).await, StatusCode::OK);
    // Someone else's token id is not found; one's own is revoked.
    s.tenant_user("eve", "eve-pw", 4002).await;
    let eve = plain
        .delete(format!("{}/verdict/api/tokens/{id}", s.url))
        .basic_auth("eve", Some("eve-pw"))
        .send()
        .await
        .unwrap();
    assert_eq!(eve.status(), StatusCode::NOT_FOUND);
    let gone = signed_in
        .delete(format!("{}/verdict/api/tokens/{id}", node.url()))
        .basic_auth("bob", Some("bob-pw"))
        .send()
        .await
        .unwrap();
    assert_eq!(gone.status(), StatusCode::NO_CONTENT);
    assert_eq!(with_token(s.url.clone()).await, StatusCode::UNAUTHORIZED);
    assert_eq!(with_token(node.url()).await, StatusCode::UNAUTHORIZED);
    // API keys: verified (and cached) on both nodes, revoked, refused on both at once.
    let hash = verdict_server::hash_secret("key-secret").unwrap();
    s.store
        .insert_api_key(bob, "ci", "ci_key", &hash)
        .await
        .unwrap();
    let with_key = |base: String| {
        let plain = plain.clone();
        async move {
            plain
                .get(format!(
                    "{base}/api/shared_spaces/1001/workspaces/4001/tests"
                ))
                .basic_auth("ci_key", Some("key-secret"))
                .send()
                .await
                .unwrap()
                .status()
        }
    };
    assert_eq!(with_key(s.url.clone()).await, StatusCode::OK);
    assert_eq!(with_key(node.url()).await, StatusCode::OK);
    assert_eq!(s.store.api_keys_of(Some(bob)).await.unwrap().len(), 1);
    assert!(s.store.revoke_api_key("ci_key").await.unwrap());
    assert_eq!(with_key(s.url.clone()).await, StatusCode::UNAUTHORIZED);
    assert_eq!(with_key(node.url()).await, StatusCode::UNAUTHORIZED);
    node.shutdown().await;
}

async fn disabled_users_sign_in_nowhere(s: TestServer) {
    let bob = bob(&s).await;
    let cookies = session_of(&s, "bob", "bob-pw").await;
    let token = verdict_server::create_token(&s.store, bob, "t")
        .await
        .unwrap();
    assert_eq!(
        s.store.set_user_disabled("bob", true).await.unwrap(),
        Some(1)
    );
    let plain = reqwest::Client::new();
    let statuses = [
        cookies.get(bob_tests(&s)).send().await.unwrap().status(),
        plain
            .get(bob_tests(&s))
            .basic_auth("bob", Some("bob-pw"))
            .send()
            .await
            .unwrap()
            .status(),
        plain
            .get(bob_tests(&s))
            .bearer_auth(&token)
            .send()
            .await
            .unwrap()
            .status(),
        plain
            .post(format!("{}/upload/suites", s.url))
            .header("Authorization", format!("Token {token}"))
            .json(&json!({"project": "x", "test": {"name": "s"}}))
            .send()
            .await
            .unwrap()
            .status(),
    ];
    assert_eq!(statuses, [StatusCode::UNAUTHORIZED; 4]);
    // Enabled again, the kept token works (nothing was revoked silently).
    s.store.set_user_disabled("bob", false).await.unwrap();
    let r = plain
        .get(bob_tests(&s))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
}

async fn sign_in_cookies_are_same_site(s: TestServer) {
    let r = reqwest::Client::new()
        .post(format!("{}/authentication/sign_in", s.url))
        .json(&json!({"user": "admin", "password": crate::harness::ADMIN_PASSWORD}))
        .send()
        .await
        .unwrap();
    let cookies: Vec<&str> = r
        .headers()
        .get_all("set-cookie")
        .iter()
        .map(|v| v.to_str().unwrap())
        .collect();
    assert_eq!(cookies.len(), 2);
    for c in cookies {
        assert!(c.contains("SameSite=Lax") && c.contains("HttpOnly"), "{c}");
    }
}

async fn entity_texts_and_bodies_are_limited_with_octane_errors(s: TestServer) {
    s.sign_in().await;
    let long = "n".repeat(256);
    let r = s
        .client
        .post(s.ws("defects"))
        .json(&json!({"data": [{"name": long}]}))
        .send()
        .await
        .unwrap();
    let status = r.status();
    let body: Value = r.json().await.unwrap();
    assert!(status.is_client_error(), "{status}");
    assert!(
        body.to_string()
            .contains("'name' is 256 characters long; at most 255"),
        "{body}"
    );
    let r = s
        .client
        .post(s.ws("defects"))
        .json(&json!({"data": [{"name": "d", "description": "x".repeat(2 << 20)}]}))
        .send()
        .await
        .unwrap();
    assert!(r.status().is_client_error());
    assert!(r.text().await.unwrap().contains("'description'"));
    // A body over the route's 64 MiB answers 413 in Octane's error JSON.
    let r = s
        .client
        .post(s.ws("defects"))
        .header("Content-Type", "application/json")
        .body(vec![b' '; (64 << 20) + 1])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::PAYLOAD_TOO_LARGE);
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["error_code"], "platform.payload_too_large");
}

async fn queries_the_backends_cannot_run_are_400(s: TestServer) {
    s.sign_in().await;
    // The attack's 64 KiB query: a 32,000-value IN list (commas unencoded).
    let url = format!(
        "{}?query=%22id%20IN%20{}%22",
        s.ws("runs"),
        vec!["1"; 32_000].join(",")
    );
    let r = s.client.get(url).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    let body: Value = r.json().await.unwrap();
    assert!(
        body["description"]
            .as_str()
            .unwrap()
            .contains("more than 1000 values"),
        "{body}"
    );
    let nested = format!("{}id EQ 1{}", "test EQ {".repeat(60), "}".repeat(60));
    for (query, needle) in [
        (
            format!(
                "\"id IN {}\"",
                (0..1_001)
                    .map(|i| i.to_string())
                    .collect::<Vec<_>>()
                    .join(",")
            ),
            "more than 1000 values",
        ),
        (format!("\"{nested}\""), "cross references nested deeper"),
    ] {
        let r = s
            .client
            .get(s.ws("runs"))
            .query(&[("query", query.as_str())])
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::BAD_REQUEST, "{needle}");
        let body: Value = r.json().await.unwrap();
        assert_eq!(body["error_code"], "platform.illegal_query");
        assert!(
            body["description"].as_str().unwrap().contains(needle),
            "{body}"
        );
    }
    // The deepest accepted nesting runs on both backends.
    let deepest = format!("\"{}id EQ 1{}\"", "parent EQ {".repeat(8), "}".repeat(8));
    let r = s
        .client
        .get(s.ws("work_items"))
        .query(&[("query", deepest.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK, "{}", r.text().await.unwrap());
    // A thousand-value IN list is a plain query.
    let thousand = format!(
        "\"id IN {}\"",
        (0..1_000)
            .map(|i| i.to_string())
            .collect::<Vec<_>>()
            .join(",")
    );
    let r = s
        .client
        .get(s.ws("runs"))
        .query(&[("query", thousand.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
}

async fn vendor_query_syntax_and_work_item_fields(s: TestServer) {
    s.sign_in().await;
    // Fields real clients send, null or set; listed in the metadata.
    for (collection, body) in [
        ("stories", json!({"name": "s", "phase": null})),
        (
            "defects",
            json!({"name": "d", "severity": null, "priority": null, "owner": null}),
        ),
        (
            "defects",
            json!({"name": "mine", "owner": {"type": "workspace_user", "id": "1"}, "story_points": 3}),
        ),
    ] {
        let r = s
            .client
            .post(s.ws(collection))
            .json(&body)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::CREATED, "{collection} {body}");
    }
    let fields = s
        .entities("metadata/fields?query=%22entity_name%20EQ%20%5Edefect%5E%22")
        .await;
    for name in ["phase", "severity", "priority", "owner"] {
        assert!(
            fields["data"]
                .as_array()
                .unwrap()
                .iter()
                .any(|f| f["name"] == name),
            "metadata lists {name}: {fields}"
        );
    }
    // `[current_user]` is the signed-in user (admin has id 1).
    let mine = s
        .entities("defects?query=%22owner%20EQ%20%5Bcurrent_user%5D%22")
        .await;
    assert_eq!(mine["total_count"], 1, "{mine}");
    // Symbols as the current Octane syntax writes them.
    for q in [
        "creation_time<'2999-01-01T00:00:00Z'",
        "creation_time>='2000-01-01T00:00:00Z'",
        "creation_time<=^2999-01-01T00:00:00Z^",
        "creation_time>^2000-01-01T00:00:00Z^",
    ] {
        let r = s
            .client
            .get(s.ws("defects"))
            .query(&[("query", format!("\"{q}\""))])
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::OK, "{q}");
        let body: Value = r.json().await.unwrap();
        assert_eq!(body["total_count"], 2, "{q}: {body}");
    }
    // `[current_release]` inside an IN list.
    let r = s
        .client
        .get(s.ws("defects"))
        .query(&[("query", "\"release IN [current_release],0\"")])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK, "{}", r.text().await.unwrap());
}

async fn test_center_texts_and_event_counts_are_limited(s: TestServer) {
    let auth = crate::harness::basic_admin();
    let post = |path: &'static str, body: Vec<u8>| {
        let client = s.client.clone();
        let url = format!("{}/upload/{path}", s.url);
        let auth = auth.clone();
        async move {
            let r = client
                .post(url)
                .header("Authorization", auth)
                .header("Content-Type", "application/json")
                .body(body)
                .send()
                .await
                .unwrap();
            let status = r.status();
            (status, r.json::<Value>().await.unwrap_or(Value::Null))
        }
    };
    let huge_name = json!({"project": "T", "test": {"name": "x".repeat(2_000_000)}});
    let (status, body) = post("suites", huge_name.to_string().into_bytes()).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(
        body["message"].as_str().unwrap().contains("'test.name'"),
        "{body}"
    );
    let (status, suite) = post(
        "suites",
        json!({"project": "T", "test": {"name": "s"}})
            .to_string()
            .into_bytes(),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED);
    let run = suite["runId"].as_i64().unwrap();
    let (status, reply) = post(
        "events",
        json!([{"runId": run, "type": "LOG", "message": "m".repeat(100_000)}])
            .to_string()
            .into_bytes(),
    )
    .await;
    assert_eq!(status, StatusCode::MULTI_STATUS);
    assert_eq!(reply[0]["code"], 400);
    assert!(reply[0]["body"].as_str().unwrap().contains("'message'"));
    // A million events in one array: refused after the cap, not parsed whole.
    let event = format!("{{\"runId\":{run},\"type\":\"LOG\"}}");
    let mut many = Vec::with_capacity(30 << 20);
    many.push(b'[');
    for i in 0..1_000_000 {
        if i > 0 {
            many.push(b',');
        }
        many.extend_from_slice(event.as_bytes());
    }
    many.push(b']');
    let (status, body) = post("events", many).await;
    assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE, "{body}");
    assert!(
        body["message"].as_str().unwrap().contains("10000 events"),
        "{body}"
    );
}

/// Raw sockets against a server with short timeouts.
mod slow_clients {
    use super::*;

    async fn server(max_connections: usize) -> TestServer {
        TestServer::spawn_with(Backend::Sqlite, |c| {
            c.header_timeout = Duration::from_secs(1);
            c.body_idle_timeout = Duration::from_secs(1);
            c.max_connections = max_connections;
        })
        .await
        .unwrap()
    }

    fn connect(s: &TestServer) -> TcpStream {
        let addr = s.url.trim_start_matches("http://");
        let stream = TcpStream::connect(addr).unwrap();
        stream
            .set_read_timeout(Some(Duration::from_secs(10)))
            .unwrap();
        stream
    }

    /// Reads until the server closes; returns what it sent.
    fn until_closed(stream: &mut TcpStream) -> String {
        let mut out = Vec::new();
        let _ = stream.read_to_end(&mut out);
        String::from_utf8_lossy(&out).into_owned()
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn stalled_headers_and_idle_connections_are_closed() {
        let s = server(512).await;
        let streams: Vec<TcpStream> = (0..20)
            .map(|_| {
                let mut c = connect(&s);
                c.write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\n")
                    .unwrap();
                c
            })
            .collect();
        let started = Instant::now();
        for mut c in streams {
            until_closed(&mut c);
        }
        assert!(
            started.elapsed() < Duration::from_secs(9),
            "all 20 were closed"
        );
        // A keep-alive connection that goes quiet is closed after the same time.
        let mut c = connect(&s);
        c.write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
            .unwrap();
        let reply = until_closed(&mut c);
        assert!(reply.starts_with("HTTP/1.1 200"), "{reply}");
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_stalled_body_fails_and_a_slow_one_that_progresses_completes() {
        let s = server(512).await;
        let body = json!({"user": "admin", "password": crate::harness::ADMIN_PASSWORD}).to_string();
        let head = format!(
            "POST /authentication/sign_in HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
            body.len()
        );
        // Stalled: half the body, then nothing.
        let mut c = connect(&s);
        c.write_all(head.as_bytes()).unwrap();
        c.write_all(&body.as_bytes()[..5]).unwrap();
        let reply = until_closed(&mut c);
        assert!(!reply.starts_with("HTTP/1.1 200"), "{reply}");
        // Progressing: one byte every 300 ms, longer in total than the idle timeout.
        let mut c = connect(&s);
        c.write_all(head.as_bytes()).unwrap();
        let started = Instant::now();
        for b in body.as_bytes().chunks(body.len().div_ceil(8)) {
            std::thread::sleep(Duration::from_millis(300));
            c.write_all(b).unwrap();
        }
        assert!(started.elapsed() > Duration::from_secs(2));
        let reply = until_closed(&mut c);
        assert!(reply.starts_with("HTTP/1.1 200"), "{reply}");
    }

    /// A client that sends its whole body before it reads the answer (Java's
    /// `HttpURLConnection`, Python's `http.client`) gets the answer to a push
    /// refused before its body was read — wrong credentials, an unknown
    /// workspace — not a reset connection, and may send its next request on
    /// the same connection.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_refused_upload_is_answered_after_its_body_not_reset() {
        let s = server(512).await;
        let body = vec![b'a'; 32 << 20];
        let mut c = connect(&s);
        for (auth, workspace, status, says) in [
            ("admin:wrong", 1002, "401", "invalid credentials"),
            (
                &*format!("admin:{}", crate::harness::ADMIN_PASSWORD),
                9999,
                "404",
                "workspace 9999 not found",
            ),
        ] {
            let head = format!(
                "POST /api/shared_spaces/1001/workspaces/{workspace}/test-results HTTP/1.1\r\nHost: x\r\n\
                 Authorization: Basic {}\r\nContent-Type: application/xml\r\nContent-Length: {}\r\n\r\n",
                base64_of(auth),
                body.len()
            );
            c.write_all(head.as_bytes()).unwrap();
            c.write_all(&body)
                .expect("the server reads a refused body on instead of resetting");
            let reply = read_reply(&mut c);
            assert!(reply.starts_with(&format!("HTTP/1.1 {status}")), "{reply}");
            assert!(reply.contains(says), "{reply}");
        }
    }

    /// One HTTP/1.1 reply with a `Content-Length` body, read off a connection
    /// that stays open.
    fn read_reply(stream: &mut TcpStream) -> String {
        let mut got = Vec::new();
        let mut byte = [0_u8; 1];
        while !got.ends_with(b"\r\n\r\n") {
            assert_eq!(stream.read(&mut byte).unwrap(), 1, "reply head cut off");
            got.push(byte[0]);
        }
        let head = String::from_utf8_lossy(&got).into_owned();
        let length: usize = head
            .lines()
            .find_map(|l| {
                l.to_ascii_lowercase()
                    .strip_prefix("content-length:")
                    .map(|v| v.trim().to_owned())
            })
            .and_then(|v| v.parse().ok())
            .expect("a Content-Length");
        let mut body = vec![0_u8; length];
        stream.read_exact(&mut body).unwrap();
        head + &String::from_utf8_lossy(&body)
    }

    fn base64_of(text: &str) -> String {
        use base64::Engine;
        base64::engine::general_purpose::STANDARD.encode(text)
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn connections_past_the_cap_wait_until_idle_ones_are_closed() {
        let s = server(4).await;
        let idle: Vec<TcpStream> = (0..4).map(|_| connect(&s)).collect();
        // The fifth request is served once the header timeout frees a slot.
        let r = reqwest::Client::new()
            .get(format!("{}/healthz", s.url))
            .timeout(Duration::from_secs(20))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::OK);
        drop(idle);
    }
}
