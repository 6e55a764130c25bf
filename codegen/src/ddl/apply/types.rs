//! Types: enums, domains, composite, range and base types, and the types extensions create.
//! A written type resolves here to a catalog [`SqlType`], so that columns name only types
//! that exist.

use sqlparser::ast::{
    AlterTypeAddValuePosition, AlterTypeOperation, CreateDomain, DataType, Expr, Ident, ObjectName,
    ObjectNamePart, Spanned, UserDefinedTypeRepresentation, Value,
};
use sqlparser::parser::Parser;

use crate::catalog::{BaseType, Catalog, Domain, EnumType, QualifiedName, SqlType};
use crate::ddl::dialect::PostgresDialect;
use crate::ddl::fold_ident;
use crate::ddl::recognise;
use crate::ddl::sql_type::{self, WrittenBase, WrittenType};
use crate::error::Diagnostic;

use super::names::name_parts;
use super::{offset_of_location, Applied, Ctx, Reader, EXTENSIONS_WITHOUT_TYPES, EXTENSION_TYPES};

impl Reader {
    pub(super) fn ensure_type_name_free(
        &self,
        ctx: &Ctx<'_>,
        at: &ObjectName,
        name: &QualifiedName,
    ) -> Applied {
        if self.type_exists(name) {
            return Err(ctx.error_at_name(at, format!("type `{name}` already exists")));
        }
        Ok(())
    }

    /// The catalog type of a written type, or None when it does not resolve.
    pub(super) fn resolve_written_quietly(&self, written: &WrittenType) -> Option<SqlType> {
        if let Some(builtin) = written.to_builtin() {
            return Some(builtin);
        }
        let WrittenBase::Named { parts, modifiers } = &written.base else {
            return None;
        };
        let found = self
            .candidates(parts)
            .into_iter()
            .find(|c| self.type_exists(c))?;
        Some(SqlType {
            base: BaseType::User {
                name: found,
                modifiers: modifiers.clone(),
            },
            array: written.array,
        })
    }

    /// Qualifies the user types named in the casts of an expression, the calls of the
    /// schema's own routines and the relations named by `'name'::regclass`.
    pub(super) fn qualify_casts(&self, expr: &mut Expr) {
        self.qualify_regclass(expr);
        match expr {
            Expr::Cast {
                expr: inner,
                data_type,
                ..
            } => {
                self.qualify_casts(inner);
                let resolved = sql_type::normalise(data_type)
                    .ok()
                    .and_then(|w| self.resolve_written_quietly(&w));
                if let Some(
                    ty @ SqlType {
                        base: BaseType::User { .. },
                        ..
                    },
                ) = resolved
                {
                    *data_type = qualified_data_type(&ty);
                }
            }
            Expr::Nested(inner) | Expr::UnaryOp { expr: inner, .. } => self.qualify_casts(inner),
            Expr::BinaryOp { left, right, .. } => {
                self.qualify_casts(left);
                self.qualify_casts(right);
            }
            Expr::Array(array) => {
                for element in &mut array.elem {
                    self.qualify_casts(element);
                }
            }
            Expr::Function(function) => {
                self.qualify_call(function);
                if let sqlparser::ast::FunctionArguments::List(list) = &mut function.args {
                    for arg in &mut list.args {
                        if let sqlparser::ast::FunctionArg::Unnamed(
                            sqlparser::ast::FunctionArgExpr::Expr(e),
                        ) = arg
                        {
                            self.qualify_casts(e);
                        }
                    }
                }
            }
            _ => {}
        }
    }

