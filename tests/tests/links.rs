//! Parents found or created below the root, parents of parents, and rows linked through a
//! join table (`tests/schemas/links.toml`) against PostgreSQL: every row is linked to its
//! own parent by key, in one statement, and rows that name one parent share it.

use tokio_postgres::Client;
use writegraph::Error;
use writegraph_testing::{self as testing, CountingClient, TestDatabase};
use writegraph_tests::links::{
    ArticleTagsGraph, NewAddressWithCity, NewArticleForBlog, NewArticleGraph, NewArticleGraphTag,
    NewArticleLog, NewArticleLogForArticle, NewArticleTagForArticleAndTag, NewBlogGraph,
    NewBlogGraphArticle, NewBlogGraphTag, NewCity, NewCityStopGraph, NewCustomerGraph,
    NewCustomerGraphAddress, NewCustomerWithAddress, NewGroupGraph, NewGroupGraphMember,
    NewGroupGraphMemberLink, NewGroupMemberForGroupAndPerson, NewParcelForShipmentWithCustomer,
    NewPerson, NewQuietRouteGraph, NewQuietRouteGraphStop, NewRouteGraph, NewRouteGraphStop,
    NewRouteOnceGraph, NewShipmentGraph, NewShipmentGraphAddress, NewShipmentGraphCustomer,
    NewShipmentGraphParcel, NewStopForRoute, NewStopForRouteWithCity, NewTag,
};

type TestResult<T = ()> = Result<T, Box<dyn std::error::Error>>;

const SCHEMA_SQL: &str = include_str!("../schemas/links.sql");

async fn database() -> TestResult<(TestDatabase, Client)> {
    let db = testing::database_with_schema(SCHEMA_SQL).await?;
    let client = db.connect().await?;
    Ok((db, client))
}

async fn count(client: &Client, sql: &str) -> TestResult<i64> {
    Ok(client.query_one(sql, &[]).await?.get(0))
}

/// `(name, country)` of every city, by name.
async fn cities(client: &Client) -> TestResult<Vec<(String, Option<String>)>> {
    Ok(client
        .query("SELECT name, country FROM cities ORDER BY name", &[])
        .await?
        .iter()
        .map(|r| (r.get(0), r.get(1)))
        .collect())
}

/// `(route, position, city)` of every stop.
async fn stops(client: &Client) -> TestResult<Vec<(String, i32, String)>> {
    Ok(client
        .query(
            "SELECT r.name, s.position, c.name FROM stops s
             JOIN routes r ON r.id = s.route_id JOIN cities c ON c.id = s.city_id
             ORDER BY r.name, s.position",
            &[],
        )
        .await?
        .iter()
        .map(|r| (r.get(0), r.get(1), r.get(2)))
        .collect())
}

/// A stop at `position` in the city `city`, found or created by name.
fn stop(position: i32, city: NewCity) -> NewRouteGraphStop {
    NewRouteGraphStop::new(NewStopForRouteWithCity::new(position)).with_city(city)
}

#[tokio::test]
async fn each_row_finds_or_creates_its_parent_and_rows_naming_one_parent_share_it() -> TestResult {
    let (_db, client) = database().await?;
    client
        .execute("INSERT INTO cities (name) VALUES ('Lyon')", &[])
        .await?;
    let lyon: i32 = client
        .query_one("SELECT id FROM cities WHERE name = 'Lyon'", &[])
        .await?
        .get(0);
    let counting = CountingClient::new(&client);
    let report = NewRouteGraph::new("south")
        .with_stops([
            stop(1, NewCity::new("Paris")),
            stop(2, NewCity::new("Lyon").with_country("FR")),
            // Paris again: the first Paris row is the one written.
            stop(3, NewCity::new("Paris").with_country("XX")),
            stop(4, NewCity::new("Nice")),
            // A stop given its city's id takes no city row.
            NewRouteGraphStop::new(NewStopForRouteWithCity::new(5).with_city_id(lyon)),
        ])
        .insert_graph_report(&counting)
        .await?;
    assert_eq!(counting.statements(), 1);
    let affected: Vec<(&str, u64)> = report.steps.iter().map(|s| (s.tag, s.affected)).collect();
    assert_eq!(
        affected,
        [
            ("graph:root:routes", 1),
            ("graph:has_many:stops/belongs_to:cities", 3),
            ("graph:has_many:stops", 5),
        ]
    );
    let city = |name: &str, country: Option<&str>| (name.to_owned(), country.map(str::to_owned));
    assert_eq!(
        cities(&client).await?,
        [
            city("Lyon", Some("FR")),
            city("Nice", None),
            city("Paris", None)
        ]
    );
    // Lyon kept its id.
    assert_eq!(
        count(
            &client,
            &format!("SELECT count(*) FROM cities WHERE id = {lyon}")
        )
        .await?,
        1
    );
    let row = |position: i32, city: &str| ("south".to_owned(), position, city.to_owned());
    assert_eq!(
        stops(&client).await?,
        [
            row(1, "Paris"),
            row(2, "Lyon"),
            row(3, "Paris"),
            row(4, "Nice"),
            row(5, "Lyon")
        ]
    );

    // A second route finds every city it names, whatever their order, and leaves a stored
    // country when it gives none.
    NewRouteGraph::new("north")
        .with_stops((1..=40).map(|p| {
            let name = ["Nice", "Paris", "Lyon", "Lille"][p as usize % 4];
            stop(p, NewCity::new(name))
        }))
        .insert_graph(&client)
        .await?;
    assert_eq!(
        cities(&client).await?,
        [
            city("Lille", None),
            city("Lyon", Some("FR")),
            city("Nice", None),
            city("Paris", None)
        ]
    );
    let north: Vec<_> = stops(&client)
        .await?
        .into_iter()
        .filter(|(route, ..)| route == "north")
        .collect();
    assert_eq!(north.len(), 40);
    for (_, position, city) in north {
        assert_eq!(
            city,
            ["Nice", "Paris", "Lyon", "Lille"][position as usize % 4]
        );
    }
    Ok(())
}

