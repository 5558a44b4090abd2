//! Verdict's own JSON API (`/verdict/api/...`), for the UI and scripts. Errors
//! use the Octane error shape (design §4). `openapi` serves its description.

pub mod batches;
pub mod flaky;
pub mod groups;
pub mod history;
pub mod mutes;
pub mod openapi;
mod params;
pub mod result_sets;
pub mod story;
pub mod story_details;
mod story_support;
pub mod tasks;
pub mod views;
