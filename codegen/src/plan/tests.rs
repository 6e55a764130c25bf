//! One snapshot per statement shape, on a small schema: the text as the generated code,
//! its docs, `explain` and the server log show it.

use crate::source::SourceFile;
use crate::Input;

use super::{plan, Plan};

const SCHEMA: &str = "\
CREATE TABLE parents (id bigserial PRIMARY KEY, name text NOT NULL UNIQUE, motto text);
CREATE TABLE kids (
    id bigserial PRIMARY KEY,
    parent_id bigint NOT NULL REFERENCES parents (id),
    tag text NOT NULL,
    qty integer NOT NULL DEFAULT 1,
    UNIQUE (parent_id, tag)
);
CREATE TABLE notes (parent_id bigint PRIMARY KEY REFERENCES parents (id), body text);
";

const GRAPHS: &str = r#"
[tables.parents]
conflict_target = ["name"]

[tables.kids]
conflict_target = ["parent_id", "tag"]

[insert.ParentGraph]
root = "parents"

[[insert.ParentGraph.has_many]]
field = "kids"
table = "kids"

[[insert.ParentGraph.has_one]]
field = "memo"
table = "notes"

[insert.KidGraph]
root = "kids"

[[insert.KidGraph.belongs_to]]
field = "parent"
table = "parents"
set_fk = "parent_id"
mode = "upsert_returning"

[insert.ParentRowsGraph]
root = "parents"

[[insert.ParentRowsGraph.has_many]]
field = "kids"
table = "kids"
returning = true

[[insert.ParentRowsGraph.has_one]]
field = "memo"
table = "notes"

[update.ParentDiff]
root = "parents"

[[update.ParentDiff.has_many]]
field = "kids"
table = "kids"
strategy = "diff"
key = ["tag"]

[[update.ParentDiff.has_one]]
field = "memo"
table = "notes"
strategy = "replace"

[update.ParentUpsert]
root = "parents"

[[update.ParentUpsert.has_many]]
field = "kids"
table = "kids"
strategy = "upsert"

[[update.ParentUpsert.has_one]]
field = "memo"
table = "notes"
strategy = "upsert"

[update.ParentAppend]
root = "parents"

[[update.ParentAppend.has_many]]
field = "kids"
table = "kids"
strategy = "append"

[update.ParentWithPatchedKids]
root = "parents"

[[update.ParentWithPatchedKids.has_many]]
field = "kids"
table = "kids"
strategy = "update"
where = "qty > 1"

[[update.ParentWithPatchedKids.has_one]]
field = "memo"
table = "notes"
strategy = "replace"
"#;

/// The plan of the schema and graphs above, and a lookup of a table's statements by name.
fn shapes(check: impl FnOnce(&Plan, &dyn Fn(&str) -> usize)) {
    let input = Input {
        schema: vec![SourceFile::new("schema.sql", SCHEMA)],
        catalog: None,
        graphs: Some(SourceFile::new("graphs.toml", GRAPHS)),
        attributes: Vec::new(),
        ..Input::default()
    };
    let (catalog, config) = match crate::read_inputs(&input) {
        Ok(inputs) => inputs,
        Err(e) => panic!("{e}"),
    };
    let model = match crate::validate::validate(&catalog, &config, input.graphs.as_ref()) {
        Ok(model) => model,
        Err(e) => panic!("{e}"),
    };
    let plan = plan(&model);
    let table = |name: &str| {
        model
            .tables
            .iter()
            .position(|t| t.table.name.to_sql() == format!("public.{name}"))
            .unwrap_or_else(|| panic!("no table {name}"))
    };
    check(&plan, &table);
}

