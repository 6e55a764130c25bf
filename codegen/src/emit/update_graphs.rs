//! The struct of an update graph and its statements.

use std::fmt::Write as _;

use super::insert::{batch_param_values, repeated_key_check, text_check};
use super::insert_graphs::{step_attribution, StepEffect};
use super::patch::{patch_assignments, patch_fields, patch_setters};
use super::rows::key_signature;
use super::{doc, doc_sql};
use crate::model::{ColumnModel, Model, Strategy, UpdateGraphModel};
use crate::plan::UpdateGraphStatement;

pub(super) fn update_graph_struct(
    model: &Model<'_>,
    graph: &UpdateGraphModel,
    statement: &UpdateGraphStatement,
) -> String {
    let root = &model.tables[graph.root];
    let row = &root.rust_name;
    let name = &graph.name;
    let updatable: Vec<&ColumnModel<'_>> = root.columns.iter().filter(|c| c.updatable).collect();
    let table_name = root.table.name.to_sql();
    let mut code = update_graph_fields(model, graph);
    code.push_str(&update_graph_setters(model, graph));
    let (id_type, key_params) = key_signature(root);
    let key_count = key_params.len();
    let anything = update_graph_anything(&updatable, graph);
    let parts = update_graph_parts(model, graph, statement);
    let binds = update_graph_binds(model, graph, statement);
    let assignments = patch_assignments(&updatable, "self");
    let attribution = update_graph_attribution(model, graph);
    let steps = update_graph_step_reports(graph, statement);
    let run = if graph.lock_root {
        &format!("::writegraph::LockingClient::lock_then_query(conn, Self::LOCK_SQL, &params[..{key_count}], &sql, &params).await")
    } else {
        "conn.query_typed(&sql, &params).await"
    };
    let (conn_type, conn_doc) = update_graph_connection(graph);
    let sql_doc = format!(
        "{}<assignments>{} ...\n-- or, when the patch assigns no root column:\n{}{}",
        statement.root_update, statement.root_update_tail, statement.root_select, statement.tail
    );
    let _ = write!(
        code,
        "{lock_doc}pub const LOCK_SQL: &'static str = {lock:?};
        {tail_doc}pub const TAIL_SQL: &'static str = {tail:?};
        /// The steps a database error may come from, from the constraint, table or
        /// partition PostgreSQL names.
        fn steps_of(error: &::writegraph::__private::PgError) -> ::std::vec::Vec<&'static str> {{
            const STEPS: ::writegraph::write::ErrorSteps = {attribution};
            STEPS.of(error)
        }}
        /// Checks the graph, then writes it.
        async fn write(mut self, conn: {conn_type}, id: &{id_type}) -> ::writegraph::Result<::writegraph::WriteReport<{row}>> {{
            if !({anything}) {{
                return Err(::writegraph::Error::Validation({noop:?}.into()));
            }}
            {parts}
            let mut params: ::std::vec::Vec<::writegraph::__private::Param<'_>> = ::std::vec![{key_params}];
            {binds}
            let mut set = ::writegraph::write::Assignments::new({root_update:?}, params);
            {assignments}
            let root_updated = set.assigned() > 0;
            let (root, params) = set.into_parts();
            let mut sql = if root_updated {{ root + {root_update_tail:?} }} else {{ ::std::string::String::from({root_select:?}) }};
            sql.push_str(Self::TAIL_SQL);
            let rows = {run}.map_err(|e| ::writegraph::Error::db_in_steps(Self::steps_of(&e), e))?;
            let Some(row) = rows.first() else {{
                return Err(::writegraph::Error::NotFound {{ table: {table_name:?} }});
            }};
            let steps = ::std::vec![{steps}];
            Ok(::writegraph::WriteReport::from_steps(steps, Some(<{row} as ::writegraph::FromRow>::from_row(row)?)))
        }}
        /// Updates the root's set columns and syncs every child field that is `Some`, in one statement
        /// (after a lock when the graph locks its root). Returns the rows affected by all steps.
        /// `Error::NotFound` when no root row has this key: then nothing changed.{conn_doc}
        pub async fn update_by_id_graph(self, conn: {conn_type}, id: &{id_type}) -> ::writegraph::Result<u64> {{
            Ok(self.write(conn, id).await?.affected)
        }}
        /// Like `update_by_id_graph`, and returns the root row after all steps.
        pub async fn update_by_id_graph_returning(self, conn: {conn_type}, id: &{id_type}) -> ::writegraph::Result<{row}> {{
            self.write(conn, id).await?.root.ok_or(::writegraph::Error::NotFound {{ table: {table_name:?} }})
        }}
        /// Like `update_by_id_graph`, and reports the rows each step affected, by tag.
        pub async fn update_by_id_graph_report(self, conn: {conn_type}, id: &{id_type}) -> ::writegraph::Result<::writegraph::WriteReport<()>> {{
            let report = self.write(conn, id).await?;
            Ok(::writegraph::WriteReport {{ affected: report.affected, steps: report.steps, root: None }})
        }}
        /// Like `update_by_id_graph_report`, with the root row after all steps.
        pub async fn update_by_id_graph_report_returning(self, conn: {conn_type}, id: &{id_type}) -> ::writegraph::Result<::writegraph::WriteReport<{row}>> {{
            self.write(conn, id).await
        }}
        }}\n",
        lock_doc = doc_sql("The lock taken first when the graph locks its root.", &statement.lock),
        lock = statement.lock,
        tail_doc = doc_sql("The graph's statement: the root's part (assembled from the fields the patch sets), then this fixed text.", &sql_doc),
        tail = statement.tail,
        key_params = key_params.join(", "),
        noop = format!("{name}: no operations to perform (no root column set, every child field None)"),
        root_update = statement.root_update,
        root_update_tail = statement.root_update_tail,
        root_select = statement.root_select,
        steps = steps.join(", "),
    );
    code
}

