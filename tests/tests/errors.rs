//! What a program can ask of a `writegraph::Error`: the constraint predicates on real
//! violations PostgreSQL reports, `transaction!` with an application's own error type, and
//! the kind of each validation error generated code returns.
//!
//! Every test gets its own database and reads back with plain SQL that nothing was written.

use std::fmt::Debug;

use tokio_postgres::Client;
use writegraph::types::Uuid;
use writegraph::{Error, ValidationError, ValidationKind};
use writegraph_example::{
    CategorizedProductGraph, NewCategory, NewOrder, NewOrderGraph, NewOrderItem,
    NewOrderItemForOrder, NewProductDetailForProduct, NewShippingAddressForOrder, OrderPatch,
    OrderReplaceGraph, ShippingAddressPatch, SCHEMA_SQL,
};
use writegraph_testing::{self as testing, CountingClient, TestDatabase};

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
    NewOrderItem::new(order.id, "A-1", 1)
        .insert(&client)
        .await?;
    let error = expect_db_error(NewOrderItem::new(order.id, "A-1", 2).insert(&client).await)?;
    assert_eq!(predicates(&error), [true, false, false, false]);
    assert_eq!(error.constraint(), Some("uq_order_items"));
    assert_eq!(count(&client, "SELECT count(*) FROM order_items").await?, 1);
    Ok(())
}

#[tokio::test]
async fn a_missing_parent_is_a_foreign_key_violation_only() -> TestResult {
    let (_db, client) = shop().await?;
    let error = expect_db_error(NewOrderItem::new(424_242, "A-1", 1).insert(&client).await)?;
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
    let error = expect_db_error(NewOrderItem::new(order.id, "A-1", 0).insert(&client).await)?;
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
    let validation = NewOrderItem::new(424_242, "A\u{0}1", 1)
        .insert(&client)
        .await;
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
        NewOrderItem::new(order.id, "A-1", 2).insert(&tx).await?;
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
        NewOrderItem::new(424_242, "A-1", 1).insert(&tx).await?;
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

// ---------------------------------------------------------------------------------------
// 3. Validation kinds of generated code's checks
// ---------------------------------------------------------------------------------------

/// The kind of a validation error, or a message saying what came instead.
fn expect_kind<T: Debug>(result: writegraph::Result<T>) -> TestResult<ValidationKind> {
    match result {
        Err(Error::Validation(validation)) => Ok(validation.kind()),
        other => Err(format!("expected Error::Validation, got {other:?}").into()),
    }
}

#[tokio::test]
async fn each_check_of_generated_code_has_its_kind_and_sends_nothing() -> TestResult {
    let (_db, client) = shop().await?;
    let category = NewCategory::new("Lamps").insert_returning(&client).await?;
    let order = NewOrder::new("alice").insert_returning(&client).await?;
    let counting = CountingClient::new(&client);
    let shipped = |zip: &str| {
        NewOrderGraph::new("ann")
            .with_items(vec![NewOrderItemForOrder::new("A", 1)])
            .with_shipping(NewShippingAddressForOrder::new("1 Main St", "Berlin", zip))
    };
    let product = || {
        CategorizedProductGraph::new(
            Uuid::from_u128(1),
            "Lamp",
            NewProductDetailForProduct::new("brass"),
        )
    };
    let cases = [
        (
            "required parent given neither way",
            expect_kind(product().insert_graph(&counting).await)?,
            ValidationKind::MissingValue,
        ),
        (
            "parent given both ways",
            expect_kind(
                product()
                    .with_category_id(category.id)
                    .with_category(NewCategory::new("Lights"))
                    .insert_graph(&counting)
                    .await,
            )?,
            ValidationKind::ConflictingParent,
        ),
        (
            "zip longer than varchar(16)",
            expect_kind(shipped("12345678901234567").insert_graph(&counting).await)?,
            ValidationKind::TooLong,
        ),
        (
            "NUL byte",
            expect_kind(shipped("10\u{0}115").insert_graph(&counting).await)?,
            ValidationKind::NulByte,
        ),
        (
            "repeated conflict key",
            expect_kind(
                NewCategory::upsert_many(
                    &counting,
                    vec![NewCategory::new("Books"), NewCategory::new("Books")],
                )
                .await,
            )?,
            ValidationKind::RepeatedKey,
        ),
        (
            "empty patch",
            expect_kind(
                OrderPatch::default()
                    .update_by_id(&counting, &order.id)
                    .await,
            )?,
            ValidationKind::NoOperations,
        ),
        (
            "patch with a NUL byte",
            expect_kind(
                OrderPatch::default()
                    .with_customer("a\u{0}b")
                    .update_by_id(&counting, &order.id)
                    .await,
            )?,
            ValidationKind::NulByte,
        ),
        (
            "patched zip longer than varchar(16)",
            expect_kind(
                ShippingAddressPatch::default()
                    .with_zip("12345678901234567")
                    .update_by_id_returning(&counting, &1)
                    .await,
            )?,
            ValidationKind::TooLong,
        ),
        (
            "empty update graph",
            expect_kind(
                OrderReplaceGraph::default()
                    .update_by_id_graph_report(&counting, &order.id)
                    .await,
            )?,
            ValidationKind::NoOperations,
        ),
    ];
    for (case, kind, expected) in cases {
        assert_eq!(kind, expected, "{case}");
    }
    assert_eq!(counting.statements(), 0);
    assert_eq!(count(&client, "SELECT count(*) FROM categories").await?, 1);
    assert_eq!(count(&client, "SELECT count(*) FROM orders").await?, 1);
    assert_eq!(count(&client, "SELECT count(*) FROM order_items").await?, 0);
    assert_eq!(count(&client, "SELECT count(*) FROM products").await?, 0);
    Ok(())
}

/// Every fixed message a write can fail with as `Error::Validation("..".into())` has a kind:
/// none falls through to `Other`. Read from the checked-in generated code of the codegen
/// fixture, which covers every graph kind, and from the runtime's write traits, whose
/// bodies the generated code delegates to.
#[test]
fn no_message_of_generated_code_is_of_kind_other() -> TestResult {
    let root = concat!(env!("CARGO_MANIFEST_DIR"), "/..");
    let paths = [
        "codegen/tests/fixtures/generate/shop.rs",
        "runtime/src/write/insert.rs",
        "runtime/src/write/patch.rs",
        "runtime/src/write/graph.rs",
        "runtime/src/write/table.rs",
    ];
    let mut messages = 0;
    for path in paths {
        let code = std::fs::read_to_string(format!("{root}/{path}"))?;
        for (at, _) in code.match_indices("Error::Validation(") {
            let rest = &code[at..];
            let Some(open) = rest.find('"') else { continue };
            let Some(close) = rest[open + 1..].find('"') else {
                continue;
            };
            // Only literals passed straight in: `Validation(\n "...".into())`.
            if rest[..open].trim_end().len() > "Error::Validation(".len() {
                continue;
            }
            let message = &rest[open + 1..open + 1 + close];
            let kind = ValidationError::from(message).kind();
            assert_ne!(kind, ValidationKind::Other, "{path}: {message}");
            messages += 1;
        }
    }
    assert!(messages >= 4, "read only {messages} messages");
    Ok(())
}
