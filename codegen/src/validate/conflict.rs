//! Each table's upsert conflict: its key and the columns `DO UPDATE SET` assigns.

use std::collections::BTreeSet;

use toml::Spanned;

use crate::catalog::Table;
use crate::config::{self, TableConfig};
use crate::error::Diagnostic;
use crate::model::{ColumnModel, Conflict};
use crate::source::SourceFile;

/// What the conflict rules read: the table, its column models and the file its settings
/// came from (for diagnostics).
struct Context<'c, 'a> {
    table: &'c Table,
    columns: &'c [ColumnModel<'a>],
    file: &'c SourceFile,
}

impl Context<'_, '_> {
    /// Index of a named column, or a diagnostic at the name listing the table's columns.
    fn column_index(&self, name: &Spanned<String>, errors: &mut Vec<Diagnostic>) -> Option<usize> {
        let found = self
            .columns
            .iter()
            .position(|c| c.column.name == *name.get_ref());
        if found.is_none() {
            let columns = self.columns.iter().map(|c| c.column.name.as_str());
            let table = &self.table.name;
            errors.push(super::resolve::unknown_column(
                self.file, name, table, columns,
            ));
        }
        found
    }

    /// The key of `conflict_target`: the named columns, which must be exactly the columns of
    /// the primary key or of a non-partial unique key (what `ON CONFLICT (..)` can infer).
    fn target_key(
        &self,
        target: &Spanned<Vec<Spanned<String>>>,
    ) -> Result<Vec<usize>, Vec<Diagnostic>> {
        let mut errors = Vec::new();
        let key: Vec<usize> = target
            .get_ref()
            .iter()
            .filter_map(|n| self.column_index(n, &mut errors))
            .collect();
        if !errors.is_empty() {
            return Err(errors);
        }
        let names: Vec<&String> = target.get_ref().iter().map(|n| n.get_ref()).collect();
        let set: BTreeSet<&String> = names.iter().copied().collect();
        let same =
            |cols: &[String]| cols.len() == set.len() && cols.iter().all(|c| set.contains(c));
        let table = self.table;
        if same(&table.primary_key) || table.uniques.iter().any(|u| !u.partial && same(&u.columns))
        {
            return Ok(key);
        }
        Err(vec![config::error_at(
            self.file,
            target,
            format!(
                "conflict_target ({}) of `{}` matches no unique constraint or unique index",
                names
                    .iter()
                    .map(|n| n.as_str())
                    .collect::<Vec<_>>()
                    .join(", "),
                table.name
            ),
        )
        .with_help(format!(
            "ON CONFLICT needs a non-partial unique key on exactly these columns; {}",
            unique_keys_help(table, true)
        ))])
    }

    /// The key of `conflict_constraint`: the columns of the primary key or unique constraint
    /// of that name. A unique index of that name is not enough (`ON CONFLICT ON CONSTRAINT`
    /// cannot name an index): the help line shows the `conflict_target` that works.
    fn constraint_key(&self, constraint: &Spanned<String>) -> Result<Vec<usize>, Vec<Diagnostic>> {
        let table = self.table;
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
        if let Some(key_columns) = key_columns {
            return Ok(key_columns
                .iter()
                .filter_map(|c| self.columns.iter().position(|m| m.column.name == *c))
                .collect());
        }
        if let Some(index) = table.uniques.iter().find(|u| u.name == *name && !u.partial) {
            return Err(vec![config::error_at(
                self.file,
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
        Err(vec![config::error_at(
            self.file,
            constraint,
            format!(
                "table `{}` has no unique or primary key constraint `{name}`",
                table.name
            ),
        )
        .with_help(format!(
            "ON CONFLICT ON CONSTRAINT needs a constraint (not only an index); {}",
            unique_keys_help(table, true)
        ))])
    }

    /// The columns of `conflict_update`, each of which an insert must be able to write.
    fn update_columns(
        &self,
        update: &Spanned<Vec<Spanned<String>>>,
    ) -> Result<Vec<usize>, Vec<Diagnostic>> {
        let mut errors = Vec::new();
        let mut indexes = Vec::new();
        for name in update.get_ref() {
            let Some(index) = self.column_index(name, &mut errors) else {
                continue;
            };
            if self.columns[index].insert.is_none() {
                errors.push(
                    config::error_at(
                        self.file,
                        name,
                        format!(
                            "column `{}` of `{}` cannot be written (generated or identity ALWAYS)",
                            name.get_ref(),
                            self.table.name
                        ),
                    )
                    .with_help("remove it from conflict_update"),
                );
            }
            indexes.push(index);
        }
        if errors.is_empty() {
            Ok(indexes)
        } else {
            Err(errors)
        }
    }
}

/// The upsert conflict of a table: `conflict_target` columns or a `conflict_constraint`,
/// exclusive; by default the primary key; none without either, or when the primary key is
/// one an insert cannot set (identity ALWAYS never conflicts). `conflict_update` narrows the
/// `DO UPDATE SET` list, which is otherwise [`default_update`].
pub(super) fn conflict(
    table: &Table,
    table_config: Option<&TableConfig>,
    columns: &[ColumnModel<'_>],
    primary_key: &[usize],
    file: &SourceFile,
) -> Result<Option<Conflict>, Vec<Diagnostic>> {
    let empty = TableConfig::default();
    let settings = table_config.unwrap_or(&empty);
    let context = Context {
        table,
        columns,
        file,
    };
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
        (Some(target), None) => (None, context.target_key(target)?),
        (None, Some(constraint)) => (
            Some(constraint.get_ref().clone()),
            context.constraint_key(constraint)?,
        ),
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
                    unique_keys_help(table, true)
                ))]);
            }
            return Ok(None);
        }
        (None, None) if primary_key.iter().any(|&i| columns[i].insert.is_none()) => {
            return Ok(None)
        }
        (None, None) => (None, primary_key.to_vec()),
    };
    let update = match &settings.conflict_update {
        Some(update) => context.update_columns(update)?,
        None => default_update(
            columns,
            primary_key,
            if constraint.is_none() { &key } else { &[] },
        ),
    };
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
