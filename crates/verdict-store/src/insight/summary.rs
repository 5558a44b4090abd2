//! A result set compared with the previous set of its series. The detail
//! view computes it live (two index range scans of one set each); lists read
//! the counts cached on the set, refreshed after each task and whenever a set
//! is marked stale (its own results or its predecessor changed).

use std::collections::HashSet;

use serde_json::json;
use sqlx::Row;
use verdict_domain::insight::{self, Comparison, Outcome, SetEntry, TestContext};

use crate::bulk;
use crate::connect::Store;
use crate::error::StoreError;
use crate::json_rows;

/// A comparison with the set it was made against.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SetComparison {
    pub set_id: i64,
    pub previous_id: Option<i64>,
    pub comparison: Comparison,
}

/// The counts cached on a result set.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SummaryCounts {
    pub previous_id: Option<i64>,
    pub new_failures: i64,
    pub still_failing: i64,
    pub fixed: i64,
    pub new_tests: i64,
    pub removed: i64,
    pub flaky: i64,
    pub muted: i64,
    /// Cached counts older than the set's latest results (a list shows at
    /// most a few sets compared on the spot; the worker catches up).
    pub stale: bool,
}

impl SummaryCounts {
    fn of(c: &SetComparison) -> Self {
        let n = |v: &Vec<TestContext>| i64::try_from(v.len()).unwrap_or(i64::MAX);
        let k = &c.comparison;
        Self {
            previous_id: c.previous_id,
            new_failures: n(&k.new_failures),
            still_failing: n(&k.still_failing),
            fixed: n(&k.fixed),
            new_tests: n(&k.new_tests),
            removed: n(&k.removed),
            flaky: n(&k.flaky),
            muted: n(&k.muted_failures),
            stale: false,
        }
    }

    fn to_json(self) -> String {
        json!({"previous_id": self.previous_id, "new_failures": self.new_failures, "still_failing": self.still_failing,
               "fixed": self.fixed, "new_tests": self.new_tests, "removed": self.removed, "flaky": self.flaky,
               "muted": self.muted})
        .to_string()
    }

    pub(crate) fn from_json(text: &str) -> Option<Self> {
        let v: serde_json::Value = serde_json::from_str(text).ok()?;
        let n = |k: &str| v.get(k).and_then(serde_json::Value::as_i64).unwrap_or(0);
        Some(Self {
            previous_id: v.get("previous_id").and_then(serde_json::Value::as_i64),
            new_failures: n("new_failures"),
            still_failing: n("still_failing"),
            fixed: n("fixed"),
            new_tests: n("new_tests"),
            removed: n("removed"),
            flaky: n("flaky"),
            muted: n("muted"),
            stale: false,
        })
    }
}

impl Store {
    /// Compares result set `set_id` of the workspace with its predecessor;
    /// `None` when there is no such set.
    ///
    /// # Errors
    /// Database failure.
    pub async fn compare_result_set(
        &self,
        workspace_id: i64,
        set_id: i64,
    ) -> Result<Option<SetComparison>, StoreError> {
        let mut conn = self.read.acquire().await?;
        compare_on(self.backend, &mut conn, workspace_id, set_id).await
    }

    /// [`Store::compare_result_set`], from the set's cached comparison when
    /// it is up to date (the worker keeps it so), else computed now.
    ///
    /// # Errors
    /// Database failure.
    pub async fn cached_comparison(
        &self,
        workspace_id: i64,
        set_id: i64,
    ) -> Result<Option<SetComparison>, StoreError> {
        let row: Option<(i64, Option<String>)> = sqlx::query_as(
            "SELECT summary_stale, comparison FROM result_sets WHERE id = $1 AND workspace_id = $2",
        )
        .bind(set_id)
        .bind(workspace_id)
        .fetch_optional(&self.read)
        .await?;
        let Some((stale, cached)) = row else {
            return Ok(None);
        };
        if stale == 0
            && let Some(c) = cached.as_deref().and_then(|t| lists_from_json(set_id, t))
        {
            return Ok(Some(c));
        }
        self.compare_result_set(workspace_id, set_id).await
    }

