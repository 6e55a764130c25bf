//! `insert-graph-many`: many graphs of one kind written in one call, the generated
//! `insert_graph_many` and `insert_graph_each` against hand-written tokio-postgres writing the
//! same graphs with one statement per graph.
//!
//! Two cases, each measured as a scenario of its own in the same run; `n` is the number of
//! graphs per call (M), and the `rows/s` column counts the graphs' child rows (the rows under
//! the roots, the roots themselves not counted):
//! - `insert-graph-many order (10 items + audit)`: M = 100 orders (`AuditedOrderGraph`), each
//!   with [`ITEMS_PER_ORDER`] items and an audit row: 1,000 child rows per call (the items;
//!   the audit rows are written but not counted), 1,200 rows in all;
//! - `insert-graph-many author (2 posts x 2 comments)`: M = 1,000 authors (`NewAuthorGraph`,
//!   users → posts → comments, three levels), each with [`POSTS_PER_AUTHOR`] posts of
//!   [`COMMENTS_PER_POST`] comments: 6,000 child rows per call, 7,000 rows in all.
//!
//! Strategies, all on the one connection, all starting from the same application values and
//! converting them to what they send inside the timed region:
//! - `writegraph insert_graph_many`: the generated `G::insert_graph_many`, one statement
//!   (`G::SQL_MANY`) for all M graphs, sent unprepared;
//! - `writegraph insert_graph_many (CachedClient)`: the same call on a `CachedClient`, which
//!   prepares the statement on first use and then only binds and executes it;
//! - `writegraph insert_graph_each (CachedClient)`: the generated `G::insert_graph_each` on a
//!   `CachedClient`: one round trip asking whether the caller opened a transaction (two
//!   statements), then `BEGIN`, each graph's statement (`G::SQL`) under a savepoint of its
//!   own (six statements per graph), and `COMMIT`, all pipelined;
//! - `per-graph loop (hand CTE, transaction)`: `BEGIN`, then for each graph the hand-written
//!   CTE of the graph's shape (the statement `insert-graph` and `nested-graph` compare
//!   `insert_graph` with), prepared once and reused, each awaited before the next is sent,
//!   then `COMMIT`: M + 2 statements and as many round trips. The reference of the `ratio`
//!   column;
//! - `hand CTEs pipelined (transaction)`: the same M prepared statements, all sent at once
//!   (their futures joined) between a `BEGIN` and a `COMMIT` sent with them: M + 2
//!   statements in one round trip, the best a hand-written statement per graph can do.
//!
//! Every graph's rows carry its tag (call number and graph index): the order's customer and
//! its items' skus, the author's name and its posts' titles, which begin its comments'
//! bodies. Each strategy's first call is checked: the tables' row counts, and every graph's
//! rows, compared with the input under their own root. After each case's run the tables are
//! checked once more, over every call since the last reset.
//!
//! The lines after the table give, per
//! case, the speed-ups and which targets `insert_graph_many` meets (at least 200,000 child
//! rows/s, at least 3x faster than the per-graph loop, on each client), then a diagnosis of
//! one call at the last size: server planning and execution of `SQL_MANY` (`EXPLAIN
//! ANALYZE`, the foreign keys' triggers apart), building the graphs and parameters on the
//! client, and a durable commit alone.

use std::collections::HashMap;
use std::fmt::Debug;
use std::rc::Rc;
use std::sync::atomic::{AtomicU64, Ordering};

use futures_util::future::{join3, join_all};
use tokio_postgres::types::ToSql;
use tokio_postgres::{Client, Statement};
use writegraph::{CachedClient, GenericClient, InsertGraph, InsertGraphMany};
use writegraph_example::{AuditedOrderGraph, NewAuthorGraph};
use writegraph_testing::CountingClient;

use super::insert_graph::{
    build_order_graph, item_columns, median_duration, order_hand_cte_prepared, ExplainClient,
    OrderGraphInput, PlanTimings, AUDIT_ACTION, ORDER_CTE_SQL, ORDER_ENTITY,
};
use super::nested_graph::{
    author_hand_cte_prepared, build_author_graph, AuthorInput, CommentInput, CteColumns, PostInput,
    AUTHOR_CTE_SQL,
};
use super::update_graph::OneTask;
use super::Item;
use crate::harness::{self, Measurement, Report, Result, Strategy, Timing, Workload};

/// Name of the `insert-graph-many` scenario.
pub const INSERT_GRAPH_MANY: &str = "insert-graph-many";

/// The order case's cells.
const ORDER_SCENARIO: &str = "insert-graph-many order (10 items + audit)";
/// The author case's cells.
const AUTHOR_SCENARIO: &str = "insert-graph-many author (2 posts x 2 comments)";

/// The orders per call unless `--sizes` says otherwise.
pub const MANY_ORDER_SIZES: &[usize] = &[100];
/// The authors per call unless `--sizes` says otherwise.
pub const MANY_AUTHOR_SIZES: &[usize] = &[1_000];

