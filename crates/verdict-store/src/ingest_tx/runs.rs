//! Last runs, previous runs and steps of a task (protocol §5.4).

use super::open;
use std::collections::HashSet;

use sqlx::Row;

use super::IngestTx;
use crate::bulk::{self, Cell};
use crate::error::StoreError;
use crate::json_rows;
use crate::row_params::{self, Kind};

/// A last run to create.
#[derive(Debug, Clone, Default)]
pub struct NewRun {
    pub id: i64,
    pub subtype: &'static str,
    pub test_id: i64,
    pub run_key: String,
    pub name: String,
    pub values: RunUpdate,
    pub release_id: Option<i64>,
    pub milestone_id: Option<i64>,
    pub program_id: Option<i64>,
    pub test_level_id: Option<i64>,
    pub testing_tool_type_id: Option<i64>,
    pub framework_id: Option<i64>,
    pub external_run_id: Option<String>,
    pub external_assets: Option<String>,
    pub run_type: Option<String>,
    pub parent_suite_id: Option<i64>,
}

/// The values a new result overwrites on a last run (and that a previous run keeps).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RunUpdate {
    pub status: String,
    pub status_id: Option<i64>,
    pub native_status_id: Option<i64>,
    pub started: i64,
    pub duration: i64,
    pub description: Option<String>,
    pub error_type: Option<String>,
    pub error_message: Option<String>,
    pub error_stack: Option<String>,
    pub external_report_url: Option<String>,
    pub ci_build_id: Option<i64>,
    /// Extra tries the framework made.
    pub retries: i64,
    /// Passed after failing an earlier try.
    pub flaky: bool,
}

/// A last run found by its key: what deciding a new result's effect needs
/// (its other values are archived inside the database, [`IngestTx::archive_runs`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExistingRun {
    pub id: i64,
    pub run_key: String,
    /// The task that last wrote the run (a repeat inside one task merges).
    pub task_id: i64,
    pub started: i64,
    pub status: String,
    pub flaky: bool,
}

/// A run found by [`IngestTx::find_runs`]: its key's position, then
/// [`EXISTING_RUN_COLUMNS`].
type RunRow = (i64, i64, i64, i64, String, i64);

const EXISTING_RUN_COLUMNS: &[&str] = &["id", "task_id", "started", "status", "flaky"];

/// A previous run to archive.
#[derive(Debug, Clone)]
pub struct NewPreviousRun {
    pub id: i64,
    pub run_id: i64,
    pub values: RunUpdate,
}

/// A run step to store.
#[derive(Debug, Clone, Default)]
pub struct NewStep {
    pub id: i64,
    pub run_id: i64,
    pub position: i64,
    /// `step`, `background` or `scenario_step`.
    pub kind: &'static str,
    pub scenario: Option<String>,
    pub iteration: Option<String>,
    pub name: String,
    pub status: Option<String>,
    pub duration: Option<i64>,
    pub error_message: Option<String>,
    pub external_step_id: Option<String>,
    /// JSON text of input and output parameters, when any.
    pub parameters: Option<String>,
}

const RUN_VALUE_COLUMNS: &str = "status, status_id, native_status_id, started, duration, description, \
     error_type, error_message, error_stack, external_report_url, ci_build_id, retries, flaky";

/// The type of each of [`RUN_VALUE_COLUMNS`], as [`run_value_cells`] fills them.
const RUN_VALUE_KINDS: [Kind; 13] = [
    Kind::Text,
    Kind::Int,
    Kind::Int,
    Kind::Int,
    Kind::Int,
    Kind::Text,
    Kind::Text,
    Kind::Text,
    Kind::Text,
    Kind::Text,
    Kind::Int,
    Kind::Int,
    Kind::Int,
];

/// A last-run update's row: the run's id, then its values.
const UPDATE_KINDS: [Kind; 14] = {
    let mut kinds = [Kind::Int; 14];
    let mut i = 0;
    while i < RUN_VALUE_KINDS.len() {
        kinds[i + 1] = RUN_VALUE_KINDS[i];
        i += 1;
    }
    kinds
};

fn run_value_cells(v: &RunUpdate) -> [Cell<'_>; 13] {
    [
        Cell::Text(Some(&v.status)),
        Cell::Int(v.status_id),
        Cell::Int(v.native_status_id),
        Cell::Int(Some(v.started)),
        Cell::Int(Some(v.duration)),
        Cell::Text(v.description.as_deref()),
        Cell::Text(v.error_type.as_deref()),
        Cell::Text(v.error_message.as_deref()),
        Cell::Text(v.error_stack.as_deref()),
        Cell::Text(v.external_report_url.as_deref()),
        Cell::Int(v.ci_build_id),
        Cell::Int(Some(v.retries)),
        Cell::Int(Some(i64::from(v.flaky))),
    ]
}

