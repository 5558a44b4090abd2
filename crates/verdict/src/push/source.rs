//! Report files to payloads: detection by content, streaming conversion with
//! a progress bar, and an offline check against the schema the server enforces.

use std::io::{BufRead, BufReader, Read, Write};
use std::path::{Path, PathBuf};

use indicatif::ProgressBar;
use verdict_domain::payload::Item;
use verdict_domain::status::RunStatus;
use verdict_ingest::convert::{ConvertStats, PayloadOptions, PayloadWriter};
use verdict_ingest::reports::json::{JsonFormat, read_cucumber};
use verdict_ingest::reports::{
    AnyFormat, ReportEvent, ReportFormat, SUPPORTED_FORMATS, read_any, read_any_file,
};

use super::live::FileLine;

type BoxError = Box<dyn std::error::Error>;

/// A converted report, gzipped on disk, ready to push.
pub struct Converted {
    pub gzip_path: PathBuf,
    pub stats: ConvertStats,
    /// The report's format as users know it (`JUnit`, …, `Octane payload`).
    pub format: &'static str,
    _dir: tempfile::TempDir,
}

/// What a file holds.
enum Kind {
    /// A test report; Cucumber JSON is written as gherkin runs for Octane.
    Report(AnyFormat),
    /// Already an Octane payload: pushed as it is.
    Payload,
}

fn detect(path: &Path) -> Result<Kind, BoxError> {
    let mut head = vec![0_u8; 8192];
    let mut file = open(path)?;
    let n = file
        .read(&mut head)
        .map_err(|e| format!("cannot read {}: {e}", path.display()))?;
    let head = &head[..n];
    if n == 0 {
        return Err(
            verdict_ingest::reports::empty_report_message(&path.display().to_string()).into(),
        );
    }
    if let Some(format) = AnyFormat::detect(head) {
        return Ok(Kind::Report(format));
    }
    let text = String::from_utf8_lossy(head);
    if text.contains("<test_result") {
        return Ok(Kind::Payload);
    }
    Err(format!(
        "{}: not a supported report ({SUPPORTED_FORMATS}, or an Octane payload)",
        path.display()
    )
    .into())
}

/// Opens a report, saying which file could not be read and why.
fn open(path: &Path) -> Result<std::fs::File, BoxError> {
    if path.is_dir() {
        return Err(format!("{} is a directory, not a report file", path.display()).into());
    }
    std::fs::File::open(path).map_err(|e| format!("cannot read {}: {e}", path.display()).into())
}

/// Converts one report to a payload written to `out`.
pub fn convert(
    path: &Path,
    options: &PayloadOptions,
    out: impl Write,
) -> Result<ConvertStats, BoxError> {
    convert_with(path, options, out, &ProgressBar::hidden())
}

fn convert_with(
    path: &Path,
    options: &PayloadOptions,
    out: impl Write,
    bar: &ProgressBar,
) -> Result<ConvertStats, BoxError> {
    let kind = detect(path)?;
    let file = bar.wrap_read(open(path)?);
    let reader = BufReader::with_capacity(1 << 16, file);
    let located = |e: &dyn std::fmt::Display| format!("{}: {e}", path.display());
    let format = match kind {
        Kind::Payload => return copy_payload(path, reader, out),
        Kind::Report(format) => format,
    };
    let mut writer = PayloadWriter::new(out, options)?;
    match format {
        AnyFormat::Json(JsonFormat::Cucumber) => {
            read_cucumber(reader, options.started_ms, |run| {
                writer.gherkin(&run).map_err(|e| e.to_string())
            })
            .map_err(|e| located(&e))?;
        }
        // TRX from a file: two passes, so results are not held (see `read_report_file`).
        AnyFormat::Xml(ReportFormat::Trx) => {
            read_any_file(path, format, cases_into(&mut writer)).map_err(|e| located(&e))?;
        }
        _ => {
            read_any(reader, format, cases_into(&mut writer)).map_err(|e| located(&e))?;
        }
    }
    let (_, stats) = writer.finish()?;
    Ok(stats)
}