/// Items of every order.
pub const ITEMS_PER_ORDER: usize = 10;
/// Posts of every author.
pub const POSTS_PER_AUTHOR: usize = 2;
/// Comments under every post.
pub const COMMENTS_PER_POST: usize = 2;

/// The targets of `insert_graph_many`, on one connection.
const TARGET_CHILD_ROWS_PER_SECOND: f64 = 200_000.0;
const TARGET_SPEEDUP_OVER_LOOP: f64 = 3.0;

const WRITEGRAPH_MANY: &str = "writegraph insert_graph_many";
const WRITEGRAPH_MANY_CACHED: &str = "writegraph insert_graph_many (CachedClient)";
const WRITEGRAPH_EACH_CACHED: &str = "writegraph insert_graph_each (CachedClient)";
const PER_GRAPH_LOOP: &str = "per-graph loop (hand CTE, transaction)";
const PIPELINED: &str = "hand CTEs pipelined (transaction)";

/// The tables after a call of the order case, and its rows: per order, its customer and
/// `status;total_cents;note;items;audits`, the items as `sku:qty:price_cents` in sku order.
const ORDER_TREES_SQL: &str = r#"WITH i AS (
    SELECT "order_id",
           string_agg("sku" || ':' || "qty" || ':' || "price_cents", ','
                      ORDER BY "sku" COLLATE "C") AS "items"
    FROM "order_items" GROUP BY "order_id"),
 a AS (
    SELECT "entity_id",
           string_agg("entity" || ':' || "action" || ':' || coalesce("detail"::text, 'null'), ','
                      ORDER BY "id") AS "audits"
    FROM "audit_logs" GROUP BY "entity_id")
SELECT o."customer",
       o."status"::text || ';' || o."total_cents" || ';' || coalesce(o."note", 'null') || ';' ||
       coalesce(i."items", '') || ';' || coalesce(a."audits", '')
FROM "orders" o
LEFT JOIN i ON i."order_id" = o."id"
LEFT JOIN a ON a."entity_id" = o."id"::text
WHERE o."customer" = ANY($1)"#;

/// Per author, its e-mail and `name|posts`, the posts as `title:body[comments]` in title
/// order, each post's comments as `author:body` in body order.
const AUTHOR_TREES_SQL: &str = r#"WITH c AS (
    SELECT "post_id",
           string_agg("author" || ':' || "body", ',' ORDER BY "body" COLLATE "C") AS "comments"
    FROM "comments" GROUP BY "post_id"),
 p AS (
    SELECT p."author_id",
           string_agg(p."title" || ':' || p."body" || '[' || coalesce(c."comments", '') || ']',
                      ';' ORDER BY p."title" COLLATE "C") AS "posts"
    FROM "posts" p LEFT JOIN c ON c."post_id" = p."id" GROUP BY p."author_id")
SELECT u."email", coalesce(u."name", 'null') || '|' || coalesce(p."posts", '')
FROM "users" u LEFT JOIN p ON p."author_id" = u."id"
WHERE u."email" = ANY($1)"#;

/// `insert-graph-many`: the order case at every size of `order_sizes` (orders per call),
/// then the author case at every size of `author_sizes` (authors per call). The
/// `CachedClient` strategies run on `cached`, which wraps `client`'s connection.
pub async fn insert_graph_many(
    client: &Client,
    cached: &Rc<CachedClient>,
    order_sizes: &[usize],
    author_sizes: &[usize],
    timing: Timing,
) -> Result<Report> {
    let statements = Rc::new(HandStatements {
        order: client.prepare(ORDER_CTE_SQL).await?,
        author: client.prepare(AUTHOR_CTE_SQL).await?,
    });
    let orders = OrderBatches::default();
    let mut measurements = harness::measure(
        client,
        ORDER_SCENARIO,
        &orders,
        &order_strategies(&statements, cached),
        PER_GRAPH_LOOP,
        order_sizes,
        timing,
    )
    .await?;
    // The last size's rows are still in the tables (the harness resets only before it
    // writes): checked, then removed, so that the author case runs beside empty order tables.
    let mut summary = vec![check_order_tables(client).await?];
    orders.reset(client).await?;
    let authors = AuthorBatches::default();
    measurements.extend(
        harness::measure(
            client,
            AUTHOR_SCENARIO,
            &authors,
            &author_strategies(&statements, cached),
            PER_GRAPH_LOOP,
            author_sizes,
            timing,
        )
        .await?,
    );
    summary.push(check_author_tables(client).await?);
    authors.reset(client).await?;

    let mut report = Report {
        measurements,
        summary,
    };
    let lines: Vec<String> = order_sizes
        .iter()
        .filter_map(|&n| summary_line(&report, ORDER_SCENARIO, n))
        .chain(
            author_sizes
                .iter()
                .filter_map(|&n| summary_line(&report, AUTHOR_SCENARIO, n)),
        )
        .collect();
    report.summary.extend(lines);
    if let Some(&n) = order_sizes.last() {
        let inputs: Orders = (0..n).map(|g| order_input(DIAGNOSIS_CALL, g)).collect();
        let line = diagnose(client, ORDER_SCENARIO, &inputs, build_order_graph).await?;
        report.summary.push(line);
    }
    if let Some(&n) = author_sizes.last() {
        let inputs: Authors = (0..n).map(|g| author_input(DIAGNOSIS_CALL, g)).collect();
        let line = diagnose(client, AUTHOR_SCENARIO, &inputs, build_author_graph).await?;
        report.summary.push(line);
    }
    Ok(report)
}

