-- +goose Up
-- +goose StatementBegin
CREATE TABLE members (
    id serial PRIMARY KEY,
    team_id integer NOT NULL REFERENCES teams (id) ON DELETE CASCADE,
    handle varchar(40) NOT NULL
);
-- +goose StatementEnd

-- +goose Down
-- +goose StatementBegin
DROP TABLE members;
-- +goose StatementEnd
