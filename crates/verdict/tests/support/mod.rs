//! Shared by the binary's integration tests: a real `verdict serve` on
//! `127.0.0.1:0` over SQLite or a throwaway PostgreSQL database, the
//! `verdict` binary run the way a user runs it, and reads of the entity API.

// Test code: a failed unwrap is a failed test, with its message.
#![allow(clippy::unwrap_used, clippy::expect_used, dead_code)]

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};

use serde_json::Value;

/// The admin password every test server starts with.
pub const PASSWORD: &str = "corpus-pw";

/// A storage backend to run against.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// SQLite always; PostgreSQL when `VERDICT_TEST_POSTGRES_URL` is set, and
/// never skipped when `CI=true`.
pub fn backends() -> Vec<Backend> {
    if std::env::var("VERDICT_TEST_POSTGRES_URL").is_ok() {
        return vec![Backend::Sqlite, Backend::Postgres];
    }
    assert!(
        std::env::var("CI").as_deref() != Ok("true"),
        "CI=true but VERDICT_TEST_POSTGRES_URL is not set: the PostgreSQL half must run in CI"
    );
    eprintln!(
        "skipping the PostgreSQL variant: set VERDICT_TEST_POSTGRES_URL (see .ci/start-postgres.sh)"
    );
    vec![Backend::Sqlite]
}

/// A fresh, empty database `verdict_{label}_{pid}` on the test cluster of
/// `VERDICT_TEST_POSTGRES_URL` (one a killed run left is dropped first):
/// (its URL, the cluster's admin URL, its name).
pub async fn fresh_postgres(label: &str) -> (String, String, String) {
    let admin = std::env::var("VERDICT_TEST_POSTGRES_URL").unwrap();
    sqlx::any::install_default_drivers();
    let pool = sqlx::AnyPool::connect(&admin).await.unwrap();
    let name = format!("verdict_{label}_{}", std::process::id());
    for sql in [
        format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"),
        format!("CREATE DATABASE {name}"),
    ] {
        sqlx::query(sqlx::AssertSqlSafe(sql))
            .execute(&pool)
            .await
            .unwrap();
    }
    pool.close().await;
    let base = admin.rsplit_once('/').map_or(admin.as_str(), |(b, _)| b);
    (format!("{base}/{name}"), admin.clone(), name)
}

/// Drops a database made by [`fresh_postgres`].
pub async fn drop_postgres(admin: &str, name: &str) {
    let pool = sqlx::AnyPool::connect(admin).await.unwrap();
    let sql = format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)");
    let _ = sqlx::query(sqlx::AssertSqlSafe(sql)).execute(&pool).await;
    pool.close().await;
}

/// A running `verdict serve` and what it was started with.
pub struct Server {
    child: Child,
    pub url: String,
    pub backend: Backend,
    pub dir: tempfile::TempDir,
    /// `--database-url` for PostgreSQL (admin commands need it too).
    pub database_url: Option<String>,
    /// (admin URL, database) to drop afterwards.
    drop_database: Option<(String, String)>,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        if let Some((admin, name)) = self.drop_database.take() {
            let _ = std::thread::spawn(move || {
                let rt = tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                    .unwrap();
                rt.block_on(async {
                    let pool = sqlx::AnyPool::connect(&admin).await.unwrap();
                    let sql = format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)");
                    let _ = sqlx::query(sqlx::AssertSqlSafe(sql)).execute(&pool).await;
                });
            })
            .join();
        }
    }
}

impl Server {
    /// Starts `verdict serve` on a free port with a fresh database.
    pub async fn spawn(backend: Backend, label: &str) -> Self {
        Self::spawn_with(backend, label, &[]).await
    }

