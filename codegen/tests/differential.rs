//! The schema reader against PostgreSQL: each test applies a schema source to a fresh
//! database, reads the database back from `pg_catalog`, reads the same source with
//! `writegraph_codegen::ddl::read_schema`, and requires the two catalogs to agree.
//!
//! Each check also holds the insert default of every serial and identity column against the
//! sequence PostgreSQL reports for it (`support::sequences`).
//!
//! Sources live in `tests/schemas/` (the example shop reads `/schema` at the workspace root).
//! Folders are applied in the order `source::migration_files` gives, one file's whole text
//! at a time, as their migration tool would.

mod support;

use std::path::Path;
use std::process::Command;

use writegraph_codegen::{ddl, source, SourceFile};
use writegraph_testing as testing;

use support::sequences::{check_sequence_defaults, insert_with_model_defaults, SequenceDefault};
use support::{apply_files, catalog_json, compare, introspect, report, schema_path, TestResult};

/// A database built from a source that passed the checks, and the columns checked.
struct Checked {
    /// Keeps the database alive while `client` is used.
    _db: testing::TestDatabase,
    client: tokio_postgres::Client,
    /// The serial and identity columns whose defaults were checked.
    sequence_defaults: Vec<SequenceDefault>,
}

/// Applies `files` to a fresh database, compares the reader's catalog with it, and checks the
/// sequence defaults of serial and identity columns.
async fn check_files(label: &str, files: &[SourceFile]) -> TestResult<Checked> {
    let db = testing::database().await?;
    let client = db.connect().await?;
    apply_files(&client, files).await?;
    let postgres = introspect(&client).await?;
    let catalog = ddl::read_schema(files)
        .map_err(|e| report(format!("the reader rejected {label}:\n{e}")))?;
    compare(label, &catalog_json(&catalog)?, &postgres)?;
    let sequence_defaults = check_sequence_defaults(label, &client, &catalog).await?;
    Ok(Checked {
        _db: db,
        client,
        sequence_defaults,
    })
}

/// Reads a `.sql` file or a migrations folder like the builder does, then [`check_files`].
async fn check_source(path: &Path) -> TestResult<Checked> {
    let files = source::read_schema_source(path).map_err(|e| report(e.to_string()))?;
    check_files(&path.display().to_string(), &files).await
}

/// The file names of a migrations folder in apply order, relative to the folder.
fn apply_order(dir: &Path) -> TestResult<Vec<String>> {
    let files = source::migration_files(dir).map_err(|e| report(e.to_string()))?;
    Ok(files
        .iter()
        .map(|p| {
            p.strip_prefix(dir)
                .unwrap_or(p)
                .to_string_lossy()
                .into_owned()
        })
        .collect())
}

/// (a) The example shop: the workspace's `schema/` folder.
#[tokio::test]
async fn shop_schema_folder() -> TestResult {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../schema");
    check_source(&dir).await?;
    Ok(())
}

/// (b) An sqlx migrations folder of more than twenty files that alter, rename and drop
/// (`.down.sql` files are ignored).
#[tokio::test]
async fn sqlx_migrations_with_alters_renames_and_drops() -> TestResult {
    let dir = schema_path("migrations_sqlx");
    let order = apply_order(&dir)?;
    assert!(
        order.len() >= 20,
        "only {} migrations: {order:?}",
        order.len()
    );
    assert!(
        order.iter().all(|name| !name.ends_with(".down.sql")),
        "{order:?}"
    );
    check_source(&dir).await?;
    Ok(())
}

