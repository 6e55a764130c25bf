//! What generated code runs its statements on.

use std::future::Future;

use tokio_postgres::error::SqlState;
use tokio_postgres::types::{ToSql, Type};
use tokio_postgres::{Error as PgError, Row};

use crate::cached::{send_prepared_pipeline, values};
use crate::write::binds_server_type;

/// A connection or transaction that generated writes run on: implemented for
/// `tokio_postgres::Client` and `tokio_postgres::Transaction`, so every generated function
/// works both on its own and inside a caller's transaction.
///
/// Generated code sends every statement with explicit parameter types (`query_typed`), so
/// each statement is one round trip: no separate prepare. The exception is a statement that
/// binds a value of a type only the server knows ([`server_type`](crate::write::server_type),
/// `[types]` with `bind = "native"`): the implementations for tokio-postgres's clients
/// prepare it first, so that values are encoded for the type the server resolves.
pub trait GenericClient: Sync {
    /// Runs a statement and returns its rows.
    fn query_typed(
        &self,
        sql: &str,
        params: &[(&(dyn ToSql + Sync), Type)],
    ) -> impl Future<Output = Result<Vec<Row>, tokio_postgres::Error>> + Send;

    /// Runs a statement and returns the number of rows it changed.
    fn execute_typed(
        &self,
        sql: &str,
        params: &[(&(dyn ToSql + Sync), Type)],
    ) -> impl Future<Output = Result<u64, tokio_postgres::Error>> + Send;

    /// Statements already run inside a transaction (a `Transaction`).
    fn is_transaction(&self) -> bool {
        false
    }

    /// The connection's `tokio_postgres::Client`, on which the runtime sends its own probes
    /// (whether the caller opened a transaction) unnamed: a statement cache would name them,
    /// and behind a transaction pooler a name may find another client's statement. `None`
    /// (the default) sends them through [`query_typed`](Self::query_typed).
    fn unnamed_client(&self) -> Option<&tokio_postgres::Client> {
        None
    }

    /// Sends `lock` and then `sql`, between a `BEGIN` and a `COMMIT` for a transaction of its
    /// own,
    /// every statement before any answer is awaited, so PostgreSQL runs them in this order
    /// in one round trip, and, once sent, all of them run whatever happens to the future.
    /// Used by [`LockingClient`]; an implementation must not wait for anything between
    /// sending the first statement and the last (a client that prepares statements prepares
    /// them all first).
    ///
    /// The default sends through [`query_typed`](Self::query_typed) and
    /// [`execute_typed`](Self::execute_typed), which is right for clients whose futures send
    /// their statement when first polled (tokio-postgres's, and wrappers that delegate to
    /// them).
    fn pipeline_locked(
        &self,
        transaction: PipelineTransaction,
        lock: &str,
        key: &[(&(dyn ToSql + Sync), Type)],
        sql: &str,
        params: &[(&(dyn ToSql + Sync), Type)],
    ) -> impl Future<Output = LockedAnswers> + Send {
        pipeline_unprepared(self, transaction, lock, key, sql, params)
    }
}

/// [`GenericClient::pipeline_locked`]'s default: each statement through `client`'s
/// [`query_typed`](GenericClient::query_typed) and [`execute_typed`](GenericClient::execute_typed),
/// all polled together so that each is sent before any answer is awaited.
pub(crate) async fn pipeline_unprepared<C: GenericClient + ?Sized>(
    client: &C,
    transaction: PipelineTransaction,
    lock: &str,
    key: &[(&(dyn ToSql + Sync), Type)],
    sql: &str,
    params: &[(&(dyn ToSql + Sync), Type)],
) -> LockedAnswers {
    if transaction == PipelineTransaction::Callers {
        let (lock, rows) = futures_util::future::join(
            client.execute_typed(lock, key),
            client.query_typed(sql, params),
        )
        .await;
        return LockedAnswers::in_transaction(lock, rows);
    }
    let (begin, lock, rows, commit) = futures_util::future::join4(
        client.execute_typed("BEGIN", &[]),
        client.execute_typed(lock, key),
        client.query_typed(sql, params),
        client.execute_typed("COMMIT", &[]),
    )
    .await;
    LockedAnswers {
        begin: begin.map(drop),
        lock,
        rows,
        commit: commit.map(drop),
    }
}

