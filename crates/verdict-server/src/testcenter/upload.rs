//! `POST /upload/suites` and the five child levels (`cases`, `features`,
//! `scenarios`, `steps`, `sections`): each reports one execution of a test
//! and answers 201 with its run id.

use axum::Json;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::StatusCode;
use serde::Deserialize;
use serde_json::{Value, json};
use verdict_domain::testcenter::Level;
use verdict_store::{Label, ReportSelection, TcRun, TcTest};

use super::auth::Uploader;
use super::error::TcError;
use crate::app::AppState;
use crate::limits;

/// The `test` object of every upload.
#[derive(Debug, Deserialize)]
struct TestBody {
    name: String,
    summary: Option<String>,
    description: Option<String>,
}

impl TestBody {
    fn into_test(self) -> Result<TcTest, TcError> {
        if self.name.trim().is_empty() {
            return Err(TcError::BadRequest(
                "'test.name' must not be empty".to_owned(),
            ));
        }
        let bad = TcError::BadRequest;
        limits::check_chars("test.name", &self.name, limits::TC_NAME_CHARS).map_err(bad)?;
        if let Some(summary) = &self.summary {
            limits::check_chars("test.summary", summary, limits::TC_SHORT_TEXT_CHARS)
                .map_err(bad)?;
        }
        if let Some(description) = &self.description {
            limits::check_bytes("test.description", description, limits::TC_MESSAGE_BYTES)
                .map_err(bad)?;
        }
        Ok(TcTest {
            name: self.name,
            summary: self.summary,
            description: self.description,
            ..TcTest::default()
        })
    }
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct SuiteBody {
    project: Option<String>,
    batch: Option<String>,
    report_id: Option<i64>,
    labels: Option<Vec<LabelBody>>,
    test: TestBody,
}

#[derive(Debug, Deserialize)]
struct LabelBody {
    key: String,
    value: String,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct ChildBody {
    run_id: i64,
    test: TestBody,
}

/// Parses a JSON body, naming the line and column of a syntax error.
pub fn parse<T: serde::de::DeserializeOwned>(body: &[u8]) -> Result<T, TcError> {
    serde_json::from_slice(body)
        .map_err(|e| TcError::BadRequest(format!("invalid request body: {e}")))
}

/// POST /upload/suites
pub async fn suites(
    State(state): State<AppState>,
    who: Uploader,
    body: Bytes,
) -> Result<(StatusCode, Json<Value>), TcError> {
    let body: SuiteBody = parse(&body)?;
    let test = body.test.into_test()?;
    for (field, text) in [("project", &body.project), ("batch", &body.batch)] {
        if let Some(text) = text {
            limits::check_chars(field, text, limits::TC_SHORT_TEXT_CHARS)
                .map_err(TcError::BadRequest)?;
        }
    }
    for l in body.labels.iter().flatten() {
        for (field, text) in [("labels[].key", &l.key), ("labels[].value", &l.value)] {
            limits::check_chars(field, text, limits::TC_SHORT_TEXT_CHARS)
                .map_err(TcError::BadRequest)?;
        }
    }
    let (workspace, report) = if let Some(report_id) = body.report_id {
        // Unknown and foreign reports answer alike (testcenter-notes: 404).
        let not_found = || TcError::NotFound(format!("report {report_id} not found"));
        let report = match state.store.tc_report(report_id).await? {
            Some(r) if who.can_upload(&state, r.workspace_id).await? => r,
            _ => return Err(not_found()),
        };
        let ws = state
            .store
            .workspaces(super::auth::PROJECT_SHARED_SPACE)
            .await?
            .into_iter()
            .find(|w| w.id == report.workspace_id)
            .ok_or_else(|| TcError::NotFound(format!("report {report_id} not found")))?;
        (ws, report)
    } else {
        let project = body.project.as_deref().ok_or_else(|| {
            TcError::BadRequest("'project' is required unless 'reportId' is given".to_owned())
        })?;
        let ws = who.project(&state, project).await?;
        let selection = ReportSelection {
            batch: body.batch.clone().filter(|b| !b.is_empty()),
            report_id: None,
            labels: body.labels.map(|ls| {
                ls.into_iter()
                    .map(|l| Label {
                        key: l.key,
                        value: l.value,
                    })
                    .collect()
            }),
        };
        let report = state.store.tc_select_report(ws.id, &selection).await?;
        (ws, report)
    };
    let run_id = state
        .store
        .tc_create_run(workspace.id, report.id, None, Level::Suite, &test)
        .await?;
    Ok((
        StatusCode::CREATED,
        Json(
            json!({"project": workspace.name, "batch": report.batch, "reportId": report.id, "runId": run_id}),
        ),
    ))
}

/// The parent run of an upload, checked: exists, caller may upload there,
/// right level, and still open.
pub async fn open_run(
    state: &AppState,
    who: &Uploader,
    run_id: i64,
    child: Option<Level>,
) -> Result<TcRun, TcError> {
    let run = match state.store.tc_run(run_id).await? {
        Some(run) if who.can_upload(state, run.workspace_id).await? => run,
        _ => {
            return Err(who.unknown_or_forbidden(
                &format!("run {run_id}"),
                TcError::BadRequest(format!("run {run_id} not found")),
            ));
        }
    };
    if let Some(level) = child
        && !level.accepts_parent(run.level)
    {
        return Err(TcError::BadRequest(format!(
            "a {}'s parent must be {}; run {run_id} is a {}",
            level.noun(),
            level.expected_parents(),
            run.level.noun()
        )));
    }
    if let Some((closed, newest)) = state.store.tc_closed_by(&run).await? {
        let open = state.store.tc_run(newest).await?;
        let what = open.map_or_else(|| "element".to_owned(), |r| r.level.noun().to_owned());
        return Err(TcError::BadRequest(format!(
            "run {closed} is closed: only the newest element of a level accepts children and events; the open {what} on that level is run {newest}"
        )));
    }
    Ok(run)
}

async fn child(
    state: AppState,
    who: Uploader,
    body: Bytes,
    level: Level,
) -> Result<(StatusCode, Json<Value>), TcError> {
    let body: ChildBody = parse(&body)?;
    let parent = open_run(&state, &who, body.run_id, Some(level)).await?;
    let run_id = state
        .store
        .tc_create_run(
            parent.workspace_id,
            parent.report_id,
            Some(&parent),
            level,
            &body.test.into_test()?,
        )
        .await?;
    Ok((StatusCode::CREATED, Json(json!({"runId": run_id}))))
}

/// POST /upload/cases
pub async fn cases(
    State(state): State<AppState>,
    who: Uploader,
    body: Bytes,
) -> Result<(StatusCode, Json<Value>), TcError> {
    child(state, who, body, Level::Case).await
}

/// POST /upload/features
pub async fn features(
    State(state): State<AppState>,
    who: Uploader,
    body: Bytes,
) -> Result<(StatusCode, Json<Value>), TcError> {
    child(state, who, body, Level::Feature).await
}

/// POST /upload/scenarios
pub async fn scenarios(
    State(state): State<AppState>,
    who: Uploader,
    body: Bytes,
) -> Result<(StatusCode, Json<Value>), TcError> {
    child(state, who, body, Level::Scenario).await
}

/// POST /upload/steps
pub async fn steps(
    State(state): State<AppState>,
    who: Uploader,
    body: Bytes,
) -> Result<(StatusCode, Json<Value>), TcError> {
    child(state, who, body, Level::Step).await
}

/// POST /upload/sections
pub async fn sections(
    State(state): State<AppState>,
    who: Uploader,
    body: Bytes,
) -> Result<(StatusCode, Json<Value>), TcError> {
    child(state, who, body, Level::Section).await
}
