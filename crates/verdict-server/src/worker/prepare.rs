//! Turns a validated payload item plus its merged context into the rows to
//! write: list-node and taxonomy ids (created on first use), status ids, run
//! values and steps; and selects or creates suite runs (protocol §5.6).

use std::collections::HashMap;

use serde_json::json;
use verdict_domain::payload::{GherkinRun, Item, Parameter, TestFieldType, TestRun};
use verdict_domain::rules::{self, Problem, Scope};
use verdict_domain::status::RunStatus;
use verdict_store::{IngestTx, NewRun, NewStep, RunUpdate, StoreError};

use super::process::Job;
use super::resolve::Resolved;
use super::write::{PreparedItem, RunSpec, TestSpec};

/// Most runs one suite run takes from one payload (vendor limit).
pub const SUITE_RUN_CAP: u64 = 1000;

/// Suite runs of this task: ids by key, and how many runs each received.
#[derive(Default)]
pub struct SuiteRuns {
    ids: HashMap<String, i64>,
    names: HashMap<i64, String>,
    suite_of: HashMap<i64, i64>,
    admitted: HashMap<i64, u64>,
    ignored: HashMap<i64, u64>,
}

impl SuiteRuns {
    /// Counts a run into its suite run; false once the cap is reached.
    pub fn admit(&mut self, suite_run: i64) -> bool {
        let n = self.admitted.entry(suite_run).or_default();
        if *n >= SUITE_RUN_CAP {
            *self.ignored.entry(suite_run).or_default() += 1;
            return false;
        }
        *n += 1;
        true
    }

    /// Keeps the counts for the task's next transaction (the ids are looked
    /// up again there).
    pub fn save(&self, saved: &mut super::checkpoint::Saved) {
        let sorted = |m: &HashMap<i64, u64>| {
            let mut v: Vec<(i64, u64)> = m.iter().map(|(k, v)| (*k, *v)).collect();
            v.sort_unstable();
            v
        };
        saved.suite_admitted = sorted(&self.admitted);
        saved.suite_ignored = sorted(&self.ignored);
        let mut of: Vec<(i64, i64)> = self.suite_of.iter().map(|(k, v)| (*k, *v)).collect();
        of.sort_unstable();
        saved.suite_of = of;
    }

    /// The counts a checkpoint kept.
    pub fn restore(saved: &super::checkpoint::Saved) -> Self {
        Self {
            admitted: saved.suite_admitted.iter().copied().collect(),
            ignored: saved.suite_ignored.iter().copied().collect(),
            suite_of: saved.suite_of.iter().copied().collect(),
            ..Self::default()
        }
    }

    /// One warning per suite run that hit the cap.
    pub fn overflow_problems(&self) -> Vec<Problem> {
        let mut out: Vec<(i64, u64)> = self.ignored.iter().map(|(k, v)| (*k, *v)).collect();
        out.sort_unstable();
        out.into_iter()
            .map(|(run, n)| Problem {
                scope: Scope::Global,
                message: format!(
                    "suite {}: more than {SUITE_RUN_CAP} runs, {n} ignored",
                    self.suite_of.get(&run).copied().unwrap_or_default()
                ),
            })
            .collect()
    }
}

/// The suite run an item goes into, found or created; problems are pushed
/// to `messages` and, if so, the suite link is dropped from `merged`.
pub async fn suite_run(
    job: &mut Job,
    tx: &mut IngestTx,
    merged: &mut Resolved,
    messages: &mut Vec<String>,
) -> Result<Option<i64>, StoreError> {
    let Some(link) = merged.suite.clone() else {
        return Ok(None);
    };
    let name = link
        .external_run_id
        .clone()
        .unwrap_or_else(|| link.suite.name.clone());
    let release = merged.release.as_ref().map(|r| r.id);
    let key = format!(
        "suite\u{1f}{}\u{1f}{name}\u{1f}{release:?}\u{1f}{:?}\u{1f}{:?}",
        link.suite.id,
        merged.milestone.map(|m| m.0),
        merged.program
    );
    if let Some(id) = job.suite_runs.ids.get(&key) {
        return Ok(Some(*id));
    }
    if let Some(found) = tx.find_runs(&[key.as_str()]).await?.into_iter().next() {
        job.suite_runs.remember(key, found.id, link.suite.id, name);
        return Ok(Some(found.id));
    }
    let Some(release_info) = merged.release.clone() else {
        messages.push("creating a suite run requires a release".to_owned());
        merged.suite = None;
        return Ok(None);
    };
    if !release_info.programs.is_empty() && merged.program.is_none() {
        messages.push("creating a suite run requires a program".to_owned());
        merged.suite = None;
        return Ok(None);
    }
    if !messages.is_empty() && !job.skip_errors {
        return Ok(None);
    }
    let id = tx
        .allocate_ids(1)
        .await?
        .first()
        .copied()
        .unwrap_or_default();
    let (status_id, native_status_id) = status_ids(job, tx, RunStatus::Planned).await?;
    let run = NewRun {
        id,
        subtype: "run_suite",
        test_id: link.suite.id,
        run_key: key.clone(),
        name: name.clone(),
        values: RunUpdate {
            status: RunStatus::Planned.key().to_owned(),
            status_id: Some(status_id),
            native_status_id: Some(native_status_id),
            started: job.injection_time,
            ..RunUpdate::default()
        },
        release_id: release,
        milestone_id: merged.milestone.map(|m| m.0),
        program_id: merged.program,
        external_run_id: link.external_run_id.clone(),
        ..NewRun::default()
    };
    tx.insert_runs(&[run], job.injection_time).await?;
    job.suite_runs.remember(key, id, link.suite.id, name);
    Ok(Some(id))
}

