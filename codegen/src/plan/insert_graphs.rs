//! The one statement of an insert graph.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use crate::ident::quote_ident;
use crate::model::{GraphModel, Model, StepKind, StepRef, TableModel};

use super::rows::{
    column_list, insert_rows, on_conflict, on_conflict_do_nothing, result_columns, ColumnSource,
    InsertRows, RowValues, RowsSelect, RowsSource,
};
use super::{Param, RowCount};
use crate::model::Cardinality;

/// The one statement of an insert graph, in two forms that differ only in what they return,
/// and the parameters of each part in order: first each step before the root, then the root,
/// then each step after it.
#[derive(Debug, Clone)]
pub struct GraphStatement {
    /// Returns one row of per-step counts: `insert_graph` and `insert_graph_report`. The
    /// root returns only the columns later steps read.
    pub sql: String,
    /// Returns the root row, then the per-step counts: the `*_returning` functions.
    pub sql_returning: String,
    /// Each part's parameters, in `$n` order.
    pub parts: Vec<GraphPart>,
    /// Any number of graphs in one statement (`insert_graph_many`), returning the number of
    /// roots, then the per-step counts.
    pub sql_many: String,
    /// [`sql_many`](Self::sql_many), returning every root row in input order before the
    /// per-step counts (repeated on each row); `None` when the root has no primary key that
    /// the statement knows before the insert, to put the rows in input order by.
    pub sql_many_returning: Option<String>,
    /// The parts of [`sql_many`](Self::sql_many): every part's rows bound as arrays, the
    /// root's too, and each step under the root joined to its own root by ordinal.
    pub parts_many: Vec<GraphPart>,
    /// [`sql_many`](Self::sql_many), returning the root rows and the rows of every step
    /// that returns its own (`returning = true`), one result row each, with the same
    /// parameters; `None` when no step returns its rows. See [`RowsResult`].
    pub sql_many_rows: Option<RowsResult>,
}

/// The statement that returns a graph's rows (`insert_graph_many_rows`) and the layout of
/// its result rows, each one stored row of the root or of a returning step: `kind` (0 the
/// root, else 1 + the step's index in `STEPS` order, as the parts are), its ordinal among
/// its part's input rows (from 1; for the root, the graph's), then the root's columns and
/// the per-step counts (NULL but on root rows), then each returning step's columns (NULL
/// but on its own rows), ordered by kind and ordinal.
#[derive(Debug, Clone)]
pub struct RowsResult {
    /// The statement.
    pub sql: String,
    /// Each returning step: its index in `GraphModel::steps`, its part's index (in
    /// `parts_many`, which is its index in `STEPS`), and the result column its table's
    /// columns start at.
    pub steps: Vec<(usize, usize, usize)>,
}

/// The parameters of one part of an insert graph's statement.
#[derive(Debug, Clone)]
pub struct GraphPart {
    /// The step's index in `GraphModel::steps`; `None` is the root.
    pub step: Option<usize>,
    /// How the part's rows are bound: the root's values one by one from the graph's own
    /// fields, a one-row step's as scalars, many rows as arrays.
    pub rows: RowCount,
    /// Parameters in `$n` order.
    pub params: Vec<Param>,
    /// The step's row count as the statement returns it, read from its parameters (see
    /// `counted_by_parameters`), when it is not counted from the rows its CTE returns.
    pub count: Option<String>,
}

/// How many graphs one statement writes: one (`insert_graph`), whose root's values are
/// bound one by one, or many (`insert_graph_many`), whose roots are rows of arrays like a
/// step's, numbered by ordinal so that each step's rows join their own graph's root.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Roots {
    /// One graph.
    One,
    /// Any number of graphs.
    Many,
}

/// A statement of data-modifying CTEs, one per line, then what it returns, read from `root`:
///
/// ```sql
/// WITH s0 AS (...),
///      root AS (...)
/// SELECT ... FROM root
/// ```
pub(super) fn with_sql(ctes: &[String], selected: &str) -> String {
    format!(
        "\
WITH {ctes}
SELECT {selected} FROM root",
        ctes = ctes.join(",\n     ")
    )
}

