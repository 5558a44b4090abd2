//! Protocol tests: a real Verdict on loopback, driven with the Octane
//! clients' request sequences (protocol §8) and every acceptance case of
//! protocol §9, on SQLite and on PostgreSQL.

// Test code: a failed unwrap is a failed test, with its message.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod harness;

mod auth;
mod browser;
mod ci;
mod ci_sdk;
mod clients;
mod counts;
mod entity_api;
mod hostile_accounts;
mod hostile_blobs;
mod insight;
mod jssdk;
mod links;
mod operations;
mod processing;
mod push;
mod queue;
mod reads;
mod retention;
mod skip_errors;
mod task_progress;
mod testcenter;
mod ui;
mod ui_details;
