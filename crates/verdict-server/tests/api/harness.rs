//! Test harness: a real Verdict on `127.0.0.1:0` with a throwaway database
//! (a temporary SQLite file, or a fresh PostgreSQL database dropped on
//! `Drop`), and a cookie-keeping HTTP client that talks to it the way the
//! Octane clients do.

use std::time::Duration;

use reqwest::StatusCode;
use serde_json::Value;
use verdict_server::{BlobBackend, RunningServer, Server, ServerConfig};
use verdict_store::Store;

pub const ADMIN_PASSWORD: &str = "admin-pass\"word";
pub const SP: i64 = 1001;
pub const WS: i64 = 1002;

/// `Authorization: Basic` for the admin.
pub fn basic_admin() -> String {
    use base64::Engine;
    format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD.encode(format!("admin:{ADMIN_PASSWORD}"))
    )
}

#[derive(Debug, Clone, Copy)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// Where the server keeps blob bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Blobs {
    /// The data directory (the default).
    Local,
    /// A fresh bucket of the S3-compatible test server
    /// (VERDICT_TEST_S3_ENDPOINT, see .ci/start-s3.sh).
    S3,
}

/// A running server plus everything needed to talk to it and to clean up.
pub struct TestServer {
    /// Keeps the server's handles; its tasks end with the test's runtime.
    _running: RunningServer,
    pub url: String,
    pub client: reqwest::Client,
    pub store: Store,
    _dir: tempfile::TempDir,
    pg_database: Option<(String, String)>,
    /// The database this server uses (another node may share it).
    pub database_url: String,
    /// Where its blob bytes live, as its configuration said (another node
    /// shares them).
    blob_url: Option<String>,
    blob_options: Vec<(String, String)>,
    /// The same location, for checks from outside the server.
    pub blob_backend: BlobBackend,
}

/// Runs the test body on both database backends, each with blobs in the data
/// directory and in an S3 bucket (VERDICT_TEST_S3_ENDPOINT).
#[macro_export]
macro_rules! on_every_store {
    ($($case:ident),* $(,)?) => {
        $(
            mod $case {
                use $crate::harness::{Backend, Blobs, TestServer};

                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn sqlite() {
                    if let Some(s) = TestServer::spawn_on(Backend::Sqlite, Blobs::Local, |_| {}).await {
                        super::$case(s).await;
                    }
                }

                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn postgres() {
                    if let Some(s) = TestServer::spawn_on(Backend::Postgres, Blobs::Local, |_| {}).await {
                        super::$case(s).await;
                    }
                }

                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn sqlite_s3() {
                    if let Some(s) = TestServer::spawn_on(Backend::Sqlite, Blobs::S3, |_| {}).await {
                        super::$case(s).await;
                    }
                }

                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn postgres_s3() {
                    if let Some(s) = TestServer::spawn_on(Backend::Postgres, Blobs::S3, |_| {}).await {
                        super::$case(s).await;
                    }
                }
            }
        )*
    };
}

/// Runs the test body on both backends (PostgreSQL needs VERDICT_TEST_POSTGRES_URL).
#[macro_export]
macro_rules! on_both_backends {
    ($($case:ident),* $(,)?) => {
        $(
            mod $case {
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn sqlite() {
                    if let Some(s) = $crate::harness::TestServer::spawn($crate::harness::Backend::Sqlite).await {
                        super::$case(s).await;
                    }
                }

                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn postgres() {
                    if let Some(s) = $crate::harness::TestServer::spawn($crate::harness::Backend::Postgres).await {
                        super::$case(s).await;
                    }
                }
            }
        )*
    };
}

impl TestServer {
    /// Starts a server; `None` only when PostgreSQL is not configured outside CI.
    pub async fn spawn(backend: Backend) -> Option<Self> {
        Self::spawn_with(backend, |_| {}).await
    }

    /// Starts a server after adjusting its configuration.
    pub async fn spawn_with(
        backend: Backend,
        adjust: impl FnOnce(&mut ServerConfig),
    ) -> Option<Self> {
        Self::spawn_on(backend, Blobs::Local, adjust).await
    }

