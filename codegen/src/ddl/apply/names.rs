//! Names: which schema a new object goes into, how a written name resolves against the search
//! path, and whether a name is already taken. Every other file resolves names through these.

use sqlparser::ast::{ObjectName, ObjectNamePart, Spanned};

use crate::catalog::QualifiedName;
use crate::ddl::fold_ident;
use crate::error::Diagnostic;

use super::{offset_of_location, Ctx, Reader, TEMP_SCHEMA};

impl Reader {
    /// The schema new unqualified objects go into: the first schema of the search path that
    /// exists, as in PostgreSQL.
    pub(super) fn creation_schema(
        &self,
        ctx: &Ctx<'_>,
        offset: usize,
    ) -> Result<String, Diagnostic> {
        self.search_path.iter().find(|s| self.catalog.schemas.contains(s)).cloned().ok_or_else(|| {
            ctx.error_at(offset, "no schema has been selected to create in")
                .with_help("qualify the name (`public.orders`), or set `search_path` to an existing schema first")
        })
    }

    /// The full name of an object about to be created.
    pub(super) fn qualify_new(
        &self,
        ctx: &Ctx<'_>,
        name: &ObjectName,
    ) -> Result<QualifiedName, Diagnostic> {
        let parts = name_parts(ctx, name)?;
        let offset = offset_of_location(ctx.text, name.span().start);
        self.qualify_new_parts(ctx, offset, &parts)
    }

    pub(super) fn qualify_new_parts(
        &self,
        ctx: &Ctx<'_>,
        offset: usize,
        parts: &[String],
    ) -> Result<QualifiedName, Diagnostic> {
        match parts {
            [name] => Ok(QualifiedName::new(
                self.creation_schema(ctx, offset)?,
                name.clone(),
            )),
            [.., schema, name] => {
                if !self.catalog.schemas.contains(schema) {
                    return Err(ctx
                        .error_at(offset, format!("schema `{schema}` does not exist"))
                        .with_help(format!("create it first with `CREATE SCHEMA {schema};`")));
                }
                Ok(QualifiedName::new(schema.clone(), name.clone()))
            }
            [] => Err(ctx.error_at(offset, "missing name")),
        }
    }

    /// Candidates for a possibly-unqualified name, in search-path order (a temporary
    /// table of that name first, as PostgreSQL searches `pg_temp` first).
    pub(super) fn candidates(&self, parts: &[String]) -> Vec<QualifiedName> {
        match parts {
            [name] => {
                let temp = QualifiedName::new(TEMP_SCHEMA, name.clone());
                let temp = self.views.contains(&temp).then_some(temp);
                temp.into_iter()
                    .chain(
                        self.search_path
                            .iter()
                            .map(|s| QualifiedName::new(s.clone(), name.clone())),
                    )
                    .collect()
            }
            [.., schema, name] => vec![QualifiedName::new(schema.clone(), name.clone())],
            [] => Vec::new(),
        }
    }

    /// Resolves a table name; `Ok(None)` only when it is missing and `if_exists` was given.
    pub(super) fn resolve_table(
        &self,
        ctx: &Ctx<'_>,
        name: &ObjectName,
        if_exists: bool,
    ) -> Result<Option<QualifiedName>, Diagnostic> {
        let parts = name_parts(ctx, name)?;
        let offset = offset_of_location(ctx.text, name.span().start);
        self.resolve_table_parts(ctx, offset, &parts, if_exists)
    }

    pub(super) fn resolve_table_parts(
        &self,
        ctx: &Ctx<'_>,
        offset: usize,
        parts: &[String],
        if_exists: bool,
    ) -> Result<Option<QualifiedName>, Diagnostic> {
        if let Some(found) = self
            .candidates(parts)
            .into_iter()
            .find(|c| self.catalog.table(c).is_some())
        {
            return Ok(Some(found));
        }
        if if_exists {
            return Ok(None);
        }
        let shown = parts.join(".");
        Err(ctx
            .error_at(offset, format!("table `{shown}` does not exist"))
            .with_help(self.missing_table_help(parts)))
    }

