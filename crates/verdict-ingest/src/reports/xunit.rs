//! The xUnit.net v2 XML reader.
//!
//! Owns the mapping from the xUnit.net v2 format
//! (<https://xunit.net/docs/format-xml-v2>, "xUnit.net XML Format v2") to
//! [`ReportEvent`]s:
//!
//! - `<assemblies>` is a wrapper and produces no event;
//! - `<assembly>` is a suite named after the file name part of its `name`
//!   path, stamped `run-date`T`run-time`, with its `test-framework` and
//!   `environment` as properties;
//! - `<collection>` is a suite nested in its assembly;
//! - `<test>` is a case: `name`, `type` as the class name, `time` in seconds,
//!   and `result` `Pass`, `Fail` (details from `<failure exception-type>`,
//!   its `<message>` and `<stack-trace>`), `Skip` or `NotRun` (reason from
//!   `<reason>`); `<output>` is its standard output.
//!
//! Assembly-level `<errors>` (cleanup failures), traits and unknown elements
//! and attributes are ignored. A `<test>` without a known `result` is an
//! error, since its outcome cannot be guessed.

use std::io::BufRead;

use super::model::{CaseOutcome, Failure, ReportCase, ReportError, ReportEvent};
use super::source::Pos;
use super::values::{file_name, non_empty, seconds_to_ms, tidy};
use super::xml::{Element, Handler, XmlReader, drive};

/// Reads an xUnit.net v2 document from `xml`, sending its events to `emit`.
pub(crate) fn read<R, F>(xml: &mut XmlReader<R>, emit: F) -> Result<(), ReportError>
where
    R: BufRead,
    F: FnMut(ReportEvent) -> Result<(), String>,
{
    let mut reader = XUnit {
        emit,
        stack: Vec::new(),
        test: None,
    };
    drive(xml, &mut reader)
}

/// What an open element is to the reader.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Frame {
    Wrapper,
    Assembly,
    Collection,
    Test,
    Failure,
    Message,
    StackTrace,
    Reason,
    Output,
    Ignored,
}

/// The `result` attribute of a test.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Outcome {
    Pass,
    Fail,
    Skip,
}

/// The open `<test>`.
struct TestState {
    pos: Pos,
    name: String,
    classname: Option<String>,
    duration_ms: i64,
    outcome: Outcome,
    kind: Option<String>,
    message: Option<String>,
    stack: Option<String>,
    reason: Option<String>,
    output: Option<String>,
}

struct XUnit<F> {
    emit: F,
    stack: Vec<Frame>,
    test: Option<TestState>,
}

impl<F: FnMut(ReportEvent) -> Result<(), String>> Handler for XUnit<F> {
    fn start(&mut self, element: &Element<'_>, pos: Pos) -> Result<(), ReportError> {
        let top = self.stack.last().copied();
        let frame = match (top, element.name()) {
            (None, b"assemblies") => Frame::Wrapper,
            (None | Some(Frame::Wrapper), b"assembly") => self.open_assembly(element, pos)?,
            (None, other) => {
                let found = String::from_utf8_lossy(other);
                let msg = format!(
                    "expected an xUnit.net v2 report (<assemblies> or <assembly>), found <{found}>"
                );
                return Err(pos.error(msg));
            }
            (Some(Frame::Assembly), b"collection") => {
                let [name] = element.attrs(["name"])?;
                self.open_suite(name.unwrap_or_default(), None, Vec::new(), pos)?;
                Frame::Collection
            }
            (Some(Frame::Assembly | Frame::Collection), b"test") => self.open_test(element, pos)?,
            (Some(Frame::Test), b"failure") => {
                let [kind] = element.attrs(["exception-type"])?;
                if let Some(test) = &mut self.test {
                    test.kind = non_empty(kind);
                }
                Frame::Failure
            }
            (Some(Frame::Test), b"reason") => Frame::Reason,
            (Some(Frame::Test), b"output") => Frame::Output,
            (Some(Frame::Failure), b"message") => Frame::Message,
            (Some(Frame::Failure), b"stack-trace") => Frame::StackTrace,
            _ => Frame::Ignored,
        };
        if !matches!(
            frame,
            Frame::Assembly | Frame::Collection | Frame::Test | Frame::Failure
        ) {
            // Attributes are still checked for well-formedness.
            element.attrs([])?;
        }
        self.stack.push(frame);
        Ok(())
    }

