//! The spans of writes (the runtime's feature `tracing`), read back with a small subscriber
//! that keeps every span's fields and every event: one span per write with its table or graph,
//! kind, statement, rows (per step for a graph) and duration, and one event for an error with
//! its SQLSTATE and step. The spans are opened by the write traits' entry points, so the
//! writes here go through hand-written implementations of the traits (`write_schema`).

use std::collections::BTreeMap;
use std::fmt::Debug;
use std::sync::{Arc, Mutex, PoisonError};

use tokio_postgres::Client;
use tracing::field::{Field, Visit};
use tracing::span::{Attributes, Id, Record};
use tracing::{Event, Level, Metadata, Subscriber};
use writegraph::prelude::*;
use writegraph_testing::{self as testing, TestDatabase};

use schema::{
    LockedParentReplaceGraph, NewKid, NewParent, NewParentGraph, Parent, ParentPatch, SCHEMA,
};

/// Hand-written tables and graphs whose bodies all come from the write traits.
#[path = "write_schema/mod.rs"]
mod schema;

type TestResult<T = ()> = Result<T, Box<dyn std::error::Error>>;

/// A span as recorded: its name and fields, as text.
#[derive(Debug, Clone, Default)]
struct SpanData {
    name: &'static str,
    fields: BTreeMap<String, String>,
}

/// An event as recorded: its level, fields, and the span it happened in.
#[derive(Debug, Clone)]
struct EventData {
    level: Level,
    span: Option<u64>,
    fields: BTreeMap<String, String>,
}

#[derive(Debug, Default)]
struct State {
    spans: Vec<SpanData>,
    entered: Vec<u64>,
    events: Vec<EventData>,
}

/// Keeps every span and event; span ids are indexes into `spans`, plus one.
#[derive(Debug, Clone, Default)]
struct Recorder(Arc<Mutex<State>>);

impl Recorder {
    fn state(&self) -> std::sync::MutexGuard<'_, State> {
        self.0.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// The spans named `write`, in the order they were opened.
    fn writes(&self) -> Vec<SpanData> {
        self.state()
            .spans
            .iter()
            .filter(|s| s.name == "write")
            .cloned()
            .collect()
    }

    /// The events, with the span each happened in.
    fn events(&self) -> Vec<(EventData, Option<SpanData>)> {
        let state = self.state();
        state
            .events
            .iter()
            .map(|e| {
                let span = e
                    .span
                    .and_then(|id| state.spans.get(usize::try_from(id - 1).ok()?).cloned());
                (e.clone(), span)
            })
            .collect()
    }
}

struct Fields<'a>(&'a mut BTreeMap<String, String>);

impl Visit for Fields<'_> {
    fn record_debug(&mut self, field: &Field, value: &dyn Debug) {
        self.0.insert(field.name().to_owned(), format!("{value:?}"));
    }

    fn record_str(&mut self, field: &Field, value: &str) {
        self.0.insert(field.name().to_owned(), value.to_owned());
    }

    fn record_u64(&mut self, field: &Field, value: u64) {
        self.0.insert(field.name().to_owned(), value.to_string());
    }
}

impl Subscriber for Recorder {
    fn enabled(&self, _metadata: &Metadata<'_>) -> bool {
        true
    }

    fn new_span(&self, attrs: &Attributes<'_>) -> Id {
        let mut span = SpanData {
            name: attrs.metadata().name(),
            fields: BTreeMap::new(),
        };
        attrs.record(&mut Fields(&mut span.fields));
        let mut state = self.state();
        state.spans.push(span);
        Id::from_u64(state.spans.len() as u64)
    }

    fn record(&self, span: &Id, values: &Record<'_>) {
        let mut state = self.state();
        if let Some(data) = usize::try_from(span.into_u64() - 1)
            .ok()
            .and_then(|i| state.spans.get_mut(i))
        {
            values.record(&mut Fields(&mut data.fields));
        }
    }

    fn record_follows_from(&self, _span: &Id, _follows: &Id) {}

    fn event(&self, event: &Event<'_>) {
        let mut fields = BTreeMap::new();
        event.record(&mut Fields(&mut fields));
        let mut state = self.state();
        let span = event
            .parent()
            .map(Id::into_u64)
            .or_else(|| state.entered.last().copied());
        state.events.push(EventData {
            level: *event.metadata().level(),
            span,
            fields,
        });
    }

    fn enter(&self, span: &Id) {
        self.state().entered.push(span.into_u64());
    }

    fn exit(&self, span: &Id) {
        let mut state = self.state();
        if let Some(at) = state.entered.iter().rposition(|id| *id == span.into_u64()) {
            state.entered.remove(at);
        }
    }
}

