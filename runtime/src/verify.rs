//! Comparing the live database with the schema the code was generated from, so that an
//! application finds out at start-up, before it writes anything, that a migration or a
//! manual change made the database differ from what its generated code expects.
//!
//! Generated code carries what it expects as data (`EXPECTED_SCHEMA`, an [`ExpectedSchema`])
//! and a thin `verify_database(&client)` that calls [`verify_schema`]. The comparison reads
//! `pg_catalog` with three queries and writes nothing; it runs on any
//! [`GenericClient`] (a client, a transaction, a [`CachedClient`](crate::CachedClient), a
//! pooled connection).
//!
//! What is compared is what the generated code depends on:
//! - every enum type it maps to a Rust enum exists with the same labels (a label it does not
//!   know cannot be read, one the database lacks cannot be written);
//! - every table it writes exists (as a table or a partitioned table);
//! - every column it names exists, with the SQL type it was generated for, modifiers included
//!   (`character varying(64)`: values are checked against the length before they are sent;
//!   `smallint` read as `i16` cannot read an `integer`), and the same nullability (a row
//!   field is `T` for a NOT NULL column, `Option<T>` for a nullable one);
//! - no column it does not know is NOT NULL without a default (every insert would fail);
//!   other extra columns are left alone, so that a migration can add a column before the code
//!   that uses it is deployed;
//! - the unique keys it relies on: the primary key (`find_by_id`, `update_by_id`, graph
//!   links), the key of each `ON CONFLICT` (an upsert's conflict target or constraint, a
//!   diff's match key), as a valid, non-partial unique index on exactly those columns.

use std::fmt;

use tokio_postgres::types::Type;

use crate::client::GenericClient;
use crate::error::{Error, Result};

/// What generated code expects of the database: its tables and the enum types it reads and
/// writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ExpectedSchema<'a> {
    /// The tables the code writes, in creation order.
    pub tables: &'a [ExpectedTable<'a>],
    /// The enum types of their columns.
    pub enums: &'a [ExpectedEnum<'a>],
}

/// An enum type generated code maps to a Rust enum: a label it does not know cannot be read,
/// one the database lacks cannot be written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ExpectedEnum<'a> {
    /// The type's schema, unquoted.
    pub schema: &'a str,
    /// The type's name, unquoted.
    pub name: &'a str,
    /// Its labels, in sort order.
    pub labels: &'a [&'a str],
}

impl<'a> ExpectedEnum<'a> {
    /// An enum type with its labels.
    pub const fn new(schema: &'a str, name: &'a str, labels: &'a [&'a str]) -> Self {
        Self {
            schema,
            name,
            labels,
        }
    }
}

/// A table the generated code writes, as it was when the code was generated.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ExpectedTable<'a> {
    /// The table's schema (`public`), unquoted.
    pub schema: &'a str,
    /// The table's name, unquoted.
    pub name: &'a str,
    /// Every column, in table order.
    pub columns: &'a [ExpectedColumn<'a>],
    /// The unique keys the code relies on.
    pub keys: &'a [ExpectedKey<'a>],
}

/// A column of an [`ExpectedTable`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ExpectedColumn<'a> {
    /// The column's name, unquoted.
    pub name: &'a str,
    /// Its type as `format_type` prints it with an empty search path: built-in types
    /// unqualified with their modifiers (`character varying(64)`, `numeric(12,4)`), other
    /// types schema-qualified (`public.order_status`), `[]` for an array.
    pub sql_type: &'a str,
    /// `NOT NULL`.
    pub not_null: bool,
}

/// A unique key an [`ExpectedTable`]'s code relies on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ExpectedKey<'a> {
    /// The key's columns.
    pub columns: &'a [&'a str],
    /// It must be the table's primary key.
    pub primary: bool,
    /// `ON CONFLICT ON CONSTRAINT` names it: a constraint of this name must be the key.
    pub constraint: Option<&'a str>,
    /// What uses it, in words (`the upsert's ON CONFLICT`, `the diff of `OrderPatchGraph.items``).
    pub used_by: &'a str,
}

impl<'a> ExpectedTable<'a> {
    /// A table with its columns and keys.
    pub const fn new(
        schema: &'a str,
        name: &'a str,
        columns: &'a [ExpectedColumn<'a>],
        keys: &'a [ExpectedKey<'a>],
    ) -> Self {
        Self {
            schema,
            name,
            columns,
            keys,
        }
    }
}

