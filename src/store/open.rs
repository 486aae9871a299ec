//! Opening a database: telling a new one from a lost one, and its format version.

use std::path::{Path, PathBuf};

use super::StoreError;
use super::durable::Flusher;

/// Opens (or creates) the sled database in `path`, refusing one that lost its
/// format marker or was written in another format (see [`super::Store::open`]).
pub(super) fn open_database(path: &Path, cache_bytes: u64) -> Result<sled::Db, StoreError> {
    let error = |reason: String| StoreError::Open {
        path: path.to_owned(),
        reason,
    };
    let db = if is_absent_or_empty(path) {
        create(path, cache_bytes).map_err(|e| error(e.to_string()))?;
        reopen_created(path, cache_bytes)?
    } else {
        open_sled(path, cache_bytes)?
    };
    match db.get(FORMAT_KEY)? {
        Some(version) if *version == *FORMAT_VERSION => Ok(db),
        Some(version) => Err(error(format!(
            "it is in database format {found}, and this otsd reads format {ours} only; \
             run the otsd that wrote it, or move the directory away to start empty \
             (format 1 was never released and there is no conversion)",
            found = String::from_utf8_lossy(&version),
            ours = String::from_utf8_lossy(FORMAT_VERSION),
        ))),
        None => Err(error(
            "it has lost its contents or is not an otsd database (its format marker \
             is missing); keep it as it is and restore the data directory from a \
             backup (moving it away would start an empty database without its secrets)"
                .into(),
        )),
    }
}

/// The default tree's record that marks a complete otsd database, and its value.
const FORMAT_KEY: &[u8] = b"otsd.format";
/// Format 2: one record per secret under increasing ids (format 1, never in a
/// release, kept a secret and its receipt apart under keyed hashes).
const FORMAT_VERSION: &[u8] = b"2";

/// The suffix sled 0.34.7 gives a snapshot while it writes it.
const UNFINISHED_SNAPSHOT: &str = ".generating";

/// Removes every `snap.*.generating` file in the database directory.
///
/// sled 0.34.7 writes a snapshot to `snap.<lsn>.generating`, syncs it, and only
/// then renames it to `snap.<lsn>`; but when it opens a database it takes the
/// newest `snap.*` file of all, and a `.generating` one sorts after the finished
/// snapshot of the same point. A crash while a snapshot was being written (sled
/// writes one at every start) therefore left a database sled refused as corrupt
/// ("Read corrupted data at file offset None"). Such a file is never needed: the
/// snapshot only shortens recovery, and without it sled replays its log from the
/// previous finished snapshot, which it deletes only after the rename.
fn remove_unfinished_snapshots(path: &Path) -> std::io::Result<()> {
    let entries = match std::fs::read_dir(path) {
        Ok(entries) => entries,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
        Err(e) => return Err(e),
    };
    for entry in entries {
        let name = entry?.file_name();
        let name = name.to_string_lossy();
        if name.starts_with("snap.") && name.ends_with(UNFINISHED_SNAPSHOT) {
            std::fs::remove_file(path.join(&*name))?;
            log::warn!(
                "removed {name}, a snapshot sled did not finish writing (a crash while \
                 it wrote it); the database is recovered from its log"
            );
        }
    }
    Ok(())
}

fn is_absent_or_empty(path: &Path) -> bool {
    match std::fs::read_dir(path) {
        Ok(mut entries) => entries.next().is_none(),
        Err(e) => e.kind() == std::io::ErrorKind::NotFound,
    }
}

/// Creates a marked database at `path` (see [`Store::open`]). A staging directory
/// left by a creation that was interrupted holds nothing and is started over.
fn create(path: &Path, cache_bytes: u64) -> std::io::Result<()> {
    let mut staging = path.as_os_str().to_owned();
    staging.push(".new");
    let staging = PathBuf::from(staging);
    if staging.exists() {
        std::fs::remove_dir_all(&staging)?;
    }
    {
        let db = open_sled(&staging, cache_bytes).map_err(std::io::Error::other)?;
        db.insert(FORMAT_KEY, FORMAT_VERSION)
            .map_err(std::io::Error::other)?;
        Flusher::new(db, &staging)?
            .0
            .flush()
            .map_err(std::io::Error::other)?;
    }
    // sled does not sync directories: make the staged files' names durable
    // before the rename publishes them.
    std::fs::File::open(&staging)?.sync_all()?;
    if path.exists() {
        std::fs::remove_dir(path)?;
    }
    std::fs::rename(&staging, path)?;
    if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
        std::fs::File::open(parent)?.sync_all()?;
    }
    Ok(())
}

/// Opens the database `create` just closed, retrying "locked" for up to a second.
///
/// Closing does not release sled's lock at once: a write sled handed to its
/// thread pool holds the database file (through its `Arc` on the log) until that
/// thread drops the closure, which can come after the flush that waited for the
/// write has returned. Seen without any fork: the real binary, creating a fresh
/// data directory on a loaded machine, refused to start as "in use by another
/// process" (2 of 6 runs of the accounts tests beside the API tests).
fn reopen_created(path: &Path, cache_bytes: u64) -> Result<sled::Db, StoreError> {
    let mut tries = 0;
    loop {
        match open_sled(path, cache_bytes) {
            Err(StoreError::Locked { .. }) if tries < 50 => {
                tries += 1;
                std::thread::sleep(std::time::Duration::from_millis(20));
            }
            other => return other,
        }
    }
}

/// sled's open, with a held lock and a panic on corruption turned into errors,
/// after clearing away any snapshot sled left unfinished.
fn open_sled(path: &Path, cache_bytes: u64) -> Result<sled::Db, StoreError> {
    remove_unfinished_snapshots(path).map_err(|e| StoreError::Open {
        path: path.to_owned(),
        reason: format!("cannot remove an unfinished snapshot: {e}"),
    })?;
    let config = sled::Config::new().path(path).cache_capacity(cache_bytes);
    let opened = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| config.open()));
    match opened {
        Ok(Ok(db)) => Ok(db),
        Ok(Err(sled::Error::Io(err)))
            if err.kind() == std::io::ErrorKind::WouldBlock || err.to_string().contains("lock") =>
        {
            Err(StoreError::Locked {
                path: path.to_owned(),
            })
        }
        Ok(Err(err)) => Err(StoreError::Open {
            path: path.to_owned(),
            reason: err.to_string(),
        }),
        Err(_) => Err(StoreError::Open {
            path: path.to_owned(),
            reason: "the database is corrupt".into(),
        }),
    }
}
