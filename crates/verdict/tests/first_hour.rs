//! The traps a new user met in the first hour (issue "real reports kept
//! exactly", second half): admin commands that silently did the wrong thing,
//! a first start that lost its password, two servers on one data directory,
//! a failed push answered from its failure, and errors that did not say
//! what was wrong.

// Test code: a failed unwrap is a failed test, with its message.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use std::io::{BufRead, BufReader, Read};
use std::path::Path;
use std::process::{Child, Command, Output, Stdio};

use support::{text, verdict};

fn admin(data: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_verdict"))
        .arg("admin")
        .args(args)
        .arg("--data-dir")
        .arg(data)
        .env("VERDICT_LOG", "warn")
        .env("VERDICT_NEW_PASSWORD", "new-pw")
        .output()
        .unwrap()
}

/// `verdict serve` on `listen` over `data`; returns the child and its first
/// stdout lines up to "listening" (or everything, if it exits).
fn serve(data: &Path, listen: &str, admin_password: Option<&str>) -> (Child, Vec<String>) {
    let mut command = Command::new(env!("CARGO_BIN_EXE_verdict"));
    command
        .args(["serve", "--listen", listen, "--data-dir"])
        .arg(data)
        .env("VERDICT_LOG", "warn")
        .env_remove("VERDICT_ADMIN_PASSWORD")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    if let Some(p) = admin_password {
        command.env("VERDICT_ADMIN_PASSWORD", p);
    }
    let mut child = command.spawn().unwrap();
    let mut seen = Vec::new();
    let stdout = BufReader::new(child.stdout.take().unwrap());
    for line in stdout.lines() {
        let line = line.unwrap();
        let done = line.starts_with("verdict listening on ");
        seen.push(line);
        if done {
            break;
        }
    }
    (child, seen)
}

fn url_of(lines: &[String]) -> String {
    lines
        .iter()
        .find_map(|l| l.strip_prefix("verdict listening on "))
        .unwrap_or_else(|| panic!("not listening: {lines:?}"))
        .to_owned()
}

fn stop(mut child: Child) -> String {
    let _ = child.kill();
    let _ = child.wait();
    let mut err = String::new();
    if let Some(mut e) = child.stderr.take() {
        let _ = e.read_to_string(&mut err);
    }
    err
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn admin_commands_say_what_is_wrong_and_keep_roles() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    // --data-dir works after the subcommand too (it is global).
    let out = admin(&data, &["user", "add", "bob"]);
    assert!(
        out.status.success() && text(&out).contains("user: bob"),
        "{}",
        text(&out)
    );
    // Re-adding admin is refused with the command that does it.
    let out = admin(&data, &["user", "add", "admin"]);
    assert!(!out.status.success(), "{}", text(&out));
    assert!(
        text(&out).contains("verdict admin user set-password admin"),
        "{}",
        text(&out)
    );
    // set-password keeps the administrator role (admin sees every workspace).
    let out = admin(&data, &["user", "set-password", "admin"]);
    assert!(out.status.success(), "{}", text(&out));
    let (child, lines) = serve(&data, "127.0.0.1:0", None);
    let url = url_of(&lines);
    let r = reqwest::Client::new()
        .get(format!(
            "{url}/api/shared_spaces/1001/workspaces/1002/tests"
        ))
        .basic_auth("admin", Some("new-pw"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200, "admin kept its role with its new password");
    stop(child);
    // Roles are validated and listed.
    let out = admin(
        &data,
        &[
            "workspace",
            "grant",
            "--user",
            "bob",
            "--workspace",
            "1002",
            "--role",
            "superhero",
        ],
    );
    assert!(
        !out.status.success() && text(&out).contains("member"),
        "{}",
        text(&out)
    );
    // A workspace id of another shared space is an error, not "already existed".
    assert!(
        admin(
            &data,
            &["shared-space", "create", "--id", "2001", "--name", "acme"]
        )
        .status
        .success()
    );
    assert!(
        admin(
            &data,
            &[
                "workspace",
                "create",
                "--shared-space",
                "2001",
                "--id",
                "2002",
                "--name",
                "web"
            ]
        )
        .status
        .success()
    );
    let out = admin(
        &data,
        &[
            "workspace",
            "create",
            "--shared-space",
            "1001",
            "--id",
            "2002",
            "--name",
            "web",
        ],
    );
    assert!(
        !out.status.success() && text(&out).contains("already exists in shared space 2001"),
        "{}",
        text(&out)
    );
    let out = admin(
        &data,
        &["workspace", "grant", "--user", "bob", "--workspace", "9999"],
    );
    assert!(
        !out.status.success() && text(&out).contains("no workspace 9999"),
        "{}",
        text(&out)
    );
}

#[test]
fn a_start_that_cannot_listen_creates_no_admin_and_names_the_address() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = taken.local_addr().unwrap().to_string();
    let (child, lines) = serve(&data, &addr, None);
    let err = stop(child);
    assert!(lines.is_empty(), "{lines:?}");
    assert!(err.contains(&format!("cannot listen on {addr}")), "{err}");
    drop(taken);
    // The next start is the first one: its generated password is shown.
    let (child, lines) = serve(&data, "127.0.0.1:0", None);
    assert!(
        lines
            .iter()
            .any(|l| l.starts_with("created user 'admin' with password: ")),
        "{lines:?}"
    );
    stop(child);
}

