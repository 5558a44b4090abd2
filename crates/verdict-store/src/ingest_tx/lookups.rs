//! Link resolution reads (releases, milestones, programs, backlog items,
//! application modules, suites, CI entities) and the find-or-create of list
//! nodes and taxonomies that a payload may introduce.

use super::open;
use sqlx::Row;

use super::IngestTx;
use crate::error::StoreError;
use crate::seed;

/// A CI build's job and names (a build's result set is named after them).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BuildNames {
    pub job_id: i64,
    pub job_name: String,
    pub build_name: String,
}

/// [`IngestTx::ci_build_names`] on any connection (the insight backfill).
pub(crate) async fn build_names(
    conn: &mut sqlx::AnyConnection,
    build_id: i64,
) -> Result<Option<BuildNames>, StoreError> {
    let row = sqlx::query(
        "SELECT j.id, j.name, b.name FROM ci_builds b JOIN ci_jobs j ON j.id = b.ci_job_id WHERE b.id = $1",
    )
    .bind(build_id)
    .fetch_optional(&mut *conn)
    .await?;
    row.map(|r| {
        Ok(BuildNames {
            job_id: r.try_get(0)?,
            job_name: r.try_get(1)?,
            build_name: r.try_get(2)?,
        })
    })
    .transpose()
}

/// A release as link resolution needs it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReleaseInfo {
    pub id: i64,
    pub name: String,
    /// Programs assigned to the release (empty: any program is fine).
    pub programs: Vec<i64>,
}

/// A test suite as suite-run creation needs it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SuiteInfo {
    pub id: i64,
    pub name: String,
    pub component: String,
}

impl IngestTx {
    async fn release_where(
        &mut self,
        clause: &str,
        bind: ReleaseKey<'_>,
    ) -> Result<Option<ReleaseInfo>, StoreError> {
        let sql = format!(
            "SELECT id, name FROM releases WHERE workspace_id = $1 AND {clause} ORDER BY is_default DESC, start_date DESC, id DESC LIMIT 1"
        );
        let q = sqlx::query(sqlx::AssertSqlSafe(sql)).bind(self.workspace_id);
        let q = match bind {
            ReleaseKey::Id(id) => q.bind(id),
            ReleaseKey::Name(name) => q.bind(name),
            ReleaseKey::Time(t) => q.bind(t),
        };
        let Some(row) = q.fetch_optional(open(&mut self.tx)?).await? else {
            return Ok(None);
        };
        let id: i64 = row.try_get(0)?;
        let programs: Vec<i64> = sqlx::query_scalar(
            "SELECT dst_id FROM entity_links WHERE src_id = $1 AND field = 'programs'",
        )
        .bind(id)
        .fetch_all(open(&mut self.tx)?)
        .await?;
        Ok(Some(ReleaseInfo {
            id,
            name: row.try_get(1)?,
            programs,
        }))
    }

    /// `release_ref id`.
    ///
    /// # Errors
    /// Database failure.
    pub async fn release_by_id(&mut self, id: i64) -> Result<Option<ReleaseInfo>, StoreError> {
        self.release_where("id = $2", ReleaseKey::Id(id)).await
    }

    /// `release name` (exact).
    ///
    /// # Errors
    /// Database failure.
    pub async fn release_by_name(&mut self, name: &str) -> Result<Option<ReleaseInfo>, StoreError> {
        self.release_where("name = $2", ReleaseKey::Name(name))
            .await
    }

    /// `release name="_default_"`: the release marked default, else the one
    /// whose dates contain `at` (latest start wins).
    ///
    /// # Errors
    /// Database failure.
    pub async fn default_release(&mut self, at: i64) -> Result<Option<ReleaseInfo>, StoreError> {
        if let Some(r) = self
            .release_where("is_default = $2", ReleaseKey::Id(1))
            .await?
        {
            return Ok(Some(r));
        }
        self.release_where("start_date <= $2 AND end_date >= $2", ReleaseKey::Time(at))
            .await
    }

