//! Generated Rust through `syn` and `prettyplease`.

use super::HEADER;
use crate::error::Error;

/// Parses and pretty-prints generated Rust, prefixed with the `@generated` header.
pub fn format_rust(code: &str) -> Result<String, Error> {
    let file = syn::parse_file(code).map_err(|e| Error::Io {
        path: "<generated code>".to_owned(),
        message: format!(
            "writegraph-codegen produced invalid Rust ({e}); this is a bug, please report it with this text:\n{code}"
        ),
    })?;
    Ok(format!("{HEADER}{}", prettyplease::unparse(&file)))
}