fn field<'a>(span: &'a SpanData, name: &str) -> Option<&'a str> {
    span.fields.get(name).map(String::as_str)
}

fn graph(name: &str, skus: &[&str]) -> NewParentGraph {
    NewParentGraph {
        id: None,
        name: name.to_owned(),
        note: None,
        kids: skus.iter().map(|sku| NewKid::new(sku)).collect(),
    }
}

fn new_parent(name: &str) -> NewParent {
    NewParent {
        id: None,
        name: name.to_owned(),
        note: None,
    }
}

/// `(name, rows of kids)` read back.
async fn stored(client: &Client) -> TestResult<(Vec<String>, i64)> {
    let names = client
        .query("SELECT name FROM parents ORDER BY id", &[])
        .await?
        .iter()
        .map(|r| r.get(0))
        .collect();
    let kids = client
        .query_one("SELECT count(*) FROM kids", &[])
        .await?
        .get(0);
    Ok((names, kids))
}

async fn setup() -> TestResult<(TestDatabase, Client)> {
    let db = testing::database_with_schema(SCHEMA).await?;
    let client = db.connect().await?;
    Ok((db, client))
}

// `#[tokio::test]` runs each test on one thread, where `set_default` installs the recorder.

#[tokio::test]
async fn a_graph_write_is_one_span_with_its_rows_per_step_and_duration() -> TestResult {
    let (_db, mut client) = setup().await?;
    let recorder = Recorder::default();
    let _guard = tracing::subscriber::set_default(recorder.clone());

    let root = graph("p", &["a", "b"])
        .insert_graph_returning(&client)
        .await?;
    let report = LockedParentReplaceGraph {
        root: ParentPatch::default(),
        kids: Some(vec![NewKid::new("c")]),
    }
    .update_by_id_graph_report(&mut client, &root.id)
    .await?;
    assert_eq!(report.step("graph:has_many:kids"), 2 + 1);
    assert_eq!(stored(&client).await?, (vec!["p".to_owned()], 1));

    let writes = recorder.writes();
    assert_eq!(writes.len(), 2, "{writes:?}");
    let insert = &writes[0];
    assert_eq!(field(insert, "graph"), Some("NewParentGraph"));
    assert_eq!(field(insert, "table"), None);
    assert_eq!(field(insert, "kind"), Some("insert_graph"));
    assert_eq!(field(insert, "statement"), Some("SQL_RETURNING"));
    assert_eq!(field(insert, "rows"), Some("3"));
    assert_eq!(
        field(insert, "steps"),
        Some("graph:root:parents=1, graph:has_many:kids=2")
    );
    let micros: u64 = field(insert, "duration_us").ok_or("no duration")?.parse()?;
    assert!(micros > 0);

    let update = &writes[1];
    assert_eq!(field(update, "graph"), Some("LockedParentReplaceGraph"));
    assert_eq!(field(update, "kind"), Some("update_graph"));
    assert_eq!(field(update, "statement"), Some("TAIL_SQL"));
    assert_eq!(field(update, "rows"), Some("3"));
    assert_eq!(
        field(update, "steps"),
        Some("graph:root:parents=0, graph:has_many:kids=3")
    );
    assert!(field(update, "duration_us").is_some());
    assert!(recorder.events().is_empty(), "{:?}", recorder.events());
    Ok(())
}

#[tokio::test]
async fn a_table_write_is_one_span_with_its_table_kind_statement_and_rows() -> TestResult {
    let (_db, client) = setup().await?;
    let recorder = Recorder::default();
    let _guard = tracing::subscriber::set_default(recorder.clone());

    let parent = new_parent("p").insert_returning(&client).await?;
    let inserted = NewKid::insert_many(
        &client,
        vec![
            NewKid::new("a").with_parent_id(parent.id),
            NewKid::new("b").with_parent_id(parent.id),
        ],
    )
    .await?;
    assert_eq!(inserted, 2);
    assert!(Parent::find_by_id(&client, &parent.id).await?.is_some());
    assert!(Parent::find_by_id(&client, &(parent.id + 1))
        .await?
        .is_none());
    let renamed = ParentPatch {
        name: Some("q".to_owned()),
        note: None,
    }
    .update_by_id(&client, &parent.id)
    .await?;
    assert_eq!(renamed, 1);
    assert_eq!(stored(&client).await?, (vec!["q".to_owned()], 2));

    let writes: Vec<_> = recorder
        .writes()
        .iter()
        .map(|w| {
            (
                field(w, "table").unwrap_or_default().to_owned(),
                field(w, "kind").unwrap_or_default().to_owned(),
                field(w, "statement").unwrap_or_default().to_owned(),
                field(w, "rows").unwrap_or_default().to_owned(),
                w.fields.contains_key("duration_us"),
            )
        })
        .collect();
    let expected = [
        ("public.parents", "insert", "INSERT_RETURNING_SQL", "1"),
        ("public.kids", "insert", "INSERT_SQL", "2"),
        ("public.parents", "find", "FIND_SQL", "1"),
        ("public.parents", "find", "FIND_SQL", "0"),
        ("public.parents", "update", "UPDATE_SQL", "1"),
    ];
    let expected: Vec<_> = expected
        .iter()
        .map(|(t, k, s, r)| {
            (
                t.to_string(),
                k.to_string(),
                s.to_string(),
                r.to_string(),
                true,
            )
        })
        .collect();
    assert_eq!(writes, expected);
    Ok(())
}

