//! `otsd backup` and `otsd restore`.
//!
//! A backup is cut by whoever holds the database: the running server, asked
//! through its admin socket (sled keeps every other process out), or, with no
//! server running, this process. The file holds sealed records only (see
//! `store::backup`); the master key stays where it is and is the operator's to
//! keep apart.

use std::fs::{self, File};
use std::io::{self, BufReader, BufWriter, Read, Write};
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt};
use std::path::{Path, PathBuf};

use crate::admin::{self, AdminReply};
use crate::config::Settings;
use crate::store::{self, BackupError, BackupSummary, Store, StoreError};

#[derive(Debug, thiserror::Error)]
pub enum CommandError {
    #[error("cannot write the backup to {path}")]
    Output {
        path: PathBuf,
        #[source]
        source: io::Error,
    },
    #[error("cannot read {path}")]
    Input {
        path: PathBuf,
        #[source]
        source: io::Error,
    },
    #[error("cannot reach the server's admin socket in {path}")]
    Socket {
        path: PathBuf,
        #[source]
        source: io::Error,
    },
    #[error("{0}")]
    Server(String),
    #[error(
        "there is no otsd database at {path}: point --data-dir (or --config) at the \
         server's data directory"
    )]
    NoDatabase { path: PathBuf },
    #[error(
        "{path} is not empty (it holds {found}): a restore fills only an empty or absent \
         data directory (one holding only master.key, or what an interrupted restore \
         left, is fine)"
    )]
    NotEmpty { path: PathBuf, found: String },
    #[error("another `otsd restore` is writing {path}: wait for it to finish")]
    RestoreRunning { path: PathBuf },
    #[error("cannot restore from {path}: {source}")]
    Restore {
        path: PathBuf,
        #[source]
        source: BackupError,
    },
    #[error("the backup failed: {0}")]
    Backup(#[source] BackupError),
    #[error("cannot switch to the owner of {path}")]
    Owner {
        path: PathBuf,
        #[source]
        source: io::Error,
    },
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Where a backup goes: a file, written under a temporary name and renamed
/// once complete and synced, or standard output.
pub enum Target {
    File(PathBuf),
    Stdout,
}

impl Target {
    pub fn parse(arg: &Path) -> Self {
        if arg == Path::new("-") {
            Self::Stdout
        } else {
            Self::File(arg.to_owned())
        }
    }
}

/// `otsd backup`: a consistent backup of the server's database, written to
/// `target`, checked end to end on the way.
pub fn backup(settings: &Settings, target: &Target) -> Result<BackupSummary, CommandError> {
    // Opened before switching to the data directory's owner: the file is the
    // caller's (root's, say), not the service's.
    let (mut out, partial) = match target {
        Target::Stdout => (Box::new(io::stdout().lock()) as Box<dyn Write>, None),
        Target::File(path) => {
            let partial = partial_name(path);
            let file = fs::OpenOptions::new()
                .write(true)
                .create(true)
                .truncate(true)
                .mode(0o600)
                .open(&partial)
                .map_err(|source| CommandError::Output {
                    path: path.clone(),
                    source,
                })?;
            (
                Box::new(BufWriter::new(file)) as Box<dyn Write>,
                Some(partial),
            )
        }
    };
    let written = cut_into(settings, &mut out).and_then(|summary| {
        out.flush().map_err(|e| CommandError::Backup(e.into()))?;
        Ok(summary)
    });
    drop(out);
    match (written, target, partial) {
        (Ok(summary), Target::File(path), Some(partial)) => {
            publish(&partial, path).map_err(|source| CommandError::Output {
                path: path.clone(),
                source,
            })?;
            Ok(summary)
        }
        (Err(err), _, Some(partial)) => {
            let _ = fs::remove_file(partial);
            Err(err)
        }
        (written, _, _) => written,
    }
}

/// Gets the backup from the running server, or cuts it here when none runs;
/// on PostgreSQL, reads it straight from the database (a snapshot, while the
/// nodes go on serving).
fn cut_into(settings: &Settings, out: &mut dyn Write) -> Result<BackupSummary, CommandError> {
    if settings.database_url.is_set() {
        let options = postgres_options(settings)?;
        let store = Store::open_postgres(&options)?;
        let summary = store.backup(out).map_err(CommandError::Backup)?;
        store.close()?;
        return Ok(summary);
    }
    let data_dir = &settings.data_dir;
    let socket_error = |source| CommandError::Socket {
        path: data_dir.join(admin::SOCKET),
        source,
    };
    if let Some((reply, stream)) = admin::request_backup(data_dir).map_err(socket_error)? {
        return match reply {
            AdminReply::Backup { bytes } => {
                // Checked as it is copied: a connection cut short is a truncated
                // file, not a backup.
                let mut tee = Tee {
                    input: stream.take(bytes),
                    output: out,
                };
                store::verify_backup(&mut tee).map_err(CommandError::Backup)
            }
            AdminReply::Error { message } => Err(CommandError::Server(message)),
            _ => Err(CommandError::Server(
                "the server answered something else".into(),
            )),
        };
    }
    become_owner(data_dir)?;
    let path = settings.database_path();
    if !path.join("db").is_file() {
        return Err(CommandError::NoDatabase { path: path.clone() });
    }
    // The database is read as it is: no compaction on the way.
    let options = store::Options {
        compact_above_bytes: u64::MAX,
        ..super::convert::store_options(settings)
    };
    let store = Store::open_with(&path, &options)?;
    let summary = store.backup(out).map_err(CommandError::Backup)?;
    store.close()?;
    Ok(summary)
}

/// `otsd restore`: fills the configured data directory, which must be empty or
/// absent, from the backup in `file`. The database appears in it in one rename
/// at the end; a restore killed before that leaves a staging directory that
/// the server refuses to start beside, and that this command run again
/// starts over.
pub fn restore(settings: &Settings, file: &Path) -> Result<BackupSummary, CommandError> {
    let input = File::open(file).map_err(|source| CommandError::Input {
        path: file.to_owned(),
        source,
    })?;
    if settings.database_url.is_set() {
        let options = postgres_options(settings)?;
        return store::restore(
            &mut BufReader::new(input),
            store::RestoreTarget::Postgres(&options),
        )
        .map_err(|source| CommandError::Restore {
            path: file.to_owned(),
            source,
        });
    }
    let data_dir = &settings.data_dir;
    // What a restore killed before its last step left: its own staging
    // directory, which this restore starts over (see `store::restore`).
    let staging = store::restore_staging(&settings.database_path());
    let leftover = staging
        .file_name()
        .map(|name| name.to_string_lossy().into_owned());
    let created = match fs::read_dir(data_dir) {
        Ok(entries) => {
            let found: Vec<String> = entries
                .filter_map(|e| e.ok())
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .filter(|name| *name != *"master.key" && Some(name) != leftover.as_ref())
                .collect();
            if !found.is_empty() {
                return Err(CommandError::NotEmpty {
                    path: data_dir.clone(),
                    found: found.join(", "),
                });
            }
            become_owner(data_dir)?;
            if staging.exists() {
                if store::is_held(&staging) {
                    return Err(CommandError::RestoreRunning { path: staging });
                }
                log::warn!(
                    "starting over: {} was left by a restore that did not finish",
                    staging.display()
                );
            }
            false
        }
        Err(e) if e.kind() == io::ErrorKind::NotFound => {
            fs::DirBuilder::new()
                .recursive(true)
                .mode(0o700)
                .create(data_dir)
                .map_err(|source| CommandError::Output {
                    path: data_dir.clone(),
                    source,
                })?;
            true
        }
        Err(source) => {
            return Err(CommandError::Input {
                path: data_dir.clone(),
                source,
            });
        }
    };
    let restored = store::restore(
        &mut BufReader::new(input),
        store::RestoreTarget::Embedded {
            path: &settings.database_path(),
            cache_bytes: super::convert::store_options(settings).cache_bytes,
        },
    );
    restored.map_err(|source| {
        if created {
            let _ = fs::remove_dir_all(data_dir);
        }
        CommandError::Restore {
            path: file.to_owned(),
            source,
        }
    })
}

fn postgres_options(settings: &Settings) -> Result<store::PostgresOptions, CommandError> {
    super::convert::postgres_options(settings).map_err(|source| CommandError::Input {
        path: settings.database_password_file.clone(),
        source,
    })
}

fn become_owner(data_dir: &Path) -> Result<(), CommandError> {
    admin::act_as_data_dir_owner(data_dir).map_err(|source| CommandError::Owner {
        path: data_dir.to_owned(),
        source,
    })
}

fn partial_name(path: &Path) -> PathBuf {
    let mut name = path.as_os_str().to_owned();
    name.push(".partial");
    PathBuf::from(name)
}

/// Syncs a complete backup and gives it its name.
fn publish(partial: &Path, path: &Path) -> io::Result<()> {
    File::open(partial)?.sync_all()?;
    fs::rename(partial, path)?;
    match path.parent().filter(|p| !p.as_os_str().is_empty()) {
        Some(parent) => File::open(parent)?.sync_all(),
        None => Ok(()),
    }
}

/// Copies what is read through it to `output`.
struct Tee<'a, R> {
    input: R,
    output: &'a mut dyn Write,
}

impl<R: Read> Read for Tee<'_, R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.input.read(buf)?;
        self.output.write_all(&buf[..n])?;
        Ok(n)
    }
}
