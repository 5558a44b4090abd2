//! The NUnit XML readers: NUnit 2 (`<test-results>`) and NUnit 3 (`<test-run>`).
//!
//! Owns the mapping from both NUnit result formats to [`ReportEvent`]s. They
//! share their shape (nested `<test-suite>`s holding `<test-case>`s with
//! `<failure>`, `<reason>` and `<output>` children), so one reader serves
//! both and [`Version`] picks the vocabulary. Sources:
//!
//! - NUnit 3: "Test Result XML Format"
//!   (<https://docs.nunit.org/articles/nunit/technical-notes/usage/Test-Result-XML-Format.html>);
//! - NUnit 2: the "XML Formats" page, which links the 2.x sample and
//!   `Results.xsd` (<https://docs.nunit.org/articles/nunit/technical-notes/usage/XML-Formats.html>),
//!   and NUnit 2.6's `XmlResultWriter`
//!   (<https://github.com/nunit/nunitv2>, `src/ClientUtilities/util/XmlResultWriter.cs`).
//!
//! Rules:
//!
//! - the root produces no event; its run timestamp (NUnit 2 `date`T`time`,
//!   NUnit 3 `start-time`) and NUnit 2's root `<environment>` go to the
//!   outermost suites;
//! - every `<test-suite>` is a suite, nested as in the file, named by `name`
//!   (the file name part for an `Assembly`) and stamped with its
//!   `start-time` — except project wrappers (`Project`, `Test Project`) and
//!   the groupings of one method's cases (`ParameterizedMethod`,
//!   `ParameterizedTest`, `GenericMethod`, `Theory`), which produce no event:
//!   their cases already carry the method in their names;
//! - a suite's properties are its leading `<properties>` and the versions
//!   from an `<environment>` (`nunit-version`, `framework-version`,
//!   `clr-version`, `os-version`, `platform`, `os-architecture`; machine and
//!   user names are left out); as in JUnit, its `SuiteStart` is sent at its
//!   first child suite or case;
//! - a `<test-case>` is a case: `name` (NUnit 2 writes the full name), the
//!   class from NUnit 3's `classname` or, for NUnit 2, the full name up to
//!   its last `.` outside argument lists, `duration` (NUnit 3) or `time`
//!   (NUnit 2) in seconds;
//! - outcomes: see [`verdict_v2`] and [`verdict_v3`]. Failures take `<failure><message>` and
//!   `<stack-trace>` (NUnit does not record the exception type apart from
//!   the message); skips take `<reason><message>`; NUnit 3 `<output>` is the
//!   standard output, and a `Warning`'s message is appended to it after
//!   `Warning: ` since the case counts as passed.
//!
//! Suite-level failures, categories, attachments, assertions and unknown
//! elements and attributes are ignored. A case without a known result is an
//! error, since its outcome cannot be guessed.

use std::io::BufRead;

use super::model::{CaseOutcome, Failure, ReportCase, ReportError, ReportEvent};
use super::source::Pos;
use super::values::{file_name, non_empty, seconds_to_ms, tidy};
use super::xml::{Element, Handler, XmlReader, drive};

mod values;

use values::{Verdict, class_of, verdict_v2, verdict_v3};

/// Which NUnit result format is being read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Version {
    V2,
    V3,
}

/// Reads an NUnit document of `version` from `xml`, sending its events to `emit`.
pub(crate) fn read<R, F>(
    xml: &mut XmlReader<R>,
    version: Version,
    emit: F,
) -> Result<(), ReportError>
where
    R: BufRead,
    F: FnMut(ReportEvent) -> Result<(), String>,
{
    let mut reader = NUnit {
        version,
        emit,
        stack: Vec::new(),
        suites: 0,
        run_timestamp: None,
        run_properties: Vec::new(),
        pending: None,
        case: None,
    };
    drive(xml, &mut reader)
}

/// What an open element is to the reader.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Frame {
    Root,
    /// A `<test-suite>` that is reported as a suite.
    Suite,
    /// A `<test-suite>` that only groups (see the module rules).
    Grouping,
    /// NUnit 2's `<results>` list of children.
    Results,
    Properties,
    Case,
    Failure,
    FailureMessage,
    StackTrace,
    Reason,
    ReasonMessage,
    Output,
    Ignored,
}

/// A suite whose `SuiteStart` has not been sent yet.
struct PendingSuite {
    pos: Pos,
    name: String,
    timestamp: Option<String>,
    properties: Vec<(String, String)>,
}

