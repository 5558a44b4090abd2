//! Test report files (JUnit XML, xUnit.net v2 XML) as a neutral event stream.
//!
//! Owns format detection ([`detect_format`]) and the streaming readers behind
//! [`read_report`], which the server's Test Center import and the CLI
//! converter share. Reports are read in one pass with memory for one test
//! case at a time, DOCTYPEs are refused (no entity is ever expanded), and the
//! first problem is reported with its line and column.

mod detect;
mod junit;
mod model;
mod source;
mod values;
mod xml;
mod xunit;

use std::io::BufRead;

pub use detect::detect_format;
pub use model::{CaseOutcome, Failure, ReportCase, ReportError, ReportEvent, ReportFormat, Rerun};

/// Streams the report in `reader`, read as `format`, calling `on_event` for
/// each event in document order.
///
/// Memory stays constant in the number of cases: only the open suites and the
/// current case are held. Stops at the first problem: malformed XML, a
/// DOCTYPE, a root element that does not belong to `format`, an xUnit.net test
/// without a known result, or an error returned by `on_event` (its message is
/// kept and located at the element that produced the event). Events already
/// delivered stay delivered, so callers that need all-or-nothing should stage
/// them.
pub fn read_report<R: BufRead>(
    reader: R,
    format: ReportFormat,
    on_event: impl FnMut(ReportEvent) -> Result<(), String>,
) -> Result<(), ReportError> {
    let mut xml = xml::XmlReader::new(reader)?;
    match format {
        ReportFormat::JUnit => junit::read(&mut xml, on_event),
        ReportFormat::XUnitV2 => xunit::read(&mut xml, on_event),
    }
}