/// A whole insert graph as one statement of data-modifying CTEs (see SQL-SHAPES): parents,
/// unrelated rows, the root, children and after-steps, each inserting the rows its
/// parameters carry. An absent optional part binds empty arrays (many rows) or a false presence
/// flag (one row) and inserts nothing, so the
/// text never changes and one statement is atomic on its own.
///
/// ```sql
/// WITH s0 AS (INSERT INTO "categories" (...) SELECT ... ON CONFLICT ("name") DO UPDATE SET ... RETURNING "id"),
///      root AS (INSERT INTO "products" (..., "category_id") SELECT $4::text, ..., COALESCE($7::bigint, (SELECT "id" FROM s0)) RETURNING "id"),
///      s1 AS (INSERT INTO "product_tags" ("product_id", ...) SELECT root."id", ... FROM root, UNNEST(...) ... RETURNING 1)
/// SELECT (SELECT count(*) FROM s0), (SELECT count(*) FROM s1) FROM root
/// ```
///
/// A child's column filled from the root (`root."id"`) binds no parameter.
pub(super) fn graph_statement(model: &Model<'_>, graph: &GraphModel) -> GraphStatement {
    let root_model = &model.tables[graph.root];
    let mut before = Vec::new();
    let mut after = Vec::new();
    let mut parts = Vec::new();
    let mut first_param = 0;

    let (before_root, after_root) = statement_order(graph);
    for index in before_root {
        let (ctes, part) = step_cte(model, graph, (index, Roots::One, false), &mut first_param);
        before.extend(ctes);
        parts.push(part);
    }
    let root_source = RowsSource {
        first_param,
        overrides: filled_by_steps(model, graph, StepRef::Root),
        join: String::new(),
        unordered: true,
        rows: RowCount::Root,
        in_cte: true,
        ..RowsSource::default()
    };
    let root = insert_rows(
        root_model,
        &root_model.table.name.to_sql_quoted(),
        &root_source,
    )
    .statement;
    first_param += root.params.len();
    parts.push(GraphPart {
        step: None,
        rows: RowCount::Root,
        params: root.params,
        count: None,
    });
    for index in after_root {
        let (ctes, part) = step_cte(model, graph, (index, Roots::One, false), &mut first_param);
        after.extend(ctes);
        parts.push(part);
    }

    // The root columns later steps read; the bare form returns only those.
    let read_by_steps = returned_columns(model, graph, StepRef::Root, Vec::new());
    let counts = step_counts(graph, &parts);
    let statement = |root_returning: &str, selected: Vec<String>| {
        let mut ctes = before.clone();
        ctes.push(format!("root AS ({} RETURNING {root_returning})", root.sql));
        ctes.extend(after.iter().cloned());
        let selected = if selected.is_empty() {
            "1".to_owned()
        } else {
            selected.join(", ")
        };
        with_sql(&ctes, &selected)
    };
    let mut returned = vec![result_columns(root_model.columns.iter(), "root.")];
    returned.extend(counts.iter().cloned());
    let (sql_many, sql_many_returning, parts_many) = many_graphs_statement(model, graph, false);
    let sql_many_returning = sql_many_returning.map(|(_, sql)| sql);
    let sql_many_rows = graph
        .steps
        .iter()
        .any(|s| s.returning)
        .then(|| many_graphs_rows(model, graph, &parts_many))
        .flatten();
    GraphStatement {
        sql: statement(&read_by_steps, counts),
        sql_returning: statement(&column_list(root_model.columns.iter()), returned),
        parts,
        sql_many,
        sql_many_returning,
        parts_many,
        sql_many_rows,
    }
}

/// Many graphs in one statement: the roots are rows of arrays like a step's, numbered by
/// their ordinal (`WITH ORDINALITY`); the rows each graph's steps read are selected with
/// their keys into `root_rows`, and every step under the root joins its own graph's root
/// row by that ordinal, as a nested step joins its parent (see `step_cte`). A parent found
/// or created by key is written once for all graphs. Returns the number of roots, then
/// each step's count:
///
/// ```sql
/// WITH root_rows AS MATERIALIZED (SELECT COALESCE(u.c0, nextval('orders_id_seq')) AS v0, u.c1 AS v1, u.ord FROM UNNEST($1::bigint[], $2::text[]) WITH ORDINALITY AS u(c0, c1, ord)),
///      root AS (INSERT INTO "orders" ("id", "note") SELECT r.v0, r.v1 FROM root_rows r RETURNING 1),
///      s0 AS (INSERT INTO "order_items" ("order_id", "sku") SELECT p.v0, u.c2 FROM UNNEST($3::text[], $4::bigint[]) AS u(c2, po) JOIN root_rows p ON p.ord = u.po)
/// SELECT (SELECT count(*) FROM root), COALESCE(GREATEST(cardinality($3::text[]), cardinality($4::bigint[])), 0)::bigint
/// ```
///
/// The last step's count may be read from its parameters (see [`counted_by_parameters`]);
/// every other count is of the rows its CTE returns (`(SELECT count(*) FROM s0)`).
///
/// The form that returns the roots comes with its CTEs alone, `None` when the root's key is
/// not known before its insert. With `rows_returned`, each step that returns its rows
/// selects them first with their keys and ordinals and returns every column (see
/// [`many_graphs_rows`]); the parameters are the same.
fn many_graphs_statement(
    model: &Model<'_>,
    graph: &GraphModel,
    rows_returned: bool,
) -> (String, Option<(String, String)>, Vec<GraphPart>) {
    let root_model = &model.tables[graph.root];
    let (mut before, mut after) = (Vec::new(), Vec::new());
    let mut parts = Vec::new();
    let mut first_param = 0;
    let (before_root, after_root) = statement_order(graph);
    for index in before_root {
        let (ctes, part) = step_cte(
            model,
            graph,
            (index, Roots::Many, rows_returned),
            &mut first_param,
        );
        before.extend(ctes);
        parts.push(part);
    }
    let mut source = RowsSource {
        first_param,
        unordered: true,
        rows: RowCount::Many,
        in_cte: true,
        ordinal: true,
        ..RowsSource::default()
    };
    keyed_parents(graph, (StepRef::Root, false), &mut source);
    let InsertRows {
        statement, select, ..
    } = insert_rows(root_model, &root_model.table.name.to_sql_quoted(), &source);
    first_param += statement.params.len();
    parts.push(GraphPart {
        step: None,
        rows: RowCount::Many,
        params: statement.params,
        count: None,
    });
    for index in after_root {
        let (ctes, part) = step_cte(
            model,
            graph,
            (index, Roots::Many, rows_returned),
            &mut first_param,
        );
        after.extend(ctes);
        parts.push(part);
    }
    let read_below = graph
        .steps
        .iter()
        .any(|s| s.parent == StepRef::Root && s.kind.runs_after_parent());
    let root_rows = || (rows_cte_name(StepRef::Root), "root".to_owned());
    let root = if read_below {
        let drawn: Vec<usize> = steps_under_read(graph, StepRef::Root).collect();
        let (rows, insert) = root_rows();
        rows_then_insert(root_model, (rows, insert, "1"), &select, &drawn, &["u.ord"])
    } else {
        vec![format!("root AS ({} RETURNING 1)", statement.sql)]
    };
    let with = |root: Vec<String>| {
        let ctes: Vec<String> = before
            .iter()
            .cloned()
            .chain(root)
            .chain(after.iter().cloned())
            .collect();
        ctes.join(",\n     ")
    };
    let step_counts = step_counts(graph, &parts);
    let sql = format!(
        "\
WITH {}
SELECT (SELECT count(*) FROM root){}",
        with(root),
        step_counts
            .iter()
            .map(|c| format!(", {c}"))
            .collect::<String>()
    );
    // The roots in input order: their rows selected first with their keys (an identity
    // ALWAYS key drawn there), every root returned and joined back to its ordinal by its
    // primary key.
    let key = &root_model.primary_key;
    let drawn: Vec<usize> = steps_under_read(graph, StepRef::Root)
        .chain(key.iter().copied())
        .collect();
    let known = |i: &usize| {
        let column = &root_model.columns[*i];
        select.columns.contains(i)
            || (column.insert.is_none()
                && column.column.identity.is_some()
                && column.default_sql.is_some())
    };
    let sql_returning = (!key.is_empty() && key.iter().all(known)).then(|| {
        let (rows, insert) = root_rows();
        let all_columns = column_list(root_model.columns.iter());
        let root = rows_then_insert(
            root_model,
            (rows, insert, &all_columns),
            &select,
            &drawn,
            &["u.ord"],
        );
        let stored: Vec<String> = key
            .iter()
            .map(|&k| format!("root.{}", quote_ident(&root_model.columns[k].column.name)))
            .collect();
        let given: Vec<String> = key.iter().map(|k| format!("k.v{k}")).collect();
        let mut selected = vec![result_columns(root_model.columns.iter(), "root.")];
        selected.extend(step_counts.iter().cloned());
        let ctes = with(root);
        let sql = format!(
            "\
WITH {ctes}
SELECT {} FROM root JOIN root_rows k ON ({}) = ({}) ORDER BY k.ord",
            selected.join(", "),
            given.join(", "),
            stored.join(", "),
        );
        (ctes, sql)
    });
    (sql, sql_returning, parts)
}

