//! The backup file: a consistent cut of the database (see `copy`), versioned and
//! checksummed, holding the records exactly as stored, that is sealed. The master
//! key is not in it, so the file alone opens no secret.
//!
//! Layout (integers big-endian):
//! - header: `otsd backup\n`, the file format (u16, now 1), the database format
//!   it was cut from (a length byte and the marker, now `2`), the next free
//!   record id (u64);
//! - entries, in part and key order: the part (u8, see `copy::Part`), the key
//!   (u32 length, bytes), the value (u32 length, bytes);
//! - the end: a 0 byte and the number of entries (u64);
//! - the SHA-256 of everything before it (32 bytes), and nothing after.
//!
//! The checksum finds damage and truncation; it is not a signature (anyone who
//! can write the file can also recompute it).

use std::io::{self, Read, Write};
use std::path::Path;

use ring::digest::{Context, SHA256};

use super::copy::{Filler, Part};
use super::{Store, StoreError, open};

const MAGIC: &[u8; 12] = b"otsd backup\n";
/// The backup file format this otsd writes and reads.
pub const BACKUP_FORMAT: u16 = 1;
const END: u8 = 0;
/// Longest key and value a backup may hold: far above what otsd stores (keys of
/// tens of bytes, records of at most a few MiB), and low enough that a damaged
/// length cannot make a restore allocate without bound.
const MAX_KEY: u32 = 64 * 1024;
const MAX_VALUE: u32 = 256 * 1024 * 1024;

