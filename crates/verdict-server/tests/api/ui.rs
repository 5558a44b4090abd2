//! The web UI through the real server, as a browser without script sees it:
//! sign-in with CSRF, the pages over pushed results, escaping of hostile
//! names, security headers, tenancy, sign-out.

use reqwest::StatusCode;
use reqwest::header::{CONTENT_SECURITY_POLICY, LOCATION, X_FRAME_OPTIONS};

use crate::harness::{ADMIN_PASSWORD, SP, TestServer, WS};
use crate::on_both_backends;

on_both_backends!(
    a_person_signs_in_reads_every_page_and_signs_out,
    hostile_test_names_render_as_text,
    forms_without_the_token_are_refused_and_tenants_stay_apart,
    test_center_reports_show_their_tree_events_and_screenshots,
);

/// A browser: cookies kept, redirects not followed (the test reads them).
pub(crate) fn browser() -> reqwest::Client {
    reqwest::Client::builder()
        .cookie_store(true)
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
}

/// The hidden CSRF field of a form page.
pub(crate) fn token(html: &str) -> String {
    let at = html.find("name=\"csrf\" value=\"").expect("a CSRF field") + 19;
    html[at..at + 64].to_owned()
}

pub(crate) async fn sign_in(
    s: &TestServer,
    b: &reqwest::Client,
    user: &str,
    password: &str,
) -> reqwest::Response {
    let page = b.get(format!("{}/ui/sign-in", s.url)).send().await.unwrap();
    assert_eq!(page.status(), StatusCode::OK);
    let csrf = token(&page.text().await.unwrap());
    b.post(format!("{}/ui/sign-in", s.url))
        .form(&[
            ("csrf", csrf.as_str()),
            ("user", user),
            ("password", password),
            ("next", "/"),
        ])
        .send()
        .await
        .unwrap()
}

pub(crate) async fn page(s: &TestServer, b: &reqwest::Client, path: &str) -> String {
    let r = b.get(format!("{}{path}", s.url)).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::OK, "GET {path}");
    let csp = r.headers()[CONTENT_SECURITY_POLICY]
        .to_str()
        .unwrap()
        .to_owned();
    assert!(
        csp.contains("default-src 'none'") && csp.contains("frame-ancestors 'none'"),
        "{csp}"
    );
    assert!(!csp.contains("script-src"), "no script allowed: {csp}");
    assert_eq!(r.headers()[X_FRAME_OPTIONS], "DENY");
    r.text().await.unwrap()
}

fn run(name: &str, status: &str, started: i64) -> String {
    format!(
        r#"<test_run package="p" class="C" name="{name}" duration="5" status="{status}" started="{started}"/>"#
    )
}

fn payload(runs: &[String]) -> String {
    format!(
        "<test_result><test_runs>{}</test_runs></test_result>",
        runs.join("")
    )
}

