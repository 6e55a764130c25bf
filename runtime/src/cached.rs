//! A client that prepares each statement once per connection.
//!
//! Generated code sends statements with explicit parameter types (`query_typed`): one round
//! trip, but PostgreSQL parses and plans the statement every time. A graph statement is long,
//! and that costs more than the write itself when it has few rows. [`CachedClient`] prepares
//! each statement the first time it runs on its connection and afterwards only binds and
//! executes it, as the best hand-written code does.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use tokio::sync::OnceCell;
use tokio_postgres::error::SqlState;
use tokio_postgres::types::{ToSql, Type};
use tokio_postgres::{Client, Row, Statement, Transaction};

use crate::client::{
    is_foreign, is_stale, LockedAnswers, PipelineTransaction, SessionClient, TransactionClient,
};
use crate::GenericClient;

/// How many statements a [`CachedClient`] keeps prepared unless told otherwise.
pub const DEFAULT_CAPACITY: usize = 256;

/// Statements prepared on one connection, by SQL text: at most `capacity`, the least
/// recently used one closed on the server when another needs its place.
#[derive(Debug)]
struct StatementCache {
    capacity: usize,
    state: Mutex<CacheState>,
    /// Statements prepared so far.
    prepared: AtomicU64,
    /// How many times the server was found to have dropped every statement (26000); a
    /// statement remembers the count it was prepared at.
    resets: AtomicU64,
    /// Set for good once the connection showed that it goes through a transaction pooler:
    /// from then on every statement is sent unnamed, as a plain client sends it.
    unnamed: AtomicBool,
}

#[derive(Debug, Default)]
struct CacheState {
    entries: HashMap<String, CacheEntry>,
    /// Counts uses; an entry's `last_used` is the count at its last use.
    clock: u64,
}

/// One statement: the cell is shared by every task that asks for it before it is prepared,
/// so that it is prepared once.
#[derive(Debug)]
struct CacheEntry {
    statement: Arc<OnceCell<(Statement, u64)>>,
    last_used: u64,
}

impl StatementCache {
    fn new(capacity: usize) -> Self {
        Self {
            capacity: capacity.max(1),
            state: Mutex::default(),
            prepared: AtomicU64::new(0),
            resets: AtomicU64::new(0),
            unnamed: AtomicBool::new(false),
        }
    }

    /// Statements go unnamed (a transaction pooler was noticed).
    fn is_unnamed(&self) -> bool {
        self.unnamed.load(Ordering::Relaxed)
    }

    /// A transaction pooler was noticed: forget every prepared statement and send every
    /// statement unnamed from now on.
    fn fall_back_to_unnamed(&self) {
        self.unnamed.store(true, Ordering::Relaxed);
        self.state().entries.clear();
    }

    /// Decides what an error of a prepared statement says about the connection. The server
    /// does not know a statement (26000) that this client prepared for this very call, or
    /// prepared after it last found every statement dropped: the statement was prepared on
    /// another server connection, behind a transaction pooler (pgbouncer's
    /// `pool_mode = transaction`), so fall back to unnamed statements. Otherwise a statement
    /// the server dropped (`DEALLOCATE ALL`, `DISCARD ALL`) or whose result type changed is
    /// forgotten, to be prepared again. A statement of that name that takes other parameters
    /// ([`is_foreign`]) was prepared by another client: a transaction pooler too.
    fn after_error(&self, sql: &str, error: &tokio_postgres::Error, prepared: Prepared) {
        if is_foreign(error) {
            self.fall_back_to_unnamed();
            return;
        }
        if error.code() != Some(&SqlState::INVALID_SQL_STATEMENT_NAME) {
            self.forget_if_stale(sql, error);
            return;
        }
        let resets = self.resets.load(Ordering::Relaxed);
        if prepared.fresh || (resets > 0 && prepared.resets == resets) {
            self.fall_back_to_unnamed();
        } else {
            self.resets.fetch_add(1, Ordering::Relaxed);
            self.forget_if_stale(sql, error);
        }
    }

