//! The entity REST model over Verdict's tables: which collections exist,
//! which fields each has and how they map to columns ([`catalog`]); how a
//! parsed entity query becomes SQL ([`filter`]); and the paged read ([`read`]).

pub mod catalog;
pub mod create;
mod filter;
pub mod read;
mod refs;
pub mod write;
mod write_rules;
