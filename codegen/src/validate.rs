//! Checks `graphs.toml` against the catalog and resolves everything later stages need into a
//! [`Model`]: Rust names, Rust types, how each column is inserted, and each table's upsert
//! conflict. Every problem found here points at `graphs.toml` (or at the column in the DDL)
//! with the fix.

use std::collections::{BTreeMap, BTreeSet};

use toml::Spanned;

use crate::catalog::{Catalog, Column, ForeignKey, Identity, QualifiedName, Sequence, Table};
use crate::config::{self, GraphsConfig, TableConfig};
use crate::error::{ConfigError, Diagnostic, Error};
use crate::ident;
use crate::source::SourceFile;
use crate::types::{ColumnType, TypeMapper};

/// Everything the generator emits, resolved and checked.
#[derive(Debug)]
pub struct Model<'a> {
    /// Tables that are write targets, in creation order.
    pub tables: Vec<TableModel<'a>>,
    /// Enum types used by those tables, in creation order.
    pub enums: Vec<EnumModel>,
    /// Insert graphs, in `graphs.toml` order of names.
    pub graphs: Vec<crate::graph::GraphModel>,
    /// Update graphs, in `graphs.toml` order of names.
    pub update_graphs: Vec<crate::graph::UpdateGraphModel>,
}

/// A generated enum.
#[derive(Debug)]
pub struct EnumModel {
    /// The enum's SQL name.
    pub name: QualifiedName,
    /// Rust type name.
    pub rust_name: String,
    /// (label, Rust variant name) in sort order.
    pub variants: Vec<(String, String)>,
}

/// One table and its generated names.
#[derive(Debug)]
pub struct TableModel<'a> {
    /// The catalog's table.
    pub table: &'a Table,
    /// Row struct name (`OrderItem`); the insert struct is `New{rust_name}`, the patch
    /// struct `{rust_name}Patch`.
    pub rust_name: String,
    /// Every column, in table order.
    pub columns: Vec<ColumnModel<'a>>,
    /// Indexes into `columns` of the primary key, in key order.
    pub primary_key: Vec<usize>,
    /// The upsert conflict, when the table has one.
    pub conflict: Option<Conflict>,
    /// Names of the table's partitions, at any depth: errors about a row that PostgreSQL
    /// routed into one name the partition.
    pub partitions: Vec<String>,
    /// Foreign keys the table does not declare but every partition has
    /// ([`Catalog::partition_foreign_keys`]): graphs link through them as through its own.
    pub partition_foreign_keys: Vec<ForeignKey>,
}

/// One column and how it is generated.
#[derive(Debug)]
pub struct ColumnModel<'a> {
    /// The catalog's column.
    pub column: &'a Column,
    /// Rust field name.
    pub field: String,
    /// Rust type and binding.
    pub ty: ColumnType,
    /// The column (or its domain) is NOT NULL: row fields are `T`, not `Option<T>`.
    pub not_null: bool,
    /// How inserts treat the column; `None` when inserts cannot set it (generated columns,
    /// identity ALWAYS).
    pub insert: Option<InsertKind>,
    /// The SQL an insert uses when the column is left unset (its DEFAULT, the domain's
    /// DEFAULT, or the identity's next value).
    pub default_sql: Option<String>,
    /// An update may assign the column.
    pub updatable: bool,
}

/// How an insert struct holds a column, and what leaving it unset means.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InsertKind {
    /// NOT NULL without a default: `T`, a constructor argument.
    Required,
    /// NOT NULL without a default, but a graph edge fills it: `Option<T>`, and a standalone
    /// insert with `None` is a validation error.
    Injected,
    /// NOT NULL with a default: `Option<T>`; `None` takes the default.
    Defaulted,
    /// Nullable without a default: `Option<T>`; `None` is NULL.
    Nullable,
    /// Nullable with a default: `Option<Option<T>>`; `None` takes the default,
    /// `Some(None)` is NULL.
    NullableDefaulted,
}

