//! Last runs, previous runs and steps of a task (protocol §5.4).

use super::open;
use std::collections::HashSet;

use sqlx::Row;

use super::IngestTx;
use crate::bulk::{self, Cell};
use crate::error::StoreError;

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

/// A last run found by its key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExistingRun {
    pub id: i64,
    pub run_key: String,
    pub values: RunUpdate,
    /// The task that last wrote the run (a repeat inside one task merges).
    pub task_id: i64,
}

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

fn run_values_from_row(r: &sqlx::any::AnyRow, first: usize) -> Result<RunUpdate, StoreError> {
    Ok(RunUpdate {
        status: r.try_get(first)?,
        status_id: r.try_get(first + 1)?,
        native_status_id: r.try_get(first + 2)?,
        started: r.try_get(first + 3)?,
        duration: r.try_get(first + 4)?,
        description: r.try_get(first + 5)?,
        error_type: r.try_get(first + 6)?,
        error_message: r.try_get(first + 7)?,
        error_stack: r.try_get(first + 8)?,
        external_report_url: r.try_get(first + 9)?,
        ci_build_id: r.try_get(first + 10)?,
        retries: r.try_get(first + 11)?,
        flaky: r.try_get::<i64, _>(first + 12)? != 0,
    })
}

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
        let mut found = Vec::new();
        let postgres = self.backend == crate::connect::Backend::Postgres;
        for chunk in keys.chunks(if postgres { 2_000 } else { 500 }) {
            let rows = if postgres {
                // A probe of the unique index per key (see `find_tests`).
                let sql = format!(
                    "SELECT r.* FROM json_array_elements_text($2::json) AS q(k) CROSS JOIN LATERAL \
                     (SELECT id, run_key, task_id, {RUN_VALUE_COLUMNS} FROM runs WHERE workspace_id = $1 AND run_key = q.k LIMIT 1) r"
                );
                sqlx::query(sqlx::AssertSqlSafe(sql))
                    .bind(self.workspace_id)
                    .bind(bulk::json_keys(chunk))
                    .fetch_all(open(&mut self.tx)?)
                    .await?
            } else {
                let sql = format!(
                    "SELECT id, run_key, task_id, {RUN_VALUE_COLUMNS} FROM runs WHERE workspace_id = {} AND run_key IN ({})",
                    bulk::placeholder(self.backend, 1),
                    bulk::placeholders(self.backend, 2, chunk.len())
                );
                let mut q = sqlx::query(sqlx::AssertSqlSafe(sql)).bind(self.workspace_id);
                for key in chunk {
                    q = q.bind(*key);
                }
                q.fetch_all(open(&mut self.tx)?).await?
            };
            for r in rows {
                found.push(ExistingRun {
                    id: r.try_get(0)?,
                    run_key: r.try_get(1)?,
                    task_id: r.try_get(2)?,
                    values: run_values_from_row(&r, 3)?,
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

    /// Overwrites last runs' result values, many per statement (one
    /// `UPDATE … FROM` a `VALUES` list): a statement per run cost a round
    /// trip each and was most of a re-run's time. Each run id at most once.
    ///
    /// # Errors
    /// Database failure.
    pub async fn update_runs(
        &mut self,
        updates: &[(i64, &RunUpdate)],
        now: i64,
    ) -> Result<(), StoreError> {
        // id + 13 values per row; 2 more parameters per statement.
        for chunk in updates.chunks(500) {
            let sql = update_runs_sql(self.backend, chunk.len());
            let mut q = sqlx::query(sqlx::AssertSqlSafe(sql));
            for (id, v) in chunk {
                q = q.bind(*id);
                for cell in run_value_cells(v) {
                    q = match cell {
                        Cell::Int(x) => q.bind(x),
                        Cell::Text(x) => q.bind(x),
                    };
                }
            }
            q.bind(self.task_id)
                .bind(now)
                .execute(open(&mut self.tx)?)
                .await?;
        }
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
        if !rows.is_empty() {
            // The kept total_count (schema v11): previous runs are only ever
            // added here, never changed or deleted through the API.
            sqlx::query(
                "INSERT INTO entity_counts (workspace_id, collection, n) VALUES ($1, 'previous_runs', $2) \
                 ON CONFLICT (workspace_id, collection) DO UPDATE SET n = entity_counts.n + excluded.n",
            )
            .bind(ws)
            .bind(i64::try_from(rows.len()).unwrap_or(i64::MAX))
            .execute(open(&mut self.tx)?)
            .await?;
        }
        Ok(())
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

/// `WITH v(id, …) AS (VALUES …) UPDATE runs SET … FROM v WHERE runs.id = v.id`
/// for `rows` rows, parameters in textual order (SQLite's `?` are positional).
/// Every value is cast to its column's type, so a column that is NULL in
/// every row still has one on PostgreSQL.
fn update_runs_sql(backend: crate::connect::Backend, rows: usize) -> String {
    const INT: [bool; 13] = [
        false, true, true, true, true, false, false, false, false, false, true, true, true,
    ];
    let columns: Vec<&str> = RUN_VALUE_COLUMNS.split(", ").collect();
    let mut sql = format!("WITH v(id, {RUN_VALUE_COLUMNS}) AS (VALUES ");
    let mut n = 0;
    for r in 0..rows {
        if r > 0 {
            sql.push(',');
        }
        n += 1;
        sql.push_str(&format!(
            "(CAST({} AS BIGINT)",
            bulk::placeholder(backend, n)
        ));
        for int in INT {
            n += 1;
            let ty = if int { "BIGINT" } else { "TEXT" };
            sql.push_str(&format!(
                ", CAST({} AS {ty})",
                bulk::placeholder(backend, n)
            ));
        }
        sql.push(')');
    }
    sql.push_str(") UPDATE runs SET ");
    for c in &columns {
        sql.push_str(&format!("{c} = v.{c}, "));
    }
    sql.push_str(&format!(
        "task_id = {}, last_modified = {} FROM v WHERE runs.id = v.id",
        bulk::placeholder(backend, n + 1),
        bulk::placeholder(backend, n + 2)
    ));
    sql
}

#[cfg(test)]
mod tests {
    use super::update_runs_sql;
    use crate::connect::Backend;

    #[test]
    fn update_runs_numbers_values_then_task_and_time() {
        let pg = update_runs_sql(Backend::Postgres, 2);
        assert!(pg.starts_with("WITH v(id, status, status_id, "), "{pg}");
        assert!(
            pg.contains("(CAST($15 AS BIGINT), CAST($16 AS TEXT), CAST($17 AS BIGINT)"),
            "{pg}"
        );
        assert!(
            pg.ends_with("task_id = $29, last_modified = $30 FROM v WHERE runs.id = v.id"),
            "{pg}"
        );
        let lite = update_runs_sql(Backend::Sqlite, 1);
        assert_eq!(lite.matches('?').count(), 16, "{lite}");
        assert!(lite.contains("flaky = v.flaky, task_id = ?"), "{lite}");
    }
}