/// The statement of [`RowsResult`]: the many-graph statement whose steps that return their
/// rows select them first and return every column, then one result row per stored row of
/// the root and of those steps, each joined back to its input row by its primary key for its
/// ordinal (`RETURNING` order is not promised):
///
/// ```sql
/// WITH root_rows AS MATERIALIZED (...), root AS (... RETURNING "id", "note"),
///      s0_rows AS MATERIALIZED (... u.ord ...), s0 AS (... RETURNING "id", "order_id", "sku")
/// SELECT 0, k.ord, root."id", root."note", (SELECT count(*) FROM s0), NULL::bigint, NULL::bigint, NULL::text FROM root JOIN root_rows k ON (k.v0) = (root."id")
/// UNION ALL SELECT 1, k.ord, NULL::bigint, NULL::text, NULL::bigint, s0."id", s0."order_id", s0."sku" FROM s0 JOIN s0_rows k ON (k.v0) = (s0."id")
/// ORDER BY 1, 2
/// ```
///
/// `None` when the root's key is not known before its insert (validate refuses that).
fn many_graphs_rows(
    model: &Model<'_>,
    graph: &GraphModel,
    parts: &[GraphPart],
) -> Option<RowsResult> {
    // The CTEs of the form that returns the roots, its steps returning their rows.
    let (_, returning, _) = many_graphs_statement(model, graph, true);
    let (ctes, _) = returning?;
    let root_model = &model.tables[graph.root];
    let null = |table: &TableModel<'_>| -> Vec<String> {
        table
            .columns
            .iter()
            .map(|c| {
                let ty = if c.ty.read_as_text && c.ty.element.is_some() {
                    "text[]".to_owned()
                } else if c.ty.read_as_text {
                    "text".to_owned()
                } else {
                    c.ty.param_sql.clone()
                };
                format!("NULL::{ty}")
            })
            .collect()
    };
    let counts: Vec<String> = (0..graph.steps.len())
        .map(|i| step_count(graph, i))
        .collect();
    let returning: Vec<(usize, usize)> = parts
        .iter()
        .enumerate()
        .filter_map(|(part, p)| {
            p.step
                .filter(|&i| graph.steps[i].returning)
                .map(|i| (i, part))
        })
        .collect();
    let mut steps = Vec::new();
    let mut first = 2 + root_model.columns.len() + counts.len();
    for &(index, part) in &returning {
        steps.push((index, part, first));
        first += model.tables[graph.steps[index].table].columns.len();
    }
    // One branch per kind of row: its own columns, NULLs of every other kind's.
    let branch = |kind: Option<usize>| -> String {
        let mut columns = Vec::new();
        let (cte, table, ordinal) = match kind {
            None => ("root".to_owned(), root_model, 0),
            Some(index) => (
                format!("s{index}"),
                &model.tables[graph.steps[index].table],
                1 + returning
                    .iter()
                    .find(|(i, _)| *i == index)
                    .map_or(0, |(_, p)| *p),
            ),
        };
        columns.push(ordinal.to_string());
        columns.push("k.ord".to_owned());
        if kind.is_none() {
            columns.push(result_columns(root_model.columns.iter(), "root."));
            columns.extend(counts.iter().cloned());
        } else {
            columns.extend(null(root_model));
            columns.extend(counts.iter().map(|_| "NULL::bigint".to_owned()));
        }
        for &(other, _) in &returning {
            let other_table = &model.tables[graph.steps[other].table];
            if Some(other) == kind {
                columns.push(result_columns(
                    other_table.columns.iter(),
                    &format!("{cte}."),
                ));
            } else {
                columns.extend(null(other_table));
            }
        }
        let rows = match kind {
            None => rows_cte_name(StepRef::Root),
            Some(index) => rows_cte_name(StepRef::Step(index)),
        };
        let given: Vec<String> = table
            .primary_key
            .iter()
            .map(|k| format!("k.v{k}"))
            .collect();
        let stored: Vec<String> = table
            .primary_key
            .iter()
            .map(|&k| format!("{cte}.{}", quote_ident(&table.columns[k].column.name)))
            .collect();
        format!(
            "SELECT {} FROM {cte} JOIN {rows} k ON ({}) = ({})",
            columns.join(", "),
            given.join(", "),
            stored.join(", ")
        )
    };
    let branches: Vec<String> = std::iter::once(branch(None))
        .chain(returning.iter().map(|&(index, _)| branch(Some(index))))
        .collect();
    Some(RowsResult {
        sql: format!(
            "WITH {ctes}\n{}\nORDER BY 1, 2",
            branches.join("\nUNION ALL ")
        ),
        steps,
    })
}

