-- DO blocks that make DDL idempotent: statements run as PL/pgSQL runs them, IF branches
-- chosen by existence tests on the catalog, EXCEPTION handlers undoing a failed block.
CREATE SCHEMA app;
CREATE TYPE app.status AS ENUM ('new', 'done');

-- The type exists: the block fails and its handler swallows the error.
DO $$ BEGIN
    CREATE TYPE app.status AS ENUM ('other');
EXCEPTION
    WHEN duplicate_object THEN null;
END $$;

DO $$ BEGIN
    CREATE TYPE app.level AS ENUM ('low', 'high');
EXCEPTION
    WHEN duplicate_object THEN null;
END $$;

CREATE TABLE app.tasks (
    id bigint PRIMARY KEY,
    title text NOT NULL,
    status app.status NOT NULL DEFAULT 'new',
    level app.level,
    old_note text
);

DO $$
BEGIN
  IF NOT EXISTS (SELECT * FROM information_schema.columns
                 WHERE table_schema = 'app' AND table_name = 'tasks' AND column_name = 'note')
  THEN
      ALTER TABLE app.tasks RENAME COLUMN old_note TO note;
  END IF;

  IF EXISTS (SELECT 1 FROM information_schema.columns
             WHERE table_schema = 'app' AND table_name = 'tasks' AND column_name = 'missing')
  THEN
      ALTER TABLE app.tasks DROP COLUMN title;
  ELSE
      RAISE NOTICE 'nothing to drop';
  END IF;

  IF NOT EXISTS (SELECT constraint_name FROM information_schema.table_constraints
                 WHERE table_schema = 'app' AND table_name = 'tasks'
                   AND constraint_name = 'tasks_title_key')
  THEN
      ALTER TABLE app.tasks ADD CONSTRAINT tasks_title_key UNIQUE (title);
  END IF;

  CREATE INDEX IF NOT EXISTS tasks_status_idx ON app.tasks (status);
END $$;

-- Run again: every test now says the work is done.
DO $$
BEGIN
  IF NOT EXISTS (SELECT constraint_name FROM information_schema.table_constraints
                 WHERE table_schema = 'app' AND constraint_name = 'tasks_title_key')
  THEN
      ALTER TABLE app.tasks ADD CONSTRAINT tasks_title_key UNIQUE (title);
  END IF;
END $$;

DO $$
DECLARE
    n integer;
BEGIN
    n := 1;
    IF (SELECT count(*) = 1 FROM pg_indexes WHERE indexname IN ('tasks_status_idx', 'nope')) THEN
        EXECUTE 'ALTER INDEX app.tasks_status_idx RENAME TO tasks_by_status';
    END IF;
    BEGIN
        CREATE UNIQUE INDEX tasks_level_title ON app.tasks (level, title);
    EXCEPTION WHEN others THEN
        CREATE INDEX tasks_level_title ON app.tasks (level);
    END;
END
$$;

-- Loops and IFs that only write rows change no schema, whatever their conditions.
DO $$
DECLARE
    tid bigint;
BEGIN
    FOR tid IN SELECT id FROM app.tasks LOOP
        UPDATE app.tasks SET level = 'low' WHERE id = tid;
    END LOOP;
    IF (SELECT count(*) FROM app.tasks) > 10 THEN
        DELETE FROM app.tasks WHERE status = 'done';
    END IF;
END $$;
