//! Update graphs against PostgreSQL: the example's `OrderPatchGraph` (items diffed by sku,
//! shipping address replaced, root locked first) and the graphs `graphs.toml` declares for
//! these tests: `OrderReplaceGraph` (items replaced, shipping address upserted by its key, no
//! root lock), `OrderAppendGraph` (items appended) and `OrderUpsertGraph` (items upserted by
//! `(order_id, sku)`).
//!
//! Covered: every strategy with children, with an empty set and with `None`, on an existing
//! and on a missing root (`NotFound`, nothing changed); a root row that is not rewritten when
//! no root column is set (`xmin`, `UPDATE OF` triggers); the no-operation `Validation` error
//! (no statement sent); `_returning`; statements per write and their pipelining (concurrent
//! diffs of one order on every kind of client are in `write_safety.rs`); atomicity on constraint violations; duplicate keys in the input; the
//! step an error is attributed to.
//!
//! Every test gets its own database and reads back, with plain SQL, the rows of every table
//! the graphs touch.

use std::fmt::Debug;
use std::future::Future;
use std::sync::Mutex;

use tokio_postgres::error::SqlState;
use tokio_postgres::types::{ToSql, Type};
use tokio_postgres::{Client, Row};
use writegraph::{Error, GenericClient, WriteReport, WriteStepReport};
use writegraph_example::{
    NewOrderGraph, NewOrderItemForOrder, NewShippingAddressForOrder, Order, OrderAppendGraph,
    OrderPatch, OrderPatchGraph, OrderReplaceGraph, OrderUpsertGraph, SCHEMA_SQL,
};
use writegraph_testing::{self as testing, CountingClient, TestDatabase};

type TestResult<T = ()> = Result<T, Box<dyn std::error::Error>>;

const ROOT: &str = "graph:root:orders";
const ITEMS: &str = "graph:has_many:order_items";
const SHIPPING: &str = "graph:has_one:shipping_addresses";

/// An order id no row has.
const MISSING: i64 = 999_999;

/// `(sku, qty, price_cents)` of an item row.
type Item = (String, i32, i64);

/// `(street, city, zip, country)` of a shipping address row.
type Address = (String, String, String, String);

/// A fresh database with the shop schema; keep the `TestDatabase` alive while using the client.
async fn shop() -> TestResult<(TestDatabase, Client)> {
    let db = testing::database_with_schema(SCHEMA_SQL).await?;
    let client = db.connect().await?;
    Ok((db, client))
}

fn item(sku: &str, qty: i32, price_cents: i64) -> Item {
    (sku.to_owned(), qty, price_cents)
}

fn new_item(sku: &str, qty: i32, price_cents: i64) -> NewOrderItemForOrder {
    NewOrderItemForOrder::new(sku, qty).with_price_cents(price_cents)
}

fn address(street: &str, city: &str, zip: &str, country: &str) -> Address {
    (street.into(), city.into(), zip.into(), country.into())
}

fn new_address(street: &str, city: &str, zip: &str, country: &str) -> NewShippingAddressForOrder {
    NewShippingAddressForOrder::new(street, city, zip).with_country(country)
}

fn step(tag: &'static str, affected: u64) -> WriteStepReport {
    WriteStepReport { tag, affected }
}

/// The steps of a report of a graph with `tags`, with `affected` for the tags it names and
/// 0 for the others.
fn steps(tags: &[&'static str], affected: &[(&str, u64)]) -> Vec<WriteStepReport> {
    tags.iter()
        .map(|&tag| {
            let n = affected
                .iter()
                .find(|(t, _)| *t == tag)
                .map_or(0, |(_, n)| *n);
            step(tag, n)
        })
        .collect()
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

/// `(sku, id)` of the items of `order`, by sku.
async fn item_ids(client: &Client, order: i64) -> TestResult<Vec<(String, i64)>> {
    Ok(client
        .query(
            "SELECT sku, id FROM order_items WHERE order_id = $1 ORDER BY sku",
            &[&order],
        )
        .await?
        .iter()
        .map(|r| (r.get(0), r.get(1)))
        .collect())
}

/// The shipping address of `order`, if it has one.
async fn shipping(client: &Client, order: i64) -> TestResult<Option<Address>> {
    Ok(client
        .query_opt(
            "SELECT street, city, zip, country FROM shipping_addresses WHERE order_id = $1",
            &[&order],
        )
        .await?
        .map(|r| (r.get(0), r.get(1), r.get(2), r.get(3))))
}

/// `(total_cents, note)` of `order`.
async fn root_columns(client: &Client, order: i64) -> TestResult<(i64, Option<String>)> {
    let row = client
        .query_one(
            "SELECT total_cents, note FROM orders WHERE id = $1",
            &[&order],
        )
        .await?;
    Ok((row.get(0), row.get(1)))
}

/// The row counts and every row (as text) of the three tables the update graphs touch.
#[derive(Debug, PartialEq)]
struct Snapshot {
    counts: Vec<(&'static str, i64)>,
    rows: Vec<String>,
}

async fn snapshot(client: &Client) -> TestResult<Snapshot> {
    let mut counts = Vec::new();
    let mut rows = Vec::new();
    for (table, order_by) in [
        ("orders", "id"),
        ("order_items", "id"),
        ("shipping_addresses", "order_id"),
    ] {
        let n: i64 = client
            .query_one(&format!("SELECT count(*) FROM {table}"), &[])
            .await?
            .get(0);
        counts.push((table, n));
        for row in client
            .query(
                &format!("SELECT t::text FROM {table} AS t ORDER BY {order_by}"),
                &[],
            )
            .await?
        {
            rows.push(format!("{table} {}", row.get::<_, String>(0)));
        }
    }
    Ok(Snapshot { counts, rows })
}

/// Two orders: alice (items A, B, C and an address in Berlin) and bob (items A, Z and an
/// address in Paris), written with the insert graph. Returns `(alice, bob)`.
async fn seed(client: &Client) -> TestResult<(i64, i64)> {
    let alice = NewOrderGraph::new("alice")
        .with_total_cents(600)
        .with_note("first")
        .with_items([
            new_item("A", 1, 100),
            new_item("B", 2, 200),
            new_item("C", 3, 300),
        ])
        .with_shipping(new_address("1 Main St", "Berlin", "10115", "DE"))
        .insert_graph_returning(client)
        .await?;
    let bob = NewOrderGraph::new("bob")
        .with_items([new_item("A", 7, 700), new_item("Z", 8, 800)])
        .with_shipping(new_address("2 Side St", "Paris", "75001", "FR"))
        .insert_graph_returning(client)
        .await?;
    Ok((alice.id, bob.id))
}

fn alice_items() -> Vec<Item> {
    vec![item("A", 1, 100), item("B", 2, 200), item("C", 3, 300)]
}

fn alice_address() -> Address {
    address("1 Main St", "Berlin", "10115", "DE")
}

/// Bob's rows are never touched by a write to alice's order.
async fn assert_bob_untouched(client: &Client, bob: i64) -> TestResult {
    assert_eq!(
        items(client, bob).await?,
        vec![item("A", 7, 700), item("Z", 8, 800)]
    );
    assert_eq!(
        shipping(client, bob).await?,
        Some(address("2 Side St", "Paris", "75001", "FR"))
    );
    Ok(())
}

fn expect_not_found<T: Debug>(result: writegraph::Result<T>) -> TestResult {
    match result {
        Err(Error::NotFound {
            table: "public.orders",
            step: None,
            ..
        }) => Ok(()),
        other => Err(format!(
            "expected Error::NotFound {{ table: \"public.orders\" }}, got {other:?}"
        )
        .into()),
    }
}

fn expect_validation<T: Debug>(result: writegraph::Result<T>) -> TestResult<String> {
    match result {
        Err(Error::Validation(message)) => Ok(message.to_string()),
        other => Err(format!("expected Error::Validation, got {other:?}").into()),
    }
}

fn expect_db_error<T: Debug>(result: writegraph::Result<T>) -> TestResult<Error> {
    match result {
        Err(error @ Error::Db { .. }) => Ok(error),
        other => Err(format!("expected Error::Db, got {other:?}").into()),
    }
}

// ---------------------------------------------------------------------------------------
// 1. Strategies: children, empty set, None × existing and missing root
// ---------------------------------------------------------------------------------------

/// An update graph whose items field is under test.
trait ItemsGraph: Clone + Debug {
    /// The tags of the graph's steps, in order.
    const TAGS: &'static [&'static str];

    fn with_parts(items: Option<Vec<NewOrderItemForOrder>>, total_cents: Option<i64>) -> Self;

    fn report(
        self,
        client: &mut Client,
        id: i64,
    ) -> impl Future<Output = writegraph::Result<WriteReport<()>>>;
}

impl ItemsGraph for OrderReplaceGraph {
    const TAGS: &'static [&'static str] = &[ROOT, ITEMS, SHIPPING];

    fn with_parts(items: Option<Vec<NewOrderItemForOrder>>, total_cents: Option<i64>) -> Self {
        Self {
            items,
            root: OrderPatch::default().with_total_cents_opt(total_cents),
            ..Self::default()
        }
    }

    async fn report(self, client: &mut Client, id: i64) -> writegraph::Result<WriteReport<()>> {
        self.update_by_id_graph_report(&*client, &id).await
    }
}

impl ItemsGraph for OrderAppendGraph {
    const TAGS: &'static [&'static str] = &[ROOT, ITEMS];

    fn with_parts(items: Option<Vec<NewOrderItemForOrder>>, total_cents: Option<i64>) -> Self {
        Self {
            items,
            root: OrderPatch::default().with_total_cents_opt(total_cents),
        }
    }

    async fn report(self, client: &mut Client, id: i64) -> writegraph::Result<WriteReport<()>> {
        self.update_by_id_graph_report(client, &id).await
    }
}