    /// A milestone's release, when the milestone exists (`Some(None)`: no release).
    ///
    /// # Errors
    /// Database failure.
    pub async fn milestone_release(&mut self, id: i64) -> Result<Option<Option<i64>>, StoreError> {
        let row =
            sqlx::query("SELECT release_id FROM milestones WHERE workspace_id = $1 AND id = $2")
                .bind(self.workspace_id)
                .bind(id)
                .fetch_optional(open(&mut self.tx)?)
                .await?;
        row.map(|r| r.try_get(0).map_err(StoreError::from))
            .transpose()
    }

    /// Whether an entity with `id` exists in `table` of this workspace.
    /// `table` is one of the fixed names below, never user input.
    async fn exists_in(&mut self, table: &'static str, id: i64) -> Result<bool, StoreError> {
        let sql = format!("SELECT COUNT(*) FROM {table} WHERE workspace_id = $1 AND id = $2");
        let n: i64 = sqlx::query_scalar(sqlx::AssertSqlSafe(sql))
            .bind(self.workspace_id)
            .bind(id)
            .fetch_one(open(&mut self.tx)?)
            .await?;
        Ok(n > 0)
    }

    /// `program_ref`.
    ///
    /// # Errors
    /// Database failure.
    pub async fn program_exists(&mut self, id: i64) -> Result<bool, StoreError> {
        self.exists_in("programs", id).await
    }

    /// `backlog_item_ref`: any work item.
    ///
    /// # Errors
    /// Database failure.
    pub async fn work_item_exists(&mut self, id: i64) -> Result<bool, StoreError> {
        self.exists_in("work_items", id).await
    }

    /// `product_area_ref`: an application module.
    ///
    /// # Errors
    /// Database failure.
    pub async fn application_module_exists(&mut self, id: i64) -> Result<bool, StoreError> {
        self.exists_in("application_modules", id).await
    }

    /// `suite_ref`: a test of subtype `test_suite`.
    ///
    /// # Errors
    /// Database failure.
    pub async fn suite(&mut self, id: i64) -> Result<Option<SuiteInfo>, StoreError> {
        let row = sqlx::query(
            "SELECT id, name, component FROM tests WHERE workspace_id = $1 AND id = $2 AND subtype = 'test_suite'",
        )
        .bind(self.workspace_id)
        .bind(id)
        .fetch_optional(open(&mut self.tx)?)
        .await?;
        row.map(|r| {
            Ok(SuiteInfo {
                id: r.try_get(0)?,
                name: r.try_get(1)?,
                component: r.try_get(2)?,
            })
        })
        .transpose()
    }

    /// A CI server of this workspace by its `instance_id`.
    ///
    /// # Errors
    /// Database failure.
    pub async fn ci_server_by_instance(
        &mut self,
        instance_id: &str,
    ) -> Result<Option<i64>, StoreError> {
        let id = sqlx::query_scalar(
            "SELECT id FROM ci_servers WHERE workspace_id = $1 AND instance_id = $2",
        )
        .bind(self.workspace_id)
        .bind(instance_id)
        .fetch_optional(open(&mut self.tx)?)
        .await?;
        Ok(id)
    }

    /// Finds or creates the CI job `ci_id` of a server.
    ///
    /// # Errors
    /// Database failure.
    pub async fn ci_job(
        &mut self,
        server_id: i64,
        ci_id: &str,
        name: &str,
    ) -> Result<i64, StoreError> {
        crate::ci::find_or_create_job(
            self.backend,
            open(&mut self.tx)?,
            self.workspace_id,
            server_id,
            ci_id,
            Some(name),
            false,
        )
        .await
    }

    /// A build's job and names, for its result set.
    ///
    /// # Errors
    /// Database failure.
    pub async fn ci_build_names(
        &mut self,
        build_id: i64,
    ) -> Result<Option<BuildNames>, StoreError> {
        build_names(open(&mut self.tx)?, build_id).await
    }

