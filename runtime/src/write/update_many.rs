//! Many update graphs of one kind in one statement (`update_graph_many`): each root by its
//! key with its own patch, and the children of every root, as rows of arrays.

use std::collections::HashMap;
use std::future::Future;

use bytes::BytesMut;
use tokio_postgres::types::{to_sql_checked, IsNull, Kind, ToSql, Type};
use tokio_postgres::{Error as PgError, Row};

use super::graph::{
    connect_not_found, no_rows, step_reports, Locked, Plain, SendStatement, NOT_FOUND_MARKER,
};
use super::limit::{counted, too_large, Writes};
use super::patch::BatchColumns;
use super::{
    Assignments, ChildPatch, Param, Table, UpdateGraph, UpdateGraphLocking, UpdateGraphPlain,
};
use crate::{
    Error, FromRow, GenericClient, LockingClient, Result, ValidationError, ValidationKind,
    WriteReport,
};

/// The fixed parts of an update graph's many-roots statement, around the roots' SET list
/// and its arrays, which the batch's patches decide at run time:
/// `update` + assignments + `from` + arrays + `aliases` + aliases + `rest` + `tail`, or
/// `select` + `tail` when no patch of the batch sets a root column.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct UpdateMany {
    /// `WITH root_set AS (UPDATE <root table> AS t SET `.
    pub update: &'static str,
    /// ` FROM UNNEST(<key arrays>, <write flags>`: each assignment's arrays follow.
    pub from: &'static str,
    /// `) WITH ORDINALITY AS s(k0, .., w`: each assignment's aliases follow.
    pub aliases: &'static str,
    /// `, ord) WHERE <key> AND s.w RETURNING ..), root AS (..`: the rest of the roots' part.
    pub rest: &'static str,
    /// `WITH root AS (SELECT .. FROM <root table> ..`: the roots' part when no patch sets a
    /// root column.
    pub select: &'static str,
    /// `), <child CTEs> SELECT <root columns>, <counts>, <check> FROM root ORDER BY root.ord`.
    pub tail: &'static str,
    /// `SELECT 1 FROM <root table> .. ORDER BY <key> FOR UPDATE OF t`: every root locked, in
    /// key order, by a graph that locks its root.
    pub lock: &'static str,
    /// The child steps that apply a patch (`strategy = "update"`), in statement order, each
    /// after `tail` or the one before it: its CTE up to the SET list (`update`), then, after
    /// ` FROM UNNEST(<ordinals and arrays>) AS s(o, <aliases>`, `update_where`; `skip` when
    /// no patch of the batch sets a column of it.
    pub patches: &'static [ChildPatch],
    /// Per root column a belongs_to connect assigns, the column (quoted) and the value a
    /// root whose graph gives the connect's field gets: the key its graph's lookup found.
    pub connects: &'static [(&'static str, &'static str)],
}

/// An update graph that also writes many roots in one statement: generated code supplies
/// the statement's parts and the split of a batch's children into column arrays; the
/// entry points come from [`UpdateGraphManyPlain`] or [`UpdateGraphManyLocking`].
pub trait UpdateGraphMany: UpdateGraph {
    /// The children's rows of every graph, split into column arrays, with the ordinals of
    /// the graphs each step runs for and of the graph each row belongs to.
    type PartsMany: Send + Sync;

    /// The statement's fixed parts.
    const MANY: UpdateMany;

    /// Checks every graph (an error names the graph by its index) and takes their
    /// children's rows out of them.
    fn parts_many(graphs: &mut [Self]) -> Result<Self::PartsMany>;

    /// Appends the children's parameters, in `$n` order after the keys and write flags.
    fn bind_many<'a>(parts: &'a Self::PartsMany, params: &mut Vec<Param<'a>>);
}

/// One child step's rows of a batch: the ordinals (from 1) of the graphs the step runs for
/// (its field given, or its has_one to delete, as the step's flag is), every row, and the
/// ordinal of each row's graph. Generated `parts_many` builds one per step.
#[doc(hidden)]
#[derive(Debug, Default)]
pub struct ChildRows<C> {
    /// The graphs whose field sets the step's flag.
    pub flags: Vec<i64>,
    /// The rows, then their column arrays.
    pub columns: C,
    /// Per row, its graph's ordinal.
    pub ordinals: Vec<i64>,
}

