//! What a program can ask of a `writegraph::Error`: the constraint predicates on real
//! violations PostgreSQL reports.
//!
//! Every test gets its own database and reads back with plain SQL that nothing was written.

use std::fmt::Debug;

use tokio_postgres::Client;
use writegraph::testing::{self, TestDatabase};
use writegraph::Error;
use writegraph_example::{NewOrder, NewOrderItem, OrderPatch, SCHEMA_SQL};

type TestResult<T = ()> = Result<T, Box<dyn std::error::Error>>;

/// A fresh database with the shop schema; keep the `TestDatabase` alive while using the client.
async fn shop() -> TestResult<(TestDatabase, Client)> {
    let db = testing::database_with_schema(SCHEMA_SQL).await?;
    let client = db.connect().await?;
    Ok((db, client))
}

async fn count(client: &Client, sql: &str) -> TestResult<i64> {
    Ok(client.query_one(sql, &[]).await?.get(0))
}

fn expect_db_error<T: Debug>(result: writegraph::Result<T>) -> TestResult<Error> {
    match result {
        Err(error @ Error::Db { .. }) => Ok(error),
        other => Err(format!("expected Error::Db, got {other:?}").into()),
    }
}

/// The four predicates, in the order unique, foreign key, not null, check.
fn predicates(error: &Error) -> [bool; 4] {
    [
        error.is_unique_violation(),
        error.is_foreign_key_violation(),
        error.is_not_null_violation(),
        error.is_check_violation(),
    ]
}

// ---------------------------------------------------------------------------------------
// 1. Constraint predicates
// ---------------------------------------------------------------------------------------

#[tokio::test]
async fn a_repeated_unique_key_is_a_unique_violation_only() -> TestResult {
    let (_db, client) = shop().await?;
    let order = NewOrder::new("alice").insert_returning(&client).await?;
    NewOrderItem::new("A-1", 1)
        .with_order_id(order.id)
        .insert(&client)
        .await?;
    let error = expect_db_error(
        NewOrderItem::new("A-1", 2)
            .with_order_id(order.id)
            .insert(&client)
            .await,
    )?;
    assert_eq!(predicates(&error), [true, false, false, false]);
    assert_eq!(error.constraint(), Some("uq_order_items"));
    assert_eq!(count(&client, "SELECT count(*) FROM order_items").await?, 1);
    Ok(())
}

#[tokio::test]
async fn a_missing_parent_is_a_foreign_key_violation_only() -> TestResult {
    let (_db, client) = shop().await?;
    let error = expect_db_error(
        NewOrderItem::new("A-1", 1)
            .with_order_id(424_242)
            .insert(&client)
            .await,
    )?;
    assert_eq!(predicates(&error), [false, true, false, false]);
    assert_eq!(error.constraint(), Some("order_items_order_id_fkey"));
    assert_eq!(count(&client, "SELECT count(*) FROM order_items").await?, 0);
    Ok(())
}

#[tokio::test]
async fn a_null_in_a_not_null_column_is_a_not_null_violation_only() -> TestResult {
    let (_db, client) = shop().await?;
    // Generated code refuses an unset required value before sending, so plain SQL sends it.
    let outcome = client
        .execute(
            "INSERT INTO \"orders\" (\"customer\") VALUES ($1)",
            &[&None::<String>],
        )
        .await
        .map_err(Error::from);
    let error = expect_db_error(outcome)?;
    assert_eq!(predicates(&error), [false, false, true, false]);
    assert_eq!(error.column(), Some("customer"));
    assert_eq!(error.constraint(), None);
    assert_eq!(count(&client, "SELECT count(*) FROM orders").await?, 0);
    Ok(())
}

#[tokio::test]
async fn a_failed_check_is_a_check_violation_only() -> TestResult {
    let (_db, client) = shop().await?;
    let order = NewOrder::new("alice").insert_returning(&client).await?;
    let error = expect_db_error(
        NewOrderItem::new("A-1", 0)
            .with_order_id(order.id)
            .insert(&client)
            .await,
    )?;
    assert_eq!(predicates(&error), [false, false, false, true]);
    assert_eq!(error.constraint(), Some("order_items_qty_check"));
    assert_eq!(count(&client, "SELECT count(*) FROM order_items").await?, 0);
    Ok(())
}

#[tokio::test]
async fn errors_postgresql_did_not_report_match_no_predicate() -> TestResult {
    let (_db, client) = shop().await?;
    let not_found = OrderPatch::default()
        .with_customer("mallory")
        .update_by_id(&client, &424_242)
        .await;
    let validation = NewOrderItem::new("A-1", 1).insert(&client).await;
    for outcome in [not_found.map(|_| ()), validation.map(|_| ())] {
        let error = match outcome {
            Err(error) => error,
            Ok(()) => return Err("expected an error".into()),
        };
        assert!(!matches!(error, Error::Db { .. }), "{error:?}");
        assert_eq!(predicates(&error), [false; 4], "{error:?}");
        assert_eq!(error.constraint(), None);
    }
    assert_eq!(count(&client, "SELECT count(*) FROM order_items").await?, 0);
    Ok(())
}
