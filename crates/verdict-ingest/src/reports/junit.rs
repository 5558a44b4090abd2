//! The JUnit XML reader (Ant, Maven Surefire/Failsafe and Jenkins flavours).
//!
//! Owns the mapping from JUnit elements to [`ReportEvent`]s. JUnit XML has no
//! single specification; this follows what the common writers and readers
//! agree on:
//!
//! - Apache Ant's `junit` task and its `XMLJUnitResultFormatter`
//!   (<https://ant.apache.org/manual/Tasks/junit.html>);
//! - Maven Surefire's report schema
//!   (<https://maven.apache.org/surefire/maven-surefire-plugin/xsd/surefire-test-report-3.0.xsd>)
//!   and its rerun mode, which adds `flakyFailure`, `flakyError`,
//!   `rerunFailure` and `rerunError`
//!   (<https://maven.apache.org/surefire/maven-surefire-plugin/examples/rerun-failing-tests.html>);
//! - the Jenkins JUnit plugin's reading of the format, as summarised by the
//!   community JUnit XSD (<https://github.com/windyroad/JUnit-Schema>).
//!
//! Rules: `<testsuites>` is an optional wrapper that produces no event;
//! `<testsuite>` may nest; a suite's `SuiteStart` waits for its leading
//! `<properties>` and is sent at its first `<testcase>` or nested suite (or at
//! its end), so properties written after the cases are not reported. Suite
//! level `<system-out>`/`<system-err>`, `<testcase>` outside a suite, and
//! unknown elements and attributes are ignored. The first `<failure>` or
//! `<error>` decides a failed outcome and beats `<skipped>`; with neither, a
//! `rerun*` element makes the case failed (with its details) while `flaky*`
//! elements leave it passed; all four are kept as [`Rerun`]s.

use std::borrow::Cow;
use std::io::BufRead;

use super::model::{CaseOutcome, Failure, ReportCase, ReportError, ReportEvent};
use super::repeats::{RepeatPolicy, Repeats};

mod capture;
use super::source::Pos;
use super::values::{non_empty, seconds_to_ms};
use super::xml::{Element, Handler, XmlReader, drive};

/// Reads a JUnit document from `xml`, sending its events to `emit`.
pub(crate) fn read<R, F>(xml: &mut XmlReader<R>, emit: F) -> Result<(), ReportError>
where
    R: BufRead,
    F: FnMut(ReportEvent) -> Result<(), String>,
{
    let mut reader = JUnit {
        emit,
        stack: Vec::new(),
        pending: None,
        case: None,
        capture: None,
        property: None,
        root_timestamp: None,
        repeats: Repeats::new(RepeatPolicy::Invocations),
        suite_names: Vec::new(),
        empty_failure_skips: false,
    };
    drive(xml, &mut reader)
}

/// What an open element is to the reader.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Frame {
    Wrapper,
    Suite,
    Properties,
    Property,
    Case,
    /// A case child whose text and attributes are kept (see [`Slot`]).
    Capture,
    /// The `stackTrace` child of a Surefire rerun element.
    StackTrace,
    Ignored,
}

/// Which case child is being captured.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Slot {
    Failure,
    Error,
    Skipped,
    Out,
    Err,
    Flaky { failed: bool },
    Rerun { failed: bool },
}

impl Slot {
    fn of(name: &[u8]) -> Option<Self> {
        Some(match name {
            b"failure" => Self::Failure,
            b"error" => Self::Error,
            b"skipped" => Self::Skipped,
            b"system-out" => Self::Out,
            b"system-err" => Self::Err,
            b"flakyFailure" => Self::Flaky { failed: true },
            b"flakyError" => Self::Flaky { failed: false },
            b"rerunFailure" => Self::Rerun { failed: true },
            b"rerunError" => Self::Rerun { failed: false },
            _ => return None,
        })
    }
}

/// A suite whose `SuiteStart` has not been sent yet.
struct PendingSuite {
    pos: Pos,
    name: String,
    timestamp: Option<String>,
    properties: Vec<(String, String)>,
}

/// The open `<testcase>`.
struct CaseState {
    pos: Pos,
    case: ReportCase,
    outcome: Option<CaseOutcome>,
    /// Details of the first `rerunFailure`/`rerunError`.
    rerun_failure: Option<Failure>,
    /// `<failure>`/`<error>` elements after the first: vitest writes one per
    /// failed try of a retried test.
    extra_failures: u32,
    /// A case made for a `<failure>`/`<error>` written directly in a suite.
    suite_level: bool,
}

