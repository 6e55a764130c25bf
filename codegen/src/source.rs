//! Loading inputs from disk: a schema source (one `.sql` file, or a migrations folder in the
//! order its migration tool applies it) and `graphs.toml`. This is the only place, beside
//! [`crate::write`], that touches the file system; the pipeline itself is pure.

use std::path::{Path, PathBuf};

use crate::error::Error;

/// One input file's path (as the user named it, for messages) and contents.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SourceFile {
    /// Path for messages, e.g. `schema/001_init.sql`.
    pub path: String,
    /// The file's text.
    pub text: String,
}

impl SourceFile {
    /// An in-memory file, for tests and tools that do not read from disk.
    pub fn new(path: impl Into<String>, text: impl Into<String>) -> Self {
        Self {
            path: path.into(),
            text: text.into(),
        }
    }

    /// Reads a file from disk.
    pub fn read(path: &Path) -> Result<Self, Error> {
        let text = std::fs::read_to_string(path).map_err(|e| Error::Io {
            path: path.display().to_string(),
            message: format!("cannot read file: {e}"),
        })?;
        Ok(Self {
            path: path.display().to_string(),
            text,
        })
    }
}

/// Reads a schema source: a single `.sql` file, or a folder of migrations in apply order.
/// Of a dbmate or goose file, only the up half is kept (see [`up_half`]).
pub fn read_schema_source(path: &Path) -> Result<Vec<SourceFile>, Error> {
    let files = if path.is_dir() {
        migration_files(path)?
            .iter()
            .map(|p| SourceFile::read(p))
            .collect::<Result<Vec<_>, _>>()?
    } else {
        vec![SourceFile::read(path)?]
    };
    Ok(files
        .into_iter()
        .map(|file| SourceFile {
            text: up_half(&file.text),
            ..file
        })
        .collect())
}

/// The up half of a migration file that holds both halves: dbmate's `-- migrate:up` /
/// `-- migrate:down` and goose's `-- +goose Up` / `-- +goose Down` sections. The down
/// sections, and goose's marker lines (`-- +goose StatementBegin`, ...), become blank lines,
/// so that every position in the file stays where it was. Other files are returned as they
/// are.
pub fn up_half(text: &str) -> String {
    let marker = |line: &str| -> Option<bool> {
        let rest = line.trim().strip_prefix("--")?.trim_start();
        let lower = rest.to_ascii_lowercase();
        let word = lower
            .split_whitespace()
            .next()
            .unwrap_or_default()
            .to_owned();
        match word.as_str() {
            "migrate:up" => Some(true),
            "migrate:down" => Some(false),
            "+goose" => match lower.split_whitespace().nth(1) {
                Some("up") => Some(true),
                Some("down") => Some(false),
                _ => None,
            },
            _ => None,
        }
    };
    let is_goose_line = |line: &str| {
        line.trim()
            .strip_prefix("--")
            .is_some_and(|rest| rest.trim_start().to_ascii_lowercase().starts_with("+goose"))
    };
    if !text.lines().any(|line| marker(line).is_some()) {
        return text.to_owned();
    }
    let mut out = String::with_capacity(text.len());
    let mut keep = true;
    for line in text.split_inclusive('\n') {
        if let Some(up) = marker(line) {
            keep = up;
        }
        if keep && !is_goose_line(line) && marker(line).is_none() {
            out.push_str(line);
        } else {
            // Blank the line, keeping its line break (and so every later line number).
            out.extend(line.chars().filter(|c| *c == '\n' || *c == '\r'));
        }
    }
    out
}