    /// The cached counts of `set_id`, computed now when stale.
    ///
    /// # Errors
    /// Database failure.
    pub(crate) async fn summary_counts(
        &self,
        workspace_id: i64,
        set_id: i64,
        cached: Option<&str>,
        stale: bool,
    ) -> Result<SummaryCounts, StoreError> {
        if !stale && let Some(c) = cached.and_then(SummaryCounts::from_json) {
            return Ok(c);
        }
        Ok(self
            .compare_result_set(workspace_id, set_id)
            .await?
            .map(|c| SummaryCounts::of(&c))
            .unwrap_or_default())
    }

    /// Recomputes up to `limit` stale summaries; returns how many.
    ///
    /// # Errors
    /// Database failure.
    pub async fn refresh_stale_summaries(&self, limit: i64) -> Result<usize, StoreError> {
        let stale: Vec<(i64, i64, i64)> = sqlx::query_as(
            "SELECT id, workspace_id, summary_version FROM result_sets WHERE summary_stale = 1 ORDER BY id LIMIT $1",
        )
        .bind(limit)
        .fetch_all(&self.read)
        .await?;
        for (set_id, workspace_id, version) in &stale {
            let Some(c) = self.compare_result_set(*workspace_id, *set_id).await? else {
                continue;
            };
            // Only clear the flag if nothing wrote to the set (or its
            // predecessor) meanwhile: every writer bumps the version, and
            // the next refresh sees their rows.
            let counts = SummaryCounts::of(&c);
            sqlx::query(
                "UPDATE result_sets SET summary = $2, comparison = $4, summary_stale = 0 WHERE id = $1 AND summary_version = $3",
            )
            .bind(set_id)
            .bind(counts.to_json())
            .bind(version)
            .bind(lists_json(&c))
            .execute(&self.write)
            .await?;
        }
        Ok(stale.len())
    }
}

const LIST_KEYS: [&str; 7] = [
    "new_failures",
    "still_failing",
    "fixed",
    "new_tests",
    "removed",
    "flaky",
    "muted",
];

fn lists_of(c: &Comparison) -> [&Vec<TestContext>; 7] {
    [
        &c.new_failures,
        &c.still_failing,
        &c.fixed,
        &c.new_tests,
        &c.removed,
        &c.flaky,
        &c.muted_failures,
    ]
}

/// The comparison's lists as JSON (`{"previous": id, "new_failures": [[test, context], …], …}`).
fn lists_json(c: &SetComparison) -> String {
    let mut v = serde_json::Map::new();
    v.insert("previous".to_owned(), json!(c.previous_id));
    for (key, list) in LIST_KEYS.iter().zip(lists_of(&c.comparison)) {
        v.insert(
            (*key).to_owned(),
            json!(list.iter().map(|(t, x)| [*t, *x]).collect::<Vec<_>>()),
        );
    }
    serde_json::Value::Object(v).to_string()
}

fn lists_from_json(set_id: i64, text: &str) -> Option<SetComparison> {
    let v: serde_json::Value = serde_json::from_str(text).ok()?;
    let list = |key: &str| -> Option<Vec<TestContext>> {
        v.get(key)?
            .as_array()?
            .iter()
            .map(|p| Some((p.get(0)?.as_i64()?, p.get(1)?.as_i64()?)))
            .collect()
    };
    Some(SetComparison {
        set_id,
        previous_id: v.get("previous").and_then(serde_json::Value::as_i64),
        comparison: Comparison {
            new_failures: list("new_failures")?,
            still_failing: list("still_failing")?,
            fixed: list("fixed")?,
            new_tests: list("new_tests")?,
            removed: list("removed")?,
            flaky: list("flaky")?,
            muted_failures: list("muted")?,
        },
    })
}

/// The set started just before `set_id` in its series.
pub(crate) async fn previous_set(
    conn: &mut sqlx::AnyConnection,
    set_id: i64,
) -> Result<Option<(i64, i64)>, StoreError> {
    let row = sqlx::query("SELECT series_id, started FROM result_sets WHERE id = $1")
        .bind(set_id)
        .fetch_optional(&mut *conn)
        .await?;
    let Some(row) = row else { return Ok(None) };
    let (series, started): (i64, i64) = (row.try_get(0)?, row.try_get(1)?);
    let previous: Option<i64> = sqlx::query_scalar(
        "SELECT id FROM result_sets WHERE series_id = $1 AND (started < $2 OR (started = $2 AND id < $3)) \
         ORDER BY started DESC, id DESC LIMIT 1",
    )
    .bind(series)
    .bind(started)
    .bind(set_id)
    .fetch_optional(&mut *conn)
    .await?;
    Ok(previous.map(|p| (p, series)))
}

