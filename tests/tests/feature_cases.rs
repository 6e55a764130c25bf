//! The per-feature golden files (`codegen/tests/fixtures/cases/<case>/expected.rs`) compiled
//! as they are checked in, and each run once against its own `schema.sql` on PostgreSQL: the
//! files a reviewer reads are code that builds and writes what its feature says.

use tokio_postgres::Client;
use writegraph_testing::TestDatabase;

type TestResult = Result<(), Box<dyn std::error::Error>>;

macro_rules! case {
    ($name:ident) => {
        #[allow(dead_code)]
        mod $name {
            include!(concat!(
                "../../codegen/tests/fixtures/cases/",
                stringify!($name),
                "/expected.rs"
            ));
            /// The case's DDL.
            pub const SCHEMA: &str = include_str!(concat!(
                "../../codegen/tests/fixtures/cases/",
                stringify!($name),
                "/schema.sql"
            ));
        }
    };
}

case!(before_after_insert);
case!(belongs_to_insert);
case!(datetime_jiff);
case!(datetime_time);
case!(belongs_to_upsert);
case!(has_many);
case!(has_many_upsert);
case!(has_one);
case!(table_only);
case!(update_append);
case!(update_diff);
case!(update_has_one);
case!(update_replace);
case!(update_upsert);
case!(update_update);
case!(update_many_composite);

async fn setup(schema: &str) -> Result<(TestDatabase, Client), Box<dyn std::error::Error>> {
    let db = writegraph_testing::database_with_schema(schema).await?;
    let client = db.connect().await?;
    Ok((db, client))
}

/// Every row of a query, each row's columns as text (NULL as `-`), for exact comparisons.
async fn rows(client: &Client, sql: &str) -> Result<Vec<String>, Box<dyn std::error::Error>> {
    let wrapped = format!("SELECT concat_ws('|', VARIADIC ARRAY(SELECT coalesce(v, '-') FROM json_each_text(row_to_json(t)) AS j(k, v))) FROM ({sql}) AS t");
    Ok(client
        .query(&wrapped, &[])
        .await?
        .iter()
        .map(|r| r.get::<_, String>(0))
        .collect())
}

#[tokio::test]
async fn before_and_after_insert_write_around_the_root() -> TestResult {
    use before_after_insert::*;
    let (_db, client) = setup(SCHEMA).await?;
    let graph = AuditedTransferGraph::new(500)
        .with_intent(NewAuditEvent::new("intent"))
        .with_done(NewAuditEventForEntity::new("done"));
    assert_eq!(graph.insert_graph(&client).await?, 3);
    assert_eq!(
        rows(&client, "SELECT id, cents FROM transfers").await?,
        ["1|500"]
    );
    assert_eq!(
        rows(
            &client,
            "SELECT action, entity_id FROM audit_events ORDER BY id"
        )
        .await?,
        ["intent|-", "done|1"]
    );
    Ok(())
}

#[tokio::test]
async fn belongs_to_insert_writes_the_parent_first() -> TestResult {
    use belongs_to_insert::*;
    let (_db, client) = setup(SCHEMA).await?;
    let graph = NewPostGraph::new("Hello").with_author(NewAuthor::new("Ada"));
    assert_eq!(graph.insert_graph(&client).await?, 2);
    assert_eq!(
        rows(&client, "SELECT id, name FROM authors").await?,
        ["1|Ada"]
    );
    assert_eq!(
        rows(&client, "SELECT author_id, title FROM posts").await?,
        ["1|Hello"]
    );
    Ok(())
}

#[tokio::test]
async fn belongs_to_upsert_connects_or_creates_by_key() -> TestResult {
    use belongs_to_upsert::*;
    let (_db, client) = setup(SCHEMA).await?;
    let ada = || NewAuthor::new("ada@example.com");
    NewPostGraph::new("One")
        .with_author(ada().with_name("Ada"))
        .insert_graph(&client)
        .await?;
    // The second post connects to the same author and leaves her name as it is.
    NewPostGraph::new("Two")
        .with_author(ada())
        .insert_graph(&client)
        .await?;
    assert_eq!(
        rows(&client, "SELECT id, email, name FROM authors").await?,
        ["1|ada@example.com|Ada"]
    );
    assert_eq!(
        rows(&client, "SELECT author_id, title FROM posts ORDER BY id").await?,
        ["1|One", "1|Two"]
    );
    Ok(())
}

