//! Ctrl-C during `verdict push`: the push stops at once and says, per file,
//! what the server has (a task, still processing there) and what it has not.

use std::sync::Mutex;

/// Where each file of a push is, as Ctrl-C finds it.
pub struct Progress {
    state: Mutex<State>,
}

struct State {
    files: Vec<String>,
    /// `(file index, task id)` of the files the server accepted.
    accepted: Vec<(usize, i64)>,
    /// The file being converted or uploaded, if any.
    pushing: Option<usize>,
    /// The task being followed (`--check-result`), if any.
    following: Option<i64>,
    /// `…/test-results`, where a task's status is read.
    tasks_url: Option<String>,
    /// The live lines, cleared before the message.
    lines: Option<indicatif::MultiProgress>,
}

impl Progress {
    pub fn new(files: &[String]) -> Self {
        Self {
            state: Mutex::new(State {
                files: files.to_vec(),
                accepted: Vec::new(),
                pushing: None,
                following: None,
                tasks_url: None,
                lines: None,
            }),
        }
    }

    fn with(&self, f: impl FnOnce(&mut State)) {
        if let Ok(mut s) = self.state.lock() {
            f(&mut s);
        }
    }

    pub fn tasks_url(&self, url: String) {
        self.with(|s| s.tasks_url = Some(url));
    }

    pub fn lines(&self, lines: indicatif::MultiProgress) {
        self.with(|s| s.lines = Some(lines));
    }

    /// Removes the live lines (the message takes their place).
    pub fn clear_lines(&self) {
        if let Ok(s) = self.state.lock()
            && let Some(lines) = &s.lines
        {
            let _ = lines.clear();
        }
    }

    pub fn pushing(&self, file: usize) {
        self.with(|s| s.pushing = Some(file));
    }

    pub fn accepted(&self, file: usize, task: i64) {
        self.with(|s| {
            s.pushing = None;
            s.accepted.push((file, task));
        });
    }

    pub fn following(&self, task: Option<i64>) {
        self.with(|s| s.following = task);
    }

    /// What to tell the user now: what was and was not pushed.
    pub fn interrupted(&self) -> String {
        let Ok(s) = self.state.lock() else {
            return "interrupted".to_owned();
        };
        let mut lines = vec!["interrupted (Ctrl-C); nothing more is sent".to_owned()];
        for (i, name) in s.files.iter().enumerate() {
            let task = s.accepted.iter().find(|(f, _)| *f == i).map(|(_, t)| *t);
            lines.push(match (task, s.pushing == Some(i)) {
                (Some(t), _) if s.following == Some(t) => format!(
                    "  {name}: pushed, task {t} accepted and still processing on the server; its status: GET {}/{t}",
                    s.tasks_url.as_deref().unwrap_or("…/test-results")
                ),
                (Some(t), _) => format!("  {name}: pushed, task {t}"),
                (None, true) => format!(
                    "  {name}: not pushed (stopped before the server answered; if its upload had completed the \
                     server may have queued it: look at the workspace's newest tasks before pushing it again)"
                ),
                (None, false) => format!("  {name}: not pushed"),
            });
        }
        lines.join("\n")
    }
}
