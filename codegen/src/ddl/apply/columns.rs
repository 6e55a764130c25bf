//! Columns: a column definition read into a catalog [`Column`] (type, default, identity,
//! generated expression), and adding, changing, renaming and dropping a column on a table and
//! on the partitions and children that carry it.

use sqlparser::ast::{
    AlterColumnOperation, ColumnDef, ColumnOption, Expr, GeneratedAs, GeneratedExpressionMode,
    Ident, TableConstraint,
};

use crate::catalog::{
    BaseType, Column, Generated, Identity, QualifiedName, Sequence, SqlType, Table,
};
use crate::ddl::fold_ident;
use crate::ddl::recognise::{self, IdentityKind, Recognised};
use crate::ddl::sql_type;
use crate::error::Diagnostic;

use super::constraints::PendingConstraint;
use super::tables::column_list;
use super::types::is_null_default;
use super::types::qualified_type_sql;
use super::{offset_of_location, Applied, Ctx, Reader};

impl Reader {
    /// A column from its definition, and the sequence it owns when it is serial or identity
    /// (to be added once the column is); constraints written on the column are queued in
    /// `pending`, to be applied once the table exists (they may reference it).
    ///
    /// Kept whole: one pass over the column's options in the order written, each one adjusting
    /// the column being built (a part per option would pass the half-built column around).
    pub(super) fn column_from_def(
        &self,
        ctx: &Ctx<'_>,
        table: &QualifiedName,
        def: &ColumnDef,
        pending: &mut Vec<PendingConstraint>,
    ) -> Result<(Column, Option<Sequence>), Diagnostic> {
        let name = fold_ident(&def.name);
        let offset = offset_of_location(ctx.text, def.name.span.start);
        let written =
            sql_type::normalise(&def.data_type).map_err(|e| ctx.error_at_ident(&def.name, e))?;
        let sql_type = self
            .resolve_written(ctx, &written, offset)
            .map_err(|mut d| {
                d.message = format!("{} (column `{name}` of `{table}`)", d.message);
                d
            })?;
        let mut column = Column {
            name: name.clone(),
            sql_type,
            not_null: written.serial,
            default: None,
            identity: None,
            generated: None,
            serial: written.serial,
            comment: None,
            location: Some(ctx.location_at(offset)),
        };
        let mut sequence = None;
        if written.serial {
            let owned = self.owned_sequence(ctx, offset, table, &name, false, None)?;
            column.default = Some(Sequence::nextval_sql(&owned.name));
            sequence = Some(owned);
        }
        for option in &def.options {
            match &option.option {
                ColumnOption::NotNull => column.not_null = true,
                ColumnOption::Null => {}
                // PostgreSQL stores no default for `DEFAULT NULL` (or `NULL::type`).
                ColumnOption::Default(expr) => {
                    let is_plain = |t: &SqlType| self.is_plain_type(t);
                    column.default = (!is_null_default(expr, &column.sql_type, &is_plain))
                        .then(|| self.resolve_default(expr, &column.sql_type))
                }
                ColumnOption::Generated {
                    generated_as,
                    generation_expr,
                    generation_expr_mode,
                    ..
                } => {
                    match (generation_expr, generated_as) {
                        (None, GeneratedAs::ByDefault) => {
                            column.identity = Some(Identity::ByDefault)
                        }
                        (None, _) => column.identity = Some(Identity::Always),
                        (Some(_), _) => {
                            column.generated = Some(match generation_expr_mode {
                                Some(GeneratedExpressionMode::Stored) => Generated::Stored,
                                _ if *generated_as == GeneratedAs::ExpStored => Generated::Stored,
                                _ => Generated::Virtual,
                            })
                        }
                    }
                    if column.identity.is_some() {
                        column.not_null = true;
                    }
                }
                ColumnOption::PrimaryKey(pk) => pending.push(PendingConstraint::ColumnPrimaryKey {
                    column: def.name.clone(),
                    name: pk.name.clone(),
                }),
                ColumnOption::Unique(unique) => pending.push(PendingConstraint::ColumnUnique {
                    column: def.name.clone(),
                    name: unique.name.clone().or_else(|| option.name.clone()),
                }),
                ColumnOption::ForeignKey(fk) => {
                    let mut fk = fk.clone();
                    fk.columns = vec![def.name.clone()];
                    if fk.name.is_none() {
                        fk.name = option.name.clone();
                    }
                    pending.push(PendingConstraint::Table(TableConstraint::ForeignKey(fk)));
                }
                ColumnOption::Check(check) => pending.push(PendingConstraint::Table(
                    TableConstraint::Check(check.clone()),
                )),
                _ => {}
            }
        }
        if column.identity.is_some() && column.default.is_some() {
            return Err(ctx
                .error_at_ident(
                    &def.name,
                    format!("column `{name}` of `{table}` has both an identity and a DEFAULT"),
                )
                .with_help("keep one of them"));
        }
        if column.generated.is_some() && column.default.is_some() {
            return Err(ctx
                .error_at_ident(
                    &def.name,
                    format!("generated column `{name}` of `{table}` cannot have a DEFAULT"),
                )
                .with_help("remove the DEFAULT"));
        }
        if column.identity.is_some() {
            // sqlparser's AST keeps no identity options: read SEQUENCE NAME from the text.
            let given =
                recognise::identity_sequence_name(ctx.text.get(offset..).unwrap_or_default())
                    .map_err(|e| {
                        ctx.error_at(
                            offset,
                            format!("cannot read the identity options of column `{name}`: {e}"),
                        )
                    })?;
            sequence = Some(self.owned_sequence(ctx, offset, table, &name, true, given)?);
        }
        Ok((column, sequence))
    }

