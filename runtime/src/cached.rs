//! A client that prepares each statement once per connection.
//!
//! Generated code sends statements with explicit parameter types (`query_typed`): one round
//! trip, but PostgreSQL parses and plans the statement every time. A graph statement is long,
//! and that costs more than the write itself when it has few rows. [`CachedClient`] prepares
//! each statement the first time it runs on its connection and afterwards only binds and
//! executes it, as the best hand-written code does.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use tokio_postgres::error::SqlState;
use tokio_postgres::types::{ToSql, Type};
use tokio_postgres::{Client, Row, Statement, Transaction};

use crate::GenericClient;

/// Statements prepared on one connection, by SQL text.
#[derive(Debug, Default)]
struct StatementCache {
    statements: Mutex<HashMap<String, Statement>>,
}

impl StatementCache {
    fn get(&self, sql: &str) -> Option<Statement> {
        self.statements
            .lock()
            .ok()
            .and_then(|map| map.get(sql).cloned())
    }

    fn insert(&self, sql: &str, statement: Statement) {
        if let Ok(mut map) = self.statements.lock() {
            map.insert(sql.to_owned(), statement);
        }
    }

    /// Forgets a statement the server no longer accepts (the schema changed under it).
    fn forget_if_stale(&self, sql: &str, error: &tokio_postgres::Error) {
        let stale = matches!(error.code(), Some(c) if *c == SqlState::FEATURE_NOT_SUPPORTED || *c == SqlState::INVALID_SQL_STATEMENT_NAME);
        if stale {
            if let Ok(mut map) = self.statements.lock() {
                map.remove(sql);
            }
        }
    }

    /// The prepared statement for `sql` with these parameter types, preparing it on first use.
    async fn statement<C: tokio_postgres::GenericClient + Sync>(
        &self,
        client: &C,
        sql: &str,
        params: &[(&(dyn ToSql + Sync), Type)],
    ) -> Result<Statement, tokio_postgres::Error> {
        if let Some(statement) = self.get(sql) {
            return Ok(statement);
        }
        let types: Vec<Type> = params.iter().map(|(_, ty)| ty.clone()).collect();
        let statement = client.prepare_typed(sql, &types).await?;
        self.insert(sql, statement.clone());
        Ok(statement)
    }
}

fn values<'a>(params: &'a [(&'a (dyn ToSql + Sync), Type)]) -> Vec<&'a (dyn ToSql + Sync)> {
    params.iter().map(|(value, _)| *value).collect()
}

/// A `tokio_postgres::Client` with a cache of prepared statements: every generated write on
/// it is one round trip that PostgreSQL neither parses nor plans again. Dereferences to the
/// client for everything else.
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
    /// Wraps a connected client.
    pub fn new(client: Client) -> Self {
        Self {
            client,
            cache: Arc::default(),
        }
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
        let statement = self.cache.statement(&self.client, sql, params).await?;
        let result = self.client.query(&statement, &values(params)).await;
        if let Err(error) = &result {
            self.cache.forget_if_stale(sql, error);
        }
        result
    }

    async fn execute_typed(
        &self,
        sql: &str,
        params: &[(&(dyn ToSql + Sync), Type)],
    ) -> Result<u64, tokio_postgres::Error> {
        let statement = self.cache.statement(&self.client, sql, params).await?;
        let result = self.client.execute(&statement, &values(params)).await;
        if let Err(error) = &result {
            self.cache.forget_if_stale(sql, error);
        }
        result
    }
}

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
        let statement = self.cache.statement(&self.transaction, sql, params).await?;
        let result = self.transaction.query(&statement, &values(params)).await;
        if let Err(error) = &result {
            self.cache.forget_if_stale(sql, error);
        }
        result
    }

    async fn execute_typed(
        &self,
        sql: &str,
        params: &[(&(dyn ToSql + Sync), Type)],
    ) -> Result<u64, tokio_postgres::Error> {
        let statement = self.cache.statement(&self.transaction, sql, params).await?;
        let result = self.transaction.execute(&statement, &values(params)).await;
        if let Err(error) = &result {
            self.cache.forget_if_stale(sql, error);
        }
        result
    }

    fn is_transaction(&self) -> bool {
        true
    }
}