    /// `ALTER TYPE e RENAME VALUE 'a' TO 'b'`: PostgreSQL stores defaults as the label's
    /// value, so a default that names `'a'` of columns (and domains) of type `e` now says `'b'`.
    pub(super) fn rename_label_in_defaults(
        &mut self,
        enum_name: &QualifiedName,
        from: &str,
        to: &str,
    ) {
        let rename = |default: &mut Option<String>| {
            let Some(text) = default.as_deref() else {
                return;
            };
            let Ok(mut expr) = Parser::new(&PostgresDialect::default())
                .try_with_sql(text)
                .and_then(|mut p| p.parse_expr())
            else {
                return;
            };
            let mut target = &mut expr;
            loop {
                match target {
                    Expr::Cast { expr, .. } => target = expr,
                    Expr::Nested(inner) => target = inner,
                    _ => break,
                }
            }
            if let Expr::Value(value) = target {
                if let Value::SingleQuotedString(label) = &mut value.value {
                    if label == from {
                        *label = to.to_owned();
                        *default = Some(expr.to_string());
                    }
                }
            }
        };
        let of_enum = |ty: &SqlType| {
            !ty.array && matches!(&ty.base, BaseType::User { name, .. } if name == enum_name)
        };
        for table in &mut self.catalog.tables {
            for column in table.columns.iter_mut().filter(|c| of_enum(&c.sql_type)) {
                rename(&mut column.default);
            }
        }
        for domain in self
            .catalog
            .domains
            .iter_mut()
            .filter(|d| of_enum(&d.base_type))
        {
            rename(&mut domain.default);
        }
    }

    /// A type without modifiers that is no domain: a null cast to it stays a constant.
    pub(super) fn is_plain_type(&self, ty: &SqlType) -> bool {
        plain_builtin_or_enum(ty, &self.catalog)
    }

    pub(super) fn type_exists(&self, name: &QualifiedName) -> bool {
        self.catalog.enum_type(name).is_some()
            || self.catalog.domain(name).is_some()
            || self.other_types.contains(name)
    }

    /// Resolves a column or domain type; `owner` names the thing the type belongs to, for
    /// messages.
    pub(super) fn resolve_type(
        &self,
        ctx: &Ctx<'_>,
        data_type: &DataType,
        owner: &ObjectName,
    ) -> Result<SqlType, Diagnostic> {
        let written = sql_type::normalise(data_type).map_err(|e| ctx.error_at_name(owner, e))?;
        if written.serial {
            return Err(ctx.error_at_name(owner, "serial types are only allowed as column types"));
        }
        self.resolve_written(
            ctx,
            &written,
            offset_of_location(ctx.text, owner.span().start),
        )
    }

    pub(super) fn resolve_written(
        &self,
        ctx: &Ctx<'_>,
        written: &WrittenType,
        offset: usize,
    ) -> Result<SqlType, Diagnostic> {
        if let Some(builtin) = written.to_builtin() {
            return Ok(builtin);
        }
        let WrittenBase::Named { parts, modifiers } = &written.base else {
            return Err(ctx.error_at(offset, "unreadable type"));
        };
        if let Some(found) = self
            .candidates(parts)
            .into_iter()
            .find(|c| self.type_exists(c))
        {
            if !modifiers.is_empty() && !self.other_types.contains(&found) {
                return Err(ctx
                    .error_at(
                        offset,
                        format!("type modifier is not allowed for type `{found}`"),
                    )
                    .with_help("remove the modifier: enums and domains take none"));
            }
            return Ok(SqlType {
                base: BaseType::User {
                    name: found,
                    modifiers: modifiers.clone(),
                },
                array: written.array,
            });
        }
        if let Some(schema) = &self.unknown_extension_schema {
            // An extension we do not know may have created this type.
            let name = match parts.as_slice() {
                [name] => QualifiedName::new(schema.clone(), name.clone()),
                [.., s, name] => QualifiedName::new(s.clone(), name.clone()),
                [] => return Err(ctx.error_at(offset, "missing type name")),
            };
            return Ok(SqlType {
                base: BaseType::User {
                    name,
                    modifiers: modifiers.clone(),
                },
                array: written.array,
            });
        }
        let shown = parts.join(".");
        Err(ctx.error_at(offset, format!("unknown type `{shown}`")).with_help(
            "create it before this statement (CREATE TYPE ... AS ENUM, CREATE DOMAIN), or create the extension \
             that provides it (CREATE EXTENSION)",
        ))
    }

