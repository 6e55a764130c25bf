//! The statements of one table: batch insert, upsert and insert that skips, find, delete,
//! patch.

use crate::ident::quote_ident;
use crate::model::TableModel;

use super::rows::{
    insert_rows, on_conflict, on_conflict_do_nothing, result_columns, InsertRows, RowsSource,
};
use super::{Param, Statement};

/// The statements of one table. Single-row writes use the batch statements with one row:
/// one statement shape per write, whatever the row count.
#[derive(Debug, Clone)]
pub struct TableStatements {
    /// Many rows, one array per column.
    pub insert_many: Statement,
    /// Many rows, `RETURNING` every column, in input order.
    pub insert_many_returning: Statement,
    /// The statements on the table's conflict key, when it has one.
    pub conflict: Option<ConflictStatements>,
    /// `SELECT` of one row by primary key.
    pub find_by_id: Option<Statement>,
    /// `DELETE` of one row by primary key.
    pub delete_by_id: Option<Statement>,
    /// The patch `UPDATE` of one row by primary key.
    pub update_by_id: Option<PatchStatement>,
    /// `\nRETURNING` every column, for updates.
    pub returning: String,
}

/// The batch inserts of a table with a conflict key: `insert_many` with an `ON CONFLICT`
/// tail on that key, each also `RETURNING` every column, in input order.
#[derive(Debug, Clone)]
pub struct ConflictStatements {
    /// `ON CONFLICT ... DO UPDATE`: the row with the key is updated.
    pub upsert_many: Statement,
    /// `upsert_many` `RETURNING` every column.
    pub upsert_many_returning: Statement,
    /// `ON CONFLICT ... DO NOTHING`: a row whose key is stored is skipped.
    pub insert_ignore_many: Statement,
    /// `insert_ignore_many` `RETURNING` every column: the rows it inserted.
    pub insert_ignore_many_returning: Statement,
}

/// An `UPDATE` whose assignments are added at run time, for the fields a patch sets (so
/// that an `UPDATE OF` trigger on another column does not fire).
#[derive(Debug, Clone)]
pub struct PatchStatement {
    /// `UPDATE "t"\nSET `.
    pub prefix: String,
    /// `\nWHERE "pk" = $1` (key parameters come first, assignments after them).
    pub suffix: String,
    /// The statement as docs show it ([`super::with_set_placeholder`]).
    pub shown: String,
}

/// `SELECT` of one row by its key.
fn find_sql(columns: &str, table: &str, key: &str) -> String {
    format!(
        "\
SELECT {columns}
FROM {table}
WHERE {key}"
    )
}

/// `DELETE` of one row by its key.
fn delete_sql(table: &str, key: &str) -> String {
    format!(
        "\
DELETE FROM {table}
WHERE {key}"
    )
}

/// The patch `UPDATE` of one row by its key, around the assignments the patch sets: the text
/// before them and after them.
fn patch_sql(table: &str, key: &str) -> (String, String) {
    (
        format!(
            "\
UPDATE {table}
SET "
        ),
        format!(
            "
WHERE {key}"
        ),
    )
}

/// Builds every statement of a table.
pub(super) fn table_statements(model: &TableModel<'_>) -> TableStatements {
    let table = model.table.name.to_sql_quoted();
    let returning = format!("\nRETURNING {}", result_columns(model.columns.iter(), ""));
    let InsertRows {
        statement: insert_many,
        rows,
        ..
    } = insert_rows(model, &table, &RowsSource::default());
    let with = |s: &Statement, suffix: &str| Statement {
        sql: format!("{}{suffix}", s.sql),
        params: s.params.clone(),
    };
    let conflict = model.conflict.as_ref().map(|c| {
        let update = on_conflict(model, &table, c, &rows, "\n");
        let nothing = on_conflict_do_nothing(model, c, "\n");
        ConflictStatements {
            upsert_many: with(&insert_many, &update),
            upsert_many_returning: with(&insert_many, &format!("{update}{returning}")),
            insert_ignore_many: with(&insert_many, &nothing),
            insert_ignore_many_returning: with(&insert_many, &format!("{nothing}{returning}")),
        }
    });

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
        conflict,
        find_by_id: key_where.as_ref().map(|w| Statement {
            sql: find_sql(&result_columns(model.columns.iter(), ""), &table, w),
            params: key_params.clone(),
        }),
        delete_by_id: key_where.as_ref().map(|w| Statement {
            sql: delete_sql(&table, w),
            params: key_params.clone(),
        }),
        update_by_id: key_where.as_ref().map(|w| {
            let (prefix, suffix) = patch_sql(&table, w);
            PatchStatement {
                shown: super::with_set_placeholder(&prefix, &suffix),
                prefix,
                suffix,
            }
        }),
        returning,
        insert_many,
    }
}
