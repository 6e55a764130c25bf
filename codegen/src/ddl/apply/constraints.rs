//! Constraints: primary keys, unique keys and foreign keys (the write model's keys), CHECK and
//! EXCLUDE constraints (kept by name only, so that dropping them resolves), and how keys pass
//! from a partitioned or parent table to its partitions.

use sqlparser::ast::{Expr, Ident, ReferentialAction, TableConstraint};

use crate::catalog::{FkAction, ForeignKey, QualifiedName, Table, UniqueKey};
use crate::ddl::fold_ident;
use crate::ddl::naming::{choose_name, column_name_addition};
use crate::error::Diagnostic;

use super::columns::referenced_columns;
use super::indexes::index_columns;
use super::names::name_parts;
use super::tables::column_list;
use super::{offset_of_location, Applied, Ctx, IndexEntry, Reader};

impl Reader {
    pub(super) fn apply_pending(
        &mut self,
        ctx: &Ctx<'_>,
        table: &QualifiedName,
        pending: Vec<PendingConstraint>,
    ) -> Applied {
        // PostgreSQL names the primary key before the other indexes.
        let (keys, others): (Vec<_>, Vec<_>) = pending.into_iter().partition(|p| {
            matches!(
                p,
                PendingConstraint::ColumnPrimaryKey { .. }
                    | PendingConstraint::Table(TableConstraint::PrimaryKey(_))
            )
        });
        // A key that repeats an earlier one of the same statement (`id PRIMARY KEY, UNIQUE
        // (id)`) makes no index of its own (transformIndexConstraints drops it).
        let mut key_columns: Vec<Vec<String>> = Vec::new();
        for constraint in keys.into_iter().chain(others) {
            if let Some(columns) = pending_key_columns(&constraint) {
                if key_columns.contains(&columns) {
                    continue;
                }
                key_columns.push(columns);
            }
            match constraint {
                PendingConstraint::ColumnPrimaryKey { column, name } => {
                    self.add_primary_key(ctx, table, std::slice::from_ref(&column), name.as_ref())?
                }
                PendingConstraint::ColumnUnique { column, name } => {
                    self.add_unique(ctx, table, std::slice::from_ref(&column), name.as_ref())?
                }
                PendingConstraint::Table(constraint) => {
                    self.add_constraint(ctx, table, &constraint)?
                }
            }
        }
        Ok(())
    }

