//! The write traits proven on PostgreSQL through two small hand-written tables and three
//! graphs, implemented the way generated code implements them: consts, column lists and
//! bindings only, every body from the traits. The tests call the entry points as users do:
//! as inherent methods that the `*_methods!` macros give, and (for `NewParent`, which has
//! none) through `writegraph::prelude`.

use tokio_postgres::Client;
use writegraph::prelude::*;
use writegraph::{Error, ValidationKind, WriteStepReport};
use writegraph_testing::{CountingClient, TestDatabase};

use schema::{
    Kid, LockedParentReplaceGraph, NewKid, NewParent, NewParentGraph, Parent, ParentPatch,
    ParentReplaceGraph,
};

type TestResult = Result<(), Box<dyn std::error::Error>>;

/// What the generator would emit for its schema: data and bindings, no bodies.
#[path = "write_schema/mod.rs"]
mod schema;

use schema::SCHEMA;

async fn setup() -> Result<(TestDatabase, Client), Box<dyn std::error::Error>> {
    let db = writegraph_testing::database_with_schema(SCHEMA).await?;
    let client = db.connect().await?;
    Ok((db, client))
}

/// Every row of `kids`, as (parent_id, sku, qty), in key order.
async fn kids(client: &Client) -> Result<Vec<(i64, String, i32)>, Box<dyn std::error::Error>> {
    let rows = client
        .query(
            "SELECT parent_id, sku, qty FROM kids ORDER BY parent_id, sku",
            &[],
        )
        .await?;
    Ok(rows
        .iter()
        .map(|r| (r.get(0), r.get(1), r.get(2)))
        .collect())
}

/// Every row of `parents`, as (id, name, note), in key order.
async fn parents(
    client: &Client,
) -> Result<Vec<(i64, String, Option<String>)>, Box<dyn std::error::Error>> {
    let rows = client
        .query("SELECT id, name, note FROM parents ORDER BY id", &[])
        .await?;
    Ok(rows
        .iter()
        .map(|r| (r.get(0), r.get(1), r.get(2)))
        .collect())
}

fn new_parent(name: &str) -> NewParent {
    NewParent {
        id: None,
        name: name.to_owned(),
        note: None,
    }
}

fn kind(error: &Error) -> Option<ValidationKind> {
    error.validation_kind()
}

#[tokio::test]
async fn insert_many_writes_one_statement_and_returns_rows_in_input_order() -> TestResult {
    let (_db, client) = setup().await?;
    let counting = CountingClient::new(client);
    assert_eq!(NewParent::insert_many(&counting, vec![]).await?, 0);
    assert_eq!(counting.statements(), 0);

    let stored = NewParent::insert_many_returning(
        &counting,
        vec![new_parent("b"), new_parent("a").into_note("x")],
    )
    .await?;
    assert_eq!(counting.statements(), 1);
    assert_eq!(
        stored
            .iter()
            .map(|p| (p.name.as_str(), p.note.as_deref()))
            .collect::<Vec<_>>(),
        [("b", None), ("a", Some("x"))]
    );
    assert!(stored[0].id < stored[1].id);
    let parent = stored[0].id;

    let kids_in = vec![
        NewKid::new("k1").with_parent_id(parent),
        NewKid::new("k2").with_parent_id(parent).with_qty(5),
    ];
    assert_eq!(NewKid::insert_many(&counting, kids_in).await?, 2);
    let one = NewKid::new("k3")
        .with_parent_id(parent)
        .insert_returning(&counting)
        .await?;
    assert_eq!(
        (one.parent_id, one.sku.as_str(), one.qty),
        (parent, "k3", 1)
    );
    assert_eq!(NewParent::insert(new_parent("c"), &counting).await?, 1);

    let client = counting.into_inner();
    assert_eq!(
        kids(&client).await?,
        [
            (parent, "k1".to_owned(), 1),
            (parent, "k2".to_owned(), 5),
            (parent, "k3".to_owned(), 1)
        ]
    );
    assert_eq!(parents(&client).await?.len(), 3);
    Ok(())
}

/// `NewParent` with a note, for the test above.
trait IntoNote {
    fn into_note(self, note: &str) -> Self;
}

impl IntoNote for NewParent {
    fn into_note(mut self, note: &str) -> Self {
        self.note = Some(note.to_owned());
        self
    }
}

