//! Inserting and upserting rows of one table, in one statement whatever their number.

use std::future::Future;
use std::hash::Hash;

use super::limit::{counted, statement_error, Writes};
use super::{check_unique, Param, RepeatedKey};
use crate::{Error, FromRow, GenericClient, Result};

/// The error of an insert of `rows` rows of `T`'s table: [`ValidationKind::TooLarge`]
/// when its values were refused as too large, else [`Error::Db`].
///
/// [`ValidationKind::TooLarge`]: crate::ValidationKind::TooLarge
fn rows_error<T: Insert>(error: tokio_postgres::Error, rows: usize) -> Error {
    statement_error(
        error,
        Writes::Batch {
            writer: &format!("`{}`", T::TABLE),
            count: rows,
            noun: "rows",
        },
    )
}

/// A row to insert (`NewOrderItem`). Rows travel as one array per column
/// ([`Columns`](Self::Columns)), so a batch is one statement and its text does not depend on
/// the number of rows. Generated code supplies the statements, the split into columns and
/// the binding of the columns.
pub trait Insert: Sized + Send {
    /// The row as stored, read back by the `*_returning` methods.
    type Stored: FromRow + Send;
    /// One vector per column: the rows split by [`columns`](Self::columns).
    type Columns: Send + Sync;

    /// The table, unquoted, as errors name it (`public.order_items`).
    const TABLE: &'static str;
    /// `INSERT INTO <table> (..) SELECT .. FROM UNNEST($1::<type>[], ..) WITH ORDINALITY ..`.
    const INSERT_SQL: &'static str;
    /// [`INSERT_SQL`](Self::INSERT_SQL) with `RETURNING <every column>`.
    const INSERT_RETURNING_SQL: &'static str;

    /// Splits rows into columns, checking each row's text values and required values,
    /// except those of the columns (by index) in `filled`, which a graph step fills; drops
    /// the trailing unset values of optional columns (UNNEST pads a shorter array with NULL).
    fn columns(rows: Vec<Self>, filled: &[usize]) -> Result<Self::Columns>;

    /// The statement's parameters, in `$n` order: each column vector, borrowed.
    fn bind(columns: &Self::Columns) -> impl AsRef<[Param<'_>]> + Send;

    /// Inserts this row (unset columns take their DEFAULT): one statement,
    /// [`INSERT_SQL`](Self::INSERT_SQL).
    fn insert<C: GenericClient>(self, conn: &C) -> impl Future<Output = Result<u64>> + Send {
        Self::insert_many(conn, vec![self])
    }

    /// Inserts this row and returns it as stored
    /// ([`INSERT_RETURNING_SQL`](Self::INSERT_RETURNING_SQL)).
    fn insert_returning<C: GenericClient>(
        self,
        conn: &C,
    ) -> impl Future<Output = Result<Self::Stored>> + Send {
        async move {
            let mut rows = Self::insert_many_returning(conn, vec![self]).await?;
            rows.pop()
                .ok_or_else(|| Error::Validation("the insert returned no row".into()))
        }
    }

    /// Inserts many rows in one statement ([`INSERT_SQL`](Self::INSERT_SQL)), one array per
    /// column, whatever their number, and returns the number inserted. No rows: no
    /// statement, `Ok(0)`.
    fn insert_many<C: GenericClient>(
        conn: &C,
        rows: Vec<Self>,
    ) -> impl Future<Output = Result<u64>> + Send {
        crate::trace::table(Self::TABLE, "insert", "INSERT_SQL", async move {
            if rows.is_empty() {
                return Ok(0);
            }
            let count = rows.len();
            let columns = Self::columns(rows, &[])?;
            let params = Self::bind(&columns);
            counted!(let params = params.as_ref());
            conn.execute_typed(Self::INSERT_SQL, &params)
                .await
                .map_err(|e| rows_error::<Self>(e, count))
        })
    }

    /// Inserts many rows in one statement and returns them as stored, in input order
    /// ([`INSERT_RETURNING_SQL`](Self::INSERT_RETURNING_SQL)).
    fn insert_many_returning<C: GenericClient>(
        conn: &C,
        rows: Vec<Self>,
    ) -> impl Future<Output = Result<Vec<Self::Stored>>> + Send {
        crate::trace::table(Self::TABLE, "insert", "INSERT_RETURNING_SQL", async move {
            if rows.is_empty() {
                return Ok(Vec::new());
            }
            let count = rows.len();
            let columns = Self::columns(rows, &[])?;
            let params = Self::bind(&columns);
            counted!(let params = params.as_ref());
            let rows = conn
                .query_typed(Self::INSERT_RETURNING_SQL, &params)
                .await
                .map_err(|e| rows_error::<Self>(e, count))?;
            rows.iter().map(Self::Stored::from_row).collect()
        })
    }
}

/// A row to insert into a table with a conflict target: inserted, or the row with the same
/// conflict key updated (`INSERT .. ON CONFLICT (..) DO UPDATE`, the `upsert` methods) or
/// left as it is (`INSERT .. ON CONFLICT (..) DO NOTHING`, the `insert_ignore` methods).
pub trait Upsert: Insert {
    /// A row's conflict key, borrowed from the row (`(&i64, &String)`).
    type ConflictKey<'a>: Hash + Eq
    where
        Self: 'a;

