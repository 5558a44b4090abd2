//! Cucumber JSON to Octane gherkin runs.
//!
//! Owns the reading of the Cucumber JSON report as written by the `json`
//! formatter of cucumber-jvm (`io.cucumber.core.plugin.JsonFormatter`) and
//! cucumber-js (<https://github.com/cucumber/cucumber-js/blob/main/docs/formatters.md>;
//! schema: <https://github.com/cucumber/cucumber-json-schema>): an array of
//! features `{uri, name, keyword, tags[{name}], elements[{type, name,
//! keyword, id, tags, start_timestamp, before[], after[], steps[{keyword,
//! name, result{status, duration, error_message}}]}]}` with durations in
//! nanoseconds. The array is walked with a [`DeserializeSeed`] so that one
//! feature at a time is materialised; unknown keys (embeddings, matches,
//! outputs) are skipped without being kept.

use std::fmt;
use std::io::Read;

use serde::Deserialize;
use serde::de::{DeserializeSeed, Deserializer, SeqAccess, Visitor};
use verdict_domain::payload::{BackgroundStep, Feature, GherkinRun, Scenario, Step};
use verdict_domain::status::RunStatus;

use super::{JsonReportError, gherkin_text, json_error, ns_to_ms};

/// One feature of the report, as far as the conversion needs it.
#[derive(Deserialize)]
pub(super) struct CucumberFeature {
    pub(super) uri: Option<String>,
    pub(super) name: Option<String>,
    pub(super) keyword: Option<String>,
    pub(super) description: Option<String>,
    #[serde(default)]
    pub(super) tags: Vec<Tag>,
    #[serde(default)]
    pub(super) elements: Vec<Element>,
}

/// A tag (`{"name": "@smoke"}`).
#[derive(Deserialize)]
pub(super) struct Tag {
    pub(super) name: String,
}

/// A background or scenario (one example row of an outline in cucumber-jvm).
#[derive(Deserialize)]
pub(super) struct Element {
    #[serde(rename = "type")]
    pub(super) kind: Option<String>,
    pub(super) name: Option<String>,
    pub(super) keyword: Option<String>,
    id: Option<String>,
    start_timestamp: Option<String>,
    #[serde(default)]
    pub(super) tags: Vec<Tag>,
    #[serde(default)]
    before: Vec<Hook>,
    #[serde(default)]
    after: Vec<Hook>,
    #[serde(default)]
    pub(super) steps: Vec<CucumberStep>,
}

/// A step; cucumber-js also lists hooks as hidden steps.
#[derive(Deserialize)]
pub(super) struct CucumberStep {
    pub(super) keyword: Option<String>,
    pub(super) name: Option<String>,
    result: Option<StepResult>,
    #[serde(default)]
    hidden: bool,
    #[serde(default)]
    before: Vec<Hook>,
    #[serde(default)]
    after: Vec<Hook>,
    #[serde(default)]
    pub(super) rows: Vec<Row>,
    pub(super) doc_string: Option<DocString>,
}

/// A data table row of a step.
#[derive(Deserialize)]
pub(super) struct Row {
    #[serde(default)]
    pub(super) cells: Vec<String>,
}

/// The doc string argument of a step.
#[derive(Deserialize)]
pub(super) struct DocString {
    #[serde(default)]
    pub(super) value: String,
}

/// A `Before`/`After` hook of cucumber-jvm.
#[derive(Deserialize)]
struct Hook {
    result: Option<StepResult>,
}

/// The `result` of a step or hook.
#[derive(Deserialize)]
struct StepResult {
    status: Option<String>,
    /// Nanoseconds.
    duration: Option<f64>,
    error_message: Option<String>,
}

impl CucumberStep {
    /// Whether this is a cucumber-js hook rather than a Gherkin step.
    pub(super) fn is_hook(&self) -> bool {
        let keyword = self.keyword.as_deref().unwrap_or("").trim();
        self.hidden || (self.name.is_none() && matches!(keyword, "Before" | "After"))
    }

