//! `graphs.toml`: per-table settings (upsert conflict targets, struct names), SQL type →
//! Rust type mappings, and the named insert and update graphs. Every name that refers to
//! something keeps its span (`toml::Spanned`), so later stages point at the exact line, and
//! unknown keys are rejected so that a typo never passes silently.

use std::collections::BTreeMap;

use serde::Deserialize;
use toml::Spanned;

use crate::error::{ConfigError, Diagnostic};
use crate::source::SourceFile;

/// The parsed `graphs.toml`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GraphsConfig {
    /// `[tables.<name>]`: per-table settings; `<name>` is `table` or `schema.table`.
    #[serde(default)]
    pub tables: BTreeMap<Spanned<String>, TableConfig>,
    /// `[types]`: SQL type name → Rust type path, for types writegraph does not map itself
    /// (`citext = "String"`). Values are sent as text and cast to the column's type.
    #[serde(default)]
    pub types: BTreeMap<Spanned<String>, Spanned<String>>,
    /// `[insert.<Graph>]`: insert graphs.
    #[serde(default)]
    pub insert: BTreeMap<Spanned<String>, toml::Table>,
    /// `[update.<Graph>]`: update graphs.
    #[serde(default)]
    pub update: BTreeMap<Spanned<String>, toml::Table>,
}

/// `[tables.<name>]`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TableConfig {
    /// Columns of the unique key `upsert` conflicts on (`ON CONFLICT (a, b)`); default: the
    /// primary key. Exclusive with `conflict_constraint`.
    pub conflict_target: Option<Spanned<Vec<Spanned<String>>>>,
    /// Name of the unique constraint `upsert` conflicts on (`ON CONFLICT ON CONSTRAINT c`).
    pub conflict_constraint: Option<Spanned<String>>,
    /// Columns an upsert updates on conflict; default: every insertable column except the
    /// conflict key, the primary key and sequence-filled columns.
    pub conflict_update: Option<Spanned<Vec<Spanned<String>>>>,
    /// The Rust name of the row struct (`OrderLine`), when the singular of the table name is
    /// not what you want or clashes with another name.
    pub rust_name: Option<Spanned<String>>,
}

/// Parses `graphs.toml`; a syntax error or unknown key points at its line and column.
pub fn parse(file: &SourceFile) -> Result<GraphsConfig, ConfigError> {
    toml::from_str(&file.text).map_err(|e| {
        let offset = e.span().map_or(0, |s| s.start);
        Diagnostic::at(
            &file.path,
            &file.text,
            offset,
            e.message().trim_end_matches('\n').to_owned(),
        )
        .with_help("see the graphs.toml reference in README.md")
        .into()
    })
}

/// A diagnostic at a spanned value of `graphs.toml`.
pub fn error_at<T>(
    file: &SourceFile,
    spanned: &Spanned<T>,
    message: impl Into<String>,
) -> Diagnostic {
    Diagnostic::at(&file.path, &file.text, spanned.span().start, message)
}