/// The up-migration files of a folder, in the order their migration tool applies them.
///
/// Layouts understood:
/// - diesel: `<version>_<name>/up.sql`, ordered by version with dashes removed
///   (`2024-01-02-120000_x` is version `20240102120000`), compared as text like diesel does;
/// - Prisma: `<timestamp>_<name>/migration.sql`, ordered by folder name, as Prisma does;
/// - dbmate and goose: `<version>_<name>.sql` holding both halves, by numeric version (only
///   the up half is read, see [`up_half`]);
/// - sqlx: `<version>_<name>.sql` and `<version>_<name>.up.sql`, by numeric version;
/// - refinery: `V<n>__<name>.sql`, by numeric version;
/// - plain numbered files (`001_init.sql`, `002-orders.sql`), by numeric prefix;
/// - a folder of unnumbered `.sql` files, by file name.
///
/// Down migrations (`down.sql`, `*.down.sql`) are ignored. Mixing numbered and unnumbered
/// files, or two files with one version, is an error: the apply order would be a guess. A
/// folder with no migration in any of these layouts, or with a subfolder of `.sql` files
/// that is neither a diesel nor a Prisma migration, is an error: reading it as an empty
/// schema would hide every table.
pub fn migration_files(dir: &Path) -> Result<Vec<PathBuf>, Error> {
    let io_error = |e: std::io::Error| Error::Io {
        path: dir.display().to_string(),
        message: format!("cannot read folder: {e}"),
    };
    let mut versioned: Vec<(MigrationVersion, PathBuf)> = Vec::new();
    let mut unversioned: Vec<PathBuf> = Vec::new();
    for entry in std::fs::read_dir(dir).map_err(io_error)? {
        let path = entry.map_err(io_error)?.path();
        let Some(file_name) = path.file_name().and_then(|n| n.to_str()).map(str::to_owned) else {
            continue;
        };
        if path.is_dir() {
            let up = path.join("up.sql");
            let prisma = path.join("migration.sql");
            if up.is_file() {
                match diesel_version(&file_name) {
                    Some(version) => versioned.push((MigrationVersion::Text(version), up)),
                    None => unversioned.push(up),
                }
            } else if prisma.is_file() {
                versioned.push((MigrationVersion::Text(file_name), prisma));
            } else if holds_sql_files(&path) {
                return Err(Error::Io {
                    path: path.display().to_string(),
                    message:
                        "this folder of migrations is in no layout writegraph knows: a migration \
                              folder holds `up.sql` (diesel) or `migration.sql` (Prisma)"
                            .to_owned(),
                });
            }
            continue;
        }
        if !file_name.ends_with(".sql")
            || file_name.ends_with(".down.sql")
            || file_name == "down.sql"
        {
            continue;
        }
        match file_version(&file_name) {
            Some(version) => versioned.push((MigrationVersion::Number(version), path)),
            None => unversioned.push(path),
        }
    }
    if !versioned.is_empty() && !unversioned.is_empty() {
        let listed = unversioned
            .iter()
            .map(|p| p.display().to_string())
            .collect::<Vec<_>>()
            .join(", ");
        return Err(Error::Io {
            path: dir.display().to_string(),
            message: format!(
                "cannot tell where the unnumbered files {listed} go among the numbered migrations; \
                 give them a version prefix such as `003_` or move them out of the folder"
            ),
        });
    }
    versioned.sort();
    for pair in versioned.windows(2) {
        if pair[0].0 == pair[1].0 {
            return Err(Error::Io {
                path: dir.display().to_string(),
                message: format!(
                    "migrations {} and {} have the same version; give each migration its own version",
                    pair[0].1.display(),
                    pair[1].1.display()
                ),
            });
        }
    }
    unversioned.sort();
    if versioned.is_empty() && unversioned.is_empty() {
        return Err(Error::Io {
            path: dir.display().to_string(),
            message: "no migrations found: writegraph reads `.sql` files (sqlx, refinery, dbmate, \
                      goose, numbered or unnumbered), `<version>_<name>/up.sql` (diesel) and \
                      `<timestamp>_<name>/migration.sql` (Prisma); point the schema at the folder \
                      that holds them"
                .to_owned(),
        });
    }
    Ok(versioned
        .into_iter()
        .map(|(_, p)| p)
        .chain(unversioned)
        .collect())
}

/// Whether a folder directly holds `.sql` files.
fn holds_sql_files(dir: &Path) -> bool {
    std::fs::read_dir(dir).is_ok_and(|entries| {
        entries
            .filter_map(Result::ok)
            .any(|e| e.path().extension().is_some_and(|x| x == "sql"))
    })
}

/// How a migration tool compares versions.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
enum MigrationVersion {
    /// sqlx, refinery and numbered files: an integer.
    Number(u128),
    /// diesel: the version text with dashes removed, compared as text; Prisma: the folder
    /// name, compared as text.
    Text(String),
}

