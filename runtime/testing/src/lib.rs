//! Throwaway PostgreSQL for the tests and examples of applications that use
//! [writegraph](https://docs.rs/writegraph) (Unix only), and a client that counts the statements
//! a write sends ([`CountingClient`]).
//!
//! Every test gets its own database, cloned from a template with `CREATE DATABASE ... TEMPLATE`,
//! so tests run in parallel and never see each other's rows:
//!
//! ```no_run
//! # async fn example() -> Result<(), writegraph_testing::TestingError> {
//! let db = writegraph_testing::database_with_schema("CREATE TABLE t (id int PRIMARY KEY)").await?;
//! let client = db.connect().await?;
//! client.execute("INSERT INTO t VALUES (1)", &[]).await?;
//! # Ok(())
//! # }
//! ```
//!
//! Where the databases live:
//! - with `DATABASE_URL` set, on that server (the user needs `CREATEDB`); each test database is
//!   dropped when its [`TestDatabase`] is dropped, templates (`writegraph_tpl_<hash>`) are kept
//!   and reused by later runs;
//! - otherwise on one cluster per test process, created with `initdb` in a temporary folder from
//!   the server binaries on `PATH` or in the newest `/usr/lib/postgresql/*/bin`. It trusts every
//!   connection, so nobody else can reach it: it listens only on a Unix socket inside that
//!   folder, which is private to the user that runs it (0700, as its data folder), never on TCP
//!   (a `listen_addresses` setting beyond loopback is refused), and runs as the `postgres` user
//!   when the tests run as root (PostgreSQL refuses to run as root). A watchdog process stops it and deletes the
//!   folder when the test process ends, however it ends (return, panic, abort, `SIGKILL`).
//!
//! The shared cluster trades durability for speed (`fsync`, `synchronous_commit` and
//! `full_page_writes` off). Benchmarks that measure commits start their own with
//! [`Server::start`] and [`ClusterOptions::durable`].
//!
//! # Why not pgtemp
//! [pgtemp](https://docs.rs/pgtemp) starts one server per `PgTempDB` and stops it in `Drop`.
//! A server shared by a whole test binary lives in a `static`, which is never dropped, and
//! `Drop` does not run on abort or `SIGKILL`, so that design leaves servers behind; ours is
//! stopped by a watchdog that notices the test process is gone. As root, pgtemp runs `sudo -u
//! postgres`, which many containers lack (`runuser` and `su` ship with util-linux), it panics
//! instead of returning errors, listens on a TCP port, and has no template databases. What we
//! need fits in this one crate on std, so we keep it here instead of adding four dependencies.

use std::collections::HashMap;
use std::ffi::{OsStr, OsString};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{SystemTime, UNIX_EPOCH};

use tokio_postgres::config::Host;
use tokio_postgres::{Client, Config, NoTls};

/// The environment variable naming an existing server to use instead of a throwaway cluster.
pub const DATABASE_URL: &str = "DATABASE_URL";

/// The system user that runs the cluster when the tests run as root.
const POSTGRES_USER: &str = "postgres";

/// Port of the throwaway cluster. It listens only on a socket in its own folder, so every
/// cluster can use the same port.
const LOCAL_PORT: u16 = 5432;

/// Why a test database could not be provided.
#[derive(Debug, Clone, thiserror::Error)]
pub enum TestingError {
    /// Neither `DATABASE_URL` nor PostgreSQL's server binaries are available.
    #[error(
        "no PostgreSQL server binaries found (looked for `initdb` on PATH and in \
         /usr/lib/postgresql/*/bin); install them, e.g. `apt-get install -y postgresql`, \
         or set DATABASE_URL to a server where this user may create databases"
    )]
    NoServerBinaries,
    /// A client or server program (`pg_dump`, `psql`, ...) was not found.
    #[error(
        "PostgreSQL program `{name}` not found in {searched}; install the PostgreSQL client \
         and server, e.g. `apt-get install -y postgresql`"
    )]
    BinaryNotFound {
        /// The program looked for.
        name: String,
        /// Where it was looked for.
        searched: String,
    },
    /// `DATABASE_URL` could not be parsed.
    #[error("DATABASE_URL is not a valid connection string: {message}")]
    InvalidDatabaseUrl {
        /// The parser's message.
        message: String,
    },
    /// Running as root, but there is no `postgres` user to run the server as.
    #[error(
        "running as root, and PostgreSQL refuses to run as root, but there is no `postgres` \
         user to run it as; create one (`useradd --system postgres`) or set DATABASE_URL"
    )]
    NoPostgresUser,
    /// A file system operation failed.
    #[error("{action} `{path}`: {message}")]
    Io {
        /// What was being done, e.g. `cannot create folder`.
        action: String,
        /// The path involved.
        path: String,
        /// The operating system's message.
        message: String,
    },
    /// A program could not be started or exited with an error.
    #[error("`{command}` failed: {message}")]
    Command {
        /// The command line, for the reader.
        command: String,
        /// Exit status and output.
        message: String,
    },
    /// The cluster did not start; `log` is the end of the server log.
    #[error("the PostgreSQL cluster in `{data_dir}` did not start: {message}\nserver log:\n{log}")]
    ClusterStart {
        /// The cluster's data folder.
        data_dir: String,
        /// What went wrong.
        message: String,
        /// The last lines of the server log.
        log: String,
    },
    /// A setting of [`ClusterOptions`] would let others reach the cluster, which trusts
    /// every connection.
    #[error(
        "`{name} = '{value}'` would open the throwaway cluster, which trusts every connection, \
         to other hosts; use '' (the private socket only) or loopback addresses (127.0.0.1, ::1, \
         localhost)"
    )]
    UnsafeSetting {
        /// The setting.
        name: String,
        /// Its value.
        value: String,
    },
    /// A statement or connection failed.
    #[error("{context}: {message}")]
    Postgres {
        /// What was being done, e.g. `cannot create database "x"`.
        context: String,
        /// The error as tokio-postgres reports it, with the server's detail.
        message: String,
    },
}

