//! `load`: many connections writing graphs at once, with injected faults.
//!
//! [`CONNECTIONS`] tasks, each on a connection of its own (every other one a `CachedClient`),
//! each run [`WRITES_PER_CONNECTION`] graph writes, cycling through four kinds: an order graph
//! insert (order, 3 items, audit row), a locked diff of one of the task's orders
//! (`OrderPatchGraph`), a product graph whose category is upserted (connect-or-create on one
//! of [`CATEGORIES`] names every task shares), and an items upsert (`OrderUpsertGraph`). Every
//! [`FAULT_EVERY`]th write carries an item with `qty = 0`, which the `qty > 0` CHECK refuses.
//!
//! The run is bounded in count (the writes above) and in time ([`TIME_LIMIT`]: past it the
//! tasks stop and the run fails). It fails when any write other than an injected one errs,
//! when an injected one does not fail with the CHECK violation, or when the rows in the
//! tables are not those of the writes that returned `Ok`. It prints the throughput, the
//! latency percentiles (p50, p99, max) of one write as its task sees it, and the process's
//! resident memory (`VmRSS` of `/proc/self/status`) once the connections are open, after half
//! the writes and at the end.

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use tokio_postgres::Client;
use writegraph::types::Uuid;
use writegraph::CachedClient;
use writegraph_example::{
    NewAuditLogForEntity, NewCategory, NewOrderGraph, NewOrderItemForOrder, NewProductGraph,
    NewProductTagForProduct, OrderPatchGraph, OrderUpsertGraph,
};
use writegraph_testing::TestDatabase;

use crate::harness::{Report, Result};

/// Name of the `load` scenario.
pub const LOAD: &str = "load";

/// Connections writing at once.
pub const CONNECTIONS: usize = 32;

/// Writes each connection runs.
pub const WRITES_PER_CONNECTION: usize = 2_000;

/// Every this many writes of a task, one is made to violate a CHECK (49, not a multiple of
/// the 4 kinds, so that the faults fall on every kind in turn).
pub const FAULT_EVERY: usize = 49;

/// Category names the product graphs upsert, shared by all tasks.
pub const CATEGORIES: usize = 8;

/// The run fails past this.
pub const TIME_LIMIT: Duration = Duration::from_secs(600);

/// What one task did.
#[derive(Debug, Default)]
struct Tally {
    latencies: Vec<Duration>,
    orders_inserted: i64,
    products_inserted: i64,
    injected_refused: usize,
    unexpected: Vec<String>,
}

/// The process's resident set size, as `/proc/self/status` gives it (`VmRSS: ... kB`).
fn resident_memory() -> String {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|status| {
            status
                .lines()
                .find_map(|line| line.strip_prefix("VmRSS:").map(|v| v.trim().to_owned()))
        })
        .unwrap_or_else(|| "unknown (no /proc/self/status)".to_owned())
}

/// The connection a task writes on.
enum Conn {
    Plain(Client),
    Cached(CachedClient),
}

impl Conn {
    fn shared(&self) -> &Client {
        match self {
            Conn::Plain(client) => client,
            Conn::Cached(cached) => cached,
        }
    }
}