/// One step's CTEs (`s<index> AS (INSERT ... RETURNING ...)`) and its parameters, numbered
/// after the `first_param` before it (which grows by the step's own). A step after its
/// parent joins the parent's CTE and takes its key; an upserting step has its table's
/// `ON CONFLICT` tail; a step returns the columns other steps read (a belongs_to step its
/// key), or else `1` to be counted.
///
/// A step with steps under it first selects its rows with their keys into a `MATERIALIZED`
/// CTE of their own (`s<index>_rows`: each value, a sequence's next one too, evaluated once
/// per row), numbered by their ordinal when there are many, then inserts them; the rows
/// under them read their parent's values from it, by their parent's ordinal, since
/// `RETURNING` order is not promised (see SQL-SHAPES):
///
/// ```sql
/// s1_rows AS MATERIALIZED (SELECT COALESCE(u.c0, nextval('posts_id_seq')) AS v0, root."id" AS v1, u.c2 AS v2, u.ord FROM root, UNNEST(...) WITH ORDINALITY AS u(c0, c2, ord)),
/// s1 AS (INSERT INTO "posts" ("id", "author_id", "title") SELECT r.v0, r.v1, r.v2 FROM s1_rows r RETURNING 1),
/// s2 AS (INSERT INTO "comments" ("post_id", "body") SELECT p.v0, u.c2 FROM UNNEST($4::text[], $5::bigint[]) AS u(c2, po) JOIN s1_rows p ON p.ord = u.po RETURNING 1)
/// ```
fn step_cte(
    model: &Model<'_>,
    graph: &GraphModel,
    (index, roots, rows_returned): (usize, Roots, bool),
    first_param: &mut usize,
) -> (Vec<String>, GraphPart) {
    let step = &graph.steps[index];
    let parent_model = &model.tables[graph.table_of(step.parent)];
    let table = &model.tables[step.table];
    let rows = flat_rows(graph, index, roots);
    let here = StepRef::Step(index);
    // A belongs_to of a step of many rows hands each row its key by that row's ordinal.
    let keyed_by_ordinal = step.kind.sets_parent_column().is_some()
        && parent_rows(graph, step.parent, roots) == RowCount::Many;
    if let (Some(by), Some((_, key))) = (step.connect_by, step.kind.sets_parent_column()) {
        return connect_cte(
            model,
            graph,
            (index, key, by),
            keyed_by_ordinal,
            first_param,
        );
    }
    let read_below = graph
        .steps
        .iter()
        .any(|s| s.parent == here && s.kind.runs_after_parent());
    // Rows returned are joined back to their input rows by key: selected first, numbered.
    let returns_rows = rows_returned && step.returning;
    let selects_rows_first = read_below || keyed_by_ordinal || returns_rows;
    let mut source = RowsSource {
        first_param: *first_param,
        unordered: true,
        rows,
        in_cte: true,
        ordinal: rows == RowCount::Many
            && (read_below || graph.has_steps_under(here) || returns_rows),
        overrides: filled_by_steps(model, graph, here),
        ..RowsSource::default()
    };
    if rows == RowCount::Many {
        let links = matches!(step.kind, StepKind::ManyToMany { .. });
        keyed_parents(graph, (here, links), &mut source);
    }
    source.binds_own_ordinal = keyed_by_ordinal;
    if step.kind.runs_after_parent() {
        let many_parents = parent_rows(graph, step.parent, roots) == RowCount::Many;
        match step.parent {
            StepRef::Root if !many_parents => source.join = "root, ".to_owned(),
            parent if many_parents => source.parent_rows = Some(rows_cte_name(parent)),
            parent => source.join = format!("{} p, ", rows_cte_name(parent)),
        }
        let copied = step
            .kind
            .takes_parent_column()
            .into_iter()
            .chain(step.copied.iter().copied());
        for (column, parent_column) in copied {
            let parent_key = match (step.parent, roots) {
                (StepRef::Root, Roots::One) => format!(
                    "root.{}",
                    quote_ident(&parent_model.columns[parent_column].column.name)
                ),
                _ => format!("p.v{parent_column}"),
            };
            source
                .overrides
                .insert(column, ColumnSource::Expression(parent_key));
        }
    }
    let table_name = table.table.name.to_sql_quoted();
    let InsertRows {
        mut statement,
        rows: values,
        given,
        select,
    } = insert_rows(table, &table_name, &source);
    *first_param += statement.params.len();
    let count =
        counted_by_parameters(graph, index, (keyed_by_ordinal, rows_returned)).then_some(given);
    let part = GraphPart {
        step: Some(index),
        rows,
        params: statement.params,
        count,
    };
    let upserted_key = step.kind.sets_parent_column().filter(|_| step.upsert);
    if let (Some((_, key)), true, Some(conflict)) =
        (upserted_key, keyed_by_ordinal, &table.conflict)
    {
        let (conflict, inserted) = if step.ignore {
            (unchanged(conflict), ", (xmax = 0) AS inserted")
        } else {
            (conflict.clone(), "")
        };
        let ctes = upsert_by_key_ctes(table, (index, key), &select, &values, (&conflict, inserted));
        return (ctes, part);
    }
    if selects_rows_first {
        // An identity ALWAYS key that rows under it read is drawn first too.
        let key = step
            .kind
            .sets_parent_column()
            .filter(|_| keyed_by_ordinal)
            .map(|(_, key)| key);
        let returned_key = table.primary_key.iter().copied().filter(|_| returns_rows);
        let drawn: Vec<usize> = steps_under_read(graph, here)
            .chain(key)
            .chain(returned_key)
            .collect();
        let mut extra = Vec::new();
        if source.ordinal {
            extra.push("u.ord");
        }
        if keyed_by_ordinal {
            extra.push("u.po");
        }
        let all_columns = column_list(table.columns.iter());
        let returning = match (returns_rows, &part.count) {
            (true, _) => all_columns.as_str(),
            (false, Some(_)) => "",
            (false, None) => "1",
        };
        let names = (rows_cte_name(here), format!("s{index}"), returning);
        return (
            rows_then_insert(table, names, &select, &drawn, &extra),
            part,
        );
    }
    let mut inserted = "";
    if let (true, Some(conflict)) = (step.upsert, &table.conflict) {
        let tail = match (step.ignore, step.kind.sets_parent_column()) {
            (false, _) => on_conflict(table, &table_name, conflict, &values, " "),
            // A skipped parent still returns its key: a no-op update, race-free.
            (true, Some(_)) => {
                inserted = ", (xmax = 0) AS inserted";
                on_conflict(table, &table_name, &unchanged(conflict), &values, " ")
            }
            (true, None) => on_conflict_do_nothing(table, conflict, " "),
        };
        statement.sql.push_str(&tail);
    }
    let own_key = step.kind.sets_parent_column().map(|(_, key)| key);
    let returned = returned_columns(
        model,
        graph,
        StepRef::Step(index),
        own_key.into_iter().collect(),
    );
    if !(returned == "1" && inserted.is_empty() && part.count.is_some()) {
        let _ = write!(statement.sql, " RETURNING {returned}{inserted}");
    }
    (vec![format!("s{index} AS ({})", statement.sql)], part)
}

