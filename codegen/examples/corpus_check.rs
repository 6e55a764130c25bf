//! Holds the schema reader against real applications' schemas: each schema in a manifest is
//! applied to throwaway PostgreSQL clusters (15, and 18 when `PG18_BIN` names its server
//! binaries), read back from `pg_catalog`, read by our reader, and the two catalogs compared
//! item by item with the differential tests' machinery. Not run by CI: the schemas are local
//! copies of other projects, never committed.
//!
//! ```text
//! PG18_BIN=/opt/pg18/bin cargo run -p writegraph-codegen --example corpus_check -- \
//!     corpus/manifest.toml [--report corpus/REPORT.md]
//! ```
//!
//! The manifest lists each schema, relative to the manifest's folder:
//!
//! ```toml
//! [[schema]]
//! name = "supabase-auth"
//! path = "supabase-auth/migrations"
//! layout = "golang-migrate"      # pg_dump | diesel | sqlx | golang-migrate | prisma | flyway
//! before = "CREATE SCHEMA auth;" # applied (and read) first, as the deployment does
//! replace = [['{{ index .Options "Namespace" }}', "auth"]]
//! without_extensions = ["pgcrypto"] # left out where the server lacks it
//! ```
//!
//! `layout` gives the order the schema's own migration tool applies the files in; they are
//! applied in that order with `psql` (one file at a time, stopping at the first error), and
//! the reader reads the same files, prepared the same way. Separately, the folder is read the
//! way `Builder::schema` reads it, and any difference in the files or their order is reported.
//! PostgreSQL 15's binaries are found as the tests find them (`PATH`, `/usr/lib/postgresql`),
//! or named by `PG15_BIN`.
//!
//! It prints a table (schema, layout, server, files, statements, reader errors, items equal,
//! items differing) and, with `--report`, writes it as Markdown with every difference, every
//! reader error, and what could not be applied; `NOTES.md` beside the manifest, when present,
//! is copied to the top of the report.
//!
//! Two other checks start no server:
//!
//! - `--time [N]` reads each schema `N` times (5 unless given) and prints the best and the
//!   median wall time of `ddl::read_schema` (build with `--release` for figures that mean
//!   something).
//! - `--compile [DIR]` generates each schema's code, with a `[types]` line (as text,
//!   `String`) for each column type writegraph does not map and no graphs, into a throwaway
//!   crate under `DIR` (`/tmp/writegraph-corpus-compile` unless given) that depends on the
//!   `writegraph` runtime by path, and builds it with `cargo build` and warnings denied; the
//!   crates share one target folder. It prints, per schema, the stage that failed (read,
//!   generate, build) and the first errors, or `ok`.

#[path = "../tests/support/mod.rs"]
mod support;

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use serde::Deserialize;
use serde_json::{json, Value};
use writegraph_codegen::types::TypeMapper;
use writegraph_codegen::{ddl, introspect, source, Catalog, Error, Input, SourceFile};
use writegraph_testing::{ClusterOptions, Server};

type Result<T, E = Box<dyn std::error::Error>> = std::result::Result<T, E>;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Manifest {
    schema: Vec<Entry>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Entry {
    name: String,
    path: PathBuf,
    layout: Layout,
    #[serde(default)]
    before: Option<String>,
    #[serde(default)]
    replace: Vec<(String, String)>,
    /// Extensions whose `CREATE EXTENSION` lines are left out on a server that lacks them,
    /// because the schema uses nothing of theirs that PostgreSQL does not have built in
    /// (`pgcrypto` for `gen_random_uuid()`).
    #[serde(default)]
    without_extensions: Vec<String>,
}

#[derive(Debug, Clone, Copy, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "kebab-case")]
enum Layout {
    /// Spelled as the tool is named (`pg_dump`) or in kebab case like the others.
    #[serde(alias = "pg_dump")]
    PgDump,
    Diesel,
    Sqlx,
    GolangMigrate,
    Prisma,
    Flyway,
}

impl Layout {
    fn name(self) -> &'static str {
        match self {
            Layout::PgDump => "pg_dump",
            Layout::Diesel => "diesel",
            Layout::Sqlx => "sqlx",
            Layout::GolangMigrate => "golang-migrate",
            Layout::Prisma => "prisma",
            Layout::Flyway => "flyway",
        }
    }
}

/// One server to check on.
struct Target {
    label: String,
    bin_dir: Option<PathBuf>,
}

