//! Connections taken from a pool, passed to generated code as they come: deadpool-postgres's
//! `Object` and `Transaction` (feature `deadpool`, statements in deadpool's own cache) and
//! bb8's `PooledConnection` of bb8-postgres's manager (feature `bb8`).
//!
//! Each pool runs every graph kind of the example on one connection: the insert graph, the
//! update graphs that replace (`&conn`), append, upsert and diff (`&mut conn`, the graph locks
//! its root and opens its own transaction), a locked diff in a transaction the caller opened
//! (`&tx`), and reading and deleting a row by key. Each write's rows are read back with plain
//! SQL on another connection.

use std::fmt::Debug;

use tokio_postgres::{Client, NoTls};
use writegraph::{SessionClient, TransactionClient};
use writegraph_example::{
    NewOrderGraph, NewOrderItemForOrder, NewShippingAddressForOrder, Order, OrderAppendGraph,
    OrderItem, OrderPatchGraph, OrderReplaceGraph, OrderUpsertGraph, SCHEMA_SQL,
};
use writegraph_testing::{self as testing, TestDatabase};

type TestResult<T = ()> = Result<T, Box<dyn std::error::Error>>;

/// `(sku, qty, price_cents)` of an item row.
type Item = (String, i32, i64);

/// `(street, city)` of a shipping address row.
type Address = (String, String);

fn item(sku: &str, qty: i32, price_cents: i64) -> Item {
    (sku.to_owned(), qty, price_cents)
}

fn new_item(sku: &str, qty: i32, price_cents: i64) -> NewOrderItemForOrder {
    NewOrderItemForOrder::new(sku, qty).with_price_cents(price_cents)
}

fn new_address(street: &str, city: &str) -> NewShippingAddressForOrder {
    NewShippingAddressForOrder::new(street, city, "10115").with_country("DE")
}

/// A fresh database with the shop schema and a plain client to read it back with.
async fn shop() -> TestResult<(TestDatabase, Client)> {
    let db = testing::database_with_schema(SCHEMA_SQL).await?;
    let client = db.connect().await?;
    Ok((db, client))
}

