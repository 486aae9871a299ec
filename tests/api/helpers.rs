//! `spawn_app()`: the real server (the same `Application::build` as `main`) on a
//! random loopback port, over a real sled database in its own temp directory.

use actix_web::dev::ServerHandle;
use otsd::{Application, Settings};
use reqwest::Response;
use serde_json::Value;
use tempfile::TempDir;

pub struct TestApp {
    /// `http://127.0.0.1:<port>`
    pub address: String,
    pub client: reqwest::Client,
    pub data_dir: TempDir,
    handle: ServerHandle,
    task: tokio::task::JoinHandle<()>,
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
    s
}

pub async fn spawn_app() -> TestApp {
    spawn_app_with(|_| {}).await
}

/// Like `spawn_app`, after `configure` has adjusted the settings.
pub async fn spawn_app_with(configure: impl FnOnce(&mut Settings)) -> TestApp {
    let data_dir = tempfile::tempdir().expect("temp dir");
    let mut settings = test_settings(&data_dir);
    configure(&mut settings);
    start(settings, data_dir)
}

/// Starts a server on an existing data directory (e.g. after `stop`).
pub fn start(settings: Settings, data_dir: TempDir) -> TestApp {
    let app = Application::build(&settings).expect("the server starts");
    let address = format!("http://{}", app.local_addr());
    let handle = app.handle();
    let task = tokio::spawn(async move {
        app.run_until_stopped().await.expect("clean stop");
    });
    TestApp {
        address,
        client: reqwest::Client::new(),
        data_dir,
        handle,
        task,
    }
}

impl TestApp {
    /// The server's socket address, for raw HTTP.
    pub fn socket_addr(&self) -> std::net::SocketAddr {
        self.address
            .trim_start_matches("http://")
            .parse()
            .expect("an address")
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.address, path)
    }

    /// POST with an urlencoded form body.
    pub async fn post_form(&self, path: &str, form: &[(&str, &str)]) -> Response {
        self.client
            .post(self.url(path))
            .form(form)
            .send()
            .await
            .expect("request")
    }

    pub async fn get(&self, path: &str) -> Response {
        self.client
            .get(self.url(path))
            .send()
            .await
            .expect("request")
    }

    /// Shares a secret and returns the metadata object; panics unless 200.
    pub async fn share(&self, form: &[(&str, &str)]) -> Value {
        ok_json(self.post_form("/api/v1/share", form).await).await
    }

    /// Reveals a secret (optionally with a passphrase); returns the raw response.
    pub async fn reveal(&self, secret_key: &str, passphrase: Option<&str>) -> Response {
        let form: Vec<(&str, &str)> = passphrase.map(|p| ("passphrase", p)).into_iter().collect();
        self.post_form(&format!("/api/v1/secret/{secret_key}"), &form)
            .await
    }

    pub async fn metadata(&self, metadata_key: &str) -> Response {
        self.get(&format!("/api/v1/private/{metadata_key}")).await
    }

    pub async fn burn(&self, metadata_key: &str, passphrase: Option<&str>) -> Response {
        let form: Vec<(&str, &str)> = passphrase.map(|p| ("passphrase", p)).into_iter().collect();
        self.post_form(&format!("/api/v1/private/{metadata_key}/burn"), &form)
            .await
    }

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
}

/// Asserts a 200 JSON response with the v1 content type and returns the body.
pub async fn ok_json(resp: Response) -> Value {
    let status = resp.status();
    let content_type = resp.headers()["content-type"].to_str().unwrap().to_owned();
    let body: Value = resp.json().await.expect("JSON body");
    assert_eq!(status, 200, "body: {body}");
    assert_eq!(content_type, "application/json; charset=utf-8");
    body
}

/// Takes a v1 error apart: asserts HTTP 404 and a JSON body, and returns the
/// `X-OTS-Intended-Status` code with the body.
async fn v1_error(resp: Response) -> (u16, Value) {
    assert_eq!(resp.status(), 404, "v1 errors are always 404");
    let intended: u16 = resp
        .headers()
        .get("x-ots-intended-status")
        .expect("X-OTS-Intended-Status header")
        .to_str()
        .unwrap()
        .parse()
        .expect("a status code");
    let body: Value = resp.json().await.expect("JSON error body");
    (intended, body)
}

/// Asserts a v1 error: HTTP 404, `X-OTS-Intended-Status: intended`, the exact
/// `message`. Returns the body for further checks.
pub async fn assert_error(resp: Response, intended: u16, message: &str) -> Value {
    let (status, body) = v1_error(resp).await;
    assert_eq!(status, intended, "body: {body}");
    assert_eq!(body["message"], message, "body: {body}");
    body
}

