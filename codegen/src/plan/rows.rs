//! The rows of an insert, shared by every statement that inserts: batch `UNNEST`, column
//! sources of graph steps, defaults and the `ON CONFLICT` tail.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use crate::ident::quote_ident;
use crate::model::{ColumnModel, Conflict, InsertKind, TableModel};

use super::{Param, Statement};

/// The columns a statement returns to the client, in table order: `"a", "b"::text` (see
/// `ColumnType::read_as_text`), each prefixed (`root.`).
pub(super) fn result_columns<'a>(
    columns: impl Iterator<Item = &'a ColumnModel<'a>>,
    prefix: &str,
) -> String {
    columns
        .map(|c| {
            let cast = match (c.ty.read_as_text, c.ty.element.is_some()) {
                (false, _) => "",
                (true, false) => "::text",
                (true, true) => "::text[]",
            };
            format!("{prefix}{}{cast}", quote_ident(&c.column.name))
        })
        .collect::<Vec<_>>()
        .join(", ")
}

/// `"a", "b", "c"`.
pub(super) fn column_list<'a>(columns: impl Iterator<Item = &'a ColumnModel<'a>>) -> String {
    columns
        .map(|c| quote_ident(&c.column.name))
        .collect::<Vec<_>>()
        .join(", ")
}

/// Where the rows of an insert come from, beyond their own arrays: graph steps number their
/// parameters after the steps before them, join their parent step's CTE, and take some
/// columns from it.
#[derive(Debug, Default)]
pub(super) struct RowsSource {
    /// Parameters before this statement's (`$first_param + 1` is its first).
    pub(super) first_param: usize,
    /// Column index → what the column gets instead of the row's value.
    pub(super) overrides: BTreeMap<usize, ColumnSource>,
    /// Tables joined before the rows: the parent step's CTE (`root, `).
    pub(super) join: String,
    /// Graph steps: rows come back only as a count, so their input order need not be kept
    /// (no `WITH ORDINALITY ... ORDER BY`, one sort less per step).
    pub(super) unordered: bool,
    /// How many rows the statement inserts, and so how its values are bound.
    pub(super) rows: RowCount,
    /// The insert is a CTE's body: written on one line, since a `WITH` lists one CTE per
    /// line. A statement of its own has one clause per line.
    pub(super) in_cte: bool,
    /// Many rows: number them (`WITH ORDINALITY AS u(..., ord)`, from 1 in input order),
    /// so that rows under them can name their parent row.
    pub(super) ordinal: bool,
    /// Many rows under a parent step of many rows: the CTE of the parent's rows, which each
    /// row joins by the ordinal of its parent (`JOIN s1_rows p ON p.ord = u.po`), bound as
    /// [`Param::ParentOrdinal`].
    pub(super) parent_rows: Option<String>,
    /// Many rows of a belongs_to step under a step of many rows: each row carries the
    /// ordinal of the row it belongs with (`u.po`, [`Param::ParentOrdinal`]), joined by it.
    pub(super) binds_own_ordinal: bool,
    /// Joins after the rows' source (`LEFT JOIN s3_rows b3 ON b3.po = u.ord`).
    pub(super) joins: String,
}

impl RowsSource {
    /// What separates the clauses of the insert: a line break, or a space inside a CTE.
    pub(super) fn clause_break(&self) -> &'static str {
        if self.in_cte {
            " "
        } else {
            "\n"
        }
    }
}

/// The one shape of every insert: `INSERT INTO`, then `SELECT` of the rows' values, then where
/// they come from (`FROM UNNEST(...)`, `FROM root`, or nothing for one row of parameters),
/// then what follows (`ORDER BY`, `WHERE`). `nl` separates the clauses
/// ([`RowsSource::clause_break`]).
fn insert_select(nl: &str, table: &str, columns: &str, values: &str, from: &str) -> String {
    format!("INSERT INTO {table} ({columns}){nl}SELECT {values}{from}")
}

