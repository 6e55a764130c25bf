//! writegraph-codegen reads an application's PostgreSQL DDL and its `graphs.toml`, and
//! generates plain Rust that writes multi-table graphs through the `writegraph` runtime.
//!
//! Use it from `build.rs`:
//!
//! ```no_run
//! // build.rs
//! if let Err(e) = writegraph_codegen::Builder::new()
//!     .schema("schema")
//!     .graphs("graphs.toml")
//!     .write_to_out_dir()
//! {
//!     eprintln!("{e}");
//!     std::process::exit(1);
//! }
//! ```
//!
//! and include the result in the crate:
//!
//! ```text
//! include!(concat!(env!("OUT_DIR"), "/writegraph.rs"));
//! ```
//!
//! The pipeline's stages are its modules, in order: [`config`] → [`ddl`] → [`catalog`] →
//! [`validate`] (the [`model`]) → [`plan`] (every statement) → `emit` → [`write`](mod@write). [`generate`]
//! runs them on in-memory inputs and touches no files.

pub mod catalog;
pub mod config;
pub mod ddl;
mod emit;
pub mod error;
pub mod ident;
#[cfg(feature = "introspect")]
pub mod introspect;
pub mod model;
pub mod plan;
pub mod snapshot;
pub mod source;
pub mod types;
pub mod validate;
pub mod verify;
pub mod write;

use std::path::{Path, PathBuf};

pub use catalog::Catalog;
pub use error::{Diagnostic, Error};
pub use source::SourceFile;
pub use types::{DatetimeCrate, DecimalCrate};

/// Name of the file `write_to_out_dir` writes into `OUT_DIR`.
pub const OUT_FILE_NAME: &str = "writegraph.rs";

/// Everything the generator reads, already loaded into memory.
#[derive(Debug, Clone, Default)]
pub struct Input {
    /// The schema source's files, in apply order.
    pub schema: Vec<SourceFile>,
    /// A catalog snapshot ([`snapshot`]): when set, the generator uses it instead of reading
    /// `schema`.
    pub catalog: Option<Catalog>,
    /// `graphs.toml`, when there is one.
    pub graphs: Option<SourceFile>,
    /// Attributes for generated types and fields, after those of `graphs.toml`'s
    /// `[attributes]` ([`Builder::type_attribute`]).
    pub attributes: Vec<TypeAttribute>,
    /// The date and time crate, over `graphs.toml`'s `[crates] datetime`
    /// ([`Builder::datetime_crate`]).
    pub datetime_crate: Option<DatetimeCrate>,
    /// The decimal crate, over `graphs.toml`'s `[crates] decimal`
    /// ([`Builder::decimal_crate`]).
    pub decimal_crate: Option<DecimalCrate>,
}

/// An attribute for the generated types or fields a path selects
/// ([`Builder::type_attribute`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TypeAttribute {
    /// What it goes on: `"."`, a table, a graph, an enum, `table.column` or `Graph.field`.
    pub path: String,
    /// The attribute as in Rust source (`#[derive(serde::Serialize)]`).
    pub attribute: String,
    /// Where it was given (the `type_attribute` call in build.rs), for the error when the path
    /// selects nothing or the attribute is not one.
    pub given_at: Option<error::Location>,
}

impl TypeAttribute {
    /// An attribute given at no particular place.
    pub fn new(path: impl Into<String>, attribute: impl Into<String>) -> Self {
        Self {
            path: path.into(),
            attribute: attribute.into(),
            given_at: None,
        }
    }
}

impl Input {
    /// The snapshot when there is one, else the catalog the schema reader builds.
    pub fn read_catalog(&self) -> Result<Catalog, Error> {
        match &self.catalog {
            Some(catalog) => Ok(catalog.clone()),
            None => ddl::read_schema(&self.schema),
        }
    }
}

/// What the generator produces.
#[derive(Debug, Clone)]
pub struct Output {
    /// The catalog read from the schema source.
    pub catalog: Catalog,
    /// The generated Rust source, formatted, starting with an `@generated` header.
    pub code: String,
}

/// Runs the whole pipeline on in-memory inputs.
pub fn generate(input: &Input) -> Result<Output, Error> {
    let (catalog, config) = read_inputs(input)?;
    let mut model = validate::validate(&catalog, &config, input.graphs.as_ref())
        .map_err(|e| e.with_source_lines(&input.schema))?;
    validate::attributes(
        &mut model,
        &config,
        &input.attributes,
        input.graphs.as_ref(),
    )?;
    let plan = plan::plan(&model);
    let code = emit::emit(&model, &plan)?;
    Ok(Output { catalog, code })
}

/// The front of the pipeline: `graphs.toml` (config), then the catalog (from the schema
/// source through `ddl`, or from the snapshot).
fn read_inputs(input: &Input) -> Result<(Catalog, config::GraphsConfig), Error> {
    let mut config = input
        .graphs
        .as_ref()
        .map(config::parse)
        .transpose()?
        .unwrap_or_default();
    if let Some(datetime) = input.datetime_crate {
        config.crates.datetime = Some(datetime);
    }
    if let Some(decimal) = input.decimal_crate {
        config.crates.decimal = Some(decimal);
    }
    let catalog = input
        .read_catalog()
        .map_err(|e| e.with_source_lines(&input.schema))?;
    Ok((catalog, config))
}

