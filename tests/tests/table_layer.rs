//! The generated table layer against PostgreSQL: inserts (with DEFAULTs, NULLs and identity
//! ids), batch order, upserts per `graphs.toml` configuration, patches, not-found results,
//! statement counts, transactions, database errors, composite and UUID keys, and enums.
//!
//! Every test gets its own database and reads back with plain SQL the rows it claims were
//! written.

use std::fmt::Debug;

use tokio_postgres::error::SqlState;
use tokio_postgres::Client;
use writegraph::types::chrono::{DateTime, Utc};
use writegraph::types::{Json, Uuid};
use writegraph::Error;
use writegraph_example::{
    AuditLog, AuditLogPatch, Category, CategoryPatch, MemberRole, NewAuditLog, NewCategory,
    NewOrder, NewOrderItem, NewProduct, NewProductDetail, NewProductTag, NewShippingAddress,
    NewTeam, NewTeamMember, NewUser, Order, OrderItem, OrderItemPatch, OrderPatch, OrderStatus,
    Product, ProductDetail, ProductDetailPatch, ProductPatch, ProductTag, ProductTagPatch,
    ShippingAddress, ShippingAddressPatch, Team, TeamMember, TeamMemberPatch, TeamPatch, User,
    UserPatch, SCHEMA_SQL,
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

/// A fixed instant, `seconds` after the Unix epoch.
fn at(seconds: i64) -> TestResult<Timestamptz> {
    Ok(Timestamptz::from_timestamp(seconds, 0).ok_or("timestamp out of range")?)
}

/// One order to hang items and addresses on; returns its id.
async fn order_id(client: &Client, customer: &str) -> TestResult<i64> {
    Ok(NewOrder::new(customer).insert_returning(client).await?.id)
}

fn expect_not_found<T: Debug>(result: writegraph::Result<T>, table: &str) -> TestResult {
    match result {
        Err(Error::NotFound {
            table: actual,
            step: None,
            ..
        }) if actual == table => Ok(()),
        other => {
            Err(format!("expected Error::NotFound {{ table: {table:?} }}, got {other:?}").into())
        }
    }
}

fn expect_validation<T: Debug>(result: writegraph::Result<T>) -> TestResult<String> {
    match result {
        Err(Error::Validation(message)) => Ok(message.to_string()),
        other => Err(format!("expected Error::Validation, got {other:?}").into()),
    }
}

fn expect_db_error<T: Debug>(result: writegraph::Result<T>) -> TestResult<Error> {
    match result {
        Err(error @ Error::Db { .. }) => Ok(error),
        other => Err(format!("expected Error::Db, got {other:?}").into()),
    }
}

// ---------------------------------------------------------------------------------------
// 1. DEFAULTs in mixed batches
// ---------------------------------------------------------------------------------------

#[tokio::test]
async fn insert_many_gives_the_default_only_to_the_row_that_leaves_price_unset() -> TestResult {
    let (_db, client) = shop().await?;
    let order = order_id(&client, "alice").await?;
    let inserted = NewOrderItem::insert_many(
        &client,
        vec![
            NewOrderItem::new(order, "A-1", 1).with_price_cents(150),
            NewOrderItem::new(order, "A-2", 2),
            NewOrderItem::new(order, "A-3", 3).with_price_cents(350),
        ],
    )
    .await?;
    assert_eq!(inserted, 3);

    let rows: Vec<(String, i32, i64)> = client
        .query(
            "SELECT sku, qty, price_cents FROM order_items WHERE order_id = $1 ORDER BY sku",
            &[&order],
        )
        .await?
        .iter()
        .map(|r| (r.get(0), r.get(1), r.get(2)))
        .collect();
    assert_eq!(
        rows,
        vec![
            ("A-1".to_owned(), 1, 150),
            ("A-2".to_owned(), 2, 0),
            ("A-3".to_owned(), 3, 350),
        ]
    );
    Ok(())
}

#[tokio::test]
async fn insert_many_gives_order_defaults_only_to_the_row_that_leaves_them_unset() -> TestResult {
    let (_db, client) = shop().await?;
    let before: Timestamptz = client.query_one("SELECT now()", &[]).await?.get(0);
    let fixed_1 = at(1_600_000_000)?;
    let fixed_3 = at(1_700_000_000)?;
    NewOrder::insert_many(
        &client,
        vec![
            NewOrder::new("row-1")
                .with_status(OrderStatus::Paid)
                .with_total_cents(500)
                .with_created_at(fixed_1),
            NewOrder::new("row-2"),
            NewOrder::new("row-3")
                .with_status(OrderStatus::Shipped)
                .with_total_cents(700)
                .with_created_at(fixed_3),
        ],
    )
    .await?;

    let rows: Vec<(String, String, i64, Timestamptz)> = client
        .query(
            "SELECT customer, status::text, total_cents, created_at FROM orders \
             WHERE customer IN ('row-1', 'row-2', 'row-3') ORDER BY customer",
            &[],
        )
        .await?
        .iter()
        .map(|r| (r.get(0), r.get(1), r.get(2), r.get(3)))
        .collect();
    assert_eq!(rows.len(), 3);
    assert_eq!(rows[0], ("row-1".into(), "paid".into(), 500, fixed_1));
    assert_eq!(
        (rows[1].0.as_str(), rows[1].1.as_str(), rows[1].2),
        ("row-2", "pending", 0)
    );
    assert!(
        rows[1].3 >= before,
        "row 2's created_at {:?} is not now() (>= {before:?})",
        rows[1].3
    );
    assert_eq!(rows[2], ("row-3".into(), "shipped".into(), 700, fixed_3));
    Ok(())
}

#[tokio::test]
async fn insert_many_gives_the_country_default_only_to_the_row_that_leaves_it_unset() -> TestResult
{
    let (_db, client) = shop().await?;
    let first = order_id(&client, "first").await?;
    let second = order_id(&client, "second").await?;
    let third = order_id(&client, "third").await?;
    NewShippingAddress::insert_many(
        &client,
        vec![
            NewShippingAddress::new(first, "Rue 1", "Paris", "75001").with_country("FR"),
            NewShippingAddress::new(second, "Weg 2", "Berlin", "10115"),
            NewShippingAddress::new(third, "Gasse 3", "Wien", "1010").with_country("AT"),
        ],
    )
    .await?;

    let rows: Vec<(i64, String)> = client
        .query(
            "SELECT order_id, country FROM shipping_addresses ORDER BY order_id",
            &[],
        )
        .await?
        .iter()
        .map(|r| (r.get(0), r.get(1)))
        .collect();
    assert_eq!(
        rows,
        vec![
            (first, "FR".to_owned()),
            (second, "DE".to_owned()),
            (third, "AT".to_owned()),
        ]
    );
    Ok(())
}

#[tokio::test]
async fn insert_many_takes_explicit_identity_ids_and_the_sequence_for_unset_ones() -> TestResult {
    let (_db, client) = shop().await?;
    let returned = NewOrder::insert_many_returning(
        &client,
        vec![
            NewOrder::new("explicit-1").with_id(1000),
            NewOrder::new("generated"),
            NewOrder::new("explicit-2").with_id_opt(Some(1001)),
        ],
    )
    .await?;
    // A fresh database: the identity sequence hands out 1 first.
    let returned_ids: Vec<i64> = returned.iter().map(|o| o.id).collect();
    assert_eq!(returned_ids, vec![1000, 1, 1001]);

    let rows: Vec<(i64, String)> = client
        .query("SELECT id, customer FROM orders ORDER BY id", &[])
        .await?
        .iter()
        .map(|r| (r.get(0), r.get(1)))
        .collect();
    assert_eq!(
        rows,
        vec![
            (1, "generated".to_owned()),
            (1000, "explicit-1".to_owned()),
            (1001, "explicit-2".to_owned()),
        ]
    );
    Ok(())
}

#[tokio::test]
async fn insert_many_takes_explicit_serial_ids_and_the_sequence_for_unset_ones() -> TestResult {
    let (_db, client) = shop().await?;
    let order = order_id(&client, "alice").await?;
    NewOrderItem::insert_many(
        &client,
        vec![
            NewOrderItem::new(order, "S-1", 1).with_id(500),
            NewOrderItem::new(order, "S-2", 1).with_id_opt(None),
            NewOrderItem::new(order, "S-3", 1).with_id(501),
        ],
    )
    .await?;
    let rows: Vec<(i64, String)> = client
        .query("SELECT id, sku FROM order_items ORDER BY sku", &[])
        .await?
        .iter()
        .map(|r| (r.get(0), r.get(1)))
        .collect();
    assert_eq!(
        rows,
        vec![
            (500, "S-1".to_owned()),
            (1, "S-2".to_owned()),
            (501, "S-3".to_owned()),
        ]
    );
    Ok(())
}

// ---------------------------------------------------------------------------------------
// 2. Explicit NULL
// ---------------------------------------------------------------------------------------

#[tokio::test]
async fn nullable_columns_without_default_are_null_when_unset_or_set_to_none() -> TestResult {
    let (_db, client) = shop().await?;
    NewOrder::insert_many(
        &client,
        vec![
            NewOrder::new("unset"),
            NewOrder::new("none").with_note_opt(None),
            NewOrder::new("some").with_note_opt(Some("ring twice".into())),
        ],
    )
    .await?;
    let notes: Vec<(String, Option<String>)> = client
        .query("SELECT customer, note FROM orders ORDER BY customer", &[])
        .await?
        .iter()
        .map(|r| (r.get(0), r.get(1)))
        .collect();
    assert_eq!(
        notes,
        vec![
            ("none".to_owned(), None),
            ("some".to_owned(), Some("ring twice".to_owned())),
            ("unset".to_owned(), None),
        ]
    );

    let category = NewCategory::new("Lamps").insert_returning(&client).await?;
    let with_category = Uuid::from_u128(1);
    let without_category = Uuid::from_u128(2);
    NewProduct::insert_many(
        &client,
        vec![
            NewProduct::new(with_category, "Desk lamp").with_category_id(category.id),
            NewProduct::new(without_category, "Loose bulb").with_category_id_opt(None),
        ],
    )
    .await?;
    let products: Vec<(Uuid, Option<i32>)> = client
        .query("SELECT id, category_id FROM products ORDER BY id", &[])
        .await?
        .iter()
        .map(|r| (r.get(0), r.get(1)))
        .collect();
    assert_eq!(
        products,
        vec![(with_category, Some(category.id)), (without_category, None)]
    );
    let null_count = count(
        &client,
        "SELECT count(*) FROM products WHERE category_id IS NULL AND name = 'Loose bulb'",
    )
    .await?;
    assert_eq!(null_count, 1);
    Ok(())
}

// ---------------------------------------------------------------------------------------
// 3. Order of insert_many_returning, and 7. statement counts of batches
// ---------------------------------------------------------------------------------------

#[tokio::test]
async fn insert_many_returning_10000_rows_returns_them_in_input_order() -> TestResult {
    let (_db, client) = shop().await?;
    let order = order_id(&client, "bulk").await?;
    // Skus descend while qty ascends, so neither sort order of the input can hide a reorder.
    let input: Vec<(String, i32)> = (0..10_000)
        .map(|i| (format!("SKU-{:05}", 9_999 - i), i + 1))
        .collect();
    let rows = input
        .iter()
        .map(|(sku, qty)| NewOrderItem::new(order, sku.clone(), *qty))
        .collect();
    let returned = NewOrderItem::insert_many_returning(&client, rows).await?;

    assert_eq!(returned.len(), input.len());
    for (index, (item, (sku, qty))) in returned.iter().zip(&input).enumerate() {
        assert_eq!(
            (&item.sku, item.qty, item.order_id),
            (sku, *qty, order),
            "row {index}"
        );
    }
    assert!(
        returned.windows(2).all(|pair| pair[0].id < pair[1].id),
        "ids are not ascending in input order"
    );

    let stored: Vec<(i64, String, i32)> = client
        .query(
            "SELECT id, sku, qty FROM order_items WHERE order_id = $1 ORDER BY id",
            &[&order],
        )
        .await?
        .iter()
        .map(|r| (r.get(0), r.get(1), r.get(2)))
        .collect();
    let expected: Vec<(i64, String, i32)> = returned
        .iter()
        .map(|item| (item.id, item.sku.clone(), item.qty))
        .collect();
    assert_eq!(stored, expected);
    Ok(())
}

#[tokio::test]
async fn insert_many_of_10000_rows_is_one_statement() -> TestResult {
    let (_db, client) = shop().await?;
    let order = order_id(&client, "bulk").await?;
    let rows: Vec<NewOrderItem> = (0..10_000)
        .map(|i| NewOrderItem::new(order, format!("SKU-{i:05}"), 1 + i % 7))
        .collect();
    let counting = CountingClient::new(&client);
    let inserted = NewOrderItem::insert_many(&counting, rows).await?;
    assert_eq!(inserted, 10_000);
    assert_eq!(counting.statements(), 1);

    let stored = count(&client, "SELECT count(*) FROM order_items").await?;
    assert_eq!(stored, 10_000);
    let sample: (String, i32) = client
        .query_one(
            "SELECT sku, qty FROM order_items WHERE sku = 'SKU-09999'",
            &[],
        )
        .await
        .map(|r| (r.get(0), r.get(1)))?;
    assert_eq!(sample, ("SKU-09999".to_owned(), 1 + 9_999 % 7));
    Ok(())
}

#[tokio::test]
async fn single_insert_and_update_are_one_statement_and_empty_batches_send_none() -> TestResult {
    let (_db, client) = shop().await?;
    let counting = CountingClient::new(&client);

    let inserted = NewOrder::new("alice").with_id(7).insert(&counting).await?;
    assert_eq!((inserted, counting.statements()), (1, 1));

    counting.reset();
    let updated = OrderPatch::default()
        .with_total_cents(42)
        .update_by_id(&counting, &7)
        .await?;
    assert_eq!((updated, counting.statements()), (1, 1));

    counting.reset();
    assert_eq!(NewOrder::insert_many(&counting, vec![]).await?, 0);
    assert!(NewOrder::insert_many_returning(&counting, vec![])
        .await?
        .is_empty());
    assert_eq!(NewOrder::upsert_many(&counting, vec![]).await?, 0);
    assert_eq!(counting.statements(), 0);

    let rows: Vec<(i64, String, i64)> = client
        .query("SELECT id, customer, total_cents FROM orders", &[])
        .await?
        .iter()
        .map(|r| (r.get(0), r.get(1), r.get(2)))
        .collect();
    assert_eq!(rows, vec![(7, "alice".to_owned(), 42)]);
    Ok(())
}

// ---------------------------------------------------------------------------------------
// 4. Upserts, one per graphs.toml configuration
// ---------------------------------------------------------------------------------------

#[tokio::test]
async fn category_upsert_of_an_existing_name_returns_the_existing_id() -> TestResult {
    let (_db, client) = shop().await?;
    let books = NewCategory::new("Books").insert_returning(&client).await?;

    let upserted = NewCategory::new("Books").upsert_returning(&client).await?;
    assert_eq!(upserted, books);
    assert_eq!(NewCategory::new("Books").upsert(&client).await?, 1);

    let rows: Vec<(i32, String)> = client
        .query("SELECT id, name FROM categories ORDER BY id", &[])
        .await?
        .iter()
        .map(|r| (r.get(0), r.get(1)))
        .collect();
    assert_eq!(rows, vec![(books.id, "Books".to_owned())]);

    // A new name is inserted; the existing one still keeps its id.
    let written = NewCategory::upsert_many(
        &client,
        vec![NewCategory::new("Books"), NewCategory::new("Games")],
    )
    .await?;
    assert_eq!(written, 2);
    let books_rows = count(
        &client,
        "SELECT count(*) FROM categories WHERE name = 'Books'",
    )
    .await?;
    assert_eq!(books_rows, 1);
    let books_id: i32 = client
        .query_one("SELECT id FROM categories WHERE name = 'Books'", &[])
        .await?
        .get(0);
    assert_eq!(books_id, books.id);
    assert_eq!(
        count(
            &client,
            "SELECT count(*) FROM categories WHERE name = 'Games'"
        )
        .await?,
        1
    );
    Ok(())
}

#[tokio::test]
async fn order_item_upsert_on_order_and_sku_updates_qty_and_keeps_the_id() -> TestResult {
    let (_db, client) = shop().await?;
    let order = order_id(&client, "alice").await?;
    let first = NewOrderItem::new(order, "A-1", 1)
        .with_price_cents(100)
        .upsert_returning(&client)
        .await?;
    let second = NewOrderItem::new(order, "A-1", 5)
        .with_price_cents(100)
        .upsert_returning(&client)
        .await?;
    assert_eq!(second.id, first.id);
    assert_eq!(second.qty, 5);

    let rows: Vec<(i64, String, i32, i64)> = client
        .query(
            "SELECT id, sku, qty, price_cents FROM order_items WHERE order_id = $1",
            &[&order],
        )
        .await?
        .iter()
        .map(|r| (r.get(0), r.get(1), r.get(2), r.get(3)))
        .collect();
    assert_eq!(rows, vec![(first.id, "A-1".to_owned(), 5, 100)]);

    // upsert_many: one existing key updated, one new key inserted.
    let written = NewOrderItem::upsert_many(
        &client,
        vec![
            NewOrderItem::new(order, "A-1", 7).with_price_cents(100),
            NewOrderItem::new(order, "B-2", 2).with_price_cents(250),
        ],
    )
    .await?;
    assert_eq!(written, 2);
    let rows: Vec<(String, i32, i64)> = client
        .query(
            "SELECT sku, qty, price_cents FROM order_items WHERE order_id = $1 ORDER BY sku",
            &[&order],
        )
        .await?
        .iter()
        .map(|r| (r.get(0), r.get(1), r.get(2)))
        .collect();
    assert_eq!(
        rows,
        vec![("A-1".to_owned(), 7, 100), ("B-2".to_owned(), 2, 250)]
    );
    let a1_id: i64 = client
        .query_one("SELECT id FROM order_items WHERE sku = 'A-1'", &[])
        .await?
        .get(0);
    assert_eq!(a1_id, first.id);
    Ok(())
}

#[tokio::test]
async fn product_tag_upsert_on_constraint_updates_the_existing_row() -> TestResult {
    let (_db, client) = shop().await?;
    let product = Uuid::from_u128(0xA1);
    NewProduct::new(product, "Chair").insert(&client).await?;
    let first_at = at(1_600_000_000)?;
    let second_at = at(1_650_000_000)?;
    let first = NewProductTag::new(product, "red")
        .with_created_at(first_at)
        .upsert_returning(&client)
        .await?;
    let second = NewProductTag::new(product, "red")
        .with_created_at(second_at)
        .upsert_returning(&client)
        .await?;
    assert_eq!(second.id, first.id);
    assert_eq!(second.created_at, second_at);

    assert_eq!(
        NewProductTag::new(product, "blue").upsert(&client).await?,
        1
    );

    let rows: Vec<(i64, String, Timestamptz)> = client
        .query(
            "SELECT id, tag, created_at FROM product_tags WHERE product_id = $1 AND tag = 'red'",
            &[&product],
        )
        .await?
        .iter()
        .map(|r| (r.get(0), r.get(1), r.get(2)))
        .collect();
    assert_eq!(rows, vec![(first.id, "red".to_owned(), second_at)]);
    assert_eq!(
        count(&client, "SELECT count(*) FROM product_tags").await?,
        2
    );
    Ok(())
}

#[tokio::test]
async fn user_upsert_on_email_updates_only_the_name() -> TestResult {
    let (_db, client) = shop().await?;
    let created = at(1_600_000_000)?;
    let ann = NewUser::new("ann@example.com")
        .with_name("Ann")
        .with_created_at(created)
        .insert_returning(&client)
        .await?;

    let upserted = NewUser::new("ann@example.com")
        .with_name("Annie")
        .with_created_at(at(1_700_000_000)?)
        .upsert_returning(&client)
        .await?;
    assert_eq!(upserted.id, ann.id);
    assert_eq!(upserted.name.as_deref(), Some("Annie"));
    assert_eq!(upserted.created_at, created);

    let rows: Vec<(i64, String, Option<String>, Timestamptz)> = client
        .query("SELECT id, email, name, created_at FROM users", &[])
        .await?
        .iter()
        .map(|r| (r.get(0), r.get(1), r.get(2), r.get(3)))
        .collect();
    assert_eq!(
        rows,
        vec![(
            ann.id,
            "ann@example.com".to_owned(),
            Some("Annie".to_owned()),
            created
        )]
    );
    Ok(())
}

#[tokio::test]
async fn an_upsert_keeps_the_columns_a_row_leaves_unset() -> TestResult {
    let (_db, client) = shop().await?;
    let ann = NewUser::new("ann@example.com")
        .with_name("Ann")
        .insert_returning(&client)
        .await?;
    // Only the email: the name (conflict_update = ["name"]) is not set to NULL.
    let upserted = NewUser::new("ann@example.com")
        .upsert_returning(&client)
        .await?;
    assert_eq!(
        (upserted.id, upserted.name.as_deref()),
        (ann.id, Some("Ann"))
    );

    // The default SET list: every column but the key; only the set ones are assigned.
    let order = NewOrder::new("alice")
        .with_status(OrderStatus::Paid)
        .with_total_cents(500)
        .with_note("first")
        .insert_returning(&client)
        .await?;
    NewOrder::upsert_many(
        &client,
        vec![
            NewOrder::new("alicia").with_id(order.id),
            NewOrder::new("dora").with_id(order.id + 1).with_note("new"),
        ],
    )
    .await?;
    let rows: Vec<(i64, String, String, i64, Option<String>)> = client
        .query(
            "SELECT id, customer, status::text, total_cents, note FROM orders ORDER BY id",
            &[],
        )
        .await?
        .iter()
        .map(|r| (r.get(0), r.get(1), r.get(2), r.get(3), r.get(4)))
        .collect();
    assert_eq!(
        rows,
        vec![
            (
                order.id,
                "alicia".to_owned(),
                "paid".to_owned(),
                500,
                Some("first".to_owned())
            ),
            (
                order.id + 1,
                "dora".to_owned(),
                "pending".to_owned(),
                0,
                Some("new".to_owned())
            ),
        ]
    );
    Ok(())
}

/// Whether each row of a batch upsert sets a column is asked two ways: once for the whole
/// batch (every row sets it) and else per conflicting row. Both give each row its own.
#[tokio::test]
async fn a_batch_upsert_assigns_a_column_to_exactly_the_rows_that_set_it() -> TestResult {
    let (_db, client) = shop().await?;
    let first = NewOrder::new("alice")
        .with_total_cents(100)
        .with_note("a")
        .insert_returning(&client)
        .await?;
    let second = NewOrder::new("bob")
        .with_total_cents(200)
        .with_note("b")
        .insert_returning(&client)
        .await?;
    let orders = |rows: Vec<tokio_postgres::Row>| -> Vec<(i64, i64, Option<String>)> {
        rows.iter()
            .map(|r| (r.get(0), r.get(1), r.get(2)))
            .collect()
    };
    let select = "SELECT id, total_cents, note FROM orders ORDER BY id";

    // Every row sets both columns: both are assigned on both conflicting rows.
    NewOrder::upsert_many(
        &client,
        vec![
            NewOrder::new("alice")
                .with_id(first.id)
                .with_total_cents(110)
                .with_note("a2"),
            NewOrder::new("bob")
                .with_id(second.id)
                .with_total_cents(220)
                .with_note("b2"),
        ],
    )
    .await?;
    assert_eq!(
        orders(client.query(select, &[]).await?),
        vec![
            (first.id, 110, Some("a2".to_owned())),
            (second.id, 220, Some("b2".to_owned())),
        ]
    );

    // Each column set by one row only: the other row keeps its stored value.
    NewOrder::upsert_many(
        &client,
        vec![
            NewOrder::new("alice")
                .with_id(first.id)
                .with_total_cents(111),
            NewOrder::new("bob").with_id(second.id).with_note("b3"),
        ],
    )
    .await?;
    assert_eq!(
        orders(client.query(select, &[]).await?),
        vec![
            (first.id, 111, Some("a2".to_owned())),
            (second.id, 220, Some("b3".to_owned())),
        ]
    );
    Ok(())
}

#[tokio::test]
async fn order_upsert_on_the_primary_key_updates_the_row_with_that_id() -> TestResult {
    let (_db, client) = shop().await?;
    let original = NewOrder::new("alice")
        .with_note("first")
        .insert_returning(&client)
        .await?;
    let updated = NewOrder::new("bob")
        .with_id(original.id)
        .with_status(OrderStatus::Paid)
        .with_total_cents(900)
        .with_note("second")
        .with_created_at(original.created_at)
        .upsert(&client)
        .await?;
    assert_eq!(updated, 1);

    // An id that does not exist yet is inserted.
    let inserted = NewOrder::new("carol")
        .with_id(77)
        .upsert_returning(&client)
        .await?;
    assert_eq!((inserted.id, inserted.customer.as_str()), (77, "carol"));

    let rows: Vec<(i64, String, String, i64, Option<String>)> = client
        .query(
            "SELECT id, customer, status::text, total_cents, note FROM orders ORDER BY id",
            &[],
        )
        .await?
        .iter()
        .map(|r| (r.get(0), r.get(1), r.get(2), r.get(3), r.get(4)))
        .collect();
    assert_eq!(
        rows,
        vec![
            (
                original.id,
                "bob".to_owned(),
                "paid".to_owned(),
                900,
                Some("second".to_owned())
            ),
            (77, "carol".to_owned(), "pending".to_owned(), 0, None),
        ]
    );
    Ok(())
}

#[tokio::test]
async fn team_upsert_on_name_keeps_the_id() -> TestResult {
    let (_db, client) = shop().await?;
    let core = NewTeam::new("core")
        .with_created_at(at(1_600_000_000)?)
        .insert_returning(&client)
        .await?;
    let later = at(1_650_000_000)?;
    let upserted = NewTeam::new("core")
        .with_created_at(later)
        .upsert_returning(&client)
        .await?;
    assert_eq!(upserted.id, core.id);
    assert_eq!(NewTeam::new("infra").upsert(&client).await?, 1);

    let rows: Vec<(i32, String, Timestamptz)> = client
        .query(
            "SELECT id, name, created_at FROM teams WHERE name = 'core'",
            &[],
        )
        .await?
        .iter()
        .map(|r| (r.get(0), r.get(1), r.get(2)))
        .collect();
    // No conflict_update: every insertable non-key column is updated.
    assert_eq!(rows, vec![(core.id, "core".to_owned(), later)]);
    assert_eq!(count(&client, "SELECT count(*) FROM teams").await?, 2);
    Ok(())
}

#[tokio::test]
async fn shipping_address_and_team_member_upserts_update_on_their_primary_keys() -> TestResult {
    let (_db, client) = shop().await?;
    let order = order_id(&client, "alice").await?;
    NewShippingAddress::new(order, "Old street 1", "Berlin", "10115")
        .insert(&client)
        .await?;
    let moved = NewShippingAddress::new(order, "New street 2", "Hamburg", "20095")
        .with_country("DE")
        .upsert_returning(&client)
        .await?;
    assert_eq!(moved.street, "New street 2");
    let address: (String, String, String) = client
        .query_one(
            "SELECT street, city, zip FROM shipping_addresses WHERE order_id = $1",
            &[&order],
        )
        .await
        .map(|r| (r.get(0), r.get(1), r.get(2)))?;
    assert_eq!(
        address,
        (
            "New street 2".to_owned(),
            "Hamburg".to_owned(),
            "20095".to_owned()
        )
    );
    assert_eq!(
        count(&client, "SELECT count(*) FROM shipping_addresses").await?,
        1
    );

    let team = NewTeam::new("core").insert_returning(&client).await?;
    let user = NewUser::new("u@example.com")
        .insert_returning(&client)
        .await?;
    NewTeamMember::new(team.id, user.id).insert(&client).await?;
    let promoted = NewTeamMember::new(team.id, user.id)
        .with_role(MemberRole::Admin)
        .upsert_returning(&client)
        .await?;
    assert_eq!(promoted.role, MemberRole::Admin);
    let roles: Vec<String> = client
        .query("SELECT role::text FROM team_members", &[])
        .await?
        .iter()
        .map(|r| r.get(0))
        .collect();
    assert_eq!(roles, vec!["admin".to_owned()]);
    Ok(())
}

#[tokio::test]
async fn upsert_many_with_a_repeated_conflict_key_is_a_validation_error_and_sends_nothing(
) -> TestResult {
    let (_db, client) = shop().await?;
    let order = order_id(&client, "alice").await?;
    let counting = CountingClient::new(&client);

    let items = expect_validation(
        NewOrderItem::upsert_many(
            &counting,
            vec![
                NewOrderItem::new(order, "A-1", 1),
                NewOrderItem::new(order, "B-1", 1),
                NewOrderItem::new(order, "A-1", 2),
            ],
        )
        .await,
    )?;
    assert!(items.contains("order_items"), "{items}");

    let users = expect_validation(
        NewUser::upsert_many(
            &counting,
            vec![
                NewUser::new("same@example.com").with_name("one"),
                NewUser::new("same@example.com").with_name("two"),
            ],
        )
        .await,
    )?;
    assert!(users.contains("users"), "{users}");

    expect_validation(
        NewOrder::upsert_many(
            &counting,
            vec![NewOrder::new("x").with_id(5), NewOrder::new("y").with_id(5)],
        )
        .await,
    )?;

    assert_eq!(counting.statements(), 0);
    assert_eq!(count(&client, "SELECT count(*) FROM order_items").await?, 0);
    assert_eq!(count(&client, "SELECT count(*) FROM users").await?, 0);
    assert_eq!(
        count(&client, "SELECT count(*) FROM orders WHERE id = 5").await?,
        0
    );
    Ok(())
}

// ---------------------------------------------------------------------------------------
// 5. Patches
// ---------------------------------------------------------------------------------------

#[tokio::test]
async fn patch_with_note_opt_none_sets_null() -> TestResult {
    let (_db, client) = shop().await?;
    let order = NewOrder::new("alice")
        .with_note("leave at the door")
        .insert_returning(&client)
        .await?;
    let updated = OrderPatch::default()
        .with_note_opt(None)
        .update_by_id(&client, &order.id)
        .await?;
    assert_eq!(updated, 1);
    let null_notes = count(
        &client,
        &format!(
            "SELECT count(*) FROM orders WHERE id = {} AND note IS NULL",
            order.id
        ),
    )
    .await?;
    assert_eq!(null_notes, 1);
    Ok(())
}

#[tokio::test]
async fn patch_of_one_column_leaves_the_others_unchanged() -> TestResult {
    let (_db, client) = shop().await?;
    let created = at(1_600_000_000)?;
    let order = NewOrder::new("alice")
        .with_total_cents(1234)
        .with_note("keep me")
        .with_created_at(created)
        .insert_returning(&client)
        .await?;
    let other = NewOrder::new("bob").insert_returning(&client).await?;

    OrderPatch::default()
        .with_status(OrderStatus::Cancelled)
        .update_by_id(&client, &order.id)
        .await?;

    let row = client
        .query_one(
            "SELECT customer, status::text, total_cents, note, created_at FROM orders WHERE id = $1",
            &[&order.id],
        )
        .await?;
    assert_eq!(row.get::<_, String>(0), "alice");
    assert_eq!(row.get::<_, String>(1), "cancelled");
    assert_eq!(row.get::<_, i64>(2), 1234);
    assert_eq!(row.get::<_, Option<String>>(3).as_deref(), Some("keep me"));
    assert_eq!(row.get::<_, Timestamptz>(4), created);

    let untouched = Order::find_by_id(&client, &other.id).await?;
    assert_eq!(untouched, Some(other));
    Ok(())
}

#[tokio::test]
async fn empty_patch_is_a_validation_error_and_sends_nothing() -> TestResult {
    let (_db, client) = shop().await?;
    let order = NewOrder::new("alice").insert_returning(&client).await?;
    let counting = CountingClient::new(&client);

    expect_validation(
        OrderPatch::default()
            .update_by_id(&counting, &order.id)
            .await,
    )?;
    expect_validation(
        OrderPatch::default()
            .update_by_id_returning(&counting, &order.id)
            .await,
    )?;
    // `_opt(None)` on a NOT NULL column leaves it unchanged: still an empty patch.
    expect_validation(
        OrderPatch::default()
            .with_customer_opt(None)
            .with_status_opt(None)
            .update_by_id(&counting, &order.id)
            .await,
    )?;
    assert_eq!(counting.statements(), 0);
    assert_eq!(Order::find_by_id(&client, &order.id).await?, Some(order));
    Ok(())
}

#[tokio::test]
async fn update_by_id_returning_returns_the_row_find_by_id_reads() -> TestResult {
    let (_db, client) = shop().await?;
    let order = NewOrder::new("alice").insert_returning(&client).await?;
    let returned = OrderPatch::default()
        .with_customer("alice smith")
        .with_status(OrderStatus::Paid)
        .with_total_cents(4200)
        .with_note("gift wrap")
        .update_by_id_returning(&client, &order.id)
        .await?;
    let found = Order::find_by_id(&client, &order.id)
        .await?
        .ok_or("order vanished")?;
    assert_eq!(returned, found);
    assert_eq!(
        (
            returned.customer.as_str(),
            returned.status,
            returned.total_cents,
            returned.note.as_deref(),
            returned.created_at
        ),
        (
            "alice smith",
            OrderStatus::Paid,
            4200,
            Some("gift wrap"),
            order.created_at
        )
    );
    let row: (String, String, i64) = client
        .query_one(
            "SELECT customer, status::text, total_cents FROM orders WHERE id = $1",
            &[&order.id],
        )
        .await
        .map(|r| (r.get(0), r.get(1), r.get(2)))?;
    assert_eq!(row, ("alice smith".to_owned(), "paid".to_owned(), 4200));
    Ok(())
}

// ---------------------------------------------------------------------------------------
// 6. NotFound and deletes
// ---------------------------------------------------------------------------------------

#[tokio::test]
async fn update_and_delete_of_a_missing_id_are_not_found_and_change_nothing() -> TestResult {
    let (_db, client) = shop().await?;
    let order = NewOrder::new("alice")
        .with_note("n")
        .insert_returning(&client)
        .await?;
    let missing = order.id + 1000;

    expect_not_found(
        OrderPatch::default()
            .with_customer("mallory")
            .update_by_id(&client, &missing)
            .await,
        "public.orders",
    )?;
    expect_not_found(
        OrderPatch::default()
            .with_customer("mallory")
            .update_by_id_returning(&client, &missing)
            .await,
        "public.orders",
    )?;
    expect_not_found(
        Order::delete_by_id(&client, &missing).await,
        "public.orders",
    )?;

    assert_eq!(Order::find_by_id(&client, &missing).await?, None);
    let rows: Vec<(i64, String)> = client
        .query("SELECT id, customer FROM orders", &[])
        .await?
        .iter()
        .map(|r| (r.get(0), r.get(1)))
        .collect();
    assert_eq!(rows, vec![(order.id, "alice".to_owned())]);
    Ok(())
}

#[tokio::test]
async fn delete_by_id_deletes_exactly_that_row() -> TestResult {
    let (_db, client) = shop().await?;
    let kept = NewOrder::new("kept").insert_returning(&client).await?;
    let gone = NewOrder::new("gone").insert_returning(&client).await?;
    NewOrderItem::new(gone.id, "X-1", 1).insert(&client).await?;

    assert_eq!(Order::delete_by_id(&client, &gone.id).await?, 1);
    assert_eq!(Order::find_by_id(&client, &gone.id).await?, None);
    let ids: Vec<i64> = client
        .query("SELECT id FROM orders", &[])
        .await?
        .iter()
        .map(|r| r.get(0))
        .collect();
    assert_eq!(ids, vec![kept.id]);
    // ON DELETE CASCADE took the item with it.
    assert_eq!(count(&client, "SELECT count(*) FROM order_items").await?, 0);
    expect_not_found(
        Order::delete_by_id(&client, &gone.id).await,
        "public.orders",
    )?;
    Ok(())
}

// ---------------------------------------------------------------------------------------
// 8. Inside a caller's transaction
// ---------------------------------------------------------------------------------------

#[tokio::test]
async fn writes_in_a_rolled_back_transaction_leave_nothing() -> TestResult {
    let (_db, mut client) = shop().await?;
    let tx = client.transaction().await?;
    let order = NewOrder::new("alice").insert_returning(&tx).await?;
    NewOrderItem::insert_many(
        &tx,
        vec![
            NewOrderItem::new(order.id, "A", 1),
            NewOrderItem::new(order.id, "B", 2),
        ],
    )
    .await?;
    let inside = tx
        .query_one("SELECT count(*) FROM order_items", &[])
        .await?
        .get::<_, i64>(0);
    assert_eq!(inside, 2);
    tx.rollback().await?;

    assert_eq!(count(&client, "SELECT count(*) FROM orders").await?, 0);
    assert_eq!(count(&client, "SELECT count(*) FROM order_items").await?, 0);
    Ok(())
}

#[tokio::test]
async fn transaction_macro_commits_when_the_body_returns_ok() -> TestResult {
    let (_db, mut client) = shop().await?;
    let order = writegraph::transaction!(&mut client, |tx| {
        let order = NewOrder::new("alice").insert_returning(&tx).await?;
        NewOrderItem::new(order.id, "A", 3).insert(&tx).await?;
        OrderPatch::default()
            .with_total_cents(300)
            .update_by_id(&tx, &order.id)
            .await?;
        Ok(order)
    })
    .await?;

    let row: (String, i64) = client
        .query_one(
            "SELECT customer, total_cents FROM orders WHERE id = $1",
            &[&order.id],
        )
        .await
        .map(|r| (r.get(0), r.get(1)))?;
    assert_eq!(row, ("alice".to_owned(), 300));
    let items: Vec<(String, i32)> = client
        .query(
            "SELECT sku, qty FROM order_items WHERE order_id = $1",
            &[&order.id],
        )
        .await?
        .iter()
        .map(|r| (r.get(0), r.get(1)))
        .collect();
    assert_eq!(items, vec![("A".to_owned(), 3)]);
    Ok(())
}

#[tokio::test]
async fn transaction_macro_rolls_back_when_the_body_fails() -> TestResult {
    let (_db, mut client) = shop().await?;
    let outcome: writegraph::Result<()> = writegraph::transaction!(&mut client, |tx| {
        NewOrder::new("alice").with_id(1).insert(&tx).await?;
        // No order 999: the foreign key fails the body.
        NewOrderItem::new(999, "A", 1).insert(&tx).await?;
        Ok(())
    })
    .await;
    let error = expect_db_error(outcome)?;
    assert_eq!(error.sqlstate(), Some(&SqlState::FOREIGN_KEY_VIOLATION));
    assert_eq!(count(&client, "SELECT count(*) FROM orders").await?, 0);
    Ok(())
}

// ---------------------------------------------------------------------------------------
// 9. Errors carry PostgreSQL's details
// ---------------------------------------------------------------------------------------

#[tokio::test]
async fn foreign_key_violation_names_its_constraint_and_table() -> TestResult {
    let (_db, client) = shop().await?;
    let error = expect_db_error(NewOrderItem::new(424_242, "A-1", 1).insert(&client).await)?;
    assert_eq!(error.sqlstate(), Some(&SqlState::FOREIGN_KEY_VIOLATION));
    assert_eq!(error.constraint(), Some("order_items_order_id_fkey"));
    assert_eq!(error.table(), Some("order_items"));
    assert_eq!(error.tag(), None);
    assert!(
        error.to_string().contains("order_items_order_id_fkey"),
        "{error}"
    );
    assert_eq!(count(&client, "SELECT count(*) FROM order_items").await?, 0);
    Ok(())
}

#[tokio::test]
async fn one_bad_row_fails_the_whole_batch() -> TestResult {
    let (_db, client) = shop().await?;
    let order = order_id(&client, "alice").await?;
    let error = expect_db_error(
        NewOrderItem::insert_many(
            &client,
            vec![
                NewOrderItem::new(order, "OK-1", 1),
                NewOrderItem::new(order, "OK-2", 2),
                NewOrderItem::new(order, "BAD", 0),
            ],
        )
        .await,
    )?;
    assert_eq!(error.sqlstate(), Some(&SqlState::CHECK_VIOLATION));
    assert_eq!(error.constraint(), Some("order_items_qty_check"));
    assert_eq!(count(&client, "SELECT count(*) FROM order_items").await?, 0);
    Ok(())
}

#[tokio::test]
async fn varchar_overflow_is_an_error_not_a_truncation() -> TestResult {
    let (_db, client) = shop().await?;
    let product = Uuid::from_u128(0xB1);
    NewProduct::new(product, "Table").insert(&client).await?;

    // Checked before sending, so the error names the row and column.
    let too_long = "x".repeat(65);
    let error = expect_validation(NewProductTag::new(product, too_long).insert(&client).await)?;
    assert_eq!(
        error,
        "`public.product_tags` row 0, column `tag`: the value is 65 characters long; the column holds at most 64"
    );
    assert_eq!(
        count(&client, "SELECT count(*) FROM product_tags").await?,
        0
    );

    // 64 characters fit exactly, and a patch to 65 fails too, checked the same way.
    let fits = "y".repeat(64);
    let tag = NewProductTag::new(product, fits.clone())
        .insert_returning(&client)
        .await?;
    let patch_error = expect_validation(
        ProductTagPatch::default()
            .with_tag("z".repeat(65))
            .update_by_id(&client, &tag.id)
            .await,
    )?;
    assert_eq!(
        patch_error,
        "`public.product_tags` row 0, column `tag`: the value is 65 characters long; the column holds at most 64"
    );
    let tags: Vec<String> = client
        .query("SELECT tag FROM product_tags", &[])
        .await?
        .iter()
        .map(|r| r.get(0))
        .collect();
    assert_eq!(tags, vec![fits]);
    Ok(())
}

#[tokio::test]
async fn char_overflow_is_an_error_not_a_truncation() -> TestResult {
    let (_db, client) = shop().await?;
    let order = order_id(&client, "alice").await?;
    let error = expect_validation(
        NewShippingAddress::new(order, "Weg 1", "Berlin", "10115")
            .with_country("DEU")
            .insert(&client)
            .await,
    )?;
    assert_eq!(
        error,
        "`public.shipping_addresses` row 0, column `country`: the value is 3 characters long; the column holds at most 2"
    );
    assert_eq!(
        count(&client, "SELECT count(*) FROM shipping_addresses").await?,
        0
    );
    Ok(())
}

// ---------------------------------------------------------------------------------------
// 10. Composite primary key
// ---------------------------------------------------------------------------------------

#[tokio::test]
async fn team_members_are_found_updated_and_deleted_by_their_composite_key() -> TestResult {
    let (_db, client) = shop().await?;
    let team = NewTeam::new("core").insert_returning(&client).await?;
    let users = NewUser::insert_many_returning(
        &client,
        vec![NewUser::new("a@example.com"), NewUser::new("b@example.com")],
    )
    .await?;
    let (ann, bob) = (users[0].id, users[1].id);
    let inserted = NewTeamMember::insert_many_returning(
        &client,
        vec![
            NewTeamMember::new(team.id, ann),
            NewTeamMember::new(team.id, bob).with_role(MemberRole::Admin),
        ],
    )
    .await?;
    assert_eq!(
        inserted.iter().map(|m| m.role).collect::<Vec<_>>(),
        vec![MemberRole::Member, MemberRole::Admin]
    );

    let ann_key: (i32, i64) = (team.id, ann);
    let bob_key: (i32, i64) = (team.id, bob);
    let found = TeamMember::find_by_id(&client, &ann_key)
        .await?
        .ok_or("member missing")?;
    assert_eq!(found, inserted[0]);
    assert_eq!(
        TeamMember::find_by_id(&client, &(team.id, 9_999)).await?,
        None
    );

    assert_eq!(
        TeamMemberPatch::default()
            .with_role(MemberRole::Admin)
            .update_by_id(&client, &ann_key)
            .await?,
        1
    );
    let demoted = TeamMemberPatch::default()
        .with_role(MemberRole::Member)
        .update_by_id_returning(&client, &bob_key)
        .await?;
    assert_eq!(demoted.role, MemberRole::Member);
    expect_not_found(
        TeamMemberPatch::default()
            .with_role(MemberRole::Admin)
            .update_by_id(&client, &(team.id, 9_999))
            .await,
        "public.team_members",
    )?;

    let roles: Vec<(i64, String)> = client
        .query(
            "SELECT user_id, role::text FROM team_members ORDER BY user_id",
            &[],
        )
        .await?
        .iter()
        .map(|r| (r.get(0), r.get(1)))
        .collect();
    assert_eq!(
        roles,
        vec![(ann, "admin".to_owned()), (bob, "member".to_owned())]
    );

    assert_eq!(TeamMember::delete_by_id(&client, &ann_key).await?, 1);
    expect_not_found(
        TeamMember::delete_by_id(&client, &ann_key).await,
        "public.team_members",
    )?;
    let left: Vec<(i32, i64)> = client
        .query("SELECT team_id, user_id FROM team_members", &[])
        .await?
        .iter()
        .map(|r| (r.get(0), r.get(1)))
        .collect();
    assert_eq!(left, vec![bob_key]);
    Ok(())
}

// ---------------------------------------------------------------------------------------
// 11. Enums
// ---------------------------------------------------------------------------------------

#[tokio::test]
async fn enum_values_round_trip_through_insert_find_and_sql() -> TestResult {
    let (_db, client) = shop().await?;
    let shipped = NewOrder::new("alice")
        .with_status(OrderStatus::Shipped)
        .insert_returning(&client)
        .await?;
    let found = Order::find_by_id(&client, &shipped.id)
        .await?
        .ok_or("order missing")?;
    assert_eq!(found.status, OrderStatus::Shipped);
    let label: String = client
        .query_one(
            "SELECT status::text FROM orders WHERE id = $1",
            &[&shipped.id],
        )
        .await?
        .get(0);
    assert_eq!(label, "shipped");

    // Every label, in one batch, in input order.
    let all = NewOrder::insert_many_returning(
        &client,
        OrderStatus::ALL
            .iter()
            .map(|status| NewOrder::new("every").with_status(*status))
            .collect(),
    )
    .await?;
    assert_eq!(
        all.iter().map(|o| o.status).collect::<Vec<_>>(),
        OrderStatus::ALL.to_vec()
    );
    let labels: Vec<String> = client
        .query(
            "SELECT status::text FROM orders WHERE customer = 'every' ORDER BY id",
            &[],
        )
        .await?
        .iter()
        .map(|r| r.get(0))
        .collect();
    assert_eq!(labels, vec!["pending", "paid", "shipped", "cancelled"]);
    assert_eq!(
        OrderStatus::ALL
            .iter()
            .map(|s| s.label())
            .collect::<Vec<_>>(),
        labels
    );
    Ok(())
}

// ---------------------------------------------------------------------------------------
// 12. UUID key
// ---------------------------------------------------------------------------------------

#[tokio::test]
async fn products_with_application_uuids_round_trip() -> TestResult {
    let (_db, client) = shop().await?;
    let lamp = Uuid::from_u128(0x0123_4567_89ab_cdef_0123_4567_89ab_cdef);
    let desk = Uuid::from_u128(0xfeed);
    let category = NewCategory::new("Furniture")
        .insert_returning(&client)
        .await?;

    let inserted = NewProduct::new(lamp, "Lamp")
        .with_price_cents(1999)
        .insert_returning(&client)
        .await?;
    assert_eq!(inserted.id, lamp);
    assert_eq!(
        NewProduct::insert_many(
            &client,
            vec![NewProduct::new(desk, "Desk").with_category_id(category.id)]
        )
        .await?,
        1
    );
    let found = Product::find_by_id(&client, &lamp)
        .await?
        .ok_or("lamp missing")?;
    assert_eq!(found, inserted);
    assert_eq!(
        Product::find_by_id(&client, &Uuid::from_u128(0xdead)).await?,
        None
    );

    let patched = ProductPatch::default()
        .with_price_cents(2499)
        .with_category_id(category.id)
        .update_by_id_returning(&client, &lamp)
        .await?;
    assert_eq!(
        (patched.price_cents, patched.category_id),
        (2499, Some(category.id))
    );
    assert_eq!(
        ProductPatch::default()
            .with_category_id_opt(None)
            .update_by_id(&client, &desk)
            .await?,
        1
    );

    // Upsert on the UUID primary key updates the existing product.
    NewProduct::new(lamp, "Floor lamp")
        .with_price_cents(2999)
        .with_category_id(category.id)
        .upsert(&client)
        .await?;

    let rows: Vec<(Uuid, String, i64, Option<i32>)> = client
        .query(
            "SELECT id, name, price_cents, category_id FROM products ORDER BY name",
            &[],
        )
        .await?
        .iter()
        .map(|r| (r.get(0), r.get(1), r.get(2), r.get(3)))
        .collect();
    assert_eq!(
        rows,
        vec![
            (desk, "Desk".to_owned(), 0, None),
            (lamp, "Floor lamp".to_owned(), 2999, Some(category.id)),
        ]
    );
    let text: String = client
        .query_one("SELECT id::text FROM products WHERE name = 'Desk'", &[])
        .await?
        .get(0);
    assert_eq!(text, "00000000-0000-0000-0000-00000000feed");

    assert_eq!(Product::delete_by_id(&client, &desk).await?, 1);
    expect_not_found(
        Product::delete_by_id(&client, &desk).await,
        "public.products",
    )?;
    let ids: Vec<Uuid> = client
        .query("SELECT id FROM products", &[])
        .await?
        .iter()
        .map(|r| r.get(0))
        .collect();
    assert_eq!(ids, vec![lamp]);
    Ok(())
}

// ---------------------------------------------------------------------------------------
// The remaining tables' functions
// ---------------------------------------------------------------------------------------

#[tokio::test]
async fn categories_find_patch_and_delete_by_id() -> TestResult {
    let (_db, client) = shop().await?;
    let inserted = NewCategory::insert_many_returning(
        &client,
        vec![
            NewCategory::new("Books"),
            NewCategory::new("Toys").with_id(50),
        ],
    )
    .await?;
    assert_eq!(inserted[1].id, 50);
    let books = inserted[0].clone();
    assert_eq!(
        Category::find_by_id(&client, &books.id).await?,
        Some(books.clone())
    );

    let renamed = CategoryPatch::default()
        .with_name("Novels")
        .update_by_id_returning(&client, &books.id)
        .await?;
    assert_eq!(renamed.name, "Novels");
    assert_eq!(
        CategoryPatch::default()
            .with_name_opt(Some("Games".into()))
            .update_by_id(&client, &50)
            .await?,
        1
    );
    assert_eq!(Category::delete_by_id(&client, &books.id).await?, 1);
    let rows: Vec<(i32, String)> = client
        .query("SELECT id, name FROM categories", &[])
        .await?
        .iter()
        .map(|r| (r.get(0), r.get(1)))
        .collect();
    assert_eq!(rows, vec![(50, "Games".to_owned())]);
    Ok(())
}

#[tokio::test]
async fn order_items_find_patch_and_delete_by_id() -> TestResult {
    let (_db, client) = shop().await?;
    let order = order_id(&client, "alice").await?;
    let item = NewOrderItem::new(order, "A-1", 2)
        .with_price_cents(300)
        .insert_returning(&client)
        .await?;
    assert_eq!(
        (item.order_id, item.sku.as_str(), item.qty, item.price_cents),
        (order, "A-1", 2, 300)
    );
    let patched = OrderItemPatch::default()
        .with_qty(4)
        .update_by_id_returning(&client, &item.id)
        .await?;
    assert_eq!(
        OrderItem::find_by_id(&client, &item.id).await?,
        Some(patched)
    );
    let row: (i32, i64) = client
        .query_one(
            "SELECT qty, price_cents FROM order_items WHERE id = $1",
            &[&item.id],
        )
        .await
        .map(|r| (r.get(0), r.get(1)))?;
    assert_eq!(row, (4, 300));
    assert_eq!(OrderItem::delete_by_id(&client, &item.id).await?, 1);
    assert_eq!(count(&client, "SELECT count(*) FROM order_items").await?, 0);
    Ok(())
}

#[tokio::test]
async fn product_details_with_an_always_identity_id_round_trip() -> TestResult {
    let (_db, client) = shop().await?;
    let product = Uuid::from_u128(0xC1);
    NewProduct::new(product, "Sofa").insert(&client).await?;
    let detail = NewProductDetail::new(product, "three seats")
        .with_weight_grams(45_000)
        .insert_returning(&client)
        .await?;
    assert_eq!(detail.id, 1);
    let patched = ProductDetailPatch::default()
        .with_weight_grams_opt(None)
        .with_description("three seats, grey")
        .update_by_id_returning(&client, &detail.id)
        .await?;
    assert_eq!(patched.weight_grams, None);
    assert_eq!(
        ProductDetail::find_by_id(&client, &detail.id).await?,
        Some(patched)
    );
    let row: (Uuid, String, Option<i32>) = client
        .query_one(
            "SELECT product_id, description, weight_grams FROM product_details WHERE id = $1",
            &[&detail.id],
        )
        .await
        .map(|r| (r.get(0), r.get(1), r.get(2)))?;
    assert_eq!(row, (product, "three seats, grey".to_owned(), None));

    assert_eq!(ProductDetail::delete_by_id(&client, &detail.id).await?, 1);
    assert_eq!(
        count(&client, "SELECT count(*) FROM product_details").await?,
        0
    );
    Ok(())
}

#[tokio::test]
async fn product_tags_and_shipping_addresses_find_patch_and_delete_by_id() -> TestResult {
    let (_db, client) = shop().await?;
    let product = Uuid::from_u128(0xD1);
    NewProduct::new(product, "Rug").insert(&client).await?;
    let tags = NewProductTag::insert_many_returning(
        &client,
        vec![
            NewProductTag::new(product, "soft"),
            NewProductTag::new(product, "wool"),
        ],
    )
    .await?;
    let renamed = ProductTagPatch::default()
        .with_tag("warm")
        .update_by_id_returning(&client, &tags[0].id)
        .await?;
    assert_eq!(
        ProductTag::find_by_id(&client, &tags[0].id).await?,
        Some(renamed)
    );
    assert_eq!(ProductTag::delete_by_id(&client, &tags[1].id).await?, 1);
    let left: Vec<String> = client
        .query("SELECT tag FROM product_tags", &[])
        .await?
        .iter()
        .map(|r| r.get(0))
        .collect();
    assert_eq!(left, vec!["warm".to_owned()]);

    let order = order_id(&client, "alice").await?;
    let address = NewShippingAddress::new(order, "Weg 1", "Berlin", "10115")
        .insert_returning(&client)
        .await?;
    assert_eq!(address.country, "DE");
    let patched = ShippingAddressPatch::default()
        .with_country("FR")
        .with_city("Paris")
        .update_by_id_returning(&client, &order)
        .await?;
    assert_eq!(
        ShippingAddress::find_by_id(&client, &order).await?,
        Some(patched)
    );
    let row: (String, String) = client
        .query_one(
            "SELECT city, country FROM shipping_addresses WHERE order_id = $1",
            &[&order],
        )
        .await
        .map(|r| (r.get(0), r.get(1)))?;
    assert_eq!(row, ("Paris".to_owned(), "FR".to_owned()));
    assert_eq!(ShippingAddress::delete_by_id(&client, &order).await?, 1);
    assert_eq!(
        count(&client, "SELECT count(*) FROM shipping_addresses").await?,
        0
    );
    Ok(())
}

#[tokio::test]
async fn audit_logs_with_jsonb_detail_round_trip() -> TestResult {
    let (_db, client) = shop().await?;
    let detail: Json = r#"{"from": "pending", "to": "paid"}"#.parse()?;
    let log = NewAuditLog::new("order", "status_changed")
        .with_entity_id("17")
        .with_detail(detail.clone())
        .insert_returning(&client)
        .await?;
    assert_eq!(log.detail.as_ref(), Some(&detail));
    let bare = NewAuditLog::new("order", "viewed")
        .insert_returning(&client)
        .await?;
    assert_eq!(
        (bare.entity_id.as_deref(), bare.detail.as_ref()),
        (None, None)
    );

    let patched = AuditLogPatch::default()
        .with_detail_opt(None)
        .with_action("status_reverted")
        .update_by_id_returning(&client, &log.id)
        .await?;
    assert_eq!(AuditLog::find_by_id(&client, &log.id).await?, Some(patched));
    let row: (String, Option<String>, bool) = client
        .query_one(
            "SELECT action, entity_id, detail IS NULL FROM audit_logs WHERE id = $1",
            &[&log.id],
        )
        .await
        .map(|r| (r.get(0), r.get(1), r.get(2)))?;
    assert_eq!(
        row,
        ("status_reverted".to_owned(), Some("17".to_owned()), true)
    );

    let bare_row: (Option<String>, bool) = client
        .query_one(
            "SELECT entity_id, detail IS NULL FROM audit_logs WHERE id = $1",
            &[&bare.id],
        )
        .await
        .map(|r| (r.get(0), r.get(1)))?;
    assert_eq!(bare_row, (None, true));
    assert_eq!(AuditLog::delete_by_id(&client, &bare.id).await?, 1);
    assert_eq!(count(&client, "SELECT count(*) FROM audit_logs").await?, 1);
    Ok(())
}

#[tokio::test]
async fn teams_and_users_find_patch_and_delete_by_id() -> TestResult {
    let (_db, client) = shop().await?;
    let teams =
        NewTeam::insert_many_returning(&client, vec![NewTeam::new("a"), NewTeam::new("b")]).await?;
    assert!(teams[0].id < teams[1].id);
    let renamed = TeamPatch::default()
        .with_name("alpha")
        .update_by_id_returning(&client, &teams[0].id)
        .await?;
    assert_eq!(
        Team::find_by_id(&client, &teams[0].id).await?,
        Some(renamed)
    );
    assert_eq!(Team::delete_by_id(&client, &teams[1].id).await?, 1);
    let team_names: Vec<String> = client
        .query("SELECT name FROM teams", &[])
        .await?
        .iter()
        .map(|r| r.get(0))
        .collect();
    assert_eq!(team_names, vec!["alpha".to_owned()]);

    let user = NewUser::new("x@example.com")
        .with_name("X")
        .insert_returning(&client)
        .await?;
    assert_eq!(
        UserPatch::default()
            .with_name_opt(None)
            .update_by_id(&client, &user.id)
            .await?,
        1
    );
    let found = User::find_by_id(&client, &user.id)
        .await?
        .ok_or("user missing")?;
    assert_eq!((found.email.as_str(), found.name), ("x@example.com", None));
    let null_names = count(&client, "SELECT count(*) FROM users WHERE name IS NULL").await?;
    assert_eq!(null_names, 1);
    assert_eq!(User::delete_by_id(&client, &user.id).await?, 1);
    assert_eq!(count(&client, "SELECT count(*) FROM users").await?, 0);
    Ok(())
}