/// How many rows an insert writes. One row binds scalars (`$1::bigint`, not
/// `UNNEST($1::bigint[])`): cheaper to encode, to parse and to plan than one-element arrays,
/// and no UNNEST scan.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub enum RowCount {
    /// Any number of rows, one array per column, read with `UNNEST`.
    #[default]
    Many,
    /// A graph's root: exactly one row, each value one scalar parameter, an array column's
    /// whole value too.
    Root,
    /// A one-row graph step (has_one, belongs_to, a single before or after row): each value
    /// one scalar parameter, an array column as its elements and its length. `optional`: the
    /// row may be absent, which a required column's value tells (NULL), or else a first
    /// `$n::boolean` ([`Param::Present`]).
    One {
        /// The row may be absent.
        optional: bool,
    },
}

/// A column's value in a graph step, in place of the row's own.
#[derive(Debug, Clone)]
pub(super) enum ColumnSource {
    /// Always this expression (a child's reference to its parent: `root."id"`). The row's own
    /// value is not bound at all.
    Expression(String),
    /// The row's value when given, else this expression (a column a belongs_to step fills:
    /// `(SELECT "id" FROM s0)`).
    Fallback(String),
}

/// Many rows in one statement, one array per column, rows kept in input order:
///
/// ```sql
/// INSERT INTO "t" ("a", "b")
/// SELECT u.c0, COALESCE(u.c1, <default>)
/// FROM UNNEST($1::bigint[], $2::text[]) WITH ORDINALITY AS u(c0, c1, ord) ORDER BY u.ord
/// ```
///
/// An array column travels as all rows' elements in one array plus each row's start and
/// length, and each row takes its slice (`$3[u.s2 + 1 : u.s2 + u.l2]`): UNNEST would
/// flatten an array of arrays.
pub(super) fn insert_rows(model: &TableModel<'_>, table: &str, source: &RowsSource) -> InsertRows {
    let inserted: Vec<usize> = model
        .columns
        .iter()
        .enumerate()
        .filter(|(_, c)| c.insert.is_some())
        .map(|(i, _)| i)
        .collect();
    let mut binder = Binder {
        first_param: source.first_param,
        rows: source.rows,
        params: Vec::new(),
        unnest: Vec::new(),
        aliases: Vec::new(),
    };
    let mut values = Vec::new();
    // A column filled by an expression binds nothing, unless every column is: then the first
    // one still binds its array, which only carries the row count.
    let expression_only =
        |i: &usize| matches!(source.overrides.get(i), Some(ColumnSource::Expression(_)));
    let carrier = (source.rows == RowCount::Many && inserted.iter().all(expression_only))
        .then(|| inserted.first().copied())
        .flatten();
    let mut rows = RowValues {
        single: source.rows != RowCount::Many,
        ..RowValues::default()
    };
    // Whether an optional row is given: a required column's value is NULL only when the row
    // is absent, so it tells at no cost; else one more parameter says it.
    let optional = matches!(source.rows, RowCount::One { optional: true });
    let witness = inserted.iter().copied().find(|i| {
        let column = &model.columns[*i];
        optional
            && column.insert == Some(InsertKind::Required)
            && column.ty.element.is_none()
            && !source.overrides.contains_key(i)
    });
    let mut present = (optional && witness.is_none()).then(|| {
        let n = binder.push(Param::Present);
        format!("${n}::boolean")
    });
    let scalar = source.rows != RowCount::Many;
    let mut set_arrays: BTreeMap<usize, (String, &str)> = BTreeMap::new();
    for &i in &inserted {
        let column = &model.columns[i];
        if let (Some(ColumnSource::Expression(expression)), false) =
            (source.overrides.get(&i), carrier == Some(i))
        {
            values.push(expression.clone());
            rows.key_values.insert(i, expression.clone());
            continue;
        }
        let flag = (column.insert == Some(InsertKind::NullableDefaulted)).then(|| binder.flag(i));
        let (value, scalar_set) = binder.value(i, column);
        if witness == Some(i) {
            present = Some(format!("{value} IS NOT NULL"));
        }
        let value = cast(value, column.ty.cast_to.as_deref());
        if !source.overrides.contains_key(&i) {
            // How a row says it sets the column: for many rows, the array that holds it per
            // row (its alias) and the element that means it does not; one row, its parameter.
            let set_by = match (column.insert, &column.ty.element) {
                (Some(InsertKind::NullableDefaulted), _) => Some((format!("f{i}"), "false")),
                (Some(InsertKind::Defaulted | InsertKind::Nullable), None) => {
                    Some((format!("c{i}"), "NULL"))
                }
                (Some(InsertKind::Defaulted | InsertKind::Nullable), Some(_)) => {
                    Some((format!("l{i}"), "NULL"))
                }
                _ => None,
            };
            let set_when = match (&set_by, scalar) {
                (None, _) => None,
                (Some(_), _) if flag.is_some() => flag.clone(),
                (Some(_), true) => scalar_set.map(|v| format!("{v} IS NOT NULL")),
                (Some((alias, _)), false) => Some(format!("u.{alias} IS NOT NULL")),
            };
            if let (Some(array), false) = (set_by, scalar) {
                set_arrays.insert(i, array);
            }
            if let Some(set_when) = set_when {
                rows.set_when.insert(i, set_when);
            }
        }
        // A sequence-filled key's value is its expression: another draw from the sequence
        // could never match a stored key.
        let sequence_filled = column.column.serial || column.column.identity.is_some();
        let key_value = sequence_filled.then(|| value.clone());
        let value = match source.overrides.get(&i) {
            Some(ColumnSource::Expression(expression)) => expression.clone(),
            Some(ColumnSource::Fallback(fallback)) => match (column.insert, &column.default_sql) {
                (Some(InsertKind::Defaulted), Some(default)) => {
                    format!("COALESCE({value}, {fallback}, {default})")
                }
                _ => format!("COALESCE({value}, {fallback})"),
            },
            _ => with_default(column, value, flag),
        };
        rows.key_values
            .insert(i, key_value.unwrap_or_else(|| value.clone()));
        values.push(value);
    }
    let columns = column_list(inserted.iter().map(|&i| &model.columns[i]));
    let present_given = present
        .as_ref()
        .map(|present| format!("(CASE WHEN {present} THEN 1 ELSE 0 END)::bigint"));
    let from = from_clause(source, scalar, present, &mut rows, &mut binder);
    let given = match source.rows {
        RowCount::Many => {
            let lengths: Vec<String> = binder
                .unnest
                .iter()
                .map(|array| format!("cardinality({array})"))
                .collect();
            format!("COALESCE(GREATEST({}), 0)::bigint", lengths.join(", "))
        }
        RowCount::One { .. } | RowCount::Root => {
            present_given.unwrap_or_else(|| "1::bigint".to_owned())
        }
    };
    // A column every row of the call sets: its array is as long as the rows and holds no
    // unset element. One scan of one array, once per statement.
    for (i, (alias, unset)) in set_arrays {
        let array = binder
            .aliases
            .iter()
            .position(|a| *a == alias)
            .and_then(|at| binder.unnest.get(at));
        if let Some(array) = array {
            rows.every_set.insert(
                i,
                format!(
                    "(SELECT cardinality({array}) = {given} AND array_position({array}, {unset}) IS NULL)"
                ),
            );
        }
    }
    InsertRows {
        statement: Statement {
            sql: insert_select(
                source.clause_break(),
                table,
                &columns,
                &values.join(", "),
                &from,
            ),
            params: binder.params,
        },
        rows,
        given,
        select: RowsSelect {
            columns: inserted,
            values,
            from,
        },
    }
}

