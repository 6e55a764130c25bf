//! Inserts that skip rows whose conflict key is stored (`insert_ignore`,
//! `insert_ignore_returning`, `insert_many_ignore`: `INSERT ... ON CONFLICT (..) DO NOTHING`)
//! against PostgreSQL: what they return, the rows present after, stored rows left as they
//! are, repeated keys inside one batch, the conflict target by columns and by constraint,
//! statement counts, and the errors that skipping does not swallow.
//!
//! Every test gets its own database and reads back with plain SQL the rows it claims were
//! written.

use std::fmt::Debug;

use tokio_postgres::Client;
use writegraph::types::chrono::{DateTime, Utc};
use writegraph::types::Uuid;
use writegraph::{Error, ValidationKind};
use writegraph_example::{
    NewCategory, NewOrder, NewOrderItem, NewProduct, NewProductTag, NewTeam, NewUser, SCHEMA_SQL,
};
use writegraph_testing::{self as testing, CountingClient, TestDatabase};

type TestResult<T = ()> = Result<T, Box<dyn std::error::Error>>;

/// `timestamptz` as the example schema's generated code has it (chrono).
type Timestamptz = DateTime<Utc>;

/// A fresh database with the shop schema; keep the `TestDatabase` alive while using the client.
async fn shop() -> TestResult<(TestDatabase, Client)> {
    let db = testing::database_with_schema(SCHEMA_SQL).await?;
    let client = db.connect().await?;
    Ok((db, client))
}

async fn count(client: &Client, sql: &str) -> TestResult<i64> {
    Ok(client.query_one(sql, &[]).await?.get(0))
}

/// Every user as `(id, email, name, created_at)`, by id.
async fn users(client: &Client) -> TestResult<Vec<(i64, String, Option<String>, Timestamptz)>> {
    Ok(client
        .query(
            "SELECT id, email, name, created_at FROM users ORDER BY id",
            &[],
        )
        .await?
        .iter()
        .map(|r| (r.get(0), r.get(1), r.get(2), r.get(3)))
        .collect())
}

/// The items of one order as `(sku, qty, price_cents)`, by sku.
async fn items(client: &Client, order: i64) -> TestResult<Vec<(String, i32, i64)>> {
    Ok(client
        .query(
            "SELECT sku, qty, price_cents FROM order_items WHERE order_id = $1 ORDER BY sku",
            &[&order],
        )
        .await?
        .iter()
        .map(|r| (r.get(0), r.get(1), r.get(2)))
        .collect())
}

fn item(sku: &str, qty: i32, price_cents: i64) -> (String, i32, i64) {
    (sku.to_owned(), qty, price_cents)
}

fn expect_db_error<T: Debug>(result: writegraph::Result<T>) -> TestResult<Error> {
    match result {
        Err(error @ Error::Db { .. }) => Ok(error),
        other => Err(format!("expected Error::Db, got {other:?}").into()),
    }
}

// ---------------------------------------------------------------------------------------
// 1. One row: inserted or skipped
// ---------------------------------------------------------------------------------------

#[tokio::test]
async fn insert_ignore_inserts_a_new_key_and_skips_a_stored_one() -> TestResult {
    let (_db, client) = shop().await?;
    let counting = CountingClient::new(&client);

    let first = NewCategory::new("Books").insert_ignore(&counting).await?;
    let again = NewCategory::new("Books").insert_ignore(&counting).await?;
    let other = NewCategory::new("Games").insert_ignore(&counting).await?;
    assert_eq!((first, again, other), (1, 0, 1));
    assert_eq!(counting.statements(), 3);

    let stored: Vec<String> = client
        .query("SELECT name FROM categories ORDER BY id", &[])
        .await?
        .iter()
        .map(|r| r.get(0))
        .collect();
    assert_eq!(stored, ["Books", "Games"]);
    Ok(())
}

#[tokio::test]
async fn a_skipped_row_leaves_every_column_of_the_stored_row_as_it_was() -> TestResult {
    let (_db, client) = shop().await?;
    let ann = NewUser::new("ann@example.com")
        .with_name("Ann")
        .insert_returning(&client)
        .await?;

    // The same email with another name and creation time: skipped, where an upsert would
    // have updated the name (users' conflict_update).
    let skipped = NewUser::new("ann@example.com")
        .with_name("Annie")
        .with_created_at(Timestamptz::from_timestamp(1_600_000_000, 0).ok_or("timestamp")?)
        .insert_ignore(&client)
        .await?;
    assert_eq!(skipped, 0);
    assert_eq!(
        users(&client).await?,
        vec![(
            ann.id,
            "ann@example.com".to_owned(),
            Some("Ann".to_owned()),
            ann.created_at
        )]
    );
    Ok(())
}

#[tokio::test]
async fn a_row_skipped_by_its_name_writes_no_row_under_the_id_it_gives() -> TestResult {
    let (_db, client) = shop().await?;
    let books = NewCategory::new("Books").insert_returning(&client).await?;
    // A row that names its own id and a stored name: skipped, no row with that id.
    let skipped = NewCategory::new("Books")
        .with_id(books.id + 10)
        .insert_ignore(&client)
        .await?;
    assert_eq!(skipped, 0);
    let stored: Vec<(i32, String)> = client
        .query("SELECT id, name FROM categories ORDER BY id", &[])
        .await?
        .iter()
        .map(|r| (r.get(0), r.get(1)))
        .collect();
    assert_eq!(stored, vec![(books.id, "Books".to_owned())]);
    Ok(())
}