#[tokio::test]
async fn bad_rows_are_refused_before_any_statement() -> TestResult {
    let (_db, client) = setup().await?;
    let counting = CountingClient::new(client);

    let missing = NewKid::insert_many(&counting, vec![NewKid::new("k")]).await;
    let missing = missing
        .err()
        .ok_or("a kid without parent_id was inserted")?;
    assert_eq!(kind(&missing), Some(ValidationKind::MissingValue));
    assert!(missing
        .to_string()
        .contains("`public.kids.parent_id` is required"));

    let too_long =
        NewParent::insert_many(&counting, vec![new_parent("ok"), new_parent("ninechars")]).await;
    let too_long = too_long.err().ok_or("a nine-character name was inserted")?;
    assert_eq!(kind(&too_long), Some(ValidationKind::TooLong));
    assert_eq!(
        too_long.to_string(),
        "invalid write: `public.parents` row 1, column `name`: the value is 9 characters long; the column holds at most 8"
    );

    let repeated = NewKid::upsert_many(
        &counting,
        vec![
            NewKid::new("k").with_parent_id(1),
            NewKid::new("other").with_parent_id(1),
            NewKid::new("k").with_parent_id(1).with_qty(3),
        ],
    )
    .await;
    let repeated = repeated
        .err()
        .ok_or("repeated conflict keys were upserted")?;
    assert_eq!(kind(&repeated), Some(ValidationKind::RepeatedKey));
    assert_eq!(
        repeated.to_string(),
        "invalid write: two rows of `public.kids` have the same conflict key (parent_id, sku); merge them before upserting (rows 0 and 2)"
    );

    let graph = NewParentGraph {
        id: None,
        name: "p".to_owned(),
        note: Some("nul\0".to_owned()),
        kids: vec![],
    };
    let nul = graph
        .insert_graph(&counting)
        .await
        .err()
        .ok_or("a NUL byte was written")?;
    assert_eq!(kind(&nul), Some(ValidationKind::NulByte));
    assert!(nul
        .to_string()
        .starts_with("invalid write: step `graph:root:parents`: "));

    assert_eq!(counting.statements(), 0);
    assert!(parents(counting.inner()).await?.is_empty());
    Ok(())
}

#[tokio::test]
async fn upsert_inserts_or_updates_by_conflict_key() -> TestResult {
    let (_db, client) = setup().await?;
    let parent = new_parent("p").insert_returning(&client).await?.id;
    NewKid::new("a")
        .with_parent_id(parent)
        .insert(&client)
        .await?;

    let written = NewKid::upsert_many(
        &client,
        vec![
            NewKid::new("a").with_parent_id(parent).with_qty(7),
            NewKid::new("b").with_parent_id(parent).with_qty(2),
        ],
    )
    .await?;
    assert_eq!(written, 2);
    let row = NewKid::new("b")
        .with_parent_id(parent)
        .with_qty(9)
        .upsert_returning(&client)
        .await?;
    assert_eq!((row.sku.as_str(), row.qty), ("b", 9));
    assert_eq!(
        NewKid::new("c")
            .with_parent_id(parent)
            .upsert(&client)
            .await?,
        1
    );
    assert_eq!(NewKid::upsert_many(&client, vec![]).await?, 0);
    assert_eq!(
        kids(&client).await?,
        [
            (parent, "a".to_owned(), 7),
            (parent, "b".to_owned(), 9),
            (parent, "c".to_owned(), 1)
        ]
    );
    Ok(())
}

