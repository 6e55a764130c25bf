CREATE TABLE sessions (
    id         uuid PRIMARY KEY,
    account_id bigint NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    started_at timestamptz NOT NULL DEFAULT now()
);