#[tokio::test]
async fn concurrent_rows_that_create_one_new_parent_share_it() -> TestResult {
    let (db, client) = database().await?;
    let mut writers = Vec::new();
    for writer in 0..16 {
        let writer_client = db.connect().await?;
        writers.push(tokio::spawn(async move {
            NewRouteGraph::new(format!("route {writer}"))
                .with_stops([
                    stop(1, NewCity::new("Berlin")),
                    stop(2, NewCity::new(format!("town {}", writer % 4))),
                ])
                .insert_graph(&writer_client)
                .await
        }));
    }
    for writer in writers {
        writer.await??;
    }
    assert_eq!(count(&client, "SELECT count(*) FROM cities").await?, 5);
    assert_eq!(count(&client, "SELECT count(*) FROM routes").await?, 16);
    assert_eq!(
        count(
            &client,
            "SELECT count(*) FROM stops s JOIN cities c ON c.id = s.city_id WHERE s.position = 1 AND c.name = 'Berlin'"
        )
        .await?,
        16
    );
    Ok(())
}

/// `(customer, street, city)` of every customer, by name.
async fn customers(client: &Client) -> TestResult<Vec<(String, String, String)>> {
    Ok(client
        .query(
            "SELECT cu.name, a.street, c.name FROM customers cu
             JOIN addresses a ON a.id = cu.address_id JOIN cities c ON c.id = a.city_id
             ORDER BY cu.name",
            &[],
        )
        .await?
        .iter()
        .map(|r| (r.get(0), r.get(1), r.get(2)))
        .collect())
}

/// A new address on `street` in the city `city`, found or created by name.
fn address(street: &str, city: &str) -> NewCustomerGraphAddress {
    NewCustomerGraphAddress::new(NewAddressWithCity::new(street)).with_city(NewCity::new(city))
}

#[tokio::test]
async fn a_parent_of_a_parent_is_written_first_and_found_by_key_when_it_exists() -> TestResult {
    let (_db, client) = database().await?;
    let counting = CountingClient::new(&client);
    let report = NewCustomerGraph::new("ann")
        .with_address(address("1 rue Haute", "Lyon"))
        .insert_graph_report(&counting)
        .await?;
    assert_eq!(counting.statements(), 1);
    let affected: Vec<(&str, u64)> = report.steps.iter().map(|s| (s.tag, s.affected)).collect();
    assert_eq!(
        affected,
        [
            ("graph:belongs_to:addresses/belongs_to:cities", 1),
            ("graph:belongs_to:addresses", 1),
            ("graph:root:customers", 1),
        ]
    );
    // The second customer's city exists: found by name, not written again.
    NewCustomerGraph::new("bob")
        .with_address(address("2 rue Basse", "Lyon"))
        .insert_graph(&client)
        .await?;
    let row = |name: &str, street: &str| (name.to_owned(), street.to_owned(), "Lyon".to_owned());
    assert_eq!(
        customers(&client).await?,
        [row("ann", "1 rue Haute"), row("bob", "2 rue Basse")]
    );
    assert_eq!(count(&client, "SELECT count(*) FROM cities").await?, 1);
    assert_eq!(count(&client, "SELECT count(*) FROM addresses").await?, 2);

    // An address needs its city or the city's id: refused before any SQL.
    let counting = CountingClient::new(&client);
    let error = NewCustomerGraph::new("cy")
        .with_address(NewCustomerGraphAddress::new(NewAddressWithCity::new(
            "3 quai",
        )))
        .insert_graph(&counting)
        .await
        .err()
        .ok_or("an address without a city was written")?;
    assert!(matches!(error, Error::Validation { .. }), "{error:?}");
    assert_eq!(counting.statements(), 0);
    assert_eq!(count(&client, "SELECT count(*) FROM customers").await?, 2);
    Ok(())
}

