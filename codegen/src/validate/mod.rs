//! Checks `graphs.toml` against the catalog and resolves everything later stages need into a
//! [`Model`]: Rust names, Rust types, how each column is inserted, and each table's upsert
//! conflict. Every problem found here points at `graphs.toml` (or at the column in the DDL)
//! with the fix.

mod attributes;
mod condition;
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
use crate::model::{EnumModel, Model, TableModel};
use crate::source::SourceFile;
use crate::types::TypeMapper;

pub use attributes::attributes;
pub use conflict::unique_keys_help;
pub use resolve::resolve_table;
pub use tables::{default_sql, sql_string};

/// The `[tables.<name>]` settings of graphs.toml, by the table each names.
type TableConfigs<'c> = BTreeMap<QualifiedName, (&'c Spanned<String>, &'c TableConfig)>;

/// Resolves and checks the model. `graphs` is the file `config` came from (for positions).
pub fn validate<'a>(
    catalog: &'a Catalog,
    config: &GraphsConfig,
    graphs: Option<&SourceFile>,
) -> Result<Model<'a>, Error> {
    let empty = SourceFile::new("graphs.toml", "");
    let file = graphs.unwrap_or(&empty);
    let mut errors = Vec::new();

    let overrides: BTreeMap<String, config::TypeMapping> = config
        .types
        .iter()
        .map(|(k, v)| (k.get_ref().clone(), v.get_ref().clone()))
        .collect();
    let mapper = TypeMapper::with_crates(catalog, overrides, config.crates.resolve());

    // Pass 1: every table name of graphs.toml, against the catalog.
    let names = resolve::Names::resolve(catalog, config);
    let table_configs = table_configs(&names, config, file, &mut errors);

    // Pass 2: table models (a column a graph fills is `Injected`), then enums; no two
    // of them may generate one Rust name.
    let injected = names.injected_columns(config);
    let mut used_names: BTreeMap<String, QualifiedName> = BTreeMap::new();
    let tables = table_models(
        catalog,
        &table_configs,
        &mapper,
        &injected,
        &mut used_names,
        file,
        &mut errors,
    );
    let enums = enum_models(catalog, &table_configs, &mut used_names, file, &mut errors);

    // Pass 3: graph models (order, tags, dedup keys, conflict sets), on the table models.
    let mut model = Model {
        tables,
        enums,
        graphs: Vec::new(),
        update_graphs: Vec::new(),
    };
    if errors.is_empty() {
        let taken: BTreeSet<String> = used_names.keys().cloned().collect();
        let mut row_types = edges::RowTypes::new();
        let names_taken = (&taken, &mut row_types);
        let graphs =
            insert_graphs::validate_insert_graphs(&names, config, &model.tables, file, names_taken);
        let names_taken = (&taken, &mut row_types);
        let update_graphs =
            update_graphs::validate_update_graphs(&names, config, &model.tables, file, names_taken);
        match (graphs, update_graphs) {
            (Ok(graphs), Ok(update_graphs)) => {
                model.graphs = graphs;
                model.update_graphs = update_graphs;
            }
            (graphs, update_graphs) => {
                errors.extend(graphs.err().unwrap_or_default());
                errors.extend(update_graphs.err().unwrap_or_default());
            }
        }
    }
    match errors.len() {
        0 => Ok(model),
        1 => Err(Error::Config(ConfigError::from(errors.remove(0)))),
        _ => Err(Error::Many(
            errors
                .into_iter()
                .map(|d| Error::Config(ConfigError::from(d)))
                .collect(),
        )),
    }
}

/// The `[tables.<name>]` settings, each of which must name a table that exists.
fn table_configs<'c>(
    names: &resolve::Names<'_>,
    config: &'c GraphsConfig,
    file: &SourceFile,
    errors: &mut Vec<Diagnostic>,
) -> TableConfigs<'c> {
    let mut table_configs = TableConfigs::new();
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
    table_configs
}

/// The model of every write target, each of its Rust names (`T`, `NewT`, `TPatch`) taken
/// in `used_names` by the first table that generates it.
fn table_models<'a>(
    catalog: &'a Catalog,
    table_configs: &TableConfigs<'_>,
    mapper: &TypeMapper<'_>,
    injected: &BTreeSet<(QualifiedName, String)>,
    used_names: &mut BTreeMap<String, QualifiedName>,
    file: &SourceFile,
    errors: &mut Vec<Diagnostic>,
) -> Vec<TableModel<'a>> {
    let mut tables = Vec::new();
    for table in catalog.write_targets() {
        let table_config = table_configs.get(&table.name);
        match tables::table_model(
            catalog,
            table,
            table_config.map(|(_, c)| *c),
            mapper,
            file,
            injected,
        ) {
            Ok(model) => {
                errors.extend(take_table_names(&model, table_config, used_names, file));
                tables.push(model);
            }
            Err(mut found) => errors.append(&mut found),
        }
    }
    tables
}

/// Takes the Rust names a table generates; the first that another table took already is an
/// error at the table's `rust_name` (or its `[tables]` key, or its DDL).
fn take_table_names(
    model: &TableModel<'_>,
    table_config: Option<&(&Spanned<String>, &TableConfig)>,
    used_names: &mut BTreeMap<String, QualifiedName>,
    file: &SourceFile,
) -> Option<Diagnostic> {
    let table = model.table;
    for name in [
        model.rust_name.clone(),
        format!("New{}", model.rust_name),
        format!("{}Patch", model.rust_name),
    ] {
        let Some(other) = used_names.insert(name.clone(), table.name.clone()) else {
            continue;
        };
        let at = table_config.map(|(n, c)| c.rust_name.as_ref().unwrap_or(n));
        let message = format!(
            "tables `{other}` and `{}` both generate the Rust name `{name}`",
            table.name
        );
        // The schema-qualified key names this table whatever the search path.
        let key = format!("{}.{}", table.name.schema, table.name.name)
            .replace('\\', "\\\\")
            .replace('"', "\\\"");
        let help =
            format!("name one of them in graphs.toml: [tables.\"{key}\"] rust_name = \"...\"");
        // `New{name}` and `{name}Patch` clash too: one report is enough.
        return Some(match at {
            Some(at) => config::error_at(file, at, message).with_help(help),
            None => diagnostic_at_table(table, message).with_help(help),
        });
    }
    None
}

/// The model of every enum type whose Rust name no table took, its variants named after
/// its labels (a repeated name takes `_`).
fn enum_models(
    catalog: &Catalog,
    table_configs: &TableConfigs<'_>,
    used_names: &mut BTreeMap<String, QualifiedName>,
    file: &SourceFile,
    errors: &mut Vec<Diagnostic>,
) -> Vec<EnumModel> {
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
    enums
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