/// What one schema gave on one server.
#[derive(Default)]
struct Outcome {
    schema: String,
    layout: &'static str,
    server: String,
    files: usize,
    statements: usize,
    reader_errors: Option<usize>,
    /// How long the reader took, in milliseconds.
    read_ms: f64,
    equal: Option<usize>,
    differing: Option<usize>,
    note: String,
    /// Every difference, one line each.
    differences: Vec<String>,
    /// The reader's error messages, first line of each.
    errors: Vec<String>,
}

fn main() -> std::process::ExitCode {
    match run() {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            std::process::ExitCode::FAILURE
        }
    }
}

fn run() -> Result<()> {
    let args = std::env::args().skip(1);
    let mut manifest_path = None;
    let mut report_path = None;
    let mut time_runs = None;
    let mut compile_dir = None;
    let mut args = args.peekable();
    let optional_value = |args: &mut std::iter::Peekable<std::iter::Skip<std::env::Args>>| {
        args.next_if(|a| !a.starts_with("--") && !a.ends_with(".toml"))
    };
    while let Some(arg) = args.next() {
        if arg == "--report" {
            report_path = Some(PathBuf::from(args.next().ok_or("--report needs a path")?));
        } else if arg == "--time" {
            time_runs = Some(match optional_value(&mut args) {
                Some(n) => n.parse::<usize>().map_err(|e| format!("--time {n}: {e}"))?,
                None => 5,
            });
        } else if arg == "--compile" {
            compile_dir = Some(optional_value(&mut args).map_or_else(
                || PathBuf::from("/tmp/writegraph-corpus-compile"),
                PathBuf::from,
            ));
        } else {
            manifest_path = Some(PathBuf::from(arg));
        }
    }
    let manifest_path = manifest_path.ok_or(
        "usage: corpus_check <manifest.toml> [--report <file.md>] [--time [N]] [--compile [DIR]]",
    )?;
    let base = manifest_path
        .parent()
        .map(Path::to_path_buf)
        .unwrap_or_default();
    let manifest: Manifest = toml::from_str(&std::fs::read_to_string(&manifest_path)?)?;
    if let Some(runs) = time_runs {
        return time_reader(&base, &manifest, runs.max(1));
    }
    if let Some(dir) = compile_dir {
        return compile_all(&base, &manifest, &dir);
    }

    let mut targets = vec![Target {
        label: "15".to_owned(),
        bin_dir: std::env::var_os("PG15_BIN").map(PathBuf::from),
    }];
    match std::env::var_os("PG18_BIN") {
        Some(dir) => targets.push(Target {
            label: "18".to_owned(),
            bin_dir: Some(PathBuf::from(dir)),
        }),
        None => eprintln!("PG18_BIN is not set: checking on PostgreSQL 15 only"),
    }

    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    let mut outcomes = Vec::new();
    for target in &targets {
        let server = Server::start(&ClusterOptions {
            bin_dir: target.bin_dir.clone(),
            ..ClusterOptions::default()
        })?;
        let psql = server
            .bin_dir()
            .map(|d| d.join("psql"))
            .ok_or("the cluster has no binary folder")?;
        for entry in &manifest.schema {
            eprintln!("{} on PostgreSQL {} ...", entry.name, target.label);
            let outcome = runtime.block_on(check(&server, &psql, &base, entry, &target.label));
            outcomes.push(outcome);
        }
    }

    let table = render_table(&outcomes);
    print!("{table}");
    if let Some(path) = report_path {
        let notes = std::fs::read_to_string(base.join("NOTES.md")).unwrap_or_default();
        std::fs::write(&path, render_report(&notes, &table, &outcomes))?;
        eprintln!("wrote {}", path.display());
    }
    Ok(())
}

