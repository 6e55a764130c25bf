//! Random sequences of graph writes against an in-memory model of the shop's orders.
//!
//! Each case starts from empty tables and runs up to [`MAX_STEPS`] writes: `NewOrderGraph`
//! inserts (random items, shipping address and audit row) and updates of an existing or a
//! missing order with `OrderReplaceGraph`, `OrderAppendGraph`, `OrderUpsertGraph` and
//! `OrderPatchGraph` (diff), each with a random root patch and a random item list (empty,
//! `None`, repeated skus, quantities the CHECK refuses). The model says what each write must
//! do: succeed with the model's new state, be refused before any statement
//! (`Error::Validation`: nothing to do, a repeated key in a diff or an upsert), or fail
//! (`Error::NotFound` for a missing order, a constraint's error) with every table unchanged. After every write the rows of `orders`, `order_items`,
//! `shipping_addresses` and `audit_logs` equal the model's, and an item kept by a diff, an
//! upsert or an append keeps its id.
//!
//! proptest shrinks a failing sequence to a short one and prints it.

use std::cell::RefCell;
use std::collections::BTreeMap;

use proptest::prelude::*;
use proptest::test_runner::{Config, TestCaseError, TestRunner};
use tokio_postgres::Client;
use writegraph::Error;
use writegraph_example::{
    NewAuditLogForEntity, NewOrderGraph, NewOrderItemForOrder, NewShippingAddressForOrder,
    OrderAppendGraph, OrderPatch, OrderPatchGraph, OrderReplaceGraph, OrderStatus,
    OrderUpsertGraph, SCHEMA_SQL,
};
use writegraph_testing::{self as testing, CountingClient};

type TestResult<T = ()> = Result<T, Box<dyn std::error::Error>>;

/// Cases per run and writes per case: about 20 s on a 2-core machine.
const CASES: u32 = 32;
const MAX_STEPS: usize = 12;

/// An order id no row has.
const MISSING: i64 = 999_999;

// ---------------------------------------------------------------------------------------
// Operations
// ---------------------------------------------------------------------------------------

/// An item as a write gives it: `price_cents` `None` leaves the column to its default (on
/// insert) or to its stored value (on an upsert's conflict).
#[derive(Debug, Clone)]
struct ItemIn {
    sku: &'static str,
    qty: i32,
    price_cents: Option<i64>,
}

/// A shipping address as a write gives it: `country` `None` is the default `'DE'` (on insert)
/// or the stored value (on an upsert's conflict).
#[derive(Debug, Clone)]
struct AddressIn {
    street: &'static str,
    city: &'static str,
    zip: &'static str,
    country: Option<&'static str>,
}

/// The root columns an update sets.
#[derive(Debug, Clone, Default)]
struct RootPatch {
    customer: Option<&'static str>,
    status: Option<OrderStatus>,
    total_cents: Option<i64>,
    note: Option<Option<&'static str>>,
}

