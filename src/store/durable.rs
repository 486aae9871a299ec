//! Flushing that survives a power cut, not only a crash of the process.
//!
//! sled 0.34's `flush` writes its log with `pwrite` + `sync_file_range`: that puts
//! the bytes on their way to the disk, but it neither records the file's new size
//! nor asks the disk to empty its write cache, and the blob files sled writes for
//! very large nodes (accounts' 100 kB secrets) are never synced at all. A process
//! crash loses nothing of that (the kernel still has it); a power cut can. So
//! every flush here is sled's flush, then `fdatasync` of each new blob file (and
//! of their directory), then `fdatasync` of the log.

use std::collections::HashSet;
use std::ffi::OsString;
use std::fs::File;
use std::io;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use super::StoreError;

pub(super) struct Flusher {
    db: sled::Db,
    log: File,
    blobs: PathBuf,
    /// Blob files already synced; pruned to those that still exist.
    synced_blobs: Mutex<HashSet<OsString>>,
}

impl Flusher {
    /// `dir` is the directory sled was opened in: its log is `dir/db`, its blobs
    /// are in `dir/blobs/`.
    pub(super) fn new(db: sled::Db, dir: &Path) -> io::Result<Self> {
        Ok(Self {
            log: File::open(dir.join("db"))?,
            blobs: dir.join("blobs"),
            synced_blobs: Mutex::new(HashSet::new()),
            db,
        })
    }

    /// Everything written to the database before the call is on stable storage
    /// when this returns `Ok`.
    pub(super) fn flush(&self) -> Result<(), StoreError> {
        self.db.flush()?;
        self.sync_blobs()
            .and_then(|()| self.log.sync_data())
            .map_err(|e| StoreError::Sled(e.into()))
    }

    fn sync_blobs(&self) -> io::Result<()> {
        let entries = match std::fs::read_dir(&self.blobs) {
            Ok(entries) => entries,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(()),
            Err(e) => return Err(e),
        };
        let mut synced = self.synced_blobs.lock().unwrap_or_else(|e| e.into_inner());
        let mut present = HashSet::with_capacity(synced.len());
        let mut new_names = false;
        for entry in entries {
            let name = entry?.file_name();
            if !synced.contains(&name) {
                match File::open(self.blobs.join(&name)) {
                    Ok(file) => file.sync_data()?,
                    // sled removed it in the meantime: nothing left to sync.
                    Err(e) if e.kind() == io::ErrorKind::NotFound => continue,
                    Err(e) => return Err(e),
                }
                new_names = true;
            }
            present.insert(name);
        }
        *synced = present;
        if new_names {
            File::open(&self.blobs)?.sync_all()?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A value too large for sled's log goes to a blob file of its own: the flush
    /// finds it and syncs it.
    #[test]
    fn a_flush_syncs_the_blob_files_sled_writes_for_large_values() {
        let dir = tempfile::tempdir().unwrap();
        let db = sled::Config::new().path(dir.path()).open().unwrap();
        let flusher = Flusher::new(db.clone(), dir.path()).unwrap();
        flusher.flush().unwrap();
        assert!(flusher.synced_blobs.lock().unwrap().is_empty());

        db.insert(b"large", vec![7u8; 300_000]).unwrap();
        flusher.flush().unwrap();
        let on_disk: HashSet<OsString> = std::fs::read_dir(dir.path().join("blobs"))
            .unwrap()
            .map(|entry| entry.unwrap().file_name())
            .collect();
        assert!(!on_disk.is_empty(), "sled wrote the value as a blob");
        assert_eq!(*flusher.synced_blobs.lock().unwrap(), on_disk);
    }
}