/// Applies, reads and compares one schema on one server; every failure is recorded in the
/// outcome, never returned.
async fn check(
    server: &Server,
    psql: &Path,
    base: &Path,
    entry: &Entry,
    server_label: &str,
) -> Outcome {
    let mut outcome = Outcome {
        schema: entry.name.clone(),
        layout: entry.layout.name(),
        server: server_label.to_owned(),
        ..Outcome::default()
    };
    let root = base.join(&entry.path);
    let (files, mut prepared) = match prepare(base, entry) {
        Ok(prepared) => prepared,
        Err(note) => {
            outcome.note = note;
            return outcome;
        }
    };
    outcome.files = files.len();
    outcome.statements = prepared
        .iter()
        .map(|f| ddl::split::split_statements(&f.text).map_or(0, |s| s.len()))
        .sum();

    let mut notes = Vec::new();
    if let Some(layout_note) = compare_layout(&root, &files) {
        notes.push(layout_note);
    }

    let started = std::time::Instant::now();
    let reader = ddl::read_schema(&prepared);
    outcome.read_ms = started.elapsed().as_secs_f64() * 1000.0;
    match &reader {
        Ok(_) => outcome.reader_errors = Some(0),
        Err(e) => {
            let errors = flatten(e);
            outcome.reader_errors = Some(errors.len());
            outcome.errors = errors;
        }
    }

    let db = match server.database().await {
        Ok(db) => db,
        Err(e) => {
            outcome.note = format!("no database: {e}");
            return outcome;
        }
    };
    let client = match db.connect().await {
        Ok(c) => c,
        Err(e) => {
            outcome.note = format!("cannot connect: {e}");
            return outcome;
        }
    };
    let mut missing = missing_extensions(&client, &prepared).await;
    let left_out: Vec<String> = missing
        .iter()
        .filter(|m| entry.without_extensions.contains(m))
        .cloned()
        .collect();
    if !left_out.is_empty() {
        for file in &mut prepared {
            file.text = file
                .text
                .lines()
                .filter(|line| {
                    let lower = line.to_ascii_lowercase();
                    !(lower.contains("create extension")
                        && left_out.iter().any(|name| lower.contains(name.as_str())))
                })
                .map(|line| format!("{line}\n"))
                .collect();
        }
        missing.retain(|m| !left_out.contains(m));
        notes.push(format!(
            "CREATE EXTENSION {} left out (this server lacks it)",
            left_out.join(", ")
        ));
    }
    if !missing.is_empty() {
        notes.push(format!(
            "not applied: needs extension {} which this server lacks",
            missing.join(", ")
        ));
        outcome.note = notes.join("; ");
        return outcome;
    }
    for file in &prepared {
        if let Err(message) = apply_with_psql(psql, &db.connection_string(), file) {
            notes.push(format!("PostgreSQL rejected {}: {message}", file.path));
            outcome.note = notes.join("; ");
            return outcome;
        }
    }
    let postgres = match introspect::read_catalog(&client).await {
        Ok(c) => c,
        Err(e) => {
            notes.push(format!("cannot read pg_catalog: {e}"));
            outcome.note = notes.join("; ");
            return outcome;
        }
    };
    if let Ok(ours) = &reader {
        match compare_items(&client, ours, &postgres).await {
            Ok((equal, differences)) => {
                outcome.equal = Some(equal);
                outcome.differing = Some(differences.len());
                outcome.differences = differences;
            }
            Err(e) => notes.push(format!("comparison failed: {e}")),
        }
    } else {
        notes.push(format!(
            "{} items in pg_catalog not compared",
            items(&postgres_json(&postgres)).len()
        ));
    }
    outcome.note = notes.join("; ");
    outcome
}

/// The schema's files in the order its tool applies them, and the text the reader and the
/// server are given (`before` first, `replace` done).
fn prepare(
    base: &Path,
    entry: &Entry,
) -> std::result::Result<(Vec<PathBuf>, Vec<SourceFile>), String> {
    let root = base.join(&entry.path);
    let files =
        tool_order(&root, entry.layout).map_err(|e| format!("cannot list the migrations: {e}"))?;
    let mut prepared = Vec::new();
    if let Some(before) = &entry.before {
        prepared.push(SourceFile::new("<before>", before.clone()));
    }
    for path in &files {
        let mut text = std::fs::read_to_string(path)
            .map_err(|e| format!("cannot read {}: {e}", path.display()))?;
        for (from, to) in &entry.replace {
            text = text.replace(from, to);
        }
        let shown = path
            .strip_prefix(base)
            .unwrap_or(path)
            .display()
            .to_string();
        prepared.push(SourceFile::new(shown, text));
    }
    Ok((files, prepared))
}

/// `--time`: the reader's wall time on each schema, best and median of `runs` reads.
fn time_reader(base: &Path, manifest: &Manifest, runs: usize) -> Result<()> {
    println!(
        "| schema | files | statements | reader errors | best ms | median ms ({} runs, {}) |",
        runs,
        if cfg!(debug_assertions) {
            "debug"
        } else {
            "release"
        }
    );
    println!("|---|---:|---:|---:|---:|---:|");
    for entry in &manifest.schema {
        let (files, prepared) = prepare(base, entry)?;
        let statements: usize = prepared
            .iter()
            .map(|f| ddl::split::split_statements(&f.text).map_or(0, |s| s.len()))
            .sum();
        let mut times = Vec::with_capacity(runs);
        let mut errors = 0;
        for _ in 0..runs {
            let started = std::time::Instant::now();
            let read = std::hint::black_box(ddl::read_schema(&prepared));
            times.push(started.elapsed().as_secs_f64() * 1000.0);
            errors = read.as_ref().err().map_or(0, |e| flatten(e).len());
        }
        times.sort_by(f64::total_cmp);
        println!(
            "| {} | {} | {} | {} | {:.1} | {:.1} |",
            entry.name,
            files.len(),
            statements,
            errors,
            times[0],
            times[times.len() / 2]
        );
    }
    Ok(())
}

