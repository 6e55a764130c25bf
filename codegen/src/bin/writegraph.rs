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
                    println!("-- {label}\n{}\n", pretty_sql(sql));
                }
            }
            Ok(ExitCode::SUCCESS)
        }
        Command::Schema { schema, json } => {
            // Only read: the catalog is printed as read, without mapping types to Rust, so
            // that a schema with types writegraph does not map (tsvector, ltree) prints too.
            let input = Builder::new().schema(&schema).load()?;
            let catalog = writegraph_codegen::ddl::read_schema(&input.schema)?;
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

/// Puts each CTE of a statement on its own line, and the final SELECT on another, for
/// reading. Only commas outside parentheses and quotes split.
fn pretty_sql(sql: &str) -> String {
    let Some(body) = sql.strip_prefix("WITH ") else {
        return sql.to_owned();
    };
    let mut out = String::from("WITH\n  ");
    let mut depth = 0usize;
    let mut quote = None;
    let mut in_select = false;
    let mut skip_space = false;
    for (at, c) in body.char_indices() {
        if skip_space {
            skip_space = false;
            if c == ' ' {
                continue;
            }
        }
        if let Some(open) = quote {
            out.push(c);
            if c == open {
                quote = None;
            }
            continue;
        }
        match c {
            '\'' | '"' => quote = Some(c),
            '(' => depth += 1,
            ')' => depth = depth.saturating_sub(1),
            ',' if depth == 0 && !in_select => {
                out.push_str(",\n  ");
                skip_space = true;
                continue;
            }
            ' ' if depth == 0 && !in_select && body[at..].starts_with(" SELECT ") => {
                out.push('\n');
                in_select = true;
                continue;
            }
            _ => {}
        }
        out.push(c);
    }
    out
}