    /// Finds or creates the CI build `build_ci_id` of a job.
    ///
    /// # Errors
    /// Database failure.
    pub async fn ci_build(
        &mut self,
        job_id: i64,
        build: &CiBuildSpec<'_>,
        now: i64,
    ) -> Result<i64, StoreError> {
        let found = sqlx::query_scalar(
            "SELECT id FROM ci_builds WHERE ci_job_id = $1 AND build_ci_id = $2",
        )
        .bind(job_id)
        .bind(build.build_ci_id)
        .fetch_optional(open(&mut self.tx)?)
        .await?;
        if let Some(id) = found {
            return Ok(id);
        }
        let id = self
            .allocate_ids(1)
            .await?
            .first()
            .copied()
            .unwrap_or_default();
        sqlx::query(
            "INSERT INTO ci_builds (id, workspace_id, ci_job_id, build_ci_id, name, sub_type, artifact_id, creation_time) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
        )
        .bind(id)
        .bind(self.workspace_id)
        .bind(job_id)
        .bind(build.build_ci_id)
        .bind(build.name)
        .bind(build.sub_type)
        .bind(build.artifact_id)
        .bind(now)
        .execute(open(&mut self.tx)?)
        .await?;
        Ok(id)
    }

    /// The list node named `value` (case-insensitive) in `list`, created when missing.
    ///
    /// # Errors
    /// Database failure.
    pub async fn list_node(&mut self, list: &str, value: &str) -> Result<i64, StoreError> {
        let key = seed::name_key(value);
        let found = sqlx::query_scalar(
            "SELECT id FROM list_nodes WHERE workspace_id = $1 AND list_name = $2 AND name_key = $3",
        )
        .bind(self.workspace_id)
        .bind(list)
        .bind(&key)
        .fetch_optional(open(&mut self.tx)?)
        .await?;
        if let Some(id) = found {
            return Ok(id);
        }
        let id = self
            .allocate_ids(1)
            .await?
            .first()
            .copied()
            .unwrap_or_default();
        sqlx::query(
            "INSERT INTO list_nodes (id, workspace_id, list_name, name, name_key, logical_name) VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .bind(id)
        .bind(self.workspace_id)
        .bind(list)
        .bind(value)
        .bind(&key)
        .bind(format!("{}.{id}", seed::logical_name(list, value)))
        .execute(open(&mut self.tx)?)
        .await?;
        Ok(id)
    }

    /// The taxonomy item `value` under category `category` (both
    /// case-insensitive), creating the category and/or the item when missing.
    ///
    /// # Errors
    /// Database failure.
    pub async fn taxonomy_item(&mut self, category: &str, value: &str) -> Result<i64, StoreError> {
        let category_id = match self.taxonomy_find(None, category).await? {
            Some(id) => id,
            None => self.taxonomy_create(None, category).await?,
        };
        match self.taxonomy_find(Some(category_id), value).await? {
            Some(id) => Ok(id),
            None => self.taxonomy_create(Some(category_id), value).await,
        }
    }

    async fn taxonomy_find(
        &mut self,
        category_id: Option<i64>,
        name: &str,
    ) -> Result<Option<i64>, StoreError> {
        let sql = if category_id.is_some() {
            "SELECT id FROM taxonomy_nodes WHERE workspace_id = $1 AND name_key = $2 AND category_id = $3"
        } else {
            "SELECT id FROM taxonomy_nodes WHERE workspace_id = $1 AND name_key = $2 AND category_id IS NULL AND $3 IS NULL"
        };
        let id = sqlx::query_scalar(sql)
            .bind(self.workspace_id)
            .bind(seed::name_key(name))
            .bind(category_id)
            .fetch_optional(open(&mut self.tx)?)
            .await?;
        Ok(id)
    }

    async fn taxonomy_create(
        &mut self,
        category_id: Option<i64>,
        name: &str,
    ) -> Result<i64, StoreError> {
        let id = self
            .allocate_ids(1)
            .await?
            .first()
            .copied()
            .unwrap_or_default();
        seed::insert_taxonomy(
            open(&mut self.tx)?,
            self.workspace_id,
            id,
            name,
            category_id,
        )
        .await?;
        Ok(id)
    }
}

/// The `build` element's values for [`IngestTx::ci_build`].
#[derive(Debug, Clone, Copy)]
pub struct CiBuildSpec<'a> {
    pub build_ci_id: &'a str,
    pub name: &'a str,
    pub sub_type: Option<&'a str>,
    pub artifact_id: Option<&'a str>,
}

enum ReleaseKey<'a> {
    Id(i64),
    Name(&'a str),
    Time(i64),
}