/// What the code generated from `input` expects of the database (the data of its
/// `EXPECTED_SCHEMA`), for `writegraph verify`.
pub fn expected_schema(input: &Input) -> Result<verify::ExpectedSchema, Error> {
    let (catalog, config) = read_inputs(input)?;
    let model = validate::validate(&catalog, &config, input.graphs.as_ref())
        .map_err(|e| e.with_source_lines(&input.schema))?;
    Ok(verify::expected_schema(&model))
}

/// One graph's statements, as `writegraph explain` prints them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GraphSql {
    /// The graph's name in `graphs.toml`.
    pub graph: String,
    /// Each statement with what sends it (`SQL: insert_graph, insert_graph_report`).
    pub statements: Vec<(String, String)>,
}

/// The SQL of every graph, for `writegraph explain`. An update graph's root part lists the
/// columns a patch sets, so it is shown with a placeholder assignment.
pub fn explain(input: &Input) -> Result<Vec<GraphSql>, Error> {
    let (catalog, config) = read_inputs(input)?;
    let model = validate::validate(&catalog, &config, input.graphs.as_ref())
        .map_err(|e| e.with_source_lines(&input.schema))?;
    let plan = plan::plan(&model);
    Ok(explain_plan(&model, &plan))
}

/// The SQL of every graph of a plan, named by the model's graphs.
fn explain_plan(model: &model::Model<'_>, plan: &plan::Plan) -> Vec<GraphSql> {
    let mut graphs: Vec<GraphSql> = model
        .graphs
        .iter()
        .zip(&plan.graphs)
        .map(|(g, statement)| {
            let mut statements = vec![
                (
                    "SQL: insert_graph, insert_graph_report".to_owned(),
                    statement.sql.clone(),
                ),
                (
                    "SQL_RETURNING: insert_graph_returning, insert_graph_report_returning, insert_graph_atomic".to_owned(),
                    statement.sql_returning.clone(),
                ),
            ];
            if g.writes_many {
                statements.push((
                    "SQL_MANY: insert_graph_many, insert_graph_many_report".to_owned(),
                    statement.sql_many.clone(),
                ));
                if let Some(sql) = &statement.sql_many_returning {
                    statements.push((
                        "SQL_MANY_RETURNING: insert_graph_many_returning, insert_graph_many_report_returning".to_owned(),
                        sql.clone(),
                    ));
                }
                if let Some(rows) = &statement.sql_many_rows {
                    statements.push((
                        "SQL_MANY_ROWS: insert_graph_rows, insert_graph_many_rows, insert_graph_many_rows_report".to_owned(),
                        rows.sql.clone(),
                    ));
                }
            }
            GraphSql {
                graph: g.name.clone(),
                statements,
            }
        })
        .collect();
    for (graph, statement) in model.update_graphs.iter().zip(&plan.update_graphs) {
        let mut statements = Vec::new();
        if graph.lock_root {
            statements.push(("LOCK_SQL: sent first".to_owned(), statement.lock.clone()));
        }
        statements.push((
            "the root's UPDATE, then TAIL_SQL".to_owned(),
            statement.shown.clone(),
        ));
        if let Some(many) = &statement.many {
            if graph.lock_root {
                statements.push((
                    "MANY lock: update_graph_many, sent first".to_owned(),
                    many.lock.clone(),
                ));
            }
            statements.push((
                "MANY: update_graph_many, the roots' SET list from the columns the batch sets"
                    .to_owned(),
                many.shown.clone(),
            ));
        }
        graphs.push(GraphSql {
            graph: graph.name.clone(),
            statements,
        });
    }
    graphs
}

/// Configures and runs the generator from files, for `build.rs`, the CLI and tests.
#[derive(Debug, Clone, Default)]
pub struct Builder {
    schema: Option<PathBuf>,
    catalog: Option<PathBuf>,
    graphs: Option<PathBuf>,
    attributes: Vec<TypeAttribute>,
    datetime_crate: Option<DatetimeCrate>,
    decimal_crate: Option<DecimalCrate>,
}

impl Builder {
    /// A builder with no inputs set.
    pub fn new() -> Self {
        Self::default()
    }

    /// The schema source: a `.sql` file or a migrations folder.
    pub fn schema(&mut self, path: impl AsRef<Path>) -> &mut Self {
        self.schema = Some(path.as_ref().to_path_buf());
        self
    }

    /// A catalog snapshot (`writegraph schema --from-postgres --json >
    /// writegraph.catalog.json`): code is generated from the catalog PostgreSQL built, read
    /// from this file, with no database at build time. When [`Builder::schema`] is set too,
    /// the snapshot must have been made from that source as it is now, or generating fails
    /// (the snapshot is stale).
    pub fn catalog(&mut self, path: impl AsRef<Path>) -> &mut Self {
        self.catalog = Some(path.as_ref().to_path_buf());
        self
    }

