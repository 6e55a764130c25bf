//! Tables: `CREATE TABLE` (with its columns, inline constraints, inheritance and partitions),
//! `CREATE TABLE ... AS`, renaming and dropping.

use sqlparser::ast::{ColumnOption, CreateTable, ObjectName, Spanned};

use crate::catalog::{Column, QualifiedName, Table};
use crate::ddl::fold_ident;
use crate::error::Diagnostic;

use super::columns::referenced_columns;
use super::constraints::PendingConstraint;
use super::names::name_parts;
use super::{offset_of_location, Applied, Ctx, Reader, ReaderEnv, MAX_COLUMNS, TEMP_SCHEMA};

impl Reader {
    /// `CREATE TABLE`: the parents' columns, then its own, its constraints once it exists, and
    /// nothing at all when one of them fails (as PostgreSQL creates nothing).
    pub(super) fn create_table(&mut self, ctx: &Ctx<'_>, create: &CreateTable) -> Applied {
        if create.temporary {
            // A temporary table lives in the session's own schema, searched first: its later
            // ALTER, INSERT and DROP are fine, and it never reaches the catalog.
            let parts = name_parts(ctx, &create.name)?;
            let name = QualifiedName::new(TEMP_SCHEMA, parts.last().cloned().unwrap_or_default());
            if !self.views.contains(&name) {
                self.views.push(name);
            }
            return Ok(());
        }
        let name = self.qualify_new(ctx, &create.name)?;
        if self.relation_taken(&name.schema, &name.name) {
            if create.if_not_exists && self.catalog.table(&name).is_some() {
                return Ok(());
            }
            return Err(ctx
                .error_at_name(&create.name, format!("relation `{name}` already exists"))
                .with_help(
                    "drop it first, rename one of them, or use CREATE TABLE IF NOT EXISTS",
                ));
        }
        if let Some(query) = &create.query {
            let names: Vec<String> = create.columns.iter().map(|c| fold_ident(&c.name)).collect();
            return self.create_table_as(ctx, &create.name, name, query, &names);
        }
        let mut table = Table::new(name.clone());
        table.partitioned = create.partition_by.is_some();
        table.location =
            Some(ctx.location_at(offset_of_location(ctx.text, create.name.span().start)));

        // Parents first: a partition copies its parent's columns; INHERITS merges parents'.
        if !self.copy_parent_columns(ctx, create, &mut table)? {
            return Ok(());
        }

        let mut pending = Vec::new();
        let mut sequences = Vec::new();
        for def in &create.columns {
            let column_name = fold_ident(&def.name);
            if let Some(existing) = table.column_mut(&column_name) {
                if create.inherits.is_some() || create.partition_of.is_some() {
                    // Merged with an inherited column: options add to it.
                    if def
                        .options
                        .iter()
                        .any(|o| matches!(o.option, ColumnOption::NotNull))
                    {
                        existing.not_null = true;
                    }
                    continue;
                }
                return Err(ctx
                    .error_at_ident(
                        &def.name,
                        format!("column `{column_name}` specified more than once in `{name}`"),
                    )
                    .with_help("rename or remove one of the two columns"));
            }
            let (column, sequence) = self.column_from_def(ctx, &name, def, &mut pending)?;
            table.columns.push(column);
            sequences.extend(sequence);
        }
        if table.columns.len() > MAX_COLUMNS {
            return Err(ctx
                .error_at_name(
                    &create.name,
                    format!(
                        "table `{name}` has {} columns; PostgreSQL allows at most {MAX_COLUMNS}",
                        table.columns.len()
                    ),
                )
                .with_help("split the table in two, joined by a key"));
        }
        check_generated_columns(ctx, create, &table)?;
        for constraint in &create.constraints {
            pending.push(PendingConstraint::Table(constraint.clone()));
        }
        let parent = table.partition_of.clone();
        self.catalog.tables.push(table);
        // Only columns defined here own a new sequence: a partition's copies of its parent's
        // serial or identity columns use the parent's.
        self.catalog.sequences.extend(sequences);
        // A partition copies its parent's keys before its own are made (DefineRelation).
        if let Some(parent) = &parent {
            self.inherit_keys(parent, &name);
        }
        let result = self.apply_pending(ctx, &name, pending);
        if result.is_err() {
            // PostgreSQL creates nothing when CREATE TABLE fails.
            self.catalog.tables.retain(|t| t.name != name);
            self.indexes.retain(|i| i.table != name);
            self.catalog
                .sequences
                .retain(|s| s.owned_by.as_ref().is_none_or(|(t, _)| *t != name));
        }
        if let (Ok(()), Some(comment)) = (&result, create.comment.as_ref()) {
            let text = match comment {
                sqlparser::ast::CommentDef::WithEq(c)
                | sqlparser::ast::CommentDef::WithoutEq(c) => c.clone(),
            };
            if let Some(t) = self.catalog.table_mut(&name) {
                t.comment = Some(text);
            }
        }
        result
    }

