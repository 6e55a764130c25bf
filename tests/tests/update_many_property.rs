//! Random batches of update graphs: `update_graph_many` against `update_by_id_graph` called
//! once per graph. Each case writes every order twice, with the same items and address, then
//! applies the batch to one copy in one statement and graph by graph to the other; both
//! copies must end the same, whatever each graph sets (root columns or none, items or none,
//! an address, none, or its deletion). Even cases use `OrderReplaceGraph` (items replaced,
//! address upserted), odd ones `OrderPatchGraph` (items diffed by sku, address replaced,
//! roots locked).
//!
//! proptest shrinks a failing batch to a small one and prints it.

use std::cell::RefCell;

use proptest::prelude::*;
use proptest::test_runner::{Config, TestCaseError, TestRunner};
use tokio_postgres::Client;
use writegraph_example::{
    NewOrderGraph, NewOrderItemForOrder, NewShippingAddressForOrder, OrderPatch, OrderPatchGraph,
    OrderReplaceGraph, SCHEMA_SQL,
};
use writegraph_testing::{self as testing, CountingClient};

type TestResult<T = ()> = Result<T, Box<dyn std::error::Error>>;

/// `(sku, qty)` of items, skus unique.
type Items = Vec<(u8, i32)>;

/// One order of a case: what it starts with, and what its graph sets.
#[derive(Debug, Clone)]
struct Case {
    items: Items,
    shipping: Option<u8>,
    total: Option<i64>,
    note: Option<Option<u8>>,
    new_items: Option<Items>,
    new_shipping: Option<Option<u8>>,
}

fn items() -> impl Strategy<Value = Items> {
    prop::collection::vec((0u8..8, 1i32..9), 0..5).prop_map(|mut items| {
        items.sort_by_key(|&(sku, _)| sku);
        items.dedup_by_key(|&mut (sku, _)| sku);
        items
    })
}

fn case() -> impl Strategy<Value = Case> {
    (
        items(),
        prop::option::of(0u8..4),
        prop::option::of(0i64..100),
        prop::option::of(prop::option::of(0u8..4)),
        prop::option::of(items()),
        prop::option::of(prop::option::of(0u8..4)),
    )
        .prop_map(
            |(items, shipping, total, note, new_items, new_shipping)| Case {
                items,
                shipping,
                total,
                note,
                new_items,
                new_shipping,
            },
        )
}

fn new_items(items: &Items) -> Vec<NewOrderItemForOrder> {
    items
        .iter()
        .map(|&(sku, qty)| NewOrderItemForOrder::new(format!("sku-{sku}"), qty))
        .collect()
}

fn address(city: u8) -> NewShippingAddressForOrder {
    NewShippingAddressForOrder::new("street", format!("city {city}"), "12345")
}

/// The root's changes of `case`.
fn root_patch(case: &Case) -> OrderPatch {
    OrderPatch {
        total_cents: case.total,
        note: case.note.map(|n| n.map(|n| format!("note {n}"))),
        ..OrderPatch::default()
    }
}

fn replace_graph(case: &Case) -> OrderReplaceGraph {
    OrderReplaceGraph {
        root: root_patch(case),
        items: case.new_items.as_ref().map(new_items),
        shipping: case.new_shipping.map(|s| s.map(address)),
    }
}

fn patch_graph(case: &Case) -> OrderPatchGraph {
    OrderPatchGraph {
        root: root_patch(case),
        items: case.new_items.as_ref().map(new_items),
        shipping: case.new_shipping.map(|s| s.map(address)),
    }
}

/// Whether the graph of `case` sets nothing (`update_by_id_graph` refuses it; in a batch
/// its root is only read).
fn sets_nothing(case: &Case) -> bool {
    case.total.is_none()
        && case.note.is_none()
        && case.new_items.is_none()
        && case.new_shipping.is_none()
}

/// An order as the database holds it: total, note, items `(sku, qty, price)` by sku, city.
type OrderOut = (i64, Option<String>, Vec<(String, i32, i64)>, Option<String>);

