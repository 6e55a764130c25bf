//! Random batches of `NewOrderGraph`s written with `insert_graph_many`: whatever the number
//! of graphs and the shape of each (no items or many, a shipping address or none, an audit
//! row or none), the database holds exactly what the graphs say, every row under its own
//! order, after one statement; and the returning form gives the orders in input order.
//!
//! proptest shrinks a failing batch to a small one and prints it.

use std::cell::RefCell;

use proptest::prelude::*;
use proptest::test_runner::{Config, TestCaseError, TestRunner};
use tokio_postgres::Client;
use writegraph_example::{
    NewAuditLogForEntity, NewOrderGraph, NewOrderItemForOrder, NewShippingAddressForOrder,
    SCHEMA_SQL,
};
use writegraph_testing::{self as testing, CountingClient};

type TestResult<T = ()> = Result<T, Box<dyn std::error::Error>>;

/// One graph of a batch: its items' (sku, qty), whether it has a shipping address and an
/// audit row.
#[derive(Debug, Clone)]
struct OrderIn {
    items: Vec<(u8, i32)>,
    shipping: bool,
    audit: bool,
}

fn order_in() -> impl Strategy<Value = OrderIn> {
    (
        prop::collection::vec((0u8..20, 1i32..50), 0..6),
        any::<bool>(),
        any::<bool>(),
    )
        .prop_map(|(mut items, shipping, audit)| {
            // An order's skus are unique (order_id, sku).
            items.sort_by_key(|&(sku, _)| sku);
            items.dedup_by_key(|&mut (sku, _)| sku);
            OrderIn {
                items,
                shipping,
                audit,
            }
        })
}

/// What one order of the batch holds as the database reads it back: its customer (which
/// names its position), its items, its shipping city, its audit rows.
type OrderOut = (String, Vec<(String, i32)>, Option<String>, i64);

fn expected(batch: &[OrderIn], run: usize) -> Vec<OrderOut> {
    batch
        .iter()
        .enumerate()
        .map(|(n, order)| {
            let items = order
                .items
                .iter()
                .map(|&(sku, qty)| (format!("sku-{sku}"), qty))
                .collect();
            let city = order.shipping.then(|| format!("city {run}/{n}"));
            (
                format!("customer {run}/{n}"),
                items,
                city,
                order.audit as i64,
            )
        })
        .collect()
}

fn graphs(batch: &[OrderIn], run: usize) -> Vec<NewOrderGraph> {
    batch
        .iter()
        .enumerate()
        .map(|(n, order)| NewOrderGraph {
            items: order
                .items
                .iter()
                .map(|&(sku, qty)| NewOrderItemForOrder::new(format!("sku-{sku}"), qty))
                .collect(),
            shipping: order.shipping.then(|| {
                NewShippingAddressForOrder::new("street", format!("city {run}/{n}"), "12345")
            }),
            audit: order
                .audit
                .then(|| NewAuditLogForEntity::new("order", "created")),
            ..NewOrderGraph::new(format!("customer {run}/{n}"))
        })
        .collect()
}

/// Every order of run `run`, in input order, as the database holds it.
async fn read(client: &Client, run: usize) -> TestResult<Vec<OrderOut>> {
    let orders = client
        .query(
            "SELECT o.id, o.customer,
                    (SELECT s.city FROM shipping_addresses s WHERE s.order_id = o.id),
                    (SELECT count(*) FROM audit_logs a WHERE a.entity_id = o.id::text)
             FROM orders o WHERE o.customer LIKE $1
             ORDER BY split_part(split_part(o.customer, '/', 2), ' ', 1)::int",
            &[&format!("customer {run}/%")],
        )
        .await?;
    let mut out = Vec::new();
    for order in orders {
        let id: i64 = order.get(0);
        let items = client
            .query(
                "SELECT sku, qty FROM order_items WHERE order_id = $1 ORDER BY id",
                &[&id],
            )
            .await?
            .iter()
            .map(|r| (r.get(0), r.get(1)))
            .collect();
        out.push((order.get(1), items, order.get(2), order.get(3)));
    }
    Ok(out)
}

async fn run_batch(client: &CountingClient<Client>, batch: &[OrderIn], run: usize) -> TestResult {
    let before = client.statements();
    let returned = if run.is_multiple_of(2) {
        NewOrderGraph::insert_graph_many_returning(client, graphs(batch, run))
            .await?
            .into_iter()
            .map(|o| o.customer)
            .collect::<Vec<_>>()
    } else {
        NewOrderGraph::insert_graph_many(client, graphs(batch, run)).await?;
        (0..batch.len())
            .map(|n| format!("customer {run}/{n}"))
            .collect()
    };
    let sent = client.statements() - before;
    let want_sent = u64::from(!batch.is_empty());
    if sent != want_sent {
        return Err(format!("{sent} statements for {} graphs", batch.len()).into());
    }
    let want: Vec<String> = (0..batch.len())
        .map(|n| format!("customer {run}/{n}"))
        .collect();
    if returned != want {
        return Err(format!("roots out of order: {returned:?}").into());
    }
    // Items come back by id, which need not follow input order: compare them sorted.
    let sorted = |mut orders: Vec<OrderOut>| {
        for order in &mut orders {
            order.1.sort();
        }
        orders
    };
    let got = sorted(read(client.inner(), run).await?);
    let want = sorted(expected(batch, run));
    if got != want {
        return Err(format!("database: {got:?}\nbatch:    {want:?}").into());
    }
    Ok(())
}

#[test]
fn a_random_batch_of_graphs_lands_whole_and_in_place() -> TestResult {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    let mut runner = TestRunner::new(Config {
        cases: 24,
        failure_persistence: None,
        ..Config::default()
    });
    let (_db, client) = runtime.block_on(async {
        let db = testing::database_with_schema(SCHEMA_SQL).await?;
        let client = db.connect().await?;
        TestResult::Ok((db, client))
    })?;
    let client = CountingClient::new(client);
    let run = RefCell::new(0usize);
    let outcome = runner.run(&prop::collection::vec(order_in(), 0..40), |batch| {
        let n = {
            let mut run = run
                .try_borrow_mut()
                .map_err(|e| TestCaseError::fail(e.to_string()))?;
            *run += 1;
            *run
        };
        runtime
            .block_on(run_batch(&client, &batch, n))
            .map_err(|e| TestCaseError::fail(e.to_string()))
    });
    outcome.map_err(|e| e.to_string().into())
}
