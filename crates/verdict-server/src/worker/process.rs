//! Processing one claimed task end to end (protocol §5): one transaction,
//! items in document order, problems collected into `errorDetails`, and a
//! final status committed together with the writes.

use std::collections::HashMap;
use std::time::Instant;

use verdict_domain::payload::{Item, PayloadHeader};
use verdict_domain::rules::{self, Outcome, Problem, Scope};
use verdict_store::{ClaimedTask, IngestTx, Store, StoreError, TaskCheckpoint, TaskState};

use super::checkpoint::Saved;
use super::demand::WriteDemand;

use super::feed::{self, Parsed};
use super::insight::InsightCtx;
use super::prepare::{self, SuiteRuns};
use super::progress::TaskProgress;
use super::resolve::{Resolved, Resolver};
use super::write::{self, PreparedItem};

/// Why processing stopped with a system fault (the task ends `error`).
#[derive(Debug, thiserror::Error)]
pub enum ProcessError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("stored payload could not be read back: {0}")]
    Payload(String),
    /// A resumed task found its global context changed (an entity it
    /// linked was deleted): it cannot go on as it began.
    #[error("the task cannot resume: {0}")]
    Resume(String),
}

impl ProcessError {
    /// Whether trying again from the last checkpoint may succeed (a
    /// database failure may be transient; a payload or context fault is not).
    #[must_use]
    pub fn may_resume(&self) -> bool {
        matches!(self, Self::Store(_))
    }

    /// Whether the fault may pass by itself (a busy, restarting or full
    /// database, a cut connection), so that starting a task over without a
    /// checkpoint is worth it; a fault every try would meet (a value the
    /// database refuses) is not.
    #[must_use]
    pub fn may_pass(&self) -> bool {
        match self {
            Self::Store(e) => {
                e.is_transient()
                    || e.is_storage_full()
                    || matches!(e, StoreError::TransactionClosed)
            }
            _ => false,
        }
    }
}

/// The state of one task while its items stream in.
pub(super) struct Job {
    pub skip_errors: bool,
    pub injection_time: i64,
    pub resolver: Resolver,
    pub global: Resolved,
    pub ci_build_id: Option<i64>,
    pub problems: Vec<Problem>,
    pub items_skipped: u64,
    pub next_index: u64,
    pub suite_runs: SuiteRuns,
    pub status_ids: HashMap<&'static str, (i64, i64)>,
}

/// Processes `task`; returns false when the lease was lost (another worker
/// owns the task now and this one's writes were rolled back).
///
/// # Errors
/// A system fault; the transaction is rolled back and the caller marks the task `error`.
pub async fn process_claimed_task(
    store: &Store,
    task: &ClaimedTask,
    owner: &str,
) -> Result<bool, ProcessError> {
    let idle = (TaskProgress::default(), WriteDemand::default());
    process_reporting(store, task, owner, 60_000, &idle.0, &idle.1).await
}

/// Where a task's commits go: who holds it, for how long, the workspace of
/// a CI fan-out being applied, and the checkpoint it resumes from.
struct Commits<'a> {
    owner: &'a str,
    demand: &'a WriteDemand,
    lease_ms: i64,
    workspace_pos: i64,
    workspaces: Vec<i64>,
    done: Vec<(TaskState, Option<String>)>,
    resume: Option<(u64, Saved)>,
    /// Items below this were applied by an earlier run of the task.
    skip_to: u64,
    last: Instant,
    /// When the task started (writes before it never waited for it).
    started: Instant,
}

impl Commits<'_> {
    /// Commits what `job` and `insight` wrote so far with the point to
    /// resume from; false when the lease is lost.
    async fn checkpoint(
        &mut self,
        tx: &mut IngestTx,
        job: &Job,
        insight: &InsightCtx,
    ) -> Result<bool, ProcessError> {
        let mut saved = Saved {
            items_skipped: job.items_skipped,
            workspaces: self.workspaces.clone(),
            done: self
                .done
                .iter()
                .map(|(s, d)| (s.as_str().to_owned(), d.clone()))
                .collect(),
            ..Saved::default()
        };
        saved.set_problems(&job.problems);
        job.suite_runs.save(&mut saved);
        insight.save(&mut saved);
        let checkpoint = TaskCheckpoint {
            workspace_pos: self.workspace_pos,
            // While a resumed task still skips, the state is the restored
            // one, which covers everything up to `skip_to`.
            next_index: job.next_index.max(self.skip_to),
            state: saved.encode(),
        };
        let kept = tx
            .checkpoint(self.owner, self.lease_ms, &checkpoint)
            .await?;
        self.last = Instant::now();
        Ok(kept)
    }
}

