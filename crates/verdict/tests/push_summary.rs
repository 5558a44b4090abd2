//! `verdict push --summary / --summary-markdown / --fail-on` against a real
//! `verdict serve`, on both backends: the comparison with the previous push,
//! "failing since", Markdown for a CI step summary, and a quality gate that
//! a muted test does not break.

// Test code: a failed unwrap is a failed test, with its message.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use std::path::Path;

use support::{Server, backends, text};

fn junit(path: &Path, results: &[(&str, bool)], timestamp: &str) {
    let cases: String = results
        .iter()
        .map(|(name, passed)| {
            if *passed {
                format!(r#"<testcase classname="com.acme.CartTest" name="{name}" time="0.5"/>"#)
            } else {
                format!(
                    r#"<testcase classname="com.acme.CartTest" name="{name}" time="0.5"><failure message="expected 3 but was 4" type="java.lang.AssertionError">java.lang.AssertionError: expected 3 but was 4
	at com.acme.CartTest.{name}(CartTest.java:12)</failure></testcase>"#
                )
            }
        })
        .collect();
    std::fs::write(
        path,
        format!(r#"<?xml version="1.0"?><testsuite name="com.acme.CartTest" tests="{}" timestamp="{timestamp}">{cases}</testsuite>"#, results.len()),
    )
    .unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn summary_compares_with_the_previous_push_and_gates_the_exit_status() {
    for backend in backends() {
        let server = Server::spawn(backend, "summary").await;
        let work = tempfile::tempdir().unwrap();
        let pw = server.password_file();
        let push = |file: &str, extra: &[&str]| {
            let mut args = vec![
                "push",
                "--server",
                &server.url,
                "--user",
                "admin",
                "--password-file",
                pw.to_str().unwrap(),
            ];
            args.extend_from_slice(extra);
            args.push(file);
            support::verdict(&args, work.path())
        };
        junit(
            &work.path().join("a.xml"),
            &[("adds", true), ("pays", false)],
            "2026-11-26T10:00:00",
        );
        let out = push("a.xml", &["--summary", "--fail-on", "never"]);
        assert!(out.status.success(), "{}", text(&out));
        assert!(text(&out).contains("first of its series"), "{}", text(&out));

        junit(
            &work.path().join("b.xml"),
            &[("adds", false), ("pays", false), ("new_one", true)],
            "2026-11-27T10:00:00",
        );
        let md = work.path().join("summary.md");
        let out = push(
            "b.xml",
            &[
                "--summary",
                "--summary-markdown",
                md.to_str().unwrap(),
                "--fail-on",
                "new",
            ],
        );
        let said = text(&out);
        assert!(
            !out.status.success(),
            "a new failure fails --fail-on new: {said}"
        );
        assert!(
            said.contains("--fail-on new: 1 result set(s) have a new failure"),
            "{said}"
        );
        assert!(
            said.contains("New failures (1):\n    com.acme.CartTest.adds — failing since push"),
            "{said}"
        );
        assert!(
            said.contains("Still failing (1):\n    com.acme.CartTest.pays — failing since push"),
            "{said}"
        );
        assert!(said.contains("never passed"), "pays never passed: {said}");
        assert!(
            said.contains("New tests (1):\n    com.acme.CartTest.new_one"),
            "{said}"
        );
        let markdown = std::fs::read_to_string(&md).unwrap();
        assert!(markdown.contains("| New failures | 1 |"), "{markdown}");
        assert!(markdown.contains("| Still failing | 1 |"), "{markdown}");
        assert!(markdown.contains("com.acme.CartTest.adds"), "{markdown}");

        // still failing only: `new` passes, `any` fails
        junit(
            &work.path().join("c.xml"),
            &[("adds", true), ("pays", false), ("new_one", true)],
            "2026-11-28T10:00:00",
        );
        let out = push("c.xml", &["--fail-on", "new"]);
        assert!(out.status.success(), "{}", text(&out));
        junit(
            &work.path().join("d.xml"),
            &[("adds", true), ("pays", false), ("new_one", true)],
            "2026-11-29T10:00:00",
        );
        let out = push("d.xml", &["--fail-on", "any"]);
        assert!(!out.status.success(), "{}", text(&out));
        assert!(
            text(&out).contains("a failure that is not muted"),
            "{}",
            text(&out)
        );

        // muted: the gate ignores it, the summary lists it apart
        let tests = server
            .get("/api/shared_spaces/1001/workspaces/1002/tests?query=%22name%20EQ%20%5Epays%5E%22")
            .await;
        let id = tests["data"][0]["id"].as_str().unwrap().to_owned();
        let r = reqwest::Client::new()
            .put(format!(
                "{}/verdict/api/shared_spaces/1001/workspaces/1002/tests/{id}/mute",
                server.url
            ))
            .basic_auth("admin", Some(support::PASSWORD))
            .json(&serde_json::json!({"reason": "SHOP-9"}))
            .send()
            .await
            .unwrap();
        assert!(r.status().is_success());
        junit(
            &work.path().join("e.xml"),
            &[("adds", true), ("pays", false), ("new_one", true)],
            "2026-11-30T10:00:00",
        );
        let out = push("e.xml", &["--summary", "--fail-on", "any"]);
        assert!(
            out.status.success(),
            "a muted failure does not break the gate: {}",
            text(&out)
        );
        assert!(
            text(&out).contains("Muted (1):\n    com.acme.CartTest.pays"),
            "{}",
            text(&out)
        );
    }
}

#[test]
fn summary_is_refused_for_test_center_imports() {
    let work = tempfile::tempdir().unwrap();
    std::fs::write(work.path().join("r.xml"), "<testsuite/>").unwrap();
    let out = support::verdict(
        &[
            "push",
            "--server",
            "http://127.0.0.1:9",
            "--user",
            "u",
            "--protocol",
            "testcenter",
            "--project",
            "P",
            "--summary",
            "r.xml",
        ],
        work.path(),
    );
    assert!(!out.status.success());
    assert!(
        text(&out).contains("work with --protocol octane"),
        "{}",
        text(&out)
    );
}