/// `--compile`: generates each schema's code into a throwaway crate under `dir` and builds
/// it with warnings denied.
fn compile_all(base: &Path, manifest: &Manifest, dir: &Path) -> Result<()> {
    let workspace = Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .ok_or("the codegen package has no parent folder")?
        .to_path_buf();
    let runtime = workspace.join("runtime");
    let target = dir.join("target");
    std::fs::create_dir_all(&target)?;
    println!("| schema | tables | `[types]` lines | stage | result |");
    println!("|---|---:|---:|---|---|");
    for entry in &manifest.schema {
        eprintln!("{}: generating and building ...", entry.name);
        let (tables, types, stage, result) =
            match compile_one(base, entry, dir, &runtime, &workspace, &target) {
                Ok((tables, types)) => {
                    (tables.to_string(), types.to_string(), "-", "ok".to_owned())
                }
                Err(failure) => (
                    failure.tables.map_or("-".to_owned(), |t| t.to_string()),
                    failure.types.map_or("-".to_owned(), |t| t.to_string()),
                    failure.stage,
                    failure.message,
                ),
            };
        println!(
            "| {} | {} | {} | {} | {} |",
            entry.name,
            tables,
            types,
            stage,
            result.replace('|', "\\|").replace('\n', "<br>")
        );
    }
    Ok(())
}

/// Where `--compile` stopped on one schema.
struct CompileFailure {
    tables: Option<usize>,
    types: Option<usize>,
    stage: &'static str,
    message: String,
}

/// Reads, generates and builds one schema; the table count and `[types]` lines on success.
fn compile_one(
    base: &Path,
    entry: &Entry,
    dir: &Path,
    runtime: &Path,
    workspace: &Path,
    target: &Path,
) -> std::result::Result<(usize, usize), CompileFailure> {
    let fail = |stage, tables, types, message: String| CompileFailure {
        tables,
        types,
        stage,
        message,
    };
    let (_, prepared) = prepare(base, entry).map_err(|e| fail("read", None, None, e))?;
    let catalog = ddl::read_schema(&prepared)
        .map_err(|e| fail("read", None, None, first_lines(&flatten(&e).join("\n"), 5)))?;
    let tables = catalog.tables.len();
    let mapper = TypeMapper::new(&catalog, BTreeMap::new());
    let mut unmapped = std::collections::BTreeSet::new();
    for table in &catalog.tables {
        for column in &table.columns {
            if let Err(unsupported) = mapper.map(&column.sql_type) {
                unmapped.insert(unsupported.key);
            }
        }
    }
    let mut graphs = String::from("[types]\n");
    for key in &unmapped {
        let _ = writeln!(graphs, "{} = \"::std::string::String\"", toml_key(key));
    }
    let types = unmapped.len();
    let input = Input {
        schema: prepared,
        catalog: None,
        graphs: Some(SourceFile::new("graphs.toml", graphs.clone())),
        attributes: Vec::new(),
        ..Input::default()
    };
    let output = writegraph_codegen::generate(&input).map_err(|e| {
        fail(
            "generate",
            Some(tables),
            Some(types),
            first_lines(&e.to_string(), 5),
        )
    })?;
    let krate = dir.join(&entry.name);
    let write = |path: PathBuf, text: &str| {
        std::fs::create_dir_all(path.parent().unwrap_or(dir))
            .and_then(|()| std::fs::write(&path, text))
            .map_err(|e| {
                fail(
                    "build",
                    Some(tables),
                    Some(types),
                    format!("cannot write {}: {e}", path.display()),
                )
            })
    };
    let package = format!(
        "corpus-{}",
        entry
            .name
            .replace(|c: char| !c.is_ascii_alphanumeric(), "-")
    );
    write(
        krate.join("Cargo.toml"),
        &format!(
            "[package]\nname = \"{package}\"\nversion = \"0.0.0\"\nedition = \"2021\"\npublish = false\n\n\
             [dependencies]\nwritegraph = {{ path = {:?}, features = [\"uuid\", \"chrono\", \"serde_json\", \"rust_decimal\"] }}\n\n\
             [workspace]\n",
            runtime.display().to_string()
        ),
    )?;
    write(krate.join("graphs.toml"), &graphs)?;
    write(krate.join("src/generated.rs"), &output.code)?;
    write(
        krate.join("src/lib.rs"),
        "//! The corpus schema's generated code, built with warnings denied.\n#![deny(warnings)]\ninclude!(\"generated.rs\");\n",
    )?;
    // The workspace's lock file, so that the same dependency versions are built (offline).
    if let Ok(lock) = std::fs::read_to_string(workspace.join("Cargo.lock")) {
        write(krate.join("Cargo.lock"), &lock)?;
    }
    let built = Command::new(std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into()))
        .args(["build", "--offline", "--quiet", "--message-format=short"])
        .current_dir(&krate)
        .env("CARGO_TARGET_DIR", target)
        .env_remove("RUSTFLAGS")
        .output()
        .map_err(|e| {
            fail(
                "build",
                Some(tables),
                Some(types),
                format!("cannot run cargo: {e}"),
            )
        })?;
    if built.status.success() {
        return Ok((tables, types));
    }
    let stderr = String::from_utf8_lossy(&built.stderr);
    let errors: Vec<&str> = stderr
        .lines()
        .filter(|l| l.contains("error") || l.contains("warning"))
        .collect();
    Err(fail(
        "build",
        Some(tables),
        Some(types),
        format!(
            "{} error/warning lines; first: {}",
            errors.len(),
            first_lines(&errors.join("\n"), 6)
        ),
    ))
}

