//! Tests of `writegraph-testing`: isolated databases, templates, the `DATABASE_URL` path, and
//! that no server outlives the test process.
//!
//! Some tests re-run this test binary as a child process (selected with `--exact` and an
//! environment variable saying what the child does) to observe a whole process lifetime.

use std::error::Error;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use writegraph_testing::{self as testing, ClusterOptions, Server, TestingError};

type TestResult = Result<(), Box<dyn Error>>;

/// Tells a re-run of this binary which child role to play.
const CHILD_ROLE: &str = "WRITEGRAPH_TESTING_CHILD_ROLE";

const SCHEMA: &str = "CREATE TABLE notes (id int PRIMARY KEY, body text NOT NULL);";

/// Two tests at once (the harness runs them in parallel), each writing its own rows into
/// a clone of the same template.
#[tokio::test]
async fn parallel_test_a_sees_only_its_rows() -> TestResult {
    writes_and_reads_back_alone(1, "from a").await
}

/// See [`parallel_test_a_sees_only_its_rows`].
#[tokio::test]
async fn parallel_test_b_sees_only_its_rows() -> TestResult {
    writes_and_reads_back_alone(2, "from b").await
}

async fn writes_and_reads_back_alone(id: i32, body: &str) -> TestResult {
    let db = testing::database_with_schema(SCHEMA).await?;
    let client = db.connect().await?;
    client
        .execute("INSERT INTO notes VALUES ($1, $2)", &[&id, &body])
        .await?;
    // Give the other test time to write its row, if it shared our database.
    tokio::time::sleep(Duration::from_millis(200)).await;
    let rows = client
        .query("SELECT id, body FROM notes ORDER BY id", &[])
        .await?;
    let rows: Vec<(i32, String)> = rows.iter().map(|r| (r.get(0), r.get(1))).collect();
    assert_eq!(rows, [(id, body.to_owned())]);
    Ok(())
}

/// Concurrent first uses of one schema text build its template once, and every clone has the
/// schema and no rows of the others.
#[tokio::test]
async fn concurrent_clones_of_one_template() -> TestResult {
    let sql = "CREATE TYPE mood AS ENUM ('ok'); CREATE TABLE t (m mood);";
    let (a, b, c) = tokio::join!(
        testing::database_with_schema(sql),
        testing::database_with_schema(sql),
        testing::database_with_schema(sql),
    );
    let (a, b, c) = (a?, b?, c?);
    assert!(a.name() != b.name() && b.name() != c.name() && a.name() != c.name());
    let client_a = a.connect().await?;
    client_a.execute("INSERT INTO t VALUES ('ok')", &[]).await?;
    for db in [&b, &c] {
        let client = db.connect().await?;
        let count: i64 = client
            .query_one("SELECT count(*) FROM t", &[])
            .await?
            .get(0);
        assert_eq!(count, 0, "{} sees rows written in {}", db.name(), a.name());
    }
    let empty = testing::database().await?;
    let tables: i64 = empty
        .connect()
        .await?
        .query_one(
            "SELECT count(*) FROM pg_class WHERE relnamespace = 'public'::regnamespace",
            &[],
        )
        .await?
        .get(0);
    assert_eq!(tables, 0, "database() is not empty");
    Ok(())
}

/// A schema that PostgreSQL rejects fails with the server's message, and does not poison the
/// template for a later call.
#[tokio::test]
async fn schema_errors_are_reported() -> TestResult {
    let error = match testing::database_with_schema("CREATE TABLE broken (id nosuchtype);").await {
        Ok(db) => return Err(format!("expected an error, got database {}", db.name()).into()),
        Err(error) => error.to_string(),
    };
    assert!(
        error.contains("type \"nosuchtype\" does not exist"),
        "unexpected message: {error}"
    );
    Ok(())
}

/// `pg_dump` comes from the cluster's installation and accepts `connection_string()`.
#[tokio::test]
async fn pg_dump_reads_a_test_database() -> TestResult {
    let db = testing::database_with_schema(SCHEMA).await?;
    let pg_dump = testing::server_binary("pg_dump")?;
    let output = Command::new(&pg_dump)
        .args(["--schema-only", "-d", &db.connection_string()])
        .output()?;
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "pg_dump failed: {stderr}");
    let dump = String::from_utf8(output.stdout)?;
    assert!(dump.contains("CREATE TABLE public.notes"), "{dump}");
    Ok(())
}

#[test]
fn missing_binaries_error_says_how_to_install() {
    let message = TestingError::NoServerBinaries.to_string();
    assert!(
        message.contains("apt-get install -y postgresql"),
        "{message}"
    );
    assert!(message.contains("DATABASE_URL"), "{message}");
}

