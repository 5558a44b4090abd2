//! Link resolution and context merging (protocol §5.1, §5.5): turns a
//! payload level's links into entity ids, reports what is missing or
//! conflicting, and merges global with per-test context.

use std::collections::HashMap;

use verdict_domain::payload::{Context, ReleaseLink, TestFieldType};
use verdict_store::{IngestTx, ReleaseInfo, StoreError, SuiteInfo};

/// A suite link that resolved.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SuiteLink {
    pub suite: SuiteInfo,
    pub external_run_id: Option<String>,
    pub component: Option<String>,
}

/// One level's (or the merged) context with ids resolved; test fields and
/// taxonomies stay names until the item is known to be written.
#[derive(Debug, Clone, Default)]
pub struct Resolved {
    pub release: Option<ReleaseInfo>,
    pub milestone: Option<(i64, Option<i64>)>,
    pub program: Option<i64>,
    pub suite: Option<SuiteLink>,
    pub backlog_items: Vec<i64>,
    pub product_areas: Vec<i64>,
    /// Single-valued characteristics by type (`TestLevel`, `TestingToolType`, `Framework`).
    pub single_fields: HashMap<TestFieldType, String>,
    pub test_types: Vec<String>,
    pub taxonomies: Vec<(String, String)>,
}

/// What resolving one level found wrong.
#[derive(Debug, Default)]
pub struct LevelProblems {
    /// Links to entities that do not exist.
    pub missing: Vec<String>,
    /// Several values for one single-valued field at this level.
    pub conflicts: Vec<String>,
}

/// Per-task memo of link lookups; payloads repeat the same links a lot.
#[derive(Default)]
pub struct Resolver {
    releases_by_id: HashMap<i64, Option<ReleaseInfo>>,
    releases_by_name: HashMap<String, Option<ReleaseInfo>>,
    milestones: HashMap<i64, Option<Option<i64>>>,
    programs: HashMap<i64, bool>,
    work_items: HashMap<i64, bool>,
    modules: HashMap<i64, bool>,
    suites: HashMap<i64, Option<SuiteInfo>>,
    list_nodes: HashMap<(&'static str, String), i64>,
    taxonomies: HashMap<(String, String), i64>,
}

impl Resolver {
    /// Resolves one level. `last_wins` keeps the last of several values of a
    /// single-valued field (per-test under skip-errors); otherwise the field is dropped.
    pub async fn level(
        &mut self,
        tx: &mut IngestTx,
        ctx: &Context,
        injection_time: i64,
        last_wins: bool,
    ) -> Result<(Resolved, LevelProblems), StoreError> {
        let mut r = Resolved::default();
        let mut p = LevelProblems::default();
        if let Some(link) = &ctx.release {
            r.release = self.release(tx, link, injection_time).await?;
            if r.release.is_none() {
                p.missing.push(match link {
                    ReleaseLink::ById(id) => format!("release_ref id {id} not found"),
                    ReleaseLink::ByName(n) if n == "_default_" => {
                        "default release not found".to_owned()
                    }
                    ReleaseLink::ByName(n) => format!("release '{n}' not found"),
                });
            }
        }
        if let Some(id) = ctx.milestone {
            if let std::collections::hash_map::Entry::Vacant(e) = self.milestones.entry(id) {
                let found = tx.milestone_release(id).await?;
                e.insert(found);
            }
            match self.milestones.get(&id).copied().flatten() {
                Some(release) => r.milestone = Some((id, release)),
                None => p.missing.push(format!("milestone_ref id {id} not found")),
            }
        }
        if let Some(id) = ctx.program {
            if let std::collections::hash_map::Entry::Vacant(e) = self.programs.entry(id) {
                let found = tx.program_exists(id).await?;
                e.insert(found);
            }
            if self.programs.get(&id).copied().unwrap_or(false) {
                r.program = Some(id);
            } else {
                p.missing.push(format!("program_ref id {id} not found"));
            }
        }
        if let Some(suite) = &ctx.suite {
            if let std::collections::hash_map::Entry::Vacant(e) = self.suites.entry(suite.id) {
                let found = tx.suite(suite.id).await?;
                e.insert(found);
            }
            match self.suites.get(&suite.id).cloned().flatten() {
                Some(info) => {
                    r.suite = Some(SuiteLink {
                        suite: info,
                        external_run_id: suite.external_run_id.clone(),
                        component: suite.component.clone(),
                    });
                }
                None => p
                    .missing
                    .push(format!("suite_ref id {} not found", suite.id)),
            }
        }
        for id in &ctx.backlog_items {
            if !self.work_items.contains_key(id) {
                let found = tx.work_item_exists(*id).await?;
                self.work_items.insert(*id, found);
            }
            if self.work_items.get(id).copied().unwrap_or(false) {
                push_unique(&mut r.backlog_items, *id);
            } else {
                p.missing
                    .push(format!("backlog_item_ref id {id} not found"));
            }
        }
        for id in &ctx.product_areas {
            if !self.modules.contains_key(id) {
                let found = tx.application_module_exists(*id).await?;
                self.modules.insert(*id, found);
            }
            if self.modules.get(id).copied().unwrap_or(false) {
                push_unique(&mut r.product_areas, *id);
            } else {
                p.missing
                    .push(format!("product_area_ref id {id} not found"));
            }
        }
        fields(ctx, &mut r, &mut p, last_wins);
        Ok((r, p))
    }