    /// A default as PostgreSQL stores it when the DDL runs, so that generated SQL means
    /// the same whatever the caller's `search_path`: type names in casts are qualified, and
    /// a default of an enum column is cast to that (qualified) enum.
    pub(super) fn resolve_default(&self, expr: &Expr, target: &SqlType) -> String {
        let mut resolved = expr.clone();
        self.qualify_casts(&mut resolved);
        let text = resolved.to_string();
        let BaseType::User { name, .. } = &target.base else {
            return text;
        };
        // PostgreSQL stores a domain column's default as of the domain's base type.
        let domain_base = (!target.array)
            .then(|| self.catalog.domain(name))
            .flatten()
            .map(|d| d.base_type.clone());
        let target = &domain_base.unwrap_or_else(|| target.clone());
        let BaseType::User { name, .. } = &target.base else {
            return match resolved {
                Expr::Value(_) => format!("{text}::{}", target.format()),
                _ => text,
            };
        };
        let user_type = self.catalog.enum_type(name).is_some();
        let already_cast = matches!(&resolved, Expr::Cast { data_type, .. }
            if sql_type::normalise(data_type).ok()
                .and_then(|w| self.resolve_written_quietly(&w))
                .is_some_and(|t| t == *target));
        if !user_type || already_cast {
            return text;
        }
        let ty = qualified_type_sql(target);
        match resolved {
            Expr::Value(_) => format!("{text}::{ty}"),
            _ => format!("({text})::{ty}"),
        }
    }

    pub(super) fn missing_column(
        &self,
        ctx: &Ctx<'_>,
        ident: &Ident,
        table: &QualifiedName,
        name: &str,
    ) -> Diagnostic {
        let columns = self
            .catalog
            .table(table)
            .map(column_list)
            .unwrap_or_default();
        ctx.error_at_ident(
            ident,
            format!("column `{name}` of `{table}` does not exist"),
        )
        .with_help(format!("columns of `{table}` are: {columns}"))
    }

    /// Adds a column to a table and to its partitions (which share the parent's columns).
    pub(super) fn add_column_everywhere(&mut self, table: &QualifiedName, column: Column) {
        for t in &mut self.catalog.tables {
            if &t.name == table {
                t.columns.push(column.clone());
            } else if t.partition_of.as_ref() == Some(table) {
                t.columns.push(Column {
                    comment: None,
                    ..column.clone()
                });
            }
        }
    }

    pub(super) fn update_column_everywhere(&mut self, table: &QualifiedName, column: Column) {
        for t in &mut self.catalog.tables {
            if &t.name == table || t.partition_of.as_ref() == Some(table) {
                let comment = t.column(&column.name).and_then(|c| c.comment.clone());
                if let Some(existing) = t.column_mut(&column.name) {
                    *existing = Column {
                        comment,
                        ..column.clone()
                    };
                }
            }
        }
    }

