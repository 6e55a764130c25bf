//! Checks `graphs.toml` against the catalog and resolves everything later stages need into a
//! [`Model`]: Rust names, Rust types, how each column is inserted, and each table's upsert
//! conflict. Every problem found here points at `graphs.toml` (or at the column in the DDL)
//! with the fix.

mod attributes;
mod conflict;
mod edges;
mod fields;
mod insert_graphs;
mod resolve;
mod tables;
mod update_graphs;

use std::collections::{BTreeMap, BTreeSet};

use toml::Spanned;

use crate::catalog::{Catalog, Column, QualifiedName, Table};
use crate::config::{self, GraphsConfig, TableConfig};
use crate::error::{ConfigError, Diagnostic, Error};
use crate::ident;
use crate::model::{EnumModel, Model};
use crate::source::SourceFile;
use crate::types::TypeMapper;

pub use attributes::attributes;
pub use conflict::unique_keys_help;
pub use resolve::resolve_table;
pub use tables::{default_sql, sql_string};

/// Resolves and checks the model. `graphs` is the file `config` came from (for positions).
pub fn validate<'a>(
    catalog: &'a Catalog,
    config: &GraphsConfig,
    graphs: Option<&SourceFile>,
) -> Result<Model<'a>, Error> {
    let empty = SourceFile::new("graphs.toml", "");
    let file = graphs.unwrap_or(&empty);
    let mut errors = Vec::new();

    let overrides: BTreeMap<String, String> = config
        .types
        .iter()
        .map(|(k, v)| (k.get_ref().clone(), v.get_ref().clone()))
        .collect();
    let mapper = TypeMapper::new(catalog, overrides);

    // Pass 1: every table name of graphs.toml, against the catalog.
    let names = resolve::Names::resolve(catalog, config);

    // Per-table settings must name tables that exist.
    let mut table_configs: BTreeMap<QualifiedName, (&Spanned<String>, &TableConfig)> =
        BTreeMap::new();
    for (name, table_config) in &config.tables {
        match names.table(name) {
            Ok(table) => {
                table_configs.insert(table.name.clone(), (name, table_config));
            }
            Err(help) => errors.push(
                config::error_at(file, name, format!("unknown table `{}`", name.get_ref()))
                    .with_help(help),
            ),
        }
    }

    // Pass 2: table models (a column a graph fills is held as `Option`).
    let injected = names.injected_columns(config);
    let mut tables = Vec::new();
    let mut used_names: BTreeMap<String, QualifiedName> = BTreeMap::new();
    for table in catalog.write_targets() {
        let table_config = table_configs.get(&table.name);
        match tables::table_model(
            catalog,
            table,
            table_config.map(|(_, c)| *c),
            &mapper,
            file,
            &injected,
        ) {
            Ok(model) => {
                for name in [
                    model.rust_name.clone(),
                    format!("New{}", model.rust_name),
                    format!("{}Patch", model.rust_name),
                ] {
                    if let Some(other) = used_names.insert(name.clone(), table.name.clone()) {
                        let at = table_config.map(|(n, c)| c.rust_name.as_ref().unwrap_or(n));
                        let message = format!(
                            "tables `{other}` and `{}` both generate the Rust name `{name}`",
                            table.name
                        );
                        // The schema-qualified key names this table whatever the search path.
                        let key = format!("{}.{}", table.name.schema, table.name.name)
                            .replace('\\', "\\\\")
                            .replace('"', "\\\"");
                        let help = format!(
                            "name one of them in graphs.toml: [tables.\"{key}\"] rust_name = \"...\""
                        );
                        errors.push(match at {
                            Some(at) => config::error_at(file, at, message).with_help(help),
                            None => diagnostic_at_table(table, message).with_help(help),
                        });
                        // `New{name}` and `{name}Patch` clash too: one report is enough.
                        break;
                    }
                }
                tables.push(model);
            }
            Err(mut found) => errors.append(&mut found),
        }
    }

    let mut enums = Vec::new();
    for e in &catalog.enums {
        let rust_name = crate::types::enum_rust_name(&e.name);
        if let Some(other) = used_names.insert(rust_name.clone(), e.name.clone()) {
            let message = format!(
                "enum `{}` and `{other}` both generate the Rust name `{rust_name}`",
                e.name
            );
            let rust_name_setting = table_configs
                .get(&other)
                .and_then(|(_, c)| c.rust_name.as_ref());
            let diagnostic = match (rust_name_setting, catalog.table(&other)) {
                (Some(at), _) => config::error_at(file, at, message),
                (None, Some(table)) => diagnostic_at_table(table, message),
                (None, None) => Diagnostic::at(&file.path, "", 0, message),
            };
            errors.push(diagnostic.with_help(
                "rename the enum type, or give the table another name with [tables.<name>] rust_name",
            ));
            continue;
        }
        let mut variants: Vec<(String, String)> = Vec::new();
        for label in &e.labels {
            let mut variant = ident::rust_type_name(label);
            while variants.iter().any(|(_, v)| *v == variant) {
                variant.push('_');
            }
            variants.push((label.clone(), variant));
        }
        enums.push(EnumModel {
            name: e.name.clone(),
            rust_name,
            variants,
            attributes: Default::default(),
        });
    }

    // Pass 3: graph models (order, tags, dedup keys, conflict sets), on the table models.
    if errors.is_empty() {
        let taken: BTreeSet<String> = used_names.keys().cloned().collect();
        let graphs = insert_graphs::validate_insert_graphs(&names, config, &tables, file, &taken);
        let update_graphs =
            update_graphs::validate_update_graphs(&names, config, &tables, file, &taken);
        match (graphs, update_graphs) {
            (Ok(graphs), Ok(update_graphs)) => {
                return Ok(Model {
                    tables,
                    enums,
                    graphs,
                    update_graphs,
                })
            }
            (graphs, update_graphs) => {
                errors.extend(graphs.err().unwrap_or_default());
                errors.extend(update_graphs.err().unwrap_or_default());
            }
        }
    }
    if errors.is_empty() {
        Ok(Model {
            tables,
            enums,
            graphs: Vec::new(),
            update_graphs: Vec::new(),
        })
    } else if errors.len() == 1 {
        Err(Error::Config(ConfigError::from(errors.remove(0))))
    } else {
        Err(Error::Many(
            errors
                .into_iter()
                .map(|d| Error::Config(ConfigError::from(d)))
                .collect(),
        ))
    }
}