/// Where an insert's rows come from: the joined tables (and `WHERE` the optional row is
/// given) for one row of scalars; `UNNEST` of the bound arrays, in input order unless the
/// statement is a graph step, for many rows. Records the `UNNEST` source in `rows` for an
/// `ON CONFLICT` clause that scans it again.
fn from_clause(
    source: &RowsSource,
    scalar: bool,
    present: Option<String>,
    rows: &mut RowValues,
    binder: &mut Binder,
) -> String {
    let nl = source.clause_break();
    if scalar {
        let join = source.join.trim_end_matches(", ");
        let mut from = if join.is_empty() {
            String::new()
        } else {
            format!("{nl}FROM {join}")
        };
        if let Some(present) = present {
            let _ = write!(from, "{nl}WHERE {present}");
        }
        return from;
    }
    // WITH ORDINALITY's column comes after every array's.
    let parent_join = match &source.parent_rows {
        Some(parent) => {
            binder.unnested(Param::ParentOrdinal, "bigint", "po".to_owned());
            format!(" JOIN {parent} p ON p.ord = u.po")
        }
        None if source.binds_own_ordinal => {
            binder.unnested(Param::ParentOrdinal, "bigint", "po".to_owned());
            String::new()
        }
        None => String::new(),
    };
    let (ordinality, order_by) = match (source.unordered, source.ordinal) {
        (true, false) => ("", String::new()),
        (true, true) => {
            binder.aliases.push("ord".to_owned());
            (" WITH ORDINALITY", String::new())
        }
        (false, _) => {
            binder.aliases.push("ord".to_owned());
            (" WITH ORDINALITY", format!("{nl}ORDER BY u.ord"))
        }
    };
    rows.from = format!(
        "{}UNNEST({}){ordinality} AS u({}){parent_join}{}",
        source.join,
        binder.unnest.join(", "),
        binder.aliases.join(", "),
        source.joins
    );
    format!("{nl}FROM {}{order_by}", rows.from)
}

