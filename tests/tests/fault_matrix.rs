//! The fault suite: every graph kind (an insert graph; update graphs with each child strategy,
//! with and without `lock_root`) × every fault (a violation at each step position, the
//! connection terminated mid-statement, `statement_timeout`, `DEALLOCATE ALL`, a result
//! column's type changed between calls, a transaction the caller opened with SQL) × every
//! kind of client. Each case compares every table with a snapshot taken just before the
//! write, checks the error's variant, SQLSTATE and step tag, and that the client is usable
//! afterwards (after a terminate: that it reports closed and a new connection works).
//!
//! One database serves the whole matrix: every case writes its own order and its own skus.

use tokio_postgres::error::SqlState;
use tokio_postgres::{Client, Transaction};
use writegraph::{CachedClient, CachedTransaction, Error};
use writegraph_example::{
    NewAuditLogForEntity, NewOrderGraph, NewOrderItemForOrder, OrderAppendGraph, OrderPatchGraph,
    OrderReplaceGraph, OrderUpsertGraph, SCHEMA_SQL,
};
use writegraph_testing::{self as testing, TestDatabase};

type TestResult<T = ()> = Result<T, Box<dyn std::error::Error>>;

/// Returns an error (so that the matrix goes on and lists every failing case) unless `$cond`.
macro_rules! ensure {
    ($cond:expr, $($message:tt)+) => {
        if !$cond {
            return Err(format!($($message)+).into());
        }
    };
}

/// As [`ensure!`], for two values that must be equal.
macro_rules! ensure_eq {
    ($left:expr, $right:expr, $($message:tt)+) => {
        let (left, right) = (&$left, &$right);
        ensure!(left == right, "{left:?} != {right:?}: {}", format!($($message)+));
    };
}

/// CHECKs the matrix adds to the example's schema, so that the root and the after-insert
/// step can be made to fail too (order items already have `qty > 0`).
const FAULT_CHECKS: &str = "
    ALTER TABLE orders ADD CONSTRAINT orders_total_not_negative CHECK (total_cents >= 0);
    ALTER TABLE audit_logs ADD CONSTRAINT audit_logs_action_not_empty CHECK (action <> '');
";

/// How long a statement blocked on the blocker's lock runs before `statement_timeout`
/// cancels it. Only a bound on the test's duration: the statement cannot finish earlier.
const STATEMENT_TIMEOUT: &str = "150ms";

#[derive(Debug, Clone, Copy, PartialEq)]
enum Graph {
    /// `NewOrderGraph`: root, has_many items, has_one shipping, after_insert audit.
    Insert,
    /// `OrderReplaceGraph`: items replaced, no root lock.
    Replace,
    /// `OrderAppendGraph`: items appended, root locked.
    Append,
    /// `OrderUpsertGraph`: items upserted, root locked.
    Upsert,
    /// `OrderPatchGraph`: items diffed by sku, root locked.
    Diff,
}

const GRAPHS: [Graph; 5] = [
    Graph::Insert,
    Graph::Replace,
    Graph::Append,
    Graph::Upsert,
    Graph::Diff,
];

#[derive(Debug, Clone, Copy, PartialEq)]
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

/// Where a violation is put.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Step {
    Root,
    Child,
    After,
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum Fault {
    /// A CHECK violation in one step.
    Violation(Step),
    /// The backend is terminated (from another connection) while the statement waits on a
    /// lock the test holds.
    Terminate,
    /// `statement_timeout` cancels the statement while it waits on a lock the test holds.
    StatementTimeout,
    /// The connection's prepared statements are dropped before the write.
    DeallocateAll,
    /// The type of a result column (`orders.note`) changes between the warm-up and the write.
    AlterType,
    /// The caller opened a transaction with SQL (`BEGIN`) and rolls it back after the write.
    CallersSqlBegin,
}

