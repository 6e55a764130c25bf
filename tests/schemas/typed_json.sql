-- Columns given Rust types of the application's (`column_types` in typed_json.toml): a
-- jsonb column as a serde struct, a text column as a newtype.
CREATE TABLE profiles (
    id       bigserial PRIMARY KEY,
    handle   text NOT NULL,
    settings jsonb NOT NULL DEFAULT '{"theme": "light", "digest": false}',
    extra    jsonb
);
