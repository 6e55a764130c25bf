//! The `writegraph` command: generate code to a file, check a checked-in copy, show the
//! catalog the schema reader built, or the one PostgreSQL builds (a catalog snapshot), and
//! verify a live database against the schema.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use writegraph_codegen::{catalog, ddl, introspect, snapshot, source, Builder, Catalog, Error};

/// Generates Rust write graphs from PostgreSQL DDL and graphs.toml.
#[derive(Debug, Parser)]
#[command(name = "writegraph", version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Write the generated code to a file (written only when it changed).
    Generate {
        #[command(flatten)]
        inputs: Inputs,
        /// The file to write.
        #[arg(long)]
        out: PathBuf,
    },
    /// Exit non-zero with a unified diff when a checked-in generated file is stale.
    Check {
        #[command(flatten)]
        inputs: Inputs,
        /// The checked-in generated file.
        #[arg(long)]
        out: PathBuf,
    },
    /// Print the SQL statement of every graph (or of the graphs named).
    Explain {
        #[command(flatten)]
        inputs: Inputs,
        /// Graph names; all graphs when none is given.
        graph: Vec<String>,
    },
    /// Print the catalog the schema reader built, or with --from-postgres the one PostgreSQL
    /// builds (with --json: a catalog snapshot for `--catalog`).
    Schema {
        /// A .sql file or a migrations folder.
        #[arg(long, required_unless_present = "database_url")]
        schema: Option<PathBuf>,
        /// Print JSON (the catalog snapshot shape, which the differential tests compare with
        /// pg_catalog).
        #[arg(long)]
        json: bool,
        /// Apply the schema source to a throwaway PostgreSQL (DATABASE_URL's server when set)
        /// and read the catalog from pg_catalog.
        #[arg(long)]
        from_postgres: bool,
        /// With --from-postgres: read this database as it is instead (nothing is applied).
        #[arg(long, requires = "from_postgres")]
        database_url: Option<String>,
    },
    /// Compare a live database with the schema the code is generated from (the check the
    /// generated `verify_database` runs): print every difference and exit 2 when there is
    /// any. Reads pg_catalog only.
    Verify {
        #[command(flatten)]
        inputs: Inputs,
        /// The database to check (`postgres://user@host/db`, or `host=... dbname=...`).
        #[arg(long)]
        database_url: String,
    },
}

#[derive(Debug, clap::Args)]
struct Inputs {
    /// A .sql file or a migrations folder.
    #[arg(long, required_unless_present = "catalog")]
    schema: Option<PathBuf>,
    /// A catalog snapshot to generate from (`schema --from-postgres --json`); with --schema,
    /// it must have been made from that source as it is now.
    #[arg(long)]
    catalog: Option<PathBuf>,
    /// The graphs.toml file.
    #[arg(long)]
    graphs: Option<PathBuf>,
}

impl Inputs {
    fn builder(&self) -> Builder {
        let mut builder = Builder::new();
        if let Some(schema) = &self.schema {
            builder.schema(schema);
        }
        if let Some(catalog) = &self.catalog {
            builder.catalog(catalog);
        }
        if let Some(graphs) = &self.graphs {
            builder.graphs(graphs);
        }
        builder
    }
}

/// Exit code for bad input (schema, graphs.toml, stale file); 1 is left for crashes.
const BAD_INPUT: u8 = 2;

fn main() -> ExitCode {
    match run(Cli::parse()) {
        Ok(code) => code,
        Err(error) => {
            eprintln!("{error}");
            ExitCode::from(BAD_INPUT)
        }
    }
}

