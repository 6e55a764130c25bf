//! The `writegraph` command: `schema`, `generate` and `check`, run as a user would.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

type TestResult = Result<(), Box<dyn std::error::Error>>;

fn writegraph(args: &[&str]) -> std::io::Result<Output> {
    Command::new(env!("CARGO_BIN_EXE_writegraph"))
        .args(args)
        .current_dir(workspace())
        .output()
}

/// The repository root, where the example's `schema/` and `graphs.toml` are.
fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// The example's migration files, in the order they apply (`001_shop.sql`, ...).
fn schema_files() -> std::io::Result<Vec<String>> {
    let mut names: Vec<String> = std::fs::read_dir(workspace().join("schema"))?
        .filter_map(|entry| entry.ok()?.file_name().into_string().ok())
        .filter(|name| name.ends_with(".sql"))
        .collect();
    names.sort();
    Ok(names)
}

fn scratch_dir(name: &str) -> std::io::Result<PathBuf> {
    let dir = std::env::temp_dir().join(format!("writegraph-cli-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir)?;
    Ok(dir)
}

#[test]
fn schema_prints_the_example_catalog() -> TestResult {
    let out = writegraph(&["schema", "--schema", "schema"])?;
    assert!(
        out.status.success(),
        "stderr: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8(out.stdout)?;
    for expected in [
        "enum public.order_status (pending, paid, shipped, cancelled)",
        "table public.order_items",
        "  order_id     bigint   not null",
        "  unique uq_order_items (order_id, sku)",
        "  foreign key order_items_order_id_fkey (order_id) references public.orders (id) on delete cascade on update no action",
        "table public.team_members",
        "  primary key (team_id, user_id)",
    ] {
        assert!(text.contains(expected), "missing `{expected}` in:\n{text}");
    }
    Ok(())
}

#[test]
fn schema_json_has_the_documented_shape() -> TestResult {
    let out = writegraph(&["schema", "--schema", "schema", "--json"])?;
    assert!(out.status.success());
    let json: serde_json::Value = serde_json::from_slice(&out.stdout)?;
    let tables = json["tables"].as_array().ok_or("tables is not an array")?;
    assert_eq!(tables.len(), 15);
    let products = tables
        .iter()
        .find(|t| t["name"] == "products")
        .ok_or("no products")?;
    assert_eq!(products["schema"], "public");
    assert_eq!(products["partition_of"], serde_json::Value::Null);
    assert_eq!(products["primary_key"], serde_json::json!(["id"]));
    let category = products["columns"]
        .as_array()
        .and_then(|c| c.iter().find(|c| c["name"] == "category_id"))
        .ok_or("no category_id")?;
    assert_eq!(category["type"], "integer");
    assert_eq!(category["not_null"], false);
    assert_eq!(category["identity"], serde_json::Value::Null);
    let fk = &products["foreign_keys"][0];
    assert_eq!(fk["ref_table"], "public.categories");
    assert_eq!(fk["on_delete"], "set null");
    assert_eq!(json["enums"][0]["name"], "order_status");
    assert_eq!(json["domains"], serde_json::json!([]));
    Ok(())
}

#[test]
fn bad_schema_exits_2_with_file_line_col() -> TestResult {
    let dir = scratch_dir("bad")?;
    let file = dir.join("bad.sql");
    std::fs::write(
        &file,
        "CREATE TABLE a (id int PRIMARY KEY);\nCREATE TABLE b (a_id int REFERENCES c (id));\n",
    )?;
    let out = writegraph(&["schema", "--schema", &file.display().to_string()])?;
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8(out.stderr)?;
    assert!(
        stderr.starts_with(&format!(
            "{}:2:37: error: column `a_id` of `b` references `c(id)`, but `c` is never created",
            file.display()
        )),
        "{stderr}"
    );
    assert!(stderr.contains("help:"), "{stderr}");
    std::fs::remove_dir_all(dir)?;
    Ok(())
}

#[test]
fn check_fails_with_a_diff_when_the_file_is_stale() -> TestResult {
    let dir = scratch_dir("check")?;
    let out_file = dir.join("generated.rs");
    let out_arg = out_file.display().to_string();
    let args = [
        "--schema",
        "schema",
        "--graphs",
        "graphs.toml",
        "--out",
        &out_arg,
    ];

    let generate = writegraph(&[&["generate"][..], &args].concat())?;
    assert!(
        generate.status.success(),
        "{}",
        String::from_utf8_lossy(&generate.stderr)
    );
    let fresh = writegraph(&[&["check"][..], &args].concat())?;
    assert_eq!(
        fresh.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&fresh.stderr)
    );

    let text = std::fs::read_to_string(&out_file)?;
    assert!(
        text.contains("pub struct OrderItem {"),
        "no OrderItem struct in the output"
    );
    std::fs::write(
        &out_file,
        text.replacen("pub struct OrderItem {", "pub struct OrderItme {", 1),
    )?;
    let stale = writegraph(&[&["check"][..], &args].concat())?;
    assert_eq!(stale.status.code(), Some(2));
    let stderr = String::from_utf8(stale.stderr)?;
    let lines: Vec<&str> = stderr.lines().collect();
    assert_eq!(lines[0], format!("{out_arg} is stale:"), "{stderr}");
    assert_eq!(lines[1], format!("--- {out_arg} (checked in)"), "{stderr}");
    assert_eq!(lines[2], format!("+++ {out_arg} (generated)"), "{stderr}");
    // One hunk: three lines of context, the changed line, three lines of context.
    let hunk = lines
        .get(3)
        .and_then(|l| l.strip_prefix("@@ -"))
        .ok_or(format!("no hunk header:\n{stderr}"))?;
    let (old_range, new_range) = hunk
        .trim_end_matches(" @@")
        .split_once(" +")
        .ok_or(format!("not a hunk header:\n{stderr}"))?;
    assert_eq!(old_range, new_range, "one line replaced by one");
    assert!(old_range.ends_with(",7"), "{stderr}");
    let body = &lines[4..lines.len() - 1];
    assert_eq!(body.len(), 8, "{stderr}");
    assert_eq!(body.iter().filter(|l| l.starts_with(' ')).count(), 6);
    assert_eq!(body[3], "-pub struct OrderItme {");
    assert_eq!(body[4], "+pub struct OrderItem {");
    assert_eq!(
        lines.last().copied(),
        Some("run `writegraph generate` with the same arguments to refresh it")
    );

    std::fs::remove_file(&out_file)?;
    let missing = writegraph(&[&["check"][..], &args].concat())?;
    assert_eq!(missing.status.code(), Some(2));
    std::fs::remove_dir_all(dir)?;
    Ok(())
}

#[test]
fn explain_prints_every_graph_statement() -> TestResult {
    let out = writegraph(&[
        "explain",
        "--schema",
        "schema",
        "--graphs",
        "graphs.toml",
        "NewOrderGraph",
    ])?;
    assert!(
        out.status.success(),
        "stderr: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8(out.stdout)?;
    assert!(
        text.starts_with(
            "-- NewOrderGraph\n-- SQL: insert_graph, insert_graph_report\nWITH root AS ("
        ),
        "{text}"
    );
    assert!(
        text.contains("-- SQL_RETURNING: insert_graph_returning"),
        "{text}"
    );
    assert!(text.contains("-- SQL_MANY: insert_graph_many"), "{text}");
    // The one-graph statement and the many-graph statement, each with its returning form.
    assert_eq!(
        text.matches("INSERT INTO \"public\".\"order_items\"")
            .count(),
        4,
        "{text}"
    );
    assert_eq!(
        text.matches("\nSELECT ").count(),
        4,
        "each statement's final SELECT on a line of its own: {text}"
    );
    assert_eq!(
        text.matches("-- New").count(),
        1,
        "only the graph asked for: {text}"
    );

    let all = writegraph(&["explain", "--schema", "schema", "--graphs", "graphs.toml"])?;
    let all = String::from_utf8(all.stdout)?;
    assert!(
        all.contains("-- NewProductGraph") && all.contains("-- NewOrderGraph"),
        "{all}"
    );
    // A graph whose comments return their rows shows that statement too.
    assert_eq!(
        all.matches("-- SQL_MANY_ROWS: insert_graph_rows").count(),
        1,
        "{all}"
    );

    let unknown = writegraph(&[
        "explain",
        "--schema",
        "schema",
        "--graphs",
        "graphs.toml",
        "NoSuchGraph",
    ])?;
    assert_eq!(unknown.status.code(), Some(2));
    assert!(String::from_utf8(unknown.stderr)?.contains("graphs are:"));
    Ok(())
}

/// `schema --from-postgres --json` writes a snapshot that `generate --catalog` uses, and that
/// `check` refuses once a migration is added after it.
#[test]
fn snapshot_from_postgres_then_check_fails_when_migrations_change() -> TestResult {
    let dir = scratch_dir("snapshot")?;
    let migrations = dir.join("migrations");
    std::fs::create_dir_all(&migrations)?;
    for name in schema_files()? {
        std::fs::copy(
            workspace().join("schema").join(&name),
            migrations.join(&name),
        )?;
    }
    let migrations_arg = migrations.display().to_string();
    let snapshot = writegraph(&[
        "schema",
        "--schema",
        &migrations_arg,
        "--from-postgres",
        "--json",
    ])?;
    assert!(
        snapshot.status.success(),
        "{}",
        String::from_utf8_lossy(&snapshot.stderr)
    );
    let json: serde_json::Value = serde_json::from_slice(&snapshot.stdout)?;
    let orders = json["tables"]
        .as_array()
        .and_then(|t| t.iter().find(|t| t["name"] == "orders"))
        .ok_or("no orders table in the snapshot")?;
    let status = orders["columns"]
        .as_array()
        .and_then(|c| c.iter().find(|c| c["name"] == "status"))
        .ok_or("no status column")?;
    assert_eq!(status["default"], "'pending'::public.order_status");
    assert!(
        json["source_digest"]
            .as_str()
            .is_some_and(|d| d.starts_with("fnv1a64:")),
        "{}",
        json["source_digest"]
    );
    let catalog_file = dir.join("writegraph.catalog.json");
    std::fs::write(&catalog_file, &snapshot.stdout)?;

    let out_file = dir.join("generated.rs");
    let catalog_arg = catalog_file.display().to_string();
    let out_arg = out_file.display().to_string();
    let args = [
        "--schema",
        &migrations_arg,
        "--catalog",
        &catalog_arg,
        "--graphs",
        "graphs.toml",
        "--out",
        &out_arg,
    ];
    let generate = writegraph(&[&["generate"][..], &args].concat())?;
    assert!(
        generate.status.success(),
        "{}",
        String::from_utf8_lossy(&generate.stderr)
    );
    assert!(std::fs::read_to_string(&out_file)?.contains("'pending'::public.order_status"));
    let fresh = writegraph(&[&["check"][..], &args].concat())?;
    assert_eq!(
        fresh.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&fresh.stderr)
    );

    std::fs::write(
        migrations.join("999_notes.sql"),
        "ALTER TABLE orders ADD COLUMN internal_note text;\n",
    )?;
    let stale = writegraph(&[&["check"][..], &args].concat())?;
    assert_eq!(stale.status.code(), Some(2));
    let stderr = String::from_utf8(stale.stderr)?;
    assert!(
        stderr.starts_with(&format!(
            "{catalog_arg}: error: the catalog snapshot is stale"
        )),
        "{stderr}"
    );
    assert!(
        stderr.contains("help: make it again with `writegraph schema"),
        "{stderr}"
    );
    std::fs::remove_dir_all(dir)?;
    Ok(())
}

/// `verify` compares a live database with the schema and graphs the code is generated from:
/// exit 0 on a database migrated with them; after drift, every difference printed (a changed
/// type with both types, the unique key an upsert and a diff rely on) and exit 2.
#[tokio::test]
async fn verify_reports_every_difference_of_a_live_database() -> TestResult {
    let sql = schema_files()?
        .iter()
        .map(|name| std::fs::read_to_string(workspace().join("schema").join(name)))
        .collect::<std::io::Result<Vec<String>>>()?
        .join("\n");
    let db = writegraph_testing::database_with_schema(&sql).await?;
    let url = db.connection_string();
    let args = [
        "verify",
        "--schema",
        "schema",
        "--graphs",
        "graphs.toml",
        "--database-url",
        &url,
    ];
    let fresh = writegraph(&args)?;
    assert_eq!(
        fresh.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&fresh.stderr)
    );
    assert_eq!(
        String::from_utf8(fresh.stdout)?,
        "the database matches the schema the code is generated from (15 tables, 2 enum types)\n"
    );

    let client = db.connect().await?;
    client
        .batch_execute(
            "ALTER TABLE orders ALTER COLUMN total_cents TYPE integer;
             ALTER TABLE order_items DROP CONSTRAINT uq_order_items;",
        )
        .await?;
    let drifted = writegraph(&args)?;
    assert_eq!(
        drifted.status.code(),
        Some(2),
        "{}",
        String::from_utf8_lossy(&drifted.stderr)
    );
    assert_eq!(
        String::from_utf8(drifted.stdout)?,
        "the database differs from the schema the code was generated from (2 differences):\n  \
         - column `total_cents` of `public.orders` is `integer` in the database, but the code \
         was generated for `bigint`\n  \
         - `public.order_items` has no unique key on (order_id, sku), used by the upsert's ON \
         CONFLICT, the diff of `OrderDiffGraph.items`, the diff of `OrderPatchGraph.items`; its \
         unique keys are: primary key order_items_pkey (id)\n\
         regenerate the code from the database's schema, or migrate the database to the schema \
         the code was generated from\n"
    );

    // Without graphs.toml the code upserts by primary keys only: the dropped key is no
    // difference, the type is.
    let no_graphs = writegraph(&["verify", "--schema", "schema", "--database-url", &url])?;
    assert_eq!(no_graphs.status.code(), Some(2));
    let stdout = String::from_utf8(no_graphs.stdout)?;
    assert!(stdout.contains("(1 difference)"), "{stdout}");
    assert!(stdout.contains("`total_cents`"), "{stdout}");

    let unreachable = writegraph(&[
        "verify",
        "--schema",
        "schema",
        "--database-url",
        "host=/nonexistent-socket-dir dbname=x user=x",
    ])?;
    assert_eq!(unreachable.status.code(), Some(2));
    assert!(String::from_utf8(unreachable.stderr)?.starts_with("--database-url"));
    Ok(())
}
