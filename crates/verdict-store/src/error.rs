//! The store's error type. Adapters map it to HTTP in one place each.

/// What can go wrong below the domain.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The database refused or failed; the cause is logged, never shown to clients.
    #[error("database error: {0}")]
    Database(#[from] sqlx::Error),
    /// A `--database-url` Verdict cannot use.
    #[error("unsupported database url '{0}': use sqlite://PATH or postgres://...")]
    UnsupportedUrl(String),
    /// A uniqueness rule of the product (not of the schema) was broken.
    #[error("{0}")]
    Conflict(String),
    /// Something the request relied on was removed meanwhile (a blob whose
    /// pin went stale); sending the request again works.
    #[error("{0}")]
    Retry(String),
    /// A named entity does not exist.
    #[error("{0}")]
    NotFound(String),
    /// An entity query that names an unknown field or compares wrong types.
    #[error("query error at position {position}: {message}")]
    InvalidQuery { position: usize, message: String },
    /// A task's transaction was used after a checkpoint failed to open the
    /// next one (the task stops; it resumes from its last checkpoint).
    #[error("the task's transaction is closed")]
    TransactionClosed,
    /// A filesystem error around the database (creating its directory).
    #[error("i/o error: {0}")]
    Io(#[from] std::io::Error),
}

impl StoreError {
    /// True when the database reported a unique-constraint violation.
    #[must_use]
    pub fn is_unique_violation(&self) -> bool {
        match self {
            Self::Database(sqlx::Error::Database(db)) => db.is_unique_violation(),
            _ => false,
        }
    }
}
