-- migrate:up
CREATE TABLE books (
    id bigserial PRIMARY KEY,
    author_id bigint NOT NULL REFERENCES authors (id),
    title text NOT NULL
);
ALTER TABLE authors ADD COLUMN born date;

-- migrate:down
ALTER TABLE authors DROP COLUMN born;
DROP TABLE books;
