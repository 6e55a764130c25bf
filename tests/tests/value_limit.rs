//! PostgreSQL's limit on one statement's values (1 GiB), at the real limit: a batch whose
//! values add up past it is refused while they are encoded, before anything is sent, with
//! the batch size that fits; a graph of one names the step and column of its largest value.

use tokio_postgres::Client;
use writegraph::{Error, ValidationKind, MAX_STATEMENT_BYTES};
use writegraph_testing::{self as testing, CountingClient, TestDatabase};
use writegraph_tests::nested::{
    NewCommentForPost, NewPostForAuthor, NewUserGraph, NewUserGraphPost,
};

type TestResult<T = ()> = Result<T, Box<dyn std::error::Error>>;

async fn database() -> TestResult<(TestDatabase, Client)> {
    let db = testing::database_with_schema(include_str!("../schemas/nested.sql")).await?;
    let client = db.connect().await?;
    Ok((db, client))
}

async fn count(client: &impl tokio_postgres::GenericClient, sql: &str) -> TestResult<i64> {
    Ok(client.query_one(sql, &[]).await?.get(0))
}

/// User `u` with one post whose title and one comment whose body take `bytes` bytes each.
fn user(u: usize, bytes: usize) -> NewUserGraph {
    let post = NewUserGraphPost::new(NewPostForAuthor::new("t".repeat(bytes)))
        .with_comments([NewCommentForPost::new("b".repeat(bytes)).into()]);
    NewUserGraph::new(format!("user{u}@x.test")).with_posts([post])
}

/// The number after `before` in `message`, up to the next space.
fn number_after(message: &str, before: &str) -> TestResult<usize> {
    let (_, rest) = message
        .split_once(before)
        .ok_or_else(|| format!("no `{before}` in: {message}"))?;
    let digits: String = rest.chars().take_while(char::is_ascii_digit).collect();
    Ok(digits.parse()?)
}

/// The validation error's message, when it is `TooLarge`.
fn too_large<T: std::fmt::Debug>(result: writegraph::Result<T>) -> TestResult<String> {
    match result {
        Err(Error::Validation(error)) if error.kind() == ValidationKind::TooLarge => {
            Ok(error.message().to_owned())
        }
        other => Err(format!("expected ValidationKind::TooLarge, got {other:?}").into()),
    }
}

#[tokio::test]
async fn graphs_whose_values_pass_a_gigabyte_are_refused_before_anything_is_sent() -> TestResult {
    let (_db, mut client) = database().await?;
    // Four graphs of 280 MiB each, in two columns of 140 MiB: no value passes the limit of
    // one value, but the titles' array and the bodies' array together pass the limit of one
    // statement's values, which PostgreSQL answers by closing the connection.
    let bytes = 140 << 20;
    let tx = client.transaction().await?;
    let counting = CountingClient::new(&tx);
    let result = NewUserGraph::insert_graph_many(&counting, (0..4).map(|u| user(u, bytes))).await;
    let message = too_large(result)?;
    assert!(
        message
            .starts_with("NewUserGraph: 4 graphs in one statement: the statement's values take "),
        "{message}"
    );
    assert!(
        message.contains("more than the 1073741822 bytes (1 GiB)"),
        "{message}"
    );
    // The statement's size: the eight texts and a little more (the other columns, the
    // lengths of values and elements, the arrays' headers).
    let total = number_after(&message, "values take ")?;
    assert!(total > 8 * bytes && total < 8 * bytes + 4_096, "{total}");
    // The suggestion: 4 graphs scaled to 90% of the limit, rounded down.
    let fit = number_after(&message, "write at most ")?;
    assert_eq!(fit, 4 * MAX_STATEMENT_BYTES * 9 / 10 / total);
    assert_eq!(fit, 3);
    assert!(
        message.ends_with("nothing was sent: write at most 3 graphs per call"),
        "{message}"
    );
    // The call reached the client once; the statement never reached the server: the
    // transaction is not aborted (a statement PostgreSQL refused would have aborted it) and
    // the connection is open (a Bind message past the limit closes it).
    assert_eq!(counting.statements(), 1);
    assert_eq!(count(&tx, "SELECT count(*) FROM users").await?, 0);
    assert_eq!(count(&tx, "SELECT count(*) FROM posts").await?, 0);

    // One graph whose values pass the limit names the step and column of the largest.
    let body = 1_000 << 20;
    let post = NewUserGraphPost::new(NewPostForAuthor::new("t".repeat(30 << 20)))
        .with_comments([NewCommentForPost::new("b".repeat(body)).into()]);
    let graph = NewUserGraph::new("one@x.test").with_posts([post]);
    let message = too_large(graph.insert_graph(&counting).await)?;
    assert!(
        message.contains(
            "the largest, column `body` of step `graph:has_many:posts/has_many:comments` \
             (parameter $"
        ),
        "{message}"
    );
    // The bodies' array of one element: its header (20 bytes), the body's length and the body.
    assert!(
        message.contains(&format!("), takes {};", body + 24)),
        "{message}"
    );
    assert!(
        message.ends_with("nothing was sent: write fewer rows in that step, or smaller values"),
        "{message}"
    );
    assert_eq!(counting.statements(), 2);
    tx.commit().await?;
    assert_eq!(count(&client, "SELECT count(*) FROM users").await?, 0);
    assert_eq!(count(&client, "SELECT count(*) FROM comments").await?, 0);
    Ok(())
}