/// The graph struct with its doc (the steps and their strategies): the root's updatable
/// columns, then one field per child.
fn update_graph_fields(model: &Model<'_>, graph: &UpdateGraphModel) -> String {
    let root = &model.tables[graph.root];
    let name = &graph.name;
    let updatable: Vec<&ColumnModel<'_>> = root.columns.iter().filter(|c| c.updatable).collect();
    let mut text = format!(
        "Update graph `{name}`: a patch of one row of `{}` and of its children, in one statement{}.\n\nSteps:\n- `{}`",
        root.table.name,
        if graph.lock_root { " (after a lock on the root row)" } else { "" },
        graph.root_tag
    );
    for child in &graph.children {
        let strategy = child.strategy.as_str();
        let _ = write!(text, "\n- `{}`: `{}` ({strategy})", child.tag, child.field);
    }
    let mut code = doc(&text);
    let _ = writeln!(
        code,
        "#[derive(Debug, Clone, PartialEq, Default)]\npub struct {name} {{"
    );
    code.push_str(&patch_fields(&updatable));
    for child in &graph.children {
        let table = &model.tables[child.table];
        let ty = format!("New{}", table.rust_name);
        let strategy = match (child.strategy, child.many) {
            (Strategy::Replace, true) => "`Some(rows)` deletes the root's children, then inserts `rows`; `Some(vec![])` deletes them all.",
            (Strategy::Append, _) => "`Some(rows)` inserts `rows`; the other children stay.",
            (Strategy::Upsert, true) => "`Some(rows)` inserts or updates `rows` by their conflict key; the other children stay.",
            (Strategy::Diff, _) => "`Some(rows)` upserts `rows` by key and deletes the root's children whose key is not among them; `Some(vec![])` deletes them all.",
            (Strategy::Replace, false) => "`Some(Some(row))` replaces the child; `Some(None)` deletes it.",
            (Strategy::Upsert, false) => "`Some(Some(row))` inserts or updates the child; `Some(None)` deletes it.",
        };
        code.push_str(&doc(&format!(
            "Children in `{}`. `None` leaves them untouched. {strategy}\n\nStep `{}`.",
            table.table.name, child.tag
        )));
        if child.many {
            let _ = writeln!(
                code,
                "pub {}: ::std::option::Option<::std::vec::Vec<{ty}>>,",
                child.field
            );
        } else {
            let _ = writeln!(
                code,
                "pub {}: ::std::option::Option<::std::option::Option<{ty}>>,",
                child.field
            );
        }
    }
    code.push_str("}\n");

    code
}

