//! Cases that a report lists more than once under one name.
//!
//! Owns the one rule for them, shared by the readers whose formats repeat
//! names (JUnit, TestNG): a repeated (class, name) inside one suite is either
//! **invocations** of a parameterised test that the reporter wrote without
//! its parameters (TestNG's JUnit reporters, data providers) — each becomes
//! its own test (`name`, `name [2]`, …), so a passing invocation can never hide a
//! failing one — or **retries** of one test (pytest-rerunfailures writes every
//! try as a `<testcase>`; TestNG's retry analyzer marks earlier tries `SKIP`)
//! — one test with one final outcome, its retry count, and the flaky mark
//! when it passed in the end.
//!
//! Repeats need not be adjacent (pytest-xdist interleaves workers, TestNG
//! orders tries by start second), so the last [`WINDOW`] distinct names of a
//! suite are kept open; each holds at most one case, so memory stays bounded
//! whatever the report's size. Names are compared by a 64-bit hash of
//! (class, name) (a false match among 64 open names is vanishingly unlikely,
//! and for retries the held case's own names are compared too), so the hot
//! path of conversion allocates nothing here. A name that comes back after dropping out of
//! the window starts afresh (the server then keeps the worse of two results
//! with the same start, so even then no failure is hidden).

use std::collections::VecDeque;

use super::model::{CaseOutcome, ReportCase, ReportEvent};

/// Distinct names of a suite kept open for retries (pytest-xdist interleaves
/// the tries of several workers).
pub(crate) const WINDOW: usize = 64;

/// Distinct names kept open for invocations, which reporters write one
/// after the other: a short window keeps the common case (no repeat at all)
/// cheap, since every case of a report is checked against it.
pub(crate) const INVOCATION_WINDOW: usize = 8;

/// What a repeated name means in a format.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum RepeatPolicy {
    /// Distinct invocations: the first keeps its name, later ones are
    /// numbered `name [2]`, `name [3]`, … Nothing is held back, so a case is
    /// passed on while its element is being read.
    Invocations,
    /// Tries of one test; the final outcome is the last try's
    /// (pytest-rerunfailures writes failed tries without a failure).
    RetriesLastWins,
    /// Tries of one test; the final outcome is the last try that is not
    /// skipped (TestNG skips every try it retries, in no reliable order).
    RetriesLastNotSkipped,
    /// The same result written more than once (jest-junit's suite errors):
    /// one test, the worse outcome, no retries.
    SameTest,
}

/// One open name.
struct Group {
    /// How many cases had this name so far.
    seen: u32,
    /// Retries: the final-outcome candidate (invocations hold nothing).
    held: Option<Box<ReportCase>>,
    /// TestNG: a skipped try was seen (only then are repeats retries).
    skipped_try: bool,
}

/// A fast 64-bit hash of (class, name) (the multiply-rotate scheme of
/// rustc's FxHash, eight bytes at a time): conversion runs this for every
/// case, so it must cost a few nanoseconds.
fn key_of(case: &ReportCase) -> u64 {
    const K: u64 = 0x51_7c_c1_b7_27_22_0a_95;
    let mut h: u64 = 0;
    let mut mix = |bytes: &[u8]| {
        let mut chunks = bytes.chunks_exact(8);
        for chunk in &mut chunks {
            let mut word = [0_u8; 8];
            word.copy_from_slice(chunk);
            h = (h.rotate_left(5) ^ u64::from_le_bytes(word)).wrapping_mul(K);
        }
        for &b in chunks.remainder() {
            h = (h.rotate_left(5) ^ u64::from(b)).wrapping_mul(K);
        }
        // A separator, so that ("ab", "c") and ("a", "bc") differ.
        h = (h.rotate_left(5) ^ 0xff).wrapping_mul(K);
    };
    mix(case.classname.as_deref().unwrap_or("").as_bytes());
    mix(case.name.as_bytes());
    h
}

/// The repeat rule applied to a reader's event stream.
pub(crate) struct Repeats {
    policy: RepeatPolicy,
    /// Keys of the open names, oldest first (kept apart from `open` so the
    /// lookup is a scan over plain integers).
    keys: VecDeque<u64>,
    open: VecDeque<Group>,
}

type Emit<'a> = dyn FnMut(ReportEvent) -> Result<(), String> + 'a;

impl Repeats {
    pub(crate) fn new(policy: RepeatPolicy) -> Self {
        Self {
            policy,
            keys: VecDeque::with_capacity(WINDOW + 1),
            open: VecDeque::with_capacity(WINDOW + 1),
        }
    }

