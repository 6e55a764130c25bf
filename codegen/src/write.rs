//! Writing generated code to disk: only when it changed (so builds stay incremental), and
//! checking a checked-in copy for staleness.

use std::path::Path;

use crate::error::Error;

/// Writes `contents` to `path` unless the file already holds exactly these bytes.
/// Returns whether the file was written.
pub fn write_if_changed(path: &Path, contents: &str) -> Result<bool, Error> {
    if std::fs::read_to_string(path).is_ok_and(|old| old == contents) {
        return Ok(false);
    }
    if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
        std::fs::create_dir_all(parent).map_err(|e| io_error(parent, "cannot create folder", e))?;
    }
    std::fs::write(path, contents).map_err(|e| io_error(path, "cannot write file", e))?;
    Ok(true)
}

/// Compares a checked-in file with freshly generated code. `Ok(None)` when they match;
/// otherwise a unified diff from the file to the generated code, for the user.
pub fn check_file(path: &Path, contents: &str) -> Result<Option<String>, Error> {
    let old = match std::fs::read_to_string(path) {
        Ok(old) => old,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            return Ok(Some(format!(
                "{} does not exist; run `writegraph generate` to create it",
                path.display()
            )))
        }
        Err(e) => return Err(io_error(path, "cannot read file", e)),
    };
    if old == contents {
        return Ok(None);
    }
    Ok(Some(stale_diff(
        &path.display().to_string(),
        &old,
        contents,
    )))
}

/// A unified diff from the checked-in file (`old`) to the generated code (`new`), three
/// lines of context around each change, between a line saying the file is stale and one
/// saying how to refresh it.
fn stale_diff(path: &str, old: &str, new: &str) -> String {
    let diff = similar::TextDiff::from_lines(old, new);
    let mut unified = diff.unified_diff();
    unified.context_radius(3).header(
        &format!("{path} (checked in)"),
        &format!("{path} (generated)"),
    );
    let mut out = format!("{path} is stale:\n{unified}");
    if !out.ends_with('\n') {
        out.push('\n');
    }
    out.push_str("run `writegraph generate` with the same arguments to refresh it");
    out
}

fn io_error(path: &Path, what: &str, e: std::io::Error) -> Error {
    Error::Io {
        path: path.display().to_string(),
        message: format!("{what}: {e}"),
    }
}