/// The open `<test-case>`.
struct CaseState {
    pos: Pos,
    name: String,
    classname: Option<String>,
    duration_ms: i64,
    verdict: Verdict,
    message: Option<String>,
    stack: Option<String>,
    reason: Option<String>,
    output: Option<String>,
}

struct NUnit<F> {
    version: Version,
    emit: F,
    stack: Vec<Frame>,
    /// Open [`Frame::Suite`]s.
    suites: usize,
    run_timestamp: Option<String>,
    run_properties: Vec<(String, String)>,
    pending: Option<PendingSuite>,
    case: Option<CaseState>,
}

/// `<environment>` attributes kept as suite properties.
const ENVIRONMENT: [&str; 6] = [
    "nunit-version",
    "framework-version",
    "clr-version",
    "os-version",
    "platform",
    "os-architecture",
];

impl<F: FnMut(ReportEvent) -> Result<(), String>> Handler for NUnit<F> {
    fn start(&mut self, element: &Element<'_>, pos: Pos) -> Result<(), ReportError> {
        use Frame as Fr;
        let top = self.stack.last().copied();
        let root = match self.version {
            Version::V2 => &b"test-results"[..],
            Version::V3 => b"test-run",
        };
        let frame = match (top, element.name()) {
            (None, name) if name == root => self.open_root(element)?,
            (None, other) => {
                let (version, root) = match self.version {
                    Version::V2 => (2, "test-results"),
                    Version::V3 => (3, "test-run"),
                };
                let found = String::from_utf8_lossy(other);
                let msg = format!("expected an NUnit {version} report (<{root}>), found <{found}>");
                return Err(pos.error(msg));
            }
            (Some(Fr::Root | Fr::Suite | Fr::Grouping | Fr::Results), b"test-suite") => {
                self.flush()?;
                self.open_suite(element, pos)?
            }
            (Some(Fr::Suite | Fr::Grouping | Fr::Results), b"test-case") => {
                self.flush()?;
                self.open_case(element, pos)?
            }
            (Some(Fr::Suite | Fr::Grouping), b"results") => Fr::Results,
            (Some(Fr::Suite), b"properties") if self.pending.is_some() => Fr::Properties,
            (Some(Fr::Properties), b"property") => {
                let [name, value] = element.attrs(["name", "value"])?;
                if let (Some(name), Some(suite)) = (name, &mut self.pending) {
                    suite.properties.push((name, value.unwrap_or_default()));
                }
                Fr::Ignored
            }
            (Some(Fr::Root | Fr::Suite), b"environment") => {
                let values = element.attrs(ENVIRONMENT)?;
                let found = ENVIRONMENT.into_iter().zip(values);
                let found = found.filter_map(|(k, v)| Some((k.to_owned(), non_empty(v)?)));
                match (&mut self.pending, top) {
                    (Some(suite), _) => suite.properties.extend(found),
                    (None, Some(Fr::Root)) => self.run_properties.extend(found),
                    _ => {}
                }
                Fr::Ignored
            }
            (Some(Fr::Case), b"failure") => Fr::Failure,
            (Some(Fr::Case), b"reason") => Fr::Reason,
            (Some(Fr::Case), b"output") => Fr::Output,
            (Some(Fr::Failure), b"message") => Fr::FailureMessage,
            (Some(Fr::Failure), b"stack-trace") => Fr::StackTrace,
            (Some(Fr::Reason), b"message") => Fr::ReasonMessage,
            _ => Fr::Ignored,
        };
        if !matches!(frame, Fr::Root | Fr::Suite | Fr::Grouping | Fr::Case) {
            // Attributes are still checked for well-formedness.
            element.attrs([])?;
        }
        self.stack.push(frame);
        Ok(())
    }

    fn end(&mut self, pos: Pos) -> Result<(), ReportError> {
        match self.stack.pop() {
            Some(Frame::Suite) => {
                self.flush()?;
                self.suites = self.suites.saturating_sub(1);
                self.send(ReportEvent::SuiteEnd, pos)
            }
            Some(Frame::Case) => self.close_case(),
            _ => Ok(()),
        }
    }

    fn text(&mut self, text: &str) {
        let (Some(frame), Some(case)) = (self.stack.last(), &mut self.case) else {
            return;
        };
        let field = match frame {
            Frame::FailureMessage => &mut case.message,
            Frame::StackTrace => &mut case.stack,
            Frame::ReasonMessage => &mut case.reason,
            Frame::Output => &mut case.output,
            _ => return,
        };
        field.get_or_insert_default().push_str(text);
    }
}

impl<F: FnMut(ReportEvent) -> Result<(), String>> NUnit<F> {
    fn send(&mut self, event: ReportEvent, pos: Pos) -> Result<(), ReportError> {
        (self.emit)(event).map_err(|message| pos.error(message))
    }

