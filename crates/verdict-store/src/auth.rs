//! Users, API keys, sessions and workspace roles. Secrets arrive here already
//! hashed: hashing (argon2) is the server's job, storage is ours.

use sqlx::Row;

use crate::connect::Store;
use crate::error::StoreError;

/// A user account.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserRecord {
    pub id: i64,
    pub name: String,
    pub password_hash: String,
    pub is_admin: bool,
}

/// An API key (Octane "client id + secret"); it acts as its user.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiKeyRecord {
    pub client_id: String,
    pub secret_hash: String,
    pub user: UserRecord,
}

/// A live session found by its token hash.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionRecord {
    pub user: UserRecord,
    pub login_name: String,
    pub expires_at: i64,
}

const USER_COLUMNS: &str = "u.id, u.name, u.password_hash, u.is_admin";

fn user_from_row(r: &sqlx::any::AnyRow) -> Result<UserRecord, StoreError> {
    Ok(UserRecord {
        id: r.try_get(0)?,
        name: r.try_get(1)?,
        password_hash: r.try_get(2)?,
        is_admin: r.try_get::<i64, _>(3)? != 0,
    })
}

impl Store {
    /// Creates a user, or replaces the password of an existing one.
    ///
    /// # Errors
    /// Database failure.
    pub async fn upsert_user(
        &self,
        name: &str,
        password_hash: &str,
        is_admin: bool,
    ) -> Result<i64, StoreError> {
        let id: i64 = sqlx::query_scalar(
            "INSERT INTO users (name, password_hash, is_admin, created_at) VALUES ($1, $2, $3, $4) \
             ON CONFLICT (name) DO UPDATE SET password_hash = excluded.password_hash, is_admin = excluded.is_admin \
             RETURNING id",
        )
        .bind(name)
        .bind(password_hash)
        .bind(i64::from(is_admin))
        .bind(crate::now_ms())
        .fetch_one(&self.write)
        .await?;
        Ok(id)
    }

    /// Looks a user up by login name.
    ///
    /// # Errors
    /// Database failure.
    pub async fn user_by_name(&self, name: &str) -> Result<Option<UserRecord>, StoreError> {
        let sql = format!("SELECT {USER_COLUMNS} FROM users u WHERE u.name = $1");
        let row = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(name)
            .fetch_optional(&self.read)
            .await?;
        row.map(|r| user_from_row(&r)).transpose()
    }

    /// A user who may sign in (not disabled), by login name.
    ///
    /// # Errors
    /// Database failure.
    pub async fn active_user_by_name(&self, name: &str) -> Result<Option<UserRecord>, StoreError> {
        let sql =
            format!("SELECT {USER_COLUMNS} FROM users u WHERE u.name = $1 AND u.disabled = 0");
        let row = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(name)
            .fetch_optional(&self.read)
            .await?;
        row.map(|r| user_from_row(&r)).transpose()
    }

