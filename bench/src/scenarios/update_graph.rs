//! `update-graph`: the diff of one order's items, the generated `update_by_id_graph` against
//! hand-written tokio-postgres versions that bring the items to the same set.
//!
//! Each operation starts from an order with `n` base items (`SKU-000000`...) and brings its
//! items to the target set: 10 % of the items get a new `qty`, 10 % are removed, 10 % are new
//! and the rest are sent unchanged, so the order has `n` items before and after. Before each
//! operation, outside the timed region, a fresh order with the `n` base items is written in
//! one statement: every operation starts from the same rows, and the index on `(order_id,
//! sku)` holds no dead entries of earlier operations under the order's key (resetting one
//! order in place would pile them up and slow every later diff down). The order's root
//! columns are not changed by any strategy, so all of them write only `order_items`.
//!
//! Strategies, all starting from the same application values (the target items) and
//! converting them to what they send inside the timed region:
//! - `writegraph update_by_id_graph`: the generated `OrderPatchGraph::update_by_id_graph`
//!   with only `items` set. `OrderPatchGraph` has `lock_root = true`, so on `&mut` of a client
//!   it first asks, in one round trip of 2 statements, whether the caller opened a
//!   transaction with SQL, then pipelines `BEGIN`, `SELECT ... FOR UPDATE` of the order, the
//!   graph statement and `COMMIT`: 6 statements, two round trips, sent unprepared;
//! - `writegraph update_by_id_graph (CachedClient)`: the same call on a `CachedClient` (the same
//!   connection, through the cache), which prepares its statements on first use and then only
//!   binds and executes them; judged against `hand CTE + lock`, which takes the same lock;
//! - `writegraph update_by_id_graph (CachedClient, no lock)`: `OrderDiffGraph`, the same diff
//!   without `lock_root`, on the `CachedClient`: one statement in autocommit, judged against
//!   `hand CTE (prepared)`, which is the same write;
//! - `naive`: a transaction that deletes all the order's items and inserts the target items
//!   one row at a time (both statements prepared once and reused): `n + 3` statements;
//! - `batched`: a transaction with one UNNEST upsert and one `DELETE ... NOT (sku = ANY($2))`:
//!   4 statements, 4 round trips;
//! - `hand CTE (prepared)`: one hand-written data-modifying CTE doing both in autocommit,
//!   prepared once and reused, the reference of the `ratio` column;
//! - `hand CTE (query_typed)`: the same statement sent unprepared with `query_typed`;
//! - `hand CTE + lock (prepared, pipelined)`: the same statement after the same root lock,
//!   pipelined as the generated code does (`BEGIN`, lock, CTE, `COMMIT`, all prepared): what
//!   the lock costs, and what the generated statement costs beyond it.

use std::rc::Rc;

use tokio_postgres::types::{ToSql, Type};
use tokio_postgres::{Client, Row, Statement};
use writegraph::{CachedClient, GenericClient, SessionClient, TransactionClient};
use writegraph_example::{NewOrderItemForOrder, OrderDiffGraph, OrderPatchGraph};
use writegraph_testing::CountingClient;

use super::{verify_order_items, Item};
use crate::harness::{self, Report, Result, Strategy, Timing, Workload};

/// Name of the `update-graph` scenario.
pub const UPDATE_GRAPH: &str = "update-graph";

/// The item counts `update-graph` runs at unless `--sizes` says otherwise.
pub const UPDATE_GRAPH_SIZES: &[usize] = &[100, 1_000];

const WRITEGRAPH: &str = "writegraph update_by_id_graph";
const WRITEGRAPH_CACHED: &str = "writegraph update_by_id_graph (CachedClient)";
const WRITEGRAPH_UNLOCKED: &str = "writegraph update_by_id_graph (CachedClient, no lock)";
const NAIVE: &str = "naive (delete all + per-row INSERT, transaction)";
const BATCHED: &str = "batched (UNNEST upsert + DELETE, transaction)";
const HAND_CTE_PREPARED: &str = "hand CTE (prepared)";
const HAND_CTE_TYPED: &str = "hand CTE (query_typed)";
const HAND_CTE_LOCKED: &str = "hand CTE + lock (prepared, pipelined)";

/// The size at which the "5x faster than naive" target is checked.
const NAIVE_TARGET_SIZE: usize = 1_000;