/// The call number of the diagnosis's graphs, apart from the timed calls'.
const DIAGNOSIS_CALL: u64 = 999_999;

/// Where the time of an `insert_graph_many` call of `inputs` goes, against its median:
///
/// - server planning and execution: `EXPLAIN (ANALYZE)` of `G::SQL_MANY` sent with
///   `query_typed` (a custom plan each time), inside a transaction that is rolled back
///   (median of 5), and the part of the execution spent in the foreign keys' triggers
///   (checking each child's parent), which any statement writing these rows pays;
/// - client: building the graphs, their column arrays and the statement's parameters, up to
///   the send, with a client that answers at once (median of 20);
/// - a durable commit alone: a transaction that takes a transaction id and writes no row
///   (`SELECT pg_current_xact_id()`, one round trip, median of 20), which the write's own
///   commit costs at least.
async fn diagnose<I, G: InsertGraphMany>(
    client: &Client,
    scenario: &str,
    inputs: &[I],
    build: fn(&I) -> G,
) -> Result<String> {
    let graphs = || inputs.iter().map(build).collect::<Vec<G>>();
    let mut plans = Vec::new();
    let mut triggers = Vec::new();
    for _ in 0..5 {
        client.batch_execute("BEGIN").await?;
        let explaining = ExplainClient::new(client);
        // EXPLAIN returns no row of the statement's own, so the call ends with an error here,
        // after the plan was captured.
        let _ = G::insert_graph_many(&explaining, graphs()).await;
        plans.push(explaining.timings()?);
        triggers.push(trigger_ms(&explaining.plan()?));
        client.batch_execute("ROLLBACK").await?;
    }
    let plan = PlanTimings::median(&mut plans);
    triggers.sort_by(f64::total_cmp);
    let trigger = triggers
        .get(triggers.len() / 2)
        .copied()
        .unwrap_or(f64::NAN);
    let answering = ExplainClient::answering_at_once();
    let building = median_duration(20, || async {
        let _ = G::insert_graph_many(&answering, graphs()).await;
        Ok(())
    })
    .await?;
    let commit = median_duration(20, || async {
        client.batch_execute("SELECT pg_current_xact_id()").await?;
        Ok(())
    })
    .await?;
    Ok(format!(
        "diagnosis ({scenario}, M = {}): server, EXPLAIN ANALYZE of SQL_MANY (custom plan): \
         planning {:.3} ms, execution {:.3} ms, of which foreign key triggers {:.3} ms; client, building the graphs and the \
         statement's parameters: {:.3} ms; a durable commit alone (SELECT \
         pg_current_xact_id()): {:.3} ms",
        inputs.len(),
        plan.planning_ms,
        plan.execution_ms,
        trigger,
        harness::milliseconds(building),
        harness::milliseconds(commit),
    ))
}

/// `insert-graph-many order (...), M = 100 (1000 child rows per call): insert_graph_many
/// 250000 child rows/s (CachedClient), ...`: the speed-ups over the hand-written strategies
/// and which targets each `insert_graph_many` variant meets.
fn summary_line(report: &Report, scenario: &str, n: usize) -> Option<String> {
    let cell = |strategy| report.find(scenario, strategy, n);
    let plain = cell(WRITEGRAPH_MANY)?;
    let cached = cell(WRITEGRAPH_MANY_CACHED)?;
    let each = cell(WRITEGRAPH_EACH_CACHED)?;
    let looped = cell(PER_GRAPH_LOOP)?;
    let pipelined = cell(PIPELINED)?;
    let seconds = |m: &Measurement| m.median.as_secs_f64();
    let verdict = |met: bool| if met { "met" } else { "MISSED" };
    let fast_enough =
        |m: &Measurement| verdict(m.rows_per_second() >= TARGET_CHILD_ROWS_PER_SECOND);
    let faster_than_loop =
        |m: &Measurement| verdict(seconds(looped) / seconds(m) >= TARGET_SPEEDUP_OVER_LOOP);
    Some(format!(
        "{scenario}, M = {n} ({} child rows per call): insert_graph_many {:.0} child rows/s \
         (CachedClient), {:.0} (plain client); the per-graph loop takes {:.1}x its time \
         (CachedClient), {:.1}x (plain client); the pipelined hand CTEs {:.2}x (CachedClient), \
         {:.2}x (plain client); insert_graph_each (CachedClient) takes {:.2}x the per-graph \
         loop's time and {:.2}x the pipelined hand CTEs' (targets of insert_graph_many: at \
         least {TARGET_CHILD_ROWS_PER_SECOND:.0} child rows/s {} (CachedClient), {} (plain \
         client); at least {TARGET_SPEEDUP_OVER_LOOP:.0}x faster than the per-graph loop {} \
         (CachedClient), {} (plain client))",
        cached.rows,
        cached.rows_per_second(),
        plain.rows_per_second(),
        seconds(looped) / seconds(cached),
        seconds(looped) / seconds(plain),
        seconds(pipelined) / seconds(cached),
        seconds(pipelined) / seconds(plain),
        seconds(each) / seconds(looped),
        seconds(each) / seconds(pipelined),
        fast_enough(cached),
        fast_enough(plain),
        faster_than_loop(cached),
        faster_than_loop(plain),
    ))
}

