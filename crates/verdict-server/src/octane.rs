//! The Octane / ValueEdge protocol adapter (`../shared/docs/octane-protocol.md`):
//! test-results injection and the entity read API. Wire shapes live here and
//! never below.

pub mod attachments;
pub mod body;
pub mod ci;
pub mod ci_entities;
pub mod ci_files;
pub mod ci_job_id;
pub mod ci_scm;
pub mod entities;
pub mod entity_input;
pub mod entity_write;
pub mod metadata;
pub mod render;
pub mod results;
pub mod tenancy;