async fn read(client: &Client, id: i64) -> TestResult<OrderOut> {
    let order = client
        .query_one(
            "SELECT o.total_cents, o.note,
                    (SELECT s.city FROM shipping_addresses s WHERE s.order_id = o.id)
             FROM orders o WHERE o.id = $1",
            &[&id],
        )
        .await?;
    let items = client
        .query(
            "SELECT sku, qty, price_cents FROM order_items WHERE order_id = $1 ORDER BY sku",
            &[&id],
        )
        .await?
        .iter()
        .map(|r| (r.get(0), r.get(1), r.get(2)))
        .collect();
    Ok((order.get(0), order.get(1), items, order.get(2)))
}

/// Writes every order of `cases` twice: the batch's copy and the one-by-one copy.
async fn seed(client: &Client, cases: &[Case]) -> TestResult<(Vec<i64>, Vec<i64>)> {
    let graph = |case: &Case| NewOrderGraph {
        items: new_items(&case.items),
        shipping: case.shipping.map(address),
        ..NewOrderGraph::new("c")
    };
    let many = NewOrderGraph::insert_graph_many_returning(client, cases.iter().map(graph)).await?;
    let each = NewOrderGraph::insert_graph_many_returning(client, cases.iter().map(graph)).await?;
    Ok((
        many.iter().map(|o| o.id).collect(),
        each.iter().map(|o| o.id).collect(),
    ))
}

async fn run_case(client: &mut CountingClient<Client>, cases: &[Case], run: usize) -> TestResult {
    let (many, each) = seed(client.inner(), cases).await?;
    client.reset();
    if run.is_multiple_of(2) {
        OrderReplaceGraph::update_graph_many(
            &*client,
            many.iter()
                .zip(cases)
                .map(|(&id, case)| (id, replace_graph(case))),
        )
        .await?;
        let sent = client.statements();
        if sent != u64::from(!cases.is_empty()) {
            return Err(format!("{sent} statements for {} graphs", cases.len()).into());
        }
        for (&id, case) in each.iter().zip(cases) {
            if !sets_nothing(case) {
                replace_graph(case)
                    .update_by_id_graph(client.inner(), &id)
                    .await?;
            }
        }
    } else {
        OrderPatchGraph::update_graph_many(
            &mut *client,
            many.iter()
                .zip(cases)
                .map(|(&id, case)| (id, patch_graph(case))),
        )
        .await?;
        for (&id, case) in each.iter().zip(cases) {
            if !sets_nothing(case) {
                patch_graph(case)
                    .update_by_id_graph(&mut *client, &id)
                    .await?;
            }
        }
    }
    for (n, (&a, &b)) in many.iter().zip(&each).enumerate() {
        let (batch, one) = (
            read(client.inner(), a).await?,
            read(client.inner(), b).await?,
        );
        if batch != one {
            return Err(format!(
                "graph {n}: update_graph_many left {batch:?}, update_by_id_graph {one:?}"
            )
            .into());
        }
    }
    Ok(())
}

#[test]
fn a_random_batch_of_update_graphs_ends_as_the_graphs_one_by_one() -> TestResult {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    let mut runner = TestRunner::new(Config {
        cases: 32,
        failure_persistence: None,
        ..Config::default()
    });
    let (_db, client) = runtime.block_on(async {
        let db = testing::database_with_schema(SCHEMA_SQL).await?;
        let client = db.connect().await?;
        TestResult::Ok((db, client))
    })?;
    let client = RefCell::new(CountingClient::new(client));
    let run = RefCell::new(0usize);
    let outcome = runner.run(&prop::collection::vec(case(), 0..12), |cases| {
        let n = {
            let mut run = run
                .try_borrow_mut()
                .map_err(|e| TestCaseError::fail(e.to_string()))?;
            *run += 1;
            *run
        };
        let mut client = client
            .try_borrow_mut()
            .map_err(|e| TestCaseError::fail(e.to_string()))?;
        runtime
            .block_on(run_case(&mut client, &cases, n))
            .map_err(|e| TestCaseError::fail(e.to_string()))
    });
    outcome.map_err(|e| e.to_string().into())
}
