-- +goose Up
CREATE TABLE teams (
    id serial PRIMARY KEY,
    name text NOT NULL UNIQUE
);

-- +goose StatementBegin
CREATE FUNCTION team_count() RETURNS bigint AS $$
    SELECT count(*) FROM teams;
$$ LANGUAGE sql;
-- +goose StatementEnd

-- +goose Down
DROP FUNCTION team_count();
DROP TABLE teams;
