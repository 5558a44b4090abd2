//! The TestNG XML reader (`testng-results.xml`).
//!
//! Owns the mapping from the report TestNG's `XMLReporter` writes to
//! [`ReportEvent`]s. TestNG documents the report only briefly (section
//! "Logging and results", "XML Reports" of <https://testng.org/>); element
//! and attribute names follow `org.testng.reporters.XMLReporterConfig` and
//! `XMLSuiteResultWriter` (<https://github.com/testng-team/testng>), the
//! paths Bamboo's TestNG parser lists
//! (<https://docs.atlassian.com/atlassian-bamboo/9.0.1/com/atlassian/bamboo/plugins/testresultparser/testng/package-summary.html>)
//! and what the Jenkins TestNG plugin reads
//! (<https://plugins.jenkins.io/testng-plugin/>).
//!
//! Rules:
//!
//! - `<testng-results>` produces no event; its `<reporter-output>` and
//!   summary counts are ignored;
//! - `<suite>` is a suite and each of its `<test>`s a suite nested in it,
//!   named by `name` and stamped with `started-at`;
//! - `<class>` produces no event: its `name` (prefixed with `package` when
//!   the report splits them) is the class of its methods;
//! - a `<test-method>` is a case unless `is-config="true"` (`@Before*` and
//!   `@After*` methods are setup, not tests, and are skipped whole). Its
//!   name is `name`, followed by the data-provider arguments from
//!   `<params>` in parentheses (`add(1, 2)`, `null` for `is-null` values) so
//!   each invocation keeps its own name; `duration-ms` is its duration;
//! - `status` `PASS` passes, `FAIL` fails and `SKIP` skips;
//!   `SUCCESS_PERCENTAGE_FAILURE` (an invocation that failed while the
//!   method stayed within its `successPercentage`) passes, as TestNG counts
//!   it. Details come from `<exception class>` with its `<message>` and
//!   `<full-stacktrace>` (or `<short-stacktrace>`); a skip's message is the
//!   exception's message;
//! - the `<line>`s of a method's `<reporter-output>` (`Reporter.log`) are
//!   its standard output, one line each.
//!
//! Groups, attributes and unknown elements and attributes are ignored. A
//! test method without a known `status` is an error, since its outcome
//! cannot be guessed.

use std::io::BufRead;

use super::model::{CaseOutcome, Failure, ReportCase, ReportError, ReportEvent};
use super::repeats::{RepeatPolicy, Repeats};
use super::source::Pos;
use super::values::{non_empty, tidy};
use super::xml::{Element, Handler, XmlReader, drive};

/// Reads a TestNG document from `xml`, sending its events to `emit`.
pub(crate) fn read<R, F>(xml: &mut XmlReader<R>, emit: F) -> Result<(), ReportError>
where
    R: BufRead,
    F: FnMut(ReportEvent) -> Result<(), String>,
{
    let mut reader = TestNg {
        emit,
        stack: Vec::new(),
        class: None,
        method: None,
        repeats: Repeats::new(RepeatPolicy::RetriesLastNotSkipped),
    };
    drive(xml, &mut reader)?;
    reader
        .repeats
        .flush(&mut reader.emit)
        .map_err(|message| ReportError {
            line: 0,
            column: 0,
            message,
        })
}

/// What an open element is to the reader.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Frame {
    Root,
    /// A `<suite>` or `<test>`.
    Suite,
    Class,
    Method,
    /// A configuration method, skipped with everything in it.
    Config,
    Params,
    Param,
    Value,
    Exception,
    Message,
    FullStack,
    ShortStack,
    Reporter,
    Line,
    Ignored,
}

/// The `status` of a test method.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Status {
    Pass,
    Fail,
    Skip,
}

/// The open `<test-method>`.
struct MethodState {
    pos: Pos,
    name: String,
    duration_ms: i64,
    status: Status,
    started_ms: Option<i64>,
    params: Vec<String>,
    kind: Option<String>,
    message: Option<String>,
    full_stack: Option<String>,
    short_stack: Option<String>,
    output: Option<String>,
}

