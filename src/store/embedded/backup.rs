//! The backup of a sled database: a cut taken with writes paused (see
//! `copy`), and a restore into a fresh database built aside and renamed into
//! place. The file format is the store's (`store::backup`), the same for
//! every engine.

use std::io::{self, Read, Write};
use std::path::Path;

use super::super::backup::{BackupError, BackupSummary, Reader, Writer};
use super::copy::Filler;
use super::{SledStore, StoreError, open};

impl SledStore {
    /// Writes a consistent backup of the database to `out`. Writes are paused
    /// while it is cut, so `out` should be fast (a file, not a socket).
    pub fn backup(&self, out: &mut dyn Write) -> Result<BackupSummary, BackupError> {
        let mut writer = Writer::new(out);
        let mut summary = BackupSummary::default();
        let entries = {
            let cut = self.cut()?;
            writer.header(cut.next_id)?;
            cut.read_all(&mut |part, key, value| {
                summary.count(part, value);
                writer.entry(part, key, value).map_err(io_error)?;
                Ok(std::ops::ControlFlow::Continue(()))
            })?
        };
        writer.finish(entries)?;
        Ok(summary)
    }
}

/// Fills a new database at `path` (absent or an empty directory) from a backup.
/// The database is built in [`open::restore_staging`] and appears at `path`
/// only once the whole file was read, its checksum matched and everything was
/// synced, by one rename; a failure leaves nothing behind. A process killed
/// before that rename leaves the staging directory, which no server opens
/// (and while which none starts), and which the next restore starts over.
pub(crate) fn restore(
    input: &mut dyn Read,
    path: &Path,
    cache_bytes: u64,
) -> Result<BackupSummary, BackupError> {
    let mut reader = Reader::new(input)?;
    let next_id = reader.next_id();
    let mut summary = BackupSummary::default();
    let mut failure = None;
    let staged = open::stage(path, open::RESTORING, cache_bytes, |db| {
        let filler = Filler::new(db, next_id)?;
        let read = (|| {
            while let Some((part, key, value)) = reader.entry()? {
                let _ = filler.put(part, &key, &value)?;
                summary.count(part, &value);
            }
            reader.finish(summary.entries)
        })();
        read.map_err(|e| {
            failure = Some(e);
            StoreError::Corrupt
        })
    });
    let staging = match (staged, failure) {
        (_, Some(failure)) => return Err(failure),
        (staged, None) => staged?,
    };
    if let Err(err) = open::publish(&staging, path) {
        let _ = std::fs::remove_dir_all(&staging);
        return Err(open::error(path, err).into());
    }
    Ok(summary)
}

fn io_error(e: io::Error) -> StoreError {
    StoreError::Sled(e.into())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::backup::verify;

    #[test]
    fn every_byte_of_a_backup_is_checked() {
        let dir = tempfile::tempdir().unwrap();
        let store = SledStore::open(&dir.path().join("db"), 1 << 20).unwrap();
        store.set_key_check(&[3; 32]).unwrap();
        let mut file = Vec::new();
        let summary = store.backup(&mut file).unwrap();
        assert_eq!(summary.entries, 1);
        assert_eq!(verify(&mut &file[..]).unwrap(), summary);
        for at in 0..file.len() {
            let mut altered = file.clone();
            altered[at] ^= 0x40;
            assert!(verify(&mut &altered[..]).is_err(), "byte {at} altered");
            assert!(verify(&mut &file[..at]).is_err(), "cut at {at}");
        }
        let mut longer = file.clone();
        longer.push(0);
        assert!(matches!(
            verify(&mut &longer[..]),
            Err(BackupError::Altered)
        ));
    }

    #[test]
    fn a_damaged_length_is_a_truncated_file_not_an_allocation() {
        let dir = tempfile::tempdir().unwrap();
        let store = SledStore::open(&dir.path().join("db"), 1 << 20).unwrap();
        store.set_key_check(&[3; 32]).unwrap();
        let mut file = Vec::new();
        store.backup(&mut file).unwrap();
        // The header is 12 + 2 + 2 + 8 bytes; then the entry's part and its
        // key's length, here claiming 200 MiB in a file of a hundred bytes.
        let at = 12 + 2 + 2 + 8 + 1;
        let mut damaged = file.clone();
        damaged[at..at + 4].copy_from_slice(&(200u32 << 20).to_be_bytes());
        assert!(matches!(
            verify(&mut &damaged[..]),
            Err(BackupError::Malformed(_))
        ));
        damaged[at..at + 4].copy_from_slice(&(60u32 << 10).to_be_bytes());
        assert!(matches!(
            verify(&mut &damaged[..]),
            Err(BackupError::Truncated)
        ));
    }
}
