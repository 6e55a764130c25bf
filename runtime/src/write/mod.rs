//! The write behaviour generated code delegates to: each body that is the same for every
//! table and graph lives here once, as a provided method of a trait, and generated code
//! supplies only data (statement consts, column lists, key extractors) and field bindings.
//!
//! | Trait | Implemented by | Generated code supplies | Provided entry points |
//! |---|---|---|---|
//! | [`Table`] | a table's row (`OrderItem`) | `NAME`, `FIND_SQL`, `DELETE_SQL`, `bind_key` | `find_by_id`, `delete_by_id` |
//! | [`Insert`] | a row to insert (`NewOrderItem`) | `TABLE`, `INSERT_SQL`, `INSERT_RETURNING_SQL`, `columns`, `bind` | `insert`, `insert_returning`, `insert_many`, `insert_many_returning` |
//! | [`Upsert`] | a row to insert with a conflict target | `UPSERT_SQL`, `UPSERT_RETURNING_SQL`, `INSERT_IGNORE_SQL`, `INSERT_IGNORE_RETURNING_SQL`, `CONFLICT_COLUMNS`, `conflict_key` | `upsert`, `upsert_returning`, `upsert_many`, `insert_ignore`, `insert_ignore_returning`, `insert_many_ignore` |
//! | [`Patch`] | a table's patch (`OrderItemPatch`) | `UPDATE_SQL`, `WHERE_SQL`, `RETURNING_SQL`, `assign` | `update_by_id`, `update_by_id_returning` |
//! | [`InsertGraph`] | an insert graph (`NewOrderGraph`) | `SQL`, `SQL_RETURNING`, `ROOT_COLUMNS`, `STEPS`, `ERROR_STEPS`, `parts`, `bind` | `insert_graph`, `insert_graph_returning`, `insert_graph_report`, `insert_graph_report_returning`, `insert_graph_atomic` |
//! | [`UpdateGraph`] + [`UpdateGraphPlain`] or [`UpdateGraphLocking`] | an update graph (`OrderPatchGraph`) | `NAME`, the root's SQL parts, `TAIL_SQL`, `STEPS`, `ERROR_STEPS`, `sets_nothing`, `parts`, `bind_parts`, `assign_root` (and `LOCK_SQL` when it locks; `CHILD_PATCHES` and `assign_child` when a child step applies a patch) | `update_by_id_graph`, `update_by_id_graph_returning`, `update_by_id_graph_report`, `update_by_id_graph_report_returning` |
//!
//! Generated code states each struct's fields once, in calls of this crate's hidden macros
//! that write the bodies that only differ by those fields: the setters
//! ([`setters!`](crate::setters)), the constructor ([`new!`](crate::new)), the split of rows
//! into batch columns ([`columns!`](crate::columns)), a graph's steps
//! ([`graph_steps!`](crate::graph_steps)) and own checks
//! ([`graph_checks!`](crate::graph_checks)), and the parts of an insert or update graph, for one
//! graph and for a batch ([`insert_graph!`](crate::insert_graph),
//! [`update_graph!`](crate::update_graph)); each statement is one documented const
//! ([`statement!`](crate::statement)).
//!
//! # Calling the entry points
//!
//! A provided method is called through its trait, so the trait must be in scope where a
//! user writes `NewOrderItem::insert_many(&c, rows)`. Generated code keeps today's calls
//! working without an import: for each type it invokes the matching macro of this crate
//! ([`insert_methods!`](crate::insert_methods), [`upsert_methods!`](crate::upsert_methods),
//! [`table_methods!`](crate::table_methods), [`patch_methods!`](crate::patch_methods),
//! [`insert_graph_methods!`](crate::insert_graph_methods),
//! [`update_graph_methods!`](crate::update_graph_methods)), one line each, which expands to
//! documented inherent methods of one line that call the trait's method. Inherent methods
//! win over trait methods of the same name, and the calls inside name the trait, so nothing
//! recurses. Code that is generic over tables or graphs uses the traits directly, with
//! `use writegraph::prelude::*`.
//!
//! # Checks, in the order they run
//!
//! Every check that needs no database runs before the first statement is sent: a batch's
//! repeated conflict keys ([`check_unique`]), text PostgreSQL would reject
//! ([`check_text`]), a required parent or root id left unset, a patch or graph that sets
//! nothing. A statement's error is attributed to the graph steps it may come from with
//! [`ErrorSteps`]. Last, while tokio-postgres encodes a statement's values and before it
//! sends anything, their size: together past [`MAX_STATEMENT_BYTES`] (1 GiB), the write is
//! [`ValidationKind::TooLarge`](crate::ValidationKind::TooLarge).

mod columns;
mod graph;
mod insert;
pub(crate) mod limit;
mod methods;
mod origin;
mod patch;
mod setters;
mod statement;
mod table;
mod update_many;

