//! Reads a database's write model from `pg_catalog` into a [`Catalog`] (feature
//! `introspect`): what PostgreSQL itself built, for catalog snapshots
//! ([`crate::snapshot`]) and for the tests that hold the schema reader against PostgreSQL.
//!
//! Types are spelled by `format_type` with `search_path = pg_catalog`, so built-in types come
//! out unqualified and every user type schema-qualified (`public.mood`, `"Shop"."Status"`), as
//! the catalog spells them. Only user schemas are read; objects owned by extensions are left
//! out. A partition reports its columns, `partition_of` and its keys as `pg_catalog` has them:
//! the copies of its parent's keys (a foreign key under the parent's name, a primary key or
//! unique index under the partition's own) and the keys declared on it. Defaults are `pg_get_expr`'s text, which
//! names every object schema-qualified under that search path.

use tokio_postgres::Client;

use crate::catalog::{
    Catalog, Column, Domain, EnumType, FkAction, ForeignKey, Generated, Identity, QualifiedName,
    Sequence, SqlType, Table, UniqueKey,
};
use crate::source::SourceFile;

/// Why a catalog could not be read or a source applied.
#[derive(Debug, thiserror::Error)]
pub enum IntrospectError {
    /// PostgreSQL rejected a file of the schema source.
    #[error("{path}: PostgreSQL rejected the file: {message}")]
    Apply {
        /// The file as the user named it.
        path: String,
        /// The server's message, with detail and position.
        message: String,
    },
    /// A catalog query failed.
    #[error("reading pg_catalog failed: {0}")]
    Query(String),
    /// PostgreSQL reported something the catalog cannot hold.
    #[error("{0}")]
    Unsupported(String),
}

impl From<tokio_postgres::Error> for IntrospectError {
    fn from(error: tokio_postgres::Error) -> Self {
        IntrospectError::Query(db_message(&error))
    }
}

/// Tables (`r`) and partitioned tables (`p`) of user schemas, not owned by an extension.
const TABLES: &str = r#"
SELECT c.oid,
       n.nspname::text AS schema,
       c.relname::text AS name,
       c.relkind = 'p' AS partitioned,
       CASE WHEN c.relispartition THEN (
           SELECT quote_ident(pn.nspname) || '.' || quote_ident(p.relname)
           FROM pg_inherits i
           JOIN pg_class p ON p.oid = i.inhparent
           JOIN pg_namespace pn ON pn.oid = p.relnamespace
           WHERE i.inhrelid = c.oid
       ) END AS partition_of,
       obj_description(c.oid, 'pg_class') AS comment
FROM pg_class c
JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE c.relkind IN ('r', 'p')
  AND n.nspname <> 'information_schema'
  AND n.nspname NOT LIKE 'pg\_%'
  AND NOT EXISTS (
      SELECT 1 FROM pg_depend d
      WHERE d.classid = 'pg_class'::regclass AND d.objid = c.oid AND d.deptype = 'e'
  )
ORDER BY c.oid
"#;

/// Columns in table order. The generation expression of a generated column lives in
/// `pg_attrdef` too; it is not a DEFAULT.
const COLUMNS: &str = r#"
SELECT a.attname::text AS name,
       format_type(a.atttypid, a.atttypmod) AS type,
       a.attnotnull AS not_null,
       CASE WHEN a.attgenerated = '' THEN pg_get_expr(ad.adbin, ad.adrelid) END AS default,
       a.attidentity::text AS identity,
       a.attgenerated::text AS generated,
       col_description(a.attrelid, a.attnum) AS comment
FROM pg_attribute a
LEFT JOIN pg_attrdef ad ON ad.adrelid = a.attrelid AND ad.adnum = a.attnum
WHERE a.attrelid = $1 AND a.attnum > 0 AND NOT a.attisdropped
ORDER BY a.attnum
"#;

