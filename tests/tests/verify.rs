//! The generated `verify_database` compares the live database with the schema the code was
//! generated from, and reports every difference: a fresh database has none, on every client
//! kind; each kind of drift (a changed type, a dropped column or table, a NOT NULL dropped or
//! added, a unique key an upsert or a diff relies on dropped, a NOT NULL column the code does
//! not know, an enum label added or renamed) is reported exactly, naming the table, the column and both types. It writes
//! nothing: it runs in a read-only transaction.

use tokio_postgres::{Client, NoTls};
use writegraph::verify::{schema_differences, SchemaDifference};
use writegraph::{CachedClient, Error};
use writegraph_example::{verify_database, EXPECTED_SCHEMA, SCHEMA_SQL};
use writegraph_testing::{self as testing, TestDatabase};

type TestResult<T = ()> = Result<T, Box<dyn std::error::Error>>;

async fn shop() -> TestResult<(TestDatabase, Client)> {
    let db = testing::database_with_schema(SCHEMA_SQL).await?;
    let client = db.connect().await?;
    Ok((db, client))
}

/// The example's differences after `ddl` ran on a fresh database.
async fn shop_differences_after(ddl: &str) -> TestResult<Vec<SchemaDifference>> {
    let (_db, client) = shop().await?;
    client.batch_execute(ddl).await?;
    Ok(schema_differences(&client, &EXPECTED_SCHEMA).await?)
}

fn text(s: &str) -> String {
    s.to_owned()
}

#[tokio::test]
async fn a_fresh_database_has_no_differences_on_every_client_kind() -> TestResult {
    let (db, mut client) = shop().await?;
    verify_database(&client).await?;
    {
        let tx = client.transaction().await?;
        verify_database(&tx).await?;
        tx.commit().await?;
    }
    let mut cached = CachedClient::new(db.connect().await?);
    verify_database(&cached).await?;
    // Twice: the second run uses the statements the first one prepared.
    verify_database(&cached).await?;
    {
        let tx = cached.transaction().await?;
        verify_database(&tx).await?;
        tx.commit().await?;
    }

    let manager = deadpool_postgres::Manager::new(db.config().clone(), NoTls);
    let pool = deadpool_postgres::Pool::builder(manager)
        .max_size(1)
        .build()?;
    let conn = pool.get().await.map_err(|e| format!("deadpool get: {e}"))?;
    verify_database(&conn).await?;

    let manager = bb8_postgres::PostgresConnectionManager::new(db.config().clone(), NoTls);
    let pool = bb8::Pool::builder().max_size(1).build(manager).await?;
    let conn = pool.get().await.map_err(|e| format!("bb8 get: {e}"))?;
    verify_database(&conn).await?;
    Ok(())
}

/// The test schemas with user types, arrays, domains, quoted and odd names have none either:
/// the types are spelled as the generator spells them.
#[tokio::test]
async fn fresh_test_schemas_have_no_differences() -> TestResult {
    for (label, sql) in [
        ("types", include_str!("../schemas/types.sql")),
        ("optional", include_str!("../schemas/optional.sql")),
        ("names", include_str!("../schemas/names.sql")),
        (
            "awkward",
            include_str!("../../codegen/tests/schemas/awkward.sql"),
        ),
    ] {
        let db = testing::database_with_schema(sql).await?;
        let client = db.connect().await?;
        let result = match label {
            "types" => writegraph_tests::types::verify_database(&client).await,
            "optional" => writegraph_tests::optional::verify_database(&client).await,
            "names" => writegraph_tests::names::verify_database(&client).await,
            _ => writegraph_tests::awkward::verify_database(&client).await,
        };
        result.map_err(|e| format!("{label}: {e}"))?;
    }
    Ok(())
}

/// `smallint` → `integer` on a column the code reads as `i16`: the write would commit and
/// its result could not be read. Reported before any write, with both types.
#[tokio::test]
async fn a_column_type_change_is_reported_with_both_types() -> TestResult {
    let db = testing::database_with_schema(include_str!("../schemas/types.sql")).await?;
    let client = db.connect().await?;
    client
        .batch_execute("ALTER TABLE all_types ALTER COLUMN c_int2 TYPE integer")
        .await?;
    let error = match writegraph_tests::types::verify_database(&client).await {
        Ok(()) => return Err("expected a schema mismatch".into()),
        Err(error) => error,
    };
    let Error::SchemaMismatch(mismatch) = &error else {
        return Err(format!("expected Error::SchemaMismatch, got {error:?}").into());
    };
    assert_eq!(
        mismatch.differences,
        [SchemaDifference::ColumnType {
            table: text("public.all_types"),
            column: text("c_int2"),
            expected: text("smallint"),
            found: text("integer"),
        }]
    );
    assert_eq!(
        error.to_string(),
        "the database differs from the schema the code was generated from (1 difference):\n  \
         - column `c_int2` of `public.all_types` is `integer` in the database, but the code was \
         generated for `smallint`\n\
         regenerate the code from the database's schema, or migrate the database to the schema \
         the code was generated from"
    );
    Ok(())
}