/// [`process_claimed_task`] with the lease to extend at each commit,
/// recording in `progress` how many items it has applied while it runs.
///
/// # Errors
/// As [`process_claimed_task`].
pub async fn process_reporting(
    store: &Store,
    task: &ClaimedTask,
    owner: &str,
    lease_ms: i64,
    progress: &TaskProgress,
    demand: &WriteDemand,
) -> Result<bool, ProcessError> {
    let _running = progress.running(task.id);
    let resumed = store.task_checkpoint(task.id).await?.and_then(|c| {
        let saved = Saved::decode(&c.state)?;
        Some((c.workspace_pos, c.next_index, saved))
    });
    if resumed.is_some() {
        tracing::info!(task = task.id, "resuming the task from its last checkpoint");
    }
    let mut commits = Commits {
        owner,
        demand,
        lease_ms,
        workspace_pos: 0,
        workspaces: Vec::new(),
        done: Vec::new(),
        resume: None,
        skip_to: 0,
        last: Instant::now(),
        started: Instant::now(),
    };
    let Some(ci) = &task.ci else {
        commits.resume = resumed.map(|(_, next, saved)| (next, saved));
        let mut tx = store.begin_ingest(task.workspace_id, task.id).await?;
        let Some(pass) = process_into(store, &mut tx, task, None, progress, &mut commits).await?
        else {
            return Ok(false);
        };
        let (state, details) = pass.verdict(task.skip_errors);
        return Ok(tx.finish(owner, state, details.as_deref()).await?);
    };
    let (start, workspaces) = match resumed {
        Some((pos, next, saved)) => {
            commits.done = saved.done();
            let list = saved.workspaces.clone();
            commits.resume = Some((next, saved));
            (usize::try_from(pos).unwrap_or(0), list)
        }
        // Auto-registration writes outside the task's transaction (SQLite has one writer).
        None => (0, super::ci_target::workspaces(store, ci).await?),
    };
    commits.workspaces.clone_from(&workspaces);
    let mut tx = store
        .begin_ingest(workspaces.get(start).copied().unwrap_or_default(), task.id)
        .await?;
    if workspaces.is_empty() {
        let details = format!(
            "global: no workspace knows ci server '{}'",
            ci.instance_id.replace(';', ",")
        );
        return Ok(tx.finish(owner, TaskState::Failed, Some(&details)).await?);
    }
    for (pos, ws) in workspaces.iter().enumerate().skip(start) {
        commits.workspace_pos = i64::try_from(pos).unwrap_or(i64::MAX);
        tx.switch_workspace(*ws).await?;
        let Some(pass) =
            process_into(store, &mut tx, task, Some(ci), progress, &mut commits).await?
        else {
            return Ok(false);
        };
        let (state, text) = pass.verdict(task.skip_errors);
        let text = text.map(|text| {
            text.split(';')
                .map(|e| format!("workspace {ws}: {e}"))
                .collect::<Vec<String>>()
                .join(";")
        });
        commits.done.push((state, text));
    }
    let worst = commits.done.iter().fold(TaskState::Success, |w, (s, _)| {
        super::ci_target::worse(w, *s)
    });
    let details: Vec<String> = commits.done.iter().filter_map(|(_, d)| d.clone()).collect();
    let details = (!details.is_empty()).then(|| details.join(";"));
    Ok(tx.finish(owner, worst, details.as_deref()).await?)
}

/// The result of applying a payload to one workspace.
struct Pass {
    stopped: bool,
    items_skipped: u64,
    problems: Vec<Problem>,
}

impl Pass {
    fn verdict(&self, skip_errors: bool) -> (TaskState, Option<String>) {
        let state = match rules::outcome(self.stopped, self.items_skipped, self.problems.len()) {
            Outcome::Success => TaskState::Success,
            Outcome::Warning => TaskState::Warning,
            Outcome::Failed => TaskState::Failed,
        };
        (
            state,
            rules::error_details(&self.problems, skip_errors && !self.stopped),
        )
    }
}

