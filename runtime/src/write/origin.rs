//! Which input graphs of a many-graph statement a database error came from, where
//! PostgreSQL says: the key in its DETAIL (`Key (sku)=(A-1) already exists.`, `Key
//! (category_id)=(99) is not present in table "categories".`), matched against the values the
//! statement bound for the steps the error may come from.
//!
//! A many-graph statement binds each step's rows as one array per column it writes, followed
//! by an array that numbers each row's parent row (from 1: the graph's own ordinal for a step
//! under the root, a row of the parent step for one nested deeper); the root's rows are the
//! graphs in input order. [`ManyParam`] says which is which, so a row found by its key is
//! followed up to its root, and so to its graph. A key with a column the graph fills (a
//! parent's key the statement draws) names no graph: its value is not among the input.

use tokio_postgres::error::DbError;
use tokio_postgres::types::{Kind, Type};

use super::Param;

/// What one parameter of a many-graph statement holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ManyParam {
    /// The values of `column` of step `step`'s rows, one array element per row.
    Column {
        /// The step (its index in the graph's `STEPS`).
        step: usize,
        /// The SQL column.
        column: &'static str,
    },
    /// The parent ordinals of step `step`'s rows: the row (from 1) of step `parent` each
    /// row is written under (for a step under the root, the graph).
    Parents {
        /// The step.
        step: usize,
        /// The step its values number rows of.
        parent: usize,
    },
    /// Neither (whether a one-row step is given, say).
    Other,
}

/// A graph's [`MANY_PARAMS`](crate::write::InsertGraphMany::MANY_PARAMS) from one call, in
/// `$n` order, grouped by step: `many_params![0: "id", "email"; 1: "id", "title", [0]]` is
/// the root's `id` and `email` columns, then step 1's `id` and `title` and its rows' parent
/// ordinals, which number rows of step 0 (`[parent]`); `_` is a parameter that holds neither.
#[doc(hidden)]
#[macro_export]
macro_rules! many_params {
    ($($step:literal: $($item:tt),*);* $(;)?) => {
        &[$($($crate::many_params!(@ $step $item),)*)*]
    };
    (@ $step:literal [$parent:literal]) => {
        $crate::write::ManyParam::Parents { step: $step, parent: $parent }
    };
    (@ $step:literal _) => {
        $crate::write::ManyParam::Other
    };
    (@ $step:literal $column:literal) => {
        $crate::write::ManyParam::Column { step: $step, column: $column }
    };
}