/// `2024-01-02-120000_create_users` → `20240102120000`.
fn diesel_version(dir_name: &str) -> Option<String> {
    let (version, _) = dir_name.split_once('_')?;
    let version: String = version.chars().filter(|c| *c != '-').collect();
    (!version.is_empty() && version.chars().all(|c| c.is_ascii_digit())).then_some(version)
}

/// `V3__orders.sql` → 3, `20240102_orders.up.sql` → 20240102, `001-init.sql` → 1.
fn file_version(file_name: &str) -> Option<u128> {
    let rest = file_name
        .strip_prefix('V')
        .filter(|r| r.contains("__"))
        .unwrap_or(file_name);
    let digits: String = rest.chars().take_while(char::is_ascii_digit).collect();
    if digits.is_empty() {
        return None;
    }
    digits.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_versions_of_each_layout() {
        assert_eq!(file_version("V12__add_orders.sql"), Some(12));
        assert_eq!(
            file_version("20240102120000_add_orders.up.sql"),
            Some(20240102120000)
        );
        assert_eq!(file_version("002-orders.sql"), Some(2));
        assert_eq!(file_version("orders.sql"), None);
        assert_eq!(file_version("Vacuum.sql"), None);
        assert_eq!(
            diesel_version("2024-01-02-120000_create_users").as_deref(),
            Some("20240102120000")
        );
        assert_eq!(
            diesel_version("00000000000000_diesel_initial_setup").as_deref(),
            Some("00000000000000")
        );
    }

    #[test]
    fn orders_folders_like_their_tools() -> Result<(), Box<dyn std::error::Error>> {
        let dir = std::env::temp_dir().join(format!("writegraph-source-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir)?;
        for name in [
            "10_b.sql",
            "9_a.sql",
            "11_c.up.sql",
            "11_c.down.sql",
            "notes.txt",
        ] {
            std::fs::write(dir.join(name), "")?;
        }
        let names: Vec<String> = migration_files(&dir)?
            .iter()
            .filter_map(|p| p.file_name().map(|n| n.to_string_lossy().into_owned()))
            .collect();
        assert_eq!(names, ["9_a.sql", "10_b.sql", "11_c.up.sql"]);

        std::fs::write(dir.join("loose.sql"), "")?;
        std::fs::create_dir_all(dir.join("2024_x"))?;
        let mixed = migration_files(&dir);
        assert!(
            matches!(mixed, Err(Error::Io { ref message, .. }) if message.contains("loose.sql"))
        );
        std::fs::remove_dir_all(&dir)?;
        Ok(())
    }

    #[test]
    fn an_unknown_layout_is_an_error() -> Result<(), Box<dyn std::error::Error>> {
        let dir = std::env::temp_dir().join(format!("writegraph-layout-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(dir.join("20240101_init"))?;
        std::fs::write(dir.join("README.md"), "")?;
        let empty = migration_files(&dir);
        assert!(
            matches!(empty, Err(Error::Io { ref message, .. }) if message.starts_with("no migrations found")),
            "{empty:?}"
        );
        std::fs::write(
            dir.join("20240101_init/schema.sql"),
            "CREATE TABLE t (id int);",
        )?;
        let unknown = migration_files(&dir);
        assert!(
            matches!(unknown, Err(Error::Io { ref path, ref message }) if path.ends_with("20240101_init") && message.contains("no layout")),
            "{unknown:?}"
        );
        std::fs::remove_dir_all(&dir)?;
        Ok(())
    }

    #[test]
    fn keeps_the_up_half_of_dbmate_and_goose_files() {
        let dbmate = "-- migrate:up\nCREATE TABLE a (id int);\n-- migrate:down\nDROP TABLE a;\n";
        assert_eq!(up_half(dbmate), "\nCREATE TABLE a (id int);\n\n\n");
        let goose = "-- +goose Up\n-- +goose StatementBegin\nCREATE TABLE a (id int);\n-- +goose StatementEnd\n-- +goose Down\nDROP TABLE a;\n";
        assert_eq!(up_half(goose), "\n\nCREATE TABLE a (id int);\n\n\n\n");
        let plain = "CREATE TABLE a (id int); -- migrate:down is only text here\n";
        assert_eq!(up_half(plain), plain);
    }
}