/// A parcel of `grams` for a new customer `name` living on `street` in `city`.
fn parcel(grams: i32, name: &str, street: &str, city: &str) -> NewShipmentGraphParcel {
    let address =
        NewShipmentGraphAddress::new(NewAddressWithCity::new(street)).with_city(NewCity::new(city));
    let customer =
        NewShipmentGraphCustomer::new(NewCustomerWithAddress::new(name)).with_address(address);
    NewShipmentGraphParcel::new(NewParcelForShipmentWithCustomer::new(grams))
        .with_customer(customer)
}

#[tokio::test]
async fn each_row_of_many_gets_its_own_parents_three_levels_up_in_one_statement() -> TestResult {
    let (_db, client) = database().await?;
    client
        .execute(
            "INSERT INTO cities (name, country) VALUES ('Lyon', 'FR')",
            &[],
        )
        .await?;
    let counting = CountingClient::new(&client);
    let parcels: Vec<NewShipmentGraphParcel> = (0..30)
        .map(|n| {
            let city = ["Paris", "Lyon", "Nice"][n % 3];
            parcel(
                n as i32,
                &format!("customer {n:02}"),
                &format!("{n} rue"),
                city,
            )
        })
        .collect();
    let report = NewShipmentGraph::new("monday")
        .with_parcels(parcels)
        .insert_graph_report(&counting)
        .await?;
    assert_eq!(counting.statements(), 1);
    let affected: Vec<(&str, u64)> = report.steps.iter().map(|s| (s.tag, s.affected)).collect();
    assert_eq!(
        affected,
        [
            ("graph:root:shipments", 1),
            (
                "graph:has_many:parcels/belongs_to:customers/belongs_to:addresses/belongs_to:cities",
                3
            ),
            ("graph:has_many:parcels/belongs_to:customers/belongs_to:addresses", 30),
            ("graph:has_many:parcels/belongs_to:customers", 30),
            ("graph:has_many:parcels", 30),
        ]
    );
    // Each parcel's customer, address and city are its own: its weight says which.
    let rows = client
        .query(
            "SELECT p.weight_grams, cu.name, a.street, c.name FROM parcels p
             JOIN customers cu ON cu.id = p.customer_id
             JOIN addresses a ON a.id = cu.address_id JOIN cities c ON c.id = a.city_id
             ORDER BY p.weight_grams",
            &[],
        )
        .await?;
    assert_eq!(rows.len(), 30);
    for (n, row) in rows.iter().enumerate() {
        let (grams, name, street, city): (i32, String, String, String) =
            (row.get(0), row.get(1), row.get(2), row.get(3));
        assert_eq!(grams, n as i32);
        assert_eq!(name, format!("customer {n:02}"));
        assert_eq!(street, format!("{n} rue"));
        assert_eq!(city, ["Paris", "Lyon", "Nice"][n % 3]);
    }
    assert_eq!(
        cities(&client).await?,
        [
            ("Lyon".to_owned(), Some("FR".to_owned())),
            ("Nice".to_owned(), None),
            ("Paris".to_owned(), None)
        ]
    );
    Ok(())
}

/// `(article, tag, added_by)` of every link, by article and tag.
async fn article_tags(client: &Client) -> TestResult<Vec<(String, String, String)>> {
    Ok(client
        .query(
            "SELECT a.title, t.name, at.added_by FROM article_tags at
             JOIN articles a ON a.id = at.article_id JOIN tags t ON t.id = at.tag_id
             ORDER BY a.title, t.name",
            &[],
        )
        .await?
        .iter()
        .map(|r| (r.get(0), r.get(1), r.get(2)))
        .collect())
}

/// `(name, color)` of every tag, by name.
async fn tags(client: &Client) -> TestResult<Vec<(String, Option<String>)>> {
    Ok(client
        .query("SELECT name, color FROM tags ORDER BY name", &[])
        .await?
        .iter()
        .map(|r| (r.get(0), r.get(1)))
        .collect())
}

