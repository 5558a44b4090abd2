//! `go test -json` to the neutral event stream.
//!
//! Owns the reading of test2json output (<https://pkg.go.dev/cmd/test2json>):
//! one JSON object per line, `{"Time", "Action", "Package", "Test",
//! "Elapsed" (seconds), "Output"}` with actions `start`, `run`, `pause`,
//! `cont`, `pass`, `bench`, `fail`, `output` and `skip`. The file is read
//! line by line; each line is parsed on its own.
//!
//! Events: a suite per package, opened when its first case is ready (with
//! the time of the package's first line) and closed by the package's final
//! `pass`/`fail`/`skip` line without `Test`, or at the end of the file. A
//! case per test (subtests such as `TestA/sub` are cases of their own,
//! classname = package) when its `pass`, `fail`, `skip` or `bench` line
//! arrives, with the test's output as `system_out`, and for a failure also
//! as the failure text (its first line as message); a skip's first output
//! line is its message. test2json's framing lines (`=== RUN`, `--- FAIL:`
//! and the like) are left out. Tests still running when their package ends
//! become errors (`the test did not finish`), or passes when the package
//! passed (benchmarks get no result line of their own). A package that
//! fails with no failed test (a build failure, a panic in `TestMain`) gets
//! an error case `[build failed]` or `[package failed]` holding the
//! package's output, after the compiler output that Go 1.24+ reports in
//! `build-output` lines (which name an `ImportPath` instead of a package).
//! Blank lines are skipped. Lines that do not start with `{` are text Go
//! wrote into the stream: Go 1.19's `FAIL\t<package> [build failed]` makes
//! that package's `[build failed]` case; other text is kept as its output.
//! A line that starts with `{` and is not a JSON event is an error.
//!
//! Memory stays bounded: each test's (and package's) output is capped at
//! [`OUTPUT_CAP`] bytes, and a line at [`MAX_LINE`] bytes.

use std::io::BufRead;

use serde::Deserialize;

use super::{JsonReportError, io_error, json_error, ms_from};

mod text_lines;
use crate::reports::values::first_line;
use crate::reports::{CaseOutcome, Failure, ReportCase, ReportEvent};

/// The output kept per test or package: the first 64 KiB, then a marker.
/// A chatty test can print megabytes; the start of its output (with the
/// first failure) is what users need.
pub(super) const OUTPUT_CAP: usize = 64 * 1024;

/// The longest line accepted; test2json splits long output lines, so real
/// lines stay far below this.
pub(super) const MAX_LINE: usize = 1024 * 1024;

/// Packages open (started, not finished) at once: `go test` runs a few in
/// parallel, so real files stay far below; lookups are linear in it.
pub(super) const MAX_OPEN_PACKAGES: usize = 10_000;

/// Appended once when output was cut at [`OUTPUT_CAP`].
const TRUNCATED: &str = "\n[output truncated at 64 KiB]\n";

/// Lines test2json adds around tests, which say nothing the case doesn't.
const FRAMING: [&str; 8] = [
    "=== RUN",
    "=== PAUSE",
    "=== CONT",
    "=== NAME",
    "--- PASS:",
    "--- FAIL:",
    "--- SKIP:",
    "--- BENCH:",
];

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct Event {
    time: Option<String>,
    action: String,
    package: Option<String>,
    test: Option<String>,
    elapsed: Option<f64>,
    output: Option<String>,
    failed_build: Option<String>,
    import_path: Option<String>,
}

/// Output collected up to [`OUTPUT_CAP`].
#[derive(Default)]
struct Output {
    text: String,
    truncated: bool,
    /// `Time` of the test's `run` line.
    started: Option<String>,
}

impl Output {
    fn push(&mut self, text: &str) {
        if self.truncated {
            return;
        }
        let room = OUTPUT_CAP.saturating_sub(self.text.len());
        if text.len() <= room {
            self.text.push_str(text);
            return;
        }
        self.text.push_str(&text[..text.floor_char_boundary(room)]);
        self.text.push_str(TRUNCATED);
        self.truncated = true;
    }
}

