//! CTRF (Common Test Report Format) to the neutral event stream.
//!
//! Owns the reading of CTRF reports (<https://ctrf.io/docs/specification/overview>,
//! schema <https://github.com/ctrf-io/ctrf/blob/main/schema/ctrf.schema.json>):
//! `{"results": {"tool": {"name", "version"}, "summary": {"start", ...},
//! "tests": [{"name", "status", "duration" (ms), "message", "trace", "suite",
//! "filePath", "retries", "flaky", "retryAttempts", "stdout", "stderr"}]}}`.
//! The `tests` array is walked with a [`DeserializeSeed`] so one test at a
//! time is materialised; everything else in the report is skipped.
//!
//! Events: one suite named after the tool (`ctrf` when the report names
//! none before its tests) holding the tests; within it a nested suite per
//! run of consecutive tests with the same `suite` (a string in early
//! versions of the format, a path from the top-level suite in later ones,
//! joined with ` > ` as CTRF reporters print it). Status `failed` is a
//! failure (message and trace); `skipped`, `pending` and `other` are skips.
//! Earlier failed attempts (`retryAttempts`), or for a `flaky` test without
//! them `retries` attempts, become [`Rerun`]s of the case.

use std::fmt;
use std::io::Read;

use serde::Deserialize;
use serde::de::{self, DeserializeSeed, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};

use super::{JsonReportError, json_error, ms_from};
use crate::reports::{CaseOutcome, Failure, ReportCase, ReportEvent, Rerun};

/// At most this many reruns are recorded from a `retries` count, so a
/// corrupt count cannot exhaust memory.
const MAX_RERUNS: u64 = 100;

/// Reads a CTRF report, calling `on_event` for each event.
pub(super) fn read<F: FnMut(ReportEvent) -> Result<(), String>>(
    reader: impl Read,
    on_event: &mut F,
) -> Result<(), JsonReportError> {
    let mut de = serde_json::Deserializer::from_reader(reader);
    let mut state = State {
        on_event,
        tool: None,
        start: None,
        suite: None,
    };
    Report(&mut state)
        .deserialize(&mut de)
        .and_then(|()| de.end())
        .map_err(|e| json_error(&e, 1))
}

/// What the seeds share: the callback and what was read before the tests.
struct State<'a, F> {
    on_event: &'a mut F,
    tool: Option<Tool>,
    /// `summary.start`, epoch milliseconds.
    start: Option<f64>,
    /// The open nested suite.
    suite: Option<String>,
}

impl<F: FnMut(ReportEvent) -> Result<(), String>> State<'_, F> {
    fn emit<E: de::Error>(&mut self, event: ReportEvent) -> Result<(), E> {
        (self.on_event)(event).map_err(E::custom)
    }
}

#[derive(Deserialize)]
struct Tool {
    name: Option<String>,
    version: Option<String>,
}

#[derive(Deserialize)]
struct Summary {
    start: Option<f64>,
}

/// The keys of the report and of `results` that matter.
#[derive(Deserialize)]
#[serde(field_identifier, rename_all = "lowercase")]
enum Key {
    Results,
    Tool,
    Summary,
    Tests,
    #[serde(other)]
    Other,
}

/// A test's status; anything else is refused where it stands.
#[derive(Deserialize, Clone, Copy, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
enum Status {
    Passed,
    Failed,
    Skipped,
    Pending,
    Other,
}

/// `suite`: a string in early CTRF versions, a path of suites later.
#[derive(Deserialize)]
#[serde(untagged)]
enum SuitePath {
    One(String),
    Path(Vec<String>),
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Test {
    name: String,
    status: Status,
    duration: Option<f64>,
    message: Option<String>,
    trace: Option<String>,
    suite: Option<SuitePath>,
    file_path: Option<String>,
    retries: Option<u64>,
    #[serde(default)]
    flaky: bool,
    /// Epoch milliseconds.
    start: Option<f64>,
    #[serde(default)]
    retry_attempts: Vec<Attempt>,
    #[serde(default)]
    stdout: Vec<String>,
    #[serde(default)]
    stderr: Vec<String>,
}

#[derive(Deserialize)]
struct Attempt {
    status: Status,
    message: Option<String>,
    trace: Option<String>,
}

/// The seed and visitor of the whole report.
struct Report<'s, 'a, F>(&'s mut State<'a, F>);

impl<'de, F: FnMut(ReportEvent) -> Result<(), String>> DeserializeSeed<'de> for Report<'_, '_, F> {
    type Value = ();

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<(), D::Error> {
        deserializer.deserialize_map(self)
    }
}

impl<'de, F: FnMut(ReportEvent) -> Result<(), String>> Visitor<'de> for Report<'_, '_, F> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a CTRF report (an object with `results`)")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        let mut seen = false;
        while let Some(key) = map.next_key::<Key>()? {
            if matches!(key, Key::Results) {
                if std::mem::replace(&mut seen, true) {
                    return Err(de::Error::duplicate_field("results"));
                }
                map.next_value_seed(Results(&mut *self.0))?;
            } else {
                map.next_value::<IgnoredAny>()?;
            }
        }
        if seen {
            Ok(())
        } else {
            Err(de::Error::missing_field("results"))
        }
    }
}

/// The seed and visitor of `results`.
struct Results<'s, 'a, F>(&'s mut State<'a, F>);

impl<'de, F: FnMut(ReportEvent) -> Result<(), String>> DeserializeSeed<'de> for Results<'_, '_, F> {
    type Value = ();

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<(), D::Error> {
        deserializer.deserialize_map(self)
    }
}

