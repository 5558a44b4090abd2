//! `verdict push`, `verdict convert` and `verdict validate`: the client side.
//! Reports are detected by content, converted to Octane payloads as a stream,
//! checked against the schema the server enforces, gzipped, pushed, and
//! followed to their end (`--check-result`), against Verdict or Octane alike.

mod client;
mod files;
mod interrupt;
mod live;
mod options;
mod source;
mod summary;
mod testcenter;

pub use options::{ConvertArgs, PushArgs, ValidateArgs};

use std::io::Write;
use std::path::PathBuf;
use std::time::Duration;

use client::{OctaneClient, TaskEnd};

type BoxError = Box<dyn std::error::Error>;

/// `verdict push`: every file becomes one payload and one task.
pub async fn push(args: PushArgs) -> Result<(), BoxError> {
    let named = files::expand(&args.files)?;
    // `-`: standard input, spooled first (it is read before any sign-in)
    let spooled = if named.iter().any(|f| f.as_os_str() == files::STDIN) {
        Some(tokio::task::block_in_place(files::spool_stdin)?)
    } else {
        None
    };
    let files: Vec<PathBuf> = named
        .iter()
        .map(|f| match &spooled {
            Some(s) if f.as_os_str() == files::STDIN => s.path.clone(),
            _ => f.clone(),
        })
        .collect();
    // what each file is called in the output
    let shown: Vec<String> = named
        .iter()
        .map(|f| {
            if f.as_os_str() == files::STDIN {
                "-".to_owned()
            } else {
                f.display().to_string()
            }
        })
        .collect();
    let json = args.output == options::OutputFormat::Json;
    if args.protocol == options::PushProtocol::Testcenter {
        if args.summary || args.summary_markdown.is_some() || args.fail_on != summary::FailOn::Never
        {
            return Err("--summary, --summary-markdown and --fail-on work with --protocol octane; a Test Center \
                        import's report is compared in GET /verdict/api/…/result_sets?kind=report"
                .into());
        }
        if json {
            return Err(
                "--output json works with --protocol octane; a Test Center import prints its \
                        report's URL"
                    .into(),
            );
        }
        return testcenter::push(&args, &files).await;
    }
    let progress = std::sync::Arc::new(interrupt::Progress::new(&shown));
    // Ctrl-C is watched by its own task: the conversion runs in
    // `block_in_place`, which suspends everything else in the push's task
    let watched = progress.clone();
    tokio::spawn(async move {
        if tokio::signal::ctrl_c().await.is_ok() {
            watched.clear_lines();
            eprintln!("{}", watched.interrupted());
            std::process::exit(130);
        }
    });
    push_octane(&args, &files, &shown, json, &progress).await
}

/// The Octane protocol's push of `files` (shown as `shown`), recording in
/// `progress` where it is for Ctrl-C.
async fn push_octane(
    args: &PushArgs,
    files: &[PathBuf],
    shown: &[String],
    json: bool,
    progress: &interrupt::Progress,
) -> Result<(), BoxError> {
    let settings = options::Settings::resolve(args)?;
    progress.tasks_url(format!(
        "{}/api/shared_spaces/{}/workspaces/{}/test-results",
        settings.server, settings.shared_space, settings.workspace
    ));
    let mut payload_options = args.payload_options()?;
    let mut client = OctaneClient::new(&settings)?;
    client.sign_in().await?;
    payload_options.extensions = client.accepts_verdict_extensions().await;
    let gate = args.fail_on;
    let summarise = args.summary || args.summary_markdown.is_some();
    let live = live::Live::new(files.len(), live::Live::wanted(args.quiet));
    progress.lines(live.handle());
    let pushed = push_files(
        args,
        files,
        shown,
        json,
        progress,
        &live,
        &mut client,
        &mut payload_options,
    )
    .await;
    live.clear();
    let (failures, finished_tasks) = pushed?;
    let mut gate_failures = 0;
    if summarise || gate != summary::FailOn::Never {
        let sets = summary::fetch(&mut client, &finished_tasks).await?;
        if summarise {
            // standard output stays one JSON object per line for scripts
            if json {
                eprint!("{}", summary::text(&sets));
            } else {
                print!("{}", summary::text(&sets));
            }
        }
        if let Some(path) = &args.summary_markdown {
            summary::write_markdown(path, &sets)?;
        }
        gate_failures = sets.iter().filter(|s| s.fails(gate)).count();
    }
    client.sign_out().await;
    if failures > 0 {
        return Err(format!("{failures} of {} pushes did not succeed", files.len()).into());
    }
    if gate_failures > 0 {
        let what = if gate == summary::FailOn::New {
            "a new failure"
        } else {
            "a failure that is not muted"
        };
        return Err(format!(
            "--fail-on {}: {gate_failures} result set(s) have {what}",
            gate.name()
        )
        .into());
    }
    Ok(())
}