/// The open failure, error, skipped, output or rerun element of the case.
struct Capture {
    slot: Slot,
    message: Option<String>,
    kind: Option<String>,
    text: String,
    stack: Option<String>,
}

/// The open `<property>`.
struct PropertyState {
    name: Option<String>,
    value: Option<String>,
    text: String,
}

struct JUnit<F> {
    emit: F,
    stack: Vec<Frame>,
    pending: Option<PendingSuite>,
    case: Option<CaseState>,
    capture: Option<Capture>,
    property: Option<PropertyState>,
    /// `timestamp` of `<testsuites>` (nextest, pytest-xdist), for suites without one.
    root_timestamp: Option<String>,
    /// Names repeated in a suite: retries for pytest, invocations otherwise.
    repeats: Repeats,
    /// The names of the open suites, innermost last.
    suite_names: Vec<String>,
    /// cucumber-js: an empty `<failure/>` is a pending or undefined step.
    empty_failure_skips: bool,
}

impl<F: FnMut(ReportEvent) -> Result<(), String>> Handler for JUnit<F> {
    fn start(&mut self, element: &Element<'_>, pos: Pos) -> Result<(), ReportError> {
        let top = self.stack.last().copied();
        let frame = match (top, element.name()) {
            (None | Some(Frame::Wrapper), b"testsuites") => {
                let [name, timestamp] = element.attrs(["name", "timestamp"])?;
                if let Some(t) = non_empty(timestamp) {
                    self.root_timestamp = Some(t);
                }
                self.choose_policy(name.as_deref(), pos)?;
                Frame::Wrapper
            }
            (None | Some(Frame::Wrapper | Frame::Suite), b"testsuite") => {
                self.flush()?;
                self.open_suite(element, pos)?
            }
            (None, other) => {
                let found = String::from_utf8_lossy(other);
                let msg = format!(
                    "expected a JUnit report (<testsuites> or <testsuite>), found <{found}>"
                );
                return Err(pos.error(msg));
            }
            (Some(Frame::Suite), b"testcase") => {
                self.flush()?;
                self.open_case(element, pos)?
            }
            (Some(Frame::Suite), b"properties") if self.pending.is_some() => Frame::Properties,
            (Some(Frame::Suite), name @ (b"error" | b"failure")) => {
                // Ant writes a class that failed to load as an error of the
                // suite itself: it becomes a failed case, never lost.
                self.flush()?;
                self.open_suite_failure(pos);
                let slot = if name == b"error" {
                    Slot::Error
                } else {
                    Slot::Failure
                };
                self.open_capture(element, slot)?
            }
            (Some(Frame::Properties), b"property") => {
                let [name, value] = element.attrs(["name", "value"])?;
                let text = String::new();
                self.property = Some(PropertyState { name, value, text });
                Frame::Property
            }
            (Some(Frame::Case), name) => match Slot::of(name) {
                Some(slot) => self.open_capture(element, slot)?,
                None => Frame::Ignored,
            },
            (Some(Frame::Capture), b"stackTrace") if self.capturing_rerun() => Frame::StackTrace,
            _ => Frame::Ignored,
        };
        if matches!(
            frame,
            Frame::Properties | Frame::StackTrace | Frame::Ignored
        ) {
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
                self.suite_names.pop();
                self.send(ReportEvent::SuiteEnd, pos)
            }
            Some(Frame::Property) => {
                self.close_property();
                Ok(())
            }
            Some(Frame::Case) => self.close_case(),
            Some(Frame::Capture) => {
                self.close_capture();
                if self.case.as_ref().is_some_and(|c| c.suite_level) {
                    return self.close_case();
                }
                Ok(())
            }
            _ => Ok(()),
        }
    }

    fn text(&mut self, text: &str) {
        match self.stack.last() {
            Some(Frame::Capture) => {
                if let Some(capture) = &mut self.capture {
                    capture.text.push_str(text);
                }
            }
            Some(Frame::StackTrace) => {
                if let Some(capture) = &mut self.capture {
                    capture.stack.get_or_insert_default().push_str(text);
                }
            }
            Some(Frame::Property) => {
                if let Some(property) = &mut self.property {
                    property.text.push_str(text);
                }
            }
            _ => {}
        }
    }
}

impl<F: FnMut(ReportEvent) -> Result<(), String>> JUnit<F> {
    fn send(&mut self, event: ReportEvent, pos: Pos) -> Result<(), ReportError> {
        self.repeats
            .event(event, &mut self.emit)
            .map_err(|message| pos.error(message))
    }

