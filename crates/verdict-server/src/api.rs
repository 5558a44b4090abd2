//! Verdict's own JSON API (`/verdict/api/...`), for the UI and scripts. Errors
//! use the Octane error shape (design §4).

pub mod batches;
pub mod history;
