//! Writes through pgbouncer in transaction pooling mode, on every kind of client (plain,
//! cached, and the connections of a deadpool or bb8 pool, each also in a transaction): 8 clients
//! share 2 server connections, insert graphs and run locked diffs on one order, then the
//! application "restarts" (every client dropped, new ones opened) onto server connections that
//! still hold the statements the previous process prepared. After each run the database is
//! compared with what every call returned: an `Ok` insert is committed with its rows, an `Err`
//! insert left nothing, every error names the pooler and says what to do, and the order ends
//! with the items of the task its note names.
//!
//! Which server connection each statement lands on depends on scheduling there, so whether a
//! given `CachedClient` notices the pooler in that run does too. That it does whenever a
//! statement lands on a server connection it was not prepared on is proven apart, with the
//! server connections handed out in a fixed order: one held in a transaction by another
//! client, so that every statement goes to the other.

mod pgbouncer;

use std::collections::BTreeMap;

use tokio_postgres::Client;
use writegraph::CachedClient;
use writegraph_example::{NewOrderGraph, NewOrderItemForOrder, OrderPatchGraph, SCHEMA_SQL};
use writegraph_testing::TestDatabase;

use pgbouncer::PgBouncer;

type TestResult<T = ()> = Result<T, Box<dyn std::error::Error>>;

const CLIENTS: usize = 8;
/// Calls per client and run; `WRITEGRAPH_PGBOUNCER_WRITES` asks for a longer run by hand.
const WRITES: usize = 20;