    /// pytest (`<testsuites name="pytest tests">`, `<testsuite
    /// name="pytest">`) writes every try of a rerun test as its own
    /// `<testcase>`, the earlier ones without their failure
    /// (pytest-rerunfailures 16): there a repeated name is a retry. Other
    /// writers repeat names for invocations of parameterised tests.
    ///
    /// jest-junit (`<testsuites name="jest tests">`) names every test with
    /// its full title, so a repeat is the same test written twice (a suite
    /// that failed to run, as an error and again as a failure): the worse
    /// one counts. cucumber-js (`<testsuite name="Cucumber">`) writes a
    /// pending or undefined step as an empty `<failure/>`.
    fn choose_policy(&mut self, name: Option<&str>, pos: Pos) -> Result<(), ReportError> {
        let policy = match name {
            Some("pytest tests" | "pytest") => RepeatPolicy::RetriesLastWins,
            Some("jest tests") => RepeatPolicy::SameTest,
            Some("Cucumber" | "cucumber-js") => {
                self.empty_failure_skips = true;
                return Ok(());
            }
            _ => return Ok(()),
        };
        self.repeats
            .set_policy(policy, &mut self.emit)
            .map_err(|message| pos.error(message))
    }

    /// The case standing for a failure written directly in the innermost
    /// suite: class = the suite's name, name `[suite error]`.
    fn open_suite_failure(&mut self, pos: Pos) {
        let suite = self.suite_names.last().cloned();
        let mut case = self.new_case(pos);
        case.case.name = "[suite error]".to_owned();
        case.case.classname = suite.filter(|s| !s.is_empty());
        case.suite_level = true;
        self.case = Some(case);
    }

    fn new_case(&self, pos: Pos) -> CaseState {
        CaseState {
            pos,
            case: ReportCase {
                name: String::new(),
                classname: None,
                duration_ms: 0,
                outcome: CaseOutcome::Passed,
                ..ReportCase::default()
            },
            outcome: None,
            rerun_failure: None,
            extra_failures: 0,
            suite_level: false,
        }
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

    fn open_suite(&mut self, element: &Element<'_>, pos: Pos) -> Result<Frame, ReportError> {
        let [name, timestamp] = element.attrs(["name", "timestamp"])?;
        self.choose_policy(name.as_deref(), pos)?;
        self.suite_names.push(name.clone().unwrap_or_default());
        self.pending = Some(PendingSuite {
            pos,
            name: name.unwrap_or_default(),
            timestamp: non_empty(timestamp).or_else(|| self.root_timestamp.clone()),
            properties: Vec::new(),
        });
        Ok(Frame::Suite)
    }

    fn open_case(&mut self, element: &Element<'_>, pos: Pos) -> Result<Frame, ReportError> {
        let [name, classname, time, timestamp, file] =
            element.attrs_ref(["name", "classname", "time", "timestamp", "file"])?;
        self.case = Some(CaseState {
            pos,
            case: ReportCase {
                name: name.map(Cow::into_owned).unwrap_or_default(),
                classname: non_empty(classname.map(Cow::into_owned)),
                duration_ms: seconds_to_ms(time.as_deref()),
                outcome: CaseOutcome::Passed,
                system_out: None,
                system_err: None,
                reruns: Vec::new(),
                retries: 0,
                flaky: false,
                started_ms: timestamp
                    .as_deref()
                    .and_then(verdict_domain::time::parse_report_time),
                file: non_empty(file.map(Cow::into_owned)),
            },
            outcome: None,
            rerun_failure: None,
            extra_failures: 0,
            suite_level: false,
        });
        Ok(Frame::Case)
    }

    fn open_capture(&mut self, element: &Element<'_>, slot: Slot) -> Result<Frame, ReportError> {
        let [message, kind] = element.attrs(["message", "type"])?;
        self.capture = Some(Capture {
            slot,
            message: non_empty(message),
            kind: non_empty(kind),
            text: String::new(),
            stack: None,
        });
        Ok(Frame::Capture)
    }

    fn capturing_rerun(&self) -> bool {
        self.capture
            .as_ref()
            .is_some_and(|c| matches!(c.slot, Slot::Flaky { .. } | Slot::Rerun { .. }))
    }

    fn close_property(&mut self) {
        let Some(property) = self.property.take() else {
            return;
        };
        let (Some(name), Some(suite)) = (property.name, &mut self.pending) else {
            return;
        };
        let value = property
            .value
            .unwrap_or_else(|| property.text.trim().to_owned());
        suite.properties.push((name, value));
    }
}
