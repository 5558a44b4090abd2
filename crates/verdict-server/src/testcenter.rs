//! The Squish Test Center adapter (`../shared/seeds/testcenter-result-reporting-api.txt`
//! and `testcenter-notes.md`): `/upload/{suites,cases,features,scenarios,steps,sections,events}`
//! with Basic or Token auth and Test Center's `{code, message}` errors.

pub mod auth;
pub mod error;
mod event_list;
pub mod events;
pub mod import;
pub mod upload;
