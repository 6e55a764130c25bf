//! `ALTER TABLE`: each action sqlparser parsed is dispatched to the file of the object it
//! changes, and the actions only [`recognise`] reads are applied the
//! same way.

use sqlparser::ast::{AlterTable, AlterTableOperation, RenameTableNameKind};
use sqlparser::parser::Parser;

use crate::catalog::{Column, QualifiedName};
use crate::ddl::dialect::PostgresDialect;
use crate::ddl::fold_ident;
use crate::ddl::recognise::{self, Recognised};
use crate::ddl::split;
use crate::error::Diagnostic;

use super::names::name_parts;
use super::sequences::identity_of;
use super::{parse_error_text, Applied, Ctx, Reader};

impl Reader {
    /// `ALTER TABLE name a, b, c` that sqlparser rejected as a whole: each action is parsed
    /// on its own, so that one action sqlparser lacks (`ALTER CONSTRAINT ...`) does not hide
    /// the others. Actions that cannot change the write model are skipped.
    pub(super) fn read_alter_actions(
        &mut self,
        ctx: &Ctx<'_>,
        head: &recognise::AlterTableHead,
    ) -> Applied {
        if self.names_view_or_sequence(&head.table) {
            return Ok(());
        }
        let actions_text = &ctx.text[head.actions_offset..];
        let head_text = &ctx.text[..head.actions_offset];
        for (relative, action) in split::split_top_level_commas(actions_text) {
            let action_offset = head.actions_offset + relative;
            let single = format!("{head_text}{action}");
            match Parser::parse_sql(&PostgresDialect::default(), &single) {
                Ok(statements) => {
                    // Positions inside `single` past the head shift by the action's offset.
                    let action_ctx = Ctx {
                        file: ctx.file,
                        offset: ctx.offset,
                        text: &single,
                        first_line: ctx.first_line,
                    };
                    for statement in &statements {
                        self.apply(&action_ctx, statement).map_err(|mut d| {
                            d.location = ctx.error_at(action_offset, "").location;
                            d.source_line = ctx.error_at(action_offset, "").source_line;
                            d
                        })?;
                    }
                }
                Err(action_error) => match recognise::recognise_alter_table_action(action) {
                    Some(recognised) => {
                        let table = self.resolve_table_parts(
                            ctx,
                            action_offset,
                            &head.table,
                            head.if_exists,
                        )?;
                        let Some(table) = table else { return Ok(()) };
                        self.apply_table_action(ctx, action_offset, &table, recognised)?;
                    }
                    None => {
                        let error = action_error.to_string();
                        let offset = if head_text.is_empty() {
                            0
                        } else {
                            action_offset
                        };
                        return Err(ctx
                            .error_at(offset, format!("cannot read this ALTER TABLE action: {}", parse_error_text(&error)))
                            .with_help(
                                "this action can change the table, so it cannot be skipped; check its syntax \
                                 against PostgreSQL, or move it into its own ALTER TABLE statement",
                            ));
                    }
                },
            }
        }
        Ok(())
    }