/// The untimed starting state of one operation: a fresh order and its base items.
const BASE_ORDER_SQL: &str = "\
WITH root AS (
    INSERT INTO orders (customer) VALUES ('bench-diff') RETURNING id),
 items AS (
    INSERT INTO order_items (order_id, sku, qty, price_cents)
    SELECT root.id, t.sku, t.qty, t.price_cents
    FROM root, UNNEST($1::text[], $2::int4[], $3::int8[]) AS t(sku, qty, price_cents))
SELECT id FROM root";

const DELETE_ALL_SQL: &str = "DELETE FROM order_items WHERE order_id = $1";
const INSERT_ITEM_SQL: &str =
    "INSERT INTO order_items (order_id, sku, qty, price_cents) VALUES ($1, $2, $3, $4)";
const UPSERT_UNNEST_SQL: &str = "\
INSERT INTO order_items (order_id, sku, qty, price_cents)
SELECT $1::int8, t.sku, t.qty, t.price_cents
FROM UNNEST($2::text[], $3::int4[], $4::int8[]) AS t(sku, qty, price_cents)
ON CONFLICT (order_id, sku) DO UPDATE SET qty = EXCLUDED.qty, price_cents = EXCLUDED.price_cents";
const DELETE_OTHERS_SQL: &str =
    "DELETE FROM order_items WHERE order_id = $1 AND NOT (sku = ANY($2::text[]))";
pub(super) const LOCK_SQL: &str = "SELECT 1 FROM orders WHERE id = $1 FOR UPDATE";

/// The diff as one statement, written by hand (SQL-SHAPES.md, "Update graph", with no root
/// column to set): what `OrderPatchGraph`'s statement competes with.
pub(super) const DIFF_CTE_SQL: &str = "\
WITH root AS (SELECT id FROM orders WHERE id = $1),
 upserted AS (
    INSERT INTO order_items (order_id, sku, qty, price_cents)
    SELECT root.id, t.sku, t.qty, t.price_cents
    FROM root, UNNEST($2::text[], $3::int4[], $4::int8[]) AS t(sku, qty, price_cents)
    ON CONFLICT (order_id, sku) DO UPDATE SET qty = EXCLUDED.qty, price_cents = EXCLUDED.price_cents
    RETURNING sku),
 deleted AS (
    DELETE FROM order_items c USING root
    WHERE c.order_id = root.id AND NOT EXISTS (SELECT 1 FROM upserted u WHERE u.sku = c.sku)
    RETURNING 1)
SELECT (SELECT count(*) FROM root), (SELECT count(*) FROM upserted), (SELECT count(*) FROM deleted)";

/// `update-graph`: the diff at every size. The `CachedClient` strategy runs on `cached`, which
/// wraps `client`'s connection.
pub async fn update_graph(
    client: &Client,
    cached: &Rc<CachedClient>,
    sizes: &[usize],
    timing: Timing,
) -> Result<Report> {
    let statements = Rc::new(DiffStatements::prepare(client).await?);
    let measurements = harness::measure(
        client,
        UPDATE_GRAPH,
        &OrderDiffs,
        &strategies(&statements, cached),
        HAND_CTE_PREPARED,
        sizes,
        timing,
    )
    .await?;
    let mut report = Report {
        measurements,
        summary: Vec::new(),
    };
    for &n in sizes {
        let lines = summary_lines(&report, n);
        report.summary.extend(lines);
    }
    let missed: Vec<usize> = sizes
        .iter()
        .copied()
        .filter(|&n| {
            let median = |strategy| report.find(UPDATE_GRAPH, strategy, n).map(|m| m.median);
            matches!((median(WRITEGRAPH_UNLOCKED), median(HAND_CTE_PREPARED)),
                (Some(writegraph), Some(hand)) if writegraph.as_secs_f64() > 1.05 * hand.as_secs_f64())
        })
        .collect();
    for n in missed {
        let lines = diagnose(client, n).await?;
        report.summary.extend(lines);
    }
    report.summary.push(format!(
        "update-graph: judged on `{WRITEGRAPH_UNLOCKED}` (OrderDiffGraph, one statement) against \
         `{HAND_CTE_PREPARED}`, and on `{WRITEGRAPH_CACHED}` (OrderPatchGraph, lock_root = true: \
         transaction probe, then BEGIN + lock + statement + COMMIT, pipelined) against \
         `{HAND_CTE_LOCKED}`"
    ));
    Ok(report)
}

