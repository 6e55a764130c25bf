//! Statements sqlparser parsed, dispatched by kind to the file of the object they make or change,
//! and the few that need no more than a line or two here (views, schemas, `SET search_path`,
//! `SELECT ... INTO`, `DROP`, `COMMENT ON`).

use sqlparser::ast::{
    AlterIndexOperation, CommentObject, Expr, ObjectName, ObjectNamePart, ObjectType, Query,
    SchemaName, Set, SetExpr, Spanned, Statement, Value,
};

use crate::catalog::QualifiedName;
use crate::ddl::fold_ident;

use super::names::last_part;
use super::names::name_parts;
use super::{offset_of_location, Applied, Ctx, Reader, TEMP_SCHEMA};

impl Reader {
    pub(super) fn apply(&mut self, ctx: &Ctx<'_>, statement: &Statement) -> Applied {
        match statement {
            Statement::CreateTable(create) => self.create_table(ctx, create),
            Statement::AlterTable(alter) => self.alter_table_statement(ctx, alter),
            Statement::CreateIndex(create) => {
                self.create_index(ctx, create)?;
                if !self.index_on_only {
                    if let Ok(Some(table)) = self.resolve_table(ctx, &create.table_name, true) {
                        self.propagate_keys(&table);
                    }
                }
                Ok(())
            }
            Statement::CreateView(view) => {
                let name = self.qualify_new(ctx, &view.name)?;
                if !self.views.contains(&name) {
                    self.views.push(name);
                }
                Ok(())
            }
            Statement::CreateType {
                name,
                representation,
            } => self.create_type(ctx, name, representation.as_ref()),
            Statement::CreateDomain(domain) => self.create_domain(ctx, domain),
            Statement::Drop {
                object_type,
                if_exists,
                names,
                cascade,
                ..
            } => {
                for name in names {
                    self.drop_object(ctx, *object_type, name, *if_exists, *cascade)?;
                }
                Ok(())
            }
            Statement::DropDomain(drop) => {
                let cascade = matches!(
                    drop.drop_behavior,
                    Some(sqlparser::ast::DropBehavior::Cascade)
                );
                self.drop_type(ctx, &drop.name, drop.if_exists, cascade)
            }
            Statement::AlterType(alter) => self.alter_type(ctx, &alter.name, &alter.operation),
            Statement::AlterIndex { name, operation } => match operation {
                AlterIndexOperation::RenameIndex { index_name } => {
                    let new_name = last_part(index_name)
                        .ok_or_else(|| ctx.error_at(0, "missing new index name"))?;
                    self.rename_index(ctx, 0, &name_parts(ctx, name)?, false, &new_name)
                }
            },
            Statement::Comment {
                object_type,
                object_name,
                comment,
                if_exists,
            } => self.comment(ctx, *object_type, object_name, comment.clone(), *if_exists),
            Statement::CreateSchema {
                schema_name,
                if_not_exists,
                ..
            } => self.create_schema(ctx, schema_name, *if_not_exists),
            Statement::CreateSequence {
                name,
                if_not_exists,
                owned_by,
                temporary,
                ..
            } => self.create_sequence(ctx, name, *if_not_exists, owned_by.as_ref(), *temporary),
            Statement::CreateExtension(extension) => {
                let name = fold_ident(&extension.name);
                let schema = match &extension.schema {
                    Some(schema) => fold_ident(schema),
                    None => self.creation_schema(ctx, 0)?,
                };
                self.create_extension(&name, &schema);
                Ok(())
            }
            Statement::Set(set) => {
                self.apply_set(set);
                Ok(())
            }
            Statement::Query(query) => self.apply_query(ctx, query),
            // Everything else cannot change the write model: functions, views, triggers,
            // grants, ownership, transactions, data.
            _ => Ok(()),
        }
    }

    pub(super) fn apply_set(&mut self, set: &Set) {
        if let Set::SingleAssignment {
            variable, values, ..
        } = set
        {
            let is_search_path = variable
                .0
                .last()
                .and_then(ObjectNamePart::as_ident)
                .is_some_and(|i| i.value.eq_ignore_ascii_case("search_path"));
            if !is_search_path {
                return;
            }
            let mut path = Vec::new();
            for value in values {
                match value {
                    Expr::Identifier(ident)
                        if ident.quote_style.is_none()
                            && ident.value.eq_ignore_ascii_case("default") =>
                    {
                        path = vec!["public".to_owned()];
                        break;
                    }
                    Expr::Identifier(ident) => path.push(fold_ident(ident)),
                    Expr::Value(v) => {
                        if let Value::SingleQuotedString(s) = &v.value {
                            path.extend(parse_search_path_list(s));
                        }
                    }
                    _ => {}
                }
            }
            self.search_path = path;
        }
    }

