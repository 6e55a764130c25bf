//! The example shop application: its table layer and write graphs are generated at build
//! time from `schema/` and `graphs.toml` by `build.rs`.

include!(concat!(env!("OUT_DIR"), "/writegraph.rs"));

/// The example's DDL, in migration order, for setting up a database in tests and examples.
pub const SCHEMA_SQL: &str = concat!(
    include_str!("../schema/001_shop.sql"),
    "\n",
    include_str!("../schema/002_signup.sql"),
    "\n",
    include_str!("../schema/003_blog.sql")
);
