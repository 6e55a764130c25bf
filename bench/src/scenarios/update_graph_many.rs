//! `update-graph-many`: the diff of many orders' items in one call, the generated
//! `update_graph_many` against hand-written tokio-postgres diffing the same orders with one
//! statement per order.
//!
//! `n` is the number of orders per call (M). Each operation starts from M fresh orders of
//! [`ITEMS_PER_ORDER`] base items, written untimed, and brings every order's items to the
//! target set of `update-graph` (a tenth changed, a tenth removed, a tenth new). The `rows/s`
//! column counts the target items of all orders.
//!
//! Strategies, all on the one connection, all starting from the same application values:
//! - `writegraph update_graph_many`: `OrderPatchGraph::update_graph_many` with only `items`
//!   set. `OrderPatchGraph` has `lock_root = true`: on `&mut` of a client it asks, in one round
//!   trip of 2 statements, whether the caller opened a transaction, then pipelines `BEGIN`, the
//!   lock of every order in key order, the one statement for all M orders and `COMMIT`;
//! - `writegraph update_graph_many (CachedClient)`: the same call on a `CachedClient`;
//! - `per-graph loop (hand CTE + lock, transaction)`: `BEGIN`, then per order the lock and
//!   the hand-written diff CTE of `update-graph`, prepared once, each awaited before the next
//!   is sent, then `COMMIT`: 2M + 2 statements and as many round trips. The reference of the
//!   `ratio` column;
//! - `hand CTEs pipelined (transaction)`: the same 2M + 2 statements, all sent at once.

use std::rc::Rc;

use futures_util::future::join_all;
use tokio_postgres::types::ToSql;
use tokio_postgres::{Client, Statement};
use writegraph::CachedClient;
use writegraph_example::{NewOrderItemForOrder, OrderPatchGraph};
use writegraph_testing::CountingClient;

use super::update_graph::{
    item_columns, plan_outline, target_items, ExplainClient, OneTask, DIFF_CTE_SQL, LOCK_SQL,
};
use super::{verify_order_items, Item};
use crate::harness::{self, Report, Result, Strategy, Timing, Workload};

/// Name of the `update-graph-many` scenario.
pub const UPDATE_GRAPH_MANY: &str = "update-graph-many";

/// The orders per call unless `--sizes` says otherwise.
pub const UPDATE_GRAPH_MANY_SIZES: &[usize] = &[10, 100, 1_000];

/// Items of every order, before and after the diff.
pub const ITEMS_PER_ORDER: usize = 10;

const WRITEGRAPH: &str = "writegraph update_graph_many";
const WRITEGRAPH_CACHED: &str = "writegraph update_graph_many (CachedClient)";
const PER_GRAPH_LOOP: &str = "per-graph loop (hand CTE + lock, transaction)";
const PIPELINED: &str = "hand CTEs pipelined (transaction)";

/// The untimed orders of one operation.
const BASE_ORDERS_SQL: &str =
    "INSERT INTO orders (customer) SELECT 'bench-many-diff' FROM generate_series(1, $1) RETURNING id";
/// Their base items.
const BASE_ITEMS_SQL: &str = "INSERT INTO order_items (order_id, sku, qty, price_cents) \
     SELECT * FROM UNNEST($1::int8[], $2::text[], $3::int4[], $4::int8[])";

/// `update-graph-many`: M orders' diffs per call, at every M of `sizes`. The `CachedClient`
/// strategy runs on `cached`, which wraps `client`'s connection.
pub async fn update_graph_many(
    client: &Client,
    cached: &Rc<CachedClient>,
    sizes: &[usize],
    timing: Timing,
) -> Result<Report> {
    let statements = Rc::new(LoopStatements::prepare(client).await?);
    let measurements = harness::measure(
        client,
        UPDATE_GRAPH_MANY,
        &ManyDiffs,
        &strategies(&statements, cached),
        PER_GRAPH_LOOP,
        sizes,
        timing,
    )
    .await?;
    let mut report = Report {
        measurements,
        summary: Vec::new(),
    };
    for &n in sizes {
        let median = |strategy| {
            Some(
                report
                    .find(UPDATE_GRAPH_MANY, strategy, n)?
                    .median
                    .as_secs_f64(),
            )
        };
        if let (Some(cached), Some(plain), Some(looped), Some(pipelined)) = (
            median(WRITEGRAPH_CACHED),
            median(WRITEGRAPH),
            median(PER_GRAPH_LOOP),
            median(PIPELINED),
        ) {
            report.summary.push(format!(
                "update-graph-many M = {n}: update_graph_many (CachedClient) {:.2}x faster than the per-graph loop, {:.2}x faster than the pipelined hand CTEs (plain client: {:.2}x and {:.2}x); {:.0} items/s",
                looped / cached,
                pipelined / cached,
                looped / plain,
                pipelined / plain,
                (n * ITEMS_PER_ORDER) as f64 / cached,
            ));
        }
    }
    if let Some(&n) = sizes.first() {
        let lines = diagnose(client, n).await?;
        report.summary.extend(lines);
    }
    Ok(report)
}