/// The faults a graph meets: a violation at each of its step positions, then the others.
fn faults(graph: Graph) -> Vec<Fault> {
    let mut faults = vec![Fault::Violation(Step::Root), Fault::Violation(Step::Child)];
    if graph == Graph::Insert {
        faults.push(Fault::Violation(Step::After));
    }
    faults.extend([
        Fault::Terminate,
        Fault::StatementTimeout,
        Fault::DeallocateAll,
        Fault::AlterType,
        Fault::CallersSqlBegin,
    ]);
    faults
}

/// What one write writes: the root's total, one item and (insert graph) an audit action.
#[derive(Debug, Clone)]
struct Input {
    customer: String,
    sku: String,
    qty: i32,
    total: i64,
    action: &'static str,
}

impl Input {
    fn new(case: usize, what: &str, bad: Option<Step>) -> Self {
        Input {
            customer: format!("{what} {case}"),
            sku: format!("{what}-{case}"),
            qty: if bad == Some(Step::Child) { 0 } else { 3 },
            total: if bad == Some(Step::Root) { -1 } else { 70 },
            action: if bad == Some(Step::After) {
                ""
            } else {
                "created"
            },
        }
    }

    fn item(&self) -> NewOrderItemForOrder {
        NewOrderItemForOrder::new(self.sku.clone(), self.qty).with_price_cents(5)
    }
}