#[test]
fn batch_insert_and_its_on_conflict_tail() {
    shapes(|plan, table| {
        let kids = &plan.tables[table("kids")];
        assert_eq!(
            kids.insert_many.sql,
            r#"INSERT INTO "public"."kids" ("id", "parent_id", "tag", "qty")
SELECT COALESCE(u.c0, nextval('public.kids_id_seq'::regclass)), u.c1, u.c2, COALESCE(u.c3, 1)
FROM UNNEST($1::bigint[], $2::bigint[], $3::text[], $4::integer[]) WITH ORDINALITY AS u(c0, c1, c2, c3, ord)
ORDER BY u.ord"#
        );
        assert_eq!(
            kids.conflict
                .as_ref()
                .map(|c| c.upsert_many_returning.sql.as_str()),
            Some(
                r#"INSERT INTO "public"."kids" ("id", "parent_id", "tag", "qty")
SELECT COALESCE(u.c0, nextval('public.kids_id_seq'::regclass)), u.c1, u.c2, COALESCE(u.c3, 1)
FROM UNNEST($1::bigint[], $2::bigint[], $3::text[], $4::integer[]) WITH ORDINALITY AS u(c0, c1, c2, c3, ord)
ORDER BY u.ord
ON CONFLICT ("parent_id", "tag") DO UPDATE SET "qty" = CASE WHEN (SELECT cardinality($4::integer[]) = COALESCE(GREATEST(cardinality($1::bigint[]), cardinality($2::bigint[]), cardinality($3::text[]), cardinality($4::integer[])), 0)::bigint AND array_position($4::integer[], NULL) IS NULL) OR (EXCLUDED."parent_id", EXCLUDED."tag") IN (SELECT u.c1, u.c2 FROM UNNEST($1::bigint[], $2::bigint[], $3::text[], $4::integer[]) WITH ORDINALITY AS u(c0, c1, c2, c3, ord) WHERE u.c3 IS NOT NULL) THEN EXCLUDED."qty" ELSE "public"."kids"."qty" END
RETURNING "id", "parent_id", "tag", "qty""#
            )
        );
    });
}

#[test]
fn insert_that_skips_on_the_upserts_conflict_key() {
    shapes(|plan, table| {
        let kids = &plan.tables[table("kids")];
        let conflict = kids.conflict.as_ref();
        assert_eq!(
            conflict.map(|c| c.insert_ignore_many.sql.as_str()),
            Some(
                r#"INSERT INTO "public"."kids" ("id", "parent_id", "tag", "qty")
SELECT COALESCE(u.c0, nextval('public.kids_id_seq'::regclass)), u.c1, u.c2, COALESCE(u.c3, 1)
FROM UNNEST($1::bigint[], $2::bigint[], $3::text[], $4::integer[]) WITH ORDINALITY AS u(c0, c1, c2, c3, ord)
ORDER BY u.ord
ON CONFLICT ("parent_id", "tag") DO NOTHING"#
            )
        );
        assert_eq!(
            conflict.map(|c| c.insert_ignore_many_returning.sql.as_str()),
            Some(
                r#"INSERT INTO "public"."kids" ("id", "parent_id", "tag", "qty")
SELECT COALESCE(u.c0, nextval('public.kids_id_seq'::regclass)), u.c1, u.c2, COALESCE(u.c3, 1)
FROM UNNEST($1::bigint[], $2::bigint[], $3::text[], $4::integer[]) WITH ORDINALITY AS u(c0, c1, c2, c3, ord)
ORDER BY u.ord
ON CONFLICT ("parent_id", "tag") DO NOTHING
RETURNING "id", "parent_id", "tag", "qty""#
            )
        );
        // The batch's parameters are the insert's: one columns struct binds all of them.
        assert_eq!(
            conflict.map(|c| c.insert_ignore_many.params.as_slice()),
            Some(kids.insert_many.params.as_slice())
        );
    });
}

#[test]
fn find_delete_and_patch_by_key() {
    shapes(|plan, table| {
        let parents = &plan.tables[table("parents")];
        assert_eq!(
            parents.find_by_id.as_ref().map(|s| s.sql.as_str()),
            Some(
                r#"SELECT "id", "name", "motto"
FROM "public"."parents"
WHERE "id" = $1"#
            )
        );
        assert_eq!(
            parents.delete_by_id.as_ref().map(|s| s.sql.as_str()),
            Some(
                r#"DELETE FROM "public"."parents"
WHERE "id" = $1"#
            )
        );
        assert_eq!(
            parents.update_by_id.as_ref().map(|s| s.shown.as_str()),
            Some(
                r#"UPDATE "public"."parents"
SET "column" = $n, ...
WHERE "id" = $1"#
            )
        );
    });
}

