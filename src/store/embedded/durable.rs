//! Flushing that survives a power cut, not only a crash of the process, and the
//! commit mark that tells at start-up whether sled still has every commit.
//!
//! sled 0.34's `flush` writes its log with `pwrite` + `sync_file_range`: that puts
//! the bytes on their way to the disk, but it neither records the file's new size
//! nor asks the disk to empty its write cache. A process crash loses nothing of
//! that (the kernel still has it); a power cut can. So every flush here is
//! sled's flush, then `fdatasync` of the log.
//!
//! sled also writes very large log messages to blob files of their own, which it
//! never syncs and which no flush can order before the log entry that points to
//! them; otsd's records are kept small enough that it never does (see
//! `chunked`). A database written before that may still hold blob files: each
//! flush syncs every blob file that is new or has grown since it last synced
//! it, which narrows that window for them but cannot close it.

use std::collections::HashMap;
use std::ffi::OsString;
use std::fs::File;
use std::io;
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

use super::StoreError;

/// Set once a flush has failed. sled 0.34 keeps the first I/O error of its log
/// writer (a full disk, say) and returns it from every later operation, reads
/// included, until the database is opened again: while it is set the store
/// refuses everything as [`StoreError::Unavailable`], and the server's
/// recovery thread (`app::recover`) reopens the database in place once the
/// disk has room (`SledStore::reopen_after_failure`), which then clears it.
///
/// A flag, not a channel: the server's recovery thread polls it (one atomic
/// load), so it needs no wake-up of its own and stops on the server's one
/// shutdown token like every other thread.
#[derive(Default)]
pub struct Failure {
    failed: AtomicBool,
}

impl Failure {
    pub(super) fn set(&self) {
        self.failed.store(true, Ordering::SeqCst);
    }

    /// Clears the flag, once the failed database was replaced by one that
    /// writes: a later failure is noticed afresh.
    pub(super) fn reset(&self) {
        self.failed.store(false, Ordering::SeqCst);
    }

    pub fn is_set(&self) -> bool {
        self.failed.load(Ordering::SeqCst)
    }
}

/// sled's own record of the last commit: the number of the last flush.
const COMMIT_KEY: &[u8] = b"otsd.commit";
/// The same number kept outside sled's log, written after each flush.
pub(super) const MARK_FILE: &str = "otsd.committed";

pub(super) struct Flusher {
    db: sled::Db,
    log: File,
    blobs: PathBuf,
    /// Blob files already synced, with their length then; pruned to those that
    /// still exist.
    synced_blobs: Mutex<HashMap<OsString, u64>>,
    /// The commit mark; held through a whole flush, so flushes are numbered in
    /// the order they reach the disk.
    mark: Mutex<Mark>,
    pub(super) failure: Arc<Failure>,
}

/// The commit mark: every flush writes its number into sled before it flushes,
/// and into the mark file once the flush is on disk. sled recovers from damage
/// to its log by dropping what it cannot read (a file cut short, a damaged
/// block), and then opens as if those commits never were; the mark file, which
/// sled does not touch, still has the number of the last acknowledged one.
///
/// The mark file only ever trails the database (it is written after the flush
/// it counts), so a write of it that a power cut loses makes the check more
/// lenient, never wrong. To keep it from trailing by much after a power cut,
/// it is synced at most once every [`MARK_SYNC_EVERY`] (and when the database
/// closes): a power cut loses at most that long of its count, so the check
/// still catches the loss of any commit acknowledged before then. Its cost per
/// flush is one sled insert and one 16-byte `pwrite`, plus an `fdatasync` a
/// second under load.
struct Mark {
    file: File,
    last: u64,
    synced: std::time::Instant,
}

/// How long the mark file may go unsynced while commits go on.
const MARK_SYNC_EVERY: std::time::Duration = std::time::Duration::from_secs(1);

/// What [`Flusher::new`] found: sled has every commit the mark file counted,
/// or commits are missing.
pub(super) enum Found {
    Whole,
    Missing { in_database: u64, acknowledged: u64 },
}

impl Mark {
    fn encode(n: u64) -> [u8; 16] {
        let mut bytes = [0u8; 16];
        bytes[..8].copy_from_slice(&n.to_le_bytes());
        bytes[8..].copy_from_slice(&(!n).to_le_bytes());
        bytes
    }