#[tokio::test]
async fn has_many_writes_every_child_under_the_root() -> TestResult {
    use has_many::*;
    let (_db, client) = setup(SCHEMA).await?;
    let graph = NewInvoiceGraph::new("acme").with_lines([
        NewInvoiceLineForInvoice::new("bolts", 120).with_tags(vec!["metal".to_owned()]),
        NewInvoiceLineForInvoice::new("nuts", 80),
    ]);
    let report = graph.insert_graph_report_returning(&client).await?;
    assert_eq!(report.affected, 3);
    let invoice = report.root.ok_or("no root row")?;
    assert_eq!(invoice.customer, "acme");
    assert_eq!(
        rows(
            &client,
            "SELECT invoice_id, description, cents, array_to_string(tags, ',') FROM invoice_lines ORDER BY id"
        )
        .await?,
        [format!("{}|bolts|120|metal", invoice.id), format!("{}|nuts|80|", invoice.id)]
    );
    Ok(())
}

#[tokio::test]
async fn has_many_upsert_writes_lines_and_refuses_a_repeated_key() -> TestResult {
    use has_many_upsert::*;
    let (_db, client) = setup(SCHEMA).await?;
    // Two lines with one key would update each other in one statement: refused before SQL.
    let repeated = NewCartGraph::new("al")
        .with_lines([NewCartLineForCart::new("a"), NewCartLineForCart::new("a")])
        .insert_graph(&client)
        .await;
    assert!(
        matches!(repeated, Err(writegraph::Error::Validation { .. })),
        "{repeated:?}"
    );
    assert!(rows(&client, "SELECT id FROM carts").await?.is_empty());
    NewCartGraph::new("bo")
        .with_id(7)
        .with_lines([
            NewCartLineForCart::new("a").with_quantity(2),
            NewCartLineForCart::new("b"),
        ])
        .insert_graph(&client)
        .await?;
    assert_eq!(
        rows(
            &client,
            "SELECT cart_id, sku, quantity FROM cart_lines ORDER BY sku"
        )
        .await?,
        ["7|a|2", "7|b|1"]
    );
    Ok(())
}

#[tokio::test]
async fn has_one_writes_the_child_with_the_given_root_id() -> TestResult {
    use has_one::*;
    let (_db, client) = setup(SCHEMA).await?;
    let id = writegraph::types::Uuid::from_u128(42);
    NewUserGraph::new(id, "u@example.com")
        .with_profile(NewProfileForUser::new().with_bio("hi"))
        .insert_graph(&client)
        .await?;
    assert_eq!(
        rows(&client, "SELECT user_id, bio FROM profiles").await?,
        [format!("{id}|hi")]
    );
    Ok(())
}

#[tokio::test]
async fn a_table_alone_inserts_upserts_patches_and_deletes() -> TestResult {
    use table_only::*;
    let (_db, client) = setup(SCHEMA).await?;
    let ticket = NewTicket::new("T-1").insert_returning(&client).await?;
    assert_eq!(ticket.state, TicketState::Open);
    assert_eq!(ticket.note.as_deref(), Some("none"));
    NewTicket::new("T-1")
        .with_state(TicketState::Closed)
        .upsert(&client)
        .await?;
    TicketPatch::default()
        .with_note_opt(None)
        .update_by_id(&client, &ticket.id)
        .await?;
    assert_eq!(
        rows(&client, "SELECT id, code, state, note FROM tickets").await?,
        [format!("{}|T-1|closed|-", ticket.id)]
    );
    assert_eq!(Ticket::delete_by_id(&client, &ticket.id).await?, 1);
    assert!(Ticket::find_by_id(&client, &ticket.id).await?.is_none());
    Ok(())
}

/// A playlist with entries `a` (position 1) and `b` (position 2); returns its id.
async fn playlist_with_a_and_b(client: &Client) -> Result<i64, Box<dyn std::error::Error>> {
    let id: i64 = client
        .query_one(
            "INSERT INTO playlists (title) VALUES ('mix') RETURNING id",
            &[],
        )
        .await?
        .get(0);
    client
        .execute(
            "INSERT INTO playlist_entries (playlist_id, track, position) VALUES ($1, 'a', 1), ($1, 'b', 2)",
            &[&id],
        )
        .await?;
    Ok(id)
}

const ENTRIES: &str = "SELECT track, position FROM playlist_entries ORDER BY track";

#[tokio::test]
async fn update_append_adds_entries_and_keeps_the_others() -> TestResult {
    use update_append::*;
    let (_db, client) = setup(SCHEMA).await?;
    let id = playlist_with_a_and_b(&client).await?;
    PlaylistGraph::default()
        .with_title("new")
        .with_entries([NewPlaylistEntryForPlaylist::new("c", 3)])
        .update_by_id_graph(&client, &id)
        .await?;
    assert_eq!(rows(&client, ENTRIES).await?, ["a|1", "b|2", "c|3"]);
    assert_eq!(rows(&client, "SELECT title FROM playlists").await?, ["new"]);
    Ok(())
}