/// A package seen in the file and not finished yet.
struct Package {
    name: String,
    /// `Time` of its first line.
    time: Option<String>,
    output: Output,
    /// Whether a failed or errored case was reported for it.
    failed_case: bool,
    /// Whether its suite was opened (and maybe closed again when packages
    /// interleave).
    reported: bool,
    /// Tests that started and have no result yet, in order of appearance.
    running: Vec<(String, Output)>,
}

struct State<'a, F> {
    on_event: &'a mut F,
    packages: Vec<Package>,
    /// The package whose suite is open.
    open: Option<String>,
    /// Compiler output by import path (`build-output`, Go 1.24+), kept
    /// until a package reports that its build failed.
    builds: Vec<(String, Output)>,
    /// Packages whose build failed in a text line (Go 1.19), finished at
    /// the next JSON line so that they carry its `Time`: the same file then
    /// always gives the same start.
    deferred: Vec<String>,
    /// `Time` of the latest JSON line.
    last_time: Option<String>,
}

/// Reads `go test -json` output, calling `on_event` for each event.
pub(super) fn read<F: FnMut(ReportEvent) -> Result<(), String>>(
    mut reader: impl BufRead,
    on_event: &mut F,
) -> Result<(), JsonReportError> {
    let mut state = State {
        on_event,
        packages: Vec::new(),
        open: None,
        builds: Vec::new(),
        deferred: Vec::new(),
        last_time: None,
    };
    let mut buf = Vec::new();
    let mut line = 0;
    loop {
        buf.clear();
        if read_line(&mut reader, &mut buf, line + 1)? == 0 {
            break;
        }
        line += 1;
        if buf.trim_ascii().is_empty() {
            continue;
        }
        if !buf.trim_ascii_start().starts_with(b"{") {
            // Go before 1.20 writes build failures as plain text between the
            // JSON lines (`FAIL\tpkg [build failed]`).
            let text = String::from_utf8_lossy(&buf);
            state
                .text_line(&text)
                .map_err(|message| at(line, message))?;
            continue;
        }
        let event: Event = serde_json::from_slice(&buf).map_err(|e| {
            let mut err = json_error(&e, line);
            err.message = format!("not a `go test -json` event: {}", err.message);
            err
        })?;
        state.handle(event).map_err(|message| at(line, message))?;
    }
    let last = state.last_time.clone();
    state
        .finish_deferred(last)
        .map_err(|message| at(line.max(1), message))?;
    while !state.packages.is_empty() {
        let finished = state.finish(0, None, None);
        finished.map_err(|message| at(line.max(1), message))?;
    }
    Ok(())
}

/// A callback's error, located at the start of `line`.
fn at(line: u64, message: String) -> JsonReportError {
    JsonReportError {
        line,
        column: 1,
        message,
    }
}

/// The output collected under `key` in `list`, added when missing.
impl<F: FnMut(ReportEvent) -> Result<(), String>> State<'_, F> {
    /// Refuses one more open package past [`MAX_OPEN_PACKAGES`].
    fn check_open_packages(&self) -> Result<(), String> {
        if self.packages.len() >= MAX_OPEN_PACKAGES {
            return Err(format!(
                "more than {MAX_OPEN_PACKAGES} packages are open at once (started and not finished)"
            ));
        }
        Ok(())
    }
}

fn entry<'v>(list: &'v mut Vec<(String, Output)>, key: &str) -> &'v mut Output {
    let at = match list.iter().position(|(k, _)| k == key) {
        Some(at) => at,
        None => {
            list.push((key.to_owned(), Output::default()));
            list.len() - 1
        }
    };
    &mut list[at].1
}

