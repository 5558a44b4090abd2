//! Verdict's HTTP server: the Octane protocol adapter (sign-in, test-results
//! injection, entity reads), authentication, and the workers that turn queued
//! payloads into tests and runs.
//!
//! [`Server::start`] binds, bootstraps the tenancy and returns once the
//! listener is bound, which is what tests use (`127.0.0.1:0`).

mod api;
mod app;
mod auth;
mod blobs;
mod bootstrap;
mod config;
mod error;
mod http;
mod limits;
pub mod metrics;
mod octane;
mod retention;
mod testcenter;
mod ui;
mod worker;

pub use app::{RunningServer, Server};
pub use auth::secrets::{generate_secret, hash_secret};
pub use auth::tokens::create_token;
pub use blobs::file_stream;
pub use blobs::{Backend as BlobBackend, BlobError};
pub use bootstrap::bootstrap;
pub use config::{CiPipelines, ServerConfig};
pub use error::ApiError;
pub use retention::{PruneError, PruneReport, prune_now};
pub use worker::process::process_claimed_task;