impl ItemsGraph for OrderUpsertGraph {
    const TAGS: &'static [&'static str] = &[ROOT, ITEMS];

    fn with_parts(items: Option<Vec<NewOrderItemForOrder>>, total_cents: Option<i64>) -> Self {
        Self {
            items,
            root: OrderPatch::default().with_total_cents_opt(total_cents),
        }
    }

    async fn report(self, client: &mut Client, id: i64) -> writegraph::Result<WriteReport<()>> {
        self.update_by_id_graph_report(client, &id).await
    }
}

impl ItemsGraph for OrderPatchGraph {
    const TAGS: &'static [&'static str] = &[ROOT, ITEMS, SHIPPING];

    fn with_parts(items: Option<Vec<NewOrderItemForOrder>>, total_cents: Option<i64>) -> Self {
        Self {
            items,
            root: OrderPatch::default().with_total_cents_opt(total_cents),
            ..Self::default()
        }
    }

    async fn report(self, client: &mut Client, id: i64) -> writegraph::Result<WriteReport<()>> {
        self.update_by_id_graph_report(client, &id).await
    }
}

/// One row of a strategy's table: the items field, and what alice's order holds afterwards.
struct ItemsCase {
    name: &'static str,
    items: Option<Vec<NewOrderItemForOrder>>,
    expected: Vec<Item>,
    /// The items step's `affected`.
    affected: u64,
}

/// Runs every case on a fresh pair of orders: first on a missing root (`NotFound`, nothing
/// changed), then on alice's order (the exact items afterwards, the report, bob untouched).
/// A case whose items are `None` also sets `total_cents`, so that it has something to do.
async fn run_items_cases<G: ItemsGraph>(cases: Vec<ItemsCase>) -> TestResult {
    let (_db, mut client) = shop().await?;
    for case in cases {
        let (alice, bob) = seed(&client).await?;
        let total_cents = case.items.is_none().then_some(999);
        let graph = G::with_parts(case.items, total_cents);

        let before = snapshot(&client).await?;
        expect_not_found(graph.clone().report(&mut client, MISSING).await)
            .map_err(|e| format!("{}: {e}", case.name))?;
        assert_eq!(
            snapshot(&client).await?,
            before,
            "{}: missing root",
            case.name
        );

        let report = graph.report(&mut client, alice).await?;
        let root_affected = u64::from(total_cents.is_some());
        assert_eq!(
            report.steps,
            steps(G::TAGS, &[(ROOT, root_affected), (ITEMS, case.affected)]),
            "{}",
            case.name
        );
        assert_eq!(
            report.affected,
            root_affected + case.affected,
            "{}",
            case.name
        );
        assert_eq!(items(&client, alice).await?, case.expected, "{}", case.name);
        assert_eq!(
            root_columns(&client, alice).await?,
            (total_cents.unwrap_or(600), Some("first".to_owned())),
            "{}",
            case.name
        );
        assert_eq!(shipping(&client, alice).await?, Some(alice_address()));
        assert_bob_untouched(&client, bob).await?;
    }
    Ok(())
}

#[tokio::test]
async fn replace_deletes_the_roots_items_then_inserts_the_given_ones() -> TestResult {
    run_items_cases::<OrderReplaceGraph>(vec![
        ItemsCase {
            name: "replace(Some([B, D]))",
            items: Some(vec![new_item("B", 5, 250), new_item("D", 4, 400)]),
            expected: vec![item("B", 5, 250), item("D", 4, 400)],
            affected: 3 + 2,
        },
        ItemsCase {
            name: "replace(Some([]))",
            items: Some(vec![]),
            expected: vec![],
            affected: 3,
        },
        ItemsCase {
            name: "replace(None)",
            items: None,
            expected: alice_items(),
            affected: 0,
        },
    ])
    .await
}

