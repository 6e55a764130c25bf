-- V10 runs after V2 (numeric order), although "V10" < "V2" as text: it needs `sessions`.
ALTER TABLE sessions ADD COLUMN expires_at timestamptz;
ALTER TABLE sessions ALTER COLUMN started_at TYPE timestamp(0) with time zone;
CREATE INDEX sessions_expiry_idx ON sessions (expires_at);