/// The parameters of one insert as they are numbered, and for many rows the `UNNEST`
/// arrays with the alias each is read by.
struct Binder {
    /// Parameters before this statement's.
    first_param: usize,
    /// How the values are bound.
    rows: RowCount,
    /// This statement's parameters, in `$n` order.
    params: Vec<Param>,
    /// `$n::type[]` of each array `UNNEST` reads (many rows).
    unnest: Vec<String>,
    /// The alias of each `UNNEST` array, in the same order.
    aliases: Vec<String>,
}

impl Binder {
    /// Adds a parameter; returns its number `n` of `$n`.
    fn push(&mut self, param: Param) -> usize {
        self.params.push(param);
        self.params.len() + self.first_param
    }

    /// Adds an array read by `UNNEST` as `u.<alias>`.
    fn unnested(&mut self, param: Param, sql_type: &str, alias: String) {
        let n = self.push(param);
        self.unnest.push(format!("${n}::{sql_type}[]"));
        self.aliases.push(alias);
    }

    /// Whether a nullable column with a default was set: `$n::boolean`, or `u.f<i>` of a
    /// `boolean[]` for many rows.
    fn flag(&mut self, i: usize) -> String {
        if self.rows != RowCount::Many {
            let n = self.push(Param::Flag(i));
            return format!("${n}::boolean");
        }
        self.unnested(Param::Flag(i), "boolean", format!("f{i}"));
        format!("u.f{i}")
    }

    /// The column's value as the `SELECT` reads it, and for one row what is NULL when the row
    /// leaves the column unset.
    ///
    /// An array column of many rows travels as all rows' elements in one array plus each
    /// row's start and length, and each row takes its slice (UNNEST would flatten an array
    /// of arrays); of a one-row step, as its elements and its length; of the root, whole.
    fn value(&mut self, i: usize, column: &ColumnModel<'_>) -> (String, Option<String>) {
        let param_sql = &column.ty.param_sql;
        match (&column.ty.element, self.rows) {
            (_, RowCount::Root) | (None, RowCount::One { .. }) => {
                let n = self.push(Param::Value(i));
                let value = format!("${n}::{param_sql}");
                (value.clone(), Some(value))
            }
            (Some(element), RowCount::One { .. }) => {
                let n = self.push(Param::Elements(i));
                let elements = format!("${n}::{}[]", element.param_sql);
                let n = self.push(Param::Lengths(i));
                let length = format!("${n}::integer");
                (
                    format!("CASE WHEN {length} IS NULL THEN NULL ELSE {elements} END"),
                    Some(length),
                )
            }
            (None, RowCount::Many) => {
                self.unnested(Param::Value(i), param_sql, format!("c{i}"));
                (format!("u.c{i}"), None)
            }
            (Some(element), RowCount::Many) => {
                let n = self.push(Param::Elements(i));
                let elements = format!("${n}::{}[]", element.param_sql);
                self.unnested(Param::Starts(i), "integer", format!("s{i}"));
                self.unnested(Param::Lengths(i), "integer", format!("l{i}"));
                (
                    format!("CASE WHEN u.l{i} IS NULL THEN NULL ELSE ({elements})[u.s{i} + 1 : u.s{i} + u.l{i}] END"),
                    None,
                )
            }
        }
    }
}