    /// A table constraint added to `table` (`ALTER TABLE ... ADD`, or queued by `CREATE TABLE`).
    ///
    /// One match over the constraint kinds, kept whole so that they read side by side: keys and
    /// foreign keys go to their own methods, CHECK and EXCLUDE are kept by name.
    pub(super) fn add_constraint(
        &mut self,
        ctx: &Ctx<'_>,
        table: &QualifiedName,
        constraint: &TableConstraint,
    ) -> Applied {
        match constraint {
            TableConstraint::PrimaryKey(pk) => {
                let columns = index_columns(ctx, &pk.columns)?;
                self.add_primary_key(ctx, table, &columns, pk.name.as_ref())
            }
            TableConstraint::Unique(unique) => {
                let columns = index_columns(ctx, &unique.columns)?;
                self.add_unique(ctx, table, &columns, unique.name.as_ref())
            }
            TableConstraint::ForeignKey(fk) => self.add_foreign_key(ctx, table, fk),
            TableConstraint::Check(check) => {
                let name = match &check.name {
                    Some(name) => fold_ident(name),
                    None => {
                        // Named after the one column it references, else `<table>_check`.
                        let referenced = self
                            .catalog
                            .table(table)
                            .map(|t| referenced_columns(t, &check.expr.to_string()))
                            .unwrap_or_default();
                        let column = match referenced.as_slice() {
                            [only] => Some(only.as_str()),
                            _ => None,
                        };
                        choose_name(&table.name, column, "check", |n| {
                            self.constraint_taken(table, n)
                        })
                    }
                };
                self.other_constraints.push((table.clone(), name));
                Ok(())
            }
            TableConstraint::Exclude(exclude) => {
                let name = match &exclude.name {
                    Some(name) => fold_ident(name),
                    None => choose_name(&table.name, None, "excl", |n| {
                        self.relation_taken(&table.schema, n)
                    }),
                };
                self.indexes.push(IndexEntry {
                    name: QualifiedName::new(table.schema.clone(), name.clone()),
                    table: table.clone(),
                    constraint: true,
                });
                self.other_constraints.push((table.clone(), name));
                Ok(())
            }
            TableConstraint::PrimaryKeyUsingIndex(using)
            | TableConstraint::UniqueUsingIndex(using) => {
                let index_parts = vec![table.schema.clone(), fold_ident(&using.index_name)];
                let Some(position) = self.resolve_index(&index_parts) else {
                    return Err(ctx.error_at_ident(
                        &using.index_name,
                        format!("index `{}` does not exist", using.index_name.value),
                    ));
                };
                let index_name = self.indexes[position].name.name.clone();
                let constraint_name = using
                    .name
                    .as_ref()
                    .map(fold_ident)
                    .unwrap_or_else(|| index_name.clone());
                let is_primary = matches!(constraint, TableConstraint::PrimaryKeyUsingIndex(_));
                let Some(t) = self.catalog.table_mut(table) else {
                    return Ok(());
                };
                let Some(unique_position) = t.uniques.iter().position(|u| u.name == index_name)
                else {
                    return Err(ctx
                        .error_at_ident(
                            &using.index_name,
                            format!("index `{index_name}` is not a unique index on plain columns"),
                        )
                        .with_help(
                            "a constraint USING INDEX needs a unique, non-partial index on columns",
                        ));
                };
                let unique = t.uniques.remove(unique_position);
                if is_primary {
                    t.primary_key = unique.columns.clone();
                    t.primary_key_name = Some(constraint_name.clone());
                    for column in &unique.columns {
                        if let Some(c) = t.column_mut(column) {
                            c.not_null = true;
                        }
                    }
                } else {
                    t.uniques.insert(
                        unique_position,
                        UniqueKey {
                            name: constraint_name.clone(),
                            is_constraint: true,
                            ..unique
                        },
                    );
                }
                let entry = &mut self.indexes[position];
                entry.name.name = constraint_name;
                entry.constraint = true;
                Ok(())
            }
            // MySQL-only forms; PostgreSQL's parser rejects them before we get here.
            _ => Ok(()),
        }
    }

    pub(super) fn add_primary_key(
        &mut self,
        ctx: &Ctx<'_>,
        table: &QualifiedName,
        columns: &[Ident],
        name: Option<&Ident>,
    ) -> Applied {
        let names = self.check_key_columns(ctx, table, columns)?;
        let at = columns
            .first()
            .map_or(0, |c| offset_of_location(ctx.text, c.span.start));
        let Some(existing) = self.catalog.table(table) else {
            return Ok(());
        };
        if !existing.primary_key.is_empty() {
            return Err(ctx
                .error_at(at, format!("table `{table}` already has a primary key"))
                .with_help("a table has one primary key; use UNIQUE for other keys"));
        }
        let constraint_name = match name {
            Some(name) => fold_ident(name),
            None => choose_name(&table.name, None, "pkey", |n| {
                self.relation_taken(&table.schema, n)
            }),
        };
        self.register_index(ctx, at, table, &constraint_name, true)?;
        if let Some(t) = self.catalog.table_mut(table) {
            for column in &names {
                if let Some(c) = t.column_mut(column) {
                    c.not_null = true;
                }
            }
            t.primary_key = names;
            t.primary_key_name = Some(constraint_name);
        }
        Ok(())
    }

    pub(super) fn add_unique(
        &mut self,
        ctx: &Ctx<'_>,
        table: &QualifiedName,
        columns: &[Ident],
        name: Option<&Ident>,
    ) -> Applied {
        let names = self.check_key_columns(ctx, table, columns)?;
        let at = columns
            .first()
            .map_or(0, |c| offset_of_location(ctx.text, c.span.start));
        let constraint_name = match name {
            Some(name) => fold_ident(name),
            None => {
                let refs: Vec<&str> = names.iter().map(String::as_str).collect();
                choose_name(
                    &table.name,
                    Some(&column_name_addition(&refs)),
                    "key",
                    |n| self.relation_taken(&table.schema, n),
                )
            }
        };
        self.register_index(ctx, at, table, &constraint_name, true)?;
        if let Some(t) = self.catalog.table_mut(table) {
            t.uniques.push(UniqueKey {
                name: constraint_name,
                columns: names,
                partial: false,
                is_constraint: true,
            });
        }
        Ok(())
    }

