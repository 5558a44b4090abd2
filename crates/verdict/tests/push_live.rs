//! `verdict push` in a real pseudo-terminal (util-linux `script`), against a
//! real `verdict serve` on both backends: a large report's line moves
//! through converting, validating, compressing, uploading and the server's
//! processing (runs applied of total), then gives way to the summary line;
//! several files add a total line; without a terminal, or with `--quiet`,
//! no live line is written.
//! Without `script` the test says so and skips — except under `CI=true`.

// Test code: a failed unwrap is a failed test, with its message.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use std::fmt::Write as _;
use std::path::Path;
use std::process::Command;

use support::{Server, backends, text};

const SCRIPT: &str = "/usr/bin/script";
const CASES: usize = 8_000;

fn big_junit(path: &Path) {
    let mut xml = String::from(
        r#"<?xml version="1.0"?><testsuite name="big" timestamp="2026-12-01T10:00:00">"#,
    );
    for i in 0..CASES {
        let _ = write!(
            xml,
            r#"<testcase classname="com.acme.Big{}" name="case_{i}" time="0.01"/>"#,
            i % 50
        );
    }
    xml.push_str("</testsuite>");
    std::fs::write(path, xml).unwrap();
}

/// Runs `verdict ARGS` inside a pseudo-terminal; returns what the terminal showed.
fn in_terminal(args: &[&str], dir: &Path) -> (bool, String) {
    let mut line = shell_quote(env!("CARGO_BIN_EXE_verdict"));
    for a in args {
        line.push(' ');
        line.push_str(&shell_quote(a));
    }
    let out = Command::new(SCRIPT)
        .args(["-q", "-f", "-e", "-c", &line, "/dev/null"])
        .current_dir(dir)
        .env("VERDICT_LOG", "warn")
        .env("HOME", dir)
        .env("TERM", "xterm")
        .env("COLUMNS", "160")
        .output()
        .unwrap();
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
    )
}

fn shell_quote(s: &str) -> String {
    format!("'{}'", s.replace('\'', r"'\''"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_large_push_shows_each_phase_on_the_terminal() {
    if !Path::new(SCRIPT).exists() {
        assert!(
            std::env::var("CI").as_deref() != Ok("true"),
            "the terminal test must run in CI: {SCRIPT} missing (util-linux)"
        );
        eprintln!("skipping: {SCRIPT} missing (util-linux)");
        return;
    }
    for backend in backends() {
        let server = Server::spawn(backend, "live").await;
        let work = tempfile::tempdir().unwrap();
        big_junit(&work.path().join("big.xml"));
        let push = server.push_args();
        let mut base: Vec<&str> = push.iter().map(String::as_str).collect();
        base.push("--check-result");
        let (ok, shown) = in_terminal(&[&base[..], &["big.xml"]].concat(), work.path());
        assert!(ok, "{shown}");
        if std::env::var_os("VERDICT_SHOW_TERMINAL").is_some() {
            eprintln!("{shown:?}");
        }
        for phase in [
            "big.xml: converting",
            "big.xml: validating",
            "big.xml: compressing",
            "big.xml: uploading",
            "big.xml: task 1 ",
        ] {
            assert!(shown.contains(phase), "{phase} in: {shown}");
        }
        // the server's own figure, while the task ran (or the task was done first)
        let figure = shown
            .split("processing ")
            .skip(1)
            .filter_map(|rest| rest.split_once(" runs"))
            .filter_map(|(n, _)| n.split_once('/'))
            .map(|(done, total)| (done.to_owned(), total.to_owned()))
            .next();
        if let Some((done, total)) = &figure {
            assert_eq!(total, &CASES.to_string(), "{shown}");
            assert!(done.parse::<usize>().unwrap() <= CASES);
        } else {
            assert!(
                shown.contains("queued") || shown.contains("processing"),
                "a queued or processing phase: {shown}"
            );
        }
        assert!(
            shown.contains(&format!("big.xml: {CASES} runs ({CASES} passed, 0 failed, 0 skipped, 0 flaky) → task 1: success")),
            "the summary line: {shown}"
        );

        // several files: a line each, then the total
        std::fs::copy(work.path().join("big.xml"), work.path().join("again.xml")).unwrap();
        let (ok, both) = in_terminal(
            &[&base[..], &["--no-dedupe", "big.xml", "again.xml"]].concat(),
            work.path(),
        );
        assert!(ok, "{both}");
        for expected in [
            "total: 0/2 files done",
            "total: 1/2 files done",
            "again.xml: uploading",
            "again.xml: 8000 runs",
        ] {
            assert!(both.contains(expected), "{expected} in: {both}");
        }

        // --quiet: the summary line only
        let (ok, quiet) = in_terminal(
            &[&base[..], &["--quiet", "--no-dedupe", "big.xml"]].concat(),
            work.path(),
        );
        assert!(ok, "{quiet}");
        assert!(
            !quiet.contains("converting") && !quiet.contains("uploading"),
            "{quiet}"
        );
        assert!(quiet.contains("→ task 4: success"), "{quiet}");

        // not a terminal: no live line on standard error
        let out = support::verdict(
            &[&base[..], &["--no-dedupe", "big.xml"]].concat(),
            work.path(),
        );
        assert!(out.status.success(), "{}", text(&out));
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(
            !stderr.contains("converting") && !stderr.contains("uploading"),
            "{stderr}"
        );
    }
}
