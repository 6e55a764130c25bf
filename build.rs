//! Generates the example application's table layer and write graphs from `schema/` and
//! `graphs.toml` into `OUT_DIR`, and the code of two test schemas beside it.

use std::path::Path;

fn main() {
    let result = writegraph_codegen::Builder::new()
        .schema("schema")
        .graphs("graphs.toml")
        .write_to_out_dir();
    exit_on_error(result);

    // Test schemas, used by tests/awkward.rs, tests/types_roundtrip.rs, tests/names.rs and
    // tests/optional_columns.rs.
    let out_dir = std::env::var_os("OUT_DIR").unwrap_or_default();
    for (name, schema, graphs) in [
        ("awkward", "codegen/tests/schemas/awkward.sql", None),
        ("types", "tests/schemas/types.sql", None),
        ("names", "tests/schemas/names.sql", None),
        (
            "optional",
            "tests/schemas/optional.sql",
            Some("tests/schemas/optional.toml"),
        ),
    ] {
        println!("cargo:rerun-if-changed={schema}");
        let mut builder = writegraph_codegen::Builder::new();
        builder.schema(schema);
        if let Some(graphs) = graphs {
            println!("cargo:rerun-if-changed={graphs}");
            builder.graphs(graphs);
        }
        let out_file = Path::new(&out_dir).join(format!("{name}.rs"));
        exit_on_error(builder.write_to(&out_file));
    }
}

fn exit_on_error(result: Result<(), writegraph_codegen::Error>) {
    if let Err(error) = result {
        // Display, not Debug: the rendered message has file:line:col and the fix.
        eprintln!("{error}");
        std::process::exit(1);
    }
}
