//! Checking an (id, secret) pair: a user's name and password, or an API
//! key's client id and secret. Both sign-in body shapes and Basic/Bearer
//! credentials end here (protocol §2.1, §2.3).
//!
//! argon2 is slow on purpose (tens of ms, 19 MiB each); clients that send
//! Basic on every request (Test Center, scripts) would pay it each time.
//! Verified pairs are therefore remembered for a minute, keyed by a SHA-256
//! of id and secret (never the secret itself), but every hit still reads
//! the current hash from the database: a reset password, a revoked key or a
//! disabled user is refused at once, on every node.
//!
//! Against guessing: failed checks are throttled per user and per client
//! address ([`super::throttle`]); an unknown id is verified against a dummy
//! hash so that it takes as long as a known one; and at most
//! [`CONCURRENT_VERIFICATIONS`] argon2 runs at once, so a flood of wrong
//! passwords costs a bounded amount of memory.

use std::collections::HashMap;
use std::sync::{LazyLock, Mutex};
use std::time::{Duration, Instant};

use sha2::{Digest, Sha256};
use tokio::sync::Semaphore;
use verdict_store::{Store, UserRecord};

use super::secrets::{hash_secret, verify_secret};
use super::throttle::Caller;
use crate::app::AppState;
use crate::error::ApiError;

/// How long a verified pair is trusted without argon2.
const TRUST: Duration = Duration::from_secs(60);
/// Entries kept at most; the cache is cleared when full.
const CAPACITY: usize = 10_000;
/// argon2 verifications running at once (each takes 19 MiB).
pub const CONCURRENT_VERIFICATIONS: usize = 4;

static VERIFICATIONS: Semaphore = Semaphore::const_new(CONCURRENT_VERIFICATIONS);

/// A hash of a random secret with the real parameters, verified when the id
/// is unknown so that a miss costs what a hit costs.
static DUMMY_HASH: LazyLock<String> =
    LazyLock::new(|| hash_secret("verdict dummy secret, never a password").unwrap_or_default());

/// Which record a cached pair was verified against.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    User,
    ApiKey,
}

/// Recently verified credentials: the hash they matched, per pair.
#[derive(Debug, Default)]
pub struct CredentialCache {
    entries: Mutex<HashMap<[u8; 32], (Kind, String, Instant)>>,
}

impl CredentialCache {
    fn key(id: &str, secret: &str) -> [u8; 32] {
        let mut h = Sha256::new();
        h.update(id.as_bytes());
        h.update([0]);
        h.update(secret.as_bytes());
        h.finalize().into()
    }

    fn get(&self, key: &[u8; 32]) -> Option<(Kind, String)> {
        let entries = self.entries.lock().ok()?;
        entries
            .get(key)
            .filter(|(_, _, at)| at.elapsed() < TRUST)
            .map(|(k, h, _)| (*k, h.clone()))
    }

    fn put(&self, key: [u8; 32], kind: Kind, hash: &str) {
        if let Ok(mut entries) = self.entries.lock() {
            if entries.len() >= CAPACITY {
                entries.clear();
            }
            entries.insert(key, (kind, hash.to_owned(), Instant::now()));
        }
    }
}

/// The user behind valid credentials, or `None`; 429 while the user or the
/// client address is throttled. argon2 runs on the blocking pool so it never
/// stalls the async workers.
pub async fn verify(
    state: &AppState,
    caller: Caller,
    id: &str,
    secret: &str,
) -> Result<Option<UserRecord>, ApiError> {
    let key = CredentialCache::key(id, secret);
    if let Some((kind, hash)) = state.credentials.get(&key)
        && let Some(user) = current(&state.store, kind, id, &hash).await?
    {
        return Ok(Some(user));
    }
    state.throttle.check(id, caller)?;
    let found = verify_uncached(&state.store, id, secret).await?;
    match &found {
        Some((kind, hash, _)) => {
            state.throttle.succeeded(id);
            state.credentials.put(key, *kind, hash);
        }
        None => state.throttle.failed(id, caller),
    }
    Ok(found.map(|(_, _, user)| user))
}

/// The user of a cached pair if its record still carries the same hash
/// (and the user is not disabled).
async fn current(
    store: &Store,
    kind: Kind,
    id: &str,
    hash: &str,
) -> Result<Option<UserRecord>, ApiError> {
    Ok(match kind {
        Kind::User => store
            .active_user_by_name(id)
            .await?
            .filter(|u| u.password_hash == hash),
        Kind::ApiKey => store
            .api_key(id)
            .await?
            .filter(|k| k.secret_hash == hash)
            .map(|k| k.user),
    })
}

async fn verify_uncached(
    store: &Store,
    id: &str,
    secret: &str,
) -> Result<Option<(Kind, String, UserRecord)>, ApiError> {
    if let Some(user) = store.active_user_by_name(id).await? {
        return Ok(check(secret, user.password_hash.clone())
            .await?
            .then(|| (Kind::User, user.password_hash.clone(), user)));
    }
    if let Some(key) = store.api_key(id).await? {
        return Ok(check(secret, key.secret_hash.clone())
            .await?
            .then(|| (Kind::ApiKey, key.secret_hash.clone(), key.user)));
    }
    // Unknown id: spend the same time, then refuse.
    check(secret, DUMMY_HASH.clone()).await?;
    Ok(None)
}

async fn check(secret: &str, hash: String) -> Result<bool, ApiError> {
    let permit = VERIFICATIONS.acquire().await.map_err(ApiError::internal)?;
    let secret = secret.to_owned();
    // The permit lives as long as argon2 runs, even if the request is dropped.
    tokio::task::spawn_blocking(move || {
        let _permit = permit;
        verify_secret(&secret, &hash)
    })
    .await
    .map_err(ApiError::internal)
}
