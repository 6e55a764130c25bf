//! Many insert graphs in one statement (`insert_graph_many`) against PostgreSQL: every row
//! lands under its own parent and its own root, parents found or created by key are written
//! once for all graphs, a bad graph refuses the whole batch before any SQL, and an empty
//! batch sends nothing.

use tokio_postgres::Client;
use writegraph::Error;
use writegraph_testing::{self as testing, CountingClient, TestDatabase};
use writegraph_tests::links::{
    NewAddressWithCity, NewArticleGraph, NewArticleGraphTag, NewCity, NewCustomerGraph,
    NewCustomerGraphAddress, NewCustomerWithAddress, NewParcelForShipmentWithCustomer,
    NewShipmentGraph, NewShipmentGraphAddress, NewShipmentGraphCustomer, NewShipmentGraphParcel,
    NewTag,
};
use writegraph_tests::nested::{
    NewCommentForPost, NewPostForAuthor, NewProfileForUser, NewUserGraph, NewUserGraphPost,
    NewUserGraphProfile,
};

type TestResult<T = ()> = Result<T, Box<dyn std::error::Error>>;

async fn database(schema: &str) -> TestResult<(TestDatabase, Client)> {
    let db = testing::database_with_schema(schema).await?;
    let client = db.connect().await?;
    Ok((db, client))
}

async fn count(client: &Client, sql: &str) -> TestResult<i64> {
    Ok(client.query_one(sql, &[]).await?.get(0))
}

/// User `u` with 3 posts of 3 comments each; post `p`'s title and comment `c`'s body name
/// their user and post, so a row under the wrong parent shows.
fn user(u: usize) -> NewUserGraph {
    NewUserGraph::new(format!("user{u}@x.test"))
        .with_posts((0..3).map(|p| {
            NewUserGraphPost::new(NewPostForAuthor::new(format!("{u}/{p}"))).with_comments(
                (0..3).map(|c| NewCommentForPost::new(format!("{u}/{p}/{c}")).into()),
            )
        }))
        .with_profile(NewUserGraphProfile::new(
            NewProfileForUser::new().with_bio(format!("bio {u}")),
        ))
}

#[tokio::test]
async fn a_thousand_graphs_of_three_levels_land_under_their_own_roots_in_one_statement(
) -> TestResult {
    let (_db, client) = database(include_str!("../schemas/nested.sql")).await?;
    let counting = CountingClient::new(&client);
    let report = NewUserGraph::insert_graph_many_report(&counting, (0..1_000).map(user)).await?;
    assert_eq!(counting.statements(), 1);
    let affected: Vec<(&str, u64)> = report.steps.iter().map(|s| (s.tag, s.affected)).collect();
    assert_eq!(
        affected,
        [
            ("graph:root:users", 1_000),
            ("graph:has_many:posts", 3_000),
            ("graph:has_many:posts/has_many:comments", 9_000),
            (
                "graph:has_many:posts/has_many:comments/has_many:reactions",
                0
            ),
            ("graph:has_many:posts/has_one:post_stats", 0),
            ("graph:has_one:profiles", 1_000),
            ("graph:has_one:profiles/has_many:profile_links", 0),
        ]
    );
    // Every post under its own user, every comment under its own post, every profile
    // with its own user.
    assert_eq!(
        count(
            &client,
            "SELECT count(*) FROM posts p JOIN users u ON u.id = p.author_id
             WHERE u.email <> 'user' || split_part(p.title, '/', 1) || '@x.test'"
        )
        .await?,
        0
    );
    assert_eq!(
        count(
            &client,
            "SELECT count(*) FROM comments c JOIN posts p ON p.id = c.post_id
             WHERE p.title <> split_part(c.body, '/', 1) || '/' || split_part(c.body, '/', 2)"
        )
        .await?,
        0
    );
    assert_eq!(
        count(
            &client,
            "SELECT count(*) FROM profiles f JOIN users u ON u.id = f.user_id
             WHERE u.email <> 'user' || substr(f.bio, 5) || '@x.test'"
        )
        .await?,
        0
    );
    assert_eq!(
        count(&client, "SELECT count(*) FROM comments").await?,
        9_000
    );
    Ok(())
}

