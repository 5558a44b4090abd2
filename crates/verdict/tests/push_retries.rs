//! `verdict push` against an Octane double on loopback that misbehaves the way
//! real servers do: a 503 with `Retry-After`, then an expired session (401),
//! then success. The client must back off, sign in again once, retry, and
//! follow the task. (A double is the only way to make a real server fail on cue.)

// Test code: a failed unwrap is a failed test, with its message.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::io::Read;
use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};

#[derive(Default)]
struct Double {
    sign_ins: AtomicU32,
    pushes: AtomicU32,
    polls: AtomicU32,
}

async fn sign_in(State(d): State<Arc<Double>>) -> Response {
    let n = d.sign_ins.fetch_add(1, Ordering::SeqCst) + 1;
    (
        [(
            header::SET_COOKIE,
            format!("LWSSO_COOKIE_KEY=s{n}; Path=/; HttpOnly"),
        )],
        "{}",
    )
        .into_response()
}

async fn push(State(d): State<Arc<Double>>, headers: HeaderMap, body: Bytes) -> Response {
    match d.pushes.fetch_add(1, Ordering::SeqCst) {
        0 => (
            StatusCode::SERVICE_UNAVAILABLE,
            [(header::RETRY_AFTER, "0")],
            "busy",
        )
            .into_response(),
        1 => (
            StatusCode::UNAUTHORIZED,
            r#"{"description":"session expired"}"#,
        )
            .into_response(),
        _ => {
            let cookie = headers
                .get(header::COOKIE)
                .and_then(|v| v.to_str().ok())
                .unwrap_or_default();
            assert!(
                cookie.contains("LWSSO_COOKIE_KEY=s2"),
                "retried with the new session: {cookie}"
            );
            assert_eq!(headers.get(header::CONTENT_ENCODING).unwrap(), "gzip");
            let mut xml = String::new();
            flate2::read::GzDecoder::new(&body[..])
                .read_to_string(&mut xml)
                .unwrap();
            assert_eq!(verdict_ingest::validate(xml.as_bytes()).unwrap(), 1);
            (StatusCode::ACCEPTED, r#"{"status":"queued","id":77}"#).into_response()
        }
    }
}

async fn status(State(d): State<Arc<Double>>) -> &'static str {
    if d.polls.fetch_add(1, Ordering::SeqCst) == 0 {
        r#"{"id":77,"status":"running"}"#
    } else {
        r#"{"id":77,"status":"warning","errorDetails":"item 0: release 'X' not found (ignored)"}"#
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn push_backs_off_signs_in_again_and_follows_the_task() {
    let double = Arc::new(Double::default());
    let ws = "/api/shared_spaces/1001/workspaces/1002";
    let app = Router::new()
        .route("/authentication/sign_in", post(sign_in))
        .route("/authentication/sign_out", post(|| async { "{}" }))
        .route(&format!("{ws}/test-results"), post(push))
        .route(&format!("{ws}/test-results/77"), get(status))
        .with_state(double.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await });
    let work = tempfile::tempdir().unwrap();
    std::fs::write(work.path().join("pw"), "secret").unwrap();
    std::fs::write(
        work.path().join("TEST-a.xml"),
        r#"<testsuite name="s"><testcase classname="a.B" name="c" time="0.1"/></testsuite>"#,
    )
    .unwrap();
    let out = tokio::process::Command::new(env!("CARGO_BIN_EXE_verdict"))
        .args([
            "push",
            "--server",
            &url,
            "--user",
            "u",
            "--password-file",
            "pw",
            "--check-result",
            "--skip-errors",
            "--quiet",
            "TEST-a.xml",
        ])
        .current_dir(work.path())
        .env("HOME", work.path())
        .output()
        .await
        .unwrap();
    let said = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(out.status.success(), "{said}");
    assert!(said.contains("retrying"), "{said}");
    assert!(
        said.contains("task 77: warning (item 0: release 'X' not found (ignored))"),
        "{said}"
    );
    assert_eq!(
        double.sign_ins.load(Ordering::SeqCst),
        2,
        "one sign-in, one more after the 401"
    );
    assert_eq!(double.pushes.load(Ordering::SeqCst), 3);
}
