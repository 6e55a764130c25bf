//! Checks generated code runs on a batch's rows before anything is sent, each one line in
//! the generated `columns` / `parts` bodies.

use std::collections::HashMap;
use std::hash::Hash;

use bytes::BytesMut;
use tokio_postgres::types::{to_sql_checked, IsNull, ToSql, Type};

use crate::check::{bad_value, TextValue};
use crate::error::{Error, Result, ValidationError, ValidationKind};

/// `Ok` when PostgreSQL would store `value` in column `column` of `table` (at most
/// `max_chars` characters when `Some`, no NUL byte); else the validation error naming row
/// `row` (0-based) and the column.
pub fn check_text(
    value: &impl TextValue,
    max_chars: Option<usize>,
    table: &str,
    row: usize,
    column: &str,
) -> Result<()> {
    match value.text_problem(max_chars) {
        Some(problem) => Err(bad_value(table, row, column, &problem)),
        None => Ok(()),
    }
}

/// Drops trailing `None`s of a column: UNNEST pads a shorter array with NULLs, so they need
/// not be sent (a column nobody set travels as an empty array).
pub fn trim_nulls<T>(values: &mut Vec<Option<T>>) {
    let keep = values
        .iter()
        .rposition(Option::is_some)
        .map_or(0, |last| last + 1);
    values.truncate(keep);
}

/// Drops trailing `false`s of a "was set" flag column: a NULL flag reads as not set.
pub fn trim_false(flags: &mut Vec<bool>) {
    let keep = flags
        .iter()
        .rposition(|set| *set)
        .map_or(0, |last| last + 1);
    flags.truncate(keep);
}

/// Which of the optional columns `candidates` (by column index, in binding order) is kept
/// whole to carry a batch's row count when the table has no required column: the first one
/// the statement binds (not among `filled`), else the first. The others are trimmed.
pub fn anchor(candidates: &[usize], filled: &[usize]) -> usize {
    candidates
        .iter()
        .position(|index| !filled.contains(index))
        .unwrap_or(0)
}

/// Drops the trailing unset values of an array column's lengths, and its starts with them.
pub fn trim_array(starts: &mut Vec<i32>, lengths: &mut Vec<Option<i32>>) {
    trim_nulls(lengths);
    starts.truncate(lengths.len());
}

/// Appends one row's value of an array column, sent as three arrays: where the row's
/// elements start in `elements`, how many there are (`None`: the value is NULL or unset),
/// and the elements of every row, one after the other. [`ValidationKind::TooManyElements`]
/// when an array, or the batch's elements, pass the 2^31 PostgreSQL binds.
pub fn push_array<T>(
    starts: &mut Vec<i32>,
    lengths: &mut Vec<Option<i32>>,
    elements: &mut Vec<T>,
    value: Option<Vec<T>>,
) -> Result<()> {
    let Some(value) = value else {
        starts.push(0);
        lengths.push(None);
        return Ok(());
    };
    let start = i32::try_from(elements.len())
        .map_err(|_| Error::Validation("a batch has more than 2^31 array elements".into()))?;
    let length = i32::try_from(value.len())
        .map_err(|_| Error::Validation("an array has more than 2^31 elements".into()))?;
    starts.push(start);
    lengths.push(Some(length));
    elements.extend(value);
    Ok(())
}

/// [`ValidationKind::MissingValue`]: graph `graph` takes its root's id from field `field`
/// (`root_id_field`), which was left unset.
pub fn missing_root_id(graph: &str, field: &str) -> Error {
    Error::Validation(ValidationError::new(
        ValidationKind::MissingValue,
        format!("{graph}: the root id `{field}` is not set (root_id_field)"),
    ))
}

/// Where rows whose key repeats came from, which names them in the error message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RepeatedKey {
    /// The rows of one `upsert_many` batch, by the table's conflict key.
    Upsert {
        /// The table, unquoted (`public.order_items`).
        table: &'static str,
        /// The conflict key's columns.
        columns: &'static [&'static str],
    },
    /// The rows of a graph's upsert step, by their table's conflict key.
    GraphConflict {
        /// The graph's type name.
        graph: &'static str,
        /// The graph's field that holds the rows.
        field: &'static str,
        /// The rows' table, unquoted.
        table: &'static str,
        /// The conflict key's columns.
        columns: &'static [&'static str],
    },
    /// The roots of a batch of graphs (`insert_graph_many`), by their table's conflict key.
    GraphRoots {
        /// The graphs' type name.
        graph: &'static str,
        /// The roots' table, unquoted.
        table: &'static str,
        /// The conflict key's columns.
        columns: &'static [&'static str],
    },
    /// The rows of an update graph's diff step, by the key that matches them to the rows
    /// stored.
    GraphDiff {
        /// The graph's type name.
        graph: &'static str,
        /// The graph's field that holds the rows.
        field: &'static str,
        /// The rows' table, unquoted.
        table: &'static str,
        /// The key's columns.
        columns: &'static [&'static str],
    },
}