/// An insert statement and what an `ON CONFLICT` clause needs to know of its rows.
#[derive(Debug)]
pub(super) struct InsertRows {
    /// The `INSERT ... SELECT`.
    pub(super) statement: Statement,
    /// The rows as the insert reads them.
    pub(super) rows: RowValues,
    /// How many rows the insert is given, as an expression of its parameters alone: the
    /// longest `UNNEST` array (`COALESCE(GREATEST(cardinality($3::text[]), ...), 0)::bigint`),
    /// whether an optional row is given, or `1`. It reads that many rows when each finds
    /// the parent row it joins (by ordinal, or the one root).
    pub(super) given: String,
    /// The insert's `SELECT`, in pieces: a step whose rows have rows under them selects
    /// them once, into a CTE of its own, before inserting them.
    pub(super) select: RowsSelect,
}

/// The `SELECT` of an insert: the value of each inserted column and where the rows come
/// from.
#[derive(Debug)]
pub(super) struct RowsSelect {
    /// Indexes of the inserted columns, in table order.
    pub(super) columns: Vec<usize>,
    /// Each inserted column's value, in the same order.
    pub(super) values: Vec<String>,
    /// The `FROM` (and `WHERE`) clause, with its leading break; empty for one row of
    /// parameters.
    pub(super) from: String,
}

/// The rows of an insert, for an `ON CONFLICT` clause that asks which rows set a column.
#[derive(Debug, Default)]
pub(super) struct RowValues {
    /// One row, bound as scalars: `set_when` reads its parameters directly, with no scan.
    pub(super) single: bool,
    /// `root, UNNEST(...) AS u(...)`: the rows' source, with the aliases the expressions
    /// below use.
    pub(super) from: String,
    /// Column index → the value a row's key column has (`u.c2`, `root."id"`).
    pub(super) key_values: BTreeMap<usize, String>,
    /// Column index → the condition under which a row sets the column (`u.c4 IS NOT NULL`,
    /// `u.f3`); columns every row sets are absent.
    pub(super) set_when: BTreeMap<usize, String>,
    /// Column index → a condition on the parameters alone that holds when every row sets
    /// the column (many rows), so that an upsert assigns it without asking which rows do.
    pub(super) every_set: BTreeMap<usize, String>,
}

/// `value::type` when the parameter's type is not the column's (enums, domains).
pub(super) fn cast(value: String, cast_to: Option<&str>) -> String {
    match cast_to {
        Some(ty) => format!("{value}::{ty}"),
        None => value,
    }
}

/// What an unset value becomes: the column's default.
pub(super) fn with_default(
    column: &ColumnModel<'_>,
    value: String,
    flag: Option<String>,
) -> String {
    let default = column.default_sql.as_deref().unwrap_or("NULL");
    match column.insert {
        Some(InsertKind::Defaulted) => format!("COALESCE({value}, {default})"),
        Some(InsertKind::NullableDefaulted) => {
            format!(
                "CASE WHEN {} THEN {value} ELSE {default} END",
                flag.unwrap_or_else(|| "false".to_owned())
            )
        }
        _ => value,
    }
}

