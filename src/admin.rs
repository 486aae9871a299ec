//! `otsd user …` and `otsd backup` while the server runs.
//!
//! sled lets one process open a database. The running server therefore listens on
//! a Unix socket in the data directory (`admin.sock`, mode 0600 inside the 0700
//! data directory: only the service's user, and root, can connect), and the CLI
//! sends it one JSON command per connection (an [`AdminCommand`]; the answer is an [`AdminReply`]). When no server runs, the CLI opens
//! the database itself and does the same thing through [`execute`].

use serde::{Deserialize, Serialize};
use std::io::{BufRead, BufReader, Read, Write};
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::os::unix::net::{UnixListener, UnixStream};
use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::accounts::{AccountInfo, AccountName, Accounts};
use crate::store::{BackupError, Store};
use crate::supervisor::Shutdown;

/// The socket's file name inside the data directory.
pub const SOCKET: &str = "admin.sock";
/// Largest command line accepted (one JSON line; a password of the largest
/// size, every byte escaped, fits).
const MAX_COMMAND_LINE: u64 = 16 * 1024;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "command", rename_all = "snake_case")]
pub enum AdminCommand {
    Add {
        name: String,
    },
    List,
    Remove {
        name: String,
    },
    Token {
        name: String,
    },
    /// Sets the account's web password.
    Password {
        name: String,
        password: Typed,
    },
    /// A consistent backup: answered with [`AdminReply::Backup`], then its bytes.
    Backup,
}

/// Text a person typed that must not be printed or left behind: `Debug` shows
/// nothing of it, and it is wiped when dropped.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Typed(pub zeroize::Zeroizing<String>);

impl std::fmt::Debug for Typed {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("<typed>")
    }
}

/// The answer. Not `Debug`: it can carry a token.
#[derive(Serialize, Deserialize)]
#[serde(tag = "result", rename_all = "snake_case")]
pub enum AdminReply {
    Token {
        name: String,
        token: String,
        /// The account's extid (see `accounts::Issued`).
        #[serde(default)]
        extid: String,
    },
    Accounts {
        accounts: Vec<AccountInfo>,
    },
    Removed {
        name: String,
    },
    PasswordSet {
        name: String,
    },
    /// `bytes` bytes of backup file follow the line.
    Backup {
        bytes: u64,
    },
    Error {
        message: String,
    },
}

/// Carries out one account command; blocks (on the admin socket's thread, or
/// the command line's) until the store has answered.
pub fn execute(accounts: &Accounts, command: AdminCommand) -> AdminReply {
    crate::store::block_on(carry_out(accounts, command))
}

async fn carry_out(accounts: &Accounts, command: AdminCommand) -> AdminReply {
    let result = match command {
        AdminCommand::Add { name } => match AccountName::parse(&name) {
            Ok(n) => accounts.add(&n).await,
            Err(e) => Err(e),
        }
        .map(|issued| AdminReply::Token {
            name,
            token: issued.token.expose().to_owned(),
            extid: issued.extid,
        }),
        AdminCommand::Token { name } => match AccountName::parse(&name) {
            Ok(n) => accounts.rotate(&n).await,
            Err(e) => Err(e),
        }
        .map(|issued| AdminReply::Token {
            name,
            token: issued.token.expose().to_owned(),
            extid: issued.extid,
        }),
        AdminCommand::Remove { name } => match AccountName::parse(&name) {
            Ok(n) => accounts.remove(&n).await,
            Err(e) => Err(e),
        }
        .map(|()| AdminReply::Removed { name }),
        AdminCommand::Password { name, password } => match (
            AccountName::parse(&name),
            crate::accounts::Password::new(password.0),
        ) {
            (Ok(n), Ok(p)) => accounts.set_password(&n, &p).await,
            (Err(e), _) | (_, Err(e)) => Err(e),
        }
        .map(|()| AdminReply::PasswordSet { name }),
        AdminCommand::List => accounts
            .list()
            .await
            .map(|accounts| AdminReply::Accounts { accounts }),
        AdminCommand::Backup => {
            return AdminReply::Error {
                message: "a backup is not an account request".into(),
            };
        }
    };
    result.unwrap_or_else(|e| AdminReply::Error {
        message: e.to_string(),
    })
}

