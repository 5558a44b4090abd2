//! One `POST /import` as one transaction: the report, every run and event of
//! every file, and the imported-file hashes commit together or not at all,
//! so a rejected import (a truncated second file, a file that is no report)
//! stores nothing. On SQLite the import holds the single writer while it
//! runs; imports are bounded by the request size limit.

use sqlx::{Any, Transaction};
use verdict_domain::testcenter::Level;

use super::{NewTcEvent, ReportSelection, TcReport, TcRun, TcTest};
use crate::connect::{Backend, Store};
use crate::error::StoreError;
use crate::tenancy::WorkspaceRecord;

/// An open import; dropped without [`TcImportTx::commit`] it rolls back.
pub struct TcImportTx {
    backend: Backend,
    tx: Transaction<'static, Any>,
}

impl Store {
    /// Starts an import transaction.
    ///
    /// # Errors
    /// Database failure.
    pub async fn tc_begin_import(&self) -> Result<TcImportTx, StoreError> {
        Ok(TcImportTx {
            backend: self.backend,
            tx: self.begin_write().await?,
        })
    }
}

impl TcImportTx {
    /// Creates a project (workspace) inside the import, so a rejected import
    /// leaves no new project behind either.
    ///
    /// # Errors
    /// Database failure.
    pub async fn create_project(
        &mut self,
        shared_space_id: i64,
        name: &str,
    ) -> Result<WorkspaceRecord, StoreError> {
        let id = crate::ids::allocate(self.backend, &mut self.tx, 1)
            .await?
            .first()
            .copied()
            .unwrap_or_default();
        sqlx::query("INSERT INTO workspaces (id, shared_space_id, name) VALUES ($1, $2, $3)")
            .bind(id)
            .bind(shared_space_id)
            .bind(name)
            .execute(&mut *self.tx)
            .await?;
        crate::seed::seed_workspace(self.backend, &mut self.tx, id).await?;
        Ok(WorkspaceRecord {
            id,
            shared_space_id,
            name: name.to_owned(),
        })
    }

    /// See [`Store::tc_select_report`] (selection by batch and labels).
    ///
    /// # Errors
    /// Database failure.
    pub async fn select_report(
        &mut self,
        workspace_id: i64,
        sel: &ReportSelection,
    ) -> Result<TcReport, StoreError> {
        super::select_report_in(self.backend, &mut self.tx, workspace_id, sel).await
    }

    /// See [`Store::tc_record_import`].
    ///
    /// # Errors
    /// Database failure.
    pub async fn record_import(
        &mut self,
        report_id: i64,
        content_sha256: &str,
    ) -> Result<bool, StoreError> {
        super::record_import_in(&mut self.tx, report_id, content_sha256).await
    }

    /// Creates a run and returns it (see [`Store::tc_create_run`]).
    ///
    /// # Errors
    /// Database failure.
    pub async fn create_run(
        &mut self,
        report: &TcReport,
        parent: Option<&TcRun>,
        level: Level,
        test: &TcTest,
    ) -> Result<TcRun, StoreError> {
        let id = super::runs::create_run_in(
            self.backend,
            &mut self.tx,
            report.workspace_id,
            report.id,
            parent,
            level,
            test,
        )
        .await?;
        super::runs::run_in(&mut self.tx, id)
            .await?
            .ok_or_else(|| StoreError::NotFound(format!("run {id} vanished")))
    }

    /// Stores events without files (see [`Store::tc_add_events`]).
    ///
    /// # Errors
    /// Database failure.
    pub async fn add_events(
        &mut self,
        workspace_id: i64,
        events: &[NewTcEvent],
    ) -> Result<(), StoreError> {
        super::events::add_events_in(self.backend, &mut self.tx, workspace_id, events, |key| {
            Err(std::io::Error::other(format!(
                "import events carry no file ({key})"
            )))
        })
        .await
    }

    /// Makes the whole import visible.
    ///
    /// # Errors
    /// Database failure.
    pub async fn commit(self) -> Result<(), StoreError> {
        self.tx.commit().await?;
        Ok(())
    }
}
