//! The promises every write keeps, whatever the client and whatever the connection went
//! through: a graph that locks its root holds the lock for its whole statement; generated code
//! never commits or rolls back a transaction it did not open; `Err` means nothing was written
//! (a statement the server dropped is prepared again and retried only when it certainly did
//! not run); a result the code cannot read after the schema changed is its own error.
//!
//! Every test gets its own database and reads back, with plain SQL, the rows it claims.

use std::sync::Arc;

use tokio_postgres::Client;
use writegraph::{CachedClient, Error};
use writegraph_example::{NewOrderGraph, NewOrderItemForOrder, OrderPatchGraph, SCHEMA_SQL};
use writegraph_testing::{self as testing, TestDatabase};

type TestResult<T = ()> = Result<T, Box<dyn std::error::Error>>;

/// `(sku, qty, price_cents)` of an item row.
type Item = (String, i32, i64);

async fn shop() -> TestResult<(TestDatabase, Client)> {
    let db = testing::database_with_schema(SCHEMA_SQL).await?;
    let client = db.connect().await?;
    Ok((db, client))
}

fn new_item(sku: &str, qty: i32, price_cents: i64) -> NewOrderItemForOrder {
    NewOrderItemForOrder::new(sku, qty).with_price_cents(price_cents)
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

async fn count(client: &Client, sql: &str) -> TestResult<i64> {
    Ok(client.query_one(sql, &[]).await?.get(0))
}

/// Task `t`'s items: skus `t`, `t+1`, `t+2` (overlapping the neighbours' sets), qty `t + 1`.
fn task_items(task: i32) -> Vec<NewOrderItemForOrder> {
    (task..task + 3)
        .map(|n| new_item(&format!("S{n:02}"), task + 1, i64::from(task)))
        .collect()
}

fn task_set(task: i32) -> Vec<Item> {
    (task..task + 3)
        .map(|n| (format!("S{n:02}"), task + 1, i64::from(task)))
        .collect()
}

// ---------------------------------------------------------------------------------------
// The lock is held for the whole statement
// ---------------------------------------------------------------------------------------

/// The kinds of client a locking graph runs on.
#[derive(Debug, Clone, Copy)]
enum Kind {
    Client,
    Transaction,
    CachedClient,
    CachedTransaction,
}

const KINDS: [Kind; 4] = [
    Kind::Client,
    Kind::Transaction,
    Kind::CachedClient,
    Kind::CachedTransaction,
];

/// Runs `graph` on `order` through a client of `kind` made from `client`, committing when
/// the kind is a transaction, and gives the connection back. A cached kind first runs
/// another patch (of `warm_up`), so that its cache holds the lock but not this patch's
/// statement (the text depends on which root columns a patch sets), and gets a fresh cache
/// every time.
async fn patch_on(
    kind: Kind,
    mut client: Client,
    graph: OrderPatchGraph,
    warm_up: i64,
    order: i64,
) -> (Client, writegraph::Result<u64>) {
    let warm = || OrderPatchGraph::default().with_note("warm");
    match kind {
        Kind::Client => {
            let written = graph.update_by_id_graph(&mut client, &order).await;
            (client, written)
        }
        Kind::Transaction => {
            let written = async {
                let tx = client.transaction().await?;
                let affected = graph.update_by_id_graph(&tx, &order).await?;
                tx.commit().await?;
                Ok(affected)
            }
            .await;
            (client, written)
        }
        Kind::CachedClient | Kind::CachedTransaction => {
            let mut cached = CachedClient::new(client);
            let written = async {
                warm().update_by_id_graph(&mut cached, &warm_up).await?;
                if matches!(kind, Kind::CachedClient) {
                    return graph.update_by_id_graph(&mut cached, &order).await;
                }
                let tx = cached.transaction().await?;
                let affected = graph.update_by_id_graph(&tx, &order).await?;
                tx.commit().await?;
                Ok(affected)
            }
            .await;
            (cached.into_inner(), written)
        }
    }
}

/// 16 tasks diff one order's items at once, 20 rounds, on every kind of client: every round
/// must end with exactly one task's set.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_locked_diffs_apply_one_after_the_other_on_every_client() -> TestResult {
    const TASKS: i32 = 16;
    const ROUNDS: usize = 20;
    let (db, client) = shop().await?;
    let mut connections = Vec::new();
    for _ in 0..TASKS {
        connections.push(db.connect().await?);
    }
    let expected: Vec<Vec<Item>> = (0..TASKS).map(task_set).collect();
    let scratch = NewOrderGraph::new("scratch")
        .insert_graph_returning(&client)
        .await?
        .id;
    for kind in KINDS {
        for round in 0..ROUNDS {
            let order = NewOrderGraph::new(format!("{kind:?} round {round}"))
                .with_items([new_item("S00", 9, 9), new_item("OLD", 9, 9)])
                .insert_graph_returning(&client)
                .await?
                .id;
            let barrier = Arc::new(tokio::sync::Barrier::new(TASKS as usize));
            let mut tasks = Vec::new();
            for (task, connection) in (0..TASKS).zip(connections.drain(..)) {
                let barrier = Arc::clone(&barrier);
                tasks.push(tokio::spawn(async move {
                    barrier.wait().await;
                    let graph = OrderPatchGraph::default().with_items(task_items(task));
                    patch_on(kind, connection, graph, scratch, order).await
                }));
            }
            for task in tasks {
                let (connection, written) = task.await?;
                written.map_err(|e| format!("{kind:?}: {e}"))?;
                connections.push(connection);
            }
            let stored = items(&client, order).await?;
            assert!(
                expected.contains(&stored),
                "{kind:?}, round {round}: the items are no task's set: {stored:?}"
            );
        }
    }
    Ok(())
}