#[tokio::test]
async fn an_empty_batch_sends_nothing_and_a_bad_graph_refuses_the_batch() -> TestResult {
    let (_db, client) = database(include_str!("../schemas/nested.sql")).await?;
    let counting = CountingClient::new(&client);
    let report = NewUserGraph::insert_graph_many_report(&counting, Vec::new()).await?;
    assert_eq!(counting.statements(), 0);
    assert!(report.steps.iter().all(|s| s.affected == 0));
    assert_eq!(report.steps.len(), 7);

    let mut graphs: Vec<NewUserGraph> = (0..5).map(user).collect();
    graphs[3].posts[1].comments[0].row.body = "nul \0 byte".to_owned();
    let error = NewUserGraph::insert_graph_many(&counting, graphs)
        .await
        .err()
        .ok_or("a graph with a NUL byte was written")?;
    assert!(matches!(error, Error::Validation(_)), "{error:?}");
    assert!(
        error
            .to_string()
            .contains("graph:has_many:posts/has_many:comments"),
        "{error}"
    );
    assert_eq!(counting.statements(), 0);
    assert_eq!(count(&client, "SELECT count(*) FROM users").await?, 0);

    // A failing row deep down rolls back every graph.
    let mut graphs: Vec<NewUserGraph> = (0..5).map(user).collect();
    graphs[4].posts[2].comments[1].row.body = String::new();
    let error = NewUserGraph::insert_graph_many(&client, graphs)
        .await
        .err()
        .ok_or("an empty comment was written")?;
    assert_eq!(
        error.tag(),
        Some("graph:has_many:posts/has_many:comments"),
        "{error:?}"
    );
    assert_eq!(count(&client, "SELECT count(*) FROM users").await?, 0);
    assert_eq!(count(&client, "SELECT count(*) FROM posts").await?, 0);
    Ok(())
}

/// Shipment `s`: parcels for two new customers, in cities named by `cities`.
fn shipment(s: usize, cities: [&str; 2]) -> NewShipmentGraph {
    NewShipmentGraph::new(format!("shipment {s}")).with_parcels(cities.iter().enumerate().map(
        |(n, city)| {
            let address =
                NewShipmentGraphAddress::new(NewAddressWithCity::new(format!("{s}/{n} street")))
                    .with_city(NewCity::new(*city));
            let customer = NewShipmentGraphCustomer::new(NewCustomerWithAddress::new(format!(
                "customer {s}/{n}"
            )))
            .with_address(address);
            NewShipmentGraphParcel::new(NewParcelForShipmentWithCustomer::new((s * 10 + n) as i32))
                .with_customer(customer)
        },
    ))
}

