//! Verdict's ingest layer: bytes in, domain values or precise errors out.
//!
//! Pure and synchronous (no I/O of its own, no async) so parsers are cheap to
//! test, fuzz and benchmark, and the CLI can reuse them offline. Today it holds
//! the Octane test-results payload reader ([`octane`]).

mod budget;
pub mod convert;
pub mod octane;
pub mod reports;

pub use octane::{OCTANE_XSD, PayloadError, PayloadErrorKind, PayloadReader, validate};