#[tokio::test]
async fn many_to_many_items_create_connect_or_connect_or_create_their_rows() -> TestResult {
    let (_db, client) = database().await?;
    client
        .execute(
            "INSERT INTO tags (name, color) VALUES ('sql', 'blue'), ('pg', 'teal')",
            &[],
        )
        .await?;
    let counting = CountingClient::new(&client);
    let report = NewArticleGraph::new("joins")
        .with_tags([
            NewArticleGraphTag::create(NewTag::new("rust").with_color("orange")),
            NewArticleGraphTag::connect("sql"),
            // pg exists: linked, its color kept (the conflict updates nothing).
            NewArticleGraphTag::connect_or_create(NewTag::new("pg").with_color("red")),
            NewArticleGraphTag::connect_or_create(NewTag::new("async"))
                .with_row(NewArticleTagForArticleAndTag::new().with_added_by("bot")),
        ])
        .insert_graph_report(&counting)
        .await?;
    assert_eq!(counting.statements(), 1);
    let affected: Vec<(&str, u64)> = report.steps.iter().map(|s| (s.tag, s.affected)).collect();
    assert_eq!(
        affected,
        [
            ("graph:root:articles", 1),
            ("graph:many_to_many:article_tags/create:tags", 1),
            ("graph:many_to_many:article_tags/connect:tags", 1),
            ("graph:many_to_many:article_tags/connect_or_create:tags", 2),
            ("graph:many_to_many:article_tags", 4),
        ]
    );
    let tag = |name: &str, color: Option<&str>| (name.to_owned(), color.map(str::to_owned));
    assert_eq!(
        tags(&client).await?,
        [
            tag("async", None),
            tag("pg", Some("teal")),
            tag("rust", Some("orange")),
            tag("sql", Some("blue"))
        ]
    );
    let link = |tag: &str, by: &str| ("joins".to_owned(), tag.to_owned(), by.to_owned());
    assert_eq!(
        article_tags(&client).await?,
        [
            link("async", "bot"),
            link("pg", "editor"),
            link("rust", "editor"),
            link("sql", "editor")
        ]
    );
    // An article with no tags writes no link and no tag.
    NewArticleGraph::new("bare").insert_graph(&client).await?;
    assert_eq!(
        count(&client, "SELECT count(*) FROM article_tags").await?,
        4
    );
    assert_eq!(count(&client, "SELECT count(*) FROM tags").await?, 4);
    Ok(())
}

#[tokio::test]
async fn connecting_to_a_missing_row_is_not_found_and_writes_nothing() -> TestResult {
    let (_db, client) = database().await?;
    client
        .execute("INSERT INTO tags (name) VALUES ('sql')", &[])
        .await?;
    let error = NewArticleGraph::new("joins")
        .with_tags([
            NewArticleGraphTag::create(NewTag::new("rust")),
            NewArticleGraphTag::connect("sql"),
            NewArticleGraphTag::connect("nosuch"),
        ])
        .insert_graph(&client)
        .await
        .err()
        .ok_or("a link to a missing tag was written")?;
    match &error {
        Error::NotFound { step, .. } => {
            assert_eq!(*step, Some("graph:many_to_many:article_tags/connect:tags"))
        }
        other => return Err(format!("expected NotFound, got {other:?}").into()),
    }
    assert_eq!(count(&client, "SELECT count(*) FROM articles").await?, 0);
    assert_eq!(
        count(&client, "SELECT count(*) FROM article_tags").await?,
        0
    );
    assert_eq!(count(&client, "SELECT count(*) FROM tags").await?, 1);
    Ok(())
}