    pub(super) fn drop_column(
        &mut self,
        ctx: &Ctx<'_>,
        at: &Ident,
        table: &QualifiedName,
        column: &str,
        cascade: bool,
    ) -> Applied {
        // Foreign keys of other tables that need a key containing this column.
        let dependents: Vec<(QualifiedName, String)> = self
            .catalog
            .tables
            .iter()
            .flat_map(|t| {
                t.foreign_keys
                    .iter()
                    .filter(|fk| {
                        &fk.ref_table == table
                            && fk.ref_columns.iter().any(|c| c == column)
                            && &t.name != table
                    })
                    .map(|fk| (t.name.clone(), fk.name.clone()))
                    .collect::<Vec<_>>()
            })
            .collect();
        if let Some((other, fk)) = dependents.first() {
            if !cascade {
                return Err(ctx
                    .error_at_ident(at, format!("cannot drop column `{column}` of `{table}`: foreign key `{fk}` of `{other}` depends on it"))
                    .with_help("drop that constraint first, or add CASCADE"));
            }
        }
        for (other, fk) in dependents {
            if let Some(t) = self.catalog.table_mut(&other) {
                t.foreign_keys.retain(|f| f.name != fk);
            }
        }
        self.remove_column(table, column);
        Ok(())
    }

    /// Removes a column, and with it every key and index of the table that uses it.
    pub(super) fn remove_column(&mut self, table: &QualifiedName, column: &str) {
        let mut dropped_indexes = Vec::new();
        for t in &mut self.catalog.tables {
            if &t.name != table && t.partition_of.as_ref() != Some(table) {
                continue;
            }
            t.columns.retain(|c| c.name != column);
            if t.primary_key.iter().any(|c| c == column) {
                t.primary_key.clear();
                dropped_indexes.extend(t.primary_key_name.take());
            }
            t.uniques.retain(|u| {
                let keep = !u.columns.iter().any(|c| c == column);
                if !keep {
                    dropped_indexes.push(u.name.clone());
                }
                keep
            });
            t.foreign_keys
                .retain(|f| !f.columns.iter().any(|c| c == column));
        }
        self.indexes
            .retain(|i| !(&i.table == table && dropped_indexes.contains(&i.name.name)));
        self.catalog
            .sequences
            .retain(|s| s.owned_by.as_ref() != Some(&(table.clone(), column.to_owned())));
    }

    pub(super) fn rename_column(&mut self, table: &QualifiedName, old: &str, new: &str) {
        let rename = |names: &mut Vec<String>| {
            for n in names.iter_mut().filter(|n| *n == old) {
                *n = new.to_owned();
            }
        };
        for t in &mut self.catalog.tables {
            let is_table = &t.name == table || t.partition_of.as_ref() == Some(table);
            if is_table {
                if let Some(c) = t.column_mut(old) {
                    c.name = new.to_owned();
                }
                rename(&mut t.primary_key);
                for u in &mut t.uniques {
                    rename(&mut u.columns);
                }
            }
            for fk in &mut t.foreign_keys {
                if is_table && &t.name == table {
                    rename(&mut fk.columns);
                }
                if &fk.ref_table == table {
                    rename(&mut fk.ref_columns);
                }
            }
        }
        for s in &mut self.catalog.sequences {
            if let Some((t, c)) = &mut s.owned_by {
                if t == table && c == old {
                    *c = new.to_owned();
                }
            }
        }
    }

