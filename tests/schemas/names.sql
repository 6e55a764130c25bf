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