/// A connection of one of the four kinds, borrowed for one write.
enum Conn<'c, 't> {
    Client(&'c mut Client),
    Transaction(&'c Transaction<'t>),
    Cached(&'c mut CachedClient),
    CachedTransaction(&'c CachedTransaction<'t>),
}

/// Runs `$body` with `$c` bound to the connection, whatever its kind.
macro_rules! on_conn {
    ($conn:expr, |$c:ident| $body:expr) => {
        match $conn {
            Conn::Client($c) => $body,
            Conn::Transaction($c) => $body,
            Conn::Cached($c) => $body,
            Conn::CachedTransaction($c) => $body,
        }
    };
}

/// As [`on_conn!`], with `$c` a shared reference (for the writes that take `&impl
/// GenericClient`).
macro_rules! on_shared_conn {
    ($conn:expr, |$c:ident| $body:expr) => {
        match $conn {
            Conn::Client(client) => {
                let $c: &Client = client;
                $body
            }
            Conn::Transaction($c) => $body,
            Conn::Cached(client) => {
                let $c: &CachedClient = client;
                $body
            }
            Conn::CachedTransaction($c) => $body,
        }
    };
}

/// Writes `input` with `graph` (on `order` for an update graph), reading the root back, so
/// that a changed result type is met.
async fn write(
    graph: Graph,
    input: &Input,
    order: i64,
    conn: Conn<'_, '_>,
) -> writegraph::Result<()> {
    let item = input.item();
    match graph {
        Graph::Insert => {
            let graph = NewOrderGraph::new(input.customer.clone())
                .with_total_cents(input.total)
                .with_items([item])
                .with_audit(NewAuditLogForEntity::new("order", input.action));
            on_shared_conn!(conn, |c| graph.insert_graph_returning(c).await.map(drop))
        }
        Graph::Replace => {
            let graph = OrderReplaceGraph::default()
                .with_total_cents(input.total)
                .with_items([item]);
            on_shared_conn!(conn, |c| graph
                .update_by_id_graph_returning(c, &order)
                .await
                .map(drop))
        }
        Graph::Append => {
            let graph = OrderAppendGraph::default()
                .with_total_cents(input.total)
                .with_items([item]);
            on_conn!(conn, |c| graph
                .update_by_id_graph_returning(c, &order)
                .await
                .map(drop))
        }
        Graph::Upsert => {
            let graph = OrderUpsertGraph::default()
                .with_total_cents(input.total)
                .with_items([item]);
            on_conn!(conn, |c| graph
                .update_by_id_graph_returning(c, &order)
                .await
                .map(drop))
        }
        Graph::Diff => {
            let graph = OrderPatchGraph::default()
                .with_total_cents(input.total)
                .with_items([item]);
            on_conn!(conn, |c| graph
                .update_by_id_graph_returning(c, &order)
                .await
                .map(drop))
        }
    }
}

/// Every row of every table, as text, by table.
async fn every_table(client: &Client) -> TestResult<Vec<String>> {
    let mut rows = Vec::new();
    for table in writegraph_example::tables::ALL {
        for row in client
            .query(&format!("SELECT t::text FROM {table} AS t ORDER BY 1"), &[])
            .await?
        {
            rows.push(format!("{table} {}", row.get::<_, String>(0)));
        }
    }
    Ok(rows)
}

async fn count(
    client: &Client,
    sql: &str,
    params: &[&(dyn tokio_postgres::types::ToSql + Sync)],
) -> TestResult<i64> {
    Ok(client.query_one(sql, params).await?.get(0))
}

/// The write of `input` is stored exactly once, and (replace, diff) the order's only item.
async fn written_once(observer: &Client, graph: Graph, input: &Input, order: i64) -> TestResult {
    let items = count(
        observer,
        "SELECT count(*) FROM order_items WHERE sku = $1 AND qty = $2",
        &[&input.sku, &input.qty],
    )
    .await?;
    ensure_eq!(items, 1, "the item is written once");
    if graph == Graph::Insert {
        let orders = count(
            observer,
            "SELECT count(*) FROM orders o JOIN order_items i ON i.order_id = o.id \
             JOIN audit_logs a ON a.entity_id = o.id::text \
             WHERE o.customer = $1 AND o.total_cents = $2 AND i.sku = $3 AND a.action = $4",
            &[&input.customer, &input.total, &input.sku, &input.action],
        )
        .await?;
        ensure_eq!(
            orders,
            1,
            "the order, its item and its audit row are written once"
        );
        return Ok(());
    }
    let root = count(
        observer,
        "SELECT total_cents FROM orders WHERE id = $1",
        &[&order],
    )
    .await?;
    ensure_eq!(root, input.total, "the root is patched");
    let of_order = count(
        observer,
        "SELECT count(*) FROM order_items WHERE order_id = $1",
        &[&order],
    )
    .await?;
    let expected = match graph {
        Graph::Replace | Graph::Diff => 1,
        _ => 3, // the order's own item, the warm-up's and this one
    };
    ensure_eq!(of_order, expected, "the order's items");
    Ok(())
}

/// The connection is usable and not left inside a transaction: in a simple query outside
/// one, the transaction starts with the statement.
async fn usable_outside_a_transaction(client: &Client) -> TestResult {
    for message in client
        .simple_query("SELECT now() = statement_timestamp()")
        .await?
    {
        if let tokio_postgres::SimpleQueryMessage::Row(row) = message {
            assert_eq!(row.get(0), Some("t"), "a transaction was left open");
            return Ok(());
        }
    }
    Err("no row".into())
}

/// Holds a lock every graph's statement waits on (writes to `order_items`), on its own
/// connection, until [`Blocker::release`].
struct Blocker<'a>(&'a Client);

impl<'a> Blocker<'a> {
    async fn hold(client: &'a Client) -> TestResult<Blocker<'a>> {
        client
            .batch_execute("BEGIN; LOCK TABLE order_items IN EXCLUSIVE MODE")
            .await?;
        Ok(Blocker(client))
    }

    async fn release(self) -> TestResult {
        Ok(self.0.batch_execute("ROLLBACK").await?)
    }
}

/// Waits until backend `pid` waits on a lock, then terminates it.
async fn terminate_when_waiting(observer: &Client, pid: i32) -> TestResult {
    for _ in 0..2_000 {
        let waiting = count(
            observer,
            "SELECT count(*) FROM pg_stat_activity WHERE pid = $1 AND wait_event_type = 'Lock'",
            &[&pid],
        )
        .await?;
        if waiting == 1 {
            let done: bool = observer
                .query_one("SELECT pg_terminate_backend($1)", &[&pid])
                .await?
                .get(0);
            assert!(done, "backend {pid} terminated");
            return Ok(());
        }
        tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    }
    Err(format!("backend {pid} never waited on the lock").into())
}

/// The shared state of the matrix: the observer that snapshots, the blocker, the next
/// `ALTER ... TYPE` target.
struct Bench {
    db: TestDatabase,
    observer: Client,
    blocker: Client,
    note_is_text: bool,
}

impl Bench {
    /// Changes the type of `orders.note`, a column every graph reads back.
    async fn alter_note_type(&mut self) -> TestResult {
        let to = if self.note_is_text {
            "varchar(500)"
        } else {
            "text"
        };
        self.note_is_text = !self.note_is_text;
        self.observer
            .batch_execute(&format!("ALTER TABLE orders ALTER COLUMN note TYPE {to}"))
            .await?;
        Ok(())
    }
}

/// The fault's set-up on the connection before the write (the lock, the timeout and the
/// terminate are the caller's).
async fn prepare(fault: Fault, client: &impl tokio_postgres::GenericClient) -> TestResult {
    match fault {
        Fault::DeallocateAll => client.batch_execute("DEALLOCATE ALL").await?,
        Fault::StatementTimeout => {
            client
                .batch_execute(&format!("SET statement_timeout = '{STATEMENT_TIMEOUT}'"))
                .await?
        }
        Fault::CallersSqlBegin => client.batch_execute("BEGIN").await?,
        _ => {}
    }
    Ok(())
}

/// Undoes [`prepare`] on a connection that is not a transaction.
async fn unprepare(fault: Fault, client: &Client) -> TestResult {
    match fault {
        Fault::StatementTimeout => client.batch_execute("RESET statement_timeout").await?,
        Fault::CallersSqlBegin => client.batch_execute("ROLLBACK").await?,
        _ => {}
    }
    Ok(())
}

/// Runs `write` as the fault requires: with the blocker holding its lock when the fault
/// waits on one, and the backend terminated meanwhile for [`Fault::Terminate`].
async fn under_fault<F>(
    bench: &Bench,
    fault: Fault,
    pid: i32,
    write: F,
) -> TestResult<writegraph::Result<()>>
where
    F: std::future::Future<Output = writegraph::Result<()>>,
{
    if !matches!(fault, Fault::Terminate | Fault::StatementTimeout) {
        return Ok(write.await);
    }
    let blocker = Blocker::hold(&bench.blocker).await?;
    let written = if fault == Fault::Terminate {
        let (written, killed) = tokio::join!(write, terminate_when_waiting(&bench.observer, pid));
        killed?;
        written
    } else {
        write.await
    };
    blocker.release().await?;
    Ok(written)
}

/// A whole connection, plain or cached.
enum Session {
    Plain(Client),
    Cached(CachedClient),
}

impl Session {
    fn conn(&mut self) -> Conn<'_, 'static> {
        match self {
            Session::Plain(c) => Conn::Client(c),
            Session::Cached(c) => Conn::Cached(c),
        }
    }

