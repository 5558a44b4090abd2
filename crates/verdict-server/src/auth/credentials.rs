//! Checking an (id, secret) pair: a user's name and password, or an API
//! key's client id and secret. Both sign-in body shapes and Basic/Bearer
//! credentials end here (protocol §2.1, §2.3).
//!
//! argon2 is slow on purpose (tens of ms); clients that send Basic on every
//! request (Test Center, scripts) would pay it each time. Verified pairs are
//! therefore remembered for a minute, keyed by a SHA-256 of id and secret
//! (never the secret itself); a changed password takes effect within that minute.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use sha2::{Digest, Sha256};
use verdict_store::{Store, UserRecord};

use super::secrets::verify_secret;
use crate::error::ApiError;

/// How long a verified pair is trusted without argon2.
const TRUST: Duration = Duration::from_secs(60);
/// Entries kept at most; the cache is cleared when full.
const CAPACITY: usize = 10_000;

/// Recently verified credentials.
#[derive(Debug, Default)]
pub struct CredentialCache {
    entries: Mutex<HashMap<[u8; 32], (UserRecord, Instant)>>,
}

impl CredentialCache {
    fn key(id: &str, secret: &str) -> [u8; 32] {
        let mut h = Sha256::new();
        h.update(id.as_bytes());
        h.update([0]);
        h.update(secret.as_bytes());
        h.finalize().into()
    }

    fn get(&self, key: &[u8; 32]) -> Option<UserRecord> {
        let entries = self.entries.lock().ok()?;
        entries
            .get(key)
            .filter(|(_, at)| at.elapsed() < TRUST)
            .map(|(u, _)| u.clone())
    }

    fn put(&self, key: [u8; 32], user: &UserRecord) {
        if let Ok(mut entries) = self.entries.lock() {
            if entries.len() >= CAPACITY {
                entries.clear();
            }
            entries.insert(key, (user.clone(), Instant::now()));
        }
    }
}

/// The user behind valid credentials, or `None`. argon2 runs on the
/// blocking pool so it never stalls the async workers.
pub async fn verify(
    store: &Store,
    cache: &CredentialCache,
    id: &str,
    secret: &str,
) -> Result<Option<UserRecord>, ApiError> {
    let key = CredentialCache::key(id, secret);
    if let Some(user) = cache.get(&key) {
        return Ok(Some(user));
    }
    let found = verify_uncached(store, id, secret).await?;
    if let Some(user) = &found {
        cache.put(key, user);
    }
    Ok(found)
}

async fn verify_uncached(
    store: &Store,
    id: &str,
    secret: &str,
) -> Result<Option<UserRecord>, ApiError> {
    if let Some(user) = store.user_by_name(id).await?
        && check(secret, user.password_hash.clone()).await?
    {
        return Ok(Some(user));
    }
    if let Some(key) = store.api_key(id).await?
        && check(secret, key.secret_hash.clone()).await?
    {
        return Ok(Some(key.user));
    }
    Ok(None)
}

async fn check(secret: &str, hash: String) -> Result<bool, ApiError> {
    let secret = secret.to_owned();
    tokio::task::spawn_blocking(move || verify_secret(&secret, &hash))
        .await
        .map_err(ApiError::internal)
}