/// The shared cluster trades durability for speed; `ClusterOptions::durable` keeps it, and
/// dropping an owned `Server` stops the cluster and deletes its folder at once.
#[tokio::test]
async fn durable_option_and_drop_stop_the_cluster() -> TestResult {
    let shared = testing::database().await?.connect().await?;
    let fsync: String = shared.query_one("SHOW fsync", &[]).await?.get(0);
    assert_eq!(fsync, "off");

    let server = Server::start(&ClusterOptions {
        durable: true,
        ..ClusterOptions::default()
    })?;
    let client = server.database().await?.connect().await?;
    let fsync: String = client.query_one("SHOW fsync", &[]).await?.get(0);
    assert_eq!(fsync, "on");
    let pid = server.postmaster_pid().ok_or("no postmaster.pid")?;
    let data_dir = server.data_dir().ok_or("no data dir")?.to_path_buf();
    drop(client);
    drop(server);
    assert!(
        !process_alive(pid),
        "postmaster {pid} still runs after drop"
    );
    assert!(!data_dir.exists(), "{} still exists", data_dir.display());
    Ok(())
}

/// `ClusterOptions::bin_dir` chooses the server binaries: the cluster runs the version in
/// that folder, and reports the folder.
#[tokio::test]
async fn bin_dir_option_chooses_the_server_binaries() -> TestResult {
    let initdb = testing::server_binary("initdb")?;
    let bin_dir = initdb.parent().ok_or("initdb has no folder")?.to_path_buf();
    let version = std::process::Command::new(bin_dir.join("postgres"))
        .arg("--version")
        .output()?;
    let version = String::from_utf8(version.stdout)?;
    // `postgres (PostgreSQL) 15.18 (Debian 15.18-0+deb12u1)`
    let number = version
        .split_whitespace()
        .nth(2)
        .ok_or("no version printed")?
        .to_owned();
    let server = Server::start(&ClusterOptions {
        bin_dir: Some(bin_dir.clone()),
        ..ClusterOptions::default()
    })?;
    assert_eq!(server.bin_dir(), Some(bin_dir.as_path()));
    let client = server.database().await?.connect().await?;
    let running: String = client.query_one("SHOW server_version", &[]).await?.get(0);
    assert!(
        running.starts_with(&number),
        "{} runs {running}, not {number}",
        bin_dir.display()
    );
    Ok(())
}

/// A test process that aborts, and one that returns, leave no server and no folder behind.
#[tokio::test]
async fn no_stray_postgres_after_the_test_process_ends() -> TestResult {
    match std::env::var(CHILD_ROLE).as_deref() {
        Ok("abort") => return child_starts_a_cluster(true).await,
        Ok("exit") => return child_starts_a_cluster(false).await,
        _ => {}
    }
    for role in ["abort", "exit"] {
        let output = rerun_self("no_stray_postgres_after_the_test_process_ends", role, None)?;
        let stdout = String::from_utf8_lossy(&output.stdout);
        let report = format!(
            "child ({role}) {}\nstdout:\n{stdout}\nstderr:\n{}",
            output.status,
            String::from_utf8_lossy(&output.stderr)
        );
        assert_eq!(output.status.success(), role == "exit", "{report}");
        let pid: u32 = field(&stdout, "postmaster_pid")
            .ok_or_else(|| format!("no postmaster_pid line: {report}"))?
            .parse()?;
        let data_dir = PathBuf::from(
            field(&stdout, "data_dir").ok_or_else(|| format!("no data_dir line: {report}"))?,
        );
        let cluster_dir = data_dir.parent().ok_or("data dir has no parent")?;
        wait_until(Duration::from_secs(20), || {
            !process_alive(pid) && !cluster_dir.exists()
        });
        assert!(
            !process_alive(pid),
            "postmaster {pid} outlived its {role}ed test process"
        );
        assert!(
            !cluster_dir.exists(),
            "{} outlived its {role}ed test process",
            cluster_dir.display()
        );
    }
    Ok(())
}

async fn child_starts_a_cluster(abort: bool) -> TestResult {
    let server = Server::shared()?;
    let client = testing::database().await?.connect().await?;
    client.execute("SELECT 1", &[]).await?;
    let pid = server.postmaster_pid().ok_or("no postmaster.pid")?;
    let data_dir = server.data_dir().ok_or("no data dir")?;
    println!("postmaster_pid={pid}");
    println!("data_dir={}", data_dir.display());
    use std::io::Write as _;
    std::io::stdout().flush()?;
    if abort {
        std::process::abort();
    }
    Ok(())
}

