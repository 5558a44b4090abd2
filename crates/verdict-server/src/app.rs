//! Router, shared state and the server's lifecycle (bind, serve, graceful
//! shutdown of HTTP and workers).

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;

use axum::Router;
use axum::extract::{Request, State};
use axum::http::{StatusCode, Uri};
use axum::response::IntoResponse;
use axum::routing::{get, post, put};
use tokio::sync::{Notify, watch};
use tokio::task::JoinHandle;
use tower::Layer;
use verdict_store::{Store, StoreError};

use crate::auth::sign_in;
use crate::config::ServerConfig;
use crate::error::ApiError;
use crate::octane::{
    attachments, ci, ci_entities, ci_files, ci_scm, entities, entity_write, metadata, results,
    tenancy,
};
use crate::testcenter;

/// The `server_settings` row naming where blob bytes live (read by
/// `verdict admin prune`).
pub(crate) const BLOB_LOCATION: &str = "blob_location";

/// What every handler can reach.
#[derive(Clone)]
pub struct AppState {
    pub store: Store,
    pub config: Arc<ServerConfig>,
    /// Where request bodies are spooled before they are validated.
    pub spool_dir: PathBuf,
    /// Notified on every accepted push so an idle worker starts at once.
    pub wake_workers: Arc<Notify>,
    /// Attachment bytes.
    pub blobs: crate::blobs::BlobStore,
    /// Recently verified credentials (argon2 is slow on purpose).
    pub credentials: Arc<crate::auth::credentials::CredentialCache>,
    /// Failed sign-ins per user and client address.
    pub throttle: Arc<crate::auth::throttle::SignInThrottle>,
    /// Items applied by the tasks this node is running.
    pub progress: Arc<crate::worker::TaskProgress>,
    /// What `/metrics` exports.
    pub metrics: Arc<crate::metrics::Metrics>,
    /// Writing requests in flight, which make running tasks commit sooner.
    pub write_demand: Arc<crate::worker::WriteDemand>,
}

