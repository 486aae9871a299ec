//! A real OpenID provider on loopback for the web sign-in tests: Node's
//! `oidc-provider` package, run from `tests/oidc/provider.mjs` (see
//! `tests/oidc/README.md`) with the clients and users a test gives.
//!
//! - Its packages are installed once per machine with `npm ci` from the committed
//!   `package-lock.json` into `tests/oidc/node_modules`, under a file lock so that
//!   test processes running at the same time neither race nor delete what another
//!   one runs from; a stamp with the lock file's contents says the install is done.
//! - The provider listens on `127.0.0.1` only, plain HTTP; its issuer is
//!   `http://127.0.0.1:<port>`.
//! - Every wait is bounded. The process is killed when its [`Provider`] is dropped,
//!   and it exits by itself once the test process is gone however it ended: its
//!   stdin is a pipe whose other end only this handle holds.
//!
//! Not re-exported from the kit: its names (`Client`, `User`) are used as
//! `oidc::Client`, `oidc::User`.

use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::{Arc, Condvar, Mutex, PoisonError};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use serde_json::json;

use super::app::spawning;
use super::ports::free_port;

/// How long the provider may take to print `READY` (key generation, a busy machine).
pub const START_LIMIT: Duration = Duration::from_secs(20);
/// How long `npm ci` may take (it downloads from the registry on a fresh machine).
const INSTALL_LIMIT: Duration = Duration::from_secs(300);
/// How long a test process waits for another one's `npm ci` to finish.
const LOCK_LIMIT: Duration = INSTALL_LIMIT.saturating_add(Duration::from_secs(60));
const EXIT_LIMIT: Duration = Duration::from_secs(10);
const POLL: Duration = Duration::from_millis(20);
/// The oldest Node.js the provider runs on (`engines` in tests/oidc/package.json).
const MIN_NODE: (u32, u32) = (20, 12);
const HINT: &str = "the OIDC tests run a real OpenID provider on Node.js 20.12 or later, \
    with npm (Debian 13: apt-get install nodejs npm; see tests/oidc/README.md)";

/// How a client authenticates at the token endpoint.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum AuthMethod {
    /// HTTP Basic with the client id and secret (what `openidconnect` sends by default).
    #[default]
    Basic,
    /// `client_id` and `client_secret` in the form body.
    Post,
}

impl AuthMethod {
    fn name(self) -> &'static str {
        match self {
            Self::Basic => "client_secret_basic",
            Self::Post => "client_secret_post",
        }
    }
}

/// A relying party registered with the provider (confidential, authorization
/// code only, PKCE with S256 required).
#[derive(Clone, Debug)]
pub struct Client {
    pub id: String,
    pub secret: String,
    /// The only redirect URI the provider accepts for it (compared exactly).
    pub redirect_uri: String,
    pub auth_method: AuthMethod,
}

impl Client {
    /// A client that authenticates with HTTP Basic.
    pub fn new(id: &str, secret: &str, redirect_uri: &str) -> Self {
        Self {
            id: id.to_owned(),
            secret: secret.to_owned(),
            redirect_uri: redirect_uri.to_owned(),
            auth_method: AuthMethod::Basic,
        }
    }
}

/// Someone who can sign in at the provider's login page (the email is the
/// username). Their claims are what the provider puts in ID tokens: `sub`,
/// `email`, `email_verified`, `name`, `preferred_username` (the email), `groups`.
#[derive(Clone, Debug)]
pub struct User {
    pub sub: String,
    pub email: String,
    pub email_verified: bool,
    pub name: String,
    pub groups: Vec<String>,
    pub password: String,
}

/// How the provider spoils the ID tokens it issues, for a relying party's
/// negative tests. The token is re-signed after the change (with the provider's
/// own key, except for [`Tamper::Signature`]), so only the relying party's
/// checks can catch it.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Tamper {
    /// Tokens as `oidc-provider` makes them.
    #[default]
    None,
    /// A nonce other than the one the authorization request sent.
    Nonce,
    /// An `iss` other than the issuer.
    Issuer,
    /// An `aud` other than the client.
    Audience,
    /// `exp` an hour ago.
    Expired,
    /// Signed with a key the provider does not publish (same `kid`).
    Signature,
}

