//! Shared by the tests that hold the schema reader against PostgreSQL: apply a schema source
//! to a real database, read the database back from `pg_catalog` ([`introspect`], the
//! library's `writegraph_codegen::introspect`), and compare it with the reader's catalog
//! ([`compare`]), failing with a readable diff.

// Each test crate that includes this module uses only part of it.
#![allow(dead_code)]

pub mod json_diff;
pub mod sequences;

use std::path::{Path, PathBuf};

use serde_json::Value;
use tokio_postgres::Client;
use writegraph_codegen::{introspect as pg, Catalog, SourceFile};

/// Errors in tests are reported, not unwrapped.
pub type TestResult<T = ()> = Result<T, Box<dyn std::error::Error>>;

/// A multi-line failure message. Its `Debug` is the text itself, so a test returning it
/// prints the report as written rather than as one escaped string.
pub struct Report(pub String);

impl std::fmt::Debug for Report {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::fmt::Display for Report {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for Report {}

/// A test failure with this message.
pub fn report(text: impl Into<String>) -> Box<dyn std::error::Error> {
    Box::new(Report(text.into()))
}

/// `codegen/tests/schemas/<name>`.
pub fn schema_path(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/schemas")
        .join(name)
}

/// Runs each file's whole text, in order, in one session; an error names the file.
pub async fn apply_files(client: &Client, files: &[SourceFile]) -> TestResult {
    pg::apply_files(client, files)
        .await
        .map_err(|e| report(e.to_string()))
}

pub use pg::db_message;

/// The database's write model read from `pg_catalog`, as catalog JSON.
pub async fn introspect(client: &Client) -> TestResult<Value> {
    let catalog = pg::read_catalog(client)
        .await
        .map_err(|e| report(e.to_string()))?;
    catalog_json(&catalog)
}

/// The reader's catalog as JSON, the shape [`introspect`] produces.
pub fn catalog_json(catalog: &Catalog) -> TestResult<Value> {
    Ok(serde_json::to_value(catalog)?)
}

/// Brings catalog JSON to the form that is compared:
/// - `default` (of columns and domains) becomes whether there is one (our text differs from
///   `pg_get_expr`'s);
/// - `sequences` (held against PostgreSQL by [`sequences`]), `serial` (PostgreSQL records a
///   sequence default, not how it was declared) and `source_digest` are left out;
/// - tables, enums and domains are sorted by schema and name, uniques and foreign keys by
///   name (creation order is not what is tested); columns keep table order.
pub fn normalize(mut value: Value) -> Value {
    let by_schema_and_name = |v: &Value| {
        (
            v["schema"].as_str().unwrap_or_default().to_owned(),
            v["name"].as_str().unwrap_or_default().to_owned(),
        )
    };
    let by_name = |v: &Value| v["name"].as_str().unwrap_or_default().to_owned();
    if let Some(object) = value.as_object_mut() {
        object.remove("sequences");
        object.remove("source_digest");
    }
    for field in ["tables", "enums", "domains"] {
        if let Some(items) = value.get_mut(field).and_then(Value::as_array_mut) {
            items.sort_by_key(by_schema_and_name);
        }
    }
    if let Some(domains) = value.get_mut("domains").and_then(Value::as_array_mut) {
        for domain in domains {
            if let Some(default) = domain.get_mut("default") {
                *default = Value::Bool(!default.is_null());
            }
        }
    }
    if let Some(tables) = value.get_mut("tables").and_then(Value::as_array_mut) {
        for table in tables {
            for field in ["uniques", "foreign_keys"] {
                if let Some(items) = table.get_mut(field).and_then(Value::as_array_mut) {
                    items.sort_by_key(by_name);
                }
            }
            if let Some(columns) = table.get_mut("columns").and_then(Value::as_array_mut) {
                for column in columns {
                    if let Some(default) = column.get_mut("default") {
                        *default = Value::Bool(!default.is_null());
                    }
                    if let Some(column) = column.as_object_mut() {
                        column.remove("serial");
                    }
                }
            }
        }
    }
    value
}

/// `Ok` when the reader's JSON and PostgreSQL's are the same after [`normalize`]; otherwise
/// an error listing each difference by path, followed by both documents.
pub fn compare(source: &str, reader: &Value, postgres: &Value) -> TestResult {
    let reader = normalize(reader.clone());
    let postgres = normalize(postgres.clone());
    let differences = json_diff::diff(&reader, &postgres, "reader", "postgres");
    if differences.is_empty() {
        return Ok(());
    }
    let mut text = format!(
        "the schema reader and PostgreSQL disagree on {source} ({} differences; `default` is \
         compared as present/absent):\n",
        differences.len()
    );
    for line in &differences {
        text.push_str("  ");
        text.push_str(line);
        text.push('\n');
    }
    text.push_str(&format!(
        "\nreader:\n{}\n\npostgres:\n{}\n",
        serde_json::to_string_pretty(&reader)?,
        serde_json::to_string_pretty(&postgres)?
    ));
    Err(report(text))
}
