//! Insert graphs against PostgreSQL: the example's `NewProductGraph` and `NewOrderGraph`, and
//! the graphs `graphs.toml` declares for these tests (`CategorizedProductGraph`: a required
//! belongs_to in `insert_returning` mode, a required has_one and a `many` after_insert;
//! `UpsertOrderGraph`: upserted children; `TeamSignupGraph`: an upserted before_insert).
//!
//! Covered: every part of a graph and its `WriteReport`, belongs_to (optional, connected by
//! id, contradictory, required, upserted onto an existing row, concurrent), ids given by the
//! application, empty children, upserted children, fk values the graph replaces, atomicity
//! (alone, in a caller's transaction, `insert_graph_atomic`), and one statement per write.
//!
//! Every test gets its own database and reads back, with plain SQL, the rows of every table
//! the graph touches.

use std::fmt::Debug;
use std::sync::Arc;

use tokio_postgres::error::SqlState;
use tokio_postgres::Client;
use writegraph::types::Uuid;
use writegraph::{Error, WriteStepReport};
use writegraph_example::{
    CategorizedProductGraph, MemberRole, MemberSignupGraph, NewAuditLog, NewAuditLogForEntity,
    NewCategory, NewOrderGraph, NewOrderItem, NewOrderItemForOrder, NewProductDetailForProduct,
    NewProductGraph, NewProductTag, NewProductTagForProduct, NewShippingAddress,
    NewShippingAddressForOrder, NewTeam, NewTeamMember, NewTeamMemberForTeam, NewUser, Order,
    Product, TeamSignupGraph, TwiceAuditedOrderGraph, UpsertOrderGraph, SCHEMA_SQL,
};
use writegraph_testing::{self as testing, CountingClient, TestDatabase};

type TestResult<T = ()> = Result<T, Box<dyn std::error::Error>>;

/// Every table of the example schema.
const TABLES: [&str; 12] = [
    "categories",
    "products",
    "product_details",
    "product_tags",
    "orders",
    "order_items",
    "shipping_addresses",
    "audit_logs",
    "teams",
    "users",
    "team_members",
    "item_returns",
];

/// A fresh database with the shop schema; keep the `TestDatabase` alive while using the client.
async fn shop() -> TestResult<(TestDatabase, Client)> {
    let db = testing::database_with_schema(SCHEMA_SQL).await?;
    let client = db.connect().await?;
    Ok((db, client))
}

async fn count(client: &Client, sql: &str) -> TestResult<i64> {
    Ok(client.query_one(sql, &[]).await?.get(0))
}

/// `(table, rows)` for every table of the schema.
async fn row_counts(client: &Client) -> TestResult<Vec<(&'static str, i64)>> {
    let mut counts = Vec::with_capacity(TABLES.len());
    for table in TABLES {
        let sql = format!("SELECT count(*) FROM {table}");
        counts.push((table, count(client, &sql).await?));
    }
    Ok(counts)
}

/// Fails unless every table of the schema is empty.
async fn assert_all_tables_empty(client: &Client) -> TestResult {
    let counts = row_counts(client).await?;
    let expected: Vec<(&str, i64)> = TABLES.iter().map(|t| (*t, 0)).collect();
    assert_eq!(counts, expected);
    Ok(())
}

/// A fixed application-generated product id.
fn uuid(n: u128) -> Uuid {
    Uuid::from_u128(0x0192_0000_0000_7000_8000_0000_0000_0000 + n)
}

