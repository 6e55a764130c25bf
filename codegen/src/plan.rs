//! The SQL of every generated write, as text fixed at build time. Each statement shape is
//! built in one function below that reads like the statement it makes.
//!
//! Parameters are described by [`Param`], in `$n` order, so the emitter binds exactly what
//! the statement expects. Every identifier is quoted; every value is a parameter.

use crate::ident::quote_ident;
use crate::validate::{ColumnModel, Conflict, InsertKind, TableModel};

/// What one `$n` parameter of a statement carries.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Param {
    /// The column's value (one row), or all rows' values as an array (batch).
    Value(usize),
    /// Whether the column was set (nullable columns with a default): `bool` or `bool[]`.
    Flag(usize),
    /// Batch, array column: every row's elements, concatenated.
    Elements(usize),
    /// Batch, array column: where each row's elements start in `Elements` (0-based).
    Starts(usize),
    /// Batch, array column: each row's element count, NULL when the row has no array.
    Lengths(usize),
    /// The primary key column's value (`WHERE pk = $n`).
    Key(usize),
}

/// A statement and its parameters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Statement {
    /// SQL text.
    pub sql: String,
    /// Parameters in `$1, $2, ...` order.
    pub params: Vec<Param>,
}

/// The statements of one table. Single-row writes use the batch statements with one row:
/// one statement shape per write, whatever the row count.
#[derive(Debug, Clone)]
pub struct TableStatements {
    /// Many rows, one array per column.
    pub insert_many: Statement,
    /// Many rows, `RETURNING` every column, in input order.
    pub insert_many_returning: Statement,
    /// `insert_many` with `ON CONFLICT ... DO UPDATE`, when the table has a conflict key.
    pub upsert_many: Option<Statement>,
    /// `upsert_many` `RETURNING` every column, in input order.
    pub upsert_many_returning: Option<Statement>,
    /// `SELECT` of one row by primary key.
    pub find_by_id: Option<Statement>,
    /// `DELETE` of one row by primary key.
    pub delete_by_id: Option<Statement>,
    /// `UPDATE "t" SET ` (the assignments are added at run time, for the fields a patch
    /// sets), and ` WHERE "pk" = $1` (key parameters come first).
    pub update_by_id: Option<(String, String)>,
    /// `RETURNING` every column, for updates.
    pub returning: String,
}

/// Builds every statement of a table.
pub fn table_statements(model: &TableModel<'_>) -> TableStatements {
    let table = model.table.name.to_sql_quoted();
    let returning = format!(" RETURNING {}", column_list(model.columns.iter()));
    let inserted: Vec<usize> = model
        .columns
        .iter()
        .enumerate()
        .filter(|(_, c)| c.insert.is_some())
        .map(|(i, _)| i)
        .collect();

    let insert_many = insert_unnest(model, &table, &inserted);
    let with = |s: &Statement, suffix: &str| Statement {
        sql: format!("{}{suffix}", s.sql),
        params: s.params.clone(),
    };
    let on_conflict = model.conflict.as_ref().map(|c| on_conflict(model, c));

    let key_where = (!model.primary_key.is_empty()).then(|| {
        model
            .primary_key
            .iter()
            .enumerate()
            .map(|(n, &i)| {
                format!(
                    "{} = ${}",
                    quote_ident(&model.columns[i].column.name),
                    n + 1
                )
            })
            .collect::<Vec<_>>()
            .join(" AND ")
    });
    let key_params: Vec<Param> = model.primary_key.iter().map(|&i| Param::Key(i)).collect();

    TableStatements {
        insert_many_returning: with(&insert_many, &returning),
        upsert_many: on_conflict.as_ref().map(|c| with(&insert_many, c)),
        upsert_many_returning: on_conflict
            .as_ref()
            .map(|c| with(&insert_many, &format!("{c}{returning}"))),
        find_by_id: key_where.as_ref().map(|w| Statement {
            sql: format!(
                "SELECT {} FROM {table} WHERE {w}",
                column_list(model.columns.iter())
            ),
            params: key_params.clone(),
        }),
        delete_by_id: key_where.as_ref().map(|w| Statement {
            sql: format!("DELETE FROM {table} WHERE {w}"),
            params: key_params.clone(),
        }),
        update_by_id: key_where
            .as_ref()
            .map(|w| (format!("UPDATE {table} SET "), format!(" WHERE {w}"))),
        returning,
        insert_many,
    }
}

