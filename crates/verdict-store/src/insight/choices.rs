//! The values a page's filters offer: a workspace's series, pipelines and
//! releases, newest first, a bounded number of each (a filter for anything
//! older is still a URL away).

use crate::connect::Store;
use crate::error::StoreError;

/// Choices per filter, at most.
pub const MAX_CHOICES: i64 = 200;

/// One value a filter offers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Choice {
    pub id: i64,
    pub name: String,
}

/// What the overview's filters offer.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FilterChoices {
    /// Series (a job's builds, a label set's reports, pushes), named with their kind.
    pub series: Vec<Choice>,
    pub pipelines: Vec<Choice>,
    pub releases: Vec<Choice>,
}

impl Store {
    /// The overview's filter values for `workspace_id`.
    ///
    /// # Errors
    /// Database failure.
    pub async fn filter_choices(&self, workspace_id: i64) -> Result<FilterChoices, StoreError> {
        let read = |sql: &'static str| async move {
            let rows: Vec<(i64, String)> = sqlx::query_as(sql)
                .bind(workspace_id)
                .bind(MAX_CHOICES)
                .fetch_all(&self.read)
                .await?;
            Ok::<_, StoreError>(
                rows.into_iter()
                    .map(|(id, name)| Choice { id, name })
                    .collect::<Vec<_>>(),
            )
        };
        Ok(FilterChoices {
            series: read(
                "SELECT id, kind || ': ' || name AS name FROM series WHERE workspace_id = $1 ORDER BY id DESC LIMIT $2",
            )
            .await?,
            pipelines: read(
                "SELECT id, name FROM pipelines WHERE workspace_id = $1 ORDER BY id DESC LIMIT $2",
            )
            .await?,
            releases: read(
                "SELECT id, name FROM releases WHERE workspace_id = $1 ORDER BY id DESC LIMIT $2",
            )
            .await?,
        })
    }
}
