//! Command-line shape. Every setting is a flag with a `VERDICT_*` environment
//! fallback (flags win), then a default (design §3, §4).

use std::net::SocketAddr;
use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

/// Verdict: a self-hosted test-results hub that speaks the wire protocols of
/// ALM Octane / ValueEdge and Squish Test Center.
#[derive(Debug, Parser)]
#[command(name = "verdict", version, about, long_about = None)]
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
    /// Manage users, API keys, tokens, shared spaces, workspaces and CI servers.
    Admin(AdminArgs),
    /// Convert reports and push them to Verdict or Octane (or Test Center's import).
    #[command(
        after_help = "Exit status: 0 when every file was accepted (and, with --check-result, every task ended success or warning) and, with --fail-on new|any, no result set has a new (any) failure that is not muted; 1 otherwise, with the reason on stderr; 130 when interrupted (Ctrl-C), after saying on stderr which files were pushed (their tasks go on processing on the server) and which were not."
    )]
    Push(Box<crate::push::PushArgs>),
    /// Convert a report to an Octane payload (like the collection tool's -o).
    Convert(crate::push::ConvertArgs),
    /// Check payloads against the schema the server enforces.
    Validate(crate::push::ValidateArgs),
    /// Measure throughput (ingest, HTTP pushes, Test Center events, conversion).
    Bench(BenchArgs),
    /// Print shell completions, e.g. `verdict completions bash > /etc/bash_completion.d/verdict`.
    Completions(CompletionsArgs),
}

/// Which shell to complete for.
#[derive(Debug, Args)]
pub struct CompletionsArgs {
    /// bash, zsh, fish, elvish or powershell.
    #[arg(value_enum)]
    pub shell: clap_complete::Shell,
}

/// Where the database is: shared by `serve` and `admin`. The options are
/// global so they work wherever they are written (`verdict admin user add
/// bob --data-dir D` as well as `verdict admin --data-dir D user add bob`).
#[derive(Debug, Args, Clone)]
pub struct StoreArgs {
    /// Data directory: the SQLite database, spooled uploads and attachment blobs.
    #[arg(
        long,
        global = true,
        env = "VERDICT_DATA_DIR",
        default_value = "./verdict-data"
    )]
    pub data_dir: PathBuf,
    /// `sqlite://PATH` or `postgres://USER@HOST/DB` [default: SQLite in the data directory].
    #[arg(long, global = true, env = "VERDICT_DATABASE_URL")]
    pub database_url: Option<String>,
    /// Where attachment and screenshot bytes live: `s3://BUCKET[/PREFIX]` (endpoint, region and
    /// credentials from the AWS_* variables: AWS_ENDPOINT_URL, AWS_REGION, AWS_ACCESS_KEY_ID,
    /// AWS_SECRET_ACCESS_KEY) for nodes sharing one database, or `file:///DIR` [default: DATA_DIR/blobs].
    #[arg(long, global = true, env = "VERDICT_BLOB_URL")]
    pub blob_url: Option<String>,
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
    /// Task workers in this process (0: accept pushes, let other nodes process them).
    #[arg(long, env = "VERDICT_WORKERS", default_value_t = 2)]
    pub workers: usize,
    /// Seconds an identical push answers with the earlier successful task.
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
    /// Seconds a client has to send a request's headers; idle keep-alive
    /// connections are closed after the same time.
    #[arg(long, env = "VERDICT_HEADER_TIMEOUT_SECS", default_value_t = 15)]
    pub header_timeout_secs: u64,
    /// Seconds a request body may pause before the request fails (uploads
    /// that keep sending are never cut off).
    #[arg(long, env = "VERDICT_BODY_IDLE_TIMEOUT_SECS", default_value_t = 30)]
    pub body_idle_timeout_secs: u64,
    /// Open HTTP connections at most; more wait until one closes. Keep it
    /// below the process's open-file limit (ulimit -n).
    #[arg(long, env = "VERDICT_MAX_CONNECTIONS", default_value_t = 512)]
    pub max_connections: usize,
    /// Failed sign-ins allowed per user, and per client address, within
    /// --sign-in-window-secs; more answer 429 with Retry-After.
    #[arg(long, env = "VERDICT_MAX_FAILED_SIGN_INS", default_value_t = 10)]
    pub max_failed_sign_ins: u32,
    /// The window of --max-failed-sign-ins, in seconds.
    #[arg(long, env = "VERDICT_SIGN_IN_WINDOW_SECS", default_value_t = 300)]
    pub sign_in_window_secs: u64,
    /// How jobs of Jenkins, Bamboo and TeamCity (the Octane CI plugins)
    /// become pipelines: `auto` takes every job and makes each top-level job
    /// a pipeline on its first build; `defined` takes only jobs of pipelines
    /// created through the API, as Octane does.
    #[arg(long, env = "VERDICT_CI_PIPELINES", value_enum, default_value_t = CiPipelinesArg::Auto)]
    pub ci_pipelines: CiPipelinesArg,
    /// Days of history kept by every workspace without a policy of its own
    /// (`verdict admin workspace retain`): older previous runs, Test Center
    /// reports, finished tasks and the files only they used are deleted
    /// every hour [default: keep everything].
    #[arg(long, env = "VERDICT_RETAIN_DAYS", value_parser = clap::value_parser!(u32).range(1..))]
    pub retain_days: Option<u32>,
}

