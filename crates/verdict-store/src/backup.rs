//! `verdict admin backup`: a consistent copy of the SQLite database taken
//! while the server runs. `VACUUM INTO` reads the database inside one read
//! transaction (WAL mode: writers go on meanwhile) and writes a compact,
//! self-contained file that opens as a Verdict database as it is.

use std::path::Path;

use crate::connect::{Backend, Store};
use crate::error::StoreError;

impl Store {
    /// Copies the database to `to`, which must not exist yet.
    ///
    /// # Errors
    /// `Conflict` when `to` exists; `Unsupported`-style `Conflict` on
    /// PostgreSQL (its own tools back it up); database or file failure.
    pub async fn backup_to(&self, to: &Path) -> Result<u64, StoreError> {
        if self.backend == Backend::Postgres {
            return Err(StoreError::Conflict(
                "a PostgreSQL database is backed up with its own tools (pg_dump or a base backup); see the README's Operations section".to_owned(),
            ));
        }
        if to.exists() {
            return Err(StoreError::Conflict(format!(
                "{} exists already; back up to a new file",
                to.display()
            )));
        }
        let target = to
            .to_str()
            .ok_or_else(|| StoreError::Conflict(format!("{} is not a UTF-8 path", to.display())))?;
        sqlx::query("VACUUM INTO $1")
            .bind(target)
            .execute(&self.read)
            .await?;
        // VACUUM INTO does not sync what it wrote: a crash right after
        // "backup written" must not leave a torn copy.
        let io = |e: std::io::Error| StoreError::Conflict(format!("syncing {}: {e}", to.display()));
        let file = std::fs::File::open(to).map_err(io)?;
        file.sync_all().map_err(io)?;
        if let Some(dir) = to.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::File::open(dir)
                .and_then(|d| d.sync_all())
                .map_err(io)?;
        }
        Ok(file.metadata().map(|m| m.len()).unwrap_or(0))
    }
}