/// Writes each case with the start of its innermost suite that has one
/// (a case's own timestamp wins, see `PayloadWriter::case`).
fn cases_into<W: Write>(
    writer: &mut PayloadWriter<W>,
) -> impl FnMut(ReportEvent) -> Result<(), String> + '_ {
    let mut suites: Vec<Option<i64>> = Vec::new();
    move |event| {
        match event {
            ReportEvent::SuiteStart { timestamp, .. } => {
                let started = timestamp
                    .as_deref()
                    .and_then(verdict_domain::time::parse_report_time);
                suites.push(started);
            }
            ReportEvent::SuiteEnd => {
                suites.pop();
            }
            ReportEvent::Case(case) => {
                let started = suites.iter().rev().find_map(|s| *s);
                writer
                    .case(None, started, &case)
                    .map_err(|e| e.to_string())?;
            }
        }
        Ok(())
    }
}

/// Copies an Octane payload as it is, counting its runs by status so the
/// summary line says what the server will store.
fn copy_payload(
    path: &Path,
    mut reader: impl BufRead,
    mut out: impl Write,
) -> Result<ConvertStats, BoxError> {
    std::io::copy(&mut reader, &mut out)?;
    out.flush()?;
    let file = BufReader::with_capacity(1 << 16, open(path)?);
    let mut payload = verdict_ingest::PayloadReader::new(file)
        .map_err(|e| format!("{}: not a valid payload: {e}", path.display()))?;
    let mut stats = ConvertStats::default();
    while let Some(item) = payload
        .next_item()
        .map_err(|e| format!("{}: not a valid payload: {e}", path.display()))?
    {
        let (status, flaky) = match &item {
            Item::Test(run) => (run.status, run.flaky),
            Item::Gherkin(run) => (run.status, run.flaky),
        };
        stats.runs += 1;
        match status {
            RunStatus::Passed => stats.passed += 1,
            RunStatus::Failed => stats.failed += 1,
            RunStatus::Skipped | RunStatus::Planned => stats.skipped += 1,
        }
        stats.flaky += u64::from(flaky && status == RunStatus::Passed);
    }
    Ok(stats)
}

/// Converts, validates and gzips a report into a temporary file.
pub fn convert_to_gzip(
    path: &Path,
    options: &PayloadOptions,
    line: &FileLine,
) -> Result<Converted, BoxError> {
    let dir = tempfile::tempdir()?;
    let plain = dir.path().join("payload.xml");
    let size = std::fs::metadata(path)
        .map_err(|e| format!("cannot read {}: {e}", path.display()))?
        .len();
    let bar = line.converting(size);
    let format = match detect(path)? {
        Kind::Report(f) => f.name(),
        Kind::Payload => "Octane payload",
    };
    let stats = convert_with(
        path,
        options,
        std::io::BufWriter::new(std::fs::File::create(&plain)?),
        bar,
    )?;
    line.phase("validating");
    let count = verdict_ingest::validate(BufReader::with_capacity(
        1 << 16,
        std::fs::File::open(&plain)?,
    ))
    .map_err(|e| {
        format!(
            "{}: the converted payload is not valid: {e}",
            path.display()
        )
    })?;
    debug_assert!(
        stats.runs == count,
        "converted {} runs, validated {count}",
        stats.runs
    );
    line.phase("compressing");
    let gzip_path = dir.path().join("payload.xml.gz");
    let mut gz = flate2::write::GzEncoder::new(
        std::io::BufWriter::new(std::fs::File::create(&gzip_path)?),
        flate2::Compression::fast(),
    );
    std::io::copy(&mut BufReader::new(std::fs::File::open(&plain)?), &mut gz)?;
    gz.finish()?.flush()?;
    std::fs::remove_file(&plain)?;
    Ok(Converted {
        gzip_path,
        stats,
        format,
        _dir: dir,
    })
}
