//! Many update graphs of one kind in one statement (`update_graph_many`), against
//! PostgreSQL, with the example's update graphs: `OrderReplaceGraph` (items replaced,
//! shipping address upserted, no lock), `OrderPatchGraph` (items diffed by sku, shipping
//! address replaced, roots locked), `OrderAppendGraph` and `OrderUpsertGraph`.
//!
//! Covered: every strategy over several roots at once, each root's children under their own
//! root; roots that set different columns, or none (then not rewritten); the report summed
//! over the graphs; roots returned in input order; one statement per call (1,000 roots
//! too); a missing root, a repeated root, a bad value and a failing child each changing
//! nothing; an empty batch sending nothing; two locking batches over the same roots in
//! opposite orders not deadlocking.

use tokio_postgres::Client;
use writegraph::{Error, ValidationKind, WriteStepReport};
use writegraph_example::{
    NewOrderGraph, NewOrderItemForOrder, NewShippingAddressForOrder, OrderAppendGraph, OrderPatch,
    OrderPatchGraph, OrderReplaceGraph, OrderStatus, OrderUpsertGraph, SCHEMA_SQL,
};
use writegraph_testing::{self as testing, CountingClient, TestDatabase};

type TestResult<T = ()> = Result<T, Box<dyn std::error::Error>>;

const ROOT: &str = "graph:root:orders";
const ITEMS: &str = "graph:has_many:order_items";
const SHIPPING: &str = "graph:has_one:shipping_addresses";

/// An order id no row has.
const MISSING: i64 = 999_999;

/// `(sku, qty, price_cents)` of an item row.
type Item = (String, i32, i64);

async fn shop() -> TestResult<(TestDatabase, Client)> {
    let db = testing::database_with_schema(SCHEMA_SQL).await?;
    let client = db.connect().await?;
    Ok((db, client))
}

fn item(sku: &str, qty: i32, price_cents: i64) -> Item {
    (sku.to_owned(), qty, price_cents)
}

fn new_item(sku: &str, qty: i32, price_cents: i64) -> NewOrderItemForOrder {
    NewOrderItemForOrder::new(sku, qty).with_price_cents(price_cents)
}

fn new_address(street: &str, city: &str) -> NewShippingAddressForOrder {
    NewShippingAddressForOrder::new(street, city, "10115")
}

fn step(tag: &'static str, affected: u64) -> WriteStepReport {
    WriteStepReport { tag, affected }
}

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

async fn street(client: &Client, order: i64) -> TestResult<Option<String>> {
    Ok(client
        .query_opt(
            "SELECT street FROM shipping_addresses WHERE order_id = $1",
            &[&order],
        )
        .await?
        .map(|r| r.get(0)))
}

/// `(total_cents, note, xmin)` of `order`: xmin changes when the row is rewritten.
async fn root_row(client: &Client, order: i64) -> TestResult<(i64, Option<String>, String)> {
    let row = client
        .query_one(
            "SELECT total_cents, note, xmin::text FROM orders WHERE id = $1",
            &[&order],
        )
        .await?;
    Ok((row.get(0), row.get(1), row.get(2)))
}

/// Every row of the three tables, as text, in key order.
async fn snapshot(client: &Client) -> TestResult<Vec<String>> {
    let mut rows = Vec::new();
    for (table, order_by) in [
        ("orders", "id"),
        ("order_items", "id"),
        ("shipping_addresses", "order_id"),
    ] {
        for row in client
            .query(
                &format!("SELECT t::text FROM {table} AS t ORDER BY {order_by}"),
                &[],
            )
            .await?
        {
            rows.push(format!("{table} {}", row.get::<_, String>(0)));
        }
    }
    Ok(rows)
}

/// Three orders: alice (items A, B, C, an address), bob (items A, Z, an address) and carol
/// (item Q, no address). Returns their ids.
async fn seed(client: &Client) -> TestResult<[i64; 3]> {
    let orders = NewOrderGraph::insert_graph_many_returning(
        client,
        [
            NewOrderGraph::new("alice")
                .with_total_cents(600)
                .with_note("first")
                .with_items([
                    new_item("A", 1, 100),
                    new_item("B", 2, 200),
                    new_item("C", 3, 300),
                ])
                .with_shipping(new_address("1 Main St", "Berlin")),
            NewOrderGraph::new("bob")
                .with_items([new_item("A", 7, 700), new_item("Z", 8, 800)])
                .with_shipping(new_address("2 Side St", "Paris")),
            NewOrderGraph::new("carol")
                .with_note("third")
                .with_items([new_item("Q", 1, 10)]),
        ],
    )
    .await?;
    Ok([orders[0].id, orders[1].id, orders[2].id])
}