impl RootPatch {
    fn is_empty(&self) -> bool {
        self.customer.is_none()
            && self.status.is_none()
            && self.total_cents.is_none()
            && self.note.is_none()
    }
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum Graph {
    Replace,
    Append,
    Upsert,
    Diff,
}

#[derive(Debug, Clone)]
enum Op {
    Insert {
        customer: &'static str,
        total_cents: Option<i64>,
        note: Option<&'static str>,
        items: Vec<ItemIn>,
        shipping: Option<AddressIn>,
        audit: bool,
    },
    Update {
        /// Picks the `order % orders`-th order; with no order, a missing id.
        order: usize,
        /// Targets a missing id instead.
        missing: bool,
        graph: Graph,
        patch: RootPatch,
        items: Option<Vec<ItemIn>>,
        /// Ignored by the graphs without a shipping field (append, upsert).
        shipping: Option<Option<AddressIn>>,
    },
}

fn item_in() -> impl Strategy<Value = ItemIn> {
    (
        prop::sample::select(vec!["A", "B", "C", "D"]),
        prop_oneof![19 => 1..=3i32, 1 => Just(0)],
        prop::option::of(prop::sample::select(vec![0i64, 100, 250])),
    )
        .prop_map(|(sku, qty, price_cents)| ItemIn {
            sku,
            qty,
            price_cents,
        })
}

/// Up to three items with distinct skus, and sometimes a second item with the first one's sku.
fn items_in() -> impl Strategy<Value = Vec<ItemIn>> {
    (
        prop::collection::vec(item_in(), 0..4),
        prop::option::weighted(0.15, item_in()),
    )
        .prop_map(|(mut items, repeat)| {
            let mut seen = Vec::new();
            items.retain(|i| {
                let new = !seen.contains(&i.sku);
                seen.push(i.sku);
                new
            });
            if let (Some(first), Some(repeat)) = (items.first(), repeat) {
                let sku = first.sku;
                items.push(ItemIn { sku, ..repeat });
            }
            items
        })
}

fn address_in() -> impl Strategy<Value = AddressIn> {
    (
        prop::sample::select(vec![
            ("1 Main St", "Berlin", "10115"),
            ("2 Side St", "Paris", "75001"),
        ]),
        prop::option::of(prop::sample::select(vec!["FR", "AT"])),
    )
        .prop_map(|((street, city, zip), country)| AddressIn {
            street,
            city,
            zip,
            country,
        })
}

fn status() -> impl Strategy<Value = OrderStatus> {
    prop::sample::select(vec![
        OrderStatus::Pending,
        OrderStatus::Paid,
        OrderStatus::Shipped,
        OrderStatus::Cancelled,
    ])
}

fn root_patch() -> impl Strategy<Value = RootPatch> {
    let text = || prop::sample::select(vec!["x", "y"]);
    (
        prop::option::weighted(0.2, prop::sample::select(vec!["alice", "bob"])),
        prop::option::weighted(0.3, status()),
        prop::option::weighted(0.3, 0i64..1_000),
        prop::option::weighted(0.3, prop::option::of(text())),
    )
        .prop_map(|(customer, status, total_cents, note)| RootPatch {
            customer,
            status,
            total_cents,
            note,
        })
}

fn op() -> impl Strategy<Value = Op> {
    let insert = (
        prop::sample::select(vec!["alice", "bob"]),
        prop::option::of(0i64..1_000),
        prop::option::of(prop::sample::select(vec!["first", "gift"])),
        items_in(),
        prop::option::of(address_in()),
        any::<bool>(),
    )
        .prop_map(
            |(customer, total_cents, note, items, shipping, audit)| Op::Insert {
                customer,
                total_cents,
                note,
                items,
                shipping,
                audit,
            },
        );
    let update = (
        (0usize..4, prop::bool::weighted(0.1)),
        prop::sample::select(vec![
            Graph::Replace,
            Graph::Append,
            Graph::Upsert,
            Graph::Diff,
        ]),
        root_patch(),
        prop::option::weighted(0.8, items_in()),
        prop::option::weighted(0.4, prop::option::of(address_in())),
    )
        .prop_map(
            |((order, missing), graph, patch, items, shipping)| Op::Update {
                order,
                missing,
                graph,
                patch,
                items,
                shipping,
            },
        );
    prop_oneof![1 => insert, 2 => update]
}

// ---------------------------------------------------------------------------------------
// The model
// ---------------------------------------------------------------------------------------

/// An item row: `id` is `None` until the row is read back after the write that made it.
#[derive(Debug, Clone, PartialEq)]
struct ItemRow {
    id: Option<i64>,
    qty: i32,
    price_cents: i64,
}

/// `(street, city, zip, country)`.
type AddressRow = (String, String, String, String);

#[derive(Debug, Clone, PartialEq)]
struct OrderRow {
    id: i64,
    customer: String,
    status: String,
    total_cents: i64,
    note: Option<String>,
    items: BTreeMap<String, ItemRow>,
    shipping: Option<AddressRow>,
}

#[derive(Debug, Clone, Default, PartialEq)]
struct Model {
    orders: Vec<OrderRow>,
    /// `(entity, entity_id, action)` in insertion order.
    audits: Vec<(String, Option<String>, String)>,
}

/// What a write must do.
#[derive(Debug)]
enum Expected {
    /// Succeed, leaving the database as this model.
    Written(Model),
    /// An insert that succeeds, leaving the database as this model once the new order's id
    /// (its row's `id` 0, its audit row's `entity_id` `None`) is filled in.
    Inserted(Model),
    /// `Error::Validation`, and no statement sent.
    Refused,
    /// `Error::NotFound` for the orders, and every table unchanged.
    NotFound,
    /// `Error::Db` (a constraint) or `Error::Validation`, and every table unchanged.
    Failed,
}

fn status_text(status: OrderStatus) -> &'static str {
    match status {
        OrderStatus::Pending => "pending",
        OrderStatus::Paid => "paid",
        OrderStatus::Shipped => "shipped",
        OrderStatus::Cancelled => "cancelled",
    }
}

