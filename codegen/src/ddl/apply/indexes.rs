//! Indexes: every index is kept by name so that `DROP INDEX` and `ALTER INDEX ... RENAME`
//! resolve; a unique index is also a unique key of its table.

use sqlparser::ast::{CreateIndex, Expr, Ident, Spanned};

use crate::catalog::{QualifiedName, Table, UniqueKey};
use crate::ddl::fold_ident;
use crate::ddl::naming::{choose_name, column_name_addition};
use crate::error::Diagnostic;

use super::names::name_parts;
use super::{offset_of_location, Applied, Ctx, IndexEntry, Reader};

impl Reader {
    pub(super) fn register_index(
        &mut self,
        ctx: &Ctx<'_>,
        at: usize,
        table: &QualifiedName,
        name: &str,
        constraint: bool,
    ) -> Applied {
        if self.relation_taken(&table.schema, name) {
            return Err(ctx
                .error_at(
                    at,
                    format!(
                        "relation `{}` already exists",
                        QualifiedName::new(table.schema.clone(), name)
                    ),
                )
                .with_help("give the constraint or index another name"));
        }
        self.indexes.push(IndexEntry {
            name: QualifiedName::new(table.schema.clone(), name),
            table: table.clone(),
            constraint,
        });
        Ok(())
    }

    pub(super) fn create_index(&mut self, ctx: &Ctx<'_>, create: &CreateIndex) -> Applied {
        let parts = name_parts(ctx, &create.table_name)?;
        if let Some(view) = self.resolve_view(&parts) {
            // A materialized view's index (REFRESH ... CONCURRENTLY needs a unique one): it
            // takes a name that a later DROP INDEX may use, and is never a write target's key.
            let name = match &create.name {
                Some(name) => name_parts(ctx, name)?.last().cloned().unwrap_or_default(),
                None => {
                    let columns = index_column_names(&create.columns, &create.include);
                    let refs: Vec<&str> = columns.iter().map(String::as_str).collect();
                    choose_name(&view.name, Some(&column_name_addition(&refs)), "idx", |n| {
                        self.relation_taken(&view.schema, n)
                    })
                }
            };
            if !self.relation_taken(&view.schema, &name) {
                self.indexes.push(IndexEntry {
                    name: QualifiedName::new(view.schema.clone(), name),
                    table: view,
                    constraint: false,
                });
            }
            return Ok(());
        }
        let Some(table) = self.resolve_table(ctx, &create.table_name, false)? else {
            return Ok(());
        };
        let plain_columns: Option<Vec<Ident>> = create
            .columns
            .iter()
            .map(|c| match &c.column.expr {
                Expr::Identifier(ident) => Some(ident.clone()),
                _ => None,
            })
            .collect();
        if let Some(columns) = &plain_columns {
            self.check_key_columns(ctx, &table, columns)?;
        }
        let name = match &create.name {
            Some(name) => name_parts(ctx, name)?.last().cloned().unwrap_or_default(),
            None => {
                // `_key` is for constraints only: an unnamed CREATE UNIQUE INDEX is `_idx`.
                let column_names = index_column_names(&create.columns, &create.include);
                let refs: Vec<&str> = column_names.iter().map(String::as_str).collect();
                choose_name(
                    &table.name,
                    Some(&column_name_addition(&refs)),
                    "idx",
                    |n| self.relation_taken(&table.schema, n),
                )
            }
        };
        if self.relation_taken(&table.schema, &name) {
            if create.if_not_exists {
                return Ok(());
            }
            let at = create
                .name
                .as_ref()
                .map_or(0, |n| offset_of_location(ctx.text, n.span().start));
            return Err(ctx
                .error_at(
                    at,
                    format!(
                        "relation `{}` already exists",
                        QualifiedName::new(table.schema.clone(), name)
                    ),
                )
                .with_help("pick another index name, or use CREATE INDEX IF NOT EXISTS"));
        }
        self.indexes.push(IndexEntry {
            name: QualifiedName::new(table.schema.clone(), name.clone()),
            table: table.clone(),
            constraint: false,
        });
        if let (true, Some(columns)) = (create.unique, plain_columns) {
            if let Some(t) = self.catalog.table_mut(&table) {
                t.uniques.push(UniqueKey {
                    name,
                    columns: columns.iter().map(fold_ident).collect(),
                    partial: create.predicate.is_some(),
                    is_constraint: false,
                });
            }
        }
        Ok(())
    }

