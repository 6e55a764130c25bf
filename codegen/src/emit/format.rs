//! Generated Rust through `syn` and `prettyplease`.

use crate::error::Error;

/// Parses and pretty-prints a group of generated items.
pub(super) fn format_items(code: &str) -> Result<String, Error> {
    let file = syn::parse_file(code).map_err(|e| Error::Io {
        path: "<generated code>".to_owned(),
        message: format!(
            "writegraph-codegen produced invalid Rust ({e}); this is a bug, please report it with this text:\n{code}"
        ),
    })?;
    Ok(prettyplease::unparse(&file))
}
