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
    /// The row to update or delete does not exist, or a graph step connects to a row by a
    /// key that no row has. Nothing was changed.
    #[error("{}", describe_not_found(.table, .step, .graph))]
    #[non_exhaustive]
    NotFound {
        /// The table, as `schema.table`.
        table: &'static str,
        /// The graph step that looked the row up by its key (`connect_by`); `None` for the
        /// row an update or delete names by id.
        step: Option<&'static str>,
        /// In a call of many graphs (`update_graph_many`), the graph (from 0) whose root's
        /// key names no row; `None` otherwise.
        graph: Option<usize>,
    },
    /// The input cannot be written as given (a required value is missing, two parts of a
    /// graph contradict each other, ...). Returned before any SQL is sent; but
    /// [`ValidationKind::TooLarge`], found while the statement's values are encoded, is
    /// returned before the statement is sent, which a statement cache may have prepared (its
    /// text, without values) and a graph that locks its root followed its lock with.
    ///
    /// Its [`ValidationError::kind`] says which rule the input broke, for a program to match;
    /// its text says where, for a person to read.
    #[error("invalid write: {0}")]
    Validation(ValidationError),
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
    /// The server ran a statement other than this one: a step count of its result, a
    /// `bigint` the statement always returns, cannot be read. The server connection holds
    /// another client's prepared statement under the name a statement cache (deadpool's,
    /// [`CachedClient`](crate::CachedClient)) gave this one. That happens behind a transaction
    /// pooler (pgbouncer with `pool_mode = transaction`) whose server connections outlive the
    /// application process that prepared statements on them: after a restart, the new process
    /// names its statements as the old one did. What that statement wrote is unknown: look
    /// before retrying. Behind a transaction pooler, use statements the server does not keep
    /// (a plain `tokio_postgres::Client`, a bb8 connection), pgbouncer 1.21's
    /// `max_prepared_statements`, or session pooling.
    #[error(
        "the server ran a statement other than this one (its result does not have this \
         statement's columns): the server connection holds another client's prepared \
         statement under the name this client's statement cache gave this one. That happens \
         behind a transaction pooler (pgbouncer with `pool_mode = transaction`) whose server \
         connections outlive the process that prepared statements on them. What that \
         statement wrote is unknown: look before retrying. Behind a transaction pooler, use a \
         plain `tokio_postgres::Client` (it sends statements unnamed), pgbouncer's \
         `max_prepared_statements` (1.21 and later) or session pooling (`pool_mode = \
         session`) instead of a statement cache ({source})"
    )]
    ForeignStatement {
        /// The error from tokio-postgres, reading the count.
        #[source]
        source: tokio_postgres::Error,
    },
    /// The database differs from the schema the code was generated from: returned by the
    /// generated `verify_database` (see [`verify`](mod@crate::verify)), which reads
    /// `pg_catalog` and writes nothing. Each [`SchemaDifference`](crate::verify::SchemaDifference)
    /// names the table, the column and both types; regenerate the code or migrate the database.
    #[error("{0}")]
    SchemaMismatch(crate::verify::SchemaMismatch),
    /// PostgreSQL (or the connection) reported an error. When a graph write failed, `tag`
    /// names the step it came from, found from the constraint, table or partition
    /// PostgreSQL names and what each step writes or deletes; when several steps could have
    /// caused it, `tag` is `None` and `candidates` lists them.
    ///
    /// When a write of many graphs in one statement failed (`insert_graph_many`), `graphs`
    /// lists the input graphs (from 0) whose rows hold the key PostgreSQL's DETAIL names
    /// (`Key (sku)=(A-1) already exists.`); empty when it names none, or one the graph
    /// fills rather than the input (a parent's key the statement draws).
    #[error("{}", describe_db(.tag, .candidates, .graphs, .source))]
    Db {
        /// The step tag (`graph:has_many:order_items`), when known.
        tag: Option<&'static str>,
        /// When the step cannot be told: the steps the error may come from (else empty).
        candidates: Vec<&'static str>,
        /// The input graphs of a many-graph write the failing key came from (else empty).
        graphs: Vec<usize>,
        /// The error from tokio-postgres.
        #[source]
        source: tokio_postgres::Error,
    },
}

/// Why a write was refused before any SQL was sent ([`Error::Validation`]): a
/// [`ValidationKind`] to match on and the message that names the table, row, column or step.
///
/// Its `Display` is the message alone.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ValidationError {
    kind: ValidationKind,
    message: String,
}

