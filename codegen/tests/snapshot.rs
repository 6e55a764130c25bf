//! Catalog snapshots: the catalog PostgreSQL builds from a schema source, saved as JSON and
//! generated from with no database (`Builder::catalog`), and refused once the migrations
//! change.

mod support;

use std::path::{Path, PathBuf};

use writegraph_codegen::{
    ddl, generate, introspect, snapshot, source, Builder, Catalog, Error, Input,
};
use writegraph_testing as testing;

use support::{catalog_json, normalize, report, TestResult};

fn shop_schema() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../schema")
}

fn shop_graphs() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../graphs.toml")
}

fn scratch_dir(name: &str) -> std::io::Result<PathBuf> {
    let dir =
        std::env::temp_dir().join(format!("writegraph-snapshot-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir)?;
    Ok(dir)
}

/// The snapshot of a schema source, as `writegraph schema --from-postgres --json` makes it.
async fn take_snapshot(schema: &Path) -> TestResult<Catalog> {
    let files = source::read_schema_source(schema).map_err(|e| report(e.to_string()))?;
    let db = testing::database().await?;
    let client = db.connect().await?;
    introspect::apply_files(&client, &files)
        .await
        .map_err(|e| report(e.to_string()))?;
    let mut catalog = introspect::read_catalog(&client)
        .await
        .map_err(|e| report(e.to_string()))?;
    catalog.source_digest = Some(snapshot::source_digest(&files));
    Ok(catalog)
}

/// The example shop generated from its snapshot file: the catalog is the reader's, and so is
/// the code, once the defaults are spelled alike (PostgreSQL prints `'pending'` as
/// `'pending'::public.order_status`, which is what the snapshot's code sends).
#[tokio::test]
async fn generating_from_a_snapshot_matches_generating_from_the_ddl() -> TestResult {
    let dir = scratch_dir("shop")?;
    let file = dir.join("writegraph.catalog.json");
    let taken = take_snapshot(&shop_schema()).await?;
    std::fs::write(&file, snapshot::to_json(&taken)?)?;

    let from_snapshot = Builder::new()
        .schema(shop_schema())
        .catalog(&file)
        .graphs(shop_graphs())
        .generate()?;
    let from_ddl = Builder::new()
        .schema(shop_schema())
        .graphs(shop_graphs())
        .generate()?;

    assert_eq!(
        normalize(catalog_json(&from_snapshot.catalog)?),
        normalize(catalog_json(&from_ddl.catalog)?)
    );
    assert_eq!(from_snapshot.catalog.sequences, from_ddl.catalog.sequences);
    assert!(
        from_snapshot.code.contains(
            "COALESCE(u.c2::\"public\".\"order_status\", 'pending'::public.order_status)"
        ),
        "the snapshot's code does not send PostgreSQL's default"
    );

    let mut aligned = from_snapshot.catalog.clone();
    let mut aligned_defaults = Vec::new();
    for table in &mut aligned.tables {
        let Some(reader_table) = from_ddl.catalog.table(&table.name) else {
            return Err(report(format!("the reader has no table {}", table.name)));
        };
        for column in &mut table.columns {
            let reader_default = reader_table
                .column(&column.name)
                .and_then(|c| c.default.clone());
            if column.default != reader_default {
                aligned_defaults.push(format!(
                    "{}.{}: {:?} vs {:?}",
                    table.name.name, column.name, column.default, reader_default
                ));
                column.default = reader_default;
            }
        }
    }
    // The reader spells defaults as PostgreSQL stores them (casts qualified, enum labels cast
    // to their type) except a char(n) literal, which PostgreSQL casts to bpchar: same meaning.
    assert_eq!(
        aligned_defaults,
        ["shipping_addresses.country: Some(\"'DE'::bpchar\") vs Some(\"'DE'\")"]
    );
    let graphs = Some(writegraph_codegen::SourceFile::read(&shop_graphs())?);
    let aligned_code = generate(&Input {
        schema: Vec::new(),
        catalog: Some(aligned),
        graphs,
        attributes: Vec::new(),
        ..Input::default()
    })?
    .code;
    assert!(
        aligned_code == from_ddl.code,
        "generated code differs beyond default spellings"
    );
    std::fs::remove_dir_all(dir)?;
    Ok(())
}

/// Catalog JSON reads back into the same catalog, for the reader's catalog and PostgreSQL's.
#[tokio::test]
async fn catalog_json_reads_back_unchanged() -> TestResult {
    let files = source::read_schema_source(&shop_schema())?;
    let mut from_reader = ddl::read_schema(&files)?;
    from_reader.source_digest = Some(snapshot::source_digest(&files));
    for catalog in [from_reader, take_snapshot(&shop_schema()).await?] {
        let text = snapshot::to_json(&catalog)?;
        let read = snapshot::from_json("catalog.json", &text)?;
        assert_eq!(read.tables.len(), catalog.tables.len());
        for (read, written) in read.tables.iter().zip(&catalog.tables) {
            assert_eq!(read.name, written.name);
        }
        assert_eq!(read.enums[0].name, catalog.enums[0].name);
        assert_eq!(snapshot::to_json(&read)?, text);
    }
    Ok(())
}

/// A migration added after the snapshot was taken makes the snapshot stale: generating with
/// both fails and says how to refresh it; without the migrations, it still generates.
#[tokio::test]
async fn a_stale_snapshot_is_an_error() -> TestResult {
    let dir = scratch_dir("stale")?;
    let migrations = dir.join("migrations");
    std::fs::create_dir_all(&migrations)?;
    for entry in std::fs::read_dir(shop_schema())? {
        let entry = entry?;
        if entry.path().extension().is_some_and(|e| e == "sql") {
            std::fs::copy(entry.path(), migrations.join(entry.file_name()))?;
        }
    }
    let file = dir.join("writegraph.catalog.json");
    std::fs::write(
        &file,
        snapshot::to_json(&take_snapshot(&migrations).await?)?,
    )?;
    let builder = || {
        let mut b = Builder::new();
        b.schema(&migrations).catalog(&file);
        b
    };
    builder().generate()?;

    std::fs::write(
        migrations.join("999_notes.sql"),
        "ALTER TABLE orders ADD COLUMN internal_note text;\n",
    )?;
    match builder().generate() {
        Err(Error::Snapshot {
            path,
            message,
            help,
        }) => {
            assert_eq!(path, file.display().to_string());
            assert!(
                message.starts_with("the catalog snapshot is stale"),
                "{message}"
            );
            assert!(help.contains("--from-postgres"), "{help}");
        }
        other => return Err(report(format!("expected a stale snapshot, got {other:?}"))),
    }
    let without_migrations = Builder::new().catalog(&file).generate()?;
    assert!(without_migrations
        .catalog
        .table(&writegraph_codegen::catalog::QualifiedName::new(
            "public", "orders"
        ))
        .is_some_and(|t| t.column("internal_note").is_none()));

    let mut undigested = snapshot::read(&file)?;
    undigested.source_digest = None;
    std::fs::write(&file, snapshot::to_json(&undigested)?)?;
    match builder().generate() {
        Err(Error::Snapshot { message, .. }) => {
            assert!(message.contains("records no source digest"), "{message}")
        }
        other => {
            return Err(report(format!(
                "expected an undigested snapshot, got {other:?}"
            )))
        }
    }

    std::fs::write(&file, "{\"tables\": [{\"schema\": \"public\"}]}")?;
    match builder().generate() {
        Err(Error::Snapshot { message, .. }) => {
            assert!(message.starts_with("not a catalog snapshot"), "{message}")
        }
        other => {
            return Err(report(format!(
                "expected an unreadable snapshot, got {other:?}"
            )))
        }
    }
    std::fs::remove_dir_all(dir)?;
    Ok(())
}
