//! The statements of an update graph.

use std::fmt::Write as _;

use crate::ident::quote_ident;
use crate::model::{
    DiffKey, LinkSync, Links, Model, StepRef, UpdateChild, UpdateGraphModel, UpdateStrategy,
};

use super::insert_graphs::Roots;
use super::rows::{
    cast, column_list, insert_rows, on_conflict, result_columns, ColumnSource, InsertRows,
    RowsSource,
};
use super::Param;

/// The statements of an update graph. The root's part is assembled at run time, because a
/// patch assigns only the columns it sets (so `UPDATE OF` triggers on other columns do not
/// fire), and so is the SET list of each child step that applies a patch (strategy
/// update); everything else is fixed text, and its parameters come before every assignment
/// so their numbers never change.
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
    /// `),\n     c0_del AS (...),\n     ...\nSELECT root.*, counts FROM root`: one CTE per
    /// line, as in an insert graph; up to the first of `patches` when there are any.
    pub tail: String,
    /// The child steps that apply a patch, in statement order, each CTE followed by the
    /// fixed text up to the next one (or the end).
    pub patches: Vec<ChildPatchStatement>,
    /// The whole statement as docs and `explain` show it: the root's UPDATE with a
    /// placeholder assignment ([`super::with_set_placeholder`]), then `tail`, then each
    /// of `patches` with a placeholder assignment.
    pub shown: String,
    /// Parameters after the key, in `$n` order: per child, its flags then its rows.
    pub children: Vec<UpdateChildParams>,
    /// Per child, the result columns whose counts add up to its step, counted from the
    /// first count (after the root's columns).
    pub counts: Vec<Vec<usize>>,
    /// The statement of `update_graph_many`, when the graph has one
    /// ([`UpdateGraphModel::writes_many`]).
    pub many: Option<UpdateManyStatement>,
    /// Per connect (`UpdateGraphModel::connects`): the value its `set_fk` is assigned when
    /// its field is given (`(SELECT "id" FROM b0)`). Its keys are the parameter after the
    /// root's key, one array per connect, before the children's.
    pub connect_values: Vec<String>,
}

/// A child step that applies a patch to the parent's children (strategy update): its CTE
/// around the SET list the patch builds at run time, as the root's, and the fixed text
/// after it. The assignments are numbered after the root's.
#[derive(Debug, Clone)]
pub struct ChildPatchStatement {
    /// Index of the child in `UpdateGraphModel::children`.
    pub child: usize,
    /// `c0_upd AS (UPDATE "t" AS c SET `: the assignments follow.
    pub update: String,
    /// ` FROM root WHERE c."fk" = root."id" ... RETURNING 1)` after the assignments.
    pub update_where: String,
    /// The CTE when the field is `None` or its patch sets no column: it writes no row.
    pub skip: String,
    /// The fixed text after the CTE, up to the next patch's CTE or the end.
    pub then: String,
}

/// Update: the parent's children (that the child's `where` selects) get the patch's
/// assignments, or, when it assigns nothing, a CTE that reads and writes nothing takes its
/// place; `[update, update_where, skip]` of [`ChildPatchStatement`].
fn update_cte(
    index: usize,
    table: &str,
    parent: &str,
    fk: &str,
    parent_key: &str,
    scope: &str,
) -> [String; 3] {
    [
        format!("c{index}_upd AS (UPDATE {table} AS c SET "),
        format!(" FROM {parent} WHERE c.{fk} = {parent_key}{scope} RETURNING 1)"),
        format!("c{index}_upd AS (SELECT 1 WHERE false)"),
    ]
}

/// [`update_cte`] for many roots: each graph's patch is a row of arrays (`s`), numbered by
/// its graph's ordinal (`s.o`), whose SET list the runtime builds from the columns the
/// batch's patches set; each root's children take its own patch:
/// `c0_upd AS (UPDATE "t" AS c SET <assignments> FROM UNNEST(<ordinals, arrays>) AS s(o,
/// <aliases>) JOIN root AS p ON p.ord = s.o WHERE c."fk" = p."id" ... RETURNING 1)`.
fn many_update_cte(
    index: usize,
    table: &str,
    parent: &str,
    fk: &str,
    parent_key: &str,
    scope: &str,
) -> [String; 3] {
    [
        format!("c{index}_upd AS (UPDATE {table} AS c SET "),
        format!(
            ") JOIN {parent} AS p ON p.ord = s.o WHERE c.{fk} = p.{parent_key}{scope} RETURNING 1)"
        ),
        format!("c{index}_upd AS (SELECT 1 WHERE false)"),
    ]
}

/// ` WHERE (SELECT count(*) FROM c0_del) >= 0`: makes a child's insert read its delete's
/// result, so that PostgreSQL runs the delete first. Sibling data-modifying CTEs run in an
/// order PostgreSQL does not promise, and an insert that ran first would conflict with the
/// old rows it replaces (the same key). The scalar subquery is an init plan: it runs the
/// delete to completion before the insert reads its first row.
pub(super) fn after_delete(index: usize) -> String {
    format!(" WHERE (SELECT count(*) FROM c{index}_del) >= 0")
}

