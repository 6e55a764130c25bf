//! The SQL of every generated write, as text fixed at build time. Each statement shape is
//! built in one function below that reads like the statement it makes.
//!
//! Parameters are described by [`Param`], in `$n` order, so the emitter binds exactly what
//! the statement expects. Every identifier is quoted; every value is a parameter.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use crate::ident::quote_ident;
use crate::model::{ColumnModel, Conflict, InsertKind, Model, TableModel};
use crate::model::{GraphModel, StepKind};

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
}

/// A statement and its parameters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Statement {
    /// SQL text.
    pub sql: String,
    /// Parameters in `$1, $2, ...` order.
    pub params: Vec<Param>,
}

/// The statements of one table. Single-row writes use the batch statements with one row:
/// one statement shape per write, whatever the row count.
#[derive(Debug, Clone)]
pub struct TableStatements {
    /// Many rows, one array per column.
    pub insert_many: Statement,
    /// Many rows, `RETURNING` every column, in input order.
    pub insert_many_returning: Statement,
    /// `insert_many` with `ON CONFLICT ... DO UPDATE`, when the table has a conflict key.
    pub upsert_many: Option<Statement>,
    /// `upsert_many` `RETURNING` every column, in input order.
    pub upsert_many_returning: Option<Statement>,
    /// `SELECT` of one row by primary key.
    pub find_by_id: Option<Statement>,
    /// `DELETE` of one row by primary key.
    pub delete_by_id: Option<Statement>,
    /// `UPDATE "t" SET ` (the assignments are added at run time, for the fields a patch
    /// sets), and ` WHERE "pk" = $1` (key parameters come first).
    pub update_by_id: Option<(String, String)>,
    /// `RETURNING` every column, for updates.
    pub returning: String,
}

/// Builds every statement of a table.
pub fn table_statements(model: &TableModel<'_>) -> TableStatements {
    let table = model.table.name.to_sql_quoted();
    let returning = format!(" RETURNING {}", result_columns(model.columns.iter(), ""));
    let InsertRows {
        statement: insert_many,
        rows,
    } = insert_rows(model, &table, &RowsSource::default());
    let with = |s: &Statement, suffix: &str| Statement {
        sql: format!("{}{suffix}", s.sql),
        params: s.params.clone(),
    };
    let on_conflict = model
        .conflict
        .as_ref()
        .map(|c| on_conflict(model, &table, c, &rows));

    let key_where = (!model.primary_key.is_empty()).then(|| {
        model
            .primary_key
            .iter()
            .enumerate()
            .map(|(n, &i)| {
                format!(
                    "{} = ${}",
                    quote_ident(&model.columns[i].column.name),
                    n + 1
                )
            })
            .collect::<Vec<_>>()
            .join(" AND ")
    });
    let key_params: Vec<Param> = model.primary_key.iter().map(|&i| Param::Key(i)).collect();

    TableStatements {
        insert_many_returning: with(&insert_many, &returning),
        upsert_many: on_conflict.as_ref().map(|c| with(&insert_many, c)),
        upsert_many_returning: on_conflict
            .as_ref()
            .map(|c| with(&insert_many, &format!("{c}{returning}"))),
        find_by_id: key_where.as_ref().map(|w| Statement {
            sql: format!(
                "SELECT {} FROM {table} WHERE {w}",
                result_columns(model.columns.iter(), "")
            ),
            params: key_params.clone(),
        }),
        delete_by_id: key_where.as_ref().map(|w| Statement {
            sql: format!("DELETE FROM {table} WHERE {w}"),
            params: key_params.clone(),
        }),
        update_by_id: key_where
            .as_ref()
            .map(|w| (format!("UPDATE {table} SET "), format!(" WHERE {w}"))),
        returning,
        insert_many,
    }
}

