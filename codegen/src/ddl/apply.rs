//! Applies statements to the catalog, one at a time and in order, the way PostgreSQL would:
//! a statement sees exactly what the statements before it built, and a reference to
//! something that does not exist yet is an error at that statement.

use sqlparser::ast::{
    AlterColumnOperation, AlterIndexOperation, AlterTableOperation, AlterTypeAddValuePosition,
    AlterTypeOperation, ColumnDef, ColumnOption, CommentObject, CreateIndex, CreateTable, DataType,
    Expr, GeneratedAs, GeneratedExpressionMode, Ident, ObjectName, ObjectNamePart, ObjectType,
    ReferentialAction, RenameTableNameKind, SchemaName, Set, SetExpr, Spanned, Statement,
    TableConstraint, UserDefinedTypeRepresentation, Value,
};
use sqlparser::parser::Parser;
use sqlparser::tokenizer::Location as SqlLocation;

use super::dialect::PostgresDialect;
use super::fold_ident;
use super::naming::{choose_name, column_name_addition};
use super::plpgsql;
use super::recognise::{self, IdentityKind, Recognised};
use super::split;
use super::sql_type::{self, WrittenBase, WrittenType};
use crate::catalog::{
    BaseType, Catalog, Column, Domain, EnumType, FkAction, ForeignKey, Generated, Identity,
    QualifiedName, Sequence, SqlType, Table, UniqueKey,
};
use crate::error::{DdlError, Diagnostic, Error};
use crate::source::SourceFile;

/// The help line of a `DO` block that cannot be read.
const DO_BLOCK_HELP: &str =
    "writegraph reads the statements of a DO block, its IF [NOT] EXISTS tests on the catalog \
     and its EXCEPTION handlers; for anything else generate from a catalog snapshot \
     (`writegraph schema --from-postgres --json`)";

/// PostgreSQL's `MaxHeapAttributeNumber`: the most columns a table can have.
const MAX_COLUMNS: usize = 1600;

/// The schema temporary tables live in (`pg_temp`), searched before the search path.
const TEMP_SCHEMA: &str = "pg_temp";

/// Types extensions create, so that columns of these types are known types.
const EXTENSION_TYPES: &[(&str, &[&str])] = &[
    ("citext", &["citext"]),
    ("hstore", &["hstore"]),
    ("ltree", &["ltree", "lquery", "ltxtquery"]),
    ("postgis", &["geometry", "geography", "box2d", "box3d"]),
    ("vector", &["vector", "halfvec", "sparsevec"]),
    ("cube", &["cube"]),
    (
        "isn",
        &[
            "ean13", "isbn", "ismn", "issn", "isbn13", "ismn13", "issn13", "upc",
        ],
    ),
    ("seg", &["seg"]),
];

/// Extensions known to create no types (so that their presence does not relax type checks).
const EXTENSIONS_WITHOUT_TYPES: &[&str] = &[
    "pgcrypto",
    "uuid-ossp",
    "pg_trgm",
    "btree_gin",
    "btree_gist",
    "pg_stat_statements",
    "plpgsql",
    "unaccent",
    "fuzzystrmatch",
    "intarray",
    "tablefunc",
    "postgres_fdw",
];

/// An index, kept by name so that `DROP INDEX` and `ALTER INDEX ... RENAME` resolve.
#[derive(Debug, Clone)]
struct IndexEntry {
    name: QualifiedName,
    table: QualifiedName,
    /// The index belongs to a PRIMARY KEY, UNIQUE or EXCLUDE constraint of this name.
    constraint: bool,
}

/// The catalog as the query typer sees it, at the statement being applied.
struct ReaderEnv<'a> {
    reader: &'a Reader,
    ctx: &'a Ctx<'a>,
}

impl super::select_type::Env for ReaderEnv<'_> {
    fn relation_columns(&self, parts: &[String]) -> Option<Vec<(String, SqlType)>> {
        let name =
            self.reader.candidates(parts).into_iter().find(|c| {
                self.reader.catalog.table(c).is_some() || self.reader.views.contains(c)
            })?;
        let table = self.reader.catalog.table(&name)?;
        Some(
            table
                .columns
                .iter()
                .map(|c| (c.name.clone(), c.sql_type.clone()))
                .collect(),
        )
    }

    fn resolve_type(&self, data_type: &DataType) -> Result<SqlType, String> {
        let written = sql_type::normalise(data_type)?;
        self.reader
            .resolve_written(self.ctx, &written, 0)
            .map_err(|d| d.message)
    }
}

/// Where the statement being applied is, for messages.
struct Ctx<'a> {
    file: &'a SourceFile,
    /// Byte offset of the statement in the file.
    offset: usize,
    /// The statement's text.
    text: &'a str,
    /// The 1-based line the statement starts on (0: unknown).
    first_line: usize,
}