/// A changed `varchar(n)` length (the code checks lengths before sending) and an enum column
/// turned into text are type differences too.
#[tokio::test]
async fn modifier_and_user_type_changes_are_reported() -> TestResult {
    let differences = shop_differences_after(
        "ALTER TABLE product_tags ALTER COLUMN tag TYPE varchar(128);
         ALTER TABLE orders ALTER COLUMN status DROP DEFAULT;
         ALTER TABLE orders ALTER COLUMN status TYPE text;",
    )
    .await?;
    assert_eq!(
        differences,
        [
            SchemaDifference::ColumnType {
                table: text("public.product_tags"),
                column: text("tag"),
                expected: text("character varying(64)"),
                found: text("character varying(128)"),
            },
            SchemaDifference::ColumnType {
                table: text("public.orders"),
                column: text("status"),
                expected: text("public.order_status"),
                found: text("text"),
            },
        ]
    );
    Ok(())
}

#[tokio::test]
async fn a_dropped_column_and_a_dropped_table_are_reported() -> TestResult {
    let differences =
        shop_differences_after("ALTER TABLE orders DROP COLUMN note; DROP TABLE item_returns;")
            .await?;
    assert_eq!(
        differences,
        [
            SchemaDifference::MissingColumn {
                table: text("public.orders"),
                column: text("note"),
                expected: text("text"),
            },
            SchemaDifference::MissingTable {
                table: text("public.item_returns"),
            },
        ]
    );
    assert_eq!(
        differences[1].to_string(),
        "table `public.item_returns` does not exist in the database"
    );
    Ok(())
}

#[tokio::test]
async fn not_null_dropped_or_added_is_reported() -> TestResult {
    let differences = shop_differences_after(
        "ALTER TABLE orders ALTER COLUMN customer DROP NOT NULL;
         ALTER TABLE orders ALTER COLUMN note SET NOT NULL;",
    )
    .await?;
    assert_eq!(
        differences,
        [
            SchemaDifference::Nullability {
                table: text("public.orders"),
                column: text("customer"),
                expected_not_null: true,
            },
            SchemaDifference::Nullability {
                table: text("public.orders"),
                column: text("note"),
                expected_not_null: false,
            },
        ]
    );
    assert_eq!(
        differences[0].to_string(),
        "column `customer` of `public.orders` is nullable in the database, but the code was \
         generated for a NOT NULL column"
    );
    Ok(())
}

/// The unique key of `order_items`' conflict target, which the diff of `OrderPatchGraph`
/// upserts by too; the constraint `product_tags`' upsert names, replaced by a unique index of
/// the same name (which `ON CONFLICT ON CONSTRAINT` cannot use); and `users`' email key made
/// partial (which `ON CONFLICT (email)` cannot infer).
#[tokio::test]
async fn a_dropped_or_unusable_unique_key_is_reported_with_its_users() -> TestResult {
    let differences = shop_differences_after(
        "ALTER TABLE order_items DROP CONSTRAINT uq_order_items;
         ALTER TABLE product_tags DROP CONSTRAINT uq_product_tags;
         CREATE UNIQUE INDEX uq_product_tags ON product_tags (product_id, tag);
         DROP INDEX users_email_key;
         CREATE UNIQUE INDEX users_email_key ON users (email) WHERE email <> '';",
    )
    .await?;
    assert_eq!(
        differences,
        [
            SchemaDifference::MissingKey {
                table: text("public.product_tags"),
                columns: vec![text("product_id"), text("tag")],
                primary: false,
                constraint: Some(text("uq_product_tags")),
                used_by: text("the upsert's ON CONFLICT"),
                found: vec![
                    text("primary key product_tags_pkey (id)"),
                    text("uq_product_tags (product_id, tag)"),
                ],
            },
            SchemaDifference::MissingKey {
                table: text("public.order_items"),
                columns: vec![text("order_id"), text("sku")],
                primary: false,
                constraint: None,
                used_by: text(
                    "the upsert's ON CONFLICT, the diff of `OrderDiffGraph.items`, the diff of \
                     `OrderPatchGraph.items`",
                ),
                found: vec![text("primary key order_items_pkey (id)")],
            },
            SchemaDifference::MissingKey {
                table: text("public.users"),
                columns: vec![text("email")],
                primary: false,
                constraint: None,
                used_by: text("the upsert's ON CONFLICT"),
                found: vec![
                    text("primary key users_pkey (id)"),
                    text("users_email_key (email) (partial, on an expression or not valid)"),
                ],
            },
        ]
    );
    assert_eq!(
        differences[1].to_string(),
        "`public.order_items` has no unique key on (order_id, sku), used by the upsert's ON \
         CONFLICT, the diff of `OrderDiffGraph.items`, the diff of `OrderPatchGraph.items`; its \
         unique keys are: primary key order_items_pkey (id)"
    );
    Ok(())
}