/// The input of one call of the order case: M orders.
type Orders = Vec<OrderGraphInput>;
/// The input of one call of the author case: M authors.
type Authors = Vec<AuthorInput>;

/// The hand-written per-graph statements, prepared once and reused.
struct HandStatements {
    /// The order graph's CTE (`insert-graph`'s `hand CTE`).
    order: Statement,
    /// The author graph's CTE (`nested-graph`'s `hand CTE`).
    author: Statement,
}

/// The code under test: the generated `G::insert_graph_many` on a plain client or a
/// `CachedClient`, statements counted.
async fn writegraph_many<G: InsertGraphMany, C: GenericClient>(
    client: &C,
    graphs: Vec<G>,
) -> Result<u64> {
    let counting = CountingClient::new(client);
    G::insert_graph_many(&counting, graphs).await?;
    Ok(counting.statements())
}

/// The generated `G::insert_graph_each` on the `CachedClient`, statements counted; a graph
/// the database refused fails the operation.
async fn writegraph_each<G>(cached: &CachedClient, graphs: Vec<G>) -> Result<u64>
where
    G: InsertGraph + Sync,
    G::Parts: Sync,
{
    let mut counting = CountingClient::new(OneTask(cached));
    let results = G::insert_graph_each(&mut counting, graphs).await?;
    for (index, result) in results.into_iter().enumerate() {
        result.map_err(|e| format!("graph {index}: {e}"))?;
    }
    Ok(counting.statements())
}

/// The time of the triggers in an `EXPLAIN (ANALYZE)` text (`Trigger for constraint ...:
/// time=3.501 calls=1000`), summed, in milliseconds.
fn trigger_ms(plan: &[String]) -> f64 {
    plan.iter()
        .filter(|line| line.trim_start().starts_with("Trigger "))
        .filter_map(|line| {
            line.split("time=")
                .nth(1)?
                .split_whitespace()
                .next()?
                .parse::<f64>()
                .ok()
        })
        .sum()
}

/// Sends `writes` (the hand-written statements of a batch, one per graph) all at once between
/// a `BEGIN` and a `COMMIT` sent with them: tokio-postgres sends each statement when its
/// future is first polled, and the joins poll them in this order, so PostgreSQL runs them in
/// this order, in one round trip. Checks every statement's answer (after a failed one,
/// `COMMIT` rolls back without an error).
async fn pipelined<F>(client: &Client, writes: Vec<F>) -> Result<u64>
where
    F: std::future::Future<Output = Result<tokio_postgres::Row, tokio_postgres::Error>>,
{
    let statements = writes.len() as u64 + 2;
    let (begin, written, commit) = join3(
        client.batch_execute("BEGIN"),
        join_all(writes),
        client.batch_execute("COMMIT"),
    )
    .await;
    begin?;
    for (index, row) in written.into_iter().enumerate() {
        let _root_id: i64 = row.map_err(|e| format!("graph {index}: {e}"))?.try_get(0)?;
    }
    commit?;
    Ok(statements)
}