#[tokio::test]
async fn replace_rewrites_each_roots_children_in_one_statement() -> TestResult {
    let (_db, client) = shop().await?;
    let [alice, bob, carol] = seed(&client).await?;
    let (_, carol_note, carol_xmin) = root_row(&client, carol).await?;
    let counting = CountingClient::new(&client);
    let report = OrderReplaceGraph::update_graph_many_report(
        &counting,
        [
            (
                alice,
                OrderReplaceGraph::default()
                    .with_total_cents(10)
                    .with_items([new_item("X", 1, 1), new_item("Y", 2, 2)]),
            ),
            (
                bob,
                OrderReplaceGraph {
                    root: OrderPatch {
                        note: Some(Some("second".into())),
                        status: Some(OrderStatus::Shipped),
                        ..OrderPatch::default()
                    },
                    items: Some(Vec::new()),
                    shipping: Some(None),
                },
            ),
            (
                carol,
                OrderReplaceGraph::default().with_shipping(new_address("3 New St", "Rome")),
            ),
        ],
    )
    .await?;
    assert_eq!(counting.statements(), 1);
    // Alice's 3 and bob's 2 items deleted, alice's 2 inserted; bob's address deleted,
    // carol's inserted; two roots set a column.
    assert_eq!(
        report.steps,
        vec![step(ROOT, 2), step(ITEMS, 7), step(SHIPPING, 2)]
    );
    assert_eq!(
        items(&client, alice).await?,
        vec![item("X", 1, 1), item("Y", 2, 2)]
    );
    assert_eq!(items(&client, bob).await?, Vec::<Item>::new());
    assert_eq!(items(&client, carol).await?, vec![item("Q", 1, 10)]);
    assert_eq!(street(&client, alice).await?.as_deref(), Some("1 Main St"));
    assert_eq!(street(&client, bob).await?, None);
    assert_eq!(street(&client, carol).await?.as_deref(), Some("3 New St"));
    // Each root got only the columns its own patch set.
    let (alice_total, alice_note, _) = root_row(&client, alice).await?;
    assert_eq!((alice_total, alice_note.as_deref()), (10, Some("first")));
    let (bob_total, bob_note, _) = root_row(&client, bob).await?;
    assert_eq!((bob_total, bob_note.as_deref()), (0, Some("second")));
    // An enum, sent as text and cast, for the one root that sets it.
    let statuses: Vec<String> = client
        .query("SELECT status::text FROM orders ORDER BY id", &[])
        .await?
        .iter()
        .map(|r| r.get(0))
        .collect();
    assert_eq!(statuses, ["pending", "shipped", "pending"]);
    // Carol set no root column: her row is read, not rewritten.
    assert_eq!(root_row(&client, carol).await?, (0, carol_note, carol_xmin));
    Ok(())
}

#[tokio::test]
async fn diff_append_and_upsert_act_per_root_and_return_roots_in_input_order() -> TestResult {
    let (_db, mut client) = shop().await?;
    let [alice, bob, carol] = seed(&client).await?;

    // Diff (roots locked first): alice keeps A (changed), loses B and C, gains D; bob's
    // items are not given and stay, his address is deleted.
    let roots = OrderPatchGraph::update_graph_many_returning(
        &mut client,
        [
            (
                bob,
                OrderPatchGraph::default()
                    .with_shipping_opt(None)
                    .with_note_opt(None),
            ),
            (
                alice,
                OrderPatchGraph::default()
                    .with_items([new_item("A", 9, 100), new_item("D", 4, 400)]),
            ),
        ],
    )
    .await?;
    assert_eq!(
        roots
            .iter()
            .map(|o| (o.id, o.note.clone()))
            .collect::<Vec<_>>(),
        vec![(bob, None), (alice, Some("first".into()))]
    );
    assert_eq!(
        items(&client, alice).await?,
        vec![item("A", 9, 100), item("D", 4, 400)]
    );
    assert_eq!(
        items(&client, bob).await?,
        vec![item("A", 7, 700), item("Z", 8, 800)]
    );
    assert_eq!(street(&client, bob).await?, None);
    assert_eq!(street(&client, alice).await?.as_deref(), Some("1 Main St"));

    // Append: each root's rows under their own root.
    let report = OrderAppendGraph::update_graph_many_report(
        &mut client,
        [
            (
                carol,
                OrderAppendGraph::default().with_items([new_item("E", 1, 5)]),
            ),
            (
                bob,
                OrderAppendGraph::default().with_items([new_item("F", 2, 6), new_item("G", 3, 7)]),
            ),
        ],
    )
    .await?;
    assert_eq!(report.steps, vec![step(ROOT, 0), step(ITEMS, 3)]);
    assert_eq!(
        items(&client, carol).await?,
        vec![item("E", 1, 5), item("Q", 1, 10)]
    );
    assert_eq!(
        items(&client, bob).await?,
        vec![
            item("A", 7, 700),
            item("F", 2, 6),
            item("G", 3, 7),
            item("Z", 8, 800)
        ]
    );

    // Upsert: the same sku under two roots is two rows, each updated or inserted under its
    // own root.
    let affected = OrderUpsertGraph::update_graph_many(
        &mut client,
        [
            (
                alice,
                OrderUpsertGraph::default().with_items([new_item("A", 2, 1), new_item("H", 1, 1)]),
            ),
            (
                bob,
                OrderUpsertGraph::default().with_items([new_item("A", 3, 1)]),
            ),
        ],
    )
    .await?;
    assert_eq!(affected, 3);
    assert_eq!(
        items(&client, alice).await?,
        vec![item("A", 2, 1), item("D", 4, 400), item("H", 1, 1)]
    );
    assert_eq!(
        items(&client, bob).await?,
        vec![
            item("A", 3, 1),
            item("F", 2, 6),
            item("G", 3, 7),
            item("Z", 8, 800)
        ]
    );
    Ok(())
}

