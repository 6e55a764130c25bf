//! The SQL of every generated write, as text fixed at build time. Each statement shape is
//! built in one function below that reads like the statement it makes.
//!
//! Parameters are described by [`Param`], in `$n` order, so the emitter binds exactly what
//! the statement expects. Every identifier is quoted; every value is a parameter.

mod insert_graphs;
mod rows;
mod tables;
#[cfg(test)]
mod tests;
mod update_graphs;

pub use insert_graphs::{GraphPart, GraphStatement, RowsResult};
pub use rows::RowCount;
pub use tables::{ConflictStatements, PatchStatement, TableStatements};
pub use update_graphs::{
    ChildPatchStatement, UpdateChildParams, UpdateGraphStatement, UpdateManyStatement,
};

use crate::model::Model;

/// Every statement the generated code sends, by item: what `emit` and `explain` read.
#[derive(Debug, Clone)]
pub struct Plan {
    /// Per table of `Model::tables`, in its order.
    pub tables: Vec<TableStatements>,
    /// Per insert graph of `Model::graphs`, in its order.
    pub graphs: Vec<GraphStatement>,
    /// Per update graph of `Model::update_graphs`, in its order.
    pub update_graphs: Vec<UpdateGraphStatement>,
}

/// Plans every statement of the model.
pub fn plan(model: &Model<'_>) -> Plan {
    Plan {
        tables: model.tables.iter().map(tables::table_statements).collect(),
        graphs: model
            .graphs
            .iter()
            .map(|g| insert_graphs::graph_statement(model, g))
            .collect(),
        update_graphs: model
            .update_graphs
            .iter()
            .map(|g| update_graphs::update_graph_statement(model, g))
            .collect(),
    }
}

/// How a statement whose `SET` list is assembled at run time (a patch assigns only the
/// columns it sets) is shown in docs and `explain`: `prefix`, one placeholder assignment,
/// then `suffix`.
pub fn with_set_placeholder(prefix: &str, suffix: &str) -> String {
    format!("{prefix}\"column\" = $n, ...{suffix}")
}

/// What one `$n` parameter of a statement carries.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Param {
    /// The column's value (one row), or all rows' values as an array (batch).
    Value(usize),
    /// Whether the column was set (nullable columns with a default): `bool` or `bool[]`.
    Flag(usize),
    /// Batch, array column: every row's elements, concatenated.
    Elements(usize),
    /// Batch, array column: where each row's elements start in `Elements` (0-based).
    Starts(usize),
    /// Batch, array column: each row's element count, NULL when the row has no array.
    Lengths(usize),
    /// The primary key column's value (`WHERE pk = $n`).
    Key(usize),
    /// A one-row step whose row may be absent: whether it is given (`bool`).
    Present,
    /// Rows under a parent step of many rows: each row's parent, as the parent's ordinal
    /// among its step's rows, from 1 (`bigint[]`).
    ParentOrdinal,
}

/// A statement and its parameters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Statement {
    /// SQL text.
    pub sql: String,
    /// Parameters in `$1, $2, ...` order.
    pub params: Vec<Param>,
}
