//! Generated structs that derive serde's traits (`Builder::type_attribute(".", ..)` in
//! `tests/build.rs`) read a JSON body and write it back unchanged, an `Option<Option<T>>`
//! field telling a missing key (`None`: the column's DEFAULT) from `null` (`Some(None)`:
//! NULL); the graph read from JSON is then written and its rows read back.

use tokio_postgres::Client;
use writegraph_testing::{self as testing, TestDatabase};
use writegraph_tests::articles::{
    ArticleEditGraph, ArticleGraph, AuthoredArticleGraph, NewArticleTagForArticle, NewAuthor,
};

type TestResult = Result<(), Box<dyn std::error::Error>>;

const SCHEMA_SQL: &str = include_str!("../schemas/articles.sql");

async fn database() -> Result<(TestDatabase, Client), Box<dyn std::error::Error>> {
    let db = testing::database_with_schema(SCHEMA_SQL).await?;
    let client = db.connect().await?;
    Ok((db, client))
}

#[test]
fn missing_null_and_value_read_apart_and_write_back() -> TestResult {
    let missing: ArticleGraph =
        serde_json::from_str(r#"{"slug":"a","author_id":7,"title":"A","body":"b","tags":[]}"#)?;
    assert_eq!(missing.subtitle, None);
    let null: ArticleGraph = serde_json::from_str(
        r#"{"slug":"a","author_id":7,"title":"A","body":"b","subtitle":null,"tags":[]}"#,
    )?;
    assert_eq!(null.subtitle, Some(None));
    let value: ArticleGraph = serde_json::from_str(
        r#"{"slug":"a","author_id":7,"title":"A","body":"b","subtitle":"s","tags":[]}"#,
    )?;
    assert_eq!(value.subtitle, Some(Some("s".to_owned())));

    for graph in [missing, null, value] {
        let json = serde_json::to_string(&graph)?;
        let back: ArticleGraph = serde_json::from_str(&json)?;
        assert_eq!(back, graph, "{json}");
    }
    let json = serde_json::to_value(ArticleGraph::new(7, "a", "A", "b"))?;
    assert!(json.get("subtitle").is_none(), "{json}");
    let json = serde_json::to_value(ArticleGraph::new(7, "a", "A", "b").with_subtitle_opt(None))?;
    assert_eq!(json.get("subtitle"), Some(&serde_json::Value::Null));
    Ok(())
}

#[tokio::test]
async fn graphs_read_from_json_are_written_as_they_read() -> TestResult {
    let (_db, client) = database().await?;
    let body = r#"{
        "slug": "first", "title": "First", "body": "text",
        "author": {"email": "ana@example.com", "name": "Ana"},
        "tags": [{"tag": "a"}, {"tag": "b"}]
    }"#;
    let graph: AuthoredArticleGraph = serde_json::from_str(body)?;
    assert_eq!(graph.author, Some(NewAuthor::new("ana@example.com", "Ana")));
    assert_eq!(
        graph.tags,
        [
            NewArticleTagForArticle::new("a"),
            NewArticleTagForArticle::new("b")
        ]
    );
    let first = graph.insert_graph_returning(&client).await?;

    let null: ArticleGraph = serde_json::from_str(&format!(
        r#"{{"slug":"second","title":"Second","body":"text","author_id":{},"subtitle":null,"tags":[]}}"#,
        first.author_id
    ))?;
    null.insert_graph(&client).await?;
    let value: ArticleGraph = serde_json::from_str(&format!(
        r#"{{"slug":"third","title":"Third","body":"text","author_id":{},"subtitle":"sub","tags":[{{"tag":"c"}}]}}"#,
        first.author_id
    ))?;
    value.insert_graph(&client).await?;

    let articles: Vec<(String, i64, Option<String>)> = client
        .query(
            "SELECT slug, author_id, subtitle FROM articles ORDER BY slug",
            &[],
        )
        .await?
        .iter()
        .map(|r| (r.get(0), r.get(1), r.get(2)))
        .collect();
    assert_eq!(
        articles,
        [
            (
                "first".to_owned(),
                first.author_id,
                Some("untitled".to_owned())
            ),
            ("second".to_owned(), first.author_id, None),
            ("third".to_owned(), first.author_id, Some("sub".to_owned())),
        ]
    );
    let authors: Vec<(String, String)> = client
        .query("SELECT email, name FROM authors", &[])
        .await?
        .iter()
        .map(|r| (r.get(0), r.get(1)))
        .collect();
    assert_eq!(authors, [("ana@example.com".to_owned(), "Ana".to_owned())]);
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
    let tags: Vec<(&str, &str)> = tags.iter().map(|(a, t)| (a.as_str(), t.as_str())).collect();
    assert_eq!(tags, [("first", "a"), ("first", "b"), ("third", "c")]);
    Ok(())
}

/// An update graph reads the root's columns from the same JSON object as its children (its
/// patch field `root` is flattened), a missing key apart from `null`, and writes them back.
#[test]
fn an_update_graph_reads_its_root_patch_from_the_graph_object() -> TestResult {
    let missing: ArticleEditGraph = serde_json::from_str(r#"{"title":"T","tags":[{"tag":"x"}]}"#)?;
    assert_eq!(missing.root.title, Some("T".to_owned()));
    assert_eq!(missing.root.subtitle, None);
    assert_eq!(missing.tags, Some(vec![NewArticleTagForArticle::new("x")]));
    let null: ArticleEditGraph = serde_json::from_str(r#"{"subtitle":null}"#)?;
    assert_eq!(null.root.subtitle, Some(None));
    assert_eq!(null.tags, None);
    for graph in [missing, null] {
        let json = serde_json::to_string(&graph)?;
        assert!(!json.contains("\"root\""), "{json}");
        let back: ArticleEditGraph = serde_json::from_str(&json)?;
        assert_eq!(back, graph, "{json}");
    }
    Ok(())
}

#[tokio::test]
async fn an_update_graph_read_from_json_is_written_as_it_reads() -> TestResult {
    let (_db, client) = database().await?;
    let article = AuthoredArticleGraph::new("first", "First", "text")
        .with_author(NewAuthor::new("ana@example.com", "Ana"))
        .with_tags([NewArticleTagForArticle::new("a")])
        .insert_graph_returning(&client)
        .await?;
    let edit: ArticleEditGraph =
        serde_json::from_str(r#"{"title":"Renamed","subtitle":null,"tags":[{"tag":"b"}]}"#)?;
    let stored = edit
        .update_by_id_graph_returning(&client, &article.id)
        .await?;
    assert_eq!(
        (stored.title.as_str(), stored.subtitle, stored.body.as_str()),
        ("Renamed", None, "text")
    );
    let tags: Vec<String> = client
        .query(
            "SELECT tag FROM article_tags WHERE article_id = $1",
            &[&article.id],
        )
        .await?
        .iter()
        .map(|r| r.get(0))
        .collect();
    assert_eq!(tags, ["b"]);
    Ok(())
}
