//! Test reports written as JSON: Cucumber JSON, CTRF and `go test -json`.
//!
//! Owns detection of the three formats from content ([`detect_json_format`])
//! and their streaming readers:
//!
//! - [`read_json_report`] turns any of them into the neutral
//!   [`ReportEvent`] stream the XML readers
//!   produce, so the server and the CLI import them through the same code;
//! - [`read_cucumber`] turns Cucumber JSON into Octane gherkin runs
//!   ([`GherkinRun`]), one per feature, because Octane keeps BDD results as
//!   features, scenarios and steps rather than as flat test cases.
//!
//! Format references:
//! - Cucumber JSON: the `json` formatter of cucumber-jvm
//!   (`io.cucumber.core.plugin.JsonFormatter`) and of cucumber-js
//!   (<https://github.com/cucumber/cucumber-js/blob/main/docs/formatters.md>),
//!   <https://github.com/cucumber/cucumber-json-schema>;
//! - CTRF, the Common Test Report Format: <https://ctrf.io/docs/specification/overview>
//!   and its JSON schema <https://github.com/ctrf-io/ctrf/blob/main/schema/ctrf.schema.json>;
//! - `go test -json`: the output of `go tool test2json`, documented at
//!   <https://pkg.go.dev/cmd/test2json>.
//!
//! Every reader holds one feature, one test or one line in memory at a time:
//! the Cucumber and CTRF readers walk the top-level array with serde
//! `DeserializeSeed`s and hand each element over as soon as it is complete;
//! `go test -json` is read line by line. Problems are reported with their
//! line and column ([`JsonReportError`]).

mod ctrf;
mod cucumber;
mod cucumber_events;
mod detect;
mod gherkin_text;
mod gotest;

use std::io::{self, BufRead, Chain, Cursor, Read};

use verdict_domain::payload::GherkinRun;

use super::ReportEvent;

pub use detect::detect_json_format;

/// A JSON test report format; chosen by [`detect_json_format`] from content,
/// or by the caller.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum JsonFormat {
    /// The Cucumber JSON report (`--plugin json` in cucumber-jvm,
    /// `--format json` in cucumber-js): an array of features.
    Cucumber,
    /// CTRF, the Common Test Report Format (<https://ctrf.io>): one object
    /// whose `results` hold the tool and the tests.
    Ctrf,
    /// `go test -json` (test2json): one JSON event per line.
    GoTest,
}

/// Why a JSON report could not be read, located by 1-based line and column
/// so users can find the problem in the file.
///
/// Columns count bytes, as serde_json does, and point at the last byte read
/// when the problem showed (the closing quote of a bad value, the `}` of an
/// object missing a field). An error returned by a callback is located where
/// reading stopped: after the feature or test that produced it (serde_json
/// may already have peeked at the next one), or at column 1 of the `go test
/// -json` line; its message is kept unchanged. A failure of the underlying
/// reader has line and column 0.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("line {line}, column {column}: {message}")]
pub struct JsonReportError {
    /// 1-based line.
    pub line: u64,
    /// 1-based column, in bytes.
    pub column: u64,
    /// What is wrong.
    pub message: String,
}

/// Streams the report in `reader`, read as `format`, calling `on_event` for
/// each event in document order.
///
/// CTRF and `go test -json` map to suites and cases as described in their
/// modules; Cucumber JSON gives one suite per feature (named after it, with
/// the feature file as property `uri`) holding one case per scenario, for
/// callers that do not need Octane's gherkin model ([`read_cucumber`]).
/// Stops at the first problem; events already delivered stay delivered, so
/// callers that need all-or-nothing should stage them.
///
/// ```
/// use verdict_ingest::reports::ReportEvent;
/// use verdict_ingest::reports::json::{detect_json_format, read_json_report};
///
/// let report = br#"{"results":{"tool":{"name":"jest"},"tests":[
///   {"name":"adds","status":"passed","duration":12}]}}"#;
/// let format = detect_json_format(report).ok_or("not a JSON report")?;
/// let mut names = Vec::new();
/// read_json_report(&report[..], format, |event| {
///     if let ReportEvent::Case(case) = event {
///         names.push((case.name, case.duration_ms));
///     }
///     Ok(())
/// })?;
/// assert_eq!(names, [("adds".to_owned(), 12)]);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn read_json_report<R: BufRead>(
    reader: R,
    format: JsonFormat,
    mut on_event: impl FnMut(ReportEvent) -> Result<(), String>,
) -> Result<(), JsonReportError> {
    let reader = without_bom(reader)?;
    match format {
        JsonFormat::Ctrf => ctrf::read(reader, &mut on_event),
        JsonFormat::GoTest => gotest::read(reader, &mut on_event),
        JsonFormat::Cucumber => cucumber::read(reader, |run, started| {
            for event in cucumber_events::run_events(run, started) {
                on_event(event)?;
            }
            Ok(())
        }),
    }
}

