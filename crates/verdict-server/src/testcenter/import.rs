//! `POST /import` (testcenter-notes "Beyond the reporting API"): multipart
//! `project`, `batch`, `label[]` (`key=value`) and `result[]` files in any
//! format `verdict push` reads (JUnit, xUnit.net, NUnit, TestNG, TRX,
//! Cucumber JSON, CTRF, `go test -json`), detected by content and read with
//! the same readers. Each report suite becomes a suite run (nested suites
//! joined with ` / `), each test case a case run named as
//! `ReportCase::qualified_name` says, with its final verdict as an event,
//! its retries and flaky mark, and its start from the report. A file whose
//! bytes were already imported into the same report is skipped (listed in
//! `alreadyImported`), so re-running an import step adds nothing. Files are
//! spooled to disk and parsed as a stream, so their size does not matter.
//! The whole import is one transaction (`TcImportTx`): a file that is
//! truncated, no report, or over a limit rejects the import and nothing of
//! it is stored.

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
    AnyFormat, CaseOutcome, ReportCase, ReportEvent, SUPPORTED_FORMATS, read_any_file,
};
use verdict_store::{Label, NewTcEvent, ReportSelection, TcImportTx, TcReport, TcTest};

use super::auth::Uploader;
use super::error::TcError;
use crate::app::AppState;
use crate::limits;

/// Suites nested deeper than this are refused (each level's name joins its
/// ancestors', so depth multiplies what is stored).
const MAX_SUITE_DEPTH: usize = 32;

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
                if files.len() >= limits::IMPORT_FILES {
                    return Err(TcError::TooLarge(format!(
                        "at most {} result[] files per import",
                        limits::IMPORT_FILES
                    )));
                }
                let file_name = field.file_name().unwrap_or("result.xml").to_owned();
                let spool =
                    tempfile::NamedTempFile::new_in(&state.spool_dir).map_err(TcError::internal)?;
                let mut out = tokio::fs::File::from_std(spool.reopen().map_err(TcError::internal)?);
                let mut size = 0_u64;
                while let Some(chunk) = field.next().await {
                    let chunk = chunk
                        .map_err(|e| TcError::BadRequest(format!("reading {file_name}: {e}")))?;
                    size += chunk.len() as u64;
                    if size > limits::IMPORT_FILE_BYTES {
                        return Err(TcError::TooLarge(format!(
                            "{file_name} is over {} bytes",
                            limits::IMPORT_FILE_BYTES
                        )));
                    }
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
    check_short("project", &project)?;
    if let Some(b) = &batch {
        check_short("batch", b)?;
    }
    for l in &labels {
        check_short("label key", &l.key)?;
        check_short("label value", &l.value)?;
    }
    let existing = who.existing_project(&state, &project).await?;
    let mut tx = state.store.tc_begin_import().await?;
    let workspace = match existing {
        Some(ws) => ws,
        None => {
            tx.create_project(super::auth::PROJECT_SHARED_SPACE, &project)
                .await?
        }
    };
    let selection = ReportSelection {
        batch,
        report_id: None,
        labels: Some(labels),
    };
    let report = tx.select_report(workspace.id, &selection).await?;
    let mut totals = Totals::default();
    for file in files {
        import_file(&mut tx, &report, file, &mut totals).await?;
    }
    tx.commit().await?;
    Ok((
        StatusCode::CREATED,
        Json(json!({
            "project": workspace.name,
            "batch": report.batch,
            "reportId": report.id,
            "suites": totals.suites,
            "cases": totals.cases,
            "passed": totals.passed,
            "failed": totals.failed,
            "skipped": totals.skipped,
            "flaky": totals.flaky,
            "alreadyImported": totals.skipped_files,
        })),
    ))
}

