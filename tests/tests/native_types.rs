//! A type only the server knows the OID of, bound natively (`[types] currency = { rust =
//! "crate::Currency", bind = "native" }`, `tests/schemas/native_types.toml`): the enum
//! `currency`, created by the schema as an extension creates its types, and a Rust type whose
//! `ToSql`/`FromSql` accept it by name only, as pgvector's `Vector` does. Every write path
//! binds it: one row and batches (arrays of it), a patch, a find, an insert graph, many graphs
//! and a locked update graph, on a `Client`, a `Transaction`, a `CachedClient` and pooled
//! connections of deadpool and bb8.

use tokio_postgres::{Client, NoTls};
use writegraph::CachedClient;
use writegraph_testing::{self as testing, TestDatabase};
use writegraph_tests::native_types::{
    NewPrice, NewPriceChangeForPrice, NewPriceGraph, Price, PriceChangeGraph, PricePatch,
};
use writegraph_tests::Currency;

type TestResult<T = ()> = Result<T, Box<dyn std::error::Error>>;

const SCHEMA_SQL: &str = include_str!("../schemas/native_types.sql");

async fn database() -> TestResult<(TestDatabase, Client)> {
    let db = testing::database_with_schema(SCHEMA_SQL).await?;
    let client = db.connect().await?;
    Ok((db, client))
}

fn c(code: &str) -> Currency {
    Currency::new(code)
}

/// Each price as `(sku, cents, currency, shown_in)`, by id, read as text by SQL.
async fn prices(client: &Client) -> TestResult<Vec<(String, i64, String, Option<String>)>> {
    Ok(client
        .query(
            "SELECT sku, cents, currency::text, shown_in::text FROM prices ORDER BY id",
            &[],
        )
        .await?
        .iter()
        .map(|r| (r.get(0), r.get(1), r.get(2), r.get(3)))
        .collect())
}

/// Each change of `price_id` as `(old, new)`, by id.
async fn changes(client: &Client, price_id: i64) -> TestResult<Vec<(Option<String>, String)>> {
    Ok(client
        .query(
            "SELECT old::text, new::text FROM price_changes WHERE price_id = $1 ORDER BY id",
            &[&price_id],
        )
        .await?
        .iter()
        .map(|r| (r.get(0), r.get(1)))
        .collect())
}

fn price(
    sku: &str,
    cents: i64,
    currency: &str,
    shown_in: Option<&str>,
) -> (String, i64, String, Option<String>) {
    (
        sku.to_owned(),
        cents,
        currency.to_owned(),
        shown_in.map(str::to_owned),
    )
}

fn change(old: Option<&str>, new: &str) -> (Option<String>, String) {
    (old.map(str::to_owned), new.to_owned())
}

#[tokio::test]
async fn table_writes_bind_the_type_the_server_resolves() -> TestResult {
    let (_db, client) = database().await?;

    // One row, read back through RETURNING as the application's type.
    let pen = NewPrice::new("pen", 250, c("EUR"))
        .with_shown_in(c("USD"))
        .insert_returning(&client)
        .await?;
    assert_eq!(
        (pen.currency.clone(), pen.shown_in.clone()),
        (c("EUR"), Some(c("USD")))
    );

    // A batch binds one array of `currency` per column, a NULL among them.
    let inserted = NewPrice::insert_many(
        &client,
        vec![
            NewPrice::new("ink", 990, c("USD")),
            NewPrice::new("pad", 400, c("EUR")).with_shown_in(c("GBP")),
        ],
    )
    .await?;
    assert_eq!(inserted, 2);

    // A patch sets one column to a value and one to NULL; find reads the row back.
    PricePatch::default()
        .with_currency(c("GBP"))
        .with_shown_in_opt(None)
        .update_by_id(&client, &pen.id)
        .await?;
    let found = Price::find_by_id(&client, &pen.id)
        .await?
        .ok_or("pen not found")?;
    assert_eq!((found.currency, found.shown_in), (c("GBP"), None));

    // The same on a caller's transaction and on a client that prepares once.
    let mut conn = client;
    let transaction = conn.transaction().await?;
    NewPrice::new("cap", 5, c("GBP"))
        .insert(&transaction)
        .await?;
    transaction.commit().await?;
    let cached = CachedClient::new(conn);
    NewPrice::insert_many(
        &cached,
        vec![NewPrice::new("nib", 75, c("EUR")).with_shown_in(c("EUR"))],
    )
    .await?;
    let client: &Client = &cached;
    assert_eq!(
        prices(client).await?,
        vec![
            price("pen", 250, "GBP", None),
            price("ink", 990, "USD", None),
            price("pad", 400, "EUR", Some("GBP")),
            price("cap", 5, "GBP", None),
            price("nib", 75, "EUR", Some("EUR")),
        ]
    );
    Ok(())
}