#[test]
fn insert_graph_one_cte_per_line_one_row_steps_as_scalars() {
    shapes(|plan, _| {
        // A one-row upsert (belongs_to) tests its own parameter, without scanning its rows
        // again, and is given when its required value is (`$2::text IS NOT NULL`); an
        // optional one-row step with no required value (has_one) is gated by a boolean. Each
        // step is read in order, which runs them in order, except the last after the root,
        // which runs after the query and counts the rows its parameters give.
        assert_eq!(
            plan.graphs[0].sql,
            r#"WITH s0 AS (INSERT INTO "public"."parents" ("id", "name", "motto") SELECT COALESCE($1::bigint, nextval('public.parents_id_seq'::regclass)), $2::text, $3::text WHERE $2::text IS NOT NULL ON CONFLICT ("name") DO UPDATE SET "motto" = CASE WHEN $3::text IS NOT NULL THEN EXCLUDED."motto" ELSE "public"."parents"."motto" END RETURNING "id"),
     root AS (INSERT INTO "public"."kids" ("id", "parent_id", "tag", "qty") SELECT COALESCE($4::bigint, nextval('public.kids_id_seq'::regclass)), COALESCE($5::bigint, (SELECT "id" FROM s0)), $6::text, COALESCE($7::integer, 1) RETURNING 1)
SELECT (SELECT count(*) FROM s0) FROM root"#
        );
        assert_eq!(
            plan.graphs[1].sql,
            r#"WITH root AS (INSERT INTO "public"."parents" ("id", "name", "motto") SELECT COALESCE($1::bigint, nextval('public.parents_id_seq'::regclass)), $2::text, $3::text RETURNING "id"),
     s0 AS (INSERT INTO "public"."kids" ("id", "parent_id", "tag", "qty") SELECT COALESCE(u.c0, nextval('public.kids_id_seq'::regclass)), root."id", u.c2, COALESCE(u.c3, 1) FROM root, UNNEST($4::bigint[], $5::text[], $6::integer[]) AS u(c0, c2, c3) RETURNING 1),
     s1 AS (INSERT INTO "public"."notes" ("parent_id", "body") SELECT root."id", $8::text FROM root WHERE $7::boolean)
SELECT (SELECT count(*) FROM s0), (CASE WHEN $7::boolean THEN 1 ELSE 0 END)::bigint FROM root"#
        );
    });
}

