-- The sign-up flow: a team, its members, and the users they are.

CREATE TYPE member_role AS ENUM ('admin', 'member');

CREATE TABLE teams (
    id         integer GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    name       text NOT NULL UNIQUE,
    created_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE users (
    id         bigserial PRIMARY KEY,
    email      text NOT NULL,
    name       text,
    created_at timestamptz NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX users_email_key ON users (email);

CREATE TABLE team_members (
    team_id integer NOT NULL REFERENCES teams (id) ON DELETE CASCADE,
    user_id bigint NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    role    member_role NOT NULL DEFAULT 'member',
    PRIMARY KEY (team_id, user_id)
);
