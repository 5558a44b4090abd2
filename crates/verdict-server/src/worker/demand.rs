//! Whether requests that write are waiting on this node: a running task
//! commits a checkpoint within [`BUSY_CHUNK`] of work while any is in
//! flight, and only every [`IDLE_CHUNK`] otherwise (fewer commits, a faster
//! task), so a write never waits for more than one short chunk
//! (docs/adr/0004-task-checkpoints.md).

use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

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

/// How long after a writing request started the node still counts as busy
/// for [`WriteDemand::batch_items`]: a client sending one request after
/// another has none in flight between two, yet its next one would wait
/// for a long batch (measured: a push's 202 at p99 272 ms instead of 68
/// during a 1,000,000-run task when the batch size looked only at requests
/// in flight).
pub const RECENT_WRITE: Duration = Duration::from_secs(1);

/// Requests that write (not GET, HEAD or OPTIONS) in flight on this node,
/// and when the last one started.
#[derive(Debug)]
pub struct WriteDemand {
    in_flight: AtomicUsize,
    /// Milliseconds after `origin` when the last writing request started,
    /// plus one (0: none yet).
    last_start_ms: AtomicU64,
    origin: Instant,
    recent: Duration,
}

impl Default for WriteDemand {
    fn default() -> Self {
        Self::with_recent(RECENT_WRITE)
    }
}

/// Counts one request while it lives.
pub struct InFlight<'a>(&'a WriteDemand);

impl Drop for InFlight<'_> {
    fn drop(&mut self) {
        self.0.in_flight.fetch_sub(1, Ordering::Relaxed);
    }
}

impl WriteDemand {
    /// Demand that counts a request as recent for `recent` after it started.
    pub fn with_recent(recent: Duration) -> Self {
        Self {
            in_flight: AtomicUsize::new(0),
            last_start_ms: AtomicU64::new(0),
            origin: Instant::now(),
            recent,
        }
    }

    /// A writing request starts; it is counted until the guard drops.
    pub fn enter(&self) -> InFlight<'_> {
        self.in_flight.fetch_add(1, Ordering::Relaxed);
        self.last_start_ms
            .store(self.elapsed_ms().saturating_add(1), Ordering::Relaxed);
        InFlight(self)
    }

    fn elapsed_ms(&self) -> u64 {
        u64::try_from(self.origin.elapsed().as_millis()).unwrap_or(u64::MAX)
    }

    /// Whether a writing request started within `recent` and not before
    /// `since`.
    fn recently_busy(&self, since: Instant) -> bool {
        match self.last_start_ms.load(Ordering::Relaxed) {
            0 => false,
            at => {
                let started = at - 1;
                let since_ms =
                    u64::try_from(since.saturating_duration_since(self.origin).as_millis())
                        .unwrap_or(u64::MAX);
                let ago = self.elapsed_ms().saturating_sub(started);
                started >= since_ms && u128::from(ago) < self.recent.as_millis()
            }
        }
    }

    fn busy(&self) -> bool {
        self.in_flight.load(Ordering::Relaxed) > 0
    }

    /// How long the current chunk of a task may run.
    pub fn chunk(&self) -> Duration {
        if self.busy() { BUSY_CHUNK } else { IDLE_CHUNK }
    }

    /// How many prepared items a task that started at `since` gathers
    /// before writing them: few while writes are in flight or one started
    /// within [`RECENT_WRITE`] after the task did. A write that ended
    /// before the task began never waited for it: counting it (a lone CI
    /// pusher's own push) made every re-run of 10,000 tests write in
    /// 500-item batches.
    pub fn batch_items(&self, since: Instant) -> usize {
        if self.busy() || self.recently_busy(since) {
            BUSY_BATCH
        } else {
            IDLE_BATCH
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chunks_are_short_while_writes_are_in_flight() {
        let demand = WriteDemand::default();
        assert_eq!(demand.chunk(), IDLE_CHUNK);
        assert_eq!(demand.batch_items(demand.origin), IDLE_BATCH);
        let one = demand.enter();
        let two = demand.enter();
        assert_eq!(demand.chunk(), BUSY_CHUNK);
        assert_eq!(demand.batch_items(demand.origin), BUSY_BATCH);
        drop(one);
        assert_eq!(demand.chunk(), BUSY_CHUNK);
        drop(two);
        assert_eq!(demand.chunk(), IDLE_CHUNK);
    }

    #[test]
    fn batches_stay_small_for_a_while_after_a_write_started() {
        // Counted as recent for an hour: still busy after the request ended.
        let demand = WriteDemand::with_recent(Duration::from_secs(3600));
        let task = demand.origin;
        assert_eq!(demand.batch_items(task), IDLE_BATCH);
        drop(demand.enter());
        assert_eq!(demand.batch_items(task), BUSY_BATCH);
        assert_eq!(
            demand.chunk(),
            IDLE_CHUNK,
            "checkpoints follow requests in flight only"
        );
        // Never counted as recent: idle again once the request ended.
        let demand = WriteDemand::with_recent(Duration::ZERO);
        let one = demand.enter();
        assert_eq!(demand.batch_items(demand.origin), BUSY_BATCH);
        drop(one);
        assert_eq!(demand.batch_items(demand.origin), IDLE_BATCH);
    }

    #[test]
    fn writes_that_ended_before_the_task_started_do_not_count() {
        let demand = WriteDemand::with_recent(Duration::from_secs(3600));
        drop(demand.enter());
        std::thread::sleep(Duration::from_millis(5));
        let task = Instant::now();
        assert_eq!(demand.batch_items(task), IDLE_BATCH);
        let one = demand.enter();
        assert_eq!(demand.batch_items(task), BUSY_BATCH, "in flight");
        drop(one);
        assert_eq!(
            demand.batch_items(task),
            BUSY_BATCH,
            "started after the task"
        );
    }
}