    async fn release(
        &mut self,
        tx: &mut IngestTx,
        link: &ReleaseLink,
        injection_time: i64,
    ) -> Result<Option<ReleaseInfo>, StoreError> {
        match link {
            ReleaseLink::ById(id) => {
                if !self.releases_by_id.contains_key(id) {
                    let found = tx.release_by_id(*id).await?;
                    self.releases_by_id.insert(*id, found);
                }
                Ok(self.releases_by_id.get(id).cloned().flatten())
            }
            ReleaseLink::ByName(name) => {
                if !self.releases_by_name.contains_key(name) {
                    let found = if name == "_default_" {
                        tx.default_release(injection_time).await?
                    } else {
                        tx.release_by_name(name).await?
                    };
                    self.releases_by_name.insert(name.clone(), found);
                }
                Ok(self.releases_by_name.get(name).cloned().flatten())
            }
        }
    }

    /// The list node of a test field value, created on first use.
    pub async fn list_node(
        &mut self,
        tx: &mut IngestTx,
        list: &'static str,
        value: &str,
    ) -> Result<i64, StoreError> {
        let key = (list, value.to_lowercase());
        if let Some(id) = self.list_nodes.get(&key) {
            return Ok(*id);
        }
        let id = tx.list_node(list, value).await?;
        self.list_nodes.insert(key, id);
        Ok(id)
    }