/// One write of kind `write % 4`; `bad` puts a `qty = 0` item into it.
async fn one_write(
    conn: &mut Conn,
    task: usize,
    write: usize,
    orders: &mut Vec<i64>,
    tally: &mut Tally,
) -> writegraph::Result<()> {
    let bad = write % FAULT_EVERY == FAULT_EVERY - 1;
    let qty = |n: usize| if bad { 0 } else { (n % 5) as i32 + 1 };
    let item = |sku: String, n: usize| {
        NewOrderItemForOrder::new(sku, qty(n)).with_price_cents((n % 97) as i64)
    };
    // Kinds that need an order of the task's own fall back to inserting one.
    let kind = if orders.is_empty() { 0 } else { write % 4 };
    match kind {
        0 => {
            let graph = NewOrderGraph::new(format!("load {task}"))
                .with_items((0..3).map(|n| item(format!("sku-{n}"), write + n)))
                .with_audit(NewAuditLogForEntity::new("order", "created"));
            let order = match conn {
                Conn::Plain(client) => graph.insert_graph_returning(client).await?,
                Conn::Cached(cached) => graph.insert_graph_returning(cached).await?,
            };
            orders.push(order.id);
            tally.orders_inserted += 1;
        }
        1 => {
            let order = orders[write / 4 % orders.len()];
            let graph = OrderPatchGraph::default()
                .with_total_cents(write as i64)
                .with_items((0..4).map(|n| item(format!("sku-{}", (write + n) % 6), write + n)));
            match conn {
                Conn::Plain(client) => graph.update_by_id_graph(client, &order).await?,
                Conn::Cached(cached) => graph.update_by_id_graph(cached, &order).await?,
            };
        }
        2 => {
            let id = Uuid::from_u128(((task as u128) << 64) | write as u128);
            let graph = NewProductGraph::new(id, format!("product {task}/{write}"))
                .with_price_cents(if bad { -1 } else { 100 })
                .with_category(NewCategory::new(format!(
                    "category {}",
                    write / 4 % CATEGORIES
                )))
                .with_tags([NewProductTagForProduct::new("load")]);
            match conn {
                Conn::Plain(client) => graph.insert_graph(client).await?,
                Conn::Cached(cached) => graph.insert_graph(cached).await?,
            };
            tally.products_inserted += 1;
        }
        _ => {
            let order = orders[write / 4 % orders.len()];
            let graph =
                OrderUpsertGraph::default().with_items([item(format!("sku-{}", write % 7), write)]);
            match conn {
                Conn::Plain(client) => graph.update_by_id_graph(client, &order).await?,
                Conn::Cached(cached) => graph.update_by_id_graph(cached, &order).await?,
            };
        }
    }
    Ok(())
}

/// One task's writes.
async fn run_task(
    mut conn: Conn,
    task: usize,
    done: Arc<AtomicUsize>,
    stop: Arc<AtomicBool>,
    middle: Arc<Mutex<Option<String>>>,
) -> Tally {
    let mut tally = Tally::default();
    let mut orders = Vec::new();
    let half = CONNECTIONS * WRITES_PER_CONNECTION / 2;
    for write in 0..WRITES_PER_CONNECTION {
        if stop.load(Ordering::Relaxed) {
            tally
                .unexpected
                .push(format!("task {task}: stopped at the time limit"));
            break;
        }
        let bad = write % FAULT_EVERY == FAULT_EVERY - 1;
        let start = Instant::now();
        let written = one_write(&mut conn, task, write, &mut orders, &mut tally).await;
        tally.latencies.push(start.elapsed());
        match (bad, written) {
            (false, Ok(())) => {}
            (true, Err(error)) if error.is_check_violation() => tally.injected_refused += 1,
            (true, Ok(())) => tally.unexpected.push(format!(
                "task {task}, write {write}: the injected fault was written"
            )),
            (_, Err(error)) => tally
                .unexpected
                .push(format!("task {task}, write {write}: {error}")),
        }
        if done.fetch_add(1, Ordering::Relaxed) + 1 == half {
            if let Ok(mut middle) = middle.lock() {
                *middle = Some(resident_memory());
            }
        }
    }
    // The connection must still be usable.
    if let Err(error) = conn.shared().simple_query("SELECT 1").await {
        tally.unexpected.push(format!(
            "task {task}: connection unusable afterwards: {error}"
        ));
    }
    tally
}

async fn count(client: &Client, sql: &str) -> Result<i64> {
    Ok(client.query_one(sql, &[]).await?.get(0))
}