pub use columns::{
    anchor, check_text, check_unique, conflicting_parent, missing_parent, missing_root_id, one_row,
    push_array, trim_array, trim_false, trim_nulls, RepeatedKey,
};
pub use graph::{
    ChildPatch, ErrorSteps, GraphStep, InsertGraph, InsertGraphMany, InsertGraphRows, RootRow,
    StepCount, UpdateGraph, UpdateGraphLocking, UpdateGraphPlain, NOT_FOUND_MARKER,
};
pub use insert::{Insert, Upsert};
pub use limit::MAX_STATEMENT_BYTES;
pub use origin::ManyParam;
pub use patch::{Assignments, Patch};
pub use table::Table;
pub use update_many::{
    ChildRows, UpdateGraphMany, UpdateGraphManyLocking, UpdateGraphManyPlain, UpdateMany,
};

use tokio_postgres::types::{ToSql, Type};

/// One bound parameter of a statement: a value and the type it is declared as. Generated
/// `bind` methods return an array of them, in `$n` order, borrowing the values they bind.
pub type Param<'a> = (&'a (dyn ToSql + Sync), Type);

/// `params` as it is: an array literal of `(&value, Type)` pairs passed here is typed as
/// [`Param`]s, so a generated `bind` returns `write::params([(&c.c0, Type::INT8_ARRAY), ..])`
/// without spelling out the array's type.
pub fn params<const N: usize>(params: [Param<'_>; N]) -> [Param<'_>; N] {
    params
}

/// A generated columns struct with every vector reserved for `rows` rows:
/// `columns_for!(NewOrderItemColumns, n; c0, c2)` is `NewOrderItemColumns { c0:
/// Vec::with_capacity(n), c2: Vec::with_capacity(n) }`.
#[doc(hidden)]
#[macro_export]
macro_rules! columns_for {
    ($columns:ident, $rows:expr; $($field:ident),* $(,)?) => {
        $columns { $($field: ::std::vec::Vec::with_capacity($rows)),* }
    };
}

/// The body of a generated `columns` function: `rows` split into the column vectors of a
/// batch statement, each row checked first, then the trailing unset values trimmed. The
/// output lists the fields once; the loop, the checks and the trims are written here.
///
/// `columns!(NewTColumns { c0, c1 } from rows in TABLE; [entries] ..; trim [trims] ..)`,
/// with `TABLE` the table's name for errors. Entries, in the order they run on each row:
/// - `[check "column" field max]`: [`check_text`](crate::write::check_text) of `row.field`
///   (`max`: `None`, or `Some(n)` characters);
/// - `[c3 field]` pushes `row.field`, `[c3 some field]` pushes `Some(row.field)`, `[c3 flat
///   f3 field]` pushes whether `row.field` is set onto `f3` and its value onto `c3`;
/// - `[array s3 l3 e3 ..]` pushes an array column's value (any of the three forms above,
///   without the vector) with [`push_array`](crate::write::push_array);
/// - `[none c3]` / `[none f3 c3]` push an unset value (and flag) of a column the row type
///   leaves out.
///
/// Trims: `[nulls c3]`, `[false f3]`, `[array s3 l3]`. `trim anchor([3, 4], filled) ..`
/// keeps whole the one [`anchor`](crate::write::anchor) picks to carry the row count (the
/// table has no required column).
#[doc(hidden)]
#[macro_export]
macro_rules! columns {
    (
        $columns:ident { $($field:ident),* $(,)? } from $rows:ident in $table:expr;
        $([$($entry:tt)*])*; trim $(anchor([$($candidate:literal),*], $filled:expr))? $([$($trim:tt)*])*
    ) => {{
        let mut c = $columns { $($field: ::std::vec::Vec::with_capacity($rows.len())),* };
        for (index, row) in $rows.into_iter().enumerate() {
            let _ = (&index, &row);
            $($crate::columns!(@entry c, row, index, $table; $($entry)*);)*
        }
        $crate::columns!(@trims c [$($($candidate),*)?] [$($filled)?] $([$($trim)*])*);
        ::std::result::Result::Ok(c)
    }};
    (@entry $c:ident, $row:ident, $index:ident, $table:expr; check $name:literal $f:ident $max:expr) => {
        $crate::write::check_text(&$row.$f, $max, $table, $index, $name)?
    };
    (@entry $c:ident, $row:ident, $index:ident, $table:expr; none $flag:ident $v:ident) => {{
        $c.$flag.push(false);
        $c.$v.push(None);
    }};
    (@entry $c:ident, $row:ident, $index:ident, $table:expr; none $v:ident) => {
        $c.$v.push(None)
    };
    (@entry $c:ident, $row:ident, $index:ident, $table:expr; array $s:ident $l:ident $e:ident $($value:tt)*) => {
        $crate::write::push_array(
            &mut $c.$s,
            &mut $c.$l,
            &mut $c.$e,
            $crate::columns!(@value $c, $row; $($value)*),
        )?
    };
    (@entry $c:ident, $row:ident, $index:ident, $table:expr; $v:ident $($value:tt)*) => {
        $c.$v.push($crate::columns!(@value $c, $row; $($value)*))
    };
    (@value $c:ident, $row:ident; some $f:ident) => {
        Some($row.$f)
    };
    (@value $c:ident, $row:ident; flat $flag:ident $f:ident) => {{
        $c.$flag.push($row.$f.is_some());
        $row.$f.flatten()
    }};
    (@value $c:ident, $row:ident; $f:ident) => {
        $row.$f
    };
    (@trims $c:ident [] [] $([$($trim:tt)*])*) => {
        $($crate::columns!(@trim $c; $($trim)*);)*
    };
    (@trims $c:ident [$($candidate:literal),*] [$filled:expr] $([$($trim:tt)*])*) => {
        let anchor = $crate::write::anchor(&[$($candidate),*], $filled);
        let mut k = usize::MAX;
        $(
            k = k.wrapping_add(1);
            if anchor != k {
                $crate::columns!(@trim $c; $($trim)*);
            }
        )*
    };
    (@trim $c:ident; nulls $v:ident) => {
        $crate::write::trim_nulls(&mut $c.$v)
    };
    (@trim $c:ident; false $v:ident) => {
        $crate::write::trim_false(&mut $c.$v)
    };
    (@trim $c:ident; array $s:ident $l:ident) => {
        $crate::write::trim_array(&mut $c.$s, &mut $c.$l)
    };
}

/// A generated `bind`'s parameters, in `$n` order, each declared as a [`Type`] const:
/// `value as TYPE` binds `value`, a reference, `holder { field as TYPE, .. }` binds
/// `&holder.field` for each field, and `one holder { .. }` binds a one-row step's column as
/// one value ([`one_row`]). `params![self { id as INT8 }, c { c0 as TEXT_ARRAY }, key as
/// BOOL]` is [`params`]`([(&self.id, Type::INT8), (&c.c0, Type::TEXT_ARRAY), (key,
/// Type::BOOL)])`.
#[doc(hidden)]
#[macro_export]
macro_rules! params {
    (@ [$($done:tt)*]) => {
        $crate::write::params([$($done)*])
    };
    (@ [$($done:tt)*] one $holder:ident { $($field:tt as $ty:ident),* $(,)? } $(, $($rest:tt)*)?) => {
        $crate::params!(@ [$($done)* $((
            $crate::write::one_row(&$holder.$field),
            $crate::param_type!($ty),
        ),)*] $($($rest)*)?)
    };
    (@ [$($done:tt)*] $holder:ident { $($field:tt as $ty:ident),* $(,)? } $(, $($rest:tt)*)?) => {
        $crate::params!(@ [$($done)* $((&$holder.$field, $crate::param_type!($ty)),)*] $($($rest)*)?)
    };
    (@ [$($done:tt)*] $value:ident as $ty:ident $(, $($rest:tt)*)?) => {
        $crate::params!(@ [$($done)* ($value, $crate::param_type!($ty)),] $($($rest)*)?)
    };
    ($($params:tt)*) => {
        $crate::params!(@ [] $($params)*)
    };
}

/// The [`Type`] a parameter is declared as in generated code: `param_type!(INT8)` is
/// `Type::INT8`; `param_type!(SERVER)` and `param_type!(SERVER_ARRAY)` are
/// [`server_type`] and [`server_array_type`], for values of a type only the server knows.
#[doc(hidden)]
#[macro_export]
macro_rules! param_type {
    (SERVER) => {
        $crate::write::server_type()
    };
    (SERVER_ARRAY) => {
        $crate::write::server_array_type()
    };
    ($ty:ident) => {
        $crate::__private::Type::$ty
    };
}

/// The declared type of a parameter whose type the server resolves: one of an extension's
/// type (pgvector's `vector`, PostGIS's `geometry`) bound natively (`[types]` with `bind =
/// "native"`). Such a type's OID differs between databases, so the statement declares OID 0
/// ("unspecified") and is prepared before it runs: PostgreSQL infers the type from the cast
/// the statement spells (`$1::"public"."vector"`) and tokio-postgres encodes each value for
/// the type it reports, which the value's `ToSql` checks. Never encoded as it is: its name
/// says so in the error of a path that would.
pub fn server_type() -> Type {
    SERVER_TYPE.clone()
}

/// [`server_type`] for an array of such values (the batch statements' columns).
pub fn server_array_type() -> Type {
    SERVER_ARRAY_TYPE.clone()
}

static SERVER_TYPE: std::sync::LazyLock<Type> = std::sync::LazyLock::new(|| {
    Type::new(
        "(resolved by the server)".to_owned(),
        0,
        tokio_postgres::types::Kind::Pseudo,
        String::new(),
    )
});

static SERVER_ARRAY_TYPE: std::sync::LazyLock<Type> = std::sync::LazyLock::new(|| {
    Type::new(
        "(array resolved by the server)".to_owned(),
        0,
        tokio_postgres::types::Kind::Array(SERVER_TYPE.clone()),
        String::new(),
    )
});

/// Whether `params` declares a value of a type the server resolves ([`server_type`]): such
/// a statement is prepared before it runs.
pub(crate) fn binds_server_type(params: &[Param<'_>]) -> bool {
    params.iter().any(|(_, ty)| ty.oid() == 0)
}