/// The columns a statement returns to the client, in table order: `"a", "b"::text` (see
/// `ColumnType::read_as_text`), each prefixed (`root.`).
fn result_columns<'a>(columns: impl Iterator<Item = &'a ColumnModel<'a>>, prefix: &str) -> String {
    columns
        .map(|c| {
            let cast = match (c.ty.read_as_text, c.ty.element.is_some()) {
                (false, _) => "",
                (true, false) => "::text",
                (true, true) => "::text[]",
            };
            format!("{prefix}{}{cast}", quote_ident(&c.column.name))
        })
        .collect::<Vec<_>>()
        .join(", ")
}

/// `"a", "b", "c"`.
fn column_list<'a>(columns: impl Iterator<Item = &'a ColumnModel<'a>>) -> String {
    columns
        .map(|c| quote_ident(&c.column.name))
        .collect::<Vec<_>>()
        .join(", ")
}

/// Where the rows of an insert come from, beyond their own arrays: graph steps number their
/// parameters after the steps before them, join the root, and take some columns from it.
#[derive(Debug, Default)]
struct RowsSource {
    /// Parameters before this statement's (`$first_param + 1` is its first).
    first_param: usize,
    /// Column index → what the column gets instead of the row's value.
    overrides: BTreeMap<usize, ColumnSource>,
    /// Tables joined before the rows (`root, `).
    join: String,
    /// Graph steps: rows come back only as a count, so their input order need not be kept
    /// (no `WITH ORDINALITY ... ORDER BY`, one sort less per step).
    unordered: bool,
    /// Exactly one row, its values bound as scalars (`$1::bigint`, not `UNNEST($1::bigint[])`):
    /// a graph's root. Cheaper to encode, to parse and to plan than one-element arrays.
    one_row: bool,
}

/// A column's value in a graph step, in place of the row's own.
#[derive(Debug, Clone)]
enum ColumnSource {
    /// Always this expression (a child's reference to the root: `root."id"`). The row's own
    /// value is not bound at all.
    Expression(String),
    /// The row's value when given, else this expression (a root column a parent fills:
    /// `(SELECT "id" FROM s0)`).
    Fallback(String),
}