impl From<tokio_postgres::Error> for TestingError {
    fn from(error: tokio_postgres::Error) -> Self {
        postgres_error("query failed", &error)
    }
}

/// Settings of a throwaway cluster started by [`Server::start`].
#[derive(Debug, Clone, Default)]
pub struct ClusterOptions {
    /// Keep PostgreSQL's crash-safety settings (`fsync`, `synchronous_commit`,
    /// `full_page_writes`). Off by default: tests do not need commits to survive a power cut,
    /// and turning it off makes them much faster. Benchmarks that measure commits want it on.
    pub durable: bool,
    /// More `postgresql.conf` settings as `(name, value)`; values are written quoted.
    pub settings: Vec<(String, String)>,
    /// The folder of the server binaries (`initdb`, `pg_ctl`, `postgres`) to run, for a
    /// PostgreSQL version other than the one found on `PATH` or in `/usr/lib/postgresql`.
    pub bin_dir: Option<PathBuf>,
}

/// A PostgreSQL server that hands out test databases: either a throwaway cluster this process
/// started, or the server `DATABASE_URL` names.
///
/// The state is independent of any tokio runtime, so a server started from one
/// `#[tokio::test]` serves the others.
#[derive(Debug)]
pub struct Server {
    /// Connection settings for the maintenance database (`postgres`, or `DATABASE_URL`'s).
    admin: Config,
    /// The throwaway cluster, when this process started one.
    local: Option<LocalCluster>,
    /// Template databases created by this process, by name; the cell is set once the
    /// template exists.
    templates: Mutex<HashMap<String, Arc<tokio::sync::OnceCell<()>>>>,
    /// Makes test database names unique within the process.
    next_database: AtomicU64,
    /// Makes test database names unique among processes sharing a server.
    name_prefix: String,
}

/// A cluster this process started.
#[derive(Debug)]
struct LocalCluster {
    /// The temporary folder: data folder, socket and log.
    dir: PathBuf,
    /// The data folder inside `dir`.
    data_dir: PathBuf,
    /// The folder of the server binaries it was started from.
    bin_dir: PathBuf,
    /// The watchdog and the write end of its stdin; closing it stops the cluster.
    watchdog: Mutex<Option<(Child, ChildStdin)>>,
}

/// A database of its own for one test. Connect with [`TestDatabase::connect`].
#[derive(Debug)]
pub struct TestDatabase {
    name: String,
    config: Config,
    /// Drop the database when this value is dropped (on a `DATABASE_URL` server; a throwaway
    /// cluster is deleted whole).
    drop_on_drop: Option<Config>,
}

impl TestDatabase {
    /// Opens a connection to the database. The connection task is spawned on the current
    /// tokio runtime, so call this from the runtime that will use the client.
    pub async fn connect(&self) -> Result<Client, TestingError> {
        connect(
            &self.config,
            &format!("cannot connect to database {:?}", self.name),
        )
        .await
    }

    /// Connection settings as libpq `key=value` text, usable by tokio-postgres
    /// (`str::parse::<tokio_postgres::Config>`) and by `pg_dump -d` / `psql -d`.
    pub fn connection_string(&self) -> String {
        connection_string(&self.config)
    }

    /// Connection settings for tokio-postgres.
    pub fn config(&self) -> &Config {
        &self.config
    }

    /// The database's name.
    pub fn name(&self) -> &str {
        &self.name
    }
}

impl Drop for TestDatabase {
    fn drop(&mut self) {
        let Some(admin) = self.drop_on_drop.take() else {
            return;
        };
        // Drop runs inside the test's runtime, which cannot be blocked on; a thread with a
        // runtime of its own can. Best effort: a leftover database is only clutter.
        let sql = format!(
            "DROP DATABASE IF EXISTS {} WITH (FORCE)",
            quote_ident(&self.name)
        );
        let thread = std::thread::spawn(move || {
            let Ok(runtime) = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
            else {
                return;
            };
            runtime.block_on(async move {
                if let Ok(client) = connect(&admin, "").await {
                    let _ = client.batch_execute(&sql).await;
                }
            });
        });
        let _ = thread.join();
    }
}