/// `ON CONFLICT ("k1", "k2") DO UPDATE SET "a" = EXCLUDED."a", "b" = CASE WHEN ... END`, after
/// `nl` (a line break, or a space inside a CTE).
///
/// A column every row sets is assigned from `EXCLUDED`. A column a row may leave unset is
/// assigned only for the rows that set it, and keeps its stored value for the others:
///
/// ```sql
/// "b" = CASE WHEN (EXCLUDED."k1", EXCLUDED."k2") IN (SELECT u.c0, u.c1 FROM UNNEST(...) AS u(...)
///                                                    WHERE u.c3 IS NOT NULL)
///            THEN EXCLUDED."b" ELSE "t"."b" END
/// ```
///
/// The subquery reads the statement's own parameters, so the text never changes; it is not
/// correlated, so PostgreSQL evaluates it once, as a hash table, on the first conflict. The
/// conflict key picks the row, since two rows of one statement never share a key. Before it
/// comes a test of the parameters alone, once per statement, that every row sets the column
/// (`(SELECT cardinality($4::bigint[]) = ... AND array_position($4::bigint[], NULL) IS NULL)
/// OR ...`): then the subquery is never run, which is what the common call, with no row
/// leaving the column unset, costs.
pub(super) fn on_conflict(
    model: &TableModel<'_>,
    table: &str,
    conflict: &Conflict,
    rows: &RowValues,
    nl: &str,
) -> String {
    let target = conflict_target(model, conflict);
    let assigned: Vec<usize> = if conflict.update.is_empty() {
        // A no-op update, so that RETURNING returns the existing row and its lock is taken.
        conflict.key.first().copied().into_iter().collect()
    } else {
        conflict.update.clone()
    };
    let excluded_key = conflict
        .key
        .iter()
        .map(|&i| format!("EXCLUDED.{}", quote_ident(&model.columns[i].column.name)))
        .collect::<Vec<_>>()
        .join(", ");
    let row_key: Option<Vec<&String>> = conflict
        .key
        .iter()
        .map(|i| rows.key_values.get(i))
        .collect();
    let sets = assigned
        .iter()
        .map(|&i| {
            let name = quote_ident(&model.columns[i].column.name);
            match (rows.set_when.get(&i), &row_key) {
                // One row: whether it set the column is a parameter, and the conflicting row
                // is that row.
                (Some(set_when), _) if rows.single && !conflict.key.contains(&i) => format!(
                    "{name} = CASE WHEN {set_when} THEN EXCLUDED.{name} ELSE {table}.{name} END"
                ),
                (Some(set_when), Some(row_key)) if !conflict.key.contains(&i) => {
                    let row_key = row_key
                        .iter()
                        .map(|s| s.as_str())
                        .collect::<Vec<_>>()
                        .join(", ");
                    let every = rows
                        .every_set
                        .get(&i)
                        .map(|every| format!("{every} OR "))
                        .unwrap_or_default();
                    format!(
                        "{name} = CASE WHEN {every}({excluded_key}) IN (SELECT {row_key} FROM {} WHERE {set_when}) \
                         THEN EXCLUDED.{name} ELSE {table}.{name} END",
                        rows.from
                    )
                }
                _ => format!("{name} = EXCLUDED.{name}"),
            }
        })
        .collect::<Vec<_>>()
        .join(", ");
    format!("{nl}ON CONFLICT {target} DO UPDATE SET {sets}")
}

/// `ON CONFLICT ("k1", "k2") DO NOTHING`, after `nl` (a line break, or a space inside a
/// CTE): the rows whose conflict key is stored, or repeats an earlier row's, are skipped.
pub(super) fn on_conflict_do_nothing(
    model: &TableModel<'_>,
    conflict: &Conflict,
    nl: &str,
) -> String {
    format!(
        "{nl}ON CONFLICT {} DO NOTHING",
        conflict_target(model, conflict)
    )
}

/// What `ON CONFLICT` names: `ON CONSTRAINT "name"`, or the key's columns `("k1", "k2")`.
pub(super) fn conflict_target(model: &TableModel<'_>, conflict: &Conflict) -> String {
    match &conflict.constraint {
        Some(name) => format!("ON CONSTRAINT {}", quote_ident(name)),
        None => format!(
            "({})",
            column_list(conflict.key.iter().map(|&i| &model.columns[i]))
        ),
    }
}
