//! The code generated from the test schemas, for the tests of this package (`tests/*.rs`).
//! `build.rs` generates each module from its schema; the example application's own schema is
//! in `writegraph-example`.

/// Identifiers that must be quoted: `codegen/tests/schemas/awkward.sql`.
pub mod awkward {
    include!(concat!(env!("OUT_DIR"), "/awkward.rs"));
}

/// Every column type writegraph maps: `tests/schemas/types.sql`.
pub mod types {
    include!(concat!(env!("OUT_DIR"), "/types.rs"));
}

/// Names Rust cannot use as they are: `tests/schemas/names.sql`. The generated code builds
/// with every warning denied.
#[deny(warnings)]
pub mod names {
    include!(concat!(env!("OUT_DIR"), "/names.rs"));
}

/// Columns with defaults and nullable columns, in tables and graphs:
/// `tests/schemas/optional.sql` with the graphs of `tests/schemas/optional.toml`.
pub mod optional {
    include!(concat!(env!("OUT_DIR"), "/optional.rs"));
}

/// Columns a trigger fills and constraints under PostgreSQL's names:
/// `tests/schemas/articles.sql` with the graphs of `tests/schemas/articles.toml`.
pub mod articles {
    include!(concat!(env!("OUT_DIR"), "/articles.rs"));
}

/// Date and time columns as the time crate's types (`[crates] datetime = "time"`):
/// `tests/schemas/datetimes.sql` with `tests/schemas/time_crate.toml`.
pub mod time_crate {
    include!(concat!(env!("OUT_DIR"), "/time_crate.rs"));
}

/// Date and time columns as jiff's types (`Builder::datetime_crate`):
/// `tests/schemas/datetimes.sql`.
pub mod jiff_crate {
    include!(concat!(env!("OUT_DIR"), "/jiff_crate.rs"));
}

/// Graphs of several levels: `tests/schemas/nested.sql` with the graphs of
/// `tests/schemas/nested.toml`.
pub mod nested {
    include!(concat!(env!("OUT_DIR"), "/nested.rs"));
}

/// Parents found or created below the root, parents of parents, and rows linked through a
/// join table: `tests/schemas/links.sql` with the graphs of `tests/schemas/links.toml`.
pub mod links {
    include!(concat!(env!("OUT_DIR"), "/links.rs"));
}

/// Columns given Rust types of the application's (`column_types`):
/// `tests/schemas/typed_json.sql` with `tests/schemas/typed_json.toml`.
pub mod typed_json {
    include!(concat!(env!("OUT_DIR"), "/typed_json.rs"));
}

/// The `settings` column of `profiles` (`tests/schemas/typed_json.sql`), as JSON.
pub type Settings = writegraph::types::JsonOf<ProfileSettings>;

/// The `extra` column of `profiles`, as JSON.
pub type Extra = writegraph::types::JsonOf<std::collections::BTreeMap<String, i64>>;

/// A profile's settings, stored as `jsonb`.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct ProfileSettings {
    /// The colour theme.
    pub theme: String,
    /// Whether a daily digest is sent.
    pub digest: bool,
}