#[tokio::test]
async fn join_rows_carry_their_own_columns_and_far_keys_from_an_identity() -> TestResult {
    let (_db, client) = database().await?;
    let ann: i64 = client
        .query_one(
            "INSERT INTO people (email) VALUES ('ann@x.test') RETURNING id",
            &[],
        )
        .await?
        .get(0);
    let member = |link: NewGroupGraphMemberLink, role: &str| {
        NewGroupGraphMember::new(link, NewGroupMemberForGroupAndPerson::new(role))
    };
    NewGroupGraph::new("admins")
        .with_members([
            member(NewGroupGraphMemberLink::Connect(ann), "owner"),
            member(
                NewGroupGraphMemberLink::Create(NewPerson::new("bob@x.test")),
                "member",
            ),
            member(
                NewGroupGraphMemberLink::ConnectOrCreate(NewPerson::new("cy@x.test")),
                "member",
            ),
        ])
        .insert_graph(&client)
        .await?;
    // A second group finds cy by email and links ann again.
    NewGroupGraph::new("readers")
        .with_members([
            member(
                NewGroupGraphMemberLink::ConnectOrCreate(NewPerson::new("cy@x.test")),
                "owner",
            ),
            member(NewGroupGraphMemberLink::Connect(ann), "member"),
        ])
        .insert_graph(&client)
        .await?;
    let rows: Vec<(String, String, String)> = client
        .query(
            "SELECT g.name, p.email, m.role FROM group_members m
             JOIN groups g ON g.id = m.group_id JOIN people p ON p.id = m.person_id
             ORDER BY g.name, p.email",
            &[],
        )
        .await?
        .iter()
        .map(|r| (r.get(0), r.get(1), r.get(2)))
        .collect();
    let row = |g: &str, p: &str, r: &str| (g.to_owned(), p.to_owned(), r.to_owned());
    assert_eq!(
        rows,
        [
            row("admins", "ann@x.test", "owner"),
            row("admins", "bob@x.test", "member"),
            row("admins", "cy@x.test", "member"),
            row("readers", "ann@x.test", "member"),
            row("readers", "cy@x.test", "owner"),
        ]
    );
    assert_eq!(count(&client, "SELECT count(*) FROM people").await?, 3);
    Ok(())
}

#[tokio::test]
async fn every_row_of_many_links_its_own_far_rows_and_shares_the_ones_it_names() -> TestResult {
    let (_db, client) = database().await?;
    let names = ["a", "b", "c", "d", "e"];
    let counting = CountingClient::new(&client);
    let report = NewBlogGraph::new("daily")
        .with_articles((0..50).map(|n| {
            let tags = (0..3)
                .map(move |t| NewBlogGraphTag::connect_or_create(NewTag::new(names[(n + t) % 5])));
            NewBlogGraphArticle::new(NewArticleForBlog::new(format!("article {n:02}")))
                .with_tags(tags)
        }))
        .insert_graph_report(&counting)
        .await?;
    assert_eq!(counting.statements(), 1);
    let affected: Vec<(&str, u64)> = report.steps.iter().map(|s| (s.tag, s.affected)).collect();
    assert_eq!(
        affected,
        [
            ("graph:root:blogs", 1),
            ("graph:has_many:articles/before_insert:article_logs", 0),
            ("graph:has_many:articles", 50),
            (
                "graph:has_many:articles/many_to_many:article_tags/create:tags",
                0
            ),
            (
                "graph:has_many:articles/many_to_many:article_tags/connect:tags",
                0
            ),
            (
                "graph:has_many:articles/many_to_many:article_tags/connect_or_create:tags",
                5
            ),
            ("graph:has_many:articles/many_to_many:article_tags", 150),
            ("graph:has_many:articles/after_insert:article_logs", 0),
        ]
    );
    let links = article_tags(&client).await?;
    assert_eq!(links.len(), 150);
    for n in 0..50 {
        let mut expected: Vec<String> = (0..3).map(|t| names[(n + t) % 5].to_owned()).collect();
        expected.sort();
        let got: Vec<String> = links
            .iter()
            .filter(|(title, ..)| *title == format!("article {n:02}"))
            .map(|(_, tag, _)| tag.clone())
            .collect();
        assert_eq!(got, expected, "article {n}");
    }
    assert_eq!(count(&client, "SELECT count(*) FROM tags").await?, 5);
    Ok(())
}

#[tokio::test]
async fn concurrent_items_that_connect_or_create_one_row_share_it() -> TestResult {
    let (db, client) = database().await?;
    let mut writers = Vec::new();
    for writer in 0..16 {
        let writer_client = db.connect().await?;
        writers.push(tokio::spawn(async move {
            NewArticleGraph::new(format!("article {writer}"))
                .with_tags([
                    NewArticleGraphTag::connect_or_create(NewTag::new("news")),
                    NewArticleGraphTag::connect_or_create(NewTag::new(format!("t{}", writer % 3))),
                ])
                .insert_graph(&writer_client)
                .await
        }));
    }
    for writer in writers {
        writer.await??;
    }
    assert_eq!(count(&client, "SELECT count(*) FROM tags").await?, 4);
    assert_eq!(
        count(&client, "SELECT count(*) FROM article_tags").await?,
        32
    );
    Ok(())
}