impl<'de, F: FnMut(ReportEvent) -> Result<(), String>> Visitor<'de> for Results<'_, '_, F> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("the CTRF `results` object")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        let mut seen = false;
        while let Some(key) = map.next_key::<Key>()? {
            match key {
                Key::Tool => self.0.tool = Some(map.next_value()?),
                Key::Summary => self.0.start = map.next_value::<Summary>()?.start,
                Key::Tests if !seen => {
                    seen = true;
                    map.next_value_seed(Tests(&mut *self.0))?;
                }
                Key::Tests => return Err(de::Error::duplicate_field("tests")),
                Key::Results | Key::Other => {
                    map.next_value::<IgnoredAny>()?;
                }
            }
        }
        if seen {
            Ok(())
        } else {
            Err(de::Error::missing_field("tests"))
        }
    }
}

/// The seed and visitor of `results.tests`.
struct Tests<'s, 'a, F>(&'s mut State<'a, F>);

impl<'de, F: FnMut(ReportEvent) -> Result<(), String>> DeserializeSeed<'de> for Tests<'_, '_, F> {
    type Value = ();

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<(), D::Error> {
        deserializer.deserialize_seq(self)
    }
}

impl<'de, F: FnMut(ReportEvent) -> Result<(), String>> Visitor<'de> for Tests<'_, '_, F> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an array of CTRF tests")
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        let state = self.0;
        let tool = state.tool.take();
        let (name, version) = tool.map_or((None, None), |t| (t.name, t.version));
        let properties = version.map(|v| ("tool.version".to_owned(), v));
        state.emit(ReportEvent::SuiteStart {
            name: name.unwrap_or_else(|| "ctrf".to_owned()),
            timestamp: state
                .start
                .map(|ms| verdict_domain::time::format_iso(ms_from(ms))),
            properties: properties.into_iter().collect(),
        })?;
        while let Some(test) = seq.next_element::<Test>()? {
            let suite = test.suite.as_ref().and_then(SuitePath::joined);
            if suite != state.suite {
                if state.suite.take().is_some() {
                    state.emit(ReportEvent::SuiteEnd)?;
                }
                if let Some(name) = &suite {
                    state.emit(ReportEvent::SuiteStart {
                        name: name.clone(),
                        timestamp: None,
                        properties: Vec::new(),
                    })?;
                }
                state.suite.clone_from(&suite);
            }
            state.emit(ReportEvent::Case(case(test, suite)))?;
        }
        if state.suite.take().is_some() {
            state.emit(ReportEvent::SuiteEnd)?;
        }
        state.emit(ReportEvent::SuiteEnd)
    }
}

impl SuitePath {
    /// The suite as one name; `None` when empty.
    fn joined(&self) -> Option<String> {
        let joined = match self {
            Self::One(name) => name.trim().to_owned(),
            Self::Path(names) => names.join(" > "),
        };
        (!joined.is_empty()).then_some(joined)
    }
}

/// Lines of output as one text; `None` when there are none.
fn lines(lines: Vec<String>) -> Option<String> {
    (!lines.is_empty()).then(|| lines.join("\n"))
}

fn non_empty(text: Option<String>) -> Option<String> {
    text.filter(|t| !t.trim().is_empty())
}

/// The case of one test; `suite` is its joined suite path.
fn case(test: Test, suite: Option<String>) -> ReportCase {
    let failure = |message: Option<String>, trace: Option<String>| Failure {
        message: non_empty(message),
        kind: None,
        text: trace.unwrap_or_default(),
    };
    let retry_attempts_len = test.retry_attempts.len();
    let mut reruns: Vec<Rerun> = test
        .retry_attempts
        .into_iter()
        .filter(|a| a.status == Status::Failed)
        .map(|a| Rerun {
            failed: true,
            failure: failure(a.message, a.trace),
        })
        .collect();
    let (message, trace) = (test.message, test.trace);
    let retries = test
        .retries
        .or_else(|| u64::try_from(retry_attempts_len).ok())
        .unwrap_or(0)
        .min(1_000_000);
    let retries = u32::try_from(retries).unwrap_or(u32::MAX);
    let outcome = match test.status {
        Status::Passed => {
            if test.flaky && reruns.is_empty() {
                // The message and trace of a passed flaky test describe its
                // failed attempts.
                let count = test.retries.unwrap_or(1).clamp(1, MAX_RERUNS);
                let first = failure(message, trace);
                reruns = (0..count)
                    .map(|_| Rerun {
                        failed: true,
                        failure: first.clone(),
                    })
                    .collect();
            }
            CaseOutcome::Passed
        }
        Status::Failed => CaseOutcome::Failed(failure(message, trace)),
        Status::Skipped | Status::Pending | Status::Other => CaseOutcome::Skipped {
            message: non_empty(message),
        },
    };
    let passed = matches!(outcome, CaseOutcome::Passed);
    ReportCase {
        flaky: passed && (test.flaky || retries > 0),
        name: local_name(test.name, suite.as_deref()),
        classname: suite,
        duration_ms: ms_from(test.duration.unwrap_or(0.0)),
        outcome,
        system_out: lines(test.stdout),
        system_err: lines(test.stderr),
        reruns,
        retries,
        started_ms: test.start.filter(|ms| *ms > 0.0).map(ms_from),
        file: non_empty(test.file_path),
    }
}

/// A pytest node id (`tests/test_cart.py::TestCart::test_add`) without the
/// file and classes its suite path already holds, so the name reads as the
/// test's own (`test_add`). Other names are kept.
fn local_name(name: String, suite: Option<&str>) -> String {
    let Some(suite) = suite else {
        return name;
    };
    let mut rest = name.as_str();
    for part in suite.split(" > ") {
        match rest.strip_prefix(part).and_then(|r| r.strip_prefix("::")) {
            Some(r) => rest = r,
            None => break,
        }
    }
    if rest.len() == name.len() || rest.is_empty() {
        name
    } else {
        rest.to_owned()
    }
}