/// A statement that binds a value of a type only the server knows
/// ([`server_type`](crate::write::server_type)), on a tokio-postgres client that sends it
/// unprepared otherwise: prepared first (one more round trip), then run with the types the
/// server resolved, which each value's `ToSql` checks and encodes for.
pub(crate) async fn query_server_typed<C: tokio_postgres::GenericClient + Sync>(
    client: &C,
    sql: &str,
    params: &[(&(dyn ToSql + Sync), Type)],
) -> Result<Vec<Row>, PgError> {
    let statement = client.prepare_typed(sql, &declared_types(params)).await?;
    client.query(&statement, &values(params)).await
}

/// [`query_server_typed`] for the number of rows changed.
pub(crate) async fn execute_server_typed<C: tokio_postgres::GenericClient + Sync>(
    client: &C,
    sql: &str,
    params: &[(&(dyn ToSql + Sync), Type)],
) -> Result<u64, PgError> {
    let statement = client.prepare_typed(sql, &declared_types(params)).await?;
    client.execute(&statement, &values(params)).await
}

/// `sql` on `client` unprepared (`query_typed`), or prepared first when it binds a value of a
/// type only the server knows ([`query_server_typed`]).
pub(crate) async fn query_unprepared<C: tokio_postgres::GenericClient + Sync>(
    client: &C,
    sql: &str,
    params: &[(&(dyn ToSql + Sync), Type)],
) -> Result<Vec<Row>, PgError> {
    if binds_server_type(params) {
        return query_server_typed(client, sql, params).await;
    }
    client.query_typed(sql, params).await
}

/// [`query_unprepared`] for the number of rows changed.
pub(crate) async fn execute_unprepared<C: tokio_postgres::GenericClient + Sync>(
    client: &C,
    sql: &str,
    params: &[(&(dyn ToSql + Sync), Type)],
) -> Result<u64, PgError> {
    if binds_server_type(params) {
        return execute_server_typed(client, sql, params).await;
    }
    client.execute_typed(sql, params).await
}

/// [`pipeline_unprepared`] on a tokio-postgres client, except for a lock or statement that
/// binds a value of a type only the server knows: then both are prepared first (nothing else
/// is sent before they are), and the prepared statements are pipelined.
async fn pipeline_on<C>(
    client: &C,
    transaction: PipelineTransaction,
    lock: &str,
    key: &[(&(dyn ToSql + Sync), Type)],
    sql: &str,
    params: &[(&(dyn ToSql + Sync), Type)],
) -> LockedAnswers
where
    C: tokio_postgres::GenericClient + GenericClient + Sync,
{
    if !(binds_server_type(key) || binds_server_type(params)) {
        return pipeline_unprepared(client, transaction, lock, key, sql, params).await;
    }
    let prepared = futures_util::future::join(
        tokio_postgres::GenericClient::prepare_typed(client, lock, &declared_types(key)),
        tokio_postgres::GenericClient::prepare_typed(client, sql, &declared_types(params)),
    )
    .await;
    match prepared {
        (Ok(lock), Ok(statement)) => {
            send_prepared_pipeline(client, transaction, (&lock, key), (&statement, params)).await
        }
        // Nothing was sent but the prepares.
        (Err(error), _) | (_, Err(error)) => {
            LockedAnswers::in_transaction(Err(error), Ok(Vec::new()))
        }
    }
}

/// The types `params` are declared as.
fn declared_types(params: &[(&(dyn ToSql + Sync), Type)]) -> Vec<Type> {
    params.iter().map(|(_, ty)| ty.clone()).collect()
}

/// Whose transaction [`GenericClient::pipeline_locked`] runs in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PipelineTransaction {
    /// One of its own: `BEGIN` first and `COMMIT` last, in the same pipeline.
    Own,
    /// The one already open, which the caller ends.
    Callers,
}

/// The answers of [`GenericClient::pipeline_locked`], one per statement sent (`Ok` for the
/// ones not sent).
#[derive(Debug)]
pub struct LockedAnswers {
    /// `BEGIN`.
    pub begin: Result<(), PgError>,
    /// The lock.
    pub lock: Result<u64, PgError>,
    /// The statement.
    pub rows: Result<Vec<Row>, PgError>,
    /// `COMMIT` (which rolls back when an earlier statement failed).
    pub commit: Result<(), PgError>,
}

impl LockedAnswers {
    /// The answers of the lock and the statement in a transaction already open.
    pub fn in_transaction(lock: Result<u64, PgError>, rows: Result<Vec<Row>, PgError>) -> Self {
        Self {
            begin: Ok(()),
            lock,
            rows,
            commit: Ok(()),
        }
    }