/// For one size: the judged lines (the unlocked graph against the hand CTE, the locked one
/// against the hand CTE with the same lock: `update graph vs hand CTE: 1.02x; vs batched:
/// 0.41x; naive vs update graph: 9.3x` and the targets), and the same ratios for the plain
/// client.
fn summary_lines(report: &Report, n: usize) -> Vec<String> {
    let median = |strategy| Some(report.find(UPDATE_GRAPH, strategy, n)?.median.as_secs_f64());
    let (
        Some(unlocked),
        Some(cached),
        Some(plain),
        Some(hand),
        Some(hand_locked),
        Some(batched),
        Some(naive),
    ) = (
        median(WRITEGRAPH_UNLOCKED),
        median(WRITEGRAPH_CACHED),
        median(WRITEGRAPH),
        median(HAND_CTE_PREPARED),
        median(HAND_CTE_LOCKED),
        median(BATCHED),
        median(NAIVE),
    )
    else {
        return Vec::new();
    };
    let verdict = |met: bool| if met { "met" } else { "MISSED" };
    let ratios = |writegraph: f64, reference: f64| {
        format!(
            "update graph vs hand CTE: {:.2}x; vs batched: {:.2}x; naive vs update graph: {:.1}x",
            writegraph / reference,
            writegraph / batched,
            naive / writegraph
        )
    };
    let judged = |strategy: &str, what: &str, writegraph: f64, reference: f64| {
        let mut line = format!(
            "update-graph, n = {n}: {} (`{strategy}`, {what}; targets: within 1.05x of hand CTE \
             {}, faster than batched {}",
            ratios(writegraph, reference),
            verdict(writegraph / reference <= 1.05),
            verdict(writegraph < batched)
        );
        if n == NAIVE_TARGET_SIZE {
            line.push_str(&format!(
                ", at least 5x faster than naive {}",
                verdict(naive / writegraph >= 5.0)
            ));
        }
        line.push(')');
        line
    };
    vec![
        judged(
            WRITEGRAPH_UNLOCKED,
            "no lock, against `hand CTE (prepared)`",
            unlocked,
            hand,
        ),
        judged(
            WRITEGRAPH_CACHED,
            "lock_root = true, against `hand CTE + lock`",
            cached,
            hand_locked,
        ),
        format!(
            "update-graph, n = {n}, plain client (`{WRITEGRAPH}`, lock_root = true, against \
             `hand CTE + lock`): {}",
            ratios(plain, hand_locked)
        ),
        format!(
            "update-graph, n = {n}, the lock's share: hand CTE + lock vs hand CTE: {:.2}x; locked \
             graph vs unlocked graph: {:.2}x",
            hand_locked / hand,
            cached / unlocked
        ),
    ]
}

/// Where the server spends the time of the generated statement and of the hand CTE at `n`
/// items: `EXPLAIN (ANALYZE)` of each (the generated one captured as the generated code sends
/// it, on a client that says it is in a transaction, so only the lock and the statement are
/// sent), on a fresh base order, inside a transaction that is rolled back. Per statement:
/// execution time, then each CTE's top plan node and its first join node with their actual
/// times. Printed after the summary when the `CachedClient` variant misses the 1.05x target.
async fn diagnose(client: &Client, n: usize) -> Result<Vec<String>> {
    let mut lines = Vec::new();
    let input = OrderDiffs.prepare(client, n).await?;
    client.batch_execute("BEGIN").await?;
    let explaining = ExplainClient {
        client,
        plans: std::sync::Mutex::new(Vec::new()),
    };
    // EXPLAIN returns no row of the graph, so the generated code ends with `NotFound` here,
    // after the plans were captured.
    let items = graph_items(&input);
    let _ = OrderPatchGraph::default()
        .with_items(items)
        .update_by_id_graph(&explaining, &input.order_id)
        .await;
    let generated = explaining
        .plans
        .into_inner()
        .map_err(|_| "poisoned lock")?
        .into_iter()
        .find(|(sql, _)| sql.starts_with("WITH"))
        .map(|(_, plan)| plan)
        .ok_or("the generated code sent no WITH statement")?;
    client.batch_execute("ROLLBACK").await?;

    let (skus, qtys, prices) = item_columns(&input.target);
    client.batch_execute("BEGIN").await?;
    let rows = client
        .query(
            &format!("EXPLAIN (ANALYZE) {DIFF_CTE_SQL}"),
            &[&input.order_id, &skus, &qtys, &prices],
        )
        .await?;
    let hand: Vec<String> = rows
        .iter()
        .map(|row| row.try_get(0))
        .collect::<Result<_, _>>()?;
    client.batch_execute("ROLLBACK").await?;

    for (what, plan) in [("OrderPatchGraph statement", generated), ("hand CTE", hand)] {
        lines.push(format!(
            "diagnosis (update-graph, n = {n}), server, EXPLAIN ANALYZE of the {what}: {}",
            plan_outline(&plan)
        ));
    }
    if OrderPatchGraph::TAIL_SQL.contains("IS NOT DISTINCT FROM") {
        lines.push(format!(
            "diagnosis (update-graph, n = {n}): OrderPatchGraph's DELETE matches the kept keys \
             with `IS NOT DISTINCT FROM`, which PostgreSQL can neither hash nor merge, so its \
             anti join can only be a nested loop (kept rows x old rows); the hand CTE's `=` \
             gets a hash anti join"
        ));
    }
    Ok(lines)
}

