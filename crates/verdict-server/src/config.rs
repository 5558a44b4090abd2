//! Server settings. The binary fills them from flags, `VERDICT_*` environment
//! variables and defaults (design §4); tests build them directly.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

/// Everything the server needs to run.
#[derive(Debug, Clone)]
pub struct ServerConfig {
    pub listen: SocketAddr,
    /// Holds the SQLite database (by default) and spooled uploads.
    pub data_dir: PathBuf,
    /// `sqlite://...` or `postgres://...`; `None`: SQLite in `data_dir`.
    pub database_url: Option<String>,
    /// Where blob bytes live: `s3://bucket/prefix` (shared by several
    /// nodes) or `file:///dir`; `None`: `data_dir/blobs`.
    pub blob_url: Option<String>,
    /// Object storage settings (`aws_endpoint`, `aws_access_key_id`, …)
    /// over the process's `AWS_*` variables: how tests point nodes at their
    /// own bucket without touching the environment.
    pub blob_options: Vec<(String, String)>,
    /// Days of history every workspace without a policy of its own keeps
    /// (`--retain-days`); `None`: everything is kept.
    pub retain_days: Option<u32>,
    /// Password for `admin` on first start; `None`: generate and print one.
    pub admin_password: Option<String>,
    /// How long an identical push answers with the earlier task (protocol §4.3).
    pub dedupe_window: Duration,
    /// Sliding idle timeout of sign-in sessions.
    pub session_idle: Duration,
    /// Largest accepted request body as sent (compressed).
    pub max_body_bytes: u64,
    /// Largest inflated payload.
    pub max_inflated_bytes: u64,
    /// Concurrent task workers in this process.
    pub workers: usize,
    /// How long a claimed task stays owned without a renewal.
    pub task_lease: Duration,
    /// Mark cookies `Secure` (only behind HTTPS: clients drop them on http).
    pub secure_cookies: bool,
    /// How long the Java CI SDK's task long-poll is held before its 204
    /// (it re-polls at once, so answering immediately would spin).
    pub ci_task_poll_hold: Duration,
    /// Reported by the CI connectivity probe.
    pub octane_version: String,
    /// How a CI plugin's job becomes a pipeline (`--ci-pipelines`).
    pub ci_pipelines: CiPipelines,
    /// Time a client has to send a request head; idle keep-alive
    /// connections close after it too.
    pub header_timeout: Duration,
    /// Longest silence inside a request body before the request fails.
    pub body_idle_timeout: Duration,
    /// Open HTTP connections at most (keep it below the process's file limit).
    pub max_connections: usize,
    /// Failed sign-ins per user and per client address within
    /// `sign_in_window` before further attempts get 429.
    pub max_failed_sign_ins: u32,
    /// The window of `max_failed_sign_ins`.
    pub sign_in_window: Duration,
}

/// How the jobs of a CI server that uses the Octane Java CI SDK (Jenkins,
/// Bamboo, TeamCity plugins) become pipelines. The SDK asks for its server's
/// pipeline roots when it starts and then sends nothing (events, results,
/// logs) for a job outside them, so this decides what reaches Verdict.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum CiPipelines {
    /// Every job is welcome: `pipeline-roots` answers JSON `null`, which the
    /// SDK takes as "no filter", and a job whose build starts without an
    /// upstream cause becomes a pipeline (with itself as root) on its first
    /// event. Jobs created after the plugin started report at once.
    #[default]
    Auto,
    /// As Octane: only pipelines created through the entity API (or
    /// `POST …/pipelines`); `pipeline-roots` lists their root jobs and the
    /// SDK drops every other job's data. A pipeline created later is seen
    /// by the plugin after it reconnects (restart, or saving its settings).
    Defined,
}

impl ServerConfig {
    /// Defaults of design §4 for a data directory.
    #[must_use]
    pub fn with_data_dir(data_dir: PathBuf) -> Self {
        Self {
            listen: SocketAddr::from(([127, 0, 0, 1], 8080)),
            data_dir,
            database_url: None,
            blob_url: None,
            blob_options: Vec::new(),
            retain_days: None,
            admin_password: None,
            dedupe_window: Duration::from_secs(3600),
            session_idle: Duration::from_secs(8 * 3600),
            max_body_bytes: 256 << 20,
            max_inflated_bytes: 2 << 30,
            workers: 2,
            task_lease: Duration::from_secs(60),
            secure_cookies: false,
            ci_task_poll_hold: Duration::from_secs(20),
            octane_version: "25.4.0".to_owned(),
            ci_pipelines: CiPipelines::Auto,
            header_timeout: Duration::from_secs(15),
            body_idle_timeout: Duration::from_secs(30),
            max_connections: 512,
            max_failed_sign_ins: 10,
            sign_in_window: Duration::from_secs(300),
        }
    }

    /// The database URL in effect.
    #[must_use]
    pub fn effective_database_url(&self) -> String {
        self.database_url
            .clone()
            .unwrap_or_else(|| format!("sqlite://{}", self.data_dir.join("verdict.db").display()))
    }
}
