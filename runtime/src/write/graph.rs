//! Graph writes: an insert graph (a root row and the rows written with it) and an update
//! graph (a patch of a root row and of its children), each one statement.

use std::future::Future;

use tokio_postgres::{Error as PgError, Row};

use super::limit::{assigned_column, counted, too_large, Budget, Writes};
use super::{Assignments, Param, Table};
use crate::__private::{count, pick_steps};
use crate::{Error, FromRow, GenericClient, LockingClient, Result, WriteReport, WriteStepReport};

/// Where a step's affected-row count comes from in the graph statement's result row.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StepCount {
    /// The root step: one row for an insert graph; for an update graph one when the patch
    /// set a root column, else none.
    Root,
    /// The sum of these result columns (counted after the root row's columns when the
    /// statement returns them): an insert step has one, an update step one per CTE (its
    /// upsert and its delete).
    Columns(&'static [usize]),
}

/// One step of a graph, in execution order: its tag and where its count comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct GraphStep {
    /// The step's tag (`graph:has_many:order_items`), as reports and errors name it.
    pub tag: &'static str,
    /// Where its count comes from.
    pub count: StepCount,
}

impl GraphStep {
    /// The root step.
    pub const fn root(tag: &'static str) -> Self {
        Self {
            tag,
            count: StepCount::Root,
        }
    }

    /// A step counted by result columns `columns`.
    pub const fn counted(tag: &'static str, columns: &'static [usize]) -> Self {
        Self {
            tag,
            count: StepCount::Columns(columns),
        }
    }
}

/// Which steps of a graph a database error may come from: the constraint PostgreSQL names,
/// else the table (or partition), else, for an error about the data, every step
/// (see [`ErrorSteps::of`]). Generated code supplies the lists as a const.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ErrorSteps {
    /// Constraint name → the steps that write rows it checks.
    pub by_constraint: &'static [(&'static str, &'static [&'static str])],
    /// Table or partition name (unqualified, as PostgreSQL reports it) → the steps that
    /// write it.
    pub by_table: &'static [(&'static str, &'static [&'static str])],
    /// Every step, the candidates of an error about the data that names neither.
    pub all: &'static [&'static str],
}

impl ErrorSteps {
    /// The steps `error` may come from: those its constraint names (narrowed by its table
    /// when both do), else those its table names, else every step for an error about the
    /// data (SQLSTATE classes 22, 23 and 54), and none for any other error (a timeout, a lost
    /// connection).
    pub fn of(&self, error: &PgError) -> Vec<&'static str> {
        let Some(db) = error.as_db_error() else {
            return Vec::new();
        };
        fn lookup(
            list: &'static [(&'static str, &'static [&'static str])],
            name: Option<&str>,
        ) -> &'static [&'static str] {
            name.and_then(|name| list.iter().find(|(key, _)| *key == name))
                .map_or(&[], |(_, steps)| steps)
        }
        pick_steps(
            lookup(self.by_constraint, db.constraint()),
            lookup(self.by_table, db.table()),
            self.all,
            db.code(),
        )
    }
}

/// Each step's report from the graph statement's result row. `first` is the index of the
/// first count (after the root row's columns, when returned); `root` the root step's count.
pub(super) fn step_reports(
    steps: &'static [GraphStep],
    row: &Row,
    first: usize,
    root: u64,
) -> Result<Vec<WriteStepReport>> {
    steps
        .iter()
        .map(|step| {
            let affected = match step.count {
                StepCount::Root => root,
                StepCount::Columns(columns) => columns
                    .iter()
                    .map(|column| count(row, first + column))
                    .sum::<Result<u64>>()?,
            };
            Ok(WriteStepReport {
                tag: step.tag,
                affected,
            })
        })
        .collect()
}

/// What a graph statement's connect-by lookup makes PostgreSQL say when a key matches no
/// row: a statement cannot raise, but a failing cast aborts it, and its text (`invalid input
/// syntax for type integer: "writegraph:not_found:<tag>:<key>"`) names the step.
pub const NOT_FOUND_MARKER: &str = "writegraph:not_found:";

/// [`Error::NotFound`] for the step of `steps` whose lookup `error` reports, if it does.
pub(super) fn connect_not_found(
    steps: &'static [(&'static str, &'static str)],
    error: &PgError,
) -> Option<Error> {
    let db = error.as_db_error()?;
    if *db.code() != tokio_postgres::error::SqlState::INVALID_TEXT_REPRESENTATION {
        return None;
    }
    let (_, marked) = db.message().split_once(NOT_FOUND_MARKER)?;
    // The longest tag that starts the marked text: a tag may start another's
    // (`graph:many_to_many:t` and `graph:many_to_many:t:more`).
    steps
        .iter()
        .filter(|(tag, _)| {
            marked
                .strip_prefix(tag)
                .is_some_and(|rest| rest.starts_with(':'))
        })
        .max_by_key(|(tag, _)| tag.len())
        .map(|(tag, table)| Error::not_found_in_step(table, tag))
}

/// Whether a graph statement returns the root row before its counts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RootRow {
    /// Counts only ([`InsertGraph::SQL`]).
    Skip,
    /// The root row, then the counts ([`InsertGraph::SQL_RETURNING`]).
    Read,
}

/// An insert graph (`NewOrderGraph`): a root row and the rows written with it before and
/// after it, every step a data-modifying CTE of one statement, so it is atomic on its own.
/// Generated code supplies the statements, the steps, the split of the graph into column
/// arrays ([`parts`](Self::parts)) and their binding.
pub trait InsertGraph: Sized + Send {
    /// The root table's row type, read back by the `*_returning` methods.
    type Root: FromRow + Send;
    /// The graph's rows other than the root, split into column arrays.
    type Parts: Send + Sync;

