//! A test's newest outcomes in one context, packed into two 64-bit words.
//!
//! The flaky ranking needs every context's flips and flaky marks over its
//! newest results. Reading those histories at request time means reading a
//! large part of the `results` table; kept packed at ingest, a context's
//! recent history is one small row, updated by shifting the new outcome in.
//! [`RecentOutcomes::figures`] gives the same runs, flips, flaky marks and
//! flakiness as [`crate::insight::window_figures`] over the same history
//! (unit-tested below), for windows of up to [`RECENT_CAPACITY`] results.

use crate::insight::{Outcome, StoryEntry};

/// Results a [`RecentOutcomes`] remembers: the largest window it answers.
pub const RECENT_CAPACITY: usize = 64;

/// The newest (at most [`RECENT_CAPACITY`]) passed or failed results of a
/// test in one context; bit `k` is the `k`-th newest result.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct RecentOutcomes {
    /// Bit set: that result failed (clear: it passed).
    pub failed: u64,
    /// Bit set: that result is a pass with the flaky mark.
    pub flaky: u64,
    /// How many bits hold a result.
    pub len: u32,
    /// Start of the newest result (ms since the epoch).
    pub last_started: i64,
    /// The outcomes already seen at `last_started` (bit 0 passed, bit 1
    /// failed): a second identical result is one entry, as in a story.
    pub at_last: u8,
}

/// Figures of a window over [`RecentOutcomes`].
#[derive(Debug, Clone, PartialEq)]
pub struct RecentFigures {
    pub runs: usize,
    pub passed: usize,
    pub flips: usize,
    pub flaky_marked: usize,
    pub success_rate: f64,
    /// (flips + flaky-marked) / runs, at most 1.
    pub flakiness: f64,
    /// Where the flips are, newest first: `k` is the `k`-th newest result,
    /// the newer of the two that differ.
    pub flip_positions: Vec<usize>,
}

fn mask(bits: u32) -> u64 {
    if bits >= 64 {
        u64::MAX
    } else {
        (1_u64 << bits) - 1
    }
}

fn outcome_bit(outcome: Outcome) -> u8 {
    match outcome {
        Outcome::Passed => 1,
        Outcome::Failed => 2,
        Outcome::Skipped | Outcome::None => 0,
    }
}

impl RecentOutcomes {
    /// The packed form of a whole history in story order (by start, then
    /// as stored); skipped results and duplicates are left out as a story
    /// leaves them out.
    #[must_use]
    pub fn from_history(history: &[StoryEntry]) -> Self {
        let mut recent = Self::default();
        for e in history {
            recent.push(*e);
        }
        recent
    }

    /// Whether `started` can be shifted in: it is not older than the newest
    /// result (an older one changes the order; rebuild from the history).
    #[must_use]
    pub fn takes(&self, started: i64) -> bool {
        self.len == 0 || started >= self.last_started
    }

    /// Shifts in a result that [`takes`](Self::takes) accepts; returns
    /// whether it counted (not skipped, not a duplicate).
    pub fn push(&mut self, e: StoryEntry) -> bool {
        let bit = outcome_bit(e.outcome);
        if bit == 0 {
            return false;
        }
        if self.len > 0 && e.started == self.last_started {
            if self.at_last & bit != 0 {
                return false;
            }
            self.at_last |= bit;
        } else {
            self.at_last = bit;
        }
        self.last_started = e.started;
        self.failed = (self.failed << 1) | u64::from(e.outcome == Outcome::Failed);
        self.flaky = (self.flaky << 1) | u64::from(e.outcome == Outcome::Passed && e.flaky);
        self.len = (self.len + 1).min(RECENT_CAPACITY as u32);
        true
    }

    /// Whether the remembered results hold a failure or a flaky mark: only
    /// then can any window over them be flaky, so only then is it kept.
    #[must_use]
    pub fn is_troubled(&self) -> bool {
        (self.failed | self.flaky) & mask(self.len) != 0
    }