/// Converts, pushes and (when `follow`ing) waits for each file in turn,
/// each on its live line; returns how many did not succeed and the tasks
/// that did.
#[allow(clippy::too_many_arguments)]
async fn push_files(
    args: &PushArgs,
    files: &[PathBuf],
    shown: &[String],
    json: bool,
    progress: &interrupt::Progress,
    live: &live::Live,
    client: &mut OctaneClient,
    payload_options: &mut verdict_ingest::convert::PayloadOptions,
) -> Result<(usize, Vec<i64>), BoxError> {
    let gate = args.fail_on;
    let follow = args.check_result
        || args.summary
        || args.summary_markdown.is_some()
        || gate != summary::FailOn::Never;
    let mut failures = 0;
    let mut finished_tasks = Vec::new();
    for (index, (file, name)) in files.iter().zip(shown).enumerate() {
        progress.pushing(index);
        if args.no_dedupe {
            payload_options.nonce = Some(verdict_server::generate_secret(8)?);
        }
        payload_options.started_ms = default_started(args.context.started, file);
        let line = live.file(name);
        let converted =
            tokio::task::block_in_place(|| source::convert_to_gzip(file, payload_options, &line))?;
        let size = std::fs::metadata(&converted.gzip_path)?.len();
        let (task_id, duplicate, answered) = client
            .push(&converted.gzip_path, args.skip_errors, line.uploading(size))
            .await?;
        progress.accepted(index, task_id);
        let mut report = FileReport {
            file: name.clone(),
            format: converted.format,
            stats: converted.stats,
            task_id,
            duplicate,
            // an identical earlier push answers with that task's status
            status: if duplicate {
                answered
            } else {
                "accepted".to_owned()
            },
            details: None,
            timed_out: false,
        };
        if follow {
            progress.following(Some(task_id));
            let end = client
                .wait(
                    task_id,
                    Duration::from_secs(args.check_result_timeout),
                    &line,
                )
                .await?;
            progress.following(None);
            match end {
                TaskEnd::Finished { status, details } => {
                    if status != "success" && status != "warning" {
                        failures += 1;
                    } else {
                        finished_tasks.push(task_id);
                    }
                    report.status = status;
                    report.details = details;
                }
                TaskEnd::TimedOut(status) => {
                    report.status = status;
                    report.timed_out = true;
                    failures += 1;
                }
            }
        }
        let said = if json {
            report.json().to_string()
        } else {
            report.line(follow, args.check_result_timeout)
        };
        live.done(&line, &said);
    }
    Ok((failures, finished_tasks))
}

/// What became of one file: its line for people, its object for scripts.
struct FileReport {
    file: String,
    format: &'static str,
    stats: verdict_ingest::convert::ConvertStats,
    task_id: i64,
    duplicate: bool,
    /// The task's final status; `accepted` when not followed; the status
    /// it still had when following timed out.
    status: String,
    /// The task's `errorDetails`.
    details: Option<String>,
    timed_out: bool,
}

