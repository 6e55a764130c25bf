//! Catalog snapshots: the catalog PostgreSQL itself built from a schema source, saved as
//! catalog JSON (`writegraph schema --from-postgres --json > writegraph.catalog.json`), so
//! that code can be generated from it with no database at build time
//! ([`Builder::catalog`](crate::Builder::catalog)).
//!
//! A snapshot records the [`source_digest`] of the migrations it was made from. When the
//! builder is given both the snapshot and the migrations, a different digest means the
//! migrations changed after the snapshot was taken, and generating from it is an error.

use std::path::Path;

use crate::catalog::Catalog;
use crate::error::Error;
use crate::source::SourceFile;

/// The command that refreshes a snapshot, for help lines.
const REFRESH: &str =
    "writegraph schema --schema <migrations> --from-postgres --json > writegraph.catalog.json";

/// A digest of a schema source: the files' texts in apply order (not their paths, which
/// depend on where the source is checked out). `fnv1a64:` and 16 hex digits. It detects
/// change, nothing more: it is not a cryptographic hash.
pub fn source_digest(files: &[SourceFile]) -> String {
    const OFFSET: u64 = 0xcbf2_9ce4_8422_2325;
    const PRIME: u64 = 0x0000_0100_0000_01b3;
    let mut hash = OFFSET;
    let mut feed = |bytes: &[u8]| {
        for byte in bytes {
            hash ^= u64::from(*byte);
            hash = hash.wrapping_mul(PRIME);
        }
    };
    for file in files {
        feed(&(file.text.len() as u64).to_le_bytes());
        feed(file.text.as_bytes());
    }
    format!("fnv1a64:{hash:016x}")
}

/// Reads a snapshot file (catalog JSON).
pub fn read(path: &Path) -> Result<Catalog, Error> {
    let shown = path.display().to_string();
    let text = std::fs::read_to_string(path).map_err(|e| Error::Snapshot {
        path: shown.clone(),
        message: format!("cannot read the catalog snapshot: {e}"),
        help: format!("make it with `{REFRESH}`"),
    })?;
    from_json(&shown, &text)
}

/// Reads snapshot text; `path` names it in errors.
pub fn from_json(path: &str, text: &str) -> Result<Catalog, Error> {
    serde_json::from_str(text).map_err(|e| Error::Snapshot {
        path: path.to_owned(),
        message: format!("not a catalog snapshot: {e}"),
        help: format!("make it again with `{REFRESH}`"),
    })
}

/// Renders a catalog as snapshot text: pretty JSON, ending with a newline.
pub fn to_json(catalog: &Catalog) -> Result<String, Error> {
    let mut text = serde_json::to_string_pretty(catalog).map_err(|e| Error::Io {
        path: "<catalog>".to_owned(),
        message: format!("cannot render the catalog as JSON: {e}"),
    })?;
    text.push('\n');
    Ok(text)
}

/// `Ok` when `snapshot` was made from `files`; otherwise an error saying that the snapshot
/// at `path` is stale (or records no digest) and how to refresh it.
pub fn check_current(path: &str, snapshot: &Catalog, files: &[SourceFile]) -> Result<(), Error> {
    let current = source_digest(files);
    match snapshot.source_digest.as_deref() {
        Some(digest) if digest == current => Ok(()),
        Some(digest) => Err(Error::Snapshot {
            path: path.to_owned(),
            message: format!(
                "the catalog snapshot is stale: it was made from a schema source with digest \
                 {digest}, the migrations now have digest {current}"
            ),
            help: format!("make it again with `{REFRESH}` and commit it"),
        }),
        None => Err(Error::Snapshot {
            path: path.to_owned(),
            message: "the catalog snapshot records no source digest, so it cannot be checked \
                      against the migrations"
                .to_owned(),
            help: format!("make it with `{REFRESH}`"),
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn digest_follows_texts_and_order_not_paths() {
        let a = SourceFile::new("a/001.sql", "CREATE TABLE t (id int);");
        let b = SourceFile::new("a/002.sql", "ALTER TABLE t ADD c int;");
        let moved = SourceFile::new("/elsewhere/001.sql", "CREATE TABLE t (id int);");
        let base = source_digest(&[a.clone(), b.clone()]);
        assert_eq!(base, source_digest(&[moved, b.clone()]));
        assert_ne!(base, source_digest(&[b.clone(), a.clone()]));
        assert_ne!(base, source_digest(std::slice::from_ref(&a)));
        assert!(
            base.starts_with("fnv1a64:") && base.len() == 8 + 16,
            "{base}"
        );
    }
}
