//! A real PostgreSQL cluster per test (or one per test process), started by the
//! test itself: `initdb` in a temp directory, `pg_ctl` on a loopback port, and the
//! faults a database server really has (`kill -9` of the postmaster, a fast stop,
//! a streaming standby promoted after the primary died).
//!
//! - PostgreSQL refuses to run as root, and tests and CI run as root: the server's
//!   commands then run as the `postgres` system user (Debian's `postgresql`
//!   package creates it) or else `nobody`, through `runuser`; the temp directory
//!   is theirs. As any other user, they run as that user.
//! - The binaries are the newest `/usr/lib/postgresql/*/bin` (Debian's layout),
//!   else `pg_config --bindir`.
//! - Durability is never lowered (`fsync`, `synchronous_commit` and
//!   `full_page_writes` stay on): a test that passes here passes with what a
//!   production server does.
//! - Clients authenticate over TCP with SCRAM (`host … scram-sha-256`), as otsd
//!   will in production; the kit itself administers over the Unix socket in the
//!   temp directory (`local … trust`), as the bootstrap superuser `postgres`.
//! - otsd connects as the role `otsd`: LOGIN and a random password, no superuser,
//!   no CREATEDB, no CREATEROLE; it owns the databases made for it, nothing more.
//! - Every command the kit runs is bounded in time, and its environment is
//!   cleared first, so `PGHOST`, `PGPORT`, `PGUSER`… from the developer's shell
//!   can never point a test at a real database.
//! - A cluster is stopped and its directory removed when its [`Cluster`] is
//!   dropped, and also (by a small watchdog process) once the test process is
//!   gone, however it ended: the shared cluster of [`Cluster::shared`] lives in a
//!   static, which is never dropped.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Mutex, OnceLock, PoisonError};
use std::time::{Duration, Instant};

use super::app::spawning;
use super::ports::free_port;

/// The role otsd logs in as.
pub const OTSD_ROLE: &str = "otsd";
/// The bootstrap superuser the kit administers with (over the socket only).
pub const SUPERUSER: &str = "postgres";
/// The role standbys stream WAL as.
const REPLICATION_ROLE: &str = "replicator";
/// How long `initdb`, `pg_basebackup`, a start or a stop may take.
const SLOW_LIMIT: Duration = Duration::from_secs(60);
/// How long one `psql` or `pg_dump` may take.
const QUERY_LIMIT: Duration = Duration::from_secs(30);
/// How long a standby may take to stream, or become synchronous, or catch up.
const REPLICATION_LIMIT: Duration = Duration::from_secs(30);
const POLL: Duration = Duration::from_millis(50);
/// `PATH` of every command the kit runs (`runuser` is in sbin).
const PATH: &str = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

/// One PostgreSQL cluster: a data directory, a postmaster on `127.0.0.1:port`
/// and a Unix socket, all in one temp directory that goes with it.
pub struct Cluster {
    /// The temp directory: `data/` (PGDATA), `log` (the server's log) and the
    /// Unix socket. Owned by the server's user.
    dir: PathBuf,
    port: u16,
    /// The `cluster_name`, and so the `application_name` its WAL receiver
    /// announces when it is a standby.
    name: String,
    /// `otsd`'s password (a standby has its primary's roles, so its password).
    password: String,
    replication_password: String,
    databases: AtomicUsize,
    /// Stops the cluster and removes `dir` once the test process is gone.
    watchdog: Mutex<Option<Child>>,
}