#[tokio::test]
async fn a_missing_root_changes_nothing_and_names_its_graph() -> TestResult {
    let (_db, mut client) = shop().await?;
    let [alice, bob, _] = seed(&client).await?;
    let before = snapshot(&client).await?;
    let graph = || OrderReplaceGraph::default().with_items([new_item("X", 1, 1)]);
    let result = OrderReplaceGraph::update_graph_many(
        &client,
        [(alice, graph()), (MISSING, graph()), (bob, graph())],
    )
    .await;
    match result {
        Err(Error::NotFound {
            table: "public.orders",
            graph: Some(1),
            ..
        }) => {}
        other => return Err(format!("expected NotFound of graph 1, got {other:?}").into()),
    }
    // Every root missing: nothing to write, the first graph named.
    match OrderReplaceGraph::update_graph_many(&client, [(MISSING, graph())]).await {
        Err(Error::NotFound { graph: Some(0), .. }) => {}
        other => return Err(format!("expected NotFound of graph 0, got {other:?}").into()),
    }
    // The same with the roots locked.
    let patch = || OrderPatchGraph::default().with_total_cents(1);
    match OrderPatchGraph::update_graph_many(&mut client, [(bob, patch()), (MISSING, patch())])
        .await
    {
        Err(Error::NotFound { graph: Some(1), .. }) => {}
        other => return Err(format!("expected NotFound of graph 1, got {other:?}").into()),
    }
    assert_eq!(snapshot(&client).await?, before);
    Ok(())
}

#[tokio::test]
async fn bad_batches_are_refused_before_any_statement() -> TestResult {
    let (db, client) = shop().await?;
    let [alice, bob, _] = seed(&client).await?;
    let before = snapshot(&client).await?;
    let counting = CountingClient::new(&client);

    // One root twice: PostgreSQL would apply one of the two patches.
    let result = OrderReplaceGraph::update_graph_many(
        &counting,
        [
            (alice, OrderReplaceGraph::default().with_total_cents(1)),
            (bob, OrderReplaceGraph::default().with_total_cents(2)),
            (alice, OrderReplaceGraph::default().with_total_cents(3)),
        ],
    )
    .await;
    match result {
        Err(Error::Validation(e)) if e.kind() == ValidationKind::RepeatedKey => {
            assert!(e.to_string().contains("(graphs 0 and 2)"), "{e}");
        }
        other => return Err(format!("expected RepeatedKey, got {other:?}").into()),
    }

    // Repeated items within one graph, in the graph's own check, name the graph.
    let result = OrderPatchGraph::update_graph_many(
        &mut CountingClient::new(db.connect().await?),
        [
            (alice, OrderPatchGraph::default().with_total_cents(1)),
            (
                bob,
                OrderPatchGraph::default().with_items([new_item("A", 1, 1), new_item("A", 2, 2)]),
            ),
        ],
    )
    .await;
    match result {
        Err(Error::Validation(e)) => assert!(e.to_string().starts_with("graph 1: "), "{e}"),
        other => return Err(format!("expected a validation error, got {other:?}").into()),
    }

    // An empty batch sends nothing.
    let report = OrderReplaceGraph::update_graph_many_report_returning(
        &counting,
        Vec::<(i64, OrderReplaceGraph)>::new(),
    )
    .await?;
    assert_eq!(report.affected, 0);
    assert_eq!(report.root, Some(Vec::new()));
    assert_eq!(counting.statements(), 0);
    assert_eq!(snapshot(&client).await?, before);
    Ok(())
}

