//! Pooled connections as clients: deadpool-postgres (feature `deadpool`) and bb8 (feature
//! `bb8`): what each offers. This module has no items to call; the pools' types implement
//! [`GenericClient`](crate::GenericClient) and the traits of locking writes.
//!
//! A connection taken from a pool is passed to generated code as it comes
//! (`OrderItem::find_by_id(&pool.get().await?, &id)`), and so is a transaction opened on it.
//! What each offers:
//!
//! | Pool | `&conn` (any write) | `&mut conn` (a graph that locks its root) | `&tx` of its transaction | Statements |
//! |---|---|---|---|---|
//! | deadpool-postgres | `Object` | `&mut Object` | `deadpool_postgres::Transaction` | prepared once per connection, in deadpool's own statement cache (`prepare_typed_cached`) |
//! | bb8 (bb8-postgres) | `PooledConnection` | `&mut PooledConnection` | `tokio_postgres::Transaction` | sent unprepared (`query_typed`), as on a plain `Client`: bb8-postgres has no statement cache |
//!
//! A graph that locks its root takes `&mut` of a pooled connection (it opens, pipelines and
//! commits a transaction of its own, and `&mut` keeps every other task's statements out of it)
//! or `&tx` of a transaction the caller opened on it, exactly as on a `tokio_postgres::Client`
//! ([`LockingClient`](crate::LockingClient)).
//!
//! With deadpool, a statement the server dropped (`DEALLOCATE ALL`, `DISCARD ALL`) or whose
//! result type changed is removed from deadpool's cache (every statement of the connection
//! after `DEALLOCATE ALL`), and outside a transaction the call is sent once more unnamed, as a
//! plain client sends it; so is a call whose prepare found the statement's name taken on the
//! server connection (42P05). The next call prepares the statement again. Behind a
//! transaction pooler (pgbouncer's `pool_mode = transaction`), where a statement prepared on
//! one server connection is missing on the next and another client's statement may hold its
//! name, this keeps writes on a pooled connection free of errors, at the cost of the failed
//! attempt. Inside a deadpool transaction the first error has aborted the transaction, so it
//! is returned, with nothing written and a message that names the pooler
//! ([`Error::is_lost_prepared_statement`](crate::Error::is_lost_prepared_statement)): unlike
//! [`CachedClient`](crate::CachedClient), deadpool's cache has no room to remember that it is
//! behind a pooler. Worse, the pooler's server connections outlive the application: after a
//! restart they still hold the previous process's statements under the names the new one
//! gives its own, and a name may find and run another statement
//! ([`Error::ForeignStatement`](crate::Error::ForeignStatement) when its result does not fit;
//! nothing can tell when it does). Behind a transaction pooler, use a plain client or a bb8
//! connection (statements unnamed), pgbouncer's `max_prepared_statements` (1.21 and later),
//! or session pooling.

#[cfg(feature = "deadpool")]
mod deadpool {
    use deadpool_postgres::StatementCache;
    use tokio_postgres::error::SqlState;
    use tokio_postgres::types::{ToSql, Type};
    use tokio_postgres::{Client, Error as PgError, Row, Statement};

    use crate::cached::{first_if_aborted, send_prepared_pipeline, values};
    use crate::client::{is_stale, LockedAnswers, PipelineTransaction};
    use crate::{GenericClient, SessionClient, TransactionClient};

