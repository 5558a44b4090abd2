//! Flags of `push`, `convert` and `validate`, and how settings are found:
//! flags, then `VERDICT_*` environment variables, then a TOML config file
//! (`--config`, default `~/.config/verdict/push.toml`).

use std::path::{Path, PathBuf};

use clap::{Args, ValueEnum};
use verdict_domain::payload::{
    BuildRef, Context, ReleaseLink, SuiteRef, Taxonomy, TestField, TestFieldType,
};
use verdict_ingest::convert::PayloadOptions;

type BoxError = Box<dyn std::error::Error>;

/// The protocol results are pushed with (not the report's format, which is
/// detected from each file's content).
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum PushProtocol {
    /// Octane / ValueEdge test-results injection (`POST …/test-results`).
    Octane,
    /// Squish Test Center's result import (`POST /import`), into --project and --batch.
    Testcenter,
}

/// How `push` reports each file on standard output.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum OutputFormat {
    /// One line per file for people.
    Text,
    /// One JSON object per file and line, for scripts.
    Json,
}

/// Links and characteristics added to every run (the collection tool's options).
#[derive(Debug, Clone, Args, Default)]
pub struct ContextArgs {
    /// Link every run to the release with this id (it must exist).
    #[arg(long, conflicts_with_all = ["release_default", "release_name"])]
    pub release: Option<i64>,
    /// Link every run to the workspace's default release (`release
    /// name="_default_"`; Octane has one, a new Verdict workspace does not).
    #[arg(long)]
    pub release_default: bool,
    /// Link every run to the release with this name (it must exist).
    #[arg(long)]
    pub release_name: Option<String>,
    /// Link every run to the milestone with this id (it must exist).
    #[arg(long)]
    pub milestone: Option<i64>,
    /// Link every run to the program with this id (it must exist).
    #[arg(long)]
    pub program: Option<i64>,
    /// Test suite to inject into (its suite run is found or created).
    #[arg(long)]
    pub suite: Option<i64>,
    /// Name of the suite run (`external_run_id` of `suite_ref`).
    #[arg(long)]
    pub suite_run_name: Option<String>,
    /// Environment taxonomy `TYPE:VALUE` (repeatable), e.g. `Browser:Chrome`.
    #[arg(long = "tag")]
    pub tags: Vec<String>,
    /// Test field `TYPE:VALUE` (repeatable): Test_Level, Test_Type, Testing_Tool_Type, Framework.
    #[arg(long = "field")]
    pub fields: Vec<String>,
    /// Backlog item (story, defect, feature) id the tests cover (repeatable).
    #[arg(long = "backlog-item")]
    pub backlog_items: Vec<i64>,
    /// Application module (product area) id the tests belong to (repeatable).
    #[arg(long = "product-area")]
    pub product_areas: Vec<i64>,
    /// CI server instance id of the build that produced the results (register it
    /// first: `verdict admin ci-server create --instance-id ID`).
    #[arg(long, requires_all = ["build_job_id", "build_id"])]
    pub build_server_id: Option<String>,
    /// CI job id of that build (the job is created on first use).
    #[arg(long)]
    pub build_job_id: Option<String>,
    /// Build id (number) within the job (created on first use).
    #[arg(long)]
    pub build_id: Option<String>,
    /// `started` for runs whose report has no time (epoch ms) [default: when the report file was last written].
    #[arg(long)]
    pub started: Option<i64>,
}

fn pair(text: &str, what: &str) -> Result<(String, String), BoxError> {
    let (k, v) = text
        .split_once(':')
        .ok_or_else(|| format!("{what} '{text}' must be TYPE:VALUE"))?;
    if k.is_empty() || v.is_empty() {
        return Err(format!("{what} '{text}' must be TYPE:VALUE").into());
    }
    Ok((k.to_owned(), v.to_owned()))
}