    /// The conflict target's columns, as errors name them.
    const CONFLICT_COLUMNS: &'static [&'static str];
    /// [`Insert::INSERT_SQL`] with its `ON CONFLICT (..) DO UPDATE SET ..` tail.
    const UPSERT_SQL: &'static str;
    /// [`UPSERT_SQL`](Self::UPSERT_SQL) with `RETURNING <every column>`.
    const UPSERT_RETURNING_SQL: &'static str;
    /// [`Insert::INSERT_SQL`] with its `ON CONFLICT (..) DO NOTHING` tail, on the conflict
    /// target of [`UPSERT_SQL`](Self::UPSERT_SQL).
    const INSERT_IGNORE_SQL: &'static str;
    /// [`INSERT_IGNORE_SQL`](Self::INSERT_IGNORE_SQL) with `RETURNING <every column>`: the
    /// rows it inserted, none for the rows it skipped.
    const INSERT_IGNORE_RETURNING_SQL: &'static str;

    /// The row's conflict key, or `None` when a part of it is unset (the row takes a
    /// DEFAULT there and cannot collide with another row of the batch).
    fn conflict_key(&self) -> Option<Self::ConflictKey<'_>>;

    /// Inserts this row, or updates the row with the same conflict key
    /// ([`UPSERT_SQL`](Self::UPSERT_SQL)).
    fn upsert<C: GenericClient>(self, conn: &C) -> impl Future<Output = Result<u64>> + Send {
        Self::upsert_many(conn, vec![self])
    }

    /// Inserts or updates this row and returns it as stored
    /// ([`UPSERT_RETURNING_SQL`](Self::UPSERT_RETURNING_SQL)).
    fn upsert_returning<C: GenericClient>(
        self,
        conn: &C,
    ) -> impl Future<Output = Result<Self::Stored>> + Send {
        crate::trace::table(Self::TABLE, "upsert", "UPSERT_RETURNING_SQL", async move {
            let columns = Self::columns(vec![self], &[])?;
            let params = Self::bind(&columns);
            counted!(let params = params.as_ref());
            let rows = conn
                .query_typed(Self::UPSERT_RETURNING_SQL, &params)
                .await
                .map_err(|e| rows_error::<Self>(e, 1))?;
            match rows.first() {
                Some(row) => Self::Stored::from_row(row),
                None => Err(Error::Validation("the upsert returned no row".into())),
            }
        })
    }