impl RepeatedKey {
    /// The message of the error, naming the rows and the fix.
    pub fn message(&self) -> String {
        match self {
            RepeatedKey::GraphRoots {
                graph,
                table,
                columns,
            } => format!(
                "{graph}: two graphs of the batch have the same conflict key ({}) of `{table}`; merge them or write them in two calls",
                columns.join(", ")
            ),
            RepeatedKey::Upsert { table, columns } => format!(
                "two rows of `{table}` have the same conflict key ({}); merge them before upserting",
                columns.join(", ")
            ),
            RepeatedKey::GraphConflict {
                graph,
                field,
                table,
                columns,
            } => format!(
                "{graph}: two rows of `{field}` have the same conflict key ({}) of `{table}`; merge them before writing",
                columns.join(", ")
            ),
            RepeatedKey::GraphDiff {
                graph,
                field,
                table,
                columns,
            } => format!(
                "{graph}: two rows of `{field}` have the same key ({}) of `{table}`; merge them before writing",
                columns.join(", ")
            ),
        }
    }
}

/// `Ok` when no two of `rows` have the same key; else [`ValidationKind::RepeatedKey`]
/// described by `repeated`. `key` reads a row's key, or `None` when a part of it is unset
/// (that row takes a DEFAULT or is filled by the graph, and cannot collide).
pub fn check_unique<'r, R: 'r, K: Hash + Eq>(
    rows: impl IntoIterator<Item = &'r R>,
    key: impl Fn(&'r R) -> Option<K>,
    repeated: RepeatedKey,
) -> Result<()> {
    let mut seen = HashMap::new();
    for (index, row) in rows.into_iter().enumerate() {
        if let Some(key) = key(row) {
            if let Some(first) = seen.insert(key, index) {
                let which = match repeated {
                    RepeatedKey::GraphRoots { .. } => "graphs",
                    _ => "rows",
                };
                return Err(Error::Validation(ValidationError::new(
                    ValidationKind::RepeatedKey,
                    format!("{} ({which} {first} and {index})", repeated.message()),
                )));
            }
        }
    }
    Ok(())
}

/// [`ValidationKind::ConflictingParent`]: graph `graph` was given both its `belongs_to`
/// parent row `field` and the parent's id `id_field`.
pub fn conflicting_parent(graph: &str, field: &str, id_field: &str) -> Error {
    Error::Validation(ValidationError::new(
        ValidationKind::ConflictingParent,
        format!(
            "{graph}: `{field}` and `{id_field}` are both set; give the parent or its id, not both"
        ),
    ))
}

/// [`ValidationKind::MissingValue`]: graph `graph` was given neither its required
/// `belongs_to` parent row `field` nor the parent's id `id_field`.
pub fn missing_parent(graph: &str, field: &str, id_field: &str) -> Error {
    Error::Validation(ValidationError::new(
        ValidationKind::MissingValue,
        format!("{graph}: `{field}` is required; set `{field}` or `{id_field}`"),
    ))
}

#[cfg(test)]
mod tests {

    struct Row {
        id: Option<i64>,
        name: String,
        note: Option<Option<String>>,
        tags: Option<Vec<i32>>,
    }

    struct RowColumns {
        c0: Vec<Option<i64>>,
        c1: Vec<String>,
        f2: Vec<bool>,
        c2: Vec<Option<String>>,
        s3: Vec<i32>,
        l3: Vec<Option<i32>>,
        e3: Vec<i32>,
        c4: Vec<Option<i64>>,
    }

    fn split(rows: Vec<Row>, filled: &[usize]) -> crate::Result<RowColumns> {
        crate::columns!(
            RowColumns { c0, c1, f2, c2, s3, l3, e3, c4 } from rows in "t";
            [check "name" name Some(3)] [c0 id] [c1 name] [c2 flat f2 note]
            [array s3 l3 e3 tags] [none c4];
            trim anchor([0, 2, 2, 3, 4], filled) [nulls c0] [false f2] [nulls c2] [array s3 l3] [nulls c4]
        )
    }

    fn row(id: Option<i64>, name: &str, note: Option<Option<&str>>, tags: Option<Vec<i32>>) -> Row {
        Row {
            id,
            name: name.to_owned(),
            note: note.map(|n| n.map(str::to_owned)),
            tags,
        }
    }

    #[test]
    fn columns_pushes_each_rows_values_and_trims_all_but_the_anchor() -> crate::Result<()> {
        let rows = vec![
            row(Some(1), "a", Some(None), Some(vec![5, 6])),
            row(None, "b", None, None),
        ];
        let c = split(rows, &[0])?;
        assert_eq!(c.c0, [Some(1)]);
        assert_eq!(c.c1, ["a", "b"]);
        // The anchor: the first candidate the graph does not fill, kept whole.
        assert_eq!(c.f2, [true, false]);
        assert_eq!(c.c2, Vec::<Option<String>>::new());
        assert_eq!((c.s3, c.l3, c.e3), (vec![0], vec![Some(2)], vec![5, 6]));
        assert_eq!(c.c4, Vec::<Option<i64>>::new());
        Ok(())
    }

    #[test]
    fn columns_checks_each_rows_text_first() {
        let rows = vec![row(None, "abc", None, None), row(None, "abcd", None, None)];
        assert!(split(rows, &[]).is_err());
    }
    use super::{anchor, check_unique, push_array, trim_array, RepeatedKey};
    use crate::ValidationKind;

    #[test]
    fn repeated_keys_name_the_rows_and_unset_keys_never_collide() {
        let rows = [(Some(1), "a"), (None, "a"), (None, "a"), (Some(1), "b")];
        let by_pair = check_unique(
            &rows,
            |row| Some((row.0?, row.1)),
            RepeatedKey::Upsert {
                table: "public.t",
                columns: &["a", "b"],
            },
        );
        assert!(by_pair.is_ok());
        let error = check_unique(
            &rows,
            |row| Some(row.1),
            RepeatedKey::GraphDiff {
                graph: "G",
                field: "items",
                table: "public.t",
                columns: &["b"],
            },
        )
        .err();
        let error = error.map(|e| (e.validation_kind(), e.to_string()));
        assert_eq!(
            error,
            Some((
                Some(ValidationKind::RepeatedKey),
                "invalid write: G: two rows of `items` have the same key (b) of `public.t`; merge them before writing (rows 0 and 1)"
                    .to_owned()
            ))
        );
    }

    #[test]
    fn array_columns_travel_as_starts_lengths_and_elements() -> crate::Result<()> {
        let (mut starts, mut lengths, mut elements) = (Vec::new(), Vec::new(), Vec::new());
        push_array(&mut starts, &mut lengths, &mut elements, Some(vec![1, 2]))?;
        push_array(&mut starts, &mut lengths, &mut elements, Some(vec![]))?;
        push_array(&mut starts, &mut lengths, &mut elements, Some(vec![3]))?;
        push_array(&mut starts, &mut lengths, &mut elements, None)?;
        assert_eq!(
            (&starts, &lengths, &elements),
            (
                &vec![0, 2, 2, 0],
                &vec![Some(2), Some(0), Some(1), None],
                &vec![1, 2, 3]
            )
        );
        trim_array(&mut starts, &mut lengths);
        assert_eq!(
            (starts, lengths),
            (vec![0, 2, 2], vec![Some(2), Some(0), Some(1)])
        );
        Ok(())
    }

    #[test]
    fn the_anchor_is_the_first_column_the_statement_binds() {
        assert_eq!(anchor(&[0, 1, 2], &[]), 0);
        assert_eq!(anchor(&[0, 1, 2], &[0]), 1);
        assert_eq!(anchor(&[0, 1], &[0, 1]), 0);
    }
}

/// NULL, of whatever type its parameter is declared as.
#[derive(Debug)]
struct Null;

impl ToSql for Null {
    fn to_sql(
        &self,
        _ty: &Type,
        _out: &mut BytesMut,
    ) -> std::result::Result<IsNull, Box<dyn std::error::Error + Sync + Send>> {
        Ok(IsNull::Yes)
    }

    fn accepts(_ty: &Type) -> bool {
        true
    }

    to_sql_checked!();
}

/// The value of a one-row step's column, bound as one value (not an array): the row's
/// value in `column`, or NULL when the step has no row or the value was trimmed as unset.
pub fn one_row<T: ToSql + Sync>(column: &[T]) -> &(dyn ToSql + Sync) {
    match column.first() {
        Some(value) => value,
        None => &Null,
    }
}