/// A `[types]` key as TOML: quoted when it is not a bare key.
fn toml_key(key: &str) -> String {
    if !key.is_empty()
        && key
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
    {
        key.to_owned()
    } else {
        format!("{key:?}")
    }
}

/// The first `n` lines of `text`.
fn first_lines(text: &str, n: usize) -> String {
    text.lines().take(n).collect::<Vec<_>>().join("\n")
}

/// The files of a migrations folder in the order `layout`'s tool applies them.
fn tool_order(root: &Path, layout: Layout) -> Result<Vec<PathBuf>> {
    if layout == Layout::PgDump {
        return Ok(vec![root.to_path_buf()]);
    }
    let mut keyed: Vec<(Vec<u128>, String, PathBuf)> = Vec::new();
    for entry in std::fs::read_dir(root)? {
        let path = entry?.path();
        let name = path
            .file_name()
            .and_then(|n| n.to_str())
            .unwrap_or_default()
            .to_owned();
        let numbers = |text: &str| -> Vec<u128> {
            text.split(|c: char| !c.is_ascii_digit())
                .filter(|p| !p.is_empty())
                .filter_map(|p| p.parse().ok())
                .collect()
        };
        match layout {
            Layout::Diesel | Layout::Prisma => {
                let file = if layout == Layout::Diesel {
                    "up.sql"
                } else {
                    "migration.sql"
                };
                if path.join(file).is_file() {
                    // diesel compares versions (dashes removed) as text, prisma folder names.
                    let key = if layout == Layout::Diesel {
                        name.split('_').next().unwrap_or_default().replace('-', "")
                    } else {
                        name.clone()
                    };
                    keyed.push((Vec::new(), key, path.join(file)));
                }
            }
            Layout::Sqlx | Layout::GolangMigrate => {
                if name.ends_with(".sql") && !name.ends_with(".down.sql") {
                    let version = name.split('_').next().unwrap_or_default();
                    if let Ok(v) = version.parse::<u128>() {
                        keyed.push((vec![v], String::new(), path));
                    }
                }
            }
            Layout::Flyway => {
                if let Some(rest) = name.strip_prefix('V') {
                    if let Some((version, _)) = rest.split_once("__") {
                        if name.ends_with(".sql") {
                            keyed.push((numbers(version), String::new(), path));
                        }
                    }
                }
            }
            Layout::PgDump => {}
        }
    }
    keyed.sort();
    Ok(keyed.into_iter().map(|(_, _, p)| p).collect())
}