fn order_strategies(
    statements: &Rc<HandStatements>,
    cached: &Rc<CachedClient>,
) -> Vec<Strategy<Orders>> {
    let many_cached = Rc::clone(cached);
    let each_cached = Rc::clone(cached);
    let looped = Rc::clone(statements);
    let piped = Rc::clone(statements);
    vec![
        Strategy::<Orders>::new(WRITEGRAPH_MANY, |client, graphs| {
            Box::pin(writegraph_many(client, order_graphs(graphs)))
        }),
        Strategy::<Orders>::new(WRITEGRAPH_MANY_CACHED, move |_client, graphs| {
            let cached = Rc::clone(&many_cached);
            Box::pin(async move { writegraph_many(&*cached, order_graphs(graphs)).await })
        }),
        Strategy::<Orders>::new(WRITEGRAPH_EACH_CACHED, move |_client, graphs| {
            let cached = Rc::clone(&each_cached);
            Box::pin(async move { writegraph_each(&cached, order_graphs(graphs)).await })
        }),
        Strategy::<Orders>::new(PER_GRAPH_LOOP, move |client, graphs| {
            let statements = Rc::clone(&looped);
            Box::pin(async move {
                client.batch_execute("BEGIN").await?;
                for graph in graphs {
                    order_hand_cte_prepared(client, &statements.order, graph).await?;
                }
                client.batch_execute("COMMIT").await?;
                Ok(graphs.len() as u64 + 2)
            })
        }),
        Strategy::<Orders>::new(PIPELINED, move |client, graphs| {
            let statements = Rc::clone(&piped);
            Box::pin(async move { order_pipelined(client, &statements.order, graphs).await })
        }),
    ]
}

/// The orders as the generated API takes them.
fn order_graphs(graphs: &[OrderGraphInput]) -> Vec<AuditedOrderGraph> {
    graphs.iter().map(build_order_graph).collect()
}

/// The order case's hand-written CTEs, pipelined in one transaction.
async fn order_pipelined(
    client: &Client,
    cte: &Statement,
    graphs: &[OrderGraphInput],
) -> Result<u64> {
    let columns: Vec<_> = graphs
        .iter()
        .map(|graph| item_columns(&graph.items))
        .collect();
    let params: Vec<[&(dyn ToSql + Sync); 8]> = graphs
        .iter()
        .zip(&columns)
        .map(
            |(graph, (skus, qtys, prices))| -> [&(dyn ToSql + Sync); 8] {
                [
                    &graph.customer,
                    &graph.total_cents,
                    &graph.note,
                    skus,
                    qtys,
                    prices,
                    &ORDER_ENTITY,
                    &AUDIT_ACTION,
                ]
            },
        )
        .collect();
    let writes = params
        .iter()
        .map(|params| client.query_one(cte, params))
        .collect();
    pipelined(client, writes).await
}

fn author_strategies(
    statements: &Rc<HandStatements>,
    cached: &Rc<CachedClient>,
) -> Vec<Strategy<Authors>> {
    let many_cached = Rc::clone(cached);
    let each_cached = Rc::clone(cached);
    let looped = Rc::clone(statements);
    let piped = Rc::clone(statements);
    vec![
        Strategy::<Authors>::new(WRITEGRAPH_MANY, |client, graphs| {
            Box::pin(writegraph_many(client, author_graphs(graphs)))
        }),
        Strategy::<Authors>::new(WRITEGRAPH_MANY_CACHED, move |_client, graphs| {
            let cached = Rc::clone(&many_cached);
            Box::pin(async move { writegraph_many(&*cached, author_graphs(graphs)).await })
        }),
        Strategy::<Authors>::new(WRITEGRAPH_EACH_CACHED, move |_client, graphs| {
            let cached = Rc::clone(&each_cached);
            Box::pin(async move { writegraph_each(&cached, author_graphs(graphs)).await })
        }),
        Strategy::<Authors>::new(PER_GRAPH_LOOP, move |client, graphs| {
            let statements = Rc::clone(&looped);
            Box::pin(async move {
                client.batch_execute("BEGIN").await?;
                for graph in graphs {
                    author_hand_cte_prepared(client, &statements.author, graph).await?;
                }
                client.batch_execute("COMMIT").await?;
                Ok(graphs.len() as u64 + 2)
            })
        }),
        Strategy::<Authors>::new(PIPELINED, move |client, graphs| {
            let statements = Rc::clone(&piped);
            Box::pin(async move { author_pipelined(client, &statements.author, graphs).await })
        }),
    ]
}

/// The authors as the generated API takes them.
fn author_graphs(graphs: &[AuthorInput]) -> Vec<NewAuthorGraph> {
    graphs.iter().map(build_author_graph).collect()
}

/// The author case's hand-written CTEs, pipelined in one transaction.
async fn author_pipelined(client: &Client, cte: &Statement, graphs: &[AuthorInput]) -> Result<u64> {
    let columns: Vec<CteColumns> = graphs.iter().map(CteColumns::of).collect();
    let params: Vec<[&(dyn ToSql + Sync); 7]> = graphs
        .iter()
        .zip(&columns)
        .map(|(graph, c)| -> [&(dyn ToSql + Sync); 7] {
            [
                &graph.email,
                &graph.name,
                &c.titles,
                &c.bodies,
                &c.ordinals,
                &c.authors,
                &c.comment_bodies,
            ]
        })
        .collect();
    let writes = params
        .iter()
        .map(|params| client.query_one(cte, params))
        .collect();
    pipelined(client, writes).await
}

/// The tag of graph `graph` of call `call`, in every row of the graph.
fn tag(call: u64, graph: usize) -> String {
    format!("{call:06}-{graph:05}")
}

