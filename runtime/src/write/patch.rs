//! Updating the columns a patch sets, of one row by its primary key.

use std::future::Future;

use tokio_postgres::types::{ToSql, Type};

use super::limit::{assigned_label, counted, statement_error, Writes};
use super::{Param, Table};
use crate::{Error, FromRow, GenericClient, Result};

/// The error of patch `P`'s UPDATE `sql`: [`ValidationKind::TooLarge`] naming the column
/// when its values were refused as too large, else [`Error::Db`].
///
/// [`ValidationKind::TooLarge`]: crate::ValidationKind::TooLarge
fn patch_error<P: Patch>(error: tokio_postgres::Error, sql: &str) -> Error {
    statement_error(
        error,
        Writes::One {
            writer: &format!("`{}`", P::Stored::NAME),
            label: &|index| assigned_label(sql, index),
        },
    )
}

/// The SET list of an UPDATE being built: the statement so far and its parameters. Each
/// assignment binds its value as the next parameter, `"column" = $n<cast>`, so the text
/// names only the columns a patch sets (an `UPDATE OF` trigger on an unset column does not
/// fire).
#[derive(Debug)]
pub struct Assignments<'a> {
    sql: String,
    params: Vec<Param<'a>>,
    assigned: usize,
    /// Set when the assignments of many patches are collected column by column
    /// ([`Assignments::batch`]) instead of written.
    batch: Option<BatchColumns<'a>>,
    /// Set when only the number of assignments matters ([`Patch::sets_nothing`]): nothing
    /// is written or kept.
    counting: bool,
}

/// The assignments of a batch of patches of one table, one column at a time: for each
/// column any patch sets, each patch's value (`None` where it leaves the column alone).
#[derive(Debug, Default)]
pub(super) struct BatchColumns<'a> {
    /// The patch whose assignments come next (from 0).
    pub(super) patch: usize,
    /// The columns, in the order the patches first set them.
    pub(super) columns: Vec<BatchColumn<'a>>,
}

/// One column of [`BatchColumns`].
#[derive(Debug)]
pub(super) struct BatchColumn<'a> {
    /// The quoted column name.
    pub(super) name: String,
    /// The type its values are sent as.
    pub(super) ty: Type,
    /// Empty, or `::<type>` (an enum sent as text).
    pub(super) cast: String,
    /// Per patch, up to the last that sets it: its value, or `None`.
    pub(super) values: Vec<Option<&'a (dyn ToSql + Sync)>>,
    /// The patches set it to an expression of the statement's own
    /// ([`Assignments::set_value`]): `values` only says which patches set it.
    pub(super) expression: bool,
}

/// What a patch that sets a column to an expression records as its value.
static NO_VALUE: Option<bool> = None;

impl<'a> BatchColumns<'a> {
    /// Records that the current patch sets `column` to `value`.
    fn set(
        &mut self,
        column: &str,
        value: &'a (dyn ToSql + Sync),
        ty: Type,
        cast: &str,
        expression: bool,
    ) {
        let patch = self.patch;
        let index = match self.columns.iter().position(|c| c.name == column) {
            Some(index) => index,
            None => {
                self.columns.push(BatchColumn {
                    name: column.to_owned(),
                    ty,
                    cast: cast.to_owned(),
                    values: Vec::new(),
                    expression,
                });
                self.columns.len() - 1
            }
        };
        let values = &mut self.columns[index].values;
        values.resize(patch, None);
        values.push(Some(value));
    }
}

impl<'a> Assignments<'a> {
    /// A SET list after `prefix` (which ends in `SET `), whose assignments are bound after
    /// `params` (the key, and in a graph the children's parameters).
    pub fn new(prefix: &str, params: Vec<Param<'a>>) -> Self {
        Self {
            sql: prefix.to_owned(),
            params,
            assigned: 0,
            batch: None,
            counting: false,
        }
    }

    /// Collects the assignments of many patches, column by column: after each patch's,
    /// [`next_patch`](Self::next_patch).
    pub(super) fn batch() -> Self {
        Self {
            sql: String::new(),
            params: Vec::new(),
            assigned: 0,
            batch: Some(BatchColumns::default()),
            counting: false,
        }
    }

