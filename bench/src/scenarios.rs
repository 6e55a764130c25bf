//! The scenarios, one function each: its workload (the untimed setup and the check of the rows
//! written), its strategies, and the lines that sum up its results. `insert-many` is here;
//! `insert-graph`, `insert-graph-many`, `nested-graph`, `update-graph`, `update-graph-many`,
//! `single-row` and `load` have a module each.

mod insert_graph;
mod insert_graph_many;
mod load;
mod nested_graph;
mod single_row;
mod update_graph;
mod update_graph_many;

use std::pin::pin;
use std::rc::Rc;

use tokio_postgres::binary_copy::BinaryCopyInWriter;
use tokio_postgres::types::Type;
use tokio_postgres::Client;
use writegraph::{CachedClient, GenericClient};
use writegraph_example::NewOrderItem;
use writegraph_testing::CountingClient;

use crate::harness::{self, Report, Result, Strategy, Timing, Workload};

pub use insert_graph::{insert_graph, INSERT_GRAPH, INSERT_GRAPH_SIZES};
pub use insert_graph_many::{
    insert_graph_many, INSERT_GRAPH_MANY, MANY_AUTHOR_SIZES, MANY_ORDER_SIZES,
};
pub use load::{load, LOAD};
pub use nested_graph::{nested_graph, NESTED_GRAPH, NESTED_GRAPH_SIZES, SIGNUP_SIZES};
pub use single_row::{single_row, SINGLE_ROW};
pub use update_graph::{update_graph, UPDATE_GRAPH, UPDATE_GRAPH_SIZES};
pub use update_graph_many::{update_graph_many, UPDATE_GRAPH_MANY, UPDATE_GRAPH_MANY_SIZES};

/// The scenarios `main` knows, by name.
pub const NAMES: &[&str] = &[
    INSERT_MANY,
    INSERT_GRAPH,
    INSERT_GRAPH_MANY,
    NESTED_GRAPH,
    UPDATE_GRAPH,
    UPDATE_GRAPH_MANY,
    SINGLE_ROW,
    LOAD,
];

/// Name of the `insert-many` scenario.
pub const INSERT_MANY: &str = "insert-many";

/// The sizes `insert-many` runs at unless `--sizes` says otherwise.
pub const INSERT_MANY_SIZES: &[usize] = &[1_000, 10_000];

const WRITEGRAPH: &str = "writegraph insert_many";
const WRITEGRAPH_CACHED: &str = "writegraph insert_many (CachedClient)";
const PER_ROW: &str = "per-row INSERT in one transaction";
const COPY: &str = "binary COPY";
const UNNEST: &str = "hand-written UNNEST";

const INSERT_ROW_SQL: &str =
    "INSERT INTO order_items (order_id, sku, qty, price_cents) VALUES ($1, $2, $3, $4)";
const COPY_SQL: &str =
    "COPY order_items (order_id, sku, qty, price_cents) FROM STDIN (FORMAT binary)";
const UNNEST_SQL: &str = "INSERT INTO order_items (order_id, sku, qty, price_cents) \
     SELECT * FROM UNNEST($1::int8[], $2::text[], $3::int4[], $4::int8[])";