    /// The statement, returning the per-step counts.
    const SQL: &'static str;
    /// [`SQL`](Self::SQL), returning the root row before the per-step counts.
    const SQL_RETURNING: &'static str;
    /// The number of the root row's columns in [`SQL_RETURNING`](Self::SQL_RETURNING)'s
    /// result, before the counts.
    const ROOT_COLUMNS: usize;
    /// The steps, in execution order.
    const STEPS: &'static [GraphStep];
    /// Which steps a database error may come from.
    const ERROR_STEPS: ErrorSteps;
    /// The steps that look a row up by a key (`connect_by`), as (tag, table): a key no row
    /// has fails the statement with [`NOT_FOUND_MARKER`] and the tag, which is
    /// [`Error::NotFound`] naming the step.
    const CONNECT_STEPS: &'static [(&'static str, &'static str)] = &[];
    /// What each parameter of [`bind`](Self::bind) holds, in `$n` order: the index in
    /// [`STEPS`](Self::STEPS) of the step it belongs to, and its column (with what of the
    /// column it is, for the parts of an array column or a flag), as an error that finds the
    /// statement's values too large names the largest. Empty: errors name it by number.
    const PARAMS: &'static [(usize, &'static str)] = &[];

    /// Checks the graph and takes its steps' rows out of it, split into columns, in step
    /// order: repeated conflict keys, a `belongs_to` parent given twice or not at all, the
    /// root's text values and each step's rows ([`Insert::columns`](super::Insert::columns)
    /// with the columns the step fills), each error tagged with its step
    /// ([`Error::in_step`]).
    fn parts(&mut self) -> Result<Self::Parts>;

    /// The statement's parameters, in `$n` order: the root's values (from `self`) and the
    /// steps' columns (from `parts`), borrowed.
    fn bind<'a>(&'a self, parts: &'a Self::Parts) -> impl AsRef<[Param<'a>]> + Send;

    /// Checks the graph, then writes it in one statement: [`SQL_RETURNING`](Self::SQL_RETURNING)
    /// when the root row is read, else the leaner [`SQL`](Self::SQL). Returns the steps'
    /// reports and the root row when read. The body of every `insert_graph*` method.
    fn write_graph<C: GenericClient>(
        mut self,
        conn: &C,
        root_row: RootRow,
    ) -> impl Future<Output = Result<(Vec<WriteStepReport>, Option<Self::Root>)>> + Send {
        crate::trace::insert_graph::<Self, _, _>(root_row, async move {
            let parts = self.parts()?;
            let params = self.bind(&parts);
            counted!(let params = params.as_ref());
            let (sql, first_count) = match root_row {
                RootRow::Read => (Self::SQL_RETURNING, Self::ROOT_COLUMNS),
                RootRow::Skip => (Self::SQL, 0),
            };
            let rows = conn
                .query_typed(sql, &params)
                .await
                .map_err(graph_error::<Self>)?;
            let row = rows
                .first()
                .ok_or_else(|| Error::Validation("the graph statement returned no row".into()))?;
            let steps = step_reports(Self::STEPS, row, first_count, 1)?;
            let root = match root_row {
                RootRow::Read => Some(Self::Root::from_row(row)?),
                RootRow::Skip => None,
            };
            Ok((steps, root))
        })
    }

    /// Writes the graph in one statement (atomic on its own) and returns the rows affected
    /// by all steps.
    fn insert_graph<C: GenericClient>(self, conn: &C) -> impl Future<Output = Result<u64>> + Send {
        async move {
            let (steps, _) = self.write_graph(conn, RootRow::Skip).await?;
            Ok(steps.iter().map(|s| s.affected).sum())
        }
    }

    /// Writes the graph and reports the rows each step affected, by tag.
    fn insert_graph_report<C: GenericClient>(
        self,
        conn: &C,
    ) -> impl Future<Output = Result<WriteReport<()>>> + Send {
        async move {
            let (steps, _) = self.write_graph(conn, RootRow::Skip).await?;
            Ok(WriteReport::from_steps(steps, None))
        }
    }

    /// Writes the graph and returns the root row as stored.
    fn insert_graph_returning<C: GenericClient>(
        self,
        conn: &C,
    ) -> impl Future<Output = Result<Self::Root>> + Send {
        async move {
            let (_, root) = self.write_graph(conn, RootRow::Read).await?;
            root.ok_or_else(|| Error::Validation("the graph statement returned no root".into()))
        }
    }

    /// Writes the graph and returns the per-step report with the root row.
    fn insert_graph_report_returning<C: GenericClient>(
        self,
        conn: &C,
    ) -> impl Future<Output = Result<WriteReport<Self::Root>>> + Send {
        async move {
            let (steps, root) = self.write_graph(conn, RootRow::Read).await?;
            Ok(WriteReport::from_steps(steps, root))
        }
    }

    /// Writes each of `graphs` under a savepoint of its own, in one transaction that commits
    /// the ones that succeed: one `Result` per graph, in input order, so that a bad graph
    /// does not sink the batch. On `&mut` of a client the batch opens a transaction of its
    /// own and commits it; inside a transaction the caller opened with SQL (`BEGIN`), it
    /// runs in it and leaves it open, as [`LockingClient`] does. The batch is one round trip
    /// after that check: its statements, each between savepoint commands whose outcome does
    /// not depend on the statement's, all pipelined. A graph refused before any SQL (a check
    /// of [`parts`](Self::parts)) is not sent. `Err` only when the batch as a whole failed
    /// (the connection, the commit): then none of it was written.
    ///
    /// Per graph: `SAVEPOINT g; <statement>; RELEASE SAVEPOINT g; SAVEPOINT g; ROLLBACK TO
    /// SAVEPOINT g; RELEASE SAVEPOINT g`. When the statement succeeds, the first release
    /// keeps its rows and the rest open and drop an empty savepoint; when it fails, the
    /// release and the second savepoint fail too (the transaction is aborted), and the
    /// rollback returns to the first savepoint, which the last release drops. Either way
    /// the transaction goes on, with no savepoint left.
    fn insert_graph_each<C: crate::SessionClient + Send + Sync>(
        client: &mut C,
        graphs: impl IntoIterator<Item = Self> + Send,
    ) -> impl Future<Output = Result<Vec<Result<WriteReport<()>>>>> + Send
    where
        Self: Sync,
        Self::Parts: Sync,
    {
        let graphs: Vec<Self> = graphs.into_iter().collect();
        async move {
            let client: &C = client;
            let checked: Vec<Result<(Self, Self::Parts)>> = graphs
                .into_iter()
                .map(|mut graph| graph.parts().map(|parts| (graph, parts)))
                .collect();
            let (statements, answers) = {
                let bound: Vec<_> = checked
                    .iter()
                    .filter_map(|c| c.as_ref().ok())
                    .map(|(graph, parts)| graph.bind(parts))
                    .collect();
                // Each graph's statement counts its values on its own.
                let budgets: Vec<Budget> = bound.iter().map(|_| Budget::default()).collect();
                let counted: Vec<_> = bound
                    .iter()
                    .zip(&budgets)
                    .map(|(params, budget)| super::limit::count(budget, params.as_ref()))
                    .collect();
                let bound: Vec<Vec<Param<'_>>> = counted
                    .iter()
                    .zip(&bound)
                    .map(|(counted, params)| super::limit::params(counted, params.as_ref()))
                    .collect();
                if bound.is_empty() {
                    // Every graph was refused: nothing to send.
                    (Vec::new(), Vec::new())
                } else {
                    // Commands go out in order, unprepared, on the client's own connection
                    // (a `CachedClient` would prepare each first, which reorders them).
                    let raw = client.unnamed_client();
                    let in_callers = match raw {
                        Some(raw) => crate::client::in_callers_transaction(raw).await?,
                        None => crate::client::in_callers_transaction(client).await?,
                    };
                    let own = !in_callers;
                    let slices: Vec<&[Param<'_>]> = bound.iter().map(|b| b.as_ref()).collect();
                    let (statements, commands) = each_commands(Self::SQL, &slices);
                    let answers = match raw {
                        Some(raw) => pipeline_each(raw, own, &commands).await?,
                        // A client with no connection of its own to send on: one by one.
                        None => {
                            if own {
                                client.execute_typed("BEGIN", &[]).await?;
                            }
                            let mut answers = Vec::with_capacity(commands.len());
                            for (sql, params) in &commands {
                                answers.push(client.query_typed(sql, params).await);
                            }
                            if own {
                                client.execute_typed("COMMIT", &[]).await?;
                            }
                            answers
                        }
                    };
                    (statements, answers)
                }
            };
            // The batch stands or falls with BEGIN, every savepoint, rollback and release,
            // and COMMIT; a failed statement's release and second savepoint fail by design.
            let mut answered = Vec::with_capacity(statements.len());
            let mut failure = None;
            for (at, answer) in answers.into_iter().enumerate() {
                if statements.contains(&at) {
                    answered.push(answer);
                    continue;
                }
                let by_design = statements.iter().any(|&s| at == s + 1 || at == s + 2);
                if let (Err(e), false) = (answer, by_design) {
                    failure.get_or_insert(e);
                }
            }
            if let Some(e) = failure {
                return Err(Error::from(e));
            }
            let mut answered = answered.into_iter();
            let results = checked
                .into_iter()
                .map(|check| {
                    check?;
                    let rows = answered.next().ok_or_else(|| {
                        Error::Validation("the batch statement returned no row for a graph".into())
                    })?;
                    let rows = rows.map_err(graph_error::<Self>)?;
                    let row = rows.first().ok_or_else(|| {
                        Error::Validation("the graph statement returned no row".into())
                    })?;
                    Ok(WriteReport::from_steps(
                        step_reports(Self::STEPS, row, 0, 1)?,
                        None,
                    ))
                })
                .collect();
            Ok(results)
        }
    }

    /// Writes the graph in a transaction of its own on `client`, and commits.
    fn insert_graph_atomic(
        self,
        client: &mut tokio_postgres::Client,
    ) -> impl Future<Output = Result<Self::Root>> + Send {
        async move {
            let tx = client.transaction().await?;
            let row = self.insert_graph_returning(&tx).await?;
            tx.commit().await?;
            Ok(row)
        }
    }
}

