//! What a task adds to insight: the result set it writes into (a CI build,
//! or the push itself), each written result's outcome, context, mute mark
//! and failure signature (docs/insight.md).

use std::collections::HashSet;

use verdict_store::{
    ChangedResult, ContextSpec, IngestTx, NewResult, ResultSetRef, ResultSetSpec, StoreError,
};

/// One task's insight state in one workspace.
pub struct InsightCtx {
    spec: ResultSetSpec,
    set: Option<ResultSetRef>,
    muted: HashSet<i64>,
    /// A result the task pushed again unchanged (its set is the task's set
    /// when the task stores nothing new).
    kept: Option<KeptResult>,
}

/// A stored result a push repeated: (test, context, started, run).
pub type KeptResult = (i64, i64, i64, i64);

/// The results of one batch, collected while runs are written.
#[derive(Default)]
pub struct BatchResults {
    pub new: Vec<NewResult>,
    pub changed: Vec<ChangedResult>,
    pub contexts: Vec<ContextSpec>,
    /// The first result of the batch that was already stored as it is.
    pub kept: Option<KeptResult>,
}

impl BatchResults {
    /// Notes a result's context; a batch mostly has one, so repeats of the
    /// last one are not kept (the store ignores known contexts anyway).
    pub fn add_context(&mut self, context: ContextSpec) {
        if self.contexts.last().is_none_or(|c| c.key != context.key) {
            self.contexts.push(context);
        }
    }
}

impl InsightCtx {
    /// Loads the workspace's mutes for a task writing into `spec`'s set.
    pub async fn start(tx: &mut IngestTx, spec: ResultSetSpec) -> Result<Self, StoreError> {
        let muted = tx.active_mutes().await?;
        Ok(Self {
            spec,
            set: None,
            muted,
            kept: None,
        })
    }

    /// Keeps the set and the kept result for the task's next transaction.
    pub fn save(&self, saved: &mut super::checkpoint::Saved) {
        saved.result_set = self.set.map(|s| (s.id, s.series_id));
        saved.kept = self.kept;
    }

    /// Takes back what a checkpoint kept.
    pub fn restore(&mut self, saved: &super::checkpoint::Saved) {
        self.set = saved.result_set();
        self.kept = saved.kept;
    }

    /// Whether the test is muted now.
    pub fn is_muted(&self, test_id: i64) -> bool {
        self.muted.contains(&test_id)
    }

    /// Writes a batch's results, creating the set on its first results.
    pub async fn record(
        &mut self,
        tx: &mut IngestTx,
        batch: BatchResults,
    ) -> Result<(), StoreError> {
        if self.kept.is_none() {
            self.kept = batch.kept;
        }
        if batch.new.is_empty() && batch.changed.is_empty() {
            return Ok(());
        }
        let set = match self.set {
            Some(set) => set,
            None => {
                let started = batch
                    .new
                    .iter()
                    .map(|r| r.started)
                    .chain(batch.changed.iter().map(|c| c.new.started))
                    .min()
                    .unwrap_or_default();
                let set = tx.result_set(&self.spec, started).await?;
                self.set = Some(set);
                set
            }
        };
        tx.record_results(set, batch.new, batch.changed, &batch.contexts)
            .await
    }

    /// Links the task to its set at the end of the task. A task that only
    /// repeated stored results (a re-push after the dedupe window, or with
    /// `--no-dedupe`) is linked to the set holding them, so `verdict push
    /// --summary` and `--fail-on` judge what the report says.
    pub async fn finish(self, tx: &mut IngestTx) -> Result<(), StoreError> {
        let set = match (self.set, self.kept) {
            (Some(set), _) => Some(set),
            (None, Some((test, context, started, run))) => {
                tx.set_of_result(test, context, started, run).await?
            }
            (None, None) => None,
        };
        match set {
            Some(set) => tx.close_result_sets(&[set]).await,
            None => Ok(()),
        }
    }
}