    /// The taxonomy item of an environment value, created on first use.
    pub async fn taxonomy(
        &mut self,
        tx: &mut IngestTx,
        category: &str,
        value: &str,
    ) -> Result<i64, StoreError> {
        let key = (category.to_lowercase(), value.to_lowercase());
        if let Some(id) = self.taxonomies.get(&key) {
            return Ok(*id);
        }
        let id = tx.taxonomy_item(category, value).await?;
        self.taxonomies.insert(key, id);
        Ok(id)
    }
}

fn fields(ctx: &Context, r: &mut Resolved, p: &mut LevelProblems, last_wins: bool) {
    let mut conflicting = Vec::new();
    for field in &ctx.test_fields {
        if field.field_type.is_multi_valued() {
            if !r.test_types.iter().any(|t| {
                t.eq_ignore_ascii_case(&field.value)
                    || t.to_lowercase() == field.value.to_lowercase()
            }) {
                r.test_types.push(field.value.clone());
            }
            continue;
        }
        match r.single_fields.get(&field.field_type) {
            Some(existing) if existing.to_lowercase() != field.value.to_lowercase() => {
                if !conflicting.contains(&field.field_type) {
                    conflicting.push(field.field_type);
                    p.conflicts.push(format!(
                        "multiple values for single-valued field {}",
                        field.field_type.payload_name()
                    ));
                }
                if last_wins {
                    r.single_fields
                        .insert(field.field_type, field.value.clone());
                }
            }
            Some(_) => {}
            None => {
                r.single_fields
                    .insert(field.field_type, field.value.clone());
            }
        }
    }
    if !last_wins {
        for t in conflicting {
            r.single_fields.remove(&t);
        }
    }
    for tax in &ctx.taxonomies {
        let pair = (tax.category.clone(), tax.value.clone());
        if !r.taxonomies.iter().any(|(c, v)| {
            c.to_lowercase() == pair.0.to_lowercase() && v.to_lowercase() == pair.1.to_lowercase()
        }) {
            r.taxonomies.push(pair);
        }
    }
}

fn push_unique(list: &mut Vec<i64>, id: i64) {
    if !list.contains(&id) {
        list.push(id);
    }
}

/// Merges global and per-test context (protocol §5.1). Returns the merged
/// context and the conflicts found; `skip_errors` decides how a conflict is
/// settled in the merged value (the caller decides whether to skip the item).
#[must_use]
pub fn merge(global: &Resolved, test: Resolved, skip_errors: bool) -> (Resolved, Vec<String>) {
    let mut conflicts = Vec::new();
    let mut m = test;
    m.release = single(
        global.release.clone(),
        m.release,
        |r| r.id,
        "release",
        &mut conflicts,
    );
    m.milestone = single(
        global.milestone,
        m.milestone,
        |x| x.0,
        "milestone",
        &mut conflicts,
    );
    m.program = single(global.program, m.program, |x| *x, "program", &mut conflicts);
    m.suite = single(
        global.suite.clone(),
        m.suite,
        |s| s.suite.id,
        "suite",
        &mut conflicts,
    );
    for id in &global.backlog_items {
        push_unique(&mut m.backlog_items, *id);
    }
    for id in &global.product_areas {
        push_unique(&mut m.product_areas, *id);
    }
    for (field_type, value) in &global.single_fields {
        match m.single_fields.get(field_type) {
            Some(mine) if mine.to_lowercase() != value.to_lowercase() => {
                conflicts.push(format!(
                    "conflicting {}: global '{value}', test '{mine}'",
                    field_type.payload_name()
                ));
                if !skip_errors {
                    m.single_fields.remove(field_type);
                }
            }
            Some(_) => {}
            None => {
                m.single_fields.insert(*field_type, value.clone());
            }
        }
    }
    let mut types = global.test_types.clone();
    for t in m.test_types {
        if !types.iter().any(|x| x.to_lowercase() == t.to_lowercase()) {
            types.push(t);
        }
    }
    m.test_types = types;
    let mut taxonomies = global.taxonomies.clone();
    for (c, v) in m.taxonomies {
        if !taxonomies.iter().any(|(gc, gv)| {
            gc.to_lowercase() == c.to_lowercase() && gv.to_lowercase() == v.to_lowercase()
        }) {
            taxonomies.push((c, v));
        }
    }
    m.taxonomies = taxonomies;
    (m, conflicts)
}

/// A single-valued link given at both levels must name the same entity; when
/// it does not, the run gets none (and the conflict is reported).
fn single<T, K: PartialEq + std::fmt::Display>(
    global: Option<T>,
    test: Option<T>,
    key: impl Fn(&T) -> K,
    what: &str,
    conflicts: &mut Vec<String>,
) -> Option<T> {
    match (global, test) {
        (Some(g), Some(t)) => {
            if key(&g) == key(&t) {
                Some(t)
            } else {
                conflicts.push(format!(
                    "conflicting {what}: global {}, test {}",
                    key(&g),
                    key(&t)
                ));
                None
            }
        }
        (g, t) => t.or(g),
    }
}

/// Release-scoped rules after merging (protocol §5.5): the milestone must
/// belong to the release (no release: the milestone's release is taken), and
/// the program must be one of the release's programs when it has any.
pub fn check_release_scope(m: &mut Resolved, problems: &mut Vec<String>) {
    if let Some((milestone, milestone_release)) = m.milestone {
        match (&m.release, milestone_release) {
            (Some(release), Some(mr)) if release.id != mr => {
                problems.push(format!(
                    "milestone {milestone} does not belong to release {}",
                    release.id
                ));
                m.milestone = None;
            }
            (Some(release), None) => {
                problems.push(format!(
                    "milestone {milestone} does not belong to release {}",
                    release.id
                ));
                m.milestone = None;
            }
            (None, Some(mr)) => {
                m.release = Some(ReleaseInfo {
                    id: mr,
                    name: String::new(),
                    programs: Vec::new(),
                });
            }
            _ => {}
        }
    }
    if let (Some(program), Some(release)) = (m.program, &m.release)
        && !release.programs.is_empty()
        && !release.programs.contains(&program)
    {
        problems.push(format!(
            "program {program} is not assigned to release {}",
            release.id
        ));
        m.program = None;
    }
}