impl ContextArgs {
    /// The payload options these flags describe.
    pub fn payload_options(&self) -> Result<PayloadOptions, BoxError> {
        let mut context = Context {
            release: match (&self.release, self.release_default, &self.release_name) {
                (Some(id), _, _) => Some(ReleaseLink::ById(*id)),
                (None, true, _) => Some(ReleaseLink::ByName("_default_".to_owned())),
                (None, false, Some(name)) => Some(ReleaseLink::ByName(name.clone())),
                _ => None,
            },
            milestone: self.milestone,
            program: self.program,
            suite: self.suite.map(|id| SuiteRef {
                id,
                external_run_id: self.suite_run_name.clone(),
                component: None,
            }),
            backlog_items: self.backlog_items.clone(),
            product_areas: self.product_areas.clone(),
            ..Context::default()
        };
        for tag in &self.tags {
            let (category, value) = pair(tag, "--tag")?;
            context.taxonomies.push(Taxonomy { category, value });
        }
        for field in &self.fields {
            let (kind, value) = pair(field, "--field")?;
            let field_type = TestFieldType::from_payload(&kind)
                .ok_or_else(|| format!("--field type '{kind}' must be Test_Level, Test_Type, Testing_Tool_Type or Framework"))?;
            context.test_fields.push(TestField { field_type, value });
        }
        let build = self.build_server_id.as_ref().map(|server| BuildRef {
            server_id: server.clone(),
            job_id: self.build_job_id.clone().unwrap_or_default(),
            build_id: self.build_id.clone().unwrap_or_default(),
            ..BuildRef::default()
        });
        let started_ms = self.started.unwrap_or_else(verdict_store::now_ms);
        Ok(PayloadOptions {
            build,
            context,
            started_ms,
            extensions: true,
            nonce: None,
        })
    }
}

#[derive(Debug, Args)]
pub struct PushArgs {
    /// Verdict or Octane server URL, e.g. http://127.0.0.1:8080.
    #[arg(long, env = "VERDICT_SERVER")]
    pub server: Option<String>,
    /// Shared space id [default: 1001].
    #[arg(long, env = "VERDICT_SHARED_SPACE")]
    pub shared_space: Option<i64>,
    /// Workspace id [default: 1002].
    #[arg(long, env = "VERDICT_WORKSPACE")]
    pub workspace: Option<i64>,
    /// User to sign in as; the password comes from --password-file, then
    /// VERDICT_PASSWORD, then `password` in the config file.
    #[arg(long, env = "VERDICT_USER")]
    pub user: Option<String>,
    /// File whose first line is the password (else VERDICT_PASSWORD).
    #[arg(long)]
    pub password_file: Option<PathBuf>,
    /// API key client id (client_id sign-in).
    #[arg(long, env = "VERDICT_API_KEY")]
    pub api_key: Option<String>,
    /// API key secret (prefer VERDICT_API_SECRET or the config file).
    #[arg(long, env = "VERDICT_API_SECRET", hide_env_values = true)]
    pub api_secret: Option<String>,
    /// TOML file with server, shared_space, workspace, user, password, api_key, api_secret.
    #[arg(long)]
    pub config: Option<PathBuf>,
    #[command(flatten)]
    pub context: ContextArgs,
    /// Let the server ignore recoverable errors.
    #[arg(long)]
    pub skip_errors: bool,
    /// Push even when the server holds an identical earlier push (it would
    /// otherwise answer with that push's task).
    #[arg(long)]
    pub no_dedupe: bool,
    /// Follow each task until it ends; fail unless success or warning.
    #[arg(long)]
    pub check_result: bool,
    /// Seconds to follow a task with --check-result.
    #[arg(long, default_value_t = 600)]
    pub check_result_timeout: u64,
    /// After the tasks end, print each result set's comparison with the
    /// previous one of its series: new failures with "failing since", fixed,
    /// still failing, flaky, muted (a Verdict server; implies --check-result).
    #[arg(long)]
    pub summary: bool,
    /// Append the summary as Markdown to FILE, e.g. "$GITHUB_STEP_SUMMARY"
    /// (implies --summary).
    #[arg(long, value_name = "FILE")]
    pub summary_markdown: Option<PathBuf>,
    /// Also exit 1 when a result set has a new failure (`new`) or any
    /// failure (`any`); muted tests and flaky passes never count (implies
    /// --check-result).
    #[arg(long, value_enum, default_value_t = super::summary::FailOn::Never)]
    pub fail_on: super::summary::FailOn,
    /// The protocol to push with; report formats are detected by content.
    #[arg(long, alias = "format", value_enum, default_value_t = PushProtocol::Octane)]
    pub protocol: PushProtocol,
    /// Test Center project (with --protocol testcenter).
    #[arg(long)]
    pub project: Option<String>,
    /// Test Center batch (with --protocol testcenter) [default: a new batch].
    #[arg(long)]
    pub batch: Option<String>,
    /// No progress bars.
    #[arg(long)]
    pub quiet: bool,
    /// What standard output says per file: a line for people (`text`) or one
    /// JSON object per line for scripts (`json`: file, format, runs, counts,
    /// task id, final status, errors); summaries then go to standard error.
    #[arg(long, value_enum, default_value_t = OutputFormat::Text)]
    pub output: OutputFormat,
    /// Report files (any supported format, detected by content); globs like
    /// reports/**/*.xml are expanded; `-` reads one report from standard input.
    #[arg(required = true)]
    pub files: Vec<String>,
}

