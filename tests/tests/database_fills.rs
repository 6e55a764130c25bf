//! Columns the database fills (`database_fills` in graphs.toml): `articles.search` is a NOT
//! NULL `tsvector` a trigger computes. Inserts through the table and through graphs leave it
//! to the trigger (the insert struct has no such field), and the stored row reads it back.
//! The schema is `tests/schemas/articles.sql` with `tests/schemas/articles.toml`.

use tokio_postgres::Client;
use writegraph_testing::{self as testing, TestDatabase};
use writegraph_tests::articles::{
    ArticleGraph, AuthoredArticleGraph, NewArticle, NewArticleTagForArticle, NewAuthor,
};

type TestResult = Result<(), Box<dyn std::error::Error>>;

const SCHEMA_SQL: &str = include_str!("../schemas/articles.sql");

async fn database() -> Result<(TestDatabase, Client), Box<dyn std::error::Error>> {
    let db = testing::database_with_schema(SCHEMA_SQL).await?;
    let client = db.connect().await?;
    Ok((db, client))
}

/// `(slug, search)` of every article, the search vector as text, by slug.
async fn stored_searches(
    client: &Client,
) -> Result<Vec<(String, String)>, Box<dyn std::error::Error>> {
    Ok(client
        .query("SELECT slug, search::text FROM articles ORDER BY slug", &[])
        .await?
        .iter()
        .map(|r| (r.get(0), r.get(1)))
        .collect())
}

#[tokio::test]
async fn a_table_insert_leaves_the_column_to_the_trigger() -> TestResult {
    let (_db, client) = database().await?;
    let author = NewAuthor::new("ana@example.com", "Ana")
        .insert_returning(&client)
        .await?;
    let article = NewArticle::new(author.id, "first", "Hello", "world")
        .insert_returning(&client)
        .await?;
    assert_eq!(article.search, "'hello':1 'world':2");

    let written = NewArticle::insert_many(
        &client,
        vec![
            NewArticle::new(author.id, "second", "Second", "post"),
            NewArticle::new(author.id, "third", "Third", "post"),
        ],
    )
    .await?;
    assert_eq!(written, 2);
    assert_eq!(
        stored_searches(&client).await?,
        [
            ("first".to_owned(), "'hello':1 'world':2".to_owned()),
            ("second".to_owned(), "'post':2 'second':1".to_owned()),
            ("third".to_owned(), "'post':2 'third':1".to_owned()),
        ]
    );
    Ok(())
}

#[tokio::test]
async fn graphs_leave_the_column_to_the_trigger() -> TestResult {
    let (_db, client) = database().await?;
    let author = NewAuthor::new("ana@example.com", "Ana")
        .insert_returning(&client)
        .await?;
    let article = ArticleGraph::new(author.id, "tagged", "Tagged", "words")
        .with_tags(vec![
            NewArticleTagForArticle::new("a"),
            NewArticleTagForArticle::new("b"),
        ])
        .insert_graph_returning(&client)
        .await?;
    assert_eq!(article.search, "'tagged':1 'words':2");

    AuthoredArticleGraph::new("authored", "By", "Bo")
        .with_author(NewAuthor::new("bo@example.com", "Bo"))
        .with_tags(vec![NewArticleTagForArticle::new("c")])
        .insert_graph(&client)
        .await?;

    assert_eq!(
        stored_searches(&client).await?,
        [
            ("authored".to_owned(), "'bo':2 'by':1".to_owned()),
            ("tagged".to_owned(), "'tagged':1 'words':2".to_owned()),
        ]
    );
    let tags: Vec<(String, String)> = client
        .query(
            "SELECT a.slug, t.tag FROM article_tags t JOIN articles a ON a.id = t.article_id \
             ORDER BY t.tag",
            &[],
        )
        .await?
        .iter()
        .map(|r| (r.get(0), r.get(1)))
        .collect();
    assert_eq!(
        tags,
        [
            ("tagged".to_owned(), "a".to_owned()),
            ("tagged".to_owned(), "b".to_owned()),
            ("authored".to_owned(), "c".to_owned()),
        ]
    );
    let authors: Vec<String> = client
        .query("SELECT email FROM authors ORDER BY id", &[])
        .await?
        .iter()
        .map(|r| r.get(0))
        .collect();
    assert_eq!(authors, ["ana@example.com", "bo@example.com"]);
    Ok(())
}