impl Cluster {
    /// A new cluster, running: `initdb`, the roles `otsd` and a replication role,
    /// then `pg_ctl start`. Panics (with the server's log) if any step fails.
    pub fn start() -> Self {
        let dir = new_dir();
        let port = free_port();
        let cluster = Self {
            name: format!("otsd_kit_{port}"),
            port,
            password: random_hex(16),
            replication_password: random_hex(16),
            databases: AtomicUsize::new(0),
            watchdog: Mutex::new(None),
            dir,
        };
        cluster.watch();
        let data = cluster.data_dir();
        run_ok(
            server_command(&cluster.dir, &bin("initdb"))
                .arg("--pgdata")
                .arg(&data)
                .args(["--username", SUPERUSER, "--encoding=UTF8", "--no-locale"])
                .args(["--auth-local=trust", "--auth-host=scram-sha-256"]),
            SLOW_LIMIT,
        );
        // The kit's own lines come last in postgresql.conf, so they win over
        // initdb's. Durability settings are spelled out so that no default a
        // packager changes can lower them.
        append(
            &data.join("postgresql.conf"),
            &format!(
                "\n# otsd test kit\n\
                 listen_addresses = '127.0.0.1'\n\
                 max_connections = 200\n\
                 shared_buffers = 32MB\n\
                 fsync = on\n\
                 synchronous_commit = on\n\
                 full_page_writes = on\n\
                 wal_level = replica\n\
                 max_wal_senders = 10\n\
                 max_replication_slots = 10\n\
                 hot_standby = on\n\
                 password_encryption = 'scram-sha-256'\n\
                 {}",
                cluster.own_settings()
            ),
        );
        std::fs::write(
            data.join("pg_hba.conf"),
            "# otsd test kit: the kit over the socket, everyone else with a password\n\
             local all         all                      trust\n\
             local replication all                      trust\n\
             host  all         all        127.0.0.1/32  scram-sha-256\n\
             host  replication replicator 127.0.0.1/32  scram-sha-256\n",
        )
        .expect("write pg_hba.conf");
        cluster.start_again();
        cluster.psql(
            "postgres",
            &format!(
                "CREATE ROLE {OTSD_ROLE} LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE \
                   NOREPLICATION PASSWORD '{}';
                 CREATE ROLE {REPLICATION_ROLE} LOGIN REPLICATION PASSWORD '{}';",
                cluster.password, cluster.replication_password
            ),
        );
        cluster
    }