impl<'a> ExpectedColumn<'a> {
    /// A column of `sql_type`, NOT NULL or not.
    pub const fn new(name: &'a str, sql_type: &'a str, not_null: bool) -> Self {
        Self {
            name,
            sql_type,
            not_null,
        }
    }
}

impl<'a> ExpectedKey<'a> {
    /// The primary key.
    pub const fn primary(columns: &'a [&'a str], used_by: &'a str) -> Self {
        Self {
            columns,
            primary: true,
            constraint: None,
            used_by,
        }
    }

    /// Any valid, non-partial unique index on exactly these columns (what `ON CONFLICT
    /// (columns)` infers).
    pub const fn unique(columns: &'a [&'a str], used_by: &'a str) -> Self {
        Self {
            columns,
            primary: false,
            constraint: None,
            used_by,
        }
    }

    /// The unique or primary key constraint of this name, on these columns (what `ON CONFLICT
    /// ON CONSTRAINT name` needs).
    pub const fn constraint(name: &'a str, columns: &'a [&'a str], used_by: &'a str) -> Self {
        Self {
            columns,
            primary: false,
            constraint: Some(name),
            used_by,
        }
    }
}

/// One way the database differs from what the code expects. Its `Display` names the table
/// (and column), what the code expects, what the database has, and what to do.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum SchemaDifference {
    /// The table does not exist.
    MissingTable {
        /// The table, as `schema.table`.
        table: String,
    },
    /// The column does not exist.
    MissingColumn {
        /// The table, as `schema.table`.
        table: String,
        /// The column.
        column: String,
        /// The type the code was generated for.
        expected: String,
    },
    /// The column has another type (or other modifiers).
    ColumnType {
        /// The table, as `schema.table`.
        table: String,
        /// The column.
        column: String,
        /// The type the code was generated for.
        expected: String,
        /// The type the database has.
        found: String,
    },
    /// The column is nullable where the code expects NOT NULL, or the other way round.
    Nullability {
        /// The table, as `schema.table`.
        table: String,
        /// The column.
        column: String,
        /// The code was generated for a NOT NULL column.
        expected_not_null: bool,
    },
    /// A column the code does not know is NOT NULL without a default: inserts, which leave
    /// it out, fail.
    UnknownRequiredColumn {
        /// The table, as `schema.table`.
        table: String,
        /// The column.
        column: String,
        /// Its type.
        found: String,
    },
    /// The enum type does not exist.
    MissingEnum {
        /// The type, as `schema.name`.
        enum_type: String,
    },
    /// The enum type's labels differ from the ones the code maps.
    EnumLabels {
        /// The type, as `schema.name`.
        enum_type: String,
        /// Labels of the database the code does not know: a row with one cannot be read.
        unknown: Vec<String>,
        /// Labels the code maps that the database lacks: a value with one cannot be written.
        missing: Vec<String>,
    },
    /// No unique key of the database serves as a key the code relies on.
    MissingKey {
        /// The table, as `schema.table`.
        table: String,
        /// The key's columns.
        columns: Vec<String>,
        /// The key must be the primary key.
        primary: bool,
        /// The key must be the constraint of this name.
        constraint: Option<String>,
        /// What uses it.
        used_by: String,
        /// The unique keys the table has, in words (`primary key (id)`,
        /// `orders_note_key (note)`).
        found: Vec<String>,
    },
}

/// What to do about any difference.
const FIX: &str = "regenerate the code from the database's schema, or migrate the database \
                   to the schema the code was generated from";