/// `Execution Time`, then per CTE its top node and first join node, from an `EXPLAIN
/// (ANALYZE)` text: `execution 12.3 ms; c0_del: Delete on order_items c (actual time=...)
/// <- Nested Loop Anti Join (actual time=...)`.
pub(super) fn plan_outline(plan: &[String]) -> String {
    let mut parts = Vec::new();
    if let Some(time) = plan
        .iter()
        .find_map(|line| line.trim().strip_prefix("Execution Time:"))
    {
        parts.push(format!("execution {}", time.trim()));
    }
    let node = |line: &str| {
        let line = line.trim().trim_start_matches("->").trim();
        // Drop the cost estimate; keep the node name and its actual time and rows.
        match (line.find(" (cost="), line.find("(actual")) {
            (Some(cost), Some(actual)) => format!("{}{}", &line[..cost], {
                let rest = &line[actual..];
                format!(" {})", rest.split(" loops=").next().unwrap_or(rest))
            }),
            _ => line.to_owned(),
        }
    };
    let mut lines = plan.iter().peekable();
    while let Some(line) = lines.next() {
        // `CTE name` heads a CTE's subplan; `CTE Scan on name` reads one.
        let Some(name) = line
            .trim()
            .strip_prefix("CTE ")
            .filter(|name| !name.starts_with("Scan on"))
        else {
            continue;
        };
        let Some(top) = lines.next() else {
            break;
        };
        let mut part = format!("{name}: {}", node(top));
        // The CTE's first join, if any, before the next CTE starts.
        while let Some(next) = lines.peek() {
            if next.trim().starts_with("CTE ") && !next.trim().starts_with("CTE Scan on") {
                break;
            }
            let next = lines.next().map(String::as_str).unwrap_or_default();
            if next.contains("Join") || next.contains("Nested Loop") {
                part.push_str(&format!(" <- {}", node(next)));
                break;
            }
        }
        parts.push(part);
    }
    parts.join("; ")
}

/// A `GenericClient` for the diagnosis: runs each statement as `EXPLAIN (ANALYZE)` with the
/// same parameters, keeps each statement's text and plan, and answers with no rows. Says it
/// is a transaction, so a locking graph sends only its lock and its statement.
pub(super) struct ExplainClient<'a> {
    pub(super) client: &'a Client,
    pub(super) plans: std::sync::Mutex<Vec<(String, Vec<String>)>>,
}

impl GenericClient for ExplainClient<'_> {
    async fn query_typed(
        &self,
        sql: &str,
        params: &[(&(dyn ToSql + Sync), Type)],
    ) -> Result<Vec<Row>, tokio_postgres::Error> {
        let rows = self
            .client
            .query_typed(&format!("EXPLAIN (ANALYZE) {sql}"), params)
            .await?;
        let plan: Vec<String> = rows.iter().filter_map(|row| row.try_get(0).ok()).collect();
        if let Ok(mut plans) = self.plans.lock() {
            plans.push((sql.to_owned(), plan));
        }
        Ok(Vec::new())
    }

    async fn execute_typed(
        &self,
        sql: &str,
        params: &[(&(dyn ToSql + Sync), Type)],
    ) -> Result<u64, tokio_postgres::Error> {
        self.query_typed(sql, params).await.map(|_| 0)
    }

    fn is_transaction(&self) -> bool {
        true
    }
}

