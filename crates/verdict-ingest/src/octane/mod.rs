//! The Octane test-results payload (`<test_result>`, protocol §3): Verdict's
//! XSD and the streaming reader that enforces exactly its rules.
//!
//! Owns the payload schema. [`OCTANE_XSD`] is what the server publishes;
//! [`PayloadReader`] checks a payload against the same rules in one streaming
//! pass while producing `verdict_domain::payload` values, and reports the first
//! problem with its line and column. A conformance test keeps the two in
//! agreement through libxml2's `xmllint`.

mod attrs;
mod content;
mod context;
mod error;
mod gherkin;
mod names;
mod prolog;
mod reader;
mod scan;
mod seq;
mod source;
mod test_run;
mod values;
mod xml;

pub use error::{PayloadError, PayloadErrorKind};
pub use reader::{PayloadReader, validate};

/// Verdict's XSD for test-results payloads, served at
/// `…/workspaces/{ws}/test-results/xsd` so clients can check payloads offline
/// against the rules the server applies.
pub const OCTANE_XSD: &str = include_str!("test_results.xsd");

#[cfg(test)]
mod tests;