/// `--ci-pipelines` values.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum CiPipelinesArg {
    Auto,
    Defined,
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
    /// User accounts: add, set-password, disable, enable.
    User {
        #[command(subcommand)]
        command: UserCommand,
    },
    /// API keys (Octane's "client id + secret", for CI plugins and scripts).
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
    /// Workspaces inside a shared space, and who may use them.
    Workspace {
        #[command(subcommand)]
        command: WorkspaceCommand,
    },
    /// CI servers that pushes name with --build-server-id (Octane's `ci_server`).
    CiServer {
        #[command(subcommand)]
        command: CiServerCommand,
    },
    /// A consistent copy of the SQLite database, taken while the server runs
    /// (PostgreSQL: use pg_dump). Restore: stop the server, put the file in
    /// place of DATA_DIR/verdict.db (removing verdict.db-wal and -shm), start.
    Backup {
        /// The file to write (must not exist).
        #[arg(long)]
        to: std::path::PathBuf,
    },
    /// Delete history older than an age now, whatever the policies: previous runs, Test Center
    /// reports (runs, events, files), finished tasks and their payload leftovers, then the bytes of
    /// blobs nothing uses any more. Last runs, tests and work items stay. Safe while servers run.
    Prune {
        /// Age, in days: `90d` or `90`.
        #[arg(long, value_parser = parse_days)]
        older_than: u32,
        /// Only this workspace [default: every workspace].
        #[arg(long)]
        workspace: Option<i64>,
    },
}

/// `90d` or `90` → 90 (days, at least 1).
fn parse_days(raw: &str) -> Result<u32, String> {
    let digits = raw.trim().strip_suffix('d').unwrap_or(raw.trim());
    match digits.parse::<u32>() {
        Ok(days) if days > 0 => Ok(days),
        _ => Err(format!("'{raw}' is not an age in days: use e.g. 90d")),
    }
}

/// Roles a user can hold in a workspace.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Role {
    /// Reads and writes everything in the workspace (pushes, entities, Test Center uploads).
    Member,
}

impl Role {
    /// The stored name.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Member => "member",
        }
    }
}

#[derive(Debug, Subcommand)]
pub enum TokenCommand {
    /// Create a token acting as a user; the token is the last word printed.
    Create {
        /// The user the token acts as.
        #[arg(long)]
        user: String,
        /// A label to recognise the token by.
        #[arg(long, default_value = "cli")]
        name: String,
    },
    /// List tokens (id, name, user, created); tokens themselves are never shown again.
    List {
        /// Only this user's tokens.
        #[arg(long)]
        user: Option<String>,
    },
    /// Revoke a token by the id `token list` shows; refused at once everywhere.
    Revoke {
        /// The token id (16 hex digits).
        id: String,
    },
}

#[derive(Debug, Subcommand)]
pub enum SharedSpaceCommand {
    /// Create a shared space (idempotent).
    Create {
        /// Numeric id clients use in URLs (`/api/shared_spaces/ID`).
        #[arg(long)]
        id: i64,
        /// Display name.
        #[arg(long)]
        name: String,
    },
}

#[derive(Debug, Subcommand)]
pub enum WorkspaceCommand {
    /// Create a workspace with its seeded lists and taxonomies (idempotent in its shared space).
    Create {
        /// The shared space the workspace belongs to.
        #[arg(long, default_value_t = 1001)]
        shared_space: i64,
        /// Numeric id clients use in URLs (`/workspaces/ID`); unique across shared spaces.
        #[arg(long)]
        id: i64,
        /// Display name.
        #[arg(long)]
        name: String,
    },
    /// How long the workspace keeps its history (its own days, for ever, or the server's
    /// --retain-days).
    Retain {
        /// The workspace id.
        #[arg(long, default_value_t = 1002)]
        workspace: i64,
        /// Keep this many days.
        #[arg(long, conflicts_with_all = ["forever", "server_default"], value_parser = clap::value_parser!(u32).range(1..))]
        days: Option<u32>,
        /// Never prune this workspace.
        #[arg(long, conflicts_with = "server_default")]
        forever: bool,
        /// Follow the server's --retain-days.
        #[arg(long)]
        server_default: bool,
    },
    /// Grant a user a role in a workspace (replaces an earlier role there).
    Grant {
        /// The user to grant the role to.
        #[arg(long)]
        user: String,
        /// The workspace id.
        #[arg(long, default_value_t = 1002)]
        workspace: i64,
        /// The role.
        #[arg(long, value_enum, default_value_t = Role::Member)]
        role: Role,
    },
}

