//! History figures of a test (testcenter-notes "Beyond the reporting API",
//! insight.md "A test's story"): success rate = passed / runs; flakiness =
//! (pass↔fail changes + runs marked flaky) / runs; times broken = how often a
//! failure started. Skipped runs and runs without a verdict are left out; a
//! retried test is one run (its final outcome), its failed tries showing only
//! as its flaky mark.

use crate::insight::{Outcome, StoryEntry, window_figures};
use crate::status::RunStatus;

/// The figures over one test's runs, oldest first.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Figures {
    /// Runs with a pass or fail verdict.
    pub counted: u64,
    pub passed: u64,
    pub failed: u64,
    /// passed / counted (0 when nothing counted).
    pub success_rate: f64,
    /// (pass↔fail changes + flaky-marked passes) / counted.
    pub flakiness: f64,
    /// Passes marked flaky (passed after a failed try).
    pub flaky: u64,
    /// Failure streaks started (a first run that fails starts one).
    pub times_broken: u64,
}

/// Computes the figures from (status, flaky mark) pairs in time order: the
/// insight figures over a window holding every run.
#[must_use]
pub fn figures(runs: &[(RunStatus, bool)]) -> Figures {
    let history: Vec<StoryEntry> = runs
        .iter()
        .map(|(status, flaky)| StoryEntry {
            outcome: Outcome::from_status(*status),
            flaky: *flaky,
            started: 0,
            duration: 0,
        })
        .collect();
    let f = window_figures(&history, usize::MAX);
    let count = |n: usize| n as u64;
    Figures {
        counted: count(f.runs),
        passed: count(f.passed),
        failed: count(f.failed),
        success_rate: f.success_rate,
        flakiness: f.flakiness,
        flaky: count(f.flaky_marked),
        times_broken: count(f.times_broken),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use RunStatus::{Failed as F, Passed as P, Planned as N, Skipped as S};

    fn plain(statuses: &[RunStatus]) -> Vec<(RunStatus, bool)> {
        statuses.iter().map(|s| (*s, false)).collect()
    }

    #[test]
    fn figures_follow_the_definitions() {
        let f = figures(&plain(&[P, F, F, S, P, N, F, P]));
        assert_eq!((f.counted, f.passed, f.failed), (6, 3, 3));
        assert!((f.success_rate - 0.5).abs() < 1e-9);
        // P F F P F P: four changes over six runs.
        assert!((f.flakiness - 4.0 / 6.0).abs() < 1e-9);
        assert_eq!(f.times_broken, 2);
    }

    #[test]
    fn edge_cases() {
        assert_eq!(figures(&[]).success_rate, 0.0);
        assert_eq!(figures(&plain(&[F])).times_broken, 1);
        assert_eq!(figures(&plain(&[S, S])).counted, 0);
        assert_eq!(figures(&plain(&[P, P])).flakiness, 0.0);
    }

    #[test]
    fn a_retried_pass_counts_as_flaky_and_a_retried_failure_as_one_failure() {
        // One test failing all three tries is one failed run: success rate 0.
        let f = figures(&[(F, false)]);
        assert_eq!((f.counted, f.success_rate, f.flaky), (1, 0.0, 0));
        // Passed on its second try twice, then a plain pass.
        let f = figures(&[(P, true), (P, true), (P, false)]);
        assert_eq!((f.counted, f.passed, f.flaky), (3, 3, 2));
        assert!((f.flakiness - 2.0 / 3.0).abs() < 1e-9);
        // A flaky mark on a failure means nothing.
        assert_eq!(figures(&[(F, true)]).flaky, 0);
    }
}