fn step(tag: &'static str, affected: u64) -> WriteStepReport {
    WriteStepReport { tag, affected }
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

/// `(id, name)` of every category, by id.
async fn categories(client: &Client) -> TestResult<Vec<(i32, String)>> {
    Ok(client
        .query("SELECT id, name FROM categories ORDER BY id", &[])
        .await?
        .iter()
        .map(|r| (r.get(0), r.get(1)))
        .collect())
}

/// `(id, name, category_id)` of every product, by name.
async fn products(client: &Client) -> TestResult<Vec<(Uuid, String, Option<i32>)>> {
    Ok(client
        .query(
            "SELECT id, name, category_id FROM products ORDER BY name",
            &[],
        )
        .await?
        .iter()
        .map(|r| (r.get(0), r.get(1), r.get(2)))
        .collect())
}

/// `(product_id, description, weight_grams)` of every product detail, by description.
async fn product_details(client: &Client) -> TestResult<Vec<(Uuid, String, Option<i32>)>> {
    Ok(client
        .query(
            "SELECT product_id, description, weight_grams FROM product_details ORDER BY description",
            &[],
        )
        .await?
        .iter()
        .map(|r| (r.get(0), r.get(1), r.get(2)))
        .collect())
}

/// `(product_id, tag)` of every product tag, in insertion order.
async fn product_tags(client: &Client) -> TestResult<Vec<(Uuid, String)>> {
    Ok(client
        .query("SELECT product_id, tag FROM product_tags ORDER BY id", &[])
        .await?
        .iter()
        .map(|r| (r.get(0), r.get(1)))
        .collect())
}

/// `(id, customer)` of every order, by id.
async fn orders(client: &Client) -> TestResult<Vec<(i64, String)>> {
    Ok(client
        .query("SELECT id, customer FROM orders ORDER BY id", &[])
        .await?
        .iter()
        .map(|r| (r.get(0), r.get(1)))
        .collect())
}

/// `(order_id, sku, qty, price_cents)` of every order item, in insertion order.
async fn order_items(client: &Client) -> TestResult<Vec<(i64, String, i32, i64)>> {
    Ok(client
        .query(
            "SELECT order_id, sku, qty, price_cents FROM order_items ORDER BY id",
            &[],
        )
        .await?
        .iter()
        .map(|r| (r.get(0), r.get(1), r.get(2), r.get(3)))
        .collect())
}

/// `(order_id, street, city, zip, country)` of every shipping address, by order.
async fn shipping_addresses(
    client: &Client,
) -> TestResult<Vec<(i64, String, String, String, String)>> {
    Ok(client
        .query(
            "SELECT order_id, street, city, zip, country FROM shipping_addresses ORDER BY order_id",
            &[],
        )
        .await?
        .iter()
        .map(|r| (r.get(0), r.get(1), r.get(2), r.get(3), r.get(4)))
        .collect())
}

/// `(entity, entity_id, action)` of every audit row, in insertion order.
async fn audit_logs(client: &Client) -> TestResult<Vec<(String, Option<String>, String)>> {
    Ok(client
        .query(
            "SELECT entity, entity_id, action FROM audit_logs ORDER BY id",
            &[],
        )
        .await?
        .iter()
        .map(|r| (r.get(0), r.get(1), r.get(2)))
        .collect())
}

/// An order graph with two items, a shipping address and an audit row.
fn full_order(customer: &str) -> NewOrderGraph {
    NewOrderGraph::new(customer)
        .with_total_cents(1_150)
        .with_items([
            NewOrderItemForOrder::new("A-1", 2).with_price_cents(500),
            NewOrderItemForOrder::new("B-2", 1).with_price_cents(150),
        ])
        .with_shipping(NewShippingAddressForOrder::new(
            "Hauptstr. 1",
            "Berlin",
            "10115",
        ))
        .with_audit(NewAuditLogForEntity::new("order", "created"))
}

/// An order graph whose two items share a sku: `uq_order_items` fails the has_many step.
fn order_with_duplicate_sku(customer: &str) -> NewOrderGraph {
    NewOrderGraph::new(customer)
        .with_items([
            NewOrderItemForOrder::new("A-1", 1),
            NewOrderItemForOrder::new("A-1", 2),
        ])
        .with_shipping(NewShippingAddressForOrder::new(
            "Ring 2", "Hamburg", "20095",
        ))
        .with_audit(NewAuditLogForEntity::new("order", "created"))
}

// ---------------------------------------------------------------------------------------
// 1. The product graph: belongs_to, root, has_one, has_many, after_insert
// ---------------------------------------------------------------------------------------

#[tokio::test]
async fn product_graph_writes_every_part_and_reports_each_step_in_order() -> TestResult {
    let (_db, client) = shop().await?;
    let id = uuid(1);

    let report = NewProductGraph::new(id, "Kettle")
        .with_price_cents(2_500)
        .with_category(NewCategory::new("Kitchen"))
        .with_detail(NewProductDetailForProduct::new("1.7 l, steel").with_weight_grams(1_200))
        .with_tags([
            NewProductTagForProduct::new("steel"),
            NewProductTagForProduct::new("electric"),
        ])
        .with_audit(NewAuditLogForEntity::new("product", "created"))
        .insert_graph_report_returning(&client)
        .await?;

    assert_eq!(
        report.steps,
        vec![
            step("graph:belongs_to:categories", 1),
            step("graph:root:products", 1),
            step("graph:has_one:product_details", 1),
            step("graph:has_many:product_tags", 2),
            step("graph:after_insert:audit_logs", 1),
        ]
    );
    assert_eq!(report.affected, 6);
    assert_eq!(
        report.affected,
        report.steps.iter().map(|s| s.affected).sum::<u64>()
    );

    let categories = categories(&client).await?;
    let [(category_id, category_name)] = categories.as_slice() else {
        return Err(format!("expected one category, got {categories:?}").into());
    };
    assert_eq!(category_name, "Kitchen");

    assert_eq!(
        products(&client).await?,
        vec![(id, "Kettle".to_owned(), Some(*category_id))]
    );
    let price: i64 = client
        .query_one("SELECT price_cents FROM products WHERE id = $1", &[&id])
        .await?
        .get(0);
    assert_eq!(price, 2_500);
    assert_eq!(
        product_details(&client).await?,
        vec![(id, "1.7 l, steel".to_owned(), Some(1_200))]
    );
    assert_eq!(
        product_tags(&client).await?,
        vec![(id, "steel".to_owned()), (id, "electric".to_owned())]
    );
    assert_eq!(
        audit_logs(&client).await?,
        vec![(
            "product".to_owned(),
            Some(id.to_string()),
            "created".to_owned()
        )]
    );

    let root = report
        .root
        .ok_or("insert_graph_report_returning gave no root")?;
    assert_eq!(Some(root), Product::find_by_id(&client, &id).await?);
    Ok(())
}

#[tokio::test]
async fn product_graph_without_category_leaves_category_id_null() -> TestResult {
    let (_db, client) = shop().await?;
    let id = uuid(2);

    let report = NewProductGraph::new(id, "Loose tea")
        .with_tags([NewProductTagForProduct::new("tea")])
        .insert_graph_report(&client)
        .await?;

    assert_eq!(report.step("graph:belongs_to:categories"), 0);
    assert_eq!(report.step("graph:root:products"), 1);
    assert_eq!(report.step("graph:has_many:product_tags"), 1);
    assert_eq!(report.affected, 2);
    assert_eq!(report.root, None);

    assert!(categories(&client).await?.is_empty());
    assert_eq!(
        products(&client).await?,
        vec![(id, "Loose tea".to_owned(), None)]
    );
    assert!(product_details(&client).await?.is_empty());
    assert_eq!(product_tags(&client).await?, vec![(id, "tea".to_owned())]);
    assert!(audit_logs(&client).await?.is_empty());
    Ok(())
}

#[tokio::test]
async fn product_graph_connects_an_existing_category_by_id() -> TestResult {
    let (_db, client) = shop().await?;
    let existing = NewCategory::new("Garden")
        .insert_returning(&client)
        .await?
        .id;
    let id = uuid(3);

    let report = NewProductGraph::new(id, "Rake")
        .with_category_id(existing)
        .with_detail(NewProductDetailForProduct::new("wooden handle"))
        .insert_graph_report(&client)
        .await?;

    assert_eq!(report.step("graph:belongs_to:categories"), 0);
    assert_eq!(report.step("graph:has_one:product_details"), 1);
    assert_eq!(report.affected, 2);
    assert_eq!(
        categories(&client).await?,
        vec![(existing, "Garden".to_owned())]
    );
    assert_eq!(
        products(&client).await?,
        vec![(id, "Rake".to_owned(), Some(existing))]
    );
    assert_eq!(
        product_details(&client).await?,
        vec![(id, "wooden handle".to_owned(), None)]
    );
    assert!(product_tags(&client).await?.is_empty());
    assert!(audit_logs(&client).await?.is_empty());
    Ok(())
}

#[tokio::test]
async fn product_graph_with_category_and_category_id_is_a_validation_error_and_sends_nothing(
) -> TestResult {
    let (_db, client) = shop().await?;
    let existing = NewCategory::new("Garden")
        .insert_returning(&client)
        .await?
        .id;
    let counting = CountingClient::new(&client);

    let message = expect_validation(
        NewProductGraph::new(uuid(4), "Rake")
            .with_category_id(existing)
            .with_category(NewCategory::new("Tools"))
            .with_detail(NewProductDetailForProduct::new("wooden handle"))
            .with_tags([NewProductTagForProduct::new("garden")])
            .with_audit(NewAuditLogForEntity::new("product", "created"))
            .insert_graph(&counting)
            .await,
    )?;

    assert!(message.contains("category"), "{message}");
    assert_eq!(counting.statements(), 0);
    assert_eq!(
        categories(&client).await?,
        vec![(existing, "Garden".to_owned())]
    );
    assert!(products(&client).await?.is_empty());
    assert!(product_details(&client).await?.is_empty());
    assert!(product_tags(&client).await?.is_empty());
    assert!(audit_logs(&client).await?.is_empty());
    Ok(())
}

#[tokio::test]
async fn product_graph_upserting_an_existing_category_name_reuses_its_id() -> TestResult {
    let (_db, client) = shop().await?;
    let existing = NewCategory::new("Kitchen")
        .insert_returning(&client)
        .await?
        .id;
    let id = uuid(5);

    let report = NewProductGraph::new(id, "Whisk")
        .with_category(NewCategory::new("Kitchen"))
        .insert_graph_report_returning(&client)
        .await?;

    // The no-op DO UPDATE touches the existing row (an upsert counts every input row).
    assert_eq!(report.step("graph:belongs_to:categories"), 1);
    let root = report.root.ok_or("no root")?;
    assert_eq!(root.category_id, Some(existing));
    assert_eq!(
        categories(&client).await?,
        vec![(existing, "Kitchen".to_owned())]
    );
    assert_eq!(
        products(&client).await?,
        vec![(id, "Whisk".to_owned(), Some(existing))]
    );
    assert!(product_details(&client).await?.is_empty());
    assert!(product_tags(&client).await?.is_empty());
    assert!(audit_logs(&client).await?.is_empty());
    Ok(())
}

#[tokio::test]
async fn product_graph_children_carry_the_application_generated_uuid() -> TestResult {
    let (_db, client) = shop().await?;
    let first = uuid(0xA);
    let second = uuid(0xB);

    for (id, name) in [(first, "Alpha"), (second, "Beta")] {
        let product = NewProductGraph::new(id, name)
            .with_detail(NewProductDetailForProduct::new(format!("{name} detail")))
            .with_tags([
                NewProductTagForProduct::new(format!("{name}-1")),
                NewProductTagForProduct::new(format!("{name}-2")),
            ])
            .with_audit(NewAuditLogForEntity::new("product", name))
            .insert_graph_returning(&client)
            .await?;
        assert_eq!(product.id, id);
    }

    assert!(categories(&client).await?.is_empty());
    assert_eq!(
        products(&client).await?,
        vec![
            (first, "Alpha".to_owned(), None),
            (second, "Beta".to_owned(), None)
        ]
    );
    assert_eq!(
        product_details(&client).await?,
        vec![
            (first, "Alpha detail".to_owned(), None),
            (second, "Beta detail".to_owned(), None)
        ]
    );
    assert_eq!(
        product_tags(&client).await?,
        vec![
            (first, "Alpha-1".to_owned()),
            (first, "Alpha-2".to_owned()),
            (second, "Beta-1".to_owned()),
            (second, "Beta-2".to_owned()),
        ]
    );
    assert_eq!(
        audit_logs(&client).await?,
        vec![
            (
                "product".to_owned(),
                Some(first.to_string()),
                "Alpha".to_owned()
            ),
            (
                "product".to_owned(),
                Some(second.to_string()),
                "Beta".to_owned()
            ),
        ]
    );
    Ok(())
}

#[tokio::test]
async fn product_graph_without_children_writes_only_the_product() -> TestResult {
    let (_db, client) = shop().await?;
    let id = uuid(6);

    let report = NewProductGraph::new(id, "Plain")
        .insert_graph_report(&client)
        .await?;

    assert_eq!(
        report.steps,
        vec![
            step("graph:belongs_to:categories", 0),
            step("graph:root:products", 1),
            step("graph:has_one:product_details", 0),
            step("graph:has_many:product_tags", 0),
            step("graph:after_insert:audit_logs", 0),
        ]
    );
    assert_eq!(report.affected, 1);
    assert!(categories(&client).await?.is_empty());
    assert_eq!(
        products(&client).await?,
        vec![(id, "Plain".to_owned(), None)]
    );
    assert!(product_details(&client).await?.is_empty());
    assert!(product_tags(&client).await?.is_empty());
    assert!(audit_logs(&client).await?.is_empty());
    Ok(())
}

#[tokio::test]
async fn product_graph_with_a_duplicate_tag_writes_nothing_not_even_the_new_category() -> TestResult
{
    let (_db, client) = shop().await?;

    let error = expect_db_error(
        NewProductGraph::new(uuid(7), "Kettle")
            .with_category(NewCategory::new("Kitchen"))
            .with_detail(NewProductDetailForProduct::new("steel"))
            .with_tags([
                NewProductTagForProduct::new("steel"),
                NewProductTagForProduct::new("steel"),
            ])
            .with_audit(NewAuditLogForEntity::new("product", "created"))
            .insert_graph(&client)
            .await,
    )?;

    assert_eq!(error.tag(), Some("graph:has_many:product_tags"));
    assert_eq!(error.sqlstate(), Some(&SqlState::UNIQUE_VIOLATION));
    assert_eq!(error.constraint(), Some("uq_product_tags"));
    assert_all_tables_empty(&client).await?;
    Ok(())
}

#[tokio::test]
async fn product_graph_with_a_taken_uuid_fails_at_the_root_step_and_writes_nothing_more(
) -> TestResult {
    let (_db, client) = shop().await?;
    let id = uuid(8);
    NewProductGraph::new(id, "First")
        .insert_graph(&client)
        .await?;

    let error = expect_db_error(
        NewProductGraph::new(id, "Second")
            .with_category(NewCategory::new("Kitchen"))
            .with_detail(NewProductDetailForProduct::new("second"))
            .with_tags([NewProductTagForProduct::new("second")])
            .with_audit(NewAuditLogForEntity::new("product", "created"))
            .insert_graph_report(&client)
            .await,
    )?;

    assert_eq!(error.tag(), Some("graph:root:products"));
    assert_eq!(error.constraint(), Some("products_pkey"));
    assert!(categories(&client).await?.is_empty());
    assert_eq!(
        products(&client).await?,
        vec![(id, "First".to_owned(), None)]
    );
    assert!(product_details(&client).await?.is_empty());
    assert!(product_tags(&client).await?.is_empty());
    assert!(audit_logs(&client).await?.is_empty());
    Ok(())
}

#[tokio::test]
async fn product_graph_connected_to_a_missing_category_id_fails_at_the_root_step() -> TestResult {
    let (_db, client) = shop().await?;

    let error = expect_db_error(
        NewProductGraph::new(uuid(9), "Rake")
            .with_category_id(4_242)
            .with_detail(NewProductDetailForProduct::new("wooden handle"))
            .with_tags([NewProductTagForProduct::new("garden")])
            .with_audit(NewAuditLogForEntity::new("product", "created"))
            .insert_graph(&client)
            .await,
    )?;

    assert_eq!(error.tag(), Some("graph:root:products"));
    assert_eq!(error.sqlstate(), Some(&SqlState::FOREIGN_KEY_VIOLATION));
    assert_all_tables_empty(&client).await?;
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_product_graphs_upserting_one_new_category_share_one_row() -> TestResult {
    const WRITERS: usize = 32;
    let db = testing::database_with_schema(SCHEMA_SQL).await?;
    let mut clients = Vec::with_capacity(WRITERS);
    for _ in 0..WRITERS {
        clients.push(db.connect().await?);
    }
    let start = Arc::new(tokio::sync::Barrier::new(WRITERS));

    let mut tasks = Vec::with_capacity(WRITERS);
    for (n, client) in clients.into_iter().enumerate() {
        let start = Arc::clone(&start);
        tasks.push(tokio::spawn(async move {
            start.wait().await;
            NewProductGraph::new(uuid(1_000 + n as u128), format!("product {n:02}"))
                .with_category(NewCategory::new("Limited edition"))
                .with_tags([NewProductTagForProduct::new("limited")])
                .insert_graph_returning(&client)
                .await
        }));
    }
    let mut written = Vec::with_capacity(WRITERS);
    for task in tasks {
        written.push(task.await??);
    }

    let client = db.connect().await?;
    let categories = categories(&client).await?;
    let [(category_id, name)] = categories.as_slice() else {
        return Err(format!("expected one category, got {categories:?}").into());
    };
    assert_eq!(name, "Limited edition");
    assert!(written.iter().all(|p| p.category_id == Some(*category_id)));
    let stored = products(&client).await?;
    assert_eq!(stored.len(), WRITERS);
    for (n, (id, product_name, category)) in stored.iter().enumerate() {
        assert_eq!(*id, uuid(1_000 + n as u128));
        assert_eq!(product_name, &format!("product {n:02}"));
        assert_eq!(*category, Some(*category_id));
    }
    let tags = product_tags(&client).await?;
    assert_eq!(tags.len(), WRITERS);
    assert!(tags.iter().all(|(_, tag)| tag == "limited"));
    assert_eq!(
        count(
            &client,
            "SELECT count(*) FROM product_tags t JOIN products p ON p.id = t.product_id"
        )
        .await?,
        WRITERS as i64
    );
    assert!(product_details(&client).await?.is_empty());
    assert!(audit_logs(&client).await?.is_empty());
    Ok(())
}

// ---------------------------------------------------------------------------------------
// 2. The order graph: root with RETURNING id, has_many, has_one, after_insert
// ---------------------------------------------------------------------------------------

#[tokio::test]
async fn order_graph_gives_items_shipping_and_audit_the_returned_order_id() -> TestResult {
    let (_db, client) = shop().await?;

    let order = full_order("alice").insert_graph_returning(&client).await?;

    assert_eq!(order.customer, "alice");
    assert_eq!(order.total_cents, 1_150);
    assert_eq!(
        Some(order.clone()),
        Order::find_by_id(&client, &order.id).await?
    );
    assert_eq!(orders(&client).await?, vec![(order.id, "alice".to_owned())]);
    assert_eq!(
        order_items(&client).await?,
        vec![
            (order.id, "A-1".to_owned(), 2, 500),
            (order.id, "B-2".to_owned(), 1, 150)
        ]
    );
    assert_eq!(
        shipping_addresses(&client).await?,
        vec![(
            order.id,
            "Hauptstr. 1".to_owned(),
            "Berlin".to_owned(),
            "10115".to_owned(),
            "DE".to_owned()
        )]
    );
    assert_eq!(
        audit_logs(&client).await?,
        vec![(
            "order".to_owned(),
            Some(order.id.to_string()),
            "created".to_owned()
        )]
    );
    Ok(())
}

#[tokio::test]
async fn order_graph_report_counts_each_step_and_many_items() -> TestResult {
    let (_db, client) = shop().await?;
    let items: Vec<NewOrderItemForOrder> = (1..=25)
        .map(|n| NewOrderItemForOrder::new(format!("SKU-{n:02}"), n))
        .collect();

    let report = NewOrderGraph::new("bob")
        .with_items(items)
        .with_shipping(NewShippingAddressForOrder::new(
            "Ring 2", "Hamburg", "20095",
        ))
        .with_audit(NewAuditLogForEntity::new("order", "created"))
        .insert_graph_report_returning(&client)
        .await?;

    assert_eq!(
        report.steps,
        vec![
            step("graph:root:orders", 1),
            step("graph:has_many:order_items", 25),
            step("graph:has_one:shipping_addresses", 1),
            step("graph:after_insert:audit_logs", 1),
        ]
    );
    assert_eq!(report.affected, 28);
    let order = report.root.ok_or("no root")?;
    assert_eq!(orders(&client).await?, vec![(order.id, "bob".to_owned())]);
    let expected: Vec<(i64, String, i32, i64)> = (1..=25)
        .map(|n| (order.id, format!("SKU-{n:02}"), n, 0))
        .collect();
    assert_eq!(order_items(&client).await?, expected);
    assert_eq!(shipping_addresses(&client).await?.len(), 1);
    assert_eq!(
        count(
            &client,
            "SELECT count(*) FROM shipping_addresses s JOIN orders o ON o.id = s.order_id"
        )
        .await?,
        1
    );
    assert_eq!(
        audit_logs(&client).await?,
        vec![(
            "order".to_owned(),
            Some(order.id.to_string()),
            "created".to_owned()
        )]
    );
    Ok(())
}

#[tokio::test]
async fn order_graph_without_items_writes_the_order_and_its_shipping_only() -> TestResult {
    let (_db, client) = shop().await?;

    let report = NewOrderGraph::new("carol")
        .with_shipping(
            NewShippingAddressForOrder::new("Gasse 3", "Wien", "1010").with_country("AT"),
        )
        .insert_graph_report_returning(&client)
        .await?;

    assert_eq!(
        report.steps,
        vec![
            step("graph:root:orders", 1),
            step("graph:has_many:order_items", 0),
            step("graph:has_one:shipping_addresses", 1),
            step("graph:after_insert:audit_logs", 0),
        ]
    );
    assert_eq!(report.affected, 2);
    let order = report.root.ok_or("no root")?;
    assert_eq!(orders(&client).await?, vec![(order.id, "carol".to_owned())]);
    assert!(order_items(&client).await?.is_empty());
    assert_eq!(
        shipping_addresses(&client).await?,
        vec![(
            order.id,
            "Gasse 3".to_owned(),
            "Wien".to_owned(),
            "1010".to_owned(),
            "AT".to_owned()
        )]
    );
    assert!(audit_logs(&client).await?.is_empty());
    Ok(())
}

/// A graph's child rows have no field for the key the graph fills, so no caller can put
/// another parent's key in them; given that key (`with_order_id`), such a row is a row of
/// the table (`NewOrderItem`), to insert on its own.
#[tokio::test]
async fn graph_rows_leave_out_the_key_the_graph_fills_and_turn_into_table_rows() -> TestResult {
    let (_db, client) = shop().await?;

    let order = NewOrderGraph::new("dave")
        .with_items([
            NewOrderItemForOrder::new("A-1", 1),
            NewOrderItemForOrder::new("B-2", 3),
        ])
        .with_shipping(NewShippingAddressForOrder::new("Weg 4", "Köln", "50667"))
        .with_audit(NewAuditLogForEntity::new("order", "created"))
        .insert_graph_returning(&client)
        .await?;

    assert_eq!(orders(&client).await?, vec![(order.id, "dave".to_owned())]);
    assert_eq!(
        order_items(&client).await?,
        vec![
            (order.id, "A-1".to_owned(), 1, 0),
            (order.id, "B-2".to_owned(), 3, 0)
        ]
    );
    assert_eq!(
        shipping_addresses(&client).await?,
        vec![(
            order.id,
            "Weg 4".to_owned(),
            "Köln".to_owned(),
            "50667".to_owned(),
            "DE".to_owned()
        )]
    );
    assert_eq!(
        audit_logs(&client).await?,
        vec![(
            "order".to_owned(),
            Some(order.id.to_string()),
            "created".to_owned()
        )]
    );

    let row: NewOrderItem = NewOrderItemForOrder::new("C-3", 2)
        .with_price_cents(5)
        .with_order_id(order.id);
    row.insert(&client).await?;
    assert_eq!(
        order_items(&client).await?,
        vec![
            (order.id, "A-1".to_owned(), 1, 0),
            (order.id, "B-2".to_owned(), 3, 0),
            (order.id, "C-3".to_owned(), 2, 5)
        ]
    );
    Ok(())
}

// ---------------------------------------------------------------------------------------
// 3. Atomicity
// ---------------------------------------------------------------------------------------

#[tokio::test]
async fn order_graph_with_a_duplicate_sku_leaves_every_table_unchanged() -> TestResult {
    let (_db, client) = shop().await?;
    let earlier = full_order("alice").insert_graph_returning(&client).await?;
    let before = row_counts(&client).await?;

    let error = expect_db_error(
        order_with_duplicate_sku("mallory")
            .insert_graph(&client)
            .await,
    )?;

    assert_eq!(error.tag(), Some("graph:has_many:order_items"));
    assert_eq!(error.sqlstate(), Some(&SqlState::UNIQUE_VIOLATION));
    assert_eq!(error.constraint(), Some("uq_order_items"));
    assert_eq!(row_counts(&client).await?, before);
    assert_eq!(
        orders(&client).await?,
        vec![(earlier.id, "alice".to_owned())]
    );
    assert!(order_items(&client)
        .await?
        .iter()
        .all(|(order, ..)| *order == earlier.id));
    assert_eq!(shipping_addresses(&client).await?.len(), 1);
    assert_eq!(
        audit_logs(&client).await?,
        vec![(
            "order".to_owned(),
            Some(earlier.id.to_string()),
            "created".to_owned()
        )]
    );
    Ok(())
}

#[tokio::test]
async fn order_graph_failure_inside_a_callers_transaction_leaves_nothing_after_rollback(
) -> TestResult {
    let (_db, mut client) = shop().await?;

    let tx = client.transaction().await?;
    let first = full_order("alice").insert_graph_returning(&tx).await?;
    let seen: i64 = tx
        .query_one(
            "SELECT count(*) FROM order_items WHERE order_id = $1",
            &[&first.id],
        )
        .await?
        .get(0);
    assert_eq!(seen, 2);
    let error = expect_db_error(order_with_duplicate_sku("mallory").insert_graph(&tx).await)?;
    assert_eq!(error.tag(), Some("graph:has_many:order_items"));
    assert_eq!(error.constraint(), Some("uq_order_items"));
    tx.rollback().await?;

    assert_all_tables_empty(&client).await?;
    Ok(())
}

#[tokio::test]
async fn order_graph_failing_first_in_a_fresh_transaction_reports_its_step() -> TestResult {
    // The graph is the first statement of the connection, so the type of `orders.status`
    // (an enum) is not yet known to the client when the statement fails.
    let (_db, mut client) = shop().await?;

    let tx = client.transaction().await?;
    let error = expect_db_error(order_with_duplicate_sku("mallory").insert_graph(&tx).await)?;
    tx.rollback().await?;

    assert_all_tables_empty(&client).await?;
    assert_eq!(error.tag(), Some("graph:has_many:order_items"), "{error}");
    assert_eq!(error.constraint(), Some("uq_order_items"), "{error}");
    Ok(())
}

#[tokio::test]
async fn order_graph_with_a_zero_quantity_item_changes_nothing() -> TestResult {
    let (_db, client) = shop().await?;
    let before = row_counts(&client).await?;

    let error = expect_db_error(
        NewOrderGraph::new("erin")
            .with_items([
                NewOrderItemForOrder::new("A-1", 1),
                NewOrderItemForOrder::new("B-2", 0),
            ])
            .with_shipping(NewShippingAddressForOrder::new("Weg 4", "Köln", "50667"))
            .with_audit(NewAuditLogForEntity::new("order", "created"))
            .insert_graph_report(&client)
            .await,
    )?;

    assert_eq!(error.tag(), Some("graph:has_many:order_items"));
    assert_eq!(error.sqlstate(), Some(&SqlState::CHECK_VIOLATION));
    assert_eq!(error.table(), Some("order_items"));
    assert_eq!(row_counts(&client).await?, before);
    assert_all_tables_empty(&client).await?;
    Ok(())
}

#[tokio::test]
async fn insert_graph_atomic_commits_rows_another_connection_sees() -> TestResult {
    let (db, mut client) = shop().await?;

    let order = full_order("frank").insert_graph_atomic(&mut client).await?;

    let other = db.connect().await?;
    assert_eq!(orders(&other).await?, vec![(order.id, "frank".to_owned())]);
    assert_eq!(
        order_items(&other).await?,
        vec![
            (order.id, "A-1".to_owned(), 2, 500),
            (order.id, "B-2".to_owned(), 1, 150)
        ]
    );
    assert_eq!(shipping_addresses(&other).await?.len(), 1);
    assert_eq!(shipping_addresses(&other).await?[0].0, order.id);
    assert_eq!(
        audit_logs(&other).await?,
        vec![(
            "order".to_owned(),
            Some(order.id.to_string()),
            "created".to_owned()
        )]
    );
    assert_eq!(
        Some(order),
        Order::find_by_id(&other, &orders(&other).await?[0].0).await?
    );
    Ok(())
}

#[tokio::test]
async fn insert_graph_atomic_that_fails_commits_nothing_and_leaves_the_client_usable() -> TestResult
{
    let (db, mut client) = shop().await?;

    let error = expect_db_error(
        order_with_duplicate_sku("mallory")
            .insert_graph_atomic(&mut client)
            .await,
    )?;

    let other = db.connect().await?;
    assert_all_tables_empty(&other).await?;
    let order = full_order("grace").insert_graph_atomic(&mut client).await?;
    assert_eq!(orders(&other).await?, vec![(order.id, "grace".to_owned())]);
    assert_eq!(order_items(&other).await?.len(), 2);
    assert_eq!(shipping_addresses(&other).await?.len(), 1);
    assert_eq!(audit_logs(&other).await?.len(), 1);
    // The statement is the connection's first, so the client does not know the type of
    // `orders.status` yet when it fails.
    assert_eq!(error.tag(), Some("graph:has_many:order_items"), "{error}");
    assert_eq!(error.constraint(), Some("uq_order_items"), "{error}");
    Ok(())
}

// ---------------------------------------------------------------------------------------
// 4. One statement per graph write
// ---------------------------------------------------------------------------------------

#[tokio::test]
async fn every_graph_method_sends_one_statement_with_or_without_children() -> TestResult {
    let (_db, client) = shop().await?;
    let counting = CountingClient::new(&client);
    let with_children = |n: u128| {
        NewProductGraph::new(uuid(n), format!("full {n}"))
            .with_category(NewCategory::new("Kitchen"))
            .with_detail(NewProductDetailForProduct::new(format!("detail {n}")))
            .with_tags([
                NewProductTagForProduct::new("a"),
                NewProductTagForProduct::new("b"),
            ])
            .with_audit(NewAuditLogForEntity::new("product", "created"))
    };
    let bare = |n: u128| NewProductGraph::new(uuid(n), format!("bare {n}"));

    assert_eq!(with_children(1).insert_graph(&counting).await?, 6);
    assert_eq!(counting.statements(), 1);
    assert_eq!(bare(2).insert_graph(&counting).await?, 1);
    assert_eq!(counting.statements(), 2);

    assert_eq!(
        with_children(3)
            .insert_graph_report(&counting)
            .await?
            .affected,
        6
    );
    assert_eq!(counting.statements(), 3);
    assert_eq!(bare(4).insert_graph_report(&counting).await?.affected, 1);
    assert_eq!(counting.statements(), 4);

    assert_eq!(
        with_children(5).insert_graph_returning(&counting).await?.id,
        uuid(5)
    );
    assert_eq!(counting.statements(), 5);
    assert_eq!(bare(6).insert_graph_returning(&counting).await?.id, uuid(6));
    assert_eq!(counting.statements(), 6);

    let report = with_children(7)
        .insert_graph_report_returning(&counting)
        .await?;
    assert_eq!(
        (report.affected, report.root.map(|p| p.id)),
        (6, Some(uuid(7)))
    );
    assert_eq!(counting.statements(), 7);
    let report = bare(8).insert_graph_report_returning(&counting).await?;
    assert_eq!(
        (report.affected, report.root.map(|p| p.id)),
        (1, Some(uuid(8)))
    );
    assert_eq!(counting.statements(), 8);

    counting.reset();
    let order = full_order("alice")
        .insert_graph_returning(&counting)
        .await?;
    assert_eq!(counting.statements(), 1);
    NewOrderGraph::new("bob").insert_graph(&counting).await?;
    assert_eq!(counting.statements(), 2);

    let categories = categories(&client).await?;
    let [(kitchen, _)] = categories.as_slice() else {
        return Err(format!("expected one category, got {categories:?}").into());
    };
    let products = products(&client).await?;
    assert_eq!(products.len(), 8);
    for (id, name, category) in &products {
        let expected = name.starts_with("full").then_some(*kitchen);
        assert_eq!(*category, expected, "{name} ({id})");
    }
    let full: Vec<Uuid> = [1, 3, 5, 7].into_iter().map(uuid).collect();
    let details = product_details(&client).await?;
    assert_eq!(
        details.iter().map(|d| d.0).collect::<Vec<_>>(),
        full,
        "details, by description"
    );
    let tags = product_tags(&client).await?;
    let expected_tags: Vec<(Uuid, String)> = full
        .iter()
        .flat_map(|id| [(*id, "a".to_owned()), (*id, "b".to_owned())])
        .collect();
    assert_eq!(tags, expected_tags);
    let mut expected_audits: Vec<(String, Option<String>, String)> = full
        .iter()
        .map(|id| {
            (
                "product".to_owned(),
                Some(id.to_string()),
                "created".to_owned(),
            )
        })
        .collect();
    expected_audits.push((
        "order".to_owned(),
        Some(order.id.to_string()),
        "created".to_owned(),
    ));
    assert_eq!(audit_logs(&client).await?, expected_audits);
    let orders = orders(&client).await?;
    assert_eq!(orders.len(), 2);
    assert_eq!(orders[0], (order.id, "alice".to_owned()));
    assert_eq!(orders[1].1, "bob");
    assert_eq!(order_items(&client).await?.len(), 2);
    assert_eq!(shipping_addresses(&client).await?.len(), 1);
    Ok(())
}

// ---------------------------------------------------------------------------------------
// 5. A required belongs_to in insert_returning mode, a required has_one, a `many` after_insert
// ---------------------------------------------------------------------------------------

#[tokio::test]
async fn required_belongs_to_without_parent_or_id_is_a_validation_error_and_sends_nothing(
) -> TestResult {
    let (_db, client) = shop().await?;
    let counting = CountingClient::new(&client);

    let message = expect_validation(
        CategorizedProductGraph::new(
            uuid(20),
            "Orphan",
            NewProductDetailForProduct::new("no category"),
        )
        .with_audits([NewAuditLogForEntity::new("product", "created")])
        .insert_graph_returning(&counting)
        .await,
    )?;

    assert!(message.contains("category"), "{message}");
    assert_eq!(counting.statements(), 0);
    assert_all_tables_empty(&client).await?;
    Ok(())
}

#[tokio::test]
async fn required_belongs_to_inserts_its_parent_and_many_audit_rows_get_the_uuid() -> TestResult {
    let (_db, client) = shop().await?;
    let id = uuid(21);

    let report =
        CategorizedProductGraph::new(id, "Teapot", NewProductDetailForProduct::new("cast iron"))
            .with_category(NewCategory::new("Tea"))
            .with_audits([
                NewAuditLogForEntity::new("product", "created"),
                NewAuditLogForEntity::new("product", "priced"),
                NewAuditLogForEntity::new("product", "published"),
            ])
            .insert_graph_report_returning(&client)
            .await?;

    assert_eq!(
        report.steps,
        vec![
            step("graph:belongs_to:categories", 1),
            step("graph:root:products", 1),
            step("graph:has_one:product_details", 1),
            step("graph:after_insert:audit_logs", 3),
        ]
    );
    assert_eq!(report.affected, 6);
    let categories = categories(&client).await?;
    let [(category_id, name)] = categories.as_slice() else {
        return Err(format!("expected one category, got {categories:?}").into());
    };
    assert_eq!(name, "Tea");
    assert_eq!(
        report.root.ok_or("no root")?.category_id,
        Some(*category_id)
    );
    assert_eq!(
        products(&client).await?,
        vec![(id, "Teapot".to_owned(), Some(*category_id))]
    );
    assert_eq!(
        product_details(&client).await?,
        vec![(id, "cast iron".to_owned(), None)]
    );
    assert!(product_tags(&client).await?.is_empty());
    let audit = |action: &str| {
        (
            "product".to_owned(),
            Some(id.to_string()),
            action.to_owned(),
        )
    };
    assert_eq!(
        audit_logs(&client).await?,
        vec![audit("created"), audit("priced"), audit("published")]
    );
    Ok(())
}

#[tokio::test]
async fn required_belongs_to_accepts_the_parent_id_and_an_empty_many_step_writes_none() -> TestResult
{
    let (_db, client) = shop().await?;
    let existing = NewCategory::new("Tea").insert_returning(&client).await?.id;
    let id = uuid(22);

    let report =
        CategorizedProductGraph::new(id, "Cup", NewProductDetailForProduct::new("porcelain"))
            .with_category_id(existing)
            .insert_graph_report(&client)
            .await?;

    assert_eq!(
        report.steps,
        vec![
            step("graph:belongs_to:categories", 0),
            step("graph:root:products", 1),
            step("graph:has_one:product_details", 1),
            step("graph:after_insert:audit_logs", 0),
        ]
    );
    assert_eq!(report.affected, 2);
    assert_eq!(
        categories(&client).await?,
        vec![(existing, "Tea".to_owned())]
    );
    assert_eq!(
        products(&client).await?,
        vec![(id, "Cup".to_owned(), Some(existing))]
    );
    assert_eq!(
        product_details(&client).await?,
        vec![(id, "porcelain".to_owned(), None)]
    );
    assert!(product_tags(&client).await?.is_empty());
    assert!(audit_logs(&client).await?.is_empty());
    Ok(())
}

#[tokio::test]
async fn insert_returning_belongs_to_of_an_existing_name_fails_at_its_step_and_writes_nothing(
) -> TestResult {
    let (_db, client) = shop().await?;
    let existing = NewCategory::new("Tea").insert_returning(&client).await?.id;

    let error = expect_db_error(
        CategorizedProductGraph::new(
            uuid(23),
            "Cup",
            NewProductDetailForProduct::new("porcelain"),
        )
        .with_category(NewCategory::new("Tea"))
        .with_audits([NewAuditLogForEntity::new("product", "created")])
        .insert_graph(&client)
        .await,
    )?;

    assert_eq!(error.tag(), Some("graph:belongs_to:categories"));
    assert_eq!(error.sqlstate(), Some(&SqlState::UNIQUE_VIOLATION));
    assert_eq!(
        categories(&client).await?,
        vec![(existing, "Tea".to_owned())]
    );
    assert!(products(&client).await?.is_empty());
    assert!(product_details(&client).await?.is_empty());
    assert!(audit_logs(&client).await?.is_empty());
    Ok(())
}

// ---------------------------------------------------------------------------------------
// 6. Upserted steps
// ---------------------------------------------------------------------------------------

// A new root has no children yet, and the children's conflict keys (order_items: order_id,
// sku; shipping_addresses: order_id) contain the root's id, so upserted has_many/has_one
// rows can only be inserted; the tests below check that they are, and upserts that do meet
// existing rows go through after_insert (audit_logs by id) and before_insert (users by email).

#[tokio::test]
async fn upserted_children_of_a_new_order_are_inserted_with_its_id() -> TestResult {
    let (_db, client) = shop().await?;

    let report = UpsertOrderGraph::new("heidi")
        .with_items([
            NewOrderItemForOrder::new("A-1", 2).with_price_cents(500),
            NewOrderItemForOrder::new("B-2", 1),
        ])
        .with_shipping(
            NewShippingAddressForOrder::new("Platz 5", "Bern", "3011").with_country("CH"),
        )
        .with_audits([
            NewAuditLogForEntity::new("order", "created"),
            NewAuditLogForEntity::new("order", "paid"),
        ])
        .insert_graph_report_returning(&client)
        .await?;

    assert_eq!(
        report.steps,
        vec![
            step("graph:root:orders", 1),
            step("graph:has_many:order_items", 2),
            step("graph:has_one:shipping_addresses", 1),
            step("graph:after_insert:audit_logs", 2),
        ]
    );
    assert_eq!(report.affected, 6);
    let order = report.root.ok_or("no root")?;
    assert_eq!(orders(&client).await?, vec![(order.id, "heidi".to_owned())]);
    assert_eq!(
        order_items(&client).await?,
        vec![
            (order.id, "A-1".to_owned(), 2, 500),
            (order.id, "B-2".to_owned(), 1, 0)
        ]
    );
    assert_eq!(
        shipping_addresses(&client).await?,
        vec![(
            order.id,
            "Platz 5".to_owned(),
            "Bern".to_owned(),
            "3011".to_owned(),
            "CH".to_owned()
        )]
    );
    let audit = |action: &str| {
        (
            "order".to_owned(),
            Some(order.id.to_string()),
            action.to_owned(),
        )
    };
    assert_eq!(
        audit_logs(&client).await?,
        vec![audit("created"), audit("paid")]
    );
    Ok(())
}

#[tokio::test]
async fn upserted_after_insert_rows_update_an_existing_row_by_id() -> TestResult {
    let (_db, client) = shop().await?;
    let imported = NewAuditLog::new("order", "imported")
        .insert_returning(&client)
        .await?
        .id;

    let report = UpsertOrderGraph::new("ivan")
        .with_audits([
            NewAuditLogForEntity::new("order", "linked").with_id(imported),
            NewAuditLogForEntity::new("order", "created"),
        ])
        .insert_graph_report_returning(&client)
        .await?;

    assert_eq!(report.step("graph:after_insert:audit_logs"), 2);
    let order = report.root.ok_or("no root")?;
    assert_eq!(orders(&client).await?, vec![(order.id, "ivan".to_owned())]);
    assert!(order_items(&client).await?.is_empty());
    assert!(shipping_addresses(&client).await?.is_empty());
    let rows: Vec<(i64, Option<String>, String)> = client
        .query(
            "SELECT id, entity_id, action FROM audit_logs ORDER BY id",
            &[],
        )
        .await?
        .iter()
        .map(|r| (r.get(0), r.get(1), r.get(2)))
        .collect();
    assert_eq!(rows.len(), 2);
    assert_eq!(
        rows[0],
        (imported, Some(order.id.to_string()), "linked".to_owned())
    );
    assert_eq!(
        (&rows[1].1, rows[1].2.as_str()),
        (&Some(order.id.to_string()), "created")
    );
    Ok(())
}

#[tokio::test]
async fn upserted_before_insert_users_update_by_email_and_members_reference_them() -> TestResult {
    let (_db, client) = shop().await?;
    let alice = NewUser::new("alice@example.com")
        .with_name("Old name")
        .insert_returning(&client)
        .await?
        .id;
    let bob = 1_000_i64;

    let report = TeamSignupGraph::new("Platform")
        .with_users([
            NewUser::new("alice@example.com").with_name("Alice"),
            NewUser::new("bob@example.com")
                .with_id(bob)
                .with_name("Bob"),
        ])
        .with_members([
            NewTeamMemberForTeam::new(alice).with_role(MemberRole::Admin),
            NewTeamMemberForTeam::new(bob),
        ])
        .insert_graph_report_returning(&client)
        .await?;

    assert_eq!(
        report.steps,
        vec![
            step("graph:before_insert:users", 2),
            step("graph:root:teams", 1),
            step("graph:has_many:team_members", 2),
        ]
    );
    assert_eq!(report.affected, 5);
    let team = report.root.ok_or("no root")?;
    let teams: Vec<(i32, String)> = client
        .query("SELECT id, name FROM teams", &[])
        .await?
        .iter()
        .map(|r| (r.get(0), r.get(1)))
        .collect();
    assert_eq!(teams, vec![(team.id, "Platform".to_owned())]);
    let users: Vec<(i64, String, Option<String>)> = client
        .query("SELECT id, email, name FROM users ORDER BY id", &[])
        .await?
        .iter()
        .map(|r| (r.get(0), r.get(1), r.get(2)))
        .collect();
    assert_eq!(
        users,
        vec![
            (
                alice,
                "alice@example.com".to_owned(),
                Some("Alice".to_owned())
            ),
            (bob, "bob@example.com".to_owned(), Some("Bob".to_owned())),
        ]
    );
    let members: Vec<(i32, i64, String)> = client
        .query(
            "SELECT team_id, user_id, role::text FROM team_members ORDER BY user_id",
            &[],
        )
        .await?
        .iter()
        .map(|r| (r.get(0), r.get(1), r.get(2)))
        .collect();
    assert_eq!(
        members,
        vec![
            (team.id, alice, "admin".to_owned()),
            (team.id, bob, "member".to_owned())
        ]
    );
    Ok(())
}

#[tokio::test]
async fn upserted_children_with_a_repeated_key_are_a_validation_error_and_send_nothing(
) -> TestResult {
    // `upsert_many` rejects a repeated conflict key before sending (tests/tests/table_layer.rs);
    // an upserting graph step must too, instead of PostgreSQL's "cannot affect row a second
    // time", which names no table and so no step.
    let (_db, client) = shop().await?;
    let counting = CountingClient::new(&client);

    let result = UpsertOrderGraph::new("judy")
        .with_items([
            NewOrderItemForOrder::new("A-1", 1),
            NewOrderItemForOrder::new("A-1", 2),
        ])
        .with_audits([NewAuditLogForEntity::new("order", "created")])
        .insert_graph(&counting)
        .await;

    assert_all_tables_empty(&client).await?;
    let message = expect_validation(result)?;
    assert!(message.contains("order_items"), "{message}");
    assert_eq!(counting.statements(), 0);
    Ok(())
}

// ---------------------------------------------------------------------------------------
// 7. What the constructors ask for
// ---------------------------------------------------------------------------------------

#[tokio::test]
async fn constructors_ask_only_for_values_no_graph_fills() -> TestResult {
    // The root's required columns, and required one-row steps; never a value a graph fills.
    let product_graph: fn(Uuid, String) -> NewProductGraph = NewProductGraph::new;
    let categorized: fn(Uuid, String, NewProductDetailForProduct) -> CategorizedProductGraph =
        CategorizedProductGraph::new;
    let order_graph: fn(String) -> NewOrderGraph = NewOrderGraph::new;
    // Children: the graph's row types leave out the fk column the graph fills ...
    let item: fn(String, i32) -> NewOrderItemForOrder = NewOrderItemForOrder::new;
    let shipping: fn(String, String, String) -> NewShippingAddressForOrder =
        NewShippingAddressForOrder::new;
    let audit: fn(String, String) -> NewAuditLogForEntity = NewAuditLogForEntity::new;
    let detail: fn(String) -> NewProductDetailForProduct = NewProductDetailForProduct::new;
    let tag: fn(String) -> NewProductTagForProduct = NewProductTagForProduct::new;
    let _: fn(i64) -> NewTeamMemberForTeam = NewTeamMemberForTeam::new;
    // ... and the tables' own rows keep it, whatever graphs use the table.
    let _: fn(i64, String, i32) -> NewOrderItem = NewOrderItem::new;
    let _: fn(i64, String, String, String) -> NewShippingAddress = NewShippingAddress::new;
    let _: fn(Uuid, String) -> NewProductTag = NewProductTag::new;
    let _: fn(i32, i64) -> NewTeamMember = NewTeamMember::new;

    // Field shapes: belongs_to `Option<NewParent>`, has_many `Vec`, optional has_one
    // `Option`, the set_fk column `Option`, a required has_one the row itself.
    let NewProductGraph {
        category_id,
        category,
        detail: product_detail,
        tags,
        audit: product_audit,
        ..
    } = product_graph(uuid(30), "Kettle".to_owned());
    let _: Option<i32> = category_id;
    let _: Option<NewCategory> = category;
    let _: Option<NewProductDetailForProduct> = product_detail;
    let _: Vec<NewProductTagForProduct> = tags;
    let _: Option<NewAuditLogForEntity> = product_audit;
    let CategorizedProductGraph {
        category, audits, ..
    } = categorized(uuid(31), "Cup".to_owned(), detail("x".to_owned()));
    let _: (Option<NewCategory>, Vec<NewAuditLogForEntity>) = (category, audits);
    let NewOrderGraph {
        items,
        shipping: order_shipping,
        ..
    } = order_graph("x".to_owned());
    let _: (
        Vec<NewOrderItemForOrder>,
        Option<NewShippingAddressForOrder>,
    ) = (items, order_shipping);

    // Rows built from these constructors alone get every fk from the graph.
    let item_row = item("A-1".to_owned(), 1);
    let shipping_row = shipping("Weg 4".to_owned(), "Köln".to_owned(), "50667".to_owned());
    let audit_row = audit("order".to_owned(), "created".to_owned());
    let (_db, client) = shop().await?;
    let order = order_graph("kim".to_owned())
        .with_items([item_row])
        .with_shipping(shipping_row)
        .with_audit(audit_row)
        .insert_graph_returning(&client)
        .await?;
    let id = uuid(32);
    product_graph(id, "Kettle".to_owned())
        .with_detail(detail("steel".to_owned()))
        .with_tags([tag("steel".to_owned())])
        .insert_graph(&client)
        .await?;

    assert!(categories(&client).await?.is_empty());
    assert_eq!(
        products(&client).await?,
        vec![(id, "Kettle".to_owned(), None)]
    );
    assert_eq!(
        product_details(&client).await?,
        vec![(id, "steel".to_owned(), None)]
    );
    assert_eq!(product_tags(&client).await?, vec![(id, "steel".to_owned())]);
    assert_eq!(orders(&client).await?, vec![(order.id, "kim".to_owned())]);
    assert_eq!(
        order_items(&client).await?,
        vec![(order.id, "A-1".to_owned(), 1, 0)]
    );
    assert_eq!(shipping_addresses(&client).await?.len(), 1);
    assert_eq!(shipping_addresses(&client).await?[0].0, order.id);
    assert_eq!(
        audit_logs(&client).await?,
        vec![(
            "order".to_owned(),
            Some(order.id.to_string()),
            "created".to_owned()
        )]
    );
    Ok(())
}

/// 32 writers at once, half on `CachedClient`s, each add a member to a team of its own with
/// its user found or created by one email (belongs_to, `upsert_returning`): first when no user
/// has the email, then when one exists with a name. Both rounds end with one user, every
/// member pointing at it, its name kept, and no error.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_member_signups_connect_or_create_one_user_on_both_client_kinds() -> TestResult {
    const WRITERS: usize = 32;
    let db = testing::database_with_schema(SCHEMA_SQL).await?;
    let client = db.connect().await?;
    for round in 0..2 {
        let mut teams = Vec::with_capacity(WRITERS);
        for n in 0..WRITERS {
            teams.push(
                NewTeam::new(format!("team {round}/{n}"))
                    .insert_returning(&client)
                    .await?
                    .id,
            );
        }
        let start = Arc::new(tokio::sync::Barrier::new(WRITERS));
        let mut tasks = Vec::with_capacity(WRITERS);
        for (n, team) in teams.into_iter().enumerate() {
            let connection = db.connect().await?;
            let start = Arc::clone(&start);
            tasks.push(tokio::spawn(async move {
                let graph =
                    MemberSignupGraph::new(team).with_user(NewUser::new("shared@example.com"));
                start.wait().await;
                if n % 2 == 0 {
                    graph.insert_graph_returning(&connection).await
                } else {
                    let cached = writegraph::CachedClient::new(connection);
                    graph.insert_graph_returning(&cached).await
                }
            }));
        }
        let mut members = Vec::with_capacity(WRITERS);
        for task in tasks {
            members.push(task.await?.map_err(|e| format!("round {round}: {e}"))?);
        }
        let users: Vec<(i64, Option<String>)> = client
            .query("SELECT id, name FROM users", &[])
            .await?
            .iter()
            .map(|r| (r.get(0), r.get(1)))
            .collect();
        let [(user, name)] = users.as_slice() else {
            return Err(format!("round {round}: expected one user, got {users:?}").into());
        };
        assert!(members.iter().all(|m| m.user_id == *user), "round {round}");
        let expected_name = (round == 1).then(|| "Ann".to_owned());
        assert_eq!(name, &expected_name, "round {round}: the name is kept");
        let stored = client
            .query_one(
                "SELECT count(*) FROM team_members WHERE user_id = $1",
                &[user],
            )
            .await?
            .get::<_, i64>(0);
        assert_eq!(stored, (WRITERS * (round + 1)) as i64, "round {round}");
        if round == 0 {
            client
                .execute("UPDATE users SET name = 'Ann' WHERE id = $1", &[user])
                .await?;
        }
    }
    Ok(())
}

#[tokio::test]
async fn upserted_users_keep_the_name_a_row_leaves_unset() -> TestResult {
    // Connect-or-create by email with only the email (belongs_to, upsert_returning) and an
    // upserted before_insert row with only the email: the existing user keeps its name.
    let (_db, client) = shop().await?;
    let ann = NewUser::new("ann@example.com")
        .with_name("Ann")
        .insert_returning(&client)
        .await?
        .id;
    let core = NewTeam::new("core").insert_returning(&client).await?.id;
    let member = MemberSignupGraph::new(core)
        .with_user(NewUser::new("ann@example.com"))
        .insert_graph_returning(&client)
        .await?;
    assert_eq!((member.team_id, member.user_id), (core, ann));
    TeamSignupGraph::new("infra")
        .with_users([
            NewUser::new("ann@example.com"),
            NewUser::new("bo@example.com").with_name("Bo"),
        ])
        .insert_graph(&client)
        .await?;
    let users: Vec<(String, Option<String>)> = client
        .query("SELECT email, name FROM users ORDER BY email", &[])
        .await?
        .iter()
        .map(|r| (r.get(0), r.get(1)))
        .collect();
    assert_eq!(
        users,
        vec![
            ("ann@example.com".to_owned(), Some("Ann".to_owned())),
            ("bo@example.com".to_owned(), Some("Bo".to_owned())),
        ]
    );
    // A row that sets the name still updates it.
    TeamSignupGraph::new("ops")
        .with_users([NewUser::new("ann@example.com").with_name("Annie")])
        .insert_graph(&client)
        .await?;
    let name: Option<String> = client
        .query_one(
            "SELECT name FROM users WHERE email = 'ann@example.com'",
            &[],
        )
        .await?
        .get(0);
    assert_eq!(name.as_deref(), Some("Annie"));
    Ok(())
}

#[tokio::test]
async fn an_error_two_steps_on_one_table_could_cause_lists_both_steps() -> TestResult {
    // Both audit steps write audit_logs: a duplicate id is one of them, and which one runs
    // second is PostgreSQL's choice. The error names no single (possibly wrong) step.
    let (_db, client) = shop().await?;
    let error = expect_db_error(
        TwiceAuditedOrderGraph::new("ann")
            .with_intent(NewAuditLog::new("order", "intent").with_id(5))
            .with_audit(NewAuditLogForEntity::new("order", "created").with_id(5))
            .insert_graph(&client)
            .await,
    )?;
    assert_eq!(
        error.sqlstate(),
        Some(&SqlState::UNIQUE_VIOLATION),
        "{error}"
    );
    assert_eq!(error.tag(), None, "{error}");
    assert_eq!(
        error.candidate_steps(),
        [
            "graph:before_insert:audit_logs",
            "graph:after_insert:audit_logs"
        ],
        "{error}"
    );
    assert!(
        error.to_string().starts_with(
            "one of the steps `graph:before_insert:audit_logs`, `graph:after_insert:audit_logs` failed"
        ),
        "{error}"
    );
    assert_all_tables_empty(&client).await?;
    // A violation only the root can cause still names the root.
    NewOrderGraph::new("bob")
        .with_id(7)
        .insert_graph(&client)
        .await?;
    let error = expect_db_error(
        TwiceAuditedOrderGraph::new("carl")
            .with_id(7)
            .insert_graph(&client)
            .await,
    )?;
    assert_eq!(error.tag(), Some("graph:root:orders"), "{error}");
    assert!(error.candidate_steps().is_empty());
    Ok(())
}

#[tokio::test]
async fn text_the_column_cannot_hold_is_a_validation_error_naming_step_row_and_column() -> TestResult
{
    let (_db, client) = shop().await?;
    let counting = CountingClient::new(&client);
    let order = |items: Vec<NewOrderItemForOrder>, zip: &str, country: &str| {
        NewOrderGraph::new("ann").with_items(items).with_shipping(
            NewShippingAddressForOrder::new("1 Main St", "Berlin", zip).with_country(country),
        )
    };
    let ok_items = || {
        vec![
            NewOrderItemForOrder::new("A", 1),
            NewOrderItemForOrder::new("B", 1),
        ]
    };
    // zip is varchar(16), country char(2): lengths in characters.
    let long_zip = expect_validation(
        order(ok_items(), "12345678901234567", "DE")
            .insert_graph(&counting)
            .await,
    )?;
    assert_eq!(
        long_zip,
        "step `graph:has_one:shipping_addresses`: `public.shipping_addresses` row 0, column `zip`: \
         the value is 17 characters long; the column holds at most 16"
    );
    let long_country = expect_validation(
        order(ok_items(), "10115", "DEU")
            .insert_graph(&counting)
            .await,
    )?;
    assert!(long_country.contains("column `country`"), "{long_country}");
    let nul = expect_validation(
        order(
            vec![
                NewOrderItemForOrder::new("A", 1),
                NewOrderItemForOrder::new("B\0", 1),
            ],
            "10115",
            "DE",
        )
        .insert_graph(&counting)
        .await,
    )?;
    assert_eq!(
        nul,
        "step `graph:has_many:order_items`: `public.order_items` row 1, column `sku`: \
         the value contains a NUL byte, which PostgreSQL text cannot hold"
    );
    let root = expect_validation(NewOrderGraph::new("a\0nn").insert_graph(&counting).await)?;
    assert!(
        root.starts_with("step `graph:root:orders`: `public.orders` row 0, column `customer`"),
        "{root}"
    );
    let table_layer = expect_validation(
        NewShippingAddress::insert_many(
            &counting,
            vec![
                NewShippingAddress::new(1, "a", "b", "1"),
                NewShippingAddress::new(1, "a", "b", "ZZZZZZZZZZZZZZZZZZZZ"),
            ],
        )
        .await,
    )?;
    assert!(
        table_layer.starts_with("`public.shipping_addresses` row 1, column `zip`"),
        "{table_layer}"
    );
    assert_eq!(counting.statements(), 0);
    assert_all_tables_empty(&client).await?;

    // 16 characters of two bytes each fit varchar(16); excess spaces are dropped, as
    // PostgreSQL does.
    let zip = "ß".repeat(16);
    order(ok_items(), &format!("{zip}   "), "AT ")
        .insert_graph(&client)
        .await?;
    let stored: (String, String) = client
        .query_one("SELECT zip, country::text FROM shipping_addresses", &[])
        .await
        .map(|r| (r.get(0), r.get(1)))?;
    assert_eq!(stored, (zip, "AT".to_owned()));
    Ok(())
}
