//! Table and column models: Rust names, types, how each column is inserted.

use std::collections::{BTreeMap, BTreeSet};

use toml::Spanned;

use super::conflict::conflict;
use super::diagnostic_at_column;
use super::fields;
use crate::catalog::{Catalog, Column, Identity, QualifiedName, Sequence, Table};
use crate::config::{self, TableConfig};
use crate::error::Diagnostic;
use crate::ident;
use crate::model::{ColumnModel, InsertKind, TableModel};
use crate::source::SourceFile;
use crate::types::TypeMapper;

/// The model of one table: its Rust name, its columns (type, field, how inserts and
/// updates treat each), its primary key and its upsert conflict. Every problem is reported.
pub(super) fn table_model<'a>(
    catalog: &'a Catalog,
    table: &'a Table,
    table_config: Option<&TableConfig>,
    mapper: &TypeMapper<'_>,
    file: &SourceFile,
    injected: &BTreeSet<(QualifiedName, String)>,
) -> Result<TableModel<'a>, Vec<Diagnostic>> {
    let mut errors = Vec::new();
    let rust_name = rust_name(table, table_config, file, &mut errors);
    let database_fills = table_config.map_or(&[][..], |c| c.database_fills.as_slice());
    check_database_fills(table, database_fills, injected, file, &mut errors);
    let filled = |column: &Column| ColumnFills {
        by_graph: injected.contains(&(table.name.clone(), column.name.clone())),
        by_database: database_fills.iter().any(|n| *n.get_ref() == column.name),
    };
    let column_types = table_config.and_then(|c| c.column_types.as_ref());
    check_column_types(table, column_types, file, &mut errors);
    let mut columns: Vec<ColumnModel<'a>> = Vec::new();
    for column in &table.columns {
        let rust_type = column_types.and_then(|types| {
            types
                .iter()
                .find(|(name, _)| *name.get_ref() == column.name)
                .map(|(_, ty)| ty)
        });
        match column_model(catalog, table, column, mapper, filled(column)) {
            Ok(mut model) => match rust_type.map(|ty| column_type(&mut model, ty, file)) {
                Some(Err(e)) => errors.push(e),
                _ => columns.push(model),
            },
            Err(e) => errors.push(e),
        }
    }
    let overrides = table_config.and_then(|c| c.fields.as_ref());
    errors.extend(fields::assign_fields(table, &mut columns, overrides, file));
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
            attributes: Default::default(),
        })
    } else {
        Err(errors)
    }
}

/// The row struct's name: `rust_name` of `[tables.<name>]`, which must be a Rust type name,
/// or the singular of the table name.
fn rust_name(
    table: &Table,
    table_config: Option<&TableConfig>,
    file: &SourceFile,
    errors: &mut Vec<Diagnostic>,
) -> String {
    match table_config.and_then(|c| c.rust_name.as_ref()) {
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
    }
}

/// `column_types` names columns of the table.
fn check_column_types(
    table: &Table,
    column_types: Option<&BTreeMap<Spanned<String>, Spanned<String>>>,
    file: &SourceFile,
    errors: &mut Vec<Diagnostic>,
) {
    for name in column_types.into_iter().flat_map(|types| types.keys()) {
        if table.column(name.get_ref()).is_none() {
            let columns = table.columns.iter().map(|c| c.name.as_str());
            errors.push(super::resolve::unknown_column(
                file,
                name,
                &table.name,
                columns,
            ));
        }
    }
}