// ---------------------------------------------------------------------------------------
// The caller's transaction is the caller's
// ---------------------------------------------------------------------------------------

/// A caller opens a transaction with SQL, writes a row, runs a locking graph and rolls back:
/// neither the row nor the graph's writes remain.
#[tokio::test]
async fn a_locking_graph_leaves_a_transaction_opened_with_sql_to_its_caller() -> TestResult {
    let (_db, mut client) = shop().await?;
    let order = NewOrderGraph::new("alice")
        .with_items([new_item("A", 1, 100)])
        .insert_graph_returning(&client)
        .await?
        .id;
    client.batch_execute("BEGIN").await?;
    client
        .execute(
            "INSERT INTO audit_logs (entity, action) VALUES ('order', 'caller')",
            &[],
        )
        .await?;
    OrderPatchGraph::default()
        .with_total_cents(5)
        .with_items([new_item("B", 2, 200)])
        .update_by_id_graph(&mut client, &order)
        .await?;
    client.batch_execute("ROLLBACK").await?;

    assert_eq!(count(&client, "SELECT count(*) FROM audit_logs").await?, 0);
    assert_eq!(items(&client, order).await?, vec![("A".into(), 1, 100)]);
    assert_eq!(
        count(&client, "SELECT total_cents FROM orders").await?,
        0,
        "the root patch was rolled back with the caller's transaction"
    );
    Ok(())
}

// ---------------------------------------------------------------------------------------
// Err means nothing was written; a dropped statement is retried only when it did not run
// ---------------------------------------------------------------------------------------

/// What a pooler or a connection reset does to the statements a `CachedClient` prepared.
async fn drop_prepared_statements(cached: &CachedClient, how: &str) -> TestResult {
    cached.batch_execute(how).await?;
    assert_eq!(prepared_statements(cached).await?, 0, "{how}");
    Ok(())
}

/// Statements prepared on the connection (asked with a simple query, which prepares none).
async fn prepared_statements(client: &Client) -> TestResult<i64> {
    let messages = client
        .simple_query("SELECT count(*) FROM pg_prepared_statements")
        .await?;
    for message in messages {
        if let tokio_postgres::SimpleQueryMessage::Row(row) = message {
            return Ok(row.get(0).ok_or("no count")?.parse()?);
        }
    }
    Err("no row".into())
}