impl IngestTx {
    /// Last runs whose key is one of `keys`.
    ///
    /// # Errors
    /// Database failure.
    pub async fn find_runs(&mut self, keys: &[&str]) -> Result<Vec<ExistingRun>, StoreError> {
        let (source, position, key) = json_rows::keyed(self.backend);
        let picked = json_rows::aggregate(
            self.backend,
            &[
                position,
                "r.id",
                "r.task_id",
                "r.started",
                "r.status",
                "r.flaky",
            ],
        );
        let sql = if self.backend == crate::connect::Backend::Postgres {
            // A probe of the unique index per key (see `find_tests`).
            format!(
                "SELECT {picked} FROM {source} CROSS JOIN LATERAL \
                 (SELECT {} FROM runs WHERE workspace_id = $2 AND run_key = {key} LIMIT 1) r",
                EXISTING_RUN_COLUMNS.join(", ")
            )
        } else {
            format!(
                "SELECT {picked} FROM {source} CROSS JOIN runs r WHERE r.workspace_id = ? AND r.run_key = {key}"
            )
        };
        let ws = self.workspace_id;
        let found = json_rows::look_up(
            open(&mut self.tx)?,
            &sql,
            keys,
            |r: &RunRow| r.0,
            |q| q.bind(ws),
        )
        .await?;
        Ok(found
            .into_iter()
            .map(
                |(run_key, (_, id, task_id, started, status, flaky))| ExistingRun {
                    id,
                    run_key: run_key.to_owned(),
                    task_id,
                    started,
                    status,
                    flaky: flaky != 0,
                },
            )
            .collect())
    }

    /// Which of `candidates` — (last run id, `started`, status) — are already
    /// stored as previous runs, so that an older result pushed again is kept
    /// once (insight.md: an identical result is one history entry).
    ///
    /// # Errors
    /// Database failure.
    pub async fn stored_previous(
        &mut self,
        candidates: &[(i64, i64, &str)],
    ) -> Result<HashSet<(i64, i64, String)>, StoreError> {
        let mut found: HashSet<(i64, i64, String)> = HashSet::new();
        for chunk in candidates.chunks(250) {
            let mut sql = String::from("SELECT run_id, started, status FROM previous_runs WHERE ");
            for i in 0..chunk.len() {
                if i > 0 {
                    sql.push_str(" OR ");
                }
                sql.push_str(&format!(
                    "(run_id = {} AND started = {})",
                    bulk::placeholder(self.backend, 2 * i + 1),
                    bulk::placeholder(self.backend, 2 * i + 2)
                ));
            }
            let mut q = sqlx::query(sqlx::AssertSqlSafe(sql));
            for (run, started, _) in chunk {
                q = q.bind(*run).bind(*started);
            }
            for r in q.fetch_all(open(&mut self.tx)?).await? {
                found.insert((r.try_get(0)?, r.try_get(1)?, r.try_get(2)?));
            }
        }
        let wanted: HashSet<(i64, i64, &str)> = candidates.iter().copied().collect();
        found.retain(|(run, started, status)| wanted.contains(&(*run, *started, status.as_str())));
        Ok(found)
    }

    /// Creates last runs in bulk.
    ///
    /// # Errors
    /// Database failure.
    pub async fn insert_runs(&mut self, runs: &[NewRun], now: i64) -> Result<(), StoreError> {
        let (ws, task) = (self.workspace_id, self.task_id);
        let rows: Vec<Vec<Cell<'_>>> = runs
            .iter()
            .map(|r| {
                let mut cells = vec![
                    Cell::Int(Some(r.id)),
                    Cell::Int(Some(ws)),
                    Cell::Text(Some(r.subtype)),
                    Cell::Int(Some(r.test_id)),
                    Cell::Text(Some(&r.run_key)),
                    Cell::Text(Some(&r.name)),
                    Cell::Int(r.release_id),
                    Cell::Int(r.milestone_id),
                    Cell::Int(r.program_id),
                    Cell::Int(r.test_level_id),
                    Cell::Int(r.testing_tool_type_id),
                    Cell::Int(r.framework_id),
                    Cell::Text(r.external_run_id.as_deref()),
                    Cell::Text(r.external_assets.as_deref()),
                    Cell::Text(r.run_type.as_deref()),
                    Cell::Int(r.parent_suite_id),
                    Cell::Int(Some(task)),
                    Cell::Int(Some(now)),
                    Cell::Int(Some(now)),
                ];
                cells.extend(run_value_cells(&r.values));
                cells
            })
            .collect();
        let mut columns = vec![
            "id",
            "workspace_id",
            "subtype",
            "test_id",
            "run_key",
            "name",
            "release_id",
            "milestone_id",
            "program_id",
            "test_level_id",
            "testing_tool_type_id",
            "framework_id",
            "external_run_id",
            "external_assets",
            "run_type",
            "parent_suite_id",
            "task_id",
            "creation_time",
            "last_modified",
        ];
        columns.extend(RUN_VALUE_COLUMNS.split(", "));
        bulk::insert_rows(
            self.backend,
            open(&mut self.tx)?,
            "runs",
            &columns,
            &rows,
            false,
        )
        .await
    }