struct TestNg<F> {
    emit: F,
    stack: Vec<Frame>,
    /// Name of the open `<class>`.
    class: Option<String>,
    method: Option<MethodState>,
    /// A retried method is listed once per try, the retried ones `SKIP`.
    repeats: Repeats,
}

impl<F: FnMut(ReportEvent) -> Result<(), String>> Handler for TestNg<F> {
    fn start(&mut self, element: &Element<'_>, pos: Pos) -> Result<(), ReportError> {
        use Frame as Fr;
        let top = self.stack.last().copied();
        let frame = match (top, element.name()) {
            (None, b"testng-results") => Fr::Root,
            (None, other) => {
                let found = String::from_utf8_lossy(other);
                let msg = format!("expected a TestNG report (<testng-results>), found <{found}>");
                return Err(pos.error(msg));
            }
            (Some(Fr::Root), b"suite") => self.open_suite(element, pos)?,
            // A <test> nests in its <suite>, not in another <test>.
            (Some(Fr::Suite), b"test") if self.stack.len() == 2 => self.open_suite(element, pos)?,
            (Some(Fr::Suite), b"class") => {
                let [name, package] = element.attrs(["name", "package"])?;
                self.class = match (non_empty(package), non_empty(name)) {
                    (Some(package), Some(name)) => Some(format!("{package}.{name}")),
                    (_, name) => name,
                };
                Fr::Class
            }
            (Some(Fr::Class), b"test-method") => self.open_method(element, pos)?,
            (Some(Fr::Method), b"params") => Fr::Params,
            (Some(Fr::Params), b"param") => Fr::Param,
            (Some(Fr::Param), b"value") => {
                let [null] = element.attrs(["is-null"])?;
                let value = if null.as_deref() == Some("true") {
                    "null"
                } else {
                    ""
                };
                if let Some(method) = &mut self.method {
                    method.params.push(value.to_owned());
                }
                Fr::Value
            }
            (Some(Fr::Method), b"exception") => {
                let [kind] = element.attrs(["class"])?;
                if let Some(method) = &mut self.method {
                    method.kind = non_empty(kind);
                }
                Fr::Exception
            }
            (Some(Fr::Exception), b"message") => Fr::Message,
            (Some(Fr::Exception), b"full-stacktrace") => Fr::FullStack,
            (Some(Fr::Exception), b"short-stacktrace") => Fr::ShortStack,
            (Some(Fr::Method), b"reporter-output") => Fr::Reporter,
            (Some(Fr::Reporter), b"line") => Fr::Line,
            _ => Fr::Ignored,
        };
        if !matches!(
            frame,
            Fr::Suite | Fr::Class | Fr::Method | Fr::Config | Fr::Value | Fr::Exception
        ) {
            // Attributes are still checked for well-formedness.
            element.attrs([])?;
        }
        self.stack.push(frame);
        Ok(())
    }

    fn end(&mut self, pos: Pos) -> Result<(), ReportError> {
        match self.stack.pop() {
            Some(Frame::Suite) => self.send(ReportEvent::SuiteEnd, pos),
            Some(Frame::Class) => {
                self.class = None;
                Ok(())
            }
            Some(Frame::Method) => self.close_method(),
            Some(Frame::Line) => {
                if let Some(method) = &mut self.method {
                    method.output.get_or_insert_default().push('\n');
                }
                Ok(())
            }
            _ => Ok(()),
        }
    }

    fn text(&mut self, text: &str) {
        let (Some(frame), Some(method)) = (self.stack.last(), &mut self.method) else {
            return;
        };
        let field = match frame {
            Frame::Value => match method.params.last_mut() {
                Some(value) => value,
                None => return,
            },
            Frame::Message => method.message.get_or_insert_default(),
            Frame::FullStack => method.full_stack.get_or_insert_default(),
            Frame::ShortStack => method.short_stack.get_or_insert_default(),
            Frame::Line => method.output.get_or_insert_default(),
            _ => return,
        };
        field.push_str(text);
    }
}