/// (c) `pg_dump --schema-only` output, owners and grants included, of a database built from
/// `dump_source.sql`; compared with the original database. The dump is also restored into a
/// fresh database, which must come out the same, to prove the dump says what we think.
#[tokio::test]
async fn pg_dump_schema_only() -> TestResult {
    let source =
        SourceFile::read(&schema_path("dump_source.sql")).map_err(|e| report(e.to_string()))?;
    let original = testing::database().await?;
    let client = original.connect().await?;
    apply_files(&client, std::slice::from_ref(&source)).await?;
    let postgres = introspect(&client).await?;

    let pg_dump = testing::server_binary("pg_dump")?;
    let output = Command::new(&pg_dump)
        .args(["--schema-only", "-d", &original.connection_string()])
        .output()?;
    if !output.status.success() {
        return Err(report(format!(
            "{} failed: {}",
            pg_dump.display(),
            String::from_utf8_lossy(&output.stderr)
        )));
    }
    let dump = String::from_utf8(output.stdout)?;
    for expected in [
        "OWNER TO",
        "GRANT ",
        "CREATE TRIGGER",
        "CREATE VIEW",
        "ATTACH PARTITION",
    ] {
        if !dump.contains(expected) {
            return Err(report(format!("the dump has no `{expected}`:\n{dump}")));
        }
    }

    // psql meta-commands (`\restrict`, added by recent pg_dump) are not SQL.
    let restorable: String = dump
        .lines()
        .filter(|line| !line.starts_with('\\'))
        .map(|line| format!("{line}\n"))
        .collect();
    let restored = testing::database().await?;
    let restored_client = restored.connect().await?;
    apply_files(
        &restored_client,
        &[SourceFile::new("pg_dump output", restorable)],
    )
    .await?;
    let restored_json = introspect(&restored_client).await?;
    let differences = support::json_diff::diff(
        &support::normalize(restored_json),
        &support::normalize(postgres.clone()),
        "restored",
        "original",
    );
    if !differences.is_empty() {
        return Err(report(format!(
            "restoring the dump does not give back the original:\n  {}",
            differences.join("\n  ")
        )));
    }

    let label = "pg_dump --schema-only of dump_source.sql";
    let files = [SourceFile::new("pg_dump of dump_source.sql", dump)];
    let catalog = ddl::read_schema(&files)
        .map_err(|e| report(format!("the reader rejected {label}:\n{e}")))?;
    compare(label, &catalog_json(&catalog)?, &postgres)?;
    // pg_dump names identity sequences with `SEQUENCE NAME`; serial columns become explicit
    // DEFAULTs, which are not checked here.
    check_sequence_defaults(label, &client, &catalog).await?;
    Ok(())
}

/// (d) Identifiers that need quoting: mixed case, spaces, embedded quotes, reserved words.
#[tokio::test]
async fn awkward_identifiers() -> TestResult {
    check_source(&schema_path("awkward.sql")).await?;
    Ok(())
}

/// (e) A diesel folder whose plain name order is not diesel's version order
/// (`2024-01-02-000000_b` sorts before `20240101000001_a` as text, but is the later version).
#[tokio::test]
async fn diesel_layout_in_version_order() -> TestResult {
    let dir = schema_path("migrations_diesel");
    let order = apply_order(&dir)?;
    let mut by_name = order.clone();
    by_name.sort();
    assert_ne!(order, by_name, "the fixture must not apply in name order");
    check_source(&dir).await?;
    Ok(())
}

/// (f) A refinery folder whose numeric order is not string order (`V2` before `V10`).
#[tokio::test]
async fn refinery_layout_in_numeric_order() -> TestResult {
    let dir = schema_path("migrations_refinery");
    let order = apply_order(&dir)?;
    let mut by_name = order.clone();
    by_name.sort();
    assert_ne!(order, by_name, "the fixture must not apply in name order");
    check_source(&dir).await?;
    Ok(())
}

