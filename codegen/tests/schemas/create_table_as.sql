-- Tables made from queries: CREATE TABLE ... AS and SELECT ... INTO, typed as PostgreSQL
-- types their select lists, then given keys; and temporary tables, which never reach the
-- catalog.
CREATE TABLE member (
    id integer PRIMARY KEY,
    handle varchar(40) NOT NULL,
    joined timestamptz(3) NOT NULL,
    score smallint NOT NULL DEFAULT 0,
    balance numeric(12, 2)
);

CREATE TABLE vote (
    member_id integer NOT NULL REFERENCES member (id),
    value integer NOT NULL,
    cast_at timestamptz NOT NULL
);

CREATE TABLE saved (
    member_id integer NOT NULL REFERENCES member (id),
    saved_at timestamptz NOT NULL
);

-- Column references (qualified, aliased, `t.*`), casts, literals, count, max, coalesce,
-- greatest, comparisons, boolean operators and row_number over a join.
CREATE TABLE member_summary AS
SELECT
    m.*,
    m.handle AS name,
    v.value,
    NULL::bigint AS spare,
    m.id::text AS id_text,
    'fixed' AS label,
    42 AS answer,
    4200000000 AS big,
    1.5 AS ratio,
    true AS flag,
    NULL AS nothing,
    count(*) OVER () AS total,
    max(v.cast_at) OVER () AS last_vote,
    coalesce(m.balance, 0) AS balance_or_zero,
    greatest(m.score, 1) AS score_floor,
    v.value > 0 AS positive,
    (v.value > 0 AND m.score < 10) OR m.balance IS NULL AS odd,
    row_number() OVER (PARTITION BY m.id ORDER BY v.cast_at) AS nth
FROM member m
JOIN vote v ON v.member_id = m.id;

ALTER TABLE member_summary ADD PRIMARY KEY (id, nth);

-- A table rebuilt from older ones through a UNION ALL of a derived table, then renamed and
-- given its keys.
CREATE TABLE member_actions_new AS
SELECT
    member_id,
    max(voted) AS voted_at,
    max(saved) AS saved_at,
    max(value) = 1 AS upvote,
    sum(value) AS total,
    count(*) AS actions
FROM (
    SELECT member_id, cast_at AS voted, NULL::timestamptz AS saved, value FROM vote
    UNION ALL
    SELECT member_id, NULL, saved_at, NULL::int FROM saved
) AS actions
GROUP BY member_id;

ALTER TABLE member_actions_new RENAME TO member_actions;
ALTER TABLE member_actions
    ALTER COLUMN member_id SET NOT NULL,
    ADD PRIMARY KEY (member_id),
    ADD FOREIGN KEY (member_id) REFERENCES member (id);

CREATE TABLE handles AS SELECT handle AS who, joined AS since FROM member;

WITH recent AS (SELECT member_id, max(cast_at) AS at FROM vote GROUP BY member_id)
SELECT member_id, at INTO last_votes FROM recent;

-- Temporary tables: their ALTER, INSERT, SELECT INTO and DROP are fine; none is in the
-- catalog.
CREATE TEMP TABLE scratch (id integer);
ALTER TABLE scratch ADD COLUMN note text;
INSERT INTO scratch (id, note) SELECT id, handle FROM member;
CREATE INDEX ON scratch (id);
CREATE TEMPORARY TABLE scratch_copy AS SELECT * FROM scratch;
SELECT id INTO TEMP scratch_ids FROM scratch;
DROP TABLE scratch_copy, scratch_ids;
DROP TABLE scratch;

-- A table built from a view cannot be typed, but it is dropped before the end.
CREATE VIEW member_view AS SELECT id, handle FROM member;
CREATE TABLE member_fast AS SELECT * FROM member_view;
ALTER TABLE member_fast ADD PRIMARY KEY (id);
CREATE INDEX member_fast_handle ON member_fast (handle);
DROP TABLE member_fast;