/// The CTEs of a belongs_to step that upserts the rows of a step of many rows
/// (connect-or-create): rows that repeat the conflict key are written once, the first of
/// them in input order (`DISTINCT ON`: one `DO UPDATE` cannot affect a row twice), and each
/// row finds its key by joining the upserted rows back on the conflict key, since an
/// existing row keeps its own key and `RETURNING` order is not promised (see SQL-SHAPES).
/// The key's columns are NOT NULL (checked in validate), so the join finds every row.
///
/// ```sql
/// s1 AS (INSERT INTO "cities" ("name") SELECT DISTINCT ON (u.c1) u.c1 FROM UNNEST($3::text[], $4::bigint[]) AS u(c1, po) ORDER BY u.c1, u.po ON CONFLICT ("name") DO UPDATE SET "name" = EXCLUDED."name" RETURNING "id", "name"),
/// s1_rows AS (SELECT s."id" AS v0, u.po FROM UNNEST($3::text[], $4::bigint[]) AS u(c1, po) JOIN s1 s ON (s."name") = (u.c1))
/// ```
fn upsert_by_key_ctes(
    table: &TableModel<'_>,
    (index, own_key): (usize, usize),
    select: &RowsSelect,
    values: &RowValues,
    (conflict, inserted): (&crate::model::Conflict, &str),
) -> Vec<String> {
    let table_name = table.table.name.to_sql_quoted();
    let row_key: Vec<&str> = conflict
        .key
        .iter()
        .filter_map(|k| values.key_values.get(k).map(String::as_str))
        .collect();
    let row_key = row_key.join(", ");
    let stored_key: Vec<String> = conflict
        .key
        .iter()
        .map(|&k| format!("s.{}", quote_ident(&table.columns[k].column.name)))
        .collect();
    let mut returned = vec![own_key];
    returned.extend(conflict.key.iter().copied());
    returned.dedup();
    let tail = on_conflict(table, &table_name, conflict, values, " ");
    vec![
        format!(
            "s{index} AS (INSERT INTO {table_name} ({columns}) SELECT DISTINCT ON ({row_key}) {selected}{from} ORDER BY {row_key}, u.po{tail} RETURNING {returned}{inserted})",
            columns = column_list(select.columns.iter().map(|&i| &table.columns[i])),
            selected = select.values.join(", "),
            from = select.from,
            returned = column_list(returned.iter().map(|&i| &table.columns[i])),
        ),
        format!(
            "{rows} AS (SELECT s.{key} AS v{own_key}, u.po FROM {from} JOIN s{index} s ON ({stored}) = ({row_key}))",
            rows = rows_cte_name(StepRef::Step(index)),
            key = quote_ident(&table.columns[own_key].column.name),
            from = values.from,
            stored = stored_key.join(", "),
        ),
    ]
}