    fn state(&self) -> MutexGuard<'_, CacheState> {
        // The state is consistent after every statement, so a panic elsewhere cannot leave
        // it half-changed.
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// The cell for `sql`, marked as just used; evicts the least recently used entry when
    /// the cache is over capacity. Dropping an evicted statement closes it on the server
    /// (once no running query uses it any more).
    fn cell(&self, sql: &str) -> Arc<OnceCell<(Statement, u64)>> {
        let mut state = self.state();
        state.clock += 1;
        let now = state.clock;
        let cell = match state.entries.get_mut(sql) {
            Some(entry) => {
                entry.last_used = now;
                Arc::clone(&entry.statement)
            }
            None => {
                let cell = Arc::new(OnceCell::new());
                state.entries.insert(
                    sql.to_owned(),
                    CacheEntry {
                        statement: Arc::clone(&cell),
                        last_used: now,
                    },
                );
                cell
            }
        };
        while state.entries.len() > self.capacity {
            let oldest = state
                .entries
                .iter()
                .min_by_key(|(_, entry)| entry.last_used)
                .map(|(sql, _)| sql.clone());
            match oldest {
                Some(oldest) => state.entries.remove(&oldest),
                None => break,
            };
        }
        cell
    }

    /// The prepared statement for `sql` with these parameter types, prepared on first use,
    /// and whether this call prepared it. `None` when statements go unnamed, also when the
    /// prepare showed a transaction pooler: a statement of that name already exists (42P05),
    /// left on the server connection by another client (another process counts its
    /// statement names from the same start). In a transaction (`in_transaction`) that
    /// failed prepare has aborted it, so it is returned instead: the statement sent unnamed
    /// would fail with 25P02 (`current transaction is aborted`), which does not say why.
    async fn statement<C: tokio_postgres::GenericClient + Sync>(
        &self,
        client: &C,
        in_transaction: bool,
        sql: &str,
        params: &[(&(dyn ToSql + Sync), Type)],
    ) -> Result<Option<(Statement, Prepared)>, tokio_postgres::Error> {
        if self.is_unnamed() {
            return Ok(None);
        }
        let cell = self.cell(sql);
        let fresh = AtomicBool::new(false);
        let prepared = cell
            .get_or_try_init(|| {
                let types: Vec<Type> = params.iter().map(|(_, ty)| ty.clone()).collect();
                self.prepared.fetch_add(1, Ordering::Relaxed);
                fresh.store(true, Ordering::Relaxed);
                let resets = self.resets.load(Ordering::Relaxed);
                async move {
                    let statement = client.prepare_typed(sql, &types).await?;
                    Ok::<_, tokio_postgres::Error>((statement, resets))
                }
            })
            .await;
        match prepared {
            Ok((statement, resets)) => Ok(Some((
                statement.clone(),
                Prepared {
                    fresh: fresh.into_inner(),
                    resets: *resets,
                },
            ))),
            Err(error) if error.code() == Some(&SqlState::DUPLICATE_PSTATEMENT) => {
                self.fall_back_to_unnamed();
                if in_transaction {
                    Err(error)
                } else {
                    Ok(None)
                }
            }
            Err(error) => Err(error),
        }
    }

    /// After an error that says the server no longer has a statement as prepared: forgets
    /// every statement when one no longer exists (`DEALLOCATE ALL` and `DISCARD ALL` drop
    /// them all), or this one when its result type changed.
    fn forget_if_stale(&self, sql: &str, error: &tokio_postgres::Error) {
        if !is_stale(error) {
            return;
        }
        let mut state = self.state();
        if error.code() == Some(&tokio_postgres::error::SqlState::INVALID_SQL_STATEMENT_NAME) {
            state.entries.clear();
        } else {
            state.entries.remove(sql);
        }
    }

    /// Statements in the cache (prepared, or being prepared).
    fn len(&self) -> usize {
        self.state().entries.len()
    }
}

/// When a cached statement was prepared, for [`StatementCache::after_error`].
#[derive(Debug, Clone, Copy)]
struct Prepared {
    /// By the call that runs it.
    fresh: bool,
    /// The count of resets then.
    resets: u64,
}

pub(crate) fn values<'a>(
    params: &'a [(&'a (dyn ToSql + Sync), Type)],
) -> Vec<&'a (dyn ToSql + Sync)> {
    params.iter().map(|(value, _)| *value).collect()
}

