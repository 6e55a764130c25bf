//! Macros that give a generated type the write traits' entry points as inherent methods,
//! so that `NewOrderItem::insert_many(&c, rows)` needs no `use` of a trait. Each method is
//! one line that calls the trait's provided method, which holds the body.

/// Inherent `insert`, `insert_returning`, `insert_many` and `insert_many_returning` for a
/// type that implements [`Insert`](crate::Insert): `writegraph::insert_methods!(NewOrderItem);`.
#[macro_export]
macro_rules! insert_methods {
    ($ty:ty) => {
        impl $ty {
            /// Inserts this row (unset columns take their DEFAULT): one statement,
            /// `INSERT_SQL` of its `writegraph::Insert` implementation.
            pub async fn insert(self, conn: &impl $crate::GenericClient) -> $crate::Result<u64> {
                <Self as $crate::Insert>::insert(self, conn).await
            }
            /// Inserts this row and returns it as stored (`INSERT_RETURNING_SQL`).
            pub async fn insert_returning(
                self,
                conn: &impl $crate::GenericClient,
            ) -> $crate::Result<<Self as $crate::Insert>::Stored> {
                <Self as $crate::Insert>::insert_returning(self, conn).await
            }
            /// Inserts many rows in one statement (`INSERT_SQL`), one array per column,
            /// whatever their number. Returns the number of rows inserted.
            pub async fn insert_many(
                conn: &impl $crate::GenericClient,
                rows: ::std::vec::Vec<Self>,
            ) -> $crate::Result<u64> {
                <Self as $crate::Insert>::insert_many(conn, rows).await
            }
            /// Inserts many rows in one statement and returns them as stored, in input
            /// order (`INSERT_RETURNING_SQL`).
            pub async fn insert_many_returning(
                conn: &impl $crate::GenericClient,
                rows: ::std::vec::Vec<Self>,
            ) -> $crate::Result<::std::vec::Vec<<Self as $crate::Insert>::Stored>> {
                <Self as $crate::Insert>::insert_many_returning(conn, rows).await
            }
        }
    };
}

/// Inherent `upsert`, `upsert_returning`, `upsert_many`, `insert_ignore`,
/// `insert_ignore_returning` and `insert_many_ignore` for a type that implements
/// [`Upsert`](crate::Upsert): `writegraph::upsert_methods!(NewOrderItem);`.
#[macro_export]
macro_rules! upsert_methods {
    ($ty:ty) => {
        impl $ty {
            /// Inserts this row, or updates the row with the same conflict key
            /// (`UPSERT_SQL` of its `writegraph::Upsert` implementation).
            pub async fn upsert(self, conn: &impl $crate::GenericClient) -> $crate::Result<u64> {
                <Self as $crate::Upsert>::upsert(self, conn).await
            }
            /// Inserts or updates this row and returns it as stored (`UPSERT_RETURNING_SQL`).
            pub async fn upsert_returning(
                self,
                conn: &impl $crate::GenericClient,
            ) -> $crate::Result<<Self as $crate::Insert>::Stored> {
                <Self as $crate::Upsert>::upsert_returning(self, conn).await
            }
            /// Inserts or updates many rows in one statement (`UPSERT_SQL`). Two rows with
            /// the same conflict key are a validation error, before anything is sent
            /// (PostgreSQL cannot update one row twice in a statement).
            pub async fn upsert_many(
                conn: &impl $crate::GenericClient,
                rows: ::std::vec::Vec<Self>,
            ) -> $crate::Result<u64> {
                <Self as $crate::Upsert>::upsert_many(conn, rows).await
            }
            /// Inserts this row unless a row with its conflict key is stored
            /// (`INSERT_IGNORE_SQL`): 1 when it was inserted, 0 when it was skipped. The
            /// stored row is left as it is.
            pub async fn insert_ignore(
                self,
                conn: &impl $crate::GenericClient,
            ) -> $crate::Result<u64> {
                <Self as $crate::Upsert>::insert_ignore(self, conn).await
            }
            /// Inserts this row unless a row with its conflict key is stored, and returns it
            /// as stored when it was inserted, `None` when it was skipped
            /// (`INSERT_IGNORE_RETURNING_SQL`). The stored row that made it skip is not
            /// returned: `DO NOTHING` returns no row for a row it skips.
            pub async fn insert_ignore_returning(
                self,
                conn: &impl $crate::GenericClient,
            ) -> $crate::Result<::std::option::Option<<Self as $crate::Insert>::Stored>> {
                <Self as $crate::Upsert>::insert_ignore_returning(self, conn).await
            }
            /// Inserts many rows in one statement (`INSERT_IGNORE_SQL`), skipping each row
            /// whose conflict key is stored. Returns the number inserted. Rows that repeat a
            /// conflict key are not an error: the first in input order is inserted, the
            /// others are skipped.
            pub async fn insert_many_ignore(
                conn: &impl $crate::GenericClient,
                rows: ::std::vec::Vec<Self>,
            ) -> $crate::Result<u64> {
                <Self as $crate::Upsert>::insert_many_ignore(conn, rows).await
            }
        }
    };
}

