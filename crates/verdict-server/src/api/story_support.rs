//! Shared by the insight endpoints: finding and naming tests and contexts,
//! and each failing test's streak from its indexed history.

use std::collections::{HashMap, HashSet};

use verdict_domain::insight::{self, StoryEntry, Streak, TestContext};
use verdict_store::{Store, StoreError, StoryResult, TestInfo};

use super::views::{ContextView, HistoryPoint, TestRef};
use crate::error::ApiError;

/// The test `{id}` of a path in the workspace, or the 404 every test path
/// answers (an id of another workspace's test is unknown here).
pub async fn workspace_test(
    store: &Store,
    workspace_id: i64,
    id: &str,
) -> Result<TestInfo, ApiError> {
    let test_id = crate::octane::results::path_id(id, "test")?;
    store
        .test_infos(workspace_id, &[test_id])
        .await?
        .into_iter()
        .next()
        .ok_or_else(|| ApiError::NotFound(format!("test {test_id} not found")))
}

/// The workspace's tests among `ids`, as lists show them.
pub async fn test_refs(
    store: &Store,
    workspace_id: i64,
    ids: &[i64],
) -> Result<HashMap<i64, TestRef>, StoreError> {
    Ok(store
        .test_infos(workspace_id, ids)
        .await?
        .iter()
        .map(|t| (t.id, TestRef::from(t)))
        .collect())
}

/// `id`'s entry of [`test_refs`]; a test that is gone shows its id only.
pub fn test_ref(tests: &HashMap<i64, TestRef>, id: i64) -> TestRef {
    tests.get(&id).cloned().unwrap_or_else(|| TestRef {
        id: id.to_string(),
        name: String::new(),
        class_name: String::new(),
        package: String::new(),
        component: String::new(),
        subtype: String::new(),
    })
}

/// The display form of contexts by key.
pub async fn context_views(
    store: &Store,
    workspace_id: i64,
    keys: &[i64],
) -> Result<HashMap<i64, ContextView>, StoreError> {
    let mut unique: Vec<i64> = keys.to_vec();
    unique.sort_unstable();
    unique.dedup();
    let rows = store.contexts(workspace_id, &unique).await?;
    let mut taxonomy_ids: HashSet<i64> = HashSet::new();
    for (_, _, env) in &rows {
        if is_taxonomy_list(env) {
            taxonomy_ids.extend(env.split(',').filter_map(|v| v.parse::<i64>().ok()));
        }
    }
    let ids: Vec<i64> = taxonomy_ids.into_iter().collect();
    let names: HashMap<i64, String> = store
        .taxonomy_names(workspace_id, &ids)
        .await?
        .into_iter()
        .collect();
    Ok(rows
        .into_iter()
        .map(|(key, release, env)| {
            let environment = if env.is_empty() {
                Vec::new()
            } else if is_taxonomy_list(&env) {
                env.split(',')
                    .filter_map(|v| v.parse::<i64>().ok())
                    .map(|id| {
                        names
                            .get(&id)
                            .cloned()
                            .unwrap_or_else(|| format!("taxonomy {id}"))
                    })
                    .collect()
            } else {
                env.split(", ").map(str::to_owned).collect()
            };
            (
                key,
                ContextView {
                    key: verdict_domain::signature::to_hex(key),
                    release,
                    environment,
                },
            )
        })
        .collect())
}

/// Octane contexts list taxonomy ids (`12,15`); Test Center ones, labels.
fn is_taxonomy_list(env: &str) -> bool {
    !env.is_empty() && env.bytes().all(|b| b.is_ascii_digit() || b == b',')
}

/// The context a result has when no context row exists (never expected).
pub fn unknown_context(key: i64) -> ContextView {
    ContextView {
        key: verdict_domain::signature::to_hex(key),
        release: None,
        environment: Vec::new(),
    }
}

/// A test's results grouped by context, oldest first.
pub fn by_context(results: Vec<(i64, StoryResult)>) -> HashMap<TestContext, Vec<StoryResult>> {
    let mut out: HashMap<TestContext, Vec<StoryResult>> = HashMap::new();
    for (test_id, r) in results {
        let list = out.entry((test_id, r.context_key)).or_default();
        // An identical result (same start, same outcome) is one entry: the
        // same report imported twice, or pushed under two run keys.
        // Results arrive ordered by start then id, so the first is kept.
        if list
            .iter()
            .rev()
            .take_while(|p| p.started == r.started)
            .any(|p| p.outcome == r.outcome)
        {
            continue;
        }
        list.push(r);
    }
    out
}

/// The story entries of results (for the domain functions).
pub fn entries(results: &[StoryResult]) -> Vec<StoryEntry> {
    results
        .iter()
        .map(|r| StoryEntry {
            outcome: r.outcome,
            flaky: r.flaky,
            started: r.started,
            duration: r.duration,
        })
        .collect()
}

/// A result as a history point.
pub fn point(r: &StoryResult) -> HistoryPoint {
    HistoryPoint {
        result_id: r.result_id.to_string(),
        started: verdict_domain::time::format_iso(r.started),
        result_set_id: r.result_set_id.to_string(),
        result_set_name: r.result_set_name.clone(),
    }
}

/// The current streak and its two points.
pub fn streak_points(
    results: &[StoryResult],
) -> Option<(Streak, HistoryPoint, Option<HistoryPoint>)> {
    let streak = insight::failing_since(&entries(results))?;
    let since = point(&results[streak.since]);
    let last = streak.last_passed.map(|i| point(&results[i]));
    Some((streak, since, last))
}

/// "Failing since" of each failing (test, context), judged at the given
/// result of the set (`keys`: (test, context) → (started, result id)):
/// later results, and results of other sets started after it, do not count.
pub async fn failing_since(
    store: &Store,
    workspace_id: i64,
    keys: &HashMap<TestContext, (i64, i64)>,
) -> Result<HashMap<TestContext, (HistoryPoint, Option<HistoryPoint>)>, StoreError> {
    let mut out = HashMap::new();
    let mut todo: Vec<(i64, i64, i64, i64)> = keys
        .iter()
        .map(|((test, ctx), (started, id))| (*test, *ctx, *started, *id))
        .collect();
    let mut depth = STREAK_DEPTH;
    while !todo.is_empty() {
        let rows = store.results_until(workspace_id, &todo, depth).await?;
        let mut read: HashMap<TestContext, usize> = HashMap::new();
        for (test, r) in &rows {
            *read.entry((*test, r.context_key)).or_default() += 1;
        }
        let grouped = by_context(rows);
        let mut deeper = Vec::new();
        for point in todo {
            let key = (point.0, point.1);
            let results = grouped.get(&key).map(Vec::as_slice).unwrap_or_default();
            match streak_points(results) {
                // no pass before the streak among a full read: there may be more
                Some((_, _, None)) if read.get(&key).copied().unwrap_or(0) >= depth => {
                    deeper.push(point);
                }
                Some((_, since, last)) => {
                    out.insert(key, (since, last));
                }
                None => {}
            }
        }
        todo = deeper;
        depth *= 4;
    }
    Ok(out)
}

/// Results read per failing test and context first; a longer streak is read
/// again, four times deeper.
const STREAK_DEPTH: usize = 64;
