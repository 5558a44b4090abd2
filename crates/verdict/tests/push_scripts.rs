//! `verdict push` in scripts, against a real `verdict serve` on both
//! backends: a report read from standard input (`-`), `--output json` (one
//! object per file, summaries on standard error), Ctrl-C while following a
//! task, and the shell completions.
//! The reports are the real jest fixtures; the expected counts are jest's
//! own summary or the report's documented deviation (fixtures/jest/expected.json).

// Test code: a failed unwrap is a failed test, with its message.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use std::io::Write;
use std::process::{Command, Stdio};

use serde_json::Value;
use support::{Server, backends, repo_root, text};

/// jest's own counts of a report set in fixtures/jest/expected.json — or,
/// where the report itself loses what jest knew, its `verdict` entry (the
/// corpus test's rule).
fn expected(set: &str) -> Value {
    let all: Value = serde_json::from_str(
        &std::fs::read_to_string(repo_root().join("fixtures/jest/expected.json")).unwrap(),
    )
    .unwrap();
    let set = all["report_sets"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["name"] == set)
        .unwrap();
    if set["verdict"].is_object() {
        set["verdict"].clone()
    } else {
        set["expected"].clone()
    }
}

/// The JSON objects of standard output, one per line.
fn objects(stdout: &[u8]) -> Vec<Value> {
    String::from_utf8_lossy(stdout)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not JSON ({e}): {l}")))
        .collect()
}