/// A fresh, empty database on the [shared server](Server::shared).
pub async fn database() -> Result<TestDatabase, TestingError> {
    Server::shared()?.database().await
}

/// A fresh database with `sql` applied, on the [shared server](Server::shared). The first call
/// with a given text builds a template database from it; later calls clone that template.
pub async fn database_with_schema(sql: &str) -> Result<TestDatabase, TestingError> {
    Server::shared()?.database_with_schema(sql).await
}

/// The path of a PostgreSQL program (`pg_dump`, `psql`, ...): from the shared cluster's binary
/// folder when it runs, else from the folder where `initdb` is found, else from `PATH`.
/// Does not start a cluster.
pub fn server_binary(name: &str) -> Result<PathBuf, TestingError> {
    let bin_dir = match SHARED.get() {
        Some(Ok(Server {
            local: Some(local), ..
        })) => Some(local.bin_dir.clone()),
        _ => find_bin_dir(),
    };
    if let Some(path) = bin_dir.as_ref().map(|dir| dir.join(name)) {
        if path.is_file() {
            return Ok(path);
        }
    }
    if let Some(path) = find_on_path(name) {
        return Ok(path);
    }
    let searched = match bin_dir {
        Some(dir) => format!("`{}` and on PATH", dir.display()),
        None => "PATH and /usr/lib/postgresql/*/bin".to_owned(),
    };
    Err(TestingError::BinaryNotFound {
        name: name.to_owned(),
        searched,
    })
}

/// The process-wide server behind [`database`] and [`database_with_schema`].
static SHARED: OnceLock<Result<Server, TestingError>> = OnceLock::new();

