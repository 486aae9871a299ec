//! Building and running the server: the one function tests and `main` share.

pub mod backup;
mod convert;
mod recovery;
mod storage;
mod user;

pub use storage::{MasterKeyError, open_storage};
pub use user::account_command;

use actix_web::dev::{Server, ServerHandle};
use actix_web::middleware::Condition;
use actix_web::{App, HttpServer, web};
use std::net::{SocketAddr, TcpListener};
use std::path::PathBuf;
use std::time::Duration;

use futures_util::future::{Either, select};

use crate::accounts::Accounts;
use crate::admin::AdminSocket;
use crate::config::Settings;
use crate::http::{self, AppState};
use crate::mail::{MailConfigError, Mailer};
use crate::service::{Links, Policy, Service};
use crate::store::{Store, StoreError};
use crate::supervisor::{Panicked, Supervisor};
use crate::vault::Vault;
use std::sync::Arc;

#[derive(Debug, thiserror::Error)]
pub enum StartupError {
    #[error(transparent)]
    Config(#[from] crate::config::ConfigError),
    #[error(transparent)]
    Mail(#[from] MailConfigError),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("master key {path}")]
    MasterKey {
        path: String,
        #[source]
        source: MasterKeyError,
    },
    #[error("data directory {path}")]
    DataDir {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("single sign-on (oidc.client_secret_file {path})")]
    OidcSecret {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("single sign-on: {0}")]
    Oidc(String),
    #[error("cannot handle signals")]
    Signals(#[source] std::io::Error),
    #[error("cannot start the server's background threads")]
    Threads(#[source] std::io::Error),
    /// A background thread panicked (logged with its name and message); the
    /// server then stopped as on SIGTERM, so the exit status says so.
    #[error("the server stopped because {0}")]
    Thread(#[from] Panicked),
    #[error(
        "no server answers on {}/admin.sock and there is no otsd database at {}: \
         point this command at the server's data directory with --data-dir or \
         --config (the server's configuration file); to add the first account \
         before the server's first start, run `otsd user --init add NAME`",
        path.parent().unwrap_or(path).display(),
        path.display()
    )]
    NoDatabase { path: PathBuf },
    #[error("cannot listen on {addr} (choose another address or port with --listen or `listen`)")]
    Listen {
        addr: SocketAddr,
        #[source]
        source: std::io::Error,
    },
}

/// SIGTERM and SIGINT, caught from the moment this is made: make it before
/// building the server, so that no signal in between kills the process, and hand
/// it to [`Application::run_until_signalled`].
pub struct StopSignals {
    term: actix_web::rt::signal::unix::Signal,
    int: actix_web::rt::signal::unix::Signal,
}

impl StopSignals {
    /// Must be called inside the runtime that will serve.
    pub fn install() -> Result<Self, StartupError> {
        use actix_web::rt::signal::unix::{SignalKind, signal};
        Ok(Self {
            term: signal(SignalKind::terminate()).map_err(StartupError::Signals)?,
            int: signal(SignalKind::interrupt()).map_err(StartupError::Signals)?,
        })
    }
}

/// A server bound to its port, not yet running. Its background threads (see
/// `start_threads`) stop when it is dropped, so a server that is never run,
/// or one whose start failed half-way, leaves nothing holding the database.
pub struct Application {
    addr: SocketAddr,
    server: Server,
    store: Store,
    /// Every thread this server started besides actix's.
    threads: Supervisor,
}

/// How long a stop waits for the background threads to end. They stop within
/// a batch of work (a reaper's sweep step, a watchdog feed, an admin request);
/// what may take longer (a compaction of a large database, a backup streamed
/// to a slow reader) is left to end with the process: sled and the compaction
/// are built to survive that, and every acknowledged change is already on disk.
const JOIN_LIMIT: Duration = Duration::from_secs(30);

impl Application {
    /// Opens the data directory and database, binds the listener and prepares the
    /// server. With `listen = "127.0.0.1:0"` the OS picks a port: see
    /// [`Application::local_addr`].
    ///
    /// Every step that can fail runs before any thread starts; then the HTTP
    /// workers and, in one place (`start_threads`), every background thread.
    pub fn build(settings: &Settings) -> Result<Self, StartupError> {
        let mailer = Mailer::new(&settings.smtp)?;
        // Bound first: a port in use leaves no data directory or key behind.
        let listener =
            TcpListener::bind(settings.listen).map_err(|source| StartupError::Listen {
                addr: settings.listen,
                source,
            })?;
        let (store, keyring) = open_storage(settings)?;
        let addr = listener
            .local_addr()
            .map_err(|source| StartupError::Listen {
                addr: settings.listen,
                source,
            })?;
        let base_url = if settings.base_url.is_empty() {
            format!("http://{addr}")
        } else {
            settings.base_url.trim_end_matches('/').to_owned()
        };
        let accounts = Accounts::new(store.clone(), Arc::clone(&keyring));
        let sessions = crate::sessions::Sessions::new(
            store.clone(),
            Arc::clone(&keyring),
            crate::sessions::SessionPolicy {
                idle: settings.web.session_idle_secs,
                max: settings.web.session_max_secs,
            },
        );
        let sign_in = crate::service::SignIn {
            password: settings.web.password_sign_in,
            oidc: convert::oidc(settings, &base_url)?,
        };
        let service = Service {
            vault: Vault::new(store.clone(), keyring),
            accounts: accounts.clone(),
            limiter: convert::rate_limiter(settings),
            mailer,
            policy: Policy {
                anonymous_create: settings.anonymous_create,
                exempt_accounts: settings.rate_limits.exempt_accounts,
                anonymous: settings.caller_limits(false),
                authenticated: settings.caller_limits(true),
                share_domains: settings.share_domains.clone(),
            },
            links: Links::new(base_url),
            metrics: crate::telemetry::Metrics::default(),
            sessions,
            sign_in,
        };
        let state = web::Data::new(AppState {
            service,
            trusted_proxies: settings.rate_limits.trusted_proxies.clone(),
            ttl_choices: settings.web.ttl_choices.clone(),
            instance_name: settings.web.instance_name.clone(),
            generated: crate::http::handover::Handover::default(),
            metrics: crate::http::state::MetricsAccess {
                enabled: settings.metrics.enabled,
                allow: settings.metrics.allow.clone(),
                token: zeroize::Zeroizing::new(settings.metrics.token.0.clone()),
            },
            locales: http::web::language_codes(),
        });
        let metrics_on = settings.metrics.enabled;
        let body_limits = convert::body_limits(settings);
        let access_log = settings.access_log;

        let mut server = HttpServer::new(move || {
            App::new()
                .wrap(actix_web::middleware::from_fn(http::health::head_as_get))
                .wrap(Condition::new(
                    metrics_on,
                    actix_web::middleware::from_fn(http::metrics::time_requests),
                ))
                .wrap(Condition::new(access_log, http::request_logger()))
                .app_data(state.clone())
                .app_data(body_limits.clone())
                .configure(http::routes)
        })
        .shutdown_timeout(settings.shutdown_timeout_secs)
        // actix would install its handlers only once the server is first polled, so
        // a SIGTERM right after start-up would kill the process instead of stopping
        // it: see [`StopSignals`].
        .disable_signals();
        if settings.workers > 0 {
            server = server.workers(settings.workers);
        }
        let server = server
            .listen(listener)
            .map_err(|source| StartupError::Listen { addr, source })?;
        let data_dir = &settings.data_dir;
        let admin = AdminSocket::bind(data_dir).map_err(|source| StartupError::DataDir {
            path: data_dir.join(crate::admin::SOCKET),
            source,
        })?;
        let server = server.run();
        // Bound and open: what systemd waits for before it starts what is
        // ordered after otsd. Sent before the watchdog's first feed.
        crate::notify::ready();
        let threads =
            start_threads(settings, &store, accounts, admin).map_err(StartupError::Threads)?;
        Ok(Self {
            addr,
            server,
            store,
            threads,
        })
    }

    /// The address actually bound (with the real port when 0 was asked for).
    pub fn local_addr(&self) -> SocketAddr {
        self.addr
    }

    /// A handle to stop the server gracefully (what SIGTERM does).
    pub fn handle(&self) -> ServerHandle {
        self.server.handle()
    }

    /// Serves until stopped (by [`ServerHandle::stop`]), letting requests in
    /// flight finish; then stops the reaper and flushes the database.
    pub async fn run_until_stopped(self) -> Result<(), StartupError> {
        let never = std::future::pending::<()>();
        self.run_until(never).await
    }

    /// Serves until SIGTERM or SIGINT (see [`StopSignals`]): the first stops
    /// gracefully, like [`Application::run_until_stopped`]; a second one stops at
    /// once, dropping the requests still in flight (none of them was answered, so
    /// nothing acknowledged is lost), and still flushes and closes the database.
    pub async fn run_until_signalled(self, signals: StopSignals) -> Result<(), StartupError> {
        let StopSignals { mut term, mut int } = signals;
        let handle = self.handle();
        let second_signal = async move {
            select(Box::pin(term.recv()), Box::pin(int.recv())).await;
            crate::notify::stopping();
            log::info!("stopping: finishing requests in flight (signal again to stop at once)");
            actix_web::rt::spawn(handle.stop(true));
            select(Box::pin(term.recv()), Box::pin(int.recv())).await;
            log::warn!("stopping at once: requests in flight are dropped");
        };
        self.run_until(second_signal).await
    }

    /// Serves until the server stops or `abandon` completes, then shuts down:
    /// stops and joins the background threads, and flushes and closes the
    /// database.
    ///
    /// A background thread that panics stops the server as SIGTERM does
    /// (no new connections, requests in flight finished), and the result is
    /// then [`StartupError::Thread`]: a server missing one of its threads is
    /// not left running half alive.
    ///
    /// If the database fails meanwhile (see [`crate::store::Failure`]: sled then
    /// refuses every read and write until it is reopened), the server goes on
    /// answering, with 503 "cannot store secrets right now" for what needs the
    /// database and `offline` from `/api/v1/status`, and [`recovery::recover`] reopens
    /// the database in place once the disk has room again: the same process
    /// serves again, with every acknowledged secret.
    async fn run_until(self, abandon: impl Future<Output = ()>) -> Result<(), StartupError> {
        let Self {
            addr,
            server,
            store,
            mut threads,
        } = self;
        let handle = server.handle();
        let shutdown = threads.token();
        // Only a failure stops the token before the server has stopped.
        let failed = shutdown.stopped();
        let served = match select(server, select(Box::pin(abandon), Box::pin(failed))).await {
            Either::Left((served, _)) => served,
            // The worker threads still hold connections (and database handles);
            // they end with the process.
            Either::Right((Either::Left(_), _server)) => Ok(()),
            Either::Right((Either::Right(((), abandon)), server)) => {
                crate::notify::stopping();
                log::error!("stopping: finishing requests in flight");
                actix_web::rt::spawn(handle.stop(true));
                match select(server, abandon).await {
                    Either::Left((served, _)) => served,
                    Either::Right(_) => Ok(()),
                }
            }
        };
        crate::notify::stopping();
        let stopped = threads.shutdown();
        if !store.wait_until_sole_handle(Duration::from_secs(5)) {
            log::warn!("request workers still hold the database after stopping");
        }
        if let Err(err) = store.close() {
            // Every acknowledged change waited for a flush that succeeded: what
            // this last flush would have added was never acknowledged.
            log::warn!(
                "the last flush failed ({}); nothing acknowledged is lost",
                crate::error::report(&err)
            );
        }
        served.map_err(|source| StartupError::Listen { addr, source })?;
        stopped?;
        Ok(())
    }
}

/// Starts every background thread of the server, on one [`Supervisor`]: the
/// one place they start, after every step of [`Application::build`] that can
/// fail, and the one way they stop (its [`Shutdown`] token). Each takes the
/// store handle it needs, so the database is released once they are joined.
///
/// - `otsd-admin`: answers `otsd user …` and `otsd backup` on the admin socket.
/// - `otsd-reaper`: deletes what expired, and compacts a database churn left
///   mostly empty.
/// - `otsd-recovery`: reopens a database that failed (a full disk) once the
///   disk has room, and stops the server if the store's commit thread died.
/// - `otsd-watchdog`: feeds systemd's watchdog, when systemd asked for one.
///
/// The store's commit thread is the store's own (see `store::commit`).
fn start_threads(
    settings: &Settings,
    store: &Store,
    accounts: Accounts,
    admin: AdminSocket,
) -> std::io::Result<Supervisor> {
    let mut threads = Supervisor::new(JOIN_LIMIT);
    let held = store.clone();
    threads.spawn("otsd-admin", move |shutdown| {
        admin.serve(&accounts, &held, &shutdown);
    })?;
    let held = store.clone();
    let interval = Duration::from_secs(settings.reaper.interval_secs);
    threads.spawn("otsd-reaper", move |shutdown| {
        crate::reaper::run(&held, interval, &shutdown);
    })?;
    let held = store.clone();
    let data_dir = settings.data_dir.clone();
    threads.spawn("otsd-recovery", move |shutdown| {
        recovery::recover(&held, &data_dir, &shutdown);
    })?;
    if let Some(every) = crate::notify::watchdog_interval() {
        let held = store.clone();
        threads.spawn("otsd-watchdog", move |shutdown| {
            crate::notify::feed_watchdog(&held, every, &shutdown);
        })?;
    }
    Ok(threads)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::Path;

    fn settings(dir: &Path) -> Settings {
        let mut settings = Settings {
            listen: SocketAddr::from(([127, 0, 0, 1], 0)),
            data_dir: dir.to_owned(),
            workers: 1,
            ..Settings::default()
        };
        settings.crypto.pbkdf2_iterations = 1_000;
        settings
    }

    /// The database can be opened at once: nothing of a server holds its lock.
    fn assert_released(dir: &Path) {
        let store = Store::open(&dir.join("db"), 1 << 20)
            .expect("no thread of the failed or dropped server holds the database");
        store.close().unwrap();
    }

    /// A port in use stops the start before anything is made: no data
    /// directory, no key.
    #[actix_web::test]
    async fn a_port_in_use_stops_the_start_before_the_data_directory_is_made() {
        let dir = tempfile::tempdir().unwrap();
        let taken = TcpListener::bind("127.0.0.1:0").unwrap();
        let mut settings = settings(&dir.path().join("data"));
        settings.listen = taken.local_addr().unwrap();

        let err = Application::build(&settings)
            .err()
            .expect("the port is taken");

        assert!(matches!(err, StartupError::Listen { .. }), "{err}");
        assert!(!dir.path().join("data").exists(), "nothing was made");
    }

    /// The admin socket is bound after the database is open: a start that
    /// fails there (a directory in the socket's place) must not leave the
    /// database held by anything of the failed server.
    #[actix_web::test]
    async fn a_start_that_fails_after_opening_the_database_leaves_nothing_holding_it() {
        let dir = tempfile::tempdir().unwrap();
        let settings = settings(dir.path());
        Application::build(&settings).unwrap(); // made, then dropped
        std::fs::create_dir(dir.path().join(crate::admin::SOCKET)).unwrap();

        let err = Application::build(&settings)
            .err()
            .expect("the admin socket cannot be bound");

        assert!(matches!(err, StartupError::DataDir { .. }), "{err}");
        assert!(
            dir.path().join("db").join("db").exists(),
            "the database was opened before the failure"
        );
        assert_released(dir.path());
    }

    #[actix_web::test]
    async fn a_server_dropped_before_it_runs_stops_its_threads_and_releases_the_database() {
        let dir = tempfile::tempdir().unwrap();
        let app = Application::build(&settings(dir.path())).unwrap();
        assert!(dir.path().join(crate::admin::SOCKET).exists());

        drop(app);

        assert_released(dir.path());
        assert!(!dir.path().join(crate::admin::SOCKET).exists());
    }

    /// A running server whose background thread panics does not go on half
    /// alive: it stops as on SIGTERM, reports the thread, and releases the
    /// database and the admin socket. (The thread is the test's, spawned on
    /// the server's own supervisor: none of the real ones panics on demand.)
    #[actix_web::test]
    async fn a_background_thread_that_panics_stops_the_server_with_an_error() {
        let dir = tempfile::tempdir().unwrap();
        let mut app = Application::build(&settings(dir.path())).unwrap();
        let addr = app.local_addr();
        std::net::TcpStream::connect(addr).expect("the server listens");
        app.threads
            .spawn("otsd-test-panics", |_| panic!("on purpose"))
            .unwrap();

        let stopped =
            actix_web::rt::time::timeout(Duration::from_secs(20), app.run_until_stopped())
                .await
                .expect("the server stops on its own");

        let err = stopped.expect_err("a failing stop");
        assert!(
            matches!(&err, StartupError::Thread(p) if p.thread == "otsd-test-panics"),
            "{err}"
        );
        assert_released(dir.path());
        assert!(!dir.path().join(crate::admin::SOCKET).exists());
    }
}