fn check_short(field: &str, text: &str) -> Result<(), TcError> {
    limits::check_chars(field, text, limits::TC_SHORT_TEXT_CHARS).map_err(TcError::BadRequest)
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

/// What an import stored, for the reply (and `verdict push --protocol
/// testcenter`'s summary line, which prints the server's own counts).
#[derive(Default)]
struct Totals {
    suites: u64,
    cases: u64,
    passed: u64,
    failed: u64,
    skipped: u64,
    flaky: u64,
    /// Files already imported into this report, left out.
    skipped_files: Vec<String>,
}

async fn import_file(
    tx: &mut TcImportTx,
    report: &TcReport,
    file: ResultFile,
    totals: &mut Totals,
) -> Result<(), TcError> {
    let path = file.file.path().to_owned();
    let (format, digest) = sniff(&path).map_err(TcError::internal)?;
    if std::fs::metadata(&path).map_err(TcError::internal)?.len() == 0 {
        return Err(TcError::BadRequest(
            verdict_ingest::reports::empty_report_message(&file.name),
        ));
    }
    let format = format.ok_or_else(|| {
        TcError::BadRequest(format!("{}: not a {SUPPORTED_FORMATS} report", file.name))
    })?;
    if !tx.record_import(report.id, &digest).await? {
        totals.skipped_files.push(file.name);
        return Ok(());
    }
    let result = read_into(tx, report, &path, format, totals).await;
    if let Err(e) = &result {
        tracing::debug!(file = %file.name, error = %e, "import failed");
    }
    result.map_err(|e| match e {
        TcError::BadRequest(message) => TcError::BadRequest(format!("{}: {message}", file.name)),
        other => other,
    })
}

/// The format of a spooled file (from its first bytes) and its SHA-256.
fn sniff(path: &std::path::Path) -> std::io::Result<(Option<AnyFormat>, String)> {
    use sha2::{Digest, Sha256};
    let mut file = std::fs::File::open(path)?;
    let mut hasher = Sha256::new();
    let mut head = Vec::new();
    let mut buf = vec![0_u8; 1 << 16];
    loop {
        let n = file.read(&mut buf)?;
        if n == 0 {
            break;
        }
        if head.len() < 8192 {
            let take = n.min(8192 - head.len());
            head.extend_from_slice(&buf[..take]);
        }
        hasher.update(&buf[..n]);
    }
    let digest = hasher
        .finalize()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    Ok((AnyFormat::detect(&head), digest))
}

/// Reads one file with the shared readers (`verdict_ingest::reports`) and
/// stores its suites and cases.
async fn read_into(
    tx: &mut TcImportTx,
    report: &TcReport,
    path: &std::path::Path,
    format: AnyFormat,
    totals: &mut Totals,
) -> Result<(), TcError> {
    let (sender, mut rx) = mpsc::channel::<ReportEvent>(256);
    let path = path.to_owned();
    let parser = tokio::task::spawn_blocking(move || {
        read_any_file(&path, format, |event| {
            sender
                .blocking_send(event)
                .map_err(|_| "import stopped".to_owned())
        })
        .map_err(|e| e.to_string())
    });
    let mut suites: Vec<(String, verdict_store::TcRun, Option<i64>)> = Vec::new();
    while let Some(event) = rx.recv().await {
        match event {
            ReportEvent::SuiteStart {
                name, timestamp, ..
            } => {
                if suites.len() >= MAX_SUITE_DEPTH {
                    return Err(TcError::BadRequest(format!(
                        "suites are nested more than {MAX_SUITE_DEPTH} deep"
                    )));
                }
                let started = timestamp
                    .as_deref()
                    .and_then(verdict_domain::time::parse_report_time)
                    .or_else(|| suites.last().and_then(|s| s.2));
                let full = suites
                    .iter()
                    .map(|(n, _, _)| n.as_str())
                    .chain([name.as_str()])
                    .collect::<Vec<_>>()
                    .join(" / ");
                limits::check_chars("suite name", &full, limits::TC_NAME_CHARS)
                    .map_err(TcError::BadRequest)?;
                let test = TcTest {
                    name: full,
                    started,
                    ..TcTest::default()
                };
                let run = tx.create_run(report, None, Level::Suite, &test).await?;
                suites.push((name, run, started));
                totals.suites += 1;
            }
            ReportEvent::SuiteEnd => {
                suites.pop();
            }
            ReportEvent::Case(case) => {
                let Some((_, suite, suite_started)) = suites.last() else {
                    continue;
                };
                let started = case.started_ms.or(*suite_started);
                let suite = suite.clone();
                add_case(tx, report, &suite, case, started, totals).await?;
            }
        }
    }
    match parser.await.map_err(TcError::internal)? {
        Ok(()) => Ok(()),
        Err(message) => Err(TcError::BadRequest(message)),
    }
}

async fn add_case(
    tx: &mut TcImportTx,
    report: &TcReport,
    suite: &verdict_store::TcRun,
    case: ReportCase,
    started: Option<i64>,
    totals: &mut Totals,
) -> Result<(), TcError> {
    let flaky = case.is_flaky();
    let name = case.qualified_name();
    limits::check_chars("test case name", &name, limits::TC_NAME_CHARS)
        .map_err(TcError::BadRequest)?;
    let test = TcTest {
        name,
        started,
        duration: case.duration_ms,
        retries: i64::from(case.retries),
        flaky,
        ..TcTest::default()
    };
    let run = tx
        .create_run(report, Some(suite), Level::Case, &test)
        .await?
        .id;
    totals.cases += 1;
    totals.flaky += u64::from(flaky);
    match &case.outcome {
        CaseOutcome::Passed => totals.passed += 1,
        CaseOutcome::Failed(_) | CaseOutcome::Errored(_) => totals.failed += 1,
        CaseOutcome::Skipped { .. } => totals.skipped += 1,
    }
    let event = |kind: EventType, message: Option<String>, detail: Option<String>| NewTcEvent {
        run_id: run,
        event_type: kind.as_str(),
        rank: kind.rank(),
        message,
        detail,
        ..NewTcEvent::default()
    };
    let mut events = Vec::new();
    // Earlier tries are kept as warnings: they explain a flaky pass but do
    // not change the case's result (testcenter-notes: WARNING ranks nothing).
    for rerun in &case.reruns {
        let text = if rerun.failed {
            "an earlier try failed"
        } else {
            "an earlier try errored"
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
    for e in &events {
        check_event_text(e)?;
    }
    tx.add_events(report.workspace_id, &events).await?;
    Ok(())
}

/// Imported texts meet the same limits as reported ones.
fn check_event_text(e: &NewTcEvent) -> Result<(), TcError> {
    if let Some(m) = &e.message {
        limits::check_bytes("message", m, limits::TC_MESSAGE_BYTES).map_err(TcError::BadRequest)?;
    }
    if let Some(d) = &e.detail {
        limits::check_bytes("failure text", d, limits::TC_DETAIL_BYTES)
            .map_err(TcError::BadRequest)?;
    }
    Ok(())
}
