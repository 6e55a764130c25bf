//! Reading SQL DDL into a [`Catalog`]. The only module that imports `sqlparser`.
//!
//! A file is split into statements by our own splitter ([`split`]), so that one statement
//! sqlparser cannot parse never loses the rest of the file. Each statement is parsed with
//! sqlparser's PostgreSQL dialect (plus PostgreSQL 18 syntax, [`dialect`]) and applied to the
//! catalog in order (`apply`); the few forms sqlparser lacks are read by [`recognise`].
//! Statements that cannot change the write model (functions, views, grants, ...) are skipped;
//! a statement that could change it and cannot be read is an error at its position.

mod apply;
pub mod condition;
pub mod dialect;
pub mod lexer;
pub mod naming;
pub mod plpgsql;
pub mod recognise;
mod select_type;
pub mod split;
mod sql_type;

use sqlparser::ast::Ident;

use crate::catalog::Catalog;
use crate::error::Error;
use crate::source::SourceFile;

/// Reads the files of a schema source, in order, into a catalog.
pub fn read_schema(files: &[SourceFile]) -> Result<Catalog, Error> {
    apply::Reader::default().read_files(files)
}

/// An identifier as PostgreSQL stores it: unquoted names fold to lowercase, quoted names
/// keep their case, and both are truncated to 63 bytes.
fn fold_ident(ident: &Ident) -> String {
    let folded = if ident.quote_style.is_some() {
        ident.value.clone()
    } else {
        ident.value.to_ascii_lowercase()
    };
    naming::truncate_identifier(&folded)
}