    /// The rows, or the first error in the order the statements ran.
    fn into_rows(self) -> Result<Vec<Row>, PgError> {
        self.begin?;
        self.lock?;
        let rows = self.rows?;
        self.commit?;
        Ok(rows)
    }

    /// The lock or the statement failed because the server no longer had the prepared
    /// statement as it was prepared (`DEALLOCATE ALL`, `DISCARD ALL`, a changed result type):
    /// PostgreSQL did not run it.
    pub(crate) fn stale(&self) -> bool {
        matches!(&self.lock, Err(e) if is_stale(e)) || matches!(&self.rows, Err(e) if is_stale(e))
    }
}

/// The error says that PostgreSQL refused a prepared statement before running it: it no
/// longer exists (26000, after `DEALLOCATE ALL` or `DISCARD ALL`), its result type changed
/// since it was prepared (0A000 from the plan cache's revalidation), or the statement of that
/// name on this server connection takes other parameters ([`is_foreign`]).
pub(crate) fn is_stale(error: &PgError) -> bool {
    let Some(db) = error.as_db_error() else {
        return false;
    };
    *db.code() == SqlState::INVALID_SQL_STATEMENT_NAME
        || (*db.code() == SqlState::FEATURE_NOT_SUPPORTED
            && db.routine() == Some("RevalidateCachedQuery"))
        || is_foreign(error)
}

/// PostgreSQL refused the parameters of a named statement while binding them, before running
/// anything (a count or a binary format that does not fit, 08P01 or 22P03): the statement of
/// that name on this server connection is not the one this client prepared, which happens only
/// behind a transaction pooler that hands out server connections where another client
/// prepared statements under the same names.
pub(crate) fn is_foreign(error: &PgError) -> bool {
    error
        .as_db_error()
        .is_some_and(|db| db.routine() == Some("exec_bind_message"))
}

/// A transaction the caller opened (`tokio_postgres::Transaction`, [`CachedTransaction`]):
/// a graph that locks its root runs its lock and its statement in it, and the lock is held
/// until the caller commits or rolls back. Generated code never ends it.
///
/// [`CachedTransaction`]: crate::CachedTransaction
pub trait TransactionClient: GenericClient {}

/// A whole connection (`tokio_postgres::Client`, [`CachedClient`]), on which a graph that
/// locks its root opens a transaction of its own. Such graphs take it as `&mut`, so that no
/// other task can send a statement into that transaction.
///
/// [`CachedClient`]: crate::CachedClient
pub trait SessionClient: GenericClient {}

impl TransactionClient for tokio_postgres::Transaction<'_> {}
impl<T: TransactionClient> TransactionClient for &T {}
impl SessionClient for tokio_postgres::Client {}

/// What a graph that locks its root (`lock_root = true`) runs on: `&` of a transaction
/// ([`TransactionClient`]), or `&mut` of a client ([`SessionClient`]).
///
/// The lock must be held until the graph's statement is done, so both run in one
/// transaction. On a transaction the caller opened, they run in it and the caller ends it. On
/// `&mut` of a client the graph opens a transaction and commits it (or rolls it back on an
/// error) in the same round trip; `&mut` keeps every other task's statements out of it. A
/// shared `&Client` does not compile: another task's statement could run inside the graph's
/// transaction, or the graph's `COMMIT` inside the other task's. When the client is already
/// inside a transaction that the caller opened with SQL (`batch_execute("BEGIN")`), the graph
/// finds out first (one more round trip, a setting local to the transaction) and runs in it
/// like in a `Transaction`: generated code never commits or rolls back a transaction it did
/// not open.
pub trait LockingClient: Send {
    /// Runs `lock` (`SELECT ... FOR UPDATE`) and then `sql` in one transaction, and returns
    /// `sql`'s rows. On a [`SessionClient`], a statement the server dropped (`DEALLOCATE ALL`)
    /// is prepared again and the transaction retried, as nothing of it was written (twice at
    /// most: the second time behind a transaction pooler, with unnamed statements).
    fn lock_then_query(
        self,
        lock: &str,
        key: &[(&(dyn ToSql + Sync), Type)],
        sql: &str,
        params: &[(&(dyn ToSql + Sync), Type)],
    ) -> impl Future<Output = Result<Vec<Row>, PgError>> + Send;
}

impl<T: TransactionClient> LockingClient for &T {
    async fn lock_then_query(
        self,
        lock: &str,
        key: &[(&(dyn ToSql + Sync), Type)],
        sql: &str,
        params: &[(&(dyn ToSql + Sync), Type)],
    ) -> Result<Vec<Row>, PgError> {
        self.pipeline_locked(PipelineTransaction::Callers, lock, key, sql, params)
            .await
            .into_rows()
    }
}

