//! What the cluster tests share: a master key file every node reads, nodes on
//! one database, a bounded load of creators, and the checks run after a fault
//! (every acknowledged secret reveals exactly once).

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use futures_util::StreamExt;
use serde_json::Value;

use crate::common::*;

/// How long one request of the load may take (a node whose database is away
/// may hold it until its pool gives up).
const LOAD_REQUEST_LIMIT: Duration = Duration::from_secs(5);
/// How long nodes may take to be ready again once the database is back.
pub const RECOVERY_LIMIT: Duration = Duration::from_secs(30);

/// A master key shared by every node, in its own file (mode 0600), as an
/// operator distributes it: 32 random bytes in hex.
pub fn master_key_file(dir: &Path) -> PathBuf {
    use std::io::Read;
    let mut bytes = [0u8; 32];
    std::fs::File::open("/dev/urandom")
        .and_then(|mut f| f.read_exact(&mut bytes))
        .expect("read /dev/urandom");
    let path = dir.join("shared-master.key");
    std::fs::write(&path, hex(&bytes)).expect("write the master key");
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600))
        .expect("chmod the master key");
    path
}

/// Lower-case hex of `bytes` (how `pg_dump` writes a `bytea`, after `\x`).
pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// A node named `name` in `dir`: its own data directory `dir/<name>` (admin
/// socket), its own port, the database at `url`, the shared master key.
/// Rate limits are off, so that every refusal a test sees comes from the
/// database the nodes share and none from a node's own counters.
pub fn node(dir: &Path, name: &str, url: &str, key: &Path) -> Otsd {
    Otsd::new(dir)
        .data_dir(&dir.join(name))
        // After `data_dir`, which may set a database of the engine kit's own.
        .env("OTSD_DATABASE_URL", url)
        .env("OTSD_MASTER_KEY_FILE", key.to_str().expect("a UTF-8 path"))
        .env("OTSD_RATE_LIMITS__ENABLED", "false")
}

/// `otsd --data-dir <dir>/<name> …` for a command that runs and exits
/// (`user`, `backup`, `restore`): on the database at `url`, or on sled in the
/// data directory when `url` is `None`.
pub fn command(dir: &Path, name: &str, url: Option<&str>, key: &Path) -> Otsd {
    let otsd = Otsd::bare(dir)
        .data_dir(&dir.join(name))
        .env("OTSD_MASTER_KEY_FILE", key.to_str().expect("a UTF-8 path"));
    match url {
        Some(url) => otsd.env("OTSD_DATABASE_URL", url),
        None => otsd.without_env("OTSD_DATABASE_URL"),
    }
}

/// `otsd user add NAME` on the database at `url`, with no server involved:
/// the account and the token the command printed.
pub fn user_add(dir: &Path, url: &str, key: &Path, name: &str) -> Account {
    let done = command(dir, "admin", Some(url), key)
        .arg("user")
        .arg("add")
        .arg(name)
        .run();
    let token = succeeded(&done, "otsd user add").trim().to_owned();
    assert!(!token.is_empty(), "a token on stdout");
    Account::new(name, &token)
}

/// Asserts that a command exited 0; returns its standard output.
pub fn succeeded(done: &Finished, what: &str) -> String {
    assert_eq!(
        done.status.code(),
        Some(0),
        "{what} succeeds; stderr:\n{}",
        done.stderr
    );
    done.stdout.clone()
}

/// The name of the database in a URL made by the kit.
pub fn database_name(url: &str) -> String {
    let path = url.rsplit('/').next().expect("a database in the URL");
    path.split('?').next().expect("a name").to_owned()
}

/// Whether the process `pid` still runs (a zombie does not).
pub fn running(pid: u32) -> bool {
    std::fs::read_to_string(format!("/proc/{pid}/stat")).is_ok_and(|s| {
        s.rsplit_once(')')
            .is_some_and(|(_, rest)| !rest.trim_start().starts_with(['Z', 'X']))
    })
}

/// `GET /readyz`: its status and JSON body (`None` when no answer came).
pub async fn readyz(client: &Client) -> Option<(u16, Value)> {
    let resp = client
        .get("/readyz")
        .timeout(LOAD_REQUEST_LIMIT)
        .try_send()
        .await
        .ok()?;
    let status = resp.status().as_u16();
    Some((status, resp.json().await.ok()?))
}