    /// The columns a partition copies from its parent (`PARTITION OF`) and a child merges
    /// from its parents (`INHERITS`), put into `table` before its own. `false` when the
    /// parent is not there, so that nothing is created.
    fn copy_parent_columns(
        &self,
        ctx: &Ctx<'_>,
        create: &CreateTable,
        table: &mut Table,
    ) -> Result<bool, Diagnostic> {
        if let Some(parent) = &create.partition_of {
            let Some(parent_name) = self.resolve_table(ctx, parent, false)? else {
                return Ok(false);
            };
            let Some(parent_table) = self.catalog.table(&parent_name) else {
                return Ok(false);
            };
            if !parent_table.partitioned {
                return Err(ctx
                    .error_at_name(parent, format!("`{parent_name}` is not partitioned"))
                    .with_help("declare the parent with PARTITION BY"));
            }
            table.columns = parent_table
                .columns
                .iter()
                .cloned()
                .map(|c| Column { comment: None, ..c })
                .collect();
            table.partition_of = Some(parent_name);
        }
        for parent in create.inherits.iter().flatten() {
            let Some(parent_name) = self.resolve_table(ctx, parent, false)? else {
                continue;
            };
            let Some(parent_table) = self.catalog.table(&parent_name) else {
                continue;
            };
            for column in &parent_table.columns {
                if table.column(&column.name).is_none() {
                    table.columns.push(Column {
                        identity: None,
                        serial: false,
                        comment: None,
                        ..column.clone()
                    });
                }
            }
        }
        Ok(true)
    }

    /// `CREATE TABLE name [(columns)] AS query` and `SELECT ... INTO name`: a table of the
    /// query's columns, all nullable and without defaults, as PostgreSQL makes it. When a
    /// column cannot be typed, the table is remembered without columns and the error is
    /// reported only if the table is still there at the end (histories often build such
    /// tables from views, then drop them).
    pub(super) fn create_table_as(
        &mut self,
        ctx: &Ctx<'_>,
        at: &ObjectName,
        name: QualifiedName,
        query: &sqlparser::ast::Query,
        column_names: &[String],
    ) -> Applied {
        let env = ReaderEnv { reader: self, ctx };
        let typed = crate::ddl::select_type::query_columns(&env, query);
        let mut table = Table::new(name.clone());
        let location = ctx.location_at(offset_of_location(ctx.text, at.span().start));
        table.location = Some(location.clone());
        match typed {
            Ok(columns) => {
                if column_names.len() > columns.len() {
                    return Err(ctx
                        .error_at_name(at, format!("CREATE TABLE AS of `{name}` names more columns than its query makes"))
                        .with_help("name at most as many columns as the query selects"));
                }
                for (i, column) in columns.into_iter().enumerate() {
                    table.columns.push(Column {
                        name: column_names.get(i).cloned().unwrap_or(column.name),
                        sql_type: column.sql_type,
                        not_null: false,
                        default: None,
                        identity: None,
                        generated: None,
                        serial: false,
                        comment: None,
                        location: Some(location.clone()),
                    });
                }
                self.catalog.tables.push(table);
            }
            Err(reason) => {
                let error = ctx
                    .error_at_name(at, format!("cannot read the columns of `{name}` from its query: {reason}"))
                    .with_help(
                        "declare the table with CREATE TABLE (...) and fill it with INSERT ... SELECT, or generate \
                         from a catalog snapshot (`writegraph schema --from-postgres --json`)",
                    );
                self.views.push(name.clone());
                self.untyped_tables.push((name, error));
            }
        }
        Ok(())
    }

