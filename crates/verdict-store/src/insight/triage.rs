//! Triage notes on failure groups and mutes of tests. Both are kept as an
//! audit trail: a new note is a new row (the newest one shows), an unmute
//! closes the mute row instead of deleting it.

use sqlx::Row;

use crate::connect::Store;
use crate::error::StoreError;

/// A note and/or link on a failure group.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TriageRecord {
    pub id: i64,
    pub signature: i64,
    pub note: Option<String>,
    pub link: Option<String>,
    pub by_user: String,
    pub at: i64,
}

/// A mute of a test.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MuteRecord {
    pub id: i64,
    pub test_id: i64,
    pub reason: Option<String>,
    pub muted_by: String,
    pub muted_at: i64,
    pub unmuted_by: Option<String>,
    pub unmuted_at: Option<i64>,
}

impl<'r> sqlx::FromRow<'r, sqlx::any::AnyRow> for TriageRecord {
    fn from_row(r: &'r sqlx::any::AnyRow) -> Result<Self, sqlx::Error> {
        triage_row(r)
    }
}

fn triage_row(r: &sqlx::any::AnyRow) -> Result<TriageRecord, sqlx::Error> {
    Ok(TriageRecord {
        id: r.try_get(0)?,
        signature: r.try_get(1)?,
        note: r.try_get(2)?,
        link: r.try_get(3)?,
        by_user: r.try_get(4)?,
        at: r.try_get(5)?,
    })
}

fn mute_row(r: &sqlx::any::AnyRow) -> Result<MuteRecord, StoreError> {
    Ok(MuteRecord {
        id: r.try_get(0)?,
        test_id: r.try_get(1)?,
        reason: r.try_get(2)?,
        muted_by: r.try_get(3)?,
        muted_at: r.try_get(4)?,
        unmuted_by: r.try_get(5)?,
        unmuted_at: r.try_get(6)?,
    })
}

const MUTE_COLUMNS: &str = "id, test_id, reason, muted_by, muted_at, unmuted_by, unmuted_at";

impl Store {
    /// Adds a triage note to a group (the newest note is the one shown).
    ///
    /// # Errors
    /// Database failure.
    pub async fn add_triage(
        &self,
        workspace_id: i64,
        signature: i64,
        note: Option<&str>,
        link: Option<&str>,
        by_user: &str,
    ) -> Result<TriageRecord, StoreError> {
        let at = crate::now_ms();
        let id: i64 = sqlx::query_scalar(
            "INSERT INTO triage (workspace_id, signature, note, link, by_user, at) VALUES ($1, $2, $3, $4, $5, $6) RETURNING id",
        )
        .bind(workspace_id)
        .bind(signature)
        .bind(note)
        .bind(link)
        .bind(by_user)
        .bind(at)
        .fetch_one(&self.write)
        .await?;
        Ok(TriageRecord {
            id,
            signature,
            note: note.map(str::to_owned),
            link: link.map(str::to_owned),
            by_user: by_user.to_owned(),
            at,
        })
    }

    /// The newest triage of each of `signatures`.
    ///
    /// # Errors
    /// Database failure.
    pub async fn latest_triage(
        &self,
        workspace_id: i64,
        signatures: &[i64],
    ) -> Result<Vec<TriageRecord>, StoreError> {
        self
            .in_workspace(workspace_id, signatures, |ws, list| {
                format!(
                    "SELECT t.id, t.signature, t.note, t.link, t.by_user, t.at FROM triage t WHERE t.workspace_id = {ws} \
                     AND t.signature IN ({list}) AND t.id = (SELECT MAX(n.id) FROM triage n WHERE n.workspace_id = t.workspace_id AND n.signature = t.signature)"
                )
            })
            .await
    }

    /// Every triage note of a group, newest first (the audit trail).
    ///
    /// # Errors
    /// Database failure.
    pub async fn triage_history(
        &self,
        workspace_id: i64,
        signature: i64,
    ) -> Result<Vec<TriageRecord>, StoreError> {
        let rows = sqlx::query(
            "SELECT id, signature, note, link, by_user, at FROM triage WHERE workspace_id = $1 AND signature = $2 ORDER BY id DESC",
        )
        .bind(workspace_id)
        .bind(signature)
        .fetch_all(&self.read)
        .await?;
        Ok(rows.iter().map(triage_row).collect::<Result<_, _>>()?)
    }

    /// Mutes a test; an already muted test keeps its mute (returned).
    ///
    /// # Errors
    /// Database failure.
    pub async fn mute_test(
        &self,
        workspace_id: i64,
        test_id: i64,
        reason: Option<&str>,
        by_user: &str,
    ) -> Result<MuteRecord, StoreError> {
        let mut tx = self.begin_write().await?;
        let sql = format!(
            "SELECT {MUTE_COLUMNS} FROM mutes WHERE workspace_id = $1 AND test_id = $2 AND unmuted_at IS NULL"
        );
        if let Some(r) = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(workspace_id)
            .bind(test_id)
            .fetch_optional(&mut *tx)
            .await?
        {
            tx.commit().await?;
            return mute_row(&r);
        }
        let at = crate::now_ms();
        let id: i64 = sqlx::query_scalar(
            "INSERT INTO mutes (workspace_id, test_id, reason, muted_by, muted_at) VALUES ($1, $2, $3, $4, $5) RETURNING id",
        )
        .bind(workspace_id)
        .bind(test_id)
        .bind(reason)
        .bind(by_user)
        .bind(at)
        .fetch_one(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(MuteRecord {
            id,
            test_id,
            reason: reason.map(str::to_owned),
            muted_by: by_user.to_owned(),
            muted_at: at,
            unmuted_by: None,
            unmuted_at: None,
        })
    }

    /// Ends a test's mute; `None` when it was not muted.
    ///
    /// # Errors
    /// Database failure.
    pub async fn unmute_test(
        &self,
        workspace_id: i64,
        test_id: i64,
        by_user: &str,
    ) -> Result<Option<MuteRecord>, StoreError> {
        let sql = format!(
            "UPDATE mutes SET unmuted_by = $3, unmuted_at = $4 WHERE workspace_id = $1 AND test_id = $2 AND unmuted_at IS NULL \
             RETURNING {MUTE_COLUMNS}"
        );
        let row = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(workspace_id)
            .bind(test_id)
            .bind(by_user)
            .bind(crate::now_ms())
            .fetch_optional(&self.write)
            .await?;
        row.as_ref().map(mute_row).transpose()
    }

    /// Mutes of the workspace: active ones, or all (the audit trail), newest first.
    ///
    /// # Errors
    /// Database failure.
    pub async fn mutes(
        &self,
        workspace_id: i64,
        test_id: Option<i64>,
        active_only: bool,
    ) -> Result<Vec<MuteRecord>, StoreError> {
        let sql = format!(
            "SELECT {MUTE_COLUMNS} FROM mutes WHERE workspace_id = $1 AND ($2 < 0 OR test_id = $2) AND ($3 = 0 OR unmuted_at IS NULL) ORDER BY id DESC LIMIT 1000"
        );
        let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(workspace_id)
            .bind(test_id.unwrap_or(-1))
            .bind(i64::from(active_only))
            .fetch_all(&self.read)
            .await?;
        rows.iter().map(mute_row).collect()
    }
}
