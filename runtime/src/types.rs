//! Rust types for PostgreSQL column types that the generated code uses. Optional crates come
//! in through this crate's features, so generated code always names `writegraph::types::*`:
//!
//! | PostgreSQL | Rust | feature |
//! |---|---|---|
//! | `uuid` | [`Uuid`] (uuid) | `uuid` |
//! | `json`, `jsonb` | [`Json`] (serde_json::Value), or [`JsonOf<T>`] by `column_types` | `serde_json` |
//! | `numeric` | `rust_decimal::Decimal` | `rust_decimal` |
//! | `date`, `time`, `timestamp`, `timestamptz` | the types of the crate the generator was told to use (`[crates] datetime`): `chrono`, `time` or `jiff` | the crate's name |
//! | `interval` | [`Interval`] | always |
//! | `inet`, `cidr` | [`Inet`], [`Cidr`] (both [`IpNet`]: an address and its netmask length) | always |
//! | `macaddr`, `macaddr8` | [`MacAddr`], [`MacAddr8`] | always |
//! | `point` | [`Point`] | always |
//! | `bit(n)`, `bit varying(n)` | [`BitVec`] (bit-vec) | `bit-vec` |
use std::error::Error as StdError;

use bytes::{Buf, BufMut, BytesMut};
use tokio_postgres::types::{to_sql_checked, FromSql, IsNull, ToSql, Type};

mod net;
mod point;

pub use net::{Cidr, Inet, IpNet, MacAddr, MacAddr8};
pub use point::Point;

/// `bit(n)` and `bit varying(n)` values.
#[cfg(feature = "bit-vec")]
pub use bit_vec::BitVec;

/// A value that is not one of its type's: text that does not parse, a netmask longer than its
/// address.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InvalidValue {
    message: String,
}

impl InvalidValue {
    pub(crate) fn new(message: String) -> Self {
        Self { message }
    }
}

impl std::fmt::Display for InvalidValue {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)
    }
}

impl StdError for InvalidValue {}

#[cfg(feature = "uuid")]
pub use uuid::Uuid;

/// `json` and `jsonb` values.
#[cfg(feature = "serde_json")]
pub type Json = serde_json::Value;

/// A `json` or `jsonb` value as a Rust type of the application's (`JsonOf<Settings>`, where
/// `Settings` derives serde's traits), sent and read as JSON; name it for a column with
/// `[tables.<t>] column_types = { settings = "writegraph::types::JsonOf<Settings>" }`.
#[cfg(feature = "serde_json")]
pub use tokio_postgres::types::Json as JsonOf;

#[cfg(feature = "rust_decimal")]
pub use rust_decimal::Decimal;

/// chrono, for `date`, `time`, `timestamp` and `timestamptz` columns of a schema generated
/// with `[crates] datetime = "chrono"` (the default).
#[cfg(feature = "chrono")]
pub use chrono;

/// time, for `date`, `time`, `timestamp` and `timestamptz` columns of a schema generated with
/// `[crates] datetime = "time"`.
#[cfg(feature = "time")]
pub use time;

/// jiff, for `date`, `time`, `timestamp` and `timestamptz` columns of a schema generated with
/// `[crates] datetime = "jiff"`.
#[cfg(feature = "jiff")]
pub use jiff;

/// rust_decimal, for `numeric` columns (`[crates] decimal = "rust_decimal"`, the default).
#[cfg(feature = "rust_decimal")]
pub use rust_decimal;

/// `date` values as chrono has them.
#[cfg(feature = "chrono")]
#[deprecated(note = "generated code names `writegraph::types::chrono::NaiveDate`; use it")]
pub type Date = chrono::NaiveDate;
/// `time` values as chrono has them.
#[cfg(feature = "chrono")]
#[deprecated(note = "generated code names `writegraph::types::chrono::NaiveTime`; use it")]
pub type Time = chrono::NaiveTime;
/// `timestamp` values as chrono has them.
#[cfg(feature = "chrono")]
#[deprecated(note = "generated code names `writegraph::types::chrono::NaiveDateTime`; use it")]
pub type Timestamp = chrono::NaiveDateTime;
/// `timestamptz` values as chrono has them.
#[cfg(feature = "chrono")]
#[deprecated(
    note = "generated code names `writegraph::types::chrono::DateTime<writegraph::types::chrono::Utc>`; use it"
)]
pub type Timestamptz = chrono::DateTime<chrono::Utc>;

/// A PostgreSQL `interval`: months, days and microseconds are kept apart, as PostgreSQL
/// keeps them (a month is not a fixed number of days).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub struct Interval {
    /// Whole months.
    pub months: i32,
    /// Whole days.
    pub days: i32,
    /// Microseconds.
    pub microseconds: i64,
}

impl Interval {
    /// An interval of months, days and microseconds.
    pub const fn new(months: i32, days: i32, microseconds: i64) -> Self {
        Self {
            months,
            days,
            microseconds,
        }
    }
}

impl ToSql for Interval {
    fn to_sql(
        &self,
        _ty: &Type,
        out: &mut BytesMut,
    ) -> Result<IsNull, Box<dyn StdError + Sync + Send>> {
        out.put_i64(self.microseconds);
        out.put_i32(self.days);
        out.put_i32(self.months);
        Ok(IsNull::No)
    }

    fn accepts(ty: &Type) -> bool {
        *ty == Type::INTERVAL
    }

    to_sql_checked!();
}

impl<'a> FromSql<'a> for Interval {
    fn from_sql(_ty: &Type, mut raw: &'a [u8]) -> Result<Self, Box<dyn StdError + Sync + Send>> {
        if raw.len() != 16 {
            return Err(format!("an interval is 16 bytes, got {}", raw.len()).into());
        }
        let microseconds = raw.get_i64();
        let days = raw.get_i32();
        let months = raw.get_i32();
        Ok(Self {
            months,
            days,
            microseconds,
        })
    }

    fn accepts(ty: &Type) -> bool {
        *ty == Type::INTERVAL
    }
}