    /// Gives every partition of `table`, at any depth, copies of its parent's keys
    /// (PostgreSQL recurses a key added to a partitioned table). Keys a partition already has
    /// are left as they are, so this can run after any change to `table`.
    pub(super) fn propagate_keys(&mut self, table: &QualifiedName) {
        let mut parents = vec![table.clone()];
        let mut seen = Vec::new();
        while let Some(parent) = parents.pop() {
            if seen.contains(&parent) {
                continue;
            }
            let children: Vec<QualifiedName> = self
                .catalog
                .tables
                .iter()
                .filter(|t| t.partition_of.as_ref() == Some(&parent))
                .map(|t| t.name.clone())
                .collect();
            for child in children {
                self.inherit_keys(&parent, &child);
                parents.push(child);
            }
            seen.push(parent);
        }
    }

    /// Copies `parent`'s keys that `child` lacks onto the partition `child`, named as
    /// PostgreSQL names the copies: the primary key and unique constraints by the
    /// partition's name (`child_pkey`, `child_a_b_key`), unique indexes likewise with `_idx`,
    /// foreign keys under the parent's constraint name.
    pub(super) fn inherit_keys(&mut self, parent: &QualifiedName, child: &QualifiedName) {
        let (Some(parent_table), Some(child_table)) =
            (self.catalog.table(parent), self.catalog.table(child))
        else {
            return;
        };
        let parent_table = parent_table.clone();
        let child_has_pk = !child_table.primary_key.is_empty();
        let schema = child.schema.clone();
        if !parent_table.primary_key.is_empty() && !child_has_pk {
            let name = choose_name(&child.name, None, "pkey", |n| {
                self.relation_taken(&schema, n)
            });
            self.indexes.push(IndexEntry {
                name: QualifiedName::new(schema.clone(), name.clone()),
                table: child.clone(),
                constraint: true,
            });
            if let Some(t) = self.catalog.table_mut(child) {
                for column in &parent_table.primary_key {
                    if let Some(c) = t.column_mut(column) {
                        c.not_null = true;
                    }
                }
                t.primary_key = parent_table.primary_key.clone();
                t.primary_key_name = Some(name);
            }
        }
        for unique in &parent_table.uniques {
            let has = self.catalog.table(child).is_some_and(|t| {
                t.uniques.iter().any(|u| {
                    u.columns == unique.columns
                        && u.partial == unique.partial
                        && u.is_constraint == unique.is_constraint
                })
            });
            if has {
                continue;
            }
            let refs: Vec<&str> = unique.columns.iter().map(String::as_str).collect();
            let label = if unique.is_constraint { "key" } else { "idx" };
            let name = choose_name(
                &child.name,
                Some(&column_name_addition(&refs)),
                label,
                |n| self.relation_taken(&schema, n),
            );
            self.indexes.push(IndexEntry {
                name: QualifiedName::new(schema.clone(), name.clone()),
                table: child.clone(),
                constraint: unique.is_constraint,
            });
            if let Some(t) = self.catalog.table_mut(child) {
                t.uniques.push(UniqueKey {
                    name,
                    ..unique.clone()
                });
            }
        }
        for fk in &parent_table.foreign_keys {
            let has = self
                .catalog
                .table(child)
                .is_some_and(|t| t.foreign_keys.iter().any(|f| f.same_reference(fk)));
            if has {
                continue;
            }
            let name = if self.constraint_taken(child, &fk.name) {
                let refs: Vec<&str> = fk.columns.iter().map(String::as_str).collect();
                choose_name(
                    &child.name,
                    Some(&column_name_addition(&refs)),
                    "fkey",
                    |n| self.constraint_taken(child, n),
                )
            } else {
                fk.name.clone()
            };
            if let Some(t) = self.catalog.table_mut(child) {
                t.foreign_keys.push(ForeignKey { name, ..fk.clone() });
            }
        }
    }

    /// The folded names of key columns, each checked to exist in the table, none twice.
    pub(super) fn check_key_columns(
        &self,
        ctx: &Ctx<'_>,
        table: &QualifiedName,
        columns: &[Ident],
    ) -> Result<Vec<String>, Diagnostic> {
        let Some(t) = self.catalog.table(table) else {
            return Ok(Vec::new());
        };
        let mut names = Vec::new();
        for ident in columns {
            let name = fold_ident(ident);
            if t.column(&name).is_none() {
                return Err(ctx
                    .error_at_ident(
                        ident,
                        format!("column `{name}` named in key does not exist in `{table}`"),
                    )
                    .with_help(format!("columns of `{table}` are: {}", column_list(t))));
            }
            if names.contains(&name) {
                return Err(
                    ctx.error_at_ident(ident, format!("column `{name}` appears twice in the key"))
                );
            }
            names.push(name);
        }
        Ok(names)
    }

