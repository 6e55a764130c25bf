//! The patch struct of a table: the updatable columns, `update_by_id`.

use std::fmt::Write as _;

use super::rows::{column_doc, key_signature, table_doc};
use super::{doc, doc_sql};
use crate::model::{ColumnModel, TableModel};
use crate::plan::TableStatements;

/// A patch field per updatable column: `Option<T>`, or `Option<Option<T>>` for nullable
/// columns (`Some(None)` sets NULL). Shared by patch structs and update graphs.
pub(super) fn patch_fields(updatable: &[&ColumnModel<'_>]) -> String {
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

/// Code that appends `"column" = $n` to `sql` and binds the value, for each field the patch
/// sets: only those columns are assigned.
pub(super) fn patch_assignments(updatable: &[&ColumnModel<'_>], sql: &str) -> String {
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
            "if let Some(v) = &self.{f} {{ ::writegraph::__private::push_assignment(&mut {sql}, &mut params, {column:?}, v, ::writegraph::__private::Type::{ty}, {cast:?}); }}",
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
    let _ = writeln!(
        code,
        "#[derive(Debug, Clone, PartialEq, Default)]\npub struct {name} {{"
    );
    code.push_str(&patch_fields(&updatable));
    code.push_str("}\n");
    let _ = writeln!(code, "impl {name} {{");
    code.push_str(&patch_setters(&updatable));
    if let Some(patch) = &statements.update_by_id {
        let (prefix, where_clause) = (&patch.prefix, &patch.suffix);
        let (id_type, key_params) = key_signature(table);
        let key_count = key_params.len();
        let table_name = table.table.name.to_sql();
        let assignments = patch_assignments(&updatable, "sql");
        let _ = write!(
            code,
            "fn update_statement<'a>(&'a self, id: &'a {id_type}, returning: &str)
                -> ::writegraph::Result<(::std::string::String, ::std::vec::Vec<::writegraph::__private::Param<'a>>)> {{
                let mut sql = ::std::string::String::from({prefix:?});
                let mut params: ::std::vec::Vec<::writegraph::__private::Param<'a>> = ::std::vec![{key_params}];
                {assignments}
                if params.len() == {key_count} {{
                    return Err(::writegraph::Error::Validation({nothing:?}.into()));
                }}
                sql.push_str({where_clause:?});
                sql.push_str(returning);
                Ok((sql, params))
            }}
            {doc_update}pub async fn update_by_id(self, conn: &impl ::writegraph::GenericClient, id: &{id_type}) -> ::writegraph::Result<u64> {{
                let (sql, params) = self.update_statement(id, \"\")?;
                let updated = conn.execute_typed(&sql, &params).await?;
                if updated == 0 {{
                    return Err(::writegraph::Error::NotFound {{ table: {table_name:?} }});
                }}
                Ok(updated)
            }}
            {doc_update_returning}pub async fn update_by_id_returning(self, conn: &impl ::writegraph::GenericClient, id: &{id_type}) -> ::writegraph::Result<{row}> {{
                let (sql, params) = self.update_statement(id, {returning:?})?;
                let rows = conn.query_typed(&sql, &params).await?;
                match rows.first() {{
                    Some(row) => Ok(<{row} as ::writegraph::FromRow>::from_row(row)?),
                    None => Err(::writegraph::Error::NotFound {{ table: {table_name:?} }}),
                }}
            }}\n",
            key_params = key_params.join(", "),
            nothing = format!("the patch of `{table_name}` sets no column: nothing to update"),
            returning = statements.returning,
            doc_update = doc_sql(
                "Updates the columns this patch sets (and no other: an `UPDATE OF` trigger on an unset column does not fire). \
                 `Error::NotFound` when no row has this key; `Error::Validation` when the patch sets nothing.",
                &patch.shown
            ),
            doc_update_returning = doc("Like `update_by_id`, and returns the row as stored."),
        );
    }
    code.push_str("}\n");
    code
}