impl Server {
    /// The process-wide server: `DATABASE_URL`'s when set, otherwise a throwaway cluster with
    /// default [`ClusterOptions`], started on first use (blocking for a second or two) and
    /// stopped when the process ends. A failure is remembered and returned to every caller.
    pub fn shared() -> Result<&'static Server, TestingError> {
        SHARED
            .get_or_init(|| match std::env::var(DATABASE_URL) {
                Ok(url) if !url.trim().is_empty() => Server::from_url(&url),
                _ => Server::start(&ClusterOptions::default()),
            })
            .as_ref()
            .map_err(Clone::clone)
    }

    /// Uses an existing server; `url` is a `postgres://` URL or libpq `key=value` text naming
    /// a database to connect to for `CREATE DATABASE`. Does not connect yet.
    pub fn from_url(url: &str) -> Result<Server, TestingError> {
        let admin: Config =
            url.parse().map_err(
                |e: tokio_postgres::Error| TestingError::InvalidDatabaseUrl {
                    message: e.to_string(),
                },
            )?;
        Ok(Server::new(admin, None))
    }

    /// Starts a throwaway cluster owned by the returned value: it is stopped and its folder
    /// deleted when the value is dropped, or when the process ends, whichever comes first.
    /// Blocks until the server accepts connections.
    pub fn start(options: &ClusterOptions) -> Result<Server, TestingError> {
        let local = LocalCluster::start(options)?;
        let mut admin = Config::new();
        admin
            .host_path(&local.dir)
            .port(LOCAL_PORT)
            .user(POSTGRES_USER)
            .dbname("postgres");
        Ok(Server::new(admin, Some(local)))
    }

    fn new(admin: Config, local: Option<LocalCluster>) -> Server {
        let nanos = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.subsec_nanos())
            .unwrap_or(0);
        Server {
            admin,
            local,
            templates: Mutex::new(HashMap::new()),
            next_database: AtomicU64::new(1),
            name_prefix: format!("writegraph_test_{}_{:x}", std::process::id(), nanos),
        }
    }

    /// Connection settings for the server's maintenance database.
    pub fn admin_config(&self) -> &Config {
        &self.admin
    }

    /// The throwaway cluster's data folder; `None` for a `DATABASE_URL` server.
    pub fn data_dir(&self) -> Option<&Path> {
        self.local.as_ref().map(|l| l.data_dir.as_path())
    }

    /// The folder of the throwaway cluster's server binaries (its `psql` and `pg_dump` match
    /// its version); `None` for a `DATABASE_URL` server.
    pub fn bin_dir(&self) -> Option<&Path> {
        self.local.as_ref().map(|l| l.bin_dir.as_path())
    }

    /// The process id of the throwaway cluster's postmaster, read from `postmaster.pid`;
    /// `None` for a `DATABASE_URL` server or when the cluster is not running.
    pub fn postmaster_pid(&self) -> Option<u32> {
        let data_dir = self.data_dir()?;
        let text = std::fs::read_to_string(data_dir.join("postmaster.pid")).ok()?;
        text.lines().next()?.trim().parse().ok()
    }

    /// A fresh, empty database (a clone of `template0`).
    pub async fn database(&self) -> Result<TestDatabase, TestingError> {
        self.clone_database("template0").await
    }

    /// A fresh database with `sql` applied. The first call with a given text, in this process,
    /// builds a template database from it (`writegraph_tpl_<hash of the text>`); every call
    /// clones that template. Concurrent first calls build it once.
    pub async fn database_with_schema(&self, sql: &str) -> Result<TestDatabase, TestingError> {
        let template = format!("writegraph_tpl_{:016x}", fnv1a(sql.as_bytes()));
        let cell = {
            let mut templates = self
                .templates
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            templates.entry(template.clone()).or_default().clone()
        };
        cell.get_or_try_init(|| self.build_template(&template, sql))
            .await?;
        self.clone_database(&template).await
    }

    async fn clone_database(&self, template: &str) -> Result<TestDatabase, TestingError> {
        let name = format!(
            "{}_{}",
            self.name_prefix,
            self.next_database.fetch_add(1, Ordering::Relaxed)
        );
        let admin = self.connect_admin().await?;
        let sql = format!(
            "CREATE DATABASE {} TEMPLATE {}",
            quote_ident(&name),
            quote_ident(template)
        );
        admin
            .batch_execute(&sql)
            .await
            .map_err(|e| postgres_error(&format!("cannot create database {name:?}"), &e))?;
        let mut config = self.admin.clone();
        config.dbname(&name);
        Ok(TestDatabase {
            name,
            config,
            drop_on_drop: self.local.is_none().then(|| self.admin.clone()),
        })
    }

    /// Creates template `name` from `sql` unless it exists. Serialised among processes sharing
    /// a server by an advisory lock; built under a temporary name and renamed when complete,
    /// so a half-built template is never used.
    async fn build_template(&self, name: &str, sql: &str) -> Result<(), TestingError> {
        let admin = self.connect_admin().await?;
        let lock_key = fnv1a(name.as_bytes()) as i64;
        admin
            .execute("SELECT pg_advisory_lock($1)", &[&lock_key])
            .await
            .map_err(|e| postgres_error("cannot take the template lock", &e))?;
        let exists = admin
            .query_opt("SELECT 1 FROM pg_database WHERE datname = $1", &[&name])
            .await?
            .is_some();
        if !exists {
            let building = format!("{name}_building");
            // A leftover of a process that died while building; each statement on its own,
            // as neither may run inside a transaction block.
            for sql in [
                format!("DROP DATABASE IF EXISTS {}", quote_ident(&building)),
                format!(
                    "CREATE DATABASE {} TEMPLATE template0",
                    quote_ident(&building)
                ),
            ] {
                admin.batch_execute(&sql).await.map_err(|e| {
                    postgres_error(&format!("cannot create database {building:?}"), &e)
                })?;
            }
            if let Err(error) = self.apply(&building, sql).await {
                let drop = format!("DROP DATABASE IF EXISTS {}", quote_ident(&building));
                let _ = admin.batch_execute(&drop).await;
                return Err(error);
            }
            for sql in [
                format!(
                    "ALTER DATABASE {} RENAME TO {}",
                    quote_ident(&building),
                    quote_ident(name)
                ),
                format!("ALTER DATABASE {} IS_TEMPLATE true", quote_ident(name)),
            ] {
                admin
                    .batch_execute(&sql)
                    .await
                    .map_err(|e| postgres_error(&format!("cannot finish template {name:?}"), &e))?;
            }
        }
        admin
            .execute("SELECT pg_advisory_unlock($1)", &[&lock_key])
            .await?;
        Ok(())
    }

    /// Runs `sql` in database `name` and waits until the session has ended, so that the
    /// database can be renamed and cloned right after.
    async fn apply(&self, name: &str, sql: &str) -> Result<(), TestingError> {
        let mut config = self.admin.clone();
        config.dbname(name);
        let (client, connection) = config
            .connect(NoTls)
            .await
            .map_err(|e| postgres_error(&format!("cannot connect to database {name:?}"), &e))?;
        let connection = tokio::spawn(connection);
        let result = client.batch_execute(sql).await.map_err(|e| {
            postgres_error(&format!("cannot apply the schema in template {name:?}"), &e)
        });
        drop(client);
        let _ = connection.await;
        result
    }

    async fn connect_admin(&self) -> Result<Client, TestingError> {
        connect(&self.admin, "cannot connect to the PostgreSQL server").await
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        if let Some(local) = &self.local {
            local.stop();
        }
    }
}

impl LocalCluster {
    fn start(options: &ClusterOptions) -> Result<LocalCluster, TestingError> {
        check_private(options)?;
        let bin_dir = match &options.bin_dir {
            Some(dir) => dir.clone(),
            None => find_bin_dir().ok_or(TestingError::NoServerBinaries)?,
        };
        let run_as = RunAs::detect()?;
        let dir = create_temp_dir()?;
        if let Err(error) = run_as.give_to_postgres(&dir) {
            let _ = std::fs::remove_dir_all(&dir);
            return Err(error);
        }
        let data_dir = dir.join("data");
        // The watchdog comes first, so that even a failed start leaves nothing behind.
        let watchdog = spawn_watchdog(&run_as, &dir, &data_dir, &bin_dir.join("pg_ctl"))
            .inspect_err(|_| {
                let _ = std::fs::remove_dir_all(&dir);
            })?;
        let cluster = LocalCluster {
            dir,
            data_dir,
            bin_dir,
            watchdog: Mutex::new(Some(watchdog)),
        };
        // On error `cluster` is dropped here, which stops the watchdog and cleans up.
        cluster.init_and_start(&run_as, options)?;
        Ok(cluster)
    }