#[tokio::test]
async fn a_failing_child_of_one_graph_writes_nothing_of_any() -> TestResult {
    let (_db, client) = shop().await?;
    let [alice, bob, _] = seed(&client).await?;
    let before = snapshot(&client).await?;
    let result = OrderReplaceGraph::update_graph_many(
        &client,
        [
            (
                alice,
                OrderReplaceGraph::default()
                    .with_total_cents(5)
                    .with_items([new_item("X", 1, 1)]),
            ),
            // qty must be positive.
            (
                bob,
                OrderReplaceGraph::default().with_items([new_item("Y", 0, 1)]),
            ),
        ],
    )
    .await;
    match result {
        Err(e @ Error::Db { .. }) => assert_eq!(e.tag(), Some(ITEMS)),
        other => return Err(format!("expected Error::Db, got {other:?}").into()),
    }
    assert_eq!(snapshot(&client).await?, before);
    Ok(())
}

#[tokio::test]
async fn a_thousand_roots_are_one_statement_each_child_under_its_root() -> TestResult {
    let (_db, client) = shop().await?;
    let orders = NewOrderGraph::insert_graph_many_returning(
        &client,
        (0..1000).map(|n| {
            NewOrderGraph::new(format!("customer {n}")).with_items([
                new_item("A", 1, 1),
                new_item("B", 1, 1),
                new_item("C", 1, 1),
            ])
        }),
    )
    .await?;
    let counting = CountingClient::new(&client);
    let report = OrderReplaceGraph::update_graph_many_report(
        &counting,
        orders.iter().enumerate().map(|(n, order)| {
            let n = n as i32 + 1;
            (
                order.id,
                OrderReplaceGraph::default()
                    .with_total_cents(i64::from(n))
                    .with_items([new_item(&format!("N{n}"), n, 0)]),
            )
        }),
    )
    .await?;
    assert_eq!(counting.statements(), 1);
    assert_eq!(
        report.steps,
        vec![step(ROOT, 1000), step(ITEMS, 4000), step(SHIPPING, 0)]
    );
    let wrong: i64 = client
        .query_one(
            "SELECT count(*) FROM orders o JOIN order_items i ON i.order_id = o.id \
             WHERE i.sku <> 'N' || o.total_cents OR i.qty <> o.total_cents",
            &[],
        )
        .await?
        .get(0);
    let total: i64 = client
        .query_one("SELECT count(*) FROM order_items", &[])
        .await?
        .get(0);
    assert_eq!((wrong, total), (0, 1000));
    Ok(())
}

#[tokio::test]
async fn locking_batches_over_the_same_roots_in_opposite_orders_do_not_deadlock() -> TestResult {
    let (db, client) = shop().await?;
    let orders = NewOrderGraph::insert_graph_many_returning(
        &client,
        (0..50).map(|n| NewOrderGraph::new(format!("c{n}")).with_items([new_item("A", 1, 1)])),
    )
    .await?;
    let ids: Vec<i64> = orders.iter().map(|o| o.id).collect();
    let mut tasks = Vec::new();
    for writer in 0..4_i64 {
        let mut conn = db.connect().await?;
        let mut ids = ids.clone();
        if writer % 2 == 1 {
            ids.reverse();
        }
        tasks.push(tokio::spawn(async move {
            for round in 0..5_i64 {
                let batch = ids.iter().map(|&id| {
                    (
                        id,
                        OrderPatchGraph::default()
                            .with_total_cents(writer * 100 + round)
                            .with_items([
                                new_item("A", 1, 1),
                                new_item(&format!("W{writer}"), 1, 1),
                            ]),
                    )
                });
                OrderPatchGraph::update_graph_many(&mut conn, batch).await?;
            }
            Ok::<_, Error>(())
        }));
    }
    for task in tasks {
        task.await??;
    }
    // Every order ends as one writer's last batch left it, the same for all orders.
    let states: i64 = client
        .query_one(
            "SELECT count(DISTINCT (o.total_cents, i.sku)) FROM orders o JOIN order_items i ON i.order_id = o.id AND i.sku <> 'A'",
            &[],
        )
        .await?
        .get(0);
    assert_eq!(states, 1);
    Ok(())
}
