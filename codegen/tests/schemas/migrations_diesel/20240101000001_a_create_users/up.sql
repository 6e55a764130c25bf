-- Version 20240101000001: first, although its folder name sorts after 2024-01-02-...
CREATE TABLE users (
    id         serial PRIMARY KEY,
    name       varchar NOT NULL,
    updated_at timestamp NOT NULL DEFAULT current_timestamp
);
SELECT diesel_manage_updated_at('users');
