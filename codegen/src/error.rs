//! Errors a user can act on: each names `file:line:col`, shows the offending line, and says
//! what to do. Every stage reports a [`Diagnostic`]; [`Error`] joins the stages.

use std::fmt;

/// A position in an input file, 1-based like compilers print it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Location {
    /// The file as the user named it (relative paths stay relative).
    pub path: String,
    /// 1-based line.
    pub line: usize,
    /// 1-based column, counted in characters.
    pub col: usize,
}

impl Location {
    /// The location of byte offset `offset` in `text`, which was read from `path`.
    pub fn from_offset(path: &str, text: &str, offset: usize) -> Self {
        let offset = floor_char_boundary(text, offset.min(text.len()));
        let before = &text[..offset];
        let line = before.matches('\n').count() + 1;
        let line_start = before.rfind('\n').map_or(0, |i| i + 1);
        let col = text[line_start..offset].chars().count() + 1;
        Self {
            path: path.to_owned(),
            line,
            col,
        }
    }
}

impl fmt::Display for Location {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}:{}", self.path, self.line, self.col)
    }
}

fn floor_char_boundary(text: &str, mut offset: usize) -> usize {
    while offset > 0 && !text.is_char_boundary(offset) {
        offset -= 1;
    }
    offset
}

/// One problem in the input, rendered as
///
/// ```text
/// schema/001_init.sql:12:5: error: column `order_id` of `order_items` references `orders(id)`, but `orders` is never created
///    |
/// 12 |     order_id bigint REFERENCES orders(id),
///    |     ^
///    = help: create `orders` before `order_items`, or fix the table name
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Diagnostic {
    /// Where the problem is.
    pub location: Location,
    /// What is wrong: lowercase, no trailing period, names the thing.
    pub message: String,
    /// The source line at `location`, shown under the message.
    pub source_line: Option<String>,
    /// What to do about it.
    pub help: Option<String>,
}

impl Diagnostic {
    /// A diagnostic at byte offset `offset` of `text` (the contents of `path`).
    pub fn at(path: &str, text: &str, offset: usize, message: impl Into<String>) -> Self {
        let location = Location::from_offset(path, text, offset);
        let source_line = text
            .lines()
            .nth(location.line - 1)
            .map(|l| l.trim_end().to_owned());
        Self {
            location,
            message: message.into(),
            source_line,
            help: None,
        }
    }

    /// Adds the `help:` line.
    pub fn with_help(mut self, help: impl Into<String>) -> Self {
        self.help = Some(help.into());
        self
    }
}

impl fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: error: {}", self.location, self.message)?;
        if let Some(line) = &self.source_line {
            let number = self.location.line.to_string();
            let pad = " ".repeat(number.len());
            // Tabs would misalign the caret; show them as single spaces.
            let shown = line.replace('\t', " ");
            let caret_col = self
                .location
                .col
                .saturating_sub(1)
                .min(shown.chars().count());
            write!(
                f,
                "\n{pad} |\n{number} | {shown}\n{pad} | {}^",
                " ".repeat(caret_col)
            )?;
        }
        if let Some(help) = &self.help {
            let pad = " ".repeat(self.location.line.to_string().len());
            write!(f, "\n{pad} = help: {help}")?;
        }
        Ok(())
    }
}

impl std::error::Error for Diagnostic {}

/// A problem reading a schema source: an unreadable file, SQL that cannot be read, or a
/// statement that refers to something that does not exist.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct DdlError(pub Box<Diagnostic>);

/// A problem in `graphs.toml`.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct ConfigError(pub Box<Diagnostic>);