#[tokio::test]
async fn replace_deletes_before_it_inserts_whatever_the_final_select_reads_first() -> TestResult {
    // Sibling data-modifying CTEs run in an order PostgreSQL does not promise. The graph's
    // statement, with its final SELECT reading the insert's count before the delete's (or
    // not reading the delete at all), must still delete alice's old items before inserting
    // new ones that reuse a key of them (B), and her old address before its replacement.
    let (_db, client) = shop().await?;
    let (alice, bob) = seed(&client).await?;
    let tail = OrderReplaceGraph::TAIL_SQL;
    let Some(final_select) = tail.rfind("\nSELECT root.") else {
        return Err(format!("no final SELECT in {tail}").into());
    };
    let root = "WITH root AS (SELECT \"id\" FROM \"public\".\"orders\" WHERE \"id\" = $1";
    let ids: Vec<Option<i64>> = vec![None, None];
    let skus = vec!["B", "D"];
    let qtys = vec![5_i32, 4];
    let prices = vec![250_i64, 400];
    let empty: Vec<String> = Vec::new();
    let params: [(&(dyn ToSql + Sync), Type); 11] = [
        (&alice, Type::INT8),
        (&true, Type::BOOL),
        (&ids, Type::INT8_ARRAY),
        (&skus, Type::TEXT_ARRAY),
        (&qtys, Type::INT4_ARRAY),
        (&prices, Type::INT8_ARRAY),
        (&false, Type::BOOL),
        (&empty, Type::TEXT_ARRAY),
        (&empty, Type::TEXT_ARRAY),
        (&empty, Type::VARCHAR_ARRAY),
        (&empty, Type::BPCHAR_ARRAY),
    ];
    for (name, select) in [
        (
            "insert's count first",
            " SELECT (SELECT count(*) FROM c0_ins), (SELECT count(*) FROM c0_del) FROM root",
        ),
        (
            "only the insert's count",
            " SELECT (SELECT count(*) FROM c0_ins) FROM root",
        ),
        ("no count", " SELECT 1 FROM root"),
    ] {
        let sql = format!("{root}{}{select}", &tail[..final_select]);
        client
            .query_typed(&sql, &params)
            .await
            .map_err(|e| format!("{name}: {}", Error::from(e)))?;
        assert_eq!(
            items(&client, alice).await?,
            vec![item("B", 5, 250), item("D", 4, 400)],
            "{name}"
        );
    }
    assert_bob_untouched(&client, bob).await?;
    Ok(())
}

#[tokio::test]
async fn append_only_inserts_the_given_items() -> TestResult {
    run_items_cases::<OrderAppendGraph>(vec![
        ItemsCase {
            name: "append(Some([D, E]))",
            items: Some(vec![new_item("D", 4, 400), new_item("E", 6, 600)]),
            expected: vec![
                item("A", 1, 100),
                item("B", 2, 200),
                item("C", 3, 300),
                item("D", 4, 400),
                item("E", 6, 600),
            ],
            affected: 2,
        },
        ItemsCase {
            name: "append(Some([]))",
            items: Some(vec![]),
            expected: alice_items(),
            affected: 0,
        },
        ItemsCase {
            name: "append(None)",
            items: None,
            expected: alice_items(),
            affected: 0,
        },
    ])
    .await
}

#[tokio::test]
async fn upsert_inserts_or_updates_by_order_id_and_sku_and_keeps_the_others() -> TestResult {
    run_items_cases::<OrderUpsertGraph>(vec![
        ItemsCase {
            name: "upsert(Some([B, D]))",
            items: Some(vec![new_item("B", 5, 250), new_item("D", 4, 400)]),
            expected: vec![
                item("A", 1, 100),
                item("B", 5, 250),
                item("C", 3, 300),
                item("D", 4, 400),
            ],
            affected: 2,
        },
        ItemsCase {
            name: "upsert(Some([]))",
            items: Some(vec![]),
            expected: alice_items(),
            affected: 0,
        },
        ItemsCase {
            name: "upsert(None)",
            items: None,
            expected: alice_items(),
            affected: 0,
        },
    ])
    .await
}

#[tokio::test]
async fn diff_upserts_the_given_items_and_deletes_the_roots_others() -> TestResult {
    run_items_cases::<OrderPatchGraph>(vec![
        ItemsCase {
            name: "diff(Some([B, D]))",
            items: Some(vec![new_item("B", 5, 250), new_item("D", 4, 400)]),
            expected: vec![item("B", 5, 250), item("D", 4, 400)],
            // upserted B and D, deleted A and C
            affected: 2 + 2,
        },
        ItemsCase {
            name: "diff(Some([A, B, C])) (same set)",
            items: Some(vec![
                new_item("A", 1, 100),
                new_item("B", 2, 200),
                new_item("C", 3, 300),
            ]),
            expected: alice_items(),
            affected: 3,
        },
        ItemsCase {
            name: "diff(Some([]))",
            items: Some(vec![]),
            expected: vec![],
            affected: 3,
        },
        ItemsCase {
            name: "diff(None)",
            items: None,
            expected: alice_items(),
            affected: 0,
        },
    ])
    .await
}

#[tokio::test]
async fn diff_keeps_the_ids_of_kept_items_and_replace_gives_new_ones() -> TestResult {
    let (_db, mut client) = shop().await?;
    let (alice, _) = seed(&client).await?;
    let before = item_ids(&client, alice).await?;
    OrderPatchGraph::default()
        .with_items([new_item("B", 9, 900), new_item("C", 3, 300)])
        .update_by_id_graph(&mut client, &alice)
        .await?;
    let after_diff = item_ids(&client, alice).await?;
    assert_eq!(after_diff, before[1..].to_vec(), "B and C keep their rows");

    OrderReplaceGraph::default()
        .with_items([new_item("B", 9, 900), new_item("C", 3, 300)])
        .update_by_id_graph(&client, &alice)
        .await?;
    let after_replace = item_ids(&client, alice).await?;
    assert_eq!(after_replace.len(), 2);
    for ((sku_before, id_before), (sku_after, id_after)) in after_diff.iter().zip(&after_replace) {
        assert_eq!(sku_before, sku_after);
        assert!(id_after > id_before, "replace inserts new rows");
    }
    assert_eq!(
        items(&client, alice).await?,
        vec![item("B", 9, 900), item("C", 3, 300)]
    );
    Ok(())
}

#[tokio::test]
async fn upsert_and_diff_keep_the_stored_value_of_a_column_an_item_leaves_unset() -> TestResult {
    // `price_cents` left unset is the column's DEFAULT for a new item, and keeps the stored
    // price of an existing one: an upsert assigns only what the row sets.
    let (_db, mut client) = shop().await?;
    let (alice, _) = seed(&client).await?;
    OrderUpsertGraph::default()
        .with_items([
            NewOrderItemForOrder::new("A", 4),
            NewOrderItemForOrder::new("D", 1),
        ])
        .update_by_id_graph(&mut client, &alice)
        .await?;
    assert_eq!(
        items(&client, alice).await?,
        vec![
            item("A", 4, 100),
            item("B", 2, 200),
            item("C", 3, 300),
            item("D", 1, 0)
        ]
    );
    OrderPatchGraph::default()
        .with_items([NewOrderItemForOrder::new("B", 5), new_item("C", 3, 350)])
        .update_by_id_graph(&mut client, &alice)
        .await?;
    assert_eq!(
        items(&client, alice).await?,
        vec![item("B", 5, 200), item("C", 3, 350)]
    );
    Ok(())
}

#[tokio::test]
async fn the_graph_fills_the_fk_of_every_child_with_the_roots_key() -> TestResult {
    // The children's row types have no `order_id` to give: the graph fills it.
    let (_db, mut client) = shop().await?;
    let (alice, bob) = seed(&client).await?;
    OrderPatchGraph::default()
        .with_items([new_item("Q", 1, 10)])
        .with_shipping(new_address("3 Oak Ave", "Vienna", "1010", "AT"))
        .update_by_id_graph(&mut client, &alice)
        .await?;
    assert_eq!(items(&client, alice).await?, vec![item("Q", 1, 10)]);
    assert_eq!(
        shipping(&client, alice).await?,
        Some(address("3 Oak Ave", "Vienna", "1010", "AT"))
    );
    assert_bob_untouched(&client, bob).await?;
    Ok(())
}