/// `impl UpdateGraphMany` and the inherent `update_graph_many*` methods of a generated
/// update graph, from its statement's parts and, per child step, its field, how many rows
/// the field holds (`many` or `one`), the flag the statement binds for it (`active`: the
/// field is given; `delete`: a has_one given as `Some(None)`; `none`), its row and columns
/// types, its tag and the columns it binds; a many_to_many step's field holds keys (`keys`),
/// bound as one array. The belongs_to connects come first, as `connects [<field>: <key type> as
/// <array type>, <set_fk field of the root patch>; ..];`:
///
/// ```text
/// update_graph_many! {
///     OrderReplaceGraph, plain, UpdateMany { .. };
///     connects [];
///     items: many active NewOrderItemForOrder => NewOrderItemColumns, "graph:has_many:order_items" { c0 as INT8_ARRAY, c2 as TEXT_ARRAY };
/// }
/// ```
#[doc(hidden)]
#[macro_export]
macro_rules! update_graph_many {
    (
        $graph:ty, $mode:ident, $many:expr;
        connects [$($connect:ident : $key:ty as $key_ty:ident, $set_fk:ident);* $(;)?];
        $($field:ident : $count:ident $flag:ident $row:ty => $columns:ty, $tag:literal { $($col:tt as $ty:ident),* $(,)? });* $(;)?
    ) => {
        impl $crate::UpdateGraphMany for $graph {
            type PartsMany = (
                $($crate::write::ChildRows<::std::vec::Vec<$key>>,)*
                $($crate::write::ChildRows<$columns>,)*
            );
            /// The fixed parts of `update_graph_many`'s statement, around the roots' SET
            /// list and its arrays (`writegraph explain` shows it whole).
            const MANY: $crate::write::UpdateMany = $many;
            fn parts_many(graphs: &mut [Self]) -> $crate::Result<Self::PartsMany> {
                for (index, graph) in graphs.iter().enumerate() {
                    <Self as $crate::UpdateGraph>::check(graph).map_err(|e| e.in_graph(index))?;
                    $(if graph.root.$set_fk.is_some() && graph.$connect.is_some() {
                        return Err($crate::write::conflicting_parent(
                            <Self as $crate::UpdateGraph>::NAME,
                            stringify!($connect),
                            stringify!($set_fk),
                        )
                        .in_graph(index));
                    })*
                }
                Ok(($({
                    let mut rows = $crate::write::ChildRows::<::std::vec::Vec<$key>>::default();
                    for (index, graph) in graphs.iter().enumerate() {
                        if let Some(key) = &graph.$connect {
                            rows.ordinals.push(index as i64 + 1);
                            rows.columns.push(::std::clone::Clone::clone(key));
                        }
                    }
                    rows
                },)* $({
                    let mut rows = $crate::write::ChildRows::<::std::vec::Vec<$row>>::default();
                    for (index, graph) in graphs.iter_mut().enumerate() {
                        let ordinal = index as i64 + 1;
                        $crate::update_graph_many!(@take $count $flag, graph.$field.take(), ordinal, rows);
                    }
                    $crate::write::ChildRows {
                        flags: rows.flags,
                        ordinals: rows.ordinals,
                        columns: $crate::update_graph_many!(@columns $count $row, rows.columns, $tag),
                    }
                },)*))
            }
            fn bind_many<'a>(
                parts: &'a Self::PartsMany,
                params: &mut ::std::vec::Vec<$crate::write::Param<'a>>,
            ) {
                let ($($connect,)* $($field,)*) = parts;
                $(
                    params.push((&$connect.columns, $crate::param_type!($key_ty)));
                    params.push((&$connect.ordinals, $crate::__private::Type::INT8_ARRAY));
                )*
                $(
                    $crate::update_graph_many!(@flag $flag, params, $field);
                    $crate::update_graph_many!(@bind $count, params, $field { $($col as $ty),* });
                    params.push((&$field.ordinals, $crate::__private::Type::INT8_ARRAY));
                )*
            }
        }
        $crate::update_graph_many_methods!($mode $graph);
    };
    (@columns keys $row:ty, $rows:expr, $tag:literal) => {
        $rows
    };
    (@columns $count:ident $row:ty, $rows:expr, $tag:literal) => {
        <$row>::columns($rows).map_err(|e| e.in_step($tag))?
    };
    (@bind keys, $params:ident, $field:ident { $col:tt as $ty:ident }) => {
        $params.push((&$field.columns, $crate::param_type!($ty)));
    };
    (@bind $count:ident, $params:ident, $field:ident { $($col:tt as $ty:ident),* }) => {
        $($params.push((&$field.columns.$col, $crate::param_type!($ty)));)*
    };
    (@take keys $flag:ident, $taken:expr, $ordinal:ident, $rows:ident) => {
        $crate::update_graph_many!(@take many $flag, $taken, $ordinal, $rows)
    };
    (@take many $flag:ident, $taken:expr, $ordinal:ident, $rows:ident) => {
        if let Some(mut given) = $taken {
            $crate::update_graph_many!(@given $flag, $ordinal, $rows);
            $rows.ordinals.extend(::std::iter::repeat_n($ordinal, given.len()));
            $rows.columns.append(&mut given);
        }
    };
    (@take one delete, $taken:expr, $ordinal:ident, $rows:ident) => {
        match $taken {
            Some(Some(row)) => {
                $rows.ordinals.push($ordinal);
                $rows.columns.push(row);
            }
            Some(None) => $rows.flags.push($ordinal),
            None => {}
        }
    };
    (@take one $flag:ident, $taken:expr, $ordinal:ident, $rows:ident) => {
        if let Some(given) = $taken {
            $crate::update_graph_many!(@given $flag, $ordinal, $rows);
            if let Some(row) = given {
                $rows.ordinals.push($ordinal);
                $rows.columns.push(row);
            }
        }
    };
    (@given active, $ordinal:ident, $rows:ident) => {
        $rows.flags.push($ordinal);
    };
    (@given $flag:ident, $ordinal:ident, $rows:ident) => {};
    (@flag none, $params:ident, $field:ident) => {};
    (@flag $flag:ident, $params:ident, $field:ident) => {
        $params.push((&$field.flags, $crate::__private::Type::INT8_ARRAY));
    };
}