impl PushArgs {
    /// The payload options of the context flags.
    pub fn payload_options(&self) -> Result<PayloadOptions, BoxError> {
        self.context.payload_options()
    }
}

#[derive(Debug, Args)]
pub struct ConvertArgs {
    /// The report to convert (format detected by content).
    pub file: PathBuf,
    /// Where to write the payload (default: standard output).
    #[arg(short, long)]
    pub output: Option<PathBuf>,
    /// Write only what Octane's own schema accepts: no `retries`/`flaky`
    /// attributes (for the collection tool or an Octane server).
    #[arg(long)]
    pub octane_schema: bool,
    #[command(flatten)]
    pub context: ContextArgs,
}

impl ConvertArgs {
    /// The payload options of the context flags.
    pub fn payload_options(&self) -> Result<PayloadOptions, BoxError> {
        let mut options = self.context.payload_options()?;
        options.extensions = !self.octane_schema;
        Ok(options)
    }
}

#[derive(Debug, Args)]
pub struct ValidateArgs {
    /// Payloads to check (plain or gzip).
    #[arg(required = true)]
    pub files: Vec<PathBuf>,
}

/// Credentials for the server.
#[derive(Debug, Clone)]
pub enum Credentials {
    User { user: String, password: String },
    ApiKey { client_id: String, secret: String },
}

/// Everything needed to talk to the server.
#[derive(Debug, Clone)]
pub struct Settings {
    pub server: String,
    pub shared_space: i64,
    pub workspace: i64,
    pub credentials: Credentials,
}

#[derive(Debug, Default, serde::Deserialize)]
struct ConfigFile {
    server: Option<String>,
    shared_space: Option<i64>,
    workspace: Option<i64>,
    user: Option<String>,
    password: Option<String>,
    api_key: Option<String>,
    api_secret: Option<String>,
}

impl Settings {
    /// Flags and environment first, then the config file.
    pub fn resolve(args: &PushArgs) -> Result<Self, BoxError> {
        let file = load_config(args.config.as_deref())?;
        let server = args
            .server
            .clone()
            .or(file.server)
            .ok_or("no server: give --server, VERDICT_SERVER or `server` in the config file")?;
        let server = server_url(&server)?;
        let password = match &args.password_file {
            Some(path) => Some(crate::admin::read_password_file(path)?),
            None => std::env::var("VERDICT_PASSWORD").ok().or(file.password),
        };
        let credentials = match (args.api_key.clone().or(file.api_key), args.api_secret.clone().or(file.api_secret)) {
            (Some(client_id), Some(secret)) => Credentials::ApiKey { client_id, secret },
            _ => Credentials::User {
                user: args.user.clone().or(file.user).ok_or("no credentials: give --user with --password-file, or --api-key with VERDICT_API_SECRET")?,
                password: password.ok_or("no password: give --password-file, VERDICT_PASSWORD or `password` in the config file")?,
            },
        };
        Ok(Self {
            server,
            shared_space: args.shared_space.or(file.shared_space).unwrap_or(1001),
            workspace: args.workspace.or(file.workspace).unwrap_or(1002),
            credentials,
        })
    }
}

/// Checks the server URL up front, so a missing scheme is named instead of
/// surfacing as the HTTP client's "builder error".
fn server_url(text: &str) -> Result<String, BoxError> {
    let trimmed = text.trim().trim_end_matches('/');
    let rest = trimmed
        .strip_prefix("http://")
        .or_else(|| trimmed.strip_prefix("https://"))
        .ok_or_else(|| {
            format!("server URL '{text}' must start with http:// or https:// (e.g. http://127.0.0.1:8080)")
        })?;
    if rest.is_empty() || rest.starts_with('/') {
        return Err(
            format!("server URL '{text}' names no host (e.g. http://127.0.0.1:8080)").into(),
        );
    }
    Ok(trimmed.to_owned())
}

fn load_config(path: Option<&Path>) -> Result<ConfigFile, BoxError> {
    let default =
        std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".config/verdict/push.toml"));
    let (path, required) = match path {
        Some(p) => (p.to_owned(), true),
        None => match default {
            Some(p) => (p, false),
            None => return Ok(ConfigFile::default()),
        },
    };
    match std::fs::read_to_string(&path) {
        Ok(text) => Ok(toml::from_str(&text).map_err(|e| format!("{}: {e}", path.display()))?),
        Err(e) if !required && e.kind() == std::io::ErrorKind::NotFound => {
            Ok(ConfigFile::default())
        }
        Err(e) => Err(format!("{}: {e}", path.display()).into()),
    }
}