/// (g) Serial and identity sequences whose names are not simply `table_column_seq`:
/// `SEQUENCE NAME` in CREATE TABLE and in ALTER ... ADD GENERATED, a renamed table, a table
/// moved to another schema, a renamed sequence, names cut to 63 bytes, and names already in
/// use. Each column's model default must name PostgreSQL's sequence, and an insert with it
/// must draw from that sequence.
#[tokio::test]
async fn owned_sequence_names() -> TestResult {
    let checked = check_source(&schema_path("owned_sequences.sql")).await?;
    let names: Vec<&str> = checked
        .sequence_defaults
        .iter()
        .map(|d| d.sequence.as_str())
        .collect();
    for expected in [
        "public.ticket_numbers",
        "archive.\"Note \"\"Numbers\"\"\"",
        "public.label_ids",
        "public.drafts_id_seq",
        "archive.old_orders_id_seq",
        "archive.old_orders_ref_seq",
        "public.event_ids",
        "public.a_table_name_that_is_long_eno_a_column_name_long_enough_to__seq",
        "public.a_table_name_that_is_long_eno_another_rather_long_identity__seq",
        "public.t_id_seq2",
        "public.u_id_seq1",
        "public.badges_id_seq",
        "public.\"Customer's Orders_Id_seq\"",
    ] {
        assert!(
            names.contains(&expected),
            "{expected} was not checked; checked: {names:?}"
        );
    }
    insert_with_model_defaults(&checked.client, &checked.sequence_defaults).await
}

/// (h) Extension types with type modifiers (PostGIS shapes and SRIDs) keep them, spelled
/// as PostgreSQL prints them (`geometry(Polygon,4326)`, `geography(MultiPolygon,4326)`).
#[tokio::test]
async fn extension_type_modifiers() -> TestResult {
    check_source(&schema_path("extension_typmods.sql")).await?;
    Ok(())
}

/// (i) A Prisma folder: `<timestamp>_<name>/migration.sql`, beside `migration_lock.toml`.
#[tokio::test]
async fn prisma_layout() -> TestResult {
    let dir = schema_path("migrations_prisma");
    assert_eq!(
        apply_order(&dir)?,
        [
            "20240105120000_init/migration.sql",
            "20240110093000_add_orders/migration.sql"
        ]
    );
    let checked = check_source(&dir).await?;
    let tables = checked
        .client
        .query_one(
            "SELECT count(*) FROM pg_tables WHERE schemaname = 'public'",
            &[],
        )
        .await?;
    assert_eq!(tables.get::<_, i64>(0), 2);
    Ok(())
}

/// (j) dbmate and goose files hold both halves: only the up half is read (and applied), so
/// the down half's drops do not happen.
#[tokio::test]
async fn dbmate_and_goose_layouts_read_the_up_half() -> TestResult {
    for (folder, tables) in [
        ("migrations_dbmate", ["authors", "books"]),
        ("migrations_goose", ["members", "teams"]),
    ] {
        let dir = schema_path(folder);
        let checked = check_source(&dir).await?;
        let rows = checked
            .client
            .query(
                "SELECT tablename::text FROM pg_tables WHERE schemaname = 'public' ORDER BY 1",
                &[],
            )
            .await?;
        let found: Vec<String> = rows.iter().map(|r| r.get(0)).collect();
        assert_eq!(found, tables, "{folder}");
    }
    Ok(())
}

/// (k) Unnamed indexes and CHECK constraints get PostgreSQL's names: later statements drop
/// and rename them by those names, and the unique indexes left are compared by name.
#[tokio::test]
async fn implicit_index_and_check_names() -> TestResult {
    let checked = check_source(&schema_path("implicit_names.sql")).await?;
    let rows = checked
        .client
        .query(
            // PostgreSQL 18 records NOT NULL as constraints too (contype 'n'): not keys.
            "SELECT conname::text FROM pg_constraint \
             WHERE conrelid = 'public.people'::regclass AND contype <> 'n' ORDER BY 1",
            &[],
        )
        .await?;
    let constraints: Vec<String> = rows.iter().map(|r| r.get(0)).collect();
    assert_eq!(constraints, ["people_age_check", "people_pkey"]);
    Ok(())
}