// ---------------------------------------------------------------------------------------
// 2. The returning form
// ---------------------------------------------------------------------------------------

#[tokio::test]
async fn insert_ignore_returning_gives_the_row_it_inserted_and_none_when_it_skips() -> TestResult {
    let (_db, client) = shop().await?;
    let counting = CountingClient::new(&client);

    let inserted = NewTeam::new("core")
        .insert_ignore_returning(&counting)
        .await?
        .ok_or("expected the new team")?;
    assert_eq!(inserted.name, "core");
    let stored: (i32, String, Timestamptz) = {
        let row = client
            .query_one("SELECT id, name, created_at FROM teams", &[])
            .await?;
        (row.get(0), row.get(1), row.get(2))
    };
    assert_eq!(
        stored,
        (inserted.id, "core".to_owned(), inserted.created_at)
    );

    // The stored row with that key is not returned: DO NOTHING returns no row.
    let skipped = NewTeam::new("core")
        .insert_ignore_returning(&counting)
        .await?;
    assert_eq!(skipped, None);
    assert_eq!(counting.statements(), 2);
    assert_eq!(count(&client, "SELECT count(*) FROM teams").await?, 1);
    Ok(())
}

// ---------------------------------------------------------------------------------------
// 3. Batches
// ---------------------------------------------------------------------------------------

#[tokio::test]
async fn insert_many_ignore_counts_only_the_rows_it_inserted() -> TestResult {
    let (_db, client) = shop().await?;
    let order = NewOrder::new("alice").insert_returning(&client).await?.id;
    NewOrderItem::new(order, "A-1", 1)
        .with_price_cents(100)
        .insert(&client)
        .await?;

    let counting = CountingClient::new(&client);
    let inserted = NewOrderItem::insert_many_ignore(
        &counting,
        vec![
            NewOrderItem::new(order, "A-0", 5),
            // (order, A-1) is stored: skipped, its qty and price stay.
            NewOrderItem::new(order, "A-1", 9).with_price_cents(900),
            NewOrderItem::new(order, "A-2", 2).with_price_cents(250),
        ],
    )
    .await?;
    assert_eq!((inserted, counting.statements()), (2, 1));
    assert_eq!(
        items(&client, order).await?,
        vec![item("A-0", 5, 0), item("A-1", 1, 100), item("A-2", 2, 250)]
    );
    Ok(())
}

#[tokio::test]
async fn a_batch_that_repeats_a_key_inserts_the_first_row_and_skips_the_rest() -> TestResult {
    let (_db, client) = shop().await?;
    let order = NewOrder::new("alice").insert_returning(&client).await?.id;
    let other = NewOrder::new("bob").insert_returning(&client).await?.id;
    NewOrderItem::new(order, "A-3", 3).insert(&client).await?;

    // upsert_many refuses this batch; the insert that skips takes it as it is.
    let counting = CountingClient::new(&client);
    let inserted = NewOrderItem::insert_many_ignore(
        &counting,
        vec![
            NewOrderItem::new(order, "A-1", 1),
            NewOrderItem::new(order, "A-2", 2),
            NewOrderItem::new(order, "A-1", 10),
            // The same sku under another order is another key.
            NewOrderItem::new(other, "A-1", 4),
            NewOrderItem::new(order, "A-3", 30),
            NewOrderItem::new(order, "A-3", 31),
            NewOrderItem::new(order, "A-1", 11),
        ],
    )
    .await?;
    assert_eq!((inserted, counting.statements()), (3, 1));
    assert_eq!(
        items(&client, order).await?,
        vec![item("A-1", 1, 0), item("A-2", 2, 0), item("A-3", 3, 0)]
    );
    assert_eq!(items(&client, other).await?, vec![item("A-1", 4, 0)]);
    Ok(())
}

#[tokio::test]
async fn an_empty_batch_sends_nothing_and_inserts_nothing() -> TestResult {
    let (_db, client) = shop().await?;
    let counting = CountingClient::new(&client);
    assert_eq!(
        NewOrderItem::insert_many_ignore(&counting, vec![]).await?,
        0
    );
    assert_eq!(NewCategory::insert_many_ignore(&counting, vec![]).await?, 0);
    assert_eq!(counting.statements(), 0);
    assert_eq!(count(&client, "SELECT count(*) FROM order_items").await?, 0);
    assert_eq!(count(&client, "SELECT count(*) FROM categories").await?, 0);
    Ok(())
}