impl TransactionClient for ExplainClient<'_> {}

/// The statements the hand-written strategies prepare once and reuse.
struct DiffStatements {
    delete_all: Statement,
    insert_item: Statement,
    upsert_unnest: Statement,
    delete_others: Statement,
    cte: Statement,
    begin: Statement,
    lock: Statement,
    commit: Statement,
}

impl DiffStatements {
    async fn prepare(client: &Client) -> Result<Self> {
        Ok(DiffStatements {
            delete_all: client.prepare(DELETE_ALL_SQL).await?,
            insert_item: client.prepare(INSERT_ITEM_SQL).await?,
            upsert_unnest: client.prepare(UPSERT_UNNEST_SQL).await?,
            delete_others: client.prepare(DELETE_OTHERS_SQL).await?,
            cte: client.prepare(DIFF_CTE_SQL).await?,
            begin: client.prepare("BEGIN").await?,
            lock: client.prepare(LOCK_SQL).await?,
            commit: client.prepare("COMMIT").await?,
        })
    }
}

/// The input of one operation: the order (with its base items, written untimed) and the
/// items it should have afterwards, as the application has them.
#[derive(Debug, Clone)]
pub struct DiffInput {
    /// The order written for this operation.
    pub order_id: i64,
    /// The items the order should have after the operation.
    pub target: Vec<Item>,
}

/// The `n` items an order starts with.
fn base_items(n: usize) -> Vec<Item> {
    (0..n).map(Item::generated).collect()
}

/// The items the diff brings `base_items(n)` to: every tenth item (`i % 10 == 0`) with `qty`
/// one higher, every tenth (`i % 10 == 1`) removed, `n / 10` new ones, the rest unchanged.
pub(super) fn target_items(n: usize) -> Vec<Item> {
    let mut items: Vec<Item> = base_items(n)
        .into_iter()
        .enumerate()
        .filter_map(|(i, item)| match i % 10 {
            0 => Some(Item {
                qty: item.qty + 1,
                ..item
            }),
            1 => None,
            _ => Some(item),
        })
        .collect();
    items.extend((n..n + n / 10).map(Item::generated));
    items
}

fn strategies(
    statements: &Rc<DiffStatements>,
    cached: &Rc<CachedClient>,
) -> Vec<Strategy<DiffInput>> {
    let unlocked = Rc::clone(cached);
    let cached = Rc::clone(cached);
    let naive = Rc::clone(statements);
    let batched = Rc::clone(statements);
    let prepared = Rc::clone(statements);
    let locked = Rc::clone(statements);
    vec![
        Strategy::new(WRITEGRAPH, |client, input| {
            Box::pin(writegraph_update(client, input))
        }),
        Strategy::new(WRITEGRAPH_CACHED, move |_client, input| {
            let cached = Rc::clone(&cached);
            Box::pin(async move { writegraph_update(&*cached, input).await })
        }),
        Strategy::new(WRITEGRAPH_UNLOCKED, move |_client, input| {
            let cached = Rc::clone(&unlocked);
            Box::pin(async move { writegraph_update_unlocked(&cached, input).await })
        }),
        Strategy::new(NAIVE, move |client, input| {
            let statements = Rc::clone(&naive);
            Box::pin(async move { update_naive(client, &statements, input).await })
        }),
        Strategy::new(BATCHED, move |client, input| {
            let statements = Rc::clone(&batched);
            Box::pin(async move { update_batched(client, &statements, input).await })
        }),
        Strategy::new(HAND_CTE_PREPARED, move |client, input| {
            let statements = Rc::clone(&prepared);
            Box::pin(async move { update_hand_cte_prepared(client, &statements, input).await })
        }),
        Strategy::new(HAND_CTE_TYPED, |client, input| {
            Box::pin(update_hand_cte_typed(client, input))
        }),
        Strategy::new(HAND_CTE_LOCKED, move |client, input| {
            let statements = Rc::clone(&locked);
            Box::pin(async move { update_hand_cte_locked(client, &statements, input).await })
        }),
    ]
}

/// The diff's target items as the generated graphs take them.
fn graph_items(input: &DiffInput) -> impl Iterator<Item = NewOrderItemForOrder> + '_ {
    input.target.iter().map(|item| {
        NewOrderItemForOrder::new(item.sku.clone(), item.qty).with_price_cents(item.price_cents)
    })
}

