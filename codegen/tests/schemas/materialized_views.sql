-- Materialized views are not write targets: their indexes, owners and renames are read or
-- skipped, never an error, and their names are taken.
CREATE TABLE scores (
    id bigint PRIMARY KEY,
    player text NOT NULL,
    points integer NOT NULL
);

CREATE MATERIALIZED VIEW totals AS
    SELECT player, sum(points) AS points FROM scores GROUP BY player
WITH NO DATA;

CREATE MATERIALIZED VIEW IF NOT EXISTS recent AS SELECT id, player FROM scores;

-- REFRESH ... CONCURRENTLY needs a unique index.
CREATE UNIQUE INDEX totals_player ON totals (player);
CREATE INDEX ON totals (points);
CREATE INDEX ON recent (lower(player));
ALTER TABLE totals OWNER TO CURRENT_USER;
ALTER MATERIALIZED VIEW recent OWNER TO CURRENT_USER;
REFRESH MATERIALIZED VIEW totals;
REFRESH MATERIALIZED VIEW CONCURRENTLY totals;
DROP INDEX totals_points_idx;
DROP INDEX recent_lower_idx;

-- A renamed view frees its old name and takes the new one.
ALTER MATERIALIZED VIEW recent RENAME TO recent_scores;
CREATE TABLE recent (id bigint PRIMARY KEY);
ALTER MATERIALIZED VIEW IF EXISTS recent_scores OWNER TO CURRENT_USER;
DROP MATERIALIZED VIEW recent_scores;
CREATE TABLE recent_scores (id bigint PRIMARY KEY);
