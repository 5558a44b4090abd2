//! The README, run the way a reader runs it: its first block's `serve`
//! started and stopped with Ctrl-C, then every other `sh` block in order in
//! one shell, from a fresh directory holding the repository's `fixtures/`.
//! A `#> text` line under a command is output the block must print (in
//! order; `…` matches anything). `cargo run --release --` and `cargo build
//! --release` are the binary under test, and port 8080 a free port.

// Test code: a failed unwrap is a failed test, with its message.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use std::io::{BufRead, BufReader};
use std::os::unix::process::CommandExt;
use std::path::Path;
use std::process::{Command, Stdio};

/// A fenced code block of the README.
struct Block {
    info: String,
    lines: Vec<String>,
    /// 1-based line of the opening fence, for messages.
    at: usize,
}

fn blocks(readme: &str) -> Vec<Block> {
    let mut out = Vec::new();
    let mut open: Option<Block> = None;
    for (i, line) in readme.lines().enumerate() {
        match (&mut open, line.strip_prefix("```")) {
            (None, Some(info)) => {
                open = Some(Block {
                    info: info.trim().to_owned(),
                    lines: Vec::new(),
                    at: i + 1,
                });
            }
            (Some(_), Some("")) => out.push(open.take().unwrap()),
            (Some(block), _) => block.lines.push(line.to_owned()),
            (None, None) => {}
        }
    }
    assert!(open.is_none(), "README has an unclosed code block");
    out
}

/// The block as the test runs it.
fn adapt(line: &str, port: u16) -> Option<String> {
    let trimmed = line.trim_start();
    if trimmed.starts_with("cargo build --release") || trimmed.starts_with("cargo test") {
        return None;
    }
    Some(
        line.replace("cargo run --release --", "verdict")
            .replace("127.0.0.1:8080", &format!("127.0.0.1:{port}")),
    )
}

/// Whether `output` holds every expected line in order (`…` is a wildcard).
fn check(expected: &[String], output: &str) -> Result<(), String> {
    let mut rest = output;
    for want in expected {
        let parts: Vec<&str> = want.split('…').collect();
        let mut found = false;
        for (line_start, line) in line_offsets(rest) {
            if matches_line(&parts, line) {
                rest = &rest[line_start + line.len()..];
                found = true;
                break;
            }
        }
        if !found {
            return Err(format!("expected '{want}' (in order) in:\n{output}"));
        }
    }
    Ok(())
}

fn line_offsets(text: &str) -> impl Iterator<Item = (usize, &str)> {
    let mut at = 0;
    text.split_inclusive('\n').map(move |l| {
        let start = at;
        at += l.len();
        (start, l.trim_end_matches('\n'))
    })
}

fn matches_line(parts: &[&str], line: &str) -> bool {
    let mut from = 0;
    for (i, part) in parts.iter().enumerate() {
        match line[from..].find(part) {
            Some(pos) if i > 0 || !part.is_empty() || pos == 0 => from += pos + part.len(),
            _ => return false,
        }
    }
    true
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

#[test]
fn the_readme_runs_as_written_in_order() {
    let readme = std::fs::read_to_string(support::repo_root().join("README.md")).unwrap();
    let blocks = blocks(&readme);
    let shell: Vec<&Block> = blocks.iter().filter(|b| b.info == "sh").collect();
    assert!(shell.len() >= 8, "README lost its examples");
    let work = tempfile::tempdir().unwrap();
    let dir = work.path();
    std::os::unix::fs::symlink(support::repo_root().join("fixtures"), dir.join("fixtures"))
        .unwrap();
    let bin = Path::new(env!("CARGO_BIN_EXE_verdict"))
        .parent()
        .unwrap()
        .to_owned();
    let path = format!(
        "{}:{}",
        bin.display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let port = free_port();

    // The quick start: the first block's `serve`, stopped with Ctrl-C.
    let first = &shell[0];
    assert!(
        first.lines[0].starts_with("cargo run --release -- serve"),
        "{:?}",
        first.lines
    );
    assert!(
        first
            .lines
            .iter()
            .any(|l| l.starts_with("cargo test --workspace")),
        "{:?}",
        first.lines
    );
    let mut serve = Command::new(env!("CARGO_BIN_EXE_verdict"))
        .arg("serve")
        .current_dir(dir)
        .env("VERDICT_LISTEN", format!("127.0.0.1:{port}"))
        .env_remove("VERDICT_ADMIN_PASSWORD")
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut said = Vec::new();
    for line in BufReader::new(serve.stdout.take().unwrap()).lines() {
        let line = line.unwrap();
        let done = line.starts_with("verdict listening on");
        said.push(line);
        if done {
            break;
        }
    }
    assert!(
        said.iter()
            .any(|l| l.starts_with("created user 'admin' with password: ")),
        "{said:?}"
    );
    assert!(
        said.last()
            .is_some_and(|l| l.contains(&format!("http://127.0.0.1:{port}"))),
        "{said:?}"
    );
    Command::new("kill")
        .args(["-s", "INT", "--", &serve.id().to_string()])
        .status()
        .unwrap();
    assert!(
        serve.wait().unwrap().success(),
        "Ctrl-C stops the server cleanly"
    );

    // Every other block, in order, in one shell.
    let marker = "=====README-BLOCK-END=====";
    // What a reader sees on the terminal: stdout and stderr together.
    let mut script = String::from("exec 2>&1\nset -euo pipefail\n");
    let mut expected: Vec<(usize, Vec<String>)> = Vec::new();
    for block in &shell[1..] {
        let mut want = Vec::new();
        for line in &block.lines {
            if let Some(out) = line.strip_prefix("#> ") {
                want.push(out.replace("127.0.0.1:8080", &format!("127.0.0.1:{port}")));
            } else if let Some(adapted) = adapt(line, port) {
                script.push_str(&adapted);
                script.push('\n');
            }
        }
        script.push_str(&format!("echo '{marker}'\n"));
        expected.push((block.at, want));
    }
    std::fs::write(dir.join("readme.sh"), &script).unwrap();
    let child = Command::new("timeout")
        .args(["600", "bash", "readme.sh"])
        .current_dir(dir)
        .env("PATH", &path)
        .env("HOME", dir)
        .env("VERDICT_LISTEN", format!("127.0.0.1:{port}"))
        .env_remove("VERDICT_ADMIN_PASSWORD")
        .env_remove("VERDICT_PASSWORD")
        .env_remove("VERDICT_SERVER")
        .process_group(0)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let group = child.id();
    let out = child.wait_with_output().unwrap();
    // Whatever the README left running goes with its process group.
    let _ = Command::new("kill")
        .args(["-s", "TERM", "--", &format!("-{group}")])
        .status();
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    let outputs: Vec<&str> = stdout.split(&format!("{marker}\n")).collect();
    for (i, (at, want)) in expected.iter().enumerate() {
        let Some(output) = outputs.get(i).filter(|_| i + 1 < outputs.len()) else {
            panic!(
                "the README block at line {at} failed (exit {:?}):\n--- its output:\n{}\n--- stderr:\n{stderr}",
                out.status.code(),
                outputs.get(i).unwrap_or(&"")
            );
        };
        if let Err(e) = check(want, output) {
            panic!("README block at line {at}: {e}\n--- stderr:\n{stderr}");
        }
    }
    assert!(out.status.success(), "{stderr}");
}