/// Waits at most `limit` until `/readyz` answers 200; returns how long it took.
pub async fn wait_until_ready(client: &Client, limit: Duration) -> Duration {
    let started = Instant::now();
    loop {
        let last = readyz(client).await;
        if last.as_ref().is_some_and(|(status, _)| *status == 200) {
            return started.elapsed();
        }
        assert!(
            started.elapsed() < limit,
            "{} not ready within {limit:?}; last answer {last:?}",
            client.address
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// A secret whose creation was acknowledged (HTTP 200 with its keys).
#[derive(Clone, Debug)]
pub struct Made {
    pub secret_key: String,
    pub value: String,
    /// Which client of the load made it (its index).
    pub by: usize,
    /// When it was acknowledged.
    pub at: Instant,
}

/// Shares `value` on `client`; its keys when acknowledged.
pub async fn try_share(client: &Client, value: &str) -> Option<(String, String)> {
    let resp = client
        .post_form(SHARE, &[("secret", value)])
        .timeout(LOAD_REQUEST_LIMIT)
        .try_send()
        .await
        .ok()?;
    if resp.status() != 200 {
        return None;
    }
    let body: Value = resp.json().await.ok()?;
    Some((
        body["secret_key"].as_str()?.to_owned(),
        body["metadata_key"].as_str()?.to_owned(),
    ))
}

/// Creators running against some nodes until stopped, each bounded in count
/// and in time.
pub struct Load {
    stop: Arc<AtomicBool>,
    tasks: Vec<tokio::task::JoinHandle<(Vec<Made>, usize)>>,
}

impl Load {
    /// `per_node` creators on each of `clients`, each making at most `max`
    /// secrets and stopping after `limit` at the latest.
    pub fn start(clients: &[Client], per_node: usize, max: usize, limit: Duration) -> Self {
        let stop = Arc::new(AtomicBool::new(false));
        let deadline = Instant::now() + limit;
        let mut tasks = Vec::new();
        for (by, client) in clients.iter().enumerate() {
            for _ in 0..per_node {
                let (client, stop) = (client.clone(), stop.clone());
                tasks.push(tokio::spawn(async move {
                    let (mut made, mut refused) = (Vec::new(), 0);
                    while made.len() + refused < max
                        && !stop.load(Ordering::SeqCst)
                        && Instant::now() < deadline
                    {
                        let value = unique("load-");
                        match try_share(&client, &value).await {
                            Some((secret_key, _)) => made.push(Made {
                                secret_key,
                                value,
                                by,
                                at: Instant::now(),
                            }),
                            None => {
                                refused += 1;
                                // A node without its database answers at once:
                                // do not spin.
                                tokio::time::sleep(Duration::from_millis(20)).await;
                            }
                        }
                    }
                    (made, refused)
                }));
            }
        }
        Self { stop, tasks }
    }

    /// Stops the creators; what they made (acknowledged) and how many of their
    /// creates were not acknowledged.
    pub async fn finish(self) -> (Vec<Made>, usize) {
        self.stop.store(true, Ordering::SeqCst);
        let (mut made, mut refused) = (Vec::new(), 0);
        for task in self.tasks {
            let (m, r) = task.await.expect("a creator");
            made.extend(m);
            refused += r;
        }
        (made, refused)
    }
}

/// Every secret of `made` reveals its value exactly once: on `first(by)`, then
/// never again on `second(by)` (both pick a node by who made it).
pub async fn reveal_each_exactly_once(
    made: &[Made],
    first: impl Fn(usize) -> Client,
    second: impl Fn(usize) -> Client,
) {
    let checks = made.iter().map(|m| {
        let (first, second) = (first(m.by), second(m.by));
        async move {
            let resp = first.reveal(&m.secret_key, None).await;
            let status = resp.status();
            let body = resp.text().await.unwrap_or_default();
            assert_eq!(
                status, 200,
                "the acknowledged secret {m:?} reveals on {}: {body}",
                first.address
            );
            let body: Value = serde_json::from_str(&body).expect("JSON");
            assert_eq!(body["value"], m.value.as_str(), "the value of {m:?}");
            assert_unknown_secret(second.reveal(&m.secret_key, None).await, &m.secret_key).await;
        }
    });
    futures_util::stream::iter(checks)
        .buffer_unordered(8)
        .collect::<Vec<()>>()
        .await;
}
