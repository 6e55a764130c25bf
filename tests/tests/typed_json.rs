//! Columns given Rust types of the application's by `column_types`
//! (`tests/schemas/typed_json.toml`): `jsonb` columns as `writegraph::types::JsonOf<T>`,
//! bound natively as `jsonb`, written by inserts, batches and patches and read back as `T`.

use std::collections::BTreeMap;

use tokio_postgres::Client;
use writegraph::types::JsonOf;
use writegraph_testing::{self as testing, TestDatabase};
use writegraph_tests::typed_json::{NewProfile, Profile, ProfilePatch};
use writegraph_tests::ProfileSettings;

type TestResult<T = ()> = Result<T, Box<dyn std::error::Error>>;

const SCHEMA_SQL: &str = include_str!("../schemas/typed_json.sql");

async fn database() -> TestResult<(TestDatabase, Client)> {
    let db = testing::database_with_schema(SCHEMA_SQL).await?;
    let client = db.connect().await?;
    Ok((db, client))
}

fn settings(theme: &str, digest: bool) -> JsonOf<ProfileSettings> {
    JsonOf(ProfileSettings {
        theme: theme.to_owned(),
        digest,
    })
}

/// Each profile's `(handle, settings::text, extra::text)`, by id.
async fn stored(client: &Client) -> TestResult<Vec<(String, String, Option<String>)>> {
    Ok(client
        .query(
            "SELECT handle, settings::text, extra::text FROM profiles ORDER BY id",
            &[],
        )
        .await?
        .iter()
        .map(|r| (r.get(0), r.get(1), r.get(2)))
        .collect())
}

#[tokio::test]
async fn typed_json_columns_are_written_and_read_as_the_applications_types() -> TestResult {
    let (_db, client) = database().await?;

    // One row with both columns set, one leaving them to the DEFAULT and NULL.
    let ada = NewProfile::new("ada")
        .with_settings(settings("dark", true))
        .with_extra(JsonOf(BTreeMap::from([("logins".to_owned(), 3)])))
        .insert_returning(&client)
        .await?;
    assert_eq!(ada.settings, settings("dark", true));
    assert_eq!(
        ada.extra,
        Some(JsonOf(BTreeMap::from([("logins".to_owned(), 3)])))
    );
    let bo = NewProfile::new("bo").insert_returning(&client).await?;
    assert_eq!(bo.settings, settings("light", false));
    assert_eq!(bo.extra, None);

    // A batch mixing set and unset values.
    let written = NewProfile::insert_many(
        &client,
        vec![
            NewProfile::new("cy").with_settings(settings("blue", false)),
            NewProfile::new("di"),
        ],
    )
    .await?;
    assert_eq!(written, 2);

    // A patch sets one typed column and clears the other.
    let patched = ProfilePatch::default()
        .with_settings(settings("light", true))
        .with_extra_opt(None)
        .update_by_id_returning(&client, &ada.id)
        .await?;
    assert_eq!(patched.settings, settings("light", true));
    assert_eq!(patched.extra, None);

    let found: Option<Profile> = Profile::find_by_id(&client, &bo.id).await?;
    assert_eq!(found.map(|p| p.settings), Some(settings("light", false)));
    assert_eq!(
        stored(&client).await?,
        [
            (
                "ada".to_owned(),
                r#"{"theme": "light", "digest": true}"#.to_owned(),
                None
            ),
            (
                "bo".to_owned(),
                r#"{"theme": "light", "digest": false}"#.to_owned(),
                None
            ),
            (
                "cy".to_owned(),
                r#"{"theme": "blue", "digest": false}"#.to_owned(),
                None
            ),
            (
                "di".to_owned(),
                r#"{"theme": "light", "digest": false}"#.to_owned(),
                None
            ),
        ]
    );
    Ok(())
}