/// Why the server could not start.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(
        "cannot listen on {addr}: {source} (is another server running there? choose another address with --listen)"
    )]
    Bind {
        addr: SocketAddr,
        source: std::io::Error,
    },
    #[error(
        "the data directory {dir} is in use by another verdict serve (lock held on {lock}); stop it, or give this one its own --data-dir"
    )]
    DataDirLocked { dir: PathBuf, lock: PathBuf },
    #[error("cannot use the data directory {dir}: {source}")]
    DataDir {
        dir: PathBuf,
        source: std::io::Error,
    },
    #[error(transparent)]
    BlobUrl(#[from] crate::blobs::BlobUrlError),
    #[error("cannot use blob storage {location}: {source}")]
    Blobs {
        location: String,
        source: crate::blobs::BlobError,
    },
    #[error("i/o error: {0}")]
    Io(#[from] std::io::Error),
    #[error("random source failed: {0}")]
    Random(String),
}

/// Entry point for starting a server.
pub struct Server;

/// A started server: its address, the generated admin password (first start
/// only) and the handles to stop it.
pub struct RunningServer {
    pub addr: SocketAddr,
    pub store: Store,
    pub generated_admin_password: Option<String>,
    /// `VERDICT_ADMIN_PASSWORD` was given but `admin` already existed, so it
    /// was not applied (the caller says so).
    pub admin_password_ignored: bool,
    /// Held for the server's lifetime: one server per data directory.
    _data_dir_lock: std::fs::File,
    shutdown: watch::Sender<bool>,
    http: JoinHandle<()>,
    workers: Vec<JoinHandle<()>>,
}

impl Server {
    /// Opens the store, bootstraps defaults, binds and starts serving and
    /// processing. Returns once the listener is bound.
    ///
    /// # Errors
    /// Database, bind or filesystem failure.
    pub async fn start(config: ServerConfig) -> Result<RunningServer, StartError> {
        let data_dir_lock = lock_data_dir(&config.data_dir)?;
        let spool_dir = config.data_dir.join("spool");
        std::fs::create_dir_all(&spool_dir).map_err(|source| StartError::DataDir {
            dir: spool_dir.clone(),
            source,
        })?;
        // Bind before the first start creates `admin`: a start that cannot
        // listen must not leave a user whose generated password nobody saw.
        let listener = tokio::net::TcpListener::bind(config.listen)
            .await
            .map_err(|source| StartError::Bind {
                addr: config.listen,
                source,
            })?;
        let addr = listener.local_addr()?;
        let store = Store::open(&config.effective_database_url()).await?;
        let admin = crate::bootstrap::bootstrap(&store, config.admin_password.as_deref()).await?;
        let requeued = store.requeue_orphans().await?;
        if requeued > 0 {
            tracing::info!(requeued, "resuming tasks cut off by the last stop");
        }
        let wake = Arc::new(Notify::new());
        let progress = Arc::new(crate::worker::TaskProgress::default());
        let write_demand = Arc::new(crate::worker::WriteDemand::default());
        let metrics = Arc::new(crate::metrics::Metrics::new());
        let backend = crate::blobs::Backend::for_config(&config)?;
        backend.check().await.map_err(|source| StartError::Blobs {
            location: backend.describe(),
            source,
        })?;
        tracing::info!(location = %backend.describe(), "blob storage");
        store
            .set_setting(BLOB_LOCATION, &backend.describe())
            .await?;
        if config.blob_url.is_none() && store.backend() == verdict_store::Backend::Postgres {
            tracing::warn!(
                "attachments are kept in this node's data directory: when several nodes share this database, give them one --blob-url (s3://bucket/prefix, or file:// on a shared mount) so each serves every attachment"
            );
        }
        let blobs =
            crate::blobs::BlobStore::open(config.data_dir.join("blobs").join("tmp"), backend)?;
        let (shutdown, shutdown_rx) = watch::channel(false);
        let shared = crate::worker::NodeShared {
            wake: wake.clone(),
            progress: progress.clone(),
            demand: write_demand.clone(),
            metrics: metrics.clone(),
        };
        let mut workers = crate::worker::spawn_workers(
            store.clone(),
            config.workers,
            config.task_lease,
            &shared,
            shutdown_rx.clone(),
        );
        workers.push(crate::blobs::spawn_sweeper(
            blobs.clone(),
            store.clone(),
            shutdown_rx.clone(),
        ));
        workers.push(spawn_wal_checkpoints(store.clone(), shutdown_rx.clone()));
        workers.push(crate::retention::spawn_pruner(
            store.clone(),
            blobs.clone(),
            config.retain_days,
            shutdown_rx.clone(),
        ));
        let state_limits = crate::http::ConnLimits {
            header_timeout: config.header_timeout,
            body_idle_timeout: config.body_idle_timeout,
            max_connections: config.max_connections,
        };
        let throttle = Arc::new(crate::auth::throttle::SignInThrottle::new(
            config.max_failed_sign_ins,
            config.sign_in_window,
        ));
        let state = AppState {
            store: store.clone(),
            config: Arc::new(config),
            spool_dir,
            wake_workers: wake,
            blobs,
            credentials: Arc::default(),
            throttle,
            progress,
            metrics,
            write_demand,
        };
        let app = axum::middleware::map_request(strip_trailing_slash).layer(router(state));
        let stop = shutdown_rx;
        let limits = state_limits;
        let http = tokio::spawn(async move {
            crate::http::serve(listener, app, limits, stop).await;
        });
        tracing::info!(%addr, "verdict listening");
        Ok(RunningServer {
            addr,
            store,
            generated_admin_password: admin.generated_password,
            admin_password_ignored: admin.given_password_ignored,
            _data_dir_lock: data_dir_lock,
            shutdown,
            http,
            workers,
        })
    }
}

impl RunningServer {
    /// `http://addr`.
    #[must_use]
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Stops accepting requests, lets workers finish their current task, closes the store.
    pub async fn shutdown(self) {
        let _ = self.shutdown.send(true);
        let _ = self.http.await;
        for w in self.workers {
            let _ = w.await;
        }
        self.store.close().await;
    }
}

/// How often SQLite's WAL is copied into the database (by a reader: the
/// writer never pays for it, see `Store::checkpoint_wal`).
const WAL_CHECKPOINT_EVERY: std::time::Duration = std::time::Duration::from_millis(200);

fn spawn_wal_checkpoints(store: Store, mut shutdown: watch::Receiver<bool>) -> JoinHandle<()> {
    tokio::spawn(async move {
        if store.backend() != verdict_store::Backend::Sqlite {
            return;
        }
        if let Err(e) = store.take_over_wal_checkpoints().await {
            tracing::warn!(error = %e, "SQLite keeps checkpointing the WAL at commit");
        }
        // One warning per run of failures (a full disk fails every try, and
        // its log lines would land on the same full disk), one line when it
        // works again.
        let mut failing = false;
        loop {
            match store.checkpoint_wal().await {
                Err(e) if !failing => {
                    failing = true;
                    tracing::warn!(error = %e, "WAL checkpoint failed; retried every few hundred ms, logged again when it works");
                }
                Err(e) => tracing::debug!(error = %e, "WAL checkpoint failed again"),
                Ok(()) if failing => {
                    failing = false;
                    tracing::info!("WAL checkpoint works again");
                }
                Ok(()) => {}
            }
            tokio::select! {
                () = tokio::time::sleep(WAL_CHECKPOINT_EVERY) => {}
                _ = shutdown.changed() => return,
            }
        }
    })
}

/// Creates the data directory and takes an exclusive lock on
/// `verdict.lock` inside it, released when the process ends (even on a
/// crash), so a second server on the same directory refuses to start instead
/// of failing tasks with "database is locked" later.
fn lock_data_dir(dir: &std::path::Path) -> Result<std::fs::File, StartError> {
    let io = |source| StartError::DataDir {
        dir: dir.to_owned(),
        source,
    };
    std::fs::create_dir_all(dir).map_err(io)?;
    let lock = dir.join("verdict.lock");
    let file = std::fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&lock)
        .map_err(io)?;
    match file.try_lock() {
        Ok(()) => Ok(file),
        Err(std::fs::TryLockError::WouldBlock) => Err(StartError::DataDirLocked {
            dir: dir.to_owned(),
            lock,
        }),
        Err(std::fs::TryLockError::Error(e)) => Err(io(e)),
    }
}