/// Replace: delete every old child, then insert the given ones (after the delete, see
/// [`after_delete`]).
fn replace_ctes(index: usize, delete_all: &str, insert: &str) -> [String; 2] {
    [
        format!("c{index}_del AS ({delete_all} RETURNING 1)"),
        format!(
            "c{index}_ins AS ({insert}{after} RETURNING 1)",
            after = after_delete(index)
        ),
    ]
}

/// Append: insert the given children, keep the old ones.
fn append_cte(index: usize, insert: &str) -> String {
    format!("c{index}_ins AS ({insert} RETURNING 1)")
}

/// Upsert: insert the given children, updating those whose conflict key exists; a has_one
/// given as `Some(None)` first deletes the old child (`delete_all`).
fn upsert_ctes(
    index: usize,
    delete_all: Option<&str>,
    insert: &str,
    conflict: &str,
) -> Vec<String> {
    match delete_all {
        Some(delete_all) => vec![
            format!("c{index}_del AS ({delete_all} RETURNING 1)"),
            format!(
                "c{index}_up AS ({insert}{after}{conflict} RETURNING 1)",
                after = after_delete(index)
            ),
        ],
        None => vec![format!("c{index}_up AS ({insert}{conflict} RETURNING 1)")],
    }
}

/// The holes of a diff's two CTEs.
struct DiffCtes<'a> {
    index: usize,
    /// The children's `INSERT ... SELECT`.
    insert: &'a str,
    /// ` ON CONFLICT (key) DO UPDATE SET ...`.
    conflict: &'a str,
    /// The key columns the upsert returns.
    returned: &'a str,
    /// The child table.
    table: &'a str,
    /// Which rows of it are the parent's children the step manages ([`owned_children`]).
    owned: &'a str,
    /// `u."sku" = c."sku" AND ...`.
    matches: &'a str,
    /// The child's `where` ([`scoped`]), or empty.
    scope: &'a str,
}

/// Diff: upsert the given children by their key, then delete the old children whose key was
/// not given.
fn diff_ctes(d: &DiffCtes<'_>) -> [String; 2] {
    let DiffCtes {
        index,
        insert,
        conflict,
        returned,
        table,
        owned,
        matches,
        scope,
    } = d;
    [
        format!("c{index}_up AS ({insert}{conflict} RETURNING {returned})"),
        format!(
            "c{index}_del AS (DELETE FROM {table} AS c {owned}{scope} \
             AND NOT EXISTS (SELECT 1 FROM c{index}_up AS u WHERE {matches}) RETURNING 1)"
        ),
    ]
}

/// The rows of a child table (`c`) that are the children of the parent step's rows for
/// which `flag` holds, after `DELETE FROM <child> AS c `: one root joins its CTE
/// (`USING root WHERE $2::boolean AND c."fk" = root."id"`); many roots name their keys in an
/// array (`WHERE c."fk" = ANY(ARRAY(SELECT root."id" FROM root WHERE <flag>))`), which
/// PostgreSQL reads by the fk's index however stale its estimate of the table's size, where a
/// join with the roots may pick a scan of the whole table.
fn owned_children(
    roots: Roots,
    (parent, flag): (&str, &str),
    fk: &str,
    parent_key: &str,
) -> String {
    match roots {
        Roots::One => format!("USING {parent} WHERE {flag} AND c.{fk} = {parent_key}"),
        Roots::Many => {
            format!("WHERE c.{fk} = ANY(ARRAY(SELECT {parent_key} FROM {parent} WHERE {flag}))")
        }
    }
}