/// Appends one line (with its line break) to `buf`; returns its length, 0
/// at the end of the input.
fn read_line(
    reader: &mut impl BufRead,
    buf: &mut Vec<u8>,
    line: u64,
) -> Result<usize, JsonReportError> {
    loop {
        let available = reader.fill_buf().map_err(io_error)?;
        if available.is_empty() {
            return Ok(buf.len());
        }
        let newline = available.iter().position(|&b| b == b'\n');
        let used = newline.map_or(available.len(), |at| at + 1);
        if buf.len() + used > MAX_LINE {
            return Err(JsonReportError {
                line,
                column: MAX_LINE as u64,
                message: "the line is longer than 1 MiB".to_owned(),
            });
        }
        buf.extend_from_slice(&available[..used]);
        reader.consume(used);
        if newline.is_some() {
            return Ok(buf.len());
        }
    }
}

impl<F: FnMut(ReportEvent) -> Result<(), String>> State<'_, F> {
    fn handle(&mut self, event: Event) -> Result<(), String> {
        if event.time.is_some() {
            self.last_time.clone_from(&event.time);
        }
        self.finish_deferred(event.time.clone())?;
        let Some(name) = event.package.filter(|p| !p.is_empty()) else {
            if event.action == "build-output"
                && let Some(path) = event.import_path
            {
                let output = event.output.as_deref().unwrap_or("");
                entry(&mut self.builds, &path).push(output);
            }
            return Ok(());
        };
        let index = match self.packages.iter().position(|p| p.name == name) {
            Some(index) => index,
            None => {
                self.check_open_packages()?;
                self.packages.push(Package {
                    name,
                    time: event.time.clone(),
                    output: Output::default(),
                    failed_case: false,
                    reported: false,
                    running: Vec::new(),
                });
                self.packages.len() - 1
            }
        };
        let action = event.action.as_str();
        let Some(test) = event.test else {
            match action {
                "output" => self.packages[index]
                    .output
                    .push(event.output.as_deref().unwrap_or("")),
                "pass" | "fail" | "skip" => {
                    self.finish(
                        index,
                        Some(action),
                        event.failed_build.filter(|b| !b.is_empty()),
                    )?;
                }
                _ => {}
            }
            return Ok(());
        };
        let package = &mut self.packages[index];
        match action {
            "run" => {
                entry(&mut package.running, &test).started = event.time;
            }
            "output" => {
                let text = event.output.as_deref().unwrap_or("");
                if !FRAMING.iter().any(|f| text.trim_start().starts_with(f)) {
                    entry(&mut package.running, &test).push(text);
                }
            }
            "pass" | "fail" | "skip" | "bench" => {
                let running = package.running.iter().position(|(t, _)| *t == test);
                let output = running.map(|at| package.running.remove(at).1);
                let elapsed_ms = ms_from(event.elapsed.unwrap_or(0.0) * 1000.0);
                let (text, started) = output.map_or((String::new(), None), |o| (o.text, o.started));
                let mut case = case(test, &package.name, elapsed_ms, action, text);
                case.started_ms = started
                    .as_deref()
                    .and_then(verdict_domain::time::parse_report_time);
                self.emit_case(index, case)?;
            }
            _ => {}
        }
        Ok(())
    }

    /// Reports the package at `index` as finished by `action` (`None` at the
    /// end of the file) and closes its suite.
    fn finish(
        &mut self,
        index: usize,
        action: Option<&str>,
        failed_build: Option<String>,
    ) -> Result<(), String> {
        let running = std::mem::take(&mut self.packages[index].running);
        let unfinished = action
            .filter(|a| matches!(*a, "pass" | "skip"))
            .unwrap_or("");
        for (test, output) in running {
            let mut case = case(test, &self.packages[index].name, 0, unfinished, output.text);
            case.started_ms = output
                .started
                .as_deref()
                .and_then(verdict_domain::time::parse_report_time);
            self.emit_case(index, case)?;
        }
        let package = &self.packages[index];
        if action == Some("fail") && !package.failed_case {
            let build = failed_build.map(|path| {
                let at = self.builds.iter().position(|(p, _)| *p == path);
                at.map(|at| self.builds.remove(at).1.text)
                    .unwrap_or_default()
            });
            let case = package_failure(package, build);
            self.emit_case(index, case)?;
        }
        // A package without cases still gets its (empty) suite, but one
        // that was reported and closed in between is not reopened just to
        // be closed again.
        let package = self.packages.remove(index);
        if self.open.as_deref() == Some(package.name.as_str()) {
            self.open = None;
        } else if package.reported {
            return Ok(());
        } else {
            self.close_open()?;
            (self.on_event)(suite_start(&package))?;
        }
        (self.on_event)(ReportEvent::SuiteEnd)
    }

    fn emit_case(&mut self, index: usize, case: ReportCase) -> Result<(), String> {
        if matches!(
            case.outcome,
            CaseOutcome::Failed(_) | CaseOutcome::Errored(_)
        ) {
            self.packages[index].failed_case = true;
        }
        self.open_suite(index)?;
        (self.on_event)(ReportEvent::Case(case))
    }

    /// Makes the suite of the package at `index` the open one.
    fn open_suite(&mut self, index: usize) -> Result<(), String> {
        if self.open.as_deref() == Some(self.packages[index].name.as_str()) {
            return Ok(());
        }
        self.close_open()?;
        let package = &mut self.packages[index];
        package.reported = true;
        self.open = Some(package.name.clone());
        let event = suite_start(package);
        (self.on_event)(event)
    }

    /// Closes the open suite, if any.
    fn close_open(&mut self) -> Result<(), String> {
        if self.open.take().is_some() {
            (self.on_event)(ReportEvent::SuiteEnd)?;
        }
        Ok(())
    }
}