    pub(super) fn drop_object(
        &mut self,
        ctx: &Ctx<'_>,
        object_type: ObjectType,
        name: &ObjectName,
        if_exists: bool,
        cascade: bool,
    ) -> Applied {
        let parts = name_parts(ctx, name)?;
        let offset = offset_of_location(ctx.text, name.span().start);
        match object_type {
            ObjectType::Table => {
                if let Some(view) = self.resolve_view(&parts) {
                    // A temporary table or an untyped CREATE TABLE ... AS.
                    self.views.retain(|v| *v != view);
                    self.untyped_tables.retain(|(t, _)| *t != view);
                    self.indexes.retain(|i| i.table != view);
                    return Ok(());
                }
                let Some(table) = self.resolve_table(ctx, name, if_exists)? else {
                    return Ok(());
                };
                self.drop_table(ctx, offset, &table, cascade)
            }
            ObjectType::Type => self.drop_type(ctx, name, if_exists, cascade),
            ObjectType::Index => self.drop_index(ctx, offset, &parts, if_exists, cascade),
            ObjectType::Sequence => {
                let found = self
                    .candidates(&parts)
                    .into_iter()
                    .find(|c| self.catalog.sequences.iter().any(|s| &s.name == c));
                match found {
                    Some(sequence) => {
                        self.catalog.sequences.retain(|s| s.name != sequence);
                        Ok(())
                    }
                    None if if_exists => Ok(()),
                    None => Err(ctx.error_at(
                        offset,
                        format!("sequence `{}` does not exist", parts.join(".")),
                    )),
                }
            }
            ObjectType::Schema => {
                let schema = parts.last().cloned().unwrap_or_default();
                if !self.catalog.schemas.contains(&schema) {
                    if if_exists {
                        return Ok(());
                    }
                    return Err(ctx.error_at(offset, format!("schema `{schema}` does not exist")));
                }
                let tables: Vec<QualifiedName> = self
                    .catalog
                    .tables
                    .iter()
                    .filter(|t| t.name.schema == schema)
                    .map(|t| t.name.clone())
                    .collect();
                let has_types = self.catalog.enums.iter().any(|e| e.name.schema == schema)
                    || self.catalog.domains.iter().any(|d| d.name.schema == schema);
                if !cascade && (!tables.is_empty() || has_types) {
                    return Err(ctx
                        .error_at(
                            offset,
                            format!("cannot drop schema `{schema}`: objects depend on it"),
                        )
                        .with_help("drop its objects first, or add CASCADE"));
                }
                for table in tables {
                    self.drop_table(ctx, offset, &table, true)?;
                }
                self.catalog.enums.retain(|e| e.name.schema != schema);
                self.catalog.domains.retain(|d| d.name.schema != schema);
                self.other_types.retain(|t| t.schema != schema);
                self.catalog.schemas.retain(|s| *s != schema);
                Ok(())
            }
            ObjectType::View | ObjectType::MaterializedView => {
                let found = self
                    .candidates(&parts)
                    .into_iter()
                    .find(|c| self.views.contains(c));
                self.views.retain(|v| Some(v) != found.as_ref());
                Ok(())
            }
            // Functions, roles, ...: nothing a write depends on.
            _ => Ok(()),
        }
    }

    pub(super) fn comment(
        &mut self,
        ctx: &Ctx<'_>,
        object_type: CommentObject,
        name: &ObjectName,
        comment: Option<String>,
        if_exists: bool,
    ) -> Applied {
        let mut parts = name_parts(ctx, name)?;
        let offset = offset_of_location(ctx.text, name.span().start);
        match object_type {
            CommentObject::Table => {
                let Some(table) = self.resolve_table_parts(ctx, offset, &parts, if_exists)? else {
                    return Ok(());
                };
                if let Some(t) = self.catalog.table_mut(&table) {
                    t.comment = comment;
                }
            }
            CommentObject::Column => {
                let Some(column) = parts.pop() else {
                    return Ok(());
                };
                let Some(table) = self.resolve_table_parts(ctx, offset, &parts, if_exists)? else {
                    return Ok(());
                };
                let Some(t) = self.catalog.table_mut(&table) else {
                    return Ok(());
                };
                let Some(c) = t.column_mut(&column) else {
                    return Err(ctx.error_at(
                        offset,
                        format!("column `{column}` of `{table}` does not exist"),
                    ));
                };
                c.comment = comment;
            }
            _ => {}
        }
        Ok(())
    }