impl Tamper {
    fn name(self) -> &'static str {
        match self {
            Self::None => "none",
            Self::Nonce => "nonce",
            Self::Issuer => "issuer",
            Self::Audience => "audience",
            Self::Expired => "expired",
            Self::Signature => "signature",
        }
    }
}

/// A running provider; killed when dropped.
pub struct Provider {
    child: Child,
    /// Held only so that it closes (and the provider exits) with this handle.
    _stdin: Option<ChildStdin>,
    port: u16,
    issuer: String,
    stderr: Output,
    /// The config file lives here.
    _dir: tempfile::TempDir,
}

impl Provider {
    /// Starts a provider for `clients` and `users` and waits (at most
    /// [`START_LIMIT`]) until it listens. Panics with its log if it does not.
    pub fn start(clients: &[Client], users: &[User]) -> Self {
        Self::start_tampering(clients, users, Tamper::None)
    }

    /// Like [`Provider::start`], with ID tokens spoiled as `tamper` says.
    pub fn start_tampering(clients: &[Client], users: &[User], tamper: Tamper) -> Self {
        let node = node();
        let installed = installed();
        let port = free_port();
        let issuer = format!("http://127.0.0.1:{port}");
        let dir = tempfile::tempdir().expect("temp dir");
        let config = dir.path().join("config.json");
        let clients: Vec<_> = clients
            .iter()
            .map(|c| {
                json!({
                    "client_id": c.id,
                    "client_secret": c.secret,
                    "redirect_uris": [c.redirect_uri],
                    "token_endpoint_auth_method": c.auth_method.name(),
                })
            })
            .collect();
        let users: Vec<_> = users
            .iter()
            .map(|u| {
                json!({
                    "sub": u.sub, "email": u.email, "email_verified": u.email_verified,
                    "name": u.name, "groups": u.groups, "password": u.password,
                })
            })
            .collect();
        let body = json!({
            "port": port, "issuer": issuer, "tamper": tamper.name(),
            "clients": clients, "users": users,
        });
        std::fs::write(&config, body.to_string()).expect("write the provider's config");

        let mut cmd = Command::new(node);
        cmd.env_clear()
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            .current_dir(project_dir())
            .arg("provider.mjs")
            .arg(&config)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        let mut child = {
            let _spawning = spawning();
            cmd.spawn()
                .unwrap_or_else(|e| panic!("cannot run {cmd:?}: {e}; {HINT}"))
        };
        let stdin = child.stdin.take();
        let stdout = Output::read_from(child.stdout.take().expect("stdout"));
        let stderr = Output::read_from(child.stderr.take().expect("stderr"));
        let mut provider = Self {
            child,
            _stdin: stdin,
            port,
            issuer,
            stderr,
            _dir: dir,
        };
        let ready = format!("READY {}\n", provider.issuer);
        let deadline = Instant::now() + START_LIMIT;
        loop {
            let out = stdout.text();
            if out.contains(&ready) {
                drop(installed);
                return provider;
            }
            if let Ok(Some(status)) = provider.child.try_wait() {
                provider.stderr.wait_closed(Duration::from_secs(2));
                panic!(
                    "the OIDC provider exited ({status}) instead of starting; stderr:\n{}",
                    provider.log()
                );
            }
            if Instant::now() >= deadline {
                provider.kill();
                panic!(
                    "the OIDC provider did not print READY within {START_LIMIT:?}; stdout:\n{out}\nstderr:\n{}",
                    provider.log()
                );
            }
            stdout.wait_past(out.len(), POLL);
        }
    }

