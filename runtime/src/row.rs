//! Rows read back from PostgreSQL.

use tokio_postgres::Row;

/// A type built from a result row. Generated row structs implement it, reading columns by
/// position in table order.
pub trait FromRow: Sized {
    /// Decodes one row. A column that cannot be read as its field's type is
    /// [`Error::Decode`](crate::Error::Decode).
    fn from_row(row: &Row) -> crate::Result<Self>;

    /// Decodes one row from its columns `first` on (a result that holds several tables'
    /// rows side by side, as [`InsertGraphRows`](crate::write::InsertGraphRows) reads).
    /// The default reads from the first column only; generated row structs read from any.
    fn from_row_at(row: &Row, first: usize) -> crate::Result<Self> {
        if first == 0 {
            return Self::from_row(row);
        }
        Err(crate::Error::Validation(
            "this row type reads rows from their first column only (implement FromRow::from_row_at)"
                .into(),
        ))
    }
}

/// A row type with a single-column primary key: how graphs get the id of a row they wrote
/// without reading its fields.
pub trait ModelPk {
    /// The key's Rust type.
    type Id: Clone + Send + Sync + 'static;
    /// The row's key.
    fn pk(&self) -> &Self::Id;
}