/// The names of the tags of article `id`, sorted.
async fn tags_of(client: &Client, id: i64) -> TestResult<Vec<String>> {
    Ok(client
        .query(
            "SELECT t.name FROM article_tags at JOIN tags t ON t.id = at.tag_id
             WHERE at.article_id = $1 ORDER BY t.name",
            &[&id],
        )
        .await?
        .iter()
        .map(|r| r.get(0))
        .collect())
}

#[tokio::test]
async fn an_update_graph_sets_adds_and_removes_links_by_key_writing_only_join_rows() -> TestResult {
    let (_db, client) = database().await?;
    client
        .batch_execute(
            "INSERT INTO tags (name) VALUES ('a'), ('b'), ('c'), ('d');
             INSERT INTO articles (id, title) VALUES (1, 'one'), (2, 'two');
             INSERT INTO article_tags (article_id, tag_id, added_by)
                 SELECT 1, id, 'alice' FROM tags WHERE name IN ('a', 'b');
             INSERT INTO article_tags (article_id, tag_id)
                 SELECT 2, id FROM tags WHERE name IN ('a', 'c');",
        )
        .await?;
    let counting = CountingClient::new(&client);
    // Set {b, c, c}: a unlinked, b kept with its own columns, c linked once.
    let report = ArticleTagsGraph::default()
        .with_title("one, retagged")
        .with_tags(["b".to_owned(), "c".to_owned(), "c".to_owned()])
        .update_by_id_graph_report(&counting, &1)
        .await?;
    assert_eq!(counting.statements(), 1);
    let affected: Vec<(&str, u64)> = report.steps.iter().map(|s| (s.tag, s.affected)).collect();
    assert_eq!(
        affected,
        [
            ("graph:root:articles", 1),
            ("graph:many_to_many:article_tags", 2),
            ("graph:many_to_many:article_tags:more_tags", 0),
            ("graph:many_to_many:article_tags:fewer_tags", 0),
        ]
    );
    assert_eq!(tags_of(&client, 1).await?, ["b", "c"]);
    assert_eq!(
        count(
            &client,
            "SELECT count(*) FROM article_tags at JOIN tags t ON t.id = at.tag_id
             WHERE at.article_id = 1 AND t.name = 'b' AND at.added_by = 'alice'"
        )
        .await?,
        1
    );
    // The other article's links and the tags themselves are untouched.
    assert_eq!(tags_of(&client, 2).await?, ["a", "c"]);
    assert_eq!(count(&client, "SELECT count(*) FROM tags").await?, 4);

    // Add {a, b} keeps b once; remove {c}: only the join row goes.
    ArticleTagsGraph::default()
        .with_more_tags(["a".to_owned(), "b".to_owned()])
        .with_fewer_tags(["c".to_owned()])
        .update_by_id_graph(&client, &1)
        .await?;
    assert_eq!(tags_of(&client, 1).await?, ["a", "b"]);
    assert_eq!(tags_of(&client, 2).await?, ["a", "c"]);

    // Set to nothing unlinks them all.
    ArticleTagsGraph::default()
        .with_tags(Vec::<String>::new())
        .update_by_id_graph(&client, &1)
        .await?;
    assert!(tags_of(&client, 1).await?.is_empty());
    assert_eq!(count(&client, "SELECT count(*) FROM tags").await?, 4);

    // A name that is no tag changes nothing, not even the title.
    ArticleTagsGraph::default()
        .with_tags(["d".to_owned()])
        .update_by_id_graph(&client, &1)
        .await?;
    let error = ArticleTagsGraph::default()
        .with_title("lost")
        .with_tags(["a".to_owned(), "nosuch".to_owned()])
        .update_by_id_graph(&client, &1)
        .await
        .err()
        .ok_or("a link to a missing tag was written")?;
    assert!(
        matches!(
            error,
            Error::NotFound {
                table: "public.tags",
                step: Some("graph:many_to_many:article_tags"),
                ..
            }
        ),
        "{error:?}"
    );
    assert_eq!(tags_of(&client, 1).await?, ["d"]);
    assert_eq!(
        count(
            &client,
            "SELECT count(*) FROM articles WHERE title = 'one, retagged'"
        )
        .await?,
        1
    );

    // The step whose tag another's starts is named by its own.
    let error = ArticleTagsGraph::default()
        .with_fewer_tags(["nosuch".to_owned()])
        .update_by_id_graph(&client, &1)
        .await
        .err()
        .ok_or("a missing tag was removed")?;
    assert!(
        matches!(
            error,
            Error::NotFound {
                step: Some("graph:many_to_many:article_tags:fewer_tags"),
                ..
            }
        ),
        "{error:?}"
    );

    // A missing root is NotFound and links nothing.
    let error = ArticleTagsGraph::default()
        .with_more_tags(["a".to_owned()])
        .update_by_id_graph(&client, &99)
        .await
        .err()
        .ok_or("a missing root was updated")?;
    assert!(matches!(error, Error::NotFound { .. }), "{error:?}");
    assert_eq!(
        count(&client, "SELECT count(*) FROM article_tags").await?,
        3
    );
    Ok(())
}

