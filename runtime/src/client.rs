//! What generated code runs its statements on.

use std::future::Future;

use tokio_postgres::types::{ToSql, Type};
use tokio_postgres::Row;

/// A connection or transaction that generated writes run on: implemented for
/// `tokio_postgres::Client` and `tokio_postgres::Transaction`, so every generated function
/// works both on its own and inside a caller's transaction.
///
/// Generated code sends every statement with explicit parameter types (`query_typed`), so
/// each statement is one round trip: no separate prepare.
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

    /// Statements already run inside a transaction (a `Transaction`), so a write that needs
    /// one (a lock held across two statements) does not start its own.
    fn is_transaction(&self) -> bool {
        false
    }
}

impl GenericClient for tokio_postgres::Client {
    fn query_typed(
        &self,
        sql: &str,
        params: &[(&(dyn ToSql + Sync), Type)],
    ) -> impl Future<Output = Result<Vec<Row>, tokio_postgres::Error>> + Send {
        tokio_postgres::Client::query_typed(self, sql, params)
    }

    fn execute_typed(
        &self,
        sql: &str,
        params: &[(&(dyn ToSql + Sync), Type)],
    ) -> impl Future<Output = Result<u64, tokio_postgres::Error>> + Send {
        tokio_postgres::Client::execute_typed(self, sql, params)
    }
}

impl GenericClient for tokio_postgres::Transaction<'_> {
    fn is_transaction(&self) -> bool {
        true
    }

    fn query_typed(
        &self,
        sql: &str,
        params: &[(&(dyn ToSql + Sync), Type)],
    ) -> impl Future<Output = Result<Vec<Row>, tokio_postgres::Error>> + Send {
        tokio_postgres::Transaction::query_typed(self, sql, params)
    }

    fn execute_typed(
        &self,
        sql: &str,
        params: &[(&(dyn ToSql + Sync), Type)],
    ) -> impl Future<Output = Result<u64, tokio_postgres::Error>> + Send {
        tokio_postgres::Transaction::execute_typed(self, sql, params)
    }
}

impl<C: GenericClient> GenericClient for &C {
    fn is_transaction(&self) -> bool {
        (**self).is_transaction()
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
}

/// Runs `body` in a transaction on `client`: commits when it returns `Ok`, rolls back when
/// it returns `Err` (or panics, when the transaction is dropped). The body gets the
/// transaction as `$tx` and may use `?`.
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
#[macro_export]
macro_rules! transaction {
    ($client:expr, |$tx:ident| $body:block) => {
        async {
            let $tx = $client.transaction().await.map_err($crate::Error::from)?;
            let outcome: $crate::Result<_> = async { $body }.await;
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
