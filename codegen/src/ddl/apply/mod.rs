//! Applies statements to the catalog, one at a time and in order, the way PostgreSQL would:
//! a statement sees exactly what the statements before it built, and a reference to
//! something that does not exist yet is an error at that statement.
//!
//! [`Reader`] is one type whose `impl` is split by the kind of object a statement handles,
//! one file each: [`names`] (resolving and taking names), [`types`] (enums, domains,
//! composite and extension types), [`tables`], [`columns`], [`constraints`] (keys and their
//! passing to partitions), [`indexes`], [`sequences`], [`alter`] (`ALTER TABLE`'s actions),
//! [`functions`] (the schema's routines), [`statements`] (dispatch of what sqlparser parsed, and the small statements), [`recognised`]
//! (the forms sqlparser cannot parse) and [`do_blocks`]. This file holds the reader's state,
//! the statement loop and the position of a message within a statement.

mod alter;
mod columns;
mod constraints;
mod do_blocks;
mod functions;
mod indexes;
mod names;
mod recognised;
mod sequences;
mod statements;
mod tables;
mod types;

use sqlparser::ast::{DataType, Ident, ObjectName, Spanned};
use sqlparser::parser::Parser;
use sqlparser::tokenizer::Location as SqlLocation;

use super::dialect::PostgresDialect;
use super::recognise;
use super::split;
use super::sql_type;
use crate::catalog::{Catalog, QualifiedName, SqlType};
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
    /// The schema's own routines and their input argument counts, so that defaults calling
    /// them are qualified as PostgreSQL stores them.
    functions: Vec<(QualifiedName, usize)>,
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
            functions: Vec::new(),
            errors: Vec::new(),
        }
    }
}

type Applied = Result<(), Diagnostic>;

impl Reader {
    /// Copies the names of CHECK constraints into their tables ([`Table::checks`]): the
    /// constraints kept by name that are not EXCLUDE (those have an index of their name).
    ///
    /// [`Table::checks`]: crate::catalog::Table::checks
    fn record_checks(&mut self) {
        for (table, name) in &self.other_constraints {
            let exclude = self
                .indexes
                .iter()
                .any(|i| &i.table == table && i.name.name == *name);
            if exclude {
                continue;
            }
            if let Some(t) = self.catalog.table_mut(table) {
                if !t.checks.contains(name) {
                    t.checks.push(name.clone());
                }
            }
        }
        for table in &mut self.catalog.tables {
            table.checks.sort();
        }
    }

    /// Reads every file in order and returns the catalog, or every error found.
    pub fn read_files(mut self, files: &[SourceFile]) -> Result<Catalog, Error> {
        // Every error is collected (rendering shows the first ones and counts the rest).
        for file in files {
            self.read_file(file);
        }
        self.record_checks();
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
}