/// The entry points of [`UpdateGraphMany`] for a graph that does not lock its root: any
/// client or transaction.
pub trait UpdateGraphManyPlain: UpdateGraphMany + UpdateGraphPlain
where
    <Self::Root as Table>::Key: Sized + Send + Sync,
{
    /// Applies each graph to the root its key names, all in one statement, and returns the
    /// rows affected by all steps of all graphs. [`Error::NotFound`] (naming the first
    /// graph whose key names no row) when any key names no row: then nothing changed. An
    /// empty batch sends nothing.
    fn update_graph_many<C: GenericClient>(
        conn: &C,
        graphs: impl IntoIterator<Item = (<Self::Root as Table>::Key, Self)> + Send,
    ) -> impl Future<Output = Result<u64>> + Send {
        let graphs: Vec<_> = graphs.into_iter().collect();
        async move { Ok(write_many(graphs, Plain(conn)).await?.affected) }
    }

    /// Like [`update_graph_many`](Self::update_graph_many), and reports the rows each step
    /// affected, summed over the graphs.
    fn update_graph_many_report<C: GenericClient>(
        conn: &C,
        graphs: impl IntoIterator<Item = (<Self::Root as Table>::Key, Self)> + Send,
    ) -> impl Future<Output = Result<WriteReport<()>>> + Send {
        let graphs: Vec<_> = graphs.into_iter().collect();
        async move { Ok(without_roots(write_many(graphs, Plain(conn)).await?)) }
    }

    /// Like [`update_graph_many`](Self::update_graph_many), and returns every root row
    /// after all steps, in input order.
    fn update_graph_many_returning<C: GenericClient>(
        conn: &C,
        graphs: impl IntoIterator<Item = (<Self::Root as Table>::Key, Self)> + Send,
    ) -> impl Future<Output = Result<Vec<Self::Root>>> + Send {
        let graphs: Vec<_> = graphs.into_iter().collect();
        async move {
            Ok(write_many(graphs, Plain(conn))
                .await?
                .root
                .unwrap_or_default())
        }
    }

    /// Like [`update_graph_many_report`](Self::update_graph_many_report), with every root
    /// row after all steps, in input order.
    fn update_graph_many_report_returning<C: GenericClient>(
        conn: &C,
        graphs: impl IntoIterator<Item = (<Self::Root as Table>::Key, Self)> + Send,
    ) -> impl Future<Output = Result<WriteReport<Vec<Self::Root>>>> + Send {
        let graphs: Vec<_> = graphs.into_iter().collect();
        write_many(graphs, Plain(conn))
    }
}

impl<G: UpdateGraphMany + UpdateGraphPlain> UpdateGraphManyPlain for G where
    <G::Root as Table>::Key: Sized + Send + Sync
{
}

/// The entry points of [`UpdateGraphMany`] for a graph that locks its root: every root is
/// locked first, in key order (so that two batches cannot deadlock each other), on a
/// [`LockingClient`] (`&tx`, or `&mut client`, on which the call opens a transaction and
/// commits it in the same round trip).
pub trait UpdateGraphManyLocking: UpdateGraphMany + UpdateGraphLocking
where
    <Self::Root as Table>::Key: Sized + Send + Sync,
{
    /// Locks every root, applies each graph to the root its key names, all in one
    /// statement, and returns the rows affected by all steps of all graphs.
    /// [`Error::NotFound`] (naming the first graph whose key names no row) when any key
    /// names no row: then nothing changed. An empty batch sends nothing.
    fn update_graph_many<L: LockingClient>(
        conn: L,
        graphs: impl IntoIterator<Item = (<Self::Root as Table>::Key, Self)> + Send,
    ) -> impl Future<Output = Result<u64>> + Send {
        let graphs: Vec<_> = graphs.into_iter().collect();
        async move { Ok(write_many(graphs, locked::<Self, L>(conn)).await?.affected) }
    }

    /// Like [`update_graph_many`](Self::update_graph_many), and reports the rows each step
    /// affected, summed over the graphs.
    fn update_graph_many_report<L: LockingClient>(
        conn: L,
        graphs: impl IntoIterator<Item = (<Self::Root as Table>::Key, Self)> + Send,
    ) -> impl Future<Output = Result<WriteReport<()>>> + Send {
        let graphs: Vec<_> = graphs.into_iter().collect();
        async move {
            Ok(without_roots(
                write_many(graphs, locked::<Self, L>(conn)).await?,
            ))
        }
    }

    /// Like [`update_graph_many`](Self::update_graph_many), and returns every root row
    /// after all steps, in input order.
    fn update_graph_many_returning<L: LockingClient>(
        conn: L,
        graphs: impl IntoIterator<Item = (<Self::Root as Table>::Key, Self)> + Send,
    ) -> impl Future<Output = Result<Vec<Self::Root>>> + Send {
        let graphs: Vec<_> = graphs.into_iter().collect();
        async move {
            Ok(write_many(graphs, locked::<Self, L>(conn))
                .await?
                .root
                .unwrap_or_default())
        }
    }

    /// Like [`update_graph_many_report`](Self::update_graph_many_report), with every root
    /// row after all steps, in input order.
    fn update_graph_many_report_returning<L: LockingClient>(
        conn: L,
        graphs: impl IntoIterator<Item = (<Self::Root as Table>::Key, Self)> + Send,
    ) -> impl Future<Output = Result<WriteReport<Vec<Self::Root>>>> + Send {
        let graphs: Vec<_> = graphs.into_iter().collect();
        write_many(graphs, locked::<Self, L>(conn))
    }
}