/// Unique indexes on plain columns: key columns in key order (INCLUDE columns left out), and
/// whether a UNIQUE constraint of the table owns the index.
const INDEXES: &str = r#"
SELECT ic.relname::text AS name,
       i.indisprimary AS is_primary,
       ARRAY(
           SELECT a.attname::text
           FROM unnest(i.indkey::int2[]) WITH ORDINALITY AS k(attnum, ord)
           JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = k.attnum
           WHERE k.ord <= i.indnkeyatts
           ORDER BY k.ord
       ) AS columns,
       i.indpred IS NOT NULL AS partial,
       EXISTS (
           SELECT 1 FROM pg_constraint con
           WHERE con.conindid = i.indexrelid AND con.conrelid = i.indrelid
             AND con.contype = 'u'
       ) AS is_constraint
FROM pg_index i
JOIN pg_class ic ON ic.oid = i.indexrelid
WHERE i.indrelid = $1
  AND i.indisunique
  AND i.indexprs IS NULL
ORDER BY i.indexrelid
"#;

/// Foreign keys of the table: declared on it or copied to it from its partitioned parent, not
/// the copies a foreign key to a partitioned table leaves on its own table for each referenced
/// partition.
const FOREIGN_KEYS: &str = r#"
SELECT con.conname::text AS name,
       ARRAY(
           SELECT a.attname::text
           FROM unnest(con.conkey) WITH ORDINALITY AS k(attnum, ord)
           JOIN pg_attribute a ON a.attrelid = con.conrelid AND a.attnum = k.attnum
           ORDER BY k.ord
       ) AS columns,
       rn.nspname::text AS ref_schema,
       rc.relname::text AS ref_name,
       ARRAY(
           SELECT a.attname::text
           FROM unnest(con.confkey) WITH ORDINALITY AS k(attnum, ord)
           JOIN pg_attribute a ON a.attrelid = con.confrelid AND a.attnum = k.attnum
           ORDER BY k.ord
       ) AS ref_columns,
       con.confdeltype::text AS on_delete,
       con.confupdtype::text AS on_update
FROM pg_constraint con
JOIN pg_class rc ON rc.oid = con.confrelid
JOIN pg_namespace rn ON rn.oid = rc.relnamespace
WHERE con.conrelid = $1 AND con.contype = 'f'
  AND NOT EXISTS (
      SELECT 1 FROM pg_constraint parent
      WHERE parent.oid = con.conparentid AND parent.conrelid = con.conrelid
  )
ORDER BY con.oid
"#;

/// Names of a table's own CHECK constraints (not the copies a partition inherits).
const CHECKS: &str = r#"
SELECT con.conname::text AS name
FROM pg_constraint con
WHERE con.conrelid = $1 AND con.contype = 'c' AND con.conislocal
ORDER BY con.conname
"#;

/// Enum types and domains of user schemas, not owned by an extension.
const TYPES: &str = r#"
SELECT t.typtype::text AS kind,
       n.nspname::text AS schema,
       t.typname::text AS name,
       ARRAY(
           SELECT e.enumlabel::text FROM pg_enum e
           WHERE e.enumtypid = t.oid ORDER BY e.enumsortorder
       ) AS labels,
       CASE WHEN t.typtype = 'd' THEN format_type(t.typbasetype, t.typtypmod) END AS base_type,
       t.typnotnull AS not_null,
       pg_get_expr(t.typdefaultbin, 0) AS default
FROM pg_type t
JOIN pg_namespace n ON n.oid = t.typnamespace
WHERE t.typtype IN ('e', 'd')
  AND n.nspname <> 'information_schema'
  AND n.nspname NOT LIKE 'pg\_%'
  AND NOT EXISTS (
      SELECT 1 FROM pg_depend d
      WHERE d.classid = 'pg_type'::regclass AND d.objid = t.oid AND d.deptype = 'e'
  )
ORDER BY t.oid
"#;

/// Sequences of user schemas, with the column that owns each (`a`: `OWNED BY` or serial,
/// `i`: identity).
const SEQUENCES: &str = r#"
SELECT n.nspname::text AS schema,
       c.relname::text AS name,
       tn.nspname::text AS owner_schema,
       t.relname::text AS owner_table,
       a.attname::text AS owner_column,
       COALESCE(d.deptype = 'i', false) AS identity
