//! Account safety: disabling users, ending their sessions, and listing and
//! revoking API keys and tokens. Every check of a credential reads the
//! database, so a change here is refused at once on every node.

use sqlx::Row;

use crate::connect::Store;
use crate::error::StoreError;

/// An API key as listed (never its secret).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiKeyInfo {
    pub client_id: String,
    pub name: String,
    pub user: String,
    pub created_at: i64,
}

/// An API token as listed: `id` is the first 16 hex digits of its hash,
/// enough to name it, useless to sign in with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokenInfo {
    pub id: String,
    pub name: String,
    pub user: String,
    pub created_at: i64,
}

/// Length of a token id (a prefix of the token's SHA-256).
pub const TOKEN_ID_LEN: usize = 16;

impl Store {
    /// Ends every session of a user; returns how many there were.
    ///
    /// # Errors
    /// Database failure.
    pub async fn end_sessions(&self, user_id: i64) -> Result<u64, StoreError> {
        Ok(sqlx::query("DELETE FROM sessions WHERE user_id = $1")
            .bind(user_id)
            .execute(&self.write)
            .await?
            .rows_affected())
    }

    /// Disables (or enables) a user; disabling ends the user's sessions.
    /// Keys and tokens are kept but refused while the user is disabled.
    /// `None` when there is no such user, else the sessions ended.
    ///
    /// # Errors
    /// Database failure.
    pub async fn set_user_disabled(
        &self,
        name: &str,
        disabled: bool,
    ) -> Result<Option<u64>, StoreError> {
        let mut tx = self.begin_write().await?;
        let id: Option<i64> =
            sqlx::query_scalar("UPDATE users SET disabled = $2 WHERE name = $1 RETURNING id")
                .bind(name)
                .bind(i64::from(disabled))
                .fetch_optional(&mut *tx)
                .await?;
        let Some(id) = id else {
            return Ok(None);
        };
        let ended = if disabled {
            sqlx::query("DELETE FROM sessions WHERE user_id = $1")
                .bind(id)
                .execute(&mut *tx)
                .await?
                .rows_affected()
        } else {
            0
        };
        tx.commit().await?;
        Ok(Some(ended))
    }

    /// API keys, of one user or of everyone.
    ///
    /// # Errors
    /// Database failure.
    pub async fn api_keys_of(&self, user_id: Option<i64>) -> Result<Vec<ApiKeyInfo>, StoreError> {
        let rows = sqlx::query(
            "SELECT k.client_id, k.name, u.name, k.created_at FROM api_keys k JOIN users u ON u.id = k.user_id \
             WHERE $1 IS NULL OR k.user_id = $1 ORDER BY k.created_at, k.client_id",
        )
        .bind(user_id)
        .fetch_all(&self.read)
        .await?;
        rows.iter()
            .map(|r| {
                Ok(ApiKeyInfo {
                    client_id: r.try_get(0)?,
                    name: r.try_get(1)?,
                    user: r.try_get(2)?,
                    created_at: r.try_get(3)?,
                })
            })
            .collect()
    }

    /// Deletes an API key; false when there is none with that client id.
    ///
    /// # Errors
    /// Database failure.
    pub async fn revoke_api_key(&self, client_id: &str) -> Result<bool, StoreError> {
        Ok(sqlx::query("DELETE FROM api_keys WHERE client_id = $1")
            .bind(client_id)
            .execute(&self.write)
            .await?
            .rows_affected()
            > 0)
    }

    /// API tokens, of one user or of everyone.
    ///
    /// # Errors
    /// Database failure.
    pub async fn api_tokens_of(&self, user_id: Option<i64>) -> Result<Vec<TokenInfo>, StoreError> {
        let rows = sqlx::query(
            "SELECT t.token_hash, t.name, u.name, t.created_at FROM api_tokens t JOIN users u ON u.id = t.user_id \
             WHERE $1 IS NULL OR t.user_id = $1 ORDER BY t.created_at, t.token_hash",
        )
        .bind(user_id)
        .fetch_all(&self.read)
        .await?;
        rows.iter()
            .map(|r| {
                let hash: String = r.try_get(0)?;
                Ok(TokenInfo {
                    id: hash.chars().take(TOKEN_ID_LEN).collect(),
                    name: r.try_get(1)?,
                    user: r.try_get(2)?,
                    created_at: r.try_get(3)?,
                })
            })
            .collect()
    }

    /// Deletes the token whose id is `id` (of `user_id` only, when given);
    /// false when there is none.
    ///
    /// # Errors
    /// Database failure.
    pub async fn revoke_token(&self, user_id: Option<i64>, id: &str) -> Result<bool, StoreError> {
        if id.len() != TOKEN_ID_LEN || !id.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Ok(false);
        }
        let pattern = format!("{}%", id.to_ascii_lowercase());
        Ok(sqlx::query(
            "DELETE FROM api_tokens WHERE token_hash LIKE $1 AND ($2 IS NULL OR user_id = $2)",
        )
        .bind(pattern)
        .bind(user_id)
        .execute(&self.write)
        .await?
        .rows_affected()
            > 0)
    }
}
