//! The example's generated code agrees with the database its schema builds.

use writegraph_example::{tables, SCHEMA_SQL};
use writegraph_testing as testing;

#[tokio::test]
async fn every_generated_table_exists_and_starts_empty() -> Result<(), Box<dyn std::error::Error>> {
    let db = testing::database_with_schema(SCHEMA_SQL).await?;
    let client = db.connect().await?;
    let in_database: i64 = client
        .query_one(
            "SELECT count(*) FROM pg_tables WHERE schemaname = 'public'",
            &[],
        )
        .await?
        .get(0);
    assert_eq!(in_database, tables::ALL.len() as i64);
    for table in tables::ALL {
        let rows: i64 = client
            .query_one(&format!("SELECT count(*) FROM {table}"), &[])
            .await?
            .get(0);
        assert_eq!(rows, 0, "{table}");
    }
    Ok(())
}