/// How `Builder::schema` reads the folder, when that is not the tool's order.
fn compare_layout(root: &Path, tool: &[PathBuf]) -> Option<String> {
    if root.is_file() {
        return None;
    }
    match source::migration_files(root) {
        Err(e) => Some(format!("Builder::schema cannot read the folder: {e}")),
        Ok(ours) if ours.is_empty() => Some("Builder::schema finds no migrations".to_owned()),
        Ok(ours) if ours != tool => {
            let first = ours
                .iter()
                .zip(tool)
                .position(|(a, b)| a != b)
                .unwrap_or(ours.len().min(tool.len()));
            Some(format!(
                "Builder::schema reads {} files, the tool applies {}; first difference at #{}: ours {:?}, tool {:?}",
                ours.len(),
                tool.len(),
                first + 1,
                ours.get(first).map(|p| p.display().to_string()),
                tool.get(first).map(|p| p.display().to_string())
            ))
        }
        Ok(_) => None,
    }
}

/// Each error of the reader, its first two lines (message and source line).
fn flatten(error: &Error) -> Vec<String> {
    match error {
        Error::Many(errors) => errors.iter().flat_map(flatten).collect(),
        other => {
            let text = other.to_string();
            let mut lines = text.lines();
            let first = lines.next().unwrap_or_default().to_owned();
            let source = lines.nth(1).map(str::trim).unwrap_or_default().to_owned();
            vec![if source.is_empty() {
                first
            } else {
                format!("{first}  ⟨{source}⟩")
            }]
        }
    }
}

/// Extensions the source creates that the server cannot install.
async fn missing_extensions(client: &tokio_postgres::Client, files: &[SourceFile]) -> Vec<String> {
    let mut wanted = Vec::new();
    for file in files {
        let lower = file.text.to_ascii_lowercase();
        let mut rest = lower.as_str();
        while let Some(at) = rest.find("create extension") {
            rest = &rest[at + "create extension".len()..];
            let mut words = rest.split_whitespace();
            let mut word = words.next().unwrap_or_default();
            if word == "if" {
                words.next();
                words.next();
                word = words.next().unwrap_or_default();
            }
            let name = word
                .trim_matches(|c: char| c == '"' || c == ';' || c == '\'')
                .to_owned();
            if !name.is_empty() && !wanted.contains(&name) {
                wanted.push(name);
            }
        }
    }
    let mut missing = Vec::new();
    for name in wanted {
        let available = client
            .query_opt(
                "SELECT 1 FROM pg_catalog.pg_available_extensions WHERE name = $1",
                &[&name],
            )
            .await
            .map(|row| row.is_some())
            .unwrap_or(false);
        if !available {
            missing.push(name);
        }
    }
    missing
}

/// Runs one file with psql, statement by statement as psql does, stopping at the first error.
fn apply_with_psql(
    psql: &Path,
    connection: &str,
    file: &SourceFile,
) -> std::result::Result<(), String> {
    let mut child = Command::new(psql)
        .args([
            "-X",
            "-q",
            "-v",
            "ON_ERROR_STOP=1",
            "-d",
            connection,
            "-f",
            "-",
        ])
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| format!("cannot run {}: {e}", psql.display()))?;
    if let Some(mut stdin) = child.stdin.take() {
        stdin
            .write_all(file.text.as_bytes())
            .map_err(|e| format!("cannot write to psql: {e}"))?;
    }
    let output = child
        .wait_with_output()
        .map_err(|e| format!("psql failed: {e}"))?;
    if output.status.success() {
        Ok(())
    } else {
        let stderr = String::from_utf8_lossy(&output.stderr);
        Err(stderr.lines().take(3).collect::<Vec<_>>().join(" / "))
    }
}

fn postgres_json(catalog: &Catalog) -> Value {
    support::normalize(serde_json::to_value(catalog).unwrap_or(Value::Null))
}

