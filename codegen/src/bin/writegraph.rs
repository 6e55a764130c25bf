//! The `writegraph` command: generate code to a file, check a checked-in copy, and show the
//! catalog the schema reader built.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use writegraph_codegen::{catalog, Builder, Error};

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
    /// Exit non-zero with a short diff when a checked-in generated file is stale.
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
    /// Print the catalog the schema reader built.
    Schema {
        /// A .sql file or a migrations folder.
        #[arg(long)]
        schema: PathBuf,
        /// Print JSON (the shape the differential tests compare with pg_catalog).
        #[arg(long)]
        json: bool,
    },
}

#[derive(Debug, clap::Args)]
struct Inputs {
    /// A .sql file or a migrations folder.
    #[arg(long)]
    schema: PathBuf,
    /// The graphs.toml file.
    #[arg(long)]
    graphs: Option<PathBuf>,
}

impl Inputs {
    fn builder(&self) -> Builder {
        let mut builder = Builder::new();
        builder.schema(&self.schema);
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
            let statements = writegraph_codegen::explain(&inputs.builder().load()?)?;
            let unknown: Vec<&String> = graph
                .iter()
                .filter(|g| !statements.iter().any(|(n, _)| n == *g))
                .collect();
            if !unknown.is_empty() {
                let names: Vec<&str> = statements.iter().map(|(n, _)| n.as_str()).collect();
                eprintln!(
                    "error: no graph named {unknown:?}; graphs are: {}",
                    names.join(", ")
                );
                return Ok(ExitCode::from(BAD_INPUT));
            }
            for (name, sql) in statements
                .iter()
                .filter(|(n, _)| graph.is_empty() || graph.contains(n))
            {
                println!("-- {name}\n{}\n", pretty_sql(sql));
            }
            Ok(ExitCode::SUCCESS)
        }
        Command::Schema { schema, json } => {
            let catalog = Builder::new().schema(&schema).generate()?.catalog;
            if json {
                let text = serde_json::to_string_pretty(&catalog).map_err(|e| Error::Io {
                    path: "<stdout>".to_owned(),
                    message: format!("cannot render the catalog as JSON: {e}"),
                })?;
                println!("{text}");
            } else {
                print!("{}", catalog::render_text(&catalog));
            }
            Ok(ExitCode::SUCCESS)
        }
    }
}

/// Puts each CTE of a graph statement on its own line, for reading.
fn pretty_sql(sql: &str) -> String {
    let mut out = sql
        .replacen("WITH ", "WITH\n  ", 1)
        .replace(", root AS (", ",\n  root AS (");
    out = out
        .replace(" FROM root ", "\n  FROM root ")
        .replace(" SELECT root.", "\nSELECT root.");
    for step in 0.. {
        let mut found = false;
        for name in [
            format!("s{step} AS ("),
            format!("c{step}_del AS ("),
            format!("c{step}_ins AS ("),
            format!("c{step}_up AS ("),
        ] {
            if out.contains(&format!(", {name}")) {
                out = out.replace(&format!(", {name}"), &format!(",\n  {name}"));
                found = true;
            }
        }
        if !found {
            break;
        }
    }
    out
}
