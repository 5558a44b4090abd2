//! The JSON shapes of the insight API. Ids are strings, as in the Octane
//! API; times are ISO 8601 UTC. Each type is also the OpenAPI schema.

use serde::Serialize;
use utoipa::ToSchema;
use verdict_domain::time::format_iso;
use verdict_store::{ResultSetRow, SummaryCounts, TestInfo, TriageRecord};

/// A test as lists show it.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct TestRef {
    pub id: String,
    pub name: String,
    pub class_name: String,
    pub package: String,
    pub component: String,
    /// `test_automated`, `gherkin_test`, or a Test Center level (`tc_case`, …).
    pub subtype: String,
}

impl From<&TestInfo> for TestRef {
    fn from(t: &TestInfo) -> Self {
        Self {
            id: t.id.to_string(),
            name: t.name.clone(),
            class_name: t.class_name.clone(),
            package: t.package.clone(),
            component: t.component.clone(),
            subtype: t.subtype.clone(),
        }
    }
}

/// Where a result ran: release and environment.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ContextView {
    /// Stable key of the context (hex).
    pub key: String,
    pub release: Option<String>,
    /// Environment taxonomies (`Browser: Chrome`) or Test Center labels (`os=linux`).
    pub environment: Vec<String>,
}

/// A result set's comparison counts with the previous set of its series.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ComparisonCounts {
    pub previous_id: Option<String>,
    pub new_failures: i64,
    pub still_failing: i64,
    pub fixed: i64,
    pub new_tests: i64,
    pub removed: i64,
    pub flaky: i64,
    pub muted: i64,
    /// The counts predate the set's newest results (refreshed shortly;
    /// `…/result_sets/{id}` always compares live).
    pub stale: bool,
}

impl From<SummaryCounts> for ComparisonCounts {
    fn from(c: SummaryCounts) -> Self {
        Self {
            previous_id: c.previous_id.map(|p| p.to_string()),
            new_failures: c.new_failures,
            still_failing: c.still_failing,
            fixed: c.fixed,
            new_tests: c.new_tests,
            removed: c.removed,
            flaky: c.flaky,
            muted: c.muted,
            stale: c.stale,
        }
    }
}

/// Counts of a result set's results.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct OutcomeCounts {
    pub total: i64,
    pub passed: i64,
    pub failed: i64,
    pub skipped: i64,
    /// Passed after a failed try.
    pub flaky: i64,
    /// Failed while muted.
    pub muted: i64,
}

/// One result set: a CI build, a Test Center report or a push.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ResultSetView {
    pub id: String,
    /// `build`, `report` or `push`.
    pub kind: String,
    pub name: String,
    pub series: SeriesView,
    pub ci_build_id: Option<String>,
    pub ci_job_id: Option<String>,
    pub report_id: Option<String>,
    pub batch: Option<String>,
    pub task_id: Option<String>,
    pub release_id: Option<String>,
    pub milestone_id: Option<String>,
    pub environment: Option<String>,
    pub pushed_by: Option<String>,
    /// Earliest result's start.
    pub started: String,
    /// Latest result's end.
    pub finished: String,
    pub duration_ms: i64,
    pub counts: OutcomeCounts,
    pub comparison: ComparisonCounts,
}

/// The series a result set belongs to (docs/insight.md).
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct SeriesView {
    pub id: String,
    pub name: String,
}

impl From<&ResultSetRow> for ResultSetView {
    fn from(r: &ResultSetRow) -> Self {
        let id = |v: Option<i64>| v.map(|v| v.to_string());
        Self {
            id: r.id.to_string(),
            kind: r.kind.clone(),
            name: r.name.clone(),
            series: SeriesView {
                id: r.series_id.to_string(),
                name: r.series_name.clone(),
            },
            ci_build_id: id(r.ci_build_id),
            ci_job_id: id(r.ci_job_id),
            report_id: id(r.report_id),
            batch: r.batch.clone(),
            task_id: id(r.task_id),
            release_id: id(r.release_id),
            milestone_id: id(r.milestone_id),
            environment: r.environment.clone(),
            pushed_by: r.pushed_by.clone(),
            started: format_iso(r.started),
            finished: format_iso(r.finished),
            duration_ms: (r.finished - r.started).max(0),
            counts: OutcomeCounts {
                total: r.total,
                passed: r.passed,
                failed: r.failed,
                skipped: r.skipped,
                flaky: r.flaky,
                muted: r.muted,
            },
            comparison: r.summary.into(),
        }
    }
}

/// A triage note on a failure group.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct TriageView {
    pub note: Option<String>,
    /// A defect id or URL.
    pub link: Option<String>,
    pub by: String,
    pub at: String,
}

impl From<&TriageRecord> for TriageView {
    fn from(t: &TriageRecord) -> Self {
        Self {
            note: t.note.clone(),
            link: t.link.clone(),
            by: t.by_user.clone(),
            at: format_iso(t.at),
        }
    }
}

/// A point of a test's history, as "failing since" and "last passed" name it.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct HistoryPoint {
    pub result_id: String,
    pub started: String,
    pub result_set_id: String,
    pub result_set_name: String,
}

/// A list of results a page shows, with how many there are in all.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Page<T: ToSchema> {
    pub total_count: i64,
    pub limit: i64,
    pub offset: i64,
    pub data: Vec<T>,
}

/// A list without paging.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ListOf<T: ToSchema> {
    pub total_count: usize,
    pub data: Vec<T>,
}
