//! Writing Octane test-results payloads (`<test_result>`, protocol §3) from
//! converted reports, as a stream: one case in, one `<test_run>` out. Used by
//! `verdict convert` and `verdict push`; the server validates the same XML.

mod escape;
mod writer;

pub use writer::{ConvertStats, PayloadOptions, PayloadWriter, split_class_name};