    /// The number in the file; `None` if it is missing or torn.
    fn read(file: &File) -> io::Result<Option<u64>> {
        let mut bytes = [0u8; 16];
        match file.read_exact_at(&mut bytes, 0) {
            Ok(()) => {}
            Err(e) if e.kind() == io::ErrorKind::UnexpectedEof => return Ok(None),
            Err(e) => return Err(e),
        }
        let n = u64::from_le_bytes(bytes[..8].try_into().unwrap_or_default());
        let check = u64::from_le_bytes(bytes[8..].try_into().unwrap_or_default());
        Ok((check == !n).then_some(n))
    }

    fn write(&self, n: u64) -> io::Result<()> {
        self.file.write_all_at(&Self::encode(n), 0)
    }

    /// Syncs the file if it has not been for [`MARK_SYNC_EVERY`].
    fn sync_if_due(&mut self) -> io::Result<()> {
        if self.synced.elapsed() >= MARK_SYNC_EVERY {
            self.file.sync_data()?;
            self.synced = std::time::Instant::now();
        }
        Ok(())
    }
}

impl Flusher {
    /// `dir` is the directory sled was opened in: its log is `dir/db`, its blobs
    /// are in `dir/blobs/`, the mark file is `dir/otsd.committed`. Also says
    /// whether sled still has every commit the mark file counted.
    pub(super) fn new(
        db: sled::Db,
        dir: &Path,
        failure: Arc<Failure>,
    ) -> io::Result<(Self, Found)> {
        let file = std::fs::OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(dir.join(MARK_FILE))?;
        let in_database = match db.get(COMMIT_KEY).map_err(io::Error::other)? {
            Some(bytes) => u64::from_be_bytes(
                bytes
                    .as_ref()
                    .try_into()
                    .map_err(|_| io::Error::other("the commit number is damaged"))?,
            ),
            None => 0,
        };
        let found = match Mark::read(&file)? {
            Some(acknowledged) if acknowledged > in_database => Found::Missing {
                in_database,
                acknowledged,
            },
            _ => Found::Whole,
        };
        // The mark file's name and sled's configuration file must survive a
        // power cut too (sled syncs neither): an empty `conf` sled rewrites,
        // but a mark file lost with its directory entry would count nothing.
        file.sync_all()?;
        if let Ok(conf) = File::open(dir.join("conf")) {
            conf.sync_all()?;
        }
        File::open(dir)?.sync_all()?;
        let flusher = Self {
            log: File::open(dir.join("db"))?,
            blobs: dir.join("blobs"),
            synced_blobs: Mutex::new(HashMap::new()),
            mark: Mutex::new(Mark {
                file,
                last: in_database,
                synced: std::time::Instant::now(),
            }),
            failure,
            db,
        };
        Ok((flusher, found))
    }

    /// After a loss the operator accepted: the mark file is brought down to what
    /// sled has, durably, so the next start does not refuse again.
    pub(super) fn accept_loss(&self) -> io::Result<()> {
        let mark = self.mark.lock().unwrap_or_else(|e| e.into_inner());
        mark.write(mark.last)?;
        mark.file.sync_data()
    }

    /// Everything written to the database before the call is on stable storage
    /// when this returns `Ok`, and the commit mark counts it.
    pub(super) fn flush(&self) -> Result<(), StoreError> {
        let mut mark = self.mark.lock().unwrap_or_else(|e| e.into_inner());
        let number = mark.last + 1;
        let flushed = self
            .db
            .insert(COMMIT_KEY, &number.to_be_bytes())
            .and_then(|_| self.db.flush())
            .map_err(StoreError::from)
            .and_then(|_| {
                self.sync_blobs()
                    .and_then(|()| self.log.sync_data())
                    .map_err(|e| StoreError::Sled(e.into()))
            });
        if let Err(err) = flushed {
            self.failure.set();
            return Err(err);
        }
        mark.last = number;
        if let Err(err) = mark.write(number).and_then(|()| mark.sync_if_due()) {
            // The flush itself is durable; only the later check is weaker.
            log::warn!("writing the commit mark failed: {err}");
        }
        Ok(())
    }

