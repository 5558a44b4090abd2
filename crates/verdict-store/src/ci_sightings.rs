//! What a CI server says about itself (schema v10): its type and URL on every
//! task poll (`self-type`, `self-url`) and in every event body (`server.type`,
//! `server.url`), its plugin version on every poll. Kept per shared space and
//! instance id even before the server is registered in a workspace (the
//! plugin polls long before its first result), and copied onto the
//! registered `ci_servers` rows so they stay up to date.

use sqlx::Row;

use crate::connect::Store;
use crate::error::StoreError;

/// Longest type, URL or version kept (longer values are cut).
pub const MAX_SIGHTING_CHARS: usize = 2_048;

/// One report of a CI server about itself; `None` = not said this time.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CiSighting {
    pub server_type: Option<String>,
    pub url: Option<String>,
    pub plugin_version: Option<String>,
}

impl CiSighting {
    /// Empty values and the SDK's `unknown` type say nothing.
    #[must_use]
    pub fn new(server_type: Option<&str>, url: Option<&str>, plugin_version: Option<&str>) -> Self {
        let said = |v: Option<&str>| {
            v.map(str::trim)
                .filter(|v| !v.is_empty())
                .map(|v| v.chars().take(MAX_SIGHTING_CHARS).collect::<String>())
        };
        Self {
            server_type: said(server_type).filter(|t| !t.eq_ignore_ascii_case("unknown")),
            url: said(url).map(|u| u.trim_end_matches('/').to_owned()),
            plugin_version: said(plugin_version),
        }
    }
}

impl Store {
    /// Records a sighting and updates the registered servers with that
    /// instance id in `workspaces` (those the reporting caller may write
    /// to; values not said are kept).
    ///
    /// # Errors
    /// Database failure.
    pub async fn record_ci_sighting(
        &self,
        shared_space_id: i64,
        instance_id: &str,
        seen: &CiSighting,
        workspaces: &[i64],
    ) -> Result<(), StoreError> {
        let now = crate::now_ms();
        let mut tx = self.begin_write().await?;
        sqlx::query(
            "INSERT INTO ci_server_sightings (shared_space_id, instance_id, server_type, url, plugin_version, last_seen) \
             VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (shared_space_id, instance_id) DO UPDATE SET \
             server_type = COALESCE(excluded.server_type, ci_server_sightings.server_type), \
             url = COALESCE(excluded.url, ci_server_sightings.url), \
             plugin_version = COALESCE(excluded.plugin_version, ci_server_sightings.plugin_version), \
             last_seen = excluded.last_seen",
        )
        .bind(shared_space_id)
        .bind(instance_id)
        .bind(seen.server_type.as_deref())
        .bind(seen.url.as_deref())
        .bind(seen.plugin_version.as_deref())
        .bind(now)
        .execute(&mut *tx)
        .await?;
        for workspace in workspaces {
            sqlx::query(
                "UPDATE ci_servers SET server_type = COALESCE($3, server_type), url = COALESCE($4, url), \
                 plugin_version = COALESCE($5, plugin_version), last_seen = $6 WHERE instance_id = $2 \
                 AND workspace_id = $1",
            )
            .bind(workspace)
            .bind(instance_id)
            .bind(seen.server_type.as_deref())
            .bind(seen.url.as_deref())
            .bind(seen.plugin_version.as_deref())
            .bind(now)
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await?;
        Ok(())
    }

    /// Everything last said by an instance in a shared space.
    ///
    /// # Errors
    /// Database failure.
    pub async fn ci_sighting(
        &self,
        shared_space_id: i64,
        instance_id: &str,
    ) -> Result<Option<CiSighting>, StoreError> {
        let row = sqlx::query(
            "SELECT server_type, url, plugin_version FROM ci_server_sightings \
             WHERE shared_space_id = $1 AND instance_id = $2",
        )
        .bind(shared_space_id)
        .bind(instance_id)
        .fetch_optional(&self.read)
        .await?;
        row.map(|r| {
            Ok(CiSighting {
                server_type: r.try_get(0)?,
                url: r.try_get(1)?,
                plugin_version: r.try_get(2)?,
            })
        })
        .transpose()
    }
}