impl FileReport {
    fn line(&self, followed: bool, timeout_secs: u64) -> String {
        let mut line = format!(
            "{}: {} → task {}{}",
            self.file,
            counts(&self.stats),
            self.task_id,
            if self.duplicate {
                " (identical push, answered from the earlier task)"
            } else {
                ""
            }
        );
        if self.timed_out {
            line.push_str(&format!(": still {} after {timeout_secs} s", self.status));
        } else if followed {
            line.push_str(&format!(": {}", self.status));
            if let Some(d) = &self.details {
                line.push_str(&format!(" ({d})"));
            }
        }
        line
    }

    fn json(&self) -> serde_json::Value {
        serde_json::json!({
            "file": self.file,
            "format": self.format,
            "runs": self.stats.runs,
            "passed": self.stats.passed,
            "failed": self.stats.failed,
            "skipped": self.stats.skipped,
            "flaky": self.stats.flaky,
            "task_id": self.task_id,
            "duplicate": self.duplicate,
            "status": self.status,
            "timed_out": self.timed_out,
            "errors": self.details,
        })
    }
}

/// `started` for runs whose report gives no time: `--started`, else when the
/// report file was last written (the run's end, and the same every time the
/// file is pushed again, so a re-push stores nothing twice), else now.
fn default_started(flag: Option<i64>, file: &std::path::Path) -> i64 {
    flag.or_else(|| {
        let modified = std::fs::metadata(file).and_then(|m| m.modified()).ok()?;
        let ms = modified
            .duration_since(std::time::UNIX_EPOCH)
            .ok()?
            .as_millis();
        i64::try_from(ms).ok()
    })
    .unwrap_or_else(verdict_store::now_ms)
}

/// `verdict convert`: writes the payload instead of pushing it.
pub fn convert(args: ConvertArgs) -> Result<(), BoxError> {
    let mut options = args.payload_options()?;
    options.started_ms = default_started(args.context.started, &args.file);
    let stats = match &args.output {
        Some(path) => {
            let created = std::fs::File::create(path)
                .map_err(|e| format!("cannot write {}: {e}", path.display()))?;
            let out = std::io::BufWriter::new(created);
            source::convert(&args.file, &options, out)?
        }
        None => source::convert(
            &args.file,
            &options,
            std::io::BufWriter::new(std::io::stdout().lock()),
        )?,
    };
    eprintln!("{}: {}", args.file.display(), counts(&stats));
    Ok(())
}

/// `verdict validate`: checks a payload against the schema the server enforces.
pub fn validate(args: ValidateArgs) -> Result<(), BoxError> {
    let mut failed = 0;
    for file in &args.files {
        let opened = std::fs::File::open(file)
            .map_err(|e| format!("cannot read {}: {e}", file.display()))?;
        let reader = std::io::BufReader::with_capacity(1 << 16, opened);
        let reader: Box<dyn std::io::BufRead> = if is_gzip(file)? {
            Box::new(std::io::BufReader::new(flate2::read::MultiGzDecoder::new(
                reader,
            )))
        } else {
            Box::new(reader)
        };
        match verdict_ingest::validate(reader) {
            Ok(n) => println!("{}: valid ({n} runs)", file.display()),
            Err(e) => {
                println!("{}: invalid: {e}", file.display());
                failed += 1;
            }
        }
    }
    std::io::stdout().flush()?;
    if failed > 0 {
        return Err(format!("{failed} invalid payload(s)").into());
    }
    Ok(())
}

/// `N runs (P passed, F failed, S skipped, K flaky)`, as every summary line says it.
fn counts(stats: &verdict_ingest::convert::ConvertStats) -> String {
    format!(
        "{} runs ({} passed, {} failed, {} skipped, {} flaky)",
        stats.runs, stats.passed, stats.failed, stats.skipped, stats.flaky
    )
}

fn is_gzip(path: &std::path::Path) -> std::io::Result<bool> {
    use std::io::Read;
    let mut head = [0_u8; 2];
    let n = std::fs::File::open(path)?.read(&mut head)?;
    Ok(n == 2 && head == [0x1f, 0x8b])
}