impl fmt::Display for SchemaDifference {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SchemaDifference::MissingTable { table } => {
                write!(f, "table `{table}` does not exist in the database")
            }
            SchemaDifference::MissingColumn {
                table,
                column,
                expected,
            } => write!(
                f,
                "column `{column}` of `{table}` does not exist in the database (the code was \
                 generated for `{expected}`)"
            ),
            SchemaDifference::ColumnType {
                table,
                column,
                expected,
                found,
            } => write!(
                f,
                "column `{column}` of `{table}` is `{found}` in the database, but the code was \
                 generated for `{expected}`"
            ),
            SchemaDifference::Nullability {
                table,
                column,
                expected_not_null,
            } => {
                let (found, expected) = if *expected_not_null {
                    ("nullable", "NOT NULL")
                } else {
                    ("NOT NULL", "nullable")
                };
                write!(
                    f,
                    "column `{column}` of `{table}` is {found} in the database, but the code was \
                     generated for a {expected} column"
                )
            }
            SchemaDifference::UnknownRequiredColumn {
                table,
                column,
                found,
            } => write!(
                f,
                "column `{column}` (`{found}`) of `{table}` is NOT NULL without a default, and \
                 the code does not know it: every insert would fail"
            ),
            SchemaDifference::MissingEnum { enum_type } => {
                write!(f, "enum type `{enum_type}` does not exist in the database")
            }
            SchemaDifference::EnumLabels {
                enum_type,
                unknown,
                missing,
            } => {
                write!(f, "enum type `{enum_type}`")?;
                if !unknown.is_empty() {
                    write!(
                        f,
                        " has labels the code does not know (rows with them cannot be read): {}",
                        unknown.join(", ")
                    )?;
                }
                if !unknown.is_empty() && !missing.is_empty() {
                    f.write_str(", and")?;
                }
                if !missing.is_empty() {
                    write!(f, " lacks labels the code writes: {}", missing.join(", "))?;
                }
                Ok(())
            }
            SchemaDifference::MissingKey {
                table,
                columns,
                primary,
                constraint,
                used_by,
                found,
            } => {
                let columns = columns.join(", ");
                let wanted = match (primary, constraint) {
                    (true, _) => format!("primary key on ({columns})"),
                    (false, Some(name)) => format!("unique constraint `{name}` on ({columns})"),
                    (false, None) => format!("unique key on ({columns})"),
                };
                let found = if found.is_empty() {
                    "none".to_owned()
                } else {
                    found.join(", ")
                };
                write!(
                    f,
                    "`{table}` has no {wanted}, used by {used_by}; its unique keys are: {found}"
                )
            }
        }
    }
}

/// Every difference [`verify_schema`] found, as [`Error::SchemaMismatch`] carries them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SchemaMismatch {
    /// Each difference, table by table in the order the code lists them.
    pub differences: Vec<SchemaDifference>,
}

impl fmt::Display for SchemaMismatch {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let n = self.differences.len();
        let plural = if n == 1 { "" } else { "s" };
        write!(
            f,
            "the database differs from the schema the code was generated from ({n} difference{plural}):"
        )?;
        for difference in &self.differences {
            write!(f, "\n  - {difference}")?;
        }
        write!(f, "\n{FIX}")
    }
}

impl std::error::Error for SchemaMismatch {}

/// Checks the database `client` is connected to against `expected` (generated code passes
/// its `EXPECTED_SCHEMA`): `Ok` when the generated code can run against it as it is, else
/// [`Error::SchemaMismatch`] listing every difference. Reads `pg_catalog` only.
pub async fn verify_schema(
    client: &impl GenericClient,
    expected: &ExpectedSchema<'_>,
) -> Result<()> {
    let differences = schema_differences(client, expected).await?;
    if differences.is_empty() {
        Ok(())
    } else {
        Err(Error::SchemaMismatch(SchemaMismatch { differences }))
    }
}

