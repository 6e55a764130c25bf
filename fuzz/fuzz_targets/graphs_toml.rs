//! The whole generator on a fixed schema and an arbitrary `graphs.toml`: it generates code or
//! fails with a located diagnostic, and never panics.
#![no_main]

use libfuzzer_sys::fuzz_target;
use writegraph_codegen::{generate, Input, SourceFile};

/// A small schema with every edge kind's targets: a parent, a root, children with unique and
/// plain foreign keys, and an unrelated audit table.
const SCHEMA: &str = "
CREATE TYPE status AS ENUM ('new', 'done');
CREATE TABLE categories (id bigserial PRIMARY KEY, name text NOT NULL UNIQUE);
CREATE TABLE orders (
    id bigserial PRIMARY KEY,
    category_id bigint REFERENCES categories (id),
    customer text NOT NULL,
    status status NOT NULL DEFAULT 'new',
    note text
);
CREATE TABLE order_items (
    id bigserial PRIMARY KEY,
    order_id bigint NOT NULL REFERENCES orders (id) ON DELETE CASCADE,
    sku text NOT NULL,
    qty integer NOT NULL DEFAULT 1,
    UNIQUE (order_id, sku)
);
CREATE TABLE shipping (order_id bigint PRIMARY KEY REFERENCES orders (id), street text NOT NULL);
CREATE TABLE audit_logs (id bigserial PRIMARY KEY, entity_id bigint, action text NOT NULL);
";

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let input = Input {
        schema: vec![SourceFile::new("schema.sql", SCHEMA)],
        graphs: Some(SourceFile::new("graphs.toml", text)),
        ..Input::default()
    };
    if let Err(error) = generate(&input) {
        let message = error.to_string();
        assert!(
            message.starts_with("graphs.toml:"),
            "unlocated error: {message}"
        );
    }
});