/// The input graphs (from 0, ascending) whose rows of one of `steps` hold the key PostgreSQL's
/// `error` names, by `params` as [`ManyParam`]s describe them; empty when the error names no
/// key or one the input does not hold.
pub(crate) fn graphs_of_key(
    error: &DbError,
    steps: &[usize],
    params: &[Param<'_>],
    described: &[ManyParam],
    root: usize,
) -> Vec<usize> {
    // A list that does not describe these parameters (a hand-written implementation's)
    // names nothing rather than a wrong graph.
    if described.len() != params.len() {
        return Vec::new();
    }
    let Some(key) = error.detail().and_then(detail_key) else {
        return Vec::new();
    };
    let lineage = Lineage::new(params, described, root);
    let mut graphs = Vec::new();
    for &step in steps {
        let Some(rows) = rows_with_key(step, &key, params, described) else {
            continue;
        };
        graphs.extend(
            rows.into_iter()
                .filter_map(|row| lineage.graph_of(step, row)),
        );
    }
    graphs.sort_unstable();
    graphs.dedup();
    graphs
}

/// The `(column, value)` pairs of a DETAIL's `Key (a, b)=(x, y) ...`, as PostgreSQL prints
/// them; `None` for another DETAIL, or when values and columns do not pair up (a value
/// holding `, `).
pub(crate) fn detail_key(detail: &str) -> Option<Vec<(String, String)>> {
    let rest = detail.strip_prefix("Key (")?;
    let (columns, rest) = rest.split_once(")=(")?;
    let values = closing_value_list(rest)?;
    let columns: Vec<&str> = columns.split(", ").collect();
    let values: Vec<&str> = values.split(", ").collect();
    if columns.len() != values.len() {
        return None;
    }
    Some(
        columns
            .into_iter()
            .map(|c| c.trim_matches('"').to_owned())
            .zip(values.into_iter().map(str::to_owned))
            .collect(),
    )
}

/// The text up to the `)` that ends the value list of a key DETAIL: the last `)` before one
/// of the sentences PostgreSQL ends it with.
fn closing_value_list(rest: &str) -> Option<&str> {
    [
        ") already exists.",
        ") is not present in table ",
        ") is still referenced from table ",
    ]
    .iter()
    .filter_map(|end| rest.rfind(end))
    .min()
    .map(|at| &rest[..at])
}

/// The rows (from 0) of step `step` whose bound values of every column of `key` print as
/// `key` does; `None` when a column of `key` is not bound for the step (the graph fills it)
/// or its type is not one compared as text here.
fn rows_with_key(
    step: usize,
    key: &[(String, String)],
    params: &[Param<'_>],
    described: &[ManyParam],
) -> Option<Vec<usize>> {
    let mut columns = Vec::with_capacity(key.len());
    for (column, value) in key {
        let index = described.iter().position(
            |d| matches!(d, ManyParam::Column { step: s, column: c } if *s == step && c == column),
        )?;
        columns.push((printed_elements(params.get(index)?)?, value.as_str()));
    }
    let rows = columns.iter().map(|(values, _)| values.len()).max()?;
    Some(
        (0..rows)
            .filter(|&row| {
                columns.iter().all(|(values, wanted)| {
                    // Trailing NULLs are not sent: a missing element is NULL, which no key holds.
                    values.get(row).and_then(Option::as_deref) == Some(*wanted)
                })
            })
            .collect(),
    )
}

/// Where each row of a many-graph statement's steps hangs: each step's parent step and its
/// rows' parent rows, decoded once from the statement's parameters, so that any row is
/// followed up to its graph without decoding an array again.
pub(crate) struct Lineage {
    /// The root step, whose row `n` is graph `n`.
    root: usize,
    /// Per step with parent ordinals: the step, its parent step, and each row's parent row
    /// (from 0; `None` where the ordinal is missing).
    parents: Vec<(usize, usize, Vec<Option<usize>>)>,
}

impl Lineage {
    /// The lineage of `params` as `described`, `root` the root step; empty (every step but
    /// the root's rows belong to no graph) when `described` does not describe `params`.
    pub(crate) fn new(params: &[Param<'_>], described: &[ManyParam], root: usize) -> Self {
        let parents = if described.len() == params.len() {
            described
                .iter()
                .zip(params)
                .filter_map(|(d, param)| match *d {
                    ManyParam::Parents { step, parent } => {
                        let rows = printed_elements(param)?
                            .into_iter()
                            .map(|o| o?.parse::<usize>().ok()?.checked_sub(1))
                            .collect();
                        Some((step, parent, rows))
                    }
                    _ => None,
                })
                .collect()
        } else {
            Vec::new()
        };
        Self { root, parents }
    }

    /// The graph (from 0) that row `row` of step `step` belongs to: the row itself for the
    /// root step, else its parent row's graph.
    pub(crate) fn graph_of(&self, step: usize, row: usize) -> Option<usize> {
        let (mut step, mut row) = (step, row);
        // Each level is one step up: at most as many as there are steps with parents.
        for _ in 0..=self.parents.len() {
            if step == self.root {
                return Some(row);
            }
            let (_, parent, rows) = self.parents.iter().find(|(s, _, _)| *s == step)?;
            (step, row) = (*parent, (*rows.get(row)?)?);
        }
        None
    }
}

/// The elements of an array parameter as PostgreSQL prints them, `None` for NULL; `None`
/// when the parameter is not an array of a type printed the same by Rust (integers, text,
/// uuid).
fn printed_elements((value, ty): &Param<'_>) -> Option<Vec<Option<String>>> {
    let Kind::Array(member) = ty.kind() else {
        return None;
    };
    let print: fn(&[u8]) -> Option<String> = match *member {
        Type::INT2 => |raw| Some(i16::from_be_bytes(raw.try_into().ok()?).to_string()),
        Type::INT4 => |raw| Some(i32::from_be_bytes(raw.try_into().ok()?).to_string()),
        Type::INT8 => |raw| Some(i64::from_be_bytes(raw.try_into().ok()?).to_string()),
        Type::TEXT | Type::VARCHAR | Type::NAME => {
            |raw| std::str::from_utf8(raw).ok().map(str::to_owned)
        }
        Type::UUID => |raw| {
            let bytes: [u8; 16] = raw.try_into().ok()?;
            let hex: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
            Some(format!(
                "{}-{}-{}-{}-{}",
                &hex[..8],
                &hex[8..12],
                &hex[12..16],
                &hex[16..20],
                &hex[20..]
            ))
        },
        _ => return None,
    };
    let mut encoded = bytes::BytesMut::new();
    match value.to_sql_checked(ty, &mut encoded).ok()? {
        tokio_postgres::types::IsNull::Yes => return Some(Vec::new()),
        tokio_postgres::types::IsNull::No => {}
    }
    array_elements(&encoded)?
        .into_iter()
        .map(|element| match element {
            None => Some(None),
            Some(raw) => print(raw).map(Some),
        })
        .collect()
}

/// The elements of a one-dimensional array in PostgreSQL's binary form (`None` for NULL):
/// the number of dimensions, a flags word and the element type, each dimension's length
/// and lower bound, then each element's length (-1 for NULL) and bytes.
fn array_elements(encoded: &[u8]) -> Option<Vec<Option<&[u8]>>> {
    fn word(raw: &[u8], at: usize) -> Option<i32> {
        Some(i32::from_be_bytes(raw.get(at..at + 4)?.try_into().ok()?))
    }
    let dimensions = word(encoded, 0)?;
    if dimensions == 0 {
        return Some(Vec::new());
    }
    if dimensions != 1 {
        return None;
    }
    let count = usize::try_from(word(encoded, 12)?).ok()?;
    let mut at = 20;
    let mut elements = Vec::with_capacity(count);
    for _ in 0..count {
        let length = word(encoded, at)?;
        at += 4;
        if length < 0 {
            elements.push(None);
            continue;
        }
        let length = usize::try_from(length).ok()?;
        elements.push(Some(encoded.get(at..at + length)?));
        at += length;
    }
    Some(elements)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn details_give_their_keys() {
        assert_eq!(
            detail_key("Key (order_id, sku)=(5, A-1) already exists."),
            Some(vec![
                ("order_id".to_owned(), "5".to_owned()),
                ("sku".to_owned(), "A-1".to_owned())
            ])
        );
        assert_eq!(
            detail_key(r#"Key (category_id)=(99) is not present in table "categories"."#),
            Some(vec![("category_id".to_owned(), "99".to_owned())])
        );
        assert_eq!(
            detail_key(r#"Key ("user name")=(a (b)) already exists."#),
            Some(vec![("user name".to_owned(), "a (b)".to_owned())])
        );
        assert_eq!(detail_key("Failing row contains (1, null)."), None);
        // A value holding the separator does not pair up with its column.
        assert_eq!(detail_key("Key (sku)=(a, b) already exists."), None);
    }

    #[test]
    fn many_params_lists_each_parameter() {
        const PARAMS: &[ManyParam] = crate::many_params![0: "email", _; 1: "title", [0]];
        assert_eq!(
            PARAMS,
            [
                ManyParam::Column {
                    step: 0,
                    column: "email"
                },
                ManyParam::Other,
                ManyParam::Column {
                    step: 1,
                    column: "title"
                },
                ManyParam::Parents { step: 1, parent: 0 },
            ]
        );
    }

    #[test]
    fn rows_are_followed_up_to_their_graph() {
        // Step 0 the root (3 graphs), step 1 two rows of graph 3 and one of graph 1, step 2
        // rows under step 1's rows 2 and 3.
        let root_names: Vec<Option<String>> = vec![Some("a".into()), Some("b".into()), None];
        let skus: Vec<Option<String>> = vec![Some("x".into()), Some("y".into()), Some("x".into())];
        let parents: Vec<i64> = vec![3, 3, 1];
        let notes: Vec<String> = vec!["n".into(), "m".into()];
        let note_parents: Vec<i64> = vec![2, 3];
        let params: Vec<Param<'_>> = vec![
            (&root_names, Type::TEXT_ARRAY),
            (&skus, Type::TEXT_ARRAY),
            (&parents, Type::INT8_ARRAY),
            (&notes, Type::TEXT_ARRAY),
            (&note_parents, Type::INT8_ARRAY),
        ];
        let described = [
            ManyParam::Column {
                step: 0,
                column: "name",
            },
            ManyParam::Column {
                step: 1,
                column: "sku",
            },
            ManyParam::Parents { step: 1, parent: 0 },
            ManyParam::Column {
                step: 2,
                column: "note",
            },
            ManyParam::Parents { step: 2, parent: 1 },
        ];
        let key = |column: &str, value: &str| vec![(column.to_owned(), value.to_owned())];
        assert_eq!(
            rows_with_key(1, &key("sku", "x"), &params, &described),
            Some(vec![0, 2])
        );
        let lineage = Lineage::new(&params, &described, 0);
        assert_eq!(lineage.graph_of(1, 0), Some(2));
        assert_eq!(lineage.graph_of(1, 2), Some(0));
        assert_eq!(lineage.graph_of(2, 0), Some(2));
        assert_eq!(lineage.graph_of(2, 1), Some(0));
        assert_eq!(lineage.graph_of(0, 1), Some(1));
        // A column the step does not bind: no rows to match.
        assert_eq!(
            rows_with_key(1, &key("order_id", "5"), &params, &described),
            None
        );
    }
}