    fn init_and_start(&self, run_as: &RunAs, options: &ClusterOptions) -> Result<(), TestingError> {
        let data_dir = self.data_dir.as_os_str();
        run(run_as.command(
            &self.bin_dir.join("initdb"),
            [
                OsStr::new("-D"),
                data_dir,
                OsStr::new("--username"),
                OsStr::new(POSTGRES_USER),
                OsStr::new("--auth"),
                OsStr::new("trust"),
                OsStr::new("--encoding"),
                OsStr::new("UTF8"),
                OsStr::new("--locale"),
                OsStr::new("C"),
                OsStr::new("--no-sync"),
            ],
        ))?;

        let conf_path = self.data_dir.join("postgresql.conf");
        let mut conf = std::fs::read_to_string(&conf_path)
            .map_err(|e| io_error("cannot read", &conf_path, &e))?;
        conf.push_str(&cluster_settings(&self.dir, options));
        std::fs::write(&conf_path, conf).map_err(|e| io_error("cannot write", &conf_path, &e))?;

        let log = self.dir.join("server.log");
        let mut log_arg = OsString::from("--log=");
        log_arg.push(&log);
        // With a log file, pg_ctl sends the server's output there, not to our pipes, so
        // waiting for pg_ctl does not wait for the server.
        let started = run(run_as.command(
            &self.bin_dir.join("pg_ctl"),
            [
                OsStr::new("start"),
                OsStr::new("--pgdata"),
                data_dir,
                &log_arg,
                OsStr::new("--wait"),
                OsStr::new("--timeout=60"),
                OsStr::new("--silent"),
            ],
        ));
        if let Err(error) = started {
            return Err(TestingError::ClusterStart {
                data_dir: self.data_dir.display().to_string(),
                message: error.to_string(),
                log: tail(&std::fs::read_to_string(&log).unwrap_or_default(), 20),
            });
        }
        Ok(())
    }

    /// Closes the watchdog's stdin and waits for it to stop the server and delete the folder.
    fn stop(&self) {
        let watchdog = self
            .watchdog
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .take();
        if let Some((mut child, stdin)) = watchdog {
            drop(stdin);
            let _ = child.wait();
        }
    }
}

impl Drop for LocalCluster {
    fn drop(&mut self) {
        self.stop();
    }
}

/// The cluster trusts every connection (`initdb --auth trust`), so only its user may reach
/// it: its folder, which holds the socket, is 0700, and it listens on TCP only on loopback
/// addresses, if at all. Refuses settings that would open it wider.
fn check_private(options: &ClusterOptions) -> Result<(), TestingError> {
    for (name, value) in &options.settings {
        if !name.eq_ignore_ascii_case("listen_addresses") {
            continue;
        }
        let loopback = value
            .split(',')
            .map(str::trim)
            .filter(|address| !address.is_empty())
            .all(|address| matches!(address, "127.0.0.1" | "::1" | "localhost"));
        if !loopback {
            return Err(TestingError::UnsafeSetting {
                name: name.clone(),
                value: value.clone(),
            });
        }
    }
    Ok(())
}

/// The `postgresql.conf` lines appended after `initdb`.
fn cluster_settings(socket_dir: &Path, options: &ClusterOptions) -> String {
    let mut settings: Vec<(String, String)> = vec![
        ("listen_addresses".into(), String::new()),
        (
            "unix_socket_directories".into(),
            socket_dir.display().to_string(),
        ),
        ("port".into(), LOCAL_PORT.to_string()),
        ("max_connections".into(), "200".into()),
    ];
    if !options.durable {
        for name in ["fsync", "synchronous_commit", "full_page_writes"] {
            settings.push((name.into(), "off".into()));
        }
    }
    settings.extend(options.settings.iter().cloned());
    let mut out = String::from("\n# added by writegraph-testing\n");
    for (name, value) in settings {
        out.push_str(&format!("{name} = '{}'\n", value.replace('\'', "''")));
    }
    out
}

/// How to run the server's programs: directly, or as the `postgres` user when we are root.
#[derive(Debug)]
enum RunAs {
    CurrentUser,
    /// `runuser -u postgres -- program args`.
    Runuser(PathBuf),
    /// `su postgres -s /bin/sh -c 'exec "$0" "$@"' program args`.
    Su(PathBuf),
}