/// One row of a has_one table.
struct ShippingCase {
    name: &'static str,
    /// Whether alice's address is deleted (plain SQL) before the write.
    without_existing: bool,
    shipping: Option<Option<NewShippingAddressForOrder>>,
    expected: Option<Address>,
    affected: u64,
}

fn vienna() -> NewShippingAddressForOrder {
    new_address("3 Oak Ave", "Vienna", "1010", "AT")
}

fn vienna_row() -> Address {
    address("3 Oak Ave", "Vienna", "1010", "AT")
}

/// Runs every case on a fresh pair of orders, like `run_items_cases`, with a builder for the
/// graph (a case whose shipping is `None` also sets `total_cents`).
async fn run_shipping_cases<G, B>(build: B, cases: Vec<ShippingCase>) -> TestResult
where
    G: ItemsGraph,
    B: Fn(Option<Option<NewShippingAddressForOrder>>, Option<i64>) -> G,
{
    let (_db, mut client) = shop().await?;
    for case in cases {
        let (alice, bob) = seed(&client).await?;
        if case.without_existing {
            client
                .execute(
                    "DELETE FROM shipping_addresses WHERE order_id = $1",
                    &[&alice],
                )
                .await?;
        }
        let total_cents = case.shipping.is_none().then_some(999);
        let graph = build(case.shipping, total_cents);

        let before = snapshot(&client).await?;
        expect_not_found(graph.clone().report(&mut client, MISSING).await)
            .map_err(|e| format!("{}: {e}", case.name))?;
        assert_eq!(
            snapshot(&client).await?,
            before,
            "{}: missing root",
            case.name
        );

        let report = graph.report(&mut client, alice).await?;
        let root_affected = u64::from(total_cents.is_some());
        assert_eq!(
            report.steps,
            steps(G::TAGS, &[(ROOT, root_affected), (SHIPPING, case.affected)]),
            "{}",
            case.name
        );
        assert_eq!(
            shipping(&client, alice).await?,
            case.expected,
            "{}",
            case.name
        );
        assert_eq!(items(&client, alice).await?, alice_items(), "{}", case.name);
        assert_eq!(
            root_columns(&client, alice).await?.0,
            total_cents.unwrap_or(600),
            "{}",
            case.name
        );
        assert_bob_untouched(&client, bob).await?;
    }
    Ok(())
}

#[tokio::test]
async fn has_one_replace_deletes_then_inserts_and_some_none_deletes() -> TestResult {
    let build = |shipping, total_cents| OrderPatchGraph {
        shipping,
        root: OrderPatch::default().with_total_cents_opt(total_cents),
        ..OrderPatchGraph::default()
    };
    run_shipping_cases(
        build,
        vec![
            ShippingCase {
                name: "replace(Some(Some(v))) over an existing address",
                without_existing: false,
                shipping: Some(Some(vienna())),
                expected: Some(vienna_row()),
                affected: 1 + 1,
            },
            ShippingCase {
                name: "replace(Some(Some(v))) without an address",
                without_existing: true,
                shipping: Some(Some(vienna())),
                expected: Some(vienna_row()),
                affected: 1,
            },
            ShippingCase {
                name: "replace(Some(None))",
                without_existing: false,
                shipping: Some(None),
                expected: None,
                affected: 1,
            },
            ShippingCase {
                name: "replace(Some(None)) without an address",
                without_existing: true,
                shipping: Some(None),
                expected: None,
                affected: 0,
            },
            ShippingCase {
                name: "replace(None)",
                without_existing: false,
                shipping: None,
                expected: Some(alice_address()),
                affected: 0,
            },
        ],
    )
    .await
}

#[tokio::test]
async fn has_one_upsert_updates_by_key_and_some_none_deletes() -> TestResult {
    let build = |shipping, total_cents| OrderReplaceGraph {
        shipping,
        root: OrderPatch::default().with_total_cents_opt(total_cents),
        ..OrderReplaceGraph::default()
    };
    run_shipping_cases(
        build,
        vec![
            ShippingCase {
                name: "upsert(Some(Some(v))) over an existing address",
                without_existing: false,
                shipping: Some(Some(vienna())),
                expected: Some(vienna_row()),
                affected: 1,
            },
            ShippingCase {
                name: "upsert(Some(Some(v))) without an address",
                without_existing: true,
                shipping: Some(Some(vienna())),
                expected: Some(vienna_row()),
                affected: 1,
            },
            ShippingCase {
                name: "upsert(Some(None))",
                without_existing: false,
                shipping: Some(None),
                expected: None,
                affected: 1,
            },
            ShippingCase {
                name: "upsert(Some(None)) without an address",
                without_existing: true,
                shipping: Some(None),
                expected: None,
                affected: 0,
            },
            ShippingCase {
                name: "upsert(None)",
                without_existing: false,
                shipping: None,
                expected: Some(alice_address()),
                affected: 0,
            },
        ],
    )
    .await
}

#[tokio::test]
async fn one_write_patches_the_root_and_every_child_with_a_report_per_step() -> TestResult {
    let (_db, mut client) = shop().await?;
    let (alice, bob) = seed(&client).await?;
    let report = OrderPatchGraph::default()
        .with_total_cents(1_234)
        .with_note_opt(None)
        .with_items([new_item("C", 30, 3_000), new_item("D", 4, 400)])
        .with_shipping(vienna())
        .update_by_id_graph_report(&mut client, &alice)
        .await?;
    assert_eq!(
        report.steps,
        vec![step(ROOT, 1), step(ITEMS, 2 + 2), step(SHIPPING, 1 + 1)]
    );
    assert_eq!(report.affected, 7);
    assert_eq!(report.root, None);
    assert_eq!(root_columns(&client, alice).await?, (1_234, None));
    assert_eq!(
        items(&client, alice).await?,
        vec![item("C", 30, 3_000), item("D", 4, 400)]
    );
    assert_eq!(shipping(&client, alice).await?, Some(vienna_row()));
    assert_bob_untouched(&client, bob).await?;

    let affected = OrderReplaceGraph::default()
        .with_customer("alice b.")
        .with_items([new_item("E", 5, 500)])
        .with_shipping_opt(None)
        .update_by_id_graph(&client, &alice)
        .await?;
    assert_eq!(affected, 1 + (2 + 1) + 1);
    let customer: String = client
        .query_one("SELECT customer FROM orders WHERE id = $1", &[&alice])
        .await?
        .get(0);
    assert_eq!(customer, "alice b.");
    assert_eq!(items(&client, alice).await?, vec![item("E", 5, 500)]);
    assert_eq!(shipping(&client, alice).await?, None);
    assert_bob_untouched(&client, bob).await?;
    Ok(())
}

// ---------------------------------------------------------------------------------------
// 2. NotFound
// ---------------------------------------------------------------------------------------

