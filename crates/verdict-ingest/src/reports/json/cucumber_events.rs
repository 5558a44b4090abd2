//! Cucumber JSON as the neutral event stream.
//!
//! Owns the mapping of gherkin runs to [`ReportEvent`]s for
//! [`read_json_report`](super::read_json_report), so callers that import
//! every format as suites and cases can take Cucumber reports too: a suite
//! per feature (property `uri` = the feature file), a case per scenario with
//! classname = feature name; outline rows are named `name [row]`.

use verdict_domain::payload::GherkinRun;
use verdict_domain::status::RunStatus;

use super::cucumber::is_failing;
use crate::reports::{CaseOutcome, Failure, ReportCase, ReportEvent};

/// The events of one run; `started` is the feature's start from the report.
/// A failed scenario's message is the first line of its failing step's
/// error (or says which step is undefined), its text the whole error.
pub(super) fn run_events(run: GherkinRun, started: Option<i64>) -> Vec<ReportEvent> {
    let feature = run.feature;
    let mut events = vec![ReportEvent::SuiteStart {
        name: feature.name.clone(),
        timestamp: started.map(verdict_domain::time::format_iso),
        properties: vec![("uri".to_owned(), feature.path)],
    }];
    for scenario in feature.scenarios {
        let outcome = match scenario.status {
            RunStatus::Failed => {
                let failing = scenario.steps.iter().find(|s| is_failing(&s.status));
                let text = failing
                    .and_then(|s| s.error_message.clone())
                    .unwrap_or_default();
                let message = match failing {
                    Some(step) => match text.lines().next().filter(|l| !l.trim().is_empty()) {
                        Some(first) => first.trim().to_owned(),
                        None => format!("step '{}' is {}", step.name, step.status),
                    },
                    None => "a hook or the background failed".to_owned(),
                };
                CaseOutcome::Failed(Failure {
                    message: Some(message),
                    kind: None,
                    text,
                })
            }
            RunStatus::Skipped | RunStatus::Planned => CaseOutcome::Skipped { message: None },
            RunStatus::Passed => CaseOutcome::Passed,
        };
        let name = match scenario.outline_index {
            Some(row) => format!("{} [{row}]", scenario.name),
            None => scenario.name,
        };
        events.push(ReportEvent::Case(ReportCase {
            name,
            classname: Some(feature.name.clone()),
            duration_ms: scenario.steps.iter().map(|s| s.duration).sum(),
            outcome,
            ..ReportCase::default()
        }));
    }
    events.push(ReportEvent::SuiteEnd);
    events
}