/// Many rows in one statement, one array per column, rows kept in input order:
///
/// ```sql
/// INSERT INTO "t" ("a", "b")
/// SELECT u.c0, COALESCE(u.c1, <default>)
/// FROM UNNEST($1::bigint[], $2::text[]) WITH ORDINALITY AS u(c0, c1, ord) ORDER BY u.ord
/// ```
///
/// An array column travels as all rows' elements in one array plus each row's start and
/// length, and each row takes its slice (`$3[u.s2 + 1 : u.s2 + u.l2]`): UNNEST would
/// flatten an array of arrays.
fn insert_rows(model: &TableModel<'_>, table: &str, source: &RowsSource) -> InsertRows {
    let inserted: Vec<usize> = model
        .columns
        .iter()
        .enumerate()
        .filter(|(_, c)| c.insert.is_some())
        .map(|(i, _)| i)
        .collect();
    let mut params = Vec::new();
    let mut unnest = Vec::new();
    let mut aliases = Vec::new();
    let mut values = Vec::new();
    let number = |params: &Vec<Param>| params.len() + source.first_param;
    // A column filled by an expression binds nothing, unless every column is: then the first
    // one still binds its array, which only carries the row count.
    let expression_only =
        |i: &usize| matches!(source.overrides.get(i), Some(ColumnSource::Expression(_)));
    let carrier = (!source.one_row && inserted.iter().all(expression_only))
        .then(|| inserted.first().copied())
        .flatten();
    let mut rows = RowValues::default();
    for &i in &inserted {
        let column = &model.columns[i];
        if let (Some(ColumnSource::Expression(expression)), false) =
            (source.overrides.get(&i), carrier == Some(i))
        {
            values.push(expression.clone());
            rows.key_values.insert(i, expression.clone());
            continue;
        }
        let flag = (column.insert == Some(InsertKind::NullableDefaulted)).then(|| {
            params.push(Param::Flag(i));
            if source.one_row {
                return format!("${}::boolean", number(&params));
            }
            unnest.push(format!("${}::boolean[]", number(&params)));
            aliases.push(format!("f{i}"));
            format!("u.f{i}")
        });
        let value = match &column.ty.element {
            // One row: the whole value, an array column's too, is one parameter.
            _ if source.one_row => {
                params.push(Param::Value(i));
                format!("${}::{}", number(&params), column.ty.param_sql)
            }
            None => {
                params.push(Param::Value(i));
                unnest.push(format!("${}::{}[]", number(&params), column.ty.param_sql));
                aliases.push(format!("c{i}"));
                format!("u.c{i}")
            }
            Some(element) => {
                params.push(Param::Elements(i));
                let elements = format!("${}::{}[]", number(&params), element.param_sql);
                params.push(Param::Starts(i));
                unnest.push(format!("${}::integer[]", number(&params)));
                params.push(Param::Lengths(i));
                unnest.push(format!("${}::integer[]", number(&params)));
                aliases.push(format!("s{i}"));
                aliases.push(format!("l{i}"));
                format!("CASE WHEN u.l{i} IS NULL THEN NULL ELSE ({elements})[u.s{i} + 1 : u.s{i} + u.l{i}] END")
            }
        };
        let value = cast(value, column.ty.cast_to.as_deref());
        if !source.overrides.contains_key(&i) {
            let set_when = match (column.insert, &column.ty.element) {
                (Some(InsertKind::NullableDefaulted), _) => flag.clone(),
                (Some(InsertKind::Defaulted | InsertKind::Nullable), None) => {
                    Some(format!("u.c{i} IS NOT NULL"))
                }
                (Some(InsertKind::Defaulted | InsertKind::Nullable), Some(_)) => {
                    Some(format!("u.l{i} IS NOT NULL"))
                }
                _ => None,
            };
            if let Some(set_when) = set_when {
                rows.set_when.insert(i, set_when);
            }
        }
        let sequence_filled = column.column.serial || column.column.identity.is_some();
        let key_value = if sequence_filled {
            // Another draw from the sequence could never match a stored key.
            Some(value.clone())
        } else {
            None
        };
        let value = match source.overrides.get(&i) {
            Some(ColumnSource::Expression(expression)) => expression.clone(),
            Some(ColumnSource::Fallback(fallback)) => match (column.insert, &column.default_sql) {
                (Some(InsertKind::Defaulted), Some(default)) => {
                    format!("COALESCE({value}, {fallback}, {default})")
                }
                _ => format!("COALESCE({value}, {fallback})"),
            },
            _ => with_default(column, value, flag),
        };
        rows.key_values
            .insert(i, key_value.unwrap_or_else(|| value.clone()));
        values.push(value);
    }
    let columns = column_list(inserted.iter().map(|&i| &model.columns[i]));
    if source.one_row {
        let from = source.join.trim_end_matches(", ");
        let from = if from.is_empty() {
            String::new()
        } else {
            format!(" FROM {from}")
        };
        return InsertRows {
            statement: Statement {
                sql: format!(
                    "INSERT INTO {table} ({columns}) SELECT {}{from}",
                    values.join(", ")
                ),
                params,
            },
            rows,
        };
    }
    let (ordinality, order_by) = if source.unordered {
        ("", "")
    } else {
        aliases.push("ord".to_owned());
        (" WITH ORDINALITY", " ORDER BY u.ord")
    };
    rows.from = format!(
        "{}UNNEST({}){ordinality} AS u({})",
        source.join,
        unnest.join(", "),
        aliases.join(", ")
    );
    InsertRows {
        statement: Statement {
            sql: format!(
                "INSERT INTO {table} ({columns}) SELECT {} FROM {}{order_by}",
                values.join(", "),
                rows.from
            ),
            params,
        },
        rows,
    }
}

/// An insert statement and what an `ON CONFLICT` clause needs to know of its rows.
#[derive(Debug)]
struct InsertRows {
    /// The `INSERT ... SELECT`.
    statement: Statement,
    /// The rows as the insert reads them.
    rows: RowValues,
}

