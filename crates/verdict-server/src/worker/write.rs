//! Applies prepared items in batches: finds or creates tests by identity,
//! then creates or updates last runs by run key, archiving previous runs
//! (protocol §5.3, §5.4). Items of one batch see each other's writes: a run
//! key that repeats inside a batch starts a new sub-batch.

use std::collections::{HashMap, HashSet};

use super::insight::{BatchResults, InsightCtx};
use verdict_domain::rules::{RunKeyParts, run_key};
use verdict_domain::status::RunStatus;
use verdict_store::{
    ChangedResult, ContextSpec, ExistingRun, IngestTx, NewPreviousRun, NewResult, NewRun, NewStep,
    NewTest, RunUpdate, StoreError, TestUpdate,
};

/// The test an item reports on.
#[derive(Debug, Clone, Default)]
pub struct TestSpec {
    pub subtype: &'static str,
    pub identity_key: String,
    /// A gherkin feature tag's test id, tried before the identity key.
    pub tagged_id: Option<i64>,
    pub name: String,
    pub component: String,
    pub package: String,
    pub class_name: String,
    pub external_test_id: Option<String>,
    pub script: Option<String>,
    pub test_level_id: Option<i64>,
    pub testing_tool_type_id: Option<i64>,
    pub framework_id: Option<i64>,
    pub test_type_ids: Vec<i64>,
    pub covered_content: Vec<i64>,
    pub product_areas: Vec<i64>,
    /// The suite whose planning the test joins (once; protocol §5.6).
    pub suite_id: Option<i64>,
}

/// The run an item reports.
#[derive(Debug, Clone, Default)]
pub struct RunSpec {
    pub subtype: &'static str,
    /// Explicit run name (`run_name`, or the suite run's name); else the test's name.
    pub name: Option<String>,
    pub values: RunUpdate,
    pub release_id: Option<i64>,
    pub milestone_id: Option<i64>,
    pub program_id: Option<i64>,
    pub taxonomy_ids: Vec<i64>,
    pub external_run_id: Option<String>,
    pub external_assets: Option<String>,
    pub run_type: Option<String>,
    pub parent_suite_id: Option<i64>,
    /// Steps without ids and run ids (assigned on write).
    pub steps: Vec<NewStep>,
}

/// One item ready to be written.
#[derive(Debug, Clone, Default)]
pub struct PreparedItem {
    pub test: TestSpec,
    pub run: RunSpec,
}

/// Writes a batch of prepared items in document order.
pub async fn write_batch(
    tx: &mut IngestTx,
    items: Vec<PreparedItem>,
    now: i64,
    insight: &mut InsightCtx,
) -> Result<(), StoreError> {
    if items.is_empty() {
        return Ok(());
    }
    let test_ids = resolve_tests(tx, &items, now).await?;
    let keys: Vec<String> = items
        .iter()
        .zip(&test_ids)
        .map(|(item, id)| key_of(item, *id))
        .collect();
    let (items, test_ids, keys) = one_per_execution(items, test_ids, keys);
    let mut start = 0;
    while start < items.len() {
        let mut distinct = HashSet::new();
        let mut end = start;
        while end < items.len() && distinct.insert(keys[end].as_str()) {
            end += 1;
        }
        let batch_keys = keys[start..end].to_vec();
        let results = write_runs(
            tx,
            &items[start..end],
            &test_ids[start..end],
            batch_keys,
            now,
            insight,
        )
        .await?;
        insight.record(tx, results).await?;
        start = end;
    }
    Ok(())
}

/// The items of a batch with one item per execution: of the results with
/// the same run key and `started` — one execution reported twice, a
/// parameterised test its reporter names without its parameters — the
/// worst stays, at the place of the first (the first of equally bad ones).
/// Deciding this before the stored last run is looked at makes a second
/// push of the same report find the same single result: compared one by
/// one, its failure matched the stored one and was kept, and its pass then
/// replaced it as a newer task's result.
fn one_per_execution(
    items: Vec<PreparedItem>,
    test_ids: Vec<i64>,
    keys: Vec<String>,
) -> (Vec<PreparedItem>, Vec<i64>, Vec<String>) {
    let mut at: HashMap<(String, i64), usize> = HashMap::new();
    let mut out_items: Vec<PreparedItem> = Vec::with_capacity(items.len());
    let mut out_ids = Vec::with_capacity(items.len());
    let mut out_keys = Vec::with_capacity(items.len());
    for ((item, test_id), key) in items.into_iter().zip(test_ids).zip(keys) {
        let execution = (key, item.run.values.started);
        match at.get(&execution) {
            Some(&i) => {
                if severity(&item.run.values.status) > severity(&out_items[i].run.values.status) {
                    out_items[i] = item;
                }
            }
            None => {
                at.insert(execution.clone(), out_items.len());
                out_items.push(item);
                out_ids.push(test_id);
                out_keys.push(execution.0);
            }
        }
    }
    (out_items, out_ids, out_keys)
}