fn router(state: AppState) -> Router {
    let ws = "/api/shared_spaces/{sp}/workspaces/{ws}";
    let ci = "/internal-api/shared_spaces/{sp}/analytics/ci";
    let vws = "/verdict/api/shared_spaces/{sp}/workspaces/{ws}";
    Router::new()
        .route(
            "/verdict/api/tokens",
            post(crate::auth::tokens::create).get(crate::auth::tokens::list),
        )
        .route(
            "/verdict/api/tokens/{id}",
            axum::routing::delete(crate::auth::tokens::revoke),
        )
        .route(
            "/verdict/api/openapi.json",
            get(crate::api::openapi::document),
        )
        .route(&format!("{vws}/tasks/{{id}}"), get(crate::api::tasks::task))
        .route(
            &format!("{vws}/result_sets"),
            get(crate::api::result_sets::list),
        )
        .route(
            &format!("{vws}/result_sets/{{id}}"),
            get(crate::api::result_sets::detail),
        )
        .route(
            &format!("{vws}/result_sets/{{id}}/results"),
            get(crate::api::result_sets::results),
        )
        .route(
            &format!("{vws}/tests/{{id}}/story"),
            get(crate::api::story::story),
        )
        .route(
            &format!("{vws}/tests/{{id}}/mute"),
            axum::routing::put(crate::api::mutes::mute)
                .delete(crate::api::mutes::unmute)
                .layer(axum::extract::DefaultBodyLimit::max(
                    crate::limits::INSIGHT_BODY_BYTES,
                )),
        )
        .route(&format!("{vws}/mutes"), get(crate::api::mutes::list))
        .route(
            &format!("{vws}/failure_groups"),
            get(crate::api::groups::list),
        )
        .route(
            &format!("{vws}/failure_groups/{{signature}}"),
            get(crate::api::groups::detail),
        )
        .route(
            &format!("{vws}/failure_groups/{{signature}}/triage"),
            post(crate::api::groups::triage).layer(axum::extract::DefaultBodyLimit::max(
                crate::limits::INSIGHT_BODY_BYTES,
            )),
        )
        .route(&format!("{vws}/flaky_tests"), get(crate::api::flaky::list))
        .route(
            "/verdict/api/shared_spaces/{sp}/workspaces/{ws}/batches",
            get(crate::api::batches::batches),
        )
        .route(
            "/verdict/api/shared_spaces/{sp}/workspaces/{ws}/tests/{id}/history",
            get(crate::api::history::history),
        )
        .route(
            "/import",
            post(testcenter::import::import).layer(axum::extract::DefaultBodyLimit::max(2 << 30)),
        )
        .route("/upload/suites", post(testcenter::upload::suites))
        .route("/upload/cases", post(testcenter::upload::cases))
        .route("/upload/features", post(testcenter::upload::features))
        .route("/upload/scenarios", post(testcenter::upload::scenarios))
        .route("/upload/steps", post(testcenter::upload::steps))
        .route("/upload/sections", post(testcenter::upload::sections))
        .route(
            "/upload/events",
            post(testcenter::events::events).layer(axum::extract::DefaultBodyLimit::max(2 << 30)),
        )
        .route(
            &format!("{ci}/servers/connectivity/status"),
            get(ci::connectivity),
        )
        .route(
            &format!("{ci}/servers/{{inst}}/jobs/{{job}}/tests-result-preflight"),
            get(ci::preflight),
        )
        .route(&format!("{ci}/servers/{{inst}}/tasks"), get(ci::tasks))
        .route(
            &format!("{ci}/servers/{{inst}}/tasks/{{id}}/result"),
            put(ci::task_result),
        )
        .route(
            &format!("{ci}/servers/{{inst}}/pipeline-roots"),
            get(ci::pipeline_roots),
        )
        .route(
            &format!("{ci}/servers/{{inst}}/jobs/{{job}}/workspaceId"),
            get(ci_files::workspace_ids),
        )
        .route(
            "/internal-api/shared_spaces/{sp}/workspaces/{ws}/analytics/ci/{inst}/{job}/{build}/logs",
            post(ci_files::build_log),
        )
        .route(&format!("{ci}/coverage"), put(ci_files::coverage))
        .route(
            "/api/shared_spaces/{sp}/scm-commits",
            put(ci_scm::scm_commits).layer(axum::extract::DefaultBodyLimit::max(
                crate::limits::CI_SCM_JSON_BYTES,
            )),
        )
        .route(
            "/api/shared_spaces/{sp}/vulnerabilities/preflight",
            get(ci_scm::vulnerabilities_preflight),
        )
        .route(
            "/api/shared_spaces/{sp}/vulnerabilities/remote-issue-ids",
            get(ci_scm::vulnerabilities_open),
        )
        .route(&format!("{ci}/events"), put(ci::events))
        .route(&format!("{ci}/test-results"), post(ci::push))
        .route(&format!("{ci}/test-results/{{task}}"), get(ci::push_status))
        .route(&format!("{ci}/pipeline_update"), put(ci::keep_raw))
        .route(&format!("{ci}/ci_job_update"), put(ci::keep_raw))
        .route(
            "/internal-api/shared_spaces/{sp}/workspaces/{ws}/analytics/ci/github_feature_toggles",
            get(ci::feature_toggles),
        )
        .route(
            &format!("{ws}/analytics/ci/builds"),
            put(ci_entities::builds),
        )
        .route(
            &format!("{ws}/analytics/ci/pull-requests"),
            put(ci_entities::pull_requests),
        )
        .route(&format!("{ws}/metadata/entities"), get(metadata::entities))
        .route(&format!("{ws}/metadata/fields"), get(metadata::fields))
        .route(
            &format!("{ws}/attachments"),
            get(attachments::list).post(attachments::upload),
        )
        .route(
            &format!("{ws}/attachments/{{id}}"),
            get(attachments::get).delete(attachments::delete),
        )
        .route(
            &format!("{ws}/pipelines"),
            get(entities::list_pipelines)
                .post(ci_entities::create_pipelines)
                .put(entity_write::update_pipelines),
        )
        .route("/healthz", get(|| async { "ok" }))
        .route("/metrics", get(crate::metrics::scrape))
        .route("/readyz", get(readyz))
        .route("/authentication/sign_in", post(sign_in::sign_in))
        .route("/authentication/sign_out", post(sign_in::sign_out))
        .route("/api/shared_spaces", get(tenancy::shared_spaces))
        .route(
            "/api/shared_spaces/{sp}/workspaces",
            get(tenancy::workspaces),
        )
        .route(&format!("{ws}/test-results/xsd"), get(results::xsd))
        .route(&format!("{ws}/test-results"), post(results::push))
        .route(&format!("{ws}/test-results/{{task}}"), get(results::status))
        .route(
            &format!("{ws}/{{collection}}"),
            get(entities::list)
                .post(entity_write::create)
                .put(entity_write::update_many)
                .delete(entity_write::delete_many),
        )
        .route(
            &format!("{ws}/{{collection}}/{{id}}"),
            get(entities::one)
                .put(entity_write::update_one)
                .delete(entity_write::delete_one),
        )
        .merge(crate::ui::routes())
        .layer(axum::extract::DefaultBodyLimit::max(64 << 20))
        .fallback(not_found)
        .method_not_allowed_fallback(method_not_allowed)
        // A layer of the router: it runs after routing, so the matched route
        // template is known (fallbacks count as `unmatched`).
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            crate::metrics::observe,
        ))
        .layer(axum::middleware::from_fn(framework_errors_as_json))
        .layer(axum::middleware::from_fn(correlation_scope))
        .with_state(state)
}