#[test]
fn update_graph_one_cte_per_strategy_per_line() {
    shapes(|plan, _| {
        // append
        assert_eq!(
            plan.update_graphs[0].shown,
            r#"WITH root AS (UPDATE "public"."parents" SET "column" = $n, ... WHERE "id" = $1 RETURNING "id", "name", "motto"),
     c0_ins AS (INSERT INTO "public"."kids" ("id", "parent_id", "tag", "qty") SELECT COALESCE(u.c0, nextval('public.kids_id_seq'::regclass)), root."id", u.c2, COALESCE(u.c3, 1) FROM root, UNNEST($2::bigint[], $3::text[], $4::integer[]) AS u(c0, c2, c3) RETURNING 1)
SELECT root."id", root."name", root."motto", (SELECT count(*) FROM c0_ins) FROM root"#
        );
        // diff, replace
        assert_eq!(
            plan.update_graphs[1].shown,
            r#"WITH root AS (UPDATE "public"."parents" SET "column" = $n, ... WHERE "id" = $1 RETURNING "id", "name", "motto"),
     c0_up AS (INSERT INTO "public"."kids" ("id", "parent_id", "tag", "qty") SELECT COALESCE(u.c0, nextval('public.kids_id_seq'::regclass)), root."id", u.c2, COALESCE(u.c3, 1) FROM root, UNNEST($3::bigint[], $4::text[], $5::integer[]) AS u(c0, c2, c3) ON CONFLICT ("parent_id", "tag") DO UPDATE SET "qty" = CASE WHEN (SELECT cardinality($5::integer[]) = COALESCE(GREATEST(cardinality($3::bigint[]), cardinality($4::text[]), cardinality($5::integer[])), 0)::bigint AND array_position($5::integer[], NULL) IS NULL) OR (EXCLUDED."parent_id", EXCLUDED."tag") IN (SELECT root."id", u.c2 FROM root, UNNEST($3::bigint[], $4::text[], $5::integer[]) AS u(c0, c2, c3) WHERE u.c3 IS NOT NULL) THEN EXCLUDED."qty" ELSE "public"."kids"."qty" END RETURNING "tag"),
     c0_del AS (DELETE FROM "public"."kids" AS c USING root WHERE $2::boolean AND c."parent_id" = root."id" AND NOT EXISTS (SELECT 1 FROM c0_up AS u WHERE u."tag" = c."tag") RETURNING 1),
     c1_del AS (DELETE FROM "public"."notes" AS c USING root WHERE $6::boolean AND c."parent_id" = root."id" RETURNING 1),
     c1_ins AS (INSERT INTO "public"."notes" ("parent_id", "body") SELECT root."id", u.c1 FROM root, UNNEST($7::text[]) AS u(c1) WHERE (SELECT count(*) FROM c1_del) >= 0 RETURNING 1)
SELECT root."id", root."name", root."motto", (SELECT count(*) FROM c0_up), (SELECT count(*) FROM c0_del), (SELECT count(*) FROM c1_del), (SELECT count(*) FROM c1_ins) FROM root"#
        );
        // upsert, upsert of a has_one
        assert_eq!(
            plan.update_graphs[2].shown,
            r#"WITH root AS (UPDATE "public"."parents" SET "column" = $n, ... WHERE "id" = $1 RETURNING "id", "name", "motto"),
     c0_up AS (INSERT INTO "public"."kids" ("id", "parent_id", "tag", "qty") SELECT COALESCE(u.c0, nextval('public.kids_id_seq'::regclass)), root."id", u.c2, COALESCE(u.c3, 1) FROM root, UNNEST($2::bigint[], $3::text[], $4::integer[]) AS u(c0, c2, c3) ON CONFLICT ("parent_id", "tag") DO UPDATE SET "qty" = CASE WHEN (SELECT cardinality($4::integer[]) = COALESCE(GREATEST(cardinality($2::bigint[]), cardinality($3::text[]), cardinality($4::integer[])), 0)::bigint AND array_position($4::integer[], NULL) IS NULL) OR (EXCLUDED."parent_id", EXCLUDED."tag") IN (SELECT root."id", u.c2 FROM root, UNNEST($2::bigint[], $3::text[], $4::integer[]) AS u(c0, c2, c3) WHERE u.c3 IS NOT NULL) THEN EXCLUDED."qty" ELSE "public"."kids"."qty" END RETURNING 1),
     c1_del AS (DELETE FROM "public"."notes" AS c USING root WHERE $5::boolean AND c."parent_id" = root."id" RETURNING 1),
     c1_up AS (INSERT INTO "public"."notes" ("parent_id", "body") SELECT root."id", u.c1 FROM root, UNNEST($6::text[]) AS u(c1) WHERE (SELECT count(*) FROM c1_del) >= 0 ON CONFLICT ("parent_id") DO UPDATE SET "body" = CASE WHEN (SELECT cardinality($6::text[]) = COALESCE(GREATEST(cardinality($6::text[])), 0)::bigint AND array_position($6::text[], NULL) IS NULL) OR (EXCLUDED."parent_id") IN (SELECT root."id" FROM root, UNNEST($6::text[]) AS u(c1) WHERE u.c1 IS NOT NULL) THEN EXCLUDED."body" ELSE "public"."notes"."body" END RETURNING 1)
SELECT root."id", root."name", root."motto", (SELECT count(*) FROM c0_up), (SELECT count(*) FROM c1_del), (SELECT count(*) FROM c1_up) FROM root"#
        );
    });
}

