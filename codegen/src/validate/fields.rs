//! The Rust field of each column of a table: one per column, no two alike, and no setter of
//! one (`with_x`, `with_x_opt`) the setter of another.
//!
//! A column's field is the snake_case form of its SQL name ([`ident::rust_field_name`]),
//! unless graphs.toml names it (`[tables.<t>] fields = { createdAt = "created" }`). When two
//! columns would get the same field or setter, the column whose SQL name already is that
//! snake_case form keeps it (`created_at` beside `"createdAt"`); among the others, the earlier
//! column in table order keeps it. A column that cannot keep its field takes the first free
//! numbered suffix (`created_at_2`, `created_at_3`, ...), and its doc comment says why. Only
//! fields named in graphs.toml can collide for good: that is an error at the name.

use std::collections::BTreeMap;

use toml::Spanned;

use super::edges::is_field_name;
use crate::catalog::Table;
use crate::config;
use crate::error::Diagnostic;
use crate::ident;
use crate::model::{ColumnModel, InsertKind};
use crate::source::SourceFile;

/// Sets `field` (and `field_note`) of every column; the errors are about fields that
/// graphs.toml names.
pub(super) fn assign_fields(
    table: &Table,
    columns: &mut [ColumnModel<'_>],
    overrides: Option<&BTreeMap<Spanned<String>, Spanned<String>>>,
    file: &SourceFile,
) -> Vec<Diagnostic> {
    let mut errors = Vec::new();
    let mut assigned: Vec<Option<String>> = vec![None; columns.len()];

    for (column_name, field) in overrides.into_iter().flatten() {
        let Some(index) = columns
            .iter()
            .position(|c| c.column.name == *column_name.get_ref())
        else {
            let names = columns.iter().map(|c| c.column.name.as_str());
            errors.push(super::resolve::unknown_column(
                file,
                column_name,
                &table.name,
                names,
            ));
            continue;
        };
        let text = field.get_ref();
        if !is_field_name(text) {
            errors.push(
                config::error_at(file, field, format!("`{text}` is not a Rust field name"))
                    .with_help(
                        "use lowercase snake_case letters, digits and `_`, like `created_at`",
                    ),
            );
            continue;
        }
        if let Some(clash) = clash_with(columns, &assigned, index, text) {
            errors.push(
                config::error_at(
                    file,
                    field,
                    format!(
                        "columns `{}` and `{}` of `{}` both get the {}",
                        columns[clash.column].column.name,
                        column_name.get_ref(),
                        table.name,
                        clash.what
                    ),
                )
                .with_help(format!(
                    "give one of them another field: [tables.{}] fields = {{ {} = \"...\" }}",
                    table_key(table),
                    toml_key(column_name.get_ref())
                )),
            );
            continue;
        }
        assigned[index] = Some(text.clone());
    }

    let is_snake = |c: &ColumnModel<'_>| ident::rust_field_name(&c.column.name) == c.column.name;
    let order: Vec<usize> = (0..columns.len())
        .filter(|&i| is_snake(&columns[i]))
        .chain((0..columns.len()).filter(|&i| !is_snake(&columns[i])))
        .collect();
    for index in order {
        if assigned[index].is_some() {
            continue;
        }
        let natural = ident::rust_field_name(&columns[index].column.name);
        let mut field = natural.clone();
        let mut first_clash = None;
        let mut suffix = 1;
        while let Some(clash) = clash_with(columns, &assigned, index, &field) {
            first_clash.get_or_insert(clash);
            suffix += 1;
            field = format!("{}_{suffix}", ident::setter_stem(&natural));
        }
        if let Some(clash) = first_clash {
            columns[index].field_note = Some(format!(
                "The field is `{field}`, not `{natural}`: column `{}` has the {}.",
                columns[clash.column].column.name, clash.what
            ));
        }
        assigned[index] = Some(field);
    }

    for (column, field) in columns.iter_mut().zip(assigned) {
        column.field = field.unwrap_or_default();
    }
    errors
}

/// A field or setter of another column that `candidate`, as the field of `columns[index]`,
/// would also have.
struct Clash {
    column: usize,
    /// `field `x`` or `setter `with_x_opt``.
    what: String,
}

fn clash_with(
    columns: &[ColumnModel<'_>],
    assigned: &[Option<String>],
    index: usize,
    candidate: &str,
) -> Option<Clash> {
    let this = &columns[index];
    assigned.iter().enumerate().find_map(|(other, field)| {
        let field = field.as_deref()?;
        let that = &columns[other];
        if other == index {
            return None;
        }
        if field == candidate || ident::setter_stem(field) == ident::setter_stem(candidate) {
            return Some(Clash {
                column: other,
                what: format!("field `{field}`"),
            });
        }
        let setter = opt_setter_clash(this, candidate, that, field)
            .or_else(|| opt_setter_clash(that, field, this, candidate))?;
        Some(Clash {
            column: other,
            what: format!("setter `{setter}`"),
        })
    })
}

/// The setter `with_{x}_opt` of column `a` (field `a_field`) when it is the setter
/// `with_{x}_opt` of column `b` (field `b_field`, whose stem is `x_opt`) in the insert struct
/// (where `a` has an `_opt` setter unless it is required) or in the patch struct (updatable
/// columns, all with `_opt`).
fn opt_setter_clash(
    a: &ColumnModel<'_>,
    a_field: &str,
    b: &ColumnModel<'_>,
    b_field: &str,
) -> Option<String> {
    let setter = format!("{}_opt", ident::setter_stem(a_field));
    if setter != ident::setter_stem(b_field) {
        return None;
    }
    let in_insert = a.insert.is_some_and(|k| k != InsertKind::Required) && b.insert.is_some();
    let in_patch = a.updatable && b.updatable;
    (in_insert || in_patch).then(|| format!("with_{setter}"))
}

/// The table's key in graphs.toml, schema-qualified so that it names this table whatever the
/// search path: `"public.notes"`.
fn table_key(table: &Table) -> String {
    toml_key(&format!("{}.{}", table.name.schema, table.name.name))
}

/// A TOML key, quoted.
fn toml_key(text: &str) -> String {
    format!("\"{}\"", text.replace('\\', "\\\\").replace('"', "\\\""))
}
