//! Failed sign-ins, counted per user name and per client address in a fixed
//! window; past the limit further attempts answer 429 with `Retry-After`
//! before any password is checked. Counting both stops one client trying
//! many names and many clients trying one name. An address may fail
//! [`ADDRESS_FACTOR`] times as often as a user, since many CI agents behind
//! one proxy share it. Counts live in this process:
//! behind a load balancer each node allows the limit (docs/security.md).

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use crate::error::ApiError;

/// Where a credential came from (the client address, when known).
#[derive(Debug, Clone, Copy, Default)]
pub struct Caller(pub Option<IpAddr>);

impl<S: Send + Sync> axum::extract::FromRequestParts<S> for Caller {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(
        parts: &mut axum::http::request::Parts,
        _: &S,
    ) -> Result<Self, Self::Rejection> {
        Ok(Self::of(&parts.extensions))
    }
}

impl Caller {
    /// The client address the accept loop recorded (`crate::http`).
    #[must_use]
    pub fn of(extensions: &axum::http::Extensions) -> Self {
        Self(crate::http::peer(extensions).map(|a| a.ip()))
    }
}

/// An address's limit, in multiples of the per-user limit.
pub const ADDRESS_FACTOR: u32 = 5;

/// Keys tracked at most; the oldest windows are dropped past it.
const CAPACITY: usize = 100_000;

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
enum Key {
    User(String),
    Address(IpAddr),
}

/// The throttle of one server.
#[derive(Debug)]
pub struct SignInThrottle {
    max_failures: u32,
    window: Duration,
    counts: Mutex<HashMap<Key, (u32, Instant)>>,
}

impl SignInThrottle {
    #[must_use]
    pub fn new(max_failures: u32, window: Duration) -> Self {
        Self {
            max_failures: max_failures.max(1),
            window,
            counts: Mutex::new(HashMap::new()),
        }
    }

    fn keys(user: &str, caller: Caller) -> impl Iterator<Item = Key> {
        [Some(Key::User(user.to_owned())), caller.0.map(Key::Address)]
            .into_iter()
            .flatten()
    }

    /// 429 when the user or the address used up its failures.
    pub fn check(&self, user: &str, caller: Caller) -> Result<(), ApiError> {
        let Ok(counts) = self.counts.lock() else {
            return Ok(());
        };
        let wait = Self::keys(user, caller)
            .filter_map(|k| {
                let limit = match k {
                    Key::User(_) => self.max_failures,
                    Key::Address(_) => self.max_failures.saturating_mul(ADDRESS_FACTOR),
                };
                counts.get(&k).copied().map(|c| (c, limit))
            })
            .filter(|((n, at), limit)| *n >= *limit && at.elapsed() < self.window)
            .map(|(c, _)| c)
            .map(|(_, at)| self.window.saturating_sub(at.elapsed()))
            .max();
        match wait {
            Some(wait) => Err(ApiError::TooManyRequests {
                message: format!(
                    "too many failed sign-ins; try again in {} s",
                    wait.as_secs().max(1)
                ),
                retry_after: wait.as_secs().max(1),
            }),
            None => Ok(()),
        }
    }

    /// Counts a failure against the user and the address.
    pub fn failed(&self, user: &str, caller: Caller) {
        let Ok(mut counts) = self.counts.lock() else {
            return;
        };
        if counts.len() >= CAPACITY {
            let window = self.window;
            counts.retain(|_, (_, at)| at.elapsed() < window);
        }
        for key in Self::keys(user, caller) {
            let slot = counts.entry(key).or_insert((0, Instant::now()));
            if slot.1.elapsed() >= self.window {
                *slot = (0, Instant::now());
            }
            slot.0 += 1;
        }
    }

    /// A correct password clears the user's failures (not the address's).
    pub fn succeeded(&self, user: &str) {
        if let Ok(mut counts) = self.counts.lock() {
            counts.remove(&Key::User(user.to_owned()));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn locks_after_the_limit_per_user_and_per_address() {
        let t = SignInThrottle::new(3, Duration::from_secs(60));
        let a = Caller(Some(
            "10.0.0.1".parse().unwrap_or(IpAddr::from([0, 0, 0, 0])),
        ));
        let b = Caller(Some(IpAddr::from([10, 0, 0, 2])));
        for _ in 0..3 {
            assert!(t.check("ann", a).is_ok());
            t.failed("ann", a);
        }
        assert!(
            t.check("ann", b).is_err(),
            "the user is locked from everywhere"
        );
        assert!(
            t.check("bob", a).is_ok(),
            "the address has room for other users"
        );
        for user in ["bob", "cid", "dan", "eva"] {
            for _ in 0..3 {
                t.failed(user, a);
            }
        }
        assert!(t.check("zoe", a).is_err(), "15 failures lock the address");
        assert!(t.check("zoe", b).is_ok());
        t.succeeded("ann");
        assert!(t.check("ann", b).is_ok());
    }
}