/// The CTE of rows selected with their keys (`rows`, `MATERIALIZED`: each value, a
/// sequence's next one too, evaluated once per row), then the insert (`insert`) that writes
/// them, returning `returning` (nothing when it is empty). An identity ALWAYS key among
/// `drawn` (the columns rows under them read) is drawn there too, and given to the insert
/// with `OVERRIDING SYSTEM VALUE`. `extra` are the ordinals selected beside the values
/// (`u.ord`, `u.po`).
fn rows_then_insert(
    table: &TableModel<'_>,
    (rows, insert, returning): (String, String, &str),
    select: &RowsSelect,
    drawn: &[usize],
    extra: &[&str],
) -> Vec<String> {
    let mut selected: Vec<String> = select
        .columns
        .iter()
        .zip(&select.values)
        .map(|(column, value)| format!("{value} AS v{column}"))
        .collect();
    let mut columns = select.columns.clone();
    let mut overriding = "";
    for (column, model) in table.columns.iter().enumerate() {
        if let (None, Some(_), Some(draw), true) = (
            model.insert,
            model.column.identity,
            &model.default_sql,
            drawn.contains(&column),
        ) {
            selected.push(format!("{draw} AS v{column}"));
            columns.push(column);
            overriding = " OVERRIDING SYSTEM VALUE";
        }
    }
    selected.extend(extra.iter().map(|e| (*e).to_owned()));
    let read: Vec<String> = columns.iter().map(|c| format!("r.v{c}")).collect();
    let returning = if returning.is_empty() {
        String::new()
    } else {
        format!(" RETURNING {returning}")
    };
    vec![
        format!(
            "{rows} AS MATERIALIZED (SELECT {}{})",
            selected.join(", "),
            select.from
        ),
        format!(
            "{insert} AS (INSERT INTO {} ({}){overriding} SELECT {} FROM {rows} r{returning})",
            table.table.name.to_sql_quoted(),
            column_list(columns.iter().map(|&i| &table.columns[i])),
            read.join(", ")
        ),
    ]
}

/// The keys of the belongs_to (and link) rows under `here` when its rows are many: each
/// joined by this row's ordinal (`LEFT JOIN s3_rows b3 ON b3.po = u.ord`), its key the
/// row's value of the column it fills, unless the row gives one. A join row's far key
/// (`links`) comes from the one link its item has.
fn keyed_parents(graph: &GraphModel, (here, links): (StepRef, bool), source: &mut RowsSource) {
    let mut keys: BTreeMap<usize, Vec<String>> = BTreeMap::new();
    for (b, parent) in graph.steps.iter().enumerate() {
        let Some((column, key)) = parent.kind.sets_parent_column() else {
            continue;
        };
        if parent.parent == here {
            let _ = write!(
                source.joins,
                " LEFT JOIN {} b{b} ON b{b}.po = u.ord",
                rows_cte_name(StepRef::Step(b))
            );
            keys.entry(column).or_default().push(format!("b{b}.v{key}"));
        }
    }
    for (column, keys) in keys {
        let key = match keys.as_slice() {
            [one] => one.clone(),
            _ => format!("COALESCE({})", keys.join(", ")),
        };
        let key = if links {
            ColumnSource::Expression(key)
        } else {
            ColumnSource::Fallback(key)
        };
        source.overrides.insert(column, key);
    }
}

/// The lookup of a belongs_to step that connects by a unique key: each given key's row,
/// its key the parent row takes. A key that matches no row fails a cast whose text names
/// the step (`writegraph:not_found:<tag>:<key>`, see SQL-SHAPES), which the runtime reads as
/// `Error::NotFound`: a statement cannot raise, and the keys come through `unnest` of an
/// array so that PostgreSQL cannot fold the cast while planning.
///
/// ```sql
/// s0 AS MATERIALIZED (SELECT CASE WHEN t."id" IS NULL THEN ((('writegraph:not_found:graph:belongs_to:users:' || left(w.k::text, 64))::integer)::text::bigint) ELSE t."id" END AS "id" FROM unnest($1::text[]) AS w(k) LEFT JOIN "users" t ON t."email" = w.k)
/// ```
///
/// Under a step of many rows, each key carries the ordinal of its row (`w.po`), and the
/// lookup is `s<index>_rows`, which that step joins by it.
fn connect_cte(
    model: &Model<'_>,
    graph: &GraphModel,
    (index, key_index, by_index): (usize, usize, usize),
    keyed_by_ordinal: bool,
    first_param: &mut usize,
) -> (Vec<String>, GraphPart) {
    let step = &graph.steps[index];
    let table = &model.tables[step.table];
    let (key, by) = (key_index, by_index);
    let n = *first_param + 1;
    let mut params = vec![Param::Value(by_index)];
    let (name, ordinal) = if keyed_by_ordinal {
        params.push(Param::ParentOrdinal);
        (rows_cte_name(StepRef::Step(index)), Some(n + 1))
    } else {
        (format!("s{index}"), None)
    };
    *first_param += params.len();
    let lookup = format!(
        "{name} AS MATERIALIZED ({})",
        lookup_sql(table, (key, by), &step.tag, (n, ordinal))
    );
    let mut ctes = vec![lookup];
    if keyed_by_ordinal {
        ctes.push(format!("s{index} AS (SELECT 1 FROM {name})"));
    }
    let part = GraphPart {
        step: Some(index),
        rows: RowCount::Many,
        params,
        count: None,
    };
    (ctes, part)
}