fn run(cli: Cli) -> Result<ExitCode, Error> {
    match cli.command {
        Command::Generate { inputs, out } => {
            inputs.builder().write_to(&out)?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Check { inputs, out } => match inputs.builder().check(&out)? {
            None => Ok(ExitCode::SUCCESS),
            Some(diff) => {
                eprintln!("{diff}");
                Ok(ExitCode::from(BAD_INPUT))
            }
        },
        Command::Explain { inputs, graph } => {
            let graphs = writegraph_codegen::explain(&inputs.builder().load()?)?;
            let unknown: Vec<&String> = graph
                .iter()
                .filter(|g| !graphs.iter().any(|e| &e.graph == *g))
                .collect();
            if !unknown.is_empty() {
                let names: Vec<&str> = graphs.iter().map(|e| e.graph.as_str()).collect();
                let hint = if names.is_empty() {
                    "there are none: pass the graphs file with --graphs".to_owned()
                } else {
                    format!("graphs are: {}", names.join(", "))
                };
                eprintln!("error: no graph named {unknown:?}; {hint}");
                return Ok(ExitCode::from(BAD_INPUT));
            }
            for explained in graphs
                .iter()
                .filter(|e| graph.is_empty() || graph.contains(&e.graph))
            {
                println!("-- {}", explained.graph);
                for (label, sql) in &explained.statements {
                    println!("-- {label}\n{sql}\n");
                }
            }
            Ok(ExitCode::SUCCESS)
        }
        Command::Verify {
            inputs,
            database_url,
        } => {
            let expected = writegraph_codegen::expected_schema(&inputs.builder().load()?)?;
            let differences = verify_database(&expected, &database_url)?;
            if differences.is_empty() {
                println!(
                    "the database matches the schema the code is generated from ({} tables, {} enum types)",
                    expected.tables.len(),
                    expected.enums.len()
                );
                return Ok(ExitCode::SUCCESS);
            }
            let mismatch = writegraph::verify::SchemaMismatch { differences };
            println!("{mismatch}");
            Ok(ExitCode::from(BAD_INPUT))
        }
        Command::Schema {
            schema,
            json,
            from_postgres,
            database_url,
        } => {
            let files = schema
                .as_deref()
                .map(source::read_schema_source)
                .transpose()?;
            // Only read: the catalog is printed as read, without mapping types to Rust, so
            // that a schema with types writegraph does not map (tsvector, ltree) prints too.
            let mut catalog = if from_postgres {
                catalog_from_postgres(files.as_deref(), database_url.as_deref())?
            } else {
                ddl::read_schema(files.as_deref().unwrap_or_default())?
            };
            catalog.source_digest = files.as_deref().map(snapshot::source_digest);
            if json {
                print!("{}", snapshot::to_json(&catalog)?);
            } else {
                print!("{}", catalog::render_text(&catalog));
            }
            Ok(ExitCode::SUCCESS)
        }
    }
}

/// The catalog PostgreSQL builds: `files` applied to a fresh throwaway database, or the
/// database at `url` read as it is.
fn catalog_from_postgres(
    files: Option<&[writegraph_codegen::SourceFile]>,
    url: Option<&str>,
) -> Result<Catalog, Error> {
    let failed = |path: &str, message: String| Error::Io {
        path: path.to_owned(),
        message,
    };
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| failed("<runtime>", format!("cannot start the async runtime: {e}")))?;
    runtime.block_on(async {
        let (client, _db) = match url {
            Some(url) => {
                let (client, connection) = tokio_postgres::connect(url, tokio_postgres::NoTls)
                    .await
                    .map_err(|e| {
                        failed(
                            "--database-url",
                            format!("cannot connect: {}", introspect::db_message(&e)),
                        )
                    })?;
                tokio::spawn(connection);
                (client, None)
            }
            None => {
                let db = writegraph_testing::database().await.map_err(|e| {
                    failed(
                        "<throwaway PostgreSQL>",
                        format!("cannot start a throwaway PostgreSQL: {e}"),
                    )
                })?;
                let client = db.connect().await.map_err(|e| {
                    failed("<throwaway PostgreSQL>", format!("cannot connect: {e}"))
                })?;
                introspect::apply_files(&client, files.unwrap_or_default())
                    .await
                    .map_err(|e| match e {
                        introspect::IntrospectError::Apply { path, message } => {
                            failed(&path, format!("PostgreSQL rejected the file: {message}"))
                        }
                        other => failed("<schema>", other.to_string()),
                    })?;
                (client, Some(db))
            }
        };
        introspect::read_catalog(&client)
            .await
            .map_err(|e| failed("<pg_catalog>", e.to_string()))
    })
}

/// Every difference between the database at `url` and `expected`, through the runtime's
/// check (the one generated `verify_database` runs).
fn verify_database(
    expected: &writegraph_codegen::verify::ExpectedSchema,
    url: &str,
) -> Result<Vec<writegraph::verify::SchemaDifference>, Error> {
    use writegraph::verify::{
        ExpectedColumn, ExpectedEnum, ExpectedKey, ExpectedSchema, ExpectedTable,
    };
    let enum_labels: Vec<Vec<&str>> = expected
        .enums
        .iter()
        .map(|e| e.labels.iter().map(String::as_str).collect())
        .collect();
    let enums: Vec<ExpectedEnum<'_>> = expected
        .enums
        .iter()
        .zip(&enum_labels)
        .map(|(e, labels)| ExpectedEnum::new(&e.schema, &e.name, labels))
        .collect();
    let expected = &expected.tables;
    let failed = |path: &str, message: String| Error::Io {
        path: path.to_owned(),
        message,
    };
    let key_columns: Vec<Vec<Vec<&str>>> = expected
        .iter()
        .map(|t| {
            t.keys
                .iter()
                .map(|k| k.columns.iter().map(String::as_str).collect())
                .collect()
        })
        .collect();
    let columns: Vec<Vec<ExpectedColumn<'_>>> = expected
        .iter()
        .map(|t| {
            t.columns
                .iter()
                .map(|c| ExpectedColumn::new(&c.name, &c.sql_type, c.not_null))
                .collect()
        })
        .collect();
    let keys: Vec<Vec<ExpectedKey<'_>>> = expected
        .iter()
        .zip(&key_columns)
        .map(|(t, key_columns)| {
            t.keys
                .iter()
                .zip(key_columns)
                .map(|(k, columns)| ExpectedKey {
                    columns,
                    primary: k.primary,
                    constraint: k.constraint.as_deref(),
                    used_by: &k.used_by,
                })
                .collect()
        })
        .collect();
    let tables: Vec<ExpectedTable<'_>> = expected
        .iter()
        .zip(columns.iter().zip(&keys))
        .map(|(t, (columns, keys))| ExpectedTable::new(&t.schema, &t.name, columns, keys))
        .collect();
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| failed("<runtime>", format!("cannot start the async runtime: {e}")))?;
    runtime.block_on(async {
        let (client, connection) = tokio_postgres::connect(url, tokio_postgres::NoTls)
            .await
            .map_err(|e| {
                failed(
                    "--database-url",
                    format!("cannot connect: {}", introspect::db_message(&e)),
                )
            })?;
        tokio::spawn(connection);
        let schema = ExpectedSchema {
            tables: &tables,
            enums: &enums,
        };
        writegraph::verify::schema_differences(&client, &schema)
            .await
            .map_err(|e| failed("<pg_catalog>", format!("reading the catalog failed: {e}")))
    })
}