fn has_repeated_sku(items: &[ItemIn]) -> bool {
    items
        .iter()
        .enumerate()
        .any(|(i, a)| items[..i].iter().any(|b| b.sku == a.sku))
}

fn new_address(a: &AddressIn) -> AddressRow {
    (
        a.street.into(),
        a.city.into(),
        a.zip.into(),
        a.country.unwrap_or("DE").into(),
    )
}

impl Model {
    /// The id an update targets: an existing order's, or [`MISSING`].
    fn target(&self, order: usize, missing: bool) -> i64 {
        match self.orders.len() {
            0 => MISSING,
            _ if missing => MISSING,
            n => self.orders[order % n].id,
        }
    }

    fn expect(&self, op: &Op) -> Expected {
        match op {
            Op::Insert {
                customer,
                total_cents,
                note,
                items,
                shipping,
                audit,
            } => {
                if has_repeated_sku(items) || items.iter().any(|i| i.qty <= 0) {
                    return Expected::Failed;
                }
                let mut next = self.clone();
                next.orders.push(OrderRow {
                    id: 0,
                    customer: (*customer).into(),
                    status: "pending".into(),
                    total_cents: total_cents.unwrap_or(0),
                    note: note.map(Into::into),
                    items: items
                        .iter()
                        .map(|i| {
                            (
                                i.sku.into(),
                                ItemRow {
                                    id: None,
                                    qty: i.qty,
                                    price_cents: i.price_cents.unwrap_or(0),
                                },
                            )
                        })
                        .collect(),
                    shipping: shipping.as_ref().map(new_address),
                });
                if *audit {
                    next.audits.push(("order".into(), None, "created".into()));
                }
                Expected::Inserted(next)
            }
            Op::Update {
                order,
                missing,
                graph,
                patch,
                items,
                shipping,
            } => {
                let shipping = match graph {
                    Graph::Replace | Graph::Diff => shipping.as_ref(),
                    Graph::Append | Graph::Upsert => None,
                };
                if patch.is_empty() && items.is_none() && shipping.is_none() {
                    return Expected::Refused;
                }
                let keyed = matches!(graph, Graph::Upsert | Graph::Diff);
                if keyed && items.as_deref().is_some_and(has_repeated_sku) {
                    return Expected::Refused;
                }
                let id = self.target(*order, *missing);
                let mut next = self.clone();
                let Some(row) = next.orders.iter_mut().find(|o| o.id == id) else {
                    return Expected::NotFound;
                };
                if let Some(items) = items {
                    if items.iter().any(|i| i.qty <= 0) {
                        return Expected::Failed;
                    }
                    match graph {
                        Graph::Replace | Graph::Append => {
                            if has_repeated_sku(items) {
                                return Expected::Failed;
                            }
                            if *graph == Graph::Replace {
                                row.items.clear();
                            } else if items.iter().any(|i| row.items.contains_key(i.sku)) {
                                return Expected::Failed;
                            }
                            for i in items {
                                row.items.insert(
                                    i.sku.into(),
                                    ItemRow {
                                        id: None,
                                        qty: i.qty,
                                        price_cents: i.price_cents.unwrap_or(0),
                                    },
                                );
                            }
                        }
                        Graph::Upsert | Graph::Diff => {
                            if *graph == Graph::Diff {
                                row.items
                                    .retain(|sku, _| items.iter().any(|i| i.sku == sku));
                            }
                            for i in items {
                                let kept = row.items.get(i.sku).cloned();
                                let price_cents = match (i.price_cents, &kept) {
                                    (Some(p), _) => p,
                                    (None, Some(k)) => k.price_cents,
                                    (None, None) => 0,
                                };
                                row.items.insert(
                                    i.sku.into(),
                                    ItemRow {
                                        id: kept.and_then(|k| k.id),
                                        qty: i.qty,
                                        price_cents,
                                    },
                                );
                            }
                        }
                    }
                }
                if let Some(shipping) = shipping {
                    row.shipping = match (shipping, graph, &row.shipping) {
                        (None, _, _) => None,
                        // Upserted: an unset country keeps the stored one.
                        (Some(a), Graph::Replace, Some(old)) if a.country.is_none() => {
                            Some((a.street.into(), a.city.into(), a.zip.into(), old.3.clone()))
                        }
                        (Some(a), _, _) => Some(new_address(a)),
                    };
                }
                if let Some(customer) = patch.customer {
                    row.customer = customer.into();
                }
                if let Some(status) = patch.status {
                    row.status = status_text(status).into();
                }
                if let Some(total_cents) = patch.total_cents {
                    row.total_cents = total_cents;
                }
                if let Some(note) = patch.note {
                    row.note = note.map(Into::into);
                }
                Expected::Written(next)
            }
        }
    }
}