/// The column's Rust type as `column_types` names it: bound natively as the column's own SQL
/// type, so only a column writegraph sends in its own type takes one (not an array, an enum
/// or a `[types]` mapping, which travel as text or as elements). Unhashable, since nothing
/// says it is: a repeated conflict key is then the database's to report.
fn column_type(
    model: &mut ColumnModel<'_>,
    rust: &Spanned<String>,
    file: &SourceFile,
) -> Result<(), Diagnostic> {
    if syn::parse_str::<syn::Type>(rust.get_ref()).is_err() {
        return Err(config::error_at(
            file,
            rust,
            format!("`{}` is not a Rust type", rust.get_ref()),
        )
        .with_help("write a type path, like `writegraph::types::JsonOf<Detail>`"));
    }
    let sent_as = if model.ty.element.is_some() {
        Some("as its elements (an array)")
    } else if model.ty.read_as_text {
        Some("as text (an enum, or a [types] mapping)")
    } else {
        None
    };
    if let Some(sent_as) = sent_as {
        return Err(config::error_at(
            file,
            rust,
            format!(
                "column `{}` of type `{}` is sent {sent_as}, so it cannot take a type bound as its own",
                model.column.name, model.column.sql_type
            ),
        )
        .with_help("column_types applies to columns of built-in types and domains; map other types in [types]"));
    }
    model.ty.rust = rust.get_ref().clone();
    model.ty.hashable = false;
    Ok(())
}

/// `database_fills` names columns of the table.
fn check_database_fills(
    table: &Table,
    database_fills: &[Spanned<String>],
    injected: &BTreeSet<(QualifiedName, String)>,
    file: &SourceFile,
    errors: &mut Vec<Diagnostic>,
) {
    for name in database_fills {
        if injected.contains(&(table.name.clone(), name.get_ref().clone())) {
            // Left out of inserts, the column could not take the key the graph gives it.
            errors.push(
                config::error_at(
                    file,
                    name,
                    format!(
                        "column `{}` of `{}` is in database_fills, but a graph writes its parent's key into it",
                        name.get_ref(),
                        table.name
                    ),
                )
                .with_help("remove it from database_fills: the graph fills it, not the database"),
            );
        } else if !table.columns.iter().any(|c| c.name == *name.get_ref()) {
            let columns = table.columns.iter().map(|c| c.name.as_str());
            errors.push(super::resolve::unknown_column(
                file,
                name,
                &table.name,
                columns,
            ));
        }
    }
}

/// Who fills a column other than the row's own value: they decide how inserts and updates
/// treat it.
#[derive(Debug, Clone, Copy)]
struct ColumnFills {
    /// A graph edge fills it (a child's fk): a NOT NULL column without a default is
    /// `Injected`, not `Required`.
    by_graph: bool,
    /// `database_fills`: neither inserts nor updates set it.
    by_database: bool,
}

/// One column's model, its field still unnamed (`fields::assign_fields` names it); an
/// error when its type has no Rust type.
fn column_model<'a>(
    catalog: &Catalog,
    table: &Table,
    column: &'a Column,
    mapper: &TypeMapper<'_>,
    filled: ColumnFills,
) -> Result<ColumnModel<'a>, Diagnostic> {
    let ty = mapper.map(&column.sql_type).map_err(|unsupported| {
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
        ))
    })?;
    let not_null = column.not_null || catalog.column_domain(column).is_some_and(|d| d.not_null);
    let default_sql = default_sql(catalog, table, column);
    let insert = (column.insertable() && !filled.by_database).then(|| {
        match (not_null, default_sql.is_some()) {
            (true, false) if filled.by_graph => InsertKind::Injected,
            (true, false) => InsertKind::Required,
            (true, true) => InsertKind::Defaulted,
            (false, false) => InsertKind::Nullable,
            (false, true) => InsertKind::NullableDefaulted,
        }
    });
    Ok(ColumnModel {
        column,
        field: String::new(),
        field_note: None,
        ty,
        not_null,
        insert,
        default_sql,
        updatable: column.generated.is_none()
            && column.identity != Some(Identity::Always)
            && !filled.by_database,
    })
}

/// The names of `parent`'s partitions, their partitions, and so on.
pub(super) fn partitions_of(catalog: &Catalog, parent: &QualifiedName) -> Vec<String> {
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

/// The SQL an insert uses for `column` of `table` when it is left unset, or None when the
/// column has no default.
///
/// An identity or serial column takes the next value of the sequence it owns (an identity
/// ALWAYS column only where a graph draws its key before the insert),
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
    if column.identity.is_some() {
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
