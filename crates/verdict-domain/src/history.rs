//! History figures of a test (testcenter-notes "Beyond the reporting API"):
//! success rate = passed / runs; flakiness = pass↔fail changes / runs;
//! times broken = how often a failure started. Skipped runs and runs without
//! a verdict are left out.

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
    /// pass↔fail changes / counted.
    pub flakiness: f64,
    /// Failure streaks started (a first run that fails starts one).
    pub times_broken: u64,
}

/// Computes the figures from statuses in time order.
#[must_use]
pub fn figures(statuses: &[RunStatus]) -> Figures {
    let verdicts: Vec<bool> = statuses
        .iter()
        .filter_map(|s| match s {
            RunStatus::Passed => Some(true),
            RunStatus::Failed => Some(false),
            RunStatus::Skipped | RunStatus::Planned => None,
        })
        .collect();
    let counted = verdicts.len() as u64;
    let passed = verdicts.iter().filter(|p| **p).count() as u64;
    let changes = verdicts.windows(2).filter(|w| w[0] != w[1]).count() as u64;
    let broken = verdicts
        .iter()
        .enumerate()
        .filter(|(i, passed)| !**passed && (*i == 0 || verdicts[i - 1]))
        .count() as u64;
    let ratio = |n: u64| {
        if counted == 0 {
            0.0
        } else {
            n as f64 / counted as f64
        }
    };
    Figures {
        counted,
        passed,
        failed: counted - passed,
        success_rate: ratio(passed),
        flakiness: ratio(changes),
        times_broken: broken,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use RunStatus::{Failed as F, Passed as P, Planned as N, Skipped as S};

    #[test]
    fn figures_follow_the_definitions() {
        let f = figures(&[P, F, F, S, P, N, F, P]);
        assert_eq!((f.counted, f.passed, f.failed), (6, 3, 3));
        assert!((f.success_rate - 0.5).abs() < 1e-9);
        // P F F P F P: four changes over six runs.
        assert!((f.flakiness - 4.0 / 6.0).abs() < 1e-9);
        assert_eq!(f.times_broken, 2);
    }

    #[test]
    fn edge_cases() {
        assert_eq!(figures(&[]).success_rate, 0.0);
        assert_eq!(figures(&[F]).times_broken, 1);
        assert_eq!(figures(&[S, S]).counted, 0);
        assert_eq!(figures(&[P, P]).flakiness, 0.0);
    }
}