/// The error case of a package that failed with no failed test: its build
/// output (for a build failure) followed by the package's output.
fn package_failure(package: &Package, build: Option<String>) -> ReportCase {
    let name = if build.is_some() {
        "[build failed]"
    } else {
        "[package failed]"
    };
    let text = build.unwrap_or_default() + &package.output.text;
    // `# import/path` only heads the compiler's messages.
    let message = text
        .lines()
        .map(str::trim)
        .find(|l| !l.is_empty() && !l.starts_with('#'));
    let message = message
        .unwrap_or("the package failed outside its tests")
        .to_owned();
    let mut case = case(name.to_owned(), &package.name, 0, "", String::new());
    case.outcome = CaseOutcome::Errored(Failure {
        message: Some(message),
        kind: None,
        text,
    });
    case
}

/// The suite of a package: its import path, with the time of its first line.
fn suite_start(package: &Package) -> ReportEvent {
    ReportEvent::SuiteStart {
        name: package.name.clone(),
        timestamp: package.time.clone(),
        properties: Vec::new(),
    }
}

/// The case of a test that ended with `action`; `""` means the file ended
/// first.
fn case(name: String, package: &str, duration_ms: i64, action: &str, output: String) -> ReportCase {
    let outcome = match action {
        "pass" | "bench" => CaseOutcome::Passed,
        "skip" => CaseOutcome::Skipped {
            message: first_line(&output),
        },
        "fail" => CaseOutcome::Failed(Failure {
            message: first_line(&output),
            kind: None,
            text: output.clone(),
        }),
        _ => CaseOutcome::Errored(Failure {
            message: Some("the test did not finish".to_owned()),
            kind: None,
            text: output.clone(),
        }),
    };
    ReportCase {
        name,
        classname: Some(package.to_owned()),
        duration_ms,
        outcome,
        system_out: (!output.is_empty()).then_some(output),
        system_err: None,
        reruns: Vec::new(),
        retries: 0,
        flaky: false,
        started_ms: None,
        file: None,
    }
}
