//! The patch struct of a table: the updatable columns, `update_by_id`.

use std::fmt::Write as _;

use super::insert::setter_line;
use super::rows::{field_doc, table_doc};
use super::{doc, statement_assigned, str_literal};
use crate::model::{ColumnModel, TableModel};
use crate::plan::TableStatements;

/// A patch field per updatable column: `Option<T>`, or `Option<Option<T>>` for nullable
/// columns (`Some(None)` sets NULL). Update graphs hold the patch struct itself.
fn patch_fields(updatable: &[&ColumnModel<'_>], attributes: &crate::model::Attributes) -> String {
    let mut code = String::new();
    for column in updatable {
        let ty = &column.ty.rust;
        let (field_type, note) = if column.not_null {
            (
                format!("::std::option::Option<{ty}>"),
                "`None` leaves it unchanged.",
            )
        } else {
            (
                format!("::std::option::Option<::std::option::Option<{ty}>>"),
                "`None` leaves it unchanged; `Some(None)` sets NULL.",
            )
        };
        code.push_str(&doc(&field_doc(column, Some(note))));
        code.push_str(&super::attributes::field_attributes(
            attributes,
            &column.field,
            &field_type,
        ));
        let _ = writeln!(code, "pub {}: {field_type},", column.field);
    }
    code
}

/// The `setters!` entries of patch fields: `with_x` and `with_x_opt`.
fn patch_setters(updatable: &[&ColumnModel<'_>]) -> String {
    let mut code = String::new();
    for column in updatable {
        let s = crate::ident::setter_stem(&column.field);
        let kind = if column.not_null {
            "patch"
        } else {
            "patch_null"
        };
        code.push_str(&setter_line(
            kind,
            column,
            &format!("with_{s} / with_{s}_opt"),
        ));
    }
    code
}

/// `assign!`, a `set.set_some(..)` for each patch field of `holder` (`self`): only the
/// fields a patch sets are assigned.
fn patch_assignments(updatable: &[&ColumnModel<'_>], holder: &str) -> String {
    let fields = assignment_list(updatable);
    if fields.is_empty() {
        return String::new();
    }
    format!("::writegraph::assign!(set, {holder} {{ {fields} }});")
}

/// The fields of `assign!`: `"\"column\"" = field as TYPE` (with the cast of an enum) for
/// each patch field.
fn assignment_list(updatable: &[&ColumnModel<'_>]) -> String {
    let fields: Vec<String> = updatable
        .iter()
        .map(|column| {
            let cast = column
                .ty
                .cast_to
                .as_deref()
                .map(|c| format!(" {:?}", format!("::{c}")))
                .unwrap_or_default();
            format!(
                "{column:?} = {f} as {ty}{cast}",
                f = column.field,
                column = crate::ident::quote_ident(&column.column.name),
                ty = column.ty.param_type,
            )
        })
        .collect();
    fields.join(", ")
}

pub(super) fn patch_struct(table: &TableModel<'_>, statements: &TableStatements) -> String {
    let row = &table.rust_name;
    let name = format!("{row}Patch");
    let updatable: Vec<&ColumnModel<'_>> = table.columns.iter().filter(|c| c.updatable).collect();
    let mut code = doc(&table_doc(table, "Changes to one row"));
    code.push_str(&super::attributes::type_attributes(&table.attributes));
    let _ = writeln!(
        code,
        "#[derive(Debug, Clone, PartialEq, Default)]\npub struct {name} {{"
    );
    code.push_str(&patch_fields(&updatable, &table.attributes));
    code.push_str("}\n");
    let _ = writeln!(
        code,
        "impl {name} {{\n{}}}",
        super::setters_call(&patch_setters(&updatable))
    );
    let Some(patch) = &statements.update_by_id else {
        return code;
    };
    let _ = write!(
        code,
        "impl ::writegraph::Patch for {name} {{
            type Stored = {row};
            {statement}const RETURNING_SQL: &'static str = {returning};
            fn assign<'a>(&'a self, set: &mut ::writegraph::write::Assignments<'a>) {{ {assignments} }}
            {check}
        }}
        ::writegraph::patch_methods!({name});\n",
        statement = statement_assigned(
            "patch",
            ("UPDATE_SQL", &patch.prefix),
            &[("WHERE_SQL", &patch.suffix)],
            "",
        ),
        returning = str_literal(&statements.returning),
        assignments = patch_assignments(&updatable, "self"),
        check = patch_check(table, &updatable),
    );
    code
}

/// `fn check` of a patch through `writegraph::patch_check!`: `check_text` of each text
/// value it may set, as a row's are checked (row 0: a patch is one row). Empty when no
/// updatable column holds text.
fn patch_check(table: &TableModel<'_>, updatable: &[&ColumnModel<'_>]) -> String {
    let checks: Vec<String> = updatable
        .iter()
        .filter_map(|column| {
            let max = super::insert::max_chars(column)?;
            Some(format!("{} {:?} {max}", column.field, column.column.name))
        })
        .collect();
    if checks.is_empty() {
        return String::new();
    }
    format!(
        "::writegraph::patch_check!({:?} {{ {} }});",
        table.table.name.to_sql(),
        checks.join(", ")
    )
}