pub(crate) async fn set_entries(
    conn: &mut sqlx::AnyConnection,
    set_id: i64,
) -> Result<Vec<SetEntry>, StoreError> {
    // One packed value instead of 5 values per row: read after every task
    // (the summary refresh), row by row this took 36–78 ms for 2×10,000
    // results and delayed the next task.
    let sql = format!(
        "SELECT {} FROM results WHERE result_set_id = $1",
        json_rows::packed(&["test_id", "context_key", "outcome", "flaky", "muted"])
    );
    let text: Option<String> = sqlx::query_scalar(sqlx::AssertSqlSafe(sql))
        .bind(set_id)
        .fetch_one(&mut *conn)
        .await?;
    Ok(json_rows::unpack::<5>(text.as_deref().unwrap_or_default())?
        .into_iter()
        .map(|[test_id, context, outcome, flaky, muted]| SetEntry {
            test_id,
            context,
            outcome: Outcome::from_code(outcome),
            flaky: flaky != 0,
            muted: muted != 0,
        })
        .collect())
}

async fn compare_on(
    backend: crate::connect::Backend,
    conn: &mut sqlx::AnyConnection,
    workspace_id: i64,
    set_id: i64,
) -> Result<Option<SetComparison>, StoreError> {
    let exists: Option<i64> =
        sqlx::query_scalar("SELECT started FROM result_sets WHERE id = $1 AND workspace_id = $2")
            .bind(set_id)
            .bind(workspace_id)
            .fetch_optional(&mut *conn)
            .await?;
    let Some(started) = exists else {
        return Ok(None);
    };
    let current = set_entries(conn, set_id).await?;
    let Some((previous_id, series)) = previous_set(conn, set_id).await? else {
        return Ok(Some(SetComparison {
            set_id,
            previous_id: None,
            comparison: insight::compare(&current, None, &HashSet::new()),
        }));
    };
    let previous = set_entries(conn, previous_id).await?;
    let absent = insight::absent_before(&current, &previous);
    let mut seen: HashSet<TestContext> = HashSet::new();
    let wanted: HashSet<TestContext> = absent.iter().copied().collect();
    let mut test_ids: Vec<i64> = absent.iter().map(|(t, _)| *t).collect();
    test_ids.dedup();
    for chunk in test_ids.chunks(500) {
        let sql = format!(
            "SELECT DISTINCT r.test_id, r.context_key FROM results r JOIN result_sets s ON s.id = r.result_set_id \
             WHERE s.series_id = {} AND (s.started < {} OR (s.started = {} AND s.id < {})) AND r.test_id IN ({})",
            bulk::placeholder(backend, 1),
            bulk::placeholder(backend, 2),
            bulk::placeholder(backend, 3),
            bulk::placeholder(backend, 4),
            bulk::placeholders(backend, 5, chunk.len())
        );
        let mut q = sqlx::query_as::<_, (i64, i64)>(sqlx::AssertSqlSafe(sql))
            .bind(series)
            .bind(started)
            .bind(started)
            .bind(set_id);
        for t in chunk {
            q = q.bind(*t);
        }
        for key in q.fetch_all(&mut *conn).await? {
            if wanted.contains(&key) {
                seen.insert(key);
            }
        }
    }
    Ok(Some(SetComparison {
        set_id,
        previous_id: Some(previous_id),
        comparison: insight::compare(&current, Some(&previous), &seen),
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cached_lists_round_trip() {
        let c = SetComparison {
            set_id: 7,
            previous_id: Some(6),
            comparison: Comparison {
                new_failures: vec![(1, -5)],
                still_failing: vec![(2, 0), (3, i64::MIN)],
                fixed: vec![],
                new_tests: vec![(4, 9)],
                removed: vec![(5, 1)],
                flaky: vec![(6, 2)],
                muted_failures: vec![(8, 3)],
            },
        };
        assert_eq!(lists_from_json(7, &lists_json(&c)), Some(c.clone()));
        assert_eq!(
            lists_from_json(7, "{}"),
            None,
            "a damaged cache is recomputed, not trusted"
        );
        let counts = SummaryCounts::of(&c);
        assert_eq!(SummaryCounts::from_json(&counts.to_json()), Some(counts));
    }
}