/// The compared items of normalised catalog JSON, by a name such as
/// `column public.orders.status`, with the fields compared.
fn items(value: &Value) -> BTreeMap<String, Value> {
    let mut out = BTreeMap::new();
    let text = |v: &Value, k: &str| v[k].as_str().unwrap_or_default().to_owned();
    for table in value["tables"].as_array().into_iter().flatten() {
        let name = format!("{}.{}", text(table, "schema"), text(table, "name"));
        out.insert(
            format!("table {name}"),
            json!({"partition_of": table["partition_of"], "partitioned": table["partitioned"]}),
        );
        for column in table["columns"].as_array().into_iter().flatten() {
            out.insert(
                format!("column {name}.{}", text(column, "name")),
                json!({
                    "type": column["type"],
                    "not_null": column["not_null"],
                    "default": column["default"],
                    "identity": column["identity"],
                    "generated": column["generated"],
                }),
            );
        }
        let names: Vec<Value> = table["columns"]
            .as_array()
            .into_iter()
            .flatten()
            .map(|c| c["name"].clone())
            .collect();
        out.insert(format!("column order {name}"), Value::Array(names));
        if !table["primary_key"].as_array().is_none_or(Vec::is_empty) {
            out.insert(
                format!("primary key {name}"),
                json!({"columns": table["primary_key"], "name": table["primary_key_name"]}),
            );
        }
        for unique in table["uniques"].as_array().into_iter().flatten() {
            out.insert(
                format!("unique {name}.{}", text(unique, "name")),
                unique.clone(),
            );
        }
        for fk in table["foreign_keys"].as_array().into_iter().flatten() {
            out.insert(
                format!("foreign key {name}.{}", text(fk, "name")),
                fk.clone(),
            );
        }
    }
    for e in value["enums"].as_array().into_iter().flatten() {
        out.insert(
            format!("enum {}.{}", text(e, "schema"), text(e, "name")),
            e["labels"].clone(),
        );
    }
    for d in value["domains"].as_array().into_iter().flatten() {
        out.insert(
            format!("domain {}.{}", text(d, "schema"), text(d, "name")),
            json!({"base_type": d["base_type"], "not_null": d["not_null"], "default": d["default"]}),
        );
    }
    out
}

/// Compares item by item; returns the number of equal items and a line per difference.
/// Defaults present on both sides are also compared in meaning: PostgreSQL evaluates ours
/// and its own, cast to the column's type, with an empty search path.
async fn compare_items(
    client: &tokio_postgres::Client,
    ours: &Catalog,
    postgres: &Catalog,
) -> Result<(usize, Vec<String>)> {
    let ours_items = items(&support::normalize(serde_json::to_value(ours)?));
    let pg_items = items(&support::normalize(serde_json::to_value(postgres)?));
    let mut equal = 0;
    let mut differences = Vec::new();
    let mut keys: Vec<&String> = ours_items.keys().chain(pg_items.keys()).collect();
    keys.sort();
    keys.dedup();
    for key in keys {
        match (ours_items.get(key), pg_items.get(key)) {
            (Some(a), Some(b)) if a == b => {
                if let Some(problem) = default_meaning(client, key, ours, postgres).await {
                    differences.push(format!("{key}: default {problem}"));
                } else {
                    equal += 1;
                }
            }
            (Some(a), Some(b)) => {
                let lines = support::json_diff::diff(a, b, "ours", "postgres");
                differences.push(format!("{key}: {}", lines.join("; ")));
            }
            (Some(a), None) => differences.push(format!("{key}: only ours has it: {a}")),
            (None, Some(b)) => differences.push(format!("{key}: only postgres has it: {b}")),
            (None, None) => {}
        }
    }
    Ok((equal, differences))
}

/// For a `column s.t.c` item: `None` when both defaults mean the same (or there is none).
async fn default_meaning(
    client: &tokio_postgres::Client,
    key: &str,
    ours: &Catalog,
    postgres: &Catalog,
) -> Option<String> {
    let path = key.strip_prefix("column ")?;
    let find = |catalog: &Catalog| {
        catalog.tables.iter().find_map(|t| {
            let prefix = format!("{}.{}.", t.schema, t.table_name);
            let column = path.strip_prefix(&prefix)?;
            t.column(column)
                .map(|c| (c.default.clone(), c.sql_type.format()))
        })
    };
    let (Some(our_default), sql_type) = find(ours)? else {
        return None;
    };
    let (Some(pg_default), _) = find(postgres)? else {
        return None;
    };
    if our_default == pg_default {
        return None;
    }
    if normalise_default(&our_default) == normalise_default(&pg_default) {
        return None;
    }
    let evaluate = |expr: &str| format!("SELECT (({expr})::{sql_type})::text");
    let run = |sql: String| async move {
        let result = async {
            client
                .batch_execute("BEGIN; SET LOCAL search_path = ''")
                .await?;
            let row = client.query_one(&sql, &[]).await;
            client.batch_execute("ROLLBACK").await?;
            row.map(|r| r.get::<_, Option<String>>(0))
        }
        .await;
        if result.is_err() {
            let _ = client.batch_execute("ROLLBACK").await;
        }
        result
    };
    let pg_value = run(evaluate(&pg_default)).await;
    let pg_again = run(evaluate(&pg_default)).await;
    let our_value = run(evaluate(&our_default)).await;
    match (pg_value, pg_again, our_value) {
        (Ok(a), Ok(b), Ok(o)) if a == b && a == o => None,
        (Ok(a), Ok(b), Ok(_)) if a != b => {
            // A volatile default cannot be compared by value: the server stores ours, and the
            // stored text is compared with its own.
            let stored = stored_default(client, &our_default, &sql_type).await;
            match stored {
                Some(stored) if stored == pg_default => None,
                _ => Some(format!(
                    "(volatile) ours `{our_default}` vs postgres `{pg_default}`"
                )),
            }
        }
        (_, _, Ok(o)) => Some(format!(
            "means another value: ours `{our_default}` gives {o:?}, postgres `{pg_default}`"
        )),
        (_, _, Err(e)) => Some(format!(
            "ours `{our_default}` fails with an empty search_path ({}), postgres `{pg_default}`",
            introspect::db_message(&e)
        )),
    }
}