#[tokio::test]
async fn update_replace_makes_the_entries_exactly_the_given_ones() -> TestResult {
    use update_replace::*;
    let (_db, client) = setup(SCHEMA).await?;
    let id = playlist_with_a_and_b(&client).await?;
    // `b` is given again: the delete of the old entries comes first, so its key is free.
    PlaylistGraph::default()
        .with_entries([
            NewPlaylistEntryForPlaylist::new("b", 1),
            NewPlaylistEntryForPlaylist::new("c", 2),
        ])
        .update_by_id_graph(&client, &id)
        .await?;
    assert_eq!(rows(&client, ENTRIES).await?, ["b|1", "c|2"]);
    Ok(())
}

#[tokio::test]
async fn update_upsert_updates_by_key_and_keeps_the_others() -> TestResult {
    use update_upsert::*;
    let (_db, client) = setup(SCHEMA).await?;
    let id = playlist_with_a_and_b(&client).await?;
    PlaylistGraph::default()
        .with_entries([
            NewPlaylistEntryForPlaylist::new("b", 9),
            NewPlaylistEntryForPlaylist::new("c", 3),
        ])
        .update_by_id_graph(&client, &id)
        .await?;
    assert_eq!(rows(&client, ENTRIES).await?, ["a|1", "b|9", "c|3"]);
    Ok(())
}

#[tokio::test]
async fn update_diff_upserts_by_key_and_deletes_the_rest_under_its_lock() -> TestResult {
    use update_diff::*;
    let (_db, mut client) = setup(SCHEMA).await?;
    let id = playlist_with_a_and_b(&client).await?;
    let before: Vec<i64> = client
        .query("SELECT id FROM playlist_entries WHERE track = 'b'", &[])
        .await?
        .iter()
        .map(|r| r.get(0))
        .collect();
    PlaylistGraph::default()
        .with_entries([
            NewPlaylistEntryForPlaylist::new("b", 1),
            NewPlaylistEntryForPlaylist::new("c", 2),
        ])
        .update_by_id_graph(&mut client, &id)
        .await?;
    assert_eq!(rows(&client, ENTRIES).await?, ["b|1", "c|2"]);
    // The kept entry is the same row, updated in place.
    let after: Vec<i64> = client
        .query("SELECT id FROM playlist_entries WHERE track = 'b'", &[])
        .await?
        .iter()
        .map(|r| r.get(0))
        .collect();
    assert_eq!(before, after);
    Ok(())
}

#[tokio::test]
async fn update_update_patches_the_entries_its_where_selects() -> TestResult {
    use update_update::*;
    let (_db, client) = setup(SCHEMA).await?;
    let id = playlist_with_a_and_b(&client).await?;
    let report = PlaylistGraph::default()
        .with_later_entries(
            PlaylistEntryPatch::default()
                .with_position(9)
                .with_mood(EntryMood::Loud),
        )
        .update_by_id_graph_report(&client, &id)
        .await?;
    let affected: Vec<(&str, u64)> = report.steps.iter().map(|s| (s.tag, s.affected)).collect();
    assert_eq!(
        affected,
        [
            ("graph:root:playlists", 0),
            ("graph:has_many:playlist_entries", 1)
        ]
    );
    // `a` is at position 1, which `where` leaves out.
    assert_eq!(
        rows(
            &client,
            "SELECT track, position, mood FROM playlist_entries ORDER BY track"
        )
        .await?,
        ["a|1|calm", "b|9|loud"]
    );
    Ok(())
}

#[tokio::test]
async fn update_has_one_replace_sets_and_deletes_the_child() -> TestResult {
    use update_has_one::*;
    let (_db, client) = setup(SCHEMA).await?;
    let id: i64 = client
        .query_one("INSERT INTO users (email) VALUES ('u@x') RETURNING id", &[])
        .await?
        .get(0);
    UserProfileGraph::default()
        .with_profile(NewProfileForUser::new().with_bio("first"))
        .update_by_id_graph(&client, &id)
        .await?;
    assert_eq!(
        rows(&client, "SELECT user_id, bio FROM profiles").await?,
        [format!("{id}|first")]
    );
    UserProfileGraph::default()
        .with_profile_opt(None)
        .update_by_id_graph(&client, &id)
        .await?;
    assert!(rows(&client, "SELECT user_id FROM profiles")
        .await?
        .is_empty());
    Ok(())
}