// ---------------------------------------------------------------------------------------
// Writes and read-back
// ---------------------------------------------------------------------------------------

fn new_item(i: &ItemIn) -> NewOrderItemForOrder {
    NewOrderItemForOrder::new(i.sku, i.qty).with_price_cents_opt(i.price_cents)
}

fn new_items(items: &[ItemIn]) -> Vec<NewOrderItemForOrder> {
    items.iter().map(new_item).collect()
}

fn new_shipping(a: &AddressIn) -> NewShippingAddressForOrder {
    NewShippingAddressForOrder::new(a.street, a.city, a.zip)
        .with_country_opt(a.country.map(Into::into))
}

/// What a write gave back: the new order's id for an insert, the rows affected otherwise.
async fn write(
    client: &mut CountingClient<Client>,
    model: &Model,
    op: &Op,
) -> writegraph::Result<i64> {
    match op {
        Op::Insert {
            customer,
            total_cents,
            note,
            items,
            shipping,
            audit,
        } => {
            let graph = NewOrderGraph {
                total_cents: *total_cents,
                note: note.map(Into::into),
                items: new_items(items),
                shipping: shipping.as_ref().map(new_shipping),
                audit: audit.then(|| NewAuditLogForEntity::new("order", "created")),
                ..NewOrderGraph::new(*customer)
            };
            Ok(graph.insert_graph_returning(&*client).await?.id)
        }
        Op::Update {
            order,
            missing,
            graph,
            patch,
            items,
            shipping,
        } => {
            let id = model.target(*order, *missing);
            let items = items.as_deref().map(new_items);
            let shipping = shipping.as_ref().map(|s| s.as_ref().map(new_shipping));
            let root = OrderPatch {
                customer: patch.customer.map(Into::into),
                status: patch.status,
                total_cents: patch.total_cents,
                note: patch.note.map(|n| n.map(Into::into)),
                ..OrderPatch::default()
            };
            let affected = match graph {
                Graph::Replace => {
                    OrderReplaceGraph {
                        root,
                        items,
                        shipping,
                    }
                    .update_by_id_graph(&*client, &id)
                    .await?
                }
                Graph::Append => {
                    OrderAppendGraph { root, items }
                        .update_by_id_graph(&mut *client, &id)
                        .await?
                }
                Graph::Upsert => {
                    OrderUpsertGraph { root, items }
                        .update_by_id_graph(&mut *client, &id)
                        .await?
                }
                Graph::Diff => {
                    OrderPatchGraph {
                        root,
                        items,
                        shipping,
                    }
                    .update_by_id_graph(&mut *client, &id)
                    .await?
                }
            };
            Ok(i64::try_from(affected).unwrap_or(i64::MAX))
        }
    }
}

/// Every row of the four tables, as a model (item ids read back).
async fn read(client: &Client) -> TestResult<Model> {
    let mut orders = Vec::new();
    for r in client
        .query(
            "SELECT id, customer, status::text, total_cents, note FROM orders ORDER BY id",
            &[],
        )
        .await?
    {
        orders.push(OrderRow {
            id: r.get(0),
            customer: r.get(1),
            status: r.get(2),
            total_cents: r.get(3),
            note: r.get(4),
            items: BTreeMap::new(),
            shipping: None,
        });
    }
    for r in client
        .query(
            "SELECT order_id, sku, id, qty, price_cents FROM order_items ORDER BY id",
            &[],
        )
        .await?
    {
        let order: i64 = r.get(0);
        let row = orders
            .iter_mut()
            .find(|o| o.id == order)
            .ok_or("an item of no order")?;
        let previous = row.items.insert(
            r.get(1),
            ItemRow {
                id: Some(r.get(2)),
                qty: r.get(3),
                price_cents: r.get(4),
            },
        );
        if previous.is_some() {
            return Err("two items of one order with one sku".into());
        }
    }
    for r in client
        .query(
            "SELECT order_id, street, city, zip, country FROM shipping_addresses",
            &[],
        )
        .await?
    {
        let order: i64 = r.get(0);
        let row = orders
            .iter_mut()
            .find(|o| o.id == order)
            .ok_or("an address of no order")?;
        row.shipping = Some((r.get(1), r.get(2), r.get(3), r.get(4)));
    }
    let audits = client
        .query(
            "SELECT entity, entity_id, action FROM audit_logs ORDER BY id",
            &[],
        )
        .await?
        .iter()
        .map(|r| (r.get(0), r.get(1), r.get(2)))
        .collect();
    Ok(Model { orders, audits })
}

