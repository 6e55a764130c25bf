//! Identifiers that must be quoted, end to end: the code generated from
//! `codegen/tests/schemas/awkward.sql` (tables `"Order"`, `"user"`, `"select"`,
//! `"order items"`, `"Mixed"."Case"`; columns `"user name"`, `"from"`, `"select"`, `"Id"`;
//! the enum `"Mood"` with odd labels) inserts, upserts, patches and deletes rows, and plain SQL
//! that quotes the names reads back what was written.

use writegraph_tests::awkward as awkward_schema;

mod quoted_names {
    use tokio_postgres::Client;
    use writegraph::types::chrono::NaiveDate as Date;
    use writegraph::types::Decimal;
    use writegraph_testing::{self as testing, TestDatabase};

    use super::awkward_schema::{
        tables, Case, Mood, NewAB, NewCase, NewOrder, NewOrderItem, NewSelect, NewUser, Order,
        OrderItem, OrderItemPatch, OrderPatch, Select, SelectPatch, Status, User, UserPatch,
    };

    type TestResult = Result<(), Box<dyn std::error::Error>>;

    async fn database() -> Result<(TestDatabase, Client), Box<dyn std::error::Error>> {
        let db =
            testing::database_with_schema(include_str!("../../codegen/tests/schemas/awkward.sql"))
                .await?;
        let client = db.connect().await?;
        Ok((db, client))
    }

    /// Inserts a `"user"` and returns its `"Id"`.
    async fn user(client: &Client, name: &str) -> Result<i64, Box<dyn std::error::Error>> {
        Ok(NewUser::new(name).insert_returning(client).await?.id)
    }

    #[tokio::test]
    async fn users_with_reserved_column_names_are_inserted() -> TestResult {
        let (_db, client) = database().await?;
        let first = NewUser::new("ada lovelace")
            .with_from("London")
            .with_select(7)
            .with_mood(Mood::VerySad)
            .insert_returning(&client)
            .await?;
        assert_eq!(first.user_name, "ada lovelace");
        assert_eq!(first.from.as_deref(), Some("London"));
        assert_eq!(first.select, Some(7));
        assert_eq!(first.mood, Mood::VerySad);

        // The batch covers every odd label, a defaulted column left unset (DEFAULT 1) and
        // one set to NULL.
        let inserted = NewUser::insert_many(
            &client,
            vec![
                NewUser::new("it's").with_mood(Mood::ItSFine),
                NewUser::new("two  spaces")
                    .with_mood(Mood::TwoSpaces)
                    .with_select_opt(None),
                NewUser::new("\"quoted\"").with_mood(Mood::Upper),
                NewUser::new("happy").with_mood(Mood::Happy),
                NewUser::new("defaulted"),
            ],
        )
        .await?;
        assert_eq!(inserted, 5);

        let rows = client
            .query(
                r#"SELECT "user name", "from", "select", mood::text FROM "user" ORDER BY "Id""#,
                &[],
            )
            .await?;
        let read: Vec<(String, Option<String>, Option<i32>, String)> = rows
            .iter()
            .map(|r| (r.get(0), r.get(1), r.get(2), r.get(3)))
            .collect();
        let row = |name: &str, from: Option<&str>, select: Option<i32>, mood: &str| {
            (
                name.to_owned(),
                from.map(str::to_owned),
                select,
                mood.to_owned(),
            )
        };
        assert_eq!(
            read,
            vec![
                row("ada lovelace", Some("London"), Some(7), "very \"sad\""),
                row("it's", None, Some(1), "it's fine"),
                row("two  spaces", None, None, "two  spaces"),
                row("\"quoted\"", None, Some(1), "UPPER"),
                row("happy", None, Some(1), "happy"),
                row("defaulted", None, Some(1), "it's fine"),
            ]
        );
        Ok(())
    }