impl<G: UpdateGraphMany + UpdateGraphLocking> UpdateGraphManyLocking for G where
    <G::Root as Table>::Key: Sized + Send + Sync
{
}

/// The lock of every root of `G`, then the statement, in one transaction.
fn locked<G: UpdateGraphMany, L: LockingClient>(conn: L) -> Locked<L> {
    Locked {
        conn,
        lock: G::MANY.lock,
    }
}

/// A report without its root rows.
fn without_roots<R>(report: WriteReport<R>) -> WriteReport<()> {
    WriteReport {
        affected: report.affected,
        steps: report.steps,
        root: None,
    }
}

/// The body of every `update_graph_many*` method, in the span of its write.
async fn write_many<G: UpdateGraphMany>(
    graphs: Vec<(<G::Root as Table>::Key, G)>,
    conn: impl SendStatement,
) -> Result<WriteReport<Vec<G::Root>>>
where
    <G::Root as Table>::Key: Sized + Send + Sync,
{
    crate::trace::graph(
        G::NAME,
        "update_graph_many",
        "MANY",
        update_many(graphs, conn),
    )
    .await
}

/// Checks the batch, builds its statement (the roots' part from the columns its patches
/// set, then [`UpdateMany::tail`]) and sends it.
async fn update_many<G: UpdateGraphMany>(
    graphs: Vec<(<G::Root as Table>::Key, G)>,
    conn: impl SendStatement,
) -> Result<WriteReport<Vec<G::Root>>>
where
    <G::Root as Table>::Key: Sized + Send + Sync,
{
    if graphs.is_empty() {
        return Ok(WriteReport::from_steps(no_rows(G::STEPS), Some(Vec::new())));
    }
    let (ids, mut graphs): (Vec<_>, Vec<G>) = graphs.into_iter().unzip();
    let keys: Vec<_> = ids.iter().map(G::Root::bind_key).collect();
    let keys: Vec<&[Param<'_>]> = keys.iter().map(AsRef::as_ref).collect();
    check_repeated_keys::<G>(&keys)?;
    let parts = G::parts_many(&mut graphs)?;
    let mut set = Assignments::batch();
    for graph in &graphs {
        graph.assign_root(&mut set);
        set.next_patch();
    }
    let root_columns = set.into_batch();
    let patch_columns: Vec<BatchColumns<'_>> = (0..G::MANY.patches.len())
        .map(|n| {
            let mut set = Assignments::batch();
            for graph in &graphs {
                graph.assign_child(n, &mut set);
                set.next_patch();
            }
            set.into_batch()
        })
        .collect();
    let statement = ManyStatement::new(&keys, &root_columns, &patch_columns, graphs.len())?;
    let mut params: Vec<Param<'_>> = statement.keys.iter().map(DynArray::param).collect();
    params.push((&statement.writes, Type::BOOL_ARRAY));
    G::bind_many(&parts, &mut params);
    let sql = statement.sql::<G>(params.len());
    statement.root.push_params(&mut params);
    for patch in &statement.patches {
        patch.push_params(&mut params);
    }
    let key_count = statement.keys.len();
    let count = graphs.len();
    counted!(let key = &params[..key_count]);
    counted!(let params = &params);
    let rows = conn
        .send(&key, &sql, &params)
        .await
        .map_err(|error| match too_large(&error) {
            Some(too_large) => too_large.error(Writes::Batch {
                writer: G::NAME,
                count,
                noun: "graphs",
            }),
            None => many_error::<G>(error),
        })?;
    read_roots::<G>(&rows, graphs.len(), statement.written)
}

/// The roots in input order and the report, from the statement's rows (one per root).
fn read_roots<G: UpdateGraph>(
    rows: &[Row],
    graphs: usize,
    written: u64,
) -> Result<WriteReport<Vec<G::Root>>> {
    // A missing root fails the statement, unless every root is missing (then the check
    // has no row to run in, and nothing was written).
    let Some(first) = rows.first() else {
        return Err(root_not_found::<G>(0));
    };
    if rows.len() != graphs {
        return Err(root_not_found::<G>(rows.len().min(graphs)));
    }
    let steps = step_reports(G::STEPS, first, G::ROOT_COLUMNS, written)?;
    let roots = rows
        .iter()
        .map(G::Root::from_row)
        .collect::<Result<Vec<_>>>()?;
    Ok(WriteReport::from_steps(steps, Some(roots)))
}

/// [`Error::NotFound`] of the root of graph `index` (from 0).
fn root_not_found<G: UpdateGraph>(index: usize) -> Error {
    Error::NotFound {
        table: G::Root::NAME,
        step: None,
        graph: Some(index),
    }
}

/// A database error of the statement: the check's NotFound marker (with the ordinal of the
/// first missing root) as [`Error::NotFound`], else `Error::Db` with the step it came from.
fn many_error<G: UpdateGraph>(error: PgError) -> Error {
    let missing = error.as_db_error().and_then(|db| {
        let (_, marked) = db.message().split_once(NOT_FOUND_MARKER)?;
        let ordinal = marked
            .strip_prefix(G::STEPS.first()?.tag)?
            .strip_prefix(':')?;
        let digits: String = ordinal.chars().take_while(char::is_ascii_digit).collect();
        digits.parse::<usize>().ok()
    });
    match missing {
        Some(ordinal) => root_not_found::<G>(ordinal.saturating_sub(1)),
        None => connect_not_found(G::CONNECT_STEPS, &error)
            .unwrap_or_else(|| Error::db_in_steps(G::ERROR_STEPS.of(&error), error)),
    }
}

/// Two graphs of one batch must not name one root: PostgreSQL would apply one of the two
/// patches, unsaid which. Keys compare by their encoding, as the server receives them.
fn check_repeated_keys<G: UpdateGraph>(keys: &[&[Param<'_>]]) -> Result<()> {
    let mut seen: HashMap<Vec<u8>, usize> = HashMap::with_capacity(keys.len());
    let mut buf = BytesMut::new();
    for (index, key) in keys.iter().enumerate() {
        buf.clear();
        for (value, ty) in key.iter() {
            let start = buf.len();
            buf.extend_from_slice(&[0; 4]);
            let length = match value.to_sql_checked(ty, &mut buf).map_err(|e| {
                Error::Validation(format!("{}: key of graph {index}: {e}", G::NAME).into())
            })? {
                IsNull::Yes => -1,
                IsNull::No => i32::try_from(buf.len() - start - 4).unwrap_or(i32::MAX),
            };
            buf[start..start + 4].copy_from_slice(&length.to_be_bytes());
        }
        if let Some(first) = seen.insert(buf.to_vec(), index) {
            return Err(Error::Validation(ValidationError::new(
                ValidationKind::RepeatedKey,
                format!(
                    "{}: two graphs update the same row of `{}` (graphs {first} and {index}); give each root once",
                    G::NAME,
                    G::Root::NAME
                ),
            )));
        }
    }
    Ok(())
}

/// The statement of one batch and the arrays it binds besides the children's rows.
struct ManyStatement<'a> {
    /// Per key column, every graph's value.
    keys: Vec<DynArray<'a>>,
    /// Per graph, whether its patch sets a root column.
    writes: Vec<bool>,
    /// How many graphs' patches set a root column: the root step's count.
    written: u64,
    /// The roots' SET list, over every graph.
    root: SetArrays<'a>,
    /// Per child patch step, its SET list over the graphs whose patch sets a column.
    patches: Vec<SetArrays<'a>>,
}

/// The arrays of one SET list of a batch: per column any patch sets, whether each patch sets
/// it (unless all do) and its value; for a child patch step, first the ordinals of the
/// graphs it runs for.
struct SetArrays<'a> {
    /// A child patch step's graphs, as ordinals from 1; `None` for the roots (every graph).
    ordinals: Option<Vec<i64>>,
    /// The columns.
    columns: Vec<ColumnArrays<'a>>,
}

/// The arrays of one column that a batch's patches set.
struct ColumnArrays<'a> {
    /// The quoted column name.
    name: &'a str,
    /// Empty, or `::<type>` (an enum sent as text).
    cast: &'a str,
    /// Per graph, whether its patch sets the column; `None` when every one does.
    flags: Option<Vec<bool>>,
    /// Per graph, the value it sets, or NULL; `None` for a column set to an expression of
    /// the statement's own (a connect's looked-up key).
    values: Option<DynArray<'a>>,
}