impl Ctx<'_> {
    /// The location of byte `offset` within the statement, counting lines from the
    /// statement's start (the catalog keeps one per table and column, so counting from the
    /// file's start each time would make reading a long dump quadratic).
    fn location_at(&self, offset: usize) -> crate::error::Location {
        let text = &self.file.text;
        let mut at = (self.offset + offset).min(text.len());
        while !text.is_char_boundary(at) {
            at -= 1;
        }
        let between = text.get(self.offset.min(at)..at);
        match between {
            Some(between) if self.first_line > 0 => {
                let line_start = text[..at].rfind('\n').map_or(0, |i| i + 1);
                crate::error::Location {
                    path: self.file.path.clone(),
                    line: self.first_line + between.matches('\n').count(),
                    col: text[line_start..at].chars().count() + 1,
                }
            }
            _ => crate::error::Location::from_offset(&self.file.path, text, at),
        }
    }

    /// A diagnostic at byte `offset` within the statement.
    fn error_at(&self, offset: usize, message: impl Into<String>) -> Diagnostic {
        Diagnostic::at(
            &self.file.path,
            &self.file.text,
            self.offset + offset,
            message,
        )
    }

    /// A diagnostic at a sqlparser location within the statement (1-based line and column).
    fn error_at_location(&self, location: SqlLocation, message: impl Into<String>) -> Diagnostic {
        self.error_at(offset_of_location(self.text, location), message)
    }

    /// A diagnostic at an identifier of the statement, or at the statement's start.
    fn error_at_ident(&self, ident: &Ident, message: impl Into<String>) -> Diagnostic {
        self.error_at_location(ident.span.start, message)
    }

    /// A diagnostic at the start of an object name.
    fn error_at_name(&self, name: &ObjectName, message: impl Into<String>) -> Diagnostic {
        self.error_at_location(name.span().start, message)
    }
}

/// The byte offset of a 1-based sqlparser line/column in `text` (0 when unknown).
fn offset_of_location(text: &str, location: SqlLocation) -> usize {
    if location.line == 0 {
        return 0;
    }
    let mut line = 1u64;
    let mut col = 1u64;
    for (offset, ch) in text.char_indices() {
        if line == location.line && col == location.column {
            return offset;
        }
        if ch == '\n' {
            line += 1;
            col = 1;
        } else {
            col += 1;
        }
    }
    text.len()
}

/// The `file:line:col` of a sqlparser error message ("... at Line: 3, Column: 7").
fn parse_error_location(message: &str) -> Option<SqlLocation> {
    let rest = &message[message.rfind("Line: ")? + "Line: ".len()..];
    let (line, rest) = rest.split_once(',')?;
    let column: String = rest
        .trim_start()
        .strip_prefix("Column: ")?
        .chars()
        .take_while(char::is_ascii_digit)
        .collect();
    Some(SqlLocation {
        line: line.trim().parse().ok()?,
        column: column.parse().ok()?,
    })
}

/// sqlparser's message without its position suffix and prefix, for our own rendering.
fn parse_error_text(message: &str) -> &str {
    let message = message
        .strip_prefix("sql parser error: ")
        .unwrap_or(message);
    message
        .rfind(" at Line: ")
        .map_or(message, |i| &message[..i])
}

/// The catalog being built, plus what the reader tracks beyond the write model.
#[derive(Clone)]
pub struct Reader {
    catalog: Catalog,
    /// Schemas that unqualified names resolve against, in order.
    search_path: Vec<String>,
    /// Every index, unique or not.
    indexes: Vec<IndexEntry>,
    /// CHECK and EXCLUDE constraint names per table, so that dropping them resolves.
    other_constraints: Vec<(QualifiedName, String)>,
    /// Composite, range and base types: known as column types, not part of the write model.
    other_types: Vec<QualifiedName>,
    /// Views and materialized views: relations that `ALTER TABLE ... OWNER TO` may name,
    /// and that take a name, but that are never written.
    views: Vec<QualifiedName>,
    /// Tables made by `CREATE TABLE ... AS` whose columns could not be typed (also listed in
    /// `views`, so that statements on them are skipped), with the error to report if they
    /// are still there at the end.
    untyped_tables: Vec<(QualifiedName, Diagnostic)>,
    /// The schema of an extension this reader does not know: after one is created, unknown
    /// type names are taken to be its types, since they cannot be checked.
    unknown_extension_schema: Option<String>,
    /// A `CREATE INDEX ... ON ONLY` is being applied: its index stays on the named table.
    index_on_only: bool,
    errors: Vec<Diagnostic>,
}

impl Default for Reader {
    fn default() -> Self {
        let catalog = Catalog {
            schemas: vec!["public".to_owned()],
            ..Catalog::default()
        };
        Self {
            catalog,
            search_path: vec!["public".to_owned()],
            indexes: Vec::new(),
            other_constraints: Vec::new(),
            other_types: Vec::new(),
            views: Vec::new(),
            untyped_tables: Vec::new(),
            unknown_extension_schema: None,
            index_on_only: false,
            errors: Vec::new(),
        }
    }
}

type Applied = Result<(), Diagnostic>;