#[tokio::test]
async fn a_missing_root_is_not_found_and_changes_no_table_with_or_without_root_columns(
) -> TestResult {
    let (db, mut client) = shop().await?;
    let other = db.connect().await?;
    let pid: i32 = client
        .query_one("SELECT pg_backend_pid()", &[])
        .await?
        .get(0);
    seed(&client).await?;
    let before = snapshot(&client).await?;
    assert_eq!(
        before.counts,
        vec![("orders", 2), ("order_items", 5), ("shipping_addresses", 2)]
    );
    let children = || {
        OrderPatchGraph::default()
            .with_items([new_item("A", 9, 900)])
            .with_shipping_opt(None)
    };
    let with_root = || children().with_total_cents(1).with_note("x");
    for (name, graph) in [
        ("children only", children()),
        ("root and children", with_root()),
    ] {
        expect_not_found(
            graph
                .clone()
                .update_by_id_graph(&mut client, &MISSING)
                .await,
        )
        .map_err(|e| format!("{name}: {e}"))?;
        expect_not_found(
            graph
                .clone()
                .update_by_id_graph_returning(&mut client, &MISSING)
                .await,
        )?;
        expect_not_found(
            graph
                .clone()
                .update_by_id_graph_report(&mut client, &MISSING)
                .await,
        )?;
        expect_not_found(
            graph
                .update_by_id_graph_report_returning(&mut client, &MISSING)
                .await,
        )?;
        assert_eq!(snapshot(&client).await?, before, "{name}");
    }

    // The graph without a root lock, and the append and upsert graphs.
    let replace = OrderReplaceGraph::default()
        .with_items(Vec::new())
        .with_shipping_opt(None);
    expect_not_found(replace.clone().update_by_id_graph(&client, &MISSING).await)?;
    expect_not_found(
        replace
            .with_status(writegraph_example::OrderStatus::Paid)
            .update_by_id_graph(&client, &MISSING)
            .await,
    )?;
    expect_not_found(
        OrderAppendGraph::default()
            .with_items([new_item("N", 1, 1)])
            .update_by_id_graph(&mut client, &MISSING)
            .await,
    )?;
    expect_not_found(
        OrderUpsertGraph::default()
            .with_items([new_item("A", 9, 1)])
            .update_by_id_graph(&mut client, &MISSING)
            .await,
    )?;
    assert_eq!(snapshot(&client).await?, before);

    // The locking graph's own transaction (BEGIN ... COMMIT) is closed after a NotFound.
    let state: String = other
        .query_one("SELECT state FROM pg_stat_activity WHERE pid = $1", &[&pid])
        .await?
        .get(0);
    assert_eq!(state, "idle", "no transaction is left open");
    Ok(())
}

// ---------------------------------------------------------------------------------------
// 3. No root column: the root row is not written
// ---------------------------------------------------------------------------------------

async fn xmin(client: &Client, order: i64) -> TestResult<String> {
    Ok(client
        .query_one("SELECT xmin::text FROM orders WHERE id = $1", &[&order])
        .await?
        .get(0))
}

#[tokio::test]
async fn a_children_only_update_does_not_rewrite_the_root_row() -> TestResult {
    let (_db, mut client) = shop().await?;
    let (alice, _) = seed(&client).await?;
    let original = xmin(&client, alice).await?;

    // With the root lock (SELECT ... FOR UPDATE sets xmax, never xmin) and without it.
    let report = OrderPatchGraph::default()
        .with_items([new_item("D", 4, 400)])
        .with_shipping(vienna())
        .update_by_id_graph_report(&mut client, &alice)
        .await?;
    assert_eq!(report.step(ROOT), 0);
    assert_eq!(xmin(&client, alice).await?, original);
    OrderReplaceGraph::default()
        .with_items([new_item("E", 5, 500)])
        .with_shipping_opt(None)
        .update_by_id_graph(&client, &alice)
        .await?;
    OrderAppendGraph::default()
        .with_items([new_item("F", 6, 600)])
        .update_by_id_graph(&mut client, &alice)
        .await?;
    OrderUpsertGraph::default()
        .with_items([new_item("F", 7, 700)])
        .update_by_id_graph(&mut client, &alice)
        .await?;
    assert_eq!(xmin(&client, alice).await?, original);
    assert_eq!(
        items(&client, alice).await?,
        vec![item("E", 5, 500), item("F", 7, 700)]
    );

    // A root column rewrites it (so the xmin check above is not vacuous).
    OrderPatchGraph::default()
        .with_total_cents(1)
        .update_by_id_graph(&mut client, &alice)
        .await?;
    assert_ne!(xmin(&client, alice).await?, original);
    Ok(())
}

#[tokio::test]
async fn update_triggers_fire_only_for_the_root_columns_the_patch_sets() -> TestResult {
    let (_db, mut client) = shop().await?;
    let (alice, _) = seed(&client).await?;
    client
        .batch_execute(
            "CREATE TABLE touched (id serial PRIMARY KEY, col text NOT NULL);
             CREATE FUNCTION record_touch() RETURNS trigger LANGUAGE plpgsql AS $$
             BEGIN
                 INSERT INTO touched (col) VALUES (TG_ARGV[0]);
                 RETURN NULL;
             END $$;
             CREATE TRIGGER orders_note_updated AFTER UPDATE OF note ON orders
                 FOR EACH ROW EXECUTE FUNCTION record_touch('note');
             CREATE TRIGGER orders_updated AFTER UPDATE ON orders
                 FOR EACH ROW EXECUTE FUNCTION record_touch('any');",
        )
        .await?;
    async fn touched(client: &Client) -> TestResult<Vec<String>> {
        let rows = client
            .query("SELECT col FROM touched ORDER BY id", &[])
            .await?;
        Ok(rows.iter().map(|r| r.get(0)).collect())
    }

    OrderPatchGraph::default()
        .with_items([new_item("D", 4, 400)])
        .update_by_id_graph(&mut client, &alice)
        .await?;
    OrderReplaceGraph::default()
        .with_shipping(vienna())
        .update_by_id_graph(&client, &alice)
        .await?;
    assert_eq!(
        touched(&client).await?,
        Vec::<String>::new(),
        "children only"
    );

    OrderPatchGraph::default()
        .with_total_cents(700)
        .with_items([new_item("D", 5, 400)])
        .update_by_id_graph(&mut client, &alice)
        .await?;
    assert_eq!(
        touched(&client).await?,
        vec!["any"],
        "total_cents: no `UPDATE OF note`"
    );

    OrderPatchGraph::default()
        .with_note("second")
        .update_by_id_graph(&mut client, &alice)
        .await?;
    // Triggers of one event fire in name order: orders_note_updated, then orders_updated.
    assert_eq!(touched(&client).await?, vec!["any", "note", "any"]);
    assert_eq!(
        root_columns(&client, alice).await?,
        (700, Some("second".to_owned()))
    );
    Ok(())
}

// ---------------------------------------------------------------------------------------
// 4. No operation at all
// ---------------------------------------------------------------------------------------

