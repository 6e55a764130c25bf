-- Defaults that call the schema's own routines unqualified, or name a sequence by
-- 'name'::regclass: PostgreSQL stores the routine and the sequence found by the search path
-- when the default is set, so they mean the same whatever the caller's search_path.
CREATE SCHEMA util;
CREATE SCHEMA archive;

CREATE FUNCTION make_code() RETURNS text LANGUAGE sql AS $$ SELECT 'code-1' $$;
CREATE OR REPLACE FUNCTION make_code() RETURNS text LANGUAGE sql AS $$ SELECT 'code-2' $$;
CREATE FUNCTION random_small(OUT value smallint) LANGUAGE sql AS $$ SELECT 7::smallint $$;
CREATE FUNCTION util.pick(a integer, b integer DEFAULT 0) RETURNS integer
    LANGUAGE sql AS $$ SELECT a + b $$;
CREATE FUNCTION "Label"() RETURNS text LANGUAGE sql AS $$ SELECT 'label' $$;
CREATE FUNCTION gone() RETURNS text LANGUAGE sql AS $$ SELECT 'public' $$;
CREATE FUNCTION archive.gone() RETURNS text LANGUAGE sql AS $$ SELECT 'archive' $$;
DROP FUNCTION IF EXISTS gone(), missing_routine(integer);

CREATE SEQUENCE ticket_seq;
CREATE SEQUENCE "Odd_seq";

SET search_path = public, util, archive;

CREATE TABLE items (
    id integer PRIMARY KEY DEFAULT nextval('ticket_seq'::REGCLASS),
    code text NOT NULL DEFAULT make_code(),
    small smallint DEFAULT random_small(),
    picked integer DEFAULT pick(1, 2) + 1,
    label text DEFAULT upper("Label"()),
    origin text DEFAULT gone(),
    odd bigint DEFAULT nextval('"Odd_seq"'::regclass)
);

-- A routine renamed or moved: the defaults that call it follow it.
CREATE FUNCTION stamp() RETURNS text LANGUAGE sql AS $$ SELECT 'stamp' $$;
ALTER TABLE items ADD COLUMN stamped text DEFAULT stamp();
ALTER FUNCTION stamp() RENAME TO stamp_v2;
ALTER FUNCTION stamp_v2 SET SCHEMA util;
ALTER TABLE items ADD COLUMN stamped_again text DEFAULT stamp_v2();
ALTER TABLE items ALTER COLUMN origin SET DEFAULT lower(gone());