impl Reader {
    /// Reads every file in order and returns the catalog, or every error found.
    pub fn read_files(mut self, files: &[SourceFile]) -> Result<Catalog, Error> {
        // Every error is collected (rendering shows the first ones and counts the rest).
        for file in files {
            self.read_file(file);
        }
        let untyped = std::mem::take(&mut self.untyped_tables);
        self.errors
            .extend(untyped.into_iter().map(|(_, error)| error));
        match self.errors.len() {
            0 => Ok(self.catalog),
            1 => Err(Error::Ddl(DdlError(Box::new(self.errors.remove(0))))),
            _ => Err(Error::Many(
                self.errors
                    .into_iter()
                    .map(|d| Error::Ddl(DdlError(Box::new(d))))
                    .collect(),
            )),
        }
    }

    fn read_file(&mut self, file: &SourceFile) {
        let statements = match split::split_statements(&file.text) {
            Ok(statements) => statements,
            Err(e) => {
                self.errors.push(
                    Diagnostic::at(&file.path, &file.text, e.offset, e.message).with_help(
                        "close the quote, dollar-quoted body or comment that starts here",
                    ),
                );
                return;
            }
        };
        // The line each statement starts on, counted as the statements go by.
        let mut line = 1;
        let mut counted_to = 0;
        for statement in statements {
            let upto = statement.offset.min(file.text.len());
            line += file
                .text
                .get(counted_to..upto)
                .map_or(0, |t| t.matches('\n').count());
            counted_to = upto;
            let ctx = Ctx {
                file,
                offset: statement.offset,
                text: statement.text,
                first_line: line,
            };
            if let Err(diagnostic) = self.read_statement(&ctx) {
                self.errors.push(diagnostic);
            }
        }
    }

    fn read_statement(&mut self, ctx: &Ctx<'_>) -> Applied {
        if let Some(recognised) = recognise::recognise_before_parsing(ctx.text) {
            return self.apply_recognised(ctx, 0, recognised);
        }
        match Parser::parse_sql(&PostgresDialect::default(), ctx.text) {
            Ok(statements) => {
                for statement in &statements {
                    self.apply(ctx, statement)?;
                }
                Ok(())
            }
            Err(parse_error) => self.read_unparsed(ctx, &parse_error.to_string()),
        }
    }

