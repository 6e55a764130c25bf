//! Names in `graphs.toml` resolved against the catalog.

use std::collections::BTreeSet;

use toml::Spanned;

use crate::catalog::{Catalog, ForeignKey, QualifiedName, Table};
use crate::config::{self, GraphsConfig};
use crate::error::Diagnostic;
use crate::model::TableModel;
use crate::source::SourceFile;

/// `orders`, `public.orders`, `Order` (case-sensitive first, then folded).
pub fn resolve_table<'a>(catalog: &'a Catalog, name: &str) -> Result<&'a Table, String> {
    let (schema, table) = match name.split_once('.') {
        Some((schema, table)) => (Some(schema), table),
        None => (None, name),
    };
    let matches = |exact: bool| -> Vec<&'a Table> {
        catalog
            .write_targets()
            .filter(|t| {
                schema.is_none_or(|s| {
                    if exact {
                        t.name.schema == s
                    } else {
                        t.name.schema.eq_ignore_ascii_case(s)
                    }
                })
            })
            .filter(|t| {
                if exact {
                    t.name.name == table
                } else {
                    t.name.name.eq_ignore_ascii_case(table)
                }
            })
            .collect()
    };
    let mut found = matches(true);
    if found.is_empty() {
        found = matches(false);
    }
    // An unqualified name found in several schemas resolves as PostgreSQL resolves it with
    // its default search path (`"$user", public`): the table in `public`.
    if schema.is_none() && found.len() > 1 {
        if let Some(public) = found.iter().find(|t| t.name.schema == "public") {
            found = vec![*public];
        }
    }
    match found.as_slice() {
        [one] => Ok(one),
        [] => Err(format!(
            "tables are: {}",
            catalog
                .write_targets()
                .map(|t| t.name.to_sql())
                .collect::<Vec<_>>()
                .join(", ")
        )),
        many => Err(format!(
            "the name is in several schemas, none of them `public` (the search path); qualify it with its schema: {}",
            many.iter()
                .map(|t| t.name.to_sql())
                .collect::<Vec<_>>()
                .join(", ")
        )),
    }
}

/// The foreign key that links `child` to `root` when `fk` is left out: the only
/// single-column foreign key of the child (or of all its partitions) that references the root.
pub(super) fn implied_fk(
    catalog: &Catalog,
    child: &Table,
    root: &QualifiedName,
) -> Option<ForeignKey> {
    let partition_keys = catalog.partition_foreign_keys(child);
    let mut links = child
        .foreign_keys
        .iter()
        .chain(&partition_keys)
        .filter(|f| &f.ref_table == root && f.columns.len() == 1);
    match (links.next(), links.next()) {
        (Some(one), None) => Some(one.clone()),
        _ => None,
    }
}

/// The columns graphs fill, as (table, column): insert structs hold them as `Option` so that
/// callers never invent a value a graph replaces. Best effort: names that do not resolve are
/// reported by [`validate_insert_graphs`].
pub fn injected_columns(
    catalog: &Catalog,
    config: &GraphsConfig,
) -> BTreeSet<(QualifiedName, String)> {
    let mut injected = BTreeSet::new();
    for graph in config.insert.values() {
        let Ok(root) = resolve_table(catalog, graph.root.get_ref()) else {
            continue;
        };
        for edge in &graph.belongs_to {
            injected.insert((root.name.clone(), edge.set_fk.get_ref().clone()));
        }
        let children = graph
            .has_one
            .iter()
            .chain(&graph.has_many)
            .map(|c| (&c.table, &c.fk));
        let after = graph.after_insert.iter().map(|c| (&c.table, &c.fk));
        for (table, fk) in children.chain(after) {
            let Ok(child) = resolve_table(catalog, table.get_ref()) else {
                continue;
            };
            match fk {
                Some(fk) => {
                    injected.insert((child.name.clone(), fk.get_ref().clone()));
                }
                None => {
                    if let Some(fk) = implied_fk(catalog, child, &root.name) {
                        injected.insert((child.name.clone(), fk.columns[0].clone()));
                    }
                }
            }
        }
    }
    for graph in config.update.values() {
        let Ok(root) = resolve_table(catalog, graph.root.get_ref()) else {
            continue;
        };
        for child in graph.has_many.iter().chain(&graph.has_one) {
            let Ok(table) = resolve_table(catalog, child.table.get_ref()) else {
                continue;
            };
            match &child.fk {
                Some(fk) => {
                    injected.insert((table.name.clone(), fk.get_ref().clone()));
                }
                None => {
                    if let Some(fk) = implied_fk(catalog, table, &root.name) {
                        injected.insert((table.name.clone(), fk.columns[0].clone()));
                    }
                }
            }
        }
    }
    injected
}

pub(super) fn table_index(
    catalog: &Catalog,
    tables: &[TableModel<'_>],
    name: &Spanned<String>,
    file: &SourceFile,
) -> Result<usize, Diagnostic> {
    let table = resolve_table(catalog, name.get_ref()).map_err(|help| {
        config::error_at(file, name, format!("unknown table `{}`", name.get_ref())).with_help(help)
    })?;
    tables
        .iter()
        .position(|t| t.table.name == table.name)
        .ok_or_else(|| {
            config::error_at(
                file,
                name,
                format!("table `{}` cannot be written", table.name),
            )
        })
}

pub(super) fn column_index(
    tables: &[TableModel<'_>],
    table: usize,
    name: &Spanned<String>,
    file: &SourceFile,
) -> Result<usize, Diagnostic> {
    let model = &tables[table];
    model
        .columns
        .iter()
        .position(|c| c.column.name == *name.get_ref())
        .ok_or_else(|| {
            config::error_at(
                file,
                name,
                format!(
                    "unknown column `{}` in table `{}`",
                    name.get_ref(),
                    model.table.name
                ),
            )
            .with_help(format!(
                "columns are: {}",
                model
                    .columns
                    .iter()
                    .map(|c| c.column.name.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            ))
        })
}
