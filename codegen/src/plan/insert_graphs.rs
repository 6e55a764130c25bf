//! The one statement of an insert graph.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use crate::ident::quote_ident;
use crate::model::{GraphModel, Model, StepRef};

use super::rows::{
    column_list, insert_rows, on_conflict, result_columns, ColumnSource, InsertRows, RowsSource,
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

    for index in (0..graph.steps.len()).filter(|&i| !graph.steps[i].kind.runs_after_parent()) {
        let (cte, part) = step_cte(model, graph, index, &mut first_param);
        before.push(cte);
        parts.push(part);
    }
    let root_source = RowsSource {
        first_param,
        overrides: filled_by_steps(model, graph, StepRef::Root),
        join: String::new(),
        unordered: true,
        rows: RowCount::Root,
        in_cte: true,
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
    });
    for index in (0..graph.steps.len()).filter(|&i| graph.steps[i].kind.runs_after_parent()) {
        let (cte, part) = step_cte(model, graph, index, &mut first_param);
        after.push(cte);
        parts.push(part);
    }

    // The root columns later steps read; the bare form returns only those.
    let read_by_steps = returned_columns(model, graph, StepRef::Root, Vec::new());
    let counts: Vec<String> = (0..graph.steps.len())
        .map(|i| format!("(SELECT count(*) FROM s{i})"))
        .collect();
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
    GraphStatement {
        sql: statement(&read_by_steps, counts),
        sql_returning: statement(&column_list(root_model.columns.iter()), returned),
        parts,
    }
}

/// One step's CTE (`s<index> AS (INSERT ... RETURNING ...)`) and its parameters, numbered
/// after the `first_param` before it (which grows by the step's own). A step after its
/// parent joins the parent's CTE and takes its key; an upserting step has its table's
/// `ON CONFLICT` tail; a step returns the columns other steps read (a belongs_to step its
/// key), or else `1` to be counted.
fn step_cte(
    model: &Model<'_>,
    graph: &GraphModel,
    index: usize,
    first_param: &mut usize,
) -> (String, GraphPart) {
    let step = &graph.steps[index];
    let parent_model = &model.tables[graph.table_of(step.parent)];
    let parent = cte_name(step.parent);
    let table = &model.tables[step.table];
    let rows = match step.cardinality {
        Cardinality::Many => RowCount::Many,
        Cardinality::One => RowCount::One { optional: false },
        Cardinality::Optional => RowCount::One { optional: true },
    };
    let mut source = RowsSource {
        first_param: *first_param,
        unordered: true,
        rows,
        in_cte: true,
        overrides: filled_by_steps(model, graph, StepRef::Step(index)),
        ..RowsSource::default()
    };
    if step.kind.runs_after_parent() {
        source.join = format!("{parent}, ");
        if let Some((column, parent_column)) = step.kind.takes_parent_column() {
            let parent_key = format!(
                "{parent}.{}",
                quote_ident(&parent_model.columns[parent_column].column.name)
            );
            source
                .overrides
                .insert(column, ColumnSource::Expression(parent_key));
        }
    }
    let table_name = table.table.name.to_sql_quoted();
    let InsertRows {
        mut statement,
        rows: values,
    } = insert_rows(table, &table_name, &source);
    if step.upsert {
        if let Some(conflict) = &table.conflict {
            statement
                .sql
                .push_str(&on_conflict(table, &table_name, conflict, &values, " "));
        }
    }
    let own_key = step.kind.sets_parent_column().map(|(_, key)| key);
    let returned = returned_columns(
        model,
        graph,
        StepRef::Step(index),
        own_key.into_iter().collect(),
    );
    let _ = write!(statement.sql, " RETURNING {returned}");
    *first_param += statement.params.len();
    (
        format!("s{index} AS ({})", statement.sql),
        GraphPart {
            step: Some(index),
            rows,
            params: statement.params,
        },
    )
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
            .filter_map(|s| {
                s.kind
                    .takes_parent_column()
                    .map(|(_, parent_column)| parent_column)
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
