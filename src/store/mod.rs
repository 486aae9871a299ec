//! Everything sled: the only module that names a sled type.
//!
//! Trees:
//! - `secrets`:  record id → [`SecretRecord`]
//! - `receipts`: record id → [`ReceiptRecord`]
//! - `expiry`:   `expires_at (u64 BE) ‖ kind ‖ record id` → `()`, so the reaper finds
//!   everything due by scanning a prefix range in time order.
//! - `owners`:   `account name ‖ 0 ‖ listing (u64 BE) ‖ record id` → `()`: an
//!   account's receipts in creation order, for `recent`.
//! - `accounts`: account name → [`AccountRecord`]
//!
//! Every change to an existing secret or receipt is one sled transaction (a new
//! one is written without: see [`Store::insert`]), and every read checks expiry
//! itself, so an expired record is never served even before
//! the reaper reaches it. Writes are in memory until [`Store::commit`] returns.

mod commit;
mod records;

pub use records::{AccountRecord, ReceiptRecord, SecretRecord, StoredState};

use crate::crypto::RecordId;
use commit::GroupCommit;
use records::{decode, encode};
use sled::transaction::{
    ConflictableTransactionError, TransactionError, Transactional, TransactionalTree,
};
use std::path::{Path, PathBuf};
use std::sync::Arc;

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("the database at {path} is in use by another process (is otsd already running?)")]
    Locked { path: PathBuf },
    #[error("cannot open the database at {path}: {reason}")]
    Open { path: PathBuf, reason: String },
    #[error("database error: {0}")]
    Sled(#[from] sled::Error),
    #[error("a stored record could not be decoded")]
    Corrupt,
    #[error("the database could not be flushed to disk")]
    NotDurable,
}

const KIND_SECRET: u8 = b's';
const KIND_RECEIPT: u8 = b'r';

/// Handle to the database; clones share it.
#[derive(Clone)]
pub struct Store {
    db: sled::Db,
    secrets: sled::Tree,
    receipts: sled::Tree,
    expiry: sled::Tree,
    owners: sled::Tree,
    accounts: sled::Tree,
    commits: Arc<GroupCommit>,
    /// Counts the clones of this handle: sled releases the database lock only when
    /// the last one is dropped, and shutdown waits for that.
    handles: Arc<()>,
}

type TxResult<T> = Result<T, ConflictableTransactionError<StoreError>>;

