//! A throwaway pgbouncer in transaction pooling mode in front of a test database's server.
//!
//! It runs as the user the throwaway cluster runs as (`postgres` when the tests run as root,
//! as pgbouncer refuses to run as root), listens only on a Unix socket in a folder private to
//! that user (0700), trusts every connection, and hands out at most two server connections
//! per database. Dropping it stops it and deletes its folder.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use tokio_postgres::config::Host;
use tokio_postgres::Config;
use writegraph_testing::TestDatabase;

/// Server connections pgbouncer opens per database and user.
pub const POOL_SIZE: usize = 2;

/// The port pgbouncer's socket is named after (`.s.PGSQL.6432`).
const PORT: u16 = 6432;

/// A running pgbouncer.
#[derive(Debug)]
pub struct PgBouncer {
    dir: PathBuf,
    child: Child,
}

/// Why no pgbouncer could be started.
pub type StartError = Box<dyn std::error::Error>;

/// Where the pgbouncer program is, if it is installed.
pub fn binary() -> Option<PathBuf> {
    let path = std::env::var_os("PATH").unwrap_or_default();
    std::env::split_paths(&path)
        .chain([PathBuf::from("/usr/sbin"), PathBuf::from("/usr/bin")])
        .map(|dir| dir.join("pgbouncer"))
        .find(|candidate| candidate.is_file())
}

/// The pgbouncer to test with, or `None` (after printing why) when it is not installed and
/// this is not CI; on CI (`CI` set) a missing pgbouncer is an error.
pub fn start_or_skip(db: &TestDatabase) -> Result<Option<PgBouncer>, StartError> {
    let Some(binary) = binary() else {
        if std::env::var_os("CI").is_some() {
            return Err("pgbouncer is not installed (apt-get install pgbouncer)".into());
        }
        eprintln!("skipped: pgbouncer is not installed (apt-get install pgbouncer)");
        return Ok(None);
    };
    PgBouncer::start(&binary, db).map(Some)
}

fn running_as_root() -> bool {
    use std::os::unix::fs::MetadataExt as _;
    std::fs::metadata("/proc/self").is_ok_and(|m| m.uid() == 0)
}

/// A `key=value` value of pgbouncer's ini file (no quoting there: refuse what would need it).
fn ini_value(value: &str) -> Result<&str, StartError> {
    if value.contains(['\n', '\'', ' ', ';', '=']) {
        return Err(format!("cannot write {value:?} into pgbouncer.ini").into());
    }
    Ok(value)
}

impl PgBouncer {
    fn start(binary: &Path, db: &TestDatabase) -> Result<PgBouncer, StartError> {
        use std::os::unix::fs::DirBuilderExt as _;
        let config = db.config();
        let server_host = match config.get_hosts().first() {
            Some(Host::Unix(dir)) => dir.display().to_string(),
            Some(Host::Tcp(host)) => host.clone(),
            None => return Err("the test server has no host".into()),
        };
        let server_port = config.get_ports().first().copied().unwrap_or(5432);
        let user = config.get_user().unwrap_or("postgres");
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.subsec_nanos())
            .unwrap_or(0);
        let dir =
            std::env::temp_dir().join(format!("writegraph-pgb-{}-{nanos:x}", std::process::id()));
        std::fs::DirBuilder::new().mode(0o700).create(&dir)?;
        let as_root = running_as_root();
        let ini = format!(
            "[databases]\n\
             * = host={host} port={server_port} user={user}\n\
             [pgbouncer]\n\
             listen_addr =\n\
             unix_socket_dir = {socket}\n\
             unix_socket_mode = 0700\n\
             listen_port = {PORT}\n\
             auth_type = any\n\
             pool_mode = transaction\n\
             max_client_conn = 16\n\
             default_pool_size = {POOL_SIZE}\n\
             min_pool_size = 0\n\
             reserve_pool_size = 0\n\
             logfile = {socket}/pgbouncer.log\n\
             pidfile = {socket}/pgbouncer.pid\n",
            host = ini_value(&server_host)?,
            user = ini_value(user)?,
            socket = ini_value(&dir.display().to_string())?,
        );
        std::fs::write(dir.join("pgbouncer.ini"), ini)?;
        let mut command = if as_root {
            let chown = Command::new("chown")
                .arg("-R")
                .arg("postgres:")
                .arg(&dir)
                .status()?;
            if !chown.success() {
                let _ = std::fs::remove_dir_all(&dir);
                return Err("cannot give pgbouncer's folder to the postgres user".into());
            }
            let mut c = Command::new("runuser");
            c.args(["-u", "postgres", "--"]).arg(binary);
            c
        } else {
            Command::new(binary)
        };
        let child = command
            .arg(dir.join("pgbouncer.ini"))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()?;
        let bouncer = PgBouncer { dir, child };
        // Ready once its socket exists (it creates it after reading its configuration).
        let socket = bouncer.dir.join(format!(".s.PGSQL.{PORT}"));
        let started = Instant::now();
        while !socket.exists() {
            if started.elapsed() > Duration::from_secs(10) {
                let log =
                    std::fs::read_to_string(bouncer.dir.join("pgbouncer.log")).unwrap_or_default();
                return Err(format!("pgbouncer did not start:\n{log}").into());
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        Ok(bouncer)
    }

    /// Connection settings for `db` through pgbouncer.
    pub fn config(&self, db: &TestDatabase) -> Config {
        let mut config = Config::new();
        config
            .user(db.config().get_user().unwrap_or("postgres"))
            .dbname(db.name())
            .host_path(&self.dir)
            .port(PORT);
        config
    }

    /// Opens a connection to `db` through pgbouncer; the connection task runs on the current
    /// tokio runtime.
    pub async fn connect(&self, db: &TestDatabase) -> Result<tokio_postgres::Client, StartError> {
        let (client, connection) = self.config(db).connect(tokio_postgres::NoTls).await?;
        tokio::spawn(connection);
        Ok(client)
    }
}

impl Drop for PgBouncer {
    fn drop(&mut self) {
        // pgbouncer runs under runuser when we are root: stop pgbouncer itself (by its pid
        // file), then wait for runuser.
        let pid = std::fs::read_to_string(self.dir.join("pgbouncer.pid")).unwrap_or_default();
        let pid = pid.trim();
        if pid.parse::<u32>().is_ok() {
            let _ = Command::new("kill").args(["-INT", pid]).status();
        } else {
            let _ = self.child.kill();
        }
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}
