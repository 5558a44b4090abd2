//! Verdict's domain core: the vocabulary shared by every protocol adapter and
//! the store. It holds no I/O so the rules it encodes (identity of tests, the
//! last-run key, context merging, status derivation) are cheap to unit-test.

pub mod history;
pub mod ids;
pub mod insight;
pub mod payload;
pub mod query;
pub mod recent;
pub mod rules;
pub mod signature;
pub mod status;
pub mod testcenter;
pub mod time;

pub use ids::{SharedSpaceId, TaskId, UserId, WorkspaceId};