    /// `http://127.0.0.1:<port>`, as it appears in discovery and in `iss`.
    pub fn issuer(&self) -> &str {
        &self.issuer
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    /// What the provider has logged so far: one line per request (method, path
    /// without the query, status) and its warnings.
    pub fn log(&self) -> String {
        self.stderr.text()
    }

    fn kill(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            let _ = self.child.kill();
        }
        let deadline = Instant::now() + EXIT_LIMIT;
        while matches!(self.child.try_wait(), Ok(None)) && Instant::now() < deadline {
            std::thread::sleep(POLL);
        }
    }
}

impl Drop for Provider {
    fn drop(&mut self) {
        self.kill();
    }
}

/// `tests/oidc` in this checkout.
pub fn project_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/oidc")
}

/// `node`, after checking that it runs and is recent enough, so that a machine
/// without it, or with Debian 12's Node.js 18, gets a clear message rather than
/// a bare "No such file or directory" or a provider that fails at the token
/// endpoint (`oidc-provider` 9 calls `crypto.hash`, new in Node.js 20.12).
fn node() -> &'static str {
    let found = Command::new("node")
        .arg("--version")
        .stdin(Stdio::null())
        .stderr(Stdio::null())
        .output();
    let version = match found {
        Ok(out) if out.status.success() => String::from_utf8_lossy(&out.stdout).trim().to_owned(),
        Ok(out) => panic!("`node --version` failed ({}); {HINT}", out.status),
        Err(e) => panic!("cannot run `node` ({e}); {HINT}"),
    };
    let mut numbers = version
        .trim_start_matches('v')
        .split('.')
        .map(|n| n.parse::<u32>().unwrap_or(0));
    let (major, minor) = (numbers.next().unwrap_or(0), numbers.next().unwrap_or(0));
    assert!(
        (major, minor) >= MIN_NODE,
        "node is {version}, older than {}.{}; {HINT}",
        MIN_NODE.0,
        MIN_NODE.1
    );
    "node"
}

/// Makes sure `tests/oidc/node_modules` holds what the committed
/// `package-lock.json` lists, and returns `tests/oidc/.install.lock` with a shared
/// `flock` on it: the caller holds it until its provider has loaded its modules,
/// so that no other test process's `npm ci` replaces them meanwhile.
///
/// `npm ci --omit=dev` runs only when the stamp in `node_modules` is not the
/// lock file's contents (once per machine and lock file), under an exclusive
/// lock: other test processes wait for it (bounded) and then find it done. The
/// kernel releases a lock whose holder died, so a killed test blocks no one.
fn installed() -> std::fs::File {
    use rustix::fs::FlockOperation::{NonBlockingLockExclusive, NonBlockingLockShared, Unlock};
    let dir = project_dir();
    let lock_file = std::fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(dir.join(".install.lock"))
        .expect("open tests/oidc/.install.lock");
    let lock =
        std::fs::read(dir.join("package-lock.json")).expect("read tests/oidc/package-lock.json");
    let stamp = dir.join("node_modules/.otsd-installed-from");
    let up_to_date = || std::fs::read(&stamp).ok().as_deref() == Some(&lock[..]);
    flock(&lock_file, NonBlockingLockShared);
    if up_to_date() {
        return lock_file;
    }
    let _ = rustix::fs::flock(&lock_file, Unlock);
    flock(&lock_file, NonBlockingLockExclusive);
    if !up_to_date() {
        npm_ci(&dir);
        std::fs::write(&stamp, &lock).expect("write the install stamp");
    }
    // Back to shared, so that other test processes may start theirs too.
    flock(&lock_file, NonBlockingLockShared);
    lock_file
}