impl<'a> SetArrays<'a> {
    /// The arrays of `batch` over the graphs `chosen` picks (by index, in order), of
    /// `graphs` in all; `ordinals` for a child patch step.
    fn new(
        batch: &'a BatchColumns<'a>,
        graphs: usize,
        chosen: &[usize],
        ordinals: bool,
    ) -> Result<Self> {
        let mut columns = Vec::with_capacity(batch.columns.len());
        for column in &batch.columns {
            let values: Vec<_> = chosen
                .iter()
                .map(|&g| column.values.get(g).copied().flatten())
                .collect();
            let flags = (!values.iter().all(Option::is_some))
                .then(|| values.iter().map(Option::is_some).collect());
            let values = if column.expression {
                None
            } else {
                Some(DynArray::new(column.ty.clone(), values).map_err(|_| {
                    Error::Validation(
                        format!(
                            "column {} holds an array, which a batch cannot send as one array per column; update these roots one by one (update_by_id_graph)",
                            column.name
                        )
                        .into(),
                    )
                })?)
            };
            columns.push(ColumnArrays {
                name: &column.name,
                cast: &column.cast,
                flags,
                values,
            });
        }
        debug_assert!(chosen.iter().all(|&g| g < graphs));
        Ok(Self {
            ordinals: ordinals.then(|| chosen.iter().map(|&g| g as i64 + 1).collect()),
            columns,
        })
    }