#[tokio::test]
async fn datetime_cases_write_their_crates_types() -> TestResult {
    {
        use datetime_time::*;
        use writegraph::types::time::{Date, Month, PrimitiveDateTime, Time};
        let (_db, client) = setup(SCHEMA).await?;
        let day = Date::from_calendar_date(2020, Month::May, 17)?;
        let at = Time::from_hms_micro(8, 30, 0, 250)?;
        let local = PrimitiveDateTime::new(day, at);
        NewEvent::new(day)
            .with_at_time(at)
            .with_local_at(local)
            .with_happened_at(local.assume_utc())
            .with_days(vec![day, day.next_day().ok_or("no next day")?])
            .insert(&client)
            .await?;
        assert_eq!(
            rows(&client, "SELECT on_day, at_time, local_at, happened_at AT TIME ZONE 'UTC' AS utc, days FROM events").await?,
            ["2020-05-17|08:30:00.00025|2020-05-17T08:30:00.00025|2020-05-17T08:30:00.00025|[\"2020-05-17\",\"2020-05-18\"]"]
        );
    }
    {
        use datetime_jiff::*;
        use writegraph::types::jiff::{civil, Timestamp};
        let (_db, client) = setup(SCHEMA).await?;
        let local = "2020-05-17T08:30:00.00025".parse::<civil::DateTime>()?;
        NewEvent::new(local.date())
            .with_at_time(local.time())
            .with_local_at(local)
            .with_happened_at("2020-05-17T08:30:00.00025Z".parse::<Timestamp>()?)
            .with_days(vec![local.date()])
            .insert(&client)
            .await?;
        assert_eq!(
            rows(&client, "SELECT on_day, at_time, local_at, happened_at AT TIME ZONE 'UTC' AS utc, days FROM events").await?,
            ["2020-05-17|08:30:00.00025|2020-05-17T08:30:00.00025|2020-05-17T08:30:00.00025|[\"2020-05-17\"]"]
        );
    }
    Ok(())
}

#[tokio::test]
async fn every_case_verifies_against_its_own_schema() -> TestResult {
    macro_rules! verify {
        ($($case:ident),*) => {$(
            let (_db, client) = setup($case::SCHEMA).await?;
            $case::verify_database(&client).await?;
        )*};
    }
    verify!(
        before_after_insert,
        belongs_to_insert,
        belongs_to_upsert,
        datetime_jiff,
        datetime_time,
        has_many,
        has_many_upsert,
        has_one,
        table_only,
        update_append,
        update_diff,
        update_has_one,
        update_replace,
        update_update,
        update_upsert
    );
    Ok(())
}

#[tokio::test]
async fn update_many_composite_finds_each_root_by_both_key_columns() -> TestResult {
    use update_many_composite::*;
    let (_db, client) = setup(SCHEMA).await?;
    client
        .batch_execute(
            "INSERT INTO accounts (tenant, code, name) VALUES ('t1', 'a', 'one'), ('t1', 'b', 'two'), ('t2', 'a', 'three');
             INSERT INTO account_notes (account_id, body) SELECT id, 'old' FROM accounts;",
        )
        .await?;
    let key = |tenant: &str, code: &str| (tenant.to_owned(), code.to_owned());
    let roots = AccountGraph::update_graph_many_returning(
        &client,
        [
            (
                key("t2", "a"),
                AccountGraph::default().with_notes([NewAccountNoteForAccount::new("new")]),
            ),
            (key("t1", "a"), AccountGraph::default().with_name("uno")),
        ],
    )
    .await?;
    let names: Vec<(String, String, String)> = roots
        .into_iter()
        .map(|a| (a.tenant, a.code, a.name))
        .collect();
    assert_eq!(
        names,
        [
            ("t2".to_owned(), "a".to_owned(), "three".to_owned()),
            ("t1".to_owned(), "a".to_owned(), "uno".to_owned())
        ]
    );
    assert_eq!(
        rows(
            &client,
            "SELECT a.tenant, a.code, n.body FROM account_notes n JOIN accounts a ON a.id = n.account_id ORDER BY 1, 2, 3"
        )
        .await?,
        ["t1|a|old", "t1|b|old", "t2|a|new"]
    );
    // The same tenant with another code is another root: a missing one is NotFound.
    let missing = AccountGraph::update_graph_many(
        &client,
        [(key("t2", "b"), AccountGraph::default().with_name("none"))],
    )
    .await;
    assert!(
        matches!(
            missing,
            Err(writegraph::Error::NotFound { graph: Some(0), .. })
        ),
        "{missing:?}"
    );
    Ok(())
}
