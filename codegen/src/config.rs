//! `graphs.toml`: the user's description of tables' upsert settings, type mappings, and the
//! named insert and update graphs. Every name that refers to something keeps its span, so
//! later stages can point at the exact line.

use std::collections::BTreeMap;

use serde::Deserialize;

use crate::error::{ConfigError, Diagnostic};
use crate::source::SourceFile;

/// The parsed `graphs.toml`. Sections are filled in by later stages of the generator; unknown
/// keys are rejected so that a typo never passes silently.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GraphsConfig {
    /// `[tables.<name>]`: per-table settings.
    #[serde(default)]
    pub tables: BTreeMap<String, toml::Table>,
    /// `[types]`: SQL type name → Rust type path.
    #[serde(default)]
    pub types: BTreeMap<String, String>,
    /// `[insert.<Graph>]`: insert graphs.
    #[serde(default)]
    pub insert: BTreeMap<String, toml::Table>,
    /// `[update.<Graph>]`: update graphs.
    #[serde(default)]
    pub update: BTreeMap<String, toml::Table>,
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