    /// The cluster this test process shares: started on first use, stopped and
    /// removed by its watchdog after the process exits. For tests that need only
    /// a database of their own ([`Cluster::new_database`]); a test that stops,
    /// kills or replicates a cluster starts its own.
    pub fn shared() -> &'static Self {
        static SHARED: OnceLock<Cluster> = OnceLock::new();
        SHARED.get_or_init(Self::start)
    }

    /// The TCP port the server listens on (at `127.0.0.1`).
    pub fn port(&self) -> u16 {
        self.port
    }

    /// The temp directory holding everything of this cluster.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// PGDATA.
    pub fn data_dir(&self) -> PathBuf {
        self.dir.join("data")
    }

    /// What the server has logged so far.
    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.join("log")).unwrap_or_default()
    }

    /// `otsd`'s password.
    pub fn password(&self) -> &str {
        &self.password
    }

    /// A fresh database owned by `otsd`, as the URL otsd is given:
    /// `postgres://otsd:PASSWORD@127.0.0.1:PORT/NAME`.
    pub fn new_database(&self) -> String {
        let name = self.create_database();
        self.url(&name)
    }

    /// Like [`Cluster::new_database`], but the URL has no password, which comes
    /// apart (for `database_password_file`): `(url, password)`.
    pub fn new_database_password_apart(&self) -> (String, String) {
        let name = self.create_database();
        (self.url_without_password(&name), self.password.clone())
    }

    /// Creates a database owned by `otsd` and returns its name (`otsd_N`).
    pub fn create_database(&self) -> String {
        let n = self.databases.fetch_add(1, Ordering::SeqCst) + 1;
        let name = format!("otsd_{n}");
        self.psql(
            "postgres",
            &format!("CREATE DATABASE {name} OWNER {OTSD_ROLE}"),
        );
        name
    }

    /// `postgres://otsd:PASSWORD@127.0.0.1:PORT/DB`.
    pub fn url(&self, db: &str) -> String {
        format!(
            "postgres://{OTSD_ROLE}:{}@127.0.0.1:{}/{db}",
            self.password, self.port
        )
    }

    /// `postgres://otsd@127.0.0.1:PORT/DB`.
    pub fn url_without_password(&self, db: &str) -> String {
        format!("postgres://{OTSD_ROLE}@127.0.0.1:{}/{db}", self.port)
    }

    /// One URL naming every cluster of `clusters` in turn, which only the one
    /// that accepts writes answers:
    /// `postgres://otsd:PW@127.0.0.1:P1,127.0.0.1:P2/DB?target_session_attrs=read-write`.
    /// libpq (psql) and tokio-postgres both read this form.
    pub fn multi_host_url(clusters: &[&Self], db: &str) -> String {
        let first = clusters.first().expect("at least one cluster");
        let hosts: Vec<String> = clusters
            .iter()
            .map(|c| format!("127.0.0.1:{}", c.port))
            .collect();
        format!(
            "postgres://{OTSD_ROLE}:{}@{}/{db}?target_session_attrs=read-write",
            first.password,
            hosts.join(",")
        )
    }

    /// Runs `sql` in database `db` as the superuser over the socket; returns its
    /// output, unaligned and without headers (`psql -At`), trimmed. Panics with
    /// psql's message if it fails.
    pub fn psql(&self, db: &str, sql: &str) -> String {
        self.try_psql(db, sql)
            .unwrap_or_else(|e| panic!("psql on {} ({db}) failed: {e}\n{sql}", self.name))
    }

    /// Like [`Cluster::psql`], with psql's error message when it fails.
    pub fn try_psql(&self, db: &str, sql: &str) -> Result<String, String> {
        let mut cmd = client_command(&bin("psql"));
        cmd.args(["-X", "-q", "-A", "-t", "-v", "ON_ERROR_STOP=1"])
            .arg("-h")
            .arg(&self.dir)
            .args([
                "-p",
                &self.port.to_string(),
                "-U",
                SUPERUSER,
                "-d",
                db,
                "-c",
                sql,
            ]);
        text_of(run(&mut cmd, QUERY_LIMIT))
    }

    /// `pg_dump` of `db` in plain SQL, data included, as the superuser: what an
    /// operator's backup of otsd's database holds.
    pub fn pg_dump(&self, db: &str) -> Vec<u8> {
        let mut cmd = client_command(&bin("pg_dump"));
        cmd.arg("-h")
            .arg(&self.dir)
            .args(["-p", &self.port.to_string(), "-U", SUPERUSER])
            .args(["--format=plain", "--no-password", db]);
        run_ok(&mut cmd, QUERY_LIMIT).stdout
    }

    /// SIGKILL to the postmaster, as a crash or the OOM killer would; returns once
    /// it and every process it had started are dead (its backends notice the
    /// postmaster's death and exit). Leaves the data directory, its
    /// `postmaster.pid` included, as a crash does.
    pub fn kill9(&self) {
        let pid = self
            .postmaster_pid()
            .unwrap_or_else(|| panic!("{} has no postmaster.pid: not running", self.name));
        let mut pids = children_of(pid);
        pids.push(pid);
        let target = rustix::process::Pid::from_raw(pid).expect("a process id");
        let _ = rustix::process::kill_process(target, rustix::process::Signal::KILL);
        let deadline = Instant::now() + SLOW_LIMIT;
        while pids.iter().any(|&p| alive(p)) {
            assert!(
                Instant::now() < deadline,
                "{}: processes {pids:?} still alive {SLOW_LIMIT:?} after kill -9",
                self.name
            );
            std::thread::sleep(POLL);
        }
    }

    /// `pg_ctl stop -m fast`: open sessions are ended, the server checkpoints and
    /// exits. Returns once it has.
    pub fn stop(&self) {
        run_ok(
            server_command(&self.dir, &bin("pg_ctl"))
                .arg("-D")
                .arg(self.data_dir())
                .args([
                    "stop",
                    "-m",
                    "fast",
                    "-w",
                    "-t",
                    &SLOW_LIMIT.as_secs().to_string(),
                ]),
            SLOW_LIMIT + Duration::from_secs(5),
        );
    }

    /// `pg_ctl start` on the same data directory and port (after [`Cluster::stop`]
    /// or [`Cluster::kill9`]: then PostgreSQL recovers from its WAL first).
    /// Returns once it accepts connections.
    pub fn start_again(&self) {
        self.forget_dead_postmaster();
        let started = run(
            server_command(&self.dir, &bin("pg_ctl"))
                .arg("-D")
                .arg(self.data_dir())
                .arg("-l")
                .arg(self.dir.join("log"))
                .args(["start", "-w", "-t", &SLOW_LIMIT.as_secs().to_string()]),
            SLOW_LIMIT + Duration::from_secs(5),
        );
        if !started.status.success() {
            panic!(
                "pg_ctl start of {} failed: {}\nserver log:\n{}",
                self.name,
                String::from_utf8_lossy(&started.stderr),
                self.log()
            );
        }
    }

    /// [`Cluster::stop`], then [`Cluster::start_again`].
    pub fn restart(&self) {
        self.stop();
        self.start_again();
    }

    /// A new cluster streaming from this one: `pg_basebackup -R` into its own temp
    /// directory, started on its own port, as a hot standby (read-only). Returns
    /// once this cluster sees it streaming. Not synchronous until
    /// [`Cluster::make_synchronous`].
    pub fn standby(&self) -> Self {
        let port = free_port();
        let standby = Self {
            dir: new_dir(),
            port,
            name: format!("otsd_kit_{port}"),
            password: self.password.clone(),
            replication_password: self.replication_password.clone(),
            databases: AtomicUsize::new(self.databases.load(Ordering::SeqCst)),
            watchdog: Mutex::new(None),
        };
        standby.watch();
        let data = standby.data_dir();
        run_ok(
            server_command(&standby.dir, &bin("pg_basebackup"))
                .env("PGPASSWORD", &self.replication_password)
                .args(["-h", "127.0.0.1", "-p", &self.port.to_string()])
                .args(["-U", REPLICATION_ROLE, "-D"])
                .arg(&data)
                .args(["-R", "-X", "stream", "-c", "fast", "--no-password"]),
            SLOW_LIMIT,
        );
        // The copy carries the primary's port, socket and name: later lines win.
        append(&data.join("postgresql.conf"), &standby.own_settings());
        // Nor may it inherit a synchronous_standby_names set on the primary with
        // ALTER SYSTEM: once promoted, its every commit would wait for a standby
        // that does not exist.
        let auto = data.join("postgresql.auto.conf");
        let kept: String = std::fs::read_to_string(&auto)
            .expect("read postgresql.auto.conf")
            .lines()
            .filter(|l| !l.trim_start().starts_with("synchronous_standby_names"))
            .map(|l| format!("{l}\n"))
            .collect();
        std::fs::write(&auto, kept).expect("write postgresql.auto.conf");
        standby.start_again();
        self.wait_for_replication(&standby, "state = 'streaming'");
        standby
    }

    /// Makes `standby` this cluster's synchronous standby (`ALTER SYSTEM SET
    /// synchronous_standby_names` to its name, and a reload): from then on a
    /// commit here returns only once the standby has it on disk. Returns once
    /// `pg_stat_replication` says `sync`.
    pub fn make_synchronous(&self, standby: &Self) {
        self.psql(
            "postgres",
            &format!(
                "ALTER SYSTEM SET synchronous_standby_names = '\"{}\"'",
                standby.name
            ),
        );
        self.psql("postgres", "SELECT pg_reload_conf()");
        self.wait_for_replication(standby, "sync_state = 'sync'");
    }

    /// Waits (bounded) until this standby has replayed everything `primary` had
    /// written when called, so that a read here sees it. (A synchronous commit
    /// waits for the standby's disk, not for its replay.)
    pub fn wait_for_replay_of(&self, primary: &Self) {
        let lsn = primary.psql("postgres", "SELECT pg_current_wal_lsn()");
        let sql = format!("SELECT pg_last_wal_replay_lsn() >= '{lsn}'::pg_lsn");
        let deadline = Instant::now() + REPLICATION_LIMIT;
        while self.psql("postgres", &sql) != "t" {
            assert!(
                Instant::now() < deadline,
                "{} did not replay up to {lsn} within {REPLICATION_LIMIT:?}",
                self.name
            );
            std::thread::sleep(POLL);
        }
    }

    /// `pg_ctl promote -w`: this standby becomes a primary and accepts writes.
    pub fn promote(&self) {
        run_ok(
            server_command(&self.dir, &bin("pg_ctl"))
                .arg("-D")
                .arg(self.data_dir())
                .args(["promote", "-w", "-t", &SLOW_LIMIT.as_secs().to_string()]),
            SLOW_LIMIT + Duration::from_secs(5),
        );
    }

    /// Whether the server is a standby (`pg_is_in_recovery()`).
    pub fn is_standby(&self) -> bool {
        self.psql("postgres", "SELECT pg_is_in_recovery()") == "t"
    }

    fn wait_for_replication(&self, standby: &Self, condition: &str) {
        let sql = format!(
            "SELECT count(*) FROM pg_stat_replication \
             WHERE application_name = '{}' AND {condition}",
            standby.name
        );
        let deadline = Instant::now() + REPLICATION_LIMIT;
        while self.psql("postgres", &sql) != "1" {
            assert!(
                Instant::now() < deadline,
                "{} did not see {} with {condition} within {REPLICATION_LIMIT:?}\n\
                 standby log:\n{}",
                self.name,
                standby.name,
                standby.log()
            );
            std::thread::sleep(POLL);
        }
    }

    /// What differs between a primary and its standby's copy of the settings.
    fn own_settings(&self) -> String {
        format!(
            "port = {}\nunix_socket_directories = '{}'\ncluster_name = '{}'\n",
            self.port,
            self.dir.display(),
            self.name
        )
    }

    fn postmaster_pid(&self) -> Option<i32> {
        let pid_file = std::fs::read_to_string(self.data_dir().join("postmaster.pid")).ok()?;
        pid_file.lines().next()?.trim().parse().ok()
    }

    /// After a `kill -9`, the postmaster may linger as a zombie until init reaps
    /// it (about a second on this project's VMs, whose init reaps lazily). Its PID
    /// still answers `kill -0`, and a new postmaster would take the stale
    /// `postmaster.pid` for a live server's and refuse to start: wait for the
    /// reaping, and if it does not come, remove the file, as an operator would.
    fn forget_dead_postmaster(&self) {
        let Some(pid) = self.postmaster_pid() else {
            return;
        };
        if alive(pid) {
            return; // pg_ctl reports a running server itself.
        }
        let deadline = Instant::now() + Duration::from_secs(5);
        while Path::new(&format!("/proc/{pid}")).exists() && Instant::now() < deadline {
            std::thread::sleep(POLL);
        }
        if Path::new(&format!("/proc/{pid}")).exists() {
            let _ = std::fs::remove_file(self.data_dir().join("postmaster.pid"));
        }
    }

    /// Starts the watchdog: a shell in its own process group (so a Ctrl-C meant
    /// for the tests does not end it) that polls this test process with `kill -0`
    /// and, once it is gone, stops the server at once and removes the directory.
    fn watch(&self) {
        let script = r#"pid=$1 dir=$2; shift 2
while kill -0 "$pid" 2>/dev/null; do sleep 1; done
"$@" -D "$dir/data" stop -m immediate -w -t 30 >/dev/null 2>&1
rm -rf "$dir""#;
        let mut cmd = Command::new("sh");
        cmd.env_clear()
            .env("PATH", PATH)
            .current_dir("/")
            .args(["-c", script, "otsd-pg-watchdog"])
            .arg(std::process::id().to_string())
            .arg(&self.dir);
        as_server_user(&mut cmd);
        cmd.arg(bin("pg_ctl"));
        use std::os::unix::process::CommandExt;
        cmd.process_group(0)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null());
        let child = {
            let _spawning = spawning();
            cmd.spawn().expect("spawn the cluster's watchdog")
        };
        *self.watchdog.lock().unwrap_or_else(PoisonError::into_inner) = Some(child);
    }
}