impl TestApp {
    /// POST with a JSON body (`Content-Type: application/json`).
    pub async fn post_json(&self, path: &str, body: &Value) -> Response {
        self.client
            .post(self.url(path))
            .json(body)
            .send()
            .await
            .expect("request")
    }

    /// Stops the server and counts the secrets and receipts left in its database.
    pub async fn stop_and_count_records(self) -> (usize, usize) {
        let dir = self.stop().await;
        count_records(&dir)
    }
}

/// Opens a stopped server's database and counts its secrets and receipts.
pub fn count_records(data_dir: &TempDir) -> (usize, usize) {
    let store = otsd::store::Store::open(&data_dir.path().join("db"), 1 << 20)
        .expect("the stopped server's database opens");
    let counts = store.counts().expect("count the records");
    store.close().expect("close the database");
    counts
}

/// Seconds since the Unix epoch, as the server counts them.
pub fn unix_now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("clock after 1970")
        .as_secs()
}

/// Sleeps until the Unix clock has passed `second` (plus a small margin), never
/// longer than `max` in total.
pub async fn sleep_until_unix(second: u64, max: std::time::Duration) {
    let target = std::time::UNIX_EPOCH
        + std::time::Duration::from_secs(second)
        + std::time::Duration::from_millis(150);
    let wait = target
        .duration_since(std::time::SystemTime::now())
        .unwrap_or_default();
    assert!(wait <= max, "would wait {wait:?}, more than {max:?}");
    tokio::time::sleep(wait).await;
}

/// Every key otsd issues is this long (docs/api-notes.md: one fixed length, at most
/// 62 characters, as the spec allows).
pub const KEY_CHARS: usize = 52;

/// Asserts the shape of a secret or metadata key: `KEY_CHARS` characters of `[0-9a-z]`.
pub fn assert_key_shape(key: &Value) {
    let key = key
        .as_str()
        .unwrap_or_else(|| panic!("key is a string: {key}"));
    assert_eq!(key.len(), KEY_CHARS, "key {key:?}");
    assert!(
        key.bytes()
            .all(|b| b.is_ascii_digit() || b.is_ascii_lowercase()),
        "key {key:?}"
    );
}

/// The string field `name` of a JSON object; panics when absent or not a string.
pub fn text<'a>(body: &'a Value, name: &str) -> &'a str {
    body[name]
        .as_str()
        .unwrap_or_else(|| panic!("`{name}` is a string in {body}"))
}

/// Asserts a v1 error with `X-OTS-Intended-Status: intended` and some non-empty
/// `message`, whatever its text. Returns the body.
pub async fn assert_error_status(resp: Response, intended: u16) -> Value {
    let (status, body) = v1_error(resp).await;
    assert_eq!(status, intended, "body: {body}");
    assert!(
        body["message"].as_str().is_some_and(|m| !m.is_empty()),
        "a message in {body}"
    );
    body
}

/// Asserts a v1 error with the exact `message` whose intended status is one of
/// `intended` (for errors the spec does not pin to a single status). Returns the body.
pub async fn assert_error_in(resp: Response, intended: &[u16], message: &str) -> Value {
    let (status, body) = v1_error(resp).await;
    assert!(
        intended.contains(&status),
        "intended {status}; body: {body}"
    );
    assert_eq!(body["message"], message, "body: {body}");
    body
}

/// How long to wait, after a stop, for the server's last database handle to go.
const RELEASE_DEADLINE: std::time::Duration = std::time::Duration::from_secs(5);

/// Waits (at most `RELEASE_DEADLINE`) until no one holds sled's lock on the
/// database in `data_dir`; returns how long that took.
pub fn wait_for_database_release(data_dir: &TempDir) -> std::time::Duration {
    use std::os::fd::AsRawFd;
    let start = std::time::Instant::now();
    let file = std::fs::File::open(data_dir.path().join("db").join("db"))
        .expect("the database file exists");
    loop {
        // SAFETY: flock on a file descriptor we own; no memory is involved.
        let locked = unsafe { libc::flock(file.as_raw_fd(), libc::LOCK_EX | libc::LOCK_NB) };
        if locked == 0 {
            // SAFETY: as above.
            unsafe { libc::flock(file.as_raw_fd(), libc::LOCK_UN) };
            return start.elapsed();
        }
        assert!(
            start.elapsed() < RELEASE_DEADLINE,
            "the stopped server still holds its database after {RELEASE_DEADLINE:?}"
        );
        std::thread::sleep(std::time::Duration::from_millis(10));
    }
}