    /// The SET list, read from `s` with the target table as `target`, and the arrays and
    /// aliases of `UNNEST(...) AS s(...)` after the fixed ones, numbered from `n + 1`.
    /// A column set to an expression of the statement's own takes it from `expressions`
    /// (column, value).
    fn text(
        &self,
        target: &str,
        expressions: &[(&str, &str)],
        n: &mut usize,
    ) -> (String, String, String) {
        let (mut set, mut arrays, mut aliases) = (Vec::new(), String::new(), String::new());
        if self.ordinals.is_some() {
            *n += 1;
            arrays.push_str(&format!("${n}"));
        }
        for (j, column) in self.columns.iter().enumerate() {
            let name = column.name;
            let value = match &column.values {
                Some(_) => format!("s.v{j}{}", column.cast),
                None => expressions
                    .iter()
                    .find(|(c, _)| *c == name)
                    .map_or_else(|| "NULL".to_owned(), |(_, e)| (*e).to_owned()),
            };
            if column.flags.is_some() {
                set.push(format!(
                    "{name} = CASE WHEN s.f{j} THEN {value} ELSE {target}.{name} END"
                ));
                *n += 1;
                arrays.push_str(&format!(", ${n}"));
                aliases.push_str(&format!(", f{j}"));
            } else {
                set.push(format!("{name} = {value}"));
            }
            if column.values.is_some() {
                *n += 1;
                arrays.push_str(&format!(", ${n}"));
                aliases.push_str(&format!(", v{j}"));
            }
        }
        (set.join(", "), arrays, aliases)
    }

    /// Appends the arrays, in the order [`text`](Self::text) numbers them.
    fn push_params(&'a self, params: &mut Vec<Param<'a>>) {
        if let Some(ordinals) = &self.ordinals {
            params.push((ordinals, Type::INT8_ARRAY));
        }
        for column in &self.columns {
            if let Some(flags) = &column.flags {
                params.push((flags, Type::BOOL_ARRAY));
            }
            if let Some(values) = &column.values {
                params.push(values.param());
            }
        }
    }
}

impl<'a> ManyStatement<'a> {
    /// The arrays for `graphs` graphs with these keys and the collected root columns and
    /// child patches' columns.
    fn new(
        keys: &[&[Param<'a>]],
        root: &'a BatchColumns<'a>,
        patches: &'a [BatchColumns<'a>],
        graphs: usize,
    ) -> Result<Self> {
        let key_columns = keys.first().map_or(0, |k| k.len());
        let keys_arrays = (0..key_columns)
            .map(|c| {
                DynArray::new(
                    keys[0][c].1.clone(),
                    keys.iter().map(|k| Some(k[c].0)).collect(),
                )
            })
            .collect::<Result<Vec<_>>>()?;
        let sets = |batch: &BatchColumns<'_>, graph: usize| {
            batch
                .columns
                .iter()
                .any(|c| c.values.get(graph).is_some_and(Option::is_some))
        };
        let writes: Vec<bool> = (0..graphs).map(|g| sets(root, g)).collect();
        let every: Vec<usize> = (0..graphs).collect();
        let patches = patches
            .iter()
            .map(|batch| {
                let chosen: Vec<usize> = (0..graphs).filter(|&g| sets(batch, g)).collect();
                SetArrays::new(batch, graphs, &chosen, true)
            })
            .collect::<Result<Vec<_>>>()?;
        Ok(Self {
            keys: keys_arrays,
            written: writes.iter().filter(|w| **w).count() as u64,
            writes,
            root: SetArrays::new(root, graphs, &every, false)?,
            patches,
        })
    }

    /// The statement of graph `G`, whose SET lists' parameters come after the `before`
    /// others (keys, write flags, children): the roots' part, then the tail up to each child
    /// patch step, whose part is its CTE around its SET list, or a CTE that writes nothing
    /// when no patch of the batch sets a column of it.
    fn sql<G: UpdateGraphMany>(&self, before: usize) -> String {
        let many = G::MANY;
        let mut n = before;
        let mut sql = if self.root.columns.is_empty() {
            many.select.to_owned()
        } else {
            let (set, arrays, aliases) = self.root.text("t", many.connects, &mut n);
            [
                many.update,
                &set,
                many.from,
                &arrays,
                many.aliases,
                &aliases,
                many.rest,
            ]
            .concat()
        };
        sql.push_str(many.tail);
        for (patch, arrays) in many.patches.iter().zip(&self.patches) {
            if arrays.columns.is_empty() {
                sql.push_str(patch.skip);
            } else {
                let (set, unnest, aliases) = arrays.text("c", &[], &mut n);
                sql.push_str(patch.update);
                sql.push_str(&set);
                sql.push_str(" FROM UNNEST(");
                sql.push_str(&unnest);
                sql.push_str(") AS s(o");
                sql.push_str(&aliases);
                sql.push_str(patch.update_where);
            }
            sql.push_str(patch.then);
        }
        sql
    }
}