/// Inherent `find_by_id` and `delete_by_id` for a type that implements
/// [`Table`](crate::Table): `writegraph::table_methods!(OrderItem);`.
#[macro_export]
macro_rules! table_methods {
    ($ty:ty) => {
        impl $ty {
            /// Reads the row with this primary key, if there is one (`FIND_SQL` of its
            /// `writegraph::Table` implementation).
            pub async fn find_by_id(
                conn: &impl $crate::GenericClient,
                id: &<Self as $crate::Table>::Key,
            ) -> $crate::Result<::std::option::Option<Self>> {
                <Self as $crate::Table>::find_by_id(conn, id).await
            }
            /// Deletes the row with this primary key (`DELETE_SQL`). `Error::NotFound`
            /// when there is none.
            pub async fn delete_by_id(
                conn: &impl $crate::GenericClient,
                id: &<Self as $crate::Table>::Key,
            ) -> $crate::Result<u64> {
                <Self as $crate::Table>::delete_by_id(conn, id).await
            }
        }
    };
}

/// Inherent `update_by_id` and `update_by_id_returning` for a type that implements
/// [`Patch`](crate::Patch): `writegraph::patch_methods!(OrderItemPatch);`.
#[macro_export]
macro_rules! patch_methods {
    ($ty:ty) => {
        impl $ty {
            /// Updates the columns this patch sets, and no other (an `UPDATE OF` trigger on
            /// an unset column does not fire). `Error::NotFound` when no row has this key;
            /// `Error::Validation` when the patch sets nothing.
            pub async fn update_by_id(
                self,
                conn: &impl $crate::GenericClient,
                id: &<<Self as $crate::Patch>::Stored as $crate::Table>::Key,
            ) -> $crate::Result<u64> {
                <Self as $crate::Patch>::update_by_id(self, conn, id).await
            }
            /// Like `update_by_id`, and returns the row as stored.
            pub async fn update_by_id_returning(
                self,
                conn: &impl $crate::GenericClient,
                id: &<<Self as $crate::Patch>::Stored as $crate::Table>::Key,
            ) -> $crate::Result<<Self as $crate::Patch>::Stored> {
                <Self as $crate::Patch>::update_by_id_returning(self, conn, id).await
            }
        }
    };
}

