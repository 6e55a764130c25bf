//! Reads a database's write model from `pg_catalog`, in the JSON shape of
//! `serde_json::to_value(&writegraph_codegen::Catalog)`.
//!
//! Types are spelled by `format_type` with `search_path = pg_catalog`, so built-in types come
//! out unqualified and every user type schema-qualified (`public.mood`, `"Shop"."Status"`), as
//! the catalog spells them. Only user schemas are read; objects owned by extensions are left
//! out. A partition reports its columns and `partition_of` but no keys: it is not a write
//! target, and the catalog records none for it.

use serde_json::{json, Value};
use tokio_postgres::Client;

/// Tables (`r`) and partitioned tables (`p`) of user schemas, not owned by an extension.
const TABLES: &str = r#"
SELECT c.oid,
       n.nspname::text AS schema,
       c.relname::text AS name,
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

/// Key columns of an index, in key order (INCLUDE columns left out).
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
       i.indpred IS NOT NULL AS partial
FROM pg_index i
JOIN pg_class ic ON ic.oid = i.indexrelid
WHERE i.indrelid = $1
  AND i.indisunique
  AND i.indexprs IS NULL
ORDER BY i.indexrelid
"#;

/// Foreign keys declared on the table itself (not the copies a partitioned parent's
/// foreign keys leave on partitions or for referenced partitions).
const FOREIGN_KEYS: &str = r#"
SELECT con.conname::text AS name,
       ARRAY(
           SELECT a.attname::text
           FROM unnest(con.conkey) WITH ORDINALITY AS k(attnum, ord)
           JOIN pg_attribute a ON a.attrelid = con.conrelid AND a.attnum = k.attnum
           ORDER BY k.ord
       ) AS columns,
       quote_ident(rn.nspname) || '.' || quote_ident(rc.relname) AS ref_table,
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
WHERE con.conrelid = $1 AND con.contype = 'f' AND con.conparentid = 0
ORDER BY con.oid
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
       t.typnotnull AS not_null
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

/// The database's write model as catalog JSON. Sets `search_path` on `client`'s session.
pub async fn introspect(client: &Client) -> Result<Value, tokio_postgres::Error> {
    client.batch_execute("SET search_path = pg_catalog").await?;
    let mut tables = Vec::new();
    for row in client.query(TABLES, &[]).await? {
        let oid: u32 = row.get("oid");
        let partition_of: Option<String> = row.get("partition_of");
        let columns = client
            .query(COLUMNS, &[&oid])
            .await?
            .iter()
            .map(|c| {
                json!({
                    "name": c.get::<_, String>("name"),
                    "type": c.get::<_, String>("type"),
                    "not_null": c.get::<_, bool>("not_null"),
                    "default": c.get::<_, Option<String>>("default"),
                    "identity": identity(&c.get::<_, String>("identity")),
                    "generated": generated(&c.get::<_, String>("generated")),
                    "comment": c.get::<_, Option<String>>("comment"),
                })
            })
            .collect::<Vec<_>>();
        let mut primary_key = Vec::<String>::new();
        let mut uniques = Vec::new();
        let mut foreign_keys = Vec::new();
        if partition_of.is_none() {
            for index in client.query(INDEXES, &[&oid]).await? {
                let columns: Vec<String> = index.get("columns");
                if index.get::<_, bool>("is_primary") {
                    primary_key = columns;
                } else {
                    uniques.push(json!({
                        "name": index.get::<_, String>("name"),
                        "columns": columns,
                        "partial": index.get::<_, bool>("partial"),
                    }));
                }
            }
            for fk in client.query(FOREIGN_KEYS, &[&oid]).await? {
                foreign_keys.push(json!({
                    "name": fk.get::<_, String>("name"),
                    "columns": fk.get::<_, Vec<String>>("columns"),
                    "ref_table": fk.get::<_, String>("ref_table"),
                    "ref_columns": fk.get::<_, Vec<String>>("ref_columns"),
                    "on_delete": fk_action(&fk.get::<_, String>("on_delete")),
                    "on_update": fk_action(&fk.get::<_, String>("on_update")),
                }));
            }
        }
        tables.push(json!({
            "schema": row.get::<_, String>("schema"),
            "name": row.get::<_, String>("name"),
            "partition_of": partition_of,
            "columns": columns,
            "primary_key": primary_key,
            "uniques": uniques,
            "foreign_keys": foreign_keys,
            "comment": row.get::<_, Option<String>>("comment"),
        }));
    }
    let mut enums = Vec::new();
    let mut domains = Vec::new();
    for row in client.query(TYPES, &[]).await? {
        let schema: String = row.get("schema");
        let name: String = row.get("name");
        if row.get::<_, String>("kind") == "e" {
            enums.push(json!({
                "schema": schema,
                "name": name,
                "labels": row.get::<_, Vec<String>>("labels"),
            }));
        } else {
            domains.push(json!({
                "schema": schema,
                "name": name,
                "base_type": row.get::<_, Option<String>>("base_type"),
                "not_null": row.get::<_, bool>("not_null"),
            }));
        }
    }
    Ok(json!({ "tables": tables, "enums": enums, "domains": domains }))
}

/// `pg_attribute.attidentity`.
fn identity(code: &str) -> Value {
    match code {
        "a" => json!("always"),
        "d" => json!("by default"),
        _ => Value::Null,
    }
}

/// `pg_attribute.attgenerated`.
fn generated(code: &str) -> Value {
    match code {
        "s" => json!("stored"),
        "v" => json!("virtual"),
        _ => Value::Null,
    }
}

/// `pg_constraint.confdeltype` / `confupdtype`.
fn fk_action(code: &str) -> &'static str {
    match code {
        "r" => "restrict",
        "c" => "cascade",
        "n" => "set null",
        "d" => "set default",
        _ => "no action",
    }
}
