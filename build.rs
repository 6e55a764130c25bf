//! Generates the example application's table layer and write graphs from `schema/` and
//! `graphs.toml` into `OUT_DIR`.

fn main() {
    let result = writegraph_codegen::Builder::new()
        .schema("schema")
        .graphs("graphs.toml")
        .write_to_out_dir();
    if let Err(error) = result {
        // Display, not Debug: the rendered message has file:line:col and the fix.
        eprintln!("{error}");
        std::process::exit(1);
    }
}
