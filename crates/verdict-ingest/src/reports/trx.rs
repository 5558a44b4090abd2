//! The Visual Studio test results (TRX) reader.
//!
//! Owns the mapping from `.trx` files (MSTest, `vstest.console`,
//! `dotnet test --logger trx`) to [`ReportEvent`]s. Sources: the `vstst.xsd`
//! schema that ships with Visual Studio (`Xml/Schemas/vstst.xsd`, namespace
//! [`TRX_NAMESPACE`]) and the vstest TRX logger that writes most of today's
//! files (<https://github.com/microsoft/vstest>,
//! `src/Microsoft.TestPlatform.Extensions.TrxLogger`), including its
//! `TestOutcome` values.
//!
//! Rules:
//!
//! - the root `<TestRun>` must be in the TRX namespace; the whole run is one
//!   suite named after its `name`, stamped with `<Times start>`;
//! - each `<UnitTestResult>` of `<Results>` is a case: `testName`, the class
//!   from its `<UnitTest>` definition (`<TestMethod className>`, cut at the
//!   first top-level `,` since `mstest.exe` wrote assembly-qualified names),
//!   `duration` as a `[d.]hh:mm:ss[.fffffff]` time span, `Output/StdOut` and
//!   `StdErr`, and `Output/ErrorInfo` `Message` and `StackTrace` as the
//!   failure or skip details;
//! - outcomes: see [`verdict`].
//!
//! `vstest` writes `<Results>` before `<TestDefinitions>`, so a result's class
//! is only known later. Read from a stream, results read before the
//! definitions are held (with their output and stack traces) until
//! `</TestDefinitions>` and sent then. Read from a file
//! ([`super::read_report_file`]), a first pass collects only the map from test
//! id to class and a second pass sends every result as it is read, so memory
//! grows with the number of tests, not with their output. Files that define
//! tests first (`mstest.exe`) stream either way. Without any definitions the cases are
//! sent at the end, without classes. Inner results of data-driven tests,
//! `TestEntries`, `TestLists`, `ResultSummary` and unknown elements and
//! attributes are ignored. A result without a known `outcome` is an error.

use std::collections::HashMap;
use std::io::BufRead;

use super::model::{CaseOutcome, Failure, ReportCase, ReportError, ReportEvent};
use super::source::Pos;
use super::values::{non_empty, tidy};
use super::xml::{Element, Handler, XmlReader, drive};

mod values;

use values::{Verdict, timespan_ms, type_name, verdict};

/// The namespace of TRX documents (Visual Studio 2010 and later).
pub(crate) const TRX_NAMESPACE: &str = "http://microsoft.com/schemas/VisualStudio/TeamTest/2010";

/// Reads a TRX document from `xml`, sending its events to `emit`.
pub(crate) fn read<R, F>(xml: &mut XmlReader<R>, emit: F) -> Result<(), ReportError>
where
    R: BufRead,
    F: FnMut(ReportEvent) -> Result<(), String>,
{
    run(&mut Trx::new(emit, Mode::Stream), xml)
}

/// First pass over a file: only the map from test id to class.
pub(crate) fn read_classes<R: BufRead>(
    xml: &mut XmlReader<R>,
) -> Result<HashMap<String, String>, ReportError> {
    let mut reader = Trx::new(|_| Ok(()), Mode::ClassesOnly);
    run(&mut reader, xml)?;
    Ok(reader.classes)
}

/// Second pass over a file: classes are known, every result is sent as read.
pub(crate) fn read_with_classes<R, F>(
    xml: &mut XmlReader<R>,
    classes: HashMap<String, String>,
    emit: F,
) -> Result<(), ReportError>
where
    R: BufRead,
    F: FnMut(ReportEvent) -> Result<(), String>,
{
    let mut reader = Trx::new(emit, Mode::Stream);
    reader.classes = classes;
    reader.defined = true;
    run(&mut reader, xml)
}

