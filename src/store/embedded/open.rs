//! Opening a database: telling a new one from a lost one, and its format version.

use std::path::{Path, PathBuf};

use super::StoreError;
use super::chunked::RecordTree;
use super::durable::Flusher;

/// Opens (or creates) the sled database in `path`, refusing one that lost its
/// format marker or was written in another format (see [`super::SledStore::open`]).
pub(super) fn open_database(path: &Path, cache_bytes: u64) -> Result<sled::Db, StoreError> {
    let error = |reason: String| StoreError::Open {
        path: path.to_owned(),
        reason,
    };
    remove_compaction_leftover(path)?;
    refuse_interrupted_restore(path)?;
    let db = if is_absent_or_empty(path) {
        create(path, cache_bytes)?;
        reopen_created(path, cache_bytes)?
    } else {
        // Retried as after a creation: the same process may have closed this
        // database a moment ago (a compaction, a test's reopen), and sled's
        // threads release its lock a little after the last handle goes.
        reopen_created(path, cache_bytes)?
    };
    match db.get(FORMAT_KEY)? {
        Some(version) if *version == *FORMAT_VERSION => {}
        Some(version) if *version == *FORMAT_WHOLE_RECORDS => split_long_records(&db)?,
        Some(version) if *version == *FORMAT_CHUNKED => {
            // Nothing to convert: records of format 2 are read as they are
            // (`records::Record::from_format_2`), accounts get their extid
            // when the database opens. The new marker keeps an older otsd,
            // which cannot read the records written from now on, out.
            db.insert(FORMAT_KEY, FORMAT_VERSION)?;
            db.flush()?;
            log::info!(
                "the database is now in format {}",
                String::from_utf8_lossy(FORMAT_VERSION)
            );
        }
        Some(version) => {
            return Err(error(format!(
                "it is in database format {found}, and this otsd reads format {ours} \
                 and converts format 2 and format 3, no other; run the otsd that wrote it, or move the directory away to \
                 start empty (format 1 was never released and there is no conversion)",
                found = String::from_utf8_lossy(&version),
                ours = String::from_utf8_lossy(FORMAT_VERSION),
            )));
        }
        None => {
            return Err(error(
                "it has lost its contents or is not an otsd database (its format marker \
                 is missing); keep it as it is and restore the data directory from a \
                 backup (moving it away would start an empty database without its secrets)"
                    .into(),
            ));
        }
    }
    for name in RECORD_TREES {
        let removed = RecordTree::open(&db, name)?.sweep()?;
        if removed > 0 {
            log::info!("removed {removed} chunks of {name} that no record names (left by a crash)");
        }
    }
    Ok(db)
}

/// The trees whose records may be stored in chunks (see `chunked`).
const RECORD_TREES: [&str; 2] = ["secrets", "requests"];

/// Converts a database of format 2 to format 4: every record longer than a
/// chunk moves into chunks, then the marker changes. Interrupted, it starts
/// again at the next open (records already moved are passed over).
fn split_long_records(db: &sled::Db) -> Result<(), StoreError> {
    let mut moved = 0;
    for name in RECORD_TREES {
        moved += RecordTree::open(db, name)?.split_long_records()?;
    }
    db.insert(FORMAT_KEY, FORMAT_VERSION)?;
    db.flush()?;
    log::info!(
        "converted the database to format {}: {moved} long records now stored in chunks",
        String::from_utf8_lossy(FORMAT_VERSION)
    );
    Ok(())
}

/// The default tree's record that marks a complete otsd database, and its value.
const FORMAT_KEY: &[u8] = b"otsd.format";
/// Format 4: format 3, with records of format 3 (API v2's fields, accounts'
/// extids; see `records`).
const FORMAT_VERSION: &[u8] = DATABASE_FORMAT.as_bytes();
/// Format 3: format 2 with every record longer than 4 KiB stored in chunks
/// (see `chunked`), so that sled never writes a blob file. Opened and marked
/// format 4.
const FORMAT_CHUNKED: &[u8] = b"3";
/// Format 2: one record per secret under increasing ids, each whole (format 1,
/// never in a release, kept a secret and its receipt apart under keyed
/// hashes). Opened and converted to format 4.
const FORMAT_WHOLE_RECORDS: &[u8] = b"2";
/// The database format this otsd reads and writes (see `FORMAT_VERSION`).
pub const DATABASE_FORMAT: &str = "4";

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

/// Creates a marked database at `path` (see [`SledStore::open`]). A staging directory
/// left by a creation that was interrupted holds nothing and is started over.
fn create(path: &Path, cache_bytes: u64) -> Result<(), StoreError> {
    let staging = stage(path, ".new", cache_bytes, |_| Ok(()))?;
    publish(&staging, path).map_err(|e| error(path, e))
}

pub(super) fn error(path: &Path, e: impl std::fmt::Display) -> StoreError {
    StoreError::Open {
        path: path.to_owned(),
        reason: e.to_string(),
    }
}

/// `path` with `suffix` added: a sibling directory on the same file system.
fn sibling(path: &Path, suffix: &str) -> PathBuf {
    let mut name = path.as_os_str().to_owned();
    name.push(suffix);
    PathBuf::from(name)
}