#[tokio::test]
async fn a_patch_with_nothing_to_do_is_a_validation_error_before_any_statement() -> TestResult {
    let (_db, client) = shop().await?;
    let (alice, _) = seed(&client).await?;
    let before = snapshot(&client).await?;
    let mut counting = CountingClient::new(client);
    for (name, result) in [
        (
            "OrderPatchGraph",
            OrderPatchGraph::default()
                .update_by_id_graph(&mut counting, &alice)
                .await
                .map(|_| ()),
        ),
        (
            "OrderPatchGraph (missing root)",
            OrderPatchGraph::default()
                .update_by_id_graph_returning(&mut counting, &MISSING)
                .await
                .map(|_| ()),
        ),
        (
            "OrderReplaceGraph",
            OrderReplaceGraph::default()
                .update_by_id_graph_report(&counting, &alice)
                .await
                .map(|_| ()),
        ),
        (
            "OrderAppendGraph",
            OrderAppendGraph::default()
                .update_by_id_graph_report_returning(&mut counting, &alice)
                .await
                .map(|_| ()),
        ),
        (
            "OrderUpsertGraph",
            OrderUpsertGraph::default()
                .update_by_id_graph(&mut counting, &alice)
                .await
                .map(|_| ()),
        ),
    ] {
        let message = expect_validation(result).map_err(|e| format!("{name}: {e}"))?;
        assert!(
            message.contains("no operations to perform"),
            "{name}: {message}"
        );
    }
    assert_eq!(counting.statements(), 0);
    let mut client = counting.into_inner();

    // Inside a caller's transaction too.
    let tx = client.transaction().await?;
    let counting = CountingClient::new(&tx);
    expect_validation(
        OrderPatchGraph::default()
            .update_by_id_graph(&counting, &alice)
            .await,
    )?;
    assert_eq!(counting.statements(), 0);
    tx.commit().await?;
    assert_eq!(snapshot(&client).await?, before);
    Ok(())
}

// ---------------------------------------------------------------------------------------
// 5. _returning
// ---------------------------------------------------------------------------------------

#[tokio::test]
async fn returning_gives_the_root_row_after_every_step() -> TestResult {
    let (_db, mut client) = shop().await?;
    let (alice, _) = seed(&client).await?;

    let children_only = OrderPatchGraph::default()
        .with_items([new_item("D", 4, 400)])
        .update_by_id_graph_returning(&mut client, &alice)
        .await?;
    let stored = Order::find_by_id(&client, &alice)
        .await?
        .ok_or("alice's order is gone")?;
    assert_eq!(children_only, stored);
    assert_eq!(children_only.total_cents, 600);

    let patched = OrderPatchGraph::default()
        .with_total_cents(4_200)
        .with_note_opt(None)
        .with_status(writegraph_example::OrderStatus::Shipped)
        .with_shipping_opt(None)
        .update_by_id_graph_returning(&mut client, &alice)
        .await?;
    let stored = Order::find_by_id(&client, &alice)
        .await?
        .ok_or("alice's order is gone")?;
    assert_eq!(patched, stored);
    assert_eq!(
        (patched.total_cents, patched.note, patched.status),
        (4_200, None, writegraph_example::OrderStatus::Shipped)
    );

    let report = OrderReplaceGraph::default()
        .with_customer("carol")
        .with_items(Vec::new())
        .update_by_id_graph_report_returning(&client, &alice)
        .await?;
    let stored = Order::find_by_id(&client, &alice)
        .await?
        .ok_or("alice's order is gone")?;
    assert_eq!(report.root.as_ref(), Some(&stored));
    assert_eq!(stored.customer, "carol");
    assert_eq!(
        report.steps,
        vec![step(ROOT, 1), step(ITEMS, 1), step(SHIPPING, 0)]
    );
    assert_eq!(items(&client, alice).await?, vec![]);
    Ok(())
}

// ---------------------------------------------------------------------------------------
// 6. Statements per write
// ---------------------------------------------------------------------------------------

/// A client that logs when each statement is first polled (tokio-postgres sends it then) and
/// when its answer is in, to prove that statements are pipelined.
struct RecordingClient<'a, C> {
    inner: &'a C,
    log: Mutex<Vec<String>>,
}

impl<'a, C: GenericClient> RecordingClient<'a, C> {
    fn new(inner: &'a C) -> Self {
        Self {
            inner,
            log: Mutex::new(Vec::new()),
        }
    }

    fn record(&self, entry: String) {
        if let Ok(mut log) = self.log.lock() {
            log.push(entry);
        }
    }

    fn log(&self) -> Vec<String> {
        self.log.lock().map(|l| l.clone()).unwrap_or_default()
    }

    fn label(sql: &str) -> &'static str {
        if sql == OrderPatchGraph::LOCK_SQL {
            "lock"
        } else if sql.starts_with("WITH") {
            "graph"
        } else if sql == "BEGIN" {
            "BEGIN"
        } else if sql == "COMMIT" {
            "COMMIT"
        } else {
            "other"
        }
    }
}

impl<C: GenericClient> GenericClient for RecordingClient<'_, C> {
    fn is_transaction(&self) -> bool {
        self.inner.is_transaction()
    }

    fn query_typed(
        &self,
        sql: &str,
        params: &[(&(dyn ToSql + Sync), Type)],
    ) -> impl Future<Output = Result<Vec<Row>, tokio_postgres::Error>> + Send {
        let label = Self::label(sql);
        let answer = self.inner.query_typed(sql, params);
        async move {
            self.record(format!("send {label}"));
            let result = answer.await;
            self.record(format!("done {label}"));
            result
        }
    }

    fn execute_typed(
        &self,
        sql: &str,
        params: &[(&(dyn ToSql + Sync), Type)],
    ) -> impl Future<Output = Result<u64, tokio_postgres::Error>> + Send {
        let label = Self::label(sql);
        let answer = self.inner.execute_typed(sql, params);
        async move {
            self.record(format!("send {label}"));
            let result = answer.await;
            self.record(format!("done {label}"));
            result
        }
    }
}

impl<C: writegraph::SessionClient> writegraph::SessionClient for RecordingClient<'_, C> {}
impl<C: writegraph::TransactionClient> writegraph::TransactionClient for RecordingClient<'_, C> {}

/// Every `send` comes before every `done`: no statement waited for an earlier answer.
fn assert_pipelined(log: &[String], sent: &[&str]) {
    let expected_sends: Vec<String> = sent.iter().map(|s| format!("send {s}")).collect();
    assert_eq!(log.len(), 2 * sent.len(), "{log:?}");
    assert_eq!(log[..sent.len()], expected_sends[..], "{log:?}");
    let mut done: Vec<&str> = log[sent.len()..].iter().map(String::as_str).collect();
    done.sort_unstable();
    let mut expected_done: Vec<String> = sent.iter().map(|s| format!("done {s}")).collect();
    expected_done.sort_unstable();
    assert_eq!(done, expected_done, "{log:?}");
}

#[tokio::test]
async fn a_graph_without_root_lock_is_one_statement() -> TestResult {
    let (_db, client) = shop().await?;
    let (alice, _) = seed(&client).await?;
    let counting = CountingClient::new(&client);
    assert!(!counting.is_transaction());
    let report = OrderReplaceGraph::default()
        .with_total_cents(5)
        .with_items([new_item("D", 4, 400)])
        .with_shipping(vienna())
        .update_by_id_graph_report(&counting, &alice)
        .await?;
    assert_eq!(counting.statements(), 1);
    assert_eq!(
        report.steps,
        vec![step(ROOT, 1), step(ITEMS, 4), step(SHIPPING, 1)]
    );

    counting.reset();
    expect_not_found(
        OrderReplaceGraph::default()
            .with_items(Vec::new())
            .update_by_id_graph(&counting, &MISSING)
            .await,
    )?;
    assert_eq!(
        counting.statements(),
        1,
        "NotFound needs no extra statement"
    );
    assert_eq!(items(&client, alice).await?, vec![item("D", 4, 400)]);
    Ok(())
}