/// The text PostgreSQL stores for `default` on a column of `sql_type`, read back as the
/// catalog reader reads it (`search_path = pg_catalog`); None when the server rejects it.
async fn stored_default(
    client: &tokio_postgres::Client,
    default: &str,
    sql_type: &str,
) -> Option<String> {
    let result = async {
        client
            .batch_execute(&format!(
                "BEGIN; SET LOCAL search_path = ''; \
                 CREATE TEMP TABLE writegraph_default_probe (c {sql_type} DEFAULT {default}); \
                 SET LOCAL search_path = pg_catalog"
            ))
            .await?;
        client
            .query_one(
                "SELECT pg_catalog.pg_get_expr(d.adbin, d.adrelid) FROM pg_catalog.pg_attrdef d \
                 WHERE d.adrelid = 'pg_temp.writegraph_default_probe'::pg_catalog.regclass",
                &[],
            )
            .await
            .map(|row| row.get::<_, String>(0))
    }
    .await;
    let _ = client.batch_execute("ROLLBACK").await;
    result.ok()
}

/// A default's text without casts' `pg_catalog.`/`public.` qualifiers, spaces and case, for
/// spelling differences that cannot change the value.
fn normalise_default(text: &str) -> String {
    text.replace("pg_catalog.", "")
        .chars()
        .filter(|c| !c.is_whitespace())
        .collect::<String>()
        .to_ascii_lowercase()
}

fn render_table(outcomes: &[Outcome]) -> String {
    let mut out = String::new();
    let opt = |v: Option<usize>| v.map_or("-".to_owned(), |v| v.to_string());
    let _ = writeln!(
        out,
        "| schema | layout | PG | files | statements | reader errors | read ms ({}) | items equal | items differing | note |",
        if cfg!(debug_assertions) { "debug" } else { "release" }
    );
    let _ = writeln!(out, "|---|---|---|---:|---:|---:|---:|---:|---:|---|");
    for o in outcomes {
        let note: String = o.note.chars().take(240).collect();
        let _ = writeln!(
            out,
            "| {} | {} | {} | {} | {} | {} | {:.1} | {} | {} | {} |",
            o.schema,
            o.layout,
            o.server,
            o.files,
            o.statements,
            opt(o.reader_errors),
            o.read_ms,
            opt(o.equal),
            opt(o.differing),
            note.replace('|', "\\|")
        );
    }
    out
}

fn render_report(notes: &str, table: &str, outcomes: &[Outcome]) -> String {
    let mut out = String::new();
    out.push_str("# Corpus check: our reader against pg_catalog\n\n");
    out.push_str("Generated by `cargo run -p writegraph-codegen --example corpus_check -- manifest.toml --report REPORT.md`.\n\n");
    if !notes.is_empty() {
        out.push_str(notes);
        out.push_str("\n\n");
    }
    out.push_str("## Table\n\n");
    out.push_str(table);
    out.push('\n');
    for o in outcomes {
        let _ = writeln!(out, "## {} on PostgreSQL {}\n", o.schema, o.server);
        if !o.note.is_empty() {
            let _ = writeln!(out, "Note: {}\n", o.note);
        }
        if !o.errors.is_empty() {
            let _ = writeln!(out, "Reader errors ({}):\n", o.errors.len());
            for e in &o.errors {
                let _ = writeln!(out, "- `{}`", e.replace('`', "'"));
            }
            out.push('\n');
        }
        if !o.differences.is_empty() {
            let _ = writeln!(
                out,
                "Differences, ours vs postgres ({}):\n",
                o.differences.len()
            );
            for d in &o.differences {
                let _ = writeln!(out, "- {d}");
            }
            out.push('\n');
        }
    }
    out
}
