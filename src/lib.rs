//! The example shop application: its table layer and write graphs are generated at build
//! time from `schema/` and `graphs.toml`.

include!(concat!(env!("OUT_DIR"), "/writegraph.rs"));