/// Streams the stored payload into the transaction's current workspace,
/// committing a checkpoint once a chunk is long enough (short while other
/// writes wait: [`WriteDemand`]); `None` when the lease was lost at one.
async fn process_into(
    store: &Store,
    tx: &mut IngestTx,
    task: &ClaimedTask,
    ci: Option<&verdict_store::CiTarget>,
    progress: &TaskProgress,
    commits: &mut Commits<'_>,
) -> Result<Option<Pass>, ProcessError> {
    let resume = commits.resume.take();
    let mut items = feed::start(store.clone(), task.id, task.payload_encoding == "gzip");
    let mut header = match items.recv().await {
        Some(Parsed::Header(h)) => h,
        Some(Parsed::Failed(e)) => return Err(ProcessError::Payload(e.to_string())),
        Some(Parsed::Items(_)) | None => {
            return Err(ProcessError::Payload("payload ended early".to_owned()));
        }
    };
    if let Some(ci) = ci {
        header.build = Some(super::ci_target::build_context(ci, header.build.take()));
    }
    let mut job = Job {
        skip_errors: task.skip_errors,
        injection_time: task.accepted_at,
        resolver: Resolver::default(),
        global: Resolved::default(),
        ci_build_id: None,
        problems: Vec::new(),
        items_skipped: 0,
        next_index: 0,
        suite_runs: SuiteRuns::default(),
        status_ids: HashMap::new(),
    };
    if !global(&mut job, tx, &header).await? {
        if resume.is_some() {
            let why: Vec<String> = job.problems.iter().map(|p| p.message.clone()).collect();
            return Err(ProcessError::Resume(why.join(", ")));
        }
        return Ok(Some(Pass {
            stopped: true,
            items_skipped: 0,
            problems: job.problems,
        }));
    }
    let spec = result_set_spec(task, &job, tx).await?;
    let mut insight = InsightCtx::start(tx, spec).await?;
    let mut skip_to = 0;
    if let Some((next, saved)) = &resume {
        // The global problems are among the saved ones.
        job.problems = saved.problems();
        job.items_skipped = saved.items_skipped;
        job.suite_runs = SuiteRuns::restore(saved);
        insight.restore(saved);
        skip_to = *next;
    }
    commits.skip_to = skip_to;
    let now = verdict_store::now_ms();
    let mut ready: Vec<PreparedItem> = Vec::new();
    while let Some(parsed) = items.recv().await {
        match parsed {
            Parsed::Items(batch) => {
                for item in batch {
                    if job.next_index < skip_to {
                        // Applied by an earlier transaction of this task.
                        job.next_index += 1;
                        continue;
                    }
                    if let Some(p) = prepare_item(&mut job, tx, item).await? {
                        ready.push(p);
                    }
                }
                if ready.len() < commits.demand.batch_items(commits.started) {
                    continue;
                }
                write::write_batch(tx, std::mem::take(&mut ready), now, &mut insight).await?;
                progress.set(task.id, job.next_index);
                if commits.last.elapsed() >= commits.demand.chunk()
                    && !commits.checkpoint(tx, &job, &insight).await?
                {
                    return Ok(None);
                }
            }
            Parsed::Failed(e) => return Err(ProcessError::Payload(e.to_string())),
            Parsed::Header(_) => return Err(ProcessError::Payload("second header".to_owned())),
        }
    }
    write::write_batch(tx, ready, now, &mut insight).await?;
    progress.set(task.id, job.next_index);
    job.problems.extend(job.suite_runs.overflow_problems());
    insight.finish(tx).await?;
    Ok(Some(Pass {
        stopped: false,
        items_skipped: job.items_skipped,
        problems: job.problems,
    }))
}