/// (l) Materialized views (`WITH NO DATA` too) with indexes, owners and refreshes.
#[tokio::test]
async fn materialized_views_are_read_or_skipped() -> TestResult {
    let checked = check_source(&schema_path("materialized_views.sql")).await?;
    let row = checked
        .client
        .query_one(
            "SELECT count(*) FROM pg_matviews WHERE schemaname = 'public'",
            &[],
        )
        .await?;
    assert_eq!(row.get::<_, i64>(0), 1);
    Ok(())
}

/// (m) CREATE TABLE ... AS and SELECT ... INTO, typed from their select lists (joins,
/// casts, literals, aggregates, window functions, a UNION ALL), and temporary tables, which
/// PostgreSQL keeps out of the schema.
#[tokio::test]
async fn tables_from_queries_and_temporary_tables() -> TestResult {
    let checked = check_source(&schema_path("create_table_as.sql")).await?;
    let rows = checked
        .client
        .query(
            "SELECT tablename::text FROM pg_tables WHERE schemaname = 'public' ORDER BY 1",
            &[],
        )
        .await?;
    let tables: Vec<String> = rows.iter().map(|r| r.get(0)).collect();
    assert_eq!(
        tables,
        [
            "handles",
            "last_votes",
            "member",
            "member_actions",
            "member_summary",
            "saved",
            "vote"
        ]
    );
    Ok(())
}

/// (n) `CREATE EXTENSION x SCHEMA s` (without `WITH`) puts its types in `s`; `DEFAULT NULL`
/// and `SET DEFAULT NULL` leave no default, as in PostgreSQL.
#[tokio::test]
async fn extension_schema_and_null_defaults() -> TestResult {
    let checked = check_source(&schema_path("extension_schema_and_null_defaults.sql")).await?;
    let row = checked
        .client
        .query_one(
            "SELECT count(*) FROM pg_attrdef WHERE adrelid = 'public.accounts'::regclass",
            &[],
        )
        .await?;
    assert_eq!(row.get::<_, i64>(0), 0);
    Ok(())
}

/// (o) DO blocks as histories use them to make DDL idempotent: EXCEPTION handlers, IF
/// [NOT] EXISTS tests on information_schema and pg_indexes, ELSE branches, nested blocks
/// and EXECUTE of a constant statement.
#[tokio::test]
async fn do_blocks() -> TestResult {
    let checked = check_source(&schema_path("do_blocks.sql")).await?;
    let rows = checked
        .client
        .query(
            "SELECT indexname::text FROM pg_indexes WHERE schemaname = 'app' ORDER BY 1",
            &[],
        )
        .await?;
    let indexes: Vec<String> = rows.iter().map(|r| r.get(0)).collect();
    assert_eq!(
        indexes,
        [
            "tasks_by_status",
            "tasks_level_title",
            "tasks_pkey",
            "tasks_title_key"
        ]
    );
    Ok(())
}

/// (p) Defaults stay true as the schema evolves and whatever the caller's search_path:
/// each column default the reader records, evaluated with an empty search_path, gives what
/// PostgreSQL's own stored default gives.
#[tokio::test]
async fn defaults_mean_what_postgres_stored() -> TestResult {
    assert_eq!(defaults_compared("defaults_stay_true.sql").await?, 6);
    Ok(())
}

/// (p) Defaults calling the schema's own routines unqualified (created, replaced, with `OUT`
/// arguments, in another schema of the search path, quoted, dropped, renamed and moved) and
/// naming sequences by `'name'::regclass`, evaluated with an empty search_path, give what
/// PostgreSQL's stored defaults give.
#[tokio::test]
async fn routine_and_regclass_defaults_mean_what_postgres_stored() -> TestResult {
    assert_eq!(defaults_compared("routine_defaults.sql").await?, 9);
    Ok(())
}

/// (p) `DROP FUNCTION ... CASCADE` takes the column and domain defaults that call the routine
/// (and only those of its arguments), and a schema routine named like a built-in one (`now`,
/// `lower`) leaves an unqualified call in a default to the built-in, as PostgreSQL resolves
/// it: the catalogs match and the remaining defaults give what PostgreSQL's give.
#[tokio::test]
async fn dropped_and_shadowed_routines_in_defaults() -> TestResult {
    assert_eq!(
        defaults_compared("dropped_and_shadowed_routines.sql").await?,
        4
    );
    Ok(())
}