fn diagnostic_at_table(table: &Table, message: String) -> Diagnostic {
    let mut d = Diagnostic::at("", "", 0, message);
    if let Some(location) = &table.location {
        d.location = location.clone();
    }
    d
}

fn diagnostic_at_column(column: &Column, message: String) -> Diagnostic {
    let mut d = Diagnostic::at("", "", 0, message);
    if let Some(location) = &column.location {
        d.location = location.clone();
    }
    d
}

#[cfg(test)]
mod tests {
    use super::resolve_table;
    use crate::{generate, Input, SourceFile};

    const TWO_SCHEMAS: &str = "CREATE SCHEMA archive;
CREATE SCHEMA other;
CREATE TABLE archive.items (id integer PRIMARY KEY);
CREATE TABLE items (id integer PRIMARY KEY, sku text NOT NULL UNIQUE);
CREATE TABLE archive.logs (id integer PRIMARY KEY);
CREATE TABLE other.logs (id integer PRIMARY KEY);
";

    #[test]
    fn an_unqualified_name_in_two_schemas_resolves_through_the_search_path(
    ) -> Result<(), Box<dyn std::error::Error>> {
        let schema = vec![SourceFile::new("s.sql", TWO_SCHEMAS)];
        let catalog = crate::ddl::read_schema(&schema)?;
        // PostgreSQL's default search path ("$user", public) finds public.items first.
        assert_eq!(
            resolve_table(&catalog, "items")?.name.to_sql(),
            "public.items"
        );
        assert_eq!(
            resolve_table(&catalog, "archive.items")?.name.to_sql(),
            "archive.items"
        );
        // Neither schema is on the search path: PostgreSQL would not find `logs` either.
        let ambiguous = resolve_table(&catalog, "logs").err().unwrap_or_default();
        assert!(
            ambiguous.contains("archive.logs, other.logs"),
            "{ambiguous}"
        );

        // graphs.toml names it unqualified, and the build succeeds.
        let graphs = SourceFile::new(
            "graphs.toml",
            "[tables.items]\nconflict_target = [\"sku\"]\n\
             [tables.\"archive.items\"]\nrust_name = \"ArchivedItem\"\n\
             [tables.\"other.logs\"]\nrust_name = \"OtherLog\"\n",
        );
        let output = generate(&Input {
            schema,
            graphs: Some(graphs),
            ..Input::default()
        })?;
        assert!(output.code.contains(r#"ON CONFLICT ("sku")"#));
        Ok(())
    }
}