/// Runs a prepared statement with `run`, or the statement unnamed with `unnamed` once a
/// transaction pooler was noticed. After an error that says PostgreSQL did not run the
/// statement (it no longer had it, or its result type changed: both reported before running
/// anything), runs it once more, prepared again or unnamed. Only outside a transaction
/// (`retry`): in one, the error has aborted it.
async fn run_retrying<C, T, F, Fut, U, UFut>(
    cache: &StatementCache,
    client: &C,
    retry: bool,
    sql: &str,
    params: &[(&(dyn ToSql + Sync), Type)],
    run: F,
    unnamed: U,
) -> Result<T, tokio_postgres::Error>
where
    C: tokio_postgres::GenericClient + Sync,
    F: Fn(Statement) -> Fut,
    Fut: std::future::Future<Output = Result<T, tokio_postgres::Error>>,
    U: Fn() -> UFut,
    UFut: std::future::Future<Output = Result<T, tokio_postgres::Error>>,
{
    let Some((statement, fresh)) = cache.statement(client, !retry, sql, params).await? else {
        return unnamed().await;
    };
    match run(statement).await {
        Err(error) if is_stale(&error) => {
            cache.after_error(sql, &error, fresh);
            if !retry {
                return Err(error);
            }
            let again = async {
                let Some((statement, fresh)) = cache.statement(client, !retry, sql, params).await?
                else {
                    return unnamed().await;
                };
                match run(statement).await {
                    Err(error) if is_stale(&error) => {
                        cache.after_error(sql, &error, fresh);
                        if cache.is_unnamed() {
                            // Not run, twice: the second time it was prepared just before.
                            return unnamed().await;
                        }
                        Err(error)
                    }
                    result => result,
                }
            };
            first_if_aborted(error, again.await)
        }
        result => result,
    }
}

/// The answer of a statement run again after `first` said that the server did not run it,
/// or `first` when the run again found the transaction aborted (25P02): the client was in a
/// transaction the caller opened with SQL (`BEGIN`), which `first` aborted, and `first`
/// says why.
pub(crate) fn first_if_aborted<T>(
    first: tokio_postgres::Error,
    again: Result<T, tokio_postgres::Error>,
) -> Result<T, tokio_postgres::Error> {
    match again {
        Err(error) if error.code() == Some(&SqlState::IN_FAILED_SQL_TRANSACTION) => Err(first),
        again => again,
    }
}

/// [`run_retrying`] for a statement's rows.
async fn query_retrying<C: tokio_postgres::GenericClient + Sync>(
    cache: &StatementCache,
    client: &C,
    retry: bool,
    sql: &str,
    params: &[(&(dyn ToSql + Sync), Type)],
) -> Result<Vec<Row>, tokio_postgres::Error> {
    let run = |statement: Statement| async move { client.query(&statement, &values(params)).await };
    let unnamed = || crate::client::query_unprepared(client, sql, params);
    run_retrying(cache, client, retry, sql, params, run, unnamed).await
}

/// [`run_retrying`] for the number of rows changed.
async fn execute_retrying<C: tokio_postgres::GenericClient + Sync>(
    cache: &StatementCache,
    client: &C,
    retry: bool,
    sql: &str,
    params: &[(&(dyn ToSql + Sync), Type)],
) -> Result<u64, tokio_postgres::Error> {
    let run =
        |statement: Statement| async move { client.execute(&statement, &values(params)).await };
    let unnamed = || crate::client::execute_unprepared(client, sql, params);
    run_retrying(cache, client, retry, sql, params, run, unnamed).await
}

/// Prepares the lock and the statement first, then sends `BEGIN` (in a transaction of its
/// own), both prepared statements and `COMMIT` without waiting in between. `BEGIN` and
/// `COMMIT` go as simple queries, which the server cannot have dropped. Once a transaction
/// pooler was noticed, sends all of it unnamed, as a plain client does.
async fn pipeline_prepared<C>(
    cache: &StatementCache,
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
    let unnamed = || GenericClient::pipeline_locked(client, transaction, lock, key, sql, params);
    let in_transaction = transaction == PipelineTransaction::Callers;
    let prepared = futures_util::future::join(
        cache.statement(client, in_transaction, lock, key),
        cache.statement(client, in_transaction, sql, params),
    )
    .await;
    let ((lock_statement, lock_fresh), (statement, fresh)) = match prepared {
        (Ok(Some(lock_statement)), Ok(Some(statement))) => (lock_statement, statement),
        // Nothing was sent but the prepares.
        (Err(error), _) | (_, Err(error)) => {
            return LockedAnswers::in_transaction(Err(error), Ok(Vec::new()));
        }
        (Ok(None), _) | (_, Ok(None)) => return unnamed().await,
    };
    let answers = send_prepared_pipeline(
        client,
        transaction,
        (&lock_statement, key),
        (&statement, params),
    )
    .await;
    if let Err(error) = &answers.lock {
        cache.after_error(lock, error, lock_fresh);
    }
    if let Err(error) = &answers.rows {
        cache.after_error(sql, error, fresh);
    }
    answers
}

