//! The web UI in a real headless Chromium (Debian's `chromium` and
//! `chromium-driver`), driven over WebDriver: sign in, open each page,
//! filter, open a failure group and attach a note, mute a test, sign out.
//! Without Chromium the test says so and skips — except under `CI=true`,
//! where a skipped browser suite would be a green lie, so it fails.

use std::process::Stdio;
use std::time::Duration;

use fantoccini::{Client, ClientBuilder, Locator};
use serde_json::json;

use crate::harness::{ADMIN_PASSWORD, SP, TestServer, WS};
use crate::on_both_backends;

on_both_backends!(a_person_uses_the_ui_in_chromium);

const CHROMIUM: &str = "/usr/bin/chromium";
const DRIVER: &str = "/usr/bin/chromedriver";

/// chromedriver on a free loopback port, killed when dropped.
struct Driver {
    child: tokio::process::Child,
    url: String,
}

impl Drop for Driver {
    fn drop(&mut self) {
        let _ = self.child.start_kill();
    }
}

/// Starts chromedriver, or `None` (skip) where Chromium is not installed.
async fn driver() -> Option<Driver> {
    let missing: Vec<&str> = [CHROMIUM, DRIVER]
        .into_iter()
        .filter(|p| !std::path::Path::new(p).exists())
        .collect();
    if !missing.is_empty() {
        let why = format!(
            "{} missing (apt-get install chromium chromium-driver)",
            missing.join(", ")
        );
        assert!(
            std::env::var("CI").as_deref() != Ok("true"),
            "browser tests must run in CI: {why}"
        );
        eprintln!("skipping the browser test: {why}");
        return None;
    }
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let child = tokio::process::Command::new(DRIVER)
        .arg(format!("--port={port}"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .expect("chromedriver starts");
    let url = format!("http://127.0.0.1:{port}");
    for _ in 0..100 {
        if tokio::net::TcpStream::connect(("127.0.0.1", port))
            .await
            .is_ok()
        {
            return Some(Driver { child, url });
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("chromedriver did not listen on port {port}");
}

async fn browser(driver: &Driver) -> Client {
    open(driver, false).await
}

/// A session; `dark` asks pages for `prefers-color-scheme: dark`.
async fn open(driver: &Driver, dark: bool) -> Client {
    let mut args = vec![
        "--headless=new",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-dev-shm-usage",
        "--window-size=1200,900",
    ];
    if dark {
        args.extend([
            "--force-dark-mode",
            "--blink-settings=preferredColorScheme=0",
        ]);
    }
    let caps = json!({
        "goog:chromeOptions": { "binary": CHROMIUM, "args": args }
    });

    let serde_json::Value::Object(caps) = caps else {
        unreachable!()
    };
    ClientBuilder::new(hyper_util::client::legacy::connect::HttpConnector::new())
        .capabilities(caps)
        .connect(&driver.url)
        .await
        .expect("a Chromium session")
}

async fn path(c: &Client) -> String {
    let Ok(url) = c.current_url().await else {
        return String::new();
    };
    match url.query() {
        Some(q) => format!("{}?{q}", url.path()),
        None => url.path().to_owned(),
    }
}

/// The page's main text ("" while a page is being replaced).
async fn text(c: &Client) -> String {
    match c.find(Locator::Css("main")).await {
        Ok(main) => main.text().await.unwrap_or_default(),
        Err(_) => String::new(),
    }
}

/// Waits until the page satisfies `ready(path, text)` (at most 15 s): a
/// click or a submitted form returns before the next page has loaded.
async fn wait_until(c: &Client, what: &str, ready: impl Fn(&str, &str) -> bool) -> String {
    let (mut p, mut t) = (String::new(), String::new());
    for _ in 0..300 {
        p = path(c).await;
        t = text(c).await;
        if ready(&p, &t) {
            return t;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("waited 15 s for {what}; at {p}: {t}");
}

/// Fills and sends the sign-in form shown, as admin.
async fn submit_sign_in(c: &Client) {
    let form = c.form(Locator::Css("form.sign-in")).await.unwrap();
    form.set_by_name("user", "admin").await.unwrap();
    form.set_by_name("password", ADMIN_PASSWORD).await.unwrap();
    form.submit().await.unwrap();
}

fn run(name: &str, status: &str, started: i64) -> String {
    let error = if status == "Failed" {
        format!(
            r#"<error type="java.lang.AssertionError" message="total was {started}">java.lang.AssertionError: total was {started}
	at com.shop.Cart.total(Cart.java:42)</error>"#
        )
    } else {
        String::new()
    };
    format!(
        r#"<test_run package="p" class="Cart" name="{name}" duration="5" status="{status}" started="{started}">{error}</test_run>"#
    )
}

async fn a_person_uses_the_ui_in_chromium(s: TestServer) {
    let Some(driver) = driver().await else { return };
    s.sign_in().await;
    let now = verdict_store::now_ms();
    for (i, status) in ["Passed", "Failed", "Failed"].iter().enumerate() {
        let started = now - 10_000 + i as i64 * 1_000;
        let xml = format!(
            "<test_result><test_runs>{}{}</test_runs></test_result>",
            run("checkout", status, started),
            run("cart_total", "Passed", started)
        );
        assert_eq!(s.push_and_wait(&xml, false).await["status"], "success");
    }
    let checkout = s
        .entities("runs?query=%22name%20EQ%20%5Echeckout%5E%22")
        .await;
    let run_id = checkout["data"][0]["id"].as_str().unwrap().to_owned();
    let up = s
        .client
        .post(s.ws(&format!("attachments?name=checkout.png&owner_run={run_id}")))
        .header("Content-Type", "application/octet-stream")
        .body(PIXEL.to_vec())
        .send()
        .await
        .unwrap();
    assert!(up.status().is_success(), "{}", up.status());
    let c = browser(&driver).await;
    // signed out: the start leads to the sign-in form
    c.goto(&format!("{}/", s.url)).await.unwrap();
    assert!(
        path(&c).await.starts_with("/ui/sign-in"),
        "{}",
        path(&c).await
    );
    submit_sign_in(&c).await;
    // the only workspace opens at once
    let overview = format!("/ui/{SP}/{WS}");
    wait_until(&c, "the overview", |p, t| {
        p == overview && t.contains("result sets")
    })
    .await;
    // the keyboard's first stop is the link past the navigation
    c.find(Locator::Css("body"))
        .await
        .unwrap()
        .send_keys("\u{E004}")
        .await
        .unwrap();
    let first = c.active_element().await.unwrap();
    assert_eq!(first.text().await.unwrap(), "Skip to the content");
    assert_eq!(first.attr("href").await.unwrap().as_deref(), Some("#main"));
    // filter by kind, in the query string
    let filter = c.form(Locator::Css("main form")).await.unwrap();
    filter.set_by_name("kind", "push").await.unwrap();
    filter.submit().await.unwrap();
    wait_until(&c, "the filtered list", |p, t| {
        p.contains("kind=push") && t.contains("result sets")
    })
    .await;
    // the newest result set: checkout still failing, since the second push
    c.find(Locator::Css("tbody a[href*='/results/']"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    wait_until(&c, "the result set", |p, t| {
        p.contains("/results/") && t.contains("Still failing (1)") && t.contains("checkout")
    })
    .await;
    // each failed row shows its message's first line; the run list filters by text
    let text_now = text(&c).await;
    assert!(
        text_now.contains("java.lang.AssertionError: total was"),
        "{text_now}"
    );
    let runs = c.form(Locator::Css("form[action$='#runs']")).await.unwrap();
    runs.set_by_name("q", "CART_T").await.unwrap();
    runs.submit().await.unwrap();
    wait_until(&c, "the filtered runs", |p, t| {
        p.contains("q=CART_T") && t.contains("Every run (1)") && t.contains("cart_total")
    })
    .await;
    c.back().await.unwrap();
    wait_until(&c, "the result set again", |p, t| {
        !p.contains("q=") && t.contains("Every run (2)")
    })
    .await;
    // its failure group: attach a note
    c.find(Locator::Css("a[href*='/failures/']"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    wait_until(&c, "the failure group", |p, t| {
        p.contains("/failures/") && t.contains("java.lang.AssertionError")
    })
    .await;
    let triage = c
        .form(Locator::Css("form[action$='/triage']"))
        .await
        .unwrap();
    triage
        .set_by_name("note", "cart rounding, SHOP-7")
        .await
        .unwrap();
    triage
        .set_by_name("link", "https://tracker.example/SHOP-7")
        .await
        .unwrap();
    triage.submit().await.unwrap();
    wait_until(&c, "the note", |_, t| {
        t.contains("cart rounding, SHOP-7 https://tracker.example/SHOP-7")
    })
    .await;
    // the test: its story, then mute it
    c.find(Locator::Css("tbody a[href*='/tests/']"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    wait_until(&c, "the test", |p, t| {
        p.contains("/tests/") && t.contains("Success rate")
    })
    .await;
    // its newest failure: message, group with the note, and the run's screenshot, decoded
    let story = text(&c).await;
    assert!(
        story.contains("total was") && story.contains("cart rounding, SHOP-7"),
        "{story}"
    );
    let width = c
        .execute(
            "const i = document.querySelector('article.failure img.shot'); return i && i.complete ? i.naturalWidth : -1;",
            vec![],
        )
        .await
        .unwrap();
    assert_eq!(
        width,
        json!(1),
        "the run's 1×1 screenshot is loaded and decoded"
    );
    let mute = c.form(Locator::Css("form[action$='/mute']")).await.unwrap();
    mute.set_by_name("reason", "quarantined until SHOP-7")
        .await
        .unwrap();
    mute.submit().await.unwrap();
    wait_until(&c, "the mute", |_, t| {
        t.contains("Muted (quarantined) by admin")
    })
    .await;
    // the other pages open
    for (page, expect) in [
        ("failures", "java.lang.AssertionError"),
        ("flaky", "Flaky tests"),
        ("tasks", "Test-results tasks"),
    ] {
        c.goto(&format!("{}/ui/{SP}/{WS}/{page}", s.url))
            .await
            .unwrap();
        wait_until(&c, page, |_, t| t.contains(expect)).await;
    }
    // a Test Center report's screenshot, shown inline and decoded by the browser
    let report = s
        .tc_report("nightly-9", json!([]), &[("cases", "tst_checkout")], &PIXEL)
        .await;
    let ws = s.workspace_named("Shop").await;
    c.goto(&format!(
        "{}/ui/{SP}/{ws}/testcenter/reports/{report}",
        s.url
    ))
    .await
    .unwrap();
    wait_until(&c, "the report", |_, t| t.contains("total wrong")).await;
    let width = c
        .execute(
            "const i = document.querySelector('img.shot'); return i && i.complete ? i.naturalWidth : -1;",
            vec![],
        )
        .await
        .unwrap();
    assert_eq!(width, json!(1), "the 1×1 screenshot is loaded and decoded");
    if let Ok(dir) = std::env::var("VERDICT_UI_SCREENSHOTS") {
        let report = format!("{}/ui/{SP}/{ws}/testcenter/reports/{report}", s.url);
        screenshots(&s, &driver, &c, std::path::Path::new(&dir), &report).await;
    }
    // sign out
    c.find(Locator::Css("header form button"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    wait_until(&c, "the sign-in page", |p, _| p.starts_with("/ui/sign-in")).await;
    c.goto(&format!("{}/ui/{SP}/{WS}", s.url)).await.unwrap();
    wait_until(&c, "signed out", |p, _| p.starts_with("/ui/sign-in")).await;
    c.close().await.unwrap();
}

/// With `VERDICT_UI_SCREENSHOTS=DIR`, each page in light and dark, as in
/// `docs/screenshots/` (`VERDICT_UI_SCREENSHOTS=$PWD/docs/screenshots cargo test
/// -p verdict-server --test api browser::a_person_uses_the_ui_in_chromium::sqlite`).
async fn screenshots(
    s: &TestServer,
    driver: &Driver,
    light: &Client,
    dir: &std::path::Path,
    report: &str,
) {
    std::fs::create_dir_all(dir).unwrap();
    let dark = open(driver, true).await;
    dark.goto(&format!("{}/ui/sign-in", s.url)).await.unwrap();
    submit_sign_in(&dark).await;
    wait_until(&dark, "the dark session", |p, t| {
        !p.is_empty() && !p.starts_with("/ui/sign-in") && !t.is_empty()
    })
    .await;
    let overview = format!("{}/ui/{SP}/{WS}", s.url);
    let href = |c: &Client, css: &'static str| {
        let c = c.clone();
        async move {
            c.find(Locator::Css(css))
                .await
                .unwrap()
                .attr("href")
                .await
                .unwrap()
                .unwrap()
        }
    };
    light.goto(&overview).await.unwrap();
    let set = href(light, "tbody a[href*='/results/']").await;
    light.goto(&format!("{}{set}", s.url)).await.unwrap();
    let test = href(light, "tbody a[href*='/tests/']").await;
    let group = href(light, "a[href*='/failures/']").await;
    let pages = [
        ("overview", overview.clone()),
        ("result-set", format!("{}{set}", s.url)),
        ("test", format!("{}{test}", s.url)),
        ("failure-group", format!("{}{group}", s.url)),
        ("flaky", format!("{overview}/flaky")),
        ("tasks", format!("{overview}/tasks")),
        ("testcenter-report", report.to_owned()),
    ];
    for (name, url) in &pages {
        for (scheme, c) in [("light", light), ("dark", &dark)] {
            c.goto(url).await.unwrap();
            let png = c.screenshot().await.unwrap();
            std::fs::write(dir.join(format!("{name}-{scheme}.png")), png).unwrap();
        }
    }
    dark.close().await.unwrap();
}

/// A valid 1×1 PNG.
pub(crate) const PIXEL: [u8; 67] = [
    0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A, 0x00, 0x00, 0x00, 0x0D, 0x49, 0x48, 0x44, 0x52,
    0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x01, 0x08, 0x06, 0x00, 0x00, 0x00, 0x1F, 0x15, 0xC4,
    0x89, 0x00, 0x00, 0x00, 0x0D, 0x49, 0x44, 0x41, 0x54, 0x78, 0x9C, 0x63, 0x00, 0x01, 0x00, 0x00,
    0x05, 0x00, 0x01, 0x0D, 0x0A, 0x2D, 0xB4, 0x00, 0x00, 0x00, 0x00, 0x49, 0x45, 0x4E, 0x44, 0xAE,
    0x42, 0x60, 0x82,
];