    /// One `ALTER TABLE` action. Returns the table's new name when the action renamed it.
    ///
    /// One match over sqlparser's `ALTER TABLE` actions, kept whole so that they read side by
    /// side; the longer actions are methods of their own (`add_column`, `alter_column`, ...).
    pub(super) fn alter_table(
        &mut self,
        ctx: &Ctx<'_>,
        table: &QualifiedName,
        operation: &AlterTableOperation,
    ) -> Result<Option<QualifiedName>, Diagnostic> {
        use AlterTableOperation as Op;
        match operation {
            Op::AddColumn {
                if_not_exists,
                column_def,
                ..
            } => self.add_column(ctx, table, column_def, *if_not_exists)?,
            Op::DropColumn {
                column_names,
                if_exists,
                drop_behavior,
                ..
            } => {
                let cascade = matches!(drop_behavior, Some(sqlparser::ast::DropBehavior::Cascade));
                for ident in column_names {
                    let name = fold_ident(ident);
                    if self
                        .catalog
                        .table(table)
                        .is_none_or(|t| t.column(&name).is_none())
                    {
                        if *if_exists {
                            continue;
                        }
                        return Err(self.missing_column(ctx, ident, table, &name));
                    }
                    self.drop_column(ctx, ident, table, &name, cascade)?;
                }
            }
            Op::RenameColumn {
                old_column_name,
                new_column_name,
            } => {
                let old = fold_ident(old_column_name);
                let new = fold_ident(new_column_name);
                let Some(t) = self.catalog.table(table) else {
                    return Ok(None);
                };
                if t.column(&old).is_none() {
                    return Err(self.missing_column(ctx, old_column_name, table, &old));
                }
                if t.column(&new).is_some() {
                    return Err(ctx.error_at_ident(
                        new_column_name,
                        format!("column `{new}` of `{table}` already exists"),
                    ));
                }
                self.rename_column(table, &old, &new);
            }
            Op::RenameTable { table_name } => {
                let new_name = match table_name {
                    RenameTableNameKind::As(name) | RenameTableNameKind::To(name) => name,
                };
                let parts = name_parts(ctx, new_name)?;
                let Some(last) = parts.last() else {
                    return Ok(None);
                };
                let renamed = QualifiedName::new(table.schema.clone(), last.clone());
                if self.relation_taken(&renamed.schema, &renamed.name) {
                    return Err(
                        ctx.error_at_name(new_name, format!("relation `{renamed}` already exists"))
                    );
                }
                self.rename_table(table, renamed.clone());
                return Ok(Some(renamed));
            }
            Op::AlterColumn { column_name, op } => {
                self.alter_column(ctx, table, column_name, op)?
            }
            Op::AddConstraint { constraint, .. } => self.add_constraint(ctx, table, constraint)?,
            Op::DropConstraint {
                if_exists,
                name,
                drop_behavior,
            } => {
                let cascade = matches!(drop_behavior, Some(sqlparser::ast::DropBehavior::Cascade));
                self.drop_constraint(ctx, table, name, *if_exists, cascade)?;
            }
            Op::RenameConstraint { old_name, new_name } => {
                let old = fold_ident(old_name);
                let new = fold_ident(new_name);
                if !self.constraint_taken(table, &old) {
                    return Err(ctx.error_at_ident(
                        old_name,
                        format!("constraint `{old}` of `{table}` does not exist"),
                    ));
                }
                self.rename_constraint(table, &old, &new);
            }
            Op::AttachPartition { .. } | Op::DetachPartition { .. } => {
                return Err(ctx
                    .error_at(0, "cannot read this partition clause")
                    .with_help(
                        "write it as ALTER TABLE parent ATTACH PARTITION child FOR VALUES ...",
                    ));
            }
            // Ownership, storage, triggers, rules, row security, replica identity, validation:
            // nothing a write depends on.
            _ => {}
        }
        Ok(None)
    }