    pub(super) fn drop_index(
        &mut self,
        ctx: &Ctx<'_>,
        offset: usize,
        parts: &[String],
        if_exists: bool,
        cascade: bool,
    ) -> Applied {
        let Some(position) = self.resolve_index(parts) else {
            if if_exists {
                return Ok(());
            }
            return Err(ctx.error_at(
                offset,
                format!("index `{}` does not exist", parts.join(".")),
            ));
        };
        let entry = self.indexes[position].clone();
        if entry.constraint {
            return Err(ctx
                .error_at(
                    offset,
                    format!(
                        "cannot drop index `{}`: a constraint of `{}` uses it",
                        entry.name, entry.table
                    ),
                )
                .with_help(format!(
                    "drop the constraint instead: ALTER TABLE {} DROP CONSTRAINT {}",
                    entry.table, entry.name.name
                )));
        }
        // Foreign keys that rely on this unique index go with it under CASCADE.
        let key = self
            .catalog
            .table(&entry.table)
            .and_then(|t| t.uniques.iter().find(|u| u.name == entry.name.name))
            .map(|u| u.columns.clone());
        if let Some(key) = key {
            let table = entry.table.clone();
            let still_unique = |t: &Table| {
                let same = |k: &[String]| k.len() == key.len() && k.iter().all(|c| key.contains(c));
                same(&t.primary_key)
                    || t.uniques
                        .iter()
                        .any(|u| u.name != entry.name.name && !u.partial && same(&u.columns))
            };
            let covered = self.catalog.table(&table).is_some_and(still_unique);
            let dependents: Vec<(QualifiedName, String)> = if covered {
                Vec::new()
            } else {
                self.catalog
                    .tables
                    .iter()
                    .flat_map(|t| {
                        t.foreign_keys
                            .iter()
                            .filter(|fk| {
                                fk.ref_table == table
                                    && fk.ref_columns.len() == key.len()
                                    && fk.ref_columns.iter().all(|c| key.contains(c))
                            })
                            .map(|fk| (t.name.clone(), fk.name.clone()))
                            .collect::<Vec<_>>()
                    })
                    .collect()
            };
            if let Some((other, fk)) = dependents.first() {
                if !cascade {
                    return Err(ctx
                        .error_at(offset, format!("cannot drop index `{}`: foreign key `{fk}` of `{other}` depends on it", entry.name))
                        .with_help("drop that foreign key first, or add CASCADE"));
                }
            }
            for (other, fk) in dependents {
                if let Some(t) = self.catalog.table_mut(&other) {
                    t.foreign_keys.retain(|f| f.name != fk);
                }
            }
        }
        self.indexes.remove(position);
        if let Some(t) = self.catalog.table_mut(&entry.table) {
            t.uniques.retain(|u| u.name != entry.name.name);
        }
        Ok(())
    }

    pub(super) fn rename_index(
        &mut self,
        ctx: &Ctx<'_>,
        offset: usize,
        parts: &[String],
        if_exists: bool,
        new_name: &str,
    ) -> Applied {
        let Some(position) = self.resolve_index(parts) else {
            if if_exists {
                return Ok(());
            }
            return Err(ctx.error_at(
                offset,
                format!("index `{}` does not exist", parts.join(".")),
            ));
        };
        let entry = self.indexes[position].clone();
        if self.relation_taken(&entry.name.schema, new_name) {
            return Err(ctx.error_at(
                offset,
                format!(
                    "relation `{}` already exists",
                    QualifiedName::new(entry.name.schema.clone(), new_name)
                ),
            ));
        }
        // Renaming a constraint's index renames the constraint too.
        self.rename_constraint(&entry.table, &entry.name.name, new_name);
        if let Some(t) = self.catalog.table_mut(&entry.table) {
            for u in t.uniques.iter_mut().filter(|u| u.name == entry.name.name) {
                u.name = new_name.to_owned();
            }
        }
        self.indexes[position].name.name = new_name.to_owned();
        Ok(())
    }
}

/// Key columns of a PRIMARY KEY or UNIQUE constraint: plain column names only.
pub(super) fn index_columns(
    ctx: &Ctx<'_>,
    columns: &[sqlparser::ast::IndexColumn],
) -> Result<Vec<Ident>, Diagnostic> {
    columns
        .iter()
        .map(|c| match &c.column.expr {
            Expr::Identifier(ident) => Ok(ident.clone()),
            other => Err(ctx
                .error_at_location(
                    other.span().start,
                    "a key constraint lists columns, not expressions",
                )
                .with_help("use CREATE UNIQUE INDEX for an expression key")),
        })
        .collect()
}

/// The names PostgreSQL gives an index's columns, key columns then `INCLUDE` columns, for
/// the index's generated name.
pub(super) fn index_column_names(
    columns: &[sqlparser::ast::IndexColumn],
    include: &[Ident],
) -> Vec<String> {
    let include: Vec<Expr> = include.iter().cloned().map(Expr::Identifier).collect();
    let exprs: Vec<&Expr> = columns
        .iter()
        .map(|c| &c.column.expr)
        .chain(include.iter())
        .collect();
    crate::ddl::naming::index_column_names(&exprs)
}

/// `CREATE [UNIQUE] INDEX ... ON ONLY t ...` with `ONLY` blanked out (same length, so every
/// offset stays right); `None` for any other statement.
pub(super) fn index_on_only_as_plain(text: &str) -> Option<String> {
    let words = crate::ddl::lexer::top_level_words(text);
    let upper: Vec<String> = words
        .iter()
        .take(3)
        .map(|w| w.to_ascii_uppercase())
        .collect();
    let is_create_index = upper.first().is_some_and(|w| w == "CREATE")
        && (upper.get(1).is_some_and(|w| w == "INDEX")
            || upper.get(2).is_some_and(|w| w == "INDEX"));
    if !is_create_index {
        return None;
    }
    let tokens: Vec<crate::ddl::lexer::Token> = crate::ddl::lexer::Lexer::new(text)
        .filter_map(Result::ok)
        .filter(|t| t.kind != crate::ddl::lexer::TokenKind::Comment)
        .collect();
    let word = |t: &crate::ddl::lexer::Token, w: &str| {
        t.kind == crate::ddl::lexer::TokenKind::Word && text[t.start..t.end].eq_ignore_ascii_case(w)
    };
    let only = tokens
        .windows(2)
        .find(|pair| word(&pair[0], "on") && word(&pair[1], "only"))?;
    let mut out = text.to_owned();
    out.replace_range(only[1].start..only[1].end, "    ");
    Some(out)
}
