//! Golden files per feature: each folder of `fixtures/cases/` holds a small `schema.sql` and
//! `graphs.toml` that use one edge kind or strategy, and the `expected.rs` the generator
//! writes for them. A change to the generated code shows up here per feature, small enough
//! to review. Run with `UPDATE_EXPECT=1` to refresh them after an intended change.
//!
//! What the code does is proven against PostgreSQL in the tests crate; these files only show
//! what it is.

use std::path::{Path, PathBuf};

use writegraph_codegen::{write, Builder, DatetimeCrate, DecimalCrate};

fn cases() -> Result<Vec<PathBuf>, std::io::Error> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/cases");
    let mut cases = Vec::new();
    for entry in std::fs::read_dir(dir)? {
        let path = entry?.path();
        if path.is_dir() {
            cases.push(path);
        }
    }
    cases.sort();
    Ok(cases)
}

#[test]
fn every_case_matches_its_expected_code() -> Result<(), Box<dyn std::error::Error>> {
    let cases = cases()?;
    assert!(cases.len() >= 12, "the cases folder lost cases: {cases:?}");
    let mut stale = Vec::new();
    for case in &cases {
        let expected = case.join("expected.rs");
        let mut builder = Builder::new();
        builder
            .schema(case.join("schema.sql"))
            .graphs(case.join("graphs.toml"));
        if std::env::var_os("UPDATE_EXPECT").is_some() {
            write::write_if_changed(&expected, &builder.generate()?.code)?;
        }
        if !expected.exists() {
            stale.push(format!("{}: no expected.rs", case.display()));
        } else if let Some(diff) = builder.check(&expected)? {
            stale.push(format!("{}:\n{diff}", case.display()));
        }
    }
    if stale.is_empty() {
        Ok(())
    } else {
        Err(format!(
            "{}\n(set UPDATE_EXPECT=1 to accept the new output)",
            stale.join("\n\n")
        )
        .into())
    }
}

#[test]
fn the_builders_datetime_crate_overrides_graphs_toml() -> Result<(), Box<dyn std::error::Error>> {
    let case = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/cases/datetime_time");
    let mut builder = Builder::new();
    builder
        .schema(case.join("schema.sql"))
        .graphs(case.join("graphs.toml"))
        .datetime_crate(DatetimeCrate::Jiff)
        .decimal_crate(DecimalCrate::RustDecimal);
    let code = builder.generate()?.code;
    for jiff in [
        "pub on_day: ::writegraph::types::jiff::civil::Date,",
        "pub happened_at: ::writegraph::types::jiff::Timestamp,",
        "pub amount: ::std::option::Option<::writegraph::types::rust_decimal::Decimal>,",
    ] {
        assert!(code.contains(jiff), "no `{jiff}` in:\n{code}");
    }
    assert!(
        !code.contains("types::time::"),
        "time types left in:\n{code}"
    );
    Ok(())
}