/// The code under test: the generated `OrderPatchGraph::update_by_id_graph` with only `items`
/// set, on a plain client or a `CachedClient`, statements counted.
async fn writegraph_update<C: SessionClient>(client: &C, input: &DiffInput) -> Result<u64> {
    let items = graph_items(input);
    let mut counting = CountingClient::new(OneTask(client));
    OrderPatchGraph::default()
        .with_items(items)
        .update_by_id_graph(&mut counting, &input.order_id)
        .await?;
    Ok(counting.statements())
}

/// The same diff with `OrderDiffGraph`, which takes no lock: one statement, in autocommit.
async fn writegraph_update_unlocked(client: &CachedClient, input: &DiffInput) -> Result<u64> {
    let items = graph_items(input);
    let counting = CountingClient::new(client);
    OrderDiffGraph::default()
        .with_items(items)
        .update_by_id_graph(&counting, &input.order_id)
        .await?;
    Ok(counting.statements())
}

/// A shared client used as a [`SessionClient`] of its own: the benchmark runs one task, so
/// nothing else sends statements on the connection while a locking graph's transaction (or
/// the transaction of an `insert_graph_each` batch, in `insert-graph-many`) is open, which
/// `&mut` guarantees in an application.
pub(super) struct OneTask<'a, C>(pub(super) &'a C);

impl<C: SessionClient> GenericClient for OneTask<'_, C> {
    fn query_typed(
        &self,
        sql: &str,
        params: &[(&(dyn ToSql + Sync), Type)],
    ) -> impl std::future::Future<Output = Result<Vec<Row>, tokio_postgres::Error>> + Send {
        self.0.query_typed(sql, params)
    }

    fn execute_typed(
        &self,
        sql: &str,
        params: &[(&(dyn ToSql + Sync), Type)],
    ) -> impl std::future::Future<Output = Result<u64, tokio_postgres::Error>> + Send {
        self.0.execute_typed(sql, params)
    }

    fn pipeline_locked(
        &self,
        transaction: writegraph::PipelineTransaction,
        lock: &str,
        key: &[(&(dyn ToSql + Sync), Type)],
        sql: &str,
        params: &[(&(dyn ToSql + Sync), Type)],
    ) -> impl std::future::Future<Output = writegraph::LockedAnswers> + Send {
        self.0.pipeline_locked(transaction, lock, key, sql, params)
    }
}

impl<C: SessionClient> SessionClient for OneTask<'_, C> {}

/// (1) `BEGIN`, delete all the order's items, insert the target items one row at a time,
/// `COMMIT`.
async fn update_naive(
    client: &Client,
    statements: &DiffStatements,
    input: &DiffInput,
) -> Result<u64> {
    client.batch_execute("BEGIN").await?;
    client
        .execute(&statements.delete_all, &[&input.order_id])
        .await?;
    for item in &input.target {
        client
            .execute(
                &statements.insert_item,
                &[&input.order_id, &item.sku, &item.qty, &item.price_cents],
            )
            .await?;
    }
    client.batch_execute("COMMIT").await?;
    Ok(input.target.len() as u64 + 3)
}

/// (2) `BEGIN`, one UNNEST upsert of the target items, one DELETE of the others, `COMMIT`.
async fn update_batched(
    client: &Client,
    statements: &DiffStatements,
    input: &DiffInput,
) -> Result<u64> {
    let (skus, qtys, prices) = item_columns(&input.target);
    client.batch_execute("BEGIN").await?;
    client
        .execute(
            &statements.upsert_unnest,
            &[&input.order_id, &skus, &qtys, &prices],
        )
        .await?;
    client
        .execute(&statements.delete_others, &[&input.order_id, &skus])
        .await?;
    client.batch_execute("COMMIT").await?;
    Ok(4)
}

/// (3) The hand-written CTE, prepared once and reused, in autocommit.
async fn update_hand_cte_prepared(
    client: &Client,
    statements: &DiffStatements,
    input: &DiffInput,
) -> Result<u64> {
    let (skus, qtys, prices) = item_columns(&input.target);
    let row = client
        .query_one(&statements.cte, &[&input.order_id, &skus, &qtys, &prices])
        .await?;
    check_cte_row(&row)?;
    Ok(1)
}

