//! Statements sqlparser cannot parse: the forms [`recognise`] reads
//! (pg_dump's and PostgreSQL 18's), and the rule that a statement which cannot change the write
//! model is skipped while one that could is an error at its position.

use sqlparser::parser::Parser;

use crate::catalog::{QualifiedName, Sequence};
use crate::ddl::dialect::PostgresDialect;
use crate::ddl::plpgsql;
use crate::ddl::recognise::{self, Recognised};

use super::indexes::index_on_only_as_plain;
use super::types::domain_without_null_constraints;
use super::{offset_of_location, parse_error_location, parse_error_text, Applied, Ctx, Reader};

impl Reader {
    /// A statement sqlparser rejected: our recogniser's forms, a multi-action `ALTER TABLE`
    /// read action by action, a statement that cannot matter, or an error.
    pub(super) fn read_unparsed(&mut self, ctx: &Ctx<'_>, parse_error: &str) -> Applied {
        if let Some((body_offset, body)) = plpgsql::do_body(ctx.text) {
            return self.read_do_block(ctx, body_offset, body);
        }
        if let Some(recognised) = recognise::recognise(ctx.text) {
            return self.apply_recognised(ctx, 0, recognised);
        }
        if let Some(without_null) = domain_without_null_constraints(ctx.text) {
            // `CREATE DOMAIN d AS t NOT NULL`: sqlparser rejects [NOT] NULL on a domain; the
            // domain's NOT NULL is read from the text (see `domain_has_not_null`).
            if let Ok(statements) = Parser::parse_sql(&PostgresDialect::default(), &without_null) {
                let same_offsets = Ctx {
                    file: ctx.file,
                    offset: ctx.offset,
                    text: ctx.text,
                    first_line: ctx.first_line,
                };
                for statement in &statements {
                    self.apply(&same_offsets, statement)?;
                }
                return Ok(());
            }
        }
        if let Some(without_only) = index_on_only_as_plain(ctx.text) {
            // `CREATE INDEX ... ON ONLY parent` (pg_dump, partitioned tables): ONLY stops
            // PostgreSQL from recursing into partitions, whose own indexes pg_dump makes next.
            if let Ok(statements) = Parser::parse_sql(&PostgresDialect::default(), &without_only) {
                let same_offsets = Ctx {
                    file: ctx.file,
                    offset: ctx.offset,
                    text: &without_only,
                    first_line: ctx.first_line,
                };
                self.index_on_only = true;
                let result = statements
                    .iter()
                    .try_for_each(|statement| self.apply(&same_offsets, statement));
                self.index_on_only = false;
                return result;
            }
        }
        if let Some(head) = recognise::alter_table_head(ctx.text) {
            return self.read_alter_actions(ctx, &head);
        }
        let offset =
            parse_error_location(parse_error).map_or(0, |l| offset_of_location(ctx.text, l));
        // Only the statement kinds the recogniser lists as unable to change a write are
        // skipped; anything else PostgreSQL would reject, or that cannot be read, is an error.
        let help = if may_change_write_model(ctx.text) {
            "this statement can change a table, type, constraint or index, so it cannot be skipped; \
             check its syntax against PostgreSQL, or split it into simpler statements"
        } else {
            "this is not a statement writegraph knows PostgreSQL to accept; check its spelling \
             against PostgreSQL's documentation"
        };
        Err(ctx
            .error_at(
                offset,
                format!(
                    "cannot read this statement: {}",
                    parse_error_text(parse_error)
                ),
            )
            .with_help(help))
    }