/// Builds a complete, marked database beside `path` (in `path` + `suffix`): the
/// format marker, then whatever `fill` writes, flushed, closed and synced. A
/// staging directory left from before holds nothing of value and is started
/// over; one that `fill` failed on is removed. Returns the staging directory.
pub(super) fn stage(
    path: &Path,
    suffix: &str,
    cache_bytes: u64,
    fill: impl FnOnce(&sled::Db) -> Result<(), StoreError>,
) -> Result<PathBuf, StoreError> {
    let staging = sibling(path, suffix);
    if staging.exists() {
        std::fs::remove_dir_all(&staging).map_err(|e| error(&staging, e))?;
    }
    let built = (|| {
        let db = open_sled(&staging, cache_bytes)?;
        db.insert(FORMAT_KEY, FORMAT_VERSION)?;
        fill(&db)?;
        Flusher::new(db, &staging, Default::default())
            .map_err(|e| error(&staging, e))?
            .0
            .flush()?;
        // sled does not sync directories: make the staged files' names durable
        // before a rename publishes them.
        std::fs::File::open(&staging)
            .and_then(|dir| dir.sync_all())
            .map_err(|e| error(&staging, e))
    })();
    if let Err(err) = built {
        let _ = std::fs::remove_dir_all(&staging);
        return Err(err);
    }
    Ok(staging)
}

/// Moves a staged database to `path`, which must be absent or an empty
/// directory, durably.
pub(super) fn publish(staging: &Path, path: &Path) -> std::io::Result<()> {
    if path.exists() {
        std::fs::remove_dir(path)?;
    }
    std::fs::rename(staging, path)?;
    sync_parent(path)
}

/// Puts a staged database in the place of the one at `path` in one step
/// (`renameat2` with `RENAME_EXCHANGE`: a crash leaves one or the other whole at
/// `path`, never neither), then removes the old one. The old database must be
/// closed.
pub(super) fn exchange(staging: &Path, path: &Path) -> std::io::Result<()> {
    use rustix::fs::{CWD, RenameFlags, renameat_with};
    renameat_with(CWD, staging, CWD, path, RenameFlags::EXCHANGE)?;
    sync_parent(path)?;
    std::fs::remove_dir_all(staging)
}

fn sync_parent(path: &Path) -> std::io::Result<()> {
    match path.parent().filter(|p| !p.as_os_str().is_empty()) {
        Some(parent) => std::fs::File::open(parent)?.sync_all(),
        None => Ok(()),
    }
}

/// The staging directory of `otsd restore` (see `backup::restore`): the
/// database is built there and renamed to its place as the last step, so it
/// exists only while a restore runs or after one was interrupted.
pub(super) const RESTORING: &str = ".restore";

/// Where `otsd restore` builds the database that is to be at `path`.
pub fn restore_staging(path: &Path) -> PathBuf {
    sibling(path, RESTORING)
}

/// Takes the exclusive lock sled takes on its `db` file, without waiting.
fn try_lock(file: &std::fs::File) -> rustix::io::Result<()> {
    rustix::fs::flock(file, rustix::fs::FlockOperation::NonBlockingLockExclusive)
}

/// Whether another process holds the database in `dir` (sled's lock on its
/// `db` file); a directory without one is not held.
pub fn is_held(dir: &Path) -> bool {
    let Ok(file) = std::fs::File::open(dir.join("db")) else {
        return false;
    };
    // Dropping the file releases the lock again.
    try_lock(&file).is_err()
}

/// Refuses to open (or create) the database at `path` while a restore's
/// staging directory is beside it. Without this, a restore killed before its
/// last rename left a data directory with the master key and no database, and
/// the server created an empty one there and served it: every old link
/// answered "Unknown secret", and nothing said why.
fn refuse_interrupted_restore(path: &Path) -> Result<(), StoreError> {
    let staging = restore_staging(path);
    if !staging.exists() {
        return Ok(());
    }
    let what_to_do = if is_absent_or_empty(path) {
        format!(
            "run the same `otsd restore FILE` again (it starts over), or, to start \
             with an empty database instead, remove {}",
            staging.display()
        )
    } else {
        format!(
            "to go on with the database as it is, remove {}",
            staging.display()
        )
    };
    Err(error(
        path,
        format!(
            "an `otsd restore` is running, or was interrupted, and left its unfinished \
             copy in {}; the server does not start where a restore was meant: {what_to_do}",
            staging.display()
        ),
    ))
}

/// The staging directory of a compaction (see `compact`).
pub(super) const COMPACTING: &str = ".compact";

/// Removes what an interrupted compaction left beside `path`: before its
/// exchange, a partial copy; after it, the old database. Either way the database
/// at `path` is whole.
fn remove_compaction_leftover(path: &Path) -> Result<(), StoreError> {
    let leftover = sibling(path, COMPACTING);
    if leftover.exists() {
        std::fs::remove_dir_all(&leftover).map_err(|e| error(&leftover, e))?;
        log::warn!(
            "removed {}, left by a compaction that was interrupted",
            leftover.display()
        );
    }
    Ok(())
}

/// Waits (at most a few seconds) until no handle holds the database at `path`:
/// sled's threads keep its file, and its lock, a moment after the last handle
/// is dropped (see [`reopen_created`]).
pub(super) fn wait_until_released(path: &Path) -> Result<(), StoreError> {
    let file = std::fs::File::open(path.join("db")).map_err(|e| error(path, e))?;
    for _ in 0..250 {
        // Closing the file below releases the lock again.
        if try_lock(&file).is_ok() {
            return Ok(());
        }
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    Err(StoreError::Locked {
        path: path.to_owned(),
    })
}

/// Opens the database `create` (or this process) just closed, retrying "locked"
/// for up to a second. Another process that holds the database is reported a
/// second later than without the retry.
///
/// Closing does not release sled's lock at once: a write sled handed to its
/// thread pool holds the database file (through its `Arc` on the log) until that
/// thread drops the closure, which can come after the flush that waited for the
/// write has returned. Seen without any fork: the real binary, creating a fresh
/// data directory on a loaded machine, refused to start as "in use by another
/// process" (2 of 6 runs of the accounts tests beside the API tests).
pub(super) fn reopen_created(path: &Path, cache_bytes: u64) -> Result<sled::Db, StoreError> {
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