#[tokio::test]
async fn parents_found_or_created_by_key_are_written_once_for_every_graph() -> TestResult {
    let (_db, client) = database(include_str!("../schemas/links.sql")).await?;
    client
        .execute(
            "INSERT INTO cities (name, country) VALUES ('Lyon', 'FR')",
            &[],
        )
        .await?;
    let counting = CountingClient::new(&client);
    let report = NewShipmentGraph::insert_graph_many_report(
        &counting,
        (0..50).map(|s| shipment(s, [["Paris", "Lyon", "Nice"][s % 3], "Paris"])),
    )
    .await?;
    assert_eq!(counting.statements(), 1);
    let affected: Vec<(&str, u64)> = report.steps.iter().map(|s| (s.tag, s.affected)).collect();
    assert_eq!(
        affected,
        [
            ("graph:root:shipments", 50),
            (
                "graph:has_many:parcels/belongs_to:customers/belongs_to:addresses/belongs_to:cities",
                3
            ),
            ("graph:has_many:parcels/belongs_to:customers/belongs_to:addresses", 100),
            ("graph:has_many:parcels/belongs_to:customers", 100),
            ("graph:has_many:parcels", 100),
        ]
    );
    assert_eq!(count(&client, "SELECT count(*) FROM cities").await?, 3);
    // Each parcel's shipment, customer, address and city are its own.
    let rows = client
        .query(
            "SELECT sh.label, p.weight_grams, cu.name, a.street, c.name FROM parcels p
             JOIN shipments sh ON sh.id = p.shipment_id
             JOIN customers cu ON cu.id = p.customer_id
             JOIN addresses a ON a.id = cu.address_id JOIN cities c ON c.id = a.city_id",
            &[],
        )
        .await?;
    assert_eq!(rows.len(), 100);
    for row in &rows {
        let (label, grams, name, street, city): (String, i32, String, String, String) =
            (row.get(0), row.get(1), row.get(2), row.get(3), row.get(4));
        let (s, n) = (grams as usize / 10, grams as usize % 10);
        assert_eq!(label, format!("shipment {s}"));
        assert_eq!(name, format!("customer {s}/{n}"));
        assert_eq!(street, format!("{s}/{n} street"));
        let expected = if n == 0 {
            ["Paris", "Lyon", "Nice"][s % 3]
        } else {
            "Paris"
        };
        assert_eq!(city, expected);
    }
    Ok(())
}

#[tokio::test]
async fn many_graphs_link_their_own_far_rows_and_share_the_ones_they_name() -> TestResult {
    let (_db, client) = database(include_str!("../schemas/links.sql")).await?;
    client
        .execute("INSERT INTO tags (name) VALUES ('old')", &[])
        .await?;
    let counting = CountingClient::new(&client);
    let graphs = (0..20).map(|a| {
        NewArticleGraph::new(format!("article {a:02}")).with_tags([
            NewArticleGraphTag::connect("old"),
            NewArticleGraphTag::connect_or_create(NewTag::new(format!("t{}", a % 4))),
            NewArticleGraphTag::create(NewTag::new(format!("own {a}"))),
        ])
    });
    NewArticleGraph::insert_graph_many(&counting, graphs).await?;
    assert_eq!(counting.statements(), 1);
    assert_eq!(
        count(&client, "SELECT count(*) FROM tags").await?,
        1 + 4 + 20
    );
    assert_eq!(
        count(&client, "SELECT count(*) FROM article_tags").await?,
        60
    );
    assert_eq!(
        count(
            &client,
            "SELECT count(*) FROM article_tags at JOIN articles a ON a.id = at.article_id
             JOIN tags t ON t.id = at.tag_id
             WHERE t.name <> 'old'
               AND t.name <> 't' || (substr(a.title, 9)::int % 4)
               AND t.name <> 'own ' || substr(a.title, 9)::int"
        )
        .await?,
        0
    );
    Ok(())
}

#[tokio::test]
async fn a_graph_missing_a_required_parent_is_named_by_its_index() -> TestResult {
    let (_db, client) = database(include_str!("../schemas/links.sql")).await?;
    let counting = CountingClient::new(&client);
    let customer = |n: usize| {
        let address = NewCustomerGraphAddress::new(NewAddressWithCity::new(format!("{n} rue")))
            .with_city(NewCity::new("Lyon"));
        NewCustomerGraph::new(format!("customer {n}")).with_address(address)
    };
    let mut graphs: Vec<NewCustomerGraph> = (0..4).map(customer).collect();
    graphs[2].address = None;
    let error = NewCustomerGraph::insert_graph_many(&counting, graphs)
        .await
        .err()
        .ok_or("a customer without an address was written")?;
    assert!(matches!(error, Error::Validation(_)), "{error:?}");
    assert!(error.to_string().contains("graph 2:"), "{error}");
    assert_eq!(counting.statements(), 0);

    NewCustomerGraph::insert_graph_many(&counting, (0..4).map(customer)).await?;
    assert_eq!(counting.statements(), 1);
    assert_eq!(count(&client, "SELECT count(*) FROM customers").await?, 4);
    assert_eq!(count(&client, "SELECT count(*) FROM addresses").await?, 4);
    assert_eq!(count(&client, "SELECT count(*) FROM cities").await?, 1);
    Ok(())
}

