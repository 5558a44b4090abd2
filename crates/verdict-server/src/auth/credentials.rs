//! Checking an (id, secret) pair: a user's name and password, or an API
//! key's client id and secret. Both sign-in body shapes and Basic/Bearer
//! credentials end here (protocol §2.1, §2.3).

use verdict_store::{Store, UserRecord};

use super::secrets::verify_secret;
use crate::error::ApiError;

/// The user behind valid credentials, or `None`. argon2 runs on the
/// blocking pool so it never stalls the async workers.
pub async fn verify(store: &Store, id: &str, secret: &str) -> Result<Option<UserRecord>, ApiError> {
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