/// Stops the server at once (`-m immediate`: nothing of a test's database is
/// worth a checkpoint) and removes its directory; the watchdog is ended first,
/// so that it cannot act on a directory reused meanwhile.
impl Drop for Cluster {
    fn drop(&mut self) {
        if let Some(mut watchdog) = self
            .watchdog
            .get_mut()
            .unwrap_or_else(PoisonError::into_inner)
            .take()
        {
            let _ = watchdog.kill();
            let _ = watchdog.wait();
        }
        if self.postmaster_pid().is_some_and(alive) {
            let _ = run(
                server_command(&self.dir, &bin("pg_ctl"))
                    .arg("-D")
                    .arg(self.data_dir())
                    .args(["stop", "-m", "immediate", "-w", "-t", "30"]),
                SLOW_LIMIT,
            );
        }
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// Runs `sql` with psql as a client of `url` (any libpq URL: a password in it,
/// several hosts, `target_session_attrs`): what otsd's connection would get.
/// Returns psql's output (`-At`, trimmed) or its error message.
pub fn psql_at(url: &str, sql: &str) -> Result<String, String> {
    let mut cmd = client_command(&bin("psql"));
    cmd.args([
        "-X",
        "-q",
        "-A",
        "-t",
        "-v",
        "ON_ERROR_STOP=1",
        "--no-password",
    ])
    .args(["-d", url, "-c", sql]);
    text_of(run(&mut cmd, QUERY_LIMIT))
}

/// The directory holding PostgreSQL's programs: the newest
/// `/usr/lib/postgresql/<major>/bin` (Debian), else `pg_config --bindir`.
pub fn bin_dir() -> &'static Path {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| {
        let newest = std::fs::read_dir("/usr/lib/postgresql")
            .into_iter()
            .flatten()
            .flatten()
            .filter_map(|e| {
                let major: u32 = e.file_name().to_str()?.parse().ok()?;
                let bin = e.path().join("bin");
                bin.join("initdb").exists().then_some((major, bin))
            })
            .max();
        if let Some((_, bin)) = newest {
            return bin;
        }
        let out = Command::new("pg_config")
            .arg("--bindir")
            .output()
            .expect("PostgreSQL is not installed: no /usr/lib/postgresql/*/bin, no pg_config");
        PathBuf::from(String::from_utf8_lossy(&out.stdout).trim())
    })
}

