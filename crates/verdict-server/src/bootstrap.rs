//! First start (design §4): shared space 1001, workspace 1002 and the user
//! `admin`, whose password comes from configuration or is generated and
//! printed once.

use verdict_store::Store;

use crate::app::StartError;
use crate::auth::secrets::{generate_secret, hash_secret};

/// The default tenancy created on first start.
pub const DEFAULT_SHARED_SPACE: i64 = 1001;
/// The default workspace inside it.
pub const DEFAULT_WORKSPACE: i64 = 1002;

/// Creates the defaults when missing. Returns the admin password when it was
/// generated here (the caller prints it once).
///
/// # Errors
/// Database failure.
pub async fn bootstrap(
    store: &Store,
    admin_password: Option<&str>,
) -> Result<Option<String>, StartError> {
    store
        .ensure_shared_space(DEFAULT_SHARED_SPACE, "default_shared_space")
        .await?;
    store
        .ensure_workspace(DEFAULT_SHARED_SPACE, DEFAULT_WORKSPACE, "default_workspace")
        .await?;
    if store.user_by_name("admin").await?.is_some() {
        return Ok(None);
    }
    let (password, generated) = match admin_password {
        Some(p) => (p.to_owned(), false),
        None => (
            generate_secret(12).map_err(|e| StartError::Random(e.to_string()))?,
            true,
        ),
    };
    let hash = hash_secret(&password).map_err(|e| StartError::Random(e.to_string()))?;
    store.upsert_user("admin", &hash, true).await?;
    Ok(generated.then_some(password))
}