#[tokio::test]
async fn a_locking_graph_in_a_callers_transaction_is_two_pipelined_statements() -> TestResult {
    let (_db, mut client) = shop().await?;
    let (alice, _) = seed(&client).await?;

    let tx = client.transaction().await?;
    let counting = CountingClient::new(&tx);
    assert!(
        counting.is_transaction(),
        "CountingClient<&Transaction> is a transaction"
    );
    let report = OrderPatchGraph::default()
        .with_total_cents(7)
        .with_items([new_item("D", 4, 400)])
        .update_by_id_graph_report(&counting, &alice)
        .await?;
    assert_eq!(
        counting.statements(),
        2,
        "lock + graph, no BEGIN/COMMIT of its own"
    );
    assert_eq!(
        report.steps,
        vec![step(ROOT, 1), step(ITEMS, 1 + 3), step(SHIPPING, 0)]
    );

    let recording = RecordingClient::new(&tx);
    OrderPatchGraph::default()
        .with_items([new_item("E", 5, 500)])
        .update_by_id_graph(&recording, &alice)
        .await?;
    assert_pipelined(&recording.log(), &["lock", "graph"]);

    // The writes belong to the caller's transaction: rolled back with it.
    tx.rollback().await?;
    assert_eq!(items(&client, alice).await?, alice_items());
    assert_eq!(root_columns(&client, alice).await?.0, 600);

    let tx = client.transaction().await?;
    OrderPatchGraph::default()
        .with_items([new_item("E", 5, 500)])
        .update_by_id_graph(&CountingClient::new(&tx), &alice)
        .await?;
    tx.commit().await?;
    assert_eq!(items(&client, alice).await?, vec![item("E", 5, 500)]);
    Ok(())
}

#[tokio::test]
async fn a_locking_graph_on_a_plain_client_is_four_pipelined_statements() -> TestResult {
    // BEGIN, the lock, the graph statement, COMMIT: BEGIN and COMMIT are the transaction that
    // holds the lock until the graph statement is done. All four are sent before any answer
    // is awaited, so they cost one round trip. Before them, one round trip of two statements
    // finds out whether the caller opened a transaction with SQL.
    let (_db, client) = shop().await?;
    let (alice, _) = seed(&client).await?;
    let mut counting = CountingClient::new(client);
    assert!(!counting.is_transaction());
    OrderPatchGraph::default()
        .with_items([new_item("D", 4, 400)])
        .update_by_id_graph(&mut counting, &alice)
        .await?;
    assert_eq!(counting.statements(), 2 + 4);
    let client = counting.into_inner();

    let mut recording = RecordingClient::new(&client);
    OrderPatchGraph::default()
        .with_total_cents(9)
        .with_items([new_item("E", 5, 500)])
        .update_by_id_graph(&mut recording, &alice)
        .await?;
    let log = recording.log();
    assert_pipelined(&log[..4], &["other", "other"]);
    assert_pipelined(&log[4..], &["BEGIN", "lock", "graph", "COMMIT"]);
    assert_eq!(items(&client, alice).await?, vec![item("E", 5, 500)]);
    assert_eq!(root_columns(&client, alice).await?.0, 9);

    // The other locking graphs too.
    let mut counting = CountingClient::new(client);
    OrderAppendGraph::default()
        .with_items([new_item("F", 6, 600)])
        .update_by_id_graph(&mut counting, &alice)
        .await?;
    OrderUpsertGraph::default()
        .with_items([new_item("F", 7, 700)])
        .update_by_id_graph(&mut counting, &alice)
        .await?;
    assert_eq!(counting.statements(), 12);
    assert_eq!(
        items(counting.inner(), alice).await?,
        vec![item("E", 5, 500), item("F", 7, 700)]
    );
    Ok(())
}

// ---------------------------------------------------------------------------------------
// 8. Atomicity
// ---------------------------------------------------------------------------------------

#[tokio::test]
async fn a_failing_child_step_changes_nothing_not_even_the_root() -> TestResult {
    let (_db, mut client) = shop().await?;
    let (alice, bob) = seed(&client).await?;
    let bobs_item_id = item_ids(&client, bob).await?[0].1;
    let before = snapshot(&client).await?;

    // diff with qty 0: CHECK (qty > 0), on the locking graph (its own BEGIN/COMMIT).
    let error = expect_db_error(
        OrderPatchGraph::default()
            .with_total_cents(1)
            .with_note("changed")
            .with_items([new_item("A", 5, 500), new_item("D", 0, 400)])
            .with_shipping_opt(None)
            .update_by_id_graph(&mut client, &alice)
            .await,
    )?;
    assert_eq!(error.tag(), Some(ITEMS), "{error}");
    assert_eq!(
        error.sqlstate(),
        Some(&SqlState::CHECK_VIOLATION),
        "{error}"
    );
    assert_eq!(error.constraint(), Some("order_items_qty_check"));
    assert_eq!(snapshot(&client).await?, before, "check violation");

    // diff with an id that is bob's item: a unique violation on the primary key.
    let error = expect_db_error(
        OrderPatchGraph::default()
            .with_total_cents(1)
            .with_items([new_item("Q", 1, 100).with_id(bobs_item_id)])
            .update_by_id_graph_returning(&mut client, &alice)
            .await,
    )?;
    assert_eq!(error.tag(), Some(ITEMS), "{error}");
    assert_eq!(
        error.sqlstate(),
        Some(&SqlState::UNIQUE_VIOLATION),
        "{error}"
    );
    assert_eq!(error.constraint(), Some("order_items_pkey"));
    assert_eq!(snapshot(&client).await?, before, "pkey violation");

    // append of an existing sku: a unique violation on (order_id, sku).
    let error = expect_db_error(
        OrderAppendGraph::default()
            .with_customer("changed")
            .with_items([new_item("B", 1, 100)])
            .update_by_id_graph_report(&mut client, &alice)
            .await,
    )?;
    assert_eq!(error.tag(), Some(ITEMS), "{error}");
    assert_eq!(error.constraint(), Some("uq_order_items"));
    assert_eq!(snapshot(&client).await?, before, "uq_order_items violation");

    // The graph without a root lock: one statement, atomic on its own.
    let error = expect_db_error(
        OrderReplaceGraph::default()
            .with_total_cents(1)
            .with_items([new_item("D", 0, 400)])
            .with_shipping(vienna())
            .update_by_id_graph(&client, &alice)
            .await,
    )?;
    assert_eq!(error.tag(), Some(ITEMS), "{error}");
    assert_eq!(
        error.sqlstate(),
        Some(&SqlState::CHECK_VIOLATION),
        "{error}"
    );
    assert_eq!(snapshot(&client).await?, before, "replace graph");

    // The connection is fine afterwards, outside any transaction.
    OrderPatchGraph::default()
        .with_total_cents(2)
        .update_by_id_graph(&mut client, &alice)
        .await?;
    assert_eq!(root_columns(&client, alice).await?.0, 2);
    Ok(())
}

// ---------------------------------------------------------------------------------------
// 9. Duplicate keys in the input
// ---------------------------------------------------------------------------------------

