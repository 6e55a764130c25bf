//! `DO` blocks: their statements, their `IF [NOT] EXISTS` tests on the catalog as built so far,
//! and their `EXCEPTION` handlers (a block whose statements fail is undone, as in PostgreSQL).

use crate::catalog::QualifiedName;
use crate::ddl::plpgsql;
use crate::error::Diagnostic;
use crate::source::SourceFile;

use super::{Applied, Ctx, Reader, DO_BLOCK_HELP};

impl Reader {
    /// A `DO` block: its statements are applied as PL/pgSQL would run them, taking the
    /// branch of each `IF` whose existence test holds on the catalog read so far, and
    /// undoing a block with an `EXCEPTION` handler when one of its statements fails.
    pub(super) fn read_do_block(
        &mut self,
        ctx: &Ctx<'_>,
        body_offset: usize,
        body: &str,
    ) -> Applied {
        let block = plpgsql::parse_body(body).map_err(|(offset, message)| {
            ctx.error_at(
                body_offset + offset,
                format!("cannot read this DO block: {message}"),
            )
            .with_help(DO_BLOCK_HELP)
        })?;
        self.apply_block(ctx.file, ctx.offset + body_offset, &block)
    }

    pub(super) fn apply_block(
        &mut self,
        file: &SourceFile,
        base: usize,
        block: &plpgsql::Block,
    ) -> Applied {
        if !block.handles_errors {
            return self.apply_items(file, base, &block.items);
        }
        let saved = self.clone();
        if self.apply_items(file, base, &block.items).is_err() {
            // PL/pgSQL undoes the block and runs its handler.
            let errors = std::mem::take(&mut self.errors);
            *self = saved;
            self.errors = errors;
        }
        Ok(())
    }

    pub(super) fn apply_items(
        &mut self,
        file: &SourceFile,
        base: usize,
        items: &[plpgsql::Item],
    ) -> Applied {
        use plpgsql::Item;
        for item in items {
            match item {
                Item::Sql { offset, text } => {
                    let ctx = Ctx {
                        file,
                        offset: base + offset,
                        text,
                        // Unknown: locations are counted from the file's start.
                        first_line: 0,
                    };
                    self.read_statement(&ctx)?;
                }
                Item::Block(block) => self.apply_block(file, base, block)?,
                Item::Inert => {}
                // Rows only: nothing to read, however often it runs or whichever branch runs.
                _ if item.is_data_only() => {}
                Item::Unreadable { offset, what } | Item::Loop { offset, what, .. } => {
                    return Err(Diagnostic::at(
                        &file.path,
                        &file.text,
                        base + offset,
                        format!("cannot tell what {what} in this DO block does to the schema"),
                    )
                    .with_help(DO_BLOCK_HELP))
                }
                Item::If { branches } => {
                    for branch in branches {
                        let holds = match &branch.condition {
                            None => true,
                            Some((offset, condition)) => {
                                self.condition_holds(condition).ok_or_else(|| {
                                    Diagnostic::at(
                                        &file.path,
                                        &file.text,
                                        base + offset,
                                        "cannot tell whether this IF condition holds",
                                    )
                                    .with_help(
                                        "writegraph reads [NOT] EXISTS (SELECT ... FROM information_schema.columns, \
                                         tables, table_constraints, pg_type, ... WHERE name = 'x' AND ...); \
                                         for other conditions generate from a catalog snapshot \
                                         (`writegraph schema --from-postgres --json`)",
                                    )
                                })?
                            }
                        };
                        if holds {
                            self.apply_items(file, base, &branch.items)?;
                            break;
                        }
                    }
                }
            }
        }
        Ok(())
    }

    /// Evaluates an existence test on the catalog read so far; `None` when the condition is
    /// not one [`plpgsql::existence_test`] reads.
    pub(super) fn condition_holds(&self, condition: &str) -> Option<bool> {
        if let Some((wanted, relations)) = plpgsql::count_test(condition) {
            let found = relations
                .into_iter()
                .filter(|r| self.exists(r.clone()))
                .count();
            return Some(found == wanted);
        }
        let (negated, test) = plpgsql::existence_test(condition)?;
        Some(self.exists(test) != negated)
    }

    /// Whether the catalog read so far has what an existence test asks for.
    pub(super) fn exists(&self, test: plpgsql::Existence) -> bool {
        use plpgsql::Existence;
        let in_schema =
            |s: &Option<String>, name: &QualifiedName| s.as_ref().is_none_or(|s| *s == name.schema);
        match test {
            Existence::Column {
                schema,
                table,
                column,
            } => self.catalog.tables.iter().any(|t| {
                t.name.name == table && in_schema(&schema, &t.name) && t.column(&column).is_some()
            }),
            Existence::Table { schema, table } => self
                .catalog
                .tables
                .iter()
                .any(|t| t.name.name == table && in_schema(&schema, &t.name)),
            Existence::Constraint { schema, name } => self
                .catalog
                .tables
                .iter()
                .filter(|t| in_schema(&schema, &t.name))
                .any(|t| self.constraint_taken(&t.name, &name)),
            Existence::Type { name } => {
                self.catalog.enums.iter().any(|e| e.name.name == name)
                    || self.catalog.domains.iter().any(|d| d.name.name == name)
                    || self.other_types.iter().any(|t| t.name == name)
            }
            Existence::Relation { name } => self
                .catalog
                .schemas
                .iter()
                .any(|s| self.relation_taken(s, &name)),
        }
    }
}