/// `impl` opened, and the setters of the root's columns and of the children.
fn update_graph_setters(model: &Model<'_>, graph: &UpdateGraphModel) -> String {
    let root = &model.tables[graph.root];
    let name = &graph.name;
    let updatable: Vec<&ColumnModel<'_>> = root.columns.iter().filter(|c| c.updatable).collect();
    let mut code = String::new();
    let _ = writeln!(code, "impl {name} {{");
    code.push_str(&patch_setters(&updatable));
    for child in &graph.children {
        let f = &child.field;
        let ty = format!("New{}", model.tables[child.table].rust_name);
        code.push_str(&doc(&format!("Sets the children of `{f}`.")));
        if child.many {
            let _ = writeln!(
                code,
                "pub fn with_{f}(mut self, v: impl ::std::iter::IntoIterator<Item = {ty}>) -> Self {{ self.{f} = Some(v.into_iter().collect()); self }}"
            );
        } else {
            let _ = writeln!(
                code,
                "pub fn with_{f}(mut self, v: {ty}) -> Self {{ self.{f} = Some(Some(v)); self }}"
            );
            code.push_str(&doc(&format!(
                "Sets the child of `{f}`, or deletes it with `None`."
            )));
            let _ = writeln!(code, "pub fn with_{f}_opt(mut self, v: ::std::option::Option<{ty}>) -> Self {{ self.{f} = Some(v); self }}");
        }
    }

    code
}

