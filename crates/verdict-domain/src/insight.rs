//! The definitions insight answers rest on (`docs/insight.md`): outcomes, the
//! comparison of a result set with the previous one of its series, a test's
//! failure streak and its figures over a window. Pure functions over rows the
//! store already selected by index, so every rule is unit-tested here.

use std::collections::{HashMap, HashSet};

use crate::status::RunStatus;

/// A run's outcome as insight counts it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Outcome {
    /// No verdict (a Test Center run nothing was reported for, a planned run).
    None,
    Passed,
    Skipped,
    Failed,
}

impl Outcome {
    /// Which of two reports of one result stands: a failure over a pass
    /// over a skip over nothing (the ingest rule, `RunStatus::severity`, and
    /// Test Center's result ranks agree).
    #[must_use]
    pub fn severity(self) -> u8 {
        match self {
            Self::None => 0,
            Self::Skipped => 1,
            Self::Passed => 2,
            Self::Failed => 3,
        }
    }

    /// The stored code (`results.outcome`).
    #[must_use]
    pub fn code(self) -> i64 {
        match self {
            Self::None => 0,
            Self::Passed => 1,
            Self::Failed => 2,
            Self::Skipped => 3,
        }
    }

    /// Reads a stored code; unknown codes are no outcome.
    #[must_use]
    pub fn from_code(code: i64) -> Self {
        match code {
            1 => Self::Passed,
            2 => Self::Failed,
            3 => Self::Skipped,
            _ => Self::None,
        }
    }

    /// From a run status (Octane runs and Test Center runs alike).
    #[must_use]
    pub fn from_status(status: RunStatus) -> Self {
        match status {
            RunStatus::Passed => Self::Passed,
            RunStatus::Failed => Self::Failed,
            RunStatus::Skipped => Self::Skipped,
            RunStatus::Planned => Self::None,
        }
    }

    /// From a stored status key (`passed`, `failed`, …).
    #[must_use]
    pub fn from_status_key(key: &str) -> Self {
        RunStatus::from_key(key).map_or(Self::None, Self::from_status)
    }

    /// The name the API uses.
    #[must_use]
    pub fn key(self) -> &'static str {
        match self {
            Self::None => "none",
            Self::Passed => "passed",
            Self::Failed => "failed",
            Self::Skipped => "skipped",
        }
    }

    /// Parses the API name.
    #[must_use]
    pub fn parse(text: &str) -> Option<Self> {
        match text {
            "none" => Some(Self::None),
            "passed" => Some(Self::Passed),
            "failed" => Some(Self::Failed),
            "skipped" => Some(Self::Skipped),
            _ => None,
        }
    }
}

/// The stored key of a context: release plus environment (taxonomy ids or
/// Test Center labels, already in a canonical order), FNV-1a 64.
#[must_use]
pub fn context_key(release_id: Option<i64>, environment: &str) -> i64 {
    let text = format!("{}\u{1f}{environment}", release_id.unwrap_or(0));
    let hash = crate::signature::fnv1a64(text.as_bytes());
    i64::from_ne_bytes(hash.to_ne_bytes())
}

/// A test in a context: the unit results are compared by.
pub type TestContext = (i64, i64);

/// One result of a result set, as the comparison needs it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SetEntry {
    pub test_id: i64,
    pub context: i64,
    pub outcome: Outcome,
    pub flaky: bool,
    pub muted: bool,
}

/// A result set compared with the previous one of its series.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Comparison {
    /// Failed now, not failed (or absent) before; not muted.
    pub new_failures: Vec<TestContext>,
    /// Failed now and before; not muted.
    pub still_failing: Vec<TestContext>,
    /// Passed now, failed before.
    pub fixed: Vec<TestContext>,
    /// Present now, never seen before in the series.
    pub new_tests: Vec<TestContext>,
    /// Present before, absent now.
    pub removed: Vec<TestContext>,
    /// Passed with the flaky mark.
    pub flaky: Vec<TestContext>,
    /// Failed now while muted (never new, never failing the gate).
    pub muted_failures: Vec<TestContext>,
}