impl<F: FnMut(ReportEvent) -> Result<(), String>> TestNg<F> {
    fn send(&mut self, event: ReportEvent, pos: Pos) -> Result<(), ReportError> {
        self.repeats
            .event(event, &mut self.emit)
            .map_err(|message| pos.error(message))
    }

    fn open_suite(&mut self, element: &Element<'_>, pos: Pos) -> Result<Frame, ReportError> {
        let [name, started] = element.attrs(["name", "started-at"])?;
        let event = ReportEvent::SuiteStart {
            name: name.unwrap_or_default(),
            timestamp: non_empty(started),
            properties: Vec::new(),
        };
        self.send(event, pos)?;
        Ok(Frame::Suite)
    }

    fn open_method(&mut self, element: &Element<'_>, pos: Pos) -> Result<Frame, ReportError> {
        let [name, status, duration, config, started] =
            element.attrs(["name", "status", "duration-ms", "is-config", "started-at"])?;
        if config.as_deref() == Some("true") {
            return Ok(Frame::Config);
        }
        let status = match status.as_deref() {
            Some("PASS" | "SUCCESS_PERCENTAGE_FAILURE") => Status::Pass,
            Some("FAIL") => Status::Fail,
            Some("SKIP") => Status::Skip,
            Some(other) => {
                let msg = format!("test method status '{other}' is not one of PASS, FAIL or SKIP");
                return Err(pos.error(msg));
            }
            None => return Err(pos.error("<test-method> has no 'status' attribute")),
        };
        let duration_ms = duration
            .and_then(|d| d.trim().parse::<i64>().ok())
            .unwrap_or(0)
            .max(0);
        self.method = Some(MethodState {
            pos,
            name: name.unwrap_or_default(),
            duration_ms,
            status,
            started_ms: started
                .as_deref()
                .and_then(verdict_domain::time::parse_report_time),
            params: Vec::new(),
            kind: None,
            message: None,
            full_stack: None,
            short_stack: None,
            output: None,
        });
        Ok(Frame::Method)
    }

    fn close_method(&mut self) -> Result<(), ReportError> {
        let Some(method) = self.method.take() else {
            return Ok(());
        };
        // TestNG indents CDATA inside its elements: messages are trimmed whole.
        let message = non_empty(method.message.as_deref().map(|m| m.trim().to_owned()));
        let outcome = match method.status {
            Status::Pass => CaseOutcome::Passed,
            Status::Fail => {
                let stack = method.full_stack.or(method.short_stack);
                CaseOutcome::Failed(Failure {
                    message,
                    kind: method.kind,
                    text: stack.as_deref().map(tidy).unwrap_or_default(),
                })
            }
            Status::Skip => CaseOutcome::Skipped { message },
        };
        let mut name = method.name.trim().to_owned();
        if !method.params.is_empty() {
            let params: Vec<String> = method.params.iter().map(|p| one_line(p)).collect();
            name = format!("{name}({})", params.join(", "));
        }
        let case = ReportCase {
            name,
            classname: self.class.clone(),
            duration_ms: method.duration_ms,
            outcome,
            system_out: non_empty(method.output),
            system_err: None,
            reruns: Vec::new(),
            retries: 0,
            flaky: false,
            started_ms: method.started_ms,
            file: None,
        };
        self.send(ReportEvent::Case(case), method.pos)
    }
}

/// A data-provider argument as it reads in a test name: TestNG indents the
/// value's CDATA inside `<value>`, and multi-line strings would break the
/// name, so whitespace runs become one space and the ends are trimmed.
fn one_line(value: &str) -> String {
    value.split_whitespace().collect::<Vec<_>>().join(" ")
}