/// The server's side of one call at the first size, on the tables as the run left them:
/// `EXPLAIN ANALYZE` of the lock and the statement of `update_graph_many`, and of one
/// order's hand CTE, each rolled back.
async fn diagnose(client: &Client, n: usize) -> Result<Vec<String>> {
    let input = ManyDiffs.prepare(client, n).await?;
    client.batch_execute("BEGIN").await?;
    let explaining = ExplainClient {
        client,
        plans: std::sync::Mutex::new(Vec::new()),
    };
    let graphs = input.orders.iter().map(|&id| {
        let items = input.target.iter().map(|item| {
            NewOrderItemForOrder::new(item.sku.clone(), item.qty).with_price_cents(item.price_cents)
        });
        (id, OrderPatchGraph::default().with_items(items))
    });
    // EXPLAIN returns no row, so the call ends with `NotFound` after the plans were kept.
    let _ = OrderPatchGraph::update_graph_many(&explaining, graphs).await;
    let plans = explaining.plans.into_inner().map_err(|_| "poisoned lock")?;
    client.batch_execute("ROLLBACK").await?;
    let (skus, qtys, prices) = item_columns(&input.target);
    client.batch_execute("BEGIN").await?;
    let hand: Vec<String> = client
        .query(
            &format!("EXPLAIN (ANALYZE) {DIFF_CTE_SQL}"),
            &[&input.orders[0], &skus, &qtys, &prices],
        )
        .await?
        .iter()
        .map(|row| row.try_get(0))
        .collect::<std::result::Result<_, _>>()?;
    client.batch_execute("ROLLBACK").await?;
    let mut lines: Vec<String> = plans
        .iter()
        .map(|(sql, plan)| {
            let what = if sql.starts_with("WITH") {
                "statement"
            } else {
                "lock"
            };
            format!(
                "diagnosis (update-graph-many, M = {n}), EXPLAIN ANALYZE of the {what}: {}",
                plan_outline(plan)
            )
        })
        .collect();
    lines.push(format!(
        "diagnosis (update-graph-many, M = {n}), EXPLAIN ANALYZE of one order's hand CTE: {}",
        plan_outline(&hand)
    ));
    Ok(lines)
}

/// The statements the hand-written strategies prepare once and reuse.
struct LoopStatements {
    begin: Statement,
    lock: Statement,
    cte: Statement,
    commit: Statement,
}

impl LoopStatements {
    async fn prepare(client: &Client) -> Result<Self> {
        Ok(Self {
            begin: client.prepare("BEGIN").await?,
            lock: client.prepare(LOCK_SQL).await?,
            cte: client.prepare(DIFF_CTE_SQL).await?,
            commit: client.prepare("COMMIT").await?,
        })
    }
}

/// The input of one operation: the orders (with their base items, written untimed) and the
/// items each should have afterwards.
#[derive(Debug, Clone)]
struct ManyInput {
    orders: Vec<i64>,
    target: Vec<Item>,
}

fn strategies(
    statements: &Rc<LoopStatements>,
    cached: &Rc<CachedClient>,
) -> Vec<Strategy<ManyInput>> {
    let cached = Rc::clone(cached);
    let looped = Rc::clone(statements);
    let pipelined = Rc::clone(statements);
    vec![
        Strategy::new(WRITEGRAPH, |client, input| {
            Box::pin(writegraph_many(client, input))
        }),
        Strategy::new(WRITEGRAPH_CACHED, move |_client, input| {
            let cached = Rc::clone(&cached);
            Box::pin(async move { writegraph_many(&*cached, input).await })
        }),
        Strategy::new(PER_GRAPH_LOOP, move |client, input| {
            let statements = Rc::clone(&looped);
            Box::pin(async move { hand_loop(client, &statements, input).await })
        }),
        Strategy::new(PIPELINED, move |client, input| {
            let statements = Rc::clone(&pipelined);
            Box::pin(async move { hand_pipelined(client, &statements, input).await })
        }),
    ]
}

