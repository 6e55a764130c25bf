//! Holds the insert defaults of serial and identity columns against PostgreSQL: the model
//! names a column's sequence directly (`nextval('public.orders_id_seq'::regclass)`), so the
//! name must be the one PostgreSQL has, or every insert that leaves the column out fails.

use tokio_postgres::Client;
use writegraph_codegen::catalog::Identity;
use writegraph_codegen::{ident, validate, Catalog};

use super::{db_message, report, TestResult};

/// A column whose model default draws from the sequence the column owns.
#[derive(Debug, Clone)]
pub struct SequenceDefault {
    /// The table, as SQL (`"public"."orders"`).
    pub table: String,
    /// The column, unquoted.
    pub column: String,
    /// The model's default SQL for the column.
    pub default_sql: String,
    /// The sequence as `pg_get_serial_sequence` reports it (`public.orders_id_seq`).
    pub sequence: String,
}

/// The owning column's sequence, as `schema.name` quoted where needed.
const SERIAL_SEQUENCE: &str =
    "SELECT pg_catalog.pg_get_serial_sequence(pg_catalog.quote_ident($1) || '.' || pg_catalog.quote_ident($2), $3)";

/// A column's DEFAULT as PostgreSQL prints it with an empty search path.
const COLUMN_DEFAULT: &str = r#"
SELECT pg_catalog.pg_get_expr(d.adbin, d.adrelid)
FROM pg_catalog.pg_attrdef d
JOIN pg_catalog.pg_attribute a ON a.attrelid = d.adrelid AND a.attnum = d.adnum
WHERE d.adrelid = (pg_catalog.quote_ident($1) || '.' || pg_catalog.quote_ident($2))::pg_catalog.regclass
  AND a.attname = $3
"#;

/// Checks every serial and identity BY DEFAULT column of the catalog's write targets: its
/// model default must be `nextval('<sequence>'::regclass)` with the sequence
/// `pg_get_serial_sequence` reports for the column, and for a serial column PostgreSQL's own
/// DEFAULT must read the same. Returns the columns checked.
pub async fn check_sequence_defaults(
    label: &str,
    client: &Client,
    catalog: &Catalog,
) -> TestResult<Vec<SequenceDefault>> {
    let mut checked = Vec::new();
    let mut problems = Vec::new();
    for table in catalog.write_targets() {
        for column in &table.columns {
            if !(column.serial || column.identity == Some(Identity::ByDefault)) {
                continue;
            }
            let at = format!(
                "{}.{}",
                table.name,
                ident::quote_ident_if_needed(&column.name)
            );
            let params: [&(dyn tokio_postgres::types::ToSql + Sync); 3] =
                [&table.name.schema, &table.name.name, &column.name];
            let sequence: Option<String> = client
                .query_one(SERIAL_SEQUENCE, &params)
                .await
                .map_err(|e| report(format!("{label}: {at}: {}", db_message(&e))))?
                .get(0);
            let Some(sequence) = sequence else {
                problems.push(format!(
                    "{at}: PostgreSQL reports no sequence owned by the column"
                ));
                continue;
            };
            let expected = format!("nextval({}::regclass)", validate::sql_string(&sequence));
            let default_sql = validate::default_sql(catalog, table, column).unwrap_or_default();
            if default_sql != expected {
                problems.push(format!(
                    "{at}: the model's default is `{default_sql}`, PostgreSQL's sequence is {sequence} (`{expected}`)"
                ));
            }
            if column.serial {
                let postgres_default: Option<String> = client
                    .query_opt(COLUMN_DEFAULT, &params)
                    .await
                    .map_err(|e| report(format!("{label}: {at}: {}", db_message(&e))))?
                    .and_then(|row| row.get(0));
                if postgres_default.as_deref() != Some(expected.as_str()) {
                    problems.push(format!(
                        "{at}: PostgreSQL's DEFAULT is {postgres_default:?}, not `{expected}`"
                    ));
                }
            }
            checked.push(SequenceDefault {
                table: table.name.to_sql_quoted(),
                column: column.name.clone(),
                default_sql,
                sequence,
            });
        }
    }
    if problems.is_empty() {
        Ok(checked)
    } else {
        Err(report(format!(
            "sequence defaults of {label} do not name PostgreSQL's sequences:\n  {}",
            problems.join("\n  ")
        )))
    }
}

/// Inserts one row per column, setting only that column to its model default, and requires
/// the value to come from the column's sequence: the session's `currval` of that sequence
/// must be the value inserted. The table's other columns must accept a row without them.
pub async fn insert_with_model_defaults(
    client: &Client,
    columns: &[SequenceDefault],
) -> TestResult {
    for column in columns {
        let insert = format!(
            "INSERT INTO {} ({}) VALUES ({}) RETURNING {}::bigint",
            column.table,
            ident::quote_ident(&column.column),
            column.default_sql,
            ident::quote_ident(&column.column)
        );
        let inserted: i64 = client
            .query_one(&insert, &[])
            .await
            .map_err(|e| report(format!("{insert}\nfailed: {}", db_message(&e))))?
            .get(0);
        let current: i64 = client
            .query_one(
                "SELECT pg_catalog.currval($1::text::pg_catalog.regclass)",
                &[&column.sequence],
            )
            .await
            .map_err(|e| {
                report(format!(
                    "currval of {}: {}",
                    column.sequence,
                    db_message(&e)
                ))
            })?
            .get(0);
        if inserted != current {
            return Err(report(format!(
                "{insert}\ninserted {inserted}, but {} is at {current}",
                column.sequence
            )));
        }
    }
    Ok(())
}