/// A column the code does not know matters only when inserts, which leave it out, fail:
/// NOT NULL without a default. A nullable one, or one with a default, is no difference, so
/// that a migration can add a column before the code that uses it is deployed.
#[tokio::test]
async fn only_an_unknown_not_null_column_without_default_is_reported() -> TestResult {
    let differences = shop_differences_after(
        "ALTER TABLE orders ADD COLUMN region text;
         ALTER TABLE orders ADD COLUMN channel text NOT NULL DEFAULT 'web';
         ALTER TABLE orders ADD COLUMN placed_by bigint NOT NULL DEFAULT 0;
         ALTER TABLE orders ALTER COLUMN placed_by DROP DEFAULT;",
    )
    .await?;
    assert_eq!(
        differences,
        [SchemaDifference::UnknownRequiredColumn {
            table: text("public.orders"),
            column: text("placed_by"),
            found: text("bigint"),
        }]
    );
    Ok(())
}

/// A label the code does not know cannot be read back; one the database lacks cannot be
/// written.
#[tokio::test]
async fn changed_enum_labels_are_reported() -> TestResult {
    let differences = shop_differences_after(
        "ALTER TYPE order_status ADD VALUE 'refunded';
         ALTER TYPE member_role RENAME VALUE 'member' TO 'viewer';",
    )
    .await?;
    assert_eq!(
        differences,
        [
            SchemaDifference::EnumLabels {
                enum_type: text("public.order_status"),
                unknown: vec![text("refunded")],
                missing: vec![],
            },
            SchemaDifference::EnumLabels {
                enum_type: text("public.member_role"),
                unknown: vec![text("viewer")],
                missing: vec![text("member")],
            },
        ]
    );
    assert_eq!(
        differences[1].to_string(),
        "enum type `public.member_role` has labels the code does not know (rows with them \
         cannot be read): viewer, and lacks labels the code writes: member"
    );
    Ok(())
}

/// Every difference at once, in the code's order of tables and columns, none left out.
#[tokio::test]
async fn every_difference_is_reported_at_once() -> TestResult {
    let differences = shop_differences_after(
        "ALTER TABLE categories ALTER COLUMN name TYPE varchar(10);
         ALTER TABLE orders DROP COLUMN total_cents;
         ALTER TABLE orders ALTER COLUMN customer DROP NOT NULL;
         DROP TABLE item_returns;
         ALTER TABLE teams DROP CONSTRAINT teams_name_key;",
    )
    .await?;
    let lines: Vec<String> = differences.iter().map(ToString::to_string).collect();
    assert_eq!(
        lines,
        [
            "column `name` of `public.categories` is `character varying(10)` in the database, \
             but the code was generated for `text`",
            "column `customer` of `public.orders` is nullable in the database, but the code was \
             generated for a NOT NULL column",
            "column `total_cents` of `public.orders` does not exist in the database (the code \
             was generated for `bigint`)",
            "table `public.item_returns` does not exist in the database",
            "`public.teams` has no unique key on (name), used by the upsert's ON CONFLICT; its \
             unique keys are: primary key teams_pkey (id)",
        ]
    );
    Ok(())
}

/// The check reads the catalog only: it runs in a read-only transaction.
#[tokio::test]
async fn verifying_writes_nothing() -> TestResult {
    let (_db, mut client) = shop().await?;
    let tx = client.build_transaction().read_only(true).start().await?;
    verify_database(&tx).await?;
    tx.commit().await?;
    Ok(())
}