/// Takes `operation` (a non-blocking lock) on `file`, retrying for at most
/// `LOCK_LIMIT`: the one who holds it may be running `npm ci`.
fn flock(file: &std::fs::File, operation: rustix::fs::FlockOperation) {
    let deadline = Instant::now() + LOCK_LIMIT;
    loop {
        match rustix::fs::flock(file, operation) {
            Ok(()) => return,
            Err(rustix::io::Errno::WOULDBLOCK | rustix::io::Errno::INTR) => {}
            Err(e) => panic!("flock tests/oidc/.install.lock: {e}"),
        }
        assert!(
            Instant::now() < deadline,
            "another test process held tests/oidc/.install.lock (npm ci) for over {LOCK_LIMIT:?}"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}

fn npm_ci(dir: &Path) {
    use std::os::unix::process::CommandExt;
    let mut cmd = Command::new("npm");
    // The environment is kept: npm reaches the registry the way this machine is
    // set up to (proxy, registry mirror, cache in $HOME).
    cmd.args(["ci", "--omit=dev", "--no-audit", "--no-fund"])
        .current_dir(dir)
        .process_group(0)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = {
        let _spawning = spawning();
        cmd.spawn()
            .unwrap_or_else(|e| panic!("cannot run `npm` ({e}); {HINT}"))
    };
    let stdout = Output::read_from(child.stdout.take().expect("stdout"));
    let stderr = Output::read_from(child.stderr.take().expect("stderr"));
    let deadline = Instant::now() + INSTALL_LIMIT;
    let status = loop {
        if let Some(status) = child.try_wait().expect("wait for npm") {
            break status;
        }
        if Instant::now() >= deadline {
            let group = rustix::process::Pid::from_child(&child);
            let _ = rustix::process::kill_process_group(group, rustix::process::Signal::KILL);
            let _ = child.wait();
            panic!(
                "npm ci in {} did not finish within {INSTALL_LIMIT:?}; stderr:\n{}",
                dir.display(),
                stderr.text()
            );
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    stderr.wait_closed(Duration::from_secs(2));
    assert!(
        status.success(),
        "npm ci in {} failed ({status}); it needs the npm registry; {HINT}\n{}{}",
        dir.display(),
        stdout.text(),
        stderr.text()
    );
}

/// What a child's pipe has produced so far, filled by a reader thread; waiters
/// are woken on every chunk. Shared with the kit's other provider
/// (`lemonldap`).
#[derive(Clone, Default)]
pub(super) struct Output(Arc<(Mutex<(String, bool)>, Condvar)>);

impl Output {
    pub(super) fn read_from(mut pipe: impl Read + Send + 'static) -> Self {
        let output = Self::default();
        let sink = output.clone();
        let _reader: JoinHandle<()> = std::thread::spawn(move || {
            let mut buf = [0u8; 4096];
            loop {
                let n = pipe.read(&mut buf).unwrap_or(0);
                let (state, grown) = &*sink.0;
                let mut state = state.lock().unwrap_or_else(PoisonError::into_inner);
                if n == 0 {
                    state.1 = true;
                    grown.notify_all();
                    break;
                }
                state.0.push_str(&String::from_utf8_lossy(&buf[..n]));
                grown.notify_all();
            }
        });
        output
    }

    pub(super) fn text(&self) -> String {
        self.0
            .0
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .0
            .clone()
    }

    /// Waits at most `limit` for more text than `seen` bytes (or the pipe's end).
    pub(super) fn wait_past(&self, seen: usize, limit: Duration) {
        let (state, grown) = &*self.0;
        let guard = state.lock().unwrap_or_else(PoisonError::into_inner);
        if guard.0.len() == seen && !guard.1 {
            let _ = grown.wait_timeout(guard, limit);
        }
    }

    /// Waits at most `limit` for the pipe to close (the child has exited and its
    /// last words are in).
    pub(super) fn wait_closed(&self, limit: Duration) {
        let deadline = Instant::now() + limit;
        loop {
            let (state, grown) = &*self.0;
            let guard = state.lock().unwrap_or_else(PoisonError::into_inner);
            let now = Instant::now();
            if guard.1 || now >= deadline {
                return;
            }
            let _ = grown.wait_timeout(guard, deadline - now);
        }
    }
}
