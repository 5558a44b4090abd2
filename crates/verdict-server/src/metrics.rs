//! Operations: `GET /metrics` in the Prometheus/OpenMetrics text format, and
//! one access-log line per request.
//!
//! Counters and histograms are updated as things happen (requests by
//! method, route template and status with their latency; tasks finished by
//! outcome; runs ingested; task processing time); the queue and the
//! database pools are read when the endpoint is scraped. Route labels are
//! axum's route templates (`/api/shared_spaces/{sp}/workspaces/{ws}/…`),
//! never raw paths, so their number is bounded by the router.

use std::sync::atomic::AtomicU64;
use std::sync::{Arc, OnceLock};
use std::time::Instant;

use axum::extract::{MatchedPath, Request, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::encoding::text::encode;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::Registry;

use crate::app::AppState;

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RequestLabels {
    method: String,
    route: String,
    status: u16,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RouteLabels {
    method: String,
    route: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct OutcomeLabels {
    outcome: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct StateLabels {
    state: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct PoolName {
    pool: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct PoolLabels {
    pool: String,
    state: String,
}

type Seconds = Family<RouteLabels, Histogram, fn() -> Histogram>;

/// 1 ms … about 65 s, doubling.
fn latency_histogram() -> Histogram {
    Histogram::new(exponential_buckets(0.001, 2.0, 17))
}

/// 10 ms … about 45 min, doubling (a million-run task takes minutes).
fn task_histogram() -> Histogram {
    Histogram::new(exponential_buckets(0.01, 2.0, 19))
}

/// Every figure the node exports.
#[derive(Debug)]
pub struct Metrics {
    registry: Registry,
    requests: Family<RequestLabels, Counter>,
    latency: Seconds,
    tasks_finished: Family<OutcomeLabels, Counter>,
    runs_ingested: Counter,
    task_seconds: Histogram,
    tasks: Family<StateLabels, Gauge>,
    queue_age: Gauge<f64, AtomicU64>,
    pool: Family<PoolLabels, Gauge>,
    pool_max: Family<PoolName, Gauge>,
}

impl Default for Metrics {
    fn default() -> Self {
        Self::new()
    }
}

impl Metrics {
    /// A registry with every metric registered once.
    #[must_use]
    pub fn new() -> Self {
        let mut registry = Registry::default();
        let requests = Family::<RequestLabels, Counter>::default();
        registry.register(
            "verdict_http_requests",
            "HTTP requests answered, by method, route template and status",
            requests.clone(),
        );
        let latency: Seconds = Family::new_with_constructor(latency_histogram);
        registry.register(
            "verdict_http_request_duration_seconds",
            "Time from a request's head to its response's head, by method and route template",
            latency.clone(),
        );
        let tasks_finished = Family::<OutcomeLabels, Counter>::default();
        registry.register(
            "verdict_tasks_finished",
            "Test-result tasks finished by this node, by outcome (success, warning, failed, error)",
            tasks_finished.clone(),
        );
        let runs_ingested = Counter::default();
        registry.register(
            "verdict_runs_ingested",
            "Test runs in the payloads of tasks this node finished with success or warning (as counted at the push, items skipped with skip-errors included)",
            runs_ingested.clone(),
        );
        let task_seconds = task_histogram();
        registry.register(
            "verdict_task_processing_seconds",
            "Time this node spent processing a task",
            task_seconds.clone(),
        );
        let tasks = Family::<StateLabels, Gauge>::default();
        registry.register(
            "verdict_tasks",
            "Tasks queued and running in the whole database (every node)",
            tasks.clone(),
        );
        let queue_age = Gauge::<f64, AtomicU64>::default();
        registry.register(
            "verdict_task_queue_age_seconds",
            "Age of the oldest queued task (0 when none is queued)",
            queue_age.clone(),
        );
        let pool = Family::<PoolLabels, Gauge>::default();
        registry.register(
            "verdict_db_pool_connections",
            "Database connections of this node by pool: open, and idle among them",
            pool.clone(),
        );
        let pool_max = Family::<PoolName, Gauge>::default();
        registry.register(
            "verdict_db_pool_max_connections",
            "The most connections each pool of this node opens",
            pool_max.clone(),
        );
        Self {
            registry,
            requests,
            latency,
            tasks_finished,
            runs_ingested,
            task_seconds,
            tasks,
            queue_age,
            pool,
            pool_max,
        }
    }

    fn observe_request(&self, method: &str, route: &str, status: u16, seconds: f64) {
        self.requests
            .get_or_create(&RequestLabels {
                method: method.to_owned(),
                route: route.to_owned(),
                status,
            })
            .inc();
        self.latency
            .get_or_create(&RouteLabels {
                method: method.to_owned(),
                route: route.to_owned(),
            })
            .observe(seconds);
    }

    /// A task this node finished: its outcome, its runs, its time.
    pub fn task_finished(&self, outcome: &str, runs: Option<i64>, seconds: f64) {
        self.tasks_finished
            .get_or_create(&OutcomeLabels {
                outcome: outcome.to_owned(),
            })
            .inc();
        if let (true, Some(runs)) = (
            matches!(outcome, "success" | "warning"),
            runs.and_then(|n| u64::try_from(n).ok()),
        ) {
            self.runs_ingested.inc_by(runs);
        }
        self.task_seconds.observe(seconds);
    }
}

/// GET /metrics — unauthenticated, like most scrape targets: it holds
/// counts and times only, nothing of any tenant's data (docs/security.md).
pub async fn scrape(State(state): State<AppState>) -> Response {
    let metrics = &state.metrics;
    match state.store.queue_figures().await {
        Ok(queue) => {
            for (name, n) in [("queued", queue.queued), ("running", queue.running)] {
                metrics
                    .tasks
                    .get_or_create(&StateLabels {
                        state: name.to_owned(),
                    })
                    .set(n);
            }
            let age = queue.oldest_queued_ms.map_or(0.0, |t| {
                let ms = verdict_store::now_ms().saturating_sub(t).max(0);
                f64::from(u32::try_from(ms / 1000).unwrap_or(u32::MAX))
            });
            metrics.queue_age.set(age);
        }
        Err(e) => tracing::warn!(error = %e, "metrics: reading the task queue failed"),
    }
    for p in state.store.pool_figures() {
        metrics
            .pool_max
            .get_or_create(&PoolName {
                pool: p.pool.to_owned(),
            })
            .set(i64::from(p.max));
        let figures = [
            ("open", i64::from(p.size)),
            ("idle", i64::try_from(p.idle).unwrap_or(i64::MAX)),
        ];
        for (name, n) in figures {
            metrics
                .pool
                .get_or_create(&PoolLabels {
                    pool: p.pool.to_owned(),
                    state: name.to_owned(),
                })
                .set(n);
        }
    }
    let mut text = String::new();
    if let Err(e) = encode(&mut text, &metrics.registry) {
        tracing::error!(error = %e, "metrics: encoding failed");
        return StatusCode::INTERNAL_SERVER_ERROR.into_response();
    }
    (
        [(
            header::CONTENT_TYPE,
            "application/openmetrics-text; version=1.0.0; charset=utf-8",
        )],
        text,
    )
        .into_response()
}

tokio::task_local! {
    /// The signed-in user of the request being served, set by the
    /// `Principal` extractor for the access log.
    static REQUEST_USER: Arc<OnceLock<String>>;
}

/// Records who the request is from (first caller wins).
pub fn note_user(name: &str) {
    let _ = REQUEST_USER.try_with(|user| user.set(name.to_owned()));
}

/// Counts and times every request, and logs it at `info`: method, route
/// template, status, latency, correlation id and user.
pub async fn observe(
    State(state): State<AppState>,
    req: Request,
    next: axum::middleware::Next,
) -> Response {
    let started = Instant::now();
    // Any token is a method to hyper: only the standard ones become labels.
    let method = match req.method().as_str() {
        m @ ("GET" | "HEAD" | "POST" | "PUT" | "DELETE" | "PATCH" | "OPTIONS") => m,
        _ => "other",
    }
    .to_owned();
    let route = req
        .extensions()
        .get::<MatchedPath>()
        .map_or_else(|| "unmatched".to_owned(), |m| m.as_str().to_owned());
    let correlation = req
        .headers()
        .get("x-correlation-id")
        .and_then(|v| v.to_str().ok())
        // As the error bodies (`correlation_scope`): an id over 128 bytes is ignored.
        .filter(|v| !v.is_empty() && v.len() <= 128)
        .map(str::to_owned);
    // A request that may write makes a running task commit its chunk soon.
    let writes = !matches!(method.as_str(), "GET" | "HEAD" | "OPTIONS");
    let _waiting = writes.then(|| state.write_demand.enter());
    let user = Arc::new(OnceLock::new());
    let response = REQUEST_USER.scope(user.clone(), next.run(req)).await;
    let elapsed = started.elapsed();
    let status = response.status().as_u16();
    state
        .metrics
        .observe_request(&method, &route, status, elapsed.as_secs_f64());
    tracing::info!(
        target: "verdict_server::access",
        method = %method,
        route = %route,
        status,
        latency_ms = elapsed.as_secs_f64() * 1000.0,
        correlation_id = correlation.as_deref().unwrap_or("-"),
        user = user.get().map_or("-", String::as_str),
        "request"
    );
    response
}