    /// `Given a user`: keyword and text as the feature file has them.
    pub(super) fn text(&self) -> String {
        let keyword = self.keyword.as_deref().unwrap_or("").trim();
        let name = self.name.as_deref().unwrap_or("").trim();
        format!("{keyword} {name}").trim().to_owned()
    }
}

/// Reads the array of features, calling `on_run` with each converted run and
/// the earliest `start_timestamp` of its scenarios (epoch ms), if any.
pub(super) fn read(
    reader: impl Read,
    on_run: impl FnMut(GherkinRun, Option<i64>) -> Result<(), String>,
) -> Result<(), JsonReportError> {
    let mut de = serde_json::Deserializer::from_reader(reader);
    Features { on_run }
        .deserialize(&mut de)
        .and_then(|()| de.end())
        .map_err(|e| json_error(&e, 1))
}

/// The seed and visitor of the top-level array.
struct Features<F> {
    on_run: F,
}

impl<'de, F: FnMut(GherkinRun, Option<i64>) -> Result<(), String>> DeserializeSeed<'de>
    for Features<F>
{
    type Value = ();

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<(), D::Error> {
        deserializer.deserialize_seq(self)
    }
}

impl<'de, F: FnMut(GherkinRun, Option<i64>) -> Result<(), String>> Visitor<'de> for Features<F> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a Cucumber JSON report (an array of features)")
    }

    fn visit_seq<A: SeqAccess<'de>>(mut self, mut seq: A) -> Result<(), A::Error> {
        while let Some(feature) = seq.next_element::<CucumberFeature>()? {
            let (run, started) = convert(feature);
            (self.on_run)(run, started).map_err(serde::de::Error::custom)?;
        }
        Ok(())
    }
}

/// Whether a step status makes its scenario fail.
pub(super) fn is_failing(status: &str) -> bool {
    matches!(status, "failed" | "ambiguous")
}

/// Whether a step status means the step did not run.
fn is_not_run(status: &str) -> bool {
    matches!(status, "skipped" | "pending" | "undefined" | "unknown")
}

/// Lower-case status of a result; a step without a result did not run.
fn status_of(result: Option<&StepResult>) -> String {
    result
        .and_then(|r| r.status.as_deref())
        .map_or_else(|| "skipped".to_owned(), str::to_ascii_lowercase)
}

/// Nanoseconds of a result.
fn ns_of(result: Option<&StepResult>) -> f64 {
    result.and_then(|r| r.duration).unwrap_or(0.0).max(0.0)
}

/// Statuses and time of hooks (before/after), which are not steps in
/// Octane's model but still decide the scenario's status and duration.
fn hooks<'a>(hooks: impl IntoIterator<Item = &'a Hook>, failed: &mut bool, ns: &mut f64) {
    for hook in hooks {
        *failed |= is_failing(&status_of(hook.result.as_ref()));
        *ns += ns_of(hook.result.as_ref());
    }
}

/// The `@TID<id>REV<rev>` tag Octane puts on features it generated.
fn octane_tag(tags: &[Tag]) -> Option<&str> {
    tags.iter().map(|t| t.name.as_str()).find(|name| {
        let Some((id, rev)) = name.strip_prefix("@TID").and_then(|r| r.split_once("REV")) else {
            return false;
        };
        let digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
        digits(id) && digits(rev)
    })
}

/// The example row number of an outline scenario: cucumber-jvm ids end with
/// `;<examples>;<row>` (`feature;outline;;2`), plain scenarios with
/// `feature;scenario`.
fn outline_index(id: Option<&str>) -> Option<i64> {
    let parts: Vec<&str> = id?.split(';').collect();
    if parts.len() < 3 {
        return None;
    }
    parts.last()?.parse().ok()
}