    /// A statement sqlparser rejected: our recogniser's forms, a multi-action `ALTER TABLE`
    /// read action by action, a statement that cannot matter, or an error.
    fn read_unparsed(&mut self, ctx: &Ctx<'_>, parse_error: &str) -> Applied {
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

    /// A `DO` block: its statements are applied as PL/pgSQL would run them, taking the
    /// branch of each `IF` whose existence test holds on the catalog read so far, and
    /// undoing a block with an `EXCEPTION` handler when one of its statements fails.
    fn read_do_block(&mut self, ctx: &Ctx<'_>, body_offset: usize, body: &str) -> Applied {
        let block = plpgsql::parse_body(body).map_err(|(offset, message)| {
            ctx.error_at(
                body_offset + offset,
                format!("cannot read this DO block: {message}"),
            )
            .with_help(DO_BLOCK_HELP)
        })?;
        self.apply_block(ctx.file, ctx.offset + body_offset, &block)
    }

    fn apply_block(&mut self, file: &SourceFile, base: usize, block: &plpgsql::Block) -> Applied {
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

    fn apply_items(&mut self, file: &SourceFile, base: usize, items: &[plpgsql::Item]) -> Applied {
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
    fn condition_holds(&self, condition: &str) -> Option<bool> {
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
    fn exists(&self, test: plpgsql::Existence) -> bool {
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

    /// `ALTER TABLE name a, b, c` that sqlparser rejected as a whole: each action is parsed
    /// on its own, so that one action sqlparser lacks (`ALTER CONSTRAINT ...`) does not hide
    /// the others. Actions that cannot change the write model are skipped.
    fn read_alter_actions(&mut self, ctx: &Ctx<'_>, head: &recognise::AlterTableHead) -> Applied {
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

    // ----- statements sqlparser parsed -----

    fn apply(&mut self, ctx: &Ctx<'_>, statement: &Statement) -> Applied {
        match statement {
            Statement::CreateTable(create) => self.create_table(ctx, create),
            Statement::AlterTable(alter) => {
                let parts = name_parts(ctx, &alter.name)?;
                if self.names_view_or_sequence(&parts) {
                    // `ALTER TABLE` also alters views and sequences (pg_dump's `OWNER TO`);
                    // a view's rename moves its name.
                    if let Some(view) = self.resolve_view(&parts) {
                        for operation in &alter.operations {
                            if let AlterTableOperation::RenameTable { table_name } = operation {
                                let (RenameTableNameKind::As(new_name)
                                | RenameTableNameKind::To(new_name)) = table_name;
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
            Statement::CreateDomain(domain) => {
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
            } => {
                let name = match schema_name {
                    SchemaName::Simple(name) | SchemaName::NamedAuthorization(name, _) => {
                        last_part(name).ok_or_else(|| ctx.error_at(0, "missing schema name"))?
                    }
                    SchemaName::UnnamedAuthorization(role) => fold_ident(role),
                };
                if self.catalog.schemas.contains(&name) {
                    if *if_not_exists {
                        return Ok(());
                    }
                    return Err(ctx.error_at(0, format!("schema `{name}` already exists")));
                }
                self.catalog.schemas.push(name);
                Ok(())
            }
            Statement::CreateSequence {
                name,
                if_not_exists,
                owned_by,
                temporary,
                ..
            } => {
                if *temporary {
                    return Ok(());
                }
                let parts = name_parts(ctx, name)?;
                let owned = owned_by.as_ref().map(|o| name_parts(ctx, o)).transpose()?;
                self.apply_recognised(
                    ctx,
                    0,
                    Recognised::CreateSequence {
                        name: parts,
                        if_not_exists: *if_not_exists,
                        owned_by: owned,
                    },
                )
            }
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
            Statement::Query(query) => {
                // `SELECT ... INTO [TEMP] new_table FROM ...` creates a table, as CREATE TABLE AS.
                if let SetExpr::Select(select) = query.body.as_ref() {
                    if let Some(into) = &select.into {
                        let target = match into.targets.as_slice() {
                            [Expr::Identifier(ident)] => vec![ident.clone()],
                            [Expr::CompoundIdentifier(idents)] => idents.clone(),
                            _ => {
                                return Err(ctx
                                    .error_at(0, "cannot read the table name of SELECT ... INTO")
                                    .with_help(
                                        "name one table: SELECT ... INTO new_table FROM ...",
                                    ))
                            }
                        };
                        let target = ObjectName(
                            target.into_iter().map(ObjectNamePart::Identifier).collect(),
                        );
                        let into_name = &target;
                        if into.temporary {
                            let parts = name_parts(ctx, into_name)?;
                            let name = QualifiedName::new(
                                TEMP_SCHEMA,
                                parts.last().cloned().unwrap_or_default(),
                            );
                            if !self.views.contains(&name) {
                                self.views.push(name);
                            }
                            return Ok(());
                        }
                        let name = self.qualify_new(ctx, into_name)?;
                        if self.relation_taken(&name.schema, &name.name) {
                            return Err(ctx
                                .error_at_name(
                                    into_name,
                                    format!("relation `{name}` already exists"),
                                )
                                .with_help("drop it first, or select into another name"));
                        }
                        let mut without_into = query.as_ref().clone();
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
            // Everything else cannot change the write model: functions, views, triggers,
            // grants, ownership, transactions, data.
            _ => Ok(()),
        }
    }

    fn apply_set(&mut self, set: &Set) {
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

    // ----- names -----

    /// The schema new unqualified objects go into: the first schema of the search path that
    /// exists, as in PostgreSQL.
    fn creation_schema(&self, ctx: &Ctx<'_>, offset: usize) -> Result<String, Diagnostic> {
        self.search_path.iter().find(|s| self.catalog.schemas.contains(s)).cloned().ok_or_else(|| {
            ctx.error_at(offset, "no schema has been selected to create in")
                .with_help("qualify the name (`public.orders`), or set `search_path` to an existing schema first")
        })
    }

    /// The full name of an object about to be created.
    fn qualify_new(&self, ctx: &Ctx<'_>, name: &ObjectName) -> Result<QualifiedName, Diagnostic> {
        let parts = name_parts(ctx, name)?;
        let offset = offset_of_location(ctx.text, name.span().start);
        self.qualify_new_parts(ctx, offset, &parts)
    }

    fn qualify_new_parts(
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
    fn candidates(&self, parts: &[String]) -> Vec<QualifiedName> {
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
    fn resolve_table(
        &self,
        ctx: &Ctx<'_>,
        name: &ObjectName,
        if_exists: bool,
    ) -> Result<Option<QualifiedName>, Diagnostic> {
        let parts = name_parts(ctx, name)?;
        let offset = offset_of_location(ctx.text, name.span().start);
        self.resolve_table_parts(ctx, offset, &parts, if_exists)
    }

    fn resolve_table_parts(
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

    fn missing_table_help(&self, parts: &[String]) -> String {
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
    fn names_view_or_sequence(&self, parts: &[String]) -> bool {
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
    fn rename_view(&mut self, view: &QualifiedName, new_name: &str) {
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
    fn resolve_view(&self, parts: &[String]) -> Option<QualifiedName> {
        self.candidates(parts)
            .into_iter()
            .find(|c| self.catalog.table(c).is_some() || self.views.contains(c))
            .filter(|c| self.views.contains(c))
    }

    fn resolve_index(&self, parts: &[String]) -> Option<usize> {
        self.candidates(parts)
            .into_iter()
            .find_map(|c| self.indexes.iter().position(|i| i.name == c))
    }

    fn relation_taken(&self, schema: &str, name: &str) -> bool {
        let is = |q: &QualifiedName| q.schema == schema && q.name == name;
        self.catalog.tables.iter().any(|t| is(&t.name))
            || self.indexes.iter().any(|i| is(&i.name))
            || self.catalog.sequences.iter().any(|s| is(&s.name))
            || self.views.iter().any(is)
    }

    fn constraint_taken(&self, table: &QualifiedName, name: &str) -> bool {
        self.catalog.table(table).is_some_and(|t| {
            t.primary_key_name.as_deref() == Some(name)
                || t.uniques.iter().any(|u| u.name == name && u.is_constraint)
                || t.foreign_keys.iter().any(|f| f.name == name)
        }) || self
            .other_constraints
            .iter()
            .any(|(t, n)| t == table && n == name)
    }

    // ----- types -----

    fn ensure_type_name_free(
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

    /// A default as PostgreSQL stores it when the DDL runs, so that generated SQL means
    /// the same whatever the caller's `search_path`: type names in casts are qualified, and
    /// a default of an enum column is cast to that (qualified) enum.
    fn resolve_default(&self, expr: &Expr, target: &SqlType) -> String {
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

    /// The catalog type of a written type, or None when it does not resolve.
    fn resolve_written_quietly(&self, written: &WrittenType) -> Option<SqlType> {
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

    /// Qualifies the user types named in the casts of an expression.
    fn qualify_casts(&self, expr: &mut Expr) {
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
    fn rename_label_in_defaults(&mut self, enum_name: &QualifiedName, from: &str, to: &str) {
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
    fn is_plain_type(&self, ty: &SqlType) -> bool {
        plain_builtin_or_enum(ty, &self.catalog)
    }

    fn type_exists(&self, name: &QualifiedName) -> bool {
        self.catalog.enum_type(name).is_some()
            || self.catalog.domain(name).is_some()
            || self.other_types.contains(name)
    }

    /// Resolves a column or domain type; `owner` names the thing the type belongs to, for
    /// messages.
    fn resolve_type(
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

    fn resolve_written(
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

    fn create_type(
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

    fn alter_type(
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

    fn rename_type(&mut self, old: &QualifiedName, new: QualifiedName) {
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

    fn drop_type(
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

    fn create_extension(&mut self, name: &str, schema: &str) {
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

    // ----- tables -----

    fn create_table(&mut self, ctx: &Ctx<'_>, create: &CreateTable) -> Applied {
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
        if let Some(parent) = &create.partition_of {
            let Some(parent_name) = self.resolve_table(ctx, parent, false)? else {
                return Ok(());
            };
            let Some(parent_table) = self.catalog.table(&parent_name) else {
                return Ok(());
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
        for def in &create.columns {
            let generation = def.options.iter().find_map(|o| match &o.option {
                ColumnOption::Generated {
                    generation_expr: Some(expr),
                    ..
                } => Some(expr),
                _ => None,
            });
            let Some(expr) = generation else { continue };
            let used = referenced_columns(&table, &expr.to_string());
            if let Some(generated) = used
                .iter()
                .find(|c| table.column(c).is_some_and(|c| c.generated.is_some()))
            {
                return Err(ctx
                    .error_at_ident(
                        &def.name,
                        format!(
                            "generated column `{}` of `{name}` uses generated column `{generated}`",
                            fold_ident(&def.name)
                        ),
                    )
                    .with_help(
                        "a generation expression can use only ordinary columns; compute it from those",
                    ));
            }
        }
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

    /// `CREATE TABLE name [(columns)] AS query` and `SELECT ... INTO name`: a table of the
    /// query's columns, all nullable and without defaults, as PostgreSQL makes it. When a
    /// column cannot be typed, the table is remembered without columns and the error is
    /// reported only if the table is still there at the end (histories often build such
    /// tables from views, then drop them).
    fn create_table_as(
        &mut self,
        ctx: &Ctx<'_>,
        at: &ObjectName,
        name: QualifiedName,
        query: &sqlparser::ast::Query,
        column_names: &[String],
    ) -> Applied {
        let env = ReaderEnv { reader: self, ctx };
        let typed = super::select_type::query_columns(&env, query);
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

    /// The sequence a new serial or identity column of `table` owns: named by the identity's
    /// `SEQUENCE NAME` option (`given`; unqualified means the table's schema), or else the
    /// name PostgreSQL chooses (`table_column_seq`, numbered past names in use). `offset`
    /// is where errors point.
    fn owned_sequence(
        &self,
        ctx: &Ctx<'_>,
        offset: usize,
        table: &QualifiedName,
        column: &str,
        identity: bool,
        given: Option<Vec<String>>,
    ) -> Result<Sequence, Diagnostic> {
        let name = match given {
            None => QualifiedName::new(
                table.schema.clone(),
                choose_name(&table.name, Some(column), "seq", |n| {
                    self.relation_taken(&table.schema, n)
                }),
            ),
            Some(parts) => {
                let name = match parts.as_slice() {
                    [name] => QualifiedName::new(table.schema.clone(), name.clone()),
                    [schema, name] => QualifiedName::new(schema.clone(), name.clone()),
                    _ => {
                        return Err(ctx
                            .error_at(
                                offset,
                                format!("improper sequence name `{}`", parts.join(".")),
                            )
                            .with_help("write SEQUENCE NAME name or SEQUENCE NAME schema.name"))
                    }
                };
                if name.schema != table.schema {
                    // PostgreSQL looks for the owning table in the sequence's schema.
                    return Err(ctx
                        .error_at(
                            offset,
                            format!(
                                "identity sequence `{name}` of `{table}` is not in the table's schema"
                            ),
                        )
                        .with_help(format!(
                            "PostgreSQL makes it owned by a table `{}` of schema `{}`; name the sequence in schema `{}`, or leave the schema out",
                            table.name, name.schema, table.schema
                        )));
                }
                if self.relation_taken(&name.schema, &name.name) {
                    return Err(ctx
                        .error_at(offset, format!("relation `{name}` already exists"))
                        .with_help("give the identity sequence another SEQUENCE NAME"));
                }
                name
            }
        };
        Ok(Sequence {
            name,
            owned_by: Some((table.clone(), column.to_owned())),
            identity,
        })
    }

    /// A column from its definition, and the sequence it owns when it is serial or identity
    /// (to be added once the column is); constraints written on the column are queued in
    /// `pending`, to be applied once the table exists (they may reference it).
    fn column_from_def(
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

    fn apply_pending(
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

    fn add_constraint(
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

    fn add_primary_key(
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

    fn add_unique(
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
    fn propagate_keys(&mut self, table: &QualifiedName) {
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
    fn inherit_keys(&mut self, parent: &QualifiedName, child: &QualifiedName) {
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

    fn register_index(
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

    /// The folded names of key columns, each checked to exist in the table, none twice.
    fn check_key_columns(
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

    fn add_foreign_key(
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

    /// One `ALTER TABLE` action. Returns the table's new name when the action renamed it.
    fn alter_table(
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
            } => {
                let name = fold_ident(&column_def.name);
                if self
                    .catalog
                    .table(table)
                    .is_some_and(|t| t.column(&name).is_some())
                {
                    if *if_not_exists {
                        return Ok(None);
                    }
                    return Err(ctx
                        .error_at_ident(
                            &column_def.name,
                            format!("column `{name}` of `{table}` already exists"),
                        )
                        .with_help("use ADD COLUMN IF NOT EXISTS, or pick another name"));
                }
                let mut pending = Vec::new();
                let (column, sequence) =
                    self.column_from_def(ctx, table, column_def, &mut pending)?;
                self.add_column_everywhere(table, column);
                self.catalog.sequences.extend(sequence);
                self.apply_pending(ctx, table, pending)?;
            }
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
                let name = fold_ident(column_name);
                let Some(t) = self.catalog.table(table) else {
                    return Ok(None);
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
                        return Ok(None);
                    }
                }
                self.update_column_everywhere(table, column);
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

    fn missing_column(
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
    fn add_column_everywhere(&mut self, table: &QualifiedName, column: Column) {
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

    fn update_column_everywhere(&mut self, table: &QualifiedName, column: Column) {
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

    fn drop_column(
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
    fn remove_column(&mut self, table: &QualifiedName, column: &str) {
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

    fn rename_column(&mut self, table: &QualifiedName, old: &str, new: &str) {
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

    fn rename_table(&mut self, old: &QualifiedName, new: QualifiedName) {
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

    fn drop_constraint(
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
    fn drop_partition_copies(&mut self, parent: &Table, name: &str) {
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

    fn rename_constraint(&mut self, table: &QualifiedName, old: &str, new: &str) {
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

    // ----- indexes -----

    fn create_index(&mut self, ctx: &Ctx<'_>, create: &CreateIndex) -> Applied {
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

    fn drop_index(
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

    fn rename_index(
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

    // ----- drops, comments -----

    fn drop_object(
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

    fn drop_table(
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

    fn comment(
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

    // ----- forms sqlparser cannot parse -----

    fn apply_recognised(
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
            } => {
                if !self.catalog.schemas.contains(&schema) {
                    return Err(ctx.error_at(offset, format!("schema `{schema}` does not exist")));
                }
                match kind {
                    recognise::ObjectKind::Sequence => {
                        let Some(sequence) = self.resolve_sequence(&name) else {
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
                            .candidates(&name)
                            .into_iter()
                            .find(|c| self.type_exists(c))
                        else {
                            if if_exists {
                                return Ok(());
                            }
                            return Err(ctx.error_at(
                                offset,
                                format!("type `{}` does not exist", name.join(".")),
                            ));
                        };
                        let moved = QualifiedName::new(schema, found.name.clone());
                        self.rename_type(&found, moved);
                        Ok(())
                    }
                }
            }
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

    fn alter_domain(
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

    /// Renames or moves a sequence. Defaults that call `nextval` on it follow, as they do in
    /// PostgreSQL, which stores the sequence itself rather than its name.
    fn rename_sequence(&mut self, old: &QualifiedName, new: QualifiedName) {
        let old_sql = old.to_sql();
        let retarget = |default: &mut Option<String>| {
            if default.as_deref().and_then(nextval_target).as_deref() == Some(old_sql.as_str()) {
                *default = Some(Sequence::nextval_sql(&new));
            }
        };
        for table in &mut self.catalog.tables {
            for column in &mut table.columns {
                retarget(&mut column.default);
            }
        }
        for domain in &mut self.catalog.domains {
            retarget(&mut domain.default);
        }
        for s in self.catalog.sequences.iter_mut().filter(|s| &s.name == old) {
            s.name = new.clone();
        }
    }

    fn resolve_sequence(&self, parts: &[String]) -> Option<QualifiedName> {
        self.candidates(parts)
            .into_iter()
            .find(|c| self.catalog.sequences.iter().any(|s| &s.name == c))
    }

    fn set_sequence_owner(
        &mut self,
        ctx: &Ctx<'_>,
        offset: usize,
        sequence: &QualifiedName,
        owner: Option<Vec<String>>,
    ) -> Applied {
        if let Some((table, _)) = self
            .catalog
            .sequences
            .iter()
            .find(|s| &s.name == sequence && s.identity)
            .and_then(|s| s.owned_by.as_ref())
        {
            return Err(ctx.error_at(
                offset,
                format!("cannot change ownership of identity sequence `{sequence}`: it belongs to `{table}`"),
            ));
        }
        let owned_by = match owner {
            None => None,
            Some(mut parts) => {
                let Some(column) = parts.pop() else {
                    return Ok(());
                };
                let Some(table) = self.resolve_table_parts(ctx, offset, &parts, false)? else {
                    return Ok(());
                };
                if self
                    .catalog
                    .table(&table)
                    .is_none_or(|t| t.column(&column).is_none())
                {
                    return Err(ctx.error_at(
                        offset,
                        format!("column `{column}` of `{table}` does not exist"),
                    ));
                }
                Some((table, column))
            }
        };
        for s in self
            .catalog
            .sequences
            .iter_mut()
            .filter(|s| &s.name == sequence)
        {
            s.owned_by = owned_by.clone();
        }
        Ok(())
    }

    /// An `ALTER TABLE` action that only our recogniser reads.
    fn apply_table_action(
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
}

/// A constraint written inside CREATE TABLE or ADD COLUMN, applied once the table exists.
enum PendingConstraint {
    ColumnPrimaryKey { column: Ident, name: Option<Ident> },
    ColumnUnique { column: Ident, name: Option<Ident> },
    Table(TableConstraint),
}

/// The plain key columns of a pending primary key or unique constraint without options
/// that tell two such keys apart (INCLUDE, NULLS NOT DISTINCT, DEFERRABLE, operator
/// classes); `None` for other constraints.
fn pending_key_columns(constraint: &PendingConstraint) -> Option<Vec<String>> {
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

/// A label an `ALTER TYPE` names is not one of the enum's, pointed at where it is written.
fn missing_label(
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

/// The sequence name in `nextval('public.orders_id_seq'::regclass)` (our serial defaults,
/// and pg_dump's `::REGCLASS` as sqlparser prints it), unquoted from the string literal.
fn nextval_target(default: &str) -> Option<String> {
    let prefix = "nextval('";
    let suffix = "'::regclass)";
    let head = default.get(..prefix.len())?;
    let tail = default.get(default.len().checked_sub(suffix.len())?..)?;
    if !head.eq_ignore_ascii_case(prefix) || !tail.eq_ignore_ascii_case(suffix) {
        return None;
    }
    let literal = default.get(prefix.len()..default.len() - suffix.len())?;
    // A lone quote would end the literal: this is some other expression.
    if literal.replace("''", "").contains('\'') {
        return None;
    }
    Some(literal.replace("''", "'"))
}

fn identity_of(kind: IdentityKind) -> Identity {
    match kind {
        IdentityKind::Always => Identity::Always,
        IdentityKind::ByDefault => Identity::ByDefault,
    }
}

fn fk_action(action: Option<ReferentialAction>) -> FkAction {
    match action {
        None | Some(ReferentialAction::NoAction) => FkAction::NoAction,
        Some(ReferentialAction::Restrict) => FkAction::Restrict,
        Some(ReferentialAction::Cascade) => FkAction::Cascade,
        Some(ReferentialAction::SetNull) => FkAction::SetNull,
        Some(ReferentialAction::SetDefault) => FkAction::SetDefault,
    }
}

fn column_list(table: &Table) -> String {
    table
        .columns
        .iter()
        .map(|c| c.name.as_str())
        .collect::<Vec<_>>()
        .join(", ")
}

/// The folded parts of a name (`public.orders` → `["public", "orders"]`).
fn name_parts(ctx: &Ctx<'_>, name: &ObjectName) -> Result<Vec<String>, Diagnostic> {
    name.0
        .iter()
        .map(|part| match part {
            ObjectNamePart::Identifier(ident) => Ok(fold_ident(ident)),
            other => Err(ctx.error_at_name(name, format!("`{other}` is not a name"))),
        })
        .collect()
}

fn last_part(name: &ObjectName) -> Option<String> {
    name.0
        .last()
        .and_then(ObjectNamePart::as_ident)
        .map(fold_ident)
}

/// Key columns of a PRIMARY KEY or UNIQUE constraint: plain column names only.
fn index_columns(
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

/// `NULL`, `(NULL)` or `NULL::type` as the default of a column (or domain) of type
/// `target`: PostgreSQL stores no default when the expression stays a plain null constant,
/// that is when neither the cast nor the target applies a type modifier (a length coercion
/// function) or a domain (`CoerceToDomain`). `is_plain` tells whether a type is one without
/// either.
fn is_null_default(expr: &Expr, target: &SqlType, is_plain: &dyn Fn(&SqlType) -> bool) -> bool {
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
fn qualified_type_sql(ty: &SqlType) -> String {
    qualified_data_type(ty).to_string()
}

/// A catalog type as a sqlparser type whose name is schema-qualified and quoted.
fn qualified_data_type(ty: &SqlType) -> DataType {
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
fn plain_builtin_or_enum(ty: &SqlType, catalog: &Catalog) -> bool {
    match &ty.base {
        BaseType::Builtin { modifiers, .. } => modifiers.is_empty(),
        BaseType::User { name, modifiers } => {
            modifiers.is_empty() && (ty.array || catalog.domain(name).is_none())
        }
    }
}

/// [`is_null_default`] for a default's text.
fn is_null_text(text: &str, target: &SqlType, is_plain: &dyn Fn(&SqlType) -> bool) -> bool {
    Parser::new(&PostgresDialect::default())
        .try_with_sql(text)
        .and_then(|mut p| p.parse_expr())
        .is_ok_and(|e| is_null_default(&e, target, is_plain))
}

/// The distinct columns of `table` that an expression's text names, in first-use order.
fn referenced_columns(table: &Table, expression: &str) -> Vec<String> {
    let mut found: Vec<String> = Vec::new();
    for token in super::lexer::Lexer::new(expression).filter_map(Result::ok) {
        let word = token.text(expression);
        let name = match token.kind {
            super::lexer::TokenKind::Word => word.to_ascii_lowercase(),
            super::lexer::TokenKind::QuotedIdent => super::lexer::unquote_identifier(word),
            _ => continue,
        };
        if table.column(&name).is_some() && !found.contains(&name) {
            found.push(name);
        }
    }
    found
}

/// The names PostgreSQL gives an index's columns, key columns then `INCLUDE` columns, for
/// the index's generated name.
fn index_column_names(columns: &[sqlparser::ast::IndexColumn], include: &[Ident]) -> Vec<String> {
    let include: Vec<Expr> = include.iter().cloned().map(Expr::Identifier).collect();
    let exprs: Vec<&Expr> = columns
        .iter()
        .map(|c| &c.column.expr)
        .chain(include.iter())
        .collect();
    super::naming::index_column_names(&exprs)
}

/// `pg_catalog.set_config('search_path', 'a, b', false)` → `a, b`.
fn set_config_search_path(expr: &Expr) -> Option<String> {
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
fn parse_search_path_list(text: &str) -> Vec<String> {
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

/// `CREATE DOMAIN ... NOT NULL`: sqlparser drops the domain's NOT NULL, so look for it at
/// the top level of the statement.
fn domain_has_not_null(text: &str) -> bool {
    let words = super::lexer::top_level_words(text);
    words
        .windows(2)
        .any(|w| w[0].eq_ignore_ascii_case("not") && w[1].eq_ignore_ascii_case("null"))
}

/// `CREATE DOMAIN ...` with its top-level `[CONSTRAINT name] [NOT] NULL` constraints blanked
/// out (same length, so offsets stay right); `None` for any other statement.
fn domain_without_null_constraints(text: &str) -> Option<String> {
    use super::lexer::{Lexer, Token, TokenKind};
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

/// `CREATE [UNIQUE] INDEX ... ON ONLY t ...` with `ONLY` blanked out (same length, so every
/// offset stays right); `None` for any other statement.
fn index_on_only_as_plain(text: &str) -> Option<String> {
    let words = super::lexer::top_level_words(text);
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
    let tokens: Vec<super::lexer::Token> = super::lexer::Lexer::new(text)
        .filter_map(Result::ok)
        .filter(|t| t.kind != super::lexer::TokenKind::Comment)
        .collect();
    let word = |t: &super::lexer::Token, w: &str| {
        t.kind == super::lexer::TokenKind::Word && text[t.start..t.end].eq_ignore_ascii_case(w)
    };
    let only = tokens
        .windows(2)
        .find(|pair| word(&pair[0], "on") && word(&pair[1], "only"))?;
    let mut out = text.to_owned();
    out.replace_range(only[1].start..only[1].end, "    ");
    Some(out)
}

/// Whether a statement sqlparser could not read may change tables, types, constraints or
/// indexes (and so must not be skipped).
fn may_change_write_model(text: &str) -> bool {
    let words: Vec<String> = super::lexer::top_level_words(text)
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