    /// Inserts or updates many rows in one statement ([`UPSERT_SQL`](Self::UPSERT_SQL)).
    /// Two rows with the same conflict key are [`ValidationKind::RepeatedKey`], before
    /// anything is sent: PostgreSQL cannot update one row twice in a statement.
    ///
    /// [`ValidationKind::RepeatedKey`]: crate::ValidationKind::RepeatedKey
    fn upsert_many<C: GenericClient>(
        conn: &C,
        rows: Vec<Self>,
    ) -> impl Future<Output = Result<u64>> + Send {
        crate::trace::table(Self::TABLE, "upsert", "UPSERT_SQL", async move {
            if rows.is_empty() {
                return Ok(0);
            }
            check_unique(
                &rows,
                Self::conflict_key,
                RepeatedKey::Upsert {
                    table: Self::TABLE,
                    columns: Self::CONFLICT_COLUMNS,
                },
            )?;
            let count = rows.len();
            let columns = Self::columns(rows, &[])?;
            let params = Self::bind(&columns);
            counted!(let params = params.as_ref());
            conn.execute_typed(Self::UPSERT_SQL, &params)
                .await
                .map_err(|e| rows_error::<Self>(e, count))
        })
    }

    /// Inserts this row unless a row with its conflict key is stored
    /// ([`INSERT_IGNORE_SQL`](Self::INSERT_IGNORE_SQL)): 1 when it was inserted, 0 when it
    /// was skipped. The stored row is left as it is.
    fn insert_ignore<C: GenericClient>(self, conn: &C) -> impl Future<Output = Result<u64>> + Send {
        Self::insert_many_ignore(conn, vec![self])
    }

    /// Inserts this row unless a row with its conflict key is stored, and returns it as
    /// stored when it was inserted, `None` when it was skipped
    /// ([`INSERT_IGNORE_RETURNING_SQL`](Self::INSERT_IGNORE_RETURNING_SQL)).
    ///
    /// The stored row that made it skip is not returned: `DO NOTHING` returns no row for a
    /// row it skips, since it neither reads nor locks the stored one.
    /// [`upsert_returning`](Self::upsert_returning) returns the stored row, updated.
    fn insert_ignore_returning<C: GenericClient>(
        self,
        conn: &C,
    ) -> impl Future<Output = Result<Option<Self::Stored>>> + Send {
        crate::trace::table(
            Self::TABLE,
            "insert_ignore",
            "INSERT_IGNORE_RETURNING_SQL",
            async move {
                let columns = Self::columns(vec![self], &[])?;
                let params = Self::bind(&columns);
                counted!(let params = params.as_ref());
                let rows = conn
                    .query_typed(Self::INSERT_IGNORE_RETURNING_SQL, &params)
                    .await
                    .map_err(|e| rows_error::<Self>(e, 1))?;
                rows.first().map(Self::Stored::from_row).transpose()
            },
        )
    }

    /// Inserts many rows in one statement ([`INSERT_IGNORE_SQL`](Self::INSERT_IGNORE_SQL)),
    /// skipping each row whose conflict key is stored, and returns the number inserted. No
    /// rows: no statement, `Ok(0)`.
    ///
    /// Rows of the batch that repeat a conflict key are not an error, unlike
    /// [`upsert_many`](Self::upsert_many)'s: the first of them in input order is inserted
    /// and the others are skipped, as rows with a stored key are. Only the conflict key
    /// skips a row: one that breaks another constraint (another unique key, NOT NULL, a
    /// CHECK) is the statement's error, and nothing is written.
    fn insert_many_ignore<C: GenericClient>(
        conn: &C,
        rows: Vec<Self>,
    ) -> impl Future<Output = Result<u64>> + Send {
        crate::trace::table(
            Self::TABLE,
            "insert_ignore",
            "INSERT_IGNORE_SQL",
            async move {
                if rows.is_empty() {
                    return Ok(0);
                }
                let count = rows.len();
                let columns = Self::columns(rows, &[])?;
                let params = Self::bind(&columns);
                counted!(let params = params.as_ref());
                conn.execute_typed(Self::INSERT_IGNORE_SQL, &params)
                    .await
                    .map_err(|e| rows_error::<Self>(e, count))
            },
        )
    }
}