#[tokio::test]
async fn cached_writes_after_deallocate_all_or_discard_all_run_exactly_once() -> TestResult {
    let (db, client) = shop().await?;
    let mut cached = CachedClient::new(db.connect().await?);
    let order = NewOrderGraph::new("alice")
        .with_items([new_item("A", 1, 100)])
        .insert_graph_returning(&cached)
        .await?
        .id;
    // Every statement below is in the cache once.
    OrderPatchGraph::default()
        .with_items([new_item("B", 2, 200)])
        .update_by_id_graph(&mut cached, &order)
        .await?;
    new_item("X", 1, 1)
        .with_order_id(order)
        .insert(&cached)
        .await?;

    for (round, how) in ["DEALLOCATE ALL", "DISCARD ALL"].into_iter().enumerate() {
        drop_prepared_statements(&cached, how).await?;
        let sku = format!("L{round}");
        OrderPatchGraph::default()
            .with_items([new_item(&sku, 3, 300)])
            .update_by_id_graph(&mut cached, &order)
            .await
            .map_err(|e| format!("locking graph after {how}: {e}"))?;
        assert_eq!(items(&client, order).await?, vec![(sku, 3, 300)], "{how}");
        if round == 0 {
            // One reset is no sign of a transaction pooler: the statements are prepared again.
            assert!(!cached.behind_transaction_pooler(), "{how}");
        }

        drop_prepared_statements(&cached, how).await?;
        NewOrderGraph::new(format!("after {how}"))
            .with_items([new_item("G", 1, 1)])
            .insert_graph(&cached)
            .await
            .map_err(|e| format!("insert graph after {how}: {e}"))?;
        let written = format!("SELECT count(*) FROM orders WHERE customer = 'after {how}'");
        assert_eq!(count(&client, &written).await?, 1, "{how}");

        drop_prepared_statements(&cached, how).await?;
        new_item(&format!("Y{round}"), 1, 1)
            .with_order_id(order)
            .insert(&cached)
            .await
            .map_err(|e| format!("insert after {how}: {e}"))?;
        let written = format!("SELECT count(*) FROM order_items WHERE sku = 'Y{round}'");
        assert_eq!(count(&client, &written).await?, 1, "{how}");
    }
    Ok(())
}

/// In a transaction the caller opened with SQL (`BEGIN`), a statement the server dropped
/// aborts the transaction: the error returned is that one, which says why and what to do,
/// not the "transaction is aborted" of running it again; and nothing is written.
#[tokio::test]
async fn a_dropped_statement_in_a_transaction_opened_with_sql_returns_why() -> TestResult {
    let (db, client) = shop().await?;
    let cached = CachedClient::new(db.connect().await?);
    let graph = |customer: &str| NewOrderGraph::new(customer).with_items([new_item("A", 1, 100)]);
    graph("alice").insert_graph(&cached).await?;

    cached.batch_execute("BEGIN").await?;
    new_item("B", 1, 1)
        .with_order_id(1)
        .insert(cached.client())
        .await?;
    cached.batch_execute("DEALLOCATE ALL").await?;
    let error = match graph("bob").insert_graph(&cached).await {
        Ok(report) => return Err(format!("expected an error, got {report:?}").into()),
        Err(error) => error,
    };
    cached.batch_execute("ROLLBACK").await?;
    let text = error.to_string();
    assert!(error.is_lost_prepared_statement(), "{text}");
    assert!(
        text.contains("PostgreSQL ran nothing of this statement"),
        "{text}"
    );
    assert!(text.contains("In a transaction, roll it back"), "{text}");
    assert_eq!(count(&client, "SELECT count(*) FROM orders").await?, 1);
    assert_eq!(count(&client, "SELECT count(*) FROM order_items").await?, 1);
    // The next write prepares the statement again.
    graph("carol").insert_graph(&cached).await?;
    assert_eq!(
        count(
            &client,
            "SELECT count(*) FROM orders WHERE customer = 'carol'"
        )
        .await?,
        1
    );
    Ok(())
}

/// A change of a result column's type makes the server refuse a prepared statement with
/// 0A000 ("cached plan must not change result type") before running it: the client prepares
/// it again and runs it once.
#[tokio::test]
async fn a_cached_statement_whose_result_type_changed_is_prepared_again() -> TestResult {
    let (db, client) = shop().await?;
    let mut cached = CachedClient::new(db.connect().await?);
    let first = NewOrderGraph::new("alice")
        .with_note("one")
        .with_items([new_item("A", 1, 100)])
        .insert_graph_returning(&cached)
        .await?;
    OrderPatchGraph::default()
        .with_note("patched")
        .update_by_id_graph(&mut cached, &first.id)
        .await?;

    client
        .batch_execute("ALTER TABLE orders ALTER COLUMN note TYPE varchar(500)")
        .await?;
    let second = NewOrderGraph::new("bob")
        .with_note("two")
        .with_items([new_item("B", 1, 100)])
        .insert_graph_returning(&cached)
        .await
        .map_err(|e| format!("insert graph after the type change: {e}"))?;
    assert_eq!(second.note.as_deref(), Some("two"));
    let patched = OrderPatchGraph::default()
        .with_note("again")
        .update_by_id_graph_returning(&mut cached, &first.id)
        .await
        .map_err(|e| format!("locking graph after the type change: {e}"))?;
    assert_eq!(patched.note.as_deref(), Some("again"));
    assert_eq!(
        count(
            &client,
            "SELECT count(*) FROM orders WHERE customer = 'bob'"
        )
        .await?,
        1
    );
    assert_eq!(
        count(&client, "SELECT count(*) FROM order_items").await?,
        2,
        "each graph's item written once"
    );
    Ok(())
}