/// How results are handled.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Mode {
    /// Send them (holding those read before the definitions).
    Stream,
    /// Drop them: only the classes are wanted.
    ClassesOnly,
}

fn run<R, F>(reader: &mut Trx<F>, xml: &mut XmlReader<R>) -> Result<(), ReportError>
where
    R: BufRead,
    F: FnMut(ReportEvent) -> Result<(), String>,
{
    drive(xml, reader)
}

/// What an open element is to the reader.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Frame {
    Root,
    Results,
    Result,
    Output,
    StdOut,
    StdErr,
    ErrorInfo,
    Message,
    StackTrace,
    Definitions,
    UnitTest,
    Ignored,
}

/// The run's suite, sent before its first case.
struct Run {
    pos: Pos,
    name: String,
    timestamp: Option<String>,
}

/// The open `<UnitTestResult>`.
struct ResultState {
    pos: Pos,
    test_id: Option<String>,
    name: String,
    duration_ms: i64,
    verdict: Verdict,
    out: Option<String>,
    err: Option<String>,
    message: Option<String>,
    stack: Option<String>,
}

/// A finished case waiting for its class.
struct Held {
    pos: Pos,
    test_id: Option<String>,
    case: ReportCase,
}

struct Trx<F> {
    emit: F,
    mode: Mode,
    /// Most cases ever held at once (tests check the file path streams).
    max_held: usize,
    stack: Vec<Frame>,
    run: Option<Run>,
    suite_sent: bool,
    /// Test id to class name, from `<TestDefinitions>`.
    classes: HashMap<String, String>,
    /// `</TestDefinitions>` was read.
    defined: bool,
    held: Vec<Held>,
    result: Option<ResultState>,
    /// The id of the open `<UnitTest>`.
    unit_test: Option<String>,
}

impl<F> Trx<F> {
    fn new(emit: F, mode: Mode) -> Self {
        Self {
            emit,
            mode,
            max_held: 0,
            stack: Vec::new(),
            run: None,
            suite_sent: false,
            classes: HashMap::new(),
            defined: false,
            held: Vec::new(),
            result: None,
            unit_test: None,
        }
    }
}

impl<F: FnMut(ReportEvent) -> Result<(), String>> Handler for Trx<F> {
    fn start(&mut self, element: &Element<'_>, pos: Pos) -> Result<(), ReportError> {
        use Frame as Fr;
        let top = self.stack.last().copied();
        let frame = match (top, element.name()) {
            (None, name) => self.open_root(element, name, pos)?,
            (Some(Fr::Root), b"Times") => {
                let [start] = element.attrs(["start"])?;
                if let Some(run) = &mut self.run {
                    run.timestamp = non_empty(start);
                }
                Fr::Ignored
            }
            (Some(Fr::Root), b"Results") => Fr::Results,
            (Some(Fr::Results), b"UnitTestResult") => self.open_result(element, pos)?,
            (Some(Fr::Result), b"Output") => Fr::Output,
            (Some(Fr::Output), b"StdOut") => Fr::StdOut,
            (Some(Fr::Output), b"StdErr") => Fr::StdErr,
            (Some(Fr::Output), b"ErrorInfo") => Fr::ErrorInfo,
            (Some(Fr::ErrorInfo), b"Message") => Fr::Message,
            (Some(Fr::ErrorInfo), b"StackTrace") => Fr::StackTrace,
            (Some(Fr::Root), b"TestDefinitions") => Fr::Definitions,
            (Some(Fr::Definitions), b"UnitTest") => {
                let [id] = element.attrs(["id"])?;
                self.unit_test = id;
                Fr::UnitTest
            }
            (Some(Fr::UnitTest), b"TestMethod") => {
                let [class] = element.attrs(["className"])?;
                let class = non_empty(class).map(|c| type_name(&c).to_owned());
                if let (Some(id), Some(class)) = (self.unit_test.clone(), class) {
                    self.classes.insert(id, class);
                }
                Fr::Ignored
            }
            _ => Fr::Ignored,
        };
        if !matches!(frame, Fr::Root | Fr::Result | Fr::UnitTest) {
            // Attributes are still checked for well-formedness.
            element.attrs([])?;
        }
        self.stack.push(frame);
        Ok(())
    }

