//! What the generated code expects of the database: its tables, their columns with types and
//! nullability, and the unique keys its statements rely on. The generated `verify_database`
//! carries it as a const (`emit`), and `writegraph verify` checks a database against it; both
//! compare through the runtime's `writegraph::verify`, so one rule decides what differs.

use crate::model::{DiffKey, Model, TableModel, UpdateStrategy};

/// What the generated code expects: its tables and enum types.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExpectedSchema {
    /// The tables it writes, in the model's order.
    pub tables: Vec<ExpectedTable>,
    /// The enum types it maps, in the model's order.
    pub enums: Vec<ExpectedEnum>,
}

/// An enum type the generated code maps to a Rust enum.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExpectedEnum {
    /// Schema, unquoted.
    pub schema: String,
    /// Type name, unquoted.
    pub name: String,
    /// Labels in sort order.
    pub labels: Vec<String>,
}

/// A table the generated code writes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExpectedTable {
    /// Schema, unquoted.
    pub schema: String,
    /// Table name, unquoted.
    pub name: String,
    /// Every column, in table order.
    pub columns: Vec<ExpectedColumn>,
    /// The unique keys the code relies on.
    pub keys: Vec<ExpectedKey>,
}

/// A column the generated code reads or writes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExpectedColumn {
    /// Column name, unquoted.
    pub name: String,
    /// The type as `format_type` prints it with an empty search path.
    pub sql_type: String,
    /// `NOT NULL`.
    pub not_null: bool,
}

/// A unique key the generated code relies on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExpectedKey {
    /// Key columns.
    pub columns: Vec<String>,
    /// It must be the primary key.
    pub primary: bool,
    /// `ON CONFLICT ON CONSTRAINT` names it.
    pub constraint: Option<String>,
    /// What relies on it, in words.
    pub used_by: String,
}

/// The enum types, tables, columns and keys the code generated from `model` expects, in the
/// model's order. A key relied on in several ways is listed once, with every use.
pub fn expected_schema(model: &Model<'_>) -> ExpectedSchema {
    let enums = model
        .enums
        .iter()
        .map(|e| ExpectedEnum {
            schema: e.name.schema.clone(),
            name: e.name.name.clone(),
            labels: e.variants.iter().map(|(label, _)| label.clone()).collect(),
        })
        .collect();
    ExpectedSchema {
        tables: expected_tables(model),
        enums,
    }
}

fn expected_tables(model: &Model<'_>) -> Vec<ExpectedTable> {
    let mut tables: Vec<ExpectedTable> = model.tables.iter().map(expected_table).collect();
    for graph in &model.update_graphs {
        for child in &graph.children {
            let (UpdateStrategy::Diff(DiffKey { conflict, .. }), Some(table)) =
                (&child.strategy, tables.get_mut(child.table))
            else {
                continue;
            };
            let columns = column_names(&model.tables[child.table], &conflict.key);
            add_key(
                table,
                columns,
                false,
                None,
                format!("the diff of `{}.{}`", graph.name, child.field),
            );
        }
    }
    tables
}

fn expected_table(table: &TableModel<'_>) -> ExpectedTable {
    let mut expected = ExpectedTable {
        schema: table.table.name.schema.clone(),
        name: table.table.name.name.clone(),
        columns: table
            .columns
            .iter()
            .map(|c| ExpectedColumn {
                name: c.column.name.clone(),
                sql_type: c.column.sql_type.format(),
                not_null: c.column.not_null,
            })
            .collect(),
        keys: Vec::new(),
    };
    if !table.primary_key.is_empty() {
        add_key(
            &mut expected,
            column_names(table, &table.primary_key),
            true,
            None,
            "find_by_id, update_by_id, delete_by_id".to_owned(),
        );
    }
    if let Some(conflict) = &table.conflict {
        add_key(
            &mut expected,
            column_names(table, &conflict.key),
            false,
            conflict.constraint.clone(),
            "the upsert's ON CONFLICT".to_owned(),
        );
    }
    expected
}

/// Adds a key, or the use to the key already listed that serves it: the same columns, and
/// the primary key serving any key not named by a constraint.
fn add_key(
    table: &mut ExpectedTable,
    columns: Vec<String>,
    primary: bool,
    constraint: Option<String>,
    used_by: String,
) {
    let same_columns = |a: &[String], b: &[String]| {
        let mut a = a.to_vec();
        let mut b = b.to_vec();
        a.sort();
        b.sort();
        a == b
    };
    let existing = table.keys.iter_mut().find(|k| {
        same_columns(&k.columns, &columns) && k.constraint == constraint && (k.primary || !primary)
    });
    match existing {
        Some(key) => {
            key.used_by.push_str(", ");
            key.used_by.push_str(&used_by);
        }
        None => table.keys.push(ExpectedKey {
            columns,
            primary,
            constraint,
            used_by,
        }),
    }
}

fn column_names(table: &TableModel<'_>, indexes: &[usize]) -> Vec<String> {
    indexes
        .iter()
        .filter_map(|&i| table.columns.get(i))
        .map(|c| c.column.name.clone())
        .collect()
}