/// Several results of one test and context in one set (two pushes into one
/// build): the worst outcome stands, a flaky or muted mark on any counts,
/// and a failure next to a pass is a flip within the set — flaky, not a
/// failure (a CI step that re-runs failed tests and pushes again).
fn fold(entries: &[SetEntry]) -> HashMap<TestContext, SetEntry> {
    let mut out: HashMap<TestContext, SetEntry> = HashMap::with_capacity(entries.len());
    let mut passed: std::collections::HashSet<TestContext> = std::collections::HashSet::new();
    let mut failed: std::collections::HashSet<TestContext> = std::collections::HashSet::new();
    for e in entries {
        let key = (e.test_id, e.context);
        match e.outcome {
            Outcome::Passed => {
                passed.insert(key);
            }
            Outcome::Failed => {
                failed.insert(key);
            }
            Outcome::Skipped | Outcome::None => {}
        }
        out.entry(key)
            .and_modify(|seen| {
                if e.outcome.severity() > seen.outcome.severity() {
                    seen.outcome = e.outcome;
                }
                seen.flaky |= e.flaky;
                seen.muted |= e.muted;
            })
            .or_insert(*e);
    }
    for key in passed.intersection(&failed) {
        if let Some(e) = out.get_mut(key) {
            e.outcome = Outcome::Passed;
            e.flaky = true;
        }
    }
    out
}

/// Compares `current` with `previous` (None: the series' first set).
/// `seen_earlier` holds the keys absent from `previous` that an older set of
/// the series had (they are returning, not new).
#[must_use]
pub fn compare(
    current: &[SetEntry],
    previous: Option<&[SetEntry]>,
    seen_earlier: &HashSet<TestContext>,
) -> Comparison {
    let now = fold(current);
    let before = previous.map(fold).unwrap_or_default();
    let mut c = Comparison::default();
    for (key, e) in &now {
        let prior = before.get(key);
        let failed_before = prior.is_some_and(|p| p.outcome == Outcome::Failed);
        match e.outcome {
            Outcome::Failed if e.muted => c.muted_failures.push(*key),
            Outcome::Failed if failed_before => c.still_failing.push(*key),
            Outcome::Failed => c.new_failures.push(*key),
            Outcome::Passed if failed_before => c.fixed.push(*key),
            _ => {}
        }
        if e.outcome == Outcome::Passed && e.flaky {
            c.flaky.push(*key);
        }
        if prior.is_none() && !seen_earlier.contains(key) {
            c.new_tests.push(*key);
        }
    }
    for key in before.keys() {
        if !now.contains_key(key) {
            c.removed.push(*key);
        }
    }
    for list in [
        &mut c.new_failures,
        &mut c.still_failing,
        &mut c.fixed,
        &mut c.new_tests,
        &mut c.removed,
        &mut c.flaky,
        &mut c.muted_failures,
    ] {
        list.sort_unstable();
    }
    c
}

/// The keys of `current` absent from `previous` (those whose earlier
/// presence in the series decides whether they are new).
#[must_use]
pub fn absent_before(current: &[SetEntry], previous: &[SetEntry]) -> Vec<TestContext> {
    let before: HashSet<TestContext> = previous.iter().map(|e| (e.test_id, e.context)).collect();
    let mut out: Vec<TestContext> = current
        .iter()
        .map(|e| (e.test_id, e.context))
        .filter(|k| !before.contains(k))
        .collect();
    out.sort_unstable();
    out.dedup();
    out
}

/// One result in a test's history (one context), oldest first.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StoryEntry {
    pub outcome: Outcome,
    pub flaky: bool,
    pub started: i64,
    pub duration: i64,
}

/// The current failure streak: indexes into the history.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Streak {
    /// The streak's first failed result.
    pub since: usize,
    /// The passed result just before it, if any.
    pub last_passed: Option<usize>,
    /// Failed results in the streak.
    pub failures: usize,
}

/// The run of consecutive failures ending at the newest result; skipped
/// results and results without an outcome neither break nor start it.
#[must_use]
pub fn failing_since(history: &[StoryEntry]) -> Option<Streak> {
    let mut since = None;
    let mut failures = 0;
    for (i, e) in history.iter().enumerate().rev() {
        match e.outcome {
            Outcome::Failed => {
                since = Some(i);
                failures += 1;
            }
            Outcome::Passed => {
                return since.map(|s| Streak {
                    since: s,
                    last_passed: Some(i),
                    failures,
                });
            }
            Outcome::Skipped | Outcome::None => {}
        }
    }
    since.map(|s| Streak {
        since: s,
        last_passed: None,
        failures,
    })
}

