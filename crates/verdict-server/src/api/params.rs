//! Query parameters of the insight API, parsed with errors that name the
//! parameter (400 `platform.invalid_parameter`).

use std::collections::HashMap;

use crate::error::ApiError;

/// Largest page the insight API returns.
pub const MAX_LIMIT: i64 = 500;
/// Page size when none is given.
pub const DEFAULT_LIMIT: i64 = 50;
/// Largest window (results per context) a caller may ask for.
pub const MAX_WINDOW: usize = 1_000;
/// Longest text a search parameter (`q`, `label`, …) may hold, in characters.
pub const MAX_SEARCH_CHARS: usize = 200;

/// The query string of one request.
pub struct Params(pub HashMap<String, String>);

fn invalid(name: &str, why: &str) -> ApiError {
    ApiError::bad_request(
        "platform.invalid_parameter",
        format!("query parameter '{name}': {why}"),
    )
}

impl Params {
    /// A text parameter, empty counting as absent.
    pub fn text(&self, name: &str) -> Option<&str> {
        self.0
            .get(name)
            .map(String::as_str)
            .filter(|v| !v.is_empty())
    }

    /// Text to search for: at most [`MAX_SEARCH_CHARS`] characters.
    pub fn search(&self, name: &str) -> Result<Option<String>, ApiError> {
        match self.text(name) {
            Some(v) if v.chars().count() > MAX_SEARCH_CHARS => Err(invalid(
                name,
                &format!("longer than {MAX_SEARCH_CHARS} characters"),
            )),
            v => Ok(v.map(str::to_owned)),
        }
    }

    /// `true` or `false`.
    pub fn flag(&self, name: &str) -> Result<Option<bool>, ApiError> {
        self.text(name)
            .map(|v| match v {
                "true" => Ok(true),
                "false" => Ok(false),
                other => Err(invalid(
                    name,
                    &format!("'{other}' is neither true nor false"),
                )),
            })
            .transpose()
    }

    /// A whole number.
    pub fn int(&self, name: &str) -> Result<Option<i64>, ApiError> {
        self.text(name)
            .map(|v| {
                v.parse::<i64>()
                    .map_err(|_| invalid(name, &format!("'{v}' is not a whole number")))
            })
            .transpose()
    }

    /// `limit` (1..=500, default 50) and `offset` (≥ 0).
    pub fn page(&self) -> Result<(i64, i64), ApiError> {
        let limit = self.int("limit")?.unwrap_or(DEFAULT_LIMIT);
        if !(1..=MAX_LIMIT).contains(&limit) {
            return Err(invalid(
                "limit",
                &format!("must be between 1 and {MAX_LIMIT}"),
            ));
        }
        let offset = self.int("offset")?.unwrap_or(0);
        if offset < 0 {
            return Err(invalid("offset", "must not be negative"));
        }
        Ok((limit, offset))
    }

    /// A point in time: ISO 8601 (`2026-12-01T10:00:00Z`) or epoch milliseconds.
    pub fn time(&self, name: &str) -> Result<Option<i64>, ApiError> {
        let Some(v) = self.text(name) else {
            return Ok(None);
        };
        if let Ok(ms) = v.parse::<i64>() {
            return Ok(Some(ms));
        }
        verdict_domain::time::parse_iso(v).map(Some).ok_or_else(|| {
            invalid(
                name,
                &format!("'{v}' is neither ISO 8601 nor epoch milliseconds"),
            )
        })
    }

    /// The story window: results with an outcome per context (default 30).
    pub fn window(&self) -> Result<usize, ApiError> {
        self.window_at_most(MAX_WINDOW)
    }

    /// `window` where an endpoint answers shorter windows only.
    pub fn window_at_most(&self, max: usize) -> Result<usize, ApiError> {
        let w = self
            .int("window")?
            .unwrap_or(verdict_domain::insight::DEFAULT_WINDOW as i64);
        usize::try_from(w)
            .ok()
            .filter(|w| (1..=max).contains(w))
            .ok_or_else(|| invalid("window", &format!("must be between 1 and {max}")))
    }

    /// Refuses parameters the endpoint does not know (a typo must not widen a filter).
    pub fn only(&self, known: &[&str]) -> Result<(), ApiError> {
        let mut unknown: Vec<&str> = self
            .0
            .keys()
            .map(String::as_str)
            .filter(|k| !known.contains(k))
            .collect();
        unknown.sort_unstable();
        match unknown.first() {
            Some(k) => Err(invalid(
                k,
                &format!(
                    "unknown parameter; this endpoint takes {}",
                    known.join(", ")
                ),
            )),
            None => Ok(()),
        }
    }
}
