-- Names Rust cannot use as they are, for tests/names.rs: columns named like Rust keywords,
-- and names with characters Rust identifiers cannot hold.

CREATE TABLE settings (
    id        bigserial PRIMARY KEY,
    "type"    text NOT NULL,
    "ref"     text,
    "self"    integer DEFAULT 1,
    "where"   text NOT NULL DEFAULT 'here',
    "fn"      text,
    "area_m²" integer
);

CREATE TABLE "①" (
    "②" integer PRIMARY KEY
);

-- Columns whose Rust names would collide: a camelCase twin of a snake_case column
-- (`created_at` keeps `created_at`, `"createdAt"` is `created_at_2`), and a column named like
-- another's `_opt` setter (`note` keeps `with_note_opt`, `note_opt` is `note_opt_2`).
CREATE TABLE stamps (
    id          bigserial PRIMARY KEY,
    "createdAt" text NOT NULL,
    created_at  text NOT NULL DEFAULT 'snake default',
    note        text,
    note_opt    text
);

-- A table and an enum whose Rust names are those of the standard traits the generated code
-- uses (`Send`, `Sync`): the generated code names the traits by path.
CREATE TYPE sync AS ENUM ('on', 'off');

CREATE TABLE sends (
    id    bigserial PRIMARY KEY,
    body  text NOT NULL,
    state sync NOT NULL DEFAULT 'on'
);

-- A table whose Rust name is `Box`, beside an enum: the enum's `ToSql` names `Box` by path.
CREATE TABLE boxes (
    id    serial PRIMARY KEY,
    state sync NOT NULL
);