/// (3') The hand-written CTE sent unprepared with `query_typed`, in autocommit.
async fn update_hand_cte_typed(client: &Client, input: &DiffInput) -> Result<u64> {
    let (skus, qtys, prices) = item_columns(&input.target);
    let params: [(&(dyn ToSql + Sync), Type); 4] = [
        (&input.order_id, Type::INT8),
        (&skus, Type::TEXT_ARRAY),
        (&qtys, Type::INT4_ARRAY),
        (&prices, Type::INT8_ARRAY),
    ];
    let rows = client.query_typed(DIFF_CTE_SQL, &params).await?;
    check_cte_row(rows.first().ok_or("the diff CTE returned no row")?)?;
    Ok(1)
}

/// (3'') The hand-written CTE after a lock on the order, pipelined as the generated code
/// does: `BEGIN`, lock, CTE, `COMMIT`, all prepared, sent without waiting for each other.
async fn update_hand_cte_locked(
    client: &Client,
    statements: &DiffStatements,
    input: &DiffInput,
) -> Result<u64> {
    let (skus, qtys, prices) = item_columns(&input.target);
    let key: [&(dyn ToSql + Sync); 1] = [&input.order_id];
    let params: [&(dyn ToSql + Sync); 4] = [&input.order_id, &skus, &qtys, &prices];
    let (begin, locked, rows, commit) = tokio::join!(
        client.execute(&statements.begin, &[]),
        client.execute(&statements.lock, &key),
        client.query(&statements.cte, &params),
        client.execute(&statements.commit, &[]),
    );
    begin?;
    let locked = locked?;
    let rows = rows?;
    commit?;
    if locked != 1 {
        return Err(format!("the lock found {locked} orders, expected 1").into());
    }
    check_cte_row(rows.first().ok_or("the diff CTE returned no row")?)?;
    Ok(4)
}

/// Fails when the diff CTE found no order (it then wrote nothing).
fn check_cte_row(row: &Row) -> Result<()> {
    let roots: i64 = row.try_get(0)?;
    if roots != 1 {
        return Err(format!("the diff CTE found {roots} orders, expected 1").into());
    }
    Ok(())
}

/// The items as one array per column.
pub(super) fn item_columns(items: &[Item]) -> (Vec<&str>, Vec<i32>, Vec<i64>) {
    (
        items.iter().map(|i| i.sku.as_str()).collect(),
        items.iter().map(|i| i.qty).collect(),
        items.iter().map(|i| i.price_cents).collect(),
    )
}

/// The untimed side of `update-graph`.
struct OrderDiffs;

impl Workload for OrderDiffs {
    type Input = DiffInput;

    async fn prepare(&self, client: &Client, n: usize) -> Result<DiffInput> {
        let base = base_items(n);
        let (skus, qtys, prices) = item_columns(&base);
        let order_id: i64 = client
            .query_one(BASE_ORDER_SQL, &[&skus, &qtys, &prices])
            .await?
            .try_get(0)?;
        Ok(DiffInput {
            order_id,
            target: target_items(n),
        })
    }

    async fn verify(&self, client: &Client, input: &DiffInput) -> Result<()> {
        verify_order_items(client, input.order_id, &input.target)
            .await
            .map_err(|e| format!("order_items: {e}").into())
    }

    async fn reset(&self, client: &Client) -> Result<()> {
        client
            .batch_execute("TRUNCATE orders, order_items, shipping_addresses CASCADE")
            .await?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_target_changes_removes_and_adds_a_tenth_each() {
        let base = base_items(100);
        let target = target_items(100);
        assert_eq!(target.len(), 100);
        let base_of = |sku: &str| base.iter().find(|item| item.sku == sku);
        let changed = target
            .iter()
            .filter(|item| base_of(&item.sku).is_some_and(|b| b.qty != item.qty))
            .count();
        let unchanged = target
            .iter()
            .filter(|item| {
                base_of(&item.sku)
                    .is_some_and(|b| b.qty == item.qty && b.price_cents == item.price_cents)
            })
            .count();
        let new = target
            .iter()
            .filter(|item| base_of(&item.sku).is_none())
            .count();
        let removed = base
            .iter()
            .filter(|b| !target.iter().any(|item| item.sku == b.sku))
            .count();
        assert_eq!((changed, removed, new, unchanged), (10, 10, 10, 80));
    }
}