async fn a_person_signs_in_reads_every_page_and_signs_out(s: TestServer) {
    s.sign_in().await;
    let now = verdict_store::now_ms();
    for (i, status) in ["Passed", "Failed", "Passed"].iter().enumerate() {
        let started = now - 10_000 + i as i64 * 1_000;
        let task = s
            .push_and_wait(
                &payload(&[
                    run("checkout", status, started),
                    run("cart", "Failed", started),
                ]),
                false,
            )
            .await;
        assert_eq!(task["status"], "success");
    }
    let b = browser();
    // signed out: every page leads to the sign-in page, and back after it
    let r = b
        .get(format!("{}/ui/{SP}/{WS}/flaky", s.url))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert_eq!(
        r.headers()[LOCATION],
        format!("/ui/sign-in?next=/ui/{SP}/{WS}/flaky")
    );
    // a `next` that browsers would read as another host goes to the start
    let page_html = b
        .get(format!("{}/ui/sign-in?next=%2F%09%2Fevil.example", s.url))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        page_html.contains("name=\"next\" value=\"/\""),
        "{page_html}"
    );
    let wrong = sign_in(&s, &b, "admin", "nope").await;
    assert_eq!(wrong.status(), StatusCode::UNAUTHORIZED);
    assert!(
        wrong
            .text()
            .await
            .unwrap()
            .contains("Wrong user name or password.")
    );
    let ok = sign_in(&s, &b, "admin", ADMIN_PASSWORD).await;
    assert_eq!(ok.status(), StatusCode::SEE_OTHER);
    // the plugins' link opens the workspace
    let r = b
        .get(format!("{}/ui/?p={SP}/{WS}", s.url))
        .send()
        .await
        .unwrap();
    assert_eq!(r.headers()[LOCATION], format!("/ui/{SP}/{WS}"));
    let overview = page(&s, &b, &format!("/ui/{SP}/{WS}")).await;
    assert!(overview.contains("<svg class=\"trend\""), "{overview}");
    let at = overview.find("/results/").expect("a result set link") + 9;
    let set_id: String = overview[at..]
        .chars()
        .take_while(char::is_ascii_digit)
        .collect();
    let set = page(&s, &b, &format!("/ui/{SP}/{WS}/results/{set_id}")).await;
    assert!(
        set.contains("Fixed (1)") && set.contains("Still failing (1)"),
        "{set}"
    );
    assert!(set.contains("Every run (2)"), "{set}");
    let failed = page(
        &s,
        &b,
        &format!("/ui/{SP}/{WS}/results/{set_id}?outcome=failed"),
    )
    .await;
    assert!(failed.contains("Every run (1)"), "{failed}");
    let r = b
        .get(format!(
            "{}/ui/{SP}/{WS}/results/{set_id}?outcome=bogus",
            s.url
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::BAD_REQUEST, "the API's own check");
    let at = set.find("/tests/").expect("a test link") + 7;
    let test_id: String = set[at..].chars().take_while(char::is_ascii_digit).collect();
    let story = page(&s, &b, &format!("/ui/{SP}/{WS}/tests/{test_id}")).await;
    assert!(story.contains("Success rate"), "{story}");
    assert!(
        story.contains("<svg class=\"durations\""),
        "a duration chart: {story}"
    );
    let flaky = page(&s, &b, &format!("/ui/{SP}/{WS}/flaky")).await;
    assert!(flaky.contains("checkout"), "{flaky}");
    let groups = page(&s, &b, &format!("/ui/{SP}/{WS}/failures")).await;
    assert!(groups.contains("Failure groups ("), "{groups}");
    // the browser's session is an API session too
    let api = b
        .get(format!(
            "{}/verdict/api/shared_spaces/{SP}/workspaces/{WS}/result_sets",
            s.url
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(api.status(), StatusCode::OK);
    // sign out (the form's token) ends it
    let csrf = token(&overview);
    let out = b
        .post(format!("{}/ui/sign-out", s.url))
        .form(&[("csrf", csrf.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(out.status(), StatusCode::SEE_OTHER);
    let r = b
        .get(format!("{}/ui/{SP}/{WS}", s.url))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::SEE_OTHER, "signed out");
}

async fn hostile_test_names_render_as_text(s: TestServer) {
    s.sign_in().await;
    let evil = "&lt;script&gt;alert(1)&lt;/script&gt;&lt;img src=x onerror=alert(2)&gt;";
    // the failure's message and stack are the report's too
    let failing = format!(
        r#"<test_run package="p" class="C" name="{evil}" duration="5" status="Failed" started="1000"><error type="{evil}" message="{evil}">{evil}</error></test_run>"#
    );
    let task = s.push_and_wait(&payload(&[failing]), false).await;
    assert_eq!(task["status"], "success");
    let b = browser();
    assert_eq!(
        sign_in(&s, &b, "admin", ADMIN_PASSWORD).await.status(),
        StatusCode::SEE_OTHER
    );
    let overview = page(&s, &b, &format!("/ui/{SP}/{WS}")).await;
    let at = overview.find("/results/").unwrap() + 9;
    let set_id: String = overview[at..]
        .chars()
        .take_while(char::is_ascii_digit)
        .collect();
    let set = page(&s, &b, &format!("/ui/{SP}/{WS}/results/{set_id}")).await;
    assert!(
        set.contains("&lt;script&gt;alert(1)&lt;/script&gt;"),
        "{set}"
    );
    assert!(!set.contains("<script") && !set.contains("<img"), "{set}");
    let at = set.find("/tests/").unwrap() + 7;
    let test_id: String = set[at..].chars().take_while(char::is_ascii_digit).collect();
    let story = page(&s, &b, &format!("/ui/{SP}/{WS}/tests/{test_id}")).await;
    assert!(
        story.contains("<pre class=\"message\">&lt;script&gt;"),
        "{story}"
    );
    assert!(
        !story.contains("<script") && !story.contains("<img src=x"),
        "{story}"
    );
    let found = page(
        &s,
        &b,
        &format!("/ui/{SP}/{WS}/results/{set_id}?q=%3Cscript%3E"),
    )
    .await;
    assert!(found.contains("Every run (1)"), "{found}");
    assert!(!found.contains("<script"), "{found}");
}

async fn forms_without_the_token_are_refused_and_tenants_stay_apart(s: TestServer) {
    let b = browser();
    // a sign-in without the cookie's token opens no session
    let r = b
        .post(format!("{}/ui/sign-in", s.url))
        .form(&[
            ("csrf", "0".repeat(64).as_str()),
            ("user", "admin"),
            ("password", ADMIN_PASSWORD),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    assert!(
        !format!("{:?}", r.headers()).contains("LWSSO"),
        "no session cookie"
    );
    // a user with a role in another workspace only sees that one
    let other = 4_242;
    s.tenant_user("mallory", "pw-mallory", other).await;
    assert_eq!(
        sign_in(&s, &b, "mallory", "pw-mallory").await.status(),
        StatusCode::SEE_OTHER
    );
    let r = b.get(format!("{}/", s.url)).send().await.unwrap();
    assert_eq!(
        r.headers()[LOCATION],
        format!("/ui/{SP}/{other}"),
        "straight to the only workspace"
    );
    let r = b
        .get(format!("{}/ui/{SP}/{WS}", s.url))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    let r = b
        .get(format!("{}/ui/{SP}/{WS}/flaky", s.url))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    let r = b
        .get(format!("{}/ui/{SP}/999999", s.url))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
}

async fn test_center_reports_show_their_tree_events_and_screenshots(s: TestServer) {
    let png = vec![0x89, b'P', b'N', b'G', 0, 1, 2, 3];
    let report = s
        .tc_report(
            "nightly-7",
            serde_json::json!([{"key": "os", "value": "linux"}]),
            &[
                ("cases", "tst_checkout"),
                ("features", "Checkout"),
                ("scenarios", "Pay by <b>card</b>"),
            ],
            &png,
        )
        .await;
    s.sign_in().await;
    let ws = s.workspace_named("Shop").await;
    let b = browser();
    assert_eq!(
        sign_in(&s, &b, "admin", ADMIN_PASSWORD).await.status(),
        StatusCode::SEE_OTHER
    );
    let batches = page(&s, &b, &format!("/ui/{SP}/{ws}/testcenter")).await;
    assert!(
        batches.contains("nightly-7") && batches.contains("os=linux"),
        "{batches}"
    );
    let tree = page(
        &s,
        &b,
        &format!("/ui/{SP}/{ws}/testcenter/reports/{report}"),
    )
    .await;
    for expect in [
        "suite_shop",
        "tst_checkout",
        "Pay by &lt;b&gt;card&lt;/b&gt;",
        "total wrong",
        "✗ failed",
    ] {
        assert!(tree.contains(expect), "{expect}: {tree}");
    }
    let at = tree.find("/screenshot\"").expect("an inline screenshot");
    let start = tree[..at].rfind("/ui/").unwrap();
    let shot_url = tree[start..at + 11].to_owned();
    let shot = b.get(format!("{}{shot_url}", s.url)).send().await.unwrap();
    assert_eq!(shot.status(), StatusCode::OK);
    assert_eq!(shot.headers()["content-type"], "image/png");
    assert_eq!(shot.bytes().await.unwrap().to_vec(), png);
    // another workspace's path to the same event finds nothing
    let other = shot_url.replacen(&format!("/ui/{SP}/{ws}/"), &format!("/ui/{SP}/{WS}/"), 1);
    let r = b.get(format!("{}{other}", s.url)).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
    let r = b
        .get(format!(
            "{}/ui/{SP}/{WS}/testcenter/reports/{report}",
            s.url
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(
        r.status(),
        StatusCode::NOT_FOUND,
        "the report is not in workspace {WS}"
    );
}
