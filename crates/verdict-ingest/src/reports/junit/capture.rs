//! How the children of a `<testcase>` decide its outcome: the first
//! `<failure>`/`<error>` (its message, or the first line of its body), later
//! ones as vitest's retries, `<skipped>`, output, and Surefire's
//! `flaky*`/`rerun*` tries; and the case that is sent when it closes.

use super::super::model::{CaseOutcome, Failure, ReportError, ReportEvent, Rerun};
use super::super::values::{first_line, non_empty, tidy};
use super::{JUnit, Slot};

impl<F: FnMut(ReportEvent) -> Result<(), String>> JUnit<F> {
    pub(super) fn close_capture(&mut self) {
        let (Some(capture), Some(state)) = (self.capture.take(), &mut self.case) else {
            return;
        };
        let case = &mut state.case;
        match capture.slot {
            Slot::Out => append(&mut case.system_out, capture.text),
            Slot::Err => append(&mut case.system_err, capture.text),
            Slot::Skipped => {
                if state.outcome.is_none() {
                    let message = capture
                        .message
                        .or_else(|| non_empty(Some(tidy(&capture.text))));
                    state.outcome = Some(CaseOutcome::Skipped { message });
                }
            }
            Slot::Failure | Slot::Error => {
                let decided = matches!(
                    state.outcome,
                    Some(CaseOutcome::Failed(_) | CaseOutcome::Errored(_))
                );
                if decided {
                    state.extra_failures = state.extra_failures.saturating_add(1);
                    return;
                }
                let empty = capture.message.is_none()
                    && capture.kind.is_none()
                    && capture.text.trim().is_empty();
                if empty && self.empty_failure_skips {
                    state.outcome = Some(CaseOutcome::Skipped {
                        message: Some("a step is pending or undefined".to_owned()),
                    });
                    return;
                }
                {
                    let text = tidy(&capture.text);
                    // jest-junit and cucumber-js write the message only in the body.
                    let message = capture.message.or_else(|| first_line(&text));
                    // TestNG's JUnit reporters write a skip as an error of
                    // type SkipException; TestNG itself counts it skipped.
                    if capture.kind.as_deref() == Some("org.testng.SkipException") {
                        state.outcome = Some(CaseOutcome::Skipped { message });
                        return;
                    }
                    let failure = Failure {
                        message,
                        kind: capture.kind,
                        text,
                    };
                    state.outcome = Some(match capture.slot {
                        Slot::Failure => CaseOutcome::Failed(failure),
                        _ => CaseOutcome::Errored(failure),
                    });
                }
            }
            Slot::Flaky { failed } | Slot::Rerun { failed } => {
                let text = capture.stack.as_deref().unwrap_or(&capture.text);
                let failure = Failure {
                    message: capture.message,
                    kind: capture.kind,
                    text: tidy(text),
                };
                if matches!(capture.slot, Slot::Rerun { .. }) && state.rerun_failure.is_none() {
                    state.rerun_failure = Some(failure.clone());
                }
                case.reruns.push(Rerun { failed, failure });
            }
        }
    }

    pub(super) fn close_case(&mut self) -> Result<(), ReportError> {
        let Some(state) = self.case.take() else {
            return Ok(());
        };
        let mut case = state.case;
        case.outcome = state
            .outcome
            .or(state.rerun_failure.map(CaseOutcome::Failed))
            .unwrap_or(CaseOutcome::Passed);
        // Surefire/nextest: every flaky*/rerun* element is one more try;
        // vitest: every <failure> after the first.
        case.retries = u32::try_from(case.reruns.len())
            .unwrap_or(u32::MAX)
            .saturating_add(state.extra_failures);
        case.flaky = case.retries > 0 && matches!(case.outcome, CaseOutcome::Passed);
        self.send(ReportEvent::Case(case), state.pos)
    }
}

/// Appends captured output to `out`, leaving it `None` while all is blank.
fn append(out: &mut Option<String>, text: String) {
    if text.trim().is_empty() {
        return;
    }
    match out {
        Some(existing) => existing.push_str(&text),
        None => *out = Some(text),
    }
}
