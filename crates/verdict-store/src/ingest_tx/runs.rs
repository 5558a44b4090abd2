//! Last runs, previous runs and steps of a task (protocol §5.4).

use super::open;
use std::collections::HashSet;

use sqlx::Row;

use super::IngestTx;
use crate::bulk::{self, Cell};
use crate::error::StoreError;
use crate::json_rows;

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

/// [`ExistingRun`]'s columns as [`json_rows::parse`] reads them.
type RunRow = (i64, String, i64, i64, String, i64);

const EXISTING_RUN_COLUMNS: &[&str] = &["id", "run_key", "task_id", "started", "status", "flaky"];

/// A statement's JSON parameter of run values is sent once it is this long:
/// a run's texts may hold up to 1 MiB each (docs/security.md), and
/// PostgreSQL refuses a parameter over 1 GB.
const MAX_JSON_BYTES: usize = 16 << 20;

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
        let picked = json_rows::aggregate(self.backend, EXISTING_RUN_COLUMNS);
        let sql = if self.backend == crate::connect::Backend::Postgres {
            // A probe of the unique index per key (see `find_tests`).
            format!(
                "SELECT {picked} FROM json_array_elements_text($2::json) AS q(k) CROSS JOIN LATERAL \
                 (SELECT {} FROM runs WHERE workspace_id = $1 AND run_key = q.k LIMIT 1) r",
                EXISTING_RUN_COLUMNS.join(", ")
            )
        } else {
            format!(
                "SELECT {picked} FROM runs WHERE workspace_id = ? AND run_key IN ({})",
                json_rows::sqlite_keys()
            )
        };
        let mut found = Vec::new();
        for chunk in keys.chunks(json_rows::ROWS_PER_STATEMENT) {
            let text: Option<String> = sqlx::query_scalar(sqlx::AssertSqlSafe(sql.clone()))
                .bind(self.workspace_id)
                .bind(json_rows::keys(chunk))
                .fetch_one(open(&mut self.tx)?)
                .await?;
            for (id, run_key, task_id, started, status, flaky) in
                json_rows::parse::<RunRow>(text.as_deref())?
            {
                found.push(ExistingRun {
                    id,
                    run_key,
                    task_id,
                    started,
                    status,
                    flaky: flaky != 0,
                });
            }
        }
        Ok(found)
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

    /// Overwrites last runs' result values: one statement per 10,000 runs
    /// (or 16 MiB of values), their values bound as one JSON array (`UPDATE … FROM` the array's
    /// rows). A statement per run cost a round trip each; a `VALUES` list
    /// of 500 rows made PostgreSQL plan 4.7 ms and scan every run of the
    /// table per statement (a hash join: 16 ms per 500 runs), where the
    /// array's rows are probed by id. Each run id at most once.
    ///
    /// # Errors
    /// Database failure.
    pub async fn update_runs(
        &mut self,
        updates: &[(i64, &RunUpdate)],
        now: i64,
    ) -> Result<(), StoreError> {
        let sql = update_runs_sql(self.backend, self.task_id, now);
        let mut json = String::from("[");
        let mut rows = 0;
        for (n, (id, v)) in updates.iter().enumerate() {
            if rows > 0 {
                json.push(',');
            }
            let mut cells = vec![Cell::Int(Some(*id))];
            cells.extend(run_value_cells(v));
            json_rows::push_cells(&mut json, &cells);
            rows += 1;
            let last = n + 1 == updates.len();
            if last || rows == json_rows::ROWS_PER_STATEMENT || json.len() >= MAX_JSON_BYTES {
                json.push(']');
                sqlx::query(sqlx::AssertSqlSafe(sql.clone()))
                    .bind(std::mem::replace(&mut json, String::from("[")))
                    .execute(open(&mut self.tx)?)
                    .await?;
                rows = 0;
            }
        }
        Ok(())
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
        // Integers of this transaction, not user input: written as literals,
        // which keeps SQLite's positional `?` to the one JSON parameter.
        // `CROSS JOIN` makes SQLite loop over the pairs and probe `runs` by
        // id; planned the other way round it re-parsed the JSON per run
        // (minutes for 10,000). PostgreSQL plans it as any inner join.
        let sql = format!(
            "INSERT INTO previous_runs (id, workspace_id, run_id, task_id, creation_time, {RUN_VALUE_COLUMNS}) \
             SELECT m.c0, {ws}, r.id, {task}, {now}, {} FROM ({}) m CROSS JOIN runs r \
             WHERE r.id = m.c1 AND r.workspace_id = {ws}",
            values.join(", "),
            json_rows::int_rows(self.backend, 1, 2)
        );
        for chunk in archives.chunks(json_rows::ROWS_PER_STATEMENT) {
            sqlx::query(sqlx::AssertSqlSafe(sql.clone()))
                .bind(json_rows::json_array(chunk.iter().map(|(p, r)| [*p, *r])))
                .execute(open(&mut self.tx)?)
                .await?;
        }
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

/// `UPDATE runs SET … FROM (rows of the JSON parameter) v WHERE runs.id = v.id`.
/// The task and the time are integers of this transaction, written as
/// literals so the statement has one parameter on either backend.
fn update_runs_sql(backend: crate::connect::Backend, task_id: i64, now: i64) -> String {
    let columns: Vec<&str> = RUN_VALUE_COLUMNS.split(", ").collect();
    let field = |i: usize, int: bool| match backend {
        crate::connect::Backend::Sqlite => format!("json_extract(value, '$[{i}]')"),
        crate::connect::Backend::Postgres if int => format!("CAST(e->>{i} AS BIGINT)"),
        crate::connect::Backend::Postgres => format!("e->>{i}"),
    };
    let mut picks = vec![format!("{} AS id", field(0, true))];
    // The column types as the cells of a run's values say them.
    let empty = RunUpdate::default();
    let types = run_value_cells(&empty);
    for (i, (c, cell)) in columns.iter().zip(types).enumerate() {
        picks.push(format!(
            "{} AS {c}",
            field(i + 1, matches!(cell, Cell::Int(_)))
        ));
    }
    let source = match backend {
        crate::connect::Backend::Sqlite => "json_each(?)",
        crate::connect::Backend::Postgres => "jsonb_array_elements(CAST($1 AS jsonb)) AS e",
    };
    let sets: Vec<String> = columns.iter().map(|c| format!("{c} = v.{c}")).collect();
    format!(
        "UPDATE runs SET {}, task_id = {task_id}, last_modified = {now} \
         FROM (SELECT {} FROM {source}) v WHERE runs.id = v.id",
        sets.join(", "),
        picks.join(", ")
    )
}

#[cfg(test)]
mod tests {
    use super::update_runs_sql;
    use crate::connect::Backend;

    #[test]
    fn update_runs_reads_one_json_parameter() {
        let pg = update_runs_sql(Backend::Postgres, 7, 99);
        assert!(
            pg.starts_with("UPDATE runs SET status = v.status, status_id = v.status_id"),
            "{pg}"
        );
        assert!(pg.contains("task_id = 7, last_modified = 99"), "{pg}");
        assert!(
            pg.contains(
                "CAST(e->>0 AS BIGINT) AS id, e->>1 AS status, CAST(e->>2 AS BIGINT) AS status_id"
            ),
            "{pg}"
        );
        assert!(
            pg.contains(
                "CAST(e->>13 AS BIGINT) AS flaky FROM jsonb_array_elements(CAST($1 AS jsonb))"
            ),
            "{pg}"
        );
        let lite = update_runs_sql(Backend::Sqlite, 7, 99);
        assert_eq!(lite.matches('?').count(), 1, "{lite}");
        assert!(
            lite.contains("json_extract(value, '$[13]') AS flaky FROM json_each(?)"),
            "{lite}"
        );
        assert!(lite.ends_with("v WHERE runs.id = v.id"), "{lite}");
    }
}
