//! Every report format behind one entry point, so the CLI's conversion and
//! the server's Test Center import read the same files into the same tree.
//!
//! Owns [`AnyFormat`] (the XML formats and the JSON ones), its detection
//! from a file's first bytes, and [`read_any`] / [`read_any_file`], which
//! stream the neutral [`ReportEvent`]s of any of them (Cucumber JSON as a
//! suite per feature and a case per scenario).

use std::io::BufRead;
use std::path::Path;

use super::json::{JsonFormat, JsonReportError, detect_json_format, read_json_report};
use super::{ReportError, ReportEvent, ReportFormat, detect_format, read_report, read_report_file};

/// The formats named in errors about a file that is none of them.
pub const SUPPORTED_FORMATS: &str =
    "JUnit, xUnit.net v2, NUnit 2/3, TestNG, TRX, Cucumber JSON, CTRF or go test -json";

/// What to say about a report file of 0 bytes (a test run that wrote the
/// file and then nothing, such as cucumber-js on a feature that does not
/// parse), for the CLI and the server alike.
#[must_use]
pub fn empty_report_message(file: &str) -> String {
    format!(
        "{file} is empty (0 bytes): the test run wrote no results, perhaps it failed before running any test"
    )
}

/// A report format of either family.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum AnyFormat {
    Xml(ReportFormat),
    Json(JsonFormat),
}

impl AnyFormat {
    /// The format of a report whose first bytes are `head` (a few KiB).
    #[must_use]
    pub fn detect(head: &[u8]) -> Option<Self> {
        detect_format(head)
            .map(Self::Xml)
            .or_else(|| detect_json_format(head).map(Self::Json))
    }

    /// The format's name as users know it.
    #[must_use]
    pub fn name(self) -> &'static str {
        match self {
            Self::Xml(ReportFormat::JUnit) => "JUnit",
            Self::Xml(ReportFormat::XUnitV2) => "xUnit.net v2",
            Self::Xml(ReportFormat::NUnit2) => "NUnit 2",
            Self::Xml(ReportFormat::NUnit3) => "NUnit 3",
            Self::Xml(ReportFormat::TestNG) => "TestNG",
            Self::Xml(ReportFormat::Trx) => "TRX",
            Self::Json(JsonFormat::Cucumber) => "Cucumber JSON",
            Self::Json(JsonFormat::Ctrf) => "CTRF",
            Self::Json(JsonFormat::GoTest) => "go test -json",
        }
    }
}

impl From<JsonReportError> for ReportError {
    fn from(e: JsonReportError) -> Self {
        Self {
            line: e.line,
            column: e.column,
            message: e.message,
        }
    }
}

/// Streams a report of any format from `reader` ([`read_report`] for XML,
/// [`read_json_report`] for JSON).
///
/// # Errors
/// As those functions; JSON positions count bytes.
pub fn read_any<R: BufRead>(
    reader: R,
    format: AnyFormat,
    on_event: impl FnMut(ReportEvent) -> Result<(), String>,
) -> Result<(), ReportError> {
    match format {
        AnyFormat::Xml(f) => read_report(reader, f, on_event),
        AnyFormat::Json(f) => Ok(read_json_report(reader, f, on_event)?),
    }
}

/// Like [`read_any`], from a file (TRX in two passes, see
/// [`read_report_file`]).
///
/// # Errors
/// As [`read_any`]; a file that cannot be read is reported at line 0.
pub fn read_any_file(
    path: &Path,
    format: AnyFormat,
    on_event: impl FnMut(ReportEvent) -> Result<(), String>,
) -> Result<(), ReportError> {
    match format {
        AnyFormat::Xml(f) => read_report_file(path, f, on_event),
        AnyFormat::Json(f) => {
            let file = std::fs::File::open(path).map_err(|e| ReportError {
                line: 0,
                column: 0,
                message: format!("cannot read {}: {e}", path.display()),
            })?;
            let reader = std::io::BufReader::with_capacity(1 << 16, file);
            Ok(read_json_report(reader, f, on_event)?)
        }
    }
}
