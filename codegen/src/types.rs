//! SQL column types → Rust types, and how values of each are sent: the tokio-postgres `Type`
//! a parameter is declared with, and the SQL type a parameter is cast to.
//!
//! Enums are sent as text and cast to the enum in SQL, domains as their base type and cast
//! to the domain, so no statement needs a type OID that only the server knows, except for
//! `[types]` mappings with `bind = "native"`: declared unspecified (`SERVER`), resolved by
//! the server from the statement's cast.

use std::collections::BTreeMap;

use serde::Deserialize;

use crate::catalog::{BaseType, Catalog, QualifiedName, SqlType};
use crate::config::{TypeBind, TypeMapping};
use crate::ident;

/// How one column's values cross between Rust and PostgreSQL.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ColumnType {
    /// The Rust type of one value, without `Option` (`i64`, `Vec<String>`, `OrderStatus`).
    pub rust: String,
    /// The Rust type of a value that may be NULL... is `Option<rust>`; this is the
    /// tokio-postgres `Type` constant a parameter of one value is declared as (`INT8`).
    pub param_type: String,
    /// The tokio-postgres `Type` constant for an array of these values (`INT8_ARRAY`), for
    /// batch statements that bind one array per column.
    pub param_array_type: String,
    /// SQL type a bound parameter is declared as (`bigint`, `text`); arrays append `[]`.
    pub param_sql: String,
    /// SQL type the value is cast to before it reaches the column, when the parameter type is
    /// not already it (enums, domains, mapped types): `"public"."order_status"`.
    pub cast_to: Option<String>,
    /// Values can be compared and hashed (to reject duplicate upsert keys before sending).
    pub hashable: bool,
    /// Results carry the column as text (`::text`): enums and `[types]` mappings, whose type
    /// OIDs tokio-postgres would otherwise look up with an extra query (which fails inside a
    /// transaction a failed statement has aborted, hiding the real error).
    pub read_as_text: bool,
    /// For array columns, the element's mapping: batch statements send all rows' elements
    /// as one flat array plus each row's offset and length, because UNNEST of a
    /// two-dimensional array would flatten it.
    pub element: Option<Box<ColumnType>>,
}

/// Why a column type cannot be mapped.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnsupportedType {
    /// The type as `format_type` spells it.
    pub sql_type: String,
    /// The name to use as the key in `[types]`.
    pub key: String,
}

/// The crate whose types `date`, `time`, `timestamp` and `timestamptz` columns get
/// (`[crates] datetime` in graphs.toml, or [`Builder::datetime_crate`](crate::Builder::datetime_crate)).
/// Generated code names them through the runtime's re-export of the crate
/// (`writegraph::types::chrono`), so the runtime needs the feature of the same name.
///
/// | PostgreSQL | `chrono` | `time` | `jiff` |
/// |---|---|---|---|
/// | `date` | `NaiveDate` | `Date` | `civil::Date` |
/// | `time` | `NaiveTime` | `Time` | `civil::Time` |
/// | `timestamp` | `NaiveDateTime` | `PrimitiveDateTime` | `civil::DateTime` |
/// | `timestamptz` | `DateTime<Utc>` | `OffsetDateTime` | `Timestamp` |
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum DatetimeCrate {
    /// chrono 0.4 (the runtime's feature `chrono`).
    #[default]
    Chrono,
    /// time 0.3 (the runtime's feature `time`).
    Time,
    /// jiff 0.2 (the runtime's feature `jiff`).
    Jiff,
}

impl DatetimeCrate {
    /// The name in `graphs.toml`, which is also the runtime's feature and re-export.
    pub fn as_str(self) -> &'static str {
        match self {
            DatetimeCrate::Chrono => "chrono",
            DatetimeCrate::Time => "time",
            DatetimeCrate::Jiff => "jiff",
        }
    }

    /// The Rust types of `date`, `time`, `timestamp` and `timestamptz`.
    fn types(self) -> [&'static str; 4] {
        match self {
            DatetimeCrate::Chrono => [
                "::writegraph::types::chrono::NaiveDate",
                "::writegraph::types::chrono::NaiveTime",
                "::writegraph::types::chrono::NaiveDateTime",
                "::writegraph::types::chrono::DateTime<::writegraph::types::chrono::Utc>",
            ],
            DatetimeCrate::Time => [
                "::writegraph::types::time::Date",
                "::writegraph::types::time::Time",
                "::writegraph::types::time::PrimitiveDateTime",
                "::writegraph::types::time::OffsetDateTime",
            ],
            DatetimeCrate::Jiff => [
                "::writegraph::types::jiff::civil::Date",
                "::writegraph::types::jiff::civil::Time",
                "::writegraph::types::jiff::civil::DateTime",
                "::writegraph::types::jiff::Timestamp",
            ],
        }
    }
}