impl RunAs {
    fn detect() -> Result<RunAs, TestingError> {
        if !running_as_root() {
            return Ok(RunAs::CurrentUser);
        }
        let has_user = Command::new("id")
            .args(["-u", POSTGRES_USER])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|s| s.success());
        if !has_user {
            return Err(TestingError::NoPostgresUser);
        }
        if let Some(runuser) =
            find_on_path("runuser").or_else(|| existing(&["/usr/sbin/runuser", "/sbin/runuser"]))
        {
            return Ok(RunAs::Runuser(runuser));
        }
        match find_on_path("su").or_else(|| existing(&["/bin/su", "/usr/bin/su"])) {
            Some(su) => Ok(RunAs::Su(su)),
            None => Err(TestingError::BinaryNotFound {
                name: "runuser or su (to run PostgreSQL as the postgres user)".into(),
                searched: "PATH, /usr/sbin and /bin".into(),
            }),
        }
    }

    fn command<I, S>(&self, program: &Path, args: I) -> Command
    where
        I: IntoIterator<Item = S>,
        S: AsRef<OsStr>,
    {
        let mut command = match self {
            RunAs::CurrentUser => Command::new(program),
            RunAs::Runuser(runuser) => {
                let mut c = Command::new(runuser);
                c.args(["-u", POSTGRES_USER, "--"]).arg(program);
                c
            }
            RunAs::Su(su) => {
                let mut c = Command::new(su);
                c.args([POSTGRES_USER, "-s", "/bin/sh", "-c", "exec \"$0\" \"$@\""])
                    .arg(program);
                c
            }
        };
        command.args(args);
        command
    }

    /// Makes `dir` the `postgres` user's, so that the server can use it and the watchdog
    /// (running as that user) can delete it.
    fn give_to_postgres(&self, dir: &Path) -> Result<(), TestingError> {
        if matches!(self, RunAs::CurrentUser) {
            return Ok(());
        }
        let mut chown = Command::new("chown");
        chown.arg(format!("{POSTGRES_USER}:")).arg(dir);
        run(chown).map(|_| ())
    }
}

/// Runs as the server's user; waits for EOF on stdin (the test process closed it, by
/// dropping the server or by ending), then stops the server and deletes the folder. Ignores
/// the signals a terminal sends, and runs in its own process group, so Ctrl-C on `cargo test`
/// does not stop it before it has cleaned up.
const WATCHDOG_SCRIPT: &str = r#"
trap '' INT TERM HUP QUIT
cat >/dev/null
if [ -f "$2/postmaster.pid" ]; then
    pid=$(head -n 1 "$2/postmaster.pid")
    "$3" stop --pgdata="$2" --mode=immediate --wait --timeout=30 --silent >/dev/null 2>&1 \
        || kill -KILL "$pid" 2>/dev/null
fi
rm -rf "$1"
"#;

fn spawn_watchdog(
    run_as: &RunAs,
    dir: &Path,
    data_dir: &Path,
    pg_ctl: &Path,
) -> Result<(Child, ChildStdin), TestingError> {
    use std::os::unix::process::CommandExt as _;
    let mut command = run_as.command(
        Path::new("/bin/sh"),
        [
            OsStr::new("-c"),
            OsStr::new(WATCHDOG_SCRIPT),
            OsStr::new("writegraph-pg-watchdog"),
            dir.as_os_str(),
            data_dir.as_os_str(),
            pg_ctl.as_os_str(),
        ],
    );
    command
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .process_group(0);
    let mut child = command.spawn().map_err(|e| TestingError::Command {
        command: "/bin/sh -c <watchdog script>".into(),
        message: e.to_string(),
    })?;
    let Some(stdin) = child.stdin.take() else {
        let _ = child.kill();
        return Err(TestingError::Command {
            command: "/bin/sh -c <watchdog script>".into(),
            message: "no stdin pipe".into(),
        });
    };
    Ok((child, stdin))
}

/// Runs a command to completion; an error carries its exit status and output.
fn run(mut command: Command) -> Result<String, TestingError> {
    let line = format!("{command:?}");
    let output = command
        .stdin(Stdio::null())
        .output()
        .map_err(|e| TestingError::Command {
            command: line.clone(),
            message: e.to_string(),
        })?;
    if !output.status.success() {
        return Err(TestingError::Command {
            command: line,
            message: format!(
                "{}\n{}{}",
                output.status,
                String::from_utf8_lossy(&output.stdout),
                String::from_utf8_lossy(&output.stderr)
            )
            .trim_end()
            .to_owned(),
        });
    }
    Ok(String::from_utf8_lossy(&output.stdout).into_owned())
}

