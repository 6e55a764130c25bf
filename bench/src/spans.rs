//! Feature `tracing`: a subscriber for the `(CachedClient, tracing on)` strategies of
//! `insert-graph`, which run the generated call with the runtime's spans recorded.
//!
//! The subscriber is a `tracing_subscriber` [`Registry`] (what applications build their
//! subscribers on: it stores every span, its parent and its enter/exit state) with one layer
//! that visits every field of every span and event and keeps none of it, so that what is
//! measured is the cost of the spans themselves, not of writing them somewhere. It is the
//! default subscriber only while a traced operation is polled; the other strategies run with
//! none (the runtime still opens its spans, which then go nowhere).

use std::fmt::Debug;
use std::future::Future;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, LazyLock};

use tracing::dispatcher::Dispatch;
use tracing::field::{Field, Visit};
use tracing::instrument::WithSubscriber;
use tracing::span::{Attributes, Id, Record};
use tracing::{Event, Subscriber};
use tracing_subscriber::layer::{Context, SubscriberExt};
use tracing_subscriber::registry::{LookupSpan, Registry};
use tracing_subscriber::Layer;

use crate::harness::Result;

/// The process's one recorder: a subscriber is built once, as an application does.
static RECORDER: LazyLock<Recorder> = LazyLock::new(Recorder::new);

/// Runs one operation with the recorder as the default subscriber, and checks that it opened
/// exactly one span of target `writegraph` (the write's), so that a run whose spans went
/// nowhere cannot pass for one with tracing on.
pub async fn traced<F: Future<Output = Result<u64>>>(operation: F) -> Result<u64> {
    let recorder = &*RECORDER;
    let before = recorder.spans.load(Ordering::Relaxed);
    let statements = operation.with_subscriber(recorder.dispatch.clone()).await?;
    let opened = recorder.spans.load(Ordering::Relaxed) - before;
    if opened != 1 {
        return Err(
            format!("expected 1 span of target `writegraph`, the write opened {opened}").into(),
        );
    }
    Ok(statements)
}

/// A registry with the [`Discard`] layer, and the layer's count of spans.
struct Recorder {
    dispatch: Dispatch,
    spans: Arc<AtomicU64>,
}

impl Recorder {
    fn new() -> Self {
        let spans = Arc::new(AtomicU64::new(0));
        let layer = VisitFields {
            spans: Arc::clone(&spans),
        };
        Recorder {
            dispatch: Dispatch::new(Registry::default().with(layer)),
            spans,
        }
    }
}

/// A layer that visits the fields of every span when it opens and when a field is recorded
/// (`rows`, `steps`, `duration_us` after the write), and of every event, and counts the spans
/// of target `writegraph`.
struct VisitFields {
    spans: Arc<AtomicU64>,
}

impl<S: Subscriber + for<'a> LookupSpan<'a>> Layer<S> for VisitFields {
    fn on_new_span(&self, attrs: &Attributes<'_>, _id: &Id, _ctx: Context<'_, S>) {
        attrs.record(&mut Discard);
        if attrs.metadata().target() == "writegraph" {
            self.spans.fetch_add(1, Ordering::Relaxed);
        }
    }

    fn on_record(&self, _id: &Id, values: &Record<'_>, _ctx: Context<'_, S>) {
        values.record(&mut Discard);
    }

    fn on_event(&self, event: &Event<'_>, _ctx: Context<'_, S>) {
        event.record(&mut Discard);
    }
}

/// A visitor that takes every value and keeps none.
struct Discard;

impl Visit for Discard {
    fn record_debug(&mut self, _field: &Field, value: &dyn Debug) {
        std::hint::black_box(value);
    }
}