/// The `SELECT` of a connect-by lookup in `table`: the key column `key` of the row whose
/// column `by` has each value of the array `$n`, or a cast that fails with the step's `tag`
/// (see `connect_cte`). With `ordinal`, each value carries its row's ordinal from the array
/// `$ordinal`, and the key is named `v<key>` beside it (`po`); else it keeps its name.
pub(super) fn lookup_sql(
    table: &TableModel<'_>,
    (key, by): (usize, usize),
    tag: &str,
    (n, ordinal): (usize, Option<usize>),
) -> String {
    let (key_column, by_column) = (&table.columns[key], &table.columns[by]);
    let key_name = quote_ident(&key_column.column.name);
    let key_type = key_column
        .ty
        .cast_to
        .as_deref()
        .unwrap_or(&key_column.ty.param_sql);
    let marker = crate::validate::sql_string(&format!("writegraph:not_found:{tag}:"));
    let (alias, arrays, aliases, po) = match ordinal {
        Some(o) => (
            format!("v{key}"),
            format!("${n}::{}[], ${o}::bigint[]", by_column.ty.param_sql),
            "k, po",
            ", w.po",
        ),
        None => (
            key_name.clone(),
            format!("${n}::{}[]", by_column.ty.param_sql),
            "k",
            "",
        ),
    };
    format!(
        "SELECT CASE WHEN t.{key_name} IS NULL THEN ((({marker} || left(w.k::text, 64))::integer)::text::{key_type}) ELSE t.{key_name} END AS {alias}{po} FROM unnest({arrays}) AS w({aliases}) LEFT JOIN {table_name} t ON t.{by_name} = {value}",
        table_name = table.table.name.to_sql_quoted(),
        by_name = quote_ident(&by_column.column.name),
        value = super::rows::cast("w.k".to_owned(), by_column.ty.cast_to.as_deref()),
    )
}

/// The steps in the statement's order, before the root and after it: each step's
/// belongs_to and before_insert steps come before it, its has_one, has_many and
/// after_insert steps after it, each with the steps under it, in the graph's order.
fn statement_order(graph: &GraphModel) -> (Vec<usize>, Vec<usize>) {
    fn visit(graph: &GraphModel, index: usize, order: &mut Vec<usize>) {
        let under = |after: bool| {
            (0..graph.steps.len()).filter(move |&i| {
                graph.steps[i].parent == StepRef::Step(index)
                    && graph.steps[i].kind.runs_after_parent() == after
            })
        };
        for child in under(false) {
            visit(graph, child, order);
        }
        order.push(index);
        for child in under(true) {
            visit(graph, child, order);
        }
    }
    let (mut before, mut after) = (Vec::new(), Vec::new());
    for (index, step) in graph.steps.iter().enumerate() {
        if step.parent == StepRef::Root {
            let order = if step.kind.runs_after_parent() {
                &mut after
            } else {
                &mut before
            };
            visit(graph, index, order);
        }
    }
    (before, after)
}

/// How a step's rows are bound: many rows when the step or a step above it holds many
/// (the rows of every parent row, flattened), else one row, which may be absent when the
/// step or a step above it is optional.
fn flat_rows(graph: &GraphModel, index: usize, roots: Roots) -> RowCount {
    let mut optional = false;
    let mut at = StepRef::Step(index);
    while let StepRef::Step(i) = at {
        match graph.steps[i].cardinality {
            Cardinality::Many => return RowCount::Many,
            Cardinality::Optional => optional = true,
            Cardinality::One => {}
        }
        at = graph.steps[i].parent;
    }
    match roots {
        Roots::One => RowCount::One { optional },
        Roots::Many => RowCount::Many,
    }
}

/// How the rows of `parent` are bound: the root's one row (one graph), or as
/// [`flat_rows`] says.
fn parent_rows(graph: &GraphModel, parent: StepRef, roots: Roots) -> RowCount {
    match (parent, roots) {
        (StepRef::Root, Roots::One) => RowCount::Root,
        (StepRef::Root, Roots::Many) => RowCount::Many,
        (StepRef::Step(p), _) => flat_rows(graph, p, roots),
    }
}

/// The columns of step `index` that the steps under it read.
fn steps_under_read(graph: &GraphModel, step: StepRef) -> impl Iterator<Item = usize> + '_ {
    graph
        .steps
        .iter()
        .filter(move |s| s.parent == step)
        .flat_map(|s| {
            let key = s.kind.takes_parent_column().map(|(_, column)| column);
            key.into_iter()
                .chain(s.copied.iter().map(|&(_, column)| column))
        })
}