/// Gives the items the model does not know the id of (written by this step) the ids read
/// back, each one no earlier row had; the ids of kept items are the model's.
fn fill_item_ids(expected: &mut Model, actual: &Model, before: &Model) -> Result<(), String> {
    let old_ids: Vec<i64> = before
        .orders
        .iter()
        .flat_map(|o| o.items.values().filter_map(|i| i.id))
        .collect();
    for order in &mut expected.orders {
        let Some(read) = actual.orders.iter().find(|o| o.id == order.id) else {
            continue;
        };
        for (sku, item) in &mut order.items {
            if item.id.is_some() {
                continue;
            }
            if let Some(id) = read.items.get(sku).and_then(|i| i.id) {
                if old_ids.contains(&id) {
                    return Err(format!(
                        "new item {sku} of order {} reuses the id {id} of an earlier row",
                        order.id
                    ));
                }
                item.id = Some(id);
            }
        }
    }
    Ok(())
}

/// Empties the tables and restarts their ids, so that a case starts as on a fresh database.
const CLEAN_SQL: &str = "TRUNCATE \"item_returns\", \"order_items\", \"shipping_addresses\", \"audit_logs\", \"orders\" RESTART IDENTITY";

/// Runs `ops` on emptied tables, checking the database against the model after each one.
async fn run(client: &mut CountingClient<Client>, ops: &[Op]) -> TestResult {
    client.inner().batch_execute(CLEAN_SQL).await?;
    let mut model = Model::default();
    for (n, op) in ops.iter().enumerate() {
        let expected = model.expect(op);
        client.reset();
        let result = write(client, &model, op).await;
        let statements = client.statements();
        let actual = read(client.inner()).await?;
        let context = || format!("step {n}: {op:?}\nexpected {expected:?}\ngot {result:?}");
        let mut next = match (&expected, &result) {
            (Expected::Written(next), Ok(_)) => next.clone(),
            (Expected::Inserted(next), Ok(id)) => {
                let mut next = next.clone();
                if let Some(order) = next.orders.last_mut() {
                    order.id = *id;
                }
                if let Some(audit) = next.audits.last_mut().filter(|a| a.1.is_none()) {
                    audit.1 = Some(id.to_string());
                }
                next
            }
            (Expected::Refused, Err(Error::Validation(_))) if statements == 0 => model.clone(),
            (Expected::Refused, Err(Error::Validation(_))) => {
                return Err(format!("{}\n{statements} statements sent", context()).into())
            }
            (
                Expected::NotFound,
                Err(Error::NotFound {
                    table, step: None, ..
                }),
            ) if *table == "public.orders" => model.clone(),
            (Expected::Failed, Err(Error::Validation(_) | Error::Db { .. })) => model.clone(),
            _ => return Err(context().into()),
        };
        fill_item_ids(&mut next, &actual, &model).map_err(|e| format!("{}\n{e}", context()))?;
        if next != actual {
            return Err(format!("{}\nmodel:    {next:?}\ndatabase: {actual:?}", context()).into());
        }
        model = next;
    }
    Ok(())
}

#[test]
fn random_graph_writes_keep_the_database_equal_to_the_model() -> TestResult {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    let mut runner = TestRunner::new(Config {
        cases: CASES,
        failure_persistence: None,
        ..Config::default()
    });
    // One database for all cases, emptied before each (a database per case costs more than
    // the case).
    let (_db, client) = runtime.block_on(async {
        let db = testing::database_with_schema(SCHEMA_SQL).await?;
        let client = db.connect().await?;
        TestResult::Ok((db, client))
    })?;
    let client = RefCell::new(CountingClient::new(client));
    let ops = prop::collection::vec(op(), 1..=MAX_STEPS);
    let outcome = runner.run(&ops, |ops| {
        let mut client = client
            .try_borrow_mut()
            .map_err(|e| TestCaseError::fail(e.to_string()))?;
        runtime
            .block_on(run(&mut client, &ops))
            .map_err(|e| TestCaseError::fail(e.to_string()))
    });
    outcome.map_err(|e| e.to_string().into())
}