/// Marks the transaction the probe runs in; it ends with that transaction.
const MARK_TRANSACTION: &str = "SELECT set_config('writegraph.open_transaction', 'on', true)";

/// True when the mark of [`MARK_TRANSACTION`], sent just before, is still set: both ran in
/// one transaction, which the caller opened.
const READ_TRANSACTION_MARK: &str =
    "SELECT coalesce(current_setting('writegraph.open_transaction', true) = 'on', false)";

/// Whether `conn` is inside a transaction its caller opened with SQL (`BEGIN`): one round
/// trip that marks the transaction it runs in and reads the mark back.
pub(crate) async fn in_callers_transaction<C: GenericClient + ?Sized>(
    conn: &C,
) -> Result<bool, PgError> {
    let (marked, read) = futures_util::future::join(
        conn.execute_typed(MARK_TRANSACTION, &[]),
        conn.query_typed(READ_TRANSACTION_MARK, &[]),
    )
    .await;
    marked?;
    match read?.first() {
        Some(row) => row.try_get::<_, bool>(0),
        None => Ok(false),
    }
}

impl<C: SessionClient + Send> LockingClient for &mut C {
    async fn lock_then_query(
        self,
        lock: &str,
        key: &[(&(dyn ToSql + Sync), Type)],
        sql: &str,
        params: &[(&(dyn ToSql + Sync), Type)],
    ) -> Result<Vec<Row>, PgError> {
        let conn: &C = self;
        let (marked, read) = match conn.unnamed_client() {
            Some(client) => {
                futures_util::future::join(
                    client.execute_typed(MARK_TRANSACTION, &[]),
                    client.query_typed(READ_TRANSACTION_MARK, &[]),
                )
                .await
            }
            None => {
                futures_util::future::join(
                    conn.execute_typed(MARK_TRANSACTION, &[]),
                    conn.query_typed(READ_TRANSACTION_MARK, &[]),
                )
                .await
            }
        };
        marked?;
        let in_callers_transaction = match read?.first() {
            Some(row) => row.try_get::<_, bool>(0)?,
            None => false,
        };
        if in_callers_transaction {
            return conn
                .pipeline_locked(PipelineTransaction::Callers, lock, key, sql, params)
                .await
                .into_rows();
        }
        // A stale statement: the transaction rolled back without running it, so it is run
        // again. Twice at most: a `CachedClient` prepares it again after the first, and falls
        // back to unnamed statements when the one it just prepared is stale too (behind a
        // transaction pooler).
        let mut answers = conn
            .pipeline_locked(PipelineTransaction::Own, lock, key, sql, params)
            .await;
        for _ in 0..2 {
            if !(answers.stale() && answers.begin.is_ok() && answers.commit.is_ok()) {
                break;
            }
            answers = conn
                .pipeline_locked(PipelineTransaction::Own, lock, key, sql, params)
                .await;
        }
        answers.into_rows()
    }
}

/// The statement methods of [`GenericClient`] for one of tokio-postgres's clients (`$ty`):
/// sent unprepared with their declared types (`$ty::query_typed`) in one round trip, or, when
/// they bind a type only the server knows, prepared first ([`query_server_typed`]); a lock
/// and a statement pipelined ([`pipeline_on`]).
macro_rules! tokio_postgres_statements {
    ($ty:ty) => {
        async fn query_typed(
            &self,
            sql: &str,
            params: &[(&(dyn ToSql + Sync), Type)],
        ) -> Result<Vec<Row>, tokio_postgres::Error> {
            if binds_server_type(params) {
                return query_server_typed(self, sql, params).await;
            }
            <$ty>::query_typed(self, sql, params).await
        }

        async fn execute_typed(
            &self,
            sql: &str,
            params: &[(&(dyn ToSql + Sync), Type)],
        ) -> Result<u64, tokio_postgres::Error> {
            if binds_server_type(params) {
                return execute_server_typed(self, sql, params).await;
            }
            <$ty>::execute_typed(self, sql, params).await
        }

        fn pipeline_locked(
            &self,
            transaction: PipelineTransaction,
            lock: &str,
            key: &[(&(dyn ToSql + Sync), Type)],
            sql: &str,
            params: &[(&(dyn ToSql + Sync), Type)],
        ) -> impl Future<Output = LockedAnswers> + Send {
            pipeline_on(self, transaction, lock, key, sql, params)
        }
    };
}