#[tokio::test]
async fn find_delete_and_patch_by_key() -> TestResult {
    let (_db, client) = setup().await?;
    let parent = new_parent("p").insert_returning(&client).await?;
    assert_eq!(
        Parent::find_by_id(&client, &parent.id).await?,
        Some(parent.clone())
    );
    assert_eq!(Parent::find_by_id(&client, &(parent.id + 100)).await?, None);

    let patch = ParentPatch {
        name: None,
        note: Some(Some("set".to_owned())),
    };
    assert_eq!(patch.update_by_id(&client, &parent.id).await?, 1);
    let patch = ParentPatch {
        name: Some("renamed".to_owned()),
        note: Some(None),
    };
    let stored = patch.update_by_id_returning(&client, &parent.id).await?;
    assert_eq!((stored.name.as_str(), stored.note), ("renamed", None));

    let nothing = ParentPatch::default()
        .update_by_id(&client, &parent.id)
        .await;
    let nothing = nothing.err().ok_or("an empty patch was sent")?;
    assert_eq!(kind(&nothing), Some(ValidationKind::NoOperations));
    assert_eq!(
        nothing.to_string(),
        "invalid write: the patch of `public.parents` sets no column: nothing to update"
    );

    let rename = ParentPatch {
        name: Some("x".to_owned()),
        note: None,
    };
    let missing = rename
        .clone()
        .update_by_id(&client, &(parent.id + 100))
        .await;
    assert!(matches!(
        missing,
        Err(Error::NotFound {
            table: "public.parents",
            step: None,
            ..
        })
    ));
    let missing = rename
        .update_by_id_returning(&client, &(parent.id + 100))
        .await;
    assert!(matches!(
        missing,
        Err(Error::NotFound {
            table: "public.parents",
            step: None,
            ..
        })
    ));

    let kid = NewKid::new("k")
        .with_parent_id(parent.id)
        .insert_returning(&client)
        .await?;
    assert_eq!(Kid::delete_by_id(&client, &kid.id).await?, 1);
    let again = Kid::delete_by_id(&client, &kid.id).await;
    assert!(matches!(
        again,
        Err(Error::NotFound {
            table: "public.kids",
            step: None,
            ..
        })
    ));
    assert_eq!(
        parents(&client).await?,
        [(parent.id, "renamed".to_owned(), None)]
    );
    assert!(kids(&client).await?.is_empty());
    Ok(())
}

fn graph(name: &str, skus: &[&str]) -> NewParentGraph {
    NewParentGraph {
        id: None,
        name: name.to_owned(),
        note: None,
        kids: skus.iter().map(|sku| NewKid::new(sku)).collect(),
    }
}

#[tokio::test]
async fn insert_graph_entry_points_share_one_statement() -> TestResult {
    let (_db, mut client) = setup().await?;
    let counting = CountingClient::new(client);
    assert_eq!(graph("a", &["x", "y"]).insert_graph(&counting).await?, 3);
    let report = graph("b", &["x"]).insert_graph_report(&counting).await?;
    assert_eq!(
        report.steps,
        [
            WriteStepReport {
                tag: "graph:root:parents",
                affected: 1
            },
            WriteStepReport {
                tag: "graph:has_many:kids",
                affected: 1
            }
        ]
    );
    assert_eq!((report.affected, report.root), (2, None));
    let root = graph("c", &[]).insert_graph_returning(&counting).await?;
    assert_eq!((root.name.as_str(), root.note), ("c", None));
    let report = graph("d", &["x", "y", "z"])
        .insert_graph_report_returning(&counting)
        .await?;
    assert_eq!(report.step("graph:has_many:kids"), 3);
    let d = report.root.ok_or("no root in the report")?;
    assert_eq!(counting.statements(), 4);
    client = counting.into_inner();
    let e = graph("e", &["x"]).insert_graph_atomic(&mut client).await?;

    let names: Vec<(i64, String)> = parents(&client)
        .await?
        .into_iter()
        .map(|(id, name, _)| (id, name))
        .collect();
    assert_eq!(
        names.iter().map(|(_, n)| n.as_str()).collect::<Vec<_>>(),
        ["a", "b", "c", "d", "e"]
    );
    let kids = kids(&client).await?;
    assert_eq!(kids.len(), 7);
    assert_eq!(
        kids.iter()
            .filter(|k| k.0 == d.id)
            .map(|k| k.1.as_str())
            .collect::<Vec<_>>(),
        ["x", "y", "z"]
    );
    assert_eq!(kids.iter().filter(|k| k.0 == e.id).count(), 1);
    Ok(())
}

#[tokio::test]
async fn a_failing_graph_step_is_named_and_writes_nothing() -> TestResult {
    let (_db, client) = setup().await?;
    let mut bad = graph("a", &["x", "y"]);
    bad.kids[1].qty = Some(0);
    let error = bad
        .insert_graph(&client)
        .await
        .err()
        .ok_or("qty 0 was written")?;
    assert_eq!(error.tag(), Some("graph:has_many:kids"));
    assert!(error.is_check_violation());
    assert_eq!(error.constraint(), Some("kids_qty_positive"));

    let taken = new_parent("taken").insert_returning(&client).await?;
    let mut clash = graph("b", &["x"]);
    clash.id = Some(taken.id);
    let error = clash
        .insert_graph_returning(&client)
        .await
        .err()
        .ok_or("a repeated id was written")?;
    assert_eq!(error.tag(), Some("graph:root:parents"));
    assert!(error.is_unique_violation());

    assert_eq!(
        parents(&client).await?,
        [(taken.id, "taken".to_owned(), None)]
    );
    assert!(kids(&client).await?.is_empty());
    Ok(())
}