impl SuiteRuns {
    fn remember(&mut self, key: String, run: i64, suite: i64, name: String) {
        self.ids.insert(key, run);
        self.suite_of.insert(run, suite);
        self.names.insert(run, name);
    }

    fn name_of(&self, run: i64) -> Option<String> {
        self.names.get(&run).cloned()
    }
}

/// (run_status, run_native_status) list-node ids of a status.
async fn status_ids(
    job: &mut Job,
    tx: &mut IngestTx,
    status: RunStatus,
) -> Result<(i64, i64), StoreError> {
    if let Some(ids) = job.status_ids.get(status.key()) {
        return Ok(*ids);
    }
    let s = job
        .resolver
        .list_node(tx, "run_status", status.display_name())
        .await?;
    let n = job
        .resolver
        .list_node(tx, "run_native_status", status.display_name())
        .await?;
    job.status_ids.insert(status.key(), (s, n));
    Ok((s, n))
}

/// Builds the rows of one item that is going to be written.
pub async fn item(
    job: &mut Job,
    tx: &mut IngestTx,
    item: Item,
    merged: &Resolved,
    parent_suite: Option<i64>,
) -> Result<PreparedItem, StoreError> {
    let mut test = TestSpec {
        covered_content: merged.backlog_items.clone(),
        product_areas: merged.product_areas.clone(),
        suite_id: merged.suite.as_ref().map(|s| s.suite.id),
        ..TestSpec::default()
    };
    for (field_type, value) in &merged.single_fields {
        let id = Some(
            job.resolver
                .list_node(tx, field_type.payload_name(), value)
                .await?,
        );
        match field_type {
            TestFieldType::TestLevel => test.test_level_id = id,
            TestFieldType::TestingToolType => test.testing_tool_type_id = id,
            TestFieldType::Framework => test.framework_id = id,
            TestFieldType::TestType => {}
        }
    }
    for value in &merged.test_types {
        test.test_type_ids
            .push(job.resolver.list_node(tx, "Test_Type", value).await?);
    }
    let mut run = RunSpec {
        release_id: merged.release.as_ref().map(|r| r.id),
        milestone_id: merged.milestone.map(|m| m.0),
        program_id: merged.program,
        parent_suite_id: parent_suite,
        name: parent_suite.and_then(|s| job.suite_runs.name_of(s)),
        ..RunSpec::default()
    };
    for (category, value) in &merged.taxonomies {
        run.taxonomy_ids
            .push(job.resolver.taxonomy(tx, category, value).await?);
    }
    match item {
        Item::Test(t) => test_run(job, tx, *t, test, run).await,
        Item::Gherkin(g) => gherkin_run(job, tx, *g, test, run).await,
    }
}