    /// A foreign key of `table`, checked against its target as PostgreSQL checks it.
    ///
    /// Kept whole: the checks of one foreign key (target table, referenced columns, column
    /// counts, the target's unique key) in the order PostgreSQL makes them, then the key.
    pub(super) fn add_foreign_key(
        &mut self,
        ctx: &Ctx<'_>,
        table: &QualifiedName,
        fk: &sqlparser::ast::ForeignKeyConstraint,
    ) -> Applied {
        let columns = self.check_key_columns(ctx, table, &fk.columns)?;
        let ref_parts = name_parts(ctx, &fk.foreign_table)?;
        let first_column = columns.first().cloned().unwrap_or_default();
        let Some(ref_table) = self
            .candidates(&ref_parts)
            .into_iter()
            .find(|c| self.catalog.table(c).is_some())
        else {
            let shown_cols = fk
                .referred_columns
                .iter()
                .map(fold_ident)
                .collect::<Vec<_>>()
                .join(", ");
            let target = if shown_cols.is_empty() {
                ref_parts.join(".")
            } else {
                format!("{}({shown_cols})", ref_parts.join("."))
            };
            return Err(ctx
                .error_at_name(
                    &fk.foreign_table,
                    format!(
                        "column `{first_column}` of `{}` references `{target}`, but `{}` is never created",
                        table.name,
                        ref_parts.join(".")
                    ),
                )
                .with_help(self.missing_table_help(&ref_parts)));
        };
        let Some(target) = self.catalog.table(&ref_table) else {
            return Ok(());
        };
        let ref_columns: Vec<String> = if fk.referred_columns.is_empty() {
            if target.primary_key.is_empty() {
                return Err(ctx
                    .error_at_name(
                        &fk.foreign_table,
                        format!("`{ref_table}` has no primary key to reference"),
                    )
                    .with_help("name the referenced columns: REFERENCES table (column)"));
            }
            target.primary_key.clone()
        } else {
            let mut names = Vec::new();
            for ident in &fk.referred_columns {
                let name = fold_ident(ident);
                if target.column(&name).is_none() {
                    return Err(ctx
                        .error_at_ident(
                            ident,
                            format!("column `{first_column}` of `{}` references `{ref_table}({name})`, but `{ref_table}` has no column `{name}`", table.name),
                        )
                        .with_help(format!("columns of `{ref_table}` are: {}", column_list(target))));
                }
                names.push(name);
            }
            names
        };
        if ref_columns.len() != columns.len() {
            return Err(ctx
                .error_at_name(
                    &fk.foreign_table,
                    format!(
                        "foreign key has {} referencing column(s) but {} referenced column(s)",
                        columns.len(),
                        ref_columns.len()
                    ),
                )
                .with_help("list as many referenced columns as referencing ones"));
        }
        let same_set = |key: &[String]| {
            key.len() == ref_columns.len() && key.iter().all(|k| ref_columns.contains(k))
        };
        let referenced_is_unique = same_set(&target.primary_key)
            || target
                .uniques
                .iter()
                .any(|u| !u.partial && same_set(&u.columns));
        if !referenced_is_unique {
            return Err(ctx
                .error_at_name(
                    &fk.foreign_table,
                    format!("there is no unique constraint matching columns ({}) of `{ref_table}`", ref_columns.join(", ")),
                )
                .with_help("reference the primary key, or add a UNIQUE constraint on exactly these columns"));
        }
        let name = match &fk.name {
            Some(name) => fold_ident(name),
            None => {
                let refs: Vec<&str> = columns.iter().map(String::as_str).collect();
                choose_name(
                    &table.name,
                    Some(&column_name_addition(&refs)),
                    "fkey",
                    |n| self.constraint_taken(table, n),
                )
            }
        };
        let Some(t) = self.catalog.table_mut(table) else {
            return Ok(());
        };
        t.foreign_keys.push(ForeignKey {
            name,
            columns,
            ref_table,
            ref_columns,
            on_delete: fk_action(fk.on_delete),
            on_update: fk_action(fk.on_update),
        });
        Ok(())
    }

