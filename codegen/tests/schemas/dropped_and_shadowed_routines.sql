-- Routines dropped with CASCADE take the defaults that call them, and a routine named like a
-- built-in one leaves an unqualified call in a default to the built-in (pg_catalog is
-- searched first), for differential.rs.

CREATE FUNCTION make_code() RETURNS text LANGUAGE sql AS $$ SELECT 'code' $$;
CREATE FUNCTION make_code(n integer) RETURNS text LANGUAGE sql AS $$ SELECT 'code' || n $$;
CREATE DOMAIN code_text AS text DEFAULT make_code();

CREATE TABLE codes (
    id       integer PRIMARY KEY,
    plain    text NOT NULL DEFAULT make_code(),
    numbered text DEFAULT make_code(7),
    in_domain code_text
);

-- Takes the default of `plain`, and the domain with its column `in_domain`; `numbered`
-- calls the other `make_code`.
DROP FUNCTION make_code() CASCADE;

CREATE FUNCTION now() RETURNS timestamptz LANGUAGE sql AS $$ SELECT '2000-01-01'::timestamptz $$;
CREATE FUNCTION lower(t text) RETURNS text LANGUAGE sql AS $$ SELECT 'shadow' $$;
CREATE FUNCTION label() RETURNS text LANGUAGE sql AS $$ SELECT 'own' $$;

CREATE TABLE shadowed (
    id      integer PRIMARY KEY,
    recent  boolean DEFAULT (now() > '2001-01-01'),
    lowered text DEFAULT lower('ABC'),
    labelled text DEFAULT label()
);
