-- CREATE EXTENSION ... SCHEMA without WITH, and DEFAULT NULL, which PostgreSQL does not
-- store as a default.
CREATE SCHEMA extensions;
CREATE EXTENSION IF NOT EXISTS citext SCHEMA extensions;
CREATE EXTENSION IF NOT EXISTS hstore WITH SCHEMA extensions VERSION '1.8';

CREATE DOMAIN label AS text DEFAULT NULL;
CREATE DOMAIN tag AS text DEFAULT 'none';
ALTER DOMAIN tag SET DEFAULT NULL;

CREATE TABLE accounts (
    id integer PRIMARY KEY,
    email extensions.citext DEFAULT NULL,
    nick text DEFAULT NULL::text,
    note text DEFAULT (NULL),
    attrs extensions.hstore DEFAULT NULL,
    kind text DEFAULT 'user',
    title label,
    badge tag
);

ALTER TABLE accounts ADD COLUMN phone text DEFAULT NULL;
ALTER TABLE accounts ADD COLUMN tags text[] DEFAULT NULL;
ALTER TABLE accounts ALTER COLUMN kind SET DEFAULT NULL;

-- A null that goes through a length coercion or a domain is stored as a default.
CREATE TABLE notes (
    id integer PRIMARY KEY,
    short varchar(20) DEFAULT NULL,
    amount numeric(10, 2) DEFAULT NULL::numeric,
    wide text DEFAULT NULL::varchar(5),
    title label DEFAULT NULL
);
