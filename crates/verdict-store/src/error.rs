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

/// Database error codes after which the same request may succeed later:
/// SQLite busy or locked past the busy timeout (`SQLITE_BUSY`, `_LOCKED` and
/// their extended codes), PostgreSQL serialization failure, deadlock, too
/// many connections, and a server shutting down or starting up.
const TRANSIENT_CODES: &[&str] = &[
    "5", "6", "261", "262", "517", "773", "40001", "40P01", "53300", "57P01", "57P02", "57P03",
];

impl StoreError {
    /// True when trying again later may succeed (the database was busy, or
    /// could not be reached for a moment); adapters answer 503 for it, which
    /// clients retry, rather than 500. A full disk is not transient
    /// ([`Self::is_storage_full`]).
    #[must_use]
    pub fn is_transient(&self) -> bool {
        if self.is_storage_full() {
            return false;
        }
        match self {
            Self::Database(sqlx::Error::Database(db)) => db.code().is_some_and(|code| {
                TRANSIENT_CODES.contains(&code.as_ref()) || code.starts_with("08")
            }),
            Self::Database(sqlx::Error::PoolTimedOut | sqlx::Error::Io(_)) => true,
            _ => false,
        }
    }

    /// True when the database could not grow: SQLite's `SQLITE_FULL`,
    /// PostgreSQL's `disk_full`, or the file system refusing a write.
    #[must_use]
    pub fn is_storage_full(&self) -> bool {
        match self {
            Self::Database(sqlx::Error::Database(db)) => {
                matches!(db.code().as_deref(), Some("13" | "53100"))
            }
            Self::Database(sqlx::Error::Io(e)) | Self::Io(e) => {
                e.kind() == std::io::ErrorKind::StorageFull
            }
            _ => false,
        }
    }

    /// True when the database reported a unique-constraint violation.
    #[must_use]
    pub fn is_unique_violation(&self) -> bool {
        match self {
            Self::Database(sqlx::Error::Database(db)) => db.is_unique_violation(),
            _ => false,
        }
    }
}
