//! Many update graphs of one kind in one statement (`update_graph_many`): each root by its
//! key with its own patch, and the children of every root, as rows of arrays.

use std::collections::HashMap;
use std::future::Future;

use bytes::BytesMut;
use tokio_postgres::types::{to_sql_checked, IsNull, Kind, ToSql, Type};
use tokio_postgres::{Error as PgError, Row};

use super::graph::{no_rows, step_reports, Locked, Plain, SendStatement, NOT_FOUND_MARKER};
use super::limit::{counted, too_large, Writes};
use super::patch::BatchColumns;
use super::{Assignments, Param, Table, UpdateGraph, UpdateGraphLocking, UpdateGraphPlain};
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
    let columns = set.into_batch();
    let statement = ManyStatement::new(&keys, &columns, graphs.len())?;
    let mut params: Vec<Param<'_>> = statement.keys.iter().map(DynArray::param).collect();
    params.push((&statement.writes, Type::BOOL_ARRAY));
    G::bind_many(&parts, &mut params);
    let sql = statement.sql::<G>(params.len());
    for column in &statement.columns {
        if let Some(flags) = &column.flags {
            params.push((flags, Type::BOOL_ARRAY));
        }
        params.push(column.values.param());
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
        None => Error::db_in_steps(G::ERROR_STEPS.of(&error), error),
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

/// The statement of one batch and the arrays it binds besides the children's.
struct ManyStatement<'a> {
    /// Per key column, every graph's value.
    keys: Vec<DynArray<'a>>,
    /// Per graph, whether its patch sets a root column.
    writes: Vec<bool>,
    /// How many graphs' patches set a root column: the root step's count.
    written: u64,
    /// Per column any patch sets, its arrays.
    columns: Vec<ColumnArrays<'a>>,
}

/// The arrays of one root column that a batch's patches set.
struct ColumnArrays<'a> {
    /// The quoted column name.
    name: &'a str,
    /// Empty, or `::<type>` (an enum sent as text).
    cast: &'a str,
    /// Per graph, whether its patch sets the column; `None` when every one does.
    flags: Option<Vec<bool>>,
    /// Per graph, the value it sets, or NULL.
    values: DynArray<'a>,
}

impl<'a> ManyStatement<'a> {
    /// The arrays for `graphs` graphs with these keys and collected root columns.
    fn new(keys: &[&[Param<'a>]], batch: &'a BatchColumns<'a>, graphs: usize) -> Result<Self> {
        let key_columns = keys.first().map_or(0, |k| k.len());
        let keys_arrays = (0..key_columns)
            .map(|c| {
                DynArray::new(
                    keys[0][c].1.clone(),
                    keys.iter().map(|k| Some(k[c].0)).collect(),
                )
            })
            .collect::<Result<Vec<_>>>()?;
        let mut writes = vec![false; graphs];
        let mut columns = Vec::with_capacity(batch.columns.len());
        for column in &batch.columns {
            let mut values = column.values.clone();
            values.resize(graphs, None);
            for (graph, value) in values.iter().enumerate() {
                writes[graph] |= value.is_some();
            }
            let flags = (!values.iter().all(Option::is_some))
                .then(|| values.iter().map(Option::is_some).collect());
            let values = DynArray::new(column.ty.clone(), values).map_err(|_| {
                Error::Validation(
                    format!(
                        "column {} holds an array, which a batch cannot send as one array per column; update these roots one by one (update_by_id_graph)",
                        column.name
                    )
                    .into(),
                )
            })?;
            columns.push(ColumnArrays {
                name: &column.name,
                cast: &column.cast,
                flags,
                values,
            });
        }
        Ok(Self {
            keys: keys_arrays,
            written: writes.iter().filter(|w| **w).count() as u64,
            writes,
            columns,
        })
    }

    /// The statement of graph `G`, whose assignments' parameters come after the `before`
    /// others (keys, write flags, children).
    fn sql<G: UpdateGraphMany>(&self, before: usize) -> String {
        let many = G::MANY;
        if self.columns.is_empty() {
            return [many.select, many.tail].concat();
        }
        let mut n = before;
        let (mut set, mut arrays, mut aliases) = (Vec::new(), String::new(), String::new());
        for (j, column) in self.columns.iter().enumerate() {
            let (name, cast) = (column.name, column.cast);
            if column.flags.is_some() {
                set.push(format!(
                    "{name} = CASE WHEN s.f{j} THEN s.v{j}{cast} ELSE t.{name} END"
                ));
                n += 1;
                arrays.push_str(&format!(", ${n}"));
                aliases.push_str(&format!(", f{j}"));
            } else {
                set.push(format!("{name} = s.v{j}{cast}"));
            }
            n += 1;
            arrays.push_str(&format!(", ${n}"));
            aliases.push_str(&format!(", v{j}"));
        }
        [
            many.update,
            &set.join(", "),
            many.from,
            &arrays,
            many.aliases,
            &aliases,
            many.rest,
            many.tail,
        ]
        .concat()
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