fn bin(program: &str) -> PathBuf {
    bin_dir().join(program)
}

/// The unprivileged user the server runs as when the tests run as root:
/// `(name, uid, gid)`; `None` when they do not (the server then runs as the
/// tests' own user).
fn server_user() -> Option<&'static (String, u32, u32)> {
    static USER: OnceLock<Option<(String, u32, u32)>> = OnceLock::new();
    USER.get_or_init(|| {
        if !rustix::process::geteuid().is_root() {
            return None;
        }
        let passwd = std::fs::read_to_string("/etc/passwd").expect("read /etc/passwd");
        let find = |name: &str| {
            passwd.lines().find_map(|l| {
                let f: Vec<&str> = l.split(':').collect();
                (f.len() > 3 && f[0] == name)
                    .then(|| Some((name.to_owned(), f[2].parse().ok()?, f[3].parse().ok()?)))?
            })
        };
        Some(
            find("postgres")
                .or_else(|| find("nobody"))
                .expect("neither a postgres nor a nobody user"),
        )
    })
    .as_ref()
}

/// A new temp directory under /tmp, which every user may traverse, owned by the
/// server's user. Its removal is the [`Cluster`]'s (or its watchdog's) job.
fn new_dir() -> PathBuf {
    let dir = tempfile::Builder::new()
        .prefix("otsd-pg-")
        .tempdir_in("/tmp")
        .expect("temp dir in /tmp")
        .keep();
    if let Some((_, uid, gid)) = server_user() {
        std::os::unix::fs::chown(&dir, Some(*uid), Some(*gid)).expect("chown the cluster's dir");
    }
    dir
}