#[tokio::test]
async fn many_update_graphs_set_add_and_remove_each_roots_own_links_in_one_statement() -> TestResult
{
    let (_db, client) = database().await?;
    client
        .batch_execute(
            "INSERT INTO tags (name) VALUES ('a'), ('b'), ('c'), ('d');
             INSERT INTO articles (id, title) VALUES (1, 'one'), (2, 'two'), (3, 'three');
             INSERT INTO article_tags (article_id, tag_id, added_by)
                 SELECT 1, id, 'alice' FROM tags WHERE name IN ('a', 'b');
             INSERT INTO article_tags (article_id, tag_id)
                 SELECT a, t.id FROM tags t, (VALUES (2), (3)) AS v(a) WHERE t.name IN ('a', 'c');",
        )
        .await?;
    let counting = CountingClient::new(&client);
    let names = |names: &[&str]| names.iter().map(|n| (*n).to_owned()).collect::<Vec<_>>();
    // Article 1: set {b, c} (a unlinked, b kept); 2: add {b, c} (c kept once) and remove
    // {a}; 3: only its title. The same tag names mean different links per root.
    let report = ArticleTagsGraph::update_graph_many_report(
        &counting,
        [
            (1, ArticleTagsGraph::default().with_tags(names(&["b", "c"]))),
            (
                2,
                ArticleTagsGraph::default()
                    .with_more_tags(names(&["b", "c"]))
                    .with_fewer_tags(names(&["a"])),
            ),
            (3, ArticleTagsGraph::default().with_title("three, renamed")),
        ],
    )
    .await?;
    assert_eq!(counting.statements(), 1);
    let affected: Vec<(&str, u64)> = report.steps.iter().map(|s| (s.tag, s.affected)).collect();
    assert_eq!(
        affected,
        [
            ("graph:root:articles", 1),
            ("graph:many_to_many:article_tags", 2),
            ("graph:many_to_many:article_tags:more_tags", 1),
            ("graph:many_to_many:article_tags:fewer_tags", 1),
        ]
    );
    assert_eq!(tags_of(&client, 1).await?, ["b", "c"]);
    assert_eq!(tags_of(&client, 2).await?, ["b", "c"]);
    assert_eq!(tags_of(&client, 3).await?, ["a", "c"]);
    assert_eq!(
        count(
            &client,
            "SELECT count(*) FROM article_tags at JOIN tags t ON t.id = at.tag_id
             WHERE at.article_id = 1 AND t.name = 'b' AND at.added_by = 'alice'"
        )
        .await?,
        1
    );
    assert_eq!(
        count(
            &client,
            "SELECT count(*) FROM articles WHERE title = 'three, renamed'"
        )
        .await?,
        1
    );

    // A name that is no tag, in any graph, is NotFound naming the step, and nothing of any
    // graph is written.
    let error = ArticleTagsGraph::update_graph_many(
        &client,
        [
            (
                1,
                ArticleTagsGraph::default().with_tags(Vec::<String>::new()),
            ),
            (
                2,
                ArticleTagsGraph::default().with_more_tags(names(&["nosuch"])),
            ),
        ],
    )
    .await
    .err()
    .ok_or("a link to a missing tag was written")?;
    assert!(
        matches!(
            error,
            Error::NotFound {
                table: "public.tags",
                step: Some("graph:many_to_many:article_tags:more_tags"),
                ..
            }
        ),
        "{error:?}"
    );
    assert_eq!(tags_of(&client, 1).await?, ["b", "c"]);
    assert_eq!(count(&client, "SELECT count(*) FROM tags").await?, 4);
    Ok(())
}