/// The result set a task writes into (docs/insight.md): its CI build, else
/// the push itself, in the series of the pusher, release and environments.
async fn result_set_spec(
    task: &ClaimedTask,
    job: &Job,
    tx: &mut IngestTx,
) -> Result<verdict_store::ResultSetSpec, ProcessError> {
    let release_id = job.global.release.as_ref().map(|r| r.id);
    let milestone_id = job.global.milestone.map(|(m, _)| m);
    let mut env: Vec<String> = job
        .global
        .taxonomies
        .iter()
        .map(|(t, v)| format!("{t}: {v}"))
        .collect();
    env.sort();
    let environment = (!env.is_empty()).then(|| env.join(", "));
    if let Some(build_id) = job.ci_build_id
        && let Some(build) = tx.ci_build_names(build_id).await?
    {
        return Ok(verdict_store::ResultSetSpec {
            release_id,
            milestone_id,
            environment,
            pushed_by: task.pushed_by.clone(),
            task_id: Some(task.id),
            ..verdict_store::ResultSetSpec::build(
                build_id,
                build.job_id,
                &build.job_name,
                &build.build_name,
            )
        });
    }
    let release = job
        .global
        .release
        .as_ref()
        .map(|r| (r.id, Some(r.name.as_str())));
    Ok(verdict_store::ResultSetSpec {
        milestone_id,
        ..verdict_store::ResultSetSpec::push(
            task.id,
            task.pushed_by.as_deref(),
            release,
            environment.as_deref(),
        )
    })
}

/// Resolves the global context once. False = stop: nothing is written
/// (a global conflict, or a missing global link, with skip-errors=false).
async fn global(
    job: &mut Job,
    tx: &mut IngestTx,
    header: &PayloadHeader,
) -> Result<bool, ProcessError> {
    let (resolved, found) = job
        .resolver
        .level(tx, &header.context, job.injection_time, false)
        .await?;
    let mut missing = found.missing;
    let mut server = None;
    if let Some(build) = &header.build {
        server = tx.ci_server_by_instance(&build.server_id).await?;
        if server.is_none() {
            missing.push(format!(
                "ci server '{}' not found (register it with `verdict admin ci-server create --instance-id {}` or POST …/ci_servers)",
                build.server_id, build.server_id
            ));
        }
    }
    let messages: Vec<String> = found.conflicts.into_iter().chain(missing).collect();
    for message in &messages {
        job.problems.push(Problem {
            scope: Scope::Global,
            message: message.clone(),
        });
    }
    if !messages.is_empty() && !job.skip_errors {
        return Ok(false);
    }
    job.global = resolved;
    if let (Some(build), Some(server_id)) = (&header.build, server) {
        let job_name = build.job_name.as_deref().unwrap_or(&build.job_id);
        let ci_job = tx.ci_job(server_id, &build.job_id, job_name).await?;
        let spec = verdict_store::CiBuildSpec {
            build_ci_id: &build.build_id,
            name: build.build_name.as_deref().unwrap_or(&build.build_id),
            sub_type: build.sub_type.as_deref(),
            artifact_id: build.artifact_id.as_deref(),
        };
        job.ci_build_id = Some(tx.ci_build(ci_job, &spec, job.injection_time).await?);
    }
    Ok(true)
}

/// Applies the per-item rules; `None` when the item is skipped or ignored.
async fn prepare_item(
    job: &mut Job,
    tx: &mut IngestTx,
    item: Item,
) -> Result<Option<PreparedItem>, ProcessError> {
    let index = job.next_index;
    job.next_index += 1;
    let (mut merged, mut messages) = match &item {
        Item::Test(run) => {
            let (own, found) = job
                .resolver
                .level(tx, &run.context, job.injection_time, job.skip_errors)
                .await?;
            let mut messages: Vec<String> =
                found.missing.into_iter().chain(found.conflicts).collect();
            let (merged, conflicts) = super::resolve::merge(&job.global, own, job.skip_errors);
            messages.extend(conflicts);
            (merged, messages)
        }
        Item::Gherkin(_) => (job.global.clone(), Vec::new()),
    };
    super::resolve::check_release_scope(&mut merged, &mut messages);
    let parent_suite = prepare::suite_run(job, tx, &mut merged, &mut messages).await?;
    if !messages.is_empty() {
        for message in messages {
            job.problems.push(Problem {
                scope: Scope::Item(index),
                message,
            });
        }
        if !job.skip_errors {
            job.items_skipped += 1;
            return Ok(None);
        }
    }
    if let Some(suite_run) = parent_suite
        && !job.suite_runs.admit(suite_run)
    {
        return Ok(None);
    }
    let prepared = prepare::item(job, tx, item, &merged, parent_suite).await?;
    Ok(Some(prepared))
}