    /// A query: `SELECT ... INTO` creates a table, and pg_dump's `set_config('search_path', ...)`
    /// sets the search path; any other query changes nothing.
    fn apply_query(&mut self, ctx: &Ctx<'_>, query: &Query) -> Applied {
        // `SELECT ... INTO [TEMP] new_table FROM ...` creates a table, as CREATE TABLE AS.
        if let SetExpr::Select(select) = query.body.as_ref() {
            if let Some(into) = &select.into {
                let target = match into.targets.as_slice() {
                    [Expr::Identifier(ident)] => vec![ident.clone()],
                    [Expr::CompoundIdentifier(idents)] => idents.clone(),
                    _ => {
                        return Err(ctx
                            .error_at(0, "cannot read the table name of SELECT ... INTO")
                            .with_help("name one table: SELECT ... INTO new_table FROM ..."))
                    }
                };
                let target =
                    ObjectName(target.into_iter().map(ObjectNamePart::Identifier).collect());
                let into_name = &target;
                if into.temporary {
                    let parts = name_parts(ctx, into_name)?;
                    let name =
                        QualifiedName::new(TEMP_SCHEMA, parts.last().cloned().unwrap_or_default());
                    if !self.views.contains(&name) {
                        self.views.push(name);
                    }
                    return Ok(());
                }
                let name = self.qualify_new(ctx, into_name)?;
                if self.relation_taken(&name.schema, &name.name) {
                    return Err(ctx
                        .error_at_name(into_name, format!("relation `{name}` already exists"))
                        .with_help("drop it first, or select into another name"));
                }
                let mut without_into = query.clone();
                if let SetExpr::Select(select) = without_into.body.as_mut() {
                    select.into = None;
                }
                return self.create_table_as(ctx, into_name, name, &without_into, &[]);
            }
        }
        // pg_dump: `SELECT pg_catalog.set_config('search_path', '', false);`
        if let SetExpr::Select(select) = query.body.as_ref() {
            for item in &select.projection {
                if let sqlparser::ast::SelectItem::UnnamedExpr(expr) = item {
                    if let Some(path) = set_config_search_path(expr) {
                        self.search_path = parse_search_path_list(&path);
                    }
                }
            }
        }
        Ok(())
    }

    fn create_schema(
        &mut self,
        ctx: &Ctx<'_>,
        schema_name: &SchemaName,
        if_not_exists: bool,
    ) -> Applied {
        let name = match schema_name {
            SchemaName::Simple(name) | SchemaName::NamedAuthorization(name, _) => {
                last_part(name).ok_or_else(|| ctx.error_at(0, "missing schema name"))?
            }
            SchemaName::UnnamedAuthorization(role) => fold_ident(role),
        };
        if self.catalog.schemas.contains(&name) {
            if if_not_exists {
                return Ok(());
            }
            return Err(ctx.error_at(0, format!("schema `{name}` already exists")));
        }
        self.catalog.schemas.push(name);
        Ok(())
    }
}

/// `pg_catalog.set_config('search_path', 'a, b', false)` → `a, b`.
pub(super) fn set_config_search_path(expr: &Expr) -> Option<String> {
    let Expr::Function(function) = expr else {
        return None;
    };
    let is_set_config = function
        .name
        .0
        .last()
        .and_then(ObjectNamePart::as_ident)
        .is_some_and(|i| i.value.eq_ignore_ascii_case("set_config"));
    if !is_set_config {
        return None;
    }
    let sqlparser::ast::FunctionArguments::List(list) = &function.args else {
        return None;
    };
    let strings: Vec<String> = list
        .args
        .iter()
        .filter_map(|arg| match arg {
            sqlparser::ast::FunctionArg::Unnamed(sqlparser::ast::FunctionArgExpr::Expr(
                Expr::Value(v),
            )) => match &v.value {
                Value::SingleQuotedString(s) => Some(s.clone()),
                _ => None,
            },
            _ => None,
        })
        .collect();
    match strings.as_slice() {
        [setting, value, ..] if setting.eq_ignore_ascii_case("search_path") => Some(value.clone()),
        _ => None,
    }
}

/// A search path setting (`"$user", public`) as schema names.
pub(super) fn parse_search_path_list(text: &str) -> Vec<String> {
    text.split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(
            |s| match s.strip_prefix('"').and_then(|s| s.strip_suffix('"')) {
                Some(quoted) => quoted.replace("\"\"", "\""),
                None => s.to_ascii_lowercase(),
            },
        )
        .filter(|s| s != "$user")
        .collect()
}