#[tokio::test]
async fn rows_before_and_after_each_nested_row_are_written_with_it() -> TestResult {
    let (_db, client) = database().await?;
    let counting = CountingClient::new(&client);
    let report = NewBlogGraph::new("daily")
        .with_articles((0..5).map(|n| {
            NewBlogGraphArticle::new(NewArticleForBlog::new(format!("article {n}")))
                .with_log(NewArticleLogForArticle::new(format!("wrote {n}")))
                .with_notes((0..n).map(|k| NewArticleLog::new(format!("note {n}/{k}"))))
        }))
        .insert_graph_report(&counting)
        .await?;
    assert_eq!(counting.statements(), 1);
    let affected: Vec<(&str, u64)> = report
        .steps
        .iter()
        .filter(|s| s.tag.contains("article_logs"))
        .map(|s| (s.tag, s.affected))
        .collect();
    assert_eq!(
        affected,
        [
            ("graph:has_many:articles/before_insert:article_logs", 10),
            ("graph:has_many:articles/after_insert:article_logs", 5),
        ]
    );
    // Each after row has its own article's key; the before rows have none.
    assert_eq!(
        count(
            &client,
            "SELECT count(*) FROM article_logs l JOIN articles a ON a.id = l.article_id
             WHERE l.action = 'wrote ' || substr(a.title, 9)"
        )
        .await?,
        5
    );
    assert_eq!(
        count(
            &client,
            "SELECT count(*) FROM article_logs WHERE article_id IS NULL AND action LIKE 'note %'"
        )
        .await?,
        10
    );
    Ok(())
}

#[tokio::test]
async fn insert_ignore_keeps_existing_rows_counts_only_new_ones_and_still_links_them() -> TestResult
{
    let (_db, client) = database().await?;
    client
        .execute(
            "INSERT INTO cities (name, country) VALUES ('Lyon', 'FR')",
            &[],
        )
        .await?;
    // Parents: an existing city keeps its country, new ones are written once; every stop
    // gets its city's key.
    let stop = |p: i32, city: NewCity| {
        NewQuietRouteGraphStop::new(NewStopForRouteWithCity::new(p)).with_city(city)
    };
    let counting = CountingClient::new(&client);
    let report = NewQuietRouteGraph::new("quiet")
        .with_stops([
            stop(1, NewCity::new("Lyon").with_country("XX")),
            stop(2, NewCity::new("Nice")),
            stop(3, NewCity::new("Nice").with_country("YY")),
        ])
        .insert_graph_report(&counting)
        .await?;
    assert_eq!(counting.statements(), 1);
    let affected: Vec<(&str, u64)> = report.steps.iter().map(|s| (s.tag, s.affected)).collect();
    assert_eq!(
        affected,
        [
            ("graph:root:routes", 1),
            ("graph:has_many:stops/belongs_to:cities", 1),
            ("graph:has_many:stops", 3),
        ]
    );
    let city = |name: &str, country: Option<&str>| (name.to_owned(), country.map(str::to_owned));
    assert_eq!(
        cities(&client).await?,
        [city("Lyon", Some("FR")), city("Nice", None)]
    );
    let row = |p: i32, city: &str| ("quiet".to_owned(), p, city.to_owned());
    assert_eq!(
        stops(&client).await?,
        [row(1, "Lyon"), row(2, "Nice"), row(3, "Nice")]
    );

    // A root's parent: found and kept, counted 0; new, counted 1.
    let route: i64 = client.query_one("SELECT id FROM routes", &[]).await?.get(0);
    let report = NewCityStopGraph::new(route, 4)
        .with_city(NewCity::new("Lyon").with_country("ZZ"))
        .insert_graph_report(&client)
        .await?;
    assert_eq!(report.steps[0].affected, 0);
    let report = NewCityStopGraph::new(route, 5)
        .with_city(NewCity::new("Metz"))
        .insert_graph_report(&client)
        .await?;
    assert_eq!(report.steps[0].affected, 1);
    assert_eq!(stops(&client).await?[3..], [row(4, "Lyon"), row(5, "Metz")]);
    assert_eq!(
        count(
            &client,
            "SELECT count(*) FROM cities WHERE name = 'Lyon' AND country = 'FR'"
        )
        .await?,
        1
    );

    // Children: a stop at a position the route already has, or twice in one call, is
    // skipped, and only inserted ones are counted.
    let lyon: i32 = client
        .query_one("SELECT id FROM cities WHERE name = 'Lyon'", &[])
        .await?
        .get(0);
    let report = NewRouteOnceGraph::new("once")
        .with_stops([
            NewStopForRoute::new(1, lyon),
            NewStopForRoute::new(2, lyon),
            NewStopForRoute::new(1, lyon),
        ])
        .insert_graph_report(&client)
        .await?;
    assert_eq!(report.steps[1].affected, 2);
    assert_eq!(
        count(
            &client,
            "SELECT count(*) FROM stops s JOIN routes r ON r.id = s.route_id WHERE r.name = 'once'"
        )
        .await?,
        2
    );
    Ok(())
}
