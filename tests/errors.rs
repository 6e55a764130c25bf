//! What a program can ask of a `writegraph::Error`: the constraint predicates on real
//! violations PostgreSQL reports, and `transaction!` with an application's own error type.
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

// ---------------------------------------------------------------------------------------
// 2. transaction! with the application's error type
// ---------------------------------------------------------------------------------------

/// An application's own error: writegraph's, or one of its own rules.
#[derive(Debug)]
enum AppError {
    Db(Error),
    TooManyItems(usize),
}

impl From<Error> for AppError {
    fn from(error: Error) -> Self {
        AppError::Db(error)
    }
}

#[tokio::test]
async fn transaction_macro_commits_with_an_application_error_type() -> TestResult {
    let (_db, mut client) = shop().await?;
    let outcome = writegraph::transaction!(&mut client, |tx| -> Result<i64, AppError> {
        let order = NewOrder::new("alice").insert_returning(&tx).await?;
        NewOrderItem::new("A-1", 2)
            .with_order_id(order.id)
            .insert(&tx)
            .await?;
        Ok(order.id)
    })
    .await;
    let id = match outcome {
        Ok(id) => id,
        Err(error) => return Err(format!("expected a commit, got {error:?}").into()),
    };
    let rows: Vec<(i64, String, i32)> = client
        .query("SELECT order_id, sku, qty FROM order_items", &[])
        .await?
        .iter()
        .map(|r| (r.get(0), r.get(1), r.get(2)))
        .collect();
    assert_eq!(rows, vec![(id, "A-1".to_owned(), 2)]);
    Ok(())
}

#[tokio::test]
async fn transaction_macro_rolls_back_on_the_application_s_own_error() -> TestResult {
    let (_db, mut client) = shop().await?;
    let outcome = writegraph::transaction!(&mut client, |tx| -> Result<(), AppError> {
        NewOrder::new("alice").insert(&tx).await?;
        let items = 3;
        if items > 2 {
            return Err(AppError::TooManyItems(items));
        }
        Ok(())
    })
    .await;
    assert!(
        matches!(outcome, Err(AppError::TooManyItems(3))),
        "{outcome:?}"
    );
    assert_eq!(count(&client, "SELECT count(*) FROM orders").await?, 0);
    Ok(())
}

#[tokio::test]
async fn transaction_macro_converts_a_writegraph_error_with_question_mark() -> TestResult {
    let (_db, mut client) = shop().await?;
    let outcome = writegraph::transaction!(&mut client, |tx| -> Result<(), AppError> {
        NewOrder::new("alice").insert(&tx).await?;
        NewOrderItem::new("A-1", 1)
            .with_order_id(424_242)
            .insert(&tx)
            .await?;
        Ok(())
    })
    .await;
    match outcome {
        Err(AppError::Db(error)) => assert!(error.is_foreign_key_violation(), "{error:?}"),
        other => return Err(format!("expected AppError::Db, got {other:?}").into()),
    }
    assert_eq!(count(&client, "SELECT count(*) FROM orders").await?, 0);
    Ok(())
}

#[tokio::test]
async fn transaction_macro_accepts_a_boxed_error() -> TestResult {
    let (_db, mut client) = shop().await?;
    let outcome = writegraph::transaction!(&mut client, |tx| -> TestResult<()> {
        NewOrder::new("alice").insert(&tx).await?;
        Err("the caller changed its mind".into())
    })
    .await;
    assert_eq!(
        outcome.map_err(|e| e.to_string()),
        Err("the caller changed its mind".to_owned())
    );
    assert_eq!(count(&client, "SELECT count(*) FROM orders").await?, 0);
    Ok(())
}
