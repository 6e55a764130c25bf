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

/// A type the server resolves, bound natively (`bind = "native"`):
/// `tests/schemas/native_types.sql` with `tests/schemas/native_types.toml`.
pub mod native_types {
    include!(concat!(env!("OUT_DIR"), "/native_types.rs"));
}

/// A value of the enum `currency` (`tests/schemas/native_types.sql`), encoded as the server's
/// own type, as an extension crate's type encodes its own: its `ToSql` and `FromSql` accept
/// that type only, by name, whatever its OID.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Currency(pub String);

impl Currency {
    /// The currency with this code.
    pub fn new(code: &str) -> Self {
        Self(code.to_owned())
    }
}

impl tokio_postgres::types::ToSql for Currency {
    fn to_sql(
        &self,
        _: &tokio_postgres::types::Type,
        out: &mut bytes::BytesMut,
    ) -> Result<tokio_postgres::types::IsNull, Box<dyn std::error::Error + Sync + Send>> {
        out.extend_from_slice(self.0.as_bytes());
        Ok(tokio_postgres::types::IsNull::No)
    }

    fn accepts(ty: &tokio_postgres::types::Type) -> bool {
        ty.name() == "currency"
    }

    tokio_postgres::types::to_sql_checked!();
}

impl<'a> tokio_postgres::types::FromSql<'a> for Currency {
    fn from_sql(
        _: &tokio_postgres::types::Type,
        raw: &'a [u8],
    ) -> Result<Self, Box<dyn std::error::Error + Sync + Send>> {
        Ok(Self(std::str::from_utf8(raw)?.to_owned()))
    }

    fn accepts(ty: &tokio_postgres::types::Type) -> bool {
        ty.name() == "currency"
    }
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