/// The condition that the graph does anything (a root column or a child field is set): no
/// operation at all is a validation error, before any SQL.
fn update_graph_anything(updatable: &[&ColumnModel<'_>], graph: &UpdateGraphModel) -> String {
    // No operation at all is a validation error, before any SQL.
    let mut anything = updatable
        .iter()
        .map(|c| format!("self.{}.is_some()", c.field))
        .collect::<Vec<_>>();
    anything.extend(
        graph
            .children
            .iter()
            .map(|c| format!("self.{}.is_some()", c.field)),
    );
    if anything.is_empty() {
        "false".to_owned()
    } else {
        anything.join(" || ")
    }
}

/// The checks of the given values and the code that turns each child field into column
/// vectors (`part{n}`) and flags (`active{n}`, `delete{n}`).
fn update_graph_parts(
    model: &Model<'_>,
    graph: &UpdateGraphModel,
    statement: &UpdateGraphStatement,
) -> String {
    let root = &model.tables[graph.root];
    let name = &graph.name;
    let updatable: Vec<&ColumnModel<'_>> = root.columns.iter().filter(|c| c.updatable).collect();
    let table_name = root.table.name.to_sql();
    let mut parts = String::new();
    // The root patch's text values, checked like the rows' (row 0: the root is one row).
    for column in &updatable {
        parts.push_str(&text_check(
            column,
            &format!("self.{}", column.field),
            &table_name,
            "0",
            Some(&graph.root_tag),
        ));
    }
    // Given children must not repeat the key they are upserted by.
    for child in &graph.children {
        let Some(key) = &child.repeat_key else {
            continue;
        };
        parts.push_str(&repeated_key_check(
            name,
            &model.tables[child.table],
            key,
            (
                &child.field,
                &format!("self.{}.as_deref().unwrap_or_default()", child.field),
            ),
            "GraphDiff",
        ));
    }
    for (n, (child, params)) in graph.children.iter().zip(&statement.children).enumerate() {
        let table = &model.tables[child.table];
        let columns = format!("<New{} as ::writegraph::Insert>", table.rust_name);
        let f = &child.field;
        if params.active {
            let _ = writeln!(parts, "let active{n} = self.{f}.is_some();");
        }
        if params.delete {
            let _ = writeln!(parts, "let delete{n} = matches!(self.{f}, Some(None));");
        }
        let rows = if child.many {
            format!("self.{f}.take().unwrap_or_default()")
        } else {
            format!("self.{f}.take().flatten().into_iter().collect()")
        };
        let _ = writeln!(
            parts,
            "let part{n} = {columns}::columns({rows}, &[{}]).map_err(|e| e.in_step({:?}))?;",
            child.link.0, child.tag
        );
    }
    parts
}

/// The code that binds each child's flags and rows after the root's key, in `$n` order.
fn update_graph_binds(
    model: &Model<'_>,
    graph: &UpdateGraphModel,
    statement: &UpdateGraphStatement,
) -> String {
    let mut binds = String::new();
    for (n, params) in statement.children.iter().enumerate() {
        if params.active {
            let _ = writeln!(
                binds,
                "params.push((&active{n}, ::writegraph::__private::Type::BOOL));"
            );
        }
        if params.delete {
            let _ = writeln!(
                binds,
                "params.push((&delete{n}, ::writegraph::__private::Type::BOOL));"
            );
        }
        let table = &model.tables[graph.children[n].table];
        for value in batch_param_values(table, &params.rows, &format!("part{n}")) {
            let _ = writeln!(binds, "params.push({value});");
        }
    }
    binds
}

/// `steps_of`'s body: which step a database error is about.
fn update_graph_attribution(model: &Model<'_>, graph: &UpdateGraphModel) -> String {
    // Which step a database error is about. A child's foreign key to the root cannot fail
    // on the child's side (the graph fills it with the root's key), so a violation of it
    // comes from the root's UPDATE, although PostgreSQL names the child's table.
    let mut effects = vec![StepEffect {
        tag: &graph.root_tag,
        table: graph.root,
        deletes: false,
        updates_key: true,
        filled: None,
    }];
    effects.extend(graph.children.iter().map(|c| StepEffect {
        tag: &c.tag,
        table: c.table,
        deletes: matches!(c.strategy, Strategy::Replace | Strategy::Diff)
            || (!c.many && c.strategy == Strategy::Upsert),
        updates_key: false,
        filled: Some(c.link.0),
    }));
    step_attribution(model, &effects)
}

/// The per-step reports: the root (whether its UPDATE ran), then each child's counts.
fn update_graph_step_reports(
    graph: &UpdateGraphModel,
    statement: &UpdateGraphStatement,
) -> Vec<String> {
    let mut steps = vec![format!(
        "::writegraph::WriteStepReport {{ tag: {:?}, affected: u64::from(root_updated) }}",
        graph.root_tag
    )];
    for (child, counts) in graph.children.iter().zip(&statement.counts) {
        let sum = counts
            .iter()
            .map(|i| format!("::writegraph::__private::count(row, {i})?"))
            .collect::<Vec<_>>()
            .join(" + ");
        steps.push(format!(
            "::writegraph::WriteStepReport {{ tag: {:?}, affected: {sum} }}",
            child.tag
        ));
    }
    steps
}

/// The type of `conn` and its doc.
fn update_graph_connection(graph: &UpdateGraphModel) -> (&'static str, &'static str) {
    // A graph that locks its root runs the lock and its statement in one transaction: the
    // caller's (`&tx`), or one it opens on a client no other task can use meanwhile (`&mut`).
    let (conn_type, conn_doc) = if graph.lock_root {
        (
            "impl ::writegraph::LockingClient",
            "\n///\n/// `conn` is `&tx` (a transaction you opened: the lock is held until you end it) or \
             `&mut client` (the graph opens a transaction and commits it, its statements pipelined; \
             `&mut` keeps other tasks' statements out of it; inside a transaction you opened \
             with SQL it runs in that one). A shared `&client` does not compile: another \
             task's statement could run inside the graph's transaction. Generated code never \
             commits or rolls back a transaction it did not open.",
        )
    } else {
        ("&impl ::writegraph::GenericClient", "")
    };
    (conn_type, conn_doc)
}