fn key_of(item: &PreparedItem, test_id: i64) -> String {
    let t = &item.test;
    run_key(&RunKeyParts {
        test_id,
        release_id: item.run.release_id,
        milestone_id: item.run.milestone_id,
        program_id: item.run.program_id,
        taxonomy_ids: item.run.taxonomy_ids.clone(),
        test_level_id: t.test_level_id,
        test_type_ids: t.test_type_ids.clone(),
        testing_tool_type_id: t.testing_tool_type_id,
        framework_id: t.framework_id,
        external_run_id: item.run.external_run_id.as_deref(),
        parent_suite_run_id: item.run.parent_suite_id,
    })
}

/// Test id of every item: found by tag or identity, else created. Single-valued
/// fields given by later items overwrite; multi-valued ones only gain values.
async fn resolve_tests(
    tx: &mut IngestTx,
    items: &[PreparedItem],
    now: i64,
) -> Result<Vec<i64>, StoreError> {
    let mut by_key: HashMap<(&'static str, String), i64> = HashMap::new();
    let mut stored: HashMap<i64, TestUpdate> = HashMap::new();
    for item in items {
        if let Some(id) = item.test.tagged_id
            && let Some(found) = tx.gherkin_test_by_id(id).await?
        {
            by_key.insert(
                (item.test.subtype, item.test.identity_key.clone()),
                found.id,
            );
            stored.insert(found.id, update_of(&found));
        }
    }
    let mut subtypes: HashMap<&'static str, Vec<&str>> = HashMap::new();
    for item in items {
        if !by_key.contains_key(&(item.test.subtype, item.test.identity_key.clone())) {
            subtypes
                .entry(item.test.subtype)
                .or_default()
                .push(&item.test.identity_key);
        }
    }
    for (subtype, keys) in subtypes {
        for found in tx.find_tests(subtype, &keys).await? {
            by_key.insert((subtype, found.identity_key.clone()), found.id);
            stored.insert(found.id, update_of(&found));
        }
    }
    let mut creating: Vec<NewTest> = Vec::new();
    let missing: Vec<usize> = dedup_missing(items, &by_key);
    let fresh = tx.allocate_ids(missing.len()).await?;
    for (index, id) in missing.into_iter().zip(fresh) {
        let t = &items[index].test;
        by_key.insert((t.subtype, t.identity_key.clone()), id);
        creating.push(NewTest {
            id,
            subtype: t.subtype,
            name: t.name.clone(),
            component: t.component.clone(),
            package: t.package.clone(),
            class_name: t.class_name.clone(),
            external_test_id: t.external_test_id.clone(),
            test_level_id: None,
            testing_tool_type_id: None,
            framework_id: None,
            script: None,
            identity_key: t.identity_key.clone(),
        });
        stored.insert(
            id,
            TestUpdate {
                id,
                ..TestUpdate::default()
            },
        );
    }
    let mut ids = Vec::with_capacity(items.len());
    let mut wanted: HashMap<i64, TestUpdate> = HashMap::new();
    let mut links: Vec<(i64, &str, i64)> = Vec::new();
    for item in items {
        let t = &item.test;
        let id = by_key
            .get(&(t.subtype, t.identity_key.clone()))
            .copied()
            .unwrap_or_default();
        ids.push(id);
        let w = wanted
            .entry(id)
            .or_insert_with(|| stored.get(&id).cloned().unwrap_or_default());
        w.id = id;
        w.test_level_id = t.test_level_id.or(w.test_level_id);
        w.testing_tool_type_id = t.testing_tool_type_id.or(w.testing_tool_type_id);
        w.framework_id = t.framework_id.or(w.framework_id);
        if t.script.is_some() {
            w.script.clone_from(&t.script);
        }
        links.extend(t.test_type_ids.iter().map(|d| (id, "test_type", *d)));
        links.extend(
            t.covered_content
                .iter()
                .map(|d| (id, "covered_content", *d)),
        );
        links.extend(t.product_areas.iter().map(|d| (id, "product_areas", *d)));
        links.extend(t.suite_id.map(|suite| (suite, "planned_tests", id)));
    }
    let created: HashSet<i64> = creating.iter().map(|t| t.id).collect();
    for t in &mut creating {
        if let Some(w) = wanted.get(&t.id) {
            t.test_level_id = w.test_level_id;
            t.testing_tool_type_id = w.testing_tool_type_id;
            t.framework_id = w.framework_id;
            t.script.clone_from(&w.script);
        }
    }
    tx.insert_tests(&creating, now).await?;
    for (id, w) in &wanted {
        if !created.contains(id) && stored.get(id) != Some(w) {
            tx.update_test(w, now).await?;
        }
    }
    tx.add_links(&links).await?;
    Ok(ids)
}

fn update_of(t: &verdict_store::ExistingTest) -> TestUpdate {
    TestUpdate {
        id: t.id,
        test_level_id: t.test_level_id,
        testing_tool_type_id: t.testing_tool_type_id,
        framework_id: t.framework_id,
        script: t.script.clone(),
    }
}

/// Index of the first item of every identity not found in `by_key`.
fn dedup_missing(
    items: &[PreparedItem],
    by_key: &HashMap<(&'static str, String), i64>,
) -> Vec<usize> {
    let mut seen = HashSet::new();
    let mut out = Vec::new();
    for (i, item) in items.iter().enumerate() {
        let key = (item.test.subtype, item.test.identity_key.clone());
        if !by_key.contains_key(&key) && seen.insert(key) {
            out.push(i);
        }
    }
    out
}

/// Writes runs whose keys are all distinct; returns the results written.
async fn write_runs(
    tx: &mut IngestTx,
    items: &[PreparedItem],
    test_ids: &[i64],
    keys: Vec<String>,
    now: i64,
    insight: &InsightCtx,
) -> Result<BatchResults, StoreError> {
    let mut results = BatchResults::default();
    let key_refs: Vec<&str> = keys.iter().map(String::as_str).collect();
    let existing: HashMap<String, ExistingRun> = tx
        .find_runs(&key_refs)
        .await?
        .into_iter()
        .map(|r| (r.run_key.clone(), r))
        .collect();
    let new_count = keys.iter().filter(|k| !existing.contains_key(*k)).count();
    let mut fresh = tx.allocate_ids(new_count).await?.into_iter();
    let mut runs = Vec::new();
    let mut archived_last: Vec<i64> = Vec::new();
    let mut steps_for: Vec<(i64, &[NewStep])> = Vec::new();
    let mut replaced_steps = Vec::new();
    let mut links: Vec<(i64, &str, i64)> = Vec::new();
    let mut older: Vec<(i64, &RunUpdate)> = Vec::new();
    let mut older_of: HashMap<i64, (i64, verdict_store::ContextSpec)> = HashMap::new();
    let mut updates: Vec<(i64, &RunUpdate)> = Vec::new();
    for ((item, test_id), key) in items.iter().zip(test_ids).zip(keys) {
        let run = &item.run;
        let context = ContextSpec::octane(run.release_id, &run.taxonomy_ids);
        let muted = insight.is_muted(*test_id);
        if let Some(last) = existing.get(&key) {
            match apply_to_last(tx.task_id(), last, &run.values) {
                LastRunChange::Keep => {
                    results.kept.get_or_insert((
                        *test_id,
                        context.key,
                        run.values.started,
                        last.id,
                    ));
                }
                LastRunChange::Previous => {
                    older.push((last.id, &run.values));
                    older_of.insert(last.id, (*test_id, context.clone()));
                }
                LastRunChange::Replace { archive } => {
                    let result =
                        NewResult::of_run(*test_id, last.id, context.key, &run.values, muted);
                    if archive {
                        archived_last.push(last.id);
                        results.new.push(result);
                    } else {
                        results.changed.push(ChangedResult {
                            old_outcome: verdict_domain::insight::Outcome::from_status_key(
                                &last.status,
                            ),
                            old_flaky: last.flaky,
                            new: result,
                        });
                    }
                    results.add_context(context);
                    updates.push((last.id, &run.values));
                    replaced_steps.push(last.id);
                    steps_for.push((last.id, &run.steps));
                }
            }
            continue;
        }
        let id = fresh.next().unwrap_or_default();
        results.new.push(NewResult::of_run(
            *test_id,
            id,
            context.key,
            &run.values,
            muted,
        ));
        results.add_context(context);
        links.extend(run.taxonomy_ids.iter().map(|d| (id, "taxonomies", *d)));
        links.extend(
            item.test
                .test_type_ids
                .iter()
                .map(|d| (id, "test_type", *d)),
        );
        steps_for.push((id, &run.steps));
        runs.push(NewRun {
            id,
            subtype: run.subtype,
            test_id: *test_id,
            run_key: key,
            name: run.name.clone().unwrap_or_else(|| item.test.name.clone()),
            values: run.values.clone(),
            release_id: run.release_id,
            milestone_id: run.milestone_id,
            program_id: run.program_id,
            test_level_id: item.test.test_level_id,
            testing_tool_type_id: item.test.testing_tool_type_id,
            framework_id: item.test.framework_id,
            external_run_id: run.external_run_id.clone(),
            external_assets: run.external_assets.clone(),
            run_type: run.run_type.clone(),
            parent_suite_id: run.parent_suite_id,
        });
    }
    tx.insert_runs(&runs, now).await?;
    let archive_ids = tx.allocate_ids(archived_last.len()).await?;
    let archives: Vec<(i64, i64)> = archive_ids.into_iter().zip(archived_last).collect();
    tx.archive_runs(&archives, now).await?;
    tx.update_runs(&updates, now).await?;
    let mut previous = older_results(tx, older).await?;
    for p in &previous {
        if let Some((test_id, context)) = older_of.get(&p.run_id) {
            let muted = insight.is_muted(*test_id);
            results.new.push(NewResult::of_run(
                *test_id,
                p.run_id,
                context.key,
                &p.values,
                muted,
            ));
            results.add_context(context.clone());
        }
    }
    let previous_ids = tx.allocate_ids(previous.len()).await?;
    for (p, id) in previous.iter_mut().zip(previous_ids) {
        p.id = id;
    }
    tx.insert_previous_runs(&previous, now).await?;
    tx.add_links(&links).await?;
    tx.delete_steps(&replaced_steps).await?;
    let step_count = steps_for.iter().map(|(_, s)| s.len()).sum();
    let mut step_ids = tx.allocate_ids(step_count).await?.into_iter();
    let mut steps = Vec::with_capacity(step_count);
    for (run_id, specs) in steps_for {
        for spec in specs {
            let mut step = spec.clone();
            step.id = step_ids.next().unwrap_or_default();
            step.run_id = run_id;
            steps.push(step);
        }
    }
    tx.insert_steps(&steps).await?;
    Ok(results)
}

/// What a result does to the last run of its key (protocol §5.4 and the
/// "one result, stored once" rule of insight.md).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum LastRunChange {
    /// Nothing: the same result again, or a better duplicate inside one task.
    Keep,
    /// An older result: it belongs in history only.
    Previous,
    /// The result becomes the last run; `archive` keeps the old one as a previous run.
    Replace { archive: bool },
}

/// Decides how `incoming` changes `last`. Two results with the same key and
/// `started` inside one task are one result reported twice (a parameterised
/// test a reporter names without its parameters): the worse one wins and
/// nothing is archived, so a pass never hides a failure.
fn apply_to_last(task_id: i64, last: &ExistingRun, incoming: &RunUpdate) -> LastRunChange {
    let same_started = incoming.started == last.started;
    if same_started && last.task_id == task_id {
        return if severity(&incoming.status) > severity(&last.status) {
            LastRunChange::Replace { archive: false }
        } else {
            LastRunChange::Keep
        };
    }
    if incoming.started < last.started {
        LastRunChange::Previous
    } else if same_started && incoming.status == last.status {
        LastRunChange::Keep
    } else {
        LastRunChange::Replace { archive: true }
    }
}

fn severity(status_key: &str) -> u8 {
    RunStatus::from_key(status_key).map_or(0, RunStatus::severity)
}

/// Previous runs for results older than their last run, leaving out those
/// already stored with the same `started` and status (a re-push of an old
/// report adds nothing) and repeats within the batch.
async fn older_results(
    tx: &mut IngestTx,
    older: Vec<(i64, &RunUpdate)>,
) -> Result<Vec<NewPreviousRun>, StoreError> {
    if older.is_empty() {
        return Ok(Vec::new());
    }
    let candidates: Vec<(i64, i64, &str)> = older
        .iter()
        .map(|(run, v)| (*run, v.started, v.status.as_str()))
        .collect();
    let mut stored = tx.stored_previous(&candidates).await?;
    let mut out = Vec::new();
    for (run_id, values) in older {
        if stored.insert((run_id, values.started, values.status.clone())) {
            out.push(NewPreviousRun {
                id: 0,
                run_id,
                values: values.clone(),
            });
        }
    }
    Ok(out)
}