/// Every difference between the database `client` is connected to and `expected`: its enum
/// types first, then table by table in `expected`'s order, for each table whether it exists,
/// then its columns in `expected`'s order, the columns the code does not know, then its keys.
/// Reads `pg_catalog` only.
pub async fn schema_differences(
    client: &impl GenericClient,
    expected: &ExpectedSchema<'_>,
) -> Result<Vec<SchemaDifference>> {
    let mut differences = enum_differences(client, expected.enums).await?;
    let expected = expected.tables;
    let schemas: Vec<&str> = expected.iter().map(|t| t.schema).collect();
    let names: Vec<&str> = expected.iter().map(|t| t.name).collect();
    let params: [(&(dyn tokio_postgres::types::ToSql + Sync), Type); 2] =
        [(&schemas, Type::TEXT_ARRAY), (&names, Type::TEXT_ARRAY)];
    let column_rows = client.query_typed(COLUMNS, &params).await?;
    let key_rows = client.query_typed(UNIQUE_KEYS, &params).await?;

    let mut found_tables: Vec<FoundTable> =
        expected.iter().map(|_| FoundTable::default()).collect();
    for row in &column_rows {
        let index: i64 = row.try_get("wanted")?;
        let Some(table) = usize::try_from(index - 1)
            .ok()
            .and_then(|i| found_tables.get_mut(i))
        else {
            continue;
        };
        table.exists = true;
        let Some(name) = row.try_get::<_, Option<String>>("column")? else {
            continue;
        };
        let formatted: String = row.try_get("formatted")?;
        let qualified: Option<String> = row.try_get("qualified")?;
        let array: bool = row.try_get("is_array")?;
        table.columns.push(FoundColumn {
            name,
            sql_type: type_text(&formatted, qualified.as_deref(), array),
            not_null: row.try_get("not_null")?,
            has_default: row.try_get("has_default")?,
        });
    }
    for row in &key_rows {
        let index: i64 = row.try_get("wanted")?;
        let Some(table) = usize::try_from(index - 1)
            .ok()
            .and_then(|i| found_tables.get_mut(i))
        else {
            continue;
        };
        table.keys.push(FoundKey {
            name: row.try_get("name")?,
            constraint: row.try_get("constraint_name")?,
            columns: row.try_get("columns")?,
            primary: row.try_get("is_primary")?,
            usable: row.try_get("usable")?,
        });
    }

    for (table, found) in expected.iter().zip(&found_tables) {
        compare_table(table, found, &mut differences);
    }
    Ok(differences)
}

