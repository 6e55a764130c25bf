-- Version 20240102000000: needs `users` from 20240101000001.
CREATE TABLE posts (
    id        serial PRIMARY KEY,
    user_id   integer NOT NULL REFERENCES users (id),
    title     varchar(200) NOT NULL,
    body      text NOT NULL DEFAULT '',
    published boolean NOT NULL DEFAULT false
);
ALTER TABLE users ADD COLUMN email text;
ALTER TABLE users ADD CONSTRAINT users_email_key UNIQUE (email);
