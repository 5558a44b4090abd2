//! Tests of a task: found by identity (or gherkin tag), created in bulk,
//! single-valued fields overwritten (protocol §5.3).

use super::open;
use sqlx::Row;

use super::IngestTx;
use crate::bulk::{self, Cell};
use crate::error::StoreError;
use crate::json_rows;

/// A test to create.
#[derive(Debug, Clone, Default)]
pub struct NewTest {
    pub id: i64,
    pub subtype: &'static str,
    pub name: String,
    pub component: String,
    pub package: String,
    pub class_name: String,
    pub external_test_id: Option<String>,
    pub test_level_id: Option<i64>,
    pub testing_tool_type_id: Option<i64>,
    pub framework_id: Option<i64>,
    pub script: Option<String>,
    pub identity_key: String,
}

/// A test found by identity.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExistingTest {
    pub id: i64,
    pub identity_key: String,
    pub test_level_id: Option<i64>,
    pub testing_tool_type_id: Option<i64>,
    pub framework_id: Option<i64>,
    pub script: Option<String>,
}

/// Single-valued test fields to overwrite (only those given).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TestUpdate {
    pub id: i64,
    pub test_level_id: Option<i64>,
    pub testing_tool_type_id: Option<i64>,
    pub framework_id: Option<i64>,
    pub script: Option<String>,
}

const TEST_COLUMNS: &str =
    "id, identity_key, test_level_id, testing_tool_type_id, framework_id, script";

/// [`TEST_COLUMNS`] as a row.
type TestRow = (
    i64,
    String,
    Option<i64>,
    Option<i64>,
    Option<i64>,
    Option<String>,
);

/// A test found by [`IngestTx::find_tests`]: its key's position, then
/// [`TEST_COLUMNS`] but the key.
type FoundTestRow = (
    i64,
    i64,
    Option<i64>,
    Option<i64>,
    Option<i64>,
    Option<String>,
);

fn test_from_row(r: TestRow) -> ExistingTest {
    ExistingTest {
        id: r.0,
        identity_key: r.1,
        test_level_id: r.2,
        testing_tool_type_id: r.3,
        framework_id: r.4,
        script: r.5,
    }
}

impl IngestTx {
    /// Tests of `subtype` whose identity key is one of `keys`.
    ///
    /// # Errors
    /// Database failure.
    pub async fn find_tests(
        &mut self,
        subtype: &str,
        keys: &[&str],
    ) -> Result<Vec<ExistingTest>, StoreError> {
        let (source, position, key) = json_rows::keyed(self.backend);
        let picked = json_rows::aggregate(
            self.backend,
            &[
                position,
                "t.id",
                "t.test_level_id",
                "t.testing_tool_type_id",
                "t.framework_id",
                "t.script",
            ],
        );
        let sql = if self.backend == crate::connect::Backend::Postgres {
            // One probe of the unique index per key, whatever the planner
            // believes of a table this very transaction is filling (its
            // statistics say "empty"): an `IN (…)` list was planned as a
            // scan of the workspace's tests filtered by the list, and a
            // plain join as a hash of every test of the workspace; both
            // quadratic in the push (7 of 9 s for 20,000 runs). `LIMIT 1`
            // (the key is unique) keeps the subquery a per-key index probe.
            format!(
                "SELECT {picked} FROM {source} CROSS JOIN LATERAL \
                 (SELECT {TEST_COLUMNS} FROM tests WHERE workspace_id = $2 AND subtype = $3 AND identity_key = {key} LIMIT 1) t"
            )
        } else {
            format!(
                "SELECT {picked} FROM {source} CROSS JOIN tests t \
                 WHERE t.workspace_id = ? AND t.subtype = ? AND t.identity_key = {key}"
            )
        };
        let ws = self.workspace_id;
        let found = json_rows::look_up(
            open(&mut self.tx)?,
            &sql,
            keys,
            |r: &FoundTestRow| r.0,
            |q| q.bind(ws).bind(subtype),
        )
        .await?;
        Ok(found
            .into_iter()
            .map(
                |(
                    identity_key,
                    (_, id, test_level_id, testing_tool_type_id, framework_id, script),
                )| {
                    ExistingTest {
                        id,
                        identity_key: identity_key.to_owned(),
                        test_level_id,
                        testing_tool_type_id,
                        framework_id,
                        script,
                    }
                },
            )
            .collect())
    }

    /// A gherkin test by id (for `@TID<id>` feature tags).
    ///
    /// # Errors
    /// Database failure.
    pub async fn gherkin_test_by_id(
        &mut self,
        id: i64,
    ) -> Result<Option<ExistingTest>, StoreError> {
        let sql = format!(
            "SELECT {TEST_COLUMNS} FROM tests WHERE workspace_id = $1 AND subtype = 'gherkin_test' AND id = $2"
        );
        let row = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(self.workspace_id)
            .bind(id)
            .fetch_optional(open(&mut self.tx)?)
            .await?;
        row.map(|r| {
            Ok(test_from_row((
                r.try_get(0)?,
                r.try_get(1)?,
                r.try_get(2)?,
                r.try_get(3)?,
                r.try_get(4)?,
                r.try_get(5)?,
            )))
        })
        .transpose()
    }

    /// Creates tests in bulk.
    ///
    /// # Errors
    /// Database failure.
    pub async fn insert_tests(&mut self, tests: &[NewTest], now: i64) -> Result<(), StoreError> {
        self.new_in_tx.tests.extend(tests.iter().map(|t| t.id));
        let ws = self.workspace_id;
        let rows: Vec<Vec<Cell<'_>>> = tests
            .iter()
            .map(|t| {
                vec![
                    Cell::Int(Some(t.id)),
                    Cell::Int(Some(ws)),
                    Cell::Text(Some(t.subtype)),
                    Cell::Text(Some(&t.name)),
                    Cell::Text(Some(&t.component)),
                    Cell::Text(Some(&t.package)),
                    Cell::Text(Some(&t.class_name)),
                    Cell::Text(t.external_test_id.as_deref()),
                    Cell::Int(t.test_level_id),
                    Cell::Int(t.testing_tool_type_id),
                    Cell::Int(t.framework_id),
                    Cell::Text(t.script.as_deref()),
                    Cell::Text(Some(&t.identity_key)),
                    Cell::Int(Some(now)),
                    Cell::Int(Some(now)),
                ]
            })
            .collect();
        let columns = [
            "id",
            "workspace_id",
            "subtype",
            "name",
            "component",
            "package",
            "class_name",
            "external_test_id",
            "test_level_id",
            "testing_tool_type_id",
            "framework_id",
            "script",
            "identity_key",
            "creation_time",
            "last_modified",
        ];
        bulk::insert_rows(
            self.backend,
            open(&mut self.tx)?,
            "tests",
            &columns,
            &rows,
            false,
        )
        .await
    }

    /// Overwrites the given single-valued fields of a test.
    ///
    /// # Errors
    /// Database failure.
    pub async fn update_test(&mut self, update: &TestUpdate, now: i64) -> Result<(), StoreError> {
        sqlx::query(
            "UPDATE tests SET test_level_id = COALESCE($2, test_level_id), \
             testing_tool_type_id = COALESCE($3, testing_tool_type_id), framework_id = COALESCE($4, framework_id), \
             script = COALESCE($5, script), last_modified = $6 WHERE id = $1",
        )
        .bind(update.id)
        .bind(update.test_level_id)
        .bind(update.testing_tool_type_id)
        .bind(update.framework_id)
        .bind(update.script.as_deref())
        .bind(now)
        .execute(open(&mut self.tx)?)
        .await?;
        Ok(())
    }
}