    pub(super) fn rename_table(&mut self, old: &QualifiedName, new: QualifiedName) {
        for t in &mut self.catalog.tables {
            if &t.name == old {
                t.rename(new.clone());
            }
            if t.partition_of.as_ref() == Some(old) {
                t.partition_of = Some(new.clone());
            }
            for fk in &mut t.foreign_keys {
                if &fk.ref_table == old {
                    fk.ref_table = new.clone();
                }
            }
        }
        for i in &mut self.indexes {
            if &i.table == old {
                i.table = new.clone();
            }
        }
        for (t, _) in &mut self.other_constraints {
            if t == old {
                *t = new.clone();
            }
        }
        for s in &mut self.catalog.sequences {
            if let Some((t, _)) = &mut s.owned_by {
                if t == old {
                    *t = new.clone();
                }
            }
        }
    }

    pub(super) fn drop_table(
        &mut self,
        ctx: &Ctx<'_>,
        offset: usize,
        table: &QualifiedName,
        cascade: bool,
    ) -> Applied {
        let partitions: Vec<QualifiedName> = self
            .catalog
            .tables
            .iter()
            .filter(|t| t.partition_of.as_ref() == Some(table))
            .map(|t| t.name.clone())
            .collect();
        let doomed: Vec<QualifiedName> = std::iter::once(table.clone()).chain(partitions).collect();
        let dependents: Vec<(QualifiedName, String)> = self
            .catalog
            .tables
            .iter()
            .filter(|t| !doomed.contains(&t.name))
            .flat_map(|t| {
                t.foreign_keys
                    .iter()
                    .filter(|fk| doomed.contains(&fk.ref_table))
                    .map(|fk| (t.name.clone(), fk.name.clone()))
                    .collect::<Vec<_>>()
            })
            .collect();
        if let Some((other, fk)) = dependents.first() {
            if !cascade {
                return Err(ctx
                    .error_at(offset, format!("cannot drop table `{table}`: foreign key `{fk}` of `{other}` references it"))
                    .with_help("drop that constraint (or that table) first, or add CASCADE"));
            }
        }
        for (other, fk) in dependents {
            if let Some(t) = self.catalog.table_mut(&other) {
                t.foreign_keys.retain(|f| f.name != fk);
            }
        }
        self.catalog.tables.retain(|t| !doomed.contains(&t.name));
        self.indexes.retain(|i| !doomed.contains(&i.table));
        self.other_constraints.retain(|(t, _)| !doomed.contains(t));
        self.catalog
            .sequences
            .retain(|s| s.owned_by.as_ref().is_none_or(|(t, _)| !doomed.contains(t)));
        Ok(())
    }
}

pub(super) fn column_list(table: &Table) -> String {
    table
        .columns
        .iter()
        .map(|c| c.name.as_str())
        .collect::<Vec<_>>()
        .join(", ")
}

/// A generated column may use only ordinary columns, not other generated ones.
fn check_generated_columns(ctx: &Ctx<'_>, create: &CreateTable, table: &Table) -> Applied {
    let table_name = &table.name;
    for def in &create.columns {
        let generation = def.options.iter().find_map(|o| match &o.option {
            ColumnOption::Generated {
                generation_expr: Some(expr),
                ..
            } => Some(expr),
            _ => None,
        });
        let Some(expr) = generation else { continue };
        let used = referenced_columns(table, &expr.to_string());
        if let Some(generated) = used
            .iter()
            .find(|c| table.column(c).is_some_and(|c| c.generated.is_some()))
        {
            return Err(ctx
                .error_at_ident(
                    &def.name,
                    format!(
                        "generated column `{}` of `{table_name}` uses generated column `{generated}`",
                        fold_ident(&def.name)
                    ),
                )
                .with_help(
                    "a generation expression can use only ordinary columns; compute it from those",
                ));
        }
    }
    Ok(())
}