    /// Starts a server with its blobs in `blobs`; `None` when PostgreSQL or
    /// the S3 test server is not configured outside CI.
    pub async fn spawn_on(
        backend: Backend,
        blobs: Blobs,
        adjust: impl FnOnce(&mut ServerConfig),
    ) -> Option<Self> {
        let dir = tempfile::tempdir().expect("temp dir");
        let mut config = ServerConfig::with_data_dir(dir.path().to_owned());
        config.listen = "127.0.0.1:0".parse().expect("addr");
        config.admin_password = Some(ADMIN_PASSWORD.to_owned());
        config.workers = 2;
        config.ci_task_poll_hold = Duration::from_millis(300);
        let mut pg_database = None;
        if let Backend::Postgres = backend {
            let (admin_url, url, name) = postgres_database().await?;
            config.database_url = Some(url);
            pg_database = Some((admin_url, name));
        }
        if blobs == Blobs::S3 {
            let (url, options) = s3_bucket().await?;
            config.blob_url = Some(url);
            config.blob_options = options;
        }
        adjust(&mut config);
        let database_url = config.effective_database_url();
        let blob_url = config.blob_url.clone();
        let blob_options = config.blob_options.clone();
        let blob_backend = BlobBackend::for_config(&config).expect("blob URL");
        let running = Server::start(config).await.expect("server starts");
        let client = reqwest::Client::builder()
            .cookie_store(true)
            .timeout(Duration::from_secs(60))
            .build()
            .expect("client");
        Some(Self {
            url: running.url(),
            store: running.store.clone(),
            _running: running,
            client,
            _dir: dir,
            pg_database,
            database_url,
            blob_url,
            blob_options,
            blob_backend,
        })
    }

    /// What `verdict admin` is given to reach this server's blobs.
    pub fn admin_config(&self) -> ServerConfig {
        let mut config = ServerConfig::with_data_dir(self.data_dir().to_owned());
        config.blob_url.clone_from(&self.blob_url);
        config.blob_options.clone_from(&self.blob_options);
        config
    }

    /// A second node on the same database (its own data directory).
    pub async fn spawn_node(&self) -> (RunningServer, tempfile::TempDir) {
        self.spawn_node_with(|_| {}).await
    }

    /// [`Self::spawn_node`] after adjusting its configuration.
    pub async fn spawn_node_with(
        &self,
        adjust: impl FnOnce(&mut ServerConfig),
    ) -> (RunningServer, tempfile::TempDir) {
        let dir = tempfile::tempdir().expect("temp dir");
        let mut config = ServerConfig::with_data_dir(dir.path().to_owned());
        config.listen = "127.0.0.1:0".parse().expect("addr");
        config.database_url = Some(self.database_url.clone());
        // The same blobs: the bucket, or this server's directory (as nodes
        // sharing a mounted file system would).
        config.blob_url = Some(
            self.blob_url
                .clone()
                .unwrap_or_else(|| format!("file://{}", self.data_dir().join("blobs").display())),
        );
        config.blob_options.clone_from(&self.blob_options);
        config.workers = 0;
        adjust(&mut config);
        let running = Server::start(config).await.expect("second node starts");
        (running, dir)
    }

    /// The server's data directory (blobs live in `blobs/`).
    pub fn data_dir(&self) -> &std::path::Path {
        self._dir.path()
    }

