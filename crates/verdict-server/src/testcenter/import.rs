//! `POST /import` (testcenter-notes "Beyond the reporting API"): multipart
//! `project`, `batch`, `label[]` (`key=value`) and `result[]` files in JUnit
//! or xUnit.net v2 XML, detected by content. Each report suite becomes a
//! suite run (nested suites joined with ` / `), each test case a case run
//! with its verdict as an event. Files are spooled to disk and parsed as a
//! stream, so their size does not matter.

use std::io::Read;

use axum::Json;
use axum::extract::{FromRequest, Multipart, Request, State};
use axum::http::StatusCode;
use futures_util::StreamExt;
use serde_json::{Value, json};
use tokio::io::AsyncWriteExt;
use tokio::sync::mpsc;
use verdict_domain::testcenter::{EventType, Level};
use verdict_ingest::reports::{
    CaseOutcome, ReportCase, ReportEvent, detect_format, read_report_file,
};
use verdict_store::{Label, NewTcEvent, ReportSelection, TcReport, TcTest};

use super::auth::Uploader;
use super::error::TcError;
use crate::app::AppState;

/// A spooled result file.
struct ResultFile {
    name: String,
    file: tempfile::NamedTempFile,
}

/// POST /import
pub async fn import(
    State(state): State<AppState>,
    who: Uploader,
    request: Request,
) -> Result<(StatusCode, Json<Value>), TcError> {
    let mut form = Multipart::from_request(request, &state)
        .await
        .map_err(|e| TcError::BadRequest(e.to_string()))?;
    let (mut project, mut batch, mut labels, mut files) = (None, None, Vec::new(), Vec::new());
    while let Some(mut field) = form
        .next_field()
        .await
        .map_err(|e| TcError::BadRequest(format!("malformed multipart body: {e}")))?
    {
        let name = field.name().unwrap_or_default().to_owned();
        match name.as_str() {
            "project" | "batch" | "label[]" | "label" => {
                let text = field
                    .text()
                    .await
                    .map_err(|e| TcError::BadRequest(format!("reading {name}: {e}")))?;
                match name.as_str() {
                    "project" => project = Some(text),
                    "batch" => batch = Some(text).filter(|b| !b.is_empty()),
                    _ => labels.push(label(&text)?),
                }
            }
            "result[]" | "result" => {
                let file_name = field.file_name().unwrap_or("result.xml").to_owned();
                let spool =
                    tempfile::NamedTempFile::new_in(&state.spool_dir).map_err(TcError::internal)?;
                let mut out = tokio::fs::File::from_std(spool.reopen().map_err(TcError::internal)?);
                while let Some(chunk) = field.next().await {
                    let chunk = chunk
                        .map_err(|e| TcError::BadRequest(format!("reading {file_name}: {e}")))?;
                    out.write_all(&chunk).await.map_err(TcError::internal)?;
                }
                out.flush().await.map_err(TcError::internal)?;
                files.push(ResultFile {
                    name: file_name,
                    file: spool,
                });
            }
            other => {
                return Err(TcError::BadRequest(format!(
                    "unexpected field '{other}'; use project, batch, label[] and result[]"
                )));
            }
        }
    }
    let project = project.ok_or_else(|| TcError::BadRequest("'project' is required".to_owned()))?;
    if files.is_empty() {
        return Err(TcError::BadRequest("no result[] files".to_owned()));
    }
    let workspace = who.project(&state, &project).await?;
    let selection = ReportSelection {
        batch,
        report_id: None,
        labels: Some(labels),
    };
    let report = state
        .store
        .tc_select_report(workspace.id, &selection)
        .await?;
    let mut totals = Totals::default();
    for file in files {
        import_file(&state, &report, file, &mut totals).await?;
    }
    Ok((
        StatusCode::CREATED,
        Json(
            json!({"project": workspace.name, "batch": report.batch, "reportId": report.id, "suites": totals.suites, "cases": totals.cases}),
        ),
    ))
}

fn label(text: &str) -> Result<Label, TcError> {
    if let Ok(v) = serde_json::from_str::<Value>(text)
        && let (Some(k), Some(val)) = (
            v.get("key").and_then(Value::as_str),
            v.get("value").and_then(Value::as_str),
        )
    {
        return Ok(Label {
            key: k.to_owned(),
            value: val.to_owned(),
        });
    }
    let (key, value) = text
        .split_once('=')
        .ok_or_else(|| TcError::BadRequest(format!("label '{text}' must be key=value")))?;
    Ok(Label {
        key: key.to_owned(),
        value: value.to_owned(),
    })
}

