//! `verdict admin` account safety against a running `verdict serve`, on both
//! backends: a password reset ends sessions and says what stays valid,
//! `user disable` locks a user out everywhere, and API keys and tokens are
//! listed and revoked, refused at once.

// Test code: a failed unwrap is a failed test, with its message.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use reqwest::StatusCode;
use serde_json::json;
use support::{Backend, Server, text};

async fn status_as(server: &Server, user: &str, password: &str) -> StatusCode {
    reqwest::Client::new()
        .get(format!(
            "{}/api/shared_spaces/1001/workspaces/1002/tests",
            server.url
        ))
        .basic_auth(user, Some(password))
        .send()
        .await
        .unwrap()
        .status()
}

fn last_word(o: &std::process::Output) -> String {
    String::from_utf8_lossy(&o.stdout)
        .split_whitespace()
        .last()
        .unwrap()
        .to_owned()
}

async fn accounts_on(backend: Backend) {
    let server = Server::spawn(backend, "accounts").await;
    let pw = server.dir.path().join("carol-pw");
    std::fs::write(&pw, "carol-1\n").unwrap();
    let pw_arg = pw.to_str().unwrap();
    let o = server.admin(&[
        "user",
        "add",
        "carol",
        "--password-file",
        pw_arg,
        "--workspace",
        "1002",
    ]);
    assert!(o.status.success(), "{}", text(&o));
    assert_eq!(status_as(&server, "carol", "carol-1").await, StatusCode::OK);
    // A session, a token and an API key for carol.
    let session = reqwest::Client::builder()
        .cookie_store(true)
        .build()
        .unwrap();
    let r = session
        .post(format!("{}/authentication/sign_in", server.url))
        .json(&json!({"user": "carol", "password": "carol-1"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let o = server.admin(&["token", "create", "--user", "carol", "--name", "ci"]);
    assert!(o.status.success(), "{}", text(&o));
    let token = last_word(&o);
    let o = server.admin(&["api-key", "create", "--name", "jenkins", "--user", "carol"]);
    assert!(o.status.success(), "{}", text(&o));
    let out = String::from_utf8_lossy(&o.stdout).into_owned();
    let client_id = out
        .lines()
        .find_map(|l| l.strip_prefix("client_id: "))
        .unwrap()
        .to_owned();
    let secret = out
        .lines()
        .find_map(|l| l.strip_prefix("client_secret: "))
        .unwrap()
        .to_owned();
    assert_eq!(
        status_as(&server, &client_id, &secret).await,
        StatusCode::OK
    );

    // A reset: the old password and the session end at once; the command says what stays.
    std::fs::write(&pw, "carol-2\n").unwrap();
    let o = server.admin(&["user", "set-password", "carol", "--password-file", pw_arg]);
    let said = text(&o);
    assert!(o.status.success(), "{said}");
    assert!(said.contains("sessions ended: 1"), "{said}");
    assert!(said.contains("1 API key(s), 1 token(s)"), "{said}");
    assert_eq!(
        status_as(&server, "carol", "carol-1").await,
        StatusCode::UNAUTHORIZED
    );
    let r = session
        .get(format!(
            "{}/api/shared_spaces/1001/workspaces/1002/tests",
            server.url
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(status_as(&server, "carol", "carol-2").await, StatusCode::OK);

    // Listing shows ids and names, never secrets.
    let o = server.admin(&["token", "list", "--user", "carol"]);
    let listed = text(&o);
    assert!(
        o.status.success() && listed.contains("\tci\tcarol\t"),
        "{listed}"
    );
    assert!(!listed.contains(&token));
    let id = listed
        .lines()
        .nth(1)
        .unwrap()
        .split('\t')
        .next()
        .unwrap()
        .to_owned();
    let o = server.admin(&["api-key", "list"]);
    let keys = text(&o);
    assert!(
        keys.contains(&client_id) && !keys.contains(&secret),
        "{keys}"
    );

    // Disable: every credential refused; enable: they work again.
    let o = server.admin(&["user", "disable", "carol"]);
    assert!(o.status.success(), "{}", text(&o));
    assert_eq!(
        status_as(&server, "carol", "carol-2").await,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        status_as(&server, &client_id, &secret).await,
        StatusCode::UNAUTHORIZED
    );
    let o = server.admin(&["user", "enable", "carol"]);
    assert!(o.status.success(), "{}", text(&o));
    assert_eq!(
        status_as(&server, &client_id, &secret).await,
        StatusCode::OK
    );

    // Revoke: refused at once, and a second revoke says there is none.
    let o = server.admin(&["api-key", "revoke", &client_id]);
    assert!(o.status.success(), "{}", text(&o));
    assert_eq!(
        status_as(&server, &client_id, &secret).await,
        StatusCode::UNAUTHORIZED
    );
    let o = server.admin(&["token", "revoke", &id]);
    assert!(o.status.success(), "{}", text(&o));
    let r = reqwest::Client::new()
        .get(format!(
            "{}/api/shared_spaces/1001/workspaces/1002/tests",
            server.url
        ))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    let o = server.admin(&["token", "revoke", &id]);
    assert!(!o.status.success());
    assert!(text(&o).contains("no token with id"), "{}", text(&o));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn resets_disables_and_revocations_take_effect_at_once() {
    for backend in support::backends() {
        accounts_on(backend).await;
    }
}