    #[tokio::test]
    async fn a_user_is_patched_and_deleted_by_its_quoted_key() -> TestResult {
        let (_db, client) = database().await?;
        let id = user(&client, "grace").await?;
        // "Mixed"."Case" references "user"("user name") ON UPDATE CASCADE.
        NewCase::new(1, "grace").insert(&client).await?;

        let patched = UserPatch::default()
            .with_user_name("grace hopper")
            .with_from("Arlington")
            .with_select_opt(None)
            .with_mood(Mood::Happy)
            .update_by_id_returning(&client, &id)
            .await?;
        assert_eq!(
            patched,
            User {
                id,
                user_name: "grace hopper".to_owned(),
                from: Some("Arlington".to_owned()),
                select: None,
                mood: Mood::Happy,
            }
        );
        let stored = client
            .query_one(
                r#"SELECT u."user name", u."from", u."select", c."user name"
                   FROM "user" u JOIN "Mixed"."Case" c ON c."user name" = u."user name"
                   WHERE u."Id" = $1"#,
                &[&id],
            )
            .await?;
        assert_eq!(stored.get::<_, String>(0), "grace hopper");
        assert_eq!(
            stored.get::<_, Option<String>>(1).as_deref(),
            Some("Arlington")
        );
        assert_eq!(stored.get::<_, Option<i32>>(2), None);
        assert_eq!(stored.get::<_, String>(3), "grace hopper");

        Case::delete_by_id(&client, &1).await?;
        assert_eq!(User::delete_by_id(&client, &id).await?, 1);
        let left: i64 = client
            .query_one(r#"SELECT count(*) FROM "user""#, &[])
            .await?
            .get(0);
        assert_eq!(left, 0);
        assert!(User::find_by_id(&client, &id).await?.is_none());
        Ok(())
    }

    #[tokio::test]
    async fn orders_are_inserted_upserted_patched_and_deleted() -> TestResult {
        let (_db, client) = database().await?;
        let buyer = user(&client, "buyer").await?;
        let day = Date::from_ymd_opt(2020, 2, 29).ok_or("date")?;

        let order = NewOrder::new(buyer)
            .with_from(day)
            .with_total("12.50".parse::<Decimal>()?)
            .insert_returning(&client)
            .await?;
        let defaulted = NewOrder::new(buyer).insert_returning(&client).await?;
        let today: Date = client.query_one("SELECT CURRENT_DATE", &[]).await?.get(0);
        assert_eq!(defaulted.from, today);
        assert_eq!(defaulted.total, None);

        // Upsert on "Id": the existing order is updated, not duplicated.
        let upserted = NewOrder::new(buyer)
            .with_id(order.id)
            .with_from(day)
            .with_total("99.99".parse::<Decimal>()?)
            .upsert_returning(&client)
            .await?;
        assert_eq!(upserted.id, order.id);
        let stored = client
            .query_one(
                r#"SELECT "user", "from", "Total"::text, (SELECT count(*) FROM "Order")
                   FROM "Order" WHERE "Id" = $1"#,
                &[&order.id],
            )
            .await?;
        assert_eq!(stored.get::<_, i64>(0), buyer);
        assert_eq!(stored.get::<_, Date>(1), day);
        assert_eq!(stored.get::<_, Option<String>>(2).as_deref(), Some("99.99"));
        assert_eq!(stored.get::<_, i64>(3), 2);

        let patched = OrderPatch::default()
            .with_from(Date::from_ymd_opt(1999, 12, 31).ok_or("date")?)
            .with_total_opt(None)
            .update_by_id_returning(&client, &order.id)
            .await?;
        assert_eq!(
            patched,
            Order {
                id: order.id,
                user: buyer,
                from: Date::from_ymd_opt(1999, 12, 31).ok_or("date")?,
                total: None,
            }
        );
        let total_is_null: bool = client
            .query_one(
                r#"SELECT "Total" IS NULL FROM "Order" WHERE "Id" = $1"#,
                &[&order.id],
            )
            .await?
            .get(0);
        assert!(total_is_null);

        Order::delete_by_id(&client, &order.id).await?;
        let ids: Vec<i64> = client
            .query(r#"SELECT "Id" FROM "Order""#, &[])
            .await?
            .iter()
            .map(|r| r.get(0))
            .collect();
        assert_eq!(ids, vec![defaulted.id]);
        Ok(())
    }

    #[tokio::test]
    async fn the_select_table_is_keyed_by_its_select_column() -> TestResult {
        let (_db, client) = database().await?;
        let buyer = user(&client, "buyer").await?;
        let order = NewOrder::new(buyer).insert_returning(&client).await?;

        NewSelect::insert_many(
            &client,
            vec![NewSelect::new("from"), NewSelect::new("where")],
        )
        .await?;
        // Upsert on "select": one existing key updated, one new key inserted.
        let upserted = NewSelect::upsert_many(
            &client,
            vec![
                NewSelect::new("from").with_order(order.id),
                NewSelect::new("group by"),
            ],
        )
        .await?;
        assert_eq!(upserted, 2);
        let read = |rows: Vec<tokio_postgres::Row>| -> Vec<(String, Option<i64>)> {
            rows.iter().map(|r| (r.get(0), r.get(1))).collect()
        };
        let sql = r#"SELECT "select", "order" FROM "select" ORDER BY "select""#;
        assert_eq!(
            read(client.query(sql, &[]).await?),
            vec![
                ("from".to_owned(), Some(order.id)),
                ("group by".to_owned(), None),
                ("where".to_owned(), None),
            ]
        );

        // Patching the key column itself: "order items"."select" follows ON UPDATE CASCADE.
        NewOrderItem::new(order.id, 1)
            .with_select("where")
            .insert(&client)
            .await?;
        let patched = SelectPatch::default()
            .with_select("having")
            .with_order(order.id)
            .update_by_id_returning(&client, &"where".to_owned())
            .await?;
        assert_eq!(
            patched,
            Select {
                select: "having".to_owned(),
                order: Some(order.id),
            }
        );
        let item_select: Option<String> = client
            .query_one(r#"SELECT "select" FROM "order items""#, &[])
            .await?
            .get(0);
        assert_eq!(item_select.as_deref(), Some("having"));

        Select::delete_by_id(&client, &"group by".to_owned()).await?;
        assert_eq!(
            read(client.query(sql, &[]).await?),
            vec![
                ("from".to_owned(), Some(order.id)),
                ("having".to_owned(), Some(order.id)),
            ]
        );
        Ok(())
    }

    #[tokio::test]
    async fn order_items_use_a_two_column_key_with_spaces() -> TestResult {
        let (_db, client) = database().await?;
        let buyer = user(&client, "buyer").await?;
        let order = NewOrder::new(buyer).insert_returning(&client).await?;
        NewSelect::insert_many(&client, vec![NewSelect::new("a"), NewSelect::new("b")]).await?;

        let inserted = NewOrderItem::insert_many_returning(
            &client,
            vec![
                NewOrderItem::new(order.id, 1).with_select("a"),
                NewOrderItem::new(order.id, 2),
            ],
        )
        .await?;
        assert_eq!(
            inserted,
            vec![
                OrderItem {
                    order: order.id,
                    line_no: 1,
                    select: Some("a".to_owned()),
                },
                OrderItem {
                    order: order.id,
                    line_no: 2,
                    select: None,
                },
            ]
        );

        // Upsert on ("Order", "line no"): line 2 is updated, line 3 inserted.
        NewOrderItem::upsert_many(
            &client,
            vec![
                NewOrderItem::new(order.id, 2).with_select("b"),
                NewOrderItem::new(order.id, 3).with_select("a"),
            ],
        )
        .await?;
        OrderItemPatch::default()
            .with_select_opt(None)
            .update_by_id(&client, &(order.id, 1))
            .await?;
        OrderItem::delete_by_id(&client, &(order.id, 3)).await?;

        let rows = client
            .query(
                r#"SELECT "Order", "line no", "select" FROM "order items" ORDER BY "line no""#,
                &[],
            )
            .await?;
        let read: Vec<(i64, i32, Option<String>)> = rows
            .iter()
            .map(|r| (r.get(0), r.get(1), r.get(2)))
            .collect();
        assert_eq!(
            read,
            vec![(order.id, 1, None), (order.id, 2, Some("b".to_owned()))]
        );
        assert_eq!(
            OrderItem::find_by_id(&client, &(order.id, 2)).await?,
            Some(OrderItem {
                order: order.id,
                line_no: 2,
                select: Some("b".to_owned()),
            })
        );
        Ok(())
    }

    #[tokio::test]
    async fn a_table_in_a_mixed_case_schema_and_one_with_a_quote_in_its_name() -> TestResult {
        let (_db, client) = database().await?;
        user(&client, "owner").await?;
        NewAB::insert_many(
            &client,
            vec![
                NewAB::new(1).with_e_f(vec![Mood::ItSFine, Mood::VerySad, Mood::TwoSpaces]),
                NewAB::new(2).with_e_f(Vec::<Mood>::new()),
                NewAB::new(3),
            ],
        )
        .await?;
        let moods: Vec<(i32, Option<Vec<String>>)> = client
            .query(
                r#"SELECT "c""d", "e f"::text[] FROM "a""b" ORDER BY "c""d""#,
                &[],
            )
            .await?
            .iter()
            .map(|r| (r.get(0), r.get(1)))
            .collect();
        assert_eq!(
            moods,
            vec![
                (
                    1,
                    Some(vec![
                        "it's fine".to_owned(),
                        "very \"sad\"".to_owned(),
                        "two  spaces".to_owned(),
                    ])
                ),
                (2, Some(vec![])),
                (3, None),
            ]
        );

        let case = NewCase::new(10, "owner")
            .with_a_b(1)
            .insert_returning(&client)
            .await?;
        assert_eq!(case.status, Status::New);
        // Upsert on "Id" moves the row to the other enum label.
        NewCase::new(10, "owner")
            .with_status(Status::Done)
            .upsert(&client)
            .await?;
        let stored = client
            .query_one(
                r#"SELECT "a""b", "user name", "Status"::text FROM "Mixed"."Case" WHERE "Id" = 10"#,
                &[],
            )
            .await?;
        // The upsert leaves "a""b" unset, so the row keeps its value.
        assert_eq!(stored.get::<_, Option<i32>>(0), Some(1));
        assert_eq!(stored.get::<_, String>(1), "owner");
        assert_eq!(stored.get::<_, String>(2), "Done");
        assert_eq!(tables::CASE, "\"Mixed\".\"Case\"");
        assert_eq!(
            Case::find_by_id(&client, &10).await?.map(|c| c.status),
            Some(Status::Done)
        );
        Ok(())
    }
}