/// Default window: the last 30 results with an outcome.
pub const DEFAULT_WINDOW: usize = 30;

/// A test's figures over a window (insight.md "A test's story").
#[derive(Debug, Clone, PartialEq)]
pub struct WindowFigures {
    /// Results with a pass or fail verdict in the window.
    pub runs: usize,
    pub passed: usize,
    pub failed: usize,
    pub success_rate: f64,
    /// Consecutive pairs whose outcome differs.
    pub flips: usize,
    /// Passes marked flaky.
    pub flaky_marked: usize,
    /// (flips + flaky-marked) / runs, at most 1.
    pub flakiness: f64,
    /// Failure streaks that started inside the window.
    pub times_broken: usize,
    pub duration_median: Option<i64>,
    pub duration_p95: Option<i64>,
    /// The newest third's median above the oldest third's by > 20 % and > 100 ms.
    pub got_slower: bool,
    /// Indexes (into the history) of the results that flipped.
    pub flip_at: Vec<usize>,
}

/// Figures over the last `window` counted results of `history` (oldest first).
#[must_use]
pub fn window_figures(history: &[StoryEntry], window: usize) -> WindowFigures {
    let counted: Vec<usize> = history
        .iter()
        .enumerate()
        .filter(|(_, e)| matches!(e.outcome, Outcome::Passed | Outcome::Failed))
        .map(|(i, _)| i)
        .collect();
    let start = counted.len().saturating_sub(window.max(1));
    let inside = &counted[start..];
    let before = start.checked_sub(1).map(|i| history[counted[i]].outcome);
    let mut passed = 0;
    let mut flips = 0;
    let mut flaky_marked = 0;
    let mut times_broken = 0;
    let mut flip_at = Vec::new();
    // Flips are pairs inside the window; a streak started inside it when
    // the result before it (inside or not) did not fail.
    let mut previous: Option<Outcome> = None;
    let mut before_streak = before;
    for &i in inside {
        let e = history[i];
        if e.outcome == Outcome::Passed {
            passed += 1;
            if e.flaky {
                flaky_marked += 1;
            }
        }
        if let Some(p) = previous
            && p != e.outcome
        {
            flips += 1;
            flip_at.push(i);
        }
        if e.outcome == Outcome::Failed && before_streak != Some(Outcome::Failed) {
            times_broken += 1;
        }
        previous = Some(e.outcome);
        before_streak = Some(e.outcome);
    }
    let runs = inside.len();
    let ratio = |n: usize| {
        if runs == 0 {
            0.0
        } else {
            n as f64 / runs as f64
        }
    };
    let durations: Vec<i64> = inside.iter().map(|&i| history[i].duration).collect();
    WindowFigures {
        runs,
        passed,
        failed: runs - passed,
        success_rate: ratio(passed),
        flips,
        flaky_marked,
        flakiness: ratio(flips + flaky_marked).min(1.0),
        times_broken,
        duration_median: percentile(&durations, 50),
        duration_p95: percentile(&durations, 95),
        got_slower: got_slower(&durations),
        flip_at,
    }
}

/// Nearest-rank percentile.
#[must_use]
pub fn percentile(values: &[i64], pct: usize) -> Option<i64> {
    if values.is_empty() {
        return None;
    }
    let mut sorted = values.to_vec();
    sorted.sort_unstable();
    let rank = (pct * sorted.len()).div_ceil(100).max(1);
    sorted.get(rank - 1).copied()
}

/// (V) Slower when the median of the newest third exceeds the median of the
/// oldest third by more than 20 % and more than 100 ms.
fn got_slower(durations: &[i64]) -> bool {
    let third = durations.len() / 3;
    if third == 0 {
        return false;
    }
    let (Some(old), Some(new)) = (
        percentile(&durations[..third], 50),
        percentile(&durations[durations.len() - third..], 50),
    ) else {
        return false;
    };
    new - old > 100 && new * 5 > old * 6
}

#[cfg(test)]
mod tests;
