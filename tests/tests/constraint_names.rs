//! The generated `constraints` consts are the names PostgreSQL reports a rejected write
//! under: each kind of violation, provoked through the generated code, matches its const.
//! The schema is `tests/schemas/articles.sql`.

use tokio_postgres::Client;
use writegraph_testing::{self as testing, TestDatabase};
use writegraph_tests::articles::{
    constraints, ArticleGraph, NewArticle, NewArticleTagForArticle, NewAuthor,
};

type TestResult = Result<(), Box<dyn std::error::Error>>;

const SCHEMA_SQL: &str = include_str!("../schemas/articles.sql");

async fn database() -> Result<(TestDatabase, Client), Box<dyn std::error::Error>> {
    let db = testing::database_with_schema(SCHEMA_SQL).await?;
    let client = db.connect().await?;
    Ok((db, client))
}

async fn count(client: &Client, sql: &str) -> Result<i64, Box<dyn std::error::Error>> {
    Ok(client.query_one(sql, &[]).await?.get(0))
}

#[tokio::test]
async fn each_violation_names_its_generated_const() -> TestResult {
    let (_db, client) = database().await?;
    let author = NewAuthor::new("ana@example.com", "Ana")
        .insert_returning(&client)
        .await?;
    NewArticle::new(author.id, "first", "First", "text")
        .insert(&client)
        .await?;

    // An implicit UNIQUE name (`authors_email_key`).
    let e = NewAuthor::new("ana@example.com", "Other")
        .insert(&client)
        .await
        .err()
        .ok_or("a repeated email was accepted")?;
    assert!(e.is_unique_violation());
    assert_eq!(e.constraint(), Some(constraints::AUTHORS_EMAIL_KEY));

    // An implicit primary key name.
    let e = NewAuthor::new("bo@example.com", "Bo")
        .with_id(author.id)
        .insert(&client)
        .await
        .err()
        .ok_or("a repeated id was accepted")?;
    assert_eq!(e.constraint(), Some(constraints::AUTHORS_PKEY));

    // An implicit column CHECK name (`authors_name_check`).
    let e = NewAuthor::new("cy@example.com", "")
        .insert(&client)
        .await
        .err()
        .ok_or("an empty name was accepted")?;
    assert!(e.is_check_violation());
    assert_eq!(e.constraint(), Some(constraints::AUTHORS_NAME_CHECK));

    // A named UNIQUE and a named CHECK.
    let e = NewArticle::new(author.id, "first", "Again", "text")
        .insert(&client)
        .await
        .err()
        .ok_or("a repeated slug was accepted")?;
    assert_eq!(e.constraint(), Some(constraints::ONE_SLUG_PER_AUTHOR));
    let e = NewArticle::new(author.id, "blank", "  ", "text")
        .insert(&client)
        .await
        .err()
        .ok_or("a blank title was accepted")?;
    assert_eq!(e.constraint(), Some(constraints::TITLE_NOT_BLANK));

    // An implicit FOREIGN KEY name, and a composite primary key, inside a graph.
    let e = NewArticle::new(author.id + 100, "orphan", "Orphan", "text")
        .insert(&client)
        .await
        .err()
        .ok_or("a missing author was accepted")?;
    assert!(e.is_foreign_key_violation());
    assert_eq!(e.constraint(), Some(constraints::ARTICLES_AUTHOR_ID_FKEY));
    let e = ArticleGraph::new(author.id, "tagged", "Tagged", "text")
        .with_tags(vec![
            NewArticleTagForArticle::new("a"),
            NewArticleTagForArticle::new("a"),
        ])
        .insert_graph(&client)
        .await
        .err()
        .ok_or("a repeated tag was accepted")?;
    assert_eq!(e.constraint(), Some(constraints::ARTICLE_TAGS_PKEY));

    assert_eq!(count(&client, "SELECT count(*) FROM authors").await?, 1);
    assert_eq!(count(&client, "SELECT count(*) FROM articles").await?, 1);
    assert_eq!(
        count(&client, "SELECT count(*) FROM article_tags").await?,
        0
    );
    Ok(())
}

#[test]
fn the_consts_spell_postgres_names() {
    assert_eq!(constraints::AUTHORS_EMAIL_KEY, "authors_email_key");
    assert_eq!(constraints::AUTHORS_NAME_CHECK, "authors_name_check");
    assert_eq!(
        constraints::ARTICLES_AUTHOR_ID_FKEY,
        "articles_author_id_fkey"
    );
    assert_eq!(constraints::ARTICLE_TAGS_PKEY, "article_tags_pkey");
    assert_eq!(constraints::ONE_SLUG_PER_AUTHOR, "one_slug_per_author");
}