fn assert_counts(object: &Value, expected: &Value) {
    assert_eq!(object["runs"], expected["tests"], "{object}");
    for k in ["passed", "failed", "skipped", "flaky"] {
        assert_eq!(object[k], expected[k], "{k}: {object}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn push_reads_standard_input_and_speaks_json_to_scripts() {
    let junit = repo_root().join("fixtures/jest/reports/jest-junit-default.xml");
    let ctrf = repo_root().join("fixtures/jest/reports/jest-ctrf.json");
    for backend in backends() {
        let server = Server::spawn(backend, "scripts").await;
        let work = tempfile::tempdir().unwrap();
        let push = server.push_args();
        let base: Vec<&str> = push.iter().map(String::as_str).collect();

        // a report on standard input, followed to its end
        let mut child = support::command(&base, work.path())
            .args(["--check-result", "--output", "json", "-"])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let bytes = std::fs::read(&junit).unwrap();
        child.stdin.take().unwrap().write_all(&bytes).unwrap();
        let out = child.wait_with_output().unwrap();
        assert!(out.status.success(), "{}", text(&out));
        let lines = objects(&out.stdout);
        assert_eq!(lines.len(), 1, "{}", text(&out));
        let o = &lines[0];
        assert_eq!(o["file"], "-");
        assert_eq!(o["format"], "JUnit");
        assert_counts(o, &expected("junit-default"));
        assert_eq!(o["status"], "success", "{o}");
        assert_eq!(o["duplicate"], false);
        assert_eq!(o["errors"], Value::Null);
        let task = o["task_id"].as_i64().unwrap();
        let stored = server
            .get(&format!(
                "/api/shared_spaces/1001/workspaces/1002/test-results/{task}"
            ))
            .await;
        assert_eq!(stored["status"], "success");

        // two files: one object each; the summary goes to standard error
        let out = support::verdict(
            &[
                &base[..],
                &[
                    "--summary",
                    "--output",
                    "json",
                    junit.to_str().unwrap(),
                    ctrf.to_str().unwrap(),
                ],
            ]
            .concat(),
            work.path(),
        );
        assert!(out.status.success(), "{}", text(&out));
        let lines = objects(&out.stdout);
        assert_eq!(lines.len(), 2, "{}", text(&out));
        assert_eq!(lines[0]["format"], "JUnit");
        assert_eq!(lines[1]["format"], "CTRF");
        assert_counts(&lines[1], &expected("ctrf"));
        assert!(
            String::from_utf8_lossy(&out.stderr).contains("failing since")
                || String::from_utf8_lossy(&out.stderr).contains("first of its series"),
            "the summary on stderr: {}",
            text(&out)
        );

        // the same file again: answered from the earlier task, with its status
        let out = support::verdict(
            &[&base[..], &["--output", "json", junit.to_str().unwrap()]].concat(),
            work.path(),
        );
        assert!(out.status.success(), "{}", text(&out));
        let again = &objects(&out.stdout)[0];
        assert_eq!(again["duplicate"], true, "{again}");
        assert_eq!(again["status"], "success", "{again}");

        // without --check-result a task is only accepted
        let out = support::verdict(
            &[
                &base[..],
                &["--no-dedupe", "--output", "json", ctrf.to_str().unwrap()],
            ]
            .concat(),
            work.path(),
        );
        assert!(out.status.success(), "{}", text(&out));
        assert_eq!(objects(&out.stdout)[0]["status"], "accepted");

        // standard input once only, refused before anything is pushed
        let out = support::verdict(&[&base[..], &["-", "-"]].concat(), work.path());
        assert!(!out.status.success());
        assert!(text(&out).contains("'-' (standard input) may be given once"));
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ctrl_c_while_following_says_what_was_pushed_and_which_task_to_look_at() {
    let junit = repo_root().join("fixtures/jest/reports/jest-junit-default.xml");
    let ctrf = repo_root().join("fixtures/jest/reports/jest-ctrf.json");
    for backend in backends() {
        // no workers: an accepted task stays queued, so the push is still following it
        let server = Server::spawn_with(backend, "ctrlc", &["--workers", "0"]).await;
        let work = tempfile::tempdir().unwrap();
        let push = server.push_args();
        let base: Vec<&str> = push.iter().map(String::as_str).collect();
        let child = support::command(&base, work.path())
            .args([
                "--check-result",
                junit.to_str().unwrap(),
                ctrf.to_str().unwrap(),
            ])
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let client = reqwest::Client::new();
        let task = format!(
            "{}/api/shared_spaces/1001/workspaces/1002/test-results/1",
            server.url
        );
        let mut accepted = false;
        for _ in 0..200 {
            let r = client
                .get(&task)
                .basic_auth("admin", Some(support::PASSWORD))
                .send()
                .await
                .unwrap();
            if r.status().is_success() {
                accepted = true;
                break;
            }
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        }
        assert!(accepted, "the first file's task was accepted");
        // the client polls the queued task; interrupt it there
        tokio::time::sleep(std::time::Duration::from_millis(300)).await;
        let killed = Command::new("kill")
            .args(["-INT", &child.id().to_string()])
            .status()
            .unwrap();
        assert!(killed.success());
        let out = child.wait_with_output().unwrap();
        assert_eq!(out.status.code(), Some(130), "{}", text(&out));
        let said = String::from_utf8_lossy(&out.stderr);
        assert!(said.contains("interrupted (Ctrl-C)"), "{said}");
        assert!(
            said.contains(&format!(
                "{}: pushed, task 1 accepted and still processing on the server; its status: GET {task}",
                junit.display()
            )),
            "{said}"
        );
        assert!(
            said.contains(&format!("{}: not pushed", ctrf.display())),
            "{said}"
        );
    }
}

#[test]
fn completions_are_generated_for_each_shell() {
    let dir = tempfile::tempdir().unwrap();
    for (shell, marker) in [
        ("bash", "_verdict()"),
        ("zsh", "#compdef verdict"),
        ("fish", "complete -c verdict"),
    ] {
        let out = support::verdict(&["completions", shell], dir.path());
        assert!(out.status.success(), "{shell}: {}", text(&out));
        let script = String::from_utf8_lossy(&out.stdout);
        assert!(script.contains(marker), "{shell}: {script}");
        assert!(
            script.contains("check-result"),
            "{shell} knows push's flags"
        );
    }
    let out = support::verdict(&["completions", "tcsh"], dir.path());
    assert!(!out.status.success());
    assert!(text(&out).contains("possible values"), "{}", text(&out));
}
