-- migrate:up
CREATE TABLE authors (
    id bigserial PRIMARY KEY,
    name text NOT NULL
);

-- migrate:down
DROP TABLE authors;