/// The rows of an insert, for an `ON CONFLICT` clause that asks which rows set a column.
#[derive(Debug, Default)]
struct RowValues {
    /// `root, UNNEST(...) AS u(...)`: the rows' source, with the aliases the expressions
    /// below use.
    from: String,
    /// Column index → the value a row's key column has (`u.c2`, `root."id"`).
    key_values: BTreeMap<usize, String>,
    /// Column index → the condition under which a row sets the column (`u.c4 IS NOT NULL`,
    /// `u.f3`); columns every row sets are absent.
    set_when: BTreeMap<usize, String>,
}

/// `value::type` when the parameter's type is not the column's (enums, domains).
fn cast(value: String, cast_to: Option<&str>) -> String {
    match cast_to {
        Some(ty) => format!("{value}::{ty}"),
        None => value,
    }
}

/// What an unset value becomes: the column's default.
fn with_default(column: &ColumnModel<'_>, value: String, flag: Option<String>) -> String {
    let default = column.default_sql.as_deref().unwrap_or("NULL");
    match column.insert {
        Some(InsertKind::Defaulted) => format!("COALESCE({value}, {default})"),
        Some(InsertKind::NullableDefaulted) => {
            format!(
                "CASE WHEN {} THEN {value} ELSE {default} END",
                flag.unwrap_or_else(|| "false".to_owned())
            )
        }
        _ => value,
    }
}

/// ` ON CONFLICT ("k1", "k2") DO UPDATE SET "a" = EXCLUDED."a", "b" = CASE WHEN ... END`.
///
/// A column every row sets is assigned from `EXCLUDED`. A column a row may leave unset is
/// assigned only for the rows that set it, and keeps its stored value for the others:
///
/// ```sql
/// "b" = CASE WHEN (EXCLUDED."k1", EXCLUDED."k2") IN (SELECT u.c0, u.c1 FROM UNNEST(...) AS u(...)
///                                                    WHERE u.c3 IS NOT NULL)
///            THEN EXCLUDED."b" ELSE "t"."b" END
/// ```
///
/// The subquery reads the statement's own parameters, so the text never changes; it is not
/// correlated, so PostgreSQL evaluates it once, as a hash table, on the first conflict. The
/// conflict key picks the row, since two rows of one statement never share a key.
fn on_conflict(
    model: &TableModel<'_>,
    table: &str,
    conflict: &Conflict,
    rows: &RowValues,
) -> String {
    let target = match &conflict.constraint {
        Some(name) => format!("ON CONSTRAINT {}", quote_ident(name)),
        None => format!(
            "({})",
            column_list(conflict.key.iter().map(|&i| &model.columns[i]))
        ),
    };
    let assigned: Vec<usize> = if conflict.update.is_empty() {
        // A no-op update, so that RETURNING returns the existing row and its lock is taken.
        conflict.key.first().copied().into_iter().collect()
    } else {
        conflict.update.clone()
    };
    let excluded_key = conflict
        .key
        .iter()
        .map(|&i| format!("EXCLUDED.{}", quote_ident(&model.columns[i].column.name)))
        .collect::<Vec<_>>()
        .join(", ");
    let row_key: Option<Vec<&String>> = conflict
        .key
        .iter()
        .map(|i| rows.key_values.get(i))
        .collect();
    let sets = assigned
        .iter()
        .map(|&i| {
            let name = quote_ident(&model.columns[i].column.name);
            match (rows.set_when.get(&i), &row_key) {
                (Some(set_when), Some(row_key)) if !conflict.key.contains(&i) => {
                    let row_key = row_key
                        .iter()
                        .map(|s| s.as_str())
                        .collect::<Vec<_>>()
                        .join(", ");
                    format!(
                        "{name} = CASE WHEN ({excluded_key}) IN (SELECT {row_key} FROM {} WHERE {set_when}) \
                         THEN EXCLUDED.{name} ELSE {table}.{name} END",
                        rows.from
                    )
                }
                _ => format!("{name} = EXCLUDED.{name}"),
            }
        })
        .collect::<Vec<_>>()
        .join(", ");
    format!(" ON CONFLICT {target} DO UPDATE SET {sets}")
}

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
    /// `(step index, parameters)` in `$n` order; `None` is the root, whose values are bound
    /// one per column (it is always exactly one row).
    pub parts: Vec<(Option<usize>, Vec<Param>)>,
}

