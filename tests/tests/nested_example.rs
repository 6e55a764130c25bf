//! The example's nested insert graph `NewAuthorGraph` (users → posts → comments) against
//! PostgreSQL: one statement, every comment under its own post.

use writegraph_example::SCHEMA_SQL;
use writegraph_example::{NewAuthorGraph, NewAuthorGraphPost, NewCommentForPost, NewPostForAuthor};
use writegraph_testing::{self as testing, CountingClient};

type TestResult<T = ()> = Result<T, Box<dyn std::error::Error>>;

#[tokio::test]
async fn an_author_with_posts_and_comments_lands_under_the_right_parents_in_one_statement(
) -> TestResult {
    let db = testing::database_with_schema(SCHEMA_SQL).await?;
    let client = db.connect().await?;
    // Post `p` has `p + 1` comments, each saying `"<p>/<c>"`, so that a comment under the
    // wrong post, or a post with the wrong number of comments, shows.
    let graph = NewAuthorGraph::new("ada@example.com").with_posts((0..4).map(|p| {
        NewAuthorGraphPost::new(NewPostForAuthor::new(format!("post {p}"), "body"))
            .with_comments((0..=p).map(|c| NewCommentForPost::new("bob", format!("{p}/{c}"))))
    }));
    let counting = CountingClient::new(&client);
    graph.insert_graph(&counting).await?;
    assert_eq!(counting.statements(), 1);

    let users: i64 = client
        .query_one("SELECT count(*) FROM users", &[])
        .await?
        .get(0);
    assert_eq!(users, 1);
    let posts: i64 = client
        .query_one(
            "SELECT count(*) FROM posts p JOIN users u ON u.id = p.author_id
             WHERE u.email = 'ada@example.com'",
            &[],
        )
        .await?
        .get(0);
    assert_eq!(posts, 4);
    let comments: i64 = client
        .query_one("SELECT count(*) FROM comments", &[])
        .await?
        .get(0);
    assert_eq!(comments, 1 + 2 + 3 + 4);
    let misplaced: i64 = client
        .query_one(
            "SELECT count(*) FROM comments c JOIN posts p ON p.id = c.post_id
             WHERE 'post ' || split_part(c.body, '/', 1) <> p.title",
            &[],
        )
        .await?
        .get(0);
    assert_eq!(misplaced, 0);
    let per_post: Vec<(String, i64)> = client
        .query(
            "SELECT p.title, count(c.id) FROM posts p LEFT JOIN comments c ON c.post_id = p.id
             GROUP BY p.title ORDER BY p.title",
            &[],
        )
        .await?
        .iter()
        .map(|row| (row.get(0), row.get(1)))
        .collect();
    assert_eq!(
        per_post,
        [
            ("post 0".to_owned(), 1),
            ("post 1".to_owned(), 2),
            ("post 2".to_owned(), 3),
            ("post 3".to_owned(), 4),
        ]
    );
    Ok(())
}
