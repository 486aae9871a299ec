//! Building and running the server: the one function tests and `main` share.

use actix_web::dev::{Server, ServerHandle};
use actix_web::middleware::{Condition, Logger};
use actix_web::{App, HttpServer, web};
use std::fs;
use std::io::Write;
use std::net::{SocketAddr, TcpListener};
use std::num::NonZeroU32;
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt, PermissionsExt};
use std::path::Path;
use std::time::Duration;

use futures_util::future::{Either, select};

use crate::accounts::Accounts;
use crate::admin::{AdminSocket, Request, Response};
use crate::api::{self, AppState};
use crate::config::Settings;
use crate::crypto::{Keyring, MasterKey};
use crate::reaper::Reaper;
use crate::store::{Store, StoreError};
use crate::vault::Vault;
use std::sync::Arc;

#[derive(Debug, thiserror::Error)]
pub enum StartupError {
    #[error("{0}")]
    Config(#[from] crate::config::ConfigError),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("master key {path}: {reason}")]
    MasterKey { path: String, reason: String },
    #[error("data directory {path}: {reason}")]
    DataDir { path: String, reason: String },
    #[error("cannot handle signals: {0}")]
    Signals(String),
    #[error("cannot listen on {addr}: {reason}")]
    Listen { addr: String, reason: String },
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
    pub fn install() -> std::io::Result<Self> {
        use actix_web::rt::signal::unix::{SignalKind, signal};
        Ok(Self {
            term: signal(SignalKind::terminate())?,
            int: signal(SignalKind::interrupt())?,
        })
    }
}

/// A server bound to its port, not yet running.
pub struct Application {
    addr: SocketAddr,
    server: Server,
    store: Store,
    reaper: Reaper,
    admin: AdminSocket,
}

impl Application {
    /// Opens the data directory and database, binds the listener and prepares the
    /// server. With `listen = "127.0.0.1:0"` the OS picks a port: see
    /// [`Application::local_addr`].
    pub fn build(settings: &Settings) -> Result<Self, StartupError> {
        let (store, keyring) = open_storage(settings)?;
        let data_dir = &settings.data_dir;
        let accounts = Accounts::new(store.clone(), Arc::clone(&keyring));
        let admin =
            AdminSocket::start(data_dir, accounts.clone()).map_err(|e| StartupError::DataDir {
                path: data_dir.join(crate::admin::SOCKET).display().to_string(),
                reason: e.to_string(),
            })?;

        let listen = settings.listen_addr()?;
        let listener = TcpListener::bind(listen).map_err(|e| StartupError::Listen {
            addr: settings.listen.clone(),
            reason: e.to_string(),
        })?;
        let addr = listener.local_addr().map_err(|e| StartupError::Listen {
            addr: settings.listen.clone(),
            reason: e.to_string(),
        })?;
        let base_url = if settings.base_url.is_empty() {
            format!("http://{addr}")
        } else {
            settings.base_url.trim_end_matches('/').to_owned()
        };
        let state = web::Data::new(AppState {
            vault: Vault::new(store.clone(), keyring),
            accounts,
            limiter: settings.rate_limiter(),
            exempt_accounts: settings.rate_limits.exempt_accounts,
            trusted_proxies: settings.trusted_proxies()?,
            anonymous_create: settings.anonymous_create,
            anonymous: settings.caller_limits(false),
            authenticated: settings.caller_limits(true),
            mailer: crate::mail::Mailer::from_settings(&settings.smtp)?,
            ttl_choices: settings.web.ttl_choices.clone(),
            base_url,
            share_domains: settings.share_domains.clone(),
        });
        let body_limits = settings.body_limits();
        let access_log = settings.access_log;

        let mut server = HttpServer::new(move || {
            App::new()
                .wrap(Condition::new(access_log, request_logger()))
                .app_data(state.clone())
                .app_data(body_limits.clone())
                .configure(api::configure)
                .configure(crate::web::configure)
                .default_service(web::to(api::not_found))
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
            .map_err(|e| StartupError::Listen {
                addr: settings.listen.clone(),
                reason: e.to_string(),
            })?
            .run();
        let reaper = Reaper::start(
            store.clone(),
            Duration::from_secs(settings.reaper.interval_secs),
        )
        .map_err(|e| StartupError::DataDir {
            path: data_dir.display().to_string(),
            reason: e.to_string(),
        })?;
        Ok(Self {
            addr,
            server,
            store,
            reaper,
            admin,
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
            log::info!("stopping: finishing requests in flight (signal again to stop at once)");
            actix_web::rt::spawn(handle.stop(true));
            select(Box::pin(term.recv()), Box::pin(int.recv())).await;
            log::warn!("stopping at once: requests in flight are dropped");
        };
        self.run_until(second_signal).await
    }

    /// Serves until the server stops or `abandon` completes, then shuts down.
    async fn run_until(self, abandon: impl Future<Output = ()>) -> Result<(), StartupError> {
        let Self {
            addr,
            server,
            store,
            reaper,
            admin,
        } = self;
        let served = match select(server, Box::pin(abandon)).await {
            Either::Left((served, _)) => served,
            // The worker threads still hold connections (and database handles);
            // they end with the process.
            Either::Right(((), _server)) => Ok(()),
        };
        admin.stop();
        reaper.stop();
        if !store.wait_until_sole_handle(Duration::from_secs(5)) {
            log::warn!("request workers still hold the database after stopping");
        }
        store.close()?;
        served.map_err(|e| StartupError::Listen {
            addr: addr.to_string(),
            reason: e.to_string(),
        })
    }
}

/// Creates the data directory (mode 0700), loads or creates the master key, and
/// opens the database: what both the server and the offline `otsd user` need.
pub fn open_storage(settings: &Settings) -> Result<(Store, Arc<Keyring>), StartupError> {
    settings.validate()?;
    let data_dir = &settings.data_dir;
    fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(data_dir)
        .map_err(|e| StartupError::DataDir {
            path: data_dir.display().to_string(),
            reason: e.to_string(),
        })?;
    let master = load_master_key(settings)?;
    let iterations = NonZeroU32::new(settings.crypto.pbkdf2_iterations).unwrap_or(NonZeroU32::MIN);
    let keyring = Arc::new(Keyring::new(&master, iterations));
    let store = Store::open(
        &data_dir.join("db"),
        settings.storage.cache_mib * 1024 * 1024,
    )?;
    Ok((store, keyring))
}

/// Runs one account command: through the running server's admin socket when one
/// answers, otherwise directly on the database.
pub fn account_command(settings: &Settings, request: Request) -> Result<Response, StartupError> {
    let socket_error = |e: std::io::Error| StartupError::DataDir {
        path: settings
            .data_dir
            .join(crate::admin::SOCKET)
            .display()
            .to_string(),
        reason: e.to_string(),
    };
    if let Some(response) =
        crate::admin::send(&settings.data_dir, &request).map_err(socket_error)?
    {
        return Ok(response);
    }
    crate::admin::act_as_data_dir_owner(&settings.data_dir).map_err(|e| StartupError::DataDir {
        path: settings.data_dir.display().to_string(),
        reason: format!("cannot switch to its owner: {e}"),
    })?;
    let (store, keyring) = open_storage(settings)?;
    let response = crate::admin::execute(&Accounts::new(store.clone(), keyring), request);
    store.close()?;
    Ok(response)
}

/// The access log: method, route *pattern* (never the path, which holds keys, nor
/// the query string, which may hold a secret), status, size and time.
fn request_logger() -> Logger {
    Logger::new(r#"%a "%{route}xi" %s %b %Dms"#).custom_request_replace("route", |req| {
        format!(
            "{} {}",
            req.method(),
            req.match_pattern().unwrap_or_else(|| "<unmatched>".into())
        )
    })
}

/// The master key from config, from a key file, or generated into the data
/// directory on first start (mode 0600). A key file others can read is refused.
fn load_master_key(settings: &Settings) -> Result<MasterKey, StartupError> {
    if !settings.master_key.0.is_empty() {
        return MasterKey::from_hex(&settings.master_key.0).map_err(|e| StartupError::MasterKey {
            path: "`master_key` setting".into(),
            reason: e.to_string(),
        });
    }
    let path = settings.master_key_path();
    let err = |reason: String| StartupError::MasterKey {
        path: path.display().to_string(),
        reason,
    };
    match fs::metadata(&path) {
        Ok(meta) => {
            if meta.permissions().mode() & 0o077 != 0 {
                return Err(err(
                    "is readable by group or others; run `chmod 600` on it".into()
                ));
            }
            let text =
                zeroize::Zeroizing::new(fs::read_to_string(&path).map_err(|e| err(e.to_string()))?);
            MasterKey::from_hex(&text).map_err(|e| err(e.to_string()))
        }
        Err(e)
            if e.kind() == std::io::ErrorKind::NotFound
                && settings.master_key_file.as_os_str().is_empty() =>
        {
            create_master_key(&path).map_err(err)
        }
        Err(e) => Err(err(e.to_string())),
    }
}

fn create_master_key(path: &Path) -> Result<MasterKey, String> {
    let key = MasterKey::generate().map_err(|e| e.to_string())?;
    let mut file = fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)
        .map_err(|e| e.to_string())?;
    file.write_all(key.to_hex().as_bytes())
        .map_err(|e| e.to_string())?;
    file.sync_all().map_err(|e| e.to_string())?;
    log::info!("generated a new master key in {}", path.display());
    Ok(key)
}
