//! Which input graphs a failing many-graph write came from (`Error::graphs`), where
//! PostgreSQL says: the key in its DETAIL, found among the values bound for the step the
//! error names and followed up to its root. Users → posts → comments → reactions and users →
//! profile → links (`tests/schemas/nested.sql`); every failed batch writes nothing.

use tokio_postgres::Client;
use writegraph::types::Uuid;
use writegraph::Error;
use writegraph_testing::{self as testing, TestDatabase};
use writegraph_tests::nested::{
    NewCommentForPost, NewPostForAuthor, NewProfileForUser, NewProfileLinkForProfileUser,
    NewReactionForComment, NewUserGraph, NewUserGraphComment, NewUserGraphPost,
    NewUserGraphProfile,
};

type TestResult<T = ()> = Result<T, Box<dyn std::error::Error>>;

async fn database() -> TestResult<(TestDatabase, Client)> {
    let db = testing::database_with_schema(include_str!("../schemas/nested.sql")).await?;
    let client = db.connect().await?;
    Ok((db, client))
}

/// The rows of users, posts, comments, reactions and profile links.
async fn counts(client: &Client) -> TestResult<Vec<i64>> {
    let row = client
        .query_one(
            "SELECT (SELECT count(*) FROM users), (SELECT count(*) FROM posts),
                    (SELECT count(*) FROM comments), (SELECT count(*) FROM reactions),
                    (SELECT count(*) FROM profile_links)",
            &[],
        )
        .await?;
    Ok((0..5).map(|i| row.get(i)).collect())
}

/// User `u` with 2 posts of 2 comments each; `comment_id(u, p, c)` gives a comment its id.
fn user(u: usize, comment_id: impl Fn(usize, usize, usize) -> Option<i64>) -> NewUserGraph {
    NewUserGraph::new(format!("user{u}@x.test")).with_posts((0..2).map(|p| {
        NewUserGraphPost::new(NewPostForAuthor::new(format!("{u}/{p}"))).with_comments((0..2).map(
            |c| {
                NewUserGraphComment::new(
                    NewCommentForPost::new(format!("{u}/{p}/{c}")).with_id_opt(comment_id(u, p, c)),
                )
            },
        ))
    }))
}

fn db_error(result: Result<u64, Error>) -> TestResult<Error> {
    match result {
        Err(error @ Error::Db { .. }) => Ok(error),
        other => Err(format!("expected a database error, got {other:?}").into()),
    }
}

#[tokio::test]
async fn a_root_key_that_exists_names_its_graph() -> TestResult {
    let (_db, client) = database().await?;
    NewUserGraph::new("user2@x.test")
        .insert_graph(&client)
        .await?;
    let before = counts(&client).await?;

    let error = db_error(
        NewUserGraph::insert_graph_many(&client, (0..4).map(|u| user(u, |_, _, _| None))).await,
    )?;
    assert_eq!(error.graphs(), [2]);
    assert_eq!(error.tag(), Some("graph:root:users"));
    assert!(error.to_string().starts_with("graph 2: "), "{error}");
    assert_eq!(counts(&client).await?, before);
    Ok(())
}

#[tokio::test]
async fn a_key_two_levels_down_names_the_graphs_whose_rows_hold_it() -> TestResult {
    let (_db, client) = database().await?;
    NewUserGraph::new("seed@x.test")
        .with_posts([
            NewUserGraphPost::new(NewPostForAuthor::new("seed")).with_comments([
                NewUserGraphComment::new(NewCommentForPost::new("seed").with_id(500)),
            ]),
        ])
        .insert_graph(&client)
        .await?;
    let before = counts(&client).await?;

    // Graph 1's second post's first comment takes id 500, which exists.
    let taken = |u, p, c| (u == 1 && p == 1 && c == 0).then_some(500);
    let error =
        db_error(NewUserGraph::insert_graph_many(&client, (0..3).map(|u| user(u, taken))).await)?;
    assert_eq!(error.graphs(), [1]);
    assert_eq!(error.tag(), Some("graph:has_many:posts/has_many:comments"));
    assert_eq!(counts(&client).await?, before);

    // Graphs 0 and 3 both hold it: both are named, whichever row PostgreSQL met first.
    let taken = |u, p, c| ((u == 0 || u == 3) && p == 0 && c == 1).then_some(500);
    let error =
        db_error(NewUserGraph::insert_graph_many(&client, (0..4).map(|u| user(u, taken))).await)?;
    assert_eq!(error.graphs(), [0, 3]);
    assert!(error.to_string().starts_with("graphs 0, 3: "), "{error}");
    assert_eq!(counts(&client).await?, before);
    Ok(())
}

#[tokio::test]
async fn a_uuid_key_under_a_one_row_step_names_its_graph() -> TestResult {
    let (_db, client) = database().await?;
    let link = Uuid::from_u128(0x0123_4567_89ab_cdef_0123_4567_89ab_cdef);
    let with_link = |u: usize, id: Option<Uuid>| {
        NewUserGraph::new(format!("linked{u}@x.test")).with_profile(
            NewUserGraphProfile::new(NewProfileForUser::new()).with_links([
                NewProfileLinkForProfileUser::new(format!("https://{u}.example")).with_id_opt(id),
            ]),
        )
    };
    NewUserGraph::insert_graph_many(&client, [with_link(9, Some(link))]).await?;
    let before = counts(&client).await?;

    let batch = (0..3).map(|u| with_link(u, (u == 2).then_some(link)));
    let error = db_error(NewUserGraph::insert_graph_many(&client, batch).await)?;
    assert_eq!(error.graphs(), [2]);
    assert_eq!(counts(&client).await?, before);
    Ok(())
}

#[tokio::test]
async fn a_key_with_a_column_the_graph_fills_names_no_graph() -> TestResult {
    let (_db, client) = database().await?;
    // Two equal reactions under one comment: the key is (comment_id, emoji), and comment_id
    // is the comment's key, drawn by the statement.
    let twice = NewUserGraph::new("twice@x.test").with_posts([NewUserGraphPost::new(
        NewPostForAuthor::new("p"),
    )
    .with_comments([
        NewUserGraphComment::new(NewCommentForPost::new("c")).with_reactions([
            NewReactionForComment::new("+1"),
            NewReactionForComment::new("+1"),
        ]),
    ])]);
    let error =
        db_error(NewUserGraph::insert_graph_many(&client, [user(0, |_, _, _| None), twice]).await)?;
    assert_eq!(
        error.db_error().map(|db| db.constraint()),
        Some(Some("reactions_pkey"))
    );
    assert_eq!(error.graphs(), [] as [usize; 0]);
    assert_eq!(counts(&client).await?, [0, 0, 0, 0, 0]);
    Ok(())
}
