//! The backup file: a consistent cut of the database, versioned and
//! checksummed, holding the records exactly as stored, that is sealed. The master
//! key is not in it, so the file alone opens no secret.
//!
//! Layout (integers big-endian):
//! - header: `otsd backup\n`, the file format (u16, now 1), the database format
//!   it was cut from (a length byte and the marker, now `2`), the next free
//!   record id (u64);
//! - entries, in part and key order: the part (u8, see [`Part`]), the key
//!   (u32 length, bytes), the value (u32 length, bytes);
//! - the end: a 0 byte and the number of entries (u64);
//! - the SHA-256 of everything before it (32 bytes), and nothing after.
//!
//! The checksum finds damage and truncation; it is not a signature (anyone who
//! can write the file can also recompute it).

use std::io::{self, Read, Write};

use ring::digest::{Context, SHA256};

use super::StoreError;

/// The parts of the database a backup carries, numbered as in the file. Each
/// engine keeps them its own way; these are the backup's words for them.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub(super) enum Part {
    /// The master key check (`meta`): the one record of the database's own
    /// settings that belongs to the data.
    KeyCheck = 1,
    /// Secrets (each with its receipt): the id (u64) → the record.
    Secrets = 2,
    /// The expiry index: `due (u64) ‖ id` → nothing. An engine that indexes
    /// by itself (PostgreSQL) writes it for sled and skips it on restore.
    Expiry = 3,
    /// The owner index: `account name ‖ 0 ‖ id` → nothing; as `Expiry`.
    Owners = 4,
    /// Accounts: the name → the record.
    Accounts = 5,
    /// Requests for a secret: the id (u64) → the record.
    Requests = 6,
}

impl Part {
    pub(super) const ALL: [Self; 6] = [
        Self::KeyCheck,
        Self::Secrets,
        Self::Expiry,
        Self::Owners,
        Self::Accounts,
        Self::Requests,
    ];

    pub(super) fn from_tag(tag: u8) -> Option<Self> {
        Self::ALL.into_iter().find(|part| *part as u8 == tag)
    }
}

/// The key of the master key check's entry.
pub(super) const KEY_CHECK: &[u8] = b"otsd.key-check";

/// The records a backup holds, named by the sled database format that holds
/// them whole: formats 2 and 3 hold the same records (3 only splits long ones
/// on disk, and a backup holds each whole); 4 holds records of format 3 too
/// (API v2's fields, accounts' extids), which an older otsd cannot read.
/// PostgreSQL holds the same records.
const RECORDS_FORMAT: &[u8] = b"4";

/// Whether a backup cut from a database of `format` holds records this otsd
/// reads.
fn holds_our_records(format: &[u8]) -> bool {
    [RECORDS_FORMAT, b"3", b"2"].contains(&format)
}

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
        ours = String::from_utf8_lossy(RECORDS_FORMAT)
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
    pub(super) fn count(&mut self, part: Part, value: &[u8]) {
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

/// Writes a backup, hashing as it goes.
pub(super) struct Writer<'a> {
    out: &'a mut dyn Write,
    hash: Context,
}

impl<'a> Writer<'a> {
    pub(super) fn new(out: &'a mut dyn Write) -> Self {
        Self {
            out,
            hash: Context::new(&SHA256),
        }
    }

    fn write(&mut self, bytes: &[u8]) -> io::Result<()> {
        self.hash.update(bytes);
        self.out.write_all(bytes)
    }

    pub(super) fn header(&mut self, next_id: u64) -> io::Result<()> {
        let format = RECORDS_FORMAT;
        self.write(MAGIC)?;
        self.write(&BACKUP_FORMAT.to_be_bytes())?;
        self.write(&[format.len() as u8])?;
        self.write(format)?;
        self.write(&next_id.to_be_bytes())
    }

    pub(super) fn entry(&mut self, part: Part, key: &[u8], value: &[u8]) -> io::Result<()> {
        self.write(&[part as u8])?;
        for bytes in [key, value] {
            let len = u32::try_from(bytes.len()).map_err(io::Error::other)?;
            self.write(&len.to_be_bytes())?;
            self.write(bytes)?;
        }
        Ok(())
    }

    pub(super) fn finish(mut self, entries: u64) -> io::Result<()> {
        self.write(&[END])?;
        self.write(&entries.to_be_bytes())?;
        let digest = self.hash.clone().finish();
        self.out.write_all(digest.as_ref())?;
        self.out.flush()
    }
}

/// An entry as read: its part, key and value.
pub(super) type Entry = (Part, Vec<u8>, Vec<u8>);

/// Reads a backup, hashing as it goes; every length is bounded.
pub(super) struct Reader<'a> {
    input: &'a mut dyn Read,
    hash: Context,
    next_id: u64,
}

impl<'a> Reader<'a> {
    pub(super) fn new(input: &'a mut dyn Read) -> Result<Self, BackupError> {
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
        if !holds_our_records(&format) {
            return Err(BackupError::DatabaseFormat {
                found: String::from_utf8_lossy(&format).into_owned(),
            });
        }
        reader.next_id = u64::from_be_bytes(reader.array()?);
        Ok(reader)
    }

    /// The next free record id the backup was cut with.
    pub(super) fn next_id(&self) -> u64 {
        self.next_id
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
    pub(super) fn entry(&mut self) -> Result<Option<Entry>, BackupError> {
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
    pub(super) fn finish(mut self, entries: u64) -> Result<(), BackupError> {
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