#[tokio::test]
async fn a_conflict_constraint_skips_by_that_constraints_key() -> TestResult {
    let (_db, client) = shop().await?;
    let product = Uuid::from_u128(0x5eed);
    NewProduct::new(product, "Lamp").insert(&client).await?;
    let created = Timestamptz::from_timestamp(1_600_000_000, 0).ok_or("timestamp")?;
    NewProductTag::new(product, "blue")
        .with_created_at(created)
        .insert(&client)
        .await?;

    let inserted = NewProductTag::insert_many_ignore(
        &client,
        vec![
            NewProductTag::new(product, "blue"),
            NewProductTag::new(product, "red"),
            NewProductTag::new(product, "red"),
        ],
    )
    .await?;
    assert_eq!(inserted, 1);
    let tags: Vec<(String, bool)> = client
        .query(
            "SELECT tag, created_at = $1 FROM product_tags ORDER BY tag",
            &[&created],
        )
        .await?
        .iter()
        .map(|r| (r.get(0), r.get(1)))
        .collect();
    assert_eq!(
        tags,
        vec![("blue".to_owned(), true), ("red".to_owned(), false)]
    );
    Ok(())
}

#[tokio::test]
async fn concurrent_inserts_of_one_key_insert_it_once_and_skip_without_error() -> TestResult {
    let db = testing::database_with_schema(SCHEMA_SQL).await?;
    let mut clients = Vec::new();
    for _ in 0..8 {
        clients.push(db.connect().await?);
    }
    let mut writers = Vec::new();
    for client in clients {
        writers.push(tokio::spawn(async move {
            NewCategory::new("Books").insert_ignore(&client).await
        }));
    }
    let mut inserted = 0;
    for writer in writers {
        inserted += writer.await??;
    }
    assert_eq!(inserted, 1);
    let client = db.connect().await?;
    assert_eq!(count(&client, "SELECT count(*) FROM categories").await?, 1);
    Ok(())
}

// ---------------------------------------------------------------------------------------
// 4. Errors that skipping does not swallow
// ---------------------------------------------------------------------------------------

#[tokio::test]
async fn a_not_null_violation_is_an_error_and_writes_nothing() -> TestResult {
    let (_db, client) = shop().await?;
    let ann = NewUser::new("ann@example.com")
        .with_name("Ann")
        .insert_returning(&client)
        .await?;
    // A column the generated code takes as nullable, NOT NULL in this database.
    client
        .batch_execute("ALTER TABLE users ALTER COLUMN name SET NOT NULL")
        .await?;

    let error = expect_db_error(
        NewUser::insert_many_ignore(
            &client,
            vec![
                NewUser::new("ann@example.com").with_name("Annie"),
                NewUser::new("bob@example.com").with_name("Bob"),
                NewUser::new("cid@example.com"),
            ],
        )
        .await,
    )?;
    assert!(error.is_not_null_violation(), "{error:?}");
    assert_eq!(error.column(), Some("name"));
    assert_eq!(
        users(&client).await?,
        vec![(
            ann.id,
            "ann@example.com".to_owned(),
            Some("Ann".to_owned()),
            ann.created_at
        )]
    );

    let error = expect_db_error(NewUser::new("cid@example.com").insert_ignore(&client).await)?;
    assert!(error.is_not_null_violation(), "{error:?}");
    let error = expect_db_error(
        NewUser::new("cid@example.com")
            .insert_ignore_returning(&client)
            .await,
    )?;
    assert!(error.is_not_null_violation(), "{error:?}");
    assert_eq!(count(&client, "SELECT count(*) FROM users").await?, 1);
    Ok(())
}

#[tokio::test]
async fn a_row_that_breaks_another_unique_key_is_an_error_and_writes_nothing() -> TestResult {
    let (_db, client) = shop().await?;
    let books = NewCategory::new("Books").insert_returning(&client).await?;
    // categories skip by name; a new name with a stored id breaks the primary key.
    let error = expect_db_error(
        NewCategory::insert_many_ignore(
            &client,
            vec![
                NewCategory::new("Games"),
                NewCategory::new("Toys").with_id(books.id),
            ],
        )
        .await,
    )?;
    assert!(error.is_unique_violation(), "{error:?}");
    assert_eq!(error.constraint(), Some("categories_pkey"));
    let stored: Vec<String> = client
        .query("SELECT name FROM categories ORDER BY id", &[])
        .await?
        .iter()
        .map(|r| r.get(0))
        .collect();
    assert_eq!(stored, ["Books"]);
    Ok(())
}

#[tokio::test]
async fn a_row_refused_before_sending_sends_nothing() -> TestResult {
    let (_db, client) = shop().await?;
    let product = Uuid::from_u128(0x5eed);
    NewProduct::new(product, "Lamp").insert(&client).await?;

    // tag is varchar(64).
    let counting = CountingClient::new(&client);
    let outcome = NewProductTag::insert_many_ignore(
        &counting,
        vec![
            NewProductTag::new(product, "blue"),
            NewProductTag::new(product, "x".repeat(65)),
        ],
    )
    .await;
    match outcome {
        Err(Error::Validation(error)) => assert_eq!(error.kind(), ValidationKind::TooLong),
        other => return Err(format!("expected Error::Validation, got {other:?}").into()),
    }
    assert_eq!(counting.statements(), 0);
    assert_eq!(
        count(&client, "SELECT count(*) FROM product_tags").await?,
        0
    );
    Ok(())
}