    pub(super) fn create_type(
        &mut self,
        ctx: &Ctx<'_>,
        at: &ObjectName,
        representation: Option<&UserDefinedTypeRepresentation>,
    ) -> Applied {
        let name = self.qualify_new(ctx, at)?;
        self.ensure_type_name_free(ctx, at, &name)?;
        match representation {
            Some(UserDefinedTypeRepresentation::Enum { labels }) => {
                let labels: Vec<String> = labels.iter().map(|l| l.value.clone()).collect();
                if let Some(dup) = labels
                    .iter()
                    .enumerate()
                    .find(|(i, l)| labels[..*i].contains(l))
                {
                    return Err(ctx.error_at_name(
                        at,
                        format!("enum `{name}` lists label `{}` twice", dup.1),
                    ));
                }
                self.catalog.enums.push(EnumType::new(name, labels));
            }
            // Composite, range and base types: usable as column types, nothing to write.
            _ => self.other_types.push(name),
        }
        Ok(())
    }

    pub(super) fn alter_type(
        &mut self,
        ctx: &Ctx<'_>,
        at: &ObjectName,
        operation: &AlterTypeOperation,
    ) -> Applied {
        let parts = name_parts(ctx, at)?;
        let found = self
            .candidates(&parts)
            .into_iter()
            .find(|c| self.type_exists(c));
        let Some(name) = found else {
            return Err(ctx
                .error_at_name(at, format!("type `{}` does not exist", parts.join(".")))
                .with_help("create the type before altering it"));
        };
        match operation {
            AlterTypeOperation::AddValue(add) => {
                let Some(enum_type) = self.catalog.enums.iter_mut().find(|e| e.name == name) else {
                    return Err(ctx.error_at_name(at, format!("type `{name}` is not an enum")));
                };
                let label = add.value.value.clone();
                if enum_type.labels.contains(&label) {
                    if add.if_not_exists {
                        return Ok(());
                    }
                    return Err(ctx.error_at_ident(
                        &add.value,
                        format!("enum label `{label}` already exists"),
                    ));
                }
                let position = match &add.position {
                    None => enum_type.labels.len(),
                    Some(AlterTypeAddValuePosition::Before(other))
                    | Some(AlterTypeAddValuePosition::After(other)) => {
                        let Some(index) = enum_type.labels.iter().position(|l| *l == other.value)
                        else {
                            return Err(missing_label(ctx, &other.value, &name, &enum_type.labels));
                        };
                        if matches!(add.position, Some(AlterTypeAddValuePosition::After(_))) {
                            index + 1
                        } else {
                            index
                        }
                    }
                };
                enum_type.labels.insert(position, label);
                Ok(())
            }
            AlterTypeOperation::RenameValue(rename) => {
                let Some(enum_type) = self.catalog.enums.iter_mut().find(|e| e.name == name) else {
                    return Err(ctx.error_at_name(at, format!("type `{name}` is not an enum")));
                };
                let Some(label) = enum_type
                    .labels
                    .iter_mut()
                    .find(|l| **l == rename.from.value)
                else {
                    return Err(missing_label(
                        ctx,
                        &rename.from.value,
                        &name,
                        &enum_type.labels,
                    ));
                };
                *label = rename.to.value.clone();
                self.rename_label_in_defaults(&name, &rename.from.value, &rename.to.value);
                Ok(())
            }
            AlterTypeOperation::Rename(rename) => {
                let new_name =
                    QualifiedName::new(name.schema.clone(), fold_ident(&rename.new_name));
                self.rename_type(&name, new_name);
                Ok(())
            }
        }
    }