/// The consts `SQL` and `SQL_RETURNING` and inherent `insert_graph`, `insert_graph_report`,
/// `insert_graph_returning`, `insert_graph_report_returning` and `insert_graph_atomic` for a
/// type that implements
/// [`InsertGraph`](crate::InsertGraph): `writegraph::insert_graph_methods!(NewOrderGraph);`.
#[macro_export]
macro_rules! insert_graph_methods {
    ($ty:ty) => {
        impl $ty {
            /// The graph's statement, returning the per-step counts (`SQL` of its
            /// `writegraph::InsertGraph` implementation).
            pub const SQL: &'static str = <Self as $crate::InsertGraph>::SQL;
            /// The graph's statement, returning the root row before the per-step counts
            /// (`SQL_RETURNING`).
            pub const SQL_RETURNING: &'static str = <Self as $crate::InsertGraph>::SQL_RETURNING;
            /// Writes the graph in one statement (atomic on its own) and returns the rows
            /// affected by all steps.
            pub async fn insert_graph(
                self,
                conn: &impl $crate::GenericClient,
            ) -> $crate::Result<u64> {
                <Self as $crate::InsertGraph>::insert_graph(self, conn).await
            }
            /// Writes the graph and reports the rows each step affected, by tag.
            pub async fn insert_graph_report(
                self,
                conn: &impl $crate::GenericClient,
            ) -> $crate::Result<$crate::WriteReport<()>> {
                <Self as $crate::InsertGraph>::insert_graph_report(self, conn).await
            }
            /// Writes the graph and returns the root row as stored.
            pub async fn insert_graph_returning(
                self,
                conn: &impl $crate::GenericClient,
            ) -> $crate::Result<<Self as $crate::InsertGraph>::Root> {
                <Self as $crate::InsertGraph>::insert_graph_returning(self, conn).await
            }
            /// Writes the graph and returns the per-step report with the root row.
            pub async fn insert_graph_report_returning(
                self,
                conn: &impl $crate::GenericClient,
            ) -> $crate::Result<$crate::WriteReport<<Self as $crate::InsertGraph>::Root>> {
                <Self as $crate::InsertGraph>::insert_graph_report_returning(self, conn).await
            }
            /// Writes each of `graphs` under a savepoint of its own in one transaction, one
            /// round trip for the batch, and commits the ones that succeed: one result per
            /// graph, in input order (`writegraph::InsertGraph::insert_graph_each`).
            pub async fn insert_graph_each<
                C: $crate::SessionClient + ::std::marker::Send + ::std::marker::Sync,
            >(
                client: &mut C,
                graphs: impl ::std::iter::IntoIterator<Item = Self> + ::std::marker::Send,
            ) -> $crate::Result<::std::vec::Vec<$crate::Result<$crate::WriteReport<()>>>> {
                <Self as $crate::InsertGraph>::insert_graph_each(client, graphs).await
            }
            /// Writes the graph in a transaction of its own on `client`, and commits.
            pub async fn insert_graph_atomic(
                self,
                client: &mut $crate::__private::Client,
            ) -> $crate::Result<<Self as $crate::InsertGraph>::Root> {
                <Self as $crate::InsertGraph>::insert_graph_atomic(self, client).await
            }
        }
    };
}

/// Inherent `insert_graph_rows`, `insert_graph_many_rows` and
/// `insert_graph_many_rows_report` for a type that implements
/// [`InsertGraphRows`](crate::InsertGraphRows), so callers need not import the trait:
/// `writegraph::insert_graph_rows_methods!(NewOrderGraph);`.
#[macro_export]
macro_rules! insert_graph_rows_methods {
    ($ty:ty) => {
        impl $ty {
            /// Writes the graph and returns its rows as stored: the root and the rows of
            /// each step that returns its own, in input order (the many-graph statement,
            /// a batch of one).
            pub async fn insert_graph_rows(
                self,
                conn: &impl $crate::GenericClient,
            ) -> $crate::Result<<Self as $crate::InsertGraphRows>::Rows> {
                <Self as $crate::InsertGraphRows>::insert_graph_rows(self, conn).await
            }
            /// Writes `graphs` in one statement and returns each graph's rows as stored,
            /// in input order.
            pub async fn insert_graph_many_rows(
                conn: &impl $crate::GenericClient,
                graphs: impl ::std::iter::IntoIterator<Item = Self> + ::std::marker::Send,
            ) -> $crate::Result<::std::vec::Vec<<Self as $crate::InsertGraphRows>::Rows>> {
                <Self as $crate::InsertGraphRows>::insert_graph_many_rows(conn, graphs).await
            }
            /// Writes `graphs` in one statement and reports the rows each step affected,
            /// with each graph's rows as stored, in input order.
            pub async fn insert_graph_many_rows_report(
                conn: &impl $crate::GenericClient,
                graphs: impl ::std::iter::IntoIterator<Item = Self> + ::std::marker::Send,
            ) -> $crate::Result<
                $crate::WriteReport<::std::vec::Vec<<Self as $crate::InsertGraphRows>::Rows>>,
            > {
                <Self as $crate::InsertGraphRows>::insert_graph_many_rows_report(conn, graphs).await
            }
        }
    };
}