    /// `ALTER TABLE ... DROP CONSTRAINT`, with CASCADE taking the foreign keys that need it.
    ///
    /// Kept whole: finding the named constraint among the keys, foreign keys, other constraints
    /// and indexes, then what dropping it (with CASCADE) takes along, as one decision.
    pub(super) fn drop_constraint(
        &mut self,
        ctx: &Ctx<'_>,
        table: &QualifiedName,
        at: &Ident,
        if_exists: bool,
        cascade: bool,
    ) -> Applied {
        let name = fold_ident(at);
        let Some(t) = self.catalog.table(table) else {
            return Ok(());
        };
        let is_primary = t.primary_key_name.as_deref() == Some(name.as_str());
        let unique = t
            .uniques
            .iter()
            .find(|u| u.name == name && u.is_constraint)
            .cloned();
        let is_fk = t.foreign_keys.iter().any(|f| f.name == name);
        let is_other = self
            .other_constraints
            .iter()
            .any(|(tn, n)| tn == table && *n == name);
        if !is_primary && unique.is_none() && !is_fk && !is_other {
            if if_exists {
                return Ok(());
            }
            let mut known: Vec<String> = t.primary_key_name.iter().cloned().collect();
            known.extend(
                t.uniques
                    .iter()
                    .filter(|u| u.is_constraint)
                    .map(|u| u.name.clone()),
            );
            known.extend(t.foreign_keys.iter().map(|f| f.name.clone()));
            known.extend(
                self.other_constraints
                    .iter()
                    .filter(|(tn, _)| tn == table)
                    .map(|(_, n)| n.clone()),
            );
            return Err(ctx
                .error_at_ident(
                    at,
                    format!("constraint `{name}` of `{table}` does not exist"),
                )
                .with_help(if known.is_empty() {
                    format!("`{table}` has no named constraints")
                } else {
                    format!("constraints of `{table}` are: {}", known.join(", "))
                }));
        }
        if is_primary || unique.is_some() {
            let key = if is_primary {
                t.primary_key.clone()
            } else {
                unique.map(|u| u.columns).unwrap_or_default()
            };
            let dependents: Vec<(QualifiedName, String)> = self
                .catalog
                .tables
                .iter()
                .flat_map(|other| {
                    other
                        .foreign_keys
                        .iter()
                        .filter(|fk| {
                            &fk.ref_table == table
                                && fk.ref_columns.len() == key.len()
                                && fk.ref_columns.iter().all(|c| key.contains(c))
                        })
                        .map(|fk| (other.name.clone(), fk.name.clone()))
                        .collect::<Vec<_>>()
                })
                .collect();
            if let Some((other, fk)) = dependents.first() {
                if !cascade {
                    return Err(ctx
                        .error_at_ident(at, format!("cannot drop constraint `{name}` of `{table}`: foreign key `{fk}` of `{other}` depends on it"))
                        .with_help("drop that foreign key first, or add CASCADE"));
                }
            }
            for (other, fk) in dependents {
                if let Some(o) = self.catalog.table_mut(&other) {
                    o.foreign_keys.retain(|f| f.name != fk);
                }
            }
            self.indexes
                .retain(|i| !(&i.table == table && i.name.name == name));
        }
        let dropped = self.catalog.table(table).cloned();
        if let Some(t) = self.catalog.table_mut(table) {
            if is_primary {
                t.primary_key.clear();
                t.primary_key_name = None;
            }
            t.uniques.retain(|u| u.name != name);
            t.foreign_keys.retain(|f| f.name != name);
        }
        if let Some(dropped) = dropped {
            self.drop_partition_copies(&dropped, &name);
        }
        self.other_constraints
            .retain(|(tn, n)| !(tn == table && *n == name));
        Ok(())
    }