    /// Changes the policy (a JUnit reader learns its dialect from the first
    /// suite); open names are settled under the old one first.
    pub(crate) fn set_policy(
        &mut self,
        policy: RepeatPolicy,
        emit: &mut Emit<'_>,
    ) -> Result<(), String> {
        if policy != self.policy {
            self.flush(emit)?;
            self.policy = policy;
        }
        Ok(())
    }

    /// Passes `event` on, applying the rule to cases. Suite boundaries settle
    /// every open name first: repeats never span suites.
    pub(crate) fn event(&mut self, event: ReportEvent, emit: &mut Emit<'_>) -> Result<(), String> {
        match event {
            ReportEvent::Case(case) => self.case(case, emit),
            other => {
                self.flush(emit)?;
                emit(other)
            }
        }
    }

    /// Settles every open name (at a suite boundary or the end of the report).
    pub(crate) fn flush(&mut self, emit: &mut Emit<'_>) -> Result<(), String> {
        self.keys.clear();
        while let Some(group) = self.open.pop_front() {
            self.settle(group, emit)?;
        }
        Ok(())
    }

    fn case(&mut self, case: ReportCase, emit: &mut Emit<'_>) -> Result<(), String> {
        let key = key_of(&case);
        let (front, back) = self.keys.as_slices();
        let found = front
            .iter()
            .position(|k| *k == key)
            .or_else(|| back.iter().position(|k| *k == key).map(|i| i + front.len()));
        let Some(at) = found else {
            let mut group = Group {
                seen: 1,
                held: None,
                skipped_try: matches!(case.outcome, CaseOutcome::Skipped { .. }),
            };
            if self.policy == RepeatPolicy::Invocations {
                emit(ReportEvent::Case(case))?;
            } else {
                group.held = Some(Box::new(case));
            }
            self.keys.push_back(key);
            self.open.push_back(group);
            let window = if self.policy == RepeatPolicy::Invocations {
                INVOCATION_WINDOW
            } else {
                WINDOW
            };
            if self.open.len() > window {
                self.keys.pop_front();
                if let Some(oldest) = self.open.pop_front() {
                    self.settle(oldest, emit)?;
                }
            }
            return Ok(());
        };
        let policy = self.policy;
        let group = &mut self.open[at];
        group.seen = group.seen.saturating_add(1);
        match policy {
            RepeatPolicy::Invocations => {
                let mut case = case;
                case.name = numbered(&case.name, group.seen);
                emit(ReportEvent::Case(case))
            }
            RepeatPolicy::RetriesLastWins => {
                group.held = Some(Box::new(case));
                Ok(())
            }
            RepeatPolicy::SameTest => {
                let worse = group
                    .held
                    .as_ref()
                    .is_none_or(|h| rank(&case.outcome) > rank(&h.outcome));
                if worse {
                    group.held = Some(Box::new(case));
                }
                Ok(())
            }
            RepeatPolicy::RetriesLastNotSkipped => {
                // The try that was not skipped; among several (invocationCount,
                // identical data-provider rows) the worst, so no failure hides.
                let skipped = matches!(case.outcome, CaseOutcome::Skipped { .. });
                group.skipped_try |= skipped;
                let replace = group.held.as_ref().is_none_or(|h| {
                    let held_skipped = matches!(h.outcome, CaseOutcome::Skipped { .. });
                    if skipped {
                        held_skipped
                    } else {
                        held_skipped || rank(&case.outcome) > rank(&h.outcome)
                    }
                });
                if replace {
                    group.held = Some(Box::new(case));
                }
                Ok(())
            }
        }
    }

    fn settle(&self, group: Group, emit: &mut Emit<'_>) -> Result<(), String> {
        let Some(mut case) = group.held.map(|b| *b) else {
            return Ok(());
        };
        let retried = match self.policy {
            RepeatPolicy::RetriesLastWins => true,
            // TestNG marks every retried try SKIP: without one, the repeats
            // are plain invocations of one name, not retries.
            RepeatPolicy::RetriesLastNotSkipped => group.skipped_try,
            _ => false,
        };
        if retried && group.seen > 1 {
            case.retries = case.retries.saturating_add(group.seen - 1);
            case.flaky = matches!(case.outcome, CaseOutcome::Passed);
        }
        emit(ReportEvent::Case(case))
    }
}