/// Inherent `insert_graph_many` and `insert_graph_many_report` for an insert graph that
/// implements [`InsertGraphMany`](crate::InsertGraphMany):
/// `writegraph::insert_graph_many_methods!(NewOrderGraph);`, and with `returning` also
/// `insert_graph_many_returning` and `insert_graph_many_report_returning`, for one whose
/// `SQL_MANY_RETURNING` is set.
#[macro_export]
macro_rules! insert_graph_many_methods {
    (returning $ty:ty) => {
        $crate::insert_graph_many_methods!($ty);
        impl $ty {
            /// Writes `graphs` in one statement and returns every root row as stored, in
            /// input order.
            pub async fn insert_graph_many_returning(
                conn: &impl $crate::GenericClient,
                graphs: impl ::std::iter::IntoIterator<Item = Self> + ::std::marker::Send,
            ) -> $crate::Result<::std::vec::Vec<<Self as $crate::InsertGraph>::Root>> {
                <Self as $crate::InsertGraphMany>::insert_graph_many_returning(conn, graphs).await
            }
            /// Writes `graphs` in one statement and reports the rows each step affected,
            /// with every root row as stored, in input order.
            pub async fn insert_graph_many_report_returning(
                conn: &impl $crate::GenericClient,
                graphs: impl ::std::iter::IntoIterator<Item = Self> + ::std::marker::Send,
            ) -> $crate::Result<
                $crate::WriteReport<::std::vec::Vec<<Self as $crate::InsertGraph>::Root>>,
            > {
                <Self as $crate::InsertGraphMany>::insert_graph_many_report_returning(conn, graphs)
                    .await
            }
        }
    };
    ($ty:ty) => {
        impl $ty {
            /// Any number of these graphs in one statement (`SQL_MANY` of its
            /// `writegraph::InsertGraphMany` implementation).
            pub const SQL_MANY: &'static str = <Self as $crate::InsertGraphMany>::SQL_MANY;
            /// Writes `graphs` in one statement (atomic on its own) and returns the rows
            /// affected by all steps of all graphs. An empty batch sends nothing.
            pub async fn insert_graph_many(
                conn: &impl $crate::GenericClient,
                graphs: impl ::std::iter::IntoIterator<Item = Self> + ::std::marker::Send,
            ) -> $crate::Result<u64> {
                <Self as $crate::InsertGraphMany>::insert_graph_many(conn, graphs).await
            }
            /// Writes `graphs` in one statement and reports the rows each step affected,
            /// summed over the graphs.
            pub async fn insert_graph_many_report(
                conn: &impl $crate::GenericClient,
                graphs: impl ::std::iter::IntoIterator<Item = Self> + ::std::marker::Send,
            ) -> $crate::Result<$crate::WriteReport<()>> {
                <Self as $crate::InsertGraphMany>::insert_graph_many_report(conn, graphs).await
            }
        }
    };
}

/// `From<RootPatch>` for an update graph whose root patch is the field `root`: the graph
/// that applies the patch and leaves every child untouched,
/// `writegraph::update_graph_root!(OrderPatchGraph: OrderPatch);`.
#[doc(hidden)]
#[macro_export]
macro_rules! update_graph_root {
    ($graph:ident : $patch:ty) => {
        impl ::std::convert::From<$patch> for $graph {
            /// The graph that applies `root` to the root row and leaves every child untouched.
            fn from(root: $patch) -> Self {
                Self {
                    root,
                    ..::std::default::Default::default()
                }
            }
        }
    };
}

