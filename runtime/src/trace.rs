//! Spans of writes (feature `tracing`): what they hold. This module has no items to call.
//!
//! Every write that generated code sends runs in one span, `write` (target `writegraph`, level
//! INFO), opened by the runtime's entry points (the provided methods of [`write`](mod@crate::write)),
//! whatever the client. Its fields:
//!
//! | Field | Value |
//! |---|---|
//! | `table` | the table of a table write (`public.order_items`) |
//! | `graph` | the graph's type of a graph write (`NewOrderGraph`) |
//! | `kind` | `find`, `delete`, `insert`, `upsert`, `insert_ignore`, `update`, `insert_graph` or `update_graph` |
//! | `statement` | the const the statement comes from (`INSERT_SQL`, `SQL_RETURNING`; an update's SET list is built per write, so `UPDATE_SQL` for a patch and `TAIL_SQL` for an update graph) |
//! | `rows` | the rows the write affected (read, for `find`), when it succeeded |
//! | `steps` | a graph's rows per step, `tag=rows` separated by `, `, when it succeeded |
//! | `duration_us` | the time from the first check to the last row read, in microseconds |
//!
//! A write that fails emits one event in its span: at ERROR level for an error of the database
//! or of decoding its rows, at DEBUG level for [`NotFound`](crate::Error::NotFound) and
//! [`Validation`](crate::Error::Validation) (answers an application expects), with the fields
//! `sqlstate` (the five-character code, when the database reported one), `step` (the graph
//! step it came from, when known) and `error` (its message).
//!
//! Without the feature the entry points await their bodies directly: nothing of this module is
//! compiled and no dependency is added.

#[cfg(feature = "tracing")]
pub(crate) use on::{graph, insert_graph, table};

#[cfg(not(feature = "tracing"))]
pub(crate) use off::{graph, insert_graph, table};

/// The type's name without its path (`NewOrderGraph`): an insert graph's name in its span
/// and its errors.
pub(crate) fn short_type_name<G: ?Sized>() -> &'static str {
    let name = std::any::type_name::<G>();
    let path = name.split('<').next().unwrap_or(name);
    match path.rfind("::") {
        Some(at) => &name[at + 2..],
        None => name,
    }
}

#[cfg(not(feature = "tracing"))]
mod off {
    use crate::write::RootRow;

    /// The body of a table write, as it is.
    #[inline(always)]
    pub(crate) fn table<F>(
        _table: &'static str,
        _kind: &'static str,
        _sql: &'static str,
        f: F,
    ) -> F {
        f
    }

    /// The body of an update graph write, as it is.
    #[inline(always)]
    pub(crate) fn graph<F>(
        _graph: &'static str,
        _kind: &'static str,
        _sql: &'static str,
        f: F,
    ) -> F {
        f
    }

    /// The body of an insert graph write, as it is. Its type parameters are those of the
    /// traced one, so that a call compiles either way.
    #[inline(always)]
    #[allow(clippy::extra_unused_type_parameters)]
    pub(crate) fn insert_graph<G: ?Sized, T, F>(_root_row: RootRow, f: F) -> F
    where
        F: std::future::Future<Output = crate::Result<T>>,
    {
        f
    }
}

#[cfg(feature = "tracing")]
mod on {
    use std::fmt::Write as _;
    use std::future::Future;
    use std::time::Instant;

    use tracing::field::Empty;
    use tracing::Instrument;

    use crate::write::RootRow;
    use crate::{Error, FromRow, Result, WriteReport, WriteStepReport};

    /// What a write's result says about the rows it wrote.
    pub(crate) trait Outcome {
        /// The rows affected (or read).
        fn rows(&self) -> u64;
        /// A graph's rows per step.
        fn steps(&self) -> Option<&[WriteStepReport]> {
            None
        }
    }

    impl Outcome for u64 {
        fn rows(&self) -> u64 {
            *self
        }
    }

    impl<T> Outcome for Vec<T> {
        fn rows(&self) -> u64 {
            self.len() as u64
        }
    }