    /// The `graphs.toml` file. Optional: without it, only the table layer is generated.
    pub fn graphs(&mut self, path: impl AsRef<Path>) -> &mut Self {
        self.graphs = Some(path.as_ref().to_path_buf());
        self
    }

    /// The crate whose types `date`, `time`, `timestamp` and `timestamptz` columns get, over
    /// `graphs.toml`'s `[crates] datetime` (default [`DatetimeCrate::Chrono`]). The runtime
    /// `writegraph` needs the feature of the same name (`time` for [`DatetimeCrate::Time`]).
    pub fn datetime_crate(&mut self, datetime: DatetimeCrate) -> &mut Self {
        self.datetime_crate = Some(datetime);
        self
    }

    /// The crate whose type `numeric` columns get, over `graphs.toml`'s `[crates] decimal`
    /// (default [`DecimalCrate::RustDecimal`], with the runtime's feature `rust_decimal`).
    pub fn decimal_crate(&mut self, decimal: DecimalCrate) -> &mut Self {
        self.decimal_crate = Some(decimal);
        self
    }

    /// Puts `attribute` on the generated types (or fields) `path` selects, as prost-build's
    /// `type_attribute` does: `"."` for every generated type, a table name for its row,
    /// insert and patch structs, a graph name, an enum's SQL name, or `table.column` /
    /// `Graph.field` for one field. `type_attribute(".", "#[derive(serde::Serialize,
    /// serde::Deserialize)]")` makes every struct a JSON body (`Option<Option<T>>` fields then
    /// read `null` apart from a missing key, with the runtime's `serde` feature). Applied
    /// after graphs.toml's `[attributes]`; an unknown path is an error that points at this
    /// call.
    #[track_caller]
    pub fn type_attribute(
        &mut self,
        path: impl Into<String>,
        attribute: impl Into<String>,
    ) -> &mut Self {
        let caller = std::panic::Location::caller();
        self.attributes.push(TypeAttribute {
            given_at: Some(error::Location {
                path: caller.file().to_owned(),
                line: caller.line() as usize,
                col: caller.column() as usize,
            }),
            ..TypeAttribute::new(path, attribute)
        });
        self
    }

    /// Reads the configured files. With a snapshot and a schema source, checks that the
    /// snapshot was made from the source as it is now.
    pub fn load(&self) -> Result<Input, Error> {
        let schema = match &self.schema {
            Some(path) => source::read_schema_source(path)?,
            None if self.catalog.is_some() => Vec::new(),
            None => return Err(Error::Io {
                path: "<builder>".to_owned(),
                message: "no schema source set; call `.schema(\"schema\")` with a .sql file or migrations folder, or `.catalog(\"writegraph.catalog.json\")` with a catalog snapshot".to_owned(),
            }),
        };
        let catalog = match &self.catalog {
            Some(path) => {
                let catalog = snapshot::read(path)?;
                if self.schema.is_some() {
                    snapshot::check_current(&path.display().to_string(), &catalog, &schema)?;
                }
                Some(catalog)
            }
            None => None,
        };
        let graphs = self.graphs.as_deref().map(SourceFile::read).transpose()?;
        Ok(Input {
            schema,
            catalog,
            graphs,
            attributes: self.attributes.clone(),
            datetime_crate: self.datetime_crate,
            decimal_crate: self.decimal_crate,
        })
    }

    /// Reads the inputs and runs the pipeline.
    pub fn generate(&self) -> Result<Output, Error> {
        generate(&self.load()?)
    }

    /// Generates into `$OUT_DIR/writegraph.rs` and tells cargo to rerun when an input changes.
    /// Meant for `build.rs`.
    pub fn write_to_out_dir(&self) -> Result<(), Error> {
        let out_dir = std::env::var_os("OUT_DIR").ok_or_else(|| Error::Io {
            path: "OUT_DIR".to_owned(),
            message: "OUT_DIR is not set; `write_to_out_dir` runs from build.rs, use `write_to` elsewhere".to_owned(),
        })?;
        for path in self.schema.iter().chain(&self.catalog).chain(&self.graphs) {
            println!("cargo:rerun-if-changed={}", path.display());
        }
        self.write_to(&Path::new(&out_dir).join(OUT_FILE_NAME))
    }

    /// Generates into `path`, writing only when the contents changed.
    pub fn write_to(&self, path: &Path) -> Result<(), Error> {
        let output = self.generate()?;
        write::write_if_changed(path, &output.code)?;
        Ok(())
    }

    /// Compares `path` with freshly generated code: `Ok(None)` when it is up to date,
    /// otherwise a unified diff from the file to the generated code.
    pub fn check(&self, path: &Path) -> Result<Option<String>, Error> {
        let output = self.generate()?;
        write::check_file(path, &output.code)
    }
}