    fn end(&mut self, pos: Pos) -> Result<(), ReportError> {
        match self.stack.pop() {
            Some(Frame::Assembly | Frame::Collection) => self.send(ReportEvent::SuiteEnd, pos),
            Some(Frame::Test) => self.close_test(),
            _ => Ok(()),
        }
    }

    fn text(&mut self, text: &str) {
        let (Some(frame), Some(test)) = (self.stack.last(), &mut self.test) else {
            return;
        };
        let field = match frame {
            Frame::Message => &mut test.message,
            Frame::StackTrace => &mut test.stack,
            Frame::Reason => &mut test.reason,
            Frame::Output => &mut test.output,
            _ => return,
        };
        field.get_or_insert_default().push_str(text);
    }
}

impl<F: FnMut(ReportEvent) -> Result<(), String>> XUnit<F> {
    fn send(&mut self, event: ReportEvent, pos: Pos) -> Result<(), ReportError> {
        (self.emit)(event).map_err(|message| pos.error(message))
    }

    fn open_assembly(&mut self, element: &Element<'_>, pos: Pos) -> Result<Frame, ReportError> {
        let [name, date, time, framework, environment] = element.attrs([
            "name",
            "run-date",
            "run-time",
            "test-framework",
            "environment",
        ])?;
        let timestamp = match (non_empty(date), non_empty(time)) {
            (Some(date), Some(time)) => Some(format!("{date}T{time}")),
            (date, _) => date,
        };
        let properties = [("test-framework", framework), ("environment", environment)]
            .into_iter()
            .filter_map(|(key, value)| Some((key.to_owned(), non_empty(value)?)))
            .collect();
        let name = file_name(name.as_deref().unwrap_or_default()).to_owned();
        self.open_suite(name, timestamp, properties, pos)?;
        Ok(Frame::Assembly)
    }

    fn open_suite(
        &mut self,
        name: String,
        timestamp: Option<String>,
        properties: Vec<(String, String)>,
        pos: Pos,
    ) -> Result<(), ReportError> {
        let event = ReportEvent::SuiteStart {
            name,
            timestamp,
            properties,
        };
        self.send(event, pos)
    }

    fn open_test(&mut self, element: &Element<'_>, pos: Pos) -> Result<Frame, ReportError> {
        let [name, classname, time, result] = element.attrs(["name", "type", "time", "result"])?;
        let outcome = match result.as_deref() {
            Some("Pass") => Outcome::Pass,
            Some("Fail") => Outcome::Fail,
            Some("Skip" | "NotRun") => Outcome::Skip,
            Some(other) => {
                let msg = format!("test result '{other}' is not one of Pass, Fail, Skip or NotRun");
                return Err(pos.error(msg));
            }
            None => return Err(pos.error("<test> has no 'result' attribute")),
        };
        self.test = Some(TestState {
            pos,
            name: name.unwrap_or_default(),
            classname: non_empty(classname),
            duration_ms: seconds_to_ms(time.as_deref()),
            outcome,
            kind: None,
            message: None,
            stack: None,
            reason: None,
            output: None,
        });
        Ok(Frame::Test)
    }

    fn close_test(&mut self) -> Result<(), ReportError> {
        let Some(test) = self.test.take() else {
            return Ok(());
        };
        let outcome = match test.outcome {
            Outcome::Pass => CaseOutcome::Passed,
            Outcome::Fail => CaseOutcome::Failed(Failure {
                message: non_empty(test.message.as_deref().map(tidy)),
                kind: test.kind,
                text: test.stack.as_deref().map(tidy).unwrap_or_default(),
            }),
            Outcome::Skip => CaseOutcome::Skipped {
                message: non_empty(test.reason.as_deref().map(tidy)),
            },
        };
        let case = ReportCase {
            name: test.name,
            classname: test.classname,
            duration_ms: test.duration_ms,
            outcome,
            system_out: non_empty(test.output),
            system_err: None,
            reruns: Vec::new(),
            retries: 0,
            flaky: false,
            started_ms: None,
            file: None,
        };
        self.send(ReportEvent::Case(case), test.pos)
    }
}
