//! The client side end to end: `verdict convert`, `verdict validate` and
//! `verdict push` (Octane and Test Center modes) against a real `verdict
//! serve`, and the converted payloads checked by `xmllint` with the served XSD.

// Test code: a failed unwrap is a failed test, with its message.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Output, Stdio};

use serde_json::Value;

const JUNIT: &str = r#"<?xml version="1.0" encoding="UTF-8"?>
<testsuite name="com.acme.CartTest" tests="3" timestamp="2026-11-26T10:00:00">
  <testcase classname="com.acme.CartTest" name="adds" time="0.5"/>
  <testcase classname="com.acme.CartTest" name="removes" time="1.25"><failure message="expected 0" type="java.lang.AssertionError">java.lang.AssertionError: expected 0
	at com.acme.CartTest.removes(CartTest.java:12)</failure></testcase>
  <testcase classname="com.acme.CartTest" name="pays" time="0"><skipped message="no sandbox"/></testcase>
</testsuite>"#;

struct Server {
    child: Child,
    url: String,
    _dir: tempfile::TempDir,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn serve() -> Server {
    let dir = tempfile::tempdir().unwrap();
    let mut child = Command::new(env!("CARGO_BIN_EXE_verdict"))
        .args(["serve", "--listen", "127.0.0.1:0", "--data-dir"])
        .arg(dir.path().join("data"))
        .env("VERDICT_ADMIN_PASSWORD", "push-pw")
        .env("VERDICT_LOG", "warn")
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let url = loop {
        let line = lines.next().unwrap().unwrap();
        if let Some(url) = line.strip_prefix("verdict listening on ") {
            break url.to_owned();
        }
    };
    Server {
        child,
        url,
        _dir: dir,
    }
}

fn verdict(args: &[&str], dir: &Path) -> Output {
    Command::new(env!("CARGO_BIN_EXE_verdict"))
        .args(args)
        .current_dir(dir)
        .env("VERDICT_LOG", "warn")
        .env("HOME", dir)
        .output()
        .unwrap()
}

fn text(o: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

async fn get(url: &str) -> Value {
    reqwest::Client::new()
        .get(url)
        .basic_auth("admin", Some("push-pw"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn push_converts_validates_and_follows_the_task() {
    let server = serve();
    let work = tempfile::tempdir().unwrap();
    let reports = work.path().join("reports/unit");
    std::fs::create_dir_all(&reports).unwrap();
    std::fs::write(reports.join("TEST-cart.xml"), JUNIT).unwrap();
    std::fs::write(work.path().join("pw"), "push-pw\n").unwrap();
    let out = verdict(
        &[
            "push",
            "--server",
            &server.url,
            "--shared-space",
            "1001",
            "--workspace",
            "1002",
            "--user",
            "admin",
            "--password-file",
            "pw",
            "--tag",
            "Browser:Chrome",
            "--field",
            "Framework:JUnit",
            "--check-result",
            "--quiet",
            "reports/**/*.xml",
        ],
        work.path(),
    );
    assert!(out.status.success(), "{}", text(&out));
    let said = text(&out);
    assert!(
        said.contains("3 runs (1 passed, 1 failed, 1 skipped, 0 flaky)")
            && said.contains(": success"),
        "{said}"
    );
    let runs = get(&format!(
        "{}/api/shared_spaces/1001/workspaces/1002/runs?order_by=name",
        server.url
    ))
    .await;
    assert_eq!(runs["total_count"], 3);
    let removes = runs["data"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["name"] == "removes")
        .unwrap();
    assert_eq!(removes["status"]["name"], "Failed");
    assert_eq!(removes["error_type"], "java.lang.AssertionError");
    assert_eq!(removes["duration"], 1250);
    assert_eq!(removes["taxonomies"]["data"][0]["name"], "Chrome");
    let tests = get(&format!(
        "{}/api/shared_spaces/1001/workspaces/1002/tests?query=%22name%20EQ%20%5Eadds%5E%22",
        server.url
    ))
    .await;
    assert_eq!(
        (
            tests["data"][0]["package"].as_str(),
            tests["data"][0]["class_name"].as_str()
        ),
        (Some("com.acme"), Some("CartTest"))
    );
    assert_eq!(tests["data"][0]["framework"]["name"], "JUnit");
    // Wrong password: a clear error and a non-zero exit.
    std::fs::write(work.path().join("bad"), "nope").unwrap();
    let out = verdict(
        &[
            "push",
            "--server",
            &server.url,
            "--user",
            "admin",
            "--password-file",
            "bad",
            "--quiet",
            "reports/unit/TEST-cart.xml",
        ],
        work.path(),
    );
    assert!(!out.status.success());
    assert!(text(&out).contains("sign-in"), "{}", text(&out));
    // A release that does not exist: the task fails and so does the command.
    let out = verdict(
        &[
            "push",
            "--server",
            &server.url,
            "--user",
            "admin",
            "--password-file",
            "pw",
            "--release",
            "424242",
            "--check-result",
            "--quiet",
            "reports/unit/TEST-cart.xml",
        ],
        work.path(),
    );
    assert!(!out.status.success());
    assert!(
        text(&out).contains("failed (global: release_ref id 424242 not found)"),
        "{}",
        text(&out)
    );
    // Cucumber JSON becomes gherkin runs with their scenarios.
    let cucumber = std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../verdict-ingest/tests/reports_json/cucumber-jvm.json");
    std::fs::copy(&cucumber, work.path().join("cucumber.json")).unwrap();
    let out = verdict(
        &[
            "push",
            "--server",
            &server.url,
            "--user",
            "admin",
            "--password-file",
            "pw",
            "--check-result",
            "--quiet",
            "cucumber.json",
        ],
        work.path(),
    );
    assert!(out.status.success(), "{}", text(&out));
    let gherkin = get(&format!(
        "{}/api/shared_spaces/1001/workspaces/1002/gherkin_runs",
        server.url
    ))
    .await;
    assert!(gherkin["total_count"].as_i64().unwrap() >= 1, "{gherkin}");
    let steps = get(&format!("{}/api/shared_spaces/1001/workspaces/1002/run_steps?query=%22kind%20EQ%20%5Escenario%5E%22", server.url)).await;
    assert!(steps["total_count"].as_i64().unwrap() >= 2, "{steps}");
    // Test Center mode through the server's import (`--format` is the old name of `--protocol`).
    let out = verdict(
        &[
            "push",
            "--format",
            "testcenter",
            "--server",
            &server.url,
            "--user",
            "admin",
            "--password-file",
            "pw",
            "--project",
            "Pushed",
            "--batch",
            "b1",
            "--quiet",
            "reports/unit/TEST-cart.xml",
        ],
        work.path(),
    );
    assert!(out.status.success(), "{}", text(&out));
    assert!(
        text(&out).contains(
            "3 runs (1 passed, 1 failed, 1 skipped, 0 flaky) → Test Center project Pushed, batch b1"
        ),
        "{}",
        text(&out)
    );
}

#[test]
fn converted_payloads_validate_offline_and_with_xmllint() {
    let work = tempfile::tempdir().unwrap();
    std::fs::write(work.path().join("junit.xml"), JUNIT).unwrap();
    let out = verdict(
        &[
            "convert",
            "junit.xml",
            "-o",
            "payload.xml",
            "--release-default",
            "--tag",
            "OS:Linux",
            "--build-server-id",
            "ci",
            "--build-job-id",
            "job",
            "--build-id",
            "7",
        ],
        work.path(),
    );
    assert!(out.status.success(), "{}", text(&out));
    let out = verdict(&["validate", "payload.xml"], work.path());
    assert!(
        out.status.success() && text(&out).contains("valid (3 runs)"),
        "{}",
        text(&out)
    );
    std::fs::write(work.path().join("broken.xml"), "<test_result><test_runs><test_run name=\"x\" duration=\"1\" status=\"ok\"/></test_runs></test_result>").unwrap();
    let out = verdict(&["validate", "broken.xml"], work.path());
    assert!(
        !out.status.success() && text(&out).contains("line 1, column"),
        "{}",
        text(&out)
    );
    let out = verdict(&["convert", "broken.xml"], work.path());
    assert!(
        !out.status.success()
            && text(&out).contains("broken.xml: not a valid payload: line 1, column"),
        "an invalid Octane payload is refused where it is wrong: {}",
        text(&out)
    );
    std::fs::write(work.path().join("notes.txt"), "hello").unwrap();
    let out = verdict(&["convert", "notes.txt"], work.path());
    assert!(
        !out.status.success() && text(&out).contains("notes.txt: not a supported report"),
        "{}",
        text(&out)
    );
    std::fs::write(
        work.path().join("cut.xml"),
        "<testsuite name=\"s\">\n<testcase name=\"a\">",
    )
    .unwrap();
    let out = verdict(&["convert", "cut.xml"], work.path());
    assert!(
        !out.status.success() && text(&out).contains("cut.xml: line"),
        "{}",
        text(&out)
    );
    // The same payload through libxml2 with the served XSD.
    let xmllint_ok = Command::new("xmllint")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success());
    if !xmllint_ok {
        assert!(
            std::env::var("CI").as_deref() != Ok("true"),
            "CI=true but xmllint is missing (apt-get install libxml2-utils)"
        );
        eprintln!("skipping the xmllint half: install libxml2-utils");
        return;
    }
    std::fs::write(work.path().join("schema.xsd"), verdict_ingest::OCTANE_XSD).unwrap();
    let out = Command::new("xmllint")
        .args(["--noout", "--schema", "schema.xsd", "payload.xml"])
        .current_dir(work.path())
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", text(&out));
}