/// The folder holding `initdb`: its real folder when `PATH` has a symlink to it (so that
/// `pg_ctl` and `pg_dump` come from the same installation), else the newest
/// `/usr/lib/postgresql/<version>/bin`.
fn find_bin_dir() -> Option<PathBuf> {
    if let Some(initdb) = find_on_path("initdb") {
        let real = std::fs::canonicalize(&initdb).unwrap_or(initdb);
        if let Some(dir) = real.parent() {
            if dir.join("pg_ctl").is_file() {
                return Some(dir.to_path_buf());
            }
        }
    }
    let mut versions: Vec<(u32, PathBuf)> = std::fs::read_dir("/usr/lib/postgresql")
        .ok()?
        .filter_map(Result::ok)
        .filter_map(|entry| {
            let version = entry.file_name().to_str()?.parse::<u32>().ok()?;
            let bin = entry.path().join("bin");
            bin.join("initdb").is_file().then_some((version, bin))
        })
        .collect();
    versions.sort();
    versions.pop().map(|(_, bin)| bin)
}

fn find_on_path(name: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|dir| dir.join(name))
        .find(|candidate| candidate.is_file())
}

fn existing(paths: &[&str]) -> Option<PathBuf> {
    paths.iter().map(PathBuf::from).find(|p| p.is_file())
}

/// Root owns `/proc/self` when the effective user is root; `id -u` where there is no `/proc`.
fn running_as_root() -> bool {
    use std::os::unix::fs::MetadataExt as _;
    if let Ok(metadata) = std::fs::metadata("/proc/self") {
        return metadata.uid() == 0;
    }
    Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
}

/// A new folder under the system temp folder, short enough for a socket path, that only
/// its owner can enter.
fn create_temp_dir() -> Result<PathBuf, TestingError> {
    use std::os::unix::fs::DirBuilderExt as _;
    let base = std::env::temp_dir();
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or(0);
    let dir = base.join(format!("writegraph-pg-{}-{nanos:x}", std::process::id()));
    // The socket path `<dir>/.s.PGSQL.5432` must fit in sockaddr_un (107 bytes).
    if dir.as_os_str().len() > 90 {
        return Err(TestingError::Io {
            action: "temporary folder path too long for a Unix socket".into(),
            path: dir.display().to_string(),
            message: "set TMPDIR to a shorter folder, e.g. /tmp".into(),
        });
    }
    // Private from the start: it holds the socket of a cluster that trusts every connection.
    std::fs::DirBuilder::new()
        .mode(0o700)
        .create(&dir)
        .map_err(|e| io_error("cannot create folder", &dir, &e))?;
    Ok(dir)
}

async fn connect(config: &Config, context: &str) -> Result<Client, TestingError> {
    let (client, connection) = config.connect(NoTls).await.map_err(|e| {
        let context = if context.is_empty() {
            "cannot connect"
        } else {
            context
        };
        postgres_error(context, &e)
    })?;
    tokio::spawn(async move {
        // The connection ends with an error only when the server goes away; the client's
        // next call reports that.
        let _ = connection.await;
    });
    Ok(client)
}

/// libpq `key=value` text for `config`'s host, port, user, password and database.
fn connection_string(config: &Config) -> String {
    let mut parts = Vec::new();
    let hosts: Vec<String> = config
        .get_hosts()
        .iter()
        .map(|host| match host {
            Host::Tcp(name) => name.clone(),
            Host::Unix(path) => path.display().to_string(),
        })
        .collect();
    if !hosts.is_empty() {
        parts.push(("host", hosts.join(",")));
    }
    let ports: Vec<String> = config.get_ports().iter().map(u16::to_string).collect();
    if !ports.is_empty() {
        parts.push(("port", ports.join(",")));
    }
    if let Some(user) = config.get_user() {
        parts.push(("user", user.to_owned()));
    }
    if let Some(password) = config.get_password() {
        parts.push(("password", String::from_utf8_lossy(password).into_owned()));
    }
    if let Some(dbname) = config.get_dbname() {
        parts.push(("dbname", dbname.to_owned()));
    }
    parts
        .into_iter()
        .map(|(key, value)| {
            let escaped = value.replace('\\', "\\\\").replace('\'', "\\'");
            format!("{key}='{escaped}'")
        })
        .collect::<Vec<_>>()
        .join(" ")
}

fn postgres_error(context: &str, error: &tokio_postgres::Error) -> TestingError {
    let message = match error.as_db_error() {
        Some(db) => {
            let mut message = format!("{}: {}", db.severity(), db.message());
            if let Some(detail) = db.detail() {
                message.push_str(&format!("\nDETAIL: {detail}"));
            }
            if let Some(hint) = db.hint() {
                message.push_str(&format!("\nHINT: {hint}"));
            }
            if let Some(tokio_postgres::error::ErrorPosition::Original(position)) = db.position() {
                message.push_str(&format!("\nat character {position}"));
            }
            message
        }
        None => {
            let mut message = error.to_string();
            let mut source = std::error::Error::source(error);
            while let Some(inner) = source {
                message.push_str(&format!(": {inner}"));
                source = inner.source();
            }
            message
        }
    };
    TestingError::Postgres {
        context: context.to_owned(),
        message,
    }
}

fn io_error(action: &str, path: &Path, error: &std::io::Error) -> TestingError {
    TestingError::Io {
        action: action.to_owned(),
        path: path.display().to_string(),
        message: error.to_string(),
    }
}