    fn raw(&self) -> &Client {
        match self {
            Session::Plain(c) => c,
            Session::Cached(c) => c,
        }
    }

    fn into_client(self) -> Client {
        match self {
            Session::Plain(c) => c,
            Session::Cached(c) => c.into_inner(),
        }
    }
}

/// What a case did.
struct Ran {
    /// The connection, `None` when the fault closed it.
    client: Option<Client>,
    /// Every table just before the write.
    before: Vec<String>,
    input: Input,
    order: i64,
    written: writegraph::Result<()>,
}

/// One case: a warm-up write (so that a cached kind's statements are in its cache when the
/// fault meets them), the fault, the snapshot, the write. Returns the connection (`None`
/// when the fault closed it), the snapshot, and the write's result.
async fn run_case(
    bench: &mut Bench,
    kind: Kind,
    graph: Graph,
    fault: Fault,
    mut client: Client,
    case: usize,
) -> TestResult<Ran> {
    let order: i64 = bench
        .observer
        .query_one(
            "WITH o AS (INSERT INTO orders (customer) VALUES ($1) RETURNING id), \
             i AS (INSERT INTO order_items (order_id, sku, qty) SELECT id, $2, 1 FROM o) \
             SELECT id FROM o",
            &[&format!("case {case}"), &format!("own-{case}")],
        )
        .await?
        .get(0);
    let warm = Input::new(case, "warm", None);
    let bad = match fault {
        Fault::Violation(step) => Some(step),
        _ => None,
    };
    let input = Input::new(case, "write", bad);
    let pid: i32 = client
        .query_one("SELECT pg_backend_pid()", &[])
        .await?
        .get(0);
    let (before, written) = match kind {
        Kind::Client | Kind::CachedClient => {
            let mut session = if kind == Kind::CachedClient {
                Session::Cached(CachedClient::new(client))
            } else {
                Session::Plain(client)
            };
            write(graph, &warm, order, session.conn()).await?;
            if fault == Fault::AlterType {
                bench.alter_note_type().await?;
            }
            prepare(fault, session.raw()).await?;
            let before = every_table(&bench.observer).await?;
            let written = under_fault(
                bench,
                fault,
                pid,
                write(graph, &input, order, session.conn()),
            )
            .await?;
            if fault != Fault::Terminate {
                unprepare(fault, session.raw()).await?;
            }
            client = session.into_client();
            (before, written)
        }
        Kind::Transaction => {
            {
                let tx = client.transaction().await?;
                write(graph, &warm, order, Conn::Transaction(&tx)).await?;
                tx.commit().await?;
            }
            if fault == Fault::AlterType {
                bench.alter_note_type().await?;
            }
            let tx = client.transaction().await?;
            prepare(fault, &tx).await?;
            let before = every_table(&bench.observer).await?;
            let written = under_fault(
                bench,
                fault,
                pid,
                write(graph, &input, order, Conn::Transaction(&tx)),
            )
            .await?;
            if fault == Fault::Terminate {
                drop(tx);
            } else if written.is_ok() && fault != Fault::CallersSqlBegin {
                tx.commit().await?;
            } else {
                tx.rollback().await?;
            }
            (before, written)
        }
        Kind::CachedTransaction => {
            let mut cached = CachedClient::new(client);
            {
                let tx = cached.transaction().await?;
                write(graph, &warm, order, Conn::CachedTransaction(&tx)).await?;
                tx.commit().await?;
            }
            if fault == Fault::AlterType {
                bench.alter_note_type().await?;
            }
            let tx = cached.transaction().await?;
            prepare(fault, &*tx).await?;
            let before = every_table(&bench.observer).await?;
            let written = under_fault(
                bench,
                fault,
                pid,
                write(graph, &input, order, Conn::CachedTransaction(&tx)),
            )
            .await?;
            if fault == Fault::Terminate {
                drop(tx);
            } else if written.is_ok() && fault != Fault::CallersSqlBegin {
                tx.commit().await?;
            } else {
                tx.rollback().await?;
            }
            client = cached.into_inner();
            (before, written)
        }
    };
    let client = if fault == Fault::Terminate {
        // The server closed the connection: a statement fails, and then it reports closed.
        let refused = client.simple_query("SELECT 1").await;
        assert!(
            refused.is_err(),
            "a terminated connection answers: {refused:?}"
        );
        assert!(
            client.is_closed(),
            "a terminated connection does not report closed"
        );
        None
    } else {
        Some(client)
    };
    Ok(Ran {
        client,
        before,
        input,
        order,
        written,
    })
}

/// What a case must end with.
#[derive(Debug, PartialEq)]
enum Expected {
    /// `Ok`, and the write stored once.
    Written,
    /// `Ok`, and nothing stored: the caller rolled its transaction back.
    RolledBackByCaller,
    /// `Err` with this SQLSTATE and tag, and every table as it was.
    Failed(SqlState, Option<&'static str>),
}

fn expected(kind: Kind, fault: Fault) -> Expected {
    match (fault, kind) {
        (Fault::Violation(step), _) => Expected::Failed(
            SqlState::CHECK_VIOLATION,
            Some(match step {
                Step::Root => "graph:root:orders",
                Step::Child => "graph:has_many:order_items",
                Step::After => "graph:after_insert:audit_logs",
            }),
        ),
        // The server tells no step: the statement as a whole was stopped.
        (Fault::Terminate, _) => Expected::Failed(SqlState::ADMIN_SHUTDOWN, None),
        (Fault::StatementTimeout, _) => Expected::Failed(SqlState::QUERY_CANCELED, None),
        // Inside the caller's transaction the refused statement aborted it: no retry can
        // run, and the caller gets the error (a session retries it, as it did not run).
        (Fault::DeallocateAll, Kind::CachedTransaction) => {
            Expected::Failed(SqlState::INVALID_SQL_STATEMENT_NAME, None)
        }
        (Fault::AlterType, Kind::CachedTransaction) => {
            Expected::Failed(SqlState::FEATURE_NOT_SUPPORTED, None)
        }
        (Fault::DeallocateAll | Fault::AlterType, _) => Expected::Written,
        (Fault::CallersSqlBegin, _) => Expected::RolledBackByCaller,
    }
}

/// Checks one case's outcome against [`expected`].
async fn check_case(
    bench: &Bench,
    graph: Graph,
    kind: Kind,
    fault: Fault,
    ran: &Ran,
) -> TestResult {
    let Ran {
        before,
        input,
        order,
        written,
        ..
    } = ran;
    let order = *order;
    let after = every_table(&bench.observer).await?;
    match (expected(kind, fault), written) {
        (Expected::Written, Ok(())) => written_once(&bench.observer, graph, input, order).await?,
        (Expected::RolledBackByCaller, Ok(())) => {
            ensure!(after == *before, "tables changed")
        }
        (Expected::Failed(state, tag), Err(error)) => {
            ensure!(after == *before, "tables changed after {error}");
            ensure!(matches!(error, Error::Db { .. }), "variant: {error:?}");
            ensure_eq!(error.sqlstate(), Some(&state), "{error}");
            ensure_eq!(error.tag(), tag, "{error}");
            if matches!(fault, Fault::Violation(_)) {
                ensure!(error.is_check_violation(), "{error}");
            }
        }
        (expected, written) => return Err(format!("expected {expected:?}, got {written:?}").into()),
    }
    Ok(())
}

/// 5 graphs (insert; replace without a root lock; append, upsert, diff with one) × 7 or 8
/// faults × 4 kinds of client: 144 cases, each checked for every table, the error and the
/// connection afterwards.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_graph_under_every_fault_on_every_client_writes_all_or_nothing() -> TestResult {
    let db = testing::database_with_schema(SCHEMA_SQL).await?;
    let observer = db.connect().await?;
    observer.batch_execute(FAULT_CHECKS).await?;
    let blocker = db.connect().await?;
    let mut connection = Some(db.connect().await?);
    let mut bench = Bench {
        db,
        observer,
        blocker,
        note_is_text: true,
    };
    let mut cases = 0;
    let mut failures = Vec::new();
    for graph in GRAPHS {
        for fault in faults(graph) {
            for kind in KINDS {
                cases += 1;
                let name = format!("{graph:?} / {fault:?} / {kind:?}");
                let client = match connection.take() {
                    Some(client) => client,
                    None => bench.db.connect().await?,
                };
                let mut ran = run_case(&mut bench, kind, graph, fault, client, cases)
                    .await
                    .map_err(|e| format!("{name}: {e}"))?;
                if let Err(failure) = check_case(&bench, graph, kind, fault, &ran).await {
                    failures.push(format!("{name}: {failure}"));
                }
                // The connection goes on to the next case; after a terminate, a new one.
                let client = match ran.client.take() {
                    Some(client) => client,
                    None => bench.db.connect().await?,
                };
                usable_outside_a_transaction(&client)
                    .await
                    .map_err(|e| format!("{name}: {e}"))?;
                connection = Some(client);
            }
        }
    }
    assert_eq!(cases, 144);
    assert!(
        failures.is_empty(),
        "{} of {cases} cases failed:\n{}",
        failures.len(),
        failures.join("\n")
    );
    Ok(())
}