// ---------------------------------------------------------------------------------------
// A result the code cannot read
// ---------------------------------------------------------------------------------------

/// After `ALTER COLUMN ... TYPE integer` on a column the code reads as `i64`, the write still
/// runs (and commits); reading its result back fails with an error that says so, names the
/// column and both types, and says to regenerate.
#[tokio::test]
async fn a_result_the_code_cannot_read_is_a_decode_error_that_says_the_write_committed(
) -> TestResult {
    let (_db, client) = shop().await?;
    client
        .batch_execute("ALTER TABLE orders ALTER COLUMN total_cents TYPE integer")
        .await?;
    let error = match NewOrderGraph::new("alice")
        .with_items([new_item("A", 1, 100)])
        .insert_graph_returning(&client)
        .await
    {
        Ok(order) => return Err(format!("expected a decode error, got {order:?}").into()),
        Err(error) => error,
    };
    let text = error.to_string();
    for part in [
        "public.orders",
        "total_cents",
        "i64",
        "int4",
        "committed",
        "regenerate",
    ] {
        assert!(text.contains(part), "`{part}` missing from: {text}");
    }
    match &error {
        Error::Decode {
            table,
            column,
            rust_type,
            sql_type,
            found,
            ..
        } => assert_eq!(
            (*table, *column, *rust_type, *sql_type, found.as_str()),
            ("public.orders", "total_cents", "i64", "bigint", "int4")
        ),
        other => return Err(format!("expected Error::Decode, got {other:?}").into()),
    }
    assert_eq!(
        count(&client, "SELECT count(*) FROM orders").await?,
        1,
        "the write committed, as the error says"
    );
    assert_eq!(count(&client, "SELECT count(*) FROM order_items").await?, 1);
    Ok(())
}

/// Behind a transaction pooler, a server connection may hold another process's statement
/// under the name a statement cache gives one of its own, and bind and run it. Here that
/// statement, prepared under the cached graph statement's name, writes nothing and returns
/// text where the graph returns its counts: the error says that another statement ran.
#[tokio::test]
async fn a_statement_that_ran_another_under_its_name_says_so() -> TestResult {
    use tokio_postgres::types::Type;
    use writegraph::InsertGraph;

    let (db, client) = shop().await?;
    let cached = CachedClient::new(db.connect().await?);
    let graph = |customer: &str| NewOrderGraph::new(customer).with_items([new_item("A", 1, 100)]);
    graph("alice").insert_graph(&cached).await?;

    let sql = <NewOrderGraph as InsertGraph>::SQL;
    let name: String = cached
        .client()
        .query_typed(
            "SELECT name FROM pg_prepared_statements WHERE statement = $1",
            &[(&sql, Type::TEXT)],
        )
        .await?
        .first()
        .ok_or("the graph statement is not prepared")?
        .get(0);
    let shape = client.prepare(sql).await?;
    let types: Vec<&str> = shape.params().iter().map(Type::name).collect();
    let columns = vec!["'another statement'::text"; shape.columns().len()];
    cached
        .batch_execute(&format!(
            "DEALLOCATE \"{name}\"; PREPARE \"{name}\" ({}) AS SELECT {}",
            types.join(", "),
            columns.join(", ")
        ))
        .await?;

    let error = match graph("bob").insert_graph(&cached).await {
        Ok(report) => return Err(format!("expected an error, got {report:?}").into()),
        Err(error) => error,
    };
    assert!(
        matches!(error, Error::ForeignStatement { .. }),
        "expected Error::ForeignStatement, got {error:?}"
    );
    let text = error.to_string();
    for part in [
        "the server ran a statement other than this one",
        "transaction pooler",
        "What that statement wrote is unknown",
        "max_prepared_statements",
    ] {
        assert!(text.contains(part), "`{part}` missing from: {text}");
    }
    assert!(!error.is_lost_prepared_statement(), "it ran: {text}");
    assert_eq!(
        count(
            &client,
            "SELECT count(*) FROM orders WHERE customer = 'bob'"
        )
        .await?,
        0,
        "the other statement wrote nothing"
    );
    assert_eq!(count(&client, "SELECT count(*) FROM orders").await?, 1);
    Ok(())
}