#[derive(Debug, Subcommand)]
pub enum CiServerCommand {
    /// Register a CI server in a workspace so pushes may name it
    /// (`verdict push --build-server-id ID`, `<build server_id="ID">`).
    Create {
        /// The instance id pushes name (`--build-server-id`, the plugin's instance id).
        #[arg(long)]
        instance_id: String,
        /// Display name [default: the instance id].
        #[arg(long)]
        name: Option<String>,
        /// The workspace id.
        #[arg(long, default_value_t = 1002)]
        workspace: i64,
        /// The shared space of the workspace.
        #[arg(long, default_value_t = 1001)]
        shared_space: i64,
        /// Server type as Octane names it (jenkins, github_actions, gitlab, bamboo, teamcity, azure_devops, ...).
        #[arg(long = "type", default_value = "generic")]
        server_type: String,
        /// The CI server's own URL, shown with its builds.
        #[arg(long)]
        url: Option<String>,
    },
}

#[derive(Debug, Subcommand)]
pub enum UserCommand {
    /// Create a user. The password is read from --password-file,
    /// VERDICT_NEW_PASSWORD, or generated and printed. Refuses an existing
    /// user: use set-password to change a password.
    Add {
        /// Login name.
        name: String,
        /// File whose first line is the password.
        #[arg(long)]
        password_file: Option<PathBuf>,
        /// Make the user an administrator (sees every workspace).
        #[arg(long)]
        admin: bool,
        /// Grant a role in this workspace (repeatable).
        #[arg(long = "workspace")]
        workspaces: Vec<i64>,
        /// Role to grant in the workspaces.
        #[arg(long, value_enum, default_value_t = Role::Member)]
        role: Role,
    },
    /// Change a user's password, keeping its roles and administrator flag.
    /// The password is read from --password-file, VERDICT_NEW_PASSWORD, or
    /// generated and printed.
    SetPassword {
        /// Login name.
        name: String,
        /// File whose first line is the password.
        #[arg(long)]
        password_file: Option<PathBuf>,
    },
    /// Stop a user signing in anywhere: sessions end at once; API keys and
    /// tokens are kept but refused until `enable`.
    Disable {
        /// Login name.
        name: String,
    },
    /// Let a disabled user sign in again.
    Enable {
        /// Login name.
        name: String,
    },
}

#[derive(Debug, Subcommand)]
pub enum ApiKeyCommand {
    /// Create an API key acting as a user; prints `client_id:` and `client_secret:` lines.
    Create {
        /// A label; the client id starts with it.
        #[arg(long)]
        name: String,
        /// The user the key acts as.
        #[arg(long, default_value = "admin")]
        user: String,
    },
    /// List API keys (client id, name, user, created); secrets are never shown again.
    List {
        /// Only this user's keys.
        #[arg(long)]
        user: Option<String>,
    },
    /// Revoke an API key by its client id; refused at once everywhere.
    Revoke {
        /// The client id.
        client_id: String,
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
        /// A second database (PostgreSQL) to run the end-to-end part on after
        /// a temporary SQLite file, both figures printed side by side; it
        /// should be empty.
        #[arg(long)]
        database_url: Option<String>,
        /// After the first push, push the same tests this many times again,
        /// each time with other statuses and a later `started` (CI's steady
        /// state: every run updates its last run and archives the old one).
        #[arg(long, default_value_t = 0)]
        rerun: u64,
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
    /// Insight reads over a seeded data set (TESTS × RESULT_SETS results):
    /// p50/p95 of every insight endpoint over HTTP.
    Insight {
        /// Tests in the seeded workspace.
        #[arg(long, default_value_t = 10_000)]
        tests: u64,
        /// Result sets (CI builds over 3 environments), each with every test.
        #[arg(long, default_value_t = 100)]
        result_sets: u64,
        /// Requests timed per endpoint.
        #[arg(long, default_value_t = 200)]
        samples: usize,
        /// Database (default: a temporary SQLite file); a PostgreSQL URL needs an empty database.
        #[arg(long)]
        database_url: Option<String>,
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
        /// Instead: push one task of this many runs and, while it is
        /// processed, time one-run pushes (until their 202), sign-ins and Test
        /// Center calls, one after the other.
        #[arg(long)]
        during_task: Option<u64>,
        /// Database for --during-task (default: a temporary SQLite file); a
        /// PostgreSQL URL needs an empty database.
        #[arg(long, requires = "during_task")]
        database_url: Option<String>,
    },
}