/// The code under test: `OrderPatchGraph::update_graph_many` with every order's target
/// items, statements counted.
async fn writegraph_many<C: writegraph::SessionClient>(
    client: &C,
    input: &ManyInput,
) -> Result<u64> {
    let graphs = input.orders.iter().map(|&id| {
        let items = input.target.iter().map(|item| {
            NewOrderItemForOrder::new(item.sku.clone(), item.qty).with_price_cents(item.price_cents)
        });
        (id, OrderPatchGraph::default().with_items(items))
    });
    let mut counting = CountingClient::new(OneTask(client));
    OrderPatchGraph::update_graph_many(&mut counting, graphs).await?;
    Ok(counting.statements())
}

/// Per order, the lock and the hand-written diff CTE, each awaited, in one transaction.
async fn hand_loop(client: &Client, statements: &LoopStatements, input: &ManyInput) -> Result<u64> {
    client.execute(&statements.begin, &[]).await?;
    for id in &input.orders {
        let (skus, qtys, prices) = item_columns(&input.target);
        client.execute(&statements.lock, &[id]).await?;
        client
            .query_one(&statements.cte, &[id, &skus, &qtys, &prices])
            .await?;
    }
    client.execute(&statements.commit, &[]).await?;
    Ok(2 * input.orders.len() as u64 + 2)
}

/// The same statements as [`hand_loop`], all sent at once.
async fn hand_pipelined(
    client: &Client,
    statements: &LoopStatements,
    input: &ManyInput,
) -> Result<u64> {
    let columns: Vec<_> = input
        .orders
        .iter()
        .map(|_| item_columns(&input.target))
        .collect();
    let params: Vec<[&(dyn ToSql + Sync); 4]> = input
        .orders
        .iter()
        .zip(&columns)
        .map(|(id, (skus, qtys, prices))| {
            [
                id as &(dyn ToSql + Sync),
                skus as &(dyn ToSql + Sync),
                qtys,
                prices,
            ]
        })
        .collect();
    let writes = input
        .orders
        .iter()
        .zip(&params)
        .map(|(id, params)| async move {
            let (locked, diffed) = futures_util::future::join(
                client.execute(&statements.lock, &[id]),
                client.query_one(&statements.cte, params),
            )
            .await;
            locked?;
            diffed?;
            Ok::<_, tokio_postgres::Error>(())
        });
    let (begin, writes, commit) = futures_util::future::join3(
        client.execute(&statements.begin, &[]),
        join_all(writes),
        client.execute(&statements.commit, &[]),
    )
    .await;
    begin?;
    for write in writes {
        write?;
    }
    commit?;
    Ok(2 * input.orders.len() as u64 + 2)
}

/// The untimed side of `update-graph-many`.
struct ManyDiffs;

impl Workload for ManyDiffs {
    type Input = ManyInput;

    async fn prepare(&self, client: &Client, n: usize) -> Result<ManyInput> {
        let count = i32::try_from(n)?;
        let orders: Vec<i64> = client
            .query(BASE_ORDERS_SQL, &[&count])
            .await?
            .iter()
            .map(|row| row.try_get(0))
            .collect::<std::result::Result<_, _>>()?;
        let base: Vec<Item> = (0..ITEMS_PER_ORDER).map(Item::generated).collect();
        let mut order_ids = Vec::with_capacity(n * ITEMS_PER_ORDER);
        let (mut skus, mut qtys, mut prices) = (Vec::new(), Vec::new(), Vec::new());
        for &id in &orders {
            for item in &base {
                order_ids.push(id);
                skus.push(item.sku.as_str());
                qtys.push(item.qty);
                prices.push(item.price_cents);
            }
        }
        client
            .execute(BASE_ITEMS_SQL, &[&order_ids, &skus, &qtys, &prices])
            .await?;
        Ok(ManyInput {
            orders,
            target: target_items(ITEMS_PER_ORDER),
        })
    }

    async fn verify(&self, client: &Client, input: &ManyInput) -> Result<()> {
        for &id in &input.orders {
            verify_order_items(client, id, &input.target)
                .await
                .map_err(|e| format!("order {id}: order_items: {e}"))?;
        }
        Ok(())
    }

    fn rows(&self, n: usize) -> usize {
        n * ITEMS_PER_ORDER
    }

    async fn reset(&self, client: &Client) -> Result<()> {
        client
            .batch_execute("TRUNCATE orders, order_items, shipping_addresses CASCADE")
            .await?;
        Ok(())
    }
}