FROM pg_class c
JOIN pg_namespace n ON n.oid = c.relnamespace
LEFT JOIN pg_depend d
       ON d.classid = 'pg_class'::regclass AND d.objid = c.oid
      AND d.refclassid = 'pg_class'::regclass AND d.refobjsubid > 0
      AND d.deptype IN ('a', 'i')
LEFT JOIN pg_class t ON t.oid = d.refobjid
LEFT JOIN pg_namespace tn ON tn.oid = t.relnamespace
LEFT JOIN pg_attribute a ON a.attrelid = d.refobjid AND a.attnum = d.refobjsubid
WHERE c.relkind = 'S'
  AND n.nspname <> 'information_schema'
  AND n.nspname NOT LIKE 'pg\_%'
  AND NOT EXISTS (
      SELECT 1 FROM pg_depend e
      WHERE e.classid = 'pg_class'::regclass AND e.objid = c.oid AND e.deptype = 'e'
  )
ORDER BY c.oid
"#;

/// Runs each file's whole text, in order, in one session, as a migration tool applies a
/// file; an error names the file.
pub async fn apply_files(client: &Client, files: &[SourceFile]) -> Result<(), IntrospectError> {
    for file in files {
        client
            .batch_execute(&file.text)
            .await
            .map_err(|e| IntrospectError::Apply {
                path: file.path.clone(),
                message: db_message(&e),
            })?;
    }
    Ok(())
}

/// The database's write model as PostgreSQL has it. Sets `search_path` on `client`'s session.
pub async fn read_catalog(client: &Client) -> Result<Catalog, IntrospectError> {
    client.batch_execute("SET search_path = pg_catalog").await?;
    let mut catalog = Catalog::default();
    for row in client.query(SEQUENCES, &[]).await? {
        let owner_schema: Option<String> = row.get("owner_schema");
        let owner_table: Option<String> = row.get("owner_table");
        let owner_column: Option<String> = row.get("owner_column");
        let owned_by = match (owner_schema, owner_table, owner_column) {
            (Some(schema), Some(table), Some(column)) => {
                Some((QualifiedName::new(schema, table), column))
            }
            _ => None,
        };
        catalog.sequences.push(Sequence {
            name: QualifiedName::new(row.get::<_, String>("schema"), row.get::<_, String>("name")),
            owned_by,
            identity: row.get("identity"),
        });
    }
    for row in client.query(TABLES, &[]).await? {
        let oid: u32 = row.get("oid");
        let mut table = Table::new(QualifiedName::new(
            row.get::<_, String>("schema"),
            row.get::<_, String>("name"),
        ));
        table.partitioned = row.get("partitioned");
        table.partition_of = row
            .get::<_, Option<String>>("partition_of")
            .map(|parent| {
                QualifiedName::parse_sql(&parent).ok_or_else(|| {
                    IntrospectError::Unsupported(format!(
                        "the parent of {} is not a name: {parent}",
                        table.name
                    ))
                })
            })
            .transpose()?;
        table.comment = row.get("comment");
        for c in client.query(COLUMNS, &[&oid]).await? {
            let name: String = c.get("name");
            let type_text: String = c.get("type");
            let sql_type = column_type(&type_text).map_err(|e| {
                IntrospectError::Unsupported(format!("column {}.{name}: {e}", table.name))
            })?;
            table.columns.push(Column {
                name,
                sql_type,
                not_null: c.get("not_null"),
                default: c.get("default"),
                identity: identity(&c.get::<_, String>("identity")),
                generated: generated(&c.get::<_, String>("generated")),
                serial: false,
                comment: c.get("comment"),
                location: None,
            });
        }
        for index in client.query(INDEXES, &[&oid]).await? {
            let columns: Vec<String> = index.get("columns");
            let name: String = index.get("name");
            if index.get::<_, bool>("is_primary") {
                table.primary_key = columns;
                table.primary_key_name = Some(name);
            } else {
                table.uniques.push(UniqueKey {
                    name,
                    columns,
                    partial: index.get("partial"),
                    is_constraint: index.get("is_constraint"),
                });
            }
        }
        for fk in client.query(FOREIGN_KEYS, &[&oid]).await? {
            table.foreign_keys.push(ForeignKey {
                name: fk.get("name"),
                columns: fk.get("columns"),
                ref_table: QualifiedName::new(
                    fk.get::<_, String>("ref_schema"),
                    fk.get::<_, String>("ref_name"),
                ),
                ref_columns: fk.get("ref_columns"),
                on_delete: fk_action(&fk.get::<_, String>("on_delete")),
                on_update: fk_action(&fk.get::<_, String>("on_update")),
            });
        }
        for check in client.query(CHECKS, &[&oid]).await? {
            table.checks.push(check.get("name"));
        }
        table.checks.sort();
        catalog.tables.push(table);
    }
    mark_serial_columns(&mut catalog);
    for row in client.query(TYPES, &[]).await? {
        let name = QualifiedName::new(row.get::<_, String>("schema"), row.get::<_, String>("name"));
        if row.get::<_, String>("kind") == "e" {
            catalog
                .enums
                .push(EnumType::new(name, row.get::<_, Vec<String>>("labels")));
        } else {
            let base_text: String = row
                .get::<_, Option<String>>("base_type")
                .unwrap_or_default();
            let base_type = SqlType::parse_format_type(&base_text)
                .map_err(|e| IntrospectError::Unsupported(format!("domain {name}: {e}")))?;
            let mut domain = Domain::new(name, base_type);
            domain.not_null = row.get("not_null");
            domain.default = row.get("default");
            catalog.domains.push(domain);
        }
    }
    Ok(catalog)
}

