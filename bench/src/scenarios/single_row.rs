//! `single-row`: one row into `order_items` for an existing order (created, untimed, before
//! each operation), four ways:
//! - `writegraph insert`: the generated `NewOrderItem::insert`, which sends the batch
//!   statement (UNNEST of one-element arrays) unprepared with `execute_typed`;
//! - `writegraph insert (CachedClient)`: the same call on a `CachedClient` (its own
//!   connection), which prepares the statement on first use and then only binds and executes;
//! - `INSERT via query_typed`: a plain `INSERT ... VALUES`, unprepared (parse, bind and execute
//!   in one round trip, planned every time);
//! - `INSERT prepared (reused)`: the same `INSERT ... VALUES` prepared once and reused, the
//!   reference of the `ratio` column.

use std::rc::Rc;

use tokio_postgres::types::{ToSql, Type};
use tokio_postgres::Client;
use writegraph::{CachedClient, GenericClient};
use writegraph_example::NewOrderItem;
use writegraph_testing::CountingClient;

use super::{Batch, OrderItems};
use crate::harness::{self, Report, Result, Strategy, Timing};

/// Name of the `single-row` scenario.
pub const SINGLE_ROW: &str = "single-row";

const WRITEGRAPH: &str = "writegraph insert";
const WRITEGRAPH_CACHED: &str = "writegraph insert (CachedClient)";
const QUERY_TYPED: &str = "INSERT via query_typed";
const PREPARED: &str = "INSERT prepared (reused)";

const INSERT_SQL: &str =
    "INSERT INTO order_items (order_id, sku, qty, price_cents) VALUES ($1, $2, $3, $4)";

/// `single-row`: always one row (`n` = 1). The `CachedClient` strategy runs on `cached`, which
/// wraps `client`'s connection.
pub async fn single_row(
    client: &Client,
    cached: &Rc<CachedClient>,
    timing: Timing,
) -> Result<Report> {
    let insert = client.prepare(INSERT_SQL).await?;
    let strategies: Vec<Strategy<Batch>> = vec![
        Strategy::new(WRITEGRAPH, |client, batch| {
            Box::pin(writegraph_insert(client, batch))
        }),
        Strategy::new(WRITEGRAPH_CACHED, {
            let cached = Rc::clone(cached);
            move |_client, batch| {
                let cached = Rc::clone(&cached);
                Box::pin(async move { writegraph_insert(&*cached, batch).await })
            }
        }),
        Strategy::new(QUERY_TYPED, |client, batch| {
            Box::pin(async move {
                let item = the_item(batch)?;
                let params: [(&(dyn ToSql + Sync), Type); 4] = [
                    (&batch.order_id, Type::INT8),
                    (&item.sku, Type::TEXT),
                    (&item.qty, Type::INT4),
                    (&item.price_cents, Type::INT8),
                ];
                client.execute_typed(INSERT_SQL, &params).await?;
                Ok(1)
            })
        }),
        Strategy::new(PREPARED, move |client, batch| {
            let insert = insert.clone();
            Box::pin(async move {
                let item = the_item(batch)?;
                client
                    .execute(
                        &insert,
                        &[&batch.order_id, &item.sku, &item.qty, &item.price_cents],
                    )
                    .await?;
                Ok(1)
            })
        }),
    ];

    let measurements = harness::measure(
        client,
        SINGLE_ROW,
        &OrderItems,
        &strategies,
        PREPARED,
        &[1],
        timing,
    )
    .await?;
    let mut report = Report {
        measurements,
        summary: Vec::new(),
    };
    report.summary = summary(&report).into_iter().collect();
    Ok(report)
}

/// The code under test: the generated `NewOrderItem::insert`, statements counted.
async fn writegraph_insert<C: GenericClient>(client: &C, batch: &Batch) -> Result<u64> {
    let item = the_item(batch)?;
    let row = NewOrderItem::new(batch.order_id, item.sku.clone(), item.qty)
        .with_price_cents(item.price_cents);
    let counting = CountingClient::new(client);
    row.insert(&counting).await?;
    Ok(counting.statements())
}

/// The one row of a single-row operation.
fn the_item(batch: &Batch) -> Result<&super::Item> {
    match batch.items.as_slice() {
        [item] => Ok(item),
        items => Err(format!("single-row writes one row, was given {}", items.len()).into()),
    }
}

/// `single row: writegraph insert vs prepared: 1.12x; writegraph insert (CachedClient) vs
/// prepared: 1.01x; query_typed vs prepared: 1.08x; fastest: INSERT prepared (reused)`.
fn summary(report: &Report) -> Option<String> {
    let median = |strategy| Some(report.find(SINGLE_ROW, strategy, 1)?.median);
    let prepared = median(PREPARED)?.as_secs_f64();
    let writegraph = median(WRITEGRAPH)?.as_secs_f64() / prepared;
    let writegraph_cached = median(WRITEGRAPH_CACHED)?.as_secs_f64() / prepared;
    let query_typed = median(QUERY_TYPED)?.as_secs_f64() / prepared;
    let fastest = report
        .measurements
        .iter()
        .filter(|m| m.scenario == SINGLE_ROW)
        .min_by_key(|m| m.median)?;
    Some(format!(
        "single row: writegraph insert vs prepared: {writegraph:.2}x; writegraph insert \
         (CachedClient) vs prepared: {writegraph_cached:.2}x; query_typed vs prepared: \
         {query_typed:.2}x; fastest: {}",
        fastest.strategy
    ))
}