    /// A form read by [`recognise`] instead of sqlparser, applied like the statement it is.
    ///
    /// One match over the forms [`recognise`] reads, kept whole so that they read side by side;
    /// the longer forms are methods of their own (`move_to_schema`, `apply_table_action`, ...).
    pub(super) fn apply_recognised(
        &mut self,
        ctx: &Ctx<'_>,
        offset: usize,
        recognised: Recognised,
    ) -> Applied {
        match recognised {
            Recognised::CreateExtension { name, schema } => {
                let schema = match schema {
                    Some(schema) => {
                        if !self.catalog.schemas.contains(&schema) {
                            return Err(ctx
                                .error_at(offset, format!("schema `{schema}` does not exist"))
                                .with_help(format!(
                                    "create it first with `CREATE SCHEMA {schema};`"
                                )));
                        }
                        schema
                    }
                    None => self.creation_schema(ctx, offset)?,
                };
                self.create_extension(&name, &schema);
                Ok(())
            }
            Recognised::CreateFunction { name, arity } => {
                self.create_function(ctx, offset, &name, arity)
            }
            Recognised::DropFunction { functions, cascade } => {
                self.drop_functions(ctx, offset, &functions, cascade)
            }
            Recognised::MoveFunction {
                name,
                arity,
                new_name,
                schema,
            } => {
                self.move_function(&name, arity, new_name.as_deref(), schema.as_deref());
                Ok(())
            }
            Recognised::RenameView { name, new_name } => {
                if let Some(view) = self.resolve_view(&name) {
                    self.rename_view(&view, &new_name);
                }
                Ok(())
            }
            Recognised::CreateView { name, temporary } => {
                if !temporary {
                    let qualified = self.qualify_new_parts(ctx, offset, &name)?;
                    if !self.views.contains(&qualified) {
                        self.views.push(qualified);
                    }
                }
                Ok(())
            }
            Recognised::CreateSequence {
                name,
                if_not_exists,
                owned_by,
            } => {
                let qualified = self.qualify_new_parts(ctx, offset, &name)?;
                if self.relation_taken(&qualified.schema, &qualified.name) {
                    if if_not_exists {
                        return Ok(());
                    }
                    return Err(
                        ctx.error_at(offset, format!("relation `{qualified}` already exists"))
                    );
                }
                self.catalog.sequences.push(Sequence {
                    name: qualified.clone(),
                    owned_by: None,
                    identity: false,
                });
                if let Some(owner) = owned_by {
                    self.set_sequence_owner(ctx, offset, &qualified, Some(owner))?;
                }
                Ok(())
            }
            Recognised::AlterSequenceOwnedBy { name, owned_by, .. } => {
                let Some(sequence) = self.resolve_sequence(&name) else {
                    return Err(ctx.error_at(
                        offset,
                        format!("sequence `{}` does not exist", name.join(".")),
                    ));
                };
                self.set_sequence_owner(ctx, offset, &sequence, owned_by)
            }
            Recognised::AlterSequenceRename { name, new_name, .. } => {
                let Some(sequence) = self.resolve_sequence(&name) else {
                    return Err(ctx.error_at(
                        offset,
                        format!("sequence `{}` does not exist", name.join(".")),
                    ));
                };
                if self.relation_taken(&sequence.schema, &new_name) {
                    return Err(
                        ctx.error_at(offset, format!("relation `{new_name}` already exists"))
                    );
                }
                let renamed = QualifiedName::new(sequence.schema.clone(), new_name);
                self.rename_sequence(&sequence, renamed);
                Ok(())
            }
            Recognised::AttachPartition {
                table, partition, ..
            } => {
                let Some(parent) = self.resolve_table_parts(ctx, offset, &table, false)? else {
                    return Ok(());
                };
                let Some(child) = self.resolve_table_parts(ctx, offset, &partition, false)? else {
                    return Ok(());
                };
                if let Some(t) = self.catalog.table_mut(&child) {
                    t.partition_of = Some(parent.clone());
                }
                // The partition (and its own partitions) gets copies of the parent's keys,
                // unless it already has an equal one, which PostgreSQL attaches instead.
                self.inherit_keys(&parent, &child);
                self.propagate_keys(&child);
                Ok(())
            }
            Recognised::DetachPartition { partition, .. } => {
                let Some(child) = self.resolve_table_parts(ctx, offset, &partition, false)? else {
                    return Ok(());
                };
                if let Some(t) = self.catalog.table_mut(&child) {
                    t.partition_of = None;
                }
                Ok(())
            }
            Recognised::AlterIndexRename {
                name,
                new_name,
                if_exists,
            } => self.rename_index(ctx, offset, &name, if_exists, &new_name),
            Recognised::DropIndex {
                names,
                if_exists,
                cascade,
            } => {
                for name in names {
                    self.drop_index(ctx, offset, &name, if_exists, cascade)?;
                }
                Ok(())
            }
            Recognised::AlterDomain { name, action } => {
                self.alter_domain(ctx, offset, &name, action)
            }
            Recognised::MoveToSchema {
                kind,
                name,
                if_exists,
                schema,
            } => self.move_to_schema(ctx, offset, kind, &name, if_exists, schema),
            Recognised::AlterTableActions {
                table,
                if_exists,
                actions,
            } => {
                let Some(table) = self.resolve_table_parts(ctx, offset, &table, if_exists)? else {
                    return Ok(());
                };
                for action in actions {
                    self.apply_table_action(ctx, offset, &table, action)?;
                }
                Ok(())
            }
            // Forms that cannot change the write model.
            _ => Ok(()),
        }
    }