    /// Drops from every partition of `parent` (at any depth) the copy of its key `name`, or
    /// the partition's own key that PostgreSQL attached to it: both go with the parent's.
    /// `parent` is the table as it was before the key was dropped.
    pub(super) fn drop_partition_copies(&mut self, parent: &Table, name: &str) {
        let primary =
            (parent.primary_key_name.as_deref() == Some(name)).then(|| parent.primary_key.clone());
        let unique = parent
            .uniques
            .iter()
            .find(|u| u.name == name && u.is_constraint)
            .cloned();
        let fk = parent.foreign_keys.iter().find(|f| f.name == name).cloned();
        let mut parents = vec![parent.name.clone()];
        let mut seen = Vec::new();
        while let Some(at) = parents.pop() {
            if seen.contains(&at) {
                continue;
            }
            let mut dropped_indexes = Vec::new();
            for t in self
                .catalog
                .tables
                .iter_mut()
                .filter(|t| t.partition_of.as_ref() == Some(&at))
            {
                if primary.as_ref().is_some_and(|key| *key == t.primary_key) {
                    t.primary_key.clear();
                    dropped_indexes.extend(t.primary_key_name.take());
                }
                if let Some(unique) = &unique {
                    t.uniques.retain(|u| {
                        let copy = u.is_constraint && u.columns == unique.columns;
                        if copy {
                            dropped_indexes.push(u.name.clone());
                        }
                        !copy
                    });
                }
                if let Some(fk) = &fk {
                    t.foreign_keys.retain(|f| !f.same_reference(fk));
                }
                parents.push(t.name.clone());
            }
            self.indexes.retain(|i| {
                !(i.name.schema == at.schema && dropped_indexes.contains(&i.name.name))
            });
            seen.push(at);
        }
    }

    pub(super) fn rename_constraint(&mut self, table: &QualifiedName, old: &str, new: &str) {
        if let Some(t) = self.catalog.table_mut(table) {
            if t.primary_key_name.as_deref() == Some(old) {
                t.primary_key_name = Some(new.to_owned());
            }
            for u in t.uniques.iter_mut().filter(|u| u.name == old) {
                u.name = new.to_owned();
            }
            for f in t.foreign_keys.iter_mut().filter(|f| f.name == old) {
                f.name = new.to_owned();
            }
        }
        for i in self
            .indexes
            .iter_mut()
            .filter(|i| &i.table == table && i.name.name == old)
        {
            i.name.name = new.to_owned();
        }
        for (_, n) in self
            .other_constraints
            .iter_mut()
            .filter(|(t, n)| t == table && n == old)
        {
            *n = new.to_owned();
        }
    }
}

/// A constraint written inside CREATE TABLE or ADD COLUMN, applied once the table exists.
pub(super) enum PendingConstraint {
    ColumnPrimaryKey { column: Ident, name: Option<Ident> },
    ColumnUnique { column: Ident, name: Option<Ident> },
    Table(TableConstraint),
}

/// The plain key columns of a pending primary key or unique constraint without options
/// that tell two such keys apart (INCLUDE, NULLS NOT DISTINCT, DEFERRABLE, operator
/// classes); `None` for other constraints.
pub(super) fn pending_key_columns(constraint: &PendingConstraint) -> Option<Vec<String>> {
    let plain = |columns: &[sqlparser::ast::IndexColumn]| -> Option<Vec<String>> {
        columns
            .iter()
            .map(|c| match &c.column.expr {
                Expr::Identifier(ident)
                    if c.operator_class.is_none() && c.column.options.sort.is_none() =>
                {
                    Some(fold_ident(ident))
                }
                _ => None,
            })
            .collect()
    };
    match constraint {
        PendingConstraint::ColumnPrimaryKey { column, .. }
        | PendingConstraint::ColumnUnique { column, .. } => Some(vec![fold_ident(column)]),
        PendingConstraint::Table(TableConstraint::PrimaryKey(pk))
            if pk.characteristics.is_none() && pk.include.is_empty() =>
        {
            plain(&pk.columns)
        }
        PendingConstraint::Table(TableConstraint::Unique(unique))
            if unique.characteristics.is_none()
                && unique.include.is_empty()
                && unique.nulls_distinct == sqlparser::ast::NullsDistinctOption::None =>
        {
            plain(&unique.columns)
        }
        _ => None,
    }
}

pub(super) fn fk_action(action: Option<ReferentialAction>) -> FkAction {
    match action {
        None | Some(ReferentialAction::NoAction) => FkAction::NoAction,
        Some(ReferentialAction::Restrict) => FkAction::Restrict,
        Some(ReferentialAction::Cascade) => FkAction::Cascade,
        Some(ReferentialAction::SetNull) => FkAction::SetNull,
        Some(ReferentialAction::SetDefault) => FkAction::SetDefault,
    }
}