/// Prefixes `cmd` with `runuser -u USER --` when the tests run as root.
fn as_server_user(cmd: &mut Command) {
    if let Some((user, ..)) = server_user() {
        cmd.args(["runuser", "-u", user, "--"]);
    }
}

/// `program` as the server's user, in `dir` (the server's user may not be able to
/// enter the tests' working directory), with a cleared environment.
fn server_command(dir: &Path, program: &Path) -> Command {
    let mut cmd = match server_user() {
        Some((user, ..)) => {
            let mut cmd = Command::new("runuser");
            cmd.args(["-u", user, "--"]).arg(program);
            cmd
        }
        None => Command::new(program),
    };
    cmd.env_clear().env("PATH", PATH).current_dir(dir);
    cmd
}

/// A client program (psql, pg_dump) as the tests' own user, with a cleared
/// environment and a bounded connection attempt.
fn client_command(program: &Path) -> Command {
    let mut cmd = Command::new(program);
    cmd.env_clear()
        .env("PATH", PATH)
        .env("PGCONNECT_TIMEOUT", "10")
        .current_dir("/");
    cmd
}

/// Runs `cmd` to its end, at most `limit`: past that, its whole process group is
/// killed and the test panics.
fn run(cmd: &mut Command, limit: Duration) -> Output {
    use std::io::Read;
    use std::os::unix::process::CommandExt;
    cmd.process_group(0)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = {
        let _spawning = spawning();
        cmd.spawn()
            .unwrap_or_else(|e| panic!("cannot run {cmd:?}: {e}"))
    };
    let mut out = child.stdout.take().expect("stdout");
    let mut err = child.stderr.take().expect("stderr");
    let out_reader = std::thread::spawn(move || {
        let mut buf = Vec::new();
        let _ = out.read_to_end(&mut buf);
        buf
    });
    let err_reader = std::thread::spawn(move || {
        let mut buf = Vec::new();
        let _ = err.read_to_end(&mut buf);
        buf
    });
    let deadline = Instant::now() + limit;
    let status = loop {
        if let Some(status) = child.try_wait().expect("wait for a child") {
            break status;
        }
        if Instant::now() >= deadline {
            let group = rustix::process::Pid::from_child(&child);
            let _ = rustix::process::kill_process_group(group, rustix::process::Signal::KILL);
            let _ = child.wait();
            panic!("{cmd:?} did not finish within {limit:?}");
        }
        std::thread::sleep(Duration::from_millis(10));
    };
    Output {
        status,
        stdout: out_reader.join().expect("stdout reader"),
        stderr: err_reader.join().expect("stderr reader"),
    }
}