/// Any error of the generator. `Display` renders it for a terminal or a build log, and so
/// does `Debug`: a `build.rs` whose `main` returns `Result<(), Box<dyn Error>>` shows the
/// diagnostic when `?` hands it on, not a struct dump.
#[derive(thiserror::Error)]
pub enum Error {
    /// A file or folder could not be read or written.
    #[error("{path}: error: {message}")]
    Io {
        /// The path as the user named it.
        path: String,
        /// What failed.
        message: String,
    },
    /// The schema source is wrong.
    #[error("{0}")]
    Ddl(#[from] DdlError),
    /// `graphs.toml` is wrong.
    #[error("{0}")]
    Config(#[from] ConfigError),
    /// A catalog snapshot cannot be read, or no longer matches its schema source.
    #[error("{path}: error: {message}\n  = help: {help}")]
    Snapshot {
        /// The snapshot file as the user named it.
        path: String,
        /// What is wrong with it.
        message: String,
        /// What to do about it.
        help: String,
    },
    /// Several problems; each is reported.
    #[error("{}", render_all(.0))]
    Many(Vec<Error>),
}

impl fmt::Debug for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

impl Error {
    /// Fills in the source line of diagnostics that carry only a location in one of `files`
    /// (those made from a table's or column's recorded position), so that every message
    /// shows its line and caret.
    pub fn with_source_lines(self, files: &[crate::SourceFile]) -> Self {
        let fill = |mut d: Box<Diagnostic>| {
            if d.source_line.is_none() {
                d.source_line = files
                    .iter()
                    .find(|f| f.path == d.location.path)
                    .and_then(|f| f.text.lines().nth(d.location.line.checked_sub(1)?))
                    .map(|l| l.trim_end().to_owned());
            }
            d
        };
        match self {
            Error::Ddl(DdlError(d)) => Error::Ddl(DdlError(fill(d))),
            Error::Config(ConfigError(d)) => Error::Config(ConfigError(fill(d))),
            Error::Many(errors) => Error::Many(
                errors
                    .into_iter()
                    .map(|e| e.with_source_lines(files))
                    .collect(),
            ),
            other => other,
        }
    }
}

/// At most this many errors are rendered in full; the rest are counted.
pub const MAX_SHOWN_ERRORS: usize = 50;

fn render_all(errors: &[Error]) -> String {
    let mut out = errors
        .iter()
        .take(MAX_SHOWN_ERRORS)
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join("\n\n");
    let hidden = errors.len().saturating_sub(MAX_SHOWN_ERRORS);
    if hidden > 0 {
        out.push_str(&format!(
            "\n\nerror: {hidden} more errors not shown ({} in all); fix the first ones and read again",
            errors.len()
        ));
    }
    out
}

impl From<Diagnostic> for DdlError {
    fn from(d: Diagnostic) -> Self {
        Self(Box::new(d))
    }
}

impl From<Diagnostic> for ConfigError {
    fn from(d: Diagnostic) -> Self {
        Self(Box::new(d))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_location_line_caret_and_help() {
        let text = "create table a (\n  id int,\n  id int\n);";
        let offset = text.rfind("id int").unwrap_or_default();
        let d = Diagnostic::at(
            "schema/a.sql",
            text,
            offset,
            "duplicate column `id` in table `a`",
        )
        .with_help("rename or remove one of them");
        assert_eq!(
            d.to_string(),
            "schema/a.sql:3:3: error: duplicate column `id` in table `a`\n  |\n3 |   id int\n  |   ^\n  = help: rename or remove one of them"
        );
    }

    /// What `fn main() -> Result<(), Box<dyn std::error::Error>>` prints when `?` returns the
    /// error: its `Debug`.
    #[test]
    fn debug_of_a_boxed_error_is_the_rendered_diagnostic() {
        let text = "create tabel a ();";
        let d = Diagnostic::at("schema/a.sql", text, 7, "unknown statement").with_help("fix it");
        let boxed: Box<dyn std::error::Error> = Box::new(Error::Ddl(DdlError::from(d.clone())));
        assert_eq!(format!("{boxed:?}"), d.to_string());
        assert!(format!("{boxed:?}").starts_with("schema/a.sql:1:8: error: unknown statement"));
    }
}