/// The crate whose type `numeric` columns get (`[crates] decimal` in graphs.toml, or
/// [`Builder::decimal_crate`](crate::Builder::decimal_crate)), named through the runtime's
/// re-export of the crate (`writegraph::types::rust_decimal`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum DecimalCrate {
    /// rust_decimal 1 (`Decimal`; the runtime's feature `rust_decimal`).
    #[default]
    RustDecimal,
}

impl DecimalCrate {
    /// The name in `graphs.toml`, which is also the runtime's feature and re-export.
    pub fn as_str(self) -> &'static str {
        match self {
            DecimalCrate::RustDecimal => "rust_decimal",
        }
    }

    /// The Rust type of `numeric`.
    fn numeric(self) -> &'static str {
        match self {
            DecimalCrate::RustDecimal => "::writegraph::types::rust_decimal::Decimal",
        }
    }
}

/// The crates that generated code takes types from, where there is a choice.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Crates {
    /// Date and time types.
    pub datetime: DatetimeCrate,
    /// The `numeric` type.
    pub decimal: DecimalCrate,
}

/// Maps column types of one catalog, with the user's `[types]` overrides (keyed by SQL type
/// name, as `format_type` spells it without modifiers, or by an unqualified user type name).
pub struct TypeMapper<'a> {
    catalog: &'a Catalog,
    overrides: BTreeMap<String, TypeMapping>,
    crates: Crates,
}

struct Scalar {
    rust: &'static str,
    param: &'static str,
    hashable: bool,
}

/// Built-in types and their Rust types.
fn builtin(name: &str, crates: Crates) -> Option<Scalar> {
    let s = |rust, param, hashable| {
        Some(Scalar {
            rust,
            param,
            hashable,
        })
    };
    let [date, time, timestamp, timestamptz] = crates.datetime.types();
    match name {
        "boolean" => s("bool", "BOOL", true),
        "smallint" => s("i16", "INT2", true),
        "integer" => s("i32", "INT4", true),
        "bigint" => s("i64", "INT8", true),
        "real" => s("f32", "FLOAT4", false),
        "double precision" => s("f64", "FLOAT8", false),
        "numeric" => s(crates.decimal.numeric(), "NUMERIC", true),
        "text" => s("::std::string::String", "TEXT", true),
        "character varying" => s("::std::string::String", "VARCHAR", true),
        "character" | "bpchar" => s("::std::string::String", "BPCHAR", true),
        "name" => s("::std::string::String", "NAME", true),
        "bytea" => s("::std::vec::Vec<u8>", "BYTEA", true),
        "uuid" => s("::writegraph::types::Uuid", "UUID", true),
        "date" => s(date, "DATE", true),
        "time without time zone" => s(time, "TIME", true),
        "timestamp without time zone" => s(timestamp, "TIMESTAMP", true),
        "timestamp with time zone" => s(timestamptz, "TIMESTAMPTZ", true),
        "interval" => s("::writegraph::types::Interval", "INTERVAL", true),
        "json" => s("::writegraph::types::Json", "JSON", false),
        "jsonb" => s("::writegraph::types::Json", "JSONB", false),
        "inet" => s("::writegraph::types::Inet", "INET", true),
        "cidr" => s("::writegraph::types::Cidr", "CIDR", true),
        "macaddr" => s("::writegraph::types::MacAddr", "MACADDR", true),
        "macaddr8" => s("::writegraph::types::MacAddr8", "MACADDR8", true),
        // Sent as `bit varying`: a cast to a bare `bit` is `bit(1)` and would cut the value,
        // where the column's own length is checked on assignment.
        "bit" | "bit varying" => s("::writegraph::types::BitVec", "VARBIT", true),
        "point" => s("::writegraph::types::Point", "POINT", false),
        "\"char\"" => s("i8", "CHAR", true),
        "oid" => s("u32", "OID", true),
        _ => None,
    }
}

impl<'a> TypeMapper<'a> {
    /// A mapper for `catalog` with `[types]` overrides and the default crates.
    pub fn new(catalog: &'a Catalog, overrides: BTreeMap<String, TypeMapping>) -> Self {
        Self::with_crates(catalog, overrides, Crates::default())
    }

    /// A mapper for `catalog` with `[types]` overrides, taking date, time and `numeric` types
    /// from `crates`.
    pub fn with_crates(
        catalog: &'a Catalog,
        overrides: BTreeMap<String, TypeMapping>,
        crates: Crates,
    ) -> Self {
        Self {
            catalog,
            overrides,
            crates,
        }
    }

