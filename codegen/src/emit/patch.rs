//! The patch struct of a table: the updatable columns, `update_by_id`.

use std::fmt::Write as _;

use super::rows::{column_doc, table_doc};
use super::{doc, doc_sql};
use crate::model::{ColumnModel, TableModel};
use crate::plan::TableStatements;

/// A patch field per updatable column: `Option<T>`, or `Option<Option<T>>` for nullable
/// columns (`Some(None)` sets NULL). Shared by patch structs and update graphs.
pub(super) fn patch_fields(
    updatable: &[&ColumnModel<'_>],
    attributes: &crate::model::Attributes,
) -> String {
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
        code.push_str(&doc(&format!("{}\n\n{note}", column_doc(column))));
        code.push_str(&super::attributes::field_attributes(
            attributes,
            &column.field,
            &field_type,
        ));
        let _ = writeln!(code, "pub {}: {field_type},", column.field);
    }
    code
}

/// `with_x` and `with_x_opt` setters of patch fields.
pub(super) fn patch_setters(updatable: &[&ColumnModel<'_>]) -> String {
    let mut code = String::new();
    for column in updatable {
        let f = &column.field;
        let s = crate::ident::setter_stem(f);
        let ty = &column.ty.rust;
        code.push_str(&doc(&format!("Sets `{}`.", column.column.name)));
        if column.not_null {
            let _ = writeln!(code, "pub fn with_{s}(mut self, v: impl ::std::convert::Into<{ty}>) -> Self {{ self.{f} = Some(v.into()); self }}");
            code.push_str(&doc(&format!(
                "Sets `{}` from an `Option`: `None` leaves it unchanged.",
                column.column.name
            )));
            let _ = writeln!(code, "pub fn with_{s}_opt(mut self, v: ::std::option::Option<{ty}>) -> Self {{ self.{f} = v; self }}");
        } else {
            let _ = writeln!(code, "pub fn with_{s}(mut self, v: impl ::std::convert::Into<{ty}>) -> Self {{ self.{f} = Some(Some(v.into())); self }}");
            code.push_str(&doc(&format!(
                "Sets `{}` to a value, or to NULL with `None`.",
                column.column.name
            )));
            let _ = writeln!(code, "pub fn with_{s}_opt(mut self, v: ::std::option::Option<{ty}>) -> Self {{ self.{f} = Some(v); self }}");
        }
    }
    code
}

/// `set.set_some(..)` for each patch field of `holder` (`self`, or a graph's `self.root`):
/// only the fields a patch sets are assigned.
pub(super) fn patch_assignments(updatable: &[&ColumnModel<'_>], holder: &str) -> String {
    let mut code = String::new();
    for column in updatable {
        let cast = column
            .ty
            .cast_to
            .as_deref()
            .map(|c| format!("::{c}"))
            .unwrap_or_default();
        let _ = writeln!(
            code,
            "set.set_some({column:?}, &{holder}.{f}, ::writegraph::__private::Type::{ty}, {cast:?});",
            f = column.field,
            column = crate::ident::quote_ident(&column.column.name),
            ty = column.ty.param_type,
        );
    }
    code
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
    let _ = writeln!(code, "impl {name} {{");
    code.push_str(&patch_setters(&updatable));
    code.push_str("}\n");
    let Some(patch) = &statements.update_by_id else {
        return code;
    };
    let _ = write!(
        code,
        "impl ::writegraph::Patch for {name} {{
            type Stored = {row};
            {update_doc}const UPDATE_SQL: &'static str = {prefix:?};
            const WHERE_SQL: &'static str = {where_sql:?};
            const RETURNING_SQL: &'static str = {returning:?};
            fn assign<'a>(&'a self, set: &mut ::writegraph::write::Assignments<'a>) {{ {assignments} }}
        }}
        ::writegraph::patch_methods!({name});\n",
        update_doc = doc_sql(
            "The start of the update; `assign` appends a `\"column\" = $n` for each field the patch sets, then `WHERE_SQL` (and `RETURNING_SQL`) follow.",
            &patch.shown
        ),
        prefix = patch.prefix,
        where_sql = patch.suffix,
        returning = statements.returning,
        assignments = patch_assignments(&updatable, "self"),
    );
    code
}
