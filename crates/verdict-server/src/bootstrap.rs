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

/// What [`bootstrap`] did about `admin`.
#[derive(Debug, Default)]
pub struct Bootstrapped {
    /// The password generated for a new `admin` (the caller prints it once).
    pub generated_password: Option<String>,
    /// A password was given but `admin` already existed, so it was not
    /// applied (`verdict admin user set-password admin` changes it).
    pub given_password_ignored: bool,
}

/// Creates the defaults when missing.
///
/// # Errors
/// Database failure.
pub async fn bootstrap(
    store: &Store,
    admin_password: Option<&str>,
) -> Result<Bootstrapped, StartError> {
    store
        .ensure_shared_space(DEFAULT_SHARED_SPACE, "default_shared_space")
        .await?;
    store
        .ensure_workspace(DEFAULT_SHARED_SPACE, DEFAULT_WORKSPACE, "default_workspace")
        .await?;
    if store.user_by_name("admin").await?.is_some() {
        return Ok(Bootstrapped {
            generated_password: None,
            given_password_ignored: admin_password.is_some(),
        });
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
    Ok(Bootstrapped {
        generated_password: generated.then_some(password),
        given_password_ignored: false,
    })
}
