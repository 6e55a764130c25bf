//! `point`, in PostgreSQL's binary format.

use std::error::Error as StdError;
use std::fmt;

use bytes::{Buf, BufMut, BytesMut};
use tokio_postgres::types::{to_sql_checked, FromSql, IsNull, ToSql, Type};

/// A `point` value: two `f64` coordinates, written as PostgreSQL writes them (`(1.5,-2)`).
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Point {
    /// The first coordinate.
    pub x: f64,
    /// The second coordinate.
    pub y: f64,
}

impl Point {
    /// The point at `(x, y)`.
    pub const fn new(x: f64, y: f64) -> Self {
        Self { x, y }
    }
}

impl fmt::Display for Point {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "({},{})", self.x, self.y)
    }
}

impl ToSql for Point {
    fn to_sql(
        &self,
        _ty: &Type,
        out: &mut BytesMut,
    ) -> Result<IsNull, Box<dyn StdError + Sync + Send>> {
        out.put_f64(self.x);
        out.put_f64(self.y);
        Ok(IsNull::No)
    }

    fn accepts(ty: &Type) -> bool {
        *ty == Type::POINT
    }

    to_sql_checked!();
}

impl<'a> FromSql<'a> for Point {
    fn from_sql(_ty: &Type, mut raw: &'a [u8]) -> Result<Self, Box<dyn StdError + Sync + Send>> {
        if raw.len() != 16 {
            return Err(format!("a point is 16 bytes, got {}", raw.len()).into());
        }
        let x = raw.get_f64();
        let y = raw.get_f64();
        Ok(Self { x, y })
    }

    fn accepts(ty: &Type) -> bool {
        *ty == Type::POINT
    }
}