    /// Assignments that are only counted, for [`Patch::sets_nothing`].
    fn counting() -> Self {
        Self {
            sql: String::new(),
            params: Vec::new(),
            assigned: 0,
            batch: None,
            counting: true,
        }
    }

    /// The assignments that follow are the next patch's.
    pub(super) fn next_patch(&mut self) {
        if let Some(batch) = &mut self.batch {
            batch.patch += 1;
        }
    }

    /// The collected columns of [`batch`](Self::batch); empty otherwise.
    pub(super) fn into_batch(self) -> BatchColumns<'a> {
        self.batch.unwrap_or_default()
    }

    /// Appends `, "column" = $n<cast>` and binds `value` as `$n`, of type `ty`. `column` is
    /// quoted; `cast` is empty or `::<type>` (an enum sent as text).
    pub fn set(&mut self, column: &str, value: &'a (dyn ToSql + Sync), ty: Type, cast: &str) {
        self.assigned += 1;
        if self.counting {
            return;
        }
        if let Some(batch) = &mut self.batch {
            batch.set(column, value, ty, cast, false);
            return;
        }
        crate::__private::push_assignment(&mut self.sql, &mut self.params, column, value, ty, cast);
    }

    /// Appends `, "column" = <value>`: an expression of the statement's own, which binds
    /// nothing (an update graph's looked-up parent key, `(SELECT "id" FROM b0)`). `column` is
    /// quoted.
    pub fn set_value(&mut self, column: &str, value: &str) {
        if self.counting {
            self.assigned += 1;
            return;
        }
        if let Some(batch) = &mut self.batch {
            // A batch's statement has an expression of its own for the column: it records
            // only that this patch sets it.
            self.assigned += 1;
            batch.set(column, &NO_VALUE, Type::BOOL, "", true);
            return;
        }
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

    /// Whether the patch sets no column, as [`assign`](Self::assign) would assign them.
    fn sets_nothing(&self) -> bool {
        let mut set = Assignments::counting();
        self.assign(&mut set);
        set.assigned() == 0
    }

    /// The checks of the set values that need no database, before any SQL: a text value
    /// PostgreSQL would refuse (longer than a `varchar(n)` holds, or with a NUL byte) is a
    /// [`ValidationKind::TooLong`] or [`ValidationKind::NulByte`] naming its column, as it
    /// is in a row to insert. Generated for a table with a text column; none without.
    ///
    /// [`ValidationKind::TooLong`]: crate::ValidationKind::TooLong
    /// [`ValidationKind::NulByte`]: crate::ValidationKind::NulByte
    fn check(&self) -> Result<()> {
        Ok(())
    }

    /// The UPDATE and its parameters: the key, then the set values; `returning` is appended
    /// last. [`ValidationKind::NoOperations`] when the patch sets nothing, and the errors of
    /// [`check`](Self::check).
    ///
    /// [`ValidationKind::NoOperations`]: crate::ValidationKind::NoOperations
    fn update_statement<'a>(
        &'a self,
        id: &'a <Self::Stored as Table>::Key,
        returning: &str,
    ) -> Result<(String, Vec<Param<'a>>)> {
        self.check()?;
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
            counted!(let params = &params);
            let updated = conn
                .execute_typed(&sql, &params)
                .await
                .map_err(|e| patch_error::<Self>(e, &sql))?;
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
            counted!(let params = &params);
            let rows = conn
                .query_typed(&sql, &params)
                .await
                .map_err(|e| patch_error::<Self>(e, &sql))?;
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
            $crate::param_type!($ty),
            $crate::assign!(@cast $($cast)?),
        );)*
    };
}

/// A generated [`Patch::check`]: [`check_text`](crate::write::check_text) of each text
/// field, `field "column" max_chars`, as row 0 of `table`:
/// `patch_check!("public.orders" { customer "customer" None, zip "zip" Some(16) });`.
#[doc(hidden)]
#[macro_export]
macro_rules! patch_check {
    ($table:literal { $($field:ident $column:literal $max:expr),* $(,)? }) => {
        fn check(&self) -> $crate::Result<()> {
            $($crate::write::check_text(&self.$field, $max, $table, 0, $column)?;)*
            Ok(())
        }
    };
}
