//! Report files to payloads: detection by content, streaming conversion with
//! a progress bar, and an offline check against the schema the server enforces.

use std::io::{BufRead, BufReader, Read, Write};
use std::path::{Path, PathBuf};

use indicatif::{ProgressBar, ProgressStyle};
use verdict_ingest::convert::{ConvertStats, PayloadOptions, PayloadWriter};
use verdict_ingest::reports::json::{
    JsonFormat, detect_json_format, read_cucumber, read_json_report,
};
use verdict_ingest::reports::{
    ReportEvent, ReportFormat, detect_format, read_report, read_report_file,
};

type BoxError = Box<dyn std::error::Error>;

/// A converted report, gzipped on disk, ready to push.
pub struct Converted {
    pub gzip_path: PathBuf,
    pub stats: ConvertStats,
    _dir: tempfile::TempDir,
}

/// What a file holds.
enum Kind {
    Report(verdict_ingest::reports::ReportFormat),
    Json(JsonFormat),
    /// Already an Octane payload: pushed as it is.
    Payload,
}

fn detect(path: &Path) -> Result<Kind, BoxError> {
    let mut head = vec![0_u8; 8192];
    let n = std::fs::File::open(path)?.read(&mut head)?;
    let head = &head[..n];
    if let Some(format) = detect_format(head) {
        return Ok(Kind::Report(format));
    }
    if let Some(format) = detect_json_format(head) {
        return Ok(Kind::Json(format));
    }
    let text = String::from_utf8_lossy(head);
    if text.contains("<test_result") {
        return Ok(Kind::Payload);
    }
    Err(format!(
        "{}: not a supported report (JUnit, xUnit.net v2, NUnit 2/3, TestNG, TRX, Cucumber JSON, CTRF, go test -json, or an Octane payload)",
        path.display()
    )
    .into())
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
    let file = bar.wrap_read(std::fs::File::open(path)?);
    let reader = BufReader::with_capacity(1 << 16, file);
    match detect(path)? {
        Kind::Payload => copy_payload(reader, out),
        // TRX from a file: two passes, so results are not held (see `read_report_file`).
        Kind::Report(ReportFormat::Trx) => report_file(path, ReportFormat::Trx, options, out),
        Kind::Report(format) => report(path, reader, format, options, out),
        Kind::Json(JsonFormat::Cucumber) => cucumber(path, reader, options, out),
        Kind::Json(format) => json_report(path, reader, format, options, out),
    }
}

fn copy_payload(mut reader: impl BufRead, mut out: impl Write) -> Result<ConvertStats, BoxError> {
    std::io::copy(&mut reader, &mut out)?;
    out.flush()?;
    Ok(ConvertStats::default())
}

fn report(
    path: &Path,
    reader: impl BufRead,
    format: verdict_ingest::reports::ReportFormat,
    options: &PayloadOptions,
    out: impl Write,
) -> Result<ConvertStats, BoxError> {
    let mut writer = PayloadWriter::new(out, options)?;
    let mut suites: Vec<(String, Option<i64>)> = Vec::new();
    read_report(reader, format, |event| {
        match event {
            ReportEvent::SuiteStart {
                name, timestamp, ..
            } => {
                let started = timestamp
                    .as_deref()
                    .and_then(verdict_domain::time::parse_iso);
                suites.push((name, started));
            }
            ReportEvent::SuiteEnd => {
                suites.pop();
            }
            ReportEvent::Case(case) => {
                let started = suites.iter().rev().find_map(|(_, s)| *s);
                writer
                    .case(None, started, &case)
                    .map_err(|e| e.to_string())?;
            }
        }
        Ok(())
    })
    .map_err(|e| format!("{}: {e}", path.display()))?;
    let (_, stats) = writer.finish()?;
    Ok(stats)
}

fn cucumber(
    path: &Path,
    reader: impl BufRead,
    options: &PayloadOptions,
    out: impl Write,
) -> Result<ConvertStats, BoxError> {
    let mut writer = PayloadWriter::new(out, options)?;
    read_cucumber(reader, options.started_ms, |run| {
        writer.gherkin(&run).map_err(|e| e.to_string())
    })
    .map_err(|e| format!("{}: {e}", path.display()))?;
    let (_, stats) = writer.finish()?;
    Ok(stats)
}

fn json_report(
    path: &Path,
    reader: impl BufRead,
    format: JsonFormat,
    options: &PayloadOptions,
    out: impl Write,
) -> Result<ConvertStats, BoxError> {
    let mut writer = PayloadWriter::new(out, options)?;
    read_json_report(reader, format, |event| {
        if let ReportEvent::Case(case) = event {
            writer.case(None, None, &case).map_err(|e| e.to_string())?;
        }
        Ok(())
    })
    .map_err(|e| format!("{}: {e}", path.display()))?;
    let (_, stats) = writer.finish()?;
    Ok(stats)
}

fn report_file(
    path: &Path,
    format: ReportFormat,
    options: &PayloadOptions,
    out: impl Write,
) -> Result<ConvertStats, BoxError> {
    let mut writer = PayloadWriter::new(out, options)?;
    read_report_file(path, format, |event| {
        if let ReportEvent::Case(case) = event {
            writer.case(None, None, &case).map_err(|e| e.to_string())?;
        }
        Ok(())
    })
    .map_err(|e| format!("{}: {e}", path.display()))?;
    let (_, stats) = writer.finish()?;
    Ok(stats)
}

/// Converts, validates and gzips a report into a temporary file.
pub fn convert_to_gzip(
    path: &Path,
    options: &PayloadOptions,
    quiet: bool,
) -> Result<Converted, BoxError> {
    let dir = tempfile::tempdir()?;
    let plain = dir.path().join("payload.xml");
    let size = std::fs::metadata(path)?.len();
    let bar = if quiet || !std::io::IsTerminal::is_terminal(&std::io::stderr()) {
        ProgressBar::hidden()
    } else {
        let bar = ProgressBar::new(size);
        bar.set_style(
            ProgressStyle::with_template("{msg} [{bar:30}] {bytes}/{total_bytes} {bytes_per_sec}")
                .unwrap_or_else(|_| ProgressStyle::default_bar()),
        );
        bar.set_message(format!("converting {}", path.display()));
        bar
    };
    let stats = convert_with(
        path,
        options,
        std::io::BufWriter::new(std::fs::File::create(&plain)?),
        &bar,
    )?;
    bar.finish_and_clear();
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
    let stats = if stats.runs == 0 {
        ConvertStats {
            runs: count,
            ..stats
        }
    } else {
        stats
    };
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
        _dir: dir,
    })
}