/// Sends `BEGIN` (in a transaction of its own), the prepared lock, the prepared statement and
/// `COMMIT` without waiting in between, and returns their answers. `BEGIN` and `COMMIT` go as
/// simple queries, which the server cannot have dropped.
pub(crate) async fn send_prepared_pipeline<C: tokio_postgres::GenericClient + Sync>(
    client: &C,
    transaction: PipelineTransaction,
    (lock, key): (&Statement, &[(&(dyn ToSql + Sync), Type)]),
    (statement, params): (&Statement, &[(&(dyn ToSql + Sync), Type)]),
) -> LockedAnswers {
    let (key, params) = (values(key), values(params));
    if transaction == PipelineTransaction::Own {
        let (begin, locked, rows, commit) = futures_util::future::join4(
            client.batch_execute("BEGIN"),
            client.execute(lock, &key),
            client.query(statement, &params),
            client.batch_execute("COMMIT"),
        )
        .await;
        LockedAnswers {
            begin,
            lock: locked,
            rows,
            commit,
        }
    } else {
        let (locked, rows) = futures_util::future::join(
            client.execute(lock, &key),
            client.query(statement, &params),
        )
        .await;
        LockedAnswers::in_transaction(locked, rows)
    }
}

/// A `tokio_postgres::Client` with a cache of prepared statements: every generated write on
/// it is one round trip that PostgreSQL neither parses nor plans again. Dereferences to the
/// client for everything else.
///
/// The cache keeps the [`DEFAULT_CAPACITY`] (256) most recently used statements, or as many
/// as [`with_capacity`](Self::with_capacity) says; an evicted statement is closed on the
/// server. Tasks that first use one statement at the same time prepare it once. A statement
/// the server dropped (`DEALLOCATE ALL`, `DISCARD ALL`, as poolers and connection resets do)
/// or whose result type changed is prepared again and retried once, outside a transaction,
/// because PostgreSQL reports both before running it; inside a transaction the error has
/// aborted the transaction and is returned.
///
/// Behind a transaction pooler (pgbouncer's `pool_mode = transaction`) a named statement lives
/// on one of the pooler's server connections and the next call may run on another. The client
/// notices (the server does not know a statement it had just prepared, 26000, or a statement
/// of that name already exists there, 42P05) and from then on sends every statement unnamed,
/// as a plain `Client` does ([`behind_transaction_pooler`](Self::behind_transaction_pooler));
/// the call that noticed is run again unnamed outside a transaction, and returns its error,
/// with nothing written, inside one. Two resets in a row on a direct connection look the same
/// and make it fall back too, which costs speed, not correctness. Until it notices, a name may
/// find a statement an earlier process left on a server connection that outlived it, and run
/// it ([`Error::ForeignStatement`](crate::Error::ForeignStatement)): behind a transaction
/// pooler, a plain `Client`, pgbouncer's `max_prepared_statements` (1.21 and later) or session
/// pooling is the safe choice.
///
/// ```no_run
/// # async fn example(client: tokio_postgres::Client) -> writegraph::Result<()> {
/// let mut client = writegraph::CachedClient::new(client);
/// let tx = client.transaction().await?;   // shares the cache
/// // ... generated writes on &tx ...
/// tx.commit().await?;
/// # Ok(()) }
/// ```
#[derive(Debug)]
pub struct CachedClient {
    client: Client,
    cache: Arc<StatementCache>,
}

impl CachedClient {
    /// Wraps a connected client, with a cache of [`DEFAULT_CAPACITY`] statements.
    pub fn new(client: Client) -> Self {
        Self::with_capacity(client, DEFAULT_CAPACITY)
    }

    /// Wraps a connected client, with a cache of at most `capacity` statements (at least 1).
    pub fn with_capacity(client: Client, capacity: usize) -> Self {
        Self {
            client,
            cache: Arc::new(StatementCache::new(capacity)),
        }
    }

    /// How many statements the cache holds now.
    pub fn cached_statements(&self) -> usize {
        self.cache.len()
    }

    /// How many statements this client (and its transactions) prepared so far: one per
    /// statement text, again after an eviction or after the server dropped it.
    pub fn prepared_statements(&self) -> u64 {
        self.cache.prepared.load(Ordering::Relaxed)
    }