/// Checks the schema differentially, then evaluates each column default the reader records
/// and PostgreSQL's own, both with an empty search_path, and asserts they give the same value
/// of the same type. Returns how many defaults were compared.
async fn defaults_compared(schema: &str) -> TestResult<usize> {
    let path = schema_path(schema);
    let files = source::read_schema_source(&path).map_err(|e| report(e.to_string()))?;
    let checked = check_source(&path).await?;
    let catalog = ddl::read_schema(&files).map_err(|e| report(e.to_string()))?;
    let client = &checked.client;
    client.batch_execute("SET search_path = ''").await?;
    let mut compared = 0;
    for table in &catalog.tables {
        for column in &table.columns {
            let Some(ours) = &column.default else {
                continue;
            };
            let stored: String = client
                .query_one(
                    "SELECT pg_get_expr(d.adbin, d.adrelid) FROM pg_attrdef d \
                     JOIN pg_attribute a ON a.attrelid = d.adrelid AND a.attnum = d.adnum \
                     WHERE d.adrelid = $1::text::regclass AND a.attname = $2",
                    &[&table.name.to_sql_quoted(), &column.name],
                )
                .await?
                .get(0);
            let value = |sql: String| async move {
                client
                    .query_one(
                        &format!("SELECT ({sql})::text || ' of ' || pg_typeof({sql})::text"),
                        &[],
                    )
                    .await
                    .map(|row| row.get::<_, String>(0))
                    .map_err(|e| report(format!("{sql}: {}", support::db_message(&e))))
            };
            // A sequence's next value differs at each call: such defaults must name the same
            // sequence, as PostgreSQL prints it.
            if ours.starts_with("nextval(") {
                assert_eq!(ours, &stored, "{}.{}", table.name, column.name);
                compared += 1;
                continue;
            }
            assert_eq!(
                value(ours.clone()).await?,
                value(stored.clone()).await?,
                "{}.{}: ours `{ours}`, stored `{stored}`",
                table.name,
                column.name
            );
            compared += 1;
        }
    }
    Ok(compared)
}

/// (q) Partitioned tables: the primary key, unique constraints, unique indexes and foreign
/// keys PostgreSQL copies to each partition (created, attached, sub-partitioned, or added to
/// the parent later), and foreign keys declared only on partitions.
#[tokio::test]
async fn partition_keys() -> TestResult {
    let checked = check_source(&schema_path("partitions.sql")).await?;
    // PostgreSQL 18 records NOT NULL as constraints too (contype 'n'): not keys.
    let rows = checked
        .client
        .query(
            "SELECT c.relname::text, con.conname::text FROM pg_constraint con \
             JOIN pg_class c ON c.oid = con.conrelid \
             WHERE c.relname IN ('events_2024', 'events_2026', 'order_lines_eu') \
             AND con.contype <> 'n' \
             ORDER BY 1, 2",
            &[],
        )
        .await?;
    let constraints: Vec<(String, String)> = rows.iter().map(|r| (r.get(0), r.get(1))).collect();
    let expected = [
        ("events_2024", "events_2024_code_at_key"),
        ("events_2024", "events_2024_pkey"),
        ("events_2024", "events_customer_id_fkey"),
        ("events_2024", "events_referrer_id_fkey"),
        ("events_2026", "events_2026_code_at_key"),
        ("events_2026", "events_2026_own_pk"),
        ("events_2026", "events_customer_id_fkey"),
        ("events_2026", "events_referrer_id_fkey"),
        ("order_lines_eu", "order_lines_eu_order_id_fkey"),
    ];
    let expected: Vec<(String, String)> = expected
        .iter()
        .map(|(t, c)| ((*t).to_owned(), (*c).to_owned()))
        .collect();
    assert_eq!(constraints, expected);
    Ok(())
}