#[derive(Debug, thiserror::Error)]
pub enum BackupError {
    #[error("it is not an otsd backup file")]
    NotABackup,
    #[error(
        "it is in backup format {found}, and this otsd reads backup format {BACKUP_FORMAT} only"
    )]
    Version { found: u16 },
    #[error(
        "it was cut from database format {found}, and this otsd restores backups of database formats 2 and {ours}",
        ours = String::from_utf8_lossy(open::format_version())
    )]
    DatabaseFormat { found: String },
    #[error("it ends early: the file is truncated (an interrupted copy?)")]
    Truncated,
    #[error("its checksum does not match its contents: the file was altered or damaged")]
    Altered,
    #[error("it is damaged: {0}")]
    Malformed(&'static str),
    #[error("{0}")]
    Io(#[from] io::Error),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// What a backup holds.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct BackupSummary {
    /// Records of secrets (each with its receipt), live or waiting for the reaper.
    pub secrets: u64,
    /// Of those, the ones whose sealed value is still there: neither revealed,
    /// burned nor dropped by the reaper.
    pub unread: u64,
    pub accounts: u64,
    /// Requests for a secret, answered or not.
    pub requests: u64,
    /// Every entry, indexes included.
    pub entries: u64,
}

impl BackupSummary {
    fn count(&mut self, part: Part, value: &[u8]) {
        self.entries += 1;
        match part {
            Part::Secrets => {
                self.secrets += 1;
                let record = super::records::decode::<super::SecretRecord>(value);
                self.unread += u64::from(record.is_ok_and(|r| r.sealed_value.is_some()));
            }
            Part::Accounts => self.accounts += 1,
            Part::Requests => self.requests += 1,
            _ => {}
        }
    }
}

impl Store {
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

/// Checks a backup from end to end (format, every entry, the checksum) without
/// writing anything.
pub fn verify(input: &mut dyn Read) -> Result<BackupSummary, BackupError> {
    let mut reader = Reader::new(input)?;
    let mut summary = BackupSummary::default();
    while let Some((part, _, value)) = reader.entry()? {
        summary.count(part, &value);
    }
    reader.finish(summary.entries)?;
    Ok(summary)
}

/// Fills a new database at `path` (absent or an empty directory) from a backup.
/// The database is built in [`open::restore_staging`] and appears at `path`
/// only once the whole file was read, its checksum matched and everything was
/// synced, by one rename; a failure leaves nothing behind. A process killed
/// before that rename leaves the staging directory, which no server opens
/// (and while which none starts), and which the next restore starts over.
pub fn restore(
    input: &mut dyn Read,
    path: &Path,
    cache_bytes: u64,
) -> Result<BackupSummary, BackupError> {
    let mut reader = Reader::new(input)?;
    let mut summary = BackupSummary::default();
    let mut failure = None;
    let staged = open::stage(path, open::RESTORING, cache_bytes, |db| {
        let filler = Filler::new(db, reader.next_id)?;
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

/// Writes a backup, hashing as it goes.
struct Writer<'a> {
    out: &'a mut dyn Write,
    hash: Context,
}

impl<'a> Writer<'a> {
    fn new(out: &'a mut dyn Write) -> Self {
        Self {
            out,
            hash: Context::new(&SHA256),
        }
    }

    fn write(&mut self, bytes: &[u8]) -> io::Result<()> {
        self.hash.update(bytes);
        self.out.write_all(bytes)
    }

    fn header(&mut self, next_id: u64) -> io::Result<()> {
        let format = open::format_version();
        self.write(MAGIC)?;
        self.write(&BACKUP_FORMAT.to_be_bytes())?;
        self.write(&[format.len() as u8])?;
        self.write(format)?;
        self.write(&next_id.to_be_bytes())
    }

    fn entry(&mut self, part: Part, key: &[u8], value: &[u8]) -> io::Result<()> {
        self.write(&[part as u8])?;
        for bytes in [key, value] {
            let len = u32::try_from(bytes.len()).map_err(io::Error::other)?;
            self.write(&len.to_be_bytes())?;
            self.write(bytes)?;
        }
        Ok(())
    }

    fn finish(mut self, entries: u64) -> io::Result<()> {
        self.write(&[END])?;
        self.write(&entries.to_be_bytes())?;
        let digest = self.hash.clone().finish();
        self.out.write_all(digest.as_ref())?;
        self.out.flush()
    }
}

/// An entry as read: its part, key and value.
type Entry = (Part, Vec<u8>, Vec<u8>);

/// Reads a backup, hashing as it goes; every length is bounded.
struct Reader<'a> {
    input: &'a mut dyn Read,
    hash: Context,
    next_id: u64,
}

impl<'a> Reader<'a> {
    fn new(input: &'a mut dyn Read) -> Result<Self, BackupError> {
        let mut reader = Self {
            input,
            hash: Context::new(&SHA256),
            next_id: 0,
        };
        let mut magic = [0u8; MAGIC.len()];
        match reader.read(&mut magic) {
            Err(BackupError::Truncated) => return Err(BackupError::NotABackup),
            other => other?,
        }
        if &magic != MAGIC {
            return Err(BackupError::NotABackup);
        }
        let found = u16::from_be_bytes(reader.array()?);
        if found != BACKUP_FORMAT {
            return Err(BackupError::Version { found });
        }
        let [len] = reader.array()?;
        let mut format = vec![0u8; usize::from(len)];
        reader.read(&mut format)?;
        if !open::holds_our_records(&format) {
            return Err(BackupError::DatabaseFormat {
                found: String::from_utf8_lossy(&format).into_owned(),
            });
        }
        reader.next_id = u64::from_be_bytes(reader.array()?);
        Ok(reader)
    }

    fn read(&mut self, buf: &mut [u8]) -> Result<(), BackupError> {
        self.input.read_exact(buf).map_err(|e| match e.kind() {
            io::ErrorKind::UnexpectedEof => BackupError::Truncated,
            _ => BackupError::Io(e),
        })?;
        self.hash.update(buf);
        Ok(())
    }

    fn array<const N: usize>(&mut self) -> Result<[u8; N], BackupError> {
        let mut bytes = [0u8; N];
        self.read(&mut bytes)?;
        Ok(bytes)
    }

    fn bytes(&mut self, max: u32) -> Result<Vec<u8>, BackupError> {
        let len = u32::from_be_bytes(self.array()?);
        if len > max {
            return Err(BackupError::Malformed(
                "an entry is longer than any otsd writes",
            ));
        }
        // Read through `take`, not into a buffer of the claimed length: a
        // damaged length cannot make a short file allocate 256 MiB.
        let mut bytes = Vec::new();
        (&mut self.input)
            .take(u64::from(len))
            .read_to_end(&mut bytes)?;
        if bytes.len() < len as usize {
            return Err(BackupError::Truncated);
        }
        self.hash.update(&bytes);
        Ok(bytes)
    }

    /// The next entry, or `None` at the end mark.
    fn entry(&mut self) -> Result<Option<Entry>, BackupError> {
        let [tag] = self.array()?;
        if tag == END {
            return Ok(None);
        }
        let part =
            Part::from_tag(tag).ok_or(BackupError::Malformed("an entry of no known part"))?;
        let key = self.bytes(MAX_KEY)?;
        let value = self.bytes(MAX_VALUE)?;
        Ok(Some((part, key, value)))
    }

    /// After the end mark: the entry count, the checksum, and nothing more.
    fn finish(mut self, entries: u64) -> Result<(), BackupError> {
        let counted = u64::from_be_bytes(self.array()?);
        let expected = self.hash.clone().finish();
        let mut digest = [0u8; 32];
        self.input
            .read_exact(&mut digest)
            .map_err(|e| match e.kind() {
                io::ErrorKind::UnexpectedEof => BackupError::Truncated,
                _ => BackupError::Io(e),
            })?;
        let mut rest = [0u8; 1];
        let trailing = loop {
            match self.input.read(&mut rest) {
                Ok(n) => break n > 0,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(e.into()),
            }
        };
        if digest != expected.as_ref() || counted != entries || trailing {
            return Err(BackupError::Altered);
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_byte_of_a_backup_is_checked() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(&dir.path().join("db"), 1 << 20).unwrap();
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
        let store = Store::open(&dir.path().join("db"), 1 << 20).unwrap();
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
