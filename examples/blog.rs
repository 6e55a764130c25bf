//! The example blog end to end, on a deadpool-postgres pool: posts written with their tags,
//! their first comments and their author found or created by email, each in one statement;
//! eight writers at once for one new author; a post returned with its comments as stored;
//! then a post edited (its tags brought to a new set, a comment appended). Every step is checked against the rows PostgreSQL holds.
//!
//! Run it with `cargo run --example blog` (a throwaway PostgreSQL, or a fresh database on the
//! server `DATABASE_URL` names).

use deadpool_postgres::{Manager, Pool};
use tokio_postgres::NoTls;
use writegraph_example::{
    NewCommentForPost, NewPostGraph, NewPostTagForPost, NewUser, PostEditGraph, SCHEMA_SQL,
};
use writegraph_testing as testing;

type Result<T = ()> = std::result::Result<T, Box<dyn std::error::Error + Send + Sync>>;

#[tokio::main]
async fn main() -> Result {
    let db = testing::database_with_schema(SCHEMA_SQL).await?;
    let pool = Pool::builder(Manager::new(db.config().clone(), NoTls))
        .max_size(4)
        .build()?;
    println!("database `{}` ready, pool of 4", db.name());
    let conn = pool.get().await?;

    // A post, its author created (found by email next time), two tags and a comment.
    let report = NewPostGraph::new("Hello", "The first post.")
        .with_author(NewUser::new("ana@example.com").with_name("Ana"))
        .with_tags([
            NewPostTagForPost::new("rust"),
            NewPostTagForPost::new("postgres"),
        ])
        .with_comments([NewCommentForPost::new("bo", "Welcome!")])
        .insert_graph_report_returning(&conn)
        .await?;
    for step in &report.steps {
        println!("  {:28} {} row(s)", step.tag, step.affected);
    }
    let first = report.root.ok_or("the graph returned no post")?;

    // Eight writers at once, each a post by one new author: the author is created once.
    let mut writers = Vec::new();
    for n in 0..8 {
        let pool = pool.clone();
        writers.push(tokio::spawn(async move {
            let conn = pool.get().await?;
            NewPostGraph::new(format!("Note {n}"), "Short.")
                .with_author(NewUser::new("cy@example.com"))
                .with_tags([NewPostTagForPost::new("notes")])
                .insert_graph(&conn)
                .await?;
            Result::Ok(())
        }));
    }
    for writer in writers {
        writer.await??;
    }
    let authors: Vec<(String, i64)> = conn
        .query(
            "SELECT u.email, count(p.id) FROM users u JOIN posts p ON p.author_id = u.id \
             GROUP BY u.email ORDER BY u.email",
            &[],
        )
        .await?
        .iter()
        .map(|r| (r.get(0), r.get(1)))
        .collect();
    println!("posts per author: {authors:?}");
    assert_eq!(
        authors,
        [
            ("ana@example.com".to_owned(), 1),
            ("cy@example.com".to_owned(), 8)
        ]
    );

    // A post returned with its comments as stored (`returning = true` on the edge): their
    // ids and defaults, in input order, from the same one statement.
    let rows = NewPostGraph::new("Thread", "Discuss.")
        .with_author(NewUser::new("ana@example.com"))
        .with_comments([
            NewCommentForPost::new("cy", "First."),
            NewCommentForPost::new("bo", "Second."),
        ])
        .insert_graph_rows(&conn)
        .await?;
    let stored: Vec<(i64, String)> = conn
        .query(
            "SELECT id, body FROM comments WHERE post_id = $1 ORDER BY id",
            &[&rows.root.id],
        )
        .await?
        .iter()
        .map(|r| (r.get(0), r.get(1)))
        .collect();
    let returned: Vec<(i64, String)> = rows
        .comments
        .iter()
        .map(|c| (c.id, c.body.clone()))
        .collect();
    println!("post {} returned with comments {returned:?}", rows.root.id);
    assert_eq!(returned, stored);
    assert!(rows.comments.iter().all(|c| c.post_id == rows.root.id));

    // Edit the first post: a new title, the tags brought to {postgres, sql} (rust deleted,
    // sql inserted), a comment appended to the one it has.
    let edit = PostEditGraph::default()
        .with_title("Hello again")
        .with_tags([
            NewPostTagForPost::new("postgres"),
            NewPostTagForPost::new("sql"),
        ])
        .with_comments([NewCommentForPost::new("ana", "Thanks!")])
        .update_by_id_graph_report(&conn, &first.id)
        .await?;
    for step in &edit.steps {
        println!("  {:28} {} row(s)", step.tag, step.affected);
    }
    let tags: Vec<String> = conn
        .query(
            "SELECT tag FROM post_tags WHERE post_id = $1 ORDER BY tag",
            &[&first.id],
        )
        .await?
        .iter()
        .map(|r| r.get(0))
        .collect();
    let comments: Vec<(String, String)> = conn
        .query(
            "SELECT author, body FROM comments WHERE post_id = $1 ORDER BY id",
            &[&first.id],
        )
        .await?
        .iter()
        .map(|r| (r.get(0), r.get(1)))
        .collect();
    let title: String = conn
        .query_one("SELECT title FROM posts WHERE id = $1", &[&first.id])
        .await?
        .get(0);
    println!(
        "post {} `{title}`: tags {tags:?}, comments {comments:?}",
        first.id
    );
    assert_eq!(title, "Hello again");
    assert_eq!(tags, ["postgres", "sql"]);
    assert_eq!(
        comments,
        [
            ("bo".to_owned(), "Welcome!".to_owned()),
            ("ana".to_owned(), "Thanks!".to_owned())
        ]
    );
    println!("ok");
    Ok(())
}
