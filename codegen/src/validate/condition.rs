//! The `where` of an update graph's child edge: a SQL condition over the child's columns,
//! read by the reader (`ddl::condition`) and checked against the catalog at build time.

use toml::Spanned;

use crate::config::{self, Strategy};
use crate::ddl::condition::{read_condition, ConditionError};
use crate::error::Diagnostic;
use crate::model::TableModel;
use crate::source::SourceFile;

/// The condition `text` of a child edge with `strategy`, as the statement writes it: one
/// expression of the child's own columns (see [`read_condition`]). Only replace and diff
/// delete children and only update changes existing ones, so only they take one.
pub(super) fn child_condition(
    table: &TableModel<'_>,
    text: &Spanned<String>,
    strategy: &Strategy,
    file: &SourceFile,
) -> Result<String, Diagnostic> {
    if !matches!(
        strategy,
        Strategy::Replace | Strategy::Diff | Strategy::Update
    ) {
        return Err(config::error_at(
            file,
            text,
            format!(
                "`where` scopes the children a strategy deletes or updates: `{}` does neither",
                strategy.as_str()
            ),
        )
        .with_help(
            "use `where` with strategy = \"replace\", \"diff\" or \"update\", or remove it",
        ));
    }
    let condition = read_condition(text.get_ref()).map_err(|e| match e {
        ConditionError::Syntax(e) => {
            config::error_at(file, text, format!("`where` is not a SQL condition: {e}"))
                .with_help("write one condition over the child's columns, like \"kind = 'follow'\"")
        }
        ConditionError::Form(form) => config::error_at(
            file,
            text,
            format!("`where` uses {form}, which a child condition cannot"),
        )
        .with_help(
            "use the child's columns by name, constants, comparisons, AND / OR / NOT, \
             IS [NOT] NULL, IN (...), BETWEEN, LIKE and casts",
        ),
    })?;
    let names: Vec<&str> = table
        .columns
        .iter()
        .map(|c| c.column.name.as_str())
        .collect();
    for column in condition.columns {
        if !names.contains(&column.as_str()) {
            let named = Spanned::new(text.span(), column);
            return Err(super::resolve::unknown_column(
                file,
                &named,
                &table.table.name,
                names.iter().copied(),
            ));
        }
    }
    Ok(condition.sql)
}