#[tokio::test]
async fn graphs_bind_the_type_the_server_resolves_at_every_step() -> TestResult {
    let (_db, mut client) = database().await?;

    // An insert graph: the root's one-row values and the children's arrays.
    let pen = NewPriceGraph::new("pen", 250, c("EUR"))
        .with_changes([
            NewPriceChangeForPrice::new(c("USD")),
            NewPriceChangeForPrice::new(c("EUR")).with_old(c("USD")),
        ])
        .insert_graph_returning(&client)
        .await?;
    assert_eq!(
        changes(&client, pen.id).await?,
        vec![change(None, "USD"), change(Some("USD"), "EUR")]
    );

    // A locked update graph: the lock, the patch and the appended child in one pipeline, in
    // a transaction of its own, the statements prepared first.
    PriceChangeGraph::default()
        .with_currency(c("GBP"))
        .with_changes([NewPriceChangeForPrice::new(c("GBP")).with_old(c("EUR"))])
        .update_by_id_graph(&mut client, &pen.id)
        .await?;
    assert_eq!(
        changes(&client, pen.id).await?,
        vec![
            change(None, "USD"),
            change(Some("USD"), "EUR"),
            change(Some("EUR"), "GBP")
        ]
    );

    // Many graphs in one statement, and the locked update on a client that prepares once.
    let roots = NewPriceGraph::insert_graph_many_returning(
        &client,
        vec![
            NewPriceGraph::new("ink", 990, c("USD"))
                .with_changes([NewPriceChangeForPrice::new(c("USD"))]),
            NewPriceGraph::new("pad", 400, c("EUR")),
        ],
    )
    .await?;
    let mut cached = CachedClient::new(client);
    PriceChangeGraph::default()
        .with_shown_in(c("USD"))
        .with_changes([NewPriceChangeForPrice::new(c("USD")).with_old(c("EUR"))])
        .update_by_id_graph(&mut cached, &roots[1].id)
        .await?;
    let client: &Client = &cached;
    assert_eq!(
        prices(client).await?,
        vec![
            price("pen", 250, "GBP", None),
            price("ink", 990, "USD", None),
            price("pad", 400, "EUR", Some("USD")),
        ]
    );
    assert_eq!(
        changes(client, roots[0].id).await?,
        vec![change(None, "USD")]
    );
    assert_eq!(
        changes(client, roots[1].id).await?,
        vec![change(Some("EUR"), "USD")]
    );
    Ok(())
}

/// An insert graph and a locked update graph on a pooled connection: deadpool's (its own
/// statement cache) and bb8's (sent as on a plain client).
#[tokio::test]
async fn pooled_connections_bind_the_type_the_server_resolves() -> TestResult {
    let (db, check) = database().await?;
    let manager = deadpool_postgres::Manager::new(db.config().clone(), NoTls);
    let deadpool = deadpool_postgres::Pool::builder(manager)
        .max_size(1)
        .build()?;
    let manager = bb8_postgres::PostgresConnectionManager::new(db.config().clone(), NoTls);
    let bb8 = bb8::Pool::builder().max_size(1).build(manager).await?;

    let mut pooled = deadpool.get().await?;
    let pen = NewPriceGraph::new("pen", 250, c("EUR"))
        .with_changes([NewPriceChangeForPrice::new(c("EUR"))])
        .insert_graph_returning(&pooled)
        .await?;
    PriceChangeGraph::default()
        .with_currency(c("USD"))
        .with_changes([NewPriceChangeForPrice::new(c("USD")).with_old(c("EUR"))])
        .update_by_id_graph(&mut pooled, &pen.id)
        .await?;

    let mut pooled = bb8.get().await?;
    let ink = NewPriceGraph::new("ink", 990, c("GBP"))
        .with_changes([NewPriceChangeForPrice::new(c("GBP"))])
        .insert_graph_returning(&pooled)
        .await?;
    PriceChangeGraph::default()
        .with_shown_in(c("EUR"))
        .with_changes([NewPriceChangeForPrice::new(c("EUR")).with_old(c("GBP"))])
        .update_by_id_graph(&mut pooled, &ink.id)
        .await?;

    assert_eq!(
        prices(&check).await?,
        vec![
            price("pen", 250, "USD", None),
            price("ink", 990, "GBP", Some("EUR"))
        ]
    );
    assert_eq!(
        changes(&check, pen.id).await?,
        vec![change(None, "EUR"), change(Some("EUR"), "USD")]
    );
    assert_eq!(
        changes(&check, ink.id).await?,
        vec![change(None, "GBP"), change(Some("GBP"), "EUR")]
    );
    Ok(())
}