async fn test_run(
    job: &mut Job,
    tx: &mut IngestTx,
    t: TestRun,
    mut test: TestSpec,
    mut run: RunSpec,
) -> Result<PreparedItem, StoreError> {
    let (status_id, native_status_id) = status_ids(job, tx, t.status).await?;
    let (component, package, class) = (
        t.module.unwrap_or_default(),
        t.package.unwrap_or_default(),
        t.class.unwrap_or_default(),
    );
    test.subtype = "test_automated";
    test.identity_key = rules::automated_test_identity(&component, &package, &class, &t.name);
    test.name = t.name;
    (test.component, test.package, test.class_name) = (component, package, class);
    test.external_test_id = t.external_test_id;
    run.subtype = "run_automated";
    if t.run_name.is_some() {
        run.name = t.run_name;
    }
    let error = t.error.unwrap_or_default();
    run.values = RunUpdate {
        status: t.status.key().to_owned(),
        status_id: Some(status_id),
        native_status_id: Some(native_status_id),
        started: t.started.unwrap_or(job.injection_time),
        duration: t.duration.max(0),
        description: t.description,
        error_type: error.error_type,
        error_message: error.message,
        error_stack: Some(error.stack_trace).filter(|s| !s.trim().is_empty()),
        external_report_url: t.external_report_url,
        ci_build_id: job.ci_build_id,
        retries: i64::from(t.retries),
        flaky: t.flaky && t.status == RunStatus::Passed,
    };
    run.external_run_id = t.external_run_id;
    run.external_assets = t.external_assets;
    run.run_type = t.run_type;
    let mut position = 0;
    for iteration in t.steps {
        for step in iteration.steps {
            run.steps.push(NewStep {
                position,
                kind: "step",
                iteration: iteration.iteration.clone(),
                parameters: parameters_json(&step.input_parameters, &step.output_parameters),
                name: step.name,
                status: Some(step.status),
                duration: Some(step.duration),
                error_message: step.error_message,
                external_step_id: step.external_step_id,
                ..NewStep::default()
            });
            position += 1;
        }
    }
    Ok(PreparedItem { test, run })
}

async fn gherkin_run(
    job: &mut Job,
    tx: &mut IngestTx,
    g: GherkinRun,
    mut test: TestSpec,
    mut run: RunSpec,
) -> Result<PreparedItem, StoreError> {
    let (status_id, native_status_id) = status_ids(job, tx, g.status).await?;
    let feature = g.feature;
    test.subtype = "gherkin_test";
    test.identity_key = rules::gherkin_test_identity(&feature.path);
    test.tagged_id = rules::test_id_from_feature_tag(&feature.tag);
    test.name = [&g.name, &feature.name, &feature.path]
        .into_iter()
        .find(|s| !s.is_empty())
        .cloned()
        .unwrap_or_default();
    test.script = Some(feature.file);
    run.subtype = "gherkin_run";
    run.values = RunUpdate {
        status: g.status.key().to_owned(),
        status_id: Some(status_id),
        native_status_id: Some(native_status_id),
        started: feature.started,
        duration: g.duration.max(0),
        ci_build_id: job.ci_build_id,
        retries: i64::from(g.retries),
        flaky: g.flaky && g.status == RunStatus::Passed,
        ..RunUpdate::default()
    };
    run.external_run_id = g.external_run_id;
    let mut position = 0;
    for step in feature.background.unwrap_or_default() {
        run.steps.push(NewStep {
            position,
            kind: "background",
            name: step.name,
            status: step.status,
            duration: step.duration,
            error_message: step.error_message,
            ..NewStep::default()
        });
        position += 1;
    }
    for scenario in feature.scenarios {
        run.steps.push(NewStep {
            position,
            kind: "scenario",
            scenario: Some(scenario.name.clone()),
            name: scenario.name.clone(),
            status: Some(scenario.status.key().to_owned()),
            duration: Some(scenario.steps.iter().map(|s| s.duration.max(0)).sum()),
            iteration: scenario.outline_index.map(|i| i.to_string()),
            ..NewStep::default()
        });
        position += 1;
        for step in scenario.steps {
            run.steps.push(NewStep {
                position,
                kind: "scenario_step",
                scenario: Some(scenario.name.clone()),
                parameters: parameters_json(&step.input_parameters, &step.output_parameters),
                name: step.name,
                status: Some(step.status),
                duration: Some(step.duration),
                error_message: step.error_message,
                external_step_id: step.external_step_id,
                ..NewStep::default()
            });
            position += 1;
        }
    }
    Ok(PreparedItem { test, run })
}

fn parameters_json(input: &[Parameter], output: &[Parameter]) -> Option<String> {
    if input.is_empty() && output.is_empty() {
        return None;
    }
    let list = |ps: &[Parameter]| {
        ps.iter()
            .map(|p| json!({"name": p.name, "value": p.value, "type": p.param_type}))
            .collect::<Vec<_>>()
    };
    Some(json!({"input": list(input), "output": list(output)}).to_string())
}
