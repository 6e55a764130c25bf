//! Each table's upsert conflict: its key and the columns `DO UPDATE SET` assigns.

use std::collections::BTreeSet;

use toml::Spanned;

use crate::catalog::Table;
use crate::config::{self, TableConfig};
use crate::error::Diagnostic;
use crate::model::{ColumnModel, Conflict};
use crate::source::SourceFile;

/// The upsert conflict of a table (seed design §8): `conflict_target` columns or a
/// `conflict_constraint`, exclusive; by default the primary key; none without either.
pub(super) fn conflict(
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
        None => default_update(
            columns,
            primary_key,
            if constraint.is_none() { &key } else { &[] },
        ),
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

/// The columns an upsert's `DO UPDATE SET` assigns when `conflict_update` is not set: every
/// insertable column except `key` (the conflict columns of a column-list target; empty for
/// `ON CONSTRAINT`), and never the primary key or a sequence-filled column, whose new value
/// would replace the existing row's identity.
pub(super) fn default_update(
    columns: &[ColumnModel<'_>],
    primary_key: &[usize],
    key: &[usize],
) -> Vec<usize> {
    columns
        .iter()
        .enumerate()
        .filter(|(i, c)| {
            let keeps_identity =
                primary_key.contains(i) || c.column.serial || c.column.identity.is_some();
            c.insert.is_some() && !key.contains(i) && !keeps_identity
        })
        .map(|(i, _)| i)
        .collect()
}