impl Store {
    /// Opens (or creates) the database in `path` with a page cache of about
    /// `cache_bytes`. A locked, unreadable or emptied database is an error naming
    /// the path; sled panics on some corruptions, and that too becomes an error.
    ///
    /// sled treats a damaged log as a torn write and truncates it, so a data file
    /// that was overwritten or emptied would open as an empty database and every
    /// secret and account would be gone without a word. To tell "new" from "lost",
    /// a database is created in a staging directory with a format marker, flushed,
    /// and only then moved into place; a database at `path` without the marker is
    /// refused.
    pub fn open(path: &Path, cache_bytes: u64) -> Result<Self, StoreError> {
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
            Some(version) if *version == *FORMAT_VERSION => {}
            Some(_) => {
                return Err(error(
                    "it was written by an incompatible version of otsd".into(),
                ));
            }
            None => {
                return Err(error(
                    "it has lost its contents or is not an otsd database (its format marker \
                     is missing); restore it from a backup, or move it away to start empty"
                        .into(),
                ));
            }
        }
        let commits = GroupCommit::start(db.clone()).map_err(|e| error(e.to_string()))?;
        Ok(Self {
            secrets: db.open_tree("secrets")?,
            receipts: db.open_tree("receipts")?,
            expiry: db.open_tree("expiry")?,
            owners: db.open_tree("owners")?,
            accounts: db.open_tree("accounts")?,
            db,
            commits: Arc::new(commits),
            handles: Arc::new(()),
        })
    }

    /// Waits until every write made before this call is on disk (group commit).
    /// Call it before acknowledging a create, reveal or burn.
    pub async fn commit(&self) -> Result<(), StoreError> {
        if self.commits.wait().await {
            Ok(())
        } else {
            Err(StoreError::NotDurable)
        }
    }

    /// Waits (at most `limit`) until this is the last handle to the database, so
    /// that dropping it releases the lock: after a graceful stop the server's
    /// worker threads may still be dropping theirs. `false` if others remain.
    pub fn wait_until_sole_handle(&self, limit: std::time::Duration) -> bool {
        let deadline = std::time::Instant::now() + limit;
        while Arc::strong_count(&self.handles) > 1 {
            if std::time::Instant::now() >= deadline {
                return false;
            }
            std::thread::sleep(std::time::Duration::from_millis(2));
        }
        true
    }

    /// Flushes synchronously and stops the committer; for shutdown.
    pub fn close(&self) -> Result<(), StoreError> {
        self.commits.stop();
        self.db.flush()?;
        Ok(())
    }

    /// The next number for [`ReceiptRecord::listing`]: increasing, also across
    /// restarts (sled persists its id generator ahead of use).
    pub fn next_listing(&self) -> Result<u64, StoreError> {
        Ok(self.db.generate_id()?)
    }

    /// Stores a new secret and its receipt. Durable only after [`Store::commit`].
    ///
    /// Not a transaction, on purpose: the ids are fresh, so nothing can conflict,
    /// and a sled transaction would read every key before writing it (most of a
    /// create's cost). A crash can only interrupt a create that was not yet
    /// acknowledged; the expiry entries are written first, so whatever part of it
    /// reached the disk is found and removed by the reaper.
    pub fn insert(
        &self,
        secret_id: &RecordId,
        secret: &SecretRecord,
        receipt_id: &RecordId,
        receipt: &ReceiptRecord,
    ) -> Result<(), StoreError> {
        let secret_bytes = encode(secret)?;
        let receipt_bytes = encode(receipt)?;
        let mut due = sled::Batch::default();
        due.insert(
            &expiry_key(secret.expires_at, KIND_SECRET, secret_id)[..],
            &[][..],
        );
        due.insert(
            &expiry_key(receipt.expires_at, KIND_RECEIPT, receipt_id)[..],
            &[][..],
        );
        self.expiry.apply_batch(due)?;
        self.secrets.insert(&secret_id[..], secret_bytes)?;
        self.receipts.insert(&receipt_id[..], receipt_bytes)?;
        if let Some(key) = owner_key(receipt, receipt_id) {
            self.owners.insert(key, &[][..])?;
        }
        Ok(())
    }

    /// The secret, unless it does not exist or has expired at `now`.
    pub fn secret(&self, id: &RecordId, now: u64) -> Result<Option<SecretRecord>, StoreError> {
        let Some(bytes) = self.secrets.get(id)? else {
            return Ok(None);
        };
        let record: SecretRecord = decode(&bytes)?;
        Ok((now < record.expires_at).then_some(record))
    }

    /// The receipt, unless it does not exist or has expired at `now`.
    pub fn receipt(&self, id: &RecordId, now: u64) -> Result<Option<ReceiptRecord>, StoreError> {
        let Some(bytes) = self.receipts.get(id)? else {
            return Ok(None);
        };
        let record: ReceiptRecord = decode(&bytes)?;
        Ok((now < record.expires_at).then_some(record))
    }

    /// Removes the secret and marks its receipt received, atomically. Returns `true`
    /// to exactly one caller per secret: every other (concurrent or later) call, and
    /// any call after expiry, gets `false`. Durable only after [`Store::commit`].
    pub fn reveal_once(&self, id: &RecordId, now: u64) -> Result<bool, StoreError> {
        self.transact_live(|s, r| {
            let Some(secret) = live_secret(s, id, now)? else {
                return Ok(false);
            };
            s.remove(&id[..])?;
            update_receipt(r, &secret.receipt_id, |receipt| {
                if matches!(receipt.state, StoredState::New | StoredState::Viewed) {
                    receipt.state = StoredState::Received;
                    receipt.received = Some(now);
                    receipt.updated = now;
                }
            })?;
            Ok(true)
        })
    }

    /// Destroys an unread secret and marks its receipt burned, atomically. Returns the
    /// updated receipt, or `None` when there is nothing to burn (unknown receipt, or
    /// secret already received, burned or expired). Durable only after `commit`.
    pub fn burn(
        &self,
        receipt_id: &RecordId,
        now: u64,
    ) -> Result<Option<ReceiptRecord>, StoreError> {
        self.transact_live(|s, r| {
            let Some(bytes) = r.get(&receipt_id[..])? else {
                return Ok(None);
            };
            let mut receipt: ReceiptRecord = decode(&bytes).map_err(abort)?;
            if now >= receipt.expires_at
                || !matches!(receipt.state, StoredState::New | StoredState::Viewed)
            {
                return Ok(None);
            }
            if live_secret(s, &receipt.secret_id, now)?.is_none() {
                return Ok(None);
            }
            s.remove(&receipt.secret_id[..])?;
            receipt.state = StoredState::Burned;
            receipt.updated = now;
            r.insert(&receipt_id[..], encode(&receipt).map_err(abort)?)?;
            Ok(Some(receipt))
        })
    }

    /// Removes a secret and its receipt entirely, as if never made: the undo of
    /// `insert` when the create could not be completed (email not sent).
    pub fn discard(&self, secret_id: &RecordId, receipt_id: &RecordId) -> Result<(), StoreError> {
        self.transact(|s, r, e, o| {
            if let Some(bytes) = s.remove(&secret_id[..])? {
                let secret: SecretRecord = decode(&bytes).map_err(abort)?;
                e.remove(expiry_key(secret.expires_at, KIND_SECRET, secret_id).to_vec())?;
            }
            if let Some(bytes) = r.remove(&receipt_id[..])? {
                let receipt: ReceiptRecord = decode(&bytes).map_err(abort)?;
                e.remove(expiry_key(receipt.expires_at, KIND_RECEIPT, receipt_id).to_vec())?;
                if let Some(key) = owner_key(&receipt, receipt_id) {
                    o.remove(key)?;
                }
            }
            Ok(())
        })
    }

    /// Moves a receipt from `new` to `viewed` (the secret's page was opened). Not
    /// durable on its own: losing it in a crash only loses a hint.
    pub fn mark_viewed(&self, receipt_id: &RecordId, now: u64) -> Result<(), StoreError> {
        self.transact_live(|_, r| {
            update_receipt(r, receipt_id, |receipt| {
                if receipt.state == StoredState::New && now < receipt.expires_at {
                    receipt.state = StoredState::Viewed;
                    receipt.updated = now;
                }
            })
        })
    }

    /// Removes every secret and receipt that expired at or before `now`, at most
    /// `limit` of them; returns how many index entries were handled.
    pub fn purge_expired(&self, now: u64, limit: usize) -> Result<usize, StoreError> {
        let upper = (now.saturating_add(1)).to_be_bytes();
        let due: Vec<sled::IVec> = self
            .expiry
            .range(..&upper[..])
            .keys()
            .take(limit)
            .collect::<Result<_, _>>()?;
        for key in &due {
            let (kind, id) = (key[8], &key[9..]);
            self.transact(|s, r, e, o| {
                if kind == KIND_SECRET {
                    s.remove(id)?;
                } else if let Some(bytes) = r.remove(id)? {
                    let receipt: ReceiptRecord = decode(&bytes).map_err(abort)?;
                    let id: RecordId = id.try_into().map_err(|_| abort(StoreError::Corrupt))?;
                    if let Some(key) = owner_key(&receipt, &id) {
                        o.remove(key)?;
                    }
                }
                e.remove(key)?;
                Ok(())
            })?;
        }
        Ok(due.len())
    }

    /// How many secrets and receipts are stored (expired or not): for tests and stats.
    pub fn counts(&self) -> (usize, usize) {
        (self.secrets.len(), self.receipts.len())
    }

    /// The newest receipts of `custid` that have not expired at `now`, newest
    /// first, at most `limit`.
    pub fn recent(
        &self,
        custid: &str,
        limit: usize,
        now: u64,
    ) -> Result<Vec<(RecordId, ReceiptRecord)>, StoreError> {
        let Some(account) = self.account(custid)? else {
            return Ok(Vec::new());
        };
        let prefix = owner_prefix(custid);
        let mut out = Vec::new();
        for key in self.owners.scan_prefix(&prefix).keys().rev() {
            let key = key?;
            let (listing, id) = key[prefix.len()..]
                .split_at_checked(8)
                .ok_or(StoreError::Corrupt)?;
            let listing = u64::from_be_bytes(listing.try_into().map_err(|_| StoreError::Corrupt)?);
            if listing <= account.listed_from {
                break; // made before this account existed: an earlier holder's
            }
            let id: RecordId = id.try_into().map_err(|_| StoreError::Corrupt)?;
            if let Some(receipt) = self.receipt(&id, now)? {
                out.push((id, receipt));
                if out.len() == limit {
                    break;
                }
            }
        }
        Ok(out)
    }

    /// Creates an account; `false` (and no change) if the name is taken. Durable
    /// when it returns.
    pub fn create_account(&self, name: &str, record: &AccountRecord) -> Result<bool, StoreError> {
        let swapped = self.accounts.compare_and_swap(
            name.as_bytes(),
            None as Option<&[u8]>,
            Some(encode(record)?),
        )?;
        self.db.flush()?;
        Ok(swapped.is_ok())
    }

    /// Replaces an existing account's record; `false` if there is no such account.
    /// Durable when it returns.
    pub fn update_account(&self, name: &str, record: &AccountRecord) -> Result<bool, StoreError> {
        let bytes = encode(record)?;
        let mut found = false;
        self.accounts.fetch_and_update(name.as_bytes(), |old| {
            found = old.is_some();
            old.map(|_| bytes.clone())
        })?;
        self.db.flush()?;
        Ok(found)
    }

    /// Deletes an account; `false` if there was none. Durable when it returns.
    pub fn remove_account(&self, name: &str) -> Result<bool, StoreError> {
        // The name may later be given to someone else: its listing goes (the
        // receipts stay readable by their keys). `listed_from` hides whatever a
        // crash or a racing create leaves behind here.
        let mut unlist = sled::Batch::default();
        for key in self.owners.scan_prefix(owner_prefix(name)).keys() {
            unlist.remove(key?);
        }
        self.owners.apply_batch(unlist)?;
        let removed = self.accounts.remove(name.as_bytes())?.is_some();
        self.db.flush()?;
        Ok(removed)
    }

    /// One account's record.
    pub fn account(&self, name: &str) -> Result<Option<AccountRecord>, StoreError> {
        self.accounts
            .get(name.as_bytes())?
            .map(|b| decode(&b))
            .transpose()
    }

    /// Every account, by name.
    pub fn accounts(&self) -> Result<Vec<(String, AccountRecord)>, StoreError> {
        self.accounts
            .iter()
            .map(|entry| {
                let (name, bytes) = entry?;
                Ok((String::from_utf8_lossy(&name).into_owned(), decode(&bytes)?))
            })
            .collect()
    }

    /// A transaction over the secrets and receipts only: what reveal, burn and
    /// view change. The expiry entry of a removed secret stays behind for the
    /// reaper, which finds nothing left to remove; that keeps these transactions
    /// to two trees.
    fn transact_live<T>(
        &self,
        f: impl Fn(&TransactionalTree, &TransactionalTree) -> TxResult<T>,
    ) -> Result<T, StoreError> {
        (&self.secrets, &self.receipts)
            .transaction(|(s, r)| f(s, r))
            .map_err(from_transaction)
    }

    fn transact<T>(
        &self,
        f: impl Fn(
            &TransactionalTree,
            &TransactionalTree,
            &TransactionalTree,
            &TransactionalTree,
        ) -> TxResult<T>,
    ) -> Result<T, StoreError> {
        (&self.secrets, &self.receipts, &self.expiry, &self.owners)
            .transaction(|(s, r, e, o)| f(s, r, e, o))
            .map_err(from_transaction)
    }
}