/// A column's type from `format_type`, user types with their modifiers
/// (`public.geometry(Polygon,4326)`, `public.vector(3)`) included.
fn column_type(text: &str) -> Result<SqlType, String> {
    SqlType::parse_format_type(text)
}

/// A column is serial, for the write model, when its default draws from a sequence it owns
/// that is not an identity sequence: its value is the row's identity, as with `serial`.
fn mark_serial_columns(catalog: &mut Catalog) {
    let owned: Vec<(QualifiedName, String, String)> = catalog
        .sequences
        .iter()
        .filter(|s| !s.identity)
        .filter_map(|s| {
            let (table, column) = s.owned_by.clone()?;
            Some((table, column, Sequence::nextval_sql(&s.name)))
        })
        .collect();
    for table in &mut catalog.tables {
        for column in &mut table.columns {
            column.serial = column.identity.is_none()
                && owned.iter().any(|(t, c, nextval)| {
                    *t == table.name
                        && *c == column.name
                        && column.default.as_deref() == Some(nextval.as_str())
                });
        }
    }
}

/// The server's message, with detail and position, or the client error.
pub fn db_message(error: &tokio_postgres::Error) -> String {
    match error.as_db_error() {
        Some(db) => {
            let mut text = format!("{}: {}", db.severity(), db.message());
            if let Some(detail) = db.detail() {
                text.push_str(&format!(" (detail: {detail})"));
            }
            if let Some(tokio_postgres::error::ErrorPosition::Original(at)) = db.position() {
                text.push_str(&format!(" at character {at}"));
            }
            text
        }
        None => error.to_string(),
    }
}

/// `pg_attribute.attidentity`.
fn identity(code: &str) -> Option<Identity> {
    match code {
        "a" => Some(Identity::Always),
        "d" => Some(Identity::ByDefault),
        _ => None,
    }
}

/// `pg_attribute.attgenerated`.
fn generated(code: &str) -> Option<Generated> {
    match code {
        "s" => Some(Generated::Stored),
        "v" => Some(Generated::Virtual),
        _ => None,
    }
}

/// `pg_constraint.confdeltype` / `confupdtype`.
fn fk_action(code: &str) -> FkAction {
    match code {
        "r" => FkAction::Restrict,
        "c" => FkAction::Cascade,
        "n" => FkAction::SetNull,
        "d" => FkAction::SetDefault,
        _ => FkAction::NoAction,
    }
}