/// Order `graph` of call `call`: customer `many <tag>`, items `<tag>/<i>`.
fn order_input(call: u64, graph: usize) -> OrderGraphInput {
    let tag = tag(call, graph);
    let items: Vec<Item> = (0..ITEMS_PER_ORDER)
        .map(|i| Item {
            sku: format!("{tag}/{i:04}"),
            qty: 1 + (i % 7) as i32,
            price_cents: 100 * ((graph + i) % 13) as i64,
        })
        .collect();
    OrderGraphInput {
        customer: format!("many {tag}"),
        total_cents: items.iter().map(|i| i64::from(i.qty) * i.price_cents).sum(),
        note: "bench order".to_owned(),
        items,
    }
}

/// Author `graph` of call `call`: name `author <tag>`, posts `<tag> post <p>`, comments
/// `<tag> post <p> comment <c>`.
fn author_input(call: u64, graph: usize) -> AuthorInput {
    let tag = tag(call, graph);
    AuthorInput {
        email: format!("many-{tag}@bench.example"),
        name: format!("author {tag}"),
        posts: (0..POSTS_PER_AUTHOR)
            .map(|p| {
                let title = format!("{tag} post {p:02}");
                PostInput {
                    body: format!("body of {title}"),
                    comments: (0..COMMENTS_PER_POST)
                        .map(|c| CommentInput {
                            author: format!("reader {c}"),
                            body: format!("{title} comment {c:02}"),
                        })
                        .collect(),
                    title,
                }
            })
            .collect(),
    }
}

/// The untimed side of the order case.
#[derive(Default)]
struct OrderBatches {
    /// Numbers the calls, for unique tags.
    next: AtomicU64,
}

impl Workload for OrderBatches {
    type Input = Orders;

    async fn prepare(&self, _client: &Client, n: usize) -> Result<Orders> {
        let call = self.next.fetch_add(1, Ordering::Relaxed);
        Ok((0..n).map(|graph| order_input(call, graph)).collect())
    }

    /// The harness resets the tables before the call it checks, so they hold its rows alone:
    /// M orders, `ITEMS_PER_ORDER` × M items, M audit rows, no shipping address; then every
    /// order's values, items and audit row against its graph's.
    async fn verify(&self, client: &Client, graphs: &Orders) -> Result<()> {
        let counts = client
            .query_one(
                r#"SELECT (SELECT count(*) FROM "orders"), (SELECT count(*) FROM "order_items"),
                          (SELECT count(*) FROM "audit_logs"),
                          (SELECT count(*) FROM "shipping_addresses")"#,
                &[],
            )
            .await?;
        let m = graphs.len() as i64;
        expect_equal(
            "rows in orders, order_items, audit_logs, shipping_addresses",
            (
                counts.try_get::<_, i64>(0)?,
                counts.try_get::<_, i64>(1)?,
                counts.try_get::<_, i64>(2)?,
                counts.try_get::<_, i64>(3)?,
            ),
            (m, m * ITEMS_PER_ORDER as i64, m, 0),
        )?;
        let customers: Vec<&str> = graphs.iter().map(|g| g.customer.as_str()).collect();
        let expected = graphs.iter().map(|graph| {
            let mut items: Vec<&Item> = graph.items.iter().collect();
            items.sort_by(|a, b| a.sku.cmp(&b.sku));
            let items: Vec<String> = items
                .iter()
                .map(|i| format!("{}:{}:{}", i.sku, i.qty, i.price_cents))
                .collect();
            (
                graph.customer.as_str(),
                format!(
                    "pending;{};{};{};{ORDER_ENTITY}:{AUDIT_ACTION}:null",
                    graph.total_cents,
                    graph.note,
                    items.join(",")
                ),
            )
        });
        let rows = client.query(ORDER_TREES_SQL, &[&customers]).await?;
        expect_trees("orders", &rows, expected)
    }

    /// Child rows: the items (the audit rows are not counted).
    fn rows(&self, n: usize) -> usize {
        n.saturating_mul(ITEMS_PER_ORDER)
    }

    async fn reset(&self, client: &Client) -> Result<()> {
        client
            .batch_execute(
                r#"TRUNCATE "orders", "order_items", "shipping_addresses", "audit_logs" CASCADE"#,
            )
            .await?;
        Ok(())
    }
}

/// The untimed side of the author case.
#[derive(Default)]
struct AuthorBatches {
    /// Numbers the calls, for unique tags (and so unique e-mail addresses).
    next: AtomicU64,
}

impl Workload for AuthorBatches {
    type Input = Authors;

    async fn prepare(&self, _client: &Client, n: usize) -> Result<Authors> {
        let call = self.next.fetch_add(1, Ordering::Relaxed);
        Ok((0..n).map(|graph| author_input(call, graph)).collect())
    }

