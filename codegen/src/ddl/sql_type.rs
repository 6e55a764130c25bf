//! Column types as written in DDL → PostgreSQL's own spelling (`format_type`). sqlparser keeps
//! the user's spelling (`int4`, `varchar`, `timestamptz`); PostgreSQL stores one type per
//! spelling, and the catalog must say what PostgreSQL says.

use sqlparser::ast::{
    ArrayElemTypeDef, CharacterLength, DataType, ExactNumberInfo, ObjectName, ObjectNamePart,
    TimezoneInfo,
};

use crate::catalog::{BaseType, SqlType};

/// A column type after normalising the spelling, before user-defined names are resolved.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WrittenType {
    /// The element type.
    pub base: WrittenBase,
    /// `[]` was written (any number of times).
    pub array: bool,
    /// `serial`, `bigserial` or `smallserial`: the integer type plus a sequence default.
    pub serial: bool,
}

/// The element type as written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum WrittenBase {
    /// A built-in type, already in `format_type` spelling.
    Builtin {
        /// `format_type` name.
        name: String,
        /// Type modifiers.
        modifiers: Vec<u32>,
    },
    /// A name to resolve against the catalog (enum, domain, extension type), as folded parts,
    /// with its type modifiers as `format_type` prints them.
    Named {
        /// The name's parts, folded.
        parts: Vec<String>,
        /// Type modifiers, e.g. `["Polygon", "4326"]`.
        modifiers: Vec<String>,
    },
}

impl WrittenType {
    fn builtin(name: &str, modifiers: Vec<u32>) -> Self {
        Self {
            base: WrittenBase::Builtin {
                name: name.to_owned(),
                modifiers,
            },
            array: false,
            serial: false,
        }
    }

    /// The catalog type, for a built-in; `None` for a name still to be resolved.
    pub fn to_builtin(&self) -> Option<SqlType> {
        match &self.base {
            WrittenBase::Builtin { name, modifiers } => Some(SqlType {
                base: BaseType::Builtin {
                    name: name.clone(),
                    modifiers: modifiers.clone(),
                },
                array: self.array,
            }),
            WrittenBase::Named { .. } => None,
        }
    }
}

/// Normalises a sqlparser type. `Err` carries a message for types PostgreSQL does not have.
pub fn normalise(data_type: &DataType) -> Result<WrittenType, String> {
    use DataType as D;
    let t = |name: &str| Ok(WrittenType::builtin(name, Vec::new()));
    let with = |name: &str, m: Option<u64>| {
        Ok(WrittenType::builtin(
            name,
            m.map(to_u32).into_iter().collect(),
        ))
    };
    match data_type {
        D::Array(elem) => {
            let inner = match elem {
                ArrayElemTypeDef::SquareBracket(inner, _)
                | ArrayElemTypeDef::AngleBracket(inner)
                | ArrayElemTypeDef::Parenthesis(inner)
                | ArrayElemTypeDef::Qualified(inner, _) => inner,
                ArrayElemTypeDef::None => {
                    return Err("an array type needs an element type".to_owned())
                }
            };
            let mut written = normalise(inner)?;
            if written.serial {
                return Err("there are no arrays of serial types; use an integer array".to_owned());
            }
            written.array = true;
            Ok(written)
        }
        D::SmallInt(_) | D::Int2(_) => t("smallint"),
        D::Int(_) | D::Integer(_) | D::Int4(_) => t("integer"),
        D::BigInt(_) | D::Int8(_) => t("bigint"),
        D::Real | D::Float4 => t("real"),
        D::DoublePrecision | D::Float8 => t("double precision"),
        D::Double(ExactNumberInfo::None) => t("double precision"),
        D::Float(info) => match info {
            ExactNumberInfo::None => t("double precision"),
            ExactNumberInfo::Precision(p) if (1..=24).contains(p) => t("real"),
            ExactNumberInfo::Precision(p) if (25..=53).contains(p) => t("double precision"),
            _ => Err("float precision must be between 1 and 53".to_owned()),
        },
        D::Numeric(info) | D::Decimal(info) | D::Dec(info) => match info {
            ExactNumberInfo::None => t("numeric"),
            ExactNumberInfo::Precision(p) => {
                Ok(WrittenType::builtin("numeric", vec![to_u32(*p), 0]))
            }
            ExactNumberInfo::PrecisionAndScale(p, s) => {
                let scale = u32::try_from(*s)
                    .map_err(|_| "numeric scale must not be negative here".to_owned())?;
                Ok(WrittenType::builtin("numeric", vec![to_u32(*p), scale]))
            }
        },
        D::Bool | D::Boolean => t("boolean"),
        D::Text => t("text"),
        D::Bytea => t("bytea"),
        D::Uuid => t("uuid"),
        D::JSON => t("json"),
        D::JSONB => t("jsonb"),
        D::Date => t("date"),
        D::Regclass => t("regclass"),
        D::TsVector => t("tsvector"),
        D::TsQuery => t("tsquery"),
        D::Varchar(len) | D::CharacterVarying(len) | D::CharVarying(len) => {
            with("character varying", char_length(len.as_ref())?)
        }
        // `char` and `character` without a length are `character(1)`.
        D::Char(len) | D::Character(len) => Ok(WrittenType::builtin(
            "character",
            vec![char_length(len.as_ref())?.map_or(1, to_u32)],
        )),
        D::Bit(len) => Ok(WrittenType::builtin("bit", vec![len.map_or(1, to_u32)])),
        D::BitVarying(len) | D::VarBit(len) => with("bit varying", *len),
        D::Timestamp(precision, tz) => with(zoned("timestamp", *tz), *precision),
        D::Time(precision, tz) => with(zoned("time", *tz), *precision),
        D::Interval { precision, .. } => with("interval", *precision),
        D::Custom(name, modifiers) => custom(name, modifiers),
        other => Err(format!("`{other}` is not a PostgreSQL type")),
    }
}