    fn end(&mut self, pos: Pos) -> Result<(), ReportError> {
        match self.stack.pop() {
            Some(Frame::Result) => self.close_result(),
            Some(Frame::UnitTest) => {
                self.unit_test = None;
                Ok(())
            }
            Some(Frame::Definitions) => {
                self.defined = true;
                self.release()
            }
            Some(Frame::Root) => {
                self.release()?;
                self.open_suite()?;
                self.send(ReportEvent::SuiteEnd, pos)
            }
            _ => Ok(()),
        }
    }

    fn text(&mut self, text: &str) {
        let (Some(frame), Some(result)) = (self.stack.last(), &mut self.result) else {
            return;
        };
        let field = match frame {
            Frame::StdOut => &mut result.out,
            Frame::StdErr => &mut result.err,
            Frame::Message => &mut result.message,
            Frame::StackTrace => &mut result.stack,
            _ => return,
        };
        field.get_or_insert_default().push_str(text);
    }
}

impl<F: FnMut(ReportEvent) -> Result<(), String>> Trx<F> {
    fn send(&mut self, event: ReportEvent, pos: Pos) -> Result<(), ReportError> {
        (self.emit)(event).map_err(|message| pos.error(message))
    }

    fn open_root(
        &mut self,
        element: &Element<'_>,
        name: &[u8],
        pos: Pos,
    ) -> Result<Frame, ReportError> {
        let xmlns = match element.prefix() {
            Some(prefix) => format!("xmlns:{}", String::from_utf8_lossy(prefix)),
            None => "xmlns".to_owned(),
        };
        let [namespace, run_name] = element.attrs([xmlns.as_str(), "name"])?;
        if name != b"TestRun" || namespace.as_deref() != Some(TRX_NAMESPACE) {
            let found = String::from_utf8_lossy(name);
            let msg = format!(
                "expected a TRX report (<TestRun> in namespace {TRX_NAMESPACE}), found <{found}>"
            );
            return Err(pos.error(msg));
        }
        self.run = Some(Run {
            pos,
            name: run_name.unwrap_or_default(),
            timestamp: None,
        });
        Ok(Frame::Root)
    }

    /// Sends the run's `SuiteStart` unless it was sent.
    fn open_suite(&mut self) -> Result<(), ReportError> {
        if std::mem::replace(&mut self.suite_sent, true) {
            return Ok(());
        }
        let Some(run) = self.run.take() else {
            return Ok(());
        };
        let event = ReportEvent::SuiteStart {
            name: run.name,
            timestamp: run.timestamp,
            properties: Vec::new(),
        };
        self.send(event, run.pos)
    }

    fn open_result(&mut self, element: &Element<'_>, pos: Pos) -> Result<Frame, ReportError> {
        let [test_id, name, outcome, duration] =
            element.attrs(["testId", "testName", "outcome", "duration"])?;
        let verdict = verdict(outcome.as_deref()).map_err(|msg| pos.error(msg))?;
        self.result = Some(ResultState {
            pos,
            test_id,
            name: name.unwrap_or_default(),
            duration_ms: timespan_ms(duration.as_deref()),
            verdict,
            out: None,
            err: None,
            message: None,
            stack: None,
        });
        Ok(Frame::Result)
    }