    /// Sends the `SuiteStart` of the innermost suite if it is still pending.
    fn flush(&mut self) -> Result<(), ReportError> {
        let Some(suite) = self.pending.take() else {
            return Ok(());
        };
        let event = ReportEvent::SuiteStart {
            name: suite.name,
            timestamp: suite.timestamp,
            properties: suite.properties,
        };
        self.send(event, suite.pos)
    }

    fn open_root(&mut self, element: &Element<'_>) -> Result<Frame, ReportError> {
        let [date, time, start] = element.attrs(["date", "time", "start-time"])?;
        self.run_timestamp = match (non_empty(date), non_empty(time)) {
            (Some(date), Some(time)) => Some(format!("{date}T{time}")),
            (date, _) => date.or(non_empty(start)),
        };
        Ok(Frame::Root)
    }

    fn open_suite(&mut self, element: &Element<'_>, pos: Pos) -> Result<Frame, ReportError> {
        let [kind, name, start] = element.attrs(["type", "name", "start-time"])?;
        let kind = kind.unwrap_or_default();
        let grouping = [
            "Project",
            "Test Project",
            "ParameterizedMethod",
            "ParameterizedTest",
            "GenericMethod",
            "Theory",
        ];
        if grouping.contains(&kind.as_str()) {
            return Ok(Frame::Grouping);
        }
        let mut name = name.unwrap_or_default();
        if kind == "Assembly" {
            name = file_name(&name).to_owned();
        }
        let outermost = self.suites == 0;
        let mut timestamp = non_empty(start);
        let mut properties = Vec::new();
        if outermost {
            timestamp = timestamp.or_else(|| self.run_timestamp.clone());
            properties.clone_from(&self.run_properties);
        }
        self.pending = Some(PendingSuite {
            pos,
            name,
            timestamp,
            properties,
        });
        self.suites += 1;
        Ok(Frame::Suite)
    }

    fn open_case(&mut self, element: &Element<'_>, pos: Pos) -> Result<Frame, ReportError> {
        let [
            name,
            classname,
            result,
            label,
            duration,
            time,
            executed,
            success,
        ] = element.attrs([
            "name",
            "classname",
            "result",
            "label",
            "duration",
            "time",
            "executed",
            "success",
        ])?;
        let verdict = match self.version {
            Version::V2 => verdict_v2(result.as_deref(), executed.as_deref(), success.as_deref()),
            Version::V3 => verdict_v3(result.as_deref(), label.as_deref()),
        }
        .map_err(|msg| pos.error(msg))?;
        let name = name.unwrap_or_default();
        let classname = match self.version {
            Version::V2 => class_of(&name).map(str::to_owned),
            Version::V3 => non_empty(classname),
        };
        self.case = Some(CaseState {
            pos,
            name,
            classname,
            duration_ms: seconds_to_ms(duration.or(time).as_deref()),
            verdict,
            message: None,
            stack: None,
            reason: None,
            output: None,
        });
        Ok(Frame::Case)
    }

    fn close_case(&mut self) -> Result<(), ReportError> {
        let Some(case) = self.case.take() else {
            return Ok(());
        };
        let message = non_empty(case.message.as_deref().map(tidy));
        let reason = non_empty(case.reason.as_deref().map(tidy));
        let failure = || Failure {
            message: message.clone().or(reason.clone()),
            kind: None,
            text: case.stack.as_deref().map(tidy).unwrap_or_default(),
        };
        let mut system_out = non_empty(case.output);
        let outcome = match case.verdict {
            Verdict::Pass => CaseOutcome::Passed,
            Verdict::Fail => CaseOutcome::Failed(failure()),
            Verdict::Error => CaseOutcome::Errored(failure()),
            Verdict::Skip => CaseOutcome::Skipped {
                message: reason.clone().or(message.clone()),
            },
            Verdict::Warn => {
                if let Some(warning) = reason.clone().or(message.clone()) {
                    let out = system_out.get_or_insert_default();
                    if !out.is_empty() && !out.ends_with('\n') {
                        out.push('\n');
                    }
                    out.push_str("Warning: ");
                    out.push_str(&warning);
                }
                CaseOutcome::Passed
            }
        };
        let report = ReportCase {
            name: case.name,
            classname: case.classname,
            duration_ms: case.duration_ms,
            outcome,
            system_out,
            system_err: None,
            reruns: Vec::new(),
            retries: 0,
            flaky: false,
            started_ms: None,
            file: None,
        };
        self.send(ReportEvent::Case(report), case.pos)
    }
}