/// The count of step `index`'s rows in the final `SELECT`: the rows its CTE returns, or,
/// for a parent that skips existing rows (`insert_ignore`), the ones it inserted (`xmax =
/// 0` tells a new row from one a no-op update returned).
fn step_count(graph: &GraphModel, index: usize) -> String {
    let step = &graph.steps[index];
    if step.ignore && step.kind.sets_parent_column().is_some() && step.connect_by.is_none() {
        format!("(SELECT count(*) FROM s{index} WHERE inserted)")
    } else {
        format!("(SELECT count(*) FROM s{index})")
    }
}

/// Each step's count in the final `SELECT`, in step order: read from its parameters when
/// its part says how (see [`counted_by_parameters`]), else counted from its CTE's rows.
fn step_counts(graph: &GraphModel, parts: &[GraphPart]) -> Vec<String> {
    (0..graph.steps.len())
        .map(|i| {
            parts
                .iter()
                .find(|part| part.step == Some(i))
                .and_then(|part| part.count.clone())
                .unwrap_or_else(|| step_count(graph, i))
        })
        .collect()
}

/// Whether step `index` counts the rows its parameters carry rather than the rows its CTE
/// returns. Reading each step's rows in the final `SELECT`, in statement order, is what
/// makes PostgreSQL run the steps in that order (a data-modifying CTE runs when it is
/// read); only the last step need not be read, since PostgreSQL runs a CTE no one read
/// after the whole query. The root is always read (`FROM root`), so the last step is the
/// last of those after the root, when there is one. So: that step, an insert, plain or upserting with
/// `DO UPDATE`, of rows that each find their parent row (every parent row is written, or
/// found, before it). PostgreSQL inserts or updates every such row or fails the whole
/// statement, so the count is known from the parameters, and the CTE returns nothing. Not a
/// lookup, not `insert_ignore`, not join rows (both may skip rows), not a parent upserted
/// for many rows (rows that repeat its key are written once), and not in the statement
/// that returns the rows, which counts each step's returned rows. (A `BEFORE INSERT`
/// trigger that returns NULL to skip a row is not seen: the row counts as given.)
fn counted_by_parameters(
    graph: &GraphModel,
    index: usize,
    (keyed_by_ordinal, rows_returned): (bool, bool),
) -> bool {
    let step = &graph.steps[index];
    let (_, after_root) = statement_order(graph);
    let last = after_root.last() == Some(&index);
    let may_skip_or_merge_rows = step.ignore
        || (step.upsert && keyed_by_ordinal)
        || step.connect_by.is_some()
        || matches!(step.kind, StepKind::ManyToMany { .. });
    last && !rows_returned && !may_skip_or_merge_rows
}

/// `conflict` with nothing to update: `ON CONFLICT ... DO UPDATE` assigns the first key
/// column its own value, so that `RETURNING` returns the existing row and its lock is taken.
fn unchanged(conflict: &crate::model::Conflict) -> crate::model::Conflict {
    crate::model::Conflict {
        update: Vec::new(),
        ..conflict.clone()
    }
}

/// The CTE of a step's rows with their keys, which the rows under them read.
fn rows_cte_name(step: StepRef) -> String {
    match step {
        StepRef::Root => "root_rows".to_owned(),
        StepRef::Step(index) => format!("s{index}_rows"),
    }
}

/// The CTE that writes a step's rows, which the steps linked to it read.
fn cte_name(step: StepRef) -> String {
    match step {
        StepRef::Root => "root".to_owned(),
        StepRef::Step(index) => format!("s{index}"),
    }
}

/// The columns of `step` that belongs_to steps under it fill with their key, when the row
/// leaves them unset: `(SELECT "id" FROM s0)`.
fn filled_by_steps(
    model: &Model<'_>,
    graph: &GraphModel,
    step: StepRef,
) -> BTreeMap<usize, ColumnSource> {
    let mut filled = BTreeMap::new();
    for (index, child) in graph.steps.iter().enumerate() {
        let Some((column, key)) = child.kind.sets_parent_column() else {
            continue;
        };
        if child.parent == step {
            let key_name = quote_ident(&model.tables[child.table].columns[key].column.name);
            filled.insert(
                column,
                ColumnSource::Fallback(format!(
                    "(SELECT {key_name} FROM {})",
                    cte_name(StepRef::Step(index))
                )),
            );
        }
    }
    filled
}

/// What the CTE of `step` returns for the steps under it: `own` (a belongs_to step's key)
/// and the columns its children copy, in table order, or `1` when none.
fn returned_columns(
    model: &Model<'_>,
    graph: &GraphModel,
    step: StepRef,
    own: Vec<usize>,
) -> String {
    let mut columns = own;
    columns.extend(
        graph
            .steps
            .iter()
            .filter(|s| s.parent == step)
            .flat_map(|s| {
                let key = s.kind.takes_parent_column().map(|(_, column)| column);
                key.into_iter()
                    .chain(s.copied.iter().map(|&(_, column)| column))
            }),
    );
    columns.sort_unstable();
    columns.dedup();
    if columns.is_empty() {
        "1".to_owned()
    } else {
        let table = &model.tables[graph.table_of(step)];
        column_list(columns.iter().map(|&i| &table.columns[i]))
    }
}