/// Any number of insert graphs of one kind in one statement (`insert_graph_many`): the
/// steps' rows of every graph in one array per column, each row joined to its own graph's
/// rows by ordinal, so that the statement is one round trip whatever the number of graphs
/// and atomic on its own. Generated for every insert graph whose parents found or created
/// by key have a key each row gives.
pub trait InsertGraphMany: InsertGraph {
    /// The graphs' rows, split into column arrays.
    type PartsMany: Send + Sync;

    /// The statement: returns the number of roots written, then the per-step counts.
    const SQL_MANY: &'static str;

    /// [`SQL_MANY`](Self::SQL_MANY), returning every root row in input order, each
    /// followed by the per-step counts; empty when the root has no primary key the
    /// statement knows before the insert (then there is no `insert_graph_many_returning`).
    const SQL_MANY_RETURNING: &'static str = "";

    /// What each parameter of the many-graph statements holds, in `$n` order: a column of
    /// a step's rows or their parent ordinals. A database error whose DETAIL names a key
    /// the input holds ([`Error::graphs`]) is traced back to its graphs with it. Empty (the
    /// default, for hand-written implementations): no error names a graph.
    const MANY_PARAMS: &'static [super::ManyParam] = &[];

    /// Checks every graph (an error names the graph by its index) and takes their rows
    /// out of them, split into columns.
    fn parts_many(graphs: Vec<Self>) -> Result<Self::PartsMany>;

    /// The statement's parameters, in `$n` order, borrowed from `parts`.
    fn bind_many<'a>(parts: &'a Self::PartsMany) -> impl AsRef<[Param<'a>]> + Send;

    /// Writes `graphs` in one statement and reports the rows each step affected, summed
    /// over the graphs. An empty batch sends nothing.
    fn insert_graph_many_report<C: GenericClient>(
        conn: &C,
        graphs: impl IntoIterator<Item = Self> + Send,
    ) -> impl Future<Output = Result<WriteReport<()>>> + Send {
        let graphs: Vec<Self> = graphs.into_iter().collect();
        async move {
            if graphs.is_empty() {
                return Ok(WriteReport::from_steps(no_rows(Self::STEPS), None));
            }
            let rows = query_many(conn, graphs, Self::SQL_MANY).await?;
            let row = rows
                .first()
                .ok_or_else(|| Error::Validation("the graph statement returned no row".into()))?;
            let roots = count(row, 0)?;
            let steps = step_reports(Self::STEPS, row, 1, roots)?;
            Ok(WriteReport::from_steps(steps, None))
        }
    }

    /// Writes `graphs` in one statement and reports the rows each step affected, with
    /// every root row as stored, in input order.
    fn insert_graph_many_report_returning<C: GenericClient>(
        conn: &C,
        graphs: impl IntoIterator<Item = Self> + Send,
    ) -> impl Future<Output = Result<WriteReport<Vec<Self::Root>>>> + Send {
        let graphs: Vec<Self> = graphs.into_iter().collect();
        async move {
            if Self::SQL_MANY_RETURNING.is_empty() {
                return Err(Error::Validation(crate::ValidationError::new(
                    crate::ValidationKind::Other,
                    "this graph's root has no primary key to return its rows in input order by",
                )));
            }
            if graphs.is_empty() {
                return Ok(WriteReport::from_steps(
                    no_rows(Self::STEPS),
                    Some(Vec::new()),
                ));
            }
            let rows = query_many(conn, graphs, Self::SQL_MANY_RETURNING).await?;
            let first = rows
                .first()
                .ok_or_else(|| Error::Validation("the graph statement returned no row".into()))?;
            let steps = step_reports(Self::STEPS, first, Self::ROOT_COLUMNS, rows.len() as u64)?;
            let roots = rows
                .iter()
                .map(Self::Root::from_row)
                .collect::<Result<Vec<_>>>()?;
            Ok(WriteReport::from_steps(steps, Some(roots)))
        }
    }

    /// Writes `graphs` in one statement and returns every root row as stored, in input
    /// order.
    fn insert_graph_many_returning<C: GenericClient>(
        conn: &C,
        graphs: impl IntoIterator<Item = Self> + Send,
    ) -> impl Future<Output = Result<Vec<Self::Root>>> + Send {
        let report = Self::insert_graph_many_report_returning(conn, graphs);
        async move { Ok(report.await?.root.unwrap_or_default()) }
    }

    /// Writes `graphs` in one statement and returns the rows affected by all steps of all
    /// graphs.
    fn insert_graph_many<C: GenericClient>(
        conn: &C,
        graphs: impl IntoIterator<Item = Self> + Send,
    ) -> impl Future<Output = Result<u64>> + Send {
        let report = Self::insert_graph_many_report(conn, graphs);
        async move { Ok(report.await?.steps.iter().map(|s| s.affected).sum()) }
    }
}

/// An insert graph some of whose steps return their rows as stored (`returning = true` on
/// an edge), through one statement for any number of graphs (`SQL_MANY_ROWS`, the
/// many-graph statement that also returns those rows): `insert_graph_rows` for one graph
/// is a batch of one. Each result row is one stored row: its kind (0 a root, else 1 + the
/// step's index in `STEPS`), its ordinal among its step's input rows (from 1; a root's is
/// its graph's), the root's columns and the per-step counts from column 2 on (on root rows),
/// then each returning step's columns (on that step's rows), ordered by kind and ordinal, so
/// every graph's rows come in input order.
pub trait InsertGraphRows: InsertGraphMany {
    /// The stored rows of one graph: its root and each returning step's rows
    /// (`NewOrderGraphRows`).
    type Rows: Send;

    /// The statement.
    const SQL_MANY_ROWS: &'static str;

    /// The rows of a graph whose root was stored as `root`, before any step's.
    fn rows_of(root: Self::Root) -> Self::Rows;

    /// Adds the stored row `row` of step `step` (its index in `STEPS`) to `rows`.
    fn push_row(rows: &mut Self::Rows, step: usize, row: &Row) -> Result<()>;

    /// Writes `graphs` in one statement and returns each graph's stored rows, in input
    /// order, with the rows each step affected, summed over the graphs. An empty batch
    /// sends nothing.
    fn insert_graph_many_rows_report<C: GenericClient>(
        conn: &C,
        graphs: impl IntoIterator<Item = Self> + Send,
    ) -> impl Future<Output = Result<WriteReport<Vec<Self::Rows>>>> + Send {
        let graphs: Vec<Self> = graphs.into_iter().collect();
        async move {
            if graphs.is_empty() {
                return Ok(WriteReport::from_steps(
                    no_rows(Self::STEPS),
                    Some(Vec::new()),
                ));
            }
            query_many_then(conn, graphs, Self::SQL_MANY_ROWS, read_rows::<Self>).await
        }
    }

    /// Writes `graphs` in one statement and returns each graph's stored rows, in input
    /// order.
    fn insert_graph_many_rows<C: GenericClient>(
        conn: &C,
        graphs: impl IntoIterator<Item = Self> + Send,
    ) -> impl Future<Output = Result<Vec<Self::Rows>>> + Send {
        let report = Self::insert_graph_many_rows_report(conn, graphs);
        async move { Ok(report.await?.root.unwrap_or_default()) }
    }

    /// Writes the graph (in the many-graph statement, a batch of one) and returns its
    /// stored rows.
    fn insert_graph_rows<C: GenericClient>(
        self,
        conn: &C,
    ) -> impl Future<Output = Result<Self::Rows>> + Send {
        let rows = Self::insert_graph_many_rows(conn, [self]);
        async move {
            rows.await?
                .pop()
                .ok_or_else(|| Error::Validation("the graph statement returned no root row".into()))
        }
    }
}

