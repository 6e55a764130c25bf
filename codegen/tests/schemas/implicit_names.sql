-- Names PostgreSQL makes for unnamed indexes and CHECK constraints. Each later statement
-- uses PostgreSQL's name, so a reader that names them differently fails here.
CREATE TABLE people (
    id integer PRIMARY KEY,
    email text NOT NULL,
    nick text,
    age integer CHECK (age >= 0),
    lower_bound integer,
    upper_bound integer,
    CHECK (lower_bound <= upper_bound),
    CHECK (email <> ''),
    retired_at integer CHECK (retired_at > age)
);

-- A unique index is `_idx` (`_key` is for constraints); expression columns are named after
-- their function, else `expr`; repeated names are numbered; INCLUDE columns count.
CREATE UNIQUE INDEX ON people (email);
CREATE UNIQUE INDEX ON people (nick) WHERE nick IS NOT NULL;
CREATE INDEX ON people (lower(email), lower(nick));
CREATE INDEX ON people ((age + 1));
CREATE INDEX ON people ((nick::text), (coalesce(nick, email)));
CREATE INDEX ON people (age) INCLUDE (nick);
CREATE INDEX ON people (age);
CREATE INDEX ON people (age);

DROP INDEX people_lower_lower1_idx;
DROP INDEX people_expr_idx;
DROP INDEX people_nick_coalesce_idx;
DROP INDEX people_age_nick_idx;
DROP INDEX people_age_idx1;
ALTER INDEX people_age_idx RENAME TO people_by_age;
ALTER INDEX people_nick_idx RENAME TO people_nick_unique;

-- CHECK names: the one column referenced, else `<table>_check`, numbered on collision.
ALTER TABLE people DROP CONSTRAINT people_age_check;
ALTER TABLE people DROP CONSTRAINT people_check;
ALTER TABLE people DROP CONSTRAINT people_email_check;
ALTER TABLE people DROP CONSTRAINT people_check1;
ALTER TABLE people ADD CHECK (age < 200);
ALTER TABLE people ADD CHECK (age < 150);
ALTER TABLE people DROP CONSTRAINT people_age_check1;

-- An unnamed unique constraint is `_key`, and an upsert may name it.
ALTER TABLE people ADD UNIQUE (lower_bound, upper_bound);
ALTER TABLE people DROP CONSTRAINT people_lower_bound_upper_bound_key;

-- A key that repeats an earlier key of the same CREATE TABLE makes no index of its own;
-- a later ALTER TABLE ... ADD UNIQUE does.
CREATE TABLE events (
    id char(36) NOT NULL PRIMARY KEY UNIQUE,
    code integer NOT NULL UNIQUE,
    UNIQUE (id),
    UNIQUE (code),
    UNIQUE (code, id)
);
ALTER TABLE events ADD UNIQUE (id);