impl GenericClient for tokio_postgres::Client {
    tokio_postgres_statements!(tokio_postgres::Client);

    fn unnamed_client(&self) -> Option<&tokio_postgres::Client> {
        Some(self)
    }
}

impl GenericClient for tokio_postgres::Transaction<'_> {
    fn is_transaction(&self) -> bool {
        true
    }

    tokio_postgres_statements!(tokio_postgres::Transaction<'_>);
}

impl<C: GenericClient> GenericClient for &C {
    fn is_transaction(&self) -> bool {
        (**self).is_transaction()
    }

    fn unnamed_client(&self) -> Option<&tokio_postgres::Client> {
        (**self).unnamed_client()
    }

    fn query_typed(
        &self,
        sql: &str,
        params: &[(&(dyn ToSql + Sync), Type)],
    ) -> impl Future<Output = Result<Vec<Row>, tokio_postgres::Error>> + Send {
        (**self).query_typed(sql, params)
    }

    fn execute_typed(
        &self,
        sql: &str,
        params: &[(&(dyn ToSql + Sync), Type)],
    ) -> impl Future<Output = Result<u64, tokio_postgres::Error>> + Send {
        (**self).execute_typed(sql, params)
    }

    fn pipeline_locked(
        &self,
        transaction: PipelineTransaction,
        lock: &str,
        key: &[(&(dyn ToSql + Sync), Type)],
        sql: &str,
        params: &[(&(dyn ToSql + Sync), Type)],
    ) -> impl Future<Output = LockedAnswers> + Send {
        (**self).pipeline_locked(transaction, lock, key, sql, params)
    }
}

/// Runs `body` in a transaction on `client`: commits when it returns `Ok`, rolls back when
/// it returns `Err` (or panics, when the transaction is dropped). The body gets the
/// transaction as `$tx` and may use `?`.
///
/// Written `|tx| { .. }`, the body returns [`writegraph::Result`](crate::Result):
///
/// ```no_run
/// # async fn example(client: &mut tokio_postgres::Client) -> writegraph::Result<()> {
/// let count = writegraph::transaction!(client, |tx| {
///     let rows = tx.execute("DELETE FROM audit_logs", &[]).await?;
///     Ok(rows)
/// })
/// .await?;
/// # Ok(()) }
/// ```
///
/// Written `|tx| -> Result<T, E> { .. }`, the body returns the result type given, whose error
/// type `E` is any type with `From<writegraph::Error>` (an application's own error enum,
/// `anyhow::Error`, `Box<dyn Error>`). A failure to open or commit the transaction reaches
/// the caller as `E::from(writegraph::Error::Db { .. })`, and `?` inside the body converts
/// as it does anywhere:
///
/// ```no_run
/// #[derive(Debug)]
/// enum AppError {
///     Db(writegraph::Error),
///     OutOfStock,
/// }
///
/// impl From<writegraph::Error> for AppError {
///     fn from(error: writegraph::Error) -> Self {
///         AppError::Db(error)
///     }
/// }
///
/// impl From<tokio_postgres::Error> for AppError {
///     fn from(error: tokio_postgres::Error) -> Self {
///         AppError::Db(error.into())
///     }
/// }
///
/// # async fn example(client: &mut tokio_postgres::Client) -> Result<(), AppError> {
/// let left = writegraph::transaction!(client, |tx| -> Result<i64, AppError> {
///     let row = tx.query_one("SELECT 0::int8", &[]).await?;
///     let left: i64 = row.get(0);
///     if left <= 0 {
///         return Err(AppError::OutOfStock);
///     }
///     Ok(left)
/// })
/// .await?;
/// # Ok(()) }
/// ```
#[macro_export]
macro_rules! transaction {
    ($client:expr, |$tx:ident| $body:block) => {
        $crate::transaction!($client, |$tx| -> $crate::Result<_> $body)
    };
    ($client:expr, |$tx:ident| -> $result:ty $body:block) => {
        async {
            let $tx = $client.transaction().await.map_err($crate::Error::from)?;
            let outcome: $result = async { $body }.await;
            match outcome {
                Ok(value) => {
                    $tx.commit().await.map_err($crate::Error::from)?;
                    Ok(value)
                }
                Err(error) => {
                    // The error that made us roll back matters more than a failed rollback.
                    let _ = $tx.rollback().await;
                    Err(error)
                }
            }
        }
    };
}