/// The rows of [`InsertGraphRows::SQL_MANY_ROWS`]'s result: each root row starts a graph's
/// rows and carries the per-step counts; each step row goes to the graph its input row came
/// from, found from the parameters' parent ordinals as [`InsertGraphMany::MANY_PARAMS`]
/// describes them.
fn read_rows<G: InsertGraphRows>(
    rows: &[Row],
    params: &[Param<'_>],
) -> Result<WriteReport<Vec<G::Rows>>> {
    let first = rows
        .first()
        .ok_or_else(|| Error::Validation("the graph statement returned no row".into()))?;
    let root_step = G::STEPS
        .iter()
        .position(|step| matches!(step.count, StepCount::Root))
        .unwrap_or(0);
    let lineage = super::origin::Lineage::new(params, G::MANY_PARAMS, root_step);
    let mut graphs: Vec<G::Rows> = Vec::new();
    for row in rows {
        let kind: i32 = crate::__private::column(row, 0, "(graph rows)", "kind", "i32", "integer")?;
        if kind == 0 {
            graphs.push(G::rows_of(G::Root::from_row_at(row, 2)?));
            continue;
        }
        let ordinal: i64 =
            crate::__private::column(row, 1, "(graph rows)", "ordinal", "i64", "bigint")?;
        let step = usize::try_from(kind - 1).unwrap_or(usize::MAX);
        let graph = usize::try_from(ordinal - 1)
            .ok()
            .and_then(|row| lineage.graph_of(step, row))
            .and_then(|graph| graphs.get_mut(graph))
            .ok_or_else(|| {
                Error::Validation(
                    format!("a returned row of step {step} belongs to no graph of the batch")
                        .into(),
                )
            })?;
        G::push_row(graph, step, row)?;
    }
    let steps = step_reports(G::STEPS, first, 2 + G::ROOT_COLUMNS, graphs.len() as u64)?;
    Ok(WriteReport::from_steps(steps, Some(graphs)))
}

/// The commands of [`InsertGraph::insert_graph_each`] between its `BEGIN` and `COMMIT`:
/// per graph its statement `sql` with its parameters (`bound`) between the savepoint
/// commands. Returns where each graph's statement is among them, and the commands.
fn each_commands<'c>(
    sql: &'c str,
    bound: &[&'c [Param<'c>]],
) -> (Vec<usize>, Vec<(&'c str, &'c [Param<'c>])>) {
    const SAVEPOINT: &str = "SAVEPOINT writegraph_each";
    const RELEASE: &str = "RELEASE SAVEPOINT writegraph_each";
    const ROLLBACK: &str = "ROLLBACK TO SAVEPOINT writegraph_each";
    let mut commands: Vec<(&str, &[Param<'_>])> = Vec::new();
    let mut statements = Vec::new();
    for &params in bound {
        commands.push((SAVEPOINT, &[]));
        statements.push(commands.len());
        commands.push((sql, params));
        for command in [RELEASE, SAVEPOINT, ROLLBACK, RELEASE] {
            commands.push((command, &[]));
        }
    }
    (statements, commands)
}

/// `commands` ([`each_commands`]) on a connection: `BEGIN` when the batch opens its
/// transaction (`own`), then each distinct command prepared in it (one round trip:
/// prepared inside the transaction, they are on the server connection the batch runs on,
/// behind a transaction pooler too), then the commands and `COMMIT`, all pipelined in
/// order. Returns the commands' answers; `BEGIN`, a prepare or `COMMIT` failing is `Err`.
async fn pipeline_each(
    raw: &tokio_postgres::Client,
    own: bool,
    commands: &[(&str, &[Param<'_>])],
) -> Result<Vec<std::result::Result<Vec<Row>, PgError>>> {
    if own {
        raw.batch_execute("BEGIN").await?;
    }
    // Each distinct text once, with the parameter types of its first use.
    let mut texts: Vec<(&str, &[Param<'_>])> = Vec::new();
    for &(sql, params) in commands {
        if !texts.iter().any(|(text, _)| *text == sql) {
            texts.push((sql, params));
        }
    }
    let prepares = texts.iter().map(|(sql, params)| {
        let types: Vec<tokio_postgres::types::Type> =
            params.iter().map(|(_, ty)| ty.clone()).collect();
        async move { raw.prepare_typed(sql, &types).await }
    });
    let prepared = match futures_util::future::try_join_all(prepares).await {
        Ok(prepared) => prepared,
        Err(error) => {
            if own {
                // The transaction is aborted: end it, and report why it failed.
                let _ = raw.batch_execute("ROLLBACK").await;
            }
            return Err(Error::from(error));
        }
    };
    let values: Vec<Vec<&(dyn tokio_postgres::types::ToSql + Sync)>> = commands
        .iter()
        .map(|(_, params)| params.iter().map(|(value, _)| *value).collect())
        .collect();
    let sent = commands.iter().zip(&values).map(|((sql, _), values)| {
        let at = texts
            .iter()
            .position(|(text, _)| text == sql)
            .unwrap_or_default();
        raw.query(&prepared[at], values)
    });
    let (answers, commit) =
        futures_util::future::join(futures_util::future::join_all(sent), async move {
            if own {
                raw.batch_execute("COMMIT").await
            } else {
                Ok(())
            }
        })
        .await;
    commit?;
    Ok(answers)
}

/// A database error of graph `G`'s statement of one graph: [`ValidationKind::TooLarge`]
/// naming the step and column of the largest value when its values were refused as too
/// large, `Error::NotFound` naming the step when a connect-by lookup found no row, else
/// `Error::Db` with the step it came from.
///
/// [`ValidationKind::TooLarge`]: crate::ValidationKind::TooLarge
fn graph_error<G: InsertGraph>(error: PgError) -> Error {
    if let Some(too_large) = too_large(&error) {
        let label = |index: usize| {
            let (step, column) = G::PARAMS.get(index)?;
            let step = G::STEPS.get(*step)?;
            Some(format!("column `{column}` of step `{}`", step.tag))
        };
        return too_large.error(Writes::One {
            writer: crate::trace::short_type_name::<G>(),
            label: &label,
        });
    }
    connect_not_found(G::CONNECT_STEPS, &error)
        .unwrap_or_else(|| Error::db_in_steps(G::ERROR_STEPS.of(&error), error))
}

/// The report of steps that wrote nothing (an empty batch).
pub(super) fn no_rows(steps: &'static [GraphStep]) -> Vec<WriteStepReport> {
    steps
        .iter()
        .map(|step| WriteStepReport {
            tag: step.tag,
            affected: 0,
        })
        .collect()
}

/// Checks `graphs` and writes them with `sql`, one of `G`'s many-graph statements.
async fn query_many<G: InsertGraphMany, C: GenericClient>(
    conn: &C,
    graphs: Vec<G>,
    sql: &str,
) -> Result<Vec<Row>> {
    query_many_then(conn, graphs, sql, |rows, _| Ok(rows.to_vec())).await
}

/// [`query_many`], reading its rows with `read`, which also gets the statement's
/// parameters (to find each row's graph by).
async fn query_many_then<G: InsertGraphMany, C: GenericClient, T>(
    conn: &C,
    graphs: Vec<G>,
    sql: &str,
    read: impl FnOnce(&[Row], &[Param<'_>]) -> Result<T> + Send,
) -> Result<T> {
    let count = graphs.len();
    let parts = G::parts_many(graphs)?;
    let bound = G::bind_many(&parts);
    counted!(let params = bound.as_ref());
    let rows = conn
        .query_typed(sql, &params)
        .await
        .map_err(|error| match too_large(&error) {
            Some(too_large) => too_large.error(Writes::Batch {
                writer: crate::trace::short_type_name::<G>(),
                count,
                noun: "graphs",
            }),
            None => {
                let graphs = error.as_db_error().map_or_else(Vec::new, |db| {
                    let steps: Vec<usize> = G::ERROR_STEPS
                        .of(&error)
                        .into_iter()
                        .filter_map(|tag| G::STEPS.iter().position(|step| step.tag == tag))
                        .collect();
                    let root = G::STEPS
                        .iter()
                        .position(|step| matches!(step.count, StepCount::Root))
                        .unwrap_or(0);
                    super::origin::graphs_of_key(db, &steps, bound.as_ref(), G::MANY_PARAMS, root)
                });
                graph_error::<G>(error).in_graphs(graphs)
            }
        })?;
    read(&rows, bound.as_ref())
}

/// A child step of an update graph that applies a patch of the child table to the root's
/// children (`strategy = "update"`): its CTE, whose SET list the patch builds as the root's
/// is built, and the statement's fixed text after it. Generated code supplies them as
/// [`UpdateGraph::CHILD_PATCHES`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ChildPatch {
    /// `c0_upd AS (UPDATE <child table> AS c SET `: the assignments follow.
    pub update: &'static str,
    /// ` FROM root WHERE c.<fk> = root.<key> .. RETURNING 1)`, after the assignments.
    pub update_where: &'static str,
    /// The CTE when the field is `None` or its patch sets no column: it writes nothing.
    pub skip: &'static str,
    /// The fixed text after the CTE, up to the next child patch's CTE or the end.
    pub then: &'static str,
}

/// An update graph (`OrderPatchGraph`): a patch of one root row, by key, and of its
/// children, in one statement: `WITH root AS (UPDATE .. RETURNING ..)` (or `SELECT` when the
/// patch sets no root column) followed by one CTE per child strategy. Generated code
/// supplies the statement's parts, the steps, the children's columns and the root's
/// assignments; the entry points come from [`UpdateGraphPlain`] or, for a graph that locks
/// its root, [`UpdateGraphLocking`].
pub trait UpdateGraph: Sized + Send {
    /// The root table's row type: its key, and the row the statement returns.
    type Root: Table;
    /// The children's rows, split into column arrays, with their flags.
    type Parts: Send + Sync;

    /// The graph's type name, as errors name it.
    const NAME: &'static str;
    /// `WITH root AS (UPDATE <root table> SET `.
    const UPDATE_SQL: &'static str;
    /// ` WHERE <key> = $1 .. RETURNING <root columns>`, after the assignments.
    const UPDATE_WHERE_SQL: &'static str;
    /// `WITH root AS (SELECT <root columns> FROM <root table> WHERE <key> = $1 ..`, when the
    /// patch sets no root column.
    const SELECT_SQL: &'static str;
    /// The rest of the statement: `), <child CTEs> SELECT root.<columns>, <counts> FROM root`;
    /// with [`CHILD_PATCHES`](Self::CHILD_PATCHES), the text up to the first one's CTE.
    const TAIL_SQL: &'static str;
    /// The number of the root row's columns in the result, before the counts.
    const ROOT_COLUMNS: usize;
    /// The steps, root first.
    const STEPS: &'static [GraphStep];
    /// Which steps a database error may come from.
    const ERROR_STEPS: ErrorSteps;
    /// The parents the root connects to by key, as (tag, table): see
    /// [`InsertGraph::CONNECT_STEPS`].
    const CONNECT_STEPS: &'static [(&'static str, &'static str)] = &[];
    /// The child steps that apply a patch (`strategy = "update"`), in statement order, each
    /// after [`TAIL_SQL`](Self::TAIL_SQL) or the one before it.
    const CHILD_PATCHES: &'static [ChildPatch] = &[];
    /// What each parameter of [`bind_parts`](Self::bind_parts) holds, in `$n` order after
    /// the key's: as [`InsertGraph::PARAMS`].
    const PART_PARAMS: &'static [(usize, &'static str)] = &[];

    /// True when the graph sets no root column and every child field is `None`.
    fn sets_nothing(&self) -> bool;

    /// The checks of the graph's values that need no database (the root's and each child
    /// patch's text values, repeated keys of diff and upsert steps), which
    /// [`parts`](Self::parts) runs first.
    fn check(&self) -> Result<()> {
        Ok(())
    }

    /// Checks the graph (the root's text values, repeated keys of diff and upsert steps,
    /// each child's rows) and takes the children's rows out of it, split into columns with
    /// each step's flag (`Some` given, or a has-one to delete), each error tagged with its
    /// step.
    fn parts(&mut self) -> Result<Self::Parts>;

    /// Appends the children's parameters, in `$n` order after the key's.
    fn bind_parts<'a>(parts: &'a Self::Parts, params: &mut Vec<Param<'a>>);

    /// Appends an assignment for every root column the graph sets, in column order (a
    /// graph holding its root table's patch delegates to [`Patch::assign`](super::Patch::assign)).
    fn assign_root<'a>(&'a self, set: &mut Assignments<'a>);

    /// Appends an assignment for every column that the patch of child step `patch` (an
    /// index into [`CHILD_PATCHES`](Self::CHILD_PATCHES)) sets, in column order; none when
    /// its field is `None`.
    fn assign_child<'a>(&'a self, patch: usize, set: &mut Assignments<'a>) {
        let _ = (patch, set);
    }
}

/// How an update graph's statement is sent: plainly, or after a lock on its root.
pub(super) trait SendStatement: Send {
    /// Sends `sql` with `params`, whose first `key.len()` are the key.
    fn send(
        self,
        key: &[Param<'_>],
        sql: &str,
        params: &[Param<'_>],
    ) -> impl Future<Output = std::result::Result<Vec<Row>, PgError>> + Send;
}

/// A statement on a client or transaction.
pub(super) struct Plain<'c, C>(pub(super) &'c C);

impl<C: GenericClient> SendStatement for Plain<'_, C> {
    fn send(
        self,
        _key: &[Param<'_>],
        sql: &str,
        params: &[Param<'_>],
    ) -> impl Future<Output = std::result::Result<Vec<Row>, PgError>> + Send {
        self.0.query_typed(sql, params)
    }
}

/// A lock on the root row, then the statement, in one transaction.
pub(super) struct Locked<L> {
    pub(super) conn: L,
    pub(super) lock: &'static str,
}

impl<L: LockingClient> SendStatement for Locked<L> {
    fn send(
        self,
        key: &[Param<'_>],
        sql: &str,
        params: &[Param<'_>],
    ) -> impl Future<Output = std::result::Result<Vec<Row>, PgError>> + Send {
        self.conn.lock_then_query(self.lock, key, sql, params)
    }
}

/// The body of every `update_by_id_graph*` method: checks the graph, builds its statement
/// (the root's part from the columns it sets, then [`UpdateGraph::TAIL_SQL`], then each
/// child patch's part from the columns it sets) and sends it.
/// [`Error::NotFound`] when no root row has the key: then nothing changed.
async fn write_update<G: UpdateGraph>(
    graph: G,
    id: &<G::Root as Table>::Key,
    conn: impl SendStatement,
) -> Result<WriteReport<G::Root>> {
    crate::trace::graph(G::NAME, "update_graph", "TAIL_SQL", update(graph, id, conn)).await
}

/// The body of [`write_update`], which runs it in the span of its write.
async fn update<G: UpdateGraph>(
    mut graph: G,
    id: &<G::Root as Table>::Key,
    conn: impl SendStatement,
) -> Result<WriteReport<G::Root>> {
    if graph.sets_nothing() {
        return Err(Error::Validation(
            format!(
                "{}: no operations to perform (no root column set, every child field None)",
                G::NAME
            )
            .into(),
        ));
    }
    let parts = graph.parts()?;
    let key = G::Root::bind_key(id);
    let key = key.as_ref();
    let mut params = key.to_vec();
    G::bind_parts(&parts, &mut params);
    // Each part whose SET list a patch builds binds its values after every parameter before
    // it, so the fixed text's numbers never change.
    let parts_end = params.len();
    let mut sql = String::new();
    let mut set = Assignments::new(G::UPDATE_SQL, params);
    graph.assign_root(&mut set);
    let (mut params, root_updated) = set.finish(&mut sql, G::UPDATE_WHERE_SQL, G::SELECT_SQL);
    let root_end = params.len();
    sql.push_str(G::TAIL_SQL);
    for (n, patch) in G::CHILD_PATCHES.iter().enumerate() {
        let mut set = Assignments::new(patch.update, params);
        graph.assign_child(n, &mut set);
        (params, _) = set.finish(&mut sql, patch.update_where, patch.skip);
        sql.push_str(patch.then);
    }
    let root_assigned = parts_end..root_end;
    let key_len = key.len();
    counted!(let key = key);
    counted!(let params = &params);
    let rows = conn.send(&key, &sql, &params).await.map_err(|e| {
        if let Some(too_large) = too_large(&e) {
            let label = |index: usize| update_label::<G>(&sql, index, key_len, &root_assigned);
            return too_large.error(Writes::One {
                writer: G::NAME,
                label: &label,
            });
        }
        connect_not_found(G::CONNECT_STEPS, &e)
            .unwrap_or_else(|| Error::db_in_steps(G::ERROR_STEPS.of(&e), e))
    })?;
    let Some(row) = rows.first() else {
        return Err(Error::not_found(G::Root::NAME));
    };
    let steps = step_reports(G::STEPS, row, G::ROOT_COLUMNS, u64::from(root_updated))?;
    Ok(WriteReport::from_steps(
        steps,
        Some(G::Root::from_row(row)?),
    ))
}

/// What parameter `index` (from 0) of update graph `G`'s statement `sql` holds: the root's
/// key (its first `key` parameters), a child step's column ([`UpdateGraph::PART_PARAMS`]),
/// or a column the root's patch (its parameters `root_assigned`) or a child patch assigns.
fn update_label<G: UpdateGraph>(
    sql: &str,
    index: usize,
    key: usize,
    root_assigned: &std::ops::Range<usize>,
) -> Option<String> {
    let root = G::STEPS.first()?.tag;
    if index < key {
        return Some(format!("the key of step `{root}`"));
    }
    if let Some((step, column)) = (index < root_assigned.start)
        .then(|| G::PART_PARAMS.get(index - key))
        .flatten()
    {
        let step = G::STEPS.get(*step)?.tag;
        return Some(format!("column `{column}` of step `{step}`"));
    }
    let column = assigned_column(sql, index)?;
    Some(if root_assigned.contains(&index) {
        format!("column `{column}` of step `{root}`")
    } else {
        format!("column `{column}` of a child patch")
    })
}

/// A report without its root row.
fn without_root<R>(report: WriteReport<R>) -> WriteReport<()> {
    WriteReport {
        affected: report.affected,
        steps: report.steps,
        root: None,
    }
}

/// The entry points of an update graph that does not lock its root: it runs on any client
/// or transaction (`&impl GenericClient`).
pub trait UpdateGraphPlain: UpdateGraph {
    /// Updates the root's set columns and syncs every child field that is `Some`, in one
    /// statement. Returns the rows affected by all steps. [`Error::NotFound`] when no root
    /// row has this key: then nothing changed.
    fn update_by_id_graph<C: GenericClient>(
        self,
        conn: &C,
        id: &<Self::Root as Table>::Key,
    ) -> impl Future<Output = Result<u64>> + Send {
        async move { Ok(write_update(self, id, Plain(conn)).await?.affected) }
    }

    /// Like [`update_by_id_graph`](Self::update_by_id_graph), and returns the root row after
    /// all steps.
    fn update_by_id_graph_returning<C: GenericClient>(
        self,
        conn: &C,
        id: &<Self::Root as Table>::Key,
    ) -> impl Future<Output = Result<Self::Root>> + Send {
        async move {
            write_update(self, id, Plain(conn))
                .await?
                .root
                .ok_or(Error::not_found(<Self::Root as Table>::NAME))
        }
    }

    /// Like [`update_by_id_graph`](Self::update_by_id_graph), and reports the rows each step
    /// affected, by tag.
    fn update_by_id_graph_report<C: GenericClient>(
        self,
        conn: &C,
        id: &<Self::Root as Table>::Key,
    ) -> impl Future<Output = Result<WriteReport<()>>> + Send {
        async move { Ok(without_root(write_update(self, id, Plain(conn)).await?)) }
    }

    /// Like [`update_by_id_graph_report`](Self::update_by_id_graph_report), with the root row
    /// after all steps.
    fn update_by_id_graph_report_returning<C: GenericClient>(
        self,
        conn: &C,
        id: &<Self::Root as Table>::Key,
    ) -> impl Future<Output = Result<WriteReport<Self::Root>>> + Send {
        write_update(self, id, Plain(conn))
    }
}

/// The entry points of an update graph that locks its root (`lock_root = true`): it takes a
/// [`LockingClient`] (`&tx` of a transaction you opened, which holds the lock until you end
/// it, or `&mut client`, on which the graph opens a transaction and commits it in the same
/// round trip). A shared `&client` does not compile.
pub trait UpdateGraphLocking: UpdateGraph {
    /// `SELECT 1 FROM <root table> WHERE <key> = $1 .. FOR UPDATE`, sent first.
    const LOCK_SQL: &'static str;

    /// Locks the root row, updates its set columns and syncs every child field that is
    /// `Some`. Returns the rows affected by all steps. [`Error::NotFound`] when no root row
    /// has this key: then nothing changed.
    fn update_by_id_graph<L: LockingClient>(
        self,
        conn: L,
        id: &<Self::Root as Table>::Key,
    ) -> impl Future<Output = Result<u64>> + Send {
        async move {
            Ok(write_update(
                self,
                id,
                Locked {
                    conn,
                    lock: Self::LOCK_SQL,
                },
            )
            .await?
            .affected)
        }
    }

    /// Like [`update_by_id_graph`](Self::update_by_id_graph), and returns the root row after
    /// all steps.
    fn update_by_id_graph_returning<L: LockingClient>(
        self,
        conn: L,
        id: &<Self::Root as Table>::Key,
    ) -> impl Future<Output = Result<Self::Root>> + Send {
        async move {
            write_update(
                self,
                id,
                Locked {
                    conn,
                    lock: Self::LOCK_SQL,
                },
            )
            .await?
            .root
            .ok_or(Error::not_found(<Self::Root as Table>::NAME))
        }
    }

    /// Like [`update_by_id_graph`](Self::update_by_id_graph), and reports the rows each step
    /// affected, by tag.
    fn update_by_id_graph_report<L: LockingClient>(
        self,
        conn: L,
        id: &<Self::Root as Table>::Key,
    ) -> impl Future<Output = Result<WriteReport<()>>> + Send {
        async move {
            Ok(without_root(
                write_update(
                    self,
                    id,
                    Locked {
                        conn,
                        lock: Self::LOCK_SQL,
                    },
                )
                .await?,
            ))
        }
    }

    /// Like [`update_by_id_graph_report`](Self::update_by_id_graph_report), with the root row
    /// after all steps.
    fn update_by_id_graph_report_returning<L: LockingClient>(
        self,
        conn: L,
        id: &<Self::Root as Table>::Key,
    ) -> impl Future<Output = Result<WriteReport<Self::Root>>> + Send {
        write_update(
            self,
            id,
            Locked {
                conn,
                lock: Self::LOCK_SQL,
            },
        )
    }
}

/// The [`ErrorSteps`] const of a generated graph, from indexes into its `STEPS`, so that
/// each step's tag is written once:
/// `error_steps!(Self::STEPS, all = [1, 0], constraints { "t_pkey" => [1] }, tables { "t" => [1] })`
/// lists every step (in the order an error about the data names them), then the steps each
/// constraint and each table (or partition) may be violated or written by.
#[doc(hidden)]
#[macro_export]
macro_rules! error_steps {
    (
        $steps:expr, all = [$($all:literal),* $(,)?],
        constraints { $($constraint:literal => [$($c:literal),*]),* $(,)? },
        tables { $($table:literal => [$($t:literal),*]),* $(,)? } $(,)?
    ) => {
        $crate::write::ErrorSteps {
            by_constraint: &[$(($constraint, &[$($steps[$c].tag),*])),*],
            by_table: &[$(($table, &[$($steps[$t].tag),*])),*],
            all: &[$($steps[$all].tag),*],
        }
    };
}

/// The `STEPS`, `ERROR_STEPS` and parameter list (`PARAMS` or `PART_PARAMS`) consts of a
/// generated graph from one call, each step's tag written once:
/// `graph_steps!(["graph:root:t", "graph:has_many:c" [0]], all = [0, 1], constraints { .. },
/// tables { .. }; PARAMS [0: "id", "name"; 1: "id"])`. A step without a count list is the
/// root ([`GraphStep::root`]), one with is counted by those result columns
/// ([`GraphStep::counted`]); the rest is [`error_steps!`](crate::error_steps)'s, and each
/// `step: "column", ..` group of the parameter list says what the next parameters hold, in
/// `$n` order (left out when the statement binds nothing but what the trait adds).
#[doc(hidden)]
#[macro_export]
macro_rules! graph_steps {
    (
        [$($tag:literal $([$($count:literal),*])?),* $(,)?],
        all = [$($all:literal),* $(,)?],
        constraints { $($constraint:literal => [$($c:literal),*]),* $(,)? },
        tables { $($table:literal => [$($t:literal),*]),* $(,)? }
        $(; $params:ident [$($step:literal: $($holds:literal),*);* $(;)?])? $(;)?
    ) => {
        const STEPS: &'static [$crate::write::GraphStep] =
            &[$($crate::graph_steps!(@step $tag $([$($count),*])?)),*];
        const ERROR_STEPS: $crate::write::ErrorSteps = $crate::error_steps!(
            Self::STEPS, all = [$($all),*],
            constraints { $($constraint => [$($c),*]),* },
            tables { $($table => [$($t),*]),* }
        );
        $(const $params: &'static [(usize, &'static str)] = &[$($(($step, $holds)),*),*];)?
    };
    (@step $tag:literal) => {
        $crate::write::GraphStep::root($tag)
    };
    (@step $tag:literal [$($count:literal),*]) => {
        $crate::write::GraphStep::counted($tag, &[$($count),*])
    };
}

/// `impl InsertGraph` and `impl InsertGraphMany` of a generated insert graph whose steps
/// all hang from the root, with the inherent entry points of both, from one list of its
/// parts in statement order. The consts of each impl are given as they are; the runtime
/// writes how one graph, and how a batch, takes each step's rows out of the graphs, checks
/// them and splits them into columns:
///
/// ```text
/// insert_graph! {
///     self, NewOrderGraph, "NewOrderGraph";
///     impl { type Root = Order; statement!(graph = ..); .. }
///     many returning { statement!(graph_many ..); }
///     checks graph_checks;                    // the graph's own checks, when it has some
///     unique [|row| .., "public.orders", ["id"]];  // the roots' conflict key, if any
///     parts [
///         [root root: NewOrderColumns, "graph:root:orders", from rows (..columns!..) checks ["customer" customer None]]
///         [step part0 w0 o0: many items own NewOrderItemForOrder => NewOrderItemColumns, "graph:has_many:order_items"]
///     ];
///     bind [self { .. }, part0 { .. }];       // params! of one graph
///     bind_many [root { .. }, part0 { .. }, o0 as INT8_ARRAY];
/// }
/// ```
///
/// A step is `many`, `optional` or `one` row per graph, split by its own row type (`own`)
/// or by the table's [`Insert::columns`](crate::Insert::columns) (`insert`); with `o0` its
/// rows carry their graph's ordinal in a batch; `, across key, "table", ["column"]` refuses
/// a batch whose graphs repeat a conflict key of the step.
#[doc(hidden)]
#[macro_export]
macro_rules! insert_graph {
    (
        $s:ident, $graph:ident, $name:literal;
        impl { $($items:tt)* }
        many $($returning:ident)? { $($many_items:tt)* }
        checks $($checks:ident)?;
        unique [$($ukey:expr, $utable:literal, [$($ucolumn:literal),*])?];
        parts [$([$($part:tt)*])*];
        bind [$($bind:tt)*];
        bind_many [$($bind_many:tt)*];
    ) => {
        impl $crate::InsertGraph for $graph {
            $($items)*
            type Parts = ($($crate::insert_graph!(@one_type $($part)*),)*);
            fn parts(&mut $s) -> $crate::Result<Self::Parts> {
                $($s.$checks()?;)?
                $($crate::insert_graph!(@one $s; $($part)*);)*
                Ok(($($crate::insert_graph!(@one_value $($part)*),)*))
            }
            fn bind<'a>(
                &'a $s,
                parts: &'a Self::Parts,
            ) -> impl ::std::convert::AsRef<[$crate::write::Param<'a>]> + ::std::marker::Send {
                let ($($crate::insert_graph!(@one_value $($part)*),)*) = parts;
                $crate::params![$($bind)*]
            }
        }
        $crate::insert_graph_methods!($graph);
        impl $graph {
            $($crate::insert_graph!(@root_columns $($part)*);)*
        }
        impl $crate::InsertGraphMany for $graph {
            $($many_items)*
            type PartsMany = ($($crate::insert_graph!(@many_type $($part)*),)*);
            fn parts_many(mut graphs: ::std::vec::Vec<Self>) -> $crate::Result<Self::PartsMany> {
                $(for (index, graph) in graphs.iter().enumerate() {
                    graph.$checks().map_err(|e| e.in_graph(index))?;
                })?
                $($crate::write::check_unique(
                    &graphs,
                    $ukey,
                    $crate::write::RepeatedKey::GraphRoots {
                        graph: $name,
                        table: $utable,
                        columns: &[$($ucolumn),*],
                    },
                )?;)?
                $($crate::insert_graph!(@take graphs; $($part)*);)*
                $($crate::insert_graph!(@across $name; $($part)*);)*
                $($crate::insert_graph!(@many graphs; $($part)*);)*
                Ok(($($crate::insert_graph!(@many_value $($part)*),)*))
            }
            fn bind_many<'a>(
                parts: &'a Self::PartsMany,
            ) -> impl ::std::convert::AsRef<[$crate::write::Param<'a>]> + ::std::marker::Send {
                let ($($crate::insert_graph!(@many_value $($part)*),)*) = parts;
                $crate::params![$($bind_many)*]
            }
        }
        $crate::insert_graph_many_methods!($($returning)? $graph);
    };
    // The types and values of each part: one graph's, a batch's.
    (@one_type root $($rest:tt)*) => { () };
    (@one_type step $part:ident $w:ident $($o:ident)?: $count:ident $f:ident $how:ident $row:ty => $columns:ty, $($rest:tt)*) => {
        $columns
    };
    (@one_value root $($rest:tt)*) => { () };
    (@one_value step $part:ident $($rest:tt)*) => { $part };
    (@many_type root $root:ident: $columns:ty, $($rest:tt)*) => { $columns };
    (@many_type step $part:ident $w:ident: $count:ident $f:ident $how:ident $row:ty => $columns:ty, $($rest:tt)*) => {
        $columns
    };
    (@many_type step $part:ident $w:ident $o:ident: $count:ident $f:ident $how:ident $row:ty => $columns:ty, $($rest:tt)*) => {
        ($columns, ::std::vec::Vec<i64>)
    };
    (@many_value root $root:ident $($rest:tt)*) => { $root };
    (@many_value step $part:ident $w:ident: $($rest:tt)*) => { $part };
    (@many_value step $part:ident $w:ident $o:ident: $($rest:tt)*) => { ($part, $o) };
    // One graph: the root's checks, each step's rows split into columns.
    (@one $s:ident; root $root:ident: $columns:ty, $tag:literal, from $rows:ident ($($spec:tt)*)
        checks [$($name:literal $f:ident $max:expr),* $(,)?] in $table:literal) => {
        $($crate::write::check_text(&$s.$f, $max, $table, 0, $name).map_err(|e| e.in_step($tag))?;)*
    };
    (@one $s:ident; step $part:ident $w:ident $($o:ident)?: $count:ident $f:ident $how:ident $row:ty => $columns:ty, $tag:literal $($rest:tt)*) => {
        let $part = $crate::insert_graph!(@split $how $row, $crate::insert_graph!(@own $count $s.$f))
            .map_err(|e| e.in_step($tag))?;
    };
    (@own many $($f:tt)*) => { ::std::mem::take(&mut $($f)*) };
    (@own optional $($f:tt)*) => { $($f)*.take().into_iter().collect() };
    (@own one $($f:tt)*) => { ::std::vec![$($f)*.clone()] };
    (@split own $row:ty, $rows:expr) => { <$row>::columns($rows) };
    (@split insert $row:ty, $rows:expr) => { <$row as $crate::Insert>::columns($rows, &[]) };
    // A batch: the root's columns.
    (@root_columns root $root:ident: $columns:ty, $tag:literal, from $rows:ident ($($spec:tt)*) $($rest:tt)*) => {
        fn root_columns($rows: ::std::vec::Vec<Self>) -> $crate::Result<$columns> {
            $crate::columns!($($spec)*)
        }
    };
    (@root_columns step $($rest:tt)*) => {};
    // A batch: each step's rows of every graph, with their graph's ordinal (`o`).
    (@take $graphs:ident; root $($rest:tt)*) => {};
    (@take $graphs:ident; step $part:ident $w:ident: $count:ident $f:ident $($rest:tt)*) => {
        let mut $w = ::std::vec::Vec::new();
        for graph in $graphs.iter_mut() {
            $crate::insert_graph!(@push $count graph.$f, $w);
        }
    };
    (@take $graphs:ident; step $part:ident $w:ident $o:ident: $count:ident $f:ident $($rest:tt)*) => {
        let mut $w = ::std::vec::Vec::new();
        let mut $o: ::std::vec::Vec<i64> = ::std::vec::Vec::new();
        for (index, graph) in $graphs.iter_mut().enumerate() {
            let ordinal = index as i64 + 1;
            $crate::insert_graph!(@push $count graph.$f, $w, $o, ordinal);
        }
    };
    (@push many $rows:expr, $w:ident, $o:ident, $ordinal:ident) => {
        $o.extend(::std::iter::repeat_n($ordinal, $rows.len()));
        $w.append(&mut $rows);
    };
    (@push many $rows:expr, $w:ident) => { $w.append(&mut $rows) };
    (@push optional $rows:expr, $w:ident, $o:ident, $ordinal:ident) => {
        if let Some(row) = $rows.take() {
            $w.push(row);
            $o.push($ordinal);
        }
    };
    (@push optional $rows:expr, $w:ident) => { $w.extend($rows.take()) };
    (@push one $rows:expr, $w:ident, $o:ident, $ordinal:ident) => {
        $w.push($rows.clone());
        $o.push($ordinal);
    };
    (@push one $rows:expr, $w:ident) => { $w.push($rows.clone()) };
    // A batch: a step's conflict key repeated across graphs.
    (@across $name:literal; step $part:ident $w:ident $($o:ident)?: $count:ident $f:ident $how:ident $row:ty => $columns:ty, $tag:literal,
        across $key:expr, $table:literal, [$($column:literal),*]) => {
        $crate::write::check_unique(
            &$w,
            $key,
            $crate::write::RepeatedKey::GraphConflict {
                graph: $name,
                field: stringify!($f),
                table: $table,
                columns: &[$($column),*],
            },
        )?;
    };
    (@across $name:literal; $($rest:tt)*) => {};
    // A batch: the roots' and each step's columns, in statement order.
    (@many $graphs:ident; root $root:ident: $columns:ty, $tag:literal, $($rest:tt)*) => {
        let $root = Self::root_columns($graphs).map_err(|e| e.in_step($tag))?;
    };
    (@many $graphs:ident; step $part:ident $w:ident $($o:ident)?: $count:ident $f:ident $how:ident $row:ty => $columns:ty, $tag:literal $($rest:tt)*) => {
        let $part = $crate::insert_graph!(@split $how $row, $w).map_err(|e| e.in_step($tag))?;
    };
}

/// A generated insert graph's own checks, run before any SQL, as its inherent
/// `fn graph_checks(&self)`: each belongs_to parent given together with the key column it
/// fills (`[parent field column how]`, [`conflicting_parent`](crate::write::conflicting_parent)),
/// or a required one given by neither (`[required ..]`, also
/// [`missing_parent`](crate::write::missing_parent)); the root's id left unset (`[root_id
/// column how]`, [`missing_root_id`](crate::write::missing_root_id)); the rows of a step
/// that repeat a conflict key (`[unique field: key-reader, "table", ["column", ..]]`,
/// [`check_unique`](crate::write::check_unique)). `how` says when the column is set: always
/// (`required`), when `Some` (`value`), when `Some(Some(_))` (`nullable`).
#[doc(hidden)]
#[macro_export]
macro_rules! graph_checks {
    ($s:ident, $graph:literal; $([$($check:tt)*])*) => {
        /// The graph's own checks, before any SQL: a parent given twice or not at all, the root's key, repeated conflict keys.
        fn graph_checks(&$s) -> $crate::Result<()> {
            $($crate::graph_checks!(@check $s, $graph; $($check)*);)*
            Ok(())
        }
    };
    (@check $s:ident, $graph:literal; parent $f:ident $id:ident $how:ident) => {
        if $crate::graph_checks!(@set $how $s.$id) && $s.$f.is_some() {
            return Err($crate::write::conflicting_parent($graph, stringify!($f), stringify!($id)));
        }
    };
    (@check $s:ident, $graph:literal; required $f:ident $id:ident $how:ident) => {
        $crate::graph_checks!(@check $s, $graph; parent $f $id $how);
        if !$crate::graph_checks!(@set $how $s.$id) && $s.$f.is_none() {
            return Err($crate::write::missing_parent($graph, stringify!($f), stringify!($id)));
        }
    };
    (@check $s:ident, $graph:literal; root_id $id:ident $how:ident) => {
        if !$crate::graph_checks!(@set $how $s.$id) {
            return Err($crate::write::missing_root_id($graph, stringify!($id)));
        }
    };
    (@check $s:ident, $graph:literal; unique $f:ident: $key:expr, $table:literal, [$($column:literal),*]) => {
        $crate::write::check_unique(
            &$s.$f,
            $key,
            $crate::write::RepeatedKey::GraphConflict {
                graph: $graph,
                field: stringify!($f),
                table: $table,
                columns: &[$($column),*],
            },
        )?;
    };
    (@set required $($value:tt)*) => { true };
    (@set value $($value:tt)*) => { $($value)*.is_some() };
    (@set nullable $($value:tt)*) => { matches!($($value)*, Some(Some(_))) };
}

#[cfg(test)]
mod tests {
    use super::{GraphStep, StepCount};

    struct Graph;
    impl Graph {
        crate::graph_steps!(
            ["graph:belongs_to:a" [0], "graph:root:t", "graph:has_many:c" [1, 2]],
            all = [1, 0, 2], constraints { "c_pkey" => [2] }, tables { "t" => [1] };
            PARAMS [0: "id"; 1: "id", "name"; 2: "id"]
        );
    }

    #[test]
    fn graph_steps_writes_each_tag_once_and_names_the_steps_by_index() {
        assert_eq!(
            Graph::STEPS,
            [
                GraphStep::counted("graph:belongs_to:a", &[0]),
                GraphStep::root("graph:root:t"),
                GraphStep::counted("graph:has_many:c", &[1, 2]),
            ]
        );
        assert_eq!(Graph::STEPS[1].count, StepCount::Root);
        assert_eq!(
            Graph::ERROR_STEPS.all,
            ["graph:root:t", "graph:belongs_to:a", "graph:has_many:c"]
        );
        assert_eq!(
            Graph::ERROR_STEPS.by_constraint,
            [("c_pkey", &["graph:has_many:c"][..])]
        );
        assert_eq!(Graph::ERROR_STEPS.by_table, [("t", &["graph:root:t"][..])]);
        assert_eq!(
            Graph::PARAMS,
            [(0, "id"), (1, "id"), (1, "name"), (2, "id")]
        );
    }
}