    pub(super) fn rename_type(&mut self, old: &QualifiedName, new: QualifiedName) {
        for e in self.catalog.enums.iter_mut().filter(|e| &e.name == old) {
            *e = EnumType::new(new.clone(), std::mem::take(&mut e.labels));
        }
        for d in self.catalog.domains.iter_mut().filter(|d| &d.name == old) {
            d.schema = new.schema.clone();
            d.type_name = new.name.clone();
            d.name = new.clone();
        }
        for t in self.other_types.iter_mut().filter(|t| *t == old) {
            *t = new.clone();
        }
        let retype = |ty: &mut SqlType| {
            if let BaseType::User { name, .. } = &mut ty.base {
                if name == old {
                    *name = new.clone();
                }
            }
        };
        for table in &mut self.catalog.tables {
            for column in &mut table.columns {
                retype(&mut column.sql_type);
            }
        }
        for domain in &mut self.catalog.domains {
            retype(&mut domain.base_type);
        }
    }

    pub(super) fn drop_type(
        &mut self,
        ctx: &Ctx<'_>,
        at: &ObjectName,
        if_exists: bool,
        cascade: bool,
    ) -> Applied {
        let parts = name_parts(ctx, at)?;
        let Some(name) = self
            .candidates(&parts)
            .into_iter()
            .find(|c| self.type_exists(c))
        else {
            if if_exists {
                return Ok(());
            }
            return Err(ctx.error_at_name(at, format!("type `{}` does not exist", parts.join("."))));
        };
        let users: Vec<(QualifiedName, String)> = self
            .catalog
            .tables
            .iter()
            .flat_map(|t| {
                t.columns
                    .iter()
                    .filter(|c| matches!(&c.sql_type.base, BaseType::User { name: n, .. } if *n == name))
                    .map(|c| (t.name.clone(), c.name.clone()))
            })
            .collect();
        if !users.is_empty() {
            if !cascade {
                let (table, column) = &users[0];
                return Err(ctx
                    .error_at_name(
                        at,
                        format!(
                            "cannot drop type `{name}`: column `{column}` of `{table}` uses it"
                        ),
                    )
                    .with_help(
                        "drop or retype those columns first, or add CASCADE (which drops them)",
                    ));
            }
            for (table, column) in users {
                self.remove_column(&table, &column);
            }
        }
        self.catalog.enums.retain(|e| e.name != name);
        self.catalog.domains.retain(|d| d.name != name);
        self.other_types.retain(|t| *t != name);
        Ok(())
    }

    pub(super) fn create_extension(&mut self, name: &str, schema: &str) {
        if self.catalog.extensions.iter().any(|e| e == name) {
            return;
        }
        self.catalog.extensions.push(name.to_owned());
        match EXTENSION_TYPES.iter().find(|(e, _)| *e == name) {
            Some((_, types)) => {
                for ty in *types {
                    self.other_types.push(QualifiedName::new(schema, *ty));
                }
            }
            None if !EXTENSIONS_WITHOUT_TYPES.contains(&name) => {
                self.unknown_extension_schema = Some(schema.to_owned());
            }
            None => {}
        }
    }

    pub(super) fn alter_domain(
        &mut self,
        ctx: &Ctx<'_>,
        offset: usize,
        name: &[String],
        action: recognise::DomainAction,
    ) -> Applied {
        use recognise::DomainAction as A;
        let Some(found) = self
            .candidates(name)
            .into_iter()
            .find(|c| self.catalog.domain(c).is_some())
        else {
            return Err(ctx
                .error_at(
                    offset,
                    format!("domain `{}` does not exist", name.join(".")),
                )
                .with_help("create the domain before altering it"));
        };
        match action {
            A::Rename { new_name } => {
                let renamed = QualifiedName::new(found.schema.clone(), new_name);
                self.rename_type(&found, renamed);
            }
            A::SetSchema { schema } => {
                if !self.catalog.schemas.contains(&schema) {
                    return Err(ctx.error_at(offset, format!("schema `{schema}` does not exist")));
                }
                let moved = QualifiedName::new(schema, found.name.clone());
                self.rename_type(&found, moved);
            }
            other => {
                let stores_default = |expression: &str| {
                    self.catalog.domain(&found).is_some_and(|d| {
                        !is_null_text(expression, &d.base_type, &|t| self.is_plain_type(t))
                    })
                };
                let other = match other {
                    A::SetDefault { expression } if !stores_default(&expression) => A::DropDefault,
                    other => other,
                };
                let Some(domain) = self.catalog.domains.iter_mut().find(|d| d.name == found) else {
                    return Ok(());
                };
                match other {
                    A::SetDefault { expression } => domain.default = Some(expression),
                    A::DropDefault => domain.default = None,
                    A::SetNotNull => domain.not_null = true,
                    A::DropNotNull => domain.not_null = false,
                    _ => {}
                }
            }
        }
        Ok(())
    }