    /// A connection of the pool with its statement cache, and whether a statement that the
    /// server did not run may be run again (outside a transaction).
    #[derive(Clone, Copy)]
    struct Cached<'a> {
        cache: &'a StatementCache,
        client: &'a Client,
        retry: bool,
    }

    fn types(params: &[(&(dyn ToSql + Sync), Type)]) -> Vec<Type> {
        params.iter().map(|(_, ty)| ty.clone()).collect()
    }

    impl Cached<'_> {
        /// The statement from deadpool's cache, prepared on first use.
        async fn statement(
            self,
            sql: &str,
            params: &[(&(dyn ToSql + Sync), Type)],
        ) -> Result<Statement, PgError> {
            self.cache
                .prepare_typed(self.client, sql, &types(params))
                .await
        }

        /// After an error that says the server did not run the statement as prepared:
        /// forgets every statement when one no longer exists (`DEALLOCATE ALL` and
        /// `DISCARD ALL` drop them all), else this one. True when it was such an error.
        fn forget_if_stale(
            self,
            sql: &str,
            params: &[(&(dyn ToSql + Sync), Type)],
            error: &PgError,
        ) -> bool {
            if !is_stale(error) {
                return false;
            }
            if error.code() == Some(&SqlState::INVALID_SQL_STATEMENT_NAME) {
                self.cache.clear();
            } else {
                drop(self.cache.remove(sql, &types(params)));
            }
            true
        }

        /// Sends the cached statement with `send`. When the server did not run it (a stale
        /// statement, or a name another client's statement holds on this server connection,
        /// which only a transaction pooler or a restarted process leaves), runs it once more
        /// unnamed with `unnamed` (when retrying is allowed): behind a pooler the next server
        /// connection may not have a statement prepared again either, and an unnamed one
        /// needs none. The next call prepares the statement again.
        async fn run<T, Fut, Unnamed>(
            self,
            sql: &str,
            params: &[(&(dyn ToSql + Sync), Type)],
            send: impl FnOnce(Statement) -> Fut,
            unnamed: impl FnOnce() -> Unnamed,
        ) -> Result<T, PgError>
        where
            Fut: std::future::Future<Output = Result<T, PgError>>,
            Unnamed: std::future::Future<Output = Result<T, PgError>>,
        {
            let statement = match self.statement(sql, params).await {
                Ok(statement) => statement,
                Err(error)
                    if self.retry && error.code() == Some(&SqlState::DUPLICATE_PSTATEMENT) =>
                {
                    return first_if_aborted(error, unnamed().await);
                }
                Err(error) => return Err(error),
            };
            match send(statement).await {
                Err(error) if self.forget_if_stale(sql, params, &error) && self.retry => {
                    first_if_aborted(error, unnamed().await)
                }
                result => result,
            }
        }

        async fn query(
            self,
            sql: &str,
            params: &[(&(dyn ToSql + Sync), Type)],
        ) -> Result<Vec<Row>, PgError> {
            let values = &values(params);
            self.run(
                sql,
                params,
                |statement| async move { self.client.query(&statement, values).await },
                || crate::client::query_unprepared(self.client, sql, params),
            )
            .await
        }

        async fn execute(
            self,
            sql: &str,
            params: &[(&(dyn ToSql + Sync), Type)],
        ) -> Result<u64, PgError> {
            let values = &values(params);
            self.run(
                sql,
                params,
                |statement| async move { self.client.execute(&statement, values).await },
                || crate::client::execute_unprepared(self.client, sql, params),
            )
            .await
        }

        /// Prepares the lock and the statement first, then pipelines them (with `BEGIN`
        /// and `COMMIT` in a transaction of its own). A stale statement is forgotten. In a
        /// transaction of its own, which then ran nothing, the whole transaction is sent
        /// once more unnamed, as a plain client sends it, and so is one whose prepare found
        /// the name taken: behind a transaction pooler, preparing again would meet the same.
        /// In the caller's transaction the error is returned (it aborted the transaction).
        async fn pipeline(
            self,
            transaction: PipelineTransaction,
            lock: &str,
            key: &[(&(dyn ToSql + Sync), Type)],
            sql: &str,
            params: &[(&(dyn ToSql + Sync), Type)],
        ) -> LockedAnswers {
            let prepared =
                futures_util::future::join(self.statement(lock, key), self.statement(sql, params))
                    .await;
            let own = transaction == PipelineTransaction::Own;
            let unnamed =
                || GenericClient::pipeline_locked(self.client, transaction, lock, key, sql, params);
            let (lock_statement, statement) = match prepared {
                (Ok(lock_statement), Ok(statement)) => (lock_statement, statement),
                // Nothing was sent but the prepares.
                (Err(error), _) | (_, Err(error)) => {
                    if own && error.code() == Some(&SqlState::DUPLICATE_PSTATEMENT) {
                        return unnamed().await;
                    }
                    return LockedAnswers::in_transaction(Err(error), Ok(Vec::new()));
                }
            };
            let answers = send_prepared_pipeline(
                self.client,
                transaction,
                (&lock_statement, key),
                (&statement, params),
            )
            .await;
            if let Err(error) = &answers.lock {
                self.forget_if_stale(lock, key, error);
            }
            if let Err(error) = &answers.rows {
                self.forget_if_stale(sql, params, error);
            }
            if own && answers.stale() && answers.begin.is_ok() && answers.commit.is_ok() {
                return unnamed().await;
            }
            answers
        }
    }

    /// A connection of a deadpool-postgres pool (`pool.get().await?`): every statement is
    /// prepared once per connection, in deadpool's statement cache, and then only bound and
    /// executed. `&mut` of it runs a graph that locks its root.
    impl GenericClient for deadpool_postgres::Object {
        async fn query_typed(
            &self,
            sql: &str,
            params: &[(&(dyn ToSql + Sync), Type)],
        ) -> Result<Vec<Row>, PgError> {
            cached(self).query(sql, params).await
        }

        async fn execute_typed(
            &self,
            sql: &str,
            params: &[(&(dyn ToSql + Sync), Type)],
        ) -> Result<u64, PgError> {
            cached(self).execute(sql, params).await
        }

        fn unnamed_client(&self) -> Option<&Client> {
            let wrapper: &deadpool_postgres::ClientWrapper = self;
            Some(wrapper)
        }

        async fn pipeline_locked(
            &self,
            transaction: PipelineTransaction,
            lock: &str,
            key: &[(&(dyn ToSql + Sync), Type)],
            sql: &str,
            params: &[(&(dyn ToSql + Sync), Type)],
        ) -> LockedAnswers {
            cached(self)
                .pipeline(transaction, lock, key, sql, params)
                .await
        }
    }

    fn cached(object: &deadpool_postgres::Object) -> Cached<'_> {
        let wrapper: &deadpool_postgres::ClientWrapper = object;
        Cached {
            cache: &wrapper.statement_cache,
            client: wrapper,
            retry: true,
        }
    }

    impl SessionClient for deadpool_postgres::Object {}

    /// A transaction of a deadpool-postgres connection (`object.transaction().await?`),
    /// sharing the connection's statement cache.
    impl GenericClient for deadpool_postgres::Transaction<'_> {
        fn is_transaction(&self) -> bool {
            true
        }

        async fn query_typed(
            &self,
            sql: &str,
            params: &[(&(dyn ToSql + Sync), Type)],
        ) -> Result<Vec<Row>, PgError> {
            cached_in_transaction(self).query(sql, params).await
        }

        async fn execute_typed(
            &self,
            sql: &str,
            params: &[(&(dyn ToSql + Sync), Type)],
        ) -> Result<u64, PgError> {
            cached_in_transaction(self).execute(sql, params).await
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
            cached_in_transaction(self)
                .pipeline(PipelineTransaction::Callers, lock, key, sql, params)
                .await
        }
    }

    fn cached_in_transaction<'a>(
        transaction: &'a deadpool_postgres::Transaction<'_>,
    ) -> Cached<'a> {
        Cached {
            cache: &transaction.statement_cache,
            client: transaction.client(),
            retry: false,
        }
    }

    impl TransactionClient for deadpool_postgres::Transaction<'_> {}
}

