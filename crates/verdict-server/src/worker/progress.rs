//! How far a running task has got, kept in memory by the node processing it
//! (item by item; its checkpoints in the database only say where a chunk
//! ended): the node that holds the task answers how many items it has
//! applied, other nodes answer without a figure.

use std::collections::HashMap;
use std::sync::Mutex;

/// Ends a task's entry when dropped.
pub struct Running<'a> {
    progress: &'a TaskProgress,
    task: i64,
}

impl Drop for Running<'_> {
    fn drop(&mut self) {
        self.progress.end(self.task);
    }
}

/// Items applied per running task on this node.
#[derive(Debug, Default)]
pub struct TaskProgress {
    applied: Mutex<HashMap<i64, u64>>,
}

impl TaskProgress {
    /// `task` has applied `items` so far.
    pub fn set(&self, task: i64, items: u64) {
        if let Ok(mut m) = self.applied.lock() {
            m.insert(task, items);
        }
    }

    /// `task` starts here at 0 items; the entry goes when the guard drops
    /// (a panicking worker included).
    #[must_use]
    pub fn running(&self, task: i64) -> Running<'_> {
        self.set(task, 0);
        Running {
            progress: self,
            task,
        }
    }

    /// `task` is no longer running here.
    pub fn end(&self, task: i64) {
        if let Ok(mut m) = self.applied.lock() {
            m.remove(&task);
        }
    }

    /// Items `task` has applied, if it is running on this node.
    #[must_use]
    pub fn applied(&self, task: i64) -> Option<u64> {
        self.applied.lock().ok()?.get(&task).copied()
    }
}
