//! The results of one result set, filtered and paged for its page: by
//! outcome, by text in the test's name or its failure, by context (the
//! ones whose labels match) and by the test's fields. Every filter is a
//! membership test against a small set (the workspace's matching tests,
//! contexts or failure groups), so the page walks `results_set` in order.

use sqlx::Row;
use verdict_domain::insight::Outcome;

use super::clauses::{Where, bind_rows, bind_scalar, contains, contains_pattern};
use crate::bulk;
use crate::connect::Store;
use crate::error::StoreError;

/// Contexts a label filter looks through, at most (a workspace has one
/// per release and environment in use: tens, rarely thousands).
pub const MAX_CONTEXTS: usize = 10_000;

/// A result of one set, for the set's page.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SetResult {
    pub result_id: i64,
    pub test_id: i64,
    pub context_key: i64,
    pub run_id: i64,
    pub outcome: Outcome,
    pub flaky: bool,
    pub retries: i64,
    pub muted: bool,
    pub started: i64,
    pub duration: i64,
    pub signature: Option<i64>,
}

/// Which results of a set to list. Text filters are case-insensitive
/// "contains" matches (ASCII letters folded).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SetResultFilter {
    pub outcome: Option<Outcome>,
    /// Only results marked flaky (`Some(true)`) or not marked (`Some(false)`).
    pub flaky: Option<bool>,
    /// Text in the test's name, class or package, or in its failure's
    /// type or message (as its failure group keeps them).
    pub text: Option<String>,
    /// Only these contexts (the ones whose labels match the page's label
    /// filter: the caller resolves taxonomy names).
    pub context_keys: Option<Vec<i64>>,
    pub component: Option<String>,
    pub package: Option<String>,
    pub class_name: Option<String>,
}

/// The filter's clauses over `results r` (after the set's parameter).
fn clauses(store: &Store, workspace_id: i64, f: &SetResultFilter) -> Where {
    let mut w = Where::new(store.backend);
    if let Some(o) = f.outcome {
        w.int("r.outcome = ?", o.code());
    }
    if let Some(flaky) = f.flaky {
        w.int("r.flaky = ?", i64::from(flaky));
    }
    // the workspace id is ours (an integer), spliced so each clause keeps one bind
    let tests = |condition: &str| {
        format!(
            "r.test_id IN (SELECT id FROM tests WHERE workspace_id = {workspace_id} AND {condition})"
        )
    };
    let like = |column: &str| contains(store.backend, column);
    if let Some(text) = &f.text {
        let in_test = tests(&format!(
            "({} OR {} OR {})",
            like("name"),
            like("class_name"),
            like("package")
        ));
        w.text(
            &format!(
                "({in_test} OR r.signature IN (SELECT signature FROM failure_groups WHERE workspace_id = {workspace_id} \
                 AND ({} OR {})))",
                like("error_type"),
                like("sample_message")
            ),
            contains_pattern(text),
        );
    }
    if let Some(keys) = &f.context_keys {
        w.ints("r.context_key", keys);
    }
    for (column, value) in [
        ("component", &f.component),
        ("package", &f.package),
        ("class_name", &f.class_name),
    ] {
        if let Some(v) = value {
            w.text(&tests(&like(column)), contains_pattern(v));
        }
    }
    w
}

impl Store {
    /// Every context key of `workspace_id`, for filters over their labels:
    /// at most [`MAX_CONTEXTS`] + 1 (more than the limit says "too many").
    ///
    /// # Errors
    /// Database failure.
    pub async fn context_keys(&self, workspace_id: i64) -> Result<Vec<i64>, StoreError> {
        Ok(sqlx::query_scalar(
            "SELECT context_key FROM contexts WHERE workspace_id = $1 ORDER BY context_key LIMIT $2",
        )
        .bind(workspace_id)
        .bind(i64::try_from(MAX_CONTEXTS).unwrap_or(i64::MAX).saturating_add(1))
        .fetch_all(&self.read)
        .await?)
    }

    /// Results of one set (already known to be `workspace_id`'s) that pass
    /// `filter`, ordered by test, with how many pass it.
    ///
    /// # Errors
    /// Database failure.
    pub async fn set_results(
        &self,
        workspace_id: i64,
        set_id: i64,
        filter: &SetResultFilter,
        limit: i64,
        offset: i64,
    ) -> Result<(Vec<SetResult>, i64), StoreError> {
        if filter.context_keys.as_ref().is_some_and(Vec::is_empty) {
            return Ok((Vec::new(), 0));
        }
        let w = clauses(self, workspace_id, filter);
        let set = bulk::placeholder(self.backend, 1);
        let count_sql = format!(
            "SELECT COUNT(*) FROM results r WHERE r.result_set_id = {set}{}",
            w.sql
        );
        let count_binds = w.binds.clone();
        let (clause, binds) = w.finish("r.test_id, r.id", limit, offset);
        let total: i64 = bind_scalar(
            sqlx::query_scalar(sqlx::AssertSqlSafe(count_sql)).bind(set_id),
            count_binds,
        )
        .fetch_one(&self.read)
        .await?;
        let sql = format!(
            "SELECT r.id, r.test_id, r.context_key, r.run_id, r.outcome, r.flaky, r.retries, r.muted, r.started, \
             r.duration, r.signature FROM results r WHERE r.result_set_id = {set}{clause}"
        );
        let rows = bind_rows(sqlx::query(sqlx::AssertSqlSafe(sql)).bind(set_id), binds)
            .fetch_all(&self.read)
            .await?;
        let results = rows
            .iter()
            .map(|r| {
                Ok(SetResult {
                    result_id: r.try_get(0)?,
                    test_id: r.try_get(1)?,
                    context_key: r.try_get(2)?,
                    run_id: r.try_get(3)?,
                    outcome: Outcome::from_code(r.try_get(4)?),
                    flaky: r.try_get::<i64, _>(5)? != 0,
                    retries: r.try_get(6)?,
                    muted: r.try_get::<i64, _>(7)? != 0,
                    started: r.try_get(8)?,
                    duration: r.try_get(9)?,
                    signature: r.try_get(10)?,
                })
            })
            .collect::<Result<Vec<_>, StoreError>>()?;
        Ok((results, total))
    }
}