/// A parent "p" with kids "a" and "b".
async fn parent_with_kids(client: &Client) -> Result<i64, Box<dyn std::error::Error>> {
    let root = graph("p", &["a", "b"])
        .insert_graph_returning(client)
        .await?;
    Ok(root.id)
}

#[tokio::test]
async fn update_graph_patches_the_root_and_replaces_children() -> TestResult {
    let (_db, client) = setup().await?;
    let id = parent_with_kids(&client).await?;

    let only_kids = ParentReplaceGraph {
        root: ParentPatch::default(),
        kids: Some(vec![NewKid::new("c").with_qty(4)]),
    };
    let report = only_kids
        .update_by_id_graph_report_returning(&client, &id)
        .await?;
    assert_eq!(
        report.steps,
        [
            WriteStepReport {
                tag: "graph:root:parents",
                affected: 0
            },
            WriteStepReport {
                tag: "graph:has_many:kids",
                affected: 3
            }
        ]
    );
    assert_eq!(report.root.map(|r| r.name), Some("p".to_owned()));
    assert_eq!(kids(&client).await?, [(id, "c".to_owned(), 4)]);

    let only_root = ParentReplaceGraph {
        root: ParentPatch {
            name: Some("q".to_owned()),
            note: Some(Some("n".to_owned())),
        },
        kids: None,
    };
    let root = only_root.update_by_id_graph_returning(&client, &id).await?;
    assert_eq!((root.name.as_str(), root.note.as_deref()), ("q", Some("n")));
    assert_eq!(kids(&client).await?, [(id, "c".to_owned(), 4)]);

    let clear = ParentReplaceGraph {
        root: ParentPatch::default(),
        kids: Some(vec![]),
    };
    assert_eq!(clear.clone().update_by_id_graph(&client, &id).await?, 1);
    let report = clear.update_by_id_graph_report(&client, &id).await?;
    assert_eq!((report.affected, report.root), (0, None));
    assert!(kids(&client).await?.is_empty());
    assert_eq!(
        parents(&client).await?,
        [(id, "q".to_owned(), Some("n".to_owned()))]
    );
    Ok(())
}

#[tokio::test]
async fn update_graph_refuses_empty_graphs_and_missing_roots() -> TestResult {
    let (_db, client) = setup().await?;
    let id = parent_with_kids(&client).await?;
    let counting = CountingClient::new(client);

    let empty = ParentReplaceGraph::default()
        .update_by_id_graph(&counting, &id)
        .await;
    let empty = empty.err().ok_or("an empty graph was sent")?;
    assert_eq!(kind(&empty), Some(ValidationKind::NoOperations));
    assert_eq!(
        empty.to_string(),
        "invalid write: ParentReplaceGraph: no operations to perform (no root column set, every child field None)"
    );
    let too_long = ParentReplaceGraph {
        root: ParentPatch {
            name: Some("ninechars".to_owned()),
            note: None,
        },
        kids: None,
    };
    let too_long = too_long
        .update_by_id_graph(&counting, &id)
        .await
        .err()
        .ok_or("too long")?;
    assert_eq!(kind(&too_long), Some(ValidationKind::TooLong));
    assert!(too_long.to_string().contains("step `graph:root:parents`"));
    assert_eq!(counting.statements(), 0);

    let missing = ParentReplaceGraph {
        root: ParentPatch::default(),
        kids: Some(vec![NewKid::new("z")]),
    };
    let missing = missing
        .update_by_id_graph_returning(&counting, &(id + 100))
        .await;
    assert!(matches!(
        missing,
        Err(Error::NotFound {
            table: "public.parents",
            step: None,
            ..
        })
    ));
    assert_eq!(counting.statements(), 1);
    let client = counting.into_inner();
    assert_eq!(
        kids(&client).await?,
        [(id, "a".to_owned(), 1), (id, "b".to_owned(), 1)]
    );
    Ok(())
}

