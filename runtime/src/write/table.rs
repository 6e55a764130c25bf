//! Reading and deleting one row by its primary key.

use std::future::Future;

use super::Param;
use crate::{Error, FromRow, GenericClient, Result};

/// A table's row type with a primary key (`OrderItem`): the statements that read and
/// delete one row by key. Generated code supplies the consts and [`bind_key`](Self::bind_key).
pub trait Table: FromRow + Send {
    /// The primary key: its column's Rust type, or a tuple of them for a key of several
    /// columns.
    type Key: ?Sized + Sync;

    /// The table, unquoted, as errors name it (`public.order_items`).
    const NAME: &'static str;
    /// `SELECT <every column> FROM <table> WHERE <key> = $1 ...`.
    const FIND_SQL: &'static str;
    /// `DELETE FROM <table> WHERE <key> = $1 ...`.
    const DELETE_SQL: &'static str;

    /// The key's columns as parameters `$1..`, in key order.
    fn bind_key(key: &Self::Key) -> impl AsRef<[Param<'_>]> + Send;

    /// Reads the row with this primary key ([`FIND_SQL`](Self::FIND_SQL)), if there is one.
    fn find_by_id<C: GenericClient>(
        conn: &C,
        id: &Self::Key,
    ) -> impl Future<Output = Result<Option<Self>>> + Send {
        crate::trace::table(Self::NAME, "find", "FIND_SQL", async move {
            let key = Self::bind_key(id);
            let rows = conn.query_typed(Self::FIND_SQL, key.as_ref()).await?;
            match rows.first() {
                Some(row) => Ok(Some(Self::from_row(row)?)),
                None => Ok(None),
            }
        })
    }

    /// Deletes the row with this primary key ([`DELETE_SQL`](Self::DELETE_SQL)).
    /// [`Error::NotFound`] when there is none.
    fn delete_by_id<C: GenericClient>(
        conn: &C,
        id: &Self::Key,
    ) -> impl Future<Output = Result<u64>> + Send {
        crate::trace::table(Self::NAME, "delete", "DELETE_SQL", async move {
            let key = Self::bind_key(id);
            let deleted = conn.execute_typed(Self::DELETE_SQL, key.as_ref()).await?;
            if deleted == 0 {
                return Err(Error::not_found(Self::NAME));
            }
            Ok(deleted)
        })
    }
}
