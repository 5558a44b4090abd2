//! CI job ids as the Java CI SDK sends them. Since late 2024 it encodes every
//! job id it puts in a URL (path segments and query values alike) as base64
//! with the URL-safe alphabet and `=` padding, and says so with
//! `ci-job-encoding=base64` as the last query parameter; older SDKs sent
//! `isBase64=true` on the test-results preflight only. Event bodies and the
//! test-results XML keep the plain id, so every endpoint that takes a job id
//! from the URL decodes it here, or results land on a second job named after
//! the encoded text.

use std::collections::HashMap;

use base64::Engine;
use base64::alphabet;
use base64::engine::{DecodePaddingMode, GeneralPurpose, GeneralPurposeConfig};

use crate::error::ApiError;

/// Longest job id accepted, decoded or not (Jenkins folder paths are long,
/// but not this long).
pub const MAX_JOB_ID_BYTES: usize = 4096;

/// The job id a request means: `raw` (from the path or a query value,
/// already percent-decoded) decoded when the request says it is base64.
///
/// # Errors
/// 400 for an unknown `ci-job-encoding`, text that is not base64 or not
/// UTF-8, an empty id, one holding a control character (PostgreSQL text
/// cannot hold NUL), or one longer than [`MAX_JOB_ID_BYTES`].
pub fn decode(raw: &str, params: &HashMap<String, String>) -> Result<String, ApiError> {
    let base64 = match params.get("ci-job-encoding").map(|v| v.trim()) {
        None | Some("") => params
            .get("isBase64")
            .is_some_and(|v| v.eq_ignore_ascii_case("true")),
        Some(v) if v.eq_ignore_ascii_case("base64") => true,
        Some(v) if v.eq_ignore_ascii_case("none") => false,
        Some(other) => {
            return Err(bad(format!(
                "ci-job-encoding must be 'base64' (or absent), not '{}'",
                other.chars().take(40).collect::<String>()
            )));
        }
    };
    let id = if base64 {
        decode_base64(raw)?
    } else {
        raw.to_owned()
    };
    if id.is_empty() {
        return Err(bad("the job id is empty".to_owned()));
    }
    if id.chars().any(char::is_control) {
        return Err(bad("the job id holds a control character".to_owned()));
    }
    if id.len() > MAX_JOB_ID_BYTES {
        return Err(bad(format!(
            "the job id is longer than {MAX_JOB_ID_BYTES} bytes"
        )));
    }
    Ok(id)
}

/// Either alphabet, padded or not: the SDK pads the URL-safe alphabet, other
/// clients send the standard one.
fn decode_base64(text: &str) -> Result<String, ApiError> {
    // A `+` of the standard alphabet sent unescaped in a query string
    // arrives as a space.
    let text = text.replace(' ', "+");
    let text = text.trim();
    if text.len() > MAX_JOB_ID_BYTES * 2 {
        return Err(bad(format!(
            "the job id is longer than {MAX_JOB_ID_BYTES} bytes"
        )));
    }
    let config =
        GeneralPurposeConfig::new().with_decode_padding_mode(DecodePaddingMode::Indifferent);
    let engine = if text.contains(['+', '/']) {
        GeneralPurpose::new(&alphabet::STANDARD, config)
    } else {
        GeneralPurpose::new(&alphabet::URL_SAFE, config)
    };
    let shown: String = text.chars().take(80).collect();
    let bytes = engine
        .decode(text)
        .map_err(|e| bad(format!("job id '{shown}' is not base64 ({e})")))?;
    String::from_utf8(bytes)
        .map_err(|_| bad(format!("job id '{shown}' does not decode to UTF-8 text")))
}

fn bad(message: String) -> ApiError {
    ApiError::bad_request("platform.illegal_field_value", message)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn params(pairs: &[(&str, &str)]) -> HashMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect()
    }

    #[test]
    fn the_sdk_encoding_is_url_safe_and_padded() {
        let b64 = params(&[("ci-job-encoding", "base64")]);
        assert_eq!(decode("am9iLWE=", &b64).ok().as_deref(), Some("job-a"));
        assert_eq!(decode("am9iLWE", &b64).ok().as_deref(), Some("job-a"));
        // `folder/job/my-job?` needs the URL-safe alphabet's `_`.
        assert_eq!(
            decode("Zm9sZGVyL2pvYi9teS1qb2I_", &b64).ok().as_deref(),
            Some("folder/job/my-job?")
        );
        assert_eq!(
            decode("Zm9sZGVyL2pvYi9teS1qb2I/", &b64).ok().as_deref(),
            Some("folder/job/my-job?")
        );
        assert_eq!(decode("w7xiZXI=", &b64).ok().as_deref(), Some("über"));
        // `+` sent unescaped in a query value became a space.
        assert_eq!(decode("Pz8+", &b64).ok().as_deref(), Some("??>"));
        assert_eq!(decode("Pz8 ", &b64).ok().as_deref(), Some("??>"));
    }

    #[test]
    fn plain_ids_stay_plain_and_the_old_flag_still_decodes() {
        assert_eq!(
            decode("am9iLWE=", &params(&[])).ok().as_deref(),
            Some("am9iLWE=")
        );
        assert_eq!(
            decode("am9iLWE=", &params(&[("isBase64", "TRUE")]))
                .ok()
                .as_deref(),
            Some("job-a")
        );
        assert_eq!(
            decode("job a", &params(&[("ci-job-encoding", "none")]))
                .ok()
                .as_deref(),
            Some("job a")
        );
    }

    #[test]
    fn bad_ids_are_400() {
        let b64 = params(&[("ci-job-encoding", "base64")]);
        for raw in [
            "not base64!",
            "",
            "//8=",
            "AA==",
            &"QQ".repeat(MAX_JOB_ID_BYTES * 2),
        ] {
            let err = decode(raw, &b64).err();
            assert!(
                matches!(err, Some(ApiError::BadRequest { .. })),
                "{raw:.20}: {err:?}"
            );
        }
        assert!(decode("x", &params(&[("ci-job-encoding", "rot13")])).is_err());
        assert!(decode(&"x".repeat(MAX_JOB_ID_BYTES + 1), &params(&[])).is_err());
    }
}