    impl<T> Outcome for Option<T> {
        fn rows(&self) -> u64 {
            u64::from(self.is_some())
        }
    }

    /// One row as stored (`upsert_returning`, `update_by_id_returning`).
    impl<T: FromRow> Outcome for T {
        fn rows(&self) -> u64 {
            1
        }
    }

    impl<R> Outcome for WriteReport<R> {
        fn rows(&self) -> u64 {
            self.affected
        }
        fn steps(&self) -> Option<&[WriteStepReport]> {
            Some(&self.steps)
        }
    }

    impl<R> Outcome for (Vec<WriteStepReport>, Option<R>) {
        fn rows(&self) -> u64 {
            self.0.iter().map(|s| s.affected).sum()
        }
        fn steps(&self) -> Option<&[WriteStepReport]> {
            Some(&self.0)
        }
    }

    /// A table write in its span.
    pub(crate) fn table<T, F>(
        table: &'static str,
        kind: &'static str,
        sql: &'static str,
        f: F,
    ) -> impl Future<Output = Result<T>> + Send
    where
        T: Outcome + Send,
        F: Future<Output = Result<T>> + Send,
    {
        let span = tracing::info_span!(
            target: "writegraph",
            "write",
            table,
            graph = Empty,
            kind,
            statement = sql,
            rows = Empty,
            steps = Empty,
            duration_us = Empty,
        );
        traced(span, f)
    }

    /// A graph write in its span.
    pub(crate) fn graph<T, F>(
        graph: &'static str,
        kind: &'static str,
        sql: &'static str,
        f: F,
    ) -> impl Future<Output = Result<T>> + Send
    where
        T: Outcome + Send,
        F: Future<Output = Result<T>> + Send,
    {
        let span = tracing::info_span!(
            target: "writegraph",
            "write",
            table = Empty,
            graph,
            kind,
            statement = sql,
            rows = Empty,
            steps = Empty,
            duration_us = Empty,
        );
        traced(span, f)
    }

    /// An insert graph `G`'s write in its span: named by its type, its statement by whether
    /// it reads the root row back.
    pub(crate) fn insert_graph<G: ?Sized, T, F>(
        root_row: RootRow,
        f: F,
    ) -> impl Future<Output = Result<T>> + Send
    where
        T: Outcome + Send,
        F: Future<Output = Result<T>> + Send,
    {
        let sql = match root_row {
            RootRow::Read => "SQL_RETURNING",
            RootRow::Skip => "SQL",
        };
        graph(super::short_type_name::<G>(), "insert_graph", sql, f)
    }

    async fn traced<T: Outcome, F: Future<Output = Result<T>>>(
        span: tracing::Span,
        f: F,
    ) -> Result<T> {
        let start = Instant::now();
        let result = f.instrument(span.clone()).await;
        let micros = u64::try_from(start.elapsed().as_micros()).unwrap_or(u64::MAX);
        span.record("duration_us", micros);
        match &result {
            Ok(outcome) => {
                span.record("rows", outcome.rows());
                if let Some(steps) = outcome.steps() {
                    span.record("steps", steps_text(steps).as_str());
                }
            }
            Err(error) => span.in_scope(|| failed(error)),
        }
        result
    }

    fn steps_text(steps: &[WriteStepReport]) -> String {
        let mut text = String::new();
        for (i, step) in steps.iter().enumerate() {
            if i > 0 {
                text.push_str(", ");
            }
            let _ = write!(text, "{}={}", step.tag, step.affected);
        }
        text
    }

    fn failed(error: &Error) {
        let sqlstate = error.sqlstate().map(|code| code.code());
        let step = error.tag();
        match error {
            Error::NotFound { .. } | Error::Validation(_) => {
                tracing::debug!(target: "writegraph", sqlstate, step, error = %error, "write refused");
            }
            _ => {
                tracing::error!(target: "writegraph", sqlstate, step, error = %error, "write failed");
            }
        }
    }
}