#[test]
fn update_graph_child_patch_cut_around_its_set_list() {
    shapes(|plan, _| {
        let patched = &plan.update_graphs[3];
        // The fixed text ends where the patch's CTE starts, whose SET list is built at run
        // time; the CTEs after it follow it.
        assert_eq!(patched.tail, "),\n     ");
        let [patch] = &patched.patches[..] else {
            panic!("patches: {:?}", patched.patches);
        };
        assert_eq!(patch.child, 0);
        assert_eq!(
            patch.update,
            r#"c0_upd AS (UPDATE "public"."kids" AS c SET "#
        );
        assert_eq!(
            patch.update_where,
            r#" FROM root WHERE c."parent_id" = root."id" AND EXISTS (SELECT FROM (SELECT c.*) AS w WHERE qty > 1) RETURNING 1)"#
        );
        assert_eq!(patch.skip, "c0_upd AS (SELECT 1 WHERE false)");
        assert_eq!(
            patched.shown,
            r#"WITH root AS (UPDATE "public"."parents" SET "column" = $n, ... WHERE "id" = $1 RETURNING "id", "name", "motto"),
     c0_upd AS (UPDATE "public"."kids" AS c SET "column" = $n, ... FROM root WHERE c."parent_id" = root."id" AND EXISTS (SELECT FROM (SELECT c.*) AS w WHERE qty > 1) RETURNING 1),
     c1_del AS (DELETE FROM "public"."notes" AS c USING root WHERE $2::boolean AND c."parent_id" = root."id" RETURNING 1),
     c1_ins AS (INSERT INTO "public"."notes" ("parent_id", "body") SELECT root."id", u.c1 FROM root, UNNEST($3::text[]) AS u(c1) WHERE (SELECT count(*) FROM c1_del) >= 0 RETURNING 1)
SELECT root."id", root."name", root."motto", (SELECT count(*) FROM c0_upd), (SELECT count(*) FROM c1_del), (SELECT count(*) FROM c1_ins) FROM root"#
        );
        // The patch binds nothing of its own before the root's assignments.
        assert!(patched.children[0].rows.is_empty());
        assert_eq!(patched.counts, [vec![0], vec![1, 2]]);
    });
}

#[test]
fn insert_graph_rows_one_result_row_per_stored_row() {
    shapes(|plan, _| {
        // The returning step's rows are selected first with their keys and ordinals and
        // joined back to them by key; the other step (the memo) is counted only.
        let rows = plan.graphs[2].sql_many_rows.as_ref();
        assert_eq!(
            rows.map(|r| r.sql.as_str()),
            Some(
                r#"WITH root_rows AS MATERIALIZED (SELECT COALESCE(u.c0, nextval('public.parents_id_seq'::regclass)) AS v0, u.c1 AS v1, u.c2 AS v2, u.ord FROM UNNEST($1::bigint[], $2::text[], $3::text[]) WITH ORDINALITY AS u(c0, c1, c2, ord)),
     root AS (INSERT INTO "public"."parents" ("id", "name", "motto") SELECT r.v0, r.v1, r.v2 FROM root_rows r RETURNING "id", "name", "motto"),
     s0_rows AS MATERIALIZED (SELECT COALESCE(u.c0, nextval('public.kids_id_seq'::regclass)) AS v0, p.v0 AS v1, u.c2 AS v2, COALESCE(u.c3, 1) AS v3, u.ord FROM UNNEST($4::bigint[], $5::text[], $6::integer[], $7::bigint[]) WITH ORDINALITY AS u(c0, c2, c3, po, ord) JOIN root_rows p ON p.ord = u.po),
     s0 AS (INSERT INTO "public"."kids" ("id", "parent_id", "tag", "qty") SELECT r.v0, r.v1, r.v2, r.v3 FROM s0_rows r RETURNING "id", "parent_id", "tag", "qty"),
     s1 AS (INSERT INTO "public"."notes" ("parent_id", "body") SELECT p.v0, u.c1 FROM UNNEST($8::text[], $9::bigint[]) AS u(c1, po) JOIN root_rows p ON p.ord = u.po RETURNING 1)
SELECT 0, k.ord, root."id", root."name", root."motto", (SELECT count(*) FROM s0), (SELECT count(*) FROM s1), NULL::bigint, NULL::bigint, NULL::text, NULL::integer FROM root JOIN root_rows k ON (k.v0) = (root."id")
UNION ALL SELECT 2, k.ord, NULL::bigint, NULL::text, NULL::text, NULL::bigint, NULL::bigint, s0."id", s0."parent_id", s0."tag", s0."qty" FROM s0 JOIN s0_rows k ON (k.v0) = (s0."id")
ORDER BY 1, 2"#
            )
        );
        // The kids (step 0) are part 1 of `STEPS` and start at result column 7.
        assert_eq!(rows.map(|r| r.steps.clone()), Some(vec![(0, 1, 7)]));
        // The count form is unchanged by `returning`.
        assert!(!plan.graphs[2].sql_many.contains("s0_rows"));
    });
}
