//! The one error type of generated writes.

use tokio_postgres::error::{DbError, SqlState};

/// What a generated write can fail with.
///
/// The enum is `#[non_exhaustive]`: a `match` on it needs a `_` arm, so that a later version
/// can add a kind of failure without breaking callers. To react to a constraint PostgreSQL
/// reports, use the predicates ([`is_unique_violation`](Error::is_unique_violation), ...) and
/// [`constraint`](Error::constraint) rather than matching on the SQLSTATE by hand.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The row to update or delete does not exist. Nothing was changed.
    #[error("no row of `{table}` has this id")]
    NotFound {
        /// The table, as `schema.table`.
        table: &'static str,
    },
    /// The input cannot be written as given (a required value is missing, two parts of a
    /// graph contradict each other, ...). Returned before any SQL is sent.
    #[error("invalid write: {0}")]
    Validation(String),
    /// The statement ran, but a value it returned cannot be read as the type the code was
    /// generated for: the schema changed since (`ALTER COLUMN ... TYPE`). Its write is
    /// committed, or part of the caller's transaction when it ran in one, so retrying it would
    /// write it again. Regenerate the code from the current schema.
    #[error(
        "the statement ran and its write is committed (or part of your open transaction), but \
         column `{column}` of `{table}` cannot be read: the code reads it as `{rust_type}` \
         (generated for `{sql_type}`) and the database returned `{found}`; the schema changed \
         since the code was generated: regenerate it, and do not retry this write ({source})"
    )]
    Decode {
        /// The table, as `schema.table`.
        table: &'static str,
        /// The column.
        column: &'static str,
        /// The Rust type the code reads it as.
        rust_type: &'static str,
        /// The SQL type the code was generated for.
        sql_type: &'static str,
        /// The type PostgreSQL returned.
        found: String,
        /// The error from tokio-postgres.
        #[source]
        source: tokio_postgres::Error,
    },
    /// PostgreSQL (or the connection) reported an error. When a graph write failed, `tag`
    /// names the step it came from, found from the constraint, table or partition
    /// PostgreSQL names and what each step writes or deletes; when several steps could have
    /// caused it, `tag` is `None` and `candidates` lists them.
    #[error("{}", describe_db(.tag, .candidates, .source))]
    Db {
        /// The step tag (`graph:has_many:order_items`), when known.
        tag: Option<&'static str>,
        /// When the step cannot be told: the steps the error may come from (else empty).
        candidates: Vec<&'static str>,
        /// The error from tokio-postgres.
        #[source]
        source: tokio_postgres::Error,
    },
}

/// `Result` with [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

impl From<tokio_postgres::Error> for Error {
    fn from(source: tokio_postgres::Error) -> Self {
        Error::Db {
            tag: None,
            candidates: Vec::new(),
            source,
        }
    }
}

impl Error {
    /// A database error attributed to a graph step.
    pub fn db(tag: Option<&'static str>, source: tokio_postgres::Error) -> Self {
        Error::Db {
            tag,
            candidates: Vec::new(),
            source,
        }
    }

    /// A database error of a graph write that one of `steps` caused: the step itself when
    /// there is one, else the candidates.
    pub fn db_in_steps(steps: Vec<&'static str>, source: tokio_postgres::Error) -> Self {
        match steps[..] {
            [step] => Error::db(Some(step), source),
            _ => Error::Db {
                tag: None,
                candidates: steps,
                source,
            },
        }
    }

    /// A validation error of a graph step's rows, prefixed with the step's tag; other
    /// errors unchanged.
    pub fn in_step(self, tag: &'static str) -> Self {
        match self {
            Error::Validation(message) => Error::Validation(format!("step `{tag}`: {message}")),
            other => other,
        }
    }

    /// The steps a database error may come from when `tag` cannot name one (else empty).
    pub fn candidate_steps(&self) -> &[&'static str] {
        match self {
            Error::Db { candidates, .. } => candidates,
            _ => &[],
        }
    }

    /// The server's error fields, when PostgreSQL reported the error.
    pub fn db_error(&self) -> Option<&DbError> {
        match self {
            Error::Db { source, .. } => source.as_db_error(),
            _ => None,
        }
    }

    /// The SQLSTATE code (`23505` is a unique violation), when PostgreSQL reported one.
    pub fn sqlstate(&self) -> Option<&SqlState> {
        match self {
            Error::Db { source, .. } => source.code(),
            _ => None,
        }
    }

    /// Whether PostgreSQL rejected the write because it would repeat a unique or primary
    /// key (SQLSTATE `23505`, `unique_violation`). Only an [`Error::Db`] can be one.
    pub fn is_unique_violation(&self) -> bool {
        self.sqlstate() == Some(&SqlState::UNIQUE_VIOLATION)
    }

    /// Whether PostgreSQL rejected the write because a foreign key names no row, or a row
    /// to delete is still referenced (SQLSTATE `23503`, `foreign_key_violation`). Only an
    /// [`Error::Db`] can be one.
    pub fn is_foreign_key_violation(&self) -> bool {
        self.sqlstate() == Some(&SqlState::FOREIGN_KEY_VIOLATION)
    }

    /// Whether PostgreSQL rejected the write because it would put NULL in a NOT NULL column
    /// (SQLSTATE `23502`, `not_null_violation`). Only an [`Error::Db`] can be one; a required
    /// value the generated code sees unset before sending is an [`Error::Validation`]
    /// instead.
    pub fn is_not_null_violation(&self) -> bool {
        self.sqlstate() == Some(&SqlState::NOT_NULL_VIOLATION)
    }

    /// Whether PostgreSQL rejected the write because a CHECK constraint failed (SQLSTATE
    /// `23514`, `check_violation`). Only an [`Error::Db`] can be one.
    pub fn is_check_violation(&self) -> bool {
        self.sqlstate() == Some(&SqlState::CHECK_VIOLATION)
    }

    /// The constraint the error is about (`uq_order_items`), when PostgreSQL names one.
    pub fn constraint(&self) -> Option<&str> {
        self.db_error().and_then(DbError::constraint)
    }

    /// The table the error is about, when PostgreSQL names one.
    pub fn table(&self) -> Option<&str> {
        self.db_error().and_then(DbError::table)
    }

    /// The column the error is about, when PostgreSQL names one.
    pub fn column(&self) -> Option<&str> {
        self.db_error().and_then(DbError::column)
    }

    /// The graph step tag of a database error.
    pub fn tag(&self) -> Option<&'static str> {
        match self {
            Error::Db { tag, .. } => *tag,
            _ => None,
        }
    }
}

fn describe_db(
    tag: &Option<&'static str>,
    candidates: &[&'static str],
    source: &tokio_postgres::Error,
) -> String {
    let mut text = match source.as_db_error() {
        Some(db) => {
            let mut text = format!(
                "{}: {} (SQLSTATE {}",
                db.severity(),
                db.message(),
                db.code().code()
            );
            for (what, value) in [
                ("table", db.table()),
                ("column", db.column()),
                ("constraint", db.constraint()),
            ] {
                if let Some(value) = value {
                    text.push_str(&format!(", {what} {value}"));
                }
            }
            text.push(')');
            if let Some(detail) = db.detail() {
                text.push_str(&format!("; {detail}"));
            }
            text
        }
        None => source.to_string(),
    };
    if let Some(tag) = tag {
        text = format!("step `{tag}` failed: {text}");
    } else if !candidates.is_empty() {
        let steps: Vec<String> = candidates.iter().map(|s| format!("`{s}`")).collect();
        text = format!("one of the steps {} failed: {text}", steps.join(", "));
    }
    text
}
