-- Identifiers that must be quoted: mixed case, reserved words, spaces, embedded quotes, and a
-- mixed-case schema. Every name below is stored exactly as written between the quotes.

CREATE SCHEMA "Mixed";

CREATE TYPE "Mood" AS ENUM ('happy', 'it''s fine', 'very "sad"', 'two  spaces', 'UPPER');

CREATE TABLE "user" (
    "Id"        bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    "user name" text NOT NULL,
    "from"      text,
    "select"    integer DEFAULT 1,
    mood        "Mood" NOT NULL DEFAULT 'it''s fine',
    CONSTRAINT "user name is unique" UNIQUE ("user name")
);

CREATE TABLE "Order" (
    "Id"      bigserial PRIMARY KEY,
    "user"    bigint NOT NULL REFERENCES "user" ("Id") ON DELETE CASCADE,
    "from"    date NOT NULL DEFAULT CURRENT_DATE,
    "Total"   numeric(12, 2)
);
COMMENT ON TABLE "Order" IS 'An order; the "Order" table.';
COMMENT ON COLUMN "Order"."from" IS 'Order date, it''s a reserved word.';

CREATE TABLE "select" (
    "select" text PRIMARY KEY,
    "order"  bigint REFERENCES "Order" ("Id")
);

CREATE TABLE "order items" (
    "Order"     bigint NOT NULL,
    "line no"   integer NOT NULL,
    "select"    text REFERENCES "select" ("select") ON UPDATE CASCADE,
    PRIMARY KEY ("Order", "line no"),
    CONSTRAINT "order items → order" FOREIGN KEY ("Order") REFERENCES "Order" ("Id")
);

CREATE TABLE "a""b" (
    "c""d"  integer PRIMARY KEY,
    "e f"   "Mood"[]
);

CREATE TABLE "Mixed"."Case" (
    "Id"        integer PRIMARY KEY,
    "a""b"      integer REFERENCES "a""b" ("c""d") ON DELETE SET NULL,
    "user name" text NOT NULL REFERENCES "user" ("user name") ON UPDATE CASCADE
);

CREATE TYPE "Mixed"."Status" AS ENUM ('New', 'Done');
ALTER TABLE "Mixed"."Case" ADD COLUMN "Status" "Mixed"."Status" NOT NULL DEFAULT 'New';

CREATE UNIQUE INDEX "Case by status" ON "Mixed"."Case" ("Status", "Id") WHERE "Status" = 'New';