    /// Overwrites last runs' result values: the rows go as one table per
    /// statement (`UPDATE … FROM`, [`row_params`]), probed by id. A statement
    /// per run cost a round trip each. Each run id at most once.
    ///
    /// # Errors
    /// Database failure.
    pub async fn update_runs(
        &mut self,
        updates: &[(i64, &RunUpdate)],
        now: i64,
    ) -> Result<(), StoreError> {
        let rows: Vec<Vec<Cell<'_>>> = updates
            .iter()
            .map(|(id, v)| {
                let mut cells = vec![Cell::Int(Some(*id))];
                cells.extend(run_value_cells(v));
                cells
            })
            .collect();
        let (backend, task) = (self.backend, self.task_id);
        row_params::execute(
            backend,
            open(&mut self.tx)?,
            &UPDATE_KINDS,
            &rows,
            |source| update_runs_sql(task, now, source),
        )
        .await
    }

    /// Archives last runs' current values as previous runs inside the
    /// database (`INSERT … SELECT`), before [`IngestTx::update_runs`]
    /// overwrites them: nothing is read out and bound back in. `archives`
    /// pairs a new previous run's id with its last run's id.
    ///
    /// # Errors
    /// Database failure.
    pub async fn archive_runs(
        &mut self,
        archives: &[(i64, i64)],
        now: i64,
    ) -> Result<(), StoreError> {
        if archives.is_empty() {
            return Ok(());
        }
        let (ws, task) = (self.workspace_id, self.task_id);
        let values: Vec<String> = RUN_VALUE_COLUMNS
            .split(", ")
            .map(|c| format!("r.{c}"))
            .collect();
        let rows = row_params::int_cells(archives.iter().map(|(p, r)| [*p, *r]));
        let probe = row_params::probe_unique(
            self.backend,
            "runs",
            "r",
            &format!("r.id = m.c1 AND r.workspace_id = {ws}"),
        );
        // Integers of this transaction, not user input: written as
        // literals, so the pairs are the only parameters.
        row_params::execute(
            self.backend,
            open(&mut self.tx)?,
            &[Kind::Int, Kind::Int],
            &rows,
            |source| {
                format!(
                    "INSERT INTO previous_runs (id, workspace_id, run_id, task_id, creation_time, {RUN_VALUE_COLUMNS}) \
                     SELECT m.c0, {ws}, r.id, {task}, {now}, {} FROM ({source}) m {probe}",
                    values.join(", ")
                )
            },
        )
        .await?;
        self.count_previous_runs(archives.len()).await
    }

    /// The kept `total_count` of previous runs (schema v11): they are only
    /// ever added by ingest, never changed or deleted through the API.
    async fn count_previous_runs(&mut self, added: usize) -> Result<(), StoreError> {
        if added == 0 {
            return Ok(());
        }
        sqlx::query(
            "INSERT INTO entity_counts (workspace_id, collection, n) VALUES ($1, 'previous_runs', $2) \
             ON CONFLICT (workspace_id, collection) DO UPDATE SET n = entity_counts.n + excluded.n",
        )
        .bind(self.workspace_id)
        .bind(i64::try_from(added).unwrap_or(i64::MAX))
        .execute(open(&mut self.tx)?)
        .await?;
        Ok(())
    }

    /// Archives run results as previous runs, in bulk.
    ///
    /// # Errors
    /// Database failure.
    pub async fn insert_previous_runs(
        &mut self,
        runs: &[NewPreviousRun],
        now: i64,
    ) -> Result<(), StoreError> {
        let (ws, task) = (self.workspace_id, self.task_id);
        let rows: Vec<Vec<Cell<'_>>> = runs
            .iter()
            .map(|p| {
                let mut cells = vec![
                    Cell::Int(Some(p.id)),
                    Cell::Int(Some(ws)),
                    Cell::Int(Some(p.run_id)),
                    Cell::Int(Some(task)),
                    Cell::Int(Some(now)),
                ];
                cells.extend(run_value_cells(&p.values));
                cells
            })
            .collect();
        let mut columns = vec!["id", "workspace_id", "run_id", "task_id", "creation_time"];
        columns.extend(RUN_VALUE_COLUMNS.split(", "));
        bulk::insert_rows(
            self.backend,
            open(&mut self.tx)?,
            "previous_runs",
            &columns,
            &rows,
            false,
        )
        .await?;
        self.count_previous_runs(rows.len()).await
    }