    /// `ALTER TABLE ... ALTER COLUMN`: NOT NULL, default, type or identity of one column,
    /// on the table and on every partition and child that carries it.
    pub(super) fn alter_column(
        &mut self,
        ctx: &Ctx<'_>,
        table: &QualifiedName,
        column_name: &Ident,
        op: &AlterColumnOperation,
    ) -> Applied {
        let name = fold_ident(column_name);
        let Some(t) = self.catalog.table(table) else {
            return Ok(());
        };
        let Some(column) = t.column(&name) else {
            return Err(self.missing_column(ctx, column_name, table, &name));
        };
        let in_primary_key = t.primary_key.contains(&name);
        let mut column = column.clone();
        match op {
            AlterColumnOperation::SetNotNull => column.not_null = true,
            AlterColumnOperation::DropNotNull => {
                if in_primary_key {
                    return Err(ctx
                        .error_at_ident(
                            column_name,
                            format!("column `{name}` is in the primary key of `{table}`"),
                        )
                        .with_help("drop the primary key first"));
                }
                if column.identity.is_some() {
                    return Err(ctx.error_at_ident(
                        column_name,
                        format!("column `{name}` of `{table}` is an identity column"),
                    ));
                }
                column.not_null = false;
            }
            AlterColumnOperation::SetDefault { value } => {
                if column.identity.is_some() {
                    return Err(ctx
                        .error_at_ident(
                            column_name,
                            format!("column `{name}` of `{table}` is an identity column"),
                        )
                        .with_help("use ALTER COLUMN ... DROP IDENTITY first"));
                }
                let is_plain = |t: &SqlType| self.is_plain_type(t);
                column.default = (!is_null_default(value, &column.sql_type, &is_plain))
                    .then(|| self.resolve_default(value, &column.sql_type));
                // The sequence stays owned, but no longer fills the column.
                column.serial = false;
            }
            AlterColumnOperation::DropDefault => {
                column.default = None;
                column.serial = false;
            }
            AlterColumnOperation::SetDataType { data_type, .. } => {
                let offset = offset_of_location(ctx.text, column_name.span.start);
                let written = sql_type::normalise(data_type)
                    .map_err(|e| ctx.error_at_ident(column_name, e))?;
                if written.serial {
                    return Err(ctx.error_at_ident(
                        column_name,
                        "type serial cannot be used in ALTER COLUMN ... TYPE",
                    ));
                }
                column.sql_type = self.resolve_written(ctx, &written, offset)?;
            }
            AlterColumnOperation::AddGenerated { generated_as, .. } => {
                let kind = match generated_as {
                    Some(GeneratedAs::ByDefault) => IdentityKind::ByDefault,
                    _ => IdentityKind::Always,
                };
                let offset = offset_of_location(ctx.text, column_name.span.start);
                self.apply_table_action(
                    ctx,
                    offset,
                    table,
                    Recognised::AddIdentity {
                        column: name.clone(),
                        kind,
                        sequence_name: None,
                    },
                )?;
                return Ok(());
            }
        }
        self.update_column_everywhere(table, column);
        Ok(())
    }

    /// `ALTER TABLE ... ADD COLUMN`, with the column's inline constraints and owned sequence.
    pub(super) fn add_column(
        &mut self,
        ctx: &Ctx<'_>,
        table: &QualifiedName,
        column_def: &ColumnDef,
        if_not_exists: bool,
    ) -> Applied {
        let name = fold_ident(&column_def.name);
        if self
            .catalog
            .table(table)
            .is_some_and(|t| t.column(&name).is_some())
        {
            if if_not_exists {
                return Ok(());
            }
            return Err(ctx
                .error_at_ident(
                    &column_def.name,
                    format!("column `{name}` of `{table}` already exists"),
                )
                .with_help("use ADD COLUMN IF NOT EXISTS, or pick another name"));
        }
        let mut pending = Vec::new();
        let (column, sequence) = self.column_from_def(ctx, table, column_def, &mut pending)?;
        self.add_column_everywhere(table, column);
        self.catalog.sequences.extend(sequence);
        self.apply_pending(ctx, table, pending)?;
        Ok(())
    }
}

/// The distinct columns of `table` that an expression's text names, in first-use order.
pub(super) fn referenced_columns(table: &Table, expression: &str) -> Vec<String> {
    let mut found: Vec<String> = Vec::new();
    for token in crate::ddl::lexer::Lexer::new(expression).filter_map(Result::ok) {
        let word = token.text(expression);
        let name = match token.kind {
            crate::ddl::lexer::TokenKind::Word => word.to_ascii_lowercase(),
            crate::ddl::lexer::TokenKind::QuotedIdent => {
                crate::ddl::lexer::unquote_identifier(word)
            }
            _ => continue,
        };
        if table.column(&name).is_some() && !found.contains(&name) {
            found.push(name);
        }
    }
    found
}