/// A one-dimensional array of values of one element type, each given as a `ToSql` value
/// (`None` for NULL): the column of a batch whose values are borrowed from many patches.
#[derive(Debug)]
struct DynArray<'a> {
    /// The array type it is sent as.
    array: Type,
    /// The elements.
    values: Vec<Option<&'a (dyn ToSql + Sync)>>,
}

impl<'a> DynArray<'a> {
    /// An array of `values` of type `element`; an error when `element` has no array type
    /// here (it is an array itself: PostgreSQL has no arrays of arrays).
    fn new(element: Type, values: Vec<Option<&'a (dyn ToSql + Sync)>>) -> Result<Self> {
        let array = array_type(&element).ok_or_else(|| {
            Error::Validation(
                format!("no array type of `{element}` to send a batch's values as").into(),
            )
        })?;
        Ok(Self { array, values })
    }

    /// The array as a parameter.
    fn param(&self) -> Param<'_> {
        (self, self.array.clone())
    }
}

impl ToSql for DynArray<'_> {
    fn to_sql(
        &self,
        ty: &Type,
        out: &mut BytesMut,
    ) -> std::result::Result<IsNull, Box<dyn std::error::Error + Sync + Send>> {
        let Kind::Array(member) = ty.kind() else {
            return Err(format!("`{ty}` is not an array type").into());
        };
        let dimension = postgres_protocol::types::ArrayDimension {
            len: i32::try_from(self.values.len())?,
            lower_bound: 1,
        };
        postgres_protocol::types::array_to_sql(
            Some(dimension),
            member.oid(),
            self.values.iter(),
            |value, buf| match value {
                None => Ok(postgres_protocol::IsNull::Yes),
                Some(value) => match value.to_sql_checked(member, buf)? {
                    IsNull::Yes => Ok(postgres_protocol::IsNull::Yes),
                    IsNull::No => Ok(postgres_protocol::IsNull::No),
                },
            },
            out,
        )?;
        Ok(IsNull::No)
    }

    fn accepts(ty: &Type) -> bool {
        matches!(ty.kind(), Kind::Array(_))
    }

    to_sql_checked!();
}

/// The array type of a type generated code binds values as (the built-in types it maps
/// columns to; enums and overridden types travel as `text`).
fn array_type(element: &Type) -> Option<Type> {
    let pairs = [
        (Type::BOOL, Type::BOOL_ARRAY),
        (Type::INT2, Type::INT2_ARRAY),
        (Type::INT4, Type::INT4_ARRAY),
        (Type::INT8, Type::INT8_ARRAY),
        (Type::FLOAT4, Type::FLOAT4_ARRAY),
        (Type::FLOAT8, Type::FLOAT8_ARRAY),
        (Type::NUMERIC, Type::NUMERIC_ARRAY),
        (Type::TEXT, Type::TEXT_ARRAY),
        (Type::VARCHAR, Type::VARCHAR_ARRAY),
        (Type::BPCHAR, Type::BPCHAR_ARRAY),
        (Type::NAME, Type::NAME_ARRAY),
        (Type::BYTEA, Type::BYTEA_ARRAY),
        (Type::UUID, Type::UUID_ARRAY),
        (Type::DATE, Type::DATE_ARRAY),
        (Type::TIME, Type::TIME_ARRAY),
        (Type::TIMESTAMP, Type::TIMESTAMP_ARRAY),
        (Type::TIMESTAMPTZ, Type::TIMESTAMPTZ_ARRAY),
        (Type::INTERVAL, Type::INTERVAL_ARRAY),
        (Type::JSON, Type::JSON_ARRAY),
        (Type::JSONB, Type::JSONB_ARRAY),
        (Type::INET, Type::INET_ARRAY),
        (Type::CIDR, Type::CIDR_ARRAY),
        (Type::MACADDR, Type::MACADDR_ARRAY),
        (Type::MACADDR8, Type::MACADDR8_ARRAY),
        (Type::VARBIT, Type::VARBIT_ARRAY),
        (Type::BIT, Type::BIT_ARRAY),
        (Type::POINT, Type::POINT_ARRAY),
        (Type::CHAR, Type::CHAR_ARRAY),
        (Type::OID, Type::OID_ARRAY),
    ];
    pairs
        .into_iter()
        .find(|(scalar, _)| scalar == element)
        .map(|(_, array)| array)
}