#[tokio::test]
async fn duplicate_keys_in_a_diff_or_upsert_are_rejected_before_any_statement() -> TestResult {
    // PostgreSQL would refuse to update one row twice in one INSERT ... ON CONFLICT DO UPDATE
    // ("cannot affect row a second time", SQLSTATE 21000, no table to name a step by); the
    // graph checks the keys of upserted children first.
    let (_db, client) = shop().await?;
    let (alice, _) = seed(&client).await?;
    let before = snapshot(&client).await?;
    let mut counting = CountingClient::new(client);
    let duplicates = || vec![new_item("D", 1, 100), new_item("D", 2, 200)];

    let diff = expect_validation(
        OrderPatchGraph::default()
            .with_total_cents(1)
            .with_items(duplicates())
            .update_by_id_graph(&mut counting, &alice)
            .await,
    )?;
    assert!(
        diff.contains("two rows of `items` have the same key (sku)"),
        "{diff}"
    );
    // Also when the repeated key is an existing item's.
    let upsert = expect_validation(
        OrderUpsertGraph::default()
            .with_items([new_item("A", 1, 100), new_item("A", 2, 200)])
            .update_by_id_graph(&mut counting, &alice)
            .await,
    )?;
    assert!(
        upsert.contains("two rows of `items` have the same key (sku)"),
        "{upsert}"
    );
    assert_eq!(counting.statements(), 0);
    let mut client = counting.into_inner();
    assert_eq!(snapshot(&client).await?, before, "diff and upsert");

    // Replace and append insert without ON CONFLICT: a unique violation on (order_id, sku),
    // attributed to the items step, and nothing changed.
    let replace = expect_db_error(
        OrderReplaceGraph::default()
            .with_total_cents(1)
            .with_items(duplicates())
            .update_by_id_graph(&client, &alice)
            .await,
    )?;
    assert_eq!(
        replace.sqlstate(),
        Some(&SqlState::UNIQUE_VIOLATION),
        "{replace}"
    );
    assert_eq!(replace.constraint(), Some("uq_order_items"), "{replace}");
    assert_eq!(replace.tag(), Some(ITEMS), "{replace}");
    let append = expect_db_error(
        OrderAppendGraph::default()
            .with_items(duplicates())
            .update_by_id_graph(&mut client, &alice)
            .await,
    )?;
    assert_eq!(append.constraint(), Some("uq_order_items"), "{append}");
    assert_eq!(append.tag(), Some(ITEMS), "{append}");
    assert_eq!(snapshot(&client).await?, before, "replace and append");
    Ok(())
}

// ---------------------------------------------------------------------------------------
// Error attribution
// ---------------------------------------------------------------------------------------

#[tokio::test]
async fn an_error_of_the_root_update_is_attributed_to_the_root_step() -> TestResult {
    // Changing alice's id while her items reference it: the root UPDATE violates the items'
    // foreign key. PostgreSQL names the referencing table (order_items) in the error, and the
    // write has no items step at all (`items` is None), yet the step must be the root's.
    let (_db, mut client) = shop().await?;
    let (alice, bob) = seed(&client).await?;
    let before = snapshot(&client).await?;
    let error = expect_db_error(
        OrderPatchGraph::default()
            .with_id(bob + 100)
            .update_by_id_graph(&mut client, &alice)
            .await,
    )?;
    assert_eq!(
        error.sqlstate(),
        Some(&SqlState::FOREIGN_KEY_VIOLATION),
        "{error}"
    );
    assert_eq!(snapshot(&client).await?, before);
    assert_eq!(error.tag(), Some(ROOT), "{error}");
    Ok(())
}

#[tokio::test]
async fn a_delete_blocked_by_a_referencing_row_is_attributed_to_the_deleting_step() -> TestResult {
    // A return references alice's item A (NO ACTION). Replace and diff delete A; PostgreSQL
    // names item_returns, a table no step writes, and the constraint names the step.
    let (_db, mut client) = shop().await?;
    let (alice, _) = seed(&client).await?;
    client
        .execute(
            "INSERT INTO item_returns (item_id, reason) \
             SELECT id, 'broken' FROM order_items WHERE order_id = $1 AND sku = 'A'",
            &[&alice],
        )
        .await?;
    let before = snapshot(&client).await?;
    let replace = expect_db_error(
        OrderReplaceGraph::default()
            .with_items([new_item("B", 1, 100)])
            .update_by_id_graph(&client, &alice)
            .await,
    )?;
    let diff = expect_db_error(
        OrderPatchGraph::default()
            .with_items([new_item("B", 1, 100)])
            .update_by_id_graph(&mut client, &alice)
            .await,
    )?;
    for error in [replace, diff] {
        assert_eq!(
            error.sqlstate(),
            Some(&SqlState::FOREIGN_KEY_VIOLATION),
            "{error}"
        );
        assert_eq!(error.table(), Some("item_returns"), "{error}");
        assert_eq!(error.tag(), Some(ITEMS), "{error}");
    }
    assert_eq!(snapshot(&client).await?, before);
    Ok(())
}

#[tokio::test]
async fn root_patch_text_the_column_cannot_hold_is_a_validation_error() -> TestResult {
    let (_db, mut client) = shop().await?;
    let (alice, _) = seed(&client).await?;
    // A locking graph takes a transaction; nothing may be sent on it.
    let tx = client.transaction().await?;
    let counting = CountingClient::new(&tx);
    let message = expect_validation(
        OrderPatchGraph::default()
            .with_note("a\0b")
            .update_by_id_graph(&counting, &alice)
            .await,
    )?;
    assert_eq!(
        message,
        "step `graph:root:orders`: `public.orders` row 0, column `note`: the value contains a NUL byte, which PostgreSQL text cannot hold"
    );
    assert_eq!(counting.statements(), 0);
    Ok(())
}

/// An update graph holds its root's table patch: a patch built for `update_by_id` becomes
/// the graph's root as it is (`From`), the graph's setters write into it, and its text
/// values are checked as the patch's own, naming the root's step, before any SQL.
#[tokio::test]
async fn an_update_graph_applies_its_tables_patch_with_its_children() -> TestResult {
    let (_db, mut client) = shop().await?;
    let order = NewOrderGraph::new("ann")
        .with_items([new_item("A", 1, 100)])
        .insert_graph_returning(&client)
        .await?;
    let patch = OrderPatch::default().with_note("gift wrap");
    let graph = OrderPatchGraph::from(patch.clone())
        .with_total_cents(250)
        .with_items([new_item("B", 2, 200)]);
    assert_eq!(graph.root, patch.with_total_cents(250));
    let stored = graph
        .update_by_id_graph_returning(&mut client, &order.id)
        .await?;
    assert_eq!(
        (
            stored.customer.as_str(),
            stored.note.as_deref(),
            stored.total_cents
        ),
        ("ann", Some("gift wrap"), 250)
    );
    assert_eq!(items(&client, order.id).await?, [item("B", 2, 200)]);

    let counting = CountingClient::new(&client);
    let error = OrderReplaceGraph::from(OrderPatch::default().with_customer("a\u{0}b"))
        .update_by_id_graph(&counting, &order.id)
        .await
        .err()
        .ok_or("a NUL byte was sent")?;
    assert!(
        error.to_string().contains(ROOT) && error.to_string().contains("`customer`"),
        "{error}"
    );
    assert_eq!(counting.statements(), 0);
    Ok(())
}