/// `"name"`, with embedded quotes doubled.
fn quote_ident(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

/// 64-bit FNV-1a: a hash that is the same in every process and Rust version, for template
/// names that processes sharing a server agree on.
fn fnv1a(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |hash, byte| {
        (hash ^ u64::from(*byte)).wrapping_mul(0x0100_0000_01b3)
    })
}

fn tail(text: &str, lines: usize) -> String {
    let all: Vec<&str> = text.lines().collect();
    all[all.len().saturating_sub(lines)..].join("\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn connection_string_round_trips() -> Result<(), Box<dyn std::error::Error>> {
        let mut config = Config::new();
        config
            .host_path("/tmp/it's here")
            .port(5432)
            .user("postgres")
            .dbname("a\\b");
        let text = connection_string(&config);
        assert_eq!(
            text,
            r"host='/tmp/it\'s here' port='5432' user='postgres' dbname='a\\b'"
        );
        let parsed: Config = text.parse()?;
        assert_eq!(parsed.get_dbname(), Some("a\\b"));
        assert_eq!(
            parsed.get_hosts(),
            &[Host::Unix(PathBuf::from("/tmp/it's here"))]
        );
        Ok(())
    }

    #[test]
    fn settings_are_quoted_and_durability_is_an_option() {
        let fast = cluster_settings(Path::new("/tmp/x'y"), &ClusterOptions::default());
        assert!(fast.contains("unix_socket_directories = '/tmp/x''y'"));
        assert!(fast.contains("fsync = 'off'"));
        let durable = cluster_settings(
            Path::new("/tmp/x"),
            &ClusterOptions {
                durable: true,
                settings: vec![("work_mem".into(), "8MB".into())],
                ..ClusterOptions::default()
            },
        );
        assert!(!durable.contains("fsync"));
        assert!(durable.contains("work_mem = '8MB'"));
    }
}

/// A [`GenericClient`](writegraph::GenericClient) that counts the statements sent through it, so
/// tests can prove how many statements (round trips) a write takes.
#[derive(Debug)]
pub struct CountingClient<C> {
    inner: C,
    statements: AtomicU64,
}

impl<C> CountingClient<C> {
    /// Wraps a client or transaction.
    pub fn new(inner: C) -> Self {
        Self {
            inner,
            statements: AtomicU64::new(0),
        }
    }

    /// Statements sent so far.
    pub fn statements(&self) -> u64 {
        self.statements.load(Ordering::SeqCst)
    }

    /// Sets the count back to zero.
    pub fn reset(&self) {
        self.statements.store(0, Ordering::SeqCst);
    }

    /// The wrapped client.
    pub fn inner(&self) -> &C {
        &self.inner
    }

    /// Unwraps the client.
    pub fn into_inner(self) -> C {
        self.inner
    }
}

impl<C: writegraph::GenericClient + Send> writegraph::GenericClient for CountingClient<C> {
    fn is_transaction(&self) -> bool {
        self.inner.is_transaction()
    }

    fn query_typed(
        &self,
        sql: &str,
        params: &[(
            &(dyn tokio_postgres::types::ToSql + Sync),
            tokio_postgres::types::Type,
        )],
    ) -> impl std::future::Future<Output = Result<Vec<tokio_postgres::Row>, tokio_postgres::Error>> + Send
    {
        self.statements.fetch_add(1, Ordering::SeqCst);
        self.inner.query_typed(sql, params)
    }

    fn execute_typed(
        &self,
        sql: &str,
        params: &[(
            &(dyn tokio_postgres::types::ToSql + Sync),
            tokio_postgres::types::Type,
        )],
    ) -> impl std::future::Future<Output = Result<u64, tokio_postgres::Error>> + Send {
        self.statements.fetch_add(1, Ordering::SeqCst);
        self.inner.execute_typed(sql, params)
    }

    /// Counts `BEGIN`, the lock, the statement and `COMMIT` (or the lock and the statement),
    /// and lets the wrapped client send them, as it would without this wrapper.
    fn pipeline_locked(
        &self,
        transaction: writegraph::PipelineTransaction,
        lock: &str,
        key: &[(
            &(dyn tokio_postgres::types::ToSql + Sync),
            tokio_postgres::types::Type,
        )],
        sql: &str,
        params: &[(
            &(dyn tokio_postgres::types::ToSql + Sync),
            tokio_postgres::types::Type,
        )],
    ) -> impl std::future::Future<Output = writegraph::LockedAnswers> + Send {
        let sent = match transaction {
            writegraph::PipelineTransaction::Own => 4,
            writegraph::PipelineTransaction::Callers => 2,
        };
        self.statements.fetch_add(sent, Ordering::SeqCst);
        self.inner
            .pipeline_locked(transaction, lock, key, sql, params)
    }
}

/// A counted transaction is a transaction.
impl<C: writegraph::TransactionClient + Send> writegraph::TransactionClient for CountingClient<C> {}

/// A counted client is a client: a graph that locks its root takes `&mut` of it.
impl<C: writegraph::SessionClient + Send> writegraph::SessionClient for CountingClient<C> {}
