//! What a task carries from one of its transactions to the next
//! (docs/adr/0004-task-checkpoints.md): a large task commits a chunk at a
//! time (`demand::WriteDemand` says how long), so other writers (pushes
//! being accepted, sign-ins, Test Center) wait for one short transaction,
//! never for the whole task; each commit holds the point to resume from and
//! this state.

use serde::{Deserialize, Serialize};
use verdict_domain::rules::{MAX_ERROR_ENTRIES, Problem, Scope};
use verdict_store::{ResultSetRef, TaskState};

use super::insight::KeptResult;

/// A task's state between two of its transactions.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq, Eq)]
pub struct Saved {
    /// The first problems (errorDetails shows no more than these) as
    /// (item index or global, message), and how many followed.
    pub problems: Vec<(Option<u64>, String)>,
    pub more_problems: u64,
    pub items_skipped: u64,
    /// Runs admitted to and ignored by each suite run, and each suite run's
    /// suite (for the overflow warnings).
    pub suite_admitted: Vec<(i64, u64)>,
    pub suite_ignored: Vec<(i64, u64)>,
    pub suite_of: Vec<(i64, i64)>,
    /// The insight result set the task writes into, once created.
    pub result_set: Option<(i64, i64)>,
    pub kept: Option<KeptResult>,
    /// Workspaces of a CI fan-out already applied: verdict and details.
    pub done: Vec<(String, Option<String>)>,
    /// The workspaces of a CI fan-out as first resolved (a CI server
    /// registered meanwhile does not shift the resume point).
    pub workspaces: Vec<i64>,
}

impl Saved {
    /// Keeps what errorDetails and the verdict need of `problems`.
    pub fn set_problems(&mut self, problems: &[Problem]) {
        self.problems = problems
            .iter()
            .take(MAX_ERROR_ENTRIES)
            .map(|p| {
                let scope = match p.scope {
                    Scope::Global => None,
                    Scope::Item(i) => Some(i),
                };
                (scope, p.message.clone())
            })
            .collect();
        self.more_problems = (problems.len().saturating_sub(MAX_ERROR_ENTRIES)) as u64;
    }

    /// The problems back: the kept ones, then as many stand-ins as followed
    /// (only their number is ever shown).
    pub fn problems(&self) -> Vec<Problem> {
        let mut out: Vec<Problem> = self
            .problems
            .iter()
            .map(|(scope, message)| Problem {
                scope: scope.map_or(Scope::Global, Scope::Item),
                message: message.clone(),
            })
            .collect();
        for _ in 0..self.more_problems {
            out.push(Problem {
                scope: Scope::Global,
                message: String::new(),
            });
        }
        out
    }

    pub fn result_set(&self) -> Option<ResultSetRef> {
        self.result_set
            .map(|(id, series_id)| ResultSetRef { id, series_id })
    }

    pub fn done(&self) -> Vec<(TaskState, Option<String>)> {
        self.done
            .iter()
            .map(|(s, d)| (TaskState::parse(s), d.clone()))
            .collect()
    }

    /// The stored text.
    pub fn encode(&self) -> String {
        serde_json::to_string(self).unwrap_or_default()
    }

    /// Reads a stored text; `None` when it is not one of ours.
    pub fn decode(text: &str) -> Option<Self> {
        serde_json::from_str(text).ok()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn problems_keep_what_error_details_shows_and_their_count() {
        let problems: Vec<Problem> = (0..150)
            .map(|i| Problem {
                scope: if i == 0 {
                    Scope::Global
                } else {
                    Scope::Item(i)
                },
                message: format!("m{i}"),
            })
            .collect();
        let mut saved = Saved::default();
        saved.set_problems(&problems);
        let back = Saved::decode(&saved.encode())
            .unwrap_or_default()
            .problems();
        assert_eq!(back.len(), 150);
        assert_eq!(
            verdict_domain::rules::error_details(&back, true),
            verdict_domain::rules::error_details(&problems, true)
        );
        assert_eq!(Saved::decode("not json"), None);
    }
}