/// Runs the scenario on `database` and sums it up; an error when anything but the injected
/// faults failed or the tables do not hold what the successful writes wrote.
pub async fn load(database: &TestDatabase) -> Result<Report> {
    let mut connections = Vec::with_capacity(CONNECTIONS);
    for task in 0..CONNECTIONS {
        let client = database.connect().await?;
        connections.push(if task % 2 == 1 {
            Conn::Cached(CachedClient::new(client))
        } else {
            Conn::Plain(client)
        });
    }
    // Measured with every connection open, so that the figures that follow compare the
    // writes alone.
    let at_start = resident_memory();
    let done = Arc::new(AtomicUsize::new(0));
    let stop = Arc::new(AtomicBool::new(false));
    let middle = Arc::new(Mutex::new(None));
    let started = Instant::now();
    let mut tasks = Vec::with_capacity(CONNECTIONS);
    for (task, conn) in connections.into_iter().enumerate() {
        tasks.push(tokio::spawn(run_task(
            conn,
            task,
            Arc::clone(&done),
            Arc::clone(&stop),
            Arc::clone(&middle),
        )));
    }
    let watchdog = {
        let stop = Arc::clone(&stop);
        tokio::spawn(async move {
            tokio::time::sleep(TIME_LIMIT).await;
            stop.store(true, Ordering::Relaxed);
        })
    };
    let mut tallies = Vec::with_capacity(CONNECTIONS);
    for task in tasks {
        tallies.push(task.await?);
    }
    let elapsed = started.elapsed();
    watchdog.abort();
    let at_end = resident_memory();

    let mut latencies: Vec<Duration> = tallies
        .iter()
        .flat_map(|t| t.latencies.iter().copied())
        .collect();
    latencies.sort_unstable();
    let percentile = |p: usize| {
        let rank = (latencies.len() * p).div_ceil(100).max(1);
        latencies.get(rank - 1).copied().unwrap_or_default()
    };
    let writes = latencies.len();
    let injected: usize = tallies.iter().map(|t| t.injected_refused).sum();
    let unexpected: Vec<&String> = tallies.iter().flat_map(|t| &t.unexpected).collect();
    let orders: i64 = tallies.iter().map(|t| t.orders_inserted).sum();
    let products: i64 = tallies.iter().map(|t| t.products_inserted).sum();

    let client = database.connect().await?;
    let stored_orders = count(&client, "SELECT count(*) FROM orders").await?;
    let stored_products = count(&client, "SELECT count(*) FROM products").await?;
    let stored_audits = count(&client, "SELECT count(*) FROM audit_logs").await?;
    let tags = count(&client, "SELECT count(*) FROM product_tags").await?;
    let categories = count(&client, "SELECT count(*) FROM categories").await?;
    let bad_items = count(&client, "SELECT count(*) FROM order_items WHERE qty <= 0").await?;

    let expected_injected = CONNECTIONS * (WRITES_PER_CONNECTION / FAULT_EVERY);
    let ms = |d: Duration| d.as_secs_f64() * 1e3;
    let summary = vec![
        format!(
            "load: {CONNECTIONS} connections × {WRITES_PER_CONNECTION} graph writes \
             (order inserts, locked diffs, product inserts upserting a category, item upserts; \
             half the connections CachedClient)"
        ),
        format!(
            "{writes} writes in {:.2} s: {:.0} writes/s; latency p50 {:.2} ms, p99 {:.2} ms, max {:.2} ms",
            elapsed.as_secs_f64(),
            writes as f64 / elapsed.as_secs_f64(),
            ms(percentile(50)),
            ms(percentile(99)),
            ms(percentile(100)),
        ),
        format!(
            "errors: {injected} injected CHECK violations refused (of {expected_injected} injected), \
             {} other",
            unexpected.len()
        ),
        format!(
            "rows: {stored_orders} orders ({orders} inserted), {stored_products} products \
             ({products} inserted), {stored_audits} audit rows, {tags} tags, {categories} categories, \
             {bad_items} items with qty <= 0"
        ),
        format!("VmRSS: {at_start} with the connections open, {} after half the writes, {at_end} at the end",
            middle.lock().ok().and_then(|m| m.clone()).unwrap_or_else(|| "unknown".to_owned())),
    ];
    let mut problems: Vec<String> = unexpected.iter().take(10).map(|s| (*s).clone()).collect();
    if injected != expected_injected {
        problems.push(format!(
            "{injected} injected faults refused, {expected_injected} expected"
        ));
    }
    for (what, stored, expected) in [
        ("orders", stored_orders, orders),
        ("products", stored_products, products),
        ("audit rows", stored_audits, orders),
        ("tags", tags, products),
    ] {
        if stored != expected {
            problems.push(format!("{stored} {what} stored, {expected} written"));
        }
    }
    if categories > CATEGORIES as i64 || bad_items != 0 {
        problems.push(format!(
            "{categories} categories (at most {CATEGORIES}), {bad_items} items with qty <= 0"
        ));
    }
    if !problems.is_empty() {
        return Err(format!("{}\n{}", summary.join("\n"), problems.join("\n")).into());
    }
    Ok(Report {
        measurements: Vec::new(),
        summary,
    })
}
