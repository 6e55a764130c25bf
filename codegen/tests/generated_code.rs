//! Golden files of generated code: `fixtures/generate/shop.rs` must equal what the generator
//! writes for the example's `schema/` and `graphs.toml` today, and `fixtures/generate/names.rs`
//! what it writes for the names Rust cannot use as they are (`tests/schemas/names.sql`:
//! keywords, non-ASCII names, columns whose fields or setters would collide). Run with
//! `UPDATE_EXPECT=1` to refresh them after an intended change, and review the diff.

use std::path::Path;

use writegraph_codegen::{write, Builder};

#[test]
fn example_output_matches_the_checked_in_copy() -> Result<(), Box<dyn std::error::Error>> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let golden = root.join("tests/fixtures/generate/shop.rs");
    let mut builder = Builder::new();
    builder
        .schema(root.join("../schema"))
        .graphs(root.join("../graphs.toml"));
    if std::env::var_os("UPDATE_EXPECT").is_some() {
        write::write_if_changed(&golden, &builder.generate()?.code)?;
    }
    if let Some(diff) = builder.check(&golden)? {
        return Err(format!("{diff}\n(set UPDATE_EXPECT=1 to accept the new output)").into());
    }
    Ok(())
}

#[test]
fn names_output_matches_the_checked_in_copy() -> Result<(), Box<dyn std::error::Error>> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let golden = root.join("tests/fixtures/generate/names.rs");
    let mut builder = Builder::new();
    builder.schema(root.join("../tests/schemas/names.sql"));
    if std::env::var_os("UPDATE_EXPECT").is_some() {
        write::write_if_changed(&golden, &builder.generate()?.code)?;
    }
    if let Some(diff) = builder.check(&golden)? {
        return Err(format!("{diff}\n(set UPDATE_EXPECT=1 to accept the new output)").into());
    }
    Ok(())
}

#[test]
fn output_is_deterministic_and_has_no_paths() -> Result<(), Box<dyn std::error::Error>> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut builder = Builder::new();
    builder
        .schema(root.join("../schema"))
        .graphs(root.join("../graphs.toml"));
    let first = builder.generate()?.code;
    assert_eq!(first, builder.generate()?.code);
    assert!(first.starts_with("// @generated"));
    assert!(
        !first.contains(&*root.to_string_lossy()),
        "generated code mentions an absolute path"
    );
    Ok(())
}