fn writes_per_client() -> usize {
    std::env::var("WRITEGRAPH_PGBOUNCER_WRITES")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(WRITES)
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Kind {
    Client,
    Transaction,
    CachedClient,
    CachedTransaction,
    /// A deadpool-postgres connection, with deadpool's statement cache.
    Deadpool,
    /// A transaction of one.
    DeadpoolTransaction,
    /// A bb8 connection of bb8-postgres (statements unnamed, as on a `Client`).
    Bb8,
}

type Bb8Connection =
    bb8::PooledConnection<'static, bb8_postgres::PostgresConnectionManager<tokio_postgres::NoTls>>;

/// A connection through pgbouncer, as a client of one kind.
enum Conn {
    Plain(Client),
    Cached(CachedClient),
    Deadpool(deadpool_postgres::Object),
    Bb8(Bb8Connection),
}

/// What one call returned.
enum Outcome {
    /// An insert graph: the customer it wrote and the id it returned, or its error.
    Insert(String, Result<i64, String>),
    /// A locked diff.
    Diff(Result<(), String>),
}

/// Counts per client kind, for the report.
#[derive(Debug, Default, Clone, Copy)]
struct Tally {
    writes: usize,
    errors: usize,
    ok_not_committed: usize,
    err_committed: usize,
    wrong_sets: usize,
    /// Errors whose message does not name the pooler and say what to do.
    errors_without_help: usize,
    /// `CachedClient`s that noticed the pooler (reported; it depends on scheduling).
    noticed: usize,
    /// Inserts whose statement ran another client's statement of the same name, left on a
    /// server connection by the previous process (deadpool: reported, as it depends on
    /// scheduling which statement a name finds).
    foreign_runs: usize,
}

fn items_of(task: usize) -> Vec<NewOrderItemForOrder> {
    (task..task + 3)
        .map(|n| {
            NewOrderItemForOrder::new(format!("S{n:02}"), task as i32 + 1)
                .with_price_cents(n as i64)
        })
        .collect()
}

fn set_of(task: usize) -> Vec<(String, i32)> {
    (task..task + 3)
        .map(|n| (format!("S{n:02}"), task as i32 + 1))
        .collect()
}

async fn insert(kind: Kind, conn: &mut Conn, customer: &str) -> writegraph::Result<i64> {
    let graph = NewOrderGraph::new(customer).with_items([
        NewOrderItemForOrder::new("A", 1).with_price_cents(1),
        NewOrderItemForOrder::new("B", 2).with_price_cents(2),
    ]);
    match (kind, conn) {
        (Kind::Client, Conn::Plain(client)) => Ok(graph.insert_graph_returning(&*client).await?.id),
        (Kind::Transaction, Conn::Plain(client)) => {
            let tx = client.transaction().await?;
            let id = graph.insert_graph_returning(&tx).await?.id;
            tx.commit().await?;
            Ok(id)
        }
        (Kind::CachedClient, Conn::Cached(cached)) => {
            Ok(graph.insert_graph_returning(&*cached).await?.id)
        }
        (_, Conn::Cached(cached)) => {
            let tx = cached.transaction().await?;
            let id = graph.insert_graph_returning(&tx).await?.id;
            tx.commit().await?;
            Ok(id)
        }
        (Kind::DeadpoolTransaction, Conn::Deadpool(object)) => {
            let tx = object.transaction().await?;
            let id = graph.insert_graph_returning(&tx).await?.id;
            tx.commit().await?;
            Ok(id)
        }
        (_, Conn::Deadpool(object)) => Ok(graph.insert_graph_returning(&*object).await?.id),
        (_, Conn::Bb8(conn)) => Ok(graph.insert_graph_returning(&*conn).await?.id),
        (_, Conn::Plain(_)) => unreachable!("a cached kind on a plain client"),
    }
}

async fn diff(kind: Kind, conn: &mut Conn, task: usize, order: i64) -> writegraph::Result<()> {
    let graph = OrderPatchGraph::default()
        .with_note(format!("task {task}"))
        .with_items(items_of(task));
    match (kind, conn) {
        (Kind::Client, Conn::Plain(client)) => {
            graph.update_by_id_graph(client, &order).await.map(drop)
        }
        (Kind::Transaction, Conn::Plain(client)) => {
            let tx = client.transaction().await?;
            graph.update_by_id_graph(&tx, &order).await?;
            tx.commit().await.map_err(Into::into)
        }
        (Kind::CachedClient, Conn::Cached(cached)) => {
            graph.update_by_id_graph(cached, &order).await.map(drop)
        }
        (_, Conn::Cached(cached)) => {
            let tx = cached.transaction().await?;
            graph.update_by_id_graph(&tx, &order).await?;
            tx.commit().await.map_err(Into::into)
        }
        (Kind::DeadpoolTransaction, Conn::Deadpool(object)) => {
            let tx = object.transaction().await?;
            graph.update_by_id_graph(&tx, &order).await?;
            tx.commit().await.map_err(Into::into)
        }
        (_, Conn::Deadpool(object)) => graph.update_by_id_graph(object, &order).await.map(drop),
        (_, Conn::Bb8(conn)) => graph.update_by_id_graph(conn, &order).await.map(drop),
        (_, Conn::Plain(_)) => unreachable!("a cached kind on a plain client"),
    }
}

/// One application run: `CLIENTS` clients of `kind`, [`writes_per_client`] calls each, alternating
/// inserts and locked diffs of `order`.
async fn run(
    bouncer: &PgBouncer,
    db: &TestDatabase,
    kind: Kind,
    run: usize,
    order: i64,
) -> TestResult<(Vec<Outcome>, usize)> {
    let mut tasks = Vec::new();
    for task in 0..CLIENTS {
        let mut conn = match kind {
            Kind::Client | Kind::Transaction => Conn::Plain(bouncer.connect(db).await?),
            Kind::CachedClient | Kind::CachedTransaction => {
                Conn::Cached(CachedClient::new(bouncer.connect(db).await?))
            }
            Kind::Deadpool | Kind::DeadpoolTransaction => {
                let manager =
                    deadpool_postgres::Manager::new(bouncer.config(db), tokio_postgres::NoTls);
                let pool = deadpool_postgres::Pool::builder(manager)
                    .max_size(1)
                    .build()?;
                Conn::Deadpool(pool.get().await.map_err(|e| format!("deadpool: {e}"))?)
            }
            Kind::Bb8 => {
                let manager = bb8_postgres::PostgresConnectionManager::new(
                    bouncer.config(db),
                    tokio_postgres::NoTls,
                );
                let pool = bb8::Pool::builder().max_size(1).build(manager).await?;
                Conn::Bb8(pool.get_owned().await.map_err(|e| format!("bb8: {e}"))?)
            }
        };
        let writes = writes_per_client();
        tasks.push(tokio::spawn(async move {
            let mut outcomes = Vec::new();
            for write in 0..writes {
                if write % 2 == 0 {
                    let customer = format!("{kind:?} run {run} task {task} write {write}");
                    let result = insert(kind, &mut conn, &customer).await;
                    outcomes.push(Outcome::Insert(customer, result.map_err(|e| e.to_string())));
                } else {
                    let result = diff(kind, &mut conn, task, order).await;
                    outcomes.push(Outcome::Diff(result.map_err(|e| e.to_string())));
                }
            }
            let noticed = matches!(&conn, Conn::Cached(c) if c.behind_transaction_pooler());
            (outcomes, noticed)
        }));
    }
    let mut outcomes = Vec::new();
    let mut noticed = 0;
    for task in tasks {
        let (more, saw) = task.await?;
        outcomes.extend(more);
        noticed += usize::from(saw);
    }
    Ok((outcomes, noticed))
}

/// Compares the database (read directly, not through pgbouncer) with what the calls returned.
async fn check(
    direct: &Client,
    outcomes: &[Outcome],
    order: i64,
    tally: &mut Tally,
    errors: &mut BTreeMap<String, usize>,
) -> TestResult {
    for outcome in outcomes {
        tally.writes += 1;
        let failed = match outcome {
            Outcome::Insert(customer, result) => {
                let rows = direct
                    .query(
                        "SELECT o.id, array_agg(i.sku ORDER BY i.sku) FROM orders o \
                         JOIN order_items i ON i.order_id = o.id WHERE o.customer = $1 \
                         GROUP BY o.id",
                        &[customer],
                    )
                    .await?;
                let stored: Vec<(i64, Vec<String>)> =
                    rows.iter().map(|r| (r.get(0), r.get(1))).collect();
                match result {
                    Ok(id) => {
                        if stored != [(*id, vec!["A".to_owned(), "B".to_owned()])] {
                            tally.ok_not_committed += 1;
                        }
                    }
                    // A statement that ran another client's statement says so, and that
                    // what it wrote is unknown.
                    Err(error) if is_foreign_run(error) => tally.foreign_runs += 1,
                    Err(_) => {
                        let any: i64 = direct
                            .query_one(
                                "SELECT count(*) FROM orders WHERE customer = $1",
                                &[customer],
                            )
                            .await?
                            .get(0);
                        if any != 0 {
                            tally.err_committed += 1;
                        }
                    }
                }
                result.as_ref().err()
            }
            Outcome::Diff(result) => result.as_ref().err(),
        };
        if let Some(error) = failed {
            tally.errors += 1;
            if !names_the_pooler(error) && !is_foreign_run(error) {
                tally.errors_without_help += 1;
                eprintln!("an error that does not name the pooler: {error}");
            }
            let error = error.replace(|c: char| c.is_ascii_digit(), "");
            *errors.entry(error.chars().take(110).collect()).or_default() += 1;
        }
    }
    let note: Option<String> = direct
        .query_one("SELECT note FROM orders WHERE id = $1", &[&order])
        .await?
        .get(0);
    let items: Vec<(String, i32)> = direct
        .query(
            "SELECT sku, qty FROM order_items WHERE order_id = $1 ORDER BY sku",
            &[&order],
        )
        .await?
        .iter()
        .map(|r| (r.get(0), r.get(1)))
        .collect();
    let expected = match note.as_deref().and_then(|n| n.strip_prefix("task ")) {
        Some(task) => set_of(task.parse()?),
        None => vec![("OLD".to_owned(), 9)],
    };
    if items != expected {
        tally.wrong_sets += 1;
    }
    Ok(())
}

/// The message names the transaction pooler as the likely cause and says what to use instead.
fn names_the_pooler(message: &str) -> bool {
    message.contains("transaction pooler (pgbouncer with `pool_mode = transaction`)")
        && message.contains("use a plain `tokio_postgres::Client`")
        && message.contains("`pool_mode = session`")
        && message.contains("PostgreSQL ran nothing of this statement")
}

/// The message says that the server ran another client's statement of the same name, names
/// the pooler and says what to do.
fn is_foreign_run(message: &str) -> bool {
    message.contains("the server ran a statement other than this one")
        && message.contains("transaction pooler (pgbouncer with `pool_mode = transaction`)")
        && message.contains("What that statement wrote is unknown")
        && message.contains("`max_prepared_statements`")
}

/// What a process that ran before leaves on pgbouncer's server connections: prepared
/// statements named as this process will name its next ones (tokio-postgres counts `s0`,
/// `s1`, ... from the start of each process), for the statements that process prepared.
async fn leave_statements_of_a_previous_process(
    bouncer: &PgBouncer,
    db: &TestDatabase,
    direct: &Client,
) -> TestResult {
    // The name of the statement prepared now is the count so far.
    let probe = direct.prepare("SELECT 1").await?;
    let next: u64 = format!("{probe:?}")
        .split("name: \"s")
        .nth(1)
        .and_then(|rest| rest.split('"').next())
        .ok_or("no statement name")?
        .parse()?;
    // One transaction on each server connection holds it for the whole loop. Only unnamed
    // statements from here on, which leave the count alone.
    let mut clients = Vec::new();
    for _ in 0..pgbouncer::POOL_SIZE {
        let client = bouncer.connect(db).await?;
        client.batch_execute("BEGIN").await?;
        clients.push(client);
    }
    for (server, client) in clients.iter().enumerate() {
        let left: Vec<(String, String)> = client
            .query_typed(
                "SELECT statement, array_to_string(parameter_types::text[], ',') \
                 FROM pg_prepared_statements WHERE NOT from_sql \
                 ORDER BY length(name), name",
                &[],
            )
            .await?
            .iter()
            .map(|r| (r.get(0), r.get(1)))
            .collect();
        // This process's own leftovers (of an earlier kind's runs) make way.
        client.batch_execute("DEALLOCATE ALL").await?;
        if left.is_empty() {
            continue;
        }
        for n in 0..400 {
            let (sql, types) = &left[(n + 1 + server) % left.len()];
            let types = if types.is_empty() {
                String::new()
            } else {
                format!("({types})")
            };
            let name = format!("s{}", next + 1 + n as u64);
            client
                .batch_execute(&format!("PREPARE \"{name}\" {types} AS {sql}"))
                .await?;
        }
    }
    for client in &clients {
        client.batch_execute("COMMIT").await?;
    }
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn every_write_through_pgbouncer_returns_what_it_did() -> TestResult {
    let db = writegraph_testing::database_with_schema(SCHEMA_SQL).await?;
    let Some(bouncer) = pgbouncer::start_or_skip(&db)? else {
        return Ok(());
    };
    let direct = db.connect().await?;
    let mut report = BTreeMap::new();
    let mut messages: BTreeMap<Kind, BTreeMap<String, usize>> = BTreeMap::new();
    for kind in [
        Kind::Client,
        Kind::Transaction,
        Kind::CachedClient,
        Kind::CachedTransaction,
        Kind::Deadpool,
        Kind::DeadpoolTransaction,
        Kind::Bb8,
    ] {
        let order = NewOrderGraph::new(format!("{kind:?} shared"))
            .with_items([NewOrderItemForOrder::new("OLD", 9)])
            .insert_graph_returning(&direct)
            .await?
            .id;
        let mut tally = Tally::default();
        for run_number in 0..2 {
            if run_number > 0 {
                leave_statements_of_a_previous_process(&bouncer, &db, &direct).await?;
            }
            let (outcomes, noticed) = run(&bouncer, &db, kind, run_number, order).await?;
            tally.noticed += noticed;
            let messages = messages.entry(kind).or_default();
            check(&direct, &outcomes, order, &mut tally, messages).await?;
        }
        report.insert(kind, tally);
    }
    for (kind, tally) in &report {
        eprintln!("{kind:?}: {tally:?}");
    }
    for (kind, messages) in &messages {
        for (message, count) in messages {
            eprintln!("{kind:?}: {count:5} × {message}");
        }
    }
    for (kind, tally) in &report {
        assert_eq!(
            (
                tally.ok_not_committed,
                tally.err_committed,
                tally.wrong_sets,
                tally.errors_without_help
            ),
            (0, 0, 0, 0),
            "{kind:?}: {tally:?}"
        );
        match kind {
            // Nothing session-level: pgbouncer changes nothing for them.
            Kind::Client | Kind::Transaction | Kind::Bb8 => assert_eq!(tally.errors, 0, "{kind:?}"),
            // deadpool's cache does not notice the pooler, but a call its server connection
            // refused (a statement it does not have, a name another statement holds) is sent
            // once more unnamed: PostgreSQL ran none of it.
            Kind::Deadpool => assert_eq!(tally.errors, 0, "{kind:?}: {tally:?}"),
            // In a transaction the first such error has aborted it and is returned: a
            // statement lands on a server connection that does not have it about one call in
            // three. Each of those errors names the pooler (asserted above), and nothing of it
            // was written. After the restart, a name may find the previous process's
            // statement, which runs: that error says so and that what it wrote is unknown
            // (asserted above).
            Kind::DeadpoolTransaction => {}
            // Every failed statement was retried (prepared again, then unnamed): PostgreSQL
            // reports a statement it does not have before running anything.
            Kind::CachedClient => assert_eq!(tally.errors, 0, "{kind:?}"),
            // In the caller's transaction the error has aborted it and is returned: at most
            // once for a statement dropped, once more for one just prepared, per client and
            // run, and then the client sends unnamed statements.
            Kind::CachedTransaction => {
                assert!(tally.errors <= 2 * 2 * CLIENTS, "{kind:?}: {tally:?}")
            }
        }
    }
    Ok(())
}

/// A client of pgbouncer holding one server connection in an open transaction, so that every
/// other statement goes to the other one (the pool has two).
struct Held {
    client: Client,
    pid: i32,
}

async fn hold_a_server_connection(bouncer: &PgBouncer, db: &TestDatabase) -> TestResult<Held> {
    let client = bouncer.connect(db).await?;
    client.batch_execute("BEGIN").await?;
    let pid: i32 = client
        .query_typed("SELECT pg_backend_pid()", &[])
        .await?
        .first()
        .ok_or("no pid")?
        .get(0);
    Ok(Held { client, pid })
}

impl Held {
    async fn release(self) -> TestResult {
        self.client.batch_execute("COMMIT").await?;
        Ok(())
    }
}

/// The server connection that is not held now goes to the other: `held` is released after
/// the other one is taken. Returns the new holder.
async fn swap_server_connections(
    bouncer: &PgBouncer,
    db: &TestDatabase,
    held: Held,
) -> TestResult<Held> {
    let other = hold_a_server_connection(bouncer, db).await?;
    assert_ne!(
        other.pid,
        held.pid,
        "pgbouncer has {} server connections",
        pgbouncer::POOL_SIZE
    );
    held.release().await?;
    Ok(other)
}

/// The customers of `client`'s committed orders, each with its items.
async fn committed(direct: &Client, prefix: &str) -> TestResult<Vec<(String, Vec<String>)>> {
    Ok(direct
        .query(
            "SELECT o.customer, array_agg(i.sku ORDER BY i.sku) FROM orders o \
             JOIN order_items i ON i.order_id = o.id WHERE o.customer LIKE $1 || '%' \
             GROUP BY o.id, o.customer ORDER BY o.id",
            &[&prefix],
        )
        .await?
        .iter()
        .map(|r| (r.get(0), r.get(1)))
        .collect())
}

fn graph_of(customer: &str) -> NewOrderGraph {
    NewOrderGraph::new(customer).with_items([NewOrderItemForOrder::new("A", 1).with_price_cents(1)])
}

/// With the server connections handed out in a fixed order, a `CachedClient` whose statement
/// lands on a server connection it was not prepared on notices the pooler: the first time it
/// takes it for a reset (prepared again, retried, `Ok`), the second time (a statement prepared
/// after that reset is unknown again) it falls back to unnamed statements. Every write returns
/// `Ok` and is committed once.
#[tokio::test]
async fn a_cached_client_notices_the_pooler_whatever_the_scheduling() -> TestResult {
    let db = writegraph_testing::database_with_schema(SCHEMA_SQL).await?;
    let Some(bouncer) = pgbouncer::start_or_skip(&db)? else {
        return Ok(());
    };
    let direct = db.connect().await?;
    let cached = CachedClient::new(bouncer.connect(&db).await?);

    let held = hold_a_server_connection(&bouncer, &db).await?;
    graph_of("cached 1").insert_graph_returning(&cached).await?;
    let held = swap_server_connections(&bouncer, &db, held).await?;
    graph_of("cached 2").insert_graph_returning(&cached).await?;
    assert!(
        !cached.behind_transaction_pooler(),
        "one unknown statement is a reset"
    );
    let held = swap_server_connections(&bouncer, &db, held).await?;
    graph_of("cached 3").insert_graph_returning(&cached).await?;
    assert!(cached.behind_transaction_pooler());
    held.release().await?;
    graph_of("cached 4").insert_graph_returning(&cached).await?;

    let a = || vec!["A".to_owned()];
    assert_eq!(
        committed(&direct, "cached ").await?,
        [
            ("cached 1".to_owned(), a()),
            ("cached 2".to_owned(), a()),
            ("cached 3".to_owned(), a()),
            ("cached 4".to_owned(), a()),
        ]
    );
    Ok(())
}

/// The same for a `CachedTransaction`: its statement that lands on the other server
/// connection returns its error, as the error has aborted the transaction (twice: the reset,
/// then the pooler); the error names the pooler and says what to use, with nothing written.
/// Then the client sends unnamed statements and every later transaction commits.
#[tokio::test]
async fn a_cached_transaction_names_the_pooler_in_its_errors_whatever_the_scheduling() -> TestResult
{
    let db = writegraph_testing::database_with_schema(SCHEMA_SQL).await?;
    let Some(bouncer) = pgbouncer::start_or_skip(&db)? else {
        return Ok(());
    };
    let direct = db.connect().await?;
    let mut cached = CachedClient::new(bouncer.connect(&db).await?);

    /// One transaction with one insert graph: `Ok` once committed, else the graph's error.
    async fn write(cached: &mut CachedClient, customer: &str) -> writegraph::Result<()> {
        let tx = cached.transaction().await?;
        graph_of(customer).insert_graph_returning(&tx).await?;
        tx.commit().await?;
        Ok(())
    }
    fn expect_pooler_error(result: writegraph::Result<()>, what: &str) -> TestResult {
        match result {
            Ok(()) => Err(format!("{what}: expected an error").into()),
            Err(error) => {
                assert!(error.is_lost_prepared_statement(), "{what}: {error}");
                assert!(names_the_pooler(&error.to_string()), "{what}: {error}");
                Ok(())
            }
        }
    }

    let held = hold_a_server_connection(&bouncer, &db).await?;
    write(&mut cached, "tx 1").await?;
    let held = swap_server_connections(&bouncer, &db, held).await?;
    expect_pooler_error(
        write(&mut cached, "tx 2").await,
        "statement prepared elsewhere",
    )?;
    assert!(
        !cached.behind_transaction_pooler(),
        "one unknown statement is a reset"
    );
    write(&mut cached, "tx 3").await?;
    let held = swap_server_connections(&bouncer, &db, held).await?;
    expect_pooler_error(
        write(&mut cached, "tx 4").await,
        "unknown again after the reset",
    )?;
    assert!(cached.behind_transaction_pooler());
    write(&mut cached, "tx 5").await?;
    held.release().await?;
    write(&mut cached, "tx 6").await?;

    let a = || vec!["A".to_owned()];
    assert_eq!(
        committed(&direct, "tx ").await?,
        [
            ("tx 1".to_owned(), a()),
            ("tx 3".to_owned(), a()),
            ("tx 5".to_owned(), a()),
            ("tx 6".to_owned(), a()),
        ]
    );
    Ok(())
}