/// The items of `order`, by sku.
async fn items(client: &Client, order: i64) -> TestResult<Vec<Item>> {
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

/// The shipping address of `order`, if it has one.
async fn shipping(client: &Client, order: i64) -> TestResult<Option<Address>> {
    Ok(client
        .query_opt(
            "SELECT street, city FROM shipping_addresses WHERE order_id = $1",
            &[&order],
        )
        .await?
        .map(|r| (r.get(0), r.get(1))))
}

/// `(customer, total_cents)` of `order`.
async fn order_row(client: &Client, order: i64) -> TestResult<(String, i64)> {
    let row = client
        .query_one(
            "SELECT customer, total_cents FROM orders WHERE id = $1",
            &[&order],
        )
        .await?;
    Ok((row.get(0), row.get(1)))
}

fn address(street: &str, city: &str) -> Option<Address> {
    Some((street.to_owned(), city.to_owned()))
}

/// Every graph kind on one pooled connection `conn`, each write's rows read back on `check`.
/// Returns the order written.
async fn every_graph_kind<C>(conn: &mut C, check: &Client) -> TestResult<i64>
where
    C: SessionClient + Send + Sync,
{
    // Insert graph: the order, its items and its address in one statement.
    let written = NewOrderGraph::new("alice")
        .with_total_cents(300)
        .with_items([new_item("A", 1, 100), new_item("B", 2, 200)])
        .with_shipping(new_address("1 Main St", "Berlin"))
        .insert_graph(&*conn)
        .await?;
    assert_eq!(written, 1 + 2 + 1);
    let order: i64 = check
        .query_one("SELECT id FROM orders WHERE customer = 'alice'", &[])
        .await?
        .get(0);
    assert_eq!(order_row(check, order).await?, ("alice".to_owned(), 300));
    assert_eq!(
        items(check, order).await?,
        vec![item("A", 1, 100), item("B", 2, 200)]
    );
    assert_eq!(
        shipping(check, order).await?,
        address("1 Main St", "Berlin")
    );

    // Read by key on the pooled connection.
    let found = Order::find_by_id(&*conn, &order).await?;
    assert_eq!(found.map(|o| o.customer), Some("alice".to_owned()));

    // Replace (no root lock): on `&conn`.
    let replaced = OrderReplaceGraph::default()
        .with_total_cents(50)
        .with_items([new_item("C", 3, 30)])
        .with_shipping(new_address("2 Side St", "Paris"))
        .update_by_id_graph(&*conn, &order)
        .await?;
    assert_eq!(replaced, 1 + (2 + 1) + 1);
    assert_eq!(order_row(check, order).await?, ("alice".to_owned(), 50));
    assert_eq!(items(check, order).await?, vec![item("C", 3, 30)]);
    assert_eq!(shipping(check, order).await?, address("2 Side St", "Paris"));

    // Append (locks the root): on `&mut conn`.
    let appended = OrderAppendGraph::default()
        .with_items([new_item("D", 4, 40)])
        .update_by_id_graph(&mut *conn, &order)
        .await?;
    assert_eq!(appended, 1);
    assert_eq!(
        items(check, order).await?,
        vec![item("C", 3, 30), item("D", 4, 40)]
    );

    // Upsert by (order_id, sku) (locks the root): `C` updated, `E` inserted, `D` kept.
    let report = OrderUpsertGraph::default()
        .with_items([new_item("C", 9, 90), new_item("E", 5, 50)])
        .update_by_id_graph_report(&mut *conn, &order)
        .await?;
    assert_eq!(report.step("graph:has_many:order_items"), 2);
    assert_eq!(
        items(check, order).await?,
        vec![item("C", 9, 90), item("D", 4, 40), item("E", 5, 50)]
    );

    // Diff by sku (locks the root): `D` updated, `F` inserted, `C` and `E` deleted; the
    // address replaced.
    let diffed = OrderPatchGraph::default()
        .with_customer("alice b.")
        .with_items([new_item("D", 6, 60), new_item("F", 7, 70)])
        .with_shipping(new_address("3 Oak Ave", "Vienna"))
        .update_by_id_graph_returning(&mut *conn, &order)
        .await?;
    assert_eq!(diffed.customer, "alice b.");
    assert_eq!(
        items(check, order).await?,
        vec![item("D", 6, 60), item("F", 7, 70)]
    );
    assert_eq!(
        shipping(check, order).await?,
        address("3 Oak Ave", "Vienna")
    );

    // Read and delete one row by key.
    let f: i64 = check
        .query_one(
            "SELECT id FROM order_items WHERE order_id = $1 AND sku = 'F'",
            &[&order],
        )
        .await?
        .get(0);
    let row = OrderItem::find_by_id(&*conn, &f).await?;
    assert_eq!(row.map(|r| (r.sku, r.qty)), Some(("F".to_owned(), 7)));
    assert_eq!(OrderItem::delete_by_id(&*conn, &f).await?, 1);
    assert_eq!(items(check, order).await?, vec![item("D", 6, 60)]);
    Ok(order)
}

/// A locked diff in a transaction the caller opened on a pooled connection: the graph runs in
/// it and does not commit; nothing is visible elsewhere until the caller commits.
async fn locked_diff_in_transaction<T>(tx: &T, check: &Client, order: i64) -> TestResult
where
    T: TransactionClient + Send + Sync,
{
    assert!(tx.is_transaction());
    let affected = OrderPatchGraph::default()
        .with_total_cents(77)
        .with_items([new_item("G", 8, 80)])
        .update_by_id_graph(tx, &order)
        .await?;
    // The root, `G` inserted and `D` deleted.
    assert_eq!(affected, 1 + 2);
    // Not committed yet: the other connection still sees the rows before.
    assert_eq!(items(check, order).await?, vec![item("D", 6, 60)]);
    Ok(())
}

async fn after_commit(check: &Client, order: i64) -> TestResult {
    assert_eq!(items(check, order).await?, vec![item("G", 8, 80)]);
    assert_eq!(order_row(check, order).await?, ("alice b.".to_owned(), 77));
    Ok(())
}

fn expect<T: Debug, E: Debug>(result: Result<T, E>, what: &str) -> TestResult<T> {
    result.map_err(|e| format!("{what}: {e:?}").into())
}

fn deadpool_pool(db: &TestDatabase) -> TestResult<deadpool_postgres::Pool> {
    let manager = deadpool_postgres::Manager::new(db.config().clone(), NoTls);
    expect(
        deadpool_postgres::Pool::builder(manager)
            .max_size(1)
            .build(),
        "deadpool pool",
    )
}

#[tokio::test]
async fn a_deadpool_connection_runs_every_graph_kind_on_its_statement_cache() -> TestResult {
    let (db, check) = shop().await?;
    let pool = deadpool_pool(&db)?;
    let mut conn = expect(pool.get().await, "deadpool get")?;
    let order = every_graph_kind(&mut conn, &check).await?;
    // Every statement went through deadpool's cache: the insert graph, find, the four update
    // graphs (each locking one with its lock), find and delete of an item.
    let cached = conn.statement_cache.size();
    assert!(cached >= 9, "{cached} statements cached");

    // The same write again prepares nothing new.
    let again = NewOrderGraph::new("carol")
        .with_items([new_item("A", 1, 100)])
        .insert_graph(&conn)
        .await?;
    assert_eq!(again, 2);
    assert_eq!(conn.statement_cache.size(), cached);

    // A transaction of the pooled connection shares the cache.
    let tx = expect(conn.transaction().await, "deadpool transaction")?;
    locked_diff_in_transaction(&tx, &check, order).await?;
    expect(tx.commit().await, "deadpool commit")?;
    after_commit(&check, order).await?;
    // Its diff sets other root columns than the diff before, so its statement is new; its
    // lock was cached already.
    assert_eq!(conn.statement_cache.size(), cached + 1);
    Ok(())
}

#[tokio::test]
async fn a_deadpool_connection_prepares_again_what_the_server_dropped() -> TestResult {
    let (db, check) = shop().await?;
    let pool = deadpool_pool(&db)?;
    let mut conn = expect(pool.get().await, "deadpool get")?;
    let order = NewOrderGraph::new("alice")
        .with_items([new_item("A", 1, 100)])
        .insert_graph_returning(&conn)
        .await?
        .id;
    OrderPatchGraph::default()
        .with_items([new_item("B", 2, 200)])
        .update_by_id_graph(&mut conn, &order)
        .await?;

    // The server forgets every prepared statement; deadpool's cache still has them.
    conn.batch_execute("DEALLOCATE ALL").await?;
    let written = NewOrderGraph::new("bob")
        .with_items([new_item("Z", 9, 900)])
        .insert_graph(&conn)
        .await?;
    assert_eq!(written, 2);
    conn.batch_execute("DEALLOCATE ALL").await?;
    OrderPatchGraph::default()
        .with_items([new_item("C", 3, 300)])
        .update_by_id_graph(&mut conn, &order)
        .await?;
    assert_eq!(items(&check, order).await?, vec![item("C", 3, 300)]);
    let bob: i64 = check
        .query_one(
            "SELECT count(*) FROM order_items i JOIN orders o ON o.id = i.order_id \
             WHERE o.customer = 'bob' AND i.sku = 'Z'",
            &[],
        )
        .await?
        .get(0);
    assert_eq!(bob, 1);
    Ok(())
}

#[tokio::test]
async fn a_bb8_connection_runs_every_graph_kind() -> TestResult {
    let (db, check) = shop().await?;
    let manager = bb8_postgres::PostgresConnectionManager::new(db.config().clone(), NoTls);
    let pool = bb8::Pool::builder().max_size(1).build(manager).await?;
    let mut conn = expect(pool.get().await, "bb8 get")?;
    let order = every_graph_kind(&mut conn, &check).await?;

    // bb8's transaction is tokio-postgres's.
    let tx = conn.transaction().await?;
    locked_diff_in_transaction(&tx, &check, order).await?;
    tx.commit().await?;
    after_commit(&check, order).await?;
    Ok(())
}