/// Streams Cucumber JSON (cucumber-jvm or cucumber-js) from `reader` as one
/// Octane gherkin run per feature, calling `on_run` as soon as each feature
/// has been read, so only one feature is in memory at a time.
///
/// Cucumber JSON has no reliable start time: `feature.started` is the
/// earliest `start_timestamp` of the feature's scenarios (cucumber-jvm 6+
/// writes them) and `started_default_ms` otherwise. `feature.file` is a
/// Gherkin text rebuilt from the report, since the report does not carry the
/// original file.
///
/// Statuses: a scenario is `Failed` when one of its steps, hooks or the
/// background run before it is failed or ambiguous, `Skipped` when a step
/// is skipped, pending or undefined, and `Passed` otherwise; the
/// run is `Failed` when a scenario failed, `Passed` when one passed, and
/// `Skipped` otherwise. Durations are nanoseconds in the report and
/// milliseconds in the run. cucumber-jvm repeats the background before every
/// scenario: the run lists it once, each step with its worst status.
///
/// ```
/// use verdict_domain::status::RunStatus;
/// use verdict_ingest::reports::json::read_cucumber;
///
/// let report = br#"[{"uri":"features/a.feature","name":"A","keyword":"Feature","elements":[
///   {"type":"scenario","keyword":"Scenario","name":"s","steps":[
///     {"keyword":"Given ","name":"x","result":{"status":"passed","duration":1500000}}]}]}]"#;
/// let mut runs = Vec::new();
/// read_cucumber(&report[..], 1_700_000_000_000, |run| {
///     runs.push(run);
///     Ok(())
/// })?;
/// assert_eq!(runs[0].status, RunStatus::Passed);
/// assert_eq!(runs[0].feature.scenarios[0].steps[0].duration, 2);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn read_cucumber<R: BufRead>(
    reader: R,
    started_default_ms: i64,
    mut on_run: impl FnMut(GherkinRun) -> Result<(), String>,
) -> Result<(), JsonReportError> {
    let reader = without_bom(reader)?;
    cucumber::read(reader, |mut run, started| {
        run.feature.started = started.unwrap_or(started_default_ms);
        on_run(run)
    })
}

/// The UTF-8 byte order mark some Windows tools write before JSON.
const BOM: &[u8] = b"\xEF\xBB\xBF";

/// `reader` without a leading byte order mark, which serde_json refuses.
fn without_bom<R: BufRead>(mut reader: R) -> Result<Chain<Cursor<Vec<u8>>, R>, JsonReportError> {
    let mut head = Vec::with_capacity(BOM.len());
    while head.len() < BOM.len() {
        let buf = reader.fill_buf().map_err(io_error)?;
        if buf.is_empty() {
            break;
        }
        let n = (BOM.len() - head.len()).min(buf.len());
        head.extend_from_slice(&buf[..n]);
        reader.consume(n);
    }
    if head == BOM {
        head.clear();
    }
    Ok(Cursor::new(head).chain(reader))
}

/// A failure of the underlying reader.
fn io_error(err: io::Error) -> JsonReportError {
    JsonReportError {
        line: 0,
        column: 0,
        message: format!("could not read the report: {err}"),
    }
}

/// Converts a serde_json error, whose `Display` appends the position, into
/// a [`JsonReportError`] holding the bare message. `first_line` is the line
/// of the document where serde_json's line 1 is (for line-by-line reading).
fn json_error(err: &serde_json::Error, first_line: u64) -> JsonReportError {
    if err.is_io() {
        return JsonReportError {
            line: 0,
            column: 0,
            message: format!("could not read the report: {err}"),
        };
    }
    let (line, column) = (err.line() as u64, err.column() as u64);
    let shown = err.to_string();
    let suffix = format!(" at line {line} column {column}");
    let message = shown.strip_suffix(&suffix).unwrap_or(&shown).to_owned();
    JsonReportError {
        line: line.max(1) + first_line - 1,
        // serde_json reports column 0 right after a line break.
        column: column.max(1),
        message,
    }
}

/// Milliseconds from nanoseconds (Cucumber step durations), rounded half up;
/// negative or non-finite values give 0.
fn ns_to_ms(ns: f64) -> i64 {
    ms_from(ns / 1_000_000.0)
}

/// Rounds a millisecond count from a report to an `i64`; negative or
/// non-finite values give 0 (a bad duration should not cost the import).
fn ms_from(ms: f64) -> i64 {
    if ms.is_finite() && ms > 0.0 {
        // `as` saturates for values beyond `i64`.
        ms.round() as i64
    } else {
        0
    }
}
