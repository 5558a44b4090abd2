//! The parts of a test's story that come from the entities behind its
//! results: the test's links (backlog items, application modules, list
//! values) and its newest failures with message, stack trace and files.

use std::collections::HashMap;

use serde::Serialize;
use utoipa::ToSchema;
use verdict_domain::insight::Outcome;
use verdict_domain::signature::to_hex;
use verdict_store::{FailureFile, LinkedEntity, StoryResult, TestLinks};

use super::views::TriageView;
use crate::app::AppState;
use crate::error::ApiError;

/// Failures detailed per context when `failures` is not given.
pub const DEFAULT_FAILURES: usize = 3;
/// Most failures a caller may ask for per context (`failures`), and in all.
pub const MAX_FAILURES: usize = 50;
/// Failures detailed per story in all by default (the newest contexts first).
const DEFAULT_FAILURES_PER_STORY: usize = 12;

/// An entity the test links to.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct LinkedEntityView {
    pub id: String,
    /// A backlog item's subtype (`story`, `defect`…), `application_module`,
    /// or the list's name (`list_node.framework`…).
    pub kind: String,
    pub name: String,
}

impl From<&LinkedEntity> for LinkedEntityView {
    fn from(e: &LinkedEntity) -> Self {
        Self {
            id: e.id.to_string(),
            kind: e.kind.clone(),
            name: e.name.clone(),
        }
    }
}

/// A test's links, as the entity API keeps them.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct TestLinksView {
    pub external_test_id: Option<String>,
    /// Framework, test level, testing tool type, test types.
    pub lists: Vec<LinkedEntityView>,
    /// `covered_content`.
    pub backlog_items: Vec<LinkedEntityView>,
    /// `product_areas`.
    pub application_modules: Vec<LinkedEntityView>,
}

impl From<&TestLinks> for TestLinksView {
    fn from(l: &TestLinks) -> Self {
        let all = |v: &[LinkedEntity]| v.iter().map(LinkedEntityView::from).collect();
        Self {
            external_test_id: l.external_test_id.clone(),
            lists: all(&l.lists),
            backlog_items: all(&l.backlog_items),
            application_modules: all(&l.application_modules),
        }
    }
}

/// A file a failure left.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct FailureFileView {
    /// `run_attachment` (an Octane attachment of the run: `…/attachments/{id}`),
    /// `screenshot` or `attachment` (of a Test Center event `{id}`).
    pub kind: String,
    pub id: String,
    pub name: String,
}

impl From<&FailureFile> for FailureFileView {
    fn from(f: &FailureFile) -> Self {
        let (kind, id, name) = match f {
            FailureFile::RunAttachment { id, name, .. } => ("run_attachment", id, name),
            FailureFile::EventScreenshot { event_id, name } => ("screenshot", event_id, name),
            FailureFile::EventAttachment { event_id, name } => ("attachment", event_id, name),
        };
        Self {
            kind: kind.to_owned(),
            id: id.to_string(),
            name: name.clone(),
        }
    }
}

/// One failed result with what it reported.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct FailureView {
    pub result_id: String,
    pub result_set_id: String,
    pub result_set_name: String,
    pub started: String,
    pub retries: i64,
    pub error_type: Option<String>,
    pub message: Option<String>,
    pub stack: Option<String>,
    pub signature: Option<String>,
    pub triage: Option<TriageView>,
    pub files: Vec<FailureFileView>,
}

/// The newest `per_context` failures of each context (`results` oldest
/// first per context, contexts in the order shown), at most
/// [`MAX_FAILURES`] (by default 12) in all.
pub async fn newest_failures(
    state: &AppState,
    workspace_id: i64,
    contexts: &[&[StoryResult]],
    per_context: usize,
) -> Result<Vec<Vec<FailureView>>, ApiError> {
    let mut picked: Vec<Vec<&StoryResult>> = Vec::with_capacity(contexts.len());
    let mut budget = if per_context <= DEFAULT_FAILURES {
        DEFAULT_FAILURES_PER_STORY
    } else {
        MAX_FAILURES
    };
    for results in contexts {
        let take = per_context.min(budget);
        let newest: Vec<&StoryResult> = results
            .iter()
            .rev()
            .filter(|r| r.outcome == Outcome::Failed)
            .take(take)
            .collect();
        budget -= newest.len();
        picked.push(newest);
    }
    let mut signatures: Vec<i64> = picked
        .iter()
        .flatten()
        .filter_map(|r| r.signature)
        .collect();
    signatures.sort_unstable();
    signatures.dedup();
    let triage: HashMap<i64, TriageView> = state
        .store
        .latest_triage(workspace_id, &signatures)
        .await?
        .iter()
        .map(|t| (t.signature, TriageView::from(t)))
        .collect();
    let mut out = Vec::with_capacity(picked.len());
    for list in picked {
        let mut views = Vec::with_capacity(list.len());
        for r in list {
            let detail = state
                .store
                .failure_detail(workspace_id, r.run_id, r.started)
                .await?
                .unwrap_or_default();
            views.push(FailureView {
                result_id: r.result_id.to_string(),
                result_set_id: r.result_set_id.to_string(),
                result_set_name: r.result_set_name.clone(),
                started: verdict_domain::time::format_iso(r.started),
                retries: r.retries,
                error_type: detail.error_type,
                message: detail.message,
                stack: detail.stack,
                signature: r.signature.map(to_hex),
                triage: r.signature.and_then(|s| triage.get(&s).cloned()),
                files: detail.files.iter().map(FailureFileView::from).collect(),
            });
        }
        out.push(views);
    }
    Ok(out)
}
