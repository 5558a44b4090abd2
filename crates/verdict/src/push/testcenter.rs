//! `verdict push --protocol testcenter`: each report file uploaded whole to
//! Test Center's `POST /import` (multipart `project`, `batch`, `label[]`,
//! `result[]`), streamed from disk. The server reads it with the same
//! readers as `verdict convert`, so both paths build one tree, and the
//! summary line prints the counts the server stored. Authenticates with
//! Basic (user or API key).

use std::path::PathBuf;

use serde_json::Value;
use verdict_ingest::reports::{AnyFormat, SUPPORTED_FORMATS};

use super::client::unreachable_server;
use super::options::{Credentials, PushArgs, Settings};

type BoxError = Box<dyn std::error::Error>;

/// Imports every file into `--project` (and `--batch`, `--tag` labels).
pub async fn push(args: &PushArgs, files: &[PathBuf]) -> Result<(), BoxError> {
    let settings = Settings::resolve(args)?;
    let project = args
        .project
        .clone()
        .ok_or("--protocol testcenter needs --project")?;
    let (user, secret) = match &settings.credentials {
        Credentials::User { user, password } => (user.clone(), password.clone()),
        Credentials::ApiKey { client_id, secret } => (client_id.clone(), secret.clone()),
    };
    let http = reqwest::Client::builder()
        .connect_timeout(std::time::Duration::from_secs(30))
        .user_agent(concat!("verdict-push/", env!("CARGO_PKG_VERSION")))
        .build()?;
    let mut labels = Vec::new();
    for tag in &args.context.tags {
        let (key, value) = tag
            .split_once(':')
            .filter(|(k, v)| !k.is_empty() && !v.is_empty())
            .ok_or_else(|| format!("--tag '{tag}' must be KEY:VALUE"))?;
        labels.push(format!("{key}={value}"));
    }
    for file in files {
        check_format(file)?;
        let mut form = reqwest::multipart::Form::new().text("project", project.clone());
        if let Some(batch) = &args.batch {
            form = form.text("batch", batch.clone());
        }
        for label in &labels {
            form = form.text("label[]", label.clone());
        }
        let len = std::fs::metadata(file)
            .map_err(|e| format!("{}: {e}", file.display()))?
            .len();
        let body = tokio::fs::File::open(file)
            .await
            .map_err(|e| format!("{}: {e}", file.display()))?;
        let name = file
            .file_name()
            .map_or_else(|| "result".to_owned(), |n| n.to_string_lossy().into_owned());
        let part = reqwest::multipart::Part::stream_with_length(body, len)
            .file_name(name)
            .mime_str("application/octet-stream")?;
        form = form.part("result[]", part);
        let r = http
            .post(format!("{}/import", settings.server))
            .basic_auth(&user, Some(&secret))
            .multipart(form)
            .send()
            .await
            .map_err(|e| unreachable_server(&settings.server, &e))?;
        let status = r.status();
        let text = r.text().await.unwrap_or_default();
        let reply: Value = serde_json::from_str(&text).unwrap_or(Value::Null);
        if !status.is_success() {
            let why = reply["message"].as_str().unwrap_or(&text);
            return Err(format!("{}: import rejected: {status} {why}", file.display()).into());
        }
        println!("{}", summary_line(file, &project, &reply));
    }
    Ok(())
}

/// Refuses a file no reader takes before uploading it.
fn check_format(file: &std::path::Path) -> Result<(), BoxError> {
    let mut head = vec![0_u8; 8192];
    let n = std::io::Read::read(
        &mut std::fs::File::open(file).map_err(|e| format!("{}: {e}", file.display()))?,
        &mut head,
    )?;
    if n == 0 {
        return Err(
            verdict_ingest::reports::empty_report_message(&file.display().to_string()).into(),
        );
    }
    AnyFormat::detect(&head[..n])
        .map(|_| ())
        .ok_or_else(|| format!("{}: not a {SUPPORTED_FORMATS} report", file.display()).into())
}

fn summary_line(file: &std::path::Path, project: &str, reply: &Value) -> String {
    let n = |key: &str| reply[key].as_u64().unwrap_or(0);
    let again = reply["alreadyImported"]
        .as_array()
        .is_some_and(|a| !a.is_empty());
    format!(
        "{}: {} runs ({} passed, {} failed, {} skipped, {} flaky) → Test Center project {project}, batch {}, report {}{}",
        file.display(),
        n("cases"),
        n("passed"),
        n("failed"),
        n("skipped"),
        n("flaky"),
        reply["batch"].as_str().unwrap_or("?"),
        n("reportId"),
        if again {
            " (already imported into this report: nothing added)"
        } else {
            ""
        }
    )
}