/// [`run`], panicking with its stderr unless it succeeds.
fn run_ok(cmd: &mut Command, limit: Duration) -> Output {
    let output = run(cmd, limit);
    assert!(
        output.status.success(),
        "{cmd:?} failed ({}): {}{}",
        output.status,
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    output
}

fn text_of(output: Output) -> Result<String, String> {
    if output.status.success() {
        Ok(String::from_utf8_lossy(&output.stdout).trim().to_owned())
    } else {
        Err(String::from_utf8_lossy(&output.stderr).trim().to_owned())
    }
}

fn append(file: &Path, text: &str) {
    use std::io::Write;
    std::fs::OpenOptions::new()
        .append(true)
        .open(file)
        .and_then(|mut f| f.write_all(text.as_bytes()))
        .unwrap_or_else(|e| panic!("append to {}: {e}", file.display()));
}

/// `n` bytes from the kernel's CSPRNG, in hex (safe in a URL and in SQL quotes).
fn random_hex(n: usize) -> String {
    use std::io::Read;
    let mut bytes = vec![0u8; n];
    std::fs::File::open("/dev/urandom")
        .and_then(|mut f| f.read_exact(&mut bytes))
        .expect("read /dev/urandom");
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Whether `pid` is a live process (a zombie is not: it has exited and only
/// waits for its parent, here often init, to collect it).
fn alive(pid: i32) -> bool {
    std::fs::read_to_string(format!("/proc/{pid}/stat"))
        .ok()
        .and_then(|stat| {
            let state = stat
                .rsplit_once(')')?
                .1
                .split_whitespace()
                .next()?
                .to_owned();
            Some(state != "Z" && state != "X")
        })
        .unwrap_or(false)
}

/// The processes whose parent is `pid` (a postmaster's backends and workers).
fn children_of(pid: i32) -> Vec<i32> {
    std::fs::read_dir("/proc")
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|e| {
            let child: i32 = e.file_name().to_str()?.parse().ok()?;
            let stat = std::fs::read_to_string(e.path().join("stat")).ok()?;
            let ppid: i32 = stat
                .rsplit_once(')')?
                .1
                .split_whitespace()
                .nth(1)?
                .parse()
                .ok()?;
            (ppid == pid).then_some(child)
        })
        .collect()
}