/// The server side: the socket, bound. [`AdminSocket::serve`] answers on it
/// (on a thread of the server's [`Supervisor`](crate::supervisor::Supervisor))
/// until the shutdown token says stop; dropping it (after serving, or unserved
/// when a later start-up step failed) removes the socket file.
pub struct AdminSocket {
    data_dir: PathBuf,
    listener: UnixListener,
    /// The same socket, for the stop hook: shutting it down wakes the blocked
    /// `accept` whatever became of the socket file. (Connecting to the file to
    /// wake it would wait for ever once someone removed the file, or put
    /// another in its place.)
    waker: Option<UnixListener>,
}

impl AdminSocket {
    /// Binds `<data_dir>/admin.sock`, replacing a stale file left by a crash (we hold
    /// the database lock, so no other server owns it).
    pub fn bind(data_dir: &Path) -> std::io::Result<Self> {
        let path = data_dir.join(SOCKET);
        let _ = std::fs::remove_file(&path);
        let listener = UnixListener::bind(&path)?;
        let socket = Self {
            data_dir: data_dir.to_owned(),
            waker: Some(listener.try_clone()?),
            listener,
        };
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600))?;
        Ok(socket)
    }

    /// Answers one command per connection until `shutdown` says stop; then
    /// the socket file goes (see `Drop`).
    pub fn serve(mut self, accounts: &Accounts, store: &Store, shutdown: &Shutdown) {
        if let Some(waker) = self.waker.take() {
            shutdown.on_stop(move || {
                // On Linux, shutting the listening socket down makes every
                // `accept` blocked on it return at once (EINVAL), and every
                // later one too.
                let _ = rustix::net::shutdown(&waker, rustix::net::Shutdown::Both);
            });
        }
        for stream in self.listener.incoming() {
            if shutdown.is_stopping() {
                break;
            }
            if let Ok(stream) = stream {
                serve_one(stream, accounts, store, &self.data_dir);
            }
        }
    }
}

impl Drop for AdminSocket {
    /// Removes the socket file, once served or when a later start-up step
    /// failed. Only if it still is a socket: someone may have removed it, or
    /// put another file in its place.
    fn drop(&mut self) {
        let path = self.data_dir.join(SOCKET);
        if std::fs::symlink_metadata(&path).is_ok_and(|m| {
            use std::os::unix::fs::FileTypeExt;
            m.file_type().is_socket()
        }) {
            let _ = std::fs::remove_file(&path);
        }
    }
}

fn serve_one(stream: UnixStream, accounts: &Accounts, store: &Store, data_dir: &Path) {
    let _ = stream.set_read_timeout(Some(Duration::from_secs(5)));
    let mut line = String::new();
    let read = BufReader::new((&stream).take(MAX_COMMAND_LINE)).read_line(&mut line);
    let reply = match read
        .ok()
        .and_then(|_| serde_json::from_str::<AdminCommand>(&line).ok())
    {
        Some(AdminCommand::Backup) => {
            log::info!("admin: backup");
            match send_backup(&stream, store, data_dir) {
                Ok(()) => return,
                Err(err) => {
                    log::warn!("admin: the backup failed: {err}");
                    AdminReply::Error {
                        message: format!("the server could not make the backup: {err}"),
                    }
                }
            }
        }
        Some(command) => {
            log::info!("admin: {}", describe(&command));
            execute(accounts, command)
        }
        None => AdminReply::Error {
            message: "malformed request".into(),
        },
    };
    if let Ok(mut text) = serde_json::to_string(&reply) {
        text.push('\n');
        let _ = (&stream).write_all(text.as_bytes());
    }
}

/// Cuts the backup into a file that has no name (created in the data directory,
/// which only the service's user can enter, and unlinked at once): writes stay
/// paused only while the file is written, not while a slow client reads.
/// Then answers with its length and streams it.
fn send_backup(stream: &UnixStream, store: &Store, data_dir: &Path) -> Result<(), BackupError> {
    use std::io::{Seek, SeekFrom};
    let path = data_dir.join(format!("backup.{}.partial", std::process::id()));
    let mut file = std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(&path)?;
    std::fs::remove_file(&path)?;
    let summary = store.backup(&mut std::io::BufWriter::new(&mut file))?;
    let bytes = file.seek(SeekFrom::End(0))?;
    file.seek(SeekFrom::Start(0))?;
    log::info!(
        "admin: backup of {} and {}, {bytes} bytes",
        crate::format::count(summary.secrets, "secret", "secrets"),
        crate::format::count(summary.accounts, "account", "accounts")
    );
    let _ = stream.set_write_timeout(Some(Duration::from_secs(60)));
    let mut head =
        serde_json::to_string(&AdminReply::Backup { bytes }).map_err(std::io::Error::other)?;
    head.push('\n');
    let mut out = stream;
    out.write_all(head.as_bytes())?;
    std::io::copy(&mut file, &mut out)?;
    Ok(())
}