    /// Every blob stored (by key) and every staged upload on disk (by path),
    /// for "nothing left behind" checks.
    pub async fn blob_files(&self) -> Vec<String> {
        fn walk(dir: &std::path::Path, out: &mut Vec<std::path::PathBuf>) {
            for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
                let path = entry.path();
                if path.is_dir() {
                    walk(&path, out);
                } else {
                    out.push(path);
                }
            }
        }
        let mut staged = Vec::new();
        walk(&self.data_dir().join("blobs").join("tmp"), &mut staged);
        let mut out: Vec<String> = staged.iter().map(|p| p.display().to_string()).collect();
        out.extend(self.blob_backend.keys().await.expect("list blobs"));
        out
    }

    /// Whether the blob store holds `bytes`.
    pub async fn has_blob(&self, bytes: &[u8]) -> bool {
        use sha2::Digest;
        let key: String = sha2::Sha256::digest(bytes)
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect();
        self.blob_backend.exists(&key).await.expect("blob lookup")
    }

    /// Creates a user with a role in a new workspace `id` of shared space
    /// 1001 (another tenant); returns the user's id.
    pub async fn tenant_user(&self, name: &str, password: &str, workspace: i64) -> i64 {
        self.store
            .ensure_workspace(SP, workspace, &format!("ws-{workspace}"))
            .await
            .unwrap();
        let hash = verdict_server::hash_secret(password).unwrap();
        let id = self.store.upsert_user(name, &hash, false).await.unwrap();
        self.store
            .grant_role(id, workspace, "member")
            .await
            .unwrap();
        id
    }

    /// `…/api/shared_spaces/1001/workspaces/1002/<path>`.
    pub fn ws(&self, path: &str) -> String {
        format!("{}/api/shared_spaces/{SP}/workspaces/{WS}/{path}", self.url)
    }

    /// A Test Center report in project "Shop", reported as a scripted client
    /// does: a suite in `batch` with `labels`, then `levels` (`(level, name)`,
    /// each a child of the one before) and a FAIL event "total wrong" on the
    /// last with `screenshot` as `cart.png`; the report's id.
    pub async fn tc_report(
        &self,
        batch: &str,
        labels: Value,
        levels: &[(&str, &str)],
        screenshot: &[u8],
    ) -> i64 {
        let auth = basic_admin();
        let post = |path: &str, body: Value| {
            self.client
                .post(format!("{}/upload/{path}", self.url))
                .header("Authorization", &auth)
                .json(&body)
                .send()
        };
        let suite: Value = post(
            "suites",
            serde_json::json!({"project": "Shop", "batch": batch, "labels": labels, "test": {"name": "suite_shop"}}),
        )
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
        let mut parent = suite["runId"]
            .as_i64()
            .unwrap_or_else(|| panic!("suite: {suite}"));
        for (level, name) in levels {
            let r: Value = post(
                level,
                serde_json::json!({"runId": parent, "test": {"name": name}}),
            )
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
            parent = r["runId"].as_i64().unwrap();
        }
        let event = serde_json::json!([{"runId": parent, "type": "FAIL", "message": "total wrong", "screenshot": "cart.png"}]);
        let form = reqwest::multipart::Form::new()
            .text("eventData", event.to_string())
            .part(
                "attachments[]",
                reqwest::multipart::Part::bytes(screenshot.to_vec())
                    .file_name("cart.png")
                    .mime_str("image/png")
                    .unwrap(),
            );
        let r = self
            .client
            .post(format!("{}/upload/events", self.url))
            .header("Authorization", &auth)
            .multipart(form)
            .send()
            .await
            .unwrap();
        assert!(r.status().is_success(), "{}", r.status());
        suite["reportId"].as_i64().unwrap()
    }

    /// Signs in as admin the way the collection tool does.
    pub async fn sign_in(&self) {
        let r = self
            .client
            .post(format!("{}/authentication/sign_in", self.url))
            .header("HPECLIENTTYPE", "HPE_CI_CLIENT")
            .json(&serde_json::json!({"user": "admin", "password": ADMIN_PASSWORD}))
            .send()
            .await
            .expect("sign in");
        assert_eq!(r.status(), StatusCode::OK, "sign-in failed");
    }

    /// Pushes a payload; returns status and JSON body.
    pub async fn push(&self, xml: &str, skip_errors: bool) -> (StatusCode, Value) {
        let r = self
            .client
            .post(self.ws(&format!("test-results?skip-errors={skip_errors}")))
            .header("Content-Type", "application/xml; charset=ISO-8859-1")
            .body(xml.to_owned())
            .send()
            .await
            .expect("push");
        let status = r.status();
        (status, r.json().await.expect("push reply is JSON"))
    }

    /// Pushes and waits for the task to end; returns the final task JSON.
    pub async fn push_and_wait(&self, xml: &str, skip_errors: bool) -> Value {
        let (status, body) = self.push(xml, skip_errors).await;
        assert_eq!(status, StatusCode::ACCEPTED, "push rejected: {body}");
        self.wait_task(body["id"].as_i64().expect("task id")).await
    }

    /// Polls a task until it leaves `queued`/`running` (as the CLT does).
    pub async fn wait_task(&self, id: i64) -> Value {
        for _ in 0..3000 {
            let task = self.get_json(&self.ws(&format!("test-results/{id}"))).await;
            match task["status"].as_str() {
                Some("queued" | "running") => tokio::time::sleep(Duration::from_millis(20)).await,
                _ => return task,
            }
        }
        panic!("task {id} did not finish");
    }

    /// GET expecting 200 and JSON.
    pub async fn get_json(&self, url: &str) -> Value {
        let r = self.client.get(url).send().await.expect("get");
        let status = r.status();
        let body: Value = r.json().await.expect("JSON body");
        assert_eq!(status, StatusCode::OK, "GET {url}: {body}");
        body
    }

    /// The id of the workspace named `name` in shared space 1001 (a Test Center project).
    pub async fn workspace_named(&self, name: &str) -> String {
        let url = format!(
            "{}/api/shared_spaces/{SP}/workspaces?query=%22name%20EQ%20%5E{name}%5E%22",
            self.url
        );
        let spaces = self.get_json(&url).await;
        spaces["data"][0]["id"]
            .as_str()
            .expect("workspace exists")
            .to_owned()
    }

    /// GET a workspace collection with a query string.
    pub async fn entities(&self, collection_and_query: &str) -> Value {
        self.get_json(&self.ws(collection_and_query)).await
    }
}