/// The const `TAIL_SQL` (and `LOCK_SQL` when it locks) and inherent `update_by_id_graph`,
/// `update_by_id_graph_returning`, `update_by_id_graph_report` and
/// `update_by_id_graph_report_returning` for an update graph: `writegraph::update_graph_methods!(plain OrderReplaceGraph);` for one that
/// implements [`UpdateGraphPlain`](crate::UpdateGraphPlain), `locking` for one that
/// implements [`UpdateGraphLocking`](crate::UpdateGraphLocking).
#[macro_export]
macro_rules! update_graph_methods {
    (plain $ty:ty) => {
        impl $ty {
            /// The fixed text of the graph's statement after the root's part, up to its first
            /// child patch if it has one (`TAIL_SQL` of its `writegraph::UpdateGraph`
            /// implementation).
            pub const TAIL_SQL: &'static str = <Self as $crate::UpdateGraph>::TAIL_SQL;
            /// Updates the root's set columns and syncs every child field that is `Some`, in
            /// one statement. Returns the rows affected by all steps. `Error::NotFound` when
            /// no root row has this key: then nothing changed.
            pub async fn update_by_id_graph(
                self,
                conn: &impl $crate::GenericClient,
                id: &<<Self as $crate::UpdateGraph>::Root as $crate::Table>::Key,
            ) -> $crate::Result<u64> {
                <Self as $crate::UpdateGraphPlain>::update_by_id_graph(self, conn, id).await
            }
            /// Like `update_by_id_graph`, and returns the root row after all steps.
            pub async fn update_by_id_graph_returning(
                self,
                conn: &impl $crate::GenericClient,
                id: &<<Self as $crate::UpdateGraph>::Root as $crate::Table>::Key,
            ) -> $crate::Result<<Self as $crate::UpdateGraph>::Root> {
                <Self as $crate::UpdateGraphPlain>::update_by_id_graph_returning(self, conn, id)
                    .await
            }
            /// Like `update_by_id_graph`, and reports the rows each step affected, by tag.
            pub async fn update_by_id_graph_report(
                self,
                conn: &impl $crate::GenericClient,
                id: &<<Self as $crate::UpdateGraph>::Root as $crate::Table>::Key,
            ) -> $crate::Result<$crate::WriteReport<()>> {
                <Self as $crate::UpdateGraphPlain>::update_by_id_graph_report(self, conn, id).await
            }
            /// Like `update_by_id_graph_report`, with the root row after all steps.
            pub async fn update_by_id_graph_report_returning(
                self,
                conn: &impl $crate::GenericClient,
                id: &<<Self as $crate::UpdateGraph>::Root as $crate::Table>::Key,
            ) -> $crate::Result<$crate::WriteReport<<Self as $crate::UpdateGraph>::Root>> {
                <Self as $crate::UpdateGraphPlain>::update_by_id_graph_report_returning(
                    self, conn, id,
                )
                .await
            }
        }
    };
    (locking $ty:ty) => {
        impl $ty {
            /// The fixed text of the graph's statement after the root's part, up to its first
            /// child patch if it has one (`TAIL_SQL` of its `writegraph::UpdateGraph`
            /// implementation).
            pub const TAIL_SQL: &'static str = <Self as $crate::UpdateGraph>::TAIL_SQL;
            /// The lock taken first (`LOCK_SQL` of its `writegraph::UpdateGraphLocking`
            /// implementation).
            pub const LOCK_SQL: &'static str = <Self as $crate::UpdateGraphLocking>::LOCK_SQL;
            /// Locks the root row, updates its set columns and syncs every child field that
            /// is `Some`, in one statement. Returns the rows affected by all steps.
            /// `Error::NotFound` when no root row has this key: then nothing changed.
            ///
            /// `conn` is `&tx` (a transaction you opened: the lock is held until you end it)
            /// or `&mut client` (the graph opens a transaction and commits it, its
            /// statements pipelined; inside a transaction you opened with SQL it runs in
            /// that one). A shared `&client` does not compile: another task's statement
            /// could run inside the graph's transaction.
            pub async fn update_by_id_graph(
                self,
                conn: impl $crate::LockingClient,
                id: &<<Self as $crate::UpdateGraph>::Root as $crate::Table>::Key,
            ) -> $crate::Result<u64> {
                <Self as $crate::UpdateGraphLocking>::update_by_id_graph(self, conn, id).await
            }
            /// Like `update_by_id_graph`, and returns the root row after all steps.
            pub async fn update_by_id_graph_returning(
                self,
                conn: impl $crate::LockingClient,
                id: &<<Self as $crate::UpdateGraph>::Root as $crate::Table>::Key,
            ) -> $crate::Result<<Self as $crate::UpdateGraph>::Root> {
                <Self as $crate::UpdateGraphLocking>::update_by_id_graph_returning(self, conn, id)
                    .await
            }
            /// Like `update_by_id_graph`, and reports the rows each step affected, by tag.
            pub async fn update_by_id_graph_report(
                self,
                conn: impl $crate::LockingClient,
                id: &<<Self as $crate::UpdateGraph>::Root as $crate::Table>::Key,
            ) -> $crate::Result<$crate::WriteReport<()>> {
                <Self as $crate::UpdateGraphLocking>::update_by_id_graph_report(self, conn, id)
                    .await
            }
            /// Like `update_by_id_graph_report`, with the root row after all steps.
            pub async fn update_by_id_graph_report_returning(
                self,
                conn: impl $crate::LockingClient,
                id: &<<Self as $crate::UpdateGraph>::Root as $crate::Table>::Key,
            ) -> $crate::Result<$crate::WriteReport<<Self as $crate::UpdateGraph>::Root>> {
                <Self as $crate::UpdateGraphLocking>::update_by_id_graph_report_returning(
                    self, conn, id,
                )
                .await
            }
        }
    };
}

