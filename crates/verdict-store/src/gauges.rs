//! Figures read when `/metrics` is scraped: the task queue and the
//! database pools. Cheap on purpose (the queue counts walk the
//! `tasks_claim (state, id)` index; finished tasks are not counted here, the
//! server counts them as they finish).

use crate::connect::Store;
use crate::error::StoreError;

/// The task queue right now.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct QueueFigures {
    pub queued: i64,
    pub running: i64,
    /// Acceptance time (epoch ms) of the first queued task (tasks are
    /// claimed in id order; one probe of `tasks_claim`).
    pub oldest_queued_ms: Option<i64>,
}

/// One connection pool: open connections and the idle ones among them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PoolFigures {
    pub pool: &'static str,
    pub size: u32,
    pub idle: usize,
    pub max: u32,
}

impl Store {
    /// Queued and running tasks, and the oldest queued one.
    ///
    /// # Errors
    /// Database failure.
    pub async fn queue_figures(&self) -> Result<QueueFigures, StoreError> {
        let (queued, running, oldest): (i64, i64, Option<i64>) = sqlx::query_as(
            "SELECT (SELECT COUNT(*) FROM tasks WHERE state = 'queued'), \
             (SELECT COUNT(*) FROM tasks WHERE state = 'running'), \
             (SELECT accepted_at FROM tasks WHERE state = 'queued' ORDER BY id LIMIT 1)",
        )
        .fetch_one(&self.read)
        .await?;
        Ok(QueueFigures {
            queued,
            running,
            oldest_queued_ms: oldest,
        })
    }

    /// The read and write pools (one and the same on PostgreSQL).
    #[must_use]
    pub fn pool_figures(&self) -> Vec<PoolFigures> {
        let figures = |pool: &'static str, p: &sqlx::AnyPool| PoolFigures {
            pool,
            size: p.size(),
            idle: p.num_idle(),
            max: p.options().get_max_connections(),
        };
        match self.backend {
            crate::connect::Backend::Sqlite => {
                vec![figures("read", &self.read), figures("write", &self.write)]
            }
            crate::connect::Backend::Postgres => vec![figures("shared", &self.read)],
        }
    }
}