/// The default tree's record that marks a complete otsd database, and its value.
const FORMAT_KEY: &[u8] = b"otsd.format";
const FORMAT_VERSION: &[u8] = b"1";

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
        db.flush().map_err(std::io::Error::other)?;
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

/// Opens the database `create` just closed. A child process forked by this one in
/// that instant (tests start servers and helpers side by side) holds the lock's
/// file until it execs, so "locked" is retried for a moment here.
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

/// sled's open, with a held lock and a panic on corruption turned into errors.
fn open_sled(path: &Path, cache_bytes: u64) -> Result<sled::Db, StoreError> {
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

fn expiry_key(expires_at: u64, kind: u8, id: &RecordId) -> [u8; 41] {
    let mut key = [0u8; 41];
    key[..8].copy_from_slice(&expires_at.to_be_bytes());
    key[8] = kind;
    key[9..].copy_from_slice(id);
    key
}

/// The owner-index key of an account's receipt; `None` for anonymous receipts
/// (nobody can list those).
fn owner_key(receipt: &ReceiptRecord, id: &RecordId) -> Option<Vec<u8>> {
    receipt.sealed_metadata_key.as_ref()?;
    let mut key = owner_prefix(&receipt.custid);
    key.extend_from_slice(&receipt.listing?.to_be_bytes());
    key.extend_from_slice(id);
    Some(key)
}

/// `name ‖ 0`: the start of every `owners` key of one account.
fn owner_prefix(custid: &str) -> Vec<u8> {
    let mut prefix = custid.as_bytes().to_vec();
    prefix.push(0);
    prefix
}

fn from_transaction(err: TransactionError<StoreError>) -> StoreError {
    match err {
        TransactionError::Abort(e) => e,
        TransactionError::Storage(e) => StoreError::Sled(e),
    }
}

fn abort(e: StoreError) -> ConflictableTransactionError<StoreError> {
    ConflictableTransactionError::Abort(e)
}

fn live_secret(s: &TransactionalTree, id: &RecordId, now: u64) -> TxResult<Option<SecretRecord>> {
    let Some(bytes) = s.get(&id[..])? else {
        return Ok(None);
    };
    let secret: SecretRecord = decode(&bytes).map_err(abort)?;
    Ok((now < secret.expires_at).then_some(secret))
}

fn update_receipt(
    r: &TransactionalTree,
    id: &RecordId,
    change: impl Fn(&mut ReceiptRecord),
) -> TxResult<()> {
    if let Some(bytes) = r.get(&id[..])? {
        let mut receipt: ReceiptRecord = decode(&bytes).map_err(abort)?;
        let before = receipt.clone();
        change(&mut receipt);
        if receipt != before {
            r.insert(&id[..], encode(&receipt).map_err(abort)?)?;
        }
    }
    Ok(())
}