/// `insert-many`: N rows into `order_items` for one order, which is created (untimed) before
/// each operation. Every strategy starts from the same application rows ([`Item`]) and
/// converts them to what it sends inside the timed region, as an application would. The
/// `CachedClient` strategy runs on `cached`, which wraps `client`'s connection.
pub async fn insert_many(
    client: &Client,
    cached: &Rc<CachedClient>,
    sizes: &[usize],
    timing: Timing,
) -> Result<Report> {
    // Prepared once, outside the timed loop, and reused by every operation.
    let insert_row = client.prepare(INSERT_ROW_SQL).await?;
    let copy = client.prepare(COPY_SQL).await?;
    let unnest = client.prepare(UNNEST_SQL).await?;

    let strategies: Vec<Strategy<Batch>> = vec![
        Strategy::<Batch>::new(WRITEGRAPH, |client, batch| {
            Box::pin(writegraph_insert_many(client, batch))
        }),
        Strategy::<Batch>::new(WRITEGRAPH_CACHED, {
            let cached = Rc::clone(cached);
            move |_client, batch| {
                let cached = Rc::clone(&cached);
                Box::pin(async move { writegraph_insert_many(&*cached, batch).await })
            }
        }),
        Strategy::<Batch>::new(PER_ROW, move |client, batch| {
            let insert_row = insert_row.clone();
            Box::pin(async move {
                client.batch_execute("BEGIN").await?;
                for item in &batch.items {
                    client
                        .execute(
                            &insert_row,
                            &[&batch.order_id, &item.sku, &item.qty, &item.price_cents],
                        )
                        .await?;
                }
                client.batch_execute("COMMIT").await?;
                Ok(batch.items.len() as u64 + 2)
            })
        }),
        Strategy::<Batch>::new(COPY, move |client, batch| {
            let copy = copy.clone();
            Box::pin(async move {
                let sink = client.copy_in(&copy).await?;
                let types = [Type::INT8, Type::TEXT, Type::INT4, Type::INT8];
                let mut writer = pin!(BinaryCopyInWriter::new(sink, &types));
                for item in &batch.items {
                    writer
                        .as_mut()
                        .write(&[&batch.order_id, &item.sku, &item.qty, &item.price_cents])
                        .await?;
                }
                writer.as_mut().finish().await?;
                Ok(1)
            })
        }),
        Strategy::<Batch>::new(UNNEST, move |client, batch| {
            let unnest = unnest.clone();
            Box::pin(async move {
                let order_ids = vec![batch.order_id; batch.items.len()];
                let skus: Vec<&str> = batch.items.iter().map(|i| i.sku.as_str()).collect();
                let qtys: Vec<i32> = batch.items.iter().map(|i| i.qty).collect();
                let prices: Vec<i64> = batch.items.iter().map(|i| i.price_cents).collect();
                client
                    .execute(&unnest, &[&order_ids, &skus, &qtys, &prices])
                    .await?;
                Ok(1)
            })
        }),
    ];

    let measurements = harness::measure(
        client,
        INSERT_MANY,
        &OrderItems,
        &strategies,
        COPY,
        sizes,
        timing,
    )
    .await?;
    let mut report = Report {
        measurements,
        summary: Vec::new(),
    };
    report.summary = sizes
        .iter()
        .filter_map(|&n| insert_many_summary(&report, n))
        .collect();
    Ok(report)
}

/// Strategy 1, the code under test: the generated `NewOrderItem::insert_many`, one statement
/// whatever the count, on a plain client or a `CachedClient`. Counts the statements it really
/// sends.
async fn writegraph_insert_many<C: GenericClient>(client: &C, batch: &Batch) -> Result<u64> {
    let rows: Vec<NewOrderItem> = batch
        .items
        .iter()
        .map(|item| {
            NewOrderItem::new(batch.order_id, item.sku.clone(), item.qty)
                .with_price_cents(item.price_cents)
        })
        .collect();
    let counting = CountingClient::new(client);
    NewOrderItem::insert_many(&counting, rows).await?;
    Ok(counting.statements())
}

/// `n = 10000: insert_many vs COPY: 1.42x (CachedClient 1.40x), per-row vs insert_many:
/// 23.1x faster (CachedClient 23.4x)`, with the targets checked at 10,000 rows on the
/// `CachedClient` variant.
fn insert_many_summary(report: &Report, n: usize) -> Option<String> {
    let median = |strategy| Some(report.find(INSERT_MANY, strategy, n)?.median.as_secs_f64());
    let plain = median(WRITEGRAPH)?;
    let cached = median(WRITEGRAPH_CACHED)?;
    let copy = median(COPY)?;
    let per_row = median(PER_ROW)?;
    let mut line = format!(
        "n = {n}: insert_many vs COPY: {:.2}x (CachedClient {:.2}x), per-row vs insert_many: \
         {:.1}x faster (CachedClient {:.1}x)",
        plain / copy,
        cached / copy,
        per_row / plain,
        per_row / cached
    );
    if n == 10_000 {
        let verdict = |met: bool| if met { "met" } else { "MISSED" };
        line.push_str(&format!(
            " (targets at 10,000 rows, judged on `{WRITEGRAPH_CACHED}`: within 2x of COPY {}, \
             at least 10x faster than per-row {})",
            verdict(cached / copy <= 2.0),
            verdict(per_row / cached >= 10.0)
        ));
    }
    Some(line)
}

