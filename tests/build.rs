//! Generates the code of the test schemas into `OUT_DIR`, one file per schema, for `src/lib.rs`.

use std::path::Path;

fn main() {
    let out_dir = std::env::var_os("OUT_DIR").unwrap_or_default();
    for (name, schema, graphs) in [
        ("awkward", "../codegen/tests/schemas/awkward.sql", None),
        ("types", "schemas/types.sql", None),
        ("names", "schemas/names.sql", None),
        (
            "optional",
            "schemas/optional.sql",
            Some("schemas/optional.toml"),
        ),
        (
            "articles",
            "schemas/articles.sql",
            Some("schemas/articles.toml"),
        ),
        (
            "time_crate",
            "schemas/datetimes.sql",
            Some("schemas/time_crate.toml"),
        ),
        ("jiff_crate", "schemas/datetimes.sql", None),
        ("nested", "schemas/nested.sql", Some("schemas/nested.toml")),
        ("links", "schemas/links.sql", Some("schemas/links.toml")),
        (
            "typed_json",
            "schemas/typed_json.sql",
            Some("schemas/typed_json.toml"),
        ),
        (
            "native_types",
            "schemas/native_types.sql",
            Some("schemas/native_types.toml"),
        ),
    ] {
        println!("cargo:rerun-if-changed={schema}");
        let mut builder = writegraph_codegen::Builder::new();
        builder.schema(schema);
        if name == "articles" {
            // Graph structs as JSON bodies (tests/tests/serde_graphs.rs).
            builder.type_attribute(".", "#[derive(serde::Serialize, serde::Deserialize)]");
        }
        if name == "jiff_crate" {
            // The builder's choice, with no graphs.toml (tests/tests/datetime_crates.rs).
            builder.datetime_crate(writegraph_codegen::DatetimeCrate::Jiff);
        }
        if let Some(graphs) = graphs {
            println!("cargo:rerun-if-changed={graphs}");
            builder.graphs(graphs);
        }
        let out_file = Path::new(&out_dir).join(format!("{name}.rs"));
        if let Err(error) = builder.write_to(&out_file) {
            // Display, not Debug: the rendered message has file:line:col and the fix.
            eprintln!("{error}");
            std::process::exit(1);
        }
    }
}
