//! The one statement of an insert graph.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use crate::ident::quote_ident;
use crate::model::{GraphModel, Model, StepKind};

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
    let mut root_overrides = BTreeMap::new();

    for (index, step) in graph
        .steps
        .iter()
        .enumerate()
        .filter(|(_, s)| !s.kind.after_root())
    {
        let (cte, part) = step_cte(model, graph, index, &mut first_param);
        before.push(cte);
        parts.push(part);
        if let (StepKind::BelongsTo, Some((root_column, key))) = (step.kind, step.sets_root_column)
        {
            let key_name = quote_ident(&model.tables[step.table].columns[key].column.name);
            root_overrides.insert(
                root_column,
                ColumnSource::Fallback(format!("(SELECT {key_name} FROM s{index})")),
            );
        }
    }
    let root_source = RowsSource {
        first_param,
        overrides: root_overrides,
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
    for index in (0..graph.steps.len()).filter(|&i| graph.steps[i].kind.after_root()) {
        let (cte, part) = step_cte(model, graph, index, &mut first_param);
        after.push(cte);
        parts.push(part);
    }

    // The root columns later steps read; the bare form returns only those.
    let mut read_by_steps: Vec<usize> = graph
        .steps
        .iter()
        .filter_map(|s| s.takes_root_column.map(|(_, root_column)| root_column))
        .collect();
    read_by_steps.sort_unstable();
    read_by_steps.dedup();
    let read_by_steps = if read_by_steps.is_empty() {
        "1".to_owned()
    } else {
        column_list(read_by_steps.iter().map(|&i| &root_model.columns[i]))
    };
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
/// after the `first_param` before it (which grows by the step's own). A step after the root
/// joins it and takes its key; an upserting step has its table's `ON CONFLICT` tail; a
/// belongs_to step returns the key the root reads, every other step `1` to be counted.
fn step_cte(
    model: &Model<'_>,
    graph: &GraphModel,
    index: usize,
    first_param: &mut usize,
) -> (String, GraphPart) {
    let root_model = &model.tables[graph.root];
    let step = &graph.steps[index];
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
        ..RowsSource::default()
    };
    if step.kind.after_root() {
        source.join = "root, ".to_owned();
        if let Some((column, root_column)) = step.takes_root_column {
            let root_key = format!(
                "root.{}",
                quote_ident(&root_model.columns[root_column].column.name)
            );
            source
                .overrides
                .insert(column, ColumnSource::Expression(root_key));
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
    match step.sets_root_column {
        Some((_, key)) => {
            let _ = write!(
                statement.sql,
                " RETURNING {}",
                quote_ident(&table.columns[key].column.name)
            );
        }
        None => statement.sql.push_str(" RETURNING 1"),
    }
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