    /// `CREATE DOMAIN`: a named base type with its default and NOT NULL.
    pub(super) fn create_domain(&mut self, ctx: &Ctx<'_>, domain: &CreateDomain) -> Applied {
        let name = self.qualify_new(ctx, &domain.name)?;
        self.ensure_type_name_free(ctx, &domain.name, &name)?;
        let base = self.resolve_type(ctx, &domain.data_type, &domain.name)?;
        let mut created = Domain::new(name, base);
        let is_plain = |t: &SqlType| self.is_plain_type(t);
        created.default = domain
            .default
            .as_ref()
            .filter(|d| !is_null_default(d, &created.base_type, &is_plain))
            .map(ToString::to_string);
        // sqlparser keeps only a domain's CHECK constraints; NOT NULL is read from the text.
        created.not_null = domain_has_not_null(ctx.text);
        self.catalog.domains.push(created);
        Ok(())
    }
}

/// A label an `ALTER TYPE` names is not one of the enum's, pointed at where it is written.
pub(super) fn missing_label(
    ctx: &Ctx<'_>,
    label: &str,
    name: &QualifiedName,
    labels: &[String],
) -> Diagnostic {
    let quoted = format!("'{}'", label.replace('\'', "''"));
    let at = ctx.text.rfind(&quoted).unwrap_or(0);
    ctx.error_at(at, format!("`{label}` is not a label of `{name}`"))
        .with_help(format!("labels of `{name}` are: {}", labels.join(", ")))
}

/// `NULL`, `(NULL)` or `NULL::type` as the default of a column (or domain) of type
/// `target`: PostgreSQL stores no default when the expression stays a plain null constant,
/// that is when neither the cast nor the target applies a type modifier (a length coercion
/// function) or a domain (`CoerceToDomain`). `is_plain` tells whether a type is one without
/// either.
pub(super) fn is_null_default(
    expr: &Expr,
    target: &SqlType,
    is_plain: &dyn Fn(&SqlType) -> bool,
) -> bool {
    fn null_literal(expr: &Expr, is_plain: &dyn Fn(&DataType) -> bool) -> bool {
        match expr {
            Expr::Value(value) => matches!(value.value, Value::Null),
            Expr::Nested(inner) => null_literal(inner, is_plain),
            Expr::Cast {
                expr, data_type, ..
            } => is_plain(data_type) && null_literal(expr, is_plain),
            _ => false,
        }
    }
    let plain_written = |data_type: &DataType| {
        sql_type::normalise(data_type).is_ok_and(|w| match w.base {
            WrittenBase::Builtin { modifiers, .. } => modifiers.is_empty() && !w.serial,
            WrittenBase::Named { .. } => false,
        })
    };
    is_plain(target) && null_literal(expr, &plain_written)
}

/// A catalog type as SQL text with its schema: `public."Role"[]`.
pub(super) fn qualified_type_sql(ty: &SqlType) -> String {
    qualified_data_type(ty).to_string()
}