    /// `ALTER SEQUENCE | VIEW | TYPE ... SET SCHEMA`: the object keeps its name in the new schema.
    fn move_to_schema(
        &mut self,
        ctx: &Ctx<'_>,
        offset: usize,
        kind: recognise::ObjectKind,
        name: &[String],
        if_exists: bool,
        schema: String,
    ) -> Applied {
        if !self.catalog.schemas.contains(&schema) {
            return Err(ctx.error_at(offset, format!("schema `{schema}` does not exist")));
        }
        match kind {
            recognise::ObjectKind::Sequence => {
                let Some(sequence) = self.resolve_sequence(name) else {
                    if if_exists {
                        return Ok(());
                    }
                    return Err(ctx.error_at(
                        offset,
                        format!("sequence `{}` does not exist", name.join(".")),
                    ));
                };
                if let Some((table, _)) = self
                    .catalog
                    .sequences
                    .iter()
                    .find(|s| s.name == sequence)
                    .and_then(|s| s.owned_by.as_ref())
                {
                    return Err(ctx
                        .error_at(
                            offset,
                            format!(
                                "cannot move the owned sequence `{sequence}` into another schema"
                            ),
                        )
                        .with_help(format!(
                            "it moves with its table: ALTER TABLE {table} SET SCHEMA {}",
                            crate::ident::quote_ident_if_needed(&schema)
                        )));
                }
                if schema == sequence.schema {
                    return Ok(());
                }
                if self.relation_taken(&schema, &sequence.name) {
                    return Err(ctx.error_at(
                        offset,
                        format!(
                            "relation `{}` already exists in schema `{schema}`",
                            sequence.name
                        ),
                    ));
                }
                let moved = QualifiedName::new(schema, sequence.name.clone());
                self.rename_sequence(&sequence, moved);
                Ok(())
            }
            recognise::ObjectKind::Type | recognise::ObjectKind::Domain => {
                let Some(found) = self
                    .candidates(name)
                    .into_iter()
                    .find(|c| self.type_exists(c))
                else {
                    if if_exists {
                        return Ok(());
                    }
                    return Err(
                        ctx.error_at(offset, format!("type `{}` does not exist", name.join(".")))
                    );
                };
                let moved = QualifiedName::new(schema, found.name.clone());
                self.rename_type(&found, moved);
                Ok(())
            }
        }
    }
}

/// Whether a statement sqlparser could not read may change tables, types, constraints or
/// indexes (and so must not be skipped).
pub(super) fn may_change_write_model(text: &str) -> bool {
    let words: Vec<String> = crate::ddl::lexer::top_level_words(text)
        .into_iter()
        .take(6)
        .map(|w| w.to_ascii_uppercase())
        .collect();
    let w = |i: usize| words.get(i).map(String::as_str).unwrap_or("");
    let mut i = 1;
    match w(0) {
        "CREATE" => {
            if w(i) == "OR" && w(i + 1) == "REPLACE" {
                i += 2;
            }
            while matches!(w(i), "GLOBAL" | "LOCAL" | "UNLOGGED" | "UNIQUE") {
                i += 1;
            }
            if matches!(w(i), "TEMP" | "TEMPORARY") {
                return false;
            }
            matches!(
                w(i),
                "TABLE" | "INDEX" | "TYPE" | "DOMAIN" | "SCHEMA" | "SEQUENCE" | "EXTENSION"
            )
        }
        "ALTER" | "DROP" => matches!(
            w(1),
            "TABLE" | "INDEX" | "TYPE" | "DOMAIN" | "SCHEMA" | "SEQUENCE" | "EXTENSION"
        ),
        "COMMENT" => w(1) == "ON" && matches!(w(2), "TABLE" | "COLUMN"),
        "SET" | "RESET" => text.to_ascii_lowercase().contains("search_path"),
        "SELECT" => text.to_ascii_lowercase().contains("search_path"),
        _ => false,
    }
}