/// `"a", "b", "c"`.
fn column_list<'a>(columns: impl Iterator<Item = &'a ColumnModel<'a>>) -> String {
    columns
        .map(|c| quote_ident(&c.column.name))
        .collect::<Vec<_>>()
        .join(", ")
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
fn insert_unnest(model: &TableModel<'_>, table: &str, inserted: &[usize]) -> Statement {
    let mut params = Vec::new();
    let mut unnest = Vec::new();
    let mut aliases = Vec::new();
    let mut values = Vec::new();
    for &i in inserted {
        let column = &model.columns[i];
        let flag = (column.insert == Some(InsertKind::NullableDefaulted)).then(|| {
            params.push(Param::Flag(i));
            unnest.push(format!("${}::boolean[]", params.len()));
            aliases.push(format!("f{i}"));
            format!("u.f{i}")
        });
        let value = match &column.ty.element {
            None => {
                params.push(Param::Value(i));
                unnest.push(format!("${}::{}[]", params.len(), column.ty.param_sql));
                aliases.push(format!("c{i}"));
                format!("u.c{i}")
            }
            Some(element) => {
                params.push(Param::Elements(i));
                let elements = format!("${}::{}[]", params.len(), element.param_sql);
                params.push(Param::Starts(i));
                unnest.push(format!("${}::integer[]", params.len()));
                params.push(Param::Lengths(i));
                unnest.push(format!("${}::integer[]", params.len()));
                aliases.push(format!("s{i}"));
                aliases.push(format!("l{i}"));
                format!("CASE WHEN u.l{i} IS NULL THEN NULL ELSE ({elements})[u.s{i} + 1 : u.s{i} + u.l{i}] END")
            }
        };
        values.push(with_default(
            column,
            cast(value, column.ty.cast_to.as_deref()),
            flag,
        ));
    }
    aliases.push("ord".to_owned());
    Statement {
        sql: format!(
            "INSERT INTO {table} ({}) SELECT {} FROM UNNEST({}) WITH ORDINALITY AS u({}) ORDER BY u.ord",
            column_list(inserted.iter().map(|&i| &model.columns[i])),
            values.join(", "),
            unnest.join(", "),
            aliases.join(", ")
        ),
        params,
    }
}

/// `value::type` when the parameter's type is not the column's (enums, domains).
fn cast(value: String, cast_to: Option<&str>) -> String {
    match cast_to {
        Some(ty) => format!("{value}::{ty}"),
        None => value,
    }
}

/// What an unset value becomes: the column's default.
fn with_default(column: &ColumnModel<'_>, value: String, flag: Option<String>) -> String {
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

/// ` ON CONFLICT ("k1", "k2") DO UPDATE SET "a" = EXCLUDED."a"` (seed design §8).
fn on_conflict(model: &TableModel<'_>, conflict: &Conflict) -> String {
    let target = match &conflict.constraint {
        Some(name) => format!("ON CONSTRAINT {}", quote_ident(name)),
        None => format!(
            "({})",
            column_list(conflict.key.iter().map(|&i| &model.columns[i]))
        ),
    };
    let assigned: Vec<usize> = if conflict.update.is_empty() {
        // A no-op update, so that RETURNING returns the existing row and its lock is taken.
        conflict.key.first().copied().into_iter().collect()
    } else {
        conflict.update.clone()
    };
    let sets = assigned
        .iter()
        .map(|&i| {
            let name = quote_ident(&model.columns[i].column.name);
            format!("{name} = EXCLUDED.{name}")
        })
        .collect::<Vec<_>>()
        .join(", ");
    format!(" ON CONFLICT {target} DO UPDATE SET {sets}")
}