    pub(super) fn missing_table_help(&self, parts: &[String]) -> String {
        let wanted = parts.last().map(String::as_str).unwrap_or_default();
        let similar: Vec<String> = self
            .catalog
            .tables
            .iter()
            .filter(|t| {
                t.name.name.eq_ignore_ascii_case(wanted)
                    || t.name.name.contains(wanted)
                    || wanted.contains(&t.name.name)
            })
            .map(|t| t.name.to_sql())
            .take(3)
            .collect();
        if similar.is_empty() {
            format!(
                "create the table before this statement (search path: {}), or fix the name",
                self.search_path.join(", ")
            )
        } else {
            format!(
                "did you mean {}? tables are created in file order",
                similar.join(" or ")
            )
        }
    }

    /// The name resolves to a view or a sequence rather than a table.
    /// The name resolves to a view or a sequence rather than a table.
    pub(super) fn names_view_or_sequence(&self, parts: &[String]) -> bool {
        self.candidates(parts)
            .into_iter()
            .find(|c| {
                self.catalog.table(c).is_some()
                    || self.views.contains(c)
                    || self.catalog.sequences.iter().any(|s| &s.name == c)
            })
            .is_some_and(|c| self.catalog.table(&c).is_none())
    }

    /// Renames a view, a temporary table or an untyped table (within its schema).
    pub(super) fn rename_view(&mut self, view: &QualifiedName, new_name: &str) {
        let renamed = QualifiedName::new(view.schema.clone(), new_name.to_owned());
        for v in self.views.iter_mut().filter(|v| *v == view) {
            *v = renamed.clone();
        }
        for (t, _) in self.untyped_tables.iter_mut().filter(|(t, _)| t == view) {
            *t = renamed.clone();
        }
        for index in self.indexes.iter_mut().filter(|i| i.table == *view) {
            index.table = renamed.clone();
        }
    }

    /// The view (or materialized view) a name resolves to, when it resolves to one before
    /// any table.
    pub(super) fn resolve_view(&self, parts: &[String]) -> Option<QualifiedName> {
        self.candidates(parts)
            .into_iter()
            .find(|c| self.catalog.table(c).is_some() || self.views.contains(c))
            .filter(|c| self.views.contains(c))
    }

    pub(super) fn resolve_index(&self, parts: &[String]) -> Option<usize> {
        self.candidates(parts)
            .into_iter()
            .find_map(|c| self.indexes.iter().position(|i| i.name == c))
    }

    pub(super) fn relation_taken(&self, schema: &str, name: &str) -> bool {
        let is = |q: &QualifiedName| q.name == name && q.schema == schema;
        self.catalog.tables.iter().any(|t| is(&t.name))
            || self.indexes.iter().any(|i| is(&i.name))
            || self.catalog.sequences.iter().any(|s| is(&s.name))
            || self.views.iter().any(is)
    }

    pub(super) fn constraint_taken(&self, table: &QualifiedName, name: &str) -> bool {
        self.catalog.table(table).is_some_and(|t| {
            t.primary_key_name.as_deref() == Some(name)
                || t.uniques.iter().any(|u| u.name == name && u.is_constraint)
                || t.foreign_keys.iter().any(|f| f.name == name)
        }) || self
            .other_constraints
            .iter()
            .any(|(t, n)| t == table && n == name)
    }
}

/// The folded parts of a name (`public.orders` → `["public", "orders"]`).
pub(super) fn name_parts(ctx: &Ctx<'_>, name: &ObjectName) -> Result<Vec<String>, Diagnostic> {
    name.0
        .iter()
        .map(|part| match part {
            ObjectNamePart::Identifier(ident) => Ok(fold_ident(ident)),
            other => Err(ctx.error_at_name(name, format!("`{other}` is not a name"))),
        })
        .collect()
}

pub(super) fn last_part(name: &ObjectName) -> Option<String> {
    name.0
        .last()
        .and_then(ObjectNamePart::as_ident)
        .map(fold_ident)
}