/// ` AND EXISTS (SELECT FROM (SELECT c.*) AS w WHERE <condition>)`: the child's `where`,
/// read against the child row alone, so that its column names mean the child's whatever
/// other tables the statement joins; empty without one.
fn scoped(child: &UpdateChild) -> String {
    child
        .condition
        .as_ref()
        .map(|condition| format!(" AND EXISTS (SELECT FROM (SELECT c.*) AS w WHERE {condition})"))
        .unwrap_or_default()
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
/// first whatever order the final SELECT reads the counts in. An update step is
/// `c0_upd AS (UPDATE "t" AS c SET <the patch's assignments> FROM root WHERE c."fk" =
/// root."id" RETURNING 1)`, its SET list built at run time like the root's. Diff matches keys with `=` (a hash anti
/// join; `IS NOT DISTINCT FROM` would force a nested loop): a key with a NULL never matches,
/// as it never conflicts in a unique index either, so such old children are deleted.
pub(super) fn update_graph_statement(
    model: &Model<'_>,
    graph: &UpdateGraphModel,
) -> UpdateGraphStatement {
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
    // The parents connected by key, looked up before the root: `b<i>`.
    let mut lookups = String::new();
    let mut connect_values = Vec::new();
    for (i, connect) in graph.connects.iter().enumerate() {
        let parent = &model.tables[connect.table];
        first_param += 1;
        let lookup = super::insert_graphs::lookup_sql(
            parent,
            (connect.key, connect.by),
            &connect.tag,
            (first_param, None),
        );
        let _ = write!(lookups, "b{i} AS MATERIALIZED ({lookup}),\n     ");
        connect_values.push(format!(
            "(SELECT {} FROM b{i})",
            quote_ident(&parent.columns[connect.key].column.name)
        ));
    }
    let mut ctes = Vec::new();
    let mut children = Vec::new();
    let mut count_names: Vec<Vec<String>> = Vec::new();
    for (index, child) in graph.children.iter().enumerate() {
        let planned = child_ctes(model, graph, (index, Roots::One), child, &mut first_param);
        ctes.extend(planned.ctes.into_iter().map(Cte::Fixed));
        ctes.extend(planned.patch.map(|patch| Cte::Patch(index, patch)));
        children.push(planned.params);
        count_names.push(planned.counts);
    }
    let mut select = format!("SELECT {}", result_columns(root.columns.iter(), "root."));
    let mut counts = Vec::new();
    let mut column = 0;
    for names in &count_names {
        let mut indexes = Vec::new();
        for name in names {
            let _ = write!(select, ", (SELECT count(*) FROM {name})");
            indexes.push(column);
            column += 1;
        }
        counts.push(indexes);
    }
    let (tail, patches) = tail_text(ctes, &format!("\n{select} FROM root"));
    let root_update = format!("WITH {lookups}root AS (UPDATE {root_name} SET ");
    let root_update_tail = format!(" WHERE {key_where} RETURNING {root_columns}");
    let mut rest = format!("{root_update_tail}{tail}");
    for patch in &patches {
        rest.push_str(&super::with_set_placeholder(
            &patch.update,
            &patch.update_where,
        ));
        rest.push_str(&patch.then);
    }
    UpdateGraphStatement {
        lock: format!("SELECT 1 FROM {root_name} WHERE {key_where} FOR UPDATE"),
        shown: super::with_set_placeholder(&root_update, &rest),
        root_update,
        root_update_tail,
        patches,
        root_select: format!(
            "WITH {lookups}root AS (SELECT {root_columns} FROM {root_name} WHERE {key_where}"
        ),
        tail,
        children,
        counts,
        connect_values,
        many: update_many_statement(model, graph),
    }
}

/// The statement of many update graphs of one kind in one call (`update_graph_many`): the
/// roots' patches as rows of arrays, one array per column that any of them sets, so the
/// root's part is assembled at run time from the columns the batch sets, around fixed text:
///
/// ```sql
/// WITH root_set AS (UPDATE "orders" AS t SET "note" = CASE WHEN s.f0 THEN s.v0 ELSE t."note" END
///                   FROM UNNEST($1::bigint[], $2::boolean[], $7, $8) WITH ORDINALITY AS s(k0, w, f0, v0, ord)
///                   WHERE t."id" = s.k0 AND s.w RETURNING s.ord, t.*),
///      root AS (SELECT * FROM root_set UNION ALL SELECT s.ord, t.* FROM "orders" AS t,
///               UNNEST($1::bigint[], $2::boolean[]) WITH ORDINALITY AS s(k0, w, ord) WHERE t."id" = s.k0 AND NOT s.w),
///      c0_del AS (DELETE FROM "order_items" AS c USING root WHERE root.ord = ANY($3::bigint[]) AND c."order_id" = root."id" RETURNING 1),
///      c0_ins AS (INSERT INTO "order_items" (...) SELECT ..., p."id", ... FROM UNNEST($4::text[], ..., $6::bigint[]) AS u(c2, ..., po)
///                 JOIN root p ON p.ord = u.po WHERE (SELECT count(*) FROM c0_del) >= 0 RETURNING 1)
/// SELECT root.*, (SELECT count(*) FROM c0_del), (SELECT count(*) FROM c0_ins), (<check>) FROM root ORDER BY root.ord
/// ```
///
/// Each root is numbered by its ordinal in the call (`s.ord`, from 1), every child row and
/// flag names its root by it, and the roots come back in input order. A root that sets
/// nothing is only read (`s.w` false), as `update_by_id_graph` reads it. The check fails
/// the whole statement with the root step's NotFound marker and the ordinal of the first
/// root whose key names no row, so that a missing root (also one deleted by another
/// transaction while the statement runs) writes nothing of any graph.
#[derive(Debug, Clone)]
pub struct UpdateManyStatement {
    /// `WITH root_set AS (UPDATE "t" AS t SET `: the assignments follow.
    pub update: String,
    /// ` FROM UNNEST($1::bigint[], $2::boolean[]`: the keys and whether each root writes;
    /// the assignments' arrays follow.
    pub from: String,
    /// `) WITH ORDINALITY AS s(k0, w`: the assignments' aliases follow.
    pub aliases: String,
    /// `, ord) WHERE ... RETURNING ...),\n     root AS (... NOT s.w`: the rest of the root's
    /// part, up to `tail`.
    pub rest: String,
    /// The root's part when no root of the batch sets a column: every root only read.
    pub select: String,
    /// `),\n     <child CTEs>\nSELECT ... FROM root ORDER BY root.ord`.
    pub tail: String,
    /// `SELECT 1 FROM "t" AS t, UNNEST($1::bigint[]) ... ORDER BY <key> FOR UPDATE OF t`: the
    /// lock on every root, taken in key order so that two batches cannot deadlock.
    pub lock: String,
    /// The whole statement as docs and `explain` show it, with a placeholder assignment.
    pub shown: String,
    /// The number of key columns: the first parameters, one array each.
    pub key_columns: usize,
    /// Per connect (`UpdateGraphModel::connects`): the value its `set_fk` is assigned in a
    /// root whose graph gives the connect's field, `(SELECT b.v0 FROM b0 AS b WHERE b.po =
    /// s.ord)`. Its keys and their graphs' ordinals are the two parameters after the write
    /// flags, per connect, before the children's.
    pub connect_values: Vec<String>,
    /// Parameters after the keys and the write flags, in `$n` order: per child, the
    /// ordinals of the roots whose field is given (or whose has_one is deleted), then its
    /// rows, which end with each row's root ordinal.
    pub children: Vec<UpdateChildParams>,
    /// Per child, the result columns whose counts add up to its step, counted from the
    /// first count (after the root's columns).
    pub counts: Vec<Vec<usize>>,
    /// The child steps that apply a patch, in statement order: each CTE up to its SET list,
    /// the text after its arrays (`update_where`), and the fixed text up to the next one or
    /// the end; `tail` ends before the first.
    pub patches: Vec<ChildPatchStatement>,
}

/// The statement of `update_graph_many`, for a graph whose model writes many
/// ([`UpdateGraphModel::writes_many`]); see [`UpdateManyStatement`].
pub(super) fn update_many_statement(
    model: &Model<'_>,
    graph: &UpdateGraphModel,
) -> Option<UpdateManyStatement> {
    if !graph.writes_many {
        return None;
    }
    let root = &model.tables[graph.root];
    let root_name = root.table.name.to_sql_quoted();
    let keys: Vec<&crate::model::ColumnModel<'_>> =
        root.primary_key.iter().map(|&i| &root.columns[i]).collect();
    let key_arrays: Vec<String> = keys
        .iter()
        .enumerate()
        .map(|(n, c)| format!("${}::{}[]", n + 1, c.ty.param_sql))
        .collect();
    let key_aliases: String = (0..keys.len()).map(|n| format!("k{n}, ")).collect();
    // Each key column also `= ANY` of its array: a condition on the root table alone, which
    // PostgreSQL reads by the key's index however many rows it guesses the arrays hold (a
    // prepared statement's generic plan cannot know), where the join alone may be planned
    // as a scan of the whole table.
    let key_match = keys
        .iter()
        .enumerate()
        .map(|(n, c)| {
            let column = quote_ident(&c.column.name);
            format!(
                "t.{column} = {} AND t.{column} = ANY({})",
                cast(format!("s.k{n}"), c.ty.cast_to.as_deref()),
                cast(
                    key_arrays[n].clone(),
                    c.ty.cast_to.as_deref().map(|t| format!("{t}[]")).as_deref()
                )
            )
        })
        .collect::<Vec<_>>()
        .join(" AND ");
    let key_order = keys
        .iter()
        .map(|c| format!("t.{}", quote_ident(&c.column.name)))
        .collect::<Vec<_>>()
        .join(", ");
    let writes = format!("${}::boolean[]", keys.len() + 1);
    let arrays = key_arrays.join(", ");
    let root_columns = root
        .columns
        .iter()
        .map(|c| format!("t.{}", quote_ident(&c.column.name)))
        .collect::<Vec<_>>()
        .join(", ");
    let read = |when: &str| {
        format!(
            "SELECT s.ord, {root_columns} FROM {root_name} AS t, UNNEST({arrays}, {writes}) WITH ORDINALITY AS s({key_aliases}w, ord) WHERE {key_match}{when}"
        )
    };
    let mut first_param = keys.len() + 1;
    // The parents connected by key, looked up before the roots, each key with its graph's
    // ordinal: `b<i>`, read by the root's assignment of its `set_fk`.
    let mut lookups = String::new();
    let mut connect_values = Vec::new();
    for (i, connect) in graph.connects.iter().enumerate() {
        let parent = &model.tables[connect.table];
        let lookup = super::insert_graphs::lookup_sql(
            parent,
            (connect.key, connect.by),
            &connect.tag,
            (first_param + 1, Some(first_param + 2)),
        );
        first_param += 2;
        let _ = write!(lookups, "b{i} AS MATERIALIZED ({lookup}),\n     ");
        connect_values.push(format!(
            "(SELECT b.v{} FROM b{i} AS b WHERE b.po = s.ord)",
            connect.key
        ));
    }
    let mut ctes = Vec::new();
    let mut children = Vec::new();
    let mut count_names: Vec<Vec<String>> = Vec::new();
    for (index, child) in graph.children.iter().enumerate() {
        let planned = child_ctes(model, graph, (index, Roots::Many), child, &mut first_param);
        ctes.extend(planned.ctes.into_iter().map(Cte::Fixed));
        ctes.extend(planned.patch.map(|patch| Cte::Patch(index, patch)));
        children.push(planned.params);
        count_names.push(planned.counts);
    }
    let mut select = format!("SELECT {}", result_columns(root.columns.iter(), "root."));
    let mut counts = Vec::new();
    let mut column = 0;
    for names in &count_names {
        let mut indexes = Vec::new();
        for name in names {
            let _ = write!(select, ", (SELECT count(*) FROM {name})");
            indexes.push(column);
            column += 1;
        }
        counts.push(indexes);
    }
    let marker = crate::validate::sql_string(&format!("writegraph:not_found:{}:", graph.root_tag));
    let _ = write!(
        select,
        ", (SELECT (({marker} || s.ord::text)::integer) FROM UNNEST({arrays}) WITH ORDINALITY AS s({key_aliases}ord) \
         WHERE NOT EXISTS (SELECT FROM root AS r WHERE r.ord = s.ord) LIMIT 1) FROM root ORDER BY root.ord"
    );
    let (tail, patches) = tail_text(ctes, &format!("\n{select}"));
    let update = format!("WITH {lookups}root_set AS (UPDATE {root_name} AS t SET ");
    let from = format!(" FROM UNNEST({arrays}, {writes}");
    let aliases = format!(") WITH ORDINALITY AS s({key_aliases}w");
    let rest = format!(
        ", ord) WHERE {key_match} AND s.w RETURNING s.ord, {root_columns}),\n     root AS (SELECT * FROM root_set UNION ALL {}",
        read(" AND NOT s.w")
    );
    let mut shown = format!(
        "{}{from}, $n, ...{aliases}, v0, ...{rest}{tail}",
        super::with_set_placeholder(&update, "")
    );
    for patch in &patches {
        shown.push_str(&super::with_set_placeholder(
            &patch.update,
            &format!(
                " FROM UNNEST($n, ...) AS s(o, v0, ...{}",
                patch.update_where
            ),
        ));
        shown.push_str(&patch.then);
    }
    Some(UpdateManyStatement {
        lock: format!(
            "SELECT 1 FROM {root_name} AS t, UNNEST({arrays}) AS s({}) WHERE {key_match} ORDER BY {key_order} FOR UPDATE OF t",
            key_aliases.trim_end_matches(", ")
        ),
        select: format!("WITH {lookups}root AS ({}", read("")),
        connect_values,
        update,
        from,
        aliases,
        rest,
        tail,
        shown,
        key_columns: keys.len(),
        children,
        counts,
        patches,
    })
}

/// A CTE of the statement after the root's: fixed text, or a child's patch (by the child's
/// index) whose SET list is built at run time.
enum Cte {
    /// A CTE as it is sent.
    Fixed(String),
    /// Child `.0`'s `[update, update_where, skip]` ([`update_cte`]).
    Patch(usize, [String; 3]),
}

/// The text after the root's part: `),`, the CTEs one per line, then `end` (the final
/// SELECT). The text up to the first patch, and each patch with the text after it.
fn tail_text(ctes: Vec<Cte>, end: &str) -> (String, Vec<ChildPatchStatement>) {
    if ctes.is_empty() {
        return (format!("){end}"), Vec::new());
    }
    let mut tail = String::from("),\n     ");
    let mut patches: Vec<ChildPatchStatement> = Vec::new();
    for (i, cte) in ctes.into_iter().enumerate() {
        let text = patches.last_mut().map_or(&mut tail, |p| &mut p.then);
        if i > 0 {
            text.push_str(",\n     ");
        }
        match cte {
            Cte::Fixed(cte) => text.push_str(&cte),
            Cte::Patch(child, [update, update_where, skip]) => {
                patches.push(ChildPatchStatement {
                    child,
                    update,
                    update_where,
                    skip,
                    then: String::new(),
                });
            }
        }
    }
    patches
        .last_mut()
        .map_or(&mut tail, |p| &mut p.then)
        .push_str(end);
    (tail, patches)
}

/// One child's CTEs, named `c<index>_*`.
struct ChildCtes {
    /// The CTEs of fixed text, in the order they are written.
    ctes: Vec<String>,
    /// Strategy update: its CTE, whose SET list is built at run time (`update_cte`).
    patch: Option<[String; 3]>,
    /// The child's parameters.
    params: UpdateChildParams,
    /// The CTEs whose rows the final SELECT counts, in its column order.
    counts: Vec<String>,
}

/// The CTEs of one child by its strategy, joined to its parent step's CTE, with parameters
/// numbered after `first_param` (which grows by the child's own): the flags that say whether
/// the field is given (replace, diff) or deletes a has_one (upsert), then the rows.
fn child_ctes(
    model: &Model<'_>,
    graph: &UpdateGraphModel,
    (index, roots): (usize, Roots),
    child: &UpdateChild,
    first_param: &mut usize,
) -> ChildCtes {
    let table = &model.tables[child.table];
    let table_name = table.table.name.to_sql_quoted();
    let parent_model = &model.tables[graph.table_of(child.parent)];
    let parent = cte_name(graph, child.parent);
    let (column, parent_column) = child.takes_parent_column;
    let fk = quote_ident(&table.columns[column].column.name);
    let parent_key = format!(
        "{parent}.{}",
        quote_ident(&parent_model.columns[parent_column].column.name)
    );
    let scope = scoped(child);
    if matches!(child.strategy, UpdateStrategy::Update) {
        let patch = match roots {
            Roots::One => update_cte(index, &table_name, &parent, &fk, &parent_key, &scope),
            Roots::Many => many_update_cte(
                index,
                &table_name,
                &parent,
                &fk,
                &quote_ident(&parent_model.columns[parent_column].column.name),
                &scope,
            ),
        };
        return ChildCtes {
            ctes: Vec::new(),
            patch: Some(patch),
            params: UpdateChildParams {
                active: false,
                delete: false,
                rows: Vec::new(),
            },
            counts: vec![format!("c{index}_upd")],
        };
    }
    if let UpdateStrategy::Links(links) = &child.strategy {
        let join = (
            table_name.as_str(),
            fk.as_str(),
            parent.as_str(),
            parent_key.as_str(),
        );
        return match roots {
            Roots::One => links_ctes(model, (index, child, links), join, first_param),
            Roots::Many => many_links_ctes(model, (index, child, links), join, first_param),
        };
    }
    // One root: whether the field is given is a `boolean`; many: the ordinals of the roots
    // whose field is, and each row names its root by ordinal.
    let mut take = |used: bool| {
        used.then(|| {
            *first_param += 1;
            match roots {
                Roots::One => format!("${}::boolean", *first_param),
                Roots::Many => format!("{parent}.ord = ANY(${}::bigint[])", *first_param),
            }
        })
    };
    let needs_active = matches!(
        child.strategy,
        UpdateStrategy::Replace | UpdateStrategy::Diff(_)
    );
    let needs_delete = !child.many && matches!(child.strategy, UpdateStrategy::Upsert);
    let active = take(needs_active);
    let delete = take(needs_delete);
    let mut source = RowsSource {
        first_param: *first_param,
        unordered: true,
        ..RowsSource::default()
    };
    source.in_cte = true;
    let row_parent_key = match roots {
        Roots::One => {
            source.join = format!("{parent}, ");
            parent_key.clone()
        }
        Roots::Many => {
            source.parent_rows = Some(parent.clone());
            format!(
                "p.{}",
                quote_ident(&parent_model.columns[parent_column].column.name)
            )
        }
    };
    source
        .overrides
        .insert(column, ColumnSource::Expression(row_parent_key));
    let InsertRows {
        statement: insert,
        rows,
        ..
    } = insert_rows(table, &table_name, &source);
    *first_param += insert.params.len();
    let mut counts = Vec::new();
    let mut ctes = Vec::new();
    let owned = |flag: &str| owned_children(roots, (&parent, flag), &fk, &parent_key);
    let delete_all = |flag: &str| format!("DELETE FROM {table_name} AS c {}{scope}", owned(flag));
    match &child.strategy {
        UpdateStrategy::Replace => {
            ctes.extend(replace_ctes(
                index,
                &delete_all(active.as_deref().unwrap_or("false")),
                &insert.sql,
            ));
            counts.extend([format!("c{index}_del"), format!("c{index}_ins")]);
        }
        UpdateStrategy::Append => {
            ctes.push(append_cte(index, &insert.sql));
            counts.push(format!("c{index}_ins"));
        }
        UpdateStrategy::Upsert => {
            let conflict = table
                .conflict
                .as_ref()
                .map(|c| on_conflict(table, &table_name, c, &rows, " "))
                .unwrap_or_default();
            let delete = delete.as_deref().map(delete_all);
            ctes.extend(upsert_ctes(
                index,
                delete.as_deref(),
                &insert.sql,
                &conflict,
            ));
            if delete.is_some() {
                counts.push(format!("c{index}_del"));
            }
            counts.push(format!("c{index}_up"));
        }
        UpdateStrategy::Diff(DiffKey { key, conflict }) => {
            let conflict = on_conflict(table, &table_name, conflict, &rows, " ");
            // Many roots: the old children of each root match the given ones of that root.
            let matched: Vec<usize> = match roots {
                Roots::One => key.clone(),
                Roots::Many => std::iter::once(column).chain(key.iter().copied()).collect(),
            };
            let returned = column_list(matched.iter().map(|&i| &table.columns[i]));
            let matches = matched
                .iter()
                .map(|&i| {
                    let name = quote_ident(&table.columns[i].column.name);
                    format!("u.{name} = c.{name}")
                })
                .collect::<Vec<_>>()
                .join(" AND ");
            ctes.extend(diff_ctes(&DiffCtes {
                index,
                insert: &insert.sql,
                conflict: &conflict,
                returned: &returned,
                table: &table_name,
                owned: &owned(active.as_deref().unwrap_or("false")),
                matches: &matches,
                scope: &scope,
            }));
            counts.extend([format!("c{index}_up"), format!("c{index}_del")]);
        }
        UpdateStrategy::Update | UpdateStrategy::Links(_) => {}
    }
    ChildCtes {
        ctes,
        patch: None,
        params: UpdateChildParams {
            active: needs_active,
            delete: needs_delete,
            rows: insert.params,
        },
        counts,
    }
}

/// A many_to_many step's CTEs: the far rows its keys name, looked up as a connect_by does
/// (a key that names no row fails with the step's NotFound marker), then the join rows
/// that follow them. `set` deletes the links to rows not given (when the field is given:
/// `$n::boolean`) and inserts the missing ones; `add` inserts the missing ones; `remove`
/// deletes the given ones. Only join rows are written:
///
/// ```sql
/// c0_want AS MATERIALIZED (SELECT CASE WHEN t."id" IS NULL THEN (<marker> ...) ELSE t."id" END AS "id" FROM unnest($3::text[]) AS w(k) LEFT JOIN "tags" t ON t."name" = w.k),
/// c0_del AS (DELETE FROM "article_tags" AS c USING root WHERE $2::boolean AND c."article_id" = root."id" AND NOT EXISTS (SELECT FROM c0_want AS w WHERE w."id" = c."tag_id") RETURNING 1),
/// c0_ins AS (INSERT INTO "article_tags" ("article_id", "tag_id") SELECT DISTINCT root."id", w."id" FROM root, c0_want AS w WHERE NOT EXISTS (SELECT FROM "article_tags" AS c WHERE c."article_id" = root."id" AND c."tag_id" = w."id") ON CONFLICT DO NOTHING RETURNING 1)
/// ```
///
/// The insert's `NOT EXISTS` and `ON CONFLICT DO NOTHING` keep a link that exists, or that
/// a concurrent write just made, once.
fn links_ctes(
    model: &Model<'_>,
    (index, child, links): (usize, &UpdateChild, &Links),
    (join, fk, parent, parent_key): (&str, &str, &str, &str),
    first_param: &mut usize,
) -> ChildCtes {
    let far = &model.tables[links.far];
    let active = (links.sync == LinkSync::Set).then(|| {
        *first_param += 1;
        format!("${}::boolean", *first_param)
    });
    *first_param += 1;
    let lookup = super::insert_graphs::lookup_sql(
        far,
        (links.key, links.by),
        &child.tag,
        (*first_param, None),
    );
    let key = quote_ident(&far.columns[links.key].column.name);
    let far_fk = quote_ident(&model.tables[child.table].columns[links.far_fk].column.name);
    let want = format!("c{index}_want");
    let mut ctes = vec![format!("{want} AS MATERIALIZED ({lookup})")];
    let insert = format!(
        "c{index}_ins AS (INSERT INTO {join} ({fk}, {far_fk}) SELECT DISTINCT {parent_key}, w.{key} FROM {parent}, {want} AS w \
         WHERE NOT EXISTS (SELECT FROM {join} AS c WHERE c.{fk} = {parent_key} AND c.{far_fk} = w.{key}) ON CONFLICT DO NOTHING RETURNING 1)"
    );
    let delete = |given: &str, when: &str| {
        format!(
            "c{index}_del AS (DELETE FROM {join} AS c USING {parent} WHERE {when}c.{fk} = {parent_key} \
             AND {given} (SELECT FROM {want} AS w WHERE w.{key} = c.{far_fk}) RETURNING 1)"
        )
    };
    let counts = match (links.sync, &active) {
        (LinkSync::Set, Some(active)) => {
            ctes.push(delete("NOT EXISTS", &format!("{active} AND ")));
            ctes.push(insert);
            vec![format!("c{index}_del"), format!("c{index}_ins")]
        }
        (LinkSync::Remove, _) => {
            ctes.push(delete("EXISTS", ""));
            vec![format!("c{index}_del")]
        }
        _ => {
            ctes.push(insert);
            vec![format!("c{index}_ins")]
        }
    };
    ChildCtes {
        ctes,
        patch: None,
        params: UpdateChildParams {
            active: active.is_some(),
            delete: false,
            rows: vec![Param::Value(links.by)],
        },
        counts,
    }
}

/// [`links_ctes`] for many roots: each key carries its root's ordinal (`w.po`), so each root
/// keeps, gains or loses the links its own keys name. `set` deletes, for the roots whose field
/// is given (`root.ord = ANY($n::bigint[])`), the links their keys do not name:
///
/// ```sql
/// c0_want AS MATERIALIZED (SELECT CASE WHEN t."id" IS NULL THEN (<marker> ...) ELSE t."id" END AS v0, w.po FROM unnest($4::text[], $5::bigint[]) AS w(k, po) LEFT JOIN "tags" t ON t."name" = w.k),
/// c0_del AS (DELETE FROM "article_tags" AS c WHERE c."article_id" = ANY(ARRAY(SELECT root."id" FROM root WHERE root.ord = ANY($3::bigint[]))) AND NOT EXISTS (SELECT FROM c0_want AS w JOIN root AS r ON r.ord = w.po WHERE r."id" = c."article_id" AND w.v0 = c."tag_id") RETURNING 1),
/// c0_ins AS (INSERT INTO "article_tags" ("article_id", "tag_id") SELECT DISTINCT p."id", w.v0 FROM c0_want AS w JOIN root AS p ON p.ord = w.po WHERE NOT EXISTS (...) ON CONFLICT DO NOTHING RETURNING 1)
/// ```
fn many_links_ctes(
    model: &Model<'_>,
    (index, child, links): (usize, &UpdateChild, &Links),
    (join, fk, parent, parent_key): (&str, &str, &str, &str),
    first_param: &mut usize,
) -> ChildCtes {
    let far = &model.tables[links.far];
    let active = (links.sync == LinkSync::Set).then(|| {
        *first_param += 1;
        format!("{parent}.ord = ANY(${}::bigint[])", *first_param)
    });
    let keys = *first_param + 1;
    *first_param += 2;
    let lookup = super::insert_graphs::lookup_sql(
        far,
        (links.key, links.by),
        &child.tag,
        (keys, Some(keys + 1)),
    );
    let key = format!("v{}", links.key);
    let far_fk = quote_ident(&model.tables[child.table].columns[links.far_fk].column.name);
    let root_key = parent_key
        .strip_prefix(&format!("{parent}."))
        .unwrap_or(parent_key);
    let want = format!("c{index}_want");
    let mut ctes = vec![format!("{want} AS MATERIALIZED ({lookup})")];
    let insert = format!(
        "c{index}_ins AS (INSERT INTO {join} ({fk}, {far_fk}) SELECT DISTINCT p.{root_key}, w.{key} FROM {want} AS w JOIN {parent} AS p ON p.ord = w.po \
         WHERE NOT EXISTS (SELECT FROM {join} AS c WHERE c.{fk} = p.{root_key} AND c.{far_fk} = w.{key}) ON CONFLICT DO NOTHING RETURNING 1)"
    );
    let named = format!(
        "(SELECT FROM {want} AS w JOIN {parent} AS r ON r.ord = w.po WHERE r.{root_key} = c.{fk} AND w.{key} = c.{far_fk})"
    );
    let counts = match (links.sync, &active) {
        (LinkSync::Set, Some(active)) => {
            let owned = owned_children(Roots::Many, (parent, active), fk, parent_key);
            ctes.push(format!(
                "c{index}_del AS (DELETE FROM {join} AS c {owned} AND NOT EXISTS {named} RETURNING 1)"
            ));
            ctes.push(insert);
            vec![format!("c{index}_del"), format!("c{index}_ins")]
        }
        (LinkSync::Remove, _) => {
            let owned = owned_children(Roots::Many, (parent, "true"), fk, parent_key);
            ctes.push(format!(
                "c{index}_del AS (DELETE FROM {join} AS c {owned} AND EXISTS {named} RETURNING 1)"
            ));
            vec![format!("c{index}_del")]
        }
        _ => {
            ctes.push(insert);
            vec![format!("c{index}_ins")]
        }
    };
    ChildCtes {
        ctes,
        patch: None,
        params: UpdateChildParams {
            active: active.is_some(),
            delete: false,
            rows: vec![Param::Value(links.by), Param::ParentOrdinal],
        },
        counts,
    }
}

/// The CTE that writes a step's rows, which the steps linked to it read: the root's, or a
/// child's insert, upsert or update.
fn cte_name(graph: &UpdateGraphModel, step: StepRef) -> String {
    match step {
        StepRef::Root => "root".to_owned(),
        StepRef::Step(index) => match graph.children[index].strategy {
            UpdateStrategy::Replace | UpdateStrategy::Append => format!("c{index}_ins"),
            UpdateStrategy::Upsert | UpdateStrategy::Diff(_) => format!("c{index}_up"),
            UpdateStrategy::Update => format!("c{index}_upd"),
            UpdateStrategy::Links(_) => format!("c{index}_ins"),
        },
    }
}