/// Inherent `update_graph_many`, `update_graph_many_report`, `update_graph_many_returning`
/// and `update_graph_many_report_returning` for an update graph that implements
/// [`UpdateGraphMany`](crate::UpdateGraphMany): `writegraph::update_graph_many_methods!(plain
/// OrderReplaceGraph);` for one that does not lock its root (any client), `locking` for one
/// that does (a `LockingClient`).
#[macro_export]
macro_rules! update_graph_many_methods {
    (plain $ty:ty) => {
        $crate::update_graph_many_methods!(@methods $ty, UpdateGraphManyPlain, &impl $crate::GenericClient);
    };
    (locking $ty:ty) => {
        $crate::update_graph_many_methods!(@methods $ty, UpdateGraphManyLocking, impl $crate::LockingClient);
    };
    (@methods $ty:ty, $entry:ident, $conn:ty) => {
        impl $ty {
            /// Applies each graph to the root its key names, all in one statement, and
            /// returns the rows affected by all steps of all graphs. `Error::NotFound`
            /// (naming the first graph whose key names no row) when any key names no row:
            /// then nothing changed. An empty batch sends nothing.
            pub async fn update_graph_many(
                conn: $conn,
                graphs: impl ::std::iter::IntoIterator<
                        Item = (<<Self as $crate::UpdateGraph>::Root as $crate::Table>::Key, Self),
                    > + ::std::marker::Send,
            ) -> $crate::Result<u64> {
                <Self as $crate::$entry>::update_graph_many(conn, graphs).await
            }
            /// Like `update_graph_many`, and reports the rows each step affected, summed
            /// over the graphs.
            pub async fn update_graph_many_report(
                conn: $conn,
                graphs: impl ::std::iter::IntoIterator<
                        Item = (<<Self as $crate::UpdateGraph>::Root as $crate::Table>::Key, Self),
                    > + ::std::marker::Send,
            ) -> $crate::Result<$crate::WriteReport<()>> {
                <Self as $crate::$entry>::update_graph_many_report(conn, graphs).await
            }
            /// Like `update_graph_many`, and returns every root row after all steps, in
            /// input order.
            pub async fn update_graph_many_returning(
                conn: $conn,
                graphs: impl ::std::iter::IntoIterator<
                        Item = (<<Self as $crate::UpdateGraph>::Root as $crate::Table>::Key, Self),
                    > + ::std::marker::Send,
            ) -> $crate::Result<::std::vec::Vec<<Self as $crate::UpdateGraph>::Root>> {
                <Self as $crate::$entry>::update_graph_many_returning(conn, graphs).await
            }
            /// Like `update_graph_many_report`, with every root row after all steps, in
            /// input order.
            pub async fn update_graph_many_report_returning(
                conn: $conn,
                graphs: impl ::std::iter::IntoIterator<
                        Item = (<<Self as $crate::UpdateGraph>::Root as $crate::Table>::Key, Self),
                    > + ::std::marker::Send,
            ) -> $crate::Result<
                $crate::WriteReport<::std::vec::Vec<<Self as $crate::UpdateGraph>::Root>>,
            > {
                <Self as $crate::$entry>::update_graph_many_report_returning(conn, graphs).await
            }
        }
    };
}
