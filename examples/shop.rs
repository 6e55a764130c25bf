//! The example shop end to end: a database with the schema applied (a throwaway PostgreSQL,
//! or a fresh database on the server `DATABASE_URL` names), then the generated code at work.
//!
//! Run it with `cargo run --example shop`.

use writegraph::testing;
use writegraph_example::{
    NewOrder, NewOrderItem, Order, OrderItem, OrderPatch, OrderStatus, SCHEMA_SQL,
};

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let db = testing::database_with_schema(SCHEMA_SQL).await?;
    let client = db.connect().await?;
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
            NewOrderItem::new(format!("SKU-{i}"), i)
                .with_order_id(order.id)
                .with_price_cents(250 * i64::from(i))
        })
        .collect();
    let inserted = NewOrderItem::insert_many(&client, items).await?;
    println!("inserted {inserted} items in one statement");

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

    let stored = Order::find_by_id(&client, &order.id)
        .await?
        .ok_or("the order is gone")?;
    assert_eq!(stored, paid);
    let count: i64 = client
        .query_one(
            "SELECT count(*) FROM order_items WHERE order_id = $1",
            &[&order.id],
        )
        .await?
        .get(0);
    println!(
        "order {} has {count} items; first item table: {}",
        stored.id,
        OrderItem::TABLE
    );
    Ok(())
}