    /// The tables hold the checked call's rows alone (see [`OrderBatches::verify`]): M users,
    /// `POSTS_PER_AUTHOR` × M posts, `COMMENTS_PER_POST` times as many comments; then every
    /// author's name, posts and their comments against its graph's.
    async fn verify(&self, client: &Client, graphs: &Authors) -> Result<()> {
        let counts = client
            .query_one(
                r#"SELECT (SELECT count(*) FROM "users"), (SELECT count(*) FROM "posts"),
                          (SELECT count(*) FROM "comments")"#,
                &[],
            )
            .await?;
        let m = graphs.len() as i64;
        let posts = m * POSTS_PER_AUTHOR as i64;
        expect_equal(
            "rows in users, posts, comments",
            (
                counts.try_get::<_, i64>(0)?,
                counts.try_get::<_, i64>(1)?,
                counts.try_get::<_, i64>(2)?,
            ),
            (m, posts, posts * COMMENTS_PER_POST as i64),
        )?;
        let emails: Vec<&str> = graphs.iter().map(|g| g.email.as_str()).collect();
        let expected = graphs.iter().map(|graph| {
            let mut posts: Vec<&PostInput> = graph.posts.iter().collect();
            posts.sort_by(|a, b| a.title.cmp(&b.title));
            let posts: Vec<String> = posts
                .iter()
                .map(|post| {
                    let mut comments: Vec<&CommentInput> = post.comments.iter().collect();
                    comments.sort_by(|a, b| a.body.cmp(&b.body));
                    let comments: Vec<String> = comments
                        .iter()
                        .map(|c| format!("{}:{}", c.author, c.body))
                        .collect();
                    format!("{}:{}[{}]", post.title, post.body, comments.join(","))
                })
                .collect();
            (
                graph.email.as_str(),
                format!("{}|{}", graph.name, posts.join(";")),
            )
        });
        let rows = client.query(AUTHOR_TREES_SQL, &[&emails]).await?;
        expect_trees("users", &rows, expected)
    }

    /// Child rows: the posts and their comments.
    fn rows(&self, n: usize) -> usize {
        n.saturating_mul(POSTS_PER_AUTHOR * (1 + COMMENTS_PER_POST))
    }