    /// Figures over the newest `window` results (at most
    /// [`RECENT_CAPACITY`]).
    #[must_use]
    pub fn figures(&self, window: usize) -> RecentFigures {
        let w = u32::try_from(window.min(RECENT_CAPACITY))
            .unwrap_or(0)
            .min(self.len);
        let inside = mask(w);
        let failed = (self.failed & inside).count_ones() as usize;
        let flaky_marked = (self.flaky & inside).count_ones() as usize;
        // pair (k, k + 1) differs: both inside the window
        let changes = (self.failed ^ (self.failed >> 1)) & mask(w.saturating_sub(1));
        let flip_positions: Vec<usize> = (0..64).filter(|k| changes >> k & 1 == 1).collect();
        let runs = w as usize;
        let passed = runs - failed;
        let ratio = |n: usize| {
            if runs == 0 {
                0.0
            } else {
                n as f64 / runs as f64
            }
        };
        RecentFigures {
            runs,
            passed,
            flips: flip_positions.len(),
            flaky_marked,
            success_rate: ratio(passed),
            flakiness: ratio(flip_positions.len() + flaky_marked).min(1.0),
            flip_positions,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::insight::window_figures;

    fn entry(outcome: Outcome, flaky: bool, started: i64) -> StoryEntry {
        StoryEntry {
            outcome,
            flaky,
            started,
            duration: 1,
        }
    }

    /// The story's own de-duplication: an identical result is one entry.
    fn story(history: &[StoryEntry]) -> Vec<StoryEntry> {
        let mut out: Vec<StoryEntry> = Vec::new();
        for e in history {
            if out
                .iter()
                .rev()
                .take_while(|p| p.started == e.started)
                .any(|p| p.outcome == e.outcome)
            {
                continue;
            }
            out.push(*e);
        }
        out
    }

    /// A deterministic pseudo-random history with duplicates and skips.
    fn history(seed: u64, len: usize) -> Vec<StoryEntry> {
        let mut x = seed.wrapping_mul(0x9e37_79b9_7f4a_7c15) | 1;
        let mut started = 0;
        (0..len)
            .map(|_| {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                if !x.is_multiple_of(5) {
                    started += 1;
                }
                let outcome = match x % 7 {
                    0 | 1 => Outcome::Failed,
                    2 => Outcome::Skipped,
                    _ => Outcome::Passed,
                };
                entry(outcome, x.is_multiple_of(11), started)
            })
            .collect()
    }

    #[test]
    fn figures_match_the_window_figures_of_the_story() {
        for seed in 0..400 {
            let h = history(seed, (seed % 150) as usize);
            let recent = RecentOutcomes::from_history(&h);
            let deduped = story(&h);
            for window in [1, 2, 5, 30, 63, 64] {
                let want = window_figures(&deduped, window);
                let got = recent.figures(window);
                assert_eq!(got.runs, want.runs, "seed {seed} window {window}");
                assert_eq!(got.passed, want.passed, "seed {seed} window {window}");
                assert_eq!(got.flips, want.flips, "seed {seed} window {window}");
                assert_eq!(got.flaky_marked, want.flaky_marked, "seed {seed}");
                assert!((got.flakiness - want.flakiness).abs() < 1e-12);
                assert!((got.success_rate - want.success_rate).abs() < 1e-12);
                // the same flips, newest first, as positions from the newest
                let counted: Vec<usize> = deduped
                    .iter()
                    .enumerate()
                    .filter(|(_, e)| matches!(e.outcome, Outcome::Passed | Outcome::Failed))
                    .map(|(i, _)| i)
                    .collect();
                let positions: Vec<usize> = want
                    .flip_at
                    .iter()
                    .rev()
                    .map(|i| counted.len() - 1 - counted.iter().position(|c| c == i).unwrap())
                    .collect();
                assert_eq!(got.flip_positions, positions, "seed {seed} window {window}");
            }
        }
    }

    #[test]
    fn duplicates_and_skips_do_not_count() {
        let mut r = RecentOutcomes::default();
        assert!(r.push(entry(Outcome::Passed, false, 10)));
        assert!(!r.push(entry(Outcome::Passed, true, 10)));
        assert!(!r.push(entry(Outcome::Skipped, false, 11)));
        assert!(r.push(entry(Outcome::Failed, false, 10)));
        assert!(!r.push(entry(Outcome::Failed, false, 10)));
        assert_eq!((r.len, r.failed, r.flaky), (2, 0b1, 0));
        assert!(r.is_troubled());
        assert!(r.takes(10) && !r.takes(9));
    }

    #[test]
    fn old_failures_leave_the_remembered_results() {
        let mut r = RecentOutcomes::default();
        r.push(entry(Outcome::Failed, false, 0));
        for t in 1..=64 {
            r.push(entry(Outcome::Passed, false, t));
        }
        assert_eq!(r.len, 64);
        assert!(!r.is_troubled(), "the failure is 65th newest");
        assert_eq!(r.figures(64).flips, 0);
    }
}
