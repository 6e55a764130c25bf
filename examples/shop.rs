//! The example shop end to end: a database with the schema applied (a throwaway PostgreSQL,
//! or a fresh database on the server `DATABASE_URL` names), then the generated code at work on
//! a deadpool-postgres pool's connection: single rows, a batch, insert graphs and an update
//! graph, each checked against the rows PostgreSQL holds afterwards.
//!
//! Run it with `cargo run --example shop`.

use deadpool_postgres::{Manager, Pool};
use tokio_postgres::NoTls;
use writegraph::types::Uuid;
use writegraph_example::{
    NewAuditLogForEntity, NewCategory, NewOrder, NewOrderGraph, NewOrderItem, NewOrderItemForOrder,
    NewProductDetailForProduct, NewProductGraph, NewProductTagForProduct,
    NewShippingAddressForOrder, Order, OrderPatch, OrderPatchGraph, OrderStatus, SCHEMA_SQL,
};
use writegraph_testing as testing;

type Result<T = ()> = std::result::Result<T, Box<dyn std::error::Error>>;

#[tokio::main]
async fn main() -> Result {
    let db = testing::database_with_schema(SCHEMA_SQL).await?;
    let pool = Pool::builder(Manager::new(db.config().clone(), NoTls))
        .max_size(2)
        .build()?;
    // A pooled connection runs every write, on deadpool's statement cache.
    let mut client = pool.get().await?;
    println!("database `{}` ready", db.name());

    // One row: unset columns take their DEFAULT (status 'pending', created_at now()).
    let order = NewOrder::new("alice")
        .with_note("leave at the door")
        .insert_returning(&client)
        .await?;
    println!(
        "inserted order {} ({:?}, total {})",
        order.id, order.status, order.total_cents
    );

    // Many rows: one statement, whatever their number.
    let items: Vec<NewOrderItem> = (1..=3)
        .map(|i| {
            NewOrderItem::new(order.id, format!("SKU-{i}"), i).with_price_cents(250 * i64::from(i))
        })
        .collect();
    println!(
        "inserted {} items in one statement",
        NewOrderItem::insert_many(&client, items).await?
    );

    // A patch assigns only what it sets.
    let paid = OrderPatch::default()
        .with_status(OrderStatus::Paid)
        .with_total_cents(1500)
        .update_by_id_returning(&client, &order.id)
        .await?;
    println!(
        "order {} is now {:?}, total {}",
        paid.id, paid.status, paid.total_cents
    );

    // An insert graph: the product, its category (found or created by name), details, tags
    // and an audit row, in one statement.
    let lamp = Uuid::from_u128(0x1a2b);
    let report = NewProductGraph::new(lamp, "Desk lamp")
        .with_price_cents(4900)
        .with_category(NewCategory::new("Lighting"))
        .with_detail(NewProductDetailForProduct::new("Warm light, 40 cm").with_weight_grams(800))
        .with_tags([
            NewProductTagForProduct::new("lamp"),
            NewProductTagForProduct::new("desk"),
        ])
        .with_audit(NewAuditLogForEntity::new("product", "created"))
        .insert_graph_report_returning(&client)
        .await?;
    for step in &report.steps {
        println!("  {:32} {} row(s)", step.tag, step.affected);
    }
    let product = report.root.ok_or("the graph returned no product")?;
    println!(
        "product {} in category {:?}: {} rows in one statement",
        product.name, product.category_id, report.affected
    );

    // An order with items, shipping address and audit row, then an update graph that patches
    // it and syncs its items (diff by sku) and shipping address (replace).
    let order = NewOrderGraph::new("bob")
        .with_items([
            NewOrderItemForOrder::new("A", 1),
            NewOrderItemForOrder::new("B", 2),
            NewOrderItemForOrder::new("C", 3),
        ])
        .with_shipping(NewShippingAddressForOrder::new(
            "Main street 1",
            "Berlin",
            "10115",
        ))
        .with_audit(NewAuditLogForEntity::new("order", "created"))
        .insert_graph_returning(&client)
        .await?;
    let update = OrderPatchGraph::default()
        .with_note("gift wrap")
        .with_items([
            NewOrderItemForOrder::new("B", 5),
            NewOrderItemForOrder::new("D", 1),
        ])
        .with_shipping(NewShippingAddressForOrder::new(
            "Harbour road 9",
            "Hamburg",
            "20095",
        ))
        .update_by_id_graph_report(&mut client, &order.id)
        .await?;
    for step in &update.steps {
        println!("  {:32} {} row(s)", step.tag, step.affected);
    }
    let items: Vec<(String, i32)> = client
        .query(
            "SELECT sku, qty FROM order_items WHERE order_id = $1 ORDER BY sku",
            &[&order.id],
        )
        .await?
        .iter()
        .map(|r| (r.get(0), r.get(1)))
        .collect();
    println!("order {} items after the diff: {items:?}", order.id);
    assert_eq!(items, [("B".to_owned(), 5), ("D".to_owned(), 1)]);

    let stored = Order::find_by_id(&client, &order.id)
        .await?
        .ok_or("the order is gone")?;
    assert_eq!(stored.note.as_deref(), Some("gift wrap"));

    // Many orders at once: three new orders in one statement, then one statement that gives
    // each its own note and adds an item to the first, with every order locked first.
    let orders = NewOrderGraph::insert_graph_many_returning(
        &client,
        ["carol", "dave", "erin"].map(|customer| {
            NewOrderGraph::new(customer).with_items([NewOrderItemForOrder::new("A", 1)])
        }),
    )
    .await?;
    let batch = orders.iter().enumerate().map(|(n, order)| {
        let patch = OrderPatchGraph::default().with_note(format!("batch note {n}"));
        let patch = if n == 0 {
            patch.with_items([
                NewOrderItemForOrder::new("A", 1),
                NewOrderItemForOrder::new("E", 2),
            ])
        } else {
            patch
        };
        (order.id, patch)
    });
    let updated = OrderPatchGraph::update_graph_many_returning(&mut client, batch).await?;
    let notes: Vec<Option<String>> = updated.into_iter().map(|o| o.note).collect();
    println!("notes after one update_graph_many: {notes:?}");
    assert_eq!(
        notes,
        (0..3)
            .map(|n| Some(format!("batch note {n}")))
            .collect::<Vec<_>>()
    );
    let first_items: i64 = client
        .query_one(
            "SELECT count(*) FROM order_items WHERE order_id = $1",
            &[&orders[0].id],
        )
        .await?
        .get(0);
    assert_eq!(first_items, 2);
    println!("ok");
    Ok(())
}