#[tokio::test]
async fn each_graph_of_a_batch_stands_alone_under_its_own_savepoint() -> TestResult {
    let (_db, mut client) = database(include_str!("../schemas/nested.sql")).await?;
    let mut graphs: Vec<NewUserGraph> = (0..100).map(user).collect();
    // Two refused by the database (an empty title, a taken email), one before any SQL.
    graphs[10].posts[0].row.title = String::new();
    graphs[55] = user(54);
    graphs[90].posts[1].comments[2].row.body = "nul \0".to_owned();
    let results = NewUserGraph::insert_graph_each(&mut client, graphs).await?;
    assert_eq!(results.len(), 100);
    let failed: Vec<usize> = (0..100).filter(|&i| results[i].is_err()).collect();
    assert_eq!(failed, [10, 55, 90]);
    assert_eq!(
        results[10].as_ref().err().and_then(|e| e.tag()),
        Some("graph:has_many:posts")
    );
    assert!(
        matches!(&results[55], Err(e) if e.tag() == Some("graph:root:users")),
        "{:?}",
        results[55]
    );
    assert!(matches!(&results[90], Err(Error::Validation(_))));
    let written = results[0].as_ref().map_err(|e| e.to_string())?;
    assert_eq!(written.steps[0].affected, 1);
    // The 97 good graphs committed together, each whole; nothing of the 3 bad ones.
    assert_eq!(count(&client, "SELECT count(*) FROM users").await?, 97);
    assert_eq!(count(&client, "SELECT count(*) FROM posts").await?, 291);
    assert_eq!(count(&client, "SELECT count(*) FROM comments").await?, 873);
    assert_eq!(
        count(
            &client,
            "SELECT count(*) FROM users WHERE email IN ('user10@x.test', 'user90@x.test')"
        )
        .await?,
        0
    );

    // In a transaction the caller opened, the batch leaves it open: a rollback undoes it.
    client.batch_execute("BEGIN").await?;
    let results = NewUserGraph::insert_graph_each(&mut client, (200..203).map(user)).await?;
    assert!(results.iter().all(|r| r.is_ok()));
    client.batch_execute("ROLLBACK").await?;
    assert_eq!(count(&client, "SELECT count(*) FROM users").await?, 97);
    Ok(())
}

#[tokio::test]
async fn the_returning_form_gives_every_root_in_input_order() -> TestResult {
    use writegraph_tests::nested::{
        NewBoxForShelf, NewBoxItemForBox, NewShelfGraph, NewShelfGraphBox,
    };
    let (_db, client) = database(include_str!("../schemas/nested.sql")).await?;
    // Keys from the sequence in another order than the input's: ids given to some.
    let shelves: Vec<NewShelfGraph> = (0..30)
        .map(|n| {
            let shelf =
                NewShelfGraph::new(format!("shelf {n}")).with_boxes([NewShelfGraphBox::new(
                    NewBoxForShelf::new(format!("box {n}")),
                )
                .with_items([NewBoxItemForBox::new(format!("item {n}"))])]);
            if n % 7 == 3 {
                shelf.with_id(1_000 - n)
            } else {
                shelf
            }
        })
        .collect();
    let counting = CountingClient::new(&client);
    let report = NewShelfGraph::insert_graph_many_report_returning(&counting, shelves).await?;
    assert_eq!(counting.statements(), 1);
    let roots = report.root.ok_or("no roots")?;
    let labels: Vec<String> = roots.iter().map(|s| s.label.clone()).collect();
    let expected: Vec<String> = (0..30).map(|n| format!("shelf {n}")).collect();
    assert_eq!(labels, expected);
    assert_eq!(roots[3].id, 997);
    assert_eq!(report.steps[0].affected, 30);
    assert_eq!(report.steps[1].affected, 30);
    assert_eq!(report.steps[2].affected, 30);
    // Each item in its own shelf's box.
    assert_eq!(
        count(
            &client,
            "SELECT count(*) FROM box_items i JOIN boxes b ON b.id = i.box_id
             JOIN shelves s ON s.id = b.shelf_id
             WHERE substr(i.name, 6) <> substr(s.label, 7) OR substr(b.label, 5) <> substr(s.label, 7)"
        )
        .await?,
        0
    );
    assert!(
        NewShelfGraph::insert_graph_many_returning(&client, Vec::new())
            .await?
            .is_empty()
    );
    Ok(())
}