fn describe(command: &AdminCommand) -> String {
    match command {
        AdminCommand::Add { name } => format!("add account {name}"),
        AdminCommand::List => "list accounts".into(),
        AdminCommand::Remove { name } => format!("remove account {name}"),
        AdminCommand::Token { name } => format!("new token for account {name}"),
        AdminCommand::Password { name, .. } => format!("new password for account {name}"),
        AdminCommand::Backup => "backup".into(),
    }
}

/// The client side: sends one command to a running server. `Ok(None)` when no
/// server answers on the socket.
pub fn send(data_dir: &Path, command: &AdminCommand) -> std::io::Result<Option<AdminReply>> {
    Ok(connect(data_dir, command, Duration::from_secs(10))?.map(|(reply, _)| reply))
}

/// Asks a running server for a backup: its length and a reader of its bytes.
/// `Ok(None)` when no server answers on the socket.
pub fn request_backup(data_dir: &Path) -> std::io::Result<Option<(AdminReply, impl Read)>> {
    // The server answers once the cut is written: minutes for a large database.
    connect(data_dir, &AdminCommand::Backup, Duration::from_secs(600))
}

/// Sends one command; the answer's line, and the connection positioned after it.
fn connect(
    data_dir: &Path,
    command: &AdminCommand,
    timeout: Duration,
) -> std::io::Result<Option<(AdminReply, BufReader<UnixStream>)>> {
    let stream = match UnixStream::connect(data_dir.join(SOCKET)) {
        Ok(stream) => stream,
        Err(e)
            if matches!(
                e.kind(),
                std::io::ErrorKind::NotFound | std::io::ErrorKind::ConnectionRefused
            ) =>
        {
            return Ok(None);
        }
        Err(e) => return Err(e),
    };
    stream.set_read_timeout(Some(timeout))?;
    let mut text = serde_json::to_string(command).map_err(std::io::Error::other)?;
    text.push('\n');
    (&stream).write_all(text.as_bytes())?;
    let mut reader = BufReader::new(stream);
    let mut line = String::new();
    reader.read_line(&mut line)?;
    let reply = serde_json::from_str(&line).map_err(std::io::Error::other)?;
    Ok(Some((reply, reader)))
}

/// When run by root on a data directory another user owns (the `otsd` service
/// user of the package), switch to that user before touching anything, so root
/// never leaves files the service cannot read. A no-op for everyone else.
///
/// Only for a process that still has one thread (the offline commands call it
/// before anything starts one): the system calls change the calling thread's
/// credentials, which is then the whole process; with other threads running
/// it refuses rather than leave them root.
pub fn act_as_data_dir_owner(data_dir: &Path) -> std::io::Result<()> {
    use rustix::process::{Gid, Uid, geteuid};
    use rustix::thread::{set_thread_gid, set_thread_groups, set_thread_uid};
    use std::os::unix::fs::MetadataExt;
    if !geteuid().is_root() {
        return Ok(());
    }
    let meta = match std::fs::metadata(data_dir) {
        Ok(meta) => meta,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
        Err(e) => return Err(e),
    };
    if meta.uid() == 0 {
        return Ok(());
    }
    if threads()? != 1 {
        return Err(std::io::Error::other(
            "other threads are running; only a single-threaded process can switch user",
        ));
    }
    // Order matters: supplementary groups and gid must go while we are still root.
    set_thread_groups(&[])?;
    set_thread_gid(Gid::from_raw(meta.gid()))?;
    set_thread_uid(Uid::from_raw(meta.uid()))?;
    Ok(())
}

/// How many threads this process has.
fn threads() -> std::io::Result<usize> {
    Ok(std::fs::read_dir("/proc/self/task")?.count())
}