fn zoned(base: &str, tz: TimezoneInfo) -> &'static str {
    let with_zone = matches!(tz, TimezoneInfo::WithTimeZone | TimezoneInfo::Tz);
    match (base, with_zone) {
        ("timestamp", true) => "timestamp with time zone",
        ("timestamp", false) => "timestamp without time zone",
        (_, true) => "time with time zone",
        (_, false) => "time without time zone",
    }
}

fn char_length(len: Option<&CharacterLength>) -> Result<Option<u64>, String> {
    match len {
        None => Ok(None),
        Some(CharacterLength::IntegerLength { length, .. }) => Ok(Some(*length)),
        Some(CharacterLength::Max) => {
            Err("PostgreSQL has no `MAX` length; leave the length out".to_owned())
        }
    }
}

fn to_u32(value: u64) -> u32 {
    u32::try_from(value).unwrap_or(u32::MAX)
}

/// Names sqlparser does not know as types: PostgreSQL's other built-ins, serials, and
/// user-defined types (returned as [`WrittenBase::Named`]).
fn custom(name: &ObjectName, modifiers: &[String]) -> Result<WrittenType, String> {
    let parts: Vec<String> = name
        .0
        .iter()
        .map(|part| match part {
            ObjectNamePart::Identifier(ident) => Ok(super::fold_ident(ident)),
            other => Err(format!("`{other}` is not a type name")),
        })
        .collect::<Result<_, _>>()?;
    let unqualified = match parts.as_slice() {
        [name] => Some(name.as_str()),
        [schema, name] if schema == "pg_catalog" => Some(name.as_str()),
        _ => None,
    };
    let named = |parts: Vec<String>| {
        let modifiers = extension_modifiers(parts.last().map_or("", String::as_str), modifiers);
        Ok(WrittenType {
            base: WrittenBase::Named { parts, modifiers },
            array: false,
            serial: false,
        })
    };
    let Some(unqualified) = unqualified else {
        return named(parts);
    };
    let serial = |name: &str| {
        Ok(WrittenType {
            serial: true,
            ..WrittenType::builtin(name, Vec::new())
        })
    };
    match unqualified {
        "serial" | "serial4" => return serial("integer"),
        "bigserial" | "serial8" => return serial("bigint"),
        "smallserial" | "serial2" => return serial("smallint"),
        _ => {}
    }
    if let Some(canonical) = builtin_name(unqualified) {
        let mods = modifiers
            .iter()
            .map(|m| {
                m.trim()
                    .parse::<u32>()
                    .map_err(|_| format!("type modifier `{m}` is not a number"))
            })
            .collect::<Result<Vec<u32>, String>>()?;
        return Ok(WrittenType::builtin(canonical, mods));
    }
    named(parts)
}

/// The modifiers of a type that is not built in, as `format_type` prints them: PostGIS's
/// `geometry`/`geography` print the shape in their own capitalisation (`Polygon`, `PointZ`)
/// and the SRID unless it is 0 (`geography` without one has SRID 4326); other types'
/// modifiers are kept as written.
fn extension_modifiers(type_name: &str, modifiers: &[String]) -> Vec<String> {
    let written: Vec<String> = modifiers.iter().map(|m| m.trim().to_owned()).collect();
    if !matches!(type_name, "geometry" | "geography") || written.is_empty() {
        return written;
    }
    let shape = postgis_shape(&written[0]).unwrap_or_else(|| written[0].clone());
    let srid = match written.get(1).map(|s| s.parse::<i64>()) {
        Some(Ok(srid)) => srid,
        Some(Err(_)) => return written,
        None if type_name == "geography" => 4326,
        None => 0,
    };
    if srid == 0 && shape == "Geometry" {
        return Vec::new();
    }
    let mut out = vec![shape];
    if srid != 0 {
        out.push(srid.to_string());
    }
    out
}