    /// An `ALTER TABLE` action that only our recogniser reads.
    ///
    /// One match over the `ALTER TABLE` actions only [`recognise`] reads, kept whole so that they
    /// read side by side; each arm is the checks PostgreSQL makes for that action.
    pub(super) fn apply_table_action(
        &mut self,
        ctx: &Ctx<'_>,
        offset: usize,
        table: &QualifiedName,
        action: Recognised,
    ) -> Applied {
        let column_of = |reader: &Self, column: &str| -> Result<Column, Diagnostic> {
            reader
                .catalog
                .table(table)
                .and_then(|t| t.column(column))
                .cloned()
                .ok_or_else(|| {
                    ctx.error_at(
                        offset,
                        format!("column `{column}` of `{table}` does not exist"),
                    )
                })
        };
        match action {
            Recognised::AddIdentity {
                column,
                kind,
                sequence_name,
            } => {
                let mut c = column_of(self, &column)?;
                if c.identity.is_some() {
                    return Err(ctx.error_at(
                        offset,
                        format!("column `{column}` of `{table}` is already an identity column"),
                    ));
                }
                if c.default.is_some() {
                    return Err(ctx
                        .error_at(
                            offset,
                            format!("column `{column}` of `{table}` already has a DEFAULT"),
                        )
                        .with_help("drop the default first: ALTER COLUMN ... DROP DEFAULT"));
                }
                if !c.not_null {
                    return Err(ctx
                        .error_at(offset, format!("column `{column}` of `{table}` must be NOT NULL to become an identity column"))
                        .with_help("add SET NOT NULL first"));
                }
                let sequence =
                    self.owned_sequence(ctx, offset, table, &column, true, sequence_name)?;
                c.identity = Some(identity_of(kind));
                self.update_column_everywhere(table, c);
                self.catalog.sequences.push(sequence);
                Ok(())
            }
            Recognised::SetIdentityKind { column, kind } => {
                let mut c = column_of(self, &column)?;
                if c.identity.is_none() {
                    return Err(ctx.error_at(
                        offset,
                        format!("column `{column}` of `{table}` is not an identity column"),
                    ));
                }
                c.identity = Some(identity_of(kind));
                self.update_column_everywhere(table, c);
                Ok(())
            }
            Recognised::DropIdentity { column, if_exists } => {
                let mut c = column_of(self, &column)?;
                if c.identity.is_none() {
                    if if_exists {
                        return Ok(());
                    }
                    return Err(ctx.error_at(
                        offset,
                        format!("column `{column}` of `{table}` is not an identity column"),
                    ));
                }
                c.identity = None;
                self.update_column_everywhere(table, c);
                // Only the identity sequence goes; others the column owns stay.
                let owner = Some((table.clone(), column.clone()));
                self.catalog
                    .sequences
                    .retain(|s| !(s.identity && s.owned_by == owner));
                Ok(())
            }
            Recognised::DropExpression { column, if_exists } => {
                let mut c = column_of(self, &column)?;
                if c.generated.is_none() {
                    if if_exists {
                        return Ok(());
                    }
                    return Err(ctx.error_at(
                        offset,
                        format!("column `{column}` of `{table}` is not a generated column"),
                    ));
                }
                c.generated = None;
                self.update_column_everywhere(table, c);
                Ok(())
            }
            Recognised::SetSchema { schema } => {
                if !self.catalog.schemas.contains(&schema) {
                    return Err(ctx.error_at(offset, format!("schema `{schema}` does not exist")));
                }
                if schema == table.schema {
                    return Ok(());
                }
                // The table's indexes and owned sequences move with it.
                let indexes: Vec<QualifiedName> = self
                    .indexes
                    .iter()
                    .filter(|i| &i.table == table)
                    .map(|i| i.name.clone())
                    .collect();
                let sequences: Vec<QualifiedName> = self
                    .catalog
                    .sequences
                    .iter()
                    .filter(|s| s.owned_by.as_ref().is_some_and(|(t, _)| t == table))
                    .map(|s| s.name.clone())
                    .collect();
                for name in std::iter::once(&table.name)
                    .chain(indexes.iter().map(|i| &i.name))
                    .chain(sequences.iter().map(|s| &s.name))
                {
                    if self.relation_taken(&schema, name) {
                        return Err(ctx.error_at(
                            offset,
                            format!("relation `{name}` already exists in schema `{schema}`"),
                        ));
                    }
                }
                let moved = QualifiedName::new(schema.clone(), table.name.clone());
                self.rename_table(table, moved.clone());
                for index in self.indexes.iter_mut().filter(|i| i.table == moved) {
                    index.name.schema = schema.clone();
                }
                for sequence in sequences {
                    let moved = QualifiedName::new(schema.clone(), sequence.name.clone());
                    self.rename_sequence(&sequence, moved);
                }
                Ok(())
            }
            Recognised::AttachPartition { .. } | Recognised::DetachPartition { .. } => {
                self.apply_recognised(ctx, offset, action)
            }
            _ => Ok(()),
        }
    }

    /// `ALTER TABLE`: each action in order on the table (renames carry over to the next
    /// action), then the table's keys passed on to its partitions unless `ONLY` is written.
    /// On a view or sequence it only follows a rename.
    pub(super) fn alter_table_statement(&mut self, ctx: &Ctx<'_>, alter: &AlterTable) -> Applied {
        let parts = name_parts(ctx, &alter.name)?;
        if self.names_view_or_sequence(&parts) {
            // `ALTER TABLE` also alters views and sequences (pg_dump's `OWNER TO`);
            // a view's rename moves its name.
            if let Some(view) = self.resolve_view(&parts) {
                for operation in &alter.operations {
                    if let AlterTableOperation::RenameTable { table_name } = operation {
                        let (RenameTableNameKind::As(new_name) | RenameTableNameKind::To(new_name)) =
                            table_name;
                        if let Some(last) = name_parts(ctx, new_name)?.last() {
                            self.rename_view(&view, last);
                        }
                    }
                }
            }
            return Ok(());
        }
        let Some(table) = self.resolve_table(ctx, &alter.name, alter.if_exists)? else {
            return Ok(());
        };
        let mut table = table;
        for operation in &alter.operations {
            if let Some(renamed) = self.alter_table(ctx, &table, operation)? {
                table = renamed;
            }
        }
        if !alter.only {
            self.propagate_keys(&table);
        }
        Ok(())
    }
}