    fn sync_blobs(&self) -> io::Result<()> {
        let entries = match std::fs::read_dir(&self.blobs) {
            Ok(entries) => entries,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(()),
            Err(e) => return Err(e),
        };
        let mut synced = self.synced_blobs.lock().unwrap_or_else(|e| e.into_inner());
        let mut present = HashMap::with_capacity(synced.len());
        let mut new_names = false;
        for entry in entries {
            let name = entry?.file_name();
            // Opened before its length is taken: what is synced is at least
            // what is recorded, also for a blob sled is still writing.
            let file = match File::open(self.blobs.join(&name)) {
                Ok(file) => file,
                // sled removed it in the meantime: nothing left to sync.
                Err(e) if e.kind() == io::ErrorKind::NotFound => continue,
                Err(e) => return Err(e),
            };
            let length = file.metadata()?.len();
            match synced.get(&name) {
                Some(&done) if done == length => {}
                before => {
                    file.sync_data()?;
                    new_names |= before.is_none();
                }
            }
            present.insert(name, length);
        }
        *synced = present;
        if new_names {
            File::open(&self.blobs)?.sync_all()?;
        }
        Ok(())
    }
}

impl Drop for Flusher {
    /// The mark's last count on disk when the database closes (see [`Mark`]).
    fn drop(&mut self) {
        let mark = self.mark.get_mut().unwrap_or_else(|e| e.into_inner());
        if let Err(err) = mark.file.sync_data() {
            log::warn!("syncing the commit mark failed: {err}");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A blob file seen while sled was still writing it (0, 4 or 5 bytes: sled
    /// creates it, then writes a checksum, a kind byte, the value) is synced
    /// again once it has grown: remembering it by name alone left the partial
    /// file the only synced one, and after a power cut sled found it cut short.
    #[test]
    fn a_blob_file_that_grew_since_it_was_synced_is_synced_again() {
        let dir = tempfile::tempdir().unwrap();
        let db = sled::Config::new().path(dir.path()).open().unwrap();
        let (flusher, _) = Flusher::new(db, dir.path(), Arc::default()).unwrap();
        std::fs::create_dir_all(dir.path().join("blobs")).unwrap();
        let blob = dir.path().join("blobs/42");
        std::fs::write(&blob, [1, 2, 3, 4, 5]).unwrap();
        flusher.flush().unwrap();
        assert_eq!(
            flusher.synced_blobs.lock().unwrap()[&OsString::from("42")],
            5
        );

        std::fs::write(&blob, vec![9u8; 200_000]).unwrap();
        flusher.flush().unwrap();
        assert_eq!(
            flusher.synced_blobs.lock().unwrap()[&OsString::from("42")],
            200_000
        );
    }

    /// The commit mark is on disk when the database closes, so it counts the
    /// last commit also after a power cut that follows a clean stop.
    #[test]
    fn the_mark_file_counts_the_last_flush_when_the_database_closes() {
        let dir = tempfile::tempdir().unwrap();
        let db = sled::Config::new().path(dir.path()).open().unwrap();
        let (flusher, _) = Flusher::new(db, dir.path(), Arc::default()).unwrap();
        for _ in 0..3 {
            flusher.flush().unwrap();
        }
        drop(flusher);
        let file = File::open(dir.path().join(MARK_FILE)).unwrap();
        assert_eq!(Mark::read(&file).unwrap(), Some(3));
    }

    /// A value too large for sled's log goes to a blob file of its own: the flush
    /// finds it and syncs it.
    #[test]
    fn a_flush_syncs_the_blob_files_sled_writes_for_large_values() {
        let dir = tempfile::tempdir().unwrap();
        let db = sled::Config::new().path(dir.path()).open().unwrap();
        let (flusher, _) = Flusher::new(db.clone(), dir.path(), Arc::default()).unwrap();
        flusher.flush().unwrap();
        assert!(flusher.synced_blobs.lock().unwrap().is_empty());

        db.insert(b"large", vec![7u8; 300_000]).unwrap();
        flusher.flush().unwrap();
        let on_disk: HashMap<OsString, u64> = std::fs::read_dir(dir.path().join("blobs"))
            .unwrap()
            .map(|entry| {
                let entry = entry.unwrap();
                (entry.file_name(), entry.metadata().unwrap().len())
            })
            .collect();
        assert!(!on_disk.is_empty(), "sled wrote the value as a blob");
        assert_eq!(*flusher.synced_blobs.lock().unwrap(), on_disk);
    }
}
