//! Test report files (JUnit, xUnit.net v2, NUnit 2 and 3, TestNG and TRX
//! XML) as a neutral event stream.
//!
//! Owns format detection ([`detect_format`]) and the streaming readers behind
//! [`read_report`], which the server's Test Center import and the CLI
//! converter share. Reports are read in one pass with memory for one test
//! case at a time (TRX results that precede their definitions excepted, see
//! [`ReportFormat::Trx`]), DOCTYPEs are refused (no entity is ever expanded),
//! and the first problem is reported with its line and column.

mod any;
mod chars;
mod detect;
mod junit;
mod model;
mod naming;
mod nunit;
mod repeats;
mod source;
mod testng;
mod trx;
mod values;
mod xml;
mod xunit;

use std::io::BufRead;

pub use any::{AnyFormat, SUPPORTED_FORMATS, empty_report_message, read_any, read_any_file};
pub use detect::detect_format;
pub use model::{CaseOutcome, Failure, ReportCase, ReportError, ReportEvent, ReportFormat, Rerun};
pub use naming::{package_and_class, qualified_name};

/// Streams the report in `reader`, read as `format`, calling `on_event` for
/// each event in document order.
///
/// Memory stays constant in the number of cases: only the open suites and the
/// current case are held. TRX is the exception: results that precede the test
/// definitions naming their classes are held until those are read (see
/// [`ReportFormat::Trx`]). Stops at the first problem: malformed XML, a
/// DOCTYPE, a root element that does not belong to `format`, a test without
/// a known result (xUnit.net, NUnit, TestNG, TRX), or an error returned by
/// `on_event` (its message is kept and located at the element that produced
/// the event). Events already delivered stay delivered, so callers that need
/// all-or-nothing should stage them.
///
/// ```
/// use verdict_ingest::reports::{ReportEvent, detect_format, read_report};
///
/// let report = br#"<testsuite name="math"><testcase name="adds" time="0.5"/></testsuite>"#;
/// let format = detect_format(report).ok_or("not a test report")?;
/// let mut durations = Vec::new();
/// read_report(&report[..], format, |event| {
///     if let ReportEvent::Case(case) = event {
///         durations.push((case.name, case.duration_ms));
///     }
///     Ok(())
/// })?;
/// assert_eq!(durations, [("adds".to_owned(), 500)]);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn read_report<R: BufRead>(
    reader: R,
    format: ReportFormat,
    on_event: impl FnMut(ReportEvent) -> Result<(), String>,
) -> Result<(), ReportError> {
    let mut xml = xml::XmlReader::new(reader)?;
    match format {
        ReportFormat::JUnit => junit::read(&mut xml, on_event),
        ReportFormat::XUnitV2 => xunit::read(&mut xml, on_event),
        ReportFormat::NUnit2 => nunit::read(&mut xml, nunit::Version::V2, on_event),
        ReportFormat::NUnit3 => nunit::read(&mut xml, nunit::Version::V3, on_event),
        ReportFormat::TestNG => testng::read(&mut xml, on_event),
        ReportFormat::Trx => trx::read(&mut xml, on_event),
    }
}
/// Like [`read_report`], from a file. A TRX file whose results precede its
/// test definitions (vstest's order) is read twice — first only its test-id →
/// class map, then streaming every result — so memory grows with the number of
/// tests rather than with their output.
///
/// # Errors
/// As [`read_report`]; a file that cannot be read is reported at line 0.
pub fn read_report_file(
    path: &std::path::Path,
    format: ReportFormat,
    on_event: impl FnMut(ReportEvent) -> Result<(), String>,
) -> Result<(), ReportError> {
    let open = || {
        std::fs::File::open(path)
            .map(|f| std::io::BufReader::with_capacity(1 << 16, f))
            .map_err(|e| ReportError {
                line: 0,
                column: 0,
                message: format!("cannot read {}: {e}", path.display()),
            })
    };
    if format != ReportFormat::Trx {
        return read_report(open()?, format, on_event);
    }
    let classes = trx::read_classes(&mut xml::XmlReader::new(open()?)?)?;
    trx::read_with_classes(&mut xml::XmlReader::new(open()?)?, classes, on_event)
}

pub mod json;