#[tokio::test]
async fn many_graphs_that_find_or_keep_one_parent_count_it_once() -> TestResult {
    use writegraph_tests::links::NewCityStopGraph;
    let (_db, client) = database(include_str!("../schemas/links.sql")).await?;
    client
        .batch_execute(
            "INSERT INTO routes (id, name) VALUES (1, 'r');
             INSERT INTO cities (name, country) VALUES ('Lyon', 'FR');",
        )
        .await?;
    let graphs = (1..=6).map(|p| {
        let city = if p % 2 == 0 { "Lyon" } else { "Metz" };
        NewCityStopGraph::new(1, p).with_city(NewCity::new(city).with_country("XX"))
    });
    let report = NewCityStopGraph::insert_graph_many_report(&client, graphs).await?;
    assert_eq!(report.steps[0].affected, 1, "only Metz is new");
    assert_eq!(report.steps[1].affected, 6);
    assert_eq!(
        count(&client, "SELECT count(*) FROM cities WHERE country = 'XX'").await?,
        1
    );
    assert_eq!(
        count(
            &client,
            "SELECT count(*) FROM stops s JOIN cities c ON c.id = s.city_id
             WHERE c.name = CASE WHEN s.position % 2 = 0 THEN 'Lyon' ELSE 'Metz' END"
        )
        .await?,
        6
    );
    Ok(())
}

#[tokio::test]
async fn two_graphs_with_one_root_key_are_refused_naming_both() -> TestResult {
    use writegraph_tests::links::NewPersonGraph;
    let (_db, client) = database(include_str!("../schemas/links.sql")).await?;
    let counting = CountingClient::new(&client);
    let emails = ["a@x.test", "b@x.test", "a@x.test"];
    let error = NewPersonGraph::insert_graph_many(&counting, emails.map(NewPersonGraph::new))
        .await
        .err()
        .ok_or("two people with one email were written")?;
    assert!(matches!(error, Error::Validation(_)), "{error:?}");
    assert!(error.to_string().contains("(graphs 0 and 2)"), "{error}");
    assert_eq!(counting.statements(), 0);
    NewPersonGraph::insert_graph_many(&counting, ["a@x.test", "b@x.test"].map(NewPersonGraph::new))
        .await?;
    assert_eq!(count(&client, "SELECT count(*) FROM people").await?, 2);
    Ok(())
}

#[tokio::test]
async fn a_batch_on_a_cached_client_runs_its_commands_in_order_from_a_cold_cache() -> TestResult {
    let (db, client) = database(include_str!("../schemas/nested.sql")).await?;
    for size in [1usize, 3, 50] {
        let mut cached = writegraph::CachedClient::new(db.connect().await?);
        let mut graphs: Vec<NewUserGraph> = (0..size).map(|n| user(size * 1_000 + n)).collect();
        if size > 1 {
            graphs[1].posts[0].row.title = String::new();
        }
        let results = NewUserGraph::insert_graph_each(&mut cached, graphs).await?;
        let failed: Vec<usize> = (0..size).filter(|&i| results[i].is_err()).collect();
        let want: Vec<usize> = if size > 1 { vec![1] } else { vec![] };
        assert_eq!(failed, want, "batch of {size}");
        let written = count(
            &client,
            &format!(
                "SELECT count(*) FROM users WHERE email LIKE 'user{size}___@x.test' OR email = 'user{}@x.test'",
                size * 1_000
            ),
        )
        .await?;
        assert_eq!(written as usize, size - want.len(), "batch of {size}");
    }
    Ok(())
}
