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
/// otherwise a short line diff (first differing lines) for the user.
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
    Ok(Some(short_diff(
        &path.display().to_string(),
        &old,
        contents,
    )))
}

/// The lines that differ between `old` and `new` (after their common first and last lines),
/// in unified-diff style, at most a dozen of each.
fn short_diff(path: &str, old: &str, new: &str) -> String {
    const MAX_LINES: usize = 12;
    let old_lines: Vec<&str> = old.lines().collect();
    let new_lines: Vec<&str> = new.lines().collect();
    let first = old_lines
        .iter()
        .zip(&new_lines)
        .take_while(|(a, b)| a == b)
        .count();
    let common_tail = old_lines[first..]
        .iter()
        .rev()
        .zip(new_lines[first..].iter().rev())
        .take_while(|(a, b)| a == b)
        .count();
    let removed = &old_lines[first..old_lines.len() - common_tail];
    let added = &new_lines[first..new_lines.len() - common_tail];
    let mut out = format!("{path} is stale; first difference at line {}:\n", first + 1);
    for (sign, lines) in [('-', removed), ('+', added)] {
        for line in lines.iter().take(MAX_LINES) {
            out.push_str(&format!("{sign}{line}\n"));
        }
        if lines.len() > MAX_LINES {
            out.push_str(&format!(
                "{sign}... {} more lines\n",
                lines.len() - MAX_LINES
            ));
        }
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
