//! Command-line shape. Every setting is a flag with a `VERDICT_*` environment
//! fallback (flags win), then a default (design §3, §4).

use std::net::SocketAddr;
use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

/// Verdict: a self-hosted test-results hub that speaks Octane's protocol.
#[derive(Debug, Parser)]
#[command(name = "verdict", version, about)]
pub struct Cli {
    /// Log as JSON lines instead of human-readable text.
    #[arg(long, global = true, env = "VERDICT_LOG_JSON")]
    pub log_json: bool,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the server.
    Serve(ServeArgs),
    /// Manage users and API keys.
    Admin(AdminArgs),
    /// Convert reports and push them to Verdict or Octane.
    Push(Box<crate::push::PushArgs>),
    /// Convert a report to an Octane payload (like the collection tool's -o).
    Convert(crate::push::ConvertArgs),
    /// Check payloads against the schema the server enforces.
    Validate(crate::push::ValidateArgs),
    /// Measure ingest throughput.
    Bench(BenchArgs),
}

/// Where the database is: shared by `serve` and `admin`.
#[derive(Debug, Args, Clone)]
pub struct StoreArgs {
    /// Data directory (SQLite database, spooled uploads).
    #[arg(long, env = "VERDICT_DATA_DIR", default_value = "./verdict-data")]
    pub data_dir: PathBuf,
    /// `sqlite://PATH` or `postgres://USER@HOST/DB`; default: SQLite in the data directory.
    #[arg(long, env = "VERDICT_DATABASE_URL")]
    pub database_url: Option<String>,
}

impl StoreArgs {
    /// The database URL in effect.
    #[must_use]
    pub fn url(&self) -> String {
        self.database_url
            .clone()
            .unwrap_or_else(|| format!("sqlite://{}", self.data_dir.join("verdict.db").display()))
    }
}

#[derive(Debug, Args)]
pub struct ServeArgs {
    /// Address to listen on.
    #[arg(long, env = "VERDICT_LISTEN", default_value = "127.0.0.1:8080")]
    pub listen: SocketAddr,
    #[command(flatten)]
    pub store: StoreArgs,
    /// Task workers in this process.
    #[arg(long, env = "VERDICT_WORKERS", default_value_t = 2)]
    pub workers: usize,
    /// Seconds an identical push answers with the earlier task.
    #[arg(long, env = "VERDICT_DEDUPE_WINDOW_SECS", default_value_t = 3600)]
    pub dedupe_window_secs: u64,
    /// Idle timeout of sign-in sessions, in seconds.
    #[arg(long, env = "VERDICT_SESSION_IDLE_SECS", default_value_t = 8 * 3600)]
    pub session_idle_secs: u64,
    /// Largest request body as sent, in MiB.
    #[arg(long, env = "VERDICT_MAX_BODY_MIB", default_value_t = 256)]
    pub max_body_mib: u64,
    /// Seconds a claimed task stays owned without renewal before another node may take it over.
    #[arg(long, env = "VERDICT_TASK_LEASE_SECS", default_value_t = 60)]
    pub task_lease_secs: u64,
    /// Mark session cookies Secure (only when clients reach Verdict over HTTPS).
    #[arg(long, env = "VERDICT_SECURE_COOKIES")]
    pub secure_cookies: bool,
}

#[derive(Debug, Args)]
pub struct AdminArgs {
    #[command(flatten)]
    pub store: StoreArgs,
    #[command(subcommand)]
    pub command: AdminCommand,
}

#[derive(Debug, Subcommand)]
pub enum AdminCommand {
    /// User accounts.
    User {
        #[command(subcommand)]
        command: UserCommand,
    },
    /// API keys (Octane "client id + secret").
    ApiKey {
        #[command(subcommand)]
        command: ApiKeyCommand,
    },
    /// API tokens (`Authorization: Token …` for Test Center, `Bearer …` for Octane paths).
    Token {
        #[command(subcommand)]
        command: TokenCommand,
    },
    /// Shared spaces (the outermost tenants).
    SharedSpace {
        #[command(subcommand)]
        command: SharedSpaceCommand,
    },
    /// Workspaces inside a shared space.
    Workspace {
        #[command(subcommand)]
        command: WorkspaceCommand,
    },
}

#[derive(Debug, Subcommand)]
pub enum TokenCommand {
    /// Create a token acting as a user; the token is the last word printed.
    Create {
        #[arg(long)]
        user: String,
        /// A label to recognise the token by.
        #[arg(long, default_value = "cli")]
        name: String,
    },
}

#[derive(Debug, Subcommand)]
pub enum SharedSpaceCommand {
    /// Create a shared space (idempotent).
    Create {
        #[arg(long)]
        id: i64,
        #[arg(long)]
        name: String,
    },
}

#[derive(Debug, Subcommand)]
pub enum WorkspaceCommand {
    /// Create a workspace with its seeded lists and taxonomies (idempotent).
    Create {
        #[arg(long)]
        shared_space: i64,
        #[arg(long)]
        id: i64,
        #[arg(long)]
        name: String,
    },
    /// Grant a user a role in a workspace (replaces an earlier role there).
    Grant {
        #[arg(long)]
        user: String,
        #[arg(long)]
        workspace: i64,
        #[arg(long, default_value = "member")]
        role: String,
    },
}

#[derive(Debug, Subcommand)]
pub enum UserCommand {
    /// Create a user (or reset its password). The password is read from
    /// --password-file, VERDICT_NEW_PASSWORD, or generated and printed.
    Add {
        name: String,
        #[arg(long)]
        password_file: Option<PathBuf>,
        /// Make the user an administrator (sees every workspace).
        #[arg(long)]
        admin: bool,
        /// Grant a role in this workspace (repeatable).
        #[arg(long = "workspace")]
        workspaces: Vec<i64>,
        /// Role to grant in the workspaces.
        #[arg(long, default_value = "member")]
        role: String,
    },
}

#[derive(Debug, Subcommand)]
pub enum ApiKeyCommand {
    /// Create an API key acting as a user; prints `client_id:` and `client_secret:` lines.
    Create {
        #[arg(long)]
        name: String,
        /// The user the key acts as.
        #[arg(long, default_value = "admin")]
        user: String,
    },
}

#[derive(Debug, Args)]
pub struct BenchArgs {
    #[command(subcommand)]
    pub command: BenchCommand,
}

#[derive(Debug, Subcommand)]
pub enum BenchCommand {
    /// Validate+parse and end-to-end ingest of a generated payload.
    Ingest {
        /// Runs in the generated payload.
        #[arg(long, default_value_t = 100_000)]
        runs: u64,
        /// Database for the end-to-end part (default: a temporary SQLite file).
        #[arg(long)]
        database_url: Option<String>,
    },
    /// Test Center events over HTTP, posted as JSON arrays.
    Events {
        /// Events in total.
        #[arg(long, default_value_t = 100_000)]
        events: u64,
        /// Events per request.
        #[arg(long, default_value_t = 1_000)]
        batch: u64,
    },
    /// JUnit → Octane payload conversion throughput (single-threaded).
    Convert {
        /// Test cases in the generated JUnit report.
        #[arg(long, default_value_t = 1_000_000)]
        cases: u64,
    },
    /// Many small pushes over HTTP from concurrent clients.
    Http {
        /// Pushes in total.
        #[arg(long, default_value_t = 20_000)]
        pushes: u64,
        /// Concurrent clients.
        #[arg(long, default_value_t = 64)]
        clients: usize,
        /// Runs per push.
        #[arg(long, default_value_t = 10)]
        runs_per_push: u64,
    },
}