/// Which rule the input of a write broke, in an [`Error::Validation`].
///
/// `#[non_exhaustive]`: a `match` on it needs a `_` arm, as later versions may tell more
/// cases apart.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ValidationKind {
    /// A value the write needs was left unset: a NOT NULL column without a DEFAULT that
    /// neither the caller nor a graph edge filled, a required `belongs_to` parent given
    /// neither as a row nor as its id, or a graph's `root_id_field`.
    MissingValue,
    /// A text value is longer than its `varchar(n)` / `char(n)` column holds, counted in
    /// characters as PostgreSQL counts them.
    TooLong,
    /// A text value contains a NUL byte, which no PostgreSQL text can hold.
    NulByte,
    /// Two rows of one statement have the same conflict key (or a diff step's key):
    /// PostgreSQL cannot upsert or update a row twice in one statement. Merge them.
    RepeatedKey,
    /// A patch or update graph sets nothing: no column and no child field.
    NoOperations,
    /// A `belongs_to` parent is given both as a row and as its id.
    ConflictingParent,
    /// A batch or array has more elements than PostgreSQL binds in one parameter (2^31).
    TooManyElements,
    /// The statement's values take more than PostgreSQL reads as one statement's values
    /// ([`MAX_STATEMENT_BYTES`](crate::write::MAX_STATEMENT_BYTES), 1 GiB), or one value
    /// more than it stores as one (1 GiB): found while they were encoded, before anything
    /// was sent. The message names the largest value and, for a batch, how many rows or
    /// graphs fit in one call.
    TooLarge,
    /// The statement returned no row where it always returns one (a trigger or a row-level
    /// security policy suppressed the write).
    NoRowReturned,
    /// A rule none of the other kinds names.
    Other,
}

impl ValidationError {
    /// An error of `kind` with `message` (lowercase, naming the thing and the fix).
    pub fn new(kind: ValidationKind, message: impl Into<String>) -> Self {
        ValidationError {
            kind,
            message: message.into(),
        }
    }

    /// Which rule the input broke.
    pub fn kind(&self) -> ValidationKind {
        self.kind
    }

    /// The message, as `Display` shows it.
    pub fn message(&self) -> &str {
        &self.message
    }
}

impl std::fmt::Display for ValidationError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for ValidationError {}

/// The fixed messages generated code builds `Error::Validation(message.into())` from, with
/// the kind each one is. A message from elsewhere is [`ValidationKind::Other`].
const GENERATED_MESSAGES: &[(&str, ValidationKind)] = &[
    (
        "are both set; give the parent or its id, not both",
        ValidationKind::ConflictingParent,
    ),
    (" is required; set `", ValidationKind::MissingValue),
    ("is not set (root_id_field)", ValidationKind::MissingValue),
    ("have the same conflict key", ValidationKind::RepeatedKey),
    ("have the same key", ValidationKind::RepeatedKey),
    (
        "sets no column: nothing to update",
        ValidationKind::NoOperations,
    ),
    ("no operations to perform", ValidationKind::NoOperations),
    ("more than 2^31", ValidationKind::TooManyElements),
    ("returned no row", ValidationKind::NoRowReturned),
    ("returned no root", ValidationKind::NoRowReturned),
];

impl ValidationKind {
    /// The kind of one of the messages generated code writes (see `GENERATED_MESSAGES`).
    fn of_message(message: &str) -> Self {
        GENERATED_MESSAGES
            .iter()
            .find(|(text, _)| message.contains(text))
            .map_or(ValidationKind::Other, |(_, kind)| *kind)
    }
}

/// A message of generated code (`Error::Validation("..".into())`), its kind read from the
/// fixed text the generator writes for each rule; any other text is
/// [`ValidationKind::Other`]. Prefer [`ValidationError::new`], which names the kind.
impl From<&str> for ValidationError {
    fn from(message: &str) -> Self {
        ValidationError::new(ValidationKind::of_message(message), message)
    }
}

/// As `From<&str>`.
impl From<String> for ValidationError {
    fn from(message: String) -> Self {
        ValidationError::new(ValidationKind::of_message(&message), message)
    }
}

/// `Result` with [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

impl From<tokio_postgres::Error> for Error {
    fn from(source: tokio_postgres::Error) -> Self {
        Error::Db {
            tag: None,
            candidates: Vec::new(),
            graphs: Vec::new(),
            source,
        }
    }
}

