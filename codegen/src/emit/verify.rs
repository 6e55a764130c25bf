//! `EXPECTED_SCHEMA` and `verify_database`: what the code expects of the database, as data,
//! and the function an application calls at start-up to compare the database with it.

use std::fmt::Write as _;

use super::doc;
use crate::verify::ExpectedSchema;

/// The const and the function, for the tables and enum types of `expected`.
pub(super) fn verify_code(expected: &ExpectedSchema) -> String {
    let mut tables = String::new();
    for table in &expected.tables {
        let columns: Vec<String> = table
            .columns
            .iter()
            .map(|c| {
                format!(
                    "v::ExpectedColumn::new({:?}, {:?}, {})",
                    c.name, c.sql_type, c.not_null
                )
            })
            .collect();
        let keys: Vec<String> = table
            .keys
            .iter()
            .map(|k| {
                let columns = k
                    .columns
                    .iter()
                    .map(|c| format!("{c:?}"))
                    .collect::<Vec<_>>();
                let columns = columns.join(", ");
                match (&k.constraint, k.primary) {
                    (Some(name), _) => {
                        format!(
                            "v::ExpectedKey::constraint({name:?}, &[{columns}], {:?})",
                            k.used_by
                        )
                    }
                    (None, true) => {
                        format!("v::ExpectedKey::primary(&[{columns}], {:?})", k.used_by)
                    }
                    (None, false) => {
                        format!("v::ExpectedKey::unique(&[{columns}], {:?})", k.used_by)
                    }
                }
            })
            .collect();
        let _ = write!(
            tables,
            "v::ExpectedTable::new({:?}, {:?}, &[{}], &[{}]),",
            table.schema,
            table.name,
            columns.join(", "),
            keys.join(", ")
        );
    }
    let mut enums = String::new();
    for e in &expected.enums {
        let labels: Vec<String> = e.labels.iter().map(|l| format!("{l:?}")).collect();
        let _ = write!(
            enums,
            "v::ExpectedEnum::new({:?}, {:?}, &[{}]),",
            e.schema,
            e.name,
            labels.join(", ")
        );
    }
    let mut code = doc(
        "The tables this code writes, as it was generated for them: each column's SQL type and \
         nullability, and the unique keys its statements rely on (primary keys, `ON CONFLICT` \
         targets, diff keys); and the labels of the enum types it maps. [`verify_database`] \
         compares the database with it.",
    );
    let _ = writeln!(
        code,
        "pub const EXPECTED_SCHEMA: ::writegraph::verify::ExpectedSchema<'static> = {{
            use ::writegraph::verify as v;
            v::ExpectedSchema {{ tables: &[{tables}], enums: &[{enums}] }}
        }};"
    );
    code.push_str(&doc(
        "Compares the database `client` is connected to with [`EXPECTED_SCHEMA`], for an \
         application to call at start-up, before it writes: `Ok` when this code can run against \
         it, else `writegraph::Error::SchemaMismatch` listing every difference (a missing table \
         or column, a changed type or nullability, a missing unique key, changed enum labels), each naming the table, \
         the column and both types. A write against a database that differs could fail after it \
         committed (a result it cannot read) or not fail where it should.\n\n\
         Named for what it checks (the database, against this code) rather than for the \
         library. It reads `pg_catalog` with three queries and writes nothing; it runs on any \
         client the generated writes take (a client, a transaction, a `CachedClient`, a pooled \
         connection).",
    ));
    code.push_str(
        "pub async fn verify_database(client: &impl ::writegraph::GenericClient) -> ::writegraph::Result<()> {
            ::writegraph::verify::verify_schema(client, &EXPECTED_SCHEMA).await
        }\n",
    );
    code
}