    /// The Rust side of a column type.
    pub fn map(&self, sql_type: &SqlType) -> Result<ColumnType, UnsupportedType> {
        let element = self.map_element(&sql_type.base)?;
        if !sql_type.array {
            return Ok(element);
        }
        Ok(ColumnType {
            rust: format!("::std::vec::Vec<{}>", element.rust),
            param_type: element.param_array_type.clone(),
            param_array_type: element.param_array_type.clone(),
            param_sql: format!("{}[]", element.param_sql),
            cast_to: element.cast_to.as_ref().map(|c| format!("{c}[]")),
            hashable: element.hashable,
            read_as_text: element.read_as_text,
            element: Some(Box::new(element)),
        })
    }

    fn map_element(&self, base: &BaseType) -> Result<ColumnType, UnsupportedType> {
        let key = key_of(base);
        if let Some(mapping) = self.overrides.get(&key).or_else(|| match base {
            BaseType::User { name, .. } => self.overrides.get(&name.name),
            BaseType::Builtin { .. } => None,
        }) {
            if mapping.bind == TypeBind::Native {
                // The type's OID differs between databases: the parameter is declared
                // unspecified and PostgreSQL resolves it from the cast to the type itself.
                return Ok(ColumnType {
                    rust: mapping.rust.clone(),
                    param_type: "SERVER".to_owned(),
                    param_array_type: "SERVER_ARRAY".to_owned(),
                    param_sql: sql_name(base),
                    cast_to: None,
                    hashable: false,
                    read_as_text: false,
                    element: None,
                });
            }
            return Ok(ColumnType {
                rust: mapping.rust.clone(),
                param_type: "TEXT".to_owned(),
                param_array_type: "TEXT_ARRAY".to_owned(),
                param_sql: "text".to_owned(),
                cast_to: Some(sql_name(base)),
                hashable: false,
                read_as_text: true,
                element: None,
            });
        }
        match base {
            BaseType::Builtin { name, .. } => {
                let scalar = builtin(name, self.crates).ok_or_else(|| UnsupportedType {
                    sql_type: name.clone(),
                    key: key.clone(),
                })?;
                Ok(ColumnType {
                    rust: scalar.rust.to_owned(),
                    param_type: scalar.param.to_owned(),
                    param_array_type: format!("{}_ARRAY", scalar.param),
                    // A bare `character` is `character(1)` in a cast and would cut values to one
                    // letter; a bare `bit` is `bit(1)`.
                    param_sql: match name.as_str() {
                        "character" => "bpchar".to_owned(),
                        "bit" | "bit varying" => "varbit".to_owned(),
                        _ => name.clone(),
                    },
                    cast_to: None,
                    hashable: scalar.hashable,
                    read_as_text: false,
                    element: None,
                })
            }
            BaseType::User { name, .. } => {
                if self.catalog.enum_type(name).is_some() {
                    return Ok(ColumnType {
                        rust: enum_rust_name(name),
                        param_type: "TEXT".to_owned(),
                        param_array_type: "TEXT_ARRAY".to_owned(),
                        param_sql: "text".to_owned(),
                        cast_to: Some(name.to_sql_quoted()),
                        hashable: true,
                        read_as_text: true,
                        element: None,
                    });
                }
                if let Some(domain) = self.catalog.domain(name) {
                    let base = self.map(&domain.base_type).map_err(|_| UnsupportedType {
                        sql_type: format!("{} (domain over {})", name.to_sql(), domain.base_type),
                        key: name.name.clone(),
                    })?;
                    if domain.base_type.array {
                        return Err(UnsupportedType {
                            sql_type: format!(
                                "{} (domain over {})",
                                name.to_sql(),
                                domain.base_type
                            ),
                            key: name.name.clone(),
                        });
                    }
                    return Ok(ColumnType {
                        cast_to: Some(name.to_sql_quoted()),
                        ..base
                    });
                }
                Err(UnsupportedType {
                    sql_type: name.to_sql(),
                    key,
                })
            }
        }
    }
}

/// The Rust name of a generated enum.
pub fn enum_rust_name(name: &QualifiedName) -> String {
    ident::rust_type_name(&name.name)
}

/// The `[types]` key for a type: its `format_type` name, or the user type's name.
fn key_of(base: &BaseType) -> String {
    match base {
        BaseType::Builtin { name, .. } => name.clone(),
        BaseType::User { name, .. } => name.to_sql(),
    }
}

/// The type's name in SQL without modifiers, for casts.
fn sql_name(base: &BaseType) -> String {
    match base {
        BaseType::Builtin { name, .. } => name.clone(),
        BaseType::User { name, .. } => name.to_sql_quoted(),
    }
}