/// The differences of `expected`'s enum types, in its order (no query when there are none).
async fn enum_differences(
    client: &impl GenericClient,
    expected: &[ExpectedEnum<'_>],
) -> Result<Vec<SchemaDifference>> {
    if expected.is_empty() {
        return Ok(Vec::new());
    }
    let schemas: Vec<&str> = expected.iter().map(|e| e.schema).collect();
    let names: Vec<&str> = expected.iter().map(|e| e.name).collect();
    let params: [(&(dyn tokio_postgres::types::ToSql + Sync), Type); 2] =
        [(&schemas, Type::TEXT_ARRAY), (&names, Type::TEXT_ARRAY)];
    let mut found: Vec<Option<Vec<String>>> = expected.iter().map(|_| None).collect();
    for row in client.query_typed(ENUMS, &params).await? {
        let index: i64 = row.try_get("wanted")?;
        if let Some(slot) = usize::try_from(index - 1)
            .ok()
            .and_then(|i| found.get_mut(i))
        {
            *slot = Some(row.try_get("labels")?);
        }
    }
    let mut differences = Vec::new();
    for (e, labels) in expected.iter().zip(found) {
        let enum_type = qualified_name(e.schema, e.name);
        let Some(labels) = labels else {
            differences.push(SchemaDifference::MissingEnum { enum_type });
            continue;
        };
        let unknown: Vec<String> = labels
            .iter()
            .filter(|l| !e.labels.contains(&l.as_str()))
            .cloned()
            .collect();
        let missing: Vec<String> = e
            .labels
            .iter()
            .filter(|l| !labels.iter().any(|found| found == *l))
            .map(|l| (*l).to_owned())
            .collect();
        if !unknown.is_empty() || !missing.is_empty() {
            differences.push(SchemaDifference::EnumLabels {
                enum_type,
                unknown,
                missing,
            });
        }
    }
    Ok(differences)
}

/// A table as the database has it.
#[derive(Debug, Default)]
struct FoundTable {
    exists: bool,
    columns: Vec<FoundColumn>,
    keys: Vec<FoundKey>,
}

#[derive(Debug)]
struct FoundColumn {
    name: String,
    sql_type: String,
    not_null: bool,
    has_default: bool,
}

#[derive(Debug)]
struct FoundKey {
    /// The index's name.
    name: String,
    /// The constraint that owns the index, if one does.
    constraint: Option<String>,
    columns: Vec<String>,
    primary: bool,
    /// Valid, not partial, on plain columns only: an `ON CONFLICT` can use it.
    usable: bool,
}

impl FoundKey {
    fn describe(&self) -> String {
        let columns = self.columns.join(", ");
        let name = self.constraint.as_deref().unwrap_or(&self.name);
        let mut text = if self.primary {
            format!("primary key {name} ({columns})")
        } else {
            format!("{name} ({columns})")
        };
        if !self.usable {
            text.push_str(" (partial, on an expression or not valid)");
        }
        text
    }

    fn has_columns(&self, columns: &[&str]) -> bool {
        let mut mine: Vec<&str> = self.columns.iter().map(String::as_str).collect();
        let mut theirs = columns.to_vec();
        mine.sort_unstable();
        theirs.sort_unstable();
        mine == theirs
    }
}

fn compare_table(table: &ExpectedTable<'_>, found: &FoundTable, out: &mut Vec<SchemaDifference>) {
    let name = qualified_name(table.schema, table.name);
    if !found.exists {
        out.push(SchemaDifference::MissingTable { table: name });
        return;
    }
    for column in table.columns {
        let Some(have) = found.columns.iter().find(|c| c.name == column.name) else {
            out.push(SchemaDifference::MissingColumn {
                table: name.clone(),
                column: column.name.to_owned(),
                expected: column.sql_type.to_owned(),
            });
            continue;
        };
        if have.sql_type != column.sql_type {
            out.push(SchemaDifference::ColumnType {
                table: name.clone(),
                column: column.name.to_owned(),
                expected: column.sql_type.to_owned(),
                found: have.sql_type.clone(),
            });
        }
        if have.not_null != column.not_null {
            out.push(SchemaDifference::Nullability {
                table: name.clone(),
                column: column.name.to_owned(),
                expected_not_null: column.not_null,
            });
        }
    }
    for have in &found.columns {
        if have.not_null && !have.has_default && !table.columns.iter().any(|c| c.name == have.name)
        {
            out.push(SchemaDifference::UnknownRequiredColumn {
                table: name.clone(),
                column: have.name.clone(),
                found: have.sql_type.clone(),
            });
        }
    }
    for key in table.keys {
        let served = found.keys.iter().any(|k| {
            k.usable
                && k.has_columns(key.columns)
                && (!key.primary || k.primary)
                && key
                    .constraint
                    .is_none_or(|c| k.constraint.as_deref() == Some(c))
        });
        if !served {
            out.push(SchemaDifference::MissingKey {
                table: name.clone(),
                columns: key.columns.iter().map(|c| (*c).to_owned()).collect(),
                primary: key.primary,
                constraint: key.constraint.map(str::to_owned),
                used_by: key.used_by.to_owned(),
                found: found.keys.iter().map(FoundKey::describe).collect(),
            });
        }
    }
}

/// A column's type as [`ExpectedColumn::sql_type`] spells it: `format_type`'s text for a
/// built-in type (its element type is in `pg_catalog`), else the element type's quoted
/// qualified name, the modifiers `format_type` printed after it, and `[]` for an array.
fn type_text(formatted: &str, qualified: Option<&str>, array: bool) -> String {
    let Some(qualified) = qualified else {
        return formatted.to_owned();
    };
    let element = formatted.strip_suffix("[]").unwrap_or(formatted);
    let modifiers = element
        .strip_suffix(')')
        .and_then(|rest| rest.rfind('('))
        .map_or("", |open| &element[open..]);
    let brackets = if array { "[]" } else { "" };
    format!("{qualified}{modifiers}{brackets}")
}

/// `schema.table`, each part quoted when it needs to be.
fn qualified_name(schema: &str, name: &str) -> String {
    format!("{}.{}", quote_if_needed(schema), quote_if_needed(name))
}

fn quote_if_needed(name: &str) -> String {
    let plain = name
        .chars()
        .enumerate()
        .all(|(i, c)| c == '_' || c.is_ascii_lowercase() || (i > 0 && c.is_ascii_digit()));
    if plain && !name.is_empty() {
        name.to_owned()
    } else {
        format!("\"{}\"", name.replace('"', "\"\""))
    }
}

/// The columns of each wanted table (`$1` schemas, `$2` names), by its position in the
/// arrays; a table that exists but has no columns gives one row with a NULL column. An
/// element type outside `pg_catalog` is given as its quoted qualified name.
const COLUMNS: &str = r#"
SELECT w.ord AS wanted,
       a.attname::text AS "column",
       format_type(a.atttypid, a.atttypmod) AS formatted,
       CASE WHEN tn.nspname <> 'pg_catalog'
            THEN quote_ident(tn.nspname) || '.' || quote_ident(et.typname) END AS qualified,
       COALESCE(t.typcategory = 'A' AND t.typelem <> 0, false) AS is_array,
       COALESCE(a.attnotnull, false) AS not_null,
       COALESCE(a.atthasdef OR a.attidentity <> '' OR a.attgenerated <> '', false) AS has_default
FROM unnest($1::text[], $2::text[]) WITH ORDINALITY AS w(schema, name, ord)
JOIN pg_catalog.pg_namespace n ON n.nspname = w.schema
JOIN pg_catalog.pg_class c
  ON c.relnamespace = n.oid AND c.relname = w.name AND c.relkind IN ('r', 'p')
LEFT JOIN pg_catalog.pg_attribute a
  ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
LEFT JOIN pg_catalog.pg_type t ON t.oid = a.atttypid
LEFT JOIN pg_catalog.pg_type et
  ON et.oid = CASE WHEN t.typcategory = 'A' AND t.typelem <> 0 THEN t.typelem ELSE t.oid END
LEFT JOIN pg_catalog.pg_namespace tn ON tn.oid = et.typnamespace
ORDER BY w.ord, a.attnum
"#;

/// The labels of each wanted enum type (`$1` schemas, `$2` names), in sort order, by its
/// position in the arrays.
const ENUMS: &str = r#"
SELECT w.ord AS wanted,
       ARRAY(
           SELECT e.enumlabel::text FROM pg_catalog.pg_enum e
           WHERE e.enumtypid = t.oid ORDER BY e.enumsortorder
       ) AS labels
FROM unnest($1::text[], $2::text[]) WITH ORDINALITY AS w(schema, name, ord)
JOIN pg_catalog.pg_namespace n ON n.nspname = w.schema
JOIN pg_catalog.pg_type t ON t.typnamespace = n.oid AND t.typname = w.name AND t.typtype = 'e'
ORDER BY w.ord
"#;

/// The unique indexes of each wanted table, with their key columns (INCLUDE columns left
/// out), the constraint that owns each, and whether an `ON CONFLICT` can use it.
const UNIQUE_KEYS: &str = r#"
SELECT w.ord AS wanted,
       ic.relname::text AS name,
       con.conname::text AS constraint_name,
       i.indisprimary AS is_primary,
       ARRAY(
           SELECT a.attname::text
           FROM unnest(i.indkey::int2[]) WITH ORDINALITY AS k(attnum, ord)
           JOIN pg_catalog.pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = k.attnum
           WHERE k.ord <= i.indnkeyatts
           ORDER BY k.ord
       ) AS columns,
       i.indisvalid AND i.indpred IS NULL AND i.indexprs IS NULL AS usable
FROM unnest($1::text[], $2::text[]) WITH ORDINALITY AS w(schema, name, ord)
JOIN pg_catalog.pg_namespace n ON n.nspname = w.schema
JOIN pg_catalog.pg_class c
  ON c.relnamespace = n.oid AND c.relname = w.name AND c.relkind IN ('r', 'p')
JOIN pg_catalog.pg_index i ON i.indrelid = c.oid AND i.indisunique
JOIN pg_catalog.pg_class ic ON ic.oid = i.indexrelid
LEFT JOIN pg_catalog.pg_constraint con
  ON con.conindid = i.indexrelid AND con.conrelid = c.oid AND con.contype IN ('p', 'u')
ORDER BY w.ord, i.indisprimary DESC, ic.relname
"#;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn type_text_spells_types_as_the_catalog_does() {
        assert_eq!(
            type_text("character varying(64)", None, false),
            "character varying(64)"
        );
        assert_eq!(type_text("integer[]", None, true), "integer[]");
        assert_eq!(
            type_text("order_status", Some("public.order_status"), false),
            "public.order_status"
        );
        assert_eq!(
            type_text("\"Shop\".\"Mood\"[]", Some("\"Shop\".\"Mood\""), true),
            "\"Shop\".\"Mood\"[]"
        );
        assert_eq!(
            type_text("vector(3)", Some("public.vector"), false),
            "public.vector(3)"
        );
    }

    #[test]
    fn names_are_quoted_when_needed() {
        assert_eq!(qualified_name("public", "orders"), "public.orders");
        assert_eq!(
            qualified_name("Shop", "order items"),
            "\"Shop\".\"order items\""
        );
    }
}