/// One row as the application has it, before any strategy turns it into what it sends.
#[derive(Debug, Clone)]
pub struct Item {
    /// `order_items.sku`.
    pub sku: String,
    /// `order_items.qty`.
    pub qty: i32,
    /// `order_items.price_cents`.
    pub price_cents: i64,
}

impl Item {
    /// The `i`-th generated row: the same data for every strategy.
    fn generated(i: usize) -> Item {
        Item {
            sku: format!("SKU-{i:06}"),
            qty: 1 + (i % 7) as i32,
            price_cents: 100 * (i % 13) as i64,
        }
    }
}

/// The input of one `insert-many` operation: a fresh order and the items to insert into it.
#[derive(Debug, Clone)]
pub struct Batch {
    /// The order created for this operation; the unique key `(order_id, sku)` never conflicts.
    pub order_id: i64,
    /// The rows to insert.
    pub items: Vec<Item>,
}

/// The untimed side of `insert-many`.
struct OrderItems;

impl Workload for OrderItems {
    type Input = Batch;

    async fn prepare(&self, client: &Client, n: usize) -> Result<Batch> {
        let order_id: i64 = client
            .query_one(
                "INSERT INTO orders (customer) VALUES ('bench') RETURNING id",
                &[],
            )
            .await?
            .get(0);
        Ok(Batch {
            order_id,
            items: (0..n).map(Item::generated).collect(),
        })
    }

    async fn verify(&self, client: &Client, batch: &Batch) -> Result<()> {
        verify_order_items(client, batch.order_id, &batch.items).await
    }

    async fn reset(&self, client: &Client) -> Result<()> {
        client
            .batch_execute("TRUNCATE order_items, orders CASCADE")
            .await?;
        Ok(())
    }
}

/// Checks that the items of order `order_id` are exactly `items`: count, sums, and every
/// row's values in sku order (a missing, extra or altered row, or a value in the wrong column,
/// changes at least one of them).
async fn verify_order_items(client: &Client, order_id: i64, items: &[Item]) -> Result<()> {
    let row = client
        .query_one(
            "SELECT count(*), coalesce(sum(qty), 0)::int8, coalesce(sum(price_cents), 0)::int8, \
                    coalesce(string_agg(sku || ':' || qty || ':' || price_cents, ',' ORDER BY sku), '') \
             FROM order_items WHERE order_id = $1",
            &[&order_id],
        )
        .await?;
    let found = (
        row.get::<_, i64>(0),
        row.get::<_, i64>(1),
        row.get::<_, i64>(2),
        row.get::<_, String>(3),
    );
    let mut sorted: Vec<&Item> = items.iter().collect();
    sorted.sort_by(|a, b| a.sku.cmp(&b.sku));
    let expected = (
        items.len() as i64,
        items.iter().map(|i| i64::from(i.qty)).sum::<i64>(),
        items.iter().map(|i| i.price_cents).sum::<i64>(),
        sorted
            .iter()
            .map(|i| format!("{}:{}:{}", i.sku, i.qty, i.price_cents))
            .collect::<Vec<_>>()
            .join(","),
    );
    if found.0 != expected.0 {
        return Err(format!("expected {} rows, found {}", expected.0, found.0).into());
    }
    if (found.1, found.2) != (expected.1, expected.2) {
        return Err(format!(
            "expected sum(qty) = {} and sum(price_cents) = {}, found {} and {}",
            expected.1, expected.2, found.1, found.2
        )
        .into());
    }
    if found.3 != expected.3 {
        let first_difference = found
            .3
            .split(',')
            .zip(expected.3.split(','))
            .find(|(found, expected)| found != expected)
            .map(|(found, expected)| format!("found `{found}` where `{expected}` was expected"))
            .unwrap_or_default();
        return Err(format!("rows differ (sku:qty:price_cents): {first_difference}").into());
    }
    Ok(())
}
