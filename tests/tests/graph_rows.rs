//! Insert graphs that return their steps' rows as stored (`returning = true`,
//! `tests/schemas/nested.toml`: `NewUserGraph`'s posts, their comments and the profile):
//! `insert_graph_rows` and `insert_graph_many_rows`, one statement whatever the batch, every
//! returned row the one stored for its own input row, in input order, under its own graph.

use tokio_postgres::Client;
use writegraph_testing::{self as testing, CountingClient, TestDatabase};
use writegraph_tests::nested::{
    NewCommentForPost, NewPostForAuthor, NewProfileForUser, NewUserGraph, NewUserGraphComment,
    NewUserGraphPost, NewUserGraphProfile, NewUserGraphRows,
};

type TestResult<T = ()> = Result<T, Box<dyn std::error::Error>>;

async fn database() -> TestResult<(TestDatabase, Client)> {
    let db = testing::database_with_schema(include_str!("../schemas/nested.sql")).await?;
    let client = db.connect().await?;
    Ok((db, client))
}

/// User `u` with `posts` posts of `u % 3` comments each, and a profile for even users; each
/// title and body names its user and post, so a row under the wrong parent shows.
fn user(u: usize, posts: usize) -> NewUserGraph {
    let graph = NewUserGraph::new(format!("user{u}@x.test")).with_posts((0..posts).map(|p| {
        NewUserGraphPost::new(NewPostForAuthor::new(format!("{u}/{p}"))).with_comments(
            (0..u % 3)
                .map(|c| NewUserGraphComment::new(NewCommentForPost::new(format!("{u}/{p}/{c}")))),
        )
    }));
    if u.is_multiple_of(2) {
        graph.with_profile(NewUserGraphProfile::new(
            NewProfileForUser::new().with_bio(format!("bio {u}")),
        ))
    } else {
        graph
    }
}

/// The returned rows of user `u` are its own, as stored, in input order.
async fn check(client: &Client, u: usize, posts: usize, rows: &NewUserGraphRows) -> TestResult {
    assert_eq!(rows.root.email, format!("user{u}@x.test"));
    let titles: Vec<&str> = rows.posts.iter().map(|p| p.title.as_str()).collect();
    let expected: Vec<String> = (0..posts).map(|p| format!("{u}/{p}")).collect();
    assert_eq!(titles, expected);
    assert!(rows.posts.iter().all(|p| p.author_id == rows.root.id));
    // Comments in input order: post by post, each under its own post.
    let mut expected = Vec::new();
    for (p, post) in rows.posts.iter().enumerate() {
        for c in 0..u % 3 {
            expected.push((post.id, format!("{u}/{p}/{c}")));
        }
    }
    let comments: Vec<(i64, String)> = rows
        .posts_comments
        .iter()
        .map(|c| (c.post_id, c.body.clone()))
        .collect();
    assert_eq!(comments, expected);
    match &rows.profile {
        Some(profile) => {
            assert_eq!(u % 2, 0);
            assert_eq!(profile.user_id, rows.root.id);
            assert_eq!(profile.bio.as_deref(), Some(format!("bio {u}").as_str()));
        }
        None => assert_eq!(u % 2, 1),
    }
    // And as stored: every returned row is the row in the table.
    let stored: Vec<(i64, String)> = client
        .query(
            "SELECT c.post_id, c.body FROM comments c JOIN posts p ON p.id = c.post_id
             WHERE p.author_id = $1 ORDER BY c.id",
            &[&rows.root.id],
        )
        .await?
        .iter()
        .map(|r| (r.get(0), r.get(1)))
        .collect();
    assert_eq!(stored, expected);
    for comment in &rows.posts_comments {
        let created: writegraph::types::chrono::DateTime<writegraph::types::chrono::Utc> = client
            .query_one(
                "SELECT created_at FROM comments WHERE id = $1",
                &[&comment.id],
            )
            .await?
            .get(0);
        assert_eq!(created, comment.created_at);
    }
    Ok(())
}

#[tokio::test]
async fn one_graph_returns_its_rows_in_one_statement() -> TestResult {
    let (_db, client) = database().await?;
    let counting = CountingClient::new(&client);
    let rows = user(2, 3).insert_graph_rows(&counting).await?;
    assert_eq!(counting.statements(), 1);
    assert_eq!((rows.posts.len(), rows.posts_comments.len()), (3, 6));
    check(&client, 2, 3, &rows).await?;

    // A graph without posts or profile: only its root.
    let alone = user(1, 0).insert_graph_rows(&client).await?;
    assert_eq!((alone.posts.len(), alone.posts_comments.len()), (0, 0));
    assert_eq!(alone.profile, None);
    Ok(())
}

#[tokio::test]
async fn many_graphs_each_get_their_own_rows_in_input_order() -> TestResult {
    let (_db, client) = database().await?;
    let counting = CountingClient::new(&client);
    let shape = |u: usize| (u * 7) % 5;
    let report =
        NewUserGraph::insert_graph_many_rows_report(&counting, (0..60).map(|u| user(u, shape(u))))
            .await?;
    assert_eq!(counting.statements(), 1);
    let graphs = report.root.ok_or("no rows")?;
    assert_eq!(graphs.len(), 60);
    for (u, rows) in graphs.iter().enumerate() {
        check(&client, u, shape(u), rows).await?;
    }
    let posts: usize = (0..60).map(shape).sum();
    let comments: usize = (0..60).map(|u| shape(u) * (u % 3)).sum();
    let affected: Vec<(&str, u64)> = report.steps.iter().map(|s| (s.tag, s.affected)).collect();
    assert_eq!(affected[0], ("graph:root:users", 60));
    assert_eq!(affected[1], ("graph:has_many:posts", posts as u64));
    assert_eq!(
        affected[2],
        ("graph:has_many:posts/has_many:comments", comments as u64)
    );

    // An empty batch sends nothing.
    let none = NewUserGraph::insert_graph_many_rows(&counting, Vec::new()).await?;
    assert!(none.is_empty());
    assert_eq!(counting.statements(), 1);
    Ok(())
}