/// A catalog type as a sqlparser type whose name is schema-qualified and quoted.
pub(super) fn qualified_data_type(ty: &SqlType) -> DataType {
    let element = match &ty.base {
        BaseType::User { name, modifiers } => DataType::Custom(
            ObjectName(vec![
                ObjectNamePart::Identifier(Ident::new(crate::ident::quote_ident_if_needed(
                    &name.schema,
                ))),
                ObjectNamePart::Identifier(Ident::new(crate::ident::quote_ident_if_needed(
                    &name.name,
                ))),
            ]),
            modifiers.clone(),
        ),
        BaseType::Builtin { .. } => DataType::Custom(
            ObjectName(vec![ObjectNamePart::Identifier(Ident::new(ty.format()))]),
            Vec::new(),
        ),
    };
    if ty.array {
        DataType::Array(sqlparser::ast::ArrayElemTypeDef::SquareBracket(
            Box::new(element),
            None,
        ))
    } else {
        element
    }
}

/// See [`Reader::is_plain_type`].
pub(super) fn plain_builtin_or_enum(ty: &SqlType, catalog: &Catalog) -> bool {
    match &ty.base {
        BaseType::Builtin { modifiers, .. } => modifiers.is_empty(),
        BaseType::User { name, modifiers } => {
            modifiers.is_empty() && (ty.array || catalog.domain(name).is_none())
        }
    }
}

/// [`is_null_default`] for a default's text.
pub(super) fn is_null_text(
    text: &str,
    target: &SqlType,
    is_plain: &dyn Fn(&SqlType) -> bool,
) -> bool {
    Parser::new(&PostgresDialect::default())
        .try_with_sql(text)
        .and_then(|mut p| p.parse_expr())
        .is_ok_and(|e| is_null_default(&e, target, is_plain))
}

/// `CREATE DOMAIN ... NOT NULL`: sqlparser drops the domain's NOT NULL, so look for it at
/// the top level of the statement.
pub(super) fn domain_has_not_null(text: &str) -> bool {
    let words = crate::ddl::lexer::top_level_words(text);
    words
        .windows(2)
        .any(|w| w[0].eq_ignore_ascii_case("not") && w[1].eq_ignore_ascii_case("null"))
}

/// `CREATE DOMAIN ...` with its top-level `[CONSTRAINT name] [NOT] NULL` constraints blanked
/// out (same length, so offsets stay right); `None` for any other statement.
pub(super) fn domain_without_null_constraints(text: &str) -> Option<String> {
    use crate::ddl::lexer::{Lexer, Token, TokenKind};
    let tokens: Vec<Token> = Lexer::new(text)
        .filter_map(Result::ok)
        .filter(|t| t.kind != TokenKind::Comment)
        .collect();
    let word = |t: &Token, w: &str| {
        t.kind == TokenKind::Word && text[t.start..t.end].eq_ignore_ascii_case(w)
    };
    if !(tokens.len() > 2 && word(&tokens[0], "create") && word(&tokens[1], "domain")) {
        return None;
    }
    let mut out = text.to_owned();
    let mut depth = 0usize;
    let mut changed = false;
    let mut i = 0;
    while i < tokens.len() {
        let token = &tokens[i];
        if token.kind == TokenKind::Punct {
            match &text[token.start..token.end] {
                "(" => depth += 1,
                ")" => depth = depth.saturating_sub(1),
                _ => {}
            }
        }
        let blank_from = |from: usize, to: usize, out: &mut String| {
            out.replace_range(from..to, &" ".repeat(to - from));
        };
        if depth == 0 && word(token, "null") {
            let mut start = token.start;
            if i >= 1 && word(&tokens[i - 1], "not") {
                start = tokens[i - 1].start;
                if i >= 3 && word(&tokens[i - 3], "constraint") {
                    start = tokens[i - 3].start;
                }
            } else if i >= 2 && word(&tokens[i - 2], "constraint") {
                start = tokens[i - 2].start;
            }
            blank_from(start, token.end, &mut out);
            changed = true;
        }
        i += 1;
    }
    changed.then_some(out)
}
