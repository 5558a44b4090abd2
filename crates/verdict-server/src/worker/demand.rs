//! Whether requests that write are waiting on this node: a running task
//! commits a checkpoint within [`BUSY_CHUNK`] of work while any is in
//! flight, and only every [`IDLE_CHUNK`] otherwise (fewer commits, a faster
//! task), so a write never waits for more than one short chunk
//! (docs/adr/0004-task-checkpoints.md).

use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

/// A chunk's length while writes are waiting.
pub const BUSY_CHUNK: Duration = Duration::from_millis(10);
/// A chunk's length otherwise (it bounds the work redone after a crash).
pub const IDLE_CHUNK: Duration = Duration::from_secs(1);

/// Items written per batch while writes are waiting: a batch is never cut
/// by a checkpoint, so it bounds how long a waiting write can wait.
pub const BUSY_BATCH: usize = 500;
/// Items written per batch otherwise: about 4× fewer statements than
/// [`BUSY_BATCH`] (measured on a 10,000-run re-run, SQLite: preparing 17 →
/// 10 ms, insight 78 → 66 ms).
pub const IDLE_BATCH: usize = 2_000;

/// Requests that write (not GET, HEAD or OPTIONS) in flight on this node.
#[derive(Debug, Default)]
pub struct WriteDemand {
    in_flight: AtomicUsize,
}

/// Counts one request while it lives.
pub struct InFlight<'a>(&'a WriteDemand);

impl Drop for InFlight<'_> {
    fn drop(&mut self) {
        self.0.in_flight.fetch_sub(1, Ordering::Relaxed);
    }
}

impl WriteDemand {
    /// A writing request starts; it is counted until the guard drops.
    pub fn enter(&self) -> InFlight<'_> {
        self.in_flight.fetch_add(1, Ordering::Relaxed);
        InFlight(self)
    }

    fn busy(&self) -> bool {
        self.in_flight.load(Ordering::Relaxed) > 0
    }

    /// How long the current chunk of a task may run.
    pub fn chunk(&self) -> Duration {
        if self.busy() { BUSY_CHUNK } else { IDLE_CHUNK }
    }

    /// How many prepared items a task gathers before writing them.
    pub fn batch_items(&self) -> usize {
        if self.busy() { BUSY_BATCH } else { IDLE_BATCH }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chunks_are_short_while_writes_are_in_flight() {
        let demand = WriteDemand::default();
        assert_eq!(demand.chunk(), IDLE_CHUNK);
        assert_eq!(demand.batch_items(), IDLE_BATCH);
        let one = demand.enter();
        let two = demand.enter();
        assert_eq!(demand.chunk(), BUSY_CHUNK);
        assert_eq!(demand.batch_items(), BUSY_BATCH);
        drop(one);
        assert_eq!(demand.chunk(), BUSY_CHUNK);
        drop(two);
        assert_eq!(demand.chunk(), IDLE_CHUNK);
    }
}
