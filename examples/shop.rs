//! The example shop end to end: a database with the schema applied (a throwaway PostgreSQL,
//! or a fresh database on the server `DATABASE_URL` names), then the generated code at work.
//!
//! Run it with `cargo run --example shop`.

use writegraph::testing;
use writegraph_example::{tables, SCHEMA_SQL};

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let db = testing::database_with_schema(SCHEMA_SQL).await?;
    let client = db.connect().await?;
    println!("database `{}` ready", db.name());

    // Every table the generator found is a table PostgreSQL has.
    for table in tables::ALL {
        let count: i64 = client
            .query_one(&format!("SELECT count(*) FROM {table}"), &[])
            .await?
            .get(0);
        println!("{table:40} {count} rows");
    }
    println!("ok: {} tables", tables::ALL.len());
    Ok(())
}