/// With `DATABASE_URL` set, databases are made on that server (here: this process's cluster,
/// through its socket), no cluster is started, and test databases are dropped after use.
#[tokio::test]
async fn database_url_selects_an_existing_server() -> TestResult {
    if std::env::var(CHILD_ROLE).as_deref() == Ok("database_url") {
        let server = Server::shared()?;
        assert!(server.data_dir().is_none(), "started a cluster");
        let db = testing::database_with_schema(SCHEMA).await?;
        let client = db.connect().await?;
        client
            .execute("INSERT INTO notes VALUES (1, 'via url')", &[])
            .await?;
        println!("database={}", db.name());
        return Ok(());
    }
    let admin = testing::database().await?;
    let output = rerun_self(
        "database_url_selects_an_existing_server",
        "database_url",
        Some(&admin.connection_string()),
    )?;
    let stdout = String::from_utf8_lossy(&output.stdout);
    let report = format!(
        "child {}\nstdout:\n{stdout}\nstderr:\n{}",
        output.status,
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(output.status.success(), "{report}");
    let name = field(&stdout, "database").ok_or_else(|| format!("no database line: {report}"))?;
    let client = admin.connect().await?;
    let left: i64 = client
        .query_one(
            "SELECT count(*) FROM pg_database WHERE datname = $1",
            &[&name],
        )
        .await?
        .get(0);
    assert_eq!(left, 0, "the child's database {name} was not dropped");
    let templates: i64 = client
        .query_one(
            "SELECT count(*) FROM pg_database WHERE datname LIKE 'writegraph_tpl_%' AND datistemplate",
            &[],
        )
        .await?
        .get(0);
    assert!(templates >= 1, "the child's template was not kept");
    Ok(())
}

/// Runs this test binary again, only test `name`, in child role `role`.
fn rerun_self(
    name: &str,
    role: &str,
    database_url: Option<&str>,
) -> Result<std::process::Output, Box<dyn Error>> {
    let mut command = Command::new(std::env::current_exe()?);
    command
        .args([name, "--exact", "--nocapture", "--test-threads=1"])
        .env(CHILD_ROLE, role);
    match database_url {
        Some(url) => command.env(testing::DATABASE_URL, url),
        None => command.env_remove(testing::DATABASE_URL),
    };
    Ok(command.output()?)
}

/// The value after `key=` on a line (the harness may print `test ... ` before it).
fn field<'a>(stdout: &'a str, key: &str) -> Option<&'a str> {
    stdout.lines().find_map(|line| {
        let start = line.find(&format!("{key}="))?;
        Some(line[start + key.len() + 1..].trim())
    })
}

/// A process that has exited but not been reaped (a zombie) counts as gone.
fn process_alive(pid: u32) -> bool {
    let status = Path::new("/proc").join(pid.to_string()).join("status");
    match std::fs::read_to_string(status) {
        Ok(text) => !text
            .lines()
            .any(|l| l.starts_with("State:") && l.contains('Z')),
        Err(_) => false,
    }
}

fn wait_until(limit: Duration, mut done: impl FnMut() -> bool) {
    let start = Instant::now();
    while !done() && start.elapsed() < limit {
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// The throwaway cluster trusts every connection that reaches it, so nobody else may reach
/// it: its folder (which holds the socket) and its data folder are its user's alone, it
/// listens on no TCP address, and a setting that would open one beyond loopback is refused.
#[tokio::test]
async fn only_the_clusters_user_can_reach_it() -> TestResult {
    use std::os::unix::fs::MetadataExt as _;
    let server = Server::start(&ClusterOptions::default())?;
    let data_dir = server.data_dir().ok_or("no data dir")?.to_path_buf();
    let socket_dir = data_dir.parent().ok_or("no cluster folder")?.to_path_buf();
    let owner = std::fs::metadata(&data_dir)?.uid();
    for dir in [&socket_dir, &data_dir] {
        let metadata = std::fs::metadata(dir)?;
        assert_eq!(
            metadata.mode() & 0o777,
            0o700,
            "{} is open to others",
            dir.display()
        );
        assert_eq!(metadata.uid(), owner, "{}", dir.display());
    }
    assert!(
        socket_dir.join(".s.PGSQL.5432").exists(),
        "the socket is in the private folder"
    );
    let client = server.database().await?.connect().await?;
    let listen: String = client.query_one("SHOW listen_addresses", &[]).await?.get(0);
    assert_eq!(listen, "", "no TCP at all");

    for open in ["*", "0.0.0.0", "::", "192.168.1.5", "localhost, *"] {
        let refused = Server::start(&ClusterOptions {
            settings: vec![("listen_addresses".into(), open.into())],
            ..ClusterOptions::default()
        });
        match refused {
            Err(TestingError::UnsafeSetting { .. }) => {}
            other => return Err(format!("listen_addresses = '{open}': {other:?}").into()),
        }
    }
    let loopback = Server::start(&ClusterOptions {
        settings: vec![("listen_addresses".into(), "127.0.0.1".into())],
        ..ClusterOptions::default()
    })?;
    let client = loopback.database().await?.connect().await?;
    let listen: String = client.query_one("SHOW listen_addresses", &[]).await?.get(0);
    assert_eq!(listen, "127.0.0.1");
    Ok(())
}