    /// [`Server::spawn`] with more `serve` flags (e.g. `--workers 0`).
    pub async fn spawn_with(backend: Backend, label: &str, flags: &[&str]) -> Self {
        let dir = tempfile::tempdir().unwrap();
        let (database_url, drop_database) = match backend {
            Backend::Sqlite => (None, None),
            Backend::Postgres => {
                let (url, admin, name) = fresh_postgres(label).await;
                (Some(url), Some((admin, name)))
            }
        };
        let mut command = Command::new(env!("CARGO_BIN_EXE_verdict"));
        command
            .args(["serve", "--listen", "127.0.0.1:0", "--data-dir"])
            .arg(dir.path().join("data"))
            .args(flags)
            .env("VERDICT_ADMIN_PASSWORD", PASSWORD)
            .env("VERDICT_LOG", "warn")
            .stdout(Stdio::piped());
        if let Some(url) = &database_url {
            command.args(["--database-url", url]);
        }
        let mut child = command.spawn().unwrap();
        let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
        let url = loop {
            let line = lines.next().unwrap().unwrap();
            if let Some(url) = line.strip_prefix("verdict listening on ") {
                break url.to_owned();
            }
        };
        std::fs::write(dir.path().join("pw"), format!("{PASSWORD}\n")).unwrap();
        Self {
            child,
            url,
            backend,
            dir,
            database_url,
            drop_database,
        }
    }

    /// `push --server URL --user admin --password-file PW`: the start of
    /// every push against this server.
    pub fn push_args(&self) -> Vec<String> {
        [
            "push",
            "--server",
            self.url.as_str(),
            "--user",
            "admin",
            "--password-file",
            self.password_file().to_str().unwrap(),
        ]
        .map(str::to_owned)
        .to_vec()
    }

    /// The server's process id (for `/proc/<pid>/status`).
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// The password file of `admin`.
    pub fn password_file(&self) -> PathBuf {
        self.dir.path().join("pw")
    }

    /// `verdict admin ARGS` on this server's database.
    pub fn admin(&self, args: &[&str]) -> Output {
        let mut command = Command::new(env!("CARGO_BIN_EXE_verdict"));
        command
            .arg("admin")
            .args(args)
            .arg("--data-dir")
            .arg(self.dir.path().join("data"));
        if let Some(url) = &self.database_url {
            command.args(["--database-url", url]);
        }
        command.env("VERDICT_LOG", "warn").output().unwrap()
    }

    /// GET a path (starting with `/`) as admin, as JSON.
    pub async fn get(&self, path: &str) -> Value {
        let r = reqwest::Client::new()
            .get(format!("{}{path}", self.url))
            .basic_auth("admin", Some(PASSWORD))
            .send()
            .await
            .unwrap();
        let status = r.status();
        let text = r.text().await.unwrap();
        assert!(status.is_success(), "GET {path}: {status} {text}");
        serde_json::from_str(&text).unwrap()
    }

    /// Every entity of a collection matching `query` (already URL-encoded),
    /// page by page.
    pub async fn all(
        &self,
        workspace: i64,
        collection: &str,
        fields: &str,
        query: Option<&str>,
    ) -> Vec<Value> {
        let mut out = Vec::new();
        loop {
            let mut path = format!(
                "/api/shared_spaces/1001/workspaces/{workspace}/{collection}?fields={fields}&limit=1000&offset={}",
                out.len()
            );
            if let Some(q) = query {
                path.push_str("&query=");
                path.push_str(q);
            }
            let page = self.get(&path).await;
            let data = page["data"].as_array().unwrap().clone();
            let total = page["total_count"].as_u64().unwrap() as usize;
            let empty = data.is_empty();
            out.extend(data);
            if out.len() >= total || empty {
                return out;
            }
        }
    }
}

/// `verdict ARGS` in `dir`, with `HOME` there (no user config applies),
/// for a test that spawns it itself (standard input, signals).
pub fn command(args: &[&str], dir: &Path) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_verdict"));
    c.args(args)
        .current_dir(dir)
        .env("VERDICT_LOG", "warn")
        .env("HOME", dir)
        .env_remove("VERDICT_PASSWORD");
    c
}

/// Runs `verdict ARGS` in `dir` (see [`command`]).
pub fn verdict(args: &[&str], dir: &Path) -> Output {
    command(args, dir).output().unwrap()
}

/// Standard output and error of a command, for assertion messages.
pub fn text(o: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

/// The repository root.
pub fn repo_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}
