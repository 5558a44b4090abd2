//! `verdict push --format testcenter`: the same reports through Test Center's
//! result reporting API — a suite per report suite, a case per test case,
//! the verdict as an event. Authenticates with Basic (user or API key).

use std::io::BufReader;
use std::path::PathBuf;

use serde_json::{Value, json};
use verdict_ingest::reports::{CaseOutcome, ReportEvent, detect_format, read_report};

use super::options::{Credentials, PushArgs, Settings};

type BoxError = Box<dyn std::error::Error>;

/// Pushes every file as Test Center suites and cases.
pub async fn push(args: &PushArgs, files: &[PathBuf]) -> Result<(), BoxError> {
    let settings = Settings::resolve(args)?;
    let project = args
        .project
        .clone()
        .ok_or("--format testcenter needs --project")?;
    let (user, secret) = match &settings.credentials {
        Credentials::User { user, password } => (user.clone(), password.clone()),
        Credentials::ApiKey { client_id, secret } => (client_id.clone(), secret.clone()),
    };
    let http = reqwest::Client::new();
    let labels: Vec<Value> = args
        .context
        .tags
        .iter()
        .filter_map(|t| t.split_once(':'))
        .map(|(k, v)| json!({"key": k, "value": v}))
        .collect();
    for file in files {
        let mut head = vec![0_u8; 8192];
        let n = std::io::Read::read(&mut std::fs::File::open(file)?, &mut head)?;
        let format = detect_format(&head[..n]).ok_or_else(|| {
            format!(
                "{}: not a JUnit, xUnit.net v2, NUnit, TestNG or TRX report",
                file.display()
            )
        })?;
        let (tx, mut rx) = tokio::sync::mpsc::channel::<ReportEvent>(256);
        let path = file.clone();
        let parser = tokio::task::spawn_blocking(move || {
            let reader = BufReader::new(std::fs::File::open(&path).map_err(|e| e.to_string())?);
            read_report(reader, format, |e| {
                tx.blocking_send(e).map_err(|_| "stopped".to_owned())
            })
            .map_err(|e| e.to_string())
        });
        let post = |path: &str, body: Value| {
            http.post(format!("{}/upload/{path}", settings.server))
                .basic_auth(&user, Some(&secret))
                .json(&body)
                .send()
        };
        let (mut suite_run, mut cases, mut report_id): (Option<i64>, u64, Option<i64>) =
            (None, 0, None);
        while let Some(event) = rx.recv().await {
            match event {
                ReportEvent::SuiteStart { name, .. } => {
                    let mut body =
                        json!({"project": project, "labels": labels, "test": {"name": name}});
                    match (report_id, &args.batch) {
                        (Some(id), _) => body["reportId"] = json!(id),
                        (None, Some(batch)) => body["batch"] = json!(batch),
                        _ => {}
                    }
                    let r: Value = post("suites", body)
                        .await?
                        .error_for_status()?
                        .json()
                        .await?;
                    report_id = r["reportId"].as_i64();
                    suite_run = r["runId"].as_i64();
                }
                ReportEvent::SuiteEnd => {}
                ReportEvent::Case(case) => {
                    let Some(parent) = suite_run else { continue };
                    let name = match &case.classname {
                        Some(c) if !c.is_empty() && !case.name.starts_with(&format!("{c}.")) => {
                            format!("{c}.{}", case.name)
                        }
                        _ => case.name.clone(),
                    };
                    let r: Value = post("cases", json!({"runId": parent, "test": {"name": name}}))
                        .await?
                        .error_for_status()?
                        .json()
                        .await?;
                    let run = r["runId"].as_i64().ok_or("case without runId")?;
                    let event = match &case.outcome {
                        CaseOutcome::Passed => json!({"runId": run, "type": "PASS"}),
                        CaseOutcome::Failed(f) => {
                            json!({"runId": run, "type": "FAIL", "message": f.message, "detail": f.text})
                        }
                        CaseOutcome::Errored(f) => {
                            json!({"runId": run, "type": "ERROR", "message": f.message, "detail": f.text})
                        }
                        CaseOutcome::Skipped { message } => {
                            json!({"runId": run, "type": "SKIPPED", "message": message})
                        }
                    };
                    post("events", event).await?.error_for_status()?;
                    cases += 1;
                }
            }
        }
        parser
            .await?
            .map_err(|e| format!("{}: {e}", file.display()))?;
        println!(
            "{}: {cases} cases reported to Test Center project {project} (report {})",
            file.display(),
            report_id.unwrap_or_default()
        );
    }
    Ok(())
}