/// The key `ON CONFLICT` names.
#[derive(Debug, Clone)]
pub struct Conflict {
    /// `ON CONFLICT ON CONSTRAINT name` instead of a column list.
    pub constraint: Option<String>,
    /// Indexes into the table's columns of the key.
    pub key: Vec<usize>,
    /// Indexes of the columns `DO UPDATE SET` assigns; empty means a no-op update of the
    /// first key column (so that `RETURNING` still returns the existing row).
    pub update: Vec<usize>,
}

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

    // Per-table settings must name tables that exist.
    let mut table_configs: BTreeMap<QualifiedName, (&Spanned<String>, &TableConfig)> =
        BTreeMap::new();
    for (name, table_config) in &config.tables {
        match resolve_table(catalog, name.get_ref()) {
            Ok(table) => {
                table_configs.insert(table.name.clone(), (name, table_config));
            }
            Err(help) => errors.push(
                config::error_at(file, name, format!("unknown table `{}`", name.get_ref()))
                    .with_help(help),
            ),
        }
    }

    let injected = crate::graph::injected_columns(catalog, config);
    let mut tables = Vec::new();
    let mut used_names: BTreeMap<String, QualifiedName> = BTreeMap::new();
    for table in catalog.write_targets() {
        let table_config = table_configs.get(&table.name);
        match table_model(
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
        });
    }

    if errors.is_empty() {
        let taken: BTreeSet<String> = used_names.keys().cloned().collect();
        let graphs = crate::graph::validate_insert_graphs(catalog, config, &tables, file, &taken);
        let update_graphs =
            crate::graph::validate_update_graphs(catalog, config, &tables, file, &taken);
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

fn table_model<'a>(
    catalog: &'a Catalog,
    table: &'a Table,
    table_config: Option<&TableConfig>,
    mapper: &TypeMapper<'_>,
    file: &SourceFile,
    injected: &BTreeSet<(QualifiedName, String)>,
) -> Result<TableModel<'a>, Vec<Diagnostic>> {
    let mut errors = Vec::new();
    let rust_name = match table_config.and_then(|c| c.rust_name.as_ref()) {
        Some(name) => {
            let text = name.get_ref();
            let valid = ident::is_rust_type_name(text);
            if !valid {
                errors.push(
                    config::error_at(file, name, format!("`{text}` is not a Rust type name"))
                        .with_help("use UpperCamelCase letters and digits, like `OrderLine`"),
                );
            }
            text.clone()
        }
        None => ident::rust_type_name(&ident::singular(&table.name.name)),
    };

    let mut columns: Vec<ColumnModel<'a>> = Vec::new();
    for column in &table.columns {
        let ty = match mapper.map(&column.sql_type) {
            Ok(ty) => ty,
            Err(unsupported) => {
                errors.push(
                    diagnostic_at_column(
                        column,
                        format!(
                            "column `{}` of `{}` has type `{}`, which writegraph does not map to a Rust type",
                            column.name, table.name, unsupported.sql_type
                        ),
                    )
                    .with_help(format!(
                        "map it in graphs.toml: [types] \"{}\" = \"String\" (any Rust type that tokio-postgres can send as text)",
                        unsupported.key
                    )),
                );
                continue;
            }
        };
        let not_null = column.not_null || catalog.column_domain(column).is_some_and(|d| d.not_null);
        let default_sql = default_sql(catalog, table, column);
        let filled_by_graph = injected.contains(&(table.name.clone(), column.name.clone()));
        let insert = column
            .insertable()
            .then(|| match (not_null, default_sql.is_some()) {
                (true, false) if filled_by_graph => InsertKind::Injected,
                (true, false) => InsertKind::Required,
                (true, true) => InsertKind::Defaulted,
                (false, false) => InsertKind::Nullable,
                (false, true) => InsertKind::NullableDefaulted,
            });
        let field = ident::rust_field_name(&column.name);
        if let Some(clash) = columns.iter().find(|c| c.field == field) {
            errors.push(
                diagnostic_at_column(
                    column,
                    format!(
                        "columns `{}` and `{}` of `{}` both become the Rust field `{field}`",
                        clash.column.name, column.name, table.name
                    ),
                )
                .with_help("rename one of the columns"),
            );
            continue;
        }
        columns.push(ColumnModel {
            column,
            field,
            ty,
            not_null,
            insert,
            default_sql,
            updatable: column.generated.is_none() && column.identity != Some(Identity::Always),
        });
    }
    // A column's `with_x_opt` setter must not be another column's `with_*` setter, in the
    // insert struct (insertable columns; `_opt` for all but required ones) or in the patch
    // struct (updatable columns, all with `_opt`).
    for column in &columns {
        let stem = ident::setter_stem(&column.field);
        let opt_setter = format!("{stem}_opt");
        let Some(other) = columns
            .iter()
            .find(|o| ident::setter_stem(&o.field) == opt_setter)
        else {
            continue;
        };
        let in_insert =
            column.insert.is_some_and(|k| k != InsertKind::Required) && other.insert.is_some();
        let in_patch = column.updatable && other.updatable;
        if in_insert || in_patch {
            errors.push(
                diagnostic_at_column(
                    other.column,
                    format!(
                        "columns `{}` and `{}` of `{}` both get the setter `with_{opt_setter}`",
                        column.column.name, other.column.name, table.name
                    ),
                )
                .with_help("rename one of the columns"),
            );
        }
    }
    let index_of = |name: &str| columns.iter().position(|c| c.column.name == name);
    let primary_key: Vec<usize> = table
        .primary_key
        .iter()
        .filter_map(|c| index_of(c))
        .collect();

    let conflict = match conflict(table, table_config, &columns, &primary_key, file) {
        Ok(conflict) => conflict,
        Err(mut found) => {
            errors.append(&mut found);
            None
        }
    };
    if errors.is_empty() {
        Ok(TableModel {
            table,
            rust_name,
            columns,
            primary_key,
            conflict,
            partitions: partitions_of(catalog, &table.name),
            partition_foreign_keys: catalog.partition_foreign_keys(table),
        })
    } else {
        Err(errors)
    }
}