/// The text of [`Error::NotFound`].
fn describe_not_found(table: &str, step: &Option<&'static str>, graph: &Option<usize>) -> String {
    match (step, graph) {
        (Some(step), _) => format!("step `{step}`: no row of `{table}` has this key"),
        (None, Some(graph)) => format!("graph {graph}: no row of `{table}` has this id"),
        (None, None) => format!("no row of `{table}` has this id"),
    }
}

impl Error {
    /// [`Error::NotFound`] of the row of `table` an update or delete names by id.
    pub fn not_found(table: &'static str) -> Self {
        Error::NotFound {
            table,
            step: None,
            graph: None,
        }
    }

    /// [`Error::NotFound`] of the row of `table` that graph step `step` connects to by key.
    pub fn not_found_in_step(table: &'static str, step: &'static str) -> Self {
        Error::NotFound {
            table,
            step: Some(step),
            graph: None,
        }
    }

    /// A database error attributed to a graph step.
    pub fn db(tag: Option<&'static str>, source: tokio_postgres::Error) -> Self {
        Error::Db {
            tag,
            candidates: Vec::new(),
            graphs: Vec::new(),
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
                graphs: Vec::new(),
                source,
            },
        }
    }

    /// A validation error of a graph step's rows, prefixed with the step's tag; other
    /// errors unchanged.
    pub fn in_step(self, tag: &'static str) -> Self {
        match self {
            Error::Validation(ValidationError { kind, message }) => Error::Validation(
                ValidationError::new(kind, format!("step `{tag}`: {message}")),
            ),
            other => other,
        }
    }

    /// A validation error about graph `index` (from 0) of a batch, saying so.
    pub fn in_graph(self, index: usize) -> Self {
        match self {
            Error::Validation(ValidationError { kind, message }) => Error::Validation(
                ValidationError::new(kind, format!("graph {index}: {message}")),
            ),
            other => other,
        }
    }

    /// A database error of a many-graph write, with the input graphs its failing key came
    /// from; other errors unchanged.
    pub fn in_graphs(self, found: Vec<usize>) -> Self {
        match self {
            Error::Db {
                tag,
                candidates,
                source,
                ..
            } => Error::Db {
                tag,
                candidates,
                graphs: found,
                source,
            },
            other => other,
        }
    }

    /// The input graphs (from 0) of a many-graph write that a database error's key came
    /// from, where PostgreSQL names the key and the input holds it (else empty).
    pub fn graphs(&self) -> &[usize] {
        match self {
            Error::Db { graphs, .. } => graphs,
            _ => &[],
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

    /// The kind of an [`Error::Validation`] (else `None`).
    pub fn validation_kind(&self) -> Option<ValidationKind> {
        match self {
            Error::Validation(validation) => Some(validation.kind()),
            _ => None,
        }
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

    /// Whether the server did not have a statement as this client's statement cache
    /// prepared it ([`CachedClient`](crate::CachedClient), deadpool's cache): it does not
    /// exist (26000), its name is taken by another one (42P05), or the statement of that name
    /// takes other parameters. PostgreSQL ran nothing of the statement. It happens behind a
    /// transaction pooler (pgbouncer's `pool_mode = transaction`) and after `DEALLOCATE ALL`
    /// or `DISCARD ALL`; the message says what to do.
    pub fn is_lost_prepared_statement(&self) -> bool {
        match self {
            Error::Db { source, .. } => lost_prepared_statement(source),
            _ => false,
        }
    }

    /// The graph step tag of a database error.
    pub fn tag(&self) -> Option<&'static str> {
        match self {
            Error::Db { tag, .. } => *tag,
            _ => None,
        }
    }
}

/// Generated code sends named statements only through a statement cache, so these errors
/// always mean that the server connection is not the one the cache prepared on, or was reset.
fn lost_prepared_statement(source: &tokio_postgres::Error) -> bool {
    matches!(
        source.code(),
        Some(&SqlState::INVALID_SQL_STATEMENT_NAME) | Some(&SqlState::DUPLICATE_PSTATEMENT)
    ) || crate::client::is_foreign(source)
}

/// What [`Error::is_lost_prepared_statement`] means, and what to do.
const LOST_PREPARED_STATEMENT: &str = "; PostgreSQL ran nothing of this statement: the server \
    connection does not have the statement as this client's statement cache prepared it. That \
    happens behind a transaction pooler (pgbouncer with `pool_mode = transaction`), where a \
    prepared statement lives on one server connection and the next statement may run on \
    another, and after `DEALLOCATE ALL` or `DISCARD ALL`. In a transaction, roll it back (the \
    error aborted it) and run it again. Behind a transaction pooler, use a plain \
    `tokio_postgres::Client` (it sends statements unnamed) or session pooling \
    (`pool_mode = session`) instead of a statement cache";

fn describe_db(
    tag: &Option<&'static str>,
    candidates: &[&'static str],
    graphs: &[usize],
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
        // tokio-postgres leaves the cause out of its message ("error serializing parameter
        // 3"): it says what was wrong with the value.
        None => match std::error::Error::source(source) {
            Some(cause) => format!("{source}: {cause}"),
            None => source.to_string(),
        },
    };
    if lost_prepared_statement(source) {
        text.push_str(LOST_PREPARED_STATEMENT);
    }
    if let Some(tag) = tag {
        text = format!("step `{tag}` failed: {text}");
    } else if !candidates.is_empty() {
        let steps: Vec<String> = candidates.iter().map(|s| format!("`{s}`")).collect();
        text = format!("one of the steps {} failed: {text}", steps.join(", "));
    }
    match graphs {
        [] => {}
        [graph] => text = format!("graph {graph}: {text}"),
        _ => {
            let graphs: Vec<String> = graphs.iter().map(usize::to_string).collect();
            text = format!("graphs {}: {text}", graphs.join(", "));
        }
    }
    text
}

#[cfg(test)]
mod tests {
    use super::{Error, ValidationError, ValidationKind};

    #[test]
    fn the_generated_messages_have_their_kinds() {
        for (message, kind) in [
            (
                "NewProductGraph: `category` and `category_id` are both set; give the parent or \
                 its id, not both",
                ValidationKind::ConflictingParent,
            ),
            (
                "NewProductGraph: `category` is required; set `category` or `category_id`",
                ValidationKind::MissingValue,
            ),
            (
                "OrderGraph: the root id `id` is not set (root_id_field)",
                ValidationKind::MissingValue,
            ),
            (
                "two rows of `public.users` have the same conflict key (email); merge them \
                 before upserting",
                ValidationKind::RepeatedKey,
            ),
            (
                "OrderPatchGraph: two rows of `public.order_items` have the same key (sku) of \
                 `public.orders`; merge them before writing",
                ValidationKind::RepeatedKey,
            ),
            (
                "the patch of `public.orders` sets no column: nothing to update",
                ValidationKind::NoOperations,
            ),
            (
                "OrderPatchGraph: no operations to perform (no root column set, every child \
                 field None)",
                ValidationKind::NoOperations,
            ),
            (
                "a batch has more than 2^31 array elements",
                ValidationKind::TooManyElements,
            ),
            ("the upsert returned no row", ValidationKind::NoRowReturned),
            (
                "the graph statement returned no root",
                ValidationKind::NoRowReturned,
            ),
            ("something else entirely", ValidationKind::Other),
        ] {
            let error = Error::Validation(message.into());
            assert_eq!(error.validation_kind(), Some(kind), "{message}");
            assert_eq!(error.to_string(), format!("invalid write: {message}"));
            let owned: ValidationError = message.to_owned().into();
            assert_eq!(owned.kind(), kind, "{message}");
            assert_eq!(owned.message(), message);
        }
    }

    #[test]
    fn a_step_prefix_keeps_the_kind() {
        let error = crate::__private::missing("public.orders", "customer", "with_customer")
            .in_step("graph:root:orders");
        assert_eq!(error.validation_kind(), Some(ValidationKind::MissingValue));
        assert_eq!(
            error.to_string(),
            "invalid write: step `graph:root:orders`: `public.orders.customer` is required: set \
             it with `with_customer`"
        );
    }

    #[test]
    fn only_validation_errors_have_a_kind_and_none_is_a_db_violation() {
        let not_found = Error::not_found("public.orders");
        assert_eq!(not_found.validation_kind(), None);
        let validation = Error::Validation(ValidationError::new(
            ValidationKind::RepeatedKey,
            "two rows have the same key",
        ));
        for error in [&not_found, &validation] {
            assert!(!error.is_unique_violation());
            assert!(!error.is_foreign_key_violation());
            assert!(!error.is_not_null_violation());
            assert!(!error.is_check_violation());
            assert_eq!(error.constraint(), None);
        }
    }
}
