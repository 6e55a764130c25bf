//! Updating the columns a patch sets, of one row by its primary key.

use std::future::Future;

use tokio_postgres::types::{ToSql, Type};

use super::{Param, Table};
use crate::{Error, FromRow, GenericClient, Result};

/// The SET list of an UPDATE being built: the statement so far and its parameters. Each
/// assignment binds its value as the next parameter, `"column" = $n<cast>`, so the text
/// names only the columns a patch sets (an `UPDATE OF` trigger on an unset column does not
/// fire).
#[derive(Debug)]
pub struct Assignments<'a> {
    sql: String,
    params: Vec<Param<'a>>,
    assigned: usize,
}

impl<'a> Assignments<'a> {
    /// A SET list after `prefix` (which ends in `SET `), whose assignments are bound after
    /// `params` (the key, and in a graph the children's parameters).
    pub fn new(prefix: &str, params: Vec<Param<'a>>) -> Self {
        Self {
            sql: prefix.to_owned(),
            params,
            assigned: 0,
        }
    }

    /// Appends `, "column" = $n<cast>` and binds `value` as `$n`, of type `ty`. `column` is
    /// quoted; `cast` is empty or `::<type>` (an enum sent as text).
    pub fn set(&mut self, column: &str, value: &'a (dyn ToSql + Sync), ty: Type, cast: &str) {
        crate::__private::push_assignment(&mut self.sql, &mut self.params, column, value, ty, cast);
        self.assigned += 1;
    }

    /// Appends `, "column" = <value>`: an expression of the statement's own, which binds
    /// nothing (an update graph's looked-up parent key, `(SELECT "id" FROM b0)`). `column` is
    /// quoted.
    pub fn set_value(&mut self, column: &str, value: &str) {
        if !self.sql.ends_with("SET ") {
            self.sql.push_str(", ");
        }
        self.sql.push_str(column);
        self.sql.push_str(" = ");
        self.sql.push_str(value);
        self.assigned += 1;
    }

    /// [`set`](Self::set) when the patch sets the field (`Some`), else nothing.
    pub fn set_some<T: ToSql + Sync>(
        &mut self,
        column: &str,
        value: &'a Option<T>,
        ty: Type,
        cast: &str,
    ) {
        if let Some(value) = value {
            self.set(column, value, ty, cast);
        }
    }

    /// The number of assignments so far.
    pub fn assigned(&self) -> usize {
        self.assigned
    }

    /// The statement so far and every parameter.
    pub fn into_parts(self) -> (String, Vec<Param<'a>>) {
        (self.sql, self.params)
    }

    /// Ends a part of a statement whose SET list a patch builds: appends to `sql` the part
    /// so far and `rest` (what follows the assignments), or `otherwise` alone when the
    /// patch assigned nothing (an UPDATE cannot assign nothing: an update graph's root is
    /// then only read, a child step writes nothing). Returns every parameter, and whether
    /// anything was assigned.
    pub(super) fn finish(
        self,
        sql: &mut String,
        rest: &str,
        otherwise: &str,
    ) -> (Vec<Param<'a>>, bool) {
        let assigned = self.assigned > 0;
        if assigned {
            sql.push_str(&self.sql);
            sql.push_str(rest);
        } else {
            sql.push_str(otherwise);
        }
        (self.params, assigned)
    }
}

/// The changes to one row of a table (`OrderItemPatch`): each field `None` leaves its column
/// unchanged. Generated code supplies the statement's fixed parts and
/// [`assign`](Self::assign), one line per column.
pub trait Patch: Sized + Send + Sync {
    /// The table's row type, whose key the update takes and which `*_returning` reads.
    type Stored: Table;

    /// `UPDATE <table> SET `.
    const UPDATE_SQL: &'static str;
    /// ` WHERE <key> = $1 ..`, after the assignments.
    const WHERE_SQL: &'static str;
    /// ` RETURNING <every column>`, after [`WHERE_SQL`](Self::WHERE_SQL).
    const RETURNING_SQL: &'static str;

    /// Appends an assignment for every field the patch sets, in column order
    /// ([`Assignments::set_some`]).
    fn assign<'a>(&'a self, set: &mut Assignments<'a>);

    /// The UPDATE and its parameters: the key, then the set values; `returning` is appended
    /// last. [`ValidationKind::NoOperations`] when the patch sets nothing.
    ///
    /// [`ValidationKind::NoOperations`]: crate::ValidationKind::NoOperations
    fn update_statement<'a>(
        &'a self,
        id: &'a <Self::Stored as Table>::Key,
        returning: &str,
    ) -> Result<(String, Vec<Param<'a>>)> {
        let key = Self::Stored::bind_key(id);
        let mut set = Assignments::new(Self::UPDATE_SQL, key.as_ref().to_vec());
        self.assign(&mut set);
        if set.assigned() == 0 {
            return Err(Error::Validation(
                format!(
                    "the patch of `{}` sets no column: nothing to update",
                    Self::Stored::NAME
                )
                .into(),
            ));
        }
        let (mut sql, params) = set.into_parts();
        sql.push_str(Self::WHERE_SQL);
        sql.push_str(returning);
        Ok((sql, params))
    }

    /// Updates the columns this patch sets, and no other. [`Error::NotFound`] when no row
    /// has this key; [`ValidationKind::NoOperations`] when the patch sets nothing.
    ///
    /// [`ValidationKind::NoOperations`]: crate::ValidationKind::NoOperations
    fn update_by_id<C: GenericClient>(
        self,
        conn: &C,
        id: &<Self::Stored as Table>::Key,
    ) -> impl Future<Output = Result<u64>> + Send {
        crate::trace::table(Self::Stored::NAME, "update", "UPDATE_SQL", async move {
            let (sql, params) = self.update_statement(id, "")?;
            let updated = conn.execute_typed(&sql, &params).await?;
            if updated == 0 {
                return Err(Error::not_found(Self::Stored::NAME));
            }
            Ok(updated)
        })
    }

    /// Like [`update_by_id`](Self::update_by_id), and returns the row as stored.
    fn update_by_id_returning<C: GenericClient>(
        self,
        conn: &C,
        id: &<Self::Stored as Table>::Key,
    ) -> impl Future<Output = Result<Self::Stored>> + Send {
        crate::trace::table(Self::Stored::NAME, "update", "UPDATE_SQL", async move {
            let (sql, params) = self.update_statement(id, Self::RETURNING_SQL)?;
            let rows = conn.query_typed(&sql, &params).await?;
            match rows.first() {
                Some(row) => Self::Stored::from_row(row),
                None => Err(Error::not_found(Self::Stored::NAME)),
            }
        })
    }
}

/// A generated `assign` body: [`Assignments::set_some`] for each field of `holder`, in
/// order, `"column" = field as TYPE` (`TYPE` a `Type` const), followed by the cast of a
/// value sent as text (`"::\"public\".\"status\""`) when there is one:
/// `assign!(set, self { "\"id\"" = id as INT8, "\"note\"" = note as TEXT })`.
#[doc(hidden)]
#[macro_export]
macro_rules! assign {
    (@cast) => {
        ""
    };
    (@cast $cast:literal) => {
        $cast
    };
    ($set:ident, $holder:ident { $($column:literal = $field:ident as $ty:ident $($cast:literal)?),* $(,)? }) => {
        $($set.set_some(
            $column,
            &$holder.$field,
            $crate::__private::Type::$ty,
            $crate::assign!(@cast $($cast)?),
        );)*
    };
}