/// `impl UpdateGraph` of a generated update graph and, through
/// [`update_graph_many!`](crate::update_graph_many), its `impl UpdateGraphMany`, from one
/// list of the graph's fields: the consts of the impl as they are (its statements and
/// steps), the root's step (its patch, the field `root`, is assigned and checked as
/// [`Patch`](crate::Patch) does, its errors tagged with that step), the diff steps'
/// repeated-key checks (`field: key-reader, "table", ["column", ..]`), then
/// `update_graph_many!`'s arguments: its mode and parts, its connects (none here) and the
/// child steps. `parts`, `bind_parts`, `check`, `sets_nothing` and `assign_root` of one
/// graph take the children as the batch does:
///
/// ```text
/// update_graph! {
///     impl OrderReplaceGraph { type Root = Order; const NAME: &'static str = ..; .. }
///     root "graph:root:orders";
///     unique [];
///     many plain UpdateMany { .. };
///     connects [];
///     items: many active NewOrderItemForOrder => NewOrderItemColumns, "graph:has_many:order_items" { c0 as INT8_ARRAY };
/// }
/// ```
#[doc(hidden)]
#[macro_export]
macro_rules! update_graph {
    (
        impl $graph:ty { $($items:tt)* }
        root $root_tag:literal;
        unique [$($uf:ident: $key:expr, $utable:literal, [$($ucol:literal),*]);* $(;)?];
        many $mode:ident $many:expr;
        connects [];
        $($field:ident : $count:ident $flag:ident $row:ty => $columns:ty, $tag:literal { $($col:tt as $ty:ident),* $(,)? });* $(;)?
    ) => {
        impl $crate::UpdateGraph for $graph {
            $($items)*
            type Parts = ($(($crate::update_graph!(@flag_type $flag), $columns),)*);
            fn sets_nothing(&self) -> bool {
                $crate::Patch::sets_nothing(&self.root) $(&& self.$field.is_none())*
            }
            fn check(&self) -> $crate::Result<()> {
                $crate::Patch::check(&self.root).map_err(|e| e.in_step($root_tag))?;
                $($crate::write::check_unique(
                    self.$uf.as_deref().unwrap_or_default(),
                    $key,
                    $crate::write::RepeatedKey::GraphDiff {
                        graph: <Self as $crate::UpdateGraph>::NAME,
                        field: stringify!($uf),
                        table: $utable,
                        columns: &[$($ucol),*],
                    },
                )?;)*
                Ok(())
            }
            fn parts(&mut self) -> $crate::Result<Self::Parts> {
                <Self as $crate::UpdateGraph>::check(self)?;
                Ok(($((
                    $crate::update_graph!(@flag $flag, self.$field),
                    $crate::update_graph!(@part $count $row, self.$field.take(), $tag),
                ),)*))
            }
            fn bind_parts<'a>(
                parts: &'a Self::Parts,
                params: &mut ::std::vec::Vec<$crate::write::Param<'a>>,
            ) {
                let ($($field,)*) = parts;
                $(
                    $crate::update_graph!(@bind_flag $flag, params, &$field.0);
                    $crate::update_graph!(@bind $count, params, $field { $($col as $ty),* });
                )*
            }
            fn assign_root<'a>(&'a self, set: &mut $crate::write::Assignments<'a>) {
                $crate::Patch::assign(&self.root, set);
            }
        }
        $crate::update_graph_many! {
            $graph, $mode, $many;
            connects [];
            $($field : $count $flag $row => $columns, $tag { $($col as $ty),* });*
        }
    };
    (@flag_type none) => { () };
    (@flag_type $flag:ident) => { bool };
    (@flag none, $value:expr) => { () };
    (@flag active, $value:expr) => { $value.is_some() };
    (@flag delete, $value:expr) => { matches!($value, Some(None)) };
    (@part keys $row:ty, $taken:expr, $tag:literal) => {
        $taken.unwrap_or_default()
    };
    (@part many $row:ty, $taken:expr, $tag:literal) => {
        <$row>::columns($taken.unwrap_or_default()).map_err(|e| e.in_step($tag))?
    };
    (@part one $row:ty, $taken:expr, $tag:literal) => {
        <$row>::columns($taken.flatten().into_iter().collect()).map_err(|e| e.in_step($tag))?
    };
    (@bind_flag none, $params:ident, $flag:expr) => {};
    (@bind_flag $kind:ident, $params:ident, $flag:expr) => {
        $params.push(($flag, $crate::__private::Type::BOOL))
    };
    (@bind keys, $params:ident, $part:ident { $col:tt as $ty:ident }) => {
        $params.push((&$part.1, $crate::param_type!($ty)))
    };
    (@bind $count:ident, $params:ident, $part:ident { $($col:tt as $ty:ident),* }) => {
        $($params.push((&$part.1.$col, $crate::param_type!($ty)));)*
    };
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_scalar_type_has_its_array_and_arrays_have_none() {
        assert_eq!(array_type(&Type::INT8), Some(Type::INT8_ARRAY));
        assert_eq!(array_type(&Type::TEXT), Some(Type::TEXT_ARRAY));
        assert_eq!(array_type(&Type::INT8_ARRAY), None);
    }

    #[test]
    fn an_array_of_borrowed_values_encodes_as_postgres_reads_it() -> Result<()> {
        let (one, three) = (1_i64, 3_i64);
        let array = DynArray::new(Type::INT8, vec![Some(&one), None, Some(&three)])?;
        let mut out = BytesMut::new();
        array
            .to_sql(&Type::INT8_ARRAY, &mut out)
            .map_err(|e| Error::Validation(e.to_string().into()))?;
        let mut expected = BytesMut::new();
        Vec::<Option<i64>>::to_sql(
            &vec![Some(1), None, Some(3)],
            &Type::INT8_ARRAY,
            &mut expected,
        )
        .map_err(|e| Error::Validation(e.to_string().into()))?;
        assert_eq!(out, expected);
        Ok(())
    }
}
