-- Defaults mean what PostgreSQL stored when the DDL ran, whatever the search_path later:
-- enum labels follow RENAME VALUE, type names in casts are qualified, and a literal
-- default of an enum or domain column is of that type.
CREATE SCHEMA shop;
SET search_path = shop, public;

CREATE TYPE "Role" AS ENUM ('USER', 'ADMIN');
CREATE TYPE status AS ENUM ('draft', 'live');
CREATE DOMAIN code AS text DEFAULT 'none';

CREATE TABLE members (
    id integer PRIMARY KEY,
    role "Role" NOT NULL DEFAULT 'USER',
    roles "Role"[] NOT NULL DEFAULT ARRAY['USER']::"Role"[],
    state status NOT NULL DEFAULT 'draft'::status,
    badge code DEFAULT 'new',
    note text DEFAULT 'hello'
);

ALTER TYPE status RENAME VALUE 'draft' TO 'pending';
ALTER TABLE members ADD COLUMN second_role "Role" DEFAULT 'ADMIN';
ALTER TABLE members ALTER COLUMN note SET DEFAULT 'x'::text;