/// A PostGIS shape name (`polygon`, `POINTZ`, `multilinestringzm`) as PostGIS prints it.
fn postgis_shape(written: &str) -> Option<String> {
    const SHAPES: &[&str] = &[
        "GeometryCollection",
        "MultiLineString",
        "PolyhedralSurface",
        "CircularString",
        "CompoundCurve",
        "CurvePolygon",
        "MultiPolygon",
        "MultiSurface",
        "MultiCurve",
        "MultiPoint",
        "LineString",
        "Geometry",
        "Triangle",
        "Polygon",
        "Point",
        "Tin",
    ];
    let lower = written.to_ascii_lowercase();
    SHAPES.iter().find_map(|shape| {
        let suffix = lower.strip_prefix(&shape.to_ascii_lowercase())?;
        let suffix = match suffix {
            "" => "",
            "z" => "Z",
            "m" => "M",
            "zm" => "ZM",
            _ => return None,
        };
        Some(format!("{shape}{suffix}"))
    })
}

/// Built-in type names sqlparser passes through as custom names, with their `format_type`
/// spelling.
fn builtin_name(name: &str) -> Option<&'static str> {
    Some(match name {
        "int2" => "smallint",
        "int4" => "integer",
        "int8" => "bigint",
        "float4" => "real",
        "float8" => "double precision",
        "bool" => "boolean",
        "varchar" => "character varying",
        "bpchar" => "bpchar",
        "char" => "\"char\"",
        "timestamptz" => "timestamp with time zone",
        "timetz" => "time with time zone",
        "varbit" => "bit varying",
        "decimal" => "numeric",
        "inet" => "inet",
        "cidr" => "cidr",
        "macaddr" => "macaddr",
        "macaddr8" => "macaddr8",
        "money" => "money",
        "xml" => "xml",
        "oid" => "oid",
        "name" => "name",
        "jsonpath" => "jsonpath",
        "pg_lsn" => "pg_lsn",
        "pg_snapshot" => "pg_snapshot",
        "txid_snapshot" => "txid_snapshot",
        "point" => "point",
        "line" => "line",
        "lseg" => "lseg",
        "box" => "box",
        "path" => "path",
        "polygon" => "polygon",
        "circle" => "circle",
        "int4range" => "int4range",
        "int8range" => "int8range",
        "numrange" => "numrange",
        "tsrange" => "tsrange",
        "tstzrange" => "tstzrange",
        "daterange" => "daterange",
        "int4multirange" => "int4multirange",
        "int8multirange" => "int8multirange",
        "nummultirange" => "nummultirange",
        "tsmultirange" => "tsmultirange",
        "tstzmultirange" => "tstzmultirange",
        "datemultirange" => "datemultirange",
        "regtype" => "regtype",
        "regproc" => "regproc",
        "regprocedure" => "regprocedure",
        "regoper" => "regoper",
        "regnamespace" => "regnamespace",
        "regrole" => "regrole",
        "regconfig" => "regconfig",
        "tsvector" => "tsvector",
        "tsquery" => "tsquery",
        "uuid" => "uuid",
        "json" => "json",
        "jsonb" => "jsonb",
        "text" => "text",
        "bytea" => "bytea",
        "date" => "date",
        "interval" => "interval",
        "integer" | "int" => "integer",
        "smallint" => "smallint",
        "bigint" => "bigint",
        "real" => "real",
        "boolean" => "boolean",
        "numeric" => "numeric",
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use sqlparser::dialect::PostgreSqlDialect;
    use sqlparser::parser::Parser;

    fn format(sql_type: &str) -> Result<String, String> {
        let data_type = Parser::new(&PostgreSqlDialect {})
            .try_with_sql(sql_type)
            .and_then(|mut p| p.parse_data_type())
            .map_err(|e| e.to_string())?;
        let written = normalise(&data_type)?;
        match written.to_builtin() {
            Some(t) => Ok(t.format()),
            None => Ok(format!("named {:?}", written.base)),
        }
    }

    #[test]
    fn spells_types_like_format_type() -> Result<(), String> {
        let cases = [
            ("int", "integer"),
            ("int4", "integer"),
            ("serial", "integer"),
            ("bigserial", "bigint"),
            ("varchar(255)", "character varying(255)"),
            ("varchar", "character varying"),
            ("char", "character(1)"),
            ("character(5)", "character(5)"),
            ("timestamptz", "timestamp with time zone"),
            ("timestamp(3)", "timestamp(3) without time zone"),
            ("time with time zone", "time with time zone"),
            ("numeric(10,2)", "numeric(10,2)"),
            ("numeric(10)", "numeric(10,0)"),
            ("decimal", "numeric"),
            ("float", "double precision"),
            ("float(10)", "real"),
            ("double precision", "double precision"),
            ("text[]", "text[]"),
            ("int[][]", "integer[]"),
            ("bit", "bit(1)"),
            ("varbit(5)", "bit varying(5)"),
            ("inet", "inet"),
            ("pg_catalog.int8", "bigint"),
            ("bool", "boolean"),
        ];
        for (written, expected) in cases {
            assert_eq!(format(written)?, expected, "{written}");
        }
        Ok(())
    }
}