#[test]
fn one_server_per_data_directory_and_an_ignored_password_is_said() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let (first, lines) = serve(&data, "127.0.0.1:0", Some("first-pw"));
    url_of(&lines);
    let (second, lines) = serve(&data, "127.0.0.1:0", Some("second-pw"));
    let err = stop(second);
    assert!(lines.is_empty(), "{lines:?}");
    assert!(err.contains("is in use by another verdict serve"), "{err}");
    stop(first);
    // Restarted with another VERDICT_ADMIN_PASSWORD: it says the password is unchanged.
    let (again, lines) = serve(&data, "127.0.0.1:0", Some("second-pw"));
    assert!(
        lines
            .iter()
            .any(|l| l.contains("VERDICT_ADMIN_PASSWORD is only used on the first start")),
        "{lines:?}"
    );
    let err = stop(again);
    assert!(
        !err.contains('\u{1b}'),
        "log written to a pipe carries no colour codes: {err:?}"
    );
}

#[test]
fn push_errors_name_what_is_wrong() {
    let dir = tempfile::tempdir().unwrap();
    let work = dir.path();
    std::fs::write(work.join("pw"), "pw\n").unwrap();
    std::fs::write(
        work.join("r.xml"),
        r#"<testsuite name="s"><testcase classname="a.B" name="t"/></testsuite>"#,
    )
    .unwrap();
    std::fs::create_dir(work.join("reports")).unwrap();
    let free = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap();
    let cases: Vec<(Vec<String>, String)> = vec![
        (
            vec![
                "--server".into(),
                format!("http://{free}"),
                "--password-file".into(),
                "pw".into(),
                "r.xml".into(),
            ],
            format!("cannot reach http://{free}: nothing answers at that address"),
        ),
        (
            vec![
                "--server".into(),
                "127.0.0.1:8080".into(),
                "--password-file".into(),
                "pw".into(),
                "r.xml".into(),
            ],
            "must start with http:// or https://".into(),
        ),
        (
            vec![
                "--server".into(),
                format!("http://{free}"),
                "--password-file".into(),
                "missing-pw".into(),
                "r.xml".into(),
            ],
            "cannot read the password file missing-pw".into(),
        ),
        (
            vec![
                "--server".into(),
                format!("http://{free}"),
                "--password-file".into(),
                "pw".into(),
                "reports".into(),
            ],
            "reports is a directory".into(),
        ),
    ];
    for (args, said) in cases {
        let mut all = vec!["push", "--user", "admin"];
        all.extend(args.iter().map(String::as_str));
        let out = verdict(&all, work);
        assert!(
            !out.status.success() && text(&out).contains(&said),
            "{args:?}: want '{said}' in {}",
            text(&out)
        );
    }
    let out = verdict(&["convert", "nothing.xml"], work);
    assert!(
        !out.status.success() && text(&out).contains("cannot read nothing.xml"),
        "{}",
        text(&out)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failed_push_is_not_answered_from_its_failure_and_ci_servers_can_be_registered() {
    let server = support::Server::spawn(support::Backend::Sqlite, "first_hour").await;
    let work = server.dir.path();
    std::fs::write(work.join("r.xml"), r#"<testsuite name="s" timestamp="2026-12-01T10:00:00"><testcase classname="a.B" name="t"/></testsuite>"#).unwrap();
    let pw = server.password_file();
    let push = |extra: &[&str]| {
        let mut args = vec![
            "push",
            "--server",
            &server.url,
            "--user",
            "admin",
            "--password-file",
            pw.to_str().unwrap(),
            "--check-result",
        ];
        args.extend_from_slice(extra);
        args.push("r.xml");
        verdict(&args, work)
    };
    // A fresh workspace has no default release: the task fails, twice, as two tasks.
    let first = push(&["--release-default"]);
    assert!(
        !first.status.success() && text(&first).contains("failed"),
        "{}",
        text(&first)
    );
    let again = push(&["--release-default"]);
    assert!(!again.status.success(), "{}", text(&again));
    assert!(
        !text(&again).contains("identical push"),
        "a failed task is not reused: {}",
        text(&again)
    );
    // A build names a CI server: unknown at first, registered with `admin ci-server create`.
    let build = [
        "--build-server-id",
        "github",
        "--build-job-id",
        "shop-ci",
        "--build-id",
        "42",
    ];
    let out = push(&build);
    assert!(
        !out.status.success() && text(&out).contains("ci server 'github' not found"),
        "{}",
        text(&out)
    );
    let created = server.admin(&[
        "ci-server",
        "create",
        "--instance-id",
        "github",
        "--type",
        "github_actions",
    ]);
    assert!(created.status.success(), "{}", text(&created));
    let out = push(&build);
    assert!(
        out.status.success() && text(&out).contains(": success"),
        "{}",
        text(&out)
    );
    let builds = server
        .get("/api/shared_spaces/1001/workspaces/1002/ci_builds?fields=name,build_ci_id")
        .await;
    assert_eq!(builds["total_count"], 1, "{builds}");
}

#[test]
fn help_lists_every_command_and_option() {
    let help = |args: &[&str]| {
        let out = Command::new(env!("CARGO_BIN_EXE_verdict"))
            .args(args)
            .output()
            .unwrap();
        assert!(out.status.success());
        String::from_utf8(out.stdout).unwrap()
    };
    let top = help(&["--help"]);
    for command in ["serve", "admin", "push", "convert", "validate", "bench"] {
        assert!(top.contains(&format!("  {command}")), "{top}");
    }
    let push = help(&["push", "--help"]);
    for needle in [
        "VERDICT_PASSWORD",
        "--protocol",
        "[default: 1001]",
        "[default: 1002]",
        "Exit status",
        "--no-dedupe",
    ] {
        assert!(push.contains(needle), "push --help lacks {needle}: {push}");
    }
    assert!(help(&["admin", "--help"]).contains("CI servers"));
    // Every option of every command says what it is for.
    for args in [
        vec!["push", "--help"],
        vec!["serve", "--help"],
        vec!["admin", "user", "add", "--help"],
        vec!["admin", "workspace", "create", "--help"],
        vec!["admin", "workspace", "grant", "--help"],
        vec!["admin", "ci-server", "create", "--help"],
        vec!["admin", "token", "create", "--help"],
        vec!["admin", "shared-space", "create", "--help"],
    ] {
        let text = help(&args);
        let lines: Vec<&str> = text.lines().collect();
        for (i, line) in lines.iter().enumerate() {
            let trimmed = line.trim_start();
            if trimmed.starts_with("--") && !trimmed.starts_with("--help") {
                let described = trimmed
                    .split_once("  ")
                    .is_some_and(|(_, d)| !d.trim().is_empty())
                    || lines.get(i + 1).is_some_and(|next| {
                        !next.trim().is_empty() && !next.trim_start().starts_with('-')
                    });
                assert!(described, "{args:?}: '{trimmed}' has no description");
            }
        }
    }
}
