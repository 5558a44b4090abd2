//! Verdict's storage layer: the only crate that speaks SQL.
//!
//! One [`Store`] value fronts either backend. Both are reached through sqlx's
//! `Any` driver so the bulk of the SQL is shared; where the dialects differ
//! (id allocation, queue claiming, locking) the code branches on [`Backend`]
//! and each backend keeps its own migrations (`migrations/{sqlite,postgres}`).
//! See `docs/adr/0001-store-any-driver.md`.

mod accounts;
mod attachments;
mod auth;
mod backup;
mod blob_refs;
mod bulk;
mod ci;
mod ci_pipelines;
mod ci_sightings;
mod connect;
mod entities;
mod error;
mod gauges;
mod history;
mod ids;
mod ingest_tx;
mod insight;
mod json_rows;
mod migrate;
mod retention;
mod row_params;
mod seed;
mod tasks;
mod tc;
mod tenancy;
mod wal;

pub use accounts::{ApiKeyInfo, TOKEN_ID_LEN, TokenInfo};
pub use attachments::{AttachmentBlob, AttachmentOwner};
pub use auth::{ApiKeyRecord, SessionRecord, UserRecord};
pub use blob_refs::BlobRemoval;
pub use ci::BuildReport;
pub use ci_pipelines::NewPipeline;
pub use ci_sightings::CiSighting;
pub use connect::{Backend, Store};
pub use entities::{
    catalog::{
        COLLECTIONS, Collection, Field, FieldKind, WriteRules, collection_by_name,
        collection_of_table,
    },
    create::{NamedTable, NewRelease},
    read::{EntityPage, EntityQuery, EntityRow, FieldValue, RefValue},
    write::{EntityInput, FailureKind, InputValue, WriteFailure},
};
pub use error::StoreError;
pub use gauges::{PoolFigures, QueueFigures};
pub use history::HistoryEntry;
pub use ingest_tx::{
    BuildNames, CiBuildSpec, ExistingRun, ExistingTest, IngestTx, NewPreviousRun, NewRun, NewStep,
    NewTest, ReleaseInfo, RunUpdate, SuiteInfo, TaskCheckpoint, TestUpdate,
};
pub use insight::{
    ChangedResult, Choice, ContextSpec, FailureDetail, FailureFile, FailureGroup, FailureInfo,
    FilterChoices, GroupFilter, GroupRun, LinkedEntity, MAX_CONTEXTS, MuteRecord, NewResult,
    ResultSetFilter, ResultSetRef, ResultSetRow, ResultSetSpec, SetComparison, SetResult,
    SetResultFilter, StoryResult, SummaryCounts, TestInfo, TestLinks, TriageRecord,
};
pub use retention::{PruneCounts, Retention};
pub use seed::{logical_name, name_key};
pub use tasks::{CiTarget, ClaimedTask, NewTask, PushOutcome, TaskRecord, TaskState};
pub use tc::{
    BatchView, Label, NewTcEvent, ReportSelection, TcEventFile, TcEventRow, TcImportTx, TcNode,
    TcReport, TcRun, TcTest,
};
pub use tenancy::{SharedSpaceRecord, WorkspaceRecord};

/// Milliseconds since the Unix epoch: the one time unit stored.
#[must_use]
pub fn now_ms() -> i64 {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default();
    i64::try_from(now.as_millis()).unwrap_or(i64::MAX)
}