    /// Removes the steps of runs about to get new ones.
    ///
    /// # Errors
    /// Database failure.
    pub async fn delete_steps(&mut self, run_ids: &[i64]) -> Result<(), StoreError> {
        for chunk in run_ids.chunks(500) {
            let sql = format!(
                "DELETE FROM run_steps WHERE run_id IN ({})",
                bulk::placeholders(self.backend, 1, chunk.len())
            );
            let mut q = sqlx::query(sqlx::AssertSqlSafe(sql));
            for id in chunk {
                q = q.bind(*id);
            }
            q.execute(open(&mut self.tx)?).await?;
        }
        Ok(())
    }

    /// Stores run steps in bulk.
    ///
    /// # Errors
    /// Database failure.
    pub async fn insert_steps(&mut self, steps: &[NewStep]) -> Result<(), StoreError> {
        let ws = self.workspace_id;
        let rows: Vec<Vec<Cell<'_>>> = steps
            .iter()
            .map(|s| {
                vec![
                    Cell::Int(Some(s.id)),
                    Cell::Int(Some(ws)),
                    Cell::Int(Some(s.run_id)),
                    Cell::Int(Some(s.position)),
                    Cell::Text(Some(s.kind)),
                    Cell::Text(s.scenario.as_deref()),
                    Cell::Text(s.iteration.as_deref()),
                    Cell::Text(Some(&s.name)),
                    Cell::Text(s.status.as_deref()),
                    Cell::Int(s.duration),
                    Cell::Text(s.error_message.as_deref()),
                    Cell::Text(s.external_step_id.as_deref()),
                    Cell::Text(s.parameters.as_deref()),
                ]
            })
            .collect();
        let columns = [
            "id",
            "workspace_id",
            "run_id",
            "position",
            "kind",
            "scenario",
            "iteration",
            "name",
            "status",
            "duration",
            "error_message",
            "external_step_id",
            "parameters",
        ];
        bulk::insert_rows(
            self.backend,
            open(&mut self.tx)?,
            "run_steps",
            &columns,
            &rows,
            false,
        )
        .await
    }
}

/// `UPDATE runs SET … FROM (source) v WHERE runs.id = v.c0`, `source` the
/// rows (id, then [`RUN_VALUE_COLUMNS`]). The task and the time are
/// integers of this transaction, written as literals so the rows are the
/// statement's only parameters.
fn update_runs_sql(task_id: i64, now: i64, source: &str) -> String {
    let sets: Vec<String> = RUN_VALUE_COLUMNS
        .split(", ")
        .enumerate()
        .map(|(i, c)| format!("{c} = v.c{}", i + 1))
        .collect();
    format!(
        "UPDATE runs SET {}, task_id = {task_id}, last_modified = {now} \
         FROM ({source}) v WHERE runs.id = v.c0",
        sets.join(", ")
    )
}

#[cfg(test)]
mod tests {
    use super::{UPDATE_KINDS, update_runs_sql};
    use crate::connect::Backend;
    use crate::row_params::source;

    #[test]
    fn update_runs_sets_every_value_from_its_row() {
        let pg = update_runs_sql(7, 99, &source(Backend::Postgres, &UPDATE_KINDS, 3));
        assert!(
            pg.starts_with("UPDATE runs SET status = v.c1, status_id = v.c2"),
            "{pg}"
        );
        assert!(
            pg.contains("flaky = v.c13, task_id = 7, last_modified = 99"),
            "{pg}"
        );
        assert!(
            pg.contains("CAST(e->>0 AS BIGINT) AS c0, e->>1 AS c1, CAST(e->>2 AS BIGINT) AS c2"),
            "{pg}"
        );
        assert!(pg.ends_with("v WHERE runs.id = v.c0"), "{pg}");
        let lite = update_runs_sql(7, 99, &source(Backend::Sqlite, &UPDATE_KINDS, 3));
        assert_eq!(lite.matches('?').count(), 3 * 14, "{lite}");
        assert!(lite.ends_with("v WHERE runs.id = v.c0"), "{lite}");
    }
}