#[derive(Default)]
struct Totals {
    suites: u64,
    cases: u64,
}

async fn import_file(
    state: &AppState,
    report: &TcReport,
    file: ResultFile,
    totals: &mut Totals,
) -> Result<(), TcError> {
    let path = file.file.path().to_owned();
    let mut head = vec![0_u8; 4096];
    let n = std::fs::File::open(&path)
        .and_then(|mut f| f.read(&mut head))
        .map_err(TcError::internal)?;
    let format = detect_format(&head[..n]).ok_or_else(|| {
        TcError::BadRequest(format!(
            "{}: not a JUnit, xUnit.net v2, NUnit, TestNG or TRX report",
            file.name
        ))
    })?;
    let (tx, mut rx) = mpsc::channel::<ReportEvent>(256);
    let parser = tokio::task::spawn_blocking(move || {
        read_report_file(&path, format, |event| {
            tx.blocking_send(event)
                .map_err(|_| "import stopped".to_owned())
        })
        .map_err(|e| e.to_string())
    });
    let mut suites: Vec<(String, i64)> = Vec::new();
    let mut current: Option<verdict_store::TcRun> = None;
    while let Some(event) = rx.recv().await {
        match event {
            ReportEvent::SuiteStart { name, .. } => {
                let path: Vec<&str> = suites
                    .iter()
                    .map(|(n, _)| n.as_str())
                    .chain([name.as_str()])
                    .collect();
                let full = path.join(" / ");
                let run = state
                    .store
                    .tc_create_run(
                        report.workspace_id,
                        report.id,
                        None,
                        Level::Suite,
                        &TcTest {
                            name: full,
                            ..TcTest::default()
                        },
                    )
                    .await?;
                suites.push((name, run));
                current = state.store.tc_run(run).await?;
                totals.suites += 1;
            }
            ReportEvent::SuiteEnd => {
                suites.pop();
                current = match suites.last() {
                    Some((_, run)) => state.store.tc_run(*run).await?,
                    None => None,
                };
            }
            ReportEvent::Case(case) => {
                let Some(suite) = &current else { continue };
                add_case(state, report, suite, case).await?;
                totals.cases += 1;
            }
        }
    }
    match parser.await.map_err(TcError::internal)? {
        Ok(()) => Ok(()),
        Err(message) => Err(TcError::BadRequest(format!("{}: {message}", file.name))),
    }
}

async fn add_case(
    state: &AppState,
    report: &TcReport,
    suite: &verdict_store::TcRun,
    case: ReportCase,
) -> Result<(), TcError> {
    let name = match &case.classname {
        // xUnit.net names already start with their type.
        Some(class) if !class.is_empty() && !case.name.starts_with(&format!("{class}.")) => {
            format!("{class}.{}", case.name)
        }
        _ => case.name.clone(),
    };
    let run = state
        .store
        .tc_create_run(
            report.workspace_id,
            report.id,
            Some(suite),
            Level::Case,
            &TcTest {
                name,
                ..TcTest::default()
            },
        )
        .await?;
    let event = |kind: EventType, message: Option<String>, detail: Option<String>| NewTcEvent {
        run_id: run,
        event_type: kind.as_str(),
        rank: kind.rank(),
        message,
        detail,
        ..NewTcEvent::default()
    };
    let mut events = Vec::new();
    for rerun in &case.reruns {
        let text = if rerun.failed {
            "rerun failed"
        } else {
            "rerun errored"
        };
        events.push(event(
            EventType::Warning,
            Some(
                rerun
                    .failure
                    .message
                    .clone()
                    .unwrap_or_else(|| text.to_owned()),
            ),
            Some(rerun.failure.text.clone()),
        ));
    }
    events.push(match case.outcome {
        CaseOutcome::Passed => event(EventType::Pass, None, None),
        CaseOutcome::Failed(f) => event(EventType::Fail, f.message, Some(f.text)),
        CaseOutcome::Errored(f) => event(EventType::Error, f.message, Some(f.text)),
        CaseOutcome::Skipped { message } => event(EventType::Skipped, message, None),
    });
    if let Some(out) = case.system_out.filter(|o| !o.is_empty()) {
        events.push(event(
            EventType::Log,
            Some("system-out".to_owned()),
            Some(out),
        ));
    }
    state
        .store
        .tc_add_events(report.workspace_id, &events)
        .await?;
    Ok(())
}