#[tokio::test]
async fn an_insert_that_skips_is_a_span_of_kind_insert_ignore_with_the_rows_it_inserted(
) -> TestResult {
    let (_db, client) = setup().await?;
    let recorder = Recorder::default();
    let _guard = tracing::subscriber::set_default(recorder.clone());

    let parent = new_parent("p").insert_returning(&client).await?;
    let kid = |sku: &str| NewKid::new(sku).with_parent_id(parent.id);
    let inserted = NewKid::insert_many_ignore(&client, vec![kid("a"), kid("b"), kid("a")]).await?;
    assert_eq!(inserted, 2);
    assert!(kid("b").insert_ignore_returning(&client).await?.is_none());
    assert_eq!(kid("c").insert_ignore(&client).await?, 1);
    assert_eq!(stored(&client).await?, (vec!["p".to_owned()], 3));

    let writes: Vec<_> = recorder
        .writes()
        .iter()
        .map(|w| {
            ["table", "kind", "statement", "rows"]
                .map(|name| field(w, name).unwrap_or_default().to_owned())
        })
        .collect();
    let expected = [
        ["public.parents", "insert", "INSERT_RETURNING_SQL", "1"],
        ["public.kids", "insert_ignore", "INSERT_IGNORE_SQL", "2"],
        [
            "public.kids",
            "insert_ignore",
            "INSERT_IGNORE_RETURNING_SQL",
            "0",
        ],
        ["public.kids", "insert_ignore", "INSERT_IGNORE_SQL", "1"],
    ]
    .map(|fields| fields.map(str::to_owned));
    assert_eq!(writes, expected);
    assert!(recorder.events().is_empty(), "{:?}", recorder.events());
    Ok(())
}

#[tokio::test]
async fn a_failed_write_emits_an_error_event_with_its_sqlstate_and_step() -> TestResult {
    let (_db, mut client) = setup().await?;
    let recorder = Recorder::default();
    let _guard = tracing::subscriber::set_default(recorder.clone());

    // qty 0 breaks the CHECK (qty > 0) of kids.
    let mut bad = graph("p", &["a"]);
    bad.kids[0].qty = Some(0);
    let error = bad
        .insert_graph(&client)
        .await
        .err()
        .ok_or("qty 0 was written")?;
    assert!(error.is_check_violation(), "{error}");

    // A missing row is an answer, not a failure: a DEBUG event.
    let missing = LockedParentReplaceGraph {
        root: ParentPatch::default(),
        kids: Some(vec![]),
    }
    .update_by_id_graph(&mut client, &999_999)
    .await;
    assert!(matches!(missing, Err(writegraph::Error::NotFound { .. })));
    assert_eq!(stored(&client).await?, (vec![], 0));

    let events = recorder.events();
    assert_eq!(events.len(), 2, "{events:?}");
    let (event, span) = &events[0];
    assert_eq!(event.level, Level::ERROR);
    assert_eq!(
        event.fields.get("sqlstate").map(String::as_str),
        Some("23514")
    );
    assert_eq!(
        event.fields.get("step").map(String::as_str),
        Some("graph:has_many:kids")
    );
    assert!(event.fields.contains_key("error"));
    let span = span.as_ref().ok_or("the event is in no span")?;
    assert_eq!(field(span, "graph"), Some("NewParentGraph"));
    assert_eq!(field(span, "rows"), None);
    assert!(field(span, "duration_us").is_some());

    let (event, span) = &events[1];
    assert_eq!(event.level, Level::DEBUG);
    assert_eq!(event.fields.get("sqlstate"), None);
    assert_eq!(
        span.as_ref().and_then(|s| field(s, "graph")),
        Some("LockedParentReplaceGraph")
    );
    Ok(())
}