impl Drop for TestServer {
    fn drop(&mut self) {
        if let Some((admin_url, name)) = self.pg_database.take() {
            // Drop runs outside async; a short-lived runtime on its own thread cleans up.
            let _ = std::thread::spawn(move || {
                let Ok(rt) = tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                else {
                    return;
                };
                rt.block_on(async move {
                    sqlx::any::install_default_drivers();
                    if let Ok(pool) = sqlx::AnyPool::connect(&admin_url).await {
                        let sql = format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)");
                        let _ = sqlx::query(sqlx::AssertSqlSafe(sql)).execute(&pool).await;
                        pool.close().await;
                    }
                });
            })
            .join();
        }
    }
}

/// A fresh database on the test cluster: (admin url, database url, name).
async fn postgres_database() -> Option<(String, String, String)> {
    let Ok(admin_url) = std::env::var("VERDICT_TEST_POSTGRES_URL") else {
        assert!(
            std::env::var("CI").as_deref() != Ok("true"),
            "CI=true but VERDICT_TEST_POSTGRES_URL is not set: the PostgreSQL half of the suite must run in CI"
        );
        eprintln!(
            "skipping the PostgreSQL variant: set VERDICT_TEST_POSTGRES_URL (see .ci/start-postgres.sh)"
        );
        return None;
    };
    sqlx::any::install_default_drivers();
    let pool = sqlx::AnyPool::connect(&admin_url)
        .await
        .expect("connect to test PostgreSQL");
    let mut suffix = [0_u8; 6];
    getrandom_fill(&mut suffix);
    let name = format!(
        "verdict_test_{}",
        suffix
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect::<String>()
    );
    sqlx::query(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
        .execute(&pool)
        .await
        .expect("create test database");
    pool.close().await;
    let base = admin_url
        .rsplit_once('/')
        .map_or(admin_url.as_str(), |(b, _)| b);
    let url = format!("{base}/{name}");
    Some((admin_url, url, name))
}

/// A fresh bucket on the S3-compatible test server: (blob URL, settings).
async fn s3_bucket() -> Option<(String, Vec<(String, String)>)> {
    let Ok(endpoint) = std::env::var("VERDICT_TEST_S3_ENDPOINT") else {
        assert!(
            std::env::var("CI").as_deref() != Ok("true"),
            "CI=true but VERDICT_TEST_S3_ENDPOINT is not set: the S3 half of the suite must run in CI"
        );
        eprintln!("skipping the S3 variant: set VERDICT_TEST_S3_ENDPOINT (see .ci/start-s3.sh)");
        return None;
    };
    let mut suffix = [0_u8; 6];
    getrandom_fill(&mut suffix);
    let bucket = format!(
        "verdict-test-{}",
        suffix
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect::<String>()
    );
    let created = reqwest::Client::new()
        .put(format!("{}/{bucket}", endpoint.trim_end_matches('/')))
        .send()
        .await
        .expect("S3 test server answers");
    assert!(
        created.status().is_success(),
        "create bucket: {}",
        created.status()
    );
    let options = [
        ("aws_endpoint", endpoint.as_str()),
        ("aws_access_key_id", "verdict-test"),
        ("aws_secret_access_key", "verdict-test"),
        ("aws_region", "us-east-1"),
    ]
    .iter()
    .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
    .collect();
    Some((format!("s3://{bucket}/blobs"), options))
}

fn getrandom_fill(buf: &mut [u8]) {
    use std::hash::{BuildHasher, Hasher};
    for chunk in buf.chunks_mut(8) {
        let mut h = std::collections::hash_map::RandomState::new().build_hasher();
        h.write_u128(
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .unwrap_or_default()
                .as_nanos(),
        );
        let v = h.finish().to_le_bytes();
        chunk.copy_from_slice(&v[..chunk.len()]);
    }
}