    /// Stores a new API key for a user.
    ///
    /// # Errors
    /// Database failure, or the client id is taken.
    pub async fn insert_api_key(
        &self,
        user_id: i64,
        name: &str,
        client_id: &str,
        secret_hash: &str,
    ) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO api_keys (user_id, name, client_id, secret_hash, created_at) VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(user_id)
        .bind(name)
        .bind(client_id)
        .bind(secret_hash)
        .bind(crate::now_ms())
        .execute(&self.write)
        .await?;
        Ok(())
    }

    /// Looks an API key up by its client id.
    ///
    /// # Errors
    /// Database failure.
    pub async fn api_key(&self, client_id: &str) -> Result<Option<ApiKeyRecord>, StoreError> {
        let sql = format!(
            "SELECT {USER_COLUMNS}, k.client_id, k.secret_hash FROM api_keys k JOIN users u ON u.id = k.user_id WHERE k.client_id = $1 AND u.disabled = 0"
        );
        let row = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(client_id)
            .fetch_optional(&self.read)
            .await?;
        row.map(|r| {
            Ok(ApiKeyRecord {
                user: user_from_row(&r)?,
                client_id: r.try_get(4)?,
                secret_hash: r.try_get(5)?,
            })
        })
        .transpose()
    }

    /// Opens a session. `token_hash` is a hash of the cookie value, never the value.
    ///
    /// # Errors
    /// Database failure.
    pub async fn insert_session(
        &self,
        token_hash: &str,
        user_id: i64,
        login_name: &str,
        expires_at: i64,
    ) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO sessions (token_hash, user_id, login_name, expires_at) VALUES ($1, $2, $3, $4)",
        )
        .bind(token_hash)
        .bind(user_id)
        .bind(login_name)
        .bind(expires_at)
        .execute(&self.write)
        .await?;
        Ok(())
    }

    /// A session that has not expired at `now`.
    ///
    /// # Errors
    /// Database failure.
    pub async fn live_session(
        &self,
        token_hash: &str,
        now: i64,
    ) -> Result<Option<SessionRecord>, StoreError> {
        let sql = format!(
            "SELECT {USER_COLUMNS}, s.login_name, s.expires_at FROM sessions s JOIN users u ON u.id = s.user_id \
             WHERE s.token_hash = $1 AND s.expires_at > $2 AND u.disabled = 0"
        );
        let row = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(token_hash)
            .bind(now)
            .fetch_optional(&self.read)
            .await?;
        row.map(|r| {
            Ok(SessionRecord {
                user: user_from_row(&r)?,
                login_name: r.try_get(4)?,
                expires_at: r.try_get(5)?,
            })
        })
        .transpose()
    }

    /// Slides a session's expiry forward (idle timeout).
    ///
    /// # Errors
    /// Database failure.
    pub async fn touch_session(&self, token_hash: &str, expires_at: i64) -> Result<(), StoreError> {
        sqlx::query("UPDATE sessions SET expires_at = $2 WHERE token_hash = $1")
            .bind(token_hash)
            .bind(expires_at)
            .execute(&self.write)
            .await?;
        Ok(())
    }

    /// Ends a session (no-op when it does not exist) and drops expired ones.
    ///
    /// # Errors
    /// Database failure.
    pub async fn delete_session(&self, token_hash: &str) -> Result<(), StoreError> {
        sqlx::query("DELETE FROM sessions WHERE token_hash = $1 OR expires_at < $2")
            .bind(token_hash)
            .bind(crate::now_ms())
            .execute(&self.write)
            .await?;
        Ok(())
    }

    /// Grants (or changes) a user's role in a workspace.
    ///
    /// # Errors
    /// Database failure.
    pub async fn grant_role(
        &self,
        user_id: i64,
        workspace_id: i64,
        role: &str,
    ) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO workspace_roles (user_id, workspace_id, role) VALUES ($1, $2, $3) \
             ON CONFLICT (user_id, workspace_id) DO UPDATE SET role = excluded.role",
        )
        .bind(user_id)
        .bind(workspace_id)
        .bind(role)
        .execute(&self.write)
        .await?;
        Ok(())
    }

    /// The user's role in a workspace, if any.
    ///
    /// # Errors
    /// Database failure.
    pub async fn role_in(
        &self,
        user_id: i64,
        workspace_id: i64,
    ) -> Result<Option<String>, StoreError> {
        let role = sqlx::query_scalar(
            "SELECT role FROM workspace_roles WHERE user_id = $1 AND workspace_id = $2",
        )
        .bind(user_id)
        .bind(workspace_id)
        .fetch_optional(&self.read)
        .await?;
        Ok(role)
    }

    /// Whether the user has a role in any workspace of the shared space.
    ///
    /// # Errors
    /// Database failure.
    pub async fn has_role_in_shared_space(
        &self,
        user_id: i64,
        shared_space_id: i64,
    ) -> Result<bool, StoreError> {
        let n: i64 = sqlx::query_scalar(
            "SELECT COUNT(*) FROM workspace_roles r JOIN workspaces w ON w.id = r.workspace_id \
             WHERE r.user_id = $1 AND w.shared_space_id = $2",
        )
        .bind(user_id)
        .bind(shared_space_id)
        .fetch_one(&self.read)
        .await?;
        Ok(n > 0)
    }
}