/// axum's own rejections (a body over the route's limit: 413) are plain
/// text; clients parse Octane's (or Test Center's) error JSON, so they are
/// rewritten into it here, in one place.
async fn framework_errors_as_json(
    req: Request,
    next: axum::middleware::Next,
) -> axum::response::Response {
    let test_center = {
        let path = req.uri().path();
        path.starts_with("/upload/") || path == "/import"
    };
    let response = next.run(req).await;
    let is_json = response
        .headers()
        .get(axum::http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.contains("json"));
    if response.status() != StatusCode::PAYLOAD_TOO_LARGE || is_json {
        return response;
    }
    let message =
        "the request body is larger than this endpoint accepts (docs/security.md lists the limits)"
            .to_owned();
    if test_center {
        crate::testcenter::error::TcError::TooLarge(message).into_response()
    } else {
        ApiError::PayloadTooLarge(message).into_response()
    }
}

async fn readyz(State(state): State<AppState>) -> impl IntoResponse {
    match state.store.ping().await {
        Ok(()) => (StatusCode::OK, "ready").into_response(),
        Err(e) => ApiError::Unavailable(format!("database unreachable: {e}")).into_response(),
    }
}

async fn method_not_allowed(method: axum::http::Method, uri: Uri) -> ApiError {
    ApiError::MethodNotAllowed(format!("{method} is not supported on {}", uri.path()))
}

/// Runs the request with its `X-Correlation-ID` in scope for error bodies.
async fn correlation_scope(req: Request, next: axum::middleware::Next) -> axum::response::Response {
    let id = req
        .headers()
        .get("x-correlation-id")
        .and_then(|v| v.to_str().ok())
        .filter(|v| !v.is_empty() && v.len() <= 128)
        .map(str::to_owned);
    match id {
        Some(id) => crate::error::CORRELATION_ID.scope(id, next.run(req)).await,
        None => next.run(req).await,
    }
}

async fn not_found(uri: Uri) -> ApiError {
    ApiError::NotFound(format!("no resource at {}", uri.path()))
}

/// Clients append `/` to some paths; routes are declared without it.
async fn strip_trailing_slash(mut req: Request) -> Request {
    let path = req.uri().path();
    if path.len() > 1 && path.ends_with('/') {
        let trimmed = path.trim_end_matches('/');
        let rebuilt = match req.uri().query() {
            Some(q) => format!("{trimmed}?{q}"),
            None => trimmed.to_owned(),
        };
        if let Ok(uri) = rebuilt.parse() {
            *req.uri_mut() = uri;
        }
    }
    req
}