/// A whole insert graph as one statement of data-modifying CTEs (see SQL-SHAPES): parents,
/// unrelated rows, the root, children and after-steps, each inserting the rows its
/// parameters carry. An absent optional part binds empty arrays and inserts nothing, so the
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
pub fn graph_statement(model: &Model<'_>, graph: &GraphModel) -> GraphStatement {
    let root_model = &model.tables[graph.root];
    let mut before = Vec::new();
    let mut after = Vec::new();
    let mut parts = Vec::new();
    let mut first_param = 0;
    let mut root_overrides = BTreeMap::new();

    let step_cte = |index: usize,
                    ctes: &mut Vec<String>,
                    parts: &mut Vec<(Option<usize>, Vec<Param>)>,
                    first_param: &mut usize| {
        let step = &graph.steps[index];
        let table = &model.tables[step.table];
        let mut source = RowsSource {
            first_param: *first_param,
            unordered: true,
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
            rows,
        } = insert_rows(table, &table_name, &source);
        if step.upsert {
            if let Some(conflict) = &table.conflict {
                statement
                    .sql
                    .push_str(&on_conflict(table, &table_name, conflict, &rows));
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
        ctes.push(format!("s{index} AS ({})", statement.sql));
        parts.push((Some(index), statement.params));
    };

    for (index, step) in graph
        .steps
        .iter()
        .enumerate()
        .filter(|(_, s)| !s.kind.after_root())
    {
        step_cte(index, &mut before, &mut parts, &mut first_param);
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
        one_row: true,
    };
    let root = insert_rows(
        root_model,
        &root_model.table.name.to_sql_quoted(),
        &root_source,
    )
    .statement;
    first_param += root.params.len();
    parts.push((None, root.params));
    for index in (0..graph.steps.len()).filter(|&i| graph.steps[i].kind.after_root()) {
        step_cte(index, &mut after, &mut parts, &mut first_param);
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
        format!("WITH {} SELECT {selected} FROM root", ctes.join(", "))
    };
    let mut returned = vec![result_columns(root_model.columns.iter(), "root.")];
    returned.extend(counts.iter().cloned());
    GraphStatement {
        sql: statement(&read_by_steps, counts),
        sql_returning: statement(&column_list(root_model.columns.iter()), returned),
        parts,
    }
}

/// The statements of an update graph. The root's part is assembled at run time, because a
/// patch assigns only the columns it sets (so `UPDATE OF` triggers on other columns do not
/// fire); everything after it is fixed text, and its parameters come before the root's
/// assignments so their numbers never change.
#[derive(Debug, Clone)]
pub struct UpdateGraphStatement {
    /// `SELECT 1 FROM "t" WHERE "id" = $1 FOR UPDATE`: the lock taken before the graph.
    pub lock: String,
    /// `UPDATE "t" SET ` — assignments follow, numbered after every child parameter.
    pub root_update: String,
    /// ` WHERE "id" = $1 RETURNING ...` after the assignments.
    pub root_update_tail: String,
    /// The root's part when the patch assigns nothing: an existence check that does not
    /// write the row.
    pub root_select: String,
    /// `), c0_del AS (...), ... SELECT root.*, counts FROM root`.
    pub tail: String,
    /// Parameters after the key, in `$n` order: per child, its flags then its rows.
    pub children: Vec<UpdateChildParams>,
    /// Per child, the result columns (after the root's) whose counts add up to its step.
    pub counts: Vec<Vec<usize>>,
}

/// ` WHERE (SELECT count(*) FROM c0_del) >= 0`: makes a child's insert read its delete's
/// result, so that PostgreSQL runs the delete first. Sibling data-modifying CTEs run in an
/// order PostgreSQL does not promise, and an insert that ran first would conflict with the
/// old rows it replaces (the same key). The scalar subquery is an init plan: it runs the
/// delete to completion before the insert reads its first row.
fn after_delete(index: usize) -> String {
    format!(" WHERE (SELECT count(*) FROM c{index}_del) >= 0")
}

/// The parameters one child step binds.
#[derive(Debug, Clone)]
pub struct UpdateChildParams {
    /// `$n::boolean`: the field is `Some` (the step runs).
    pub active: bool,
    /// `$n::boolean`: has_one `Some(None)` (delete the child).
    pub delete: bool,
    /// The rows' columns.
    pub rows: Vec<Param>,
}

/// An update graph as one statement (seed design §6.2, §7; SQL-SHAPES): the root's UPDATE
/// (or existence check), then per child its strategy, each joined to `root` so that a
/// missing root touches nothing:
///
/// ```sql
/// WITH root AS (UPDATE "orders" SET "note" = $6 WHERE "id" = $1 RETURNING ...),
///  c0_up AS (INSERT INTO "order_items" (...) SELECT root."id", ... FROM root, UNNEST($3, ...) ...
///            ON CONFLICT ("order_id", "sku") DO UPDATE SET "qty" = EXCLUDED."qty" RETURNING "sku"),
///  c0_del AS (DELETE FROM "order_items" AS c USING root WHERE $2 AND c."order_id" = root."id"
///             AND NOT EXISTS (SELECT 1 FROM c0_up AS u WHERE u."sku" = c."sku") RETURNING 1)
/// SELECT root.*, (SELECT count(*) FROM c0_up), (SELECT count(*) FROM c0_del) FROM root
/// ```
///
/// A replace's insert reads its delete's count (see `after_delete`), so the delete runs
/// first whatever order the final SELECT reads the counts in. Diff matches keys with `=` (a hash anti
/// join; `IS NOT DISTINCT FROM` would force a nested loop): a key with a NULL never matches,
/// as it never conflicts in a unique index either, so such old children are deleted.
pub fn update_graph_statement(
    model: &Model<'_>,
    graph: &crate::model::UpdateGraphModel,
) -> UpdateGraphStatement {
    use crate::model::Strategy;
    let root = &model.tables[graph.root];
    let root_name = root.table.name.to_sql_quoted();
    let key_where = root
        .primary_key
        .iter()
        .enumerate()
        .map(|(n, &i)| format!("{} = ${}", quote_ident(&root.columns[i].column.name), n + 1))
        .collect::<Vec<_>>()
        .join(" AND ");
    let root_columns = column_list(root.columns.iter());
    let mut first_param = root.primary_key.len();
    let mut ctes = Vec::new();
    let mut children = Vec::new();
    let mut count_names: Vec<Vec<String>> = Vec::new();
    for (index, child) in graph.children.iter().enumerate() {
        let table = &model.tables[child.table];
        let table_name = table.table.name.to_sql_quoted();
        let fk = quote_ident(&table.columns[child.link.0].column.name);
        let root_key = format!(
            "root.{}",
            quote_ident(&root.columns[child.link.1].column.name)
        );
        let mut take = |used: bool| {
            used.then(|| {
                first_param += 1;
                format!("${first_param}::boolean")
            })
        };
        let needs_active = matches!(child.strategy, Strategy::Replace | Strategy::Diff);
        let needs_delete = !child.many && child.strategy == Strategy::Upsert;
        let active = take(needs_active);
        let delete = take(needs_delete);
        let mut source = RowsSource {
            first_param,
            unordered: true,
            ..RowsSource::default()
        };
        source.join = "root, ".to_owned();
        source
            .overrides
            .insert(child.link.0, ColumnSource::Expression(root_key.clone()));
        let InsertRows {
            statement: mut insert,
            rows,
        } = insert_rows(table, &table_name, &source);
        first_param += insert.params.len();
        let mut counts = Vec::new();
        let delete_all = |flag: &str| {
            format!("DELETE FROM {table_name} AS c USING root WHERE {flag} AND c.{fk} = {root_key} RETURNING 1")
        };
        match child.strategy {
            Strategy::Replace => {
                ctes.push(format!(
                    "c{index}_del AS ({})",
                    delete_all(active.as_deref().unwrap_or("false"))
                ));
                ctes.push(format!(
                    "c{index}_ins AS ({}{} RETURNING 1)",
                    insert.sql,
                    after_delete(index)
                ));
                counts.extend([format!("c{index}_del"), format!("c{index}_ins")]);
            }
            Strategy::Append => {
                ctes.push(format!("c{index}_ins AS ({} RETURNING 1)", insert.sql));
                counts.push(format!("c{index}_ins"));
            }
            Strategy::Upsert => {
                if let Some(delete) = &delete {
                    ctes.push(format!("c{index}_del AS ({})", delete_all(delete)));
                    counts.push(format!("c{index}_del"));
                    insert.sql.push_str(&after_delete(index));
                }
                if let Some(conflict) = &table.conflict {
                    insert
                        .sql
                        .push_str(&on_conflict(table, &table_name, conflict, &rows));
                }
                ctes.push(format!("c{index}_up AS ({} RETURNING 1)", insert.sql));
                counts.push(format!("c{index}_up"));
            }
            Strategy::Diff => {
                let mut key = vec![child.link.0];
                key.extend(&child.key);
                let update: Vec<usize> = table
                    .columns
                    .iter()
                    .enumerate()
                    .filter(|(i, c)| {
                        let keeps_identity = table.primary_key.contains(i)
                            || c.column.serial
                            || c.column.identity.is_some();
                        c.insert.is_some() && !key.contains(i) && !keeps_identity
                    })
                    .map(|(i, _)| i)
                    .collect();
                let conflict = Conflict {
                    constraint: None,
                    key: key.clone(),
                    update,
                };
                insert
                    .sql
                    .push_str(&on_conflict(table, &table_name, &conflict, &rows));
                let returned = column_list(child.key.iter().map(|&i| &table.columns[i]));
                ctes.push(format!(
                    "c{index}_up AS ({} RETURNING {returned})",
                    insert.sql
                ));
                let matches = child
                    .key
                    .iter()
                    .map(|&i| {
                        let name = quote_ident(&table.columns[i].column.name);
                        format!("u.{name} = c.{name}")
                    })
                    .collect::<Vec<_>>()
                    .join(" AND ");
                ctes.push(format!(
                    "c{index}_del AS (DELETE FROM {table_name} AS c USING root WHERE {} AND c.{fk} = {root_key} \
                     AND NOT EXISTS (SELECT 1 FROM c{index}_up AS u WHERE {matches}) RETURNING 1)",
                    active.as_deref().unwrap_or("false")
                ));
                counts.extend([format!("c{index}_up"), format!("c{index}_del")]);
            }
        }
        children.push(UpdateChildParams {
            active: needs_active,
            delete: needs_delete,
            rows: insert.params,
        });
        count_names.push(counts);
    }
    let mut select = format!("SELECT {}", result_columns(root.columns.iter(), "root."));
    let mut counts = Vec::new();
    let mut column = root.columns.len();
    for names in &count_names {
        let mut indexes = Vec::new();
        for name in names {
            let _ = write!(select, ", (SELECT count(*) FROM {name})");
            indexes.push(column);
            column += 1;
        }
        counts.push(indexes);
    }
    let tail = if ctes.is_empty() {
        format!(") {select} FROM root")
    } else {
        format!("), {} {select} FROM root", ctes.join(", "))
    };
    UpdateGraphStatement {
        lock: format!("SELECT 1 FROM {root_name} WHERE {key_where} FOR UPDATE"),
        root_update: format!("WITH root AS (UPDATE {root_name} SET "),
        root_update_tail: format!(" WHERE {key_where} RETURNING {root_columns}"),
        root_select: format!(
            "WITH root AS (SELECT {root_columns} FROM {root_name} WHERE {key_where}"
        ),
        tail,
        children,
        counts,
    }
}
