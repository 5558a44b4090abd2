//! Test Center's result model (`testcenter-notes.md`): the levels of a
//! report's hierarchy and which parent each accepts, event types, and how a
//! run's result is derived as the worst verdict of its events and children.

use crate::status::RunStatus;

/// A level of the reporting hierarchy; each `/upload/<level>s` creates one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Level {
    Suite,
    Case,
    Feature,
    Scenario,
    Step,
    Section,
}

impl Level {
    /// The test subtype Verdict stores for this level.
    #[must_use]
    pub fn subtype(self) -> &'static str {
        match self {
            Self::Suite => "tc_suite",
            Self::Case => "tc_case",
            Self::Feature => "tc_feature",
            Self::Scenario => "tc_scenario",
            Self::Step => "tc_step",
            Self::Section => "tc_section",
        }
    }

    /// Inverse of [`Level::subtype`].
    #[must_use]
    pub fn from_subtype(subtype: &str) -> Option<Self> {
        [
            Self::Suite,
            Self::Case,
            Self::Feature,
            Self::Scenario,
            Self::Step,
            Self::Section,
        ]
        .into_iter()
        .find(|l| l.subtype() == subtype)
    }

    /// Lower-case noun for messages (`case`).
    #[must_use]
    pub fn noun(self) -> &'static str {
        &self.subtype()[3..]
    }

    /// Whether a run of `parent` may hold a run of this level: case → suite;
    /// feature → suite or case; scenario → feature; step → scenario; section → any.
    #[must_use]
    pub fn accepts_parent(self, parent: Self) -> bool {
        match self {
            Self::Suite => false,
            Self::Case => parent == Self::Suite,
            Self::Feature => matches!(parent, Self::Suite | Self::Case),
            Self::Scenario => parent == Self::Feature,
            Self::Step => parent == Self::Scenario,
            Self::Section => true,
        }
    }

    /// What the parent must be, for error messages.
    #[must_use]
    pub fn expected_parents(self) -> &'static str {
        match self {
            Self::Suite => "none (suites are top-level)",
            Self::Case => "a suite",
            Self::Feature => "a suite or a case",
            Self::Scenario => "a feature",
            Self::Step => "a scenario",
            Self::Section => "any run",
        }
    }
}

/// An event type of `/upload/events`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum EventType {
    Pass,
    XPass,
    Fail,
    XFail,
    Warning,
    Error,
    Fatal,
    Log,
    Skipped,
    Attachment,
}

impl EventType {
    /// Parses the wire spelling (`PASS`, ...); `None` for unknown types.
    #[must_use]
    pub fn parse(text: &str) -> Option<Self> {
        Some(match text {
            "PASS" => Self::Pass,
            "XPASS" => Self::XPass,
            "FAIL" => Self::Fail,
            "XFAIL" => Self::XFail,
            "WARNING" => Self::Warning,
            "ERROR" => Self::Error,
            "FATAL" => Self::Fatal,
            "LOG" => Self::Log,
            "SKIPPED" => Self::Skipped,
            "ATTACHMENT" => Self::Attachment,
            _ => return None,
        })
    }

    /// The wire spelling.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Pass => "PASS",
            Self::XPass => "XPASS",
            Self::Fail => "FAIL",
            Self::XFail => "XFAIL",
            Self::Warning => "WARNING",
            Self::Error => "ERROR",
            Self::Fatal => "FATAL",
            Self::Log => "LOG",
            Self::Skipped => "SKIPPED",
            Self::Attachment => "ATTACHMENT",
        }
    }

    /// Severity for result derivation: FAIL = ERROR = FATAL > XPASS > XFAIL >
    /// PASS > SKIPPED; WARNING, LOG and ATTACHMENT carry no verdict (0).
    #[must_use]
    pub fn rank(self) -> i64 {
        match self {
            Self::Fail | Self::Error | Self::Fatal => 5,
            Self::XPass => 4,
            Self::XFail => 3,
            Self::Pass => 2,
            Self::Skipped => 1,
            Self::Warning | Self::Log | Self::Attachment => 0,
        }
    }
}

/// All the wire spellings, for error messages.
pub const EVENT_TYPES: &str =
    "PASS, XPASS, FAIL, XFAIL, WARNING, ERROR, FATAL, LOG, SKIPPED, ATTACHMENT";

/// The run status a result rank shows as: XPASS counts as failing, XFAIL as
/// passing; no verdict at all ("no checks") shows as planned (V).
#[must_use]
pub fn status_of_rank(rank: i64) -> RunStatus {
    match rank {
        r if r >= 4 => RunStatus::Failed,
        2 | 3 => RunStatus::Passed,
        1 => RunStatus::Skipped,
        _ => RunStatus::Planned,
    }
}

/// Name of a result rank for Verdict's own API (`FAIL`, `XPASS`, ..., `NO_CHECKS`).
#[must_use]
pub fn result_name(rank: i64) -> &'static str {
    match rank {
        r if r >= 5 => "FAIL",
        4 => "XPASS",
        3 => "XFAIL",
        2 => "PASS",
        1 => "SKIPPED",
        _ => "NO_CHECKS",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parents_follow_the_notes() {
        assert!(Level::Case.accepts_parent(Level::Suite));
        assert!(!Level::Case.accepts_parent(Level::Case));
        assert!(Level::Feature.accepts_parent(Level::Case));
        assert!(!Level::Scenario.accepts_parent(Level::Suite));
        assert!(Level::Section.accepts_parent(Level::Step));
        assert_eq!(Level::from_subtype("tc_case"), Some(Level::Case));
        assert_eq!(Level::Scenario.noun(), "scenario");
    }

    #[test]
    fn worst_verdict_wins_and_xpass_fails() {
        let worst = [EventType::Pass, EventType::XFail, EventType::Log]
            .iter()
            .map(|e| e.rank())
            .max()
            .unwrap();
        assert_eq!(status_of_rank(worst), RunStatus::Passed);
        assert_eq!(status_of_rank(EventType::XPass.rank()), RunStatus::Failed);
        assert_eq!(status_of_rank(EventType::Fatal.rank()), RunStatus::Failed);
        assert_eq!(
            status_of_rank(EventType::Warning.rank()),
            RunStatus::Planned
        );
        assert_eq!(EventType::parse("pass"), None);
        assert_eq!(result_name(0), "NO_CHECKS");
    }
}
