CREATE TABLE comments (
    id      bigserial PRIMARY KEY,
    post_id integer NOT NULL REFERENCES posts (id) ON DELETE CASCADE,
    body    text NOT NULL
);
ALTER TABLE posts RENAME COLUMN published TO is_published;
