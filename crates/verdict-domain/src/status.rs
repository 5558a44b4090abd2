//! Run statuses as the payload names them and as they are stored.

use std::fmt;

/// The status of an automated run, exactly as the Octane payload spells it
/// (`Passed`, `Skipped`, `Failed`, `Planned`; case-sensitive on the wire).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum RunStatus {
    Passed,
    Skipped,
    Failed,
    Planned,
}

impl RunStatus {
    /// The payload spelling; `None` for anything else (the XSD is case-sensitive).
    #[must_use]
    pub fn from_payload(text: &str) -> Option<Self> {
        match text {
            "Passed" => Some(Self::Passed),
            "Skipped" => Some(Self::Skipped),
            "Failed" => Some(Self::Failed),
            "Planned" => Some(Self::Planned),
            _ => None,
        }
    }

    /// Lower-case key used in list nodes (`run_status.passed`) and storage.
    #[must_use]
    pub fn key(self) -> &'static str {
        match self {
            Self::Passed => "passed",
            Self::Skipped => "skipped",
            Self::Failed => "failed",
            Self::Planned => "planned",
        }
    }

    /// Inverse of [`RunStatus::key`].
    #[must_use]
    pub fn from_key(key: &str) -> Option<Self> {
        match key {
            "passed" => Some(Self::Passed),
            "skipped" => Some(Self::Skipped),
            "failed" => Some(Self::Failed),
            "planned" => Some(Self::Planned),
            _ => None,
        }
    }

    /// How bad the result is, for choosing between two results of the same
    /// test in one report (the worse one wins, so a failure is never hidden
    /// by a pass): failed > passed > skipped > planned. A pass outranks a
    /// skip because a retried test's skipped tries (TestNG) end in its pass.
    #[must_use]
    pub fn severity(self) -> u8 {
        match self {
            Self::Failed => 3,
            Self::Passed => 2,
            Self::Skipped => 1,
            Self::Planned => 0,
        }
    }

    /// Display name as Octane shows it (`Passed`).
    #[must_use]
    pub fn display_name(self) -> &'static str {
        match self {
            Self::Passed => "Passed",
            Self::Skipped => "Skipped",
            Self::Failed => "Failed",
            Self::Planned => "Planned",
        }
    }
}

impl fmt::Display for RunStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.display_name())
    }
}