/// Converts one feature; returns the run and the earliest start timestamp.
fn convert(feature: CucumberFeature) -> (GherkinRun, Option<i64>) {
    let file = gherkin_text::render(&feature);
    let mut background: Option<Vec<BackgroundStep>> = None;
    let mut background_failed = false;
    let mut scenarios = Vec::new();
    let mut total_ns = 0.0;
    let mut started: Option<i64> = None;
    for element in feature.elements {
        if let Some(at) = element
            .start_timestamp
            .as_deref()
            .and_then(verdict_domain::time::parse_iso)
        {
            started = Some(started.map_or(at, |s| s.min(at)));
        }
        let mut failed = false;
        hooks(
            element.before.iter().chain(&element.after),
            &mut failed,
            &mut total_ns,
        );
        if element.kind.as_deref() == Some("background") {
            let steps = background.get_or_insert_with(Vec::new);
            merge_background(steps, &element.steps, &mut failed, &mut total_ns);
            background_failed = failed;
            continue;
        }
        let mut steps = Vec::new();
        let mut any_not_run = false;
        for step in &element.steps {
            hooks(
                step.before.iter().chain(&step.after),
                &mut failed,
                &mut total_ns,
            );
            let status = status_of(step.result.as_ref());
            failed |= is_failing(&status);
            let ns = ns_of(step.result.as_ref());
            total_ns += ns;
            if step.is_hook() {
                continue;
            }
            any_not_run |= is_not_run(&status);
            steps.push(Step {
                name: step.text(),
                duration: ns_to_ms(ns),
                error_message: step.result.as_ref().and_then(|r| r.error_message.clone()),
                status,
                external_step_id: None,
                input_parameters: Vec::new(),
                output_parameters: Vec::new(),
            });
        }
        // A failed background only counts for the scenario it ran before.
        let after_failed_background = std::mem::take(&mut background_failed);
        let status = if failed || after_failed_background {
            RunStatus::Failed
        } else if any_not_run {
            // Pending, undefined and skipped steps: the scenario did not
            // run to its end, so it is skipped, never passed.
            RunStatus::Skipped
        } else {
            RunStatus::Passed
        };
        scenarios.push(Scenario {
            name: element.name.unwrap_or_default(),
            status,
            outline_index: outline_index(element.id.as_deref()),
            steps,
        });
    }
    let status = if scenarios.iter().any(|s| s.status == RunStatus::Failed) {
        RunStatus::Failed
    } else if scenarios.iter().any(|s| s.status == RunStatus::Passed) {
        RunStatus::Passed
    } else {
        RunStatus::Skipped
    };
    let name = feature.name.unwrap_or_default();
    let run = GherkinRun {
        name: name.clone(),
        duration: ns_to_ms(total_ns),
        status,
        external_run_id: None,
        retries: 0,
        flaky: false,
        feature: Feature {
            name,
            path: feature.uri.unwrap_or_default(),
            tag: octane_tag(&feature.tags).unwrap_or("").to_owned(),
            started: 0,
            identifier: None,
            file,
            background,
            scenarios,
        },
    };
    (run, started)
}

/// Adds one occurrence of the background to `steps`: the first occurrence
/// gives the steps, later ones (cucumber-jvm repeats the background before
/// every scenario) only replace a step's status and error by a worse one.
fn merge_background(
    steps: &mut Vec<BackgroundStep>,
    occurrence: &[CucumberStep],
    failed: &mut bool,
    total_ns: &mut f64,
) {
    let first = steps.is_empty();
    for (i, step) in occurrence.iter().enumerate() {
        let status = status_of(step.result.as_ref());
        let ns = ns_of(step.result.as_ref());
        *total_ns += ns;
        *failed |= is_failing(&status);
        let error_message = step.result.as_ref().and_then(|r| r.error_message.clone());
        if first {
            steps.push(BackgroundStep {
                name: step.text(),
                duration: Some(ns_to_ms(ns)),
                status: Some(status),
                error_message,
            });
        } else if let Some(kept) = steps.get_mut(i)
            && rank(&status) > kept.status.as_deref().map_or(0, rank)
        {
            kept.status = Some(status);
            kept.error_message = error_message;
        }
    }
}

/// How bad a step status is, for merging repeated backgrounds.
fn rank(status: &str) -> u8 {
    if is_failing(status) {
        2
    } else if is_not_run(status) {
        1
    } else {
        0
    }
}