#[tokio::test]
async fn locking_update_graph_runs_in_its_own_or_the_callers_transaction() -> TestResult {
    let (_db, mut client) = setup().await?;
    let id = parent_with_kids(&client).await?;

    let rename = LockedParentReplaceGraph {
        root: ParentPatch {
            name: Some("mut".to_owned()),
            note: None,
        },
        kids: Some(vec![NewKid::new("m")]),
    };
    assert_eq!(rename.update_by_id_graph(&mut client, &id).await?, 4);
    assert_eq!(kids(&client).await?, [(id, "m".to_owned(), 1)]);

    let tx = client.transaction().await?;
    let in_tx = LockedParentReplaceGraph {
        root: ParentPatch {
            name: Some("tx".to_owned()),
            note: None,
        },
        kids: None,
    };
    let report = in_tx.update_by_id_graph_report(&tx, &id).await?;
    assert_eq!(report.step("graph:root:parents"), 1);
    tx.rollback().await?;
    assert_eq!(parents(&client).await?, [(id, "mut".to_owned(), None)]);

    let missing = LockedParentReplaceGraph {
        root: ParentPatch::default(),
        kids: Some(vec![]),
    };
    let missing = missing
        .update_by_id_graph_returning(&mut client, &(id + 100))
        .await;
    assert!(matches!(
        missing,
        Err(Error::NotFound {
            table: "public.parents",
            step: None,
            ..
        })
    ));

    // A failing step rolls back the whole graph: the root keeps its name, the kids stay.
    let failing = LockedParentReplaceGraph {
        root: ParentPatch {
            name: Some("lost".to_owned()),
            note: None,
        },
        kids: Some(vec![NewKid::new("ok"), NewKid::new("bad").with_qty(-1)]),
    };
    let error = failing
        .update_by_id_graph_report_returning(&mut client, &id)
        .await
        .err()
        .ok_or("qty -1 was written")?;
    assert_eq!(error.tag(), Some("graph:has_many:kids"));
    assert!(error.is_check_violation());
    assert_eq!(parents(&client).await?, [(id, "mut".to_owned(), None)]);
    assert_eq!(kids(&client).await?, [(id, "m".to_owned(), 1)]);
    Ok(())
}

/// Code generic over tables and graphs needs only the traits.
mod generic {
    use tokio_postgres::Client;
    use writegraph::{InsertGraph, Result, Table};

    /// Writes every graph, one statement each, and returns the rows affected in all.
    pub async fn write_all<G: InsertGraph>(conn: &Client, graphs: Vec<G>) -> Result<u64> {
        let mut total = 0;
        for graph in graphs {
            total += graph.insert_graph(conn).await?;
        }
        Ok(total)
    }

    /// Whether a row of table `T` has this key.
    pub async fn exists<T: Table>(conn: &Client, key: &T::Key) -> Result<bool> {
        Ok(T::find_by_id(conn, key).await?.is_some())
    }
}

#[tokio::test]
async fn generic_code_uses_the_traits() -> TestResult {
    let (_db, client) = setup().await?;
    let total = generic::write_all(&client, vec![graph("a", &["x"]), graph("b", &[])]).await?;
    assert_eq!(total, 3);
    let rows = parents(&client).await?;
    assert!(generic::exists::<Parent>(&client, &rows[0].0).await?);
    assert!(!generic::exists::<Parent>(&client, &(rows[1].0 + 1)).await?);
    let kid = NewKid::new("y")
        .with_parent_id(rows[1].0)
        .insert_returning(&client)
        .await?;
    assert!(generic::exists::<Kid>(&client, &kid.id).await?);
    Ok(())
}

/// The entry points' futures are `Send`: they run as tasks of a multi-threaded runtime.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn entry_points_run_as_spawned_tasks() -> TestResult {
    let (_db, client) = setup().await?;
    let client = std::sync::Arc::new(client);
    let shared = std::sync::Arc::clone(&client);
    let root =
        tokio::spawn(async move { graph("s", &["x"]).insert_graph_returning(&*shared).await })
            .await??;
    let shared = std::sync::Arc::clone(&client);
    let id = root.id;
    let upserted = tokio::spawn(async move {
        NewKid::upsert_many(
            &*shared,
            vec![NewKid::new("x").with_parent_id(id).with_qty(2)],
        )
        .await
    })
    .await??;
    assert_eq!(upserted, 1);
    let mut client =
        std::sync::Arc::try_unwrap(client).map_err(|_| "the client is still shared")?;
    let (updated, client) = tokio::spawn(async move {
        let graph = LockedParentReplaceGraph {
            root: ParentPatch {
                name: Some("t".to_owned()),
                note: None,
            },
            kids: None,
        };
        let updated = graph.update_by_id_graph(&mut client, &id).await;
        (updated, client)
    })
    .await?;
    assert_eq!(updated?, 1);
    assert_eq!(parents(&client).await?, [(id, "t".to_owned(), None)]);
    assert_eq!(kids(&client).await?, [(id, "x".to_owned(), 2)]);
    Ok(())
}