    async fn reset(&self, client: &Client) -> Result<()> {
        client
            .batch_execute(r#"TRUNCATE "comments", "post_tags", "posts", "users" CASCADE"#)
            .await?;
        Ok(())
    }
}

/// Compares the roots' rows (key, rendered tree) read back with the expected ones, one per
/// graph: as many roots as graphs, each key once, each tree equal to its graph's.
fn expect_trees<'a>(
    roots: &str,
    rows: &[tokio_postgres::Row],
    expected: impl Iterator<Item = (&'a str, String)>,
) -> Result<()> {
    let mut found: HashMap<String, String> = HashMap::with_capacity(rows.len());
    for row in rows {
        let key: String = row.try_get(0)?;
        let tree: String = row.try_get(1)?;
        if found.insert(key.clone(), tree).is_some() {
            return Err(format!("{roots}: `{key}` written more than once").into());
        }
    }
    let mut graphs = 0;
    for (index, (key, tree)) in expected.enumerate() {
        graphs += 1;
        match found.get(key) {
            None => return Err(format!("{roots}: graph {index} (`{key}`) not written").into()),
            Some(found) if *found != tree => {
                return Err(format!(
                    "{roots}: graph {index} (`{key}`): found `{found}` where `{tree}` was expected"
                )
                .into())
            }
            Some(_) => {}
        }
    }
    expect_equal(
        &format!("{roots} of the call's graphs"),
        found.len(),
        graphs,
    )
}

/// The check after the order case's run, over every call since the last reset:
/// `ITEMS_PER_ORDER` items and one audit row per order, every item under the order of its
/// own tag.
async fn check_order_tables(client: &Client) -> Result<String> {
    let row = client
        .query_one(
            r#"SELECT (SELECT count(*) FROM "orders"),
                      (SELECT count(*) FROM "order_items"),
                      (SELECT count(*) FROM "audit_logs"),
                      (SELECT count(*) FROM "order_items" i JOIN "orders" o ON o."id" = i."order_id"
                        WHERE split_part(i."sku", '/', 1) <> split_part(o."customer", ' ', 2)),
                      (SELECT count(*) FROM "audit_logs" a JOIN "orders" o
                         ON a."entity_id" = o."id"::text)"#,
            &[],
        )
        .await?;
    let (orders, items, audits, misplaced, audited): (i64, i64, i64, i64, i64) = (
        row.try_get(0)?,
        row.try_get(1)?,
        row.try_get(2)?,
        row.try_get(3)?,
        row.try_get(4)?,
    );
    expect_equal(
        "after the run: items, audit rows, misplaced items, audit rows naming an order",
        (items, audits, misplaced, audited),
        (orders * ITEMS_PER_ORDER as i64, orders, 0, orders),
    )?;
    Ok(format!(
        "{ORDER_SCENARIO}: after the run, the tables hold {orders} orders, {items} items and \
         {audits} audit rows since the last reset, each item under its own order and each \
         audit row naming one"
    ))
}

/// The check after the author case's run, over every call since the last reset:
/// `POSTS_PER_AUTHOR` posts per user, `COMMENTS_PER_POST` comments per post, every post under
/// the user of its own tag and every comment under its own post.
async fn check_author_tables(client: &Client) -> Result<String> {
    let row = client
        .query_one(
            r#"SELECT (SELECT count(*) FROM "users"),
                      (SELECT count(*) FROM "posts"),
                      (SELECT count(*) FROM "comments"),
                      (SELECT count(*) FROM "posts" p JOIN "users" u ON u."id" = p."author_id"
                        WHERE split_part(p."title", ' ', 1) <> split_part(u."name", ' ', 2)),
                      (SELECT count(*) FROM "comments" c JOIN "posts" p ON p."id" = c."post_id"
                        WHERE left(c."body", length(p."title") + 1) <> p."title" || ' ')"#,
            &[],
        )
        .await?;
    let (users, posts, comments, misplaced_posts, misplaced_comments): (i64, i64, i64, i64, i64) = (
        row.try_get(0)?,
        row.try_get(1)?,
        row.try_get(2)?,
        row.try_get(3)?,
        row.try_get(4)?,
    );
    let per_user = POSTS_PER_AUTHOR as i64;
    expect_equal(
        "after the run: posts, comments, misplaced posts, misplaced comments",
        (posts, comments, misplaced_posts, misplaced_comments),
        (
            users * per_user,
            users * per_user * COMMENTS_PER_POST as i64,
            0,
            0,
        ),
    )?;
    Ok(format!(
        "{AUTHOR_SCENARIO}: after the run, the tables hold {users} users, {posts} posts and \
         {comments} comments since the last reset, each post under its own user and each \
         comment under its own post"
    ))
}

fn expect_equal<T: PartialEq + Debug>(what: &str, found: T, expected: T) -> Result<()> {
    if found == expected {
        Ok(())
    } else {
        Err(format!("{what}: expected {expected:?}, found {found:?}").into())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_cases_name_their_shape() {
        assert!(ORDER_SCENARIO.contains(&format!("({ITEMS_PER_ORDER} items + audit)")));
        assert!(AUTHOR_SCENARIO.contains(&format!(
            "({POSTS_PER_AUTHOR} posts x {COMMENTS_PER_POST} comments)"
        )));
        assert!(ORDER_SCENARIO.starts_with(INSERT_GRAPH_MANY));
        assert!(AUTHOR_SCENARIO.starts_with(INSERT_GRAPH_MANY));
    }

    #[test]
    fn trigger_times_are_summed() {
        let plan = [
            "Planning Time: 0.181 ms",
            "Trigger for constraint posts_author_id_fkey on posts: time=7.342 calls=2000",
            "Trigger for constraint comments_post_id_fkey on comments: time=14.180 calls=4000",
            "Execution Time: 42.974 ms",
        ]
        .map(String::from);
        assert!((trigger_ms(&plan) - 21.522).abs() < 1e-9);
        assert_eq!(trigger_ms(&plan[..1]), 0.0);
    }

    #[test]
    fn child_rows_per_call() {
        assert_eq!(OrderBatches::default().rows(100), 1_000);
        assert_eq!(AuthorBatches::default().rows(1_000), 6_000);
    }

    /// The after-run checks find a row's root by the tag its values carry.
    #[test]
    fn every_row_carries_its_graphs_tag() {
        let order = order_input(12, 34);
        let tag = order
            .customer
            .split(' ')
            .nth(1)
            .expect("customer `many <tag>`");
        assert_eq!(tag, "000012-00034");
        assert_eq!(order.items.len(), ITEMS_PER_ORDER);
        assert!(order
            .items
            .iter()
            .all(|item| item.sku.split('/').next() == Some(tag)));
        let mut skus: Vec<&str> = order.items.iter().map(|i| i.sku.as_str()).collect();
        skus.dedup();
        assert_eq!(skus.len(), ITEMS_PER_ORDER);

        let author = author_input(12, 34);
        assert_eq!(author.name.split(' ').nth(1), Some(tag));
        assert_eq!(author.posts.len(), POSTS_PER_AUTHOR);
        for post in &author.posts {
            assert_eq!(post.title.split(' ').next(), Some(tag));
            assert_eq!(post.comments.len(), COMMENTS_PER_POST);
            assert!(post
                .comments
                .iter()
                .all(|c| c.body.starts_with(&format!("{} ", post.title))));
        }
        // No post's title begins another's comments.
        let first = &author.posts[0];
        assert!(!author.posts[1].comments[0]
            .body
            .starts_with(&format!("{} ", first.title)));
    }
}
