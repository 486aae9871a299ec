//! `spawn_app()`: the real server (the same `Application::build` as `main`) on a
//! random loopback port, over a real sled database in its own temp directory; and
//! the settings the tests start it with.

use std::ops::Deref;
use std::path::Path;
use std::sync::{Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

use actix_web::dev::ServerHandle;
use otsd::{Application, Settings};
use tempfile::TempDir;

use super::accounts::Admin;
use super::api::WINDOW;
use super::client::Client;

/// A server running in this process; its [`Client`] is what it derefs to.
pub struct TestApp {
    pub client: Client,
    pub data_dir: TempDir,
    handle: ServerHandle,
    task: tokio::task::JoinHandle<()>,
}

impl Deref for TestApp {
    type Target = Client;

    fn deref(&self) -> &Client {
        &self.client
    }
}

impl Admin for TestApp {
    fn data_path(&self) -> &Path {
        self.data_dir.path()
    }
}

/// Settings every test starts from: loopback, port 0, a temp data dir, and a low
/// PBKDF2 work factor so debug builds stay quick.
pub fn test_settings(data_dir: &TempDir) -> Settings {
    let mut s = Settings {
        listen: std::net::SocketAddr::from(([127, 0, 0, 1], 0)),
        data_dir: data_dir.path().to_owned(),
        workers: 2,
        shutdown_timeout_secs: 5,
        ..Settings::default()
    };
    s.crypto.pbkdf2_iterations = 1_000;
    s.reaper.interval_secs = 1;
    if let Some(url) = super::engine::database_url_for(data_dir.path()) {
        s.database_url = otsd::config::DatabaseUrl(url);
    }
    s
}

/// Settings helper: the rate-limit window as long as [`WINDOW`], and the test
/// (127.0.0.1) a trusted proxy, so `X-Forwarded-For` names the client.
pub fn behind_trusted_proxy(s: &mut Settings) {
    s.rate_limits.window_secs = WINDOW;
    trust_proxies(s, &["127.0.0.1"]);
}

/// Settings helper: the peers (addresses or networks) whose `X-Forwarded-For`
/// the server believes.
pub fn trust_proxies(s: &mut Settings, proxies: &[&str]) {
    s.rate_limits.trusted_proxies = proxies
        .iter()
        .map(|p| otsd::ratelimit::IpNet::parse(p).expect("a proxy address or network"))
        .collect();
}

/// Held while this test process starts a child process or opens a new database.
///
/// A child holds copies of all the parent's file descriptors from `fork` until
/// `exec`, and with them sled's lock on any database file open at that moment. A
/// new database is created under a staging name, closed, renamed and opened again:
/// a child forked in between keeps the first lock alive for a moment, and the
/// second open fails as `Locked`. Never doing both at once avoids that.
pub fn spawning() -> MutexGuard<'static, ()> {
    static SPAWNING: Mutex<()> = Mutex::new(());
    SPAWNING.lock().unwrap_or_else(PoisonError::into_inner)
}

pub async fn spawn_app() -> TestApp {
    spawn_app_with(|_| {}).await
}

/// Like `spawn_app`, after `configure` has adjusted the settings.
pub async fn spawn_app_with(configure: impl FnOnce(&mut Settings)) -> TestApp {
    let data_dir = tempfile::tempdir().expect("temp dir");
    let mut settings = test_settings(&data_dir);
    configure(&mut settings);
    start_app(settings, data_dir)
}

/// Starts a server on an existing data directory (e.g. after `stop`).
pub fn start_app(settings: Settings, data_dir: TempDir) -> TestApp {
    let app = {
        let _spawning = spawning();
        Application::build(&settings).expect("the server starts")
    };
    let client = Client::new(format!("http://{}", app.local_addr()));
    let handle = app.handle();
    let task = tokio::spawn(async move {
        app.run_until_stopped().await.expect("clean stop");
    });
    TestApp {
        client,
        data_dir,
        handle,
        task,
    }
}

impl TestApp {
    /// Stops the server gracefully and waits until it has flushed and released the
    /// database; returns the data directory for a restart or inspection.
    pub async fn stop(self) -> TempDir {
        self.handle.stop(true).await;
        self.task.await.expect("server task");
        // `run_until_stopped` can return while an HTTP worker thread still drops its
        // handle on the database (and so sled's file lock): wait for that, bounded.
        wait_for_database_release(&self.data_dir);
        self.data_dir
    }

    /// Stops the server and counts the secrets and receipts left in its database.
    pub async fn stop_and_count_records(self) -> (usize, usize) {
        let dir = self.stop().await;
        count_records(&dir)
    }
}

/// Opens a stopped server's database and counts its secrets and receipts.
pub fn count_records(data_dir: &TempDir) -> (usize, usize) {
    let store = super::engine::open_store(data_dir.path());
    let counts = otsd::store::block_on(store.counts()).expect("count the records");
    store.close().expect("close the database");
    counts
}

/// Opens a stopped server's database and counts its requests for a secret:
/// `(holding anything sealed, all)`.
pub fn count_requests(data_dir: &TempDir) -> (usize, usize) {
    let store = super::engine::open_store(data_dir.path());
    let counts = otsd::store::block_on(store.request_counts()).expect("count the requests");
    store.close().expect("close the database");
    counts
}

/// How long to wait, after a stop, for the server's last database handle to go.
const RELEASE_DEADLINE: Duration = Duration::from_secs(5);

/// Waits (at most `RELEASE_DEADLINE`) until no one holds sled's lock on the
/// database in `data_dir`; returns how long that took.
pub fn wait_for_database_release(data_dir: &TempDir) -> Duration {
    use rustix::fs::{FlockOperation, flock};
    let start = Instant::now();
    if super::engine::on_postgres() {
        // No file lock: PostgreSQL serves any number of processes.
        return start.elapsed();
    }
    let file = std::fs::File::open(data_dir.path().join("db").join("db"))
        .expect("the database file exists");
    loop {
        if flock(&file, FlockOperation::NonBlockingLockExclusive).is_ok() {
            let _ = flock(&file, FlockOperation::Unlock);
            return start.elapsed();
        }
        assert!(
            start.elapsed() < RELEASE_DEADLINE,
            "the stopped server still holds its database after {RELEASE_DEADLINE:?}"
        );
        std::thread::sleep(Duration::from_millis(10));
    }
}
