//! `verdict admin backup --to FILE` while `verdict serve` runs: the copy is
//! a database a new server starts on with everything pushed before it;
//! an existing file and a PostgreSQL database are refused with a message.

// Test code: a failed unwrap is a failed test, with its message.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use support::{Backend, Server, backends, text};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_online_backup_starts_a_server_with_what_was_pushed() {
    let server = Server::spawn(Backend::Sqlite, "backup").await;
    let dir = tempfile::tempdir().unwrap();
    let report = dir.path().join("junit.xml");
    std::fs::write(
        &report,
        r#"<testsuite name="s" tests="2"><testcase classname="a.B" name="kept" time="0.1"/><testcase classname="a.B" name="broken" time="0.1"><failure message="no">trace</failure></testcase></testsuite>"#,
    )
    .unwrap();
    let mut args = server.push_args();
    args.push(report.to_str().unwrap().to_owned());
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let out = support::verdict(&args, dir.path());
    assert!(out.status.success(), "{}", text(&out));
    let copy = dir.path().join("verdict-backup.db");
    let out = server.admin(&["backup", "--to", copy.to_str().unwrap()]);
    assert!(out.status.success(), "{}", text(&out));
    assert!(text(&out).contains("backup written"), "{}", text(&out));
    // Again onto the same file: refused, the first copy untouched.
    let size = std::fs::metadata(&copy).unwrap().len();
    let out = server.admin(&["backup", "--to", copy.to_str().unwrap()]);
    assert!(!out.status.success());
    assert!(text(&out).contains("exists already"), "{}", text(&out));
    assert_eq!(std::fs::metadata(&copy).unwrap().len(), size);
    // A data directory without a database: refused, nothing created.
    let empty = dir.path().join("not-the-data-dir");
    let out = support::verdict(
        &[
            "admin",
            "--data-dir",
            empty.to_str().unwrap(),
            "backup",
            "--to",
            dir.path().join("y.db").to_str().unwrap(),
        ],
        dir.path(),
    );
    assert!(!out.status.success());
    assert!(text(&out).contains("no database at"), "{}", text(&out));
    assert!(!empty.exists() && !dir.path().join("y.db").exists());
    // The copy is a database a new server runs on.
    let url = format!("sqlite://{}", copy.display());
    let restored = Server::spawn_with(Backend::Sqlite, "restored", &["--database-url", &url]).await;
    let runs = restored
        .get("/api/shared_spaces/1001/workspaces/1002/runs?fields=name,status")
        .await;
    assert_eq!(runs["total_count"], 2, "{runs}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_is_backed_up_with_its_own_tools() {
    if !backends().contains(&Backend::Postgres) {
        return;
    }
    let server = Server::spawn(Backend::Postgres, "backup_pg").await;
    let dir = tempfile::tempdir().unwrap();
    let out = server.admin(&["backup", "--to", dir.path().join("x.db").to_str().unwrap()]);
    assert!(!out.status.success());
    assert!(text(&out).contains("pg_dump"), "{}", text(&out));
}