/// The names of `parent`'s partitions, their partitions, and so on.
fn partitions_of(catalog: &Catalog, parent: &QualifiedName) -> Vec<String> {
    let mut names = Vec::new();
    let mut parents = vec![parent.clone()];
    while let Some(parent) = parents.pop() {
        for table in &catalog.tables {
            if table.partition_of.as_ref() == Some(&parent) && !names.contains(&table.name.name) {
                names.push(table.name.name.clone());
                parents.push(table.name.clone());
            }
        }
    }
    names
}

/// The upsert conflict of a table (seed design §8): `conflict_target` columns or a
/// `conflict_constraint`, exclusive; by default the primary key; none without either.
fn conflict(
    table: &Table,
    table_config: Option<&TableConfig>,
    columns: &[ColumnModel<'_>],
    primary_key: &[usize],
    file: &SourceFile,
) -> Result<Option<Conflict>, Vec<Diagnostic>> {
    let empty = TableConfig::default();
    let settings = table_config.unwrap_or(&empty);
    let mut errors = Vec::new();
    let column_index = |name: &Spanned<String>, errors: &mut Vec<Diagnostic>| -> Option<usize> {
        let found = columns
            .iter()
            .position(|c| c.column.name == *name.get_ref());
        if found.is_none() {
            errors.push(
                config::error_at(
                    file,
                    name,
                    format!(
                        "unknown column `{}` in table `{}`",
                        name.get_ref(),
                        table.name
                    ),
                )
                .with_help(format!(
                    "columns are: {}",
                    columns
                        .iter()
                        .map(|c| c.column.name.as_str())
                        .collect::<Vec<_>>()
                        .join(", ")
                )),
            );
        }
        found
    };
    let unique_keys = || unique_keys_help(table, true);

    let (constraint, key) = match (&settings.conflict_target, &settings.conflict_constraint) {
        (Some(target), Some(constraint)) => {
            return Err(vec![config::error_at(
                file,
                constraint,
                format!("`conflict_target` and `conflict_constraint` are both set for table `{}`", table.name),
            )
            .with_help(format!(
                "keep one of them: they name the same thing two ways (conflict_target is on line {})",
                crate::error::Location::from_offset(&file.path, &file.text, target.span().start).line
            ))]);
        }
        (Some(target), None) => {
            let names: Vec<String> = target
                .get_ref()
                .iter()
                .map(|n| n.get_ref().clone())
                .collect();
            let key: Vec<usize> = target
                .get_ref()
                .iter()
                .filter_map(|n| column_index(n, &mut errors))
                .collect();
            if !errors.is_empty() {
                return Err(errors);
            }
            let set: BTreeSet<&String> = names.iter().collect();
            let same =
                |cols: &[String]| cols.len() == set.len() && cols.iter().all(|c| set.contains(c));
            let matches_pk = same(&table.primary_key);
            let matches_unique = table.uniques.iter().any(|u| !u.partial && same(&u.columns));
            if !matches_pk && !matches_unique {
                return Err(vec![config::error_at(
                    file,
                    target,
                    format!(
                        "conflict_target ({}) of `{}` matches no unique constraint or unique index",
                        names.join(", "),
                        table.name
                    ),
                )
                .with_help(format!(
                    "ON CONFLICT needs a non-partial unique key on exactly these columns; {}",
                    unique_keys()
                ))]);
            }
            (None, key)
        }
        (None, Some(constraint)) => {
            let name = constraint.get_ref();
            let key_columns = if table.primary_key_name.as_deref() == Some(name.as_str()) {
                Some(table.primary_key.clone())
            } else {
                table
                    .uniques
                    .iter()
                    .find(|u| u.name == *name && u.is_constraint)
                    .map(|u| u.columns.clone())
            };
            let Some(key_columns) = key_columns else {
                if let Some(index) = table.uniques.iter().find(|u| u.name == *name && !u.partial) {
                    return Err(vec![config::error_at(
                        file,
                        constraint,
                        format!(
                            "`{name}` of table `{}` is a unique index, not a constraint: ON CONFLICT ON CONSTRAINT cannot name it",
                            table.name
                        ),
                    )
                    .with_help(format!(
                        "name its columns instead: conflict_target = [{}]",
                        index.columns.iter().map(|c| format!("\"{c}\"")).collect::<Vec<_>>().join(", ")
                    ))]);
                }
                return Err(vec![config::error_at(
                    file,
                    constraint,
                    format!(
                        "table `{}` has no unique or primary key constraint `{name}`",
                        table.name
                    ),
                )
                .with_help(format!(
                    "ON CONFLICT ON CONSTRAINT needs a constraint (not only an index); {}",
                    unique_keys()
                ))]);
            };
            let key = key_columns
                .iter()
                .filter_map(|c| columns.iter().position(|m| m.column.name == *c))
                .collect();
            (Some(name.clone()), key)
        }
        (None, None) if primary_key.is_empty() => {
            if let Some(update) = &settings.conflict_update {
                return Err(vec![config::error_at(
                    file,
                    update,
                    format!(
                        "`conflict_update` is set but table `{}` has no conflict key",
                        table.name
                    ),
                )
                .with_help(format!(
                    "add conflict_target = [...] naming a unique key; {}",
                    unique_keys()
                ))]);
            }
            return Ok(None);
        }
        // A primary key an insert cannot set (identity ALWAYS) never conflicts: no upsert.
        (None, None) if primary_key.iter().any(|&i| columns[i].insert.is_none()) => {
            return Ok(None)
        }
        (None, None) => (None, primary_key.to_vec()),
    };

    let update = match &settings.conflict_update {
        Some(update) => {
            let indexes: Vec<usize> = update
                .get_ref()
                .iter()
                .filter_map(|n| column_index(n, &mut errors))
                .collect();
            for (name, index) in update.get_ref().iter().zip(&indexes) {
                if columns[*index].insert.is_none() {
                    errors.push(
                        config::error_at(file, name, format!("column `{}` of `{}` cannot be written (generated or identity ALWAYS)", name.get_ref(), table.name))
                            .with_help("remove it from conflict_update"),
                    );
                }
            }
            indexes
        }
        // Seed design §8.2: every insertable column except the key (column-list targets
        // only); never the primary key or a sequence-filled column, whose new value would
        // replace the existing row's identity.
        None => columns
            .iter()
            .enumerate()
            .filter(|(i, c)| {
                let in_key = constraint.is_none() && key.contains(i);
                let keeps_identity =
                    primary_key.contains(i) || c.column.serial || c.column.identity.is_some();
                c.insert.is_some() && !in_key && !keeps_identity
            })
            .map(|(i, _)| i)
            .collect(),
    };
    if !errors.is_empty() {
        return Err(errors);
    }
    Ok(Some(Conflict {
        constraint,
        key,
        update,
    }))
}

/// `unique keys are: primary key (id); uq_x (a, b)` for a help line: the keys ON CONFLICT
/// could use (partial unique indexes marked, or left out when `with_partial` is false).
pub fn unique_keys_help(table: &Table, with_partial: bool) -> String {
    let mut keys: Vec<String> = Vec::new();
    if !table.primary_key.is_empty() {
        keys.push(format!("primary key ({})", table.primary_key.join(", ")));
    }
    for u in table.uniques.iter().filter(|u| with_partial || !u.partial) {
        let partial = if u.partial { ", partial" } else { "" };
        keys.push(format!("{} ({}){partial}", u.name, u.columns.join(", ")));
    }
    if keys.is_empty() {
        "the table has no unique keys".to_owned()
    } else {
        format!("unique keys are: {}", keys.join("; "))
    }
}

/// The SQL an insert uses for `column` of `table` when it is left unset, or None when the
/// column has no default.
///
/// An identity BY DEFAULT or serial column takes the next value of the sequence it owns,
/// named directly (`nextval('public.orders_id_seq'::regclass)`, the shape of a serial
/// column's default): looking the sequence up per row (`pg_get_serial_sequence`) costs the
/// server a catalog scan for each. When the catalog knows no such sequence, an identity
/// falls back to that lookup and a serial column to its DEFAULT text.
pub fn default_sql(catalog: &Catalog, table: &Table, column: &Column) -> Option<String> {
    let owned = || {
        catalog
            .owned_sequence(&table.name, column)
            .map(|s| Sequence::nextval_sql(&s.name))
    };
    if column.identity == Some(Identity::ByDefault) {
        return Some(owned().unwrap_or_else(|| {
            format!(
                "nextval(pg_get_serial_sequence({}, {}))",
                sql_string(&table.name.to_sql_quoted()),
                sql_string(&column.name)
            )
        }));
    }
    if column.serial {
        if let Some(nextval) = owned() {
            return Some(nextval);
        }
    }
    column.default.clone().or_else(|| {
        catalog
            .column_domain(column)
            .and_then(|d| d.default.clone())
    })
}

/// A SQL string literal.
pub fn sql_string(text: &str) -> String {
    format!("'{}'", text.replace('\'', "''"))
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
        assert!(output.code.contains("ON CONFLICT (\\\"sku\\\")"));
        Ok(())
    }
}