/// How bad an outcome is (failed > passed > skipped), so a failure is never
/// the one dropped.
fn rank(outcome: &CaseOutcome) -> u8 {
    match outcome {
        CaseOutcome::Failed(_) | CaseOutcome::Errored(_) => 2,
        CaseOutcome::Passed => 1,
        CaseOutcome::Skipped { .. } => 0,
    }
}

/// `name [k]`: the k-th invocation of a name the report repeats.
fn numbered(name: &str, k: u32) -> String {
    format!("{name} [{k}]")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::reports::Failure;

    fn case(name: &str, outcome: CaseOutcome) -> ReportCase {
        ReportCase {
            name: name.into(),
            classname: Some("Cart".into()),
            duration_ms: 1,
            outcome,
            ..ReportCase::default()
        }
    }

    fn failed() -> CaseOutcome {
        CaseOutcome::Failed(Failure::default())
    }

    fn skipped() -> CaseOutcome {
        CaseOutcome::Skipped { message: None }
    }

    fn run(policy: RepeatPolicy, cases: Vec<ReportCase>) -> Vec<(String, CaseOutcome, u32, bool)> {
        let mut out = Vec::new();
        let mut emit = |e: ReportEvent| {
            if let ReportEvent::Case(c) = e {
                out.push((c.name, c.outcome, c.retries, c.flaky));
            }
            Ok(())
        };
        let mut repeats = Repeats::new(policy);
        for c in cases {
            repeats.event(ReportEvent::Case(c), &mut emit).unwrap();
        }
        repeats.event(ReportEvent::SuiteEnd, &mut emit).unwrap();
        out
    }

    #[test]
    fn invocations_are_numbered_so_a_pass_never_hides_a_failure() {
        let out = run(
            RepeatPolicy::Invocations,
            vec![
                case("adds", CaseOutcome::Passed),
                case("other", CaseOutcome::Passed),
                case("adds", failed()),
                case("adds", CaseOutcome::Passed),
            ],
        );
        let names: Vec<&str> = out.iter().map(|o| o.0.as_str()).collect();
        assert_eq!(names, ["adds", "other", "adds [2]", "adds [3]"]);
        assert_eq!(out[2].1, failed());
    }

    #[test]
    fn retries_keep_the_last_try_and_mark_a_late_pass_flaky() {
        let out = run(
            RepeatPolicy::RetriesLastWins,
            vec![
                case("flaky", CaseOutcome::Passed),
                case("broken", CaseOutcome::Passed),
                case("flaky", CaseOutcome::Passed),
                case("broken", failed()),
                case("once", CaseOutcome::Passed),
            ],
        );
        assert_eq!(
            out,
            [
                ("flaky".into(), CaseOutcome::Passed, 1, true),
                ("broken".into(), failed(), 1, false),
                ("once".into(), CaseOutcome::Passed, 0, false),
            ]
        );
    }

    #[test]
    fn testng_retries_take_the_try_that_was_not_skipped_whatever_the_order() {
        let out = run(
            RepeatPolicy::RetriesLastNotSkipped,
            vec![
                case("pays", skipped()),
                case("pays", failed()),
                case("pays", skipped()),
                case("skips", skipped()),
            ],
        );
        assert_eq!(
            out,
            [
                ("pays".into(), failed(), 2, false),
                ("skips".into(), skipped(), 0, false),
            ]
        );
    }

    #[test]
    fn testng_repeats_without_skipped_tries_keep_the_worst_and_are_not_flaky() {
        let out = run(
            RepeatPolicy::RetriesLastNotSkipped,
            vec![
                case("adds", CaseOutcome::Passed),
                case("adds", failed()),
                case("adds", CaseOutcome::Passed),
            ],
        );
        assert_eq!(out, [("adds".into(), failed(), 0, false)]);
    }

    #[test]
    fn memory_stays_bounded_by_the_window() {
        let mut repeats = Repeats::new(RepeatPolicy::RetriesLastWins);
        let mut count = 0;
        let mut emit = |_e: ReportEvent| {
            count += 1;
            Ok(())
        };
        for i in 0..10_000 {
            repeats
                .event(
                    ReportEvent::Case(case(&format!("t{i}"), CaseOutcome::Passed)),
                    &mut emit,
                )
                .unwrap();
            assert!(repeats.open.len() <= WINDOW);
        }
        repeats.flush(&mut emit).unwrap();
        assert_eq!(count, 10_000);
    }
}