#[cfg(feature = "bb8")]
mod bb8 {
    use std::future::Future;

    use tokio_postgres::types::{ToSql, Type};
    use tokio_postgres::{Client, Error as PgError, Row};

    use crate::{GenericClient, LockedAnswers, PipelineTransaction, SessionClient};

    /// A connection of a bb8 pool whose manager makes `tokio_postgres::Client`s
    /// (bb8-postgres's `PostgresConnectionManager`, with any TLS): statements are sent as on
    /// the client (`query_typed`, unprepared), as bb8-postgres keeps no statement cache.
    /// `&mut` of it runs a graph that locks its root; its `transaction()` is a
    /// `tokio_postgres::Transaction`.
    impl<M> GenericClient for ::bb8::PooledConnection<'_, M>
    where
        M: ::bb8::ManageConnection<Connection = Client>,
    {
        fn query_typed(
            &self,
            sql: &str,
            params: &[(&(dyn ToSql + Sync), Type)],
        ) -> impl Future<Output = Result<Vec<Row>, PgError>> + Send {
            <Client as GenericClient>::query_typed(self, sql, params)
        }

        fn execute_typed(
            &self,
            sql: &str,
            params: &[(&(dyn ToSql + Sync), Type)],
        ) -> impl Future<Output = Result<u64, PgError>> + Send {
            <Client as GenericClient>::execute_typed(self, sql, params)
        }

        fn pipeline_locked(
            &self,
            transaction: PipelineTransaction,
            lock: &str,
            key: &[(&(dyn ToSql + Sync), Type)],
            sql: &str,
            params: &[(&(dyn ToSql + Sync), Type)],
        ) -> impl Future<Output = LockedAnswers> + Send {
            <Client as GenericClient>::pipeline_locked(self, transaction, lock, key, sql, params)
        }

        fn unnamed_client(&self) -> Option<&Client> {
            Some(self)
        }
    }

    impl<M> SessionClient for ::bb8::PooledConnection<'_, M> where
        M: ::bb8::ManageConnection<Connection = Client>
    {
    }
}