    fn close_result(&mut self) -> Result<(), ReportError> {
        let Some(result) = self.result.take() else {
            return Ok(());
        };
        if self.mode == Mode::ClassesOnly {
            return Ok(());
        }
        let message = non_empty(result.message.as_deref().map(tidy));
        let failure = || Failure {
            message: message.clone(),
            kind: None,
            text: result.stack.as_deref().map(tidy).unwrap_or_default(),
        };
        let outcome = match result.verdict {
            Verdict::Pass => CaseOutcome::Passed,
            Verdict::Fail => CaseOutcome::Failed(failure()),
            Verdict::Error => CaseOutcome::Errored(failure()),
            Verdict::Skip => CaseOutcome::Skipped {
                message: message.clone(),
            },
        };
        let held = Held {
            pos: result.pos,
            test_id: result.test_id,
            case: ReportCase {
                name: result.name,
                classname: None,
                duration_ms: result.duration_ms,
                outcome,
                system_out: non_empty(result.out),
                system_err: non_empty(result.err),
                reruns: Vec::new(),
                retries: 0,
                flaky: false,
                started_ms: None,
                file: None,
            },
        };
        if self.defined {
            self.deliver(held)
        } else {
            self.held.push(held);
            self.max_held = self.max_held.max(self.held.len());
            Ok(())
        }
    }

    /// Sends the held cases, with the classes known by now.
    fn release(&mut self) -> Result<(), ReportError> {
        for held in std::mem::take(&mut self.held) {
            self.deliver(held)?;
        }
        Ok(())
    }

    fn deliver(&mut self, held: Held) -> Result<(), ReportError> {
        self.open_suite()?;
        let mut case = held.case;
        case.classname = held.test_id.and_then(|id| self.classes.get(&id).cloned());
        self.send(ReportEvent::Case(case), held.pos)
    }
}

#[cfg(test)]
mod two_pass_tests {
    use std::cell::RefCell;

    use super::*;

    const RESULTS_FIRST: &str = concat!(
        r#"<TestRun id="1" name="run" xmlns="http://microsoft.com/schemas/VisualStudio/TeamTest/2010"><Results>"#,
        r#"<UnitTestResult testId="a" testName="t1" outcome="Passed" duration="00:00:01.5000000"/>"#,
        r#"<UnitTestResult testId="b" testName="t2" outcome="Failed"><Output><StdOut>lots of output</StdOut><ErrorInfo><Message>m</Message></ErrorInfo></Output></UnitTestResult>"#,
        r#"</Results><TestDefinitions><UnitTest id="a" name="t1"><TestMethod className="Ns.C" name="t1"/></UnitTest>"#,
        r#"<UnitTest id="b" name="t2"><TestMethod className="Ns.D" name="t2"/></UnitTest></TestDefinitions></TestRun>"#
    );

    fn xml() -> XmlReader<&'static [u8]> {
        XmlReader::new(RESULTS_FIRST.as_bytes()).unwrap()
    }

    #[test]
    fn the_second_pass_sends_results_as_they_are_read() {
        let classes = read_classes(&mut xml()).unwrap();
        assert_eq!(classes.get("b").map(String::as_str), Some("Ns.D"));
        let got = RefCell::new(Vec::new());
        let mut second = Trx::new(
            |e| {
                if let ReportEvent::Case(c) = e {
                    got.borrow_mut().push((c.name, c.classname));
                }
                Ok(())
            },
            Mode::Stream,
        );
        second.classes = classes;
        second.defined = true;
        run(&mut second, &mut xml()).unwrap();
        assert_eq!(second.max_held, 0, "nothing is held on the second pass");
        drop(second);
        assert_eq!(
            got.into_inner(),
            [
                ("t1".to_owned(), Some("Ns.C".to_owned())),
                ("t2".to_owned(), Some("Ns.D".to_owned()))
            ]
        );
        // The one-pass stream read holds both until the definitions.
        let mut stream = Trx::new(|_| Ok(()), Mode::Stream);
        run(&mut stream, &mut xml()).unwrap();
        assert_eq!(stream.max_held, 2);
    }
}