    /// True once this client noticed that its connection goes through a transaction pooler
    /// (pgbouncer's `pool_mode = transaction`): a statement it had just prepared was unknown
    /// to the server connection it ran on, or its name was taken there by another client's.
    /// From then on it sends every statement unnamed, as a plain `Client` does.
    pub fn behind_transaction_pooler(&self) -> bool {
        self.cache.is_unnamed()
    }

    /// The wrapped client.
    pub fn client(&self) -> &Client {
        &self.client
    }

    /// Unwraps the client (its prepared statements stay prepared on the connection until it
    /// closes).
    pub fn into_inner(self) -> Client {
        self.client
    }

    /// Starts a transaction whose writes use this client's statement cache.
    pub async fn transaction(&mut self) -> Result<CachedTransaction<'_>, tokio_postgres::Error> {
        let transaction = self.client.transaction().await?;
        Ok(CachedTransaction {
            transaction,
            cache: Arc::clone(&self.cache),
        })
    }
}

impl std::ops::Deref for CachedClient {
    type Target = Client;

    fn deref(&self) -> &Client {
        &self.client
    }
}

impl GenericClient for CachedClient {
    async fn query_typed(
        &self,
        sql: &str,
        params: &[(&(dyn ToSql + Sync), Type)],
    ) -> Result<Vec<Row>, tokio_postgres::Error> {
        query_retrying(&self.cache, &self.client, true, sql, params).await
    }

    async fn execute_typed(
        &self,
        sql: &str,
        params: &[(&(dyn ToSql + Sync), Type)],
    ) -> Result<u64, tokio_postgres::Error> {
        execute_retrying(&self.cache, &self.client, true, sql, params).await
    }

    fn unnamed_client(&self) -> Option<&Client> {
        Some(&self.client)
    }

    async fn pipeline_locked(
        &self,
        transaction: PipelineTransaction,
        lock: &str,
        key: &[(&(dyn ToSql + Sync), Type)],
        sql: &str,
        params: &[(&(dyn ToSql + Sync), Type)],
    ) -> LockedAnswers {
        pipeline_prepared(
            &self.cache,
            &self.client,
            transaction,
            lock,
            key,
            sql,
            params,
        )
        .await
    }
}

impl SessionClient for CachedClient {}

/// A transaction of a [`CachedClient`], sharing its statement cache. Rolled back when dropped
/// without [`commit`](Self::commit).
pub struct CachedTransaction<'a> {
    transaction: Transaction<'a>,
    cache: Arc<StatementCache>,
}

impl std::fmt::Debug for CachedTransaction<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CachedTransaction")
            .field("cache", &self.cache)
            .finish_non_exhaustive()
    }
}

impl CachedTransaction<'_> {
    /// Commits the transaction.
    pub async fn commit(self) -> Result<(), tokio_postgres::Error> {
        self.transaction.commit().await
    }

    /// Rolls the transaction back.
    pub async fn rollback(self) -> Result<(), tokio_postgres::Error> {
        self.transaction.rollback().await
    }
}

impl<'a> std::ops::Deref for CachedTransaction<'a> {
    type Target = Transaction<'a>;

    fn deref(&self) -> &Transaction<'a> {
        &self.transaction
    }
}

impl GenericClient for CachedTransaction<'_> {
    async fn query_typed(
        &self,
        sql: &str,
        params: &[(&(dyn ToSql + Sync), Type)],
    ) -> Result<Vec<Row>, tokio_postgres::Error> {
        query_retrying(&self.cache, &self.transaction, false, sql, params).await
    }

    async fn execute_typed(
        &self,
        sql: &str,
        params: &[(&(dyn ToSql + Sync), Type)],
    ) -> Result<u64, tokio_postgres::Error> {
        execute_retrying(&self.cache, &self.transaction, false, sql, params).await
    }

    fn is_transaction(&self) -> bool {
        true
    }

    async fn pipeline_locked(
        &self,
        _transaction: PipelineTransaction,
        lock: &str,
        key: &[(&(dyn ToSql + Sync), Type)],
        sql: &str,
        params: &[(&(dyn ToSql + Sync), Type)],
    ) -> LockedAnswers {
        // A transaction is never the graph's own.
        pipeline_prepared(
            &self.cache,
            &self.transaction,
            PipelineTransaction::Callers,
            lock,
            key,
            sql,
            params,
        )
        .await
    }
}

impl TransactionClient for CachedTransaction<'_> {}