// ---------------------------------------------------------------------------------------
// The statement cache
// ---------------------------------------------------------------------------------------

/// The texts of the statements prepared on the connection.
async fn prepared_texts(client: &Client) -> TestResult<Vec<String>> {
    let mut texts = Vec::new();
    for message in client
        .simple_query("SELECT statement FROM pg_prepared_statements ORDER BY statement")
        .await?
    {
        if let tokio_postgres::SimpleQueryMessage::Row(row) = message {
            texts.push(row.get(0).ok_or("no text")?.to_owned());
        }
    }
    Ok(texts)
}

/// The cache holds at most its capacity, drops the least recently used statement and closes
/// it on the server; the default capacity is 256.
#[tokio::test]
async fn the_statement_cache_is_bounded_and_closes_what_it_evicts() -> TestResult {
    let (db, client) = shop().await?;
    assert_eq!(writegraph::DEFAULT_CAPACITY, 256);
    let cached = CachedClient::with_capacity(db.connect().await?, 2);
    let order = NewOrderGraph::new("alice")
        .insert_graph_returning(&client)
        .await?
        .id;
    // Three statements: a find, an insert, an insert graph; the find is the least recently
    // used when the graph needs its place.
    writegraph_example::Order::find_by_id(&cached, &order).await?;
    let first = prepared_texts(&cached).await?;
    assert_eq!(first.len(), 1, "{first:?}");
    new_item("A", 1, 1)
        .with_order_id(order)
        .insert(&cached)
        .await?;
    assert_eq!(cached.cached_statements(), 2);
    assert_eq!(prepared_texts(&cached).await?.len(), 2);

    NewOrderGraph::new("bob")
        .with_items([new_item("B", 1, 1)])
        .insert_graph(&cached)
        .await?;
    assert_eq!(cached.cached_statements(), 2);
    let after = prepared_texts(&cached).await?;
    assert_eq!(after.len(), 2, "{after:?}");
    assert!(
        !after.contains(&first[0]),
        "the evicted statement is closed on the server: {after:?}"
    );
    // An evicted statement is prepared again when it is used again.
    writegraph_example::Order::find_by_id(&cached, &order).await?;
    assert!(prepared_texts(&cached).await?.contains(&first[0]));
    assert_eq!(prepared_texts(&cached).await?.len(), 2);
    assert_eq!(cached.prepared_statements(), 4);
    // Every write ran once.
    assert_eq!(count(&client, "SELECT count(*) FROM order_items").await?, 2);
    Ok(())
}
/// Tasks that first use one statement at the same time prepare it once.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_first_uses_of_a_statement_prepare_it_once() -> TestResult {
    const TASKS: usize = 16;
    let (db, client) = shop().await?;
    let order = NewOrderGraph::new("alice")
        .insert_graph_returning(&client)
        .await?
        .id;
    let cached = Arc::new(CachedClient::new(db.connect().await?));
    let barrier = Arc::new(tokio::sync::Barrier::new(TASKS));
    let mut tasks = Vec::new();
    for task in 0..TASKS {
        let (cached, barrier) = (Arc::clone(&cached), Arc::clone(&barrier));
        tasks.push(tokio::spawn(async move {
            barrier.wait().await;
            new_item(&format!("T{task}"), 1, 1)
                .with_order_id(order)
                .insert(&*cached)
                .await
        }));
    }
    for task in tasks {
        task.await??;
    }
    assert_eq!(cached.prepared_statements(), 1, "one prepare");
    let texts = prepared_texts(&cached).await?;
    assert_eq!(texts.len(), 1, "one prepared statement: {texts:?}");
    assert_eq!(cached.cached_statements(), 1);
    assert_eq!(
        count(&client, "SELECT count(*) FROM order_items").await?,
        TASKS as i64
    );
    Ok(())
}
